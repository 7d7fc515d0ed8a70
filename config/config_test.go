package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// env returns a getenv over a fixed map, so tests never read the process
// environment.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadGood(t *testing.T) {
	cfg, err := LoadEnv("testdata/good.yaml", env(map[string]string{
		"PORT": "9000", "REDIS_DB": "3", "SVC_SECRET": "s3cr3t",
	}))
	if err != nil {
		t.Fatalf("LoadEnv: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"server.listen", cfg.Server.Listen, ":9000"},
		{"server.bodyLimit", cfg.Server.BodyLimit, 2 * MiB},
		{"server.shutdownTimeout", cfg.Server.ShutdownTimeout.Std(), 30 * time.Second},
		{"server.timeZone", cfg.Server.TimeZone, "UTC"},
		{"native.pathPrefixes", cfg.Native.PathPrefixes, []string{"/jlauth", "/gw/eims"}},
		{"native.swagger", cfg.Native.Swagger, false},
		{"storage.url (from storage.mongo.uri)", cfg.Storage.URL, "mongodb://db1:27017,db2:27017/?replicaSet=rs0"},
		{"storage driver", cfg.StorageDriver(), DriverMongo},
		{"storage.mongo.database", cfg.Storage.Mongo.Database, "EIMS_TEST"},
		{"cache driver", cfg.CacheDriver(), DriverRedis},
		{"cache.redis.db (expanded plain scalar is an int)", cfg.Cache.Redis.DB, 3},
		{"auth.accessTokenTTL (bare seconds)", cfg.Auth.AccessTokenTTL.Std(), 8 * time.Hour},
		{"auth.refreshTokenTTL (days)", cfg.Auth.RefreshTokenTTL.Std(), 36 * time.Hour},
		{"auth.refreshTokenMaxTTL", cfg.Auth.RefreshTokenMaxTTL.Std(), 30 * 24 * time.Hour},
		{"auth.maxFailedLogins", cfg.Auth.MaxFailedLogins, 3},
		{"signing key path", cfg.SigningKeyPath(), "/etc/eimshub/signing.key"},
		{"limits.defaultRate", cfg.Limits.DefaultRate, "1000-m"},
		{"files.root (derived from dataDir)", cfg.Files.Root, filepath.Join("/var/lib/eimshub", "files")},
		{"files.maxUpload", cfg.Files.MaxUpload, ByteSize(1.5 * float64(GiB))},
		{"sqlite path", cfg.SQLitePath(), filepath.Join("/var/lib/eimshub", "eimshub.db")},
		{"log", cfg.Log, Log{Level: "debug", Format: "json"}},
		{"enabled connectors", cfg.ConnectorIDs(), []string{"h3yun"}},
		{"connector isolation default", cfg.Connectors["h3yun"].Isolation, IsolationProcess},
		{"tenant name default", cfg.Tenants[0].Name, "t1"},
		{"client scopes as list", []string(cfg.Tenants[0].Clients[0].Scopes), []string{"openid", "profile", "api.readwrite"}},
		{"client scopes as string", []string(cfg.Tenants[0].Clients[1].Scopes), []string{"api.read"}},
		{"client secret expanded", cfg.Tenants[0].Clients[1].Secret, "s3cr3t"},
		{"client name default", cfg.Tenants[0].Clients[1].Name, "svc"},
		{"client accessTokenTTL", cfg.Tenants[0].Clients[0].AccessTokenTTL.Std(), time.Hour},
		{"quoted password stays a string", cfg.Tenants[0].Users[0].Password, "123456"},
		{"options", cfg.Tenants[0].Forms[0].Fields[2].Options, []Option{{"华东", "华东"}, {"south", "华南"}}},
		{"field title default", cfg.Tenants[0].Forms[0].Fields[3].Columns[0].Title, "qty"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}

	var h3 struct {
		EngineCode string `yaml:"engineCode"`
		Secret     string `yaml:"secret"`
	}
	h3node := cfg.Connectors["h3yun"].Config
	if err := h3node.Decode(&h3); err != nil {
		t.Fatalf("decode connector config: %v", err)
	}
	if h3.EngineCode != "abc" || h3.Secret != "${not-a-var}" {
		t.Errorf("connector config = %+v, want engineCode abc (default) and a literal ${not-a-var}", h3)
	}
	if got := cfg.DemoSecretsInUse(); !slices.Equal(got, []string{"t1/user admin"}) {
		t.Errorf("DemoSecretsInUse = %q, want the spec fixture's password", got)
	}
}

// TestLoadBad compares each bad_*.yaml's error with bad_*.golden
// (go test ./config -run TestLoadBad -update rewrites them).
func TestLoadBad(t *testing.T) {
	files, err := filepath.Glob("testdata/bad_*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad_*.yaml files: %v", err)
	}
	getenv := env(map[string]string{"PUBLIC": "perhaps"})
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			cfg, err := LoadEnv(file, getenv)
			if err == nil {
				t.Fatalf("LoadEnv succeeded (%+v), want an error", cfg.Server)
			}
			var list Errors
			if !errors.As(err, &list) {
				t.Fatalf("error %T is not config.Errors: %v", err, err)
			}
			for _, p := range list {
				if p.File != file || p.Line == 0 {
					t.Errorf("problem %q has no file:line", p)
				}
			}
			got := err.Error() + "\n"
			// The text must be deterministic, or a golden file means nothing.
			if _, again := LoadEnv(file, getenv); again == nil || again.Error()+"\n" != got {
				t.Fatalf("a second load gives another error text:\n%s\nvs\n%v", got, again)
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				// Write the golden and stop: comparing it with itself
				// would check nothing.
				old, _ := os.ReadFile(golden)
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				if string(old) != got {
					t.Logf("updated %s", golden)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("error text differs from %s\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

func TestUnknownKeyNamesLineAndKey(t *testing.T) {
	_, err := Parse("x.yaml", []byte("log:\n  level: info\n  colour: red\n"), nil)
	var p *Problem
	if !errors.As(err, &p) {
		t.Fatalf("err = %v, want a *Problem", err)
	}
	if p.Line != 3 || p.Key != "log.colour" || !errors.Is(err, ErrUnknownKey) {
		t.Errorf("problem = %+v, want line 3, key log.colour, ErrUnknownKey", p)
	}
	if want := `x.yaml:3: log.colour: unknown key`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %q, want prefix %q", err, want)
	}
}

func TestExpandString(t *testing.T) {
	getenv := env(map[string]string{"A": "alpha", "EMPTY": "", "N": "42"})
	tests := []struct {
		in, want string
		wantErr  error
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "x-${A}-${N}", want: "x-alpha-42"},
		{in: "${MISSING:-def}", want: "def"},
		{in: "${EMPTY:-def}", want: "def"},
		{in: "${A:-def}", want: "alpha"},
		{in: "${MISSING:-}", want: ""},
		{in: "${MISSING:-a:b-c}", want: "a:b-c"},
		{in: "$${A}", want: "${A}"},
		{in: "pa$$word$", want: "pa$$word$"},
		{in: "$A", want: "$A"},
		{in: "${MISSING}", wantErr: ErrUnsetVariable},
		{in: "${EMPTY}", wantErr: ErrUnsetVariable},
		{in: "${A", wantErr: errAny},
		{in: "${}", wantErr: errAny},
		{in: "${1X}", wantErr: errAny},
	}
	for _, tt := range tests {
		got, err := expandString(tt.in, getenv)
		switch {
		case tt.wantErr == nil && err != nil:
			t.Errorf("expand(%q) error %v", tt.in, err)
		case tt.wantErr != nil && err == nil:
			t.Errorf("expand(%q) = %q, want an error", tt.in, got)
		case tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
			t.Errorf("expand(%q) error %v, want %v", tt.in, err, tt.wantErr)
		case tt.wantErr == nil && got != tt.want:
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

var errAny = errors.New("any error")

func TestMissingVariableNamesLine(t *testing.T) {
	data := []byte("server:\n  listen: 127.0.0.1:8080\nauth:\n  issuer: https://${ISSUER_HOST}\n")
	_, err := Parse("hub.yaml", data, env(nil))
	if !errors.Is(err, ErrUnsetVariable) {
		t.Fatalf("err = %v, want ErrUnsetVariable", err)
	}
	want := "hub.yaml:4: auth.issuer: environment variable not set: ${ISSUER_HOST} (set it, or write ${ISSUER_HOST:-default})"
	if err.Error() != want {
		t.Errorf("err =\n%s\nwant\n%s", err, want)
	}
	cfg, err := Parse("hub.yaml", data, env(map[string]string{"ISSUER_HOST": "id.example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.Issuer != "https://id.example.com" {
		t.Errorf("issuer = %q", cfg.Auth.Issuer)
	}
}

func TestEnvOverrides(t *testing.T) {
	data := []byte("server:\n  listen: 127.0.0.1:8080\nstorage:\n  mongo:\n    uri: mongodb://file-host\ncache:\n  redis:\n    url: redis://file-host:6379\n")
	cfg, err := Parse("hub.yaml", data, env(map[string]string{
		EnvListen:   "0.0.0.0:80",
		EnvDataDir:  "/srv/hub",
		EnvMongoURI: "mongodb+srv://cluster.example.com/",
		EnvRedisURL: "rediss://redis.example.com:6380/1",
	}))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if cfg.Server.Listen != "0.0.0.0:80" || cfg.DataDir != "/srv/hub" ||
		cfg.Storage.URL != "mongodb+srv://cluster.example.com/" || cfg.Cache.URL != "rediss://redis.example.com:6380/1" {
		t.Errorf("overrides not applied: listen %q dataDir %q storage %q cache %q",
			cfg.Server.Listen, cfg.DataDir, cfg.Storage.URL, cfg.Cache.URL)
	}
	if cfg.Files.Root != filepath.Join("/srv/hub", "files") {
		t.Errorf("files.root = %q, want it derived from the overridden dataDir", cfg.Files.Root)
	}

	// An invalid override is reported against the variable, not the file.
	_, err = Parse("hub.yaml", data, env(map[string]string{EnvListen: "nonsense", EnvRedisURL: "memcached://x"}))
	want := "$EIMSHUB_LISTEN: server.listen: invalid address \"nonsense\" (want host:port, e.g. 127.0.0.1:8080 or :8080)\n" +
		"$EIMSHUB_REDIS_URL: cache.url: unsupported cache URL \"memcached://x\" (want empty for the in-process cache, or redis:// or rediss://)"
	if err == nil || err.Error() != want {
		t.Errorf("err =\n%v\nwant\n%s", err, want)
	}
	if !errors.Is(err, ErrUnsupportedCache) {
		t.Errorf("errors.Is(err, ErrUnsupportedCache) = false")
	}

	// ApplyEnv alone, on a hand-built config.
	c := Default()
	c.ApplyEnv(env(map[string]string{EnvMongoURI: "mongodb://m"}))
	if c.StorageDriver() != DriverMongo || c.CacheDriver() != DriverMemory {
		t.Errorf("drivers = %s, %s", c.StorageDriver(), c.CacheDriver())
	}
}

func TestExampleFile(t *testing.T) {
	cfg, err := LoadEnv("eimshub.example.yaml", env(nil))
	if err != nil {
		t.Fatalf("example does not load: %v", err)
	}
	if cfg.StorageDriver() != DriverSQLite || cfg.CacheDriver() != DriverMemory {
		t.Errorf("example should run embedded, got %s + %s", cfg.StorageDriver(), cfg.CacheDriver())
	}
	if len(cfg.Tenants) != 2 || cfg.Tenants[0].ID != "demo" || cfg.Tenants[1].ID != "demo2" {
		t.Fatalf("tenants = %+v", cfg.Tenants)
	}
	demo := cfg.Tenants[0]
	allGrants := []string{"password", "code", "refresh_token", "client_credentials"}
	scopes := []string{"openid", "profile", "api.readwrite"}
	wantClients := []Client{
		{ID: "demo-client", Secret: "demo-secret", Name: "Demo client", Grants: allGrants, Scopes: scopes, ServiceUser: "admin"},
		{ID: "demo-limited", Secret: "demo-limited-secret", Name: "Demo client (5 requests/s)", Grants: allGrants, Scopes: scopes, ServiceUser: "admin", RateLimit: "5-S"},
		{ID: "demo-engine", Secret: "demo-engine-secret", Name: "H3Yun engine", Grants: []string{"client_credentials"}, Scopes: []string{"api.readwrite"}, ServiceUser: "admin", RateLimit: "20-S"},
		{ID: "demo-eoffice", Secret: "Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok", Name: "e-office app", Grants: []string{"client_credentials"}, Scopes: []string{"api.readwrite"}, ServiceUser: "admin", RateLimit: "20-S"},
		{ID: "dbcli0000000000000000000000000001", Secret: "s3cret-dabei", Name: "Dabei open API", Grants: []string{"client_credentials"}, Scopes: []string{"api.readwrite"}, ServiceUser: "admin"},
		// The EIMSNext web client's built-in id: public, password grant, 8 h (spec §12.2).
		{ID: "EIMSD160507G0401S171201B1014Next", Public: true, Name: "EIMSNext.Web", Grants: []string{"password"}, Scopes: scopes, AccessTokenTTL: Duration(8 * time.Hour)},
	}
	if !reflect.DeepEqual(demo.Clients, wantClients) {
		t.Errorf("demo clients =\n%+v\nwant\n%+v", demo.Clients, wantClients)
	}
	wantUsers := []User{
		{UserName: "admin", Password: "admin-pass", Code: "E001", Name: "Admin", Phone: "13800000000", Department: "hq", Roles: []string{"admin"},
			Aliases: map[string]string{"eoffice": "admin", "dabei": "e0000000000000000000000000000001"}},
		{UserName: "alice", Password: "alice-pass", Code: "E002", Name: "Alice", Phone: "13800000001", Department: "sales", Roles: []string{"manager"}, Manager: true,
			Aliases: map[string]string{"dabei": "e0000000000000000000000000000002"}},
		{UserName: "bob", Password: "bob-pass", Code: "E003", Name: "Bob", Phone: "13800000002", Department: "sales"},
	}
	if !reflect.DeepEqual(demo.Users, wantUsers) {
		t.Errorf("demo users =\n%+v\nwant\n%+v", demo.Users, wantUsers)
	}
	if d := demo.Departments; len(d) != 2 || !reflect.DeepEqual(d[1], Department{Code: "sales", Name: "Sales", Parent: "hq", Manager: "alice",
		Aliases: map[string]string{"dabei": "d0000000000000000000000000000001"}}) {
		t.Errorf("demo departments = %+v", d)
	}
	var keys []string
	for _, f := range demo.Forms {
		keys = append(keys, f.Key)
	}
	if !slices.Equal(keys, []string{"contract", "document", "leave_request"}) || !demo.Forms[2].UsingWorkflow || demo.Forms[0].UsingWorkflow {
		t.Errorf("demo forms = %+v", demo.Forms)
	}
	var fields []string
	for _, f := range demo.Forms[0].Fields {
		fields = append(fields, f.Field+":"+f.Type)
	}
	if !slices.Equal(fields, []string{"title:input", "party:input", "amount:number", "signed_at:timestamp", "files:fileupload"}) || !demo.Forms[0].Fields[0].Required {
		t.Errorf("contract fields = %v", fields)
	}
	demo2 := cfg.Tenants[1]
	if demo2.Clients[0].ID != "demo2-client" || demo2.Clients[0].Secret != "demo2-secret" ||
		demo2.Users[0].UserName != "carol" || !slices.Equal(demo2.Users[0].Roles, []string{"admin"}) ||
		demo2.Apps[0].Key != "demo" || demo2.Forms[0].Key != "contract" {
		t.Errorf("demo2 = %+v", demo2)
	}

	if got := cfg.DemoSecretsInUse(); len(got) != 11 || got[0] != "demo/client demo-client" ||
		!slices.Contains(got, "demo/client demo-engine") || !slices.Contains(got, "demo/client demo-eoffice") ||
		!slices.Contains(got, "demo/client dbcli0000000000000000000000000001") {
		t.Errorf("DemoSecretsInUse = %q, want the 7 clients (demo-engine, the e-office apps and the Dabei client included) and 4 users of both tenants", got)
	}
	// Every secret and password the example file ships is public: each
	// seeded client and user is reported (a new demo secret must be added
	// to demoSecrets, or the warning misses it).
	var seeded []string
	for _, tn := range cfg.Tenants {
		for _, c := range tn.Clients {
			if c.Public { // no secret (the EIMSNext web client's client)
				continue
			}
			seeded = append(seeded, tn.ID+"/client "+c.ID)
		}
		for _, u := range tn.Users {
			seeded = append(seeded, tn.ID+"/user "+u.UserName)
		}
	}
	for _, s := range seeded {
		if !slices.Contains(cfg.DemoSecretsInUse(), s) {
			t.Errorf("the example's %s has a public secret the warning does not name", s)
		}
	}
	cfg, err = LoadEnv("eimshub.example.yaml", env(map[string]string{"EIMSHUB_DEMO_SECRET": "a-real-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.DemoSecretsInUse(); slices.Contains(got, "demo/client demo-client") {
		t.Errorf("demo-client secret came from the environment, still reported: %q", got)
	}
}

func TestEmptyFileIsDefault(t *testing.T) {
	for _, data := range []string{"", "# only a comment\n", "---\n"} {
		cfg, err := Parse("empty.yaml", []byte(data), env(nil))
		if err != nil {
			t.Fatalf("Parse(%q): %v", data, err)
		}
		want := Default()
		want.Files.Root = filepath.Join(want.DataDir, "files")
		cfg.src = nil
		if !reflect.DeepEqual(*cfg, want) {
			t.Errorf("Parse(%q) =\n%+v\nwant\n%+v", data, *cfg, want)
		}
	}
}

func TestDefaultValidates(t *testing.T) {
	c := Default()
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	// Hand-built configs have no file: problems carry only the key.
	c.Server.Listen = "x"
	if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "server.listen: invalid address") {
		t.Errorf("err = %v", err)
	}
}

func TestStorageURLs(t *testing.T) {
	tests := []struct {
		url     string
		driver  string
		wantErr error
	}{
		{"", DriverSQLite, nil},
		{"mongodb://localhost:27017", DriverMongo, nil},
		{"mongodb+srv://cluster0.example.net/?retryWrites=true", DriverMongo, nil},
		{"mongodb://", DriverMongo, errAny}, // the driver is known, the URI invalid
		{"postgres://db", "", ErrUnsupportedStorage},
		{"sqlite:///tmp/x.db", "", ErrUnsupportedStorage},
	}
	for _, tt := range tests {
		c := Default()
		c.Storage.URL = tt.url
		c.applyDefaults()
		err := c.Validate()
		if (err != nil) != (tt.wantErr != nil) || (tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr)) {
			t.Errorf("storage.url %q: err = %v, want %v", tt.url, err, tt.wantErr)
		}
		if got := c.StorageDriver(); got != tt.driver {
			t.Errorf("storage.url %q: driver %q, want %q", tt.url, got, tt.driver)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"10s", 10 * time.Second, true},
		{"1h30m", 90 * time.Minute, true},
		{"15d", 15 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"28800", 8 * time.Hour, true},
		{"-5s", -5 * time.Second, true},
		{"", 0, false},
		{"soon", 0, false},
		{"d", 0, false},
		{"1.5d", 0, false},
		{"1d-1h", 0, false},
		{"10", 10 * time.Second, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got.Std() != tt.want) {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v ok=%v", tt.in, got.Std(), err, tt.want, tt.ok)
		}
	}
	for d, s := range map[Duration]string{
		Duration(15 * 24 * time.Hour): "15d", Duration(8 * time.Hour): "8h0m0s", Duration(10 * time.Second): "10s",
	} {
		if d.String() != s {
			t.Errorf("String(%d) = %q, want %q", d, d.String(), s)
		}
		if back, err := ParseDuration(s); err != nil || back != d {
			t.Errorf("round trip %q = %v, %v", s, back, err)
		}
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
		ok   bool
	}{
		{"1048576", MiB, true},
		{"10MiB", 10 * MiB, true},
		{"10mib", 10 * MiB, true},
		{"10 MiB", 10 * MiB, true},
		{"10M", 10 * MiB, true},
		{"10MB", 10_000_000, true},
		{"512KiB", 512 * KiB, true},
		{"1.5GiB", GiB + GiB/2, true},
		{"2TiB", 2 * TiB, true},
		{"0B", 0, true},
		{"", 0, false},
		{"MiB", 0, false},
		{"10XB", 0, false},
		{"-1", 0, false},
		{"1.2.3MiB", 0, false},
		{"99999999TiB", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	for _, b := range []ByteSize{10 * MiB, 100 * MiB, GiB, 1500, 3 * KiB} {
		back, err := ParseByteSize(b.String())
		if err != nil || back != b {
			t.Errorf("round trip %d via %q = %d, %v", b, b.String(), back, err)
		}
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want Rate
		ok   bool
	}{
		{"100-S", Rate{100, time.Second}, true},
		{"5-s", Rate{5, time.Second}, true},
		{"1000-H", Rate{1000, time.Hour}, true},
		{"60-M", Rate{60, time.Minute}, true},
		{"1-D", Rate{1, 24 * time.Hour}, true},
		{"0-S", Rate{}, false},
		{"-1-S", Rate{}, false},
		{"+5-S", Rate{}, false},
		{"100/s", Rate{}, false},
		{"100-W", Rate{}, false},
		{"100-SS", Rate{}, false},
		{"", Rate{}, false},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseRate(%q) = %+v, %v; want %+v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestSpaceListAndOption(t *testing.T) {
	var v struct {
		A SpaceList `yaml:"a"`
		B SpaceList `yaml:"b"`
		O []Option  `yaml:"o"`
	}
	src := "a: ' openid  profile '\nb: [x, y]\no: [plain, {value: v, label: L}]\n"
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v.A, []string{"openid", "profile"}) || !slices.Equal(v.B, []string{"x", "y"}) {
		t.Errorf("lists = %q, %q", v.A, v.B)
	}
	if !slices.Equal(v.O, []Option{{Value: "plain"}, {Value: "v", Label: "L"}}) {
		t.Errorf("options = %+v", v.O)
	}
	if v.A.String() != "openid profile" {
		t.Errorf("String = %q", v.A.String())
	}
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	data := []byte(`
x-grants: &grants [password, refresh_token]
tenants:
  - id: t1
    clients:
      - &base
        id: a
        secret: s
        grants: *grants
        scopes: api.read
      - <<: *base
        id: b
`)
	cfg, err := Parse("a.yaml", data, env(nil))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	cl := cfg.Tenants[0].Clients
	if len(cl) != 2 || cl[1].ID != "b" || cl[1].Secret != "s" || !slices.Equal(cl[1].Grants, []string{"password", "refresh_token"}) {
		t.Errorf("clients = %+v", cl)
	}
	// Only top-level keys may use the x- prefix.
	_, err = Parse("a.yaml", []byte("server:\n  x-note: hi\n"), env(nil))
	if !errors.Is(err, ErrUnknownKey) {
		t.Errorf("nested x- key: err = %v, want ErrUnknownKey", err)
	}
}

func TestConnectorEntries(t *testing.T) {
	data := []byte("connectors:\n  a:\n  b: {}\n  c:\n    enabled: false\n  d:\n    isolation: inproc\n    config:\n      url: ${U:-http://x}\n")
	cfg, err := Parse("c.yaml", data, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.ConnectorIDs(); !slices.Equal(got, []string{"a", "b", "d"}) {
		t.Errorf("enabled = %q, want a, b, d", got)
	}
	if d := cfg.Connectors["d"]; d.Isolation != IsolationInproc || d.Config.Kind != yaml.MappingNode {
		t.Errorf("d = %+v", d)
	}
}

// TestDocExamples loads every YAML example of docs/CONFIG.md's Examples
// section, so the documentation cannot drift from the schema.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/CONFIG.md")
	if err != nil {
		t.Fatal(err)
	}
	_, examples, ok := strings.Cut(string(doc), "\n## Examples\n")
	if !ok {
		t.Fatal("docs/CONFIG.md has no Examples section")
	}
	examples, _, _ = strings.Cut(examples, "\n## ")
	getenv := env(map[string]string{
		"ACME_ADMIN_PASSWORD": "pw", "MONGO_URI": "mongodb://m1,m2,m3/?replicaSet=rs0",
		"REDIS_URL": "redis://:pw@redis:6379", "H3YUN_ENGINE_CODE": "c", "H3YUN_ENGINE_SECRET": "s",
		"CUSTOM_PLUGIN_SHA256": strings.Repeat("ab", 32),
	})
	n := 0
	for _, block := range strings.Split(examples, "```yaml\n")[1:] {
		body, _, _ := strings.Cut(block, "```")
		n++
		if _, err := Parse(fmt.Sprintf("CONFIG.md example %d", n), []byte(body), getenv); err != nil {
			t.Errorf("example %d does not load:\n%v", n, err)
		}
	}
	if n < 2 {
		t.Errorf("found %d examples, want the embedded and the production one", n)
	}
}

// TestSplitDataRefused: the embedded SQLite store with a Redis cache is
// refused unless storage.allowSplitData says so (several machines would
// share tokens but not data); MongoDB with Redis is the multi-instance
// setup and passes.
func TestSplitDataRefused(t *testing.T) {
	const want = "a Redis cache with the embedded SQLite store"
	tests := []struct {
		name, yml string
		env       map[string]string
		at        string // "" = loads
	}{
		{"sqlite + redis", "dataDir: ./d\ncache:\n  url: redis://r:6379\n", nil, "hub.yaml:3: cache.url: "},
		{"sqlite + redis from the environment", "dataDir: ./d\n", map[string]string{EnvRedisURL: "redis://r:6379"}, "$EIMSHUB_REDIS_URL: cache.url: "},
		{"sqlite + redis, allowed", "storage:\n  allowSplitData: true\ncache:\n  url: redis://r:6379\n", nil, ""},
		{"mongodb + redis", "storage:\n  url: mongodb://m/?replicaSet=rs0\ncache:\n  url: redis://r:6379\n", nil, ""},
		{"sqlite + in-process cache", "dataDir: ./d\n", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("hub.yaml", []byte(tc.yml), env(tc.env))
			if tc.at == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.at+want) || !strings.Contains(err.Error(), "storage.allowSplitData: true") {
				t.Fatalf("err = %v, want %q…", err, tc.at+want)
			}
		})
	}
}

func TestConnectTimeouts(t *testing.T) {
	cfg, err := Parse("hub.yaml", []byte("dataDir: ./d\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Storage.Mongo.ConnectTimeout.Std() != 5*time.Second || cfg.Cache.Redis.ConnectTimeout.Std() != 5*time.Second {
		t.Errorf("connect timeouts = %v, %v; want 5s", cfg.Storage.Mongo.ConnectTimeout, cfg.Cache.Redis.ConnectTimeout)
	}
	_, err = Parse("hub.yaml", []byte("storage:\n  mongo:\n    connectTimeout: 0s\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), "hub.yaml:3: storage.mongo.connectTimeout: must be positive") {
		t.Errorf("err = %v", err)
	}
}

// native.cors and native.files (spec eims-native.md §12.3, §12.12): the
// defaults reflect any origin and serve capability URLs; an explicit empty
// list turns CORS off instead of falling back to the default.
func TestNativeWebClientKeys(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		origins    []string
		creds      bool
		caps       bool
	}{
		{"defaults", "", []string{"*"}, false, true},
		{"empty list: off", "native:\n  cors:\n    allowedOrigins: []\n", []string{}, false, true},
		{"listed, credentials", "native:\n  cors:\n    allowedOrigins: [\"https://admin.example.com\", \"http://localhost:5173/\"]\n    allowCredentials: true\n",
			[]string{"https://admin.example.com", "http://localhost:5173/"}, true, true},
		{"capability URLs off", "native:\n  files:\n    capabilityURLs: false\n", []string{"*"}, false, false},
	} {
		cfg, err := Parse("x.yaml", []byte(tc.yaml), env(nil))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		c := cfg.Native
		if !reflect.DeepEqual(c.CORS.AllowedOrigins, tc.origins) || c.CORS.AllowCredentials != tc.creds || c.Files.CapabilityURLs != tc.caps {
			t.Errorf("%s: native = %+v", tc.name, c)
		}
	}
}
