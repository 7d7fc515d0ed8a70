// Package docs holds the repository's documentation. Its test keeps the
// documentation self-contained: every relative link a reader follows resolves
// to a file (and heading) inside the repository, and no page cites a "§"
// section of a specification that is not in it.
package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = ".."

// userDocs lists the Markdown files a user reads, relative to the root:
// README.md, CHANGELOG.md, docs/**/*.md and connectors/*/README.md.
func userDocs(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md", "CHANGELOG.md"}
	err := filepath.WalkDir(filepath.Join(repoRoot, "docs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			rel, _ := filepath.Rel(repoRoot, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := filepath.Glob(filepath.Join(repoRoot, "connectors", "*", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range conn {
		rel, _ := filepath.Rel(repoRoot, p)
		files = append(files, filepath.ToSlash(rel))
	}
	return files
}

// vendoredSpec reports whether a file is one of the specifications copied
// into docs/spec: they number their own sections, so "§" is theirs to use.
func vendoredSpec(file string) bool {
	return strings.HasPrefix(file, "docs/spec/") && file != "docs/spec/README.md"
}

var (
	fenceRE = regexp.MustCompile("^\\s*(```|~~~)")
	// linkRE matches an inline link or image target: [text](target "title").
	linkRE    = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	codeRE    = regexp.MustCompile("`[^`]*`")
	headingRE = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	schemeRE  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// prose returns the lines of a Markdown file outside fenced code blocks,
// each with its 1-based line number.
func prose(text string) (lines []string, nums []int) {
	in := false
	for i, l := range strings.Split(text, "\n") {
		if fenceRE.MatchString(l) {
			in = !in
			continue
		}
		if !in {
			lines = append(lines, l)
			nums = append(nums, i+1)
		}
	}
	return lines, nums
}

// slug is the anchor GitHub gives a heading: inline code marks and link
// targets dropped, lower-cased, everything but letters, digits, marks,
// spaces, '-' and '_' removed, spaces turned into '-'.
func slug(heading string) string {
	heading = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors returns the heading anchors of a Markdown file (GitHub numbers
// repeated headings -1, -2, …).
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	lines, _ := prose(text)
	for _, l := range lines {
		m := headingRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		s := slug(m[2])
		if n := seen[s]; n > 0 {
			out[s+"-"+strconv.Itoa(n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	// Explicit HTML anchors.
	for _, m := range regexp.MustCompile(`<a (?:name|id)="([^"]+)"`).FindAllStringSubmatch(text, -1) {
		out[m[1]] = true
	}
	return out
}

func TestSlug(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"4.5 UpdateBizObject — update one record", "45-updatebizobject--update-one-record"},
		{"4.1 `POST /api/v1/workflow/start`", "41-post-apiv1workflowstart"},
		{"Route authentication", "route-authentication"},
		{"H3Yun (氚云) OpenApi — built in", "h3yun-氚云-openapi--built-in"},
		{"See [the spec](spec/x.md) now", "see-the-spec-now"},
	} {
		if got := slug(c.in); got != c.want {
			t.Errorf("slug(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestDocsStandAlone fails on a relative link that does not resolve to a file
// (and heading, when the link names one) inside the repository, and on a "§"
// reference outside the vendored specifications.
func TestDocsStandAlone(t *testing.T) {
	texts := map[string]string{}
	read := func(file string) (string, bool) {
		if s, ok := texts[file]; ok {
			return s, true
		}
		b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(file)))
		if err != nil {
			return "", false
		}
		texts[file] = string(b)
		return string(b), true
	}
	for _, file := range userDocs(t) {
		text, ok := read(file)
		if !ok {
			t.Errorf("%s: cannot read", file)
			continue
		}
		if !vendoredSpec(file) {
			for i, l := range strings.Split(text, "\n") {
				if strings.Contains(l, "§") {
					t.Errorf("%s:%d: cites a \"§\" section; describe the behaviour here or link a heading of docs/spec: %s", file, i+1, strings.TrimSpace(l))
				}
			}
		}
		lines, nums := prose(text)
		for i, l := range lines {
			for _, m := range linkRE.FindAllStringSubmatch(codeRE.ReplaceAllString(l, ""), -1) {
				target := m[1]
				if schemeRE.MatchString(target) || strings.HasPrefix(target, "//") {
					continue // an external address
				}
				where, frag, _ := strings.Cut(target, "#")
				dest := file
				if where != "" {
					if strings.HasPrefix(where, "/") {
						t.Errorf("%s:%d: link %q is absolute; use a path relative to the page", file, nums[i], target)
						continue
					}
					dest = path.Clean(path.Join(path.Dir(file), where))
					if dest == ".." || strings.HasPrefix(dest, "../") {
						t.Errorf("%s:%d: link %q leaves the repository", file, nums[i], target)
						continue
					}
					if _, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(dest))); err != nil {
						t.Errorf("%s:%d: link %q: %s does not exist", file, nums[i], target, dest)
						continue
					}
				}
				if frag == "" {
					continue
				}
				if !strings.HasSuffix(dest, ".md") {
					t.Errorf("%s:%d: link %q: an anchor into a non-Markdown file", file, nums[i], target)
					continue
				}
				dt, ok := read(dest)
				if !ok {
					t.Errorf("%s:%d: link %q: cannot read %s", file, nums[i], target, dest)
					continue
				}
				if !anchors(dt)[frag] {
					t.Errorf("%s:%d: link %q: %s has no heading with anchor #%s", file, nums[i], target, dest, frag)
				}
			}
		}
	}
}

// TestNoSectionSignsUsersMeet fails on a "§" in the example configuration or
// in a string of the hub's Go code (error messages, swagger descriptions,
// log lines): the specifications those cite are only in docs/spec.
func TestNoSectionSignsUsersMeet(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "config", "eimshub.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "§") {
			t.Errorf("config/eimshub.example.yaml:%d: cites a \"§\" section: %s", i+1, strings.TrimSpace(l))
		}
	}
	fset := token.NewFileSet()
	err = filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != repoRoot && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin" || name == "data") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && strings.Contains(lit.Value, "§") {
				t.Errorf("%s: a string users may read cites a \"§\" section: %s", fset.Position(lit.Pos()), lit.Value)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
