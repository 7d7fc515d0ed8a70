package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"sync"
	"syscall"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
	plugin "github.com/hashicorp/go-plugin"
)

// backend is one running instance of a connector: a plugin process or the
// connector's Go value called in-process.
type backend interface {
	Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error)
	Health(ctx context.Context) error
	// Exited reports whether the backend is gone for good (process exited).
	Exited() bool
	// PID is the plugin's process id (0 in-process).
	PID() int
	// Kill stops the backend (gracefully first for a process).
	Kill()
}

// ---- in-process ----

type inprocBackend struct {
	c    sdk.Connector
	core Core
	// work hands requests to idle workers (inprocWorkers of them, started
	// with the backend, stopped by Kill through stop). A request runs on a
	// goroutine of its own so that Handle can answer at the deadline of a
	// connector that ignores ctx; a fresh goroutine for each one starts on
	// a small stack and grows it through the connector, the core and
	// SQLite (copying it several times: 5 % of an in-process H3Yun read),
	// so idle workers, whose stacks stay grown, take requests first. With
	// every worker busy a request gets a new goroutine, as before.
	work     chan func()
	stop     chan struct{}
	stopOnce sync.Once
}

// inprocWorkers is the number of reusable workers per in-process connector.
var inprocWorkers = 4 * runtime.GOMAXPROCS(0)

func newInprocBackend(c sdk.Connector, core Core) *inprocBackend {
	b := &inprocBackend{c: c, core: core, work: make(chan func()), stop: make(chan struct{})}
	for range inprocWorkers {
		go func() {
			for {
				select {
				case f := <-b.work:
					f()
				case <-b.stop:
					return
				}
			}
		}()
	}
	return b
}

// run runs f on an idle worker, else on a new goroutine.
func (b *inprocBackend) run(f func()) {
	select {
	case b.work <- f:
	default:
		go f()
	}
}

func (b *inprocBackend) Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	type result struct {
		resp *sdk.Response
		err  error
	}
	done := make(chan result, 1)
	b.run(func() {
		resp, err := sdk.SafeHandle(ctx, b.c, req, b.core)
		done <- result{resp, err}
	})
	select {
	case r := <-done:
		return r.resp, r.err
	case <-ctx.Done():
		// The connector ignores ctx; answer now, let it finish on its own.
		return nil, sdk.TransportError(ctx.Err())
	}
}

func (b *inprocBackend) Health(ctx context.Context) error {
	if hc, ok := b.c.(sdk.HealthChecker); ok {
		return hc.Health(ctx)
	}
	return nil
}

func (b *inprocBackend) Exited() bool { return false }
func (b *inprocBackend) PID() int     { return 0 }
func (b *inprocBackend) Kill() {
	b.stopOnce.Do(func() { close(b.stop) })
	if cl, ok := b.c.(interface{ Close() error }); ok {
		_ = cl.Close()
	}
}

func startInproc(cfg Config, core Core) (*inprocBackend, sdk.Info, error) {
	info, ok := sdk.Lookup(cfg.ID)
	if !ok {
		return nil, sdk.Info{}, errs.Newf(errs.Invalid, "no built-in connector %q to run in-process (registered: %v)", cfg.ID, sdk.Registered())
	}
	c := info.New()
	if cf, ok := c.(sdk.Configurer); ok {
		if err := cf.Configure(cfg.Config); err != nil {
			return nil, sdk.Info{}, fmt.Errorf("configure: %w", err)
		}
	}
	return newInprocBackend(c, core), c.Info(), nil
}

// ---- plugin process ----

type processBackend struct {
	client *plugin.Client
	rc     *sdk.RemoteConnector
	pid    int
	cmd    *exec.Cmd
}

func (b *processBackend) Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	return b.rc.Handle(ctx, req)
}
func (b *processBackend) Health(ctx context.Context) error { return b.rc.Health(ctx) }
func (b *processBackend) Exited() bool                     { return b.client.Exited() }
func (b *processBackend) PID() int                         { return b.pid }
func (b *processBackend) Kill()                            { b.client.Kill() }

// stoppedBySignal reports whether the plugin process has exited because a
// SIGTERM or SIGINT killed it (the signal reached its process group: a
// stop, not a crash). cmd.ProcessState is written by go-plugin's Wait
// before it marks the client exited under its lock, so it is safe to read
// once Exited reports true.
func (b *processBackend) stoppedBySignal() bool {
	if b.cmd == nil || !b.client.Exited() || b.cmd.ProcessState == nil {
		return false
	}
	ws, ok := b.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && (ws.Signal() == syscall.SIGTERM || ws.Signal() == syscall.SIGINT)
}

// errRefused marks start failures that retrying cannot fix (checksum
// mismatch, a plugin reporting another id): no restart loop.
var errRefused = errors.New("refused")

func (m *Manager) startProcess(ctx context.Context, cfg Config) (*processBackend, sdk.Info, error) {
	var cmd *exec.Cmd
	var secure *plugin.SecureConfig
	want := "the configured sha256 " + cfg.SHA256
	if cfg.Command != "" {
		cmd = exec.Command(cfg.Command, cfg.Args...)
		sum, _ := hex.DecodeString(cfg.SHA256) // validated
		secure = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	} else {
		var err error
		if cmd, err = m.opts.SelfCommand(cfg.ID); err != nil {
			return nil, sdk.Info{}, err
		}
		cmd.Args = append(cmd.Args, cfg.Args...)
		cmd.Env = append(cmd.Env, m.opts.BuiltinEnv...)
		if sum := m.opts.SelfSHA256; len(sum) > 0 {
			secure = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
			want = "the pinned sha256 " + hex.EncodeToString(sum)
		}
	}
	cmd.Env = append(cmd.Env, cfg.Env...)

	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.PluginSets(&sdk.GRPCPlugin{Host: m.core}),
		Cmd:              cmd,
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     m.opts.StartTimeout,
		Logger:           newPluginLogger(m.opts.Logger, cfg.ID),
		GRPCDialOptions:  sdk.GRPCDialOptions(),
	})
	fail := func(err error) (*processBackend, sdk.Info, error) {
		client.Kill()
		return nil, sdk.Info{}, err
	}
	proto, err := client.Client()
	if err != nil {
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			return fail(fmt.Errorf("%w: binary %s does not match %s", errRefused, cmd.Path, want))
		}
		return fail(fmt.Errorf("start plugin (handshake, protocol version %d): %w", sdk.ProtocolVersion, err))
	}
	raw, err := proto.Dispense(sdk.PluginName)
	if err != nil {
		return fail(fmt.Errorf("dispense: %w", err))
	}
	rc, ok := raw.(*sdk.RemoteConnector)
	if !ok {
		return fail(fmt.Errorf("dispense: unexpected %T", raw))
	}
	info, err := rc.Describe(ctx)
	if err != nil {
		return fail(fmt.Errorf("describe: %w", err))
	}
	if info.ID != cfg.ID {
		return fail(fmt.Errorf("%w: the plugin reports id %q, configured as %q", errRefused, info.ID, cfg.ID))
	}
	if err := rc.Configure(ctx, cfg.Config); err != nil {
		return fail(fmt.Errorf("%w: configure: %w", errRefused, err))
	}
	pid := 0
	if rcfg := client.ReattachConfig(); rcfg != nil {
		pid = rcfg.Pid
	}
	return &processBackend{client: client, rc: rc, pid: pid, cmd: cmd}, info, nil
}
