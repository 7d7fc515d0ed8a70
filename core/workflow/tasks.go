package workflow

import (
	"context"
	"slices"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// This file holds the actions and task lists the dialects beyond the native
// contract need (e-office flow-turning "back", to-do / done / my-request /
// cc lists; Dabei's task lists; issue 11 #5): Return, CC, Tasks and Log.
// They reuse the engine's step (one transaction, transition table,
// compare-and-set on the instance) and its node activation.

// CollCC holds one document per user an instance was copied to.
const CollCC = "wfcc"

// ReturnRequest sends a running instance back (e-office "back").
type ReturnRequest struct {
	InstanceID, DataID, NodeID, TaskID string
	// ToNode is the approval node to return to: an earlier node of the
	// instance, or the start node (StartNodeID, or the definition's start
	// node id) to give the instance back to its initiator. "" = the
	// previous node that had tasks, else the initiator.
	ToNode  string
	Comment string
	// Actor is the acting user id ("" = the caller; another user needs
	// PermActAs).
	Actor string
	// Guard: the stale-task and step checks (flow.go).
	StepGuard
	// Host and Participants, when given, replace the target node's
	// assignees (fixed flows: each must be a candidate of the node, the
	// initiator at the start node); Host becomes the step's host. By
	// default the node's assignees get the tasks, or the initiator (as
	// host) at the start node.
	Host         string
	Participants []string
}

// Return closes the actor's pending task (and the node's other pending
// tasks) as returned, logs result 3 (return) and activates ToNode again:
// its assignees get new tasks; at the start node the initiator gets a task
// whose agree re-submits the instance from the first approval node. The
// record stays approving (flowStatus 2); at the start node it is editable
// by its owner again (access.CheckRecordAtStart).
func (e *Engine) Return(ctx context.Context, p *principal.Principal, req ReturnRequest) (*ActionResult, error) {
	actorID, err := e.actor(p, req.Actor)
	if err != nil {
		return nil, err
	}
	var res *ActionResult
	err = e.guarded(ctx, p, req.InstanceID, req.DataID, ActReturn, req.StepGuard, func(ctx context.Context, s *stepCtx) error {
		in := s.in
		if req.Step != 0 && req.Step != in.Round {
			return errs.Conflictf("workflow instance %s is at step %d, not %d", in.ID, in.Round, req.Step).
				WithReason(ReasonStepMismatch).WithTarget("step")
		}
		ti, err := s.findTask(req.TaskID, req.NodeID, actorID)
		if err != nil {
			return err
		}
		if in.stepHasHost() && !in.Tasks[ti].Host {
			return errs.Forbiddenf("only the host of the step may send workflow instance %s back", in.ID).WithReason(ReasonNotHost)
		}
		cur, _ := in.CurrentNode()
		target, err := returnTarget(in, req.ToNode)
		if err != nil {
			return err
		}
		users, host, err := e.chosen(ctx, in, req.Host, req.Participants)
		if err != nil {
			return err
		}
		var targetNode Node
		if target < 0 {
			targetNode = in.startNode()
		} else {
			targetNode = in.Def.Nodes[target]
		}
		if len(users) > 0 && !in.Def.Free {
			if err := e.inScope(ctx, in, targetNode, users); err != nil {
				return err
			}
		}
		actor, err := e.operator(ctx, p, actorID)
		if err != nil {
			return err
		}
		if err := s.closeTask(ctx, ti, TaskReturned); err != nil {
			return err
		}
		if err := s.closePending(ctx, TaskClosed); err != nil {
			return err
		}
		if err := e.appendLog(ctx, in, cur, actor, ResultReturn, req.Comment, "", s.now); err != nil {
			return err
		}
		in.Round++
		switch {
		case len(users) > 0:
		case target < 0:
			users, host = []Operator{in.Initiator}, in.Initiator.ID
		default:
			if users, err = e.assignees(ctx, in, targetNode); err != nil {
				return err
			}
		}
		in.NodeIndex = target
		for _, u := range users {
			if _, err := e.issueWith(ctx, in, targetNode, u, s.now, Task{Host: host != "" && u.ID == host,
				From: actor.ID, FromNode: cur.ID, Back: true}); err != nil {
				return err
			}
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

// returnTarget is the node index Return activates (-1 = the initiator at
// the start node). Only nodes before the current one qualify.
func returnTarget(in *Instance, to string) (int, error) {
	if in.NodeIndex < 0 {
		return 0, errs.Conflictf("workflow instance %s waits for its initiator; nothing to return", in.ID).WithTarget("toNode")
	}
	if to == "" {
		// The latest earlier node that had tasks.
		for i := len(in.Tasks) - 1; i >= 0; i-- {
			if j := nodeIndex(in, in.Tasks[i].NodeID); j >= 0 && j < in.NodeIndex {
				return j, nil
			}
		}
		return -1, nil
	}
	if to == StartNodeID || to == in.startNode().ID {
		return -1, nil
	}
	j := nodeIndex(in, to)
	if j < 0 || in.Def.Nodes[j].Type != NodeApprove {
		return 0, errs.Invalidf("node %q is not an approval node of the workflow instance", to).WithTarget("toNode")
	}
	if j >= in.NodeIndex {
		return 0, errs.Invalidf("node %q is not before the current node", to).WithTarget("toNode")
	}
	return j, nil
}

func nodeIndex(in *Instance, id string) int {
	if in.Def == nil {
		return -1
	}
	return slices.IndexFunc(in.Def.Nodes, func(n Node) bool { return n.ID == id && n.Type == NodeApprove })
}

// CCRequest copies a running instance to users for their information.
type CCRequest struct {
	InstanceID, DataID string
	// Users are the receivers (ids or login names).
	Users   []string
	Comment string
}

// CC copies the instance to Users: one wfcc document and one in-system
// message each (a user already copied is skipped). Only the initiator, a
// user holding a pending task of the instance, or a holder of PermActAs
// may copy.
func (e *Engine) CC(ctx context.Context, p *principal.Principal, req CCRequest) (*ActionResult, error) {
	if p == nil || p.Tenant == "" {
		return nil, errs.Unauthorizedf("no caller")
	}
	if len(req.Users) == 0 {
		return nil, errs.Invalidf("users is required").WithTarget("users")
	}
	if len(req.Users) > MaxAssignees {
		return nil, errs.Invalidf("at most %d users per copy", MaxAssignees).WithTarget("users")
	}
	var res *ActionResult
	err := e.step(ctx, p, req.InstanceID, req.DataID, ActCC, func(ctx context.Context, s *stepCtx) error {
		in := s.in
		involved := p.UserID != "" && (p.UserID == in.Initiator.ID ||
			slices.ContainsFunc(in.Pending(), func(t Task) bool { return t.AssigneeID == p.UserID }))
		if !involved && !e.can(p, PermActAs) {
			return errs.Forbiddenf("only the initiator or a current assignee may copy workflow instance %s", in.ID)
		}
		sender := Operator{ID: p.UserID, Code: p.UserCode, Name: p.DisplayName}
		if p.UserID != "" {
			op, err := e.operator(ctx, p, p.UserID)
			if err != nil {
				return err
			}
			sender = op
		}
		if err := e.copyUsers(ctx, in, req.Users, sender, req.Comment, s.now); err != nil {
			return err
		}
		if err := s.saveInstance(ctx, sender); err != nil {
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

// copyUsers copies the instance to users (ids or login names): one wfcc
// document and one in-system message each, the user added to in.CC (the
// caller saves the instance); users already copied are skipped.
func (e *Engine) copyUsers(ctx context.Context, in *Instance, users []string, sender Operator, comment string, now int64) error {
	node, _ := in.CurrentNode()
	for _, ref := range users {
		ref = strings.TrimSpace(ref)
		if ref == "" {
			continue
		}
		u, err := e.findUser(ctx, in.Tenant, ref)
		if errs.CodeOf(err) == errs.NotFound {
			return errs.Invalidf("cc user %q is not a user of this tenant", ref).WithTarget("users")
		} else if err != nil {
			return err
		}
		to := userOperator(u)
		if slices.Contains(in.CC, to.ID) {
			continue
		}
		n, err := e.st.Count(ctx, CollCC, in.Tenant, query.AndOf(eq("wfInstanceId", in.ID), eq("employeeId", to.ID)))
		if err != nil {
			return err
		}
		in.CC = append(in.CC, to.ID)
		if n > 0 {
			continue
		}
		if err := e.st.Insert(ctx, CollCC, store.Doc{"id": store.NewID(), "corpId": in.Tenant,
			"wfInstanceId": in.ID, "dataId": in.DataID, "formId": in.FormID, "appId": in.AppID,
			"definitionName": in.DefinitionName, "nodeId": node.ID, "nodeName": nodeName(node),
			"employeeId": to.ID, "sender": sender.doc(), "comment": comment, "isRead": false,
			"createTime": now, "updateTime": now, "createBy": sender.doc(), "updateBy": sender.doc()}); err != nil {
			return err
		}
		if err := e.st.Insert(ctx, CollMessage, store.Doc{"id": store.NewID(), "corpId": in.Tenant,
			"title": "抄送：" + in.DefinitionName, "detail": in.FormName + " · " + in.Initiator.Name,
			"url": "/api/v1/formdata/" + in.DataID, "receiverEmpId": to.ID, "receiverName": to.Name,
			"isRead": false, "category": int64(0), "dataId": in.DataID, "wfInstanceId": in.ID,
			"createTime": now, "updateTime": now, "createBy": sender.doc(), "updateBy": sender.doc()}); err != nil {
			return err
		}
	}
	return nil
}

// Box names a task list.
type Box string

// The task lists.
const (
	BoxTodo    Box = "todo"    // pending tasks of the user
	BoxDone    Box = "done"    // instances the user decided, transferred or returned a task of
	BoxStarted Box = "started" // instances the user initiated
	BoxCC      Box = "cc"      // instances copied to the user
	// BoxHandled: running instances in which the user handled a task and
	// holds no pending one (e-office already-do).
	BoxHandled Box = "handled"
	// BoxFinished: ended instances the user had a task in (e-office finished).
	BoxFinished Box = "finished"
	// BoxOvertime: the user's pending tasks past their deadline.
	BoxOvertime Box = "overtime"
	// BoxMonitor: running instances of the tenant, for holders of
	// PermMonitor (empty for others).
	BoxMonitor Box = "monitor"
	// BoxSearch: every instance the user may see (Inspect's rule).
	BoxSearch Box = "search"
)

// Boxes lists every task list.
var Boxes = []Box{BoxTodo, BoxDone, BoxStarted, BoxCC, BoxHandled, BoxFinished, BoxOvertime, BoxMonitor, BoxSearch}

// Sort keys of TaskQuery.SortBy.
const (
	SortCreateTime = "createTime" // when the task was issued / the instance started
	SortUpdateTime = "updateTime" // the instance's last step
)

// TaskQuery selects one task list.
type TaskQuery struct {
	Box Box
	// UserID is whose list ("" = the caller; another user needs PermActAs).
	UserID string
	// DataID, InstanceID and Status ("running", "approved", …; not for
	// todo) optionally narrow the list.
	DataID, InstanceID string
	Status             Status
	// InstanceIDs, DefinitionIDs (ids or keys), Initiators (user ids) and
	// Title (contained in the instance's title) narrow the list further;
	// with any of them, or SortBy, the todo and cc lists are read through
	// the instances (one item per instance, ordered by the instance).
	InstanceIDs, DefinitionIDs, Initiators []string
	Title                                  string
	// SortBy is SortCreateTime or SortUpdateTime (default: the box's
	// order), newest first unless Asc.
	SortBy string
	Asc    bool
	// WithSteps adds every task of the instance to each item (Steps).
	WithSteps bool
	// Limit (≤ 0 = query.MaxTop, capped there) and Offset page the list;
	// Count asks for the total.
	Limit, Offset int
	Count         bool
}

// TaskInfo is one task of an instance as the lists show it.
type TaskInfo struct {
	TaskID     string `json:"taskId"`
	NodeID     string `json:"nodeId"`
	NodeName   string `json:"nodeName"`
	AssigneeID string `json:"assigneeId"`
	Status     string `json:"status"`
	// Step is the task's step number (1 = the first activation).
	Step       int64  `json:"step"`
	Host       bool   `json:"host"`
	Back       bool   `json:"back"`
	From       string `json:"from,omitempty"`
	FromNode   string `json:"fromNode,omitempty"`
	CreateTime int64  `json:"createTime"`
	DecideTime int64  `json:"decideTime,omitempty"`
	Deadline   int64  `json:"deadline,omitempty"`
}

func taskInfo(t Task) TaskInfo {
	return TaskInfo{TaskID: t.ID, NodeID: t.NodeID, NodeName: t.NodeName, AssigneeID: t.AssigneeID, Status: t.Status,
		Step: t.Round, Host: t.Host, Back: t.Back, From: t.From, FromNode: t.FromNode, CreateTime: t.CreateTime,
		DecideTime: t.DecideTime, Deadline: t.Deadline}
}

// TaskItem is one entry of a task list: the instance and, in todo, the
// pending task.
type TaskItem struct {
	// TaskID, NodeID, NodeName: the pending task (todo) or the current node.
	TaskID         string   `json:"taskId,omitempty"`
	NodeID         string   `json:"nodeId,omitempty"`
	NodeName       string   `json:"nodeName,omitempty"`
	InstanceID     string   `json:"wfInstanceId"`
	DataID         string   `json:"dataId"`
	FormID         string   `json:"formId"`
	AppID          string   `json:"appId"`
	DefinitionName string   `json:"definitionName"`
	Status         Status   `json:"status"`
	Initiator      Operator `json:"initiator"`
	// CreateTime is when the task was issued (todo), copied (cc) or the
	// instance started (done, started); UpdateTime the instance's last step.
	CreateTime int64 `json:"createTime"`
	UpdateTime int64 `json:"updateTime"`
	// The instance: its definition, description and current step number.
	DefinitionID  string `json:"definitionId,omitempty"`
	DefinitionKey string `json:"definitionKey,omitempty"`
	Title         string `json:"title,omitempty"`
	Serial        string `json:"serial,omitempty"`
	Urgency       int64  `json:"urgency"`
	Step          int64  `json:"step"`
	StartTime     int64  `json:"startTime"`
	// Task is the list user's task the item is about: the pending one
	// (todo, overtime), else the user's latest task in the instance (nil
	// when the user has none).
	Task *TaskInfo `json:"task,omitempty"`
	// Steps are every task of the instance (TaskQuery.WithSteps).
	Steps []TaskInfo `json:"steps,omitempty"`
}

// TaskList is one page of a task list; Total is -1 unless counted.
type TaskList struct {
	Items []TaskItem
	Total int64
}

// decidedStatuses are the task states that count as "done" by their assignee.
var decidedStatuses = []any{TaskApproved, TaskRejected, TaskTransferred, TaskReturned}

func strsAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func taskOf(user string, pred query.Expr) query.Expr {
	return query.AnyRow{Array: query.Path{"tasks"}, Pred: query.AndOf(eq("assigneeId", user), pred)}
}

// Tasks lists one of the user's task lists, newest first (todo: oldest
// first, as Pending).
func (e *Engine) Tasks(ctx context.Context, p *principal.Principal, q TaskQuery) (*TaskList, error) {
	if p == nil || p.Tenant == "" {
		return nil, errs.Unauthorizedf("no caller")
	}
	user := q.UserID
	if user == "" {
		user = p.UserID
	}
	if user == "" {
		return nil, errs.Invalidf("the task lists need a user").WithTarget("userId")
	}
	if user != p.UserID && !e.can(p, PermActAs) {
		return nil, errs.Forbiddenf("listing another user's tasks needs the %s permission", PermActAs)
	}
	if q.Offset < 0 {
		return nil, errs.Invalidf("offset must not be negative").WithTarget("offset")
	}
	if len(q.InstanceIDs)+len(q.DefinitionIDs)+len(q.Initiators) > query.MaxTop {
		return nil, errs.Invalidf("at most %d ids per list query", query.MaxTop).WithTarget("instanceIds")
	}
	limit := q.Limit
	if limit <= 0 || limit > query.MaxTop {
		limit = query.MaxTop
	}
	rich := len(q.InstanceIDs)+len(q.DefinitionIDs)+len(q.Initiators) > 0 || q.Title != "" || q.SortBy != ""
	var coll string
	var f []query.Expr
	sortPath := "createTime"
	desc := true
	pending := query.Expr(eq("status", TaskPending))
	switch q.Box {
	case BoxTodo:
		if rich {
			coll, f = CollInstance, []query.Expr{taskOf(user, pending)}
		} else {
			coll, f, desc = CollTodo, []query.Expr{eq("employeeId", user)}, false
		}
	case BoxOvertime:
		coll, f, desc = CollTodo, []query.Expr{eq("employeeId", user),
			query.Cmp{Path: query.Path{"expireTime"}, Op: query.Lt, Value: float64(e.now().UnixMilli())}}, false
		if rich {
			return nil, errs.Invalidf("the overtime list takes no instance filters").WithTarget("box")
		}
	case BoxCC:
		if rich {
			coll, f = CollInstance, []query.Expr{query.AnyRow{Array: query.Path{"cc"}, Pred: eq("id", user)}}
		} else {
			coll, f = CollCC, []query.Expr{eq("employeeId", user)}
		}
	case BoxStarted:
		coll, f = CollInstance, []query.Expr{query.Cmp{Path: query.Path{"initiator", "id"}, Op: query.Eq, Value: user}}
	case BoxDone:
		coll, f = CollInstance, []query.Expr{taskOf(user, query.In{Path: query.Path{"status"}, Values: decidedStatuses})}
	case BoxHandled:
		coll, f = CollInstance, []query.Expr{eq("status", string(StatusRunning)),
			taskOf(user, query.In{Path: query.Path{"status"}, Values: decidedStatuses}),
			query.Not{X: taskOf(user, pending)}}
		sortPath = "updateTime"
	case BoxFinished:
		coll, f = CollInstance, []query.Expr{query.Not{X: eq("status", string(StatusRunning))}, taskOf(user, nil)}
		sortPath = "updateTime"
	case BoxMonitor:
		if !e.can(p, PermMonitor) {
			f = []query.Expr{query.Const{Value: false}}
		}
		coll, f = CollInstance, append(f, eq("status", string(StatusRunning)))
		sortPath = "updateTime"
	case BoxSearch:
		coll = CollInstance
		if !e.can(p, PermMonitor) || user != p.UserID {
			f = []query.Expr{query.Or{Items: []query.Expr{
				query.Cmp{Path: query.Path{"initiator", "id"}, Op: query.Eq, Value: user},
				taskOf(user, nil),
				query.AnyRow{Array: query.Path{"cc"}, Pred: eq("id", user)}}}}
		}
		sortPath = "updateTime"
	default:
		return nil, errs.Invalidf("unknown task list %q (todo, done, started, cc, handled, finished, overtime, monitor, search)", q.Box).WithTarget("box")
	}
	switch q.SortBy {
	case "":
	case SortCreateTime, SortUpdateTime:
		sortPath, desc = q.SortBy, !q.Asc
	default:
		return nil, errs.Invalidf("sortBy must be %s or %s", SortCreateTime, SortUpdateTime).WithTarget("sortBy")
	}
	if coll == CollTodo && q.SortBy != "" {
		sortPath = "createTime" // a task's own time
	}
	if q.DataID != "" {
		f = append(f, eq("dataId", q.DataID))
	}
	if q.InstanceID != "" {
		if coll == CollInstance {
			f = append(f, eq("id", q.InstanceID))
		} else {
			f = append(f, eq("wfInstanceId", q.InstanceID))
		}
	}
	if coll == CollInstance {
		if q.Status != "" {
			f = append(f, eq("status", string(q.Status)))
		}
		if len(q.InstanceIDs) > 0 {
			f = append(f, query.In{Path: query.Path{"id"}, Values: strsAny(q.InstanceIDs)})
		}
		if len(q.DefinitionIDs) > 0 {
			f = append(f, query.Or{Items: []query.Expr{query.In{Path: query.Path{"definitionId"}, Values: strsAny(q.DefinitionIDs)},
				query.In{Path: query.Path{"definitionKey"}, Values: strsAny(q.DefinitionIDs)}}})
		}
		if len(q.Initiators) > 0 {
			f = append(f, query.In{Path: query.Path{"initiator", "id"}, Values: strsAny(q.Initiators)})
		}
		if q.Title != "" {
			f = append(f, query.Str{Path: query.Path{"title"}, Fn: query.Contains, Value: q.Title})
		}
	}
	filter := query.AndOf(f...)
	out := &TaskList{Items: []TaskItem{}, Total: -1}
	if q.Count {
		n, err := e.st.Count(ctx, coll, p.Tenant, filter)
		if err != nil {
			return nil, err
		}
		out.Total = n
	}
	sort := []query.Sort{{Path: query.Path{sortPath}, Desc: desc}}
	docs, err := e.st.Find(ctx, coll, p.Tenant, query.Query{Filter: filter, Sort: sort, Limit: limit, Offset: q.Offset})
	if err != nil {
		return nil, err
	}
	// todo and cc entries name their instance: load the instances in one query.
	insts := map[string]store.Doc{}
	if coll != CollInstance && len(docs) > 0 {
		var ids []any
		for _, d := range docs {
			ids = append(ids, str(d, "wfInstanceId"))
		}
		found, err := e.st.Find(ctx, CollInstance, p.Tenant, query.Query{
			Filter: query.In{Path: query.Path{"id"}, Values: ids}, Limit: -1})
		if err != nil {
			return nil, err
		}
		for _, d := range found {
			insts[str(d, "id")] = d
		}
	}
	for _, d := range docs {
		it := TaskItem{DataID: str(d, "dataId"), FormID: str(d, "formId"), AppID: str(d, "appId"),
			DefinitionName: str(d, "definitionName"), CreateTime: i64(d, "createTime"), UpdateTime: i64(d, "updateTime")}
		inst := d
		if coll == CollInstance {
			it.InstanceID = str(d, "id")
		} else {
			it.InstanceID = str(d, "wfInstanceId")
			inst = insts[it.InstanceID]
		}
		if coll == CollTodo {
			it.TaskID, it.NodeID, it.NodeName = str(d, "id"), str(d, "approveNodeId"), str(d, "approveNodeName")
		}
		if inst != nil {
			it.Status = Status(str(inst, "status"))
			it.Initiator = operatorOf(inst["initiator"])
			it.UpdateTime = i64(inst, "updateTime")
			it.StartTime = i64(inst, "createTime")
			it.DefinitionID, it.DefinitionKey = str(inst, "definitionId"), str(inst, "definitionKey")
			it.Title, it.Serial, it.Urgency, it.Step = str(inst, "title"), str(inst, "serial"), i64(inst, "urgency"), i64(inst, "round")
			if in, err := instanceFromDoc(inst); err == nil {
				if coll != CollTodo {
					if n, ok := in.CurrentNode(); ok && in.Status == StatusRunning {
						it.NodeID, it.NodeName = n.ID, nodeName(n)
					}
				}
				it.Task = userTask(in, user, it.TaskID, q.Box == BoxTodo)
				if q.Box == BoxTodo && it.Task != nil && coll == CollInstance {
					it.TaskID, it.NodeID, it.NodeName = it.Task.TaskID, it.Task.NodeID, it.Task.NodeName
					it.CreateTime = it.Task.CreateTime
				}
				if q.WithSteps {
					it.Steps = make([]TaskInfo, len(in.Tasks))
					for i, t := range in.Tasks {
						it.Steps[i] = taskInfo(t)
					}
				}
			}
		}
		out.Items = append(out.Items, it)
	}
	return out, nil
}

// userTask is the user's task an item is about: taskID when given, the
// pending one (pendingOnly), else the user's latest task.
func userTask(in *Instance, user, taskID string, pendingOnly bool) *TaskInfo {
	for i := len(in.Tasks) - 1; i >= 0; i-- {
		t := in.Tasks[i]
		switch {
		case taskID != "":
			if t.ID != taskID {
				continue
			}
		case t.AssigneeID != user, pendingOnly && t.Status != TaskPending:
			continue
		}
		ti := taskInfo(t)
		return &ti
	}
	return nil
}
