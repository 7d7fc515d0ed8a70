package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// TestWebClientBasicSession replays the basic session of the EIMSNext web
// client (spec eims-native.md §12.14) request by request over HTTP against
// the hub as `make run` starts it (the example config: tenant demo, the
// client's public client EIMSD160507G0401S171201B1014Next, admin and bob),
// exactly as the client sends them: from another origin (a browser
// preflight before every call that is not a "simple" request, the Origin
// header on every call, the CORS grant checked on every answer), the
// token request form-encoded without a secret or scope, OData lists and
// counts as text/plain query strings (raw spaces and quotes, literals
// escaped the way odata-query escapes them), OData reads with the key as
// a path segment and Accept: application/json;odata.metadata=none, JSON
// bodies with Content-Type application/json;charset=UTF-8, the upload as
// multipart and the uploaded file loaded back without a token.
//
// A is the administrator (userType 4): logs in, bootstraps the session,
// creates an app and finds it again by name, designs a form (the app gains
// its menu) and its workflow (bob approves), lists and counts, uploads a
// file and loads it back, saves a draft, filters, opens and submits it. B
// is bob (userType 64): logs in, bootstraps (AppMenuPerms, AuthGroup), sees
// the to-do with formName and dataBrief, opens it with its attachment and
// approves (A's approval attempt is refused). Then the badges, the record
// and the approval log agree, and A batch-deletes two further drafts.
func TestWebClientBasicSession(t *testing.T) {
	h := startHub(t, t.TempDir(), nil)
	const origin = "https://admin.example.com"
	a := &browser{t: t, base: h.base, origin: origin}
	b := &browser{t: t, base: h.base, origin: origin}

	// 1. A logs in: a simple cross-origin request (form body, no custom header), no preflight.
	a.token = a.login("admin", "admin-pass")

	// 2–6. Session bootstrap (§12.4).
	me := a.json("GET", "/api/v1/system/currentuser", "", nil, 200)
	if me["userType"] != float64(4) || me["userName"] != "admin" || me["corpId"] != "demo" {
		t.Fatalf("currentuser of admin: %v", me)
	}
	corp := a.json("GET", "/odata/v1/Corporate/demo", "", nil, 200)
	if corp["name"] != "Demo Corp" || corp["platform"] != "0" || corp["@odata.context"] != nil {
		t.Fatalf("Corporate: %v", corp)
	}
	apps := a.list("App", "")
	if len(apps) == 0 {
		t.Fatal("no apps for the admin")
	}
	if depts := a.list("Department", ""); len(depts) < 2 {
		t.Fatalf("departments: %v", depts)
	}
	if n := a.count("WfTodo", ""); n != "0" {
		t.Fatalf("admin's to-do badge %s", n)
	}
	if n := a.count("SystemMessage", "$filter=isRead eq false"); n != "0" {
		t.Fatalf("admin's message badge %s", n)
	}

	// Create an app the way AddEditApp does.
	app := a.json("POST", "/odata/v1/App", jsonCT, map[string]any{"id": "", "name": "采购/报销 a+b", "description": "",
		"sortIndex": 0, "icon": "icon-appdefault", "iconColor": "#1296db"}, 200)
	appID, _ := app["id"].(string)
	if appID == "" {
		t.Fatalf("created app: %v", app)
	}
	// A search as odata-query writes it: raw spaces and non-ASCII, "/" and
	// "+" escaped inside the literal.
	if found := a.list("App", "$filter=name eq '采购%2F报销 a%2Bb'&$top=20&$skip=0"); len(found) != 1 || !containsID(found, appID) {
		t.Fatalf("app search: %v", found)
	}

	// 7. Open the app: read it by key segment, its to-do badge.
	a.json("GET", "/odata/v1/App/"+appID, "", nil, 200)
	if n := a.count("WfTodo", "$filter=appId eq '"+appID+"'"); n != "0" {
		t.Fatalf("app badge %s", n)
	}

	// 8. Design a form: create, re-read the app (menu), save the designer's layout.
	form := a.json("POST", "/odata/v1/FormDef", jsonCT, map[string]any{"id": "", "appId": appID, "name": "未命名表单",
		"content": map[string]any{"layout": "[]", "options": sessionOptions}, "usingWorkflow": true, "isLedger": false}, 200)
	formID, _ := form["id"].(string)
	if formID == "" {
		t.Fatalf("created form: %v", form)
	}
	if !hasMenu(a.json("GET", "/odata/v1/App/"+appID, "", nil, 200), formID, "未命名表单") {
		t.Fatal("the new form has no menu entry in its app")
	}
	saved := a.json("PATCH", "/odata/v1/FormDef/"+formID, jsonCT, map[string]any{"id": formID, "appId": appID, "name": "采购申请",
		"content": map[string]any{"layout": sessionLayout, "options": `{"form":{"labelPosition":"top"}}`}}, 200)
	content, _ := saved["content"].(map[string]any)
	if content["layout"] != sessionLayout || len(asList(content["items"])) != 4 {
		t.Fatalf("designer save: %v", saved)
	}
	if !hasMenu(a.json("GET", "/odata/v1/App/"+appID, "", nil, 200), formID, "采购申请") {
		t.Fatal("the renamed form's menu entry kept the old title")
	}

	// 9. Design the workflow: the approver is bob, picked from the member picker.
	emps := a.list("Employee", "$filter=userName eq 'bob'&$top=20&$skip=0")
	if len(emps) != 1 {
		t.Fatalf("member picker: %v", emps)
	}
	bobID, _ := emps[0].(map[string]any)["id"].(string)
	if defs := a.list("WfDefinition", "$filter=ExternalId eq '"+formID+"'&$orderby=Version desc"); len(defs) != 0 {
		t.Fatalf("definitions of a new form: %v", defs)
	}
	flow := strings.ReplaceAll(sessionFlow, "<BOB>", bobID)
	def := a.json("POST", "/odata/v1/WfDefinition", jsonCT, map[string]any{"id": "", "appId": appID, "name": "",
		"flowType": "0", "externalId": formID, "eventSource": "0", "sourceId": formID, "content": flow}, 200)
	defID, _ := def["id"].(string)
	if defID == "" || def["content"] != flow || def["version"] != float64(1) {
		t.Fatalf("workflow definition: %v", def)
	}
	if act := a.json("POST", "/api/v1/WfDefinition/Activate", jsonCT, map[string]any{"id": defID}, 200); act["isCurrent"] != true {
		t.Fatalf("activate: %v", act)
	}

	// 10. Open the form.
	if fd := a.json("GET", "/odata/v1/FormDef/"+formID, "", nil, 200); fd["name"] != "采购申请" {
		t.Fatalf("FormDef: %v", fd)
	}

	// 11. List and count (the form page's bodies, §12.8.1).
	filter := map[string]any{"rel": "and", "items": []any{
		map[string]any{"field": "formId", "type": "none", "op": "eq", "value": formID}, map[string]any{}}}
	if n := a.raw("POST", "/api/v1/FormData/$count", jsonCT, mustJSON(t, filter), 200); strings.TrimSpace(string(n.body)) != "0" {
		t.Fatalf("record count: %s", n.body)
	}
	findOpts := map[string]any{"skip": 0, "take": 20, "scope": map[string]any{},
		"sort": []any{map[string]any{"field": "createTime", "type": "timestamp", "dir": -1}}, "filter": filter}
	if l := a.json("POST", "/api/v1/FormData/$query", jsonCT, findOpts, 200); len(asList(l["value"])) != 0 {
		t.Fatalf("record list: %v", l)
	}

	// 12. Add a record: the file control uploads first, then the draft is saved.
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("0"), 2039)...)
	up := a.upload("报价单.pdf", "application/pdf", pdf)
	fileID, _ := up["id"].(string)
	savePath, _ := up["savePath"].(string)
	if fileID == "" || !strings.HasPrefix(savePath, "upload/") || up["thumbPath"] == nil {
		t.Fatalf("upload answer: %v", up)
	}
	fileURL := h.base + "/" + savePath // {uploadUrl}/{savePath}
	if got := a.fetch(fileURL); !bytes.Equal(got, pdf) {
		t.Fatalf("the file URL serves %d bytes", len(got))
	}
	data := map[string]any{"jreason000000001": "买电脑", "jamount000000001": 6000,
		"jregion000000001": map[string]any{"value": "east", "label": "华东"},
		"jfiles0000000001": []any{map[string]any{"id": fileID, "name": "报价单.pdf", "url": fileURL}}}
	rec := a.json("POST", "/api/v1/FormData", jsonCT, map[string]any{"action": 1, "id": "", "appId": appID, "formId": formID, "data": data}, 200)
	recID, _ := rec["id"].(string)
	if recID == "" || rec["flowStatus"] != float64(1) {
		t.Fatalf("draft: %v", rec)
	}
	if n := a.raw("POST", "/api/v1/FormData/$count", jsonCT, mustJSON(t, filter), 200); strings.TrimSpace(string(n.body)) != "1" {
		t.Fatalf("record count after the draft: %s", n.body)
	}
	// The filter editor's condition: a number field against a string value.
	cond := map[string]any{"skip": 0, "take": 20, "scope": map[string]any{}, "filter": map[string]any{"rel": "and", "items": []any{
		map[string]any{"field": "formId", "type": "none", "op": "eq", "value": formID},
		map[string]any{"rel": "and", "items": []any{map[string]any{"field": "data.jamount000000001", "type": "number", "op": "gte", "value": "5000"}}}}}}
	if l := asList(a.json("POST", "/api/v1/FormData/$query", jsonCT, cond, 200)["value"]); len(l) != 1 || !containsID(l, recID) {
		t.Fatalf("filtered list: %v", l)
	}

	// 13. Open the record: print templates first, then the record.
	if pt := a.list("PrintTemplate", "$filter=formId eq '"+formID+"'"); len(pt) != 0 {
		t.Fatalf("print templates: %v", pt)
	}
	got := a.json("GET", "/api/v1/FormData/"+recID, "", nil, 200)
	files := asList(got["data"].(map[string]any)["jfiles0000000001"])
	if len(files) != 1 || files[0].(map[string]any)["name"] != "报价单.pdf" {
		t.Fatalf("the reopened record lost the file name: %v", got["data"])
	}

	// 14. Submit: the workflow starts in the same request.
	sub := a.json("PUT", "/api/v1/FormData/"+recID, jsonCT, map[string]any{"action": 2, "id": recID, "appId": appID,
		"formId": formID, "data": data}, 200)
	if sub["flowStatus"] != float64(2) {
		t.Fatalf("submitted record: %v", sub)
	}

	// 15. B logs in and bootstraps; as an employee the side bar asks AppMenuPerms
	// and the form page the permission groups.
	b.token = b.login("bob", "bob-pass")
	bme := b.json("GET", "/api/v1/system/currentuser", "", nil, 200)
	if bme["userType"] != float64(64) || bme["userId"] != bobID {
		t.Fatalf("currentuser of bob: %v", bme)
	}
	b.json("GET", "/odata/v1/Corporate/demo", "", nil, 200)
	bApps := b.list("App", "")
	if !containsID(bApps, appID) {
		t.Fatalf("bob's app list lacks the app of his task: %v", bApps)
	}
	b.list("Department", "")
	if n := b.count("WfTodo", ""); n != "1" {
		t.Fatalf("bob's to-do badge %s", n)
	}
	b.count("SystemMessage", "$filter=isRead eq false")
	perms := b.rawJSON("GET", "/api/v1/system/AppMenuPerms?appId="+appID, "", nil, 200)
	if !containsID(asList(perms), formID) {
		t.Fatalf("AppMenuPerms: %v", perms)
	}
	if ag := b.list("AuthGroup", "$filter=appid eq '"+appID+"' AND formid eq '"+formID+"'"); len(ag) != 0 {
		t.Fatalf("AuthGroup: %v", ag)
	}

	// 16. The to-do list of the app.
	todos := b.list("WfTodo", "$filter=appId eq '"+appID+"'&$top=20&$skip=0")
	if len(todos) != 1 {
		t.Fatalf("bob's to-dos: %v", todos)
	}
	todo := todos[0].(map[string]any)
	brief := asList(todo["dataBrief"])
	if todo["formName"] != "采购申请" || todo["dataId"] != recID || todo["formId"] != formID || len(brief) == 0 ||
		brief[0].(map[string]any)["field"] != "jreason000000001" || brief[0].(map[string]any)["value"] != "买电脑" {
		t.Fatalf("to-do: %v", todo)
	}
	if n := b.count("WfTodo", "$filter=appId eq '"+appID+"'"); n != "1" {
		t.Fatalf("bob's app badge %s", n)
	}

	// 17. Open the to-do.
	b.json("GET", "/odata/v1/FormDef/"+formID, "", nil, 200)
	b.json("GET", "/api/v1/FormData/"+recID, "", nil, 200)
	if got := b.fetch(fileURL); !bytes.Equal(got, pdf) {
		t.Fatal("bob cannot load the attachment")
	}

	// 18. A is no approver; B approves.
	a.json("POST", "/api/v1/Workflow/Approve", jsonCT, map[string]any{"dataId": recID, "action": "1", "comment": "同意"}, 403)
	b.json("POST", "/api/v1/Workflow/Approve", jsonCT, map[string]any{"dataId": recID, "action": "1", "comment": "同意"}, 200)

	// 19. Badges and the record agree; the approval log shows the decision.
	if n := b.count("WfTodo", ""); n != "0" {
		t.Fatalf("bob's to-do badge after approving: %s", n)
	}
	if fin := a.json("GET", "/api/v1/FormData/"+recID, "", nil, 200); fin["flowStatus"] != float64(3) {
		t.Fatalf("approved record: %v", fin)
	}
	logs := a.list("WfApprovalLog", "$filter=dataId eq '"+recID+"'&$orderby=approvalTime asc")
	if len(logs) != 2 {
		t.Fatalf("approval log: %v", logs)
	}
	submitted, approved := logs[0].(map[string]any), logs[1].(map[string]any)
	if submitted["nodeName"] != "开始" || submitted["approver"].(map[string]any)["id"] != me["userId"] ||
		approved["nodeName"] != "主管审批" || approved["approver"].(map[string]any)["id"] != bobID ||
		approved["comment"] != "同意" || approved["result"] != "1" {
		t.Fatalf("approval log: the submit, then bob's approval with its comment: %v", logs)
	}

	// Batch delete from the list page: two more drafts, then DELETE …/batch.
	var keys []any
	for _, reason := range []string{"一", "二"} {
		d := a.json("POST", "/api/v1/FormData", jsonCT, map[string]any{"action": 1, "id": "", "appId": appID, "formId": formID,
			"data": map[string]any{"jreason000000001": reason}}, 200)
		keys = append(keys, d["id"])
	}
	a.raw("DELETE", "/api/v1/FormData/batch", jsonCT, mustJSON(t, map[string]any{"keys": keys}), 204)
	if l := asList(a.json("POST", "/api/v1/FormData/$query", jsonCT, findOpts, 200)["value"]); len(l) != 1 || !containsID(l, recID) {
		t.Fatalf("after the batch delete: %v", l)
	}
	t.Logf("%d requests (%d preflights) replayed as the web client", a.requests+b.requests, a.preflights+b.preflights)
}

const jsonCT = "application/json;charset=UTF-8"

// sessionOptions is the options string the client gives a new form (WTV-8).
const sessionOptions = `{"info":{"align":"left"},"form":{"inline":false,"hideRequiredAsterisk":false,"labelPosition":"top","size":"default","labelWidth":"auto"},"resetBtn":{"show":false,"innerText":"重置"},"submitBtn":{"show":false,"innerText":"提交"}}`

// sessionLayout is the purchase form the admin designs: four fields, one
// of them inside a row and column.
const sessionLayout = `[{"type":"input","field":"jreason000000001","title":"事由","$required":true,"props":{}},{"type":"fcRow","children":[{"type":"col","children":[{"type":"number","field":"jamount000000001","title":"金额","props":{}}]}]},{"type":"select","field":"jregion000000001","title":"区域","props":{},"options":[{"label":"华东","value":"east"},{"label":"华南","value":"south"}]},{"type":"fileupload","field":"jfiles0000000001","title":"附件","props":{"action":"/upload"}}]`

// sessionFlow is WTV-11's designer flow data: one approval node, bob.
const sessionFlow = `{"startNode":{"id":"js1","nodeType":1,"name":"开始","metadata":{}},"nodes":[{"id":"jn1","nodeType":7,"name":"主管审批","metadata":{"approveMeta":{"approveMode":1,"approvalCandidates":[{"candidateType":2,"candidateId":"<BOB>","candidateName":"Bob"}],"enableCopyto":false,"copytoCandidates":[]}}}],"endNode":{"id":"je1","nodeType":2,"name":"结束","metadata":{}},"eventSource":"0"}`

// browser is one user of the web client in a browser on another origin.
type browser struct {
	t                    *testing.T
	base, origin, token  string
	requests, preflights int
}

type browserResp struct {
	status int
	header http.Header
	body   []byte
}

// login is the login page's token request (§12.2): a "simple" request.
func (br *browser) login(user, pass string) string {
	br.t.Helper()
	body := "username=" + user + "&password=" + pass + "&grant_type=password&client_id=EIMSD160507G0401S171201B1014Next"
	r := br.send("POST", br.base+"/connect/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}, []byte(body))
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil || r.status != 200 {
		br.t.Fatalf("login %s: %d %s", user, r.status, r.body)
	}
	if exp, _ := m["expires_in"].(float64); exp <= 300 {
		br.t.Fatalf("expires_in %v: the client would log out at once", m["expires_in"])
	}
	return m["access_token"].(string)
}

// raw sends an API call as axios does from another origin: a preflight
// first (the call has an Authorization header), then the call.
func (br *browser) raw(method, path, ctype string, body []byte, status int) browserResp {
	br.t.Helper()
	hdr := map[string]string{"Authorization": "Bearer " + br.token, "Accept": "application/json, text/plain, */*"}
	reqHeaders := "authorization"
	if ctype != "" {
		hdr["Content-Type"] = ctype
		reqHeaders += ",content-type"
	}
	if strings.HasPrefix(path, "/odata/") {
		hdr["Accept"] = "application/json;odata.metadata=none"
	}
	br.preflight(path, method, reqHeaders)
	r := br.send(method, br.base+path, hdr, body)
	if r.status != status {
		br.t.Fatalf("%s %s: %d, want %d: %s", method, path, r.status, status, r.body)
	}
	return r
}

// preflight is the browser's CORS check before a call that is not simple.
func (br *browser) preflight(path, method, headers string) {
	br.t.Helper()
	br.preflights++
	r := br.send("OPTIONS", br.base+path, map[string]string{"Access-Control-Request-Method": method,
		"Access-Control-Request-Headers": headers}, nil)
	allowM, allowH := r.header.Get("Access-Control-Allow-Methods"), strings.ToLower(r.header.Get("Access-Control-Allow-Headers"))
	if r.status != 204 && r.status != 200 || !strings.Contains(allowM, method) {
		br.t.Fatalf("preflight of %s %s: %d, Allow-Methods %q", method, path, r.status, allowM)
	}
	for _, h := range strings.Split(headers, ",") {
		if !strings.Contains(allowH, h) {
			br.t.Fatalf("preflight of %s %s: Allow-Headers %q lacks %s", method, path, allowH, h)
		}
	}
}

// send is one HTTP exchange with the Origin header; every answer must grant the origin.
func (br *browser) send(method, url string, hdr map[string]string, body []byte) browserResp {
	br.t.Helper()
	br.requests++
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		br.t.Fatal(err)
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	req.Header.Set("Origin", br.origin)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		br.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.Header.Get("Access-Control-Allow-Origin") != br.origin {
		br.t.Fatalf("%s %s: %d without the CORS grant (the browser would hide it): %v", method, url, res.StatusCode, res.Header)
	}
	return browserResp{status: res.StatusCode, header: res.Header, body: b}
}

// json sends a call with a JSON body (or none) and decodes an object answer.
func (br *browser) json(method, path, ctype string, body any, status int) map[string]any {
	br.t.Helper()
	m, _ := br.rawJSON(method, path, ctype, body, status).(map[string]any)
	return m
}

func (br *browser) rawJSON(method, path, ctype string, body any, status int) any {
	br.t.Helper()
	var b []byte
	if body != nil {
		b = mustJSON(br.t, body)
	}
	r := br.raw(method, path, ctype, b, status)
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		br.t.Fatalf("%s %s: not JSON: %s", method, path, r.body)
	}
	if m, ok := v.(map[string]any); ok && status < 300 && (m["@odata.context"] != nil || m["@odata.nextLink"] != nil) {
		br.t.Fatalf("%s %s: OData metadata in the answer: %s", method, path, r.body)
	}
	if status >= 400 {
		if m, _ := v.(map[string]any); m == nil || m["message"] == nil || m["message"] == "" {
			br.t.Fatalf("%s %s: error without message (the client would show 系统出错): %s", method, path, r.body)
		}
	}
	return v
}

// list is an OData list as the client sends it: POST …/$query, text/plain.
func (br *browser) list(set, options string) []any {
	br.t.Helper()
	r := br.raw("POST", "/odata/v1/"+set+"/$query", "text/plain;charset=UTF-8", []byte(options), 200)
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		br.t.Fatalf("%s/$query: %s", set, r.body)
	}
	v, ok := m["value"].([]any)
	if !ok || m["@odata.context"] != nil {
		br.t.Fatalf("%s/$query: %s", set, r.body)
	}
	return v
}

// count is an OData count as the client sends it: the text/plain integer.
func (br *browser) count(set, options string) string {
	br.t.Helper()
	r := br.raw("POST", "/odata/v1/"+set+"/$count", "text/plain;charset=UTF-8", []byte(options), 200)
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		br.t.Fatalf("%s/$count: Content-Type %q", set, r.header.Get("Content-Type"))
	}
	return strings.TrimSpace(string(r.body))
}

// upload posts a file as the form's upload control does.
func (br *browser) upload(name, ctype string, content []byte) map[string]any {
	br.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, name))
	h.Set("Content-Type", ctype)
	p, _ := w.CreatePart(h)
	_, _ = p.Write(content)
	_ = w.Close()
	r := br.raw("POST", "/api/v1/upload", w.FormDataContentType(), buf.Bytes(), 200)
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil || len(asList(m["value"])) != 1 {
		br.t.Fatalf("upload: %s", r.body)
	}
	return asList(m["value"])[0].(map[string]any)
}

// fetch loads a file URL as <img src> does: no token (a simple request).
func (br *browser) fetch(url string) []byte {
	br.t.Helper()
	r := br.send("GET", url, nil, nil)
	if r.status != 200 {
		br.t.Fatalf("GET %s: %d %s", url, r.status, r.body)
	}
	return r.body
}

func asList(v any) []any { l, _ := v.([]any); return l }

func containsID(list []any, id string) bool {
	for _, v := range list {
		if m, ok := v.(map[string]any); ok && m["id"] == id {
			return true
		}
	}
	return false
}

func hasMenu(app map[string]any, formID, title string) bool {
	for _, m := range asList(app["appMenus"]) {
		if mm, ok := m.(map[string]any); ok && mm["menuId"] == formID && mm["title"] == title {
			return true
		}
	}
	return false
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
