package schema

import (
	"errors"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
)

// baseResolver stands in for the record's own properties.
var baseResolver = query.ResolverFunc(func(segs []string) (query.Field, error) {
	name := strings.Join(segs, "/")
	switch strings.ToLower(name) {
	case "formid":
		return query.Field{Name: name, Path: query.Path{"formId"}, Type: query.String}, nil
	case "createtime":
		return query.Field{Name: name, Path: query.Path{"createTime"}, Type: query.Time}, nil
	case "data":
		return query.Field{Name: name, Path: query.Path{"data"}, NoFilter: true, NoSort: true}, nil
	}
	return query.Field{}, errs.Invalidf("unknown property %s", name).WithTarget(name)
})

func TestResolver(t *testing.T) {
	f := everyType(t)
	f.Fields = append(f.Fields, f1(t).Fields[3]) // data/items/qty from f_1
	r := f.Resolver(baseResolver)
	p := func(s ...string) query.Path { return query.Path(s) }
	tests := []struct {
		member string
		want   query.Field
	}{
		// Delegated to base.
		{"formId", query.Field{Name: "formId", Path: p("formId"), Type: query.String}},
		{"CreateTime", query.Field{Name: "CreateTime", Path: p("createTime"), Type: query.Time}},
		{"data", query.Field{Name: "data", Path: p("data"), NoFilter: true, NoSort: true}},
		// Scalars.
		{"data/name", query.Field{Name: "data/name", Path: p("data", "name"), Type: query.String}},
		{"Data/MEMO", query.Field{Name: "Data/MEMO", Path: p("data", "memo"), Type: query.String}},
		{"data/amount", query.Field{Name: "data/amount", Path: p("data", "amount"), Type: query.Number}},
		{"data/due", query.Field{Name: "data/due", Path: p("data", "due"), Type: query.Time}},
		// Select-like: implicit value, sort by label.
		{"data/region", query.Field{Name: "data/region", Path: p("data", "region", "value"), SortPath: p("data", "region", "label"), Type: query.String}},
		{"data/level", query.Field{Name: "data/level", Path: p("data", "level", "value"), SortPath: p("data", "level", "label"), Type: query.String}},
		{"data/region/Value", query.Field{Name: "data/region/Value", Path: p("data", "region", "value"), Type: query.String}},
		{"data/region/label", query.Field{Name: "data/region/label", Path: p("data", "region", "label"), Type: query.String}},
		{"data/tags", query.Field{Name: "data/tags", Array: p("data", "tags"), Path: p("value"), Type: query.String, NoSort: true}},
		{"data/multi/label", query.Field{Name: "data/multi/label", Array: p("data", "multi"), Path: p("label"), Type: query.String, NoSort: true}},
		// Employees and departments: implicit id, sort by label.
		{"data/owner", query.Field{Name: "data/owner", Path: p("data", "owner", "id"), SortPath: p("data", "owner", "label"), Type: query.String}},
		{"data/owner/value", query.Field{Name: "data/owner/value", Path: p("data", "owner", "value"), Type: query.String}},
		{"data/dept/LABEL", query.Field{Name: "data/dept/LABEL", Path: p("data", "dept", "label"), Type: query.String}},
		{"data/team", query.Field{Name: "data/team", Array: p("data", "team"), Path: p("id"), Type: query.String, NoSort: true}},
		{"data/depts/label", query.Field{Name: "data/depts/label", Array: p("data", "depts"), Path: p("label"), Type: query.String, NoSort: true}},
		// Files.
		{"data/photos", query.Field{Name: "data/photos", Array: p("data", "photos"), Path: p("fileName"), Type: query.String, NoSort: true}},
		{"data/FILES/id", query.Field{Name: "data/FILES/id", Array: p("data", "Files"), Path: p("id"), Type: query.String, NoSort: true}},
		// Child tables.
		{"data/items/qty", query.Field{Name: "data/items/qty", Array: p("data", "items"), Path: p("qty"), Type: query.Number, NoSort: true}},
		{"data/Lines/SKU", query.Field{Name: "data/Lines/SKU", Array: p("data", "lines"), Path: p("sku"), Type: query.String, NoSort: true}},
		{"data/lines/color", query.Field{Name: "data/lines/color", Array: p("data", "lines"), Path: p("color", "value"), Type: query.String, NoSort: true}},
		{"data/lines/color/label", query.Field{Name: "data/lines/color/label", Array: p("data", "lines"), Path: p("color", "label"), Type: query.String, NoSort: true}},
		{"data/lines/who", query.Field{Name: "data/lines/who", Array: p("data", "lines"), Path: p("who", "id"), Type: query.String, NoSort: true}},
		{"data/lines/id", query.Field{Name: "data/lines/id", Array: p("data", "lines"), Path: p("id"), Type: query.String, NoSort: true}},
	}
	for _, tt := range tests {
		t.Run(tt.member, func(t *testing.T) {
			got, err := r.Resolve(strings.Split(tt.member, "/"))
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			eq(t, tt.member, got, tt.want)
		})
	}
}

func TestResolverErrors(t *testing.T) {
	f := everyType(t)
	f.Fields = append(f.Fields, f1(t).Fields[3])
	for _, member := range []string{
		"data/xyz", "data/amount/value", "data/name/x", "data/region/id", "data/region/value/x",
		"data/owner/name", "data/tags/id", "data/photos/size", "data/items", "data/items/nope",
		"data/items/qty/value", "data/lines/marks", "data/lines/id/x", "data/lines/color/x",
		"nope", "data.amount",
	} {
		t.Run(member, func(t *testing.T) {
			_, err := f.Resolver(baseResolver).Resolve(strings.Split(member, "/"))
			var e *errs.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *errs.Error", err)
			}
			if e.Code != errs.Invalid || e.Target != member {
				t.Errorf("code/target = %v/%q, want invalid/%q", e.Code, e.Target, member)
			}
		})
	}
	// The message names the member as written.
	_, err := f.Resolver(nil).Resolve([]string{"data", "xyz"})
	if e := errs.As(err); e.Msg != "unknown property data/xyz" || e.Target != "data/xyz" {
		t.Errorf("unknown field error = %+v", e)
	}
	// Without a base, non-data members are unknown.
	_, err = f.Resolver(nil).Resolve([]string{"createTime"})
	if e := errs.As(err); e.Code != errs.Invalid || e.Target != "createTime" {
		t.Errorf("nil base error = %+v", e)
	}
}
