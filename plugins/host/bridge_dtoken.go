package host

import (
	"context"

	"github.com/eimshub/eimshub/core/dialecttoken"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// The bridge's dialect token store (sdk.DialectTokenStore) over
// core/dialecttoken.

var _ sdk.DialectTokenStore = (*bridge)(nil)

func (b *bridge) dt() (*dialecttoken.Service, error) {
	if b.dtokens == nil {
		return nil, errs.New(errs.Unavailable, "the hub has no dialect token store")
	}
	return b.dtokens, nil
}

func dtSpec(s sdk.DialectTokenSpec) dialecttoken.Spec {
	return dialecttoken.Spec{Namespace: s.Namespace, Length: s.Length, AccessTTL: s.AccessTTL, IdleTTL: s.IdleTTL,
		RefreshTTL: s.RefreshTTL, Grace: s.Grace}
}

func toSDKDialectToken(t *dialecttoken.Token, err error) (*sdk.DialectToken, error) {
	if err != nil {
		return nil, err
	}
	return &sdk.DialectToken{Token: t.Token, RefreshToken: t.RefreshToken, IssuedAt: t.IssuedAt, ClientID: t.ClientID,
		Principal: ToSDKPrincipal(t.Principal), Service: ToSDKPrincipal(t.Service), Attrs: t.Attrs}, nil
}

// IssueDialectToken implements sdk.DialectTokenStore: p is the client's
// principal (VerifyClient); the token acts as userID of p's tenant.
func (b *bridge) IssueDialectToken(ctx context.Context, p *sdk.Principal, userID string, spec sdk.DialectTokenSpec, attrs map[string]string) (*sdk.DialectToken, error) {
	s, err := b.dt()
	if err != nil {
		return nil, err
	}
	cp := FromSDKPrincipal(p)
	if cp == nil || cp.Tenant == "" || cp.ClientID == "" {
		return nil, errs.New(errs.Unauthorized, "no authenticated client").WithReason("no_principal")
	}
	return toSDKDialectToken(s.Issue(ctx, dtSpec(spec), cp.Tenant, cp.ClientID, userID, attrs))
}

// ResolveDialectToken implements sdk.DialectTokenStore.
func (b *bridge) ResolveDialectToken(ctx context.Context, spec sdk.DialectTokenSpec, token, limit string) (*sdk.DialectToken, error) {
	s, err := b.dt()
	if err != nil {
		return nil, err
	}
	return toSDKDialectToken(s.Resolve(ctx, dtSpec(spec), token, limit))
}

// RefreshDialectToken implements sdk.DialectTokenStore.
func (b *bridge) RefreshDialectToken(ctx context.Context, spec sdk.DialectTokenSpec, token, refreshToken string) (*sdk.DialectToken, error) {
	s, err := b.dt()
	if err != nil {
		return nil, err
	}
	return toSDKDialectToken(s.Refresh(ctx, dtSpec(spec), token, refreshToken))
}

// TouchDialectToken implements sdk.DialectTokenStore.
func (b *bridge) TouchDialectToken(ctx context.Context, spec sdk.DialectTokenSpec, token string, attrs map[string]string, renew bool) (*sdk.DialectToken, error) {
	s, err := b.dt()
	if err != nil {
		return nil, err
	}
	return toSDKDialectToken(s.Touch(ctx, dtSpec(spec), token, attrs, renew))
}

// RevokeDialectToken implements sdk.DialectTokenStore.
func (b *bridge) RevokeDialectToken(ctx context.Context, spec sdk.DialectTokenSpec, token string) error {
	s, err := b.dt()
	if err != nil {
		return err
	}
	return s.Revoke(ctx, dtSpec(spec), token)
}
