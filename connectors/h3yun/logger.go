package h3yun

import (
	"context"
	"log/slog"
)

// requestLogger is slog.Default().With("connector", ID, "request_id",
// requestID, "client", client), paid for only when something is logged:
// With makes the default handler pre-encode the three attributes, on every
// request, while the connector logs on a few rare paths. Lines come out
// the same (the attributes first, then the call's).
func requestLogger(requestID, client string) *slog.Logger {
	return slog.New(&lazyAttrs{h: slog.Default().Handler(),
		attrs: []slog.Attr{slog.String("connector", ID), slog.String("request_id", requestID), slog.String("client", client)}})
}

// lazyAttrs adds attrs ahead of each record's own when it is handled.
type lazyAttrs struct {
	h     slog.Handler
	attrs []slog.Attr
}

func (l *lazyAttrs) Enabled(ctx context.Context, lvl slog.Level) bool { return l.h.Enabled(ctx, lvl) }

func (l *lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	nr.AddAttrs(l.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(a)
		return true
	})
	return l.h.Handle(ctx, nr)
}

func (l *lazyAttrs) WithAttrs(as []slog.Attr) slog.Handler {
	return l.h.WithAttrs(append(l.attrs[:len(l.attrs):len(l.attrs)], as...))
}
func (l *lazyAttrs) WithGroup(name string) slog.Handler {
	return l.h.WithAttrs(l.attrs).WithGroup(name)
}
