package query_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/query"
)

func TestSplitOptions(t *testing.T) {
	type o = query.Option
	tests := []struct {
		name, text string
		want       []o
	}{
		{"empty", "", nil},
		{"blank", " \t\r\n", nil},
		{"only a question mark", "?", nil},
		{"client options object (raw spaces and quotes)", "$filter=Category eq 0 and isRead eq false&$orderby=createTime desc&$skip=0&$top=10",
			[]o{{"$filter", "Category eq 0 and isRead eq false"}, {"$orderby", "createTime desc"}, {"$skip", "0"}, {"$top", "10"}}},
		{"odata-query escapes inside literals", "$filter=name eq 'A%2FB'&$top=20&$skip=0",
			[]o{{"$filter", "name eq 'A/B'"}, {"$top", "20"}, {"$skip", "0"}}},
		{"plus is a space", "$filter=name eq 'a+b'", []o{{"$filter", "name eq 'a b'"}}},
		{"escaped plus", "?$filter=name eq 'a%2Bb'", []o{{"$filter", "name eq 'a+b'"}}},
		{"only one leading question mark dropped", "??$top=1", []o{{"?$top", "1"}}},
		{"first = splits", "$filter=name eq 'a=b'", []o{{"$filter", "name eq 'a=b'"}}},
		{"escaped ampersand stays in the value", "$filter=name eq 'a%26b'&$top=1", []o{{"$filter", "name eq 'a&b'"}, {"$top", "1"}}},
		{"non-ASCII kept", "$filter=name eq '报销'", []o{{"$filter", "name eq '报销'"}}},
		{"percent-encoded UTF-8", "$filter=name eq '%E6%8A%A5'", []o{{"$filter", "name eq '报'"}}},
		{"invalid percent kept", "$filter=name eq '100%'&x=%zz%4", []o{{"$filter", "name eq '100%'"}, {"x", "%zz%4"}}},
		{"empty parts skipped", "&&$top=1&", []o{{"$top", "1"}}},
		{"name without value", "$count", []o{{"$count", ""}}},
		{"encoded name", "%24top=2", []o{{"$top", "2"}}},
		{"hand-written, upper-case AND", "$filter=appid eq 'a_1' AND formid eq 'f_x'",
			[]o{{"$filter", "appid eq 'a_1' AND formid eq 'f_x'"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := query.SplitOptions(tt.text); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("SplitOptions(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// FuzzSplitOptions: any text splits without panicking; an option value
// written with every byte percent-encoded reads back exactly; and a
// value without '+', '%' or '&' is kept byte for byte.
func FuzzSplitOptions(f *testing.F) {
	for _, s := range []string{"", "?", "$filter=name eq 'A%2FB'&$top=1", "a=%zz%4&b", "%E6%8A%A5=+", "&&=&"} {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, text, value string) {
		_ = query.SplitOptions(text)
		var enc strings.Builder
		for i := 0; i < len(value); i++ {
			fmt.Fprintf(&enc, "%%%02X", value[i])
		}
		got := query.SplitOptions("$filter=" + enc.String())
		if value == "" {
			if len(got) != 1 || got[0].Value != "" {
				t.Fatalf("empty value: %q", got)
			}
			return
		}
		if len(got) != 1 || got[0].Name != "$filter" || got[0].Value != value {
			t.Fatalf("encoded %q read back as %q", value, got)
		}
		if !strings.ContainsAny(value, "+%&") {
			raw := query.SplitOptions("$filter=" + value)
			if len(raw) != 1 || raw[0].Value != value {
				t.Fatalf("raw %q read back as %q", value, raw)
			}
		}
	})
}
