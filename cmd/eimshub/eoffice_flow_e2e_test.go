package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// eofficeCall is an e-office answer: the envelope decoded.
type eofficeCall struct {
	raw    []byte
	Status int             `json:"status"`
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

const eofficeBase = "/eoffice10/server/public/api/"

// eoffice sends a request as a PHP client does: form bodies built like
// http_build_query (nested keys, percent-encoded brackets), GET lists with
// JSON text in the query.
func (h *testHub) eoffice(method, route, token string, v url.Values) eofficeCall {
	h.t.Helper()
	path, body, ct := eofficeBase+route, []byte(nil), ""
	if method == "GET" {
		if len(v) > 0 {
			path += "?" + v.Encode()
		}
	} else {
		body, ct = []byte(v.Encode()), "application/x-www-form-urlencoded"
	}
	r := h.doHeader(method, path, "Bearer "+token, ct, body)
	if r.status != 200 {
		h.t.Fatalf("%s %s: HTTP %d: %s", method, route, r.status, r.body)
	}
	var out eofficeCall
	if err := json.Unmarshal(r.body, &out); err != nil {
		h.t.Fatalf("%s %s: not JSON: %s", method, route, r.body)
	}
	out.raw = r.body
	return out
}

// doHeader is do with a literal Authorization header (the SDK's empty
// "Bearer " included).
func (h *testHub) doHeader(method, path, auth, contentType string, body []byte) resp {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func (c eofficeCall) ok(t *testing.T, what string, v any) {
	t.Helper()
	if c.Status != 1 {
		t.Fatalf("%s: %s", what, c.raw)
	}
	if v != nil {
		if err := json.Unmarshal(c.Data, v); err != nil {
			t.Fatalf("%s: data %s: %v", what, c.Data, err)
		}
	}
}

func (c eofficeCall) fails(t *testing.T, what, code string) {
	t.Helper()
	if c.Status != 0 || len(c.Errors) != 1 || c.Errors[0].Code != code || c.Errors[0].Message == "" {
		t.Fatalf("%s: want error %s, got %s", what, code, c.raw)
	}
}

type eofficeList struct {
	Total json.Number      `json:"total"`
	List  []map[string]any `json:"list"`
}

// TestEOfficeFlowScenario is issue 13's end-to-end scenario over HTTP
// against the real hub (example config, the eoffice connector in its
// plugin process): get-token → user list with a search → department tree
// → bob starts leave_approval as an e-office flow with form data and a
// detail table → his manager alice sees it in her to-do list and hands it
// over to the admin → already-do and search lists show it → the record is
// visible natively with flowStatus 2 → a flow started natively shows up in
// the e-office to-do list, and the admin ends the first one (flowStatus 3).
func TestEOfficeFlowScenario(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../../config/eimshub.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The leave form gains a detail table (e-office DATA_<n>_<m> rows).
	const anchor = "          - {field: start_date, type: timestamp, title: Start date}\n"
	if !strings.Contains(string(example), anchor) {
		t.Fatal("the example config changed: no start_date field on leave_request")
	}
	cfg := strings.Replace(string(example), anchor, anchor+
		"          - {field: segments, type: tableform, title: Segments, columns: [{field: place, type: input, title: Place}, {field: hours, type: number, title: Hours}]}\n", 1)
	// The scenario makes more calls a second than the demo app's 20-S.
	cfg = strings.ReplaceAll(cfg, "rateLimit: 20-S", "rateLimit: 1000-S")
	path := filepath.Join(t.TempDir(), "eimshub.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startHub(t, t.TempDir(), map[string]string{"EIMSHUB_CONFIG": path})

	token := func(user string) string {
		t.Helper()
		var d struct {
			Token string `json:"token"`
		}
		h.eoffice("POST", "open-api/get-token", "", url.Values{"agent_id": {"100001"},
			"secret": {"Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok"}, "user": {user}}).ok(t, "get-token "+user, &d)
		if len(d.Token) != 128 {
			t.Fatalf("token %q", d.Token)
		}
		return d.Token
	}
	bob, alice, admin := token("bob"), token("alice"), token("admin")

	// The user list with a search, as the PHP SDK sends it: alice's e-office id.
	var users eofficeList
	raw := h.doHeader("POST", eofficeBase+"user/users", "Bearer "+bob, "application/x-www-form-urlencoded",
		[]byte("autoFixPage=1&limit=20&order_by=%5B%5D&page=1&search%5Buser_accounts%5D%5B0%5D=alice"))
	var env eofficeCall
	if err := json.Unmarshal(raw.body, &env); err != nil {
		t.Fatal(err)
	}
	env.raw = raw.body
	env.ok(t, "user list", &users)
	if len(users.List) != 1 || users.List[0]["user_accounts"] != "alice" {
		t.Fatalf("user list: %s", raw.body)
	}
	aliceID := users.List[0]["user_id"].(string)
	h.eoffice("GET", "system/department/all-tree", bob, nil).ok(t, "department tree", nil)

	// bob starts the leave (flow_id 1: the demo's only workflow), form data
	// and a detail table as nested form keys.
	save := url.Values{"flow_id": {"1"}, "flow_run_name": {"请假"}, "run_name_html": {"<div>请假</div>"},
		"form_data[DATA_1]": {"年假"}, "form_data[DATA_2]": {"5"},
		"form_data[DATA_4][0][DATA_4_1]": {"北京"}, "form_data[DATA_4][0][DATA_4_2]": {"8"},
		"form_data[DATA_4][1][DATA_4_1]": {"上海"}, "form_data[DATA_4][1][DATA_4_2]": {"4"},
		"create_type": {""}, "agentType": {""}}
	var started struct {
		RunID     json.Number `json:"run_id"`
		ProcessID string      `json:"process_id"`
		Node      json.Number `json:"flow_process"`
		RunName   string      `json:"run_name"`
		FRP       json.Number `json:"flow_run_process_id"`
	}
	h.eoffice("POST", "flow/new-page/flow-save", bob, save).ok(t, "flow-save", &started)
	if started.ProcessID != "1" || started.RunName != "请假" || started.RunID == "" || started.FRP == "" {
		t.Fatalf("flow-save: %+v", started)
	}
	bad := url.Values{"flow_id": {"1"}, "flow_run_name": {""}, "run_name_html": {""}}
	h.eoffice("POST", "flow/new-page/flow-save", bob, bad).fails(t, "empty title", "0x030162")
	h.eoffice("POST", "flow/new-page/flow-save", bob, url.Values{"flow_run_name": {"x"}, "run_name_html": {"x"}}).fails(t, "no flow_id", "0x000001")
	h.eoffice("POST", "flow/new-page/flow-save", bob, url.Values{"flow_id": {"999"}, "flow_run_name": {"x"}, "run_name_html": {"x"}}).fails(t, "unknown flow", "0x000006")

	// bob's to-do: the step-1 row; the next node is alice's (主管审批).
	todo := func(tok string, search string) eofficeList {
		t.Helper()
		var l eofficeList
		q := url.Values{}
		if search != "" {
			q.Set("search", search)
		}
		h.eoffice("GET", "flow/flow-list/teed-to-do-list", tok, q).ok(t, "to-do", &l)
		return l
	}
	bobTodo := todo(bob, `{"run_id":[`+started.RunID.String()+`]}`)
	if len(bobTodo.List) != 1 || bobTodo.List[0]["flow_run_process_id"] != json.Number(started.FRP).String() && bobTodo.List[0]["flow_run_process_id"] != mustFloat(started.FRP) ||
		bobTodo.List[0]["process_id"] != float64(1) || bobTodo.List[0]["user_run_type"] != float64(1) || bobTodo.List[0]["host_flag"] != float64(1) {
		t.Fatalf("bob's to-do: %v", bobTodo.List)
	}
	var next struct {
		MaxNodeFlag string           `json:"maxNodeFlag"`
		Turn        []map[string]any `json:"turn"`
		Back        []map[string]any `json:"back"`
	}
	h.eoffice("GET", "flow/run/show-flow-transact-process", bob, url.Values{"run_id": {started.RunID.String()},
		"flow_process": {started.Node.String()}}).ok(t, "next nodes", &next)
	if next.MaxNodeFlag != "0" || len(next.Turn) != 1 || next.Turn[0]["process_name"] != "主管审批" {
		t.Fatalf("next nodes: %+v", next)
	}
	node2 := strings.TrimSuffix(strings.TrimSuffix(jsonText(next.Turn[0]["node_id"]), ".0"), "")
	var cands struct {
		Default struct {
			Handle struct {
				UserID []string `json:"user_id"`
			} `json:"handle"`
		} `json:"default"`
	}
	h.eoffice("GET", "flow/run/show-flow-transact-user", bob, url.Values{"run_id": {started.RunID.String()},
		"flow_process": {started.Node.String()}, "target_process_id": {node2}}).ok(t, "candidates", &cands)
	if len(cands.Default.Handle.UserID) != 1 || cands.Default.Handle.UserID[0] != aliceID {
		t.Fatalf("candidates of 主管审批: %+v (alice is %s)", cands, aliceID)
	}
	turn := url.Values{"run_id": {started.RunID.String()}, "process_id": {"1"}, "flow_run_process_id": {started.FRP.String()},
		"process_host_user": {aliceID}, "process_transact_user": {""}, "next_flow_process": {node2},
		"process_copy_user": {""}, "flowTurnType": {"turn"}, "flow_process": {started.Node.String()}}
	var one int
	h.eoffice("POST", "flow/run/flow-turning", bob, turn).ok(t, "flow-turning", &one)
	if one != 1 {
		t.Fatalf("flow-turning answered %d", one)
	}
	h.eoffice("POST", "flow/run/flow-turning", bob, turn).fails(t, "resubmission", "0x030022")

	// alice's to-do: step 2 at 主管审批, hosted by her, from bob.
	aliceTodo := todo(alice, `{"run_name":["请","like"]}`)
	if len(aliceTodo.List) != 1 {
		t.Fatalf("alice's to-do: %v", aliceTodo.List)
	}
	row := aliceTodo.List[0]
	last, _ := row["last_process_info"].(map[string]any)
	if row["process_id"] != float64(2) || row["host_flag"] != float64(1) || row["current_steps"] != "2: 主管审批" ||
		last == nil || last["process_id"] != float64(1) || row["flow_run_process_belongs_to_flow_run"].(map[string]any)["run_name"] != "请假" {
		t.Fatalf("alice's to-do row: %v", row)
	}
	frp2 := jsonText(row["flow_run_process_id"])
	// The record is visible natively, approving, with the detail rows.
	nativeAdmin, _ := h.login("demo-client", "demo-secret", "admin", "admin-pass")
	recs := h.jsonReq("GET", "/api/v1/leave_request?$filter=data/reason eq '年假'", nativeAdmin, nil)
	mustStatus(t, "native record list", recs, 200)
	vals := recs.json(t)["value"].([]any)
	if len(vals) != 1 {
		t.Fatalf("native records: %s", recs.body)
	}
	rec := vals[0].(map[string]any)
	segs, _ := rec["data"].(map[string]any)["segments"].([]any)
	if rec["flowStatus"] != float64(2) || rec["data"].(map[string]any)["days"] != float64(5) || len(segs) != 2 {
		t.Fatalf("native record: %v", rec)
	}

	// alice hands it over to the admin (5 days: 管理员审批).
	h.eoffice("GET", "flow/run/show-flow-transact-process", alice, url.Values{"run_id": {started.RunID.String()},
		"flow_process": {node2}}).ok(t, "next nodes at 主管审批", &next)
	if len(next.Turn) != 1 || next.Turn[0]["process_name"] != "管理员审批" || len(next.Back) != 1 {
		t.Fatalf("next nodes at 主管审批: %+v", next)
	}
	var adminUsers eofficeList
	h.eoffice("GET", "user", alice, url.Values{"search": {`{"user_accounts":["admin"]}`}}).ok(t, "admin's id", &adminUsers)
	adminID := adminUsers.List[0]["user_id"].(string)
	h.eoffice("POST", "flow/run/flow-turning", alice, url.Values{"run_id": {started.RunID.String()}, "process_id": {"2"},
		"flow_run_process_id": {frp2}, "process_host_user": {adminID}, "next_flow_process": {jsonText(next.Turn[0]["node_id"])},
		"flowTurnType": {"turn"}, "flow_process": {node2}}).ok(t, "hand over to admin", nil)

	// already-do (alice) and search (bob) show it.
	var done eofficeList
	h.eoffice("GET", "flow/flow-list/already-do-list", alice, nil).ok(t, "already-do", &done)
	if len(done.List) != 1 || done.List[0]["user_run_type"] != float64(2) || done.List[0]["latest_steps"] != "3: 管理员审批" {
		t.Fatalf("alice's already-do: %v", done.List)
	}
	var found eofficeList
	h.eoffice("GET", "flow/flow-list/flow-search-list", bob, url.Values{"search": {`{"run_name":["请假"]}`}}).ok(t, "search", &found)
	if len(found.List) != 1 || found.List[0]["run_name"] != "请假" {
		t.Fatalf("bob's search: %v", found.List)
	}
	var mine eofficeList
	h.eoffice("GET", "flow/flow-list/my-request-list", bob, nil).ok(t, "my requests", &mine)
	if len(mine.List) != 1 {
		t.Fatalf("bob's requests: %v", mine.List)
	}

	// A flow started natively shows up in the e-office to-do list.
	nativeBob, _ := h.login("demo-client", "demo-secret", "bob", "bob-pass")
	nr := h.jsonReq("POST", "/api/v1/leave_request", nativeBob, map[string]any{"reason": "native", "days": 1})
	mustStatus(t, "native create", nr, 200)
	mustStatus(t, "native start", h.jsonReq("POST", "/api/v1/workflow/start", nativeBob,
		map[string]any{"flowDefinitionId": "leave_approval", "businessKey": nr.json(t)["id"], "title": "native leave"}), 200)
	aliceTodo = todo(alice, "")
	if len(aliceTodo.List) != 1 || aliceTodo.List[0]["flow_run_process_belongs_to_flow_run"].(map[string]any)["run_name"] != "native leave" {
		t.Fatalf("alice's to-do with the native flow: %v", aliceTodo.List)
	}

	// The admin ends the first instance: finished for everyone, flowStatus 3.
	adminTodo := todo(admin, "")
	if len(adminTodo.List) != 1 {
		t.Fatalf("admin's to-do: %v", adminTodo.List)
	}
	h.eoffice("POST", "flow/run/flow-turning", admin, url.Values{"run_id": {started.RunID.String()}, "process_id": {"3"},
		"flow_run_process_id": {jsonText(adminTodo.List[0]["flow_run_process_id"])}, "process_host_user": {""},
		"process_transact_user": {""}, "flow_process": {jsonText(adminTodo.List[0]["flow_process"])}}).ok(t, "end", nil)
	var fin eofficeList
	h.eoffice("GET", "flow/flow-list/finished-list", bob, nil).ok(t, "finished", &fin)
	if len(fin.List) != 1 || fin.List[0]["user_run_type"] != float64(3) {
		t.Fatalf("bob's finished: %v", fin.List)
	}
	rec2 := h.jsonReq("GET", "/api/v1/leave_request/"+rec["id"].(string), nativeAdmin, nil)
	if rec2.json(t)["flowStatus"] != float64(3) {
		t.Fatalf("record after the end: %s", rec2.body)
	}
	// Another tenant's user sees nothing of it (no app there: get-token fails).
	h.eoffice("POST", "open-api/get-token", "", url.Values{"agent_id": {"100001"},
		"secret": {"Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok"}, "user": {"carol"}}).fails(t, "carol of demo2", "0x003009")
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

func mustFloat(n json.Number) float64 {
	f, _ := n.Float64()
	return f
}
