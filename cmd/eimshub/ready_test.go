package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startServe runs `eimshub serve` in-process on yml (written to a file in
// a fresh data directory) and returns the hub and its log. The environment
// is env plus a free port and the data directory.
func startServe(t *testing.T, yml string, env map[string]string) (*testHub, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "hub.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	all := map[string]string{"EIMSHUB_LISTEN": "127.0.0.1:0", "EIMSHUB_DATA_DIR": filepath.Join(dir, "data")}
	for k, v := range env {
		all[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() { done <- serve(ctx, path, logs, func(k string) string { return all[k] }, ready) }()
	h := &testHub{t: t, dataDir: all["EIMSHUB_DATA_DIR"], cancel: cancel, done: done}
	select {
	case addr := <-ready:
		h.base = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("hub did not start: %v\nlogs:\n%s", err, logs.String())
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("hub did not start within 60s\nlogs:\n%s", logs.String())
	}
	t.Cleanup(func() {
		h.stop()
		if t.Failed() {
			t.Logf("hub logs:\n%s", logs.String())
		}
	})
	return h, logs
}

// TestReadyzReportsConnectors: /readyz names each enabled connector; one
// that is not running (here: its config: block is refused) makes it 503
// naming the connector, unless the connector is optional; the start-up log
// says what runs and what does not (not merely "configured").
func TestReadyzReportsConnectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		yml      string
		status   int
		check    string // checks["connector:h3yun"]
		logWants []string
	}{
		{"running (plugin process)", "connectors:\n  h3yun:\n    config: {maxBatch: 10}\n", 200, "ok",
			[]string{`msg="connectors started" running=h3yun notRunning=""`}},
		{"refused config (plugin process)", "connectors:\n  h3yun:\n    config: {engineCode: x}\n", 503, "fail",
			[]string{`msg="connector NOT running`, "connector=h3yun", `notRunning=h3yun`}},
		{"refused config (in process)", "connectors:\n  h3yun:\n    isolation: inproc\n    config: {maxBatch: 0}\n", 503, "fail",
			[]string{`msg="connector NOT running`, "state=failed", `notRunning=h3yun`}},
		{"refused config, optional", "connectors:\n  h3yun:\n    optional: true\n    isolation: inproc\n    config: {maxBatch: 0}\n", 200, "degraded",
			[]string{`msg="connector NOT running`, "optional=true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, logs := startServe(t, tc.yml, nil)
			r := h.do("GET", "/readyz", "", "", nil)
			m := r.json(t)
			checks, _ := m["checks"].(map[string]any)
			if r.status != tc.status || checks["connector:h3yun"] != tc.check {
				t.Fatalf("readyz = %d %s, want %d with connector:h3yun %s", r.status, r.body, tc.status, tc.check)
			}
			if tc.status == 503 && !strings.Contains(string(r.body), `"failed":["connector:h3yun"]`) {
				t.Errorf("readyz does not name the connector: %s", r.body)
			}
			l := logs.String()
			for _, w := range tc.logWants {
				if !strings.Contains(l, w) {
					t.Errorf("log lacks %q:\n%s", w, l)
				}
			}
			if tc.status == 503 || tc.check == "degraded" {
				// A connector that is not running still has its routes: the
				// caller gets the dialect's answer, not a 404 in the native
				// envelope.
				inv := h.do("POST", "/OpenApi/Invoke", "", "application/json", []byte(`{"ActionName":"LoadBizObject"}`))
				if inv.status == 404 || !strings.Contains(string(inv.body), `"Successful":false`) {
					t.Errorf("H3Yun route of a connector that is not running = %d %s, want the H3Yun envelope", inv.status, inv.body)
				}
			}
			if strings.Contains(l, "connectors configured") {
				t.Errorf("log still says configured:\n%s", l)
			}
		})
	}
}
