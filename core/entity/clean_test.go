package entity

import (
	"reflect"
	"testing"
)

func TestClean(t *testing.T) {
	shared := map[string]any{"id": "u_1", "label": "Admin"}
	for _, tc := range []struct {
		name string
		in   map[string]any
		want map[string]any
	}{
		{"secrets and nulls", map[string]any{"id": "a", "passwordHash": "h", "deleteFlag": true, "gone": nil},
			map[string]any{"id": "a"}},
		{"nested nulls", map[string]any{"data": map[string]any{"a": nil, "b": []any{nil, int64(1), map[string]any{"c": nil}}}},
			map[string]any{"data": map[string]any{"b": []any{int64(1), map[string]any{}}}}},
		{"nil map and slice become empty", map[string]any{"m": map[string]any(nil), "s": []any(nil), "deep": []any{map[string]any(nil)}},
			map[string]any{"m": map[string]any{}, "s": []any{}, "deep": []any{map[string]any{}}}},
		{"clean subtrees", map[string]any{"createBy": shared, "data": map[string]any{"x": []any{"y"}}},
			map[string]any{"createBy": shared, "data": map[string]any{"x": []any{"y"}}}},
	} {
		in := deepCopy(tc.in).(map[string]any)
		got := clean(in)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: clean = %#v, want %#v", tc.name, got, tc.want)
		}
		if !reflect.DeepEqual(in, tc.in) {
			t.Errorf("%s: clean changed its input: %#v", tc.name, in)
		}
		if owned := cleanOwned(deepCopy(tc.in).(map[string]any)); !reflect.DeepEqual(owned, tc.want) {
			t.Errorf("%s: cleanOwned = %#v, want %#v", tc.name, owned, tc.want)
		}
		// The answer's top level is its own: adding or removing members
		// (redaction, $expand) leaves the document alone.
		got["added"] = 1
		delete(got, "id")
		if _, ok := in["added"]; ok || (tc.in["id"] != nil && in["id"] == nil) {
			t.Errorf("%s: the answer's top level is the document's", tc.name)
		}
	}
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		if x == nil {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
