package host_test

import (
	"context"
	"testing"

	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/example/exampletest"
)

// The record and file rules of core/access hold through the Host API
// bridge (what the H3Yun connector calls): a connector principal acting as
// a plain user cannot change or delete another user's record, nobody (an
// administrator included) changes a record in approval, and another user's
// private file cannot be read.
func TestBridgeRecordAccess(t *testing.T) {
	rc := newRealCore(t)
	h, ctx := rc.host, context.Background()
	alice := exampletest.User // admin; owner of the seeded records r1, r2
	bob := sdk.Principal{Tenant: exampletest.Tenant, UserID: "u2", UserCode: "bob", DisplayName: "Bob",
		ClientID: "app1", Scopes: []string{"api.readwrite"}}

	if _, err := h.UpdateRecord(ctx, &bob, "orders", "r1", map[string]any{"amount": 1}); !access.IsNotOwner(err) {
		t.Errorf("bob updates alice's record: %v", err)
	}
	if err := h.DeleteRecord(ctx, &bob, "orders", "r1"); !access.IsNotOwner(err) {
		t.Errorf("bob deletes alice's record: %v", err)
	}
	if r, err := h.GetRecord(ctx, &bob, "orders", "r1"); err != nil || r["data"].(map[string]any)["amount"] != int64(10) {
		t.Errorf("r1 after refused writes = %v, %v", r, err)
	}
	own, err := h.CreateRecord(ctx, &bob, "orders", map[string]any{"title": "bob's"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.UpdateRecord(ctx, &bob, "orders", own["id"].(string), map[string]any{"amount": 2}); err != nil {
		t.Errorf("bob updates his own record: %v", err)
	}

	// Created and submitted: in approval, locked for its owner and admins.
	created, err := h.CreateRecords(ctx, &alice, "leave", []map[string]any{{"days": 3}},
		sdk.CreateOptions{StartWorkflow: true, Submit: true})
	if err != nil {
		t.Fatal(err)
	}
	id := created[0].Record["id"].(string)
	if created[0].Record["flowStatus"] != int64(2) {
		t.Fatalf("flowStatus = %v", created[0].Record["flowStatus"])
	}
	if _, err := h.UpdateRecord(ctx, &alice, "leave", id, map[string]any{"days": 1}); !access.IsLocked(err) {
		t.Errorf("admin updates a record in approval: %v", err)
	}
	// Created without submitting: waiting at the start node, still editable.
	draft, err := h.CreateRecords(ctx, &alice, "leave", []map[string]any{{"days": 3}}, sdk.CreateOptions{StartWorkflow: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.UpdateRecord(ctx, &alice, "leave", draft[0].Record["id"].(string), map[string]any{"days": 4}); err != nil {
		t.Errorf("update at the start node: %v", err)
	}

	info, err := h.UploadFile(ctx, &alice, sdk.FileUpload{Name: "private.txt", Content: []byte("alice only")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.ReadFile(ctx, &bob, info["id"].(string)); codeOf(t, err) != errs.NotFound {
		t.Errorf("bob reads alice's private file: %v", err)
	}
}
