package identity

import (
	"crypto/sha256"
	"sync"
	"time"
)

// Verified access tokens (issue 11 #2). Checking an access token's Ed25519
// (or RSA) signature and decoding its claims was about a third of the CPU of
// a native GET; a client sends the same token for hours. tokenCache keeps
// the claims of tokens whose signature, algorithm, kid, iss, aud and times
// were verified once, keyed by the SHA-256 of the token string (the token
// itself is not kept), until the token's exp. Only successful verifications
// are stored, so a forged or altered token always pays the full check.
//
// Revocation is not part of it: Authenticate reads the revocation marks on
// every request (one cache MGet, through the near cache with Redis), so a
// revoked token is refused as before — at once on the instance that
// revoked it, within a second on the others.
type tokenCache struct {
	max int

	mu sync.RWMutex
	m  map[[sha256.Size]byte]*accessClaims
}

// maxVerifiedTokens bounds tokenCache (about 0.5 KB an entry).
const maxVerifiedTokens = 50000

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, m: make(map[[sha256.Size]byte]*accessClaims)}
}

// get returns the verified claims of token, nil when unknown or expired at
// now (the claims are shared: read only).
func (c *tokenCache) get(k [sha256.Size]byte, now time.Time) *accessClaims {
	c.mu.RLock()
	cl := c.m[k]
	c.mu.RUnlock()
	if cl == nil || now.Unix() >= cl.Exp {
		return nil // an expired token is checked in full (Leeway) and not stored again
	}
	return cl
}

// put stores verified claims. When full it drops expired entries, then
// arbitrary ones down to three quarters: bounded memory whatever the
// number of tokens in use.
func (c *tokenCache) put(k [sha256.Size]byte, cl *accessClaims, now time.Time) {
	if now.Unix() >= cl.Exp {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		sec := now.Unix()
		for key, e := range c.m {
			if sec >= e.Exp {
				delete(c.m, key)
			}
		}
		for key := range c.m {
			if len(c.m) < c.max*3/4 {
				break
			}
			delete(c.m, key)
		}
	}
	c.m[k] = cl
}

// verifyAccess is parseAccess with tokenCache in front.
func (s *Service) verifyAccess(token string) (*accessClaims, error) {
	k := sha256.Sum256([]byte(token))
	now := s.now()
	if c := s.tokens.get(k, now); c != nil {
		return c, nil
	}
	c, err := s.parseAccess(token)
	if err != nil {
		return nil, err
	}
	s.tokens.put(k, c, now)
	return c, nil
}
