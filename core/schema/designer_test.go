package schema

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
)

// wtv9Layout is the designer layout of test vector WTV-9 (spec §12.16):
// fields at the top level and inside a row/column, an option field, a
// timestamp with a format, an upload, a child table, and a button.
const wtv9Layout = `[{"type":"input","field":"jreason000000001","title":"事由","$required":true,"props":{}},{"type":"fcRow","children":[{"type":"col","children":[{"type":"number","field":"jamount000000001","title":"金额","props":{}}]}]},{"type":"select","field":"jregion000000001","title":"区域","props":{},"options":[{"label":"华东","value":"east"},{"label":"华南","value":"south"}]},{"type":"timestamp","field":"jdate00000000001","title":"日期","props":{"format":"YYYY-MM-DD"}},{"type":"fileupload","field":"jfiles0000000001","title":"附件","props":{"action":"/upload"}},{"type":"tableform","field":"jitems0000000001","title":"明细","props":{"columns":[{"label":"数量","style":{},"rule":[{"type":"number","field":"jqty000000000001","title":"数量"}]}]}},{"type":"elButton","children":["确定"]}]`

func TestDeriveItems(t *testing.T) {
	wtv9 := []FieldDef{
		{Field: "jreason000000001", Type: Input, Title: "事由", Required: true},
		{Field: "jamount000000001", Type: Number, Title: "金额"},
		{Field: "jregion000000001", Type: Select, Title: "区域", Props: Props{Options: []Option{{"east", "华东"}, {"south", "华南"}}}},
		{Field: "jdate00000000001", Type: Timestamp, Title: "日期", Props: Props{Format: "YYYY-MM-DD"}},
		{Field: "jfiles0000000001", Type: FileUpload, Title: "附件"},
		{Field: "jitems0000000001", Type: TableForm, Title: "明细", Columns: []FieldDef{{Field: "jqty000000000001", Type: Number, Title: "数量"}}},
	}
	tests := []struct {
		name   string
		layout string
		want   []FieldDef
	}{
		{"WTV-9", wtv9Layout, wtv9},
		{"empty", `[]`, []FieldDef{}},
		{"unknown widgets only", `[{"type":"fcCard","children":[{"type":"span","children":["x"]}]},{"type":"wat"}]`, []FieldDef{}},
		{"title defaults to the key; required message; hidden",
			`[{"type":"input","field":"a","$required":"请填写"},{"type":"textarea","field":"b","hidden":true}]`,
			[]FieldDef{{Field: "a", Type: Input, Title: "a", Required: true}, {Field: "b", Type: Textarea, Title: "b", Hidden: true}}},
		{"duplicate key (any case) and malformed keys are left out",
			`[{"type":"input","field":"a"},{"type":"number","field":"A"},{"type":"input","field":"$where"},{"type":"input","field":"x.y"},{"type":"input"}]`,
			[]FieldDef{{Field: "a", Type: Input, Title: "a"}}},
		{"child table without columns; option field without options; numeric option values",
			`[{"type":"tableform","field":"t","props":{}},{"type":"radio","field":"r"},{"type":"select","field":"s","options":[{"label":"一","value":1},{"value":1},{"label":"x"}]}]`,
			[]FieldDef{{Field: "t", Type: TableForm, Title: "t", Columns: []FieldDef{}}, {Field: "r", Type: Radio, Title: "r"},
				{Field: "s", Type: Select, Title: "s", Props: Props{Options: []Option{{"1", "一"}}}}}},
		{"nested table, id column and column without rule are left out of columns",
			`[{"type":"tableform","field":"t","props":{"columns":[{"label":"L","rule":[{"type":"input","field":"c"}]},{"rule":[{"type":"tableform","field":"n"}]},{"rule":[{"type":"input","field":"id"}]},{"label":"none"},{"required":true,"rule":[{"type":"input","field":"C"}]}]}}]`,
			[]FieldDef{{Field: "t", Type: TableForm, Title: "t", Columns: []FieldDef{{Field: "c", Type: Input, Title: "L"}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DeriveItems(tc.layout)
			if err != nil {
				t.Fatalf("DeriveItems: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(tc.want)
				t.Errorf("items\n got %s\nwant %s", g, w)
			}
		})
	}
}

func TestNormalizeContentDesigner(t *testing.T) {
	opts := `{"form":{"labelPosition":"top"}}`
	stored, fields, err := NormalizeContent(map[string]any{"layout": wtv9Layout, "options": opts,
		"items": []any{map[string]any{"field": "ignored", "type": "input"}}})
	if err != nil {
		t.Fatal(err)
	}
	if stored["layout"] != wtv9Layout || stored["options"] != opts {
		t.Errorf("layout/options not kept byte for byte: %v", stored)
	}
	if len(fields) != 6 || len(stored["items"].([]any)) != 6 {
		t.Errorf("items: %d fields, stored %v", len(fields), stored["items"])
	}
	// A stored designer content reads back as the same fields.
	back, err := ParseContent(stored)
	if err != nil || !reflect.DeepEqual(back, fields) {
		t.Errorf("ParseContent(stored) = %v, %v", back, err)
	}
	// A stored designer form reads back with its derived items, child tables
	// without columns included (lenient, unlike hub-shape items).
	stored, fields, err = NormalizeContent(map[string]any{"layout": `[{"type":"tableform","field":"t"},{"type":"input","field":"a"}]`})
	if err != nil {
		t.Fatal(err)
	}
	form, err := FormFromDoc(map[string]any{"id": "f", "content": stored})
	if err != nil || !reflect.DeepEqual(form.Fields, fields) || len(form.Fields) != 2 {
		t.Errorf("FormFromDoc(stored) = %v, %v; want %v", form, err, fields)
	}
	// Missing options get the client's default; a layout given as an array is serialised.
	stored, _, err = NormalizeContent(map[string]any{"layout": []any{map[string]any{"type": "input", "field": "a"}}})
	if err != nil || stored["options"] != DefaultOptions || stored["layout"] != `[{"field":"a","type":"input"}]` {
		t.Errorf("defaults: %v, %v", stored, err)
	}
}

func TestNormalizeContentErrors(t *testing.T) {
	tests := []struct {
		name    string
		content any
		target  string
	}{
		{"content not JSON", `{"layout":`, "content"},
		{"layout not JSON", map[string]any{"layout": `[{"type":"input"`, "options": "{}"}, "content/layout"},
		{"layout an object string", map[string]any{"layout": `[`, "options": "{}"}, "content/layout"},
		{"options not JSON", map[string]any{"layout": `[]`, "options": `{"form":`}, "content/options"},
		{"options an array", map[string]any{"layout": `[]`, "options": `[]`}, "content/options"},
		{"options a number", map[string]any{"layout": `[]`, "options": 5.0}, "content/options"},
		{"hub shape: invalid items", map[string]any{"items": []any{map[string]any{"field": "a", "type": "wat"}}}, "content/items/0/type"},
		{"hub shape: duplicate keys", map[string]any{"items": []any{map[string]any{"field": "a", "type": "input"},
			map[string]any{"field": "A", "type": "input"}}}, "content/items/1/field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := NormalizeContent(tc.content)
			if err == nil {
				t.Fatal("no error")
			}
			targets := detailTargets(err)
			if !strings.Contains(strings.Join(targets, " "), tc.target) {
				t.Errorf("targets %v, want %s", targets, tc.target)
			}
		})
	}
}

// TestSynthesizeLayout: a form defined by items gets a layout the designer
// can load (WTV-10) and that derives the same items back.
func TestSynthesizeLayout(t *testing.T) {
	f := f1(t)
	stored, fields, err := NormalizeContent(map[string]any{"layout": "grid", "items": fieldsJSON(f.Fields)})
	if err != nil {
		t.Fatal(err)
	}
	layout, _ := stored["layout"].(string)
	var rules []map[string]any
	if err := json.Unmarshal([]byte(layout), &rules); err != nil {
		t.Fatalf("layout %q: %v", layout, err)
	}
	if len(rules) != len(f.Fields) {
		t.Fatalf("%d rules for %d fields", len(rules), len(f.Fields))
	}
	for i, r := range rules {
		d := f.Fields[i]
		if r["type"] != string(d.Type) || r["field"] != d.Field || r["title"] != d.Title && d.Title != "" {
			t.Errorf("rule %d = %v, field %v", i, r, d)
		}
		if d.Type == TableForm {
			cols := r["props"].(map[string]any)["columns"].([]any)
			for _, c := range cols {
				cm := c.(map[string]any)
				if _, ok := cm["style"].(map[string]any); !ok || len(cm["rule"].([]any)) != 1 {
					t.Errorf("column %v: needs a style object and one rule", cm)
				}
			}
		}
	}
	if s, _ := stored["options"].(string); !json.Valid([]byte(s)) || s[0] != '{' {
		t.Errorf("options %q", s)
	}
	derived, err := DeriveItems(layout)
	if err != nil {
		t.Fatal(err)
	}
	for i := range fields {
		if fields[i].Title == "" {
			fields[i].Title = fields[i].Field
		}
		for j := range fields[i].Columns {
			if fields[i].Columns[j].Title == "" {
				fields[i].Columns[j].Title = fields[i].Columns[j].Field
			}
		}
	}
	if !reflect.DeepEqual(derived, fields) {
		g, _ := json.Marshal(derived)
		w, _ := json.Marshal(fields)
		t.Errorf("round trip\n got %s\nwant %s", g, w)
	}
}

// detailTargets lists an error's detail targets.
func detailTargets(err error) []string {
	var out []string
	for _, d := range errs.As(err).Details {
		out = append(out, d.Target)
	}
	return out
}

// BenchmarkFormFromDesignerDoc: reading a stored designer form (what the
// record core's form cache does per form on a reload) reads its stored
// items (deriving them again from the layout cost ~5× the time and ~8× the
// allocations): WTV-9's layout repeated to 60 fields.
func BenchmarkFormFromDesignerDoc(b *testing.B) {
	var rules []any
	_ = json.Unmarshal([]byte(wtv9Layout), &rules)
	var big []any
	for i := 0; i < 10; i++ {
		for _, r := range rules {
			raw, _ := json.Marshal(r)
			s := strings.ReplaceAll(string(raw), "000000001\"", "00000000"+string(rune('a'+i))+"\"")
			var m any
			_ = json.Unmarshal([]byte(s), &m)
			big = append(big, m)
		}
	}
	layout, _ := json.Marshal(big)
	stored, fields, err := NormalizeContent(map[string]any{"layout": string(layout), "options": "{}"})
	if err != nil || len(fields) != 60 {
		b.Fatalf("%d fields, %v", len(fields), err)
	}
	doc := map[string]any{"id": "f", "content": stored}
	b.SetBytes(int64(len(layout)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := FormFromDoc(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFormFromItemsDoc is the same 60 fields stored in the hub shape
// (items only), for the ratio.
func BenchmarkFormFromItemsDoc(b *testing.B) {
	var rules []any
	_ = json.Unmarshal([]byte(wtv9Layout), &rules)
	var big []any
	for i := 0; i < 10; i++ {
		for _, r := range rules {
			raw, _ := json.Marshal(r)
			s := strings.ReplaceAll(string(raw), "000000001\"", "00000000"+string(rune('a'+i))+"\"")
			var m any
			_ = json.Unmarshal([]byte(s), &m)
			big = append(big, m)
		}
	}
	layout, _ := json.Marshal(big)
	_, fields, _ := NormalizeContent(map[string]any{"layout": string(layout), "options": "{}"})
	for i := range fields {
		if fields[i].Type == TableForm && len(fields[i].Columns) == 0 {
			b.Fatal("no columns")
		}
	}
	doc := map[string]any{"id": "f", "content": map[string]any{"items": fieldsJSON(fields)}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := FormFromDoc(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// Any layout either is refused as a whole (not a JSON array) or derives
// fields with valid, unique keys whose synthesised layout derives the same
// fields again; nothing panics.
func FuzzDeriveItems(f *testing.F) {
	for _, s := range []string{wtv9Layout, `[]`, `[1,"x",null,{}]`, `{"type":"input"}`, `[{"type":"TableForm","field":"t","props":{"columns":[{"rule":[{"type":"select","field":"s","options":[{"value":2}]}]}]}}]`,
		`[{"type":"row","children":[{"type":"col","children":[{"type":"radio","field":"r","$required":"msg","options":[{"label":"x","value":"x"},{"value":"x"}]}]}]}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, layout string) {
		fields, err := DeriveItems(layout)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, d := range fields {
			k := strings.ToLower(d.Field)
			if !fieldKeyRE.MatchString(d.Field) || seen[k] || !d.Type.Valid() {
				t.Fatalf("bad field %+v from %q", d, layout)
			}
			seen[k] = true
		}
		again, err := DeriveItems(SynthesizeLayout(fields))
		if err != nil || !reflect.DeepEqual(again, fields) {
			t.Fatalf("synthesised layout of %q derives %+v, %v; want %+v", layout, again, err, fields)
		}
	})
}
