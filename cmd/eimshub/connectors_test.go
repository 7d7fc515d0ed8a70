package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eimshub/eimshub/config"
	"github.com/eimshub/eimshub/plugins/host"
)

// repoRoot is the hub checkout this package lives in.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// goBuild builds pkg (relative to the repo root) into dir/name.
func goBuild(t *testing.T, pkg, dir, name string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = repoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestPluginNewCLI runs the real binary's `plugin new` and builds the
// module it writes with a plain `go build`, hermetically (no network, a
// private module cache; see plugins/scaffold/scaffoldtest).
func TestPluginNewCLI(t *testing.T) {
	t.Parallel()
	// The test binary is the CLI (TestMain runs main's run when
	// runMainEnv is set): no second, non-race build of the hub.
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	run := func(args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), runMainEnv+"=1")
		cmd.Dir = work
		b, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, string(b)
		case errors.As(err, &ee):
			return ee.ExitCode(), string(b)
		}
		t.Fatalf("%v: %v", args, err)
		return 0, ""
	}

	if code, out := run("plugin", "new"); code != 2 {
		t.Errorf("plugin new without a name: exit %d: %s", code, out)
	}
	if code, out := run("plugin", "new", "acme"); code != 1 || !strings.Contains(out, "--repo") {
		t.Errorf("plugin new outside a checkout: exit %d: %s", code, out)
	}
	if code, out := run("plugin", "new", "acme", "--repo", repoRoot(t)); code != 0 || !strings.Contains(out, "sha256sum") {
		t.Fatalf("plugin new: exit %d: %s", code, out)
	}
	if code, out := run("plugin", "new", "acme", "--repo", repoRoot(t)); code != 1 || !strings.Contains(out, "not empty") {
		t.Errorf("plugin new over an existing module: exit %d: %s", code, out)
	}
	// The module builds against the checkout the CLI found: the generated
	// module itself (go.mod, go.sum, build, vet, test, offline) is
	// plugins/scaffold's TestGeneratedModuleBuildsAndTestsOffline.
	gomod, err := os.ReadFile(filepath.Join(work, "acme", "go.mod"))
	if err != nil || !strings.Contains(string(gomod), "replace github.com/eimshub/eimshub => "+filepath.ToSlash(repoRoot(t))+"\n") {
		t.Errorf("go.mod (%v) does not build against %s:\n%s", err, repoRoot(t), gomod)
	}
	if code, out := run("connector", "no-such-connector"); code != 1 || !strings.Contains(out, "unknown connector") {
		t.Errorf("connector with an unknown id: exit %d: %s", code, out)
	}
}

// startHubAt runs `eimshub serve --config path` in-process like startHub.
func startHubAt(t *testing.T, path, dataDir string) *testHub {
	t.Helper()
	env := map[string]string{"EIMSHUB_LISTEN": "127.0.0.1:0", "EIMSHUB_DATA_DIR": dataDir}
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() { done <- serve(ctx, path, logs, getenv, ready) }()
	h := &testHub{t: t, dataDir: dataDir, cancel: cancel, done: done}
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
	return h
}

// TestHubRunsAnExternalConnector starts a hub whose YAML enables the SDK's
// example connector as an external plugin binary (checksum verified), and
// calls its routes: they answer through the real core.
func TestHubRunsAnExternalConnector(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The test binary serves the example connector when launched as a
	// plugin command (TestMain): the same SDK code as
	// plugins/sdk/example/cmd/example-connector, without another build.
	plugin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join(repoRoot(t), "config", "eimshub.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Add the external plugin under the example's own connectors: section.
	cfg := strings.Replace(string(example), "\nconnectors:\n", fmt.Sprintf(`
connectors:
  example:
    command: %s
    sha256: %s
    mount: /ex
    config: {greeting: hi}
`, plugin, fileSHA256(t, plugin)), 1)
	path := filepath.Join(dir, "hub.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startHubAt(t, path, t.TempDir())

	admin, _ := h.login("demo-client", "demo-secret", "admin", "admin-pass")
	alice, _ := h.login("demo-client", "demo-secret", "alice", "alice-pass")
	carol, _ := h.login("demo2-client", "demo2-secret", "carol", "carol-pass")

	// /admin/connectors: hub operators only (server.operators: [demo/admin]),
	// not another tenant's admin (carol is demo2's admin).
	mustStatus(t, "admin/connectors without a token", h.do("GET", "/admin/connectors", "", "", nil), http.StatusUnauthorized)
	mustStatus(t, "admin/connectors as a non-admin", h.do("GET", "/admin/connectors", alice, "", nil), http.StatusForbidden)
	mustStatus(t, "admin/connectors as another tenant's admin", h.do("GET", "/admin/connectors", carol, "", nil), http.StatusForbidden)
	r := h.do("GET", "/admin/connectors", admin, "", nil)
	mustStatus(t, "admin/connectors", r, http.StatusOK)
	conns, _ := r.json(t)["connectors"].([]any)
	var c map[string]any
	for _, x := range conns {
		if m, _ := x.(map[string]any); m["id"] == "example" {
			c = m
		}
	}
	if c == nil {
		t.Fatalf("connectors = %s", r.body)
	}
	if c["id"] != "example" || c["state"] != "running" || c["version"] != "1.0.0" || c["pid"].(float64) <= 0 {
		t.Errorf("connector status = %v", c)
	}

	// The plugin's routes, answered through the real core.
	if r := h.do("GET", "/ex/ping", "", "", nil); r.status != 200 || string(r.body) != "pong" {
		t.Errorf("ping = %d %s", r.status, r.body)
	}
	mustStatus(t, "bearer route without a token", h.do("GET", "/ex/forms", "", "", nil), http.StatusUnauthorized)
	r = h.jsonReq("POST", "/ex/records/contract", admin, map[string]any{"title": "via plugin", "amount": 42})
	mustStatus(t, "create through the plugin", r, http.StatusCreated)
	rec, _ := r.json(t)["result"].(map[string]any)
	id, _ := rec["id"].(string)
	if id == "" || rec["dataTitle"] != "via plugin" {
		t.Fatalf("created = %s", r.body)
	}
	r = h.do("GET", "/ex/records/contract/"+id, admin, "", nil)
	mustStatus(t, "read through the plugin", r, http.StatusOK)
	if got, _ := r.json(t)["result"].(map[string]any); got["id"] != id || got["data"].(map[string]any)["amount"] != float64(42) {
		t.Errorf("read = %s", r.body)
	}
	// The native API sees the same record: one core behind both.
	r = h.do("GET", "/api/v1/contract/"+id, admin, "", nil)
	mustStatus(t, "native read", r, http.StatusOK)
	if !strings.Contains(string(r.body), `"via plugin"`) {
		t.Errorf("native read = %s", r.body)
	}
	// Another tenant's token does not reach it through the plugin.
	mustStatus(t, "other tenant through the plugin", h.do("GET", "/ex/records/contract/"+id, carol, "", nil), http.StatusNotFound)
	mustStatus(t, "unknown field through the plugin",
		h.jsonReq("POST", "/ex/records/contract", admin, map[string]any{"title": "x", "bogus": 1}), http.StatusBadRequest)
}

func TestConnectorConfigs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hub.yaml")
	yml := `
connectors:
  zeta: { isolation: inproc }
  alpha:
    enabled: false
    command: ./alpha
    sha256: ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789
    mount: /a
    config:
      greeting: hi
      n: 3
      list: [1, two]
`
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadEnv(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	got, err := connectorConfigs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "alpha" || got[1].ID != "zeta" {
		t.Fatalf("configs = %+v", got)
	}
	a, z := got[0], got[1]
	if a.Enabled || a.Command != "./alpha" || a.Mount != "/a" || a.Isolation != host.Process ||
		a.SHA256 != "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789" {
		t.Errorf("alpha = %+v", a)
	}
	if string(a.Config) != `{"greeting":"hi","list":[1,"two"],"n":3}` {
		t.Errorf("alpha config JSON = %s", a.Config)
	}
	if !z.Enabled || z.Isolation != host.InProc || z.Config != nil {
		t.Errorf("zeta = %+v (config %s)", z, z.Config)
	}
}
