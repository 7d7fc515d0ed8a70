package sqlite

import (
	"math"
	"strconv"
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
// Find and Count results are kept the same way, keyed by their statement
// and its bound values: a read-only statement with a total order (Find
// always ends its ORDER BY with id) returns the same rows while the
// committed state is the same, so a listing polled while nothing is
// written costs no query. Result sets of more than maxCachedRows rows are
// not kept.
//
// Reads inside a transaction neither use nor fill the cache (they see the
// transaction's own uncommitted writes). Get and Find decode fresh
// documents from the cached bytes on every hit, so callers still own what
// they get. Memory is bounded by WithDocCache (bytes of documents and keys).

// maxCachedRows bounds the rows of a cached Find result.
const maxCachedRows = 200

type docKey struct{ coll, tenant, id string }

// docEntry is a cached read: a document (Get: blobs[0]), a Find result
// (blobs, in order) or a Count (n).
type docEntry struct {
	ver   walHdr
	blobs [][]byte // never modified once cached
	n     int64
}

func (e docEntry) size() int {
	n := 96 + 24*len(e.blobs)
	for _, b := range e.blobs {
		n += len(b)
	}
	return n
}

type docCache struct {
	max int // byte budget

	mu    sync.RWMutex
	m     map[string]docEntry
	bytes int

	hits atomic.Int64 // served from memory (for tests and diagnostics)
}

func newDocCache(max int) *docCache {
	return &docCache{max: max, m: map[string]docEntry{}}
}

func (k docKey) String() string { return "g\x00" + k.coll + "\x00" + k.tenant + "\x00" + k.id }

// queryKey is the cache key of a Find ("f") or Count ("c") statement with
// its bound values; ok is false for a value it cannot spell exactly.
func queryKey(kind, text string, args []any) (string, bool) {
	b := make([]byte, 0, len(text)+16*len(args)+4)
	b = append(b, kind...)
	b = append(b, 0)
	b = append(b, text...)
	for _, a := range args {
		b = append(b, 0)
		switch v := a.(type) {
		case nil:
			b = append(b, 'n')
		case string:
			b = append(b, 's')
			b = strconv.AppendInt(b, int64(len(v)), 10)
			b = append(b, ':')
			b = append(b, v...)
		case int64:
			b = append(b, 'i')
			b = strconv.AppendInt(b, v, 10)
		case int:
			b = append(b, 'i')
			b = strconv.AppendInt(b, int64(v), 10)
		case float64:
			b = append(b, 'f')
			b = strconv.AppendUint(b, math.Float64bits(v), 16)
		case bool:
			b = append(b, 'b')
			b = strconv.AppendBool(b, v)
		default:
			return "", false
		}
	}
	return string(b), true
}

// get returns the entry cached for key at version ver.
func (c *docCache) get(key string, ver walHdr) (docEntry, bool) {
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if !ok || e.ver != ver {
		return docEntry{}, false
	}
	c.hits.Add(1)
	return e, true
}

// put caches e (whose bytes the caller gives up) for key.
func (c *docCache) put(key string, e docEntry) {
	size := e.size() + len(key)
	if size > c.max/8 {
		return // one entry must not flush the cache
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[key]; ok {
		c.bytes -= old.size() + len(key)
	}
	c.m[key] = e
	c.bytes += size
	if c.bytes <= c.max {
		return
	}
	// Over budget: drop entries of older versions (they can never match
	// again), then arbitrary ones (map order), down to 3/4 of the budget.
	for k, o := range c.m {
		if o.ver != e.ver {
			c.bytes -= o.size() + len(k)
			delete(c.m, k)
		}
	}
	for k, o := range c.m {
		if c.bytes <= c.max*3/4 {
			break
		}
		if k != key {
			c.bytes -= o.size() + len(k)
			delete(c.m, k)
		}
	}
}

// len is the number of cached documents (for tests).
func (c *docCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
