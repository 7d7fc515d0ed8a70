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
		InstanceID: q.InstanceID, Status: workflow.Status(q.Status), Limit: q.Limit, Offset: q.Offset, Count: q.Count})
	if err != nil {
		return sdk.TaskPage{}, err
	}
	out := sdk.TaskPage{Items: make([]sdk.TaskItem, len(l.Items)), Total: l.Total}
	for i, it := range l.Items {
		out.Items[i] = sdk.TaskItem{TaskID: it.TaskID, NodeID: it.NodeID, NodeName: it.NodeName, InstanceID: it.InstanceID,
			DataID: it.DataID, FormID: it.FormID, AppID: it.AppID, DefinitionName: it.DefinitionName, Status: string(it.Status),
			Initiator:  map[string]any{"id": it.Initiator.ID, "value": it.Initiator.Code, "label": it.Initiator.Name},
			CreateTime: it.CreateTime, UpdateTime: it.UpdateTime}
	}
	return out, nil
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
		r, err := b.wf.Start(ctx, cp, workflow.StartRequest{DefinitionID: a.DefinitionID, Form: a.Form,
			BusinessKey: a.DataID, Variables: a.Variables, Initiator: a.Actor, AtStart: a.AtStart})
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
	}
	var r *workflow.ActionResult
	switch a.Action {
	case sdk.ActReturn:
		r, err = b.wf.Return(ctx, cp, workflow.ReturnRequest{InstanceID: a.InstanceID, DataID: a.DataID, TaskID: a.TaskID,
			NodeID: a.NodeID, ToNode: a.ToNode, Comment: a.Comment, Actor: a.Actor})
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
		return nil, errs.Invalidf("unknown workflow action %q (start, approve, reject, return, transfer, withdraw, cc)", a.Action).WithTarget("action")
	}
	if err != nil {
		return nil, err
	}
	return wfResult(r.ID, r.InstanceStatus, r.Tasks), nil
}

func wfResult(id string, st workflow.Status, tasks []workflow.TaskRef) *sdk.WorkflowResult {
	out := &sdk.WorkflowResult{InstanceID: id, Status: string(st), Tasks: make([]sdk.TaskRef, len(tasks))}
	for i, t := range tasks {
		out.Tasks[i] = sdk.TaskRef{TaskID: t.TaskID, NodeID: t.NodeID, NodeName: t.NodeName, AssigneeID: t.AssigneeID}
	}
	return out
}
