// Package identity is the hub's token service (spec eims-native.md §2): the
// OAuth2-style token endpoint's grants (password, SMS code, refresh token,
// client credentials), SMS verification codes, access-token issuing and
// checking, revocation, userinfo and the published signing keys.
//
// It keeps no state of its own. Clients and users live in the document store
// (collections "client" and "user", see notes/DATA.md); refresh-token
// families, revocations, SMS codes and brute-force counters live in the cache,
// so several hub instances sharing one Redis share them too.
//
// Errors: Token and Revocation return *OAuthError for everything a caller can
// get wrong (RFC 6749 §5.2); every other method returns *errs.Error values.
// Secrets, passwords, codes and tokens are never logged.
package identity

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/eimshub/eimshub/core/cache"
	"github.com/eimshub/eimshub/core/store"
)

// Config are the service's settings. Zero values take the defaults noted.
type Config struct {
	// Issuer is the JWT iss. Default "eimshub".
	Issuer string
	// Audience is the JWT aud. Default "eimsnext.api" (§2.3).
	Audience string
	// SigningKey signs access tokens: an Ed25519 key signs EdDSA, an RSA
	// key (≥ 2048 bits) RS256 (spec §2.3). Required.
	SigningKey crypto.Signer
	// KeyID is the JWT kid and the JWK's kid. Default: the key's RFC 7638
	// thumbprint.
	KeyID string
	// AccessTTL is the default access-token lifetime (a client's
	// accessTokenTTL overrides it). Default 8h.
	AccessTTL time.Duration
	// RefreshTTL is the sliding refresh-token lifetime. Default 15 days.
	RefreshTTL time.Duration
	// RefreshMaxTTL is the absolute lifetime of a refresh-token family. Default 30 days.
	RefreshMaxTTL time.Duration
	// MaxFailedLogins failed password attempts per user within LockoutWindow
	// lock the user's password logins for LockoutWindow. Default 5 / 15m.
	//
	// Failures are counted per (user, source IP) and lock only that pair,
	// so an attacker elsewhere cannot lock the user out; MaxFailedLoginsPerUser
	// failures from all addresses together within LockoutWindow lock the
	// user everywhere (a distributed guess). Default 10 × MaxFailedLogins.
	MaxFailedLogins        int
	MaxFailedLoginsPerUser int
	LockoutWindow          time.Duration
	// CodeTTL is an SMS code's lifetime. Default 5m.
	CodeTTL time.Duration
	// CodeResendInterval is the minimum time between two codes to one phone. Default 60s.
	CodeResendInterval time.Duration
	// CodeDailyMax is the most codes one phone receives per day. Default 10.
	CodeDailyMax int
	// CodeMaxAttempts is how often one code may be checked. Default 5.
	CodeMaxAttempts int
	// RegisterTenants are the tenants whose /auth/sendcode accepts
	// type=register (codes to numbers of no user); others answer 400.
	// Default: none.
	RegisterTenants map[string]bool
	// UnknownNumberIPMax is the most codes to numbers that belong to no
	// active user (register, bind) one source IP may request per
	// UnknownNumberWindow; UnknownNumberMax the most for the whole hub.
	// Default 5 and 200 per hour (SMS pumping, issue 10 #9).
	UnknownNumberIPMax  int
	UnknownNumberMax    int
	UnknownNumberWindow time.Duration
	// DefaultTenant is the tenant /auth/sendcode uses when the caller names no
	// client_id (the wiring sets it to the first seeded tenant). Without it,
	// sendcode requires client_id.
	DefaultTenant string
	// DirectoryCacheTTL is the longest a client or user read from the store
	// is served from memory (writers invalidate it at once, see
	// InvalidateDirectory; this bounds writes that bypass them). Default 1m;
	// negative: no directory cache.
	DirectoryCacheTTL time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Leeway is the clock skew tolerated on exp/nbf/iat (§2.3).
const Leeway = 30 * time.Second

func (c *Config) defaults() error {
	if c.Issuer == "" {
		c.Issuer = "eimshub"
	}
	if c.Audience == "" {
		c.Audience = "eimsnext.api"
	}
	setDur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	setInt := func(n *int, def int) {
		if *n <= 0 {
			*n = def
		}
	}
	setDur(&c.AccessTTL, 8*time.Hour)
	setDur(&c.RefreshTTL, 15*24*time.Hour)
	setDur(&c.RefreshMaxTTL, 30*24*time.Hour)
	setDur(&c.LockoutWindow, 15*time.Minute)
	setDur(&c.CodeTTL, 5*time.Minute)
	setDur(&c.CodeResendInterval, 60*time.Second)
	setInt(&c.MaxFailedLogins, 5)
	setInt(&c.MaxFailedLoginsPerUser, 10*c.MaxFailedLogins)
	setInt(&c.CodeDailyMax, 10)
	setInt(&c.CodeMaxAttempts, 5)
	setInt(&c.UnknownNumberIPMax, 5)
	setInt(&c.UnknownNumberMax, 200)
	setDur(&c.UnknownNumberWindow, time.Hour)
	if c.DirectoryCacheTTL == 0 {
		c.DirectoryCacheTTL = time.Minute
	}
	if c.RefreshMaxTTL < c.RefreshTTL {
		return fmt.Errorf("identity: config: RefreshMaxTTL %v is shorter than RefreshTTL %v", c.RefreshMaxTTL, c.RefreshTTL)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Service issues and checks tokens. It is safe for concurrent use.
type Service struct {
	cfg    Config
	st     store.Store
	c      cache.Cache
	sender Sender
	log    *slog.Logger
	key    *signingKey
	// codeKey peppers SMS-code hashes, so a cache dump does not give the
	// 6-digit codes away by a 10^6 brute force.
	codePepper []byte
	jwks       []byte
	// secrets coalesces concurrent bcrypt checks of one client secret.
	secrets secretFlight
	// tokens remembers access tokens whose signature was verified.
	tokens *tokenCache
	// dir caches clients and users (dircache.go).
	dir *dirCache
}

// New returns a Service. sender may be nil: codes are then recorded in the
// outbox (OutboxSender). logger may be nil (slog.Default()).
func New(cfg Config, st store.Store, c cache.Cache, sender Sender, logger *slog.Logger) (*Service, error) {
	key, err := newSigningKey(cfg.SigningKey)
	if err != nil {
		return nil, err
	}
	if cfg.KeyID == "" {
		cfg.KeyID = key.thumbprint()
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if st == nil || c == nil {
		return nil, errors.New("identity: New needs a store and a cache")
	}
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("component", "identity")
	if sender == nil {
		sender = &OutboxSender{Store: st, Logger: logger, Now: cfg.Now}
	}
	s := &Service{cfg: cfg, st: st, c: c, sender: sender, log: logger}
	s.key = key
	s.secrets.compare = CheckPassword
	s.tokens = newTokenCache(maxVerifiedTokens)
	s.dir = newDirCache(cfg.DirectoryCacheTTL)
	m := hmac.New(sha256.New, key.seed)
	m.Write([]byte("eimshub sms code pepper"))
	s.codePepper = m.Sum(nil)
	s.jwks = buildJWKS(key.jwk, cfg.KeyID)
	return s, nil
}

func (s *Service) now() time.Time { return s.cfg.Now() }

var (
	dummyOnce sync.Once
	dummyHash string
)

// dummyPasswordHash is checked against when a login names no user, so that
// unknown and known users take the same time to reject.
func (s *Service) dummyPasswordHash() string {
	dummyOnce.Do(func() {
		if h, err := HashPassword("eimshub-no-such-user"); err == nil {
			dummyHash = h
		}
	})
	return dummyHash
}

// sha256Hex hashes an opaque token for use as a cache key.
func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
