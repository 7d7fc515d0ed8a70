package query

import (
	"fmt"
	"strconv"
	"strings"
)

// Walk visits e and its descendants depth-first, parents before children.
// When fn returns false, the children of that node are skipped. A nil e is
// not visited. Pred of an AnyRow is a child of it.
func Walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	switch x := e.(type) {
	case And:
		for _, it := range x.Items {
			Walk(it, fn)
		}
	case Or:
		for _, it := range x.Items {
			Walk(it, fn)
		}
	case Not:
		Walk(x.X, fn)
	case AnyRow:
		Walk(x.Pred, fn)
	}
}

// Format renders e in a stable, readable form for logs and golden tests:
//
//	and(cmp(data.amount ge 100.0), or(cmp(data.region eq "华东"), str(data.customer contains "乙")), any(data.items, cmp(qty gt 10.0)))
//
// Nodes: and(…), or(…), not(x), cmp(path op value), in(path [v, …]),
// str(path fn "s"), null(path) / notnull(path), any(array, pred), true,
// false; a nil Expr is "<nil>" and an empty path "$". Values: strings are Go
// quoted, float64 always carries a '.' or an exponent (100.0), int64 is
// plain (1704038400000), bools are true/false.
func Format(e Expr) string {
	var b strings.Builder
	format(&b, e)
	return b.String()
}

func format(b *strings.Builder, e Expr) {
	switch x := e.(type) {
	case nil:
		b.WriteString("<nil>")
	case And:
		formatList(b, "and", x.Items)
	case Or:
		formatList(b, "or", x.Items)
	case Not:
		b.WriteString("not(")
		format(b, x.X)
		b.WriteByte(')')
	case Cmp:
		fmt.Fprintf(b, "cmp(%s %s %s)", formatPath(x.Path), x.Op, FormatValue(x.Value))
	case In:
		fmt.Fprintf(b, "in(%s [", formatPath(x.Path))
		for i, v := range x.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(FormatValue(v))
		}
		b.WriteString("])")
	case Str:
		fmt.Fprintf(b, "str(%s %s %s)", formatPath(x.Path), x.Fn, strconv.Quote(x.Value))
	case Null:
		if x.IsNull {
			fmt.Fprintf(b, "null(%s)", formatPath(x.Path))
		} else {
			fmt.Fprintf(b, "notnull(%s)", formatPath(x.Path))
		}
	case AnyRow:
		fmt.Fprintf(b, "any(%s, ", formatPath(x.Array))
		format(b, x.Pred)
		b.WriteByte(')')
	case Const:
		b.WriteString(strconv.FormatBool(x.Value))
	default:
		fmt.Fprintf(b, "?%T", e)
	}
}

func formatList(b *strings.Builder, name string, items []Expr) {
	b.WriteString(name)
	b.WriteByte('(')
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		format(b, it)
	}
	b.WriteByte(')')
}

func formatPath(p Path) string {
	if len(p) == 0 {
		return "$"
	}
	return p.String()
}

// FormatValue renders a Value as Format does.
func FormatValue(v Value) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eIN") {
			s += ".0"
		}
		return s
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "nil"
	}
	return fmt.Sprintf("%T(%v)", v, v)
}
