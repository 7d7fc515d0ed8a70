// Package dabei is the Dabei (搭贝) open-API connector: a system written
// against Dabei's open API (apps, forms, records, workflow tasks, the
// organisation, the own-IdP SSO codes) changes its base URL and its
// client_id/client_secret and keeps working against the hub
// (docs/spec/dabei.md). It is written only against plugins/sdk and
// registers itself as the built-in connector "dabei".
//
// Mapping (spec 10): the credential pair is a hub client (verified by the
// hub before the hop, AuthClientSecret); the acting user_id is a user of
// the client's tenant and every data call acts as that user; apps, forms,
// records, users and departments are the tenant's, their 32-hex Dabei ids
// are core aliases (namespace "dabei") or the GUID spelling of hub ids
// without dashes; SSO codes are dialect tokens (300 s).
package dabei

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
const ID = "dabei"

// Version is the connector's version.
const Version = "0.1.0"

// aliasNS is the alias namespace of Dabei ids.
const aliasNS = "dabei"

// Credentials are where the hub reads the credential pair (spec 1.3):
// headers client_id/client_secret (also X-Client-Id/X-Client-Secret),
// then the query parameters of the same names.
var Credentials = sdk.ClientCredentials{
	IDHeaders:     []string{"client_id", "X-Client-Id"},
	SecretHeaders: []string{"client_secret", "X-Client-Secret"},
	IDQuery:       []string{"client_id"},
	SecretQuery:   []string{"client_secret"},
}

// route is one Dabei endpoint.
type route struct {
	method  string
	path    string // Fiber pattern relative to the mount
	handler func(ctx context.Context, c *Call) (*result, error)
}

// routes is the endpoint catalogue (spec 3).
var routes = []route{
	{http.MethodGet, "/oauth2/authority_code", authorityCode},
	{http.MethodGet, "/oauth2/users/user_info", userInfo},
	{http.MethodPost, "/oauth2/users/user_info", userInfo},
	{http.MethodGet, "/apps", listApps},
	{http.MethodGet, "/apps/:app_id/forms", listForms},
	{http.MethodGet, "/apps/:app_id/forms/:form_id/fields", listFields},
	{http.MethodPost, "/apps/:app_id/forms/:form_id/record_create", recordCreate},
	{http.MethodPost, "/apps/:app_id/forms/:form_id/record_update", recordUpdate},
	{http.MethodPost, "/apps/:app_id/forms/:form_id/record_delete", recordDelete},
	{http.MethodPost, "/apps/:app_id/forms/:form_id/records", recordList},
	{http.MethodGet, "/apps/:app_id/forms/:form_id/records/:record_id", recordGet},
	{http.MethodGet, "/apps/:app_id/forms/:form_id/records/:record_id/tasks", taskList},
	{http.MethodPost, "/apps/:app_id/forms/:form_id/records/:record_id/tasks/:task_id/submit", taskSubmit},
	{http.MethodPost, "/apps/:app_id/forms/:form_id/records/:record_id/tasks/:task_id/deny", taskDeny},
	{http.MethodPost, "/apps/:app_id/forms/:form_id/records/:record_id/tasks/:task_id/transfer", taskTransfer},
	{http.MethodPost, "/apps/:app_id/forms/:form_id/records/:record_id/tasks/:task_id/revoke", taskRevoke},
	{http.MethodPost, "/apps/:app_id/forms/:form_id/records/:record_id/tasks/:task_id/withdraw", taskRevoke},
	{http.MethodPost, "/apps/:app_id/forms/:form_id/records/:record_id/tasks/:task_id/cancel", taskRevoke},
	{http.MethodGet, "/orgs", listOrgs},
	{http.MethodGet, "/orgs/:org_id", getOrg},
	{http.MethodGet, "/users", listUsers},
	{http.MethodGet, "/users/:user_id", getUser},
	{http.MethodPost, "/users/:user_id", getUser},
}

// catchAll is the route that brings every other path under the mount to
// the connector, so that unknown paths and wrong methods answer the Dabei
// envelope (spec 8: 404 / 405).
const catchAll = "/*"

var allMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead, http.MethodOptions}

func init() { sdk.Register(Info()) }

// Info describes the connector: one AuthClientSecret route per endpoint,
// then the catch-all.
func Info() sdk.Info {
	rs := make([]sdk.Route, 0, len(routes)+len(allMethods))
	for _, r := range routes {
		rs = append(rs, sdk.Route{Method: r.method, Path: r.path, Auth: sdk.AuthClientSecret, Credentials: Credentials})
	}
	for _, m := range allMethods {
		rs = append(rs, sdk.Route{Method: m, Path: catchAll, Auth: sdk.AuthNone})
	}
	return sdk.Info{
		ID:            ID,
		Version:       Version,
		Description:   "Dabei (搭贝) open API: /apps, /apps/{app_id}/forms/{form_id}/records, /orgs, /users, /oauth2 with client_id/client_secret",
		Routes:        rs,
		ErrorEnvelope: errorEnvelope(),
		New:           New,
	}
}

// Settings is the connector's configuration (the YAML config: block).
type Settings struct {
	// TimeZone is the IANA zone of date strings. Default: Asia/Shanghai.
	TimeZone string `json:"timeZone"`
	// StringData lists the endpoints whose data is a JSON-encoded string
	// (spec 1.4): any of "orgs", "org", "users", "user". Default: all four.
	StringData []string `json:"stringData"`
	// RevokeOnTransferPath treats a transfer without transferIds and with
	// a user_id as revoke (spec 6.5). Default: true.
	RevokeOnTransferPath *bool `json:"revokeOnTransferPath"`
	// RecordListShape is the record list's data (spec 5.4): "array"
	// (default; paging in extra envelope keys) or "object"
	// ({"list":[…],"total":n}).
	RecordListShape string `json:"recordListShape"`
	// BareTaskList answers the task list as a bare JSON array, without
	// the envelope, as the vendor sample shows (spec 6.1). Default: false.
	BareTaskList bool `json:"bareTaskList"`

	loc        *time.Location
	stringData map[string]bool
}

// Connector is the Dabei connector: its only state is its settings.
type Connector struct {
	cfg atomic.Pointer[Settings]
}

// New returns a connector with the default configuration.
func New() sdk.Connector {
	c := &Connector{}
	if err := c.Configure(nil); err != nil {
		panic(err)
	}
	return c
}

// Info implements sdk.Connector.
func (*Connector) Info() sdk.Info { return Info() }

// Configure implements sdk.Configurer.
func (c *Connector) Configure(raw []byte) error {
	s := Settings{}
	if len(raw) > 0 && string(raw) != "null" {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return sdk.Errorf(sdk.Invalid, "dabei config: %v", err)
		}
	}
	if s.TimeZone == "" {
		s.TimeZone = "Asia/Shanghai"
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		if s.TimeZone != "Asia/Shanghai" {
			return sdk.Errorf(sdk.Invalid, "dabei config: timeZone %q: %v", s.TimeZone, err)
		}
		loc = time.FixedZone("CST", 8*3600)
	}
	s.loc = loc
	if s.StringData == nil {
		s.StringData = []string{"orgs", "org", "users", "user"}
	}
	s.stringData = map[string]bool{}
	for _, k := range s.StringData {
		switch k {
		case "orgs", "org", "users", "user":
			s.stringData[k] = true
		default:
			return sdk.Errorf(sdk.Invalid, "dabei config: stringData %q is not one of orgs, org, users, user", k)
		}
	}
	switch s.RecordListShape {
	case "":
		s.RecordListShape = "array"
	case "array", "object":
	default:
		return sdk.Errorf(sdk.Invalid, "dabei config: recordListShape %q is not array or object", s.RecordListShape)
	}
	if s.RevokeOnTransferPath == nil {
		t := true
		s.RevokeOnTransferPath = &t
	}
	c.cfg.Store(&s)
	return nil
}

// Call is one request in progress.
type Call struct {
	Req  *sdk.Request
	Host sdk.Host
	// Svc is the verified client's principal (its service user).
	Svc *sdk.Principal
	// In is the parsed input.
	In  *Input
	Cfg *Settings
	Log *slog.Logger
}

// Param returns a path parameter.
func (c *Call) Param(k string) string { return c.Req.PathParams[k] }

// Handle implements sdk.Connector: route, check the verified client, parse
// the input, run the handler, render the envelope. Every failure is a Dabei
// envelope; a panic in a handler is one too.
func (c *Connector) Handle(ctx context.Context, req *sdk.Request, host sdk.Host) (resp *sdk.Response, err error) {
	cfg := c.cfg.Load()
	log := slog.Default().With("connector", ID, "request_id", req.RequestID)
	defer func() {
		if r := recover(); r != nil {
			log.Error("dabei: panic", "panic", r)
			resp, err = errorResponse(&Error{Code: CodeInternal}), nil
		}
	}()
	if req.Route == catchAll || req.Route == "" {
		return unrouted(req), nil
	}
	var rt *route
	for i := range routes {
		if routes[i].path == req.Route && strings.EqualFold(routes[i].method, req.Method) {
			rt = &routes[i]
			break
		}
	}
	if rt == nil {
		return unrouted(req), nil
	}
	if req.Principal == nil || req.Principal.Tenant == "" {
		return errorResponse(Fail(CodeBadCredentials)), nil
	}
	in, ierr := ParseInput(req)
	if ierr != nil {
		return errorResponse(ierr), nil
	}
	call := &Call{Req: req, Host: host, Svc: req.Principal, In: in, Cfg: cfg, Log: log}
	res, herr := rt.handler(ctx, call)
	if herr == nil && res != nil && res.bare {
		b, err := marshal(res.data)
		if err != nil {
			return errorResponse(&Error{Code: CodeInternal, Err: err}), nil
		}
		return jsonResponse(http.StatusOK, b), nil
	}
	if herr != nil {
		e := FromHost(herr)
		if e.Code == CodeInternal {
			log.Warn("dabei: request failed", "err", herr)
		}
		return errorResponse(e), nil
	}
	return okResponse(res)
}

// unrouted answers a path no endpoint has (404, errcode 10002) or a known
// path with another method (405, errcode 10001).
func unrouted(req *sdk.Request) *sdk.Response {
	rest, ok := req.PathParams["*"]
	if !ok {
		rest = req.PathParams["*1"] // Fiber's name of the first wildcard
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	for _, r := range routes {
		if matchPattern(r.path, segs) {
			return errorStatus(http.StatusMethodNotAllowed, &Error{Code: CodeInvalid, Msg: "请求方法不支持：" + req.Method})
		}
	}
	return errorStatus(http.StatusNotFound, &Error{Code: CodeNotFound, Msg: "接口不存在"})
}

func matchPattern(pattern string, segs []string) bool {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	if len(ps) != len(segs) {
		return false
	}
	for i, p := range ps {
		if strings.HasPrefix(p, ":") {
			if segs[i] == "" {
				return false
			}
			continue
		}
		if p != segs[i] {
			return false
		}
	}
	return true
}
