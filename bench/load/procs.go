package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"gopkg.in/yaml.v3"
)

// pprofTag builds the hub with cmd/eimshub/pprof_bench.go, which serves
// net/http/pprof on $EIMSHUB_BENCH_PPROF (only for `serve`, only when set).
const pprofTag = "eimshub_pprof"

// buildHub compiles ./cmd/eimshub of the checkout at root into dir.
func buildHub(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "eimshub")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", pprofTag, "-o", bin, "./cmd/eimshub")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/eimshub: %w", err)
	}
	return bin, nil
}

// writeConfigs writes the example config with the rate limits out of the
// way and logging at error level, once per H3Yun isolation mode
// (hub-process.yaml, hub-inproc.yaml), as the shared hubbench.sh does, and
// once more with the plugin process's answer reuse off (hub-fresh.yaml).
func writeConfigs(root, dir string) error {
	raw, err := os.ReadFile(filepath.Join(root, "config", "eimshub.example.yaml"))
	if err != nil {
		return err
	}
	for _, mode := range []string{"process", "inproc", "fresh"} {
		var cfg map[string]any
		if err := yaml.Unmarshal(raw, &cfg); err != nil {
			return fmt.Errorf("example config: %w", err)
		}
		limits, _ := cfg["limits"].(map[string]any)
		if limits == nil {
			limits = map[string]any{}
			cfg["limits"] = limits
		}
		limits["defaultRate"] = "10000000-S"
		// The token rows (eoffice.go) call the token endpoints in a loop.
		limits["tokenEndpointRate"] = "10000000-S"
		limits["tokenEndpointIPRate"] = "10000000-S"
		cfg["log"] = map[string]any{"level": "error", "format": "text"}
		tenants, _ := cfg["tenants"].([]any)
		for _, t := range tenants {
			tm, _ := t.(map[string]any)
			clients, _ := tm["clients"].([]any)
			for _, c := range clients {
				if cm, ok := c.(map[string]any); ok {
					cm["rateLimit"] = "10000000-S"
					// Per-connector rates of a client (an e-office app's
					// rate) would override it.
					if cr, ok := cm["connectorRates"].(map[string]any); ok {
						for k := range cr {
							cr[k] = "10000000-S"
						}
					}
				}
			}
		}
		conns, _ := cfg["connectors"].(map[string]any)
		h3, _ := conns["h3yun"].(map[string]any)
		if h3 == nil {
			return fmt.Errorf("example config has no connectors.h3yun")
		}
		iso := mode
		if mode == "fresh" {
			// A plugin process that never reuses an answer: every read
			// crosses the boundary (what a request not seen before costs).
			iso = "process"
			h3c, _ := h3["config"].(map[string]any)
			if h3c == nil {
				h3c = map[string]any{}
				h3["config"] = h3c
			}
			h3c["readCacheBytes"] = -1
		}
		h3["isolation"] = iso
		// The Redis hub runs the embedded store with a Redis cache on one
		// machine, which the hub refuses unless allowed (split data).
		storage, _ := cfg["storage"].(map[string]any)
		if storage == nil {
			storage = map[string]any{}
			cfg["storage"] = storage
		}
		storage["allowSplitData"] = true
		out, err := yaml.Marshal(cfg)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "hub-"+mode+".yaml"), out, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// child is a started server process.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// stop sends SIGTERM (the hub shuts its plugin processes down), then
// SIGKILL after 10 s.
func (c *child) stop() {
	if c == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

func startChild(name, logPath string, env []string, bin string, args ...string) (*child, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); lf.Close(); close(c.done) }()
	return c, nil
}

// waitHTTP polls url until it answers 200, the child exits or 30 s pass.
func waitHTTP(c *child, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			tail, _ := os.ReadFile(c.log)
			return fmt.Errorf("%s exited: %s", c.name, lastLines(string(tail), 15))
		default:
		}
		if res, err := http.Get(url); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer %s within 30 s (log: %s)", c.name, url, c.log)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// hub is a running hub process.
type hub struct {
	*child
	base      string // http://127.0.0.1:port
	pprofAddr string
	connPprof string // the h3yun connector process's pprof address
	token     string // demo-client / admin bearer token
	recordID  string // a seeded contract
}

// stop stops the hub process; a nil hub is a no-op.
func (h *hub) stop() {
	if h != nil {
		h.child.stop()
	}
}

// startHub starts bin serve with cfg on a free port and its own data dir.
func startHub(bin, work, name, cfg string, extraEnv ...string) (*hub, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	paddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	caddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := append([]string{
		"EIMSHUB_LISTEN=" + addr,
		"EIMSHUB_DATA_DIR=" + filepath.Join(work, "data-"+name),
		"EIMSHUB_BENCH_PPROF=" + paddr,
		// The connector runs from the hub binary here (no eimshub-connector
		// next to it), built with the same tag: it serves pprof too.
		"EIMSHUB_BENCH_PPROF_CONNECTOR=h3yun=" + caddr,
	}, extraEnv...)
	c, err := startChild("hub "+name, filepath.Join(work, name+".log"), env, bin, "serve", "--config", cfg)
	if err != nil {
		return nil, err
	}
	h := &hub{child: c, base: "http://" + addr, pprofAddr: paddr, connPprof: caddr}
	if err := waitHTTP(c, h.base+"/healthz"); err != nil {
		c.stop()
		return nil, err
	}
	return h, nil
}

// seed logs in as the demo admin and creates 61 contract records (one named
// "bench" plus 60 more, so a 50-row page is full).
func (h *hub) seed() error {
	form := url.Values{"grant_type": {"password"}, "client_id": {"demo-client"}, "client_secret": {"demo-secret"},
		"username": {"admin"}, "password": {"admin-pass"}}
	res, err := http.PostForm(h.base+"/connect/token", form)
	if err != nil {
		return err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if err != nil || tok.AccessToken == "" {
		return fmt.Errorf("login: HTTP %d, %v", res.StatusCode, err)
	}
	h.token = tok.AccessToken
	create := func(body string) (string, error) {
		req, _ := http.NewRequest("POST", h.base+"/api/v1/contract", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+h.token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			return "", fmt.Errorf("create contract: HTTP %d %s", res.StatusCode, raw)
		}
		var out struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &out); err != nil || out.ID == "" {
			return "", fmt.Errorf("create contract: %s", raw)
		}
		return out.ID, nil
	}
	if h.recordID, err = create(`{"title":"bench","party":"ACME","amount":12}`); err != nil {
		return err
	}
	for i := 1; i <= 60; i++ {
		if _, err := create(fmt.Sprintf(`{"title":"r%d","amount":%d}`, i, i)); err != nil {
			return err
		}
	}
	return nil
}

// fetchProfile fetches a CPU profile of secs seconds from the pprof
// endpoint at addr (the hub's, or the h3yun connector process's) into path.
func fetchProfile(addr, path string, secs int) error {
	res, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs))
	if err != nil {
		return fmt.Errorf("pprof (hub built without -tags %s?): %w", pprofTag, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("pprof: HTTP %d %s", res.StatusCode, bytes.TrimSpace(raw))
	}
	return os.WriteFile(path, raw, 0o600)
}

// startRedis runs the system redis-server on a free port without persistence.
func startRedis(work string) (*child, string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, "", fmt.Errorf("redis-server not installed (apt-get install redis-server): %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	_, port, _ := net.SplitHostPort(addr)
	c, err := startChild("redis-server", filepath.Join(work, "redis.log"), nil, bin,
		"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", work)
	if err != nil {
		return nil, "", err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_, _ = conn.Write([]byte("PING\r\n"))
			buf := make([]byte, 7)
			_ = conn.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := io.ReadFull(conn, buf)
			conn.Close()
			if string(buf[:n]) == "+PONG\r\n" {
				return c, "redis://" + addr + "/0", nil
			}
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, "", fmt.Errorf("redis-server on %s did not answer PING", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// bareHello is the bare baseline: Fiber's ceiling on this machine — a small
// JSON answer prepared once, nothing read, nothing encoded per request (the
// same handler as limitbench -mode hello of the shared yardstick).
var bareHello = []byte(`{"Successful":true,"ErrorMessage":null,"ReturnData":{"BizObject":{"ObjectId":"b1540570"}}}`)

// serveBare runs the bare Fiber handler; loadbench starts itself with
// -bare ADDR as a child process so the handler has a process of its own,
// as the hub has.
func serveBare(addr string) error {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/hello", func(c *fiber.Ctx) error {
		c.Set("Content-Type", "application/json")
		return c.Send(bareHello)
	})
	return app.Listen(addr)
}

// startBare re-executes this program as the bare handler's process.
func startBare(work string) (*child, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	c, err := startChild("bare Fiber", filepath.Join(work, "bare.log"), nil, self, "-bare", addr)
	if err != nil {
		return nil, "", err
	}
	if err := waitHTTP(c, "http://"+addr+"/hello"); err != nil {
		c.stop()
		return nil, "", err
	}
	return c, "http://" + addr, nil
}
