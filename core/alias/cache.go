package alias

import (
	"sync"
	"time"
)

// The lookup cache. A dialect read resolves the aliases of every record,
// owner and department it renders (FindRecords WithAliases: up to three
// lookups per page), so without a cache each H3Yun read paid three store
// queries for aliases that almost never change.
//
// An alias, once written, never changes: both directions are unique and
// there is no update or delete (a restore of a backup needs the hub
// stopped). A found alias is therefore kept until the cache is full. An id
// found without an alias is remembered for missTTL only: on this instance
// every write (Set, Allocate) drops the misses of the ids it wrote at once,
// and a write on another instance sharing the store (or by `eimshub seed`)
// is seen here within missTTL — the bound issue 11 sets for the hub's
// caches. A miss read concurrently with a write is not kept (generation
// check), so it cannot outlive the write. Allocate answers the ids whose
// alias is cached without a transaction; the lookups inside its
// transaction (for the others) bypass the cache, and what they read or
// allocated is cached once the transaction committed.
const (
	missTTL      = time.Second
	cacheMaxKeys = 1 << 16
)

type cacheKey struct{ tenant, ns, kind, dir, value string }

type cacheEntry struct {
	value string    // the other side; "" for a miss
	at    time.Time // misses only: when it was read
}

type lookupCache struct {
	now func() time.Time

	mu  sync.RWMutex
	m   map[cacheKey]cacheEntry
	gen uint64 // bumped by every write; misses read before it are dropped
}

func newLookupCache() *lookupCache {
	return &lookupCache{now: time.Now, m: map[cacheKey]cacheEntry{}}
}

// generation is read before a store lookup whose misses may be kept.
func (c *lookupCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// get returns the cached other side of k and whether k is cached at all
// ("" and true: known to have no alias).
func (c *lookupCache) get(k cacheKey) (string, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || e.value == "" && c.now().Sub(e.at) >= missTTL {
		return "", false
	}
	return e.value, true
}

// put keeps the results of one store lookup read at generation gen: the
// found aliases, and the misses unless a write happened since gen.
func (c *lookupCache) put(base cacheKey, vals []string, found map[string]string, gen uint64) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m)+len(vals) > cacheMaxKeys {
		clear(c.m)
	}
	for _, v := range vals {
		k := base
		k.value = v
		if other, ok := found[v]; ok && other != "" {
			c.m[k] = cacheEntry{value: other}
		} else if gen == c.gen {
			c.m[k] = cacheEntry{at: now}
		}
	}
}

// wrote forgets the misses of ext ↔ id in (tenant, ns, kind), after the
// transaction that wrote the pair committed.
func (c *lookupCache) wrote(tenant, ns, kind string, pairs map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for id, ext := range pairs {
		delete(c.m, cacheKey{tenant, ns, kind, dirHub, id})
		delete(c.m, cacheKey{tenant, ns, kind, dirExt, ext})
	}
}

// known splits ids into those with a cached alias (their aliases) and the
// others (a cached miss included), each once.
func (c *lookupCache) known(tenant, ns, kind string, ids []string) (map[string]string, []string) {
	out := make(map[string]string, len(ids))
	var missing []string
	seen := map[string]bool{}
	k := cacheKey{tenant: tenant, ns: ns, kind: kind, dir: dirHub}
	for _, id := range ids {
		k.value = id
		if ext, ok := c.get(k); ok && ext != "" {
			out[id] = ext
		} else if !seen[id] {
			seen[id] = true
			missing = append(missing, id)
		}
	}
	return out, missing
}

// keep caches committed aliases (hub id → external id) in both
// directions.
func (c *lookupCache) keep(tenant, ns, kind string, pairs map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m)+2*len(pairs) > cacheMaxKeys {
		clear(c.m)
	}
	for id, ext := range pairs {
		c.m[cacheKey{tenant, ns, kind, dirHub, id}] = cacheEntry{value: ext}
		c.m[cacheKey{tenant, ns, kind, dirExt, ext}] = cacheEntry{value: id}
	}
}
