package host_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eimshub/eimshub/core/httpapi"
	"github.com/eimshub/eimshub/core/limits"
	"github.com/eimshub/eimshub/plugins/host"
	"github.com/eimshub/eimshub/plugins/sdk/example"
	"github.com/ulule/limiter/v3/drivers/store/memory"
)

// realLimits is core/limits over limiter's memory store: app1 may make 5
// requests a minute, an IP may fail 3 credential checks a minute.
func realLimits(t *testing.T) *limits.Limits {
	t.Helper()
	l, err := limits.New(memory.NewStore(), limits.Config{DefaultRate: "1000-M", ClientRates: map[string]string{"app1": "5-M"},
		AuthFailureIPRate: "3-M"}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

type engineAnswer struct {
	OK     bool   `json:"ok"`
	Code   string `json:"code"`
	Result struct {
		Principal struct {
			Tenant, ClientID string
		} `json:"principal"`
		ClientIDHeader string `json:"clientIdHeader"`
		SecretHeader   string `json:"secretHeader"`
		SecretQuery    string `json:"secretQuery"`
	} `json:"result"`
}

func decodeEngine(t *testing.T, a answer) engineAnswer {
	t.Helper()
	var e engineAnswer
	if err := json.Unmarshal([]byte(a.Body), &e); err != nil {
		t.Fatalf("body %q: %v", a.Body, err)
	}
	return e
}

// TestClientSecretVerifiedBeforeTheHop is issue 10 finding 8 / issue 11
// item 3 through a real plugin process (and in process): a wrong secret is
// refused by the host in the connector's envelope and never reaches the
// plugin; failed checks are throttled per source IP without verifying;
// wrong secrets sent with app1's id spend nothing of app1's budget, which
// is counted against the verified client; the secret never reaches the
// plugin; a success is cached.
func TestClientSecretVerifiedBeforeTheHop(t *testing.T) {
	for _, iso := range []host.Isolation{host.Process, host.InProc} {
		t.Run(string(iso), func(t *testing.T) {
			l := realLimits(t)
			var calls atomic.Int64
			f := newAuthFixture(t, []host.Config{{ID: example.ID, Enabled: true, Isolation: iso}}, host.Options{},
				httpapi.RateLimit(&httpapi.Deps{Limits: l}, host.LimitKey), func(f *fixture) host.Auth {
					return host.Auth{Clients: memClients{core: f.core, calls: &calls}, Failures: host.FailureLimits(l), CacheTTL: time.Hour}
				})
			engine := func(ip, id, secret string) answer {
				return f.do(t, "GET", "/engine", "", map[string]string{"X-Real-Ip": ip, "X-Client-Id": id, "X-Client-Secret": secret})
			}
			hits := func() string {
				return f.do(t, "GET", "/engine/hits", "", map[string]string{"X-Real-Ip": "192.0.2.99"}).Body
			}

			// The attacker knows app1's id, not its secret.
			for i := range 3 {
				a := engine("203.0.113.7", "app1", fmt.Sprintf("guess-%d", i))
				if a.Status != 401 || a.Body != `{"ok":false,"code":"unauthorized","message":"invalid client credentials"}` {
					t.Fatalf("wrong secret %d: %+v", i, a)
				}
			}
			if n := calls.Load(); n != 3 {
				t.Fatalf("verifications = %d, want 3", n)
			}
			// Its budget of failures is spent: refused without a check.
			a := engine("203.0.113.7", "app1", "guess-4")
			if a.Status != 429 || !strings.Contains(a.Body, `"code":"rate_limited"`) || a.RetryAfter == "" {
				t.Fatalf("after 3 failures: %+v", a)
			}
			if n := calls.Load(); n != 3 {
				t.Errorf("verifications = %d after the IP was blocked, want 3", n)
			}
			if a := engine("203.0.113.8", "app1", ""); a.Status != 401 {
				t.Errorf("no secret: %+v", a)
			}
			if a := engine("203.0.113.8", "", "s3cret"); a.Status != 401 {
				t.Errorf("no client id: %+v", a)
			}
			if n := calls.Load(); n != 3 {
				t.Errorf("missing credentials were verified: %d calls", n)
			}
			if h := hits(); h != `{"ok":true,"result":0}` {
				t.Fatalf("refused requests reached the plugin: %s", h)
			}

			// app1 from its own address gets its whole budget (5 a minute).
			for i := range 5 {
				a := engine("198.51.100.1", "app1", "s3cret")
				e := decodeEngine(t, a)
				if a.Status != 200 || e.Result.Principal.ClientID != "app1" || e.Result.Principal.Tenant != "t1" {
					t.Fatalf("app1 call %d: %+v", i+1, a)
				}
				if e.Result.ClientIDHeader != "app1" || e.Result.SecretHeader != "" {
					t.Errorf("the plugin saw id %q, secret %q; want the id only", e.Result.ClientIDHeader, e.Result.SecretHeader)
				}
			}
			if a := engine("198.51.100.1", "app1", "s3cret"); a.Status != 429 || !strings.Contains(a.Body, "rate_limited") {
				t.Errorf("app1's 6th call: %+v, want its own limit", a)
			}
			if n := calls.Load(); n != 4 {
				t.Errorf("verifications = %d, want 4 (the successes are cached)", n)
			}
			// The cache is keyed by the secret too: a wrong one is checked.
			if a := engine("198.51.100.2", "app1", "s3cret-not"); a.Status != 401 {
				t.Errorf("wrong secret after a cached success: %+v", a)
			}
			if h := hits(); h != `{"ok":true,"result":5}` {
				t.Errorf("plugin hits = %s, want 5", h)
			}
		})
	}
}

// Credentials may come from the query when the route declares it; the
// secret parameter is removed before the hop.
func TestClientSecretFromQuery(t *testing.T) {
	var calls atomic.Int64
	f := newAuthFixture(t, []host.Config{{ID: example.ID, Enabled: true, Isolation: host.InProc}}, host.Options{}, nil,
		func(f *fixture) host.Auth {
			return host.Auth{Clients: memClients{core: f.core, calls: &calls}, CacheTTL: -1}
		})
	for i := range 2 {
		a := f.do(t, "GET", "/engine?client_id=app1&client_secret=s3cret", "", map[string]string{"X-Real-Ip": "192.0.2.1"})
		e := decodeEngine(t, a)
		if a.Status != 200 || e.Result.Principal.ClientID != "app1" || e.Result.SecretQuery != "" {
			t.Fatalf("call %d: %+v", i, a)
		}
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("verifications = %d with the cache off, want 2", n)
	}
	if a := f.do(t, "GET", "/engine?client_id=app1&client_secret=nope", "", nil); a.Status != 401 {
		t.Errorf("wrong secret: %+v", a)
	}
}
