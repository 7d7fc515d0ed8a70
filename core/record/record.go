// Package record is the one place of the rules of records (`formdata`,
// spec eims-native.md §6.3): which form a key or id names, how a record
// document is built from data and merged with a change, which fields the
// server sets, the compare-and-set on updateTime, the flowStatus a record
// is created with and the workflow's transitions of it, drafts, and the
// "create records and start their workflows as their owners in one
// transaction" use case. Every writer of records — the entity service
// (native API and Host API), the workflow engine, the dataflow engine and
// the plugin bridge — writes through a *Service; no other package passes
// the "formdata" collection to the store's Insert, Update or Delete (a test
// of this package checks the module's source).
//
// Permissions and locks are core/access's (owner/admin writes, flowStatus
// locks); this package calls it on every write it makes on a caller's
// behalf.
//
// # Forms
//
// A form is named by its id (exact) or by its API key, compared ASCII
// case-insensitively: keys are unique per tenant ignoring case (the entity
// service refuses a second "Contract" next to "contract"), so the lookup is
// unambiguous, and it is the same for every API shape. An id wins over a
// key that happens to spell the same text.
//
// Forms are served from an in-process copy of each tenant's forms, loaded
// in one store query and dropped when a form is written through the entity
// service or the seeder (FormsChanged). With a shared cache port (Redis)
// each write also increments a per-tenant generation counter there; every
// instance compares its copy's generation at most once per Options.CheckEvery
// (default 1 s), so an edit on one instance is seen by the others within
// that time, for one cache read per tenant per second.
//
// # Documents
//
// A stored record carries id, corpId, formId, appId (always present: ""
// when the form belongs to no app), flowStatus, dataTitle (the form's first
// input field), data (normalised by the form's schema), createBy/updateBy
// Operator references {id, value, label} and createTime/updateTime (epoch
// ms; updateTime strictly increases on every write, so it is the record's
// version: If-Match, the dataflow's compare-and-set and concurrent writers
// all compare it). Workflow-owned fields (flowStatus after creation,
// wfInstanceId) change only through SetFlowStatus.
package record

import (
	"context"
	"log/slog"
	"time"

	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/cache"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/store"
)

// Collections.
const (
	// Coll is the records' collection.
	Coll = "formdata"
	// CollForm is the forms' collection.
	CollForm = "form"
	collUser = "user"
)

// InstanceKey is the record property naming the record's latest workflow
// instance (written by the workflow engine through SetFlowStatus).
const InstanceKey = "wfInstanceId"

// FlowStatusEnum maps the flowStatus names to their codes (access.Flow*,
// spec §6.3), for filters and enum properties. Callers must not modify it.
var FlowStatusEnum = map[string]int64{"none": access.FlowNone, "draft": access.FlowDraft,
	"approving": access.FlowApproving, "approved": access.FlowApproved, "rejected": access.FlowRejected,
	"suspended": access.FlowSuspended, "discarded": access.FlowDiscarded}

// Workflow is what the record core needs of the workflow engine. The
// engine (core/workflow) satisfies it; it imports this package, so the
// dependency is inverted here and wired with SetWorkflow.
type Workflow interface {
	// WaitsAtStart reports whether the record's running instance still
	// waits at its start node (nothing submitted yet).
	WaitsAtStart(ctx context.Context, tenant, recordID string) (bool, error)
	// CancelForRecord cancels the record's running instance, if any, in
	// ctx's transaction (the record is being deleted).
	CancelForRecord(ctx context.Context, tenant, recordID string) error
	// StartRecord starts the form's workflow for the record as p (for
	// initiator, "" = p's user) waiting at the start node and, when
	// submit, completes the start task as the initiator. It returns the
	// instance id.
	StartRecord(ctx context.Context, p *principal.Principal, formID, recordID, initiator string, submit bool) (string, error)
}

// Options configure a Service.
type Options struct {
	// Logger receives operational messages. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock for createTime/updateTime. Default: time.Now.
	Now func() time.Time
	// Cache, when set, shares form invalidations between instances (a
	// per-tenant generation counter). nil: this process only.
	Cache cache.Cache
	// CheckEvery is how often a tenant's cached forms are compared with
	// the shared generation. Default: 1 s. Ignored without Cache.
	CheckEvery time.Duration
}

// Service writes and reads records under the record rules. It is safe for
// concurrent use; one Service should be shared by every writer of a
// process (its form cache is invalidated by their form writes).
type Service struct {
	st    store.Store
	log   *slog.Logger
	now   func() time.Time
	forms *formCache
	wf    Workflow
}

// New returns a Service over st.
func New(st store.Store, o Options) *Service {
	s := &Service{st: st, log: o.Logger, now: o.Now}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	every := o.CheckEvery
	if every <= 0 {
		every = time.Second
	}
	s.forms = newFormCache(st, o.Cache, every, s.log, s.now)
	return s
}

// SetWorkflow wires the workflow engine (call once, before serving). Until
// then records have no workflow: deletes cancel nothing, a record in
// approval is never "at start", and CreateMany refuses StartWorkflow.
func (s *Service) SetWorkflow(w Workflow) { s.wf = w }

// Workflow returns the wired workflow engine (nil when none).
func (s *Service) Workflow() Workflow { return s.wf }

// Store returns the store the service writes to.
func (s *Service) Store() store.Store { return s.st }

// Operator is the {id, value, label} reference of p's user (createBy,
// updateBy).
func Operator(p *principal.Principal) map[string]any {
	return map[string]any{"id": p.UserID, "value": p.UserCode, "label": p.DisplayName}
}

// TimeOf reads an epoch-ms value (int64, float64 or int; 0 otherwise).
func TimeOf(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case int:
		return int64(x)
	}
	return 0
}
