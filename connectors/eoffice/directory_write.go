package eoffice

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Directory writes (spec §5.2–5.4): users, departments, roles, through the
// native entity API as the token's user (the hub's admin-only rules apply:
// a user without the admin role gets 0x000006).

// userBody converts a user create/edit body; create requires the
// e-office mandatory fields (0x005008–0x005011).
func userBody(ctx context.Context, c *Call, d *directory, create bool) (sdk.Doc, error) {
	in := c.In
	body := sdk.Doc{}
	set := func(key, hub string) {
		if in.Has(key) {
			body[hub] = strings.TrimSpace(in.Str(key))
		}
	}
	if create || in.Has("user_accounts") {
		if Empty(strings.TrimSpace(in.Str("user_accounts"))) {
			return nil, Fail("0x005009")
		}
	}
	if create || in.Has("user_name") {
		if strings.TrimSpace(in.Str("user_name")) == "" {
			return nil, Fail("0x005008")
		}
	}
	set("user_accounts", "userName")
	set("user_name", "empName")
	set("user_job_number", "code")
	set("phone_number", "workPhone")
	set("email", "workEmail")
	if pw := in.Str("user_password"); pw != "" {
		body["password"] = pw
	}
	if in.Has("user_status") {
		switch IntOf(in["user_status"]) {
		case 1:
			body["status"] = "active"
		case 2:
			body["status"] = "disabled"
		default:
			return nil, FailField(CodeIllegalField, "user_status")
		}
	}
	if create || in.Has("dept_id") {
		ext := in.Str("dept_id")
		if Empty(ext) {
			return nil, Fail("0x005011")
		}
		dept, err := deptByExt(ctx, c, d, ext)
		if err != nil {
			return nil, err
		}
		if dept == nil {
			return nil, FailField(CodeIllegalField, "dept_id")
		}
		body["departmentId"] = str(dept, "id")
	}
	if create || in.Has("role_id_init") {
		var ext []string
		for _, v := range ListValues(in["role_id_init"]) {
			if s := strings.TrimSpace(ToStr(v)); s != "" {
				ext = append(ext, s)
			}
		}
		if len(ext) == 0 {
			return nil, Fail("0x005010")
		}
		hub, err := c.HubIDs(ctx, kindRole, ext)
		if err != nil {
			return nil, err
		}
		roles := []any{}
		for _, e := range ext {
			if hub[e] == "" {
				return nil, FailField(CodeIllegalField, "role_id_init")
			}
			roles = append(roles, map[string]any{"roleId": hub[e]})
		}
		body["roles"] = roles
	}
	return body, nil
}

// userWriteError maps the directory's refusals (§5.2 codes).
func userWriteError(err error) error {
	e := sdk.AsError(err)
	if e.Code == sdk.Conflict {
		msg := strings.ToLower(e.Msg + " " + e.Target)
		switch {
		case strings.Contains(msg, "code"):
			return &Error{Code: "0x005005", Err: err}
		case strings.Contains(msg, "phone"):
			return &Error{Code: "0x005006", Err: err}
		}
		return &Error{Code: "0x005003", Err: err}
	}
	return FromHost(err, nil)
}

// userCreate serves POST user: the new user row.
func userCreate(ctx context.Context, c *Call) (any, error) {
	d, err := loadDirectory(ctx, c)
	if err != nil {
		return nil, err
	}
	body, err := userBody(ctx, c, d, true)
	if err != nil {
		return nil, err
	}
	if _, ok := body["status"]; !ok {
		body["status"] = "active"
	}
	doc, err := c.Host.EntityCreate(ctx, c.P, "user", body)
	if err != nil {
		return nil, userWriteError(err)
	}
	return userResult(ctx, c, d, doc)
}

func userResult(ctx context.Context, c *Call, d *directory, doc sdk.Doc) (any, error) {
	if err := d.prepareUsers(ctx, c, []sdk.Doc{doc}); err != nil {
		return nil, err
	}
	row := d.userRow(doc)
	return Obj{{"user_id", row.Get("user_id")}, {"user_accounts", row.Get("user_accounts")}, {"user_name", row.Get("user_name")},
		{"user_name_py", ""}, {"user_name_zm", ""}, {"user_job_number", row.Get("user_job_number")}, {"list_number", nil},
		{"user_position", ""}, {"created_at", row.Get("created_at")}, {"updated_at", row.Get("updated_at")}}, nil
}

// userOf resolves the path's user id to a hub id ("" when unknown).
func userOf(ctx context.Context, c *Call) (string, error) {
	return c.hubID(ctx, kindUser, c.Params["userId"])
}

// userEdit serves POST user/{userId}: a partial edit; the updated row.
func userEdit(ctx context.Context, c *Call) (any, error) {
	id, err := userOf(ctx, c)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, Fail(CodeNotExists)
	}
	d, err := loadDirectory(ctx, c)
	if err != nil {
		return nil, err
	}
	body, err := userBody(ctx, c, d, false)
	if err != nil {
		return nil, err
	}
	doc, err := c.Host.EntityUpdate(ctx, c.P, "user", id, body, sdk.EntityOptions{})
	if err != nil {
		return nil, userWriteError(err)
	}
	return userResult(ctx, c, d, doc)
}

// userDelete serves DELETE user/{userId}; admin cannot be deleted.
func userDelete(ctx context.Context, c *Call) (any, error) {
	if c.Params["userId"] == "admin" {
		return nil, Fail("0x005087")
	}
	id, err := userOf(ctx, c)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, Fail(CodeNotExists)
	}
	if id == c.P.UserID {
		return nil, Fail("0x000017")
	}
	if err := c.Host.EntityDelete(ctx, c.P, "user", id, sdk.EntityOptions{}); err != nil {
		return nil, FromHost(err, nil)
	}
	return Obj{{"user", 1}, {"user_info", 1}, {"user_system_info", 1}, {"user_role", 1}, {"user_menu", 1},
		{"user_superior", 0}, {"user_attendance", 0}}, nil
}

// deptEdit serves POST system/department/{deptId}: name, parent, sort.
func deptEdit(ctx context.Context, c *Call) (any, error) {
	d, err := loadDirectory(ctx, c)
	if err != nil {
		return nil, err
	}
	dept, err := deptByExt(ctx, c, d, c.Params["deptId"])
	if err != nil {
		return nil, err
	}
	if dept == nil {
		return nil, Fail(CodeNotExists)
	}
	id := str(dept, "id")
	body := sdk.Doc{}
	name := str(dept, "name")
	if c.In.Has("dept_name") {
		if name = strings.TrimSpace(c.In.Str("dept_name")); name == "" {
			return nil, Fail("0x002006")
		}
		body["name"] = name
	}
	parentHub := str(dept, "parentId")
	if c.In.Has("parent_id") {
		if !scalar(c.In["parent_id"]) {
			return nil, FailField(CodeIllegalField, "parent_id")
		}
		parentHub = ""
		if IntOf(c.In["parent_id"]) != 0 {
			p, err := deptByExt(ctx, c, d, c.In.Str("parent_id"))
			if err != nil {
				return nil, err
			}
			if p == nil {
				return nil, FailField(CodeIllegalField, "parent_id")
			}
			parentHub = str(p, "id")
			// not under itself or one of its descendants
			for cur := parentHub; cur != ""; cur = str(d.deptByHub[cur], "parentId") {
				if cur == id {
					return nil, Fail("0x002008")
				}
			}
			if str(p, "name") == name {
				return nil, Fail("0x002011")
			}
		}
		body["parentId"] = parentHub
	}
	for _, sib := range d.children[parentHub] {
		if str(sib, "id") != id && str(sib, "name") == name {
			return nil, Fail("0x002007")
		}
	}
	if c.In.Has("dept_sort") {
		body["sortIndex"] = IntOf(c.In["dept_sort"])
	}
	if err := setDirector(ctx, c, body); err != nil {
		return nil, err
	}
	if _, err := c.Host.EntityUpdate(ctx, c.P, "department", id, body, sdk.EntityOptions{}); err != nil {
		return nil, FromHost(err, nil)
	}
	d2, err := loadDirectory(ctx, c)
	if err != nil {
		return nil, err
	}
	arr, chain := d2.arrParent(d2.deptByHub[id])
	ext := d2.deptExt[id]
	if len(chain) == 0 {
		return Obj{{"dept_id", numeric(ext)}, {"dept_path", []any{numeric(ext)}}, {"dept_arr_parent_id", 0}}, nil
	}
	return Obj{{"dept_id", numeric(ext)}, {"dept_path", append(append([]string{}, chain...), ext)}, {"dept_arr_parent_id", arr}}, nil
}

// roleBody validates a role body (0x006002, one message per failed rule).
func roleBody(c *Call, create bool) (sdk.Doc, error) {
	var msgs []string
	body := sdk.Doc{}
	name := strings.TrimSpace(c.In.Str("role_name"))
	if create || c.In.Has("role_name") {
		switch {
		case name == "":
			msgs = append(msgs, "The role_name field is required.")
		case utf8.RuneCountInString(name) > 200:
			msgs = append(msgs, "The role_name may not be greater than 200 characters.")
		default:
			body["name"] = name
		}
	}
	if create || c.In.Has("role_no") {
		no := strings.TrimSpace(c.In.Str("role_no"))
		if no == "" {
			msgs = append(msgs, "The role_no field is required.")
		} else if !isDigits(strings.TrimPrefix(no, "-")) {
			msgs = append(msgs, "The role_no must be an integer.")
		} else {
			body["sortValue"] = IntOf(no)
		}
	}
	if len(msgs) > 0 {
		return nil, &Error{Code: "0x006002", Messages: msgs}
	}
	return body, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// roleNameTaken reports whether another role of the tenant has name.
func roleNameTaken(ctx context.Context, c *Call, name, except string) (bool, error) {
	pg, err := c.Host.FindRoles(ctx, c.P, sdk.Query{Filter: sdk.Cmp{Path: sdk.Path{"name"}, Op: sdk.Eq, Value: name}, Limit: 2}, false)
	if err != nil {
		return false, FromHost(err, nil)
	}
	for _, r := range pg.Items {
		if str(r, "id") != except {
			return true, nil
		}
	}
	return false, nil
}

// roleCreate serves POST role: the new role_id.
func roleCreate(ctx context.Context, c *Call) (any, error) {
	body, err := roleBody(c, true)
	if err != nil {
		return nil, err
	}
	if taken, err := roleNameTaken(ctx, c, str(body, "name"), ""); err != nil || taken {
		if err == nil {
			err = &Error{Code: "0x006002", Messages: []string{"The role_name has already been taken."}}
		}
		return nil, err
	}
	ext, err := createEntity(ctx, c, "role", kindRole, body)
	if err != nil {
		return nil, err
	}
	return numeric(ext), nil
}

// createEntity creates a directory entity (department, role) from body
// and allocates its e-office id of kind, which it returns.
func createEntity(ctx context.Context, c *Call, entity, kind string, body sdk.Doc) (string, error) {
	doc, err := c.Host.EntityCreate(ctx, c.P, entity, body)
	if err != nil {
		return "", FromHost(err, nil)
	}
	id := str(doc, "id")
	ext, err := ExtIDs(ctx, c.Host, c.Svc, kind, []string{id})
	if err != nil {
		return "", err
	}
	return ext[id], nil
}

// roleEdit serves PUT role/{roleId}: no data.
func roleEdit(ctx context.Context, c *Call) (any, error) {
	ext := c.Params["roleId"]
	hub, err := c.HubIDs(ctx, kindRole, []string{ext})
	if err != nil {
		return nil, err
	}
	if hub[ext] == "" {
		return nil, Fail(CodeNotExists)
	}
	body, err := roleBody(c, true)
	if err != nil {
		return nil, err
	}
	if taken, err := roleNameTaken(ctx, c, str(body, "name"), hub[ext]); err != nil || taken {
		if err == nil {
			err = &Error{Code: "0x006002", Messages: []string{"The role_name has already been taken."}}
		}
		return nil, err
	}
	if _, err := c.Host.EntityUpdate(ctx, c.P, "role", hub[ext], body, sdk.EntityOptions{}); err != nil {
		return nil, FromHost(err, nil)
	}
	return NoData, nil
}

// setDirector maps a department body's director (user ids, an array or
// a comma string) to the hub department's manager: the first of them (the
// directory keeps one); an empty list clears it, an unknown id is
// 0x000007.
func setDirector(ctx context.Context, c *Call, body sdk.Doc) error {
	if !c.In.Has("director") {
		return nil
	}
	var ext []string
	for _, v := range ListValues(c.In["director"]) {
		if s := strings.TrimSpace(ToStr(v)); s != "" {
			ext = append(ext, s)
		}
	}
	if len(ext) == 0 {
		body["managerId"] = nil
		return nil
	}
	hub, err := c.HubIDs(ctx, kindUser, ext[:1])
	if err != nil {
		return err
	}
	if hub[ext[0]] == "" {
		return FailField(CodeIllegalField, "director")
	}
	body["managerId"] = hub[ext[0]]
	return nil
}
