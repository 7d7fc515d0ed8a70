package host_test

import (
	"context"
	"testing"

	"github.com/eimshub/eimshub/core/alias"
	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/workflow"
	"github.com/eimshub/eimshub/plugins/host"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/example/exampletest"
)

// Permission parity (issue 11 #5): every action a plain user may not do
// through the native entity service and workflow engine (the code
// /api/v1 runs) is refused identically — same code, same message — through
// the Host API v2, and changes nothing.
func TestHostAPIPermissionParity(t *testing.T) {
	rc := newRealCore(t)
	ctx := context.Background()
	bob := sdk.Principal{Tenant: exampletest.Tenant, UserID: "u2", UserCode: "bob", DisplayName: "Bob",
		ClientID: "app1", Scopes: []string{"api.readwrite"}}
	nbob := host.FromSDKPrincipal(&bob)
	wf := workflow.New(rc.st, workflow.Options{})
	alice := exampletest.User
	created, err := rc.host.CreateRecords(ctx, &alice, "leave", []map[string]any{{"days": 2}}, sdk.CreateOptions{StartWorkflow: true, Submit: true})
	if err != nil {
		t.Fatal(err)
	}
	leaveID := created[0].Record["id"].(string)

	cases := []struct {
		name   string
		native func() error
		hostv2 func() error
	}{
		{"create a user", func() error {
			_, err := rc.ents.Create(ctx, nbob, "user", map[string]any{"userName": "eve"})
			return err
		}, func() error {
			_, err := rc.host.EntityCreate(ctx, &bob, "user", sdk.Doc{"userName": "eve"})
			return err
		}},
		{"rename a department", func() error {
			_, err := rc.ents.Update(ctx, nbob, "department", "d1", map[string]any{"name": "x"}, "")
			return err
		}, func() error {
			_, err := rc.host.EntityUpdate(ctx, &bob, "department", "d1", sdk.Doc{"name": "x"}, sdk.EntityOptions{})
			return err
		}},
		{"delete a role", func() error { return rc.ents.Delete(ctx, nbob, "role", "ro1", "") },
			func() error { return rc.host.EntityDelete(ctx, &bob, "role", "ro1", sdk.EntityOptions{}) }},
		{"change alice's record", func() error {
			_, err := rc.ents.Update(ctx, nbob, "orders", "r1", map[string]any{"data": map[string]any{"amount": 1}}, "")
			return err
		}, func() error {
			_, err := rc.host.EntityUpdate(ctx, &bob, "orders", "r1", sdk.Doc{"data": map[string]any{"amount": 1}}, sdk.EntityOptions{})
			return err
		}},
		{"read the outbox", func() error {
			_, err := rc.ents.List(ctx, nbob, "outbox", entity.ListOptions{})
			return err
		}, func() error {
			_, err := rc.host.EntityFind(ctx, &bob, "outbox", sdk.Query{Limit: 1}, sdk.EntityOptions{})
			return err
		}},
		{"write a task", func() error { _, err := rc.ents.Create(ctx, nbob, "wftodo", map[string]any{}); return err },
			func() error { _, err := rc.host.EntityCreate(ctx, &bob, "wftodo", sdk.Doc{}); return err }},
		{"approve alice's task", func() error {
			_, err := wf.Decide(ctx, nbob, workflow.DecideRequest{DataID: leaveID, Result: workflow.ActAgree})
			return err
		}, func() error {
			_, err := rc.host.WorkflowAct(ctx, &bob, sdk.WorkflowAction{Action: sdk.ActApprove, DataID: leaveID})
			return err
		}},
		{"act as alice", func() error {
			_, err := wf.Decide(ctx, nbob, workflow.DecideRequest{DataID: leaveID, Result: workflow.ActAgree, Approver: "u1"})
			return err
		}, func() error {
			_, err := rc.host.WorkflowAct(ctx, &bob, sdk.WorkflowAction{Action: sdk.ActApprove, DataID: leaveID, Actor: "u1"})
			return err
		}},
		{"withdraw alice's instance", func() error {
			_, err := wf.Withdraw(ctx, nbob, workflow.WithdrawRequest{DataID: leaveID})
			return err
		}, func() error {
			_, err := rc.host.WorkflowAct(ctx, &bob, sdk.WorkflowAction{Action: sdk.ActWithdraw, DataID: leaveID})
			return err
		}},
		{"return alice's task", func() error {
			_, err := wf.Return(ctx, nbob, workflow.ReturnRequest{DataID: leaveID, ToNode: "_start"})
			return err
		}, func() error {
			_, err := rc.host.WorkflowAct(ctx, &bob, sdk.WorkflowAction{Action: sdk.ActReturn, DataID: leaveID, ToNode: "_start"})
			return err
		}},
		{"return as alice", func() error {
			_, err := wf.Return(ctx, nbob, workflow.ReturnRequest{DataID: leaveID, Actor: "u1"})
			return err
		}, func() error {
			_, err := rc.host.WorkflowAct(ctx, &bob, sdk.WorkflowAction{Action: sdk.ActReturn, DataID: leaveID, Actor: "u1"})
			return err
		}},
		{"copy alice's instance", func() error {
			_, err := wf.CC(ctx, nbob, workflow.CCRequest{DataID: leaveID, Users: []string{"u2"}})
			return err
		}, func() error {
			_, err := rc.host.WorkflowAct(ctx, &bob, sdk.WorkflowAction{Action: sdk.ActCC, DataID: leaveID, Users: []string{"u2"}})
			return err
		}},
	}
	title := "x"
	cases = append(cases, []struct {
		name   string
		native func() error
		hostv2 func() error
	}{
		{"hand alice's task over", func() error {
			_, err := wf.Handover(ctx, nbob, workflow.HandoverRequest{DataID: leaveID})
			return err
		}, func() error {
			_, err := rc.host.WorkflowAct(ctx, &bob, sdk.WorkflowAction{Action: sdk.ActHandover, DataID: leaveID})
			return err
		}},
		{"retitle alice's instance", func() error {
			_, err := wf.Describe(ctx, nbob, workflow.DescribeRequest{DataID: leaveID, Title: &title})
			return err
		}, func() error {
			_, err := rc.host.WorkflowAct(ctx, &bob, sdk.WorkflowAction{Action: sdk.ActDescribe, DataID: leaveID, Title: &title})
			return err
		}},
		{"inspect alice's instance", func() error {
			_, err := wf.Inspect(ctx, nbob, workflow.InspectRequest{DataID: leaveID})
			return err
		}, func() error {
			_, err := rc.host.(sdk.WorkflowInspector).WorkflowInspect(ctx, &bob, sdk.InspectQuery{DataID: leaveID})
			return err
		}},
	}...)
	for _, box := range workflow.Boxes {
		cases = append(cases, struct {
			name   string
			native func() error
			hostv2 func() error
		}{"list alice's " + string(box), func() error {
			_, err := wf.Tasks(ctx, nbob, workflow.TaskQuery{Box: box, UserID: "u1"})
			return err
		}, func() error {
			_, err := rc.host.WorkflowTasks(ctx, &bob, sdk.TaskQuery{Box: string(box), UserID: "u1"})
			return err
		}})
	}
	for _, c := range cases {
		nerr, herr := c.native(), c.hostv2()
		if nerr == nil || herr == nil {
			t.Errorf("%s: native %v, host API %v: both must refuse", c.name, nerr, herr)
			continue
		}
		ne, he := errs.As(nerr), errs.As(herr)
		if ne.Code != he.Code || ne.Msg != he.Msg {
			t.Errorf("%s: native %v / %q, host API %v / %q", c.name, ne.Code, ne.Msg, he.Code, he.Msg)
		}
		if ne.Code != errs.Forbidden && ne.Code != errs.MethodNotAllowed {
			t.Errorf("%s: refused with %v, want Forbidden (or MethodNotAllowed)", c.name, ne.Code)
		}
	}
	// Nothing changed: the department and the record, the task still pending,
	// nobody copied.
	if d, err := rc.host.EntityGet(ctx, &alice, "department", "d1", sdk.EntityOptions{}); err != nil || d["name"] != "HQ" {
		t.Errorf("d1 = %v, %v", d, err)
	}
	todo, err := rc.host.WorkflowTasks(ctx, &alice, sdk.TaskQuery{Box: sdk.BoxTodo, DataID: leaveID, Count: true})
	if err != nil || todo.Total != 1 {
		t.Fatalf("alice's todo = %+v, %v", todo, err)
	}
	if cc, err := rc.host.WorkflowTasks(ctx, &bob, sdk.TaskQuery{Box: sdk.BoxCC, Count: true}); err != nil || cc.Total != 0 {
		t.Fatalf("bob's cc = %+v, %v", cc, err)
	}
	// Alice approves through the Host API: the instance finishes.
	res, err := rc.host.WorkflowAct(ctx, &alice, sdk.WorkflowAction{Action: sdk.ActApprove, TaskID: todo.Items[0].TaskID,
		InstanceID: todo.Items[0].InstanceID, Comment: "ok"})
	if err != nil || res.Status != "approved" {
		t.Fatalf("approve = %+v, %v", res, err)
	}
	logs, err := rc.host.EntityFind(ctx, &bob, "wfapprovallog", sdk.Query{Filter: sdk.Cmp{Path: sdk.Path{"dataId"}, Op: sdk.Eq, Value: leaveID}, Limit: -1},
		sdk.EntityOptions{Count: true})
	if err != nil || logs.Total != 2 { // submit + approve
		t.Fatalf("approval log = %+v, %v", logs, err)
	}
	// A read-only principal may not act.
	ro := bob
	ro.Scopes = []string{"api.read"}
	if _, err := rc.host.EntityCreate(ctx, &ro, "orders", sdk.Doc{"data": map[string]any{"title": "x"}}); codeOf(t, err) != errs.Forbidden {
		t.Errorf("read-only scope creates: %v", err)
	}
}

// Aliases through the bridge: allocation of user aliases needs the admin
// role (a plain user cannot create users natively either); lookups are
// tenant-scoped.
func TestBridgeAliases(t *testing.T) {
	rc := newRealCore(t)
	ctx := context.Background()
	alice := exampletest.User
	bob := sdk.Principal{Tenant: exampletest.Tenant, UserID: "u2", Scopes: []string{"api.readwrite"}}
	req := sdk.AliasRequest{Namespace: "eoffice", Kind: "user", ToExt: []string{"u2"}, Allocate: true, Prefix: "WV", Width: 8}
	if _, err := rc.host.Aliases(ctx, &bob, req); codeOf(t, err) != errs.Forbidden {
		t.Fatalf("bob allocates user aliases: %v", err)
	}
	got, err := rc.host.Aliases(ctx, &alice, req)
	if err != nil || got.ToExt["u2"] != "WV00000001" {
		t.Fatalf("allocate = %+v, %v", got, err)
	}
	back, err := rc.host.Aliases(ctx, &bob, sdk.AliasRequest{Namespace: "eoffice", Kind: "user", ToHub: []string{"WV00000001"}})
	if err != nil || back.ToHub["WV00000001"] != "u2" {
		t.Fatalf("resolve = %+v, %v", back, err)
	}
	other := sdk.Principal{Tenant: exampletest.OtherTenant, UserID: "u9", Scopes: []string{"api.readwrite"}}
	if o, err := rc.host.Aliases(ctx, &other, sdk.AliasRequest{Namespace: "eoffice", Kind: "user", ToHub: []string{"WV00000001"}}); err != nil || len(o.ToHub) != 0 {
		t.Fatalf("other tenant resolves = %+v, %v", o, err)
	}
}

// FindRecords WithAliases: the page carries the aliases of its records and
// of the users they name, resolved in the hub (no Aliases call back);
// without the option, none; another namespace, none.
func TestBridgeFindRecordsWithAliases(t *testing.T) {
	rc := newRealCore(t)
	ctx := context.Background()
	alice := exampletest.User
	created, err := rc.host.CreateRecords(ctx, &alice, "notes", []map[string]any{{"text": "a"}}, sdk.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := created[0].Record["id"].(string)
	al := alias.New(rc.st)
	if err := al.Set(ctx, alice.Tenant, "h3yun", "formdata", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", id); err != nil {
		t.Fatal(err)
	}
	if err := al.Set(ctx, alice.Tenant, "h3yun", "user", "6c0a4b3e-2f1d-4e55-9a77-0b8c1d2e3f40", alice.UserID); err != nil {
		t.Fatal(err)
	}
	q := sdk.Query{Filter: sdk.Cmp{Path: sdk.Path{"id"}, Op: sdk.Eq, Value: id}, Limit: 1}
	pg, err := rc.host.FindRecords(ctx, &alice, "notes", q, false, sdk.WithAliases("h3yun"))
	if err != nil || len(pg.Items) != 1 {
		t.Fatalf("find = %+v, %v", pg, err)
	}
	if pg.Aliases["formdata"][id] != "3f2504e0-4f89-11d3-9a0c-0305e82c3301" || pg.Aliases["user"][alice.UserID] != "6c0a4b3e-2f1d-4e55-9a77-0b8c1d2e3f40" {
		t.Fatalf("aliases = %v", pg.Aliases)
	}
	if pg, _ := rc.host.FindRecords(ctx, &alice, "notes", q, false); pg.Aliases != nil {
		t.Fatalf("aliases without the option = %v", pg.Aliases)
	}
	if pg, _ := rc.host.FindRecords(ctx, &alice, "notes", q, false, sdk.WithAliases("eoffice")); len(pg.Aliases) != 0 {
		t.Fatalf("eoffice aliases = %v", pg.Aliases)
	}
}
