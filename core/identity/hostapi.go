package identity

// Programmatic entry points for the plugin Host API (plugins/host bridge):
// connectors authenticate callers with their dialect's credentials and mint
// tokens without going through the HTTP token endpoint. They reuse the
// token endpoint's client checks, token signing and refresh-token families,
// and return *errs.Error values only (never *OAuthError).

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
)

// GrantConnector is the loginaudit grant of tokens issued through IssueFor.
const GrantConnector = "connector"

func badClient() *errs.Error {
	return errs.New(errs.Unauthorized, "invalid client credentials").WithReason(ErrInvalidClient)
}

// VerifyClient checks a confidential client's id and secret (bcrypt or
// sha256 hash, compared in constant time; an unknown client is compared
// against a dummy hash so it takes as long) and returns the principal its
// client_credentials token would act as: the client's tenant, id and
// scopes, and its service user when it has one. Unknown client, wrong
// secret, public or disabled client: one Unauthorized error for all.
func (s *Service) VerifyClient(ctx context.Context, clientID, secret string) (*principal.Principal, error) {
	if clientID == "" || secret == "" {
		return nil, badClient()
	}
	cl, err := s.getClient(ctx, clientID)
	if errors.Is(err, errs.E(errs.NotFound)) {
		s.checkSecret(s.dummyPasswordHash(), secret)
		s.log.InfoContext(ctx, "client verification failed", "client_id", clientID, "reason", "unknown_client")
		return nil, badClient()
	}
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "load client")
	}
	ok := s.checkSecret(cl.SecretHash, secret) // always run: same cost for every outcome
	var reason string
	switch {
	case !ok:
		reason = "bad secret"
	case cl.Disabled:
		reason = "disabled"
	case cl.Public:
		reason = "public client"
	case cl.Tenant == "":
		reason = "client has no tenant"
	}
	if reason != "" {
		s.log.InfoContext(ctx, "client verification failed", "client_id", clientID, "reason", reason)
		return nil, badClient()
	}
	p := &principal.Principal{Tenant: cl.Tenant, ClientID: cl.ID, Login: cl.ID,
		Scopes: slices.Clone(cl.Scopes), AuthTime: s.now().Unix()}
	if cl.ServiceUserID != "" {
		u, err := s.loadUser(ctx, cl.Tenant, cl.ServiceUserID)
		if err != nil {
			return nil, err
		}
		if u == nil {
			s.log.WarnContext(ctx, "client verification failed", "client_id", clientID, "reason", "service_user_unavailable")
			return nil, errs.New(errs.Unauthorized, "the client's service user is missing or disabled").WithReason(ErrInvalidClient)
		}
		p.UserID, p.UserCode, p.DisplayName, p.Login, p.Roles = u.ID, u.Code, u.Name, u.UserName, slices.Clone(u.Roles)
	}
	return p, nil
}

// loadTenantClient loads an enabled client of tenant ("" = any tenant).
func (s *Service) loadTenantClient(ctx context.Context, clientID, tenant string) (*client, error) {
	if clientID == "" {
		return nil, badClient()
	}
	cl, err := s.getClient(ctx, clientID)
	if errors.Is(err, errs.E(errs.NotFound)) {
		return nil, badClient()
	}
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "load client")
	}
	if cl.Disabled || cl.Tenant == "" || (tenant != "" && cl.Tenant != tenant) {
		return nil, badClient()
	}
	return cl, nil
}

// IssueFor issues an access token of clientID (a client of tenant) acting
// as userID of tenant ("" = the client itself, no user). scopes nil means
// the client's scopes; a scope the client may not have is Forbidden. A
// refresh token (a new family) comes with it when there is a user and the
// client may use the refresh_token grant. An unknown or disabled user is
// NotFound. The issue is recorded in the login audit (grant "connector").
func (s *Service) IssueFor(ctx context.Context, clientID, tenant, userID string, scopes []string) (*TokenResponse, error) {
	if tenant == "" {
		return nil, errs.New(errs.Unauthorized, "no authenticated tenant")
	}
	cl, err := s.loadTenantClient(ctx, clientID, tenant)
	if err != nil {
		return nil, err
	}
	var requested string
	if scopes != nil {
		requested = strings.Join(scopes, " ")
		if requested == "" {
			return nil, errs.Forbiddenf("no scope requested").WithTarget("scopes")
		}
	}
	granted, oe := grantScopes(cl, requested)
	if oe != nil {
		return nil, errs.Forbiddenf("%s", oe.Description).WithReason(ErrInvalidScope).WithTarget("scopes")
	}
	var u *user
	login := cl.ID
	if userID != "" {
		if u, err = s.loadUser(ctx, tenant, userID); err != nil {
			return nil, err
		}
		if u == nil {
			return nil, errs.NotFoundf("user %q not found", userID).WithTarget("userId")
		}
		login = u.UserName
	}
	resp, err := s.issue(ctx, cl, u, login, granted, s.now().Unix(), clientAllows(cl, GrantRefreshToken))
	if err != nil {
		return nil, err
	}
	s.writeAudit(ctx, audit{tenant: tenant, login: login, clientID: cl.ID, grant: GrantConnector}.ok(u))
	return resp, nil
}

// RefreshFor rotates a refresh token of clientID (the token endpoint's
// refresh_token grant without client authentication: the connector has
// authenticated its caller). Unknown, expired, revoked or reused tokens, and
// tokens of another client, are Unauthorized (reuse revokes the family).
func (s *Service) RefreshFor(ctx context.Context, clientID, refreshToken string) (*TokenResponse, error) {
	bad := errs.New(errs.Unauthorized, "the refresh token is invalid, expired or revoked").WithReason(ErrInvalidGrant)
	cl, err := s.loadTenantClient(ctx, clientID, "")
	if err != nil {
		return nil, bad
	}
	if !clientAllows(cl, GrantRefreshToken) || strings.TrimSpace(refreshToken) == "" {
		return nil, bad
	}
	resp, err := s.refreshGrant(ctx, TokenRequest{Form: url.Values{"refresh_token": {refreshToken}}}, cl)
	var oe *OAuthError
	if errors.As(err, &oe) {
		return nil, bad
	}
	return resp, err
}

// RevokeFor revokes an access token (its jti) or a refresh token (its
// family) issued in tenant. Unknown, invalid and expired tokens, and other
// tenants' tokens, are not an error and revoke nothing (RFC 7009).
func (s *Service) RevokeFor(ctx context.Context, tenant, token string) error {
	token = strings.TrimSpace(token)
	if tenant == "" {
		return errs.New(errs.Unauthorized, "no authenticated tenant")
	}
	if token == "" {
		return nil
	}
	if strings.HasPrefix(token, refreshPrefix) {
		rec, _, err := s.lookupRefresh(ctx, token)
		if err != nil || rec == nil || rec.Tenant != tenant {
			return err
		}
		return s.revokeFamily(ctx, rec.Family)
	}
	c, err := s.parseAccess(token)
	if err != nil || c.Corp != tenant {
		return nil
	}
	return s.revokeJTI(ctx, c.Jti, c.Exp)
}
