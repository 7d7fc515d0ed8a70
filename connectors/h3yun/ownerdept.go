package h3yun

import (
	"context"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// OwnerDeptId (§5.1) is derived, not stored: it is the department of the
// record's owner. A Matcher item on it compiles to a condition on the owner
// — "createBy.id in (the users of those departments)" — after one
// FindUsers call for every department the Matcher names.

// maxDeptUsers bounds the users an OwnerDeptId condition may expand to.
const maxDeptUsers = 2000

// ownerDeptOps are the operators an OwnerDeptId item supports.
var ownerDeptOps = map[int]struct{ list, negate bool }{
	2: {false, false}, // =
	5: {false, true},  // !=
	6: {true, false},  // in
	7: {true, true},   // not in
}

// resolveOwnerDepts fills cv.deptUsers for the departments m's OwnerDeptId
// items name (nothing to do, and no host call, when there are none).
func (k *call) resolveOwnerDepts(ctx context.Context, cv *converter, m *matcher) error {
	var depts []sdk.Value
	seen := map[string]bool{}
	var walk func(m *matcher)
	walk = func(m *matcher) {
		if m == nil {
			return
		}
		for _, ch := range m.children {
			walk(ch)
		}
		if m.typ != "item" || m.name != fOwnerDeptID {
			return
		}
		items, ok := listItems(m.value)
		if !ok {
			return // compile reports it
		}
		for _, it := range items {
			if s, ok := scalarString(it); ok && hubID(s) != "" && !seen[hubID(s)] {
				seen[hubID(s)] = true
				depts = append(depts, hubID(s))
			}
		}
	}
	walk(m)
	cv.deptUsers = map[string][]string{}
	if len(depts) == 0 {
		return nil
	}
	if len(depts) > maxListItems {
		return failf(reasonQuery, "控件 %s 的值超过 %d 个", fOwnerDeptID, maxListItems)
	}
	page, err := k.host.FindUsers(ctx, k.p, sdk.Query{Filter: sdk.In{Path: sdk.Path{"departmentId"}, Values: depts},
		Sort: []sdk.Sort{{Path: sdk.Path{"id"}}}, Limit: maxDeptUsers + 1}, false)
	if err != nil {
		return fromHost(err, nil)
	}
	if len(page.Items) > maxDeptUsers {
		return failf(reasonUnsupported, "按 %s 查询超过 %d 个用户的部门", fOwnerDeptID, maxDeptUsers)
	}
	for _, u := range page.Items {
		id, _ := u["id"].(string)
		dept, _ := u["departmentId"].(string)
		cv.deptUsers[dept] = append(cv.deptUsers[dept], id)
	}
	return nil
}

// compileOwnerDept compiles an OwnerDeptId item: =, != (one department),
// in, not in (a list).
func (c *converter) compileOwnerDept(m *matcher) (sdk.Expr, error) {
	op, ok := ownerDeptOps[m.op]
	if !ok || c.deptUsers == nil {
		return nil, failf(reasonUnsupported, "按 %s 使用 Operator %d 查询", fOwnerDeptID, m.op)
	}
	items, ok := listItems(m.value)
	if !ok || !op.list && len(items) != 1 {
		return nil, failf(reasonQuery, "控件 %s 的值 %s 不合法", fOwnerDeptID, short(m.value))
	}
	var users []sdk.Value
	for _, it := range items {
		s, ok := scalarString(it)
		if !ok {
			return nil, failf(reasonQuery, "控件 %s 的值 %s 不合法", fOwnerDeptID, short(it))
		}
		for _, u := range c.deptUsers[hubID(s)] {
			users = append(users, u)
		}
	}
	var e sdk.Expr = sdk.Const{Value: false}
	if len(users) > 0 {
		e = sdk.In{Path: sdk.Path{"createBy", "id"}, Values: users}
	}
	if op.negate {
		e = sdk.Not{X: e}
	}
	return e, nil
}
