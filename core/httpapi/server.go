package httpapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/eimshub/eimshub/core/jsonenc"
)

// Defaults for Options (spec eims-native.md §1.6).
const (
	DefaultBodyLimit       = 10 << 20
	DefaultMaxUpload       = 100 << 20
	DefaultShutdownTimeout = 10 * time.Second
	readTimeout            = 60 * time.Second
	idleTimeout            = 120 * time.Second
)

// odataBinder binds the OData aliases (§1.1: GET /odata/v1/{EntitySet} and
// /odata/v1/{EntitySet}('{id}')) under a router already behind bearerAuth.
// The entity code sets it in an init (odataBinder = BindODataRoutes); while
// it is nil, /odata/v1 is not served.
var odataBinder func(fiber.Router, *Deps)

// New builds the native API app (§1): service routes, the identity family,
// the entity API behind bearer auth, and the same API again under every
// Options.PathPrefixes entry. Routing is case-insensitive and ignores a
// trailing slash; every error answers with the §1.5 envelope.
func New(d Deps) *fiber.App {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Options.BodyLimit <= 0 {
		d.Options.BodyLimit = DefaultBodyLimit
	}
	if d.Options.ShutdownTimeout <= 0 {
		d.Options.ShutdownTimeout = DefaultShutdownTimeout
	}
	if d.Options.MaxUpload <= 0 {
		d.Options.MaxUpload = DefaultMaxUpload
	}
	dp := &d
	corsP := newCORSPolicy(d.Options.CORS)
	onError := errorHandler(dp)
	// Bodies are streamed (fasthttp reads at most 8 KiB before a handler
	// runs): limitBody buffers every body but an upload's, refusing one over
	// its limit before reading it, and the upload handler streams its body
	// to the blob store after authentication. Multipart forms are never
	// pre-parsed (that would read an unauthenticated upload to disk).
	app := fiber.New(fiber.Config{
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			corsP.apply(c) // errors raised below the middleware (fasthttp level)
			return onError(c, err)
		},
		BodyLimit:                    d.Options.BodyLimit,
		ReadBufferSize:               cmp.Or(d.Options.MaxHeaderBytes, 16<<10),
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		CaseSensitive:                false,
		StrictRouting:                false,
		DisableStartupMessage:        true,
		JSONEncoder:                  marshalJSON,
		ReadTimeout:                  readTimeout,
		IdleTimeout:                  idleTimeout,
	})
	m := newHTTPMetrics()

	// Middleware order: recover (safety net) → request id → observe (logs,
	// metrics, panic recovery of the routes, error rendering) → CORS
	// (preflights end here; headers set before any check can fail, §12.3)
	// → body limits → routes.
	app.Use(trackConns(app), recoverer(d.Logger), requestID(d.Logger), observe(d.Logger, m), cors(corsP), limitBody(d.Options))

	app.Get("/healthz", healthzHandler(d.Options.Version))
	app.Get("/readyz", readinessHandler(d.Ready, readyTimeout, d.Logger))
	app.Get("/metrics", m.handler())
	if d.Options.Swagger {
		bindSwagger(app, d.Options.PathPrefixes)
		// GET / is where a browser lands first: the API's documentation.
		app.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/swagger", fiber.StatusFound) })
	}
	bindAPI(app, dp, "", m)
	for _, p := range d.Options.PathPrefixes {
		p = normalizePrefix(p)
		if p == "" {
			continue
		}
		bindAPI(app.Group(p), dp, p, m)
	}
	if d.Options.EdgeError != nil {
		edgeHooks.Store(app, d.Options.EdgeError)
	}
	return app
}

// bindAPI binds the client-facing API (§1.1) under r, whose path prefix is prefix.
func bindAPI(r fiber.Router, d *Deps, prefix string, m *httpMetrics) {
	r.Get("/health", livenessHandler)
	r.Get("/api/v1/ping", pingHandler) // before the group: anonymous (§1.3)
	bindAuthRoutes(r, d)
	bindPublicFileRoutes(r, d.Files) // GET /files/{id}/{fileName}: public files, no token
	if !d.Options.DisableCapabilityURLs {
		bindCapabilityRoutes(r, d.Files) // GET /upload/{dir}/{name}: uploads by savePath, no token (§12.12)
	}
	api := r.Group("/api/v1", bearerAuth(d), RateLimitByPrincipal(d), requireJSONBody(prefix+"/api/v1", "/upload"))
	m.groups[prefix+"/api/v1"] = true
	bindWorkflowRoutes(api, d.Workflow)
	bindDataflowRoutes(api, d.Dataflow)
	bindFileRoutes(api, d.Files)
	bindSystemRoutes(api, d) // /system/currentuser, /system/AppMenuPerms (§12.4)
	bindWfDefinitionRoutes(api, d)
	bindEntityRoutes(api, d) // last: /:entity would catch the families above
	if odataBinder != nil {
		m.groups[prefix+"/odata/v1"] = true
		odataBinder(r.Group("/odata/v1", bearerAuth(d), RateLimitByPrincipal(d)), d)
	}
}

// normalizePrefix turns "jlauth/" into "/jlauth"; "" and "/" give "".
func normalizePrefix(p string) string {
	p = strings.Trim(strings.TrimSpace(p), "/")
	if p == "" {
		return ""
	}
	return "/" + p
}

// marshalJSON is the app's JSON encoder: like json.Marshal, but HTML
// characters are not escaped (non-ASCII never is, the "relaxed encoder" of
// the native API) and the document ends in a newline, so a JSON answer
// printed by curl leaves the shell prompt on its own line. core/jsonenc
// writes it (the same bytes as encoding/json, without reflection for the
// maps and slices of entity answers).
func marshalJSON(v any) ([]byte, error) { return jsonenc.Marshal(v) }

// Serve listens on listen and serves app until ctx ends, then drains
// in-flight requests for at most timeout (DefaultShutdownTimeout when ≤ 0).
// When ready is not nil it receives the bound address once connections are
// accepted. It returns nil after a clean shutdown, the listen/serve error
// otherwise, or an error when the drain timed out.
func Serve(ctx context.Context, app *fiber.App, listen string, timeout time.Duration, logger *slog.Logger, ready chan<- string) error {
	if logger == nil {
		logger = slog.Default()
	}
	if timeout <= 0 {
		timeout = DefaultShutdownTimeout
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("httpapi: listen %s: %w", listen, err)
	}
	tracker, _ := trackers.Load(app)
	conns, _ := tracker.(*connTracker)
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	addr := ln.Addr().String()
	logger.Info("http server listening", "addr", addr)
	if ready != nil {
		select {
		case ready <- addr:
		case <-ctx.Done():
		}
	}
	select {
	case err := <-served:
		if err != nil {
			return fmt.Errorf("httpapi: serve: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	logger.Info("http server draining", "timeout", timeout)
	shut := make(chan error, 1)
	go func() { shut <- app.ShutdownWithTimeout(timeout) }()
	// Connections without a request in a handler have nothing to drain:
	// close them now, and again while the drain runs (one accepted just
	// before the listener closed, one whose request just finished).
	tick := time.NewTicker(100 * time.Millisecond)
	for done := false; !done; {
		conns.closeWaiting()
		select {
		case err = <-shut:
			done = true
		case <-tick.C:
		}
	}
	tick.Stop()
	// Close the listener too, in case the server had not registered it yet
	// (its Serve then ends on the closed listener); a second close is harmless.
	_ = ln.Close()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("httpapi: drain did not finish within %s: %w", timeout, err)
		}
		return fmt.Errorf("httpapi: shutdown: %w", err)
	}
	if err := <-served; err != nil {
		return fmt.Errorf("httpapi: serve: %w", err)
	}
	logger.Info("http server stopped")
	return nil
}

// connTracker knows which of a server's connections have a request in a
// handler (busy) and which are waiting: for their first request head (a
// new connection is "active" in fasthttp while it waits), between
// keep-alive requests, or still receiving a request that no handler has
// seen. On shutdown the waiting ones have nothing to drain and are closed
// at once; fasthttp alone leaves a silent new connection open until its
// read timeout, holding the drain for the whole shutdown timeout.
type connTracker struct {
	mu    sync.Mutex
	conns map[net.Conn]bool // conn → busy
}

// trackers maps an app built by New to its tracker, for Serve.
var trackers sync.Map // *fiber.App → *connTracker

// trackConns installs the tracker's hook on app's server (chaining any
// hook already set) and returns the middleware that marks a connection busy.
func trackConns(app *fiber.App) fiber.Handler {
	t := &connTracker{conns: map[net.Conn]bool{}}
	srv := app.Server()
	prev := srv.ConnState
	srv.ConnState = func(c net.Conn, st fasthttp.ConnState) {
		t.mu.Lock()
		switch st {
		case fasthttp.StateNew, fasthttp.StateIdle:
			t.conns[c] = false
		case fasthttp.StateActive:
			if _, ok := t.conns[c]; !ok {
				t.conns[c] = false
			}
		default: // closed, hijacked
			delete(t.conns, c)
		}
		t.mu.Unlock()
		if prev != nil {
			prev(c, st)
		}
	}
	trackers.Store(app, t)
	return func(c *fiber.Ctx) error {
		if conn := c.Context().Conn(); conn != nil {
			t.mu.Lock()
			if _, ok := t.conns[conn]; ok {
				t.conns[conn] = true
			}
			t.mu.Unlock()
		}
		return c.Next()
	}
}

// closeWaiting closes every connection without a request in a handler.
func (t *connTracker) closeWaiting() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for c, busy := range t.conns {
		if !busy {
			_ = c.Close()
			delete(t.conns, c)
		}
	}
}
