package schema

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/eimshub/eimshub/core/errs"
)

// Detail codes used in validation errors (errs.Detail.Code).
const (
	CodeRequired       = "required"        // a required value is missing, null or empty
	CodeInvalidType    = "invalid_type"    // a value of the wrong kind
	CodeInvalidValue   = "invalid_value"   // the right kind, but not allowed
	CodeUnknownField   = "unknown_field"   // a key the form does not define
	CodeDuplicateField = "duplicate_field" // a key given or defined twice (case-insensitively)
)

// ReasonValidation is the errs.Error Reason of every validation error here.
const ReasonValidation = "validation_failed"

// fieldKeyRE is the shape of a field key: an identifier the query language
// can name (§7.1), never a `$` operator or a dotted path.
var fieldKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// problems collects validation details.
type problems []errs.Detail

func (p *problems) add(target, code, format string, args ...any) {
	*p = append(*p, errs.Detail{Code: code, Message: fmt.Sprintf(format, args...), Target: target})
}

// err returns nil when there are no problems, else one errs.Invalid with
// Reason validation_failed and the details sorted by target.
func (p problems) err(msg string) error {
	if len(p) == 0 {
		return nil
	}
	d := append([]errs.Detail(nil), p...)
	sort.SliceStable(d, func(i, j int) bool { return d[i].Target < d[j].Target })
	return errs.New(errs.Invalid, msg).WithReason(ReasonValidation).WithDetails(d...)
}

// ParseContent validates a form's `content` (an object, or a JSON string
// holding one, with `items` of FieldDefs) and returns its fields. Errors are
// errs.Invalid with Reason "validation_failed" and one detail per problem
// (unknown type, duplicate or malformed key, child table without columns,
// nested child tables), each with a Target such as "content/items/2/field".
//
// `items` is required and may be empty, unless the content is in the form
// designer's shape (§12.10: a "layout" holding a JSON array of rules): then the fields are
// derived from the layout (DeriveItems) and any items are ignored. Keys
// FieldDef does not know (layout hints the designer stores) are ignored. Option lists apply to radio,
// select, checkbox and select2 and are dropped on other types; an option may
// be a plain string (value = label) and a missing label defaults to the value.
func ParseContent(content any) ([]FieldDef, error) {
	var p problems
	m, ok := contentMap(content, &p)
	if !ok {
		return nil, p.err("form content is invalid")
	}
	if designerLayout(m["layout"]) {
		layout, ok := jsonText(m["layout"], '[')
		if !ok {
			p.add("content/layout", CodeInvalidType, "layout must be a string holding a JSON array of designer rules")
			return nil, p.err("form content is invalid")
		}
		return DeriveItems(layout)
	}
	raw, present := m["items"]
	if !present || raw == nil {
		p.add("content/items", CodeRequired, "items is required")
		return nil, p.err("form content is invalid")
	}
	items, ok := raw.([]any)
	if !ok {
		p.add("content/items", CodeInvalidType, "items must be an array")
		return nil, p.err("form content is invalid")
	}
	fields := parseFields(items, "content/items", false, false, &p)
	if err := p.err("form content is invalid"); err != nil {
		return nil, err
	}
	return fields, nil
}

// contentMap turns content into a generic JSON object.
func contentMap(content any, p *problems) (map[string]any, bool) {
	var b []byte
	switch c := content.(type) {
	case nil:
		p.add("content", CodeRequired, "content is required")
		return nil, false
	case map[string]any:
		return c, true
	case string:
		b = []byte(c)
	case []byte:
		b = c
	case json.RawMessage:
		b = c
	default:
		// Typed Go values (structs, []FieldDef holders): go through JSON.
		var err error
		if b, err = json.Marshal(c); err != nil {
			p.add("content", CodeInvalidType, "content must be a JSON object")
			return nil, false
		}
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		p.add("content", CodeInvalidType, "content must be a JSON object (or a string holding one)")
		return nil, false
	}
	return m, true
}

// parseFields parses a list of FieldDefs at target; inTable marks child-table
// columns (no nested tables, "id" reserved for the row id); emptyCols
// accepts child tables without columns (items derived from a designer
// layout, §12.10).
func parseFields(items []any, target string, inTable, emptyCols bool, p *problems) []FieldDef {
	fields := make([]FieldDef, 0, len(items))
	seen := make(map[string]bool, len(items))
	for i, it := range items {
		t := target + "/" + strconv.Itoa(i)
		obj, ok := it.(map[string]any)
		if !ok {
			p.add(t, CodeInvalidType, "a field definition must be an object")
			continue
		}
		d, ok := parseField(obj, t, inTable, emptyCols, p)
		if !ok {
			continue
		}
		k := strings.ToLower(d.Field)
		if seen[k] {
			p.add(t+"/field", CodeDuplicateField, "field key %q is defined twice (keys are case-insensitive)", d.Field)
			continue
		}
		seen[k] = true
		fields = append(fields, d)
	}
	return fields
}

// parseField parses one FieldDef; ok is false when the key or type is unusable.
func parseField(obj map[string]any, t string, inTable, emptyCols bool, p *problems) (d FieldDef, ok bool) {
	ok = true
	switch v := obj["field"].(type) {
	case nil:
		p.add(t+"/field", CodeRequired, "field (the key) is required")
		ok = false
	case string:
		switch {
		case !fieldKeyRE.MatchString(v):
			p.add(t+"/field", CodeInvalidValue, "field key %q must match ^[A-Za-z_][A-Za-z0-9_]{0,63}$", truncate(v))
			ok = false
		case inTable && strings.EqualFold(v, "id"):
			p.add(t+"/field", CodeInvalidValue, "column key \"id\" is reserved for the row id")
			ok = false
		}
		d.Field = v
	default:
		p.add(t+"/field", CodeInvalidType, "field must be a string")
		ok = false
	}
	switch v := obj["type"].(type) {
	case nil:
		p.add(t+"/type", CodeRequired, "type is required")
		ok = false
	case string:
		d.Type = FieldType(strings.ToLower(v))
		if !d.Type.Valid() {
			p.add(t+"/type", CodeInvalidValue, "unknown field type %q", truncate(v))
			ok = false
		}
	default:
		p.add(t+"/type", CodeInvalidType, "type must be a string")
		ok = false
	}
	d.Title = optString(obj, "title", t, p)
	d.Required = optBool(obj, "required", t, p)
	d.Hidden = optBool(obj, "hidden", t, p)
	d.Props = parseProps(obj["props"], d.Type, t+"/props", p)

	cols, hasCols := obj["columns"]
	switch {
	case d.Type == TableForm && inTable:
		p.add(t+"/type", CodeInvalidValue, "child tables cannot be nested")
		ok = false
	case d.Type == TableForm:
		arr, isArr := cols.([]any)
		switch {
		case emptyCols && (!hasCols || cols == nil || isArr && len(arr) == 0):
			d.Columns = []FieldDef{}
		case !hasCols || cols == nil:
			p.add(t+"/columns", CodeRequired, "a tableform field needs columns")
		case !isArr:
			p.add(t+"/columns", CodeInvalidType, "columns must be an array")
		case len(arr) == 0:
			p.add(t+"/columns", CodeRequired, "a tableform field needs at least one column")
		default:
			d.Columns = parseFields(arr, t+"/columns", true, emptyCols, p)
		}
	case hasCols && cols != nil:
		if arr, isArr := cols.([]any); !isArr || len(arr) > 0 {
			p.add(t+"/columns", CodeInvalidValue, "only tableform fields have columns")
		}
	}
	return d, ok
}

// parseProps parses `props`; options are kept only for select-like types.
func parseProps(raw any, typ FieldType, t string, p *problems) Props {
	var pr Props
	if raw == nil {
		return pr
	}
	m, ok := raw.(map[string]any)
	if !ok {
		p.add(t, CodeInvalidType, "props must be an object")
		return pr
	}
	pr.Format = optString(m, "format", t, p)
	opts, present := m["options"]
	if !present || opts == nil || !typ.HasOptions() {
		return pr
	}
	arr, ok := opts.([]any)
	if !ok {
		p.add(t+"/options", CodeInvalidType, "options must be an array")
		return pr
	}
	seen := make(map[string]bool, len(arr))
	for i, o := range arr {
		ot := t + "/options/" + strconv.Itoa(i)
		var opt Option
		switch v := o.(type) {
		case string:
			opt = Option{Value: v, Label: v}
		case map[string]any:
			val, isStr := v["value"].(string)
			if !isStr {
				if v["value"] == nil {
					p.add(ot+"/value", CodeRequired, "an option needs a value")
				} else {
					p.add(ot+"/value", CodeInvalidType, "an option value must be a string")
				}
				continue
			}
			opt.Value = val
			switch l := v["label"].(type) {
			case nil:
				opt.Label = val
			case string:
				opt.Label = l
				if l == "" {
					opt.Label = val
				}
			default:
				p.add(ot+"/label", CodeInvalidType, "an option label must be a string")
				continue
			}
		default:
			p.add(ot, CodeInvalidType, "an option must be a string or an object {value, label}")
			continue
		}
		if opt.Value == "" {
			p.add(ot+"/value", CodeRequired, "an option needs a non-empty value")
			continue
		}
		if seen[opt.Value] {
			p.add(ot+"/value", CodeDuplicateField, "option value %q appears twice", truncate(opt.Value))
			continue
		}
		seen[opt.Value] = true
		pr.Options = append(pr.Options, opt)
	}
	return pr
}

func optString(m map[string]any, key, t string, p *problems) string {
	switch v := m[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		p.add(t+"/"+key, CodeInvalidType, "%s must be a string", key)
		return ""
	}
}

func optBool(m map[string]any, key, t string, p *problems) bool {
	switch v := m[key].(type) {
	case nil:
		return false
	case bool:
		return v
	default:
		p.add(t+"/"+key, CodeInvalidType, "%s must be a boolean", key)
		return false
	}
}

// truncate shortens caller text echoed in messages.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// equalFold compares keys case-insensitively.
func equalFold(a, b string) bool { return strings.EqualFold(a, b) }
