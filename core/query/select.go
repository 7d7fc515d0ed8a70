package query

import "strings"

// ParseSelect parses an OData $select (spec §7.4), syntax only:
//
//	select     = "*" / selectItem *( BWS "," BWS selectItem )
//	selectItem = memberPath
//
// "*" gives all = true. A blank src gives (false, nil, nil): no projection.
// The entity layer validates the members (unknown → invalid_select) and
// always returns id. Errors are *errs.Error with Reason "invalid_select" and
// Target "$select".
func ParseSelect(src string) (all bool, items []SelectItem, err error) {
	const option = "$select"
	if strings.Trim(src, " \t") == "" {
		return false, nil, nil
	}
	if err := checkText(src, option, ReasonSelect, MaxFilterLen); err != nil {
		return false, nil, err
	}
	all, items, end, err := scanSelect(src, 0, ReasonSelect, option, false)
	if err != nil {
		return false, nil, err
	}
	if end < len(src) {
		return false, nil, foundErr(ReasonSelect, option, src, end, "expected ',' or the end")
	}
	return all, items, nil
}

// scanSelect scans a select list at src[i:]. When nested (inside an $expand
// item's parentheses) the list ends before ';' or ')'; otherwise it runs to
// the end. It returns the offset where it stopped.
func scanSelect(src string, i int, reason, option string, nested bool) (all bool, items []SelectItem, end int, err error) {
	i = skipBlanks(src, i)
	if i < len(src) && src[i] == '*' {
		i = skipBlanks(src, i+1)
		if i < len(src) && !(nested && (src[i] == ';' || src[i] == ')')) {
			return false, nil, i, foundErr(reason, option, src, i, "'*' must be the only item")
		}
		return true, nil, i, nil
	}
	for {
		if i >= len(src) || !isIDStart(runeAt(src, i)) {
			return false, nil, i, foundErr(reason, option, src, i, "expected a member")
		}
		segs, end, errPos := scanPath(src, i)
		if errPos >= 0 {
			return false, nil, i, syntaxError(reason, option, "", errPos, "expected a member name after %q", src[errPos-1])
		}
		items = append(items, SelectItem{Segments: segs, Pos: i})
		i = skipBlanks(src, end)
		if i >= len(src) || (nested && (src[i] == ';' || src[i] == ')')) {
			return false, items, i, nil
		}
		if src[i] != ',' {
			return false, nil, i, foundErr(reason, option, src, i, "expected ','")
		}
		i = skipBlanks(src, i+1)
	}
}
