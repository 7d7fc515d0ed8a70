package identity

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// verifiedSecrets remembers, for a few minutes, client secrets that matched
// their bcrypt hash, so that dialects which send the secret on every request
// (H3Yun's EngineSecret, client_credentials loops) do not pay a bcrypt
// comparison (~50 ms) each time. The key is the stored hash plus the SHA-256
// of the presented secret: a changed secret has a new hash and misses; a
// wrong secret is never cached and always pays the full comparison, so
// guessing stays slow. Only SHA-256 digests are kept in memory.
var verifiedSecrets = &secretCache{ttl: 5 * time.Minute, max: 10000, m: map[secretKey]time.Time{}}

type secretKey struct {
	hash   string
	digest [sha256.Size]byte
}

type secretCache struct {
	mu  sync.Mutex
	ttl time.Duration
	max int
	m   map[secretKey]time.Time
}

func (c *secretCache) ok(hash, secret string) bool {
	k := secretKey{hash, sha256.Sum256([]byte(secret))}
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, found := c.m[k]
	if found && time.Now().Before(exp) {
		return true
	}
	if found {
		delete(c.m, k)
	}
	return false
}

func (c *secretCache) remember(hash, secret string) {
	k := secretKey{hash, sha256.Sum256([]byte(secret))}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m) // bounded: start over rather than grow
	}
	c.m[k] = time.Now().Add(c.ttl)
}

// secretFlight coalesces concurrent bcrypt comparisons of one secret
// against one hash (golang.org/x/sync/singleflight): the first caller
// compares, the others wait for its answer. The key is the hash and the
// SHA-256 of the secret, so different secrets never share an answer; a
// wrong secret is coalesced too (each caller is still refused) but never
// remembered.
type secretFlight struct {
	g singleflight.Group
	// compare is the bcrypt comparison (CheckPassword; tests count calls).
	compare func(hash, secret string) bool
	// joined counts callers registered with the group and not yet answered
	// (tests wait for it to know every caller shares the one comparison).
	joined atomic.Int64
}

func (f *secretFlight) check(hash, secret string) bool {
	d := sha256.Sum256([]byte(secret))
	ch := f.g.DoChan(hash+"\x00"+string(d[:]), func() (any, error) {
		if verifiedSecrets.ok(hash, secret) { // answered while we queued
			return true, nil
		}
		ok := f.compare(hash, secret)
		if ok {
			verifiedSecrets.remember(hash, secret)
		}
		return ok, nil
	})
	f.joined.Add(1)
	r := <-ch
	f.joined.Add(-1)
	ok, _ := r.Val.(bool)
	return ok
}
