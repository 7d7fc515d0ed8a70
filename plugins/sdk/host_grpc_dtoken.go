package sdk

import (
	"context"
	"encoding/json"

	"github.com/eimshub/eimshub/core/errs"
	pb "github.com/eimshub/eimshub/plugins/proto"
)

// The dialect token calls on the wire: one DialectToken RPC whose op names
// the call and whose payload is its arguments as JSON.

// Dialect token operations (DialectTokenRequest.op).
const (
	dtIssue   = "issue"
	dtResolve = "resolve"
	dtRefresh = "refresh"
	dtTouch   = "touch"
	dtRevoke  = "revoke"
)

// dtArgs are the arguments of every operation (unused ones empty).
type dtArgs struct {
	Principal    *Principal        `json:"principal,omitempty"`
	UserID       string            `json:"userId,omitempty"`
	Spec         DialectTokenSpec  `json:"spec"`
	Token        string            `json:"token,omitempty"`
	RefreshToken string            `json:"refreshToken,omitempty"`
	Limit        string            `json:"limit,omitempty"`
	Attrs        map[string]string `json:"attrs,omitempty"`
	Renew        bool              `json:"renew,omitempty"`
}

// ---- plugin side ----

var _ DialectTokenStore = (*hostClient)(nil)

func (h *hostClient) dialectToken(ctx context.Context, op string, a dtArgs) (*DialectToken, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "encode dialect token request")
	}
	res, err := h.c.DialectToken(ctx, &pb.DialectTokenRequest{Op: op, Payload: b})
	if err != nil {
		return nil, TransportError(err)
	}
	if res.Error != nil {
		return nil, from.Error(res.Error)
	}
	if len(res.Token) == 0 {
		return nil, nil
	}
	var t DialectToken
	if err := json.Unmarshal(res.Token, &t); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "decode dialect token")
	}
	return &t, nil
}

// IssueDialectToken implements DialectTokenStore.
func (h *hostClient) IssueDialectToken(ctx context.Context, p *Principal, userID string, spec DialectTokenSpec, attrs map[string]string) (*DialectToken, error) {
	return h.dialectToken(ctx, dtIssue, dtArgs{Principal: p, UserID: userID, Spec: spec, Attrs: attrs})
}

// ResolveDialectToken implements DialectTokenStore.
func (h *hostClient) ResolveDialectToken(ctx context.Context, spec DialectTokenSpec, token, limit string) (*DialectToken, error) {
	return h.dialectToken(ctx, dtResolve, dtArgs{Spec: spec, Token: token, Limit: limit})
}

// RefreshDialectToken implements DialectTokenStore.
func (h *hostClient) RefreshDialectToken(ctx context.Context, spec DialectTokenSpec, token, refreshToken string) (*DialectToken, error) {
	return h.dialectToken(ctx, dtRefresh, dtArgs{Spec: spec, Token: token, RefreshToken: refreshToken})
}

// TouchDialectToken implements DialectTokenStore.
func (h *hostClient) TouchDialectToken(ctx context.Context, spec DialectTokenSpec, token string, attrs map[string]string, renew bool) (*DialectToken, error) {
	return h.dialectToken(ctx, dtTouch, dtArgs{Spec: spec, Token: token, Attrs: attrs, Renew: renew})
}

// RevokeDialectToken implements DialectTokenStore.
func (h *hostClient) RevokeDialectToken(ctx context.Context, spec DialectTokenSpec, token string) error {
	_, err := h.dialectToken(ctx, dtRevoke, dtArgs{Spec: spec, Token: token})
	return err
}

// ---- host side ----

// DialectToken serves the dialect token calls from the Host when it
// implements DialectTokenStore (Unavailable otherwise).
func (s *hostServer) DialectToken(ctx context.Context, r *pb.DialectTokenRequest) (*pb.DialectTokenResponse, error) {
	ts, ok := s.h.(DialectTokenStore)
	if !ok {
		return &pb.DialectTokenResponse{Error: hostErr(errs.New(errs.Unavailable, "the hub offers no dialect token store"))}, nil
	}
	var a dtArgs
	if err := strictJSON(r.Payload, &a); err != nil {
		return &pb.DialectTokenResponse{Error: hostErr(err)}, nil
	}
	var (
		t   *DialectToken
		err error
	)
	switch r.Op {
	case dtIssue:
		t, err = ts.IssueDialectToken(ctx, a.Principal, a.UserID, a.Spec, a.Attrs)
	case dtResolve:
		t, err = ts.ResolveDialectToken(ctx, a.Spec, a.Token, a.Limit)
	case dtRefresh:
		t, err = ts.RefreshDialectToken(ctx, a.Spec, a.Token, a.RefreshToken)
	case dtTouch:
		t, err = ts.TouchDialectToken(ctx, a.Spec, a.Token, a.Attrs, a.Renew)
	case dtRevoke:
		err = ts.RevokeDialectToken(ctx, a.Spec, a.Token)
	default:
		err = errs.Newf(errs.Invalid, "unknown dialect token operation %q", r.Op)
	}
	if err != nil {
		return &pb.DialectTokenResponse{Error: hostErr(err)}, nil
	}
	if t == nil {
		return &pb.DialectTokenResponse{}, nil
	}
	b, err := json.Marshal(t)
	if err != nil {
		return &pb.DialectTokenResponse{Error: hostErr(errs.Wrap(errs.Internal, err, "encode dialect token"))}, nil
	}
	return &pb.DialectTokenResponse{Token: b}, nil
}
