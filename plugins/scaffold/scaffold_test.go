package scaffold_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/plugins/scaffold"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestGeneratedModuleBuildsAndTestsOffline generates a connector and runs
// `go build` and `go test` in it with the network off (GOPROXY=off).
func TestGeneratedModuleBuildsAndTestsOffline(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "acme")
	if err := scaffold.Generate(dir, "acme", repoRoot(t)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"go.mod", "go.sum", "main.go", "connector.go", "connector_test.go", "README.md", "testdata/hello.golden"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	// Offline means "with only what a checkout of the hub has already
	// fetched": make sure the hub's whole module graph is in the cache (a
	// no-op on a developer machine; on a cold CI cache it fetches what
	// `go build` of the hub alone does not, such as test-only modules).
	dl := exec.Command("go", "mod", "download")
	dl.Dir = repoRoot(t)
	if out, err := dl.CombinedOutput(); err != nil {
		t.Logf("go mod download in the hub checkout: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}, {"test", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestGenerateRefuses(t *testing.T) {
	root := repoRoot(t)
	for _, name := range []string{"", "Acme", "1x", "a b", "../x"} {
		if err := scaffold.Generate(filepath.Join(t.TempDir(), "x"), name, root); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	busy := t.TempDir()
	if err := os.WriteFile(filepath.Join(busy, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := scaffold.Generate(busy, "acme", root); err == nil {
		t.Error("non-empty dir accepted")
	}
	if err := scaffold.Generate(filepath.Join(t.TempDir(), "x"), "acme", t.TempDir()); err == nil {
		t.Error("a directory that is not a hub checkout accepted")
	}
}
