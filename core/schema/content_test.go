package schema

import (
	"encoding/json"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
)

func TestParseContentFixture(t *testing.T) {
	want := []FieldDef{
		{Field: "customer", Type: Input, Title: "客户", Required: true},
		{Field: "amount", Type: Number, Title: "金额"},
		{Field: "region", Type: Select, Title: "区域", Props: Props{Options: []Option{{"华东", "华东"}, {"华南", "华南"}}}},
		{Field: "items", Type: TableForm, Title: "明细", Columns: []FieldDef{{Field: "qty", Type: Number}}},
	}
	var asMap map[string]any
	if err := json.Unmarshal([]byte(f1Content), &asMap); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]any{"string": f1Content, "bytes": []byte(f1Content), "map": asMap} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseContent(in)
			if err != nil {
				t.Fatalf("ParseContent: %v", err)
			}
			eq(t, "fields", got, want)
		})
	}
}

func TestParseContentAccepts(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want []FieldDef
	}{
		{"empty items", `{"items":[]}`, []FieldDef{}},
		{"type case and unknown keys ignored", `{"items":[{"field":"a_1","type":"InPut","x":{"y":1},"hidden":true}]}`,
			[]FieldDef{{Field: "a_1", Type: Input, Hidden: true}}},
		{"string options and label default", `{"items":[{"field":"c","type":"checkbox","props":{"format":"inline","options":["x",{"value":"y"},{"value":"z","label":""}]}}]}`,
			[]FieldDef{{Field: "c", Type: Checkbox, Props: Props{Format: "inline", Options: []Option{{"x", "x"}, {"y", "y"}, {"z", "z"}}}}}},
		{"options dropped on non-select", `{"items":[{"field":"n","type":"number","props":{"options":["x"]}}]}`,
			[]FieldDef{{Field: "n", Type: Number}}},
		{"empty columns on a scalar", `{"items":[{"field":"n","type":"number","columns":[]}]}`,
			[]FieldDef{{Field: "n", Type: Number}}},
		{"64-char key", `{"items":[{"field":"_234567890123456789012345678901234567890123456789012345678901234","type":"input"}]}`,
			[]FieldDef{{Field: "_234567890123456789012345678901234567890123456789012345678901234", Type: Input}}},
		{"typed value via JSON", struct {
			Items []FieldDef `json:"items"`
		}{[]FieldDef{{Field: "x", Type: Select2}}}, []FieldDef{{Field: "x", Type: Select2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseContent(tt.in)
			if err != nil {
				t.Fatalf("ParseContent: %v", err)
			}
			eq(t, "fields", got, tt.want)
		})
	}
}

func TestParseContentErrors(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want []string
	}{
		{"nil", nil, []string{"content required"}},
		{"not json", `{"items":`, []string{"content invalid_type"}},
		{"json array", `[1]`, []string{"content invalid_type"}},
		{"number", 5, []string{"content invalid_type"}},
		{"no items", `{"layout":{}}`, []string{"content/items required"}},
		{"null items", `{"items":null}`, []string{"content/items required"}},
		{"items not array", `{"items":{}}`, []string{"content/items invalid_type"}},
		{"item not object", `{"items":["x"]}`, []string{"content/items/0 invalid_type"}},
		{"missing field and type", `{"items":[{}]}`, []string{"content/items/0/field required", "content/items/0/type required"}},
		{"field not string", `{"items":[{"field":1,"type":"input"}]}`, []string{"content/items/0/field invalid_type"}},
		{"bad keys", `{"items":[{"field":"a.b","type":"input"},{"field":"$where","type":"input"},{"field":"1a","type":"input"},{"field":"","type":"input"},{"field":"_2345678901234567890123456789012345678901234567890123456789012345","type":"input"}]}`,
			[]string{"content/items/0/field invalid_value", "content/items/1/field invalid_value", "content/items/2/field invalid_value", "content/items/3/field invalid_value", "content/items/4/field invalid_value"}},
		{"duplicate key case-insensitive", `{"items":[{"field":"a","type":"input"},{"field":"b","type":"input"},{"field":"A","type":"number"}]}`,
			[]string{"content/items/2/field duplicate_field"}},
		{"unknown type", `{"items":[{"field":"a","type":"money"}]}`, []string{"content/items/0/type invalid_value"}},
		{"type not string", `{"items":[{"field":"a","type":true}]}`, []string{"content/items/0/type invalid_type"}},
		{"bad scalars", `{"items":[{"field":"a","type":"input","title":1,"required":"yes","hidden":0}]}`,
			[]string{"content/items/0/hidden invalid_type", "content/items/0/required invalid_type", "content/items/0/title invalid_type"}},
		{"table without columns", `{"items":[{"field":"t","type":"tableform"}]}`, []string{"content/items/0/columns required"}},
		{"table with empty columns", `{"items":[{"field":"t","type":"tableform","columns":[]}]}`, []string{"content/items/0/columns required"}},
		{"table columns not array", `{"items":[{"field":"t","type":"tableform","columns":{}}]}`, []string{"content/items/0/columns invalid_type"}},
		{"nested table", `{"items":[{"field":"t","type":"tableform","columns":[{"field":"u","type":"tableform","columns":[{"field":"v","type":"input"}]}]}]}`,
			[]string{"content/items/0/columns/0/type invalid_value"}},
		{"bad columns", `{"items":[{"field":"t","type":"tableform","columns":[{"field":"id","type":"input"},{"field":"q","type":"nope"},{"field":"x","type":"input"},{"field":"X","type":"input"}]}]}`,
			[]string{"content/items/0/columns/0/field invalid_value", "content/items/0/columns/1/type invalid_value", "content/items/0/columns/3/field duplicate_field"}},
		{"columns on scalar", `{"items":[{"field":"n","type":"number","columns":[{"field":"q","type":"input"}]}]}`,
			[]string{"content/items/0/columns invalid_value"}},
		{"bad options", `{"items":[{"field":"s","type":"select","props":{"options":[{"value":""},{"label":"x"},{"value":1},{"value":"a","label":2},"a","",3,"b","b"]}}]}`,
			[]string{"content/items/0/props/options/0/value required", "content/items/0/props/options/1/value required",
				"content/items/0/props/options/2/value invalid_type", "content/items/0/props/options/3/label invalid_type",
				"content/items/0/props/options/5/value required", "content/items/0/props/options/6 invalid_type",
				"content/items/0/props/options/8/value duplicate_field"}},
		{"options not array", `{"items":[{"field":"s","type":"radio","props":{"options":"a,b"}}]}`, []string{"content/items/0/props/options invalid_type"}},
		{"props not object", `{"items":[{"field":"s","type":"radio","props":[]}]}`, []string{"content/items/0/props invalid_type"}},
		{"format not string", `{"items":[{"field":"s","type":"timestamp","props":{"format":1}}]}`, []string{"content/items/0/props/format invalid_type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseContent(tt.in)
			if got != nil {
				t.Errorf("fields = %v, want nil on error", got)
			}
			eq(t, "details", details(t, err), tt.want)
		})
	}
}

func TestFormFromDoc(t *testing.T) {
	f := f1(t)
	if f.ID != "f_1" || f.Tenant != "t1" || f.AppID != "a_1" || f.Key != "orders" || f.Name != "订单" || !f.UsingWorkflow {
		t.Errorf("form header = %+v", f)
	}
	if len(f.Fields) != 4 {
		t.Fatalf("fields = %d, want 4", len(f.Fields))
	}

	var m map[string]any
	_ = json.Unmarshal([]byte(f1Content), &m)
	g, err := FormFromDoc(map[string]any{"id": "f_2", "usingWorkflow": int64(0), "content": m})
	if err != nil || g.UsingWorkflow || len(g.Fields) != 4 {
		t.Errorf("map content: form %+v, err %v", g, err)
	}

	empty, err := FormFromDoc(map[string]any{"id": "f_3"})
	if err != nil || len(empty.Fields) != 0 {
		t.Errorf("no content: form %+v, err %v", empty, err)
	}

	_, err = FormFromDoc(map[string]any{"id": "f_4", "content": `{"items":[{"field":"a"}]}`})
	eq(t, "bad content", details(t, err), []string{"content/items/0/type required"})

	if _, err := FormFromDoc(nil); errs.CodeOf(err) != errs.Internal || err == nil {
		t.Errorf("nil doc: err %v", err)
	}
}

func TestTitleAndIndexPaths(t *testing.T) {
	f := f1(t)
	if got := f.Title(map[string]any{"customer": "甲公司", "amount": 1.0}); got != "甲公司" {
		t.Errorf("Title = %q", got)
	}
	if got := f.Title(map[string]any{"amount": 1.0}); got != "" {
		t.Errorf("Title without customer = %q", got)
	}
	if got := (&Form{Fields: []FieldDef{{Field: "n", Type: Number}}}).Title(map[string]any{"n": 1.0}); got != "" {
		t.Errorf("Title without input field = %q", got)
	}
	// The first input field counts even when a textarea comes first.
	g := &Form{Fields: []FieldDef{{Field: "m", Type: Textarea}, {Field: "a", Type: Input}, {Field: "b", Type: Input}}}
	if got := g.Title(map[string]any{"m": "memo", "a": "A", "b": "B"}); got != "A" {
		t.Errorf("Title = %q, want A", got)
	}

	eq(t, "f_1 index paths", f.IndexPaths(), []query.Path{{"formId"}, {"data", "customer"}, {"data", "amount"}, {"data", "region", "value"}})
	eq(t, "every-type index paths", everyType(t).IndexPaths(), []query.Path{{"formId"},
		{"data", "name"}, {"data", "memo"}, {"data", "amount"}, {"data", "due"}, {"data", "level", "value"},
		{"data", "region", "value"}, {"data", "free", "value"}, {"data", "owner", "id"}, {"data", "dept", "id"}})

	var many Form
	for i := 0; i < 40; i++ {
		many.Fields = append(many.Fields, FieldDef{Field: "f" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Type: Number})
	}
	if got := len(many.IndexPaths()); got != 1+MaxIndexedFields {
		t.Errorf("capped index paths = %d, want %d", got, 1+MaxIndexedFields)
	}
}

func TestFieldTypePredicates(t *testing.T) {
	all := []FieldType{Input, Textarea, Number, Timestamp, Radio, Select, Checkbox, Select2, Employee1, Employee2, Department1, Department2, ImageUpload, FileUpload, TableForm}
	if len(all) != 15 {
		t.Fatal("15 types")
	}
	arrays := 0
	for _, ft := range all {
		if !ft.Valid() {
			t.Errorf("%s not valid", ft)
		}
		if ft.IsArray() {
			arrays++
		}
	}
	if arrays != 7 {
		t.Errorf("array types = %d, want 7", arrays)
	}
	if FieldType("Input").Valid() || FieldType("").Valid() {
		t.Error("invalid types reported valid")
	}
}
