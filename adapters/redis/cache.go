// Package redis implements core ports on Redis with
// github.com/redis/go-redis/v9, so that several hub instances share token
// state and rate-limit budgets:
//
//   - Cache implements cache.Cache (refresh-token families, revocations, SMS
//     codes, brute-force counters);
//   - NewLimiterStore returns the github.com/ulule/limiter/v3 store that
//     core/limits counts requests in.
//
// Both sit behind a circuit breaker: when Redis is down, after a few
// consecutive failures every call fails at once with errs.Unavailable for a
// short cool-down instead of waiting for dial/read timeouts, and the first
// successful probe after Redis returns closes the breaker again. Open builds
// a client with short timeouts for the same reason (go-redis dials with a 5 s
// timeout by default, which would stall every request while Redis is down).
package redis

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eimshub/eimshub/core/cache"
	"github.com/eimshub/eimshub/core/errs"
)

// Client is the narrow set of go-redis commands Cache uses; *redis.Client,
// *redis.ClusterClient (which splits a multi-slot MGET per slot) and
// redis.UniversalClient satisfy it.
type Client interface {
	Get(ctx context.Context, key string) *redis.StringCmd
	MGet(ctx context.Context, keys ...string) *redis.SliceCmd
	Set(ctx context.Context, key string, value any, expiration time.Duration) *redis.StatusCmd
	SetNX(ctx context.Context, key string, value any, expiration time.Duration) *redis.BoolCmd
	GetDel(ctx context.Context, key string) *redis.StringCmd
	Del(ctx context.Context, keys ...string) *redis.IntCmd
	Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd
	EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd
	Ping(ctx context.Context) *redis.StatusCmd
}

var (
	_ Client      = (*redis.Client)(nil)
	_ Client      = (*redis.ClusterClient)(nil)
	_ cache.Cache = (*Cache)(nil)
)

// Breaker defaults: open after 5 consecutive failures, for 1 s.
const (
	DefaultBreakerThreshold = 5
	DefaultBreakerCooldown  = time.Second
)

// Option configures NewCache and NewLimiterStore.
type Option func(*settings)

type settings struct {
	logger    *slog.Logger
	threshold int
	cooldown  time.Duration
	prefix    string
}

func newSettings(opts []Option) settings {
	s := settings{threshold: DefaultBreakerThreshold, cooldown: DefaultBreakerCooldown}
	for _, o := range opts {
		o(&s)
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	return s
}

// WithLogger sets the logger for breaker state changes (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.logger = l } }

// WithBreaker sets how many consecutive failures open the breaker and how
// long it then fails fast before probing Redis again.
func WithBreaker(threshold int, cooldown time.Duration) Option {
	return func(s *settings) { s.threshold, s.cooldown = threshold, cooldown }
}

// WithKeyPrefix prefixes every key (e.g. "eimshub:"), for a Redis shared
// with other applications. For NewLimiterStore it replaces the default
// limiter prefix "eimshub:limit".
func WithKeyPrefix(p string) Option { return func(s *settings) { s.prefix = p } }

// Cache is a cache.Cache on Redis. It is safe for concurrent use; it does
// not own the client (close the client yourself).
type Cache struct {
	c      Client
	br     *breaker
	prefix string
}

// NewCache returns a Cache over client.
func NewCache(client Client, opts ...Option) *Cache {
	s := newSettings(opts)
	return &Cache{
		c:      client,
		br:     newBreaker(s.threshold, s.cooldown, s.logger.With("component", "redis-cache")),
		prefix: s.prefix,
	}
}

// incrScript increments KEYS[1] and gives it a ttl of ARGV[1] ms only when
// the key did not exist, so an existing counter keeps its expiry (fixed
// windows for brute-force and daily counters). One round trip, atomic.
const incrScript = `local existed = redis.call('EXISTS', KEYS[1])
local n = redis.call('INCR', KEYS[1])
if existed == 0 and tonumber(ARGV[1]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n`

var incrSHA = func() string { h := sha1.Sum([]byte(incrScript)); return hex.EncodeToString(h[:]) }()

// do runs one Redis call through the breaker and maps its error.
func (c *Cache) do(ctx context.Context, op string, call func() error) error {
	ok, probe := c.br.allow()
	if !ok {
		return errOpen(op)
	}
	err := mapErr(op, call())
	record(ctx, c.br, probe, err)
	return err
}

// record feeds the outcome of a call to the breaker: only transport
// failures count, and not when the caller gave up (its own context).
func record(ctx context.Context, br *breaker, probe bool, err error) {
	switch {
	case err == nil || errs.CodeOf(err) != errs.Unavailable:
		br.success(probe)
	case ctx.Err() != nil:
		br.abandon(probe)
	default:
		br.failure(probe)
	}
}

func (c *Cache) key(k string) string {
	if c.prefix == "" {
		return k
	}
	return c.prefix + k
}

// ttl converts a cache ttl to go-redis's expiration: 0 means no expiry
// (go-redis reads -1 as KEEPTTL, so never pass a negative), and a positive
// ttl is at least 1 ms (Redis's resolution).
func ttl(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return max(d, time.Millisecond)
}

// Get implements cache.Cache.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := c.do(ctx, "get", func() (err error) {
		v, err = c.c.Get(ctx, c.key(key)).Bytes()
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// MGet implements cache.Cache with one MGET.
func (c *Cache) MGet(ctx context.Context, keys ...string) ([][]byte, error) {
	if len(keys) == 0 {
		return [][]byte{}, nil
	}
	ks := keys
	if c.prefix != "" {
		ks = make([]string, len(keys))
		for i, k := range keys {
			ks[i] = c.key(k)
		}
	}
	var vals []any
	err := c.do(ctx, "mget", func() (err error) {
		vals, err = c.c.MGet(ctx, ks...).Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(vals) != len(keys) {
		return nil, errs.Newf(errs.Internal, "redis mget: %d values for %d keys", len(vals), len(keys))
	}
	out := make([][]byte, len(keys))
	for i, v := range vals {
		switch v := v.(type) {
		case nil:
		case string:
			out[i] = []byte(v) // non-nil even when empty
		case []byte:
			out[i] = append([]byte{}, v...)
		default:
			return nil, errs.Newf(errs.Internal, "redis mget: unexpected value type %T", v)
		}
	}
	return out, nil
}

// Set implements cache.Cache.
func (c *Cache) Set(ctx context.Context, key string, val []byte, d time.Duration) error {
	return c.do(ctx, "set", func() error {
		return c.c.Set(ctx, c.key(key), val, ttl(d)).Err()
	})
}

// SetNX implements cache.Cache.
func (c *Cache) SetNX(ctx context.Context, key string, val []byte, d time.Duration) (bool, error) {
	var ok bool
	err := c.do(ctx, "setnx", func() (err error) {
		ok, err = c.c.SetNX(ctx, c.key(key), val, ttl(d)).Result()
		return err
	})
	return ok, err
}

// Take implements cache.Cache with GETDEL (Redis ≥ 6.2), atomic on the server.
func (c *Cache) Take(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := c.do(ctx, "getdel", func() (err error) {
		v, err = c.c.GetDel(ctx, c.key(key)).Bytes()
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// Del implements cache.Cache.
func (c *Cache) Del(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	ks := make([]string, len(keys))
	for i, k := range keys {
		ks[i] = c.key(k)
	}
	return c.do(ctx, "del", func() error { return c.c.Del(ctx, ks...).Err() })
}

// Incr implements cache.Cache with a Lua script (EVALSHA, falling back to
// EVAL once after a server restart flushed the script cache): the ttl is
// set only when the key is created. A non-integer value is errs.Conflict.
func (c *Cache) Incr(ctx context.Context, key string, d time.Duration) (int64, error) {
	var n int64
	ms := int64(0)
	if d > 0 {
		ms = max(d.Milliseconds(), 1)
	}
	keys := []string{c.key(key)}
	err := c.do(ctx, "incr", func() (err error) {
		n, err = c.c.EvalSha(ctx, incrSHA, keys, ms).Int64()
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			n, err = c.c.Eval(ctx, incrScript, keys, ms).Int64()
		}
		return err
	})
	return n, err
}

// Ping implements cache.Cache. While the breaker is open it reports
// errs.Unavailable at once; once the cool-down is over it probes Redis.
func (c *Cache) Ping(ctx context.Context) error {
	return c.do(ctx, "ping", func() error { return c.c.Ping(ctx).Err() })
}
