package eoffice

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Users, departments and roles (spec §5.2–5.4) on the tenant's directory.

func registerDirectoryRoutes(r *Router) {
	r.Add(http.MethodGet, "user", userList)
	r.Add(http.MethodPost, "user/lists", userList)
	r.Add(http.MethodPost, "user/users", userList)
	r.Add(http.MethodGet, "user/:userId", userDetail)
	r.Add(http.MethodGet, "role", roleList)
	r.Add(http.MethodGet, "system/department/all-tree", deptTree)
	r.Add(http.MethodGet, "system/department/:deptId", deptDetail)
	r.Add(http.MethodPost, "system/department", deptCreate)
	r.Add(http.MethodDelete, "system/department/:deptId", deptDelete)
	r.Add(http.MethodPost, "system/department/:deptId", deptEdit)
	r.Add(http.MethodPost, "user", userCreate)
	r.Add(http.MethodPost, "user/:userId", userEdit)
	r.Add(http.MethodDelete, "user/:userId", userDelete)
	r.Add(http.MethodPost, "role", roleCreate)
	r.Add(http.MethodPut, "role/:roleId", roleEdit)
}

// directory is the tenant's departments and roles with their e-office
// ids, and the e-office ids of the users at hand.
type directory struct {
	depts     []sdk.Doc
	deptByHub map[string]sdk.Doc
	deptExt   map[string]string // hub → e-office
	roleExt   map[string]string
	userExt   map[string]string
	children  map[string][]sdk.Doc // parent hub id ("" = top) → children
	loc       *time.Location
}

// loadDirectory reads every department and role of the tenant (two
// directory calls) and their e-office ids (two alias calls).
func loadDirectory(ctx context.Context, c *Call) (*directory, error) {
	dp, err := c.Host.FindDepartments(ctx, c.P, sdk.Query{Limit: -1}, false)
	if err != nil {
		return nil, FromHost(err, nil)
	}
	d := &directory{depts: dp.Items, deptByHub: map[string]sdk.Doc{}, children: map[string][]sdk.Doc{}, userExt: map[string]string{}, loc: c.Cfg.loc}
	var ids []string
	for _, x := range dp.Items {
		id := str(x, "id")
		ids = append(ids, id)
		d.deptByHub[id] = x
	}
	if d.deptExt, err = ExtIDs(ctx, c.Host, c.Svc, kindDept, ids); err != nil {
		return nil, err
	}
	for _, x := range dp.Items {
		parent := str(x, "parentId")
		if _, ok := d.deptByHub[parent]; !ok {
			parent = ""
		}
		d.children[parent] = append(d.children[parent], x)
	}
	for k := range d.children {
		kids := d.children[k]
		slices.SortStableFunc(kids, func(a, b sdk.Doc) int {
			if c := cmpInt(intOf(a["sortIndex"]), intOf(b["sortIndex"])); c != 0 {
				return c
			}
			return cmpInt(IntOf(d.deptExt[str(a, "id")]), IntOf(d.deptExt[str(b, "id")]))
		})
	}
	rp, err := c.Host.FindRoles(ctx, c.P, sdk.Query{Limit: -1}, false)
	if err != nil {
		return nil, FromHost(err, nil)
	}
	ids = ids[:0]
	for _, x := range rp.Items {
		ids = append(ids, str(x, "id"))
	}
	if d.roleExt, err = ExtIDs(ctx, c.Host, c.Svc, kindRole, ids); err != nil {
		return nil, err
	}
	return d, nil
}

// prepareUsers allocates the e-office ids of users (one alias call).
func (d *directory) prepareUsers(ctx context.Context, c *Call, users []sdk.Doc) error {
	var ids []string
	for _, u := range users {
		if id := str(u, "id"); d.userExt[id] == "" {
			ids = append(ids, id)
		}
	}
	m, err := ExtIDs(ctx, c.Host, c.Svc, kindUser, ids)
	if err != nil {
		return err
	}
	for k, v := range m {
		d.userExt[k] = v
	}
	return nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func intOf(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case int:
		return int64(x)
	}
	return 0
}

func str(d sdk.Doc, k string) string { s, _ := d[k].(string); return s }

// timeStr renders an epoch-ms time as e-office's "YYYY-MM-DD HH:MM:SS"
// (tenant time zone); nil when absent.
func timeStr(v any, loc *time.Location) any {
	ms := intOf(v)
	if ms == 0 {
		return nil
	}
	return time.UnixMilli(ms).In(loc).Format(dateTime)
}

// arrParent returns a department's ancestor path ("0", "0,59") and its
// level (0 = top).
func (d *directory) arrParent(dept sdk.Doc) (string, []string) {
	var chain []string
	seen := map[string]bool{}
	for p := str(dept, "parentId"); p != "" && !seen[p]; {
		seen[p] = true
		pd, ok := d.deptByHub[p]
		if !ok {
			break
		}
		chain = append([]string{d.deptExt[p]}, chain...)
		p = str(pd, "parentId")
	}
	return strings.Join(append([]string{"0"}, chain...), ","), chain
}

// deptRow is the department object (§5.3).
func (d *directory) deptRow(dept sdk.Doc) Obj {
	id := str(dept, "id")
	arr, chain := d.arrParent(dept)
	parent := any(int64(0))
	if len(chain) > 0 {
		parent = numeric(chain[len(chain)-1])
	}
	hasChildren := 0
	if len(d.children[id]) > 0 {
		hasChildren = 1
	}
	return Obj{{"dept_id", numeric(d.deptExt[id])}, {"dept_name", str(dept, "name")}, {"tel_no", ""}, {"fax_no", ""},
		{"parent_id", parent}, {"dept_name_py", ""}, {"dept_name_zm", ""}, {"arr_parent_id", arr},
		{"has_children", hasChildren}, {"dept_sort", intOf(dept["sortIndex"])}, {"deleted_at", nil},
		{"created_at", timeStr(dept["createTime"], d.loc)}, {"updated_at", timeStr(dept["updateTime"], d.loc)}}
}

// userStatus maps the hub's status (0 active) to e-office's (1 active,
// 2 left).
func userStatus(u sdk.Doc) int64 {
	switch v := u["status"].(type) {
	case nil:
		return 1
	case string:
		if v == "" || v == "active" {
			return 1
		}
		return 2
	}
	if intOf(u["status"]) == 0 {
		return 1
	}
	return 2
}

// userRow is a user list row (§5.2 row shape, abridged to the columns
// the hub has).
func (d *directory) userRow(u sdk.Doc) Obj {
	id := d.userExt[str(u, "id")]
	dept := d.deptByHub[str(u, "departmentId")]
	var deptID any
	var deptObj any
	if dept != nil {
		row := d.deptRow(dept)
		deptID, deptObj = row.Get("dept_id"), row
	}
	var roles []any
	for _, r := range anyList(u["roles"]) {
		rm, _ := r.(map[string]any)
		rid := numeric(d.roleExt[ToStr(rm["roleId"])])
		roles = append(roles, Obj{{"user_id", id}, {"role_id", rid},
			{"has_one_role", Obj{{"role_id", rid}, {"role_name", ToStr(rm["roleName"])}, {"role_no", 0}}}})
	}
	if roles == nil {
		roles = []any{}
	}
	info := Obj{{"user_id", id}, {"sex", ""}, {"birthday", ""}, {"email", str(u, "workEmail")}, {"phone_number", str(u, "workPhone")},
		{"weixin", ""}, {"oicq_no", ""}}
	return Obj{
		{"user_id", id}, {"user_accounts", str(u, "userName")}, {"user_name", str(u, "empName")},
		{"user_name_py", ""}, {"user_name_zm", ""}, {"user_job_number", str(u, "code")}, {"list_number", nil},
		{"user_position", ""}, {"user_area", ""}, {"user_city", ""}, {"user_workplace", ""}, {"user_job_category", ""},
		{"sex", ""}, {"birthday", ""}, {"email", str(u, "workEmail")}, {"phone_number", str(u, "workPhone")},
		{"weixin", ""}, {"oicq_no", ""},
		{"created_at", timeStr(u["createTime"], d.loc)}, {"updated_at", timeStr(u["updateTime"], d.loc)}, {"deleted_at", nil},
		{"user_has_many_role", roles},
		{"user_has_one_info", info},
		{"user_has_one_system_info", Obj{{"user_id", id}, {"dept_id", deptID}, {"user_status", userStatus(u)},
			{"wap_allow", 1}, {"post_priv", "0"}, {"post_dept", ""}, {"user_system_info_belongs_to_department", deptObj}}},
		{"user_has_one_attendance_scheduling_info", nil},
	}
}

// currentUser is login-info's current_user (§2.4).
func (d *directory) currentUser(u sdk.Doc, now time.Time) Obj {
	row := d.userRow(u)
	sys, _ := row.Get("user_has_one_system_info").(Obj)
	var roles []any
	for _, r := range row.Get("user_has_many_role").([]any) {
		hr, _ := r.(Obj).Get("has_one_role").(Obj)
		roles = append(roles, hr)
	}
	if roles == nil {
		roles = []any{}
	}
	deptName := ""
	if dept, ok := sys.Get("user_system_info_belongs_to_department").(Obj); ok {
		deptName, _ = dept.Get("dept_name").(string)
	}
	return Obj{{"user_id", row.Get("user_id")}, {"user_name", row.Get("user_name")}, {"user_position", ""},
		{"user_accounts", row.Get("user_accounts")}, {"user_job_number", row.Get("user_job_number")},
		{"dept_id", sys.Get("dept_id")}, {"dept_name", deptName}, {"roles", roles}, {"user_status", userStatus(u)},
		{"user_position_name", ""}, {"last_login_time", now.Format(dateTime)}, {"last_pass_time", nil}, {"change_pwd", 0},
		{"post_priv", "0"}, {"post_dept", ""}, {"max_role_no", 0}, {"phone_number", row.Get("phone_number")},
		{"show_page_after_login", ""}, {"encrypt_organization", 0}}
}

func anyList(v any) []any { l, _ := v.([]any); return l }

// ---- users ----

// userColumns are the user list's searchable and sortable columns.
var userColumns = Columns{
	"user_accounts": {Path: sdk.Path{"userName"}},
	"user_name":     {Path: sdk.Path{"empName"}},
	"email":         {Path: sdk.Path{"workEmail"}},
	"phone_number":  {Path: sdk.Path{"workPhone"}},
	"created_at":    {Path: sdk.Path{"createTime"}, Type: TInt},
	"updated_at":    {Path: sdk.Path{"updateTime"}, Type: TInt},
	"user_id":       {Path: sdk.Path{"createTime"}, Type: TInt}, // sort only: allocation order follows creation
}

// userList serves GET user, POST user/lists, POST user/users (§5.2).
func userList(ctx context.Context, c *Call) (any, error) {
	virtual := func(key string, v any, op string) (sdk.Expr, bool, error) {
		switch key {
		case "user_id", "dept_id", "role_id":
			kind := map[string]string{"user_id": kindUser, "dept_id": kindDept, "role_id": kindRole}[key]
			vals, err := inValues(key, v)
			if err != nil {
				return nil, true, err
			}
			ext := make([]string, 0, len(vals))
			for _, x := range vals {
				ext = append(ext, ToStr(x))
			}
			hub, err := c.HubIDs(ctx, kind, ext)
			if err != nil {
				return nil, true, err
			}
			ids := make([]sdk.Value, 0, len(hub))
			for _, e := range ext {
				if h := hub[e]; h != "" {
					ids = append(ids, h)
				}
			}
			var e sdk.Expr = sdk.In{Path: sdk.Path{map[string]string{"user_id": "id", "dept_id": "departmentId"}[key]}, Values: ids}
			if key == "role_id" {
				e = sdk.AnyRow{Array: sdk.Path{"roles"}, Pred: sdk.In{Path: sdk.Path{"roleId"}, Values: ids}}
			}
			if len(ids) == 0 {
				e = sdk.Const{Value: false}
			}
			if op == "not_in" && key != "dept_id" {
				e = sdk.Not{X: e}
			}
			return e, true, nil
		case "user_status":
			switch IntOf(firstOf(v)) {
			case 1:
				return sdk.Cmp{Path: sdk.Path{"status"}, Op: sdk.Eq, Value: int64(0)}, true, nil
			case 2:
				return sdk.Cmp{Path: sdk.Path{"status"}, Op: sdk.Ne, Value: int64(0)}, true, nil
			}
			return sdk.Const{Value: false}, true, nil
		case "user_job_number":
			return sdk.Str{Path: sdk.Path{"code"}, Fn: sdk.Contains, Value: ToStr(firstOf(v))}, true, nil
		case "dept_name":
			// always "contains", on the main department's name
			pg, err := c.Host.FindDepartments(ctx, c.P, sdk.Query{Limit: 1000,
				Filter: sdk.Str{Path: sdk.Path{"name"}, Fn: sdk.Contains, Value: ToStr(firstOf(v))}}, false)
			if err != nil {
				return nil, true, FromHost(err, nil)
			}
			ids := make([]sdk.Value, 0, len(pg.Items))
			for _, d := range pg.Items {
				ids = append(ids, str(d, "id"))
			}
			if len(ids) == 0 {
				return sdk.Const{Value: false}, true, nil
			}
			return sdk.In{Path: sdk.Path{"departmentId"}, Values: ids}, true, nil
		case "created_at":
			// [{"startDate":…,"endDate":…}]: created between (operator ignored)
			r, _ := firstOf(v).(map[string]any)
			var parts []sdk.Expr
			if t, ok := parseDate(ToStr(r["startDate"]), c.Cfg.loc); ok {
				parts = append(parts, sdk.Cmp{Path: sdk.Path{"createTime"}, Op: sdk.Ge, Value: t.UnixMilli()})
			}
			if t, ok := parseDate(ToStr(r["endDate"]), c.Cfg.loc); ok {
				if len(ToStr(r["endDate"])) <= len("2006-01-02") {
					t = t.AddDate(0, 0, 1).Add(-time.Millisecond)
				}
				parts = append(parts, sdk.Cmp{Path: sdk.Path{"createTime"}, Op: sdk.Le, Value: t.UnixMilli()})
			}
			if r == nil || len(parts) == 0 {
				return nil, true, FailField(CodeIllegalField, key)
			}
			return sdk.AndOf(parts...), true, nil
		}
		return nil, false, nil
	}
	l, err := ParseList(c, SearchOptions{Columns: userColumns, Virtual: virtual, Multi: true})
	if err != nil {
		return nil, err
	}
	if Empty(c.In["include_leave"]) {
		l.Filter = sdk.AndOf(l.Filter, sdk.Cmp{Path: sdk.Path{"status"}, Op: sdk.Eq, Value: int64(0)})
	}
	if !l.OrderGiven {
		l.Sort = []sdk.Sort{{Path: sdk.Path{"createTime"}}}
	}
	return runList(ctx, c, l, func(q sdk.Query, count bool) (sdk.Page, error) { return c.Host.FindUsers(ctx, c.P, q, count) },
		func(items []sdk.Doc) ([]any, error) {
			d, err := loadDirectory(ctx, c)
			if err != nil {
				return nil, err
			}
			if err := d.prepareUsers(ctx, c, items); err != nil {
				return nil, err
			}
			out := make([]any, len(items))
			for i, u := range items {
				row := d.userRow(u)
				if c.In.Str("datatype") == "id" {
					out[i] = row.Get("user_id")
					continue
				}
				out[i] = project(row, l.Fields)
			}
			return out, nil
		}, c.In.Str("datatype") == "id")
}

func firstOf(v any) any {
	if l, ok := v.([]any); ok && len(l) > 0 {
		return l[0]
	}
	return v
}

// project keeps only fields (nil = the whole row).
func project(row Obj, fields []string) any {
	if len(fields) == 0 {
		return row
	}
	out := Obj{}
	for _, f := range fields {
		out = append(out, KV{f, row.Get(f)})
	}
	return out
}

// runList runs a list: the page (and count) in one call, autoFixPage
// with a second call when the page was beyond the last, rows shaped by
// shape. bare returns the bare row array (datatype=id).
func runList(ctx context.Context, c *Call, l *ListParams, find func(sdk.Query, bool) (sdk.Page, error), shape func([]sdk.Doc) ([]any, error), bare bool) (any, error) {
	q := l.Query()
	if !l.WantList() {
		q.Limit = 0
	}
	pg, err := find(q, l.WantTotal())
	if err != nil {
		return nil, FromHost(err, nil)
	}
	// autoFixPage needs the total: not with response=data (§4).
	if l.AutoFixPage && l.WantList() && l.WantTotal() {
		before := l.Page
		l.FixPage(pg.Total)
		if l.Page != before {
			if pg, err = find(l.Query(), true); err != nil {
				return nil, FromHost(err, nil)
			}
		}
	}
	var rows []any
	if l.WantList() {
		if rows, err = shape(pg.Items); err != nil {
			return nil, err
		}
	}
	if bare {
		if rows == nil {
			rows = []any{}
		}
		return rows, nil
	}
	return l.ListData(pg.Total, rows), nil
}

// userDetail serves GET user/{userId}.
func userDetail(ctx context.Context, c *Call) (any, error) {
	ext := c.Params["userId"]
	hub, err := c.HubIDs(ctx, kindUser, []string{ext})
	if err != nil {
		return nil, err
	}
	if hub[ext] == "" {
		return []any{}, nil
	}
	pg, err := c.Host.FindUsers(ctx, c.P, sdk.Query{Filter: sdk.Cmp{Path: sdk.Path{"id"}, Op: sdk.Eq, Value: hub[ext]}, Limit: 1}, false)
	if err != nil {
		return nil, FromHost(err, nil)
	}
	if len(pg.Items) == 0 {
		return []any{}, nil
	}
	d, err := loadDirectory(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := d.prepareUsers(ctx, c, pg.Items); err != nil {
		return nil, err
	}
	return d.userRow(pg.Items[0]), nil
}

// ---- roles ----

var roleColumns = Columns{
	"role_name": {Path: sdk.Path{"name"}},
	"role_no":   {Path: sdk.Path{"sortValue"}, Type: TInt},
	"role_id":   {Path: sdk.Path{"createTime"}, Type: TInt},
}

// roleList serves GET role (§5.4).
func roleList(ctx context.Context, c *Call) (any, error) {
	l, err := ParseList(c, SearchOptions{Columns: roleColumns, Multi: true})
	if err != nil {
		return nil, err
	}
	if !l.OrderGiven {
		l.Sort = []sdk.Sort{{Path: sdk.Path{"sortValue"}}}
	}
	l.Sort = append(l.Sort, sdk.Sort{Path: sdk.Path{"createTime"}})
	return runList(ctx, c, l, func(q sdk.Query, count bool) (sdk.Page, error) { return c.Host.FindRoles(ctx, c.P, q, count) },
		func(items []sdk.Doc) ([]any, error) { return roleRows(ctx, c, items) }, false)
}

// roleRows renders roles with their active users (has_many_role,
// user_total): one more directory call and one alias call for the page.
func roleRows(ctx context.Context, c *Call, items []sdk.Doc) ([]any, error) {
	ids := make([]string, len(items))
	vals := make([]sdk.Value, len(items))
	for i, r := range items {
		ids[i], vals[i] = str(r, "id"), str(r, "id")
	}
	ext, err := ExtIDs(ctx, c.Host, c.Svc, kindRole, ids)
	if err != nil {
		return nil, err
	}
	byRole := map[string][]string{}
	if len(items) > 0 {
		users, err := c.Host.FindUsers(ctx, c.P, sdk.Query{Limit: -1, Filter: sdk.AndOf(
			sdk.Cmp{Path: sdk.Path{"status"}, Op: sdk.Eq, Value: int64(0)},
			sdk.AnyRow{Array: sdk.Path{"roles"}, Pred: sdk.In{Path: sdk.Path{"roleId"}, Values: vals}})}, false)
		if err != nil {
			return nil, FromHost(err, nil)
		}
		var uids []string
		for _, u := range users.Items {
			uids = append(uids, str(u, "id"))
		}
		uext, err := ExtIDs(ctx, c.Host, c.Svc, kindUser, uids)
		if err != nil {
			return nil, err
		}
		for _, u := range users.Items {
			for _, r := range anyList(u["roles"]) {
				rm, _ := r.(map[string]any)
				rid := ToStr(rm["roleId"])
				byRole[rid] = append(byRole[rid], uext[str(u, "id")])
			}
		}
	}
	out := make([]any, len(items))
	for i, r := range items {
		id := str(r, "id")
		rid := numeric(ext[id])
		members := []any{}
		for _, u := range byRole[id] {
			members = append(members, Obj{{"user_id", u}, {"role_id", rid}})
		}
		out[i] = Obj{{"role_id", rid}, {"role_name", str(r, "name")}, {"role_no", intOf(r["sortValue"])},
			{"role_name_zm", ""}, {"role_name_py", ""}, {"has_many_role", members}, {"has_children", 0},
			{"user_total", len(members)}}
	}
	return out, nil
}

// ---- departments ----

// deptTree serves GET system/department/all-tree (§5.3): pre-order from
// the top, siblings by dept_sort then dept_id, each with its level.
func deptTree(ctx context.Context, c *Call) (any, error) {
	d, err := loadDirectory(ctx, c)
	if err != nil {
		return nil, err
	}
	out := []any{}
	var walk func(parent string, level int)
	walk = func(parent string, level int) {
		if level > 64 {
			return
		}
		for _, x := range d.children[parent] {
			out = append(out, append(d.deptRow(x), KV{"level", level}))
			walk(str(x, "id"), level+1)
		}
	}
	walk("", 0)
	return out, nil
}

// deptByExt resolves a department id of the path.
func deptByExt(ctx context.Context, c *Call, d *directory, ext string) (sdk.Doc, error) {
	if Empty(ext) {
		return nil, Fail("0x002001")
	}
	hub, err := c.HubIDs(ctx, kindDept, []string{ext})
	if err != nil {
		return nil, err
	}
	return d.deptByHub[hub[ext]], nil
}

// deptDetail serves GET system/department/{deptId}.
func deptDetail(ctx context.Context, c *Call) (any, error) {
	d, err := loadDirectory(ctx, c)
	if err != nil {
		return nil, err
	}
	dept, err := deptByExt(ctx, c, d, c.Params["deptId"])
	if err != nil || dept == nil {
		return nil, err
	}
	row := d.deptRow(dept)
	_, chain := d.arrParent(dept)
	path := append(append([]string{}, chain...), d.deptExt[str(dept, "id")])
	director, directors, err := deptDirectors(ctx, c, dept, d.deptExt[str(dept, "id")])
	if err != nil {
		return nil, err
	}
	return append(row, KV{"director", director}, KV{"directors", directors}, KV{"dept_path", path}), nil
}

// deptDirectors returns a department's manager as e-office's director
// (user ids, leavers excluded) and directors (rows).
func deptDirectors(ctx context.Context, c *Call, dept sdk.Doc, deptExt string) ([]any, []any, error) {
	director, directors := []any{}, []any{}
	mgr := str(dept, "managerId")
	if mgr == "" {
		return director, directors, nil
	}
	pg, err := c.Host.FindUsers(ctx, c.P, sdk.Query{Limit: 1, Filter: sdk.AndOf(
		sdk.Cmp{Path: sdk.Path{"id"}, Op: sdk.Eq, Value: mgr}, sdk.Cmp{Path: sdk.Path{"status"}, Op: sdk.Eq, Value: int64(0)})}, false)
	if err != nil {
		return nil, nil, FromHost(err, nil)
	}
	if len(pg.Items) == 0 {
		return director, directors, nil
	}
	ext, err := ExtIDs(ctx, c.Host, c.Svc, kindUser, []string{mgr})
	if err != nil {
		return nil, nil, err
	}
	director = append(director, ext[mgr])
	directors = append(directors, Obj{{"dept_id", numeric(deptExt)}, {"user_id", ext[mgr]}, {"user_name", str(pg.Items[0], "empName")}})
	return director, directors, nil
}

// deptCreate serves POST system/department.
func deptCreate(ctx context.Context, c *Call) (any, error) {
	name := strings.TrimSpace(c.In.Str("dept_name"))
	if name == "" {
		return nil, Fail("0x002006")
	}
	if !c.In.Has("parent_id") {
		return nil, FailMsg(CodeValidation, "The parent_id field is required.")
	}
	if !scalar(c.In["parent_id"]) { // an array or object is not cast to 0 (top level)
		return nil, FailField(CodeIllegalField, "parent_id")
	}
	d, err := loadDirectory(ctx, c)
	if err != nil {
		return nil, err
	}
	parentExt := c.In.Str("parent_id")
	parentHub := ""
	if IntOf(parentExt) != 0 {
		p, err := deptByExt(ctx, c, d, parentExt)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, FailField(CodeIllegalField, "parent_id")
		}
		parentHub = str(p, "id")
		if str(p, "name") == name {
			return nil, Fail("0x002011")
		}
	}
	for _, sib := range d.children[parentHub] {
		if str(sib, "name") == name {
			return nil, Fail("0x002007")
		}
	}
	body := sdk.Doc{"name": name, "sortIndex": IntOf(c.In["dept_sort"])}
	if parentHub != "" {
		body["parentId"] = parentHub
	}
	if err := setDirector(ctx, c, body); err != nil {
		return nil, err
	}
	ext, err := createEntity(ctx, c, "department", kindDept, body)
	if err != nil {
		return nil, err
	}
	if parentHub == "" {
		return Obj{{"dept_id", numeric(ext)}, {"dept_path", []any{numeric(ext)}}, {"dept_arr_parent_id", 0}}, nil
	}
	arr, chain := d.arrParent(d.deptByHub[parentHub])
	path := append(append(append([]string{}, chain...), d.deptExt[parentHub]), ext)
	return Obj{{"dept_id", numeric(ext)}, {"dept_path", path}, {"dept_arr_parent_id", arr + "," + d.deptExt[parentHub]}}, nil
}

// deptDelete serves DELETE system/department/{deptId}: refused while the
// department has users (0x002004) or sub-departments (0x002005).
func deptDelete(ctx context.Context, c *Call) (any, error) {
	d, err := loadDirectory(ctx, c)
	if err != nil {
		return nil, err
	}
	dept, err := deptByExt(ctx, c, d, c.Params["deptId"])
	if err != nil {
		return nil, err
	}
	if dept == nil {
		return NoData, nil
	}
	id := str(dept, "id")
	users, err := c.Host.FindUsers(ctx, c.P, sdk.Query{Filter: sdk.Cmp{Path: sdk.Path{"departmentId"}, Op: sdk.Eq, Value: id}, Limit: 0}, true)
	if err != nil {
		return nil, FromHost(err, nil)
	}
	if users.Total > 0 {
		return nil, Fail("0x002004")
	}
	if len(d.children[id]) > 0 {
		return nil, Fail("0x002005")
	}
	row := d.deptRow(dept)
	if err := c.Host.EntityDelete(ctx, c.P, "department", id, sdk.EntityOptions{}); err != nil {
		return nil, FromHost(err, nil)
	}
	_, chain := d.arrParent(dept)
	var parentPath any = 0
	if len(chain) > 0 {
		parentPath = chain
	}
	return append(row, KV{"dept_parent_path", parentPath}, KV{"director", []any{}}, KV{"directors", []any{}}), nil
}
