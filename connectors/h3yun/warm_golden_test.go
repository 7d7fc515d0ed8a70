package h3yun_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/eimshub/eimshub/connectors/h3yun"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

// Warm golden files (testdata/warm): requests replayed with the form cache
// warm, so each file pins the one-call write paths — a warm
// CreateBizObject is a single CreateRecords carrying the cached form
// version (issue 11 #4). Before every file the connector is reset and then
// warmed by one create against a throwaway host, which the file does not
// see.

var warmScenarios = []goldenScenario{
	{name: "create_warm", body: `{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","BizObject":` +
		q(`{"F0000001":"warm","F0000002":3,"OwnerId":"aea4d7a7-d162-4c77-9c44-7bd9cb8316a5"}`) + `,"IsSubmit":"true"}`},
}

// warmConnector resets c (cold) and warms its form cache (sdktest.Resetter).
type warmConnector struct{ sdk.Connector }

func (w warmConnector) Reset(ctx context.Context) error {
	if err := w.Connector.(sdktest.Resetter).Reset(ctx); err != nil {
		return err
	}
	p := service
	p.ClientID = engineCode
	req := &sdk.Request{Method: http.MethodPost, Path: "/OpenApi/Invoke", Route: "/OpenApi/Invoke",
		Headers:    http.Header{"Content-Type": {"application/json"}, "Enginecode": {engineCode}},
		Body:       []byte(`{"ActionName":"CreateBizObject","SchemaCode":"D000024demo","BizObject":` + q(`{"F0000001":"warm-up"}`) + `,"IsSubmit":true}`),
		PathParams: map[string]string{}, ClientIP: "192.0.2.1", RequestID: "warm-up", Principal: &p}
	_, err := sdk.SafeHandle(ctx, w.Connector, req, newHost())
	return err
}

// TestWarmGolden generates (-gen) or checks testdata/warm from
// warmScenarios, then replays the files in process and through a real
// plugin process.
func TestWarmGolden(t *testing.T) {
	info := h3yun.Info()
	renderer, err := info.ErrorEnvelope.Compile()
	if err != nil {
		t.Fatal(err)
	}
	mem := newHost()
	c := warmConnector{coldConnector{configured(t), goldenConfig}}
	for _, s := range warmScenarios {
		if err := c.Reset(context.Background()); err != nil {
			t.Fatal(err)
		}
		u, err := url.ParseRequestURI(orDefault(s.target, "/OpenApi/Invoke"))
		if err != nil {
			t.Fatal(err)
		}
		headers := http.Header{"Enginecode": {engineCode}, "Enginesecret": {secret}, "Content-Type": {s.ct()}}
		req := &sdk.Request{Method: "POST", Path: u.Path, Route: u.Path, Query: u.Query(), Headers: headers,
			Body: []byte(s.body), PathParams: map[string]string{}, ClientIP: "192.0.2.1", RequestID: "golden"}
		p, verr := verifyEngine(context.Background(), mem, routeOf(info, u.Path), req)
		if verr != nil {
			t.Fatalf("%s: credentials: %v", s.name, verr)
		}
		req.Principal = p
		rh := &sdktest.RecordingHost{Inner: mem}
		resp, herr := sdk.SafeHandle(context.Background(), c, req, rh)
		if herr != nil {
			status, ct, body := renderer.Render(herr, req.RequestID)
			resp = &sdk.Response{Status: status, Headers: http.Header{"Content-Type": {ct}}, Body: body}
		}
		calls := rh.Calls()
		if s.name == "create_warm" && (len(calls) != 1 || calls[0].Method != "CreateRecords" || resp.Status != 200) {
			t.Fatalf("warm create: %d %s with host calls %v; want one CreateRecords", resp.Status, resp.Body, methods(calls))
		}
		pj, _ := json.Marshal(p)
		hostJSON, _ := json.MarshalIndent(calls, "", "  ")
		out := s.requestText(string(pj)) + "\n--- host\n" + string(hostJSON) + "\n--- response\n" + renderResponse(resp) + "\n"
		file := filepath.Join("testdata", "warm", s.name+".golden")
		if *gen {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%s: %v (run with -gen to create it)", s.name, err)
		}
		if string(want) != out {
			t.Errorf("%s is stale (run with -gen)\n--- generated\n%s--- committed\n%s", file, out, want)
		}
	}
	t.Run("inproc", func(t *testing.T) {
		sdktest.RunGolden(t, warmConnector{coldConnector{configured(t), goldenConfig}}, filepath.Join("testdata", "warm"))
	})
	t.Run("plugin", func(t *testing.T) {
		sdktest.RunGolden(t, warmConnector{startPlugin(t, goldenConfig)}, filepath.Join("testdata", "warm"))
	})
}
