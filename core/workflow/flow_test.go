package workflow_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
)

// wantReason fails unless err has code and reason.
func wantReason(t testing.TB, err error, code errs.Code, reason string) {
	t.Helper()
	e := errs.As(err)
	if err == nil || e.Code != code || e.Reason != reason {
		t.Fatalf("want %v/%s, got %v (reason %q)", code, reason, err, e.Reason)
	}
}

// startAt starts leave_approval for a new leave record of bob's with days,
// waiting at the start node (bob hosts step 1).
func (f *fixture) startAt(t *testing.T, def string, days int) (rec string, start workflow.TaskRef, id string) {
	t.Helper()
	rec = f.record("f_leave", map[string]any{"reason": "x", "days": float64(days)})
	s := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: def,
		BusinessKey: rec, AtStart: true, Title: "请假"}))
	if len(s.Tasks) != 1 {
		t.Fatalf("start tasks = %+v", s.Tasks)
	}
	return rec, s.Tasks[0], s.ID
}

func (f *fixture) inst(t *testing.T, id string) *workflow.Instance {
	t.Helper()
	return must[*workflow.Instance](t)(f.eng.Instance(f.ctx, tenant, id))
}

// The e-office sequence on leave_approval (days 5: start → n_mgr (alice,
// bob's manager) → n_admin → end): every refusal of a hand-over, then the
// hand-over, the retry (TV-11), the send-back and the stale retry (TV-15).
func TestHandoverChecks(t *testing.T) {
	f := newFixture(t)
	_, st, id := f.startAt(t, "leave_approval", 5)
	in := f.inst(t, id)
	if in.Title != "请假" || in.Round != 1 || !in.Tasks[0].Host || in.Tasks[0].NodeID != "start" {
		t.Fatalf("started: title %q round %d tasks %+v", in.Title, in.Round, in.Tasks)
	}
	insp := must[*workflow.Inspection](t)(f.eng.Inspect(f.ctx, f.bob, workflow.InspectRequest{InstanceID: id, Candidates: []string{"*"}}))
	if len(insp.Turn) != 1 || insp.Turn[0].ID != "n_mgr" || insp.CanEnd || len(insp.Back) != 0 {
		t.Fatalf("options at start = %+v", insp.FlowOptions)
	}
	if c := insp.Candidates["n_mgr"]; len(c) != 1 || c[0].ID != "u_alice" {
		t.Fatalf("candidates of n_mgr = %+v", c)
	}
	refusals := []struct {
		name   string
		p      *principal.Principal
		req    workflow.HandoverRequest
		code   errs.Code
		reason string
	}{
		{"outside scope", f.bob, workflow.HandoverRequest{ToNode: "n_mgr", Host: "alice", Participants: []string{"carol"}}, errs.Forbidden, workflow.ReasonOutsideScope},
		{"not a next node", f.bob, workflow.HandoverRequest{ToNode: "n_admin", Host: "admin"}, errs.Invalid, workflow.ReasonInvalidTarget},
		{"unknown node", f.bob, workflow.HandoverRequest{ToNode: "nope", Host: "alice"}, errs.Invalid, workflow.ReasonInvalidTarget},
		{"no next user", f.bob, workflow.HandoverRequest{ToNode: "n_mgr"}, errs.Invalid, workflow.ReasonNoNextUser},
		{"may not end", f.bob, workflow.HandoverRequest{}, errs.Invalid, workflow.ReasonCannotEnd},
		{"wrong step", f.bob, workflow.HandoverRequest{ToNode: "n_mgr", Host: "alice", StepGuard: workflow.StepGuard{Step: 2}}, errs.Conflict, workflow.ReasonStepMismatch},
		{"no open task", f.alice, workflow.HandoverRequest{ToNode: "n_mgr", Host: "alice"}, errs.Forbidden, workflow.ReasonNoOpenTask},
		{"unknown stale id", f.bob, workflow.HandoverRequest{ToNode: "n_mgr", Host: "alice", StepGuard: workflow.StepGuard{StaleTaskID: "nope"}}, errs.Conflict, workflow.ReasonStaleTask},
		{"unknown user", f.bob, workflow.HandoverRequest{ToNode: "n_mgr", Host: "nobody"}, errs.Invalid, ""},
		{"past deadline", f.bob, workflow.HandoverRequest{ToNode: "n_mgr", Host: "alice", Deadline: 1}, errs.Invalid, workflow.ReasonDeadlinePast},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			r.req.InstanceID = id
			_, err := f.eng.Handover(f.ctx, r.p, r.req)
			wantReason(t, err, r.code, r.reason)
		})
	}
	if n := f.inst(t, id); n.Rev != in.Rev || len(n.Pending()) != 1 {
		t.Fatalf("a refusal wrote: rev %d → %d", in.Rev, n.Rev)
	}
	// Hand over to alice as host, with a cc to dave.
	h := must[*workflow.DecideResult](t)(f.eng.Handover(f.ctx, f.bob, workflow.HandoverRequest{InstanceID: id, ToNode: "n_mgr",
		Host: "alice", CC: []string{"dave"}, StepGuard: workflow.StepGuard{StaleTaskID: st.TaskID, Step: 1}}))
	if len(h.Tasks) != 1 || h.Tasks[0].AssigneeID != "u_alice" || h.InstanceStatus != workflow.StatusRunning {
		t.Fatalf("hand-over = %+v", h)
	}
	in = f.inst(t, id)
	if in.Round != 2 || !in.Tasks[1].Host || in.Tasks[1].From != "u_bob" || in.Tasks[1].FromNode != "start" || !slices.Contains(in.CC, "u_dave") {
		t.Fatalf("after hand-over: round %d tasks %+v cc %v", in.Round, in.Tasks, in.CC)
	}
	if in.Tasks[0].Status != workflow.TaskApproved || in.Tasks[0].DecideTime == 0 {
		t.Fatalf("the start task = %+v", in.Tasks[0])
	}
	// TV-11: the same submission again is not stale (bob has no newer
	// task) but bob has no open task any more.
	_, err := f.eng.Handover(f.ctx, f.bob, workflow.HandoverRequest{InstanceID: id, ToNode: "n_mgr", Host: "alice",
		StepGuard: workflow.StepGuard{StaleTaskID: st.TaskID, Step: 1}})
	wantReason(t, err, errs.Forbidden, workflow.ReasonNoOpenTask)
	// TV-15: alice sends it back to bob; bob's old task is now stale.
	insp = must[*workflow.Inspection](t)(f.eng.Inspect(f.ctx, f.alice, workflow.InspectRequest{InstanceID: id}))
	if len(insp.Back) != 1 || insp.Back[0].ID != "start" || len(insp.Turn) != 1 || insp.Turn[0].ID != "n_admin" {
		t.Fatalf("options at n_mgr = %+v", insp.FlowOptions)
	}
	_, err = f.eng.Return(f.ctx, f.alice, workflow.ReturnRequest{InstanceID: id, ToNode: "start", Host: "carol"})
	wantReason(t, err, errs.Forbidden, workflow.ReasonOutsideScope)
	must[*workflow.ActionResult](t)(f.eng.Return(f.ctx, f.alice, workflow.ReturnRequest{InstanceID: id, ToNode: "start",
		Host: "bob", StepGuard: workflow.StepGuard{StaleTaskID: h.Tasks[0].TaskID, Step: 2}}))
	in = f.inst(t, id)
	back := in.Tasks[len(in.Tasks)-1]
	if in.Round != 3 || back.AssigneeID != "u_bob" || !back.Host || !back.Back || back.FromNode != "n_mgr" || back.From != "u_alice" {
		t.Fatalf("after return: round %d, task %+v", in.Round, back)
	}
	_, err = f.eng.Handover(f.ctx, f.bob, workflow.HandoverRequest{InstanceID: id, ToNode: "n_mgr", Host: "alice",
		StepGuard: workflow.StepGuard{StaleTaskID: st.TaskID}})
	wantReason(t, err, errs.Conflict, workflow.ReasonStaleTask)
	// Through to the end: n_mgr → n_admin → end (admin may end: no later node).
	h = must[*workflow.DecideResult](t)(f.eng.Handover(f.ctx, f.bob, workflow.HandoverRequest{InstanceID: id, Host: "alice",
		StepGuard: workflow.StepGuard{StaleTaskID: back.ID}}))
	must[*workflow.DecideResult](t)(f.eng.Handover(f.ctx, f.alice, workflow.HandoverRequest{InstanceID: id, ToNode: "n_admin", Host: "admin"}))
	insp = must[*workflow.Inspection](t)(f.eng.Inspect(f.ctx, f.admin, workflow.InspectRequest{InstanceID: id}))
	if !insp.CanEnd || len(insp.Turn) != 0 {
		t.Fatalf("options at n_admin = %+v", insp.FlowOptions)
	}
	end := must[*workflow.DecideResult](t)(f.eng.Handover(f.ctx, f.admin, workflow.HandoverRequest{InstanceID: id}))
	if end.InstanceStatus != workflow.StatusApproved || len(end.Tasks) != 0 {
		t.Fatalf("end = %+v", end)
	}
	_, err = f.eng.Handover(f.ctx, f.admin, workflow.HandoverRequest{InstanceID: id})
	wantCode(t, err, errs.Conflict)
}

// A step with a host and participants: participants agree for themselves,
// only the host rejects, returns or hands over; the host's hand-over closes
// the step.
func TestHostAndParticipants(t *testing.T) {
	f := newFixture(t)
	f.ins(t, "wfdefinition", store.Doc{"id": "wd_team", "key": "team", "sourceId": "f_leave", "appId": "a_1", "name": "团队审批",
		"version": int64(1), "flowType": "workflow", "content": `{"nodes":[{"id":"start","type":"start"},
		{"id":"n_team","type":"approve","name":"团队","assignees":{"roles":["manager"]}},{"id":"end","type":"end"}]}`})
	_, _, id := f.startAt(t, "team", 1)
	must[*workflow.DecideResult](t)(f.eng.Handover(f.ctx, f.bob, workflow.HandoverRequest{InstanceID: id, ToNode: "n_team",
		Host: "alice", Participants: []string{"dave", "alice"}}))
	in := f.inst(t, id)
	if p := in.Pending(); len(p) != 2 || !p[0].Host || p[0].AssigneeID != "u_alice" || p[1].Host {
		t.Fatalf("step 2 = %+v", p)
	}
	for _, c := range []struct {
		name   string
		run    func() error
		reason string
	}{
		{"participant rejects", func() error {
			_, err := f.eng.Decide(f.ctx, f.dave, workflow.DecideRequest{InstanceID: id, Result: workflow.ActReject})
			return err
		}, workflow.ReasonNotHost},
		{"participant hands over", func() error {
			_, err := f.eng.Handover(f.ctx, f.dave, workflow.HandoverRequest{InstanceID: id})
			return err
		}, workflow.ReasonNotHost},
		{"participant returns", func() error {
			_, err := f.eng.Return(f.ctx, f.dave, workflow.ReturnRequest{InstanceID: id})
			return err
		}, workflow.ReasonNotHost},
	} {
		t.Run(c.name, func(t *testing.T) { wantReason(t, c.run(), errs.Forbidden, c.reason) })
	}
	d := must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.dave, workflow.DecideRequest{InstanceID: id, Result: workflow.ActAgree}))
	if d.InstanceStatus != workflow.StatusRunning || len(d.Tasks) != 0 {
		t.Fatalf("participant agree = %+v", d)
	}
	if p := f.inst(t, id).Pending(); len(p) != 1 || p[0].AssigneeID != "u_alice" {
		t.Fatalf("after the participant: pending %+v", p)
	}
	handled := must[*workflow.TaskList](t)(f.eng.Tasks(f.ctx, f.dave, workflow.TaskQuery{Box: workflow.BoxHandled, Count: true}))
	if handled.Total != 1 || handled.Items[0].Task == nil || handled.Items[0].Task.Status != workflow.TaskApproved || handled.Items[0].Task.Host {
		t.Fatalf("dave's handled list = %+v", handled)
	}
	end := must[*workflow.DecideResult](t)(f.eng.Handover(f.ctx, f.alice, workflow.HandoverRequest{InstanceID: id}))
	if end.InstanceStatus != workflow.StatusApproved {
		t.Fatalf("host end = %+v", end)
	}
	for _, u := range []*principal.Principal{f.dave, f.alice, f.bob} {
		l := must[*workflow.TaskList](t)(f.eng.Tasks(f.ctx, u, workflow.TaskQuery{Box: workflow.BoxFinished, Count: true}))
		if l.Total != 1 || l.Items[0].InstanceID != id {
			t.Errorf("%s's finished list = %+v", u.Login, l)
		}
	}
}

// A free flow: any user at any step, the same node again, end at any step.
func TestFreeFlow(t *testing.T) {
	f := newFixture(t)
	f.ins(t, "wfdefinition", store.Doc{"id": "wd_free", "key": "free", "sourceId": "f_leave", "appId": "a_1", "name": "自由流程",
		"version": int64(1), "flowType": "workflow", "content": `{"free":true,"nodes":[{"id":"start","type":"start"},
		{"id":"step","type":"approve","name":"自由步骤"},{"id":"end","type":"end"}]}`})
	_, _, id := f.startAt(t, "free", 1)
	insp := must[*workflow.Inspection](t)(f.eng.Inspect(f.ctx, f.bob, workflow.InspectRequest{InstanceID: id, Candidates: []string{"step"}}))
	if !insp.Free || !insp.CanEnd || len(insp.Turn) != 1 || insp.Turn[0].ID != "step" {
		t.Fatalf("free options = %+v", insp)
	}
	must[*workflow.DecideResult](t)(f.eng.Handover(f.ctx, f.bob, workflow.HandoverRequest{InstanceID: id, Host: "carol"}))
	must[*workflow.DecideResult](t)(f.eng.Handover(f.ctx, f.carol, workflow.HandoverRequest{InstanceID: id, ToNode: "step", Participants: []string{"dave"}}))
	in := f.inst(t, id)
	if p := in.Pending(); in.Round != 3 || len(p) != 1 || p[0].AssigneeID != "u_dave" || p[0].Host || p[0].NodeID != "step" {
		t.Fatalf("free step 3: round %d pending %+v", in.Round, p)
	}
	end := must[*workflow.DecideResult](t)(f.eng.Handover(f.ctx, f.dave, workflow.HandoverRequest{InstanceID: id}))
	if end.InstanceStatus != workflow.StatusApproved || f.flowStatus(t, in.DataID) != 3 {
		t.Fatalf("free end = %+v", end)
	}
}

// Every list, for the users of one hand-over, with the instance filters,
// visibility and the overtime list.
func TestFlowLists(t *testing.T) {
	f := newFixture(t)
	_, _, id := f.startAt(t, "leave_approval", 5)
	f.startAt(t, "leave_approval", 1) // a second instance, waiting for bob
	deadline := f.clock.Load() + 60_000
	must[*workflow.DecideResult](t)(f.eng.Handover(f.ctx, f.bob, workflow.HandoverRequest{InstanceID: id, ToNode: "n_mgr",
		Host: "alice", CC: []string{"carol"}, Deadline: deadline}))
	count := func(p *principal.Principal, q workflow.TaskQuery) (int64, []workflow.TaskItem) {
		t.Helper()
		q.Count = true
		l := must[*workflow.TaskList](t)(f.eng.Tasks(f.ctx, p, q))
		return l.Total, l.Items
	}
	cases := []struct {
		name string
		p    *principal.Principal
		q    workflow.TaskQuery
		want int64
	}{
		{"alice todo", f.alice, workflow.TaskQuery{Box: workflow.BoxTodo}, 1},
		{"alice todo by title", f.alice, workflow.TaskQuery{Box: workflow.BoxTodo, Title: "请"}, 1},
		{"alice todo other title", f.alice, workflow.TaskQuery{Box: workflow.BoxTodo, Title: "报销"}, 0},
		{"alice todo by definition key", f.alice, workflow.TaskQuery{Box: workflow.BoxTodo, DefinitionIDs: []string{"leave_approval"}}, 1},
		{"alice todo other definition", f.alice, workflow.TaskQuery{Box: workflow.BoxTodo, DefinitionIDs: []string{"team"}}, 0},
		{"alice todo by initiator", f.alice, workflow.TaskQuery{Box: workflow.BoxTodo, Initiators: []string{"u_bob"}}, 1},
		{"bob todo", f.bob, workflow.TaskQuery{Box: workflow.BoxTodo}, 1}, // the second instance's start task
		{"bob handled", f.bob, workflow.TaskQuery{Box: workflow.BoxHandled}, 1},
		{"bob started", f.bob, workflow.TaskQuery{Box: workflow.BoxStarted}, 2},
		{"bob finished", f.bob, workflow.TaskQuery{Box: workflow.BoxFinished}, 0},
		{"carol cc", f.carol, workflow.TaskQuery{Box: workflow.BoxCC}, 1},
		{"carol cc by instance", f.carol, workflow.TaskQuery{Box: workflow.BoxCC, InstanceIDs: []string{id}}, 1},
		{"carol search", f.carol, workflow.TaskQuery{Box: workflow.BoxSearch}, 1},
		{"dave search", f.dave, workflow.TaskQuery{Box: workflow.BoxSearch}, 0},
		{"admin search", f.admin, workflow.TaskQuery{Box: workflow.BoxSearch}, 2},
		{"admin monitor", f.admin, workflow.TaskQuery{Box: workflow.BoxMonitor}, 2},
		{"bob monitor", f.bob, workflow.TaskQuery{Box: workflow.BoxMonitor}, 0},
		{"alice overtime (not yet)", f.alice, workflow.TaskQuery{Box: workflow.BoxOvertime}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if n, items := count(c.p, c.q); n != c.want || int64(len(items)) != c.want {
				t.Fatalf("total %d, %d items; want %d", n, len(items), c.want)
			}
		})
	}
	_, items := count(f.alice, workflow.TaskQuery{Box: workflow.BoxTodo, SortBy: workflow.SortUpdateTime, WithSteps: true})
	it := items[0]
	if it.Title != "请假" || it.Step != 2 || it.Task == nil || !it.Task.Host || it.Task.From != "u_bob" || it.Task.Deadline != deadline ||
		it.TaskID != it.Task.TaskID || len(it.Steps) != 2 || it.DefinitionKey != "leave_approval" {
		t.Fatalf("rich todo item = %+v", it)
	}
	f.clock.Add(120_000)
	if n, items := count(f.alice, workflow.TaskQuery{Box: workflow.BoxOvertime}); n != 1 || items[0].Task == nil || items[0].Task.Deadline != deadline {
		t.Fatalf("overtime after the deadline: %d %+v", n, items)
	}
	_, err := f.eng.Tasks(f.ctx, f.bob, workflow.TaskQuery{Box: "bogus"})
	wantCode(t, err, errs.Invalid)
	_, err = f.eng.Tasks(f.ctx, f.bob, workflow.TaskQuery{Box: workflow.BoxTodo, SortBy: "title"})
	wantCode(t, err, errs.Invalid)
	_, err = f.eng.Inspect(f.ctx, f.dave, workflow.InspectRequest{InstanceID: id})
	wantReason(t, err, errs.Forbidden, workflow.ReasonNotVisible)
}

// Describe: a user with a pending task changes the title; others may not.
func TestDescribe(t *testing.T) {
	f := newFixture(t)
	_, _, id := f.startAt(t, "leave_approval", 1)
	title, urg := "请假-改", int64(2)
	_, err := f.eng.Describe(f.ctx, f.alice, workflow.DescribeRequest{InstanceID: id, Title: &title})
	wantReason(t, err, errs.Forbidden, workflow.ReasonNoOpenTask)
	bad := int64(7)
	_, err = f.eng.Describe(f.ctx, f.bob, workflow.DescribeRequest{InstanceID: id, Urgency: &bad})
	wantCode(t, err, errs.Invalid)
	must[*workflow.ActionResult](t)(f.eng.Describe(f.ctx, f.bob, workflow.DescribeRequest{InstanceID: id, Title: &title, Urgency: &urg}))
	if in := f.inst(t, id); in.Title != title || in.Urgency != 2 {
		t.Fatalf("described: %q %d", in.Title, in.Urgency)
	}
}

// Concurrent hand-overs of one step (the same host retrying in two tabs,
// or the host and a send-back racing): exactly one wins, the others get a
// refusal, and the instance has exactly one new step.
func TestHandoverConcurrent(t *testing.T) {
	f := newFixture(t)
	_, st, id := f.startAt(t, "leave_approval", 5)
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if i%2 == 0 {
				_, errs[i] = f.eng.Handover(f.ctx, f.bob, workflow.HandoverRequest{InstanceID: id, ToNode: "n_mgr", Host: "alice",
					StepGuard: workflow.StepGuard{StaleTaskID: st.TaskID, Step: 1}})
			} else {
				_, errs[i] = f.eng.Describe(f.ctx, f.bob, workflow.DescribeRequest{InstanceID: id, Title: ptr("t")})
			}
		}(i)
	}
	wg.Wait()
	won := 0
	for i := 0; i < n; i += 2 {
		if errs[i] == nil {
			won++
		}
	}
	in := f.inst(t, id)
	if won != 1 || in.Round != 2 || len(in.Pending()) != 1 {
		t.Fatalf("%d hand-overs won (%v); round %d, pending %+v", won, errs, in.Round, in.Pending())
	}
}

func ptr[T any](v T) *T { return &v }

// Resubmission along the original path (e-office send_back_submit): the
// node that sent the step back gets it again, with its previous host,
// skipping the nodes in between.
func TestHandoverToSender(t *testing.T) {
	f := newFixture(t)
	_, _, id := f.startAt(t, "leave_approval", 5)
	_, err := f.eng.Handover(f.ctx, f.bob, workflow.HandoverRequest{InstanceID: id, ToSender: true})
	wantReason(t, err, errs.Invalid, workflow.ReasonNotSentBack)
	must[*workflow.DecideResult](t)(f.eng.Handover(f.ctx, f.bob, workflow.HandoverRequest{InstanceID: id, Host: "alice"}))
	must[*workflow.DecideResult](t)(f.eng.Handover(f.ctx, f.alice, workflow.HandoverRequest{InstanceID: id, ToNode: "n_admin", Host: "admin"}))
	must[*workflow.ActionResult](t)(f.eng.Return(f.ctx, f.admin, workflow.ReturnRequest{InstanceID: id, ToNode: "start"}))
	_, err = f.eng.Handover(f.ctx, f.bob, workflow.HandoverRequest{InstanceID: id, ToSender: true, Host: "alice"})
	wantCode(t, err, errs.Invalid)
	r := must[*workflow.DecideResult](t)(f.eng.Handover(f.ctx, f.bob, workflow.HandoverRequest{InstanceID: id, ToSender: true}))
	if len(r.Tasks) != 1 || r.Tasks[0].NodeID != "n_admin" || r.Tasks[0].AssigneeID != "u_1001" || !r.Tasks[0].Host || r.Tasks[0].Step != 5 {
		t.Fatalf("resubmission = %+v", r)
	}
}
