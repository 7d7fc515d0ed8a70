package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestH3YunReadsStayFreshThroughTheHub: the H3Yun plugin process reuses a
// LoadBizObject(s) answer while the store's version is unchanged
// (connectors/h3yun/readcache.go); through the real hub and SQLite, every
// kind of write in between — a native update, an H3Yun create, a native
// delete — shows in the next identical read.
func TestH3YunReadsStayFreshThroughTheHub(t *testing.T) {
	t.Parallel()
	h := startHub(t, t.TempDir(), nil)
	admin, _ := h.login("demo-client", "demo-secret", "admin", "admin-pass")
	n := h.jsonReq("POST", "/api/v1/contract", admin, map[string]any{"title": "reuse-one", "amount": 1})
	mustStatus(t, "native create", n, 200)
	id := n.json(t)["id"].(string)
	filter, _ := json.Marshal(map[string]any{"FromRowNum": 0, "ToRowNum": 50, "RequireCount": true,
		"Matcher": map[string]any{"Type": "Item", "Name": "title", "Operator": 8, "Value": "reuse-"}})
	list, _ := json.Marshal(map[string]any{"ActionName": "LoadBizObjects", "SchemaCode": "contract", "Filter": string(filter)})
	one := `{"ActionName":"LoadBizObject","SchemaCode":"contract","BizObjectId":"` + id + `"}`
	read := func(body string) string {
		t.Helper()
		_, m := h.h3yunInvoke(t, "demo-engine-secret", body)
		if m["Successful"] != true {
			t.Fatalf("%s: %v", body, m)
		}
		return toJSON(m["ReturnData"])
	}
	l1, o1 := read(string(list)), read(one)
	if l2, o2 := read(string(list)), read(one); l2 != l1 || o2 != o1 {
		t.Fatalf("identical reads with no write differ:\n%s\n%s", l1, l2)
	}
	if !strings.Contains(l1, `"TotalCount":1`) || !strings.Contains(o1, `"title":"reuse-one"`) {
		t.Fatalf("first reads: %s / %s", l1, o1)
	}

	mustStatus(t, "native update", h.jsonReq("PUT", "/api/v1/contract/"+id, admin, map[string]any{"title": "reuse-changed"}), 200)
	if o := read(one); !strings.Contains(o, `"title":"reuse-changed"`) {
		t.Fatalf("LoadBizObject after a native update: %s", o)
	}
	if l := read(string(list)); !strings.Contains(l, `"title":"reuse-changed"`) || !strings.Contains(l, `"TotalCount":1`) {
		t.Fatalf("LoadBizObjects after a native update: %s", l)
	}

	b, _ := json.Marshal(map[string]any{"ActionName": "CreateBizObject", "SchemaCode": "contract", "IsSubmit": "true",
		"BizObject": `{"title":"reuse-two","amount":2}`})
	if _, m := h.h3yunInvoke(t, "demo-engine-secret", string(b)); m["Successful"] != true {
		t.Fatalf("create: %v", m)
	}
	if l := read(string(list)); !strings.Contains(l, `"TotalCount":2`) || !strings.Contains(l, `"title":"reuse-two"`) {
		t.Fatalf("LoadBizObjects after an H3Yun create: %s", l)
	}

	mustStatus(t, "native delete", h.jsonReq("DELETE", "/api/v1/contract/"+id, admin, nil), 204)
	_, m := h.h3yunInvoke(t, "demo-engine-secret", one)
	if m["Successful"] != false {
		t.Fatalf("LoadBizObject of a deleted record: %v", m)
	}
	if l := read(string(list)); !strings.Contains(l, `"TotalCount":1`) || strings.Contains(l, `reuse-changed`) {
		t.Fatalf("LoadBizObjects after a native delete: %s", l)
	}
}
