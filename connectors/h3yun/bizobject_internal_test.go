package h3yun

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// TestBizObjectIsItsMap: a rendered BizObject encodes exactly as the map
// it stands for (json.Marshal's bytes: sorted keys, the same escaping),
// through sdk.AppendJSON and through encoding/json, for the test form
// (child table, references, options), with and without owner
// departments and aliases, and for a form whose fields are named like
// system keys (the field wins, as it did in a map).
func TestBizObjectIsItsMap(t *testing.T) {
	withSystemNames := testConverter(true)
	withSystemNames.form = &sdk.Form{Key: "odd", Fields: []sdk.Field{{Field: "Name", Type: "input"}, {Field: "Status", Type: "number"},
		{Field: "<b>&", Type: "input"}, {Field: "Rows", Type: "tableform", Columns: []sdk.Field{{Field: "ObjectId", Type: "input"}, {Field: "x", Type: "number"}}}}}
	aliased := testConverter(false)
	aliased.aliases = map[string]map[string]string{sdk.AliasKindRecord: {"r1": "GR1"}, sdk.AliasKindUser: {"u1": "GU1"}, sdk.AliasKindDepartment: {"d1": "GD1"}}
	doc := sdk.Doc{"id": "r1", "dataTitle": "标题 <x>", "flowStatus": int64(2), "wfInstanceId": "w1",
		"createTime": int64(1735777800000), "updateTime": int64(1735777800123),
		"createBy": map[string]any{"id": "u1", "label": "张三"}, "updateBy": map[string]any{"id": "u2", "label": "李四"},
		"data": map[string]any{"F0000001": "12", "F0000002": 3.5, "F0000003": int64(1735777800000), "F0000006": "lo",
			"F0000007": []any{map[string]any{"id": "u1"}, map[string]any{"id": "u2"}}, "F0000008": map[string]any{"id": "u3"},
			"F0000009": []any{"a", "b"}, "F0000005": []any{map[string]any{"id": "f1"}},
			"D000024Fitems": []any{map[string]any{"id": "row1", "F0000004": "a", "F0000010": 2.0}, map[string]any{"F0000004": "b"}},
			"Name":          "field name", "Status": 7.0, "<b>&": "<&>", "Rows": []any{map[string]any{"id": "c1", "ObjectId": "shadow", "x": 1.0}}}}
	dir := &directory{userDept: map[string]string{"u1": "d1"}, deptName: map[string]string{"d1": "总部"}}
	for name, tc := range map[string]struct {
		cv  *converter
		dir *directory
	}{
		"form":                    {testConverter(false), nil},
		"workflow form, dept":     {testConverter(true), dir},
		"aliases":                 {aliased, dir},
		"fields named like keys":  {withSystemNames, dir},
		"no data, no departments": {testConverter(false), &directory{}},
	} {
		t.Run(name, func(t *testing.T) {
			d := doc
			if name == "no data, no departments" {
				d = sdk.Doc{"id": "r2"}
			}
			obj := tc.cv.toBizObject(d, tc.dir)
			want, err := json.Marshal(map[string]any{"BizObject": obj.Map()})
			if err != nil {
				t.Fatal(err)
			}
			got, err := sdk.AppendJSON(nil, map[string]any{"BizObject": obj})
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("AppendJSON:\n got %s (%v)\nwant %s", got, err, want)
			}
			if std, err := json.Marshal(map[string]any{"BizObject": obj}); err != nil || !bytes.Equal(std, want) {
				t.Fatalf("json.Marshal:\n got %s (%v)\nwant %s", std, err, want)
			}
		})
	}
	if m := withSystemNames.toBizObject(doc, nil).Map(); m["Name"] != "field name" || m["Status"] != 7.0 {
		t.Errorf("fields named like system keys: Name %v, Status %v", m["Name"], m["Status"])
	}
}

// TestLayoutCache: a form's layout is built once per id and version and
// reused by later requests (new converters); a form with the same id and
// version but other fields gets a layout of its own, so its BizObjects
// still carry exactly its fields.
func TestLayoutCache(t *testing.T) {
	form := func(fields ...string) *sdk.Form {
		f := &sdk.Form{ID: "layout-test", Key: "k", Version: 42}
		for _, n := range fields {
			f.Fields = append(f.Fields, sdk.Field{Field: n, Type: "input"})
		}
		return f
	}
	conv := func(f *sdk.Form) *converter { c := testConverter(false); c.form = f; return c }
	a, b := conv(form("F1", "F2")).layout(), conv(form("F1", "F2")).layout()
	if a != b {
		t.Error("the same form's layout was built twice")
	}
	other := conv(form("F1", "F3"))
	if l := other.layout(); l == a || l.fields[1] != "F3" {
		t.Fatalf("a form with other fields got layout %v", l.keys)
	}
	m := other.toBizObject(sdk.Doc{"id": "r", "data": map[string]any{"F3": "x"}}, nil).Map()
	if _, has := m["F2"]; has || m["F3"] != "x" {
		t.Errorf("BizObject %v: want F3 and no F2", m)
	}
	if unversioned := conv(&sdk.Form{ID: "layout-test", Fields: form("F9").Fields}); unversioned.layout().fields[0] != "F9" {
		t.Error("a form without a version")
	}
}
