package redis

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ulule/limiter/v3"
	limiterredis "github.com/ulule/limiter/v3/drivers/store/redis"
)

// LimiterPrefix is the default key prefix of the rate-limit counters.
const LimiterPrefix = "eimshub:limit"

// LimiterClient is what ulule/limiter's Redis store needs; *redis.Client
// and *redis.ClusterClient satisfy it.
type LimiterClient = limiterredis.Client

// NewLimiterStore returns a limiter.Store on Redis (ulule/limiter's Redis
// driver, counters under "eimshub:limit:<key>", one atomic Lua call per
// check), behind the same kind of circuit breaker as Cache: errors are
// mapped to core codes (Redis unreachable → errs.Unavailable, fast while the
// breaker is open), so core/limits can apply its fail-open/closed policy.
//
// The driver loads its Lua scripts on first use rather than here, so the
// hub starts — and limits recover — even when Redis is down at that moment.
func NewLimiterStore(client LimiterClient, opts ...Option) limiter.Store {
	s := newSettings(opts)
	prefix := s.prefix
	if prefix == "" {
		prefix = LimiterPrefix
	}
	return &limiterStore{
		client: client,
		prefix: prefix,
		br:     newBreaker(s.threshold, s.cooldown, s.logger.With("component", "redis-limiter")),
	}
}

type limiterStore struct {
	client LimiterClient
	prefix string
	br     *breaker

	mu    sync.Mutex
	inner atomic.Pointer[limiter.Store] // nil until the scripts are loaded

	comb combiner
}

var _ limiter.Store = (*limiterStore)(nil)

// store returns the driver, creating it (SCRIPT LOAD) on first use.
func (s *limiterStore) store() (limiter.Store, error) {
	if p := s.inner.Load(); p != nil {
		return *p, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.inner.Load(); p != nil {
		return *p, nil
	}
	// The driver loads with context.Background(); the client's short
	// timeouts bound it.
	st, err := limiterredis.NewStoreWithOptions(s.client, limiter.StoreOptions{Prefix: s.prefix})
	if err != nil {
		return nil, err
	}
	s.inner.Store(&st)
	return st, nil
}

// run calls fn on the driver through the breaker.
func (s *limiterStore) run(ctx context.Context, op string, fn func(st limiter.Store) (limiter.Context, error)) (limiter.Context, error) {
	ok, probe := s.br.allow()
	if !ok {
		return limiter.Context{}, errOpen(op)
	}
	st, err := s.store()
	var lc limiter.Context
	if err == nil {
		lc, err = fn(st)
	}
	err = mapErr(op, err)
	record(ctx, s.br, probe, err)
	return lc, err
}

// Get implements limiter.Store: it counts one request and returns the state.
// Concurrent checks of one counter share one round trip (combine.go); the
// counter, its script and the state returned are the driver's.
func (s *limiterStore) Get(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	full := s.prefix + ":" + key
	return s.comb.count(ctx, key, rate, func(ctx context.Context, n int64, rate limiter.Rate) (int64, time.Time, error) {
		ok, probe := s.br.allow()
		if !ok {
			return 0, time.Time{}, errOpen("limit")
		}
		count, exp, err := incr(ctx, s.client, full, n, rate)
		err = mapErr("limit", err)
		record(ctx, s.br, probe, err)
		return count, exp, err
	})
}

// Peek implements limiter.Store.
func (s *limiterStore) Peek(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	return s.run(ctx, "limit peek", func(st limiter.Store) (limiter.Context, error) { return st.Peek(ctx, key, rate) })
}

// Reset implements limiter.Store.
func (s *limiterStore) Reset(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	return s.run(ctx, "limit reset", func(st limiter.Store) (limiter.Context, error) { return st.Reset(ctx, key, rate) })
}

// Increment implements limiter.Store.
func (s *limiterStore) Increment(ctx context.Context, key string, count int64, rate limiter.Rate) (limiter.Context, error) {
	return s.run(ctx, "limit", func(st limiter.Store) (limiter.Context, error) {
		return st.Increment(ctx, key, count, rate)
	})
}
