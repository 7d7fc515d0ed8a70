package redis

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// breaker is a consecutive-failure circuit breaker. Closed, every call goes
// through; after threshold consecutive Unavailable failures it opens and
// calls fail at once (microseconds instead of dial/read timeouts) for
// cooldown; then it lets one probe call through (half-open): success closes
// it, failure opens it for another cooldown. Recovery is automatic: the
// first probe after Redis returns closes it.
//
// The closed fast path is two atomic loads; the mutex is taken only while
// tripped or on a state change.
type breaker struct {
	threshold int64
	cooldown  time.Duration
	logger    *slog.Logger
	now       func() time.Time

	failures atomic.Int64 // consecutive failures
	tripped  atomic.Bool

	mu      sync.Mutex
	until   time.Time // open until; then half-open
	probing bool      // a half-open probe is in flight
}

func newBreaker(threshold int, cooldown time.Duration, logger *slog.Logger) *breaker {
	return &breaker{threshold: int64(max(threshold, 1)), cooldown: cooldown, logger: logger, now: time.Now}
}

// allow reports whether a call may proceed, and whether it is the
// half-open probe whose outcome decides the breaker's state.
func (b *breaker) allow() (ok, probe bool) {
	if !b.tripped.Load() {
		return true, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.tripped.Load() {
		return true, false
	}
	if b.probing || b.now().Before(b.until) {
		return false, false
	}
	b.probing = true
	return true, true
}

// success records a call that reached Redis.
func (b *breaker) success(probe bool) {
	if b.failures.Load() != 0 {
		b.failures.Store(0)
	}
	if !b.tripped.Load() && !probe {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
	if b.tripped.Load() {
		b.tripped.Store(false)
		b.logger.Info("redis reachable again; circuit closed")
	}
}

// failure records a call that failed because Redis was unreachable.
func (b *breaker) failure(probe bool) {
	n := b.failures.Add(1)
	if !probe && (n < b.threshold || b.tripped.Load()) {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
		b.until = b.now().Add(b.cooldown)
		return
	}
	if !b.tripped.Load() {
		b.until = b.now().Add(b.cooldown)
		b.tripped.Store(true)
		b.logger.Warn("redis unreachable; circuit open, failing fast",
			"consecutive_failures", n, "cooldown", b.cooldown)
	}
}

// open reports whether the breaker currently fails calls fast.
func (b *breaker) open() bool { return b.tripped.Load() }

// abandon records a call whose outcome says nothing about Redis (the
// caller's context ended); a probe slot is released for the next call.
func (b *breaker) abandon(probe bool) {
	if !probe {
		return
	}
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}
