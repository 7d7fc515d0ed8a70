package workflow_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
)

const tenant = "t1"

// fixture: tenant t1 with
//   - admin u_1001 (login admin, role admin, department d_1 研发部)
//   - bob u_bob (department d_2), alice u_alice (manager of d_2, role manager),
//     carol u_carol (d_2), dave u_dave (role manager, d_1)
//   - form f_1 (key orders, §11) and form f_leave (key leave_request: reason, days)
//   - wd_1 on f_1: one node node_2 主管审批 → u_1001 (§11)
//   - leave_approval (ExampleLeaveApproval)
type fixture struct {
	t     *testing.T
	ctx   context.Context
	st    store.Store
	eng   *workflow.Engine
	admin *principal.Principal
	bob   *principal.Principal
	alice *principal.Principal
	carol *principal.Principal
	dave  *principal.Principal
	// clock is the engine's clock (epoch ms; every read advances it by 1).
	clock *atomic.Int64
}

func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func pr(id, login string, roles ...string) *principal.Principal {
	return &principal.Principal{Tenant: tenant, UserID: id, Login: login, UserCode: "C-" + id, DisplayName: login,
		Roles: roles, Scopes: []string{"api.readwrite"}}
}

func newFixture(t testing.TB) *fixture { return newFixtureOn(t, openStore(t)) }

func newFixtureOn(t testing.TB, st store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := new(atomic.Int64)
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	f := &fixture{ctx: ctx, st: st, clock: clock,
		eng:   workflow.New(st, workflow.Options{Now: func() time.Time { return time.UnixMilli(clock.Add(1)) }}),
		admin: pr("u_1001", "admin", "admin"), bob: pr("u_bob", "bob"), alice: pr("u_alice", "alice", "manager"),
		carol: pr("u_carol", "carol"), dave: pr("u_dave", "dave", "manager")}
	if tt, ok := t.(*testing.T); ok {
		f.t = tt
	}
	ins := func(coll string, d store.Doc) {
		d["corpId"] = tenant
		if err := st.Insert(ctx, coll, d); err != nil {
			t.Fatalf("insert %s: %v", coll, err)
		}
	}
	role := func(code string) []any {
		return []any{map[string]any{"roleId": "r_" + code, "roleName": code, "roleCode": code}}
	}
	ins("department", store.Doc{"id": "d_1", "name": "研发部", "managerId": "u_1001"})
	ins("department", store.Doc{"id": "d_2", "name": "销售部", "managerId": "u_alice"})
	ins("user", store.Doc{"id": "u_1001", "userName": "admin", "code": "E001", "empName": "Admin", "departmentId": "d_1", "roles": role("admin"), "status": int64(0)})
	ins("user", store.Doc{"id": "u_bob", "userName": "bob", "code": "E002", "empName": "Bob", "departmentId": "d_2", "status": int64(0)})
	ins("user", store.Doc{"id": "u_alice", "userName": "alice", "code": "E003", "empName": "Alice", "departmentId": "d_2", "roles": role("manager"), "status": int64(0)})
	ins("user", store.Doc{"id": "u_carol", "userName": "carol", "code": "E004", "empName": "Carol", "departmentId": "d_2", "status": int64(0)})
	ins("user", store.Doc{"id": "u_dave", "userName": "dave", "code": "E005", "empName": "Dave", "departmentId": "d_1", "roles": role("manager"), "status": int64(0)})
	ins("form", store.Doc{"id": "f_1", "appId": "a_1", "key": "orders", "name": "订单", "usingWorkflow": true,
		"content": map[string]any{"items": []any{
			map[string]any{"field": "customer", "type": "input", "required": true},
			map[string]any{"field": "amount", "type": "number"}}}})
	ins("form", store.Doc{"id": "f_leave", "appId": "a_1", "key": "leave_request", "name": "请假", "usingWorkflow": true,
		"content": map[string]any{"items": []any{
			map[string]any{"field": "reason", "type": "input"},
			map[string]any{"field": "days", "type": "number"}}}})
	ins("wfdefinition", store.Doc{"id": "wd_1", "key": "wd_orders", "sourceId": "f_1", "appId": "a_1", "name": "订单审批",
		"version": int64(1), "flowType": "workflow", "content": `{"nodes":[{"id":"start","type":"start"},
		{"id":"node_2","type":"approve","name":"主管审批","assignees":{"users":["u_1001"]}},{"id":"end","type":"end"}]}`})
	if err := workflow.SeedDefinition(ctx, st, tenant, workflow.ExampleLeaveApproval()); err != nil {
		t.Fatal(err)
	}
	return f
}

// record inserts a record of form (f_1 or f_leave) with data, flowStatus draft.
func (f *fixture) record(form string, data map[string]any) string {
	id := store.NewID()
	if err := f.st.Insert(f.ctx, "formdata", store.Doc{"id": id, "corpId": tenant, "formId": form, "appId": "a_1",
		"flowStatus": int64(1), "data": data, "createBy": map[string]any{"id": "u_bob"}}); err != nil {
		panic(err)
	}
	return id
}

func (f *fixture) flowStatus(t testing.TB, rec string) int64 {
	t.Helper()
	d, err := f.st.Get(f.ctx, "formdata", tenant, rec)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := d["flowStatus"].(int64)
	return v
}

func (f *fixture) count(t testing.TB, coll string, filter query.Expr) int64 {
	t.Helper()
	n, err := f.st.Count(f.ctx, coll, tenant, filter)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func byData(rec string) query.Expr {
	return query.Cmp{Path: query.Path{"dataId"}, Op: query.Eq, Value: rec}
}

func wantCode(t testing.TB, err error, code errs.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %v error, got nil", code)
	}
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("want %v error, got %v", code, err)
	}
}

func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// ins inserts a document of the fixture's tenant.
func (f *fixture) ins(t testing.TB, coll string, d store.Doc) {
	t.Helper()
	d["corpId"] = tenant
	if err := f.st.Insert(f.ctx, coll, d); err != nil {
		t.Fatalf("insert %s: %v", coll, err)
	}
}

// byName is the fixture principal of a login name.
func (f *fixture) byName(name any) *principal.Principal {
	switch name {
	case "admin":
		return f.admin
	case "bob":
		return f.bob
	case "alice":
		return f.alice
	case "carol":
		return f.carol
	case "dave":
		return f.dave
	}
	panic("unknown principal")
}
