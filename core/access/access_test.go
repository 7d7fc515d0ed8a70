package access_test

import (
	"testing"

	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/principal"
)

func TestCheckRecord(t *testing.T) {
	owner := &principal.Principal{Tenant: "t1", UserID: "u_bob"}
	other := &principal.Principal{Tenant: "t1", UserID: "u_carol"}
	admin := &principal.Principal{Tenant: "t1", UserID: "u_admin", Roles: []string{"admin"}}
	client := &principal.Principal{Tenant: "t1"} // a client acting without a user
	rec := func(st int64) map[string]any {
		return map[string]any{"id": "r1", "flowStatus": st, "createBy": map[string]any{"id": "u_bob"}, "wfInstanceId": "wi1"}
	}
	const ok, forbidden, locked = "ok", "forbidden", "locked"
	cases := []struct {
		name string
		p    *principal.Principal
		st   int64
		op   access.Op
		want string
	}{
		{"owner edits a draft", owner, access.FlowDraft, access.Update, ok},
		{"owner edits a rejected record", owner, access.FlowRejected, access.Update, ok},
		{"other edits", other, access.FlowNone, access.Update, forbidden},
		{"other deletes", other, access.FlowDraft, access.Delete, forbidden},
		{"other starts", other, access.FlowDraft, access.StartWorkflow, forbidden},
		{"client without user edits", client, access.FlowNone, access.Update, forbidden},
		{"admin edits a draft", admin, access.FlowDraft, access.Update, ok},
		{"owner edits in approval", owner, access.FlowApproving, access.Update, locked},
		{"admin edits in approval", admin, access.FlowApproving, access.Update, locked},
		{"admin edits approved", admin, access.FlowApproved, access.Update, locked},
		{"admin edits suspended", admin, access.FlowSuspended, access.Update, locked},
		{"admin edits discarded", admin, access.FlowDiscarded, access.Update, locked},
		{"owner deletes in approval", owner, access.FlowApproving, access.Delete, ok},
		{"owner deletes approved", owner, access.FlowApproved, access.Delete, locked},
		{"admin deletes approved", admin, access.FlowApproved, access.Delete, ok},
		{"owner starts", owner, access.FlowDraft, access.StartWorkflow, ok},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := access.CheckRecord(tc.p, rec(tc.st), tc.op)
			got := ok
			switch {
			case access.IsNotOwner(err):
				got = forbidden
			case access.IsLocked(err):
				got = locked
			case err != nil:
				t.Fatalf("unexpected %v", err)
			}
			if got != tc.want {
				t.Fatalf("got %s (%v), want %s", got, err, tc.want)
			}
		})
	}
	// A record of a form without workflow is effective (3) from creation
	// (D-12.1): it names no instance and is not locked.
	effective := map[string]any{"id": "r2", "flowStatus": access.FlowApproved, "createBy": map[string]any{"id": "u_bob"}}
	for _, op := range []access.Op{access.Update, access.Delete} {
		if err := access.CheckRecord(owner, effective, op); err != nil {
			t.Errorf("owner %v of an effective record: %v", op, err)
		}
		if err := access.CheckRecord(other, effective, op); !access.IsNotOwner(err) {
			t.Errorf("other %v of an effective record: %v", op, err)
		}
	}
	if access.ApprovedByWorkflow(effective) || !access.ApprovedByWorkflow(rec(access.FlowApproved)) {
		t.Error("ApprovedByWorkflow")
	}
	// Waiting at the start node: editable like a draft.
	if err := access.CheckRecordAtStart(owner, rec(access.FlowApproving), access.Update); err != nil {
		t.Fatalf("at start: %v", err)
	}
	// A record without an owner is nobody's (a user-less client does not own it).
	if err := access.CheckRecord(client, map[string]any{"id": "r2"}, access.Update); !access.IsNotOwner(err) {
		t.Fatalf("ownerless record: %v", err)
	}
}
