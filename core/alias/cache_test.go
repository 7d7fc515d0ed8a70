package alias

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// countingStore counts the Finds on the aliases' collection of a real
// SQLite store.
type countingStore struct {
	store.Store
	finds atomic.Int64
}

func (c *countingStore) Find(ctx context.Context, coll, tenant string, q query.Query) ([]store.Doc, error) {
	if coll == Coll {
		c.finds.Add(1)
	}
	return c.Store.Find(ctx, coll, tenant, q)
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// twoInstances returns two Services over one store, as two hub instances
// sharing a database, with a clock each test moves.
func twoInstances(t *testing.T) (a, b *Service, st *countingStore, clk *clock) {
	t.Helper()
	raw, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	st = &countingStore{Store: raw}
	clk = &clock{t: time.Unix(1_700_000_000, 0)}
	a, b = New(st), New(st)
	a.cache.now, b.cache.now = clk.now, clk.now
	return a, b, st, clk
}

func TestLookupCache(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, a, b *Service, st *countingStore, clk *clock)
	}{
		{"found aliases are read once", func(t *testing.T, a, _ *Service, st *countingStore, _ *clock) {
			if err := a.Set(ctx, "t1", "h3yun", "user", "G1", "u1"); err != nil {
				t.Fatal(err)
			}
			before := st.finds.Load()
			for range 3 {
				m, err := a.ToExt(ctx, "t1", "h3yun", "user", []string{"u1", "u2"})
				if err != nil || len(m) != 1 || m["u1"] != "G1" {
					t.Fatalf("ToExt = %v, %v", m, err)
				}
			}
			if n := st.finds.Load() - before; n != 1 {
				t.Errorf("%d store reads for three lookups, want 1", n)
			}
		}},
		{"a write on this instance is seen at once", func(t *testing.T, a, _ *Service, _ *countingStore, _ *clock) {
			if m, _ := a.ToExt(ctx, "t1", "h3yun", "user", []string{"u1", "u2"}); len(m) != 0 {
				t.Fatalf("before: %v", m)
			}
			if m, _ := a.ToHub(ctx, "t1", "h3yun", "user", []string{"G1"}); len(m) != 0 {
				t.Fatalf("before: %v", m)
			}
			if err := a.Set(ctx, "t1", "h3yun", "user", "G1", "u1"); err != nil {
				t.Fatal(err)
			}
			alloc, err := a.Allocate(ctx, "t1", "h3yun", "user", []string{"u2"}, Sequence{Prefix: "X", Width: 2})
			if err != nil || alloc["u2"] != "X01" {
				t.Fatalf("Allocate = %v, %v", alloc, err)
			}
			if m, _ := a.ToExt(ctx, "t1", "h3yun", "user", []string{"u1", "u2"}); m["u1"] != "G1" || m["u2"] != "X01" {
				t.Errorf("after the writes: ToExt = %v", m)
			}
			if m, _ := a.ToHub(ctx, "t1", "h3yun", "user", []string{"G1"}); m["G1"] != "u1" {
				t.Errorf("after the writes: ToHub = %v", m)
			}
		}},
		{"a write on another instance is seen within the miss TTL", func(t *testing.T, a, b *Service, _ *countingStore, clk *clock) {
			if m, _ := a.ToExt(ctx, "t1", "h3yun", "user", []string{"u1"}); len(m) != 0 {
				t.Fatalf("before: %v", m)
			}
			if err := b.Set(ctx, "t1", "h3yun", "user", "G1", "u1"); err != nil {
				t.Fatal(err)
			}
			if m, _ := a.ToExt(ctx, "t1", "h3yun", "user", []string{"u1"}); len(m) != 0 {
				t.Fatalf("the miss is kept for %v; got %v", missTTL, m)
			}
			clk.t = clk.t.Add(missTTL)
			if m, _ := a.ToExt(ctx, "t1", "h3yun", "user", []string{"u1"}); m["u1"] != "G1" {
				t.Errorf("after %v: %v", missTTL, m)
			}
		}},
		{"a miss read across a write is not kept", func(t *testing.T, a, _ *Service, _ *countingStore, _ *clock) {
			gen := a.cache.generation()
			stale, err := a.find(ctx, "t1", "h3yun", "user", dirHub, []string{"u1"})
			if err != nil || len(stale) != 0 {
				t.Fatal(stale, err)
			}
			if err := a.Set(ctx, "t1", "h3yun", "user", "G1", "u1"); err != nil {
				t.Fatal(err)
			}
			a.cache.put(cacheKey{"t1", "h3yun", "user", dirHub, ""}, []string{"u1"}, stale, gen)
			if m, _ := a.ToExt(ctx, "t1", "h3yun", "user", []string{"u1"}); m["u1"] != "G1" {
				t.Errorf("a stale miss was kept: %v", m)
			}
		}},
		{"tenants, namespaces and kinds stay apart", func(t *testing.T, a, _ *Service, _ *countingStore, _ *clock) {
			if err := a.Set(ctx, "t1", "h3yun", "user", "G1", "u1"); err != nil {
				t.Fatal(err)
			}
			if m, _ := a.ToExt(ctx, "t1", "h3yun", "user", []string{"u1"}); m["u1"] != "G1" {
				t.Fatalf("ToExt = %v", m)
			}
			for _, k := range [][3]string{{"t2", "h3yun", "user"}, {"t1", "eoffice", "user"}, {"t1", "h3yun", "department"}} {
				if m, err := a.ToExt(ctx, k[0], k[1], k[2], []string{"u1"}); err != nil || len(m) != 0 {
					t.Errorf("%v sees %v, %v", k, m, err)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, st, clk := twoInstances(t)
			tc.run(t, a, b, st, clk)
		})
	}
}
