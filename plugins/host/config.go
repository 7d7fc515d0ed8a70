// Package host runs connectors for the hub: it launches each enabled
// connector as a go-plugin process (a built-in one from Options.SelfCommand —
// the small eimshub-connector binary, or the hub re-executed as `eimshub
// connector ID` — an external one from its command after a SHA-256 check) or in-process, serves the Host API back to it, watches its
// health, restarts it with capped exponential backoff, fails in-flight
// requests cleanly in the connector's error envelope, mounts its routes on
// the Fiber app, and reports its state for /admin/connectors.
package host

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// Isolation says where a connector runs.
type Isolation string

const (
	// Process runs the connector as its own plugin process (the default).
	Process Isolation = "process"
	// InProc calls the connector's Go code directly (built-in connectors only).
	InProc Isolation = "inproc"
)

// Config is one connector entry of the hub's YAML.
type Config struct {
	// ID is the connector's id (the YAML key); the plugin must report the same id.
	ID string
	// Enabled launches the connector. Default: false (absent = disabled:
	// its routes answer 404).
	Enabled bool
	// Command is an external plugin binary. Default: "" = the built-in
	// connector ID, run by Options.SelfCommand.
	Command string
	// Args are extra arguments for Command. Default: none.
	Args []string
	// Env are extra KEY=VALUE environment entries for the plugin. Default: none.
	Env []string
	// SHA256 is the hex SHA-256 of Command's binary; required with Command.
	// A mismatch refuses the connector (the hub keeps running).
	SHA256 string
	// Mount prefixes every route, e.g. "/acme". Default: "" (routes at the root).
	Mount string
	// Isolation is Process or InProc. Default: Process.
	Isolation Isolation
	// Timeout bounds one request, plugin hop included. Default: 30s.
	Timeout time.Duration
	// MaxInFlight bounds concurrent requests; more are refused at once with
	// Unavailable (reason connector_busy). Default: 64.
	MaxInFlight int
	// Config is the connector's own configuration as JSON, passed to its
	// Configure method. Default: none.
	Config json.RawMessage
	// RateLimitStatus overrides the HTTP status of a rate-limited request
	// (the body stays the connector's envelope). Default: 0 = the
	// envelope's status.
	RateLimitStatus int
}

func (c *Config) applyDefaults() {
	if c.Isolation == "" {
		c.Isolation = Process
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 64
	}
	c.Mount = strings.TrimRight(c.Mount, "/")
}

func (c *Config) validate() error {
	bad := func(format string, args ...any) error {
		return errs.Newf(errs.Invalid, "connector %q: "+format, append([]any{c.ID}, args...)...).WithTarget("connectors." + c.ID)
	}
	switch {
	case c.ID == "":
		return errs.New(errs.Invalid, "connector without an id").WithTarget("connectors")
	case c.Isolation != Process && c.Isolation != InProc:
		return bad("isolation must be %q or %q, not %q", Process, InProc, c.Isolation)
	case c.Isolation == InProc && c.Command != "":
		return bad("an external command cannot run in-process")
	case c.Command != "" && c.SHA256 == "":
		return bad("command %s needs sha256 (the hex SHA-256 of the binary, e.g. from sha256sum)", c.Command)
	case c.Mount != "" && !strings.HasPrefix(c.Mount, "/"):
		return bad("mount must start with /")
	}
	if c.SHA256 != "" {
		if b, err := hex.DecodeString(c.SHA256); err != nil || len(b) != 32 {
			return bad("sha256 must be 64 hex digits")
		}
	}
	if len(c.Config) > 0 && !json.Valid(c.Config) {
		return bad("config is not valid JSON")
	}
	return nil
}

// Options tune the manager; zero fields take the defaults.
type Options struct {
	// Logger receives the manager's and the plugins' logs. Default: slog.Default().
	Logger *slog.Logger
	// SelfCommand builds the command that runs built-in connector id as a
	// plugin (the hub passes eimshub-connector ID when that binary is there).
	// Default: this executable with arguments "connector", id.
	SelfCommand func(id string) (*exec.Cmd, error)
	// SelfSHA256, when set, is the SHA-256 the binary of SelfCommand must
	// have; go-plugin verifies it before every launch and restart, and a
	// mismatch refuses the connector (no restart loop). Default: none
	// (the hub's own executable is trusted as it is).
	SelfSHA256 []byte
	// BuiltinEnv is added to the environment of built-in connector
	// processes (SelfCommand), before the connector's configured env and
	// the hub's own environment, which win over it (e.g. the hub passes
	// GOGC=server.gcPercent). Default: none.
	BuiltinEnv []string
	// HealthInterval is how often a running plugin is pinged. Default: 10s.
	HealthInterval time.Duration
	// BackoffMin and BackoffMax bound the delay between restarts; it doubles
	// per consecutive failure. Default: 200ms and 30s.
	BackoffMin, BackoffMax time.Duration
	// MaxStartFailures consecutive failed starts mark the connector failed
	// (no more attempts). Default: 8.
	MaxStartFailures int
	// StartTimeout bounds a plugin's start (handshake, describe, configure).
	// Default: 15s.
	StartTimeout time.Duration
	// OnRequest, when set, observes every connector request (for metrics).
	OnRequest func(id, route string, status int, d time.Duration)
}

func (o *Options) applyDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SelfCommand == nil {
		o.SelfCommand = func(id string) (*exec.Cmd, error) {
			exe, err := os.Executable()
			if err != nil {
				return nil, fmt.Errorf("locate the hub binary: %w", err)
			}
			return exec.Command(exe, "connector", id), nil
		}
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = 10 * time.Second
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = 200 * time.Millisecond
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 30 * time.Second
	}
	if o.MaxStartFailures <= 0 {
		o.MaxStartFailures = 8
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 15 * time.Second
	}
}

// Core is what the Host API needs from the hub's core services: exactly
// sdk.Host, whose doc comments are the contract (semantics and error codes
// per method). The hub's bridge (cmd/eimshub) implements it over the
// record, schema and identity services; it must enforce tenancy from the
// principal passed to each call (nil or empty Tenant → errs.Unauthorized)
// and never return secrets (secretHash, passwordHash). The same Core serves
// in-process and out-of-process connectors, so both behave identically.
type Core interface {
	sdk.Host
}
