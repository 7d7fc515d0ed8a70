package httpapi

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/limits"
	"github.com/eimshub/eimshub/core/principal"
)

// Limiter is what the rate-limit middleware needs (implemented by
// *limits.Limits). Deps.Limits nil means no rate limiting; note that a nil
// *limits.Limits stored in the interface is not nil — leave the field unset.
type Limiter interface {
	// Allow counts one request against k's budget. An error means the
	// limiter could not decide and its policy is fail-closed
	// (errs.Unavailable).
	Allow(ctx context.Context, k limits.Key) (limits.Decision, error)
}

// Rate-limit response headers (spec eims-native.md §1.6).
const (
	HeaderRateLimitLimit     = "X-RateLimit-Limit"
	HeaderRateLimitRemaining = "X-RateLimit-Remaining"
	HeaderRateLimitReset     = "X-RateLimit-Reset"
)

// RateLimit returns middleware that checks the budget keyFn names for each
// request (keyFn reporting false skips the check). See rateLimit.
func RateLimit(d *Deps, keyFn func(c *fiber.Ctx) (limits.Key, bool)) fiber.Handler {
	return rateLimit(d, keyFn)
}

// rateLimit is the one rate-limit middleware (§1.6): it sets
// X-RateLimit-Limit, -Remaining and -Reset (epoch seconds) on every counted
// response; over the limit it answers 429 with Retry-After and the native
// envelope (code rate_limited) by returning an errs.RateLimited error; a
// fail-closed limiter failure is returned as is (503 unavailable). It is a
// no-op when d.Limits is nil.
func rateLimit(d *Deps, keyFn func(c *fiber.Ctx) (limits.Key, bool)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if d == nil || d.Limits == nil {
			return c.Next()
		}
		k, ok := keyFn(c)
		if !ok {
			return c.Next()
		}
		dec, err := d.Limits.Allow(c.UserContext(), k)
		if err != nil {
			return err
		}
		setRateHeaders(c, dec)
		if !dec.Allowed {
			return tooManyRequests(c, dec)
		}
		return c.Next()
	}
}

// setRateHeaders writes the X-RateLimit-* headers of a counted decision
// (Limit 0 = not counted: the limiter failed open).
func setRateHeaders(c *fiber.Ctx, dec limits.Decision) {
	if dec.Limit <= 0 {
		return
	}
	c.Set(HeaderRateLimitLimit, strconv.FormatInt(dec.Limit, 10))
	c.Set(HeaderRateLimitRemaining, strconv.FormatInt(max(dec.Remaining, 0), 10))
	c.Set(HeaderRateLimitReset, strconv.FormatInt(dec.Reset.Unix(), 10))
}

// retryAfterSeconds is dec.RetryAfter in whole seconds, at least 1.
func retryAfterSeconds(dec limits.Decision) int {
	return max(int((dec.RetryAfter+999_999_999)/1_000_000_000), 1)
}

// tooManyRequests sets Retry-After and returns the errs.RateLimited error
// the error handler renders as 429 with the native envelope.
func tooManyRequests(c *fiber.Ctx, dec limits.Decision) error {
	secs := retryAfterSeconds(dec)
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
	return &errs.Error{Code: errs.RateLimited, Reason: "rate_limited", Pos: -1,
		Msg: "too many requests; retry after " + strconv.Itoa(secs) + " s", RetryAfter: secs}
}

// PublicClients tells public OAuth clients (no secret, such as the
// EIMSNext web client's) from confidential ones; implemented by
// *identity.Service. When Deps.Identity implements it, the limiters count
// a public client's requests per user (API) and per source IP and login
// name (token endpoint) instead of per client: every browser shares the
// public client's id (spec eims-native.md §12.2).
type PublicClients interface {
	IsPublicClient(ctx context.Context, clientID string) (bool, error)
}

// publicClient reports whether id is a public client; false when unknown
// or when the lookup fails (the request is then counted per client, the
// stricter budget).
func publicClient(c *fiber.Ctx, d *Deps, id string) bool {
	pc, ok := d.Identity.(PublicClients)
	if !ok || id == "" {
		return false
	}
	pub, err := pc.IsPublicClient(c.UserContext(), id)
	return err == nil && pub
}

// RateLimitByPrincipal limits authenticated API requests per client (and
// tenant, for the tenant default); a public client's requests per user at
// the client's rate. Mount it after bearerAuth; a request without a
// principal is not counted here.
func RateLimitByPrincipal(d *Deps) fiber.Handler {
	return rateLimit(d, func(c *fiber.Ctx) (limits.Key, bool) {
		p, ok := principal.From(c.UserContext())
		if !ok || (p.ClientID == "" && p.Tenant == "") {
			return limits.Key{}, false
		}
		k := limits.Key{Kind: limits.API, Tenant: p.Tenant, Client: p.ClientID}
		if p.UserID != "" && publicClient(c, d, p.ClientID) {
			k.User = p.UserID
		}
		return k, true
	})
}

// RateLimitByIP limits anonymous requests per source IP with the
// token-endpoint IP budget, answering with the native envelope (for
// /auth/sendcode).
func RateLimitByIP(d *Deps) fiber.Handler {
	return rateLimit(d, func(c *fiber.Ctx) (limits.Key, bool) {
		return limits.Key{Kind: limits.TokenIP, IP: c.IP()}, true
	})
}

// RateLimitTokenEndpoint limits /connect/token and /connect/revocation
// against credential guessing with two budgets: per source IP, then per
// client_id (from HTTP Basic or the form; a request naming no client is
// counted per IP only) — for a public client per client_id, source IP and
// username instead (§12.2). Those endpoints speak RFC 6749, so a refusal is an
// OAuth error body: 429 {"error": "temporarily_unavailable"} with
// Retry-After, or 503 temporarily_unavailable when a fail-closed limiter
// cannot decide. No-op when d.Limits is nil.
func RateLimitTokenEndpoint(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if d == nil || d.Limits == nil {
			return c.Next()
		}
		keys := []limits.Key{{Kind: limits.TokenIP, IP: c.IP()}}
		if id := tokenClientID(c); id != "" {
			if publicClient(c, d, id) {
				// Per IP and login name: a per-client budget would be shared
				// by every browser (§12.2). A request without a username (a
				// refresh) is counted per IP only.
				if login := strings.Clone(strings.TrimSpace(c.FormValue("username"))); login != "" { // FormValue views the request buffer
					keys = append(keys, limits.Key{Kind: limits.TokenLogin, Client: id, IP: c.IP(), User: login})
				}
			} else {
				keys = append(keys, limits.Key{Kind: limits.TokenClient, Client: id})
			}
		}
		var shown limits.Decision // the tighter budget's headers
		for i, k := range keys {
			dec, err := d.Limits.Allow(c.UserContext(), k)
			if err != nil {
				return writeOAuthFailure(c, d, err)
			}
			if i == 0 || (dec.Limit > 0 && (shown.Limit == 0 || dec.Remaining < shown.Remaining)) {
				shown = dec
			}
			if !dec.Allowed {
				setRateHeaders(c, dec)
				c.Set(fiber.HeaderRetryAfter, strconv.Itoa(retryAfterSeconds(dec)))
				return oauthError(c, fiber.StatusTooManyRequests, "temporarily_unavailable",
					"too many requests; retry after "+strconv.Itoa(retryAfterSeconds(dec))+" s")
			}
		}
		setRateHeaders(c, shown)
		return c.Next()
	}
}

// tokenClientID is the client_id a token-endpoint request names: HTTP
// Basic first (RFC 6749 §2.3.1), else the form field.
func tokenClientID(c *fiber.Ctx) string {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, cred, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Basic") {
			if id, _, ok := decodeBasic(strings.TrimSpace(cred)); ok {
				return id
			}
		}
	}
	return strings.Clone(c.FormValue("client_id")) // a view of the request buffer
}
