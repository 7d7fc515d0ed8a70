package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
)

// DialectPrincipal is what dialect tokens (core/dialecttoken) check on
// every use: the principal of userID of tenant acting through clientID,
// with the client's scopes, and the client's fingerprint (a digest of its
// secret hash: it changes when the secret is regenerated). Unauthorized
// when the client is unknown, disabled or of another tenant; NotFound when
// the user is absent or inactive. Both come from the directory cache.
func (s *Service) DialectPrincipal(ctx context.Context, clientID, tenant, userID string) (*principal.Principal, string, error) {
	cl, err := s.loadTenantClient(ctx, clientID, tenant)
	if err != nil {
		return nil, "", err
	}
	u, err := s.loadUser(ctx, tenant, userID)
	if err != nil {
		return nil, "", err
	}
	if u == nil {
		return nil, "", errs.NotFoundf("user %q not found or inactive", userID).WithTarget("userId")
	}
	sum := sha256.Sum256([]byte(cl.SecretHash))
	p := &principal.Principal{Tenant: tenant, ClientID: cl.ID, Scopes: slices.Clone(cl.Scopes),
		UserID: u.ID, UserCode: u.Code, DisplayName: u.Name, Login: u.UserName, Roles: slices.Clone(u.Roles),
		AuthTime: s.now().Unix()}
	return p, hex.EncodeToString(sum[:8]), nil
}

// ServicePrincipal is the principal of clientID's own service user (as
// VerifyClient returns it, without the secret check): what a dialect token
// store hands connectors for system work on the token's behalf, such as
// allocating the dialect's ids of entities the token's user sees.
// Unauthorized for an unknown, disabled or foreign client, or one without
// an active service user.
func (s *Service) ServicePrincipal(ctx context.Context, clientID, tenant string) (*principal.Principal, error) {
	cl, err := s.loadTenantClient(ctx, clientID, tenant)
	if err != nil {
		return nil, err
	}
	p := &principal.Principal{Tenant: cl.Tenant, ClientID: cl.ID, Login: cl.ID, Scopes: slices.Clone(cl.Scopes), AuthTime: s.now().Unix()}
	if cl.ServiceUserID == "" {
		return p, nil
	}
	u, err := s.loadUser(ctx, cl.Tenant, cl.ServiceUserID)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, errs.New(errs.Unauthorized, "the client's service user is missing or disabled").WithReason(ErrInvalidClient)
	}
	p.UserID, p.UserCode, p.DisplayName, p.Login, p.Roles = u.ID, u.Code, u.Name, u.UserName, slices.Clone(u.Roles)
	return p, nil
}
