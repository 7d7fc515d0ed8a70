package workflow_test

import (
	"fmt"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
)

// A to-do carries the form's name and the brief of the record: the first
// six fields of the form in order, {field, title, value} (§12.9.1).
func TestTodoFormNameAndBrief(t *testing.T) {
	f := newFixture(t)
	var items []any
	data := map[string]any{}
	for i := 1; i <= 8; i++ {
		key := fmt.Sprintf("f%d", i)
		items = append(items, map[string]any{"field": key, "type": "number", "title": fmt.Sprintf("字段%d", i)})
		if i != 2 {
			data[key] = float64(i)
		}
	}
	items[0].(map[string]any)["title"] = "" // no title: the key
	f.ins(t, "form", store.Doc{"id": "f_wide", "appId": "a_1", "name": "宽表", "usingWorkflow": true,
		"content": map[string]any{"items": items}})
	f.ins(t, "wfdefinition", store.Doc{"id": "wd_wide", "sourceId": "f_wide", "name": "宽表审批", "version": int64(1),
		"flowType": "workflow", "content": `{"nodes":[{"id":"n1","type":"approve","name":"审批","assignees":{"users":["u_alice"]}}]}`})
	rec := f.record("f_wide", data)
	must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{Form: "f_wide", BusinessKey: rec}))
	todos, err := f.st.Find(f.ctx, workflow.CollTodo, tenant, query.Query{Filter: query.Cmp{Path: query.Path{"dataId"}, Op: query.Eq, Value: rec}, Limit: -1})
	if err != nil || len(todos) != 1 {
		t.Fatalf("todos %v %v", todos, err)
	}
	if todos[0]["formName"] != "宽表" {
		t.Fatalf("formName = %v", todos[0]["formName"])
	}
	brief, _ := todos[0]["dataBrief"].([]any)
	if len(brief) != workflow.BriefFields {
		t.Fatalf("dataBrief has %d entries: %v", len(brief), brief)
	}
	for i, b := range brief {
		m := b.(map[string]any)
		key := fmt.Sprintf("f%d", i+1)
		title := fmt.Sprintf("字段%d", i+1)
		if i == 0 {
			title = key
		}
		want := fmt.Sprint(i + 1)
		if i == 1 {
			want = "<nil>" // the record has no value
		}
		if m["field"] != key || m["title"] != title || fmt.Sprint(m["value"]) != want {
			t.Fatalf("dataBrief[%d] = %v", i, m)
		}
	}
}

func TestDataBriefOfFewFields(t *testing.T) {
	f := &schema.Form{Fields: []schema.FieldDef{{Field: "a", Type: "input", Title: "甲"}}}
	got := workflow.DataBrief(f, store.Doc{"data": map[string]any{"a": "x", "b": "y"}})
	if len(got) != 1 || got[0].(map[string]any)["value"] != "x" {
		t.Fatalf("brief = %v", got)
	}
	if got := workflow.DataBrief(&schema.Form{}, store.Doc{}); got == nil || len(got) != 0 {
		t.Fatalf("brief of a form without fields = %#v, want []", got)
	}
}

// SubmitRecord: no definition → nothing changes; with one → approving;
// waiting at the start node → the start task is completed.
func TestSubmitRecord(t *testing.T) {
	f := newFixture(t)
	f.ins(t, "form", store.Doc{"id": "f_nodef", "appId": "a_1", "name": "无定义", "usingWorkflow": true,
		"content": map[string]any{"items": []any{map[string]any{"field": "x", "type": "input"}}}})
	rec := f.record("f_nodef", map[string]any{})
	if has, err := f.eng.HasDefinition(f.ctx, tenant, "f_nodef"); err != nil || has {
		t.Fatalf("HasDefinition = %v %v", has, err)
	}
	if started, err := f.eng.SubmitRecord(f.ctx, f.bob, "f_nodef", rec); err != nil || started {
		t.Fatalf("submit without definition = %v %v", started, err)
	}
	if n := f.count(t, workflow.CollInstance, byData(rec)); n != 0 || f.flowStatus(t, rec) != 1 {
		t.Fatalf("instances %d, flowStatus %d", n, f.flowStatus(t, rec))
	}
	if _, err := f.eng.HasDefinition(f.ctx, tenant, "nope"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("HasDefinition of an unknown form: %v", err)
	}

	rec2 := f.record("f_1", map[string]any{"customer": "c"})
	if started, err := f.eng.SubmitRecord(f.ctx, f.bob, "f_1", rec2); err != nil || !started {
		t.Fatalf("submit = %v %v", started, err)
	}
	if f.flowStatus(t, rec2) != 2 || f.count(t, workflow.CollTodo, query.AndOf(byData(rec2),
		query.Cmp{Path: query.Path{"employeeId"}, Op: query.Eq, Value: "u_1001"})) != 1 {
		t.Fatal("not submitted to the approver")
	}
	// Submitting again: the instance runs past its start.
	_, err := f.eng.SubmitRecord(f.ctx, f.bob, "f_1", rec2)
	wantCode(t, err, errs.Conflict)

	rec3 := f.record("f_1", map[string]any{"customer": "c"})
	must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{Form: "f_1", BusinessKey: rec3, AtStart: true}))
	if started, err := f.eng.SubmitRecord(f.ctx, f.bob, "f_1", rec3); err != nil || !started {
		t.Fatalf("submit at start = %v %v", started, err)
	}
	if at, _ := f.eng.WaitsAtStart(f.ctx, tenant, rec3); at || f.count(t, workflow.CollInstance, byData(rec3)) != 1 {
		t.Fatal("the waiting instance was not submitted (or a second one started)")
	}
	// Only its initiator submits it.
	rec4 := f.record("f_1", map[string]any{"customer": "c"})
	must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{Form: "f_1", BusinessKey: rec4, AtStart: true}))
	_, err = f.eng.SubmitRecord(f.ctx, f.alice, "f_1", rec4)
	wantCode(t, err, errs.Forbidden)
}

// A start by record id alone uses the record form's definition (§12.9.2).
func TestStartByRecordAlone(t *testing.T) {
	f := newFixture(t)
	rec := f.record("f_1", map[string]any{"customer": "c"})
	res := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{BusinessKey: rec}))
	if res.Status != workflow.StatusRunning || len(res.Tasks) != 1 || res.Tasks[0].AssigneeID != "u_1001" {
		t.Fatalf("start = %+v", res)
	}
	_, err := f.eng.Start(f.ctx, f.bob, workflow.StartRequest{BusinessKey: "nope"})
	wantCode(t, err, errs.NotFound)
	_, err = f.eng.Start(f.ctx, f.bob, workflow.StartRequest{})
	wantCode(t, err, errs.Invalid)
}

// BenchmarkSubmitAndApprove: submit a record (start + start task) and
// approve it; the to-do's formName and dataBrief are computed on issue.
func BenchmarkSubmitAndApprove(b *testing.B) {
	f := newFixture(b)
	for b.Loop() {
		rec := f.record("f_1", map[string]any{"customer": "c", "amount": 3.0})
		if _, err := f.eng.SubmitRecord(f.ctx, f.bob, "f_1", rec); err != nil {
			b.Fatal(err)
		}
		if _, err := f.eng.Decide(f.ctx, f.admin, workflow.DecideRequest{DataID: rec, Result: workflow.ActAgree}); err != nil {
			b.Fatal(err)
		}
	}
}
