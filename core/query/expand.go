package query

import "strings"

// ParseExpand parses an OData $expand (spec §7.5), syntax only:
//
//	expand     = expandItem *( BWS "," BWS expandItem )
//	expandItem = navPath [ "(" expandOpt *( ";" expandOpt ) ")" ]
//	navPath    = navName *( ( "." / "/" ) navName )
//	expandOpt  = "$select=" select / "$expand=" expand
//
// A dotted path a.b.c is returned as a with a nested b with a nested c; the
// options in parentheses belong to the last name. Option names are
// case-insensitive; each may appear once per item; "$select=*" is the same
// as no $select. Nesting deeper than MaxExpandDepth (counting dotted names
// and nested $expand alike) is an error. Items are returned as written (a
// repeated name is not merged). A blank src returns (nil, nil).
//
// Navigation names are validated by the entity layer. Errors are
// *errs.Error with Reason "invalid_expand", Target "$expand" and Pos the
// byte offset into src.
func ParseExpand(src string) ([]ExpandItem, error) {
	const option = "$expand"
	if strings.Trim(src, " \t") == "" {
		return nil, nil
	}
	if err := checkText(src, option, ReasonExpand, MaxFilterLen); err != nil {
		return nil, err
	}
	items, end, err := scanExpand(src, 0, 1, false)
	if err != nil {
		return nil, err
	}
	if end < len(src) {
		return nil, foundErr(ReasonExpand, option, src, end, "expected ',' or the end")
	}
	return items, nil
}

// scanExpand scans an expand list at src[i:] whose items sit at nesting
// level depth (1 = top). Nested lists end before ';' or ')'.
func scanExpand(src string, i, depth int, nested bool) ([]ExpandItem, int, error) {
	const option = "$expand"
	var items []ExpandItem
	i = skipBlanks(src, i)
	for {
		if i >= len(src) || !isIDStart(runeAt(src, i)) {
			return nil, i, foundErr(ReasonExpand, option, src, i, "expected a navigation name")
		}
		start := i
		segs, end, errPos := scanPath(src, i)
		if errPos >= 0 {
			return nil, i, syntaxError(ReasonExpand, option, "", errPos, "expected a navigation name after %q", src[errPos-1])
		}
		// Positions of the segments: each is followed by one separator byte.
		pos := make([]int, len(segs))
		p := start
		for k, s := range segs {
			pos[k] = p
			p += len(s) + 1
		}
		for k := range segs {
			if depth+k > MaxExpandDepth {
				return nil, i, syntaxError(ReasonExpand, option, "", pos[k],
					"expansion deeper than %d levels", MaxExpandDepth)
			}
		}
		last := ExpandItem{Name: segs[len(segs)-1], Pos: pos[len(segs)-1]}
		i = end
		if i < len(src) && src[i] == '(' {
			var err error
			if i, err = scanExpandOptions(src, i, depth+len(segs), &last); err != nil {
				return nil, i, err
			}
		}
		item := last
		for k := len(segs) - 2; k >= 0; k-- {
			item = ExpandItem{Name: segs[k], Pos: pos[k], Expand: []ExpandItem{item}}
		}
		items = append(items, item)

		i = skipBlanks(src, i)
		if i >= len(src) || (nested && (src[i] == ';' || src[i] == ')')) {
			return items, i, nil
		}
		if src[i] != ',' {
			return nil, i, foundErr(ReasonExpand, option, src, i, "expected ','")
		}
		i = skipBlanks(src, i+1)
	}
}

// scanExpandOptions scans "(" expandOpt *( ";" expandOpt ) ")" at src[i:]
// into it; nested expansions sit at level depth.
func scanExpandOptions(src string, i, depth int, it *ExpandItem) (int, error) {
	const option = "$expand"
	open := i
	i++
	var haveSelect, haveExpand bool
	for {
		i = skipBlanks(src, i)
		switch {
		case hasPrefixFold(src[i:], "$select="):
			if haveSelect {
				return i, syntaxError(ReasonExpand, option, "", i, "$select given twice")
			}
			haveSelect = true
			all, sel, end, err := scanSelect(src, i+len("$select="), ReasonExpand, option, true)
			if err != nil {
				return end, err
			}
			if !all {
				it.Select = sel
			}
			i = end
		case hasPrefixFold(src[i:], "$expand="):
			if haveExpand {
				return i, syntaxError(ReasonExpand, option, "", i, "$expand given twice")
			}
			haveExpand = true
			sub, end, err := scanExpand(src, i+len("$expand="), depth, true)
			if err != nil {
				return end, err
			}
			it.Expand = sub
			i = end
		default:
			return i, foundErr(ReasonExpand, option, src, i, "expected $select= or $expand=")
		}
		i = skipBlanks(src, i)
		if i >= len(src) {
			return i, syntaxError(ReasonExpand, option, "", open, "unclosed '('")
		}
		switch src[i] {
		case ';':
			i++
		case ')':
			return i + 1, nil
		default:
			return i, foundErr(ReasonExpand, option, src, i, "expected ';' or ')'")
		}
	}
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && asciiEqualFold(s[:len(prefix)], prefix)
}
