package h3yun_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/eimshub/eimshub/connectors/h3yun"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

// The test binary doubles as the plugin process (go-plugin's helperProcess
// pattern, as plugins/host tests do): startPlugin re-executes it with
// pluginEnv set, and TestMain then serves the connector.
const pluginEnv = "H3YUN_TEST_PLUGIN"

func TestMain(m *testing.M) {
	if os.Getenv(pluginEnv) == "1" {
		sdk.Serve(h3yun.New)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The tenant fixture of spec §12.
const (
	tenant      = "t-demo"
	otherTenant = "t-other"
	engineCode  = "eng0000000000000000000001"
	secret      = "s3cr3t=="
	adminID     = "0d6b1f7e-94a1-4c5e-9a57-3f3a7b6c2d10"
	zhangSan    = "aea4d7a7-d162-4c77-9c44-7bd9cb8316a5"
	deptSZ      = "18f923a7-5a5e-426d-94ae-a55ad1a4b240"
	deptHQ      = "5c3e8a51-7d2b-4f0e-8c61-2b9d0e4f7a33"
	demoForm    = "D000024demo"
	flowForm    = "D000024flow"
	childTable  = "D000024Fitems"
)

// service is the principal the fixture's engine acts as (the tenant admin).
var service = sdk.Principal{Tenant: tenant, UserID: adminID, UserCode: "E001", DisplayName: "管理员", Login: "admin",
	Scopes: []string{"api.readwrite"}, Roles: []string{"admin"}}

func demoFields() []sdk.Field {
	return []sdk.Field{
		{Field: "F0000001", Type: "input", Title: "文本"},
		{Field: "F0000002", Type: "number", Title: "数字"},
		{Field: "F0000003", Type: "timestamp", Title: "日期"},
		{Field: "F0000005", Type: "fileupload", Title: "附件"},
		{Field: "F0000006", Type: "select", Title: "级别", Props: sdk.FieldProps{Options: []sdk.Option{{Value: "hi", Label: "高"}, {Value: "lo", Label: "低"}}}},
		{Field: "F0000007", Type: "employee2", Title: "参与人"},
		{Field: childTable, Type: "tableform", Title: "明细", Columns: []sdk.Field{{Field: "F0000004", Type: "input", Title: "明细文本"}}},
	}
}

// seed fills h with the fixture: forms D000024demo (no workflow) and
// D000024flow (workflow) in the tenant, the same demo form and engine
// credentials in another tenant, users and departments.
func seed(h *sdktest.MemHost) {
	h.AddForm(tenant, sdk.Form{ID: "form-demo", Key: demoForm, Name: "演示", AppID: "app1", Fields: demoFields()})
	h.AddForm(tenant, sdk.Form{ID: "form-flow", Key: flowForm, Name: "流程", AppID: "app1", UsingWorkflow: true,
		Fields: []sdk.Field{{Field: "F0000001", Type: "input", Title: "事由"}}})
	h.AddForm(otherTenant, sdk.Form{ID: "form-other", Key: demoForm, Name: "其他", Fields: demoFields()})
	h.AddClient(engineCode, secret, service)
	h.AddClient("eng-other", "other==", sdk.Principal{Tenant: otherTenant, UserID: "u-other"})
	h.AddDirectory("user", tenant, sdk.Doc{"id": adminID, "userName": "admin", "code": "E001", "empName": "管理员", "departmentId": deptHQ})
	h.AddDirectory("user", tenant, sdk.Doc{"id": zhangSan, "userName": "zhangsan", "code": "E002", "empName": "张三", "departmentId": deptSZ})
	h.AddDirectory("department", tenant, sdk.Doc{"id": deptHQ, "name": "总部", "parentId": ""})
	h.AddDirectory("department", tenant, sdk.Doc{"id": deptSZ, "name": "深圳公司", "parentId": deptHQ})
	// TV-12's controller: echo para1; fail when asked to.
	h.AddDataflow(tenant, "echo", func(_ *sdk.Principal, in map[string]any) (any, error) {
		if in["fail"] == true {
			return nil, errors.New("controller refused: fail was set")
		}
		return map[string]any{"echo": in["para1"]}, nil
	})
}

// goldenConfig is the connector configuration the golden files run with:
// TV-12's controller routed to the "echo" dataflow, and one route to a
// dataflow the tenant lacks.
var goldenConfig = []byte(`{"controllers":[` +
	`{"appCode":"Acddd8f7643d946a3a22beb54648b157f","controller":"MyApiController","action":"Echo","dataflow":"echo"},` +
	`{"controller":"MyApiController","action":"Missing","dataflow":"no_such_flow"}]}`)

// configured returns a connector configured with goldenConfig.
func configured(t testing.TB) sdk.Connector {
	t.Helper()
	c := h3yun.New()
	if err := c.(sdk.Configurer).Configure(goldenConfig); err != nil {
		t.Fatal(err)
	}
	return c
}

// coldConnector is a configured connector that golden runs reset before
// every file (sdktest.Resetter): reconfiguring drops the form cache, so
// every golden file runs cold — a write's first request loads its form —
// whatever order the files run in. The warm path (one call) is
// TestWarmFormCache's.
type coldConnector struct {
	sdk.Connector
	config []byte
}

func (c coldConnector) Reset(context.Context) error {
	return c.Connector.(sdk.Configurer).Configure(c.config)
}

func newHost() *sdktest.MemHost {
	h := sdktest.NewMemHost()
	seed(h)
	return h
}

// ---- a connector running in a real plugin process ----

// pluginConnector is an sdk.Connector whose Handle runs in the plugin
// process: each call installs the given host behind the broker first.
type pluginConnector struct {
	rc     *sdk.RemoteConnector
	sw     *sdktest.SwitchHost
	mu     sync.Mutex // one request at a time: the switch holds one host
	config []byte
	pid    int // the plugin process
}

// Reset reconfigures the plugin, which drops its form cache (golden files
// run cold; see coldConnector).
func (p *pluginConnector) Reset(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rc.Configure(ctx, p.config)
}

func (*pluginConnector) Info() sdk.Info { return h3yun.Info() }

func (p *pluginConnector) Handle(ctx context.Context, req *sdk.Request, h sdk.Host) (*sdk.Response, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sw.Set(h)
	defer p.sw.Set(nil)
	return p.rc.Handle(ctx, req)
}

// startPlugin launches the connector as a plugin process (this test binary
// re-executed) and returns it configured with config.
func startPlugin(t testing.TB, config []byte) *pluginConnector {
	t.Helper()
	sw := &sdktest.SwitchHost{}
	rc, pid := sdktest.StartPlugin(t, pluginEnv, sw)
	info, err := rc.Describe(context.Background())
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	if info.ID != h3yun.ID || len(info.Routes) != len(h3yun.Info().Routes) {
		t.Fatalf("plugin describes itself as %q with %d routes", info.ID, len(info.Routes))
	}
	if err := rc.Configure(context.Background(), config); err != nil {
		t.Fatalf("configure: %v", err)
	}
	return &pluginConnector{rc: rc, sw: sw, config: config, pid: pid}
}

// ---- HTTP, as an H3Yun client sees it ----

// serve exposes c over HTTP the way the hub mounts a connector: route
// matching (case-insensitive, optional trailing slash), the route's
// EngineCode/EngineSecret verified before the connector is called (with
// h's VerifyClient, as the hub's identity service does; a refusal is the
// host's error in the envelope, the secret header is not passed on), the
// request handed over, errors rendered with the connector's ErrorEnvelope.
func serve(t *testing.T, c sdk.Connector, h sdk.Host) *httptest.Server {
	t.Helper()
	info := c.Info()
	r, err := info.ErrorEnvelope.Compile()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		body, _ := io.ReadAll(hr.Body)
		req := &sdk.Request{Method: hr.Method, Path: hr.URL.Path, Query: hr.URL.Query(), Headers: hr.Header,
			Body: body, PathParams: map[string]string{}, ClientIP: "127.0.0.1", RequestID: "e2e"}
		var route sdk.Route
		for _, rt := range info.Routes {
			if rt.Method == hr.Method && strings.EqualFold(strings.TrimRight(hr.URL.Path, "/"), rt.Path) {
				req.Route, route = rt.Path, rt
			}
		}
		if req.Route == "" {
			http.NotFound(w, hr)
			return
		}
		var (
			resp *sdk.Response
			herr error
		)
		if route.Auth == sdk.AuthClientSecret {
			req.Principal, herr = verifyEngine(hr.Context(), h, route, req)
		}
		if herr == nil {
			resp, herr = sdk.SafeHandle(hr.Context(), c, req, h)
		} else {
			var rerr error
			if resp, rerr = sdktest.HostError(info, route, herr, req.RequestID); rerr != nil {
				t.Error(rerr)
				return
			}
			herr = nil
		}
		if herr != nil {
			status, ct, b := r.Render(herr, req.RequestID)
			resp = &sdk.Response{Status: status, Headers: http.Header{"Content-Type": {ct}}, Body: b}
		}
		for k, vs := range resp.Headers {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.Status)
		_, _ = w.Write(resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// request is one HTTP request of a scenario.
type request struct {
	path    string // default /OpenApi/Invoke
	headers map[string]string
	body    string
}

// do posts r to srv with the fixture's credentials (unless r sets headers).
func do(t *testing.T, srv *httptest.Server, r request) (int, http.Header, []byte) {
	t.Helper()
	path := r.path
	if path == "" {
		path = "/OpenApi/Invoke"
	}
	hr, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/json; charset=utf-8")
	headers := r.headers
	if headers == nil {
		headers = map[string]string{"EngineCode": engineCode, "EngineSecret": secret}
	}
	for k, v := range headers {
		hr.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// verifyEngine does what the hub does before the hop on an
// AuthClientSecret route: reads the client id and secret from the route's
// headers, verifies them and removes the secret from req.
func verifyEngine(ctx context.Context, h sdk.Host, r sdk.Route, req *sdk.Request) (*sdk.Principal, error) {
	var id, sec string
	for _, k := range r.Credentials.IDHeaders {
		if id = strings.TrimSpace(req.Headers.Get(k)); id != "" {
			break
		}
	}
	for _, k := range r.Credentials.SecretHeaders {
		if sec = strings.TrimSpace(req.Headers.Get(k)); sec != "" {
			break
		}
	}
	sdktest.StripSecret(r, req)
	if id == "" || sec == "" {
		return nil, sdk.Errorf(sdk.Unauthorized, "missing client credentials")
	}
	return h.VerifyClient(ctx, id, sec)
}

// q quotes s as a JSON string (for BizObject and Filter strings).
func q(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}
