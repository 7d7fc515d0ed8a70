package query

// Field is a member path resolved against a schema.
type Field struct {
	// Name is the member as the caller wrote it (for error targets).
	Name string
	// Path is the storage path of the value. When Array is set, Path is
	// relative to an element of that array (empty = the element itself).
	Path Path
	// Array, when non-nil, is the storage path of an array that holds the
	// value: comparisons mean "any element satisfies" (compiled to AnyRow).
	Array Path
	// Type is the value type used to coerce literals.
	Type Type
	// Enum maps lower-case names to codes for Type Enum.
	Enum map[string]int64
	// SortPath, when non-nil, is the storage path used by $orderby instead of
	// Path (select-like fields sort by their label). Nil = Path.
	SortPath Path
	// NoSort marks fields that cannot be sorted (arrays, objects).
	NoSort bool
	// NoFilter marks fields that cannot be filtered (e.g. password hashes).
	NoFilter bool
}

// Resolver maps a member path, as written by a caller (segments split on '/'
// or '.', original case), to a schema field. It is the gate between caller
// text and storage keys: an unknown member must return an error (an
// *errs.Error with Code Invalid is preferred; the parser sets Reason, Target
// and Pos).
type Resolver interface {
	Resolve(segments []string) (Field, error)
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(segments []string) (Field, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(segments []string) (Field, error) { return f(segments) }
