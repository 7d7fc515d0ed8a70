package host_test

import (
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/eimshub/eimshub/plugins/host"
	"github.com/eimshub/eimshub/plugins/sdk/example"
)

// TestSelfSHA256Pinned: the binary of a built-in connector is checked
// against the hash the hub pinned at start (Options.SelfSHA256) on every
// launch: the right hash runs, and a binary replaced while the hub runs is
// refused at the restart (no restart loop) instead of being executed.
func TestSelfSHA256Pinned(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "eimshub-connector")
	copyFile(t, os.Args[0], bin)
	sum, _ := hex.DecodeString(testBinarySHA256(t))
	self := func(string) (*exec.Cmd, error) {
		cmd := exec.Command(bin)
		cmd.Env = []string{pluginEnv + "=example"}
		return cmd, nil
	}
	f := newFixture(t, []host.Config{{ID: example.ID, Enabled: true}},
		host.Options{SelfCommand: self, SelfSHA256: sum}, nil)
	first := f.status(t, example.ID)
	if first.State != host.StateRunning || first.PID == 0 {
		t.Fatalf("with the pinned hash: %+v", first)
	}
	if a := f.do(t, "GET", "/ping", "", nil); a.Status != 200 || a.Body != "pong" {
		t.Fatalf("ping: %+v", a)
	}

	// Replace the binary (a deploy renames a new file over it; this one is
	// a runnable copy, one byte longer), then kill the plugin: the restart
	// must refuse it.
	copyFile(t, os.Args[0], bin+".new")
	w, err := os.OpenFile(bin+".new", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte{0}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replaced binary refused", func() bool { return f.status(t, example.ID).State == host.StateFailed })
	if s := f.status(t, example.ID); !strings.Contains(s.LastError, "does not match the pinned sha256 "+hex.EncodeToString(sum)) {
		t.Errorf("status = %+v", s)
	}
	if a := f.do(t, "GET", "/ping", "", nil); a.Status == 200 {
		t.Errorf("a refused plugin answered: %+v", a)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
