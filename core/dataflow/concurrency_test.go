package dataflow_test

import (
	"sync"
	"testing"
	"time"

	"github.com/eimshub/eimshub/core/dataflow"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// hookedEngine calls at() the first time a records write asks for the
// time (that is, from inside the running script).
func hookedEngine(f *fixture, at func()) *dataflow.Engine {
	var once sync.Once
	return dataflow.New(f.st, dataflow.Options{
		Limits: dataflow.Limits{Eval: 20 * time.Second, Run: 30 * time.Second},
		Now: func() time.Time {
			once.Do(at)
			return time.Now()
		}})
}

// A long run holds no store lock: another tenant's create completes while
// the script is still running (ordering, not timing: the create returns
// before the run's own write is committed and before the run returns).
func TestRunDoesNotBlockOtherTenants(t *testing.T) {
	f := newFixture(t)
	started := make(chan struct{})
	eng := hookedEngine(f, func() { close(started) })
	f.seed(t, "long", "records.create('orders', {customer: 'long run'}); const t = Date.now(); while (Date.now() - t < 2000) {} return 1;")
	done := make(chan *dataflow.RunResult, 1)
	go func() {
		res, err := eng.Run(f.ctx, f.admin, dataflow.RunRequest{DefinitionID: "long", Input: map[string]any{}})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	<-started
	if err := f.st.Insert(f.ctx, "formdata", store.Doc{"id": "other_1", "corpId": "t2", "formId": "g_1", "data": map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	mine := query.Cmp{Path: query.Path{"data", "customer"}, Op: query.Eq, Value: "long run"}
	select {
	case res := <-done:
		t.Fatalf("the other tenant's create waited for the run (%+v)", res)
	default:
	}
	if n := f.records(t, mine); n != 0 {
		t.Fatalf("the run's write is visible before the run ended (%d)", n)
	}
	if res := <-done; res == nil || res.Status != dataflow.StatusSucceeded {
		t.Fatalf("run = %+v", res)
	}
	if n := f.records(t, mine); n != 1 {
		t.Fatalf("%d records after the run, want 1", n)
	}
}

// A record the run read and then updated was changed by someone else in
// between: the run fails with Conflict and writes nothing (not its create
// either); the other writer's change stays.
func TestRunOptimisticConflict(t *testing.T) {
	f := newFixture(t)
	now := time.Now().UnixMilli()
	if err := f.st.Insert(f.ctx, "formdata", store.Doc{"id": "r1", "corpId": tenant, "appId": "a_1", "formId": "f_1",
		"data": map[string]any{"customer": "c", "amount": int64(1)}, "createTime": now, "updateTime": now}); err != nil {
		t.Fatal(err)
	}
	concurrent := func() {
		d, err := f.st.Get(f.ctx, "formdata", tenant, "r1")
		if err != nil {
			t.Error(err)
			return
		}
		d["data"] = map[string]any{"customer": "c", "amount": int64(99)}
		d["updateTime"] = now + 5
		if err := f.st.Update(f.ctx, "formdata", tenant, "r1", d, nil); err != nil {
			t.Error(err)
		}
	}
	for _, c := range []struct{ name, script string }{
		// the change lands after the read and before the update: caught when the update reads again
		{"update", "const r = records.get('orders', 'r1'); records.create('orders', {customer: 'new'}); records.update('orders', r.id, {amount: 2}); return 1;"},
		// the change lands after the update: caught by the compare-and-set at commit
		{"commit", "const r = records.get('orders', 'r1'); records.update('orders', r.id, {amount: 2}); records.create('orders', {customer: 'new'}); return 1;"},
		{"remove", "records.get('orders', 'r1'); records.create('orders', {customer: 'new'}); records.remove('orders', 'r1'); return 1;"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := f.st.Update(f.ctx, "formdata", tenant, "r1", store.Doc{"id": "r1", "corpId": tenant, "appId": "a_1", "formId": "f_1",
				"data": map[string]any{"customer": "c", "amount": int64(1)}, "updateTime": now}, nil); err != nil {
				t.Fatal(err)
			}
			eng := hookedEngine(f, concurrent)
			f.seed(t, "cas_"+c.name, c.script)
			res, err := eng.Run(f.ctx, f.admin, dataflow.RunRequest{DefinitionID: "cas_" + c.name, Input: map[string]any{}})
			if errs.CodeOf(err) != errs.Conflict {
				t.Fatalf("run = %+v, %v; want Conflict", res, err)
			}
			d, err := f.st.Get(f.ctx, "formdata", tenant, "r1")
			if err != nil || d["data"].(map[string]any)["amount"] != int64(99) {
				t.Fatalf("r1 = %v, %v", d, err)
			}
			if n := f.records(t, query.Cmp{Path: query.Path{"data", "customer"}, Op: query.Eq, Value: "new"}); n != 0 {
				t.Fatalf("%d records created by the conflicting run", n)
			}
		})
	}
}

// Within a run, get and find see the run's own writes; nothing is stored
// until the run ends.
func TestRunReadsItsOwnWrites(t *testing.T) {
	f := newFixture(t)
	f.seed(t, "ryw", `const a = records.create('orders', {customer: 'a', amount: 5});
		const b = records.create('orders', {customer: 'b', amount: 50});
		records.update('orders', a.id, {amount: 500});
		records.remove('orders', b.id);
		const big = records.find('orders', 'data/amount gt 10');
		return {n: big.length, who: big[0].data.customer, got: records.get('orders', a.id).data.amount, gone: records.get('orders', b.id)};`)
	res := f.run(t, "ryw", map[string]any{})
	out, _ := res.Output.(map[string]any)
	if res.Status != dataflow.StatusSucceeded || out["n"] != 1.0 || out["who"] != "a" || out["got"] != 500.0 || out["gone"] != nil {
		t.Fatalf("res = %+v", res)
	}
	if n := f.records(t, nil); n != 1 {
		t.Fatalf("%d records stored, want 1", n)
	}
}
