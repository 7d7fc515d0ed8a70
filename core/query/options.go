package query

import "strings"

// Option is one name=value pair of a query string.
type Option struct {
	Name, Value string
}

// SplitOptions parses the text of an OData query string as the EIMSNext web
// client sends it in a text/plain body (spec eims-native.md §12.5.3 rule 3):
// one leading '?' is dropped; parts are separated by '&' (empty parts are
// skipped); a part splits at its first '=' (no '=': an empty value); in
// names and values '+' is a space and %XX a byte, while raw spaces, quotes,
// parentheses and non-ASCII characters are kept as they are and an invalid
// '%' sequence is kept literally. So name eq 'A%2FB' means A/B, 'a+b' means
// "a b" and 'a%2Bb' means "a+b". An all-blank text has no options.
func SplitOptions(text string) []Option {
	text = strings.TrimPrefix(text, "?")
	if strings.TrimSpace(text) == "" {
		return nil
	}
	var out []Option
	for part := range strings.SplitSeq(text, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		out = append(out, Option{Name: unescapeLenient(name), Value: unescapeLenient(value)})
	}
	return out
}

// unescapeLenient decodes '+' and valid %XX sequences and keeps everything
// else byte for byte.
func unescapeLenient(s string) string {
	if !strings.ContainsAny(s, "+%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
