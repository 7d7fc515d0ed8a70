// Package query is the hub's one query language: a typed filter/sort AST that
// every surface parses into (OData $filter and $orderby here; each dialect's
// filter in its connector) and every store adapter compiles (to parameterised
// SQL, to a typed MongoDB filter document). Nothing a caller writes reaches a
// store as text: member paths are resolved against a schema by a Resolver
// before they become Paths, and literals are coerced to typed Values.
//
// It is a leaf package: it imports only the standard library and core/errs.
package query

import "strings"

// Path is a storage path: the keys from the document root to a value, e.g.
// {"data","amount"} or {"createBy","id"}. Paths in the AST are always resolved
// (they name real storage keys, in their stored case).
type Path []string

// String joins the path with '.', the storage spelling.
func (p Path) String() string { return strings.Join(p, ".") }

// Type is the value type of a resolved field.
type Type int

const (
	// String values compare in binary (code point) order.
	String Type = iota + 1
	// Number values are float64.
	Number
	// Time values are int64 epoch milliseconds.
	Time
	// Bool values are bool.
	Bool
	// Enum values are int64 codes; literals may name them (Field.Enum).
	Enum
)

func (t Type) String() string {
	switch t {
	case String:
		return "string"
	case Number:
		return "number"
	case Time:
		return "timestamp"
	case Bool:
		return "boolean"
	case Enum:
		return "enum"
	}
	return "unknown"
}

// Value is a typed literal. Its dynamic type is one of: string (String),
// float64 (Number), int64 (Time and Enum), bool (Bool). Never nil: absence is
// expressed with Null.
type Value = any

// Op is a comparison operator.
type Op int

const (
	Eq Op = iota + 1
	Ne
	Gt
	Ge
	Lt
	Le
)

var opNames = map[Op]string{Eq: "eq", Ne: "ne", Gt: "gt", Ge: "ge", Lt: "lt", Le: "le"}

func (o Op) String() string { return opNames[o] }

// Flip returns the operator with its operands swapped (5 lt x == x gt 5).
func (o Op) Flip() Op {
	switch o {
	case Gt:
		return Lt
	case Ge:
		return Le
	case Lt:
		return Gt
	case Le:
		return Ge
	}
	return o
}

// StrFn is a string function.
type StrFn int

const (
	Contains StrFn = iota + 1
	StartsWith
	EndsWith
)

func (f StrFn) String() string {
	switch f {
	case Contains:
		return "contains"
	case StartsWith:
		return "startswith"
	case EndsWith:
		return "endswith"
	}
	return "?"
}

// Expr is a filter node. The concrete types are And, Or, Not, Cmp, In, Str,
// Null, AnyRow and Const; adapters switch on them and must reject anything else.
type Expr interface{ isExpr() }

// And holds when every item holds (an empty And holds).
type And struct{ Items []Expr }

// Or holds when any item holds (an empty Or never holds).
type Or struct{ Items []Expr }

// Not negates X.
type Not struct{ X Expr }

// Cmp compares the value at Path with Value.
//
// Semantics every adapter must implement (spec §7.2):
//   - Eq never matches an absent or null value (use Null for that).
//   - Ne matches an absent or null value (OData semantics).
//   - Gt, Ge, Lt, Le never match an absent or null value.
//   - Strings compare in binary order; numbers and times numerically.
type Cmp struct {
	Path  Path
	Op    Op
	Value Value
}

// In holds when the value at Path equals one of Values (never for absent/null).
type In struct {
	Path   Path
	Values []Value
}

// Str applies a case-sensitive string function; it never matches absent/null
// or non-string values. Contains with "" matches every present string.
type Str struct {
	Path  Path
	Fn    StrFn
	Value string
}

// Null holds when the value at Path is absent or null (IsNull) or present and
// not null (!IsNull).
type Null struct {
	Path   Path
	IsNull bool
}

// AnyRow holds when Array (a path to an array value) has at least one element
// for which Pred holds. Paths inside Pred are relative to the element; an
// empty Path inside Pred means the element itself (arrays of scalars).
// This is how comparisons on array-valued fields and child tables ("any
// element satisfies") are expressed.
type AnyRow struct {
	Array Path
	Pred  Expr
}

// Const is a constant truth value (e.g. the compiled form of an always-true
// permission filter).
type Const struct{ Value bool }

func (And) isExpr()    {}
func (Or) isExpr()     {}
func (Not) isExpr()    {}
func (Cmp) isExpr()    {}
func (In) isExpr()     {}
func (Str) isExpr()    {}
func (Null) isExpr()   {}
func (AnyRow) isExpr() {}
func (Const) isExpr()  {}

// Sort orders by the value at Path. Absent/null values sort first ascending
// and last descending.
type Sort struct {
	Path Path
	Desc bool
}

// Query is what a store executes: a filter, an order and a page.
// Projection and expansion happen above the store.
type Query struct {
	// Filter may be nil (everything).
	Filter Expr
	// Sort items, applied in order. Adapters append id ascending as a final
	// tie-breaker when it is not already the last item.
	Sort []Sort
	// Limit is the maximum number of documents; 0 means none are returned,
	// a negative value means no limit.
	Limit int
	// Offset skips that many matching documents.
	Offset int
}

// AndOf combines expressions with And, dropping nils and flattening nested
// Ands. It returns nil when nothing is left.
func AndOf(items ...Expr) Expr {
	var out []Expr
	for _, it := range items {
		switch x := it.(type) {
		case nil:
		case And:
			out = append(out, x.Items...)
		default:
			out = append(out, it)
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return And{Items: out}
}
