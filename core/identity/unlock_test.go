package identity

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"github.com/eimshub/eimshub/adapters/memory"
	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/identity/identitytest"
)

// newSQLiteFixture is a fixture on the real embedded store (Unlock reads
// the login audit with range filters and a sort).
func newSQLiteFixture(t *testing.T, tweak func(*Config)) *fixture {
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
	c := memory.NewCache()
	t.Cleanup(func() { _ = c.Close() })
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Issuer: "https://auth.test", SigningKey: key, KeyID: "k1"}
	tweak(&cfg)
	svc, err := New(cfg, st, c, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc}
}

// TestUnlock: an operator's unlock clears the per-(user, IP) locks of every
// address that failed and the user-wide lock; other tenants' and other
// users' locks stay; a login naming nobody is unlocked by its string.
func TestUnlock(t *testing.T) {
	f := newSQLiteFixture(t, func(c *Config) { c.MaxFailedLogins = 3; c.MaxFailedLoginsPerUser = 6 })
	bad := []string{"grant_type=password", "username=admin", "password=wrong", "client_id=web"}
	good := []string{"grant_type=password", "username=admin", "password=123456", "client_id=web"}
	for _, ip := range []string{"203.0.113.1", "203.0.113.2"} {
		for range 3 {
			_, err := f.tokenFrom(t, ip, bad...)
			wantOAuth(t, err, ErrInvalidGrant, 400)
		}
	}
	// Both addresses and (6 failures) the user everywhere are locked.
	for _, ip := range []string{"203.0.113.1", "203.0.113.2", "192.0.2.9"} {
		_, err := f.tokenFrom(t, ip, good...)
		if oe := wantOAuth(t, err, ErrInvalidGrant, 400); oe.Description != DescLocked {
			t.Fatalf("%s not locked: %q", ip, oe.Description)
		}
	}
	nobody := []string{"grant_type=password", "username=nobody", "password=wrong", "client_id=web"}
	for range 3 {
		_, err := f.tokenFrom(t, "203.0.113.1", nobody...)
		wantOAuth(t, err, ErrInvalidGrant, 400)
	}

	res, err := f.svc.Unlock(context.Background(), "t1", "admin")
	if err != nil {
		t.Fatal(err)
	}
	if res.UserID == "" || !slices.Equal(res.Addresses, []string{"192.0.2.9", "203.0.113.1", "203.0.113.2"}) {
		t.Fatalf("Unlock = %+v", res)
	}
	for _, ip := range []string{"203.0.113.1", "203.0.113.2", "192.0.2.9"} {
		if _, err := f.tokenFrom(t, ip, good...); err != nil {
			t.Fatalf("%s still locked after unlock: %v", ip, err)
		}
	}
	// The unknown login's lock is its own: still there, then cleared by name.
	_, err = f.tokenFrom(t, "203.0.113.1", nobody...)
	if oe := wantOAuth(t, err, ErrInvalidGrant, 400); oe.Description != DescLocked {
		t.Fatalf("unknown login not locked: %q", oe.Description)
	}
	if res, err := f.svc.Unlock(context.Background(), "t1", "nobody"); err != nil || res.UserID != "" || len(res.Addresses) != 1 {
		t.Fatalf("Unlock(nobody) = %+v, %v", res, err)
	}
	_, err = f.tokenFrom(t, "203.0.113.1", nobody...)
	if oe := wantOAuth(t, err, ErrInvalidGrant, 400); oe.Description != DescBadPassword {
		t.Fatalf("unknown login after unlock: %q", oe.Description)
	}
	if _, err := f.svc.Unlock(context.Background(), "", "admin"); err == nil {
		t.Fatal("Unlock without a tenant succeeded")
	}
}
