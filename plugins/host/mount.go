package host

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/gofiber/fiber/v2"
)

// PrincipalLocal is the fiber.Ctx Locals key under which connector routes
// store the authenticated *principal.Principal (AuthBearer routes), so the
// limiter handler can key by client. It is also in c.UserContext()
// (principal.From).
const PrincipalLocal = "principal"

// Mount registers every enabled connector's routes on app, each under its
// mount point. Per request, in this order:
//  1. AuthBearer routes call authenticate (nil = no bearer routes are
//     served: 401); its error is rendered in the connector's envelope;
//  2. limit (may be nil) runs before the plugin hop: it calls c.Next() to
//     admit the request, or returns an error (rendered in the connector's
//     envelope; RateLimited sets Retry-After) or writes its own answer;
//  3. the request goes to the connector: one round trip out of process.
//
// Disabled, absent and never-started connectors have no routes: 404. Call
// Mount once, after Start. A route already registered by an earlier
// connector is skipped with an error log.
func (m *Manager) Mount(app *fiber.App, authenticate func(*fiber.Ctx) (*principal.Principal, error), limit fiber.Handler) {
	seen := map[string]string{}
	for _, c := range m.conns {
		c.mu.RLock()
		routes, enabled := c.info.Routes, c.cfg.Enabled
		c.mu.RUnlock()
		if !enabled {
			continue
		}
		for _, r := range routes {
			path := c.cfg.Mount + r.Path
			key := r.Method + " " + path
			if other, dup := seen[key]; dup {
				m.opts.Logger.Error("connector route already mounted; skipped", "connector", c.cfg.ID, "route", key, "owner", other)
				continue
			}
			seen[key] = c.cfg.ID
			handlers := []fiber.Handler{c.authHandler(r, authenticate)}
			if limit != nil {
				handlers = append(handlers, c.limitHandler(limit))
			}
			handlers = append(handlers, c.proxyHandler(r))
			app.Add(r.Method, path, handlers...)
		}
	}
}

func (c *conn) authHandler(r sdk.Route, authenticate func(*fiber.Ctx) (*principal.Principal, error)) fiber.Handler {
	return func(fc *fiber.Ctx) error {
		if r.Auth != sdk.AuthBearer {
			return fc.Next()
		}
		if authenticate == nil {
			return c.writeError(fc, errs.New(errs.Unauthorized, "authentication is not configured"))
		}
		p, err := authenticate(fc)
		if err == nil && p == nil {
			err = errs.New(errs.Unauthorized, "missing or invalid bearer token")
		}
		if err != nil {
			return c.writeError(fc, err)
		}
		fc.Locals(PrincipalLocal, p)
		fc.SetUserContext(principal.With(fc.UserContext(), p))
		return fc.Next()
	}
}

func (c *conn) limitHandler(limit fiber.Handler) fiber.Handler {
	return func(fc *fiber.Ctx) error {
		if err := limit(fc); err != nil {
			return c.writeError(fc, err)
		}
		return nil
	}
}

func (c *conn) proxyHandler(r sdk.Route) fiber.Handler {
	return func(fc *fiber.Ctx) error {
		start := time.Now()
		err := c.proxy(fc, r)
		if err != nil {
			_ = c.writeError(fc, err)
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
	resp, err := be.Handle(ctx, buildRequest(fc, r))
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
// buffers.
func buildRequest(fc *fiber.Ctx, r sdk.Route) *sdk.Request {
	req := &sdk.Request{
		Method:     fc.Method(),
		Path:       string(fc.Request().URI().Path()),
		Route:      r.Path,
		PathParams: map[string]string{},
		Query:      url.Values{},
		Headers:    http.Header{},
		Body:       append([]byte(nil), fc.Body()...),
		ClientIP:   fc.IP(),
		RequestID:  requestID(fc),
	}
	for k, v := range fc.AllParams() {
		req.PathParams[k] = v
	}
	fc.Request().URI().QueryArgs().VisitAll(func(k, v []byte) {
		req.Query.Add(string(k), string(v))
	})
	fc.Request().Header.VisitAll(func(k, v []byte) {
		req.Headers.Add(string(k), string(v))
	})
	if p, ok := fc.Locals(PrincipalLocal).(*principal.Principal); ok && p != nil {
		req.Principal = ToSDKPrincipal(p)
	}
	return req
}

func requestID(fc *fiber.Ctx) string {
	if id, ok := fc.Locals("requestid").(string); ok && id != "" {
		return id
	}
	return fc.Get(fiber.HeaderXRequestID)
}

// writeError renders err in the connector's envelope.
func (c *conn) writeError(fc *fiber.Ctx, err error) error {
	c.mu.RLock()
	r := c.renderer
	c.mu.RUnlock()
	if r == nil {
		r, _ = sdk.ErrorEnvelope{}.Compile()
	}
	e := errs.As(err)
	if e.Code == errs.Internal || e.Reason == sdk.ReasonUnavailable || e.Reason == sdk.ReasonTimeout {
		c.m.opts.Logger.Warn("connector request failed", "connector", c.cfg.ID, "path", fc.Path(), "error", err)
	}
	status, ct, body := r.Render(err, requestID(fc))
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
		Login: p.Login, ClientID: p.ClientID, Scopes: p.Scopes, Roles: p.Roles,
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
