package h3yun_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/eimshub/eimshub/connectors/h3yun"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

// readAt invokes body as p with the request's StoreVersion set to version
// and returns the raw answer and the Host calls the connector made.
func readAt(t *testing.T, c sdk.Connector, host sdk.Host, p sdk.Principal, version, body string) (string, []string) {
	t.Helper()
	rh := &sdktest.RecordingHost{Inner: host}
	req := &sdk.Request{Method: http.MethodPost, Path: "/OpenApi/Invoke", Route: "/OpenApi/Invoke",
		Headers: http.Header{"Content-Type": {"application/json"}, "Enginecode": {p.ClientID}}, Body: []byte(body),
		PathParams: map[string]string{}, RequestID: "reuse", Principal: &p, StoreVersion: version}
	resp, err := sdk.SafeHandle(context.Background(), c, req, rh)
	if err != nil {
		return "error: " + err.Error(), methods(rh.Calls())
	}
	if !json.Valid(resp.Body) || resp.Headers.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("answer %d %v %s", resp.Status, resp.Headers, resp.Body)
	}
	return string(resp.Body), methods(rh.Calls())
}

// TestReadsReusedUnderTheSameStoreVersion: an identical LoadBizObject(s)
// request by the same caller under the same StoreVersion is answered from
// the kept answer with no Host call; another version, another caller,
// another body, an error, an empty version or a reconfiguration is not.
func TestReadsReusedUnderTheSameStoreVersion(t *testing.T) {
	c := configured(t)
	mem := newHost()
	svc := service
	svc.ClientID = engineCode
	created, _ := invokeAs(t, c, mem, svc, `{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","IsSubmit":true,"BizObject":`+q(`{"F0000001":"first"}`)+`}`)
	id := created["ReturnData"].(map[string]any)["BizObjectId"].(string)
	list := `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":` + q(`{"FromRowNum":0,"ToRowNum":10,"RequireCount":true,"Matcher":{"Type":"And","Matchers":[]}}`) + `}`
	one := `{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":"` + id + `"}`

	for i, body := range []string{list, one} {
		first, calls := readAt(t, c, mem, svc, "v1", body)
		if len(calls) == 0 {
			t.Fatalf("first read made no Host call")
		}
		again, calls := readAt(t, c, mem, svc, "v1", body)
		if again != first || len(calls) != 0 {
			t.Fatalf("same version: calls %v, answer changed %v", calls, again != first)
		}
		// A write moves the version (the host's store says so); the answer
		// is read again and shows the write.
		upd, _ := invokeAs(t, c, mem, svc, `{"ActionName":"UpdateBizObject","SchemaCode":"D000024demo","BizObjectId":"`+id+`","BizObject":`+q(`{"F0000001":"second `+string(rune('a'+i))+`"}`)+`}`)
		if upd["Successful"] != true {
			t.Fatalf("update: %v", upd)
		}
		after, calls := readAt(t, c, mem, svc, "v2", body)
		if len(calls) == 0 || after == first || !json.Valid([]byte(after)) {
			t.Fatalf("new version: calls %v, answer %s", calls, after)
		}
		if _, calls := readAt(t, c, mem, svc, "v1", body); len(calls) == 0 {
			t.Fatal("an answer kept at v2 was sent for v1")
		}
	}

	other := svc
	other.UserID, other.Roles = zhangSan, nil
	if _, calls := readAt(t, c, mem, svc, "v3", list); len(calls) == 0 {
		t.Fatal("first read at v3 made no call")
	}
	if _, calls := readAt(t, c, mem, other, "v3", list); len(calls) == 0 {
		t.Fatal("another caller got the admin's kept answer")
	}
	if _, calls := readAt(t, c, mem, svc, "v3", list+" "); len(calls) == 0 {
		t.Fatal("another body got a kept answer")
	}
	for range 2 {
		if _, calls := readAt(t, c, mem, svc, "", list); len(calls) == 0 {
			t.Fatal("an answer was kept without a StoreVersion")
		}
	}
	missing := `{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":"no-such-record"}`
	for range 2 {
		if _, calls := readAt(t, c, mem, svc, "v3", missing); len(calls) == 0 {
			t.Fatal("an error answer was kept")
		}
	}
	if err := c.(sdk.Configurer).Configure(goldenConfig); err != nil {
		t.Fatal(err)
	}
	if _, calls := readAt(t, c, mem, svc, "v3", list); len(calls) == 0 {
		t.Fatal("an answer survived a reconfiguration")
	}
	// Writes are never answered from the cache.
	write := `{"ActionName":"UpdateBizObject","SchemaCode":"D000024demo","BizObjectId":"` + id + `","BizObject":` + q(`{"F0000001":"third"}`) + `}`
	for range 2 {
		if _, calls := readAt(t, c, mem, svc, "v4", write); !slices.Contains(calls, "UpdateRecord") {
			t.Fatalf("write calls %v", calls)
		}
	}
}

// TestReadCacheOff: readCacheBytes < 0 keeps nothing.
func TestReadCacheOff(t *testing.T) {
	c := h3yun.New()
	if err := c.(sdk.Configurer).Configure([]byte(`{"readCacheBytes":-1}`)); err != nil {
		t.Fatal(err)
	}
	mem := newHost()
	svc := service
	svc.ClientID = engineCode
	body := `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo"}`
	for range 2 {
		if _, calls := readAt(t, c, mem, svc, "v1", body); len(calls) == 0 {
			t.Fatal("read answered without a Host call with the cache off")
		}
	}
}
