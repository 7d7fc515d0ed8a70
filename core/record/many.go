package record

import (
	"context"
	"fmt"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
)

// MaxBatch bounds the records of one CreateMany.
const MaxBatch = 1000

// ManyOptions tune CreateMany. The lists Owners and Initiators hold none,
// one (for every record) or one entry per record.
type ManyOptions struct {
	// Owners are the user ids the records are created as (createBy,
	// updateBy; "" or the caller's own user = the caller). Creating a
	// record as another user needs a tenant administrator.
	Owners []string
	// Draft stores the records as drafts (flowStatus 1) also on a form
	// without workflow (ignored with StartWorkflow).
	Draft bool
	// StartWorkflow starts the form's workflow for every record, waiting at
	// the start node (the form must use a workflow).
	StartWorkflow bool
	// Submit completes each start task as its initiator (H3Yun IsSubmit).
	Submit bool
	// Initiators are the workflow initiators' user ids ("" = the owner).
	Initiators []string
	// FormVersion is the form version (schema.Form.Version) the caller
	// built data for; 0 = no check. See CheckFormVersion.
	FormVersion int64
}

// ReasonFormChanged is the Reason of the Conflict of a write that expected
// a form version the form no longer has (the Host API's form_changed).
const ReasonFormChanged = "form_changed"

// CheckFormVersion refuses a write whose data was built for form version
// want (0 = no check) when f is at another version: Conflict with Reason
// ReasonFormChanged and Target "form". A connector that caches forms
// sends the version it converted with; on this error it reloads the form
// and retries, so a stale cache never writes data shaped for an old form.
func CheckFormVersion(f *schema.Form, want int64) error {
	if want == 0 || f == nil || want == f.Version {
		return nil
	}
	return errs.Conflictf("form %s changed (version %d, the write expected %d); reload it", f.Key, f.Version, want).
		WithReason(ReasonFormChanged).WithTarget("form")
}

// Created is one record of CreateMany: the stored record (as the workflow
// start left it) and its workflow instance id ("" without StartWorkflow).
type Created struct {
	Record     store.Doc
	InstanceID string
}

// CreateMany creates every record of data in form f or none: the records
// (as their owners, drafts or not), their workflow instances and the
// submissions are one store transaction. Validation problems of every item
// are reported together, their targets rewritten to "data[i]/<field>".
func (s *Service) CreateMany(ctx context.Context, p *principal.Principal, f *schema.Form, data []map[string]any, o ManyOptions) ([]Created, error) {
	if p == nil || p.Tenant == "" {
		return nil, errs.Unauthorizedf("no authenticated tenant")
	}
	if err := CheckFormVersion(f, o.FormVersion); err != nil {
		return nil, err
	}
	if len(data) > MaxBatch {
		return nil, errs.Invalidf("at most %d records per batch", MaxBatch).WithTarget("data")
	}
	if n := len(o.Initiators); n > 1 && n != len(data) {
		return nil, errs.Invalidf("%d initiators for %d records (want none, one, or one per record)", n, len(data)).WithTarget("initiators")
	}
	if n := len(o.Owners); n > 1 && n != len(data) {
		return nil, errs.Invalidf("%d owners for %d records (want none, one, or one per record)", n, len(data)).WithTarget("owners")
	}
	if o.StartWorkflow {
		if !f.UsingWorkflow {
			return nil, errs.Invalidf("form %s has no workflow", f.Key).WithTarget("form")
		}
		if s.wf == nil {
			return nil, errs.New(errs.Unavailable, "the workflow engine is not available")
		}
	}
	out := make([]Created, len(data))
	err := s.st.Tx(ctx, func(ctx context.Context) error {
		as, err := s.owners(ctx, p, o.Owners, len(data))
		if err != nil {
			return err
		}
		var details []errs.Detail
		for i, d := range data {
			doc, err := s.Create(ctx, p, f, d, CreateOptions{As: as[i], Draft: o.Draft && !o.StartWorkflow})
			if err == nil {
				out[i].Record = doc
				continue
			}
			e := errs.As(err)
			if e.Code != errs.Invalid {
				return err
			}
			// Create fails before it writes: keep validating the rest.
			details = append(details, itemDetails(e, i)...)
		}
		if len(details) > 0 {
			return errs.Invalidf("record data is invalid").WithReason("validation_failed").WithDetails(details...)
		}
		if !o.StartWorkflow {
			return nil
		}
		for i := range out {
			id, _ := out[i].Record["id"].(string)
			initiator := pick(o.Initiators, i)
			if initiator == "" && as[i] != nil {
				initiator = as[i].UserID
			}
			inst, err := s.wf.StartRecord(ctx, p, f.ID, id, initiator, o.Submit)
			if err != nil {
				return err
			}
			out[i].InstanceID = inst
			// The start changed the record (flowStatus, wfInstanceId).
			if out[i].Record, err = s.st.Get(ctx, Coll, p.Tenant, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// owners resolves ManyOptions.Owners to the principals the records are
// created as: p acting as each user (nil where the owner is p's own user).
func (s *Service) owners(ctx context.Context, p *principal.Principal, owners []string, n int) ([]*principal.Principal, error) {
	as := make([]*principal.Principal, n)
	seen := map[string]*principal.Principal{}
	for i := range as {
		id := pick(owners, i)
		if id == "" || id == p.UserID {
			continue
		}
		if acting, ok := seen[id]; ok {
			as[i] = acting
			continue
		}
		if !p.IsAdmin() {
			return nil, errs.Forbiddenf("creating records as another user needs a tenant administrator").WithTarget(fmt.Sprintf("owners[%d]", i))
		}
		u, err := s.st.Get(ctx, collUser, p.Tenant, id)
		if errs.CodeOf(err) == errs.NotFound {
			return nil, errs.Invalidf("user %s not found", id).WithTarget(fmt.Sprintf("owners[%d]", i))
		}
		if err != nil {
			return nil, err
		}
		acting := *p
		acting.UserID = id
		acting.UserCode, _ = u["code"].(string)
		acting.DisplayName, _ = u["empName"].(string)
		acting.Login, _ = u["userName"].(string)
		seen[id], as[i] = &acting, &acting
	}
	return as, nil
}

// pick is item i of a none / one-for-all / one-per-item list ("" for none).
func pick(vals []string, i int) string {
	switch len(vals) {
	case 0:
		return ""
	case 1:
		return vals[0]
	}
	return vals[i]
}

// itemDetails re-targets an item's validation problems at "data[i]/...".
func itemDetails(e *errs.Error, i int) []errs.Detail {
	prefix := fmt.Sprintf("data[%d]", i)
	retarget := func(tg string) string {
		switch {
		case tg == "" || tg == "data":
			return prefix
		case strings.HasPrefix(tg, "data/"):
			return prefix + strings.TrimPrefix(tg, "data")
		}
		return prefix + "/" + tg
	}
	if len(e.Details) == 0 {
		return []errs.Detail{{Code: "invalid", Message: e.Msg, Target: retarget(e.Target)}}
	}
	out := make([]errs.Detail, len(e.Details))
	for j, d := range e.Details {
		d.Target = retarget(d.Target)
		out[j] = d
	}
	return out
}
