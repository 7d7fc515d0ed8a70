package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// e-office (connectors/eoffice) through the real hub: the built-in
// connector as a plugin process, the identity service's clients and users,
// dialect tokens in the hub cache, the directory, records and files of the
// core, the way a PHP client of e-office 10 sends its requests.

const eofficeAPI = "/eoffice10/server/public/api/"

// eoCall sends one e-office request: a form body (the PHP SDK's
// http_build_query encoding) or a JSON body; headers as given.
func (h *testHub) eoCall(t testing.TB, method, path, ct string, body []byte, headers map[string]string) (int, map[string]any, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, h.base+eofficeAPI+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return res.StatusCode, m, raw
}

func eoData(t testing.TB, what string, m map[string]any, raw []byte) any {
	t.Helper()
	if m["status"] != float64(1) {
		t.Fatalf("%s: %s", what, raw)
	}
	return m["data"]
}

func eoCode(m map[string]any) string {
	es, _ := m["errors"].([]any)
	if len(es) == 0 {
		return ""
	}
	c, _ := es[0].(map[string]any)["code"].(string)
	return c
}

// eoToken runs get-token as the PHP SDK does: a form body and an empty
// "Authorization: Bearer " header.
func (h *testHub) eoToken(t testing.TB, agent, secret, user string) string {
	t.Helper()
	_, m, raw := h.eoCall(t, "POST", "open-api/get-token", "application/x-www-form-urlencoded",
		[]byte(url.Values{"agent_id": {agent}, "secret": {secret}, "user": {user}}.Encode()), map[string]string{"Authorization": "Bearer "})
	d, _ := eoData(t, "get-token "+user, m, raw).(map[string]any)
	tok, _ := d["token"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{128}$`).MatchString(tok) {
		t.Fatalf("token %q", tok)
	}
	return tok
}

func TestEOfficeThroughTheHub(t *testing.T) {
	t.Parallel()
	h := startHub(t, t.TempDir(), nil)
	const secret = "Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok"
	form := "application/x-www-form-urlencoded"
	tok := h.eoToken(t, "100001", secret, "admin")
	bearer := map[string]string{"Authorization": "Bearer " + tok}

	// The user list with the SDK's nested search; alice gets an e-office id on first sight and keeps it.
	_, m, raw := h.eoCall(t, "POST", "user/users", form, []byte("autoFixPage=1&limit=20&order_by=%5B%5D&page=1&search%5Buser_accounts%5D%5B0%5D=alice"), bearer)
	list := eoData(t, "user list", m, raw).(map[string]any)["list"].([]any)
	if len(list) != 1 {
		t.Fatalf("user list: %s", raw)
	}
	alice := list[0].(map[string]any)
	aliceID, _ := alice["user_id"].(string)
	if !regexp.MustCompile(`^WV\d{8}$`).MatchString(aliceID) || alice["user_accounts"] != "alice" {
		t.Fatalf("alice: %s", raw)
	}
	_, m, raw = h.eoCall(t, "GET", "user/"+aliceID+"?api_token="+tok, "", nil, nil)
	if d := eoData(t, "user detail", m, raw).(map[string]any); d["user_id"] != aliceID || d["user_name"] != "Alice" {
		t.Fatalf("user detail: %s", raw)
	}
	_, m, raw = h.eoCall(t, "GET", "user?api_token="+tok+"&fields=user_id,user_accounts", "", nil, nil)
	if !strings.Contains(string(raw), `"user_id":"admin"`) || !strings.Contains(string(raw), `"user_id":"`+aliceID+`"`) {
		t.Fatalf("user ids: %s", raw)
	}

	// The department tree: HQ, then Sales under it.
	_, m, raw = h.eoCall(t, "GET", "system/department/all-tree?api_token="+tok, "", nil, nil)
	tree := eoData(t, "tree", m, raw).([]any)
	if len(tree) != 2 || tree[0].(map[string]any)["dept_name"] != "HQ" || tree[1].(map[string]any)["level"] != float64(1) {
		t.Fatalf("tree: %s", raw)
	}
	sales := tree[1].(map[string]any)["dept_id"].(float64)
	_, m, raw = h.eoCall(t, "DELETE", "system/department/"+jsonNum(sales)+"?api_token="+tok, "", nil, nil)
	if eoCode(m) != "0x002004" {
		t.Fatalf("deleting a department with users: %s", raw)
	}
	_, m, raw = h.eoCall(t, "POST", "system/department", "application/json", []byte(`{"api_token":"`+tok+`","dept_name":"Lab","parent_id":`+jsonNum(sales)+`,"dept_sort":"2"}`), nil)
	created := eoData(t, "dept create", m, raw).(map[string]any)
	_, m, raw = h.eoCall(t, "DELETE", "system/department/"+jsonNum(created["dept_id"].(float64))+"?api_token="+tok, "", nil, nil)
	if eoData(t, "dept delete", m, raw).(map[string]any)["dept_name"] != "Lab" {
		t.Fatalf("dept delete: %s", raw)
	}

	// A form-modeling record is a hub record: visible natively and through H3Yun.
	_, m, raw = h.eoCall(t, "POST", "form-modeling/data/1001", form,
		[]byte("api_token="+tok+"&field_1=Via+e-office&field_2=ACME&field_3=42.5&field_4=2025-03-01"), nil)
	dataID := jsonNum(eoData(t, "form create", m, raw).(float64))
	_, m, raw = h.eoCall(t, "GET", "form-modeling/data/1001?api_token="+tok+"&search="+url.QueryEscape(`{"field_3":[[40,50],"between"],"field_1":["e-off","like"]}`), "", nil, nil)
	if d := eoData(t, "form search", m, raw).(map[string]any); d["total"] != float64(1) {
		t.Fatalf("form search: %s", raw)
	}
	admin, _ := h.login("demo-client", "demo-secret", "admin", "admin-pass")
	native := h.jsonReq("GET", "/api/v1/contract?$filter=data/title eq 'Via e-office'", admin, nil)
	if !strings.Contains(string(native.body), `"amount":42.5`) || !strings.Contains(string(native.body), `"party":"ACME"`) {
		t.Fatalf("native view: %s", native.body)
	}
	_, h3 := h.h3yunInvoke(t, "demo-engine-secret", `{"ActionName":"LoadBizObjects","SchemaCode":"contract","Filter":"{\"FromRowNum\":0,\"ToRowNum\":10,\"Matcher\":{\"Type\":\"Item\",\"Name\":\"title\",\"Operator\":2,\"Value\":\"Via e-office\"}}"}`)
	if h3["Successful"] != true || !strings.Contains(toJSON(h3), "ACME") {
		t.Fatalf("H3Yun view: %v", h3)
	}
	_, m, raw = h.eoCall(t, "POST", "form-modeling/data/1001/"+dataID, "application/json", []byte(`{"api_token":"`+tok+`","field_2":"Initech"}`), nil)
	if eoData(t, "form edit", m, raw) != nil {
		t.Fatalf("form edit answered data: %s", raw)
	}
	if native := h.jsonReq("GET", "/api/v1/contract?$filter=data/party eq 'Initech'", admin, nil); !strings.Contains(string(native.body), "Via e-office") {
		t.Fatalf("native view after the edit: %s", native.body)
	}

	// Attachments are hub files; documents are records of the document form.
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	fw, _ := w.CreateFormFile("Filedata", "合同.txt")
	_, _ = fw.Write([]byte("contract text"))
	_ = w.Close()
	_, m, raw = h.eoCall(t, "POST", "attachment/upload?api_token="+tok, w.FormDataContentType(), mp.Bytes(), nil)
	att := eoData(t, "upload", m, raw).(map[string]any)["attachment_id"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(att) {
		t.Fatalf("attachment id %q", att)
	}
	status, _, body := h.eoCall(t, "GET", "attachment/index/"+att+"?api_token="+tok+"&operate=download", "", nil, nil)
	if status != 200 || string(body) != "contract text" {
		t.Fatalf("download: %d %s", status, body)
	}
	_, m, raw = h.eoCall(t, "POST", "document", form, []byte("api_token="+tok+"&subject=Policy&folder_id=0&attachment_id%5B%5D="+att), nil)
	docID := jsonNum(eoData(t, "document create", m, raw).(map[string]any)["document_id"].(float64))
	_, m, raw = h.eoCall(t, "GET", "document/"+docID+"?api_token="+tok, "", nil, nil)
	if d := eoData(t, "document", m, raw).(map[string]any); d["subject"] != "Policy" || toJSON(d["attachment_id"]) != `["`+att+`"]` {
		t.Fatalf("document: %s", raw)
	}

	// A non-admin's token: bob reads the directory (ids allocated by the app's service user).
	bob := h.eoToken(t, "100001", secret, "bob")
	_, m, raw = h.eoCall(t, "GET", "role?api_token="+bob, "", nil, nil)
	if d := eoData(t, "bob's roles", m, raw).(map[string]any); d["total"] != float64(2) || !strings.Contains(string(raw), `"role_id":1,"role_name":"Administrator"`) {
		t.Fatalf("bob's role list: %s", raw)
	}

	// Refresh: the old token dies at once; login-info shows the user.
	var rt string
	{
		_, m, raw := h.eoCall(t, "POST", "open-api/get-token", "application/json", []byte(`{"agent_id":"100001","secret":"`+secret+`","user":"alice"}`), nil)
		d := eoData(t, "get-token alice", m, raw).(map[string]any)
		a1, r1 := d["token"].(string), d["refresh_token"].(string)
		_, m, raw = h.eoCall(t, "POST", "open-api/refresh-token", "application/json", []byte(`{"token":"`+a1+`","refresh_token":"`+r1+`"}`), nil)
		a2 := eoData(t, "refresh", m, raw).(map[string]any)["token"].(string)
		if status, m, raw := h.eoCall(t, "GET", "role?api_token="+a1, "", nil, nil); status != 401 || eoCode(m) != "0x003008" {
			t.Fatalf("old token: %d %s", status, raw)
		}
		_, m, raw = h.eoCall(t, "GET", "auth/login-info/refresh", "", nil, map[string]string{"Authorization": "Bearer " + a2})
		d = eoData(t, "login-info", m, raw).(map[string]any)
		if d["current_user"].(map[string]any)["user_id"] != aliceID || d["refresh_token"] != r1 {
			t.Fatalf("login-info: %s", raw)
		}
		rt = r1
	}
	if _, m, raw := h.eoCall(t, "GET", "no/such/route/?api_token="+tok, "", nil, nil); eoCode(m) != "404" ||
		!strings.Contains(string(raw), `"404:`+h.base+eofficeAPI+`no/such/route"`) {
		t.Fatalf("unknown route: %s", raw)
	}
	if status, m, _ := h.eoCall(t, "GET", "role", "", nil, nil); status != 401 || eoCode(m) != "0x003001" {
		t.Fatalf("no token: %d %v", status, m)
	}

	// Tenant isolation: demo2's app never reads demo's users, records, files or documents, in any id spelling.
	carol := h.eoToken(t, "100002", "demo2-eoffice-secret-0000000000", "carol")
	for _, p := range []string{"user/admin", "user/" + aliceID, "form-modeling/data/1001/" + dataID, "attachment/index/" + att, "document/" + docID} {
		_, _, raw := h.eoCall(t, "GET", p+"?api_token="+carol, "", nil, nil)
		if strings.Contains(string(raw), "Alice") || strings.Contains(string(raw), "ACME") || strings.Contains(string(raw), "contract text") ||
			strings.Contains(string(raw), "Policy") || strings.Contains(string(raw), `"user_accounts":"admin"`) {
			t.Fatalf("demo2 read %s: %s", p, raw)
		}
	}
	aliceHub := h.jsonReq("GET", "/api/v1/user?$filter=userName eq 'alice'", admin, nil)
	hubID := regexp.MustCompile(`"id":"([^"]+)"`).FindSubmatch(aliceHub.body)
	if hubID == nil {
		t.Fatalf("alice's hub id: %s", aliceHub.body)
	}
	_, m, raw = h.eoCall(t, "GET", "user?api_token="+carol+"&search="+url.QueryEscape(`{"user_id":[["admin","`+aliceID+`","`+string(hubID[1])+`"],"in"]}`), "", nil, nil)
	if d := eoData(t, "demo2 user search", m, raw).(map[string]any); d["total"] != float64(0) {
		t.Fatalf("demo2 found demo users: %s", raw)
	}
	if _, m, raw := h.eoCall(t, "POST", "open-api/refresh-token", "application/json", []byte(`{"token":"`+carol+`","refresh_token":"`+rt+`"}`), nil); eoCode(m) != "0x500003" {
		t.Fatalf("refreshing with another tenant's refresh token: %s", raw)
	}
}

// TestEOfficeRateLimit: the app's rate (the hub client's rateLimit) is
// counted per app; over it, e-office's envelope with 0x000018, here with
// HTTP 429 (connectors.eoffice.config.rateLimitStatus).
func TestEOfficeRateLimit(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../../config/eimshub.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(example), "      # rateLimitStatus: 429  # default 200 + e-office's 0x000018 envelope", "      rateLimitStatus: 429", 1)
	cfg = strings.Replace(cfg, "        serviceUser: admin        # looks users up for get-token; tokens act as the user named by `user`\n        rateLimit: 20-S",
		"        serviceUser: admin        # looks users up for get-token; tokens act as the user named by `user`\n        rateLimit: 3-M", 1)
	if cfg == string(example) || !strings.Contains(cfg, "rateLimit: 3-M") {
		t.Fatal("the example config changed shape")
	}
	path := filepath.Join(t.TempDir(), "eoffice.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startHub(t, t.TempDir(), map[string]string{"EIMSHUB_CONFIG": path})
	tok := h.eoToken(t, "100001", "Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok", "admin")
	var statuses []int
	for i := 0; i < 4; i++ {
		status, m, _ := h.eoCall(t, "GET", "role?response=count&api_token="+tok, "", nil, nil)
		statuses = append(statuses, status)
		if i == 3 && eoCode(m) != "0x000018" {
			t.Fatalf("4th request: %v", m)
		}
	}
	if toJSON(statuses) != "[200,200,200,429]" {
		t.Fatalf("statuses %v, want three 200 then 429", statuses)
	}
}

func jsonNum(f float64) string { b, _ := json.Marshal(f); return string(b) }
