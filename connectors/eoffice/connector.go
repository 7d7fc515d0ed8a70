// Package eoffice is the e-office 10 (泛微 e-office) open-API connector: a
// system written against e-office changes its base URL and its
// open-platform app credentials (AgentId/Secret) and keeps working against
// the hub (spec eoffice.md). It is written only against plugins/sdk and
// registers itself as the built-in connector "eoffice".
//
// Mapping (spec §7): an open-platform app is a hub client (AgentId → client
// id, Secret → the client's secret, verified by the hub in constant time
// against its stored hash) with the app's user identification field in
// the connector's configuration; tokens are dialect tokens in the hub's
// token store (sdk.DialectTokenStore); users, departments and roles are the
// tenant's directory with e-office ids as core aliases (namespace
// "eoffice"); form-modeling tables are hub forms; attachments are hub
// files.
//
// Building blocks other route files reuse: Router (router.go), Call, OK /
// NoData / Fail (envelope.go, catalogue.go), DecodeRequest and ParseQuery
// (input.go), ParseList and CompileSearch (list.go). Workflow routes are
// registered by registerFlowRoutes (flow_routes.go).
package eoffice

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// ID is the connector's id (the YAML key under connectors:).
const ID = "eoffice"

// Version is the connector's version.
const Version = "0.1.0"

// aliasNS is the alias namespace of e-office ids (core/alias).
const aliasNS = "eoffice"

// RoutePrefixes are the deployment prefixes in front of /api/ the
// connector answers under (§1.1), below the hub's mount. The bare "/api"
// of the spec's list is not among them: the hub's native API owns /api
// (docs/DEVIATIONS.md).
var RoutePrefixes = []string{"/eoffice10/server/public", "/eoffice/server/public", "/server/public", "/server"}

var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions, http.MethodHead}

func init() { sdk.Register(Info()) }

// Info describes the connector: one catch-all route per prefix and
// method; the connector routes inside (router.go).
func Info() sdk.Info {
	var routes []sdk.Route
	for _, p := range RoutePrefixes {
		for _, m := range methods {
			routes = append(routes, sdk.Route{Method: m, Path: p + "/api/*", Auth: sdk.AuthConnector})
		}
	}
	return sdk.Info{
		ID:            ID,
		Version:       Version,
		Description:   "e-office 10 (泛微) open API: /eoffice10/server/public/api/… with AgentId/Secret tokens",
		Routes:        routes,
		ErrorEnvelope: errorEnvelope(),
		New:           New,
	}
}

// AppConfig is one open-platform app (§2.1).
type AppConfig struct {
	// AgentID is the app's AgentId ("100001").
	AgentID string `json:"agentId"`
	// Client is the hub client whose secret is the app's Secret and whose
	// tenant the app belongs to. Default: the AgentId.
	Client string `json:"client"`
	// UserField is the app's user identification field: user_accounts
	// (login name, default), user_id (e-office user id), user_job_number
	// (employee code) or phone_number.
	UserField string `json:"userField"`
}

// FormConfig maps a form-modeling table (§5.7) onto a hub form.
type FormConfig struct {
	// TableKey is the e-office table key ("1001").
	TableKey string `json:"tableKey"`
	// Form is the hub form key.
	Form string `json:"form"`
	// Fields map e-office field codes (field_1, DATA_1) to hub field keys;
	// fields without an entry keep their hub key.
	Fields map[string]string `json:"fields"`
}

// Settings is the connector's configuration (the YAML config: block).
type Settings struct {
	// Prefixes limit the deployment prefixes answered (a subset of
	// RoutePrefixes). Default: all.
	Prefixes []string `json:"prefixes"`
	// Apps are the open-platform apps.
	Apps []AppConfig `json:"apps"`
	// Forms are the form-modeling tables.
	Forms []FormConfig `json:"forms"`
	// Documents names the documents form (§5.6).
	Documents DocumentsConfig `json:"documents"`
	// TimeZone is the IANA zone of date strings. Default: Asia/Shanghai.
	TimeZone string `json:"timeZone"`
	// CompanyName is login-info's company_name. Default: "".
	CompanyName string `json:"companyName"`
	// RateLimitStatus is the HTTP status of a rate-limited request: 200
	// (default, e-office's envelope with 0x000018) or 429.
	RateLimitStatus int `json:"rateLimitStatus"`

	loc *time.Location
}

// Connector is the e-office connector; its only state is its settings and
// its route table.
type Connector struct {
	cfg    atomic.Pointer[Settings]
	router *Router
}

// New returns a connector with the default configuration.
func New() sdk.Connector {
	c := &Connector{router: &Router{}}
	registerRoutes(c.router)
	c.cfg.Store(&Settings{TimeZone: defaultTimeZone, loc: shanghai(), Prefixes: RoutePrefixes})
	return c
}

// Info implements sdk.Connector.
func (*Connector) Info() sdk.Info { return Info() }

const defaultTimeZone = "Asia/Shanghai"

func shanghai() *time.Location {
	if loc, err := time.LoadLocation(defaultTimeZone); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// Configure implements sdk.Configurer.
func (c *Connector) Configure(raw []byte) error {
	s := Settings{TimeZone: defaultTimeZone}
	if len(raw) > 0 && string(raw) != "null" {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return sdk.Errorf(sdk.Invalid, "eoffice config: %v", err)
		}
	}
	if len(s.Prefixes) == 0 {
		s.Prefixes = RoutePrefixes
	}
	for _, p := range s.Prefixes {
		if !contains(RoutePrefixes, strings.TrimRight(p, "/")) {
			return sdk.Errorf(sdk.Invalid, "eoffice config: prefix %q is not one of %v", p, RoutePrefixes)
		}
	}
	seen := map[string]bool{}
	for i := range s.Apps {
		a := &s.Apps[i]
		if a.AgentID == "" || seen[a.AgentID] {
			return sdk.Errorf(sdk.Invalid, "eoffice config: apps[%d]: agentId missing or repeated", i)
		}
		seen[a.AgentID] = true
		if a.Client == "" {
			a.Client = a.AgentID
		}
		if a.UserField == "" {
			a.UserField = "user_accounts"
		}
		if _, ok := userFields[a.UserField]; !ok {
			return sdk.Errorf(sdk.Invalid, "eoffice config: apps[%d]: userField %q is not one of user_accounts, user_id, user_job_number, phone_number", i, a.UserField)
		}
	}
	for i, f := range s.Forms {
		if f.TableKey == "" || f.Form == "" {
			return sdk.Errorf(sdk.Invalid, "eoffice config: forms[%d]: tableKey and form are required", i)
		}
	}
	if s.RateLimitStatus != 0 && s.RateLimitStatus != 200 && s.RateLimitStatus != 429 {
		return sdk.Errorf(sdk.Invalid, "eoffice config: rateLimitStatus must be 200 or 429")
	}
	s.loc = shanghai()
	if s.TimeZone != defaultTimeZone {
		loc, err := time.LoadLocation(s.TimeZone)
		if err != nil {
			return sdk.Errorf(sdk.Invalid, "eoffice config: timeZone %q: %v", s.TimeZone, err)
		}
		s.loc = loc
	}
	c.cfg.Store(&s)
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// app returns the configured app with agentID.
func (s *Settings) app(agentID string) *AppConfig {
	for i := range s.Apps {
		if s.Apps[i].AgentID == agentID {
			return &s.Apps[i]
		}
	}
	return nil
}

// registerRoutes fills the route table: tokens, the directory, form
// modeling, documents and attachments here; workflow in flow_routes.go.
func registerRoutes(r *Router) {
	registerTokenRoutes(r)
	registerDirectoryRoutes(r)
	registerFormRoutes(r)
	registerFileRoutes(r)
	registerDocumentRoutes(r)
	registerUnsupportedRoutes(r)
	registerFlowRoutes(r)
}

// Handle implements sdk.Connector: decode, route, check the token, run
// the handler, render the envelope. Errors never leave as Go errors:
// every failure is an e-office envelope.
func (c *Connector) Handle(ctx context.Context, req *sdk.Request, host sdk.Host) (*sdk.Response, error) {
	start := time.Now()
	cfg := c.cfg.Load()
	if !prefixAllowed(cfg, req) {
		_, url := apiPath(req)
		return OK404(start, url), nil
	}
	dec := DecodeRequest(req)
	call := &Call{Req: req, Host: host, In: dec.In, Files: dec.Files, Start: start, Cfg: cfg,
		Lang: NormLang(dec.In.Str("local")),
		Log:  slog.Default().With("connector", ID, "request_id", req.RequestID)}
	if strings.EqualFold(req.Method, http.MethodOptions) {
		return preflight(req), nil
	}
	call.Method = effectiveMethod(req, dec.In)
	path, url := apiPath(req)
	var segs []string
	if path != "" {
		segs = strings.Split(path, "/")
	}
	rt, params, known := c.router.match(call.Method, segs)
	if rt == nil {
		if !known {
			return OK404(start, url), nil
		}
		return ErrorResponse(Fail(CodeAPIError), call.Lang, start), nil
	}
	call.Params = params
	if !rt.Public {
		if err := call.authenticate(ctx); err != nil {
			return call.errorResponse(err), nil
		}
	}
	data, err := rt.Handler(ctx, call)
	if err != nil {
		return call.errorResponse(err), nil
	}
	if resp, ok := data.(*sdk.Response); ok {
		return resp, nil
	}
	return OK(start, data)
}

// errorResponse renders err for this call; a rate-limit refusal takes the
// configured status.
func (c *Call) errorResponse(err error) *sdk.Response {
	e := FromHost(err, nil)
	if e.Code == CodeAPIError || e.Code == CodeMySQL {
		c.Log.Warn("eoffice: request failed", "err", err)
	}
	if e.Code == CodeRateLimited && c.Cfg.RateLimitStatus == http.StatusTooManyRequests {
		e = &Error{Code: e.Code, Status: http.StatusTooManyRequests, Err: err}
	}
	return ErrorResponse(e, c.Lang, c.Start)
}

func prefixAllowed(cfg *Settings, req *sdk.Request) bool {
	for _, p := range cfg.Prefixes {
		if req.Route == strings.TrimRight(p, "/")+"/api/*" {
			return true
		}
	}
	return false
}

// OK404 is the unknown-route answer (§3): HTTP 200, code "404", message
// "404:<URL without the query string>".
func OK404(start time.Time, url string) *sdk.Response {
	status, b := ErrorBody(&Error{Code: "404", Message: "404:" + url}, LangZH, start)
	return jsonResponse(status, b)
}

func preflight(req *sdk.Request) *sdk.Response {
	h := http.Header{}
	origin := req.Headers.Get("Origin")
	if origin == "" {
		origin = "*"
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-HTTP-Method-Override")
	h.Set("Access-Control-Max-Age", "86400")
	return &sdk.Response{Status: http.StatusNoContent, Headers: h}
}
