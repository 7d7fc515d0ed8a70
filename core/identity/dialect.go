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
