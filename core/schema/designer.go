package schema

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// The form designer's content (spec eims-native.md §12.10). The EIMSNext web
// client's designer saves a form as {layout, options}: layout is a JSON
// string holding the designer's rule tree, options a JSON string holding the
// form options. The hub stores both byte for byte and derives `items` (the
// FieldDefs every other part of the hub uses) from the layout; for a form
// defined with `items` only (the hub API, configuration seeds) it
// synthesises a layout and the client's default options, so the client can
// render and re-design it.

// DefaultOptions is the options string the web client gives a new form
// (labels on top, submit and reset buttons hidden); the hub uses it when it
// synthesises a layout or a designer content comes without options.
const DefaultOptions = `{"info":{"align":"left"},"form":{"inline":false,"hideRequiredAsterisk":false,"labelPosition":"top","size":"default","labelWidth":"auto"},"resetBtn":{"show":false,"innerText":"重置"},"submitBtn":{"show":false,"innerText":"提交"}}`

// Limits of a designer layout.
const (
	// MaxLayoutDepth bounds the nesting of layout rules (rows in columns in
	// cards …) the derivation walks.
	MaxLayoutDepth = 32
	// MaxLayoutFields bounds the fields one layout may define.
	MaxLayoutFields = 1000
)

// designerLayout reports whether a content's "layout" value is the form
// designer's rule list: an array, or a string whose first non-space
// character is '['. Anything else (absent, null, or a layout hint such as
// "grid" that hub-shape contents may carry) is not.
func designerLayout(v any) bool {
	switch x := v.(type) {
	case []any:
		return true
	case string:
		t := strings.TrimSpace(x)
		return t != "" && t[0] == '['
	}
	return false
}

// NormalizeContent turns a form content as sent into the content to store
// (§12.10):
//
//   - the designer shape {layout, options} (layout a string holding a JSON
//     array, or an array; items, if sent, ignored): layout
//     and options kept as the strings sent, items derived from the layout
//     (DeriveItems); a missing options becomes DefaultOptions;
//   - the hub shape {items}: items validated strictly (ParseContent) and
//     stored in canonical form, layout synthesised from them (SynthesizeLayout),
//     options DefaultOptions (a non-designer "layout" hint is replaced).
//
// content may be an object or a JSON string holding one. Errors are
// errs.Invalid with Reason validation_failed: content that is not a JSON
// object, a layout that is not a JSON array of rules, options that are not a
// JSON object, or invalid items (shape b). Problems of single layout rules
// (unknown widget types, duplicate or malformed keys) are not errors: the
// designer saves unfinished work; such rules stay in the layout and are left
// out of items.
func NormalizeContent(content any) (map[string]any, []FieldDef, error) {
	var p problems
	m, ok := contentMap(content, &p)
	if !ok {
		return nil, nil, p.err("form content is invalid")
	}
	if !designerLayout(m["layout"]) {
		fields, err := ParseContent(m)
		if err != nil {
			return nil, nil, err
		}
		return map[string]any{"items": fieldsJSON(fields), "layout": SynthesizeLayout(fields),
			"options": DefaultOptions}, fields, nil
	}
	layout, ok := jsonText(m["layout"], '[')
	if !ok {
		p.add("content/layout", CodeInvalidType, "layout must be a string holding a JSON array of designer rules")
	}
	options := DefaultOptions
	if o, present := m["options"]; present && o != nil {
		if options, ok = jsonText(o, '{'); !ok {
			p.add("content/options", CodeInvalidType, "options must be a string holding a JSON object")
		}
	}
	if err := p.err("form content is invalid"); err != nil {
		return nil, nil, err
	}
	fields, err := DeriveItems(layout)
	if err != nil {
		return nil, nil, err
	}
	return map[string]any{"layout": layout, "options": options, "items": fieldsJSON(fields)}, fields, nil
}

// jsonText returns v as JSON text whose first non-space byte is open ('['
// or '{'): a string holding such JSON is returned as it is (byte for byte);
// an array or object given directly is serialised.
func jsonText(v any, open byte) (string, bool) {
	switch x := v.(type) {
	case string:
		t := bytes.TrimSpace([]byte(x))
		if len(t) == 0 || t[0] != open || !json.Valid(t) {
			return "", false
		}
		return x, true
	case []any:
		if open != '[' {
			return "", false
		}
	case map[string]any:
		if open != '{' {
			return "", false
		}
	default:
		return "", false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// fieldsJSON renders fields as stored content items (plain JSON values).
func fieldsJSON(fields []FieldDef) []any {
	b, _ := json.Marshal(fields)
	var out []any
	_ = json.Unmarshal(b, &out)
	if out == nil {
		out = []any{}
	}
	return out
}

// DeriveItems derives a form's fields from a designer layout (a JSON array
// of rules), as the original's FormLayoutParser does (§12.10 rules 1–5):
// rules are walked in order; a rule whose type is one of the 15 field types
// is a field, any other rule's children are walked (to MaxLayoutDepth). A
// field is {field, type, title (default: the key), required (truthiness of
// $required), hidden, props.options (the rule's top-level options, option
// types only), props.format (timestamps), columns (child tables: the first
// rule of each props.columns[].rule)}.
//
// Rules with a missing, malformed or duplicate key (case-insensitively),
// nested child tables and columns keyed "id" are left out. The only error is
// a layout that is not a JSON array (errs.Invalid, target content/layout).
func DeriveItems(layout string) ([]FieldDef, error) {
	var rules []any
	dec := json.NewDecoder(strings.NewReader(layout))
	dec.UseNumber()
	if err := dec.Decode(&rules); err != nil || rules == nil && strings.TrimSpace(layout) != "[]" {
		var p problems
		p.add("content/layout", CodeInvalidType, "layout must be a string holding a JSON array of designer rules")
		return nil, p.err("form content is invalid")
	}
	d := deriver{seen: map[string]bool{}}
	d.walk(rules, 0)
	if d.fields == nil {
		d.fields = []FieldDef{}
	}
	return d.fields, nil
}

type deriver struct {
	fields []FieldDef
	seen   map[string]bool
}

func (d *deriver) walk(rules []any, depth int) {
	if depth > MaxLayoutDepth {
		return
	}
	for _, r := range rules {
		rule, ok := r.(map[string]any)
		if !ok {
			continue // button texts and other non-rule children
		}
		t, _ := rule["type"].(string)
		typ := FieldType(strings.ToLower(t))
		if !typ.Valid() {
			if kids, ok := rule["children"].([]any); ok {
				d.walk(kids, depth+1)
			}
			continue
		}
		f, ok := ruleField(rule, typ, false)
		if !ok || len(d.fields) >= MaxLayoutFields {
			continue
		}
		k := strings.ToLower(f.Field)
		if d.seen[k] {
			continue
		}
		d.seen[k] = true
		d.fields = append(d.fields, f)
	}
}

// ruleField reads one field rule; ok is false when its key is unusable.
func ruleField(rule map[string]any, typ FieldType, inTable bool) (FieldDef, bool) {
	key, _ := rule["field"].(string)
	if !fieldKeyRE.MatchString(key) || inTable && (strings.EqualFold(key, "id") || typ == TableForm) {
		return FieldDef{}, false
	}
	f := FieldDef{Field: key, Type: typ, Title: key, Required: truthyRequired(rule["$required"]), Hidden: rule["hidden"] == true}
	if t, ok := rule["title"].(string); ok && t != "" {
		f.Title = t
	}
	props, _ := rule["props"].(map[string]any)
	if typ.HasOptions() {
		f.Props.Options = ruleOptions(rule["options"])
	}
	if typ == Timestamp {
		f.Props.Format, _ = props["format"].(string)
	}
	if typ == TableForm {
		f.Columns = []FieldDef{}
		cols, _ := props["columns"].([]any)
		seen := map[string]bool{}
		for _, c := range cols {
			cm, _ := c.(map[string]any)
			rs, _ := cm["rule"].([]any)
			if len(rs) == 0 {
				continue
			}
			cr, _ := rs[0].(map[string]any)
			ct, _ := cr["type"].(string)
			ctyp := FieldType(strings.ToLower(ct))
			if !ctyp.Valid() {
				continue
			}
			col, ok := ruleField(cr, ctyp, true)
			if !ok || seen[strings.ToLower(col.Field)] {
				continue
			}
			if l, ok := cm["label"].(string); ok && l != "" && col.Title == col.Field {
				col.Title = l
			}
			if b, ok := cm["required"].(bool); ok && b {
				col.Required = true
			}
			seen[strings.ToLower(col.Field)] = true
			f.Columns = append(f.Columns, col)
		}
	}
	return f, true
}

// truthyRequired reads a rule's $required: true, or a non-empty message.
func truthyRequired(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x != ""
	}
	return false
}

// ruleOptions reads a rule's option list [{label, value}]; values that are
// numbers or booleans become their text, entries without a usable value and
// repeated values are dropped.
func ruleOptions(v any) []Option {
	arr, _ := v.([]any)
	var out []Option
	seen := map[string]bool{}
	for _, o := range arr {
		om, ok := o.(map[string]any)
		if !ok {
			continue
		}
		var val string
		switch x := om["value"].(type) {
		case string:
			val = x
		case json.Number:
			val = x.String()
		case float64:
			val = strconv.FormatFloat(x, 'f', -1, 64)
		case bool:
			val = strconv.FormatBool(x)
		}
		if val == "" || seen[val] {
			continue
		}
		seen[val] = true
		label, _ := om["label"].(string)
		if label == "" {
			label = val
		}
		out = append(out, Option{Value: val, Label: label})
	}
	return out
}

// SynthesizeLayout renders fields as a designer layout (§12.10) the web
// client can render and its designer can load: one rule per field
// {type, field, title, $required, hidden, props, options} (options only for
// the option types, props.format for timestamps); a child table's props.columns
// is [{label, required, hidden, style: {}, rule: [<column rule>]}] (the
// designer dereferences style, so every column has one). DeriveItems of the
// result gives the fields back.
func SynthesizeLayout(fields []FieldDef) string {
	rules := make([]any, 0, len(fields))
	for i := range fields {
		rules = append(rules, synthRule(&fields[i]))
	}
	b, _ := json.Marshal(rules)
	return string(b)
}

func synthRule(f *FieldDef) map[string]any {
	title := f.Title
	if title == "" {
		title = f.Field
	}
	props := map[string]any{}
	r := map[string]any{"type": string(f.Type), "field": f.Field, "title": title, "$required": f.Required, "props": props}
	if f.Hidden {
		r["hidden"] = true
	}
	if f.Type.HasOptions() {
		opts := make([]any, 0, len(f.Props.Options))
		for _, o := range f.Props.Options {
			opts = append(opts, map[string]any{"label": o.Label, "value": o.Value})
		}
		r["options"] = opts
	}
	if f.Type == Timestamp && f.Props.Format != "" {
		props["format"] = f.Props.Format
	}
	if f.Type == TableForm {
		cols := make([]any, 0, len(f.Columns))
		for i := range f.Columns {
			c := &f.Columns[i]
			label := c.Title
			if label == "" {
				label = c.Field
			}
			cols = append(cols, map[string]any{"label": label, "required": c.Required, "hidden": c.Hidden,
				"style": map[string]any{}, "rule": []any{synthRule(c)}})
		}
		props["columns"] = cols
	}
	return r
}

// IsDesignerContent reports whether a stored form content is in the
// designer's shape (its layout is the designer's rule list).
func IsDesignerContent(content any) bool {
	var p problems
	m, ok := contentMap(content, &p)
	return ok && designerLayout(m["layout"])
}

// storedFields reads the fields of a stored form content. A designer
// content's items were derived from its layout when it was written
// (NormalizeContent): they are read as they are (child tables may have no
// columns) instead of deriving them again, which costs about five times as
// much (BenchmarkFormFromDesignerDoc); without stored items the layout is
// derived. Any other content goes through ParseContent.
func storedFields(content any) ([]FieldDef, error) {
	m, ok := content.(map[string]any)
	if !ok || !designerLayout(m["layout"]) {
		return ParseContent(content)
	}
	items, ok := m["items"].([]any)
	if !ok {
		return ParseContent(content)
	}
	var p problems
	fields := parseFields(items, "content/items", false, true, &p)
	if err := p.err("form content is invalid"); err != nil {
		return nil, err
	}
	return fields, nil
}
