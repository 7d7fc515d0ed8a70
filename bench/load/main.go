// Command loadbench is the hub's HTTP load benchmark (`make bench-http`,
// part of `make bench`): in one invocation on one machine it measures a bare
// Fiber handler and the hub's hot routes — /api/v1/ping, a native GET of one
// record, a native 50-row page, the native GET with Redis tokens + limits,
// and H3Yun LoadBizObject / 50-row LoadBizObjects through the plugin process
// and in process, and the e-office routes of issue 13 next to their native
// equivalents (eoffice.go) — and prints req/s, p50, p99, the ratio to the
// bare handler and the issue-11 targets as pass/fail columns (never
// asserted).
//
//	go run ./bench/load [-d 5s] [-c 32] [-run REGEXP] [-pprof DIR]
//
// It builds the real hub (./cmd/eimshub) and starts it as a separate process
// with the example config (rate limits raised), seeds 61 contract records and
// drives it with a closed loop of -c keep-alive connections (fasthttp's
// client; latencies in HdrHistogram). The bare handler runs in a child
// process of its own too. The load generator shares the machine's CPUs with
// the server under test, as wrk does in the shared yardstick
// (../shared/bench/hubbench.sh); -procs bounds the generator's GOMAXPROCS
// (default 1, like wrk -t1). docs/BENCHMARKS.md has the figures.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// scenario is one row of the table.
type scenario struct {
	id    string
	label string
	hub   string // "" bare handler; "process", "inproc", "redis", "eoffice": which hub serves it
	// target is the issue-11 ratio to the bare handler (percent); 0: none.
	target float64
	make   func(base string, h *hub) target
}

const (
	engineCode   = "demo-engine"
	engineSecret = "demo-engine-secret"
)

func nativeGet(path string) func(string, *hub) target {
	return func(base string, h *hub) target {
		return target{method: "GET", url: base + strings.ReplaceAll(path, "{id}", h.recordID),
			headers: map[string]string{"Authorization": "Bearer " + h.token}}
	}
}

func h3yun(body map[string]any) func(string, *hub) target {
	return func(base string, h *hub) target {
		b := map[string]any{}
		for k, v := range body {
			if v == "{id}" {
				v = h.recordID
			}
			b[k] = v
		}
		raw, _ := json.Marshal(b)
		return target{method: "POST", url: base + "/OpenApi/Invoke", body: raw,
			headers: map[string]string{"Content-Type": "application/json", "EngineCode": engineCode, "EngineSecret": engineSecret},
			okBody:  []byte(`"Successful":true`)}
	}
}

var (
	h3Get  = map[string]any{"ActionName": "LoadBizObject", "SchemaCode": "contract", "BizObjectId": "{id}"}
	h3Page = map[string]any{"ActionName": "LoadBizObjects", "SchemaCode": "contract",
		"Filter": `{"FromRowNum":0,"ToRowNum":50,"SortByCollection":[{"ItemName":"amount","Direction":"Descending"}]}`}
	page50 = "/api/v1/contract?$top=50&$orderby=data/amount%20desc"
)

// scenarios in the order they run; the hub of a group is started once.
var scenarios = []scenario{
	{"bare", "bare Fiber handler (GET /hello, JSON)", "", 0, func(base string, _ *hub) target {
		return target{method: "GET", url: base + "/hello"}
	}},
	{"ping", "GET /api/v1/ping (no auth)", "process", 0, func(base string, _ *hub) target {
		return target{method: "GET", url: base + "/api/v1/ping"}
	}},
	{"native-get", "native GET record", "process", 35, nativeGet("/api/v1/contract/{id}")},
	{"native-page50", "native 50-row page", "process", 5, nativeGet(page50)},
	{"h3-get-process", "H3Yun LoadBizObject, plugin process", "process", 12, h3yun(h3Get)},
	{"h3-page50-process", "H3Yun LoadBizObjects 50, plugin process", "process", 5, h3yun(h3Page)},
	{"h3-get-fresh", "H3Yun LoadBizObject, plugin process, no answer reuse", "fresh", 0, h3yun(h3Get)},
	{"h3-page50-fresh", "H3Yun LoadBizObjects 50, plugin process, no answer reuse", "fresh", 0, h3yun(h3Page)},
	{"h3-get-inproc", "H3Yun LoadBizObject, inproc", "inproc", 25, h3yun(h3Get)},
	{"h3-page50-inproc", "H3Yun LoadBizObjects 50, inproc", "inproc", 5, h3yun(h3Page)},
	{"redis-native-get", "native GET record, Redis tokens+limits", "redis", 25, nativeGet("/api/v1/contract/{id}")},
	{"redis-h3-get-process", "H3Yun LoadBizObject, process, Redis", "redis", 12, h3yun(h3Get)},
	{"bare-end", "bare Fiber handler, again at the end", "", 0, func(base string, _ *hub) target {
		return target{method: "GET", url: base + "/hello"}
	}},
}

// isBare tells the baseline rows: the bare handler is measured first and
// last, and ratios use the mean of the two, so that drift of a shared
// machine during the run weighs less.
func isBare(id string) bool { return id == "bare" || id == "bare-end" }

type options struct {
	dur, warmup  time.Duration
	conns, procs int
	run          *regexp.Regexp
	pprofDir     string
	pprofRoutes  map[string]bool
	root, work   string
	keep         bool
}

func main() {
	var (
		o       options
		runExpr string
		prof    string
		bare    string
	)
	flag.DurationVar(&o.dur, "d", 5*time.Second, "measured duration per route")
	flag.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "unmeasured warm-up per route")
	flag.IntVar(&o.conns, "c", 32, "concurrent keep-alive connections (closed loop)")
	flag.IntVar(&o.procs, "procs", 1, "GOMAXPROCS of the load generator (1 ≈ wrk -t1)")
	flag.StringVar(&runExpr, "run", "", "only the scenarios whose id matches this regexp (ids: bare, ping, native-get, …)")
	flag.StringVar(&o.pprofDir, "pprof", "", "write a CPU profile of the hub for the -pprof-routes into DIR and print go tool pprof -top")
	flag.StringVar(&prof, "pprof-routes", "native-get,h3-get-inproc", "scenario ids profiled with -pprof")
	flag.StringVar(&o.root, "root", "", "checkout to build the hub from (default: the module root above the working directory)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (hub logs, configs, data)")
	flag.StringVar(&bare, "bare", "", "internal: serve the bare Fiber handler on ADDR")
	flag.Parse()
	if bare != "" {
		if err := serveBare(bare); err != nil {
			fmt.Fprintln(os.Stderr, "loadbench -bare:", err)
			os.Exit(1)
		}
		return
	}
	var err error
	if o.run, err = regexp.Compile(runExpr); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench: -run:", err)
		os.Exit(2)
	}
	o.pprofRoutes = map[string]bool{}
	for _, id := range strings.Split(prof, ",") {
		o.pprofRoutes[strings.TrimSpace(id)] = true
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

// moduleRoot walks up from the working directory to the eimshub go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if raw, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			strings.Contains(string(raw), "module github.com/eimshub/eimshub\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside an eimshub checkout (use -root)")
		}
		dir = parent
	}
}

type row struct {
	sc  scenario
	res result
	err error
	cpu time.Duration // server CPU over the measured window (cpu.go)
}

func run(ctx context.Context, o options, out io.Writer) (err error) {
	runtime.GOMAXPROCS(o.procs)
	if o.root == "" {
		if o.root, err = moduleRoot(); err != nil {
			return err
		}
	}
	if o.work, err = os.MkdirTemp("", "loadbench-"); err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "loadbench: work directory", o.work)
	} else {
		defer os.RemoveAll(o.work)
	}
	if o.pprofDir != "" {
		if err := os.MkdirAll(o.pprofDir, 0o755); err != nil {
			return err
		}
	}
	needs := map[string]bool{}
	for _, sc := range scenarios {
		if o.run.MatchString(sc.id) {
			needs[sc.hub] = true
		}
	}
	var bin string
	if len(needs) > 1 || !needs[""] { // any row with a hub (not only the bare handler)
		fmt.Fprintln(os.Stderr, "loadbench: building the hub …")
		if bin, err = buildHub(ctx, o.root, o.work); err != nil {
			return err
		}
		if err := writeConfigs(o.root, o.work); err != nil {
			return err
		}
	}
	var redisURL string
	if needs["redis"] {
		rc, url, err := startRedis(o.work)
		if err != nil {
			return err
		}
		defer rc.stop()
		redisURL = url
	}

	fmt.Fprintf(out, "# loadbench %s: closed loop, %d connections, %s per route (+%s warm-up); %d cores, generator GOMAXPROCS %d; load average %s; checkout %s\n\n",
		time.Now().UTC().Format(time.RFC3339), o.conns, o.dur, o.warmup, runtime.NumCPU(), o.procs, loadavg(), commit(o.root))
	var rows []row
	var profiles []string
	var cur *hub
	curGroup := ""
	defer func() { cur.stop() }()
	for _, sc := range scenarios {
		if !o.run.MatchString(sc.id) {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var base string
		var bareProc *child
		switch {
		case sc.hub == "":
			var addr string
			if bareProc, addr, err = startBare(o.work); err != nil {
				return err
			}
			base = addr
		default:
			if cur == nil || curGroup != sc.hub {
				cur.stop()
				cur = nil
				cfg := filepath.Join(o.work, "hub-process.yaml")
				var env []string
				switch sc.hub {
				case "inproc", "fresh":
					cfg = filepath.Join(o.work, "hub-"+sc.hub+".yaml")
				case "redis":
					env = append(env, "EIMSHUB_REDIS_URL="+redisURL)
				}
				if gc := groupConfigs[sc.hub]; gc != nil {
					if cfg, err = gc(o.work); err != nil {
						return err
					}
				}
				if cur, err = startHub(bin, o.work, sc.hub, cfg, env...); err != nil {
					return err
				}
				curGroup = sc.hub
				if err := cur.seed(); err != nil {
					return fmt.Errorf("seed hub %s: %w", sc.hub, err)
				}
				if s := groupSeeders[sc.hub]; s != nil {
					if err := s(cur); err != nil {
						return fmt.Errorf("seed hub %s: %w", sc.hub, err)
					}
				}
			}
			base = cur.base
		}
		r := row{sc: sc}
		t := sc.make(base, cur)
		if err := once(t); err != nil {
			r.err = fmt.Errorf("first request: %w", err)
		} else {
			// A CPU profile of the hub over the measured window and, for
			// out-of-process H3Yun rows, of the connector process too.
			var profs []*profileJob
			if o.pprofDir != "" && cur != nil && sc.hub != "" && o.pprofRoutes[sc.id] {
				profs = append(profs, startProfile(cur.pprofAddr, sc.id, filepath.Join(o.pprofDir, sc.id+".pprof"), o))
				if strings.HasPrefix(sc.id, "h3-") && (sc.hub == "process" || sc.hub == "fresh") {
					profs = append(profs, startProfile(cur.connPprof, sc.id+" (connector process)",
						filepath.Join(o.pprofDir, sc.id+".connector.pprof"), o))
				}
			}
			serverPID := 0
			if bareProc != nil {
				serverPID = bareProc.cmd.Process.Pid
			} else if cur != nil {
				serverPID = cur.cmd.Process.Pid
			}
			cpuDone := measureCPU(serverPID, o.warmup, o.dur)
			r.res, r.err = closedLoop(ctx, t, o.conns, o.warmup, o.dur)
			r.cpu = <-cpuDone
			for _, p := range profs {
				if perr := <-p.done; perr != nil {
					fmt.Fprintln(os.Stderr, "loadbench: profile", p.label+":", perr)
				} else {
					profiles = append(profiles, p.label+"\t"+p.path)
				}
			}
		}
		if bareProc != nil {
			bareProc.stop()
		}
		if r.err == nil {
			fmt.Fprintf(os.Stderr, "loadbench: %-22s %8.0f req/s\n", sc.id, r.res.rps())
		} else {
			fmt.Fprintf(os.Stderr, "loadbench: %-22s %v\n", sc.id, r.err)
		}
		rows = append(rows, r)
	}
	cur.stop()
	cur = nil
	var bare float64
	var nbare int
	for _, r := range rows {
		if isBare(r.sc.id) && r.err == nil {
			bare += r.res.rps()
			nbare++
		}
	}
	if nbare > 0 {
		bare /= float64(nbare)
	}
	fmt.Fprintln(out, "| route | req/s | p50 | p99 | of bare | target | p99 ≤ 10×p50 | failed | server CPU/req |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---|---|---:|---:|")
	for _, r := range rows {
		printRow(out, r, bare)
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "\"of bare\": ratio to the mean of the bare handler's two rows (%.0f req/s). Targets (issue 11) are ratios in this run;\n", bare)
	fmt.Fprintln(out, "p99 ≤ 10×p50 applies to every route. Printed, not asserted.")
	for _, p := range profiles {
		id, path, _ := strings.Cut(p, "\t")
		for _, mode := range []string{"-flat", "-cum"} {
			top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", mode, "-nodecount=15", bin, path).CombinedOutput()
			fmt.Fprintf(out, "\n## CPU profile (the hub unless said): %s, top 15 %s (%s)\n\n```\n%s```\n", id, mode[1:], path, top)
			if err != nil {
				fmt.Fprintln(os.Stderr, "loadbench: go tool pprof:", err)
			}
		}
	}
	return nil
}

func printRow(out io.Writer, r row, bare float64) {
	if r.err != nil {
		fmt.Fprintf(out, "| %s | — | — | — | — | — | — | error: %v | — |\n", r.sc.label, r.err)
		return
	}
	rps := r.res.rps()
	p50, p99 := r.res.quantile(50), r.res.quantile(99)
	ratio, target := "—", "—"
	if bare > 0 {
		pct := 100 * rps / bare
		ratio = fmt.Sprintf("%.1f%%", pct)
		if r.sc.target > 0 {
			target = fmt.Sprintf("≥ %.0f%% %s", r.sc.target, passFail(pct >= r.sc.target))
		}
	}
	tail := fmt.Sprintf("%.1f× %s", float64(p99)/float64(max(p50, time.Microsecond)), passFail(p99 <= 10*p50))
	failed := fmt.Sprint(r.res.failures)
	if r.res.failures > 0 {
		failed += " (" + r.res.firstErr + ")"
	}
	cpu := "—"
	if r.cpu > 0 && r.res.requests > 0 {
		cpu = fmt.Sprintf("%.0f µs", float64(r.cpu.Microseconds())/float64(r.res.requests))
	}
	label := r.sc.label
	if r.res.capped {
		label += fmt.Sprintf(" (-writes cap: %.1f s measured)", r.res.elapsed.Seconds())
	}
	fmt.Fprintf(out, "| %s | %.0f | %s | %s | %s | %s | %s | %s | %s |\n",
		label, rps, fmtDur(p50), fmtDur(p99), ratio, target, tail, failed, cpu)
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "**FAIL**"
}

func fmtDur(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func loadavg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func commit(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

// profileJob is a CPU profile being taken over a row's measured window.
type profileJob struct {
	label, path string
	done        chan error
}

// startProfile fetches a CPU profile from the pprof endpoint at addr into
// path, from the end of the warm-up for the measured duration.
func startProfile(addr, label, path string, o options) *profileJob {
	p := &profileJob{label: label, path: path, done: make(chan error, 1)}
	secs := max(1, int(o.dur/time.Second))
	go func() {
		time.Sleep(o.warmup)
		p.done <- fetchProfile(addr, path, secs)
	}()
	return p
}
