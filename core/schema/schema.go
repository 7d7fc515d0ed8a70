// Package schema is the form model: field definitions (spec eims-native.md
// §6.2–6.3), validation and normalisation of record values against a form,
// and the query resolver that gates `data/...` member paths.
package schema

import (
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

// Form is a form schema as the record layer needs it.
type Form struct {
	ID            string
	Tenant        string
	AppID         string
	Key           string
	Name          string
	UsingWorkflow bool
	Fields        []FieldDef
}

// ParseContent validates a form's `content` (an object, or a JSON string
// holding one, with `items` of FieldDefs) and returns its fields. Errors are
// errs.Invalid with Reason "validation_failed" and one detail per problem
// (unknown type, duplicate or malformed key, child table without columns,
// nested child tables).
func ParseContent(content any) ([]FieldDef, error) {
	return nil, errs.New(errs.Internal, "schema.ParseContent: not implemented")
}

// FormFromDoc builds a Form from a stored `form` document.
func FormFromDoc(doc map[string]any) (*Form, error) {
	return nil, errs.New(errs.Internal, "schema.FormFromDoc: not implemented")
}

// Normalize validates record values against the form and returns them in
// stored shape (§6.3): numbers sent as strings become numbers, a bare string
// for a select-like field becomes {value, label} with the label from the
// options, timestamps accept epoch ms or ISO 8601 and become int64 epoch ms,
// child-table rows get an "id". On create (partial=false) required fields are
// enforced; on update (partial=true) only the given keys are checked (null
// clears). Unknown keys and wrong types → errs.Invalid, Reason
// "validation_failed", one Detail per field with Target "data/<key>".
func (f *Form) Normalize(data map[string]any, partial bool) (map[string]any, error) {
	return nil, errs.New(errs.Internal, "schema.Normalize: not implemented")
}

// Resolver returns a query.Resolver for records of this form: paths under
// `data` resolve against the fields (implicit sub-fields, arrays and child
// tables as §7.2 rules 3–4), everything else is delegated to base (the
// record's own properties).
func (f *Form) Resolver(base query.Resolver) query.Resolver {
	return base
}

// IndexPaths lists the storage paths worth indexing for this form's records.
func (f *Form) IndexPaths() []query.Path { return nil }
