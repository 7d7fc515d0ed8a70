package sqlite

import (
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"github.com/eimshub/eimshub/core/store"
)

// Reading documents straight from SQLite's binary JSON (JSONB,
// https://sqlite.org/jsonb.html) instead of asking SQLite to render text
// with json(doc) and parsing that text again: each element is a header
// (type and payload size) and a payload, so the decoder neither scans for
// delimiters nor unescapes ordinary strings, and it knows an object's
// member count before it makes the map. Numbers keep their source text in
// JSONB and go through numberOf, the rule decodeDoc applies, so both paths
// give the same store.Doc.
//
// The decoder reads the element types jsonb() makes of RFC 8259 text (what
// encodeDoc writes) and TEXTRAW (what jsonb_set may write). Anything else —
// the JSON5 types, reserved types, a size running past its container, a
// root that is not an object (e.g. a row holding JSON text) — makes it
// report false, and the caller falls back to SQLite's json() and decodeDoc.

// JSONB element types (the low four bits of an element's first byte).
const (
	jbNull    = 0
	jbTrue    = 1
	jbFalse   = 2
	jbInt     = 3
	jbInt5    = 4
	jbFloat   = 5
	jbFloat5  = 6
	jbText    = 7
	jbTextJ   = 8
	jbText5   = 9
	jbTextRaw = 10
	jbArray   = 11
	jbObject  = 12
)

// jbHeader reads the element header at b[i:]: its type, where its payload
// starts and the payload's size; ok is false when the header or the
// payload does not fit in b.
func jbHeader(b []byte, i int) (typ byte, start, size int, ok bool) {
	if i >= len(b) {
		return 0, 0, 0, false
	}
	h := b[i]
	typ = h & 0x0f
	n := int(h >> 4)
	start = i + 1
	var sz uint64
	switch {
	case n <= 11:
		sz = uint64(n)
	default:
		w := 1 << (n - 12) // 12 → 1 byte, 13 → 2, 14 → 4, 15 → 8
		if start+w > len(b) {
			return 0, 0, 0, false
		}
		for _, c := range b[start : start+w] {
			sz = sz<<8 | uint64(c)
		}
		start += w
	}
	if sz > uint64(len(b)-start) {
		return 0, 0, 0, false
	}
	return typ, start, int(sz), true
}

// decodeJSONB decodes a stored document; ok is false when b is not a
// JSONB object the decoder reads in full (the caller then falls back to
// json() and decodeDoc).
func decodeJSONB(b []byte) (store.Doc, bool) {
	typ, start, size, ok := jbHeader(b, 0)
	if !ok || typ != jbObject || start+size != len(b) {
		return nil, false
	}
	// One string holds the document's bytes; the string values of the
	// document are slices of it (one allocation, not one per value).
	d := jbDecoder{b: b, s: string(b)}
	return d.object(start, start+size)
}

// decodeJSONBShared is decodeJSONB for bytes that are never modified again
// (the document cache's): the string values are slices of b itself.
func decodeJSONBShared(b []byte) (store.Doc, bool) {
	typ, start, size, ok := jbHeader(b, 0)
	if !ok || typ != jbObject || start+size != len(b) {
		return nil, false
	}
	d := jbDecoder{b: b, s: unsafe.String(unsafe.SliceData(b), len(b))}
	return d.object(start, start+size)
}

// jbDecoder reads the elements of b; s is b as a string.
type jbDecoder struct {
	b []byte
	s string
}

// value decodes the element whose header was read (payload b[lo:hi]).
func (d *jbDecoder) value(typ byte, lo, hi int) (any, bool) {
	switch typ {
	case jbNull:
		return nil, lo == hi
	case jbTrue:
		return true, lo == hi
	case jbFalse:
		return false, lo == hi
	case jbInt, jbFloat:
		if lo == hi {
			return nil, false
		}
		return numberOf(d.s[lo:hi]), true
	case jbText, jbTextRaw:
		return d.text(lo, hi), true
	case jbTextJ:
		return textJOf(d.b[lo:hi])
	case jbArray:
		return d.array(lo, hi)
	case jbObject:
		return d.object(lo, hi)
	}
	return nil, false // JSON5 forms and reserved types
}

// text is a string payload without escapes.
func (d *jbDecoder) text(lo, hi int) string {
	if utf8.ValidString(d.s[lo:hi]) {
		return d.s[lo:hi]
	}
	return textOf(d.b[lo:hi])
}

// count returns how many elements b[lo:hi] holds; ok is false when one
// runs past hi.
func (d *jbDecoder) count(lo, hi int) (int, bool) {
	n := 0
	for i := lo; i < hi; n++ {
		_, start, size, ok := jbHeader(d.b[:hi], i)
		if !ok {
			return 0, false
		}
		i = start + size
	}
	return n, true
}

func (d *jbDecoder) array(lo, hi int) (any, bool) {
	n, ok := d.count(lo, hi)
	if !ok {
		return nil, false
	}
	out := make([]any, 0, n)
	for i := lo; i < hi; {
		typ, start, size, _ := jbHeader(d.b[:hi], i)
		v, ok := d.value(typ, start, start+size)
		if !ok {
			return nil, false
		}
		out = append(out, v)
		i = start + size
	}
	return out, true
}

func (d *jbDecoder) object(lo, hi int) (map[string]any, bool) {
	n, ok := d.count(lo, hi)
	if !ok || n%2 != 0 {
		return nil, false
	}
	out := make(map[string]any, n/2)
	for i := lo; i < hi; {
		typ, start, size, _ := jbHeader(d.b[:hi], i)
		var key string
		switch typ {
		case jbText, jbTextRaw:
			key = keyOf(d.b[start : start+size])
		case jbTextJ:
			k, ok := textJOf(d.b[start : start+size])
			if !ok {
				return nil, false
			}
			key = k.(string)
		default:
			return nil, false
		}
		i = start + size
		typ, start, size, _ = jbHeader(d.b[:hi], i)
		v, ok := d.value(typ, start, start+size)
		if !ok {
			return nil, false
		}
		out[key] = v // a repeated key: the last wins, as in encoding/json
		i = start + size
	}
	return out, true
}

// textOf is a string payload without escapes. Invalid UTF-8 becomes
// U+FFFD byte by byte, as encoding/json does when it decodes a string.
func textOf(p []byte) string {
	if utf8.Valid(p) {
		return string(p)
	}
	out := make([]byte, 0, len(p)+8)
	for len(p) > 0 {
		r, n := utf8.DecodeRune(p)
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, p[:n]...)
		}
		p = p[n:]
	}
	return string(out)
}

// textJOf is a string payload with RFC 8259 escapes: the payload is the
// inside of a JSON string literal, so encoding/json unquotes it (rare: only
// strings with quotes, backslashes or control characters have escapes).
func textJOf(p []byte) (any, bool) {
	q := make([]byte, 0, len(p)+2)
	q = append(q, '"')
	q = append(q, p...)
	q = append(q, '"')
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return nil, false
	}
	return s, true
}

// numberOf is the store.Doc value of a JSON number's text: int64 when it
// is integral and fits (also when written 1e3 or 5.0), float64 otherwise.
func numberOf(s string) any {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	return fixNumbers(json.Number(s))
}

// Member names repeat in every document of a collection (id, corpId, data,
// createBy, a form's field names …): keyOf hands out one shared string per
// distinct short name instead of allocating it for every member of every
// document read. The set is copied on write and read without a lock; it
// stops growing at maxKeys names (later names are allocated as before), so
// documents with ever-new member names cannot grow it without bound.
const (
	maxKeys   = 2048
	maxKeyLen = 40
)

var (
	keysMu sync.Mutex
	keys   atomic.Pointer[map[string]string]
)

func keyOf(p []byte) string {
	if len(p) > maxKeyLen {
		return textOf(p)
	}
	if m := keys.Load(); m != nil {
		if k, ok := (*m)[string(p)]; ok {
			return k
		}
	}
	k := textOf(p)
	keysMu.Lock()
	defer keysMu.Unlock()
	old := keys.Load()
	n := 0
	if old != nil {
		if s, ok := (*old)[k]; ok {
			return s
		}
		n = len(*old)
	}
	if n >= maxKeys {
		return k
	}
	m := make(map[string]string, n+1)
	if old != nil {
		for s := range *old {
			m[s] = s
		}
	}
	m[k] = k
	keys.Store(&m)
	return k
}
