package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A doc block is a fenced shell block of a Markdown page marked runnable by
// an HTML comment line `<!-- doctest -->` right before its fence, optionally
// followed by `<!-- expect: TEXT -->` lines: TEXT must appear in what the
// block prints (stdout and stderr). Blocks read the hub's address from
// ${HUB:-http://127.0.0.1:8080}, so they stay paste-able against `make run`.
type docBlock struct {
	file   string
	line   int // of the opening fence
	code   string
	expect []string
}

var expectRE = regexp.MustCompile(`^<!--\s*expect:\s*(.*?)\s*-->$`)

// docBlocks extracts the marked blocks of a Markdown file, in order.
func docBlocks(t *testing.T, file string) []docBlock {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), file))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var out []docBlock
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "<!-- doctest -->" {
			continue
		}
		blk := docBlock{file: file}
		j := i + 1
		for ; j < len(lines); j++ {
			if m := expectRE.FindStringSubmatch(strings.TrimSpace(lines[j])); m != nil {
				blk.expect = append(blk.expect, m[1])
				continue
			}
			break
		}
		if j >= len(lines) || !strings.HasPrefix(lines[j], "```sh") {
			t.Fatalf("%s:%d: <!-- doctest --> is not followed by a ```sh block", file, i+1)
		}
		blk.line = j + 1
		var code []string
		for j++; j < len(lines) && !strings.HasPrefix(lines[j], "```"); j++ {
			code = append(code, lines[j])
		}
		if j >= len(lines) {
			t.Fatalf("%s:%d: unterminated block", file, blk.line)
		}
		blk.code = strings.Join(code, "\n")
		out = append(out, blk)
		i = j
	}
	return out
}

// shellSession runs the blocks of one page one after another, each in its
// own `bash` with `set -eo pipefail`, carrying the variables and functions a
// block defines into the next (as pasting them into one terminal would).
type shellSession struct {
	t        *testing.T
	dir      string // working directory of every block
	state    string // file: declare -p / declare -f of what the blocks defined
	env      []string
	baseline string // variables bash has before any block ran
}

func newShellSession(t *testing.T, hub string) *shellSession {
	t.Helper()
	dir := t.TempDir()
	s := &shellSession{t: t, dir: dir, state: filepath.Join(dir, ".doctest-state"),
		env: append(os.Environ(), "HUB="+hub)}
	if err := os.WriteFile(s.state, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", "compgen -v")
	cmd.Env = append(s.env, "DOCTEST_BASELINE=")
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash: %v", err)
	}
	s.baseline = " " + strings.Join(strings.Fields(string(b)), " ") + " "
	return s
}

const saveState = `
for __v in $(compgen -v); do
  case "$DOCTEST_BASELINE" in *" $__v "*) continue;; esac
  case "$__v" in __v|BASH*|FUNCNAME|PIPESTATUS|_) continue;; esac
  declare -p "$__v"
done >"$DOCTEST_STATE.new"
declare -f >>"$DOCTEST_STATE.new"
mv "$DOCTEST_STATE.new" "$DOCTEST_STATE"
`

// run executes one block and checks its exit status and expectations.
func (s *shellSession) run(b docBlock) {
	s.t.Helper()
	script := "set -eo pipefail\nsource \"$DOCTEST_STATE\"\n" + b.code + "\n" + saveState
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = s.dir
	cmd.Env = append(s.env, "DOCTEST_STATE="+s.state, "DOCTEST_BASELINE="+s.baseline)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	where := fmt.Sprintf("%s:%d", b.file, b.line)
	if testing.Verbose() {
		s.t.Logf("%s:\n%s", where, out.String())
	}
	if err != nil {
		s.t.Errorf("%s: the block does not run as pasted (%v); output:\n%s\nblock:\n%s", where, err, out.String(), b.code)
		return
	}
	for _, want := range b.expect {
		if !strings.Contains(out.String(), want) {
			s.t.Errorf("%s: the output lacks %q; output:\n%s", where, want, out.String())
		}
	}
}

// TestDocBlocks runs the marked shell blocks of README.md and docs/FLOWS.md
// with bash and curl against a real hub (the example config, as `make run`
// starts it, with its H3Yun connector process), in the order a reader pastes
// them. Blocks left unmarked need what a test cannot give: `make run` itself,
// a real SMS gateway, a second instance with MongoDB, an installed config
// under /etc, or a plugin module build.
func TestDocBlocks(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			// The README promises these work as pasted: without them the
			// promise is untested, which is a failure, not a skip (.ci/run
			// installs curl where it is missing).
			t.Fatalf("%s not installed: %v", tool, err)
		}
	}
	h := startHub(t, t.TempDir(), nil)
	for _, file := range []string{"README.md", "docs/FLOWS.md", "connectors/eoffice/README.md", "connectors/eoffice/FLOWS.md", "connectors/dabei/README.md"} {
		blocks := docBlocks(t, file)
		if len(blocks) == 0 {
			t.Errorf("%s: no <!-- doctest --> blocks", file)
		}
		s := newShellSession(t, h.base)
		for _, b := range blocks {
			s.run(b)
		}
	}
}
