package host

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sort"

	hclog "github.com/hashicorp/go-hclog"
)

// slogWriter receives go-plugin's hclog output (JSON lines: the plugin's own
// log lines re-emitted by go-plugin, plus go-plugin's client messages) and
// folds each line into the hub's slog logger, tagged with the connector.
type slogWriter struct{ l *slog.Logger }

func newPluginLogger(l *slog.Logger, id string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       "plugin",
		Output:     &slogWriter{l: l.With("connector", id)},
		JSONFormat: true,
		Level:      hclog.Debug,
	})
}

func (w *slogWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimSpace(p), []byte("\n")) {
		w.line(line)
	}
	return len(p), nil
}

func (w *slogWriter) line(line []byte) {
	var m map[string]any
	if json.Unmarshal(line, &m) != nil {
		w.l.Info(string(line))
		return
	}
	msg, _ := m["@message"].(string)
	lvl, _ := m["@level"].(string)
	if msg == "plugin process exited" && lvl == "error" {
		if e, _ := m["error"].(string); stoppedBySignal(e) {
			// SIGTERM/SIGINT reached the plugin's process group (systemd,
			// `kill -TERM -PGID`, a terminal): a stop, not a crash. go-plugin
			// itself never sends these (its Kill is a graceful RPC, then
			// SIGKILL). If the hub is not stopping, the supervisor logs the
			// restart.
			lvl = "info"
			m["reason"] = "stopped by a termination signal"
		}
	}
	delete(m, "@message")
	delete(m, "@level")
	delete(m, "@timestamp")
	if mod, ok := m["@module"]; ok {
		m["module"] = mod
		delete(m, "@module")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]slog.Attr, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, m[k]))
	}
	w.l.LogAttrs(context.Background(), slogLevel(lvl), msg, attrs...)
}

func slogLevel(l string) slog.Level {
	switch l {
	case "trace", "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// stoppedBySignal reports whether exitErr (an *exec.ExitError's text) is
// the death of a process by SIGTERM or SIGINT.
func stoppedBySignal(exitErr string) bool {
	return exitErr == "signal: terminated" || exitErr == "signal: interrupt"
}
