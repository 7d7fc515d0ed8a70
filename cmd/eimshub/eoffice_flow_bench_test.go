package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkEOfficeFlowVsNative measures, against one running hub on the
// embedded store, e-office's flow routes through the connector in its
// plugin process against the native routes doing the same: alice's to-do
// list (20 pending leave approvals) and starting a leave approval (native:
// create the record + start; e-office: flow-save, which does both).
func BenchmarkEOfficeFlowVsNative(b *testing.B) {
	h := startBenchHub(b)
	bob, _ := h.login("demo-client", "demo-secret", "bob", "bob-pass")
	alice, _ := h.login("demo-client", "demo-secret", "alice", "alice-pass")
	for i := 0; i < 20; i++ {
		r := h.jsonReq("POST", "/api/v1/leave_request", bob, map[string]any{"reason": "bench", "days": 1})
		if r.status != 200 {
			b.Fatalf("seed: %d %s", r.status, r.body)
		}
		if s := h.jsonReq("POST", "/api/v1/workflow/start", bob, map[string]any{"flowDefinitionId": "leave_approval",
			"businessKey": r.json(b)["id"]}); s.status != 200 {
			b.Fatalf("seed start: %d %s", s.status, s.body)
		}
	}
	etoken := func(user string) string {
		r := h.do("POST", eofficeBase+"open-api/get-token", "", "application/x-www-form-urlencoded",
			[]byte(url.Values{"agent_id": {"100001"}, "secret": {"Yq1a9bXc2Vd3Ue4Tf5Sg6Rh7Qi8Pj9Ok"}, "user": {user}}.Encode()))
		tok, _ := r.json(b)["data"].(map[string]any)["token"].(string)
		if len(tok) != 128 {
			b.Fatalf("get-token: %s", r.body)
		}
		return tok
	}
	ebob, ealice := etoken("bob"), etoken("alice")
	client := &http.Client{}
	do := func(b *testing.B, method, path, auth, ct, body string) {
		req, _ := http.NewRequest(method, h.base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+auth)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || strings.Contains(string(raw), `"status":0`) {
			b.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
		}
	}
	save := url.Values{"flow_id": {"1"}, "flow_run_name": {"请假"}, "run_name_html": {"<div>请假</div>"},
		"form_data[DATA_1]": {"bench"}, "form_data[DATA_2]": {"1"}}.Encode()
	cases := []struct {
		name string
		run  func(b *testing.B)
	}{
		{"todo20/native", func(b *testing.B) { do(b, "GET", "/api/v1/workflow/tasks/todo?$top=20", alice, "", "") }},
		{"todo20/eoffice", func(b *testing.B) {
			do(b, "GET", eofficeBase+"flow/flow-list/teed-to-do-list?page=1&limit=20", ealice, "", "")
		}},
		{"start/native", func(b *testing.B) {
			r := h.jsonReq("POST", "/api/v1/leave_request", bob, map[string]any{"reason": "bench", "days": 1})
			do(b, "POST", "/api/v1/workflow/start", bob, "application/json",
				`{"flowDefinitionId":"leave_approval","businessKey":"`+r.json(b)["id"].(string)+`"}`)
		}},
		{"start/eoffice", func(b *testing.B) {
			do(b, "POST", eofficeBase+"flow/new-page/flow-save", ebob, "application/x-www-form-urlencoded", save)
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				c.run(b)
			}
		})
	}
}
