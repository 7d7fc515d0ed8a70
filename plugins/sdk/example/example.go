// Package example is a connector that exercises every Host API call through
// a tiny JSON dialect. It is the reference for connector authors and the
// plugin the hub's tests run as a real process. It registers itself as
// "example".
package example

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// ID is the connector's id.
const ID = "example"

func init() { sdk.Register(Info()) }

// Info describes the example connector.
func Info() sdk.Info {
	b, c, n := sdk.AuthBearer, sdk.AuthConnector, sdk.AuthNone
	return sdk.Info{
		ID:          ID,
		Version:     "1.0.0",
		Description: "reference connector exercising the whole Host API",
		Routes: []sdk.Route{
			{Method: "GET", Path: "/ping", Auth: n},
			{Method: "GET", Path: "/slow", Auth: n},
			{Method: "GET", Path: "/panic", Auth: n},
			{Method: "GET", Path: "/config", Auth: n},
			{Method: "POST", Path: "/token", Auth: c},
			{Method: "POST", Path: "/refresh", Auth: n},
			{Method: "GET", Path: "/whoami", Auth: c},
			{Method: "POST", Path: "/revoke", Auth: b},
			{Method: "GET", Path: "/forms", Auth: b},
			{Method: "GET", Path: "/forms/:key", Auth: b},
			{Method: "GET", Path: "/records/:form", Auth: b},
			{Method: "POST", Path: "/records/:form", Auth: b},
			{Method: "POST", Path: "/records/:form/batch", Auth: b},
			{Method: "POST", Path: "/records/:form/batch-get", Auth: b},
			{Method: "POST", Path: "/records/:form/draft", Auth: b},
			{Method: "POST", Path: "/records/:form/submit", Auth: b},
			{Method: "POST", Path: "/files", Auth: b},
			{Method: "POST", Path: "/dataflow/:key", Auth: b},
			{Method: "GET", Path: "/records/:form/:id", Auth: b},
			{Method: "PATCH", Path: "/records/:form/:id", Auth: b},
			{Method: "DELETE", Path: "/records/:form/:id", Auth: b},
			{Method: "GET", Path: "/directory/:kind", Auth: b},
			// Host API v2: generic entities, workflow, aliases.
			{Method: "GET", Path: "/entity/:entity", Auth: b},
			{Method: "POST", Path: "/entity/:entity", Auth: b},
			{Method: "GET", Path: "/entity/:entity/:id", Auth: b},
			{Method: "PATCH", Path: "/entity/:entity/:id", Auth: b},
			{Method: "DELETE", Path: "/entity/:entity/:id", Auth: b},
			{Method: "GET", Path: "/tasks/:box", Auth: b},
			{Method: "POST", Path: "/workflow/:action", Auth: b},
			{Method: "POST", Path: "/aliases", Auth: b},
			// The host verifies X-Client-Id/X-Client-Secret (or ?client_id=
			// &client_secret=) before the hop and hands over the principal.
			{Method: "GET", Path: "/engine", Auth: sdk.AuthClientSecret, Credentials: sdk.ClientCredentials{
				IDHeaders: []string{"X-Client-Id"}, SecretHeaders: []string{"X-Client-Secret"},
				IDQuery: []string{"client_id"}, SecretQuery: []string{"client_secret"}}},
			{Method: "GET", Path: "/engine/hits", Auth: n},
		},
		ErrorEnvelope: sdk.ErrorEnvelope{
			ContentType:  "application/json",
			BodyTemplate: `{"ok":false,"code":{{json .Code}},"message":{{json .Message}}}`,
		},
		New: New,
	}
}

// Connector is the example connector. Its only state is configuration and
// a counter of the requests that reached GET /engine (tests read it to show
// that refused credentials never reach the plugin).
type Connector struct {
	mu         sync.RWMutex
	greeting   string
	engineHits atomic.Int64
}

// New returns a connector.
func New() sdk.Connector { return &Connector{greeting: "hello"} }

// Info implements sdk.Connector.
func (*Connector) Info() sdk.Info { return Info() }

// Configure implements sdk.Configurer: {"greeting": "..."}.
func (c *Connector) Configure(raw []byte) error {
	if len(raw) == 0 {
		return nil
	}
	var cfg struct {
		Greeting string `json:"greeting"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return sdk.Errorf(sdk.Invalid, "example config: %v", err)
	}
	c.mu.Lock()
	c.greeting = cfg.Greeting
	c.mu.Unlock()
	return nil
}

func ok(v any) (*sdk.Response, error) {
	return sdk.JSON(http.StatusOK, map[string]any{"ok": true, "result": v})
}

func decode(req *sdk.Request, v any) error {
	if err := json.Unmarshal(req.Body, v); err != nil {
		return sdk.Errorf(sdk.Invalid, "body is not valid JSON: %v", err)
	}
	return nil
}

func bearer(req *sdk.Request) string {
	return strings.TrimPrefix(req.Headers.Get("Authorization"), "Bearer ")
}

// Handle implements sdk.Connector.
func (c *Connector) Handle(ctx context.Context, req *sdk.Request, host sdk.Host) (*sdk.Response, error) {
	p := req.Principal
	form := req.PathParams["form"]
	switch req.Method + " " + req.Route {
	case "GET /ping":
		return &sdk.Response{Status: 200, Headers: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("pong")}, nil
	case "GET /slow":
		ms, _ := strconv.Atoi(req.Query.Get("ms"))
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
			return ok("slept")
		case <-ctx.Done():
			return nil, sdk.Errorf(sdk.Unavailable, "canceled")
		}
	case "GET /panic":
		panic("example: deliberate panic")
	case "GET /engine":
		// The principal is the verified client's; no Host call. What the
		// connector saw of the credentials is echoed: the secret is not
		// among it.
		c.engineHits.Add(1)
		return ok(map[string]any{"principal": p, "clientIdHeader": req.Headers.Get("X-Client-Id"),
			"secretHeader": req.Headers.Get("X-Client-Secret"), "secretQuery": req.Query.Get("client_secret")})
	case "GET /engine/hits":
		return ok(c.engineHits.Load())
	case "GET /config":
		c.mu.RLock()
		defer c.mu.RUnlock()
		return ok(c.greeting)
	case "POST /token":
		var in struct{ ClientID, Secret, UserID string }
		if err := decode(req, &in); err != nil {
			return nil, err
		}
		cp, err := host.VerifyClient(ctx, in.ClientID, in.Secret)
		if err != nil {
			return nil, err
		}
		tok, err := host.IssueToken(ctx, cp, in.UserID, nil)
		if err != nil {
			return nil, err
		}
		return ok(tok)
	case "POST /refresh":
		var in struct{ ClientID, RefreshToken string }
		if err := decode(req, &in); err != nil {
			return nil, err
		}
		tok, err := host.RefreshToken(ctx, in.ClientID, in.RefreshToken)
		if err != nil {
			return nil, err
		}
		return ok(tok)
	case "GET /whoami":
		who, err := host.ResolveToken(ctx, bearer(req))
		if err != nil {
			return nil, err
		}
		return ok(who)
	case "POST /revoke":
		var in struct{ Token string }
		if err := decode(req, &in); err != nil {
			return nil, err
		}
		if err := host.RevokeToken(ctx, p, in.Token); err != nil {
			return nil, err
		}
		return ok(nil)
	case "GET /forms":
		forms, err := host.ListForms(ctx, p)
		if err != nil {
			return nil, err
		}
		return ok(forms)
	case "GET /forms/:key":
		f, err := host.GetForm(ctx, p, req.PathParams["key"])
		if err != nil {
			return nil, err
		}
		return ok(f)
	case "GET /records/:form":
		q, err := parseQuery(req)
		if err != nil {
			return nil, err
		}
		var opts []sdk.ReadOption
		if e := req.Query.Get("expand"); e != "" {
			opts = append(opts, sdk.Expand(e))
		}
		if req.Query.Get("form") == "1" {
			opts = append(opts, sdk.WithForm())
		}
		pg, err := host.FindRecords(ctx, p, form, q, req.Query.Get("count") == "1", opts...)
		if err != nil {
			return nil, err
		}
		return ok(pg)
	case "POST /records/:form":
		var data map[string]any
		if err := decode(req, &data); err != nil {
			return nil, err
		}
		rec, err := host.CreateRecord(ctx, p, form, data)
		if err != nil {
			return nil, err
		}
		return sdk.JSON(http.StatusCreated, map[string]any{"ok": true, "result": rec})
	case "POST /records/:form/batch":
		var data []map[string]any
		if err := decode(req, &data); err != nil {
			return nil, err
		}
		recs, err := host.BatchCreateRecords(ctx, p, form, data)
		if err != nil {
			return nil, err
		}
		return ok(recs)
	case "POST /records/:form/batch-get":
		var ids []string
		if err := decode(req, &ids); err != nil {
			return nil, err
		}
		recs, err := host.BatchGetRecords(ctx, p, form, ids)
		if err != nil {
			return nil, err
		}
		return ok(recs)
	case "POST /records/:form/draft", "POST /records/:form/submit":
		var data []map[string]any
		if err := decode(req, &data); err != nil {
			return nil, err
		}
		opts := sdk.CreateOptions{Draft: true}
		if strings.HasSuffix(req.Route, "/submit") {
			opts = sdk.CreateOptions{StartWorkflow: true, Submit: req.Query.Get("hold") != "1"}
			if in := req.Query.Get("initiator"); in != "" {
				opts.Initiators = []string{in}
			}
		}
		recs, err := host.CreateRecords(ctx, p, form, data, opts)
		if err != nil {
			return nil, err
		}
		return ok(recs)
	case "POST /files":
		// Upload the body as a file named by ?name=, read it back, delete
		// it and show that it is gone: the three file calls in one route.
		info, err := host.UploadFile(ctx, p, sdk.FileUpload{Name: req.Query.Get("name"), Folder: req.Query.Get("folder"),
			Content: req.Body})
		if err != nil {
			return nil, err
		}
		id, _ := info["id"].(string)
		f, err := host.ReadFile(ctx, p, id)
		if err != nil {
			return nil, err
		}
		if err := host.DeleteFile(ctx, p, id); err != nil {
			return nil, err
		}
		_, gone := host.ReadFile(ctx, p, id)
		return ok(map[string]any{"fileName": f.Info["fileName"], "size": f.Info["size"],
			"contentType": f.Info["contentType"], "content": string(f.Content),
			"goneAfterDelete": sdk.CodeOf(gone) == sdk.NotFound})
	case "POST /dataflow/:key":
		var input map[string]any
		if err := decode(req, &input); err != nil {
			return nil, err
		}
		res, err := host.RunDataflow(ctx, p, req.PathParams["key"], input)
		if err != nil {
			return nil, err
		}
		return ok(res)
	case "GET /records/:form/:id":
		// ?expand= is a native $expand (v2), e.g. sdk.OwnerExpand.
		rec, err := host.GetRecord(ctx, p, form, req.PathParams["id"], sdk.Expand(req.Query.Get("expand")))
		if err != nil {
			return nil, err
		}
		return ok(rec)
	case "PATCH /records/:form/:id":
		var data map[string]any
		if err := decode(req, &data); err != nil {
			return nil, err
		}
		rec, err := host.UpdateRecord(ctx, p, form, req.PathParams["id"], data)
		if err != nil {
			return nil, err
		}
		return ok(rec)
	case "DELETE /records/:form/:id":
		if err := host.DeleteRecord(ctx, p, form, req.PathParams["id"]); err != nil {
			return nil, err
		}
		return &sdk.Response{Status: http.StatusNoContent}, nil
	case "GET /directory/:kind":
		q, err := parseQuery(req)
		if err != nil {
			return nil, err
		}
		find := map[string]func(context.Context, *sdk.Principal, sdk.Query, bool) (sdk.Page, error){
			"users": host.FindUsers, "departments": host.FindDepartments, "roles": host.FindRoles,
		}[req.PathParams["kind"]]
		if find == nil {
			return nil, sdk.Errorf(sdk.NotFound, "unknown directory %q", req.PathParams["kind"])
		}
		pg, err := find(ctx, p, q, req.Query.Get("count") == "1")
		if err != nil {
			return nil, err
		}
		return ok(pg)
	}
	if resp, handled, err := handleV2(ctx, req, host, p); handled {
		return resp, err
	}
	return nil, sdk.Errorf(sdk.NotFound, "no handler for %s %s", req.Method, req.Route)
}

// handleV2 serves the Host API v2 routes: one Host call each.
func handleV2(ctx context.Context, req *sdk.Request, host sdk.Host, p *sdk.Principal) (*sdk.Response, bool, error) {
	entity, id := req.PathParams["entity"], req.PathParams["id"]
	ifMatch, _ := strconv.ParseInt(req.Query.Get("ifMatch"), 10, 64)
	o := sdk.EntityOptions{Count: req.Query.Get("count") == "1", Expand: req.Query.Get("expand"), IfMatch: ifMatch}
	var v any
	var err error
	switch req.Method + " " + req.Route {
	case "GET /entity/:entity":
		var q sdk.Query
		if q, err = parseQuery(req); err == nil {
			v, err = host.EntityFind(ctx, p, entity, q, o)
		}
	case "GET /entity/:entity/:id":
		v, err = host.EntityGet(ctx, p, entity, id, o)
	case "POST /entity/:entity", "PATCH /entity/:entity/:id":
		var body sdk.Doc
		if err = decode(req, &body); err != nil {
			return nil, true, err
		}
		if req.Method == "POST" {
			v, err = host.EntityCreate(ctx, p, entity, body)
		} else {
			v, err = host.EntityUpdate(ctx, p, entity, id, body, o)
		}
	case "DELETE /entity/:entity/:id":
		if err = host.EntityDelete(ctx, p, entity, id, o); err == nil {
			return &sdk.Response{Status: http.StatusNoContent}, true, nil
		}
	case "GET /tasks/:box":
		v, err = host.WorkflowTasks(ctx, p, sdk.TaskQuery{Box: req.PathParams["box"], DataID: req.Query.Get("dataId"),
			Count: req.Query.Get("count") == "1"})
	case "POST /workflow/:action":
		var a sdk.WorkflowAction
		if err = decode(req, &a); err != nil {
			return nil, true, err
		}
		a.Action = req.PathParams["action"]
		v, err = host.WorkflowAct(ctx, p, a)
	case "POST /aliases":
		var r sdk.AliasRequest
		if err = decode(req, &r); err != nil {
			return nil, true, err
		}
		v, err = host.Aliases(ctx, p, r)
	default:
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	resp, err := ok(v)
	return resp, true, err
}

// parseQuery reads a deliberately tiny filter dialect: eq=path:value (string
// equality, path dot-separated), sort=path or -path, limit, offset.
func parseQuery(req *sdk.Request) (sdk.Query, error) {
	q := sdk.Query{Limit: -1}
	var filters []sdk.Expr
	for _, f := range req.Query["eq"] {
		path, val, found := strings.Cut(f, ":")
		if !found {
			return q, sdk.Errorf(sdk.Invalid, "eq: want path:value").WithTarget("eq")
		}
		filters = append(filters, sdk.Cmp{Path: strings.Split(path, "."), Op: sdk.Eq, Value: val})
	}
	q.Filter = sdk.AndOf(filters...)
	if s := req.Query.Get("sort"); s != "" {
		desc := strings.HasPrefix(s, "-")
		q.Sort = []sdk.Sort{{Path: strings.Split(strings.TrimPrefix(s, "-"), "."), Desc: desc}}
	}
	for name, dst := range map[string]*int{"limit": &q.Limit, "offset": &q.Offset} {
		if v := req.Query.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return q, sdk.Errorf(sdk.Invalid, "%s must be an integer", name).WithTarget(name)
			}
			*dst = n
		}
	}
	return q, nil
}

var (
	_ sdk.Connector  = (*Connector)(nil)
	_ sdk.Configurer = (*Connector)(nil)
)
