package eoffice_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDepartmentParentOfTheWrongType: a parent_id sent as an array or an
// object (found by the hub's bad-input sweep: PHP's cast made it 0, and a
// top-level department was created) is an illegal field, 0x000007, on
// create and on edit, and the tree does not change.
func TestDepartmentParentOfTheWrongType(t *testing.T) {
	call := flowCaller(t)
	tok := call("POST", "open-api/get-token", ctJSON, tokenOf("admin"))["data"].(map[string]any)["token"].(string)
	tree := func() string {
		b, _ := json.Marshal(call("GET", "system/department/all-tree?api_token="+tok, "", "")["data"])
		return string(b)
	}
	before := tree()
	var first []any
	_ = json.Unmarshal([]byte(before), &first)
	if len(first) == 0 {
		t.Fatalf("no departments: %s", before)
	}
	dept := jsonNum(first[0].(map[string]any)["dept_id"])
	for _, tc := range []struct{ name, method, target, ct, body string }{
		{"create object", "POST", "system/department", ctJSON, `{"api_token":"` + tok + `","dept_name":"x","parent_id":{"$ne":null}}`},
		{"create array", "POST", "system/department", ctJSON, `{"api_token":"` + tok + `","dept_name":"x","parent_id":[1]}`},
		{"create form keys", "POST", "system/department", ctForm, "api_token=" + tok + "&dept_name=x&parent_id%5B%24ne%5D=1"},
		{"edit object", "POST", "system/department/" + dept, ctJSON, `{"api_token":"` + tok + `","parent_id":{"$gt":0}}`},
		{"edit form array", "POST", "system/department/" + dept, ctForm, "api_token=" + tok + "&parent_id%5B%5D=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := call(tc.method, tc.target, tc.ct, tc.body)
			errsV, _ := m["errors"].([]any)
			if m["status"] != float64(0) || len(errsV) != 1 || errsV[0].(map[string]any)["code"] != "0x000007" {
				t.Fatalf("want 0x000007, got %v", m)
			}
		})
	}
	if after := tree(); after != before {
		t.Errorf("the tree changed:\nbefore %s\nafter  %s", before, after)
	}
}

// TestHugeInListOnTheUserList: the user list's virtual keys (user_id,
// dept_id, role_id) and the flow lists' (run_id, …) take at most 1000
// values too (the store is never asked for more).
func TestHugeInListOnTheUserList(t *testing.T) {
	call := flowCaller(t)
	tok := call("POST", "open-api/get-token", ctJSON, tokenOf("admin"))["data"].(map[string]any)["token"].(string)
	many := `[` + strings.TrimSuffix(strings.Repeat(`"WV00000001",`, 1001), ",") + `]`
	limit := `[` + strings.TrimSuffix(strings.Repeat(`"WV00000001",`, 1000), ",") + `]`
	for _, tc := range []struct{ name, method, target, ct, body, code string }{
		{"user_id", "POST", "user/users", ctJSON, `{"api_token":"` + tok + `","search":{"user_id":[` + many + `,"in"]}}`, "0x000007"},
		{"dept_id", "POST", "user/users", ctJSON, `{"api_token":"` + tok + `","search":{"dept_id":[` + many + `]}}`, "0x000007"},
		{"flow_creator_id", "GET", "flow/flow-list/teed-to-do-list?api_token=" + tok + "&search=" + q(`{"flow_creator_id":[`+many+`,"in"]}`), "", "", "0x000007"},
		{"flow_creator_id at the limit", "GET", "flow/flow-list/teed-to-do-list?api_token=" + tok + "&search=" + q(`{"flow_creator_id":[`+limit+`,"in"]}`), "", "", ""},
		{"user_id at the limit", "POST", "user/users", ctJSON, `{"api_token":"` + tok + `","search":{"user_id":[` + limit + `,"in"]}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := call(tc.method, tc.target, tc.ct, tc.body)
			if tc.code == "" {
				if m["status"] != float64(1) {
					t.Fatalf("want success, got %.300v", m)
				}
				return
			}
			errsV, _ := m["errors"].([]any)
			// The message names the caller's key (not the alias lookup's "toHub").
			if m["status"] != float64(0) || len(errsV) != 1 || errsV[0].(map[string]any)["code"] != tc.code ||
				!strings.Contains(errsV[0].(map[string]any)["message"].(string), tc.name) {
				t.Fatalf("want %s naming %s, got %.300v", tc.code, tc.name, m)
			}
		})
	}
}
