package query

// This file declares the parsers' shared types and limits. The entry points
// are ParseFilter (filter.go), ParseOrderBy (orderby.go), ParseSelect
// (select.go), ParseExpand (expand.go), ParsePaging (paging.go) and
// ParseDynamic / ParseDynamicFilter (dynamic.go, the original's
// DynamicFindOptions body); Walk and Format (walk.go) inspect an Expr.
// Their behaviour is spec eims-native.md §7 (grammar, typing, null/array
// semantics, limits, errors with byte positions). Errors are *errs.Error with Code errs.Invalid, Reason
// one of invalid_filter / invalid_orderby / invalid_select / invalid_expand /
// invalid_query_option, Target the member path or option name at fault, and
// Pos the 0-based byte offset into the option text.

// SelectItem is one $select member as written (segments split on '/' or '.').
type SelectItem struct {
	Segments []string
	Pos      int
}

// ExpandItem is one $expand navigation with its nested options. A dotted
// path a.b is returned as a with a nested expand b.
type ExpandItem struct {
	Name   string
	Pos    int
	Select []SelectItem // nil = all
	Expand []ExpandItem
}

// Limits of the query language (spec §1.6, §7.2).
const (
	MaxFilterLen   = 4096
	MaxFilterNodes = 200
	MaxDepth       = 32
	MaxInValues    = 100
	MaxOrderBy     = 5
	MaxExpandDepth = 3
	DefaultTop     = 20
	MaxTop         = 5000
)
