// Package exampletest holds the fixtures the plugin tests share: a seeded
// in-memory host and a table of requests to the example connector that
// together call every Host API method, including error paths and a second
// tenant whose data must stay invisible.
package exampletest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

// Tenants of the fixture.
const (
	Tenant      = "t1"
	OtherTenant = "t2"
)

// User is the bearer principal of the fixture's requests.
var User = sdk.Principal{Tenant: Tenant, UserID: "u1", UserCode: "alice", DisplayName: "Alice", Login: "alice",
	ClientID: "app1", Scopes: []string{"api.readwrite"}, Roles: []string{"admin"}}

// Seed fills h: forms "orders" in both tenants (with records), a client
// "app1"/"s3cret" of Tenant, users, departments and roles. It returns an
// access token of User.
func Seed(h *sdktest.MemHost) (token string) {
	fields := []sdk.Field{
		{Field: "title", Type: "input", Title: "Title", Required: true},
		{Field: "amount", Type: "number", Title: "Amount"},
		{Field: "status", Type: "select", Props: sdk.FieldProps{Options: []sdk.Option{{Value: "open", Label: "Open"}}}},
	}
	h.AddForm(Tenant, sdk.Form{ID: "f-orders", Key: "orders", Name: "Orders", AppID: "app", Fields: fields})
	h.AddForm(Tenant, sdk.Form{ID: "f-notes", Key: "notes", Name: "Notes", AppID: "app", Fields: []sdk.Field{{Field: "text", Type: "textarea"}}})
	h.AddForm(Tenant, sdk.Form{ID: "f-leave", Key: "leave", Name: "Leave", AppID: "app", UsingWorkflow: true,
		Fields: []sdk.Field{{Field: "days", Type: "number", Title: "Days"}}})
	h.AddForm(OtherTenant, sdk.Form{ID: "f-secret", Key: "orders", Name: "Other orders", Fields: fields})
	h.AddClient("app1", "s3cret", sdk.Principal{Tenant: Tenant, UserID: "svc", Scopes: []string{"api.readwrite"}})
	h.AddDirectory("user", Tenant, sdk.Doc{"id": "u1", "userName": "alice", "code": "alice", "empName": "Alice", "departmentId": "d1"})
	h.AddDirectory("user", Tenant, sdk.Doc{"id": "u2", "userName": "bob", "code": "bob", "empName": "Bob", "departmentId": "d1"})
	h.AddDirectory("user", OtherTenant, sdk.Doc{"id": "u9", "userName": "mallory", "empName": "Mallory"})
	h.AddDirectory("department", Tenant, sdk.Doc{"id": "d1", "code": "hq", "name": "HQ", "parentId": ""})
	h.AddDirectory("role", Tenant, sdk.Doc{"id": "ro1", "code": "admin", "name": "Admin"})

	h.AddDataflow(Tenant, "double", func(_ *sdk.Principal, in map[string]any) (any, error) {
		var n int64
		switch x := in["n"].(type) {
		case int64: // as the Host API decodes JSON numbers
			n = x
		case float64: // as encoding/json does in process
			if x != float64(int64(x)) {
				return nil, fmt.Errorf("n is not an integer")
			}
			n = int64(x)
		default:
			return nil, fmt.Errorf("n is not an integer")
		}
		return map[string]any{"n": n * 2}, nil
	})
	ctx := context.Background()
	u := User
	for _, d := range []map[string]any{
		{"title": "first", "amount": 10, "status": "open"},
		{"title": "second", "amount": 20.5},
	} {
		if _, err := h.CreateRecord(ctx, &u, "orders", d); err != nil {
			panic(err)
		}
	}
	o := sdk.Principal{Tenant: OtherTenant, UserID: "u9"}
	if _, err := h.CreateRecord(ctx, &o, "orders", map[string]any{"title": "secret"}); err != nil {
		panic(err)
	}
	tok, err := h.IssueToken(ctx, &u, "", nil)
	if err != nil {
		panic(err)
	}
	return tok.AccessToken
}

// Scenario is one HTTP request to the example connector (paths relative to
// its mount point).
type Scenario struct {
	Name   string
	Method string
	Target string // path and query
	Body   string
	// Bearer sends the fixture token (and, for direct calls, User as the principal).
	Bearer bool
	// Header holds further request headers.
	Header map[string]string
	// Status is the expected HTTP status.
	Status int
}

// Scenarios returns the table; run it in order on a freshly seeded host
// (later rows see earlier rows' writes). token is Seed's result.
func Scenarios(token string) []Scenario {
	return []Scenario{
		{Name: "ping", Method: "GET", Target: "/ping", Status: 200},
		{Name: "config", Method: "GET", Target: "/config", Status: 200},
		{Name: "token", Method: "POST", Target: "/token", Body: `{"ClientID":"app1","Secret":"s3cret","UserID":"u2"}`, Status: 200},
		{Name: "token bad secret", Method: "POST", Target: "/token", Body: `{"ClientID":"app1","Secret":"nope"}`, Status: 401},
		{Name: "token unknown user", Method: "POST", Target: "/token", Body: `{"ClientID":"app1","Secret":"s3cret","UserID":"u9"}`, Status: 404},
		{Name: "refresh bad", Method: "POST", Target: "/refresh", Body: `{"ClientID":"app1","RefreshToken":"nope"}`, Status: 401},
		{Name: "whoami", Method: "GET", Target: "/whoami", Header: map[string]string{"Authorization": "Bearer " + token}, Status: 200},
		{Name: "whoami bad token", Method: "GET", Target: "/whoami", Header: map[string]string{"Authorization": "Bearer nope"}, Status: 401},
		{Name: "forms", Method: "GET", Target: "/forms", Bearer: true, Status: 200},
		{Name: "form", Method: "GET", Target: "/forms/orders", Bearer: true, Status: 200},
		{Name: "form missing", Method: "GET", Target: "/forms/nope", Bearer: true, Status: 404},
		{Name: "find", Method: "GET", Target: "/records/orders?sort=-data.amount&count=1", Bearer: true, Status: 200},
		{Name: "find filtered", Method: "GET", Target: "/records/orders?eq=data.title:first&limit=5", Bearer: true, Status: 200},
		{Name: "get", Method: "GET", Target: "/records/orders/r1", Bearer: true, Status: 200},
		{Name: "get other tenant's record", Method: "GET", Target: "/records/orders/r3", Bearer: true, Status: 404},
		{Name: "create", Method: "POST", Target: "/records/orders", Body: `{"title":"third","amount":3}`, Bearer: true, Status: 201},
		{Name: "create invalid", Method: "POST", Target: "/records/orders", Body: `{"amount":1,"bogus":true}`, Bearer: true, Status: 400},
		{Name: "update", Method: "PATCH", Target: "/records/orders/r1", Body: `{"amount":11,"status":null}`, Bearer: true, Status: 200},
		{Name: "batch create", Method: "POST", Target: "/records/orders/batch", Body: `[{"title":"b1"},{"title":"b2","amount":1.25}]`, Bearer: true, Status: 200},
		{Name: "batch create all or nothing", Method: "POST", Target: "/records/orders/batch", Body: `[{"title":"ok"},{"nope":1}]`, Bearer: true, Status: 400},
		{Name: "batch get", Method: "POST", Target: "/records/orders/batch-get", Body: `["r1","missing","r3","r2"]`, Bearer: true, Status: 200},
		{Name: "draft", Method: "POST", Target: "/records/notes/draft", Body: `[{"text":"later"}]`, Bearer: true, Status: 200},
		{Name: "submit without workflow", Method: "POST", Target: "/records/orders/submit", Body: `[{"title":"x"}]`, Bearer: true, Status: 400},
		{Name: "submit", Method: "POST", Target: "/records/leave/submit?initiator=u2", Body: `[{"days":2},{"days":5}]`, Bearer: true, Status: 200},
		{Name: "start held", Method: "POST", Target: "/records/leave/submit?hold=1", Body: `[{"days":1}]`, Bearer: true, Status: 200},
		{Name: "dataflow", Method: "POST", Target: "/dataflow/double", Body: `{"n":21}`, Bearer: true, Status: 200},
		{Name: "dataflow failed run", Method: "POST", Target: "/dataflow/double", Body: `{"n":"x"}`, Bearer: true, Status: 200},
		{Name: "dataflow unknown", Method: "POST", Target: "/dataflow/nope", Body: `{}`, Bearer: true, Status: 404},
		{Name: "files", Method: "POST", Target: "/files?name=note.txt&folder=ex", Body: `hello`, Bearer: true, Status: 200},
		{Name: "file bad name", Method: "POST", Target: "/files?name=../x.txt", Body: `x`, Bearer: true, Status: 400},
		{Name: "delete", Method: "DELETE", Target: "/records/orders/r2", Bearer: true, Status: 204},
		{Name: "delete again", Method: "DELETE", Target: "/records/orders/r2", Bearer: true, Status: 404},
		{Name: "users", Method: "GET", Target: "/directory/users?count=1&sort=code", Bearer: true, Status: 200},
		{Name: "departments", Method: "GET", Target: "/directory/departments", Bearer: true, Status: 200},
		{Name: "roles", Method: "GET", Target: "/directory/roles?eq=code:admin", Bearer: true, Status: 200},
		{Name: "bad json", Method: "POST", Target: "/records/orders", Body: `{`, Bearer: true, Status: 400},
		// Host API v2.
		{Name: "entity create menu", Method: "POST", Target: "/entity/menu", Body: `{"name":"m1","title":"Menu 1"}`, Bearer: true, Status: 200},
		{Name: "entity find menu", Method: "GET", Target: "/entity/menu?eq=name:m1&count=1", Bearer: true, Status: 200},
		{Name: "entity get department", Method: "GET", Target: "/entity/department/d1", Bearer: true, Status: 200},
		{Name: "entity update missing", Method: "PATCH", Target: "/entity/menu/nope", Body: `{"title":"x"}`, Bearer: true, Status: 404},
		{Name: "entity read-only kind", Method: "POST", Target: "/entity/wftodo", Body: `{}`, Bearer: true, Status: 405},
		{Name: "entity other tenant", Method: "GET", Target: "/entity/user/u9", Bearer: true, Status: 404},
		// Messaging writes (issue 11 #5).
		{Name: "entity send message", Method: "POST", Target: "/entity/message", Body: `{"title":"会议通知","receiverEmpId":"u2"}`, Bearer: true, Status: 200},
		{Name: "entity send message to nobody", Method: "POST", Target: "/entity/message", Body: `{"title":"x","receiverEmpId":"u404"}`, Bearer: true, Status: 400},
		{Name: "entity queue sms", Method: "POST", Target: "/entity/outbox", Body: `{"channel":"sms","to":"13800000001","body":"code 482913","secret":"482913"}`, Bearer: true, Status: 200},
		{Name: "entity queue bad email", Method: "POST", Target: "/entity/outbox", Body: `{"channel":"email","to":"not an address","body":"x"}`, Bearer: true, Status: 400},
		{Name: "entity rewrite outbox", Method: "PATCH", Target: "/entity/outbox/nope", Body: `{"to":"13800000002"}`, Bearer: true, Status: 405},
		{Name: "entity append audit log", Method: "POST", Target: "/entity/auditlog", Body: `{"action":"insert","entityType":"orders","dataId":"r1"}`, Bearer: true, Status: 200},
		{Name: "entity erase audit log", Method: "DELETE", Target: "/entity/auditlog/nope", Bearer: true, Status: 405},
		{Name: "entity schedule", Method: "POST", Target: "/entity/schedule", Body: `{"content":"需求会议","startDate":"2022-09-01","endDate":"2022-09-01"}`, Bearer: true, Status: 200},
		{Name: "entity schedule bad dates", Method: "POST", Target: "/entity/schedule", Body: `{"content":"x","startDate":"2022-09-02","endDate":"2022-09-01"}`, Bearer: true, Status: 400},
		{Name: "get with owner", Method: "GET", Target: "/records/orders/r1?expand=creator", Bearer: true, Status: 200},
		{Name: "find with form", Method: "GET", Target: "/records/orders?form=1&limit=1&expand=creator", Bearer: true, Status: 200},
		{Name: "todo", Method: "GET", Target: "/tasks/todo?count=1", Bearer: true, Status: 200},
		{Name: "tasks bad box", Method: "GET", Target: "/tasks/inbox", Bearer: true, Status: 400},
		{Name: "workflow bad action", Method: "POST", Target: "/workflow/fly", Body: `{}`, Bearer: true, Status: 400},
		{Name: "alias allocate", Method: "POST", Target: "/aliases", Body: `{"namespace":"eoffice","kind":"user","toExt":["u1","u2"],"allocate":true,"prefix":"WV","width":8}`, Bearer: true, Status: 200},
		{Name: "alias resolve", Method: "POST", Target: "/aliases", Body: `{"namespace":"eoffice","kind":"user","toHub":["WV00000001","WV404"],"toExt":["u2"]}`, Bearer: true, Status: 200},
		{Name: "alias bad namespace", Method: "POST", Target: "/aliases", Body: `{"namespace":"Bad NS","kind":"user","toHub":["x"]}`, Bearer: true, Status: 400},
		{Name: "revoke", Method: "POST", Target: "/revoke", Body: `{"Token":"` + token + `"}`, Bearer: true, Status: 200},
		{Name: "whoami after revoke", Method: "GET", Target: "/whoami", Header: map[string]string{"Authorization": "Bearer " + token}, Status: 401},
		{Name: "panic", Method: "GET", Target: "/panic", Status: 500},
	}
}

// Request builds the sdk.Request a host would pass for s (Route and
// PathParams matched against the example's routes).
func (s Scenario) Request() *sdk.Request {
	u, err := url.ParseRequestURI(s.Target)
	if err != nil {
		panic(err)
	}
	req := &sdk.Request{Method: s.Method, Path: u.Path, Query: u.Query(), Headers: http.Header{},
		Body: []byte(s.Body), ClientIP: "192.0.2.1", RequestID: "rid-" + strings.ReplaceAll(s.Name, " ", "-")}
	for k, v := range s.Header {
		req.Headers.Set(k, v)
	}
	if s.Bearer {
		p := User
		req.Principal = &p
	}
	for _, r := range exampleRoutes() {
		if r.Method != s.Method {
			continue
		}
		if params, ok := sdktest.MatchRoute(r.Path, u.Path); ok {
			req.Route, req.PathParams = r.Path, params
			return req
		}
	}
	panic("no example route for " + s.Method + " " + u.Path)
}
