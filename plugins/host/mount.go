package host

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/gofiber/fiber/v2"
)

// PrincipalLocal is the fiber.Ctx Locals key under which connector routes
// store the authenticated *principal.Principal (AuthBearer and
// AuthClientSecret routes), so the limiter handler can key by the verified
// client. It is also in c.UserContext() (principal.From).
const PrincipalLocal = "principal"

// routeLocal is the fiber.Ctx Locals key of the matched connector route.
const routeLocal = "eimshub.connectorRoute"

// RouteInfo describes the connector route a request matched.
type RouteInfo struct {
	// Connector is the connector's id.
	Connector string
	// Auth is the route's declared scheme.
	Auth sdk.AuthScheme
}

// RouteOf returns the connector route fc matched (for limiter key
// functions); false outside connector routes.
func RouteOf(fc *fiber.Ctx) (RouteInfo, bool) {
	ri, ok := fc.Locals(routeLocal).(RouteInfo)
	return ri, ok
}

// Mount registers every enabled connector's routes on app, each under its
// mount point. Per request, in this order, all before the plugin hop:
//  1. the route's declared scheme is enforced (auth): AuthBearer with
//     auth.Bearer, AuthClientSecret with auth.Clients (cached successes,
//     failures throttled per source IP by auth.Failures); a refusal is
//     rendered in the connector's envelope and never reaches the plugin;
//  2. limit (may be nil) admits the request (c.Next()) or returns an error
//     (rendered in the connector's envelope; RateLimited sets Retry-After)
//     or writes its own answer. RouteOf and the principal in the user
//     context tell it whom to count: the verified client, else the IP;
//  3. the request goes to the connector: one round trip out of process.
//
// Disabled and absent connectors have no routes (404); a built-in connector
// whose first start failed mounts the routes it registered and answers its
// dialect's "unavailable" error until a restart succeeds. Call
// Mount once, after Start. A route already registered by an earlier
// connector is skipped with an error log. Mount also records which paths
// each connector owns, for EdgeError (edge.go).
func (m *Manager) Mount(app *fiber.App, auth Auth, limit fiber.Handler) {
	m.auth = auth
	m.creds = newCredCache(auth.CacheTTL)
	seen := map[string]string{}
	// The routes already registered (the hub's own) win over a connector's
	// at the same method and path: Fiber dispatches to the first.
	hub := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		hub[r.Method+" "+r.Path] = true
	}
	m.edge.app, m.edge.owned = app, map[string]*edgeOwner{}
	for _, c := range m.conns {
		c.mu.RLock()
		routes, enabled := c.info.Routes, c.cfg.Enabled
		c.mu.RUnlock()
		if !enabled {
			continue
		}
		if c.cfg.Mount != "" {
			m.edge.mounts = append(m.edge.mounts, edgeMount{prefix: normalizePath(c.cfg.Mount), owner: &edgeOwner{c: c}})
		}
		for _, r := range routes {
			path := c.cfg.Mount + r.Path
			key := r.Method + " " + path
			if other, dup := seen[key]; dup {
				m.opts.Logger.Error("connector route already mounted; skipped", "connector", c.cfg.ID, "route", key, "owner", other)
				continue
			}
			seen[key] = c.cfg.ID
			handlers := []fiber.Handler{c.authHandler(r)}
			if limit != nil {
				handlers = append(handlers, c.limitHandler(r, limit))
			}
			handlers = append(handlers, c.proxyHandler(r))
			app.Add(r.Method, path, handlers...)
			if !hub[key] {
				m.edge.owned[key] = &edgeOwner{c: c, r: r}
			}
		}
	}
}

func (c *conn) authHandler(r sdk.Route) fiber.Handler {
	ri := RouteInfo{Connector: c.cfg.ID, Auth: r.Auth}
	return func(fc *fiber.Ctx) error {
		fc.Locals(routeLocal, ri)
		var (
			p   *principal.Principal
			err error
		)
		switch r.Auth {
		case sdk.AuthBearer:
			if c.m.auth.Bearer == nil {
				return c.writeError(fc, r, errs.New(errs.Unauthorized, "authentication is not configured"))
			}
			p, err = c.m.auth.Bearer(fc)
			if err == nil && p == nil {
				err = errs.New(errs.Unauthorized, "missing or invalid bearer token")
			}
		case sdk.AuthClientSecret:
			p, err = c.verifyClient(fc, r)
		default:
			return fc.Next()
		}
		if err != nil {
			return c.writeError(fc, r, err)
		}
		fc.Locals(PrincipalLocal, p)
		fc.SetUserContext(principal.With(fc.UserContext(), p))
		return fc.Next()
	}
}

func (c *conn) limitHandler(r sdk.Route, limit fiber.Handler) fiber.Handler {
	return func(fc *fiber.Ctx) error {
		if err := limit(fc); err != nil {
			return c.writeError(fc, r, err)
		}
		return nil
	}
}

func (c *conn) proxyHandler(r sdk.Route) fiber.Handler {
	return func(fc *fiber.Ctx) error {
		start := time.Now()
		err := c.proxy(fc, r)
		if err != nil {
			_ = c.writeError(fc, r, err)
		}
		if obs := c.m.opts.OnRequest; obs != nil {
			obs(c.cfg.ID, r.Method+" "+r.Path, fc.Response().StatusCode(), time.Since(start))
		}
		return nil
	}
}

// proxy sends one request to the connector and writes its response.
func (c *conn) proxy(fc *fiber.Ctx, r sdk.Route) error {
	c.mu.RLock()
	closing := c.closing
	if !closing {
		c.inflight.Add(1)
	}
	c.mu.RUnlock()
	if closing {
		return errs.New(errs.Unavailable, "the hub is shutting down").WithReason(sdk.ReasonUnavailable)
	}
	defer c.inflight.Done()
	select {
	case c.sem <- struct{}{}:
		defer func() { <-c.sem }()
	default:
		return errs.New(errs.Unavailable, "too many requests in flight for this connector").WithReason(sdk.ReasonBusy)
	}
	be := c.backend()
	if be == nil {
		return errs.New(errs.Unavailable, "the connector is not available").WithReason(sdk.ReasonUnavailable)
	}
	ctx, cancel := context.WithTimeout(fc.UserContext(), c.cfg.Timeout)
	defer cancel()
	req := buildRequest(fc, r)
	req.StoreVersion = c.m.storeVersion(ctx)
	resp, err := be.Handle(ctx, req)
	if err != nil && errs.CodeOf(err) == errs.Unavailable && pastDeadline(ctx) {
		// The deadline (as the plugin saw it, which gRPC's timeout header
		// can round a little early) passed while the connector gave up: the
		// caller hears about the timeout, not the connector's reaction to it.
		err = sdk.TransportError(context.DeadlineExceeded)
	}
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) && e.Reason == sdk.ReasonUnavailable {
			c.kickSupervisor()
		}
		return err
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	fc.Status(status)
	for k, vs := range resp.Headers {
		for i, v := range vs {
			if i == 0 {
				fc.Set(k, v)
			} else {
				fc.Append(k, v)
			}
		}
	}
	return fc.Send(resp.Body)
}

// buildRequest copies what the connector needs out of fasthttp's reused
// buffers: the request outlives the handler when the connector (in
// process) is still working after a timeout, while fasthttp hands the same
// buffers to the next request. Every string and byte slice here is owned.
// On AuthClientSecret routes the secret's headers and query parameters are
// left out: the host verified it, the connector has the principal.
func buildRequest(fc *fiber.Ctx, r sdk.Route) *sdk.Request {
	req := &sdk.Request{
		Method:     strings.Clone(fc.Method()),
		Path:       string(fc.Request().URI().Path()),
		Route:      r.Path,
		PathParams: map[string]string{},
		Query:      url.Values{},
		Headers:    http.Header{},
		Body:       append([]byte(nil), fc.Body()...),
		ClientIP:   strings.Clone(fc.IP()),
		RequestID:  strings.Clone(requestID(fc)),
	}
	for k, v := range fc.AllParams() {
		req.PathParams[strings.Clone(k)] = strings.Clone(v)
	}
	var skipHeader, skipQuery []string
	if r.Auth == sdk.AuthClientSecret {
		skipHeader, skipQuery = r.Credentials.SecretHeaders, r.Credentials.SecretQuery
	}
	fc.Request().URI().QueryArgs().VisitAll(func(k, v []byte) {
		if !foldContains(skipQuery, k, false) {
			req.Query.Add(string(k), string(v))
		}
	})
	fc.Request().Header.VisitAll(func(k, v []byte) {
		if !foldContains(skipHeader, k, true) {
			req.Headers.Add(string(k), string(v))
		}
	})
	if p, ok := fc.Locals(PrincipalLocal).(*principal.Principal); ok && p != nil {
		req.Principal = ToSDKPrincipal(p)
	}
	return req
}

// foldContains reports whether names holds k (case-insensitively when fold:
// header names).
func foldContains(names []string, k []byte, fold bool) bool {
	for _, n := range names {
		if (fold && strings.EqualFold(n, string(k))) || (!fold && n == string(k)) {
			return true
		}
	}
	return false
}

func requestID(fc *fiber.Ctx) string {
	if id, ok := fc.Locals("requestid").(string); ok && id != "" {
		return id
	}
	return fc.Get(fiber.HeaderXRequestID)
}

// writeError logs a failed connector request and renders err in the
// connector's envelope.
func (c *conn) writeError(fc *fiber.Ctx, rt sdk.Route, err error) error {
	e := errs.As(err)
	if e.Code == errs.Internal || e.Reason == sdk.ReasonUnavailable || e.Reason == sdk.ReasonTimeout {
		c.m.opts.Logger.Warn("connector request failed", "connector", c.cfg.ID, "path", fc.Path(), "error", err)
	}
	return c.renderError(fc, rt, err)
}

// renderError writes err in the connector's envelope: the status the
// envelope fixes, or by code on ErrorStatusByCode routes; a rate limit's
// Retry-After and the configured rateLimitStatus.
func (c *conn) renderError(fc *fiber.Ctx, rt sdk.Route, err error) error {
	c.mu.RLock()
	r := c.renderer
	c.mu.RUnlock()
	if r == nil {
		r, _ = sdk.ErrorEnvelope{}.Compile()
	}
	e := errs.As(err)
	status, ct, body := r.Render(err, requestID(fc))
	if rt.ErrorStatusByCode {
		status = sdk.HTTPStatus(e.Code)
	}
	if e.Code == errs.RateLimited {
		if e.RetryAfter > 0 {
			fc.Set(fiber.HeaderRetryAfter, strconv.Itoa(e.RetryAfter))
		}
		if c.cfg.RateLimitStatus != 0 {
			status = c.cfg.RateLimitStatus
		}
	}
	fc.Status(status)
	fc.Set(fiber.HeaderContentType, ct)
	return fc.Send(body)
}

// ToSDKPrincipal converts the core's principal to the SDK's (nil → nil).
func ToSDKPrincipal(p *principal.Principal) *sdk.Principal {
	if p == nil {
		return nil
	}
	return &sdk.Principal{
		Tenant: p.Tenant, UserID: p.UserID, UserCode: p.UserCode, DisplayName: p.DisplayName,
		Login: p.Login, ClientID: p.ClientID, Scopes: slices.Clone(p.Scopes), Roles: slices.Clone(p.Roles),
		TokenID: p.TokenID, AuthTime: p.AuthTime,
	}
}

// FromSDKPrincipal converts the SDK's principal to the core's (nil → nil).
// The Core bridge uses it on every Host API call.
func FromSDKPrincipal(p *sdk.Principal) *principal.Principal {
	if p == nil {
		return nil
	}
	return &principal.Principal{
		Tenant: p.Tenant, UserID: p.UserID, UserCode: p.UserCode, DisplayName: p.DisplayName,
		Login: p.Login, ClientID: p.ClientID, Scopes: p.Scopes, Roles: p.Roles,
		TokenID: p.TokenID, AuthTime: p.AuthTime,
	}
}

// AdminHandler serves GET /admin/connectors: the Status of every connector
// as JSON {"connectors": [...]}. requireAdmin returns nil for an admin
// caller and an error otherwise (rendered by the app's ErrorHandler).
func AdminHandler(m *Manager, requireAdmin func(*fiber.Ctx) error) fiber.Handler {
	return func(fc *fiber.Ctx) error {
		if requireAdmin == nil {
			return errs.New(errs.Forbidden, "admin access is not configured")
		}
		if err := requireAdmin(fc); err != nil {
			return err
		}
		return fc.JSON(fiber.Map{"connectors": m.Status()})
	}
}

// deadlineSlack absorbs the difference between the host's deadline and the
// one gRPC hands the plugin.
const deadlineSlack = 10 * time.Millisecond

func pastDeadline(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < deadlineSlack
}
