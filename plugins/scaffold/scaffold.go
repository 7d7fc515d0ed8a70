// Package scaffold generates a new connector module for `eimshub plugin new
// NAME`: a compilable Go module with one connector file, a main calling
// sdk.Serve, golden tests using sdktest, and a README. The module builds
// offline against a local hub checkout through a `replace` directive and a
// copy of the hub's go.sum.
package scaffold

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

//go:embed templates
var templates embed.FS

var validName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

type data struct {
	Name      string
	RepoRoot  string
	GoVersion string
}

// Generate writes the module for connector name into dir (created; it must
// not exist or be empty). repoRoot is the absolute path of the hub checkout
// the module builds against; its go.mod gives the Go version and its go.sum
// is copied so the build needs no network.
func Generate(dir, name, repoRoot string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("scaffold: connector name %q must be lower-case letters, digits, - or _, starting with a letter", name)
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		return fmt.Errorf("scaffold: %w", err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return fmt.Errorf("scaffold: read the hub's go.mod: %w", err)
	}
	if !bytes.Contains(gomod, []byte("module github.com/eimshub/eimshub\n")) {
		return fmt.Errorf("scaffold: %s is not an EIMS Hub checkout", root)
	}
	d := data{Name: name, RepoRoot: filepath.ToSlash(root), GoVersion: goVersion(gomod)}

	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("scaffold: %s exists and is not empty", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("scaffold: %w", err)
	}
	err = fs.WalkDir(templates, "templates", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel := strings.TrimSuffix(strings.TrimPrefix(path, "templates/"), ".tmpl")
		src, err := templates.ReadFile(path)
		if err != nil {
			return err
		}
		t, err := template.New(rel).Parse(string(src))
		if err != nil {
			return fmt.Errorf("template %s: %w", rel, err)
		}
		var out bytes.Buffer
		if err := t.Execute(&out, d); err != nil {
			return fmt.Errorf("template %s: %w", rel, err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, out.Bytes(), 0o644)
	})
	if err != nil {
		return fmt.Errorf("scaffold: %w", err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		return fmt.Errorf("scaffold: read the hub's go.sum: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		return fmt.Errorf("scaffold: %w", err)
	}
	return nil
}

// goVersion returns the go directive of a go.mod (default 1.26).
func goVersion(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			return strings.TrimSpace(v)
		}
	}
	return "1.26"
}
