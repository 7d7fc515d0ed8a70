package schema

import (
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
)

// Resolver returns a query.Resolver for records of this form: paths under
// `data` resolve against the fields (implicit sub-fields, arrays and child
// tables as §7.2 rules 3–4), everything else — including `data` alone — is
// delegated to base (the record's own properties; nil = nothing else known).
//
// Field keys, sub-field names and column keys match case-insensitively; the
// resolved Path holds the stored case. What each field type resolves to:
//
//	input, textarea   data/k          String  {data,k}
//	number            data/k          Number  {data,k}
//	timestamp         data/k          Time    {data,k}
//	radio, select     data/k          String  {data,k,value}, sorts by {data,k,label}
//	                  data/k/value    String  {data,k,value}
//	                  data/k/label    String  {data,k,label}
//	checkbox, select2 data/k[/value]  String  Array {data,k}, Path {value} (…/label: {label})
//	employee1, department1
//	                  data/k          String  {data,k,id}, sorts by {data,k,label}
//	                  data/k/id|value|label   {data,k,<sub>}
//	employee2, department2
//	                  data/k[/id]     String  Array {data,k}, Path {id} (…/value, …/label)
//	imageupload, fileupload
//	                  data/k[/fileName] String Array {data,k}, Path {fileName} (…/id, …/url)
//	tableform         data/k          error: a child table is not comparable
//	                  data/k/c[/…]    Array {data,k}, Path = the column resolved as above
//	                                  relative to the row ({c}, {c,value}, …; c may be "id")
//
// Array-valued fields are not sortable (NoSort). Multi-value columns inside a
// child table (checkbox, select2, employee2, department2, files) cannot be
// filtered: an any-row-any-element match needs nested AnyRow, which the
// query AST does not express.
//
// Errors are *errs.Error with Code Invalid and Target the member as written
// ("data/xyz"); the query parser adds Reason and Pos.
func (f *Form) Resolver(base query.Resolver) query.Resolver {
	return query.ResolverFunc(func(segs []string) (query.Field, error) {
		if len(segs) < 2 || !strings.EqualFold(segs[0], "data") {
			if base == nil {
				name := strings.Join(segs, "/")
				return query.Field{}, errs.Invalidf("unknown property %s", name).WithTarget(name)
			}
			return base.Resolve(segs)
		}
		return f.resolveData(segs)
	})
}

// resolveData resolves data/<field>[/...].
func (f *Form) resolveData(segs []string) (query.Field, error) {
	name := strings.Join(segs, "/")
	d, ok := f.Lookup(segs[1])
	if !ok {
		return query.Field{}, unknown(name)
	}
	fld := query.Field{Name: name}
	prefix := query.Path{"data", d.Field}
	if d.Type == TableForm {
		if len(segs) == 2 {
			return query.Field{}, errs.Invalidf("property %s is a child table and cannot be compared or sorted; name one of its columns (%s/<column>)", name, name).WithTarget(name)
		}
		rel, err := resolveColumn(d, segs[2:], name)
		if err != nil {
			return query.Field{}, err
		}
		rel.Name = name
		rel.Array = prefix
		rel.SortPath = nil
		rel.NoSort = true
		return rel, nil
	}
	rel, err := resolveIn(d, segs[2:], name)
	if err != nil {
		return query.Field{}, err
	}
	fld.Type = rel.Type
	if d.Type.IsArray() {
		fld.Array = prefix
		fld.Path = rel.Path
		fld.NoSort = true
		return fld, nil
	}
	fld.Path = append(append(query.Path{}, prefix...), rel.Path...)
	if rel.SortPath != nil {
		fld.SortPath = append(append(query.Path{}, prefix...), rel.SortPath...)
	}
	return fld, nil
}

// resolveColumn resolves the segments after a child table's key: a column
// (or the row "id") and its sub-field, relative to the row.
func resolveColumn(table *FieldDef, segs []string, name string) (query.Field, error) {
	if strings.EqualFold(segs[0], "id") {
		if len(segs) > 1 {
			return query.Field{}, unknown(name)
		}
		return query.Field{Path: query.Path{"id"}, Type: query.String}, nil
	}
	c, ok := lookup(table.Columns, segs[0])
	if !ok {
		return query.Field{}, unknown(name)
	}
	if c.Type.IsArray() {
		return query.Field{}, errs.Invalidf("property %s is a multi-value column of a child table and cannot be filtered", name).WithTarget(name)
	}
	rel, err := resolveIn(c, segs[1:], name)
	if err != nil {
		return query.Field{}, err
	}
	rel.Path = append(query.Path{c.Field}, rel.Path...)
	if rel.SortPath != nil {
		rel.SortPath = append(query.Path{c.Field}, rel.SortPath...)
	}
	return rel, nil
}

// resolveIn resolves the sub-field segments of field d (after its key). The
// returned Path and SortPath are relative to the value of d (for an array
// field: to one element).
func resolveIn(d *FieldDef, sub []string, name string) (query.Field, error) {
	if len(sub) > 1 {
		return query.Field{}, unknown(name)
	}
	pick := func(implicit string, allowed ...string) (query.Field, error) {
		if len(sub) == 0 {
			return query.Field{Path: query.Path{implicit}, Type: query.String}, nil
		}
		for _, a := range allowed {
			if strings.EqualFold(sub[0], a) {
				return query.Field{Path: query.Path{a}, Type: query.String}, nil
			}
		}
		return query.Field{}, unknown(name)
	}
	switch d.Type {
	case Input, Textarea, Number, Timestamp:
		if len(sub) > 0 {
			return query.Field{}, unknown(name)
		}
		t := query.String
		switch d.Type {
		case Number:
			t = query.Number
		case Timestamp:
			t = query.Time
		}
		return query.Field{Type: t}, nil
	case Radio, Select:
		fld, err := pick("value", "value", "label")
		if err == nil && len(sub) == 0 {
			fld.SortPath = query.Path{"label"} // §7.3: select-like fields sort by label
		}
		return fld, err
	case Checkbox, Select2:
		return pick("value", "value", "label")
	case Employee1, Department1:
		fld, err := pick("id", "id", "value", "label")
		if err == nil && len(sub) == 0 {
			fld.SortPath = query.Path{"label"}
		}
		return fld, err
	case Employee2, Department2:
		return pick("id", "id", "value", "label")
	case ImageUpload, FileUpload:
		return pick("fileName", "fileName", "id", "url")
	}
	return query.Field{}, unknown(name)
}

func unknown(name string) error {
	return errs.Invalidf("unknown property %s", name).WithTarget(name)
}
