package workflow_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
)

// Every state × every action, written out.
func TestTransitionTable(t *testing.T) {
	type cell struct {
		next workflow.Status
		code errs.Code // when the action is refused
		ok   bool
	}
	ok := func(s workflow.Status) cell { return cell{next: s, ok: true} }
	no := func(c errs.Code) cell { return cell{code: c} }
	N, C := no(errs.NotFound), no(errs.Conflict)
	want := map[workflow.Status]map[workflow.Action]cell{
		workflow.StatusNone: {workflow.ActStart: ok(workflow.StatusRunning), workflow.ActAgree: N, workflow.ActReject: N,
			workflow.ActTransfer: N, workflow.ActWithdraw: N, workflow.ActFinish: N, workflow.ActReturn: N, workflow.ActCC: N, workflow.ActHandover: N, workflow.ActDescribe: N},
		workflow.StatusRunning: {workflow.ActStart: C, workflow.ActAgree: ok(workflow.StatusRunning),
			workflow.ActReject: ok(workflow.StatusRejected), workflow.ActTransfer: ok(workflow.StatusRunning),
			workflow.ActWithdraw: ok(workflow.StatusCancelled), workflow.ActFinish: ok(workflow.StatusApproved),
			workflow.ActReturn: ok(workflow.StatusRunning), workflow.ActCC: ok(workflow.StatusRunning),
			workflow.ActHandover: ok(workflow.StatusRunning), workflow.ActDescribe: ok(workflow.StatusRunning)},
		workflow.StatusApproved: {workflow.ActStart: C, workflow.ActAgree: C, workflow.ActReject: C,
			workflow.ActTransfer: C, workflow.ActWithdraw: C, workflow.ActFinish: C, workflow.ActReturn: C, workflow.ActCC: C, workflow.ActHandover: C, workflow.ActDescribe: C},
		workflow.StatusRejected: {workflow.ActStart: ok(workflow.StatusRunning), workflow.ActAgree: C, workflow.ActReject: C,
			workflow.ActTransfer: C, workflow.ActWithdraw: C, workflow.ActFinish: C, workflow.ActReturn: C, workflow.ActCC: C, workflow.ActHandover: C, workflow.ActDescribe: C},
		workflow.StatusCancelled: {workflow.ActStart: ok(workflow.StatusRunning), workflow.ActAgree: C, workflow.ActReject: C,
			workflow.ActTransfer: C, workflow.ActWithdraw: C, workflow.ActFinish: C, workflow.ActReturn: C, workflow.ActCC: C, workflow.ActHandover: C, workflow.ActDescribe: C},
	}
	for _, s := range workflow.Statuses {
		for _, a := range workflow.Actions {
			w, listed := want[s][a]
			if !listed {
				t.Fatalf("test table misses %q × %q", s, a)
			}
			got, err := workflow.Transition(s, a)
			switch {
			case w.ok && (err != nil || got != w.next):
				t.Errorf("%q × %q = %q, %v; want %q", s, a, got, err, w.next)
			case !w.ok && errs.CodeOf(err) != w.code:
				t.Errorf("%q × %q: err %v, want code %v", s, a, err, w.code)
			case !w.ok && err == nil:
				t.Errorf("%q × %q allowed, want refusal", s, a)
			}
		}
	}
	if _, err := workflow.Transition("bogus", workflow.ActStart); errs.CodeOf(err) != errs.Internal {
		t.Errorf("unknown state: %v", err)
	}
	for _, s := range workflow.Statuses[1:] {
		if workflow.FlowStatus(s) < 1 {
			t.Errorf("FlowStatus(%q) = %d", s, workflow.FlowStatus(s))
		}
	}
}

func TestParseDefinitionErrors(t *testing.T) {
	cases := map[string]any{
		"not json":          "{",
		"no nodes":          map[string]any{},
		"unknown type":      `{"nodes":[{"id":"a","type":"script"}]}`,
		"no assignee":       `{"nodes":[{"id":"a","type":"approve","assignees":{}}]}`,
		"missing assignees": `{"nodes":[{"id":"a","type":"approve"}]}`,
		"duplicate id":      `{"nodes":[{"id":"a","type":"start"},{"id":"a","type":"end"}]}`,
		"bad users":         `{"nodes":[{"id":"a","type":"approve","assignees":{"users":[1]}}]}`,
		"unknown key":       `{"nodes":[{"id":"a","type":"start","x":1}]}`,
		"unknown kind":      `{"nodes":[{"id":"a","type":"approve","assignees":{"groups":["x"]}}]}`,
		"no id":             `{"nodes":[{"type":"start"}]}`,
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := workflow.ParseDefinition(c)
			wantCode(t, err, errs.Invalid)
		})
	}
	d, err := workflow.ParseDefinition(workflow.ExampleLeaveApproval().Content)
	if err != nil || len(d.Nodes) != 4 || d.Nodes[2].When != "data/days gt 3" {
		t.Fatalf("example: %+v %v", d, err)
	}
	again, err := workflow.ParseDefinition(d.ToContent())
	if err != nil || fmt.Sprint(again) != fmt.Sprint(d) {
		t.Fatalf("round trip: %+v %v", again, err)
	}
}

// failingStore fails the k-th write (Insert/Update/Delete) once armed.
type failingStore struct {
	store.Store
	armed  atomic.Bool
	writes atomic.Int64
	failAt int64
}

var errInjected = errs.New(errs.Unavailable, "injected failure")

func (s *failingStore) write() error {
	if s.armed.Load() && s.writes.Add(1) == s.failAt {
		return errInjected
	}
	return nil
}

func (s *failingStore) Insert(ctx context.Context, coll string, doc store.Doc) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Store.Insert(ctx, coll, doc)
}

func (s *failingStore) Update(ctx context.Context, coll, tenant, id string, doc store.Doc, cond query.Expr) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Store.Update(ctx, coll, tenant, id, doc, cond)
}

func (s *failingStore) Delete(ctx context.Context, coll, tenant, id string) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Store.Delete(ctx, coll, tenant, id)
}

// snapshot is everything a step may change.
func snapshot(t *testing.T, st store.Store) string {
	t.Helper()
	out := ""
	for _, coll := range []string{"wfinstance", "wftodo", "wfapprovallog", "formdata"} {
		docs, err := st.Find(context.Background(), coll, tenant, query.Query{Limit: -1})
		if err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf("%s:%v\n", coll, docs)
	}
	return out
}

// An error injected at any write of any step (after the first write, and at
// the first) leaves nothing half done.
func TestInjectedFailureLeavesNothing(t *testing.T) {
	steps := []struct {
		name string
		// prepare brings the record into the state the step needs and
		// returns the step.
		prepare func(f *fixture, rec string) func() error
	}{
		{"start", func(f *fixture, rec string) func() error {
			return func() error {
				_, err := f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "leave_approval", BusinessKey: rec})
				return err
			}
		}},
		{"agree", func(f *fixture, rec string) func() error {
			must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "leave_approval", BusinessKey: rec}))
			return func() error {
				_, err := f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{DataID: rec, Result: workflow.ActAgree, Comment: "ok"})
				return err
			}
		}},
		{"reject", func(f *fixture, rec string) func() error {
			must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "leave_approval", BusinessKey: rec}))
			return func() error {
				_, err := f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{DataID: rec, Result: workflow.ActReject})
				return err
			}
		}},
		{"transfer", func(f *fixture, rec string) func() error {
			must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "leave_approval", BusinessKey: rec}))
			return func() error {
				_, err := f.eng.Transfer(f.ctx, f.alice, workflow.TransferRequest{DataID: rec, Targets: []string{"u_carol", "u_dave"}})
				return err
			}
		}},
		{"withdraw", func(f *fixture, rec string) func() error {
			must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "leave_approval", BusinessKey: rec}))
			return func() error {
				_, err := f.eng.Withdraw(f.ctx, f.bob, workflow.WithdrawRequest{DataID: rec})
				return err
			}
		}},
	}
	for _, sc := range steps {
		t.Run(sc.name, func(t *testing.T) {
			// Count the step's writes on a clean run first.
			fs := &failingStore{Store: openStore(t)}
			f := newFixtureOn(t, fs)
			run := sc.prepare(f, f.record("f_leave", map[string]any{"days": 5.0}))
			fs.armed.Store(true)
			if err := run(); err != nil {
				t.Fatal(err)
			}
			total := fs.writes.Load()
			if total < 3 {
				t.Fatalf("step made only %d writes", total)
			}
			for k := int64(1); k <= total; k++ {
				fs := &failingStore{Store: openStore(t), failAt: k}
				f := newFixtureOn(t, fs)
				run := sc.prepare(f, f.record("f_leave", map[string]any{"days": 5.0}))
				before := snapshot(t, fs)
				fs.armed.Store(true)
				if err := run(); err != errInjected && errs.CodeOf(err) != errs.Unavailable {
					t.Fatalf("write %d/%d: err = %v, want the injected failure", k, total, err)
				}
				if after := snapshot(t, fs); after != before {
					t.Fatalf("write %d/%d failed but state changed:\nbefore %s\nafter  %s", k, total, before, after)
				}
			}
		})
	}
}

// Random action sequences keep the invariants: a running instance has a
// non-empty pending task set, all on its current node and mirrored exactly
// by the wftodo documents; a finished one has none; the record's
// flowStatus is the instance's; at most one running instance per record.
func TestRandomActionsKeepInvariants(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel() // each seed has its own store
			f := newFixture(t)
			rng := rand.New(rand.NewPCG(seed, 42))
			users := []*principal.Principal{f.admin, f.bob, f.alice, f.carol, f.dave}
			if err := workflow.SeedDefinition(f.ctx, f.st, tenant, workflow.DefinitionSeed{Key: "multi", Form: "leave_request",
				Content: `{"nodes":[{"id":"a","type":"approve","assignees":{"roles":["manager"]}},
				{"id":"b","type":"approve","assignees":{"users":["carol","admin"]},"when":"data/days gt 1"},
				{"id":"c","type":"approve","assignees":{"initiatorManager":true}}]}`}); err != nil {
				t.Fatal(err)
			}
			recs := []string{f.record("f_leave", map[string]any{"days": 5.0}), f.record("f_leave", map[string]any{"days": 1.0}),
				f.record("f_leave", map[string]any{"days": 2.0})}
			defs := []string{"leave_approval", "multi"}
			succeeded := map[int]int{}
			for i := 0; i < 200; i++ {
				rec := recs[rng.IntN(len(recs))]
				u := users[rng.IntN(len(users))]
				var err error
				kind := rng.IntN(6)
				if in, _ := f.eng.InstanceOf(f.ctx, tenant, rec); in != nil && kind >= 1 && kind <= 4 && rng.IntN(3) > 0 {
					if p := in.Pending(); len(p) > 0 { // mostly act as a real assignee
						a := p[rng.IntN(len(p))].AssigneeID
						for _, x := range users {
							if x.UserID == a {
								u = x
							}
						}
					}
				}
				if (kind == 0 || kind == 5) && rng.IntN(3) > 0 {
					// Mostly the record's owner: only the owner or an admin
					// starts its workflow, only the initiator withdraws.
					u = f.bob
				}
				switch kind {
				case 0:
					_, err = f.eng.Start(f.ctx, u, workflow.StartRequest{DefinitionID: defs[rng.IntN(2)], BusinessKey: rec,
						AtStart: rng.IntN(2) == 0})
				case 1, 2:
					_, err = f.eng.Decide(f.ctx, u, workflow.DecideRequest{DataID: rec, Result: workflow.ActAgree})
				case 3:
					_, err = f.eng.Decide(f.ctx, u, workflow.DecideRequest{DataID: rec, Result: workflow.ActReject})
				case 4:
					_, err = f.eng.Transfer(f.ctx, u, workflow.TransferRequest{DataID: rec, Targets: []string{users[rng.IntN(len(users))].UserID}})
				case 5:
					_, err = f.eng.Withdraw(f.ctx, u, workflow.WithdrawRequest{DataID: rec})
				}
				if err == nil {
					succeeded[kind]++
				}
				if err != nil {
					switch errs.CodeOf(err) {
					case errs.Conflict, errs.Forbidden, errs.NotFound, errs.Invalid:
					default:
						t.Fatalf("step %d: unexpected %v", i, err)
					}
				}
				for j, r := range recs {
					checkInvariants(t, f, r)
					if in, _ := f.eng.InstanceOf(f.ctx, tenant, r); in != nil && in.Status == workflow.StatusApproved {
						recs[j] = f.record("f_leave", map[string]any{"days": float64(rng.IntN(5))}) // keep the sequence going
					}
				}
			}
			for kind := range 6 {
				if succeeded[kind] == 0 {
					t.Errorf("action kind %d never succeeded: the sequence does not exercise it (%v)", kind, succeeded)
				}
			}
		})
	}
}

func checkInvariants(t *testing.T, f *fixture, rec string) {
	t.Helper()
	ins, err := f.st.Find(f.ctx, "wfinstance", tenant, query.Query{Filter: byData(rec), Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, d := range ins {
		if d["status"] == "running" {
			running++
		}
	}
	if running > 1 {
		t.Fatalf("record %s has %d running instances", rec, running)
	}
	latest, err := f.eng.InstanceOf(f.ctx, tenant, rec)
	if err != nil {
		t.Fatal(err)
	}
	todos, err := f.st.Find(f.ctx, "wftodo", tenant, query.Query{Filter: byData(rec), Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	if latest == nil {
		if len(todos) != 0 || f.flowStatus(t, rec) != 1 {
			t.Fatalf("record %s without instance has tasks or status", rec)
		}
		return
	}
	if got, want := f.flowStatus(t, rec), workflow.FlowStatus(latest.Status); got != want {
		t.Fatalf("record %s flowStatus %d, instance %s wants %d", rec, got, latest.Status, want)
	}
	pending := latest.Pending()
	if len(pending) != len(todos) {
		t.Fatalf("instance has %d pending tasks, wftodo %d", len(pending), len(todos))
	}
	if latest.Status != workflow.StatusRunning {
		if len(pending) != 0 {
			t.Fatalf("finished instance %s has pending tasks", latest.Status)
		}
		return
	}
	if len(pending) == 0 {
		t.Fatal("running instance without pending tasks")
	}
	cur, ok := latest.CurrentNode()
	if !ok {
		t.Fatal("running instance without a current node")
	}
	node := cur.ID
	ids := map[string]bool{}
	for _, p := range pending {
		if p.NodeID != node {
			t.Fatalf("pending task on node %s, current node %s", p.NodeID, node)
		}
		ids[p.ID] = true
	}
	for _, d := range todos {
		if !ids[d["id"].(string)] || d["wfInstanceId"] != latest.ID {
			t.Fatalf("wftodo %v not a pending task of the latest instance", d["id"])
		}
	}
}
