package dabei_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/eimshub/eimshub/connectors/dabei"
	"github.com/eimshub/eimshub/plugins/sdk"
)

var adminP = &sdk.Principal{Tenant: tenant, UserID: "u-admin", ClientID: clientID, Scopes: []string{"api.readwrite"}, Roles: []string{"admin"}}

func countRecords(t *testing.T, core sdk.Host) int64 {
	t.Helper()
	pg, err := core.FindRecords(context.Background(), adminP, "form-order", sdk.Query{Limit: 0}, true)
	if err != nil {
		t.Fatal(err)
	}
	return pg.Total
}

func body(t *testing.T, o outcome) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(o.resp.Body, &m); err != nil {
		t.Fatalf("not JSON: %s", o.resp.Body)
	}
	return m
}

// Hostile and malformed input, in process against the real core: every
// answer is a Dabei envelope with the right errcode, nothing panics, and
// nothing is written.
func TestBadInput(t *testing.T) {
	core, _ := newCore(t)
	c := dabei.New()
	vars := map[string]string{}
	o := run(t, c, core, scenario{name: "setup", method: "POST", target: formPath + "/record_create?start_flow=1&flow_code=order_flow",
		body: `{"user_id":"` + u1 + `","k_text":"甲"}`}, vars)
	rec, _ := body(t, o)["data"].(map[string]any)
	r, _ := rec["id"].(string)
	tasks, _ := rec["tasks"].([]any)
	if r == "" || len(tasks) != 1 {
		t.Fatalf("setup: %s", o.resp.Body)
	}
	task := tasks[0].(map[string]any)["taskId"].(string)
	before := countRecords(t, core)
	huge := `{"user_id":"` + u1 + `","k_text":"` + strings.Repeat("长", 100) + `"` + strings.Repeat(`,"k_text":"x"`, 10) + `}`
	cases := []struct {
		name, method, target, body string
		code                       float64
	}{
		{"malformed", "POST", formPath + "/record_create", `{"user_id":`, 10001},
		{"array body", "POST", formPath + "/record_create", `[{"user_id":"` + u1 + `"}]`, 10001},
		{"trailing garbage", "POST", formPath + "/record_create", `{"user_id":"` + u1 + `"} x`, 10001},
		{"vendor typo quote", "POST", formPath + "/records/" + r + "/tasks/" + task + "/submit", `{"submitReq":" {"userId":"` + u2 + `"}}`, 10001},
		{"user id object", "POST", formPath + "/record_create", `{"user_id":{"$ne":""},"k_text":"x"}`, 10001},
		{"user id of no shape", "POST", formPath + "/record_create", `{"user_id":"1' OR '1'='1","k_text":"x"}`, 10002},
		{"number as object", "POST", formPath + "/record_create", `{"user_id":"` + u1 + `","k_num":{"$gt":0}}`, 10001},
		{"text as array", "POST", formPath + "/record_create", `{"user_id":"` + u1 + `","k_text":["a"]}`, 10001},
		{"date garbage", "POST", formPath + "/record_create", `{"user_id":"` + u1 + `","k_date":"soon"}`, 10001},
		{"select two values", "POST", formPath + "/record_create", `{"user_id":"` + u1 + `","k_sel":["新建","已完成"]}`, 10001},
		{"unknown field", "POST", formPath + "/record_create", `{"user_id":"` + u1 + `","k_text":"x","k_evil":1}`, 10001},
		{"field by id and by name", "POST", formPath + "/record_create", `{"user_id":"` + u1 + `","k_text":"x","客户":"y"}`, 10001},
		{"text too long for nothing", "POST", formPath + "/record_create", strings.Replace(huge, `"user_id"`, `"k_num":"x","user_id"`, 1), 10001},
		{"unknown form", "POST", "/apps/" + appID + "/forms/f00000000000000000000000000000ff/record_create", `{"user_id":"` + u1 + `","k_text":"x"}`, 10002},
		{"form of another app", "POST", "/apps/a0000000000000000000000000000002/forms/" + formID + "/record_create", `{"user_id":"` + u1 + `","k_text":"x"}`, 10002},
		{"hub id as app id", "GET", "/apps/app-sales/forms", ``, 10002},
		{"filter array", "POST", formPath + "/records", `{"user_id":"` + u1 + `","filter":[1]}`, 10001},
		{"filter bad string", "POST", formPath + "/records", `{"user_id":"` + u1 + `","filter":"{\"k_text\":"}`, 10001},
		{"page size huge", "POST", formPath + "/records", `{"user_id":"` + u1 + `","page_size":100000}`, 10001},
		{"page negative", "POST", formPath + "/records", `{"user_id":"` + u1 + `","page_no":-1}`, 10001},
		{"page not a number", "POST", formPath + "/records", `{"user_id":"` + u1 + `","page_no":"one"}`, 10001},
		{"delete params string junk", "POST", formPath + "/record_delete", `{"params":"x"}`, 10001},
		{"delete no record id", "POST", formPath + "/record_delete", `{"params":{"user_id":"` + u1 + `"}}`, 10001},
		{"delete path copy differs", "POST", formPath + "/record_delete", `{"app_id":"a0000000000000000000000000000002","user_id":"` + u1 + `","record_id":"` + r + `"}`, 10001},
		{"submit unknown task", "POST", formPath + "/records/" + r + "/tasks/00000000000000000000000000000000/submit", `{"submitReq":{"userId":"` + u2 + `"}}`, 10002},
		{"submit task of another record", "POST", formPath + "/records/0000000000000000000000000000dead/tasks/" + task + "/submit", `{"submitReq":{"userId":"` + u2 + `"}}`, 10002},
		{"submit variables unknown field", "POST", formPath + "/records/" + r + "/tasks/" + task + "/submit", `{"submitReq":{"userId":"` + u2 + `","variables":{"nope":1}}}`, 10001},
		{"submit variables not an object", "POST", formPath + "/records/" + r + "/tasks/" + task + "/submit", `{"submitReq":{"userId":"` + u2 + `","variables":[1]}}`, 10001},
		{"submit record_id copy differs", "POST", formPath + "/records/" + r + "/tasks/" + task + "/submit", `{"record_id":"0000000000000000000000000000dead","submitReq":{"userId":"` + u2 + `"}}`, 10001},
		{"transfer to unknown user", "POST", formPath + "/records/" + r + "/tasks/" + task + "/transfer", `{"submitReq":{"userId":"` + u2 + `","transferIds":["e00000000000000000000000000000ff"]}}`, 10002},
		{"transfer without targets or user", "POST", formPath + "/records/" + r + "/tasks/" + task + "/transfer", `{"submitReq":{"userId":"` + u2 + `"}}`, 10001},
		{"deny by a non-assignee", "POST", formPath + "/records/" + r + "/tasks/" + task + "/deny", `{"denyReq":{"userId":"` + u1 + `"}}`, 40300},
		{"revoke by a non-initiator", "POST", formPath + "/records/" + r + "/tasks/" + task + "/revoke", `{"user_id":"` + u2 + `"}`, 40300},
		{"update another user's record", "POST", formPath + "/record_update", `{"user_id":"` + u2 + `","record_id":"` + r + `","k_text":"x"}`, 40300},
		{"update a record in approval", "POST", formPath + "/record_update", `{"user_id":"` + u1 + `","record_id":"` + r + `","k_text":"x"}`, 40900},
		{"users without org", "GET", "/users", ``, 10001},
		{"orgs unknown parent", "GET", "/orgs?parentId=zzz", ``, 10002},
		{"authority code username object", "POST", "/users/user_id", `{"user_id":["x"]}`, 10001},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := run(t, c, core, scenario{name: tc.name, method: tc.method, target: tc.target, body: tc.body}, vars)
			m := body(t, o)
			if o.resp.Status != 200 || m["errcode"] != tc.code || m["success"] != false || m["data"] != nil {
				t.Fatalf("want errcode %v, got %d %s", tc.code, o.resp.Status, o.resp.Body)
			}
		})
	}
	if after := countRecords(t, core); after != before {
		t.Fatalf("records: %d before, %d after", before, after)
	}
	// The task is still u2's, the record unchanged and in approval.
	o = run(t, c, core, scenario{name: "tasks", method: "GET", target: formPath + "/records/" + r + "/tasks?user_id=" + u2}, vars)
	if d, _ := body(t, o)["data"].([]any); len(d) != 1 {
		t.Fatalf("after the bad input: %s", o.resp.Body)
	}
	o = run(t, c, core, scenario{name: "get", method: "GET", target: formPath + "/records/" + r + "?user_id=" + u1}, vars)
	if d, _ := body(t, o)["data"].(map[string]any); d["k_text"] != "甲" || d["sys_status"] != float64(1) {
		t.Fatalf("after the bad input: %s", o.resp.Body)
	}
}

// TV-2's "then": the code answers the same within 300 s and 40002 after.
func TestCodeLifetime(t *testing.T) {
	core, clk := newCore(t)
	c := dabei.New()
	vars := map[string]string{}
	o := run(t, c, core, scenario{name: "code", method: "GET", target: "/oauth2/authority_code?username=user001"}, vars)
	code, _ := body(t, o)["data"].(map[string]any)["code"].(string)
	info := scenario{name: "info", method: "GET", target: "/oauth2/users/user_info?grant_type=authorization_code&code=" + code}
	first := run(t, c, core, info, vars)
	clk.skew.Store(int64(299 * time.Second))
	again := run(t, c, core, info, vars)
	if string(first.resp.Body) != string(again.resp.Body) || body(t, first)["errcode"] != float64(0) {
		t.Fatalf("within 300 s:\n%s\n%s", first.resp.Body, again.resp.Body)
	}
	clk.skew.Store(int64(301 * time.Second))
	late := run(t, c, core, info, vars)
	if m := body(t, late); m["errcode"] != float64(40002) || m["data"] != nil {
		t.Fatalf("after 300 s: %s", late.resp.Body)
	}
}

// The admin switches of spec 5.4 and 6.1: the record list as
// {"list","total"}, the task list as a bare array.
func TestShapeSwitches(t *testing.T) {
	core, _ := newCore(t)
	c := dabei.New()
	if err := c.(sdk.Configurer).Configure([]byte(`{"recordListShape":"object","bareTaskList":true}`)); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	o := run(t, c, core, scenario{name: "create", method: "POST", target: formPath + "/record_create?start_flow=true&flow_code=order_flow",
		body: `{"user_id":"` + u1 + `","k_text":"甲"}`}, vars)
	r := body(t, o)["data"].(map[string]any)["id"].(string)
	o = run(t, c, core, scenario{name: "list", method: "POST", target: formPath + "/records", body: `{"user_id":"` + u1 + `"}`}, vars)
	m := body(t, o)
	d, _ := m["data"].(map[string]any)
	if l, _ := d["list"].([]any); len(l) != 1 || d["total"] != float64(1) || m["total"] != nil {
		t.Fatalf("object shape: %s", o.resp.Body)
	}
	o = run(t, c, core, scenario{name: "tasks", method: "GET", target: formPath + "/records/" + r + "/tasks?user_id=" + u2}, vars)
	var tasks []map[string]any
	if err := json.Unmarshal(o.resp.Body, &tasks); err != nil || len(tasks) != 1 || tasks[0]["taskName"] != "主管审批" {
		t.Fatalf("bare task list: %s", o.resp.Body)
	}
}
