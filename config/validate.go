package config

import (
	"fmt"
	"maps"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // server.timeZone validates the same on every host
)

// Grant types a client may be allowed (docs/spec/eims-native.md, 2.2).
var Grants = []string{"password", "code", "verification_code", "refresh_token", "client_credentials", "sso"}

// FieldTypes are the form field types (docs/spec/eims-native.md, 6.3).
var FieldTypes = []string{
	"input", "textarea", "number", "timestamp", "radio", "select", "checkbox", "select2",
	"employee1", "employee2", "department1", "department2", "imageupload", "fileupload", "tableform",
}

// builtinEntities are the entity names and route words of the native API
// (docs/spec/eims-native.md, 1.1 and 6.2) a form key may not take (compared case-insensitively).
var builtinEntities = []string{
	"app", "form", "formdef", "formdata", "record", "user", "employee", "department", "role",
	"wfdefinition", "workflowdefinition", "dfdefinition", "dataflowdefinition", "wftodo", "task",
	"wfapprovallog", "file", "files", "uploadedfile", "message", "systemmessage", "auditlog",
	"menu", "schedule", "upload", "workflow", "dataflow", "ping",
}

// reservedPrefixes are first path segments the native API itself uses.
var reservedPrefixes = []string{"api", "connect", "auth", "odata", "swagger", "health", ".well-known", "admin", "metrics", "upload"}

var (
	idRE        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	connIDRE    = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
	keyRE       = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	fieldKeyRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	scopeRE     = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`) // RFC 6749 §3.3 scope-token
	phoneRE     = regexp.MustCompile(`^\+?[0-9]{6,20}$`)            // docs/spec/eims-native.md, 2.1
	prefixRE    = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)
	sha256RE    = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	mongoDBName = regexp.MustCompile(`^[^/\\. "$*<>:|?]{1,63}$`)
)

// storageDriver maps storage.url to a driver.
func storageDriver(u string) (string, error) {
	switch {
	case u == "":
		return DriverSQLite, nil
	case strings.HasPrefix(u, "mongodb://"), strings.HasPrefix(u, "mongodb+srv://"):
		return DriverMongo, nil
	}
	return "", ErrUnsupportedStorage
}

// cacheDriver maps cache.url to a driver.
func cacheDriver(u string) (string, error) {
	switch {
	case u == "":
		return DriverMemory, nil
	case strings.HasPrefix(u, "redis://"), strings.HasPrefix(u, "rediss://"):
		return DriverRedis, nil
	}
	return "", ErrUnsupportedCache
}

// Validate checks the whole configuration and returns an Errors value with
// every problem, or nil. It checks c as it is: Load has already applied
// the defaults; code building a Config by hand should start from Default.
func (c *Config) Validate() error {
	v := &collector{src: c.src}
	c.validateServer(v)
	c.validateBackends(v)
	c.validateAuth(v)
	c.validateConnectors(v)
	c.validateTenants(v)
	return v.err()
}

func (c *Config) validateServer(v *collector) {
	if err := checkListen(c.Server.Listen); err != "" {
		v.add("server.listen", "%s", err)
	}
	if c.Server.BodyLimit <= 0 {
		v.add("server.bodyLimit", "must be positive")
	}
	if h := c.Server.MaxHeaderBytes; h < 4*KiB || h > MiB {
		v.add("server.maxHeaderBytes", "must be between 4KiB and 1MiB")
	}
	if c.Server.ShutdownTimeout <= 0 {
		v.add("server.shutdownTimeout", "must be positive")
	}
	if c.Server.GCPercent < 25 || c.Server.GCPercent > 10000 {
		v.add("server.gcPercent", "%d: want 25 to 10000", c.Server.GCPercent)
	}
	for i, op := range c.Server.Operators {
		if !ValidOperator(op) {
			v.add(fmt.Sprintf("server.operators[%d]", i), "%q: want \"TENANT/USER\" or \"client:CLIENT\"", op)
		}
	}
	if _, err := time.LoadLocation(c.Server.TimeZone); err != nil || c.Server.TimeZone == "" {
		v.add("server.timeZone", "unknown time zone %q (want an IANA name such as Asia/Shanghai)", c.Server.TimeZone)
	}
	seen := map[string]bool{}
	for i, p := range c.Native.PathPrefixes {
		key := fmt.Sprintf("native.pathPrefixes[%d]", i)
		first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
		switch {
		case !prefixRE.MatchString(p):
			v.add(key, "invalid path prefix %q (want e.g. /jlauth: a leading slash, no trailing slash)", p)
		case containsFold(reservedPrefixes, first):
			v.add(key, "path prefix %q collides with the native API's own /%s routes", p, first)
		case seen[strings.ToLower(p)]:
			v.add(key, "duplicate path prefix %q", p)
		}
		seen[strings.ToLower(p)] = true
	}
	explicit := false
	for i, o := range c.Native.CORS.AllowedOrigins {
		if o == "*" {
			continue
		}
		explicit = true
		if msg := checkOrigin(o); msg != "" {
			v.add(fmt.Sprintf("native.cors.allowedOrigins[%d]", i), "%s", msg)
		}
	}
	if c.Native.CORS.AllowCredentials && !explicit {
		v.add("native.cors.allowCredentials", "needs at least one origin listed explicitly in native.cors.allowedOrigins (credentials are never allowed for \"*\")")
	}
	if c.DataDir == "" {
		v.add("dataDir", "must not be empty")
	}
	if c.Files.Root == "" {
		v.add("files.root", "must not be empty")
	}
	if c.Files.MaxUpload <= 0 {
		v.add("files.maxUpload", "must be positive")
	}
	if u := c.Files.PublicBaseURL; u != "" {
		if msg := checkHTTPURL(u); msg != "" {
			v.add("files.publicBaseURL", "%s", msg)
		}
	}
	if u := c.Messages.WebhookURL; u != "" {
		if msg := checkHTTPURL(u); msg != "" {
			v.add("messages.webhookURL", "%s", msg)
		}
	}
	if sm := c.Messages.SMTP; sm.Addr != "" || sm.From != "" || sm.Username != "" {
		if _, port, err := net.SplitHostPort(sm.Addr); err != nil || port == "" {
			v.add("messages.smtp.addr", "want host:port, got %q", sm.Addr)
		}
		if !oneOf(sm.Security, "", "starttls", "tls", "none") {
			v.add("messages.smtp.security", "invalid security %q (want starttls, tls or none)", sm.Security)
		}
		if _, err := mail.ParseAddress(sm.From); err != nil {
			v.add("messages.smtp.from", "want an address such as \"EIMS Hub <noreply@example.com>\", got %q", sm.From)
		}
	}
	if c.Messages.MaxAttempts < 0 {
		v.add("messages.maxAttempts", "must not be negative")
	}
	if !oneOf(c.Log.Level, "debug", "info", "warn", "error") {
		v.add("log.level", "invalid level %q (want debug, info, warn or error)", c.Log.Level)
	}
	if !oneOf(c.Log.Format, "text", "json") {
		v.add("log.format", "invalid format %q (want text or json)", c.Log.Format)
	}
	for _, r := range [][2]string{{"limits.defaultRate", c.Limits.DefaultRate},
		{"limits.tokenEndpointRate", c.Limits.TokenEndpointRate}, {"limits.tokenEndpointIPRate", c.Limits.TokenEndpointIPRate},
		{"limits.authFailureIPRate", c.Limits.AuthFailureIPRate}} {
		if _, err := ParseRate(r[1]); err != nil {
			v.add(r[0], "%v", err)
		}
	}
}

func (c *Config) validateBackends(v *collector) {
	s := c.Storage
	if s.Mongo.URI != "" && s.URL != "" && s.Mongo.URI != s.URL {
		v.add("storage.mongo.uri", "conflicts with storage.url (they are the same setting; set one)")
	}
	if d, err := storageDriver(s.URL); err != nil {
		v.addErr("storage.url", err, "unsupported storage URL %q (want empty for the embedded database, or mongodb:// or mongodb+srv://)", redact(s.URL))
	} else if d == DriverMongo {
		if u, err := url.Parse(s.URL); err != nil || u.Host == "" {
			v.add("storage.url", "invalid MongoDB URI %q (want mongodb://host[:port][/db][?options])", redact(s.URL))
		}
	}
	if !mongoDBName.MatchString(s.Mongo.Database) {
		v.add("storage.mongo.database", "invalid MongoDB database name %q", s.Mongo.Database)
	}
	ch := c.Cache
	if ch.Redis.URL != "" && ch.URL != "" && ch.Redis.URL != ch.URL {
		v.add("cache.redis.url", "conflicts with cache.url (they are the same setting; set one)")
	}
	if d, err := cacheDriver(ch.URL); err != nil {
		v.addErr("cache.url", err, "unsupported cache URL %q (want empty for the in-process cache, or redis:// or rediss://)", redact(ch.URL))
	} else if d == DriverRedis {
		if u, err := url.Parse(ch.URL); err != nil || u.Host == "" {
			v.add("cache.url", "invalid Redis URL %q (want redis://[:password@]host:port[/db])", redact(ch.URL))
		}
	}
	if ch.Redis.DB < 0 {
		v.add("cache.redis.db", "must not be negative")
	}
	if s.Mongo.ConnectTimeout <= 0 {
		v.add("storage.mongo.connectTimeout", "must be positive")
	}
	if ch.Redis.ConnectTimeout <= 0 {
		v.add("cache.redis.connectTimeout", "must be positive")
	}
	if sd, _ := storageDriver(s.URL); sd == DriverSQLite && !s.AllowSplitData {
		if cd, _ := cacheDriver(ch.URL); cd == DriverRedis {
			v.add("cache.url", "a Redis cache with the embedded SQLite store: instances on different machines would share "+
				"tokens and rate limits but each keep its own records, users and files (split data). Use MongoDB "+
				"(storage.url) for several instances, or set storage.allowSplitData: true to run anyway")
		}
	}
}

func (c *Config) validateAuth(v *collector) {
	a := c.Auth
	if msg := checkHTTPURL(a.Issuer); msg != "" {
		v.add("auth.issuer", "%s", msg)
	}
	if strings.TrimSpace(a.Audience) == "" {
		v.add("auth.audience", "must not be empty")
	}
	if !oneOf(a.SigningAlgorithm, "EdDSA", "RS256") {
		v.add("auth.signingAlgorithm", "invalid algorithm %q (want EdDSA or RS256)", a.SigningAlgorithm)
	}
	if a.SigningKey != "" {
		if a.SigningKeyFile != "" {
			v.add("auth.signingKey", "set either signingKey or signingKeyFile, not both")
		}
		if !strings.Contains(a.SigningKey, "-----BEGIN ") {
			v.add("auth.signingKey", "expected a PEM-encoded private key")
		}
	}
	positive := func(key string, d Duration) {
		if d <= 0 {
			v.add(key, "must be positive")
		}
	}
	positive("auth.accessTokenTTL", a.AccessTokenTTL)
	positive("auth.refreshTokenTTL", a.RefreshTokenTTL)
	positive("auth.refreshTokenMaxTTL", a.RefreshTokenMaxTTL)
	positive("auth.lockoutWindow", a.LockoutWindow)
	if a.RefreshTokenMaxTTL > 0 && a.RefreshTokenMaxTTL < a.RefreshTokenTTL {
		v.add("auth.refreshTokenMaxTTL", "%s is shorter than refreshTokenTTL %s", a.RefreshTokenMaxTTL, a.RefreshTokenTTL)
	}
	if a.MaxFailedLogins < 1 {
		v.add("auth.maxFailedLogins", "must be at least 1")
	}
}

func (c *Config) validateConnectors(v *collector) {
	if b := c.BuiltinConnectors; b.SHA256 != "" {
		switch {
		case b.Command == "self":
			v.add("builtinConnectors.sha256", "not used with command self (the hub runs its own executable)")
		case !sha256RE.MatchString(b.SHA256):
			v.add("builtinConnectors.sha256", "want 64 hex digits")
		}
	}
	for _, id := range sortedKeys(c.Connectors) {
		cn := c.Connectors[id]
		key := "connectors." + id
		if !connIDRE.MatchString(id) {
			v.add(key, "invalid connector id %q (want lower-case letters, digits, - and _)", id)
		}
		if !oneOf(cn.Isolation, IsolationProcess, IsolationInproc) {
			v.add(key+".isolation", "invalid isolation %q (want process or inproc)", cn.Isolation)
		}
		switch {
		case cn.Command != "" && cn.SHA256 == "":
			v.add(key+".sha256", "required with command (the binary's checksum is verified before launch)")
		case cn.Command == "" && cn.SHA256 != "":
			v.add(key+".sha256", "only used with command")
		case cn.SHA256 != "" && !sha256RE.MatchString(cn.SHA256):
			v.add(key+".sha256", "want 64 hex digits")
		}
		if cn.Command != "" && cn.Isolation == IsolationInproc {
			v.add(key+".isolation", "an external command always runs as a process")
		}
		if cn.Mount != "" && !prefixRE.MatchString(cn.Mount) {
			v.add(key+".mount", "invalid mount %q (want e.g. /h3: a leading slash, no trailing slash)", cn.Mount)
		}
		if cn.Timeout < 0 {
			v.add(key+".timeout", "must not be negative")
		}
		if cn.MaxInFlight < 0 {
			v.add(key+".maxInFlight", "must not be negative")
		}
		if s := cn.RateLimitStatus; s != 0 && (s < 200 || s > 599) {
			v.add(key+".rateLimitStatus", "invalid HTTP status %d (want 0 for the envelope's, or 200–599)", s)
		}
	}
}

func (c *Config) validateTenants(v *collector) {
	tenantIDs := map[string]int{}
	clientIDs := map[string]string{}
	for ti := range c.Tenants {
		t := &c.Tenants[ti]
		tk := fmt.Sprintf("tenants[%d]", ti)
		switch {
		case t.ID == "":
			v.add(tk+".id", "required")
		case !idRE.MatchString(t.ID):
			v.add(tk+".id", "invalid id %q (letters, digits, '.', '_' and '-', at most 64)", t.ID)
		case dupIn(tenantIDs, t.ID, ti):
			v.add(tk+".id", "duplicate tenant id %q (also tenants[%d])", t.ID, tenantIDs[t.ID])
		}

		roles := map[string]int{}
		for i, r := range t.Roles {
			k := fmt.Sprintf("%s.roles[%d].code", tk, i)
			switch {
			case r.Code == "":
				v.add(k, "required")
			case dupIn(roles, r.Code, i):
				v.add(k, "duplicate role code %q (also roles[%d])", r.Code, roles[r.Code])
			}
		}

		users := map[string]int{}
		for i, u := range t.Users {
			k := fmt.Sprintf("%s.users[%d].userName", tk, i)
			switch {
			case u.UserName == "":
				v.add(k, "required")
			case dupIn(users, strings.ToLower(u.UserName), i):
				v.add(k, "duplicate userName %q (also users[%d])", u.UserName, users[strings.ToLower(u.UserName)])
			}
		}
		hasUser := func(name string) bool { _, ok := users[strings.ToLower(name)]; return ok }

		depts := map[string]int{}
		for i, d := range t.Departments {
			k := fmt.Sprintf("%s.departments[%d].code", tk, i)
			switch {
			case d.Code == "":
				v.add(k, "required")
			case dupIn(depts, d.Code, i):
				v.add(k, "duplicate department code %q (also departments[%d])", d.Code, depts[d.Code])
			}
		}
		for i, d := range t.Departments {
			k := fmt.Sprintf("%s.departments[%d]", tk, i)
			if d.Parent != "" {
				if _, ok := depts[d.Parent]; !ok {
					v.add(k+".parent", "unknown department %q", d.Parent)
				} else if cycle := deptCycle(t.Departments, depts, i); cycle != "" {
					v.add(k+".parent", "department cycle %s", cycle)
				}
			}
			if d.Manager != "" && !hasUser(d.Manager) {
				v.add(k+".manager", "unknown user %q", d.Manager)
			}
		}

		codes, phones, emails := map[string]int{}, map[string]int{}, map[string]int{}
		for i, u := range t.Users {
			k := fmt.Sprintf("%s.users[%d]", tk, i)
			if u.Code != "" && dupIn(codes, u.Code, i) {
				v.add(k+".code", "duplicate user code %q (also users[%d])", u.Code, codes[u.Code])
			}
			if u.Phone != "" {
				if !phoneRE.MatchString(u.Phone) {
					v.add(k+".phone", "invalid phone %q (6-20 digits, optional leading +)", u.Phone)
				} else if dupIn(phones, u.Phone, i) {
					v.add(k+".phone", "duplicate phone %q (also users[%d]); SMS login needs it unique", u.Phone, phones[u.Phone])
				}
			}
			if u.Email != "" {
				e := strings.ToLower(u.Email)
				if at := strings.IndexByte(e, '@'); at < 1 || at == len(e)-1 || strings.ContainsAny(e, " \t") {
					v.add(k+".email", "invalid e-mail address %q", u.Email)
				} else if dupIn(emails, e, i) {
					v.add(k+".email", "duplicate e-mail %q (also users[%d]); password login needs it unique", u.Email, emails[e])
				}
			}
			if u.Department != "" {
				if _, ok := depts[u.Department]; !ok {
					v.add(k+".department", "unknown department %q", u.Department)
				}
			}
			seen := map[string]bool{}
			for j, r := range u.Roles {
				rk := fmt.Sprintf("%s.roles[%d]", k, j)
				if _, ok := roles[r]; !ok {
					v.add(rk, "unknown role %q", r)
				} else if seen[r] {
					v.add(rk, "duplicate role %q", r)
				}
				seen[r] = true
			}
		}

		for i := range t.Clients {
			cl := &t.Clients[i]
			k := fmt.Sprintf("%s.clients[%d]", tk, i)
			switch {
			case cl.ID == "":
				v.add(k+".id", "required")
			case !idRE.MatchString(cl.ID):
				v.add(k+".id", "invalid client id %q (letters, digits, '.', '_' and '-', at most 64)", cl.ID)
			case clientIDs[cl.ID] != "":
				v.add(k+".id", "duplicate client id %q (also %s; client ids are unique across tenants)", cl.ID, clientIDs[cl.ID])
			default:
				clientIDs[cl.ID] = k
			}
			switch {
			case !cl.Public && cl.Secret == "":
				v.add(k+".secret", "required for a confidential client (or set public: true)")
			case cl.Public && cl.Secret != "":
				v.add(k+".secret", "a public client has no secret")
			}
			if len(cl.Grants) == 0 {
				v.add(k+".grants", "at least one grant is required (%s)", strings.Join(Grants, ", "))
			}
			seen := map[string]bool{}
			for j, g := range cl.Grants {
				gk := fmt.Sprintf("%s.grants[%d]", k, j)
				switch {
				case !oneOf(g, Grants...):
					v.add(gk, "unknown grant %q (want one of %s)", g, strings.Join(Grants, ", "))
				case seen[g]:
					v.add(gk, "duplicate grant %q", g)
				case g == "client_credentials" && cl.Public:
					v.add(gk, "a public client cannot use client_credentials")
				}
				seen[g] = true
			}
			if seen["client_credentials"] && cl.ServiceUser == "" {
				v.add(k+".serviceUser", "required with the client_credentials grant (the user its tokens act as)")
			}
			if cl.ServiceUser != "" && !hasUser(cl.ServiceUser) {
				v.add(k+".serviceUser", "unknown user %q", cl.ServiceUser)
			}
			if len(cl.Scopes) == 0 {
				v.add(k+".scopes", "at least one scope is required (e.g. openid profile api.readwrite)")
			}
			for j, s := range cl.Scopes {
				if !scopeRE.MatchString(s) {
					v.add(fmt.Sprintf("%s.scopes[%d]", k, j), "invalid scope %q", s)
				}
			}
			if cl.AccessTokenTTL < 0 {
				v.add(k+".accessTokenTTL", "must not be negative")
			}
			if cl.RateLimit != "" {
				if _, err := ParseRate(cl.RateLimit); err != nil {
					v.add(k+".rateLimit", "%v", err)
				}
			}
			for _, conn := range sortedKeys(cl.ConnectorRates) {
				if _, err := ParseRate(cl.ConnectorRates[conn]); err != nil {
					v.add(k+".connectorRates."+conn, "%v", err)
				}
			}
		}
		formKeys := map[string]bool{}
		for _, f := range t.Forms {
			formKeys[strings.ToLower(f.Key)] = true
		}
		for _, kf := range []struct {
			kind  string
			flows []Flow
		}{{"workflows", t.Workflows}, {"dataflows", t.Dataflows}} {
			kind, flows := kf.kind, kf.flows
			keys := map[string]int{}
			for i, f := range flows {
				k := fmt.Sprintf("%s.%s[%d]", tk, kind, i)
				switch {
				case f.Key == "":
					v.add(k+".key", "required")
				case dupIn(keys, f.Key, i):
					v.add(k+".key", "duplicate key %q", f.Key)
				}
				if f.Content.Kind == 0 {
					v.add(k+".content", "required (the definition: nodes, and inputs for a dataflow)")
				}
				if kind == "workflows" && !formKeys[strings.ToLower(f.Form)] {
					v.add(k+".form", "unknown form %q (want a key of this tenant's forms)", f.Form)
				}
				if kind == "dataflows" && f.Form != "" {
					v.add(k+".form", "only used by workflows")
				}
			}
		}
		if t.RateLimit != "" {
			if _, err := ParseRate(t.RateLimit); err != nil {
				v.add(tk+".rateLimit", "%v", err)
			}
		}

		apps := map[string]int{}
		for i, a := range t.Apps {
			k := fmt.Sprintf("%s.apps[%d].key", tk, i)
			switch {
			case a.Key == "":
				v.add(k, "required")
			case !keyRE.MatchString(a.Key):
				v.add(k, "invalid key %q (a letter, then letters, digits and _)", a.Key)
			case dupIn(apps, a.Key, i):
				v.add(k, "duplicate app key %q (also apps[%d])", a.Key, apps[a.Key])
			}
		}

		aliases := map[string]string{} // "kind\x00ns\x00value" → the entry that has it
		for i, u := range t.Users {
			validateAliases(v, fmt.Sprintf("%s.users[%d]", tk, i), "user", u.Aliases, aliases)
		}
		for i, d := range t.Departments {
			validateAliases(v, fmt.Sprintf("%s.departments[%d]", tk, i), "department", d.Aliases, aliases)
		}
		for i, r := range t.Roles {
			validateAliases(v, fmt.Sprintf("%s.roles[%d]", tk, i), "role", r.Aliases, aliases)
		}
		for i, f := range t.Forms {
			validateAliases(v, fmt.Sprintf("%s.forms[%d]", tk, i), "form", f.Aliases, aliases)
		}

		forms := map[string]int{}
		for i, f := range t.Forms {
			k := fmt.Sprintf("%s.forms[%d]", tk, i)
			lk := strings.ToLower(f.Key)
			switch {
			case f.Key == "":
				v.add(k+".key", "required")
			case !keyRE.MatchString(f.Key):
				v.add(k+".key", "invalid key %q (a letter, then letters, digits and _)", f.Key)
			case containsFold(builtinEntities, f.Key):
				v.add(k+".key", "%q is a built-in entity name", f.Key)
			case dupIn(forms, lk, i):
				v.add(k+".key", "duplicate form key %q (also forms[%d]; keys are case-insensitive)", f.Key, forms[lk])
			}
			switch _, ok := apps[f.App]; {
			case f.App == "":
				v.add(k+".app", "required")
			case !ok:
				v.add(k+".app", "unknown app %q", f.App)
			}
			if len(f.Fields) == 0 {
				v.add(k+".fields", "at least one field is required")
			}
			validateFields(v, k+".fields", f.Fields, false)
		}
	}
}

// aliasNSRE is a dialect namespace (core/alias's rule).
var aliasNSRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// validateAliases checks one entry's aliases: namespaces are lower-case
// names, values 1-128 bytes without control characters, and a value is
// given to one entry of a kind per namespace (seen, across the tenant).
func validateAliases(v *collector, k, kind string, m map[string]string, seen map[string]string) {
	for _, ns := range sortedKeys(m) {
		ak, val := k+".aliases."+ns, m[ns]
		switch {
		case !aliasNSRE.MatchString(ns):
			v.add(ak, "invalid namespace %q (a lower-case letter, then letters, digits and _, at most 32)", ns)
		case val == "" || len(val) > 128 || strings.IndexFunc(val, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
			v.add(ak, "invalid alias %q (1-128 bytes, no control characters)", val)
		default:
			key := kind + "\x00" + ns + "\x00" + val
			if other, dup := seen[key]; dup {
				v.add(ak, "duplicate %s alias %q (also %s)", ns, val, other)
			} else {
				seen[key] = k
			}
		}
	}
}

func validateFields(v *collector, key string, fs []Field, inTable bool) {
	seen := map[string]int{}
	for i, f := range fs {
		k := fmt.Sprintf("%s[%d]", key, i)
		lf := strings.ToLower(f.Field)
		switch {
		case f.Field == "":
			v.add(k+".field", "required")
		case !fieldKeyRE.MatchString(f.Field):
			v.add(k+".field", "invalid field key %q (letters, digits and _, not starting with a digit)", f.Field)
		case dupIn(seen, lf, i):
			v.add(k+".field", "duplicate field %q (also %s[%d]; keys are case-insensitive)", f.Field, key, seen[lf])
		}
		selectLike := oneOf(f.Type, "radio", "select", "checkbox", "select2")
		switch {
		case f.Type == "":
			v.add(k+".type", "required (one of %s)", strings.Join(FieldTypes, ", "))
		case !oneOf(f.Type, FieldTypes...):
			v.add(k+".type", "unknown field type %q (want one of %s)", f.Type, strings.Join(FieldTypes, ", "))
		case f.Type == "tableform" && inTable:
			v.add(k+".type", "a tableform cannot be nested in another tableform")
		case f.Type == "tableform" && len(f.Columns) == 0:
			v.add(k+".columns", "a tableform needs columns")
		case f.Type != "tableform" && len(f.Columns) > 0:
			v.add(k+".columns", "only a tableform has columns")
		case selectLike && len(f.Options) == 0:
			v.add(k+".options", "a %s field needs options", f.Type)
		case !selectLike && len(f.Options) > 0:
			v.add(k+".options", "only radio, select, checkbox and select2 fields have options")
		}
		values := map[string]bool{}
		for j, o := range f.Options {
			ok := fmt.Sprintf("%s.options[%d]", k, j)
			if o.Value == "" {
				v.add(ok, "an option needs a value")
			} else if values[o.Value] {
				v.add(ok, "duplicate option %q", o.Value)
			}
			values[o.Value] = true
		}
		if f.Type == "tableform" && !inTable {
			validateFields(v, k+".columns", f.Columns, true)
		}
	}
}

// deptCycle reports a parent cycle through department i as "a > b > a".
func deptCycle(ds []Department, idx map[string]int, i int) string {
	path := []string{ds[i].Code}
	visited := map[int]bool{i: true}
	for cur := i; ds[cur].Parent != ""; {
		next, ok := idx[ds[cur].Parent]
		if !ok {
			return ""
		}
		path = append(path, ds[next].Code)
		if next == i {
			return strings.Join(path, " > ")
		}
		if visited[next] {
			return "" // a cycle not through i: reported at its own members
		}
		visited[next] = true
		cur = next
	}
	return ""
}

func checkListen(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("invalid address %q (want host:port, e.g. 127.0.0.1:8080 or :8080)", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("invalid port %q in %q", port, addr)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Sprintf("invalid host %q in %q", host, addr)
	}
	return ""
}

// checkOrigin validates a CORS origin: scheme://host[:port], nothing else.
func checkOrigin(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.Contains(u.Host, "*") {
		return fmt.Sprintf("invalid origin %q (want \"*\" or scheme://host[:port], e.g. https://admin.example.com)", s)
	}
	return ""
}

func checkHTTPURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("invalid URL %q (want an absolute http:// or https:// URL)", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Sprintf("invalid URL %q (no query or fragment)", s)
	}
	return ""
}

// redact hides a password in a URL for error messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// dupIn records key at index i in m and reports whether it was already
// there (m keeps the first index).
func dupIn(m map[string]int, key string, i int) bool {
	if _, ok := m[key]; ok {
		return true
	}
	m[key] = i
	return false
}

func oneOf(s string, set ...string) bool { return slices.Contains(set, s) }

func containsFold(set []string, s string) bool {
	for _, x := range set {
		if strings.EqualFold(s, x) {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// ValidOperator reports whether op is a server.operators entry:
// "TENANT/USER" or "client:CLIENT", no part empty or padded.
func ValidOperator(op string) bool {
	if id, ok := strings.CutPrefix(op, "client:"); ok {
		return id != "" && strings.TrimSpace(id) == id && !strings.ContainsAny(id, "/")
	}
	tenant, user, ok := strings.Cut(op, "/")
	return ok && tenant != "" && user != "" && strings.TrimSpace(tenant) == tenant &&
		strings.TrimSpace(user) == user && !strings.Contains(user, "/")
}
