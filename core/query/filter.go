package query

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/eimshub/eimshub/core/errs"
)

// ParseFilter parses an OData $filter (spec §7.1) and compiles it against r
// (§7.2) into an Expr. A blank src returns (nil, nil): no filter.
//
// Every error is an *errs.Error with Code errs.Invalid, Reason
// "invalid_filter", Pos the 0-based byte offset of the fault, and Target the
// member path as written when a member is at fault (else "$filter"). The one
// exception: a Resolver error whose code is neither Invalid nor NotFound
// (e.g. Unavailable while loading a schema) is returned unchanged.
//
// Positions in messages ("… at position N") are the same 0-based byte
// offsets as Pos, so a client can point at the fault in the text it sent.
//
// Limits (§7.2 rule 9): MaxFilterLen characters; MaxFilterNodes nodes, where
// each comparison, function call, in, boolean member, and, or and not counts
// one (the values of an in list do not); MaxDepth levels of parentheses and
// nots; MaxInValues values per in.
//
// Date literals (dateLit) compared with timestamps mean midnight in
// DefaultLocation; use ParseFilterWith for another time zone.
func ParseFilter(src string, r Resolver) (Expr, error) {
	return ParseFilterWith(src, r, Options{})
}

// ParseFilterWith is ParseFilter with options (the tenant's time zone).
func ParseFilterWith(src string, r Resolver, opts Options) (Expr, error) {
	if strings.Trim(src, " \t") == "" {
		return nil, nil
	}
	if err := checkText(src, "$filter", ReasonFilter, MaxFilterLen); err != nil {
		return nil, err
	}
	toks, lexErr := lexFilter(src)
	if lexErr != nil {
		return nil, lexErr
	}
	p := &filterParser{src: src, toks: toks, r: r, opts: opts}
	e, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errFound(t, "expected 'and', 'or' or the end of the filter")
	}
	return e, nil
}

// checkText rejects invalid UTF-8 and texts longer than max characters.
func checkText(src, option, reason string, max int) *errs.Error {
	n := 0
	for i, r := range src {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(src[i:]); size == 1 {
				return syntaxError(reason, option, "", i, "invalid UTF-8")
			}
		}
		n++
		if n > max {
			return syntaxError(reason, option, "", i, "longer than %d characters", max)
		}
	}
	return nil
}

type filterParser struct {
	src   string
	toks  []token
	i     int
	r     Resolver
	opts  Options
	nodes int
}

func (p *filterParser) peek() token { return p.peekAt(0) }

func (p *filterParser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1] // tEOF
}

func (p *filterParser) next() token {
	t := p.peek()
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *filterParser) text(t token) string { return p.src[t.pos:t.end] }

func (p *filterParser) err(pos int, format string, args ...any) *errs.Error {
	return syntaxError(ReasonFilter, "$filter", "", pos, format, args...)
}

// memberErr is an error about a member: its Target is the member as written.
func (p *filterParser) memberErr(m operand, pos int, format string, args ...any) *errs.Error {
	return syntaxError(ReasonFilter, "$filter", m.text, pos, format, args...)
}

// errFound is a syntax error at t that says what was found there.
func (p *filterParser) errFound(t token, what string) *errs.Error {
	found := "the end of the filter"
	if t.kind != tEOF {
		found = "'" + p.text(t) + "'"
	}
	e := p.err(t.pos, "%s, found %s", what, found)
	return e.WithDetails(errs.Detail{Code: "syntax", Message: "found " + found, Target: strconv.Itoa(t.pos)})
}

// node counts one AST node (spec §7.2 rule 9).
func (p *filterParser) node(pos int) error {
	p.nodes++
	if p.nodes > MaxFilterNodes {
		return p.err(pos, "more than %d expressions", MaxFilterNodes)
	}
	return nil
}

// needBlank enforces RWS before t.
func (p *filterParser) needBlank(t token) error {
	if t.ws {
		return nil
	}
	if t.kind == tEOF {
		return p.errFound(t, "expected an expression")
	}
	return p.errFound(t, "expected a blank")
}

// orExpr = andExpr *( RWS "or" RWS andExpr )
func (p *filterParser) parseOr(depth int) (Expr, error) {
	return p.parseChain(depth, "or", p.parseAnd, func(items []Expr) Expr { return Or{Items: items} })
}

// andExpr = unaryExpr *( RWS "and" RWS unaryExpr )
func (p *filterParser) parseAnd(depth int) (Expr, error) {
	return p.parseChain(depth, "and", p.parseUnary, func(items []Expr) Expr { return And{Items: items} })
}

func (p *filterParser) parseChain(depth int, kw string, sub func(int) (Expr, error), mk func([]Expr) Expr) (Expr, error) {
	first, err := sub(depth)
	if err != nil {
		return nil, err
	}
	if !p.peek().isKeyword(kw) {
		return first, nil
	}
	items := flatten(nil, first, kw)
	for p.peek().isKeyword(kw) {
		op := p.next()
		if err := p.needBlank(op); err != nil {
			return nil, err
		}
		if err := p.needBlank(p.peek()); err != nil {
			return nil, err
		}
		if err := p.node(op.pos); err != nil {
			return nil, err
		}
		x, err := sub(depth)
		if err != nil {
			return nil, err
		}
		items = flatten(items, x, kw)
	}
	return mk(items), nil
}

// flatten appends x to items, splicing a nested And (Or) into an And (Or):
// (a and b) and c is and(a, b, c).
func flatten(items []Expr, x Expr, kw string) []Expr {
	switch v := x.(type) {
	case And:
		if kw == "and" {
			return append(items, v.Items...)
		}
	case Or:
		if kw == "or" {
			return append(items, v.Items...)
		}
	}
	return append(items, x)
}

// unaryExpr = "not" RWS unaryExpr / "not" BWS parenExpr / atom
func (p *filterParser) parseUnary(depth int) (Expr, error) {
	t := p.peek()
	if depth > MaxDepth {
		return nil, p.err(t.pos, "nested deeper than %d levels", MaxDepth)
	}
	if !t.isKeyword("not") {
		return p.parseAtom(depth)
	}
	p.next()
	if err := p.node(t.pos); err != nil {
		return nil, err
	}
	var x Expr
	var err error
	if nt := p.peek(); nt.kind == tLParen {
		x, err = p.parseParen(depth + 1)
	} else {
		if err := p.needBlank(nt); err != nil {
			return nil, err
		}
		x, err = p.parseUnary(depth + 1)
	}
	if err != nil {
		return nil, err
	}
	return Not{X: x}, nil
}

// parenExpr = "(" BWS orExpr BWS ")"
func (p *filterParser) parseParen(depth int) (Expr, error) {
	open := p.next()
	if depth > MaxDepth {
		return nil, p.err(open.pos, "nested deeper than %d levels", MaxDepth)
	}
	x, err := p.parseOr(depth)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tRParen {
		return nil, p.errFound(t, "expected ')' or a logical operator")
	}
	p.next()
	return x, nil
}

var funcNames = map[string]StrFn{"contains": Contains, "startswith": StartsWith, "endswith": EndsWith}

var cmpOps = map[string]Op{"eq": Eq, "ne": Ne, "gt": Gt, "ge": Ge, "lt": Lt, "le": Le}

// cmpOp returns the comparison operator t spells, if any.
func cmpOp(t token) (Op, bool) {
	if t.kind != tPath || len(t.segs) != 1 || len(t.segs[0]) != 2 {
		return 0, false
	}
	op, ok := cmpOps[strings.ToLower(t.segs[0])]
	return op, ok
}

func funcName(t token) (StrFn, bool) {
	if t.kind != tPath || len(t.segs) != 1 || len(t.segs[0]) > len("startswith") {
		return 0, false
	}
	fn, ok := funcNames[strings.ToLower(t.segs[0])]
	return fn, ok && asciiEqualFold(t.segs[0], fn.String())
}

// atom = parenExpr / funcExpr / inExpr / comparison / boolMember
func (p *filterParser) parseAtom(depth int) (Expr, error) {
	t := p.peek()
	if t.kind == tLParen {
		return p.parseParen(depth + 1)
	}
	if err := p.node(t.pos); err != nil {
		return nil, err
	}
	if fn, ok := funcName(t); ok {
		if nt := p.peekAt(1); nt.kind == tLParen && !nt.ws {
			return p.parseFunc(fn)
		}
	}
	left, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	nt := p.peek()
	if left.member && nt.isKeyword("in") {
		return p.parseIn(left)
	}
	if op, ok := cmpOp(nt); ok {
		p.next()
		if k := p.peek().kind; k == tEOF || k == tRParen || k == tComma {
			return nil, p.errFound(p.peek(), "expected a value after '"+p.text(nt)+"'")
		}
		if err := p.needBlank(nt); err != nil {
			return nil, err
		}
		if err := p.needBlank(p.peek()); err != nil {
			return nil, err
		}
		right, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		if _, ok := cmpOp(p.peek()); ok {
			return nil, p.err(p.peek().pos, "comparisons are not associative; use 'and'")
		}
		return p.comparison(left, op, right)
	}
	if left.member {
		if left.field.Type == Bool {
			if err := p.filterable(left); err != nil {
				return nil, err
			}
			return p.wrap(left, func(path Path) Expr { return Cmp{Path: path, Op: Eq, Value: true} }), nil
		}
		return nil, p.errFound(nt, "expected a comparison operator after '"+left.text+"'")
	}
	return nil, p.errFound(nt, "expected a comparison operator")
}

// operand is a member (resolved) or a literal token.
type operand struct {
	tok    token
	member bool
	field  Field
	text   string // as written
}

func isLiteralKeyword(t token) bool {
	return t.isKeyword("null") || t.isKeyword("true") || t.isKeyword("false")
}

// operand = memberPath / literal
func (p *filterParser) parseOperand() (operand, error) {
	t := p.peek()
	switch t.kind {
	case tString, tNumber, tDate, tDateTime:
		p.next()
		return operand{tok: t, text: p.text(t)}, nil
	case tPath:
		p.next()
		if isLiteralKeyword(t) {
			return operand{tok: t, text: p.text(t)}, nil
		}
		return p.resolve(t)
	}
	return operand{}, p.errFound(t, "expected a member or a value")
}

// resolve maps a member token through the Resolver.
func (p *filterParser) resolve(t token) (operand, error) {
	m := operand{tok: t, member: true, text: p.text(t)}
	if p.r == nil {
		return m, p.memberErr(m, t.pos, "unknown member '%s'", m.text)
	}
	f, err := p.r.Resolve(t.segs)
	if err != nil {
		return m, resolveError(err, ReasonFilter, "$filter", m.text, t.pos)
	}
	m.field = f
	return m, nil
}

// resolveError turns a Resolver error into the parser's error shape. Errors
// that are not about the caller's input (a Code other than Invalid and
// NotFound) pass through unchanged.
func resolveError(err error, reason, option, member string, pos int) error {
	var e *errs.Error
	if errors.As(err, &e) && e.Code != errs.Invalid && e.Code != errs.NotFound {
		return err
	}
	msg := "unknown member '" + member + "'"
	if e != nil && e.Msg != "" {
		msg = e.Msg
	}
	out := syntaxError(reason, option, member, pos, "%s", msg)
	out.Err = err
	return out
}

func (p *filterParser) filterable(m operand) error {
	if m.field.NoFilter {
		return p.memberErr(m, m.tok.pos, "member '%s' cannot be used in a filter", m.text)
	}
	return nil
}

// wrap builds the predicate on the member's path, inside AnyRow when the
// member lives in an array (spec §7.2 rule 4).
func (p *filterParser) wrap(m operand, pred func(Path) Expr) Expr {
	return wrapField(m.field, pred)
}

func wrapField(f Field, pred func(Path) Expr) Expr {
	if f.Array != nil {
		return AnyRow{Array: f.Array, Pred: pred(f.Path)}
	}
	return pred(f.Path)
}

// comparison = operand RWS cmpOp RWS operand (spec §7.2 rule 1).
func (p *filterParser) comparison(left operand, op Op, right operand) (Expr, error) {
	switch {
	case left.member && right.member:
		return nil, p.memberErr(right, right.tok.pos, "cannot compare two members; one side must be a value")
	case !left.member && !right.member:
		return nil, p.err(left.tok.pos, "a comparison needs a member on one side")
	case !left.member:
		left, right, op = right, left, op.Flip()
	}
	if err := p.filterable(left); err != nil {
		return nil, err
	}
	if right.tok.isKeyword("null") {
		switch op {
		case Eq, Ne:
			isNull := op == Eq
			return p.wrap(left, func(path Path) Expr { return Null{Path: path, IsNull: isNull} }), nil
		}
		return nil, p.memberErr(left, right.tok.pos, "null can only be compared with eq or ne")
	}
	v, err := p.coerce(left, right)
	if err != nil {
		return nil, err
	}
	return p.wrap(left, func(path Path) Expr { return Cmp{Path: path, Op: op, Value: v} }), nil
}

// inExpr = memberPath RWS "in" BWS "(" BWS literal *( BWS "," BWS literal ) BWS ")"
func (p *filterParser) parseIn(m operand) (Expr, error) {
	kw := p.next()
	if err := p.needBlank(kw); err != nil {
		return nil, err
	}
	if err := p.filterable(m); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tLParen {
		return nil, p.errFound(t, "expected '(' after 'in'")
	}
	p.next()
	var values []Value
	for {
		t := p.peek()
		if len(values) == MaxInValues {
			return nil, p.memberErr(m, t.pos, "more than %d values in 'in'", MaxInValues)
		}
		switch {
		case t.kind == tRParen && len(values) == 0:
			return nil, p.memberErr(m, t.pos, "'in' needs at least one value")
		case t.isKeyword("null"):
			return nil, p.memberErr(m, t.pos, "null is not allowed in 'in'; use eq null")
		case t.kind == tString || t.kind == tNumber || t.kind == tDate || t.kind == tDateTime || isLiteralKeyword(t):
		default:
			return nil, p.errFound(t, "expected a value")
		}
		p.next()
		v, err := p.coerce(m, operand{tok: t, text: p.text(t)})
		if err != nil {
			return nil, err
		}
		values = append(values, v)
		switch t := p.next(); t.kind {
		case tComma:
			continue
		case tRParen:
			return p.wrap(m, func(path Path) Expr { return In{Path: path, Values: values} }), nil
		default:
			return nil, p.errFound(t, "expected ',' or ')'")
		}
	}
}

// funcExpr = funcName "(" BWS memberPath BWS "," BWS stringLit BWS ")"
// [ RWS ( "eq" / "ne" ) RWS boolLit ]
func (p *filterParser) parseFunc(fn StrFn) (Expr, error) {
	p.next() // name
	p.next() // (
	t := p.peek()
	if t.kind != tPath || isLiteralKeyword(t) {
		return nil, p.errFound(t, "expected a member as the first argument of "+fn.String())
	}
	p.next()
	m, err := p.resolve(t)
	if err != nil {
		return nil, err
	}
	if err := p.filterable(m); err != nil {
		return nil, err
	}
	if m.field.Type != String {
		return nil, p.memberErr(m, t.pos, "%s needs a string member; '%s' is a %s", fn, m.text, m.field.Type)
	}
	if t := p.next(); t.kind != tComma {
		return nil, p.errFound(t, "expected ','")
	}
	lit := p.next()
	if lit.kind != tString {
		if lit.kind == tEOF || lit.kind == tRParen || lit.kind == tComma || lit.kind == tLParen {
			return nil, p.errFound(lit, "expected a string literal")
		}
		return nil, p.memberErr(m, lit.pos, "%s needs a string literal, found '%s'", fn, p.text(lit))
	}
	if t := p.next(); t.kind != tRParen {
		return nil, p.errFound(t, "expected ')'")
	}
	negate := false
	if op, ok := cmpOp(p.peek()); ok && (op == Eq || op == Ne) {
		opTok := p.next()
		if err := p.needBlank(opTok); err != nil {
			return nil, err
		}
		b := p.next()
		if err := p.needBlank(b); err != nil {
			return nil, err
		}
		if !b.isKeyword("true") && !b.isKeyword("false") {
			return nil, p.errFound(b, "expected true or false")
		}
		negate = (op == Eq) != b.isKeyword("true")
	}
	x := p.wrap(m, func(path Path) Expr { return Str{Path: path, Fn: fn, Value: lit.text} })
	if negate {
		x = Not{X: x}
	}
	return x, nil
}

// literalKind names a literal token for messages.
func literalKind(t token) string {
	switch {
	case t.kind == tString:
		return "a string"
	case t.kind == tNumber:
		return "a number"
	case t.kind == tDate:
		return "a date"
	case t.kind == tDateTime:
		return "a date-time"
	case t.isKeyword("true"), t.isKeyword("false"):
		return "a boolean"
	}
	return "null"
}

// coerce converts a literal to the member's type (spec §7.2 rule 5).
func (p *filterParser) coerce(m operand, lit operand) (Value, error) {
	t := lit.tok
	mismatch := func() error {
		return p.memberErr(m, t.pos, "'%s' is a %s and cannot be compared with %s", m.text, m.field.Type, literalKind(t))
	}
	switch m.field.Type {
	case String:
		if t.kind == tString {
			return t.text, nil
		}
	case Number:
		if t.kind == tNumber {
			f, err := strconv.ParseFloat(t.text, 64)
			if err != nil || math.IsInf(f, 0) {
				return nil, p.memberErr(m, t.pos, "number %s is out of range", t.text)
			}
			return f, nil
		}
	case Time:
		switch t.kind {
		case tDateTime:
			return t.tm.UnixMilli(), nil
		case tDate:
			return t.date.at(p.opts.location()).UnixMilli(), nil
		case tNumber:
			n, ok := integer(t.text)
			if !ok {
				return nil, p.memberErr(m, t.pos, "'%s' is a timestamp: %s is not an integer of epoch milliseconds", m.text, t.text)
			}
			return n, nil
		case tString:
			tm, ok := parseISOTime(t.text, p.opts.location())
			if !ok {
				return nil, p.memberErr(m, t.pos, "'%s' is a timestamp: '%s' is not an ISO 8601 date-time", m.text, t.text)
			}
			return tm.UnixMilli(), nil
		}
	case Bool:
		if t.isKeyword("true") || t.isKeyword("false") {
			return t.isKeyword("true"), nil
		}
	case Enum:
		switch t.kind {
		case tNumber:
			n, ok := integer(t.text)
			if !ok {
				return nil, p.memberErr(m, t.pos, "'%s' is an enum: %s is not an integer", m.text, t.text)
			}
			return n, nil
		case tString:
			if n, ok := m.field.Enum[strings.ToLower(t.text)]; ok {
				return n, nil
			}
			// A string holding the number ('1'), as the EIMSNext web
			// client writes enums on OData (spec §12.13).
			if n, ok := enumDigits(t.text); ok {
				return n, nil
			}
			return nil, p.memberErr(m, t.pos, "'%s' has no value named '%s'", m.text, t.text)
		}
	default:
		return nil, p.memberErr(m, m.tok.pos, "member '%s' cannot be used in a filter", m.text)
	}
	return nil, mismatch()
}

// enumDigits reads an enum code written as a string: an optional '-' and
// ASCII digits only (no blanks, signs or exponents), within int64.
func enumDigits(s string) (int64, bool) {
	d := strings.TrimPrefix(s, "-")
	if d == "" || len(d) > 18 {
		return 0, false
	}
	for i := 0; i < len(d); i++ {
		if !isDigit(d[i]) {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// integer parses a numberLit that must denote an int64 (1.7e12 does).
func integer(text string) (int64, bool) {
	if !strings.ContainsAny(text, ".eE") {
		n, err := strconv.ParseInt(text, 10, 64)
		return n, err == nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f != math.Trunc(f) || f >= 1<<63 || f < -(1<<63) {
		return 0, false
	}
	return int64(f), true
}
