package httpapi

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/core/errs"
)

// HeaderRequestID carries the request id in both directions.
const HeaderRequestID = "X-Request-Id"

// Locals keys set by the middleware.
const (
	requestIDLocal = "requestid"
	loggerLocal    = "logger"
)

type requestIDKey struct{}

// RequestID returns the request id stored in ctx by the server ("" when none),
// for handlers and services that log with the request's user context.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func requestIDOf(c *fiber.Ctx) string {
	id, _ := c.Locals(requestIDLocal).(string)
	return id
}

// maxRequestIDLen bounds an accepted incoming X-Request-Id.
const maxRequestIDLen = 128

// saneRequestID reports whether an incoming id may be reused: 1–128 chars of
// [A-Za-z0-9._:-] (no spaces or control characters that could forge log lines).
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch ch := id[i]; {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9',
			ch == '-', ch == '_', ch == '.', ch == ':':
		default:
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}

// requestID accepts a sane incoming X-Request-Id or generates one, echoes it
// on the response, and stores it (and the logger) in Locals and the user context.
func requestID(logger *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id := c.Get(HeaderRequestID)
		if !saneRequestID(id) {
			id = newRequestID()
		} else {
			id = strings.Clone(id) // fasthttp reuses the header buffer
		}
		c.Set(HeaderRequestID, id)
		c.Locals(requestIDLocal, id)
		c.Locals(loggerLocal, logger)
		c.SetUserContext(context.WithValue(c.UserContext(), requestIDKey{}, id))
		return c.Next()
	}
}

// panicError is a recovered handler panic; its value and stack are logged,
// never sent (it renders as the 500 envelope).
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// nextRecovering runs the rest of the chain, turning a panic into a *panicError.
func nextRecovering(c *fiber.Ctx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return c.Next()
}

// recoverer is the outermost safety net: a panic in the middleware before
// observe (which recovers the routes itself) still answers 500.
func recoverer(logger *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := nextRecovering(c); err != nil {
			return writeError(c, err, logger)
		}
		return nil
	}
}

// observe runs the routes, recovering panics, renders any error as the
// envelope (so the status is final here), then records the request's
// metrics and writes one structured log line.
func observe(logger *slog.Logger, m *httpMetrics) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		if err := nextRecovering(c); err != nil {
			if werr := writeError(c, err, logger); werr != nil {
				c.Status(fiber.StatusInternalServerError)
			}
		}
		elapsed := time.Since(start)
		status := c.Response().StatusCode()
		route := routeLabel(c, m.groups)
		method := methodLabel(c.Method())
		m.observe(route, method, status, elapsed)

		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		if !logger.Enabled(c.UserContext(), level) {
			return nil
		}
		logger.LogAttrs(c.UserContext(), level, "http request",
			slog.String("request_id", requestIDOf(c)),
			slog.String("method", method),
			// c.Path() views fasthttp's reused buffer: a handler that keeps
			// the record (async, buffered) must see this request's path.
			slog.String("path", strings.Clone(c.Path())),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("duration", elapsed),
			slog.Int("bytes", len(c.Response().Body())),
			slog.String("ip", c.IP()),
		)
		return nil
	}
}

// methodLabel maps a request method to a constant label: fiber's c.Method()
// is a zero-copy view of fasthttp's header buffer, which the next request on
// the connection overwrites, so it must never become a metric label (a
// label stored in a metric vector outlives the request). Unknown methods
// share one label, which also bounds the label's cardinality.
func methodLabel(m string) string {
	switch m {
	case fiber.MethodGet:
		return fiber.MethodGet
	case fiber.MethodHead:
		return fiber.MethodHead
	case fiber.MethodPost:
		return fiber.MethodPost
	case fiber.MethodPut:
		return fiber.MethodPut
	case fiber.MethodPatch:
		return fiber.MethodPatch
	case fiber.MethodDelete:
		return fiber.MethodDelete
	case fiber.MethodOptions:
		return fiber.MethodOptions
	case fiber.MethodConnect:
		return fiber.MethodConnect
	case fiber.MethodTrace:
		return fiber.MethodTrace
	}
	return "OTHER"
}

// routeLabel is the registered pattern that served c, for metrics: never the
// raw path, so label cardinality stays bounded by the route table. A request
// that matched no route (only the app-wide middleware) is "unmatched"; one
// stopped or left unmatched inside a group middleware (e.g. bearerAuth under
// /api/v1) is "<group prefix>/*". groups holds the group prefixes as
// registered (fiber does not expose whether a route is middleware).
func routeLabel(c *fiber.Ctx, groups map[string]bool) string {
	r := c.Route()
	switch {
	case len(r.Handlers) == 0: // fiber's fallback route, built from the raw path
		return "unmatched"
	case r.Path == "/" || r.Path == "":
		return "unmatched" // only app.Use matched (no root route is served)
	case groups[r.Path]:
		return strings.TrimSuffix(r.Path, "/") + "/*"
	}
	return r.Path
}

// requireJSONBody answers 415 (§1.2) when a POST/PUT/PATCH with a body does
// not declare application/json (or a +json type) in UTF-8. Paths in exempt
// (lower-case, relative to the group, e.g. "/upload") take other media types
// and are left to their handlers.
func requireJSONBody(prefix string, exempt ...string) fiber.Handler {
	prefix = strings.ToLower(strings.TrimSuffix(prefix, "/"))
	return func(c *fiber.Ctx) error {
		switch c.Method() {
		case fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch:
		default:
			return c.Next()
		}
		// Exempt paths first: their body (an upload's) is still a stream
		// that c.Body() would read into memory.
		rel := strings.TrimSuffix(strings.ToLower(c.Path()), "/")
		rel = strings.TrimPrefix(rel, prefix)
		for _, p := range exempt {
			if rel == p || strings.HasPrefix(rel, p+"/") {
				return c.Next()
			}
		}
		if len(c.Body()) == 0 {
			return c.Next()
		}
		mt, params, err := mime.ParseMediaType(string(c.Request().Header.ContentType()))
		if err == nil && (mt == fiber.MIMEApplicationJSON || strings.HasSuffix(mt, "+json")) {
			if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
				return c.Next()
			}
		}
		return errs.New(errs.UnsupportedMedia, "the request body must be application/json (UTF-8)")
	}
}

// uploadSlack is what an upload body may carry beyond MaxUpload:
// multipart framing and form fields.
const uploadSlack = 1 << 20

// bodyReadLocal marks (Locals) a request whose streamed body a handler read
// to its end; see limitBody.
const bodyReadLocal = "bodyread"

// uploadPaths are the native upload routes (/api/v1/upload and the
// original's /api/v1/Upload/Upload, at the root and under every
// Options.PathPrefixes entry), lower case, as isUploadPath compares them.
// Only these are exempt from the body limit: a connector's path that
// merely ends the same way (e-office's catch-all /eoffice10/server/public/
// api/v1/upload) is not an upload route of the hub and is bounded.
func uploadPaths(prefixes []string) map[string]bool {
	out := map[string]bool{}
	for _, p := range append([]string{""}, prefixes...) {
		p = strings.ToLower(normalizePrefix(p))
		out[p+"/api/v1/upload"] = true
		out[p+"/api/v1/upload/upload"] = true
	}
	return out
}

// isUploadPath reports whether path (as requested) is one of uploads.
func isUploadPath(uploads map[string]bool, path string) bool {
	p := strings.ToLower(path)
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
	}
	return uploads[p]
}

// limitBody bounds what a request may make the hub read. Bodies are
// streamed (fiber.Config.StreamRequestBody), so nothing beyond fasthttp's
// 8 KiB prefetch has been read when it runs:
//   - on every route but the upload routes, a body is read into memory up
//     to the route's limit (Options.RouteBodyLimit, else BodyLimit): a
//     declared Content-Length over it is refused (413) before a byte of the
//     body is read, a chunked body as soon as it passes the limit. A
//     compressed body (Content-Encoding gzip/deflate) is decompressed here
//     under the same limit, so a small bomb cannot expand in a handler;
//     other codings answer 415;
//   - the upload routes are left to their handler, which authenticates
//     first and streams the body to the blob store (uploadHandler).
//
// A request answered without its body read to the end has the connection
// closed after the answer: the unread bytes must not be parsed as the next
// request.
func limitBody(o Options) fiber.Handler {
	uploads := uploadPaths(o.PathPrefixes)
	return func(c *fiber.Ctx) error {
		if isUploadPath(uploads, c.Path()) {
			err := c.Next()
			if c.Request().BodyStream() != nil && c.Request().Header.ContentLength() != 0 && c.Locals(bodyReadLocal) == nil {
				c.Context().SetConnectionClose()
			}
			return err
		}
		limit := o.BodyLimit
		if o.RouteBodyLimit != nil {
			if n := o.RouteBodyLimit(c.Path()); n > 0 {
				limit = n
			}
		}
		if err := bufferBody(c, limit); err != nil {
			c.Context().SetConnectionClose()
			return err
		}
		return c.Next()
	}
}

// bufferBody reads c's streamed body (at most limit bytes, decompressed)
// into memory, so handlers see it with c.Body().
func bufferBody(c *fiber.Ctx, limit int) error {
	req := c.Request()
	tooLarge := func() error { return errs.Newf(errs.TooLarge, "the request body exceeds %d bytes", limit) }
	if req.Header.ContentLength() > limit {
		return tooLarge()
	}
	stream := req.BodyStream()
	if stream == nil {
		if len(req.Body()) > limit { // a body set in memory (tests)
			return tooLarge()
		}
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(stream, int64(limit)+1))
	if err != nil {
		return errs.Wrap(errs.Invalid, err, "the request body could not be read")
	}
	if len(raw) > limit {
		return tooLarge()
	}
	enc := strings.ToLower(strings.TrimSpace(string(req.Header.Peek(fiber.HeaderContentEncoding))))
	var zr io.Reader
	switch enc {
	case "", "identity":
	case "gzip", "x-gzip":
		gz, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return errs.Wrap(errs.Invalid, err, "the gzip request body is malformed")
		}
		zr = gz
	case "deflate":
		zr = flate.NewReader(bytes.NewReader(raw))
	default:
		return errs.Newf(errs.UnsupportedMedia, "Content-Encoding %q is not supported", enc)
	}
	if zr != nil {
		if raw, err = io.ReadAll(io.LimitReader(zr, int64(limit)+1)); err != nil {
			return errs.Wrap(errs.Invalid, err, "the compressed request body is malformed")
		}
		if len(raw) > limit {
			return tooLarge()
		}
		req.Header.Del(fiber.HeaderContentEncoding)
	}
	req.SetBodyRaw(raw) // also ends the stream
	req.Header.SetContentLength(len(raw))
	return nil
}
