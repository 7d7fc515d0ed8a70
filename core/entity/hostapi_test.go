package entity_test

import (
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
)

// TestFindRecordsPaths checks the storage-path gate of the Host API's
// FindRecords on the fixture form (input, number, select, child table).
func TestFindRecordsPaths(t *testing.T) {
	f := newFixture(t)
	for _, body := range []map[string]any{
		{"customer": "甲", "amount": 100, "region": "华东", "items": []any{map[string]any{"qty": 5}}},
		{"customer": "乙", "amount": 50, "region": "华南", "items": []any{map[string]any{"qty": 20}}},
	} {
		f.create(f.admin, "orders", body)
	}
	ok := []struct {
		name string
		q    query.Query
		want int
	}{
		{"number", query.Query{Filter: query.Cmp{Path: query.Path{"data", "amount"}, Op: query.Ge, Value: 60.0}}, 1},
		{"select value", query.Query{Filter: query.Cmp{Path: query.Path{"data", "region", "value"}, Op: query.Eq, Value: "华南"}}, 1},
		{"select as a whole", query.Query{Filter: query.Null{Path: query.Path{"data", "region"}, IsNull: false}}, 2},
		{"child table", query.Query{Filter: query.AnyRow{Array: query.Path{"data", "items"},
			Pred: query.Cmp{Path: query.Path{"qty"}, Op: query.Gt, Value: 10.0}}}, 1},
		{"operator", query.Query{Filter: query.Cmp{Path: query.Path{"createBy", "id"}, Op: query.Eq, Value: "u_1001"}}, 2},
		{"sort by select label", query.Query{Sort: []query.Sort{{Path: query.Path{"data", "region", "label"}}}}, 2},
	}
	for _, c := range ok {
		c.q.Limit = -1
		docs, n, err := f.svc.FindRecords(f.ctx, f.user, "f_1", c.q, true)
		if err != nil || len(docs) != c.want || n != int64(c.want) {
			t.Errorf("%s: %d docs, total %d, err %v; want %d", c.name, len(docs), n, err, c.want)
		}
	}
	for name, q := range map[string]query.Query{
		"unknown field":         {Filter: query.Cmp{Path: query.Path{"data", "nope"}, Op: query.Eq, Value: "x"}},
		"wrong case":            {Filter: query.Cmp{Path: query.Path{"data", "Amount"}, Op: query.Eq, Value: 1.0}},
		"column outside AnyRow": {Filter: query.Cmp{Path: query.Path{"data", "items", "qty"}, Op: query.Eq, Value: 1.0}},
		"unknown column":        {Filter: query.AnyRow{Array: query.Path{"data", "items"}, Pred: query.Cmp{Path: query.Path{"nope"}, Op: query.Eq, Value: 1.0}}},
		"AnyRow on a scalar":    {Filter: query.AnyRow{Array: query.Path{"data", "amount"}, Pred: query.Const{Value: true}}},
		"stored secret":         {Filter: query.Null{Path: query.Path{"deleteFlag"}}},
		"sort a child table":    {Sort: []query.Sort{{Path: query.Path{"data", "items", "qty"}}}},
		"sort unknown":          {Sort: []query.Sort{{Path: query.Path{"nope"}}}},
	} {
		if _, _, err := f.svc.FindRecords(f.ctx, f.user, "orders", q, false); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("%s: err %v, want invalid", name, err)
		}
	}
	if _, _, err := f.svc.FindRecords(f.ctx, f.other, "orders", query.Query{Limit: -1}, false); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("another tenant's form: %v", err)
	}
	users, _, err := f.svc.FindKind(f.ctx, f.user, "user", query.Query{Limit: -1}, false)
	if err != nil || len(users) != 2 {
		t.Fatalf("FindKind(user) = %v, %v", users, err)
	}
	for _, u := range users {
		if _, ok := u["passwordHash"]; ok {
			t.Errorf("passwordHash returned: %v", u)
		}
	}
	if _, _, err := f.svc.FindKind(f.ctx, f.user, "formdata", query.Query{}, false); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("FindKind(formdata) = %v, want not found (records go through FindRecords)", err)
	}
}
