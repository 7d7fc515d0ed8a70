package sdktest

import (
	"context"
	"slices"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
)

var _ sdk.WorkflowInspector = (*MemHost)(nil)

// WorkflowInspect implements sdk.WorkflowInspector on MemHost's small task
// model: the instance's steps are the tasks on the users' to-do (pending)
// and done lists; MemHost has no definitions, so Turn and Back are empty
// and CanEnd is true. NotFound for an instance on no list; Forbidden
// (not_visible) when p's user has no task of it and is not an admin.
func (m *MemHost) WorkflowInspect(_ context.Context, p *sdk.Principal, q sdk.InspectQuery) (*sdk.Inspection, error) {
	t, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.wf(t)
	var out *sdk.Inspection
	visible := isAdmin(p)
	match := func(it sdk.TaskItem) bool {
		return (q.InstanceID != "" && it.InstanceID == q.InstanceID) || (q.InstanceID == "" && q.DataID != "" && it.DataID == q.DataID)
	}
	for _, list := range []struct {
		items  map[string][]sdk.TaskItem
		status string
	}{{w.todo, "pending"}, {w.done, "approved"}} {
		for user, items := range list.items {
			for _, it := range items {
				if !match(it) {
					continue
				}
				if out == nil {
					out = &sdk.Inspection{InstanceID: it.InstanceID, DataID: it.DataID, FormID: it.FormID,
						DefinitionName: it.DefinitionName, Status: it.Status, Initiator: it.Initiator, Title: it.Title,
						Step: 1, CC: []string{}, Turn: []sdk.FlowNode{}, Back: []sdk.FlowNode{}, CanEnd: true,
						Candidates: map[string][]map[string]any{}}
				}
				visible = visible || user == p.UserID
				out.Steps = append(out.Steps, sdk.TaskInfo{TaskID: it.TaskID, NodeID: it.NodeID, NodeName: it.NodeName,
					AssigneeID: user, Status: list.status, Step: 1, CreateTime: it.CreateTime})
			}
		}
	}
	if out == nil {
		return nil, errs.NotFoundf("workflow instance %s not found", q.InstanceID+q.DataID)
	}
	slices.SortFunc(out.Steps, func(a, b sdk.TaskInfo) int { return strings.Compare(a.TaskID, b.TaskID) })
	if !visible {
		return nil, errs.Forbiddenf("user %s may not see workflow instance %s", p.UserID, out.InstanceID).WithReason("not_visible")
	}
	return out, nil
}
