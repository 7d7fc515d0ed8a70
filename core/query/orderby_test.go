package query_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/query"
)

func formatSorts(s []query.Sort) string {
	var parts []string
	for _, it := range s {
		dir := "asc"
		if it.Desc {
			dir = "desc"
		}
		parts = append(parts, it.Path.String()+" "+dir)
	}
	return strings.Join(parts, ", ")
}

func TestParseOrderBy(t *testing.T) {
	tests := []struct{ src, want string }{
		{"data/amount desc", "data.amount desc"},
		{"createTime", "createTime asc"},
		{"createTime ASC", "createTime asc"},
		{"name DeSc , createTime", "name desc, createTime asc"},
		{" name,createTime\tdesc ", "name asc, createTime desc"},
		{"data/region desc", "data.region.label desc"}, // SortPath
		{"data.owner", "data.owner.label asc"},         // SortPath, '.' separator
		{"data/region/label, data/amount", "data.region.label asc, data.amount asc"},
		{"", ""},
		{"name, createTime, data/amount, status, flowStatus", "name asc, createTime asc, data.amount asc, status asc, flowStatus asc"},
	}
	for _, tt := range tests {
		got, err := query.ParseOrderBy(tt.src, testResolver)
		if err != nil {
			t.Errorf("ParseOrderBy(%q): %v", tt.src, err)
			continue
		}
		if s := formatSorts(got); s != tt.want {
			t.Errorf("ParseOrderBy(%q) = %q, want %q", tt.src, s, tt.want)
		}
	}
}

func TestParseOrderByErrors(t *testing.T) {
	const O = "$orderby"
	tests := []struct {
		name, src, target string
		pos               int
		msg               string
	}{
		{"too many", "name, createTime, data/amount, status, flowStatus, id", "id", 51, "more than 5 sort items"},
		{"twice", "name, createTime desc, Name", "Name", 23, "appears twice"},
		{"twice by path", "data/amount, data.amount desc", "data.amount", 13, "appears twice"},
		{"twice by sort path", "data/region, data/region/label", "data/region/label", 13, "appears twice"},
		{"bad direction", "name up", O, 5, "expected 'asc', 'desc'"},
		{"missing comma", "name asc createTime", O, 9, "expected ',' or the end"},
		{"trailing comma", "name,", O, 5, "expected a member"},
		{"leading comma", ",name", O, 0, "expected a member"},
		{"number", "1", O, 0, "expected a member"},
		{"unknown", "name, nope", "nope", 6, "unknown member"},
		{"no sort", "content", "content", 0, "cannot be sorted"},
		{"no filter", "password desc", "password", 0, "cannot be sorted"},
		{"array", "data/tags", "data/tags", 0, "cannot be sorted"},
		{"child table", "data/items/qty", "data/items/qty", 0, "cannot be sorted"},
		{"separator", "data/ desc", O, 5, "expected a member name after '/'"},
		{"direction glued", "name,createTime desc;", O, 20, "expected ',' or the end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := query.ParseOrderBy(tt.src, testResolver)
			if err == nil {
				t.Fatalf("ParseOrderBy(%q) = %v, want an error", tt.src, got)
			}
			checkErr(t, err, "invalid_orderby", tt.target, tt.pos, tt.msg)
		})
	}
}

func TestParseSelect(t *testing.T) {
	tests := []struct {
		src  string
		all  bool
		want string
	}{
		{"", false, ""},
		{"*", true, ""},
		{" * ", true, ""},
		{"data/customer,data/amount", false, "[data customer]@0 [data amount]@14"},
		{"id , data.amount", false, "[id]@0 [data amount]@5"},
		{"data", false, "[data]@0"},
		{"名称", false, "[名称]@0"},
	}
	for _, tt := range tests {
		all, items, err := query.ParseSelect(tt.src)
		if err != nil {
			t.Errorf("ParseSelect(%q): %v", tt.src, err)
			continue
		}
		var parts []string
		for _, it := range items {
			parts = append(parts, fmt.Sprintf("%v@%d", it.Segments, it.Pos))
		}
		if all != tt.all || strings.Join(parts, " ") != tt.want {
			t.Errorf("ParseSelect(%q) = %v %q, want %v %q", tt.src, all, strings.Join(parts, " "), tt.all, tt.want)
		}
	}
}

func TestParseSelectErrors(t *testing.T) {
	tests := []struct {
		src string
		pos int
		msg string
	}{
		{"*,id", 1, "'*' must be the only item"},
		{"id,*", 3, "expected a member"},
		{"id,", 3, "expected a member"},
		{"id name", 3, "expected ','"},
		{"data/", 5, "expected a member name after '/'"},
		{"a;b", 1, "expected ','"},
		{"1a", 0, "expected a member"},
	}
	for _, tt := range tests {
		_, _, err := query.ParseSelect(tt.src)
		t.Run(tt.src, func(t *testing.T) {
			checkErr(t, err, "invalid_select", "$select", tt.pos, tt.msg)
		})
	}
}

func TestParsePaging(t *testing.T) {
	tests := []struct {
		top, skip     string
		limit, offset int
	}{
		{"", "", query.DefaultTop, 0},
		{"10", "0", 10, 0},
		{"0", "", 0, 0},
		{"5000", "123456789", 5000, 123456789},
		{"007", "", 7, 0},
	}
	for _, tt := range tests {
		limit, offset, err := query.ParsePaging(tt.top, tt.skip)
		if err != nil || limit != tt.limit || offset != tt.offset {
			t.Errorf("ParsePaging(%q, %q) = %d, %d, %v; want %d, %d", tt.top, tt.skip, limit, offset, err, tt.limit, tt.offset)
		}
	}
	errTests := []struct {
		top, skip, target string
		pos               int
		msg               string
	}{
		{"5001", "", "$top", 0, "at most 5000"},
		{"-1", "", "$top", 0, "non-negative integer"},
		{"1.5", "", "$top", 1, "non-negative integer"},
		{"+3", "", "$top", 0, "non-negative integer"},
		{" 3", "", "$top", 0, "non-negative integer"},
		{"10", "x", "$skip", 0, "non-negative integer"},
		{"10", "99999999999999999999999", "$skip", 0, "too large"},
	}
	for _, tt := range errTests {
		_, _, err := query.ParsePaging(tt.top, tt.skip)
		t.Run(tt.top+"/"+tt.skip, func(t *testing.T) {
			checkErr(t, err, "invalid_query_option", tt.target, tt.pos, tt.msg)
		})
	}
}
