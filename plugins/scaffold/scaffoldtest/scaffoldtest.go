// Package scaffoldtest runs the go command on a generated connector module
// the way a plugin author's machine would, but hermetically: the outcome
// depends on the module's go.mod and go.sum and on the hub checkout, never on
// what else the machine's module cache happens to hold.
//
// How: the build gets a private, empty GOMODCACHE and the only "proxy" it
// may fetch from is the machine's module cache download directory
// (GOPROXY=file://…/cache/download), with -mod=readonly (go.mod and go.sum
// must already be complete; nothing is added), GOSUMDB=off (every file is
// checked against the generated go.sum instead) and no network. Before that,
// Seed loads the hub's own plugins/sdk packages (and their tests) with the
// environment's settings: on a warm or offline machine that is a no-op, on
// a cold CI cache it fetches exactly what building the hub needs. So the
// generated module builds offline if and only if the hub's SDK does.
package scaffoldtest

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	seedOnce sync.Once
	seedErr  string
)

// Seed makes sure the machine's module cache holds what the hub checkout at
// root needs to build and test plugins/sdk/..., with the environment's own
// GOPROXY/GOFLAGS (a no-op when the cache is warm). It fails the test when
// the hub itself cannot load those packages: then no scaffold could build.
func Seed(t testing.TB, root string) {
	t.Helper()
	seedOnce.Do(func() {
		cmd := exec.Command("go", "list", "-deps", "-test", "./plugins/sdk/...")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			seedErr = err.Error() + "\n" + string(out)
		}
	})
	if seedErr != "" {
		t.Fatalf("the hub's own plugins/sdk packages do not load from this machine's module cache: %s", seedErr)
	}
}

// Env returns the environment for a hermetic go command: a private module
// cache under t.TempDir(), the machine's module cache as the only proxy,
// read-only go.mod, no checksum database, no workspace, local toolchain.
// -trimpath keeps build-cache hits across runs (each run's module cache has a
// new path); -modcacherw lets t.TempDir() remove the private cache.
func Env(t testing.TB) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOMODCACHE: %v", err)
	}
	download := filepath.Join(strings.TrimSpace(string(out)), "cache", "download")
	p := filepath.ToSlash(download)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // file:///C:/... on Windows
	}
	proxy := (&url.URL{Scheme: "file", Path: p}).String()
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "GOFLAGS", "GOPROXY", "GOMODCACHE", "GOSUMDB", "GONOSUMDB", "GONOSUMCHECK", "GOPRIVATE",
			"GONOPROXY", "GOINSECURE", "GOWORK", "GOTOOLCHAIN", "GOVCS":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"GOMODCACHE="+t.TempDir(),
		"GOPROXY="+proxy,
		"GOSUMDB=off",
		"GOFLAGS=-mod=readonly -modcacherw -trimpath",
		"GOWORK=off",
		"GOTOOLCHAIN=local",
	)
}

// Runner runs the go command hermetically (see the package comment).
type Runner struct {
	t   testing.TB
	env []string
}

// New seeds the machine's module cache from the hub checkout at root (Seed)
// and returns a Runner whose commands share one private module cache.
func New(t testing.TB, root string) *Runner {
	t.Helper()
	Seed(t, root)
	return &Runner{t: t, env: Env(t)}
}

// Go runs `go args...` in dir and fails the test with the output when it
// fails; it returns the output.
func (r *Runner) Go(dir string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = r.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}
