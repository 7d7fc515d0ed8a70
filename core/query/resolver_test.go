package query_test

import (
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
)

// testFields is a small schema in the shape of a formdata entity (spec §6):
// common properties, enums, and data/… fields of every kind, including a
// select (implicit …/value, sorts by label), a checkbox (array of select
// values), an array of scalars and a child table.
var testFields = map[string]query.Field{
	"id":          {Path: query.Path{"id"}, Type: query.String},
	"name":        {Path: query.Path{"name"}, Type: query.String},
	"formid":      {Path: query.Path{"formId"}, Type: query.String},
	"dataid":      {Path: query.Path{"dataId"}, Type: query.String},
	"parentid":    {Path: query.Path{"parentId"}, Type: query.String},
	"createtime":  {Path: query.Path{"createTime"}, Type: query.Time},
	"iscompany":   {Path: query.Path{"isCompany"}, Type: query.Bool},
	"password":    {Path: query.Path{"password"}, Type: query.String, NoFilter: true},
	"content":     {Path: query.Path{"content"}, Type: query.String, NoSort: true},
	"status":      {Path: query.Path{"status"}, Type: query.Enum, Enum: map[string]int64{"active": 0, "disabled": 1}},
	"flowstatus":  {Path: query.Path{"flowStatus"}, Type: query.Enum, Enum: map[string]int64{"none": 0, "draft": 1, "approving": 2, "approved": 3}},
	"createby/id": {Path: query.Path{"createBy", "id"}, Type: query.String},
	"data/amount": {Path: query.Path{"data", "amount"}, Type: query.Number},
	"data/customer": {
		Path: query.Path{"data", "customer"}, Type: query.String,
	},
	"data/due":          {Path: query.Path{"data", "due"}, Type: query.Time},
	"data/region":       {Path: query.Path{"data", "region", "value"}, Type: query.String, SortPath: query.Path{"data", "region", "label"}},
	"data/region/value": {Path: query.Path{"data", "region", "value"}, Type: query.String, SortPath: query.Path{"data", "region", "label"}},
	"data/region/label": {Path: query.Path{"data", "region", "label"}, Type: query.String},
	"data/owner":        {Path: query.Path{"data", "owner", "id"}, Type: query.String, SortPath: query.Path{"data", "owner", "label"}},
	"data/tags":         {Array: query.Path{"data", "tags"}, Path: query.Path{"value"}, Type: query.String, NoSort: true},
	"data/labels":       {Array: query.Path{"data", "labels"}, Type: query.String, NoSort: true},
	"data/items/qty":    {Array: query.Path{"data", "items"}, Path: query.Path{"qty"}, Type: query.Number, NoSort: true},
	"data/items/note":   {Array: query.Path{"data", "items"}, Path: query.Path{"note"}, Type: query.String, NoSort: true},
	"data/名称":           {Path: query.Path{"data", "名称"}, Type: query.String},
	"type":              {Path: query.Path{"type"}, Type: query.String},
}

// testResolver resolves members case-insensitively with '/' and '.' as
// equivalent separators; "broken" fails as if the schema store were down.
var testResolver = query.ResolverFunc(func(segs []string) (query.Field, error) {
	key := strings.ToLower(strings.Join(segs, "/"))
	if key == "broken" {
		return query.Field{}, errs.Unavailablef("schema store unavailable")
	}
	f, ok := testFields[key]
	if !ok {
		return query.Field{}, errs.Invalidf("unknown member %q", strings.Join(segs, "/"))
	}
	f.Name = strings.Join(segs, "/")
	return f, nil
})
