package mongo

import (
	"unicode/utf8"

	"math"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/store"
)

func roundTrip(t *testing.T, doc store.Doc) store.Doc {
	t.Helper()
	d, err := encodeDoc(doc, true)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	raw, err := bson.Marshal(d)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	got, err := decodeDoc(raw)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return got
}

func TestCodecRoundTrip(t *testing.T) {
	in := store.Doc{
		"id": "65a1b2c3d4e5f60718293a4b", "corpId": "t1",
		"n":       int64(math.MaxInt64),
		"neg":     int64(-7),
		"f":       1.25,
		"whole":   3.0, // integral numbers come back as int64
		"big":     1e300,
		"goint":   42,
		"s":       "华东 $where",
		"b":       false,
		"nil":     nil,
		"list":    []any{int64(1), 2.5, "x", nil, []any{true}, map[string]any{"k": 1.0}},
		"strings": []string{"a", "b"},
		"data": map[string]any{
			"amount": 100.0,
			"items":  []any{map[string]any{"qty": int64(3), "id": "row1"}},
			"owner":  map[string]any{"id": "u1", "label": "Ann"},
			"dotted": map[string]string{"a.b": "kept"},
		},
	}
	want := store.Doc{
		"id": "65a1b2c3d4e5f60718293a4b", "corpId": "t1",
		"n": int64(math.MaxInt64), "neg": int64(-7), "f": 1.25, "whole": int64(3), "big": 1e300,
		"goint": int64(42), "s": "华东 $where", "b": false, "nil": nil,
		"list":    []any{int64(1), 2.5, "x", nil, []any{true}, map[string]any{"k": int64(1)}},
		"strings": []any{"a", "b"},
		"data": map[string]any{
			"amount": int64(100),
			"items":  []any{map[string]any{"qty": int64(3), "id": "row1"}},
			"owner":  map[string]any{"id": "u1", "label": "Ann"},
			"dotted": map[string]any{"a.b": "kept"},
		},
	}
	if got := roundTrip(t, in); !reflect.DeepEqual(got, want) {
		t.Errorf("round trip\n got %#v\nwant %#v", got, want)
	}
}

func TestEncodeDocLayout(t *testing.T) {
	d, err := encodeDoc(store.Doc{"id": "a", "corpId": "t", "z": 1, "data": map[string]any{"y": 1.5, "x": "s"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"_id":"a","corpId":"t","data":{"x":"s","y":{"$numberDouble":"1.5"}},"z":{"$numberLong":"1"}}`
	if got := canon(t, d); got != want {
		t.Errorf("insert doc\n got %s\nwant %s", got, want)
	}
	r, err := encodeDoc(store.Doc{"id": "a", "corpId": "t"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := canon(t, r); got != `{"corpId":"t"}` {
		t.Errorf("replacement %s keeps _id", got)
	}
}

func TestEncodeDocRejects(t *testing.T) {
	bad := []store.Doc{
		{"corpId": "t"},                      // no id
		{"id": "", "corpId": "t"},            // empty id
		{"id": 5, "corpId": "t"},             // id not a string
		{"id": "a"},                          // no corpId
		{"id": "a", "corpId": "t", "_id": 1}, // reserved key
		{"id": "a", "corpId": "t", "$where": "sleep(1)"},
		{"id": "a", "corpId": "t", "data": map[string]any{"$gt": 1}},
		{"id": "a", "corpId": "t", "data": []any{map[string]any{"x\x00": 1}}},
		{"id": "a", "corpId": "t", "m": map[int]string{1: "x"}},
		{"id": "a", "corpId": "t", "u": uint64(math.MaxUint64)},
	}
	for i, d := range bad {
		if _, err := encodeDoc(d, true); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("doc %d %v: err = %v, want invalid", i, d, err)
		}
	}
}

// TestDecodeForeignTypes: documents written by other programs (the
// original's C# driver) decode into the Doc contract.
func TestDecodeForeignTypes(t *testing.T) {
	oid := primitive.NewObjectID()
	when := time.UnixMilli(1704038400123)
	dec, _ := primitive.ParseDecimal128("12.50")
	decInt, _ := primitive.ParseDecimal128("7")
	raw, err := bson.Marshal(bson.D{
		{Key: "_id", Value: oid},
		{Key: "i32", Value: int32(5)},
		{Key: "date", Value: primitive.NewDateTimeFromTime(when)},
		{Key: "dec", Value: dec},
		{Key: "decInt", Value: decInt},
		{Key: "ref", Value: oid},
		{Key: "ts", Value: primitive.Timestamp{T: 10, I: 1}},
		{Key: "bin", Value: primitive.Binary{Data: []byte{1, 2}}},
		{Key: "undef", Value: primitive.Undefined{}},
		{Key: "negzero", Value: math.Copysign(0, -1)},
		{Key: "nested", Value: bson.M{"a": bson.A{int32(1), bson.D{{Key: "_id", Value: "keep"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeDoc(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Doc{
		"id": oid.Hex(), "i32": int64(5), "date": int64(1704038400123), "dec": 12.5, "decInt": int64(7),
		"ref": oid.Hex(), "ts": int64(10000), "bin": []byte{1, 2}, "undef": nil, "negzero": int64(0),
		"nested": map[string]any{"a": []any{int64(1), map[string]any{"_id": "keep"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decode\n got %#v\nwant %#v", got, want)
	}
	if _, err := decodeDoc(bson.Raw{1, 2, 3}); errs.CodeOf(err) != errs.Internal || err == nil {
		t.Errorf("corrupt document: err = %v, want internal", err)
	}
}

func TestIndexName(t *testing.T) {
	if got := indexName("data.amount"); got != "corpId_1_data.amount_1" {
		t.Errorf("indexName = %q", got)
	}
	long := ""
	for range 40 {
		long += "字"
	}
	a, b := indexName("data."+long), indexName("data."+long+"x")
	if len(a) > maxIndexName || len(b) > maxIndexName || a == b {
		t.Errorf("long names %q (%d), %q (%d): want distinct, at most %d bytes", a, len(a), b, len(b), maxIndexName)
	}
	for _, name := range []string{a, b} {
		if !utf8.ValidString(name) {
			t.Errorf("%q is not valid UTF-8", name)
		}
	}
}
