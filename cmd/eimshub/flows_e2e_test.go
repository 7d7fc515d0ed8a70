package main

import (
	"bytes"
	"encoding/json"
	"github.com/eimshub/eimshub/core/ids"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestWorkflowDataflowFiles walks docs/FLOWS.md against the running hub:
// bob's 5-day leave goes through alice (his manager) and admin (days > 3),
// the seeded order_total dataflow runs, and a file round-trips.
func TestWorkflowDataflowFiles(t *testing.T) {
	t.Parallel()
	h := startHub(t, t.TempDir(), nil)
	bob, _ := h.login("demo-client", "demo-secret", "bob", "bob-pass")
	alice, _ := h.login("demo-client", "demo-secret", "alice", "alice-pass")
	admin, _ := h.login("demo-client", "demo-secret", "admin", "admin-pass")

	rec := h.jsonReq("POST", "/api/v1/leave_request", bob, map[string]any{"reason": "family trip", "days": 5})
	mustStatus(t, "create leave", rec, 200)
	rid := rec.json(t)["id"].(string)
	start := h.jsonReq("POST", "/api/v1/workflow/start", bob, map[string]any{"flowDefinitionId": "leave_approval", "businessKey": rid})
	mustStatus(t, "start", start, 200)
	wid := start.json(t)["id"].(string)
	mustStatus(t, "start twice", h.jsonReq("POST", "/api/v1/workflow/start", bob, map[string]any{"flowDefinitionId": "leave_approval", "businessKey": rid}), 409)
	flowStatus := func() any {
		return h.jsonReq("GET", "/api/v1/leave_request/"+rid, bob, nil).json(t)["flowStatus"]
	}
	if fs := flowStatus(); fs != float64(2) {
		t.Fatalf("flowStatus after start = %v, want 2", fs)
	}
	taskOf := func(tok string) string {
		r := h.jsonReq("GET", "/api/v1/wftodo?$filter="+url.QueryEscape("dataId eq '"+rid+"'"), tok, nil)
		mustStatus(t, "wftodo", r, 200)
		v := r.json(t)["value"].([]any)
		if len(v) != 1 {
			t.Fatalf("wftodo: %s", r.body)
		}
		return v[0].(map[string]any)["id"].(string)
	}
	t1 := taskOf(alice)
	// bob is not the assignee
	mustStatus(t, "approve by non-assignee", h.jsonReq("POST", "/api/v1/workflow/approve", bob,
		map[string]any{"processInstanceId": wid, "taskId": t1, "approvalResult": "agree"}), 403)
	mustStatus(t, "alice approves", h.jsonReq("POST", "/api/v1/workflow/approve", alice,
		map[string]any{"processInstanceId": wid, "taskId": t1, "approvalResult": "agree", "approvalComment": "ok"}), 200)
	mustStatus(t, "alice approves again", h.jsonReq("POST", "/api/v1/workflow/approve", alice,
		map[string]any{"processInstanceId": wid, "taskId": t1, "approvalResult": "agree"}), 409)
	t2 := taskOf(admin)
	fin := h.jsonReq("POST", "/api/v1/workflow/approve", admin,
		map[string]any{"processInstanceId": wid, "taskId": t2, "approvalResult": "agree"})
	mustStatus(t, "admin approves", fin, 200)
	if fin.json(t)["instanceStatus"] != "approved" {
		t.Errorf("instance: %s", fin.body)
	}
	if fs := flowStatus(); fs != float64(3) {
		t.Errorf("flowStatus after approvals = %v, want 3", fs)
	}
	logs := h.jsonReq("GET", "/api/v1/wfapprovallog?$filter="+url.QueryEscape("dataId eq '"+rid+"'"), admin, nil)
	if n := len(logs.json(t)["value"].([]any)); n != 2 {
		t.Errorf("approval log entries = %d, want 2: %s", n, logs.body)
	}

	run := h.jsonReq("POST", "/api/v1/dataflow/run", bob, map[string]any{"dataFlowDefinitionId": "order_total",
		"inputData": map[string]any{"items": []any{map[string]any{"price": 2.5, "qty": 4}, map[string]any{"price": 1, "qty": 3}}}})
	mustStatus(t, "dataflow", run, 200)
	if m := run.json(t); m["status"] != "succeeded" || m["output"].(map[string]any)["total"] != float64(13) {
		t.Errorf("order_total: %s", run.body)
	}

	// Upload, download with a token, refuse without one; hostile names → 400.
	content := []byte("%PDF-1.4 e2e")
	up := h.upload(bob, "合同.pdf", content, map[string]string{"folder": "contracts"})
	mustStatus(t, "upload", up, 200)
	f := up.json(t)["value"].([]any)[0].(map[string]any)
	fid := f["id"].(string)
	get := h.do("GET", "/api/v1/files/"+fid, bob, "", nil)
	mustStatus(t, "download", get, 200)
	if !bytes.Equal(get.body, content) || get.header.Get("Content-Type") != "application/pdf" {
		t.Errorf("download: %q %s", get.body, get.header.Get("Content-Type"))
	}
	mustStatus(t, "download without token", h.do("GET", "/api/v1/files/"+fid, "", "", nil), 401)
	carol, _ := h.login("demo2-client", "demo2-secret", "carol", "carol-pass")
	mustStatus(t, "download from another tenant", h.do("GET", "/api/v1/files/"+fid, carol, "", nil), 404)
	blobDir := filepath.Join(h.dataDir, "files", "upload", "demo")
	if entries, err := os.ReadDir(blobDir); err != nil || len(entries) != 1 {
		t.Fatalf("blob dir %s: %v %v", blobDir, entries, err)
	}
	mustStatus(t, "delete by another user", h.jsonReq("DELETE", "/api/v1/file/"+fid, alice, nil), 403)
	mustStatus(t, "delete", h.jsonReq("DELETE", "/api/v1/file/"+fid, bob, nil), 204)
	mustStatus(t, "download deleted", h.do("GET", "/api/v1/files/"+fid, bob, "", nil), 404)
	if entries, err := os.ReadDir(blobDir); err != nil || len(entries) != 0 {
		t.Errorf("the blob is still on disk: %v", entries)
	}
	mustStatus(t, "traversal folder", h.upload(bob, "a.txt", []byte("x"), map[string]string{"folder": "../../etc"}), 400)
}

// TestH3YunThroughTheHub: the built-in H3Yun connector runs as a real plugin
// process (the test binary re-executed as `eimshub connector h3yun`); a
// record created through H3Yun is the record the native API returns, and the
// other way round.
func TestH3YunThroughTheHub(t *testing.T) {
	t.Parallel()
	h := startHub(t, t.TempDir(), nil)
	admin, _ := h.login("demo-client", "demo-secret", "admin", "admin-pass")
	invoke := func(secret string, body map[string]any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		_, m := h.h3yunInvoke(t, secret, string(b))
		return m
	}
	c := invoke("demo-engine-secret", map[string]any{"ActionName": "CreateBizObject", "SchemaCode": "contract", "IsSubmit": "true",
		"BizObject": `{"title":"Via H3Yun","party":"ACME","amount":12000}`})
	if c["Successful"] != true {
		t.Fatalf("CreateBizObject: %v", c)
	}
	// H3Yun shows GUIDs (spec §5.4): the GUID spelling of the hub id, which
	// the native API accepts as well as the hub spelling.
	id := c["ReturnData"].(map[string]any)["BizObjectId"].(string)
	hubID := ids.FromGUID(id)
	if !ids.IsGUID(id) || hubID == id {
		t.Fatalf("BizObjectId %q is not the GUID spelling of a hub id", id)
	}
	native := h.jsonReq("GET", "/api/v1/contract/"+id, admin, nil)
	mustStatus(t, "native read of an H3Yun record", native, 200)
	if d := native.json(t)["data"].(map[string]any); d["title"] != "Via H3Yun" || d["amount"] != float64(12000) || native.json(t)["id"] != hubID {
		t.Errorf("native view: %s", native.body)
	}
	mustStatus(t, "native read by the hub spelling", h.jsonReq("GET", "/api/v1/contract/"+hubID, admin, nil), 200)
	n := h.jsonReq("POST", "/api/v1/contract", admin, map[string]any{"title": "Native", "amount": 7})
	mustStatus(t, "native create", n, 200)
	nid := n.json(t)["id"].(string)
	l := invoke("demo-engine-secret", map[string]any{"ActionName": "LoadBizObject", "SchemaCode": "contract", "BizObjectId": nid})
	if l["Successful"] != true || !strings.Contains(toJSON(l), `"title":"Native"`) || !strings.Contains(toJSON(l), `"ObjectId":"`+ids.GUID(nid)+`"`) {
		t.Errorf("LoadBizObject of a native record: %v", l)
	}
	bad := invoke("wrong", map[string]any{"ActionName": "LoadBizObject", "SchemaCode": "contract", "BizObjectId": nid})
	if bad["Successful"] != false || bad["ErrorMessage"] == "" {
		t.Errorf("wrong secret: %v", bad)
	}

	// TV-12: a custom controller runs the dataflow the config routes it to.
	echo := invoke("demo-engine-secret", map[string]any{"ActionName": "Echo", "Controller": "MyApiController",
		"AppCode": "Acddd8f7643d946a3a22beb54648b157f", "para1": "x"})
	if echo["Successful"] != true || toJSON(echo["ReturnData"]) != `{"at":"1970-01-01T00:00:00.000Z","echo":"x"}` {
		t.Errorf("custom controller: %v", echo)
	}

	// IsSubmit (h3yun spec §6) drives the native workflow engine.
	users := h.jsonReq("GET", "/api/v1/user?$filter=userName eq 'bob'", admin, nil)
	mustStatus(t, "find bob", users, 200)
	bobID := users.json(t)["value"].([]any)[0].(map[string]any)["id"].(string)
	sub := invoke("demo-engine-secret", map[string]any{"ActionName": "CreateBizObject", "SchemaCode": "leave_request", "IsSubmit": true,
		"BizObject": `{"OwnerId":"` + bobID + `","reason":"trip","days":5}`})
	rd, _ := sub["ReturnData"].(map[string]any)
	if sub["Successful"] != true || rd["WorkflowInstanceId"] == "" {
		t.Fatalf("create and submit: %v", sub)
	}
	leaveID := rd["BizObjectId"].(string)
	rec := h.jsonReq("GET", "/api/v1/leave_request/"+leaveID, admin, nil)
	if m := rec.json(t); m["flowStatus"] != float64(2) || ids.GUID(m["wfInstanceId"].(string)) != rd["WorkflowInstanceId"] || m["createBy"].(map[string]any)["id"] != bobID {
		t.Errorf("native view of a submitted H3Yun record: %s", rec.body)
	}
	alice, _ := h.login("demo-client", "demo-secret", "alice", "alice-pass")
	todo := h.jsonReq("GET", "/api/v1/wftodo?$filter=dataId eq '"+ids.FromGUID(leaveID)+"'", alice, nil)
	if v := todo.json(t)["value"].([]any); len(v) != 1 || v[0].(map[string]any)["approveNodeId"] == "start" {
		t.Errorf("alice's task after the H3Yun submit: %s", todo.body)
	}
	load := invoke("demo-engine-secret", map[string]any{"ActionName": "LoadBizObject", "SchemaCode": "leave_request", "BizObjectId": leaveID})
	if bo := load["ReturnData"].(map[string]any)["BizObject"].(map[string]any); bo["Status"] != float64(2) || bo["WorkflowInstanceId"] != rd["WorkflowInstanceId"] ||
		bo["OwnerId"] != ids.GUID(bobID) {
		t.Errorf("LoadBizObject of the submitted record: %v", load)
	}
	// A record in approval is locked (issue 10 item 3): the H3Yun envelope says why, nothing changes.
	upd := invoke("demo-engine-secret", map[string]any{"ActionName": "UpdateBizObject", "SchemaCode": "leave_request",
		"BizObjectId": leaveID, "BizObject": `{"days":1}`})
	if upd["Successful"] != false || upd["ErrorMessage"] != "业务数据正在审批中或已生效，不能修改" {
		t.Errorf("UpdateBizObject of a record in approval: %v", upd)
	}
	if m := h.jsonReq("GET", "/api/v1/leave_request/"+leaveID, admin, nil).json(t); m["data"].(map[string]any)["days"] != float64(5) {
		t.Errorf("a refused update changed the record: %v", m)
	}
	// Removing a record with a running workflow cancels the instance (§11.15): alice's task goes.
	defer func() {
		rm := invoke("demo-engine-secret", map[string]any{"ActionName": "RemoveBizObject", "SchemaCode": "leave_request", "BizObjectId": leaveID})
		if rm["Successful"] != true {
			t.Errorf("RemoveBizObject of a running record: %v", rm)
		}
		todo := h.jsonReq("GET", "/api/v1/wftodo?$filter=dataId eq '"+ids.FromGUID(leaveID)+"'", alice, nil)
		if v := todo.json(t)["value"].([]any); len(v) != 0 {
			t.Errorf("alice still has the task of a removed record: %s", todo.body)
		}
	}()
	// OwnerDeptId (derived from the owner) is searchable with =: bob is in Sales.
	depts := h.jsonReq("GET", "/api/v1/department?$filter=name eq 'Sales'", admin, nil)
	salesID := depts.json(t)["value"].([]any)[0].(map[string]any)["id"].(string)
	byDept := invoke("demo-engine-secret", map[string]any{"ActionName": "LoadBizObjects", "SchemaCode": "leave_request",
		"Filter": `{"FromRowNum":0,"ToRowNum":10,"ReturnItems":["reason","OwnerDeptId"],"Matcher":{"Type":"Item","Name":"OwnerDeptId","Operator":2,"Value":"` + ids.GUID(salesID) + `"}}`})
	if rows, _ := byDept["ReturnData"].(map[string]any)["BizObjectArray"].([]any); len(rows) != 1 || rows[0].(map[string]any)["OwnerDeptId"] != ids.GUID(salesID) {
		t.Errorf("LoadBizObjects by OwnerDeptId: %v", byDept)
	}
	held := invoke("demo-engine-secret", map[string]any{"ActionName": "CreateBizObject", "SchemaCode": "leave_request", "IsSubmit": "false",
		"BizObject": `{"reason":"maybe","days":1}`})
	heldID := held["ReturnData"].(map[string]any)["BizObjectId"].(string)
	todo = h.jsonReq("GET", "/api/v1/wftodo?$filter=dataId eq '"+ids.FromGUID(heldID)+"'", admin, nil)
	if v := todo.json(t)["value"].([]any); len(v) != 1 || v[0].(map[string]any)["approveNodeId"] != "start" {
		t.Errorf("IsSubmit=false on a workflow form: the submitter (admin) holds the start task: %s", todo.body)
	}
	draft := invoke("demo-engine-secret", map[string]any{"ActionName": "CreateBizObject", "SchemaCode": "contract", "IsSubmit": false,
		"BizObject": `{"title":"Draft"}`})
	draftID := draft["ReturnData"].(map[string]any)["BizObjectId"].(string)
	if m := h.jsonReq("GET", "/api/v1/contract/"+draftID, admin, nil).json(t); m["flowStatus"] != float64(1) {
		t.Errorf("IsSubmit=false on a form without workflow: flowStatus %v, want 1 (draft)", m["flowStatus"])
	}

	// Attachments (§4.8, §4.9) are native files referenced from the field.
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("media", "scan.txt")
	_, _ = fw.Write([]byte("signed copy"))
	_ = mw.Close()
	req, _ := http.NewRequest("POST", h.base+"/OpenApi/UploadAttachment?SchemaCode=contract&FilePropertyName=files&BizObjectId="+id, &mp)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("EngineCode", "demo-engine")
	req.Header.Set("EngineSecret", "demo-engine-secret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	var up struct {
		Successful bool
		ReturnData struct{ AttachmentId string } //nolint:revive // the wire name
	}
	if err := json.Unmarshal(raw, &up); err != nil || !up.Successful || up.ReturnData.AttachmentId == "" {
		t.Fatalf("UploadAttachment: %d %s", res.StatusCode, raw)
	}
	fid := up.ReturnData.AttachmentId
	if nf := h.do("GET", "/api/v1/files/"+fid, admin, "", nil); nf.status != 200 || string(nf.body) != "signed copy" {
		t.Errorf("native download of an H3Yun attachment: %d %s", nf.status, nf.body)
	}
	if m := h.jsonReq("GET", "/api/v1/contract/"+id, admin, nil).json(t); !strings.Contains(toJSON(m["data"]), `"id":"`+ids.FromGUID(fid)+`"`) {
		t.Errorf("the record's attachment field lacks the file: %v", m["data"])
	}
	req, _ = http.NewRequest("POST", h.base+"/Api/DownloadBizObjectFile", strings.NewReader("attachmentId="+fid+"&EngineCode=demo-engine"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("EngineCode", "demo-engine")
	req.Header.Set("EngineSecret", "demo-engine-secret")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != 200 || string(raw) != "signed copy" || res.Header.Get("Content-Disposition") != "attachment; filename=scan.txt" {
		t.Errorf("DownloadBizObjectFile: %d %v %s", res.StatusCode, res.Header, raw)
	}
	l = invoke("demo-engine-secret", map[string]any{"ActionName": "LoadBizObject", "SchemaCode": "contract", "BizObjectId": id})
	if !strings.Contains(toJSON(l), `"files":["`+fid+`"]`) {
		t.Errorf("LoadBizObject after the upload: %v", l)
	}
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func (h *testHub) upload(token, name string, content []byte, fields map[string]string) resp {
	h.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	fw, err := w.CreateFormFile("file", name)
	if err != nil {
		h.t.Fatal(err)
	}
	_, _ = fw.Write(content)
	_ = w.Close()
	return h.do("POST", "/api/v1/upload", token, w.FormDataContentType(), buf.Bytes())
}

// TestH3YunRateLimit: an engine over its rate gets H3Yun's envelope before
// the plugin hop — HTTP 200 by default (spec §11.12), 429 when
// connectors.h3yun.rateLimitStatus says so — with Retry-After.
func TestH3YunRateLimit(t *testing.T) {
	example, err := os.ReadFile("../../config/eimshub.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		extra  string
		status int
	}{
		{"default 200", "", 200},
		{"429", "    rateLimitStatus: 429\n", 429},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := strings.Replace(string(example), "rateLimit: 20-S ", "rateLimit: 2-M ", 1)
			cfg = strings.Replace(cfg, "    isolation: process      #", strings.TrimSuffix(tc.extra, "\n")+"\n    isolation: process      #", 1)
			path := filepath.Join(t.TempDir(), "limited.yaml")
			if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			h := startHub(t, t.TempDir(), map[string]string{"EIMSHUB_CONFIG": path})
			call := func() (*http.Response, map[string]any) {
				return h.h3yunInvoke(t, "demo-engine-secret", `{"ActionName":"LoadBizObjects","SchemaCode":"contract"}`)
			}
			// Issue 10 finding 8: wrong secrets sent with demo-engine's
			// EngineCode are refused before the limiter and spend nothing
			// of the engine's budget (it was keyed by the claimed code).
			for i := 0; i < 3; i++ {
				res, m := h.h3yunInvoke(t, "wrong-secret", `{"ActionName":"LoadBizObjects","SchemaCode":"contract"}`)
				if res.StatusCode != 200 || m["Successful"] != false || m["ErrorMessage"] != "认证失败：EngineCode 或 EngineSecret 不正确" {
					t.Fatalf("wrong secret %d: %d %v", i+1, res.StatusCode, m)
				}
			}
			for i := 0; i < 2; i++ {
				if res, m := call(); res.StatusCode != 200 || m["Successful"] != true {
					t.Fatalf("call %d within the rate: %d %v", i+1, res.StatusCode, m)
				}
			}
			res, m := call()
			if res.StatusCode != tc.status || m["Successful"] != false || m["ErrorMessage"] != "调用频率过高，请稍后再试" ||
				res.Header.Get("Retry-After") == "" || res.Header.Get("X-RateLimit-Limit") != "2" {
				t.Errorf("over the rate: %d %v %v", res.StatusCode, res.Header, m)
			}
		})
	}
}

// TestH3YunPluginKilled: kill -9 of the H3Yun plugin process; every answer
// an H3Yun client gets meanwhile is an H3Yun envelope (HTTP 200, JSON,
// Successful true, or false with 服务暂不可用), and the hub restarts the
// plugin so calls succeed again.
func TestH3YunPluginKilled(t *testing.T) {
	t.Parallel()
	h := startHub(t, t.TempDir(), nil)
	admin, _ := h.login("demo-client", "demo-secret", "admin", "admin-pass")
	status := func() (pid, restarts float64) {
		r := h.do("GET", "/admin/connectors", admin, "", nil)
		for _, x := range r.json(t)["connectors"].([]any) {
			if m := x.(map[string]any); m["id"] == "h3yun" {
				return m["pid"].(float64), m["restarts"].(float64)
			}
		}
		t.Fatalf("no h3yun in %s", r.body)
		return 0, 0
	}
	call := func() map[string]any {
		res, m := h.h3yunInvoke(t, "demo-engine-secret", `{"ActionName":"LoadBizObjects","SchemaCode":"contract"}`)
		if res.StatusCode != 200 {
			t.Fatalf("not an H3Yun envelope (%d): %v", res.StatusCode, m)
		}
		if m["Successful"] != true && m["ErrorMessage"] != "服务暂不可用，请稍后再试" {
			t.Fatalf("unexpected failure: %v", m)
		}
		return m
	}
	if m := call(); m["Successful"] != true {
		t.Fatalf("before the kill: %v", m)
	}
	pid, restarts := status()
	if pid <= 0 {
		t.Fatalf("pid = %v", pid)
	}
	checkSmallBinary(t, int(pid))
	if err := syscall.Kill(int(pid), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := call(); m["Successful"] == true {
			if newPID, r := status(); newPID != pid && r > restarts {
				checkSmallBinary(t, int(newPID)) // restarted from the pinned small binary
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the H3Yun plugin did not come back within 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// h3yunInvoke posts body to /OpenApi/Invoke as the demo engine with secret
// and returns the response (body consumed) and its JSON envelope; a body
// that is not JSON fails the test.
func (h *testHub) h3yunInvoke(t testing.TB, secret, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", h.base+"/OpenApi/Invoke", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("EngineCode", "demo-engine")
	req.Header.Set("EngineSecret", secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("H3Yun answer is not JSON (%d): %s", res.StatusCode, raw)
	}
	return res, m
}
