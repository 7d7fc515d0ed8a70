package dialecttoken_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ulule/limiter/v3/drivers/store/memory"

	memcache "github.com/eimshub/eimshub/adapters/memory"
	redisadapter "github.com/eimshub/eimshub/adapters/redis"
	"github.com/eimshub/eimshub/adapters/redis/redistest"
	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/cache"
	"github.com/eimshub/eimshub/core/dialecttoken"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/identity/identitytest"
	"github.com/eimshub/eimshub/core/limits"
	"github.com/eimshub/eimshub/core/store"
)

// The e-office spec's lifetimes, with a 1 s grace so the tests can wait it out.
var spec = dialecttoken.Spec{Namespace: "eoffice", Length: 128, AccessTTL: 3600, IdleTTL: 7200, RefreshTTL: 7200, Grace: 1}

var hex128 = regexp.MustCompile(`^[0-9a-f]{128}$`)

type env struct {
	ctx   context.Context
	st    store.Store
	ident *identity.Service
	svc   *dialecttoken.Service
	now   time.Time
	mu    sync.Mutex
}

func (e *env) clock() time.Time        { e.mu.Lock(); defer e.mu.Unlock(); return e.now }
func (e *env) advance(d time.Duration) { e.mu.Lock(); e.now = e.now.Add(d); e.mu.Unlock() }

// newEnv runs the service over the real identity service (embedded SQLite
// with the identity fixture) and c; the connector rate of svc-user on
// "eoffice" is 3 per second.
func newEnv(t *testing.T, c cache.Cache) *env {
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
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ident, err := identity.New(identity.Config{SigningKey: key, KeyID: "k"}, st, c, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	lim, err := limits.New(memory.NewStore(), limits.Config{DefaultRate: "1000-S", ClientRates: map[string]string{identitytest.ServiceClient + "@eoffice": "3-S"}}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{ctx: ctx, st: st, ident: ident, now: time.Now()}
	e.svc = dialecttoken.New(c, ident, lim)
	e.svc.SetClock(e.clock)
	return e
}

// caches are the two token stores the hub runs on.
func caches(t *testing.T) map[string]func() cache.Cache {
	return map[string]func() cache.Cache{
		"memory": func() cache.Cache { return memcache.NewCache() },
		"redis": func() cache.Cache {
			rs := redistest.Start(t)
			client, err := redisadapter.Open(context.Background(), rs.URL())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = client.Close() })
			return redisadapter.NewCache(client)
		},
	}
}

func reason(err error) string {
	if err == nil {
		return ""
	}
	return errs.As(err).Reason
}

func (e *env) issue(t *testing.T) *dialecttoken.Token {
	t.Helper()
	tok, err := e.svc.Issue(e.ctx, spec, identitytest.Tenant, identitytest.ServiceClient, identitytest.AdminID, map[string]string{"locale": "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestDialectTokens(t *testing.T) {
	for name, mk := range caches(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("issue and resolve", func(t *testing.T) {
				e := newEnv(t, mk())
				tok := e.issue(t)
				if !hex128.MatchString(tok.Token) || !hex128.MatchString(tok.RefreshToken) || tok.Token == tok.RefreshToken {
					t.Fatalf("token shapes %q %q", tok.Token, tok.RefreshToken)
				}
				got, err := e.svc.Resolve(e.ctx, spec, tok.Token, "")
				if err != nil {
					t.Fatal(err)
				}
				if got.Principal.UserID != identitytest.AdminID || got.Principal.Tenant != identitytest.Tenant || got.RefreshToken != tok.RefreshToken ||
					got.Attrs["locale"] != "zh-CN" || got.Service == nil || got.Service.ClientID != identitytest.ServiceClient {
					t.Fatalf("resolved %+v", got)
				}
				last := "0" // a one-character change of the token, whatever its last character
				if tok.Token[127] == '0' {
					last = "1"
				}
				for _, bad := range []string{"", tok.RefreshToken, tok.Token[:127] + last} {
					if _, err := e.svc.Resolve(e.ctx, spec, bad, ""); reason(err) != dialecttoken.ReasonUnknown {
						t.Errorf("Resolve(%q…): %v, want unknown", bad[:min(8, len(bad))], err)
					}
				}
				other := spec
				other.Namespace = "other"
				if _, err := e.svc.Resolve(e.ctx, other, tok.Token, ""); reason(err) != dialecttoken.ReasonUnknown {
					t.Errorf("another namespace resolved the token: %v", err)
				}
			})
			t.Run("expiry and idle lifetime", func(t *testing.T) {
				e := newEnv(t, mk())
				tok := e.issue(t)
				e.advance(3599 * time.Second)
				if _, err := e.svc.Resolve(e.ctx, spec, tok.Token, ""); err != nil {
					t.Fatalf("at 3599 s: %v", err)
				}
				e.advance(time.Second)
				if _, err := e.svc.Resolve(e.ctx, spec, tok.Token, ""); reason(err) != dialecttoken.ReasonExpired {
					t.Fatalf("at 3600 s: %v, want expired", err)
				}
				// An expired token can still be refreshed.
				if _, err := e.svc.Refresh(e.ctx, spec, tok.Token, tok.RefreshToken); err != nil {
					t.Fatalf("refresh of an expired token: %v", err)
				}
			})
			t.Run("refresh, grace and idempotency", func(t *testing.T) {
				e := newEnv(t, mk())
				tok := e.issue(t)
				n1, err := e.svc.Refresh(e.ctx, spec, tok.Token, tok.RefreshToken)
				if err != nil {
					t.Fatal(err)
				}
				if n1.Token == tok.Token || n1.RefreshToken != tok.RefreshToken || n1.Attrs["locale"] != "zh-CN" {
					t.Fatalf("refreshed %+v", n1)
				}
				n2, err := e.svc.Refresh(e.ctx, spec, tok.Token, tok.RefreshToken)
				if err != nil || n2.Token != n1.Token {
					t.Fatalf("repeat within the grace: %v %v, want the same token", n2, err)
				}
				if _, err := e.svc.Resolve(e.ctx, spec, tok.Token, ""); reason(err) != dialecttoken.ReasonReplaced {
					t.Fatalf("old token within the grace: %v, want replaced", err)
				}
				time.Sleep(1100 * time.Millisecond)
				if _, err := e.svc.Resolve(e.ctx, spec, tok.Token, ""); reason(err) != dialecttoken.ReasonUnknown {
					t.Fatalf("old token after the grace: %v, want unknown", err)
				}
				if _, err := e.svc.Refresh(e.ctx, spec, tok.Token, tok.RefreshToken); reason(err) != dialecttoken.ReasonRefreshDead {
					t.Fatalf("refresh after the grace: %v, want dead", err)
				}
				if _, err := e.svc.Resolve(e.ctx, spec, n1.Token, ""); err != nil {
					t.Fatalf("new token: %v", err)
				}
				// The refresh token's window slides from the last refresh.
				e.advance(7199 * time.Second)
				if _, err := e.svc.Refresh(e.ctx, spec, n1.Token, tok.RefreshToken); err != nil {
					t.Fatalf("refresh within 7200 s of the last one: %v", err)
				}
			})
			t.Run("concurrent refreshes agree", func(t *testing.T) {
				e := newEnv(t, mk())
				tok := e.issue(t)
				var wg sync.WaitGroup
				got := make([]string, 8)
				for i := range got {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if n, err := e.svc.Refresh(e.ctx, spec, tok.Token, tok.RefreshToken); err == nil {
							got[i] = n.Token
						}
					}()
				}
				wg.Wait()
				for _, g := range got {
					if g == "" || g != got[0] {
						t.Fatalf("concurrent refreshes returned %q", got)
					}
				}
			})
			t.Run("refresh token of another client", func(t *testing.T) {
				e := newEnv(t, mk())
				tok := e.issue(t)
				other, err := e.svc.Issue(e.ctx, spec, identitytest.Tenant, identitytest.SvcClient, identitytest.AdminID, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.svc.Refresh(e.ctx, spec, other.Token, tok.RefreshToken); reason(err) != dialecttoken.ReasonRefreshForeign {
					t.Fatalf("foreign refresh: %v", err)
				}
				if _, err := e.svc.Refresh(e.ctx, spec, tok.Token, ""); reason(err) != dialecttoken.ReasonRefreshDead {
					t.Fatalf("empty refresh token: %v", err)
				}
			})
			t.Run("inactive user, revoked client, changed secret", func(t *testing.T) {
				e := newEnv(t, mk())
				if _, err := e.svc.Issue(e.ctx, spec, identitytest.Tenant, identitytest.ServiceClient, identitytest.DisabledID, nil); errs.CodeOf(err) != errs.NotFound {
					t.Fatalf("issue for a disabled user: %v", err)
				}
				if _, err := e.svc.Issue(e.ctx, spec, "t-other", identitytest.ServiceClient, identitytest.AdminID, nil); errs.CodeOf(err) != errs.Unauthorized {
					t.Fatalf("issue in another tenant: %v", err)
				}
				edit := func(coll, tenant, id string, patch store.Doc) {
					d, err := e.st.Get(e.ctx, coll, tenant, id)
					if err != nil {
						t.Fatal(err)
					}
					for k, v := range patch {
						d[k] = v
					}
					if err := e.st.Update(e.ctx, coll, tenant, id, d, nil); err != nil {
						t.Fatal(err)
					}
					if err := e.ident.InvalidateDirectory(e.ctx, tenant); err != nil {
						t.Fatal(err)
					}
				}
				tok := e.issue(t)
				edit("user", identitytest.Tenant, identitytest.AdminID, store.Doc{"status": int64(1)})
				if _, err := e.svc.Resolve(e.ctx, spec, tok.Token, ""); reason(err) != dialecttoken.ReasonUserInactive {
					t.Fatalf("user left: %v", err)
				}
				if _, err := e.svc.Resolve(e.ctx, spec, tok.Token, ""); reason(err) != dialecttoken.ReasonUnknown {
					t.Fatalf("after the user left, the token is gone: %v", err)
				}
				edit("user", identitytest.Tenant, identitytest.AdminID, store.Doc{"status": int64(0)})
				tok = e.issue(t)
				edit("client", "", identitytest.ServiceClient, store.Doc{"secretHash": "$2a$04$zCIilEFXaFDGpGcV.3BGe.eA8IuYTfl8lmmADndLyjIW9rNQM//9b"})
				if _, err := e.svc.Resolve(e.ctx, spec, tok.Token, ""); reason(err) != dialecttoken.ReasonUnknown {
					t.Fatalf("secret changed: %v", err)
				}
				edit("client", "", identitytest.ServiceClient, store.Doc{"disabled": true})
				if _, err := e.svc.Issue(e.ctx, spec, identitytest.Tenant, identitytest.ServiceClient, identitytest.AdminID, nil); errs.CodeOf(err) != errs.Unauthorized {
					t.Fatalf("issue through a disabled client: %v", err)
				}
			})
			t.Run("revoke and touch", func(t *testing.T) {
				e := newEnv(t, mk())
				tok := e.issue(t)
				e.advance(3000 * time.Second)
				got, err := e.svc.Touch(e.ctx, spec, tok.Token, map[string]string{"locale": "en"}, false)
				if err != nil || got.Token != tok.Token || got.Attrs["locale"] != "en" {
					t.Fatalf("touch: %+v %v", got, err)
				}
				e.advance(600 * time.Second) // the expiry is not re-armed
				if _, err := e.svc.Resolve(e.ctx, spec, tok.Token, ""); reason(err) != dialecttoken.ReasonExpired {
					t.Fatalf("after touch + 600 s: %v", err)
				}
				renewed, err := e.svc.Touch(e.ctx, spec, tok.Token, nil, true)
				if err != nil || renewed.Token == tok.Token || renewed.RefreshToken == tok.RefreshToken {
					t.Fatalf("renew: %+v %v", renewed, err)
				}
				if err := e.svc.Revoke(e.ctx, spec, renewed.Token); err != nil {
					t.Fatal(err)
				}
				if _, err := e.svc.Resolve(e.ctx, spec, renewed.Token, ""); reason(err) != dialecttoken.ReasonUnknown {
					t.Fatalf("revoked: %v", err)
				}
				if _, err := e.svc.Refresh(e.ctx, spec, renewed.Token, renewed.RefreshToken); reason(err) != dialecttoken.ReasonRefreshDead {
					t.Fatalf("refresh of a revoked pair: %v", err)
				}
				if err := e.svc.Revoke(e.ctx, spec, "unknown"); err != nil {
					t.Fatalf("revoking an unknown token: %v", err)
				}
			})
			t.Run("rate limit per client and connector", func(t *testing.T) {
				e := newEnv(t, mk())
				tok := e.issue(t)
				var limited int
				for i := 0; i < 5; i++ {
					if _, err := e.svc.Resolve(e.ctx, spec, tok.Token, "eoffice"); errs.CodeOf(err) == errs.RateLimited {
						limited++
					} else if err != nil {
						t.Fatal(err)
					}
				}
				if limited != 2 {
					t.Fatalf("%d of 5 refused, want 2 (rate 3-S)", limited)
				}
				if _, err := e.svc.Resolve(e.ctx, spec, tok.Token, ""); err != nil {
					t.Fatalf("uncounted resolve: %v", err)
				}
			})
			t.Run("bad spec", func(t *testing.T) {
				e := newEnv(t, mk())
				bad := spec
				bad.Length = 33
				if _, err := e.svc.Issue(e.ctx, bad, identitytest.Tenant, identitytest.ServiceClient, identitytest.AdminID, nil); errs.CodeOf(err) != errs.Invalid {
					t.Fatalf("odd length: %v", err)
				}
			})
		})
	}
}

// TestNoTokenInClear: what the token store holds in Redis names no token
// in clear, neither in a key nor in a value.
func TestNoTokenInClear(t *testing.T) {
	rs := redistest.Start(t)
	client, err := redisadapter.Open(context.Background(), rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	e := newEnv(t, redisadapter.NewCache(client))
	tok := e.issue(t)
	n, err := e.svc.Refresh(e.ctx, spec, tok.Token, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := client.Keys(e.ctx, "dt:*").Result()
	if err != nil || len(keys) < 3 {
		t.Fatalf("keys %v %v", keys, err)
	}
	for _, k := range keys {
		v, err := client.Get(e.ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{tok.Token, tok.RefreshToken, n.Token} {
			if strings.Contains(k, secret) || strings.Contains(v, secret) {
				t.Errorf("%s holds a token in clear", k)
			}
		}
	}
}
