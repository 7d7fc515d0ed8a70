package scaffold_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/plugins/scaffold"
	"github.com/eimshub/eimshub/plugins/scaffold/scaffoldtest"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestGeneratedModuleBuildsAndTestsOffline generates a connector and runs a
// plain `go build`, `go vet` and `go test` in it (-mod=readonly: go.mod and
// go.sum must be complete as written) with no network and an empty private
// module cache fed only from the machine's cache (scaffoldtest): the result
// depends on the generated files, not on the machine.
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
	gomod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	hubSum, _ := os.ReadFile(filepath.Join(repoRoot(t), "go.sum"))
	gosum, _ := os.ReadFile(filepath.Join(dir, "go.sum"))
	if !bytes.Equal(gosum, hubSum) {
		t.Error("go.sum is not the hub's")
	}
	for _, want := range []string{"require github.com/eimshub/eimshub v0.0.0\n", "\tgithub.com/hashicorp/go-plugin ",
		"\tgoogle.golang.org/grpc ", "replace github.com/eimshub/eimshub => " + filepath.ToSlash(repoRoot(t)) + "\n"} {
		if !strings.Contains(string(gomod), want) {
			t.Errorf("go.mod lacks %q:\n%s", want, gomod)
		}
	}
	r := scaffoldtest.New(t, repoRoot(t))
	for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}, {"test", "-count=1", "./..."}} {
		r.Go(dir, args...)
	}
}

// TestHubRequirements: the require and replace directives of a go.mod in
// every shape the go command writes; relative replacements become absolute.
func TestHubRequirements(t *testing.T) {
	gomod := []byte(`module github.com/eimshub/eimshub

go 1.26.8

toolchain go1.26.8

require example.com/single v1.0.0 // comment

require (
	example.com/a v1.2.3
	example.com/b v0.0.0-20240101000000-abcdefabcdef // indirect
)

replace example.com/a => ./third_party/a

replace (
	example.com/b v0.0.0-20240101000000-abcdefabcdef => example.com/fork v1.0.0
	example.com/c => ../c
)

exclude (
	example.com/bad v0.1.0
)

retract v0.0.1
`)
	reqs, reps, err := scaffold.HubRequirements(gomod, "/src/hub")
	if err != nil {
		t.Fatal(err)
	}
	wantReqs := []string{"example.com/single v1.0.0", "example.com/a v1.2.3", "example.com/b v0.0.0-20240101000000-abcdefabcdef"}
	wantReps := []string{"example.com/a => /src/hub/third_party/a",
		"example.com/b v0.0.0-20240101000000-abcdefabcdef => example.com/fork v1.0.0", "example.com/c => /src/c"}
	if !slices.Equal(reqs, wantReqs) || !slices.Equal(reps, wantReps) {
		t.Errorf("requires = %q\nreplaces = %q", reqs, reps)
	}
	for _, bad := range []string{"require (\n\texample.com/a\n)\n", "require (\n\texample.com/a v1\n", "replace example.com/a =>\n"} {
		if _, _, err := scaffold.HubRequirements([]byte(bad), "/src/hub"); err == nil {
			t.Errorf("accepted %q", bad)
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
