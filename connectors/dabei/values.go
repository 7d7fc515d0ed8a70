package dabei

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Field values between Dabei's encodings (spec 5.6) and the core's.

func isArrayType(t string) bool {
	switch t {
	case "checkbox", "select2", "employee2", "department2", "imageupload", "fileupload", "tableform":
		return true
	}
	return false
}

// lookupField finds a form field by key, or by display name when the name
// is unique in fields (spec 5.1, 11.7).
func lookupField(fields []sdk.Field, key string) *sdk.Field {
	for i := range fields {
		if fields[i].Field == key {
			return &fields[i]
		}
	}
	var found *sdk.Field
	for i := range fields {
		if fields[i].Title == key && key != "" {
			if found != nil {
				return nil
			}
			found = &fields[i]
		}
	}
	return found
}

func typeErr(key string) error {
	return Failf(CodeInvalid, "参数错误：字段 %s 的值类型错误", key)
}

// number reads a JSON number or a numeric string.
func number(key string, v any) (float64, error) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	default:
		return 0, typeErr(key)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, typeErr(key)
	}
	return f, nil
}

var dateLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"}

// epochMS reads a date: ms number, numeric string or yyyy-MM-dd[ HH:mm[:ss]]
// in loc.
func epochMS(key string, v any, loc *time.Location) (int64, error) {
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		for _, l := range dateLayouts {
			if t, err := time.ParseInLocation(l, s, loc); err == nil {
				return t.UnixMilli(), nil
			}
		}
	}
	f, err := number(key, v)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1e16 {
		return 0, typeErr(key)
	}
	return int64(f), nil
}

// optionValue maps a Dabei select value (the label, or the value) to the
// option's value.
func optionValue(fd *sdk.Field, key string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		if n, isNum := v.(json.Number); isNum {
			s = n.String()
		} else {
			return "", typeErr(key)
		}
	}
	if len(fd.Props.Options) == 0 {
		return s, nil
	}
	for _, o := range fd.Props.Options {
		if o.Label == s {
			return o.Value, nil
		}
	}
	for _, o := range fd.Props.Options {
		if o.Value == s {
			return o.Value, nil
		}
	}
	return "", Failf(CodeInvalid, "参数错误：字段 %s 的选项不存在：%s", key, s)
}

// list reads an array, or wraps a bare scalar.
func list(v any) []any {
	if a, ok := v.([]any); ok {
		return a
	}
	return []any{v}
}

// toCore converts one Dabei input value of field fd to the core's input
// shape; nil clears.
func (c *Call) toCore(ctx context.Context, fd *sdk.Field, key string, v any, depth int) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch fd.Type {
	case "input", "textarea":
		switch x := v.(type) {
		case string:
			return x, nil
		case json.Number:
			return x.String(), nil
		}
		return nil, typeErr(key)
	case "number":
		if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
			return nil, nil
		}
		return number(key, v)
	case "timestamp":
		if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
			return nil, nil
		}
		return epochMS(key, v, c.Cfg.loc)
	case "select", "radio":
		a := list(v)
		if len(a) == 0 {
			return nil, nil
		}
		if len(a) != 1 {
			return nil, typeErr(key)
		}
		if s, ok := a[0].(string); ok && s == "" {
			return nil, nil
		}
		return optionValue(fd, key, a[0])
	case "checkbox", "select2":
		out := []any{}
		for _, x := range list(v) {
			s, err := optionValue(fd, key, x)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	case "employee1", "department1", "employee2", "department2":
		kind := kindUser
		if strings.HasPrefix(fd.Type, "department") {
			kind = kindDept
		}
		var out []any
		for _, x := range list(v) {
			s, ok := x.(string)
			if !ok {
				return nil, typeErr(key)
			}
			hub, err := c.HubID(ctx, kind, s)
			if err != nil {
				return nil, err
			}
			if hub == "" {
				return nil, notFound(key, s)
			}
			out = append(out, hub)
		}
		if fd.Type == "employee1" || fd.Type == "department1" {
			if len(out) > 1 {
				return nil, typeErr(key)
			}
			if len(out) == 0 {
				return nil, nil
			}
			return out[0], nil
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	case "imageupload", "fileupload":
		out := []any{}
		for _, x := range list(v) {
			if _, ok := x.(string); !ok {
				return nil, typeErr(key)
			}
			out = append(out, x)
		}
		return out, nil
	case "tableform":
		rows, ok := v.([]any)
		if !ok || depth > 0 {
			return nil, typeErr(key)
		}
		out := make([]any, 0, len(rows))
		for _, r := range rows {
			m, ok := r.(map[string]any)
			if !ok {
				return nil, typeErr(key)
			}
			row := map[string]any{}
			for k, cv := range m {
				if k == "id" {
					row["id"] = cv
					continue
				}
				col := lookupField(fd.Columns, k)
				if col == nil {
					return nil, Failf(CodeInvalid, "字段不存在：%s.%s", key, k)
				}
				x, err := c.toCore(ctx, col, key+"."+k, cv, depth+1)
				if err != nil {
					return nil, err
				}
				row[col.Field] = x
			}
			out = append(out, row)
		}
		return out, nil
	}
	return v, nil
}

// refs collects the hub user and department ids a record page names, for
// one alias call each.
type refs struct{ users, depts []string }

func refID(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		s, _ := x["id"].(string)
		return s
	}
	return ""
}

func (r *refs) collect(fields []sdk.Field, data map[string]any) {
	for _, fd := range fields {
		v := data[fd.Field]
		switch fd.Type {
		case "employee1", "employee2":
			for _, x := range list(v) {
				if id := refID(x); id != "" {
					r.users = append(r.users, id)
				}
			}
		case "department1", "department2":
			for _, x := range list(v) {
				if id := refID(x); id != "" {
					r.depts = append(r.depts, id)
				}
			}
		case "tableform":
			rows, _ := v.([]any)
			for _, row := range rows {
				if m, ok := row.(map[string]any); ok {
					r.collect(fd.Columns, m)
				}
			}
		}
	}
}

func label(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if l, _ := x["label"].(string); l != "" {
			return l
		}
		s, _ := x["value"].(string)
		return s
	}
	return ""
}

// fromCore converts a stored value to Dabei's output encoding.
func fromCore(fd *sdk.Field, v any, users, depts map[string]string) any {
	if v == nil {
		return nil
	}
	switch fd.Type {
	case "select", "radio":
		return []string{label(v)}
	case "checkbox", "select2":
		out := []string{}
		for _, x := range list(v) {
			out = append(out, label(x))
		}
		return out
	case "employee1":
		return users[refID(v)]
	case "department1":
		return depts[refID(v)]
	case "employee2", "department2":
		m := users
		if fd.Type == "department2" {
			m = depts
		}
		out := []string{}
		for _, x := range list(v) {
			out = append(out, m[refID(x)])
		}
		return out
	case "imageupload", "fileupload":
		out := []string{}
		for _, x := range list(v) {
			if m, ok := x.(map[string]any); ok {
				if u, _ := m["url"].(string); u != "" {
					out = append(out, u)
					continue
				}
			}
			out = append(out, refID(x))
		}
		return out
	case "tableform":
		rows, _ := v.([]any)
		out := []Obj{}
		for _, r := range rows {
			m, ok := r.(map[string]any)
			if !ok {
				continue
			}
			o := Obj{{"id", m["id"]}}
			for i := range fd.Columns {
				col := &fd.Columns[i]
				if x, has := m[col.Field]; has {
					o = append(o, KV{col.Field, fromCore(col, x, users, depts)})
				}
			}
			out = append(out, o)
		}
		return out
	}
	return v
}

// sysStatus maps the core's flowStatus to Dabei's sys_status (spec 5.6):
// 0 draft, 1 in progress, 2 effective, 3 cancelled.
func sysStatus(flow int64) int {
	switch flow {
	case 1:
		return 0
	case 2, 5:
		return 1
	case 4, 6:
		return 3
	}
	return 2
}

// flowStatuses is the inverse of sysStatus.
var flowStatuses = map[int64][]sdk.Value{0: {int64(1)}, 1: {int64(2), int64(5)}, 2: {int64(3), int64(0)}, 3: {int64(4), int64(6)}}

// renderRecords renders records of form f (spec 5.6): id, data_title,
// sys_* then the fields in form order.
func (c *Call) renderRecords(ctx context.Context, f *sdk.Form, recs []sdk.Doc) ([]Obj, error) {
	var r refs
	var rids []string
	for _, rec := range recs {
		rids = append(rids, str(rec, "id"))
		for _, k := range []string{"createBy", "updateBy"} {
			if id := refID(rec[k]); id != "" {
				r.users = append(r.users, id)
			}
		}
		data, _ := rec["data"].(map[string]any)
		r.collect(f.Fields, data)
	}
	rext, err := c.ExtIDs(ctx, kindRecord, rids)
	if err != nil {
		return nil, err
	}
	users, err := c.ExtIDs(ctx, kindUser, r.users)
	if err != nil {
		return nil, err
	}
	depts, err := c.ExtIDs(ctx, kindDept, r.depts)
	if err != nil {
		return nil, err
	}
	out := make([]Obj, len(recs))
	for i, rec := range recs {
		o := Obj{{"id", rext[str(rec, "id")]}, {"data_title", str(rec, "dataTitle")},
			{"sys_create_time", intOf(rec["createTime"])}, {"sys_update_time", intOf(rec["updateTime"])},
			{"sys_create_by", users[refID(rec["createBy"])]}, {"sys_update_by", users[refID(rec["updateBy"])]},
			{"sys_status", sysStatus(intOf(rec["flowStatus"]))}}
		data, _ := rec["data"].(map[string]any)
		for j := range f.Fields {
			fd := &f.Fields[j]
			if v, has := data[fd.Field]; has && v != nil {
				o = append(o, KV{fd.Field, fromCore(fd, v, users, depts)})
			}
		}
		out[i] = o
	}
	return out, nil
}
