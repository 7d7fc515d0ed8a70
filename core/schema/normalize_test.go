package schema

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TV-6: the nested body of the first create.
func TestNormalizeTV6(t *testing.T) {
	f := f1(t)
	in := map[string]any{"customer": "甲公司", "amount": 150.0, "region": "华东", "items": []any{map[string]any{"qty": 12.0}}}
	got, err := f.Normalize(in, false)
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	items, _ := got["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("items = %#v", got["items"])
	}
	row := items[0].(map[string]any)
	if id, _ := row["id"].(string); len(id) != 24 {
		t.Errorf("row id = %#v, want a new 24-hex id", row["id"])
	}
	eq(t, "row qty", row["qty"], 12.0)
	delete(row, "id")
	eq(t, "data", got, map[string]any{
		"customer": "甲公司", "amount": 150.0,
		"region": map[string]any{"value": "华东", "label": "华东"},
		"items":  []any{map[string]any{"qty": 12.0}},
	})

	// The flat body's data (second create): "华南" gets its label from the options.
	got, err = f.Normalize(map[string]any{"customer": "乙公司", "amount": 80, "region": "华南"}, false)
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	eq(t, "data", got, map[string]any{"customer": "乙公司", "amount": 80.0, "region": map[string]any{"value": "华南", "label": "华南"}})

	// The failing create.
	_, err = f.Normalize(map[string]any{"amount": "many", "nope": 1.0}, false)
	eq(t, "details", details(t, err), []string{"data/amount invalid_type", "data/customer required", "data/nope unknown_field"})
	if msg := err.Error(); msg != "validation_failed: record data is invalid" {
		t.Errorf("Error() = %q", msg)
	}
}

func TestNormalizeValues(t *testing.T) {
	f := everyType(t)
	f.Location = time.UTC
	cst := DefaultLocation
	day := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC).UnixMilli()
	tests := []struct {
		name string
		key  string
		in   any
		want any
	}{
		{"input", "memo", "多行\n文本", "多行\n文本"},
		{"number float", "amount", 1.5, 1.5},
		{"number int", "amount", 7, 7.0},
		{"number int64", "amount", int64(-3), -3.0},
		{"number uint8", "amount", uint8(9), 9.0},
		{"number float32", "amount", float32(0.5), 0.5},
		{"number json.Number", "amount", json.Number("12.25"), 12.25},
		{"number string", "amount", "5", 5.0},
		{"number string spaces exp", "amount", " -2.5e2 ", -250.0},
		{"timestamp ms", "due", 1700000000000.0, int64(1700000000000)},
		{"timestamp int64", "due", int64(1700000000001), int64(1700000000001)},
		{"timestamp json.Number", "due", json.Number("1700000000002"), int64(1700000000002)},
		{"timestamp ms string", "due", "1700000000003", int64(1700000000003)},
		{"timestamp rfc3339", "due", "2024-01-02T08:00:00+08:00", day},
		{"timestamp rfc3339 nanos", "due", "2024-01-02T00:00:00.250Z", day + 250},
		{"timestamp date in location", "due", "2024-01-02", day},
		{"timestamp datetime in location", "due", "2024-01-02 00:00:01", day + 1000},
		{"timestamp T no zone", "due", "2024-01-02T00:01", day + 60000},
		{"timestamp time.Time", "due", time.Date(2024, 1, 2, 8, 0, 0, 0, cst), day},
		{"radio bare", "level", "A", map[string]any{"value": "A", "label": "A"}},
		{"select bare gets option label", "region", "e", map[string]any{"value": "e", "label": "East"}},
		{"select object label from options", "region", map[string]any{"value": "s", "label": "wrong", "extra": 1.0}, map[string]any{"value": "s", "label": "South"}},
		{"select without options keeps label", "free", map[string]any{"value": "v", "label": "L"}, map[string]any{"value": "v", "label": "L"}},
		{"select without options label defaults", "free", map[string]any{"value": "v"}, map[string]any{"value": "v", "label": "v"}},
		{"checkbox", "tags", []any{"x", map[string]any{"value": "y"}}, []any{map[string]any{"value": "x", "label": "x"}, map[string]any{"value": "y", "label": "y"}}},
		{"select2 free", "multi", []any{"q"}, []any{map[string]any{"value": "q", "label": "q"}}},
		{"employee1 bare id", "owner", "u_1001", map[string]any{"id": "u_1001"}},
		{"employee1 object", "owner", map[string]any{"id": "u_1", "value": "E001", "label": "Admin", "x": true}, map[string]any{"id": "u_1", "value": "E001", "label": "Admin"}},
		{"employee2", "team", []any{"u_1", map[string]any{"id": "u_2", "label": "B"}}, []any{map[string]any{"id": "u_1"}, map[string]any{"id": "u_2", "label": "B"}}},
		{"department1", "dept", "d_1", map[string]any{"id": "d_1"}},
		{"department2", "depts", []any{map[string]any{"id": "d_1", "value": "RD", "label": "研发部"}}, []any{map[string]any{"id": "d_1", "value": "RD", "label": "研发部"}}},
		{"imageupload ids", "photos", []any{"f1", "f2"}, []any{map[string]any{"id": "f1"}, map[string]any{"id": "f2"}}},
		{"fileupload refs, key case-insensitive", "files", []any{map[string]any{"id": "f1", "fileName": "合同.pdf", "url": "/api/v1/files/f1", "size": 3.0}},
			[]any{map[string]any{"id": "f1", "fileName": "合同.pdf", "name": "合同.pdf", "url": "/api/v1/files/f1"}}},
		{"fileupload refs as the web client writes them (name, §12.8.3)", "files",
			[]any{map[string]any{"id": "f1", "name": "报价单.pdf", "url": "https://hub/upload/t1/x.pdf", "uid": 17.0}},
			[]any{map[string]any{"id": "f1", "fileName": "报价单.pdf", "name": "报价单.pdf", "url": "https://hub/upload/t1/x.pdf"}}},
		{"fileupload refs with both names keep both", "files", []any{map[string]any{"id": "f1", "name": "a", "fileName": "b"}},
			[]any{map[string]any{"id": "f1", "fileName": "b", "name": "a"}}},
		{"table with given row id", "lines", []any{map[string]any{"id": "r1", "sku": "A", "QTY": "2", "color": "red", "who": "u_1"}},
			[]any{map[string]any{"id": "r1", "sku": "A", "qty": 2.0, "color": map[string]any{"value": "red", "label": "red"}, "who": map[string]any{"id": "u_1"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.Normalize(map[string]any{"name": "n", tt.key: tt.in}, false)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			stored := tt.key
			if d, ok := f.Lookup(tt.key); ok {
				stored = d.Field
			}
			if _, ok := got[tt.key]; !ok && stored == tt.key {
				t.Fatalf("key %s missing from %v", tt.key, got)
			}
			eq(t, tt.key, got[stored], tt.want)
			if len(got) != 2 {
				t.Errorf("result has %d keys, want 2: %v", len(got), got)
			}
		})
	}
}

func TestNormalizeDefaultLocation(t *testing.T) {
	f := everyType(t) // Location nil → UTC+8
	got, err := f.Normalize(map[string]any{"name": "n", "due": "2024-01-02"}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 1, 1, 16, 0, 0, 0, time.UTC).UnixMilli()
	eq(t, "due", got["due"], want)
}

func TestNormalizeErrors(t *testing.T) {
	f := everyType(t)
	tests := []struct {
		name    string
		in      map[string]any
		partial bool
		want    []string
	}{
		{"required missing on create", map[string]any{"memo": "m"}, false, []string{"data/name required"}},
		{"required null on create", map[string]any{"name": nil}, false, []string{"data/name required"}},
		{"required empty on create", map[string]any{"name": ""}, false, []string{"data/name required"}},
		{"required cleared on update", map[string]any{"name": nil}, true, []string{"data/name required"}},
		{"unknown field", map[string]any{"name": "n", "nope": 1, "$where": "x", "a.b": 1}, false,
			[]string{"data/$where unknown_field", "data/a.b unknown_field", "data/nope unknown_field"}},
		{"duplicate key case-insensitive", map[string]any{"name": "n", "memo": "a", "MEMO": "b"}, false, []string{"data/memo duplicate_field"}},
		{"input not string", map[string]any{"name": 5}, false, []string{"data/name invalid_type"}},
		{"textarea object", map[string]any{"name": "n", "memo": map[string]any{}}, false, []string{"data/memo invalid_type"}},
		{"number words", map[string]any{"name": "n", "amount": "many"}, false, []string{"data/amount invalid_type"}},
		{"number hex string", map[string]any{"name": "n", "amount": "0x10"}, false, []string{"data/amount invalid_type"}},
		{"number NaN string", map[string]any{"name": "n", "amount": "NaN"}, false, []string{"data/amount invalid_type"}},
		{"number bool", map[string]any{"name": "n", "amount": true}, false, []string{"data/amount invalid_type"}},
		{"timestamp text", map[string]any{"name": "n", "due": "tomorrow"}, false, []string{"data/due invalid_type"}},
		{"timestamp fraction", map[string]any{"name": "n", "due": 1.5}, false, []string{"data/due invalid_value"}},
		{"timestamp bool", map[string]any{"name": "n", "due": false}, false, []string{"data/due invalid_type"}},
		{"select not an option", map[string]any{"name": "n", "region": "north"}, false, []string{"data/region invalid_value"}},
		{"select number", map[string]any{"name": "n", "region": 1}, false, []string{"data/region invalid_type"}},
		{"select value number", map[string]any{"name": "n", "region": map[string]any{"value": 1}}, false, []string{"data/region/value invalid_type"}},
		{"select label number", map[string]any{"name": "n", "free": map[string]any{"value": "a", "label": 1}}, false, []string{"data/free/label invalid_type"}},
		{"checkbox not array", map[string]any{"name": "n", "tags": "x"}, false, []string{"data/tags invalid_type"}},
		{"checkbox bad elements", map[string]any{"name": "n", "tags": []any{"x", "zz", 3, ""}}, false,
			[]string{"data/tags/1 invalid_value", "data/tags/2 invalid_type", "data/tags/3 invalid_value"}},
		{"employee number", map[string]any{"name": "n", "owner": 1001}, false, []string{"data/owner invalid_type"}},
		{"employee object without id", map[string]any{"name": "n", "owner": map[string]any{"label": "A"}}, false, []string{"data/owner/id required"}},
		{"employee id number", map[string]any{"name": "n", "owner": map[string]any{"id": 1}}, false, []string{"data/owner/id invalid_type"}},
		{"employee2 not array", map[string]any{"name": "n", "team": "u_1"}, false, []string{"data/team invalid_type"}},
		{"department2 bad element", map[string]any{"name": "n", "depts": []any{true}}, false, []string{"data/depts/0 invalid_type"}},
		{"file bad element", map[string]any{"name": "n", "photos": []any{map[string]any{"fileName": "a.png"}}}, false, []string{"data/photos/0/id required"}},
		{"file name not a string", map[string]any{"name": "n", "photos": []any{map[string]any{"id": "f1", "name": 5}}}, false, []string{"data/photos/0/name invalid_type"}},
		{"table not array", map[string]any{"name": "n", "lines": map[string]any{}}, false, []string{"data/lines invalid_type"}},
		{"table rows", map[string]any{"name": "n", "lines": []any{
			"row",
			map[string]any{"sku": "A", "nope": 1},
			map[string]any{"qty": "x"},
			map[string]any{"sku": "B", "id": 5, "color": "blue", "marks": []any{"m"}},
		}}, false, []string{
			"data/lines/0 invalid_type", "data/lines/1/nope unknown_field", "data/lines/2/qty invalid_type",
			"data/lines/2/sku required", "data/lines/3/color invalid_value", "data/lines/3/id invalid_type",
		}},
		{"partial update still checks given keys", map[string]any{"amount": "x", "nope": 1}, true,
			[]string{"data/amount invalid_type", "data/nope unknown_field"}},
		{"partial update table rows enforce required columns", map[string]any{"lines": []any{map[string]any{"qty": 1}}}, true,
			[]string{"data/lines/0/sku required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.Normalize(tt.in, tt.partial)
			if got != nil {
				t.Errorf("result = %v, want nil on error", got)
			}
			eq(t, "details", details(t, err), tt.want)
		})
	}
}

func TestNormalizeEmptyAndPartial(t *testing.T) {
	f := everyType(t)

	// On create, empty optional values are left out.
	got, err := f.Normalize(map[string]any{"name": "n", "memo": "", "amount": nil, "due": "", "region": map[string]any{},
		"tags": []any{}, "owner": "", "photos": []any{}, "lines": []any{}}, false)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "create with empties", got, map[string]any{"name": "n"})

	// On update only the given keys are checked (name is required but absent),
	// and empties are kept as nil: "clear".
	got, err = f.Normalize(map[string]any{"Amount": 90, "region": nil, "tags": []any{}, "memo": ""}, true)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "partial", got, map[string]any{"amount": 90.0, "region": nil, "tags": nil, "memo": nil})

	// Nil and empty input.
	for _, partial := range []bool{false, true} {
		got, err = (&Form{}).Normalize(nil, partial)
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("empty form, nil data, partial=%v: %v, %v", partial, got, err)
		}
	}
	_, err = f.Normalize(nil, false)
	eq(t, "nil data on create", details(t, err), []string{"data/name required"})
}

func TestNormalizeDoesNotMutate(t *testing.T) {
	f := everyType(t)
	build := func() map[string]any {
		return map[string]any{
			"NAME":   "n",
			"region": map[string]any{"value": "e", "label": "x"},
			"owner":  map[string]any{"id": "u", "extra": 1.0},
			"tags":   []any{"x", map[string]any{"value": "y"}},
			"photos": []any{"f1"},
			"lines":  []any{map[string]any{"sku": "A", "qty": "3"}, map[string]any{"sku": "B", "id": "r2"}},
		}
	}
	in, want := build(), build()
	out, err := f.Normalize(in, false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("input mutated:\n got %#v\nwant %#v", in, want)
	}
	// Mutating the output must not reach the input either.
	out["region"].(map[string]any)["label"] = "changed"
	out["lines"].([]any)[0].(map[string]any)["sku"] = "changed"
	if !reflect.DeepEqual(in, want) {
		t.Errorf("output aliases input")
	}
	if _, ok := out["name"]; !ok {
		t.Errorf("key not stored in field case: %v", out)
	}
	rows := out["lines"].([]any)
	if rows[1].(map[string]any)["id"] != "r2" || rows[0].(map[string]any)["id"] == rows[1].(map[string]any)["id"] {
		t.Errorf("row ids = %v", rows)
	}
}
