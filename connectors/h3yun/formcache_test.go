package h3yun_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

// invokeAs sends one /OpenApi/Invoke body to c as p (the principal the
// hub verified), the host calls recorded over mem. It returns the
// envelope and the methods of the host calls, in order.
func invokeAs(t *testing.T, c sdk.Connector, mem sdk.Host, p sdk.Principal, body string) (map[string]any, []sdktest.Call) {
	t.Helper()
	rh := &sdktest.RecordingHost{Inner: mem}
	req := &sdk.Request{Method: http.MethodPost, Path: "/OpenApi/Invoke", Route: "/OpenApi/Invoke",
		Headers: http.Header{"Content-Type": {"application/json"}, "Enginecode": {p.ClientID}}, Body: []byte(body),
		PathParams: map[string]string{}, ClientIP: "192.0.2.1", RequestID: "cache", Principal: &p}
	resp, err := sdk.SafeHandle(context.Background(), c, req, rh)
	if err != nil {
		r, cerr := c.Info().ErrorEnvelope.Compile()
		if cerr != nil {
			t.Fatal(cerr)
		}
		_, _, b := r.Render(err, req.RequestID)
		resp = &sdk.Response{Body: b}
	}
	var env map[string]any
	if err := json.Unmarshal(resp.Body, &env); err != nil {
		t.Fatalf("%s: response %s: %v", body, resp.Body, err)
	}
	return env, rh.Calls()
}

func methods(calls []sdktest.Call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.Method
	}
	return out
}

func wantCalls(t *testing.T, step string, env map[string]any, calls []sdktest.Call, want ...string) {
	t.Helper()
	if env["Successful"] != true {
		t.Fatalf("%s: not successful: %v", step, env)
	}
	if got := methods(calls); !slices.Equal(got, want) {
		t.Fatalf("%s: host calls %v, want %v", step, got, want)
	}
}

// TestWarmFormCache: a create or an update is one Host call once the form
// is cached (two on a cold cache); a form changed between requests is
// refused by the host (form_changed), reloaded once and the write
// succeeds with the new form — in process and through a real plugin
// process (gRPC both ways, the Host API's form versions on the wire).
func TestWarmFormCache(t *testing.T) {
	for _, mode := range []string{"inproc", "plugin"} {
		t.Run(mode, func(t *testing.T) {
			var c sdk.Connector = configured(t)
			if mode == "plugin" {
				c = startPlugin(t, goldenConfig)
			}
			mem := newHost()
			svc := service
			svc.ClientID = engineCode
			create := func(bizObject string) string {
				return `{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","IsSubmit":true,"BizObject":` + q(bizObject) + `}`
			}

			env, calls := invokeAs(t, c, mem, svc, create(`{"F0000001":"cold"}`))
			wantCalls(t, "cold create", env, calls, "GetForm", "CreateRecords")
			env, calls = invokeAs(t, c, mem, svc, create(`{"F0000001":"warm"}`))
			wantCalls(t, "warm create", env, calls, "CreateRecords")
			var args struct{ Options sdk.CreateOptions }
			if err := json.Unmarshal(calls[0].Args, &args); err != nil || args.Options.FormVersion != sdktest.FixedNow {
				t.Fatalf("warm create args %s (%v): want formVersion %d", calls[0].Args, err, sdktest.FixedNow)
			}
			env, calls = invokeAs(t, c, mem, svc, `{"ActionName":"CreateBizObjects","SchemaCode":"D000024demo","IsSubmit":true,"BizObjectArray":[`+
				q(`{"F0000001":"a"}`)+`,`+q(`{"F0000001":"b"}`)+`]}`)
			wantCalls(t, "warm batch create", env, calls, "CreateRecords")
			env, calls = invokeAs(t, c, mem, svc, `{"ActionName":"UpdateBizObject","SchemaCode":"D000024demo","BizObjectId":"r1","BizObject":`+
				q(`{"F0000002":3}`)+`}`)
			wantCalls(t, "warm update", env, calls, "UpdateRecord")

			// An admin edits the form: the select's values change and a
			// field is added. The cached form is stale.
			fields := demoFields()
			fields[4].Props.Options = []sdk.Option{{Value: "high", Label: "高"}, {Value: "low", Label: "低"}}
			fields = append(fields, sdk.Field{Field: "F0000009", Type: "input", Title: "新"})
			if _, err := mem.UpdateForm(tenant, sdk.Form{ID: "form-demo", Key: demoForm, Name: "演示", AppID: "app1", Fields: fields}); err != nil {
				t.Fatal(err)
			}
			env, calls = invokeAs(t, c, mem, svc, create(`{"F0000006":"高","F0000009":"new"}`))
			wantCalls(t, "create after a form change", env, calls, "CreateRecords", "GetForm", "CreateRecords")
			if e := calls[0].Error; e == nil || e.Code != sdk.Conflict.String() || e.Reason != sdk.ReasonFormChanged {
				t.Fatalf("first CreateRecords error %+v, want Conflict/%s", e, sdk.ReasonFormChanged)
			}
			id, _ := env["ReturnData"].(map[string]any)["BizObjectId"].(string)
			rec, err := mem.GetRecord(context.Background(), &svc, demoForm, id)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := rec["data"].(map[string]any)
			if data["F0000006"] != "high" || data["F0000009"] != "new" {
				t.Fatalf("record data %v: want the new form's value high and the new field", data)
			}
			env, calls = invokeAs(t, c, mem, svc, create(`{"F0000009":"again"}`))
			wantCalls(t, "create with the reloaded form", env, calls, "CreateRecords")

			// The same for an update.
			if _, err := mem.UpdateForm(tenant, sdk.Form{ID: "form-demo", Key: demoForm, Name: "演示 2", AppID: "app1", Fields: fields}); err != nil {
				t.Fatal(err)
			}
			env, calls = invokeAs(t, c, mem, svc, `{"ActionName":"UpdateBizObject","SchemaCode":"D000024demo","BizObjectId":"r1","BizObject":`+
				q(`{"F0000006":"低"}`)+`}`)
			wantCalls(t, "update after a form change", env, calls, "UpdateRecord", "GetForm", "UpdateRecord")

			// A value only the newer form accepts (a number field became
			// text) does not convert with the cached form: reload, write.
			fields = slices.Clone(fields) // the stored form shares the old array
			fields[1].Type = "input"
			if _, err := mem.UpdateForm(tenant, sdk.Form{ID: "form-demo", Key: demoForm, Name: "演示 3", AppID: "app1", Fields: fields}); err != nil {
				t.Fatal(err)
			}
			env, calls = invokeAs(t, c, mem, svc, create(`{"F0000002":"five"}`))
			wantCalls(t, "create with an option the cached form lacks", env, calls, "GetForm", "CreateRecords")

			// Another tenant with a form of the same key: never served
			// from this tenant's cache.
			other := sdk.Principal{Tenant: otherTenant, UserID: "u-other", ClientID: "eng-other", Scopes: []string{"api.readwrite"}}
			env, calls = invokeAs(t, c, mem, other, create(`{"F0000001":"other"}`))
			wantCalls(t, "other tenant's first create", env, calls, "GetForm", "CreateRecords")
			id, _ = env["ReturnData"].(map[string]any)["BizObjectId"].(string)
			if rec, err = mem.GetRecord(context.Background(), &other, demoForm, id); err != nil || rec["formId"] != "form-other" {
				t.Fatalf("other tenant's record %v (%v): want form-other", rec, err)
			}
		})
	}
}

// TestWarmFormCacheBadValueStaysAnError: a value no version of the form
// accepts costs one reload and is the same error as on a cold cache.
func TestWarmFormCacheBadValueStaysAnError(t *testing.T) {
	c := configured(t)
	mem := newHost()
	svc := service
	svc.ClientID = engineCode
	_, calls := invokeAs(t, c, mem, svc, `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo"}`)
	if got := methods(calls); !slices.Equal(got, []string{"GetForm", "FindRecords"}) {
		t.Fatalf("load calls %v", got)
	}
	env, calls := invokeAs(t, c, mem, svc, `{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","IsSubmit":true,"BizObject":`+q(`{"F0000002":"five"}`)+`}`)
	if env["Successful"] != false || env["ErrorMessage"] != `数据校验失败：F0000002: 值 "five" 不合法` {
		t.Fatalf("envelope %v", env)
	}
	if got := methods(calls); !slices.Equal(got, []string{"GetForm"}) {
		t.Fatalf("calls %v, want one reload and no write", got)
	}
}

// TestWarmFormCacheReads: LoadBizObjects is one Host call once the form is
// cached (FindRecords brings the current form with the page); a form
// changed since is noticed by its version, dropped and the list runs as
// on a cold cache, rendered with the new form; a filter the cached form
// cannot compile (a field added since) reloads the form; a bad filter is
// the cold path's error — in process and through a real plugin process.
func TestWarmFormCacheReads(t *testing.T) {
	for _, mode := range []string{"inproc", "plugin"} {
		t.Run(mode, func(t *testing.T) {
			var c sdk.Connector = configured(t)
			if mode == "plugin" {
				c = startPlugin(t, goldenConfig)
			}
			mem := newHost()
			svc := service
			svc.ClientID = engineCode
			rec, err := mem.CreateRecord(context.Background(), &svc, demoForm, map[string]any{"F0000006": "hi"})
			if err != nil {
				t.Fatal(err)
			}
			list := func(matcher string) string {
				return `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":` +
					q(`{"FromRowNum":0,"ToRowNum":10,"Matcher":`+matcher+`}`) + `}`
			}
			label := func(env map[string]any) any {
				for _, r := range env["ReturnData"].(map[string]any)["BizObjectArray"].([]any) {
					if row := r.(map[string]any); row["ObjectId"] == rec["id"] {
						return row["F0000006"]
					}
				}
				t.Fatalf("%v not listed: %v", rec["id"], env)
				return nil
			}
			all := `{"Type":"And","Matchers":[]}`

			env, calls := invokeAs(t, c, mem, svc, list(all))
			wantCalls(t, "cold list", env, calls, "GetForm", "FindRecords")
			env, calls = invokeAs(t, c, mem, svc, list(all))
			wantCalls(t, "warm list", env, calls, "FindRecords")
			var args struct{ WithForm bool }
			if err := json.Unmarshal(calls[0].Args, &args); err != nil || !args.WithForm || label(env) != "高" {
				t.Fatalf("warm list: args %s (%v), F0000006 %v", calls[0].Args, err, label(env))
			}

			fields := demoFields()
			fields[4].Props.Options = []sdk.Option{{Value: "hi", Label: "很高"}, {Value: "lo", Label: "低"}}
			if _, err := mem.UpdateForm(tenant, sdk.Form{ID: "form-demo", Key: demoForm, Name: "演示", AppID: "app1", Fields: fields}); err != nil {
				t.Fatal(err)
			}
			env, calls = invokeAs(t, c, mem, svc, list(all))
			wantCalls(t, "list after a form change", env, calls, "FindRecords", "GetForm", "FindRecords")
			if got := label(env); got != "很高" {
				t.Fatalf("F0000006 = %v, want the new form's label", got)
			}
			env, calls = invokeAs(t, c, mem, svc, list(all))
			wantCalls(t, "list with the reloaded form", env, calls, "FindRecords")

			fields = append(slices.Clone(fields), sdk.Field{Field: "F0000009", Type: "input", Title: "新"})
			if _, err := mem.UpdateForm(tenant, sdk.Form{ID: "form-demo", Key: demoForm, Name: "演示", AppID: "app1", Fields: fields}); err != nil {
				t.Fatal(err)
			}
			env, calls = invokeAs(t, c, mem, svc, list(`{"Type":"Item","Name":"F0000009","Operator":2,"Value":"x"}`))
			wantCalls(t, "filter on a field added since", env, calls, "GetForm", "FindRecords")

			cold, _ := invokeAs(t, configured(t), mem, svc, `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":"{"}`)
			env, calls = invokeAs(t, c, mem, svc, `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":"{"}`)
			if env["Successful"] != false || env["ErrorMessage"] != cold["ErrorMessage"] || !slices.Equal(methods(calls), []string{"GetForm"}) {
				t.Fatalf("bad filter, warm: %v %v; cold: %v", env, methods(calls), cold)
			}
		})
	}
}
