package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/config"
	"github.com/eimshub/eimshub/core/errs"
)

// TestResolveBuiltinRunner: which binary runs built-in connectors, for each
// shape of builtinConnectors and of the hub's directory, and the log line
// that says so.
func TestResolveBuiltinRunner(t *testing.T) {
	small, err := os.ReadFile(smallBinary)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := fileSHA256Sum(smallBinary)
	if err != nil {
		t.Fatal(err)
	}
	hexSum := fileSHA256(t, smallBinary)
	// hubDir returns a fake hub executable path in a fresh directory that
	// holds eimshub-connector with content and mode (nil: no such file).
	hubDir := func(t *testing.T, content []byte, mode os.FileMode) (exe, sibling string) {
		dir := t.TempDir()
		exe, sibling = filepath.Join(dir, "eimshub"), filepath.Join(dir, connectorBinary)
		if content != nil {
			if err := os.WriteFile(sibling, content, mode); err != nil {
				t.Fatal(err)
			}
		}
		return exe, sibling
	}
	script := []byte("#!/bin/sh\nexit 0\n")
	tests := []struct {
		name    string
		content []byte
		mode    os.FileMode
		bc      func(sibling string) config.BuiltinConnectors
		small   bool   // runs from the sibling / configured binary
		errTo   string // error target; "" = no error
		log     string
	}{
		{name: "absent: self", bc: none, log: "no eimshub-connector next to the hub executable"},
		{name: "next to the hub", content: small, mode: 0o755, bc: none, small: true, log: "built-in connectors run from eimshub-connector"},
		{name: "next to the hub, pinned sha256", content: small, mode: 0o755, small: true,
			bc: func(string) config.BuiltinConnectors {
				return config.BuiltinConnectors{SHA256: strings.ToUpper(hexSum)}
			}},
		{name: "next to the hub, other sha256", content: small, mode: 0o755, errTo: "builtinConnectors.sha256",
			bc: func(string) config.BuiltinConnectors {
				return config.BuiltinConnectors{SHA256: strings.Repeat("0", 64)}
			}},
		{name: "next to the hub, not executable: self", content: small, mode: 0o644, bc: none, log: "not an executable file"},
		{name: "next to the hub, not a Go binary: self", content: script, mode: 0o755, bc: none, log: "not a Go binary"},
		{name: "self", content: small, mode: 0o755, log: "builtinConnectors.command is self",
			bc: func(string) config.BuiltinConnectors { return config.BuiltinConnectors{Command: "self"} }},
		{name: "configured", content: small, mode: 0o755, small: true,
			bc: func(s string) config.BuiltinConnectors { return config.BuiltinConnectors{Command: s, SHA256: hexSum} }},
		{name: "configured, missing", errTo: "builtinConnectors.command",
			bc: func(s string) config.BuiltinConnectors { return config.BuiltinConnectors{Command: s} }},
		{name: "configured, not executable", content: small, mode: 0o600, errTo: "builtinConnectors.command",
			bc: func(s string) config.BuiltinConnectors { return config.BuiltinConnectors{Command: s} }},
		{name: "configured, not a Go binary", content: script, mode: 0o755, errTo: "builtinConnectors.command",
			bc: func(s string) config.BuiltinConnectors { return config.BuiltinConnectors{Command: s} }},
		{name: "configured, other sha256", content: small, mode: 0o755, errTo: "builtinConnectors.sha256",
			bc: func(s string) config.BuiltinConnectors {
				return config.BuiltinConnectors{Command: s, SHA256: strings.Repeat("ab", 32)}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exe, sibling := hubDir(t, tc.content, tc.mode)
			var logs bytes.Buffer
			r, err := resolveBuiltinRunner(tc.bc(sibling), exe, nil, slog.New(slog.NewTextHandler(&logs, nil)))
			if tc.errTo != "" {
				if e := errs.As(err); e == nil || e.Code != errs.Invalid || e.Target != tc.errTo {
					t.Fatalf("err = %v, want one targeting %s", err, tc.errTo)
				}
				if r.Path != "" {
					t.Errorf("runner = %+v with an error", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.small && (r.Path != sibling || !bytes.Equal(r.SHA256, sum)):
				t.Errorf("runner = %s %x, want %s %x", r.Path, r.SHA256, sibling, sum)
			case !tc.small && (r.Path != "" || r.SHA256 != nil):
				t.Errorf("runner = %+v, want the hub itself", r)
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log %q lacks %q", logs.String(), tc.log)
			}
		})
	}
}

func none(string) config.BuiltinConnectors { return config.BuiltinConnectors{} }

// TestOtherBuild: a connector binary from another build of the hub is told
// apart by its main package and VCS stamps; without stamps it cannot be.
func TestOtherBuild(t *testing.T) {
	bi := func(path, rev string, modified bool) *debug.BuildInfo {
		b := &debug.BuildInfo{Path: path}
		if rev != "" {
			b.Settings = []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: strconv.FormatBool(modified)}}
		}
		return b
	}
	hub := bi(hubModule+"/cmd/eimshub", "abc", false)
	tests := []struct {
		name      string
		conn, hub *debug.BuildInfo
		other     bool
	}{
		{"same revision", bi(connectorMainPath, "abc", false), hub, false},
		{"other revision", bi(connectorMainPath, "def", false), hub, true},
		{"same revision, modified", bi(connectorMainPath, "abc", true), hub, true},
		{"another program", bi("example.com/evil", "abc", false), hub, true},
		{"hub without build info", bi(connectorMainPath, "def", false), nil, false},
		{"hub without VCS stamps", bi(connectorMainPath, "def", false), bi(hubModule+"/cmd/eimshub", "", false), false},
		{"connector without VCS stamps", bi(connectorMainPath, "", false), hub, false},
	}
	for _, tc := range tests {
		if got := otherBuild(tc.conn, tc.hub); (got != "") != tc.other {
			t.Errorf("%s: otherBuild = %q, want other=%v", tc.name, got, tc.other)
		}
	}
}

// TestBuiltinConnectorProcess: with builtinConnectors.command: self the hub
// runs the built-in H3Yun connector by re-executing itself, and it answers
// H3Yun calls through the real core. (Every other end-to-end test runs it
// from eimshub-connector next to the hub, as `make build` lays them out;
// TestH3YunPluginKilled checks the plugin's executable before and after a
// restart.)
func TestBuiltinConnectorProcess(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join(repoRoot(t), "config", "eimshub.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hub.yaml")
	if err := os.WriteFile(path, append(example, "\nbuiltinConnectors: {command: self}\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startHubAt(t, path, t.TempDir())
	admin, _ := h.login("demo-client", "demo-secret", "admin", "admin-pass")
	r := h.do("GET", "/admin/connectors", admin, "", nil)
	mustStatus(t, "admin/connectors", r, 200)
	var pid int
	for _, x := range r.json(t)["connectors"].([]any) {
		if m := x.(map[string]any); m["id"] == "h3yun" && m["state"] == "running" {
			pid = int(m["pid"].(float64))
		}
	}
	if pid <= 0 {
		t.Fatalf("no running h3yun plugin: %s", r.body)
	}
	if exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe"); err != nil || exe != self {
		t.Errorf("the h3yun plugin runs %q (%v), want the hub %q", exe, err, self)
	}
	res, m := h.h3yunInvoke(t, "demo-engine-secret", `{"ActionName":"LoadBizObjects","SchemaCode":"contract"}`)
	if res.StatusCode != 200 || m["Successful"] != true {
		t.Errorf("LoadBizObjects: %d %v", res.StatusCode, m)
	}
}

// checkSmallBinary fails t unless process pid runs eimshub-connector (the
// binary TestMain put next to the test binary): a built-in connector runs
// from the small binary, not from a copy of the hub.
func checkSmallBinary(t *testing.T, pid int) {
	t.Helper()
	if exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe"); err != nil || exe != smallBinary {
		t.Errorf("plugin %d runs %q (%v), want %s", pid, exe, err, smallBinary)
	}
}
