package sdk

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Serve runs a connector as a plugin process; call it from main. It speaks
// the handshake, mTLS (when the host asks for it), gRPC and logging, and it
// blocks until the host stops the plugin. Run by hand (not by the hub), it
// prints a hint and exits.
//
// In the plugin, slog.Default() writes to stderr in the format the hub folds
// into its own log, tagged with the connector's id.
func Serve(newFn func() Connector) {
	slog.SetDefault(slog.New(NewPluginLogHandler(os.Stderr, slog.LevelDebug)))
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: PluginSets(&GRPCPlugin{New: newFn}),
		GRPCServer:       GRPCServer,
		Logger: hclog.New(&hclog.LoggerOptions{
			Output: os.Stderr, JSONFormat: true, Level: hclog.Info,
		}),
	})
}

// ServeBuiltin serves the registered connector id (see Register). It is
// what `eimshub connector ID` runs; an unknown id is an error.
func ServeBuiltin(id string) error {
	info, ok := Lookup(id)
	if !ok {
		return fmt.Errorf("unknown connector %q (registered: %s)", id, strings.Join(Registered(), ", "))
	}
	Serve(info.New)
	return nil
}

// GRPCServer builds the plugin's gRPC server with the SDK's message limits.
// Connector authors do not need it.
func GRPCServer(opts []grpc.ServerOption) *grpc.Server {
	return grpc.NewServer(grpcServerOptions(opts)...)
}

// NewPluginLogHandler returns a slog handler writing hclog-style JSON lines
// (@timestamp, @level, @message) that go-plugin's host parses and the hub
// re-emits through its own slog logger. Connector authors do not need it.
func NewPluginLogHandler(w io.Writer, level slog.Level) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().Format("2006-01-02T15:04:05.000000Z07:00"))
			case slog.LevelKey:
				return slog.String("@level", strings.ToLower(a.Value.String()))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	})
}
