package memory

import (
	"context"
	"testing"
	"time"

	"github.com/eimshub/eimshub/core/cache"
	"github.com/eimshub/eimshub/core/cache/cachetest"
)

func TestConformance(t *testing.T) {
	cachetest.Run(t, func(t *testing.T) cache.Cache {
		c := NewCache()
		t.Cleanup(func() { _ = c.Close() })
		return c
	})
}

// TestSweep checks that the janitor's sweep reclaims expired keys, using a
// controlled clock (no sleeping).
func TestSweep(t *testing.T) {
	c := NewCache()
	_ = c.Close() // stop the janitor: this test drives sweep itself
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	ctx := context.Background()
	if err := c.Set(ctx, "short", []byte("v"), time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "forever", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	c.sweep()
	if c.Len() != 2 {
		t.Fatalf("Len before expiry = %d, want 2", c.Len())
	}
	now = now.Add(time.Second)
	c.sweep()
	if c.Len() != 1 {
		t.Fatalf("Len after sweep = %d, want 1", c.Len())
	}
	if _, err := c.Get(ctx, "forever"); err != nil {
		t.Fatalf("Get(forever): %v", err)
	}
}

func TestCloseIdempotent(t *testing.T) {
	c := NewCache()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(context.Background(), "k", []byte("v"), 0); err != nil {
		t.Fatalf("Set after Close: %v", err)
	}
}

func TestContextCanceled(t *testing.T) {
	c := NewCache()
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Set(ctx, "k", []byte("v"), 0); err == nil {
		t.Fatal("Set with a canceled context succeeded")
	}
}
