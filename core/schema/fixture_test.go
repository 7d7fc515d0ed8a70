package schema

import (
	"errors"
	"reflect"
	"sort"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
)

// f1Content is TV fixture form f_1 (spec §11), as the designer stores it.
const f1Content = `{"layout":"grid","items":[
 {"field":"customer","type":"input","title":"客户","required":true},
 {"field":"amount","type":"number","title":"金额"},
 {"field":"region","type":"select","title":"区域","props":{"options":[{"value":"华东","label":"华东"},{"value":"华南"}]}},
 {"field":"items","type":"tableform","title":"明细","columns":[{"field":"qty","type":"number"}]}
]}`

func f1(t *testing.T) *Form {
	t.Helper()
	f, err := FormFromDoc(map[string]any{
		"id": "f_1", "corpId": "t1", "appId": "a_1", "key": "orders", "name": "订单",
		"usingWorkflow": true, "content": f1Content,
	})
	if err != nil {
		t.Fatalf("FormFromDoc(f_1): %v", err)
	}
	return f
}

// everyType is a form with one field of each type (plus a child table with
// varied columns).
func everyType(t *testing.T) *Form {
	t.Helper()
	fields, err := ParseContent(map[string]any{"items": []any{
		map[string]any{"field": "name", "type": "input", "required": true},
		map[string]any{"field": "memo", "type": "textarea"},
		map[string]any{"field": "amount", "type": "number"},
		map[string]any{"field": "due", "type": "timestamp"},
		map[string]any{"field": "level", "type": "radio", "props": map[string]any{"options": []any{"A", "B"}}},
		map[string]any{"field": "region", "type": "select", "props": map[string]any{"options": []any{
			map[string]any{"value": "e", "label": "East"}, map[string]any{"value": "s", "label": "South"}}}},
		map[string]any{"field": "free", "type": "select"}, // no options: any value
		map[string]any{"field": "tags", "type": "checkbox", "props": map[string]any{"options": []any{"x", "y"}}},
		map[string]any{"field": "multi", "type": "select2"},
		map[string]any{"field": "owner", "type": "employee1"},
		map[string]any{"field": "team", "type": "employee2"},
		map[string]any{"field": "dept", "type": "department1"},
		map[string]any{"field": "depts", "type": "department2"},
		map[string]any{"field": "photos", "type": "imageupload"},
		map[string]any{"field": "Files", "type": "fileupload"},
		map[string]any{"field": "lines", "type": "tableform", "columns": []any{
			map[string]any{"field": "sku", "type": "input", "required": true},
			map[string]any{"field": "qty", "type": "number"},
			map[string]any{"field": "color", "type": "select", "props": map[string]any{"options": []any{"red"}}},
			map[string]any{"field": "who", "type": "employee1"},
			map[string]any{"field": "marks", "type": "checkbox"},
		}},
	}})
	if err != nil {
		t.Fatalf("ParseContent(everyType): %v", err)
	}
	return &Form{ID: "f_all", Fields: fields}
}

// details returns err's validation details as "target code" strings, after
// checking it is one errs.Invalid with Reason validation_failed and details
// sorted by target.
func details(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		t.Fatal("want a validation error, got nil")
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *errs.Error", err)
	}
	if e.Code != errs.Invalid || e.Reason != "validation_failed" {
		t.Fatalf("error code/reason = %v/%q, want invalid/validation_failed", e.Code, e.Reason)
	}
	if !errors.Is(err, errs.E(errs.Invalid).WithReason("validation_failed")) {
		t.Fatalf("errors.Is does not match invalid/validation_failed")
	}
	out := make([]string, len(e.Details))
	for i, d := range e.Details {
		if d.Message == "" {
			t.Errorf("detail %s has no message", d.Target)
		}
		out[i] = d.Target + " " + d.Code
	}
	if !sort.SliceIsSorted(e.Details, func(i, j int) bool { return e.Details[i].Target < e.Details[j].Target }) {
		t.Errorf("details not sorted by target: %v", out)
	}
	return out
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}
