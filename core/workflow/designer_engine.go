package workflow

import (
	"context"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
)

// What the engine does for the constructs of the web client's designer
// (designer.go, spec §12.11): assignees by role id, department (tree) and
// initiator, "all must agree" approval, copy-to nodes, and the form's
// current definition version.

// waitsForOthers reports whether an agreement on node n leaves the node
// open: mode all and another assignee's task of the node still pending.
func waitsForOthers(in *Instance, n Node) bool {
	if n.Mode != ModeAll {
		return false
	}
	for _, t := range in.Tasks {
		if t.Status == TaskPending && t.NodeID == n.ID {
			return true
		}
	}
	return false
}

// moreAssignees adds the users named by role id, department, department
// tree and the initiator flag (in that order) through add.
func (e *Engine) moreAssignees(ctx context.Context, in *Instance, n Node, add func(store.Doc)) error {
	a := n.Assignees
	find := func(f query.Expr) error {
		users, err := e.st.Find(ctx, collUser, in.Tenant, query.Query{Filter: f, Limit: MaxAssignees + 1})
		if err != nil {
			return err
		}
		for _, u := range users {
			add(u)
		}
		return nil
	}
	for _, id := range a.RoleIDs {
		if err := find(query.AnyRow{Array: query.Path{"roles"}, Pred: eq("roleId", id)}); err != nil {
			return err
		}
	}
	deps := make([]any, 0, len(a.Departments))
	for _, d := range a.Departments {
		deps = append(deps, d)
	}
	for _, root := range a.DepartmentTrees {
		ids, err := e.departmentTree(ctx, in.Tenant, root)
		if err != nil {
			return err
		}
		deps = append(deps, ids...)
	}
	if len(deps) > 0 {
		if err := find(query.In{Path: query.Path{"departmentId"}, Values: deps}); err != nil {
			return err
		}
	}
	if a.Initiator {
		u, err := e.st.Get(ctx, collUser, in.Tenant, in.Initiator.ID)
		if err == nil {
			add(u)
		} else if errs.CodeOf(err) != errs.NotFound {
			return err
		}
	}
	return nil
}

// departmentTree returns the ids of department root and of all its
// sub-departments (by their heriarchyId path); none when root is unknown.
func (e *Engine) departmentTree(ctx context.Context, tenant, root string) ([]any, error) {
	d, err := e.st.Get(ctx, collDepartment, tenant, root)
	if errs.CodeOf(err) == errs.NotFound {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	h := str(d, "heriarchyId")
	if h == "" {
		h = root
	}
	subs, err := e.st.Find(ctx, collDepartment, tenant, query.Query{
		Filter: query.Str{Path: query.Path{"heriarchyId"}, Fn: query.StartsWith, Value: h + "/"}, Limit: -1})
	if err != nil {
		return nil, err
	}
	out := []any{root}
	for _, s := range subs {
		out = append(out, str(s, "id"))
	}
	return out, nil
}

// copyTo runs a cc node: when its conditions hold, every assignee gets an
// in-system message about the record (no task; the flow moves on). A cc
// node whose receivers resolve to nobody copies to nobody.
func (e *Engine) copyTo(ctx context.Context, in *Instance, form *schema.Form, n Node, now int64) error {
	if n.When != "" || len(n.Guards) > 0 {
		ok, err := e.holds(ctx, in.Tenant, form, in.DataID, n)
		if err != nil || !ok {
			return err
		}
	}
	users, err := e.assignees(ctx, in, n)
	if errs.As(err).Reason == "no_assignee" {
		return nil
	}
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := e.st.Insert(ctx, CollMessage, store.Doc{"id": store.NewID(), "corpId": in.Tenant,
			"title": "抄送：" + in.DefinitionName, "detail": in.FormName + " · " + nodeName(n) + " · " + in.Initiator.Name,
			"url": "/api/v1/formdata/" + in.DataID, "receiverEmpId": u.ID, "receiverName": u.Name,
			"isRead": false, "category": int64(0), "dataId": in.DataID, "wfInstanceId": in.ID,
			"createTime": now, "updateTime": now, "createBy": in.Initiator.doc(), "updateBy": in.Initiator.doc()}); err != nil {
			return err
		}
	}
	return nil
}

// isWorkflowType matches definitions whose flowType is the workflow's:
// absent, "workflow" (§5.2 documents) or 0 (the enum of §12.11).
var isWorkflowType = query.Or{Items: []query.Expr{
	query.Null{Path: query.Path{"flowType"}, IsNull: true}, eq("flowType", "workflow"),
	query.Cmp{Path: query.Path{"flowType"}, Op: query.Eq, Value: float64(0)}}}

// currentDefinition returns the workflow definition a form's records start
// (§12.8.2, §12.11): the current version (isCurrent, set by activation);
// when none is current, the highest version (then the latest updated). nil
// when the form has none.
func (e *Engine) currentDefinition(ctx context.Context, tenant, formID string) (store.Doc, error) {
	base := query.AndOf(eq("sourceId", formID), isWorkflowType)
	order := []query.Sort{{Path: query.Path{"version"}, Desc: true}, {Path: query.Path{"updateTime"}, Desc: true},
		{Path: query.Path{"id"}, Desc: true}}
	for _, f := range []query.Expr{
		query.AndOf(base, query.Cmp{Path: query.Path{"isCurrent"}, Op: query.Eq, Value: true}), base} {
		found, err := e.st.Find(ctx, CollDefinition, tenant, query.Query{Filter: f, Sort: order, Limit: 1})
		if err != nil || len(found) > 0 {
			if len(found) > 0 {
				return found[0], nil
			}
			return nil, err
		}
	}
	return nil, nil
}
