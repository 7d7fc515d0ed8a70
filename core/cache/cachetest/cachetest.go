// Package cachetest is the conformance suite of the cache.Cache port. Every
// adapter runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		cachetest.Run(t, func(t *testing.T) cache.Cache { return newTestCache(t) })
//	}
//
// newCache must return a cache in which no key the suite uses exists (a fresh
// instance, or a fresh key prefix / database on a shared server). The suite
// registers no cleanup of its own; newCache should (t.Cleanup).
//
// Expiry tests use short TTLs and poll with a generous deadline, so they pass
// on a loaded machine and never assert on timing.
package cachetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eimshub/eimshub/core/cache"
	"github.com/eimshub/eimshub/core/errs"
)

// NewCache makes a cache for one subtest.
type NewCache func(t *testing.T) cache.Cache

const (
	shortTTL = 150 * time.Millisecond
	deadline = 5 * time.Second
)

// Run runs the whole conformance suite against caches made by newCache.
func Run(t *testing.T, newCache func(t *testing.T) cache.Cache) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, c cache.Cache)
	}{
		{"Ping", testPing},
		{"GetMissing", testGetMissing},
		{"SetGet", testSetGet},
		{"SetReplaces", testSetReplaces},
		{"EmptyValue", testEmptyValue},
		{"BinaryValue", testBinaryValue},
		{"ValueIsCopied", testValueIsCopied},
		{"MGet", testMGet},
		{"MGetNoKeys", testMGetNoKeys},
		{"SetNX", testSetNX},
		{"Take", testTake},
		{"Del", testDel},
		{"Incr", testIncr},
		{"NoExpiry", testNoExpiry},
		{"SetExpiry", testSetExpiry},
		{"SetNXAfterExpiry", testSetNXAfterExpiry},
		{"SetClearsExpiry", testSetClearsExpiry},
		{"IncrExpiry", testIncrExpiry},
		{"IncrKeepsExpiry", testIncrKeepsExpiry},
		{"TakeExpired", testTakeExpired},
		{"TakeOneWinner", testTakeOneWinner},
		{"SetNXOneWinner", testSetNXOneWinner},
		{"IncrConcurrent", testIncrConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newCache(t))
		})
	}
}

// key returns a key unique to the running subtest, so a cache shared between
// subtests (one Redis database) cannot leak state between them.
func key(t *testing.T, name string) string {
	return "cachetest:" + t.Name() + ":" + name
}

func isNotFound(err error) bool { return errors.Is(err, errs.E(errs.NotFound)) }

func mustSet(t *testing.T, c cache.Cache, k, v string, ttl time.Duration) {
	t.Helper()
	if err := c.Set(context.Background(), k, []byte(v), ttl); err != nil {
		t.Fatalf("Set(%q): %v", k, err)
	}
}

func mustGet(t *testing.T, c cache.Cache, k string) string {
	t.Helper()
	v, err := c.Get(context.Background(), k)
	if err != nil {
		t.Fatalf("Get(%q): %v", k, err)
	}
	return string(v)
}

func wantMissing(t *testing.T, c cache.Cache, k string) {
	t.Helper()
	v, err := c.Get(context.Background(), k)
	if !isNotFound(err) {
		t.Fatalf("Get(%q) = %q, %v; want errs.NotFound", k, v, err)
	}
}

// eventuallyMissing polls until k is gone, failing after deadline.
func eventuallyMissing(t *testing.T, c cache.Cache, k string) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		_, err := c.Get(context.Background(), k)
		if isNotFound(err) {
			return
		}
		if err != nil {
			t.Fatalf("Get(%q): %v", k, err)
		}
		if time.Now().After(end) {
			t.Fatalf("key %q did not expire within %v", k, deadline)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testPing(t *testing.T, c cache.Cache) {
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testGetMissing(t *testing.T, c cache.Cache) {
	wantMissing(t, c, key(t, "nope"))
}

func testSetGet(t *testing.T, c cache.Cache) {
	k := key(t, "k")
	mustSet(t, c, k, "hello", time.Minute)
	if got := mustGet(t, c, k); got != "hello" {
		t.Fatalf("Get = %q, want hello", got)
	}
	// Reading does not consume.
	if got := mustGet(t, c, k); got != "hello" {
		t.Fatalf("second Get = %q, want hello", got)
	}
}

func testSetReplaces(t *testing.T, c cache.Cache) {
	k := key(t, "k")
	mustSet(t, c, k, "one", time.Minute)
	mustSet(t, c, k, "two", time.Minute)
	if got := mustGet(t, c, k); got != "two" {
		t.Fatalf("Get = %q, want two", got)
	}
}

func testEmptyValue(t *testing.T, c cache.Cache) {
	ctx := context.Background()
	k := key(t, "k")
	mustSet(t, c, k, "", time.Minute)
	v, err := c.Get(ctx, k)
	if err != nil || len(v) != 0 {
		t.Fatalf("Get = %q, %v; want empty value, nil", v, err)
	}
	vals, err := c.MGet(ctx, k)
	if err != nil {
		t.Fatalf("MGet: %v", err)
	}
	if vals[0] == nil || len(vals[0]) != 0 {
		t.Fatalf("MGet of an empty value = %#v; want a non-nil empty slice", vals[0])
	}
}

func testBinaryValue(t *testing.T, c cache.Cache) {
	k := key(t, "k")
	val := string([]byte{0, 1, 2, 0xff, 0xfe, '\n', 0})
	mustSet(t, c, k, val, time.Minute)
	if got := mustGet(t, c, k); got != val {
		t.Fatalf("Get = %q, want %q", got, val)
	}
}

func testValueIsCopied(t *testing.T, c cache.Cache) {
	ctx := context.Background()
	k := key(t, "k")
	buf := []byte("abc")
	if err := c.Set(ctx, k, buf, time.Minute); err != nil {
		t.Fatal(err)
	}
	buf[0] = 'X'
	got, err := c.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "abc" {
		t.Fatalf("Get after mutating the Set buffer = %q, want abc", got)
	}
	got[1] = 'Y'
	if again := mustGet(t, c, k); again != "abc" {
		t.Fatalf("Get after mutating a returned value = %q, want abc", again)
	}
}

func testMGet(t *testing.T, c cache.Cache) {
	ctx := context.Background()
	a, b, missing := key(t, "a"), key(t, "b"), key(t, "missing")
	mustSet(t, c, a, "A", time.Minute)
	mustSet(t, c, b, "B", 0)
	vals, err := c.MGet(ctx, a, missing, b, a)
	if err != nil {
		t.Fatalf("MGet: %v", err)
	}
	if len(vals) != 4 {
		t.Fatalf("MGet returned %d values, want 4", len(vals))
	}
	want := []string{"A", "", "B", "A"}
	for i, w := range want {
		if w == "" {
			if vals[i] != nil {
				t.Errorf("MGet[%d] = %q, want nil (absent)", i, vals[i])
			}
			continue
		}
		if string(vals[i]) != w {
			t.Errorf("MGet[%d] = %q, want %q", i, vals[i], w)
		}
	}
}

func testMGetNoKeys(t *testing.T, c cache.Cache) {
	vals, err := c.MGet(context.Background())
	if err != nil {
		t.Fatalf("MGet(): %v", err)
	}
	if len(vals) != 0 {
		t.Fatalf("MGet() = %v, want empty", vals)
	}
}

func testSetNX(t *testing.T, c cache.Cache) {
	ctx := context.Background()
	k := key(t, "k")
	ok, err := c.SetNX(ctx, k, []byte("first"), time.Minute)
	if err != nil || !ok {
		t.Fatalf("SetNX on absent key = %v, %v; want true, nil", ok, err)
	}
	ok, err = c.SetNX(ctx, k, []byte("second"), time.Minute)
	if err != nil || ok {
		t.Fatalf("SetNX on present key = %v, %v; want false, nil", ok, err)
	}
	if got := mustGet(t, c, k); got != "first" {
		t.Fatalf("Get = %q, want first (SetNX must not overwrite)", got)
	}
}

func testTake(t *testing.T, c cache.Cache) {
	ctx := context.Background()
	k := key(t, "k")
	mustSet(t, c, k, "once", time.Minute)
	v, err := c.Take(ctx, k)
	if err != nil || string(v) != "once" {
		t.Fatalf("Take = %q, %v; want once, nil", v, err)
	}
	wantMissing(t, c, k)
	if v, err := c.Take(ctx, k); !isNotFound(err) {
		t.Fatalf("second Take = %q, %v; want errs.NotFound", v, err)
	}
	if v, err := c.Take(ctx, key(t, "never")); !isNotFound(err) {
		t.Fatalf("Take of absent key = %q, %v; want errs.NotFound", v, err)
	}
}

func testDel(t *testing.T, c cache.Cache) {
	ctx := context.Background()
	a, b, keep := key(t, "a"), key(t, "b"), key(t, "keep")
	mustSet(t, c, a, "1", time.Minute)
	mustSet(t, c, b, "2", 0)
	mustSet(t, c, keep, "3", time.Minute)
	if err := c.Del(ctx, a, key(t, "absent"), b); err != nil {
		t.Fatalf("Del: %v", err)
	}
	wantMissing(t, c, a)
	wantMissing(t, c, b)
	if got := mustGet(t, c, keep); got != "3" {
		t.Fatalf("unrelated key = %q, want 3", got)
	}
	if err := c.Del(ctx); err != nil {
		t.Fatalf("Del(): %v", err)
	}
	if err := c.Del(ctx, key(t, "absent")); err != nil {
		t.Fatalf("Del of absent key: %v", err)
	}
}

func testIncr(t *testing.T, c cache.Cache) {
	ctx := context.Background()
	k := key(t, "n")
	for want := int64(1); want <= 3; want++ {
		n, err := c.Incr(ctx, k, time.Minute)
		if err != nil || n != want {
			t.Fatalf("Incr = %d, %v; want %d, nil", n, err, want)
		}
	}
	// The counter is readable as a base-10 integer.
	if got := mustGet(t, c, k); got != "3" {
		t.Fatalf("Get of counter = %q, want 3", got)
	}
	// Incr continues from a value Set as a decimal string.
	k2 := key(t, "m")
	mustSet(t, c, k2, "41", time.Minute)
	if n, err := c.Incr(ctx, k2, time.Minute); err != nil || n != 42 {
		t.Fatalf("Incr after Set 41 = %d, %v; want 42, nil", n, err)
	}
	// A non-integer value is an error, not a silent reset.
	k3 := key(t, "text")
	mustSet(t, c, k3, "abc", time.Minute)
	if n, err := c.Incr(ctx, k3, time.Minute); err == nil {
		t.Fatalf("Incr of a non-integer = %d, nil; want an error", n)
	}
	// No expiry.
	k4 := key(t, "forever")
	if n, err := c.Incr(ctx, k4, 0); err != nil || n != 1 {
		t.Fatalf("Incr(ttl 0) = %d, %v; want 1, nil", n, err)
	}
}

func testNoExpiry(t *testing.T, c cache.Cache) {
	ctx := context.Background()
	k0, kneg := key(t, "zero"), key(t, "neg")
	mustSet(t, c, k0, "v", 0)
	mustSet(t, c, kneg, "v", -time.Second)
	ok, err := c.SetNX(ctx, key(t, "nx"), []byte("v"), 0)
	if err != nil || !ok {
		t.Fatalf("SetNX(ttl 0) = %v, %v", ok, err)
	}
	time.Sleep(2 * shortTTL)
	for _, k := range []string{k0, kneg, key(t, "nx")} {
		if got := mustGet(t, c, k); got != "v" {
			t.Fatalf("key %q with ttl <= 0 = %q, want v (no expiry)", k, got)
		}
	}
}

func testSetExpiry(t *testing.T, c cache.Cache) {
	ctx := context.Background()
	short, long := key(t, "short"), key(t, "long")
	mustSet(t, c, short, "v", shortTTL)
	mustSet(t, c, long, "v", time.Hour)
	eventuallyMissing(t, c, short)
	vals, err := c.MGet(ctx, short, long)
	if err != nil {
		t.Fatalf("MGet: %v", err)
	}
	if vals[0] != nil || string(vals[1]) != "v" {
		t.Fatalf("MGet after expiry = %q; want [nil v]", vals)
	}
}

func testSetNXAfterExpiry(t *testing.T, c cache.Cache) {
	ctx := context.Background()
	k := key(t, "k")
	ok, err := c.SetNX(ctx, k, []byte("old"), shortTTL)
	if err != nil || !ok {
		t.Fatalf("SetNX = %v, %v", ok, err)
	}
	eventuallyMissing(t, c, k)
	ok, err = c.SetNX(ctx, k, []byte("new"), time.Minute)
	if err != nil || !ok {
		t.Fatalf("SetNX after expiry = %v, %v; want true, nil", ok, err)
	}
	if got := mustGet(t, c, k); got != "new" {
		t.Fatalf("Get = %q, want new", got)
	}
}

func testSetClearsExpiry(t *testing.T, c cache.Cache) {
	k := key(t, "k")
	mustSet(t, c, k, "short", shortTTL)
	mustSet(t, c, k, "long", time.Hour) // replaces value and ttl
	time.Sleep(3 * shortTTL)
	if got := mustGet(t, c, k); got != "long" {
		t.Fatalf("Get = %q, want long (Set must replace the ttl)", got)
	}
}

func testIncrExpiry(t *testing.T, c cache.Cache) {
	ctx := context.Background()
	k := key(t, "n")
	if n, err := c.Incr(ctx, k, shortTTL); err != nil || n != 1 {
		t.Fatalf("Incr = %d, %v", n, err)
	}
	eventuallyMissing(t, c, k)
	if n, err := c.Incr(ctx, k, time.Minute); err != nil || n != 1 {
		t.Fatalf("Incr after expiry = %d, %v; want 1 (a fresh counter)", n, err)
	}
}

// testIncrKeepsExpiry pins the fixed-window behaviour the brute-force and
// daily counters rely on: later Incrs do not extend the first one's ttl.
func testIncrKeepsExpiry(t *testing.T, c cache.Cache) {
	ctx := context.Background()
	k := key(t, "n")
	if _, err := c.Incr(ctx, k, shortTTL); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Incr(ctx, k, time.Hour); err != nil {
		t.Fatal(err)
	}
	eventuallyMissing(t, c, k)
}

func testTakeExpired(t *testing.T, c cache.Cache) {
	ctx := context.Background()
	k := key(t, "k")
	mustSet(t, c, k, "v", shortTTL)
	eventuallyMissing(t, c, k)
	if v, err := c.Take(ctx, k); !isNotFound(err) {
		t.Fatalf("Take of expired key = %q, %v; want errs.NotFound", v, err)
	}
}

const racers = 32

// race runs fn on racers goroutines released together.
func race(fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

func testTakeOneWinner(t *testing.T, c cache.Cache) {
	ctx := context.Background()
	for round := range 5 {
		k := key(t, "k"+strconv.Itoa(round))
		mustSet(t, c, k, "prize", time.Minute)
		var wins, misses atomic.Int32
		var other atomic.Value
		race(func(int) {
			v, err := c.Take(ctx, k)
			switch {
			case err == nil && string(v) == "prize":
				wins.Add(1)
			case isNotFound(err):
				misses.Add(1)
			default:
				other.Store(fmt.Sprintf("Take = %q, %v", v, err))
			}
		})
		if o := other.Load(); o != nil {
			t.Fatalf("round %d: unexpected result: %v", round, o)
		}
		if wins.Load() != 1 || misses.Load() != racers-1 {
			t.Fatalf("round %d: %d winners and %d NotFound among %d Takes; want exactly 1 winner",
				round, wins.Load(), misses.Load(), racers)
		}
	}
}

func testSetNXOneWinner(t *testing.T, c cache.Cache) {
	ctx := context.Background()
	k := key(t, "k")
	var wins atomic.Int32
	var winner atomic.Int32
	var failed atomic.Value
	race(func(i int) {
		ok, err := c.SetNX(ctx, k, []byte(strconv.Itoa(i)), time.Minute)
		if err != nil {
			failed.Store(err.Error())
			return
		}
		if ok {
			wins.Add(1)
			winner.Store(int32(i))
		}
	})
	if f := failed.Load(); f != nil {
		t.Fatalf("SetNX: %v", f)
	}
	if wins.Load() != 1 {
		t.Fatalf("%d SetNX calls succeeded, want exactly 1", wins.Load())
	}
	if got := mustGet(t, c, k); got != strconv.Itoa(int(winner.Load())) {
		t.Fatalf("Get = %q, want the winner's value %d", got, winner.Load())
	}
}

func testIncrConcurrent(t *testing.T, c cache.Cache) {
	ctx := context.Background()
	k := key(t, "n")
	const per = 20
	var mu sync.Mutex
	seen := make(map[int64]bool)
	var failed atomic.Value
	race(func(int) {
		for range per {
			n, err := c.Incr(ctx, k, time.Minute)
			if err != nil {
				failed.Store(err.Error())
				return
			}
			mu.Lock()
			if seen[n] {
				failed.Store(fmt.Sprintf("value %d returned twice", n))
			}
			seen[n] = true
			mu.Unlock()
		}
	})
	if f := failed.Load(); f != nil {
		t.Fatalf("Incr: %v", f)
	}
	if got, want := mustGet(t, c, k), strconv.Itoa(racers*per); got != want {
		t.Fatalf("counter = %s, want %s", got, want)
	}
	if len(seen) != racers*per {
		t.Fatalf("%d distinct values, want %d", len(seen), racers*per)
	}
}
