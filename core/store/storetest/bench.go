package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// NewBenchStore makes a fresh, empty store for one benchmark.
type NewBenchStore func(b *testing.B) store.Store

// Bench runs portable benchmarks (insert, get, a filtered sorted page over
// 2,000 records) against stores made by newStore, so adapters can be
// compared with the same workload. The store is closed afterwards.
func Bench(b *testing.B, newStore NewBenchStore) {
	ctx := context.Background()
	record := func(i int) store.Doc {
		return store.Doc{"id": fmt.Sprintf("b%08d", i), "corpId": TenantA, "formId": "f1",
			"createTime": int64(1_700_000_000_000 + i),
			"data": map[string]any{"amount": float64(i%1000) + 0.5, "region": []string{"华东", "华南", "华北"}[i%3],
				"name": fmt.Sprintf("客户%d", i)}}
	}
	b.Run("Insert", func(b *testing.B) {
		s := newStore(b)
		defer s.Close()
		i := 0
		for b.Loop() {
			if err := s.Insert(ctx, Coll, record(i)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	const n = 2000
	fill := func(b *testing.B) store.Store {
		s := newStore(b)
		err := s.Tx(ctx, func(ctx context.Context) error {
			for i := range n {
				if err := s.Insert(ctx, Coll, record(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.EnsureIndex(ctx, Coll, []query.Path{data("amount"), data("region")}); err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Run("Get", func(b *testing.B) {
		s := fill(b)
		defer s.Close()
		b.ResetTimer()
		for b.Loop() {
			if _, err := s.Get(ctx, Coll, TenantA, "b00000777"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FindPage", func(b *testing.B) {
		s := fill(b)
		defer s.Close()
		q := query.Query{Filter: query.AndOf(
			query.Cmp{Path: path("formId"), Op: query.Eq, Value: "f1"},
			query.Cmp{Path: data("amount"), Op: query.Ge, Value: 500.0},
			query.Cmp{Path: data("region"), Op: query.Eq, Value: "华东"}),
			Sort: []query.Sort{{Path: data("amount"), Desc: true}}, Limit: 50}
		b.ResetTimer()
		for b.Loop() {
			docs, err := s.Find(ctx, Coll, TenantA, q)
			if err != nil || len(docs) != 50 {
				b.Fatalf("Find: %d docs, %v", len(docs), err)
			}
		}
	})
}
