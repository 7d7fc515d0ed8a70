package workflow_test

import (
	"sync"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/workflow"
)

// A 5-day leave of bob: alice (manager) approves, admin returns it to
// alice, alice returns it to bob (start node), bob re-submits; the log
// keeps every step with result 3 for the returns.
func TestReturnToPreviousNodeAndInitiator(t *testing.T) {
	f := newFixture(t)
	rec := f.record("f_leave", map[string]any{"reason": "trip", "days": 5.0})
	st := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{Form: "leave_request", BusinessKey: rec}))
	must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{InstanceID: st.ID, Result: workflow.ActAgree}))

	// bob holds no task: he cannot return.
	_, err := f.eng.Return(f.ctx, f.bob, workflow.ReturnRequest{InstanceID: st.ID})
	wantCode(t, err, errs.Forbidden)
	// A node after the current one is refused and changes nothing.
	_, err = f.eng.Return(f.ctx, f.admin, workflow.ReturnRequest{InstanceID: st.ID, ToNode: "n_admin"})
	wantCode(t, err, errs.Invalid)

	back := must[*workflow.ActionResult](t)(f.eng.Return(f.ctx, f.admin, workflow.ReturnRequest{InstanceID: st.ID, Comment: "补充材料"}))
	if back.InstanceStatus != workflow.StatusRunning || len(back.Tasks) != 1 || back.Tasks[0].AssigneeID != "u_alice" || back.Tasks[0].NodeID != "n_mgr" {
		t.Fatalf("return = %+v", back)
	}
	if f.flowStatus(t, rec) != 2 {
		t.Fatalf("flowStatus = %d", f.flowStatus(t, rec))
	}
	toStart := must[*workflow.ActionResult](t)(f.eng.Return(f.ctx, f.alice, workflow.ReturnRequest{InstanceID: st.ID, ToNode: workflow.StartNodeID}))
	if len(toStart.Tasks) != 1 || toStart.Tasks[0].AssigneeID != "u_bob" {
		t.Fatalf("return to start = %+v", toStart)
	}
	if at, err := f.eng.WaitsAtStart(f.ctx, tenant, rec); err != nil || !at {
		t.Fatalf("waits at start = %v %v", at, err)
	}
	// bob re-submits: alice's node again.
	dec := must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.bob, workflow.DecideRequest{InstanceID: st.ID, Result: workflow.ActAgree}))
	if len(dec.Tasks) != 1 || dec.Tasks[0].AssigneeID != "u_alice" {
		t.Fatalf("resubmit = %+v", dec)
	}
	returns := f.count(t, "wfapprovallog", query.AndOf(byData(rec), query.Cmp{Path: query.Path{"result"}, Op: query.Eq, Value: float64(3)}))
	if returns != 2 {
		t.Fatalf("return log entries = %d, want 2", returns)
	}
	// Return at the start node: nothing to return.
	rec2 := f.record("f_leave", map[string]any{"days": 1.0})
	st2 := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{Form: "leave_request", BusinessKey: rec2, AtStart: true}))
	_, err = f.eng.Return(f.ctx, f.bob, workflow.ReturnRequest{InstanceID: st2.ID})
	wantCode(t, err, errs.Conflict)
}

// Two concurrent returns of the same task: exactly one wins.
func TestReturnConcurrent(t *testing.T) {
	f := newFixture(t)
	rec := f.record("f_leave", map[string]any{"days": 5.0})
	st := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{Form: "leave_request", BusinessKey: rec}))
	must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{InstanceID: st.ID, Result: workflow.ActAgree}))
	var wg sync.WaitGroup
	errsOut := make([]error, 4)
	for i := range errsOut {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errsOut[i] = f.eng.Return(f.ctx, f.admin, workflow.ReturnRequest{InstanceID: st.ID})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errsOut {
		if err == nil {
			ok++
		} else if c := errs.CodeOf(err); c != errs.Conflict && c != errs.Forbidden {
			t.Fatalf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d returns succeeded, want 1", ok)
	}
	if n := f.count(t, "wftodo", byData(rec)); n != 1 {
		t.Fatalf("wftodo = %d, want 1", n)
	}
}

func TestCCAndTaskLists(t *testing.T) {
	f := newFixture(t)
	rec := f.record("f_leave", map[string]any{"days": 5.0})
	st := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{Form: "leave_request", BusinessKey: rec}))

	// carol is not involved: she may not copy.
	_, err := f.eng.CC(f.ctx, f.carol, workflow.CCRequest{InstanceID: st.ID, Users: []string{"dave"}})
	wantCode(t, err, errs.Forbidden)
	_, err = f.eng.CC(f.ctx, f.bob, workflow.CCRequest{InstanceID: st.ID, Users: []string{"nobody"}})
	wantCode(t, err, errs.Invalid)
	must[*workflow.ActionResult](t)(f.eng.CC(f.ctx, f.bob, workflow.CCRequest{InstanceID: st.ID, Users: []string{"carol", "u_carol"}}))
	if n := f.count(t, workflow.CollCC, byData(rec)); n != 1 {
		t.Fatalf("cc docs = %d, want 1 (duplicates skipped)", n)
	}

	list := func(p any, box workflow.Box) *workflow.TaskList {
		t.Helper()
		return must[*workflow.TaskList](t)(f.eng.Tasks(f.ctx, f.byName(p), workflow.TaskQuery{Box: box, Count: true}))
	}
	if l := list("alice", workflow.BoxTodo); l.Total != 1 || l.Items[0].TaskID == "" || l.Items[0].InstanceID != st.ID || l.Items[0].Initiator.ID != "u_bob" {
		t.Fatalf("alice todo = %+v", l)
	}
	if l := list("bob", workflow.BoxStarted); l.Total != 1 || l.Items[0].Status != workflow.StatusRunning || l.Items[0].NodeID != "n_mgr" {
		t.Fatalf("bob started = %+v", l)
	}
	if l := list("carol", workflow.BoxCC); l.Total != 1 || l.Items[0].DataID != rec {
		t.Fatalf("carol cc = %+v", l)
	}
	if l := list("alice", workflow.BoxDone); l.Total != 0 {
		t.Fatalf("alice done before deciding = %+v", l)
	}
	must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{InstanceID: st.ID, Result: workflow.ActAgree}))
	if l := list("alice", workflow.BoxDone); l.Total != 1 || l.Items[0].NodeID != "n_admin" {
		t.Fatalf("alice done = %+v", l)
	}
	if l := list("alice", workflow.BoxTodo); l.Total != 0 {
		t.Fatalf("alice todo after = %+v", l)
	}
	// Another user's lists need workflow.actAs.
	_, err = f.eng.Tasks(f.ctx, f.bob, workflow.TaskQuery{Box: workflow.BoxTodo, UserID: "u_alice"})
	wantCode(t, err, errs.Forbidden)
	_, err = f.eng.Tasks(f.ctx, f.bob, workflow.TaskQuery{Box: "inbox"})
	wantCode(t, err, errs.Invalid)
	// An administrator may read them.
	if l := must[*workflow.TaskList](t)(f.eng.Tasks(f.ctx, f.admin, workflow.TaskQuery{Box: workflow.BoxStarted, UserID: "u_bob"})); len(l.Items) != 1 {
		t.Fatalf("admin reads bob's started = %+v", l)
	}
}
