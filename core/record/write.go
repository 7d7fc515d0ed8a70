package record

import (
	"context"

	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
)

// CreateOptions tune Create.
type CreateOptions struct {
	// Draft stores the record as a draft (flowStatus 1) also on a form
	// without workflow.
	Draft bool
	// As is the principal the record is created as (createBy/updateBy);
	// nil = the caller.
	As *principal.Principal
}

// Create builds a record of f from data as p (Build) and stores it.
func (s *Service) Create(ctx context.Context, p *principal.Principal, f *schema.Form, data map[string]any, o CreateOptions) (store.Doc, error) {
	if p == nil || p.Tenant == "" {
		return nil, errs.Unauthorizedf("no authenticated tenant")
	}
	by := p
	if o.As != nil {
		if o.As.Tenant != p.Tenant {
			return nil, errs.Newf(errs.Internal, "record: created as a principal of another tenant")
		}
		by = o.As
	}
	doc, err := Build(f, p.Tenant, data, Operator(by), s.now().UnixMilli(), o.Draft)
	if err != nil {
		return nil, err
	}
	if err := s.st.Insert(ctx, Coll, doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// Change is an update of one stored record.
type Change struct {
	// Old is the stored record, read by the caller (in ctx's transaction,
	// when there is one). The write is a compare-and-set on its updateTime.
	Old store.Doc
	// Form is the form the caller addressed (nil = the record's own). A
	// record never moves to another form.
	Form *schema.Form
	// FormID is a formId the caller's body gave ("" = none); it must be the
	// record's.
	FormID string
	// Data is the patch (field → value; null clears).
	Data map[string]any
	// IfMatch, when HasIfMatch, is the updateTime the caller last saw (the
	// If-Match header): a different one → Conflict.
	IfMatch    int64
	HasIfMatch bool
}

// Update applies c as p: the access rules (owner or administrator; the
// flowStatus lock, with the at-start exception), If-Match, Merge, and a
// compare-and-set on the updateTime of c.Old (a concurrent writer → 409).
func (s *Service) Update(ctx context.Context, p *principal.Principal, c Change) (store.Doc, error) {
	old := c.Old
	tenant, _ := old["corpId"].(string)
	id, _ := old["id"].(string)
	formID, _ := old["formId"].(string)
	if err := s.CheckWrite(ctx, p, old, access.Update); err != nil {
		return nil, err
	}
	if c.HasIfMatch && !sameTime(old["updateTime"], c.IfMatch) {
		return nil, errs.Conflictf("record %q was modified (If-Match does not match updateTime)", id)
	}
	if c.FormID != "" && c.FormID != formID {
		return nil, errs.Invalidf("a record cannot move to another form").WithReason("validation_failed").
			WithDetails(errs.Detail{Code: "read_only", Target: "formId", Message: "formId cannot be changed"})
	}
	f := c.Form
	if f == nil || f.ID != formID {
		var err error
		if f, err = s.FormByID(ctx, tenant, formID); err != nil {
			return nil, err
		}
	}
	doc, err := Merge(f, old, c.Data, Operator(p), s.now().UnixMilli())
	if err != nil {
		return nil, err
	}
	if err := s.put(ctx, tenant, doc, old); err != nil {
		return nil, err
	}
	return doc, nil
}

// Delete soft-deletes the stored record old as p: the access rules,
// If-Match (when hasIfMatch), and the record's running workflow instance is
// cancelled in the same transaction.
func (s *Service) Delete(ctx context.Context, p *principal.Principal, old store.Doc, ifMatch int64, hasIfMatch bool) error {
	tenant, _ := old["corpId"].(string)
	id, _ := old["id"].(string)
	return s.st.Tx(ctx, func(ctx context.Context) error {
		if err := s.CheckWrite(ctx, p, old, access.Delete); err != nil {
			return err
		}
		if hasIfMatch && !sameTime(old["updateTime"], ifMatch) {
			return errs.Conflictf("record %q was modified (If-Match does not match updateTime)", id)
		}
		if s.wf != nil {
			if err := s.wf.CancelForRecord(ctx, tenant, id); err != nil {
				return errs.Wrap(errs.CodeOf(err), err, "cancelling the record's workflow instance")
			}
		}
		return s.del(ctx, tenant, old)
	})
}

// CheckWrite applies access.CheckRecord to op on the stored record old: a
// record in approval whose instance still waits at its start node (nothing
// submitted yet) is editable like a draft.
func (s *Service) CheckWrite(ctx context.Context, p *principal.Principal, old store.Doc, op access.Op) error {
	return s.check(ctx, p, old, op, true)
}

func (s *Service) check(ctx context.Context, p *principal.Principal, old store.Doc, op access.Op, owner bool) error {
	checkFn := func(atStart bool) error {
		if owner {
			if atStart {
				return access.CheckRecordAtStart(p, old, op)
			}
			return access.CheckRecord(p, old, op)
		}
		return access.CheckRecordLock(p, old, op, atStart)
	}
	err := checkFn(false)
	if op != access.Update || access.FlowStatus(old) != access.FlowApproving || !access.IsLocked(err) || s.wf == nil {
		return err
	}
	tenant, _ := old["corpId"].(string)
	id, _ := old["id"].(string)
	atStart, werr := s.wf.WaitsAtStart(ctx, tenant, id)
	if werr != nil {
		return werr
	}
	if atStart {
		return checkFn(true)
	}
	return err
}

// SetFlowStatus is the workflow engine's write of a record: flowStatus
// (and the fields in set, e.g. InstanceKey) changed by `by` at now, with
// the compare-and-set on rec's updateTime. rec is the stored record as the
// engine read it in its transaction; the written document is returned.
func (s *Service) SetFlowStatus(ctx context.Context, rec store.Doc, status int64, set map[string]any, by map[string]any, now int64) (store.Doc, error) {
	if _, ok := FlowStatusName(status); !ok {
		return nil, errs.Newf(errs.Internal, "record: unknown flowStatus %d", status)
	}
	tenant, _ := rec["corpId"].(string)
	d := make(store.Doc, len(rec)+len(set)+3)
	for k, v := range rec {
		d[k] = v
	}
	for k, v := range set {
		d[k] = v
	}
	d["flowStatus"] = status
	d["updateBy"] = by
	d["updateTime"] = NextTime(rec, now)
	if err := s.put(ctx, tenant, d, rec); err != nil {
		return nil, err
	}
	return d, nil
}

// FlowStatusName returns the name of a flowStatus code (FlowStatusEnum).
func FlowStatusName(code int64) (string, bool) {
	for n, c := range FlowStatusEnum {
		if c == code {
			return n, true
		}
	}
	return "", false
}

// put replaces the stored record with doc if it still has old's updateTime.
func (s *Service) put(ctx context.Context, tenant string, doc, old store.Doc) error {
	id, _ := doc["id"].(string)
	err := s.st.Update(ctx, Coll, tenant, id, doc, versionCond(old))
	if errs.CodeOf(err) == errs.Conflict {
		return errs.Wrap(errs.Conflict, err, "record "+id+" was changed concurrently; retry")
	}
	return err
}

func (s *Service) del(ctx context.Context, tenant string, old store.Doc) error {
	id, _ := old["id"].(string)
	return s.st.Delete(ctx, Coll, tenant, id)
}

// versionCond is the compare-and-set condition "still at old's version".
func versionCond(old store.Doc) query.Expr {
	return versionAt(old["updateTime"])
}

func versionAt(ut any) query.Expr {
	if ut == nil {
		return query.Null{Path: query.Path{"updateTime"}, IsNull: true}
	}
	return query.Cmp{Path: query.Path{"updateTime"}, Op: query.Eq, Value: TimeOf(ut)}
}

func sameTime(v any, want int64) bool { return v != nil && TimeOf(v) == want }
