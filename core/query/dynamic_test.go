package query_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
)

// specDynamicBody is the example body of spec §7.8.
const specDynamicBody = `{
  "select": [ { "field": "data.amount", "visible": true }, { "field": "data/customer", "visible": false }, { "field": "id" } ],
  "filter": { "rel": "and", "items": [
      { "field": "formId", "op": "eq", "value": "6650c1" },
      { "field": "data.amount", "type": "number", "op": "gte", "value": 100 },
      { "rel": "or", "items": [
          { "field": "data.region", "type": "select", "op": "eq", "value": "华东" },
          { "field": "data.items>qty", "type": "number", "op": "gt", "value": 10 } ] } ] },
  "sort": [ { "field": "createTime", "dir": -1 }, { "field": "data.region", "dir": 1 } ],
  "skip": 40,
  "take": 20,
  "scope": 1
}`

func TestParseDynamic(t *testing.T) {
	q, err := query.ParseDynamic([]byte(specDynamicBody), testResolver)
	if err != nil {
		t.Fatal(err)
	}
	want := `and(cmp(formId eq "6650c1"), cmp(data.amount ge 100.0), or(cmp(data.region.value eq "华东"), any(data.items, cmp(qty gt 10.0))))`
	if got := query.Format(q.Filter); got != want {
		t.Errorf("filter\n got %s\nwant %s", got, want)
	}
	if got := formatSorts(q.Sort); got != "createTime desc, data.region.label asc" {
		t.Errorf("sort = %s", got)
	}
	if got := fmt.Sprint(q.Select); got != "[{[data amount] true} {[data customer] false} {[id] true}]" {
		t.Errorf("select = %s", got)
	}
	if q.Skip != 40 || q.Take != 20 {
		t.Errorf("skip/take = %d/%d", q.Skip, q.Take)
	}
}

func TestParseDynamicDefaults(t *testing.T) {
	for _, body := range []string{"", " ", "{}", `{"filter": null}`, `{"filter": {"rel": "and", "items": []}}`} {
		q, err := query.ParseDynamic([]byte(body), testResolver)
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		if q.Filter != nil || q.Sort != nil || q.Select != nil || q.Skip != 0 || q.Take != query.DefaultTop {
			t.Errorf("%q: got %+v", body, q)
		}
	}
	q, err := query.ParseDynamic([]byte(`{"take": 0}`), testResolver)
	if err != nil || q.Take != 0 {
		t.Errorf("take 0: %+v %v", q, err)
	}
}

func TestParseDynamicFilter(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"eq", `{"field":"name","op":"eq","value":"a"}`, `cmp(name eq "a")`},
		{"op defaults to eq", `{"field":"name","value":"a"}`, `cmp(name eq "a")`},
		{"op case", `{"field":"data.amount","op":"LTE","value":3}`, `cmp(data.amount le 3.0)`},
		{"ne", `{"field":"name","op":"ne","value":"a"}`, `cmp(name ne "a")`},
		{"gt gte lt lte", `{"rel":"or","items":[{"field":"data.amount","op":"gt","value":1},{"field":"data.amount","op":"gte","value":2},{"field":"data.amount","op":"lt","value":3},{"field":"data.amount","op":"lte","value":4}]}`,
			`or(cmp(data.amount gt 1.0), cmp(data.amount ge 2.0), cmp(data.amount lt 3.0), cmp(data.amount le 4.0))`},
		{"eq null", `{"field":"name","op":"eq","value":null}`, `null(name)`},
		{"ne null", `{"field":"name","op":"ne"}`, `notnull(name)`},
		{"in", `{"field":"flowStatus","op":"in","value":[1,"approved"]}`, `in(flowStatus [1, 3])`},
		{"in scalar value", `{"field":"name","op":"in","value":"a"}`, `in(name ["a"])`},
		{"nin", `{"field":"name","op":"nin","value":["a","b"]}`, `not(in(name ["a", "b"]))`},
		{"empty string", `{"field":"name","op":"empty"}`, `or(null(name), cmp(name eq ""))`},
		{"notempty string", `{"field":"name","op":"notempty"}`, `not(or(null(name), cmp(name eq "")))`},
		{"empty number", `{"field":"data.amount","op":"empty"}`, `null(data.amount)`},
		{"empty array", `{"field":"data.labels","op":"empty"}`, `not(any(data.labels, true))`},
		{"notempty array", `{"field":"data.labels","op":"notempty"}`, `not(not(any(data.labels, true)))`},
		{"exists", `{"field":"name","op":"exists"}`, `notnull(name)`},
		{"exists false", `{"field":"name","op":"exists","value":false}`, `null(name)`},
		{"exists array", `{"field":"data.labels","op":"exists","value":true}`, `notnull(data.labels)`},
		{"anyeq", `{"field":"data.tags","op":"anyeq","value":"x"}`, `any(data.tags, cmp(value eq "x"))`},
		{"anyne", `{"field":"data.tags","op":"anyne","value":"x"}`, `any(data.tags, cmp(value ne "x"))`},
		{"ne on array is none equal", `{"field":"data.tags","op":"ne","value":"x"}`, `not(any(data.tags, cmp(value eq "x")))`},
		{"anyin", `{"field":"data.tags","op":"anyin","value":["x","y"]}`, `any(data.tags, in(value ["x", "y"]))`},
		{"anynin", `{"field":"data.tags","op":"anynin","value":["x"]}`, `any(data.tags, not(in(value ["x"])))`},
		{"nin on array is none in", `{"field":"data.tags","op":"nin","value":["x"]}`, `not(any(data.tags, in(value ["x"])))`},
		{"anygt anygte anylt anylte", `{"items":[{"field":"data.items>qty","op":"anygt","value":1},{"field":"data.items>qty","op":"anygte","value":2},{"field":"data.items>qty","op":"anylt","value":3},{"field":"data.items>qty","op":"anylte","value":4}]}`,
			`and(any(data.items, cmp(qty gt 1.0)), any(data.items, cmp(qty ge 2.0)), any(data.items, cmp(qty lt 3.0)), any(data.items, cmp(qty le 4.0)))`},
		{"any on scalar", `{"field":"name","op":"anyeq","value":"a"}`, `cmp(name eq "a")`},
		{"rel defaults to and", `{"items":[{"field":"name","value":"a"},{"field":"isCompany","value":true}]}`, `and(cmp(name eq "a"), cmp(isCompany eq true))`},
		{"single item group", `{"rel":"or","items":[{"field":"name","value":"a"}]}`, `cmp(name eq "a")`},
		{"empty nested groups dropped", `{"rel":"and","items":[{"rel":"or","items":[]},{"field":"name","value":"a"}]}`, `cmp(name eq "a")`},
		{"$count body wrapper", `{"filter":{"field":"name","value":"a"}}`, `cmp(name eq "a")`},
		{"null", `null`, `<nil>`},
		{"number as string", `{"field":"data.amount","op":"gt","value":"1.5"}`, `cmp(data.amount gt 1.5)`},
		{"bool as string", `{"field":"isCompany","value":"TRUE"}`, `cmp(isCompany eq true)`},
		{"time as ms", `{"field":"createTime","op":"gte","value":1704067200000}`, `cmp(createTime ge 1704067200000)`},
		{"time as ms string", `{"field":"createTime","op":"gte","value":"1704067200000"}`, `cmp(createTime ge 1704067200000)`},
		{"time as ISO", `{"field":"createTime","op":"gte","value":"2024-01-01T00:00:00Z"}`, `cmp(createTime ge 1704067200000)`},
		{"time as date", `{"field":"createTime","op":"gte","value":"2024-01-01"}`, fmt.Sprintf(`cmp(createTime ge %d)`, newYearCST)},
		{"enum name", `{"field":"status","value":"Disabled"}`, `cmp(status eq 1)`},
		{"enum number string", `{"field":"status","value":"1"}`, `cmp(status eq 1)`},
		{"slash path", `{"field":"data/region/label","value":"x"}`, `cmp(data.region.label eq "x")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := query.ParseDynamicFilter(json.RawMessage(tt.src), testResolver)
			if err != nil {
				t.Fatalf("%s: %v", tt.src, err)
			}
			if got := query.Format(e); got != tt.want {
				t.Errorf("%s\n got %s\nwant %s", tt.src, got, tt.want)
			}
		})
	}
}

func TestParseDynamicErrors(t *testing.T) {
	many := func(n int, item string) string {
		return `{"items":[` + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + `]}`
	}
	deep := strings.Repeat(`{"items":[`, query.MaxDepth+2) + `{"field":"name","value":"a"}` + strings.Repeat(`]}`, query.MaxDepth+2)
	tests := []struct {
		name, body, reason, target, msg string
	}{
		{"unknown op", `{"filter":{"field":"name","op":"like","value":"a"}}`, "invalid_filter", "name", `filter: unknown operator "like"`},
		{"unknown any op", `{"filter":{"field":"name","op":"anyexists"}}`, "invalid_filter", "name", "unknown operator"},
		{"unknown member", `{"filter":{"items":[{"field":"nope","value":1}]}}`, "invalid_filter", "nope", `filter.items[0]: unknown member "nope"`},
		{"bad path", `{"filter":{"field":"a..b","value":1}}`, "invalid_filter", "a..b", "not a member path"},
		{"not a child table", `{"filter":{"field":"data>amount","value":1}}`, "invalid_filter", "data>amount", "not a child-table column"},
		{"no filter member", `{"filter":{"field":"password","value":"x"}}`, "invalid_filter", "password", "cannot be used in a filter"},
		{"type mismatch", `{"filter":{"field":"data.amount","value":true}}`, "invalid_filter", "data.amount", "the member is a number; a boolean does not fit"},
		{"string for string only", `{"filter":{"field":"name","value":1}}`, "invalid_filter", "name", "a number does not fit"},
		{"gt null", `{"filter":{"field":"data.amount","op":"gt","value":null}}`, "invalid_filter", "data.amount", "does not take null"},
		{"in empty", `{"filter":{"field":"name","op":"in","value":[]}}`, "invalid_filter", "name", "needs 1 to 100 values"},
		{"in too many", `{"filter":{"field":"name","op":"in","value":[` + strings.TrimSuffix(strings.Repeat(`"a",`, 101), ",") + `]}}`, "invalid_filter", "name", "needs 1 to 100 values"},
		{"in bad element", `{"filter":{"field":"status","op":"in","value":[1,"x"]}}`, "invalid_filter", "status", `value[1]: no value is named "x"`},
		{"exists non-bool", `{"filter":{"field":"name","op":"exists","value":1}}`, "invalid_filter", "name", "exists takes true or false"},
		{"bad rel", `{"filter":{"rel":"xor","items":[]}}`, "invalid_filter", "filter", `rel must be "and" or "or"`},
		{"op without field", `{"filter":{"op":"eq","value":1}}`, "invalid_filter", "filter", "a condition needs a field"},
		{"filter not an object", `{"filter":[1]}`, "invalid_filter", "filter", "must be an object"},
		// Operator-looking keys are errors, never an empty group matching every row (bad-input sweep).
		{"operator key", `{"filter":{"$where":"1"}}`, "invalid_filter", "filter", `filter: unknown key "$where"`},
		{"operator key in a group", `{"filter":{"items":[{"field":"name","value":"a"},{"$or":[{"field":"name"}]}]}}`, "invalid_filter", "filter", `filter.items[1]: unknown key "$or"`},
		{"operator key beside a condition", `{"filter":{"field":"name","value":"a","$ne":null}}`, "invalid_filter", "filter", `unknown key "$ne"`},
		{"too many nodes", `{"filter":` + many(query.MaxFilterNodes, `{"field":"name","value":"a"}`) + `}`, "invalid_filter", "filter", "more than 200 conditions"},
		{"too deep", `{"filter":` + deep + `}`, "invalid_filter", "filter", "nested deeper than 32"},
		{"bad json", `{"filter":`, "invalid_request", "body", "not a valid query"},
		{"sort dir", `{"sort":[{"field":"name","dir":2}]}`, "invalid_orderby", "name", "dir must be 1 or -1"},
		{"sort array", `{"sort":[{"field":"data.tags"}]}`, "invalid_orderby", "data.tags", "cannot be sorted"},
		{"sort twice", `{"sort":[{"field":"name"},{"field":"Name","dir":"desc"}]}`, "invalid_orderby", "Name", "appears twice"},
		{"sort too many", `{"sort":[{"field":"a"},{"field":"b"},{"field":"c"},{"field":"d"},{"field":"e"},{"field":"f"}]}`, "invalid_orderby", "sort", "more than 5"},
		{"sort no field", `{"sort":[{"dir":1}]}`, "invalid_orderby", "sort", "not a member path"},
		{"select bad", `{"select":[{"field":""}]}`, "invalid_select", "select", "not a member path"},
		{"negative skip", `{"skip":-1}`, "invalid_query_option", "skip", "non-negative"},
		{"take too large", `{"take":5001}`, "invalid_query_option", "take", "at most 5000"},
		{"take string", `{"take":"10"}`, "invalid_query_option", "take", "non-negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := query.ParseDynamic([]byte(tt.body), testResolver)
			if err == nil {
				t.Fatalf("ParseDynamic(%s) = %+v, want an error", tt.body, q)
			}
			checkErr(t, err, tt.reason, tt.target, -2, tt.msg)
		})
	}
	// The node limit is inclusive.
	if _, err := query.ParseDynamicFilter(json.RawMessage(many(query.MaxFilterNodes-1, `{"field":"name","value":"a"}`)), testResolver); err != nil {
		t.Errorf("%d nodes: %v", query.MaxFilterNodes, err)
	}
	// Resolver failures that are not the caller's fault pass through.
	_, err := query.ParseDynamicFilter(json.RawMessage(`{"field":"broken","value":1}`), testResolver)
	if errs.CodeOf(err) != errs.Unavailable {
		t.Errorf("broken resolver: %v", err)
	}
}

func TestWalk(t *testing.T) {
	e, err := query.ParseFilter(tv7Filter, testResolver)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	query.Walk(e, func(x query.Expr) bool {
		kinds = append(kinds, fmt.Sprintf("%T", x))
		return true
	})
	want := "query.And query.Cmp query.Or query.Cmp query.Str query.AnyRow query.Cmp"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("walk order\n got %s\nwant %s", got, want)
	}
	// Returning false skips the children.
	n := 0
	query.Walk(e, func(x query.Expr) bool {
		n++
		_, isOr := x.(query.Or)
		return !isOr
	})
	if n != 5 {
		t.Errorf("visited %d nodes with the Or pruned, want 5", n)
	}
	query.Walk(nil, func(query.Expr) bool { t.Error("visited nil"); return true })
}

func TestFormat(t *testing.T) {
	tests := []struct {
		e    query.Expr
		want string
	}{
		{nil, "<nil>"},
		{query.Const{Value: true}, "true"},
		{query.And{}, "and()"},
		{query.Cmp{Path: query.Path{"a"}, Op: query.Eq, Value: 1e21}, "cmp(a eq 1e+21)"},
		{query.Cmp{Path: query.Path{"a"}, Op: query.Eq, Value: 0.5}, "cmp(a eq 0.5)"},
		{query.Cmp{Path: query.Path{"a"}, Op: query.Eq, Value: int64(-3)}, "cmp(a eq -3)"},
		{query.Cmp{Path: query.Path{"a"}, Op: query.Ne, Value: "x\"y"}, `cmp(a ne "x\"y")`},
		{query.Cmp{Path: query.Path{"a"}, Op: query.Eq, Value: 3}, "cmp(a eq int(3))"},
		{query.Null{Path: query.Path{"a", "b"}, IsNull: false}, "notnull(a.b)"},
		{query.AnyRow{Array: query.Path{"t"}, Pred: query.In{Values: []query.Value{"x"}}}, `any(t, in($ ["x"]))`},
	}
	for _, tt := range tests {
		if got := query.Format(tt.e); got != tt.want {
			t.Errorf("Format(%#v) = %s, want %s", tt.e, got, tt.want)
		}
	}
}

func FuzzParseDynamic(f *testing.F) {
	f.Add([]byte(specDynamicBody))
	f.Add([]byte(`{"filter":{"field":"data.tags","op":"nin","value":["x"]},"take":0}`))
	f.Add([]byte(`{"filter":{"rel":"or","items":[{"field":"createTime","op":"gte","value":"2024-01-01"}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := query.ParseDynamic(body, fuzzResolver)
		if err != nil {
			if e := errs.As(err); e.Code != errs.Invalid || e.Reason == "" {
				t.Fatalf("ParseDynamic(%q): bad error %#v", body, err)
			}
			return
		}
		if q.Take < 0 || q.Take > query.MaxTop || q.Skip < 0 {
			t.Fatalf("ParseDynamic(%q): bad page %d/%d", body, q.Skip, q.Take)
		}
		query.Format(q.Filter)
	})
}
