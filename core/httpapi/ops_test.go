package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

type fakeChecker struct{ err error }

func (f fakeChecker) Ping(context.Context) error { return f.err }

// ctxChecker blocks until its context ends: /readyz must not hang on it.
type ctxChecker struct{}

// optChecker is an optional checker (OptionalChecker).
type optChecker struct{ fakeChecker }

func (optChecker) Optional() bool { return true }

func (ctxChecker) Ping(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }

func TestHealthz(t *testing.T) {
	app, _ := newTestApp(t, func(d *Deps) {
		d.Ready = map[string]Checker{"store": fakeChecker{errors.New("down")}}
		d.Options.Version = "v1.2.3-4-gabcdef0"
	})
	if r := get(t, app, "/health"); r.status != 200 || string(r.body) != "{\"status\":\"ok\"}\n" {
		t.Fatalf("/health = %d %q", r.status, r.body)
	}
	if r := get(t, app, "/healthz"); r.status != 200 || string(r.body) != "{\"status\":\"ok\",\"version\":\"v1.2.3-4-gabcdef0\"}\n" {
		t.Fatalf("/healthz = %d %q", r.status, r.body)
	}
	if m := get(t, app, "/api/v1/ping").json(t); m["status"] != "ok" {
		t.Fatalf("ping = %v", m)
	}
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name   string
		ready  map[string]Checker
		status int
		failed []any
	}{
		{"no checkers", nil, 200, nil},
		{"all ok", map[string]Checker{"store": fakeChecker{}, "cache": fakeChecker{}}, 200, nil},
		{"one failing", map[string]Checker{"store": fakeChecker{}, "cache": fakeChecker{errors.New("redis: connection refused")}}, 503, []any{"cache"}},
		{"two failing", map[string]Checker{"store": fakeChecker{errors.New("x")}, "cache": fakeChecker{errors.New("y")}, "nil": nil}, 503, []any{"cache", "nil", "store"}},
		{"optional failing", map[string]Checker{"store": fakeChecker{}, "connector:x": optChecker{fakeChecker{errors.New("down")}}}, 200, nil},
		{"optional and required failing", map[string]Checker{"connector:x": optChecker{fakeChecker{errors.New("down")}},
			"connector:y": fakeChecker{errors.New("down")}}, 503, []any{"connector:y"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app, l := newTestApp(t, func(d *Deps) { d.Ready = tc.ready })
			r := get(t, app, "/readyz")
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			m := r.json(t)
			failed, _ := m["failed"].([]any)
			if !slices.Equal(failed, tc.failed) {
				t.Fatalf("failed = %v, want %v", failed, tc.failed)
			}
			checks, _ := m["checks"].(map[string]any)
			if len(checks) != len(tc.ready) {
				t.Fatalf("checks = %v", checks)
			}
			if strings.Contains(string(r.body), "refused") {
				t.Fatalf("checker error text sent: %s", r.body)
			}
			degraded := 0
			for name, ch := range tc.ready {
				if _, ok := ch.(optChecker); ok {
					degraded++
					if checks[name] != "degraded" {
						t.Errorf("optional %s = %v, want degraded", name, checks[name])
					}
				}
			}
			if got, _ := m["degraded"].([]any); len(got) != degraded {
				t.Errorf("degraded = %v, want %d names", got, degraded)
			}
			if len(l.find("readiness check failed")) != len(tc.failed)+degraded {
				t.Fatalf("failures not logged: %v", l.find("readiness check failed"))
			}
		})
	}
}

func TestReadyzCheckerHonoursTimeout(t *testing.T) {
	app := fiber.New(fiber.Config{ErrorHandler: errorHandler(&Deps{})})
	app.Get("/readyz", readinessHandler(map[string]Checker{"slow": ctxChecker{}, "ok": fakeChecker{}},
		// The slow checker blocks until its context ends, so any timeout
		// shows the rule; a long one keeps the fast checker from failing on a
		// loaded machine (1 ms did once under the race detector).
		200*time.Millisecond, slog.New(slog.DiscardHandler)))
	r := get(t, app, "/readyz")
	if r.status != 503 || !strings.Contains(string(r.body), `"failed":["slow"]`) {
		t.Fatalf("readyz = %d %s", r.status, r.body)
	}
}

func TestMetricsByRoutePattern(t *testing.T) {
	app, _ := newTestApp(t)
	app.Get("/test/item/:id", func(c *fiber.Ctx) error { return c.SendString(c.Params("id")) })
	get(t, app, "/test/item/abc")
	get(t, app, "/test/item/def")
	get(t, app, "/no/such/raw-path-xyz")
	get(t, app, "/api/v1/ping")

	r := get(t, app, "/metrics")
	if r.status != 200 {
		t.Fatalf("metrics: %d", r.status)
	}
	body := string(r.body)
	for _, want := range []string{
		`eimshub_http_requests_total{method="GET",route="/test/item/:id",status="200"} 2`,
		`eimshub_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`eimshub_http_requests_total{method="GET",route="/api/v1/ping",status="200"} 1`,
		`eimshub_http_request_duration_seconds_count{method="GET",route="/test/item/:id"} 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, raw := range []string{"abc", "raw-path-xyz"} {
		if strings.Contains(body, raw) {
			t.Errorf("metrics contain the raw path segment %q", raw)
		}
	}
	// A second server has its own registry: nothing shared, no duplicate-registration panic.
	app2, _ := newTestApp(t)
	if strings.Contains(string(get(t, app2, "/metrics").body), `route="/test/item/:id"`) {
		t.Fatal("metrics shared between servers")
	}
}

func TestMetricsGroupMiddlewareLabel(t *testing.T) {
	app, _ := newTestApp(t)
	// bearerAuth stops the request (no identity wired: 503) before any route.
	get(t, app, "/api/v1/department/d1")
	body := string(get(t, app, "/metrics").body)
	if !strings.Contains(body, `eimshub_http_requests_total{method="GET",route="/api/v1/*",status="503"} 1`) {
		t.Fatalf("group label missing:\n%s", grepLines(body, "requests_total"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// openAPI fetches and decodes the served document.
func openAPI(t *testing.T, app *fiber.App) map[string]any {
	t.Helper()
	r := get(t, app, "/swagger/v1/swagger.json")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("swagger.json: %d %v", r.status, r.header)
	}
	var doc map[string]any
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("swagger.json is not valid JSON: %v", err)
	}
	return doc
}

func TestSwagger(t *testing.T) {
	app, _ := newTestApp(t)
	doc := openAPI(t, app)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/connect/token", "/connect/userinfo", "/connect/revocation", "/.well-known/jwks.json",
		"/auth/sendcode", "/api/v1/{entityName}", "/api/v1/{entityName}/{id}", "/api/v1/{entityName}/$count",
		"/api/v1/{entityName}/$query", "/api/v1/ping", "/health", "/healthz", "/readyz", "/metrics"} {
		if _, ok := paths[p]; !ok {
			t.Errorf("OpenAPI document lacks %s", p)
		}
	}
	// Every $ref resolves.
	raw, _ := json.Marshal(doc)
	for _, m := range regexp.MustCompile(`"\$ref":"#/([^"]+)"`).FindAllStringSubmatch(string(raw), -1) {
		var node any = doc
		for _, k := range strings.Split(m[1], "/") {
			obj, _ := node.(map[string]any)
			node = obj[k]
		}
		if node == nil {
			t.Errorf("dangling $ref #/%s", m[1])
		}
	}

	for _, path := range []string{"/swagger", "/swagger/", "/swagger/index.html"} {
		r := get(t, app, path)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(r.body), "/v1/swagger.json") {
			t.Fatalf("%s: %d %v", path, r.status, r.header)
		}
		if strings.Contains(string(r.body), "https://") || strings.Contains(string(r.body), "http://") {
			t.Fatalf("the UI must be self-contained (no external URLs)")
		}
	}

	off, _ := newTestApp(t, func(d *Deps) { d.Options.Swagger = false })
	get(t, off, "/swagger").envelope(t, 404, "not_found")
	get(t, off, "/swagger/v1/swagger.json").envelope(t, 404, "not_found")
}

// docPathKey normalises a route or document path for comparison: lower
// case, no trailing slash, every parameter ({x}, :x, :x?, *) as "{}".
var paramSegment = regexp.MustCompile(`\{[^/}]+\}|:[^/]+|\*`)

func docPathKey(p string) string {
	p = strings.ToLower(strings.TrimSuffix(p, "/"))
	return paramSegment.ReplaceAllString(p, "{}")
}

// TestOpenAPICoversRoutes is the docs-drift check: every route registered
// on the app under the API families must appear, with its method, in the
// OpenAPI document.
func TestOpenAPICoversRoutes(t *testing.T) {
	app, _ := newTestApp(t)
	doc := openAPI(t, app)
	documented := map[string]bool{}
	for p, item := range doc["paths"].(map[string]any) {
		for m := range item.(map[string]any) {
			documented[strings.ToUpper(m)+" "+docPathKey(p)] = true
		}
	}
	families := []string{"/api/v1", "/odata/v1", "/connect", "/auth", "/.well-known"}
	checked := 0
	for _, r := range app.GetRoutes(true) {
		if r.Method == http.MethodHead || !slices.ContainsFunc(families, func(f string) bool {
			return strings.HasPrefix(strings.ToLower(r.Path), f)
		}) {
			continue
		}
		checked++
		if key := r.Method + " " + docPathKey(r.Path); !documented[key] {
			t.Errorf("route %s %s is not in the OpenAPI document (core/httpapi/swagger/openapi.json)", r.Method, r.Path)
		}
	}
	if checked < 5 {
		t.Fatalf("only %d API routes checked; the route table looks wrong", checked)
	}
}

// TestGracefulShutdown: a request in flight when shutdown starts completes,
// and Serve returns only after it did.
func TestGracefulShutdown(t *testing.T) {
	l := newTestLog()
	app := New(Deps{Logger: l.logger()})
	entered, release := make(chan struct{}), make(chan struct{})
	app.Get("/test/slow", func(c *fiber.Ctx) error {
		close(entered)
		<-release
		return c.SendString("drained")
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, app, "127.0.0.1:0", 0, l.logger(), ready) }()
	addr := <-ready

	type resp struct {
		status int
		body   string
		err    error
	}
	got := make(chan resp, 1)
	go func() {
		r, err := http.Get("http://" + addr + "/test/slow")
		if err != nil {
			got <- resp{err: err}
			return
		}
		defer r.Body.Close()
		b, err := io.ReadAll(r.Body)
		got <- resp{r.StatusCode, string(b), err}
	}()
	<-entered
	draining := l.notify("http server draining")
	cancel()
	<-draining
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	default:
	}
	close(release)
	r := <-got
	if r.err != nil || r.status != 200 || r.body != "drained" {
		t.Fatalf("in-flight request = %+v", r)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("server still accepts connections after Serve returned")
	}
}

func TestServeListenError(t *testing.T) {
	app := New(Deps{})
	if err := Serve(context.Background(), app, "256.0.0.1:bad", 0, nil, nil); err == nil {
		t.Fatal("Serve on a bad address returned nil")
	}
}

// TestShutdownClosesSilentConnections: connections with no request in
// flight — one that never sent a byte, one stuck in the middle of a request
// head, one idle after a keep-alive request — do not hold the drain: Serve
// returns cleanly within a 2 s timeout (fasthttp alone waits 5 s for a
// connection that has not sent a request, so the drain used to time out),
// and each of them is closed.
func TestShutdownClosesSilentConnections(t *testing.T) {
	app := New(Deps{Logger: slog.New(slog.DiscardHandler)})
	accepted := make(chan struct{}, 8)
	hook := app.Server().ConnState // the server's own tracking
	app.Server().ConnState = func(c net.Conn, st fasthttp.ConnState) {
		hook(c, st)
		if st == fasthttp.StateNew {
			accepted <- struct{}{}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, app, "127.0.0.1:0", 2*time.Second, nil, ready) }()
	addr := <-ready

	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	partial, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer partial.Close()
	if _, err := io.WriteString(partial, "GET /healthz HTTP/1.1\r\nHost: hub\r\n"); err != nil {
		t.Fatal(err)
	}
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	br := bufio.NewReader(idle)
	if _, err := io.WriteString(idle, "GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("keep-alive request: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for range 3 {
		<-accepted
	}

	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve with silent connections open: %v", err)
	}
	for name, c := range map[string]net.Conn{"silent": silent, "partial": partial, "idle": idle} {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second)) // only a guard against hanging
		if n, err := c.Read(make([]byte, 1)); err == nil {
			t.Errorf("%s connection still open after shutdown (read %d bytes)", name, n)
		}
	}
}

// TestRootRedirectsToSwagger: a browser opening the hub's address lands on
// the API documentation.
func TestRootRedirectsToSwagger(t *testing.T) {
	app, _ := newTestApp(t, func(d *Deps) { d.Options.Swagger = true })
	resp, err := app.Test(httptest.NewRequest("GET", "/", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != fiber.StatusFound || resp.Header.Get("Location") != "/swagger" {
		t.Fatalf("GET / = %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestJSONAnswersEndInNewline: every JSON answer — success bodies, error
// envelopes, OAuth errors, health — ends in "\n" (curl output leaves the
// prompt on its own line).
func TestJSONAnswersEndInNewline(t *testing.T) {
	app, _ := newTestApp(t, func(d *Deps) { d.Options.Swagger = true })
	for _, path := range []string{"/healthz", "/health", "/readyz", "/api/v1/ping", "/api/v1/department",
		"/no/such/route", "/swagger/v1/swagger.json", "/connect/userinfo"} {
		r := get(t, app, path)
		if len(r.body) == 0 || r.body[len(r.body)-1] != '\n' || !json.Valid(r.body) {
			t.Errorf("%s: %d %q does not end in a newline", path, r.status, r.body)
		}
	}
}
