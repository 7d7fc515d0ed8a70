package identity

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/eimshub/eimshub/core/errs"
)

// Refresh tokens (§2.3): opaque "rt_" + 256 random bits, stored only as a
// SHA-256 hash. Each token belongs to a family started by a login. Using a
// token consumes it (cache Take: one winner) and returns its successor in the
// same family; presenting a consumed token again is reuse, which revokes the
// family — its newest token and the newest access token included. A token
// lives RefreshTTL from its issue (sliding), a family RefreshMaxTTL from the
// login (absolute).
//
// Cache keys:
//
//	rt:<hash>   refreshRecord, TTL min(RefreshTTL, family end)
//	rtu:<hash>  family id of a consumed token (reuse detection), TTL family end
//	rtf:<fam>   familyRecord (the family is alive while it exists), TTL family end

const refreshPrefix = "rt_"

type refreshRecord struct {
	Family   string   `json:"fam"`
	Client   string   `json:"cid"`
	Tenant   string   `json:"tid"`
	User     string   `json:"uid"`
	Login    string   `json:"sub"`
	Scopes   []string `json:"scp"`
	AuthTime int64    `json:"at"`
	Issued   int64    `json:"iss"` // epoch ms
	End      int64    `json:"end"` // family end, epoch ms
}

type familyRecord struct {
	Current string `json:"cur"` // hash of the newest token
	JTI     string `json:"jti"` // newest access token issued with it
	JTIExp  int64  `json:"jexp"`
}

func refreshKey(hash string) string { return "rt:" + hash }
func usedKey(hash string) string    { return "rtu:" + hash }
func familyKey(fam string) string   { return "rtf:" + fam }

// newFamily starts a refresh-token family and returns its first token.
func (s *Service) newFamily(ctx context.Context, rec refreshRecord, jti string, jtiExp int64) (string, error) {
	fam, err := randomToken(16)
	if err != nil {
		return "", err
	}
	rec.Family = fam
	rec.End = s.now().Add(s.cfg.RefreshMaxTTL).UnixMilli()
	return s.mintRefresh(ctx, rec, jti, jtiExp)
}

// mintRefresh stores a new token of rec's family and makes it the family's newest.
func (s *Service) mintRefresh(ctx context.Context, rec refreshRecord, jti string, jtiExp int64) (string, error) {
	raw, err := randomToken(32)
	if err != nil {
		return "", err
	}
	tok := refreshPrefix + raw
	h := sha256Hex(tok)
	now := s.now()
	rec.Issued = now.UnixMilli()
	famLeft := time.UnixMilli(rec.End).Sub(now)
	if famLeft <= 0 {
		return "", errs.New(errs.Internal, "refresh family already ended")
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "encode refresh token")
	}
	fb, err := json.Marshal(familyRecord{Current: h, JTI: jti, JTIExp: jtiExp})
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "encode refresh family")
	}
	if err := s.c.Set(ctx, refreshKey(h), b, min(s.cfg.RefreshTTL, famLeft)); err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "store refresh token")
	}
	if err := s.c.Set(ctx, familyKey(rec.Family), fb, famLeft); err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "store refresh family")
	}
	return tok, nil
}

// revokeFamily ends a family: its newest refresh token and access token die.
func (s *Service) revokeFamily(ctx context.Context, fam string) error {
	b, err := s.c.Take(ctx, familyKey(fam))
	if errors.Is(err, errs.E(errs.NotFound)) {
		return nil
	}
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "revoke refresh family")
	}
	var f familyRecord
	if err := json.Unmarshal(b, &f); err != nil {
		return errs.Wrap(errs.Internal, err, "decode refresh family")
	}
	if err := s.c.Del(ctx, refreshKey(f.Current)); err != nil {
		return errs.Wrap(errs.Unavailable, err, "revoke refresh token")
	}
	if f.JTI != "" {
		return s.revokeJTI(ctx, f.JTI, f.JTIExp)
	}
	return nil
}

// revokeFamilyLogged revokes a family where the caller's answer is already
// decided (invalid_grant); a failure is logged.
func (s *Service) revokeFamilyLogged(ctx context.Context, fam string) {
	if err := s.revokeFamily(ctx, fam); err != nil {
		s.log.WarnContext(ctx, "refresh family not revoked", "err", err)
	}
}

// lookupRefresh returns the live record of a refresh token; nil when the
// token is unknown, expired or consumed (in which case reuse is handled).
func (s *Service) lookupRefresh(ctx context.Context, tok string) (*refreshRecord, string, error) {
	if !strings.HasPrefix(tok, refreshPrefix) {
		return nil, "", nil
	}
	h := sha256Hex(tok)
	b, err := s.c.Get(ctx, refreshKey(h))
	if errors.Is(err, errs.E(errs.NotFound)) {
		return nil, h, nil
	}
	if err != nil {
		return nil, "", errs.Wrap(errs.Unavailable, err, "read refresh token")
	}
	var rec refreshRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, "", errs.Wrap(errs.Internal, err, "decode refresh token")
	}
	return &rec, h, nil
}

// detectReuse revokes the family of a consumed token presented again.
func (s *Service) detectReuse(ctx context.Context, h string) error {
	fam, err := s.c.Get(ctx, usedKey(h))
	if errors.Is(err, errs.E(errs.NotFound)) {
		return nil
	}
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "read refresh reuse mark")
	}
	s.log.WarnContext(ctx, "refresh token reused: revoking its family")
	return s.revokeFamily(ctx, string(fam))
}

// refreshGrant implements grant_type=refresh_token with rotation (§2.3).
func (s *Service) refreshGrant(ctx context.Context, req TokenRequest, cl *client) (*TokenResponse, error) {
	tok := form(req.Form, "refresh_token")
	if tok == "" {
		return nil, oauthErr(ErrInvalidRequest, "refresh_token is required")
	}
	bad := oauthErr(ErrInvalidGrant, "the refresh token is invalid, expired or revoked")
	rec, h, err := s.lookupRefresh(ctx, tok)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		if h != "" {
			if err := s.detectReuse(ctx, h); err != nil {
				return nil, err
			}
		}
		return nil, bad
	}
	if rec.Client != cl.ID || rec.Tenant != cl.Tenant {
		// Not this client's token: refuse without consuming it.
		return nil, bad
	}
	scopes, oe := narrowScopes(rec.Scopes, req.Form.Get("scope"))
	if oe != nil {
		return nil, oe
	}
	vals, err := s.c.MGet(ctx, familyKey(rec.Family), revokedUserKey(rec.Tenant, rec.User))
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "check refresh family")
	}
	if vals[0] == nil {
		return nil, bad // family revoked
	}
	if vals[1] != nil && revokedBefore(vals[1], rec.Issued) {
		s.revokeFamilyLogged(ctx, rec.Family)
		return nil, bad
	}
	if _, err := s.c.Take(ctx, refreshKey(h)); err != nil {
		if errors.Is(err, errs.E(errs.NotFound)) {
			return nil, bad // a concurrent request used it first
		}
		return nil, errs.Wrap(errs.Unavailable, err, "consume refresh token")
	}
	famLeft := time.UnixMilli(rec.End).Sub(s.now())
	if famLeft <= 0 {
		return nil, bad
	}
	if err := s.c.Set(ctx, usedKey(h), []byte(rec.Family), famLeft); err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "mark refresh token used")
	}
	u, err := s.loadUser(ctx, rec.Tenant, rec.User)
	if err != nil {
		return nil, err
	}
	if u == nil {
		s.revokeFamilyLogged(ctx, rec.Family)
		return nil, bad
	}
	at, ttl, jti, exp, err := s.signAccess(cl, u, rec.Login, scopes, rec.AuthTime)
	if err != nil {
		return nil, err
	}
	next, err := s.mintRefresh(ctx, *rec, jti, exp)
	if err != nil {
		return nil, err
	}
	return &TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(ttl.Seconds()),
		RefreshToken: next, Scope: strings.Join(scopes, " ")}, nil
}
