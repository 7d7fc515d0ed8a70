package h3yun_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

// H3Yun aliases (issue 11 #6): a record, its owner and the owner's
// department bound to the GUIDs an old H3Yun system stored are shown by
// those GUIDs in LoadBizObject(s) without extra host calls, and the
// record's and the owner's aliases are accepted as BizObjectId / OwnerId.
func TestAliasesShownAndAccepted(t *testing.T) {
	ctx := context.Background()
	mem := newHost()
	c := configured(t)
	const (
		oldRec   = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
		oldOwner = "6c0a4b3e-2f1d-4e55-9a77-0b8c1d2e3f40"
		oldDept  = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
	)
	mem.AddAlias(tenant, "h3yun", "user", oldOwner, zhangSan)
	mem.AddAlias(tenant, "h3yun", "department", oldDept, deptSZ)
	invoke := func(body string) (map[string]any, []string) {
		t.Helper()
		rec := &sdktest.RecordingHost{Inner: mem}
		p, err := mem.VerifyClient(ctx, engineCode, secret)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Handle(ctx, &sdk.Request{Principal: p, Method: "POST", Path: "/OpenApi/Invoke", Route: "/OpenApi/Invoke",
			Body: []byte(body), Headers: http.Header{"Enginecode": {engineCode}}, RequestID: "alias"}, rec)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(resp.Body, &m); err != nil || m["Successful"] != true {
			t.Fatalf("%s → %s (%v)", body, resp.Body, err)
		}
		var calls []string
		for _, c := range rec.Calls() {
			calls = append(calls, c.Method)
		}
		return m["ReturnData"].(map[string]any), calls
	}

	// Created with the owner's alias: resolved after the Host refuses the
	// unknown owner (a create with a hub owner pays nothing extra).
	out, calls := invoke(`{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","IsSubmit":"true",` +
		`"BizObject":"{\"OwnerId\":\"` + oldOwner + `\",\"F0000001\":\"migrated\"}"}`)
	id := out["BizObjectId"].(string)
	if len(calls) != 4 || calls[2] != "Aliases" {
		t.Fatalf("create with an aliased owner: calls %v", calls)
	}
	mem.AddAlias(tenant, "h3yun", "formdata", oldRec, sdk.FromGUID(id))

	// Loaded by the record's alias: one Aliases call, then one read that
	// brings the aliases of record, owner and department.
	out, calls = invoke(`{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":"` + oldRec + `"}`)
	if len(calls) != 2 || calls[0] != "Aliases" || calls[1] != "FindRecords" {
		t.Fatalf("load by alias: calls %v", calls)
	}
	bo := out["BizObject"].(map[string]any)
	if bo["ObjectId"] != oldRec || bo["OwnerId"] != oldOwner || bo["CreatedBy"] != oldOwner || bo["OwnerDeptId"] != oldDept ||
		bo["F0000001"] != "migrated" {
		t.Fatalf("BizObject = %v", bo)
	}
	// By its computed GUID: no Aliases call, the same answer.
	out, calls = invoke(`{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":"` + id + `"}`)
	if len(calls) != 1 || out["BizObject"].(map[string]any)["ObjectId"] != oldRec {
		t.Fatalf("load by GUID: calls %v, %v", calls, out)
	}
	// A list shows the aliases too, in its one call.
	out, calls = invoke(`{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":"{\"FromRowNum\":0,\"ToRowNum\":10,\"RequireCount\":false,\"ReturnItems\":[],\"SortByCollection\":[],\"Matcher\":{\"Type\":\"And\",\"Matchers\":[]}}"}`)
	if len(calls) != 1 || calls[0] != "FindRecords" { // the loads above cached the form
		t.Fatalf("list: calls %v", calls)
	}
	found := false
	for _, r := range out["BizObjectArray"].([]any) {
		if r.(map[string]any)["ObjectId"] == oldRec {
			found = r.(map[string]any)["OwnerId"] == oldOwner
		}
	}
	if !found {
		t.Fatalf("list = %v", out)
	}
}
