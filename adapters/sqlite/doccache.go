package sqlite

import (
	"sync"
	"sync/atomic"
)

// The document cache keeps the stored bytes (JSONB) of documents read by
// Get, keyed by collection, tenant and id, each stamped with the version of
// the committed database state it was read at (walver_*.go: the WAL index
// header, which every commit of every connection — this process or
// another — rewrites). An entry serves a Get only while the version is
// unchanged, that is while nothing at all has been committed since it was
// read; the first Get after any commit reads the store again. So a cached
// read returns exactly what the store would return: no invalidation hook
// can be forgotten, and writes by other processes on the same file (a
// second hub instance on the same data directory, the eimshub CLI) are
// seen at once. The version is read before the store is, so a commit that
// races with the read leaves an entry that never matches.
//
// Reads inside a transaction neither use nor fill the cache (they see the
// transaction's own uncommitted writes). Get decodes a fresh document from
// the cached bytes on every hit, so callers still own what they get.
// Memory is bounded by WithDocCache (bytes of documents and keys).

type docKey struct{ coll, tenant, id string }

type docEntry struct {
	ver  walHdr
	blob []byte // never modified once cached
}

type docCache struct {
	max int // byte budget

	mu    sync.RWMutex
	m     map[docKey]docEntry
	bytes int

	hits atomic.Int64 // served from memory (for tests and diagnostics)
}

func newDocCache(max int) *docCache {
	return &docCache{max: max, m: map[docKey]docEntry{}}
}

func entrySize(k docKey, blob []byte) int {
	return len(blob) + len(k.coll) + len(k.tenant) + len(k.id) + 96
}

// get returns the bytes cached for k at version ver.
func (c *docCache) get(k docKey, ver walHdr) ([]byte, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || e.ver != ver {
		return nil, false
	}
	c.hits.Add(1)
	return e.blob, true
}

// put caches blob (which the caller gives up) for k, read at version ver.
func (c *docCache) put(k docKey, ver walHdr, blob []byte) {
	size := entrySize(k, blob)
	if size > c.max/8 {
		return // one document must not flush the cache
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[k]; ok {
		c.bytes -= entrySize(k, old.blob)
	}
	c.m[k] = docEntry{ver: ver, blob: blob}
	c.bytes += size
	if c.bytes <= c.max {
		return
	}
	// Over budget: drop entries of older versions (they can never match
	// again), then arbitrary ones (map order), down to 3/4 of the budget.
	for ek, e := range c.m {
		if e.ver != ver {
			c.bytes -= entrySize(ek, e.blob)
			delete(c.m, ek)
		}
	}
	for ek, e := range c.m {
		if c.bytes <= c.max*3/4 {
			break
		}
		if ek != k {
			c.bytes -= entrySize(ek, e.blob)
			delete(c.m, ek)
		}
	}
}

// len is the number of cached documents (for tests).
func (c *docCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
