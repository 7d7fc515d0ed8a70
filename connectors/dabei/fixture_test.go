package dabei_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eimshub/eimshub/connectors/dabei"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
	"github.com/eimshub/eimshub/plugins/host/hosttest"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

// The test binary doubles as the plugin process (go-plugin's helperProcess
// pattern): startPlugin re-executes it with pluginEnv set.
const pluginEnv = "DABEI_TEST_PLUGIN"

func TestMain(m *testing.M) {
	if os.Getenv(pluginEnv) == "1" {
		sdk.Serve(dabei.New)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The fixture of spec 12: tenant t-demo with client
// dbcli0000000000000000000000000001 / s3cret-dabei (service user admin),
// app 销售管理, workflow form 订单 (k_text, k_num, k_sel, k_date) with
// definition order_flow (主管审批 → u2), users u1 李易峰 and u2 梅兰芳 in
// 研发部 under 总公司; every Dabei id of the vectors pinned as an alias. A
// second tenant t-other has its own client, and its own app, form and
// user under the SAME Dabei ids.
const (
	tenant      = "t-demo"
	otherTenant = "t-other"
	clientID    = "dbcli0000000000000000000000000001"
	secret      = "s3cret-dabei"
	otherClient = "dbcli0000000000000000000000000002"
	otherSecret = "s3cret-other"

	appID  = "a0000000000000000000000000000001"
	formID = "f0000000000000000000000000000001"
	u1     = "e0000000000000000000000000000001"
	u2     = "e0000000000000000000000000000002"
	d0     = "d0000000000000000000000000000000"
	d1     = "d0000000000000000000000000000001"
	root   = "c0000000000000000000000000000000"
)

// clockSkew moves the core's dialect-token clock (code expiry, TV-2).
type clock struct{ skew atomic.Int64 }

func (c *clock) now() time.Time { return time.Now().Add(time.Duration(c.skew.Load())) }

func orderFields() []any {
	return []any{
		map[string]any{"field": "k_text", "type": "input", "title": "客户"},
		map[string]any{"field": "k_num", "type": "number", "title": "金额"},
		map[string]any{"field": "k_sel", "type": "select", "title": "状态", "props": map[string]any{"options": []any{
			map[string]any{"value": "new", "label": "新建"}, map[string]any{"value": "done", "label": "已完成"}}}},
		map[string]any{"field": "k_date", "type": "timestamp", "title": "下单日期"},
	}
}

// newCore is the hub's real core (SQLite store, identity, workflow
// engine, aliases, dialect tokens) behind the Host API bridge, seeded
// with the fixture.
func newCore(t testing.TB) (sdk.Host, *clock) {
	t.Helper()
	ctx := context.Background()
	k := hosttest.NewCore(t)
	st, aliases := k.Store, k.Aliases
	sum, osum := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(otherSecret))
	admin := []any{map[string]any{"roleId": "role-admin", "roleName": "管理员", "roleCode": "admin"}}
	seeds := []struct {
		coll string
		doc  store.Doc
	}{
		{"client", store.Doc{"id": clientID, "corpId": "", "tenantId": tenant, "secretHash": "sha256:" + hex.EncodeToString(sum[:]),
			"grants": []any{"client_credentials"}, "scopes": []any{"api.readwrite"}, "serviceUserId": "u-admin"}},
		{"role", store.Doc{"id": "role-admin", "corpId": tenant, "code": "admin", "name": "管理员"}},
		{"department", store.Doc{"id": "dep-top", "corpId": tenant, "name": "总公司", "isCompany": true, "sortIndex": int64(0)}},
		{"department", store.Doc{"id": "dep-rd", "corpId": tenant, "name": "研发部", "parentId": "dep-top", "sortIndex": int64(1)}},
		{"user", store.Doc{"id": "u-admin", "corpId": tenant, "userName": "admin", "code": "0001", "empName": "管理员",
			"departmentId": "dep-top", "roles": admin, "status": int64(0)}},
		{"user", store.Doc{"id": "u-1", "corpId": tenant, "userName": "user001", "code": "1001", "empName": "李易峰",
			"workPhone": "18912341234", "departmentId": "dep-rd", "status": int64(0)}},
		{"user", store.Doc{"id": "u-2", "corpId": tenant, "userName": "user002", "code": "1002", "empName": "梅兰芳",
			"departmentId": "dep-rd", "status": int64(0)}},
		{"user", store.Doc{"id": "u-left", "corpId": tenant, "userName": "leaver", "code": "1003", "empName": "离职者",
			"workPhone": "13800000000", "departmentId": "dep-rd", "status": int64(1)}},
		{"app", store.Doc{"id": "app-sales", "corpId": tenant, "name": "销售管理", "sortIndex": int64(0)}},
		{"app", store.Doc{"id": "app-hr", "corpId": tenant, "name": "人事", "sortIndex": int64(1)}},
		{"form", store.Doc{"id": "form-order", "corpId": tenant, "appId": "app-sales", "key": "order", "name": "订单", "usingWorkflow": true,
			"content": map[string]any{"items": orderFields()}}},
		// The other tenant: same Dabei ids, its own entities.
		{"client", store.Doc{"id": otherClient, "corpId": "", "tenantId": otherTenant, "secretHash": "sha256:" + hex.EncodeToString(osum[:]),
			"grants": []any{"client_credentials"}, "scopes": []any{"api.readwrite"}, "serviceUserId": "o-admin"}},
		{"role", store.Doc{"id": "role-admin-o", "corpId": otherTenant, "code": "admin", "name": "管理员"}},
		{"user", store.Doc{"id": "o-admin", "corpId": otherTenant, "userName": "oadmin", "empName": "Other", "roles": []any{
			map[string]any{"roleId": "role-admin-o", "roleName": "管理员", "roleCode": "admin"}}, "status": int64(0)}},
		{"user", store.Doc{"id": "o-1", "corpId": otherTenant, "userName": "user001", "empName": "别人", "status": int64(0)}},
		{"app", store.Doc{"id": "o-app", "corpId": otherTenant, "name": "销售管理"}},
		{"form", store.Doc{"id": "o-form", "corpId": otherTenant, "appId": "o-app", "key": "order", "name": "订单",
			"content": map[string]any{"items": orderFields()}}},
	}
	for _, d := range seeds {
		if err := st.Insert(ctx, d.coll, d.doc); err != nil {
			t.Fatalf("seed %s: %v", d.coll, err)
		}
	}
	if err := workflow.SeedDefinition(ctx, st, tenant, workflow.DefinitionSeed{Key: "order_flow", Name: "订单审批", Form: "order",
		Content: map[string]any{"nodes": []any{
			map[string]any{"id": "start", "type": "start", "name": "发起"},
			map[string]any{"id": "n_mgr", "type": "approve", "name": "主管审批", "assignees": map[string]any{"users": []any{"user002"}}},
			map[string]any{"id": "end", "type": "end"}}}}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct{ tenant, kind, ext, id string }{
		{tenant, "user", u1, "u-1"}, {tenant, "user", u2, "u-2"}, {tenant, "user", "e0000000000000000000000000000009", "u-admin"},
		{tenant, "user", "e0000000000000000000000000000003", "u-left"},
		{tenant, "department", d0, "dep-top"}, {tenant, "department", d1, "dep-rd"},
		{tenant, "app", appID, "app-sales"}, {tenant, "app", "a0000000000000000000000000000002", "app-hr"},
		{tenant, "form", formID, "form-order"}, {tenant, "tenant", root, tenant},
		{otherTenant, "user", u1, "o-1"}, {otherTenant, "user", "e0000000000000000000000000000009", "o-admin"},
		{otherTenant, "app", appID, "o-app"}, {otherTenant, "form", formID, "o-form"},
	} {
		if err := aliases.Set(ctx, a.tenant, "dabei", a.kind, a.ext, a.id); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{}
	k.DialectTokens.SetClock(clk.now)
	return k.Host, clk
}

// ---- a connector running in a real plugin process ----

// pluginConnector is an sdk.Connector whose Handle runs in the plugin
// process behind go-plugin, with the request's host installed first.
type pluginConnector struct {
	rc  *sdk.RemoteConnector
	fwd *sdktest.SwitchHost
	mu  sync.Mutex
}

func (*pluginConnector) Info() sdk.Info { return dabei.Info() }

func (p *pluginConnector) Handle(ctx context.Context, req *sdk.Request, h sdk.Host) (*sdk.Response, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fwd.Set(h)
	defer p.fwd.Set(nil)
	return p.rc.Handle(ctx, req)
}

// startPlugin launches the connector as a plugin process (this test binary
// re-executed) configured with config.
func startPlugin(t testing.TB, config []byte) *pluginConnector {
	t.Helper()
	fwd := &sdktest.SwitchHost{}
	rc, _ := sdktest.StartPlugin(t, pluginEnv, fwd)
	info, err := rc.Describe(context.Background())
	if err != nil || info.ID != dabei.ID {
		t.Fatalf("describe: %v (%q)", err, info.ID)
	}
	if err := rc.Configure(context.Background(), config); err != nil {
		t.Fatalf("configure: %v", err)
	}
	return &pluginConnector{rc: rc, fwd: fwd}
}
