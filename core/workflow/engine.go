package workflow

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
)

// Permissions checked by the engine (§4.1, §4.2, §10 item 14).
const (
	PermStartAs = "workflow.startAs"
	PermActAs   = "workflow.actAs"
)

// MaxAssignees caps the tasks one node activation creates.
const MaxAssignees = 200

// Options configure an Engine.
type Options struct {
	// Logger receives operational messages. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Can reports whether p holds a permission (PermStartAs, PermActAs).
	// Default: administrators hold every permission, nobody else any.
	Can func(p *principal.Principal, perm string) bool
	// Records is the record core the engine reads forms from and writes
	// records through (share the process's one). Default: a new one over
	// st, wired to this engine.
	Records *record.Service
}

// Engine runs workflow instances over a store. It satisfies
// record.Workflow.
type Engine struct {
	st  store.Store
	log *slog.Logger
	now func() time.Time
	can func(p *principal.Principal, perm string) bool
	rec *record.Service
}

var _ record.Workflow = (*Engine)(nil)

// New returns an Engine over st.
func New(st store.Store, opts Options) *Engine {
	e := &Engine{st: st, log: opts.Logger, now: opts.Now, can: opts.Can, rec: opts.Records}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.rec == nil {
		e.rec = record.New(st, record.Options{Logger: e.log, Now: e.now})
		e.rec.SetWorkflow(e)
	}
	if e.can == nil {
		e.can = func(p *principal.Principal, _ string) bool { return p.IsAdmin() }
	}
	return e
}

// TaskRef is a task as the actions report it (§4.1 `tasks`).
type TaskRef struct {
	TaskID     string `json:"taskId"`
	NodeID     string `json:"nodeId"`
	NodeName   string `json:"nodeName"`
	AssigneeID string `json:"assigneeId"`
	// Host marks the step's host (flow.go); Step is the task's step.
	Host bool  `json:"host,omitempty"`
	Step int64 `json:"step,omitempty"`
}

// StartRequest is §4.1's body.
type StartRequest struct {
	// DefinitionID is the definition id or key.
	DefinitionID string
	// Form (a form id or key), when DefinitionID is empty, selects the
	// form's current definition (spec §12.11): the version marked current
	// (isCurrent, set by activation), else the highest version (the most
	// recently changed among equals).
	Form string
	// Version selects a version of a keyed definition (0 = current).
	Version int64
	// BusinessKey is the record id.
	BusinessKey string
	Variables   map[string]any
	// Initiator is the initiating user id ("" = the caller).
	Initiator string
	// AtStart leaves the new instance waiting at the start node: one task,
	// the initiator's, whose agree ("submit") activates the first approval
	// node and whose reject ends the instance. H3Yun's IsSubmit=false on a
	// workflow form (h3yun spec §6). Default: straight to the first node.
	// The initiator is the host of that start step.
	AtStart bool
	// Title (default: the definition's name), Serial and Urgency (0
	// normal, 1 important, 2 urgent) describe the instance in task lists.
	Title, Serial string
	Urgency       int64
}

// RecordInstanceKey is the record property naming the record's latest
// workflow instance.
const RecordInstanceKey = record.InstanceKey

// StartNodeID and StartNodeName name the start node of an instance started
// AtStart when its definition has no node of type "start" (whose id and
// name are used otherwise).
const (
	StartNodeID   = "_start"
	StartNodeName = "发起"
)

// StartResult is §4.1's response.
type StartResult struct {
	ID          string    `json:"id"`
	InstanceID  string    `json:"processInstanceId"`
	BusinessKey string    `json:"businessKey"`
	Status      Status    `json:"status"`
	Tasks       []TaskRef `json:"tasks"`
}

// DecideRequest is §4.2's body (agree or reject).
type DecideRequest struct {
	InstanceID string
	// TaskID is the pending task; when empty the approver's pending task on
	// the instance (of DataID, optionally at NodeID) is used.
	TaskID string
	DataID string
	NodeID string
	// Result is ActAgree or ActReject.
	Result    Action
	Comment   string
	Signature string
	// Approver is the acting user id ("" = the caller).
	Approver  string
	Variables map[string]any
}

// DecideResult is §4.2's response.
type DecideResult struct {
	ID             string    `json:"id"`
	TaskID         string    `json:"taskId"`
	Result         string    `json:"result"`
	InstanceStatus Status    `json:"instanceStatus"`
	Tasks          []TaskRef `json:"tasks"`
}

// TransferRequest hands the actor's task to other users (§4.3).
type TransferRequest struct {
	InstanceID, DataID, NodeID, TaskID string
	// Targets are the users (ids or login names) who get the task.
	Targets []string
	Comment string
	// Actor is the acting user id ("" = the caller).
	Actor string
}

// WithdrawRequest is the initiator's withdrawal (§4.3).
type WithdrawRequest struct {
	InstanceID, DataID, Comment string
}

// ActionResult answers transfer and withdraw ({"id": <instance id>} plus extras).
type ActionResult struct {
	ID             string    `json:"id"`
	InstanceStatus Status    `json:"instanceStatus"`
	Tasks          []TaskRef `json:"tasks"`
}

// Start starts the definition's workflow for a record (§4.1). Called inside
// a caller's store.Tx it joins that transaction (e.g. H3Yun's "create and
// submit": insert the record and Start in one Tx).
func (e *Engine) Start(ctx context.Context, p *principal.Principal, req StartRequest) (*StartResult, error) {
	if p == nil || p.Tenant == "" {
		return nil, errs.Unauthorizedf("no caller")
	}
	if req.BusinessKey == "" {
		return nil, errs.Invalidf("businessKey is required").WithTarget("businessKey")
	}
	if req.DefinitionID == "" && req.Form == "" {
		// The record alone (the web client's {dataId}, §12.9.2): its
		// form's current definition.
		f, err := e.recordForm(ctx, p.Tenant, req.BusinessKey)
		if err != nil {
			return nil, err
		}
		req.Form = f
	}
	initiator := req.Initiator
	if initiator == "" {
		initiator = p.UserID
	}
	if initiator == "" {
		return nil, errs.Invalidf("initiator is required").WithTarget("initiator")
	}
	if initiator != p.UserID && !e.can(p, PermStartAs) {
		return nil, errs.Forbiddenf("starting a workflow for another user needs the %s permission", PermStartAs)
	}
	if err := checkDescription(req.Title, req.Serial, req.Urgency); err != nil {
		return nil, err
	}
	var res *StartResult
	err := e.st.Tx(ctx, func(ctx context.Context) error {
		tenant := p.Tenant
		ref := req.DefinitionID
		if ref == "" {
			var err error
			if ref, err = e.definitionOfForm(ctx, tenant, req.Form); err != nil {
				return err
			}
		}
		defDoc, def, err := e.definition(ctx, tenant, ref, req.Version)
		if err != nil {
			return err
		}
		form, err := e.form(ctx, tenant, str(defDoc, "sourceId"))
		if err != nil {
			return err
		}
		rec, err := e.st.Get(ctx, collRecord, tenant, req.BusinessKey)
		if err != nil {
			return wrapNotFound(err, "record %s not found", req.BusinessKey)
		}
		if str(rec, "formId") != form.ID {
			return errs.Invalidf("record %s does not belong to the definition's form", req.BusinessKey).WithTarget("businessKey")
		}
		// Only the record's owner or an administrator starts its workflow
		// (a holder of workflow.startAs too); never on a locked record.
		if err := access.CheckRecord(p, rec, access.StartWorkflow); err != nil &&
			!(access.IsNotOwner(err) && e.can(p, PermStartAs)) {
			return err
		}
		prev, err := e.latestInstance(ctx, tenant, req.BusinessKey)
		if err != nil {
			return err
		}
		prevStatus := StatusNone
		if prev != nil {
			prevStatus = prev.Status
		}
		next, err := Transition(prevStatus, ActStart)
		if err != nil {
			return err
		}
		starter, err := e.operator(ctx, p, initiator)
		if err != nil {
			return err
		}
		now := e.now().UnixMilli()
		in := &Instance{
			ID: store.NewID(), Tenant: tenant, DefinitionID: str(defDoc, "id"), DefinitionKey: str(defDoc, "key"),
			DefinitionName: str(defDoc, "name"), Version: i64(defDoc, "version"), AppID: str(rec, "appId"),
			FormID: form.ID, FormName: form.Name, DataID: req.BusinessKey, Status: next, Initiator: starter,
			Variables: cloneMap(req.Variables), Def: def, NodeIndex: -1, CreateTime: now, UpdateTime: now,
			Title: firstNonEmpty(req.Title, str(defDoc, "name")), Serial: req.Serial, Urgency: req.Urgency,
		}
		var created []Task
		if req.AtStart {
			in.Round++
			t, err := e.issueWith(ctx, in, in.startNode(), starter, now, Task{Host: true})
			if err != nil {
				return err
			}
			created = []Task{t}
		} else if created, err = e.advance(ctx, in, form, 0); err != nil {
			return err
		}
		if err := e.st.Insert(ctx, CollInstance, in.doc()); err != nil {
			return err
		}
		// The record names its latest instance (wfInstanceId, as on wftodo):
		// dialects that show a record's workflow (H3Yun WorkflowInstanceId)
		// read it without a second lookup.
		if _, err := e.rec.SetFlowStatus(ctx, rec, FlowStatus(in.Status),
			map[string]any{RecordInstanceKey: in.ID}, starter.doc(), now); err != nil {
			return err
		}
		res = &StartResult{ID: in.ID, InstanceID: in.ID, BusinessKey: in.DataID, Status: in.Status, Tasks: refs(created)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Decide agrees or rejects a pending task (§4.2; submit/reject of §4.3).
func (e *Engine) Decide(ctx context.Context, p *principal.Principal, req DecideRequest) (*DecideResult, error) {
	if req.Result != ActAgree && req.Result != ActReject {
		return nil, errs.Invalidf("approvalResult must be agree or reject").WithTarget("approvalResult")
	}
	approver, err := e.actor(p, req.Approver)
	if err != nil {
		return nil, err
	}
	var res *DecideResult
	err = e.step(ctx, p, req.InstanceID, req.DataID, req.Result, func(ctx context.Context, s *stepCtx) error {
		ti, err := s.findTask(req.TaskID, req.NodeID, approver)
		if err != nil {
			return err
		}
		in := s.in
		task := in.Tasks[ti]
		node, _ := in.CurrentNode()
		actor, err := e.operator(ctx, p, approver)
		if err != nil {
			return err
		}
		if in.stepHasHost() && !task.Host {
			// A participant of a step with a host agrees for themselves;
			// the host decides for the step.
			if req.Result == ActReject {
				return errs.Forbiddenf("only the host of the step may reject workflow instance %s", in.ID).WithReason(ReasonNotHost)
			}
			if err := s.closeTask(ctx, ti, TaskApproved); err != nil {
				return err
			}
			if err := e.appendLog(ctx, in, node, actor, ResultApprove, req.Comment, req.Signature, s.now); err != nil {
				return err
			}
			if err := s.commit(ctx, actor); err != nil {
				return err
			}
			res = &DecideResult{ID: in.ID, TaskID: task.ID, Result: string(req.Result), InstanceStatus: in.Status, Tasks: []TaskRef{}}
			return nil
		}
		// Close the node: the decided task and every other pending task of it.
		result, status := ResultApprove, TaskApproved
		if req.Result == ActReject {
			result, status = ResultReject, TaskRejected
		}
		if err := s.closeTask(ctx, ti, status); err != nil {
			return err
		}
		// Mode all (designer.go): an agreement waits for the node's other assignees.
		waitOthers := req.Result == ActAgree && waitsForOthers(in, node)
		if !waitOthers {
			if err := s.closePending(ctx, TaskClosed); err != nil {
				return err
			}
		}
		if err := e.appendLog(ctx, in, node, actor, result, req.Comment, req.Signature, s.now); err != nil {
			return err
		}
		in.setVariables(req.Variables)
		var created []Task
		if req.Result == ActReject {
			in.Status = StatusRejected
		} else if !waitOthers {
			form, err := e.formByID(ctx, in.Tenant, in.FormID)
			if err != nil {
				return err
			}
			if created, err = e.advance(ctx, in, form, in.NodeIndex+1); err != nil {
				return err
			}
			in.markFrom(created, actor.ID, node.ID)
		}
		if err := s.commit(ctx, actor); err != nil {
			return err
		}
		res = &DecideResult{ID: in.ID, TaskID: task.ID, Result: string(req.Result), InstanceStatus: in.Status, Tasks: refs(created)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Transfer closes the actor's pending task as transferred and gives the
// node to the targets (any one of them completes it) (§4.3, Dabei §6.5).
func (e *Engine) Transfer(ctx context.Context, p *principal.Principal, req TransferRequest) (*ActionResult, error) {
	if len(req.Targets) == 0 {
		return nil, errs.Invalidf("targetEmployeeId is required").WithTarget("targetEmployeeId")
	}
	if len(req.Targets) > MaxAssignees {
		return nil, errs.Invalidf("at most %d transfer targets", MaxAssignees).WithTarget("targetEmployeeId")
	}
	actorID, err := e.actor(p, req.Actor)
	if err != nil {
		return nil, err
	}
	var res *ActionResult
	err = e.step(ctx, p, req.InstanceID, req.DataID, ActTransfer, func(ctx context.Context, s *stepCtx) error {
		ti, err := s.findTask(req.TaskID, req.NodeID, actorID)
		if err != nil {
			return err
		}
		in := s.in
		node, _ := in.CurrentNode()
		var targets []Operator
		for _, ref := range req.Targets {
			u, err := e.findUser(ctx, in.Tenant, ref)
			if err != nil {
				if errs.CodeOf(err) == errs.NotFound {
					return errs.Invalidf("transfer target %q is not a user of this tenant", ref).WithTarget("targetEmployeeId")
				}
				return err
			}
			op := userOperator(u)
			if op.ID == actorID {
				return errs.Invalidf("a task cannot be transferred to its own assignee").WithTarget("targetEmployeeId")
			}
			if !slices.ContainsFunc(targets, func(o Operator) bool { return o.ID == op.ID }) {
				targets = append(targets, op)
			}
		}
		actor, err := e.operator(ctx, p, actorID)
		if err != nil {
			return err
		}
		if err := s.closeTask(ctx, ti, TaskTransferred); err != nil {
			return err
		}
		var created []Task
		for _, t := range targets {
			if slices.ContainsFunc(in.Pending(), func(x Task) bool { return x.AssigneeID == t.ID }) {
				continue // already holds a task of this node
			}
			task, err := e.issueWith(ctx, in, node, t, s.now, Task{Host: in.Tasks[ti].Host, From: actorID,
				FromNode: node.ID, Deadline: in.Tasks[ti].Deadline})
			if err != nil {
				return err
			}
			created = append(created, task)
		}
		comment := req.Comment
		if comment == "" {
			names := make([]string, len(targets))
			for i, t := range targets {
				names[i] = t.ID
			}
			comment = "transferred to " + strings.Join(names, ", ")
		}
		if err := e.appendLog(ctx, in, node, actor, ResultTransfer, comment, "", s.now); err != nil {
			return err
		}
		if err := s.commit(ctx, actor); err != nil {
			return err
		}
		res = &ActionResult{ID: in.ID, InstanceStatus: in.Status, Tasks: refs(in.Pending())}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Withdraw lets the initiator cancel a running instance; every pending task
// closes and the record returns to draft (§4.3, Dabei revoke).
func (e *Engine) Withdraw(ctx context.Context, p *principal.Principal, req WithdrawRequest) (*ActionResult, error) {
	if p == nil || p.Tenant == "" {
		return nil, errs.Unauthorizedf("no caller")
	}
	var res *ActionResult
	err := e.step(ctx, p, req.InstanceID, req.DataID, ActWithdraw, func(ctx context.Context, s *stepCtx) error {
		in := s.in
		if p.UserID == "" || p.UserID != in.Initiator.ID {
			return errs.Forbiddenf("only the initiator can withdraw a workflow instance")
		}
		if in.Def != nil && in.Def.NoWithdraw {
			return errs.Forbiddenf("the workflow definition does not allow withdrawing")
		}
		node, _ := in.CurrentNode()
		if err := s.closePending(ctx, TaskWithdrawn); err != nil {
			return err
		}
		actor, err := e.operator(ctx, p, p.UserID)
		if err != nil {
			return err
		}
		if err := e.appendLog(ctx, in, node, actor, ResultWithdraw, req.Comment, "", s.now); err != nil {
			return err
		}
		in.Status = StatusCancelled
		if err := s.commit(ctx, actor); err != nil {
			return err
		}
		res = &ActionResult{ID: in.ID, InstanceStatus: in.Status, Tasks: []TaskRef{}}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// CancelForRecord cancels the record's running instance, if any, closing its
// tasks (a record deleted while approving, §6.1 DELETE). The record itself is
// not touched. It joins the caller's transaction.
func (e *Engine) CancelForRecord(ctx context.Context, tenant, recordID string) error {
	return e.st.Tx(ctx, func(ctx context.Context) error {
		in, err := e.latestInstance(ctx, tenant, recordID)
		if err != nil || in == nil || in.Status != StatusRunning {
			return err
		}
		s := &stepCtx{e: e, in: in, rev: in.Rev, now: e.now().UnixMilli()}
		if err := s.closePending(ctx, TaskWithdrawn); err != nil {
			return err
		}
		in.Status = StatusCancelled
		return s.saveInstance(ctx, in.Initiator)
	})
}

// WaitsAtStart reports whether the record's latest instance is running and
// still waits at its start node (started AtStart, not yet submitted).
func (e *Engine) WaitsAtStart(ctx context.Context, tenant, recordID string) (bool, error) {
	in, err := e.latestInstance(ctx, tenant, recordID)
	if err != nil || in == nil {
		return false, err
	}
	return in.Status == StatusRunning && in.NodeIndex < 0 && len(in.Pending()) > 0, nil
}

// PendingQuery selects pending tasks.
type PendingQuery struct {
	// UserID is the assignee ("" = the caller; another user needs PermActAs).
	UserID string
	// DataID and InstanceID optionally narrow to one record / instance.
	DataID, InstanceID string
}

// PendingTask is a pending task with its context (dialect to-do lists).
type PendingTask struct {
	TaskRef
	InstanceID     string `json:"wfInstanceId"`
	DataID         string `json:"dataId"`
	FormID         string `json:"formId"`
	AppID          string `json:"appId"`
	DefinitionName string `json:"definitionName"`
	CreateTime     int64  `json:"createTime"`
}

// Pending lists pending tasks (oldest first, at most query.MaxTop).
func (e *Engine) Pending(ctx context.Context, p *principal.Principal, q PendingQuery) ([]PendingTask, error) {
	if p == nil || p.Tenant == "" {
		return nil, errs.Unauthorizedf("no caller")
	}
	user := q.UserID
	if user == "" {
		user = p.UserID
	}
	if user != p.UserID && !e.can(p, PermActAs) {
		return nil, errs.Forbiddenf("listing another user's tasks needs the %s permission", PermActAs)
	}
	f := []query.Expr{eq("employeeId", user)}
	if q.DataID != "" {
		f = append(f, eq("dataId", q.DataID))
	}
	if q.InstanceID != "" {
		f = append(f, eq("wfInstanceId", q.InstanceID))
	}
	docs, err := e.st.Find(ctx, CollTodo, p.Tenant, query.Query{Filter: query.AndOf(f...),
		Sort: []query.Sort{{Path: query.Path{"createTime"}}}, Limit: query.MaxTop})
	if err != nil {
		return nil, err
	}
	out := make([]PendingTask, 0, len(docs))
	for _, d := range docs {
		out = append(out, PendingTask{
			TaskRef: TaskRef{TaskID: str(d, "id"), NodeID: str(d, "approveNodeId"), NodeName: str(d, "approveNodeName"),
				AssigneeID: str(d, "employeeId")},
			InstanceID: str(d, "wfInstanceId"), DataID: str(d, "dataId"), FormID: str(d, "formId"),
			AppID: str(d, "appId"), DefinitionName: str(d, "definitionName"), CreateTime: i64(d, "createTime")})
	}
	return out, nil
}

// Instance returns an instance by id.
func (e *Engine) Instance(ctx context.Context, tenant, id string) (*Instance, error) {
	d, err := e.st.Get(ctx, CollInstance, tenant, id)
	if err != nil {
		return nil, wrapNotFound(err, "workflow instance %s not found", id)
	}
	return instanceFromDoc(d)
}

// InstanceOf returns the record's latest instance (nil when it never had one).
func (e *Engine) InstanceOf(ctx context.Context, tenant, recordID string) (*Instance, error) {
	return e.latestInstance(ctx, tenant, recordID)
}

// actor resolves the acting user of a decision.
func (e *Engine) actor(p *principal.Principal, given string) (string, error) {
	if p == nil || p.Tenant == "" {
		return "", errs.Unauthorizedf("no caller")
	}
	if given == "" {
		given = p.UserID
	}
	if given == "" {
		return "", errs.Invalidf("approver is required").WithTarget("approver")
	}
	if given != p.UserID && !e.can(p, PermActAs) {
		return "", errs.Forbiddenf("acting for another user needs the %s permission", PermActAs)
	}
	return given, nil
}

// stepCtx is one step on a loaded instance inside the transaction.
type stepCtx struct {
	e   *Engine
	in  *Instance
	rev int64 // the revision read
	now int64
}

// step loads the instance (by id, or the record's latest), checks the
// action against the transition table and runs fn, all in one transaction.
func (e *Engine) step(ctx context.Context, p *principal.Principal, instanceID, dataID string, a Action,
	fn func(ctx context.Context, s *stepCtx) error) error {
	return e.guarded(ctx, p, instanceID, dataID, a, StepGuard{}, fn)
}

// findTask locates the pending task the user acts on.
func (s *stepCtx) findTask(taskID, nodeID, user string) (int, error) {
	in := s.in
	if taskID != "" {
		i, ok := in.task(taskID)
		if !ok {
			return -1, errs.NotFoundf("task %s not found in workflow instance %s", taskID, in.ID)
		}
		t := in.Tasks[i]
		if t.Status != TaskPending {
			return -1, errs.Conflictf("task %s is not pending (%s)", taskID, t.Status)
		}
		if t.AssigneeID != user {
			return -1, errs.Forbiddenf("user %s is not the assignee of task %s", user, taskID)
		}
		return i, nil
	}
	anyPending := false
	for i, t := range in.Tasks {
		if t.Status != TaskPending || (nodeID != "" && t.NodeID != nodeID) {
			continue
		}
		anyPending = true
		if t.AssigneeID == user {
			return i, nil
		}
	}
	if anyPending {
		return -1, errs.Forbiddenf("user %s has no pending task on workflow instance %s", user, in.ID)
	}
	if nodeID != "" {
		return -1, errs.Conflictf("node %s has no pending task", nodeID)
	}
	return -1, errs.Conflictf("workflow instance %s has no pending task", in.ID)
}

// closeTask marks task i decided and removes its wftodo document.
func (s *stepCtx) closeTask(ctx context.Context, i int, status string) error {
	t := &s.in.Tasks[i]
	t.Status = status
	t.DecideTime = s.now
	if err := s.e.st.Delete(ctx, CollTodo, s.in.Tenant, t.ID); err != nil {
		return errs.Wrap(errs.CodeOf(err), err, "workflow: close task "+t.ID)
	}
	return nil
}

// closePending closes every pending task of the instance with status.
func (s *stepCtx) closePending(ctx context.Context, status string) error {
	for i := range s.in.Tasks {
		if s.in.Tasks[i].Status == TaskPending {
			if err := s.closeTask(ctx, i, status); err != nil {
				return err
			}
		}
	}
	return nil
}

// setVariables sets vars on the instance's variables.
func (in *Instance) setVariables(vars map[string]any) {
	for k, v := range vars {
		if in.Variables == nil {
			in.Variables = map[string]any{}
		}
		in.Variables[k] = v
	}
}

// commit writes the instance (compare-and-set on its revision) and the
// record's flowStatus.
func (s *stepCtx) commit(ctx context.Context, actor Operator) error {
	if err := s.saveInstance(ctx, actor); err != nil {
		return err
	}
	rec, err := s.e.st.Get(ctx, collRecord, s.in.Tenant, s.in.DataID)
	if err != nil {
		return wrapNotFound(err, "record %s not found", s.in.DataID)
	}
	_, err = s.e.rec.SetFlowStatus(ctx, rec, FlowStatus(s.in.Status), nil, actor.doc(), s.now)
	return err
}

func (s *stepCtx) saveInstance(ctx context.Context, actor Operator) error {
	in := s.in
	in.Rev = s.rev + 1
	in.UpdateTime = s.now
	d := in.doc()
	d["updateBy"] = actor.doc()
	err := s.e.st.Update(ctx, CollInstance, in.Tenant, in.ID, d,
		query.Cmp{Path: query.Path{"rev"}, Op: query.Eq, Value: float64(s.rev)})
	if errs.CodeOf(err) == errs.Conflict {
		return errs.Wrap(errs.Conflict, err, "the workflow instance was changed concurrently; retry")
	}
	return err
}

// advance activates the first approval node at or after index from whose
// condition holds; past the last node the instance finishes (approved).
// It returns the tasks it created.
func (e *Engine) advance(ctx context.Context, in *Instance, form *schema.Form, from int) ([]Task, error) {
	now := e.now().UnixMilli()
	for i := from; i < len(in.Def.Nodes); i++ {
		n := in.Def.Nodes[i]
		if n.Type == NodeCC {
			if err := e.copyTo(ctx, in, form, n, now); err != nil {
				return nil, err
			}
			continue
		}
		if n.Type != NodeApprove {
			continue
		}
		if n.When != "" || len(n.Guards) > 0 {
			ok, err := e.holds(ctx, in.Tenant, form, in.DataID, n)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		users, err := e.assignees(ctx, in, n)
		if err != nil {
			return nil, err
		}
		in.NodeIndex = i
		in.Round++
		out := make([]Task, 0, len(users))
		for _, u := range users {
			t, err := e.issue(ctx, in, n, u, now)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		return out, nil
	}
	next, err := Transition(in.Status, ActFinish)
	if err != nil {
		return nil, err
	}
	in.Status = next
	in.NodeIndex = len(in.Def.Nodes)
	return nil, nil
}

// issue creates a pending task for user at node n.
func (e *Engine) issue(ctx context.Context, in *Instance, n Node, user Operator, now int64) (Task, error) {
	return e.issueWith(ctx, in, n, user, now, Task{})
}

// issueWith creates a pending task for user at node n with tmpl's host,
// origin, back and deadline marks.
func (e *Engine) issueWith(ctx context.Context, in *Instance, n Node, user Operator, now int64, tmpl Task) (Task, error) {
	t := tmpl
	t.ID, t.NodeID, t.NodeName, t.AssigneeID, t.Status = store.NewID(), n.ID, nodeName(n), user.ID, TaskPending
	t.Round, t.CreateTime, t.DecideTime = in.Round, now, 0
	formName, brief, err := e.todoExtras(ctx, in)
	if err != nil {
		return Task{}, err
	}
	doc := store.Doc{"id": t.ID, "corpId": in.Tenant, "wfInstanceId": in.ID, "approveNodeId": t.NodeID,
		"approveNodeName": t.NodeName, "employeeId": user.ID, "appId": in.AppID, "formId": in.FormID,
		"dataId": in.DataID, "starter": in.Initiator.doc(), "approveNodeStartTime": now,
		"definitionName": in.DefinitionName, "formName": formName, "dataBrief": brief,
		"createTime": now, "updateTime": now,
		"createBy": in.Initiator.doc(), "updateBy": in.Initiator.doc(),
		"round": t.Round, "host": t.Host, "back": t.Back}
	if t.Deadline > 0 {
		doc["expireTime"] = t.Deadline
	}
	if err := e.st.Insert(ctx, CollTodo, doc); err != nil {
		return Task{}, err
	}
	if err := e.notify(ctx, in, t, user.Name, now); err != nil {
		return Task{}, err
	}
	in.Tasks = append(in.Tasks, t)
	return t, nil
}

// notify writes the in-system message (§6.2 `message`, category 0 data
// notice) that tells t's assignee about the task, in the step's
// transaction; the receiver reads it and marks it read.
func (e *Engine) notify(ctx context.Context, in *Instance, t Task, name string, now int64) error {
	title := "待审批：" + in.DefinitionName
	if t.NodeID == in.startNode().ID && in.NodeIndex < 0 {
		title = "待提交：" + in.DefinitionName
	}
	return e.st.Insert(ctx, CollMessage, store.Doc{"id": store.NewID(), "corpId": in.Tenant,
		"title": title, "detail": in.FormName + " · " + t.NodeName + " · " + in.Initiator.Name,
		"url": "/api/v1/wftodo/" + t.ID, "receiverEmpId": t.AssigneeID, "receiverName": name,
		"isRead": false, "category": int64(0), "dataId": in.DataID, "wfInstanceId": in.ID,
		"createTime": now, "updateTime": now, "createBy": in.Initiator.doc(), "updateBy": in.Initiator.doc()})
}

// appendLog appends an approval log entry (§6.2 wfapprovallog).
func (e *Engine) appendLog(ctx context.Context, in *Instance, n Node, actor Operator, result int64, comment, signature string, now int64) error {
	doc := store.Doc{"id": store.NewID(), "corpId": in.Tenant, "appId": in.AppID, "formId": in.FormID,
		"formName": in.FormName, "dataId": in.DataID, "wfInstanceId": in.ID, "wfVersion": in.Version,
		"nodeId": n.ID, "nodeName": nodeName(n), "round": in.Round, "approver": actor.doc(), "result": result,
		"comment": comment, "approvalTime": now, "createTime": now, "updateTime": now,
		"createBy": actor.doc(), "updateBy": actor.doc()}
	if signature != "" {
		doc["signature"] = signature
	}
	return e.st.Insert(ctx, CollApprovalLog, doc)
}

func nodeName(n Node) string {
	if n.Name != "" {
		return n.Name
	}
	return n.ID
}

// holds evaluates a node's `when` against the record: the condition is
// parsed with the form's resolver (the query language, §7) and counted over
// (id eq record AND cond) in the current transaction — one semantics with
// $filter, no second evaluator.
func (e *Engine) holds(ctx context.Context, tenant string, form *schema.Form, recordID string, n Node) (bool, error) {
	var cond query.Expr
	if n.When != "" {
		var err error
		if cond, err = query.ParseFilter(n.When, form.Resolver(recordProps)); err != nil {
			ee := errs.As(err)
			return false, errs.Wrap(errs.Invalid, err, "node "+n.ID+": invalid when condition: "+ee.Msg).
				WithReason("validation_failed").WithTarget("content/nodes/" + n.ID + "/when")
		}
	}
	guards, err := guardsExpr(n, form)
	if err != nil {
		return false, err
	}
	cond = query.AndOf(cond, guards)
	c, err := e.st.Count(ctx, collRecord, tenant, query.AndOf(eq("id", recordID), cond))
	if err != nil {
		return false, err
	}
	return c > 0, nil
}

// recordProps resolves a record's own properties in `when` conditions.
var recordProps = query.ResolverFunc(func(segs []string) (query.Field, error) {
	name := strings.Join(segs, "/")
	f, ok := recordFields[strings.ToLower(name)]
	if !ok {
		return query.Field{}, errs.Invalidf("unknown property %s", name).WithTarget(name)
	}
	f.Name = name
	return f, nil
})

var recordFields = map[string]query.Field{
	"id":             {Path: query.Path{"id"}, Type: query.String},
	"formid":         {Path: query.Path{"formId"}, Type: query.String},
	"appid":          {Path: query.Path{"appId"}, Type: query.String},
	"datatitle":      {Path: query.Path{"dataTitle"}, Type: query.String},
	"createtime":     {Path: query.Path{"createTime"}, Type: query.Time},
	"updatetime":     {Path: query.Path{"updateTime"}, Type: query.Time},
	"createby/id":    {Path: query.Path{"createBy", "id"}, Type: query.String},
	"createby/value": {Path: query.Path{"createBy", "value"}, Type: query.String},
	"flowstatus":     {Path: query.Path{"flowStatus"}, Type: query.Enum, Enum: record.FlowStatusEnum},
}

// assignees resolves a node's assignees to users (active users, in
// definition order, without duplicates).
func (e *Engine) assignees(ctx context.Context, in *Instance, n Node) ([]Operator, error) {
	var out []Operator
	add := func(d store.Doc) {
		id := str(d, "id")
		if id == "" || i64(d, "status") == 1 || slices.ContainsFunc(out, func(o Operator) bool { return o.ID == id }) {
			return
		}
		out = append(out, userOperator(d))
	}
	for _, ref := range n.Assignees.Users {
		u, err := e.findUser(ctx, in.Tenant, ref)
		if errs.CodeOf(err) == errs.NotFound {
			e.log.WarnContext(ctx, "workflow: assignee not found", "node", n.ID, "user", ref)
			continue
		} else if err != nil {
			return nil, err
		}
		add(u)
	}
	for _, code := range n.Assignees.Roles {
		users, err := e.st.Find(ctx, collUser, in.Tenant, query.Query{
			Filter: query.AnyRow{Array: query.Path{"roles"}, Pred: eq("roleCode", code)},
			Limit:  MaxAssignees + 1})
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			add(u)
		}
	}
	if err := e.moreAssignees(ctx, in, n, add); err != nil {
		return nil, err
	}
	if n.Assignees.InitiatorManager {
		mgr, err := e.managerOf(ctx, in.Tenant, in.Initiator.ID)
		if err != nil {
			return nil, err
		}
		if mgr != nil {
			add(mgr)
		}
	}
	if len(out) == 0 {
		// 409 (spec §12.11): the definition is fine, the directory has nobody for it now.
		return nil, errs.Conflictf("approval node %s has no assignee (no matching active user)", n.ID).
			WithReason("no_assignee").WithTarget("content/nodes/" + n.ID + "/assignees")
	}
	if len(out) > MaxAssignees {
		return nil, errs.Invalidf("approval node %s has more than %d assignees", n.ID, MaxAssignees)
	}
	return out, nil
}

// managerOf returns the manager of the user's department (nil when none).
func (e *Engine) managerOf(ctx context.Context, tenant, userID string) (store.Doc, error) {
	u, err := e.st.Get(ctx, collUser, tenant, userID)
	if errs.CodeOf(err) == errs.NotFound {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	dep := str(u, "departmentId")
	if dep == "" {
		return nil, nil
	}
	d, err := e.st.Get(ctx, collDepartment, tenant, dep)
	if errs.CodeOf(err) == errs.NotFound {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	mgr := str(d, "managerId")
	if mgr == "" {
		return nil, nil
	}
	m, err := e.st.Get(ctx, collUser, tenant, mgr)
	if errs.CodeOf(err) == errs.NotFound {
		return nil, nil
	}
	return m, err
}

// findUser finds a user by id, else by login name.
func (e *Engine) findUser(ctx context.Context, tenant, ref string) (store.Doc, error) {
	u, err := e.st.Get(ctx, collUser, tenant, ref)
	if errs.CodeOf(err) != errs.NotFound {
		return u, err
	}
	found, err := e.st.Find(ctx, collUser, tenant, query.Query{Filter: eq("userName", ref), Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, errs.NotFoundf("user %s not found", ref)
	}
	return found[0], nil
}

func userOperator(u store.Doc) Operator {
	return Operator{ID: str(u, "id"), Code: str(u, "code"), Name: str(u, "empName")}
}

// operator returns the Operator of user id (the caller's own from the token).
func (e *Engine) operator(ctx context.Context, p *principal.Principal, id string) (Operator, error) {
	u, err := e.st.Get(ctx, collUser, p.Tenant, id)
	switch {
	case err == nil:
		return userOperator(u), nil
	case errs.CodeOf(err) != errs.NotFound:
		return Operator{}, err
	case id == p.UserID:
		return Operator{ID: p.UserID, Code: p.UserCode, Name: p.DisplayName}, nil
	}
	return Operator{}, errs.Invalidf("user %s not found", id).WithTarget("initiator")
}

// definition loads a definition by id, else by key (the given version or
// the highest).
func (e *Engine) definition(ctx context.Context, tenant, ref string, version int64) (store.Doc, *Definition, error) {
	d, err := e.st.Get(ctx, CollDefinition, tenant, ref)
	if errs.CodeOf(err) == errs.NotFound {
		f := []query.Expr{eq("key", ref)}
		if version > 0 {
			f = append(f, query.Cmp{Path: query.Path{"version"}, Op: query.Eq, Value: float64(version)})
		}
		found, ferr := e.st.Find(ctx, CollDefinition, tenant, query.Query{Filter: query.AndOf(f...),
			Sort: []query.Sort{{Path: query.Path{"version"}, Desc: true}}, Limit: 1})
		if ferr != nil {
			return nil, nil, ferr
		}
		if len(found) == 0 {
			return nil, nil, errs.NotFoundf("workflow definition %s not found", ref).WithTarget("flowDefinitionId")
		}
		d, err = found[0], nil
	}
	if err != nil {
		return nil, nil, err
	}
	if ft := str(d, "flowType"); ft != "" && ft != "workflow" {
		return nil, nil, errs.NotFoundf("workflow definition %s not found", ref).WithTarget("flowDefinitionId")
	}
	def, err := ParseDefinition(d["content"])
	if err != nil {
		return nil, nil, err
	}
	return d, def, nil
}

// definitionOfForm returns the id of form's current workflow definition.
func (e *Engine) definitionOfForm(ctx context.Context, tenant, formRef string) (string, error) {
	form, err := e.form(ctx, tenant, formRef)
	if err != nil {
		return "", err
	}
	found, err := e.currentDefinition(ctx, tenant, form.ID)
	if err != nil {
		return "", err
	}
	if found == nil {
		return "", errs.NotFoundf("form %s has no workflow definition", form.Key).WithTarget("flowDefinitionId")
	}
	return str(found, "id"), nil
}

// form loads a form by id or key (the record core's one rule).
func (e *Engine) form(ctx context.Context, tenant, ref string) (*schema.Form, error) {
	if ref == "" {
		return nil, errs.Invalidf("the workflow definition has no sourceId (form)").WithTarget("sourceId")
	}
	f, err := e.rec.Form(ctx, tenant, ref)
	if errs.CodeOf(err) == errs.NotFound {
		return nil, errs.NotFoundf("form %s of the workflow definition not found", ref)
	}
	return f, err
}

func (e *Engine) formByID(ctx context.Context, tenant, id string) (*schema.Form, error) {
	f, err := e.rec.FormByID(ctx, tenant, id)
	if err != nil {
		return nil, wrapNotFound(err, "form %s not found", id)
	}
	return f, nil
}

// latestInstance returns the record's most recent instance, or nil.
func (e *Engine) latestInstance(ctx context.Context, tenant, recordID string) (*Instance, error) {
	docs, err := e.st.Find(ctx, CollInstance, tenant, query.Query{Filter: eq("dataId", recordID),
		Sort: []query.Sort{{Path: query.Path{"createTime"}, Desc: true}, {Path: query.Path{"id"}, Desc: true}}, Limit: 1})
	if err != nil || len(docs) == 0 {
		return nil, err
	}
	return instanceFromDoc(docs[0])
}

func eq(path, v string) query.Expr {
	return query.Cmp{Path: query.Path{path}, Op: query.Eq, Value: v}
}

func refs(ts []Task) []TaskRef {
	out := make([]TaskRef, 0, len(ts))
	for _, t := range ts {
		out = append(out, TaskRef{TaskID: t.ID, NodeID: t.NodeID, NodeName: t.NodeName, AssigneeID: t.AssigneeID,
			Host: t.Host, Step: t.Round})
	}
	return out
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// wrapNotFound rewrites a NotFound into one with msg; other errors pass.
func wrapNotFound(err error, format string, args ...any) error {
	if errs.CodeOf(err) == errs.NotFound {
		return errs.Wrap(errs.NotFound, err, errs.Newf(errs.NotFound, format, args...).Msg)
	}
	return err
}

// StartRecord implements record.Workflow: start the form's workflow for
// the record waiting at the start node and, when submit, complete the start
// task as the initiator (H3Yun IsSubmit), in ctx's transaction.
func (e *Engine) StartRecord(ctx context.Context, p *principal.Principal, formID, recordID, initiator string, submit bool) (string, error) {
	res, err := e.Start(ctx, p, StartRequest{Form: formID, BusinessKey: recordID, Initiator: initiator, AtStart: true})
	if err != nil {
		return "", err
	}
	if submit {
		if len(res.Tasks) != 1 {
			return "", errs.Newf(errs.Internal, "workflow %s started with %d start tasks", res.ID, len(res.Tasks))
		}
		t := res.Tasks[0]
		if _, err := e.Decide(ctx, p, DecideRequest{InstanceID: res.ID, TaskID: t.TaskID,
			Result: ActAgree, Approver: t.AssigneeID}); err != nil {
			return "", err
		}
	}
	return res.ID, nil
}
