package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
)

// accessClaims are the access token's claims (§2.3). aud is a single string
// (as the original emits it), hence a hand-written jwt.Claims.
type accessClaims struct {
	Iss      string   `json:"iss"`
	Aud      string   `json:"aud"`
	Sub      string   `json:"sub"`
	ID       string   `json:"id,omitempty"`
	Name     string   `json:"name,omitempty"`
	Corp     string   `json:"corp"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
	AuthTime int64    `json:"auth_time"`
	Iat      int64    `json:"iat"`
	Nbf      int64    `json:"nbf,omitempty"`
	Exp      int64    `json:"exp"`
	Jti      string   `json:"jti"`
	Code     string   `json:"code,omitempty"`
	Roles    []string `json:"roles,omitempty"`
}

func numericDate(sec int64) *jwt.NumericDate {
	if sec == 0 {
		return nil
	}
	return jwt.NewNumericDate(time.Unix(sec, 0))
}

func (c *accessClaims) GetExpirationTime() (*jwt.NumericDate, error) { return numericDate(c.Exp), nil }
func (c *accessClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return numericDate(c.Iat), nil }
func (c *accessClaims) GetNotBefore() (*jwt.NumericDate, error)      { return numericDate(c.Nbf), nil }
func (c *accessClaims) GetIssuer() (string, error)                   { return c.Iss, nil }
func (c *accessClaims) GetSubject() (string, error)                  { return c.Sub, nil }
func (c *accessClaims) GetAudience() (jwt.ClaimStrings, error) {
	if c.Aud == "" {
		return nil, nil
	}
	return jwt.ClaimStrings{c.Aud}, nil
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", errs.Wrap(errs.Internal, err, "crypto/rand")
	}
	return b64(b), nil
}

// signAccess mints an access token; it returns the token, its lifetime, jti
// and expiry (epoch seconds).
func (s *Service) signAccess(cl *client, u *user, login string, scopes []string, authTime int64) (string, time.Duration, string, int64, error) {
	ttl := s.cfg.AccessTTL
	if cl.AccessTTL > 0 {
		ttl = time.Duration(cl.AccessTTL) * time.Second
	}
	jti, err := randomToken(16)
	if err != nil {
		return "", 0, "", 0, err
	}
	now := s.now().Unix()
	c := &accessClaims{
		Iss: s.cfg.Issuer, Aud: s.cfg.Audience, Sub: login,
		Corp: cl.Tenant, ClientID: cl.ID, Scope: strings.Join(scopes, " "),
		AuthTime: authTime, Iat: now, Exp: now + int64(ttl/time.Second), Jti: jti,
	}
	if u != nil {
		c.ID, c.Name, c.Code, c.Roles = u.ID, u.Name, u.Code, u.Roles
	}
	tok := jwt.NewWithClaims(s.key.method, c)
	tok.Header["kid"] = s.cfg.KeyID
	signed, err := tok.SignedString(s.key.priv)
	if err != nil {
		return "", 0, "", 0, errs.Wrap(errs.Internal, err, "sign access token")
	}
	return signed, ttl, jti, c.Exp, nil
}

func invalidToken(msg string) *errs.Error {
	return errs.New(errs.Unauthorized, msg).WithReason("invalid_token")
}

// parseAccess verifies an access token's signature, algorithm, kid, iss,
// aud and times (Leeway) and returns its claims.
func (s *Service) parseAccess(token string) (*accessClaims, error) {
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{s.key.method.Alg()}),
		jwt.WithIssuer(s.cfg.Issuer),
		jwt.WithAudience(s.cfg.Audience),
		jwt.WithLeeway(Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.cfg.Now),
	)
	c := &accessClaims{}
	_, err := p.ParseWithClaims(token, c, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != s.cfg.KeyID {
			return nil, errors.New("unknown kid")
		}
		return s.key.pub, nil
	})
	if err != nil {
		return nil, err
	}
	if c.Jti == "" || c.Corp == "" {
		return nil, errors.New("token lacks jti or corp")
	}
	return c, nil
}

// Cache keys for revocations.
// RevocationKeyPrefixes are the cache key prefixes Authenticate reads on
// every request; the wiring may serve them from a near cache (cache.NewNear).
// NearKeyPrefixes (dircache.go) includes them.
var RevocationKeyPrefixes = []string{"rvj:", "rvu:"}

func revokedJTIKey(jti string) string             { return "rvj:" + jti }
func revokedUserKey(tenant, userID string) string { return "rvu:" + tenant + ":" + userID }

// Authenticate verifies a bearer access token and returns its principal.
// A token's signature and claims are verified once and remembered until
// its exp (tokenCache); the revocation marks are read on every call, in one
// cache MGet (served by the near cache with Redis). Any
// invalid, expired or revoked token is errs.Unauthorized with Reason
// "invalid_token"; a cache failure is errs.Unavailable (fail closed).
func (s *Service) Authenticate(ctx context.Context, bearer string) (*principal.Principal, error) {
	if bearer == "" {
		return nil, invalidToken("missing access token")
	}
	c, err := s.verifyAccess(bearer)
	if err != nil {
		return nil, invalidToken("invalid access token")
	}
	keys := []string{revokedJTIKey(c.Jti)}
	if c.ID != "" {
		keys = append(keys, revokedUserKey(c.Corp, c.ID))
	}
	vals, err := s.c.MGet(ctx, keys...)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "check token revocation")
	}
	if vals[0] != nil {
		return nil, invalidToken("access token revoked")
	}
	if len(vals) > 1 && vals[1] != nil && revokedBefore(vals[1], c.Iat*1000) {
		return nil, invalidToken("access token revoked")
	}
	return &principal.Principal{
		Tenant: c.Corp, UserID: c.ID, UserCode: c.Code, DisplayName: c.Name,
		Login: c.Sub, ClientID: c.ClientID, Scopes: strings.Fields(c.Scope),
		Roles: slices.Clone(c.Roles), TokenID: c.Jti, AuthTime: c.AuthTime,
	}, nil
}

// revokedBefore reports whether something issued at issuedMs (epoch ms,
// second precision for access tokens) falls under a "revoked before" mark
// (epoch ms). Tokens issued in the same second as the mark count as revoked:
// a login within a second of a password change must be repeated, but no
// token minted before the change survives.
func revokedBefore(mark []byte, issuedMs int64) bool {
	ms, err := strconv.ParseInt(string(mark), 10, 64)
	if err != nil {
		return true // unreadable mark: fail closed
	}
	return issuedMs <= ms
}

// revocationTTL is how long a per-user mark must live: past every access
// token and refresh family issued before it.
func (s *Service) revocationTTL() time.Duration {
	return max(s.cfg.RefreshMaxTTL, s.cfg.AccessTTL, 24*time.Hour) + Leeway
}

// RevokeUser invalidates every access and refresh token issued to the user
// so far (password changed, user disabled, admin revoke).
func (s *Service) RevokeUser(ctx context.Context, tenant, userID string) error {
	if tenant == "" || userID == "" {
		return errs.Invalidf("RevokeUser needs a tenant and a user id")
	}
	mark := strconv.FormatInt(s.now().UnixMilli(), 10)
	if err := s.c.Set(ctx, revokedUserKey(tenant, userID), []byte(mark), s.revocationTTL()); err != nil {
		return errs.Wrap(errs.Unavailable, err, "revoke user tokens")
	}
	return nil
}

// revokeJTI marks an access token revoked until it expires.
func (s *Service) revokeJTI(ctx context.Context, jti string, exp int64) error {
	ttl := time.Unix(exp, 0).Add(Leeway).Sub(s.now())
	if ttl <= 0 {
		return nil
	}
	if err := s.c.Set(ctx, revokedJTIKey(jti), []byte("1"), ttl); err != nil {
		return errs.Wrap(errs.Unavailable, err, "revoke access token")
	}
	return nil
}

// UserInfo is the /connect/userinfo body (§2.4): the token's claims, absent
// ones omitted.
func (s *Service) UserInfo(p *principal.Principal) map[string]any {
	m := map[string]any{}
	if p == nil {
		return m
	}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put("sub", p.Login)
	put("name", p.DisplayName)
	put("id", p.UserID)
	put("corp", p.Tenant)
	put("client_id", p.ClientID)
	if p.AuthTime != 0 {
		m["auth_time"] = p.AuthTime
	}
	return m
}
