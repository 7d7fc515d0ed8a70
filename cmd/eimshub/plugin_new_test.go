package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPluginNewStaysOutOfTheCheckout: `eimshub plugin new NAME` run inside
// the hub checkout used to write ./NAME there, an untracked module in the
// hub's tree. Without --dir it now refuses and names the way out; with
// --dir it writes where asked and prints an absolute path and an absolute
// `command:` (a relative one is resolved from the hub's working directory).
func TestPluginNewStaysOutOfTheCheckout(t *testing.T) {
	root := repoRoot(t)
	t.Chdir(filepath.Join(root, "docs"))
	var stdout, stderr bytes.Buffer
	if code := runPluginNew([]string{"acme"}, &stdout, &stderr); code != 1 {
		t.Fatalf("plugin new inside the checkout: exit %d, want 1; stdout %s stderr %s", code, stdout.String(), stderr.String())
	}
	if msg := stderr.String(); !strings.Contains(msg, "inside the hub checkout") || !strings.Contains(msg, "--dir") {
		t.Errorf("refusal does not say why and what to do: %s", msg)
	}
	if _, err := os.Stat(filepath.Join(root, "docs", "acme")); !os.IsNotExist(err) {
		os.RemoveAll(filepath.Join(root, "docs", "acme"))
		t.Fatalf("plugin new wrote into the checkout (stat: %v)", err)
	}

	dir := filepath.Join(t.TempDir(), "acme")
	stdout.Reset()
	stderr.Reset()
	if code := runPluginNew([]string{"acme", "--dir", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("plugin new --dir: exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"written to " + dir, "command: " + filepath.Join(dir, "eimshub-acme") + ",", "go build -o eimshub-acme ."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Errorf("module not written: %v", err)
	}
}
