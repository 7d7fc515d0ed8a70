package messages_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/eimshub/eimshub/core/messages"
)

// BenchmarkSendQueued is the cost a caller pays to queue one e-mail (row +
// queue entry, one SQLite transaction).
func BenchmarkSendQueued(b *testing.B) {
	st := openStore(b, filepath.Join(b.TempDir(), "hub.db"))
	defer st.Close()
	r := newRelay(b, 0)
	o := messages.New(st, messages.Options{Gateway: r.gateway(), Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if err := o.Send(ctx, mail); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDispatch is one queued message delivered to a local HTTP relay
// and marked sent (claim, deliver, one transaction).
func BenchmarkDispatch(b *testing.B) {
	st := openStore(b, filepath.Join(b.TempDir(), "hub.db"))
	defer st.Close()
	r := newRelay(b, 0)
	o := messages.New(st, messages.Options{Gateway: r.gateway(), Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	for range b.N {
		if err := o.Send(ctx, mail); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	sent := 0
	for sent < b.N {
		n, err := o.DispatchDue(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			b.Fatalf("%d of %d dispatched", sent, b.N)
		}
		sent += n
	}
}
