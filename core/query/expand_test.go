package query_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
)

// formatExpand renders items as name@pos[select](nested) for comparisons.
func formatExpand(items []query.ExpandItem) string {
	var parts []string
	for _, it := range items {
		s := it.Name + "@" + strconv.Itoa(it.Pos)
		if it.Select != nil {
			var sel []string
			for _, si := range it.Select {
				sel = append(sel, strings.Join(si.Segments, "/"))
			}
			s += "[" + strings.Join(sel, ",") + "]"
		}
		if it.Expand != nil {
			s += "(" + formatExpand(it.Expand) + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestParseExpand(t *testing.T) {
	tests := []struct{ src, want string }{
		{"", ""},
		{"creator", "creator@0"},
		{"creator($select=empName)", "creator@0[empName]"}, // TV-7
		{"user.department", "user@0(department@5)"},        // TV-9
		{"user/department", "user@0(department@5)"},
		{"department.parent.parent", "department@0(parent@11(parent@18))"},
		{"creator, updater", "creator@0 updater@9"},
		{"user($expand=department)", "user@0(department@13)"},
		{"user($select=empName,code;$expand=department($select=name))", "user@0[empName,code](department@34[name])"},
		{"user($EXPAND=department;$Select=empName)", "user@0[empName](department@13)"},
		{"user($select=*)", "user@0"},
		{"user.department($select=name),creator", "user@0(department@5[name]) creator@30"},
		{"user($expand=department,roles;$select=id)", "user@0[id](department@13 roles@24)"},
		{"record($expand=form.app)", "record@0(form@15(app@20))"},
	}
	for _, tt := range tests {
		got, err := query.ParseExpand(tt.src)
		if err != nil {
			t.Errorf("ParseExpand(%q): %v", tt.src, err)
			continue
		}
		if s := formatExpand(got); s != tt.want {
			t.Errorf("ParseExpand(%q) = %q, want %q", tt.src, s, tt.want)
		}
	}
}

func TestParseExpandErrors(t *testing.T) {
	tests := []struct {
		name, src string
		pos       int
		msg       string
	}{
		{"TV-8 too deep dotted", "department.parent.parent.parent", 25, "deeper than 3 levels"},
		{"too deep nested", "a($expand=b($expand=c($expand=d)))", 30, "deeper than 3 levels"},
		{"too deep mixed", "a.b($expand=c.d)", 14, "deeper than 3 levels"},
		{"unknown option", "a($filter=x)", 2, "expected $select= or $expand="},
		{"blank around =", "user( $select = empName )", 6, "expected $select= or $expand="},
		{"unclosed", "a($select=x", 1, "unclosed '('"},
		{"missing separator", "a($select=x $expand=b)", 12, "expected ','"},
		{"select twice", "a($select=x;$select=y)", 12, "$select given twice"},
		{"expand twice", "a($expand=x;$expand=y)", 12, "$expand given twice"},
		{"empty item", "a,,b", 2, "expected a navigation name"},
		{"trailing dot", "a.", 2, "expected a navigation name after '.'"},
		{"junk after", "a)b", 1, "expected ','"},
		{"star", "*", 0, "expected a navigation name"},
		{"empty select", "a($select=)", 10, "expected a member"},
		{"empty options", "a()", 2, "expected $select= or $expand="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := query.ParseExpand(tt.src)
			if err == nil {
				t.Fatalf("ParseExpand(%q) = %s, want an error", tt.src, formatExpand(got))
			}
			checkErr(t, err, "invalid_expand", "$expand", tt.pos, tt.msg)
		})
	}
}

func FuzzParseExpand(f *testing.F) {
	for _, s := range []string{"creator($select=empName)", "user.department", "department.parent.parent.parent",
		"user($select=empName,code;$expand=department($select=name)),creator", "a($expand=b($expand=c))"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		items, err := query.ParseExpand(src)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Reason != "invalid_expand" || e.Pos < 0 || e.Pos > len(src) {
				t.Fatalf("ParseExpand(%q): bad error %#v", src, err)
			}
			return
		}
		var depth func([]query.ExpandItem) int
		depth = func(items []query.ExpandItem) int {
			d := 0
			for _, it := range items {
				if it.Name == "" {
					t.Fatalf("ParseExpand(%q): empty name", src)
				}
				d = max(d, 1+depth(it.Expand))
			}
			return d
		}
		if d := depth(items); d > query.MaxExpandDepth {
			t.Fatalf("ParseExpand(%q): depth %d", src, d)
		}
	})
}
