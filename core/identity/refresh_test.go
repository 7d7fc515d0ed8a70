package identity

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eimshub/eimshub/core/errs"
)

// TV-4: rotation and reuse detection.
func TestRefreshRotationAndReuse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rt := f.login(t).RefreshToken

	r2 := f.mustToken(t, "grant_type=refresh_token", "refresh_token="+rt, "client_id=web")
	if r2.RefreshToken == "" || r2.RefreshToken == rt || r2.TokenType != "Bearer" {
		t.Fatalf("rotation response = %+v", r2)
	}
	if r2.Scope != "api.readwrite" {
		t.Fatalf("scope after refresh = %q", r2.Scope)
	}
	if _, err := f.svc.Authenticate(ctx, r2.AccessToken); err != nil {
		t.Fatalf("refreshed access token: %v", err)
	}
	// Reuse of the consumed token.
	_, err := f.token(t, "grant_type=refresh_token", "refresh_token="+rt, "client_id=web")
	wantOAuth(t, err, ErrInvalidGrant, 400)
	// The family is gone: the newest refresh token and its access token too.
	_, err = f.token(t, "grant_type=refresh_token", "refresh_token="+r2.RefreshToken, "client_id=web")
	wantOAuth(t, err, ErrInvalidGrant, 400)
	if _, err := f.svc.Authenticate(ctx, r2.AccessToken); !errors.Is(err, errs.E(errs.Unauthorized)) {
		t.Fatalf("access token of a revoked family: %v, want unauthorized", err)
	}
	// A fresh login starts a new, independent family.
	r3 := f.login(t)
	f.mustToken(t, "grant_type=refresh_token", "refresh_token="+r3.RefreshToken, "client_id=web")
}

// Every use rotates: each step returns a refresh token and an access token
// never seen before in the chain, and the successor works. Afterwards a
// token from the middle of the chain is refused, and presenting it is reuse:
// the family dies, its newest refresh and access tokens with it.
func TestRefreshChain(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first := f.login(t)
	chain := []string{first.RefreshToken}
	seenAT := map[string]bool{first.AccessToken: true}
	var last *TokenResponse
	for i := range 3 {
		last = f.mustToken(t, "grant_type=refresh_token", "refresh_token="+chain[i], "client_id=web")
		if !strings.HasPrefix(last.RefreshToken, refreshPrefix) || slices.Contains(chain, last.RefreshToken) {
			t.Fatalf("step %d: refresh token %q not rotated (chain %q)", i, last.RefreshToken, chain)
		}
		if seenAT[last.AccessToken] {
			t.Fatalf("step %d: access token not renewed", i)
		}
		if _, err := f.svc.Authenticate(ctx, last.AccessToken); err != nil {
			t.Fatalf("step %d: new access token refused: %v", i, err)
		}
		chain = append(chain, last.RefreshToken)
		seenAT[last.AccessToken] = true
	}
	// The consumed token in the middle of the chain is refused...
	_, err := f.token(t, "grant_type=refresh_token", "refresh_token="+chain[1], "client_id=web")
	wantOAuth(t, err, ErrInvalidGrant, 400)
	// ...and its reuse ended the family: the newest token is refused too.
	_, err = f.token(t, "grant_type=refresh_token", "refresh_token="+last.RefreshToken, "client_id=web")
	wantOAuth(t, err, ErrInvalidGrant, 400)
	if _, err := f.svc.Authenticate(ctx, last.AccessToken); !errors.Is(err, errs.E(errs.Unauthorized)) {
		t.Fatalf("newest access token of a reused family: %v, want unauthorized", err)
	}
	// Every token of the chain stays refused.
	for _, rt := range chain {
		_, err := f.token(t, "grant_type=refresh_token", "refresh_token="+rt, "client_id=web")
		wantOAuth(t, err, ErrInvalidGrant, 400)
	}
}

func TestRefreshBoundToClient(t *testing.T) {
	f := newFixture(t)
	rt := f.login(t).RefreshToken
	_, err := f.token(t, "grant_type=refresh_token", "refresh_token="+rt, "client_id=svc", "client_secret=svc-secret")
	wantOAuth(t, err, ErrInvalidGrant, 400)
	// Not consumed by the wrong client's attempt.
	f.mustToken(t, "grant_type=refresh_token", "refresh_token="+rt, "client_id=web")
}

func TestRefreshScopes(t *testing.T) {
	f := newFixture(t)
	rt := f.mustToken(t, "grant_type=password", "username=admin", "password=123456", "client_id=web", "scope=openid api.readwrite").RefreshToken
	_, err := f.token(t, "grant_type=refresh_token", "refresh_token="+rt, "client_id=web", "scope=profile")
	wantOAuth(t, err, ErrInvalidScope, 400)
	r := f.mustToken(t, "grant_type=refresh_token", "refresh_token="+rt, "client_id=web", "scope=api.read")
	if r.Scope != "api.read" {
		t.Fatalf("narrowed scope = %q", r.Scope)
	}
	// The family keeps the original grant.
	r = f.mustToken(t, "grant_type=refresh_token", "refresh_token="+r.RefreshToken, "client_id=web")
	if r.Scope != "openid api.readwrite" {
		t.Fatalf("scope after narrowing once = %q", r.Scope)
	}
}

func TestRefreshAbsoluteLifetime(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.RefreshTTL = time.Hour; c.RefreshMaxTTL = 2 * time.Hour })
	rt := f.login(t).RefreshToken
	f.clock.Add(2*time.Hour + time.Second)
	_, err := f.token(t, "grant_type=refresh_token", "refresh_token="+rt, "client_id=web")
	wantOAuth(t, err, ErrInvalidGrant, 400)
}

func TestRefreshAfterRevokeUser(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.login(t)
	f.clock.Add(2 * time.Second)
	if err := f.svc.RevokeUser(ctx, "t1", "u_1001"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, r.AccessToken); !errors.Is(err, errs.E(errs.Unauthorized)) {
		t.Fatalf("Authenticate after RevokeUser: %v", err)
	}
	_, err := f.token(t, "grant_type=refresh_token", "refresh_token="+r.RefreshToken, "client_id=web")
	wantOAuth(t, err, ErrInvalidGrant, 400)
	// A login after the mark works.
	f.clock.Add(2 * time.Second)
	r = f.login(t)
	if _, err := f.svc.Authenticate(ctx, r.AccessToken); err != nil {
		t.Fatalf("new token after RevokeUser: %v", err)
	}
	f.mustToken(t, "grant_type=refresh_token", "refresh_token="+r.RefreshToken, "client_id=web")
}

func TestRefreshDisabledUser(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rt := f.login(t).RefreshToken
	u, err := f.st.Get(ctx, "user", "t1", "u_1001")
	if err != nil {
		t.Fatal(err)
	}
	u["status"] = int64(1)
	if err := f.st.Update(ctx, "user", "t1", "u_1001", u, nil); err != nil {
		t.Fatal(err)
	}
	_, err = f.token(t, "grant_type=refresh_token", "refresh_token="+rt, "client_id=web")
	wantOAuth(t, err, ErrInvalidGrant, 400)
}

func TestRevocation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.login(t)
	// Another client's token is ignored.
	if err := f.svc.Revocation(ctx, TokenRequest{Form: formOf(t, "token="+r.RefreshToken, "client_id=svc", "client_secret=svc-secret")}); err != nil {
		t.Fatal(err)
	}
	r2 := f.mustToken(t, "grant_type=refresh_token", "refresh_token="+r.RefreshToken, "client_id=web")
	// The owner revokes its refresh token: the family ends.
	if err := f.svc.Revocation(ctx, TokenRequest{Form: formOf(t, "token="+r2.RefreshToken, "token_type_hint=refresh_token", "client_id=web")}); err != nil {
		t.Fatal(err)
	}
	_, err := f.token(t, "grant_type=refresh_token", "refresh_token="+r2.RefreshToken, "client_id=web")
	wantOAuth(t, err, ErrInvalidGrant, 400)
	// Access token revocation.
	r3 := f.login(t)
	if err := f.svc.Revocation(ctx, TokenRequest{Form: formOf(t, "token="+r3.AccessToken, "client_id=web")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, r3.AccessToken); !errors.Is(err, errs.E(errs.Unauthorized)) {
		t.Fatalf("revoked access token: %v", err)
	}
	// Unknown tokens are fine; a bad client or no token is not.
	if err := f.svc.Revocation(ctx, TokenRequest{Form: formOf(t, "token=garbage", "client_id=web")}); err != nil {
		t.Fatal(err)
	}
	wantOAuth(t, f.svc.Revocation(ctx, TokenRequest{Form: formOf(t, "token=x", "client_id=svc", "client_secret=no")}), ErrInvalidClient, 401)
	wantOAuth(t, f.svc.Revocation(ctx, TokenRequest{Form: formOf(t, "client_id=web")}), ErrInvalidRequest, 400)
	// Revoke (no client check).
	r4 := f.login(t)
	if err := f.svc.Revoke(ctx, r4.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err = f.token(t, "grant_type=refresh_token", "refresh_token="+r4.RefreshToken, "client_id=web")
	wantOAuth(t, err, ErrInvalidGrant, 400)
}

func TestRefreshConcurrentUseOneWinner(t *testing.T) {
	f := newFixture(t)
	rt := f.login(t).RefreshToken
	const n = 16
	results := make(chan error, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			_, err := f.svc.Token(context.Background(), TokenRequest{Form: formOf(t, "grant_type=refresh_token", "refresh_token="+rt, "client_id=web")})
			results <- err
		}()
	}
	close(start)
	wins := 0
	for range n {
		err := <-results
		if err == nil {
			wins++
			continue
		}
		var oe *OAuthError
		if !errors.As(err, &oe) || oe.Code != ErrInvalidGrant {
			t.Errorf("loser got %v, want invalid_grant", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent refreshes succeeded, want exactly 1", wins)
	}
}
