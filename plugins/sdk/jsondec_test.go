package sdk_test

import (
	"reflect"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// sameDoc checks that the fast decoder, wherever it answers, answers as
// encoding/json does; fast reports whether it answered.
func sameDoc(t *testing.T, b []byte) (fast bool) {
	t.Helper()
	got, ok := sdk.DecodeDocFast(b)
	if !ok {
		return false
	}
	want, err := sdk.DecodeDocStd(b)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: fast %#v, encoding/json %#v (%v)", b, got, want, err)
	}
	return true
}

func TestDecodeDocFast(t *testing.T) {
	for _, tc := range []struct {
		in   string
		fast bool // false: left to encoding/json
	}{
		{`{}`, true},
		{` {"id":"r1","n":5,"f":2.5,"neg":-0,"e":1e3,"big":9223372036854775808,"huge":1e999,"t":true,"z":false,"nil":null} `, true},
		{`{"data":{"rows":[{"a":[]},{"b":{}}],"list":[1,"x",null,[2]]}}`, true},
		{`{"s":"中文 \u003cb\u003e \"q\" \\ \/ \b\f\n\r\t \ud83d\ude00 \u00e9 \ufffd"}`, true},
		{`{"dup":1,"dup":2}`, true},
		{"{\"raw\":\"\xef\xbf\xbd ok\"}", true},
		{`{"lone":"\ud800"}`, false},
		{`{"pair?":"\udc00\ud800"}`, false},
		{"{\"bad\":\"\xff\"}", false},
		{"{\"ctl\":\"\x01\"}", false},
		{`{"a":1} {"b":2}`, false},
		{`{"a":01}`, false},
		{`{"a":1.}`, false},
		{`{"a":-}`, false},
		{`{"a":.5}`, false},
		{`{"a":1e}`, false},
		{`{"a":tru}`, false},
		{`{"a":1,}`, false},
		{`{"a" 1}`, false},
		{`{a:1}`, false},
		{`{"a":"\x"}`, false},
		{`{"a":"\u12"}`, false},
		{`[1]`, false},
		{`null`, false},
		{`{"a":[1,]}`, false},
		{`{"a":`, false},
	} {
		if fast := sameDoc(t, []byte(tc.in)); fast != tc.fast {
			t.Errorf("%q: fast path %v, want %v", tc.in, fast, tc.fast)
		}
		// Whatever path, Doc's answer is encoding/json's.
		got, err := sdk.FromProto().Doc([]byte(tc.in))
		want, werr := sdk.DecodeDocStd([]byte(tc.in))
		if (err != nil) != (werr != nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: Doc %#v %v, encoding/json %#v %v", tc.in, got, err, want, werr)
		}
	}
}

// TestDocsShareKeys: a page's documents decoded together (one key table
// for the page) are each what encoding/json makes of them, whatever the
// order: keys with escapes, non-ASCII keys, a raw control character
// after the same key arrived escaped.
func TestDocsShareKeys(t *testing.T) {
	page := []string{`{"id":"r1","数据":{"a\u0062":1,"ab":2}}`, `{"ab":3,"数据":null,"\u0001":4}`, "{\"\x01\":5}", `{"id":"r2","ab":[{"ab":6}]}`}
	for _, order := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 2, 0, 3}, {0, 1, 3}, {3, 1, 0}} {
		var bs [][]byte
		for _, i := range order {
			bs = append(bs, []byte(page[i]))
		}
		got, gerr := sdk.FromProto().Docs(bs)
		var want []sdk.Doc
		var werr error
		for _, b := range bs {
			d, err := sdk.DecodeDocStd(b)
			if err != nil {
				werr = err
				break
			}
			want = append(want, d)
		}
		if (gerr != nil) != (werr != nil) || gerr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("order %v: Docs %#v %v, encoding/json %#v %v", order, got, gerr, want, werr)
		}
	}
}

// FuzzDecodeDoc: wherever the fast decoder answers, it answers as
// encoding/json does.
func FuzzDecodeDoc(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x",null,true,{"b":"<&>"}]}`, `{"s":"\ud83d\ude00\u2028"}`, `{"n":-0.0e+5}`, "{\"k\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { sameDoc(t, b) })
}

// BenchmarkDocCodec: a record as the Host API carries it, encoded and
// decoded by the fast paths and by encoding/json.
//
//	go test ./plugins/sdk -run X -bench DocCodec -benchmem
func BenchmarkDocCodec(b *testing.B) {
	rec := sdk.Doc{"id": "0d6b1f7e-94a1-4c5e-9a57-3f3a7b6c2d10", "corpId": "t-demo", "appId": "app1", "formId": "form-demo",
		"createTime": int64(1700000000000), "updateTime": int64(1700000000000), "flowStatus": int64(0),
		"createBy": map[string]any{"id": "aea4d7a7-d162-4c77-9c44-7bd9cb8316a5", "label": "张三", "value": "E002"},
		"updateBy": map[string]any{"id": "aea4d7a7-d162-4c77-9c44-7bd9cb8316a5", "label": "张三", "value": "E002"},
		"creator": map[string]any{"id": "aea4d7a7-d162-4c77-9c44-7bd9cb8316a5", "code": "E002", "empName": "张三",
			"departmentId": "18f923a7-5a5e-426d-94ae-a55ad1a4b240", "department": map[string]any{"id": "18f923a7-5a5e-426d-94ae-a55ad1a4b240", "name": "深圳公司", "code": nil}},
		"data": map[string]any{"F0000001": "alpha <beta>", "F0000002": 5.25, "F0000003": int64(1735777800000), "F0000006": "hi",
			"F0000007":      []any{map[string]any{"id": "aea4d7a7-d162-4c77-9c44-7bd9cb8316a5"}},
			"D000024Fitems": []any{map[string]any{"F0000004": "a", "id": "row1"}, map[string]any{"F0000004": "b", "id": "row2"}}}}
	enc, err := jsonMarshal(rec)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode/fast", func(b *testing.B) {
		for b.Loop() {
			_, _ = sdk.AppendJSON(nil, rec)
		}
	})
	b.Run("encode/std", func(b *testing.B) {
		for b.Loop() {
			_, _ = jsonMarshal(rec)
		}
	})
	b.Run("decode/fast", func(b *testing.B) {
		for b.Loop() {
			_, _ = sdk.DecodeDocFast(enc)
		}
	})
	page := make([][]byte, 50)
	for i := range page {
		page[i] = enc
	}
	b.Run("decode-page50/fast", func(b *testing.B) {
		for b.Loop() {
			_, _ = sdk.FromProto().Docs(page)
		}
	})
	b.Run("decode/std", func(b *testing.B) {
		for b.Loop() {
			_, _ = sdk.DecodeDocStd(enc)
		}
	})
}
