package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/store"
)

// getCached reads id and reports whether the document cache served it.
func getCached(t *testing.T, s *Store, coll, tenant, id string) (store.Doc, bool, error) {
	t.Helper()
	before := s.docs.hits.Load()
	d, err := s.Get(context.Background(), coll, tenant, id)
	return d, s.docs.hits.Load() > before, err
}

func mustGet(t *testing.T, s *Store, coll, tenant, id string, want store.Doc, wantHit bool) {
	t.Helper()
	got, hit, err := getCached(t, s, coll, tenant, id)
	if err != nil {
		t.Fatalf("Get %s/%s: %v", tenant, id, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Get %s/%s = %#v, want %#v", tenant, id, got, want)
	}
	if hit != wantHit {
		t.Fatalf("Get %s/%s: served from the cache %v, want %v", tenant, id, hit, wantHit)
	}
}

func TestDocCacheSeesEveryCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hub.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.docs == nil {
		t.Fatal("document cache is off")
	}
	v1 := store.Doc{"id": "r1", "corpId": "t1", "n": int64(1), "data": map[string]any{"s": "x"}}
	if err := s.Insert(ctx, "things", v1); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "things", "t1", "r1", v1, false)
	mustGet(t, s, "things", "t1", "r1", v1, true)

	// Callers own what they get: changing it changes nothing cached.
	d, _, _ := getCached(t, s, "things", "t1", "r1")
	d["n"] = int64(99)
	d["data"].(map[string]any)["s"] = "changed"
	mustGet(t, s, "things", "t1", "r1", v1, true)

	// Tenant isolation: the cached document is not another tenant's.
	if _, _, err := getCached(t, s, "things", "t2", "r1"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("Get from another tenant: %v", err)
	}

	// A write through the store.
	v2 := store.Doc{"id": "r1", "corpId": "t1", "n": int64(2)}
	if err := s.Update(ctx, "things", "t1", "r1", v2, nil); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "things", "t1", "r1", v2, false)
	mustGet(t, s, "things", "t1", "r1", v2, true)

	// A commit anywhere (another collection) ends every entry's validity.
	if err := s.Insert(ctx, "other", store.Doc{"id": "o1", "corpId": "t1"}); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "things", "t1", "r1", v2, false)

	// A write behind the store's back, on one of its own connections.
	if _, err := s.db.ExecContext(ctx, `UPDATE "c_things" SET doc = jsonb('{"id":"r1","corpId":"t1","n":3}') WHERE id = 'r1'`); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "things", "t1", "r1", store.Doc{"id": "r1", "corpId": "t1", "n": int64(3)}, false)

	// Another store on the same file (its own connection pool).
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	v4 := store.Doc{"id": "r1", "corpId": "t1", "n": int64(4)}
	mustGet(t, s, "things", "t1", "r1", store.Doc{"id": "r1", "corpId": "t1", "n": int64(3)}, true)
	if err := other.Update(ctx, "things", "t1", "r1", v4, nil); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "things", "t1", "r1", v4, false)

	// Another process on the same file.
	cmd := exec.Command(os.Args[0], "-test.run=^TestDocCacheWriterProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "EIMSHUB_DOCCACHE_WRITER="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("writer process: %v\n%s", err, out)
	}
	mustGet(t, s, "things", "t1", "r1", store.Doc{"id": "r1", "corpId": "t1", "n": int64(5), "by": "process"}, false)

	// Deleted: gone at once.
	mustGet(t, s, "things", "t1", "r1", store.Doc{"id": "r1", "corpId": "t1", "n": int64(5), "by": "process"}, true)
	if err := other.Delete(ctx, "things", "t1", "r1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := getCached(t, s, "things", "t1", "r1"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("Get after delete: %v", err)
	}
}

// TestDocCacheWriterProcess is the other process of TestDocCacheSeesEveryCommit.
func TestDocCacheWriterProcess(t *testing.T) {
	path := os.Getenv("EIMSHUB_DOCCACHE_WRITER")
	if path == "" {
		t.Skip("run by TestDocCacheSeesEveryCommit")
	}
	ctx := context.Background()
	s, err := Open(ctx, path, WithDocCache(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Update(ctx, "things", "t1", "r1", store.Doc{"id": "r1", "corpId": "t1", "n": int64(5), "by": "process"}, nil); err != nil {
		t.Fatal(err)
	}
}

// Inside a transaction Get neither uses nor fills the cache: it sees the
// transaction's writes, and nobody else sees them before the commit (or
// after a rollback).
func TestDocCacheTransactions(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	defer s.Close()
	v1 := store.Doc{"id": "r1", "corpId": "t1", "n": int64(1)}
	if err := s.Insert(ctx, "things", v1); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "things", "t1", "r1", v1, false)
	mustGet(t, s, "things", "t1", "r1", v1, true)
	rollback := errors.New("roll back")
	for _, commit := range []bool{false, true} {
		v2 := store.Doc{"id": "r1", "corpId": "t1", "n": int64(2)}
		err := s.Tx(ctx, func(ctx context.Context) error {
			if err := s.Update(ctx, "things", "t1", "r1", v2, nil); err != nil {
				return err
			}
			got, err := s.Get(ctx, "things", "t1", "r1")
			if err != nil || !reflect.DeepEqual(got, v2) {
				return fmt.Errorf("Get in the transaction = %v, %v", got, err)
			}
			// Outside the transaction: the committed state, from the cache.
			mustGet(t, s, "things", "t1", "r1", v1, true)
			if !commit {
				return rollback
			}
			return nil
		})
		if commit && err != nil || !commit && err != rollback {
			t.Fatalf("Tx (commit %v): %v", commit, err)
		}
		if commit {
			mustGet(t, s, "things", "t1", "r1", v2, false)
		} else {
			mustGet(t, s, "things", "t1", "r1", v1, true)
		}
	}
}

func TestDocCacheBudget(t *testing.T) {
	c := newDocCache(64 << 10)
	var ver walHdr
	blob := make([]byte, 1000)
	for i := range 1000 {
		c.put(docKey{"c", "t", fmt.Sprint(i)}, ver, blob)
		if c.bytes > c.max {
			t.Fatalf("%d bytes cached, budget %d", c.bytes, c.max)
		}
	}
	if _, ok := c.get(docKey{"c", "t", "999"}, ver); !ok {
		t.Error("the newest entry was evicted")
	}
	if _, ok := c.get(docKey{"c", "t", "999"}, walHdr{1}); ok {
		t.Error("an entry served another version")
	}
	c.put(docKey{"c", "t", "big"}, ver, make([]byte, c.max))
	if _, ok := c.get(docKey{"c", "t", "big"}, ver); ok {
		t.Error("a document larger than an eighth of the budget was cached")
	}
}
