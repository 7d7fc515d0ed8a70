package entity

import (
	"encoding/json"
	"regexp"
	"strings"
)

// Listing records needs the form before `data/…` paths can be resolved
// (§6.3): besides the formId parameter and the form-key entity, a top-level
// `formId eq '…'` conjunct of $filter names it. These helpers find that
// conjunct without resolving the rest of the filter; the filter is then
// parsed for real against the form, conjunct included.

var (
	formIDLeft  = regexp.MustCompile(`(?is)^formid\s+eq\s+'((?:[^']|'')*)'$`)
	formIDRight = regexp.MustCompile(`(?is)^'((?:[^']|'')*)'\s+eq\s+formid$`)
)

// formIDConjunct returns the value of a top-level `formId eq '…'` conjunct of
// the $filter text src.
func formIDConjunct(src string) (string, bool) {
	parts, ok := topLevelConjuncts(strings.TrimSpace(src))
	if !ok {
		return "", false
	}
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if inner, wrapped := unwrapParens(p); wrapped {
			if id, ok := formIDConjunct(inner); ok {
				return id, true
			}
			continue
		}
		if m := formIDLeft.FindStringSubmatch(p); m != nil {
			return strings.ReplaceAll(m[1], "''", "'"), true
		}
		if m := formIDRight.FindStringSubmatch(p); m != nil {
			return strings.ReplaceAll(m[1], "''", "'"), true
		}
	}
	return "", false
}

// topLevelConjuncts splits src on `and` outside parentheses and string
// literals. It reports false when src has a top-level `or` (then no
// conjunct is top-level) or unbalanced parentheses.
func topLevelConjuncts(src string) ([]string, bool) {
	var parts []string
	depth, start, inStr := 0, 0, false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case inStr:
			if c == '\'' {
				if i+1 < len(src) && src[i+1] == '\'' {
					i++
				} else {
					inStr = false
				}
			}
		case c == '\'':
			inStr = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return nil, false
			}
		case depth == 0 && isSpace(c):
			w := wordAt(src, i+1)
			if w == "" || i+1+len(w) >= len(src) || !isSpace(src[i+1+len(w)]) {
				continue
			}
			switch strings.ToLower(w) {
			case "or":
				return nil, false
			case "and":
				parts = append(parts, src[start:i])
				start = i + 1 + len(w)
				i = start - 1
			}
		}
	}
	if depth != 0 || inStr {
		return nil, false
	}
	return append(parts, src[start:]), true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func wordAt(s string, i int) string {
	j := i
	for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
		j++
	}
	return s[i:j]
}

// unwrapParens returns the inside of s when one pair of parentheses encloses
// all of it.
func unwrapParens(s string) (string, bool) {
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
		return "", false
	}
	depth, inStr := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr:
			if c == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
				} else {
					inStr = false
				}
			}
		case c == '\'':
			inStr = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 && i != len(s)-1 {
				return "", false
			}
		}
	}
	return s[1 : len(s)-1], true
}

// dynamicFormID finds a top-level `{"field":"formId","op":"eq","value":…}`
// condition in a DynamicFindOptions filter (a condition or an "and" group,
// nested "and" groups included).
func dynamicFormID(filter any) (string, bool) {
	m, ok := filter.(map[string]any)
	if !ok {
		return "", false
	}
	get := func(k string) any {
		for mk, v := range m {
			if strings.EqualFold(mk, k) {
				return v
			}
		}
		return nil
	}
	if items, ok := get("items").([]any); ok {
		if rel, _ := get("rel").(string); rel != "" && !strings.EqualFold(rel, "and") {
			return "", false
		}
		for _, it := range items {
			if id, ok := dynamicFormID(it); ok {
				return id, true
			}
		}
		return "", false
	}
	field, _ := get("field").(string)
	op, _ := get("op").(string)
	val, _ := get("value").(string)
	if strings.EqualFold(field, "formId") && strings.EqualFold(op, "eq") && val != "" {
		return val, true
	}
	return "", false
}

// dynamicBodyFormID reads the filter of a $query body (or a bare filter, for
// POST $count) and returns its formId conjunct.
func dynamicBodyFormID(body []byte, bare bool) (string, bool) {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return "", false
	}
	if bare {
		if f, ok := lookupFold(m, "filter"); ok && !hasFold(m, "rel") && !hasFold(m, "field") {
			return dynamicFormID(f)
		}
		return dynamicFormID(m)
	}
	f, _ := lookupFold(m, "filter")
	return dynamicFormID(f)
}

func lookupFold(m map[string]any, key string) (any, bool) {
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func hasFold(m map[string]any, key string) bool { _, ok := lookupFold(m, key); return ok }
