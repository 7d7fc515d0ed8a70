package ordjson

import (
	"bytes"
	"encoding/json"
	"testing"
)

type kv struct {
	k string
	v any
}

type obj []kv

func (o obj) Len() int                  { return len(o) }
func (o obj) Field(i int) (string, any) { return o[i].k, o[i].v }
func (o obj) MarshalJSON() ([]byte, error) {
	return Marshal(o)
}

func encodingJSON(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimRight(buf.Bytes(), "\n"))
}

// Write agrees with encoding/json without HTML escaping on every shape the
// connectors build; Objects keep their key order, nested or in slices.
func TestWriteMatchesEncodingJSON(t *testing.T) {
	vals := []any{nil, "plain", "quote\" back\\ nl\n tab\t cr\r ctl\x01 <div>&</div>", "中文\u2028\u2029", "bad\xffutf8",
		map[string]any{"b": int64(1), "a": []any{1.5, true, nil, "x"}}, []string{"a", "b"}, 3, int64(-7), 0.25,
		map[string]any{}, []any{}, struct{ A string }{"<x>"}}
	for _, v := range vals {
		got, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := encodingJSON(t, v); string(got) != want {
			t.Errorf("Marshal(%#v) = %s, want %s", v, got, want)
		}
	}
	o := obj{{"z", obj{{"y", []any{obj{{"x", "<"}}}}}}, {"a", 1}, {"s", []obj{{{"q", "&"}}}}}
	got, err := Marshal(o)
	if err != nil || string(got) != `{"z":{"y":[{"x":"<"}]},"a":1,"s":[{"q":"&"}]}` {
		t.Errorf("ordered = %s, %v", got, err)
	}
}

func FuzzWriteString(f *testing.F) {
	for _, s := range []string{"", "a", "<>&", "\u2028", "\xff", "\"\\\n\t\r\x00", "中文"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		WriteString(&buf, s)
		if want := encodingJSON(t, s); buf.String() != want {
			t.Fatalf("WriteString(%q) = %s, want %s", s, buf.String(), want)
		}
	})
}
