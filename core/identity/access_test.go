package identity

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/eimshub/eimshub/adapters/memory"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
)

func wantInvalidToken(t *testing.T, err error) {
	t.Helper()
	e := errs.As(err)
	if err == nil || e.Code != errs.Unauthorized || e.Reason != "invalid_token" {
		t.Fatalf("err = %v, want unauthorized/invalid_token", err)
	}
}

// resign re-signs the claims of tok with method/key/kid.
func resign(t *testing.T, tok string, method jwt.SigningMethod, key any, kid string, edit func(jwt.MapClaims)) string {
	t.Helper()
	_, claims := jwtParts(t, tok)
	mc := jwt.MapClaims(claims)
	if edit != nil {
		edit(mc)
	}
	nt := jwt.NewWithClaims(method, mc)
	if kid != "" {
		nt.Header["kid"] = kid
	}
	s, err := nt.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAuthenticateRejects(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	good := f.login(t).AccessToken
	key := f.svc.cfg.SigningKey.(ed25519.PrivateKey)
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)

	_, payload, _ := strings.Cut(good, ".")
	payload, _, _ = strings.Cut(payload, ".")
	noneHdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"k1"}`))

	tests := map[string]string{
		"empty":           "",
		"garbage":         "not.a.jwt",
		"alg none":        noneHdr + "." + payload + ".",
		"forged key":      resign(t, good, jwt.SigningMethodEdDSA, otherKey, "k1", nil),
		"wrong kid":       resign(t, good, jwt.SigningMethodEdDSA, key, "k2", nil),
		"no kid":          resign(t, good, jwt.SigningMethodEdDSA, key, "", nil),
		"HS256 with pub":  resign(t, good, jwt.SigningMethodHS256, []byte(key.Public().(ed25519.PublicKey)), "k1", nil),
		"wrong audience":  resign(t, good, jwt.SigningMethodEdDSA, key, "k1", func(c jwt.MapClaims) { c["aud"] = "other" }),
		"wrong issuer":    resign(t, good, jwt.SigningMethodEdDSA, key, "k1", func(c jwt.MapClaims) { c["iss"] = "evil" }),
		"no exp":          resign(t, good, jwt.SigningMethodEdDSA, key, "k1", func(c jwt.MapClaims) { delete(c, "exp") }),
		"no jti":          resign(t, good, jwt.SigningMethodEdDSA, key, "k1", func(c jwt.MapClaims) { delete(c, "jti") }),
		"tampered tenant": strings.Replace(good, payload, base64.RawURLEncoding.EncodeToString([]byte(`{"corp":"t2"}`)), 1),
		"future nbf": resign(t, good, jwt.SigningMethodEdDSA, key, "k1", func(c jwt.MapClaims) {
			c["nbf"] = time.Now().Add(time.Hour).Unix()
		}),
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := f.svc.Authenticate(ctx, tok)
			wantInvalidToken(t, err)
		})
	}
	// The untouched token still works (the cases above really were the cause).
	if _, err := f.svc.Authenticate(ctx, good); err != nil {
		t.Fatalf("good token: %v", err)
	}
}

func TestAuthenticateExpiry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok := f.login(t).AccessToken
	f.clock.Add(8*time.Hour + 20*time.Second) // within the 30 s leeway
	if _, err := f.svc.Authenticate(ctx, tok); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	f.clock.Add(15 * time.Second)
	_, err := f.svc.Authenticate(ctx, tok)
	wantInvalidToken(t, err)
}

func TestClientAccessTTL(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.AccessTTL = time.Hour })
	// web has accessTokenTTL 28800; svc has none → the configured default.
	if r := f.login(t); r.ExpiresIn != 28800 {
		t.Fatalf("web expires_in = %d", r.ExpiresIn)
	}
	r := f.mustToken(t, "grant_type=password", "username=admin", "password=123456", "client_id=svc", "client_secret=svc-secret")
	if r.ExpiresIn != 3600 {
		t.Fatalf("svc expires_in = %d", r.ExpiresIn)
	}
}

func TestRevokeAccessToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, b := f.login(t).AccessToken, f.login(t).AccessToken
	if err := f.svc.Revoke(ctx, a); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Authenticate(ctx, a)
	wantInvalidToken(t, err)
	if _, err := f.svc.Authenticate(ctx, b); err != nil {
		t.Fatalf("other token of the same user: %v", err)
	}
	if err := f.svc.Revoke(ctx, "garbage"); err != nil {
		t.Fatalf("Revoke(garbage): %v", err)
	}
}

func TestRevokeUser(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok := f.login(t).AccessToken
	svcTok := f.mustToken(t, "grant_type=client_credentials", "client_id=svc", "client_secret=svc-secret").AccessToken
	f.clock.Add(time.Second)
	if err := f.svc.RevokeUser(ctx, "t1", "u_1001"); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Authenticate(ctx, tok)
	wantInvalidToken(t, err)
	if _, err := f.svc.Authenticate(ctx, svcTok); err != nil {
		t.Fatalf("client token (no user) after RevokeUser: %v", err)
	}
	if err := f.svc.RevokeUser(ctx, "", "u_1001"); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("RevokeUser without tenant: %v", err)
	}
}

func TestAuthenticateCacheDown(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t).AccessToken
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.svc.Authenticate(ctx, tok)
	if errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("Authenticate with the cache unavailable: %v, want unavailable (fail closed)", err)
	}
}

func TestUserInfo(t *testing.T) {
	f := newFixture(t)
	p, err := f.svc.Authenticate(context.Background(), f.login(t).AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	got := f.svc.UserInfo(p)
	want := map[string]any{"sub": "admin", "name": "Admin", "id": "u_1001", "corp": "t1", "client_id": "web", "auth_time": p.AuthTime}
	if len(got) != len(want) {
		t.Fatalf("UserInfo = %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if m := f.svc.UserInfo(&principal.Principal{Tenant: "t1", ClientID: "svc"}); len(m) != 2 {
		t.Errorf("absent claims not omitted: %v", m)
	}
}

func TestJWKS(t *testing.T) {
	f := newFixture(t)
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(f.svc.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("keys = %v", set.Keys)
	}
	k := set.Keys[0]
	if k["kty"] != "OKP" || k["crv"] != "Ed25519" || k["kid"] != "k1" || k["alg"] != "EdDSA" || k["use"] != "sig" {
		t.Fatalf("jwk = %v", k)
	}
	x, err := base64.RawURLEncoding.DecodeString(k["x"])
	if err != nil {
		t.Fatal(err)
	}
	pub := ed25519.PublicKey(x)
	// A token verifies with the published key.
	tok, err := jwt.Parse(f.login(t).AccessToken, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithAudience("eimsnext.api"))
	if err != nil || !tok.Valid {
		t.Fatalf("token does not verify with the JWK: %v", err)
	}
	if _, ok := k["d"]; ok {
		t.Fatal("JWKS leaks the private key")
	}
}

func TestDefaultKeyID(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	st := newStore(t)
	c := memory.NewCache()
	t.Cleanup(func() { _ = c.Close() })
	svc, err := New(Config{SigningKey: key}, st, c, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	// RFC 7638: the required members in lexicographic order, no whitespace.
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`))
	cfg := svc.cfg
	if cfg.KeyID != base64.RawURLEncoding.EncodeToString(sum[:]) || len(cfg.KeyID) != 43 {
		t.Fatalf("default kid = %q", cfg.KeyID)
	}
	if cfg.Audience != "eimsnext.api" || cfg.AccessTTL != 8*time.Hour || cfg.RefreshTTL != 15*24*time.Hour ||
		cfg.RefreshMaxTTL != 30*24*time.Hour || cfg.MaxFailedLogins != 5 || cfg.CodeTTL != 5*time.Minute {
		t.Fatalf("defaults = %+v", cfg)
	}
	if _, err := New(Config{}, st, c, nil, nil); err == nil {
		t.Fatal("no signing key accepted")
	}
}

// RS256 (spec §2.3, for JWT libraries without EdDSA): tokens are signed and
// verified with the RSA key, the JWKS publishes it, and neither an EdDSA
// token nor a short key is accepted.
func TestRS256(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *Config) { c.SigningKey = rsaKey })
	good := f.login(t).AccessToken
	hdr, _, _ := strings.Cut(good, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(hdr)
	if !strings.Contains(string(raw), `"alg":"RS256"`) {
		t.Fatalf("header = %s", raw)
	}
	if _, err := f.svc.Authenticate(context.Background(), good); err != nil {
		t.Fatalf("RS256 token rejected: %v", err)
	}
	var set struct{ Keys []map[string]string }
	if err := json.Unmarshal(f.svc.JWKS(), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS = %s", f.svc.JWKS())
	}
	if k := set.Keys[0]; k["kty"] != "RSA" || k["alg"] != "RS256" || k["e"] != "AQAB" || k["n"] == "" || k["d"] != "" || k["kid"] != "k1" {
		t.Fatalf("RSA JWK = %v", k)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := f.svc.Authenticate(context.Background(), resign(t, good, jwt.SigningMethodEdDSA, edKey, "k1", nil)); err == nil {
		t.Fatal("an EdDSA token accepted by an RS256 service")
	}
	if _, err := f.svc.Authenticate(context.Background(), resign(t, good, jwt.SigningMethodHS256, rsaKey.PublicKey.N.Bytes(), "k1", nil)); err == nil {
		t.Fatal("HS256 with the public modulus accepted")
	}
	short, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{SigningKey: short}, f.st, f.cache, nil, nil); err == nil {
		t.Fatal("a 1024-bit RSA key accepted")
	}
}

func TestLoadOrCreateSigningKeyRS256(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rsa.pem")
	k1, err := LoadOrCreateSigningKeyFor(path, AlgRS256)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := k1.(*rsa.PrivateKey)
	if !ok || r.N.BitLen() != 2048 {
		t.Fatalf("generated %T", k1)
	}
	k2, err := LoadOrCreateSigningKeyFor(path, AlgRS256)
	if err != nil || !r.Equal(k2) {
		t.Fatalf("reload: %v", err)
	}
	if _, err := LoadOrCreateSigningKeyFor(path, AlgEdDSA); err == nil || !strings.Contains(err.Error(), "RS256") {
		t.Fatalf("an RSA key file used for EdDSA: %v", err)
	}
	if _, err := LoadOrCreateSigningKeyFor(filepath.Join(t.TempDir(), "x.pem"), "HS256"); err == nil {
		t.Fatal("unknown algorithm accepted")
	}
}

func TestLoadOrCreateSigningKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "signing.pem")
	k1, err := LoadOrCreateSigningKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "-----BEGIN PRIVATE KEY-----") {
		t.Fatalf("key file is not PKCS#8 PEM: %q", b[:20])
	}
	k2, err := LoadOrCreateSigningKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.(ed25519.PrivateKey).Equal(k2) {
		t.Fatal("reloaded key differs")
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(bad, []byte("nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateSigningKey(bad); err == nil {
		t.Fatal("garbage key file accepted")
	}
}

func TestPassword(t *testing.T) {
	h, err := HashPassword("123456")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$2") {
		t.Fatalf("hash %q is not bcrypt", h)
	}
	h2, _ := HashPassword("123456")
	if h == h2 {
		t.Fatal("hashes are not salted")
	}
	if !CheckPassword(h2, "123456") {
		t.Fatal("second hash does not verify")
	}
	if !CheckPassword(h, "123456") || CheckPassword(h, "1234567") || CheckPassword(h, "") ||
		CheckPassword("", "123456") || CheckPassword("garbage", "123456") {
		t.Fatal("CheckPassword")
	}
	if _, err := HashPassword(strings.Repeat("x", 73)); !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("73-byte password: %v", err)
	}
}
