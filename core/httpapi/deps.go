// Package httpapi serves the native EIMS API (spec eims-native.md) on Fiber.
// It is the only core package that imports an HTTP framework. Handlers are
// thin: they decode, call a core service through a small interface declared
// here (consumer-owned), and return errors; one ErrorHandler renders every
// error as the spec's envelope (§1.5).
//
// File ownership: server.go/errors.go/middleware.go/metrics.go/health.go/
// swagger.go (the server), auth.go (token endpoint, bearer auth), entities.go
// (entity CRUD). Each area binds its routes with one bindXxxRoutes function.
package httpapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Checker reports whether a dependency (store, cache) is ready, for /readyz.
type Checker interface {
	Ping(ctx context.Context) error
}

// OptionalChecker is a Checker whose failure /readyz reports (its check is
// "degraded" and it is listed under "degraded") without answering 503: a
// dependency the hub can serve without, such as a connector marked optional.
type OptionalChecker interface {
	Checker
	Optional() bool
}

// Options are the server's settings (from config).
type Options struct {
	// BodyLimit is the maximum request body in bytes of every route but the
	// upload routes. Default: 10 MiB.
	BodyLimit int
	// MaxHeaderBytes caps the request line and headers together (fasthttp's
	// read buffer). Default: 16 KiB.
	MaxHeaderBytes int
	// RouteBodyLimit, when not nil, may give a path (as requested) its own
	// body limit in bytes (> 0), e.g. a connector route that takes
	// attachments; 0 means BodyLimit. It cannot exempt a route from a limit.
	RouteBodyLimit func(path string) int
	// EdgeError, when not nil, is offered every error the server renders
	// itself: a body refused by the edge (413, 415, a malformed compressed
	// body), a panic, an unmatched path or method (404, 405), and errors
	// raised below the middleware. err is an *errs.Error (a *fiber.Error or
	// a panic is translated; an internal error carries no caller-visible
	// text). It returns true when it wrote the answer (e.g. in the envelope
	// of the connector that owns the path, plugins/host Manager.EdgeError);
	// false leaves it to the native envelope (§1.5). Internal errors are
	// logged by the server either way.
	EdgeError func(c *fiber.Ctx, err error) bool
	// Swagger serves /swagger and /swagger/v1/swagger.json. Default: true.
	Swagger bool
	// MaxUpload is the largest file of an upload request (/api/v1/upload);
	// the request body may be 1 MiB larger (multipart framing, form fields,
	// several files). Default: 100 MiB.
	MaxUpload int
	// PathPrefixes are extra prefixes the API is also served under (e.g. "/jlauth").
	PathPrefixes []string
	// ShutdownTimeout bounds the graceful drain. Default: 10s.
	ShutdownTimeout time.Duration
	// Version is the hub's version, reported by /healthz. Empty: "dev".
	Version string
	// CORS configures cross-origin requests (§12.3). nil: DefaultCORS
	// (reflect any origin); an empty AllowedOrigins turns CORS off.
	CORS *CORS
	// DisableCapabilityURLs stops serving uploads without a token at
	// GET /upload/<tenant dir>/<random name> (§12.12, D-12.2); then every
	// file needs a token (§3.2). Default: false (served).
	DisableCapabilityURLs bool
}

// Deps is everything the native API needs; cmd/eimshub wires it.
type Deps struct {
	Logger   *slog.Logger
	Options  Options
	Ready    map[string]Checker // name → checker, e.g. "store"
	Identity Identity           // declared in auth.go
	Entities Entities           // declared in entities.go
	Limits   Limiter            // declared in ratelimit.go; nil = no rate limiting
	Workflow Workflow           // declared in workflow.go; nil = its routes answer 503
	Dataflow Dataflow           // declared in dataflow.go
	Files    Files              // declared in files.go
}
