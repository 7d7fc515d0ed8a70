package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/limits"
	"github.com/eimshub/eimshub/core/principal"
)

var rlQuiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func rlLimits(t *testing.T, store limiter.Store, cfg limits.Config) *limits.Limits {
	t.Helper()
	l, err := limits.New(store, cfg, rlQuiet)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// rlApp serves GET /x behind a stand-in for bearerAuth (the principal of
// the X-Client header) and RateLimitByPrincipal, and POST /connect/token
// behind RateLimitTokenEndpoint.
func rlApp(d *Deps) *fiber.App {
	app := fiber.New(fiber.Config{ErrorHandler: errorHandler(d), DisableStartupMessage: true})
	auth := func(c *fiber.Ctx) error {
		if id := c.Get("X-Client"); id != "" {
			c.SetUserContext(principal.With(c.UserContext(), &principal.Principal{Tenant: "t1", ClientID: id}))
		}
		return c.Next()
	}
	app.Get("/x", auth, RateLimitByPrincipal(d), func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Post("/connect/token", RateLimitTokenEndpoint(d), func(c *fiber.Ctx) error { return c.SendString("token") })
	app.Post("/auth/sendcode", RateLimitByIP(d), func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusNoContent) })
	return app
}

func rlDo(t *testing.T, app *fiber.App, req *http.Request) *http.Response {
	t.Helper()
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func rlGet(client string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	if client != "" {
		req.Header.Set("X-Client", client)
	}
	return req
}

func TestRateLimitByPrincipal(t *testing.T) {
	d := &Deps{Logger: rlQuiet, Limits: rlLimits(t, memory.NewStore(), limits.Config{DefaultRate: "2-M"})}
	app := rlApp(d)
	for i, wantRemaining := range []string{"1", "0"} {
		resp := rlDo(t, app, rlGet("c1"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i+1, resp.StatusCode)
		}
		checkRateHeaders(t, resp, "2", wantRemaining)
	}
	resp := rlDo(t, app, rlGet("c1"))
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third request: status %d, want 429", resp.StatusCode)
	}
	checkRateHeaders(t, resp, "2", "0")
	ra, err := strconv.Atoi(resp.Header.Get(fiber.HeaderRetryAfter))
	if err != nil || ra < 1 || ra > 60 {
		t.Fatalf("Retry-After = %q, want 1..60 seconds", resp.Header.Get(fiber.HeaderRetryAfter))
	}
	var env struct {
		ErrorCode int    `json:"errorCode"`
		Message   string `json:"message"`
		Error     struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("decode envelope: %v", err)
	}
	if env.ErrorCode != 429 || env.Error.Code != "rate_limited" || env.Message == "" {
		t.Fatalf("envelope = %+v; want errorCode 429, error.code rate_limited", env)
	}

	// Another client has its own budget; a request without a principal is
	// not counted by this middleware.
	if resp := rlDo(t, app, rlGet("c2")); resp.StatusCode != http.StatusOK {
		t.Fatalf("other client: status %d, want 200", resp.StatusCode)
	}
	resp = rlDo(t, app, rlGet(""))
	if resp.StatusCode != http.StatusOK || resp.Header.Get(HeaderRateLimitLimit) != "" {
		t.Fatalf("anonymous: status %d, limit header %q; want 200 and no header",
			resp.StatusCode, resp.Header.Get(HeaderRateLimitLimit))
	}
}

func checkRateHeaders(t *testing.T, resp *http.Response, limit, remaining string) {
	t.Helper()
	if got := resp.Header.Get(HeaderRateLimitLimit); got != limit {
		t.Errorf("%s = %q, want %q", HeaderRateLimitLimit, got, limit)
	}
	if got := resp.Header.Get(HeaderRateLimitRemaining); got != remaining {
		t.Errorf("%s = %q, want %q", HeaderRateLimitRemaining, got, remaining)
	}
	reset, err := strconv.ParseInt(resp.Header.Get(HeaderRateLimitReset), 10, 64)
	now := time.Now().Unix()
	if err != nil || reset < now-1 || reset > now+61 {
		t.Errorf("%s = %q, want epoch seconds within the minute window", HeaderRateLimitReset, resp.Header.Get(HeaderRateLimitReset))
	}
}

func TestRateLimitNilLimiterIsNoop(t *testing.T) {
	app := rlApp(&Deps{Logger: rlQuiet})
	for range 5 {
		resp := rlDo(t, app, rlGet("c1"))
		if resp.StatusCode != http.StatusOK || resp.Header.Get(HeaderRateLimitLimit) != "" {
			t.Fatalf("status %d, limit header %q; want 200 and no header", resp.StatusCode, resp.Header.Get(HeaderRateLimitLimit))
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/connect/token", strings.NewReader("client_id=a"))
	req.Header.Set(fiber.HeaderContentType, fiber.MIMEApplicationForm)
	if resp := rlDo(t, app, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("token endpoint: status %d, want 200", resp.StatusCode)
	}
}

func tokenReq(form string, basicID string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/connect/token", strings.NewReader(form))
	req.Header.Set(fiber.HeaderContentType, fiber.MIMEApplicationForm)
	if basicID != "" {
		req.Header.Set(fiber.HeaderAuthorization, "Basic "+base64.StdEncoding.EncodeToString([]byte(basicID+":secret")))
	}
	return req
}

func TestRateLimitTokenEndpoint(t *testing.T) {
	t.Run("per client", func(t *testing.T) {
		d := &Deps{Logger: rlQuiet, Limits: rlLimits(t, memory.NewStore(),
			limits.Config{TokenEndpointRate: "2-M", TokenEndpointIPRate: "100-M"})}
		app := rlApp(d)
		// The form's client_id and HTTP Basic's name the same budget.
		for i, req := range []*http.Request{tokenReq("grant_type=password&client_id=web", ""), tokenReq("grant_type=password", "web")} {
			if resp := rlDo(t, app, req); resp.StatusCode != http.StatusOK {
				t.Fatalf("request %d: status %d, want 200", i+1, resp.StatusCode)
			}
		}
		resp := rlDo(t, app, tokenReq("client_id=web", ""))
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get(fiber.HeaderRetryAfter) == "" {
			t.Fatalf("third request: status %d, Retry-After %q; want 429 with Retry-After",
				resp.StatusCode, resp.Header.Get(fiber.HeaderRetryAfter))
		}
		var body map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body["error"] != "temporarily_unavailable" {
			t.Fatalf("body = %v, %v; want an OAuth error temporarily_unavailable", body, err)
		}
		if resp := rlDo(t, app, tokenReq("client_id=other", "")); resp.StatusCode != http.StatusOK {
			t.Fatalf("other client: status %d, want 200", resp.StatusCode)
		}
	})
	t.Run("per IP", func(t *testing.T) {
		d := &Deps{Logger: rlQuiet, Limits: rlLimits(t, memory.NewStore(),
			limits.Config{TokenEndpointRate: "100-M", TokenEndpointIPRate: "3-M"})}
		app := rlApp(d)
		codes := []int{}
		for i := range 5 {
			// A guesser rotating client ids is still held by the IP budget.
			resp := rlDo(t, app, tokenReq("client_id=guess"+strconv.Itoa(i), ""))
			codes = append(codes, resp.StatusCode)
		}
		want := []int{200, 200, 200, 429, 429}
		for i := range want {
			if codes[i] != want[i] {
				t.Fatalf("statuses = %v, want %v", codes, want)
			}
		}
	})
}

func TestRateLimitByIPUsesNativeEnvelope(t *testing.T) {
	d := &Deps{Logger: rlQuiet, Limits: rlLimits(t, memory.NewStore(), limits.Config{TokenEndpointIPRate: "1-M"})}
	app := rlApp(d)
	send := func() *http.Response {
		return rlDo(t, app, httptest.NewRequest(http.MethodPost, "/auth/sendcode", nil))
	}
	if resp := send(); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("first: status %d, want 204", resp.StatusCode)
	}
	resp := send()
	var env struct {
		ErrorCode int `json:"errorCode"`
	}
	if resp.StatusCode != http.StatusTooManyRequests || json.NewDecoder(resp.Body).Decode(&env) != nil || env.ErrorCode != 429 {
		t.Fatalf("second: status %d, envelope %+v; want 429 native envelope", resp.StatusCode, env)
	}
}

// rlDownStore is a limiter store whose backend is unreachable.
type rlDownStore struct{ limiter.Store }

func (rlDownStore) Get(context.Context, string, limiter.Rate) (limiter.Context, error) {
	return limiter.Context{}, errs.New(errs.Unavailable, "store down")
}

func TestRateLimitStoreDown(t *testing.T) {
	t.Run("fail closed", func(t *testing.T) {
		app := rlApp(&Deps{Logger: rlQuiet, Limits: rlLimits(t, rlDownStore{}, limits.Config{})})
		if resp := rlDo(t, app, rlGet("c1")); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("API: status %d, want 503", resp.StatusCode)
		}
		if resp := rlDo(t, app, tokenReq("client_id=a", "")); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("token endpoint: status %d, want 503", resp.StatusCode)
		}
	})
	t.Run("fail open for the API only", func(t *testing.T) {
		app := rlApp(&Deps{Logger: rlQuiet, Limits: rlLimits(t, rlDownStore{}, limits.Config{FailOpen: true})})
		resp := rlDo(t, app, rlGet("c1"))
		if resp.StatusCode != http.StatusOK || resp.Header.Get(HeaderRateLimitLimit) != "" {
			t.Fatalf("API: status %d, limit header %q; want 200 without headers (not counted)",
				resp.StatusCode, resp.Header.Get(HeaderRateLimitLimit))
		}
		if resp := rlDo(t, app, tokenReq("client_id=a", "")); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("token endpoint: status %d, want 503 (closed by default)", resp.StatusCode)
		}
	})
}
