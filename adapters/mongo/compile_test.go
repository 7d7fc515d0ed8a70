package mongo

import (
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store/storetest"
)

func p(keys ...string) query.Path { return query.Path(keys) }

// base is the tenant scope every filter starts with.
const base = `"corpId":"t1","deleteFlag":{"$ne":true}`

// and wraps the compiled user filter the way scopeFilter appends it.
func and(items ...string) string {
	return `{` + base + `,"$and":[` + strings.Join(items, ",") + `]}`
}

// filterCases pins the filter document of every query shape (canonical
// extended JSON, so value types are checked too). They run through
// Explain (compile_test.go) and through a mock deployment's find command
// (mock_test.go).
var filterCases = []struct {
	name   string
	filter query.Expr
	want   string
}{
	{"nil", nil, `{` + base + `}`},
	{"eq string", query.Cmp{Path: p("data", "region"), Op: query.Eq, Value: "华东"},
		and(`{"data.region":"华东"}`)},
	{"eq number", query.Cmp{Path: p("data", "amount"), Op: query.Eq, Value: 100.0},
		and(`{"data.amount":{"$numberDouble":"100.0"}}`)},
	{"eq enum", query.Cmp{Path: p("flowStatus"), Op: query.Eq, Value: int64(2)},
		and(`{"flowStatus":{"$numberLong":"2"}}`)},
	{"eq bool", query.Cmp{Path: p("isCompany"), Op: query.Eq, Value: true},
		and(`{"isCompany":true}`)},
	{"eq id is _id", query.Cmp{Path: p("id"), Op: query.Eq, Value: "a1"},
		and(`{"_id":"a1"}`)},
	{"nested id stays id", query.Cmp{Path: p("createBy", "id"), Op: query.Eq, Value: "u1"},
		and(`{"createBy.id":"u1"}`)},
	{"ne", query.Cmp{Path: p("data", "region"), Op: query.Ne, Value: "a"},
		and(`{"data.region":{"$ne":"a"}}`)},
	{"gt", query.Cmp{Path: p("data", "amount"), Op: query.Gt, Value: 1.5},
		and(`{"data.amount":{"$gt":{"$numberDouble":"1.5"}}}`)},
	{"ge time", query.Cmp{Path: p("createTime"), Op: query.Ge, Value: int64(1704038400000)},
		and(`{"createTime":{"$gte":{"$numberLong":"1704038400000"}}}`)},
	{"lt string", query.Cmp{Path: p("name"), Op: query.Lt, Value: "m"},
		and(`{"name":{"$lt":"m"}}`)},
	{"le", query.Cmp{Path: p("data", "amount"), Op: query.Le, Value: -2.0},
		and(`{"data.amount":{"$lte":{"$numberDouble":"-2.0"}}}`)},
	{"go int literal", query.Cmp{Path: p("status"), Op: query.Eq, Value: 1},
		and(`{"status":{"$numberLong":"1"}}`)},
	{"in", query.In{Path: p("flowStatus"), Values: []query.Value{int64(2), int64(3)}},
		and(`{"flowStatus":{"$in":[{"$numberLong":"2"},{"$numberLong":"3"}]}}`)},
	{"in empty", query.In{Path: p("flowStatus")},
		and(`{"flowStatus":{"$in":[]}}`)},
	{"contains escapes the literal", query.Str{Path: p("data", "customer"), Fn: query.Contains, Value: `a.b*(c)`},
		and(`{"data.customer":{"$regex":"a\\.b\\*\\(c\\)"}}`)},
	{"contains every metacharacter", query.Str{Path: p("x"), Fn: query.Contains, Value: `\.+*?()|[]{}^$-#`},
		and(`{"x":{"$regex":"\\\\\\.\\+\\*\\?\\(\\)\\|\\[\\]\\{\\}\\^\\$-#"}}`)},
	{"contains NUL", query.Str{Path: p("x"), Fn: query.Contains, Value: "a\x00b"},
		and(`{"x":{"$regex":"a\\x00b"}}`)},
	{"contains empty", query.Str{Path: p("x"), Fn: query.Contains, Value: ""},
		and(`{"x":{"$regex":""}}`)},
	{"startswith", query.Str{Path: p("data", "customer"), Fn: query.StartsWith, Value: "测试"},
		and(`{"data.customer":{"$regex":"^测试"}}`)},
	{"endswith", query.Str{Path: p("name"), Fn: query.EndsWith, Value: "$"},
		and(`{"name":{"$regex":"\\$\\z"}}`)},
	{"is null", query.Null{Path: p("parentId"), IsNull: true},
		and(`{"parentId":null}`)},
	{"not null", query.Null{Path: p("parentId")},
		and(`{"parentId":{"$ne":null}}`)},
	{"not", query.Not{X: query.Cmp{Path: p("status"), Op: query.Eq, Value: int64(1)}},
		and(`{"$nor":[{"status":{"$numberLong":"1"}}]}`)},
	{"not not", query.Not{X: query.Not{X: query.Null{Path: p("x"), IsNull: true}}},
		and(`{"x":null}`)},
	{"and", query.And{Items: []query.Expr{
		query.Cmp{Path: p("name"), Op: query.Eq, Value: "test"},
		query.Cmp{Path: p("status"), Op: query.Eq, Value: int64(1)},
	}}, and(`{"name":"test"}`, `{"status":{"$numberLong":"1"}}`)},
	{"nested and flattens", query.And{Items: []query.Expr{
		query.And{Items: []query.Expr{query.Cmp{Path: p("a"), Op: query.Eq, Value: "1"}}},
		query.Cmp{Path: p("b"), Op: query.Eq, Value: "2"},
	}}, and(`{"a":"1"}`, `{"b":"2"}`)},
	{"or", query.Or{Items: []query.Expr{
		query.Cmp{Path: p("data", "region"), Op: query.Eq, Value: "华东"},
		query.Cmp{Path: p("data", "region"), Op: query.Eq, Value: "华南"},
	}}, and(`{"$or":[{"data.region":"华东"},{"data.region":"华南"}]}`)},
	{"const true", query.Const{Value: true}, `{` + base + `}`},
	{"empty and", query.And{}, `{` + base + `}`},
	{"const false", query.Const{Value: false}, and(`{"_id":{"$in":[]}}`)},
	{"empty or", query.Or{}, and(`{"_id":{"$in":[]}}`)},
	{"and with false folds", query.And{Items: []query.Expr{query.Cmp{Path: p("a"), Op: query.Eq, Value: "1"}, query.Const{}}},
		and(`{"_id":{"$in":[]}}`)},
	{"or with true folds", query.Or{Items: []query.Expr{query.Cmp{Path: p("a"), Op: query.Eq, Value: "1"}, query.Const{Value: true}}},
		`{` + base + `}`},
	{"not false", query.Not{X: query.Const{}}, `{` + base + `}`},
	{"any row of a child table", query.AnyRow{Array: p("data", "items"), Pred: query.Cmp{Path: p("qty"), Op: query.Gt, Value: 10.0}},
		and(`{"data.items":{"$elemMatch":{"qty":{"$gt":{"$numberDouble":"10.0"}}}}}`)},
	{"any row with two conditions", query.AnyRow{Array: p("data", "items"), Pred: query.And{Items: []query.Expr{
		query.Cmp{Path: p("qty"), Op: query.Gt, Value: 10.0},
		query.Not{X: query.Str{Path: p("sku"), Fn: query.StartsWith, Value: "X"}},
	}}}, and(`{"data.items":{"$elemMatch":{"$and":[{"qty":{"$gt":{"$numberDouble":"10.0"}}},{"$nor":[{"sku":{"$regex":"^X"}}]}]}}}`)},
	{"any row keeps or in query form", query.AnyRow{Array: p("roles"), Pred: query.Or{Items: []query.Expr{
		query.Cmp{Path: p("roleCode"), Op: query.Eq, Value: "admin"},
		query.Null{Path: p("roleId"), IsNull: true},
	}}}, and(`{"roles":{"$elemMatch":{"$or":[{"roleCode":"admin"},{"roleId":null}]}}}`)},
	{"any element equals", query.AnyRow{Array: p("data", "tags"), Pred: query.Cmp{Op: query.Eq, Value: "a"}},
		and(`{"data.tags":{"$elemMatch":{"$eq":"a"}}}`)},
	{"any element in range", query.AnyRow{Array: p("data", "scores"), Pred: query.And{Items: []query.Expr{
		query.Cmp{Op: query.Gt, Value: 5.0}, query.Cmp{Op: query.Le, Value: 10.0},
	}}}, and(`{"data.scores":{"$elemMatch":{"$gt":{"$numberDouble":"5.0"},"$lte":{"$numberDouble":"10.0"}}}}`)},
	{"any element in list, string fn, null", query.AnyRow{Array: p("t"), Pred: query.And{Items: []query.Expr{
		query.In{Values: []query.Value{"a", "b"}},
		query.Str{Fn: query.EndsWith, Value: "."},
		query.Null{},
	}}}, and(`{"t":{"$elemMatch":{"$in":["a","b"],"$regex":"\\.\\z","$ne":null}}}`)},
	{"any element negated", query.AnyRow{Array: p("t"), Pred: query.And{Items: []query.Expr{
		query.Not{X: query.Str{Fn: query.StartsWith, Value: "x"}},
		query.Not{X: query.Cmp{Op: query.Eq, Value: "y"}},
		query.Not{X: query.Cmp{Op: query.Ne, Value: "z"}},
		query.Not{X: query.Cmp{Op: query.Gt, Value: "q"}},
		query.Not{X: query.Null{IsNull: false}},
	}}}, and(`{"t":{"$elemMatch":{"$not":{"$regex":"^x"},"$ne":"y","$eq":"z","$not":{"$gt":"q"},"$eq":null}}}`)},
	{"any element or is distributed", query.AnyRow{Array: p("data", "tags"), Pred: query.Or{Items: []query.Expr{
		query.Cmp{Op: query.Eq, Value: "a"}, query.Cmp{Op: query.Eq, Value: "b"},
	}}}, and(`{"$or":[{"data.tags":{"$elemMatch":{"$eq":"a"}}},{"data.tags":{"$elemMatch":{"$eq":"b"}}}]}`)},
	{"any element not-or is de morgan", query.AnyRow{Array: p("t"), Pred: query.Not{X: query.Or{Items: []query.Expr{
		query.Cmp{Op: query.Eq, Value: "a"}, query.Cmp{Op: query.Eq, Value: "b"},
	}}}}, and(`{"t":{"$elemMatch":{"$ne":"a","$ne":"b"}}}`)},
	{"any row of any row", query.AnyRow{Array: p("data", "items"), Pred: query.AnyRow{Array: p("tags"), Pred: query.Cmp{Op: query.Eq, Value: "x"}}},
		and(`{"data.items":{"$elemMatch":{"tags":{"$elemMatch":{"$eq":"x"}}}}}`)},
	{"any element of nested arrays", query.AnyRow{Array: p("m"), Pred: query.AnyRow{Pred: query.Cmp{Op: query.Gt, Value: 1.0}}},
		and(`{"m":{"$elemMatch":{"$elemMatch":{"$gt":{"$numberDouble":"1.0"}}}}}`)},
	{"any row at all", query.AnyRow{Array: p("data", "items"), Pred: query.Const{Value: true}},
		and(`{"data.items":{"$type":"array","$not":{"$size":{"$numberInt":"0"}}}}`)},
	{"any row of nothing", query.AnyRow{Array: p("data", "items"), Pred: query.Or{}},
		and(`{"_id":{"$in":[]}}`)},
	{"not any row", query.Not{X: query.AnyRow{Array: p("data", "tags"), Pred: query.Cmp{Op: query.Eq, Value: "a"}}},
		and(`{"$nor":[{"data.tags":{"$elemMatch":{"$eq":"a"}}}]}`)},
	// Hostile values stay values: nothing becomes an operator.
	{"value $where is a string", query.Cmp{Path: p("name"), Op: query.Eq, Value: "$where"},
		and(`{"name":"$where"}`)},
	{"value $where in ne and in", query.And{Items: []query.Expr{
		query.Cmp{Path: p("name"), Op: query.Ne, Value: "$where"},
		query.In{Path: p("name"), Values: []query.Value{"$gt", "{\"$ne\":1}"}},
	}}, and(`{"name":{"$ne":"$where"}}`, `{"name":{"$in":["$gt","{\"$ne\":1}"]}}`)},
	{"value $where in a regex", query.Str{Path: p("name"), Fn: query.StartsWith, Value: "$where"},
		and(`{"name":{"$regex":"^\\$where"}}`)},
}

func TestExplainFilters(t *testing.T) {
	for _, tc := range filterCases {
		t.Run(tc.name, func(t *testing.T) {
			f, _, err := findArgs("t1", query.Query{Filter: tc.filter, Limit: -1})
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			if got := canon(t, f); got != tc.want {
				t.Errorf("filter\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestExplainSortAndPage(t *testing.T) {
	tests := []struct {
		name string
		q    query.Query
		sort string
		skip int64
		lim  int64
	}{
		{"default order is id", query.Query{Limit: -1}, `{"_id":{"$numberInt":"1"}}`, 0, 0},
		{"id tie-breaker appended", query.Query{Limit: 20, Offset: 40, Sort: []query.Sort{
			{Path: p("createTime")}, {Path: p("data", "amount"), Desc: true},
		}}, `{"createTime":{"$numberInt":"1"},"data.amount":{"$numberInt":"-1"},"_id":{"$numberInt":"1"}}`, 40, 20},
		{"id already last", query.Query{Limit: 1, Sort: []query.Sort{{Path: p("id"), Desc: true}}},
			`{"_id":{"$numberInt":"-1"}}`, 0, 1},
		{"id not last is not repeated", query.Query{Limit: -5, Offset: -3, Sort: []query.Sort{{Path: p("id")}, {Path: p("name")}}},
			`{"_id":{"$numberInt":"1"},"name":{"$numberInt":"1"}}`, 0, 0},
		{"repeated path keeps its first direction", query.Query{Limit: -1, Sort: []query.Sort{{Path: p("name")}, {Path: p("name"), Desc: true}}},
			`{"name":{"$numberInt":"1"},"_id":{"$numberInt":"1"}}`, 0, 0},
	}
	s := &Store{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, o, err := s.Explain("formdata", "t1", tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := canon(t, o.Sort); got != tc.sort {
				t.Errorf("sort\n got %s\nwant %s", got, tc.sort)
			}
			var skip, lim int64
			if o.Skip != nil {
				skip = *o.Skip
			}
			if o.Limit != nil {
				lim = *o.Limit
			}
			if skip != tc.skip || lim != tc.lim {
				t.Errorf("skip, limit = %d, %d; want %d, %d", skip, lim, tc.skip, tc.lim)
			}
		})
	}
}

// TestHostileRejected: caller-controlled keys that could become operators
// or break paths, and values that are not AST scalars, are refused.
func TestHostileRejected(t *testing.T) {
	badKeys := []string{"$where", "$gt", "a.b", "x\x00", "", "\xff"}
	var filters []query.Expr
	for _, k := range badKeys {
		filters = append(filters,
			query.Cmp{Path: p("data", k), Op: query.Eq, Value: "x"},
			query.Cmp{Path: p(k), Op: query.Ne, Value: "x"},
			query.In{Path: p(k), Values: []query.Value{"x"}},
			query.Str{Path: p(k), Fn: query.Contains, Value: "x"},
			query.Null{Path: p(k), IsNull: true},
			query.AnyRow{Array: p(k), Pred: query.Cmp{Op: query.Eq, Value: "x"}},
			query.AnyRow{Array: p("items"), Pred: query.Cmp{Path: p(k), Op: query.Eq, Value: "x"}},
			query.Not{X: query.Or{Items: []query.Expr{query.Const{}, query.Null{Path: p(k)}}}},
		)
	}
	badValues := []query.Value{
		bson.D{{Key: "$where", Value: "sleep(1000)"}},
		map[string]any{"$gt": ""},
		bson.M{"$ne": nil},
		[]any{"$where"},
		nil,
		struct{}{},
	}
	for _, v := range badValues {
		filters = append(filters,
			query.Cmp{Path: p("name"), Op: query.Eq, Value: v},
			query.Cmp{Path: p("name"), Op: query.Gt, Value: v},
			query.In{Path: p("name"), Values: []query.Value{"ok", v}},
			query.AnyRow{Array: p("t"), Pred: query.Cmp{Op: query.Eq, Value: v}},
		)
	}
	filters = append(filters,
		query.And{Items: []query.Expr{nil}},
		query.Not{},
		query.AnyRow{Array: p("t")},
		query.Cmp{Op: query.Eq, Value: "x"}, // empty path at the root
		query.Cmp{Path: p("a"), Op: query.Op(99), Value: "x"},
		query.Str{Path: p("a"), Fn: query.StrFn(99), Value: "x"},
		query.Str{Path: p("a"), Fn: query.Contains, Value: "\xff"},
		// The element itself mixed with its fields.
		query.AnyRow{Array: p("t"), Pred: query.And{Items: []query.Expr{
			query.Cmp{Op: query.Ne, Value: "x"}, query.Cmp{Path: p("k"), Op: query.Eq, Value: "y"},
		}}},
	)
	for i, f := range filters {
		_, _, err := findArgs("t1", query.Query{Filter: f, Limit: -1})
		if err == nil || errs.CodeOf(err) != errs.Invalid {
			t.Errorf("filter %d %#v: err = %v, want invalid", i, f, err)
		}
	}
	for _, k := range badKeys {
		_, _, err := findArgs("t1", query.Query{Limit: -1, Sort: []query.Sort{{Path: p("data", k)}}})
		if !errors.Is(err, errs.E(errs.Invalid)) {
			t.Errorf("sort key %q: err = %v, want invalid", k, err)
		}
	}
}

// TestDistributionIsBounded: an Or inside an AnyRow over scalars expands
// to at most maxAlternatives $elemMatch alternatives.
func TestDistributionIsBounded(t *testing.T) {
	or := func(a, b string) query.Expr {
		return query.Or{Items: []query.Expr{query.Cmp{Op: query.Eq, Value: a}, query.Cmp{Op: query.Eq, Value: b}}}
	}
	var items []query.Expr
	for range 6 { // 2^6 = 64 alternatives: allowed
		items = append(items, or("a", "b"))
	}
	ok := query.AnyRow{Array: p("t"), Pred: query.And{Items: items}}
	f, err := compileFilter(ok)
	if err != nil {
		t.Fatalf("64 alternatives: %v", err)
	}
	if n := len(f[0].Value.(bson.A)); n != 64 {
		t.Fatalf("got %d alternatives, want 64", n)
	}
	tooMany := query.AnyRow{Array: p("t"), Pred: query.And{Items: append(items, or("c", "d"))}}
	if _, err := compileFilter(tooMany); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("128 alternatives: err = %v, want invalid", err)
	}
}

func TestDeepNestingRejected(t *testing.T) {
	var e query.Expr = query.Cmp{Path: p("a"), Op: query.Eq, Value: "x"}
	for range maxDepth + 2 {
		e = query.And{Items: []query.Expr{e, query.Cmp{Path: p("b"), Op: query.Eq, Value: "y"}}}
		e = query.Or{Items: []query.Expr{e, query.Cmp{Path: p("c"), Op: query.Eq, Value: "z"}}}
	}
	if _, err := compileFilter(e); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("err = %v, want invalid", err)
	}
}

// TestNoForbiddenOperators walks every compiled case: only whitelisted
// operators appear as keys.
func TestNoForbiddenOperators(t *testing.T) {
	for _, tc := range filterCases {
		f, _, err := findArgs("t1", query.Query{Filter: tc.filter})
		if err != nil {
			t.Fatal(err)
		}
		checkOperators(t, f)
	}
}

// checkOperators fails t when a key of d starting with '$' is not one of
// the operators the compiler may emit.
func checkOperators(t *testing.T, d bson.D) {
	t.Helper()
	allowed := map[string]bool{"$and": true, "$or": true, "$nor": true, "$eq": true, "$ne": true,
		"$gt": true, "$gte": true, "$lt": true, "$lte": true, "$in": true, "$regex": true,
		"$not": true, "$elemMatch": true, "$type": true, "$size": true}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case bson.D:
			for _, e := range x {
				if strings.HasPrefix(e.Key, "$") && !allowed[e.Key] {
					t.Errorf("operator %s emitted", e.Key)
				}
				walk(e.Value)
			}
		case bson.A:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(d)
}

// TestCompilesConformanceCases: every filter of the shared conformance
// table compiles, using only whitelisted operators (the server-side
// results are checked by TestConformance when a server is available).
func TestCompilesConformanceCases(t *testing.T) {
	for _, c := range storetest.FilterCases() {
		f, err := compileFilter(c.Filter)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		checkOperators(t, f)
	}
}
