package identity

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
)

// TokenRequest is a parsed request to the token (or revocation) endpoint.
type TokenRequest struct {
	// Form holds the x-www-form-urlencoded body, repeated keys included
	// (a repeated parameter is invalid_request, RFC 6749 §3.2).
	Form url.Values
	// Basic reports that the request carried HTTP Basic client credentials
	// (already decoded, RFC 6749 §2.3.1).
	Basic                            bool
	BasicClientID, BasicClientSecret string
	// IP is the caller's address, for the login audit.
	IP string
}

// TokenResponse is the success body (RFC 6749 §5.1, spec §2.2).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// Grant types (§2.2).
const (
	GrantPassword          = "password"
	GrantCode              = "code"
	GrantVerificationCode  = "verification_code" // the original's name for GrantCode
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Scopes (§2.2).
const (
	ScopeReadWrite     = "api.readwrite"
	ScopeRead          = "api.read"
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeOfflineAccess = "offline_access"
)

// form reads one parameter, "" when absent.
func form(f url.Values, k string) string { return strings.TrimSpace(f.Get(k)) }

// Token handles a token-endpoint request. Caller errors are *OAuthError;
// store or cache failures are *errs.Error (Unavailable/Internal).
func (s *Service) Token(ctx context.Context, req TokenRequest) (*TokenResponse, error) {
	for k, v := range req.Form {
		if len(v) > 1 {
			return nil, oauthErr(ErrInvalidRequest, "parameter "+k+" is repeated")
		}
	}
	grant := form(req.Form, "grant_type")
	if grant == "" {
		return nil, oauthErr(ErrInvalidRequest, "grant_type is required")
	}
	cl, err := s.authenticateClient(ctx, req)
	if err != nil {
		return nil, err
	}
	if grant == GrantVerificationCode {
		grant = GrantCode
	}
	switch grant {
	case GrantPassword, GrantCode, GrantRefreshToken, GrantClientCredentials:
	default:
		return nil, oauthErr(ErrUnsupportedGrantType, "grant_type "+grant+" is not supported")
	}
	if !clientAllows(cl, grant) {
		return nil, oauthErr(ErrUnauthorizedClient, "the client may not use grant_type "+grant)
	}
	switch grant {
	case GrantPassword:
		return s.passwordGrant(ctx, req, cl)
	case GrantCode:
		return s.codeGrant(ctx, req, cl)
	case GrantRefreshToken:
		return s.refreshGrant(ctx, req, cl)
	default:
		return s.clientCredentialsGrant(ctx, req, cl)
	}
}

func clientAllows(cl *client, grant string) bool {
	if slices.Contains(cl.Grants, grant) {
		return true
	}
	if grant == GrantCode && slices.Contains(cl.Grants, GrantVerificationCode) {
		return true
	}
	return false
}

// authenticateClient implements RFC 6749 §2.3: credentials in the form or in
// HTTP Basic, never both.
func (s *Service) authenticateClient(ctx context.Context, req TokenRequest) (*client, error) {
	id, secret := form(req.Form, "client_id"), req.Form.Get("client_secret")
	if req.Basic {
		if secret != "" {
			return nil, oauthErr(ErrInvalidRequest, "client credentials sent both in the body and with HTTP Basic")
		}
		if id != "" && id != req.BasicClientID {
			return nil, oauthErr(ErrInvalidRequest, "client_id differs from the HTTP Basic client")
		}
		id, secret = req.BasicClientID, req.BasicClientSecret
	}
	bad := func() *OAuthError {
		e := oauthErr(ErrInvalidClient, DescBadClient)
		e.Basic = req.Basic
		return e
	}
	if id == "" {
		if req.Basic {
			return nil, bad()
		}
		return nil, oauthErr(ErrInvalidRequest, "client_id is required")
	}
	cl, err := s.getClient(ctx, id)
	if errors.Is(err, errs.E(errs.NotFound)) {
		s.log.InfoContext(ctx, "client authentication failed", "client_id", id, "reason", "unknown_client")
		return nil, bad()
	}
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "load client")
	}
	var reason string
	switch {
	case cl.Disabled:
		reason = "disabled"
	case cl.Tenant == "":
		reason = "client has no tenant"
	case cl.Public && secret != "":
		// A public client has no secret; one sent anyway is a misconfigured
		// (or impersonating) caller.
		reason = "secret sent for a public client"
	case !cl.Public && !s.checkSecret(cl.SecretHash, secret):
		reason = "bad secret"
	}
	if reason != "" {
		s.log.InfoContext(ctx, "client authentication failed", "client_id", id, "reason", reason)
		return nil, bad()
	}
	return cl, nil
}

// checkSecret compares a client secret with its stored hash in constant
// time. secretHash is a bcrypt hash (HashPassword) or "sha256:<hex>".
// Concurrent checks of the same secret against the same hash share one
// bcrypt comparison (secretFlight), so a burst of first requests of one
// client — 32 connections of an H3Yun engine opening at once, or the
// moment its verifiedSecrets entry expires — costs one bcrypt, not 32.
func (s *Service) checkSecret(secretHash, secret string) bool {
	if secret == "" || secretHash == "" {
		return false
	}
	if hx, ok := strings.CutPrefix(secretHash, "sha256:"); ok {
		want, err := hex.DecodeString(hx)
		if err != nil {
			return false
		}
		got := sha256.Sum256([]byte(secret))
		return subtle.ConstantTimeCompare(got[:], want) == 1
	}
	if verifiedSecrets.ok(secretHash, secret) {
		return true
	}
	return s.secrets.check(secretHash, secret)
}

// HashClientSecret returns the value to store as a client's secretHash.
func HashClientSecret(secret string) (string, error) { return HashPassword(secret) }

// grantScopes applies §2.2: no scope → the client's allowed scopes; any
// scope outside them → invalid_scope. offline_access is always accepted, and
// api.read is implied by api.readwrite.
func grantScopes(cl *client, requested string) ([]string, *OAuthError) {
	req := strings.Fields(requested)
	if len(req) == 0 {
		return slices.Clone(cl.Scopes), nil
	}
	var out []string
	for _, sc := range req {
		ok := slices.Contains(cl.Scopes, sc) ||
			sc == ScopeOfflineAccess ||
			(sc == ScopeRead && slices.Contains(cl.Scopes, ScopeReadWrite))
		if !ok {
			return nil, oauthErr(ErrInvalidScope, "scope "+sc+" is not allowed for this client")
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// narrowScopes checks that a refresh request's scope is within the
// original grant (RFC 6749 §6); empty keeps the original.
func narrowScopes(orig []string, requested string) ([]string, *OAuthError) {
	req := strings.Fields(requested)
	if len(req) == 0 {
		return orig, nil
	}
	var out []string
	for _, sc := range req {
		if !slices.Contains(orig, sc) && !(sc == ScopeRead && slices.Contains(orig, ScopeReadWrite)) {
			return nil, oauthErr(ErrInvalidScope, "scope "+sc+" exceeds the original grant")
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// passwordGrant implements grant_type=password (§2.2).
func (s *Service) passwordGrant(ctx context.Context, req TokenRequest, cl *client) (*TokenResponse, error) {
	login, pw := form(req.Form, "username"), req.Form.Get("password")
	if login == "" || pw == "" {
		return nil, oauthErr(ErrInvalidRequest, "username and password are required")
	}
	scopes, oe := grantScopes(cl, req.Form.Get("scope"))
	if oe != nil {
		return nil, oe
	}
	a := audit{tenant: cl.Tenant, login: login, clientID: cl.ID, ip: req.IP, grant: GrantPassword}

	u, err := s.findUserByLogin(ctx, cl.Tenant, login)
	if err != nil {
		return nil, err
	}
	lockKey := bruteKey(cl.Tenant, login, u)
	wait, err := s.lockedFor(ctx, lockKey, req.IP)
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		s.writeAudit(ctx, a.fail(u, "locked"))
		e := oauthErr(ErrInvalidGrant, DescLocked)
		e.RetryAfter = int((wait + time.Second - 1) / time.Second)
		return nil, e
	}
	hash := s.dummyPasswordHash()
	if u != nil {
		hash = u.PasswordHash
	}
	ok := CheckPassword(hash, pw) && u != nil
	if !ok {
		reason := "bad_password"
		if u == nil {
			reason = "unknown_user"
		}
		if err := s.recordFailure(ctx, lockKey, req.IP); err != nil {
			s.log.WarnContext(ctx, "brute-force counter not updated", "err", err)
		}
		s.writeAudit(ctx, a.fail(u, reason))
		return nil, oauthErr(ErrInvalidGrant, DescBadPassword)
	}
	if err := s.c.Del(ctx, failKey(pairKey(lockKey, req.IP))); err != nil {
		s.log.WarnContext(ctx, "brute-force counter not reset", "err", err)
	}
	resp, err := s.issue(ctx, cl, u, login, scopes, s.now().Unix(), true)
	if err != nil {
		return nil, err
	}
	s.writeAudit(ctx, a.ok(u))
	return resp, nil
}

// findUserByLogin returns the one active user of tenant whose userName,
// workPhone or workEmail equals login; nil when there is none (or more
// than one: an ambiguous login logs in nobody).
//
// Case-insensitivity: the store compares strings exactly, so the lookup
// matches the login as typed and lower-cased. A user whose stored userName
// or workEmail has upper-case letters is found only by that exact spelling;
// the user service should store both lower-cased.
func (s *Service) findUserByLogin(ctx context.Context, tenant, login string) (*user, error) {
	docs, err := s.st.Find(ctx, collUser, tenant, loginQuery(login))
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "find user")
	}
	var found *user
	for _, d := range docs {
		u := userFromDoc(d)
		if !u.Active {
			continue
		}
		if found != nil && found.ID != u.ID {
			s.log.WarnContext(ctx, "login matches several users", "tenant", tenant)
			return nil, nil
		}
		found = u
	}
	return found, nil
}

// findUserByPhone returns the one active user of tenant with workPhone phone.
func (s *Service) findUserByPhone(ctx context.Context, tenant, phone string) (*user, error) {
	docs, err := s.st.Find(ctx, collUser, tenant, phoneQuery(phone))
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "find user")
	}
	var found *user
	for _, d := range docs {
		u := userFromDoc(d)
		if !u.Active {
			continue
		}
		if found != nil && found.ID != u.ID {
			return nil, nil
		}
		found = u
	}
	return found, nil
}

// loadUser returns the active user id of tenant, nil when absent or disabled.
func (s *Service) loadUser(ctx context.Context, tenant, id string) (*user, error) {
	u, err := s.getUser(ctx, tenant, id)
	if err != nil || u == nil || !u.Active {
		return nil, err
	}
	return u, nil
}

// codeGrant implements grant_type=code / verification_code (§2.2).
func (s *Service) codeGrant(ctx context.Context, req TokenRequest, cl *client) (*TokenResponse, error) {
	phone := form(req.Form, "username")
	if phone == "" {
		phone = form(req.Form, "phone")
	}
	code := form(req.Form, "code")
	if code == "" {
		code = form(req.Form, "password")
	}
	if phone == "" || code == "" {
		return nil, oauthErr(ErrInvalidRequest, "username (or phone) and code are required")
	}
	scopes, oe := grantScopes(cl, req.Form.Get("scope"))
	if oe != nil {
		return nil, oe
	}
	a := audit{tenant: cl.Tenant, login: phone, clientID: cl.ID, ip: req.IP, grant: GrantCode}
	if err := s.CheckCode(ctx, cl.Tenant, phone, PurposeLogin, code); err != nil {
		if errs.CodeOf(err) == errs.Invalid {
			s.writeAudit(ctx, a.fail(nil, "bad_code"))
			return nil, oauthErr(ErrInvalidGrant, DescBadCode)
		}
		return nil, err
	}
	u, err := s.findUserByPhone(ctx, cl.Tenant, phone)
	if err != nil {
		return nil, err
	}
	if u == nil {
		s.writeAudit(ctx, a.fail(nil, "unknown_user"))
		return nil, oauthErr(ErrInvalidGrant, DescBadCode)
	}
	resp, err := s.issue(ctx, cl, u, phone, scopes, s.now().Unix(), true)
	if err != nil {
		return nil, err
	}
	s.writeAudit(ctx, a.ok(u))
	return resp, nil
}

// clientCredentialsGrant implements grant_type=client_credentials: a
// confidential client acting as its service user (or as itself when it has
// none). No refresh token.
func (s *Service) clientCredentialsGrant(ctx context.Context, req TokenRequest, cl *client) (*TokenResponse, error) {
	if cl.Public {
		return nil, oauthErr(ErrUnauthorizedClient, "public clients may not use client_credentials")
	}
	scopes, oe := grantScopes(cl, req.Form.Get("scope"))
	if oe != nil {
		return nil, oe
	}
	a := audit{tenant: cl.Tenant, login: cl.ID, clientID: cl.ID, ip: req.IP, grant: GrantClientCredentials}
	var u *user
	login := cl.ID
	if cl.ServiceUserID != "" {
		var err error
		if u, err = s.loadUser(ctx, cl.Tenant, cl.ServiceUserID); err != nil {
			return nil, err
		}
		if u == nil {
			s.writeAudit(ctx, a.fail(nil, "service_user_unavailable"))
			return nil, oauthErr(ErrInvalidGrant, "the client's service user is missing or disabled")
		}
		login = u.UserName
	}
	resp, err := s.issue(ctx, cl, u, login, scopes, s.now().Unix(), false)
	if err != nil {
		return nil, err
	}
	s.writeAudit(ctx, a.ok(u))
	return resp, nil
}

// issue mints an access token and, for user grants, a new refresh-token family.
func (s *Service) issue(ctx context.Context, cl *client, u *user, login string, scopes []string, authTime int64, refresh bool) (*TokenResponse, error) {
	at, ttl, jti, exp, err := s.signAccess(cl, u, login, scopes, authTime)
	if err != nil {
		return nil, err
	}
	resp := &TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(ttl.Seconds()), Scope: strings.Join(scopes, " ")}
	if refresh && u != nil {
		rt, err := s.newFamily(ctx, refreshRecord{
			Client: cl.ID, Tenant: cl.Tenant, User: u.ID, Login: login,
			Scopes: scopes, AuthTime: authTime,
		}, jti, exp)
		if err != nil {
			return nil, err
		}
		resp.RefreshToken = rt
	}
	return resp, nil
}

// loginQuery is findUserByLogin's query: the login as typed and
// lower-cased against each login field (userIndexPaths index them).
func loginQuery(login string) query.Query {
	cands := []string{login}
	if l := strings.ToLower(login); l != login {
		cands = append(cands, l)
	}
	var or []query.Expr
	for _, c := range cands {
		for _, f := range []string{"userName", "workPhone", "workEmail"} {
			or = append(or, query.Cmp{Path: query.Path{f}, Op: query.Eq, Value: c})
		}
	}
	return query.Query{Filter: query.Or{Items: or}, Limit: 10}
}

// phoneQuery is findUserByPhone's query.
func phoneQuery(phone string) query.Query {
	return query.Query{Filter: query.Cmp{Path: query.Path{"workPhone"}, Op: query.Eq, Value: phone}, Limit: 10}
}
