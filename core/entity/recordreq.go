package entity

import (
	"context"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
)

// Record actions of the original's FormData request (spec §12.8.2): 0 none
// and 1 save keep a draft, 2 submits.
const (
	actionNone   = 0
	actionSave   = 1
	actionSubmit = 2
)

// recordRequest holds the request properties of a record write body that
// are not record fields (§12.8.2): action, appId and an empty id.
type recordRequest struct {
	action int64
	// appID is the body's appId ("" = not given): it must be the form's.
	appID string
}

// takeRecordRequest removes action, appId and an empty id (matched
// case-insensitively) from a record write body, before the flat-body rule
// of §6.3 would read them as record fields. action is 0–2 as a number or a
// numeric string (default 1); anything else is Invalid, as is a non-string
// appId.
func takeRecordRequest(body map[string]any) (map[string]any, recordRequest, error) {
	rr := recordRequest{action: actionSave}
	var out map[string]any
	take := func(key string) {
		if out == nil {
			out = make(map[string]any, len(body))
			for k, v := range body {
				out[k] = v
			}
		}
		delete(out, key)
	}
	seen := map[string]bool{}
	for key, v := range body {
		lk := strings.ToLower(key)
		if (lk == "action" || lk == "appid") && seen[lk] {
			return nil, rr, validation("the body failed validation",
				detail("duplicate_property", key, "property %q given twice", key))
		}
		seen[lk] = true
		switch lk {
		case "action":
			n, ok := toInt(v)
			if v == nil {
				n, ok = actionSave, true
			}
			if !ok || n < actionNone || n > actionSubmit {
				return nil, rr, validation("the body failed validation",
					detail("invalid_value", key, "action must be 1 (save) or 2 (submit)"))
			}
			rr.action = n
			take(key)
		case "appid":
			if v != nil {
				s, ok := v.(string)
				if !ok {
					return nil, rr, validation("the body failed validation",
						detail("invalid_type", key, "appId must be a string"))
				}
				rr.appID = s
			}
			take(key)
		case "id":
			if s, ok := v.(string); ok && s == "" {
				take(key)
			}
		}
	}
	if out == nil {
		out = body
	}
	return out, rr, nil
}

// checkApp refuses an appId that is not the app of the form (appID is the
// record's or form's app).
func (rr recordRequest) checkApp(appID string) error {
	if rr.appID != "" && rr.appID != appID {
		return validation("the body failed validation",
			detail("invalid_value", "appId", "appId %q is not the app of the form", rr.appID))
	}
	return nil
}

// reasonNoAssignee is the workflow engine's Reason of an approval node
// whose assignees resolve to no active user.
const reasonNoAssignee = "no_assignee"

// submitter is what a submit needs of the workflow engine (core/workflow
// satisfies it).
type submitter interface {
	SubmitRecord(ctx context.Context, p *principal.Principal, formID, recordID string) (bool, error)
}

// submit runs action 2 on the stored record doc of form f in ctx's
// transaction and returns the record as it is afterwards: on a form with
// a workflow its current definition is started (and submitted) with p as
// the initiator; without a definition the record stays a draft. On a form
// without workflow there is nothing to start (the hub has no "submitted"
// dataflow trigger).
func (s *Service) submit(ctx context.Context, p *principal.Principal, f *schema.Form, doc store.Doc) (store.Doc, error) {
	if !f.UsingWorkflow {
		return doc, nil
	}
	sub, ok := s.rec.Workflow().(submitter)
	if !ok {
		return nil, errs.Unavailablef("the workflow engine is not available")
	}
	id, _ := doc["id"].(string)
	started, err := sub.SubmitRecord(ctx, p, f.ID, id)
	if e := errs.As(err); err != nil && e.Code == errs.Invalid && e.Reason == reasonNoAssignee {
		// The definition cannot be started now (its approvers are gone):
		// a conflict with the workflow's state, not a bad request (§12.11).
		c := *e
		c.Code = errs.Conflict
		return nil, &c
	}
	if err != nil || !started {
		return doc, err
	}
	return s.st.Get(ctx, collFormData, p.Tenant, id)
}
