package sqlite

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

func p(keys ...string) query.Path { return query.Path(keys) }

// alien is a filter node the compiler does not know.
type alien struct{ query.Expr }

// TestHostileRejected: every rejection branch of the compiler answers
// Invalid, nothing else, and no SQL is produced.
func TestHostileRejected(t *testing.T) {
	badKeys := []string{"", "\xff", "ok\xc3"}
	var filters []query.Expr
	for _, k := range badKeys {
		filters = append(filters,
			query.Cmp{Path: p("data", k), Op: query.Eq, Value: "x"},
			query.Cmp{Path: p(k), Op: query.Ne, Value: "x"},
			query.In{Path: p(k), Values: []query.Value{"x"}},
			query.Str{Path: p(k), Fn: query.Contains, Value: "x"},
			query.Str{Path: p(k), Fn: query.StartsWith, Value: ""},
			query.Null{Path: p(k), IsNull: true},
			query.AnyRow{Array: p(k), Pred: query.Cmp{Op: query.Eq, Value: "x"}},
			query.AnyRow{Array: p("items"), Pred: query.Cmp{Path: p(k), Op: query.Eq, Value: "x"}},
			query.Not{X: query.Or{Items: []query.Expr{query.Const{}, query.Null{Path: p(k)}}}},
		)
	}
	badValues := []query.Value{
		map[string]any{"$gt": ""},
		[]any{"x"},
		nil,
		struct{}{},
		uint64(1),
		[]byte("x"),
	}
	for _, v := range badValues {
		filters = append(filters,
			query.Cmp{Path: p("name"), Op: query.Eq, Value: v},
			query.Cmp{Path: p("name"), Op: query.Gt, Value: v},
			query.Cmp{Path: p("name"), Op: query.Ne, Value: v},
			query.In{Path: p("name"), Values: []query.Value{"ok", v}},
			query.AnyRow{Array: p("t"), Pred: query.Cmp{Op: query.Eq, Value: v}},
			query.Not{X: query.Cmp{Path: p("name"), Op: query.Le, Value: v}},
		)
	}
	filters = append(filters,
		alien{},
		query.And{Items: []query.Expr{query.Const{Value: true}, alien{}}},
		query.Not{X: query.Or{Items: []query.Expr{alien{}}}},
		query.AnyRow{Array: p("t"), Pred: alien{}},
		query.Cmp{Op: query.Eq, Value: "x"}, // empty path at the root
		query.Null{IsNull: true},
		query.Str{Fn: query.Contains, Value: "x"},
		query.In{Values: []query.Value{"x"}},
		query.AnyRow{Pred: query.Const{Value: true}}, // element predicate without an array
		query.Cmp{Path: p("a"), Op: query.Op(99), Value: "x"},
		query.Cmp{Path: p("a"), Op: query.Op(0), Value: "x"},
		query.Str{Path: p("a"), Fn: query.StrFn(99), Value: "x"},
		query.Str{Path: p("a"), Fn: query.StrFn(0), Value: ""},
		query.AnyRow{Array: p("t"), Pred: query.AnyRow{Array: p(""), Pred: query.Const{Value: true}}},
		// Missing operands (the differential fuzz finding: these compiled
		// to true or false here while the Mongo compiler refused them).
		query.And{Items: []query.Expr{nil}},
		query.And{Items: []query.Expr{query.Const{Value: true}, nil}},
		query.Or{Items: []query.Expr{nil}},
		query.Or{Items: []query.Expr{query.Const{}, nil}},
		query.Not{},
		query.Not{X: query.Not{}},
		query.Not{X: query.And{Items: []query.Expr{nil}}},
		query.AnyRow{Array: p("t")},
		query.Not{X: query.AnyRow{Array: p("t")}},
		query.AnyRow{Array: p("t"), Pred: query.Or{Items: []query.Expr{nil}}},
		query.AnyRow{Array: p("id")}, // a column: never an array, but the predicate is still checked
		query.AnyRow{Array: p("corpId"), Pred: alien{}},
		query.AnyRow{Array: p("id"), Pred: query.Cmp{Path: p(""), Op: query.Eq, Value: "x"}},
		// Pointer nodes are not part of the AST.
		&query.Cmp{Path: p("a"), Op: query.Eq, Value: "x"},
		&query.And{},
		&query.Or{Items: []query.Expr{query.Const{Value: true}}},
		&query.Not{X: query.Const{}},
		&query.Const{Value: true},
		&query.In{Path: p("a"), Values: []query.Value{"x"}},
		&query.Str{Path: p("a"), Fn: query.Contains, Value: "x"},
		&query.Null{Path: p("a"), IsNull: true},
		&query.AnyRow{Array: p("t"), Pred: query.Const{Value: true}},
		query.And{Items: []query.Expr{query.Const{Value: true}, &query.Cmp{Path: p("a"), Op: query.Eq, Value: "x"}}},
		query.AnyRow{Array: p("t"), Pred: &query.Const{Value: true}},
		query.Not{X: (*query.Cmp)(nil)},
	)
	for i, f := range filters {
		text, args, err := findSQL(`"c_x"`, "t1", query.Query{Filter: f, Limit: -1})
		if errs.CodeOf(err) != errs.Invalid || err == nil {
			t.Errorf("filter %d %#v: err = %v, want invalid", i, f, err)
		}
		if text != "" || args != nil {
			t.Errorf("filter %d: SQL produced with the error: %q %v", i, text, args)
		}
	}
	for _, k := range badKeys {
		if _, _, err := findSQL(`"c_x"`, "t1", query.Query{Limit: -1, Sort: []query.Sort{{Path: p("data", k)}}}); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("sort key %q: err = %v, want invalid", k, err)
		}
	}
	if _, _, err := findSQL(`"c_x"`, "t1", query.Query{Limit: -1, Sort: []query.Sort{{}}}); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("empty sort path: err = %v, want invalid", err)
	}
}

// TestDeepNestingRejected: the nesting limit fires, also through Not and
// AnyRow, and a filter just inside it compiles.
func TestDeepNestingRejected(t *testing.T) {
	leaf := query.Cmp{Path: p("a"), Op: query.Eq, Value: "x"}
	wrap := map[string]func(query.Expr) query.Expr{
		"and": func(e query.Expr) query.Expr { return query.And{Items: []query.Expr{e, leaf}} },
		"or":  func(e query.Expr) query.Expr { return query.Or{Items: []query.Expr{leaf, e}} },
		"not": func(e query.Expr) query.Expr { return query.Not{X: e} },
		"any": func(e query.Expr) query.Expr { return query.AnyRow{Array: p("rows"), Pred: e} },
	}
	for name, w := range wrap {
		var ok, deep query.Expr = leaf, leaf
		for range maxDepth {
			ok = w(ok)
		}
		for range maxDepth + 1 {
			deep = w(deep)
		}
		if _, _, err := findSQL(`"c_x"`, "t1", query.Query{Filter: ok, Limit: -1}); err != nil {
			t.Errorf("%s: %d levels: %v", name, maxDepth, err)
		}
		_, _, err := findSQL(`"c_x"`, "t1", query.Query{Filter: deep, Limit: -1})
		if errs.CodeOf(err) != errs.Invalid || err == nil || !strings.Contains(err.Error(), "nested too deeply") {
			t.Errorf("%s: %d levels: err = %v, want invalid (nested too deeply)", name, maxDepth+1, err)
		}
	}
}

// TestHostileKeysMatchExactly: keys with quotes, backslashes, dots, '$'
// and SQL are legal storage keys; they stay inside the quoted JSON path,
// match exactly that key (never a nested path or another key) and the
// table survives.
func TestHostileKeysMatchExactly(t *testing.T) {
	s := newTestStore(t)
	defer s.Close()
	ctx := context.Background()
	keys := []string{`a'b`, `a"b`, `a\b`, `a.b`, `$where`, `x'); DROP TABLE "c_formdata"; --`, `a"."b`, `[0]`, "tab\tnl\n"}
	data := map[string]any{"a": map[string]any{"b": "nested"}, "b": "plain"}
	for i, k := range keys {
		data[k] = int64(i)
	}
	if err := s.Insert(ctx, "formdata", store.Doc{"id": "d1", "corpId": "t1", "data": data}); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		for _, q := range []query.Query{
			{Filter: query.Cmp{Path: p("data", k), Op: query.Eq, Value: int64(i)}, Limit: -1},
			{Filter: query.In{Path: p("data", k), Values: []query.Value{int64(i)}}, Limit: -1},
			{Filter: query.Null{Path: p("data", k), IsNull: false}, Limit: -1, Sort: []query.Sort{{Path: p("data", k)}}},
		} {
			docs, err := s.Find(ctx, "formdata", "t1", q)
			if err != nil || len(docs) != 1 {
				t.Errorf("key %q: Find = %d docs, %v; want the document", k, len(docs), err)
			}
		}
		// The same key with another value: no match (the key was not
		// read as a nested path or as SQL).
		docs, err := s.Find(ctx, "formdata", "t1", query.Query{Filter: query.Cmp{Path: p("data", k), Op: query.Eq, Value: "nested"}, Limit: -1})
		if err != nil || len(docs) != 0 {
			t.Errorf("key %q eq \"nested\": %d docs, %v; want none", k, len(docs), err)
		}
	}
	got, err := s.Get(ctx, "formdata", "t1", "d1")
	if err != nil || !reflect.DeepEqual(got["data"], data) {
		t.Fatalf("document after the hostile queries: %v, %v", got, err)
	}
}
