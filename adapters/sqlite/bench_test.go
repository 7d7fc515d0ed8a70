package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/store/storetest"
)

// benchVersion keys the cached benchmark database; bump it when the schema
// or the generated documents change.
const benchVersion = "v2"

const (
	benchDocs   = 100_000
	benchTenant = "corpBench"
	benchForm   = "form0001"
)

var regions = []string{"华东", "华南", "华北", "西南", "东北"}

func benchDoc(r *rand.Rand, i int) store.Doc {
	return store.Doc{
		"id": fmt.Sprintf("%024x", i+1), "corpId": benchTenant, "appId": "app1", "formId": benchForm,
		"flowStatus": int64(r.IntN(7)), "dataTitle": fmt.Sprintf("订单 %d", i),
		"createBy":   map[string]any{"id": "u1", "label": "张三"},
		"createTime": int64(1_700_000_000_000 + i*1000),
		"data": map[string]any{
			"amount":   float64(r.IntN(1_000_000)) / 100,
			"region":   map[string]any{"value": regions[r.IntN(len(regions))], "label": "区域"},
			"customer": fmt.Sprintf("客户%d有限公司", r.IntN(5000)),
			"qty":      int64(r.IntN(100)),
			"items":    []any{map[string]any{"sku": "s1", "qty": int64(r.IntN(10))}},
		},
	}
}

var benchPaths = []query.Path{{"data", "amount"}, {"data", "region", "value"}, {"createTime"}}

// openBenchDB opens the cached 100k-document database, building it first
// when it is missing.
func openBenchDB(b *testing.B) *Store {
	b.Helper()
	ctx := context.Background()
	dir := filepath.Join(os.TempDir(), "eimshub-sqlite-bench-"+benchVersion)
	file := filepath.Join(dir, "page100k.db")
	if _, err := os.Stat(file); err != nil {
		build := filepath.Join(dir, fmt.Sprintf("build-%d.db", os.Getpid()))
		s, err := Open(ctx, build)
		if err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		const batch = 20_000
		for start := 0; start < benchDocs; start += batch {
			err := s.Tx(ctx, func(ctx context.Context) error {
				for i := start; i < start+batch; i++ {
					if err := s.Insert(ctx, "formdata", benchDoc(r, i)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		if err := s.EnsureIndex(ctx, "formdata", benchPaths); err != nil {
			b.Fatal(err)
		}
		if _, err := s.db.ExecContext(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(build, file); err != nil {
			b.Fatal(err)
		}
	}
	s, err := Open(ctx, file)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.EnsureIndex(ctx, "formdata", benchPaths); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkPage100k: one tenant, one form, 100,000 records; a filtered
// (amount ≥ X and region eq Y), sorted (amount desc), 50-row page.
func BenchmarkPage100k(b *testing.B) {
	s := openBenchDB(b)
	defer s.Close()
	ctx := context.Background()
	q := query.Query{
		Filter: query.AndOf(
			query.Cmp{Path: query.Path{"formId"}, Op: query.Eq, Value: benchForm},
			query.Cmp{Path: query.Path{"data", "amount"}, Op: query.Ge, Value: 5000.0},
			query.Cmp{Path: query.Path{"data", "region", "value"}, Op: query.Eq, Value: "华东"},
		),
		Sort:  []query.Sort{{Path: query.Path{"data", "amount"}, Desc: true}},
		Limit: 50,
	}
	for _, offset := range []int{0, 1000} {
		b.Run(fmt.Sprintf("offset=%d", offset), func(b *testing.B) {
			q.Offset = offset
			if docs, err := s.Find(ctx, "formdata", benchTenant, q); err != nil || len(docs) != 50 {
				b.Fatalf("Find: %d docs, %v", len(docs), err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Find(ctx, "formdata", benchTenant, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("count", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Count(ctx, "formdata", benchTenant, q.Filter); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("get", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Get(ctx, "formdata", benchTenant, fmt.Sprintf("%024x", 777)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkInsert(b *testing.B) {
	s := newTestStore(b)
	defer s.Close()
	ctx := context.Background()
	if err := s.EnsureIndex(ctx, "formdata", benchPaths); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	i := 0
	for b.Loop() {
		if err := s.Insert(ctx, "formdata", benchDoc(r, i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkInsertTx100(b *testing.B) {
	s := newTestStore(b)
	defer s.Close()
	ctx := context.Background()
	if err := s.EnsureIndex(ctx, "formdata", benchPaths); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	i := 0
	for b.Loop() {
		err := s.Tx(ctx, func(ctx context.Context) error {
			for range 100 {
				if err := s.Insert(ctx, "formdata", benchDoc(r, i)); err != nil {
					return err
				}
				i++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPortable(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store { return newTestStore(b) })
}
