// Package principal describes who is calling: the authenticated client, user
// and tenant that every core operation is scoped to.
package principal

import (
	"context"
	"slices"
)

// Principal is the authenticated caller. It is built from a verified access
// token (or, in a connector, from dialect credentials) and travels in the
// request context.
type Principal struct {
	// Tenant is the tenant (corpId) every read and write is scoped to. Never empty.
	Tenant string
	// UserID is the acting user's id; "" when a client acts without a user.
	UserID string
	// UserCode and DisplayName fill Operator references {id, value, label}.
	UserCode    string
	DisplayName string
	// Login is the login identifier used (JWT sub).
	Login string
	// ClientID is the OAuth client the token was issued to.
	ClientID string
	// Scopes granted to the token.
	Scopes []string
	// Roles are the user's role codes (e.g. "admin", "manager").
	Roles []string
	// TokenID is the access token's jti ("" when not token-based).
	TokenID string
	// AuthTime is the login time, epoch seconds.
	AuthTime int64
}

// HasScope reports whether the principal was granted scope s.
func (p *Principal) HasScope(s string) bool { return p != nil && slices.Contains(p.Scopes, s) }

// HasRole reports whether the principal has role code r.
func (p *Principal) HasRole(r string) bool { return p != nil && slices.Contains(p.Roles, r) }

// IsAdmin reports whether the principal has the admin role.
func (p *Principal) IsAdmin() bool { return p.HasRole("admin") }

// CanRead reports whether the token allows GET routes.
func (p *Principal) CanRead() bool { return p.HasScope("api.readwrite") || p.HasScope("api.read") }

// CanWrite reports whether the token allows writes.
func (p *Principal) CanWrite() bool { return p.HasScope("api.readwrite") }

type ctxKey struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal in ctx, if any.
func From(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(*Principal)
	return p, ok && p != nil
}
