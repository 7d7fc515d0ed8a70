package workflow

import (
	"context"
	"slices"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
)

// This file holds what hand-over dialects (e-office flow-turning) need of
// the engine beyond approve/reject: steps with a host (主办人) and
// participants (经办人), hand-over to a chosen node and chosen users (free
// flows: any node, any user), the stale-task check, the next-node and
// candidate-user queries (Inspect) and the instance's title (Describe).
// A step is one node activation: its number is Task.Round, the current
// step is Instance.Round.

// PermMonitor lets a user see (monitor list, search, Inspect) every
// instance of the tenant. Administrators hold it.
const PermMonitor = "workflow.monitor"

// Reasons of the refusals of Handover, Return, Describe and Inspect, so a
// dialect can pick its own error code.
const (
	// ReasonStaleTask (Conflict): the StaleTaskID is unknown in the
	// instance, or its assignee has received a newer task since.
	ReasonStaleTask = "stale_task"
	// ReasonNoOpenTask (Forbidden): the actor has no pending task in the
	// instance.
	ReasonNoOpenTask = "no_open_task"
	// ReasonStepMismatch (Conflict): the expected step is not the current.
	ReasonStepMismatch = "step_mismatch"
	// ReasonNotHost (Forbidden): the step has a host and it is not the actor.
	ReasonNotHost = "not_host"
	// ReasonInvalidTarget (Invalid): the node is not one a hand-over (or
	// return) may go to from the current step.
	ReasonInvalidTarget = "invalid_target"
	// ReasonCannotEnd (Invalid): the instance may not end at this step
	// (a later node's condition holds).
	ReasonCannotEnd = "cannot_end"
	// ReasonNoNextUser (Invalid): a target node without host or participants.
	ReasonNoNextUser = "no_next_user"
	// ReasonOutsideScope (Forbidden): a chosen user is not among the
	// target node's candidates.
	ReasonOutsideScope = "outside_scope"
	// ReasonDeadlinePast (Invalid): the deadline is in the past.
	ReasonDeadlinePast = "deadline_past"
	// ReasonNotVisible (Forbidden): the caller may not see the instance.
	ReasonNotVisible = "not_visible"
	// ReasonNotSentBack (Invalid): ToSender on a task no return issued.
	ReasonNotSentBack = "not_sent_back"
)

// StepGuard are the optional checks a hand-over or return makes before it acts.
type StepGuard struct {
	// StaleTaskID is a task the caller last saw as theirs (e-office
	// flow_run_process_id): refused with ReasonStaleTask when it is not a
	// task of the instance or its assignee has a newer task in it. The
	// check does not require the task to be the actor's or pending.
	StaleTaskID string
	// Step is the step the caller believes current (0 = no check):
	// refused with ReasonStepMismatch when the instance moved on.
	Step int64
}

// HandoverRequest completes the actor's step of a running instance and
// activates the next one with chosen users, or ends the instance.
type HandoverRequest struct {
	InstanceID, DataID string
	// TaskID selects the actor's pending task ("" = the actor's pending
	// task on the current step).
	TaskID string
	StepGuard
	// ToNode is the node to activate. "" with no users ends the instance
	// (when the step may end it); "" with users goes to the next node
	// (fixed flow: the one node of Inspect's Turn; free flow: the current
	// node again).
	ToNode string
	// Host becomes the host of the next step (optional); Participants its
	// other assignees. Users are ids or login names; in a fixed flow each
	// must be a candidate of ToNode (ReasonOutsideScope).
	Host         string
	Participants []string
	// ToSender resubmits a step that was sent back along the original
	// path (e-office send_back_submit): the node that sent it back is
	// activated again with that step's previous host and participants;
	// ToNode, Host and Participants must be empty. Invalid (reason
	// not_sent_back) when the actor's task was not sent back.
	ToSender bool
	// CC are users the instance is copied to with the hand-over.
	CC []string
	// Deadline (epoch ms, 0 = none) makes the new tasks overdue after it.
	Deadline  int64
	Comment   string
	Signature string
	// Actor is the acting user id ("" = the caller; another needs PermActAs).
	Actor     string
	Variables map[string]any
}

// stepHasHost reports whether the current step has a pending host task.
func (in *Instance) stepHasHost() bool {
	return slices.ContainsFunc(in.Tasks, func(t Task) bool {
		return t.Status == TaskPending && t.Host && t.Round == in.Round
	})
}

// markFrom records who issued the tasks just created.
func (in *Instance) markFrom(created []Task, from, fromNode string) {
	for _, c := range created {
		if i, ok := in.task(c.ID); ok {
			in.Tasks[i].From, in.Tasks[i].FromNode = from, fromNode
		}
	}
}

// stale reports whether task id is not a task of the instance or its
// assignee has a newer task in the instance.
func (in *Instance) stale(id string) bool {
	i, ok := in.task(id)
	if !ok {
		return true
	}
	user := in.Tasks[i].AssigneeID
	for _, t := range in.Tasks[i+1:] {
		if t.AssigneeID == user {
			return true
		}
	}
	return false
}

// checkGuard applies g and the actor rules shared by Handover and Return:
// the actor must hold a pending task (ti, returned) and be the step's
// host when the step has one.
func (s *stepCtx) checkGuard(g StepGuard, taskID, actor string) (int, error) {
	in := s.in
	if !slices.ContainsFunc(in.Tasks, func(t Task) bool { return t.Status == TaskPending && t.AssigneeID == actor }) {
		return -1, errs.Forbiddenf("user %s has no pending task on workflow instance %s", actor, in.ID).WithReason(ReasonNoOpenTask)
	}
	if g.Step != 0 && g.Step != in.Round {
		return -1, errs.Conflictf("workflow instance %s is at step %d, not %d", in.ID, in.Round, g.Step).
			WithReason(ReasonStepMismatch).WithTarget("step")
	}
	ti, err := s.findTask(taskID, "", actor)
	if err != nil {
		return -1, err
	}
	if in.stepHasHost() && !in.Tasks[ti].Host {
		return -1, errs.Forbiddenf("only the host of the step may hand workflow instance %s over", in.ID).WithReason(ReasonNotHost)
	}
	return ti, nil
}

// Handover completes the actor's step: the actor's task is approved, the
// step's other pending tasks close, and ToNode is activated with Host (as
// the step's host) and Participants; with no node and no users the
// instance ends approved. Checks, in order: Guard.StaleTaskID, the
// instance state, the actor's pending task, Guard.Step, the host rule,
// the target, the users (candidates), the deadline.
func (e *Engine) Handover(ctx context.Context, p *principal.Principal, req HandoverRequest) (*DecideResult, error) {
	actorID, err := e.actor(p, req.Actor)
	if err != nil {
		return nil, err
	}
	if len(req.Participants)+len(req.CC) > 2*MaxAssignees {
		return nil, errs.Invalidf("too many users").WithTarget("participants")
	}
	var res *DecideResult
	err = e.guarded(ctx, p, req.InstanceID, req.DataID, ActHandover, req.StepGuard, func(ctx context.Context, s *stepCtx) error {
		ti, err := s.checkGuard(req.StepGuard, req.TaskID, actorID)
		if err != nil {
			return err
		}
		in := s.in
		cur, _ := in.CurrentNode()
		opts, err := e.options(ctx, in)
		if err != nil {
			return err
		}
		users, host, err := e.chosen(ctx, in, req.Host, req.Participants)
		if err != nil {
			return err
		}
		target := -1
		switch {
		case req.ToSender:
			if target, users, host, err = e.sender(ctx, in, in.Tasks[ti], req); err != nil {
				return err
			}
		case req.ToNode == "" && len(users) == 0:
			if !opts.CanEnd {
				return errs.Invalidf("workflow instance %s may not end at node %s", in.ID, cur.ID).WithReason(ReasonCannotEnd).WithTarget("toNode")
			}
		case req.ToNode == "":
			if len(opts.Turn) == 0 || (len(opts.Turn) != 1 && !in.Def.Free) {
				return errs.Invalidf("name the next node").WithReason(ReasonInvalidTarget).WithTarget("toNode")
			}
			target = opts.Turn[0].Index
			if in.Def.Free && in.NodeIndex >= 0 {
				target = in.NodeIndex
			}
		default:
			j := slices.IndexFunc(opts.Turn, func(n NodeRef) bool { return n.ID == req.ToNode })
			if j < 0 {
				return errs.Invalidf("node %q is not a next node of workflow instance %s", req.ToNode, in.ID).
					WithReason(ReasonInvalidTarget).WithTarget("toNode")
			}
			if len(users) == 0 {
				return errs.Invalidf("name the host or the participants of node %s", req.ToNode).
					WithReason(ReasonNoNextUser).WithTarget("host")
			}
			target = opts.Turn[j].Index
		}
		if target >= 0 && !in.Def.Free && !req.ToSender {
			if err := e.inScope(ctx, in, in.Def.Nodes[target], users); err != nil {
				return err
			}
		}
		if req.Deadline != 0 && req.Deadline < s.now {
			return errs.Invalidf("the deadline is in the past").WithReason(ReasonDeadlinePast).WithTarget("deadline")
		}
		actor, err := e.operator(ctx, p, actorID)
		if err != nil {
			return err
		}
		task := in.Tasks[ti]
		if err := s.closeTask(ctx, ti, TaskApproved); err != nil {
			return err
		}
		if err := s.closePending(ctx, TaskClosed); err != nil {
			return err
		}
		if err := e.appendLog(ctx, in, cur, actor, ResultApprove, req.Comment, req.Signature, s.now); err != nil {
			return err
		}
		in.setVariables(req.Variables)
		var created []Task
		if target < 0 {
			next, err := Transition(in.Status, ActFinish)
			if err != nil {
				return err
			}
			in.Status, in.NodeIndex = next, len(in.Def.Nodes)
		} else {
			n := in.Def.Nodes[target]
			in.NodeIndex = target
			in.Round++
			for _, u := range users {
				t, err := e.issueWith(ctx, in, n, u, s.now, Task{Host: host != "" && u.ID == host, From: actor.ID,
					FromNode: cur.ID, Deadline: req.Deadline})
				if err != nil {
					return err
				}
				created = append(created, t)
			}
		}
		if err := e.copyUsers(ctx, in, req.CC, actor, "", s.now); err != nil {
			return err
		}
		if err := s.commit(ctx, actor); err != nil {
			return err
		}
		res = &DecideResult{ID: in.ID, TaskID: task.ID, Result: string(ActAgree), InstanceStatus: in.Status, Tasks: refs(created)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// sender is the target of a ToSender hand-over: the node that sent the
// actor's task back, with the users of that node's latest step (its host
// again the host).
func (e *Engine) sender(ctx context.Context, in *Instance, t Task, req HandoverRequest) (int, []Operator, string, error) {
	if req.ToNode != "" || req.Host != "" || len(req.Participants) > 0 {
		return 0, nil, "", errs.Invalidf("a resubmission to the sender names no node and no users").WithTarget("toNode")
	}
	j := nodeIndex(in, t.FromNode)
	if !t.Back || j < 0 {
		return 0, nil, "", errs.Invalidf("task %s was not sent back from an approval node", t.ID).
			WithReason(ReasonNotSentBack).WithTarget("toSender")
	}
	var round int64
	for _, x := range in.Tasks {
		if x.NodeID == t.FromNode && x.Round < t.Round && x.Round > round {
			round = x.Round
		}
	}
	var users []Operator
	host := ""
	for _, x := range in.Tasks {
		if x.NodeID != t.FromNode || x.Round != round || x.Status == TaskTransferred ||
			slices.ContainsFunc(users, func(o Operator) bool { return o.ID == x.AssigneeID }) {
			continue
		}
		u, err := e.findUser(ctx, in.Tenant, x.AssigneeID)
		if err != nil {
			return 0, nil, "", wrapNotFound(err, "user %s of the original step not found", x.AssigneeID)
		}
		users = append(users, userOperator(u))
		if x.Host {
			host = x.AssigneeID
		}
	}
	if len(users) == 0 {
		return 0, nil, "", errs.Invalidf("node %s had no participants", t.FromNode).WithReason(ReasonNotSentBack).WithTarget("toSender")
	}
	return j, users, host, nil
}

// guarded is step with g's stale check (none when g is zero) once the
// instance is loaded, before the transition is checked.
func (e *Engine) guarded(ctx context.Context, p *principal.Principal, instanceID, dataID string, a Action, g StepGuard,
	fn func(ctx context.Context, s *stepCtx) error) error {
	if instanceID == "" && dataID == "" {
		return errs.Invalidf("processInstanceId (or dataId) is required").WithTarget("processInstanceId")
	}
	return e.st.Tx(ctx, func(ctx context.Context) error {
		var in *Instance
		var err error
		if instanceID != "" {
			if in, err = e.Instance(ctx, p.Tenant, instanceID); err != nil {
				return err
			}
			if dataID != "" && dataID != in.DataID {
				return errs.Invalidf("dataId does not match the workflow instance").WithTarget("dataId")
			}
		} else {
			if in, err = e.latestInstance(ctx, p.Tenant, dataID); err != nil {
				return err
			}
			if in == nil {
				_, err := Transition(StatusNone, a)
				return err
			}
		}
		if g.StaleTaskID != "" && in.stale(g.StaleTaskID) {
			return errs.Conflictf("task %s is no longer current; refresh", g.StaleTaskID).WithReason(ReasonStaleTask).WithTarget("staleTaskId")
		}
		if _, err := Transition(in.Status, a); err != nil {
			return err
		}
		return fn(ctx, &stepCtx{e: e, in: in, rev: in.Rev, now: e.now().UnixMilli()})
	})
}

// chosen resolves a hand-over's host and participants to distinct users,
// the host first; host is the host's user id ("" = none).
func (e *Engine) chosen(ctx context.Context, in *Instance, hostRef string, parts []string) ([]Operator, string, error) {
	var out []Operator
	host := ""
	add := func(ref, target string) error {
		ref = strings.TrimSpace(ref)
		if ref == "" {
			return nil
		}
		u, err := e.findUser(ctx, in.Tenant, ref)
		if errs.CodeOf(err) == errs.NotFound {
			return errs.Invalidf("user %q is not a user of this tenant", ref).WithTarget(target)
		} else if err != nil {
			return err
		}
		if i64(u, "status") == 1 {
			return errs.Invalidf("user %q is disabled", ref).WithTarget(target)
		}
		op := userOperator(u)
		if target == "host" {
			host = op.ID
		}
		if !slices.ContainsFunc(out, func(o Operator) bool { return o.ID == op.ID }) {
			out = append(out, op)
		}
		return nil
	}
	if err := add(hostRef, "host"); err != nil {
		return nil, "", err
	}
	for _, p := range parts {
		if err := add(p, "participants"); err != nil {
			return nil, "", err
		}
	}
	if len(out) > MaxAssignees {
		return nil, "", errs.Invalidf("at most %d users per step", MaxAssignees).WithTarget("participants")
	}
	return out, host, nil
}

// inScope checks that every user is a candidate of node n.
func (e *Engine) inScope(ctx context.Context, in *Instance, n Node, users []Operator) error {
	cands, err := e.candidates(ctx, in, n)
	if err != nil {
		return err
	}
	for _, u := range users {
		if !slices.ContainsFunc(cands, func(c Operator) bool { return c.ID == u.ID }) {
			return errs.Forbiddenf("user %s may not handle node %s", u.ID, n.ID).WithReason(ReasonOutsideScope).WithTarget("participants")
		}
	}
	return nil
}

// candidates are the users who may handle node n of the instance: the
// initiator at the start node, else the node's assignees (none when they
// resolve to nobody).
func (e *Engine) candidates(ctx context.Context, in *Instance, n Node) ([]Operator, error) {
	if n.Type != NodeApprove || n.ID == in.startNode().ID {
		return []Operator{in.Initiator}, nil
	}
	if n.Assignees.empty() {
		return []Operator{}, nil
	}
	users, err := e.assignees(ctx, in, n)
	if errs.As(err).Reason == "no_assignee" {
		return []Operator{}, nil
	}
	return users, err
}

// NodeRef is a node a step may go to.
type NodeRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Index is the node's position in the definition (-1: the start node).
	Index int `json:"index"`
}

// FlowOptions are where the current step may go.
type FlowOptions struct {
	// Turn are the nodes a hand-over may activate; Back the nodes a return
	// may go to (the start node first, then earlier nodes that had tasks).
	Turn []NodeRef `json:"turn"`
	Back []NodeRef `json:"back"`
	// CanEnd: a hand-over without node and users ends the instance.
	CanEnd bool `json:"canEnd"`
}

// options computes the current step's FlowOptions (running instances).
func (e *Engine) options(ctx context.Context, in *Instance) (FlowOptions, error) {
	o := FlowOptions{Turn: []NodeRef{}, Back: []NodeRef{}}
	if in.Status != StatusRunning || in.Def == nil {
		return o, nil
	}
	from := in.NodeIndex + 1
	if in.Def.Free {
		o.CanEnd = true
		for i, n := range in.Def.Nodes {
			if n.Type == NodeApprove && i >= in.NodeIndex {
				o.Turn = append(o.Turn, NodeRef{ID: n.ID, Name: nodeName(n), Index: i})
			}
		}
	} else {
		form, err := e.formByID(ctx, in.Tenant, in.FormID)
		if err != nil {
			return o, err
		}
		for i := max(from, 0); i < len(in.Def.Nodes); i++ {
			n := in.Def.Nodes[i]
			if n.Type != NodeApprove {
				continue
			}
			if n.When != "" || len(n.Guards) > 0 {
				ok, err := e.holds(ctx, in.Tenant, form, in.DataID, n)
				if err != nil {
					return o, err
				}
				if !ok {
					continue
				}
			}
			o.Turn = append(o.Turn, NodeRef{ID: n.ID, Name: nodeName(n), Index: i})
			break
		}
		o.CanEnd = len(o.Turn) == 0
	}
	if in.NodeIndex >= 0 {
		st := in.startNode()
		o.Back = append(o.Back, NodeRef{ID: st.ID, Name: nodeName(st), Index: -1})
		for i := 0; i < in.NodeIndex && i < len(in.Def.Nodes); i++ {
			n := in.Def.Nodes[i]
			if n.Type == NodeApprove && slices.ContainsFunc(in.Tasks, func(t Task) bool { return t.NodeID == n.ID }) {
				o.Back = append(o.Back, NodeRef{ID: n.ID, Name: nodeName(n), Index: i})
			}
		}
	}
	return o, nil
}

// InspectRequest asks for an instance with its steps, where its current
// step may go and who may handle those nodes.
type InspectRequest struct {
	InstanceID, DataID string
	// Candidates are node ids whose candidate users to list ("*" = every
	// node of Turn and Back).
	Candidates []string
}

// Inspection answers Inspect.
type Inspection struct {
	Instance *Instance
	FlowOptions
	// Free: any user may be chosen at any node (Candidates are then
	// empty).
	Free bool
	// Candidates maps node ids to the users who may handle them.
	Candidates map[string][]Operator
}

// Inspect returns the instance (tasks included), its FlowOptions and the
// candidates of the nodes asked for. The caller must see the instance: its
// initiator, a user with a task in it or a copy of it, or a holder of
// PermMonitor (ReasonNotVisible otherwise).
func (e *Engine) Inspect(ctx context.Context, p *principal.Principal, req InspectRequest) (*Inspection, error) {
	if p == nil || p.Tenant == "" {
		return nil, errs.Unauthorizedf("no caller")
	}
	if req.InstanceID == "" && req.DataID == "" {
		return nil, errs.Invalidf("processInstanceId (or dataId) is required").WithTarget("processInstanceId")
	}
	var in *Instance
	var err error
	if req.InstanceID != "" {
		in, err = e.Instance(ctx, p.Tenant, req.InstanceID)
	} else if in, err = e.latestInstance(ctx, p.Tenant, req.DataID); err == nil && in == nil {
		err = errs.NotFoundf("record %s has no workflow instance", req.DataID)
	}
	if err != nil {
		return nil, err
	}
	if !e.visible(p, in) {
		return nil, errs.Forbiddenf("user %s may not see workflow instance %s", p.UserID, in.ID).WithReason(ReasonNotVisible)
	}
	opts, err := e.options(ctx, in)
	if err != nil {
		return nil, err
	}
	out := &Inspection{Instance: in, FlowOptions: opts, Free: in.Def != nil && in.Def.Free, Candidates: map[string][]Operator{}}
	want := map[string]bool{}
	for _, id := range req.Candidates {
		if id == "*" {
			for _, n := range append(slices.Clone(opts.Turn), opts.Back...) {
				want[n.ID] = true
			}
			continue
		}
		want[id] = true
	}
	for id := range want {
		if out.Free {
			out.Candidates[id] = []Operator{}
			continue
		}
		n, ok := in.node(id)
		if !ok {
			return nil, errs.Invalidf("node %q is not a node of workflow instance %s", id, in.ID).WithTarget("candidates")
		}
		c, err := e.candidates(ctx, in, n)
		if err != nil {
			return nil, err
		}
		out.Candidates[id] = c
	}
	return out, nil
}

// node finds a node of the instance's definition (or its start node).
func (in *Instance) node(id string) (Node, bool) {
	if st := in.startNode(); id == st.ID {
		return st, true
	}
	if in.Def != nil {
		for _, n := range in.Def.Nodes {
			if n.ID == id {
				return n, true
			}
		}
	}
	return Node{}, false
}

// visible reports whether p may see the instance.
func (e *Engine) visible(p *principal.Principal, in *Instance) bool {
	u := p.UserID
	return e.can(p, PermMonitor) || (u != "" && (u == in.Initiator.ID || slices.Contains(in.CC, u) ||
		slices.ContainsFunc(in.Tasks, func(t Task) bool { return t.AssigneeID == u })))
}

// DescribeRequest changes an instance's description; nil fields are kept.
type DescribeRequest struct {
	InstanceID, DataID string
	Title, Serial      *string
	Urgency            *int64
	// Actor is the acting user id ("" = the caller).
	Actor string
}

// Describe changes the title, serial or urgency of a running instance.
// Only a user with a pending task in it may (ReasonNoOpenTask), or a
// holder of PermActAs.
func (e *Engine) Describe(ctx context.Context, p *principal.Principal, req DescribeRequest) (*ActionResult, error) {
	actorID, err := e.actor(p, req.Actor)
	if err != nil {
		return nil, err
	}
	var title, serial string
	var urgency int64
	if req.Title != nil {
		title = *req.Title
	}
	if req.Serial != nil {
		serial = *req.Serial
	}
	if req.Urgency != nil {
		urgency = *req.Urgency
	}
	if err := checkDescription(title, serial, urgency); err != nil {
		return nil, err
	}
	var res *ActionResult
	err = e.step(ctx, p, req.InstanceID, req.DataID, ActDescribe, func(ctx context.Context, s *stepCtx) error {
		in := s.in
		if !slices.ContainsFunc(in.Tasks, func(t Task) bool { return t.Status == TaskPending && t.AssigneeID == actorID }) {
			return errs.Forbiddenf("user %s has no pending task on workflow instance %s", actorID, in.ID).WithReason(ReasonNoOpenTask)
		}
		if req.Title != nil && title != "" {
			in.Title = title
		}
		if req.Serial != nil {
			in.Serial = serial
		}
		if req.Urgency != nil {
			in.Urgency = urgency
		}
		actor, err := e.operator(ctx, p, actorID)
		if err != nil {
			return err
		}
		if err := s.saveInstance(ctx, actor); err != nil {
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

// Limits of an instance's description.
const (
	MaxTitleLen  = 500
	MaxSerialLen = 200
)

func checkDescription(title, serial string, urgency int64) error {
	switch {
	case len(title) > MaxTitleLen:
		return errs.Invalidf("the title is longer than %d bytes", MaxTitleLen).WithTarget("title")
	case len(serial) > MaxSerialLen:
		return errs.Invalidf("the serial is longer than %d bytes", MaxSerialLen).WithTarget("serial")
	case urgency < 0 || urgency > 2:
		return errs.Invalidf("urgency must be 0, 1 or 2").WithTarget("urgency")
	}
	return nil
}
