// Package access is the one place of the hub's record and file access rules
// (spec eims-native.md §6.1 "every write is checked against the user's
// permissions", §7.2 rule 10 data scope, §3.2 private files, §6.3
// flowStatus). The entity service, the workflow engine and the files
// service call it, so every API shape — native /api/v1, /odata/v1, $query,
// the Host API bridge used by connectors — obeys the same rules:
//
//   - Read: every user of the tenant (with a read scope) reads every record,
//     narrowed by the data scope hook (Policy.Scope) when one is set — the
//     role data scopes of apicenter §1.6 plug in there.
//   - Update: the record's owner (createBy.id) or a tenant administrator
//     (role "admin"); never while the record is approving (2), approved by a
//     workflow (3 with a wfInstanceId), suspended (5) or discarded (6): only
//     the workflow engine changes such a record (409, reason record_locked) —
//     administrators included. A record of a form without workflow is
//     effective (3) from its creation (spec §12.17 D-12.1) and stays
//     editable: it was approved by no workflow.
//   - Delete: the owner or an administrator. A record in approval (2, 5) may
//     be deleted; its running instance is cancelled in the same transaction.
//     A record approved by a workflow (3) or discarded (6) is deleted by an
//     administrator only (409 for its owner).
//     A record whose running instance still waits at its start node (nothing
//     submitted yet, H3Yun IsSubmit=false) stays editable (CheckRecordAtStart).
//   - Start a workflow: the owner or an administrator (or a holder of
//     workflow.startAs, checked by the engine); the engine's state table
//     refuses a record in approval or approved (409). A rejected (4) record
//     is editable again by its owner and may be resubmitted.
//   - Files: a public file is public by its unguessable id; a private file is
//     readable by its uploader, administrators, and users who can read a
//     record that references it (a fileupload/imageupload value).
//
// A principal without a user (a client acting for itself) owns nothing: it
// creates records but changes only what an administrator may when it holds
// the admin role through its service user.
package access

import (
	"context"
	"fmt"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
)

// Record flowStatus codes (spec §6.3).
const (
	FlowNone      int64 = 0
	FlowDraft     int64 = 1
	FlowApproving int64 = 2
	FlowApproved  int64 = 3
	FlowRejected  int64 = 4
	FlowSuspended int64 = 5
	FlowDiscarded int64 = 6
)

// Detail codes of the refusals: each error carries one errs.Detail with
// this code (error.details in the native envelope; error.code stays the
// spec's forbidden / conflict), so dialects can tell them apart.
const (
	// CodeNotOwner: the caller is neither the record's owner nor a tenant
	// administrator (403).
	CodeNotOwner = "not_record_owner"
	// CodeLocked: the record's flowStatus forbids the change (409).
	CodeLocked = "record_locked"
)

// IsLocked reports whether err is CheckRecord's refusal for the record's
// state (a 409 with the CodeLocked detail).
func IsLocked(err error) bool { return hasDetail(err, errs.Conflict, CodeLocked) }

// IsNotOwner reports whether err is CheckRecord's refusal for the caller (a
// 403 with the CodeNotOwner detail).
func IsNotOwner(err error) bool { return hasDetail(err, errs.Forbidden, CodeNotOwner) }

func hasDetail(err error, code errs.Code, detail string) bool {
	if err == nil || errs.CodeOf(err) != code {
		return false
	}
	for _, d := range errs.As(err).Details {
		if d.Code == detail {
			return true
		}
	}
	return false
}

// Op is a write operation on a record.
type Op int

// The operations CheckRecord decides.
const (
	Update Op = iota + 1
	Delete
	StartWorkflow
)

func (o Op) verb() string {
	switch o {
	case Update:
		return "change"
	case Delete:
		return "delete"
	case StartWorkflow:
		return "start a workflow on"
	}
	return "write"
}

// Owner is the user id a record or file belongs to: its createBy.id.
func Owner(doc map[string]any) string {
	by, _ := doc["createBy"].(map[string]any)
	id, _ := by["id"].(string)
	return id
}

// IsOwner reports whether doc belongs to p's user (never for a principal
// without a user, nor for a document without an owner).
func IsOwner(p *principal.Principal, doc map[string]any) bool {
	return p != nil && p.UserID != "" && Owner(doc) == p.UserID
}

// FlowStatus is a record's flowStatus (FlowNone when absent).
func FlowStatus(doc map[string]any) int64 {
	switch v := doc["flowStatus"].(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	case int:
		return int64(v)
	}
	return FlowNone
}

// ApprovedByWorkflow reports whether doc's approved status (3) comes from a
// workflow: the record names a workflow instance (wfInstanceId). Records of
// forms without workflow are created approved ("effective", spec §12.17
// D-12.1) and name none.
func ApprovedByWorkflow(doc map[string]any) bool {
	id, _ := doc["wfInstanceId"].(string)
	return FlowStatus(doc) == FlowApproved && id != ""
}

var statusNames = map[int64]string{FlowApproving: "in approval", FlowApproved: "approved",
	FlowSuspended: "suspended", FlowDiscarded: "discarded"}

// CheckRecord decides whether p may perform op on the record doc: nil when
// it may, else a Forbidden error (detail CodeNotOwner) when p is neither
// the owner nor an administrator, or a Conflict error (detail CodeLocked)
// when the record's flowStatus forbids op (IsNotOwner, IsLocked). See the package comment for the
// rules.
func CheckRecord(p *principal.Principal, doc map[string]any, op Op) error {
	return check(p, doc, op, false, true)
}

// CheckRecordLock is CheckRecord without the owner rule: the flowStatus
// locks only (a delete of an approved or discarded record still needs an
// administrator). It is for engines that act on records by a definition an
// administrator wrote (a dataflow run): they may change other users'
// records, never a locked one. atStart is CheckRecordAtStart's exception.
func CheckRecordLock(p *principal.Principal, doc map[string]any, op Op, atStart bool) error {
	return check(p, doc, op, atStart, false)
}

// CheckRecordAtStart is CheckRecord for a record whose running workflow
// instance waits at its start node (the initiator's own step, H3Yun
// IsSubmit=false, spec h3yun.md §6): nothing was submitted for approval
// yet, so its owner and administrators may still change it like a draft.
func CheckRecordAtStart(p *principal.Principal, doc map[string]any, op Op) error {
	return check(p, doc, op, true, true)
}

func check(p *principal.Principal, doc map[string]any, op Op, atStart, owner bool) error {
	id, _ := doc["id"].(string)
	admin := p.IsAdmin()
	if owner && !admin && !IsOwner(p, doc) {
		msg := fmt.Sprintf("only the record's creator or a tenant administrator may %s record %s", op.verb(), id)
		return errs.New(errs.Forbidden, msg).WithDetails(errs.Detail{Code: CodeNotOwner, Message: msg})
	}
	st := FlowStatus(doc)
	locked := func(why string) error {
		msg := fmt.Sprintf("record %s is %s: %s", id, statusNames[st], why)
		return errs.New(errs.Conflict, msg).WithTarget("flowStatus").
			WithDetails(errs.Detail{Code: CodeLocked, Message: msg, Target: "flowStatus"})
	}
	if st == FlowApproved && !ApprovedByWorkflow(doc) {
		st = FlowNone // effective without a workflow (D-12.1): not locked
	}
	switch op {
	case Update:
		switch st {
		case FlowApproving:
			if !atStart {
				return locked("only the workflow changes it; withdraw it first")
			}
		case FlowSuspended:
			return locked("only the workflow changes it; withdraw it first")
		case FlowApproved, FlowDiscarded:
			return locked("its data can no longer be changed")
		}
	case Delete:
		if (st == FlowApproved || st == FlowDiscarded) && !admin {
			return locked("only a tenant administrator may delete it")
		}
	}
	return nil
}

// Policy carries the rules that depend on configuration: the data scope
// hook. The zero value (and a nil *Policy) is the default: records are
// readable tenant-wide.
type Policy struct {
	// Scope returns the filter AND-ed to every record read of p (its role
	// data scope: own department, own data, …; apicenter §1.6). nil, or a
	// nil filter, means the whole tenant. Writes additionally need
	// CheckRecord.
	Scope func(ctx context.Context, p *principal.Principal) (query.Expr, error)
}

// RecordScope is the filter AND-ed to p's record reads (nil = none).
// Administrators read every record of their tenant.
func (pol *Policy) RecordScope(ctx context.Context, p *principal.Principal) (query.Expr, error) {
	if pol == nil || pol.Scope == nil || p.IsAdmin() {
		return nil, nil
	}
	return pol.Scope(ctx, p)
}
