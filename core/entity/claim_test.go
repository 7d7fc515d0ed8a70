package entity_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// A unique value let go (renamed) can be taken by another document: its
// claim moves (claim.go); a value still held cannot.
func TestClaimsFollowTheRules(t *testing.T) {
	f := newFixture(t)
	r, err := f.svc.Create(f.ctx, f.admin, "role", map[string]any{"code": "auditor", "name": "审计"})
	if err != nil {
		t.Fatal(err)
	}
	id := r["id"].(string)
	_, err = f.svc.Create(f.ctx, f.admin, "role", map[string]any{"code": "auditor", "name": "again"})
	if e := wantErr(t, err, errs.Conflict, ""); e.Target != "code" {
		t.Fatalf("target %q", e.Target)
	}
	if _, err := f.svc.Update(f.ctx, f.admin, "role", id, map[string]any{"code": "auditor2", "name": "审计"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Create(f.ctx, f.admin, "role", map[string]any{"code": "auditor", "name": "new holder"}); err != nil {
		t.Fatalf("a released code: %v", err)
	}
	// The same value in another tenant is another claim.
	if _, err := f.svc.Create(f.ctx, f.other, "role", map[string]any{"code": "auditor", "name": "t2"}); err != nil {
		t.Fatalf("another tenant: %v", err)
	}
}

// snapshotStore answers Get of claims NotFound, as a MongoDB transaction
// whose snapshot predates a concurrent transaction's claim does; the claim
// document exists all the same, so the write that follows collides.
type snapshotStore struct{ store.Store }

func (s snapshotStore) Get(ctx context.Context, coll, tenant, id string) (store.Doc, error) {
	if coll == "claim" {
		return nil, errs.NotFoundf("not in this snapshot")
	}
	return s.Store.Get(ctx, coll, tenant, id)
}

// Two writers that both read "free" cannot both commit: the second's claim
// collides and its whole write fails Conflict, nothing written.
func TestConcurrentClaimsCollide(t *testing.T) {
	ctx := context.Background()
	raw, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	admin := &principal.Principal{Tenant: "t1", UserID: "u_1", Roles: []string{"admin"}, Scopes: []string{"api.readwrite"}}
	first := entity.New(raw, entity.Options{})
	second := entity.New(snapshotStore{raw}, entity.Options{})
	if _, err := first.Create(ctx, admin, "role", map[string]any{"code": "ops", "name": "first"}); err != nil {
		t.Fatal(err)
	}
	// The first role's code is visible to the second writer's own read, so
	// make it look free there: delete it behind the service's back.
	roles, err := raw.Find(ctx, "role", "t1", query.Query{Limit: -1})
	if err != nil || len(roles) != 1 {
		t.Fatalf("roles %v, %v", roles, err)
	}
	if err := raw.Delete(ctx, "role", "t1", roles[0]["id"].(string)); err != nil {
		t.Fatal(err)
	}
	_, err = second.Create(ctx, admin, "role", map[string]any{"code": "ops", "name": "second"})
	if e := wantErr(t, err, errs.Conflict, ""); e.Target != "code" {
		t.Fatalf("target %q", e.Target)
	}
	if n, err := raw.Count(ctx, "role", "t1", nil); err != nil || n != 0 {
		t.Fatalf("%d roles written, %v", n, err)
	}
}
