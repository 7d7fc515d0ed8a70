package workflow

import (
	"context"
	"slices"

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
	err = e.step(ctx, p, req.InstanceID, req.DataID, ActReturn, func(ctx context.Context, s *stepCtx) error {
		ti, err := s.findTask(req.TaskID, req.NodeID, actorID)
		if err != nil {
			return err
		}
		in := s.in
		cur, _ := in.CurrentNode()
		target, err := returnTarget(in, req.ToNode)
		if err != nil {
			return err
		}
		actor, err := e.operator(ctx, p, actorID)
		if err != nil {
			return err
		}
		if err := s.closeTask(ctx, ti, TaskReturned); err != nil {
			return err
		}
		for i := range in.Tasks {
			if in.Tasks[i].Status == TaskPending {
				if err := s.closeTask(ctx, i, TaskClosed); err != nil {
					return err
				}
			}
		}
		if err := e.appendLog(ctx, in, cur, actor, ResultReturn, req.Comment, "", s.now); err != nil {
			return err
		}
		in.Round++
		if target < 0 {
			in.NodeIndex = -1
			if _, err := e.issue(ctx, in, in.startNode(), in.Initiator, s.now); err != nil {
				return err
			}
		} else {
			n := in.Def.Nodes[target]
			users, err := e.assignees(ctx, in, n)
			if err != nil {
				return err
			}
			in.NodeIndex = target
			for _, u := range users {
				if _, err := e.issue(ctx, in, n, u, s.now); err != nil {
					return err
				}
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
		node, _ := in.CurrentNode()
		for _, ref := range req.Users {
			u, err := e.findUser(ctx, in.Tenant, ref)
			if errs.CodeOf(err) == errs.NotFound {
				return errs.Invalidf("cc user %q is not a user of this tenant", ref).WithTarget("users")
			} else if err != nil {
				return err
			}
			to := userOperator(u)
			n, err := e.st.Count(ctx, CollCC, in.Tenant, query.AndOf(eq("wfInstanceId", in.ID), eq("employeeId", to.ID)))
			if err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			if err := e.st.Insert(ctx, CollCC, store.Doc{"id": store.NewID(), "corpId": in.Tenant,
				"wfInstanceId": in.ID, "dataId": in.DataID, "formId": in.FormID, "appId": in.AppID,
				"definitionName": in.DefinitionName, "nodeId": node.ID, "nodeName": nodeName(node),
				"employeeId": to.ID, "sender": sender.doc(), "comment": req.Comment, "isRead": false,
				"createTime": s.now, "updateTime": s.now, "createBy": sender.doc(), "updateBy": sender.doc()}); err != nil {
				return err
			}
			if err := e.st.Insert(ctx, CollMessage, store.Doc{"id": store.NewID(), "corpId": in.Tenant,
				"title": "抄送：" + in.DefinitionName, "detail": in.FormName + " · " + in.Initiator.Name,
				"url": "/api/v1/formdata/" + in.DataID, "receiverEmpId": to.ID, "receiverName": to.Name,
				"isRead": false, "category": int64(0), "dataId": in.DataID, "wfInstanceId": in.ID,
				"createTime": s.now, "updateTime": s.now, "createBy": sender.doc(), "updateBy": sender.doc()}); err != nil {
				return err
			}
		}
		res = &ActionResult{ID: in.ID, InstanceStatus: in.Status, Tasks: refs(in.Pending())}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Box names a task list.
type Box string

// The task lists.
const (
	BoxTodo    Box = "todo"    // pending tasks of the user
	BoxDone    Box = "done"    // instances the user decided, transferred or returned a task of
	BoxStarted Box = "started" // instances the user initiated
	BoxCC      Box = "cc"      // instances copied to the user
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
	// Limit (≤ 0 = query.MaxTop, capped there) and Offset page the list;
	// Count asks for the total.
	Limit, Offset int
	Count         bool
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
}

// TaskList is one page of a task list; Total is -1 unless counted.
type TaskList struct {
	Items []TaskItem
	Total int64
}

// decidedStatuses are the task states that count as "done" by their assignee.
var decidedStatuses = []any{TaskApproved, TaskRejected, TaskTransferred, TaskReturned}

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
	limit := q.Limit
	if limit <= 0 || limit > query.MaxTop {
		limit = query.MaxTop
	}
	var coll string
	var f []query.Expr
	sort := []query.Sort{{Path: query.Path{"createTime"}, Desc: true}}
	switch q.Box {
	case BoxTodo:
		coll, f = CollTodo, []query.Expr{eq("employeeId", user)}
		sort = []query.Sort{{Path: query.Path{"createTime"}}}
	case BoxCC:
		coll, f = CollCC, []query.Expr{eq("employeeId", user)}
	case BoxStarted:
		coll, f = CollInstance, []query.Expr{query.Cmp{Path: query.Path{"initiator", "id"}, Op: query.Eq, Value: user}}
	case BoxDone:
		coll, f = CollInstance, []query.Expr{query.AnyRow{Array: query.Path{"tasks"}, Pred: query.AndOf(
			eq("assigneeId", user), query.In{Path: query.Path{"status"}, Values: decidedStatuses})}}
	default:
		return nil, errs.Invalidf("unknown task list %q (todo, done, started, cc)", q.Box).WithTarget("box")
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
	if q.Status != "" && coll == CollInstance {
		f = append(f, eq("status", string(q.Status)))
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
			if coll != CollTodo {
				if in, err := instanceFromDoc(inst); err == nil {
					if n, ok := in.CurrentNode(); ok && in.Status == StatusRunning {
						it.NodeID, it.NodeName = n.ID, nodeName(n)
					}
				}
			}
		}
		out.Items = append(out.Items, it)
	}
	return out, nil
}
