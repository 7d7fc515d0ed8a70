package entity_test

import (
	"slices"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/store"
)

// Issue 11 #2: identity serves clients' service users (name, code, roles)
// from its directory cache; every user and role write through the entity
// service invalidates it on every instance sharing the cache (b reads the
// generation straight from Redis here, so at once).
func TestUserAndRoleWritesInvalidateCachedPrincipals(t *testing.T) {
	e := newRevokeEnv(t)
	admin := e.admin
	role := e.create(admin, "role", map[string]any{"name": "Auditor", "code": "auditor"})
	rid := role["id"].(string)
	u := e.create(admin, "user", map[string]any{"userName": "engine-user", "empName": "Engine",
		"roles": []any{map[string]any{"roleId": rid}}})
	uid := u["id"].(string)
	// A confidential client acting as that user; "sha256:" of "s" is its secret.
	if err := e.st.Insert(e.ctx, "client", store.Doc{"id": "engine", "corpId": "", "tenantId": "t1",
		"secretHash": "sha256:043a718774c572bd8a25adbeb1bfcd5c0256ae11cecf9f9c3f925d0e52beaf89",
		"grants":     []any{"client_credentials"}, "scopes": []any{"api.readwrite"}, "serviceUserId": uid}); err != nil {
		t.Fatal(err)
	}
	verify := func(t *testing.T) (*principal.Principal, error) {
		t.Helper()
		pa, errA := e.a.VerifyClient(e.ctx, "engine", "s")
		pb, errB := e.b.VerifyClient(e.ctx, "engine", "s")
		if (errA == nil) != (errB == nil) || errA == nil && (pa.DisplayName != pb.DisplayName || !slices.Equal(pa.Roles, pb.Roles)) {
			t.Fatalf("instances disagree: a %+v %v, b %+v %v", pa, errA, pb, errB)
		}
		return pb, errB
	}
	p, err := verify(t)
	if err != nil || p.DisplayName != "Engine" || !slices.Equal(p.Roles, []string{"auditor"}) {
		t.Fatalf("first verification: %+v %v", p, err)
	}

	if _, err := e.ents.Update(e.ctx, admin, "user", uid, map[string]any{"empName": "Renamed"}, ""); err != nil {
		t.Fatal(err)
	}
	if p, err = verify(t); err != nil || p.DisplayName != "Renamed" {
		t.Fatalf("after renaming the user: %+v %v", p, err)
	}

	if _, err := e.ents.Update(e.ctx, admin, "role", rid, map[string]any{"code": "auditor2"}, ""); err != nil {
		t.Fatal(err)
	}
	if p, err = verify(t); err != nil || !slices.Equal(p.Roles, []string{"auditor2"}) {
		t.Fatalf("after the role's code changed: %+v %v", p, err)
	}

	if _, err := e.ents.Update(e.ctx, admin, "user", uid, map[string]any{"status": "disabled"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err = verify(t); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("a client acting as a disabled user must be refused, got %v", err)
	}
}
