package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// configCheck runs `eimshub config check` on yml and returns the exit code
// and the output.
func configCheck(t *testing.T, yml string, env map[string]string) (string, int, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hub.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"config", "check", path}, &out, &errOut, func(k string) string { return env[k] })
	return path, code, out.String() + errOut.String()
}

// TestConfigCheckConnectors: `config check` runs each enabled connector's
// own validation (the built-in connector's Configure on its config: block)
// and names the file and line of the offending key; an unknown connector id
// and a missing or mismatched external binary are errors too.
func TestConfigCheckConnectors(t *testing.T) {
	t.Parallel()
	plugin := filepath.Join(t.TempDir(), "plugin")
	if err := os.WriteFile(plugin, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	sum := fileSHA256(t, plugin)
	zeros := strings.Repeat("0", 64)
	tests := []struct {
		name string
		yml  string
		line int    // 0: the check passes
		want string // in the message
	}{
		{"h3yun without config", "connectors:\n  h3yun:\n", 0, ""},
		{"h3yun good config", "connectors:\n  h3yun:\n    config:\n      timeZone: UTC\n      maxBatch: 100\n", 0, ""},
		{"disabled unknown id", "connectors:\n  nosuch: {enabled: false}\n", 0, ""},
		{"external ok", "connectors:\n  acme: {command: " + plugin + ", sha256: " + sum + "}\n", 0, ""},
		{"h3yun unknown key (docs/CONFIG.md's old example)",
			"server:\n  listen: 127.0.0.1:8080\nconnectors:\n  h3yun:\n    config:\n      engineCode: ${H3YUN_ENGINE_CODE}\n      engineSecret: x\n",
			6, `connectors.h3yun.config.engineCode: h3yun config: json: unknown field "engineCode"`},
		{"h3yun bad value", "connectors:\n  h3yun:\n    config:\n      timeZone: UTC\n      maxBatch: 0\n",
			5, "connectors.h3yun.config.maxBatch: h3yun config: maxBatch must be at least 1"},
		{"h3yun bad time zone", "connectors:\n  h3yun:\n    config:\n      timeZone: Mars/Olympus\n",
			4, "connectors.h3yun.config.timeZone:"},
		{"unknown id", "connectors:\n  h3yun:\n  nosuch: {enabled: true}\n",
			3, `connectors.nosuch: unknown connector "nosuch": no built-in connector has this id (built in: `},
		{"external binary missing", "connectors:\n  acme:\n    command: /nonexistent/acme\n    sha256: " + zeros + "\n",
			3, "connectors.acme.command: plugin binary: open /nonexistent/acme"},
		{"external checksum mismatch", "connectors:\n  acme:\n    command: " + plugin + "\n    sha256: " + zeros + "\n",
			3, "has sha256 " + sum},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path, code, out := configCheck(t, tc.yml, map[string]string{"H3YUN_ENGINE_CODE": "e"})
			if tc.line == 0 {
				if code != 0 || !strings.Contains(out, "OK") {
					t.Fatalf("config check = %d: %s", code, out)
				}
				return
			}
			prefix := path + ":" + strconv.Itoa(tc.line) + ": "
			if code != 1 || !strings.Contains(out, prefix) || !strings.Contains(out, tc.want) {
				t.Fatalf("config check = %d:\n%s\nwant %q at %q", code, out, tc.want, prefix)
			}
		})
	}
}

// TestConfigDocProductionExample checks docs/CONFIG.md's production example
// with `config check`: its only problem may be the external plugin binary
// the example names (not on this machine); its h3yun block once carried
// keys the connector refuses (engineCode), which passed the old check.
func TestConfigDocProductionExample(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "CONFIG.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)### Production[^\n]*\n+```yaml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/CONFIG.md: no ```yaml block under ### Production")
	}
	env := map[string]string{"MONGO_URI": "mongodb://m1/?replicaSet=rs0", "REDIS_URL": "redis://redis:6379",
		"CUSTOM_PLUGIN_SHA256": strings.Repeat("a", 64), "H3YUN_ENGINE_CODE": "x", "H3YUN_ENGINE_SECRET": "y"}
	_, code, out := configCheck(t, string(m[1]), env)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if code != 0 && !strings.Contains(line, "connectors.custom.command: plugin binary") {
			t.Errorf("production example: %s", line)
		}
	}
}
