package limits_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/limits"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newLimits(t testing.TB, cfg limits.Config, opts ...limits.Option) *limits.Limits {
	t.Helper()
	l, err := limits.New(memory.NewStore(), cfg, quiet, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return l
}

// fire runs n checks of k and returns how many were allowed and the last decision.
func fire(t *testing.T, l *limits.Limits, k limits.Key, n int) (int, limits.Decision) {
	t.Helper()
	allowed := 0
	var d limits.Decision
	for range n {
		var err error
		d, err = l.Allow(context.Background(), k)
		if err != nil {
			t.Fatalf("Allow(%+v): %v", k, err)
		}
		if d.Allowed {
			allowed++
		}
	}
	return allowed, d
}

func TestExactlyNAllowedInWindow(t *testing.T) {
	l := newLimits(t, limits.Config{DefaultRate: "5-M"})
	k := limits.Key{Kind: limits.API, Tenant: "t1", Client: "c1"}
	for i := range 8 {
		d, err := l.Allow(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		wantAllowed := i < 5
		if d.Allowed != wantAllowed || d.Limit != 5 {
			t.Fatalf("request %d: %+v; want allowed=%v limit 5", i+1, d, wantAllowed)
		}
		if wantAllowed && d.Remaining != int64(4-i) {
			t.Fatalf("request %d: remaining %d, want %d", i+1, d.Remaining, 4-i)
		}
		if !wantAllowed {
			if d.Remaining != 0 || d.RetryAfter < time.Second || d.RetryAfter > time.Minute {
				t.Fatalf("request %d: %+v; want remaining 0 and 1s <= RetryAfter <= 1m", i+1, d)
			}
		}
		if d.Reset.Before(time.Now().Add(-time.Second)) || d.Reset.After(time.Now().Add(time.Minute+time.Second)) {
			t.Fatalf("request %d: reset %v not within the window", i+1, d.Reset)
		}
	}
	// Another client has its own budget.
	if n, _ := fire(t, l, limits.Key{Kind: limits.API, Tenant: "t1", Client: "c2"}, 8); n != 5 {
		t.Fatalf("second client: %d allowed, want 5", n)
	}
}

// rateMap is a RateSource over a map "client" / "client@connector" → rate,
// counting lookups.
type rateMap struct {
	m       map[string]string
	lookups atomic.Int64
}

func (r *rateMap) ClientRate(_ context.Context, client, connector string) (string, error) {
	r.lookups.Add(1)
	if connector != "" {
		client += "@" + connector
	}
	return r.m[client], nil
}

func TestRateResolution(t *testing.T) {
	src := &rateMap{m: map[string]string{"dyn": "3-M", "dyn@h3yun": "2-M", "static": "9-M"}}
	l := newLimits(t, limits.Config{
		DefaultRate: "7-M",
		TenantRates: map[string]string{"small": "4-M"},
		ClientRates: map[string]string{"static": "6-M", "static@dingtalk": "1-M"},
	}, limits.WithRateSource(src))
	tests := []struct {
		name string
		key  limits.Key
		want int64
	}{
		{"static client rate beats the source", limits.Key{Tenant: "t", Client: "static"}, 6},
		{"static connector override", limits.Key{Tenant: "t", Client: "static", Connector: "dingtalk"}, 1},
		{"connector without override uses the client rate", limits.Key{Tenant: "t", Client: "static", Connector: "h3yun"}, 6},
		{"rate from the source", limits.Key{Tenant: "t", Client: "dyn"}, 3},
		{"connector override from the source", limits.Key{Tenant: "t", Client: "dyn", Connector: "h3yun"}, 2},
		{"tenant default", limits.Key{Tenant: "small", Client: "plain"}, 4},
		{"global default", limits.Key{Tenant: "big", Client: "plain2"}, 7},
		{"tenant only", limits.Key{Tenant: "small"}, 4},
		{"token endpoint per client", limits.Key{Kind: limits.TokenClient, Client: "static"}, 600},
		{"token endpoint per IP", limits.Key{Kind: limits.TokenIP, IP: "10.0.0.1"}, 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := l.Allow(context.Background(), tt.key)
			if err != nil || d.Limit != tt.want || !d.Allowed {
				t.Fatalf("Allow = %+v, %v; want allowed with limit %d", d, err, tt.want)
			}
		})
	}
}

func TestConnectorOverrideHasOwnBudget(t *testing.T) {
	l := newLimits(t, limits.Config{DefaultRate: "3-M", ClientRates: map[string]string{"c@x": "2-M"}})
	base := limits.Key{Tenant: "t", Client: "c"}
	if n, _ := fire(t, l, base, 5); n != 3 {
		t.Fatalf("client budget: %d allowed, want 3", n)
	}
	over := base
	over.Connector = "x"
	if n, _ := fire(t, l, over, 5); n != 2 {
		t.Fatalf("connector budget: %d allowed, want 2", n)
	}
	// A connector without an override shares the client's (spent) budget.
	shared := base
	shared.Connector = "y"
	if n, _ := fire(t, l, shared, 2); n != 0 {
		t.Fatalf("connector without override: %d allowed, want 0 (client budget spent)", n)
	}
}

func TestTokenEndpointBudgetsAreSeparate(t *testing.T) {
	l := newLimits(t, limits.Config{TokenEndpointRate: "2-M", TokenEndpointIPRate: "3-M", DefaultRate: "1-M"})
	if n, _ := fire(t, l, limits.Key{Kind: limits.TokenClient, Client: "c"}, 5); n != 2 {
		t.Fatalf("per client: %d allowed, want 2", n)
	}
	if n, _ := fire(t, l, limits.Key{Kind: limits.TokenIP, IP: "192.0.2.1"}, 5); n != 3 {
		t.Fatalf("per IP: %d allowed, want 3", n)
	}
	// The API budget of the same client is untouched.
	if n, _ := fire(t, l, limits.Key{Kind: limits.API, Tenant: "t", Client: "c"}, 2); n != 1 {
		t.Fatalf("API: %d allowed, want 1", n)
	}
}

func TestRateSourceAnswersAreCached(t *testing.T) {
	src := &rateMap{m: map[string]string{"c": "100-M"}}
	l := newLimits(t, limits.Config{}, limits.WithRateSource(src))
	fire(t, l, limits.Key{Tenant: "t", Client: "c"}, 20)
	if got := src.lookups.Load(); got != 1 {
		t.Fatalf("RateSource lookups = %d, want 1 (cached)", got)
	}
}

func TestInvalidSourceRateFallsBack(t *testing.T) {
	src := &rateMap{m: map[string]string{"c": "lots"}}
	l := newLimits(t, limits.Config{DefaultRate: "2-M"}, limits.WithRateSource(src))
	if n, d := fire(t, l, limits.Key{Tenant: "t", Client: "c"}, 3); n != 2 || d.Limit != 2 {
		t.Fatalf("%d allowed (limit %d), want the default 2", n, d.Limit)
	}
}

func TestInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  limits.Config
	}{
		{"default", limits.Config{DefaultRate: "100/s"}},
		{"zero", limits.Config{DefaultRate: "0-S"}},
		{"token", limits.Config{TokenEndpointRate: "1-W"}},
		{"token ip", limits.Config{TokenEndpointIPRate: "x-S"}},
		{"tenant", limits.Config{TenantRates: map[string]string{"t": "5"}}},
		{"client", limits.Config{ClientRates: map[string]string{"c": "-5-S"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := limits.New(memory.NewStore(), tt.cfg, quiet)
			if errs.CodeOf(err) != errs.Invalid {
				t.Fatalf("New = %v; want errs.Invalid", err)
			}
		})
	}
	if _, err := limits.New(nil, limits.Config{}, quiet); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("New(nil store) = %v; want errs.Invalid", err)
	}
}

func TestKeyWithoutSubject(t *testing.T) {
	l := newLimits(t, limits.Config{})
	for _, k := range []limits.Key{{Kind: limits.API}, {Kind: limits.TokenClient}, {Kind: limits.TokenIP}, {Kind: 9, Client: "c"}} {
		if _, err := l.Allow(context.Background(), k); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("Allow(%+v) = %v; want errs.Invalid", k, err)
		}
	}
}

// downStore is a limiter store whose backend is unreachable (the Redis
// case is proven against a killed redis-server in adapters/redis).
type downStore struct{ limiter.Store }

var errDown = errs.New(errs.Unavailable, "store down")

func (downStore) Get(context.Context, string, limiter.Rate) (limiter.Context, error) {
	return limiter.Context{}, errDown
}

func TestStoreFailurePolicy(t *testing.T) {
	api := limits.Key{Kind: limits.API, Tenant: "t", Client: "c"}
	tok := limits.Key{Kind: limits.TokenClient, Client: "c"}
	tests := []struct {
		name            string
		open, openToken bool
		apiOK, tokenOK  bool
	}{
		{"defaults: closed everywhere", false, false, false, false},
		{"open for API, closed for token endpoint", true, false, true, false},
		{"open everywhere", true, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := limits.New(downStore{}, limits.Config{FailOpen: tt.open, FailOpenTokenEndpoint: tt.openToken}, quiet)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				k  limits.Key
				ok bool
			}{{api, tt.apiOK}, {tok, tt.tokenOK}} {
				d, err := l.Allow(context.Background(), c.k)
				if c.ok {
					if err != nil || !d.Allowed || d.Limit != 0 {
						t.Fatalf("%v: Allow = %+v, %v; want allowed, uncounted (limit 0)", c.k.Kind, d, err)
					}
					continue
				}
				if errs.CodeOf(err) != errs.Unavailable || !errors.Is(err, errDown) {
					t.Fatalf("%v: Allow = %+v, %v; want errs.Unavailable wrapping the store error", c.k.Kind, d, err)
				}
			}
		})
	}
}

func BenchmarkAllowMemory(b *testing.B) {
	l := newLimits(b, limits.Config{DefaultRate: "1000000000-S"})
	keys := make([]limits.Key, 64)
	for i := range keys {
		keys[i] = limits.Key{Kind: limits.API, Tenant: "t", Client: "client-" + strconv.Itoa(i)}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := l.Allow(ctx, keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// Failed credential checks per IP: Peek reports the budget without
// spending it; after AuthFailureIPRate failures the IP is refused, other
// IPs are not, and a peek never counts.
func TestAuthFailureBudgetPeek(t *testing.T) {
	ctx := context.Background()
	l := newLimits(t, limits.Config{AuthFailureIPRate: "3-M"})
	ip := limits.Key{Kind: limits.AuthFailIP, IP: "203.0.113.7"}
	for i := range 3 {
		if d, err := l.Peek(ctx, ip); err != nil || !d.Allowed {
			t.Fatalf("peek before failure %d: %+v %v", i+1, d, err)
		}
		if _, err := l.Allow(ctx, ip); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 { // peeking spends nothing and keeps answering "spent"
		d, err := l.Peek(ctx, ip)
		if err != nil || d.Allowed || d.Limit != 3 || d.RetryAfter < time.Second {
			t.Fatalf("peek after 3 failures: %+v %v", d, err)
		}
	}
	if d, err := l.Peek(ctx, limits.Key{Kind: limits.AuthFailIP, IP: "198.51.100.1"}); err != nil || !d.Allowed {
		t.Errorf("another IP: %+v %v", d, err)
	}
	if _, err := l.Peek(ctx, limits.Key{Kind: limits.AuthFailIP}); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("no IP: %v", err)
	}
}

// Unidentified connector callers are counted per IP and connector at the
// default rate.
func TestIPBudgetPerConnector(t *testing.T) {
	ctx := context.Background()
	l := newLimits(t, limits.Config{DefaultRate: "2-M"})
	a := limits.Key{Kind: limits.IP, IP: "203.0.113.7", Connector: "eoffice"}
	for i := range 3 {
		d, err := l.Allow(ctx, a)
		if err != nil || d.Allowed != (i < 2) {
			t.Fatalf("request %d: %+v %v", i+1, d, err)
		}
	}
	if d, _ := l.Allow(ctx, limits.Key{Kind: limits.IP, IP: "203.0.113.7", Connector: "dabei"}); !d.Allowed {
		t.Error("the same IP on another connector shares the budget")
	}
}

// Public clients (spec eims-native.md §12.2): an API key with User counts
// the client's rate per user; a TokenLogin key counts per client, IP and
// login name (case-insensitively) at the token-endpoint rate.
func TestPerUserBudgets(t *testing.T) {
	l := newLimits(t, limits.Config{DefaultRate: "100-M", ClientRates: map[string]string{"web": "3-M"}, TokenEndpointRate: "2-M"})
	api := func(user string) limits.Key {
		return limits.Key{Kind: limits.API, Tenant: "t1", Client: "web", User: user}
	}
	login := func(ip, user string) limits.Key {
		return limits.Key{Kind: limits.TokenLogin, Client: "web", IP: ip, User: user}
	}
	for _, tc := range []struct {
		name    string
		k       limits.Key
		n, want int
		limit   int64
	}{
		{"user a: the client's rate", api("u_a"), 5, 3, 3},
		{"user b: a budget of its own", api("u_b"), 4, 3, 3},
		{"no user: the client's own budget", limits.Key{Kind: limits.API, Tenant: "t1", Client: "web"}, 4, 3, 3},
		{"user b in another tenant", limits.Key{Kind: limits.API, Tenant: "t2", Client: "web", User: "u_b"}, 1, 1, 3},
		{"login alice from ip1", login("10.0.0.1", "alice"), 3, 2, 2},
		{"ALICE from ip1 shares it", login("10.0.0.1", "ALICE"), 1, 0, 2},
		{"alice from ip2", login("10.0.0.2", "alice"), 2, 2, 2},
		{"bob from ip1", login("10.0.0.1", "bob"), 2, 2, 2},
		{"a name with the separator", login("10.0.0.1", "a:b"), 2, 2, 2},
		{"the same name hashed again", login("10.0.0.1", "A:B"), 1, 0, 2},
		{"a long name", login("10.0.0.1", string(make([]byte, 300))), 3, 2, 2},
	} {
		allowed, d := fire(t, l, tc.k, tc.n)
		if allowed != tc.want || d.Limit != tc.limit {
			t.Errorf("%s: %d of %d allowed (limit %d), want %d (limit %d)", tc.name, allowed, tc.n, d.Limit, tc.want, tc.limit)
		}
	}
	for _, k := range []limits.Key{{Kind: limits.TokenLogin, Client: "web", User: "x"}, {Kind: limits.TokenLogin, IP: "1.2.3.4", User: "x"}} {
		if _, err := l.Allow(context.Background(), k); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("Allow(%+v) = %v, want Invalid", k, err)
		}
	}
}
