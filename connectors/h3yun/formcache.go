package h3yun

import (
	"sync"
	"time"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Forms the connector keeps between requests, so that a create or an
// update is one Host call in the steady state: the BizObject is converted
// with the cached form and the write carries the form's version
// (CreateOptions.FormVersion, sdk.IfFormVersion). The host compares it
// with the form it loads anyway and refuses a stale one with
// Conflict/form_changed; the connector then drops the entry, reloads the
// form (GetForm) and converts and writes again, once. A stale entry can
// therefore never write data shaped for an old form; the TTL and the size
// bound are only a safety net for memory (the plugin process is long-lived
// and serves every tenant).
const (
	formCacheTTL = time.Minute
	formCacheMax = 1024
)

// formCache maps (tenant, SchemaCode) to a form. It is safe for concurrent
// use. Only forms with a version are kept (without one a write could not
// detect a change).
type formCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu sync.Mutex
	m  map[formKey]cachedForm
}

type formKey struct{ tenant, schema string }

type cachedForm struct {
	f       *sdk.Form
	fetched time.Time
}

func newFormCache() *formCache {
	return &formCache{ttl: formCacheTTL, max: formCacheMax, now: time.Now, m: map[formKey]cachedForm{}}
}

// get returns the cached form of (tenant, schema), nil when there is none
// or it is older than the TTL.
func (c *formCache) get(tenant, schema string) *sdk.Form {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[formKey{tenant, schema}]
	if !ok {
		return nil
	}
	if c.now().Sub(e.fetched) >= c.ttl {
		delete(c.m, formKey{tenant, schema})
		return nil
	}
	return e.f
}

// put keeps f for (tenant, schema). When the cache is full, expired
// entries go first, then the oldest one.
func (c *formCache) put(tenant, schema string, f *sdk.Form) {
	if f == nil || f.Version == 0 || tenant == "" {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	k := formKey{tenant, schema}
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		var oldest formKey
		var oldestAt time.Time
		for ek, e := range c.m {
			if now.Sub(e.fetched) >= c.ttl {
				delete(c.m, ek)
				continue
			}
			if oldestAt.IsZero() || e.fetched.Before(oldestAt) {
				oldest, oldestAt = ek, e.fetched
			}
		}
		if len(c.m) >= c.max {
			delete(c.m, oldest)
		}
	}
	c.m[k] = cachedForm{f: f, fetched: now}
}

// drop forgets (tenant, schema).
func (c *formCache) drop(tenant, schema string) {
	c.mu.Lock()
	delete(c.m, formKey{tenant, schema})
	c.mu.Unlock()
}

// reset forgets every form.
func (c *formCache) reset() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// len is the number of entries (tests).
func (c *formCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
