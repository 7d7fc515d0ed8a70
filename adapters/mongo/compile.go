package mongo

import (
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
)

// This file compiles the core query AST (core/query/ast.go; spec §7.2,
// §7.3, §7.7) to typed MongoDB filter and sort documents.
//
// Safety (DESIGN.md pitfall): the compiler emits only the whitelisted
// operators $and, $or, $nor, $eq, $ne, $gt, $gte, $lt, $lte, $in, $regex,
// $not, $elemMatch, $type and $size — never $where, $function,
// $accumulator or $expr. Field keys come only from resolved query.Paths and
// every segment is checked (no '$' prefix, no '.', no NUL, valid UTF-8), so a
// key can never be read as an operator; values are only the AST's typed
// scalars (string, float64, int64, bool), so a value can never be an
// operator document either: the string "$where" stays a string.
//
// Semantics (query.Cmp's doc):
//   - Eq {k: v} and In {k: {$in: […]}} never match absent or null, since v
//     is never null.
//   - Ne {k: {$ne: v}} matches absent and null (OData semantics, §7.2.6).
//   - Gt/Ge/Lt/Le: MongoDB compares only within one type class (numbers
//     with numbers, strings with strings in binary order), so they never
//     match null, absent or a value of another type.
//   - Str is an unanchored/anchored $regex over the quoted literal (no
//     options: case-sensitive); $regex matches only strings.
//   - Null {k: null} matches absent or null; {k: {$ne: null}} the rest.
//   - Not is {$nor: [x]}: it matches exactly what x does not, absent and
//     null values included.
//   - AnyRow is $elemMatch: the query form {k: {$elemMatch: {field: …}}}
//     when the predicate reads fields of the element (child-table rows), the
//     operator form {k: {$elemMatch: {$gt: 5}}} when it reads the element
//     itself (arrays of scalars).
//
// Limitations (documented, checked by tests):
//   - MongoDB traverses arrays implicitly: a Cmp on a path whose value is
//     an array holds when any element satisfies it (which is what §7.2.4
//     asks for array-valued fields anyway), and $ne holds only when no
//     element equals the value.
//   - The query form of $elemMatch only considers elements that are
//     documents or arrays, so a Ne/Not predicate on fields never matches a
//     scalar element.
//   - The operator form of $elemMatch cannot hold $or: an Or in a predicate
//     on the element itself is distributed out of the AnyRow (∃e(a∨b) ≡
//     ∃e a ∨ ∃e b), up to maxAlternatives alternatives; a predicate that
//     reads both the element itself and its fields is rejected.
//   - Several operators on the element itself in one conjunction are sent
//     as one operator document, which may repeat a key ({$ne: 1, $ne: 2});
//     the server evaluates every element of the document.

const (
	// maxDepth bounds AST nesting (core/query limits parsed filters to 32).
	maxDepth = 64
	// maxAlternatives bounds the disjuncts an Or inside an AnyRow over
	// scalars may expand to.
	maxAlternatives = 64
)

// Base filter keys every query carries (tenant scope and soft delete).
const (
	keyID      = "_id"
	keyTenant  = "corpId"
	keyDeleted = "deleteFlag"
)

func invalid(format string, args ...any) *errs.Error {
	return errs.Invalidf(format, args...).WithReason("invalid_filter")
}

// scopeFilter is the filter of every statement: the tenant's live documents
// (soft-deleted ones carry deleteFlag: true), AND-ed with extra when not
// empty.
func scopeFilter(tenant string, extra bson.D) bson.D {
	f := bson.D{
		{Key: keyTenant, Value: tenant},
		{Key: keyDeleted, Value: bson.D{{Key: "$ne", Value: true}}},
	}
	switch {
	case len(extra) == 0:
	case len(extra) == 1 && extra[0].Key == "$and":
		f = append(f, extra[0])
	default:
		f = append(f, bson.E{Key: "$and", Value: bson.A{extra}})
	}
	return f
}

// falseDoc never matches (no value is in the empty list), at the root and
// inside a query-form $elemMatch alike.
func falseDoc() bson.D {
	return bson.D{{Key: keyID, Value: bson.D{{Key: "$in", Value: bson.A{}}}}}
}

// compileFilter compiles e (nil = everything) to a filter document; an
// empty document matches everything.
func compileFilter(e query.Expr) (bson.D, error) {
	if e == nil {
		return bson.D{}, nil
	}
	s, err := simplify(e, 0)
	if err != nil {
		return nil, err
	}
	return compileDoc(s, true, 0)
}

// simplify folds constants so that Const survives only as the whole filter
// or as an AnyRow predicate that always holds, and flattens nested And/Or.
func simplify(e query.Expr, depth int) (query.Expr, error) {
	if depth > maxDepth {
		return nil, invalid("filter is nested too deeply")
	}
	switch x := e.(type) {
	case query.And:
		var items []query.Expr
		for _, it := range x.Items {
			s, err := simplify(it, depth+1)
			if err != nil {
				return nil, err
			}
			switch y := s.(type) {
			case query.Const:
				if !y.Value {
					return query.Const{Value: false}, nil
				}
			case query.And:
				items = append(items, y.Items...)
			default:
				items = append(items, s)
			}
		}
		switch len(items) {
		case 0:
			return query.Const{Value: true}, nil
		case 1:
			return items[0], nil
		}
		return query.And{Items: items}, nil
	case query.Or:
		var items []query.Expr
		for _, it := range x.Items {
			s, err := simplify(it, depth+1)
			if err != nil {
				return nil, err
			}
			switch y := s.(type) {
			case query.Const:
				if y.Value {
					return query.Const{Value: true}, nil
				}
			case query.Or:
				items = append(items, y.Items...)
			default:
				items = append(items, s)
			}
		}
		switch len(items) {
		case 0:
			return query.Const{Value: false}, nil
		case 1:
			return items[0], nil
		}
		return query.Or{Items: items}, nil
	case query.Not:
		if x.X == nil {
			return nil, invalid("not without an operand")
		}
		s, err := simplify(x.X, depth+1)
		if err != nil {
			return nil, err
		}
		switch y := s.(type) {
		case query.Const:
			return query.Const{Value: !y.Value}, nil
		case query.Not:
			return y.X, nil
		}
		return query.Not{X: s}, nil
	case query.AnyRow:
		if x.Pred == nil {
			return nil, invalid("any-row condition without a predicate")
		}
		s, err := simplify(x.Pred, depth+1)
		if err != nil {
			return nil, err
		}
		if c, ok := s.(query.Const); ok && !c.Value {
			return c, nil
		}
		return query.AnyRow{Array: x.Array, Pred: s}, nil
	case query.Cmp, query.In, query.Str, query.Null, query.Const:
		return e, nil
	case nil:
		return nil, invalid("empty filter node")
	}
	return nil, invalid("unsupported filter node %T", e)
}

// fieldKey validates p's segments and joins them into a dotted key. At the
// root, the path "id" is the stored "_id".
func fieldKey(p query.Path, root bool) (string, error) {
	if len(p) == 0 {
		return "", invalid("empty field path outside an any-row condition")
	}
	for _, seg := range p {
		if seg == "" || seg[0] == '$' || strings.ContainsAny(seg, ".\x00") || !utf8.ValidString(seg) {
			return "", errs.Invalidf("field key %q cannot be used in a query", seg).
				WithReason("invalid_path").WithTarget(p.String())
		}
	}
	if root && len(p) == 1 && p[0] == "id" {
		return keyID, nil
	}
	return strings.Join(p, "."), nil
}

// literal checks that v is one of the AST's scalar value types (never a
// document or array that could carry an operator) and normalises Go ints.
func literal(v query.Value) (any, error) {
	switch x := v.(type) {
	case string, float64, int64, bool:
		return v, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case nil:
		return nil, invalid("null literal in a comparison (use a null test)")
	}
	return nil, invalid("unsupported literal of type %T", v)
}

var cmpOps = map[query.Op]string{
	query.Eq: "$eq", query.Ne: "$ne",
	query.Gt: "$gt", query.Ge: "$gte", query.Lt: "$lt", query.Le: "$lte",
}

// compileDoc compiles a simplified expression to a query document whose
// keys are fields of the root document (root) or of an array element.
func compileDoc(e query.Expr, root bool, depth int) (bson.D, error) {
	if depth > maxDepth {
		return nil, invalid("filter is nested too deeply")
	}
	list := func(items []query.Expr) (bson.A, error) {
		out := make(bson.A, 0, len(items))
		for _, it := range items {
			d, err := compileDoc(it, root, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		return out, nil
	}
	switch x := e.(type) {
	case query.Const:
		if x.Value {
			return bson.D{}, nil
		}
		return falseDoc(), nil
	case query.And:
		if len(x.Items) == 0 {
			return bson.D{}, nil
		}
		items, err := list(x.Items)
		if err != nil {
			return nil, err
		}
		return bson.D{{Key: "$and", Value: items}}, nil
	case query.Or:
		if len(x.Items) == 0 {
			return falseDoc(), nil
		}
		items, err := list(x.Items)
		if err != nil {
			return nil, err
		}
		return bson.D{{Key: "$or", Value: items}}, nil
	case query.Not:
		items, err := list([]query.Expr{x.X})
		if err != nil {
			return nil, err
		}
		return bson.D{{Key: "$nor", Value: items}}, nil
	case query.AnyRow:
		key, err := fieldKey(x.Array, root)
		if err != nil {
			return nil, err
		}
		alts, err := anyRowOps(x.Pred, depth)
		if err != nil {
			return nil, err
		}
		if len(alts) == 1 {
			return bson.D{{Key: key, Value: alts[0]}}, nil
		}
		or := make(bson.A, len(alts))
		for i, a := range alts {
			or[i] = bson.D{{Key: key, Value: a}}
		}
		return bson.D{{Key: "$or", Value: or}}, nil
	case query.Cmp, query.In, query.Str, query.Null:
		key, err := fieldKey(leafPath(x), root)
		if err != nil {
			return nil, err
		}
		if c, ok := x.(query.Cmp); ok && c.Op == query.Eq {
			v, err := literal(c.Value)
			if err != nil {
				return nil, err
			}
			return bson.D{{Key: key, Value: v}}, nil
		}
		if n, ok := x.(query.Null); ok && n.IsNull {
			return bson.D{{Key: key, Value: nil}}, nil
		}
		ops, err := leafOps(x, false)
		if err != nil {
			return nil, err
		}
		return bson.D{{Key: key, Value: ops}}, nil
	}
	return nil, invalid("unsupported filter node %T", e)
}

func leafPath(e query.Expr) query.Path {
	switch x := e.(type) {
	case query.Cmp:
		return x.Path
	case query.In:
		return x.Path
	case query.Str:
		return x.Path
	case query.Null:
		return x.Path
	case query.AnyRow:
		return x.Array
	}
	return nil
}

// leafOps is the operator document of a leaf applied to one value (negated
// when neg), e.g. {$gte: 100} or {$not: {$regex: "^a"}}.
func leafOps(e query.Expr, neg bool) (bson.D, error) {
	var op string
	var val any
	switch x := e.(type) {
	case query.Cmp:
		name, ok := cmpOps[x.Op]
		if !ok {
			return nil, invalid("unsupported comparison operator %d", int(x.Op))
		}
		v, err := literal(x.Value)
		if err != nil {
			return nil, err
		}
		switch {
		case neg && x.Op == query.Eq:
			name, neg = "$ne", false
		case neg && x.Op == query.Ne:
			name, neg = "$eq", false
		}
		op, val = name, v
	case query.In:
		vals := make(bson.A, len(x.Values))
		for i, it := range x.Values {
			v, err := literal(it)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		op, val = "$in", vals
	case query.Str:
		p, err := strPattern(x)
		if err != nil {
			return nil, err
		}
		op, val = "$regex", p
	case query.Null:
		op, val = "$ne", nil
		if x.IsNull != neg {
			op = "$eq"
		}
		neg = false
	default:
		return nil, invalid("unsupported filter node %T", e)
	}
	d := bson.D{{Key: op, Value: val}}
	if neg {
		return bson.D{{Key: "$not", Value: d}}, nil
	}
	return d, nil
}

// strPattern is the regular expression of a string function: the literal
// quoted, anchored with ^ (startswith, usable as an index prefix) or \z
// (endswith; unlike $, \z does not also match before a final newline).
func strPattern(s query.Str) (string, error) {
	if !utf8.ValidString(s.Value) {
		return "", invalid("string literal is not valid UTF-8")
	}
	q := quoteRegex(s.Value)
	switch s.Fn {
	case query.Contains:
		return q, nil
	case query.StartsWith:
		return "^" + q, nil
	case query.EndsWith:
		return q + `\z`, nil
	}
	return "", invalid("unsupported string function %d", int(s.Fn))
}

// quoteRegex escapes every PCRE metacharacter of s (regexp.QuoteMeta's set,
// which PCRE reads the same way) and writes NUL as \x00, which the server
// would otherwise reject inside a pattern.
func quoteRegex(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == 0:
			b.WriteString(`\x00`)
		case strings.ContainsRune(`\.+*?()|[]{}^$`, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anyRowOps compiles AnyRow's predicate to the operator documents applied to
// the array field, one per alternative (OR-ed by the caller).
func anyRowOps(pred query.Expr, depth int) ([]bson.D, error) {
	if depth > maxDepth {
		return nil, invalid("filter is nested too deeply")
	}
	if c, ok := pred.(query.Const); ok && c.Value {
		// Any element at all: a non-empty array.
		return []bson.D{{
			{Key: "$type", Value: "array"},
			{Key: "$not", Value: bson.D{{Key: "$size", Value: int32(0)}}},
		}}, nil
	}
	self, keyed := pathUse(pred)
	switch {
	case self && keyed:
		return nil, invalid("a condition on array elements may not mix the element and its fields")
	case !self:
		d, err := compileDoc(pred, false, depth+1)
		if err != nil {
			return nil, err
		}
		if len(d) == 0 {
			return anyRowOps(query.Const{Value: true}, depth)
		}
		return []bson.D{{{Key: "$elemMatch", Value: d}}}, nil
	}
	conjs, err := dnf(nnf(pred, false))
	if err != nil {
		return nil, err
	}
	out := make([]bson.D, 0, len(conjs))
	for _, conj := range conjs {
		var ops bson.D
		for _, lit := range conj {
			d, err := selfOps(lit, depth+1)
			if err != nil {
				return nil, err
			}
			ops = append(ops, d...)
		}
		out = append(out, bson.D{{Key: "$elemMatch", Value: ops}})
	}
	return out, nil
}

// selfOps is the operator document of one literal (a leaf on the element
// itself, or its negation) in the operator form of $elemMatch.
func selfOps(e query.Expr, depth int) (bson.D, error) {
	neg := false
	if n, ok := e.(query.Not); ok {
		neg, e = true, n.X
	}
	if a, ok := e.(query.AnyRow); ok { // an array of arrays
		alts, err := anyRowOps(a.Pred, depth+1)
		if err != nil {
			return nil, err
		}
		if len(alts) != 1 {
			return nil, invalid("an or-condition on nested arrays is not supported")
		}
		if neg {
			return bson.D{{Key: "$not", Value: alts[0]}}, nil
		}
		return alts[0], nil
	}
	return leafOps(e, neg)
}

// pathUse reports whether e (an AnyRow predicate) reads the element itself
// (empty paths) and whether it reads fields of the element. Nested AnyRow
// predicates are relative to their own elements and are not inspected.
func pathUse(e query.Expr) (self, keyed bool) {
	switch x := e.(type) {
	case query.And:
		for _, it := range x.Items {
			s, k := pathUse(it)
			self, keyed = self || s, keyed || k
		}
	case query.Or:
		for _, it := range x.Items {
			s, k := pathUse(it)
			self, keyed = self || s, keyed || k
		}
	case query.Not:
		return pathUse(x.X)
	case query.Cmp, query.In, query.Str, query.Null, query.AnyRow:
		if len(leafPath(x)) == 0 {
			return true, false
		}
		return false, true
	}
	return self, keyed
}

// nnf pushes negations down to the leaves (De Morgan); a negated leaf stays
// Not{leaf}.
func nnf(e query.Expr, neg bool) query.Expr {
	switch x := e.(type) {
	case query.Not:
		return nnf(x.X, !neg)
	case query.And:
		items := make([]query.Expr, len(x.Items))
		for i, it := range x.Items {
			items[i] = nnf(it, neg)
		}
		if neg {
			return query.Or{Items: items}
		}
		return query.And{Items: items}
	case query.Or:
		items := make([]query.Expr, len(x.Items))
		for i, it := range x.Items {
			items[i] = nnf(it, neg)
		}
		if neg {
			return query.And{Items: items}
		}
		return query.Or{Items: items}
	case query.Const:
		return query.Const{Value: x.Value != neg}
	}
	if neg {
		return query.Not{X: e}
	}
	return e
}

// dnf turns a negation-normal expression into a disjunction of conjunctions
// of literals, refusing more than maxAlternatives disjuncts.
func dnf(e query.Expr) ([][]query.Expr, error) {
	switch x := e.(type) {
	case query.Or:
		var out [][]query.Expr
		for _, it := range x.Items {
			d, err := dnf(it)
			if err != nil {
				return nil, err
			}
			out = append(out, d...)
			if len(out) > maxAlternatives {
				return nil, tooComplex()
			}
		}
		return out, nil
	case query.And:
		out := [][]query.Expr{nil}
		for _, it := range x.Items {
			d, err := dnf(it)
			if err != nil {
				return nil, err
			}
			if len(out)*len(d) > maxAlternatives {
				return nil, tooComplex()
			}
			next := make([][]query.Expr, 0, len(out)*len(d))
			for _, a := range out {
				for _, b := range d {
					next = append(next, append(append([]query.Expr(nil), a...), b...))
				}
			}
			out = next
		}
		return out, nil
	case query.Const:
		if x.Value {
			return [][]query.Expr{nil}, nil
		}
		return nil, nil
	}
	return [][]query.Expr{{e}}, nil
}

func tooComplex() *errs.Error {
	return invalid("condition on array elements is too complex (more than %d alternatives)", maxAlternatives)
}

// compileSort compiles q's order, appending _id ascending as the final
// tie-breaker (spec §7.3). A path named twice keeps its first direction.
func compileSort(items []query.Sort) (bson.D, error) {
	out := make(bson.D, 0, len(items)+1)
	seen := make(map[string]bool, len(items)+1)
	for _, it := range items {
		key, err := fieldKey(it.Path, true)
		if err != nil {
			return nil, err
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		dir := int32(1)
		if it.Desc {
			dir = -1
		}
		out = append(out, bson.E{Key: key, Value: dir})
	}
	if !seen[keyID] {
		out = append(out, bson.E{Key: keyID, Value: int32(1)})
	}
	return out, nil
}

// findArgs compiles a whole query for collection-scoped tenant reads.
func findArgs(tenant string, q query.Query) (bson.D, *options.FindOptions, error) {
	f, err := compileFilter(q.Filter)
	if err != nil {
		return nil, nil, err
	}
	sort, err := compileSort(q.Sort)
	if err != nil {
		return nil, nil, err
	}
	opts := options.Find().SetSort(sort)
	if q.Offset > 0 {
		opts.SetSkip(int64(q.Offset))
	}
	if q.Limit > 0 {
		opts.SetLimit(int64(q.Limit))
	}
	return scopeFilter(tenant, f), opts, nil
}
