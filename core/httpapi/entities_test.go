package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/store"
)

// entStatus is a minimal code → status table for these tests (the server's
// ErrorHandler is tested with the server).
var entStatus = map[errs.Code]int{errs.Invalid: 400, errs.NotFound: 404, errs.Conflict: 409,
	errs.Unauthorized: 401, errs.Forbidden: 403, errs.UnsupportedMedia: 415, errs.MethodNotAllowed: 405}

func entErrorHandler(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return c.Status(fe.Code).JSON(fiber.Map{"errorCode": fe.Code, "error": fiber.Map{"code": "route"}})
	}
	e := errs.As(err)
	st, ok := entStatus[e.Code]
	if !ok {
		st = 500
	}
	code := e.Reason
	if code == "" {
		code = e.Code.String()
	}
	return c.Status(st).JSON(fiber.Map{"errorCode": st, "message": e.Msg,
		"error": fiber.Map{"code": code, "target": e.Target, "details": e.Details}})
}

type entApp struct {
	t   *testing.T
	app *fiber.App
}

type entResult struct {
	status int
	hdr    map[string]string
	body   []byte
}

func (r entResult) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("status %d body %q: %v", r.status, r.body, err)
	}
	return m
}

func (r entResult) errCode(t *testing.T, status int, code string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	m := r.obj(t)
	if m["errorCode"] != float64(status) || m["error"].(map[string]any)["code"] != code {
		t.Fatalf("body %s, want code %s", r.body, code)
	}
	return m["error"].(map[string]any)
}

// newEntApp serves the entity routes on the real embedded store, with a
// middleware that authenticates as the principal named by X-Test-User.
func newEntApp(t *testing.T) *entApp {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	op := map[string]any{"id": "system"}
	for _, s := range []struct {
		coll string
		doc  store.Doc
	}{
		{"department", store.Doc{"id": "d_1", "corpId": "t1", "name": "研发部", "heriarchyId": "d_1"}},
		{"user", store.Doc{"id": "u_1001", "corpId": "t1", "userName": "admin", "code": "E001", "empName": "Admin",
			"departmentId": "d_1", "passwordHash": "SECRET"}},
		{"app", store.Doc{"id": "a_1", "corpId": "t1", "name": "销售"}},
		{"form", store.Doc{"id": "f_1", "corpId": "t1", "appId": "a_1", "name": "订单", "key": "orders", "usingWorkflow": true,
			"content": map[string]any{"items": []any{
				map[string]any{"field": "customer", "type": "input", "required": true},
				map[string]any{"field": "amount", "type": "number"},
				map[string]any{"field": "region", "type": "select", "props": map[string]any{"options": []any{
					map[string]any{"value": "华东", "label": "华东"}, map[string]any{"value": "华南", "label": "华南"}}}},
				map[string]any{"field": "items", "type": "tableform", "columns": []any{map[string]any{"field": "qty", "type": "number"}}},
			}}}},
	} {
		s.doc["createBy"], s.doc["updateBy"], s.doc["createTime"], s.doc["updateTime"] = op, op, int64(1), int64(1)
		if err := st.Insert(ctx, s.coll, s.doc); err != nil {
			t.Fatal(err)
		}
	}
	users := map[string]*principal.Principal{
		"admin": {Tenant: "t1", UserID: "u_1001", UserCode: "E001", DisplayName: "Admin", Roles: []string{"admin"}},
		"bob":   {Tenant: "t1", UserID: "u_2", UserCode: "E002", DisplayName: "Bob"},
		"eve":   {Tenant: "t2", UserID: "u_9", DisplayName: "Eve", Roles: []string{"admin"}},
	}
	d := &Deps{Entities: entity.New(st, entity.Options{HashPassword: func(pw string) (string, error) { return "h" + pw, nil }})}
	app := fiber.New(fiber.Config{ErrorHandler: entErrorHandler})
	auth := func(c *fiber.Ctx) error {
		if p, ok := users[c.Get("X-Test-User", "admin")]; ok {
			c.SetUserContext(principal.With(c.UserContext(), p))
		}
		return c.Next()
	}
	bindEntityRoutes(app.Group("/api/v1", auth), d)
	app.Get("/api/v1/ping", func(c *fiber.Ctx) error { return c.SendString("pong") }) // another family, bound later
	BindODataRoutes(app.Group("/odata/v1", auth), d)
	return &entApp{t: t, app: app}
}

// do sends a request; path is written unencoded and its query is encoded here.
func (a *entApp) do(method, path, body string, hdr ...string) entResult {
	a.t.Helper()
	if p, q, ok := strings.Cut(path, "?"); ok {
		vals := url.Values{}
		for _, kv := range strings.Split(q, "&") {
			k, v, _ := strings.Cut(kv, "=")
			vals.Add(k, v)
		}
		path = p + "?" + vals.Encode()
	}
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := a.app.Test(req, -1)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	h := map[string]string{}
	for k := range resp.Header {
		h[k] = resp.Header.Get(k)
	}
	return entResult{status: resp.StatusCode, hdr: h, body: b}
}

func TestEntityRoutesTV6toTV9(t *testing.T) {
	a := newEntApp(t)
	// TV-6
	r := a.do("POST", "/api/v1/formdata", `{"formId":"f_1","data":{"customer":"甲公司","amount":150,"region":"华东","items":[{"qty":12}]}}`)
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	r1 := r.obj(t)
	id1 := r1["id"].(string)
	if r.hdr["Location"] != "/api/v1/formdata/"+id1 || r1["flowStatus"] != float64(1) || r1["appId"] != "a_1" {
		t.Errorf("create: %v %s", r.hdr, r.body)
	}
	r = a.do("POST", "/api/v1/orders", `{"customer":"乙公司","amount":80,"region":"华南"}`)
	if r.status != 200 {
		t.Fatalf("flat create: %d %s", r.status, r.body)
	}
	id2 := r.obj(t)["id"].(string)
	e := a.do("POST", "/api/v1/formdata", `{"formId":"f_1","data":{"amount":"many","nope":1}}`).errCode(t, 400, "validation_failed")
	if det, _ := json.Marshal(e["details"]); !strings.Contains(string(det), "data/nope") || !strings.Contains(string(det), "data/customer") {
		t.Errorf("details = %s", det)
	}
	r = a.do("GET", "/api/v1/formdata/$count?formId=f_1", "")
	if r.status != 200 || string(r.body) != "2" || !strings.HasPrefix(r.hdr["Content-Type"], "text/plain") {
		t.Errorf("$count: %d %q %v", r.status, r.body, r.hdr)
	}
	// TV-7
	r = a.do("GET", "/api/v1/formdata?formId=f_1&$filter=data/amount ge 100 and (data/region eq '华东' or contains(data/customer,'乙')) and data/items/qty gt 10&$select=data/customer,data/amount&$orderby=data/amount desc&$top=10&$skip=0&$count=true&$expand=creator($select=empName)", "")
	want := `{"@odata.count":1,"value":[{"creator":{"empName":"Admin","id":"u_1001"},"data":{"amount":150,"customer":"甲公司"},"id":"` + id1 + `"}]}`
	if r.status != 200 || string(r.body) != want {
		t.Errorf("TV-7: %d %s\nwant %s", r.status, r.body, want)
	}
	// TV-8
	if e := a.do("GET", "/api/v1/formdata?formId=f_1&$filter=data/amount gt 'x'", "").errCode(t, 400, "invalid_filter"); e["target"] != "data/amount" {
		t.Errorf("target = %v", e["target"])
	}
	a.do("GET", "/api/v1/formdata?formId=f_1&$filter=data/amount gt", "").errCode(t, 400, "invalid_filter")
	a.do("GET", "/api/v1/formdata?formId=f_1&$search=x", "").errCode(t, 400, "invalid_query_option")
	a.do("GET", "/api/v1/user?$expand=department.parent.parent.parent", "").errCode(t, 400, "invalid_expand")
	// TV-9
	r = a.do("PUT", "/api/v1/formdata/"+id2, `{"data":{"amount":90}}`)
	if m := r.obj(t); r.status != 200 || m["data"].(map[string]any)["customer"] != "乙公司" || m["data"].(map[string]any)["amount"] != float64(90) {
		t.Errorf("PUT: %d %s", r.status, r.body)
	}
	r = a.do("GET", "/api/v1/wftodo?$expand=user.department&$filter=dataId eq '"+id1+"'", "")
	if r.status != 200 || string(r.body) != `{"value":[]}` {
		t.Errorf("wftodo: %d %s", r.status, r.body)
	}
	if r = a.do("DELETE", "/api/v1/formdata/"+id2, ""); r.status != 204 || len(r.body) != 0 {
		t.Errorf("DELETE: %d %s", r.status, r.body)
	}
	a.do("GET", "/api/v1/formdata/"+id2, "").errCode(t, 404, "not_found")
}

func TestEntityRoutesRules(t *testing.T) {
	a := newEntApp(t)
	r := a.do("POST", "/api/v1/Orders", `{"customer":"甲"}`)
	rec := r.obj(t)
	id := rec["id"].(string)
	tag := `"` + strings.TrimSuffix(strings.TrimPrefix(string(mustJSON(rec["updateTime"])), `"`), `"`) + `"`

	cases := []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		code                     string
	}{
		{"wrong content type", "POST", "/api/v1/orders", `{"customer":"x"}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type"},
		{"malformed json", "POST", "/api/v1/orders", `{"customer":`, nil, 400, "invalid_request"},
		{"array body", "POST", "/api/v1/orders", `[1]`, nil, 400, "invalid_request"},
		{"hostile key", "POST", "/api/v1/orders", `{"customer":"x","$where":"1"}`, nil, 400, "validation_failed"},
		{"deep nesting", "POST", "/api/v1/app", `{"name":"x","appMenus":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`, nil, 400, "invalid_request"},
		{"id mismatch", "PATCH", "/api/v1/orders/" + id, `{"id":"zz"}`, nil, 400, "invalid_request"},
		{"non-admin write", "POST", "/api/v1/app", `{"name":"x"}`, []string{"X-Test-User", "bob"}, 403, "forbidden"},
		{"other tenant", "GET", "/api/v1/orders/" + id, "", []string{"X-Test-User", "eve"}, 404, "not_found"},
		{"other tenant delete", "DELETE", "/api/v1/formdata/" + id, "", []string{"X-Test-User", "eve"}, 404, "not_found"},
		{"unknown entity", "GET", "/api/v1/nosuch", "", nil, 404, "not_found"},
		{"records need form", "GET", "/api/v1/formdata", "", nil, 400, "invalid_request"},
		{"bad $top", "GET", "/api/v1/user?$top=-1", "", nil, 400, "invalid_query_option"},
		{"duplicate option", "GET", "/api/v1/user?$top=1&$TOP=2", "", nil, 400, "invalid_query_option"},
		{"unknown option on $count", "GET", "/api/v1/user/$count?$apply=x", "", nil, 400, "invalid_query_option"},
		{"read-only entity", "POST", "/api/v1/wftodo", `{}`, nil, 405, "method_not_allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a.do(c.method, c.path, c.body, c.hdr...).errCode(t, c.status, c.code)
		})
	}
	// If-Match: stale → 409, current → 200.
	r = a.do("PATCH", "/api/v1/orders/"+id, `{"customer":"乙"}`, "If-Match", tag)
	if r.status != 200 {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}
	a.do("PATCH", "/api/v1/orders/"+id, `{"customer":"丙"}`, "If-Match", tag).errCode(t, 409, "conflict")
	// Nothing written by the failures above.
	if r = a.do("GET", "/api/v1/orders/$count", ""); string(r.body) != "1" {
		t.Errorf("count = %s", r.body)
	}
	// passwordHash never leaves.
	for _, p := range []string{"/api/v1/user", "/api/v1/user/u_1001", "/api/v1/employee?$select=*", "/api/v1/orders?$expand=creator"} {
		if r = a.do("GET", p, ""); r.status != 200 || strings.Contains(string(r.body), "SECRET") || strings.Contains(string(r.body), "passwordHash") {
			t.Errorf("%s: %d %s", p, r.status, r.body)
		}
	}
	// $query and POST $count.
	r = a.do("POST", "/api/v1/formdata/$query", `{"filter":{"field":"formId","op":"eq","value":"f_1"},"select":[{"field":"data.customer","visible":true}]}`)
	if r.status != 200 || string(r.body) != `{"value":[{"data":{"customer":"乙"},"id":"`+id+`"}]}` {
		t.Errorf("$query: %d %s", r.status, r.body)
	}
	r = a.do("POST", "/api/v1/orders/$count", `{"field":"data.customer","op":"eq","value":"乙"}`)
	if r.status != 200 || string(r.body) != "1" || !strings.HasPrefix(r.hdr["Content-Type"], "application/json") {
		t.Errorf("POST $count: %d %s %v", r.status, r.body, r.hdr)
	}
	// OData aliases.
	r = a.do("GET", "/odata/v1/FormData?formId=f_1&$select=id", "")
	if r.status != 200 || string(r.body) != `{"value":[{"id":"`+id+`"}]}` {
		t.Errorf("odata list: %d %s", r.status, r.body)
	}
	r = a.do("GET", "/odata/v1/Employee('u_1001')?$select=empName", "")
	if r.status != 200 || string(r.body) != `{"empName":"Admin","id":"u_1001"}` {
		t.Errorf("odata get: %d %s", r.status, r.body)
	}
	// Other /api/v1 families pass through.
	if r = a.do("GET", "/api/v1/ping", ""); r.status != 200 || string(r.body) != "pong" {
		t.Errorf("ping: %d %s", r.status, r.body)
	}
	// No principal → 401.
	app := fiber.New(fiber.Config{ErrorHandler: entErrorHandler})
	bindEntityRoutes(app.Group("/api/v1"), &Deps{Entities: entity.New(nil, entity.Options{})})
	resp, err := app.Test(httptest.NewRequest("GET", "/api/v1/user", nil), -1)
	if err != nil || resp.StatusCode != 401 {
		t.Errorf("anonymous: %v %v", resp.StatusCode, err)
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }
