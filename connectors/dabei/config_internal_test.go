package dabei

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

func TestConfigure(t *testing.T) {
	for _, bad := range []string{`{"recordListShape":"map"}`, `{"stringData":["apps"]}`, `{"timeZone":"Mars/Olympus"}`, `{"nope":1}`, `[1]`} {
		if err := New().(*Connector).Configure([]byte(bad)); sdk.CodeOf(err) != sdk.Invalid {
			t.Errorf("%s: %v", bad, err)
		}
	}
	h := sdktest.NewMemHost()
	h.AddDirectory("department", "t1", sdk.Doc{"id": "dep-1", "name": "研发部"})
	p := &sdk.Principal{Tenant: "t1", UserID: "svc", ClientID: "c1", Scopes: []string{"api.readwrite"}, Roles: []string{"admin"}}
	call := func(c sdk.Connector, method, route, path, body string, params map[string]string) map[string]any {
		t.Helper()
		r := req(method, path, body, params)
		r.Route, r.Principal = route, p
		resp, err := c.Handle(context.Background(), r, h)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(resp.Body, &m); err != nil {
			t.Fatalf("%s", resp.Body)
		}
		return m
	}
	// Default: /orgs data is a JSON string; stringData [] makes it native.
	def := New()
	if _, isStr := call(def, "GET", "/orgs", "/orgs", "", nil)["data"].(string); !isStr {
		t.Error("default: /orgs data should be a string")
	}
	native := New().(*Connector)
	if err := native.Configure([]byte(`{"stringData":[],"revokeOnTransferPath":false}`)); err != nil {
		t.Fatal(err)
	}
	m := call(native, "GET", "/orgs", "/orgs", "", nil)
	if d, isArr := m["data"].([]any); !isArr || len(d) != 1 {
		t.Errorf("stringData []: %v", m)
	}
	// revokeOnTransferPath false: a transfer without transferIds is 10001.
	params := map[string]string{"app_id": "a0000000000000000000000000000001", "form_id": "f0000000000000000000000000000001",
		"record_id": "b0000000000000000000000000000001", "task_id": "c0000000000000000000000000000001"}
	route := "/apps/:app_id/forms/:form_id/records/:record_id/tasks/:task_id/transfer"
	m = call(native, "POST", route, "/x", `{"user_id":"e0000000000000000000000000000001"}`, params)
	if m["errcode"] != float64(CodeInvalid) {
		t.Errorf("revokeOnTransferPath false: %v", m)
	}
	// No principal (a route the hub did not verify): 40001.
	r := req("GET", "/apps", "", nil)
	r.Route = "/apps"
	resp, _ := def.Handle(context.Background(), r, h)
	if err := json.Unmarshal(resp.Body, &m); err != nil || m["errcode"] != float64(CodeBadCredentials) {
		t.Errorf("no principal: %s", resp.Body)
	}
}
