package cache_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eimshub/eimshub/adapters/memory"
	"github.com/eimshub/eimshub/core/cache"
	"github.com/eimshub/eimshub/core/cache/cachetest"
	"github.com/eimshub/eimshub/core/errs"
)

func newMemory(t *testing.T) *memory.Cache {
	m := memory.NewCache()
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// The near cache must keep the port's contract for every key, including
// the ones it serves locally ("cachetest:" is the suite's key prefix).
func TestNearConformance(t *testing.T) {
	cachetest.Run(t, func(t *testing.T) cache.Cache {
		return cache.NewNear(newMemory(t), 100*time.Millisecond, "cachetest:")
	})
}

func TestNearConformanceNoPrefix(t *testing.T) {
	cachetest.Run(t, func(t *testing.T) cache.Cache {
		return cache.NewNear(newMemory(t), time.Second, "other:")
	})
}

// counting is the underlying cache with its MGet calls counted (the round
// trips a remote cache would make).
type counting struct {
	cache.Cache
	mgets atomic.Int64
}

func (c *counting) MGet(ctx context.Context, keys ...string) ([][]byte, error) {
	c.mgets.Add(1)
	return c.Cache.MGet(ctx, keys...)
}

func TestNearServesRepeatedReadsLocally(t *testing.T) {
	ctx := context.Background()
	under := &counting{Cache: newMemory(t)}
	n := cache.NewNear(under, time.Minute, "rvj:", "rvu:") // clamped to MaxNearTTL
	if err := under.Set(ctx, "rvu:t1:u1", []byte("123"), time.Hour); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		vals, err := n.MGet(ctx, "rvj:abc", "rvu:t1:u1")
		if err != nil {
			t.Fatal(err)
		}
		if vals[0] != nil || string(vals[1]) != "123" {
			t.Fatalf("read %d: MGet = %q, want [nil 123]", i, vals)
		}
	}
	// 50 reads within a second cost one or two round trips (two only if
	// the first copy aged past the ttl in between), not 50.
	if got := under.mgets.Load(); got < 1 || got > 2 {
		t.Fatalf("underlying MGet calls = %d, want 1 or 2", got)
	}
	// Keys without a listed prefix always go to the underlying cache.
	before := under.mgets.Load()
	for range 3 {
		if _, err := n.MGet(ctx, "rt:x"); err != nil {
			t.Fatal(err)
		}
	}
	if got := under.mgets.Load() - before; got != 3 {
		t.Fatalf("underlying MGet calls for unlisted keys = %d, want 3", got)
	}
}

func TestNearReadsOwnWrites(t *testing.T) {
	ctx := context.Background()
	n := cache.NewNear(newMemory(t), time.Second, "rvj:")
	steps := []struct {
		name  string
		write func() error
		want  string // "" = absent
	}{
		{"Set", func() error { return n.Set(ctx, "rvj:k", []byte("1"), time.Hour) }, "1"},
		{"Del", func() error { return n.Del(ctx, "rvj:k") }, ""},
		{"SetNX", func() error { _, err := n.SetNX(ctx, "rvj:k", []byte("2"), time.Hour); return err }, "2"},
		{"Take", func() error { _, err := n.Take(ctx, "rvj:k"); return err }, ""},
		{"Incr", func() error { _, err := n.Incr(ctx, "rvj:k", time.Hour); return err }, "1"},
	}
	for _, s := range steps {
		// Prime the local copy, then write, then read at once.
		if _, err := n.MGet(ctx, "rvj:k"); err != nil {
			t.Fatal(err)
		}
		if err := s.write(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		v, err := n.Get(ctx, "rvj:k")
		switch {
		case s.want == "" && !errors.Is(err, errs.E(errs.NotFound)):
			t.Fatalf("after %s: Get = %q, %v; want NotFound", s.name, v, err)
		case s.want != "" && (err != nil || string(v) != s.want):
			t.Fatalf("after %s: Get = %q, %v; want %q", s.name, v, err, s.want)
		}
	}
}

// A revocation written through another instance (another Near over the
// same shared cache) is seen within the near ttl.
func TestNearSeesOtherInstanceWithinTTL(t *testing.T) {
	ctx := context.Background()
	shared := newMemory(t)
	const ttl = 200 * time.Millisecond
	a := cache.NewNear(shared, ttl, "rvj:")
	b := cache.NewNear(shared, ttl, "rvj:")
	if vals, err := a.MGet(ctx, "rvj:tok"); err != nil || vals[0] != nil {
		t.Fatalf("MGet before revocation = %q, %v", vals, err)
	}
	if err := b.Set(ctx, "rvj:tok", []byte("1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		vals, err := a.MGet(ctx, "rvj:tok")
		if err != nil {
			t.Fatal(err)
		}
		if string(vals[0]) == "1" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("revocation written through another instance never became visible")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNearDisabledWithZeroTTL(t *testing.T) {
	ctx := context.Background()
	under := &counting{Cache: newMemory(t)}
	n := cache.NewNear(under, 0, "rvj:")
	for range 3 {
		if _, err := n.MGet(ctx, "rvj:x"); err != nil {
			t.Fatal(err)
		}
	}
	if got := under.mgets.Load(); got != 3 {
		t.Fatalf("underlying MGet calls = %d, want 3 (near cache disabled)", got)
	}
}
