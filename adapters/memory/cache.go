// Package memory holds the in-process implementations of core ports used by
// the embedded default (no Redis configured): a key/value cache with expiry.
// State lives in this process only, so it suits a single hub instance.
package memory

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/eimshub/eimshub/core/cache"
	"github.com/eimshub/eimshub/core/errs"
)

var _ cache.Cache = (*Cache)(nil)

type entry struct {
	val []byte
	exp time.Time // zero = no expiry
}

func (e entry) expired(now time.Time) bool { return !e.exp.IsZero() && !now.Before(e.exp) }

// Cache is an in-process cache.Cache. Expired keys are invisible at once
// (lazy expiry on access) and are reclaimed by a janitor goroutine that runs
// every JanitorInterval until Close. The zero value is not usable; use NewCache.
type Cache struct {
	mu   sync.Mutex
	m    map[string]entry
	now  func() time.Time
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// JanitorInterval is how often NewCache's janitor sweeps expired keys.
const JanitorInterval = time.Minute

// NewCache returns an empty cache with a running janitor; call Close to stop it.
func NewCache() *Cache {
	c := &Cache{
		m:    make(map[string]entry),
		now:  time.Now,
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go c.janitor(JanitorInterval)
	return c
}

func (c *Cache) janitor(every time.Duration) {
	defer close(c.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.sweep()
		}
	}
}

// sweep deletes every expired key.
func (c *Cache) sweep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for k, e := range c.m {
		if e.expired(now) {
			delete(c.m, k)
		}
	}
}

// Close stops the janitor. The cache stays usable (expiry remains lazy).
func (c *Cache) Close() error {
	c.once.Do(func() { close(c.stop); <-c.done })
	return nil
}

// Len returns the number of stored keys, expired ones not yet swept included.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// lookup returns the live entry for key, deleting it when expired. c.mu must be held.
func (c *Cache) lookup(key string, now time.Time) (entry, bool) {
	e, ok := c.m[key]
	if !ok {
		return entry{}, false
	}
	if e.expired(now) {
		delete(c.m, key)
		return entry{}, false
	}
	return e, true
}

func expiry(now time.Time, ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}

func clone(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return append([]byte(nil), b...)
}

func notFound() error {
	return errs.New(errs.NotFound, "cache key not found").WithReason("cache_miss")
}

// Get implements cache.Cache.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lookup(key, c.now())
	if !ok {
		return nil, notFound()
	}
	return clone(e.val), nil
}

// MGet implements cache.Cache.
func (c *Cache) MGet(ctx context.Context, keys ...string) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([][]byte, len(keys))
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for i, k := range keys {
		if e, ok := c.lookup(k, now); ok {
			out[i] = clone(e.val)
		}
	}
	return out, nil
}

// Set implements cache.Cache.
func (c *Cache) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = entry{val: clone(val), exp: expiry(c.now(), ttl)}
	return nil
}

// SetNX implements cache.Cache.
func (c *Cache) SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if _, ok := c.lookup(key, now); ok {
		return false, nil
	}
	c.m[key] = entry{val: clone(val), exp: expiry(now, ttl)}
	return true, nil
}

// Take implements cache.Cache.
func (c *Cache) Take(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lookup(key, c.now())
	if !ok {
		return nil, notFound()
	}
	delete(c.m, key)
	return e.val, nil
}

// Del implements cache.Cache.
func (c *Cache) Del(ctx context.Context, keys ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		delete(c.m, k)
	}
	return nil
}

// Incr implements cache.Cache. Like Redis INCR, a key that holds a value that
// is not a base-10 integer is an error (errs.Conflict), and an existing key
// keeps its expiry.
func (c *Cache) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	e, ok := c.lookup(key, now)
	var n int64
	if ok {
		v, err := strconv.ParseInt(string(e.val), 10, 64)
		if err != nil {
			return 0, errs.Wrap(errs.Conflict, err, "cache value is not an integer")
		}
		n = v
	} else {
		e.exp = expiry(now, ttl)
	}
	n++
	e.val = strconv.AppendInt(nil, n, 10)
	c.m[key] = e
	return n, nil
}

// Ping implements cache.Cache; an in-process cache is always reachable.
func (c *Cache) Ping(ctx context.Context) error { return ctx.Err() }
