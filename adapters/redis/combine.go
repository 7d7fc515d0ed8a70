package redis

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ulule/limiter/v3"
)

// combiner lets concurrent checks of one rate-limit counter share a Redis
// round trip (group commit). While a call for a counter is in flight, the
// checks that arrive wait in the counter's next batch; when the call
// returns, the whole batch is counted with one INCRBY n — ulule/limiter's
// own increment script (limitScript), which sets the window's expiry when
// it creates the counter — and each check gets the count it would have
// had alone: the batch's i-th check (1-based) sees c-n+i, where c is the
// counter after the increment. That is exactly what n increments one
// after the other return, so every decision, Remaining and Reset is the
// driver's; only the number of round trips changes: one per batch instead
// of one per request, which on a busy hub (dozens of one client's requests
// waiting while Redis answers) is most of the limiter's cost. A check of an
// idle counter is sent at once, as before.
type combiner struct {
	mu sync.Mutex
	m  map[string]*counterState
}

// counterState is one counter's traffic: whether a call is in flight, and
// the batch gathering behind it.
type counterState struct {
	inflight bool
	next     *batch
}

type batch struct {
	ctx   context.Context // the first check's, without its cancellation
	rate  limiter.Rate
	n     int64
	done  chan struct{}
	count int64     // the counter after the batch's increment
	exp   time.Time // when the counter's window ends
	err   error
}

// incrFunc increments a counter by n and returns its value after the
// increment and when its window ends.
type incrFunc func(ctx context.Context, n int64, rate limiter.Rate) (count int64, exp time.Time, err error)

// count counts one request against key.
func (c *combiner) count(ctx context.Context, key string, rate limiter.Rate, incr incrFunc) (limiter.Context, error) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*counterState{}
	}
	cs := c.m[key]
	if cs == nil {
		cs = &counterState{}
		c.m[key] = cs
	}
	if cs.next != nil && cs.next.rate != rate {
		// Another rate on the same key (a configuration change): not
		// batched with the others.
		c.mu.Unlock()
		n, exp, err := incr(ctx, 1, rate)
		if err != nil {
			return limiter.Context{}, err
		}
		return stateOf(rate, n, exp), nil
	}
	b := cs.next
	if b == nil {
		b = &batch{ctx: context.WithoutCancel(ctx), rate: rate, done: make(chan struct{})}
		cs.next = b
	}
	b.n++
	pos := b.n
	send := !cs.inflight
	if send {
		cs.inflight = true
		cs.next = nil
	}
	c.mu.Unlock()
	if send {
		c.flush(key, cs, b, incr)
	} else {
		<-b.done
	}
	if b.err != nil {
		return limiter.Context{}, b.err
	}
	return stateOf(rate, b.count-b.n+pos, b.exp), nil
}

// flush sends b, then hands the batch that gathered meanwhile to a new
// goroutine (so b's checks are answered at once) or marks the counter idle.
func (c *combiner) flush(key string, cs *counterState, b *batch, incr incrFunc) {
	b.count, b.exp, b.err = incr(b.ctx, b.n, b.rate)
	c.mu.Lock()
	next := cs.next
	if next != nil {
		cs.next = nil
	} else {
		cs.inflight = false
		delete(c.m, key)
	}
	c.mu.Unlock()
	close(b.done)
	if next != nil {
		go c.flush(key, cs, next, incr)
	}
}

// stateOf is the driver's state of a counter at count (ulule/limiter's
// common.GetContextFromState).
func stateOf(rate limiter.Rate, count int64, exp time.Time) limiter.Context {
	lc := limiter.Context{Limit: rate.Limit, Reset: exp.Unix(), Reached: true}
	if count <= rate.Limit {
		lc.Remaining = rate.Limit - count
		lc.Reached = false
	}
	return lc
}

// limitScript is ulule/limiter's Redis increment script, verbatim: INCRBY,
// and the window's expiry when the counter is new.
const limitScript = `
local key = KEYS[1]
local count = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local ret = redis.call("incrby", key, ARGV[1])
if ret == count then
	if ttl > 0 then
		redis.call("pexpire", key, ARGV[2])
	end
	return {ret, ttl}
end
ttl = redis.call("pttl", key)
return {ret, ttl}
`

var limitSHA = func() string {
	sum := sha1.Sum([]byte(limitScript))
	return hex.EncodeToString(sum[:])
}()

// incr runs limitScript on the counter "<prefix>:<key>" (the driver's key),
// loading the script when Redis does not have it.
func incr(ctx context.Context, client LimiterClient, fullKey string, n int64, rate limiter.Rate) (int64, time.Time, error) {
	keys := []string{fullKey}
	cmd := client.EvalSha(ctx, limitSHA, keys, n, rate.Period.Milliseconds())
	if err := cmd.Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
		if err := client.ScriptLoad(ctx, limitScript).Err(); err != nil {
			return 0, time.Time{}, err
		}
		cmd = client.EvalSha(ctx, limitSHA, keys, n, rate.Period.Milliseconds())
	}
	res, err := cmd.Result()
	if err != nil {
		return 0, time.Time{}, err
	}
	fields, ok := res.([]any)
	if !ok || len(fields) != 2 {
		return 0, time.Time{}, errors.New("limiter script: two elements expected")
	}
	count, ok1 := fields[0].(int64)
	ttl, ok2 := fields[1].(int64)
	if !ok1 || !ok2 {
		return 0, time.Time{}, fmt.Errorf("limiter script: numbers expected, got %T and %T", fields[0], fields[1])
	}
	now := time.Now()
	exp := now.Add(rate.Period)
	if ttl > 0 {
		exp = now.Add(time.Duration(ttl) * time.Millisecond)
	}
	return count, exp, nil
}
