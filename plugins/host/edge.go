package host

import (
	"regexp"
	"strings"
	"sync"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/gofiber/fiber/v2"
)

// The HTTP server answers some requests before routing, in its own
// (native) envelope unless told otherwise: a body over the limit, an
// unsupported Content-Encoding, a malformed compressed body, a panic, an
// unmatched path or method. EdgeError tells it otherwise for the paths the
// connectors own, so a dialect caller always gets its dialect's envelope.

// edgeTable finds the connector route that owns a request path, as Fiber's
// router would pick it: the first route registered for the method whose
// pattern matches (native routes registered earlier win), then a route of
// another method (Fiber's 405), then the connectors' own mount prefixes.
type edgeTable struct {
	app *fiber.App // set by Mount; nil: nothing mounted
	// owned are the routes Mount added, by "METHOD path" as registered.
	owned map[string]*edgeOwner
	// mounts are the enabled connectors with a non-root mount point.
	mounts []edgeMount

	once   sync.Once
	byVerb map[string][]edgeRoute // every route of the app, by method, in registration order
	all    []edgeRoute            // the same, all methods
}

// edgeOwner is a connector route: whose envelope and status rules apply.
type edgeOwner struct {
	c *conn
	r sdk.Route
}

type edgeMount struct {
	prefix string // lower case, no trailing slash
	owner  *edgeOwner
}

type edgeRoute struct {
	p     pattern
	owner *edgeOwner // nil: a route of the hub's own
}

// EdgeError renders err (an *errs.Error) in the envelope of the connector
// that owns fc's path and reports whether it did. The HTTP server offers
// it every error it renders itself (httpapi.Options.EdgeError); the route
// that served the request decides when there was one, else the path and
// method as the router would have matched them. Paths no enabled
// connector owns are left to the server (false). Call it after Mount.
func (m *Manager) EdgeError(fc *fiber.Ctx, err error) bool {
	t := &m.edge
	if t.app == nil {
		return false
	}
	var o *edgeOwner
	if r := fc.Route(); len(r.Handlers) > 0 && r.Path != "/" && r.Path != "" {
		// A route ran (a panic in a connector route's host handlers, or an
		// error from a native route or group): it decides.
		o = t.owned[r.Method+" "+r.Path]
	} else {
		// Only the app-wide middleware ran: the edge refused the request
		// before routing, or no route matched.
		t.once.Do(t.build)
		o = t.lookup(fc.Method(), fc.Path())
	}
	if o == nil {
		return false
	}
	rt := o.r
	if errs.CodeOf(err) == errs.MethodNotAllowed {
		// The router's 405 (the path is routed for other methods) is
		// transport-level: its status stays, in the dialect's body.
		rt.ErrorStatusByCode = true
	}
	_ = o.c.renderError(fc, rt, err)
	return true
}

// build compiles the app's routes (all registered by the first edge error).
func (t *edgeTable) build() {
	t.byVerb = map[string][]edgeRoute{}
	for _, r := range t.app.GetRoutes(true) { // without middleware (Use)
		er := edgeRoute{p: compilePattern(r.Path), owner: t.owned[r.Method+" "+r.Path]}
		t.byVerb[r.Method] = append(t.byVerb[r.Method], er)
		t.all = append(t.all, er)
	}
}

// lookup returns the connector route owning method and path, or nil.
func (t *edgeTable) lookup(method, path string) *edgeOwner {
	path = normalizePath(path)
	for _, r := range t.byVerb[method] {
		if r.p.match(path) {
			return r.owner // the route Fiber dispatches to: a connector's or the hub's
		}
	}
	// No route of the method: Fiber answers 405 when another method's
	// route matches, else 404. A connector's route makes it the
	// connector's, unless the hub also has one there.
	var found *edgeOwner
	for _, r := range t.all {
		if r.p.match(path) {
			if r.owner == nil {
				return nil
			}
			if found == nil {
				found = r.owner
			}
		}
	}
	if found != nil {
		return found
	}
	for _, mt := range t.mounts {
		if path == mt.prefix || strings.HasPrefix(path, mt.prefix+"/") {
			return mt.owner
		}
	}
	return nil
}

// normalizePath is path as the hub's router compares it: case-insensitive
// (fiber.Config.CaseSensitive false) and without trailing slashes
// (StrictRouting false).
func normalizePath(p string) string {
	p = strings.ToLower(p)
	if t := strings.TrimRight(p, "/"); t != "" {
		return t
	}
	return "/"
}

// pattern is a compiled Fiber route path.
type pattern struct {
	exact string         // the normalized path when it has no parameters
	re    *regexp.Regexp // else
}

func (p pattern) match(path string) bool {
	if p.re == nil {
		return path == p.exact
	}
	return p.re.MatchString(path)
}

// compilePattern compiles a Fiber route path: literal text (matched
// case-insensitively), ":name" (one segment part up to the next "/"),
// ":name?" (optional, with its leading slash), "*" (anything, empty
// included; "/*" at the end also matches without the slash), "+" (at
// least one character). Parameter constraints ("<int>") are not checked:
// they only narrow a match, so a connector route may be found where Fiber
// would answer 404, which still is the connector's path.
func compilePattern(path string) pattern {
	path = normalizePath(path)
	if !strings.ContainsAny(path, ":*+") {
		return pattern{exact: path}
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(path); {
		ch := path[i]
		switch {
		case ch == '\\' && i+1 < len(path): // an escaped special character
			b.WriteString(regexp.QuoteMeta(path[i+1 : i+2]))
			i += 2
			continue
		case ch == '/' && i+1 < len(path) && path[i+1] == '*' && i+2 == len(path):
			b.WriteString("(?:/.*)?")
			i += 2
			continue
		case ch == '*':
			b.WriteString(".*")
		case ch == '+':
			b.WriteString(".+")
		case ch == ':':
			j := i + 1
			for j < len(path) && (isNameChar(path[j])) {
				j++
			}
			if j < len(path) && path[j] == '<' { // constraint: skipped
				if k := strings.IndexByte(path[j:], '>'); k >= 0 {
					j += k + 1
				}
			}
			optional := j < len(path) && path[j] == '?'
			if optional {
				j++
			}
			body := "[^/]+"
			if optional {
				// "/:name?" matches with or without its segment.
				if s := b.String(); strings.HasSuffix(s, "/") {
					b.Reset()
					b.WriteString(strings.TrimSuffix(s, "/"))
					body = "(?:/[^/]+)?"
				} else {
					body = "[^/]*"
				}
			}
			b.WriteString(body)
			i = j
			continue
		default:
			b.WriteString(regexp.QuoteMeta(path[i : i+1]))
		}
		i++
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil { // cannot happen: every literal is quoted
		return pattern{exact: path}
	}
	return pattern{re: re}
}

func isNameChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
