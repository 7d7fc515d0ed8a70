package identity

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/identity/identitytest"
)

// TV-1: password grant.
func TestPasswordGrantTV1(t *testing.T) {
	f := newFixture(t)
	r := f.login(t)
	if r.TokenType != "Bearer" || r.ExpiresIn != 28800 || r.Scope != "api.readwrite" {
		t.Fatalf("response = %+v", r)
	}
	if !strings.HasPrefix(r.RefreshToken, "rt_") || len(r.RefreshToken) < 3+43 {
		t.Fatalf("refresh token %q: want rt_ + >= 256 bits", r.RefreshToken)
	}
	hdr, claims := jwtParts(t, r.AccessToken)
	if hdr["alg"] != "EdDSA" || hdr["kid"] != "k1" {
		t.Errorf("header = %v", hdr)
	}
	want := map[string]any{
		"aud": "eimsnext.api", "id": "u_1001", "corp": "t1", "client_id": "web",
		"iss": "https://auth.test", "sub": "admin", "name": "Admin", "code": "E001", "scope": "api.readwrite",
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	for _, k := range []string{"iat", "exp", "auth_time", "jti"} {
		if claims[k] == nil {
			t.Errorf("claim %s missing", k)
		}
	}
	if jti, _ := claims["jti"].(string); len(jti) < 22 {
		t.Errorf("jti %q shorter than 128 bits", jti)
	}
	if roles, _ := claims["roles"].([]any); len(roles) != 1 || roles[0] != "admin" {
		t.Errorf("roles = %v", claims["roles"])
	}
	p, err := f.svc.Authenticate(context.Background(), r.AccessToken)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if p.Tenant != "t1" || p.UserID != "u_1001" || p.UserCode != "E001" || p.DisplayName != "Admin" ||
		p.ClientID != "web" || !p.CanWrite() || !p.IsAdmin() || p.Login != "admin" || p.TokenID == "" {
		t.Fatalf("principal = %+v", p)
	}
	audits := all(t, f.st, "loginaudit", "t1")
	if len(audits) != 1 || audits[0]["success"] != true || audits[0]["userId"] != "u_1001" || audits[0]["ip"] != "127.0.0.1" {
		t.Fatalf("login audit = %v", audits)
	}
}

func TestPasswordGrantLogins(t *testing.T) {
	f := newFixture(t)
	for _, login := range []string{"admin", "ADMIN", "12345678901", "admin@example.com", "Admin@Example.COM"} {
		t.Run(login, func(t *testing.T) {
			r := f.mustToken(t, "grant_type=password", "username="+login, "password=123456", "client_id=web")
			_, claims := jwtParts(t, r.AccessToken)
			if claims["id"] != "u_1001" || claims["sub"] != login {
				t.Fatalf("claims = %v", claims)
			}
			// No scope requested: the client's allowed scopes.
			if r.Scope != "openid profile api.readwrite" {
				t.Fatalf("scope = %q", r.Scope)
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	f := newFixture(t)
	pw := []string{"grant_type=password", "username=admin", "password=123456"}
	tests := []struct {
		name   string
		req    TokenRequest
		code   string
		status int
		desc   string
		basic  bool
	}{
		{name: "wrong password (TV-2)", req: TokenRequest{Form: formOf(t, "grant_type=password", "username=admin", "password=bad", "client_id=web")},
			code: ErrInvalidGrant, status: 400, desc: DescBadPassword},
		{name: "unknown user", req: TokenRequest{Form: formOf(t, "grant_type=password", "username=nobody", "password=123456", "client_id=web")},
			code: ErrInvalidGrant, status: 400, desc: DescBadPassword},
		{name: "disabled user", req: TokenRequest{Form: formOf(t, "grant_type=password", "username=olduser", "password=123456", "client_id=web")},
			code: ErrInvalidGrant, status: 400, desc: DescBadPassword},
		{name: "missing password", req: TokenRequest{Form: formOf(t, "grant_type=password", "username=admin", "client_id=web")},
			code: ErrInvalidRequest, status: 400},
		{name: "missing grant_type", req: TokenRequest{Form: formOf(t, "username=admin", "password=123456", "client_id=web")},
			code: ErrInvalidRequest, status: 400},
		{name: "repeated parameter", req: TokenRequest{Form: formOf(t, append(pw, "client_id=web", "scope=openid", "scope=profile")...)},
			code: ErrInvalidRequest, status: 400},
		{name: "missing client_id", req: TokenRequest{Form: formOf(t, pw...)},
			code: ErrInvalidRequest, status: 400},
		{name: "unknown client", req: TokenRequest{Form: formOf(t, append(pw, "client_id=nope")...)},
			code: ErrInvalidClient, status: 401, desc: DescBadClient},
		{name: "confidential client without secret", req: TokenRequest{Form: formOf(t, append(pw, "client_id=svc")...)},
			code: ErrInvalidClient, status: 401},
		{name: "wrong secret", req: TokenRequest{Form: formOf(t, append(pw, "client_id=svc", "client_secret=bad")...)},
			code: ErrInvalidClient, status: 401},
		{name: "wrong secret via Basic", req: TokenRequest{Form: formOf(t, pw...), Basic: true, BasicClientID: "svc", BasicClientSecret: "bad"},
			code: ErrInvalidClient, status: 401, basic: true},
		{name: "public client with a secret", req: TokenRequest{Form: formOf(t, append(pw, "client_id=web", "client_secret=x")...)},
			code: ErrInvalidClient, status: 401},
		{name: "secret in body and Basic", req: TokenRequest{Form: formOf(t, append(pw, "client_secret=svc-secret")...), Basic: true, BasicClientID: "svc", BasicClientSecret: "svc-secret"},
			code: ErrInvalidRequest, status: 400},
		{name: "Basic and a different client_id", req: TokenRequest{Form: formOf(t, append(pw, "client_id=web")...), Basic: true, BasicClientID: "svc", BasicClientSecret: "svc-secret"},
			code: ErrInvalidRequest, status: 400},
		{name: "unsupported grant", req: TokenRequest{Form: formOf(t, "grant_type=implicit", "client_id=web")},
			code: ErrUnsupportedGrantType, status: 400},
		{name: "sso not offered", req: TokenRequest{Form: formOf(t, "grant_type=sso", "client_id=web")},
			code: ErrUnsupportedGrantType, status: 400},
		{name: "grant not allowed for client", req: TokenRequest{Form: formOf(t, "grant_type=client_credentials", "client_id=web")},
			code: ErrUnauthorizedClient, status: 400},
		{name: "client_credentials not allowed", req: TokenRequest{Form: formOf(t, append(pw, "client_id=svc-user", "client_secret=svc-secret")...)},
			code: ErrUnauthorizedClient, status: 400},
		{name: "invalid scope", req: TokenRequest{Form: formOf(t, append(pw, "client_id=web", "scope=api.readwrite admin.all")...)},
			code: ErrInvalidScope, status: 400},
		{name: "refresh without token", req: TokenRequest{Form: formOf(t, "grant_type=refresh_token", "client_id=web")},
			code: ErrInvalidRequest, status: 400},
		{name: "unknown refresh token", req: TokenRequest{Form: formOf(t, "grant_type=refresh_token", "refresh_token=rt_nope", "client_id=web")},
			code: ErrInvalidGrant, status: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Token(context.Background(), tc.req)
			oe := wantOAuth(t, err, tc.code, tc.status)
			if tc.desc != "" && oe.Description != tc.desc {
				t.Errorf("description = %q, want %q", oe.Description, tc.desc)
			}
			if oe.Basic != tc.basic {
				t.Errorf("Basic = %v, want %v", oe.Basic, tc.basic)
			}
		})
	}
}

func TestConfidentialClient(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Secret as form fields.
	f.mustToken(t, "grant_type=password", "username=admin", "password=123456", "client_id=svc", "client_secret=svc-secret")
	// Secret with HTTP Basic.
	r, err := f.svc.Token(ctx, TokenRequest{Form: formOf(t, "grant_type=password", "username=admin", "password=123456"),
		Basic: true, BasicClientID: "svc", BasicClientSecret: "svc-secret"})
	if err != nil {
		t.Fatalf("Basic: %v", err)
	}
	_, claims := jwtParts(t, r.AccessToken)
	if claims["client_id"] != "svc" {
		t.Fatalf("client_id = %v", claims["client_id"])
	}
	// A "sha256:" secret hash works too.
	if !f.svc.checkSecret("sha256:"+sha256Hex("s3cret"), "s3cret") || f.svc.checkSecret("sha256:"+sha256Hex("s3cret"), "other") {
		t.Fatal("sha256 secret hash comparison")
	}
}

func TestScopes(t *testing.T) {
	f := newFixture(t)
	tests := []struct{ scope, want string }{
		{"api.readwrite offline_access", "api.readwrite offline_access"},
		{"api.read", "api.read"},
		{"openid profile", "openid profile"},
		{"profile profile", "profile"},
	}
	for _, tc := range tests {
		r := f.mustToken(t, "grant_type=password", "username=admin", "password=123456", "client_id=web", "scope="+tc.scope)
		if r.Scope != tc.want {
			t.Errorf("scope %q granted %q, want %q", tc.scope, r.Scope, tc.want)
		}
		p, err := f.svc.Authenticate(context.Background(), r.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if tc.scope == "api.read" && (!p.CanRead() || p.CanWrite()) {
			t.Errorf("api.read principal: read %v write %v", p.CanRead(), p.CanWrite())
		}
	}
}

func TestBruteForceLockout(t *testing.T) {
	f := newFixture(t)
	bad := []string{"grant_type=password", "username=admin", "password=wrong", "client_id=web"}
	for range 5 {
		_, err := f.token(t, bad...)
		wantOAuth(t, err, ErrInvalidGrant, 400)
	}
	// Locked: even the right password fails, saying so and when to retry.
	_, err := f.token(t, "grant_type=password", "username=admin", "password=123456", "client_id=web")
	oe := wantOAuth(t, err, ErrInvalidGrant, 400)
	if oe.Description != DescLocked || oe.RetryAfter < 1 || oe.RetryAfter > 15*60 {
		t.Fatalf("description = %q, retry after %d", oe.Description, oe.RetryAfter)
	}
	// The lock is per user, whatever login names it.
	_, err = f.token(t, "grant_type=password", "username=12345678901", "password=123456", "client_id=web")
	wantOAuth(t, err, ErrInvalidGrant, 400)
	var locked int
	for _, a := range all(t, f.st, "loginaudit", "t1") {
		if a["reason"] == "locked" {
			locked++
		}
	}
	if locked != 2 {
		t.Fatalf("%d audit entries with reason locked, want 2", locked)
	}
	// SMS login is not a password attempt and still works.
	if err := f.svc.SendCode(context.Background(), "t1", identitytest.AdminPhone, PurposeLogin); err != nil {
		t.Fatal(err)
	}
	f.mustToken(t, "grant_type=code", "username=12345678901", "code="+f.lastCode(t, identitytest.AdminPhone), "client_id=web")
}

func TestFailuresBelowLimitAreForgottenOnSuccess(t *testing.T) {
	f := newFixture(t)
	for range 4 {
		_, err := f.token(t, "grant_type=password", "username=admin", "password=wrong", "client_id=web")
		wantOAuth(t, err, ErrInvalidGrant, 400)
	}
	f.login(t)
	for range 4 {
		_, err := f.token(t, "grant_type=password", "username=admin", "password=wrong", "client_id=web")
		wantOAuth(t, err, ErrInvalidGrant, 400)
	}
	f.login(t) // 8 failures in the window, but never 5 in a row
}

func TestClientCredentials(t *testing.T) {
	f := newFixture(t)
	r := f.mustToken(t, "grant_type=client_credentials", "client_id=svc-user", "client_secret=svc-secret")
	if r.RefreshToken != "" {
		t.Fatal("client_credentials issued a refresh token")
	}
	p, err := f.svc.Authenticate(context.Background(), r.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID != "u_1001" || p.Login != "admin" || p.ClientID != "svc-user" || p.Tenant != "t1" || !p.CanWrite() {
		t.Fatalf("principal = %+v", p)
	}
	// Without a service user the client acts as itself.
	r = f.mustToken(t, "grant_type=client_credentials", "client_id=svc", "client_secret=svc-secret", "scope=api.read")
	p, err = f.svc.Authenticate(context.Background(), r.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID != "" || p.Login != "svc" || p.Tenant != "t1" || p.CanWrite() || !p.CanRead() {
		t.Fatalf("principal = %+v", p)
	}
}

func TestStoreFailureIsNotAnOAuthError(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = f.cache.Close()
	// The memory cache honours ctx; a canceled request cannot complete.
	_, err := f.svc.Token(ctx, TokenRequest{Form: formOf(t, "grant_type=refresh_token", "refresh_token=rt_x", "client_id=web")})
	var oe *OAuthError
	if err == nil || errors.As(err, &oe) {
		t.Fatalf("err = %v, want a non-OAuth error", err)
	}
	if errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("code = %v, want unavailable", errs.CodeOf(err))
	}
}

// tokenFrom posts a token request from source address ip.
func (f *fixture) tokenFrom(t *testing.T, ip string, pairs ...string) (*TokenResponse, error) {
	t.Helper()
	return f.svc.Token(context.Background(), TokenRequest{Form: formOf(t, pairs...), IP: ip})
}

// Issue 10 #11: failures lock the (user, source IP) pair, so an attacker
// elsewhere cannot lock the user out; a distributed guess from many
// addresses still hits the per-user ceiling.
func TestLockoutIsPerUserAndIP(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxFailedLogins = 3; c.MaxFailedLoginsPerUser = 7 })
	bad := []string{"grant_type=password", "username=admin", "password=wrong", "client_id=web"}
	good := []string{"grant_type=password", "username=admin", "password=123456", "client_id=web"}
	for range 3 {
		_, err := f.tokenFrom(t, "203.0.113.66", bad...)
		wantOAuth(t, err, ErrInvalidGrant, 400)
	}
	_, err := f.tokenFrom(t, "203.0.113.66", good...)
	if oe := wantOAuth(t, err, ErrInvalidGrant, 400); oe.Description != DescLocked {
		t.Fatalf("the attacker's address is not locked: %q", oe.Description)
	}
	// The user, from their own address, is not locked out.
	if _, err := f.tokenFrom(t, "192.0.2.10", good...); err != nil {
		t.Fatalf("the attacker locked the user out: %v", err)
	}
	// Spread over addresses: 3 + 2 + 2 = 7 failures reach the user's ceiling.
	for _, ip := range []string{"198.51.100.1", "198.51.100.1", "198.51.100.2", "198.51.100.2"} {
		_, err := f.tokenFrom(t, ip, bad...)
		wantOAuth(t, err, ErrInvalidGrant, 400)
	}
	_, err = f.tokenFrom(t, "192.0.2.10", good...)
	if oe := wantOAuth(t, err, ErrInvalidGrant, 400); oe.Description != DescLocked || oe.RetryAfter < 1 {
		t.Fatalf("past the per-user ceiling: %q retry %d", oe.Description, oe.RetryAfter)
	}
}
