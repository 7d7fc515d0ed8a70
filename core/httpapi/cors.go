package httpapi

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// CORS configures cross-origin requests (spec eims-native.md §12.3): the
// EIMSNext web client runs on another origin than the hub and needs the
// CORS headers on every answer, errors included.
type CORS struct {
	// AllowedOrigins lists the origins ("https://admin.example.com") whose
	// requests get CORS headers; "*" reflects any origin, as the original
	// server does. Empty: no CORS headers at all (browsers then refuse
	// cross-origin calls). Origins compare case-insensitively.
	AllowedOrigins []string
	// AllowCredentials sends Access-Control-Allow-Credentials: true to the
	// origins listed explicitly (never to one admitted by "*").
	AllowCredentials bool
}

// DefaultCORS reflects any origin without credentials (the original's
// behaviour; §12.3).
var DefaultCORS = CORS{AllowedOrigins: []string{"*"}}

// CORS response header values (§12.3).
const (
	corsAllowMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
	corsAllowHeaders = "Authorization, Content-Type, Accept, Accept-Language, X-Request-Id"
	corsMaxAge       = "600"
	// maxCORSRequestHeaders bounds a reflected Access-Control-Request-Headers.
	maxCORSRequestHeaders = 1024
)

// corsPolicy is a compiled CORS.
type corsPolicy struct {
	any   bool
	exact map[string]bool // lower-case origin → listed
	creds bool
}

func newCORSPolicy(c *CORS) *corsPolicy {
	if c == nil {
		c = &DefaultCORS
	}
	p := &corsPolicy{exact: map[string]bool{}, creds: c.AllowCredentials}
	for _, o := range c.AllowedOrigins {
		o = strings.TrimSuffix(strings.TrimSpace(o), "/")
		switch {
		case o == "*":
			p.any = true
		case o != "":
			p.exact[strings.ToLower(o)] = true
		}
	}
	if !p.any && len(p.exact) == 0 {
		return nil
	}
	return p
}

// allowed reports whether origin gets CORS headers, and whether it is
// listed explicitly (credentials are only ever sent to those).
func (p *corsPolicy) allowed(origin string) (ok, listed bool) {
	if p == nil || origin == "" || !saneHeaderValue(origin) {
		return false, false
	}
	if p.exact[strings.ToLower(origin)] {
		return true, true
	}
	return p.any, false
}

// apply sets the headers every answer to an allowed origin carries; it
// reports whether the origin is allowed.
func (p *corsPolicy) apply(c *fiber.Ctx) bool {
	origin := c.Get(fiber.HeaderOrigin)
	ok, listed := p.allowed(origin)
	if !ok {
		return false
	}
	h := &c.Response().Header
	h.Set(fiber.HeaderAccessControlAllowOrigin, origin)
	addVary(c, fiber.HeaderOrigin)
	if listed && p.creds {
		h.Set(fiber.HeaderAccessControlAllowCredentials, "true")
	}
	return true
}

// cors is the outermost API middleware (before authentication, rate
// limiting and body checks, §12.3): a preflight (OPTIONS with Origin and
// Access-Control-Request-Method) on any path answers 204 at once, without
// a token and uncounted by the limiter; every other request from an
// allowed origin gets Access-Control-Allow-Origin and Vary: Origin on its
// answer, whatever the status (the error renderer keeps the headers). nil
// policy: a no-op.
func cors(p *corsPolicy) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if p == nil {
			return c.Next()
		}
		// Answers differ by Origin whenever CORS is on: a shared cache must
		// not hand a response without the grant to a cross-origin caller.
		addVary(c, fiber.HeaderOrigin)
		allowed := p.apply(c)
		if c.Method() != fiber.MethodOptions || c.Get(fiber.HeaderAccessControlRequestMethod) == "" {
			return c.Next()
		}
		if !allowed {
			// A preflight from a refused origin gets no CORS headers: the
			// browser then blocks the real request.
			return c.SendStatus(fiber.StatusNoContent)
		}
		h := &c.Response().Header
		h.Set(fiber.HeaderAccessControlAllowMethods, corsAllowMethods)
		allow := corsAllowHeaders
		if req := c.Get(fiber.HeaderAccessControlRequestHeaders); req != "" && len(req) <= maxCORSRequestHeaders && headerList(req) {
			allow = req
		}
		h.Set(fiber.HeaderAccessControlAllowHeaders, allow)
		h.Set(fiber.HeaderAccessControlMaxAge, corsMaxAge)
		addVary(c, fiber.HeaderAccessControlRequestMethod)
		addVary(c, fiber.HeaderAccessControlRequestHeaders)
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// addVary appends name to the response's Vary header unless present.
func addVary(c *fiber.Ctx, name string) {
	h := &c.Response().Header
	cur := string(h.Peek(fiber.HeaderVary))
	for _, v := range strings.Split(cur, ",") {
		if strings.EqualFold(strings.TrimSpace(v), name) {
			return
		}
	}
	if cur == "" {
		h.Set(fiber.HeaderVary, name)
		return
	}
	h.Set(fiber.HeaderVary, cur+", "+name)
}

// headerList reports whether s is a comma-separated list of header names
// (RFC 9110 tokens), safe to reflect.
func headerList(s string) bool {
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		for i := 0; i < len(name); i++ {
			if !isTokenChar(name[i]) {
				return false
			}
		}
	}
	return true
}

func isTokenChar(ch byte) bool {
	switch {
	case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", ch) >= 0
}

// saneHeaderValue reports whether an Origin may be reflected: printable
// ASCII without spaces, bounded.
func saneHeaderValue(s string) bool {
	if len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
