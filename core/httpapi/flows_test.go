package httpapi

// HTTP-level tests of the workflow, dataflow and file routes (spec §3–§5,
// TV-10, TV-11, TV-12) on the real embedded store, with a middleware that
// injects the principal named by the bearer token (no token → 401).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/adapters/blob"
	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/dataflow"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/files"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
)

type flowsEnv struct {
	t   *testing.T
	st  store.Store
	app *fiber.App
}

var flowUsers = map[string]*principal.Principal{
	"admin": {Tenant: "t1", UserID: "u_1001", UserCode: "E001", DisplayName: "Admin", Roles: []string{"admin"}, Scopes: []string{"api.readwrite"}},
	"bob":   {Tenant: "t1", UserID: "u_bob", UserCode: "E002", DisplayName: "Bob", Scopes: []string{"api.readwrite"}},
	"alice": {Tenant: "t1", UserID: "u_alice", UserCode: "E003", DisplayName: "Alice", Roles: []string{"manager"}, Scopes: []string{"api.readwrite"}},
	"eve":   {Tenant: "t2", UserID: "u_eve", UserCode: "X", DisplayName: "Eve", Scopes: []string{"api.readwrite"}},
}

func newFlowsEnv(t *testing.T, maxUpload int64) *flowsEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ins := func(coll string, d store.Doc) {
		if d["corpId"] == nil {
			d["corpId"] = "t1"
		}
		if err := st.Insert(ctx, coll, d); err != nil {
			t.Fatal(err)
		}
	}
	ins("department", store.Doc{"id": "d_1", "name": "研发部", "managerId": "u_1001"})
	ins("department", store.Doc{"id": "d_2", "name": "销售部", "managerId": "u_alice"})
	ins("user", store.Doc{"id": "u_1001", "userName": "admin", "code": "E001", "empName": "Admin", "departmentId": "d_1"})
	ins("user", store.Doc{"id": "u_bob", "userName": "bob", "code": "E002", "empName": "Bob", "departmentId": "d_2"})
	ins("user", store.Doc{"id": "u_alice", "userName": "alice", "code": "E003", "empName": "Alice", "departmentId": "d_2"})
	ins("form", store.Doc{"id": "f_1", "appId": "a_1", "key": "orders", "name": "订单", "usingWorkflow": true,
		"content": map[string]any{"items": []any{
			map[string]any{"field": "customer", "type": "input", "required": true},
			map[string]any{"field": "amount", "type": "number"}}}})
	ins("form", store.Doc{"id": "f_leave", "appId": "a_1", "key": "leave_request", "name": "请假", "usingWorkflow": true,
		"content": map[string]any{"items": []any{map[string]any{"field": "days", "type": "number"}}}})
	ins("wfdefinition", store.Doc{"id": "wd_1", "sourceId": "f_1", "name": "订单审批", "version": int64(1), "flowType": "workflow",
		"content": map[string]any{"nodes": []any{map[string]any{"id": "node_2", "type": "approve", "name": "主管审批",
			"assignees": map[string]any{"users": []any{"u_1001"}}}}}})
	ins("dfdefinition", store.Doc{"id": "dd_1", "name": "dd_1", "flowType": "dataflow", "content": `{"nodes":[{"id":"ins","type":"script","script":
		"for (let i = 0; i < input.count; i++) records.create('f_1', {customer: input.customer}); return {created: input.count};"}]}`})
	if err := workflow.SeedDefinition(ctx, st, "t1", workflow.ExampleLeaveApproval()); err != nil {
		t.Fatal(err)
	}
	if err := dataflow.SeedDefinition(ctx, st, "t1", dataflow.ExampleOrderTotal()); err != nil {
		t.Fatal(err)
	}
	disk, err := blob.NewDisk(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New(fiber.Config{ErrorHandler: errorHandler(&Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}),
		BodyLimit: 64 << 20})
	api := app.Group("/api/v1", func(c *fiber.Ctx) error {
		p, ok := flowUsers[bearerToken(c)]
		if !ok {
			return errs.New(errs.Unauthorized, "a bearer access token is required")
		}
		c.SetUserContext(principal.With(c.UserContext(), p))
		return c.Next()
	})
	fsvc := files.New(st, disk, files.Options{MaxUpload: maxUpload})
	bindWorkflowRoutes(api, workflow.New(st, workflow.Options{}))
	bindDataflowRoutes(api, dataflow.New(st, dataflow.Options{}))
	bindFileRoutes(api, fsvc)
	bindPublicFileRoutes(app, fsvc)
	return &flowsEnv{t: t, st: st, app: app}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

func (e *flowsEnv) do(req *http.Request) resp {
	e.t.Helper()
	res, err := e.app.Test(req, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func (e *flowsEnv) post(user, path string, body any) resp {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+user)
	}
	return e.do(req)
}

func (e *flowsEnv) record(form string, data map[string]any) string {
	id := store.NewID()
	if err := e.st.Insert(context.Background(), "formdata", store.Doc{"id": id, "corpId": "t1", "formId": form,
		"appId": "a_1", "flowStatus": int64(1), "data": data, "createBy": map[string]any{"id": "u_bob"}}); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *flowsEnv) doc(coll, id string) store.Doc {
	d, err := e.st.Get(context.Background(), coll, "t1", id)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func wantStatus(t *testing.T, r resp, status int, code string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if code == "" {
		if len(r.body) == 0 {
			return nil
		}
		return r.json(t)
	}
	m := r.json(t)
	if e, _ := m["error"].(map[string]any); e["code"] != code || m["errorCode"] != float64(status) {
		t.Fatalf("envelope %s, want code %s", r.body, code)
	}
	return m
}

func TestHTTPWorkflowTV10(t *testing.T) {
	e := newFlowsEnv(t, 0)
	r1 := e.record("f_1", map[string]any{"customer": "甲公司"})
	m := wantStatus(t, e.post("admin", "/api/v1/workflow/start", map[string]any{"flowDefinitionId": "wd_1",
		"businessKey": r1, "variables": map[string]any{"urgent": true}, "initiator": "u_1001"}), 200, "")
	w := m["id"].(string)
	tasks := m["tasks"].([]any)
	tk := tasks[0].(map[string]any)
	if m["processInstanceId"] != w || m["status"] != "running" || len(tasks) != 1 || tk["nodeId"] != "node_2" ||
		tk["nodeName"] != "主管审批" || tk["assigneeId"] != "u_1001" {
		t.Fatalf("start = %v", m)
	}
	if e.doc("formdata", r1)["flowStatus"] != int64(2) {
		t.Fatal("flowStatus not 2")
	}
	wantStatus(t, e.post("admin", "/api/v1/workflow/start", map[string]any{"flowDefinitionId": "wd_1", "businessKey": r1, "initiator": "u_1001"}), 409, "conflict")
	m = wantStatus(t, e.post("admin", "/api/v1/workflow/approve", map[string]any{"processInstanceId": w, "taskId": tk["taskId"],
		"approvalResult": "agree", "approvalComment": "同意", "approver": "u_1001"}), 200, "")
	if m["id"] != w || m["taskId"] != tk["taskId"] || m["result"] != "agree" || m["instanceStatus"] != "approved" || len(m["tasks"].([]any)) != 0 {
		t.Fatalf("approve = %v", m)
	}
	if e.doc("formdata", r1)["flowStatus"] != int64(3) {
		t.Fatal("flowStatus not 3")
	}
	logs, _ := e.st.Find(context.Background(), "wfapprovallog", "t1", query.Query{Filter: query.Cmp{Path: query.Path{"dataId"}, Op: query.Eq, Value: r1}, Limit: -1})
	if len(logs) != 1 || logs[0]["result"] != int64(1) || logs[0]["comment"] != "同意" {
		t.Fatalf("logs = %v", logs)
	}
	wantStatus(t, e.post("admin", "/api/v1/workflow/approve", map[string]any{"processInstanceId": w, "taskId": tk["taskId"],
		"approvalResult": "agree", "approver": "u_1001"}), 409, "conflict")
}

func TestHTTPWorkflowActions(t *testing.T) {
	e := newFlowsEnv(t, 0)
	rec := e.record("f_leave", map[string]any{"days": 5.0})
	// only the record's owner (bob) or an admin starts its workflow
	wantStatus(t, e.post("alice", "/api/v1/workflow/start", map[string]any{"flowDefinitionId": "leave_approval", "businessKey": rec}), 403, "forbidden")
	// the original's spelling and aliases: /Workflow/Start, wfDefinitionId, dataId
	m := wantStatus(t, e.post("bob", "/api/v1/Workflow/Start", map[string]any{"wfDefinitionId": "leave_approval", "dataId": rec}), 200, "")
	w := m["id"].(string)
	task := m["tasks"].([]any)[0].(map[string]any)["taskId"]
	wantStatus(t, e.post("admin", "/api/v1/workflow/approve", map[string]any{"processInstanceId": w, "taskId": task, "approvalResult": "agree"}), 403, "forbidden")
	wantStatus(t, e.post("alice", "/api/v1/workflow/approve", map[string]any{"processInstanceId": w, "taskId": "nope", "approvalResult": "agree"}), 404, "not_found")
	wantStatus(t, e.post("alice", "/api/v1/workflow/approve", map[string]any{"processInstanceId": w, "taskId": task, "approvalResult": "perhaps"}), 400, "invalid_request")
	wantStatus(t, e.post("alice", "/api/v1/workflow/withdraw", map[string]any{"wfInstanceId": w}), 403, "forbidden")
	wantStatus(t, e.post("eve", "/api/v1/workflow/approve", map[string]any{"processInstanceId": w, "taskId": task, "approvalResult": "agree"}), 404, "not_found")
	wantStatus(t, e.post("", "/api/v1/workflow/approve", map[string]any{"processInstanceId": w}), 401, "unauthorized")
	// the original's numeric action via /Workflow/Submit, located by dataId + node
	m = wantStatus(t, e.post("alice", "/api/v1/Workflow/Submit", map[string]any{"wfInstanceId": w, "dataId": rec, "wfNodeId": "n_mgr", "comment": "ok"}), 200, "")
	next := m["tasks"].([]any)[0].(map[string]any)
	if next["assigneeId"] != "u_1001" {
		t.Fatalf("submit = %v", m)
	}
	// transfer to bob, then bob... cannot approve his own? he can (any user); withdraw instead
	m = wantStatus(t, e.post("admin", "/api/v1/workflow/transfer", map[string]any{"wfInstanceId": w, "dataId": rec, "wfNodeId": "n_admin",
		"targetEmployeeId": "u_alice", "comment": "please"}), 200, "")
	if m["id"] != w {
		t.Fatalf("transfer = %v", m)
	}
	m = wantStatus(t, e.post("bob", "/api/v1/workflow/withdraw", map[string]any{"wfInstanceId": w, "dataId": rec, "comment": "changed my mind"}), 200, "")
	if m["id"] != w || m["instanceStatus"] != "cancelled" || e.doc("formdata", rec)["flowStatus"] != int64(1) {
		t.Fatalf("withdraw = %v", m)
	}
	wantStatus(t, e.post("bob", "/api/v1/workflow/withdraw", map[string]any{"wfInstanceId": w}), 409, "conflict")
	// resubmit, then /reject with action 2
	m = wantStatus(t, e.post("bob", "/api/v1/workflow/start", map[string]any{"flowDefinitionId": "leave_approval", "businessKey": rec, "version": "1"}), 200, "")
	m = wantStatus(t, e.post("alice", "/api/v1/workflow/approve", map[string]any{"wfInstanceId": m["id"], "dataId": rec, "action": 2}), 200, "")
	if m["result"] != "reject" || m["instanceStatus"] != "rejected" || e.doc("formdata", rec)["flowStatus"] != int64(4) {
		t.Fatalf("reject = %v", m)
	}
}

// N concurrent approvals of one task over HTTP: one 200, the others 409.
func TestHTTPParallelApprovals(t *testing.T) {
	e := newFlowsEnv(t, 0)
	rec := e.record("f_1", map[string]any{"customer": "x"})
	m := wantStatus(t, e.post("admin", "/api/v1/workflow/start", map[string]any{"flowDefinitionId": "wd_1", "businessKey": rec}), 200, "")
	body := map[string]any{"processInstanceId": m["id"], "taskId": m["tasks"].([]any)[0].(map[string]any)["taskId"], "approvalResult": "agree"}
	const n = 6
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := json.Marshal(body)
			req := httptest.NewRequest(http.MethodPost, "/api/v1/workflow/approve", bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer admin")
			res, err := e.app.Test(req, -1)
			if err != nil {
				t.Error(err)
				return
			}
			codes[i] = res.StatusCode
			res.Body.Close()
		}()
	}
	wg.Wait()
	ok, conflict := 0, 0
	for _, c := range codes {
		switch c {
		case 200:
			ok++
		case 409:
			conflict++
		}
	}
	if ok != 1 || conflict != n-1 {
		t.Fatalf("codes = %v", codes)
	}
}

func TestHTTPDataflowTV11(t *testing.T) {
	e := newFlowsEnv(t, 0)
	count := func() int64 {
		n, err := e.st.Count(context.Background(), "formdata", "t1", query.Cmp{Path: query.Path{"data", "customer"}, Op: query.Eq, Value: "丙公司"})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	m := wantStatus(t, e.post("admin", "/api/v1/dataflow/run", map[string]any{"dataFlowDefinitionId": "dd_1",
		"inputData": map[string]any{"count": 2, "customer": "丙公司"}, "operator": "u_1001"}), 200, "")
	if m["status"] != "succeeded" || m["errMsg"] != "" || m["id"] == "" || count() != 2 {
		t.Fatalf("run = %v", m)
	}
	before, _ := e.st.Count(context.Background(), "formdata", "t1", nil)
	m = wantStatus(t, e.post("admin", "/api/v1/dataflow/run", map[string]any{"dataFlowDefinitionId": "dd_1",
		"inputData": map[string]any{"count": 2, "customer": nil}, "operator": "u_1001"}), 200, "")
	after, _ := e.st.Count(context.Background(), "formdata", "t1", nil)
	if m["status"] != "failed" || m["errMsg"] == "" || after != before {
		t.Fatalf("failed run = %v (%d → %d records)", m, before, after)
	}
	m = wantStatus(t, e.post("bob", "/api/v1/Dataflow/Run", map[string]any{"dataFlowDefinitionId": "order_total",
		"inputData": map[string]any{"items": []any{map[string]any{"price": 2.5, "qty": 4}, map[string]any{"price": "x", "qty": 1}}}}), 200, "")
	if m["status"] != "succeeded" || m["output"].(map[string]any)["total"] != nil { // NaN → null in JSON
		t.Fatalf("order_total NaN = %v", m)
	}
	m = wantStatus(t, e.post("bob", "/api/v1/dataflow/run", map[string]any{"dataFlowDefinitionId": "order_total",
		"inputData": map[string]any{"items": []any{map[string]any{"price": 2.5, "qty": 4}, map[string]any{"price": 1, "qty": 2}}}}), 200, "")
	if m["output"].(map[string]any)["total"] != 12.0 {
		t.Fatalf("order_total = %v", m)
	}
	wantStatus(t, e.post("admin", "/api/v1/dataflow/run", map[string]any{"dataFlowDefinitionId": "nope", "inputData": map[string]any{}}), 404, "not_found")
	wantStatus(t, e.post("admin", "/api/v1/dataflow/run", map[string]any{"dataFlowDefinitionId": "order_total", "inputData": map[string]any{"items": 3}}), 400, "validation_failed")
	wantStatus(t, e.post("admin", "/api/v1/dataflow/run", map[string]any{"dataFlowDefinitionId": "order_total"}), 400, "invalid_request")
	wantStatus(t, e.post("bob", "/api/v1/dataflow/run", map[string]any{"dataFlowDefinitionId": "order_total", "inputData": map[string]any{}, "operator": "u_1001"}), 403, "forbidden")
}

// pdfBytes is TV-12's P: 1500 bytes that sniff as application/pdf.
func pdfBytes() []byte {
	b := []byte("%PDF-1.4\n")
	for len(b) < 1500 {
		b = append(b, byte('a'+len(b)%26))
	}
	return b[:1500]
}

func (e *flowsEnv) upload(user string, parts map[string]string, fileName string, content []byte) resp {
	e.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if fileName != "\x00none" {
		h := textproto.MIMEHeader{}
		if strings.IndexFunc(fileName, func(r rune) bool { return r < 0x20 }) >= 0 {
			h.Set("Content-Disposition", `form-data; name="file"; filename*=UTF-8''`+rfc8187(fileName))
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, strings.ReplaceAll(fileName, `"`, `\"`)))
		}
		h.Set("Content-Type", "application/pdf")
		pw, _ := w.CreatePart(h)
		_, _ = pw.Write(content)
	}
	for k, v := range parts {
		_ = w.WriteField(k, v)
	}
	_ = w.Close()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/upload", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+user)
	}
	return e.do(req)
}

func (e *flowsEnv) get(user, path string, hdr ...string) resp {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+user)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return e.do(req)
}

func TestHTTPFilesTV12(t *testing.T) {
	e := newFlowsEnv(t, 0)
	p := pdfBytes()
	m := wantStatus(t, e.upload("admin", map[string]string{"folder": "contracts", "isPublic": "false"}, "合同.pdf", p), 200, "")
	v := m["value"].([]any)[0].(map[string]any)
	f := v["id"].(string)
	if v["fileName"] != "合同.pdf" || v["fileExt"] != ".pdf" || v["fileSize"] != 1.0 || v["size"] != 1500.0 ||
		v["folder"] != "contracts" || v["isPublic"] != false || v["url"] != "/api/v1/files/"+f || v["contentType"] != "application/pdf" ||
		len(v["hash"].(string)) != 64 || strings.Contains(v["savePath"].(string), "合同") {
		t.Fatalf("upload = %v", v)
	}
	r := e.get("admin", "/api/v1/files/"+f)
	if r.status != 200 || r.header.Get("Content-Type") != "application/pdf" || r.header.Get("Content-Length") != "1500" || !bytes.Equal(r.body, p) {
		t.Fatalf("download: %d %v", r.status, r.header)
	}
	if cd := r.header.Get("Content-Disposition"); cd != `inline; filename="__.pdf"; filename*=UTF-8''%E5%90%88%E5%90%8C.pdf` {
		t.Fatalf("Content-Disposition = %q", cd)
	}
	etag := r.header.Get("ETag")
	wantStatus(t, e.get("", "/api/v1/files/"+f), 401, "unauthorized")
	wantStatus(t, e.get("eve", "/api/v1/files/"+f), 404, "not_found") // private: tenant only
	wantStatus(t, e.get("bob", "/api/v1/files/"+f), 404, "not_found") // … and of its uploader (core/access)
	// conditional and partial requests
	if r := e.get("admin", "/api/v1/files/"+f, "If-None-Match", etag); r.status != 304 || len(r.body) != 0 {
		t.Fatalf("If-None-Match: %d", r.status)
	}
	if r := e.get("admin", "/api/v1/files/"+f, "Range", "bytes=0-3"); r.status != 206 || string(r.body) != "%PDF" ||
		r.header.Get("Content-Range") != "bytes 0-3/1500" || r.header.Get("Content-Length") != "4" {
		t.Fatalf("Range 0-3: %d %q %v", r.status, r.body, r.header)
	}
	if r := e.get("admin", "/api/v1/files/"+f, "Range", "bytes=-10"); r.status != 206 || !bytes.Equal(r.body, p[1490:]) {
		t.Fatalf("suffix range: %d", r.status)
	}
	if r := e.get("admin", "/api/v1/files/"+f, "Range", "bytes=1495-"); r.status != 206 || !bytes.Equal(r.body, p[1495:]) {
		t.Fatalf("open range: %d", r.status)
	}
	if r := e.get("admin", "/api/v1/files/"+f, "Range", "bytes=2000-"); r.status != 416 || r.header.Get("Content-Range") != "bytes */1500" {
		t.Fatalf("unsatisfiable: %d %v", r.status, r.header)
	}
	if r := e.get("admin", "/api/v1/files/"+f, "Range", "bytes=0-1,5-6"); r.status != 200 || len(r.body) != 1500 {
		t.Fatalf("multi-range falls back to 200: %d", r.status)
	}
	if r := e.get("admin", "/api/v1/files/"+f, "Range", "bytes=0-3", "If-Range", `"stale"`); r.status != 200 {
		t.Fatalf("stale If-Range: %d", r.status)
	}
	if r := e.get("admin", "/api/v1/files/"+f+"?download=1"); !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("download=1: %v", r.header)
	}
	// a private file is not served at the public URL
	wantStatus(t, e.get("", files.PublicURL(f, "合同.pdf")), 404, "not_found")
}

func TestHTTPPublicFiles(t *testing.T) {
	e := newFlowsEnv(t, 0)
	m := wantStatus(t, e.upload("bob", map[string]string{"isPublic": "true"}, "报告 1.txt", []byte("hello, world\n")), 200, "")
	v := m["value"].([]any)[0].(map[string]any)
	id := v["id"].(string)
	if v["folder"] != "/" || v["contentType"] != "text/plain; charset=utf-8" || v["publicUrl"] != "/files/"+id+"/%E6%8A%A5%E5%91%8A%201.txt" {
		t.Fatalf("public upload = %v", v)
	}
	r := e.get("", v["publicUrl"].(string))
	if r.status != 200 || string(r.body) != "hello, world\n" || !strings.HasPrefix(r.header.Get("Cache-Control"), "public") {
		t.Fatalf("public download: %d %q", r.status, r.body)
	}
	wantStatus(t, e.get("", "/files/"+id+"/other.txt"), 404, "not_found")
	wantStatus(t, e.get("", "/files/nope/x.txt"), 404, "not_found")
	// an HTML upload is never rendered inline
	m = wantStatus(t, e.upload("bob", nil, "page.pdf", []byte("<html><script>alert(1)</script></html>")), 200, "")
	id = m["value"].([]any)[0].(map[string]any)["id"].(string)
	r = e.get("bob", "/api/v1/files/"+id)
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") ||
		r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("html served as %v", r.header)
	}
}

func TestHTTPUploadRefusals(t *testing.T) {
	e := newFlowsEnv(t, 4096)
	countFiles := func() int64 {
		n, err := e.st.Count(context.Background(), "file", "t1", nil)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	ok := []byte("%PDF-1.4 small")
	cases := []struct {
		name     string
		parts    map[string]string
		fileName string
		content  []byte
		status   int
		code     string
	}{
		{"too large", nil, "big.pdf", bytes.Repeat([]byte("x"), 5000), 413, "payload_too_large"},
		{"no file", map[string]string{"folder": "x"}, "\x00none", nil, 400, "invalid_request"},
		{"traversal in the name", nil, "../../etc/passwd", ok, 400, "invalid_request"},
		{"windows traversal", nil, `..\..\boot.ini`, ok, 400, "invalid_request"},
		{"absolute name", nil, "/etc/passwd", ok, 400, "invalid_request"},
		{"drive path", nil, `C:\x.pdf`, ok, 400, "invalid_request"},
		{"dot dot", nil, "..", ok, 400, "invalid_request"},
		{"reserved device", nil, "CON", ok, 400, "invalid_request"},
		{"reserved device with extension", nil, "nul.txt", ok, 400, "invalid_request"},
		{"com port", nil, "COM1.pdf", ok, 400, "invalid_request"},
		{"control character", nil, "a\x01b.pdf", ok, 400, "invalid_request"},
		{"bidi override", nil, "invoice\u202efdp.exe", ok, 400, "invalid_request"},
		{"trailing dot", nil, "a.pdf.", ok, 400, "invalid_request"},
		{"folder traversal", map[string]string{"folder": "a/../../b"}, "a.pdf", ok, 400, "invalid_request"},
		{"absolute folder", map[string]string{"folder": "/etc"}, "a.pdf", ok, 400, "invalid_request"},
		{"windows folder", map[string]string{"folder": `C:\temp`}, "a.pdf", ok, 400, "invalid_request"},
		{"folder with NUL", map[string]string{"folder": "a\x00b"}, "a.pdf", ok, 400, "invalid_request"},
		{"reserved folder", map[string]string{"folder": "docs/aux"}, "a.pdf", ok, 400, "invalid_request"},
		{"empty segment", map[string]string{"folder": "a//b"}, "a.pdf", ok, 400, "invalid_request"},
		{"long folder", map[string]string{"folder": strings.Repeat("a", 201)}, "a.pdf", ok, 400, "invalid_request"},
		{"bad isPublic", map[string]string{"isPublic": "maybe"}, "a.pdf", ok, 400, "invalid_request"},
	}
	for _, c := range cases {
		r := e.upload("bob", c.parts, c.fileName, c.content)
		var env struct {
			Error struct{ Code string }
		}
		_ = json.Unmarshal(r.body, &env)
		if r.status != c.status || env.Error.Code != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.body, c.status, c.code)
		}
	}
	if n := countFiles(); n != 0 {
		t.Fatalf("%d files recorded by refused uploads", n)
	}
	// not multipart → 415
	wantStatus(t, e.post("bob", "/api/v1/upload", map[string]any{"file": "x"}), 415, "unsupported_media_type")
	// a good one in a nested folder, the original's alias path
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile("anything", "ok.pdf")
	_, _ = fw.Write(ok)
	_ = w.WriteField("folder", "a/b/")
	_ = w.Close()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/Upload/Upload", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer bob")
	m := wantStatus(t, e.do(req), 200, "")
	if v := m["value"].([]any)[0].(map[string]any); v["folder"] != "a/b" || v["contentType"] != "application/pdf" {
		t.Fatalf("alias upload = %v", v)
	}
}
