package cache

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/eimshub/eimshub/core/errs"
)

// Near-cache limits.
const (
	// MaxNearTTL caps how long NewNear serves a local copy while the
	// underlying cache is reachable, so a write made through another hub
	// instance (a token revocation) is seen within a second.
	MaxNearTTL = time.Second
	// NearMaxStale is how old a local copy may be and still be served while
	// the underlying cache is errs.Unavailable.
	NearMaxStale = 5 * time.Minute
	// NearMaxEntries bounds the local map.
	NearMaxEntries = 16384
)

// NewNear wraps c with a small in-process "near" cache for reads of keys
// that start with one of prefixes (e.g. the revocation keys "rvj:" and
// "rvu:"), and passes every other call straight to c.
//
// Why: identity.Authenticate checks a bearer token's revocation keys with
// one MGet per request, and the rate limiter needs one more round trip. With
// the revocation keys served from a near cache, the token check usually
// costs zero round trips, leaving the limiter's one — the hot-path budget of
// DESIGN.md. Revocation keys are almost always absent, so the near cache
// remembers absence as well as values.
//
// Consistency:
//   - A local copy is served for ttl (clamped to MaxNearTTL; ttl <= 0
//     disables the near cache) after it was read from c. A write made
//     through another hub instance is therefore seen within ttl, plus one
//     round trip.
//   - Writes and deletes through this instance (Set, SetNX, Take, Del, Incr)
//     drop the local copies of their keys, and a read that raced with such a
//     write does not store its possibly older result, so this instance reads
//     its own writes at once.
//   - When c fails with errs.Unavailable (Redis down), a local copy up to
//     NearMaxStale old is served instead of the error: token validation
//     degrades to the local cache — tokens checked recently keep working,
//     others fail closed with errs.Unavailable — and recovers by itself when
//     c answers again.
//
// The local map holds at most NearMaxEntries keys. The returned Cache is
// safe for concurrent use.
func NewNear(c Cache, ttl time.Duration, prefixes ...string) Cache {
	return &near{
		Cache:    c,
		ttl:      min(ttl, MaxNearTTL),
		prefixes: prefixes,
		m:        make(map[string]nearEntry),
		now:      time.Now,
	}
}

type near struct {
	Cache // the underlying cache; unlisted keys and calls pass through

	ttl      time.Duration
	prefixes []string
	now      func() time.Time

	mu  sync.Mutex
	m   map[string]nearEntry
	gen uint64 // bumped by every local write; guards stores of racing reads
}

type nearEntry struct {
	val []byte    // nil = absent in the underlying cache
	at  time.Time // when it was read from the underlying cache
}

// near reports whether key is served from the near cache.
func (n *near) near(key string) bool {
	if n.ttl <= 0 {
		return false
	}
	for _, p := range n.prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

func cloneVal(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// Get implements Cache.
func (n *near) Get(ctx context.Context, key string) ([]byte, error) {
	if !n.near(key) {
		return n.Cache.Get(ctx, key)
	}
	vals, err := n.MGet(ctx, key)
	if err != nil {
		return nil, err
	}
	if vals[0] == nil {
		return nil, errs.New(errs.NotFound, "cache key not found").WithReason("cache_miss")
	}
	return vals[0], nil
}

// MGet implements Cache: fresh local copies are served locally, the rest
// is read from the underlying cache in one MGet.
func (n *near) MGet(ctx context.Context, keys ...string) ([][]byte, error) {
	if n.ttl <= 0 {
		return n.Cache.MGet(ctx, keys...)
	}
	out := make([][]byte, len(keys))
	var miss []int // indexes into keys read from the underlying cache
	n.mu.Lock()
	now := n.now()
	gen := n.gen
	for i, k := range keys {
		if !n.near(k) {
			miss = append(miss, i)
			continue
		}
		e, ok := n.m[k]
		if !ok || now.Sub(e.at) >= n.ttl {
			miss = append(miss, i)
			continue
		}
		out[i] = cloneVal(e.val)
	}
	n.mu.Unlock()
	if len(miss) == 0 {
		return out, nil
	}

	mk := make([]string, len(miss))
	for j, i := range miss {
		mk[j] = keys[i]
	}
	vals, err := n.Cache.MGet(ctx, mk...)
	if err != nil {
		if errors.Is(err, errs.E(errs.Unavailable)) && n.serveStale(out, keys, miss) {
			return out, nil
		}
		return nil, err
	}

	n.mu.Lock()
	defer n.mu.Unlock()
	store := n.gen == gen
	now = n.now()
	for j, i := range miss {
		out[i] = vals[j]
		if store && n.near(keys[i]) {
			n.put(keys[i], nearEntry{val: cloneVal(vals[j]), at: now})
		}
	}
	return out, nil
}

// serveStale fills out[miss] from local copies younger than NearMaxStale;
// it reports false (and out is to be discarded) when any key has none.
func (n *near) serveStale(out [][]byte, keys []string, miss []int) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.now()
	for _, i := range miss {
		e, ok := n.m[keys[i]]
		if !ok || !n.near(keys[i]) || now.Sub(e.at) >= NearMaxStale {
			return false
		}
		out[i] = cloneVal(e.val)
	}
	return true
}

// put stores e under key, making room when the map is full: first by
// dropping entries too old even to be served stale, then arbitrary ones.
// n.mu must be held.
func (n *near) put(key string, e nearEntry) {
	if _, ok := n.m[key]; !ok && len(n.m) >= NearMaxEntries {
		now := n.now()
		for k, old := range n.m {
			if now.Sub(old.at) >= NearMaxStale {
				delete(n.m, k)
			}
		}
		for k := range n.m {
			if len(n.m) < NearMaxEntries*3/4 {
				break
			}
			delete(n.m, k)
		}
	}
	n.m[key] = e
}

// forget drops local copies of keys after a write through this instance.
func (n *near) forget(keys ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.gen++
	for _, k := range keys {
		delete(n.m, k)
	}
}

// Set implements Cache.
func (n *near) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	err := n.Cache.Set(ctx, key, val, ttl)
	if n.near(key) {
		n.forget(key)
	}
	return err
}

// SetNX implements Cache.
func (n *near) SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	ok, err := n.Cache.SetNX(ctx, key, val, ttl)
	if n.near(key) {
		n.forget(key)
	}
	return ok, err
}

// Take implements Cache.
func (n *near) Take(ctx context.Context, key string) ([]byte, error) {
	v, err := n.Cache.Take(ctx, key)
	if n.near(key) {
		n.forget(key)
	}
	return v, err
}

// Del implements Cache.
func (n *near) Del(ctx context.Context, keys ...string) error {
	err := n.Cache.Del(ctx, keys...)
	n.forget(keys...)
	return err
}

// Incr implements Cache.
func (n *near) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	v, err := n.Cache.Incr(ctx, key, ttl)
	if n.near(key) {
		n.forget(key)
	}
	return v, err
}
