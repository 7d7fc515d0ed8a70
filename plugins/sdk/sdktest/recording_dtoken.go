package sdktest

import (
	"context"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// RecordingHost's dialect token calls (sdk.DialectTokenStore): recorded
// like every Host call, forwarded to Inner when it offers the store.

var _ sdk.DialectTokenStore = (*RecordingHost)(nil)

func dtInner(h sdk.Host) (sdk.DialectTokenStore, error) {
	ts, ok := h.(sdk.DialectTokenStore)
	if !ok {
		return nil, errs.New(errs.Unavailable, "the inner host offers no dialect token store")
	}
	return ts, nil
}

// IssueDialectToken implements sdk.DialectTokenStore.
func (r *RecordingHost) IssueDialectToken(ctx context.Context, p *sdk.Principal, userID string, spec sdk.DialectTokenSpec, attrs map[string]string) (*sdk.DialectToken, error) {
	return do(r, "IssueDialectToken", args{"principal": p, "userId": userID, "spec": spec, "attrs": attrs}, func(h sdk.Host) (*sdk.DialectToken, error) {
		ts, err := dtInner(h)
		if err != nil {
			return nil, err
		}
		return ts.IssueDialectToken(ctx, p, userID, spec, attrs)
	})
}

// ResolveDialectToken implements sdk.DialectTokenStore.
func (r *RecordingHost) ResolveDialectToken(ctx context.Context, spec sdk.DialectTokenSpec, token, limit string) (*sdk.DialectToken, error) {
	return do(r, "ResolveDialectToken", args{"spec": spec, "token": token, "limit": limit}, func(h sdk.Host) (*sdk.DialectToken, error) {
		ts, err := dtInner(h)
		if err != nil {
			return nil, err
		}
		return ts.ResolveDialectToken(ctx, spec, token, limit)
	})
}

// RefreshDialectToken implements sdk.DialectTokenStore.
func (r *RecordingHost) RefreshDialectToken(ctx context.Context, spec sdk.DialectTokenSpec, token, refreshToken string) (*sdk.DialectToken, error) {
	return do(r, "RefreshDialectToken", args{"spec": spec, "token": token, "refreshToken": refreshToken}, func(h sdk.Host) (*sdk.DialectToken, error) {
		ts, err := dtInner(h)
		if err != nil {
			return nil, err
		}
		return ts.RefreshDialectToken(ctx, spec, token, refreshToken)
	})
}

// TouchDialectToken implements sdk.DialectTokenStore.
func (r *RecordingHost) TouchDialectToken(ctx context.Context, spec sdk.DialectTokenSpec, token string, attrs map[string]string, renew bool) (*sdk.DialectToken, error) {
	return do(r, "TouchDialectToken", args{"spec": spec, "token": token, "attrs": attrs, "renew": renew}, func(h sdk.Host) (*sdk.DialectToken, error) {
		ts, err := dtInner(h)
		if err != nil {
			return nil, err
		}
		return ts.TouchDialectToken(ctx, spec, token, attrs, renew)
	})
}

// RevokeDialectToken implements sdk.DialectTokenStore.
func (r *RecordingHost) RevokeDialectToken(ctx context.Context, spec sdk.DialectTokenSpec, token string) error {
	_, err := do(r, "RevokeDialectToken", args{"spec": spec, "token": token}, func(h sdk.Host) (any, error) {
		ts, err := dtInner(h)
		if err != nil {
			return nil, err
		}
		return nil, ts.RevokeDialectToken(ctx, spec, token)
	})
	return err
}
