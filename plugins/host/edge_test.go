package host_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/httpapi"
	"github.com/eimshub/eimshub/plugins/host"
	"github.com/eimshub/eimshub/plugins/sdk/example"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// TestEdgeErrorsInTheConnectorsEnvelope: the errors the HTTP server
// renders itself (body refused at the edge, router 404/405, a panic) on a
// connector's paths answer in the connector's envelope (the example
// connector, a real plugin process, mounted at /ex); the hub's own routes,
// a hub route registered at a connector's path included, keep the native
// envelope.
func TestEdgeErrorsInTheConnectorsEnvelope(t *testing.T) {
	core := sdktest.NewMemHost()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	m, err := host.New([]host.Config{{ID: example.ID, Enabled: true, Isolation: host.Process, Mount: "/ex"}}, core,
		host.Options{Logger: logger, SelfCommand: selfCommand("example")})
	if err != nil {
		t.Fatal(err)
	}
	m.Start(context.Background())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.Close(ctx)
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	})
	app := httpapi.New(httpapi.Deps{Logger: logger, Options: httpapi.Options{BodyLimit: 4096, EdgeError: m.EdgeError}})
	// Hub routes registered before the connectors: one at a connector's
	// path (it wins, as Fiber dispatches to the first), one under its mount.
	app.Post("/ex/refresh", func(c *fiber.Ctx) error { return c.SendString("hub") })
	app.Get("/ex/hub-panic", func(*fiber.Ctx) error { panic("hub route panicked") })
	limit := func(c *fiber.Ctx) error {
		if c.Get("X-Panic") != "" {
			panic("secret panic detail")
		}
		return c.Next()
	}
	m.Mount(app, host.Auth{Bearer: authenticate(core)}, limit)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	base := "http://" + ln.Addr().String()

	big := strings.Repeat(" ", 4097)
	exampleEnv := func(status int, code string) func(int, string) bool {
		return func(st int, body string) bool {
			var e struct {
				OK      *bool
				Code    string
				Message string
			}
			return st == status && json.Unmarshal([]byte(body), &e) == nil && e.OK != nil && !*e.OK && e.Code == code &&
				!strings.Contains(body, "secret")
		}
	}
	native := func(status int, code string) func(int, string) bool {
		return func(st int, body string) bool {
			var e struct {
				ErrorCode int
				Error     struct{ Code string }
			}
			return st == status && json.Unmarshal([]byte(body), &e) == nil && e.ErrorCode == status && e.Error.Code == code &&
				!strings.Contains(body, "panicked")
		}
	}
	for _, tc := range []struct {
		name, method, path, body string
		header                   map[string]string
		want                     func(int, string) bool
	}{
		{"over the limit, :param route", "POST", "/ex/records/f1", big, nil, exampleEnv(413, "payload_too_large")},
		{"over the limit, path case and trailing slash", "POST", "/EX/Records/f1/", big, nil, exampleEnv(413, "payload_too_large")},
		{"unsupported encoding", "POST", "/ex/records/f1/batch", "{}", map[string]string{"Content-Encoding": "br"},
			exampleEnv(415, "unsupported_media_type")},
		{"malformed gzip", "POST", "/ex/files", "{}", map[string]string{"Content-Encoding": "gzip"}, exampleEnv(400, "invalid")},
		{"over the limit, unknown path under the mount", "POST", "/ex/no/such", big, nil, exampleEnv(413, "payload_too_large")},
		{"unknown path under the mount", "GET", "/ex/no/such", "", nil, exampleEnv(404, "not_found")},
		{"wrong method", "DELETE", "/ex/ping", "", nil, exampleEnv(405, "method_not_allowed")},
		{"panic in a connector route's host handlers", "GET", "/ex/ping", "", map[string]string{"X-Panic": "1"},
			exampleEnv(500, "internal")},
		{"hub route at a connector's path", "POST", "/ex/refresh", big, nil, native(413, "payload_too_large")},
		{"hub route under the mount: panic", "GET", "/ex/hub-panic", "", nil, native(500, "internal")},
		{"hub route", "POST", "/api/v1/contract", big, nil, native(413, "payload_too_large")},
		{"unknown path outside the mount", "GET", "/nowhere", "", nil, native(404, "not_found")},
		{"mount prefix is a segment, not a string prefix", "GET", "/exx", "", nil, native(404, "not_found")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !tc.want(res.StatusCode, string(b)) {
				t.Fatalf("%s %s: %d %s", tc.method, tc.path, res.StatusCode, b)
			}
		})
	}
	// Internal errors are logged by the server with their cause, whichever
	// envelope answered.
	if s := logs.String(); !strings.Contains(s, "secret panic detail") || !strings.Contains(s, "hub route panicked") {
		t.Errorf("panics not logged:\n%s", s)
	}
	// Still serving.
	res, err := http.Get(base + "/ex/ping")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "pong" {
		t.Fatalf("ping: %d %s", res.StatusCode, b)
	}
}

// EdgeError before Mount (a hub whose connectors are not mounted yet)
// leaves every error to the server.
func TestEdgeErrorBeforeMount(t *testing.T) {
	m, err := host.New(nil, sdktest.NewMemHost(), host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	app := httpapi.New(httpapi.Deps{Logger: slog.New(slog.DiscardHandler), Options: httpapi.Options{EdgeError: m.EdgeError}})
	res, err := app.Test(httptest.NewRequest("GET", "/ex/ping", nil))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 404 || !strings.Contains(string(b), `"errorCode":404`) {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
}

// BenchmarkEdgeErrorLookup: what EdgeError costs the server per error it
// renders, with the native API's routes and the example connector mounted:
// a path nobody owns (a 404 scan) and a connector's path.
func BenchmarkEdgeErrorLookup(b *testing.B) {
	m, err := host.New([]host.Config{{ID: example.ID, Enabled: true, Isolation: host.InProc, Mount: "/ex"}}, sdktest.NewMemHost(),
		host.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	m.Start(context.Background())
	b.Cleanup(func() { _ = m.Close(context.Background()) })
	app := httpapi.New(httpapi.Deps{Logger: slog.New(slog.DiscardHandler),
		Options: httpapi.Options{PathPrefixes: []string{"/jlauth"}, EdgeError: m.EdgeError}})
	m.Mount(app, host.Auth{}, nil)
	b.Logf("%d routes", len(app.GetRoutes(true)))
	for _, tc := range []struct{ name, path string }{{"unowned", "/no/such/path"}, {"connector", "/ex/records/f1/1"}} {
		b.Run(tc.name, func(b *testing.B) {
			var rc fasthttp.RequestCtx
			rc.Request.Header.SetMethod("POST")
			rc.Request.SetRequestURI(tc.path)
			c := app.AcquireCtx(&rc)
			defer app.ReleaseCtx(c)
			e := errs.New(errs.TooLarge, "too large")
			b.ReportAllocs()
			for b.Loop() {
				m.EdgeError(c, e)
			}
		})
	}
}
