package schema

import (
	"errors"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
)

// The form's resolver driven by the real $filter and $orderby parsers
// (TV-7, TV-8).
func TestResolverWithParsers(t *testing.T) {
	r := f1(t).Resolver(baseResolver)

	got, err := query.ParseFilter("data/amount ge 100 and (data/region eq '华东' or contains(data/customer,'乙')) and data/items/qty gt 10", r)
	if err != nil {
		t.Fatalf("ParseFilter(TV-7): %v", err)
	}
	want := query.And{Items: []query.Expr{
		query.Cmp{Path: query.Path{"data", "amount"}, Op: query.Ge, Value: 100.0},
		query.Or{Items: []query.Expr{
			query.Cmp{Path: query.Path{"data", "region", "value"}, Op: query.Eq, Value: "华东"},
			query.Str{Path: query.Path{"data", "customer"}, Fn: query.Contains, Value: "乙"},
		}},
		query.AnyRow{Array: query.Path{"data", "items"}, Pred: query.Cmp{Path: query.Path{"qty"}, Op: query.Gt, Value: 10.0}},
	}}
	if query.Format(got) != query.Format(want) {
		t.Errorf("TV-7 filter:\n got %s\nwant %s", query.Format(got), query.Format(want))
	}

	// data.key is the same member as data/key (§7.2 rule 2).
	if got, err := query.ParseFilter("Data.Region eq '华南'", r); err != nil ||
		query.Format(got) != query.Format(query.Cmp{Path: query.Path{"data", "region", "value"}, Op: query.Eq, Value: "华南"}) {
		t.Errorf("dotted member: %v, %v", got, err)
	}

	sorts, err := query.ParseOrderBy("data/amount desc, data/region", r)
	if err != nil {
		t.Fatalf("ParseOrderBy: %v", err)
	}
	eq(t, "orderby", sorts, []query.Sort{{Path: query.Path{"data", "amount"}, Desc: true}, {Path: query.Path{"data", "region", "label"}}})

	for _, tc := range []struct{ src, target string }{
		{"data/amount gt 'x'", "data/amount"}, // TV-8
		{"data/xyz eq 1", "data/xyz"},
		{"data/items eq 1", "data/items"},
	} {
		_, err := query.ParseFilter(tc.src, r)
		var e *errs.Error
		if !errors.As(err, &e) || e.Code != errs.Invalid || e.Reason != query.ReasonFilter || e.Target != tc.target {
			t.Errorf("ParseFilter(%q) = %v (%+v), want invalid_filter on %s", tc.src, err, e, tc.target)
		}
	}
	if _, err := query.ParseOrderBy("data/items/qty", r); err == nil {
		t.Error("sorting by a child-table column: want an error")
	}
}
