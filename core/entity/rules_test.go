package entity_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/store"
)

func TestTenantIsolation(t *testing.T) {
	f := newFixture(t)
	r1, _ := f.seedTV6()
	id := r1["id"].(string)
	eve := f.other

	_, err := f.svc.Get(f.ctx, eve, "formdata", id, "", "")
	wantErr(t, err, errs.NotFound, "")
	_, err = f.svc.Update(f.ctx, eve, "formdata", id, map[string]any{"data": map[string]any{"amount": 1}}, "")
	wantErr(t, err, errs.NotFound, "")
	err = f.svc.Delete(f.ctx, eve, "formdata", id, "")
	wantErr(t, err, errs.NotFound, "")
	// t1's form and its key are invisible in t2.
	_, err = f.svc.List(f.ctx, eve, "formdata", entity.ListOptions{FormID: "f_1"})
	wantErr(t, err, errs.NotFound, "")
	_, err = f.svc.List(f.ctx, eve, "orders", entity.ListOptions{})
	wantErr(t, err, errs.NotFound, "")
	_, err = f.svc.Get(f.ctx, eve, "user", "u_1001", "", "")
	wantErr(t, err, errs.NotFound, "")
	users := must[*entity.ListResult](t)(f.svc.List(f.ctx, eve, "user", entity.ListOptions{}))
	if len(users.Value) != 1 || users.Value[0]["id"] != "u_9" {
		t.Errorf("t2 users = %v", users.Value)
	}
	// A record created in t2 cannot reference t1's form.
	_, err = f.svc.Create(f.ctx, eve, "formdata", map[string]any{"formId": "f_1", "data": map[string]any{"customer": "x"}})
	wantErr(t, err, errs.Invalid, "validation_failed")
	// t1's record is untouched.
	got := must[map[string]any](t)(f.svc.Get(f.ctx, f.admin, "formdata", id, "", ""))
	if num(got["data"].(map[string]any)["amount"]) != 150 {
		t.Errorf("record changed: %v", got)
	}
}

func TestIfMatch(t *testing.T) {
	f := newFixture(t)
	r1, _ := f.seedTV6()
	id := r1["id"].(string)
	stale := `"` + jsonNum(r1["updateTime"]) + `"`
	upd := must[map[string]any](t)(f.svc.Update(f.ctx, f.admin, "formdata", id,
		map[string]any{"data": map[string]any{"amount": 151}}, stale))
	// The same (now stale) tag again → 409, nothing changes.
	_, err := f.svc.Update(f.ctx, f.admin, "formdata", id, map[string]any{"data": map[string]any{"amount": 152}}, stale)
	wantErr(t, err, errs.Conflict, "")
	err = f.svc.Delete(f.ctx, f.admin, "formdata", id, stale)
	wantErr(t, err, errs.Conflict, "")
	_, err = f.svc.Update(f.ctx, f.admin, "formdata", id, map[string]any{"data": map[string]any{"amount": 152}}, `"garbage"`)
	wantErr(t, err, errs.Conflict, "")
	got := must[map[string]any](t)(f.svc.Get(f.ctx, f.admin, "formdata", id, "data/amount", ""))
	if num(got["data"].(map[string]any)["amount"]) != 151 {
		t.Errorf("amount = %v", got)
	}
	fresh := `W/"` + jsonNum(upd["updateTime"]) + `"`
	if err := f.svc.Delete(f.ctx, f.admin, "formdata", id, fresh); err != nil {
		t.Fatal(err)
	}
}

func jsonNum(v any) string {
	n, _ := v.(int64)
	return strconv.FormatInt(n, 10)
}

func TestAdminOnlyWrites(t *testing.T) {
	f := newFixture(t)
	bodies := map[string]map[string]any{
		"app":        {"name": "x"},
		"form":       {"name": "x", "appId": "a_1"},
		"user":       {"userName": "x"},
		"department": {"name": "x"},
		"role":       {"name": "x"},
		"menu":       {"name": "x", "title": "X", "url": "/x", "sortIndex": 2},
		"schedule":   {"name": "x", "cron": "0 8 * * 1", "startTime": "2026-01-01T00:00:00+08:00"},
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			_, err := f.svc.Create(f.ctx, f.user, name, body)
			wantErr(t, err, errs.Forbidden, "")
			// Aliases are the same entity.
			_, err = f.svc.Create(f.ctx, f.user, strings.ToUpper(name), body)
			wantErr(t, err, errs.Forbidden, "")
			out := f.create(f.admin, name, body)
			id := out["id"].(string)
			_, err = f.svc.Update(f.ctx, f.user, name, id, map[string]any{"name": "y"}, "")
			wantErr(t, err, errs.Forbidden, "")
			err = f.svc.Delete(f.ctx, f.user, name, id, "")
			wantErr(t, err, errs.Forbidden, "")
		})
	}
	// Records are writable by any user; creator is the caller.
	r := f.create(f.user, "orders", map[string]any{"customer": "丙"})
	if r["createBy"].(map[string]any)["id"] != "u_2" {
		t.Errorf("createBy = %v", r["createBy"])
	}
	// Read-only kinds.
	_, err := f.svc.Create(f.ctx, f.admin, "wftodo", map[string]any{})
	wantErr(t, err, errs.MethodNotAllowed, "")
	// Typed input on the newly writable kinds.
	_, err = f.svc.Create(f.ctx, f.admin, "menu", map[string]any{"name": "x", "sortIndex": "first"})
	wantErr(t, err, errs.Invalid, "")
	_, err = f.svc.Create(f.ctx, f.admin, "nosuchentity", map[string]any{})
	wantErr(t, err, errs.NotFound, "")
}

func TestUserRules(t *testing.T) {
	f := newFixture(t)
	u := f.create(f.admin, "employee", map[string]any{"UserName": "carol", "empName": "Carol", "password": "pw1",
		"departmentId": "d_1", "roles": []any{"manager", map[string]any{"roleId": "r_admin"}}, "status": "disabled"})
	id := u["id"].(string)
	if _, ok := u["passwordHash"]; ok {
		t.Errorf("passwordHash returned: %v", u)
	}
	if _, ok := u["password"]; ok {
		t.Errorf("password returned: %v", u)
	}
	if num(u["status"]) != 1 || u["userName"] != "carol" {
		t.Errorf("user = %v", u)
	}
	roles := u["roles"].([]any)
	if len(roles) != 2 || roles[0].(map[string]any)["roleCode"] != "manager" ||
		roles[0].(map[string]any)["roleName"] != "主管" || roles[1].(map[string]any)["roleId"] != "r_admin" {
		t.Errorf("roles = %v", roles)
	}
	// The hash is stored, never output (list, get, select all, expand).
	doc, err := f.st.Get(f.ctx, "user", "t1", id)
	if err != nil || doc["passwordHash"] != "hashed:pw1" || doc["password"] != nil {
		t.Fatalf("stored = %v, %v", doc, err)
	}
	all := must[*entity.ListResult](t)(f.svc.List(f.ctx, f.admin, "user", entity.ListOptions{Select: "*", Expand: "roles,department"}))
	for _, v := range all.Value {
		if _, ok := v["passwordHash"]; ok {
			t.Errorf("list leaked passwordHash: %v", v)
		}
	}
	// Filter by role (any element).
	byRole := must[*entity.ListResult](t)(f.svc.List(f.ctx, f.admin, "user", entity.ListOptions{Filter: "roles/roleCode eq 'manager'"}))
	if len(byRole.Value) != 1 || byRole.Value[0]["id"] != id {
		t.Errorf("by role = %v", byRole.Value)
	}
	// Password change: hash replaced.
	must[map[string]any](t)(f.svc.Update(f.ctx, f.admin, "user", id, map[string]any{"password": "pw2"}, ""))
	doc, _ = f.st.Get(f.ctx, "user", "t1", id)
	if doc["passwordHash"] != "hashed:pw2" {
		t.Errorf("hash = %v", doc["passwordHash"])
	}

	cases := []struct {
		name string
		body map[string]any
		code errs.Code
	}{
		{"duplicate userName", map[string]any{"userName": "admin"}, errs.Conflict},
		{"missing userName", map[string]any{"empName": "x"}, errs.Invalid},
		{"unknown department", map[string]any{"userName": "z1", "departmentId": "nope"}, errs.Invalid},
		{"unknown role", map[string]any{"userName": "z2", "roles": []any{"nope"}}, errs.Invalid},
		{"passwordHash input", map[string]any{"userName": "z3", "passwordHash": "x"}, errs.Invalid},
		{"bad status", map[string]any{"userName": "z4", "status": "weird"}, errs.Invalid},
		{"unknown property", map[string]any{"userName": "z5", "salary": 1}, errs.Invalid},
	}
	before := must[int64](t)(f.svc.Count(f.ctx, f.admin, "user", entity.ListOptions{}))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svc.Create(f.ctx, f.admin, "user", c.body)
			wantErr(t, err, c.code, "")
		})
	}
	if after := must[int64](t)(f.svc.Count(f.ctx, f.admin, "user", entity.ListOptions{})); after != before {
		t.Errorf("user count %d → %d", before, after)
	}
}

func TestDepartmentHierarchy(t *testing.T) {
	f := newFixture(t)
	sub := f.create(f.admin, "department", map[string]any{"name": "前端组", "parentId": "d_1"})
	leaf := f.create(f.admin, "department", map[string]any{"name": "React", "parentId": sub["id"]})
	if sub["heriarchyId"] != "d_1/"+sub["id"].(string) || sub["heriarchyName"] != "研发部/前端组" || sub["parentName"] != "研发部" {
		t.Errorf("sub = %v", sub)
	}
	if leaf["heriarchyName"] != "研发部/前端组/React" {
		t.Errorf("leaf = %v", leaf)
	}
	// Renaming the middle rewrites the descendants.
	must[map[string]any](t)(f.svc.Update(f.ctx, f.admin, "department", sub["id"].(string), map[string]any{"name": "Web组"}, ""))
	got := must[map[string]any](t)(f.svc.Get(f.ctx, f.admin, "department", leaf["id"].(string), "", "parent.parent"))
	if got["heriarchyName"] != "研发部/Web组/React" || got["parentName"] != "Web组" {
		t.Errorf("leaf after rename = %v", got)
	}
	if p := got["parent"].(map[string]any); p["name"] != "Web组" || p["parent"].(map[string]any)["name"] != "研发部" {
		t.Errorf("expanded parents = %v", p)
	}
	// Cycles and unknown parents are rejected; a parent with children cannot go.
	_, err := f.svc.Update(f.ctx, f.admin, "department", "d_1", map[string]any{"parentId": leaf["id"]}, "")
	wantErr(t, err, errs.Invalid, "validation_failed")
	_, err = f.svc.Create(f.ctx, f.admin, "department", map[string]any{"name": "x", "parentId": "nope"})
	wantErr(t, err, errs.Invalid, "validation_failed")
	err = f.svc.Delete(f.ctx, f.admin, "department", sub["id"].(string), "")
	wantErr(t, err, errs.Conflict, "")
	// Filter on booleans, null semantics.
	top := must[*entity.ListResult](t)(f.svc.List(f.ctx, f.admin, "department", entity.ListOptions{Filter: "parentId eq '' or parentId eq null"}))
	if len(top.Value) != 1 || top.Value[0]["id"] != "d_1" {
		t.Errorf("top = %v", top.Value)
	}
}

func TestFormRules(t *testing.T) {
	f := newFixture(t)
	form := f.create(f.admin, "formdef", map[string]any{"name": "合同", "appId": "a_1", "key": "contract",
		"content": `{"items":[{"field":"title","type":"input","required":true},{"field":"total","type":"number"}]}`})
	if _, ok := form["content"].(map[string]any); !ok {
		t.Fatalf("content stored as %T", form["content"])
	}
	// The key is an entity name now (case-insensitively), flowStatus 3
	// (effective) without workflow (D-12.1).
	rec := f.create(f.user, "Contract", map[string]any{"title": "C-1", "TOTAL": "12.5"})
	if rec["formId"] != form["id"] || num(rec["flowStatus"]) != 3 || rec["dataTitle"] != "C-1" ||
		num(rec["data"].(map[string]any)["total"]) != 12.5 {
		t.Errorf("record = %v", rec)
	}
	list := must[*entity.ListResult](t)(f.svc.List(f.ctx, f.user, "contract", entity.ListOptions{Filter: "data/total gt 10"}))
	if len(list.Value) != 1 {
		t.Errorf("list = %v", list.Value)
	}
	// A record of another form is not visible through this key.
	r1, _ := f.seedTV6()
	_, err := f.svc.Get(f.ctx, f.user, "contract", r1["id"].(string), "", "")
	wantErr(t, err, errs.NotFound, "")

	cases := []struct {
		name   string
		body   map[string]any
		code   errs.Code
		reason string
	}{
		{"reserved key", map[string]any{"name": "x", "appId": "a_1", "key": "User"}, errs.Invalid, "validation_failed"},
		{"reserved family", map[string]any{"name": "x", "appId": "a_1", "key": "workflow"}, errs.Invalid, "validation_failed"},
		{"duplicate key", map[string]any{"name": "x", "appId": "a_1", "key": "ORDERS"}, errs.Conflict, ""},
		{"bad key", map[string]any{"name": "x", "appId": "a_1", "key": "a b"}, errs.Invalid, "validation_failed"},
		{"bad content", map[string]any{"name": "x", "appId": "a_1", "content": map[string]any{"items": []any{map[string]any{"field": "a", "type": "nope"}}}}, errs.Invalid, "validation_failed"},
		{"unknown app", map[string]any{"name": "x", "appId": "a_9"}, errs.Invalid, "validation_failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svc.Create(f.ctx, f.admin, "form", c.body)
			wantErr(t, err, c.code, c.reason)
		})
	}
	n := must[int64](t)(f.svc.Count(f.ctx, f.admin, "form", entity.ListOptions{}))
	if n != 2 {
		t.Errorf("forms = %d", n)
	}
	// formdata.form / app navigation.
	got := must[map[string]any](t)(f.svc.Get(f.ctx, f.admin, "formdata", rec["id"].(string), "id", "form($select=key;$expand=app),app"))
	if got["form"].(map[string]any)["key"] != "contract" || got["app"].(map[string]any)["name"] != "销售" ||
		got["form"].(map[string]any)["app"].(map[string]any)["id"] != "a_1" {
		t.Errorf("expanded = %v", got)
	}
}

func TestWriteSemantics(t *testing.T) {
	f := newFixture(t)
	r1, r2 := f.seedTV6()
	id := r2["id"].(string)

	// Server-set fields are ignored on input.
	app := f.create(f.admin, "app", map[string]any{"name": "A", "corpId": "t2", "createTime": 5, "id": "mine",
		"createBy": map[string]any{"id": "x"}, "sortIndex": "3"})
	if app["corpId"] != "t1" || app["id"] == "mine" || num(app["createTime"]) == 5 ||
		app["createBy"].(map[string]any)["id"] != "u_1001" || num(app["sortIndex"]) != 3 {
		t.Errorf("app = %v", app)
	}
	// null clears: a top-level property and a data field.
	upd := must[map[string]any](t)(f.svc.Update(f.ctx, f.admin, "app", app["id"].(string), map[string]any{"sortIndex": nil, "description": "d"}, ""))
	if _, ok := upd["sortIndex"]; ok || upd["description"] != "d" || upd["name"] != "A" {
		t.Errorf("app after merge = %v", upd)
	}
	rec := must[map[string]any](t)(f.svc.Update(f.ctx, f.admin, "orders", id, map[string]any{"region": nil}, ""))
	if _, ok := rec["data"].(map[string]any)["region"]; ok {
		t.Errorf("region not cleared: %v", rec["data"])
	}
	// Body id ≠ path → 400; same id is fine.
	_, err := f.svc.Update(f.ctx, f.admin, "orders", id, map[string]any{"id": "other", "amount": 1}, "")
	wantErr(t, err, errs.Invalid, "invalid_request")
	must[map[string]any](t)(f.svc.Update(f.ctx, f.admin, "orders", id, map[string]any{"id": id, "amount": 2}, ""))
	// Records cannot move between forms; a required field cannot be cleared.
	_, err = f.svc.Update(f.ctx, f.admin, "formdata", id, map[string]any{"formId": "f_2"}, "")
	wantErr(t, err, errs.Invalid, "validation_failed")
	_, err = f.svc.Update(f.ctx, f.admin, "formdata", id, map[string]any{"data": map[string]any{"customer": nil}}, "")
	wantErr(t, err, errs.Invalid, "validation_failed")
	// flowStatus is server-set; appId is a request property that must be
	// the form's app (§12.8.2).
	got := must[map[string]any](t)(f.svc.Update(f.ctx, f.admin, "formdata", r1["id"].(string), map[string]any{"flowStatus": 3, "appId": "a_1"}, ""))
	if num(got["flowStatus"]) != 1 || got["appId"] != "a_1" {
		t.Errorf("server-set fields changed: %v", got)
	}
	_, err = f.svc.Update(f.ctx, f.admin, "formdata", r1["id"].(string), map[string]any{"appId": "zz"}, "")
	wantErr(t, err, errs.Invalid, "validation_failed")
	// Unknown properties on non-record entities → 400.
	_, err = f.svc.Update(f.ctx, f.admin, "app", app["id"].(string), map[string]any{"colour": "red"}, "")
	e := wantErr(t, err, errs.Invalid, "validation_failed")
	if len(e.Details) != 1 || e.Details[0].Target != "colour" {
		t.Errorf("details = %v", e.Details)
	}
}

func TestHostileInput(t *testing.T) {
	f := newFixture(t)
	f.seedTV6()
	cases := []struct {
		name   string
		entity string
		body   map[string]any
	}{
		{"$where flat", "orders", map[string]any{"customer": "x", "$where": "1"}},
		{"dotted key flat", "orders", map[string]any{"customer": "x", "data.$gt": ""}},
		{"operator in data", "formdata", map[string]any{"formId": "f_1", "data": map[string]any{"customer": map[string]any{"$gt": ""}}}},
		{"operator key in data", "formdata", map[string]any{"formId": "f_1", "data": map[string]any{"customer": "x", "$set": map[string]any{}}}},
		{"operator in free object", "app", map[string]any{"name": "x", "appMenus": []any{map[string]any{"$where": "1"}}}},
		{"unknown top-level", "app", map[string]any{"name": "x", "$where": "1"}},
		{"nested too deep", "app", map[string]any{"name": "x", "appMenus": deep(40)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svc.Create(f.ctx, f.admin, c.entity, c.body)
			wantErr(t, err, errs.Invalid, "validation_failed")
		})
	}
	if n := f.countRecords("f_1"); n != 2 {
		t.Errorf("records = %d", n)
	}
	if n := must[int64](t)(f.svc.Count(f.ctx, f.admin, "app", entity.ListOptions{})); n != 1 {
		t.Errorf("apps = %d", n)
	}
	// Decoding: malformed, trailing, non-object, too deep.
	for _, raw := range []string{`{`, `{"a":1} x`, `[1]`, strings.Repeat("[", 100) + strings.Repeat("]", 100),
		`{"a":` + strings.Repeat(`{"b":`, 40) + `1` + strings.Repeat("}", 41)} {
		_, err := entity.DecodeJSON([]byte(raw))
		wantErr(t, err, errs.Invalid, "invalid_request")
	}
	m, err := entity.DecodeJSON([]byte(`{"n": 5, "s": "x{[", "big": 12345678901234567890}`))
	if err != nil || m["n"] != float64(5) || m["s"] != "x{[" {
		t.Errorf("decoded %v, %v", m, err)
	}
}

func deep(n int) []any {
	var v any = "x"
	for range n {
		v = map[string]any{"k": v}
	}
	return []any{v}
}

func TestListing(t *testing.T) {
	f := newFixture(t)
	r1, r2 := f.seedTV6()
	cases := []struct {
		name string
		ent  string
		opts entity.ListOptions
		want []any // ids in order
	}{
		{"default order", "formdata", entity.ListOptions{FormID: "f_1"}, []any{r1["id"], r2["id"]}},
		{"form-key entity", "orders", entity.ListOptions{OrderBy: "data/amount"}, []any{r2["id"], r1["id"]}},
		{"formId conjunct", "record", entity.ListOptions{Filter: "(formId eq 'f_1') and data/amount lt 100"}, []any{r2["id"]}},
		{"formId conjunct reversed", "formdata", entity.ListOptions{Filter: "data/amount gt 100 and 'f_1' eq formId"}, []any{r1["id"]}},
		{"enum by name", "orders", entity.ListOptions{Filter: "flowStatus eq 'draft'"}, []any{r1["id"], r2["id"]}},
		{"top/skip", "orders", entity.ListOptions{Top: "1", Skip: "1"}, []any{r2["id"]}},
		{"top 0", "orders", entity.ListOptions{Top: "0"}, []any{}},
		{"creator filter", "orders", entity.ListOptions{Filter: "createBy/label eq 'Admin' and createBy eq 'u_1001'", OrderBy: "createTime desc"}, []any{r2["id"], r1["id"]}},
		{"appId shortcut", "orders", entity.ListOptions{AppID: "a_x"}, []any{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := f.svc.List(f.ctx, f.admin, c.ent, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := []any{}
			for _, v := range res.Value {
				got = append(got, v["id"])
			}
			if !jsonEqual(got, c.want) {
				t.Errorf("ids = %v, want %v", got, c.want)
			}
		})
	}
	// $select data keeps all fields; id always; select of a form field case-insensitively.
	res := must[*entity.ListResult](t)(f.svc.List(f.ctx, f.admin, "orders", entity.ListOptions{Select: "data", Top: "1"}))
	if len(res.Value[0]) != 2 || len(res.Value[0]["data"].(map[string]any)) != 4 {
		t.Errorf("select data = %v", res.Value[0])
	}
	res = must[*entity.ListResult](t)(f.svc.List(f.ctx, f.admin, "orders", entity.ListOptions{Select: "DATA/Customer,createBy/label", Top: "1"}))
	if !jsonEqual(res.Value[0], map[string]any{"id": r1["id"], "data": map[string]any{"customer": "甲公司"}, "createBy": map[string]any{"label": "Admin"}}) {
		t.Errorf("select = %v", res.Value[0])
	}
	_, err := f.svc.List(f.ctx, f.admin, "orders", entity.ListOptions{Select: "data/nope"})
	wantErr(t, err, errs.Invalid, "invalid_select")
	// Expand batching: many rows, one lookup per navigation level.
	for i := range 5 {
		f.create(f.user, "orders", map[string]any{"customer": "c" + strconv.Itoa(i)})
	}
	f.st.reset()
	res = must[*entity.ListResult](t)(f.svc.List(f.ctx, f.admin, "orders", entity.ListOptions{Expand: "creator($expand=department($expand=parent)),form"}))
	if len(res.Value) != 7 || f.st.count("user") != 1 || f.st.count("department") != 1 || f.st.count("form") != 1 {
		// form: the key "orders" comes from the record core's form cache,
		// one lookup for the expansion;
		// department.parent: no ids to look up (d_1 is top-level).
		t.Errorf("rows %d, finds %v", len(res.Value), f.st.finds)
	}
	last := res.Value[6]
	if last["creator"].(map[string]any)["department"].(map[string]any)["name"] != "研发部" {
		t.Errorf("expanded = %v", last)
	}
	if _, ok := last["creator"].(map[string]any)["department"].(map[string]any)["parent"]; !ok {
		t.Errorf("parent should be present (null) in %v", last)
	}
}

func TestDynamicQueryAndCount(t *testing.T) {
	f := newFixture(t)
	r1, r2 := f.seedTV6()
	body := `{"select":[{"field":"data.amount","visible":true}],
	  "filter":{"rel":"and","items":[{"field":"formId","op":"eq","value":"f_1"},
	    {"field":"data.amount","type":"number","op":"gte","value":50}]},
	  "sort":[{"field":"createTime","dir":-1}],"skip":0,"take":20}`
	res, err := f.svc.Query(f.ctx, f.admin, "formdata", "", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Value) != 2 || res.Value[0]["id"] != r2["id"] || !jsonEqual(res.Value[1], map[string]any{"id": r1["id"], "data": map[string]any{"amount": 150}}) {
		t.Errorf("query = %v", res.Value)
	}
	// Exclusion select on the form-key entity.
	res = must[*entity.ListResult](t)(f.svc.Query(f.ctx, f.admin, "orders", "", []byte(`{"select":[{"field":"data","visible":false}]}`)))
	if _, ok := res.Value[0]["data"]; ok || res.Value[0]["formId"] != "f_1" {
		t.Errorf("exclusion = %v", res.Value[0])
	}
	_, err = f.svc.Query(f.ctx, f.admin, "formdata", "", []byte(`{}`))
	wantErr(t, err, errs.Invalid, "invalid_request")

	for _, c := range []struct {
		body string
		want int64
	}{
		{`{"rel":"and","items":[{"field":"formId","op":"eq","value":"f_1"},{"field":"data.customer","op":"eq","value":"乙公司"}]}`, 1},
		{`{"filter":{"field":"formId","op":"eq","value":"f_1"}}`, 2},
	} {
		n, err := f.svc.CountQuery(f.ctx, f.admin, "formdata", "", []byte(c.body))
		if err != nil || n != c.want {
			t.Errorf("count %s = %d, %v", c.body, n, err)
		}
	}
	n, err := f.svc.CountQuery(f.ctx, f.admin, "orders", "", nil)
	if err != nil || n != 2 {
		t.Errorf("count all = %d, %v", n, err)
	}
}

// Messages (§6.2): written by the system; each user reads its own (admins
// read all) and marks it read; nobody else sees or changes it.
func TestMessagesBelongToTheirReceiver(t *testing.T) {
	f := newFixture(t)
	op := map[string]any{"id": "system", "value": "system", "label": "system"}
	for _, m := range []store.Doc{
		{"id": "m_bob", "corpId": "t1", "title": "给 Bob", "receiverEmpId": "u_2", "isRead": false, "category": int64(0)},
		{"id": "m_admin", "corpId": "t1", "title": "给 Admin", "receiverEmpId": "u_1001", "isRead": false, "category": int64(2)},
	} {
		m["createBy"], m["updateBy"], m["createTime"], m["updateTime"] = op, op, int64(1), int64(1)
		if err := f.st.Insert(f.ctx, "message", m); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(p *principal.Principal, o entity.ListOptions) []string {
		t.Helper()
		res, err := f.svc.List(f.ctx, p, "message", o)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range res.Value {
			out = append(out, v["id"].(string))
		}
		return out
	}
	if got := ids(f.user, entity.ListOptions{}); !slices.Equal(got, []string{"m_bob"}) {
		t.Errorf("bob lists %v", got)
	}
	// A filter naming someone else's messages does not widen the scope.
	if got := ids(f.user, entity.ListOptions{Filter: "receiverEmpId eq 'u_1001'"}); len(got) != 0 {
		t.Errorf("bob lists admin's messages: %v", got)
	}
	if got := ids(f.admin, entity.ListOptions{OrderBy: "id"}); !slices.Equal(got, []string{"m_admin", "m_bob"}) {
		t.Errorf("admin lists %v", got)
	}
	if n, err := f.svc.Count(f.ctx, f.user, "message", entity.ListOptions{}); err != nil || n != 1 {
		t.Errorf("bob counts %d, %v", n, err)
	}
	if res, err := f.svc.Query(f.ctx, f.user, "message", "", []byte(`{}`)); err != nil || len(res.Value) != 1 {
		t.Errorf("bob $query = %v, %v", res, err)
	}
	_, err := f.svc.Get(f.ctx, f.user, "message", "m_admin", "", "")
	wantErr(t, err, errs.NotFound, "")
	if _, err := f.svc.Get(f.ctx, f.admin, "message", "m_bob", "", ""); err != nil {
		t.Errorf("admin get: %v", err)
	}

	// The receiver marks it read (readTime stamped) and unread again.
	out, err := f.svc.Update(f.ctx, f.user, "message", "m_bob", map[string]any{"isRead": true}, "")
	if err != nil || out["isRead"] != true || out["readTime"] == nil {
		t.Fatalf("mark read = %v, %v", out, err)
	}
	out, err = f.svc.Update(f.ctx, f.user, "SystemMessage", "m_bob", map[string]any{"isRead": false}, "")
	if err != nil || out["isRead"] != false || out["readTime"] != nil {
		t.Fatalf("mark unread = %v, %v", out, err)
	}
	// Read-only properties are ignored, as on every entity (§6.1).
	out, err = f.svc.Update(f.ctx, f.user, "message", "m_bob", map[string]any{"title": "changed"}, "")
	if err != nil || out["title"] != "给 Bob" {
		t.Errorf("title update = %v, %v", out, err)
	}
	_, err = f.svc.Update(f.ctx, f.user, "message", "m_bob", map[string]any{"isRead": "perhaps"}, "")
	wantErr(t, err, errs.Invalid, "")
	// Not the receiver: not found, admins included.
	_, err = f.svc.Update(f.ctx, f.admin, "message", "m_bob", map[string]any{"isRead": true}, "")
	wantErr(t, err, errs.NotFound, "")
	_, err = f.svc.Update(f.ctx, f.user, "message", "m_admin", map[string]any{"isRead": true}, "")
	wantErr(t, err, errs.NotFound, "")
	// Only the system creates messages; nobody deletes them.
	_, err = f.svc.Create(f.ctx, f.admin, "message", map[string]any{"isRead": true})
	wantErr(t, err, errs.MethodNotAllowed, "")
	wantErr(t, f.svc.Delete(f.ctx, f.user, "message", "m_bob", ""), errs.MethodNotAllowed, "")
	// Another tenant sees nothing.
	if got := ids(f.other, entity.ListOptions{}); len(got) != 0 {
		t.Errorf("other tenant lists %v", got)
	}
}
