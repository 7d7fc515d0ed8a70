package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"mime"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/principal"
)

// Identity is what the auth routes and the bearer middleware need
// (implemented by *identity.Service).
type Identity interface {
	// Token handles /connect/token; caller errors are *identity.OAuthError.
	Token(ctx context.Context, req identity.TokenRequest) (*identity.TokenResponse, error)
	// Revocation handles /connect/revocation (RFC 7009).
	Revocation(ctx context.Context, req identity.TokenRequest) error
	// Authenticate verifies a bearer access token.
	Authenticate(ctx context.Context, bearer string) (*principal.Principal, error)
	// UserInfo is the /connect/userinfo body for p.
	UserInfo(p *principal.Principal) map[string]any
	// JWKS is the /.well-known/jwks.json body.
	JWKS() []byte
	// SendCodeForClient handles /auth/sendcode.
	// ip is the caller's address (per-IP budget of codes to unknown numbers).
	SendCodeForClient(ctx context.Context, clientID, phone, purpose, ip string) error
}

// principalLocal is the c.Locals key bearerAuth stores the principal under.
const principalLocal = "principal"

// bindAuthRoutes binds the identity family (§2): /connect/token,
// /connect/revocation, /connect/userinfo, /.well-known/jwks.json and
// /auth/sendcode. All of them are anonymous except userinfo, which checks
// its bearer token itself.
func bindAuthRoutes(r fiber.Router, d *Deps) {
	r.Post("/connect/token", RateLimitTokenEndpoint(d), tokenHandler(d))
	r.Post("/connect/revocation", RateLimitTokenEndpoint(d), revocationHandler(d))
	ui := userInfoHandler(d)
	r.Get("/connect/userinfo", ui)
	r.Post("/connect/userinfo", ui)
	r.Get("/.well-known/jwks.json", jwksHandler(d))
	r.Post("/auth/sendcode", RateLimitByIP(d), sendCodeHandler(d))
}

// identityOf returns d.Identity or an Unavailable error when it is not wired.
func identityOf(d *Deps) (Identity, error) {
	if d == nil || d.Identity == nil {
		return nil, errs.Unavailablef("identity service not configured")
	}
	return d.Identity, nil
}

// oauthError writes an RFC 6749 §5.2 error body, plus a "message" member
// holding the description (the code when there is none): the EIMSNext web
// client shows message (or msg) of a failed call and otherwise only a
// generic text (§12.2); RFC 6749 clients ignore the extra member.
func oauthError(c *fiber.Ctx, status int, code, desc string) error {
	body := fiber.Map{"error": code, "message": code}
	if desc != "" {
		body["error_description"] = desc
		body["message"] = desc
	}
	return c.Status(status).JSON(body)
}

// writeOAuthFailure renders err from the identity service on the token or
// revocation endpoint: *identity.OAuthError as itself, anything else as
// server_error / temporarily_unavailable (these endpoints never answer with
// the native envelope).
func writeOAuthFailure(c *fiber.Ctx, d *Deps, err error) error {
	var oe *identity.OAuthError
	if errors.As(err, &oe) {
		if oe.Basic {
			c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="eims"`)
		}
		if oe.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(oe.RetryAfter))
		}
		return oauthError(c, oe.Status, oe.Code, oe.Description)
	}
	if d != nil && d.Logger != nil {
		d.Logger.ErrorContext(c.UserContext(), "token endpoint failed", "path", c.Path(), "err", err)
	}
	if errs.CodeOf(err) == errs.Unavailable {
		return oauthError(c, fiber.StatusServiceUnavailable, "temporarily_unavailable", "")
	}
	return oauthError(c, fiber.StatusInternalServerError, "server_error", "")
}

// parseTokenRequest reads an x-www-form-urlencoded body and HTTP Basic
// client credentials (RFC 6749 §2.3.1: both parts form-encoded).
func parseTokenRequest(c *fiber.Ctx) (identity.TokenRequest, *identity.OAuthError) {
	bad := func(desc string) *identity.OAuthError {
		return &identity.OAuthError{Code: identity.ErrInvalidRequest, Description: desc, Status: fiber.StatusBadRequest}
	}
	mt, _, err := mime.ParseMediaType(string(c.Request().Header.ContentType()))
	if err != nil || mt != fiber.MIMEApplicationForm {
		return identity.TokenRequest{}, bad("Content-Type must be application/x-www-form-urlencoded")
	}
	form, err := url.ParseQuery(string(c.Body()))
	if err != nil {
		return identity.TokenRequest{}, bad("malformed form body")
	}
	req := identity.TokenRequest{Form: form, IP: c.IP()}
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, cred, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Basic") {
			id, secret, ok := decodeBasic(strings.TrimSpace(cred))
			if !ok {
				return identity.TokenRequest{}, &identity.OAuthError{Code: identity.ErrInvalidClient,
					Description: identity.DescBadClient, Status: fiber.StatusUnauthorized, Basic: true}
			}
			req.Basic, req.BasicClientID, req.BasicClientSecret = true, id, secret
		}
	}
	return req, nil
}

func decodeBasic(cred string) (id, secret string, ok bool) {
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return "", "", false
	}
	u, p, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false
	}
	if id, err = url.QueryUnescape(u); err != nil {
		return "", "", false
	}
	if secret, err = url.QueryUnescape(p); err != nil {
		return "", "", false
	}
	return id, secret, id != ""
}

// tokenHandler serves POST /connect/token (§2.2).
func tokenHandler(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Set(fiber.HeaderPragma, "no-cache")
		id, err := identityOf(d)
		if err != nil {
			return writeOAuthFailure(c, d, err)
		}
		req, oe := parseTokenRequest(c)
		if oe != nil {
			return writeOAuthFailure(c, d, oe)
		}
		resp, err := id.Token(c.UserContext(), req)
		if err != nil {
			return writeOAuthFailure(c, d, err)
		}
		return c.Status(fiber.StatusOK).JSON(resp)
	}
}

// revocationHandler serves POST /connect/revocation (RFC 7009): 200 with an
// empty body whether or not the token was known.
func revocationHandler(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Set(fiber.HeaderPragma, "no-cache")
		id, err := identityOf(d)
		if err != nil {
			return writeOAuthFailure(c, d, err)
		}
		req, oe := parseTokenRequest(c)
		if oe != nil {
			return writeOAuthFailure(c, d, oe)
		}
		if err := id.Revocation(c.UserContext(), req); err != nil {
			return writeOAuthFailure(c, d, err)
		}
		c.Status(fiber.StatusOK) // empty body (RFC 7009 §2.2)
		return nil
	}
}

// userInfoHandler serves GET/POST /connect/userinfo (§2.4): any of the
// scopes profile, openid, api.read, api.readwrite.
func userInfoHandler(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := identityOf(d)
		if err != nil {
			return err
		}
		p, err := authenticateBearer(c, id)
		if err != nil {
			return err
		}
		if !p.HasScope(identity.ScopeProfile) && !p.HasScope(identity.ScopeOpenID) && !p.CanRead() {
			return insufficientScope(c)
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(id.UserInfo(p))
	}
}

// jwksHandler serves GET /.well-known/jwks.json.
func jwksHandler(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := identityOf(d)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "application/json")
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
		b := id.JWKS()
		if len(b) > 0 && !bytes.HasSuffix(b, []byte{'\n'}) { // every JSON answer ends in a newline
			b = append(b[:len(b):len(b)], '\n') // a copy: the service's slice is shared
		}
		return c.Send(b)
	}
}

// sendCodeHandler serves POST /auth/sendcode (§2.1): a JSON or form body
// with phone, type and an optional client_id (which names the tenant; see
// identity.Service.SendCodeForClient). 204 on success.
func sendCodeHandler(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := identityOf(d)
		if err != nil {
			return err
		}
		fields, err := sendCodeFields(c)
		if err != nil {
			return err
		}
		clientID := fields["client_id"]
		if clientID == "" {
			clientID = fields["clientid"]
		}
		err = id.SendCodeForClient(c.UserContext(), clientID, fields["phone"], fields["type"], c.IP())
		if err != nil {
			if e := errs.As(err); e.Code == errs.RateLimited && e.RetryAfter > 0 {
				c.Set(fiber.HeaderRetryAfter, strconv.Itoa(e.RetryAfter))
			}
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// sendCodeFields decodes the sendcode body into lower-cased keys →
// string values (JSON property names match case-insensitively, §1.2;
// numbers are accepted for the phone).
func sendCodeFields(c *fiber.Ctx) (map[string]string, error) {
	mt, _, err := mime.ParseMediaType(string(c.Request().Header.ContentType()))
	if err != nil {
		mt = ""
	}
	out := map[string]string{}
	switch mt {
	case fiber.MIMEApplicationForm:
		form, err := url.ParseQuery(string(c.Body()))
		if err != nil {
			return nil, errs.Invalidf("malformed form body").WithReason("invalid_request")
		}
		for k, v := range form {
			if len(v) > 1 {
				return nil, errs.Invalidf("parameter %s is repeated", k).WithReason("invalid_request").WithTarget(k)
			}
			out[strings.ToLower(k)] = strings.TrimSpace(v[0])
		}
	case fiber.MIMEApplicationJSON:
		var body map[string]any
		if err := authDecodeJSON(c.Body(), &body); err != nil || body == nil {
			return nil, errs.Invalidf("the body must be a JSON object").WithReason("invalid_request")
		}
		for k, v := range body {
			switch x := v.(type) {
			case string:
				out[strings.ToLower(k)] = strings.TrimSpace(x)
			case authJSONNumber:
				out[strings.ToLower(k)] = x.String()
			case nil:
			default:
				return nil, errs.Invalidf("%s must be a string", k).WithReason("invalid_request").WithTarget(k)
			}
		}
	default:
		return nil, errs.New(errs.UnsupportedMedia, "Content-Type must be application/json or application/x-www-form-urlencoded")
	}
	return out, nil
}

// bearerToken extracts the token of `Authorization: Bearer <token>`.
func bearerToken(c *fiber.Ctx) string {
	scheme, tok, _ := strings.Cut(strings.TrimSpace(c.Get(fiber.HeaderAuthorization)), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// authenticateBearer checks the request's bearer token. On failure it sets
// the RFC 6750 challenge and returns errs.Unauthorized (no Reason, so the
// envelope's error.code is "unauthorized", TV-5); a cache/store outage is
// returned as is (503).
func authenticateBearer(c *fiber.Ctx, id Identity) (*principal.Principal, error) {
	tok := bearerToken(c)
	if tok == "" {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="eims", error="invalid_token"`)
		return nil, errs.New(errs.Unauthorized, "a bearer access token is required")
	}
	p, err := id.Authenticate(c.UserContext(), tok)
	if err != nil {
		if errs.CodeOf(err) == errs.Unauthorized {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="eims", error="invalid_token"`)
			return nil, errs.Wrap(errs.Unauthorized, err, "the access token is invalid, expired or revoked")
		}
		return nil, err
	}
	return p, nil
}

func insufficientScope(c *fiber.Ctx) error {
	c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="eims", error="insufficient_scope"`)
	return errs.New(errs.Forbidden, "the access token lacks the scope this route needs")
}

// bearerAuth authenticates `Authorization: Bearer` (§1.3) and stores the
// principal in the request's user context (principal.With) and in
// c.Locals("principal"). GET and HEAD need api.read or api.readwrite; every
// other method needs api.readwrite (403 insufficient_scope otherwise).
func bearerAuth(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := identityOf(d)
		if err != nil {
			return err
		}
		p, err := authenticateBearer(c, id)
		if err != nil {
			return err
		}
		switch c.Method() {
		case fiber.MethodGet, fiber.MethodHead:
			if !p.CanRead() {
				return insufficientScope(c)
			}
		default:
			if !p.CanWrite() {
				return insufficientScope(c)
			}
		}
		c.SetUserContext(principal.With(c.UserContext(), p))
		c.Locals(principalLocal, p)
		return c.Next()
	}
}
