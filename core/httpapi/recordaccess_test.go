package httpapi

// Regression tests of issue 10 items 3 and 10 (core/access): the attacks on
// other users' records, on records in approval and on private files, each
// through the real HTTP routes, the native error envelope and the real
// embedded SQLite store.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/adapters/blob"
	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/files"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
)

var accessUsers = map[string]*principal.Principal{
	"admin": {Tenant: "t1", UserID: "u_1001", UserCode: "E001", DisplayName: "Admin", Roles: []string{"admin"}, Scopes: []string{"api.readwrite"}},
	"bob":   {Tenant: "t1", UserID: "u_bob", UserCode: "E002", DisplayName: "Bob", Scopes: []string{"api.readwrite"}},
	"carol": {Tenant: "t1", UserID: "u_carol", UserCode: "E004", DisplayName: "Carol", Scopes: []string{"api.readwrite"}},
}

// newAccessEnv serves the entity, workflow and file routes with the real
// error handler over a fresh SQLite store. Form "orders" (f_1) has a
// workflow of two admin approvals, the second only when amount > 100, a
// fileupload field and a child table with a fileupload column.
func newAccessEnv(t *testing.T) *flowsEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ins := func(coll string, d store.Doc) {
		d["corpId"] = "t1"
		if err := st.Insert(ctx, coll, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []store.Doc{{"id": "u_1001", "userName": "admin", "code": "E001", "empName": "Admin"},
		{"id": "u_bob", "userName": "bob", "code": "E002", "empName": "Bob"},
		{"id": "u_carol", "userName": "carol", "code": "E004", "empName": "Carol"}} {
		ins("user", u)
	}
	ins("app", store.Doc{"id": "a_1", "name": "销售"})
	ins("form", store.Doc{"id": "f_1", "appId": "a_1", "key": "orders", "name": "订单", "usingWorkflow": true,
		"content": map[string]any{"items": []any{
			map[string]any{"field": "customer", "type": "input"},
			map[string]any{"field": "amount", "type": "number"},
			map[string]any{"field": "attach", "type": "fileupload"},
			map[string]any{"field": "items", "type": "tableform", "columns": []any{
				map[string]any{"field": "qty", "type": "number"}, map[string]any{"field": "doc", "type": "fileupload"}}}}}})
	ins("wfdefinition", store.Doc{"id": "wd_1", "sourceId": "f_1", "name": "订单审批", "version": int64(1), "flowType": "workflow",
		"content": map[string]any{"nodes": []any{
			map[string]any{"id": "n_1", "type": "approve", "name": "主管审批", "assignees": map[string]any{"users": []any{"u_1001"}}},
			map[string]any{"id": "n_2", "type": "approve", "name": "总监审批", "assignees": map[string]any{"users": []any{"u_1001"}},
				"when": "data/amount gt 100"}}}})
	disk, err := blob.NewDisk(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := &Deps{Logger: log, Entities: entity.New(st, entity.Options{Logger: log})}
	app := fiber.New(fiber.Config{ErrorHandler: errorHandler(d), BodyLimit: 64 << 20})
	api := app.Group("/api/v1", func(c *fiber.Ctx) error {
		p, ok := accessUsers[bearerToken(c)]
		if !ok {
			return errs.New(errs.Unauthorized, "a bearer access token is required")
		}
		c.SetUserContext(principal.With(c.UserContext(), p))
		return c.Next()
	})
	bindWorkflowRoutes(api, workflow.New(st, workflow.Options{Logger: log}))
	bindFileRoutes(api, files.New(st, disk, files.Options{Logger: log}))
	bindEntityRoutes(api, d)
	return &flowsEnv{t: t, st: st, app: app}
}

func (e *flowsEnv) send(method, user, path string, body any) resp {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+user)
	return e.do(req)
}

// wantDetail asserts a refusal: status, error.code and a detail code.
func wantDetail(t *testing.T, r resp, status int, code, detail string) {
	t.Helper()
	m := wantStatus(t, r, status, code)
	for _, d := range m["error"].(map[string]any)["details"].([]any) {
		if d.(map[string]any)["code"] == detail {
			return
		}
	}
	t.Fatalf("no %s detail in %s", detail, r.body)
}

func (e *flowsEnv) create(user string, data map[string]any) string {
	e.t.Helper()
	m := wantStatus(e.t, e.send(http.MethodPost, user, "/api/v1/orders", map[string]any{"data": data}), 200, "")
	return m["id"].(string)
}

func (e *flowsEnv) start(user, rec string) string {
	e.t.Helper()
	m := wantStatus(e.t, e.post(user, "/api/v1/workflow/start", map[string]any{"flowDefinitionId": "wd_1", "businessKey": rec}), 200, "")
	return m["id"].(string)
}

func (e *flowsEnv) approve(inst string) map[string]any {
	e.t.Helper()
	return wantStatus(e.t, e.post("admin", "/api/v1/workflow/approve", map[string]any{"processInstanceId": inst, "dataId": rec0(e, inst),
		"approvalResult": "agree"}), 200, "")
}

func rec0(e *flowsEnv, inst string) string { return e.doc("wfinstance", inst)["dataId"].(string) }

func (e *flowsEnv) pending(rec string) int64 {
	e.t.Helper()
	n, err := e.st.Count(context.Background(), "wftodo", "t1", query.Cmp{Path: query.Path{"dataId"}, Op: query.Eq, Value: rec})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// Another user of the tenant reads a record but cannot edit or delete it;
// its owner and administrators can.
func TestRecordOtherUserCannotEditOrDelete(t *testing.T) {
	e := newAccessEnv(t)
	rec := e.create("bob", map[string]any{"customer": "甲", "amount": 5})
	path := "/api/v1/orders/" + rec
	wantDetail(t, e.send(http.MethodPatch, "carol", path, map[string]any{"data": map[string]any{"amount": 1}}), 403, "forbidden", access.CodeNotOwner)
	wantDetail(t, e.send(http.MethodPut, "carol", path, map[string]any{"data": map[string]any{"amount": 1}}), 403, "forbidden", access.CodeNotOwner)
	wantDetail(t, e.send(http.MethodPatch, "carol", "/api/v1/formdata/"+rec, map[string]any{"customer": "x"}), 403, "forbidden", access.CodeNotOwner)
	wantDetail(t, e.send(http.MethodDelete, "carol", path, nil), 403, "forbidden", access.CodeNotOwner)
	// Nothing changed, and carol still reads it (reads are tenant-wide).
	m := wantStatus(t, e.send(http.MethodGet, "carol", path, nil), 200, "")
	if d := m["data"].(map[string]any); d["amount"] != 5.0 || d["customer"] != "甲" {
		t.Fatalf("record changed by a refused write: %v", d)
	}
	wantStatus(t, e.send(http.MethodPatch, "bob", path, map[string]any{"data": map[string]any{"amount": 6}}), 200, "")
	wantStatus(t, e.send(http.MethodPatch, "admin", path, map[string]any{"data": map[string]any{"amount": 7}}), 200, "")
	if r := e.send(http.MethodDelete, "bob", path, nil); r.status != 204 {
		t.Fatalf("owner delete: %d %s", r.status, r.body)
	}
}

// Another user cannot start a workflow on a record (becoming its
// initiator), nor cancel its running workflow by deleting the record.
func TestRecordOtherUserCannotStartOrCancelWorkflow(t *testing.T) {
	e := newAccessEnv(t)
	rec := e.create("bob", map[string]any{"customer": "甲", "amount": 5})
	wantDetail(t, e.post("carol", "/api/v1/workflow/start", map[string]any{"flowDefinitionId": "wd_1", "businessKey": rec}), 403, "forbidden", access.CodeNotOwner)
	if n, _ := e.st.Count(context.Background(), "wfinstance", "t1", nil); n != 0 || e.doc("formdata", rec)["flowStatus"] != int64(1) {
		t.Fatalf("refused start left %d instances, flowStatus %v", n, e.doc("formdata", rec)["flowStatus"])
	}
	inst := e.start("bob", rec)
	if in := e.doc("wfinstance", inst)["initiator"].(map[string]any); in["id"] != "u_bob" {
		t.Fatalf("initiator = %v", in)
	}
	wantDetail(t, e.send(http.MethodDelete, "carol", "/api/v1/orders/"+rec, nil), 403, "forbidden", access.CodeNotOwner)
	if e.doc("wfinstance", inst)["status"] != "running" || e.pending(rec) != 1 {
		t.Fatal("a refused delete cancelled the workflow")
	}
	// The owner may delete a record in approval: its instance is cancelled.
	if r := e.send(http.MethodDelete, "bob", "/api/v1/orders/"+rec, nil); r.status != 204 {
		t.Fatalf("owner delete: %d %s", r.status, r.body)
	}
	if e.doc("wfinstance", inst)["status"] != "cancelled" || e.pending(rec) != 0 {
		t.Fatal("deleting the record did not cancel its workflow")
	}
}

// A record in approval or approved is locked for everyone, administrators
// included: changing amount would change which approval steps apply.
func TestRecordInApprovalIsLocked(t *testing.T) {
	e := newAccessEnv(t)
	rec := e.create("bob", map[string]any{"customer": "甲", "amount": 500})
	path := "/api/v1/orders/" + rec
	inst := e.start("bob", rec)
	for _, user := range []string{"bob", "admin"} {
		for _, method := range []string{http.MethodPatch, http.MethodPut} {
			wantDetail(t, e.send(method, user, path, map[string]any{"data": map[string]any{"amount": 1}}), 409, "conflict", access.CodeLocked)
		}
	}
	if d := e.doc("formdata", rec); fmt.Sprint(d["data"].(map[string]any)["amount"]) != "500" || d["flowStatus"] != int64(2) {
		t.Fatalf("locked record changed: %v", d)
	}
	// amount 500 keeps the second approval step.
	m := e.approve(inst)
	if m["instanceStatus"] != "running" {
		t.Fatalf("after step 1: %v", m)
	}
	if m = e.approve(inst); m["instanceStatus"] != "approved" || e.doc("formdata", rec)["flowStatus"] != int64(3) {
		t.Fatalf("after step 2: %v", m)
	}
	for _, user := range []string{"bob", "admin"} {
		wantDetail(t, e.send(http.MethodPatch, user, path, map[string]any{"data": map[string]any{"amount": 1}}), 409, "conflict", access.CodeLocked)
	}
	// Approved: only an administrator deletes it.
	wantDetail(t, e.send(http.MethodDelete, "bob", path, nil), 409, "conflict", access.CodeLocked)
	if r := e.send(http.MethodDelete, "admin", path, nil); r.status != 204 {
		t.Fatalf("admin delete of an approved record: %d %s", r.status, r.body)
	}
}

// A rejected record is editable again by its owner and can be resubmitted.
func TestRecordRejectedIsEditableAgain(t *testing.T) {
	e := newAccessEnv(t)
	rec := e.create("bob", map[string]any{"customer": "甲", "amount": 500})
	inst := e.start("bob", rec)
	wantStatus(t, e.post("admin", "/api/v1/workflow/reject", map[string]any{"wfInstanceId": inst, "dataId": rec}), 200, "")
	if e.doc("formdata", rec)["flowStatus"] != int64(4) {
		t.Fatal("not rejected")
	}
	wantStatus(t, e.send(http.MethodPatch, "bob", "/api/v1/orders/"+rec, map[string]any{"data": map[string]any{"amount": 50}}), 200, "")
	wantDetail(t, e.send(http.MethodPatch, "carol", "/api/v1/orders/"+rec, map[string]any{"data": map[string]any{"amount": 1}}), 403, "forbidden", access.CodeNotOwner)
	e.start("bob", rec)
}

// A private file is readable by its uploader, administrators and readers
// of a record that references it — not by any user of the tenant.
func TestPrivateFileOfAnotherUser(t *testing.T) {
	e := newAccessEnv(t)
	upload := func(user, name, public string) string {
		m := wantStatus(t, e.upload(user, map[string]string{"isPublic": public}, name, []byte("secret "+name)), 200, "")
		return m["value"].([]any)[0].(map[string]any)["id"].(string)
	}
	get := func(user, id string) int { return e.get(user, "/api/v1/files/"+id).status }
	priv, inTable, pub := upload("bob", "a.txt", "false"), upload("bob", "b.txt", "false"), upload("bob", "c.txt", "true")
	if s := get("carol", priv); s != 404 {
		t.Fatalf("carol read bob's private file: %d", s)
	}
	wantStatus(t, e.get("carol", "/api/v1/files/"+priv), 404, "not_found")
	if get("bob", priv) != 200 || get("admin", priv) != 200 || get("carol", pub) != 200 {
		t.Fatal("uploader, admin or public read refused")
	}
	// Referenced by a record carol can read: readable.
	e.create("bob", map[string]any{"customer": "甲", "attach": []any{priv}})
	if s := get("carol", priv); s != 200 {
		t.Fatalf("reader of a referencing record: %d", s)
	}
	if s := get("carol", inTable); s != 404 {
		t.Fatalf("unreferenced file: %d", s)
	}
	e.create("bob", map[string]any{"customer": "乙", "items": []any{map[string]any{"qty": 1, "doc": []any{inTable}}}})
	if s := get("carol", inTable); s != 200 {
		t.Fatalf("file referenced from a child table: %d", s)
	}
}
