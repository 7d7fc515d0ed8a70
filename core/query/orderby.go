package query

import (
	"strings"
)

// ParseOrderBy parses an OData $orderby (spec §7.3):
//
//	orderby   = orderItem *( BWS "," BWS orderItem )
//	orderItem = memberPath [ RWS ( "asc" / "desc" ) ]
//
// Up to MaxOrderBy items, each member at most once (compared by storage
// path, so data/amount and data.amount are the same member); the direction
// is case-insensitive and defaults to ascending. A member sorts by
// Field.SortPath when set, else by Field.Path. Members marked NoSort or
// NoFilter, and array-valued members, are rejected. A blank src returns
// (nil, nil); the caller applies the default order. The id tie-breaker is
// not added here (store adapters append it).
//
// Errors are *errs.Error with Reason "invalid_orderby" and the member as
// written as Target when a member is at fault (else "$orderby").
func ParseOrderBy(src string, r Resolver) ([]Sort, error) {
	const option = "$orderby"
	if strings.Trim(src, " \t") == "" {
		return nil, nil
	}
	if err := checkText(src, option, ReasonOrderBy, MaxFilterLen); err != nil {
		return nil, err
	}
	var out []Sort
	seen := map[string]bool{}
	i := skipBlanks(src, 0)
	for {
		if i >= len(src) || !isIDStart(runeAt(src, i)) {
			return nil, foundErr(ReasonOrderBy, option, src, i, "expected a member")
		}
		start := i
		segs, end, errPos := scanPath(src, i)
		if errPos >= 0 {
			return nil, syntaxError(ReasonOrderBy, option, "", errPos, "expected a member name after %q", src[errPos-1])
		}
		member := src[start:end]
		if len(out) == MaxOrderBy {
			return nil, syntaxError(ReasonOrderBy, option, member, start, "more than %d sort items", MaxOrderBy)
		}
		i = end
		desc := false
		j := skipBlanks(src, i)
		if j > i && j < len(src) && isIDStart(runeAt(src, j)) {
			dsegs, dend, _ := scanPath(src, j)
			switch {
			case len(dsegs) == 1 && asciiEqualFold(dsegs[0], "asc"):
			case len(dsegs) == 1 && asciiEqualFold(dsegs[0], "desc"):
				desc = true
			default:
				return nil, foundErr(ReasonOrderBy, option, src, j, "expected 'asc', 'desc', ',' or the end")
			}
			i = dend
		}
		f, err := resolveSort(r, segs, member, start, ReasonOrderBy, option)
		if err != nil {
			return nil, err
		}
		key := f.String()
		if seen[key] {
			return nil, syntaxError(ReasonOrderBy, option, member, start, "member '%s' appears twice", member)
		}
		seen[key] = true
		out = append(out, Sort{Path: f, Desc: desc})

		i = skipBlanks(src, i)
		if i >= len(src) {
			return out, nil
		}
		if src[i] != ',' {
			return nil, foundErr(ReasonOrderBy, option, src, i, "expected ',' or the end")
		}
		i = skipBlanks(src, i+1)
	}
}

// resolveSort resolves a sort member and returns the path to sort by.
func resolveSort(r Resolver, segs []string, member string, pos int, reason, option string) (Path, error) {
	if r == nil {
		return nil, syntaxError(reason, option, member, pos, "unknown member '%s'", member)
	}
	f, err := r.Resolve(segs)
	if err != nil {
		return nil, resolveError(err, reason, option, member, pos)
	}
	switch {
	case f.NoSort, f.NoFilter, f.Array != nil, f.Type < String || f.Type > Enum:
		return nil, syntaxError(reason, option, member, pos, "member '%s' cannot be sorted", member)
	}
	if f.SortPath != nil {
		return f.SortPath, nil
	}
	return f.Path, nil
}

// foundErr is a syntax error at src[pos] that quotes what was found there.
func foundErr(reason, option, src string, pos int, what string) error {
	found := "the end"
	if pos < len(src) {
		end := pos + 1
		for end < len(src) && end-pos < 16 && !isBlank(src[end]) && src[end] != ',' {
			end++
		}
		for end < len(src) && !isRuneStart(src[end]) {
			end++
		}
		found = "'" + src[pos:end] + "'"
	}
	return syntaxError(reason, option, "", pos, "%s, found %s", what, found)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
