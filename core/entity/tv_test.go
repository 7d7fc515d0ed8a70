package entity_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
)

// seedTV6 creates R1 (nested body) and R2 (flat body on the form-key route).
func (f *fixture) seedTV6() (r1, r2 map[string]any) {
	f.t.Helper()
	r1 = f.create(f.admin, "formdata", map[string]any{"formId": "f_1", "data": map[string]any{
		"customer": "甲公司", "amount": float64(150), "region": "华东", "items": []any{map[string]any{"qty": float64(12)}}}})
	r2 = f.create(f.admin, "orders", map[string]any{"customer": "乙公司", "amount": "80", "region": "华南"})
	return r1, r2
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case int:
		return float64(x)
	}
	return -1
}

func TestTV6CreateRecords(t *testing.T) {
	f := newFixture(t)
	r1, r2 := f.seedTV6()

	if r1["formId"] != "f_1" || r1["appId"] != "a_1" || num(r1["flowStatus"]) != 1 {
		t.Errorf("R1 = %v", r1)
	}
	d1 := r1["data"].(map[string]any)
	if d1["customer"] != "甲公司" || num(d1["amount"]) != 150 {
		t.Errorf("R1 data = %v", d1)
	}
	if reg := d1["region"].(map[string]any); reg["value"] != "华东" || reg["label"] != "华东" {
		t.Errorf("region = %v", reg)
	}
	if cb := r1["createBy"].(map[string]any); cb["id"] != "u_1001" || cb["value"] != "E001" || cb["label"] != "Admin" {
		t.Errorf("createBy = %v", cb)
	}
	if _, ok := r1["createTime"].(int64); !ok {
		t.Errorf("createTime = %T", r1["createTime"])
	}
	if r1["dataTitle"] != "甲公司" {
		t.Errorf("dataTitle = %v", r1["dataTitle"])
	}
	if r2["formId"] != "f_1" || num(r2["data"].(map[string]any)["amount"]) != 80 {
		t.Errorf("R2 = %v", r2)
	}

	// Validation failure: nothing written, one detail per field.
	_, err := f.svc.Create(f.ctx, f.admin, "formdata", map[string]any{"formId": "f_1",
		"data": map[string]any{"amount": "many", "nope": float64(1)}})
	e := wantErr(t, err, errs.Invalid, "validation_failed")
	var targets []string
	for _, d := range e.Details {
		targets = append(targets, d.Target)
	}
	for _, want := range []string{"data/amount", "data/nope", "data/customer"} {
		if !slices.Contains(targets, want) {
			t.Errorf("details %v lack %s", targets, want)
		}
	}
	if n := f.countRecords("f_1"); n != 2 {
		t.Errorf("count = %d, want 2", n)
	}
	// The stored record reads back as created.
	got := must[map[string]any](t)(f.svc.Get(f.ctx, f.admin, "formdata", r1["id"].(string), "", ""))
	if !jsonEqual(got, r1) {
		t.Errorf("GET = %v\nwant %v", got, r1)
	}
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var x, y any
	_ = json.Unmarshal(ja, &x)
	_ = json.Unmarshal(jb, &y)
	return reflect.DeepEqual(x, y)
}

func TestTV7FullQuery(t *testing.T) {
	f := newFixture(t)
	r1, _ := f.seedTV6()
	f.st.reset()
	res, err := f.svc.List(f.ctx, f.admin, "formdata", entity.ListOptions{
		FormID:  "f_1",
		Filter:  "data/amount ge 100 and (data/region eq '华东' or contains(data/customer,'乙')) and data/items/qty gt 10",
		Select:  "data/customer,data/amount",
		OrderBy: "data/amount desc",
		Top:     "10", Skip: "0", Count: "true",
		Expand: "creator($select=empName)",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"@odata.count": 1, "value": []any{map[string]any{
		"id":      r1["id"],
		"data":    map[string]any{"customer": "甲公司", "amount": 150},
		"creator": map[string]any{"id": "u_1001", "empName": "Admin"},
	}}}
	got := map[string]any{"@odata.count": *res.Count, "value": res.Value}
	if !jsonEqual(got, want) {
		g, _ := json.Marshal(got)
		t.Errorf("got %s", g)
	}
	if n := f.st.count("user"); n != 1 {
		t.Errorf("expand made %d user lookups, want 1", n)
	}
}

func TestTV8QueryErrors(t *testing.T) {
	f := newFixture(t)
	f.seedTV6()
	cases := []struct {
		name, entity string
		opts         entity.ListOptions
		reason       string
		target       string
	}{
		{"type error", "formdata", entity.ListOptions{FormID: "f_1", Filter: "data/amount gt 'x'"}, "invalid_filter", "data/amount"},
		{"syntax", "formdata", entity.ListOptions{FormID: "f_1", Filter: "data/amount gt"}, "invalid_filter", ""},
		{"expand depth", "user", entity.ListOptions{Expand: "department.parent.parent.parent"}, "invalid_expand", ""},
		{"unknown nav", "user", entity.ListOptions{Expand: "boss"}, "invalid_expand", "boss"},
		{"unknown select", "user", entity.ListOptions{Select: "nope"}, "invalid_select", "nope"},
		{"select passwordHash", "user", entity.ListOptions{Select: "passwordHash"}, "invalid_select", ""},
		{"filter passwordHash", "user", entity.ListOptions{Filter: "passwordHash eq 'x'"}, "invalid_filter", ""},
		{"orderby passwordHash", "user", entity.ListOptions{OrderBy: "passwordHash"}, "invalid_orderby", ""},
		{"nested select", "user", entity.ListOptions{Expand: "department($select=nope)"}, "invalid_select", ""},
		{"bad top", "user", entity.ListOptions{Top: "x"}, "invalid_query_option", "$top"},
		{"bad count", "user", entity.ListOptions{Count: "yes"}, "invalid_query_option", "$count"},
		{"records need form", "formdata", entity.ListOptions{Filter: "data/amount gt 1"}, "invalid_request", "formId"},
		{"form not in or", "formdata", entity.ListOptions{Filter: "formId eq 'f_1' or flowStatus eq 1"}, "invalid_request", "formId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svc.List(f.ctx, f.admin, c.entity, c.opts)
			e := wantErr(t, err, errs.Invalid, c.reason)
			if c.target != "" && e.Target != c.target {
				t.Errorf("target = %q, want %q", e.Target, c.target)
			}
		})
	}
}

func TestTV9PartialPutExpandDelete(t *testing.T) {
	f := newFixture(t)
	r1, r2 := f.seedTV6()
	id := r2["id"].(string)
	got, err := f.svc.Update(f.ctx, f.admin, "formdata", id, map[string]any{"data": map[string]any{"amount": float64(90)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	d := got["data"].(map[string]any)
	if d["customer"] != "乙公司" || num(d["amount"]) != 90 || d["region"].(map[string]any)["value"] != "华南" {
		t.Errorf("merged data = %v", d)
	}
	if got["updateBy"].(map[string]any)["id"] != "u_1001" || got["createTime"] != r2["createTime"] {
		t.Errorf("updated = %v", got)
	}
	if num(got["updateTime"]) <= num(r2["updateTime"]) {
		t.Errorf("updateTime did not advance: %v", got["updateTime"])
	}

	res, err := f.svc.List(f.ctx, f.admin, "wftodo", entity.ListOptions{
		Expand: "user.department", Filter: "dataId eq '" + r1["id"].(string) + "'"})
	if err != nil || len(res.Value) != 0 {
		t.Fatalf("wftodo = %v, %v", res, err)
	}

	if err := f.svc.Delete(f.ctx, f.admin, "formdata", id, ""); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Get(f.ctx, f.admin, "formdata", id, "", "")
	wantErr(t, err, errs.NotFound, "")
	err = f.svc.Delete(f.ctx, f.admin, "formdata", id, "")
	wantErr(t, err, errs.NotFound, "")
	if n := f.countRecords("f_1"); n != 1 {
		t.Errorf("count = %d, want 1", n)
	}
}
