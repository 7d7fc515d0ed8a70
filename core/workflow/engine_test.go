package workflow_test

import (
	"context"
	"sync"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
)

// TV-10 at the service level (spec §11).
func TestTV10(t *testing.T) {
	f := newFixture(t)
	r1 := f.record("f_1", map[string]any{"customer": "甲公司", "amount": 150.0})
	start := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.admin, workflow.StartRequest{
		DefinitionID: "wd_1", BusinessKey: r1, Variables: map[string]any{"urgent": true}, Initiator: "u_1001"}))
	if start.Status != workflow.StatusRunning || start.ID != start.InstanceID || len(start.Tasks) != 1 {
		t.Fatalf("start = %+v", start)
	}
	tk := start.Tasks[0]
	if tk.NodeID != "node_2" || tk.NodeName != "主管审批" || tk.AssigneeID != "u_1001" {
		t.Fatalf("task = %+v", tk)
	}
	if got := f.flowStatus(t, r1); got != 2 {
		t.Fatalf("flowStatus = %d, want 2", got)
	}
	if n := f.count(t, "wftodo", byData(r1)); n != 1 {
		t.Fatalf("wftodo = %d, want 1", n)
	}
	_, err := f.eng.Start(f.ctx, f.admin, workflow.StartRequest{DefinitionID: "wd_1", BusinessKey: r1, Initiator: "u_1001"})
	wantCode(t, err, errs.Conflict)

	dec := must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.admin, workflow.DecideRequest{InstanceID: start.ID,
		TaskID: tk.TaskID, Result: workflow.ActAgree, Comment: "同意", Approver: "u_1001"}))
	if dec.ID != start.ID || dec.TaskID != tk.TaskID || dec.Result != "agree" || dec.InstanceStatus != workflow.StatusApproved || len(dec.Tasks) != 0 {
		t.Fatalf("decide = %+v", dec)
	}
	if got := f.flowStatus(t, r1); got != 3 {
		t.Fatalf("flowStatus = %d, want 3", got)
	}
	logs, err := f.st.Find(f.ctx, "wfapprovallog", tenant, query.Query{Filter: byData(r1), Limit: -1})
	if err != nil || len(logs) != 1 || logs[0]["result"] != int64(1) || logs[0]["comment"] != "同意" {
		t.Fatalf("logs = %v %v", logs, err)
	}
	if n := f.count(t, "wftodo", byData(r1)); n != 0 {
		t.Fatalf("wftodo = %d, want 0", n)
	}
	_, err = f.eng.Decide(f.ctx, f.admin, workflow.DecideRequest{InstanceID: start.ID, TaskID: tk.TaskID,
		Result: workflow.ActAgree, Approver: "u_1001"})
	wantCode(t, err, errs.Conflict)
}

// The example leave_approval: bob's 5-day leave goes to alice (his manager)
// then admin; a 2-day leave only to alice.
func TestLeaveApproval(t *testing.T) {
	f := newFixture(t)
	long := f.record("f_leave", map[string]any{"reason": "trip", "days": 5.0})
	s := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "leave_approval", BusinessKey: long}))
	if len(s.Tasks) != 1 || s.Tasks[0].AssigneeID != "u_alice" || s.Tasks[0].NodeID != "n_mgr" {
		t.Fatalf("start tasks = %+v", s.Tasks)
	}
	d := must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{InstanceID: s.ID,
		TaskID: s.Tasks[0].TaskID, Result: workflow.ActAgree}))
	if d.InstanceStatus != workflow.StatusRunning || len(d.Tasks) != 1 || d.Tasks[0].AssigneeID != "u_1001" {
		t.Fatalf("after alice: %+v", d)
	}
	// admin finds its task through Pending (dataId + node, no taskId)
	p := must[[]workflow.PendingTask](t)(f.eng.Pending(f.ctx, f.admin, workflow.PendingQuery{DataID: long}))
	if len(p) != 1 || p[0].NodeID != "n_admin" || p[0].InstanceID != s.ID || p[0].DefinitionName != "请假审批" {
		t.Fatalf("pending = %+v", p)
	}
	d = must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.admin, workflow.DecideRequest{DataID: long,
		NodeID: "n_admin", Result: workflow.ActAgree}))
	if d.InstanceStatus != workflow.StatusApproved || f.flowStatus(t, long) != 3 {
		t.Fatalf("after admin: %+v", d)
	}

	short := f.record("f_leave", map[string]any{"reason": "dentist", "days": 2.0})
	s = must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "leave_approval", BusinessKey: short}))
	d = must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{InstanceID: s.ID,
		TaskID: s.Tasks[0].TaskID, Result: workflow.ActAgree}))
	if d.InstanceStatus != workflow.StatusApproved || f.flowStatus(t, short) != 3 {
		t.Fatalf("short leave: %+v", d)
	}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	rec := f.record("f_leave", map[string]any{"days": 5.0})
	s := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "leave_approval", BusinessKey: rec}))
	task := s.Tasks[0].TaskID
	cases := []struct {
		name string
		run  func() error
		want errs.Code
	}{
		{"wrong approver", func() error {
			_, err := f.eng.Decide(f.ctx, f.carol, workflow.DecideRequest{InstanceID: s.ID, TaskID: task, Result: workflow.ActAgree})
			return err
		}, errs.Forbidden},
		{"acting for the assignee without permission", func() error {
			_, err := f.eng.Decide(f.ctx, f.carol, workflow.DecideRequest{InstanceID: s.ID, TaskID: task, Result: workflow.ActAgree, Approver: "u_alice"})
			return err
		}, errs.Forbidden},
		{"no task of the user on the instance", func() error {
			_, err := f.eng.Decide(f.ctx, f.carol, workflow.DecideRequest{InstanceID: s.ID, Result: workflow.ActAgree})
			return err
		}, errs.Forbidden},
		{"unknown task", func() error {
			_, err := f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{InstanceID: s.ID, TaskID: "nope", Result: workflow.ActAgree})
			return err
		}, errs.NotFound},
		{"unknown instance", func() error {
			_, err := f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{InstanceID: "nope", TaskID: task, Result: workflow.ActAgree})
			return err
		}, errs.NotFound},
		{"record without instance", func() error {
			_, err := f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{DataID: f.record("f_leave", nil), Result: workflow.ActAgree})
			return err
		}, errs.NotFound},
		{"bad result", func() error {
			_, err := f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{InstanceID: s.ID, TaskID: task, Result: "maybe"})
			return err
		}, errs.Invalid},
		{"withdraw by a non-initiator", func() error {
			_, err := f.eng.Withdraw(f.ctx, f.alice, workflow.WithdrawRequest{InstanceID: s.ID})
			return err
		}, errs.Forbidden},
		{"withdraw by an admin who is not the initiator", func() error {
			_, err := f.eng.Withdraw(f.ctx, f.admin, workflow.WithdrawRequest{InstanceID: s.ID})
			return err
		}, errs.Forbidden},
		{"transfer by a non-assignee", func() error {
			_, err := f.eng.Transfer(f.ctx, f.carol, workflow.TransferRequest{InstanceID: s.ID, Targets: []string{"u_bob"}})
			return err
		}, errs.Forbidden},
		{"transfer to a stranger", func() error {
			_, err := f.eng.Transfer(f.ctx, f.alice, workflow.TransferRequest{InstanceID: s.ID, Targets: []string{"ghost"}})
			return err
		}, errs.Invalid},
		{"start for another user without permission", func() error {
			_, err := f.eng.Start(f.ctx, f.carol, workflow.StartRequest{DefinitionID: "leave_approval", BusinessKey: f.record("f_leave", nil), Initiator: "u_bob"})
			return err
		}, errs.Forbidden},
		{"start on a missing record", func() error {
			_, err := f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "leave_approval", BusinessKey: "nope"})
			return err
		}, errs.NotFound},
		{"start on a record of another form", func() error {
			_, err := f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "leave_approval", BusinessKey: f.record("f_1", nil)})
			return err
		}, errs.Invalid},
		{"start an unknown definition", func() error {
			_, err := f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "nope", BusinessKey: rec})
			return err
		}, errs.NotFound},
		{"start twice", func() error {
			_, err := f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "leave_approval", BusinessKey: rec})
			return err
		}, errs.Conflict},
		{"other tenant", func() error {
			other := pr("u_alice", "alice")
			other.Tenant = "t2"
			_, err := f.eng.Decide(f.ctx, other, workflow.DecideRequest{InstanceID: s.ID, TaskID: task, Result: workflow.ActAgree})
			return err
		}, errs.NotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantCode(t, c.run(), c.want) })
	}
	// nothing changed: the task is still pending for alice
	if n := f.count(t, "wftodo", byData(rec)); n != 1 || f.flowStatus(t, rec) != 2 {
		t.Fatalf("refusals changed state: todo=%d", n)
	}
	// finished instance: 409 for every action
	must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{InstanceID: s.ID, TaskID: task, Result: workflow.ActReject, Comment: "no"}))
	if f.flowStatus(t, rec) != 4 {
		t.Fatal("reject did not set flowStatus 4")
	}
	_, err := f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{InstanceID: s.ID, TaskID: task, Result: workflow.ActAgree})
	wantCode(t, err, errs.Conflict)
	_, err = f.eng.Withdraw(f.ctx, f.bob, workflow.WithdrawRequest{InstanceID: s.ID})
	wantCode(t, err, errs.Conflict)
	_, err = f.eng.Transfer(f.ctx, f.alice, workflow.TransferRequest{InstanceID: s.ID, Targets: []string{"u_carol"}})
	wantCode(t, err, errs.Conflict)
	// a rejected record may be resubmitted
	s2 := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "leave_approval", BusinessKey: rec}))
	if s2.ID == s.ID || f.flowStatus(t, rec) != 2 {
		t.Fatal("restart after reject failed")
	}
}

func TestWithdrawAndTransfer(t *testing.T) {
	f := newFixture(t)
	rec := f.record("f_leave", map[string]any{"days": 5.0})
	s := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "leave_approval", BusinessKey: rec}))
	// alice transfers to carol (by login name), addressing the task by dataId + node
	tr := must[*workflow.ActionResult](t)(f.eng.Transfer(f.ctx, f.alice, workflow.TransferRequest{DataID: rec, NodeID: "n_mgr", Targets: []string{"carol"}, Comment: "please"}))
	if tr.ID != s.ID || len(tr.Tasks) != 1 || tr.Tasks[0].AssigneeID != "u_carol" {
		t.Fatalf("transfer = %+v", tr)
	}
	_, err := f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{InstanceID: s.ID, TaskID: s.Tasks[0].TaskID, Result: workflow.ActAgree})
	wantCode(t, err, errs.Conflict) // transferred away
	if n := f.count(t, "wfapprovallog", query.AndOf(byData(rec), query.Cmp{Path: query.Path{"result"}, Op: query.Eq, Value: float64(9)})); n != 1 {
		t.Fatalf("transfer log entries = %d", n)
	}
	// bob withdraws: tasks gone, record back to draft, log entry 8
	w := must[*workflow.ActionResult](t)(f.eng.Withdraw(f.ctx, f.bob, workflow.WithdrawRequest{DataID: rec, Comment: "oops"}))
	if w.InstanceStatus != workflow.StatusCancelled || f.flowStatus(t, rec) != 1 || f.count(t, "wftodo", byData(rec)) != 0 {
		t.Fatalf("withdraw = %+v", w)
	}
	_, err = f.eng.Decide(f.ctx, f.carol, workflow.DecideRequest{InstanceID: s.ID, TaskID: tr.Tasks[0].TaskID, Result: workflow.ActAgree})
	wantCode(t, err, errs.Conflict)
	// withdraw forbidden by the definition
	if err := workflow.SeedDefinition(f.ctx, f.st, tenant, workflow.DefinitionSeed{Key: "strict", Form: "leave_request",
		Content: `{"allowWithdraw":false,"nodes":[{"id":"a","type":"approve","assignees":{"roles":["manager"]}}]}`}); err != nil {
		t.Fatal(err)
	}
	s3 := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "strict", BusinessKey: rec}))
	if len(s3.Tasks) != 2 { // role manager: alice and dave
		t.Fatalf("role tasks = %+v", s3.Tasks)
	}
	_, err = f.eng.Withdraw(f.ctx, f.bob, workflow.WithdrawRequest{InstanceID: s3.ID})
	wantCode(t, err, errs.Forbidden)
	// the first decision closes the node for the other assignee
	must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.dave, workflow.DecideRequest{InstanceID: s3.ID, Result: workflow.ActAgree}))
	_, err = f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{InstanceID: s3.ID, Result: workflow.ActAgree})
	wantCode(t, err, errs.Conflict)
	if f.flowStatus(t, rec) != 3 || f.count(t, "wftodo", byData(rec)) != 0 {
		t.Fatal("node not closed")
	}
}

// N goroutines decide the same task: exactly one wins, the others Conflict.
func TestParallelApprovals(t *testing.T) {
	f := newFixture(t)
	rec := f.record("f_1", map[string]any{"customer": "x"})
	s := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.admin, workflow.StartRequest{DefinitionID: "wd_1", BusinessKey: rec}))
	const n = 8
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			act := workflow.ActAgree
			if i%2 == 1 {
				act = workflow.ActReject
			}
			_, results[i] = f.eng.Decide(f.ctx, f.admin, workflow.DecideRequest{InstanceID: s.ID, TaskID: s.Tasks[0].TaskID, Result: act})
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range results {
		switch {
		case err == nil:
			wins++
		case errs.CodeOf(err) != errs.Conflict:
			t.Fatalf("loser got %v, want Conflict", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d winners, want 1", wins)
	}
	if n := f.count(t, "wfapprovallog", byData(rec)); n != 1 {
		t.Fatalf("%d log entries, want 1", n)
	}
}

// A caller's transaction (H3Yun "create and submit"): record insert and
// Start join it; an error after both leaves nothing.
func TestStartJoinsCallerTx(t *testing.T) {
	f := newFixture(t)
	id := store.NewID()
	boom := errs.New(errs.Internal, "boom")
	err := f.st.Tx(f.ctx, func(ctx context.Context) error {
		if err := f.st.Insert(ctx, "formdata", store.Doc{"id": id, "corpId": tenant, "formId": "f_1", "flowStatus": int64(1),
			"data": map[string]any{"customer": "x"}}); err != nil {
			return err
		}
		if _, err := f.eng.Start(ctx, f.admin, workflow.StartRequest{DefinitionID: "wd_1", BusinessKey: id}); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("tx err = %v", err)
	}
	if f.count(t, "formdata", nil) != 0 || f.count(t, "wfinstance", nil) != 0 || f.count(t, "wftodo", nil) != 0 {
		t.Fatal("rolled-back create-and-submit left documents")
	}
}

func TestSeedIdempotent(t *testing.T) {
	f := newFixture(t)
	for range 2 {
		if err := workflow.SeedDefinition(f.ctx, f.st, tenant, workflow.ExampleLeaveApproval()); err != nil {
			t.Fatal(err)
		}
	}
	docs, err := f.st.Find(f.ctx, "wfdefinition", tenant, query.Query{Filter: query.Cmp{Path: query.Path{"key"}, Op: query.Eq, Value: "leave_approval"}, Limit: -1})
	if err != nil || len(docs) != 1 || docs[0]["sourceId"] != "f_leave" || docs[0]["appId"] != "a_1" {
		t.Fatalf("seeded = %v %v", docs, err)
	}
	err = workflow.SeedDefinition(f.ctx, f.st, tenant, workflow.DefinitionSeed{Key: "bad", Form: "f_1", Content: `{"nodes":[{"id":"x","type":"script"}]}`})
	wantCode(t, err, errs.Invalid)
}

// A `when` that does not parse against the form fails the start (400) and
// leaves nothing.
func TestBadWhen(t *testing.T) {
	f := newFixture(t)
	if err := workflow.SeedDefinition(f.ctx, f.st, tenant, workflow.DefinitionSeed{Key: "w", Form: "f_1",
		Content: `{"nodes":[{"id":"a","type":"approve","assignees":{"users":["admin"]},"when":"data/nope gt 3"}]}`}); err != nil {
		t.Fatal(err)
	}
	rec := f.record("f_1", map[string]any{"customer": "x"})
	_, err := f.eng.Start(f.ctx, f.admin, workflow.StartRequest{DefinitionID: "w", BusinessKey: rec})
	wantCode(t, err, errs.Invalid)
	if f.flowStatus(t, rec) != 1 || f.count(t, "wfinstance", nil) != 0 {
		t.Fatal("failed start changed state")
	}
	// a definition whose only node is skipped finishes at once
	if err := workflow.SeedDefinition(f.ctx, f.st, tenant, workflow.DefinitionSeed{Key: "skip", Form: "f_1",
		Content: `{"nodes":[{"id":"a","type":"approve","assignees":{"users":["admin"]},"when":"data/amount gt 1000 or flowStatus eq 'approved'"}]}`}); err != nil {
		t.Fatal(err)
	}
	s := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.admin, workflow.StartRequest{DefinitionID: "skip", BusinessKey: rec}))
	if s.Status != workflow.StatusApproved || len(s.Tasks) != 0 || f.flowStatus(t, rec) != 3 {
		t.Fatalf("skip-all start = %+v", s)
	}
}

// AtStart (H3Yun IsSubmit=false on a workflow form): the instance runs with
// one task, the initiator's, at the definition's start node; the
// initiator's agree activates the first approval node; the definition is
// found from the form when no definition id is given.
func TestStartAtStartNode(t *testing.T) {
	f := newFixture(t)
	rec := f.record("f_1", map[string]any{"customer": "乙公司"})
	s := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.admin, workflow.StartRequest{
		Form: "orders", BusinessKey: rec, Initiator: "u_bob", AtStart: true}))
	if s.Status != workflow.StatusRunning || len(s.Tasks) != 1 {
		t.Fatalf("start = %+v", s)
	}
	if tk := s.Tasks[0]; tk.NodeID != "start" || tk.AssigneeID != "u_bob" {
		t.Fatalf("start task = %+v", tk)
	}
	if got := f.flowStatus(t, rec); got != 2 {
		t.Fatalf("flowStatus = %d, want 2", got)
	}
	if d, err := f.st.Get(f.ctx, "formdata", tenant, rec); err != nil || d[workflow.RecordInstanceKey] != s.ID {
		t.Fatalf("record's %s = %v (%v), want %s", workflow.RecordInstanceKey, d[workflow.RecordInstanceKey], err, s.ID)
	}
	in := must[*workflow.Instance](t)(f.eng.InstanceOf(f.ctx, tenant, rec))
	if in.DefinitionID != "wd_1" {
		t.Fatalf("definition = %s, want wd_1 (the form's)", in.DefinitionID)
	}
	// Only the initiator holds the start task.
	_, err := f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{InstanceID: s.ID, Result: workflow.ActAgree})
	wantCode(t, err, errs.Forbidden)
	d := must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.bob, workflow.DecideRequest{InstanceID: s.ID,
		TaskID: s.Tasks[0].TaskID, Result: workflow.ActAgree, Comment: "提交"}))
	if d.InstanceStatus != workflow.StatusRunning || len(d.Tasks) != 1 || d.Tasks[0].NodeID != "node_2" {
		t.Fatalf("after submit: %+v", d)
	}
	logs, err := f.st.Find(f.ctx, "wfapprovallog", tenant, query.Query{Filter: byData(rec), Limit: -1})
	if err != nil || len(logs) != 1 || logs[0]["nodeId"] != "start" || logs[0]["comment"] != "提交" {
		t.Fatalf("logs = %v %v", logs, err)
	}

	// A definition without a start node gets the synthetic one; the
	// initiator may withdraw before submitting.
	leave := f.record("f_leave", map[string]any{"days": 1.0})
	s = must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{
		Form: "f_leave", BusinessKey: leave, AtStart: true}))
	if tk := s.Tasks[0]; tk.NodeID != workflow.StartNodeID && tk.NodeID != "start" {
		t.Fatalf("leave start task = %+v", tk)
	}
	w := must[*workflow.ActionResult](t)(f.eng.Withdraw(f.ctx, f.bob, workflow.WithdrawRequest{InstanceID: s.ID}))
	if w.InstanceStatus != workflow.StatusCancelled || f.count(t, "wftodo", byData(leave)) != 0 {
		t.Fatalf("withdraw = %+v", w)
	}

	// A form without a definition.
	f.ins(t, "form", store.Doc{"id": "f_none", "appId": "a_1", "key": "nodef", "name": "无流程", "usingWorkflow": true,
		"content": map[string]any{"items": []any{map[string]any{"field": "x", "type": "input"}}}})
	none := f.record("f_none", map[string]any{"x": "1"})
	_, err = f.eng.Start(f.ctx, f.admin, workflow.StartRequest{Form: "nodef", BusinessKey: none})
	wantCode(t, err, errs.NotFound)
}

// Every task issued notifies its assignee with an in-system message (§6.2
// `message`), written in the step's transaction.
func TestTaskMessages(t *testing.T) {
	f := newFixture(t)
	rec := f.record("f_leave", map[string]any{"reason": "trip", "days": 5.0})
	s := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "leave_approval", BusinessKey: rec}))
	msgs, err := f.st.Find(f.ctx, workflow.CollMessage, tenant, query.Query{Filter: byData(rec), Limit: -1})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages = %v, %v", msgs, err)
	}
	m := msgs[0]
	if m["receiverEmpId"] != "u_alice" || m["receiverName"] != "Alice" || m["title"] != "待审批：请假审批" ||
		m["url"] != "/api/v1/wftodo/"+s.Tasks[0].TaskID || m["isRead"] != false || m["wfInstanceId"] != s.ID {
		t.Errorf("message = %v", m)
	}
	must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{InstanceID: s.ID, Result: workflow.ActAgree}))
	if n := f.count(t, workflow.CollMessage, byData(rec)); n != 2 {
		t.Errorf("after alice: %d messages, want 2 (admin notified)", n)
	}
	// A failed step writes no message.
	other := f.record("f_leave", map[string]any{"days": 1.0})
	_, err = f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "leave_approval", BusinessKey: other, Initiator: "u_alice"})
	wantCode(t, err, errs.Forbidden)
	if n := f.count(t, workflow.CollMessage, byData(other)); n != 0 {
		t.Errorf("a refused start wrote %d messages", n)
	}
}
