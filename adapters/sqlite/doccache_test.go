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
	"github.com/eimshub/eimshub/core/query"
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
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), docCacheWriterVar+"="+path)
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

// docCacheWriterVar makes the test binary the other process of
// TestDocCacheSeesEveryCommit (TestMain): it opens the database it names
// and commits one update.
const docCacheWriterVar = "EIMSHUB_DOCCACHE_WRITER"

func TestMain(m *testing.M) {
	if path := os.Getenv(docCacheWriterVar); path != "" {
		os.Exit(docCacheWriter(path))
	}
	os.Exit(m.Run())
}

func docCacheWriter(path string) int {
	ctx := context.Background()
	s, err := Open(ctx, path, WithDocCache(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "writer process:", err)
		return 1
	}
	defer s.Close()
	if err := s.Update(ctx, "things", "t1", "r1", store.Doc{"id": "r1", "corpId": "t1", "n": int64(5), "by": "process"}, nil); err != nil {
		fmt.Fprintln(os.Stderr, "writer process:", err)
		return 1
	}
	return 0
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
		c.put(docKey{"c", "t", fmt.Sprint(i)}.String(), docEntry{ver: ver, blobs: [][]byte{blob}})
		if c.bytes > c.max {
			t.Fatalf("%d bytes cached, budget %d", c.bytes, c.max)
		}
	}
	if _, ok := c.get(docKey{"c", "t", "999"}.String(), ver); !ok {
		t.Error("the newest entry was evicted")
	}
	if _, ok := c.get(docKey{"c", "t", "999"}.String(), walHdr{1}); ok {
		t.Error("an entry served another version")
	}
	c.put("big", docEntry{ver: ver, blobs: [][]byte{make([]byte, c.max)}})
	if _, ok := c.get("big", ver); ok {
		t.Error("an entry larger than an eighth of the budget was cached")
	}
}

// Find and Count results are served from the cache while nothing has been
// committed, by this store or another one on the same file; each tenant
// and each query (values included) has its own entry; callers own the
// documents they get.
func TestQueryCache(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hub.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := Open(ctx, path, WithDocCache(0))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for i := range 5 {
		for _, tenant := range []string{"t1", "t2"} {
			doc := store.Doc{"id": fmt.Sprintf("%s-%d", tenant, i), "corpId": tenant, "n": int64(i), "data": map[string]any{"k": "v"}}
			if err := s.Insert(ctx, "things", doc); err != nil {
				t.Fatal(err)
			}
		}
	}
	q := func(min int64) query.Query {
		return query.Query{Filter: query.Cmp{Path: query.Path{"n"}, Op: query.Ge, Value: min},
			Sort: []query.Sort{{Path: query.Path{"n"}, Desc: true}}, Limit: 10}
	}
	find := func(st *Store, tenant string, min int64) ([]store.Doc, bool) {
		t.Helper()
		before := s.docs.hits.Load()
		docs, err := st.Find(ctx, "things", tenant, q(min))
		if err != nil {
			t.Fatal(err)
		}
		return docs, s.docs.hits.Load() > before
	}
	ids := func(docs []store.Doc) []string {
		var out []string
		for _, d := range docs {
			out = append(out, d["id"].(string))
		}
		return out
	}
	count := func(tenant string) (int64, bool) {
		t.Helper()
		before := s.docs.hits.Load()
		n, err := s.Count(ctx, "things", tenant, nil)
		if err != nil {
			t.Fatal(err)
		}
		return n, s.docs.hits.Load() > before
	}
	first, hit := find(s, "t1", 2)
	if hit || !reflect.DeepEqual(ids(first), []string{"t1-4", "t1-3", "t1-2"}) {
		t.Fatalf("first Find: %v (hit %v)", ids(first), hit)
	}
	first[0]["n"] = int64(100)
	first[0]["data"].(map[string]any)["k"] = "changed"
	again, hit := find(s, "t1", 2)
	if !hit || again[0]["n"] != int64(4) || again[0]["data"].(map[string]any)["k"] != "v" {
		t.Fatalf("second Find: %v (hit %v)", again[0], hit)
	}
	if docs, hit := find(s, "t2", 2); hit || !reflect.DeepEqual(ids(docs), []string{"t2-4", "t2-3", "t2-2"}) {
		t.Fatalf("other tenant: %v (hit %v)", ids(docs), hit)
	}
	if docs, hit := find(s, "t1", 3); hit || len(docs) != 2 {
		t.Fatalf("other value: %v (hit %v)", ids(docs), hit)
	}
	if n, hit := count("t1"); hit || n != 5 {
		t.Fatalf("Count = %d (hit %v)", n, hit)
	}
	if n, hit := count("t1"); !hit || n != 5 {
		t.Fatalf("Count again = %d (hit %v)", n, hit)
	}
	// A commit by another store on the file: both read again.
	if err := other.Insert(ctx, "things", store.Doc{"id": "t1-9", "corpId": "t1", "n": int64(9)}); err != nil {
		t.Fatal(err)
	}
	if docs, hit := find(s, "t1", 2); hit || ids(docs)[0] != "t1-9" {
		t.Fatalf("after another store's insert: %v (hit %v)", ids(docs), hit)
	}
	if n, hit := count("t1"); hit || n != 6 {
		t.Fatalf("Count after insert = %d (hit %v)", n, hit)
	}
	if err := other.Delete(ctx, "things", "t1", "t1-9"); err != nil {
		t.Fatal(err)
	}
	if docs, hit := find(s, "t1", 2); hit || ids(docs)[0] != "t1-4" {
		t.Fatalf("after another store's delete: %v (hit %v)", ids(docs), hit)
	}
	// Inside a transaction: the transaction's own writes, no cache.
	err = s.Tx(ctx, func(ctx context.Context) error {
		if err := s.Insert(ctx, "things", store.Doc{"id": "t1-8", "corpId": "t1", "n": int64(8)}); err != nil {
			return err
		}
		docs, err := s.Find(ctx, "things", "t1", q(2))
		if err != nil || docs[0]["id"] != "t1-8" {
			return fmt.Errorf("Find in the transaction: %v, %v", docs, err)
		}
		if docs, hit := find(s, "t1", 2); !hit || ids(docs)[0] != "t1-4" {
			return fmt.Errorf("Find outside the transaction: %v (hit %v)", ids(docs), hit)
		}
		return errors.New("roll back")
	})
	if err == nil || err.Error() != "roll back" {
		t.Fatal(err)
	}
	if docs, hit := find(s, "t1", 2); !hit || ids(docs)[0] != "t1-4" {
		t.Fatalf("after the rollback: %v (hit %v)", ids(docs), hit)
	}
}
