package entity_test

import (
	"encoding/json"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// menusOf returns app id's appMenus as JSON.
func (f *fixture) menusOf(id string) string {
	f.t.Helper()
	a, err := f.svc.Get(f.ctx, f.admin, "app", id, "", "")
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := json.Marshal(a["appMenus"])
	return string(b)
}

// TestFormMenus: creating, renaming, moving and deleting a form keeps its
// app's menus in step, in the form's transaction (spec §12.6.1); an entry
// inside a group's subMenus is renamed and removed where it is.
func TestFormMenus(t *testing.T) {
	f := newFixture(t)
	app := f.create(f.admin, "App", map[string]any{"id": "", "name": "采购"})
	aid := app["id"].(string)
	if f.menusOf(aid) != `[]` {
		t.Fatalf("new app menus = %s", f.menusOf(aid))
	}
	content := map[string]any{"layout": "[]", "options": "{}"}
	f1 := f.create(f.admin, "FormDef", map[string]any{"appId": aid, "name": "表一", "content": content})["id"].(string)
	f2 := f.create(f.admin, "FormDef", map[string]any{"appId": aid, "name": "表二", "content": content})["id"].(string)
	want := `[{"icon":"","iconColor":"","menuId":"` + f1 + `","menuType":0,"sortIndex":100,"title":"表一"},` +
		`{"icon":"","iconColor":"","menuId":"` + f2 + `","menuType":0,"sortIndex":200,"title":"表二"}]`
	if got := f.menusOf(aid); got != want {
		t.Fatalf("menus\n got %s\nwant %s", got, want)
	}
	// The admin groups form 2 (the client's SaveMenus writes appMenus whole).
	must[map[string]any](t)(f.svc.Update(f.ctx, f.admin, "App", aid, map[string]any{"appMenus": []any{
		map[string]any{"menuId": f1, "title": "表一", "menuType": 0, "sortIndex": 100},
		map[string]any{"menuId": "g1", "title": "分组", "menuType": 2, "sortIndex": 300, "subMenus": []any{
			map[string]any{"menuId": f2, "title": "表二", "menuType": 0, "sortIndex": 10}}}}}, ""))
	must[map[string]any](t)(f.svc.Update(f.ctx, f.admin, "FormDef", f2, map[string]any{"name": "表二改"}, ""))
	var menus []map[string]any
	_ = json.Unmarshal([]byte(f.menusOf(aid)), &menus)
	sub := menus[1]["subMenus"].([]any)[0].(map[string]any)
	if len(menus) != 2 || sub["title"] != "表二改" {
		t.Fatalf("rename inside a group: %s", f.menusOf(aid))
	}
	// A failing form write leaves the menus alone (one transaction).
	_, err := f.svc.Update(f.ctx, f.admin, "FormDef", f2, map[string]any{"name": "坏", "content": map[string]any{"layout": "[", "options": "{}"}}, "")
	wantErr(t, err, errs.Invalid, "validation_failed")
	if sub := func() any {
		_ = json.Unmarshal([]byte(f.menusOf(aid)), &menus)
		return menus[1]["subMenus"].([]any)[0].(map[string]any)["title"]
	}(); sub != "表二改" {
		t.Fatalf("refused write renamed the menu: %v", sub)
	}
	// Moving form 1 to another app moves its entry.
	must[map[string]any](t)(f.svc.Update(f.ctx, f.admin, "FormDef", f1, map[string]any{"appId": "a_1"}, ""))
	if got := f.menusOf("a_1"); got != `[{"icon":"","iconColor":"","menuId":"`+f1+`","menuType":0,"sortIndex":100,"title":"表一"}]` {
		t.Fatalf("a_1 menus = %s", got)
	}
	// Deleting form 2 removes it from the group and deletes its records.
	for i := 0; i < 3; i++ {
		f.create(f.user, "formdata", map[string]any{"formId": f2, "data": map[string]any{}})
	}
	if n := f.countRecords(f2); n != 3 {
		t.Fatalf("records of form 2 = %d", n)
	}
	if err := f.svc.Delete(f.ctx, f.admin, "FormDef", f2, ""); err != nil {
		t.Fatal(err)
	}
	if n, err := f.st.Count(f.ctx, "formdata", "t1", query.Cmp{Path: query.Path{"formId"}, Op: query.Eq, Value: f2}); err != nil || n != 0 {
		t.Fatalf("records of the deleted form = %d, %v", n, err)
	}
	_ = json.Unmarshal([]byte(f.menusOf(aid)), &menus)
	if len(menus) != 1 || len(menus[0]["subMenus"].([]any)) != 0 {
		t.Fatalf("after delete: %s", f.menusOf(aid))
	}
}

// TestMigrateWebClient: stored forms without a designer layout get one and
// their menu entry; workflow definitions get the §12.11 shape; a second
// run changes nothing.
func TestMigrateWebClient(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"t1", "t2"} {
		if err := f.st.Insert(f.ctx, "tenant", store.Doc{"id": id, "corpId": "", "name": id}); err != nil {
			t.Fatal(err)
		}
	}
	op := map[string]any{"id": "system"}
	for _, d := range []struct {
		coll string
		doc  store.Doc
	}{
		{"form", store.Doc{"id": "f_bad", "corpId": "t1", "appId": "a_1", "name": "坏", "content": map[string]any{"items": "x"}}},
		{"form", store.Doc{"id": "f_t2", "corpId": "t2", "appId": "a_9", "name": "其他", "content": map[string]any{"items": []any{}}}},
		{"wfdefinition", store.Doc{"id": "wd_old", "corpId": "t1", "sourceId": "f_1", "name": "旧", "version": int64(1),
			"flowType": "workflow", "content": map[string]any{"nodes": []any{}}}},
	} {
		d.doc["createBy"], d.doc["updateBy"], d.doc["createTime"], d.doc["updateTime"] = op, op, int64(1), int64(1)
		if err := f.st.Insert(f.ctx, d.coll, d.doc); err != nil {
			t.Fatal(err)
		}
	}
	designed := f.create(f.admin, "FormDef", map[string]any{"appId": "a_1", "name": "新", "content": map[string]any{"layout": "[]"}})
	// The fixture's apps a_1 (t1) and a_9 (t2) have no appMenus: they get [] —
	// a_1's then takes f_1's entry (the form created above added its own).
	n, err := f.svc.MigrateWebClient(f.ctx)
	if err != nil || n != 4 {
		t.Fatalf("MigrateWebClient = %d, %v; want 4 (a_9, f_1, f_t2, wd_old)", n, err)
	}
	if got := must[map[string]any](t)(f.svc.Get(f.ctx, f.other, "app", "a_9", "", ""))["appMenus"]; got == nil {
		t.Fatalf("a_9 appMenus = %v", got)
	}
	form := must[map[string]any](t)(f.svc.Get(f.ctx, f.admin, "formdef", "f_1", "", ""))
	c := form["content"].(map[string]any)
	var rules []map[string]any
	if err := json.Unmarshal([]byte(c["layout"].(string)), &rules); err != nil || len(rules) != 4 || rules[3]["type"] != "tableform" {
		t.Fatalf("f_1 layout = %v (%v)", c["layout"], err)
	}
	var menus []map[string]any
	_ = json.Unmarshal([]byte(f.menusOf("a_1")), &menus)
	if len(menus) != 2 || menus[0]["menuId"] != designed["id"] || menus[1]["menuId"] != "f_1" {
		t.Fatalf("a_1 menus = %s", f.menusOf("a_1"))
	}
	wd := must[map[string]any](t)(f.svc.Get(f.ctx, f.admin, "wfdefinition", "wd_old", "", ""))
	if wd["flowType"] != int64(0) || wd["externalId"] != "f_1" || wd["eventSource"] != int64(0) || wd["disabled"] != false {
		t.Fatalf("wd_old = %v", wd)
	}
	if bad, _ := f.st.Get(f.ctx, "form", "t1", "f_bad"); bad["content"].(map[string]any)["items"] != "x" {
		t.Fatalf("an unparsable form was changed: %v", bad)
	}
	if n, err := f.svc.MigrateWebClient(f.ctx); err != nil || n != 0 {
		t.Fatalf("second run = %d, %v", n, err)
	}
}
