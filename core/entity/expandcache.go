package entity

import (
	"context"
	"sync"

	"github.com/eimshub/eimshub/core/query"
)

// The expansion cache (issue 11, second pass): an H3Yun read expands the
// record's owner and the owner's department (sdk.OwnerExpand), two more
// store reads, decodes and renders per request that were ≈ 12 % of an
// in-process LoadBizObject's CPU. Rendered expansion targets are kept
// here, stamped with the store's committed version (a store implementing
// committedVersioner: the embedded SQLite store's WAL index header) taken
// before they were read, and served only while that version is unchanged
// — that is while nothing at all has been committed since, by any writer,
// connection or process. So a cached target is exactly what the store
// would answer: there is no invalidation hook to forget. Stores without a
// version (MongoDB) and reads inside a transaction are not cached.
//
// Only what does not depend on the reader is kept: an expansion whose
// $select leaves out every private property of its kind and of each
// nested expansion (redact would change nothing), parsed through the memo
// of valid $expand options (expandmemo.go), whose items are immutable and
// identify the rendering by pointer. Keys carry the tenant. Hits are deep
// copies: callers own what they get, as from the store.

// committedVersioner is the store's version of its committed state (see
// adapters/sqlite CommittedVersion); ok false: do not cache.
type committedVersioner interface {
	CommittedVersion(ctx context.Context) (v [6]uint64, ok bool)
}

// maxExpandEntries bounds the cache.
const maxExpandEntries = 8192

type expandCacheKey struct {
	tenant string
	it     *query.ExpandItem // memoized: stable and immutable
	id     string
}

type expandEntry struct {
	ver [6]uint64
	v   map[string]any // never handed out: copied on every hit
}

type expandCache struct {
	mu         sync.RWMutex
	m          map[expandCacheKey]expandEntry
	viewerFree map[*query.ExpandItem]bool
	selections map[*query.ExpandItem]selTree // shared: read only
}

func newExpandCache() *expandCache {
	return &expandCache{m: map[expandCacheKey]expandEntry{}, viewerFree: map[*query.ExpandItem]bool{},
		selections: map[*query.ExpandItem]selTree{}}
}

// selection is tk.selection(it.Select, nil) of a memoized item (checked
// when it was parsed), computed once.
func (c *expandCache) selection(tk *Kind, it *query.ExpandItem) (selTree, error) {
	c.mu.RLock()
	sub, ok := c.selections[it]
	c.mu.RUnlock()
	if ok {
		return sub, nil
	}
	sub, err := tk.selection(it.Select, nil)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.selections) >= maxParsedExpands*4 {
		clear(c.selections)
	}
	c.selections[it] = sub
	c.mu.Unlock()
	return sub, nil
}

// get returns a copy of the rendered target id of it in tenant cached at
// version ver.
func (c *expandCache) get(tenant string, it *query.ExpandItem, id string, ver [6]uint64) (map[string]any, bool) {
	c.mu.RLock()
	e, ok := c.m[expandCacheKey{tenant, it, id}]
	c.mu.RUnlock()
	if !ok || e.ver != ver {
		return nil, false
	}
	return cloneMap(e.v), true
}

// put keeps a copy of v, rendered from reads made at version ver.
func (c *expandCache) put(tenant string, it *query.ExpandItem, id string, ver [6]uint64, v map[string]any) {
	v = cloneMap(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxExpandEntries {
		for k, e := range c.m {
			if e.ver != ver {
				delete(c.m, k) // another version: never matches again
			}
		}
		if len(c.m) >= maxExpandEntries {
			clear(c.m)
		}
	}
	c.m[expandCacheKey{tenant, it, id}] = expandEntry{ver: ver, v: v}
}

// readerFree reports whether rendering it over kind k's navigation target
// tk with selection sub is the same for every reader: no private property
// selected, here or in a nested expansion.
func (c *expandCache) readerFree(tk *Kind, sub selTree, it *query.ExpandItem) bool {
	c.mu.RLock()
	free, ok := c.viewerFree[it]
	c.mu.RUnlock()
	if ok {
		return free
	}
	free = readerFree(tk, sub, it.Expand)
	c.mu.Lock()
	if len(c.viewerFree) >= maxParsedExpands*4 {
		clear(c.viewerFree)
	}
	c.viewerFree[it] = free
	c.mu.Unlock()
	return free
}

func readerFree(k *Kind, sel selTree, exp []query.ExpandItem) bool {
	if len(k.Private) > 0 {
		if sel == nil {
			return false
		}
		for _, name := range k.Private {
			if _, ok := sel[name]; ok {
				return false
			}
		}
	}
	for _, it := range exp {
		nav, ok := k.Nav(it.Name)
		if !ok {
			continue
		}
		tk, _ := Builtin(nav.Target)
		var sub selTree
		if it.Select != nil {
			var err error
			if sub, err = tk.selection(it.Select, nil); err != nil {
				return false
			}
		}
		if !readerFree(tk, sub, it.Expand) {
			return false
		}
	}
	return true
}

// cloneMap deep-copies a rendered document (maps and slices; the leaves
// are immutable values).
func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			out[i] = cloneValue(el)
		}
		return out
	default:
		return v
	}
}
