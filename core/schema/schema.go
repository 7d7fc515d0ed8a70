// Package schema is the form model: field definitions (spec eims-native.md
// §6.2–6.3), validation and normalisation of record values against a form,
// and the query resolver that gates `data/...` member paths (§7.2 rules 2–5).
//
// A Form holds no mutable state; its methods are safe for concurrent use.
package schema

import (
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
)

// FieldType is a form field type (§6.3).
type FieldType string

// The field types.
const (
	Input       FieldType = "input"
	Textarea    FieldType = "textarea"
	Number      FieldType = "number"
	Timestamp   FieldType = "timestamp"
	Radio       FieldType = "radio"
	Select      FieldType = "select"
	Checkbox    FieldType = "checkbox"
	Select2     FieldType = "select2"
	Employee1   FieldType = "employee1"
	Employee2   FieldType = "employee2"
	Department1 FieldType = "department1"
	Department2 FieldType = "department2"
	ImageUpload FieldType = "imageupload"
	FileUpload  FieldType = "fileupload"
	TableForm   FieldType = "tableform"
)

// Valid reports whether t is one of the 15 field types.
func (t FieldType) Valid() bool {
	switch t {
	case Input, Textarea, Number, Timestamp, Radio, Select, Checkbox, Select2,
		Employee1, Employee2, Department1, Department2, ImageUpload, FileUpload, TableForm:
		return true
	}
	return false
}

// HasOptions reports whether fields of this type choose from Props.Options
// (radio, select, checkbox, select2).
func (t FieldType) HasOptions() bool {
	return t == Radio || t == Select || t == Checkbox || t == Select2
}

// IsArray reports whether values of this type are arrays (§7.2 rule 4).
func (t FieldType) IsArray() bool {
	switch t {
	case Checkbox, Select2, Employee2, Department2, ImageUpload, FileUpload, TableForm:
		return true
	}
	return false
}

// isPerson reports whether t is an employee or department field.
func (t FieldType) isPerson() bool {
	return t == Employee1 || t == Employee2 || t == Department1 || t == Department2
}

// Option is one choice of a select-like field.
type Option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Props are a field's type-specific properties.
type Props struct {
	Options []Option `json:"options,omitempty"`
	Format  string   `json:"format,omitempty"`
}

// FieldDef is one field of a form (`content.items[]`).
type FieldDef struct {
	Field    string     `json:"field"`
	Type     FieldType  `json:"type"`
	Title    string     `json:"title,omitempty"`
	Required bool       `json:"required,omitempty"`
	Props    Props      `json:"props,omitempty"`
	Columns  []FieldDef `json:"columns,omitempty"`
	Hidden   bool       `json:"hidden,omitempty"`
}

// option returns the option whose value is v.
func (d *FieldDef) option(v string) (Option, bool) {
	for _, o := range d.Props.Options {
		if o.Value == v {
			return o, true
		}
	}
	return Option{}, false
}

// Form is a form schema as the record layer needs it.
type Form struct {
	ID            string
	Tenant        string
	AppID         string
	Key           string
	Name          string
	UsingWorkflow bool
	Fields        []FieldDef
	// Version is the stored form's updateTime (set by the record core's
	// form cache; 0 when unknown). It moves forward with every write of
	// the form: writers that built data for a version can expect it.
	Version int64
	// Location is the time zone in which Normalize reads timestamp strings
	// without a zone offset ("2024-01-02", "2024-01-02 15:04:05").
	// Default (nil): DefaultLocation.
	Location *time.Location
}

// DefaultLocation is the zone for timestamp strings without an offset when a
// Form sets no Location: China Standard Time, a fixed UTC+08:00 zone named
// "CST" (the same as query.DefaultLocation, which dateLit filters use).
var DefaultLocation = time.FixedZone("CST", 8*60*60)

// Lookup returns the top-level field whose key equals key case-insensitively.
func (f *Form) Lookup(key string) (*FieldDef, bool) {
	return lookup(f.Fields, key)
}

// lookup finds a field by key, case-insensitively (§7 "property names are
// matched case-insensitively").
func lookup(fields []FieldDef, key string) (*FieldDef, bool) {
	for i := range fields {
		if equalFold(fields[i].Field, key) {
			return &fields[i], true
		}
	}
	return nil, false
}

// Title returns the record's dataTitle: the value of the form's first input
// field in data, or "" when that field is absent or not a string (or the form
// has no input field).
func (f *Form) Title(data map[string]any) string {
	for i := range f.Fields {
		if f.Fields[i].Type == Input {
			s, _ := data[f.Fields[i].Field].(string)
			return s
		}
	}
	return ""
}

// MaxIndexedFields caps how many form fields IndexPaths proposes.
const MaxIndexedFields = 16

// IndexPaths lists the storage paths worth indexing for this form's records:
// {"formId"}, then one path per scalar top-level field (input, textarea,
// number, timestamp; the value of radio/select; the id of
// employee1/department1), at most MaxIndexedFields of them, in form order.
func (f *Form) IndexPaths() []query.Path {
	out := []query.Path{{"formId"}}
	n := 0
	for i := range f.Fields {
		if n == MaxIndexedFields {
			break
		}
		d := &f.Fields[i]
		var p query.Path
		switch d.Type {
		case Input, Textarea, Number, Timestamp:
			p = query.Path{"data", d.Field}
		case Radio, Select:
			p = query.Path{"data", d.Field, "value"}
		case Employee1, Department1:
			p = query.Path{"data", d.Field, "id"}
		default:
			continue
		}
		out = append(out, p)
		n++
	}
	return out
}

// FormFromDoc builds a Form from a stored `form` document (fields id, corpId,
// appId, key, name, usingWorkflow, content; see notes/DATA.md). A missing or
// null content gives a form without fields; an invalid content gives the
// ParseContent error.
func FormFromDoc(doc map[string]any) (*Form, error) {
	if doc == nil {
		return nil, errs.New(errs.Internal, "schema: nil form document")
	}
	str := func(k string) string { s, _ := doc[k].(string); return s }
	f := &Form{
		ID:            str("id"),
		Tenant:        str("corpId"),
		AppID:         str("appId"),
		Key:           str("key"),
		Name:          str("name"),
		UsingWorkflow: truthy(doc["usingWorkflow"]),
	}
	if c, ok := doc["content"]; ok && c != nil {
		if s, isStr := c.(string); isStr && s == "" {
			return f, nil
		}
		fields, err := storedFields(c)
		if err != nil {
			e := errs.As(err)
			e.Msg = "form " + f.ID + " has an invalid content: " + e.Msg
			return nil, e
		}
		f.Fields = fields
	}
	return f, nil
}

// truthy reads a stored boolean that older documents may hold as a number.
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int64:
		return x != 0
	case int:
		return x != 0
	case float64:
		return x != 0
	}
	return false
}
