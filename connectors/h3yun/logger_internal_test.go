package h3yun

import (
	"bytes"
	"log/slog"
	"testing"
)

// TestRequestLoggerIsWith: requestLogger writes the lines
// slog.Default().With(connector, request_id, client) writes, for text and
// JSON handlers, with attributes, groups and derived loggers.
func TestRequestLoggerIsWith(t *testing.T) {
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })
	for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler {
			return slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: noTime})
		},
		"json": func(b *bytes.Buffer) slog.Handler {
			return slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: noTime})
		},
	} {
		t.Run(name, func(t *testing.T) {
			var want, got bytes.Buffer
			write := func(buf *bytes.Buffer, mk func() *slog.Logger) {
				slog.SetDefault(slog.New(newHandler(buf)))
				l := mk()
				l.Info("h3yun: ignoring keys", "form", "D1", "keys", []string{"a", "<b>"})
				l.Debug("not written")
				l.Warn("grouped", slog.Group("g", "x", 1))
				l.With("extra", true).Warn("derived", "n", 2)
				l.WithGroup("grp").Error("in a group", "k", "v")
			}
			write(&want, func() *slog.Logger {
				return slog.Default().With("connector", ID, "request_id", "rid-1", "client", "eng")
			})
			write(&got, func() *slog.Logger { return requestLogger("rid-1", "eng") })
			if want.String() != got.String() || want.Len() == 0 {
				t.Fatalf("requestLogger wrote\n%s\nslog.With writes\n%s", got.String(), want.String())
			}
		})
	}
}
