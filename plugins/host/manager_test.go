package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/plugins/host"
	"github.com/eimshub/eimshub/plugins/sdk/example"
	"github.com/eimshub/eimshub/plugins/sdk/example/exampletest"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
	"github.com/gofiber/fiber/v2"
)

// syncBuffer is a log sink tests can read while plugins write to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	m    *host.Manager
	app  *fiber.App
	core *sdktest.MemHost
	tok  string
	logs *syncBuffer
}

// authenticate resolves the bearer token against the in-memory core, as the
// hub's identity service would.
func authenticate(core *sdktest.MemHost) func(*fiber.Ctx) (*principal.Principal, error) {
	return func(c *fiber.Ctx) (*principal.Principal, error) {
		tok, ok := strings.CutPrefix(c.Get("Authorization"), "Bearer ")
		if !ok {
			return nil, errs.New(errs.Unauthorized, "missing bearer token")
		}
		p, err := core.ResolveToken(c.UserContext(), tok)
		if err != nil {
			return nil, err
		}
		return host.FromSDKPrincipal(p), nil
	}
}

// memClients verifies client secrets against the in-memory core, as the
// hub's identity service does, counting its calls.
type memClients struct {
	core  *sdktest.MemHost
	calls *atomic.Int64
}

func (c memClients) VerifyClient(ctx context.Context, id, secret string) (*principal.Principal, error) {
	if c.calls != nil {
		c.calls.Add(1)
	}
	p, err := c.core.VerifyClient(ctx, id, secret)
	if err != nil {
		return nil, err
	}
	if p.ClientID == "" {
		p.ClientID = id
	}
	return host.FromSDKPrincipal(p), nil
}

func newFixture(t *testing.T, cfgs []host.Config, opts host.Options, limit fiber.Handler) *fixture {
	t.Helper()
	return newAuthFixture(t, cfgs, opts, limit, func(f *fixture) host.Auth {
		return host.Auth{Bearer: authenticate(f.core), Clients: memClients{core: f.core}}
	})
}

// newAuthFixture is newFixture with the route authentication auth returns.
func newAuthFixture(t *testing.T, cfgs []host.Config, opts host.Options, limit fiber.Handler, auth func(*fixture) host.Auth) *fixture {
	t.Helper()
	f := &fixture{core: sdktest.NewMemHost(), logs: &syncBuffer{}}
	f.tok = exampletest.Seed(f.core)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.SelfCommand == nil {
		opts.SelfCommand = selfCommand("example")
	}
	if opts.BackoffMin == 0 {
		opts.BackoffMin = 20 * time.Millisecond
	}
	m, err := host.New(cfgs, f.core, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	m.Start(context.Background())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		if t.Failed() {
			t.Logf("logs:\n%s", f.logs.String())
		}
	})
	// X-Real-Ip stands for the source address (every app.Test request
	// comes from the same fake peer).
	f.app = fiber.New(fiber.Config{ProxyHeader: "X-Real-Ip"})
	m.Mount(f.app, auth(f), limit)
	f.app.Get("/admin/connectors", host.AdminHandler(m, func(c *fiber.Ctx) error {
		p, err := authenticate(f.core)(c)
		if err != nil {
			return err
		}
		if !p.IsAdmin() {
			return errs.New(errs.Forbidden, "admin only")
		}
		return nil
	}))
	return f
}

type answer struct {
	Status     int
	CT         string
	Body       string
	RetryAfter string
}

func (f *fixture) do(t *testing.T, method, target, body string, header map[string]string) answer {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := f.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), string(b), resp.Header.Get("Retry-After")}
}

func (f *fixture) scenario(t *testing.T, mount string, sc exampletest.Scenario) answer {
	t.Helper()
	h := map[string]string{}
	for k, v := range sc.Header {
		h[k] = v
	}
	if sc.Bearer {
		h["Authorization"] = "Bearer " + f.tok
	}
	return f.do(t, sc.Method, mount+sc.Target, sc.Body, h)
}

func (f *fixture) status(t *testing.T, id string) host.ConnectorStatus {
	t.Helper()
	for _, s := range f.m.Status() {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no status for %s", id)
	return host.ConnectorStatus{}
}

// waitFor polls cond until it holds; the deadline only guards against a hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestModesAnswerIdentically runs the whole scenario table (every Host API
// call) against the example connector out of process (a real plugin
// process) and in process; the HTTP answers must be identical.
func TestModesAnswerIdentically(t *testing.T) {
	results := map[host.Isolation][]answer{}
	for _, iso := range []host.Isolation{host.Process, host.InProc} {
		f := newFixture(t, []host.Config{{ID: example.ID, Enabled: true, Isolation: iso, Mount: "/ex",
			Config: json.RawMessage(`{"greeting":"hi"}`)}}, host.Options{}, nil)
		if s := f.status(t, example.ID); s.State != host.StateRunning {
			t.Fatalf("%s: state %s (%s)", iso, s.State, s.LastError)
		}
		for _, sc := range exampletest.Scenarios(f.tok) {
			a := f.scenario(t, "/ex", sc)
			if a.Status != sc.Status {
				t.Errorf("%s %s: status %d, want %d: %s", iso, sc.Name, a.Status, sc.Status, a.Body)
			}
			results[iso] = append(results[iso], a)
		}
	}
	for i, sc := range exampletest.Scenarios("") {
		if p, in := results[host.Process][i], results[host.InProc][i]; p != in {
			t.Errorf("%s: process and in-process differ:\n process %+v\n inproc  %+v", sc.Name, p, in)
		}
	}
}

func TestBearerAndLimiterRunBeforeTheHop(t *testing.T) {
	var limited []string
	limit := func(c *fiber.Ctx) error {
		id := "anon"
		if p, ok := c.Locals(host.PrincipalLocal).(*principal.Principal); ok {
			id = p.ClientID
		}
		limited = append(limited, id)
		if c.Get("X-Over-Limit") != "" {
			return &errs.Error{Code: errs.RateLimited, Msg: "slow down", RetryAfter: 7, Pos: -1}
		}
		return c.Next()
	}
	f := newFixture(t, []host.Config{{ID: example.ID, Enabled: true, Isolation: host.InProc}}, host.Options{}, limit)

	if a := f.do(t, "GET", "/forms", "", nil); a.Status != 401 || a.Body != `{"ok":false,"code":"unauthorized","message":"missing bearer token"}` {
		t.Errorf("no token: %+v", a)
	}
	if len(limited) != 0 {
		t.Errorf("limiter ran before authentication: %v", limited)
	}
	a := f.do(t, "GET", "/forms", "", map[string]string{"Authorization": "Bearer " + f.tok, "X-Over-Limit": "1"})
	if a.Status != 429 || !strings.Contains(a.Body, `"code":"rate_limited"`) {
		t.Errorf("over limit: %+v", a)
	}
	if a := f.do(t, "GET", "/ping", "", nil); a.Status != 200 || a.Body != "pong" {
		t.Errorf("ping: %+v", a)
	}
	if strings.Join(limited, ",") != "app1,anon" {
		t.Errorf("limiter keys = %v, want [app1 anon]", limited)
	}
}

// RateLimitStatus overrides the status of a limiter refusal; the body stays
// the connector's envelope.
func TestRateLimitStatus(t *testing.T) {
	limit := func(c *fiber.Ctx) error {
		return &errs.Error{Code: errs.RateLimited, Msg: "slow down", RetryAfter: 3, Pos: -1}
	}
	f := newFixture(t, []host.Config{{ID: example.ID, Enabled: true, Isolation: host.InProc, RateLimitStatus: 200}}, host.Options{}, limit)
	a := f.do(t, "GET", "/ping", "", nil)
	if a.Status != 200 || !strings.Contains(a.Body, `"code":"rate_limited"`) || a.RetryAfter != "3" {
		t.Errorf("rate limited with RateLimitStatus 200: %+v", a)
	}
}

func TestDisabledAndAbsentConnectors404(t *testing.T) {
	f := newFixture(t, []host.Config{{ID: example.ID, Enabled: false, Mount: "/ex"}}, host.Options{}, nil)
	for _, target := range []string{"/ex/ping", "/ping", "/other/ping"} {
		if a := f.do(t, "GET", target, "", nil); a.Status != 404 {
			t.Errorf("%s: %+v, want 404", target, a)
		}
	}
	if s := f.status(t, example.ID); s.State != host.StateDisabled || s.PID != 0 {
		t.Errorf("status = %+v", s)
	}
}

func TestKillDuringRequest(t *testing.T) {
	f := newFixture(t, []host.Config{{ID: example.ID, Enabled: true}}, host.Options{}, nil)
	first := f.status(t, example.ID)
	if first.State != host.StateRunning || first.PID == 0 {
		t.Fatalf("status = %+v", first)
	}

	done := make(chan answer, 1)
	go func() { done <- f.do(t, "GET", "/slow?ms=60000", "", nil) }()
	waitFor(t, "the request to be in flight", func() bool { return f.status(t, example.ID).InFlight == 1 })
	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a := <-done
	if a.Status != 503 || a.CT != "application/json" || !strings.Contains(a.Body, `"code":"unavailable"`) {
		t.Errorf("in-flight request got %+v, want the envelope with 503", a)
	}

	waitFor(t, "the restart", func() bool {
		s := f.status(t, example.ID)
		return s.State == host.StateRunning && s.Restarts == 1
	})
	s := f.status(t, example.ID)
	if s.PID == first.PID || s.PID == 0 || s.LastError == "" {
		t.Errorf("after restart: %+v", s)
	}
	if a := f.do(t, "GET", "/ping", "", nil); a.Status != 200 || a.Body != "pong" {
		t.Errorf("after restart: %+v", a)
	}
}

func TestChecksumMismatchRefused(t *testing.T) {
	sum := testBinarySHA256(t)
	bad := strings.Repeat("0", 64)
	f := newFixture(t, []host.Config{
		{ID: example.ID, Enabled: true, Command: os.Args[0], Env: []string{"EIMSHUB_TEST_PLUGIN=example"}, SHA256: bad, Mount: "/bad"},
		{ID: "good", Enabled: false}, // the hub keeps going with the rest
	}, host.Options{}, nil)
	s := f.status(t, example.ID)
	if s.State != host.StateFailed || !strings.Contains(s.LastError, "does not match the configured sha256") {
		t.Errorf("status = %+v", s)
	}
	if !strings.Contains(f.logs.String(), "connector refused to start") {
		t.Errorf("no refusal log line:\n%s", f.logs.String())
	}
	if a := f.do(t, "GET", "/bad/ping", "", nil); a.Status != 404 {
		t.Errorf("refused connector's route: %+v", a)
	}

	// The right checksum runs the same binary as an external plugin.
	g := newFixture(t, []host.Config{{ID: example.ID, Enabled: true, Command: os.Args[0],
		Env: []string{"EIMSHUB_TEST_PLUGIN=example"}, SHA256: sum}}, host.Options{}, nil)
	if a := g.do(t, "GET", "/ping", "", nil); a.Status != 200 {
		t.Errorf("verified external plugin: %+v (%+v)", a, g.status(t, example.ID))
	}
}

func TestProtocolVersionMismatchRefused(t *testing.T) {
	f := newFixture(t, []host.Config{{ID: example.ID, Enabled: true}},
		host.Options{SelfCommand: selfCommand("v2"), MaxStartFailures: 2}, nil)
	s := f.status(t, example.ID)
	if s.State == host.StateRunning || !strings.Contains(s.LastError, "protocol version") {
		t.Errorf("status = %+v", s)
	}
	waitFor(t, "giving up", func() bool { return f.status(t, example.ID).State == host.StateFailed })
	// A built-in connector that never ran keeps its registered routes: the
	// caller gets the connector's own "unavailable" envelope, not a 404.
	if a := f.do(t, "GET", "/ping", "", nil); a.Status != 503 || !strings.Contains(a.Body, `"code":"unavailable"`) {
		t.Errorf("route of a refused plugin: %+v", a)
	}
}

func TestTimeoutAndInFlightBound(t *testing.T) {
	for _, iso := range []host.Isolation{host.Process, host.InProc} {
		t.Run(string(iso), func(t *testing.T) {
			f := newFixture(t, []host.Config{{ID: example.ID, Enabled: true, Isolation: iso,
				Timeout: 100 * time.Millisecond, MaxInFlight: 1}}, host.Options{}, nil)
			a := f.do(t, "GET", "/slow?ms=60000", "", nil)
			if a.Status != 503 || !strings.Contains(a.Body, "did not answer in time") {
				t.Errorf("timeout: %+v", a)
			}
			// Fill the single slot, then a second request is refused at once.
			done := make(chan answer, 1)
			go func() { done <- f.do(t, "GET", "/slow?ms=60000", "", nil) }()
			waitFor(t, "in flight", func() bool { return f.status(t, example.ID).InFlight == 1 })
			b := f.do(t, "GET", "/ping", "", nil)
			if b.Status != 503 || !strings.Contains(b.Body, "too many requests in flight") {
				t.Errorf("busy: %+v", b)
			}
			<-done
		})
	}
}

func TestAdminConnectors(t *testing.T) {
	f := newFixture(t, []host.Config{
		{ID: example.ID, Enabled: true, Mount: "/ex"},
		{ID: "absent", Enabled: false},
	}, host.Options{}, nil)
	if a := f.do(t, "GET", "/admin/connectors", "", nil); a.Status == 200 {
		t.Errorf("without a token: %+v", a)
	}
	a := f.do(t, "GET", "/admin/connectors", "", map[string]string{"Authorization": "Bearer " + f.tok})
	if a.Status != 200 {
		t.Fatalf("admin: %+v", a)
	}
	var out struct{ Connectors []host.ConnectorStatus }
	if err := json.Unmarshal([]byte(a.Body), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Connectors) != 2 {
		t.Fatalf("connectors = %+v", out.Connectors)
	}
	ex := out.Connectors[0]
	if ex.ID != example.ID || ex.Version != "1.0.0" || ex.State != host.StateRunning || ex.PID == 0 ||
		len(ex.Routes) != len(example.Info().Routes) || ex.Routes[0] != "GET /ex/ping" {
		t.Errorf("example = %+v", ex)
	}
	if out.Connectors[1].State != host.StateDisabled {
		t.Errorf("absent = %+v", out.Connectors[1])
	}
}

func TestPluginLogsFoldedIntoSlog(t *testing.T) {
	f := newFixture(t, []host.Config{{ID: example.ID, Enabled: true}}, host.Options{}, nil)
	if a := f.do(t, "GET", "/panic", "", nil); a.Status != 500 || !strings.Contains(a.Body, `"message":"internal error"`) {
		t.Errorf("panic: %+v", a)
	}
	// The plugin logged the panic through slog; the hub re-emits it tagged.
	waitFor(t, "the plugin's log line", func() bool {
		return strings.Contains(f.logs.String(), "connector panic") && strings.Contains(f.logs.String(), "connector=example")
	})
}

func TestConfigValidation(t *testing.T) {
	bad := [][]host.Config{
		{{ID: ""}},
		{{ID: "a"}, {ID: "a"}},
		{{ID: "a", Isolation: "thread"}},
		{{ID: "a", Command: "/bin/x"}},
		{{ID: "a", Command: "/bin/x", SHA256: "abc"}},
		{{ID: "a", Command: "/bin/x", SHA256: strings.Repeat("0", 64), Isolation: host.InProc}},
		{{ID: "a", Mount: "x"}},
		{{ID: "a", Config: json.RawMessage("{")}},
	}
	for _, cfgs := range bad {
		if _, err := host.New(cfgs, sdktest.NewMemHost(), host.Options{}); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("New(%+v) err = %v, want Invalid", cfgs, err)
		}
	}
}

func TestGracefulShutdownDrains(t *testing.T) {
	core := sdktest.NewMemHost()
	m, err := host.New([]host.Config{{ID: example.ID, Enabled: true}}, core,
		host.Options{SelfCommand: selfCommand("example"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	m.Start(context.Background())
	app := fiber.New()
	m.Mount(app, host.Auth{}, nil)
	done := make(chan int, 1)
	go func() {
		resp, err := app.Test(httptest.NewRequest("GET", "/slow?ms=300", nil), -1)
		if err != nil {
			done <- 0
			return
		}
		done <- resp.StatusCode
	}()
	waitFor(t, "the slow request to be in flight", func() bool { return m.Status()[0].InFlight > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := <-done; st != http.StatusOK {
		t.Errorf("drained request status = %d, want 200", st)
	}
	if s := m.Status()[0]; s.State != host.StateStopped || s.PID != 0 {
		t.Errorf("after Close: %+v", s)
	}
	resp, err := app.Test(httptest.NewRequest("GET", "/ping", nil), -1)
	if err != nil || resp.StatusCode != 503 {
		t.Errorf("after Close: %v %v", resp.StatusCode, err)
	}
}

// TestPluginStoppedBySignalIsNotAnError: SIGTERM reaching the plugin's
// process group (systemd, `kill -TERM -PGID`) stops the plugin; that is a
// normal stop, logged at INFO — go-plugin's own "plugin process exited"
// ERROR line included — and the supervisor still restarts the plugin when
// the hub itself keeps running.
func TestPluginStoppedBySignalIsNotAnError(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			f := newFixture(t, []host.Config{{ID: example.ID, Enabled: true}}, host.Options{}, nil)
			first := f.status(t, example.ID)
			if sig == syscall.SIGINT {
				// go-plugin's server ignores SIGINT (a terminal's Ctrl-C
				// reaches the whole group; the host stops the plugin), so
				// this stop is the host's own: nothing to log as an error.
				if err := syscall.Kill(first.PID, sig); err != nil {
					t.Fatal(err)
				}
				if a := f.do(t, "GET", "/ping", "", nil); a.Status != 200 {
					t.Fatalf("after SIGINT: %+v", a)
				}
			} else {
				if err := syscall.Kill(first.PID, sig); err != nil {
					t.Fatal(err)
				}
				waitFor(t, "the restart", func() bool {
					s := f.status(t, example.ID)
					return s.State == host.StateRunning && s.Restarts == 1
				})
				logs := f.logs.String()
				if !strings.Contains(logs, "stopped by a termination signal") {
					t.Errorf("no INFO line about the signal:\n%s", logs)
				}
			}
			for _, line := range strings.Split(f.logs.String(), "\n") {
				if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") {
					t.Errorf("a stop by %v logged %q", sig, line)
				}
			}
		})
	}
}
