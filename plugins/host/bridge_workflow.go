package host

import (
	"context"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/workflow"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// The workflow calls of the Host API v2: each action is the engine's (the
// code /api/v1/workflow/* runs) acting as p; the engine owns every rule.

// WorkflowTasks implements sdk.Host.
func (b *bridge) WorkflowTasks(ctx context.Context, p *sdk.Principal, q sdk.TaskQuery) (sdk.TaskPage, error) {
	cp, err := reader(p)
	if err != nil {
		return sdk.TaskPage{}, err
	}
	if b.wf == nil {
		return sdk.TaskPage{}, errs.New(errs.Unavailable, "the workflow engine is not available to connectors")
	}
	l, err := b.wf.Tasks(ctx, cp, workflow.TaskQuery{Box: workflow.Box(q.Box), UserID: q.UserID, DataID: q.DataID,
		InstanceID: q.InstanceID, Status: workflow.Status(q.Status), Limit: q.Limit, Offset: q.Offset, Count: q.Count,
		InstanceIDs: q.InstanceIDs, DefinitionIDs: q.DefinitionIDs, Initiators: q.Initiators, Title: q.Title,
		SortBy: q.SortBy, Asc: q.Asc, WithSteps: q.WithSteps})
	if err != nil {
		return sdk.TaskPage{}, err
	}
	out := sdk.TaskPage{Items: make([]sdk.TaskItem, len(l.Items)), Total: l.Total}
	for i, it := range l.Items {
		out.Items[i] = sdk.TaskItem{TaskID: it.TaskID, NodeID: it.NodeID, NodeName: it.NodeName, InstanceID: it.InstanceID,
			DataID: it.DataID, FormID: it.FormID, AppID: it.AppID, DefinitionName: it.DefinitionName, Status: string(it.Status),
			Initiator:  operatorRef(it.Initiator),
			CreateTime: it.CreateTime, UpdateTime: it.UpdateTime, DefinitionID: it.DefinitionID, DefinitionKey: it.DefinitionKey,
			Title: it.Title, Serial: it.Serial, Urgency: it.Urgency, Step: it.Step, StartTime: it.StartTime}
		if it.Task != nil {
			ti := sdkTaskInfo(*it.Task)
			out.Items[i].Task = &ti
		}
		if it.Steps != nil {
			out.Items[i].Steps = make([]sdk.TaskInfo, len(it.Steps))
			for j, t := range it.Steps {
				out.Items[i].Steps[j] = sdkTaskInfo(t)
			}
		}
	}
	return out, nil
}

func operatorRef(o workflow.Operator) map[string]any {
	return map[string]any{"id": o.ID, "value": o.Code, "label": o.Name}
}

func sdkTaskInfo(t workflow.TaskInfo) sdk.TaskInfo {
	return sdk.TaskInfo{TaskID: t.TaskID, NodeID: t.NodeID, NodeName: t.NodeName, AssigneeID: t.AssigneeID, Status: t.Status,
		Step: t.Step, Host: t.Host, Back: t.Back, From: t.From, FromNode: t.FromNode, CreateTime: t.CreateTime,
		DecideTime: t.DecideTime, Deadline: t.Deadline}
}

var _ sdk.WorkflowInspector = (*bridge)(nil)

// WorkflowInspect implements sdk.WorkflowInspector: Engine.Inspect as p.
func (b *bridge) WorkflowInspect(ctx context.Context, p *sdk.Principal, q sdk.InspectQuery) (*sdk.Inspection, error) {
	cp, err := reader(p)
	if err != nil {
		return nil, err
	}
	if b.wf == nil {
		return nil, errs.New(errs.Unavailable, "the workflow engine is not available to connectors")
	}
	in, err := b.wf.Inspect(ctx, cp, workflow.InspectRequest{InstanceID: q.InstanceID, DataID: q.DataID, Candidates: q.Candidates})
	if err != nil {
		return nil, err
	}
	i := in.Instance
	out := &sdk.Inspection{InstanceID: i.ID, DataID: i.DataID, FormID: i.FormID, DefinitionID: i.DefinitionID,
		DefinitionKey: i.DefinitionKey, DefinitionName: i.DefinitionName, Status: string(i.Status),
		Initiator: operatorRef(i.Initiator), Title: i.Title, Serial: i.Serial, Urgency: i.Urgency, Step: i.Round,
		CC: append([]string{}, i.CC...), CreateTime: i.CreateTime, UpdateTime: i.UpdateTime,
		Steps: make([]sdk.TaskInfo, len(i.Tasks)), Turn: flowNodes(in.Turn), Back: flowNodes(in.Back),
		CanEnd: in.CanEnd, Free: in.Free, Candidates: map[string][]map[string]any{}}
	if n, ok := i.CurrentNode(); ok && i.Status == workflow.StatusRunning {
		out.CurrentNode = &sdk.FlowNode{ID: n.ID, Name: n.Name, Index: i.NodeIndex}
	}
	for j, t := range i.Tasks {
		out.Steps[j] = sdk.TaskInfo{TaskID: t.ID, NodeID: t.NodeID, NodeName: t.NodeName, AssigneeID: t.AssigneeID,
			Status: t.Status, Step: t.Round, Host: t.Host, Back: t.Back, From: t.From, FromNode: t.FromNode,
			CreateTime: t.CreateTime, DecideTime: t.DecideTime, Deadline: t.Deadline}
	}
	for node, users := range in.Candidates {
		refs := make([]map[string]any, len(users))
		for j, u := range users {
			refs[j] = operatorRef(u)
		}
		out.Candidates[node] = refs
	}
	return out, nil
}

func flowNodes(ns []workflow.NodeRef) []sdk.FlowNode {
	out := make([]sdk.FlowNode, len(ns))
	for i, n := range ns {
		out[i] = sdk.FlowNode{ID: n.ID, Name: n.Name, Index: n.Index}
	}
	return out
}

// WorkflowAct implements sdk.Host.
func (b *bridge) WorkflowAct(ctx context.Context, p *sdk.Principal, a sdk.WorkflowAction) (*sdk.WorkflowResult, error) {
	cp, err := writer(p)
	if err != nil {
		return nil, err
	}
	if b.wf == nil {
		return nil, errs.New(errs.Unavailable, "the workflow engine is not available to connectors")
	}
	switch a.Action {
	case sdk.ActStart:
		req := workflow.StartRequest{DefinitionID: a.DefinitionID, Form: a.Form,
			BusinessKey: a.DataID, Variables: a.Variables, Initiator: a.Actor, AtStart: a.AtStart}
		if a.Title != nil {
			req.Title = *a.Title
		}
		if a.Serial != nil {
			req.Serial = *a.Serial
		}
		if a.Urgency != nil {
			req.Urgency = *a.Urgency
		}
		r, err := b.wf.Start(ctx, cp, req)
		if err != nil {
			return nil, err
		}
		return wfResult(r.ID, r.Status, r.Tasks), nil
	case sdk.ActApprove, sdk.ActReject:
		res := workflow.ActAgree
		if a.Action == sdk.ActReject {
			res = workflow.ActReject
		}
		r, err := b.wf.Decide(ctx, cp, workflow.DecideRequest{InstanceID: a.InstanceID, DataID: a.DataID, TaskID: a.TaskID,
			NodeID: a.NodeID, Result: res, Comment: a.Comment, Signature: a.Signature, Approver: a.Actor, Variables: a.Variables})
		if err != nil {
			return nil, err
		}
		return wfResult(r.ID, r.InstanceStatus, r.Tasks), nil
	case sdk.ActHandover:
		r, err := b.wf.Handover(ctx, cp, workflow.HandoverRequest{InstanceID: a.InstanceID, DataID: a.DataID, TaskID: a.TaskID,
			StepGuard: workflow.StepGuard{StaleTaskID: a.StaleTaskID, Step: a.Step}, ToNode: a.ToNode, ToSender: a.ToSender, Host: a.Host,
			Participants: a.Participants, CC: a.CC, Deadline: a.Deadline, Comment: a.Comment, Signature: a.Signature,
			Actor: a.Actor, Variables: a.Variables})
		if err != nil {
			return nil, err
		}
		return wfResult(r.ID, r.InstanceStatus, r.Tasks), nil
	}
	var r *workflow.ActionResult
	switch a.Action {
	case sdk.ActReturn:
		r, err = b.wf.Return(ctx, cp, workflow.ReturnRequest{InstanceID: a.InstanceID, DataID: a.DataID, TaskID: a.TaskID,
			NodeID: a.NodeID, ToNode: a.ToNode, Comment: a.Comment, Actor: a.Actor,
			StepGuard: workflow.StepGuard{StaleTaskID: a.StaleTaskID, Step: a.Step}, Host: a.Host, Participants: a.Participants})
	case sdk.ActDescribe:
		r, err = b.wf.Describe(ctx, cp, workflow.DescribeRequest{InstanceID: a.InstanceID, DataID: a.DataID,
			Title: a.Title, Serial: a.Serial, Urgency: a.Urgency, Actor: a.Actor})
	case sdk.ActTransfer:
		r, err = b.wf.Transfer(ctx, cp, workflow.TransferRequest{InstanceID: a.InstanceID, DataID: a.DataID, TaskID: a.TaskID,
			NodeID: a.NodeID, Targets: a.Users, Comment: a.Comment, Actor: a.Actor})
	case sdk.ActWithdraw:
		if a.Actor != "" && a.Actor != cp.UserID {
			return nil, errs.Forbiddenf("only the initiator can withdraw a workflow instance")
		}
		r, err = b.wf.Withdraw(ctx, cp, workflow.WithdrawRequest{InstanceID: a.InstanceID, DataID: a.DataID, Comment: a.Comment})
	case sdk.ActCC:
		if a.Actor != "" && a.Actor != cp.UserID {
			return nil, errs.Forbiddenf("cc acts as the principal's own user")
		}
		r, err = b.wf.CC(ctx, cp, workflow.CCRequest{InstanceID: a.InstanceID, DataID: a.DataID, Users: a.Users, Comment: a.Comment})
	default:
		return nil, errs.Invalidf("unknown workflow action %q (start, approve, reject, return, transfer, withdraw, cc, handover, describe)", a.Action).WithTarget("action")
	}
	if err != nil {
		return nil, err
	}
	return wfResult(r.ID, r.InstanceStatus, r.Tasks), nil
}

func wfResult(id string, st workflow.Status, tasks []workflow.TaskRef) *sdk.WorkflowResult {
	out := &sdk.WorkflowResult{InstanceID: id, Status: string(st), Tasks: make([]sdk.TaskRef, len(tasks))}
	for i, t := range tasks {
		out.Tasks[i] = sdk.TaskRef{TaskID: t.TaskID, NodeID: t.NodeID, NodeName: t.NodeName, AssigneeID: t.AssigneeID,
			Host: t.Host, Step: t.Step}
	}
	return out
}
