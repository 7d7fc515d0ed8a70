// Package storetest is the conformance suite of the store.Store port. Every
// adapter runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return newTestStore(t) })
//	}
//
// newStore must return a fresh, empty store for each call (a new temporary
// file, a new database name); the suite closes it.
//
// The suite pins the semantics of spec §7.2 (null/absent handling, binary
// string order, case-sensitive functions, "any element" arrays), §7.3
// (nulls first ascending / last descending, id tie-break) and §8 (the
// transaction travels in the context; nested Tx calls join the outer one).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// NewStore makes a fresh, empty store for one subtest.
type NewStore func(t *testing.T) store.Store

// Coll is the collection the suite writes to (the records collection, so
// adapters that treat it specially are exercised).
const Coll = "formdata"

// Tenants the suite uses.
const (
	TenantA = "corpA"
	TenantB = "corpB"
)

type behaviour struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// needsTx reports whether a behaviour needs multi-document transactions.
func needsTx(name string) bool {
	return strings.HasPrefix(name, "Tx/") && name != "Tx/ConcurrentNonTxWriters"
}

// Options adjusts Run for a backend that lacks a feature.
type Options struct {
	// NoTx, when not empty, skips the behaviours that need multi-document
	// transactions (rollback, isolation, nested Tx) with this message, for
	// a test server that has none. The adapter must then test them
	// elsewhere; the message says where.
	NoTx string
	// Skip, when set, returns a non-empty reason to skip the named
	// behaviour or case ("CRUD/InsertGet", "Filter/Eq/number",
	// "Order/Page/first", …): for a test server that differs from the
	// real one in a way the adapter does not rely on, or documents.
	Skip func(name string) string
}

func (o Options) skip(t *testing.T, name string) {
	t.Helper()
	if o.Skip != nil {
		if why := o.Skip(name); why != "" {
			t.Skip(why)
		}
	}
}

// Run runs the whole conformance suite against stores made by newStore.
// Subtests run in parallel, each on its own store.
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	RunWith(t, newStore, Options{})
}

// RunWith is Run with options.
func RunWith(t *testing.T, newStore NewStore, o Options) {
	t.Helper()
	var all []behaviour
	all = append(all, crudBehaviours()...)
	all = append(all, filterBehaviours(o)...)
	all = append(all, orderBehaviours(o)...)
	all = append(all, txBehaviours()...)
	for _, b := range all {
		t.Run(b.name, func(t *testing.T) {
			if o.NoTx != "" && needsTx(b.name) {
				t.Skip(o.NoTx)
			}
			o.skip(t, b.name)
			t.Parallel()
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			b.run(t, s)
		})
	}
}

// --- helpers -------------------------------------------------------------

func ctxOf(t *testing.T) context.Context { return t.Context() }

func mustInsert(t *testing.T, s store.Store, docs ...store.Doc) {
	t.Helper()
	for _, d := range docs {
		if err := s.Insert(ctxOf(t), Coll, d); err != nil {
			t.Fatalf("Insert %v: %v", d["id"], err)
		}
	}
}

func wantCode(t *testing.T, what string, err error, code errs.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got nil error, want %v", what, code)
	}
	if got := errs.CodeOf(err); got != code {
		t.Fatalf("%s: got %v (%v), want %v", what, got, err, code)
	}
}

func ids(docs []store.Doc) []string {
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		id, _ := d["id"].(string)
		out = append(out, id)
	}
	return out
}

func sorted(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

func find(t *testing.T, s store.Store, tenant string, q query.Query) []string {
	t.Helper()
	docs, err := s.Find(ctxOf(t), Coll, tenant, q)
	if err != nil {
		t.Fatalf("Find(%#v): %v", q, err)
	}
	return ids(docs)
}

func equalIDs(a, b []string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func path(keys ...string) query.Path { return query.Path(keys) }

func data(key string) query.Path { return query.Path{"data", key} }

func doc(id, tenant string, fields store.Doc) store.Doc {
	d := store.Doc{"id": id, "corpId": tenant, "formId": "f1", "data": fields}
	return d
}

// --- CRUD, tenancy, soft delete, round trip ------------------------------

func crudBehaviours() []behaviour {
	return []behaviour{
		{"CRUD/InsertGet", func(t *testing.T, s store.Store) {
			d := doc("a1", TenantA, store.Doc{"name": "x", "n": int64(5), "f": 1.25, "ok": true, "nil": nil,
				"arr": []any{"a", int64(1), map[string]any{"k": "v"}}, "obj": map[string]any{"deep": []any{}}})
			mustInsert(t, s, d)
			got, err := s.Get(ctxOf(t), Coll, TenantA, "a1")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, d) {
				t.Fatalf("Get = %#v, want %#v", got, d)
			}
		}},
		{"CRUD/InsertDuplicateConflict", func(t *testing.T, s store.Store) {
			mustInsert(t, s, doc("a1", TenantA, store.Doc{}))
			wantCode(t, "same tenant", s.Insert(ctxOf(t), Coll, doc("a1", TenantA, store.Doc{})), errs.Conflict)
			wantCode(t, "other tenant", s.Insert(ctxOf(t), Coll, doc("a1", TenantB, store.Doc{})), errs.Conflict)
			if err := s.Delete(ctxOf(t), Coll, TenantA, "a1"); err != nil {
				t.Fatal(err)
			}
			wantCode(t, "deleted id", s.Insert(ctxOf(t), Coll, doc("a1", TenantA, store.Doc{})), errs.Conflict)
			// Collections are separate id spaces.
			if err := s.Insert(ctxOf(t), "other", doc("a1", TenantA, store.Doc{})); err != nil {
				t.Fatalf("same id in another collection: %v", err)
			}
		}},
		{"CRUD/GetMissing", func(t *testing.T, s store.Store) {
			_, err := s.Get(ctxOf(t), Coll, TenantA, "nope")
			wantCode(t, "Get missing", err, errs.NotFound)
		}},
		{"CRUD/UpdateReplaces", func(t *testing.T, s store.Store) {
			mustInsert(t, s, doc("a1", TenantA, store.Doc{"a": "1", "b": "2"}))
			nd := doc("a1", TenantA, store.Doc{"a": "3"})
			if err := s.Update(ctxOf(t), Coll, TenantA, "a1", nd, nil); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctxOf(t), Coll, TenantA, "a1")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, nd) {
				t.Fatalf("after Update Get = %#v, want %#v", got, nd)
			}
			wantCode(t, "Update missing", s.Update(ctxOf(t), Coll, TenantA, "nope", doc("nope", TenantA, nil), nil), errs.NotFound)
		}},
		{"CRUD/SoftDelete", func(t *testing.T, s store.Store) {
			mustInsert(t, s, doc("a1", TenantA, store.Doc{"v": int64(1)}), doc("a2", TenantA, store.Doc{"v": int64(1)}))
			if err := s.Delete(ctxOf(t), Coll, TenantA, "a1"); err != nil {
				t.Fatal(err)
			}
			_, err := s.Get(ctxOf(t), Coll, TenantA, "a1")
			wantCode(t, "Get deleted", err, errs.NotFound)
			wantCode(t, "Delete deleted", s.Delete(ctxOf(t), Coll, TenantA, "a1"), errs.NotFound)
			wantCode(t, "Update deleted", s.Update(ctxOf(t), Coll, TenantA, "a1", doc("a1", TenantA, nil), nil), errs.NotFound)
			wantCode(t, "Delete missing", s.Delete(ctxOf(t), Coll, TenantA, "nope"), errs.NotFound)
			all := query.Query{Limit: -1}
			if got := find(t, s, TenantA, all); !equalIDs(got, []string{"a2"}) {
				t.Fatalf("Find after delete = %v", got)
			}
			// Even a filter on deleteFlag cannot reach a deleted document.
			q := query.Query{Filter: query.Cmp{Path: path("deleteFlag"), Op: query.Eq, Value: true}, Limit: -1}
			if got := find(t, s, TenantA, q); len(got) != 0 {
				t.Fatalf("Find deleteFlag eq true = %v", got)
			}
			n, err := s.Count(ctxOf(t), Coll, TenantA, nil)
			if err != nil || n != 1 {
				t.Fatalf("Count = %d, %v; want 1", n, err)
			}
		}},
		{"Tenancy/Isolation", func(t *testing.T, s store.Store) {
			mustInsert(t, s, doc("a1", TenantA, store.Doc{"v": "a"}), doc("b1", TenantB, store.Doc{"v": "a"}))
			ctx := ctxOf(t)
			if _, err := s.Get(ctx, Coll, TenantB, "a1"); errs.CodeOf(err) != errs.NotFound || err == nil {
				t.Fatalf("tenant B Get a1: %v, want NotFound", err)
			}
			if got := find(t, s, TenantB, query.Query{Limit: -1}); !equalIDs(got, []string{"b1"}) {
				t.Fatalf("tenant B Find = %v", got)
			}
			byID := query.Cmp{Path: path("id"), Op: query.Eq, Value: "a1"}
			if got := find(t, s, TenantB, query.Query{Filter: byID, Limit: -1}); len(got) != 0 {
				t.Fatalf("tenant B Find id eq a1 = %v", got)
			}
			if n, err := s.Count(ctx, Coll, TenantB, byID); err != nil || n != 0 {
				t.Fatalf("tenant B Count id eq a1 = %d, %v", n, err)
			}
			wantCode(t, "tenant B Update", s.Update(ctx, Coll, TenantB, "a1", doc("a1", TenantB, nil), nil), errs.NotFound)
			wantCode(t, "tenant B Delete", s.Delete(ctx, Coll, TenantB, "a1"), errs.NotFound)
			got, err := s.Get(ctx, Coll, TenantA, "a1")
			if err != nil || got["data"].(map[string]any)["v"] != "a" {
				t.Fatalf("tenant A's doc changed: %v, %v", got, err)
			}
			// The system scope "" is a tenant like any other.
			mustInsert(t, s, doc("s1", "", store.Doc{}))
			if got := find(t, s, "", query.Query{Limit: -1}); !equalIDs(got, []string{"s1"}) {
				t.Fatalf("system scope Find = %v", got)
			}
		}},
		{"Numbers/RoundTrip", func(t *testing.T, s store.Store) {
			big := int64(1)<<53 + 1
			d := doc("n1", TenantA, store.Doc{
				"big": big, "ms": int64(1714000000000), "neg": int64(-7), "zero": int64(0),
				"tenth": 0.1, "tiny": 1e-7, "negf": -2.5, "huge": 1.5e300,
				"list": []any{int64(1), 2.5, map[string]any{"x": int64(-1), "y": 0.25}},
			})
			mustInsert(t, s, d)
			got, err := s.Get(ctxOf(t), Coll, TenantA, "n1")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, d) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", got, d)
			}
			// Integral float64 values come back as int64 (store.Doc contract).
			mustInsert(t, s, doc("n2", TenantA, store.Doc{"f": float64(3)}))
			got, err = s.Get(ctxOf(t), Coll, TenantA, "n2")
			if err != nil {
				t.Fatal(err)
			}
			if v := got["data"].(map[string]any)["f"]; v != int64(3) {
				t.Fatalf("float64(3) came back as %#v, want int64(3)", v)
			}
			docs, err := s.Find(ctxOf(t), Coll, TenantA, query.Query{
				Filter: query.Cmp{Path: data("big"), Op: query.Eq, Value: big}, Limit: -1})
			if err != nil || !equalIDs(ids(docs), []string{"n1"}) || !reflect.DeepEqual(docs[0], d) {
				t.Fatalf("Find big eq %d = %v, %v", big, ids(docs), err)
			}
			if got := find(t, s, TenantA, query.Query{
				Filter: query.Cmp{Path: data("big"), Op: query.Eq, Value: big - 1}, Limit: -1}); len(got) != 0 {
				t.Fatalf("Find big eq %d = %v, want none (exact int64 compare)", big-1, got)
			}
		}},
		{"Index/EnsureIndexIdempotent", func(t *testing.T, s store.Store) {
			loadFixture(t, s)
			paths := []query.Path{data("amount"), data("region"), path("createTime"), path("id")}
			for i := 0; i < 2; i++ {
				if err := s.EnsureIndex(ctxOf(t), Coll, paths); err != nil {
					t.Fatalf("EnsureIndex #%d: %v", i+1, err)
				}
			}
			q := query.Query{Filter: query.AndOf(
				query.Cmp{Path: path("formId"), Op: query.Eq, Value: "f1"},
				query.Cmp{Path: data("amount"), Op: query.Ge, Value: 100.0},
				query.Cmp{Path: data("region"), Op: query.Eq, Value: "华东"}),
				Sort: []query.Sort{{Path: data("amount"), Desc: true}}, Limit: 50}
			if got := find(t, s, TenantA, q); !equalIDs(got, []string{"d01", "d09"}) {
				t.Fatalf("indexed query = %v", got)
			}
		}},
		{"Ping", func(t *testing.T, s store.Store) {
			if err := s.Ping(ctxOf(t)); err != nil {
				t.Fatal(err)
			}
		}},
		{"Update/ConditionCAS", func(t *testing.T, s store.Store) {
			mustInsert(t, s, doc("c1", TenantA, store.Doc{"version": int64(1), "state": "draft"}))
			ctx := ctxOf(t)
			v1 := query.Cmp{Path: data("version"), Op: query.Eq, Value: int64(1)}
			if err := s.Update(ctx, Coll, TenantA, "c1", doc("c1", TenantA, store.Doc{"version": int64(2)}), v1); err != nil {
				t.Fatalf("CAS 1→2: %v", err)
			}
			wantCode(t, "stale CAS", s.Update(ctx, Coll, TenantA, "c1", doc("c1", TenantA, store.Doc{"version": int64(3)}), v1), errs.Conflict)
			wantCode(t, "CAS on missing", s.Update(ctx, Coll, TenantA, "zz", doc("zz", TenantA, nil), v1), errs.NotFound)
			wantCode(t, "CAS other tenant", s.Update(ctx, Coll, TenantB, "c1", doc("c1", TenantB, nil),
				query.Cmp{Path: data("version"), Op: query.Eq, Value: int64(2)}), errs.NotFound)
			got, _ := s.Get(ctx, Coll, TenantA, "c1")
			if v := got["data"].(map[string]any)["version"]; v != int64(2) {
				t.Fatalf("version = %v, want 2", v)
			}
			// A condition on an absent field follows the filter semantics.
			absent := query.Null{Path: data("lockedBy"), IsNull: true}
			if err := s.Update(ctx, Coll, TenantA, "c1", doc("c1", TenantA, store.Doc{"version": int64(3)}), absent); err != nil {
				t.Fatalf("CAS with Null cond: %v", err)
			}
		}},
		{"Update/CASOneWinner", func(t *testing.T, s store.Store) {
			mustInsert(t, s, doc("c1", TenantA, store.Doc{"version": int64(1)}))
			const n = 8
			errsOut := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					nd := doc("c1", TenantA, store.Doc{"version": int64(2), "winner": int64(i)})
					errsOut[i] = s.Update(ctxOf(t), Coll, TenantA, "c1", nd,
						query.Cmp{Path: data("version"), Op: query.Eq, Value: int64(1)})
				}()
			}
			wg.Wait()
			winners := 0
			for i, err := range errsOut {
				switch {
				case err == nil:
					winners++
				case errs.CodeOf(err) != errs.Conflict:
					t.Errorf("goroutine %d: %v, want nil or Conflict", i, err)
				}
			}
			if winners != 1 {
				t.Fatalf("%d winners, want exactly 1", winners)
			}
		}},
	}
}

// --- filters ---------------------------------------------------------------

// Fixture returns the filter fixture: ten documents of TenantA (d01…d10)
// whose data covers numbers (int and float), strings (ASCII, Chinese, ""),
// null and absent fields, arrays of scalars, arrays of {value,label}
// objects and child-table rows (with nested arrays), plus one document of
// TenantB (x01) and one deleted document of TenantA (d11) that no query may
// return.
func Fixture() []store.Doc {
	row := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	opt := func(v, l string) map[string]any { return map[string]any{"value": v, "label": l} }
	return []store.Doc{
		doc("d01", TenantA, store.Doc{"amount": int64(100), "region": "华东", "name": "Alpha", "flag": true,
			"tags": []any{"a", "b"}, "checks": []any{opt("v1", "L1"), opt("v2", "L2")},
			"items": []any{row("qty", int64(5), "sku", "x"),
				row("qty", int64(20), "sku", "y", "subs", []any{row("n", int64(1)), row("n", int64(2))})}}),
		doc("d02", TenantA, store.Doc{"amount": 250.5, "region": "华南", "name": "alpha", "flag": false,
			"tags": []any{"b"}, "checks": []any{opt("v2", "L2")}, "items": []any{row("qty", int64(1), "sku", "z")}}),
		doc("d03", TenantA, store.Doc{"amount": nil, "region": "华北", "name": "Beta公司",
			"tags": []any{}, "checks": []any{}, "items": []any{}}),
		doc("d04", TenantA, store.Doc{"name": "beta"}),
		doc("d05", TenantA, store.Doc{"amount": int64(0), "region": "", "name": "",
			"tags": []any{"c"}, "items": []any{row("qty", nil), row("sku", "x")}}),
		doc("d06", TenantA, store.Doc{"amount": int64(-3), "region": "华东", "name": "Zeta", "flag": false,
			"items": []any{row("qty", int64(11), "sku", "x", "subs", []any{row("n", int64(3))})}}),
		doc("d07", TenantA, store.Doc{"amount": "100", "region": "West", "name": "测试公司"}),
		doc("d08", TenantA, store.Doc{"amount": int64(1000000), "region": int64(7), "name": "Ångström", "flag": true,
			"tags": "a"}),
		doc("d09", TenantA, store.Doc{"amount": int64(100), "region": "华东", "name": "gamma",
			"tags": []any{"a"}, "checks": []any{opt("v1", "L1")}}),
		doc("d10", TenantA, store.Doc{"amount": 99.99, "region": nil, "name": nil}),
		doc("x01", TenantB, store.Doc{"amount": int64(100), "region": "华东", "name": "Alpha", "tags": []any{"a"}}),
		doc("d11", TenantA, store.Doc{"amount": int64(100), "region": "华东", "name": "Alpha", "tags": []any{"a"}}),
	}
}

// LoadFixture inserts Fixture into s and soft-deletes d11.
func LoadFixture(t *testing.T, s store.Store) { loadFixture(t, s) }

func loadFixture(t *testing.T, s store.Store) {
	t.Helper()
	mustInsert(t, s, Fixture()...)
	if err := s.Delete(ctxOf(t), Coll, TenantA, "d11"); err != nil {
		t.Fatalf("Delete d11: %v", err)
	}
}

// FilterCase is one filter and the fixture ids it selects.
type FilterCase struct {
	Name   string
	Filter query.Expr
	Want   []string
}

var allA = []string{"d01", "d02", "d03", "d04", "d05", "d06", "d07", "d08", "d09", "d10"}

func except(ids ...string) []string {
	out := []string{}
	for _, id := range allA {
		if !contains(ids, id) {
			out = append(out, id)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// FilterCases is the table the suite checks against Fixture (exported so
// adapters can reuse it, e.g. to compare compiled queries).
func FilterCases() []FilterCase {
	cmp := func(p query.Path, op query.Op, v query.Value) query.Expr { return query.Cmp{Path: p, Op: op, Value: v} }
	str := func(p query.Path, fn query.StrFn, v string) query.Expr { return query.Str{Path: p, Fn: fn, Value: v} }
	anyRow := func(p query.Path, pred query.Expr) query.Expr { return query.AnyRow{Array: p, Pred: pred} }
	self := query.Path{}
	return []FilterCase{
		// Cmp on numbers; a string "100" never equals the number 100.
		{"Eq/number", cmp(data("amount"), query.Eq, 100.0), []string{"d01", "d09"}},
		{"Eq/int64", cmp(data("amount"), query.Eq, int64(100)), []string{"d01", "d09"}},
		{"Eq/float", cmp(data("amount"), query.Eq, 250.5), []string{"d02"}},
		{"Ne/number matches null and absent", cmp(data("amount"), query.Ne, 100.0), except("d01", "d09")},
		{"Gt/number", cmp(data("amount"), query.Gt, 99.99), []string{"d01", "d02", "d08", "d09"}},
		{"Ge/number", cmp(data("amount"), query.Ge, 100.0), []string{"d01", "d02", "d08", "d09"}},
		{"Lt/number", cmp(data("amount"), query.Lt, 0.0), []string{"d06"}},
		{"Le/number", cmp(data("amount"), query.Le, 0.0), []string{"d05", "d06"}},
		{"Eq/string vs number field", cmp(data("amount"), query.Eq, "100"), []string{"d07"}},
		{"Gt/string vs number field", cmp(data("amount"), query.Gt, "0"), []string{"d07"}},
		{"Eq/number vs string field", cmp(data("region"), query.Eq, 7.0), []string{"d08"}},
		// Strings: binary (code point) order, case-sensitive, Chinese.
		{"Eq/chinese", cmp(data("region"), query.Eq, "华东"), []string{"d01", "d06", "d09"}},
		{"Ne/chinese", cmp(data("region"), query.Ne, "华东"), except("d01", "d06", "d09")},
		{"Eq/empty string", cmp(data("region"), query.Eq, ""), []string{"d05"}},
		{"Eq/case-sensitive", cmp(data("name"), query.Eq, "alpha"), []string{"d02"}},
		{"Gt/string binary", cmp(data("region"), query.Gt, "West"), []string{"d01", "d02", "d03", "d06", "d09"}},
		{"Lt/string binary", cmp(data("name"), query.Lt, "a"), []string{"d01", "d03", "d05", "d06"}},
		{"Gt/string binary non-ASCII", cmp(data("name"), query.Gt, "Zeta"), []string{"d02", "d04", "d07", "d08", "d09"}},
		{"Ge/string", cmp(data("name"), query.Ge, "gamma"), []string{"d07", "d08", "d09"}},
		{"Le/string", cmp(data("name"), query.Le, ""), []string{"d05"}},
		// Booleans.
		{"Eq/bool true", cmp(data("flag"), query.Eq, true), []string{"d01", "d08"}},
		{"Eq/bool false", cmp(data("flag"), query.Eq, false), []string{"d02", "d06"}},
		{"Ne/bool true", cmp(data("flag"), query.Ne, true), except("d01", "d08")},
		// Root paths.
		{"Eq/id", cmp(path("id"), query.Eq, "d03"), []string{"d03"}},
		{"Ne/id", cmp(path("id"), query.Ne, "d03"), except("d03")},
		{"Gt/id", cmp(path("id"), query.Gt, "d08"), []string{"d09", "d10"}},
		{"Eq/formId", cmp(path("formId"), query.Eq, "f1"), allA},
		{"Eq/missing root field", cmp(path("nope"), query.Eq, "x"), nil},
		{"Ne/missing root field", cmp(path("nope"), query.Ne, "x"), allA},
		// Null.
		{"Null/is null", query.Null{Path: data("amount"), IsNull: true}, []string{"d03", "d04"}},
		{"Null/not null", query.Null{Path: data("amount"), IsNull: false}, except("d03", "d04")},
		{"Null/region", query.Null{Path: data("region"), IsNull: true}, []string{"d04", "d10"}},
		{"Null/object field is not null", query.Null{Path: data("items"), IsNull: false}, []string{"d01", "d02", "d03", "d05", "d06"}},
		{"Null/through a string", query.Null{Path: query.Path{"data", "name", "x"}, IsNull: true}, allA},
		{"Not/Null", query.Not{X: query.Null{Path: data("amount"), IsNull: true}}, except("d03", "d04")},
		// In.
		{"In/numbers", query.In{Path: data("amount"), Values: []query.Value{100.0, 0.0, 12345.0, 100.0}}, []string{"d01", "d05", "d09"}},
		{"In/strings", query.In{Path: data("region"), Values: []query.Value{"华东", "West"}}, []string{"d01", "d06", "d07", "d09"}},
		{"In/empty", query.In{Path: data("region"), Values: nil}, nil},
		{"Not/In", query.Not{X: query.In{Path: data("region"), Values: []query.Value{"华东", "West"}}}, except("d01", "d06", "d07", "d09")},
		// String functions: case-sensitive, strings only.
		{"Str/contains chinese", str(data("name"), query.Contains, "公司"), []string{"d03", "d07"}},
		{"Str/contains case-sensitive", str(data("name"), query.Contains, "alph"), []string{"d02"}},
		{"Str/contains empty", str(data("name"), query.Contains, ""), except("d10")},
		{"Str/contains on number field", str(data("amount"), query.Contains, "1"), []string{"d07"}},
		{"Str/contains percent is literal", str(data("name"), query.Contains, "%"), nil},
		{"Str/contains underscore is literal", str(data("name"), query.Contains, "_"), nil},
		{"Str/startswith", str(data("name"), query.StartsWith, "Be"), []string{"d03"}},
		{"Str/startswith non-ASCII", str(data("name"), query.StartsWith, "Å"), []string{"d08"}},
		{"Str/startswith empty", str(data("name"), query.StartsWith, ""), except("d10")},
		{"Str/endswith", str(data("name"), query.EndsWith, "ta"), []string{"d04", "d06"}},
		{"Str/endswith chinese", str(data("name"), query.EndsWith, "司"), []string{"d03", "d07"}},
		{"Str/endswith longer than value", str(data("name"), query.EndsWith, "xxAlpha"), nil},
		{"Not/Str", query.Not{X: str(data("name"), query.Contains, "公司")}, except("d03", "d07")},
		// Const, Not, And, Or.
		{"Const/true", query.Const{Value: true}, allA},
		{"Const/false", query.Const{Value: false}, nil},
		{"Not/Const false", query.Not{X: query.Const{Value: false}}, allA},
		{"And/empty", query.And{}, allA},
		{"Or/empty", query.Or{}, nil},
		{"Not/empty Or", query.Not{X: query.Or{}}, allA},
		{"Not/Eq", query.Not{X: cmp(data("region"), query.Eq, "华东")}, except("d01", "d06", "d09")},
		{"Not/Ne", query.Not{X: cmp(data("region"), query.Ne, "华东")}, []string{"d01", "d06", "d09"}},
		{"Not/Gt matches null and absent", query.Not{X: cmp(data("amount"), query.Gt, 100.0)}, except("d02", "d08")},
		{"Not/Not", query.Not{X: query.Not{X: cmp(data("amount"), query.Gt, 100.0)}}, []string{"d02", "d08"}},
		{"And", query.And{Items: []query.Expr{cmp(data("amount"), query.Ge, 100.0), cmp(data("region"), query.Eq, "华东")}}, []string{"d01", "d09"}},
		{"Or", query.Or{Items: []query.Expr{cmp(data("region"), query.Eq, "华南"), cmp(data("amount"), query.Lt, 0.0)}}, []string{"d02", "d06"}},
		{"And/Or nested", query.And{Items: []query.Expr{
			query.Or{Items: []query.Expr{cmp(data("region"), query.Eq, "华东"), cmp(data("region"), query.Eq, "华南")}},
			query.Not{X: cmp(data("name"), query.Eq, "Alpha")}}}, []string{"d02", "d06", "d09"}},
		{"Not/And", query.Not{X: query.And{Items: []query.Expr{cmp(data("region"), query.Eq, "华东"), cmp(data("amount"), query.Ge, 100.0)}}}, except("d01", "d09")},
		{"Not/Or", query.Not{X: query.Or{Items: []query.Expr{cmp(data("region"), query.Eq, "华东"), query.Null{Path: data("amount"), IsNull: true}}}}, except("d01", "d06", "d09", "d03", "d04")},
		{"Or/with Const true", query.Or{Items: []query.Expr{query.Const{Value: true}, cmp(data("amount"), query.Eq, 1.0)}}, allA},
		{"And/with Const false", query.And{Items: []query.Expr{query.Const{Value: false}, cmp(data("amount"), query.Eq, 100.0)}}, nil},
		// AnyRow: arrays of scalars, {value,label} arrays, child tables.
		{"AnyRow/scalar eq", anyRow(data("tags"), cmp(self, query.Eq, "a")), []string{"d01", "d09"}},
		{"AnyRow/scalar ne", anyRow(data("tags"), cmp(self, query.Ne, "a")), []string{"d01", "d02", "d05"}},
		{"AnyRow/scalar in", anyRow(data("tags"), query.In{Path: self, Values: []query.Value{"c", "b"}}), []string{"d01", "d02", "d05"}},
		{"AnyRow/scalar contains empty", anyRow(data("tags"), str(self, query.Contains, "")), []string{"d01", "d02", "d05", "d09"}},
		{"AnyRow/scalar null", anyRow(data("tags"), query.Null{Path: self, IsNull: true}), nil},
		{"Not/AnyRow", query.Not{X: anyRow(data("tags"), cmp(self, query.Eq, "a"))}, except("d01", "d09")},
		{"AnyRow/option value", anyRow(data("checks"), cmp(path("value"), query.Eq, "v2")), []string{"d01", "d02"}},
		{"AnyRow/option label", anyRow(data("checks"), cmp(path("label"), query.Eq, "L1")), []string{"d01", "d09"}},
		{"AnyRow/rows gt", anyRow(data("items"), cmp(path("qty"), query.Gt, 10.0)), []string{"d01", "d06"}},
		{"AnyRow/rows same row", anyRow(data("items"), query.And{Items: []query.Expr{
			cmp(path("sku"), query.Eq, "x"), cmp(path("qty"), query.Gt, 10.0)}}), []string{"d06"}},
		{"AnyRow/rows independent", query.And{Items: []query.Expr{
			anyRow(data("items"), cmp(path("sku"), query.Eq, "x")),
			anyRow(data("items"), cmp(path("qty"), query.Gt, 10.0))}}, []string{"d01", "d06"}},
		{"AnyRow/rows null field", anyRow(data("items"), query.Null{Path: path("qty"), IsNull: true}), []string{"d05"}},
		{"AnyRow/rows ne matches absent", anyRow(data("items"), cmp(path("qty"), query.Ne, 5.0)), []string{"d01", "d02", "d05", "d06"}},
		{"AnyRow/rows in", anyRow(data("items"), query.In{Path: path("sku"), Values: []query.Value{"z"}}), []string{"d02"}},
		{"AnyRow/rows startswith", anyRow(data("items"), str(path("sku"), query.StartsWith, "x")), []string{"d01", "d05", "d06"}},
		{"AnyRow/rows not", anyRow(data("items"), query.Not{X: cmp(path("sku"), query.Eq, "x")}), []string{"d01", "d02", "d05"}},
		{"AnyRow/const true is non-empty", anyRow(data("items"), query.Const{Value: true}), []string{"d01", "d02", "d05", "d06"}},
		{"AnyRow/not an array", anyRow(data("region"), cmp(self, query.Eq, "华东")), nil},
		{"AnyRow/absent array", anyRow(data("nope"), query.Const{Value: true}), nil},
		{"AnyRow/nested", anyRow(data("items"), anyRow(path("subs"), cmp(path("n"), query.Gt, 1.0))), []string{"d01", "d06"}},
		{"AnyRow/nested eq", anyRow(data("items"), anyRow(path("subs"), cmp(path("n"), query.Eq, 3.0))), []string{"d06"}},
		{"AnyRow/or with root", query.Or{Items: []query.Expr{
			anyRow(data("checks"), cmp(path("value"), query.Eq, "v1")), cmp(data("amount"), query.Lt, 0.0)}}, []string{"d01", "d06", "d09"}},
	}
}

func filterBehaviours(o Options) []behaviour {
	return []behaviour{{"Filter", func(t *testing.T, s store.Store) {
		loadFixture(t, s)
		for _, c := range FilterCases() {
			t.Run(c.Name, func(t *testing.T) {
				o.skip(t, "Filter/"+c.Name)
				got := find(t, s, TenantA, query.Query{Filter: c.Filter, Limit: -1})
				if !equalIDs(got, sorted(c.Want)) {
					t.Errorf("Find = %v, want %v", got, sorted(c.Want))
				}
				n, err := s.Count(ctxOf(t), Coll, TenantA, c.Filter)
				if err != nil {
					t.Fatalf("Count: %v", err)
				}
				if n != int64(len(c.Want)) {
					t.Errorf("Count = %d, want %d", n, len(c.Want))
				}
			})
		}
		t.Run("Count/nil", func(t *testing.T) {
			for tenant, want := range map[string]int64{TenantA: 10, TenantB: 1, "nobody": 0} {
				if n, err := s.Count(ctxOf(t), Coll, tenant, nil); err != nil || n != want {
					t.Errorf("Count(%s, nil) = %d, %v; want %d", tenant, n, err, want)
				}
			}
		})
	}}}
}

// --- ordering and paging -----------------------------------------------------

// OrderCase is one query (order and page) and the fixture ids it returns,
// in order.
type OrderCase struct {
	Name  string
	Query query.Query
	Want  []string
}

// OrderCases is the ordering and paging table the suite checks against
// Fixture (exported for differential tests across adapters).
func OrderCases() []OrderCase {
	notD07 := query.Cmp{Path: path("id"), Op: query.Ne, Value: "d07"}
	return []OrderCase{
		{"Order/default is id", query.Query{Limit: -1}, allA},
		{"Order/number asc nulls first", query.Query{Filter: notD07, Sort: []query.Sort{{Path: data("amount")}}, Limit: -1},
			[]string{"d03", "d04", "d06", "d05", "d10", "d01", "d09", "d02", "d08"}},
		{"Order/number desc nulls last", query.Query{Filter: notD07, Sort: []query.Sort{{Path: data("amount"), Desc: true}}, Limit: -1},
			[]string{"d08", "d02", "d01", "d09", "d10", "d05", "d06", "d03", "d04"}},
		{"Order/multi-key", query.Query{Filter: notD07, Sort: []query.Sort{{Path: data("region")}, {Path: data("amount"), Desc: true}}, Limit: -1},
			[]string{"d10", "d04", "d08", "d05", "d01", "d09", "d06", "d03", "d02"}},
		{"Order/string binary", query.Query{Sort: []query.Sort{{Path: data("name")}}, Limit: -1},
			[]string{"d10", "d05", "d01", "d03", "d06", "d02", "d04", "d09", "d08", "d07"}},
		{"Order/string binary desc", query.Query{Sort: []query.Sort{{Path: data("name"), Desc: true}}, Limit: -1},
			[]string{"d07", "d08", "d09", "d04", "d02", "d06", "d03", "d01", "d05", "d10"}},
		{"Order/bool then id", query.Query{Sort: []query.Sort{{Path: data("flag"), Desc: true}}, Limit: -1},
			[]string{"d01", "d08", "d02", "d06", "d03", "d04", "d05", "d07", "d09", "d10"}},
		{"Order/id desc", query.Query{Sort: []query.Sort{{Path: path("id"), Desc: true}}, Limit: -1},
			[]string{"d10", "d09", "d08", "d07", "d06", "d05", "d04", "d03", "d02", "d01"}},
		{"Order/tie-break id asc", query.Query{Sort: []query.Sort{{Path: path("formId"), Desc: true}}, Limit: -1}, allA},
		{"Page/first", query.Query{Limit: 3}, []string{"d01", "d02", "d03"}},
		{"Page/second", query.Query{Limit: 3, Offset: 3}, []string{"d04", "d05", "d06"}},
		{"Page/last partial", query.Query{Limit: 3, Offset: 9}, []string{"d10"}},
		{"Page/beyond end", query.Query{Limit: 3, Offset: 20}, nil},
		{"Page/limit zero", query.Query{Limit: 0}, nil},
		{"Page/limit zero with offset", query.Query{Limit: 0, Offset: 2}, nil},
		{"Page/no limit with offset", query.Query{Limit: -1, Offset: 8}, []string{"d09", "d10"}},
		{"Page/sorted and filtered", query.Query{
			Filter: query.AndOf(query.Null{Path: data("amount"), IsNull: false}, notD07),
			Sort:   []query.Sort{{Path: data("amount"), Desc: true}}, Limit: 2, Offset: 1},
			[]string{"d02", "d01"}},
	}
}

func orderBehaviours(o Options) []behaviour {
	return []behaviour{{"Order", func(t *testing.T, s store.Store) {
		loadFixture(t, s)
		for _, c := range OrderCases() {
			t.Run(c.Name, func(t *testing.T) {
				o.skip(t, "Order/"+c.Name)
				docs, err := s.Find(ctxOf(t), Coll, TenantA, c.Query)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(docs); !equalIDs(got, c.Want) {
					t.Errorf("Find = %v, want %v", got, c.Want)
				}
			})
		}
	}}}
}

// --- transactions -------------------------------------------------------------

var errBoom = errors.New("boom")

func present(t *testing.T, s store.Store, want map[string]bool) {
	t.Helper()
	for id, ok := range want {
		_, err := s.Get(ctxOf(t), Coll, TenantA, id)
		switch {
		case ok && err != nil:
			t.Errorf("%s: %v, want present", id, err)
		case !ok && errs.CodeOf(err) != errs.NotFound:
			t.Errorf("%s: %v, want NotFound", id, err)
		case !ok && err == nil:
			t.Errorf("%s: present, want absent", id)
		}
	}
}

func txBehaviours() []behaviour {
	return []behaviour{
		{"Tx/Commit", func(t *testing.T, s store.Store) {
			mustInsert(t, s, doc("old", TenantA, store.Doc{"v": int64(1)}))
			err := s.Tx(ctxOf(t), func(ctx context.Context) error {
				if err := s.Insert(ctx, Coll, doc("t1", TenantA, nil)); err != nil {
					return err
				}
				if err := s.Update(ctx, Coll, TenantA, "old", doc("old", TenantA, store.Doc{"v": int64(2)}), nil); err != nil {
					return err
				}
				return s.Insert(ctx, Coll, doc("t2", TenantA, nil))
			})
			if err != nil {
				t.Fatal(err)
			}
			present(t, s, map[string]bool{"t1": true, "t2": true})
			got, _ := s.Get(ctxOf(t), Coll, TenantA, "old")
			if got["data"].(map[string]any)["v"] != int64(2) {
				t.Fatalf("update in Tx not committed: %v", got)
			}
		}},
		{"Tx/RollbackOnError", func(t *testing.T, s store.Store) {
			mustInsert(t, s, doc("old", TenantA, store.Doc{"v": int64(1)}))
			err := s.Tx(ctxOf(t), func(ctx context.Context) error {
				if err := s.Insert(ctx, Coll, doc("t1", TenantA, nil)); err != nil {
					return err
				}
				if err := s.Delete(ctx, Coll, TenantA, "old"); err != nil {
					return err
				}
				return fmt.Errorf("step failed: %w", errBoom)
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("Tx returned %v, want fn's error", err)
			}
			present(t, s, map[string]bool{"t1": false, "old": true})
		}},
		{"Tx/RollbackOnPanic", func(t *testing.T, s store.Store) {
			func() {
				defer func() {
					if r := recover(); r != "kaboom" {
						t.Errorf("recovered %v, want the panic to propagate", r)
					}
				}()
				_ = s.Tx(ctxOf(t), func(ctx context.Context) error {
					if err := s.Insert(ctx, Coll, doc("t1", TenantA, nil)); err != nil {
						t.Error(err)
					}
					panic("kaboom")
				})
			}()
			present(t, s, map[string]bool{"t1": false})
			// The store is still usable afterwards.
			if err := s.Tx(ctxOf(t), func(ctx context.Context) error {
				return s.Insert(ctx, Coll, doc("t2", TenantA, nil))
			}); err != nil {
				t.Fatal(err)
			}
			present(t, s, map[string]bool{"t2": true})
		}},
		{"Tx/NestedJoinsOuter", func(t *testing.T, s store.Store) {
			err := s.Tx(ctxOf(t), func(ctx context.Context) error {
				if err := s.Insert(ctx, Coll, doc("outer", TenantA, nil)); err != nil {
					return err
				}
				if err := s.Tx(ctx, func(ctx context.Context) error {
					return s.Insert(ctx, Coll, doc("inner", TenantA, nil))
				}); err != nil {
					return err
				}
				// The inner Tx did not commit on its own: the outer sees its
				// write and can still roll it back.
				if _, err := s.Get(ctx, Coll, TenantA, "inner"); err != nil {
					return fmt.Errorf("inner write invisible in outer Tx: %w", err)
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("Tx = %v", err)
			}
			present(t, s, map[string]bool{"outer": false, "inner": false})
		}},
		{"Tx/NestedErrorRollsBackAll", func(t *testing.T, s store.Store) {
			err := s.Tx(ctxOf(t), func(ctx context.Context) error {
				if err := s.Insert(ctx, Coll, doc("outer", TenantA, nil)); err != nil {
					return err
				}
				return s.Tx(ctx, func(ctx context.Context) error {
					if err := s.Insert(ctx, Coll, doc("inner", TenantA, nil)); err != nil {
						return err
					}
					return errBoom
				})
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("Tx = %v", err)
			}
			present(t, s, map[string]bool{"outer": false, "inner": false})
		}},
		{"Tx/NestedCommit", func(t *testing.T, s store.Store) {
			err := s.Tx(ctxOf(t), func(ctx context.Context) error {
				return s.Tx(ctx, func(ctx context.Context) error {
					return s.Insert(ctx, Coll, doc("inner", TenantA, nil))
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			present(t, s, map[string]bool{"inner": true})
		}},
		{"Tx/ReadsOwnWrites", func(t *testing.T, s store.Store) {
			mustInsert(t, s, doc("old", TenantA, store.Doc{"v": int64(1)}), doc("gone", TenantA, store.Doc{"v": int64(1)}))
			err := s.Tx(ctxOf(t), func(ctx context.Context) error {
				if err := s.Insert(ctx, Coll, doc("new", TenantA, store.Doc{"v": int64(1)})); err != nil {
					return err
				}
				if err := s.Update(ctx, Coll, TenantA, "old", doc("old", TenantA, store.Doc{"v": int64(2)}),
					query.Cmp{Path: data("v"), Op: query.Eq, Value: int64(1)}); err != nil {
					return err
				}
				if err := s.Delete(ctx, Coll, TenantA, "gone"); err != nil {
					return err
				}
				if _, err := s.Get(ctx, Coll, TenantA, "new"); err != nil {
					return fmt.Errorf("Get own insert: %w", err)
				}
				docs, err := s.Find(ctx, Coll, TenantA, query.Query{Filter: query.Cmp{Path: data("v"), Op: query.Eq, Value: int64(1)}, Limit: -1})
				if err != nil {
					return err
				}
				if got := ids(docs); !equalIDs(got, []string{"new"}) {
					return fmt.Errorf("Find in Tx = %v, want [new]", got)
				}
				n, err := s.Count(ctx, Coll, TenantA, nil)
				if err != nil {
					return err
				}
				if n != 2 {
					return fmt.Errorf("Count in Tx = %d, want 2", n)
				}
				// A stale CAS inside the Tx sees the Tx's own update.
				err = s.Update(ctx, Coll, TenantA, "old", doc("old", TenantA, nil),
					query.Cmp{Path: data("v"), Op: query.Eq, Value: int64(1)})
				if errs.CodeOf(err) != errs.Conflict || err == nil {
					return fmt.Errorf("stale CAS in Tx = %v, want Conflict", err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			present(t, s, map[string]bool{"new": true, "old": true, "gone": false})
		}},
		{"Tx/ConcurrentWriters", func(t *testing.T, s store.Store) {
			const writers, each = 8, 5
			var wg sync.WaitGroup
			errc := make(chan error, writers)
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errc <- s.Tx(ctxOf(t), func(ctx context.Context) error {
						for i := range each {
							if err := s.Insert(ctx, Coll, doc(fmt.Sprintf("w%d-%d", w, i), TenantA, store.Doc{"w": int64(w)})); err != nil {
								return err
							}
						}
						return nil
					})
				}()
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				if err != nil {
					t.Errorf("writer: %v", err)
				}
			}
			n, err := s.Count(ctxOf(t), Coll, TenantA, nil)
			if err != nil || n != writers*each {
				t.Fatalf("Count = %d, %v; want %d", n, err, writers*each)
			}
		}},
		{"Tx/ConcurrentNonTxWriters", func(t *testing.T, s store.Store) {
			const writers = 8
			var wg sync.WaitGroup
			errc := make(chan error, writers)
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errc <- s.Insert(ctxOf(t), Coll, doc(fmt.Sprintf("w%d", w), TenantA, nil))
				}()
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				if err != nil {
					t.Errorf("writer: %v", err)
				}
			}
			if n, err := s.Count(ctxOf(t), Coll, TenantA, nil); err != nil || n != writers {
				t.Fatalf("Count = %d, %v; want %d", n, err, writers)
			}
		}},
	}
}
