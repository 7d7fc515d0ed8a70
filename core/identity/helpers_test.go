package identity

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eimshub/eimshub/adapters/memory"
	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/identity/identitytest"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	svc   *Service
	st    *sqlite.Store
	cache *memory.Cache
	clock *clock
	// sms captures every message (codes included) and forwards it to the
	// outbox, like the default sender.
	sms *CaptureSender
}

func newFixture(t testing.TB, tweak ...func(*Config)) *fixture {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	st := newStore(t)
	if err := identitytest.Seed(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	c := memory.NewCache()
	t.Cleanup(func() { _ = c.Close() })
	clk := &clock{t: time.Now()}
	cfg := Config{Issuer: "https://auth.test", SigningKey: key, KeyID: "k1", Now: clk.Now, DefaultTenant: identitytest.Tenant}
	for _, f := range tweak {
		f(&cfg)
	}
	sms := &CaptureSender{Next: &OutboxSender{Store: st, Now: clk.Now}}
	svc, err := New(cfg, st, c, sms, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, st: st, cache: c, clock: clk, sms: sms}
}

// newStore opens an empty embedded store (the hub's default, adapters/sqlite)
// in a temporary directory, closed when the test ends.
func newStore(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// all returns every document of coll in tenant, in id order.
func all(t *testing.T, st store.Store, coll, tenant string) []store.Doc {
	t.Helper()
	docs, err := st.Find(context.Background(), coll, tenant, query.Query{Limit: -1})
	if err != nil {
		t.Fatalf("find %s: %v", coll, err)
	}
	return docs
}

// token posts a token request with the given form pairs ("k=v").
func (f *fixture) token(t *testing.T, pairs ...string) (*TokenResponse, error) {
	t.Helper()
	return f.svc.Token(context.Background(), TokenRequest{Form: formOf(t, pairs...), IP: "127.0.0.1"})
}

func formOf(t *testing.T, pairs ...string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, p := range pairs {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			t.Fatalf("bad pair %q", p)
		}
		v.Add(k, val)
	}
	return v
}

func (f *fixture) mustToken(t *testing.T, pairs ...string) *TokenResponse {
	t.Helper()
	r, err := f.token(t, pairs...)
	if err != nil {
		t.Fatalf("Token(%v): %v", pairs, err)
	}
	return r
}

func (f *fixture) login(t *testing.T) *TokenResponse {
	t.Helper()
	return f.mustToken(t, "grant_type=password", "username=admin", "password=123456", "client_id=web", "scope=api.readwrite")
}

func wantOAuth(t *testing.T, err error, code string, status int) *OAuthError {
	t.Helper()
	var oe *OAuthError
	if !errors.As(err, &oe) {
		t.Fatalf("err = %v (%T), want *OAuthError %s", err, err, code)
	}
	if oe.Code != code || oe.Status != status {
		t.Fatalf("OAuthError = %s/%d (%q), want %s/%d", oe.Code, oe.Status, oe.Description, code, status)
	}
	return oe
}

// jwtParts decodes a JWT's header and payload without verifying it.
func jwtParts(t *testing.T, tok string) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// lastCode returns the code of the newest SMS to phone, read from the
// capturing sender (as the phone would), never from the outbox.
func (f *fixture) lastCode(t *testing.T, phone string) string {
	t.Helper()
	c := f.sms.LastCode(phone)
	if !sixDigits.MatchString(c) {
		t.Fatalf("no 6-digit code sent to %s (got %q)", phone, c)
	}
	return c
}

func (f *fixture) outboxCount(t *testing.T, phone string) int {
	t.Helper()
	n := 0
	for _, d := range all(t, f.st, "outbox", identitytest.Tenant) {
		if d["to"] == phone {
			n++
		}
	}
	return n
}
