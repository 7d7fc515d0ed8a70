package schema

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/eimshub/eimshub/core/store"
)

// Normalize validates record values against the form and returns them in
// stored shape (§6.3). It never mutates data; the result is a new map (nested
// values are new maps and slices too).
//
// Accepted inputs per type (output in brackets):
//   - input, textarea: a string [string].
//   - number: any Go number, json.Number or a numeric string ("5") [float64].
//     The store hands integral numbers back as int64, so readers must accept both.
//   - timestamp: epoch ms as an integral number or numeric string, a
//     time.Time, or a string in RFC 3339, "2006-01-02T15:04:05",
//     "2006-01-02 15:04:05" or "2006-01-02" (the last three in f.Location,
//     default DefaultLocation) [int64 epoch ms].
//   - radio, select: a bare string (the value) or {value[, label]} [{value, label}];
//     when the field defines options the value must be one of them and the
//     label is the option's.
//   - checkbox, select2: an array of the above [array of {value, label}].
//   - employee1, department1: a bare string id or {id[, value, label]}
//     [{id[, value, label]}]; employee2, department2: an array of them.
//   - imageupload, fileupload: an array of file ids or {id[, fileName|name, url]}
//     [array of {id[, fileName, name, url]}; fileName and name are synonyms].
//   - tableform: an array of row objects, each normalised against the columns
//     (required columns enforced); a row without "id" gets store.NewID().
//
// Keys match field keys case-insensitively and are stored in the field's case.
// null, "", an object without its value/id and an empty array count as empty. Empty values: on create (partial=false) an empty
// optional field is left out and every required field must be present and
// non-empty; on update (partial=true) only the given keys are checked and
// null or empty means "clear": the key is kept with a nil value so the caller
// can delete it (clearing a required field is an error).
//
// All problems are collected into one errs.Invalid with Reason
// "validation_failed", Msg "record data is invalid" and one Detail per
// problem (codes CodeUnknownField, CodeInvalidType, CodeInvalidValue,
// CodeRequired, CodeDuplicateField), Target "data/<key>[/<index>[/<column>]]",
// sorted by target.
func (f *Form) Normalize(data map[string]any, partial bool) (map[string]any, error) {
	n := normalizer{loc: f.Location}
	if n.loc == nil {
		n.loc = DefaultLocation
	}
	out := n.object(f.Fields, data, "data", partial, false)
	if err := n.p.err("record data is invalid"); err != nil {
		return nil, err
	}
	return out, nil
}

type normalizer struct {
	loc *time.Location
	p   problems
}

// object normalises one object (the record's data or a table row) against
// fields. In a row, "id" is the row id.
func (n *normalizer) object(fields []FieldDef, data map[string]any, target string, partial, row bool) map[string]any {
	out := make(map[string]any, len(data)+1)
	given := make(map[string]string, len(data)) // stored key → key as written
	for k, v := range data {
		t := target + "/" + k
		if row && strings.EqualFold(k, "id") {
			switch id := v.(type) {
			case nil:
			case string:
				if id != "" {
					out["id"] = id
				}
			default:
				n.p.add(t, CodeInvalidType, "a row id must be a string")
			}
			continue
		}
		d, ok := lookup(fields, k)
		if !ok {
			n.p.add(t, CodeUnknownField, "unknown field %q", truncate(k))
			continue
		}
		if prev, dup := given[d.Field]; dup {
			// Report on the later key in a stable order.
			if prev > k {
				prev, k = k, prev
			}
			n.p.add(target+"/"+k, CodeDuplicateField, "field %q is given twice (as %q and %q)", d.Field, truncate(prev), truncate(k))
			continue
		}
		given[d.Field] = k
		nv := n.value(d, v, t)
		if nv == errValue {
			continue
		}
		if nv == nil {
			if d.Required {
				n.p.add(t, CodeRequired, "%s is required", d.Field)
				continue
			}
			if partial {
				out[d.Field] = nil
			}
			continue
		}
		out[d.Field] = nv
	}
	if !partial {
		for i := range fields {
			d := &fields[i]
			if _, ok := given[d.Field]; d.Required && !ok {
				n.p.add(target+"/"+d.Field, CodeRequired, "%s is required", d.Field)
			}
		}
	}
	if row {
		if _, ok := out["id"]; !ok {
			out["id"] = store.NewID()
		}
	}
	return out
}

// errValue marks a value that produced a problem (distinct from nil = empty).
var errValue = &struct{ bad bool }{true}

// value normalises one field value; nil means empty, errValue means a
// problem was recorded.
func (n *normalizer) value(d *FieldDef, v any, t string) any {
	if v == nil {
		return nil
	}
	if s, ok := v.(string); ok && s == "" && d.Type != Input && d.Type != Textarea {
		return nil
	}
	switch d.Type {
	case Input, Textarea:
		s, ok := v.(string)
		if !ok {
			return n.bad(t, CodeInvalidType, "%s must be a string", d.Field)
		}
		if s == "" {
			return nil
		}
		return s
	case Number:
		x, ok := toFloat(v)
		if !ok {
			return n.bad(t, CodeInvalidType, "%s must be a number", d.Field)
		}
		return x
	case Timestamp:
		return n.timestamp(d, v, t)
	case Radio, Select:
		return n.option(d, v, t)
	case Checkbox, Select2:
		return n.array(d, v, t, n.option)
	case Employee1, Department1:
		return n.ref(d, v, t)
	case Employee2, Department2:
		return n.array(d, v, t, n.ref)
	case ImageUpload, FileUpload:
		return n.array(d, v, t, n.file)
	case TableForm:
		rows, ok := v.([]any)
		if !ok {
			return n.bad(t, CodeInvalidType, "%s must be an array of row objects", d.Field)
		}
		if len(rows) == 0 {
			return nil
		}
		out := make([]any, 0, len(rows))
		failed := false
		for i, r := range rows {
			rt := t + "/" + strconv.Itoa(i)
			m, ok := r.(map[string]any)
			if !ok {
				n.bad(rt, CodeInvalidType, "a row of %s must be an object", d.Field)
				failed = true
				continue
			}
			before := len(n.p)
			nr := n.object(d.Columns, m, rt, false, true)
			failed = failed || len(n.p) > before
			out = append(out, nr)
		}
		if failed {
			return errValue
		}
		return out
	}
	return n.bad(t, CodeInvalidType, "field %s has an unsupported type %q", d.Field, d.Type)
}

func (n *normalizer) bad(t, code, format string, args ...any) any {
	n.p.add(t, code, format, args...)
	return errValue
}

// array normalises an array value element by element.
func (n *normalizer) array(d *FieldDef, v any, t string, elem func(*FieldDef, any, string) any) any {
	arr, ok := v.([]any)
	if !ok {
		return n.bad(t, CodeInvalidType, "%s must be an array", d.Field)
	}
	if len(arr) == 0 {
		return nil
	}
	out := make([]any, 0, len(arr))
	failed := false
	for i, e := range arr {
		et := t + "/" + strconv.Itoa(i)
		x := elem(d, e, et)
		switch {
		case x == errValue:
			failed = true
		case x == nil:
			n.bad(et, CodeInvalidValue, "an element of %s may not be empty", d.Field)
			failed = true
		default:
			out = append(out, x)
		}
	}
	if failed {
		return errValue
	}
	return out
}

// option normalises a select-like value to {value, label}.
func (n *normalizer) option(d *FieldDef, v any, t string) any {
	var val, label string
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		val = x
	case map[string]any:
		switch vv := x["value"].(type) {
		case nil:
		case string:
			val = vv
		default:
			return n.bad(t+"/value", CodeInvalidType, "value must be a string")
		}
		switch l := x["label"].(type) {
		case nil:
		case string:
			label = l
		default:
			return n.bad(t+"/label", CodeInvalidType, "label must be a string")
		}
	default:
		return n.bad(t, CodeInvalidType, "%s must be an option value (string) or {value, label}", d.Field)
	}
	if val == "" {
		return nil
	}
	if len(d.Props.Options) > 0 {
		o, ok := d.option(val)
		if !ok {
			return n.bad(t, CodeInvalidValue, "%q is not an option of %s", truncate(val), d.Field)
		}
		label = o.Label
	}
	if label == "" {
		label = val
	}
	return map[string]any{"value": val, "label": label}
}

// ref normalises an employee/department reference to {id[, value, label]}.
func (n *normalizer) ref(d *FieldDef, v any, t string) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return map[string]any{"id": x}
	case map[string]any:
		return n.object3(x, t, "id", "value", "label")
	}
	return n.bad(t, CodeInvalidType, "%s must be an id (string) or {id, value, label}", d.Field)
}

// file normalises a file reference to {id[, fileName, name, url]}: name
// (what the EIMSNext web client writes, §12.8.3) and fileName are
// synonyms, and a reference with either carries both.
func (n *normalizer) file(d *FieldDef, v any, t string) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return map[string]any{"id": x}
	case map[string]any:
		out := n.object3(x, t, "id", "fileName", "name", "url")
		if m, ok := out.(map[string]any); ok {
			fn, hasFN := m["fileName"].(string)
			nm, hasName := m["name"].(string)
			switch {
			case hasFN && fn != "" && (!hasName || nm == ""):
				m["name"] = fn
			case hasName && nm != "" && (!hasFN || fn == ""):
				m["fileName"] = nm
			}
		}
		return out
	}
	return n.bad(t, CodeInvalidType, "a file reference must be an id (string) or {id, fileName, url}")
}

// object3 copies the string properties key (required, non-empty) and opt
// (optional) of x; other properties are dropped. An object without key is empty.
func (n *normalizer) object3(x map[string]any, t, key string, opt ...string) any {
	out := make(map[string]any, 1+len(opt))
	failed := false
	for _, k := range append([]string{key}, opt...) {
		switch s := x[k].(type) {
		case nil:
		case string:
			if s != "" || k != key {
				out[k] = s
			}
		default:
			n.bad(t+"/"+k, CodeInvalidType, "%s must be a string", k)
			failed = true
		}
	}
	if failed {
		return errValue
	}
	if _, ok := out[key]; !ok {
		if len(out) == 0 {
			return nil
		}
		return n.bad(t+"/"+key, CodeRequired, "%s is required", key)
	}
	return out
}

// timestamp normalises a timestamp to int64 epoch ms.
func (n *normalizer) timestamp(d *FieldDef, v any, t string) any {
	switch x := v.(type) {
	case time.Time:
		return x.UnixMilli()
	case string:
		s := strings.TrimSpace(x)
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			return ms
		}
		if tm, ok := parseTime(s, n.loc); ok {
			return tm.UnixMilli()
		}
		return n.bad(t, CodeInvalidType, "%s must be epoch milliseconds or an ISO 8601 date-time", d.Field)
	}
	f, ok := toFloat(v)
	if !ok {
		return n.bad(t, CodeInvalidType, "%s must be epoch milliseconds or an ISO 8601 date-time", d.Field)
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return n.bad(t, CodeInvalidValue, "%s must be whole epoch milliseconds", d.Field)
	}
	return int64(f)
}

// timeLayouts are the zone-less layouts read in the form's location.
var timeLayouts = []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}

func parseTime(s string, loc *time.Location) (time.Time, bool) {
	if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return tm, true
	}
	for _, l := range timeLayouts {
		if tm, err := time.ParseInLocation(l, s, loc); err == nil {
			return tm, true
		}
	}
	return time.Time{}, false
}

// numberRE is a decimal number as a string ("5", "-1.5", "2e3"); hex, "Inf"
// and "NaN" are not numbers here.
var numberRE = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// toFloat converts a JSON/Go number or a numeric string to a finite float64.
func toFloat(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int8:
		f = float64(x)
	case int16:
		f = float64(x)
	case int32:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint:
		f = float64(x)
	case uint8:
		f = float64(x)
	case uint16:
		f = float64(x)
	case uint32:
		f = float64(x)
	case uint64:
		f = float64(x)
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return 0, false
		}
	case string:
		s := strings.TrimSpace(x)
		if !numberRE.MatchString(s) {
			return 0, false
		}
		var err error
		if f, err = strconv.ParseFloat(s, 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}
