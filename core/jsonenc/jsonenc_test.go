package jsonenc

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"
)

// reference is what the fast encoder must reproduce byte for byte.
func reference(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return buf.Bytes(), err
}

type point struct {
	X int    `json:"x"`
	Y string `json:"y,omitempty"`
}

type marshaler struct{}

func (marshaler) MarshalJSON() ([]byte, error) { return []byte(`{"custom" : true}`), nil }

func TestMarshalMatchesEncodingJSON(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	deep := any("leaf")
	for range 600 {
		deep = []any{map[string]any{"d": deep}}
	}
	for _, tc := range []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"scalars", map[string]any{"t": true, "f": false, "n": nil, "i": int64(-42), "int": 7, "i32": int32(3)}},
		{"floats", []any{0.0, math.Copysign(0, -1), 1.5, 1e20, 1e21, 123456789e15, 1e-6, 9.99e-7, 1e-7, -2.5e-9,
			math.MaxFloat64, math.SmallestNonzeroFloat64, 0.1, 1.0 / 3}},
		{"strings", []any{"", "plain", "订单 华东", "😀", "q\"b\\s/", "\b\f\n\r\t\x00\x01\x1f\x7f",
			"<html>&amp;", "\u2028\u2029", "bad\xffutf8\xc3", "\xed\xa0\x80"}},
		{"key order", map[string]any{"b": 1, "a": 2, "B": 3, "": 4, "ä": 5, "aa": 6, "a\"": 7}},
		{"nested", map[string]any{"data": map[string]any{"items": []any{map[string]any{"qty": int64(2)}, []any{}}},
			"m": map[string]any{}, "nilmap": map[string]any(nil), "nilslice": []any(nil)}},
		{"typed slices and maps", map[string]any{"rows": []map[string]any{{"id": "a"}, {"id": "b"}}, "strs": []string{"x", "y"},
			"nostrs": []string(nil), "ss": map[string]string{"k": "v", "a": "\n"}, "norows": []map[string]any(nil)}},
		{"other types", map[string]any{"struct": point{X: 1}, "ptr": &point{Y: "y"}, "num": json.Number("12.50"),
			"time": time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC), "bytes": []byte("hi"), "u8": uint8(9),
			"ints": []int64{1, 2}, "mi": map[string]int{"z": 1}, "marshaler": marshaler{}, "raw": json.RawMessage(`[1, 2]`)}},
		{"deep", deep},
	} {
		want, werr := reference(tc.v)
		got, gerr := Marshal(tc.v)
		if werr != nil || gerr != nil {
			t.Errorf("%s: errors %v / %v", tc.name, gerr, werr)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, want)
		}
		app, err := Append([]byte("x"), tc.v)
		if err != nil || !bytes.Equal(app, append([]byte("x"), bytes.TrimSuffix(want, []byte("\n"))...)) {
			t.Errorf("%s: Append = %s, %v", tc.name, app, err)
		}
	}
	// Unencodable values fail as encoding/json fails.
	for _, v := range []any{math.NaN(), map[string]any{"x": []any{math.Inf(1)}}, cyclic, map[string]any{"c": make(chan int)}} {
		_, werr := reference(v)
		_, gerr := Marshal(v)
		if werr == nil || gerr == nil || gerr.Error() != werr.Error() {
			t.Errorf("%T: error %v, want %v", v, gerr, werr)
		}
		var uv *json.UnsupportedValueError
		var ut *json.UnsupportedTypeError
		if errors.As(werr, &uv) != errors.As(gerr, &uv) || errors.As(werr, &ut) != errors.As(gerr, &ut) {
			t.Errorf("%T: error type %T, want %T", v, gerr, werr)
		}
	}
}

// FuzzMarshal: any JSON document, decoded as the store decodes it (numbers
// as int64 or float64) or as encoding/json does, encodes as encoding/json
// encodes it; and so does any string.
func FuzzMarshal(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x"],"b":{"c":null}}`, `"\u2028<>&"`, `[1e300,-0.0,1e-7]`, "\"\xff\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		check := func(v any) {
			want, werr := reference(v)
			got, gerr := Marshal(v)
			if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
				t.Fatalf("%q: got %s (%v), want %s (%v)", text, got, gerr, want, werr)
			}
			want, werr = json.Marshal(v)
			got, gerr = AppendEscapeHTML([]byte("p:"), v)
			if (werr == nil) != (gerr == nil) || werr == nil && !bytes.Equal(got, append([]byte("p:"), want...)) {
				t.Fatalf("%q: AppendEscapeHTML got %s (%v), json.Marshal %s (%v)", text, got, gerr, want, werr)
			}
		}
		check(text)
		var v any
		if json.Unmarshal([]byte(text), &v) == nil {
			check(v)
			check(intsOf(v))
		}
	})
}

// intsOf turns integral float64s into int64 (the store's number rule).
func intsOf(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = intsOf(e)
		}
	case []any:
		for i, e := range x {
			x[i] = intsOf(e)
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			return int64(x)
		}
	}
	return v
}

func BenchmarkMarshal(b *testing.B) {
	row := map[string]any{"id": "0192a3b4c5d6e7f8a9b0c1d2", "corpId": "t1", "formId": "f_contract", "appId": "demo",
		"flowStatus": int64(0), "dataTitle": "r12", "createTime": int64(1765000000000), "updateTime": int64(1765000000000),
		"data":     map[string]any{"title": "r12", "party": "ACME", "amount": int64(12)},
		"createBy": map[string]any{"id": "u_1", "value": "admin", "label": "Admin"},
		"updateBy": map[string]any{"id": "u_1", "value": "admin", "label": "Admin"}}
	page := map[string]any{"value": func() []map[string]any {
		out := make([]map[string]any, 50)
		for i := range out {
			out[i] = row
		}
		return out
	}()}
	b.Run("jsonenc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Marshal(page); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := reference(page); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// selfAppender encodes itself (an Appender), with the bytes of its
// MarshalJSON.
type selfAppender struct{ s string }

func (a selfAppender) AppendJSON(dst []byte) ([]byte, error) {
	dst, err := AppendEscapeHTML(append(dst, `{"s":`...), a.s)
	return append(dst, '}'), err
}

func (a selfAppender) MarshalJSON() ([]byte, error) { return a.AppendJSON(nil) }

// Both modes, across shared map shapes (the remembered quoted keys differ
// by mode), with an Appender, against encoding/json.
func TestEscapeHTMLModes(t *testing.T) {
	v := []any{map[string]any{"<k>": "a&b", "x": map[string]string{">": "<"}}, []string{"&"}, selfAppender{"<&>"}}
	for range 2 {
		want, _ := reference(v)
		got, err := Marshal(v)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Marshal: got %s (%v)\nwant %s", got, err, want)
		}
		want, _ = json.Marshal(v)
		got, err = AppendEscapeHTML(nil, v)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("AppendEscapeHTML: got %s (%v)\nwant %s", got, err, want)
		}
	}
}

// Maps of remembered shapes: same sizes with other keys, more shapes than
// an encoder remembers, nested, across calls.
func TestShapesMatchEncodingJSON(t *testing.T) {
	var rows []any
	for i := range 40 {
		m := map[string]any{"id": i, "a": "x", "b": []any{map[string]any{"k": i}}}
		switch i % 5 {
		case 1:
			delete(m, "a")
			m["c"] = true // same size, another key
		case 2:
			m[string(rune('d'+i))] = i // a new shape each time
		case 3:
			m = map[string]any{"x": m, "y": nil}
		}
		rows = append(rows, m)
	}
	for range 3 {
		want, _ := reference(rows)
		got, err := Marshal(rows)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("got %s (%v)\nwant %s", got, err, want)
		}
	}
}
