package eoffice_test

import (
	"context"
	"encoding/base64"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/eimshub/eimshub/connectors/eoffice"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

// The test binary doubles as the plugin process (go-plugin's helperProcess
// pattern): startPlugin re-executes it with pluginEnv set.
const pluginEnv = "EOFFICE_TEST_PLUGIN"

func TestMain(m *testing.M) {
	if os.Getenv(pluginEnv) == "1" {
		sdk.Serve(eoffice.New)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The fixture of spec §9: app 100001 of tenant t-demo, user admin (dept 2
// 研发部 under top department 59, role 1), user WV00000002, form-modeling
// table 1001 (field_1 text, field_2 number); a second tenant t-other with
// app 100002 and the same table.
const (
	tenant      = "t-demo"
	otherTenant = "t-other"
	agentID     = "100001"
	appSecret   = "Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok"
	otherAgent  = "100002"
	otherSecret = "other-secret-0000000000000000000"
	mount       = "/eoffice10/server/public"
)

var goldenConfig = []byte(`{"companyName":"演示公司","apps":[` +
	`{"agentId":"100001","client":"demo-eoffice","userField":"user_accounts"},` +
	`{"agentId":"100002","client":"other-eoffice"},` +
	`{"agentId":"100003","client":"demo-eoffice","userField":"user_id"}],` +
	`"forms":[{"tableKey":"1001","form":"f1001","fields":{"field_1":"title","field_2":"amount","field_3":"items","field_3_1":"items.name"}}]}`)

func formFields() []sdk.Field {
	return []sdk.Field{
		{Field: "title", Type: "input", Title: "标题"},
		{Field: "amount", Type: "number", Title: "数量"},
		{Field: "items", Type: "tableform", Title: "明细", Columns: []sdk.Field{{Field: "name", Type: "input", Title: "名称"}, {Field: "qty", Type: "number", Title: "件数"}}},
		{Field: "due", Type: "timestamp", Title: "日期"},
		{Field: "files", Type: "fileupload", Title: "附件"},
		{Field: "level", Type: "select", Title: "级别", Props: sdk.FieldProps{Options: []sdk.Option{{Value: "hi", Label: "高"}, {Value: "lo", Label: "低"}}}},
	}
}

func newHost() *sdktest.MemHost {
	h := sdktest.NewMemHost()
	admin := sdk.Principal{Tenant: tenant, ClientID: "demo-eoffice", UserID: "u-admin", UserCode: "2058", DisplayName: "系统管理员",
		Login: "admin", Scopes: []string{"api.readwrite"}, Roles: []string{"admin"}}
	h.AddClient("demo-eoffice", appSecret, admin)
	h.AddClient("other-eoffice", otherSecret, sdk.Principal{Tenant: otherTenant, ClientID: "other-eoffice", UserID: "u-carol",
		Login: "carol", Scopes: []string{"api.readwrite"}, Roles: []string{"admin"}})
	role := func(id, name, code string) []any {
		return []any{map[string]any{"roleId": id, "roleName": name, "roleCode": code}}
	}
	h.AddDirectory("department", tenant, sdk.Doc{"id": "d-top", "name": "总部", "sortIndex": int64(0), "createTime": sdktest.FixedNow})
	h.AddDirectory("department", tenant, sdk.Doc{"id": "d-rd", "name": "研发部", "parentId": "d-top", "sortIndex": int64(1), "createTime": sdktest.FixedNow})
	h.AddDirectory("department", tenant, sdk.Doc{"id": "d-hr", "name": "人事部", "parentId": "d-top", "sortIndex": int64(0), "createTime": sdktest.FixedNow})
	h.AddDirectory("department", tenant, sdk.Doc{"id": "d-misc", "name": "其他", "sortIndex": int64(2), "createTime": sdktest.FixedNow})
	h.AddDirectory("role", tenant, sdk.Doc{"id": "role-1", "name": "OA管理员", "code": "admin", "sortValue": int64(0), "createTime": sdktest.FixedNow})
	h.AddDirectory("role", tenant, sdk.Doc{"id": "role-2", "name": "普通员工", "code": "staff", "sortValue": int64(5), "createTime": sdktest.FixedNow + 1})
	h.AddDirectory("user", tenant, sdk.Doc{"id": "u-admin", "userName": "admin", "empName": "系统管理员", "code": "2058",
		"departmentId": "d-rd", "status": int64(0), "roles": role("role-1", "OA管理员", "admin"), "createTime": sdktest.FixedNow})
	h.AddDirectory("user", tenant, sdk.Doc{"id": "u-wang", "userName": "wangwu", "empName": "王五", "code": "3001",
		"workPhone": "13800000002", "departmentId": "d-rd", "status": int64(0), "roles": role("role-2", "普通员工", "staff"), "createTime": sdktest.FixedNow + 1})
	h.AddDirectory("user", tenant, sdk.Doc{"id": "u-left", "userName": "leaver", "empName": "离职者", "departmentId": "d-hr",
		"status": int64(1), "roles": []any{}, "createTime": sdktest.FixedNow + 2})
	h.AddAlias(tenant, "eoffice", "user", "admin", "u-admin")
	h.AddAlias(tenant, "eoffice", "user", "WV00000002", "u-wang")
	h.AddAlias(tenant, "eoffice", "department", "59", "d-top")
	h.AddAlias(tenant, "eoffice", "department", "2", "d-rd")
	h.AddAlias(tenant, "eoffice", "role", "1", "role-1")
	h.AddForm(tenant, sdk.Form{ID: "form-1001", Key: "f1001", Name: "合同", Fields: formFields()})
	h.AddForm(tenant, sdk.Form{ID: "form-doc", Key: "document", Name: "文档", Fields: []sdk.Field{
		{Field: "subject", Type: "input", Title: "标题", Required: true}, {Field: "content", Type: "textarea", Title: "正文"},
		{Field: "folder_id", Type: "number", Title: "文件夹"}, {Field: "attachment_id", Type: "fileupload", Title: "附件"}}})
	// The other tenant: same table, its own users; ids that spell the same.
	h.AddDirectory("user", otherTenant, sdk.Doc{"id": "u-carol", "userName": "carol", "empName": "Carol", "status": int64(0),
		"roles": role("role-o", "管理员", "admin"), "createTime": sdktest.FixedNow})
	h.AddDirectory("role", otherTenant, sdk.Doc{"id": "role-o", "name": "管理员", "code": "admin", "createTime": sdktest.FixedNow})
	h.AddDirectory("department", otherTenant, sdk.Doc{"id": "d-ops", "name": "运营部", "createTime": sdktest.FixedNow})
	h.AddAlias(otherTenant, "eoffice", "user", "WV00000002", "u-carol")
	h.AddForm(otherTenant, sdk.Form{ID: "form-o", Key: "f1001", Name: "合同", Fields: formFields()})
	h.SetTokenClock(func() time.Time { return time.UnixMilli(sdktest.FixedNow) })
	return h
}

// ---- a connector running in a real plugin process ----

// pluginConnector is an sdk.Connector whose Handle runs in the plugin
// process behind go-plugin, with the request's host installed first.
type pluginConnector struct {
	rc  *sdk.RemoteConnector
	fwd *sdktest.SwitchHost
	mu  sync.Mutex
}

func (*pluginConnector) Info() sdk.Info { return eoffice.Info() }

func (p *pluginConnector) Handle(ctx context.Context, req *sdk.Request, h sdk.Host) (*sdk.Response, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fwd.Set(h)
	defer p.fwd.Set(nil)
	resp, err := p.rc.Handle(ctx, req)
	if resp != nil {
		resp.Body = normalize(resp.Body)
	}
	return resp, err
}

// volatile are the response values that depend on the wall clock: the
// envelope's runtime and login-info's times.
var volatile = regexp.MustCompile(`"(runtime|request_time|last_login_time)":"[^"]*"`)

func normalize(b []byte) []byte { return volatile.ReplaceAll(b, []byte(`"$1":"*"`)) }

// startPlugin launches the connector as a plugin process (this test binary
// re-executed) configured with config.
func startPlugin(t testing.TB, config []byte) *pluginConnector {
	t.Helper()
	fwd := &sdktest.SwitchHost{}
	rc, _ := sdktest.StartPlugin(t, pluginEnv, fwd)
	info, err := rc.Describe(context.Background())
	if err != nil || info.ID != eoffice.ID {
		t.Fatalf("describe: %v (%q)", err, info.ID)
	}
	if err := rc.Configure(context.Background(), config); err != nil {
		t.Fatalf("configure: %v", err)
	}
	return &pluginConnector{rc: rc, fwd: fwd}
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
