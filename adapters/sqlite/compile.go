package sqlite

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
)

// This file compiles the core query AST (core/query/ast.go, spec §7.2, §7.7)
// to parameterised SQL over the JSONB column "doc".
//
// Safety: values are always bound parameters. Storage keys (already resolved
// against a schema by core/query) become JSON path string literals such as
// '$."data"."amount"': each key is a JSON-encoded string inside the path
// (SQLite decodes its escapes, so '"' and '\' in a key are matched exactly),
// empty keys and invalid UTF-8 are rejected, and the SQL literal's single
// quotes are doubled. The path must be a
// literal, not a parameter, so that the expression matches the expression
// indexes EnsureIndex builds.
//
// Three-valued logic: a leaf may evaluate to SQL NULL (absent value). Not is
// pushed down to the leaves (De Morgan), and a negated leaf is written
// "(leaf) IS NOT 1", so a negation always matches what its positive form does
// not match, absent and null values included (Ne matches absent, §7.2.6).
// Positive leaves stay plain conjunctions so the planner can use indexes.

// maxDepth bounds AST nesting (core/query limits parsed filters to 32).
const maxDepth = 64

// compiler accumulates bound arguments for one statement.
type compiler struct {
	args  []any
	alias int // json_each aliases handed out so far
}

// scope says what paths are relative to: the document root, or one element
// of an AnyRow array.
type scope struct {
	container string // SQL expression of the JSON value keyed paths start from
	selfValue string // SQL expression of the element itself ("" at the root)
	selfType  string // its json type expression
	root      bool
}

var rootScope = scope{container: "doc", root: true}

func (c *compiler) bind(v any) string {
	c.args = append(c.args, v)
	return "?"
}

// jsonPath returns the JSON path '$."k1"."k2"' for keys (not yet SQL-quoted).
func jsonPath(keys []string) (string, error) {
	var b strings.Builder
	b.WriteString("$")
	for _, k := range keys {
		if k == "" || !utf8.ValidString(k) {
			return "", errs.Invalidf("store key %q cannot be used in a query", k).WithReason("invalid_path")
		}
		// SQLite reads a double-quoted path label with JSON string escapes,
		// so a JSON-encoded key is matched exactly, '"' and '\\' included.
		q, err := json.Marshal(k)
		if err != nil {
			return "", errs.Wrap(errs.Invalid, err, "store key cannot be used in a query").WithReason("invalid_path")
		}
		b.WriteString(".")
		b.Write(q)
	}
	return b.String(), nil
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// pathLiteral is jsonPath quoted as an SQL literal.
func pathLiteral(keys []string) (string, error) {
	p, err := jsonPath(keys)
	if err != nil {
		return "", err
	}
	return sqlString(p), nil
}

// columnFor maps root paths that have their own column.
func columnFor(p query.Path) string {
	if len(p) != 1 {
		return ""
	}
	switch p[0] {
	case "id":
		return "id"
	case "corpId":
		return "corp_id"
	}
	return ""
}

// ref returns the SQL value and json-type expressions of p in sc.
func (sc scope) ref(p query.Path) (value, typ string, err error) {
	if len(p) == 0 {
		if sc.root {
			return "", "", errs.Invalidf("empty path outside an element predicate").WithReason("invalid_path")
		}
		return sc.selfValue, sc.selfType, nil
	}
	if sc.root {
		if col := columnFor(p); col != "" {
			return col, "'text'", nil
		}
	}
	lit, err := pathLiteral(p)
	if err != nil {
		return "", "", err
	}
	return "json_extract(" + sc.container + ", " + lit + ")", "json_type(" + sc.container + ", " + lit + ")", nil
}

// kind classifies a literal: the json types it can equal and its bound form.
func kind(v query.Value) (types string, arg any, err error) {
	switch x := v.(type) {
	case string:
		return "'text'", x, nil
	case float64:
		return "'integer', 'real'", x, nil
	case float32:
		return "'integer', 'real'", float64(x), nil
	case int64:
		return "'integer', 'real'", x, nil
	case int:
		return "'integer', 'real'", int64(x), nil
	case int32:
		return "'integer', 'real'", int64(x), nil
	case bool:
		// json_extract yields 1/0 for JSON true/false.
		if x {
			return "'true', 'false'", int64(1), nil
		}
		return "'true', 'false'", int64(0), nil
	}
	return "", nil, errs.Invalidf("unsupported literal of type %T", v).WithReason("invalid_filter")
}

var sqlOps = map[query.Op]string{query.Eq: "=", query.Gt: ">", query.Ge: ">=", query.Lt: "<", query.Le: "<="}

// expr compiles e; neg asks for its negation.
func (c *compiler) expr(e query.Expr, sc scope, neg bool, depth int) (string, error) {
	if depth > maxDepth {
		return "", errs.Invalidf("filter nested too deeply").WithReason("invalid_filter")
	}
	switch x := e.(type) {
	case query.And:
		return c.junction(x.Items, sc, neg, depth, true)
	case query.Or:
		return c.junction(x.Items, sc, neg, depth, false)
	case query.Not:
		return c.expr(x.X, sc, !neg, depth+1)
	case query.Const:
		return boolSQL(x.Value != neg), nil
	case query.Cmp:
		if x.Op == query.Ne {
			// Ne is the complement of Eq, absent/null included (§7.2.6).
			x.Op, neg = query.Eq, !neg
		}
		return c.leaf(c.cmp(x, sc))(neg)
	case query.In:
		return c.leaf(c.in(x, sc))(neg)
	case query.Str:
		return c.leaf(c.str(x, sc))(neg)
	case query.Null:
		v, _, err := sc.ref(x.Path)
		if err != nil {
			return "", err
		}
		// json_extract is NULL for absent and JSON null alike, and these
		// tests are two-valued, so negation is a plain flip.
		if x.IsNull != neg {
			return v + " IS NULL", nil
		}
		return v + " IS NOT NULL", nil
	case query.AnyRow:
		return c.leaf(c.anyRow(x, sc, depth))(neg)
	case nil:
		// Only a whole filter may be absent (where); a missing operand
		// inside And, Or, Not or AnyRow is a malformed tree, as in the Mongo
		// compiler — never silently true or false.
		return "", errs.Invalidf("empty filter node").WithReason("invalid_filter")
	}
	// Pointer nodes (*query.Cmp, …) are not part of the AST: both
	// compilers refuse them.
	return "", errs.Invalidf("unsupported filter node %T", e).WithReason("invalid_filter")
}

func boolSQL(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// leaf adapts a positive leaf to the requested polarity.
func (c *compiler) leaf(s string, err error) func(neg bool) (string, error) {
	return func(neg bool) (string, error) {
		if err != nil {
			return "", err
		}
		if neg {
			return "(" + s + ") IS NOT 1", nil
		}
		return s, nil
	}
}

func (c *compiler) junction(items []query.Expr, sc scope, neg bool, depth int, and bool) (string, error) {
	// Not(And) = Or(Not…), Not(Or) = And(Not…).
	isAnd := and != neg
	if len(items) == 0 {
		return boolSQL(isAnd), nil
	}
	parts := make([]string, 0, len(items))
	for _, it := range items {
		s, err := c.expr(it, sc, neg, depth+1)
		if err != nil {
			return "", err
		}
		parts = append(parts, "("+s+")")
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	sep := " OR "
	if isAnd {
		sep = " AND "
	}
	return strings.Join(parts, sep), nil
}

func (c *compiler) cmp(x query.Cmp, sc scope) (string, error) {
	op, ok := sqlOps[x.Op]
	if !ok {
		return "", errs.Invalidf("unsupported operator %v", x.Op).WithReason("invalid_filter")
	}
	v, typ, err := sc.ref(x.Path)
	if err != nil {
		return "", err
	}
	types, arg, err := kind(x.Value)
	if err != nil {
		return "", err
	}
	return typ + " IN (" + types + ") AND " + v + " " + op + " " + c.bind(arg), nil
}

func (c *compiler) in(x query.In, sc scope) (string, error) {
	if len(x.Values) == 0 {
		return "0", nil
	}
	v, typ, err := sc.ref(x.Path)
	if err != nil {
		return "", err
	}
	// Group the values by kind: one "type guard AND v IN (…)" per kind.
	var order []string
	groups := map[string][]any{}
	for _, val := range x.Values {
		types, arg, err := kind(val)
		if err != nil {
			return "", err
		}
		if _, seen := groups[types]; !seen {
			order = append(order, types)
		}
		groups[types] = append(groups[types], arg)
	}
	parts := make([]string, 0, len(order))
	for _, types := range order {
		ph := make([]string, len(groups[types]))
		for i, a := range groups[types] {
			ph[i] = c.bind(a)
		}
		parts = append(parts, "("+typ+" IN ("+types+") AND "+v+" IN ("+strings.Join(ph, ", ")+"))")
	}
	return strings.Join(parts, " OR "), nil
}

func (c *compiler) str(x query.Str, sc scope) (string, error) {
	v, typ, err := sc.ref(x.Path)
	if err != nil {
		return "", err
	}
	guard := typ + " = 'text'"
	if x.Value == "" {
		// Every present string contains, starts and ends with "".
		switch x.Fn {
		case query.Contains, query.StartsWith, query.EndsWith:
			return guard, nil
		}
	}
	// instr and substr are case-sensitive and count characters; LIKE is not
	// case-sensitive for ASCII, so it is not used.
	n := strconv.Itoa(utf8.RuneCountInString(x.Value))
	switch x.Fn {
	case query.Contains:
		return guard + " AND instr(" + v + ", " + c.bind(x.Value) + ") > 0", nil
	case query.StartsWith:
		return guard + " AND substr(" + v + ", 1, " + n + ") = " + c.bind(x.Value), nil
	case query.EndsWith:
		return guard + " AND substr(" + v + ", -" + n + ") = " + c.bind(x.Value), nil
	}
	return "", errs.Invalidf("unsupported string function %v", x.Fn).WithReason("invalid_filter")
}

func (c *compiler) anyRow(x query.AnyRow, sc scope, depth int) (string, error) {
	var container, typ string
	if len(x.Array) == 0 {
		if sc.root {
			return "", errs.Invalidf("element predicate without an array path").WithReason("invalid_path")
		}
		// An array of arrays: the element itself.
		container = "CASE WHEN " + sc.selfType + " = 'array' THEN " + sc.selfValue + " END"
		typ = sc.selfType
	} else {
		if sc.root && columnFor(x.Array) != "" {
			// id and corpId are strings, never arrays; the predicate is
			// still checked, so a malformed one is refused here as well.
			none := scope{container: "NULL", selfValue: "NULL", selfType: "NULL"}
			if _, err := (&compiler{}).expr(x.Pred, none, false, depth+1); err != nil {
				return "", err
			}
			return "0", nil
		}
		lit, err := pathLiteral(x.Array)
		if err != nil {
			return "", err
		}
		container = sc.container + ", " + lit
		typ = "json_type(" + container + ")"
	}
	c.alias++
	a := "je" + strconv.Itoa(c.alias)
	inner := scope{
		// json_each yields objects and arrays as JSON text and scalars as
		// SQL values; only objects have keys (and a bare string would be
		// malformed JSON for json_extract).
		container: "CASE WHEN " + a + ".type = 'object' THEN " + a + ".value END",
		selfValue: a + ".value",
		selfType:  a + ".type",
	}
	pred, err := c.expr(x.Pred, inner, false, depth+1)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s = 'array' AND EXISTS (SELECT 1 FROM json_each(%s) AS %s WHERE %s)", typ, container, a, pred), nil
}

// orderBy compiles the sort, appending id ascending as the tie-breaker.
// SQLite sorts NULL first ascending and last descending, which is the
// order §7.3 asks for.
func orderBy(sorts []query.Sort) (string, error) {
	parts := make([]string, 0, len(sorts)+1)
	idLast := false
	for _, s := range sorts {
		expr := columnFor(s.Path)
		if expr == "" {
			if len(s.Path) == 0 {
				return "", errs.Invalidf("empty sort path").WithReason("invalid_orderby")
			}
			lit, err := pathLiteral(s.Path)
			if err != nil {
				return "", err
			}
			expr = "json_extract(doc, " + lit + ")"
		}
		if s.Desc {
			expr += " DESC"
		}
		parts = append(parts, expr)
		idLast = len(s.Path) == 1 && s.Path[0] == "id"
	}
	if !idLast {
		parts = append(parts, "id")
	}
	return strings.Join(parts, ", "), nil
}

// where compiles a tenant-scoped WHERE clause (without the keyword).
func (c *compiler) where(tenant string, filter query.Expr) (string, error) {
	w := "corp_id = " + c.bind(tenant) + " AND deleted = 0"
	if filter == nil {
		return w, nil
	}
	f, err := c.expr(filter, rootScope, false, 0)
	if err != nil {
		return "", err
	}
	return w + " AND (" + f + ")", nil
}
