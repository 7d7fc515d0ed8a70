package sqlite

import (
	"context"
	"errors"
	"testing"

	"github.com/eimshub/eimshub/core/store"
)

// CommittedVersion moves with every commit (not with reads or a rolled
// back transaction) and is not offered inside a transaction.
func TestCommittedVersion(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	defer s.Close()
	if err := s.Insert(ctx, "things", store.Doc{"id": "r1", "corpId": "t1", "n": int64(1)}); err != nil {
		t.Fatal(err)
	}
	version := func() [6]uint64 {
		t.Helper()
		v, ok := s.CommittedVersion(ctx)
		if !ok {
			t.Fatal("no version outside a transaction")
		}
		return v
	}
	v1 := version()
	if _, err := s.Get(ctx, "things", "t1", "r1"); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != v1 {
		t.Fatal("a read changed the version")
	}
	rollback := errors.New("roll back")
	err := s.Tx(ctx, func(ctx context.Context) error {
		if _, ok := s.CommittedVersion(ctx); ok {
			t.Error("a version offered inside a transaction")
		}
		if err := s.Update(ctx, "things", "t1", "r1", store.Doc{"id": "r1", "corpId": "t1", "n": int64(2)}, nil); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	if v := version(); v != v1 {
		t.Fatal("a rolled back transaction changed the version")
	}
	for _, tenant := range []string{"t1", "t2"} {
		if err := s.Insert(ctx, "other", store.Doc{"id": "o_" + tenant, "corpId": tenant}); err != nil {
			t.Fatal(err)
		}
		v := version()
		if v == v1 {
			t.Fatalf("a commit in tenant %s left the version unchanged", tenant)
		}
		v1 = v
	}
}
