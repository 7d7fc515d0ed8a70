package h3yun_test

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
	"strconv"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/connectors/h3yun"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

// gen regenerates testdata/*.golden from goldenScenarios, run in order
// against the seeded MemHost (go test ./connectors/h3yun -run TestGenerateGolden -gen).
// Review the diff: the files are the contract. (-update, from sdktest,
// rewrites only the host and response sections of existing files.)
var gen = flag.Bool("gen", false, "regenerate testdata/*.golden from the scenario table against MemHost")

// goldenScenario is one golden file: a request made after the ones before it.
type goldenScenario struct {
	name    string
	target  string            // default /OpenApi/Invoke
	headers map[string]string // default: the fixture's credentials
	body    string
	// contentType defaults by route: JSON for Invoke, a form for download.
	contentType string
}

// multipartBody is an UploadAttachment body with one file part.
func multipartBody(field, filename, partType, content string) string {
	return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"" + filename +
		"\"\r\nContent-Type: " + partType + "\r\n\r\n" + content + "\r\n--" + boundary + "--\r\n"
}

const (
	boundary      = "----------8dc1f0e2a3b4c5d"
	multipartType = "multipart/form-data; boundary=" + boundary
	uploadTV11    = "/OpenApi/UploadAttachment?SchemaCode=D000024demo&FilePropertyName=F0000005&BizObjectId=r1"
)

func filterJSON(s string) string { return q(s) }

// Record ids are MemHost's deterministic ones: r1 (TV-1), r2 (TV-3), …
var goldenScenarios = []goldenScenario{
	{name: "tv01_create_effective", body: `{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","BizObject":` +
		q(`{"OwnerId":"aea4d7a7-d162-4c77-9c44-7bd9cb8316a5","F0000001":"alpha","F0000002":5,"F0000003":"2025-01-02 08:30:00","F0000006":"高","F0000007":"aea4d7a7-d162-4c77-9c44-7bd9cb8316a5;0d6b1f7e-94a1-4c5e-9a57-3f3a7b6c2d10","CreateBy":"x","D000024Fitems":[{"F0000004":"a"},{"F0000004":"b"}]}`) +
		`,"IsSubmit":"true"}`},
	{name: "tv02_load", body: `{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":"r1"}`},
	{name: "tv03_create_draft", body: `{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","BizObject":` +
		q(`{"F0000001":"beta","F0000002":7}`) + `,"IsSubmit":false}`},
	{name: "tv03_then_load", body: `{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":" r2 "}`},
	{name: "tv04_query_nested", body: `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":` +
		filterJSON(`{"FromRowNum":0,"ToRowNum":10,"RequireCount":true,"ReturnItems":["F0000001","F0000002"],"SortByCollection":[{"ItemName":"F0000002","Direction":"Descending"}],"Matcher":{"Type":"And","Matchers":[{"Type":"Item","Name":"F0000002","Operator":1,"Value":5},{"Type":"Or","Matchers":[{"Type":"Item","Name":"F0000001","Operator":8,"Value":"lph"},{"Type":"Item","Name":"F0000001","Operator":13,"Value":"be"}]}]}}`) + `}`},
	{name: "tv05_in_isnull", body: `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":` +
		filterJSON(`{"FromRowNum":0,"ToRowNum":500,"ReturnItems":["F0000001"],"Matcher":{"Type":"And","Matchers":[{"Type":"Item","Name":"F0000001","Operator":6,"Value":["alpha","gamma"]},{"Type":"Item","Name":"F0000003","Operator":19,"Value":null}]}}`) + `}`},
	{name: "tv06_update_partial", body: `{"ActionName":"UpdateBizObject","SchemaCode":"D000024demo","BizObjectId":"r1","BizObject":` +
		q(`{"F0000002":6}`) + `,"IsSubmit":"true"}`},
	{name: "tv06_then_load", body: `{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":"r1"}`},
	{name: "tv07_window_over_500", body: `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":"{\"FromRowNum\":0,\"ToRowNum\":501}"}`},
	{name: "tv08_unknown_schema", body: `{"ActionName":"LoadBizObject","SchemaCode":"D999nope","BizObjectId":"r1"}`},
	{name: "tv09_wrong_secret", headers: map[string]string{"EngineCode": engineCode, "EngineSecret": "wrong"},
		body: `{"ActionName":"RemoveBizObject","SchemaCode":"D000024demo","BizObjectId":"r1"}`},
	{name: "tv10_workflow_submit", body: `{"ActionName":"CreateBizObject","SchemaCode":"D000024flow","BizObject":` +
		q(`{"OwnerId":"aea4d7a7-d162-4c77-9c44-7bd9cb8316a5","F0000001":"leave"}`) + `,"IsSubmit":true}`},
	{name: "tv10_then_load", body: `{"ActionName":"LoadBizObject","SchemaCode":"D000024flow","BizObjectId":"r3"}`},
	{name: "tv11_upload", target: uploadTV11, contentType: multipartType,
		body: multipartBody("media", "note.txt", "text/plain", "hello")},
	{name: "tv11_download", target: "/Api/DownloadBizObjectFile", body: `attachmentId=file5&EngineCode=` + engineCode},
	{name: "tv11_then_load", body: `{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":"r1"}`},
	{name: "upload_appends", target: uploadTV11, contentType: multipartType,
		body: multipartBody("media", "合同 v2.pdf", "application/pdf", "%PDF-1.4 demo")},
	{name: "upload_path_trick", target: uploadTV11, contentType: multipartType,
		body: multipartBody("media", "../../etc/passwd.txt", "text/plain", "x")},
	{name: "upload_no_extension", target: uploadTV11, contentType: multipartType,
		body: multipartBody("media", "README", "text/plain", "x")},
	{name: "upload_not_multipart", target: uploadTV11, contentType: "text/plain", body: `hello`},
	{name: "upload_not_attachment_field", contentType: multipartType,
		target: "/OpenApi/UploadAttachment?SchemaCode=D000024demo&FilePropertyName=F0000001&BizObjectId=r1",
		body:   multipartBody("media", "a.txt", "text/plain", "x")},
	{name: "upload_child_not_attachment", contentType: multipartType,
		target: "/OpenApi/UploadAttachment?SchemaCode=D000024demo&ChildSchemaCode=D000024Fitems&FilePropertyName=F0000004&BizObjectId=row-1",
		body:   multipartBody("media", "a.txt", "text/plain", "x")},
	{name: "upload_unknown_record", contentType: multipartType,
		target: "/OpenApi/UploadAttachment?SchemaCode=D000024demo&FilePropertyName=F0000005&BizObjectId=nope",
		body:   multipartBody("media", "a.txt", "text/plain", "x")},
	{name: "upload_missing_property", contentType: multipartType,
		target: "/OpenApi/UploadAttachment?SchemaCode=D000024demo&BizObjectId=r1", body: multipartBody("media", "a.txt", "text/plain", "x")},
	{name: "download_unknown", target: "/Api/DownloadBizObjectFile", body: `attachmentId=nope&EngineCode=` + engineCode},
	{name: "download_other_engine_code", target: "/Api/DownloadBizObjectFile", body: `attachmentId=file5&EngineCode=eng-other`},
	{name: "download_other_tenant", target: "/Api/DownloadBizObjectFile", headers: map[string]string{"EngineCode": "eng-other", "EngineSecret": "other=="},
		body: `attachmentId=file5`},
	{name: "tv12_custom_controller", body: `{"ActionName":"Echo","Controller":"MyApiController","AppCode":"Acddd8f7643d946a3a22beb54648b157f","para1":"x"}`},
	{name: "controller_failure", body: `{"ActionName":"Echo","Controller":"myapicontroller","AppCode":"Acddd8f7643d946a3a22beb54648b157f","para1":"x","fail":true}`},
	{name: "controller_other_app", body: `{"ActionName":"Echo","Controller":"MyApiController","AppCode":"A0000000000000000000000000000000f","para1":"x"}`},
	{name: "controller_missing_dataflow", body: `{"ActionName":"Missing","Controller":"MyApiController","AppCode":"Ax"}`},
	{name: "action_without_controller", body: `{"ActionName":"Echo","para1":"x"}`},
	{name: "create_many", body: `{"ActionName":"CreateBizObjects","SchemaCode":"D000024demo","BizObjectArray":[` +
		q(`{"OwnerId":"aea4d7a7-d162-4c77-9c44-7bd9cb8316a5","F0000001":"gamma","F0000002":"9","F0000003":"2025/03/04 05:06:07"}`) + `,` +
		`{"OwnerId":"aea4d7a7-d162-4c77-9c44-7bd9cb8316a5","F0000001":"delta","F0000002":1}],"IsSubmit":"true"}`},
	{name: "create_many_mixed_owners", body: `{"ActionName":"CreateBizObjects","SchemaCode":"D000024demo","BizObjectArray":[` +
		q(`{"OwnerId":"aea4d7a7-d162-4c77-9c44-7bd9cb8316a5","F0000001":"x"}`) + `,` + q(`{"F0000001":"y"}`) + `],"IsSubmit":"true"}`},
	{name: "create_unknown_owner", body: `{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","BizObject":` +
		q(`{"OwnerId":"nobody","F0000001":"x"}`) + `,"IsSubmit":"true"}`},
	{name: "update_child_rows", body: `{"ActionName":"UpdateBizObject","SchemaCode":"D000024demo","BizObjectId":"r1","BizObject":` +
		q(`{"F0000003":null,"D000024Fitems":[{"ObjectId":"row-1","F0000004":"a2"},{"ObjectId":"row-2","F0000004":"b2"}]}`) + `}`},
	{name: "load_child_row", body: `{"ActionName":"LoadBizObject","SchemaCode":"D000024Fitems","BizObjectId":"row-2"}`},
	{name: "load_many_status_paging", body: `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":` +
		filterJSON(`{"FromRowNum":"1","ToRowNum":"3","RequireCount":"true","ReturnItems":["F0000001","Status","OwnerDeptId"],"SortByCollection":"[]","Matcher":{"Type":"and","Matchers":[{"Type":"Item","Name":"Status","Operator":2,"Value":1}]}}`) + `}`},
	{name: "load_many_operators", body: `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":` +
		filterJSON(`{"FromRowNum":0,"ToRowNum":50,"ReturnItems":["F0000001"],"SortByCollection":[{"Field":"CreatedTime","Direction":"Ascending"},{"ItemName":"F0000006","Direction":1}],"Matcher":{"Type":"Or","Matchers":[`+
			`{"Type":"Item","Name":"F0000002","Operator":0,"Value":"8"},{"Type":"Item","Name":"F0000002","Operator":3,"Value":1},{"Type":"Item","Name":"F0000002","Operator":4,"Value":0},`+
			`{"Type":"Item","Name":"F0000001","Operator":5,"Value":"alpha"},{"Type":"Item","Name":"F0000001","Operator":7,"Value":"x;y"},{"Type":"Item","Name":"F0000001","Operator":14,"Value":"ta"},`+
			`{"Type":"Item","Name":"F0000001","Operator":18},{"Type":"Item","Name":"F0000001","Operator":20},{"Type":"Item","Name":"F0000001","Operator":21},`+
			`{"Type":"Item","Name":"F0000001","Operator":22,"Value":"z"},{"Type":"Item","Name":"F0000001","Operator":23,"Value":"z"},{"Type":"Item","Name":"F0000001","Operator":24,"Value":"z"},`+
			`{"Type":"Item","Name":"F0000006","Operator":2,"Value":"高"},{"Type":"Item","Name":"F0000007","Operator":8,"Value":"aea4d7a7-d162-4c77-9c44-7bd9cb8316a5"},`+
			`{"Type":"Item","Name":"CreatedTime","Operator":1,"Value":"2023-01-01"},{"Type":"Item","Name":"OwnerId","Operator":2,"Value":" aea4d7a7-d162-4c77-9c44-7bd9cb8316a5"}]}}`) + `}`},
	{name: "load_many_owner_dept", body: `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":` +
		filterJSON(`{"FromRowNum":0,"ToRowNum":50,"ReturnItems":["F0000001","OwnerId","OwnerDeptId"],"Matcher":{"Type":"Or","Matchers":[`+
			`{"Type":"Item","Name":"OwnerDeptId","Operator":2,"Value":"18f923a7-5a5e-426d-94ae-a55ad1a4b240"},`+
			`{"Type":"Item","Name":"OwnerDeptId","Operator":7,"Value":["18f923a7-5a5e-426d-94ae-a55ad1a4b240","5c3e8a51-7d2b-4f0e-8c61-2b9d0e4f7a33"]}]}}`) + `}`},
	{name: "owner_dept_bad_operator", body: `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":` +
		filterJSON(`{"FromRowNum":0,"ToRowNum":50,"Matcher":{"Type":"Item","Name":"OwnerDeptId","Operator":8,"Value":"x"}}`) + `}`},
	{name: "load_many_default_window", body: `{"ActionName":"LoadBizObjects","SchemaCode":"D000024flow"}`},
	{name: "bad_operator", body: `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":` +
		filterJSON(`{"FromRowNum":0,"ToRowNum":10,"Matcher":{"Type":"Item","Name":"F0000001","Operator":9,"Value":"a"}}`) + `}`},
	{name: "bad_matcher_type", body: `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":` +
		filterJSON(`{"FromRowNum":0,"ToRowNum":10,"Matcher":{"Type":"Xor","Matchers":[]}}`) + `}`},
	{name: "unknown_control", body: `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":` +
		filterJSON(`{"FromRowNum":0,"ToRowNum":10,"Matcher":{"Type":"Item","Name":"F9999999","Operator":2,"Value":"a"}}`) + `}`},
	{name: "malformed_bizobject", body: `{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","BizObject":"{\"F0000001\":","IsSubmit":true}`},
	{name: "bizobject_operator_key", body: `{"ActionName":"UpdateBizObject","SchemaCode":"D000024demo","BizObjectId":"r1","BizObject":` +
		q(`{"$set":{"F0000001":"x"}}`) + `}`},
	{name: "bad_value", body: `{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","BizObject":` +
		q(`{"F0000002":"five"}`) + `,"IsSubmit":true}`},
	{name: "missing_id", body: `{"ActionName":"LoadBizObject","SchemaCode":"D000024demo"}`},
	{name: "missing_credentials", headers: map[string]string{}, body: `{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":"r1"}`},
	{name: "body_not_json", body: `ActionName=LoadBizObject`},
	{name: "unknown_action", body: `{"ActionName":"ListBizObjects","SchemaCode":"D000024demo"}`},
	{name: "other_tenant_cannot_see", headers: map[string]string{"EngineCode": "eng-other", "EngineSecret": "other=="},
		body: `{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":"r1"}`},
	{name: "remove", body: `{"ActionName":"RemoveBizObject","SchemaCode":"D000024demo","BizObjectId":"r2"}`},
	{name: "remove_then_load", body: `{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":"r2"}`},
	{name: "remove_unknown", body: `{"ActionName":"RemoveBizObject","SchemaCode":"D000024demo","BizObjectId":"r2"}`},
	{name: "remove_with_attachments", body: `{"ActionName":"RemoveBizObject","SchemaCode":"D000024demo","BizObjectId":"r1"}`},
	{name: "remove_then_download", target: "/Api/DownloadBizObjectFile", body: `attachmentId=file5&EngineCode=` + engineCode},
}

// routeOf returns the connector's route for path.
func routeOf(info sdk.Info, path string) sdk.Route {
	for _, r := range info.Routes {
		if strings.EqualFold(r.Path, path) {
			return r
		}
	}
	return sdk.Route{}
}

// requestText is a scenario's request section; principal (JSON, "" for
// none) is what the hub hands over after verifying the credentials.
func (s goldenScenario) requestText(principal string) string {
	target := s.target
	if target == "" {
		target = "/OpenApi/Invoke"
	}
	var b strings.Builder
	b.WriteString("POST " + target + "\n")
	headers := s.headers
	if headers == nil {
		headers = map[string]string{"EngineCode": engineCode, "EngineSecret": secret}
	}
	keys := make([]string, 0, len(headers))
	for k := range headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b.WriteString("Content-Type: " + s.ct() + "\n")
	for _, k := range keys {
		b.WriteString(k + ": " + headers[k] + "\n")
	}
	if principal != "" {
		b.WriteString(sdktest.PrincipalHeader + ": " + principal + "\n")
	}
	b.WriteString("\n" + s.body)
	return b.String()
}

// ct is the scenario's request Content-Type.
func (s goldenScenario) ct() string {
	switch {
	case s.contentType != "":
		return s.contentType
	case strings.HasPrefix(orDefault(s.target, "/OpenApi/Invoke"), "/Api/"):
		return "application/x-www-form-urlencoded"
	}
	return "application/json"
}

// TestGenerateGolden rewrites testdata from goldenScenarios when -gen is
// set; without it, it regenerates them in memory and fails when a committed
// golden file differs (the scenario table and testdata drifted apart).
func TestGenerateGolden(t *testing.T) {
	info := h3yun.Info()
	renderer, err := info.ErrorEnvelope.Compile()
	if err != nil {
		t.Fatal(err)
	}
	mem := newHost()
	c := coldConnector{configured(t), goldenConfig}
	for _, s := range goldenScenarios {
		// Every scenario runs cold, as RunGolden replays it.
		if err := c.Reset(context.Background()); err != nil {
			t.Fatal(err)
		}
		u, err := url.ParseRequestURI(orDefault(s.target, "/OpenApi/Invoke"))
		if err != nil {
			t.Fatal(err)
		}
		headers := http.Header{}
		for k, v := range map[string]string{"EngineCode": engineCode, "EngineSecret": secret} {
			if s.headers == nil {
				headers.Set(k, v)
			}
		}
		for k, v := range s.headers {
			headers.Set(k, v)
		}
		headers.Set("Content-Type", s.ct())
		req := &sdk.Request{Method: "POST", Path: u.Path, Route: u.Path, Query: u.Query(), Headers: headers,
			Body: []byte(s.body), PathParams: map[string]string{}, ClientIP: "192.0.2.1", RequestID: "golden"}
		route := routeOf(info, u.Path)
		// The hub verifies EngineCode/EngineSecret before the hop; the
		// golden request carries the principal it hands over (none: refused).
		p, verr := verifyEngine(context.Background(), mem, route, req)
		principalHeader := ""
		if verr == nil {
			pj, _ := json.Marshal(p)
			principalHeader = string(pj)
			req.Principal = p
		}
		rh := &sdktest.RecordingHost{Inner: mem}
		var (
			resp *sdk.Response
			herr error
		)
		if verr != nil {
			if resp, err = sdktest.HostError(info, route, verr, req.RequestID); err != nil {
				t.Fatal(err)
			}
		} else {
			resp, herr = sdk.SafeHandle(context.Background(), c, req, rh)
		}
		if herr != nil {
			status, ct, body := renderer.Render(herr, req.RequestID)
			resp = &sdk.Response{Status: status, Headers: http.Header{"Content-Type": {ct}}, Body: body}
		}
		calls := rh.Calls()
		if calls == nil {
			calls = []sdktest.Call{}
		}
		hostJSON, _ := json.MarshalIndent(calls, "", "  ")
		out := s.requestText(principalHeader) + "\n--- host\n" + string(hostJSON) + "\n--- response\n" + renderResponse(resp) + "\n"
		file := filepath.Join("testdata", s.name+".golden")
		if *gen {
			if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%s: %v (run with -gen to create it)", s.name, err)
			continue
		}
		if string(want) != out {
			t.Errorf("%s is stale: the scenario table generates something else (run with -gen)\n--- generated\n%s--- committed\n%s", file, out, want)
		}
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func renderResponse(resp *sdk.Response) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(resp.Status) + "\n")
	keys := make([]string, 0, len(resp.Headers))
	for k := range resp.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range resp.Headers[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString("\n")
	var v any
	if json.Unmarshal(resp.Body, &v) == nil {
		pretty, _ := json.MarshalIndent(v, "", "  ")
		b.Write(pretty)
	} else {
		b.Write(resp.Body)
	}
	return strings.TrimSpace(b.String())
}

// TestGolden runs every golden file in process and through a real plugin
// process: the same requests must make the same Host calls and get the
// same responses.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.golden")
	if len(files) < len(goldenScenarios) {
		t.Fatalf("testdata has %d golden files, the scenario table %d: run with -gen", len(files), len(goldenScenarios))
	}
	t.Run("inproc", func(t *testing.T) { sdktest.RunGolden(t, coldConnector{configured(t), goldenConfig}, "testdata") })
	t.Run("plugin", func(t *testing.T) { sdktest.RunGolden(t, startPlugin(t, goldenConfig), "testdata") })
}

func TestConformance(t *testing.T) { sdktest.Conformance(t, h3yun.New()) }
