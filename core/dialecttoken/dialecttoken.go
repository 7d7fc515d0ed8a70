// Package dialecttoken keeps dialect tokens: opaque access/refresh token
// pairs in a dialect's own format (e-office: 128 lower-case hex
// characters), bound to a hub client and a user of its tenant, with the
// dialect's lifetimes, in the hub's cache (Redis when configured, so every
// hub instance sees them). Tokens are stored only as SHA-256 digests (the
// keys); the refresh token an access token's holder may read back is kept
// in the access token's entry sealed (AES-GCM) with a key derived from the
// access token.
//
// Every resolve re-checks the client (disabled, deleted or a changed
// secret revokes its tokens) and the user (inactive: the token is revoked)
// through the directory, and can count the request against the client's
// rate. Refresh keeps the refresh token (no rotation, sliding lifetime);
// the replaced access token answers "replaced" for a grace period and a
// repeated refresh within it returns the same new token.
package dialecttoken

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"time"

	"github.com/eimshub/eimshub/core/cache"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/limits"
	"github.com/eimshub/eimshub/core/principal"
)

// Spec is a dialect's token format and lifetimes (seconds).
type Spec struct {
	Namespace  string
	Length     int
	AccessTTL  int64
	IdleTTL    int64
	RefreshTTL int64
	Grace      int64
}

func (s Spec) check() error {
	switch {
	case s.Namespace == "":
		return errs.New(errs.Invalid, "dialect token spec without a namespace").WithTarget("spec.namespace")
	case s.Length < 32 || s.Length > 256 || s.Length%2 != 0:
		return errs.New(errs.Invalid, "dialect token length must be even, 32–256").WithTarget("spec.length")
	case s.AccessTTL <= 0 || s.IdleTTL <= 0 || s.RefreshTTL <= 0 || s.Grace < 0:
		return errs.New(errs.Invalid, "dialect token lifetimes must be positive").WithTarget("spec")
	}
	return nil
}

// Reasons of the Unauthorized errors (the sdk's ReasonToken… constants).
const (
	ReasonUnknown        = "dialect_token_unknown"
	ReasonExpired        = "dialect_token_expired"
	ReasonReplaced       = "dialect_token_replaced"
	ReasonUserInactive   = "dialect_user_inactive"
	ReasonRefreshDead    = "dialect_refresh_dead"
	ReasonRefreshForeign = "dialect_refresh_foreign"
)

func unauthorized(reason, msg string) *errs.Error {
	return errs.New(errs.Unauthorized, msg).WithReason(reason)
}

// Directory checks a token's client and user (identity.Service).
type Directory interface {
	DialectPrincipal(ctx context.Context, clientID, tenant, userID string) (*principal.Principal, string, error)
	// ServicePrincipal is the client's own principal (its service user).
	ServicePrincipal(ctx context.Context, clientID, tenant string) (*principal.Principal, error)
}

// Limiter counts requests (limits.Limits).
type Limiter interface {
	Allow(ctx context.Context, k limits.Key) (limits.Decision, error)
}

// Service issues and checks dialect tokens.
type Service struct {
	c    cache.Cache
	dir  Directory
	lim  Limiter
	now  func() time.Time
	rand io.Reader
}

// New returns a Service over c; lim may be nil (no rate counting).
func New(c cache.Cache, dir Directory, lim Limiter) *Service {
	return &Service{c: c, dir: dir, lim: lim, now: time.Now, rand: rand.Reader}
}

// SetRand replaces the token randomness (tests that need reproducible
// tokens; never in production).
func (s *Service) SetRand(r io.Reader) { s.rand = r }

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Token is an issued or resolved token.
type Token struct {
	Token        string
	RefreshToken string
	IssuedAt     int64
	ClientID     string
	Principal    *principal.Principal
	// Service is the client's own principal (Resolve and Touch only).
	Service *principal.Principal
	Attrs   map[string]string
}

type accessEntry struct {
	Tenant string `json:"t"`
	Client string `json:"c"`
	User   string `json:"u"`
	// Refresh is the pair's refresh token sealed with a key derived from
	// the access token (sealRefresh): the store never holds it in clear,
	// and only a holder of the access token can read it back.
	Refresh    []byte            `json:"r"`
	IssuedAt   int64             `json:"i"`
	FP         string            `json:"f"`
	Attrs      map[string]string `json:"a,omitempty"`
	ReplacedAt int64             `json:"x,omitempty"`
}

type refreshEntry struct {
	Tenant   string `json:"t"`
	Client   string `json:"c"`
	User     string `json:"u"`
	IssuedAt int64  `json:"i"`
}

func digest(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func accessKey(ns, tok string) string  { return "dt:" + ns + ":a:" + digest(tok) }
func refreshKey(ns, tok string) string { return "dt:" + ns + ":r:" + digest(tok) }
func nextKey(ns, tok string) string    { return "dt:" + ns + ":n:" + digest(tok) }

func sec(n int64) time.Duration { return time.Duration(n) * time.Second }

func (s *Service) newToken(n int) (string, error) {
	b := make([]byte, n/2)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", errs.Wrap(errs.Internal, err, "generate token")
	}
	return hex.EncodeToString(b), nil
}

func (s *Service) put(ctx context.Context, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "encode token entry")
	}
	if err := s.c.Set(ctx, key, b, ttl); err != nil {
		return errs.Wrap(errs.Unavailable, err, "store token")
	}
	return nil
}

func get[T any](ctx context.Context, c cache.Cache, key string) (*T, error) {
	b, err := c.Get(ctx, key)
	if errors.Is(err, errs.E(errs.NotFound)) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "read token")
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, nil // a corrupt entry is no entry
	}
	return &v, nil
}

// Issue issues a pair for clientID of tenant acting as userID. NotFound
// when the user is absent or inactive; Unauthorized for a bad client.
func (s *Service) Issue(ctx context.Context, spec Spec, tenant, clientID, userID string, attrs map[string]string) (*Token, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	if tenant == "" || clientID == "" {
		return nil, errs.New(errs.Unauthorized, "no authenticated client").WithReason("no_principal")
	}
	p, fp, err := s.dir.DialectPrincipal(ctx, clientID, tenant, userID)
	if err != nil {
		return nil, err
	}
	refresh, err := s.newToken(spec.Length)
	if err != nil {
		return nil, err
	}
	now := s.now().Unix()
	if err := s.put(ctx, refreshKey(spec.Namespace, refresh), refreshEntry{Tenant: tenant, Client: clientID, User: userID, IssuedAt: now}, sec(spec.RefreshTTL)); err != nil {
		return nil, err
	}
	return s.issueAccess(ctx, spec, p, fp, refresh, attrs, now)
}

func (s *Service) issueAccess(ctx context.Context, spec Spec, p *principal.Principal, fp, refresh string, attrs map[string]string, now int64) (*Token, error) {
	tok, err := s.newToken(spec.Length)
	if err != nil {
		return nil, err
	}
	sealed, err := s.sealRefresh(tok, refresh)
	if err != nil {
		return nil, err
	}
	e := accessEntry{Tenant: p.Tenant, Client: p.ClientID, User: p.UserID, Refresh: sealed, IssuedAt: now, FP: fp, Attrs: maps.Clone(attrs)}
	if err := s.put(ctx, accessKey(spec.Namespace, tok), e, sec(spec.IdleTTL)); err != nil {
		return nil, err
	}
	return &Token{Token: tok, RefreshToken: refresh, IssuedAt: now, ClientID: p.ClientID, Principal: p, Attrs: e.Attrs}, nil
}

// check loads and checks an access token without its expiry: unknown,
// replaced, client revoked, user inactive. An entry whose client or user
// fails is deleted.
func (s *Service) check(ctx context.Context, spec Spec, tok string) (*accessEntry, *principal.Principal, error) {
	if err := spec.check(); err != nil {
		return nil, nil, err
	}
	if tok == "" {
		return nil, nil, unauthorized(ReasonUnknown, "invalid token")
	}
	key := accessKey(spec.Namespace, tok)
	e, err := get[accessEntry](ctx, s.c, key)
	if err != nil {
		return nil, nil, err
	}
	if e == nil {
		return nil, nil, unauthorized(ReasonUnknown, "invalid token")
	}
	if e.ReplacedAt != 0 {
		return nil, nil, unauthorized(ReasonReplaced, "the token was replaced by a refresh")
	}
	p, fp, err := s.dir.DialectPrincipal(ctx, e.Client, e.Tenant, e.User)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		_ = s.c.Del(ctx, key)
		return nil, nil, unauthorized(ReasonUserInactive, "the token's user is inactive")
	case errs.CodeOf(err) == errs.Unauthorized:
		_ = s.c.Del(ctx, key)
		return nil, nil, unauthorized(ReasonUnknown, "the token's client is revoked")
	case err != nil:
		return nil, nil, err
	case fp != e.FP:
		_ = s.c.Del(ctx, key)
		return nil, nil, unauthorized(ReasonUnknown, "the token's client secret changed")
	}
	return e, p, nil
}

// Resolve checks an access token (unknown, replaced, client revoked, user
// inactive, expired: Unauthorized with the reason) and, when limit names a
// connector, counts the request against the client's rate on it.
func (s *Service) Resolve(ctx context.Context, spec Spec, tok, limit string) (*Token, error) {
	e, p, err := s.check(ctx, spec, tok)
	if err != nil {
		return nil, err
	}
	if s.now().Unix()-e.IssuedAt >= spec.AccessTTL {
		return nil, unauthorized(ReasonExpired, "the token has expired")
	}
	if limit != "" && s.lim != nil {
		d, err := s.lim.Allow(ctx, limits.Key{Kind: limits.API, Tenant: e.Tenant, Client: e.Client, Connector: limit})
		if err != nil {
			return nil, err
		}
		if !d.Allowed {
			return nil, errs.Newf(errs.RateLimited, "rate limit exceeded; retry in %s", d.RetryAfter).WithReason("rate_limited")
		}
	}
	svc, err := s.dir.ServicePrincipal(ctx, e.Client, e.Tenant)
	if err != nil {
		return nil, unauthorized(ReasonUnknown, "the token's client is revoked")
	}
	return &Token{Token: tok, RefreshToken: openRefresh(tok, e.Refresh), IssuedAt: e.IssuedAt, ClientID: e.Client, Principal: p, Service: svc, Attrs: e.Attrs}, nil
}

// Refresh issues a new access token for (tok, refresh) (see the package
// doc). ReasonRefreshDead when tok or refresh has no live record, or the
// user is gone; ReasonRefreshForeign when refresh belongs to another user
// or client.
func (s *Service) Refresh(ctx context.Context, spec Spec, tok, refresh string) (*Token, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	dead := unauthorized(ReasonRefreshDead, "the token or refresh token is no longer valid")
	if tok == "" || refresh == "" {
		return nil, dead
	}
	// A repeat within the grace period returns the same new token.
	if b, err := s.c.Get(ctx, nextKey(spec.Namespace, tok)); err == nil {
		return s.Resolve(ctx, spec, openRefresh(tok, b), "")
	}
	e, err := get[accessEntry](ctx, s.c, accessKey(spec.Namespace, tok))
	if err != nil {
		return nil, err
	}
	if e == nil || e.ReplacedAt != 0 {
		// A concurrent refresh may have replaced the token between the
		// grace lookup above and this read: answer its token as well.
		if b, err := s.c.Get(ctx, nextKey(spec.Namespace, tok)); err == nil {
			return s.Resolve(ctx, spec, openRefresh(tok, b), "")
		}
		return nil, dead
	}
	r, err := get[refreshEntry](ctx, s.c, refreshKey(spec.Namespace, refresh))
	if err != nil {
		return nil, err
	}
	now := s.now().Unix()
	if r == nil || now-r.IssuedAt >= spec.RefreshTTL {
		return nil, dead
	}
	if r.Tenant != e.Tenant || r.Client != e.Client || r.User != e.User {
		return nil, unauthorized(ReasonRefreshForeign, "the refresh token belongs to another user")
	}
	p, fp, err := s.dir.DialectPrincipal(ctx, e.Client, e.Tenant, e.User)
	if err != nil || fp != e.FP {
		if err != nil && errs.CodeOf(err) != errs.NotFound && errs.CodeOf(err) != errs.Unauthorized {
			return nil, err
		}
		return nil, dead
	}
	nt, err := s.issueAccess(ctx, spec, p, fp, refresh, e.Attrs, now)
	if err != nil {
		return nil, err
	}
	sealedNext, err := s.sealRefresh(tok, nt.Token)
	if err != nil {
		return nil, err
	}
	won, err := s.c.SetNX(ctx, nextKey(spec.Namespace, tok), sealedNext, sec(max(spec.Grace, 1)))
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "store token")
	}
	if !won {
		// A concurrent refresh of the same token won: answer its token.
		_ = s.c.Del(ctx, accessKey(spec.Namespace, nt.Token))
		b, err := s.c.Get(ctx, nextKey(spec.Namespace, tok))
		if err != nil {
			return nil, dead
		}
		return s.Resolve(ctx, spec, openRefresh(tok, b), "")
	}
	e.ReplacedAt = now
	if spec.Grace > 0 {
		if err := s.put(ctx, accessKey(spec.Namespace, tok), e, sec(spec.Grace)); err != nil {
			return nil, err
		}
	} else if err := s.c.Del(ctx, accessKey(spec.Namespace, tok)); err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "store token")
	}
	r.IssuedAt = now
	if err := s.put(ctx, refreshKey(spec.Namespace, refresh), r, sec(spec.RefreshTTL)); err != nil {
		return nil, err
	}
	return nt, nil
}

// Touch re-arms a valid (not necessarily unexpired) access token's idle
// lifetime, merges attrs into its attributes and, with renew, issues a
// new pair for the same user (returned; the old token stays valid).
func (s *Service) Touch(ctx context.Context, spec Spec, tok string, attrs map[string]string, renew bool) (*Token, error) {
	e, p, err := s.check(ctx, spec, tok)
	if err != nil {
		return nil, err
	}
	if len(attrs) > 0 {
		if e.Attrs == nil {
			e.Attrs = map[string]string{}
		}
		maps.Copy(e.Attrs, attrs)
	}
	if err := s.put(ctx, accessKey(spec.Namespace, tok), e, sec(spec.IdleTTL)); err != nil {
		return nil, err
	}
	if renew {
		return s.Issue(ctx, spec, e.Tenant, e.Client, e.User, e.Attrs)
	}
	return &Token{Token: tok, RefreshToken: openRefresh(tok, e.Refresh), IssuedAt: e.IssuedAt, ClientID: e.Client, Principal: p, Attrs: e.Attrs}, nil
}

// Revoke deletes an access token and its refresh record.
func (s *Service) Revoke(ctx context.Context, spec Spec, tok string) error {
	if err := spec.check(); err != nil {
		return err
	}
	key := accessKey(spec.Namespace, tok)
	e, err := get[accessEntry](ctx, s.c, key)
	if err != nil {
		return err
	}
	keys := []string{key}
	if e != nil {
		if r := openRefresh(tok, e.Refresh); r != "" {
			keys = append(keys, refreshKey(spec.Namespace, r))
		}
	}
	if err := s.c.Del(ctx, keys...); err != nil {
		return errs.Wrap(errs.Unavailable, err, fmt.Sprintf("revoke token (%d keys)", len(keys)))
	}
	return nil
}

// refreshAEAD is the AES-256-GCM of an access token's sealing key: the
// SHA-256 of a label and the token (the store keys entries by another
// digest of the token, so the key is not derivable from what is stored).
func refreshAEAD(tok string) (cipher.AEAD, error) {
	key := sha256.Sum256([]byte("eimshub-dialect-refresh\x00" + tok))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealRefresh encrypts a token (the pair's refresh token, or the token
// that replaced tok) under tok's key, nonce first.
func (s *Service) sealRefresh(tok, refresh string) ([]byte, error) {
	aead, err := refreshAEAD(tok)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "seal refresh token")
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(s.rand, nonce); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "seal refresh token")
	}
	return aead.Seal(nonce, nonce, []byte(refresh), nil), nil
}

// openRefresh decrypts a sealed refresh token ("" when it does not open).
func openRefresh(tok string, sealed []byte) string {
	aead, err := refreshAEAD(tok)
	if err != nil || len(sealed) < aead.NonceSize() {
		return ""
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return ""
	}
	return string(plain)
}
