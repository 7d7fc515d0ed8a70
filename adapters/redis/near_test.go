package redis

import (
	"context"
	"testing"
	"time"

	"github.com/eimshub/eimshub/adapters/redis/redistest"
	"github.com/eimshub/eimshub/core/cache"
	"github.com/eimshub/eimshub/core/errs"
)

var revocationPrefixes = []string{"rvj:", "rvu:"}

// Two hub instances, each with its own client and near cache over one
// Redis: a revocation written through one is seen by the other within the
// near ttl.
func TestNearRevocationAcrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	a := cache.NewNear(NewCache(open(t, srv), WithLogger(quiet)), 300*time.Millisecond, revocationPrefixes...)
	b := cache.NewNear(NewCache(open(t, srv), WithLogger(quiet)), 300*time.Millisecond, revocationPrefixes...)
	ctx := context.Background()
	keys := []string{"rvj:jti-1", "rvu:t1:u1"}
	if vals, err := a.MGet(ctx, keys...); err != nil || vals[0] != nil || vals[1] != nil {
		t.Fatalf("MGet before revocation = %q, %v", vals, err)
	}
	if err := b.Set(ctx, "rvj:jti-1", []byte("1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	// b reads its own write at once.
	if vals, err := b.MGet(ctx, keys...); err != nil || string(vals[0]) != "1" {
		t.Fatalf("writer's MGet = %q, %v; want the revocation", vals, err)
	}
	eventually(t, "revocation visible on the other instance", func() error {
		vals, err := a.MGet(ctx, keys...)
		if err != nil {
			return err
		}
		if string(vals[0]) != "1" {
			return errs.New(errs.NotFound, "not yet visible")
		}
		return nil
	})
}

// With Redis down, token validation degrades to the local cache: keys read
// recently are served from it, others fail with errs.Unavailable; with
// Redis back, reads go to Redis again.
func TestNearServesStaleWhileRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	n := cache.NewNear(NewCache(open(t, srv), WithLogger(quiet)), 50*time.Millisecond, revocationPrefixes...)
	ctx := context.Background()
	if err := n.Set(ctx, "rvu:t1:u1", []byte("42"), time.Hour); err != nil {
		t.Fatal(err)
	}
	known := []string{"rvj:seen", "rvu:t1:u1"}
	if _, err := n.MGet(ctx, known...); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	time.Sleep(60 * time.Millisecond) // past the near ttl: a fresh read would go to Redis
	vals, err := n.MGet(ctx, known...)
	if err != nil || vals[0] != nil || string(vals[1]) != "42" {
		t.Fatalf("MGet of known keys with Redis down = %q, %v; want the local copies [nil 42]", vals, err)
	}
	if _, err := n.MGet(ctx, "rvj:never-seen"); errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("MGet of an unknown key with Redis down = %v; want errs.Unavailable", err)
	}
	if _, err := n.Get(ctx, "rt:other"); errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("Get of an unlisted key with Redis down = %v; want errs.Unavailable", err)
	}

	srv.Restart() // empty data set: the mark is gone
	eventually(t, "reads from Redis after restart", func() error {
		vals, err := n.MGet(ctx, known...)
		if err != nil {
			return err
		}
		if vals[1] != nil {
			return errs.New(errs.Conflict, "still the stale copy")
		}
		return nil
	})
}
