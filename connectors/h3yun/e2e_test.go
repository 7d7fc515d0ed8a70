package h3yun_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/connectors/h3yun"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// answer is a decoded H3Yun response.
type answer struct {
	status int
	raw    []byte
	Env    struct {
		Successful   bool
		ErrorMessage *string
		Logined      bool
		ReturnData   json.RawMessage
		DataType     int
	}
}

func invoke(t *testing.T, srv *httptest.Server, body string) answer {
	t.Helper()
	status, _, raw := do(t, srv, request{body: body})
	a := answer{status: status, raw: raw}
	if err := json.Unmarshal(raw, &a.Env); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, raw)
	}
	if status != http.StatusOK {
		t.Fatalf("HTTP %d, want 200 (H3Yun answers 200): %s", status, raw)
	}
	return a
}

// mustOK decodes ReturnData of a successful answer into v.
func (a answer) mustOK(t *testing.T, v any) {
	t.Helper()
	if !a.Env.Successful || a.Env.ErrorMessage != nil {
		t.Fatalf("want Successful:true, got %s", a.raw)
	}
	if !bytes.HasPrefix(a.raw, []byte(`{"Successful":true,"ErrorMessage":null,"Logined":false,"ReturnData":`)) ||
		!bytes.HasSuffix(a.raw, []byte(`,"DataType":0}`)) {
		t.Errorf("envelope keys not in H3Yun's order: %s", a.raw)
	}
	if v != nil {
		if err := json.Unmarshal(a.Env.ReturnData, v); err != nil {
			t.Fatalf("ReturnData: %v\n%s", err, a.raw)
		}
	}
}

// mustFail checks a Successful:false envelope whose message contains want.
func (a answer) mustFail(t *testing.T, want string) {
	t.Helper()
	if a.Env.Successful || a.Env.ErrorMessage == nil || !strings.Contains(*a.Env.ErrorMessage, want) ||
		string(a.Env.ReturnData) != "null" || a.Env.Logined || a.Env.DataType != 0 {
		t.Fatalf("want Successful:false with %q, got %s", want, a.raw)
	}
}

type bizObject map[string]any

func (b bizObject) str(k string) string { s, _ := b[k].(string); return s }

// TestScenarioOverHTTP drives the scenario as an H3Yun client would,
// over HTTP, with the connector in process and in a plugin process: create
// with submit → load → filtered list with paging → update → remove → load
// gives the not-found envelope. The record is also checked as the native
// API stores it.
func TestScenarioOverHTTP(t *testing.T) {
	for _, mode := range []string{"inproc", "plugin"} {
		t.Run(mode, func(t *testing.T) {
			mem := newHost()
			var c sdk.Connector = h3yun.New()
			if mode == "plugin" {
				c = startPlugin(t, []byte(`{"timeZone":"Asia/Shanghai","maxBatch":10}`))
			}
			srv := serve(t, c, mem)
			ctx := context.Background()

			// Create with submit.
			var created struct{ BizObjectId, WorkflowInstanceId string }
			invoke(t, srv, `{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","IsSubmit":"true","BizObject":`+
				q(`{"OwnerId":"`+zhangSan+`","F0000001":"alpha","F0000002":"5","F0000003":"2025/1/2 8:30:00","F0000006":"低","D000024Fitems":[{"F0000004":"a"},{"F0000004":"b"}]}`)+`}`).mustOK(t, &created)
			a := created.BizObjectId
			if a == "" {
				t.Fatal("no BizObjectId")
			}
			var batch struct{ BizObjectIdArray []string }
			invoke(t, srv, `{"ActionName":"CreateBizObjects","SchemaCode":"D000024demo","IsSubmit":true,"BizObjectArray":[`+
				q(`{"F0000001":"beta","F0000002":7}`)+`,`+q(`{"F0000001":"gamma","F0000002":9}`)+`]}`).mustOK(t, &batch)
			if len(batch.BizObjectIdArray) != 2 {
				t.Fatalf("BizObjectIdArray = %v", batch.BizObjectIdArray)
			}

			// The native view of the record: stored shapes of native §6.3.
			rec, err := mem.GetRecord(ctx, &service, demoForm, a)
			if err != nil {
				t.Fatal(err)
			}
			data := rec["data"].(map[string]any)
			if data["F0000003"] != int64(1735777800000) || !isNumber(data["F0000002"], 5) || data["F0000006"] != "lo" {
				t.Errorf("stored data = %v, want epoch ms 1735777800000, number 5, option value lo", data)
			}
			if by := rec["createBy"].(map[string]any); by["id"] != zhangSan {
				t.Errorf("createBy = %v, want the OwnerId", by)
			}

			// Load.
			var loaded struct{ BizObject bizObject }
			invoke(t, srv, `{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":"`+a+`"}`).mustOK(t, &loaded)
			o := loaded.BizObject
			for k, want := range map[string]any{"ObjectId": a, "OwnerId": zhangSan, "OwnerDeptId": deptSZ, "Status": 1.0,
				"F0000001": "alpha", "F0000002": 5.0, "F0000003": "2025/01/02 08:30:00", "F0000006": "低", "F0000005": nil} {
				if o[k] != want {
					t.Errorf("BizObject.%s = %#v, want %#v", k, o[k], want)
				}
			}
			if owner, _ := o["OwnerIdObject"].(map[string]any); owner["Name"] != "张三" {
				t.Errorf("OwnerIdObject = %v", o["OwnerIdObject"])
			}
			rows, _ := o[childTable].([]any)
			if len(rows) != 2 || rows[1].(map[string]any)["F0000004"] != "b" || rows[0].(map[string]any)["ParentObjectId"] != a {
				t.Errorf("child rows = %v", o[childTable])
			}

			// Filtered list with paging: effective records, by F0000002 descending, two per page.
			page := func(from, to int) ([]bizObject, float64) {
				var got struct {
					BizObjectArray []bizObject
					TotalCount     float64
				}
				f := `{"FromRowNum":` + itoa(from) + `,"ToRowNum":` + itoa(to) + `,"RequireCount":true,"ReturnItems":["F0000001"],` +
					`"SortByCollection":[{"ItemName":"F0000002","Direction":"Descending"}],` +
					`"Matcher":{"Type":"And","Matchers":[{"Type":"Item","Name":"Status","Operator":2,"Value":1},{"Type":"Item","Name":"F0000002","Operator":0,"Value":4}]}}`
				invoke(t, srv, `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":`+q(f)+`}`).mustOK(t, &got)
				return got.BizObjectArray, got.TotalCount
			}
			p1, total := page(0, 2)
			p2, _ := page(2, 4)
			if total != 3 || len(p1) != 2 || len(p2) != 1 || p1[0].str("F0000001") != "gamma" || p1[1].str("F0000001") != "beta" || p2[0].str("ObjectId") != a {
				t.Errorf("pages = %v %v (total %v), want gamma, beta | alpha (3)", p1, p2, total)
			}
			if _, extra := p1[0]["F0000002"]; extra {
				t.Errorf("ReturnItems not applied: %v", p1[0])
			}

			// Partial update.
			invoke(t, srv, `{"ActionName":"UpdateBizObject","SchemaCode":"D000024demo","BizObjectId":"`+a+`","BizObject":`+q(`{"F0000002":6,"CreateBy":"ignored"}`)+`}`).mustOK(t, nil)
			invoke(t, srv, `{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":"`+a+`"}`).mustOK(t, &loaded)
			if loaded.BizObject["F0000002"] != 6.0 || loaded.BizObject["F0000001"] != "alpha" || loaded.BizObject["ModifiedBy"] != adminID {
				t.Errorf("after update: %v", loaded.BizObject)
			}

			// Remove, then load: the not-found envelope.
			invoke(t, srv, `{"ActionName":"RemoveBizObject","SchemaCode":"D000024demo","BizObjectId":"`+a+`"}`).mustOK(t, nil)
			invoke(t, srv, `{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":"`+a+`"}`).mustFail(t, "业务数据不存在："+a)

			// Failures change nothing.
			before, _ := mem.FindRecords(ctx, &service, demoForm, sdk.Query{Limit: -1}, true)
			status, _, raw := do(t, srv, request{headers: map[string]string{"EngineCode": engineCode, "EngineSecret": "wrong"},
				body: `{"ActionName":"RemoveBizObject","SchemaCode":"D000024demo","BizObjectId":"` + batch.BizObjectIdArray[0] + `"}`})
			if status != 200 || !bytes.Contains(raw, []byte("认证失败")) {
				t.Errorf("wrong secret: %d %s", status, raw)
			}
			invoke(t, srv, `{"ActionName":"CreateBizObjects","SchemaCode":"D000024demo","IsSubmit":true,"BizObjectArray":[`+
				q(`{"F0000001":"ok"}`)+`,`+q(`{"F0000002":"not a number"}`)+`]}`).mustFail(t, "数据校验失败")
			after, _ := mem.FindRecords(ctx, &service, demoForm, sdk.Query{Limit: -1}, true)
			if before.Total != 2 || after.Total != before.Total {
				t.Errorf("records: %d before, %d after failed calls; want 2 and 2", before.Total, after.Total)
			}
		})
	}
}

// isNumber reports whether v is the number n (the store hands integral
// numbers back as int64, others as float64).
func isNumber(v any, n float64) bool {
	switch x := v.(type) {
	case int64:
		return float64(x) == n
	case float64:
		return x == n
	}
	return false
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestNativeRecordRendersAsBizObject: a record created through the native
// API (stored shapes of native §6.3: {value,label} options, {id,…} users,
// epoch-ms times, row ids) reads back field by field in H3Yun's encodings.
func TestNativeRecordRendersAsBizObject(t *testing.T) {
	mem := newHost()
	ctx := context.Background()
	admin := service
	rec, err := mem.CreateRecord(ctx, &admin, demoForm, map[string]any{
		"F0000001": "native", "F0000002": int64(3), "F0000003": int64(1735777800000),
		"F0000005": []any{map[string]any{"id": "file1", "fileName": "a.txt", "url": "/api/v1/files/file1"}},
		"F0000006": map[string]any{"value": "hi", "label": "高"},
		"F0000007": []any{map[string]any{"id": zhangSan, "value": "E002", "label": "张三"}, map[string]any{"id": adminID}},
		childTable: []any{map[string]any{"id": "row9", "F0000004": "x"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, h3yun.New(), mem)
	var got struct{ BizObject bizObject }
	invoke(t, srv, `{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":"`+rec["id"].(string)+`"}`).mustOK(t, &got)
	o := got.BizObject
	want := map[string]any{"F0000001": "native", "F0000002": 3.0, "F0000003": "2025/01/02 08:30:00", "F0000006": "高",
		"F0000007": zhangSan + ";" + adminID, "OwnerId": adminID, "OwnerDeptId": deptHQ, "Status": 1.0, "CreatedTime": "2023/11/15 06:13:20"}
	for k, w := range want {
		if o[k] != w {
			t.Errorf("%s = %#v, want %#v", k, o[k], w)
		}
	}
	if files, _ := o["F0000005"].([]any); len(files) != 1 || files[0] != "file1" {
		t.Errorf("F0000005 = %v, want [file1]", o["F0000005"])
	}
	rows, _ := o[childTable].([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["ObjectId"] != "row9" {
		t.Errorf("rows = %v", rows)
	}
}

// TestHostSideErrorsUseTheEnvelope: what the hub renders when the plugin
// is down, busy or the limiter refuses is an H3Yun envelope with HTTP 200.
func TestHostSideErrorsUseTheEnvelope(t *testing.T) {
	r, err := h3yun.Info().ErrorEnvelope.Compile()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{sdk.Errorf(sdk.RateLimited, "rate limit exceeded"), "调用频率过高，请稍后再试"},
		{sdk.Errorf(sdk.Unavailable, "the connector is not available").WithReason(sdk.ReasonUnavailable), "服务暂不可用，请稍后再试"},
		{sdk.Errorf(sdk.Unavailable, "busy").WithReason(sdk.ReasonBusy), "服务暂不可用，请稍后再试"},
		{sdk.Errorf(sdk.Unauthorized, "bad"), "认证失败：EngineCode 或 EngineSecret 不正确"},
		{sdk.Errorf(sdk.Invalid, `quote " and <tag>`), `参数格式错误：quote " and <tag>`},
		{sdk.Errorf(sdk.Internal, "secret detail"), "服务器内部错误"},
		{sdk.Errorf(sdk.TooLarge, "body too large"), "请求内容过大"},
		{sdk.Errorf(sdk.UnsupportedMedia, `Content-Encoding "br" is not supported`), `参数格式错误：Content-Encoding "br" is not supported`},
		{sdk.Errorf(sdk.MethodNotAllowed, "method not allowed"), "请求方式错误：只支持 POST"},
	} {
		status, ct, body := r.Render(tc.err, "rid")
		var env map[string]any
		if err := json.Unmarshal(body, &env); err != nil {
			t.Fatalf("%v: body is not JSON: %s", tc.err, body)
		}
		if status != 200 || !strings.HasPrefix(ct, "application/json") || env["Successful"] != false ||
			env["ErrorMessage"] != tc.want || env["ReturnData"] != nil || env["Logined"] != false || env["DataType"] != 0.0 {
			t.Errorf("%v: %d %s %s, want 200 with %q", tc.err, status, ct, body, tc.want)
		}
	}
}

// TestConfigure rejects bad settings and unknown keys.
func TestConfigure(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		okay bool
	}{
		{``, true}, {`null`, true}, {`{}`, true}, {`{"timeZone":"UTC","maxBatch":5}`, true},
		{`{"maxBatch":0}`, false}, {`{"timeZone":"Mars/Olympus"}`, false}, {`{"rate":1}`, false}, {`[`, false},
		{`{"maxAttachment":1024}`, true}, {`{"maxAttachment":0}`, false}, {`{"maxAttachment":999999999}`, false},
		{`{"controllers":[{"controller":"C","action":"A","dataflow":"d"}]}`, true},
		{`{"controllers":[{"controller":"C","action":"LoadBizObject","dataflow":"d"}]}`, false},
		{`{"controllers":[{"controller":"","action":"A","dataflow":"d"}]}`, false},
		{`{"controllers":[{"controller":"C","action":"A"}]}`, false},
	} {
		err := h3yun.New().(sdk.Configurer).Configure([]byte(tc.raw))
		if (err == nil) != tc.okay {
			t.Errorf("Configure(%s) = %v, want ok=%v", tc.raw, err, tc.okay)
		}
		if err != nil && sdk.CodeOf(err) != sdk.Invalid {
			t.Errorf("Configure(%s): code %v, want invalid", tc.raw, sdk.CodeOf(err))
		}
	}
}

// TestRegistered: the connector is a built-in under its id.
func TestRegistered(t *testing.T) {
	info, ok := sdk.Lookup(h3yun.ID)
	if !ok || info.New == nil || info.ID != "h3yun" {
		t.Fatalf("sdk.Lookup(h3yun) = %+v, %v", info, ok)
	}
}
