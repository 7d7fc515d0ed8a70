// Package config is the schema of the hub's one YAML file: defaults, ${ENV}
// expansion, strict decoding, environment overrides and validation with
// file:line errors (DESIGN.md; STYLE.md practices 3 and 11; spec
// docs/spec/eims-native.md, 8: the appsettings.json row).
//
// Every field's comment ends with its default. Default returns those values;
// Load starts from them, decodes the file over them, applies the EIMSHUB_*
// environment overrides, fills the derived defaults and validates:
//
//	cfg, err := config.Load("config/eimshub.yaml")
//	if err != nil {
//		// err is an Errors value: one "file:line: key: message" per line.
//	}
//
// The package imports only the standard library and gopkg.in/yaml.v3; the
// wiring in cmd/eimshub turns these values into the option structs each core
// package and adapter declares. Connector configuration stays raw (yaml.Node)
// and is decoded by the connector itself.
package config

import (
	"path/filepath"
	"sort"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole hub.
type Config struct {
	// Server is the HTTP listener.
	Server Server `yaml:"server"`
	// Native configures the native EIMS API (spec eims-native.md).
	Native Native `yaml:"native"`
	// DataDir holds the embedded database, the generated signing key and,
	// by default, uploaded files. Default: "./data".
	DataDir string `yaml:"dataDir"`
	// Storage picks the document store. Default: embedded SQLite.
	Storage Storage `yaml:"storage"`
	// Cache picks the token cache and rate-limit store. Default: in-process.
	Cache Cache `yaml:"cache"`
	// Auth configures the token endpoint (/connect/token) and the tokens it issues.
	Auth Auth `yaml:"auth"`
	// Limits configures rate limiting (429 with Retry-After once a budget is spent).
	Limits Limits `yaml:"limits"`
	// Files configures uploads (POST /api/v1/upload) and file downloads.
	Files Files `yaml:"files"`
	// Messages configures the delivery of the outbox's e-mail and SMS.
	Messages Messages `yaml:"messages"`
	// Log configures the process log.
	Log Log `yaml:"log"`
	// Tenants is the seed: tenants with their clients, roles, departments,
	// users, apps and forms, created at start-up when missing.
	// Default: none.
	Tenants []Tenant `yaml:"tenants"`
	// Connectors enables dialect connectors, keyed by connector id
	// (e.g. "h3yun"). Default: none.
	Connectors map[string]Connector `yaml:"connectors"`
	// BuiltinConnectors says which binary runs the built-in connectors as
	// plugin processes. Default: eimshub-connector next to the hub's
	// executable, else the hub itself (`eimshub connector ID`).
	BuiltinConnectors BuiltinConnectors `yaml:"builtinConnectors"`

	// src remembers where each key came from (file line or environment
	// variable) so that validation errors can name it.
	src *sources
}

// Server is the HTTP listener.
type Server struct {
	// Listen is the TCP address to listen on, host:port. Default: "127.0.0.1:8080".
	Listen string `yaml:"listen"`
	// BodyLimit caps a request body (JSON and form bodies; uploads are capped
	// by files.maxUpload). Bytes or a size such as "10MiB". Default: 10MiB.
	BodyLimit ByteSize `yaml:"bodyLimit"`
	// MaxHeaderBytes caps the request line and headers together (a longer
	// one is refused before routing: 400, "Request Header Fields Too
	// Large", in the native envelope). e-office and Dabei clients
	// send list filters as JSON in GET query strings, which pass 4 KiB with
	// a few hundred ids. Between 4KiB and 1MiB. Default: 16KiB.
	MaxHeaderBytes ByteSize `yaml:"maxHeaderBytes"`
	// ShutdownTimeout bounds a graceful shutdown. Default: 10s.
	ShutdownTimeout Duration `yaml:"shutdownTimeout"`
	// TimeZone is the IANA zone used where the API renders local dates.
	// Default: "Asia/Shanghai".
	TimeZone string `yaml:"timeZone"`
	// Operators are the hub operators: the callers who may read hub-wide
	// operations data (GET /admin/connectors), which a tenant's admin may
	// not. Each entry is "TENANT/USER" (a user of that tenant, by userName
	// or id, with any roles) or "client:CLIENT" (a client_credentials token
	// of that client, no user). Default: none (the operations routes
	// answer 403 to everyone).
	Operators []string `yaml:"operators"`
	// GCPercent is the Go garbage collector's target (debug.SetGCPercent)
	// for the serving hub and its built-in connector processes (as their
	// GOGC): a collection starts when the heap has grown by this
	// percentage since the last one. The hub's live heap is small, so
	// at Go's 100 the collector ran very often under load; 400 took ≈ 20 %
	// off the CPU per request of a native 50-row page (docs/BENCHMARKS.md,
	// issue 11 second pass), at the cost of a heap that grows to about
	// five times the live heap between collections (Go's 100: twice). To
	// bound memory, also set GOMEMLIMIT in the environment: the collector
	// then runs as often as needed to stay under it. A GOGC environment
	// variable wins over this setting. Default: 400.
	GCPercent int `yaml:"gcPercent"`
}

// Native configures the native EIMS API.
type Native struct {
	// PathPrefixes are extra URL prefixes under which the native API is also
	// served (every native route, /connect/token included), so clients built
	// for a gateway-style base URL keep working,
	// e.g. ["/jlauth"]. Default: none.
	PathPrefixes []string `yaml:"pathPrefixes"`
	// Swagger serves the OpenAPI document at /swagger/v1/swagger.json and
	// its UI at /swagger. Default: true.
	Swagger bool `yaml:"swagger"`
	// CORS lets browser apps on other origins call the hub, such as the
	// EIMSNext web client (spec eims-native.md §12.3).
	CORS CORS `yaml:"cors"`
	// Files configures how uploads are served to browser clients.
	Files NativeFiles `yaml:"files"`
}

// CORS configures cross-origin requests. The headers are set before
// authentication and rate limiting, on every answer to an allowed origin
// (errors included); a preflight (OPTIONS) on any path answers 204 without
// a token.
type CORS struct {
	// AllowedOrigins are the origins allowed to call the hub, each
	// "scheme://host[:port]" (e.g. "https://admin.example.com"), or "*" for
	// any origin (reflected, as the original EIMSNext server does). List
	// your web client's origins in production; an empty list ([]) turns
	// CORS off. Default: ["*"].
	AllowedOrigins []string `yaml:"allowedOrigins"`
	// AllowCredentials sends Access-Control-Allow-Credentials: true (for
	// cookies or HTTP authentication sent by the browser) to the origins
	// listed explicitly, never to one admitted by "*". The EIMSNext web
	// client does not need it. Default: false.
	AllowCredentials bool `yaml:"allowCredentials"`
}

// NativeFiles configures how uploads are served to browser clients.
type NativeFiles struct {
	// CapabilityURLs serves every upload without a token at
	// /upload/{tenant}/{random name} (its savePath, also under each path
	// prefix): the EIMSNext web client loads images and attachments from
	// there. The names carry 128 random bits; HTML, SVG and scripts are
	// served as attachments with nosniff. false: every file needs a token
	// (GET /api/v1/files/{id}) or isPublic. Default: true.
	CapabilityURLs bool `yaml:"capabilityURLs"`
}

// Storage picks the document store by URL (STYLE.md practice 3).
type Storage struct {
	// URL selects the store: empty means the embedded SQLite file
	// <dataDir>/eimshub.db; "mongodb://…" or "mongodb+srv://…" means
	// MongoDB. Any other scheme is an error. Overridden by EIMSHUB_MONGO_URI.
	// Default: "" (embedded).
	URL string `yaml:"url"`
	// Mongo holds MongoDB settings.
	Mongo Mongo `yaml:"mongo"`
	// AllowSplitData lets the embedded SQLite store run with a Redis cache
	// (cache.url), which the hub otherwise refuses: instances on different
	// machines would share tokens and rate limits through Redis but each
	// keep its own records, users and files (split data). Instances on one
	// machine sharing one dataDir share the file. The hub logs a warning
	// while it is set. For several machines use MongoDB (storage.url).
	// Default: false.
	AllowSplitData bool `yaml:"allowSplitData"`
}

// Mongo holds MongoDB settings.
type Mongo struct {
	// URI is the original product's spelling (`storage.mongo.uri`); it is the same
	// setting as storage.url and may be used instead of it. Default: "".
	URI string `yaml:"uri"`
	// Database is the database name. Default: "EIMS" (as the original).
	Database string `yaml:"database"`
	// ConnectTimeout bounds the wait for MongoDB at start-up (connect and
	// server selection); after it the hub exits with an error naming the
	// host. Default: 5s.
	ConnectTimeout Duration `yaml:"connectTimeout"`
}

// Cache picks the token cache and the rate-limit counter store by URL.
type Cache struct {
	// URL selects the cache: empty means in-process (one instance only);
	// "redis://…" or "rediss://…" means Redis, shared by every instance.
	// Overridden by EIMSHUB_REDIS_URL. Default: "" (in-process).
	URL string `yaml:"url"`
	// Redis holds Redis settings.
	Redis Redis `yaml:"redis"`
}

// Redis holds Redis settings.
type Redis struct {
	// URL is the original product's spelling (`cache.redis.url`); it is the same
	// setting as cache.url and may be used instead of it. Default: "".
	URL string `yaml:"url"`
	// DB is the Redis logical database; it overrides a database number in
	// the URL when not 0. Default: 0.
	DB int `yaml:"db"`
	// ConnectTimeout bounds the wait for Redis at start-up; after it the
	// hub exits with an error naming the host. Default: 5s.
	ConnectTimeout Duration `yaml:"connectTimeout"`
}

// Auth configures the token endpoint (/connect/token) and the tokens it issues.
type Auth struct {
	// Issuer is the JWT `iss` claim. Default: "https://eimshub.local".
	Issuer string `yaml:"issuer"`
	// Audience is the JWT `aud` claim. Default: "eimsnext.api".
	Audience string `yaml:"audience"`
	// SigningAlgorithm is the access-token signature: "EdDSA" (Ed25519) or
	// "RS256" (RSA, for JWT libraries without EdDSA). The key must match; a
	// generated key is made for it. Default: "EdDSA".
	SigningAlgorithm string `yaml:"signingAlgorithm"`
	// SigningKeyFile is the path of the private key (PKCS#8 PEM: Ed25519,
	// or RSA ≥ 2048 bits for RS256) that signs access tokens. Empty means
	// <dataDir>/signing.key (signing-rs256.key for RS256), generated on
	// first start. Several instances must share one key.
	// Default: "" (generated).
	SigningKeyFile string `yaml:"signingKeyFile"`
	// SigningKey is the same key inline as PEM text, typically
	// "${EIMSHUB_SIGNING_KEY}"; it excludes signingKeyFile. Default: "".
	SigningKey string `yaml:"signingKey"`
	// AccessTokenTTL is the access token lifetime (`expires_in`); a client
	// may override it. Default: 8h.
	AccessTokenTTL Duration `yaml:"accessTokenTTL"`
	// RefreshTokenTTL is the sliding refresh token lifetime: each use
	// extends it by this much. Default: 15d.
	RefreshTokenTTL Duration `yaml:"refreshTokenTTL"`
	// RefreshTokenMaxTTL is the absolute refresh token lifetime, counted
	// from the login. Default: 30d.
	RefreshTokenMaxTTL Duration `yaml:"refreshTokenMaxTTL"`
	// MaxFailedLogins is the number of failed password attempts per user
	// within lockoutWindow after which logins are refused. Default: 5.
	MaxFailedLogins int `yaml:"maxFailedLogins"`
	// LockoutWindow is the window for maxFailedLogins and the lockout
	// duration. Default: 15m.
	LockoutWindow Duration `yaml:"lockoutWindow"`
	// SMSUnknownNumbersPerIP is the most verification codes to numbers of
	// no user (type register or bind) one source IP may request per hour,
	// against SMS pumping. Default: 5.
	SMSUnknownNumbersPerIP int `yaml:"smsUnknownNumbersPerIP"`
	// SMSUnknownNumbersPerHour is the same budget for the whole hub (all
	// tenants and IPs together). Default: 200.
	SMSUnknownNumbersPerHour int `yaml:"smsUnknownNumbersPerHour"`
}

// Limits configures rate limiting (429 with Retry-After once a budget is spent).
type Limits struct {
	// DefaultRate is the per-client and per-user rate in ulule/limiter
	// format "<n>-<S|M|H|D>" (requests per second, minute, hour, day); a
	// client may set its own. Default: "100-S".
	DefaultRate string `yaml:"defaultRate"`
	// TokenEndpointRate limits /connect/token and /connect/revocation per
	// client_id, against secret guessing. Default: "600-M".
	TokenEndpointRate string `yaml:"tokenEndpointRate"`
	// TokenEndpointIPRate limits the token endpoints and /auth/sendcode per
	// source IP. Default: "120-M".
	TokenEndpointIPRate string `yaml:"tokenEndpointIPRate"`
	// AuthFailureIPRate bounds failed credential checks on connector routes
	// whose credentials the hub verifies (e.g. H3Yun's EngineCode and
	// EngineSecret) per source IP; once spent, such requests from that IP
	// are refused without a check until the window ends. Default: "20-M".
	AuthFailureIPRate string `yaml:"authFailureIPRate"`
	// FailOpen lets API requests through, uncounted, while the limiter's
	// store (Redis) is unreachable; false answers 503 instead.
	// Default: true.
	FailOpen bool `yaml:"failOpen"`
	// FailOpenTokenEndpoint does the same for the token endpoints; keep it
	// false so that credential guessing stays throttled. Default: false.
	FailOpenTokenEndpoint bool `yaml:"failOpenTokenEndpoint"`
}

// Files configures uploads (POST /api/v1/upload) and file downloads.
type Files struct {
	// Root is the directory of the local blob store. Default: <dataDir>/files.
	Root string `yaml:"root"`
	// MaxUpload caps one upload request. Bytes or a size such as "100MiB".
	// Default: 100MiB.
	MaxUpload ByteSize `yaml:"maxUpload"`
	// PublicBaseURL, when set, is the absolute http(s) base URL used to build
	// file `url`s (e.g. "https://hub.example.com"); empty means relative
	// URLs ("/api/v1/files/{id}"). Default: "".
	PublicBaseURL string `yaml:"publicBaseURL"`
}

// Messages configures the delivery of outgoing e-mail and SMS (the outbox,
// core/messages): verification codes, /api/v1/outbox sends, connectors'
// sends.
type Messages struct {
	// WebhookURL, when set, is the http(s) URL of the operator's relay (in
	// front of an SMS provider or mail server): the outbox POSTs each
	// message to it as JSON {tenant, channel, to, subject, body, template,
	// purpose} and a 2xx answer is delivery; failures are retried with
	// backoff. Empty means no delivery: messages are only recorded in the
	// outbox. Default: "".
	WebhookURL string `yaml:"webhookURL"`
	// WebhookToken is sent as "Authorization: Bearer <token>" to the
	// relay; use ${ENV} expansion to keep it out of the file. Default: "".
	WebhookToken string `yaml:"webhookToken"`
	// MaxAttempts bounds the deliveries of a queued message before it is
	// marked failed. Default: 8.
	MaxAttempts int `yaml:"maxAttempts"`
	// SMTP, when its addr is set, delivers e-mail through that relay
	// (SMS still goes to webhookURL, or fails without one). Default: none.
	SMTP SMTP `yaml:"smtp"`
}

// SMTP is an e-mail relay of the outbox (core/messages.SMTP): one message
// per connection, UTF-8 text bodies.
type SMTP struct {
	// Addr is the relay's host:port, e.g. "smtp.example.com:587".
	// Default: "" (no e-mail relay).
	Addr string `yaml:"addr"`
	// Security is the connection's protection: starttls (the relay must
	// offer it; never downgraded), tls (implicit TLS, usually port 465) or
	// none (plain text, for a relay on localhost or a trusted network).
	// Default: "starttls".
	Security string `yaml:"security"`
	// Username, when set, authenticates with AUTH PLAIN (with password),
	// over TLS or to localhost only. Default: "" (no authentication).
	Username string `yaml:"username"`
	// Password is the username's password; use ${ENV} expansion to keep it
	// out of the file. Default: "".
	Password string `yaml:"password"`
	// From is the sender address, e.g. "EIMS Hub <noreply@example.com>".
	// Required with addr.
	From string `yaml:"from"`
}

// Log configures the process log (log/slog).
type Log struct {
	// Level is one of debug, info, warn, error. Default: "info".
	Level string `yaml:"level"`
	// Format is "text" or "json". Default: "text".
	Format string `yaml:"format"`
}

// Connector enables one dialect connector. Its own settings stay raw in
// Config and are decoded by the connector.
type Connector struct {
	// Enabled turns the connector on. Default: true (listing it enables it).
	Enabled bool `yaml:"enabled"`
	// Command is the path of an external plugin binary: absolute, or
	// relative to the hub process's working directory (not to this file);
	// a name without a slash is looked up in PATH. Empty means the built-in
	// connector of that id (run from eimshub-connector, see
	// builtinConnectors). Default: "".
	Command string `yaml:"command"`
	// SHA256 is the hex SHA-256 checksum of Command, checked before launch;
	// required with command. Default: "".
	SHA256 string `yaml:"sha256"`
	// Mount is an extra URL prefix for the connector's routes (e.g. "/h3");
	// empty means the dialect's own paths at the root. Default: "".
	Mount string `yaml:"mount"`
	// Isolation is "process" (a go-plugin child process, restarted when it
	// dies) or "inproc" (direct calls: faster, no isolation).
	// Default: "process".
	Isolation string `yaml:"isolation"`
	// ClientHeader is deprecated and ignored (a warning is logged): each
	// route declares how its caller authenticates, the hub verifies the
	// credentials before the plugin hop and the rate limiter counts the
	// verified client (docs/PLUGINS.md). Default: "".
	ClientHeader string `yaml:"clientHeader"`
	// Timeout bounds one request through the connector (the caller gets the
	// connector's error envelope after it). Default: 30s.
	Timeout Duration `yaml:"timeout"`
	// MaxInFlight bounds the connector's concurrent requests; more are
	// refused at once (503, reason connector_busy, in the connector's error
	// envelope), they do not queue. Default: 64.
	MaxInFlight int `yaml:"maxInFlight"`
	// RateLimitStatus is the HTTP status of a request the rate limiter
	// refuses on this connector's routes (the body is the connector's error
	// envelope either way; Retry-After is set). Default: 0 = the envelope's
	// own status (H3Yun: 200 with Successful:false, as the H3Yun product does; set
	// 429 for clients that back off on it).
	RateLimitStatus int `yaml:"rateLimitStatus"`
	// Optional keeps the hub ready (GET /readyz 200) while this connector is
	// failed or restarting; its state is still reported there. Default:
	// false (a connector that is not running makes /readyz answer 503
	// naming it).
	Optional bool `yaml:"optional"`
	// Config is the connector's own configuration, decoded by the connector
	// (environment variables already expanded) and checked by
	// `eimshub config check`. Default: empty.
	Config yaml.Node `yaml:"config"`
}

// BuiltinConnectors picks the binary that serves built-in connectors (those
// without a command) as plugin processes. The small eimshub-connector binary
// (`make build` puts it next to eimshub) links only the plugin SDK and the
// connectors, so each connector process needs far less memory than a copy
// of the hub.
type BuiltinConnectors struct {
	// Command is the path of the eimshub-connector binary, run as
	// `COMMAND ID`; "self" re-executes the hub as `eimshub connector ID`.
	// A configured binary that is missing stops the hub at start-up.
	// Default: "" = eimshub-connector in the hub executable's directory when
	// present, else "self" (the log says which one runs).
	Command string `yaml:"command"`
	// SHA256 is the hex SHA-256 the binary must have; a mismatch stops the
	// hub at start-up. Either way the hub hashes the binary once at start
	// and every launch and restart verifies that hash (a binary replaced
	// while the hub runs is refused). Not used with "self". Default: "".
	SHA256 string `yaml:"sha256"`
}

// UnmarshalYAML decodes a connector entry with Enabled defaulting to true.
func (c *Connector) UnmarshalYAML(n *yaml.Node) error {
	type plain Connector
	p := plain{Enabled: true}
	if err := n.Decode(&p); err != nil {
		return err
	}
	*c = Connector(p)
	return nil
}

// Isolation modes of a connector.
const (
	IsolationProcess = "process"
	IsolationInproc  = "inproc"
)

// The storage and cache drivers chosen by URL.
const (
	DriverSQLite = "sqlite"
	DriverMongo  = "mongodb"
	DriverMemory = "memory"
	DriverRedis  = "redis"
)

// Default returns the built-in defaults: an embedded, single-instance hub on
// 127.0.0.1:8080 with no tenants. Defaults derived from dataDir (files.root)
// are filled by Load, after the file and the environment are applied.
func Default() Config {
	return Config{
		Server: Server{
			Listen:          "127.0.0.1:8080",
			BodyLimit:       10 * MiB,
			MaxHeaderBytes:  16 * KiB,
			ShutdownTimeout: Duration(10 * time.Second),
			TimeZone:        "Asia/Shanghai",
			GCPercent:       400,
		},
		Native: Native{Swagger: true, CORS: CORS{AllowedOrigins: []string{"*"}},
			Files: NativeFiles{CapabilityURLs: true}},
		DataDir: "./data",
		Storage: Storage{Mongo: Mongo{Database: "EIMS", ConnectTimeout: Duration(5 * time.Second)}},
		Cache:   Cache{Redis: Redis{ConnectTimeout: Duration(5 * time.Second)}},
		Auth: Auth{
			Issuer:                   "https://eimshub.local",
			Audience:                 "eimsnext.api",
			SigningAlgorithm:         "EdDSA",
			AccessTokenTTL:           Duration(8 * time.Hour),
			RefreshTokenTTL:          Duration(15 * 24 * time.Hour),
			RefreshTokenMaxTTL:       Duration(30 * 24 * time.Hour),
			MaxFailedLogins:          5,
			SMSUnknownNumbersPerIP:   5,
			SMSUnknownNumbersPerHour: 200,
			LockoutWindow:            Duration(15 * time.Minute),
		},
		Limits: Limits{DefaultRate: "100-S", TokenEndpointRate: "600-M", TokenEndpointIPRate: "120-M",
			AuthFailureIPRate: "20-M", FailOpen: true},
		Files:    Files{MaxUpload: 100 * MiB},
		Messages: Messages{MaxAttempts: 8},
		Log:      Log{Level: "info", Format: "text"},
	}
}

// applyDefaults fills every zero field with its default, including the ones
// derived from DataDir, and folds the original product's spellings (storage.mongo.uri,
// cache.redis.url) into storage.url and cache.url. Booleans are not touched:
// their defaults come from decoding over Default.
func (c *Config) applyDefaults() {
	d := Default()
	setStr := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	setStr(&c.Server.Listen, d.Server.Listen)
	if c.Server.BodyLimit == 0 {
		c.Server.BodyLimit = d.Server.BodyLimit
	}
	if c.Server.MaxHeaderBytes == 0 {
		c.Server.MaxHeaderBytes = d.Server.MaxHeaderBytes
	}
	if c.Server.ShutdownTimeout == 0 {
		c.Server.ShutdownTimeout = d.Server.ShutdownTimeout
	}
	setStr(&c.Server.TimeZone, d.Server.TimeZone)
	if c.Server.GCPercent == 0 {
		c.Server.GCPercent = d.Server.GCPercent
	}
	setStr(&c.DataDir, d.DataDir)
	if c.Storage.URL == "" && c.Storage.Mongo.URI != "" {
		c.Storage.URL = c.Storage.Mongo.URI
		c.src.alias("storage.url", "storage.mongo.uri")
	}
	setStr(&c.Storage.Mongo.Database, d.Storage.Mongo.Database)
	if c.Cache.URL == "" && c.Cache.Redis.URL != "" {
		c.Cache.URL = c.Cache.Redis.URL
		c.src.alias("cache.url", "cache.redis.url")
	}
	setStr(&c.Auth.Issuer, d.Auth.Issuer)
	setStr(&c.Auth.Audience, d.Auth.Audience)
	if c.Auth.AccessTokenTTL == 0 {
		c.Auth.AccessTokenTTL = d.Auth.AccessTokenTTL
	}
	if c.Auth.RefreshTokenTTL == 0 {
		c.Auth.RefreshTokenTTL = d.Auth.RefreshTokenTTL
	}
	if c.Auth.RefreshTokenMaxTTL == 0 {
		c.Auth.RefreshTokenMaxTTL = d.Auth.RefreshTokenMaxTTL
	}
	if c.Auth.SMSUnknownNumbersPerIP == 0 {
		c.Auth.SMSUnknownNumbersPerIP = d.Auth.SMSUnknownNumbersPerIP
	}
	if c.Auth.SMSUnknownNumbersPerHour == 0 {
		c.Auth.SMSUnknownNumbersPerHour = d.Auth.SMSUnknownNumbersPerHour
	}
	if c.Auth.MaxFailedLogins == 0 {
		c.Auth.MaxFailedLogins = d.Auth.MaxFailedLogins
	}
	if c.Auth.LockoutWindow == 0 {
		c.Auth.LockoutWindow = d.Auth.LockoutWindow
	}
	setStr(&c.Limits.DefaultRate, d.Limits.DefaultRate)
	setStr(&c.Limits.TokenEndpointRate, d.Limits.TokenEndpointRate)
	setStr(&c.Limits.TokenEndpointIPRate, d.Limits.TokenEndpointIPRate)
	setStr(&c.Limits.AuthFailureIPRate, d.Limits.AuthFailureIPRate)
	setStr(&c.Files.Root, filepath.Join(c.DataDir, "files"))
	if c.Files.MaxUpload == 0 {
		c.Files.MaxUpload = d.Files.MaxUpload
	}
	if c.Messages.MaxAttempts == 0 {
		c.Messages.MaxAttempts = d.Messages.MaxAttempts
	}
	setStr(&c.Log.Level, d.Log.Level)
	setStr(&c.Log.Format, d.Log.Format)
	for id, cn := range c.Connectors {
		setStr(&cn.Isolation, IsolationProcess)
		c.Connectors[id] = cn
	}
	for ti := range c.Tenants {
		t := &c.Tenants[ti]
		setStr(&t.Name, t.ID)
		for i := range t.Clients {
			setStr(&t.Clients[i].Name, t.Clients[i].ID)
		}
		for i := range t.Roles {
			setStr(&t.Roles[i].Name, t.Roles[i].Code)
		}
		for i := range t.Departments {
			setStr(&t.Departments[i].Name, t.Departments[i].Code)
		}
		for i := range t.Users {
			setStr(&t.Users[i].Name, t.Users[i].UserName)
		}
		for i := range t.Apps {
			setStr(&t.Apps[i].Name, t.Apps[i].Key)
		}
		for i := range t.Forms {
			setStr(&t.Forms[i].Name, t.Forms[i].Key)
			fillTitles(t.Forms[i].Fields)
		}
	}
}

func fillTitles(fs []Field) {
	for i := range fs {
		if fs[i].Title == "" {
			fs[i].Title = fs[i].Field
		}
		for j := range fs[i].Options {
			if fs[i].Options[j].Label == "" {
				fs[i].Options[j].Label = fs[i].Options[j].Value
			}
		}
		fillTitles(fs[i].Columns)
	}
}

// StorageDriver reports the store storage.url selects: DriverSQLite or
// DriverMongo ("" for an unsupported URL, which Validate rejects).
func (c *Config) StorageDriver() string {
	d, _ := storageDriver(c.Storage.URL)
	return d
}

// CacheDriver reports the cache cache.url selects: DriverMemory or
// DriverRedis ("" for an unsupported URL, which Validate rejects).
func (c *Config) CacheDriver() string {
	d, _ := cacheDriver(c.Cache.URL)
	return d
}

// SQLitePath is the embedded database file: <dataDir>/eimshub.db.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "eimshub.db") }

// SigningKeyPath is the signing key file: auth.signingKeyFile, or
// <dataDir>/signing.key (generated when missing) when that is empty. It is
// "" when the key is given inline (auth.signingKey).
func (c *Config) SigningKeyPath() string {
	switch {
	case c.Auth.SigningKey != "":
		return ""
	case c.Auth.SigningKeyFile != "":
		return c.Auth.SigningKeyFile
	case c.Auth.SigningAlgorithm == "RS256":
		return filepath.Join(c.DataDir, "signing-rs256.key")
	}
	return filepath.Join(c.DataDir, "signing.key")
}

// ConnectorIDs lists the enabled connectors' ids, sorted.
func (c *Config) ConnectorIDs() []string {
	ids := make([]string, 0, len(c.Connectors))
	for id, cn := range c.Connectors {
		if cn.Enabled {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// File is the path the configuration was loaded from ("" when built in
// code), for connectors that report errors at Connector.Config's lines.
func (c *Config) File() string {
	if c.src == nil {
		return ""
	}
	return c.src.file
}
