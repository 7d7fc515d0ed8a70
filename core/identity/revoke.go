package identity

import (
	"context"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
)

// Revoke revokes a refresh token (its whole family) or an access token (its
// jti, until it expires), RFC 7009 semantics: an unknown, invalid or expired
// token is not an error. It does not check who owns the token; the
// revocation endpoint uses Revocation, which does.
func (s *Service) Revoke(ctx context.Context, token string) error {
	return s.revoke(ctx, "", strings.TrimSpace(token))
}

// revoke revokes token when clientID is "" or the token was issued to clientID.
func (s *Service) revoke(ctx context.Context, clientID, token string) error {
	if token == "" {
		return nil
	}
	if strings.HasPrefix(token, refreshPrefix) {
		rec, _, err := s.lookupRefresh(ctx, token)
		if err != nil || rec == nil {
			return err
		}
		if clientID != "" && rec.Client != clientID {
			return nil
		}
		return s.revokeFamily(ctx, rec.Family)
	}
	c, err := s.parseAccess(token)
	if err != nil {
		return nil // invalid or expired: nothing to revoke
	}
	if clientID != "" && c.ClientID != clientID {
		return nil
	}
	return s.revokeJTI(ctx, c.Jti, c.Exp)
}

// Revocation handles POST /connect/revocation (RFC 7009): it authenticates
// the client like the token endpoint, then revokes `token` if it was issued
// to that client. Unknown tokens and other clients' tokens are silently
// ignored; errors are *OAuthError for the caller's mistakes (bad client,
// missing token) and *errs.Error for store/cache failures.
func (s *Service) Revocation(ctx context.Context, req TokenRequest) error {
	for k, v := range req.Form {
		if len(v) > 1 {
			return oauthErr(ErrInvalidRequest, "parameter "+k+" is repeated")
		}
	}
	cl, err := s.authenticateClient(ctx, req)
	if err != nil {
		return err
	}
	tok := form(req.Form, "token")
	if tok == "" {
		return oauthErr(ErrInvalidRequest, "token is required")
	}
	// token_type_hint only orders the lookups (RFC 7009 §2.1); both kinds
	// are recognised by their shape, so it needs no handling.
	if err := s.revoke(ctx, cl.ID, tok); err != nil {
		return errs.Wrap(errs.Unavailable, err, "revoke token")
	}
	return nil
}
