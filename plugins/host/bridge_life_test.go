package host_test

import (
	"context"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/example/exampletest"
)

// CreateRecords over the real core: drafts, start at the start node,
// start-and-submit, all-or-nothing, and the refusals.
func TestBridgeCreateRecords(t *testing.T) {
	rc := newRealCore(t)
	h, ctx := rc.host, context.Background()
	alice := exampletest.User

	// Draft on a form without workflow.
	out, err := h.CreateRecords(ctx, &alice, "notes", []map[string]any{{"text": "later"}}, sdk.CreateOptions{Draft: true})
	if err != nil || len(out) != 1 || out[0].Record["flowStatus"] != int64(1) || out[0].WorkflowInstanceID != "" {
		t.Fatalf("draft = %+v, %v", out, err)
	}
	// Plain create is effective.
	out, err = h.CreateRecords(ctx, &alice, "notes", []map[string]any{{"text": "now"}}, sdk.CreateOptions{})
	if err != nil || out[0].Record["flowStatus"] != int64(3) { // effective (D-12.1)
		t.Fatalf("plain = %+v, %v", out, err)
	}

	// Start and submit, one initiator per record: the start task is done by
	// the initiator and the boss node has the pending task.
	out, err = h.CreateRecords(ctx, &alice, "leave", []map[string]any{{"days": 2}, {"days": 5}},
		sdk.CreateOptions{StartWorkflow: true, Submit: true, Initiators: []string{"u2", ""}})
	if err != nil || len(out) != 2 {
		t.Fatalf("submit = %+v, %v", out, err)
	}
	for i, c := range out {
		if c.WorkflowInstanceID == "" || c.Record["flowStatus"] != int64(2) {
			t.Fatalf("submitted record %d = %+v", i, c)
		}
		id := c.Record["id"].(string)
		todos, err := rc.st.Find(ctx, "wftodo", exampletest.Tenant, query.Query{Filter: query.Cmp{Path: query.Path{"dataId"}, Op: query.Eq, Value: id}, Limit: -1})
		if err != nil || len(todos) != 1 || todos[0]["approveNodeId"] != "boss" || todos[0]["employeeId"] != "u1" {
			t.Fatalf("todos of %s = %v, %v", id, todos, err)
		}
		logs, err := rc.st.Find(ctx, "wfapprovallog", exampletest.Tenant, query.Query{Filter: query.Cmp{Path: query.Path{"dataId"}, Op: query.Eq, Value: id}, Limit: -1})
		want := []string{"u2", "u1"}[i]
		if err != nil || len(logs) != 1 || logs[0]["nodeId"] != "start" || logs[0]["approver"].(map[string]any)["id"] != want {
			t.Fatalf("logs of %s = %v, %v", id, logs, err)
		}
	}

	// Start without submit: the initiator holds the start task.
	out, err = h.CreateRecords(ctx, &alice, "leave", []map[string]any{{"days": 1}}, sdk.CreateOptions{StartWorkflow: true, Initiators: []string{"u2"}})
	if err != nil || out[0].Record["flowStatus"] != int64(2) {
		t.Fatalf("held = %+v, %v", out, err)
	}
	todos, err := rc.st.Find(ctx, "wftodo", exampletest.Tenant, query.Query{Filter: query.Cmp{Path: query.Path{"dataId"}, Op: query.Eq, Value: out[0].Record["id"]}, Limit: -1})
	if err != nil || len(todos) != 1 || todos[0]["approveNodeId"] != "start" || todos[0]["employeeId"] != "u2" {
		t.Fatalf("held todos = %v, %v", todos, err)
	}

	// Owners: records created as other users; a workflow's initiator
	// defaults to the owner.
	out, err = h.CreateRecords(ctx, &alice, "leave", []map[string]any{{"days": 3}, {"days": 4}},
		sdk.CreateOptions{StartWorkflow: true, Submit: true, Owners: []string{"u2", ""}})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"u2", "u1"} {
		rec := out[i].Record
		if rec["createBy"].(map[string]any)["id"] != want || rec["updateBy"].(map[string]any)["id"] != want {
			t.Errorf("record %d createBy = %v, want %s", i, rec["createBy"], want)
		}
		logs, err := rc.st.Find(ctx, "wfapprovallog", exampletest.Tenant, query.Query{Filter: query.Cmp{Path: query.Path{"dataId"}, Op: query.Eq, Value: rec["id"]}, Limit: -1})
		if err != nil || len(logs) != 1 || logs[0]["approver"].(map[string]any)["id"] != want {
			t.Errorf("record %d submitted by %v, want %s (%v)", i, logs, want, err)
		}
	}
	if u := out[0].Record["createBy"].(map[string]any); u["value"] != "bob" || u["label"] != "Bob" {
		t.Errorf("owner operator = %v", u)
	}
	_, err = h.CreateRecords(ctx, &alice, "notes", []map[string]any{{"text": "a"}, {"text": "b"}}, sdk.CreateOptions{Owners: []string{"u2", "ghost"}})
	if codeOf(t, err) != errs.Invalid || sdk.AsError(err).Target != "owners[1]" {
		t.Errorf("unknown owner: %v", err)
	}

	before := countRecords(t, rc, "f-leave")
	for _, tc := range []struct {
		name string
		form string
		data []map[string]any
		opts sdk.CreateOptions
		want errs.Code
	}{
		{"workflow on a form without one", "notes", []map[string]any{{"text": "x"}}, sdk.CreateOptions{StartWorkflow: true}, errs.Invalid},
		{"initiators of the wrong length", "leave", []map[string]any{{"days": 1}, {"days": 2}, {"days": 3}},
			sdk.CreateOptions{StartWorkflow: true, Initiators: []string{"u1", "u2"}}, errs.Invalid},
		{"unknown initiator rolls back", "leave", []map[string]any{{"days": 1}, {"days": 2}},
			sdk.CreateOptions{StartWorkflow: true, Initiators: []string{"u1", "nobody"}}, errs.Invalid},
		{"invalid data rolls back", "leave", []map[string]any{{"days": 1}, {"days": "many"}}, sdk.CreateOptions{StartWorkflow: true}, errs.Invalid},
	} {
		if _, err := h.CreateRecords(ctx, &alice, tc.form, tc.data, tc.opts); codeOf(t, err) != tc.want {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	if after := countRecords(t, rc, "f-leave"); after != before {
		t.Errorf("refused creates left records: %d → %d", before, after)
	}
	// bob (no admin role) may not start for somebody else.
	bob := sdk.Principal{Tenant: exampletest.Tenant, UserID: "u2", Scopes: []string{"api.readwrite"}}
	_, err = h.CreateRecords(ctx, &bob, "leave", []map[string]any{{"days": 1}}, sdk.CreateOptions{StartWorkflow: true, Initiators: []string{"u1"}})
	if codeOf(t, err) != errs.Forbidden {
		t.Errorf("bob starting as alice: %v", err)
	}
	_, err = h.CreateRecords(ctx, &bob, "notes", []map[string]any{{"text": "x"}}, sdk.CreateOptions{Owners: []string{"u1"}})
	if codeOf(t, err) != errs.Forbidden {
		t.Errorf("bob creating as alice: %v", err)
	}
	// Tenancy: the other tenant's principal does not see the form.
	mallory := sdk.Principal{Tenant: exampletest.OtherTenant, UserID: "u9", Scopes: []string{"api.readwrite"}}
	if _, err := h.CreateRecords(ctx, &mallory, "leave", []map[string]any{{"days": 1}}, sdk.CreateOptions{StartWorkflow: true}); codeOf(t, err) != errs.NotFound {
		t.Errorf("other tenant: %v", err)
	}
}

func countRecords(t *testing.T, rc *realCore, formID string) int64 {
	t.Helper()
	n, err := rc.st.Count(context.Background(), "formdata", exampletest.Tenant, query.Cmp{Path: query.Path{"formId"}, Op: query.Eq, Value: formID})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The file calls over the real files service: upload, read, tenancy,
// hostile names, delete.
func TestBridgeFiles(t *testing.T) {
	rc := newRealCore(t)
	h, ctx := rc.host, context.Background()
	alice := exampletest.User
	info, err := h.UploadFile(ctx, &alice, sdk.FileUpload{Name: "合同.txt", Folder: "h3yun/leave", Content: []byte("hello")})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := info["id"].(string)
	if id == "" || info["fileName"] != "合同.txt" || info["size"] != int64(5) || info["savePath"] != nil || info["thumbPath"] != nil ||
		!strings.HasPrefix(info["contentType"].(string), "text/plain") {
		t.Fatalf("info = %v", info)
	}
	f, err := h.ReadFile(ctx, &alice, id)
	if err != nil || string(f.Content) != "hello" || f.Info["id"] != id || f.Info["savePath"] != nil {
		t.Fatalf("read = %+v, %v", f, err)
	}
	mallory := sdk.Principal{Tenant: exampletest.OtherTenant, UserID: "u9", Scopes: []string{"api.readwrite"}}
	if _, err := h.ReadFile(ctx, &mallory, id); codeOf(t, err) != errs.NotFound {
		t.Errorf("other tenant read: %v", err)
	}
	if err := h.DeleteFile(ctx, &mallory, id); codeOf(t, err) != errs.NotFound {
		t.Errorf("other tenant delete: %v", err)
	}
	for _, name := range []string{"../x.txt", "/etc/passwd", "a\x00b", "", "CON"} {
		if _, err := h.UploadFile(ctx, &alice, sdk.FileUpload{Name: name, Content: []byte("x")}); codeOf(t, err) != errs.Invalid {
			t.Errorf("name %q: %v", name, err)
		}
	}
	if _, err := h.UploadFile(ctx, &alice, sdk.FileUpload{Name: "big.bin", Content: make([]byte, sdk.MaxFileSize+1)}); codeOf(t, err) != errs.TooLarge {
		t.Errorf("too large: %v", err)
	}
	reader := alice
	reader.Scopes = []string{"api.read"}
	if _, err := h.UploadFile(ctx, &reader, sdk.FileUpload{Name: "a.txt", Content: []byte("x")}); codeOf(t, err) != errs.Forbidden {
		t.Errorf("read-only scope upload: %v", err)
	}
	if err := h.DeleteFile(ctx, &alice, id); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ReadFile(ctx, &alice, id); codeOf(t, err) != errs.NotFound {
		t.Errorf("read after delete: %v", err)
	}
}
