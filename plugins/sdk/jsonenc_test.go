package sdk_test

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// sameAsStd checks that AppendJSON(v) is json.Marshal(v), byte for byte
// (or both fail).
func sameAsStd(t *testing.T, v any) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	got, err := sdk.AppendJSON([]byte("prefix:"), v)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%#v: error %v, json.Marshal's %v", v, err, wantErr)
	}
	if err == nil && !bytes.Equal(got, append([]byte("prefix:"), want...)) {
		t.Fatalf("%#v:\n got %s\nwant prefix:%s", v, got, want)
	}
}

func TestAppendJSONIsMarshal(t *testing.T) {
	self := map[string]any{}
	self["self"] = self
	type point struct {
		X int `json:"x"`
		Y string
	}
	for name, v := range map[string]any{
		"nil":            nil,
		"strings":        []any{"", "plain", `quote " backslash \ slash /`, "<script>&amp;</script>", "\b\f\n\r\t\x00\x01\x1f\x7f", "中文 ✓ 🙂", "bad \xff\xfe utf8", "\u2028\u2029", "a\u2028b"},
		"numbers":        []any{0.0, -0.0, 1.0, -1.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, 5e-324, math.MaxFloat64, int64(math.MinInt64), int64(math.MaxInt64), 42, -7},
		"bools":          []any{true, false},
		"doc":            sdk.Doc{"id": "r1", "data": map[string]any{"F2": int64(5), "F1": "alpha", "rows": []any{map[string]any{"b": 1.0, "a": nil}}}, "flowStatus": int64(0)},
		"nil map":        map[string]any(nil),
		"nil slice":      []any(nil),
		"nil strings":    []string(nil),
		"nil docs":       []map[string]any(nil),
		"empty":          map[string]any{"a": []any{}, "b": map[string]any{}, "c": []string{}},
		"escaped keys":   map[string]any{"<k>": 1.0, "a\"b": 2.0, "\xff": 3.0, "": 4.0, "Z": 5.0, "a": 6.0},
		"string maps":    map[string]any{"to": map[string]string{"u2": "G2", "u1": "<G1>"}},
		"doc slices":     []map[string]any{{"b": 1.0, "a": 2.0}, nil},
		"std: struct":    map[string]any{"p": point{X: 1, Y: "<y>"}, "t": time.Unix(0, 0).UTC()},
		"std: number":    map[string]any{"n": json.Number("12.50"), "raw": json.RawMessage(`{ "z" : 1 }`), "bytes": []byte("hi")},
		"std: float32":   []any{float32(0.1), uint8(3), int32(-3)},
		"std: NaN":       map[string]any{"x": math.NaN()},
		"std: Inf":       []any{math.Inf(1)},
		"std: bad value": map[string]any{"ch": make(chan int)},
		"std: cycle":     self,
	} {
		t.Run(name, func(t *testing.T) { sameAsStd(t, v) })
	}
}

// FuzzAppendJSON: any JSON document decoded the way the Host API decodes
// documents (integral numbers int64, others float64) and any string
// encode as json.Marshal does.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x",null,true,{"b":"<&>"}]}`, `"\u2028\ud800"`, `[1e21,1e-7,-0]`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsStd(t, string(b))
		if v, err := sdk.FromProto().JSONValue(b); err == nil {
			sameAsStd(t, v)
		}
	})
}
