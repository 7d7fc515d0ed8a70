package dabei_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/connectors/dabei"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

// The test vectors of spec 12 (and the refusals around them) as a
// scenario table, run in order against the hub's REAL core (SQLite,
// workflow engine, aliases, dialect tokens behind the Host API bridge):
//
//   - TestScenarios runs them in process and checks every response
//     against the vector's expected body (subset match, placeholders);
//   - TestGenerateGolden runs them through the plugin process with the
//     same checks, and with -gen writes testdata/*.golden (requests, the
//     Host API calls with their results, responses);
//   - TestGolden replays the golden files through the plugin process: the
//     same requests must make the same Host calls and get the same answers.
var gen = flag.Bool("gen", false, "regenerate testdata/*.golden against the real core")

// scenario is one request after the ones before it. {{NAME}} in target,
// headers and body is a value captured from an earlier response (capture:
// NAME → dotted path in the response body). want is the expected body:
// objects match as subsets unless exact; "<hex32>", "<int>",
// "<non-empty>" and "<any>" match by shape.
type scenario struct {
	name    string
	method  string
	target  string
	headers map[string]string // nil: the fixture's credential headers
	body    string
	capture map[string]string
	status  int // default 200
	want    string
	exact   bool
}

var creds = map[string]string{"client_id": clientID, "client_secret": secret}
var otherCreds = map[string]string{"client_id": otherClient, "client_secret": otherSecret}
var noCreds = map[string]string{}

const (
	formPath = "/apps/" + appID + "/forms/" + formID
	qCreds   = "client_id=" + clientID + "&client_secret=" + secret
)

func q(s string) string { return url.QueryEscape(s) }

var scenarios = []scenario{
	// TV-1..3: SSO codes.
	{name: "tv01_authority_code", method: "GET", target: "/oauth2/authority_code?" + qCreds + "&username=user001", headers: noCreds,
		capture: map[string]string{"C": "data.code"},
		want:    `{"errcode":0,"errmsg":"success","data":{"code":"<hex32>"},"success":true}`},
	{name: "tv02_user_info", method: "GET", target: "/oauth2/users/user_info?" + qCreds + "&grant_type=authorization_code&code={{C}}", headers: noCreds,
		want: `{"errcode":0,"errmsg":"success","success":true,"data":{"id":"` + u1 + `","departmentId":"` + d1 + `","departmentIds":["` + d1 + `"],"name":"李易峰","username":"user001","phone":"18912341234"}}`},
	{name: "tv02_user_info_repeat", method: "GET", target: "/oauth2/users/user_info?" + qCreds + "&grant_type=authorization_code&code={{C}}", headers: noCreds,
		want: `{"errcode":0,"data":{"id":"` + u1 + `","username":"user001"}}`},
	{name: "tv02_other_client_code", method: "GET", target: "/oauth2/users/user_info?grant_type=authorization_code&code={{C}}", headers: otherCreds,
		want: `{"errcode":40002,"data":null,"success":false}`},
	{name: "user_info_bad_grant", method: "GET", target: "/oauth2/users/user_info?grant_type=password&code={{C}}",
		want: `{"errcode":10001,"data":null,"success":false}`},
	{name: "user_info_unknown_code", method: "GET", target: "/oauth2/users/user_info?grant_type=authorization_code&code=00000000000000000000000000000000",
		want: `{"errcode":40002,"data":null,"success":false}`},
	{name: "tv03_wrong_secret", method: "GET", target: "/oauth2/authority_code?client_id=" + clientID + "&client_secret=wrong&phone=18912341234", headers: noCreds,
		want: `{"errcode":40001,"data":null,"success":false,"errmsg":"<non-empty>"}`},
	{name: "authority_code_by_phone", method: "GET", target: "/oauth2/authority_code?phone=18912341234",
		want: `{"errcode":0,"data":{"code":"<hex32>"}}`},
	{name: "authority_code_disabled_user", method: "GET", target: "/oauth2/authority_code?username=leaver",
		want: `{"errcode":40003,"data":null,"success":false}`},
	{name: "authority_code_no_user", method: "GET", target: "/oauth2/authority_code",
		want: `{"errcode":10001,"success":false}`},
	// TV-4: apps, forms, fields.
	{name: "tv04_apps", method: "GET", target: "/apps?name=" + q("销售"),
		want: `{"errcode":0,"errmsg":"success","data":[{"id":"` + appID + `","name":"销售管理"}],"success":true}`},
	{name: "tv04_forms", method: "GET", target: "/apps/" + appID + "/forms?page_no=1&page_size=10",
		want: `{"errcode":0,"data":[{"id":"` + formID + `","name":"订单"}]}`},
	{name: "tv04_fields", method: "GET", target: formPath + "/fields",
		want: `{"errcode":0,"data":[{"fieldId":"k_text","name":"客户"},{"fieldId":"k_num","name":"金额"},{"fieldId":"k_sel","name":"状态"},{"fieldId":"k_date","name":"下单日期"}]}`},
	{name: "apps_x_client_headers", method: "GET", target: "/apps", headers: map[string]string{"X-Client-Id": clientID, "X-Client-Secret": secret},
		want: `{"errcode":0,"data":[{"id":"` + appID + `"},{"id":"a0000000000000000000000000000002"}]}`},
	{name: "forms_unknown_app", method: "GET", target: "/apps/a00000000000000000000000000000ff/forms",
		want: `{"errcode":10002,"data":null,"success":false}`},
	// TV-5: create and start the flow.
	{name: "tv05_create_start_flow", method: "POST", target: formPath + "/record_create?start_flow=true&flow_code=order_flow",
		body:    `{"form_id":"` + formID + `","app_id":"` + appID + `","user_id":"` + u1 + `","k_text":"甲公司","k_num":120.5,"k_sel":"新建","k_date":1735776000000}`,
		capture: map[string]string{"R": "data.id", "T": "data.tasks.0.taskId"},
		want:    `{"errcode":0,"errmsg":"success","success":true,"data":{"id":"<hex32>","process_id":"{{R}}","tasks":[{"taskId":"<hex32>","taskName":"主管审批","process":{"id":"{{R}}","definitionName":"<non-empty>"}}]}}`},
	{name: "create_unknown_flow_code", method: "POST", target: formPath + "/record_create?start_flow=true&flow_code=nope",
		body: `{"user_id":"` + u1 + `","k_text":"乙公司"}`, want: `{"errcode":10002,"data":null,"success":false}`},
	{name: "create_start_flow_without_code", method: "POST", target: formPath + "/record_create",
		body: `{"user_id":"` + u1 + `","start_flow":true,"k_text":"乙公司"}`, want: `{"errcode":10001,"data":null,"success":false}`},
	{name: "create_unknown_field", method: "POST", target: formPath + "/record_create",
		body: `{"user_id":"` + u1 + `","no_such":"x"}`, want: `{"errcode":10001,"success":false}`},
	{name: "create_path_copy_differs", method: "POST", target: formPath + "/record_create",
		body: `{"user_id":"` + u1 + `","form_id":"f0000000000000000000000000000002","k_text":"x"}`, want: `{"errcode":10001,"errmsg":"参数不一致：form_id"}`},
	{name: "create_bad_number", method: "POST", target: formPath + "/record_create",
		body: `{"user_id":"` + u1 + `","k_num":"many"}`, want: `{"errcode":10001,"success":false}`},
	{name: "create_unknown_option", method: "POST", target: formPath + "/record_create",
		body: `{"user_id":"` + u1 + `","k_sel":["作废"]}`, want: `{"errcode":10001,"success":false}`},
	{name: "create_malformed_json", method: "POST", target: formPath + "/record_create",
		body: `{"user_id":"` + u1 + `",}`, want: `{"errcode":10001,"errmsg":"请求体不是合法的JSON","data":null,"success":false}`},
	{name: "create_no_user", method: "POST", target: formPath + "/record_create",
		body: `{"k_text":"x"}`, want: `{"errcode":10001,"success":false}`},
	{name: "create_disabled_user", method: "POST", target: formPath + "/record_create",
		body: `{"user_id":"e0000000000000000000000000000003","k_text":"x"}`, want: `{"errcode":10002,"success":false}`},
	// TV-6, TV-7: list, filter, read back.
	{name: "tv06_list_filter", method: "POST", target: formPath + "/records",
		body: `{"user_id":"` + u1 + `","page_no":1,"page_size":10,"filter":"{\"k_text\":\"甲公司\",\"k_sel\":\"新建\"}"}`,
		want: `{"errcode":0,"success":true,"total":1,"page_no":1,"page_size":10,"data":[{"id":"{{R}}","k_text":"甲公司","k_num":120.5,"k_sel":["新建"],"k_date":1735776000000,"sys_create_time":"<int>","sys_status":1}]}`},
	{name: "tv06_list_empty", method: "POST", target: formPath + "/records",
		body: `{"user_id":"` + u1 + `","filter":{"k_text":""}}`, want: `{"errcode":0,"data":[],"total":0}`},
	{name: "tv06_get", method: "GET", target: formPath + "/records/{{R}}?user_id=" + u1,
		want: `{"errcode":0,"data":{"id":"{{R}}","k_sel":["新建"]}}`},
	{name: "tv07_unknown_filter_field", method: "POST", target: formPath + "/records",
		body: `{"user_id":"` + u1 + `","filter":{"no_such_field":1}}`, want: `{"errcode":10001,"data":null,"success":false}`},
	{name: "list_operator_object", method: "POST", target: formPath + "/records",
		body: `{"user_id":"` + u1 + `","page":1,"filter":{"k_num":{"ge":100,"lt":200},"k_text":{"like":"甲"},"sys_status":[1]}}`,
		want: `{"errcode":0,"total":1,"data":[{"id":"{{R}}"}]}`},
	{name: "list_hostile_operator", method: "POST", target: formPath + "/records",
		body: `{"user_id":"` + u1 + `","filter":{"k_text":{"$where":"1"}}}`, want: `{"errcode":10001,"data":null,"success":false}`},
	{name: "list_get_is_wrong_method", method: "GET", target: formPath + "/records", status: 405,
		want: `{"errcode":10001,"data":null,"success":false}`},
	// TV-8: pending tasks, submit with the string-wrapped body.
	{name: "tv08_tasks_u2", method: "GET", target: formPath + "/records/{{R}}/tasks?user_id=" + u2,
		want: `{"errcode":0,"data":[{"taskId":"{{T}}","taskName":"主管审批","process":{"id":"{{R}}"}}]}`},
	{name: "tv08_submit_not_assignee", method: "POST", target: formPath + "/records/{{R}}/tasks/{{T}}/submit",
		body: `{"submitReq":{"userId":"` + u1 + `","approve":{"content":"同意"}}}`, want: `{"errcode":40300,"data":null,"success":false}`},
	{name: "tv08_submit", method: "POST", target: formPath + "/records/{{R}}/tasks/{{T}}/submit",
		body: `{"task_id":"{{T}}","record_id":"{{R}}","submitReq":"{\"userId\":\"` + u2 + `\",\"approve\":{\"content\":\"同意\"},\"variables\":{\"k_sel\":[\"已完成\"]}}"}`,
		want: `{"errcode":0,"errmsg":"success","data":null,"success":true}`, exact: true},
	{name: "tv08_tasks_u2_after", method: "GET", target: formPath + "/records/{{R}}/tasks?user_id=" + u2,
		want: `{"errcode":0,"data":[]}`},
	{name: "tv08_record_after", method: "GET", target: formPath + "/records/{{R}}?user_id=" + u1,
		want: `{"errcode":0,"data":{"id":"{{R}}","k_sel":["新建"],"sys_status":2}}`}, // variables do not change a locked record (DEVIATIONS)
	{name: "tv08_submit_again", method: "POST", target: formPath + "/records/{{R}}/tasks/{{T}}/submit",
		body: `{"submitReq":{"userId":"` + u2 + `"}}`, want: `{"errcode":40900,"success":false}`},
	// TV-9: transfer, revoke on the transfer path, revoke.
	{name: "tv09_setup_create", method: "POST", target: formPath + "/record_create",
		body:    `{"user_id":"` + u1 + `","start_flow":"true","flow_code":"order_flow","k_text":"丙公司"}`,
		capture: map[string]string{"R2": "data.id", "T2": "data.tasks.0.taskId"}, want: `{"errcode":0}`},
	{name: "tv09_transfer", method: "POST", target: formPath + "/records/{{R2}}/tasks/{{T2}}/transfer",
		body: `{"submitReq":{"userId":"` + u2 + `","approve":{"content":"请协助审批"},"transferIds":["` + u1 + `"]}}`,
		want: `{"errcode":0,"success":true}`},
	{name: "tv09_tasks_u1", method: "GET", target: formPath + "/records/{{R2}}/tasks?user_id=" + u1,
		capture: map[string]string{"T3": "data.0.taskId"}, want: `{"errcode":0,"data":[{"taskName":"主管审批","process":{"id":"{{R2}}"}}]}`},
	{name: "tv09_tasks_u2", method: "GET", target: formPath + "/records/{{R2}}/tasks?user_id=" + u2,
		want: `{"errcode":0,"data":[]}`},
	{name: "tv09_revoke_on_transfer_path_not_initiator", method: "POST", target: formPath + "/records/{{R2}}/tasks/{{T3}}/transfer",
		body: `{"form_id":"` + formID + `","app_id":"` + appID + `","task_id":"{{T3}}","record_id":"{{R2}}","user_id":"` + u2 + `"}`,
		want: `{"errcode":40300,"success":false}`},
	{name: "tv09_revoke", method: "POST", target: formPath + "/records/{{R2}}/tasks/{{T3}}/revoke",
		body: `{"user_id":"` + u1 + `"}`, want: `{"errcode":0,"success":true}`},
	{name: "tv09_tasks_after_revoke", method: "GET", target: formPath + "/records/{{R2}}/tasks?user_id=" + u1,
		want: `{"errcode":0,"data":[]}`},
	{name: "tv09_record_draft", method: "GET", target: formPath + "/records/{{R2}}?user_id=" + u1,
		want: `{"errcode":0,"data":{"id":"{{R2}}","sys_status":0}}`},
	{name: "revoke_again", method: "POST", target: formPath + "/records/{{R2}}/tasks/{{T3}}/revoke",
		body: `{"user_id":"` + u1 + `"}`, want: `{"errcode":40900,"success":false}`},
	// TV-10: the organisation (JSON-string data).
	{name: "tv10_orgs", method: "GET", target: "/orgs?recursion=true", exact: true,
		want: `{"errcode":0,"errmsg":"success","data":"[{\"children\":[{\"id\":\"` + d1 + `\",\"name\":\"研发部\",\"pid\":\"` + d0 + `\"}],\"id\":\"` + d0 + `\",\"name\":\"总公司\",\"pid\":\"` + root + `\"}]","success":true}`},
	{name: "tv10_users", method: "GET", target: "/users?org_id=" + d1,
		want: `{"errcode":0,"data":"[{\"departmentId\":\"` + d1 + `\",\"departmentIds\":[\"` + d1 + `\"],\"id\":\"` + u1 + `\",\"name\":\"李易峰\"},{\"departmentId\":\"` + d1 + `\",\"departmentIds\":[\"` + d1 + `\"],\"id\":\"` + u2 + `\",\"name\":\"梅兰芳\"}]","success":true}`},
	{name: "tv10_user", method: "POST", target: "/users/user_id", body: `{"user_id":"` + u2 + `"}`,
		want: `{"errcode":0,"data":"{\"departmentId\":\"` + d1 + `\",\"departmentIds\":[\"` + d1 + `\"],\"id\":\"` + u2 + `\",\"name\":\"梅兰芳\"}","success":true}`},
	{name: "orgs_top_level", method: "GET", target: "/orgs", exact: true,
		want: `{"errcode":0,"errmsg":"success","data":"[{\"id\":\"` + d0 + `\",\"name\":\"总公司\",\"pid\":\"` + root + `\"}]","success":true}`},
	{name: "org_detail", method: "GET", target: "/orgs/" + d1, exact: true,
		want: `{"errcode":0,"errmsg":"success","data":"{\"id\":\"` + d1 + `\",\"name\":\"研发部\",\"pid\":\"` + d0 + `\"}","success":true}`},
	{name: "org_unknown", method: "GET", target: "/orgs/d00000000000000000000000000000ff", want: `{"errcode":10002,"data":null,"success":false}`},
	{name: "user_by_path_upper_case", method: "GET", target: "/users/" + strings.ToUpper(u1),
		want: `{"errcode":0,"data":"{\"departmentId\":\"` + d1 + `\",\"departmentIds\":[\"` + d1 + `\"],\"id\":\"` + u1 + `\",\"name\":\"李易峰\"}"}`},
	// Update (spec 5.2).
	{name: "update_record", method: "POST", target: formPath + "/record_update",
		body: `{"user_id":"` + u1 + `","record_id":"{{R2}}","客户":"丁公司","k_num":"7"}`, want: `{"errcode":0,"data":{"id":"{{R2}}"}}`},
	{name: "update_read_back", method: "GET", target: formPath + "/records/{{R2}}?user_id=" + u1,
		want: `{"errcode":0,"data":{"id":"{{R2}}","k_text":"丁公司","k_num":7}}`},
	{name: "update_unknown_record", method: "POST", target: formPath + "/record_update",
		body: `{"user_id":"` + u1 + `","record_id":"0000000000000000000000000000dead","k_num":1}`, want: `{"errcode":10002,"success":false}`},
	// TV-11: delete with params, then unknown. (R, approved by its
	// workflow, is locked for its owner: the core lets only an
	// administrator delete it; the vector runs on R2, a draft again.)
	{name: "tv11_delete_approved_locked", method: "POST", target: formPath + "/record_delete",
		body: `{"params":{"user_id":"` + u1 + `","record_id":"{{R}}"}}`, want: `{"errcode":40900,"data":null,"success":false}`},
	{name: "tv11_delete", method: "POST", target: formPath + "/record_delete",
		body: `{"params":{"user_id":"` + u1 + `","record_id":"{{R2}}"}}`, want: `{"errcode":0,"data":null,"success":true}`},
	{name: "tv11_get_deleted", method: "GET", target: formPath + "/records/{{R2}}?user_id=" + u1,
		want: `{"errcode":10002,"data":null,"success":false}`},
	{name: "delete_again_flat", method: "POST", target: formPath + "/record_delete",
		body: `{"user_id":"` + u1 + `","record_id":"{{R2}}"}`, want: `{"errcode":10002,"data":null,"success":false}`},
	// Transport.
	{name: "unknown_path", method: "GET", target: "/no/such/path", status: 404, headers: noCreds,
		want: `{"errcode":10002,"errmsg":"接口不存在","data":null,"success":false}`, exact: true},
	{name: "wrong_method_put", method: "PUT", target: "/apps", status: 405, headers: noCreds,
		want: `{"errcode":10001,"data":null,"success":false}`},
	{name: "no_credentials", method: "GET", target: "/apps", headers: noCreds,
		want: `{"errcode":40001,"data":null,"success":false}`},
	// Tenant isolation: the other tenant's credentials, the same Dabei ids.
	{name: "other_apps", method: "GET", target: "/apps", headers: otherCreds,
		want: `{"errcode":0,"data":[{"id":"` + appID + `","name":"销售管理"}]}`},
	{name: "record_upper_case", method: "GET", target: formPath + "/records/{{RU}}?user_id=" + u1,
		want: `{"errcode":0,"data":{"id":"{{R}}"}}`},
	{name: "other_record", method: "GET", target: formPath + "/records/{{R}}?user_id=" + u1, headers: otherCreds,
		want: `{"errcode":10002,"data":null,"success":false}`},
	{name: "other_record_upper_case", method: "GET", target: formPath + "/records/{{RU}}?user_id=" + u1, headers: otherCreds,
		want: `{"errcode":10002,"data":null,"success":false}`},
	{name: "other_record_guid_spelling", method: "GET", target: formPath + "/records/{{RG}}?user_id=" + u1, headers: otherCreds,
		want: `{"errcode":10002,"data":null,"success":false}`},
	{name: "other_record_hub_id", method: "GET", target: formPath + "/records/{{RH}}?user_id=" + u1, headers: otherCreds,
		want: `{"errcode":10002,"data":null,"success":false}`},
	{name: "other_record_list", method: "POST", target: formPath + "/records", headers: otherCreds,
		body: `{"user_id":"` + u1 + `","filter":{"id":["{{R}}","{{RU}}"]}}`, want: `{"errcode":0,"data":[],"total":0}`},
	{name: "other_record_update", method: "POST", target: formPath + "/record_update", headers: otherCreds,
		body: `{"user_id":"` + u1 + `","record_id":"{{R}}","k_text":"hijack"}`, want: `{"errcode":10002,"success":false}`},
	{name: "other_record_delete", method: "POST", target: formPath + "/record_delete", headers: otherCreds,
		body: `{"user_id":"` + u1 + `","record_id":"{{R}}"}`, want: `{"errcode":10002,"success":false}`},
	{name: "other_tasks", method: "GET", target: formPath + "/records/{{R}}/tasks?user_id=" + u1, headers: otherCreds,
		want: `{"errcode":10002,"success":false}`},
	{name: "other_user_of_demo", method: "POST", target: "/users/" + u2, headers: otherCreds,
		want: `{"errcode":10002,"data":null,"success":false}`},
	{name: "other_user_same_spelling", method: "GET", target: "/users/" + u1, headers: otherCreds,
		want: `{"errcode":0,"data":"{\"departmentId\":\"\",\"departmentIds\":[],\"id\":\"` + u1 + `\",\"name\":\"别人\"}"}`},
	{name: "other_org", method: "GET", target: "/orgs/" + d1, headers: otherCreds, want: `{"errcode":10002,"success":false}`},
	{name: "other_users_of_org", method: "GET", target: "/users?org_id=" + d1, headers: otherCreds, want: `{"errcode":10002,"success":false}`},
	{name: "other_act_as_demo_user", method: "POST", target: formPath + "/records", headers: otherCreds,
		body: `{"user_id":"` + u2 + `"}`, want: `{"errcode":10002,"success":false}`},
	{name: "other_code_user", method: "GET", target: "/oauth2/authority_code?username=user002", headers: otherCreds,
		want: `{"errcode":40003,"success":false}`},
}

// expand substitutes {{NAME}} with captured values.
func expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return s
}

// requestText is the scenario's golden request section (without the
// principal pseudo-header).
func (s scenario) requestText(vars map[string]string) string {
	var b strings.Builder
	b.WriteString(s.method + " " + expand(s.target, vars) + "\n")
	h := s.headers
	if h == nil {
		h = creds
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if s.body != "" {
		b.WriteString("Content-Type: application/json\n")
	}
	for _, k := range keys {
		b.WriteString(k + ": " + h[k] + "\n")
	}
	return b.String()
}

// routeOf finds the connector route of method and path (as the hub's
// router: the first registered match).
func routeOf(t testing.TB, method, path string) (sdk.Route, map[string]string) {
	for _, r := range dabei.Info().Routes {
		if r.Method != method {
			continue
		}
		if params, ok := sdktest.MatchRoute(r.Path, path); ok {
			return r, params
		}
	}
	t.Fatalf("no route matches %s %s", method, path)
	return sdk.Route{}, nil
}

// verify does what the hub does before the hop on an AuthClientSecret
// route: reads the pair from the route's headers, then query, verifies
// it, and strips the secret.
func verify(ctx context.Context, h sdk.Host, r sdk.Route, req *sdk.Request) (*sdk.Principal, error) {
	var id, sec string
	for _, k := range r.Credentials.IDHeaders {
		if id = strings.TrimSpace(req.Headers.Get(k)); id != "" {
			break
		}
	}
	if id == "" {
		for _, k := range r.Credentials.IDQuery {
			if id = req.Query.Get(k); id != "" {
				break
			}
		}
	}
	for _, k := range r.Credentials.SecretHeaders {
		if sec = strings.TrimSpace(req.Headers.Get(k)); sec != "" {
			break
		}
	}
	if sec == "" {
		for _, k := range r.Credentials.SecretQuery {
			if sec = req.Query.Get(k); sec != "" {
				break
			}
		}
	}
	sdktest.StripSecret(r, req)
	if id == "" || sec == "" {
		return nil, sdk.Errorf(sdk.Unauthorized, "missing client credentials")
	}
	return h.VerifyClient(ctx, id, sec)
}

// outcome is one scenario's run.
type outcome struct {
	request string // the golden request section
	calls   []sdktest.Call
	resp    *sdk.Response
}

// run sends one scenario to c as the hub would (credentials verified
// before the hop, refusals rendered with the connector's envelope).
func run(t testing.TB, c sdk.Connector, core sdk.Host, s scenario, vars map[string]string) outcome {
	t.Helper()
	head := s.requestText(vars)
	body := expand(s.body, vars)
	target := expand(s.target, vars)
	u, err := url.ParseRequestURI(target)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for _, l := range strings.Split(strings.TrimRight(head, "\n"), "\n")[1:] {
		k, v, _ := strings.Cut(l, ":")
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	route, params := routeOf(t, s.method, u.Path)
	req := &sdk.Request{Method: s.method, Path: u.Path, Route: route.Path, PathParams: params, Query: u.Query(), Headers: h,
		Body: []byte(body), ClientIP: "192.0.2.1", RequestID: "golden"}
	principal := ""
	var verr error
	if route.Auth == sdk.AuthClientSecret {
		var p *sdk.Principal
		p, verr = verify(context.Background(), core, route, req)
		if verr == nil {
			pj, _ := json.Marshal(p)
			principal = string(pj)
			req.Principal = p
		}
	}
	rh := &sdktest.RecordingHost{Inner: core}
	var resp *sdk.Response
	if verr != nil {
		if resp, err = sdktest.HostError(dabei.Info(), route, verr, req.RequestID); err != nil {
			t.Fatal(err)
		}
	} else {
		var herr error
		resp, herr = sdk.SafeHandle(context.Background(), c, req, rh)
		if herr != nil {
			t.Fatalf("%s: the connector returned an error instead of an envelope: %v", s.name, herr)
		}
	}
	text := head
	if principal != "" {
		text += sdktest.PrincipalHeader + ": " + principal + "\n"
	}
	text += "\n" + body
	return outcome{request: text, calls: rh.Calls(), resp: resp}
}

// runAll runs the scenario table in order against a fresh core and checks
// every answer; it returns the outcomes by name.
func runAll(t *testing.T, c sdk.Connector) map[string]outcome {
	core, _ := newCore(t)
	vars := map[string]string{}
	out := map[string]outcome{}
	for _, s := range scenarios {
		o := run(t, c, core, s, vars)
		for k, path := range s.capture {
			if vars[k] = lookup(o.resp.Body, path); vars[k] == "" {
				t.Fatalf("%s: nothing at %s in %s", s.name, path, o.resp.Body)
			}
		}
		check(t, s, o.resp, vars)
		if r := vars["R"]; r != "" {
			vars["RU"] = strings.ToUpper(r)
			vars["RG"] = r[0:8] + "-" + r[8:12] + "-" + r[12:16] + "-" + r[16:20] + "-" + r[20:] // the dashed GUID
			vars["RH"] = sdk.FromGUID(vars["RG"])                                                // the hub id
		}
		out[s.name] = o
	}
	return out
}

// check compares a response with the scenario's expectation.
func check(t testing.TB, s scenario, resp *sdk.Response, vars map[string]string) {
	t.Helper()
	status := s.status
	if status == 0 {
		status = 200
	}
	if resp.Status != status {
		t.Errorf("%s: status %d, want %d (%s)", s.name, resp.Status, status, resp.Body)
	}
	if ct := resp.Headers.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("%s: Content-Type %q", s.name, ct)
	}
	if s.exact {
		if got := string(resp.Body); got != expand(s.want, vars) {
			t.Errorf("%s: body\n got  %s\n want %s", s.name, got, expand(s.want, vars))
		}
		return
	}
	var want, got any
	if err := json.Unmarshal([]byte(expand(s.want, vars)), &want); err != nil {
		t.Fatalf("%s: want: %v", s.name, err)
	}
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		t.Fatalf("%s: body is not JSON: %s", s.name, resp.Body)
	}
	if err := match(want, got, "$"); err != nil {
		t.Errorf("%s: %v\n body %s", s.name, err, resp.Body)
	}
	// Every envelope has its four keys in order.
	if !envelopeOrder.Match(resp.Body) {
		t.Errorf("%s: envelope key order: %s", s.name, resp.Body)
	}
}

var envelopeOrder = regexp.MustCompile(`^\{"errcode":-?\d+,"errmsg":"[^"]*","data":.*,"success":(true|false)(,"[a-z_]+":[^,]+)*\}$`)

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// match checks got against want: objects as subsets, arrays element-wise
// with equal length, placeholders by shape.
func match(want, got any, at string) error {
	switch w := want.(type) {
	case string:
		switch w {
		case "<any>":
			return nil
		case "<hex32>":
			if s, ok := got.(string); ok && hex32.MatchString(s) {
				return nil
			}
		case "<int>":
			if f, ok := got.(float64); ok && f == float64(int64(f)) && f > 0 {
				return nil
			}
		case "<non-empty>":
			if s, ok := got.(string); ok && s != "" {
				return nil
			}
		default:
			if got == w {
				return nil
			}
		}
		return fmt.Errorf("%s: got %v, want %v", at, got, w)
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %v, want an object", at, got)
		}
		for k, wv := range w {
			gv, has := g[k]
			if !has {
				return fmt.Errorf("%s.%s: missing", at, k)
			}
			if err := match(wv, gv, at+"."+k); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: got %v, want %d elements", at, got, len(w))
		}
		for i := range w {
			if err := match(w[i], g[i], at+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		return nil
	}
	if fmt.Sprint(want) != fmt.Sprint(got) {
		return fmt.Errorf("%s: got %v, want %v", at, got, want)
	}
	return nil
}

// lookup reads a dotted path with array indexes ("data.tasks.0.taskId").
func lookup(body []byte, path string) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				return ""
			}
			v = x[i]
		default:
			return ""
		}
	}
	s, _ := v.(string)
	return s
}

// renderGolden renders one golden file.
func renderGolden(o outcome) string {
	calls := o.calls
	if calls == nil {
		calls = []sdktest.Call{}
	}
	hostJSON, _ := json.MarshalIndent(calls, "", "  ")
	var b strings.Builder
	b.WriteString(strings.TrimRight(o.request, "\n") + "\n--- host\n" + string(hostJSON) + "\n--- response\n")
	fmt.Fprintf(&b, "%d\n", o.resp.Status)
	b.WriteString("Content-Type: " + o.resp.Headers.Get("Content-Type") + "\n\n")
	var v any
	if json.Unmarshal(o.resp.Body, &v) == nil {
		out, _ := json.MarshalIndent(v, "", "  ")
		b.Write(out)
	} else {
		b.Write(o.resp.Body)
	}
	b.WriteString("\n")
	return b.String()
}

// TestScenarios runs every vector in process against the real core.
func TestScenarios(t *testing.T) {
	runAll(t, dabei.New())
}

// TestGoldenInProcess replays testdata in process (the same canned host
// results): the connector behaves the same with and without the hop.
func TestGoldenInProcess(t *testing.T) {
	sdktest.RunGolden(t, dabei.New(), "testdata")
}

// TestGenerateGolden runs every vector through the plugin process against
// the real core, with the same checks; with -gen it writes testdata.
func TestGenerateGolden(t *testing.T) {
	out := runAll(t, startPlugin(t, nil))
	if !*gen {
		return
	}
	old, _ := filepath.Glob(filepath.Join("testdata", "*.golden"))
	for _, f := range old {
		_ = os.Remove(f)
	}
	for name, o := range out {
		if err := os.WriteFile(filepath.Join("testdata", name+".golden"), []byte(renderGolden(o)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGolden replays testdata through the plugin process: the same
// requests make the same Host calls (canned results) and get the same
// answers; a golden request without a principal is one the hub refused.
func TestGolden(t *testing.T) {
	sdktest.RunGolden(t, startPlugin(t, nil), "testdata")
}
