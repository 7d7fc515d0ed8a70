package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkH3YunVsNative measures, against one running hub on the embedded
// store, the same reads through the native API and through the H3Yun
// connector running as a real plugin process: one record by id, a 50-row
// page of the contract form, and one create.
func BenchmarkH3YunVsNative(b *testing.B) {
	h := startBenchHub(b)
	token, _ := h.login("demo-client", "demo-secret", "admin", "admin-pass")
	var first string
	for i := 0; i < 60; i++ {
		r := h.jsonReq("POST", "/api/v1/contract", token, map[string]any{"title": fmt.Sprintf("c%02d", i), "amount": i})
		if r.status != 200 {
			b.Fatalf("seed: %d %s", r.status, r.body)
		}
		if first == "" {
			first = r.json(b)["id"].(string)
		}
	}
	client := &http.Client{}
	do := func(b *testing.B, req func() *http.Request) {
		res, err := client.Do(req())
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
	native := func(path string) func() *http.Request {
		return func() *http.Request {
			req, _ := http.NewRequest("GET", h.base+path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			return req
		}
	}
	h3 := func(body map[string]any) func() *http.Request {
		raw, _ := json.Marshal(body)
		return func() *http.Request {
			req, _ := http.NewRequest("POST", h.base+"/OpenApi/Invoke", bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("EngineCode", "demo-engine")
			req.Header.Set("EngineSecret", "demo-engine-secret")
			return req
		}
	}
	page := url.Values{"$top": {"50"}, "$orderby": {"data/amount desc"}}
	filter := `{"FromRowNum":0,"ToRowNum":50,"SortByCollection":[{"ItemName":"amount","Direction":"Descending"}]}`
	cases := []struct {
		name string
		req  func() *http.Request
	}{
		{"get/native", native("/api/v1/contract/" + first)},
		{"get/h3yun-LoadBizObject", h3(map[string]any{"ActionName": "LoadBizObject", "SchemaCode": "contract", "BizObjectId": first})},
		{"page50/native", native("/api/v1/contract?" + page.Encode())},
		{"page50/h3yun-LoadBizObjects", h3(map[string]any{"ActionName": "LoadBizObjects", "SchemaCode": "contract", "Filter": filter})},
		{"create/native", func() *http.Request {
			req, _ := http.NewRequest("POST", h.base+"/api/v1/contract", strings.NewReader(`{"title":"bench","party":"ACME","amount":5}`))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			return req
		}},
		{"create/h3yun-CreateBizObject", h3(map[string]any{"ActionName": "CreateBizObject", "SchemaCode": "contract", "IsSubmit": true,
			"BizObject": `{"title":"bench","party":"ACME","amount":5}`})},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				do(b, c.req)
			}
		})
	}
}

// startBenchHub starts the hub on the example config with the rate limits
// out of the way, for benchmarks that compare routes of one running hub.
func startBenchHub(b *testing.B) *testHub {
	example, err := os.ReadFile("../../config/eimshub.example.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cfg := strings.NewReplacer("defaultRate: 100-S", "defaultRate: 1000000-S", "rateLimit: 20-S", "rateLimit: 1000000-S").Replace(string(example))
	path := filepath.Join(b.TempDir(), "bench.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	return startHub(b, b.TempDir(), map[string]string{"EIMSHUB_CONFIG": path})
}
