package identity

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"

	"github.com/golang-jwt/jwt/v5"
)

// Signing algorithms (spec §2.3): EdDSA (Ed25519) by default, RS256 for
// clients whose JWT libraries lack EdDSA.
const (
	AlgEdDSA = "EdDSA"
	AlgRS256 = "RS256"
)

// minRSABits is the smallest RSA key accepted for RS256.
const minRSABits = 2048

// LoadOrCreateSigningKey reads an Ed25519 private key from the PEM file at
// path, creating it when absent (LoadOrCreateSigningKeyFor with AlgEdDSA).
func LoadOrCreateSigningKey(path string) (crypto.Signer, error) {
	return LoadOrCreateSigningKeyFor(path, AlgEdDSA)
}

// LoadOrCreateSigningKeyFor reads the signing key of alg from the PEM
// (PKCS #8, "PRIVATE KEY") file at path, creating the file (mode 0600,
// directory 0700) with a new key — Ed25519, or RSA 2048 for RS256 — when it
// does not exist. A file holding a key of the other algorithm is an error.
func LoadOrCreateSigningKeyFor(path, alg string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := ParseSigningKeyPEM(b)
		if err != nil {
			return nil, fmt.Errorf("identity: %s: %w", path, err)
		}
		if got := AlgOf(k); got != alg {
			return nil, fmt.Errorf("identity: %s holds a %s key, the configured algorithm is %s", path, got, alg)
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("identity: read signing key: %w", err)
	}
	var priv crypto.Signer
	switch alg {
	case AlgEdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case AlgRS256:
		priv, err = rsa.GenerateKey(rand.Reader, minRSABits)
	default:
		return nil, fmt.Errorf("identity: unknown signing algorithm %q (want %s or %s)", alg, AlgEdDSA, AlgRS256)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("identity: encode signing key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("identity: create key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it first: use theirs.
		return LoadOrCreateSigningKeyFor(path, alg)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: create signing key file: %w", err)
	}
	werr := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("identity: write signing key: %w", werr)
	}
	return priv, nil
}

// ParseSigningKeyPEM parses a PKCS #8 "PRIVATE KEY" PEM block holding an
// Ed25519 key or an RSA key of at least 2048 bits.
func ParseSigningKeyPEM(b []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM \"PRIVATE KEY\" block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	signer, ok := k.(crypto.Signer)
	if !ok || AlgOf(signer) == "" {
		return nil, fmt.Errorf("key is %T, want an Ed25519 or RSA key", k)
	}
	if r, ok := k.(*rsa.PrivateKey); ok && r.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("RSA key of %d bits, want at least %d", r.N.BitLen(), minRSABits)
	}
	return signer, nil
}

// AlgOf is the JWT algorithm a key signs with ("" for an unsupported key).
func AlgOf(k crypto.Signer) string {
	switch k.(type) {
	case ed25519.PrivateKey:
		return AlgEdDSA
	case *rsa.PrivateKey:
		return AlgRS256
	}
	return ""
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signingKey is the configured key with what the service derives from it.
type signingKey struct {
	method jwt.SigningMethod
	priv   crypto.Signer
	pub    crypto.PublicKey
	jwk    jwk // without kid
	// seed is stable secret material of the key, for peppers.
	seed []byte
}

func newSigningKey(k crypto.Signer) (*signingKey, error) {
	switch x := k.(type) {
	case ed25519.PrivateKey:
		if len(x) != ed25519.PrivateKeySize {
			return nil, errors.New("identity: config: malformed Ed25519 SigningKey")
		}
		pub := x.Public().(ed25519.PublicKey)
		return &signingKey{method: jwt.SigningMethodEdDSA, priv: x, pub: pub, seed: x.Seed(),
			jwk: jwk{Kty: "OKP", Crv: "Ed25519", X: b64(pub), Use: "sig", Alg: AlgEdDSA}}, nil
	case *rsa.PrivateKey:
		if x.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("identity: config: RSA SigningKey of %d bits, want at least %d", x.N.BitLen(), minRSABits)
		}
		sum := sha256.Sum256(x509.MarshalPKCS1PrivateKey(x))
		e := big.NewInt(int64(x.E)).Bytes()
		return &signingKey{method: jwt.SigningMethodRS256, priv: x, pub: &x.PublicKey, seed: sum[:],
			jwk: jwk{Kty: "RSA", N: b64(x.N.Bytes()), E: b64(e), Use: "sig", Alg: AlgRS256}}, nil
	case nil:
		return nil, errors.New("identity: config: SigningKey is required")
	}
	return nil, fmt.Errorf("identity: config: SigningKey is %T, want an Ed25519 or RSA private key", k)
}

// thumbprint is the RFC 7638 JWK thumbprint of the public key: the
// required members in lexicographic order, no whitespace (§3).
func (k *signingKey) thumbprint() string {
	var canon string
	if k.jwk.Kty == "RSA" {
		canon = `{"e":"` + k.jwk.E + `","kty":"RSA","n":"` + k.jwk.N + `"}`
	} else {
		canon = `{"crv":"Ed25519","kty":"OKP","x":"` + k.jwk.X + `"}`
	}
	h := sha256.Sum256([]byte(canon))
	return b64(h[:])
}

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

func buildJWKS(k jwk, kid string) []byte {
	k.Kid = kid
	b, err := json.Marshal(struct {
		Keys []jwk `json:"keys"`
	}{[]jwk{k}})
	if err != nil {
		panic("identity: marshal JWKS: " + err.Error())
	}
	return b
}

// JWKS returns the JSON Web Key Set publishing the token-signing public key
// (GET /.well-known/jwks.json). The caller must not modify the slice.
func (s *Service) JWKS() []byte { return s.jwks }
