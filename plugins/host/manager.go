package host

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// Connector states reported by Status.
const (
	StateDisabled   = "disabled"
	StateStarting   = "starting"
	StateRunning    = "running"
	StateRestarting = "restarting"
	StateFailed     = "failed"
	StateStopped    = "stopped"
)

// Manager runs the configured connectors.
type Manager struct {
	core  Core
	opts  Options
	conns []*conn // config order
	byID  map[string]*conn
	wg    sync.WaitGroup

	// Set by Mount.
	auth  Auth
	creds *credCache
	edge  edgeTable // the connectors' paths, for EdgeError
}

// New validates cfgs (duplicate ids, bad isolation, external commands
// without sha256, ...) and returns a manager; nothing is started yet.
func New(cfgs []Config, core Core, opts Options) (*Manager, error) {
	opts.applyDefaults()
	m := &Manager{core: core, opts: opts, byID: map[string]*conn{}}
	for _, cfg := range cfgs {
		cfg.applyDefaults()
		if err := cfg.validate(); err != nil {
			return nil, err
		}
		if _, dup := m.byID[cfg.ID]; dup {
			return nil, errs.Newf(errs.Invalid, "connector %q configured twice", cfg.ID).WithTarget("connectors")
		}
		c := &conn{m: m, cfg: cfg, sem: make(chan struct{}, cfg.MaxInFlight), kick: make(chan struct{}, 1),
			stop: make(chan struct{}), state: StateDisabled}
		m.conns = append(m.conns, c)
		m.byID[cfg.ID] = c
	}
	return m, nil
}

// Start launches every enabled connector and waits for each first start to
// finish. A connector that fails to start (checksum mismatch, handshake
// refused, crash) is logged with its id and reported by Status; it does not
// stop the others, and Start returns no error for it. Mount after Start:
// routes are known once a connector has described itself.
func (m *Manager) Start(ctx context.Context) {
	var wg sync.WaitGroup
	for _, c := range m.conns {
		if !c.cfg.Enabled {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.firstStart(ctx)
		}()
	}
	wg.Wait()
	for _, c := range m.conns {
		if c.cfg.Enabled && c.cfg.Isolation == Process {
			m.wg.Add(1)
			go func() {
				defer m.wg.Done()
				c.supervise()
			}()
		}
	}
}

// Close stops accepting requests, waits for in-flight requests until ctx is
// done (drain), then stops every plugin (go-plugin asks it to exit, then
// kills it).
func (m *Manager) Close(ctx context.Context) error {
	for _, c := range m.conns {
		c.mu.Lock()
		c.closing = true
		c.mu.Unlock()
	}
	drained := make(chan struct{})
	go func() {
		for _, c := range m.conns {
			c.inflight.Wait()
		}
		close(drained)
	}()
	var err error
	select {
	case <-drained:
	case <-ctx.Done():
		err = fmt.Errorf("connectors: drain: %w", ctx.Err())
	}
	for _, c := range m.conns {
		close(c.stop)
	}
	m.wg.Wait()
	for _, c := range m.conns {
		c.mu.Lock()
		if c.be != nil {
			c.be.Kill()
			c.be = nil
		}
		if c.cfg.Enabled {
			c.state = StateStopped
		}
		c.mu.Unlock()
	}
	return err
}

// ConnectorStatus is one connector's state for /admin/connectors.
type ConnectorStatus struct {
	ID        string    `json:"id"`
	Version   string    `json:"version"`
	Enabled   bool      `json:"enabled"`
	Isolation Isolation `json:"isolation"`
	State     string    `json:"state"`
	PID       int       `json:"pid"`
	Routes    []string  `json:"routes"`
	Restarts  int       `json:"restarts"`
	InFlight  int       `json:"inFlight"`
	LastError string    `json:"lastError,omitempty"`
	// LastErrorAt is the time of LastError (RFC 3339), if any.
	LastErrorAt string `json:"lastErrorAt,omitempty"`
}

// Status reports every configured connector, in configuration order.
func (m *Manager) Status() []ConnectorStatus {
	out := make([]ConnectorStatus, 0, len(m.conns))
	for _, c := range m.conns {
		c.mu.RLock()
		s := ConnectorStatus{
			ID: c.cfg.ID, Version: c.info.Version, Enabled: c.cfg.Enabled, Isolation: c.cfg.Isolation,
			State: c.state, Restarts: c.restarts, InFlight: len(c.sem), LastError: c.lastErr, Routes: []string{},
		}
		if !c.lastErrAt.IsZero() {
			s.LastErrorAt = c.lastErrAt.UTC().Format(time.RFC3339)
		}
		if c.be != nil {
			s.PID = c.be.PID()
		}
		for _, r := range c.info.Routes {
			s.Routes = append(s.Routes, r.Method+" "+c.cfg.Mount+r.Path)
		}
		c.mu.RUnlock()
		out = append(out, s)
	}
	return out
}

// Ready reports whether connector id is serving: nil when it is running,
// else an error naming it with its state ("failed", "restarting", …) and
// its last error. Used by /readyz. An unknown or disabled id is an error.
func (m *Manager) Ready(id string) error {
	c, ok := m.byID[id]
	if !ok {
		return fmt.Errorf("connector %s: not configured", id)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.state == StateRunning && c.be != nil {
		return nil
	}
	if c.lastErr != "" {
		return fmt.Errorf("connector %s is %s: %s", id, c.state, c.lastErr)
	}
	return fmt.Errorf("connector %s is %s", id, c.state)
}

// conn is one configured connector and its current backend.
type conn struct {
	m        *Manager
	cfg      Config
	sem      chan struct{}
	inflight sync.WaitGroup
	kick     chan struct{}
	stop     chan struct{}

	mu        sync.RWMutex
	be        backend // nil when down
	info      sdk.Info
	renderer  *sdk.ErrorRenderer
	state     string
	restarts  int
	lastErr   string
	lastErrAt time.Time
	closing   bool
}

func (c *conn) setErr(err error, state string) {
	c.mu.Lock()
	c.lastErr, c.lastErrAt, c.state = err.Error(), time.Now(), state
	c.mu.Unlock()
}

// start launches one backend and installs it.
func (c *conn) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.m.opts.StartTimeout)
	defer cancel()
	var (
		be   backend
		info sdk.Info
		err  error
	)
	if c.cfg.Isolation == InProc {
		var ib *inprocBackend
		ib, info, err = startInproc(c.cfg, c.m.core)
		if err == nil {
			be = ib
		}
	} else {
		var pb *processBackend
		pb, info, err = c.m.startProcess(ctx, c.cfg)
		if err == nil {
			be = pb
		}
	}
	if err != nil {
		return err
	}
	renderer, rerr := info.ErrorEnvelope.Compile()
	if rerr != nil {
		be.Kill()
		return fmt.Errorf("%w: %w", errRefused, rerr)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.info.ID != "" && !reflect.DeepEqual(c.info.Routes, info.Routes) {
		c.m.opts.Logger.Warn("connector changed its routes on restart; the routes mounted at start stay in force",
			"connector", c.cfg.ID)
	}
	if c.info.ID == "" {
		c.info = info
	}
	c.info.Version = info.Version
	c.renderer = renderer
	c.be = be
	c.state = StateRunning
	return nil
}

func (c *conn) firstStart(ctx context.Context) {
	c.mu.Lock()
	c.state = StateStarting
	c.mu.Unlock()
	if err := c.start(ctx); err != nil {
		c.m.opts.Logger.Error("connector refused to start", "connector", c.cfg.ID, "error", err)
		state := StateRestarting
		if errors.Is(err, errRefused) || c.cfg.Isolation == InProc {
			state = StateFailed
		}
		c.adoptRegisteredRoutes()
		c.setErr(err, state)
		return
	}
	c.m.opts.Logger.Info("connector started", "connector", c.cfg.ID, "version", c.info.Version,
		"isolation", c.cfg.Isolation, "pid", c.be.PID(), "routes", len(c.info.Routes))
}

// backend returns the current backend, or nil.
func (c *conn) backend() backend {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.be
}

// supervise pings the plugin, notices its exit, and restarts it with
// exponential backoff capped at BackoffMax; after MaxStartFailures
// consecutive failed starts (or a refusal) it gives up.
func (c *conn) supervise() {
	o := c.m.opts
	poll := min(o.HealthInterval, 250*time.Millisecond)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	lastPing := time.Now()
	failures := 0
	for {
		c.mu.RLock()
		state, be := c.state, c.be
		c.mu.RUnlock()
		if state == StateFailed {
			<-c.stop
			return
		}
		if be == nil {
			// Down: restart after a backoff.
			delay := min(o.BackoffMin<<min(failures, 30), o.BackoffMax)
			select {
			case <-c.stop:
				return
			case <-time.After(delay):
			}
			err := c.start(context.Background())
			if err == nil {
				failures = 0
				c.mu.Lock()
				c.restarts++
				pid := c.be.PID()
				c.mu.Unlock()
				o.Logger.Info("connector restarted", "connector", c.cfg.ID, "pid", pid)
				lastPing = time.Now()
				continue
			}
			failures++
			state := StateRestarting
			if errors.Is(err, errRefused) || failures >= o.MaxStartFailures {
				state = StateFailed
			}
			o.Logger.Error("connector restart failed", "connector", c.cfg.ID, "attempt", failures, "error", err, "state", state)
			c.setErr(err, state)
			continue
		}
		select {
		case <-c.stop:
			return
		case <-c.kick:
			lastPing = time.Time{} // a request saw a failure: ping now
		case <-tick.C:
		}
		down := be.Exited()
		var herr error
		if !down && time.Since(lastPing) >= o.HealthInterval {
			lastPing = time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), min(o.HealthInterval, 5*time.Second))
			herr = be.Health(ctx)
			cancel()
			down = herr != nil
		}
		if !down && be.Exited() {
			down = true
		}
		if down {
			if herr == nil {
				herr = errors.New("plugin process exited")
			}
			if sb, ok := be.(interface{ stoppedBySignal() bool }); ok && sb.stoppedBySignal() {
				// A normal stop (the hub's process group got SIGTERM or
				// SIGINT too): not an incident. Restarted below unless
				// the hub closes first.
				herr = errors.New("plugin process stopped by a termination signal")
				o.Logger.Info("connector stopped by a termination signal; restarting unless the hub is stopping",
					"connector", c.cfg.ID, "pid", be.PID())
			} else {
				o.Logger.Warn("connector down; restarting", "connector", c.cfg.ID, "pid", be.PID(), "error", herr)
			}
			be.Kill()
			c.mu.Lock()
			if c.be == be {
				c.be = nil
			}
			c.mu.Unlock()
			c.setErr(herr, StateRestarting)
		}
	}
}

// kickSupervisor asks the supervisor to check the plugin now (a request saw
// it fail).
func (c *conn) kickSupervisor() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// adoptRegisteredRoutes gives a built-in connector whose first start failed
// the routes and error envelope it registered (sdk.Register), so Mount still
// mounts them: callers get the dialect's "unavailable" answer instead of a
// 404 in the native envelope, and the routes serve as soon as a restart
// succeeds. External connectors declare their routes only when running.
func (c *conn) adoptRegisteredRoutes() {
	if c.cfg.Command != "" {
		return
	}
	reg, ok := sdk.Lookup(c.cfg.ID)
	if !ok {
		return
	}
	renderer, err := reg.ErrorEnvelope.Compile()
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.info.ID != "" {
		return
	}
	reg.New = nil
	c.info = reg
	c.renderer = renderer
}

// storeVersioner is a Core that names the store's committed state (the
// bridge over a SQLite store).
type storeVersioner interface {
	StoreVersion(ctx context.Context) string
}

// storeVersion is sdk.Request.StoreVersion: taken after the caller was
// authenticated, before the connector runs.
func (m *Manager) storeVersion(ctx context.Context) string {
	if v, ok := m.core.(storeVersioner); ok {
		return v.StoreVersion(ctx)
	}
	return ""
}
