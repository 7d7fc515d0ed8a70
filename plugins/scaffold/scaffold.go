// Package scaffold generates a new connector module for `eimshub plugin new
// NAME`: a compilable Go module with one connector file, a main calling
// sdk.Serve, golden tests using sdktest, and a README.
//
// The module is complete at generation: its go.mod requires the hub
// (replaced by the local checkout) and repeats every requirement of the
// hub's go.mod, and its go.sum is the hub's. Its module graph is therefore
// the hub's own, so a plain `go build` / `go test` (default -mod=readonly,
// no network) needs exactly the module files a build of the hub's
// plugins/sdk packages needs — nothing that depends on what else happens to
// be in the module cache.
package scaffold

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
	Requires  []string // "path version" of every requirement of the hub's go.mod
	Replaces  []string // the hub's replace directives, local paths made absolute
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
	reqs, reps, err := hubRequirements(gomod, root)
	if err != nil {
		return fmt.Errorf("scaffold: the hub's go.mod: %w", err)
	}
	d := data{Name: name, RepoRoot: filepath.ToSlash(root), GoVersion: goVersion(gomod), Requires: reqs, Replaces: reps}

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

// hubRequirements returns the require and replace directives of the hub's
// go.mod (comments dropped; relative replacement paths made absolute against
// root). It reads the go.mod grammar the go command writes: single-line
// directives and parenthesised blocks.
func hubRequirements(gomod []byte, root string) (reqs, reps []string, err error) {
	block := ""
	for n, line := range strings.Split(string(gomod), "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
			continue
		case block != "" && f[0] == ")":
			block = ""
			continue
		case block == "" && len(f) == 2 && f[1] == "(":
			block = f[0]
			continue
		case block == "":
			switch f[0] {
			case "require", "replace":
				block, f = f[0], f[1:]
			default:
				continue
			}
			err = addDirective(block, f, root, &reqs, &reps)
			block = ""
		default:
			err = addDirective(block, f, root, &reqs, &reps)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", n+1, err)
		}
	}
	if block != "" {
		return nil, nil, fmt.Errorf("unterminated %s block", block)
	}
	return reqs, reps, nil
}

// addDirective records one require ("path version") or replace ("old
// [version] => new [version]") directive.
func addDirective(kind string, f []string, root string, reqs, reps *[]string) error {
	switch kind {
	case "require":
		if len(f) != 2 {
			return fmt.Errorf("malformed require %q", strings.Join(f, " "))
		}
		*reqs = append(*reqs, f[0]+" "+f[1])
	case "replace":
		i := slices.Index(f, "=>")
		if i < 1 || i == len(f)-1 {
			return fmt.Errorf("malformed replace %q", strings.Join(f, " "))
		}
		// A local replacement (./x, ../x) is relative to the hub's go.mod.
		if p := f[i+1]; strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") {
			f = slices.Clone(f)
			f[i+1] = filepath.ToSlash(filepath.Join(root, filepath.FromSlash(p)))
		}
		*reps = append(*reps, strings.Join(f, " "))
	}
	return nil
}
