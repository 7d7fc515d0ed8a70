package redis

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"

	"github.com/eimshub/eimshub/adapters/redis/redistest"
	"github.com/eimshub/eimshub/core/limits"
)

// gatedClient is a real Redis client whose first EVALSHA waits for a
// signal, so a test can line checks up behind a call in flight; it counts
// the EVALSHA round trips.
type gatedClient struct {
	*goredis.Client
	calls atomic.Int64
	first chan struct{} // closed: the first call may go on
}

func (g *gatedClient) EvalSha(ctx context.Context, sha string, keys []string, args ...any) *goredis.Cmd {
	if g.calls.Add(1) == 1 {
		<-g.first
	}
	return g.Client.EvalSha(ctx, sha, keys, args...)
}

// Checks that arrive while a check of the same counter is in flight share
// the next round trip, and each gets the decision and Remaining it would
// have had alone: of 1 + 40 checks against "25-H", exactly 25 are allowed,
// with Remaining 24, 23, …, 0 once each, in two round trips; the counter
// in Redis holds 41.
func TestCombinedChecksCountExactly(t *testing.T) {
	srv := redistest.Start(t)
	client := &gatedClient{Client: open(t, srv), first: make(chan struct{})}
	st := NewLimiterStore(client, WithLogger(quiet)).(*limiterStore)
	rate, err := limits.ParseRate("25-H")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := srv.Client().ScriptLoad(ctx, limitScript).Err(); err != nil { // no NOSCRIPT retry to count
		t.Fatal(err)
	}
	results := make(chan limiter.Context, 41)
	errc := make(chan error, 41)
	check := func() {
		lc, err := st.Get(ctx, "k", rate)
		if err != nil {
			errc <- err
			return
		}
		results <- lc
	}
	go check() // the first: held in flight
	waitFor(t, func() bool { return client.calls.Load() == 1 })
	for range 40 {
		go check()
	}
	waitFor(t, func() bool {
		st.comb.mu.Lock()
		defer st.comb.mu.Unlock()
		cs := st.comb.m["k"]
		return cs != nil && cs.next != nil && cs.next.n == 40
	})
	close(client.first)
	var remaining []int64
	allowed := 0
	for range 41 {
		select {
		case err := <-errc:
			t.Fatal(err)
		case lc := <-results:
			if lc.Limit != 25 || lc.Reset <= time.Now().Unix() {
				t.Fatalf("state %+v", lc)
			}
			if !lc.Reached {
				allowed++
				remaining = append(remaining, lc.Remaining)
			} else if lc.Remaining != 0 {
				t.Fatalf("refused with Remaining %d", lc.Remaining)
			}
		}
	}
	slices.Sort(remaining)
	want := make([]int64, 25)
	for i := range want {
		want[i] = int64(i)
	}
	if allowed != 25 || !slices.Equal(remaining, want) {
		t.Fatalf("%d allowed, Remaining %v; want 25 allowed with 0…24", allowed, remaining)
	}
	if n := client.calls.Load(); n != 2 {
		t.Errorf("%d round trips, want 2", n)
	}
	if n, err := srv.Client().Get(ctx, LimiterPrefix+":k").Int64(); err != nil || n != 41 {
		t.Errorf("counter = %d, %v; want 41", n, err)
	}
	if ttl := srv.Client().PTTL(ctx, LimiterPrefix+":k").Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("counter TTL %v, want the window's hour", ttl)
	}
	st.comb.mu.Lock()
	left := len(st.comb.m)
	st.comb.mu.Unlock()
	if left != 0 {
		t.Errorf("%d idle counters kept", left)
	}
}

// The same answers as the driver's own Get, check by check (no
// concurrency): the combiner's script and state are ulule/limiter's.
func TestCombinedMatchesDriver(t *testing.T) {
	srv := redistest.Start(t)
	ours := NewLimiterStore(open(t, srv), WithLogger(quiet), WithKeyPrefix("ours"))
	theirs := NewLimiterStore(open(t, srv), WithLogger(quiet), WithKeyPrefix("theirs")).(*limiterStore)
	rate, _ := limits.ParseRate("3-M")
	ctx := context.Background()
	for i := range 6 {
		a, err := ours.Get(ctx, "k", rate)
		if err != nil {
			t.Fatal(err)
		}
		b, err := theirs.run(ctx, "limit", func(st limiter.Store) (limiter.Context, error) { return st.Get(ctx, "k", rate) })
		if err != nil {
			t.Fatal(err)
		}
		if a.Reset-b.Reset > 1 || b.Reset-a.Reset > 1 {
			t.Fatalf("check %d: reset %d vs driver %d", i, a.Reset, b.Reset)
		}
		a.Reset = b.Reset
		if a != b {
			t.Fatalf("check %d: %+v, driver %+v", i, a, b)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}
