package workflow_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
)

// recordingStore keeps the queries run on the workflow collections.
type recordingStore struct {
	store.Store
	mu sync.Mutex
	qs []recorded
}

type recorded struct {
	coll string
	q    query.Query
}

func (r *recordingStore) keep(coll string, q query.Query) {
	if _, ok := workflow.Indexes()[coll]; ok {
		r.mu.Lock()
		r.qs = append(r.qs, recorded{coll, q})
		r.mu.Unlock()
	}
}

func (r *recordingStore) Find(ctx context.Context, coll, tenant string, q query.Query) ([]store.Doc, error) {
	r.keep(coll, q)
	return r.Store.Find(ctx, coll, tenant, q)
}

func (r *recordingStore) Count(ctx context.Context, coll, tenant string, filter query.Expr) (int64, error) {
	r.keep(coll, query.Query{Filter: filter, Limit: -1})
	return r.Store.Count(ctx, coll, tenant, filter)
}

// indexedPaths returns the paths of the top-level equalities of f that
// Indexes declares for coll.
func indexedPaths(coll string, f query.Expr) []string {
	var items []query.Expr
	switch x := f.(type) {
	case query.And:
		items = x.Items
	case nil:
	default:
		items = []query.Expr{x}
	}
	var out []string
	for _, it := range items {
		c, ok := it.(query.Cmp)
		if !ok || c.Op != query.Eq {
			continue
		}
		if slices.ContainsFunc(workflow.Indexes()[coll], func(p query.Path) bool { return p.String() == c.Path.String() }) {
			out = append(out, c.Path.String())
		}
	}
	return out
}

// Every query the engine runs on its collections with an equality on a
// declared path — and the approval-log reads by record and by instance —
// is answered from one of the declared indexes (EXPLAIN QUERY PLAN on the
// real SQLite store), not by walking the tenant's documents.
func TestIndexesServeTheEngineQueries(t *testing.T) {
	raw := openStore(t)
	lite, ok := raw.(*sqlite.Store)
	if !ok {
		t.Fatalf("store is %T", raw)
	}
	rec := &recordingStore{Store: raw}
	f := newFixtureOn(t, rec)
	if err := f.eng.EnsureIndexes(f.ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.eng.EnsureIndexes(f.ctx); err != nil {
		t.Fatalf("EnsureIndexes again: %v", err)
	}
	var first, last *workflow.StartResult
	var recs []string
	for range 6 {
		r := f.record("f_1", map[string]any{"customer": "甲公司", "amount": 150.0})
		recs = append(recs, r)
		last = must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{DefinitionID: "wd_1", BusinessKey: r}))
		if first == nil {
			first = last
		}
	}
	must[*workflow.ActionResult](t)(f.eng.CC(f.ctx, f.bob, workflow.CCRequest{InstanceID: last.ID, Users: []string{"u_carol"}}))
	must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.admin, workflow.DecideRequest{DataID: recs[0],
		TaskID: first.Tasks[0].TaskID, Result: workflow.ActAgree}))
	for _, q := range []workflow.TaskQuery{{Box: workflow.BoxTodo, WithSteps: true}, {Box: workflow.BoxTodo, DataID: recs[1], Count: true},
		{Box: workflow.BoxOvertime}, {Box: workflow.BoxStarted}, {Box: workflow.BoxTodo, InstanceID: last.ID}} {
		must[*workflow.TaskList](t)(f.eng.Tasks(f.ctx, f.admin, q))
	}
	must[*workflow.TaskList](t)(f.eng.Tasks(f.ctx, f.carol, workflow.TaskQuery{Box: workflow.BoxCC}))
	must[[]workflow.PendingTask](t)(f.eng.Pending(f.ctx, f.admin, workflow.PendingQuery{DataID: recs[2]}))
	must[*workflow.Instance](t)(f.eng.InstanceOf(f.ctx, tenant, recs[3]))
	// The approval log is read by the native API and the connectors.
	for _, filter := range []query.Expr{byData(recs[0]), query.Cmp{Path: query.Path{"wfInstanceId"}, Op: query.Eq, Value: last.ID}} {
		if _, err := rec.Find(f.ctx, workflow.CollApprovalLog, tenant, query.Query{Filter: filter,
			Sort: []query.Sort{{Path: query.Path{"createTime"}}}, Limit: 100}); err != nil {
			t.Fatal(err)
		}
	}

	covered := map[string]bool{}
	for _, r := range rec.qs {
		paths := indexedPaths(r.coll, r.q.Filter)
		if len(paths) == 0 {
			continue
		}
		plan, err := lite.QueryPlan(f.ctx, r.coll, tenant, r.q)
		if err != nil {
			t.Fatal(err)
		}
		joined := strings.Join(plan, "\n")
		if !strings.Contains(joined, "__ix_") {
			t.Errorf("%s filtered by %v uses none of the declared indexes:\n%s", r.coll, paths, joined)
		}
		for _, p := range paths {
			covered[r.coll+"."+p] = true
		}
	}
	// The hot queries were run at all (a recorder that saw nothing passes
	// the loop above vacuously).
	for _, want := range []string{"wfinstance.dataId", "wfinstance.initiator.id", "wftodo.employeeId", "wftodo.dataId",
		"wftodo.wfInstanceId", "wfcc.employeeId", "wfcc.wfInstanceId", "wfapprovallog.dataId", "wfapprovallog.wfInstanceId"} {
		if !covered[want] {
			t.Errorf("no query filtered by %s was run (ran: %v)", want, covered)
		}
	}
}
