package redis

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"github.com/eimshub/eimshub/adapters/redis/redistest"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/limits"
)

func newLimits(t testing.TB, store limiter.Store, cfg limits.Config) *limits.Limits {
	t.Helper()
	l, err := limits.New(store, cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var apiKey = limits.Key{Kind: limits.API, Tenant: "t1", Client: "demo-limited"}

// "5-M", 8 requests → exactly 5 allowed, with the memory store and with
// the Redis store.
func TestExactlyNAllowed(t *testing.T) {
	stores := map[string]func(t *testing.T) limiter.Store{
		"memory": func(t *testing.T) limiter.Store { return memory.NewStore() },
		"redis": func(t *testing.T) limiter.Store {
			return NewLimiterStore(open(t, redistest.Start(t)), WithLogger(quiet))
		},
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			l := newLimits(t, newStore(t), limits.Config{DefaultRate: "5-M"})
			allowed := 0
			for i := range 8 {
				d, err := l.Allow(context.Background(), apiKey)
				if err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
				if d.Allowed {
					allowed++
				} else if d.RetryAfter < time.Second {
					t.Fatalf("request %d refused with RetryAfter %v", i+1, d.RetryAfter)
				}
				if d.Limit != 5 {
					t.Fatalf("request %d: limit %d, want 5", i+1, d.Limit)
				}
			}
			if allowed != 5 {
				t.Fatalf("%d of 8 allowed, want 5", allowed)
			}
		})
	}
}

// Two hub instances (two clients, two stores, two Limits) on one Redis
// share one budget: of N requests spread over both, exactly the rate's
// number are allowed.
func TestTwoInstancesShareBudget(t *testing.T) {
	srv := redistest.Start(t)
	cfg := limits.Config{DefaultRate: "5-M"}
	a := newLimits(t, NewLimiterStore(open(t, srv), WithLogger(quiet)), cfg)
	b := newLimits(t, NewLimiterStore(open(t, srv), WithLogger(quiet)), cfg)

	var allowed atomic.Int64
	var wg sync.WaitGroup
	failed := make(chan error, 40)
	for i := range 40 {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := l.Allow(context.Background(), apiKey)
			if err != nil {
				failed <- err
				return
			}
			if d.Allowed {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	close(failed)
	for err := range failed {
		t.Fatal(err)
	}
	if got := allowed.Load(); got != 5 {
		t.Fatalf("%d of 40 requests over two instances allowed, want 5", got)
	}
}

// With Redis killed, the policy decides: fail-open lets API requests
// through uncounted, the token endpoint stays closed (errs.Unavailable);
// after a restart counting resumes by itself.
func TestStoreDownPolicy(t *testing.T) {
	srv := redistest.Start(t)
	store := NewLimiterStore(open(t, srv), WithLogger(quiet), WithBreaker(3, 100*time.Millisecond))
	lenient := newLimits(t, store, limits.Config{DefaultRate: "5-M", FailOpen: true})
	closed := newLimits(t, store, limits.Config{DefaultRate: "5-M"})
	tokenKey := limits.Key{Kind: limits.TokenClient, Client: "demo-limited"}
	ctx := context.Background()

	if d, err := lenient.Allow(ctx, apiKey); err != nil || !d.Allowed || d.Limit != 5 {
		t.Fatalf("Allow with Redis up = %+v, %v", d, err)
	}
	srv.Kill()
	for i := range 20 {
		if d, err := lenient.Allow(ctx, apiKey); err != nil || !d.Allowed || d.Limit != 0 {
			t.Fatalf("fail-open API request %d = %+v, %v; want allowed, uncounted", i, d, err)
		}
		if _, err := lenient.Allow(ctx, tokenKey); errs.CodeOf(err) != errs.Unavailable {
			t.Fatalf("token endpoint with Redis down = %v; want errs.Unavailable (closed by default)", err)
		}
		if _, err := closed.Allow(ctx, apiKey); errs.CodeOf(err) != errs.Unavailable {
			t.Fatalf("fail-closed API request = %v; want errs.Unavailable", err)
		}
	}

	srv.Restart()
	eventually(t, "counting after restart", func() error {
		d, err := closed.Allow(ctx, apiKey)
		if err != nil {
			return err
		}
		if d.Limit != 5 {
			return errs.Newf(errs.Internal, "decision %+v not counted", d)
		}
		return nil
	})
}
