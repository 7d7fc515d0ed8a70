package sqlite

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// jsonbPair returns, for JSON text, what SQLite's jsonb() makes of it and
// the document the text path (json() then decodeDoc) reads back.
func jsonbPair(t testing.TB, s *Store, text string) (blob []byte, want store.Doc, err error) {
	t.Helper()
	ctx := context.Background()
	if err := s.db.QueryRowContext(ctx, `SELECT jsonb(?)`, text).Scan(&blob); err != nil {
		return nil, nil, err
	}
	var back []byte
	if err := s.db.QueryRowContext(ctx, `SELECT json(?)`, blob).Scan(&back); err != nil {
		t.Fatalf("json(jsonb(%s)): %v", text, err)
	}
	want, err = decodeDoc(back)
	return blob, want, err
}

// The JSONB decoder gives exactly the document the text path gives.
func TestDecodeJSONBMatchesText(t *testing.T) {
	s := newTestStore(t)
	defer s.Close()
	for _, text := range []string{
		`{}`,
		`{"id":"r1","corpId":"t1","n":null,"t":true,"f":false}`,
		`{"i":0,"neg":-17,"big":9223372036854775807,"huge":9223372036854775808,"min":-9223372036854775808}`,
		`{"f":1.5,"e":1e3,"e2":1.0e+2,"z":5.0,"negz":-0,"tiny":1e-300,"over":1e400,"frac":0.1}`,
		`{"s":"plain","cjk":"订单 华东","emoji":"😀","empty":""}`,
		`{"esc":"a\"b\\c\/d\n\t\r\b\f","u":"\u00e9\u4e2d\ud83d\ude00","lone":"\ud800x","ctl":"\u0001"}`,
		`{"k\"ey":1,"\u6c49":2}`,
		`{"a":[],"b":[1,"x",null,[2,[3]],{"c":{}}],"o":{"p":{"q":{"r":[true,false]}}}}`,
		`{"dup":1,"dup":2}`,
		`{"inf":Infinity,"ninf":-Infinity}`,
		`{"long":"` + string(make([]byte, 0)) + `0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"}`,
	} {
		blob, want, err := jsonbPair(t, s, text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		got, ok := decodeJSONB(blob)
		if !ok {
			t.Errorf("%s: decodeJSONB refused jsonb() output % x", text, blob)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %#v\nwant %#v", text, got, want)
		}
	}
}

// What the decoder does not read (JSON5 forms, JSON text, truncated or
// non-object roots) it refuses, and Get/Find read it through json().
func TestDecodeJSONBFallback(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	defer s.Close()
	for _, bad := range [][]byte{
		nil, {}, []byte(`{"a":1}`), {0x0b}, {0x0c, 0x00}, {0x1c}, {0xcc, 0x05, 0x00},
		{0x2c, 0x17, 0x61},       // one member label, no value
		{0x3c, 0x03, 0x17, 0x61}, // a value for a non-text label
		{0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		if d, ok := decodeJSONB(bad); ok {
			t.Errorf("decodeJSONB(% x) = %v, want refusal", bad, d)
		}
	}
	for _, text := range []string{`{"h":0x1F}`, `{"f":.5}`, `{"s":'single\x41'}`} {
		blob, want, err := jsonbPair(t, s, text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if _, ok := decodeJSONB(blob); ok {
			t.Errorf("%s: decodeJSONB read a JSON5 form; want the json() fallback", text)
		}
		if len(want) != 1 {
			t.Errorf("%s: text path read %v", text, want)
		}
	}

	// Rows written behind the store's back: JSON5 in JSONB, and JSON text.
	if err := s.Insert(ctx, "things", store.Doc{"id": "a", "corpId": "t1", "v": int64(1)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(ctx, "things", store.Doc{"id": "b", "corpId": "t1", "v": int64(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE "c_things" SET doc = jsonb('{id:"a",corpId:"t1",v:0x10,s:''x\x41''}') WHERE id = 'a'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE "c_things" SET doc = '{"id":"b","corpId":"t1","v":2.5}' WHERE id = 'b'`); err != nil {
		t.Fatal(err)
	}
	wantA := store.Doc{"id": "a", "corpId": "t1", "v": int64(16), "s": "xA"}
	wantB := store.Doc{"id": "b", "corpId": "t1", "v": 2.5}
	if got, err := s.Get(ctx, "things", "t1", "a"); err != nil || !reflect.DeepEqual(got, wantA) {
		t.Errorf("Get a = %#v, %v", got, err)
	}
	if got, err := s.Get(ctx, "things", "t1", "b"); err != nil || !reflect.DeepEqual(got, wantB) {
		t.Errorf("Get b = %#v, %v", got, err)
	}
	all, err := s.Find(ctx, "things", "t1", queryAll())
	if err != nil || len(all) != 2 || !reflect.DeepEqual(all[0], wantA) || !reflect.DeepEqual(all[1], wantB) {
		t.Errorf("Find = %#v, %v", all, err)
	}
	// Inside a transaction too (the fallback runs after the statement).
	err = s.Tx(ctx, func(ctx context.Context) error {
		all, err := s.Find(ctx, "things", "t1", queryAll())
		if err != nil || len(all) != 2 || !reflect.DeepEqual(all[0], wantA) {
			t.Errorf("Find in Tx = %#v, %v", all, err)
		}
		got, err := s.Get(ctx, "things", "t1", "b")
		if err != nil || !reflect.DeepEqual(got, wantB) {
			t.Errorf("Get in Tx = %#v, %v", got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzDecodeJSONB: for any JSON object SQLite accepts, the JSONB decoder
// reads what the text path reads, or refuses (never a different document).
func FuzzDecodeJSONB(f *testing.F) {
	for _, seed := range []string{`{"a":1}`, `{"s":"x\"y","n":[1.5,-2,1e21,{"k":null}]}`, `{"u":"\ud83d\ude00"}`, `{}`} {
		f.Add(seed)
	}
	s := newTestStore(f)
	defer s.Close()
	f.Fuzz(func(t *testing.T, text string) {
		blob, want, err := jsonbPair(t, s, text)
		if err != nil {
			return // not JSON SQLite accepts, or not an object
		}
		got, ok := decodeJSONB(blob)
		if ok && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %#v\nwant %#v", text, got, want)
		}
	})
}

func queryAll() query.Query { return query.Query{Limit: -1} }

// Member names are shared strings, and the shared set stays bounded
// whatever names documents bring.
func TestKeyOfBounded(t *testing.T) {
	a, b := keyOf([]byte("corpId")), keyOf([]byte("corpId"))
	if a != "corpId" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Errorf("keyOf does not share %q", a)
	}
	for i := range maxKeys + 100 {
		if k := keyOf([]byte(fmt.Sprintf("k%05d", i))); k != fmt.Sprintf("k%05d", i) {
			t.Fatalf("keyOf = %q", k)
		}
	}
	if n := len(*keys.Load()); n > maxKeys {
		t.Errorf("%d shared names, want at most %d", n, maxKeys)
	}
	long := strings.Repeat("x", maxKeyLen+1)
	if keyOf([]byte(long)) != long || keyOf([]byte("bad\xff")) != "bad\uFFFD" {
		t.Error("keyOf changed a long or invalid name")
	}
}
