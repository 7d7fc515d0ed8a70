package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/store"
)

// Many concurrent writers of one process — transactions and autocommit
// writes mixed — all succeed: they queue on the write gate, never on
// SQLite's busy handler.
func TestWriteGateConcurrentWriters(t *testing.T) {
	s := openWithBusyTimeout(t, 30*time.Second)
	ctx := context.Background()
	const writers, each = 16, 15
	var wg sync.WaitGroup
	errc := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				if i%2 == 0 {
					errc <- s.Insert(ctx, "things", store.Doc{"id": id, "corpId": "t1", "n": int64(i)})
					continue
				}
				errc <- s.Tx(ctx, func(ctx context.Context) error {
					if err := s.Insert(ctx, "things", store.Doc{"id": id, "corpId": "t1", "n": int64(i)}); err != nil {
						return err
					}
					return s.Update(ctx, "things", "t1", id, store.Doc{"id": id, "corpId": "t1", "n": int64(-i)}, nil)
				})
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.Count(ctx, "things", "t1", nil); err != nil || n != writers*each {
		t.Fatalf("count = %d, %v; want %d", n, err, writers*each)
	}
}

// A writer that cannot get the gate gives up after the busy timeout
// (Unavailable, as SQLite's own busy error) or when its context ends; a
// transaction's own writes (its context) pass while it holds the gate.
func TestWriteGateTimeoutAndCancel(t *testing.T) {
	s := openWithBusyTimeout(t, 50*time.Millisecond)
	ctx := context.Background()
	if err := s.Insert(ctx, "things", store.Doc{"id": "a", "corpId": "t1"}); err != nil {
		t.Fatal(err)
	}
	err := s.Tx(ctx, func(txCtx context.Context) error {
		if err := s.Insert(txCtx, "things", store.Doc{"id": "b", "corpId": "t1"}); err != nil {
			return fmt.Errorf("the transaction's own write: %w", err)
		}
		start := time.Now()
		err := s.Insert(ctx, "things", store.Doc{"id": "c", "corpId": "t1"})
		if errs.CodeOf(err) != errs.Unavailable || time.Since(start) > 5*time.Second {
			return fmt.Errorf("outside write during the transaction: %v after %s", err, time.Since(start))
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Delete(cctx, "things", "t1", "a"); err == nil {
			return fmt.Errorf("cancelled write: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "things", "t1", "c"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("the refused write happened: %v", err)
	}
	if err := s.Insert(ctx, "things", store.Doc{"id": "c", "corpId": "t1"}); err != nil {
		t.Fatalf("after the transaction: %v", err)
	}
}

func openWithBusyTimeout(t *testing.T, d time.Duration) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "hub.db"), WithBusyTimeout(d))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
