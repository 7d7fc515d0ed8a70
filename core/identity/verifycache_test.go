package identity

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"
)

// Issue 11 #2: a token whose signature was verified once is not verified
// again until it expires, and nothing else about it is cached: revocation,
// expiry and forged tokens behave as before.
func TestVerifiedTokenNotVerifiedAgain(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok := f.login(t).AccessToken
	if _, err := f.svc.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	// Swap the verification key: a token checked before is served from the
	// cache (no signature check); one never seen fails the check.
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	real := f.svc.key.pub
	f.svc.key.pub = other
	p, err := f.svc.Authenticate(ctx, tok)
	if err != nil {
		t.Fatalf("a verified token was verified again: %v", err)
	}
	if p.UserID != "u_1001" || p.Tenant != "t1" || !p.CanWrite() {
		t.Fatalf("principal from the cache: %+v", p)
	}
	p.Roles = append(p.Roles[:0], "tampered") // callers own their principal
	if p2, _ := f.svc.Authenticate(ctx, tok); len(p2.Roles) > 0 && p2.Roles[0] == "tampered" {
		t.Fatal("principals share the cached roles")
	}
	fresh := f.login(t).AccessToken
	_, err = f.svc.Authenticate(ctx, fresh)
	wantInvalidToken(t, err)
	f.svc.key.pub = real

	// A token altered by one character is another key: verified in full, refused.
	sub := "A"
	if tok[len(tok)-2] == 'A' {
		sub = "B"
	}
	forged := tok[:len(tok)-2] + sub + tok[len(tok)-1:]
	_, err = f.svc.Authenticate(ctx, forged)
	wantInvalidToken(t, err)

	// Revocation is read on every call: a cached token is refused at once.
	if err := f.svc.Revoke(ctx, tok); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Authenticate(ctx, tok)
	wantInvalidToken(t, err)

	// Expiry: past exp the cache no longer answers; past the leeway the
	// full check refuses.
	tok2 := f.login(t).AccessToken
	if _, err := f.svc.Authenticate(ctx, tok2); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(8*time.Hour + Leeway + time.Second)
	_, err = f.svc.Authenticate(ctx, tok2)
	wantInvalidToken(t, err)
}

func TestTokenCacheBounded(t *testing.T) {
	c := newTokenCache(8)
	now := time.Unix(1000, 0)
	for i := range 100 {
		k := [32]byte{byte(i)}
		c.put(k, &accessClaims{Exp: 2000}, now)
		if len(c.m) > 8 {
			t.Fatalf("%d entries, bound 8", len(c.m))
		}
	}
	k := [32]byte{200}
	c.put(k, &accessClaims{Exp: 1000}, now) // expired: not stored
	if c.get(k, now) != nil {
		t.Fatal("an expired token was stored")
	}
}
