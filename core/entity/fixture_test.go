package entity_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// countingStore decorates the real store to count Find calls per collection
// (to check that $expand batches its lookups).
type countingStore struct {
	store.Store
	mu    sync.Mutex
	finds map[string]int
}

func (c *countingStore) Find(ctx context.Context, coll, tenant string, q query.Query) ([]store.Doc, error) {
	c.mu.Lock()
	c.finds[coll]++
	c.mu.Unlock()
	return c.Store.Find(ctx, coll, tenant, q)
}

func (c *countingStore) reset() {
	c.mu.Lock()
	c.finds = map[string]int{}
	c.mu.Unlock()
}

func (c *countingStore) count(coll string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.finds[coll]
}

type fixture struct {
	t     *testing.T
	ctx   context.Context
	st    *countingStore
	svc   *entity.Service
	admin *principal.Principal // u_1001 in t1, admin
	user  *principal.Principal // u_2 in t1, not admin
	other *principal.Principal // admin of tenant t2
}

// ordersContent is the TV fixture form f_1 (§11).
var ordersContent = map[string]any{"items": []any{
	map[string]any{"field": "customer", "type": "input", "title": "客户", "required": true},
	map[string]any{"field": "amount", "type": "number", "title": "金额"},
	map[string]any{"field": "region", "type": "select", "title": "区域", "props": map[string]any{
		"options": []any{map[string]any{"value": "华东", "label": "华东"}, map[string]any{"value": "华南", "label": "华南"}}}},
	map[string]any{"field": "items", "type": "tableform", "title": "明细", "columns": []any{
		map[string]any{"field": "qty", "type": "number", "title": "数量"}}},
}}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	raw, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	st := &countingStore{Store: raw, finds: map[string]int{}}
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	svc := entity.New(st, entity.Options{
		Now:          func() time.Time { return time.UnixMilli(clock.Add(1000)) },
		HashPassword: func(pw string) (string, error) { return "hashed:" + pw, nil },
	})
	f := &fixture{t: t, ctx: ctx, st: st, svc: svc,
		admin: &principal.Principal{Tenant: "t1", UserID: "u_1001", UserCode: "E001", DisplayName: "Admin",
			Roles: []string{"admin"}, Scopes: []string{"api.readwrite"}},
		user: &principal.Principal{Tenant: "t1", UserID: "u_2", UserCode: "E002", DisplayName: "Bob",
			Scopes: []string{"api.readwrite"}},
		other: &principal.Principal{Tenant: "t2", UserID: "u_9", UserCode: "E009", DisplayName: "Eve",
			Roles: []string{"admin"}, Scopes: []string{"api.readwrite"}},
	}
	op := map[string]any{"id": "system", "value": "system", "label": "system"}
	seed := func(coll string, doc store.Doc) {
		t.Helper()
		doc["createBy"], doc["updateBy"] = op, op
		if _, ok := doc["createTime"]; !ok {
			doc["createTime"], doc["updateTime"] = int64(1), int64(1)
		}
		if err := raw.Insert(ctx, coll, doc); err != nil {
			t.Fatalf("seed %s: %v", coll, err)
		}
	}
	seed("department", store.Doc{"id": "d_1", "corpId": "t1", "name": "研发部", "parentId": "",
		"heriarchyId": "d_1", "heriarchyName": "研发部"})
	seed("role", store.Doc{"id": "r_admin", "corpId": "t1", "code": "admin", "name": "管理员"})
	seed("role", store.Doc{"id": "r_mgr", "corpId": "t1", "code": "manager", "name": "主管"})
	seed("user", store.Doc{"id": "u_1001", "corpId": "t1", "userName": "admin", "code": "E001", "empName": "Admin",
		"departmentId": "d_1", "status": int64(0), "passwordHash": "secret-hash",
		"roles": []any{map[string]any{"roleId": "r_admin", "roleName": "管理员", "roleCode": "admin"}}})
	seed("user", store.Doc{"id": "u_2", "corpId": "t1", "userName": "bob", "code": "E002", "empName": "Bob",
		"departmentId": "d_1", "status": int64(0)})
	seed("app", store.Doc{"id": "a_1", "corpId": "t1", "name": "销售"})
	seed("form", store.Doc{"id": "f_1", "corpId": "t1", "appId": "a_1", "name": "订单", "key": "orders",
		"usingWorkflow": true, "content": ordersContent})
	seed("app", store.Doc{"id": "a_9", "corpId": "t2", "name": "other"})
	seed("user", store.Doc{"id": "u_9", "corpId": "t2", "userName": "eve", "code": "E009", "empName": "Eve"})
	return f
}

// wantErr checks err's code and (when given) reason.
func wantErr(t *testing.T, err error, code errs.Code, reason string) *errs.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want %v %s error, got nil", code, reason)
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *errs.Error, got %T %v", err, err)
	}
	if e.Code != code || (reason != "" && e.Reason != reason) {
		t.Fatalf("want %v/%s, got %v/%s: %v", code, reason, e.Code, e.Reason, err)
	}
	return e
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func (f *fixture) create(p *principal.Principal, name string, body map[string]any) map[string]any {
	f.t.Helper()
	out, err := f.svc.Create(f.ctx, p, name, body)
	if err != nil {
		f.t.Fatalf("create %s: %v", name, err)
	}
	return out
}

func (f *fixture) countRecords(formID string) int64 {
	f.t.Helper()
	n, err := f.svc.Count(f.ctx, f.admin, "formdata", entity.ListOptions{FormID: formID})
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}
