package eoffice

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Routing inside the connector (spec §1.1, §3): the hub hands every
// request under <prefix>/api/ to the connector, which matches it against
// its own table, so that an unknown route answers the e-office 404
// envelope (before any token check), a known route with the wrong method
// 0x000013, and a POST reaches the route of X-HTTP-Method-Override or
// _method.

// Handler serves one e-office route. It returns the handler result that
// becomes the envelope's data (NoData: no data key; a *sdk.Response is
// sent as it is, e.g. a file download) or an error (*Error, or a Host
// API error mapped by FromHost).
type Handler func(ctx context.Context, c *Call) (any, error)

// Call is one request in progress: what every handler gets.
type Call struct {
	Req  *sdk.Request
	Host sdk.Host
	// In is the merged input (body ∪ query, §1.2); Files the uploaded
	// files of a multipart body.
	In    Input
	Files map[string]FileField
	// Params are the route's path parameters ("userId" → "WV00000001").
	Params map[string]string
	// P is the token's principal (the OA user the call acts as); nil on
	// the public routes (get-token, refresh-token).
	P *sdk.Principal
	// Svc is the app's own principal (its hub client's service user),
	// for system work such as allocating e-office ids on first sight.
	Svc *sdk.Principal
	// Token is the checked token (nil on public routes).
	Token *TokenInfo
	// Lang is the language of messages (§1.2).
	Lang  string
	Start time.Time
	Cfg   *Settings
	Log   *slog.Logger
	// Method is the effective method (after the override).
	Method string
}

// Route is one e-office route: Method, Path relative to /api/ with
// ":name" parameters ("user/:userId"), Public for the routes outside the
// token check.
type Route struct {
	Method  string
	Path    string
	Public  bool
	Handler Handler
	segs    []string
}

// Router is the connector's route table.
type Router struct{ routes []Route }

// Add registers a route that needs a token.
func (r *Router) Add(method, path string, h Handler) {
	r.routes = append(r.routes, Route{Method: method, Path: path, Handler: h, segs: strings.Split(path, "/")})
}

// AddPublic registers a route outside the token check (§1.3).
func (r *Router) AddPublic(method, path string, h Handler) {
	r.Add(method, path, h)
	r.routes[len(r.routes)-1].Public = true
}

// match finds the route of method and path (segments after /api/). It
// reports whether some route has this path (for the wrong-method error).
func (r *Router) match(method string, segs []string) (*Route, map[string]string, bool) {
	pathKnown := false
	// Literal segments win over parameters: "user/lists" before "user/:id".
	var best *Route
	var bestParams map[string]string
	bestLit := -1
	for i := range r.routes {
		rt := &r.routes[i]
		params, lit, ok := matchSegs(rt.segs, segs)
		if !ok {
			continue
		}
		pathKnown = true
		if rt.Method != method || lit <= bestLit {
			continue
		}
		best, bestParams, bestLit = rt, params, lit
	}
	return best, bestParams, pathKnown
}

func matchSegs(pattern, segs []string) (map[string]string, int, bool) {
	if len(pattern) != len(segs) {
		return nil, 0, false
	}
	var params map[string]string
	lit := 0
	for i, p := range pattern {
		if strings.HasPrefix(p, ":") {
			if segs[i] == "" {
				return nil, 0, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, 0, false
		}
		lit++
	}
	return params, lit, true
}

// apiPath returns the path after "/api/" (no trailing slash) and the URL
// of the 404 message (scheme://host/path without the query).
func apiPath(req *sdk.Request) (string, string) {
	p := req.Path
	rest := ""
	// The matched route is "<prefix>/api/*" below the hub's mount: what
	// follows its "/api" in the path is the e-office route.
	base := strings.TrimSuffix(req.Route, "/*")
	if i := strings.Index(p, base); base != "" && i >= 0 {
		rest = p[i+len(base):]
	} else if i := strings.Index(p, "/api/"); i >= 0 {
		rest = p[i+len("/api"):]
	}
	rest = strings.Trim(rest, "/")
	scheme := "http"
	if fp := req.Headers.Get("X-Forwarded-Proto"); fp == "https" {
		scheme = "https"
	}
	host := req.Headers.Get("Host")
	if host == "" {
		host = req.Headers.Get("X-Forwarded-Host")
	}
	if host == "" {
		host = "localhost"
	}
	return rest, scheme + "://" + host + strings.TrimRight(p, "/")
}

// effectiveMethod applies the method override of a POST (§1.2).
func effectiveMethod(req *sdk.Request, in Input) string {
	m := strings.ToUpper(req.Method)
	if m != http.MethodPost {
		return m
	}
	if o := strings.ToUpper(strings.TrimSpace(req.Headers.Get("X-HTTP-Method-Override"))); o != "" {
		return o
	}
	if o := strings.ToUpper(strings.TrimSpace(in.Str("_method"))); o != "" {
		return o
	}
	return m
}
