// Package jsonenc encodes the hub's JSON-shaped values (store documents and
// the answers built from them: maps, slices, strings, numbers, booleans,
// nil) without reflection, byte for byte as encoding/json's Encoder does
// with SetEscapeHTML(false): keys of a map sorted, floats in the ES6 style,
// U+2028/U+2029 and control characters escaped, invalid UTF-8 as U+FFFD.
// Any other type (structs, pointers, json.Marshaler, …) is handed to
// encoding/json, so every value encodes exactly as before; only the common
// shapes are fast. The native API's answers go through it (a 50-row page
// spent a third of its CPU in encoding/json's reflective map encoder, most
// of it sorting keys through reflect.Value).
//
// AppendEscapeHTML is the same encoder with encoding/json's default HTML
// escaping on (json.Marshal's bytes); plugins/sdk.AppendJSON is built on it.
package jsonenc

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// maxDepth bounds the recursion of the fast path; a deeper value (or a
// cycle, which encoding/json reports as an error) is handed to
// encoding/json whole.
const maxDepth = 200

// Marshal returns v as JSON followed by a newline, as
// json.NewEncoder(w).SetEscapeHTML(false); Encode(v) writes it.
func Marshal(v any) ([]byte, error) {
	e := plainPool.Get().(*encoder)
	defer e.release()
	b, err := e.value(e.buf[:0], v, 0)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(b)+1)
	copy(out, b)
	out[len(b)] = '\n'
	if cap(b) <= maxScratch {
		e.buf = b
	}
	return out, nil
}

// Append appends v as JSON (no newline) to dst, HTML escaping off: what
// Marshal returns without its newline. On an error it returns nil.
func Append(dst []byte, v any) ([]byte, error) {
	e := plainPool.Get().(*encoder)
	defer e.release()
	return e.value(dst, v, 0)
}

// AppendEscapeHTML appends v to dst as json.Marshal(v) returns it: the
// same encoding as Append but with encoding/json's default HTML escaping
// (<, > and & as \u003c, \u003e, \u0026), and its errors. On an error it
// returns nil.
func AppendEscapeHTML(dst []byte, v any) ([]byte, error) {
	e := htmlPool.Get().(*encoder)
	defer e.release()
	return e.value(dst, v, 0)
}

// Appender is a value that encodes itself (the fast path calls it instead
// of encoding/json). Its bytes must be what encoding/json gives it, so it
// should also implement json.Marshaler with the same, compact, bytes.
type Appender interface {
	AppendJSON(dst []byte) ([]byte, error)
}

// encoder holds the scratch space of one encoding: key slices, one per
// nesting depth, reused across maps.
type encoder struct {
	keys    [][]string
	members [][]member
	orders  []*keyOrder // remembered map shapes (sorted)
	next    int         // the shape replaced next when orders is full
	// buf is the scratch buffer Marshal encodes into before it copies the
	// result out (one allocation of the right size per answer).
	buf []byte
	// html: escape <, > and & (json.Marshal) or not (Encoder with
	// SetEscapeHTML(false)); fixed per pool, as the remembered quoted keys
	// depend on it.
	html bool
}

// maxScratch bounds the scratch buffer an encoder keeps between uses.
const maxScratch = 1 << 20

var (
	plainPool = sync.Pool{New: func() any { return &encoder{} }}
	htmlPool  = sync.Pool{New: func() any { return &encoder{html: true} }}
)

// member is one member of a map being encoded.
type member struct {
	k string
	v any
}

func (e *encoder) release() {
	for i := range e.keys {
		clear(e.keys[i])
		e.keys[i] = e.keys[i][:0]
	}
	for i := range e.members {
		clear(e.members[i])
		e.members[i] = e.members[i][:0]
	}
	if e.html {
		htmlPool.Put(e)
	} else {
		plainPool.Put(e)
	}
}

// keyOrder is the sorted key set of a map shape met before, with each
// key already encoded as `"key":`.
type keyOrder struct {
	keys   []string
	quoted [][]byte
}

// maxOrders is how many map shapes an encoder remembers: a listing's rows
// and their nested objects (data, createBy, …) share a few.
const maxOrders = 8

// sorted returns x's members in key order. When x has the key set of a
// remembered shape (as many keys, all present), the order is that shape's
// and ord is returned (its quoted keys); otherwise the members are
// gathered and sorted, and the shape is remembered.
func (e *encoder) sorted(x map[string]any, depth int) (ms []member, ord *keyOrder) {
	ms = e.memberSlice(depth, len(x))
	defer func() { e.members[depth] = ms }()
	for _, o := range e.orders {
		if len(o.keys) != len(x) {
			continue
		}
		ms = ms[:0]
		for _, k := range o.keys {
			v, ok := x[k]
			if !ok {
				break
			}
			ms = append(ms, member{k, v})
		}
		if len(ms) == len(x) {
			return ms, o
		}
	}
	ms = ms[:0]
	for k, v := range x {
		ms = append(ms, member{k, v})
	}
	slices.SortFunc(ms, func(a, b member) int { return strings.Compare(a.k, b.k) })
	if len(ms) > 1 && len(ms) <= 64 {
		o := &keyOrder{keys: make([]string, len(ms)), quoted: make([][]byte, len(ms))}
		for i := range ms {
			o.keys[i] = strings.Clone(ms[i].k)
			o.quoted[i] = append(appendString(nil, ms[i].k, e.html), ':')
		}
		if len(e.orders) < maxOrders {
			e.orders = append(e.orders, o)
		} else {
			e.orders[e.next] = o
			e.next = (e.next + 1) % maxOrders
		}
	}
	return ms, nil
}

func (e *encoder) memberSlice(depth int, n int) []member {
	for len(e.members) <= depth {
		e.members = append(e.members, nil)
	}
	return slices.Grow(e.members[depth][:0], n)
}

func (e *encoder) keySlice(depth int, n int) []string {
	for len(e.keys) <= depth {
		e.keys = append(e.keys, nil)
	}
	return slices.Grow(e.keys[depth][:0], n)
}

func (e *encoder) value(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return e.slow(b, v)
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, x, e.html), nil
	case bool:
		if x {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return e.slow(b, v) // encoding/json's UnsupportedValueError
		}
		return appendFloat(b, x), nil
	case map[string]any:
		if x == nil {
			return append(b, "null"...), nil
		}
		ms, ord := e.sorted(x, depth)
		b = append(b, '{')
		for i := range ms {
			if i > 0 {
				b = append(b, ',')
			}
			if ord != nil {
				b = append(b, ord.quoted[i]...)
			} else {
				b = appendString(b, ms[i].k, e.html)
				b = append(b, ':')
			}
			var err error
			if b, err = e.value(b, ms[i].v, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []any:
		return appendArray(e, b, x, depth)
	case []map[string]any:
		return appendArray(e, b, x, depth)
	case []string:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s, e.html)
		}
		return append(b, ']'), nil
	case map[string]string:
		if x == nil {
			return append(b, "null"...), nil
		}
		keys := e.keySlice(depth, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.keys[depth] = keys
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k, e.html)
			b = append(b, ':')
			b = appendString(b, x[k], e.html)
		}
		return append(b, '}'), nil
	case Appender:
		return x.AppendJSON(b)
	}
	return e.slow(b, v)
}

// appendArray appends x as a JSON array (null when nil), each element
// encoded by e.value.
func appendArray[T any](e *encoder, b []byte, x []T, depth int) ([]byte, error) {
	if x == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, el := range x {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = e.value(b, el, depth+1); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// slow appends v as encoding/json encodes it.
func (e *encoder) slow(b []byte, v any) ([]byte, error) {
	if e.html {
		j, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return append(b, j...), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...), nil
}

// appendFloat is encoding/json's float64 encoding (ES6 number to string).
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	fmt := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmt = 'e'
	}
	b = strconv.AppendFloat(b, f, fmt, -1, 64)
	if fmt == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hex = "0123456789abcdef"

// safe[html][c] reports the ASCII bytes a JSON string holds unescaped:
// everything from space up but '"' and '\\', and with HTML escaping not
// '<', '>' or '&' either.
var safe = func() (t [2][utf8.RuneSelf]bool) {
	for c := byte(0x20); c < utf8.RuneSelf; c++ {
		ok := c != '"' && c != '\\'
		t[0][c] = ok
		t[1][c] = ok && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString is encoding/json's string encoding, with escapeHTML as
// html says.
func appendString(b []byte, s string, html bool) []byte {
	set := &safe[0]
	if html {
		set = &safe[1]
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if set[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
