package query

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/eimshub/eimshub/core/errs"
)

// This file holds the tokeniser of $filter (spec §7.1) and the scanning
// helpers the other option parsers share: member paths, blanks and the
// date/date-time literal syntax (also used for ISO strings and JSON values).

// Reasons of the errors the parsers return (spec §1.5).
const (
	ReasonFilter      = "invalid_filter"
	ReasonOrderBy     = "invalid_orderby"
	ReasonSelect      = "invalid_select"
	ReasonExpand      = "invalid_expand"
	ReasonQueryOption = "invalid_query_option"
	ReasonRequest     = "invalid_request"
)

// DefaultLocation is the time zone in which a dateLit (a date without a
// time) means local midnight when no other Location is given: China Standard
// Time, a fixed UTC+08:00 zone named "CST". It equals Asia/Shanghai (which has
// had no daylight saving since 1991) without needing the tz database.
var DefaultLocation = time.FixedZone("CST", 8*60*60)

// Options tunes the parsers that coerce literals.
type Options struct {
	// Location is the tenant's time zone: a dateLit compared with a timestamp
	// member means midnight in it. Default: DefaultLocation.
	Location *time.Location
}

func (o Options) location() *time.Location {
	if o.Location == nil {
		return DefaultLocation
	}
	return o.Location
}

// syntaxError builds the one error shape of every parser in this package:
// Code Invalid, the reason, the target, and the byte position, which the
// English message repeats ("… at position N").
func syntaxError(reason, option, target string, pos int, format string, args ...any) *errs.Error {
	if target == "" {
		target = option
	}
	msg := option + ": " + fmt.Sprintf(format, args...)
	if pos >= 0 {
		msg += fmt.Sprintf(" at position %d", pos)
	}
	return &errs.Error{
		Code:   errs.Invalid,
		Reason: reason,
		Msg:    msg,
		Target: target,
		Pos:    pos,
	}
}

type tokKind uint8

const (
	tEOF      tokKind = iota
	tPath             // memberPath (also keywords, true/false/null, function names)
	tString           // stringLit; text holds the decoded value
	tNumber           // numberLit; text holds the raw text
	tDate             // dateLit; date holds the fields
	tDateTime         // dateTimeLit; tm holds the instant
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	pos  int  // byte offset of the first byte
	end  int  // byte offset after the last byte
	ws   bool // preceded by at least one SP/HTAB
	segs []string
	text string
	date civilDate
	tm   time.Time
}

type civilDate struct{ y, m, d int }

func (d civilDate) at(loc *time.Location) time.Time {
	return time.Date(d.y, time.Month(d.m), d.d, 0, 0, 0, 0, loc)
}

// isKeyword reports whether t is the single-segment path kw (ASCII
// case-insensitive): keywords are recognised only where the grammar expects
// them, so members may still be named "status" or "type".
func (t token) isKeyword(kw string) bool {
	return t.kind == tPath && len(t.segs) == 1 && asciiEqualFold(t.segs[0], kw)
}

// asciiEqualFold is strings.EqualFold restricted to ASCII letters, so that
// e.g. U+017F (long s) never spells a keyword.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isIDStart: ALPHA / "_" / UNICODE-LETTER.
func isIDStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

// isIDChar: idStart / DIGIT, plus combining marks and other decimal digits
// so that identifiers in any script survive.
func isIDChar(r rune) bool {
	return isIDStart(r) || unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc)
}

// skipBlanks returns the offset of the first non-blank byte at or after i.
func skipBlanks(src string, i int) int {
	for i < len(src) && isBlank(src[i]) {
		i++
	}
	return i
}

func runeAt(src string, i int) rune {
	if i >= len(src) {
		return utf8.RuneError
	}
	r, _ := utf8.DecodeRuneInString(src[i:])
	return r
}

// scanPath scans memberPath = identifier *( ("/" / ".") identifier ) at
// src[i:], where src[i] must start an identifier. It returns the segments,
// the end offset, and, when a separator is not followed by an identifier,
// the offset of the offending byte as errPos (else -1).
func scanPath(src string, i int) (segs []string, end, errPos int) {
	for {
		start := i
		r, n := utf8.DecodeRuneInString(src[i:])
		if !isIDStart(r) {
			return segs, i, i
		}
		i += n
		for i < len(src) {
			r, n := utf8.DecodeRuneInString(src[i:])
			if !isIDChar(r) {
				break
			}
			i += n
		}
		segs = append(segs, src[start:i])
		if i < len(src) && (src[i] == '/' || src[i] == '.') {
			if !isIDStart(runeAt(src, i+1)) {
				return segs, i, i + 1
			}
			i++
			continue
		}
		return segs, i, -1
	}
}

// splitMember splits a whole string into path segments ("a/b.c" → a, b, c);
// ok is false when s is not exactly one memberPath.
func splitMember(s string) (segs []string, ok bool) {
	if s == "" || !isIDStart(runeAt(s, 0)) {
		return nil, false
	}
	segs, end, errPos := scanPath(s, 0)
	return segs, errPos < 0 && end == len(s)
}

// digits returns the value of the n ASCII digits at src[i:], or -1.
func digits(src string, i, n int) int {
	if i+n > len(src) {
		return -1
	}
	v := 0
	for k := i; k < i+n; k++ {
		if !isDigit(src[k]) {
			return -1
		}
		v = v*10 + int(src[k]-'0')
	}
	return v
}

// scanDate matches dateLit = 4DIGIT "-" 2DIGIT "-" 2DIGIT at src[i:].
// matched is false when the shape does not match (the caller then tries a
// number); ok is false when it matches but is no valid calendar date.
func scanDate(src string, i int) (d civilDate, end int, matched, ok bool) {
	y := digits(src, i, 4)
	if y < 0 || i+4 >= len(src) || src[i+4] != '-' {
		return d, i, false, false
	}
	m := digits(src, i+5, 2)
	if m < 0 || i+7 >= len(src) || src[i+7] != '-' {
		return d, i, false, false
	}
	day := digits(src, i+8, 2)
	if day < 0 {
		return d, i, false, false
	}
	d = civilDate{y, m, day}
	if m < 1 || m > 12 || day < 1 || day > daysIn(y, m) {
		return d, i + 10, true, false
	}
	return d, i + 10, true, true
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// scanDateTimeRest matches the part of dateTimeLit after the dateLit:
// "T" 2DIGIT ":" 2DIGIT [ ":" 2DIGIT [ "." 1*9DIGIT ] ] ( "Z" / ("+"/"-") 2DIGIT ":" 2DIGIT ).
// src[i] is the 'T'. It returns the instant, the end offset, and the offset
// of the first byte that does not fit (-1 when all is well).
func scanDateTimeRest(src string, i int, d civilDate) (time.Time, int, int) {
	i++ // 'T'
	hh := digits(src, i, 2)
	if hh < 0 || hh > 23 {
		return time.Time{}, i, i
	}
	i += 2
	if i >= len(src) || src[i] != ':' {
		return time.Time{}, i, i
	}
	i++
	mm := digits(src, i, 2)
	if mm < 0 || mm > 59 {
		return time.Time{}, i, i
	}
	i += 2
	ss, nanos := 0, 0
	if i < len(src) && src[i] == ':' {
		i++
		if ss = digits(src, i, 2); ss < 0 || ss > 59 {
			return time.Time{}, i, i
		}
		i += 2
		if i < len(src) && src[i] == '.' {
			i++
			n := 0
			for n < 9 && i+n < len(src) && isDigit(src[i+n]) {
				nanos = nanos*10 + int(src[i+n]-'0')
				n++
			}
			if n == 0 || (i+n < len(src) && isDigit(src[i+n])) {
				return time.Time{}, i + n, i + n
			}
			for k := n; k < 9; k++ {
				nanos *= 10
			}
			i += n
		}
	}
	if i >= len(src) {
		return time.Time{}, i, i
	}
	var offset int
	switch src[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		sign := 1
		if src[i] == '-' {
			sign = -1
		}
		oh := digits(src, i+1, 2)
		if oh < 0 || oh > 23 {
			return time.Time{}, i + 1, i + 1
		}
		if i+3 >= len(src) || src[i+3] != ':' {
			return time.Time{}, i + 3, i + 3
		}
		om := digits(src, i+4, 2)
		if om < 0 || om > 59 {
			return time.Time{}, i + 4, i + 4
		}
		offset = sign * (oh*3600 + om*60)
		i += 6
	default:
		return time.Time{}, i, i
	}
	loc := time.UTC
	if offset != 0 {
		loc = time.FixedZone("", offset)
	}
	return time.Date(d.y, time.Month(d.m), d.d, hh, mm, ss, nanos, loc), i, -1
}

// parseISOTime parses a whole string as a dateTimeLit or a dateLit (midnight
// in loc), the forms a timestamp accepts inside a string literal.
func parseISOTime(s string, loc *time.Location) (time.Time, bool) {
	d, end, matched, ok := scanDate(s, 0)
	if !matched || !ok {
		return time.Time{}, false
	}
	if end == len(s) {
		return d.at(loc), true
	}
	if s[end] != 'T' && s[end] != 't' {
		return time.Time{}, false
	}
	tm, end, bad := scanDateTimeRest(s, end, d)
	if bad >= 0 || end != len(s) {
		return time.Time{}, false
	}
	return tm, true
}

// lexFilter tokenises a $filter. It never panics; the first lexical error
// is returned with its position.
func lexFilter(src string) ([]token, *errs.Error) {
	toks := make([]token, 0, 4+len(src)/5)
	i := 0
	for {
		start := i
		i = skipBlanks(src, i)
		ws := i > start
		if i >= len(src) {
			toks = append(toks, token{kind: tEOF, pos: len(src), end: len(src), ws: ws})
			return toks, nil
		}
		t := token{pos: i, ws: ws}
		c := src[i]
		switch {
		case c == '(':
			t.kind, i = tLParen, i+1
		case c == ')':
			t.kind, i = tRParen, i+1
		case c == ',':
			t.kind, i = tComma, i+1
		case c == '\'':
			s, end, ok := scanString(src, i)
			if !ok {
				return nil, syntaxError(ReasonFilter, "$filter", "", i, "unterminated string literal")
			}
			t.kind, t.text, i = tString, s, end
		case isDigit(c) || c == '-':
			var err *errs.Error
			if t, i, err = scanNumberOrDate(src, t); err != nil {
				return nil, err
			}
		default:
			r := runeAt(src, i)
			if !isIDStart(r) {
				return nil, syntaxError(ReasonFilter, "$filter", "", i, "unexpected character %q", r)
			}
			segs, end, errPos := scanPath(src, i)
			if errPos >= 0 {
				return nil, syntaxError(ReasonFilter, "$filter", "", errPos,
					"expected a member name after %q", src[errPos-1])
			}
			t.kind, t.segs, i = tPath, segs, end
		}
		t.end = i
		toks = append(toks, t)
	}
}

// scanString scans stringLit at src[i:], where src[i] is a quote; two
// quotes in a row stand for one.
func scanString(src string, i int) (string, int, bool) {
	i++
	if j := strings.IndexByte(src[i:], '\''); j >= 0 && (i+j+1 >= len(src) || src[i+j+1] != '\'') {
		return src[i : i+j], i + j + 1, true // no escapes: no copy
	}
	var b strings.Builder
	for {
		j := strings.IndexByte(src[i:], '\'')
		if j < 0 {
			return "", len(src), false
		}
		b.WriteString(src[i : i+j])
		i += j + 1
		if i < len(src) && src[i] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), i, true
	}
}

// scanNumberOrDate scans, by longest match, a dateTimeLit, a dateLit or a
// numberLit starting at t.pos.
func scanNumberOrDate(src string, t token) (token, int, *errs.Error) {
	i := t.pos
	if d, end, matched, ok := scanDate(src, i); matched {
		if !ok {
			return t, end, syntaxError(ReasonFilter, "$filter", "", i, "invalid date %q", src[i:end])
		}
		if end < len(src) && (src[end] == 'T' || src[end] == 't') && end+1 < len(src) && isDigit(src[end+1]) {
			tm, end2, bad := scanDateTimeRest(src, end, d)
			if bad >= 0 {
				return t, end2, syntaxError(ReasonFilter, "$filter", "", bad, "malformed date-time literal")
			}
			t.kind, t.tm = tDateTime, tm
			return t, end2, nil
		}
		t.kind, t.date = tDate, d
		return t, end, nil
	}
	j := i
	if src[j] == '-' {
		j++
	}
	k := j
	for k < len(src) && isDigit(src[k]) {
		k++
	}
	if k == j {
		return t, k, syntaxError(ReasonFilter, "$filter", "", i, "unexpected character '-'")
	}
	if k+1 < len(src) && src[k] == '.' && isDigit(src[k+1]) {
		k++
		for k < len(src) && isDigit(src[k]) {
			k++
		}
	}
	if k < len(src) && (src[k] == 'e' || src[k] == 'E') {
		e := k + 1
		if e < len(src) && (src[e] == '+' || src[e] == '-') {
			e++
		}
		if e < len(src) && isDigit(src[e]) {
			for e < len(src) && isDigit(src[e]) {
				e++
			}
			k = e
		}
	}
	t.kind, t.text = tNumber, src[i:k]
	return t, k, nil
}
