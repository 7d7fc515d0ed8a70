package workflow

import (
	"context"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
)

// What the EIMSNext web client needs of the engine (spec eims-native.md
// §12.8.2, §12.9): submitting a record (FormData action 2), the to-do
// list's formName and dataBrief.

// BriefFields is how many fields of the form a to-do's dataBrief shows.
const BriefFields = 6

// HasDefinition reports whether form (id or key) has a workflow
// definition a start without a definition id would use.
func (e *Engine) HasDefinition(ctx context.Context, tenant, form string) (bool, error) {
	_, err := e.definitionOfForm(ctx, tenant, form)
	if err == nil {
		return true, nil
	}
	if ee := errs.As(err); ee.Code == errs.NotFound && ee.Target == "flowDefinitionId" {
		return false, nil
	}
	return false, err
}

// SubmitRecord submits record recordID of form formID as p, in ctx's
// transaction (the web client's "submit", FormData action 2): a running
// instance that still waits at its start node is submitted (p completes
// the start task); otherwise the form's current workflow is started with
// p as the initiator and submitted at once. started is false, and nothing
// is changed, when the form has no workflow definition (the record stays a
// draft, as the original does).
func (e *Engine) SubmitRecord(ctx context.Context, p *principal.Principal, formID, recordID string) (started bool, err error) {
	if p == nil || p.Tenant == "" {
		return false, errs.Unauthorizedf("no caller")
	}
	err = e.st.Tx(ctx, func(ctx context.Context) error {
		atStart, err := e.WaitsAtStart(ctx, p.Tenant, recordID)
		if err != nil {
			return err
		}
		if atStart {
			_, err := e.Decide(ctx, p, DecideRequest{DataID: recordID, Result: ActAgree})
			started = err == nil
			return err
		}
		has, err := e.HasDefinition(ctx, p.Tenant, formID)
		if err != nil || !has {
			return err
		}
		_, err = e.StartRecord(ctx, p, formID, recordID, "", true)
		started = err == nil
		return err
	})
	return started, err
}

// todoExtras are the to-do properties the web client reads besides the
// task itself: the form's name and the brief of the record (§12.9.1).
func (e *Engine) todoExtras(ctx context.Context, in *Instance) (string, []any, error) {
	form, err := e.formByID(ctx, in.Tenant, in.FormID)
	if err != nil {
		return "", nil, err
	}
	rec, err := e.st.Get(ctx, collRecord, in.Tenant, in.DataID)
	if err != nil {
		return "", nil, wrapNotFound(err, "record %s not found", in.DataID)
	}
	return form.Name, DataBrief(form, rec), nil
}

// DataBrief is a to-do's dataBrief: the first BriefFields fields of the
// form, in order, as {field, title, value} with the record's stored value
// (null when the record has none), as the original computes it.
func DataBrief(f *schema.Form, rec store.Doc) []any {
	data, _ := rec["data"].(map[string]any)
	out := make([]any, 0, BriefFields)
	for _, fd := range f.Fields {
		if len(out) == BriefFields {
			break
		}
		title := fd.Title
		if title == "" {
			title = fd.Field
		}
		out = append(out, map[string]any{"field": fd.Field, "title": title, "value": data[fd.Field]})
	}
	return out
}

// recordForm is the form id of record id (NotFound when there is none).
func (e *Engine) recordForm(ctx context.Context, tenant, id string) (string, error) {
	rec, err := e.st.Get(ctx, collRecord, tenant, id)
	if err != nil {
		return "", wrapNotFound(err, "record %s not found", id)
	}
	f, _ := rec["formId"].(string)
	return f, nil
}
