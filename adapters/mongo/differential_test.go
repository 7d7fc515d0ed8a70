package mongo

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/store/storetest"
)

// TestDifferentialSQLite runs the same queries on the embedded SQLite
// store and on this adapter over FerretDB, both loaded with
// storetest.Fixture, and requires the same documents in the same order:
// every filter case (numbers, strings, null and absent fields, ne on absent
// values, case-sensitive contains/startswith/endswith, arrays of scalars)
// under several orders and pages, and every order/page case. Filters
// FerretDB cannot evaluate as MongoDB does (ferretElemMatch) are left out
// and counted in the log.
func TestDifferentialSQLite(t *testing.T) {
	ctx := context.Background()
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lite.Close() })
	mg := freshStore(t, ferret.Connect(t))
	storetest.LoadFixture(t, lite)
	storetest.LoadFixture(t, mg)

	type qcase struct {
		name string
		q    query.Query
	}
	var cases []qcase
	orders := []struct {
		name string
		sort []query.Sort
	}{
		{"id", nil},
		{"amount desc", []query.Sort{{Path: query.Path{"data", "amount"}, Desc: true}}},
		{"name, region desc", []query.Sort{{Path: query.Path{"data", "name"}}, {Path: query.Path{"data", "region"}, Desc: true}}},
		{"flag desc, id desc", []query.Sort{{Path: query.Path{"data", "flag"}, Desc: true}, {Path: query.Path{"id"}, Desc: true}}},
	}
	pages := []struct{ limit, offset int }{{-1, 0}, {3, 0}, {2, 3}, {-1, 7}}
	skipped := 0
	for _, fc := range storetest.FilterCases() {
		if !ferretFilterOK(fc.Filter) {
			skipped++
			continue
		}
		for _, o := range orders {
			for _, p := range pages {
				cases = append(cases, qcase{fc.Name + " / " + o.name, query.Query{
					Filter: fc.Filter, Sort: o.sort, Limit: p.limit, Offset: p.offset}})
			}
		}
	}
	for _, oc := range storetest.OrderCases() {
		cases = append(cases, qcase{"order " + oc.Name, oc.Query})
	}
	t.Logf("%d queries compared; %d filter cases left out (%s)", len(cases), skipped, ferretElemMatch)

	for _, c := range cases {
		want, err := lite.Find(ctx, storetest.Coll, storetest.TenantA, c.q)
		if err != nil {
			t.Fatalf("%s: sqlite: %v", c.name, err)
		}
		got, err := mg.Find(ctx, storetest.Coll, storetest.TenantA, c.q)
		if err != nil {
			t.Fatalf("%s: mongo: %v", c.name, err)
		}
		if !reflect.DeepEqual(docIDs(got), docIDs(want)) {
			t.Errorf("%s (limit %d offset %d): mongo %v, sqlite %v", c.name, c.q.Limit, c.q.Offset, docIDs(got), docIDs(want))
			continue
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("%s: document %v differs:\nmongo  %#v\nsqlite %#v", c.name, got[i]["id"], got[i], want[i])
			}
		}
		nl, err1 := lite.Count(ctx, storetest.Coll, storetest.TenantA, c.q.Filter)
		nm, err2 := mg.Count(ctx, storetest.Coll, storetest.TenantA, c.q.Filter)
		if err1 != nil || err2 != nil || nl != nm {
			t.Errorf("%s: Count mongo %d (%v), sqlite %d (%v)", c.name, nm, err2, nl, err1)
		}
	}
}

func docIDs(docs []store.Doc) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i], _ = d["id"].(string)
	}
	return out
}
