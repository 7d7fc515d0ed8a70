package eoffice_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/connectors/eoffice"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

// gen rewrites testdata/*.golden from goldenScenarios, run in order
// through the plugin process against the seeded MemHost (go test
// ./connectors/eoffice -run TestGenerateGolden -gen). Without it,
// TestGenerateGolden regenerates them in memory and fails on any drift
// from the committed files; TestGolden replays them (canned host results).
var gen = flag.Bool("gen", false, "regenerate testdata/*.golden from the scenario table against MemHost")

// scenario is one golden file: a request made after the ones before it.
// {{NAME}} in target, headers and body is a value captured from an
// earlier response (capture: NAME → dotted path in the response body).
type scenario struct {
	name    string
	method  string
	target  string // after /api/ unless it starts with "/"
	headers map[string]string
	ct      string
	body    string
	capture map[string]string
}

const (
	ctJSON = "application/json"
	ctForm = "application/x-www-form-urlencoded"
	ctMP   = "multipart/form-data; boundary=XyZ"
)

func mpBody(parts ...[3]string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("--XyZ\r\nContent-Disposition: form-data; name=\"" + p[0] + "\"")
		if p[1] != "" {
			b.WriteString("; filename=\"" + p[1] + "\"\r\nContent-Type: text/plain")
		}
		b.WriteString("\r\n\r\n" + p[2] + "\r\n")
	}
	b.WriteString("--XyZ--")
	return b.String()
}

func q(s string) string { return url.QueryEscape(s) }

var goldenScenarios = []scenario{
	// §2 tokens
	{name: "tv01_get_token", method: "POST", target: "open-api/get-token", ct: ctJSON,
		body: `{"agent_id":"100001","secret":"Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok","user":"admin"}`, capture: map[string]string{"T": "data.token", "R": "data.refresh_token"}},
	{name: "tv02_wrong_secret", method: "POST", target: "/api/open-api/get-token", ct: ctForm, body: `agent_id=100001&secret=nope&user=admin`},
	{name: "tv03_missing_user", method: "POST", target: "open-api/get-token", ct: ctJSON, body: `{"agent_id":"100001","secret":"Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok"}`},
	{name: "get_token_user_zero", method: "POST", target: "open-api/get-token", ct: ctForm, body: `agent_id=100001&secret=Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok&user=0&local=en`},
	{name: "get_token_unknown_user", method: "POST", target: "open-api/get-token", ct: ctForm, body: `agent_id=100001&secret=Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok&user=nobody`},
	{name: "get_token_leaver", method: "POST", target: "open-api/get-token", ct: ctForm, body: `agent_id=100001&secret=Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok&user=leaver&local=en`},
	{name: "get_token_unknown_agent", method: "POST", target: "open-api/get-token", ct: ctForm, body: `agent_id=999999&secret=Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok&user=admin`},
	{name: "get_token_by_user_id", method: "POST", target: "open-api/get-token", ct: ctJSON,
		body: `{"agent_id":100003,"secret":"Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok","user":"WV00000002"}`, capture: map[string]string{"TW": "data.token"}},
	{name: "get_token_malformed_json", method: "POST", target: "open-api/get-token", ct: ctJSON, body: `{"agent_id":"100001",`},
	{name: "tv04_no_token", method: "GET", target: "role"},
	{name: "tv04_bad_token", method: "GET", target: "role", headers: map[string]string{"Authorization": "Bearer deadbeef"}},
	{name: "unknown_token", method: "GET", target: "role", headers: map[string]string{"Authorization": "Bearer " + strings.Repeat("ab", 64)}},
	{name: "token_param_is_not_a_source", method: "GET", target: "role?token={{T}}"},
	{name: "lowercase_bearer_is_not_a_source", method: "GET", target: "role", headers: map[string]string{"Authorization": "bearer {{T}}"}},
	{name: "basic_auth_password", method: "GET", target: "role?response=count", headers: map[string]string{"Authorization": "Basic {{BASIC}}"}},
	{name: "tv05_refresh", method: "POST", target: "open-api/refresh-token", ct: ctJSON, body: `{"token":"{{T}}","refresh_token":"{{R}}"}`,
		capture: map[string]string{"T2": "data.token"}},
	{name: "tv05_refresh_repeat_same_token", method: "POST", target: "open-api/refresh-token", ct: ctJSON, body: `{"token":"{{T}}","refresh_token":"{{R}}"}`},
	{name: "tv05_login_info", method: "GET", target: "auth/login-info/refresh?api_token={{T2}}"},
	{name: "tv05_old_token", method: "GET", target: "role?api_token={{T}}"},
	{name: "refresh_missing", method: "POST", target: "open-api/refresh-token", ct: ctForm, body: `token={{T2}}`},
	{name: "refresh_foreign", method: "POST", target: "open-api/refresh-token", ct: ctJSON, body: `{"token":"{{TW}}","refresh_token":"{{R}}"}`},
	{name: "refresh_unknown", method: "POST", target: "open-api/refresh-token", ct: ctJSON, body: `{"token":"` + strings.Repeat("cd", 64) + `","refresh_token":"{{R}}"}`},
	{name: "login_info_new_token", method: "GET", target: "auth/login-info/refresh?refresh_new_token=true", headers: map[string]string{"Authorization": "Bearer {{T2}}"}},
	// §4, §5.2 users
	{name: "tv06_user_list", method: "GET", target: "user?api_token={{T2}}&page=1&limit=10&order_by=" + q(`{"user_id":"asc"}`) +
		"&search=" + q(`{"user_name":["管理","like"],"user_status":[1]}`)},
	{name: "user_list_all", method: "GET", target: "user?api_token={{T2}}&order_by=" + q(`{"user_name":"desc","user_accounts":"asc"}`)},
	{name: "user_list_dept_role_search", method: "POST", target: "user/lists", ct: ctForm,
		body: "api_token={{T2}}&fields=user_id,user_name&search%5Bdept_id%5D%5B0%5D=2&search%5Brole_id%5D%5B0%5D%5B%5D=1&search%5Brole_id%5D%5B1%5D=in"},
	{name: "user_list_multisearch_or", method: "GET", target: "user?api_token={{T2}}&datatype=id&search=" +
		q(`{"multiSearch":{"__relation__":"or","user_name":["王","like"],"user_accounts":["admin"]}}`)},
	{name: "user_list_include_leave", method: "GET", target: "user?api_token={{T2}}&include_leave=1&response=count&search=" + q(`{"user_status":[2]}`)},
	{name: "user_list_invalid_json_search_is_absent", method: "GET", target: "user?api_token={{T2}}&response=count&search=" + q(`{"user_name":`)},
	{name: "user_list_bad_operator", method: "GET", target: "user?api_token={{T2}}&search=" + q(`{"user_name":["x","regexp"]}`)},
	{name: "user_list_operator_key", method: "GET", target: "user?api_token={{T2}}&search=" + q(`{"$where":["1"]}`)},
	{name: "user_list_bad_direction", method: "GET", target: "user?api_token={{T2}}&order_by=" + q(`{"user_name":"sideways"}`)},
	{name: "user_list_autofix_page", method: "GET", target: "user?api_token={{T2}}&page=9&limit=1&autoFixPage=1&fields=user_id"},
	{name: "user_detail", method: "GET", target: "user/WV00000002?api_token={{T2}}"},
	{name: "user_detail_unknown", method: "GET", target: "user/WV99999999?api_token={{T2}}"},
	{name: "user_create", method: "POST", target: "user", ct: ctForm,
		body:    "api_token={{T2}}&user_accounts=zhaoliu&user_name=赵六&dept_id=2&role_id_init=1&user_status=1&phone_number=13900000009",
		capture: map[string]string{"U": "data.user_id"}},
	{name: "user_create_missing_role", method: "POST", target: "user", ct: ctForm, body: "api_token={{T2}}&user_accounts=x&user_name=X&dept_id=2"},
	{name: "user_edit", method: "POST", target: "user/{{U}}", ct: ctForm, body: "api_token={{T2}}&user_name=赵六六"},
	{name: "user_delete_admin", method: "DELETE", target: "user/admin?api_token={{T2}}"},
	{name: "user_delete", method: "DELETE", target: "user/{{U}}?api_token={{T2}}"},
	// §5.4 roles
	{name: "tv07_role_page0", method: "GET", target: "role?api_token={{T2}}&page=0&limit=1"},
	{name: "tv07_role_count", method: "GET", target: "role?api_token={{T2}}&response=count"},
	{name: "tv14_form_body_on_get_ignored", method: "GET", target: "role?api_token={{T2}}", ct: ctForm, body: "response=count"},
	{name: "role_response_other", method: "GET", target: "role?api_token={{T2}}&response=nothing"},
	{name: "role_create", method: "POST", target: "role", ct: ctJSON, body: `{"api_token":"{{T2}}","role_name":"审计","role_no":"3"}`},
	{name: "role_create_invalid", method: "POST", target: "role", ct: ctJSON, body: `{"api_token":"{{T2}}","role_no":"x"}`},
	{name: "role_edit_method_override", method: "POST", target: "role/1", ct: ctForm, body: "api_token={{T2}}&_method=PUT&role_name=OA管理员&role_no=0"},
	// §5.7 form modeling
	{name: "tv08_form_create", method: "POST", target: "form-modeling/data/1001", headers: map[string]string{"Authorization": "Bearer {{T2}}"}, ct: ctJSON,
		body: `{"field_1":"alpha","field_2":"5","field_3":[{"field_3_1":"螺丝","DATA_3_2":"4"}],"due":"2025-01-02","level":"hi"}`, capture: map[string]string{"D": "data"}},
	{name: "tv08_form_read", method: "GET", target: "form-modeling/data/1001/{{D}}?api_token={{T2}}"},
	{name: "tv08_form_missing", method: "GET", target: "form-modeling/data/1001/999999?api_token={{T2}}"},
	{name: "form_create_second", method: "POST", target: "form-modeling/data/1001", ct: ctForm, body: "api_token={{T2}}&field_1=beta&field_2=12"},
	{name: "tv08_form_search", method: "GET", target: "form-modeling/data/1001?api_token={{T2}}&search=" +
		q(`{"field_1":[["alpha","beta"],"in"],"field_2":[[1,9],"between"],"updated_at":["","not_null"]}`)},
	{name: "form_search_or_and_dates", method: "GET", target: "form-modeling/data/1001?api_token={{T2}}&order_by=" +
		q(`[{"field_2":"desc"},{"data_id":"asc"}]`) + "&search=" + q(`{"field_1":["gamma"],"field_2":["12","or"],"due":[["2025-01-01","2025-01-31"],"not_between"]}`)},
	{name: "form_list_response_data", method: "GET", target: "form-modeling/data/1001?api_token={{T2}}&response=data&page=1&limit=1"},
	{name: "form_list_response_count", method: "GET", target: "form-modeling/data/1001?api_token={{T2}}&response=count"},
	{name: "tv09_unknown_search_field", method: "GET", target: "form-modeling/data/1001?api_token={{T2}}&search=" + q(`{"no_such":[1]}`)},
	{name: "form_create_unknown_field", method: "POST", target: "form-modeling/data/1001", ct: ctJSON, body: `{"api_token":"{{T2}}","field_9":"x"}`},
	{name: "form_create_bad_number", method: "POST", target: "form-modeling/data/1001", ct: ctJSON, body: `{"api_token":"{{T2}}","field_2":"five"}`},
	{name: "form_create_empty", method: "POST", target: "form-modeling/data/1001", ct: ctJSON, body: `{"api_token":"{{T2}}"}`},
	{name: "form_create_unknown_table", method: "POST", target: "form-modeling/data/nope", ct: ctJSON, body: `{"api_token":"{{T2}}","field_1":"x"}`},
	{name: "form_read_unknown_table", method: "GET", target: "form-modeling/data/nope?api_token={{T2}}"},
	{name: "form_edit", method: "POST", target: "form-modeling/data/1001/{{D}}", ct: ctJSON, body: `{"api_token":"{{T2}}","field_2":6}`},
	{name: "form_edit_unknown", method: "POST", target: "form-modeling/data/1001/424242", ct: ctJSON, body: `{"api_token":"{{T2}}","field_2":6}`},
	{name: "form_fields", method: "GET", target: "form-modeling/fields/1001?api_token={{T2}}"},
	// §5.3 departments
	{name: "tv10_dept_create", method: "POST", target: "system/department", ct: ctJSON, body: `{"api_token":"{{T2}}","dept_name":"测试部门","parent_id":2,"dept_sort":"1"}`,
		capture: map[string]string{"K": "data.dept_id"}},
	{name: "tv10_dept_delete_guard", method: "DELETE", target: "system/department/2?api_token={{T2}}"},
	{name: "dept_create_duplicate", method: "POST", target: "system/department", ct: ctJSON, body: `{"api_token":"{{T2}}","dept_name":"测试部门","parent_id":2}`},
	{name: "dept_create_top", method: "POST", target: "system/department", ct: ctForm, body: "api_token={{T2}}&dept_name=顶层&parent_id=0"},
	{name: "dept_create_no_name", method: "POST", target: "system/department", ct: ctForm, body: "api_token={{T2}}&parent_id=0"},
	{name: "dept_delete_children_guard", method: "DELETE", target: "system/department/59?api_token={{T2}}"},
	{name: "tv18_dept_tree", method: "GET", target: "system/department/all-tree?api_token={{T2}}"},
	{name: "dept_detail", method: "GET", target: "system/department/2?api_token={{T2}}"},
	{name: "dept_edit_director", method: "POST", target: "system/department/2", ct: ctForm, body: "api_token={{T2}}&director%5B%5D=WV00000002&dept_sort=1"},
	{name: "dept_detail_director", method: "GET", target: "system/department/2?api_token={{T2}}"},
	{name: "dept_edit_unknown_director", method: "POST", target: "system/department/2", ct: ctForm, body: "api_token={{T2}}&director=WV09999999"},
	{name: "user_list_dept_name_and_created_at", method: "GET", target: "user?api_token={{T2}}&fields=user_id&search=" +
		q(`{"dept_name":["研发"],"created_at":[{"startDate":"2023-11-15","endDate":"2023-11-15"}]}`)},
	{name: "user_list_created_at_bad", method: "GET", target: "user?api_token={{T2}}&search=" + q(`{"created_at":["yesterday"]}`)},
	{name: "dept_detail_unknown", method: "GET", target: "system/department/777?api_token={{T2}}"},
	{name: "dept_detail_zero", method: "GET", target: "system/department/0?api_token={{T2}}"},
	{name: "dept_edit_under_own_child", method: "POST", target: "system/department/2", ct: ctForm, body: "api_token={{T2}}&parent_id={{K}}"},
	// §3 transport
	{name: "tv12_unknown_route", method: "GET", target: "no/such/route?api_token={{T2}}", headers: map[string]string{"Host": "oa.example.com:8010"}},
	{name: "tv12_wrong_method", method: "PUT", target: "open-api/get-token"},
	{name: "unsupported_module", method: "GET", target: "news?api_token={{T2}}"},
	{name: "options_preflight", method: "OPTIONS", target: "user", headers: map[string]string{"Origin": "https://app.example.com"}},
	{name: "trailing_slash", method: "GET", target: "role/?api_token={{T2}}&response=count"},
	{name: "other_prefix", method: "GET", target: "/server/api/role?api_token={{T2}}&response=count"},
	// §1.2 TV-13: what the PHP SDK sends
	{name: "tv13_sdk_get_token", method: "POST", target: "open-api/get-token", headers: map[string]string{"Authorization": "Bearer "}, ct: ctForm,
		body: "agent_id=100001&secret=Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok&user=admin", capture: map[string]string{"T3": "data.token"}},
	{name: "tv13_sdk_user_users", method: "POST", target: "user/users", headers: map[string]string{"Authorization": "Bearer {{T3}}"}, ct: ctForm,
		body: "autoFixPage=1&limit=1&order_by=%5B%5D&page=1&search%5Buser_accounts%5D%5B0%5D=admin"},
	// §5.8 attachments
	{name: "tv17_upload_chunk", method: "POST", target: "attachment/upload?api_token={{T3}}", ct: ctMP,
		body: mpBody([3]string{"Filedata", "a.txt", "hello "}, [3]string{"chunk", "", "0"}, [3]string{"chunks", "", "2"}, [3]string{"name", "", "a.txt"})},
	{name: "upload_whole", method: "POST", target: "attachment/upload?api_token={{T3}}", ct: ctMP,
		body: mpBody([3]string{"Filedata", "说明.txt", "hello world"}), capture: map[string]string{"A": "data.attachment_id"}},
	{name: "upload_unsafe_suffix", method: "POST", target: "attachment/upload?api_token={{T3}}", ct: ctMP, body: mpBody([3]string{"Filedata", "x.php", "<?php"})},
	{name: "upload_path_trick", method: "POST", target: "attachment/upload?api_token={{T3}}", ct: ctMP, body: mpBody([3]string{"Filedata", "../../etc/passwd.txt", "x"})},
	{name: "upload_no_file", method: "POST", target: "attachment/upload?api_token={{T3}}", ct: ctMP, body: mpBody([3]string{"name", "", "x"})},
	{name: "attachment_list", method: "POST", target: "attachment/list", ct: ctForm, body: "api_token={{T3}}&attach_ids={{A}},ffffffffffffffffffffffffffffffff"},
	{name: "attachment_list_get_is_wrong_method", method: "GET", target: "attachment/list?api_token={{T3}}"},
	{name: "attachment_download", method: "GET", target: "attachment/index/{{A}}?api_token={{T3}}&operate=download"},
	{name: "attachment_download_unknown", method: "GET", target: "attachment/index/00000000000000000000000000000000?api_token={{T3}}"},
	{name: "form_create_with_attachment", method: "POST", target: "form-modeling/data/1001", ct: ctForm,
		body: "api_token={{T3}}&field_1=gamma&files%5B%5D={{A}}", capture: map[string]string{"D2": "data"}},
	{name: "form_read_with_attachment", method: "GET", target: "form-modeling/data/1001/{{D2}}?api_token={{T3}}"},
	{name: "attachment_list_by_entity", method: "POST", target: "attachment/list", ct: ctJSON, body: `{"api_token":"{{T3}}","entity_table":"1001","entity_id":"{{D2}}"}`},
	{name: "form_create_unknown_attachment", method: "POST", target: "form-modeling/data/1001", ct: ctForm,
		body: "api_token={{T3}}&field_1=delta&files%5B%5D=ffffffffffffffffffffffffffffffff"},
	// §5.6 documents
	{name: "document_create", method: "POST", target: "document", ct: ctForm,
		body: "api_token={{T3}}&subject=制度&folder_id=81&content=%3Cp%3E正文%3C%2Fp%3E&attachment_id%5B%5D={{A}}", capture: map[string]string{"DOC": "data.document_id"}},
	{name: "document_create_invalid", method: "POST", target: "document", ct: ctJSON, body: `{"api_token":"{{T3}}"}`},
	{name: "document_list", method: "GET", target: "document?api_token={{T3}}&search=" + q(`{"folder_id":[81,"in"]}`)},
	{name: "document_get", method: "GET", target: "document/{{DOC}}?api_token={{T3}}"},
	{name: "document_get_unknown", method: "GET", target: "document/9999?api_token={{T3}}"},
	{name: "document_get_zero", method: "GET", target: "document/0?api_token={{T3}}"},
	{name: "legacy_refresh_missing", method: "GET", target: "auth/refresh?token={{T3}}"},
	// Tenant isolation: the other tenant's app and token.
	{name: "other_get_token", method: "POST", target: "open-api/get-token", ct: ctForm, body: "agent_id=100002&secret=" + otherSecret + "&user=carol",
		capture: map[string]string{"TO": "data.token"}},
	{name: "other_tenant_user_same_spelling", method: "GET", target: "user/WV00000002?api_token={{TO}}"},
	{name: "other_tenant_user_admin", method: "GET", target: "user/admin?api_token={{TO}}"},
	{name: "other_tenant_hub_id", method: "GET", target: "user?api_token={{TO}}&search=" + q(`{"user_id":[["u-admin","admin","WV00000002"],"in"]}`)},
	{name: "other_tenant_form_row", method: "GET", target: "form-modeling/data/1001/{{D}}?api_token={{TO}}"},
	{name: "other_tenant_form_list", method: "GET", target: "form-modeling/data/1001?api_token={{TO}}"},
	{name: "other_tenant_form_edit", method: "POST", target: "form-modeling/data/1001/{{D}}", ct: ctJSON, body: `{"api_token":"{{TO}}","field_1":"hijack"}`},
	{name: "other_tenant_dept", method: "DELETE", target: "system/department/2?api_token={{TO}}"},
	{name: "other_tenant_attachment", method: "GET", target: "attachment/index/{{A}}?api_token={{TO}}"},
	{name: "other_tenant_document", method: "GET", target: "document/{{DOC}}?api_token={{TO}}"},
	{name: "form_delete", method: "DELETE", target: "form-modeling/data/1001/{{D}}?api_token={{T3}}"},
	{name: "form_delete_again", method: "DELETE", target: "form-modeling/data/1001/{{D}}?api_token={{T3}}"},
}

// expand substitutes {{NAME}} with captured values.
func expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return s
}

// target is the scenario's full request target.
func (s scenario) fullTarget(vars map[string]string) string {
	t := expand(s.target, vars)
	if strings.HasPrefix(t, "/") {
		if strings.HasPrefix(t, "/api/") {
			return mount + t
		}
		return t
	}
	return mount + "/api/" + t
}

// requestText is the scenario's golden request section.
func (s scenario) requestText(vars map[string]string) string {
	var b strings.Builder
	b.WriteString(s.method + " " + s.fullTarget(vars) + "\n")
	keys := make([]string, 0, len(s.headers))
	for k := range s.headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if s.ct != "" {
		b.WriteString("Content-Type: " + s.ct + "\n")
	}
	for _, k := range keys {
		b.WriteString(k + ": " + expand(s.headers[k], vars) + "\n")
	}
	b.WriteString("\n" + expand(s.body, vars))
	return b.String()
}

// buildRequest is the sdk.Request of a request section (as RunGolden and
// the hub build it).
func buildRequest(t testing.TB, text string) *sdk.Request {
	head, body, _ := strings.Cut(text, "\n\n")
	lines := strings.Split(head, "\n")
	method, target, _ := strings.Cut(lines[0], " ")
	u, err := url.ParseRequestURI(target)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ":")
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	req := &sdk.Request{Method: method, Path: u.Path, Query: u.Query(), Headers: h, Body: []byte(strings.TrimRight(body, "\n")),
		PathParams: map[string]string{}, ClientIP: "192.0.2.1", RequestID: "golden"}
	for _, r := range eoffice.Info().Routes {
		if r.Method != method {
			continue
		}
		if params, ok := sdktest.MatchRoute(r.Path, u.Path); ok {
			req.Route, req.PathParams = r.Path, params
			return req
		}
	}
	t.Fatalf("no route matches %s %s", method, u.Path)
	return nil
}

// lookup reads a dotted path of a JSON body ("data.token").
func lookup(body []byte, path string) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return fmt.Sprintf("%.0f", x)
	}
	return ""
}

// renderGolden renders one golden file.
func renderGolden(request string, calls []sdktest.Call, resp *sdk.Response) string {
	if calls == nil {
		calls = []sdktest.Call{}
	}
	hostJSON, _ := json.MarshalIndent(calls, "", "  ")
	var b strings.Builder
	b.WriteString(strings.TrimRight(request, "\n") + "\n--- host\n" + string(hostJSON) + "\n--- response\n")
	fmt.Fprintf(&b, "%d\n", resp.Status)
	if ct := resp.Headers.Get("Content-Type"); ct != "" {
		b.WriteString("Content-Type: " + ct + "\n")
	}
	if cd := resp.Headers.Get("Content-Disposition"); cd != "" {
		b.WriteString("Content-Disposition: " + cd + "\n")
	}
	b.WriteString("\n")
	var v any
	if json.Unmarshal(resp.Body, &v) == nil {
		out, _ := json.MarshalIndent(v, "", "  ")
		b.Write(out)
	} else {
		b.Write(resp.Body)
	}
	b.WriteString("\n")
	return b.String()
}

// generate runs the scenarios in order through pc against a fresh MemHost
// and returns the golden files by name.
func generate(t *testing.T, pc *pluginConnector) map[string]string {
	mem := newHost()
	vars := map[string]string{}
	out := map[string]string{}
	for _, s := range goldenScenarios {
		if s.method == "" {
			t.Fatalf("%s: no method", s.name)
		}
		if vars["T"] != "" {
			vars["BASIC"] = basic("x", vars["T"])
		}
		text := s.requestText(vars)
		req := buildRequest(t, text)
		rh := &sdktest.RecordingHost{Inner: mem}
		resp, err := pc.Handle(context.Background(), req, rh)
		if err != nil {
			t.Fatalf("%s: the connector returned an error instead of an envelope: %v", s.name, err)
		}
		for k, path := range s.capture {
			if vars[k] = lookup(resp.Body, path); vars[k] == "" {
				t.Fatalf("%s: nothing at %s in %s", s.name, path, resp.Body)
			}
		}
		out[s.name] = renderGolden(text, rh.Calls(), resp)
	}
	return out
}

func basic(user, pass string) string {
	return base64Std(user + ":" + pass)
}

// TestGenerateGolden regenerates the golden files (with -gen: writes them)
// and fails when the committed ones drifted from the scenario table.
func TestGenerateGolden(t *testing.T) {
	pc := startPlugin(t, goldenConfig)
	files := generate(t, pc)
	for name, content := range files {
		path := filepath.Join("testdata", name+".golden")
		if *gen {
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (run with -gen)", name, err)
			continue
		}
		if string(old) != content {
			t.Errorf("%s drifted from the scenario table (run with -gen and review the diff)", path)
		}
	}
}

// TestGolden replays every golden file through the plugin process: the
// connector's Host API calls must match the recorded ones (method and
// arguments, in order) and its response the recorded response.
func TestGolden(t *testing.T) {
	sdktest.RunGolden(t, startPlugin(t, goldenConfig), "testdata")
}
