package sdk

import (
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/ids"
	"github.com/eimshub/eimshub/core/query"
)

// The hub's error model (core/errs), re-exported.
type (
	// Error is the typed error every Host method returns.
	Error = errs.Error
	// Code classifies an Error.
	Code = errs.Code
	// ErrorDetail is one further problem attached to an Error.
	ErrorDetail = errs.Detail
)

// The error codes.
const (
	Internal         = errs.Internal
	Invalid          = errs.Invalid
	NotFound         = errs.NotFound
	Conflict         = errs.Conflict
	Unauthorized     = errs.Unauthorized
	Forbidden        = errs.Forbidden
	RateLimited      = errs.RateLimited
	Unavailable      = errs.Unavailable
	TooLarge         = errs.TooLarge
	UnsupportedMedia = errs.UnsupportedMedia
	MethodNotAllowed = errs.MethodNotAllowed
)

// Errorf returns an *Error of code with a formatted, caller-safe message.
func Errorf(code Code, format string, args ...any) *Error { return errs.Newf(code, format, args...) }

// CodeOf returns the Code of the first *Error in err's chain (Internal if none).
func CodeOf(err error) Code { return errs.CodeOf(err) }

// AsError returns the first *Error in err's chain, or an Internal one.
func AsError(err error) *Error { return errs.As(err) }

// The hub's query AST (core/query), re-exported. Every dialect's filter is
// parsed into it; Host.FindRecords executes it.
type (
	Query  = query.Query
	Expr   = query.Expr
	Path   = query.Path
	Value  = query.Value
	Op     = query.Op
	StrFn  = query.StrFn
	Sort   = query.Sort
	And    = query.And
	Or     = query.Or
	Not    = query.Not
	Cmp    = query.Cmp
	In     = query.In
	Str    = query.Str
	Null   = query.Null
	AnyRow = query.AnyRow
	Const  = query.Const
)

// Comparison operators and string functions.
const (
	Eq         = query.Eq
	Ne         = query.Ne
	Gt         = query.Gt
	Ge         = query.Ge
	Lt         = query.Lt
	Le         = query.Le
	Contains   = query.Contains
	StartsWith = query.StartsWith
	EndsWith   = query.EndsWith
)

// AndOf combines expressions with And (see query.AndOf).
func AndOf(items ...Expr) Expr { return query.AndOf(items...) }

// GUID returns the GUID spelling of a hub id (core/ids): 24 hex digits and
// a checksum, grouped 8-4-4-4-12; any other id is returned unchanged. For
// dialects whose clients expect GUID-shaped ids.
func GUID(id string) string { return ids.GUID(id) }

// FromGUID returns the hub id a GUID spelling stands for; anything else
// (a hub id, a foreign GUID) is returned unchanged.
func FromGUID(s string) string { return ids.FromGUID(s) }
