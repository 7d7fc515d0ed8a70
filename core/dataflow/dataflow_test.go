package dataflow_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/dataflow"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

const tenant = "t1"

type fixture struct {
	ctx   context.Context
	st    store.Store
	eng   *dataflow.Engine
	admin *principal.Principal
	user  *principal.Principal
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f := &fixture{ctx: ctx, st: st,
		eng:   dataflow.New(st, dataflow.Options{Limits: dataflow.Limits{Eval: 2 * time.Second, Run: 6 * time.Second}}),
		admin: &principal.Principal{Tenant: tenant, UserID: "u_1001", UserCode: "E001", DisplayName: "Admin", Roles: []string{"admin"}},
		user:  &principal.Principal{Tenant: tenant, UserID: "u_2", UserCode: "E002", DisplayName: "User"}}
	ins := func(coll string, d store.Doc) {
		d["corpId"] = tenant
		if err := st.Insert(ctx, coll, d); err != nil {
			t.Fatal(err)
		}
	}
	ins("user", store.Doc{"id": "u_1001", "userName": "admin", "code": "E001", "empName": "Admin"})
	ins("user", store.Doc{"id": "u_2", "userName": "user", "code": "E002", "empName": "User"})
	ins("form", store.Doc{"id": "f_1", "appId": "a_1", "key": "orders", "name": "订单", "usingWorkflow": true,
		"content": map[string]any{"items": []any{
			map[string]any{"field": "customer", "type": "input", "required": true},
			map[string]any{"field": "amount", "type": "number"}}}})
	// dd_1 (§11): inserts inputData.count records with customer = inputData.customer.
	ins("dfdefinition", store.Doc{"id": "dd_1", "key": "insert_orders", "name": "dd_1", "flowType": "dataflow", "version": int64(1),
		"content": `{"inputs":{"count":"number"},"nodes":[{"id":"ins","type":"script","script":
		"for (let i = 0; i < input.count; i++) records.create('f_1', {customer: input.customer, amount: i}); return {created: input.count};"}]}`})
	if err := dataflow.SeedDefinition(ctx, st, tenant, dataflow.ExampleOrderTotal()); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) seed(t *testing.T, key, script string) {
	t.Helper()
	if err := dataflow.SeedDefinition(f.ctx, f.st, tenant, dataflow.DefinitionSeed{Key: key,
		Content: map[string]any{"nodes": []any{map[string]any{"id": "n", "type": "script", "script": script}}}}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) records(t *testing.T, filter query.Expr) int64 {
	t.Helper()
	n, err := f.st.Count(f.ctx, "formdata", tenant, filter)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) run(t *testing.T, def string, in map[string]any) *dataflow.RunResult {
	t.Helper()
	res, err := f.eng.Run(f.ctx, f.admin, dataflow.RunRequest{DefinitionID: def, Input: in})
	if err != nil {
		t.Fatalf("run %s: %v", def, err)
	}
	return res
}

func TestTV11(t *testing.T) {
	f := newFixture(t)
	res, err := f.eng.Run(f.ctx, f.admin, dataflow.RunRequest{DefinitionID: "dd_1",
		Input: map[string]any{"count": 2.0, "customer": "丙公司"}, Operator: "u_1001"})
	if err != nil || res.Status != "succeeded" || res.ErrMsg != "" || res.ID == "" {
		t.Fatalf("run = %+v, %v", res, err)
	}
	if out, _ := res.Output.(map[string]any); out["created"] != 2.0 {
		t.Fatalf("output = %v", res.Output)
	}
	cust := query.Cmp{Path: query.Path{"data", "customer"}, Op: query.Eq, Value: "丙公司"}
	if n := f.records(t, cust); n != 2 {
		t.Fatalf("created %d records, want 2", n)
	}
	// customer null: the first insert fails validation → failed, nothing written
	res, err = f.eng.Run(f.ctx, f.admin, dataflow.RunRequest{DefinitionID: "dd_1",
		Input: map[string]any{"count": 2.0, "customer": nil}, Operator: "u_1001"})
	if err != nil || res.Status != "failed" || !strings.Contains(res.ErrMsg, "customer") {
		t.Fatalf("run = %+v, %v", res, err)
	}
	if n := f.records(t, nil); n != 2 {
		t.Fatalf("%d records after the failed run, want 2", n)
	}
}

// A run that writes and then fails leaves nothing.
func TestFailedRunRollsBack(t *testing.T) {
	f := newFixture(t)
	f.seed(t, "half", "records.create('orders', {customer: 'a'}); records.create('orders', {customer: 'b'}); throw new Error('late failure');")
	res := f.run(t, "half", map[string]any{})
	if res.Status != "failed" || !strings.Contains(res.ErrMsg, "late failure") {
		t.Fatalf("res = %+v", res)
	}
	if n := f.records(t, nil); n != 0 {
		t.Fatalf("%d records left", n)
	}
	// two nodes: the second fails after the first wrote
	if err := dataflow.SeedDefinition(f.ctx, f.st, tenant, dataflow.DefinitionSeed{Key: "two", Content: `{"nodes":[
		{"id":"a","type":"script","script":"return records.create('f_1', {customer: 'x'}).id;"},
		{"id":"b","type":"script","script":"for(;;){}"}]}`}); err != nil {
		t.Fatal(err)
	}
	res = f.run(t, "two", map[string]any{})
	if res.Status != "failed" || !strings.Contains(res.ErrMsg, "node b") || f.records(t, nil) != 0 {
		t.Fatalf("res = %+v", res)
	}
}

func TestOrderTotalAndRecords(t *testing.T) {
	f := newFixture(t)
	res := f.run(t, "order_total", map[string]any{"items": []any{
		map[string]any{"price": 2.5, "qty": 4.0}, map[string]any{"price": 1.0, "qty": 3.0}}})
	if res.Status != "succeeded" || res.Output.(map[string]any)["total"] != 13.0 {
		t.Fatalf("order_total = %+v", res)
	}
	if err := dataflow.SeedDefinition(f.ctx, f.st, tenant, dataflow.DefinitionSeed{Key: "crud", Content: `{"nodes":[
		{"id":"mk","type":"script","script":"return [records.create('orders',{customer:'a',amount:5}), records.create('orders',{customer:'b',amount:50})];"},
		{"id":"use","type":"script","script":"const big = records.find('orders', 'data/amount gt 10', {orderby: 'data/amount desc'}); const one = records.get('f_1', prev[0].id); records.update('orders', one.id, {amount: 6}); records.remove('orders', prev[1].id); return {big: big.length, bigName: big[0].data.customer, after: records.get('orders', one.id).data.amount, gone: records.get('orders', prev[1].id), missing: records.get('orders', 'nope'), by: one.createBy.id};"}]}`}); err != nil {
		t.Fatal(err)
	}
	res = f.run(t, "crud", map[string]any{})
	out, _ := res.Output.(map[string]any)
	if res.Status != "succeeded" || out["big"] != 1.0 || out["bigName"] != "b" || out["after"] != 6.0 ||
		out["gone"] != nil || out["missing"] != nil || out["by"] != "u_1001" {
		t.Fatalf("crud = %+v", res)
	}
	if n := f.records(t, nil); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}
}

func TestRequestRefusals(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name string
		p    *principal.Principal
		req  dataflow.RunRequest
		want errs.Code
	}{
		{"unknown definition", f.admin, dataflow.RunRequest{DefinitionID: "nope", Input: map[string]any{}}, errs.NotFound},
		{"no input", f.admin, dataflow.RunRequest{DefinitionID: "order_total"}, errs.Invalid},
		{"input of the wrong type", f.admin, dataflow.RunRequest{DefinitionID: "order_total", Input: map[string]any{"items": "x"}}, errs.Invalid},
		{"run as another user without permission", f.user, dataflow.RunRequest{DefinitionID: "order_total", Input: map[string]any{}, Operator: "u_1001"}, errs.Forbidden},
		{"unknown operator", f.admin, dataflow.RunRequest{DefinitionID: "order_total", Input: map[string]any{}, Operator: "ghost"}, errs.Invalid},
		{"other tenant", &principal.Principal{Tenant: "t2", UserID: "u_1001"}, dataflow.RunRequest{DefinitionID: "dd_1", Input: map[string]any{}}, errs.NotFound},
		{"input too large", f.admin, dataflow.RunRequest{DefinitionID: "order_total", Input: map[string]any{"x": strings.Repeat("a", 2<<20)}}, errs.TooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.eng.Run(f.ctx, c.p, c.req)
			if errs.CodeOf(err) != c.want || err == nil {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	// acting as another user with permission: records carry the operator
	f.seed(t, "who", "return records.create('orders', {customer: 'z'}).createBy;")
	res, err := f.eng.Run(f.ctx, f.admin, dataflow.RunRequest{DefinitionID: "who", Input: map[string]any{}, Operator: "u_2"})
	if err != nil || res.Output.(map[string]any)["id"] != "u_2" || res.Output.(map[string]any)["value"] != "E002" {
		t.Fatalf("runAs = %+v %v", res, err)
	}
}

func TestDefinitionErrors(t *testing.T) {
	cases := map[string]any{
		"unknown node type": `{"nodes":[{"id":"a","type":"query"}]}`,
		"syntax error":      `{"nodes":[{"id":"a","type":"script","script":"return ("}]}`,
		"script too large":  map[string]any{"nodes": []any{map[string]any{"id": "a", "type": "script", "script": strings.Repeat(" ", dataflow.MaxScript+1)}}},
		"no nodes":          `{"nodes":[]}`,
		"bad input type":    `{"inputs":{"a":"date"},"nodes":[{"id":"a","type":"script","script":""}]}`,
		"not an object":     `[1]`,
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := dataflow.ParseDefinition(c); errs.CodeOf(err) != errs.Invalid || err == nil {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// Sandbox escapes, runaway scripts and huge allocations all fail cleanly:
// status failed, errMsg set, nothing written, the process unharmed.
func TestSandbox(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, script, want string // want: substring of errMsg ("" = must succeed with output true; "syntax" = refused when the definition is saved)
	}{
		{"require", "return require('fs');", "require"},
		{"process", "return process.env;", "process"},
		{"globalThis has nothing", "const g = globalThis; return ['require','process','console','setTimeout','fetch','eval','ArrayBuffer','Uint8Array'].every(k => typeof g[k] === 'undefined');", ""},
		{"Function constructor reaches only the sandbox global", "const g = (function(){}).constructor('return this')(); return typeof g.process === 'undefined' && typeof g.require === 'undefined' && typeof g.records === 'undefined';", ""},
		{"constructor.constructor", "return constructor.constructor('return process')();", "process"},
		{"records functions cannot be replaced", "records.create = () => 1; return records.create('orders', {customer: 'x'}).id !== undefined;", ""},
		{"import", "return import('fs');", "syntax"},
		{"infinite loop", "for (;;) {}", "evaluation exceeded 2s"},
		{"infinite loop in a callback", "[1].forEach(function f() { while (true) {} });", "evaluation exceeded 2s"},
		{"deep recursion", "function f(n) { return f(n + 1) + 1; } return f(0);", "call stack"},
		{"huge repeat", "return 'x'.repeat(1e9).length;", "size limit"},
		{"huge padStart", "return ''.padStart(1e9).length;", "size limit"},
		{"huge array", "return new Array(1e9).fill(0).length;", "size limit"},
		{"huge Array.from", "return Array.from({length: 1e9}).length;", "size limit"},
		{"huge literal constructor", "return [].constructor(1e9).length;", "size limit"},
		{"doubling string", "let s = 'x'; for (;;) s = s + s + s.slice(1); return s.length;", "string exceeds the sandbox size limit (1048576 characters)"},
		{"huge result", "return 'x'.repeat(1 << 20) + 'x'.repeat(1 << 20);", "exceeds"},
		{"non-JSON result", "return {f: 1n};", "BigInt"},
		{"thrown string", "throw 'plain';", "plain"},
		{"closing the wrapper", "}); for(;;){} (function(){", "evaluation exceeded 2s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := strings.ReplaceAll(c.name, " ", "_")
			if err := dataflow.SeedDefinition(f.ctx, f.st, tenant, dataflow.DefinitionSeed{Key: key,
				Content: map[string]any{"nodes": []any{map[string]any{"id": "n", "type": "script", "script": c.script}}}}); err != nil {
				if e := errs.As(err); c.want == "syntax" && e.Code == errs.Invalid && len(e.Details) == 1 && e.Details[0].Code == "syntax" {
					return // refused when saved: clean
				}
				t.Fatal(err)
			} else if c.want == "syntax" {
				t.Fatal("the definition was accepted")
			}
			res := f.run(t, key, map[string]any{})
			if c.want == "" {
				if res.Status != "succeeded" || res.Output != true {
					t.Fatalf("res = %+v", res)
				}
				return
			}
			if res.Status != "failed" || !strings.Contains(res.ErrMsg, c.want) {
				t.Fatalf("res = %+v, want failure mentioning %q", res, c.want)
			}
		})
	}
	if n := f.records(t, nil); n != 1 { // only the "cannot be replaced" case writes, and succeeds
		t.Fatalf("%d records", n)
	}
}

// The heap watchdog, alone: no size or time limit can fire first (the
// evaluation limit is far away, every value is small), so only the heap
// growth stops the run, with its own message.
func TestHeapWatchdog(t *testing.T) {
	f := newFixture(t)
	eng := dataflow.New(f.st, dataflow.Options{Limits: dataflow.Limits{Eval: time.Minute, Run: time.Minute, HeapGrowth: 32 << 20}})
	f.seed(t, "grow", "const a = []; for (;;) a.push({x: a.length, y: 'y'.repeat(64) + a.length});")
	res, err := eng.Run(f.ctx, f.admin, dataflow.RunRequest{DefinitionID: "grow", Input: map[string]any{}})
	if err != nil || res.Status != dataflow.StatusFailed || !strings.Contains(res.ErrMsg, "node n: memory limit exceeded (heap grew by more than 32 MiB)") {
		t.Fatalf("res = %+v, %v", res, err)
	}
}
