package host_test

import (
	"context"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/example/exampletest"
)

// A connector that caches forms sends the version it converted with:
// over the real core, a write expecting the form's current version
// succeeds; once the form is edited (through the native entity path) the
// same write is Conflict/form_changed and writes nothing; the reloaded
// form's version is accepted again. CreateRecords and UpdateRecord alike.
func TestBridgeFormVersion(t *testing.T) {
	rc := newRealCore(t)
	h, ctx := rc.host, context.Background()
	alice := exampletest.User
	if record.ReasonFormChanged != sdk.ReasonFormChanged {
		t.Fatalf("record core reason %q, Host API reason %q", record.ReasonFormChanged, sdk.ReasonFormChanged)
	}

	// The fixture's form was stored without updateTime (version 0, which
	// a connector must not cache); a write through the entity service
	// stamps one, as every form the hub writes has.
	if f, err := h.GetForm(ctx, &alice, "notes"); err != nil || f.Version != 0 {
		t.Fatalf("fixture form %+v, %v", f, err)
	}
	if _, err := h.EntityUpdate(ctx, &alice, "form", "f-notes", sdk.Doc{"name": "Notes"}, sdk.EntityOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := h.GetForm(ctx, &alice, "notes")
	if err != nil || f.Version == 0 {
		t.Fatalf("GetForm = %+v, %v: want a version", f, err)
	}
	v1 := f.Version
	out, err := h.CreateRecords(ctx, &alice, "notes", []map[string]any{{"text": "v1"}}, sdk.CreateOptions{FormVersion: v1})
	if err != nil {
		t.Fatalf("create at the current version: %v", err)
	}
	id, _ := out[0].Record["id"].(string)
	if _, err := h.UpdateRecord(ctx, &alice, "notes", id, map[string]any{"text": "v1b"}, sdk.IfFormVersion(v1)); err != nil {
		t.Fatalf("update at the current version: %v", err)
	}

	// An admin adds a field to the form.
	if _, err := h.EntityUpdate(ctx, &alice, "form", "f-notes", sdk.Doc{"content": map[string]any{"items": []any{
		map[string]any{"field": "text", "type": "textarea"}, map[string]any{"field": "extra", "type": "input"}}}}, sdk.EntityOptions{}); err != nil {
		t.Fatal(err)
	}
	before := countRecords(t, rc, "f-notes")
	_, err = h.CreateRecords(ctx, &alice, "notes", []map[string]any{{"text": "stale"}}, sdk.CreateOptions{FormVersion: v1})
	if e := errs.As(err); err == nil || e.Code != errs.Conflict || e.Reason != sdk.ReasonFormChanged || !sdk.IsFormChanged(err) {
		t.Fatalf("create with the old version: %v, want Conflict/%s", err, sdk.ReasonFormChanged)
	}
	if n := countRecords(t, rc, "f-notes"); n != before {
		t.Fatalf("a refused create wrote: %d records, had %d", n, before)
	}
	_, err = h.UpdateRecord(ctx, &alice, "notes", id, map[string]any{"text": "stale"}, sdk.IfFormVersion(v1))
	if !sdk.IsFormChanged(err) {
		t.Fatalf("update with the old version: %v, want Conflict/%s", err, sdk.ReasonFormChanged)
	}
	if rec, err := h.GetRecord(ctx, &alice, "notes", id); err != nil || rec["data"].(map[string]any)["text"] != "v1b" {
		t.Fatalf("a refused update wrote: %v, %v", rec, err)
	}

	f, err = h.GetForm(ctx, &alice, "notes")
	if err != nil || f.Version <= v1 || len(f.Fields) != 2 {
		t.Fatalf("reloaded form %+v, %v: want a later version with the new field", f, err)
	}
	if _, err := h.CreateRecords(ctx, &alice, "notes", []map[string]any{{"text": "v2", "extra": "x"}}, sdk.CreateOptions{FormVersion: f.Version}); err != nil {
		t.Fatalf("create at the new version: %v", err)
	}
	if _, err := h.UpdateRecord(ctx, &alice, "notes", id, map[string]any{"extra": "y"}, sdk.IfFormVersion(f.Version)); err != nil {
		t.Fatalf("update at the new version: %v", err)
	}
	// No version: no check, as before.
	if _, err := h.CreateRecords(ctx, &alice, "notes", []map[string]any{{"text": "unchecked"}}, sdk.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}
