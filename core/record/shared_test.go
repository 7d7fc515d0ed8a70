package record_test

import (
	"context"
	"testing"
	"time"

	redisadapter "github.com/eimshub/eimshub/adapters/redis"
	"github.com/eimshub/eimshub/adapters/redis/redistest"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/record"
)

// Two hub instances (two Services, one store, one real redis-server): a
// form edit on A is seen by B at its next generation check (≤ CheckEvery,
// 1 s), and until then B serves its cached copy without reading the store.
func TestFormCacheSharedAcrossInstances(t *testing.T) {
	f := newFixture(t)
	srv := redistest.Start(t)
	open := func() *record.Service {
		c, err := redisadapter.Open(context.Background(), srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return record.New(f.st, record.Options{Logger: quiet, Now: f.clk.now, Cache: redisadapter.NewCache(c)})
	}
	a, b := open(), open()
	if fm, err := b.Form(f.ctx, "t1", "Plain"); err != nil || fm.Name != "Plain" {
		t.Fatalf("B: %v %v", fm, err)
	}
	// A edits the form (as the entity service does: write, then FormsChanged).
	f.putForm(t, "t1", "f_plain", "Plain", true, "a1")
	a.FormsChanged(f.ctx, "t1")
	if fm, err := a.Form(f.ctx, "t1", "plain"); err != nil || !fm.UsingWorkflow {
		t.Fatalf("A after its own edit: %v %v", fm, err)
	}
	finds := f.st.formFinds.Load()
	f.clk.add(999 * time.Millisecond)
	if fm, _ := b.Form(f.ctx, "t1", "Plain"); fm.UsingWorkflow {
		t.Fatal("B re-checked before CheckEvery (the near cache is not used)")
	}
	if n := f.st.formFinds.Load() - finds; n != 0 {
		t.Fatalf("B read the store %d times within CheckEvery", n)
	}
	f.clk.add(2 * time.Millisecond)
	if fm, err := b.Form(f.ctx, "t1", "Plain"); err != nil || !fm.UsingWorkflow {
		t.Fatalf("B after CheckEvery: %v %v", fm, err)
	}
	// Unchanged generation: the next check reads Redis, not the store.
	finds = f.st.formFinds.Load()
	f.clk.add(2 * time.Second)
	if _, err := b.Form(f.ctx, "t1", "Flow"); err != nil {
		t.Fatal(err)
	}
	if n := f.st.formFinds.Load() - finds; n != 0 {
		t.Fatalf("unchanged generation reloaded the forms (%d finds)", n)
	}
	// A deletion is seen the same way.
	if err := f.st.Delete(f.ctx, record.CollForm, "t1", "f_flow"); err != nil {
		t.Fatal(err)
	}
	a.FormsChanged(f.ctx, "t1")
	f.clk.add(1100 * time.Millisecond)
	if _, err := b.Form(f.ctx, "t1", "Flow"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("B after the delete: %v", err)
	}
	// Redis down: B keeps serving its copy; A's own edits stay visible on A.
	srv.Kill()
	f.clk.add(2 * time.Second)
	if _, err := b.Form(f.ctx, "t1", "Plain"); err != nil {
		t.Fatalf("B with Redis down: %v", err)
	}
	f.putForm(t, "t1", "f_plain", "Plain2", false, "a1")
	a.FormsChanged(f.ctx, "t1")
	if _, err := a.Form(f.ctx, "t1", "Plain2"); err != nil {
		t.Fatalf("A with Redis down: %v", err)
	}
}
