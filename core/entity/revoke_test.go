package entity_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"testing"
	"time"

	redisadapter "github.com/eimshub/eimshub/adapters/redis"
	"github.com/eimshub/eimshub/adapters/redis/redistest"
	"github.com/eimshub/eimshub/core/cache"
	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/store"
)

// revokeEnv is two identity services ("instances") sharing one real
// redis-server and one store, and an entity service whose Revoker is
// instance a.
type revokeEnv struct {
	*fixture
	a, b *identity.Service
	rs   *redistest.Server
	ents *entity.Service
}

func newRevokeEnv(t *testing.T) *revokeEnv {
	t.Helper()
	f := newFixture(t)
	rs := redistest.Start(t)
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	inst := func(near bool) *identity.Service {
		client, err := redisadapter.Open(f.ctx, rs.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = client.Close() })
		var c cache.Cache = redisadapter.NewCache(client)
		if near {
			c = cache.NewNear(c, time.Second, identity.RevocationKeyPrefixes...)
		}
		s, err := identity.New(identity.Config{SigningKey: key, KeyID: "k"}, f.st, c, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if err := f.st.Insert(f.ctx, "client", store.Doc{"id": "web", "corpId": "", "tenantId": "t1", "public": true,
		"grants": []any{"password", "refresh_token"}, "scopes": []any{"api.readwrite"}}); err != nil {
		t.Fatal(err)
	}
	e := &revokeEnv{fixture: f, a: inst(true), b: inst(false), rs: rs}
	e.ents = entity.New(f.st, entity.Options{Revoker: e.a,
		HashPassword: func(pw string) (string, error) { return "hashed:" + pw, nil }})
	return e
}

// token issues an access and a refresh token for user id and checks that
// both instances accept the access token.
func (e *revokeEnv) token(t *testing.T, id string) *identity.TokenResponse {
	t.Helper()
	r, err := e.a.IssueFor(e.ctx, "web", "t1", id, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*identity.Service{e.a, e.b} {
		if _, err := s.Authenticate(e.ctx, r.AccessToken); err != nil {
			t.Fatalf("fresh token refused: %v", err)
		}
	}
	return r
}

// wantRevoked checks that both instances refuse the access token and that
// its refresh family is dead.
func (e *revokeEnv) wantRevoked(t *testing.T, what string, r *identity.TokenResponse) {
	t.Helper()
	for name, s := range map[string]*identity.Service{"a": e.a, "b": e.b} {
		if _, err := s.Authenticate(e.ctx, r.AccessToken); errs.CodeOf(err) != errs.Unauthorized {
			t.Fatalf("%s: instance %s still accepts the old access token (err %v)", what, name, err)
		}
	}
	if _, err := e.b.RefreshFor(e.ctx, "web", r.RefreshToken); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("%s: the old refresh token still works (err %v)", what, err)
	}
}

// Issue 10 #2: every change of what a user may do ends the user's access
// tokens and refresh families on every instance.
func TestUserAndRoleChangesRevokeTokens(t *testing.T) {
	e := newRevokeEnv(t)
	admin := e.admin
	mk := func(name string, roles []any) string {
		u := e.create(admin, "user", map[string]any{"userName": name, "password": "pw", "roles": roles})
		return u["id"].(string)
	}
	mgr := []any{map[string]any{"roleId": "r_mgr"}}
	cases := []struct {
		name   string
		change func(t *testing.T, id string) error
	}{
		{"role removed from the user", func(t *testing.T, id string) error {
			_, err := e.ents.Update(e.ctx, admin, "user", id, map[string]any{"roles": []any{}}, "")
			return err
		}},
		{"user disabled", func(t *testing.T, id string) error {
			_, err := e.ents.Update(e.ctx, admin, "user", id, map[string]any{"status": "disabled"}, "")
			return err
		}},
		{"password changed", func(t *testing.T, id string) error {
			_, err := e.ents.Update(e.ctx, admin, "user", id, map[string]any{"password": "new-pw"}, "")
			return err
		}},
		{"user deleted", func(t *testing.T, id string) error {
			return e.ents.Delete(e.ctx, admin, "user", id, "")
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := mk("victim"+string(rune('a'+i)), mgr)
			r := e.token(t, id)
			if err := c.change(t, id); err != nil {
				t.Fatal(err)
			}
			e.wantRevoked(t, c.name, r)
		})
	}

	t.Run("unrelated change keeps tokens", func(t *testing.T) {
		id := mk("keeper", mgr)
		r := e.token(t, id)
		if _, err := e.ents.Update(e.ctx, admin, "user", id, map[string]any{"empName": "K"}, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.b.Authenticate(e.ctx, r.AccessToken); err != nil {
			t.Fatalf("a display-name change must not end tokens: %v", err)
		}
	})

	t.Run("role code changed or role deleted", func(t *testing.T) {
		role := e.create(admin, "role", map[string]any{"name": "Auditor", "code": "auditor"})
		rid := role["id"].(string)
		holder := mk("holder", []any{map[string]any{"roleId": rid}, map[string]any{"roleId": "r_mgr"}})
		other := mk("bystander", mgr)
		r1, r2 := e.token(t, holder), e.token(t, other)
		if _, err := e.ents.Update(e.ctx, admin, "role", rid, map[string]any{"code": "auditor2"}, ""); err != nil {
			t.Fatal(err)
		}
		e.wantRevoked(t, "role code changed", r1)
		if _, err := e.b.Authenticate(e.ctx, r2.AccessToken); err != nil {
			t.Fatalf("a user without the role keeps his tokens: %v", err)
		}
		u := must[map[string]any](t)(e.ents.Get(e.ctx, admin, "user", holder, "", ""))
		if rs := u["roles"].([]any); len(rs) != 2 || rs[0].(map[string]any)["roleCode"] != "auditor2" {
			t.Fatalf("holder's roles after the code change: %v", u["roles"])
		}
		time.Sleep(1100 * time.Millisecond) // a new token must be minted after the revocation mark's second
		r3 := e.token(t, holder)
		if err := e.ents.Delete(e.ctx, admin, "role", rid, ""); err != nil {
			t.Fatal(err)
		}
		e.wantRevoked(t, "role deleted", r3)
		u = must[map[string]any](t)(e.ents.Get(e.ctx, admin, "user", holder, "", ""))
		if rs := u["roles"].([]any); len(rs) != 1 || rs[0].(map[string]any)["roleId"] != "r_mgr" {
			t.Fatalf("the deleted role must leave its users: %v", u["roles"])
		}
	})

	t.Run("cache down: the demotion does not commit", func(t *testing.T) {
		id := mk("survivor", mgr)
		e.rs.Kill()
		_, err := e.ents.Update(e.ctx, admin, "user", id, map[string]any{"status": "disabled"}, "")
		if errs.CodeOf(err) != errs.Unavailable {
			t.Fatalf("demotion with the cache down: %v", err)
		}
		d, err := e.st.Get(e.ctx, "user", "t1", id)
		if err != nil || d["status"] != int64(0) {
			t.Fatalf("the user changed although its tokens could not be revoked: %v %v", d, err)
		}
	})
}
