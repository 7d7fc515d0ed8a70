package identity_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	redisadapter "github.com/eimshub/eimshub/adapters/redis"
	"github.com/eimshub/eimshub/adapters/redis/redistest"
	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/cache"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/identity/identitytest"
	"github.com/eimshub/eimshub/core/store"
)

// sharedEnv is two hub instances: two identity services with their own
// near caches (as the wiring builds them) over one real redis-server and
// one embedded store.
type sharedEnv struct {
	ctx  context.Context
	st   store.Store
	a, b *identity.Service
}

func newSharedEnv(t *testing.T) *sharedEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := identitytest.Seed(ctx, st); err != nil {
		t.Fatal(err)
	}
	rs := redistest.Start(t)
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	inst := func() *identity.Service {
		client, err := redisadapter.Open(ctx, rs.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = client.Close() })
		c := cache.NewNear(redisadapter.NewCache(client), time.Second, identity.NearKeyPrefixes...)
		s, err := identity.New(identity.Config{SigningKey: key, KeyID: "k"}, st, c, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return &sharedEnv{ctx: ctx, st: st, a: inst(), b: inst()}
}

// afterNearTTL waits until every near-cache copy read before now is stale.
func afterNearTTL() { time.Sleep(cache.MaxNearTTL + 50*time.Millisecond) }

// Issue 11 #2: clients and users are served from memory; an edit made on
// instance A (store write + InvalidateDirectory, as the entity service and
// the seeder do) is seen by A at once and by B within a second.
func TestDirectoryCacheAcrossInstances(t *testing.T) {
	e := newSharedEnv(t)
	verify := func(s *identity.Service) (string, error) {
		p, err := s.VerifyClient(e.ctx, identitytest.ServiceClient, identitytest.SvcSecret)
		if err != nil {
			return "", err
		}
		return p.DisplayName, nil
	}
	for _, s := range []*identity.Service{e.a, e.b} {
		if name, err := verify(s); err != nil || name != identitytest.AdminName {
			t.Fatalf("first verification: %q %v", name, err)
		}
	}
	// The store changes behind the caches' back: both keep serving what
	// they read (the cache is real — this failed before it existed).
	u, err := e.st.Get(e.ctx, "user", identitytest.Tenant, identitytest.AdminID)
	if err != nil {
		t.Fatal(err)
	}
	u["empName"] = "Renamed"
	if err := e.st.Update(e.ctx, "user", identitytest.Tenant, identitytest.AdminID, u, nil); err != nil {
		t.Fatal(err)
	}
	if name, _ := verify(e.b); name != identitytest.AdminName {
		t.Fatalf("b read the store again (%q): no directory cache", name)
	}
	// A announces the write: A sees it at once, B within a second.
	if err := e.a.InvalidateDirectory(e.ctx, identitytest.Tenant); err != nil {
		t.Fatal(err)
	}
	if name, err := verify(e.a); err != nil || name != "Renamed" {
		t.Fatalf("a after its own invalidation: %q %v", name, err)
	}
	afterNearTTL()
	if name, err := verify(e.b); err != nil || name != "Renamed" {
		t.Fatalf("b a second after a's invalidation: %q %v", name, err)
	}

	// A client disabled on A is refused by B within a second.
	cl, err := e.st.Get(e.ctx, "client", "", identitytest.ServiceClient)
	if err != nil {
		t.Fatal(err)
	}
	cl["disabled"] = true
	if err := e.st.Update(e.ctx, "client", "", identitytest.ServiceClient, cl, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.a.InvalidateDirectory(e.ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := verify(e.a); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("a accepts the client it disabled: %v", err)
	}
	afterNearTTL()
	if _, err := verify(e.b); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("b accepts a client disabled a second ago: %v", err)
	}
}

// Issue 11 #2: a token whose signature B verified (and cached) is refused
// by B within a second of its revocation on A — per token and per user.
func TestCachedTokenRevokedAcrossInstances(t *testing.T) {
	e := newSharedEnv(t)
	issue := func() string {
		r, err := e.a.IssueFor(e.ctx, identitytest.SvcClient, identitytest.Tenant, identitytest.AdminID, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second call is served by the verified-token cache
			if _, err := e.b.Authenticate(e.ctx, r.AccessToken); err != nil {
				t.Fatalf("fresh token refused: %v", err)
			}
		}
		return r.AccessToken
	}
	refused := func(s *identity.Service, tok, what string) {
		t.Helper()
		if _, err := s.Authenticate(e.ctx, tok); errs.CodeOf(err) != errs.Unauthorized {
			t.Fatalf("%s: token still accepted (err %v)", what, err)
		}
	}
	tok := issue()
	if err := e.a.Revoke(e.ctx, tok); err != nil {
		t.Fatal(err)
	}
	refused(e.a, tok, "a after revoking the token")
	afterNearTTL()
	refused(e.b, tok, "b a second after a revoked the token")

	tok = issue()
	if err := e.a.RevokeUser(e.ctx, identitytest.Tenant, identitytest.AdminID); err != nil {
		t.Fatal(err)
	}
	refused(e.a, tok, "a after revoking the user")
	afterNearTTL()
	refused(e.b, tok, "b a second after a revoked the user")
}
