package dabei

import (
	"context"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Workflow tasks (spec 6): the process of a record is its latest
// workflow instance (process.id = the record id); tasks are its pending
// steps.

func (c *Call) inspector() (sdk.WorkflowInspector, error) {
	ins, ok := c.Host.(sdk.WorkflowInspector)
	if !ok {
		return nil, sdk.Errorf(sdk.Unavailable, "the hub offers no workflow inspection")
	}
	return ins, nil
}

// inspect returns the record's latest instance as p sees it (nil when
// there is none or p may not see it).
func (c *Call) inspect(ctx context.Context, p *sdk.Principal, record string) (*sdk.Inspection, error) {
	ins, err := c.inspector()
	if err != nil {
		return nil, err
	}
	in, err := ins.WorkflowInspect(ctx, p, sdk.InspectQuery{DataID: record})
	if err != nil {
		switch sdk.CodeOf(err) {
		case sdk.NotFound, sdk.Forbidden:
			return nil, nil
		}
		return nil, err
	}
	return in, nil
}

// taskObjs renders pending steps as Dabei task objects.
func (c *Call) taskObjs(ctx context.Context, in *sdk.Inspection, steps []sdk.TaskInfo, recordExt string) ([]Obj, error) {
	var tids, uids []string
	for _, s := range steps {
		tids = append(tids, s.TaskID)
		uids = append(uids, s.AssigneeID)
	}
	text, err := c.ExtIDs(ctx, kindTask, tids)
	if err != nil {
		return nil, err
	}
	uext, err := c.ExtIDs(ctx, kindUser, uids)
	if err != nil {
		return nil, err
	}
	out := []Obj{}
	for _, s := range steps {
		out = append(out, Obj{{"taskId", text[s.TaskID]}, {"taskName", s.NodeName},
			{"process", Obj{{"id", recordExt}, {"definitionName", in.DefinitionName}}},
			{"nodeId", s.NodeID}, {"assigneeId", uext[s.AssigneeID]}, {"createTime", s.CreateTime}})
	}
	return out, nil
}

// pending returns the pending steps of a running instance (of assignee
// when set).
func pending(in *sdk.Inspection, assignee string) []sdk.TaskInfo {
	var out []sdk.TaskInfo
	if in == nil || in.Status != "running" {
		return out
	}
	for _, s := range in.Steps {
		if s.Status == "pending" && (assignee == "" || s.AssigneeID == assignee) {
			out = append(out, s)
		}
	}
	return out
}

// pendingTasks lists the record's pending tasks as p sees them.
func (c *Call) pendingTasks(ctx context.Context, p *sdk.Principal, record, recordExt, assignee string) ([]Obj, error) {
	in, err := c.inspect(ctx, p, record)
	if err != nil {
		return nil, err
	}
	return c.taskObjs(ctx, in, pending(in, assignee), recordExt)
}

// taskRecord resolves the path's form and record (the record must exist
// in the form; 10002 otherwise).
func (c *Call) taskRecord(ctx context.Context) (*sdk.Form, string, error) {
	f, err := c.form(ctx)
	if err != nil {
		return nil, "", err
	}
	ext := c.Param("record_id")
	hub, err := c.recordID(ctx, ext)
	if err != nil {
		return nil, "", err
	}
	if _, err := c.Host.GetRecord(ctx, c.Svc, f.ID, hub); err != nil {
		if sdk.CodeOf(err) == sdk.NotFound {
			return nil, "", notFound("record_id", ext)
		}
		return nil, "", err
	}
	return f, hub, nil
}

// taskList serves GET …/records/{record_id}/tasks (spec 6.1).
func taskList(ctx context.Context, c *Call) (*result, error) {
	_, hub, err := c.taskRecord(ctx)
	if err != nil {
		return nil, err
	}
	p, err := c.actingFromInput(ctx)
	if err != nil {
		return nil, err
	}
	tasks, err := c.pendingTasks(ctx, p, hub, c.Param("record_id"), p.UserID)
	if err != nil {
		return nil, err
	}
	return &result{data: tasks, bare: c.Cfg.BareTaskList}, nil
}

// reqKeys are the request-object wrappers (spec 6.2), any of them for any
// operation.
var reqKeys = []string{"submitReq", "denyReq", "transferReq"}

// actionObject returns the request object: a wrapper key's object (or a
// string holding it), else the flat body.
func (c *Call) actionObject() (map[string]any, bool, error) {
	for _, k := range reqKeys {
		if v, ok := c.In.Body[k]; ok && v != nil {
			m, err := Object(k, v)
			if err != nil {
				return nil, false, err
			}
			if m == nil {
				m = map[string]any{}
			}
			return m, true, nil
		}
	}
	return c.In.Body, false, nil
}

// action is a parsed submit/deny/transfer request.
type action struct {
	user        string
	comment     string
	variables   map[string]any
	transferIDs []string
	hasTransfer bool
}

func (c *Call) parseAction(obj map[string]any) (*action, error) {
	a := &action{}
	for _, k := range []string{"userId", "user_id"} {
		s, err := scalarString(k, obj[k])
		if err != nil {
			return nil, err
		}
		if s != "" {
			a.user = s
			break
		}
	}
	if a.user == "" {
		s, err := c.In.userParam()
		if err != nil {
			return nil, err
		}
		a.user = s
	}
	approve, err := Object("approve", obj["approve"])
	if err != nil {
		return nil, err
	}
	if approve != nil {
		if a.comment, err = scalarString("approve.content", approve["content"]); err != nil {
			return nil, err
		}
		for _, k := range []string{"attachments", "images"} {
			if v, ok := approve[k]; ok && v != nil {
				arr, isArr := v.([]any)
				if !isArr {
					return nil, Failf(CodeInvalid, "参数错误：approve.%s 必须是数组", k)
				}
				for _, x := range arr {
					if _, isStr := x.(string); !isStr {
						return nil, Failf(CodeInvalid, "参数错误：approve.%s 必须是字符串数组", k)
					}
				}
			}
		}
	}
	vars := obj["variables"]
	if vars == nil && approve != nil {
		vars = approve["variables"]
	}
	if a.variables, err = Object("variables", vars); err != nil {
		return nil, err
	}
	if v, ok := obj["transferIds"]; ok && v != nil {
		a.hasTransfer = true
		arr, isArr := v.([]any)
		if !isArr {
			return nil, Failf(CodeInvalid, "参数错误：transferIds 必须是数组")
		}
		for _, x := range arr {
			s, isStr := x.(string)
			if !isStr || s == "" {
				return nil, Failf(CodeInvalid, "参数错误：transferIds 必须是用户id数组")
			}
			a.transferIDs = append(a.transferIDs, s)
		}
	}
	return a, nil
}

// actionTask resolves the path's task as a step of the record's instance
// visible to p; 10002 when it is none.
func (c *Call) actionTask(ctx context.Context, p *sdk.Principal, record string) (*sdk.Inspection, *sdk.TaskInfo, error) {
	ext := c.Param("task_id")
	hub, err := c.HubID(ctx, kindTask, ext)
	if err != nil {
		return nil, nil, err
	}
	in, err := c.inspect(ctx, p, record)
	if err != nil {
		return nil, nil, err
	}
	if in == nil || hub == "" {
		return nil, nil, notFound("task_id", ext)
	}
	for i := range in.Steps {
		if in.Steps[i].TaskID == hub {
			return in, &in.Steps[i], nil
		}
	}
	return nil, nil, notFound("task_id", ext)
}

// decide runs submit, deny or transfer.
func decide(ctx context.Context, c *Call, act string) (*result, error) {
	if err := c.checkPathCopies(c.In.Body); err != nil {
		return nil, err
	}
	obj, wrapped, err := c.actionObject()
	if err != nil {
		return nil, err
	}
	if wrapped {
		if err := c.checkPathCopies(obj); err != nil {
			return nil, err
		}
	}
	a, err := c.parseAction(obj)
	if err != nil {
		return nil, err
	}
	if act == sdk.ActTransfer && !a.hasTransfer {
		if _, top := c.In.Body["user_id"]; top && *c.Cfg.RevokeOnTransferPath {
			return taskRevoke(ctx, c)
		}
		return nil, missing("transferIds")
	}
	f, record, err := c.taskRecord(ctx)
	if err != nil {
		return nil, err
	}
	p, err := c.actingUser(ctx, a.user)
	if err != nil {
		return nil, err
	}
	wa := sdk.WorkflowAction{Action: act, Comment: a.comment}
	if a.variables != nil {
		if wa.Variables, err = c.recordData(ctx, f, a.variables); err != nil {
			return nil, err
		}
	}
	if act == sdk.ActTransfer {
		if len(a.transferIDs) == 0 {
			return nil, missing("transferIds")
		}
		for _, ext := range a.transferIDs {
			hub, err := c.HubID(ctx, kindUser, ext)
			if err != nil {
				return nil, err
			}
			u, err := c.findUser(ctx, "id", hub)
			if err != nil {
				return nil, err
			}
			if u == nil {
				return nil, notFound("transferIds", ext)
			}
			wa.Users = append(wa.Users, hub)
		}
	}
	in, step, err := c.actionTask(ctx, p, record)
	if err != nil {
		return nil, err
	}
	if step.Status != "pending" {
		return nil, Fail(CodeConflict)
	}
	if step.AssigneeID != p.UserID {
		return nil, Failf(CodeForbidden, "没有权限：不是该任务的处理人")
	}
	wa.TaskID, wa.InstanceID = step.TaskID, in.InstanceID
	// variables are the instance's variables (the engine's), validated
	// against the form; the record itself is locked while it is approving
	// (only the workflow changes it), so they do not change its fields
	// (docs/DEVIATIONS.md).
	if _, err := c.Host.WorkflowAct(ctx, p, wa); err != nil {
		return nil, err
	}
	return ok(nil), nil
}

func taskSubmit(ctx context.Context, c *Call) (*result, error) { return decide(ctx, c, sdk.ActApprove) }
func taskDeny(ctx context.Context, c *Call) (*result, error)   { return decide(ctx, c, sdk.ActReject) }
func taskTransfer(ctx context.Context, c *Call) (*result, error) {
	return decide(ctx, c, sdk.ActTransfer)
}

// taskRevoke serves POST …/tasks/{task_id}/revoke (spec 6.5): the
// initiator withdraws the process; the record returns to draft.
func taskRevoke(ctx context.Context, c *Call) (*result, error) {
	if err := c.checkPathCopies(c.In.Body); err != nil {
		return nil, err
	}
	_, record, err := c.taskRecord(ctx)
	if err != nil {
		return nil, err
	}
	p, err := c.actingFromInput(ctx)
	if err != nil {
		return nil, err
	}
	in, step, err := c.actionTask(ctx, p, record)
	if err != nil {
		return nil, err
	}
	if in.Status != "running" || step.Status != "pending" {
		return nil, Failf(CodeConflict, "流程已结束")
	}
	if id, _ := in.Initiator["id"].(string); id != p.UserID {
		return nil, Failf(CodeForbidden, "只有发起人可以撤销")
	}
	if _, err := c.Host.WorkflowAct(ctx, p, sdk.WorkflowAction{Action: sdk.ActWithdraw, InstanceID: in.InstanceID}); err != nil {
		return nil, err
	}
	return ok(nil), nil
}
