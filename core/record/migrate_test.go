package record_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/store"
)

// TestMigrateEffective: records of forms without workflow stored with
// flowStatus 0 (or none) become effective (3) in every tenant, in batches;
// drafts, workflow forms' records and other statuses are left alone; the
// records' versions (updateTime) are kept; a second run changes nothing
// (spec §12.17 D-12.1).
func TestMigrateEffective(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"t1", "t2"} {
		if err := f.st.Insert(f.ctx, record.CollTenant, store.Doc{"id": id, "corpId": "", "name": id}); err != nil {
			t.Fatal(err)
		}
	}
	f.putForm(t, "t2", "f_plain2", "Plain2", false, "")
	put := func(ctx context.Context, tenant, id, form string, status any, extra store.Doc) {
		d := store.Doc{"id": id, "corpId": tenant, "formId": form, "appId": "", "data": map[string]any{},
			"createBy": map[string]any{"id": "u1"}, "createTime": int64(5), "updateTime": int64(7)}
		if status != nil {
			d["flowStatus"] = status
		}
		for k, v := range extra {
			d[k] = v
		}
		if err := f.st.Insert(ctx, record.Coll, d); err != nil {
			t.Fatal(err)
		}
	}
	const bulk = 1234 // more than one batch
	err := f.st.Tx(f.ctx, func(ctx context.Context) error {
		put(ctx, "t1", "plain0", "f_plain", int64(0), nil)
		put(ctx, "t1", "plainNone", "f_plain", nil, nil)
		put(ctx, "t1", "plainDraft", "f_plain", int64(1), nil)
		put(ctx, "t1", "plainApproved", "f_plain", int64(3), store.Doc{record.InstanceKey: "wi1"})
		put(ctx, "t1", "flow0", "f_flow", int64(0), nil)
		for i := 0; i < bulk; i++ {
			put(ctx, "t2", fmt.Sprintf("b%04d", i), "f_plain2", int64(0), nil)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.MigrateEffective(f.ctx)
	if err != nil || n != 2+bulk {
		t.Fatalf("MigrateEffective = %d, %v; want %d", n, err, 2+bulk)
	}
	for id, want := range map[string]int64{"plain0": 3, "plainNone": 3, "plainDraft": 1, "plainApproved": 3, "flow0": 0} {
		d := f.stored(t, id)
		if got := access.FlowStatus(d); got != want || d["updateTime"] != int64(7) {
			t.Errorf("%s: flowStatus %d updateTime %v; want %d, 7", id, got, d["updateTime"], want)
		}
	}
	if c, err := f.st.Count(f.ctx, record.Coll, "t2", nil); err != nil || c != bulk {
		t.Fatalf("t2 records = %d, %v", c, err)
	}
	d, err := f.st.Get(f.ctx, record.Coll, "t2", "b1233")
	if err != nil || access.FlowStatus(d) != 3 {
		t.Fatalf("t2 b1233 = %v, %v", d, err)
	}
	// The migrated records are not locked: approved by no workflow.
	if _, err := f.svc.Update(f.ctx, f.owner, record.Change{Old: f.stored(t, "plain0"), Data: map[string]any{"title": "x"}}); err != nil {
		t.Fatalf("owner update of a migrated record: %v", err)
	}
	if n, err := f.svc.MigrateEffective(f.ctx); err != nil || n != 0 {
		t.Fatalf("second run = %d, %v; want 0", n, err)
	}
}
