package query_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
)

// tv7Filter is the $filter of spec §11 TV-7.
const tv7Filter = `data/amount ge 100 and (data/region eq '华东' or contains(data/customer,'乙')) and data/items/qty gt 10`

// specExamples are the $filter examples of spec §7.1.
var specExamples = []string{
	`name eq 'test' and status eq 1`,
	`data/amount ge 100 and (data/region eq '华东' or data/region eq '华南')`,
	`createTime ge 2024-01-01T00:00:00+08:00 and flowStatus in (2, 3)`,
	`contains(data/customer, '公司') and not startswith(data/customer, '测试')`,
	`data/items/qty gt 10`,
	`data/owner eq 'u_1001'`,
	`isCompany`,
	`parentId eq '' or parentId eq null`,
}

// 2024-01-01T00:00:00+08:00 in epoch milliseconds.
const newYearCST = 1704038400000

func TestParseFilter(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		// §7.1 examples.
		{"guide example", specExamples[0], `and(cmp(name eq "test"), cmp(status eq 1))`},
		{"parenthesised or", specExamples[1], `and(cmp(data.amount ge 100.0), or(cmp(data.region.value eq "华东"), cmp(data.region.value eq "华南")))`},
		{"date-time and in", specExamples[2], fmt.Sprintf(`and(cmp(createTime ge %d), in(flowStatus [2, 3]))`, newYearCST)},
		{"functions and not", specExamples[3], `and(str(data.customer contains "公司"), not(str(data.customer startswith "测试")))`},
		{"child table", specExamples[4], `any(data.items, cmp(qty gt 10.0))`},
		{"implicit id", specExamples[5], `cmp(data.owner.id eq "u_1001")`},
		{"bool member", specExamples[6], `cmp(isCompany eq true)`},
		{"empty string or null", specExamples[7], `or(cmp(parentId eq ""), null(parentId))`},
		{"TV-7", tv7Filter, `and(cmp(data.amount ge 100.0), or(cmp(data.region.value eq "华东"), str(data.customer contains "乙")), any(data.items, cmp(qty gt 10.0)))`},

		// Operators, separators, case.
		{"every operator", `data/amount eq 1 or data/amount ne 2 or data/amount gt 3 or data/amount ge 4 or data/amount lt 5 or data/amount le 6`,
			`or(cmp(data.amount eq 1.0), cmp(data.amount ne 2.0), cmp(data.amount gt 3.0), cmp(data.amount ge 4.0), cmp(data.amount lt 5.0), cmp(data.amount le 6.0))`},
		{"keywords any case", `Name EQ 'a' AND NOT IsCompany Or STATUS Ne 1`, `or(and(cmp(name eq "a"), not(cmp(isCompany eq true))), cmp(status ne 1))`},
		{"dot separator", `data.amount gt 5`, `cmp(data.amount gt 5.0)`},
		{"mixed separators", `data.region/label eq 'x'`, `cmp(data.region.label eq "x")`},
		{"unicode member", `data/名称 eq '值'`, `cmp(data.名称 eq "值")`},
		{"member named like a keyword position word", `type eq 'status'`, `cmp(type eq "status")`},
		{"blanks and tabs", " \tname  eq\t'a' \t", `cmp(name eq "a")`},
		{"quote escape", `name eq 'it''s'`, `cmp(name eq "it's")`},
		{"only quotes", `name eq ''''`, `cmp(name eq "'")`},

		// Literal-first comparisons are flipped.
		{"flip lt", `5 lt data/amount`, `cmp(data.amount gt 5.0)`},
		{"flip ge", `5 ge data/amount`, `cmp(data.amount le 5.0)`},
		{"flip eq", `'x' eq name`, `cmp(name eq "x")`},
		{"flip null", `null eq name`, `null(name)`},

		// Precedence.
		{"and binds tighter than or", `name eq 'a' or name eq 'b' and name eq 'c'`, `or(cmp(name eq "a"), and(cmp(name eq "b"), cmp(name eq "c")))`},
		{"parens override", `(name eq 'a' or name eq 'b') and name eq 'c'`, `and(or(cmp(name eq "a"), cmp(name eq "b")), cmp(name eq "c"))`},
		{"not binds the comparison", `not status eq 1 and name eq 'a'`, `and(not(cmp(status eq 1)), cmp(name eq "a"))`},
		{"not paren without blank", `not(name eq 'a' or isCompany)`, `not(or(cmp(name eq "a"), cmp(isCompany eq true)))`},
		{"not not", `not not isCompany`, `not(not(cmp(isCompany eq true)))`},
		{"nested and flattened", `name eq 'a' and (name eq 'b' and name eq 'c')`, `and(cmp(name eq "a"), cmp(name eq "b"), cmp(name eq "c"))`},
		{"redundant parens", `((isCompany))`, `cmp(isCompany eq true)`},

		// Numbers.
		{"negative", `data/amount gt -5`, `cmp(data.amount gt -5.0)`},
		{"decimal", `data/amount lt 1.25`, `cmp(data.amount lt 1.25)`},
		{"exponent", `data/amount lt 1.5E+3`, `cmp(data.amount lt 1500.0)`},
		{"negative exponent", `data/amount lt -2e-2`, `cmp(data.amount lt -0.02)`},

		// Timestamps.
		{"date is midnight CST", `createTime ge 2024-01-01`, fmt.Sprintf(`cmp(createTime ge %d)`, newYearCST)},
		{"date-time Z", `createTime lt 2024-01-01T00:00Z`, `cmp(createTime lt 1704067200000)`},
		{"date-time fraction", `createTime lt 2024-01-01T00:00:00.1234Z`, `cmp(createTime lt 1704067200123)`},
		{"date-time negative offset", `createTime lt 2023-12-31T19:00:00-05:00`, `cmp(createTime lt 1704067200000)`},
		{"epoch ms", `createTime gt 1704067200000`, `cmp(createTime gt 1704067200000)`},
		{"epoch ms exponent", `createTime gt 1.7e12`, `cmp(createTime gt 1700000000000)`},
		{"ISO string", `data/due le '2024-01-01T08:00:00+08:00'`, `cmp(data.due le 1704067200000)`},
		{"date string", `data/due le '2024-01-01'`, fmt.Sprintf(`cmp(data.due le %d)`, newYearCST)},
		{"timestamp in", `createTime in (2024-01-01, 0)`, fmt.Sprintf(`in(createTime [%d, 0])`, newYearCST)},

		// Bools and enums.
		{"bool eq false", `isCompany eq false`, `cmp(isCompany eq false)`},
		{"bool ne true", `isCompany ne true`, `cmp(isCompany ne true)`},
		{"enum by name", `flowStatus eq 'Approving'`, `cmp(flowStatus eq 2)`},
		{"enum in mixed", `flowStatus in ('draft', 3)`, `in(flowStatus [1, 3])`},
		{"enum as a numeric string (§12.13)", `flowStatus eq '0' and status ne '1'`, `and(cmp(flowStatus eq 0), cmp(status ne 1))`},
		{"enum in numeric strings", `flowStatus in ('2', 'draft', 3)`, `in(flowStatus [2, 1, 3])`},

		// Null.
		{"ne null", `data/amount ne null`, `notnull(data.amount)`},
		{"null on child table", `data/items/qty eq null`, `any(data.items, null(qty))`},

		// Functions.
		{"startswith", `startswith(name,'a')`, `str(name startswith "a")`},
		{"endswith blanks", `endswith( name , 'a' )`, `str(name endswith "a")`},
		{"function upper case", `CONTAINS(name,'a')`, `str(name contains "a")`},
		{"function eq true", `contains(name,'a') eq true`, `str(name contains "a")`},
		{"function eq false", `contains(name,'a') eq false`, `not(str(name contains "a"))`},
		{"function ne true", `contains(name,'a') ne true`, `not(str(name contains "a"))`},
		{"function ne false", `contains(name,'a') ne false`, `str(name contains "a")`},
		{"function empty string", `contains(name,'')`, `str(name contains "")`},
		{"function on array", `contains(data/tags,'x')`, `any(data.tags, str(value contains "x"))`},
		{"member named contains", `data/customer eq 'contains'`, `cmp(data.customer eq "contains")`},

		// in.
		{"in strings", `name in ('a','b' , 'a')`, `in(name ["a", "b", "a"])`},
		{"in no blank before paren", `name in('a')`, `in(name ["a"])`},
		{"in on array", `data/tags in ('x')`, `any(data.tags, in(value ["x"]))`},
		{"in on scalar array", `data/labels in ('x')`, `any(data.labels, in($ ["x"]))`},

		// Arrays.
		{"array eq", `data/tags eq 'red'`, `any(data.tags, cmp(value eq "red"))`},
		{"array ne", `data/tags ne 'red'`, `any(data.tags, cmp(value ne "red"))`},
		{"two child conditions are independent", `data/items/qty gt 1 and data/items/note eq 'a'`,
			`and(any(data.items, cmp(qty gt 1.0)), any(data.items, cmp(note eq "a")))`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := query.ParseFilter(tt.src, testResolver)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tt.src, err)
			}
			if s := query.Format(got); s != tt.want {
				t.Errorf("ParseFilter(%q)\n got %s\nwant %s", tt.src, s, tt.want)
			}
		})
	}
}

func TestParseFilterValueTypes(t *testing.T) {
	tests := []struct {
		src  string
		want query.Value
	}{
		{`name eq 'a'`, "a"},
		{`data/amount eq 100`, float64(100)},
		{`createTime eq 1`, int64(1)},
		{`isCompany eq true`, true},
		{`status eq 'disabled'`, int64(1)},
		{`status eq 1`, int64(1)},
	}
	for _, tt := range tests {
		e, err := query.ParseFilter(tt.src, testResolver)
		if err != nil {
			t.Fatalf("%q: %v", tt.src, err)
		}
		c, ok := e.(query.Cmp)
		if !ok {
			t.Fatalf("%q: got %T, want Cmp", tt.src, e)
		}
		if c.Value != tt.want {
			t.Errorf("%q: value %#v (%T), want %#v (%T)", tt.src, c.Value, c.Value, tt.want, tt.want)
		}
	}
}

func TestParseFilterBlank(t *testing.T) {
	for _, src := range []string{"", " ", "\t "} {
		e, err := query.ParseFilter(src, testResolver)
		if e != nil || err != nil {
			t.Errorf("ParseFilter(%q) = %v, %v; want nil, nil", src, e, err)
		}
	}
}

func TestParseFilterLocation(t *testing.T) {
	e, err := query.ParseFilterWith(`createTime ge 2024-01-01`, testResolver, query.Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := query.Format(e), `cmp(createTime ge 1704067200000)`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// Explicit offsets do not depend on the location.
	e, err = query.ParseFilterWith(`createTime ge 2024-01-01T00:00:00+08:00`, testResolver, query.Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := query.Format(e), fmt.Sprintf(`cmp(createTime ge %d)`, newYearCST); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// checkErr asserts err is an *errs.Error of the query language with the
// given reason, target and position, whose message repeats the position.
func checkErr(t *testing.T, err error, reason, target string, pos int, msgPart string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %s at %d", reason, pos)
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not *errs.Error", err, err)
	}
	if e.Code != errs.Invalid || e.Reason != reason {
		t.Errorf("code/reason = %v/%q, want invalid/%q (%v)", e.Code, e.Reason, reason, err)
	}
	if e.Target != target {
		t.Errorf("target = %q, want %q (%v)", e.Target, target, err)
	}
	if pos != -2 && e.Pos != pos {
		t.Errorf("pos = %d, want %d (%v)", e.Pos, pos, err)
	}
	if e.Pos >= 0 && !strings.Contains(e.Msg, fmt.Sprintf("at position %d", e.Pos)) {
		t.Errorf("message %q does not give the position %d", e.Msg, e.Pos)
	}
	if msgPart != "" && !strings.Contains(e.Msg, msgPart) {
		t.Errorf("message %q does not contain %q", e.Msg, msgPart)
	}
}

func TestParseFilterErrors(t *testing.T) {
	const F = "$filter"
	tests := []struct {
		name, src, target string
		pos               int
		msg               string
	}{
		// TV-8.
		{"TV-8 string for number", `data/amount gt 'x'`, "data/amount", 15, "is a number and cannot be compared with a string"},
		{"TV-8 missing operand", `data/amount gt`, F, 14, "expected a value after 'gt'"},

		// Lexical.
		{"unterminated string", `name eq 'abc`, F, 8, "unterminated string"},
		{"unexpected character", `name eq 'a' & x`, F, 12, "unexpected character '&'"},
		{"newline is not a blank", "name eq 'a'\nand isCompany", F, 11, "unexpected character"},
		{"lone minus", `data/amount gt - 5`, F, 15, "unexpected character '-'"},
		{"trailing separator", `data/ eq 1`, F, 5, "expected a member name after '/'"},
		{"separator at end", `isCompany.`, F, 10, "expected a member name after '.'"},
		{"invalid date", `createTime gt 2024-02-30`, F, 14, "invalid date"},
		{"bad date-time hour", `createTime gt 2024-01-01T25:00Z`, F, 25, "malformed date-time"},
		{"date-time without zone", `createTime gt 2024-01-01T10:00`, F, 30, "malformed date-time"},
		{"invalid UTF-8", "name eq '\xff'", F, 9, "invalid UTF-8"},

		// Syntax.
		{"missing operator", `name 'a'`, F, 5, "expected a comparison operator after 'name'"},
		{"member needs operator", `data/amount`, F, 11, "expected a comparison operator after 'data/amount'"},
		{"literal alone", `'a'`, F, 3, "expected a comparison operator"},
		{"non-associative", `data/amount eq 1 eq 2`, F, 17, "not associative"},
		{"trailing garbage", `isCompany isCompany`, F, 10, "expected 'and', 'or' or the end"},
		{"unclosed paren", `(isCompany`, F, 10, "expected ')'"},
		{"extra close paren", `isCompany)`, F, 9, "expected 'and', 'or'"},
		{"empty parens", `()`, F, 1, "expected a member or a value"},
		{"and without right side", `isCompany and`, F, 13, "expected an expression"},
		{"and at end with blank", `isCompany and `, F, 14, "expected a member or a value"},
		{"no blank before operator", `name eq'a'`, F, 7, "expected a blank"},
		{"no blank after and", `isCompany and(isCompany)`, F, 13, "expected a blank"},
		{"not without operand", `not`, F, 3, "expected an expression"},
		{"in without parens", `name in 'a'`, F, 8, "expected '(' after 'in'"},
		{"in missing close", `name in ('a'`, F, 12, "expected ',' or ')'"},
		{"in with member", `name in (name)`, F, 9, "expected a value"},
		{"function missing comma", `contains(name 'a')`, F, 14, "expected ','"},
		{"function missing paren", `contains(name,'a'`, F, 17, "expected ')'"},
		{"function needs member", `contains('a','a')`, F, 9, "expected a member as the first argument"},
		{"function eq needs bool", `contains(name,'a') eq 1`, F, 22, "expected true or false"},
		{"blank before function paren is a member", `contains (name,'a')`, "contains", 0, "unknown member"},

		// Shape (§7.2 rule 1).
		{"member member", `name eq parentId`, "parentId", 8, "two members"},
		{"literal literal", `1 eq 1`, F, 0, "needs a member"},

		// Resolution.
		{"unknown member", `nope eq 1`, "nope", 0, `unknown member "nope"`},
		{"unknown nested member", `isCompany and data/nope.x eq 1`, "data/nope.x", 14, "unknown member"},
		{"no-filter member", `password eq 'x'`, "password", 0, "cannot be used in a filter"},
		{"no-filter in in", `password in ('x')`, "password", 0, "cannot be used in a filter"},

		// Coercion (§7.2 rule 5): target is the member as written.
		{"number for string", `name eq 1`, "name", 8, "is a string and cannot be compared with a number"},
		{"byte offsets after multi-byte text", `data/名称 eq 1`, "data/名称", 15, "is a string"},
		{"bool for number", `data.amount eq true`, "data.amount", 15, "cannot be compared with a boolean"},
		{"date for string", `name eq 2024-01-01`, "name", 8, "with a date"},
		{"string for bool", `isCompany eq 'true'`, "isCompany", 13, "is a boolean"},
		{"non-integer epoch", `createTime gt 1.5`, "createTime", 14, "not an integer"},
		{"bad ISO string", `createTime gt 'yesterday'`, "createTime", 14, "not an ISO 8601"},
		{"unknown enum name", `flowStatus eq 'lost'`, "flowStatus", 14, "no value named 'lost'"},
		{"enum string with blanks", `flowStatus eq ' 1'`, "flowStatus", 14, "no value named ' 1'"},
		{"enum string with a plus sign", `flowStatus eq '+1'`, "flowStatus", 14, "no value named '+1'"},
		{"enum string not an integer", `flowStatus eq '1.5'`, "flowStatus", 14, "no value named '1.5'"},
		{"non-integer enum", `status eq 1.5`, "status", 10, "not an integer"},
		{"number out of range", `data/amount gt 1e999`, "data/amount", 15, "out of range"},
		{"enum in list", `flowStatus in (1, 'lost')`, "flowStatus", 18, "no value named"},
		{"non-bool member alone", `name`, F, 4, "expected a comparison operator after 'name'"},
		{"function on number", `contains(data/amount,'1')`, "data/amount", 9, "needs a string member"},
		{"function with number literal", `contains(name,1)`, "name", 14, "needs a string literal"},

		// null (§7.2 rule 6).
		{"null with gt", `data/amount gt null`, "data/amount", 15, "null can only be compared with eq or ne"},
		{"null flipped with lt", `null lt data/amount`, "data/amount", 0, "null can only be compared"},
		{"null in function", `contains(name,null)`, "name", 14, "needs a string literal"},
		{"null in in", `name in ('a', null)`, "name", 14, "null is not allowed"},
		{"in empty", `name in ()`, "name", 9, "at least one value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := query.ParseFilter(tt.src, testResolver)
			if err == nil {
				t.Fatalf("ParseFilter(%q) = %s, want an error", tt.src, query.Format(e))
			}
			checkErr(t, err, "invalid_filter", tt.target, tt.pos, tt.msg)
		})
	}
}

func TestParseFilterErrorDetails(t *testing.T) {
	_, err := query.ParseFilter(`name 'a'`, testResolver)
	e := errs.As(err)
	if len(e.Details) != 1 || e.Details[0].Code != "syntax" || e.Details[0].Target != "5" || e.Details[0].Message != "found ''a''" {
		t.Errorf("details = %+v", e.Details)
	}
	if got, want := e.Msg, `$filter: expected a comparison operator after 'name', found ''a'' at position 5`; got != want {
		t.Errorf("msg = %q, want %q", got, want)
	}
}

func TestParseFilterResolverFailurePassesThrough(t *testing.T) {
	_, err := query.ParseFilter(`broken eq 1`, testResolver)
	if errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("err = %v, want the resolver's Unavailable error", err)
	}
	// A plain error from a resolver is the caller's fault: unknown member.
	r := query.ResolverFunc(func([]string) (query.Field, error) { return query.Field{}, errors.New("no such field") })
	_, err = query.ParseFilter(`x eq 1`, r)
	checkErr(t, err, "invalid_filter", "x", 0, "unknown member 'x'")
	_, err = query.ParseFilter(`x eq 1`, nil)
	checkErr(t, err, "invalid_filter", "x", 0, "unknown member 'x'")
}

func TestParseFilterLimits(t *testing.T) {
	t.Run("length", func(t *testing.T) {
		src := `name eq '` + strings.Repeat("a", query.MaxFilterLen-10) + `'`
		if len(src) != query.MaxFilterLen {
			t.Fatalf("bad fixture length %d", len(src))
		}
		if _, err := query.ParseFilter(src, testResolver); err != nil {
			t.Fatalf("at the limit: %v", err)
		}
		_, err := query.ParseFilter(src+" ", testResolver)
		checkErr(t, err, "invalid_filter", "$filter", query.MaxFilterLen, "longer than 4096 characters")
	})
	t.Run("length counts characters", func(t *testing.T) {
		src := `name eq '` + strings.Repeat("华", query.MaxFilterLen-10) + `'`
		if _, err := query.ParseFilter(src, testResolver); err != nil {
			t.Fatalf("4096 characters (more bytes): %v", err)
		}
	})
	t.Run("nodes", func(t *testing.T) {
		// n comparisons joined by n-1 'or's are 2n-1 nodes.
		n := (query.MaxFilterNodes + 1) / 2
		src := strings.TrimSuffix(strings.Repeat("isCompany or ", n), " or ")
		if _, err := query.ParseFilter(src, testResolver); err != nil {
			t.Fatalf("%d nodes: %v", 2*n-1, err)
		}
		src += " or isCompany"
		_, err := query.ParseFilter(src, testResolver)
		checkErr(t, err, "invalid_filter", "$filter", len(src)-len("isCompany"), "more than 200 expressions")
	})
	t.Run("depth", func(t *testing.T) {
		ok := strings.Repeat("(", query.MaxDepth) + "isCompany" + strings.Repeat(")", query.MaxDepth)
		if _, err := query.ParseFilter(ok, testResolver); err != nil {
			t.Fatalf("depth %d: %v", query.MaxDepth, err)
		}
		deep := "(" + ok + ")"
		_, err := query.ParseFilter(deep, testResolver)
		checkErr(t, err, "invalid_filter", "$filter", query.MaxDepth, "nested deeper than 32")
		nots := strings.Repeat("not ", query.MaxDepth) + "isCompany"
		if _, err := query.ParseFilter(nots, testResolver); err != nil {
			t.Fatalf("%d nots: %v", query.MaxDepth, err)
		}
		_, err = query.ParseFilter("not "+nots, testResolver)
		checkErr(t, err, "invalid_filter", "$filter", 4*(query.MaxDepth+1), "nested deeper")
	})
	t.Run("in values", func(t *testing.T) {
		vals := strings.TrimSuffix(strings.Repeat("'a',", query.MaxInValues), ",")
		if _, err := query.ParseFilter("name in ("+vals+")", testResolver); err != nil {
			t.Fatalf("%d values: %v", query.MaxInValues, err)
		}
		src := "name in (" + vals + ",'b')"
		_, err := query.ParseFilter(src, testResolver)
		checkErr(t, err, "invalid_filter", "name", len(src)-4, "more than 100 values")
	})
}

func TestParseFilterNeverPanicsOnPrefixes(t *testing.T) {
	// Every prefix of every valid filter either parses or fails cleanly.
	for _, src := range append(specExamples, tv7Filter) {
		for i := 0; i <= len(src); i++ {
			checkFuzzProperty(t, src[:i])
		}
	}
}

// fuzzResolver is testResolver without its failure mode: every resolver
// error is then the caller's fault.
var fuzzResolver = query.ResolverFunc(func(segs []string) (query.Field, error) {
	if len(segs) == 1 && strings.EqualFold(segs[0], "broken") {
		return query.Field{}, errs.Invalidf("unknown member")
	}
	return testResolver(segs)
})

func checkFuzzProperty(t *testing.T, src string) {
	t.Helper()
	_, err := query.ParseFilter(src, fuzzResolver)
	if err == nil {
		return
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("ParseFilter(%q): error %T is not *errs.Error", src, err)
	}
	if e.Code != errs.Invalid || e.Reason != "invalid_filter" {
		t.Fatalf("ParseFilter(%q): code %v reason %q", src, e.Code, e.Reason)
	}
	if e.Pos < 0 || e.Pos > len(src) {
		t.Fatalf("ParseFilter(%q): pos %d outside [0, %d]: %v", src, e.Pos, len(src), err)
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range append(specExamples, tv7Filter,
		`data/amount gt 'x'`, `data/amount gt`, `not(not isCompany)`, `createTime ge 2024-01-01T00:00:00.123456789-05:30`,
		`name in ('a','b')`, `contains(name,'it''s') eq false`, `5 lt data/amount`, `data.items.qty ge -1.5e3`) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		checkFuzzProperty(t, src)
	})
}

func BenchmarkParseFilter(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := query.ParseFilter(tv7Filter, testResolver); err != nil {
			b.Fatal(err)
		}
	}
}
