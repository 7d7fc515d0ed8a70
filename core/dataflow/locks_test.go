package dataflow_test

import (
	"testing"
	"time"

	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/dataflow"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// A dataflow's writes obey the flowStatus lock (through core/record): a run
// that updates or removes a record in approval-approved state fails with
// 409 record_locked and writes nothing (not its create either). Before the
// record core, pending.go wrote such records blindly. Another user's draft
// is changed normally (a definition is an administrator's code: no owner
// rule).
func TestRunObeysRecordLocks(t *testing.T) {
	f := newFixture(t)
	now := time.Now().UnixMilli()
	put := func(id string, status int64, owner string) {
		if err := f.st.Insert(f.ctx, "formdata", store.Doc{"id": id, "corpId": tenant, "appId": "a_1", "formId": "f_1",
			"flowStatus": status, "createBy": map[string]any{"id": owner}, "data": map[string]any{"customer": "c", "amount": int64(1)},
			"wfInstanceId": "wi_" + id, "createTime": now, "updateTime": now}); err != nil {
			t.Fatal(err)
		}
	}
	put("approved", access.FlowApproved, "u_2")
	put("approving", access.FlowApproving, "u_2")
	put("draft", access.FlowDraft, "u_2")
	for _, c := range []struct{ name, script string }{
		{"update approved", "records.create('orders', {customer: 'new'}); records.update('orders', 'approved', {amount: 2}); return 1;"},
		{"update in approval", "records.create('orders', {customer: 'new'}); records.update('orders', 'approving', {amount: 2}); return 1;"},
		{"user removes approved", "records.create('orders', {customer: 'new'}); records.remove('orders', 'approved'); return 1;"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f.seed(t, "lock", c.script)
			res, err := f.eng.Run(f.ctx, f.user, dataflow.RunRequest{DefinitionID: "lock", Input: map[string]any{}})
			if !access.IsLocked(err) {
				t.Fatalf("run = %+v, %v; want 409 record_locked", res, err)
			}
			for _, id := range []string{"approved", "approving"} {
				if d, err := f.st.Get(f.ctx, "formdata", tenant, id); err != nil || d["data"].(map[string]any)["amount"] != int64(1) {
					t.Fatalf("%s = %v, %v", id, d, err)
				}
			}
			if n := f.records(t, query.Cmp{Path: query.Path{"data", "customer"}, Op: query.Eq, Value: "new"}); n != 0 {
				t.Fatalf("%d records created by the refused run", n)
			}
		})
	}
	f.seed(t, "draft", "records.update('orders', 'draft', {amount: 3}); return 1;")
	if res := f.run(t, "draft", map[string]any{}); res.Status != dataflow.StatusSucceeded {
		t.Fatalf("update of another user's draft: %+v", res)
	}
	if d, _ := f.st.Get(f.ctx, "formdata", tenant, "draft"); d["data"].(map[string]any)["amount"] != int64(3) {
		t.Fatalf("draft = %v", d)
	}
}
