package entity

import "testing"

func TestFormIDConjunct(t *testing.T) {
	cases := []struct {
		src, want string
		ok        bool
	}{
		{"formId eq 'f_1'", "f_1", true},
		{"FORMID  eq  'f_1' and data/amount gt 5", "f_1", true},
		{"data/amount gt 5 and formId eq 'f''1'", "f'1", true},
		{"'f_1' eq formId", "f_1", true},
		{"(formId eq 'f_1' and a eq 1) and b eq 2", "f_1", true},
		{"((formId eq 'f_1'))", "f_1", true},
		{"formId eq 'f_1' or a eq 1", "", false},
		{"(formId eq 'f_1' or a eq 1) and b eq 2", "", false},
		{"not formId eq 'f_1'", "", false},
		{"formId ne 'f_1'", "", false},
		{"name eq 'x and formId eq ''f_1'''", "", false},
		{"android eq 'formId eq ''x''' and formId eq 'f_2'", "f_2", true},
		{"formId eq 'f_1' and (a eq 1", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		got, ok := formIDConjunct(c.src)
		if got != c.want || ok != c.ok {
			t.Errorf("formIDConjunct(%q) = %q, %v; want %q, %v", c.src, got, ok, c.want, c.ok)
		}
	}
}

func TestParseIfMatch(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		cond bool
		err  bool
	}{
		{"", 0, false, false},
		{"*", 0, false, false},
		{`"123"`, 123, true, false},
		{`W/"123"`, 123, true, false},
		{`123`, 123, true, false},
		{`"abc"`, 0, false, true},
	}
	for _, c := range cases {
		got, cond, err := parseIfMatch(c.in)
		if got != c.want || cond != c.cond || (err != nil) != c.err {
			t.Errorf("parseIfMatch(%q) = %d, %v, %v", c.in, got, cond, err)
		}
	}
}

func TestDynamicBodyFormID(t *testing.T) {
	cases := []struct {
		body string
		bare bool
		want string
	}{
		{`{"filter":{"field":"formId","op":"eq","value":"f_1"}}`, false, "f_1"},
		{`{"Filter":{"Rel":"and","Items":[{"rel":"and","items":[{"Field":"FormId","Op":"EQ","Value":"f_2"}]}]}}`, false, "f_2"},
		{`{"filter":{"rel":"or","items":[{"field":"formId","op":"eq","value":"f_1"}]}}`, false, ""},
		{`{"field":"formId","op":"eq","value":"f_3"}`, true, "f_3"},
		{`{"filter":{"field":"formId","op":"eq","value":"f_4"}}`, true, "f_4"},
		{`{"filter":{"field":"formId","op":"ne","value":"f_1"}}`, false, ""},
	}
	for _, c := range cases {
		if got, _ := dynamicBodyFormID([]byte(c.body), c.bare); got != c.want {
			t.Errorf("%s: %q, want %q", c.body, got, c.want)
		}
	}
}
