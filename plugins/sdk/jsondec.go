package sdk

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeDocFast decodes b, one JSON object and nothing else but white
// space, with the documents' number convention (integral numbers int64,
// others float64) — what json.Decoder with UseNumber and normalizeNumbers
// produce, without reflection. ok is false for anything it does not take
// on (not an object, a syntax error, invalid UTF-8, a lone surrogate
// escape, nesting deeper than maxFastDepth, trailing data): the caller
// then decodes b with encoding/json, which decides (FuzzDecodeDoc checks
// the two agree wherever the fast path answers).
func decodeDocFast(b []byte) (m map[string]any, ok bool) {
	return decodeDocFastKeys(b, nil)
}

// decodeDocFastKeys is decodeDocFast sharing the strings of object keys
// through keys (nil: none): the documents of a page repeat the same keys,
// and each would be an allocation.
func decodeDocFastKeys(b []byte, keys map[string]string) (m map[string]any, ok bool) {
	d := docDecoder{b: b, keys: keys}
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return nil, false
	}
	v, ok := d.object(0)
	if !ok {
		return nil, false
	}
	d.ws()
	if d.i != len(d.b) {
		return nil, false
	}
	return v, true
}

type docDecoder struct {
	b    []byte
	i    int
	keys map[string]string // interned object keys
}

// maxInternedKeys bounds the key table of one call.
const maxInternedKeys = 4096

// maxFastDepth hands deeper documents to encoding/json (the depth at
// which core/jsonenc hands values to it too).
const maxFastDepth = 200

// key decodes an object key at d.i (which is '"'), interned when it has
// no escapes.
func (d *docDecoder) key() (string, bool) {
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		c := d.b[j]
		if c == '"' {
			raw := d.b[start:j]
			if s, ok := d.keys[string(raw)]; ok {
				d.i = j + 1
				return s, true
			}
			break
		}
		// A raw key without escapes that equals an interned one (a valid
		// string) is that string; control characters are never valid raw.
		if c == '\\' || c < 0x20 {
			break
		}
	}
	v, ok := d.str()
	if !ok {
		return "", false
	}
	s := v.(string)
	if d.keys != nil && len(d.keys) < maxInternedKeys {
		d.keys[s] = s
	}
	return s, true
}

func (d *docDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *docDecoder) value(depth int) (any, bool) {
	d.ws()
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		m, ok := d.object(depth + 1)
		return m, ok
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.str()
	case c == 't':
		return true, d.lit("true")
	case c == 'f':
		return false, d.lit("false")
	case c == 'n':
		return nil, d.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return nil, false
}

func (d *docDecoder) lit(s string) bool {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		return false
	}
	d.i += len(s)
	return true
}

// object decodes {…} at d.i (which is '{').
func (d *docDecoder) object(depth int) (map[string]any, bool) {
	if depth > maxFastDepth {
		return nil, false
	}
	d.i++ // {
	m := map[string]any{}
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, true
	}
	for {
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, false
		}
		k, ok := d.key()
		if !ok {
			return nil, false
		}
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, false
		}
		d.i++
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		m[k] = v
		d.ws()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return m, true
		default:
			return nil, false
		}
	}
}

func (d *docDecoder) array(depth int) (any, bool) {
	if depth > maxFastDepth {
		return nil, false
	}
	d.i++ // [
	a := []any{}
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return a, true
	}
	for {
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		a = append(a, v)
		d.ws()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return a, true
		default:
			return nil, false
		}
	}
}

// str decodes "…" at d.i (which is '"').
func (d *docDecoder) str() (any, bool) {
	d.i++
	start := d.i
	// The common case: no escapes, valid UTF-8.
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			return string(s), true
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return nil, false
		case c < utf8.RuneSelf:
			d.i++
		default:
			r, size := utf8.DecodeRune(d.b[d.i:])
			if r == utf8.RuneError && size == 1 {
				return nil, false
			}
			d.i += size
		}
	}
	return nil, false
}

// escaped finishes a string with escapes; d.i is at the first '\'.
func (d *docDecoder) escaped(start int) (any, bool) {
	out := append(make([]byte, 0, d.i-start+16), d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return string(out), true
		case c == '\\':
			if d.i+1 >= len(d.b) {
				return nil, false
			}
			e := d.b[d.i+1]
			d.i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return nil, false
				}
				if utf16.IsSurrogate(r) {
					// Only a valid pair; encoding/json decides the rest.
					if d.i+1 >= len(d.b) || d.b[d.i] != '\\' || d.b[d.i+1] != 'u' {
						return nil, false
					}
					d.i += 2
					r2, ok := d.hex4()
					if !ok {
						return nil, false
					}
					if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
						return nil, false
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				return nil, false
			}
		case c < 0x20:
			return nil, false
		case c < utf8.RuneSelf:
			out = append(out, c)
			d.i++
		default:
			r, size := utf8.DecodeRune(d.b[d.i:])
			if r == utf8.RuneError && size == 1 {
				return nil, false
			}
			out = append(out, d.b[d.i:d.i+size]...)
			d.i += size
		}
	}
	return nil, false
}

func (d *docDecoder) hex4() (rune, bool) {
	if len(d.b)-d.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.b[d.i : d.i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	d.i += 4
	return r, true
}

// number decodes a JSON number: int64 when it has no fraction or exponent
// and fits, else float64 (±Inf beyond float64's range, as
// normalizeNumbers does).
func (d *docDecoder) number() (any, bool) {
	start := d.i
	if d.b[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.i >= len(d.b) {
		return nil, false
	}
	if d.b[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		return nil, false
	}
	integral := true
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		integral = false
		if digits() == 0 {
			return nil, false
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		integral = false
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	s := string(d.b[start:d.i])
	if integral {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, true
		}
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f, true
}
