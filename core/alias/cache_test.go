package alias

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
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
	txs   atomic.Int64
}

func (c *countingStore) Tx(ctx context.Context, fn func(ctx context.Context) error) error {
	c.txs.Add(1)
	return c.Store.Tx(ctx, fn)
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
		{"Allocate of ids that all have aliases reads the cache and opens no transaction", func(t *testing.T, a, _ *Service, st *countingStore, _ *clock) {
			seq := Sequence{Prefix: "WV", Width: 8}
			first, err := a.Allocate(ctx, "t1", "eoffice", "user", []string{"u1", "u2"}, seq)
			if err != nil || first["u1"] != "WV00000001" || first["u2"] != "WV00000002" {
				t.Fatalf("first Allocate = %v, %v", first, err)
			}
			finds, txs := st.finds.Load(), st.txs.Load()
			again, err := a.Allocate(ctx, "t1", "eoffice", "user", []string{"u2", "u1", "u2"}, seq)
			if err != nil || fmt.Sprint(again) != fmt.Sprint(first) {
				t.Fatalf("Allocate of known ids = %v, %v; want %v", again, err, first)
			}
			if n, m := st.finds.Load()-finds, st.txs.Load()-txs; n != 0 || m != 0 {
				t.Errorf("Allocate of known ids: %d store reads, %d transactions; want 0, 0", n, m)
			}
			// One known, one new: one transaction, for the new id only.
			mixed, err := a.Allocate(ctx, "t1", "eoffice", "user", []string{"u1", "u3"}, seq)
			if err != nil || mixed["u1"] != "WV00000001" || mixed["u3"] != "WV00000003" || len(mixed) != 2 {
				t.Fatalf("mixed Allocate = %v, %v", mixed, err)
			}
			if m := st.txs.Load() - txs; m != 1 {
				t.Errorf("mixed Allocate: %d transactions, want 1", m)
			}
			// What Allocate cached serves the lookups in both directions.
			finds = st.finds.Load()
			if m, err := a.ToHub(ctx, "t1", "eoffice", "user", []string{"WV00000001", "WV00000003"}); err != nil || m["WV00000001"] != "u1" || m["WV00000003"] != "u3" {
				t.Errorf("ToHub = %v, %v", m, err)
			}
			if n := st.finds.Load() - finds; n != 0 {
				t.Errorf("ToHub after Allocate: %d store reads, want 0", n)
			}
		}},
		{"another instance reads the aliases in one transaction, then from its cache", func(t *testing.T, a, b *Service, st *countingStore, _ *clock) {
			seq := Sequence{Prefix: "WV", Width: 8}
			first, err := a.Allocate(ctx, "t1", "eoffice", "user", []string{"u1", "u2"}, seq)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range []int64{1, 0} {
				txs := st.txs.Load()
				got, err := b.Allocate(ctx, "t1", "eoffice", "user", []string{"u1", "u2"}, seq)
				if err != nil || fmt.Sprint(got) != fmt.Sprint(first) {
					t.Fatalf("b's Allocate #%d = %v, %v; want %v", i+1, got, err, first)
				}
				if n := st.txs.Load() - txs; n != want {
					t.Errorf("b's Allocate #%d: %d transactions, want %d", i+1, n, want)
				}
			}
		}},
		{"Allocate sees an alias another instance gave since its cached miss", func(t *testing.T, a, b *Service, _ *countingStore, _ *clock) {
			seq := Sequence{Prefix: "WV", Width: 8}
			if m, _ := a.ToExt(ctx, "t1", "eoffice", "user", []string{"u1"}); len(m) != 0 {
				t.Fatalf("before: %v", m)
			}
			byB, err := b.Allocate(ctx, "t1", "eoffice", "user", []string{"u1"}, seq)
			if err != nil {
				t.Fatal(err)
			}
			// a still has the miss cached: its transaction reads again.
			byA, err := a.Allocate(ctx, "t1", "eoffice", "user", []string{"u1"}, seq)
			if err != nil || byA["u1"] != byB["u1"] {
				t.Errorf("a allocated %v, b %v (%v): one alias per id", byA, byB, err)
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

// Two instances over one SQLite store allocate the same ids (some already
// aliased) from many goroutines at once: every id ends with exactly one
// alias document per direction, every answer agrees, and no external id
// is handed out twice.
func TestAllocateConcurrentSameIDs(t *testing.T) {
	ctx := context.Background()
	a, b, st, _ := twoInstances(t)
	seq := Sequence{Prefix: "WV", Width: 8}
	ids := make([]string, 12)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%02d", i)
	}
	if _, err := a.Allocate(ctx, "t1", "eoffice", "user", ids[:4], seq); err != nil {
		t.Fatal(err)
	}
	const workers = 10
	results := make([]map[string]string, workers)
	errsOut := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		svc := a
		if w%2 == 1 {
			svc = b
		}
		batch := append([]string(nil), ids[w%3:]...) // overlapping batches
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[w], errsOut[w] = svc.Allocate(ctx, "t1", "eoffice", "user", batch, seq)
		}()
	}
	wg.Wait()
	agreed := map[string]string{}
	for w, r := range results {
		if errsOut[w] != nil {
			t.Fatalf("worker %d: %v", w, errsOut[w])
		}
		for _, id := range ids[w%3:] {
			ext, ok := r[id]
			if !ok {
				t.Fatalf("worker %d: no alias for %s in %v", w, id, r)
			}
			if prev, ok := agreed[id]; ok && prev != ext {
				t.Fatalf("%s got %s and %s", id, prev, ext)
			}
			agreed[id] = ext
		}
	}
	owner := map[string]string{}
	for id, ext := range agreed {
		if prev, ok := owner[ext]; ok {
			t.Fatalf("%s handed to %s and %s", ext, prev, id)
		}
		owner[ext] = id
	}
	for _, dir := range []string{dirHub, dirExt} {
		docs, err := st.Store.Find(ctx, Coll, "t1", query.Query{Filter: query.AndOf(
			query.Cmp{Path: query.Path{"dir"}, Op: query.Eq, Value: dir},
			query.Cmp{Path: query.Path{"kind"}, Op: query.Eq, Value: "user"}), Limit: -1})
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != len(ids) {
			t.Errorf("%d alias documents in direction %s, want %d (one per id)", len(docs), dir, len(ids))
		}
		for _, d := range docs {
			if id, _ := d["hubId"].(string); agreed[id] != d["ext"] {
				t.Errorf("stored %v, answered %s → %s", d, id, agreed[id])
			}
		}
	}
}
