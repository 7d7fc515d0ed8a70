package sqlite

import (
	"context"
	"time"

	"github.com/eimshub/eimshub/core/errs"
)

// writeGate lets one writer of this process at a time reach SQLite's write
// lock, in arrival order.
//
// SQLite serialises writers itself, but a writer that finds the lock taken
// waits in SQLite's busy handler, which polls with growing sleeps (up to
// 100 ms each): under contention the lock goes to whichever poller wakes at
// the right moment, not to the writer that has waited longest. With 32
// concurrent writers (bench/load "native POST leave_request + POST
// /workflow/start") p50 was 14 ms and p99 1.17 s. The gate queues this
// process's writers on a channel instead — waiting senders are served in
// order, and the lock is handed to the next one when the previous commits —
// so the busy handler only runs against other processes on the same file.
//
// Outermost transactions (Tx) hold the gate from BEGIN IMMEDIATE to commit
// or rollback; autocommit writes (Insert, Update, Delete outside a Tx) and
// schema statements for their one statement. A nested Tx, and anything run
// with a transaction's context, is already inside. Waiting is bounded like
// SQLite's own: after the busy timeout the write fails Unavailable.
type writeGate struct{ ch chan struct{} }

func newWriteGate() writeGate { return writeGate{ch: make(chan struct{}, 1)} }

// enter waits for the gate, at most timeout, and not past ctx.
func (g writeGate) enter(ctx context.Context, timeout time.Duration) error {
	select {
	case g.ch <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case g.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return mapErr(ctx.Err(), "sqlite: wait to write")
	case <-t.C:
		return errs.New(errs.Unavailable, "sqlite: database is busy (another write of this process held it past the busy timeout)")
	}
}

func (g writeGate) leave() { <-g.ch }
