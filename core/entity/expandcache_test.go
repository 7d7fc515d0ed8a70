package entity_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/store"
)

// versionedStore is the fixture's counting store with the SQLite store's
// committed version, which turns the expansion cache on.
type versionedStore struct {
	*countingStore
	raw *sqlite.Store
}

func (v versionedStore) CommittedVersion(ctx context.Context) ([6]uint64, bool) {
	return v.raw.CommittedVersion(ctx)
}

// newCachingFixture is newFixture with the service over versionedStore.
func newCachingFixture(t *testing.T) (*fixture, *sqlite.Store) {
	t.Helper()
	f := newFixture(t)
	raw := f.st.Store.(*sqlite.Store)
	var clock atomic.Int64
	clock.Store(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	f.svc = entity.New(versionedStore{f.st, raw}, entity.Options{
		Now:          func() time.Time { return time.UnixMilli(clock.Add(1000)) },
		HashPassword: func(pw string) (string, error) { return "hashed:" + pw, nil },
	})
	return f, raw
}

// ownerExpand is what the H3Yun connector asks for (sdk.OwnerExpand).
const ownerExpand = "creator($select=id,code,empName,departmentId;$expand=department($select=id,name,code))"

// Issue 11, second pass: expanded owners and departments are served from
// memory while nothing has been committed, and never stale: any write —
// through the entity service or straight into the store — is seen by the
// next read; tenants never see each other's targets; what the reader
// might not see (private properties) is never cached; callers own the
// answers.
func TestExpansionCache(t *testing.T) {
	f, raw := newCachingFixture(t)
	f.create(f.admin, "orders", map[string]any{"customer": "甲公司", "amount": float64(150)})
	list := func(t *testing.T, p *principal.Principal, form, expand string) map[string]any {
		t.Helper()
		res, err := f.svc.List(f.ctx, p, form, entity.ListOptions{Expand: expand})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Value) != 1 {
			t.Fatalf("%d records, want 1", len(res.Value))
		}
		c, _ := res.Value[0]["creator"].(map[string]any)
		return c
	}
	dept := func(c map[string]any) any { d, _ := c["department"].(map[string]any); return d["name"] }
	rewrite := func(t *testing.T, coll, tenant, id, key string, v any) {
		t.Helper()
		d, err := raw.Get(f.ctx, coll, tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		d[key] = v
		if err := raw.Update(f.ctx, coll, tenant, id, d, nil); err != nil {
			t.Fatal(err)
		}
	}

	first := list(t, f.admin, "orders", ownerExpand)
	if first["empName"] != "Admin" || dept(first) != "研发部" {
		t.Fatalf("first read: %v", first)
	}
	f.st.reset()
	again := list(t, f.admin, "orders", ownerExpand)
	if !jsonEqual(again, first) {
		t.Fatalf("cached read differs: %v, want %v", again, first)
	}
	if n, m := f.st.count("user"), f.st.count("department"); n != 0 || m != 0 {
		t.Fatalf("nothing written, yet the expansion read the store (%d user, %d department finds)", n, m)
	}
	// The same expansion read by a non-administrator: nothing private is
	// selected, so the cached targets are the same for every reader.
	if bob := list(t, f.user, "orders", ownerExpand); bob != nil && !jsonEqual(bob, first) {
		t.Fatalf("bob's read differs: %v", bob)
	}

	t.Run("answers are the caller's", func(t *testing.T) {
		c := list(t, f.admin, "orders", ownerExpand)
		c["empName"] = "Mallory"
		c["department"].(map[string]any)["name"] = "x"
		if c := list(t, f.admin, "orders", ownerExpand); c["empName"] != "Admin" || dept(c) != "研发部" {
			t.Fatalf("a caller's change reached the cache: %v", c)
		}
	})

	t.Run("a write through the entity service", func(t *testing.T) {
		if _, err := f.svc.Update(f.ctx, f.admin, "user", "u_1001", map[string]any{"empName": "Renamed"}, ""); err != nil {
			t.Fatal(err)
		}
		if c := list(t, f.admin, "orders", ownerExpand); c["empName"] != "Renamed" {
			t.Fatalf("after renaming the owner: %v", c)
		}
	})

	t.Run("a write straight into the store", func(t *testing.T) {
		list(t, f.admin, "orders", ownerExpand) // cached again
		rewrite(t, "department", "t1", "d_1", "name", "平台部")
		if c := list(t, f.admin, "orders", ownerExpand); dept(c) != "平台部" {
			t.Fatalf("after renaming the department in the store: %v", c)
		}
	})

	t.Run("a write of another collection and tenant", func(t *testing.T) {
		list(t, f.admin, "orders", ownerExpand)
		f.st.reset()
		rewrite(t, "app", "t2", "a_9", "name", "renamed")
		list(t, f.admin, "orders", ownerExpand)
		if n := f.st.count("user"); n != 1 {
			t.Fatalf("after a commit the owner was read %d times, want 1 (any commit ends every entry)", n)
		}
	})

	t.Run("tenant isolation", func(t *testing.T) {
		// Tenant t2 has a form and a record whose creator is t1's user id:
		// the expansion must not find it, before or after t1's read
		// cached that user.
		for _, d := range []struct {
			coll string
			doc  store.Doc
		}{
			{"form", store.Doc{"id": "f_9", "corpId": "t2", "appId": "a_9", "name": "x", "key": "orders9", "content": ordersContent}},
			{"formdata", store.Doc{"id": "rec_t2", "corpId": "t2", "formId": "f_9", "appId": "a_9", "data": map[string]any{},
				"createBy": map[string]any{"id": "u_1001", "value": "u_1001", "label": "A"}, "createTime": int64(1), "updateTime": int64(1)}},
		} {
			if err := raw.Insert(f.ctx, d.coll, d.doc); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			if c := list(t, f.admin, "orders", ownerExpand); c["id"] != "u_1001" {
				t.Fatalf("t1's own read: %v", c)
			}
			if c := list(t, f.other, "orders9", ownerExpand); c != nil {
				t.Fatalf("tenant t2 sees t1's user through $expand: %v", c)
			}
		}
		// And the other way round: t2's user u_9 as the creator in t1.
		rewrite(t, "user", "t2", "u_9", "departmentId", "d_1")
		if err := raw.Insert(f.ctx, "formdata", store.Doc{"id": "rec_t2b", "corpId": "t2", "formId": "f_9", "appId": "a_9",
			"data": map[string]any{}, "createBy": map[string]any{"id": "u_9"}, "createTime": int64(2), "updateTime": int64(2)}); err != nil {
			t.Fatal(err)
		}
		res, err := f.svc.List(f.ctx, f.other, "orders9", entity.ListOptions{Expand: ownerExpand, Filter: "id eq 'rec_t2b'"})
		if err != nil || len(res.Value) != 1 {
			t.Fatalf("%v %v", res, err)
		}
		c, _ := res.Value[0]["creator"].(map[string]any)
		if c["id"] != "u_9" || c["department"] != nil {
			t.Fatalf("t2's user with t1's department id: %v (want the department unresolved)", c)
		}
	})

	t.Run("what only some readers see is not cached", func(t *testing.T) {
		rewrite(t, "user", "t1", "u_1001", "workPhone", "13800000000")
		const expand = "creator($select=id,empName,workPhone)"
		for range 2 {
			if c := list(t, f.admin, "orders", expand); c["workPhone"] != "13800000000" {
				t.Fatalf("the administrator's read: %v", c)
			}
			if c := list(t, f.user, "orders", expand); c != nil && c["workPhone"] != nil {
				t.Fatalf("bob sees the admin's work phone: %v", c)
			}
		}
		f.st.reset()
		list(t, f.admin, "orders", expand)
		list(t, f.admin, "orders", "creator")
		if n := f.st.count("user"); n != 2 {
			t.Fatalf("expansions selecting private properties read the store %d times, want 2 (not cached)", n)
		}
	})
}
