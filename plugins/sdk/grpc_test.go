package sdk_test

import (
	"context"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/example"
	"github.com/eimshub/eimshub/plugins/sdk/example/exampletest"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
	plugin "github.com/hashicorp/go-plugin"
)

// remote dispenses the example connector over an in-memory go-plugin gRPC
// connection whose Host API is h.
func remote(t *testing.T, h sdk.Host) *sdk.RemoteConnector {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		sdk.PluginName: &sdk.GRPCPlugin{New: example.New, Host: h},
	})
	t.Cleanup(func() { client.Close() })
	raw, err := client.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	rc := raw.(*sdk.RemoteConnector)
	if err := rc.Configure(context.Background(), []byte(`{"greeting":"hi"}`)); err != nil {
		t.Fatal(err)
	}
	return rc
}

type result struct {
	status int
	ct     string
	body   string
}

func render(resp *sdk.Response, err error) result {
	if err != nil {
		r, cerr := example.Info().ErrorEnvelope.Compile()
		if cerr != nil {
			panic(cerr)
		}
		st, ct, b := r.Render(err, "rid")
		return result{st, ct, string(b)}
	}
	return result{resp.Status, resp.Headers.Get("Content-Type"), string(resp.Body)}
}

// TestRemoteMatchesDirect runs every scenario through the gRPC contract and
// directly, each on its own identically seeded host: the answers must be
// identical, and every Host method must have been called.
func TestRemoteMatchesDirect(t *testing.T) {
	ctx := context.Background()
	directHost, remoteHost := sdktest.NewMemHost(), sdktest.NewMemHost()
	token := exampletest.Seed(directHost)
	if tok2 := exampletest.Seed(remoteHost); tok2 != token {
		t.Fatalf("seeding is not deterministic: %s vs %s", token, tok2)
	}
	rec := &sdktest.RecordingHost{Inner: remoteHost}
	rc := remote(t, rec)
	direct := example.New()
	if err := direct.(sdk.Configurer).Configure([]byte(`{"greeting":"hi"}`)); err != nil {
		t.Fatal(err)
	}

	for _, sc := range exampletest.Scenarios(token) {
		t.Run(sc.Name, func(t *testing.T) {
			d := render(sdk.SafeHandle(ctx, direct, sc.Request(), directHost))
			r := render(rc.Handle(ctx, sc.Request()))
			if d != r {
				t.Errorf("direct and remote differ:\n direct %+v\n remote %+v", d, r)
			}
			if r.status != sc.Status {
				t.Errorf("status = %d, want %d (%s)", r.status, sc.Status, r.body)
			}
		})
	}

	called := map[string]bool{}
	for _, c := range rec.Calls() {
		called[c.Method] = true
	}
	for _, m := range []string{"ListForms", "GetForm", "GetRecord", "FindRecords", "CreateRecord", "UpdateRecord",
		"DeleteRecord", "BatchCreateRecords", "BatchGetRecords", "VerifyClient", "IssueToken", "RefreshToken",
		"RevokeToken", "ResolveToken", "FindUsers", "FindDepartments", "FindRoles"} {
		if !called[m] {
			t.Errorf("no scenario called Host.%s", m)
		}
	}
}

func TestRemoteDescribeAndHealth(t *testing.T) {
	rc := remote(t, sdktest.NewMemHost())
	info, err := rc.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := example.Info()
	if info.ID != want.ID || info.Version != want.Version || len(info.Routes) != len(want.Routes) || info.ErrorEnvelope != want.ErrorEnvelope {
		t.Errorf("Describe = %+v", info)
	}
	if err := rc.Health(context.Background()); err != nil {
		t.Errorf("Health: %v", err)
	}
}

func TestRemoteDeadline(t *testing.T) {
	rc := remote(t, sdktest.NewMemHost())
	ctx, cancel := context.WithTimeout(context.Background(), 50_000_000) // 50ms
	defer cancel()
	_, err := rc.Handle(ctx, exampletest.Scenario{Method: "GET", Target: "/slow?ms=60000"}.Request())
	var e *errs.Error
	if !errorsAs(err, &e) || e.Code != errs.Unavailable || e.Reason != sdk.ReasonTimeout {
		t.Fatalf("err = %v, want Unavailable/%s", err, sdk.ReasonTimeout)
	}
}
