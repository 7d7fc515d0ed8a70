package main

// Connector commands and wiring (issue 4):
//
//	eimshub connector ID            serve built-in connector ID as a plugin (the hub runs
//	                                this when eimshub-connector is absent: builtin_runner.go)
//	eimshub plugin new NAME [--repo DIR] [--dir DIR]
//	                                scaffold a connector module in ./NAME
//
// and startConnectors, which launches cfg.Connectors, mounts their routes and
// serves GET /admin/connectors.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"
	"gopkg.in/yaml.v3"

	"github.com/eimshub/eimshub/config"
	_ "github.com/eimshub/eimshub/connectors/builtin" // registers the built-in connectors
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/httpapi"
	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/plugins/host"
	"github.com/eimshub/eimshub/plugins/scaffold"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// hubModule is the hub's Go module path; `plugin new` looks for its go.mod.
const hubModule = "github.com/eimshub/eimshub"

// runConnectorCmd runs `eimshub connector ID` (args: what follows
// "connector"): it serves the registered built-in connector ID over
// go-plugin until the hub stops it. Run by hand it prints go-plugin's hint.
func runConnectorCmd(args []string, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "" || strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "usage: eimshub connector ID   (built in: %s)\n", strings.Join(sdk.Registered(), ", "))
		return 2
	}
	if err := sdk.ServeBuiltin(args[0]); err != nil {
		fmt.Fprintln(stderr, "eimshub connector:", err)
		return 1
	}
	return 0
}

// runPluginCmd runs `eimshub plugin SUBCOMMAND` (args: what follows "plugin").
func runPluginCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "new" {
		fmt.Fprint(stderr, "usage: eimshub plugin new NAME [--repo DIR] [--dir DIR]\n")
		return 2
	}
	return runPluginNew(args[1:], stdout, stderr)
}

// runPluginNew runs `eimshub plugin new NAME` (args: what follows "new";
// flags may come before or after NAME). It writes a connector module into
// --dir (default ./NAME) that builds offline against the hub checkout
// --repo (default: the current directory or the nearest parent whose go.mod
// is the hub's module).
func runPluginNew(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plugin new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	repo := fs.String("repo", "", "the hub checkout the module builds against (default: the current directory or a parent holding the hub's go.mod)")
	dir := fs.String("dir", "", "where to write the module (default ./NAME)")
	var names []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(names) != 1 {
		fmt.Fprint(stderr, "usage: eimshub plugin new NAME [--repo DIR] [--dir DIR]\n")
		return 2
	}
	name := names[0]
	root := *repo
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			fmt.Fprintln(stderr, "eimshub plugin new:", err)
			return 1
		}
		if root = findHubRoot(wd); root == "" {
			fmt.Fprintf(stderr, "eimshub plugin new: %s is not inside an EIMS Hub checkout (module %s); pass --repo DIR\n", wd, hubModule)
			return 1
		}
	}
	root, err := filepath.Abs(root)
	if err != nil {
		fmt.Fprintln(stderr, "eimshub plugin new:", err)
		return 1
	}
	out := *dir
	if out == "" {
		out = name
	}
	if out, err = filepath.Abs(out); err != nil {
		fmt.Fprintln(stderr, "eimshub plugin new:", err)
		return 1
	}
	// A module written into the hub's checkout would sit there untracked
	// (and in the way of the hub's own git status); the default never does
	// that: only an explicit --dir may point inside it.
	if *dir == "" && within(root, out) {
		fmt.Fprintf(stderr, "eimshub plugin new: %s is inside the hub checkout %s; pass --dir DIR to write the module elsewhere (e.g. --dir %s), or --dir %s to write it there anyway\n",
			out, root, filepath.Join(filepath.Dir(root), name), name)
		return 1
	}
	if err := scaffold.Generate(out, name, root); err != nil {
		fmt.Fprintln(stderr, "eimshub plugin new:", err)
		return 1
	}
	fmt.Fprintf(stdout, `connector %[1]s written to %[2]s (builds against %[3]s)

  cd %[2]s
  go test ./... && go build -o eimshub-%[1]s . && sha256sum eimshub-%[1]s

then enable it in the hub's YAML (a relative command is resolved from the hub's working
directory, not from the YAML file's: this one is absolute):

  connectors:
    %[1]s: { enabled: true, command: %[4]s, sha256: "<hex>", mount: /%[1]s }
`, name, out, root, filepath.Join(out, "eimshub-"+name))
	return 0
}

// within reports whether path is dir or lies below it (both absolute).
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// findHubRoot returns dir or its nearest parent whose go.mod declares the
// hub's module, or "".
func findHubRoot(dir string) string {
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && isHubGoMod(b) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func isHubGoMod(b []byte) bool {
	for line := range bytes.Lines(b) {
		if f := strings.Fields(string(line)); len(f) == 2 && f[0] == "module" && strings.Trim(f[1], `"`) == hubModule {
			return true
		}
	}
	return false
}

// connectorConfigs maps the YAML's connectors (sorted by id, so start-up and
// /admin/connectors are in a stable order) to the plugin manager's configs.
// A connector's `config:` node is handed to it as JSON.
func connectorConfigs(cfg *config.Config) ([]host.Config, error) {
	ids := make([]string, 0, len(cfg.Connectors))
	for id := range cfg.Connectors {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]host.Config, 0, len(ids))
	for _, id := range ids {
		cn := cfg.Connectors[id]
		raw, err := nodeJSON(&cn.Config)
		if err != nil {
			return nil, fmt.Errorf("connectors.%s.config: %w", id, err)
		}
		iso := host.Process
		if cn.Isolation == config.IsolationInproc {
			iso = host.InProc
		}
		out = append(out, host.Config{ID: id, Enabled: cn.Enabled, Command: cn.Command, SHA256: strings.ToLower(cn.SHA256),
			Mount: cn.Mount, Isolation: iso, Config: raw, Timeout: cn.Timeout.Std(), MaxInFlight: cn.MaxInFlight,
			RateLimitStatus: cn.RateLimitStatus})
	}
	return out, nil
}

// needsBuiltinProcess reports whether an enabled built-in connector runs as
// a plugin process.
func needsBuiltinProcess(cfgs []host.Config) bool {
	for _, c := range cfgs {
		if c.Enabled && c.Command == "" && c.Isolation == host.Process {
			return true
		}
	}
	return false
}

// nodeJSON encodes a YAML node as JSON (nil for an absent or null node).
func nodeJSON(n *yaml.Node) (json.RawMessage, error) {
	if n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// startConnectors launches cfg.Connectors over the real core (host.NewBridge),
// mounts their routes on app and serves GET /admin/connectors (requireAdmin
// decides who may see it: the hub operators, see operatorOnly). Each route's declared scheme is enforced before
// the plugin hop: bearer routes by authenticate, client-secret routes
// (H3Yun's EngineCode/EngineSecret) by the identity service's VerifyClient
// with failed checks throttled per source IP (limits.authFailureIPRate);
// then deps.Limits counts the request against the verified client (its
// `<client>@<connector>` rate applies), or the source IP on routes whose
// caller the host does not identify (host.LimitKey). deps nil or without
// Limits means no limit. A connector that fails to start is logged and
// reported at /admin/connectors; it does not stop the hub. The returned
// closer drains in-flight connector requests until its ctx ends, then
// stops the plugins; call it after the HTTP server has stopped. edge (may
// be nil) is pointed at the manager once the routes are mounted, so the
// errors the HTTP edge renders on a connector's paths use its envelope.
func startConnectors(ctx context.Context, cfg *config.Config, app *fiber.App, svc host.Services,
	authenticate func(*fiber.Ctx) (*principal.Principal, error), deps *httpapi.Deps,
	requireAdmin func(*fiber.Ctx) error, log *slog.Logger, edge *edgeErrors) (closer func(context.Context) error, err error) {
	cfgs, err := connectorConfigs(cfg)
	if err != nil {
		return nil, err
	}
	// Built-in connector processes get the hub's garbage collector target
	// (a GOGC in the hub's environment is inherited and wins).
	opts := host.Options{Logger: log, BuiltinEnv: []string{"GOGC=" + strconv.Itoa(cfg.Server.GCPercent)}}
	if needsBuiltinProcess(cfgs) {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("locate the hub binary: %w", err)
		}
		self, _ := debug.ReadBuildInfo()
		r, err := resolveBuiltinRunner(cfg.BuiltinConnectors, exe, self, log)
		if err != nil {
			return nil, err
		}
		if r.Path != "" {
			opts.SelfCommand, opts.SelfSHA256 = r.command, r.SHA256
		}
	}
	m, err := host.New(cfgs, host.NewBridge(svc), opts)
	if err != nil {
		return nil, err
	}
	if ids := cfg.ConnectorIDs(); len(ids) > 0 {
		log.Info("starting connectors", "ids", strings.Join(ids, ","))
	}
	m.Start(ctx)
	auth := host.Auth{Bearer: authenticate}
	if svc.Identity != nil {
		auth.Clients = svc.Identity
	}
	var limit fiber.Handler
	if deps != nil && deps.Limits != nil {
		limit = httpapi.RateLimit(deps, host.LimitKey)
		if c, ok := deps.Limits.(host.Counter); ok {
			auth.Failures = host.FailureLimits(c)
		}
	}
	for id, cn := range cfg.Connectors {
		if cn.ClientHeader != "" {
			log.Warn("connectors.*.clientHeader is deprecated and ignored: routes declare their credentials and the limiter counts the verified client",
				"connector", id)
		}
	}
	m.Mount(app, auth, limit)
	if edge != nil {
		edge.m.Store(m)
	}
	app.Get("/admin/connectors", host.AdminHandler(m, requireAdmin))
	if deps != nil && deps.Ready != nil {
		// The same map the /readyz handler reads (httpapi.New keeps it); filled
		// before the hub listens.
		for _, id := range cfg.ConnectorIDs() {
			deps.Ready["connector:"+id] = connectorCheck{m: m, id: id, optional: cfg.Connectors[id].Optional}
		}
	}
	logConnectorStates(log, m, cfg)
	return m.Close, nil
}

// edgeErrors is httpapi.Options.EdgeError for a hub whose connectors are
// mounted after the HTTP app is built: the plugin host's Manager.EdgeError
// once set, the native envelope before.
type edgeErrors struct{ m atomic.Pointer[host.Manager] }

func (e *edgeErrors) render(c *fiber.Ctx, err error) bool {
	m := e.m.Load()
	return m != nil && m.EdgeError(c, err)
}

// connectorCheck is one enabled connector as /readyz sees it: ready while
// running; failed or restarting fails readiness unless the connector is
// marked optional (httpapi.OptionalChecker).
type connectorCheck struct {
	m        *host.Manager
	id       string
	optional bool
}

func (c connectorCheck) Ping(context.Context) error { return c.m.Ready(c.id) }
func (c connectorCheck) Optional() bool             { return c.optional }

// logConnectorStates says what actually runs after the first start: the
// running connectors at info, each one that is not running at error with
// its state and last error (its routes are missing or answer unavailable,
// and /readyz fails unless it is optional).
func logConnectorStates(log *slog.Logger, m *host.Manager, cfg *config.Config) {
	var running, down []string
	for _, st := range m.Status() {
		if !st.Enabled {
			continue
		}
		if st.State == host.StateRunning {
			running = append(running, st.ID)
			continue
		}
		down = append(down, st.ID)
		log.Error("connector NOT running: its routes are unavailable (check it with `eimshub config check`)",
			"connector", st.ID, "state", st.State, "error", st.LastError, "optional", cfg.Connectors[st.ID].Optional)
	}
	if len(running)+len(down) == 0 {
		return
	}
	lv := slog.LevelInfo
	if len(down) > 0 {
		lv = slog.LevelWarn
	}
	log.Log(context.Background(), lv, "connectors started", "running", strings.Join(running, ","),
		"notRunning", strings.Join(down, ","))
}

// bearerPrincipal authenticates `Authorization: Bearer` with the identity
// service, as the native API's bearer middleware does (same RFC 6750
// challenge; a cache/store outage stays Unavailable). Scopes are checked per
// Host API call by the bridge, not per HTTP method: a dialect's POST may be
// a read.
func bearerPrincipal(ident *identity.Service) func(*fiber.Ctx) (*principal.Principal, error) {
	return func(c *fiber.Ctx) (*principal.Principal, error) {
		// Cloned: c.Get is a view of fasthttp's reused buffer, and the token
		// may be kept (caches) beyond this request.
		scheme, tok, _ := strings.Cut(strings.TrimSpace(c.Get(fiber.HeaderAuthorization)), " ")
		tok = strings.Clone(strings.TrimSpace(tok))
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="eims", error="invalid_token"`)
			return nil, errs.New(errs.Unauthorized, "a bearer access token is required")
		}
		p, err := ident.Authenticate(c.UserContext(), tok)
		if err != nil {
			if errs.CodeOf(err) == errs.Unauthorized {
				c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="eims", error="invalid_token"`)
				return nil, errs.Wrap(errs.Unauthorized, err, "the access token is invalid, expired or revoked")
			}
			return nil, err
		}
		return p, nil
	}
}

// operatorOnly admits the hub operators (server.operators) to the
// hub-wide operations routes: 401 without a valid token, 403 for everyone
// else — a tenant's admin included, since the data (every connector, its
// process, restarts, errors) is the hub's, not the tenant's.
func operatorOnly(authenticate func(*fiber.Ctx) (*principal.Principal, error), operators []string) func(*fiber.Ctx) error {
	return func(c *fiber.Ctx) error {
		p, err := authenticate(c)
		if err != nil {
			return err
		}
		if !isOperator(p, operators) {
			return errs.New(errs.Forbidden, "only a hub operator (server.operators) may read hub operations data")
		}
		return nil
	}
}

// isOperator reports whether p is one of operators: "TENANT/USER" matches
// a user of that tenant by userName (login) or id; "client:CLIENT" a
// client_credentials token of that client (no user).
func isOperator(p *principal.Principal, operators []string) bool {
	if p == nil {
		return false
	}
	for _, op := range operators {
		if id, ok := strings.CutPrefix(op, "client:"); ok {
			if p.UserID == "" && p.ClientID != "" && p.ClientID == id {
				return true
			}
			continue
		}
		tenant, user, ok := strings.Cut(op, "/")
		if ok && p.Tenant == tenant && p.UserID != "" && (p.Login == user || p.UserID == user) {
			return true
		}
	}
	return false
}
