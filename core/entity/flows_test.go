package entity_test

import (
	"testing"

	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/workflow"
)

func TestDefinitionEntities(t *testing.T) {
	f := newFixture(t)
	wf := f.create(f.admin, "WfDefinition", map[string]any{"name": "订单审批", "key": "wd_orders", "sourceId": "f_1",
		"content": `{"nodes":[{"id":"n","type":"approve","assignees":{"users":["admin"]}}]}`})
	if wf["flowType"] != int64(0) || wf["version"] != int64(1) || wf["externalId"] != "f_1" || wf["isCurrent"] != false {
		t.Fatalf("wfdefinition = %v", wf)
	}
	_, err := f.svc.Create(f.ctx, f.admin, "wfdefinition", map[string]any{"name": "x",
		"content": map[string]any{"nodes": []any{map[string]any{"id": "n", "type": "script"}}}})
	wantErr(t, err, errs.Invalid, "validation_failed")
	_, err = f.svc.Create(f.ctx, f.admin, "wfdefinition", map[string]any{"name": "x"})
	wantErr(t, err, errs.Invalid, "")
	_, err = f.svc.Create(f.ctx, f.user, "wfdefinition", map[string]any{"name": "x", "content": `{"nodes":[]}`})
	wantErr(t, err, errs.Forbidden, "")
	df := f.create(f.admin, "dataflowdefinition", map[string]any{"name": "合计", "key": "sum",
		"content": map[string]any{"nodes": []any{map[string]any{"id": "s", "type": "script", "script": "return 1;"}}}})
	if df["flowType"] != "dataflow" {
		t.Fatalf("dfdefinition = %v", df)
	}
	_, err = f.svc.Create(f.ctx, f.admin, "dfdefinition", map[string]any{"name": "x", "flowType": "workflow",
		"content": map[string]any{"nodes": []any{map[string]any{"id": "s", "type": "script", "script": "return 1;"}}}})
	wantErr(t, err, errs.Invalid, "")
	_, err = f.svc.Update(f.ctx, f.admin, "dfdefinition", df["id"].(string), map[string]any{
		"content": map[string]any{"nodes": []any{map[string]any{"id": "s", "type": "script", "script": "return ("}}}}, "")
	wantErr(t, err, errs.Invalid, "validation_failed")
}

// wftodo lists the caller's own tasks; admins may filter by assignee; a
// deleted record's running instance is cancelled with it.
func TestTodoScopeAndRecordDelete(t *testing.T) {
	f := newFixture(t)
	f.create(f.admin, "wfdefinition", map[string]any{"name": "审批", "key": "wd", "sourceId": "f_1",
		"content": `{"nodes":[{"id":"n","type":"approve","assignees":{"users":["admin","bob"]}}]}`})
	rec := f.create(f.user, "orders", map[string]any{"customer": "甲"})
	eng := workflow.New(f.st, workflow.Options{})
	s, err := eng.Start(f.ctx, f.user, workflow.StartRequest{DefinitionID: "wd", BusinessKey: rec["id"].(string)})
	if err != nil || len(s.Tasks) != 2 {
		t.Fatalf("start = %+v, %v", s, err)
	}
	list := func(p *principal.Principal, filter string) []map[string]any {
		res, err := f.svc.List(f.ctx, p, "wftodo", entity.ListOptions{Filter: filter})
		if err != nil {
			t.Fatal(err)
		}
		return res.Value
	}
	if v := list(f.user, ""); len(v) != 1 || v[0]["employeeId"] != "u_2" {
		t.Fatalf("bob's todo = %v", v)
	}
	if v := list(f.user, "employeeId eq 'u_1001'"); len(v) != 0 {
		t.Fatalf("bob sees admin's task: %v", v)
	}
	if v := list(f.admin, ""); len(v) != 1 || v[0]["employeeId"] != "u_1001" {
		t.Fatalf("admin's own todo = %v", v)
	}
	if v := list(f.admin, "employeeId eq 'u_2'"); len(v) != 1 || v[0]["employeeId"] != "u_2" {
		t.Fatalf("admin filtering by assignee = %v", v)
	}
	if n, err := f.svc.Count(f.ctx, f.user, "task", entity.ListOptions{}); err != nil || n != 1 {
		t.Fatalf("bob's $count = %d, %v", n, err)
	}
	if n, err := f.svc.CountQuery(f.ctx, f.user, "wftodo", "", nil); err != nil || n != 1 {
		t.Fatalf("bob's POST $count = %d, %v", n, err)
	}
	if res, err := f.svc.Query(f.ctx, f.user, "wftodo", "", []byte(`{}`)); err != nil || len(res.Value) != 1 {
		t.Fatalf("bob's $query = %v, %v", res, err)
	}
	if err := f.svc.Delete(f.ctx, f.user, "orders", rec["id"].(string), ""); err != nil {
		t.Fatal(err)
	}
	in, err := eng.InstanceOf(f.ctx, "t1", rec["id"].(string))
	if err != nil || in.Status != workflow.StatusCancelled || len(in.Pending()) != 0 {
		t.Fatalf("instance after delete = %+v, %v", in, err)
	}
	if v := list(f.admin, "employeeId eq 'u_2'"); len(v) != 0 {
		t.Fatalf("tasks of a deleted record remain: %v", v)
	}
}

func TestFileDelete(t *testing.T) {
	f := newFixture(t)
	for _, d := range []map[string]any{
		{"id": "file_a", "corpId": "t1", "fileName": "a.pdf", "isPublic": true, "createBy": map[string]any{"id": "u_2"}},
		{"id": "file_b", "corpId": "t1", "fileName": "b.pdf", "createBy": map[string]any{"id": "u_1001"}}} {
		if err := f.st.Insert(f.ctx, "file", d); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.st.Insert(f.ctx, "filepublic", map[string]any{"id": "file_a", "corpId": "", "tenant": "t1"}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, f.svc.Delete(f.ctx, f.user, "file", "file_b", ""), errs.Forbidden, "")
	if err := f.svc.Delete(f.ctx, f.user, "uploadedfile", "file_a", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Get(f.ctx, "filepublic", "", "file_a"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("public index left: %v", err)
	}
	if err := f.svc.Delete(f.ctx, f.admin, "file", "file_b", ""); err != nil {
		t.Fatal(err)
	}
}
