package workflow

import (
	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/errs"
)

// Status is an instance's state (§4.1 `status`). StatusNone is the state of
// a record that has never had an instance.
type Status string

// The instance states.
const (
	StatusNone      Status = ""
	StatusRunning   Status = "running"
	StatusApproved  Status = "approved"
	StatusRejected  Status = "rejected"
	StatusCancelled Status = "cancelled"
)

// Statuses lists every state (for exhaustive tests).
var Statuses = []Status{StatusNone, StatusRunning, StatusApproved, StatusRejected, StatusCancelled}

// Action is something that happens to an instance.
type Action string

// The actions. ActFinish is internal: the instance ran past its last
// approval node.
const (
	ActStart    Action = "start"
	ActAgree    Action = "agree"
	ActReject   Action = "reject"
	ActTransfer Action = "transfer"
	ActWithdraw Action = "withdraw"
	ActFinish   Action = "finish"
	// ActReturn sends the instance back to an earlier node or to its
	// initiator (e-office "back"; tasks.go).
	ActReturn Action = "return"
	// ActCC copies the instance to users for their information (tasks.go).
	ActCC Action = "cc"
	// ActHandover completes the step choosing the next node and its host
	// and participants, or ends the instance (e-office flow-turning;
	// flow.go). Ending follows with ActFinish.
	ActHandover Action = "handover"
	// ActDescribe changes the instance's title, serial or urgency (flow.go).
	ActDescribe Action = "describe"
)

// Actions lists every action (for exhaustive tests).
var Actions = []Action{ActStart, ActAgree, ActReject, ActTransfer, ActWithdraw, ActFinish, ActReturn, ActCC,
	ActHandover, ActDescribe}

// rule is one cell of the transition table: the next state, or the error
// code of the refusal.
type rule struct {
	next    Status
	refusal errs.Code // meaningful when !ok
	ok      bool
	why     string
}

func to(s Status) rule { return rule{next: s, ok: true} }
func refuse(c errs.Code, why string) rule {
	return rule{refusal: c, why: why}
}

var (
	noInstance = refuse(errs.NotFound, "the record has no workflow instance")
	finished   = refuse(errs.Conflict, "the workflow instance is not running")
)

// transitions is THE state × action table. A restart (start after a
// rejection or a withdrawal) creates a new instance for the record.
var transitions = map[Status]map[Action]rule{
	StatusNone: {
		ActStart: to(StatusRunning), ActAgree: noInstance, ActReject: noInstance,
		ActTransfer: noInstance, ActWithdraw: noInstance, ActFinish: noInstance,
		ActReturn: noInstance, ActCC: noInstance, ActHandover: noInstance, ActDescribe: noInstance,
	},
	StatusRunning: {
		ActStart:    refuse(errs.Conflict, "the record already has a running workflow instance"),
		ActAgree:    to(StatusRunning), // advances; ActFinish follows past the last node
		ActReject:   to(StatusRejected),
		ActTransfer: to(StatusRunning),
		ActWithdraw: to(StatusCancelled),
		ActFinish:   to(StatusApproved),
		ActReturn:   to(StatusRunning),
		ActCC:       to(StatusRunning),
		ActHandover: to(StatusRunning),
		ActDescribe: to(StatusRunning),
	},
	StatusApproved: {
		ActStart: refuse(errs.Conflict, "the record is already approved"), ActAgree: finished,
		ActReject: finished, ActTransfer: finished, ActWithdraw: finished, ActFinish: finished,
		ActReturn: finished, ActCC: finished, ActHandover: finished, ActDescribe: finished,
	},
	StatusRejected: {
		ActStart: to(StatusRunning), ActAgree: finished, ActReject: finished,
		ActTransfer: finished, ActWithdraw: finished, ActFinish: finished,
		ActReturn: finished, ActCC: finished, ActHandover: finished, ActDescribe: finished,
	},
	StatusCancelled: {
		ActStart: to(StatusRunning), ActAgree: finished, ActReject: finished,
		ActTransfer: finished, ActWithdraw: finished, ActFinish: finished,
		ActReturn: finished, ActCC: finished, ActHandover: finished, ActDescribe: finished,
	},
}

// Transition returns the state after action a in state s, or the refusal as
// an *errs.Error (NotFound, Conflict).
func Transition(s Status, a Action) (Status, error) {
	row, ok := transitions[s]
	if !ok {
		return s, errs.Newf(errs.Internal, "workflow: unknown instance state %q", s)
	}
	r, ok := row[a]
	if !ok {
		return s, errs.Newf(errs.Internal, "workflow: unknown action %q", a)
	}
	if !r.ok {
		return s, errs.New(r.refusal, r.why)
	}
	return r.next, nil
}

// FlowStatus is the record flowStatus (access.Flow*, spec §6.3) an
// instance in state s implies (cancelled = back to draft, §4.3 withdraw).
// StatusNone has none (-1).
func FlowStatus(s Status) int64 {
	switch s {
	case StatusRunning:
		return access.FlowApproving
	case StatusApproved:
		return access.FlowApproved
	case StatusRejected:
		return access.FlowRejected
	case StatusCancelled:
		return access.FlowDraft
	}
	return -1
}

// Task states (kept on the instance's task list; only pending tasks are
// `wftodo` documents).
const (
	TaskPending     = "pending"
	TaskApproved    = "approved"
	TaskRejected    = "rejected"
	TaskTransferred = "transferred"
	TaskClosed      = "closed"    // another assignee decided the node
	TaskWithdrawn   = "withdrawn" // the initiator withdrew the instance
	TaskReturned    = "returned"  // the assignee sent the instance back (tasks.go)
)

// Approval log result codes (§6.2 wfapprovallog.result).
const (
	ResultApprove  int64 = 1
	ResultReject   int64 = 2
	ResultReturn   int64 = 3
	ResultWithdraw int64 = 8
	ResultTransfer int64 = 9
)
