package identitytest

import (
	"context"
	"sync"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// Store is a tiny map-backed store.Store for tests of core packages that
// cannot import the real embedded store (adapters/sqlite). It is NOT a
// conforming store: Find supports only And, Or and Cmp Eq (what identity
// queries with) and panics on anything else, so a test cannot silently pass
// on an unsupported filter; it ignores Sort and Offset, and Tx does not roll back.
type Store struct {
	mu   sync.Mutex
	data map[string]map[string]store.Doc // coll → id → doc
}

var _ store.Store = (*Store)(nil)

// NewStore returns an empty Store.
func NewStore() *Store { return &Store{data: map[string]map[string]store.Doc{}} }

func cloneDoc(d store.Doc) store.Doc {
	out := make(store.Doc, len(d))
	for k, v := range d {
		out[k] = v
	}
	return out
}

func (f *Store) Insert(_ context.Context, coll string, doc store.Doc) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, _ := doc["id"].(string)
	if _, ok := doc["corpId"].(string); !ok || id == "" {
		return errs.Invalidf("id and corpId required")
	}
	if f.data[coll] == nil {
		f.data[coll] = map[string]store.Doc{}
	}
	if _, ok := f.data[coll][id]; ok {
		return errs.Conflictf("duplicate id %s", id)
	}
	f.data[coll][id] = cloneDoc(doc)
	return nil
}

func (f *Store) Get(_ context.Context, coll, tenant, id string) (store.Doc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.data[coll][id]
	if !ok || d["corpId"] != tenant {
		return nil, errs.NotFoundf("%s %s not found", coll, id)
	}
	return cloneDoc(d), nil
}

func match(d store.Doc, e query.Expr) bool {
	switch x := e.(type) {
	case nil:
		return true
	case query.And:
		for _, it := range x.Items {
			if !match(d, it) {
				return false
			}
		}
		return true
	case query.Or:
		for _, it := range x.Items {
			if match(d, it) {
				return true
			}
		}
		return false
	case query.Cmp:
		if x.Op != query.Eq {
			panic("identitytest.Store: only Eq")
		}
		var cur any = d
		for _, seg := range x.Path {
			m, ok := cur.(map[string]any)
			if !ok {
				return false
			}
			cur = m[seg]
		}
		return cur != nil && cur == x.Value
	}
	panic("identitytest.Store: unsupported filter")
}

func (f *Store) Find(_ context.Context, coll, tenant string, q query.Query) ([]store.Doc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Doc
	for _, d := range f.data[coll] {
		if d["corpId"] == tenant && match(d, q.Filter) {
			out = append(out, cloneDoc(d))
		}
	}
	if q.Limit >= 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (f *Store) Count(ctx context.Context, coll, tenant string, filter query.Expr) (int64, error) {
	docs, err := f.Find(ctx, coll, tenant, query.Query{Filter: filter, Limit: -1})
	return int64(len(docs)), err
}

func (f *Store) Update(_ context.Context, coll, tenant, id string, doc store.Doc, cond query.Expr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.data[coll][id]
	if !ok || d["corpId"] != tenant {
		return errs.NotFoundf("%s %s not found", coll, id)
	}
	if !match(d, cond) {
		return errs.Conflictf("condition failed")
	}
	f.data[coll][id] = cloneDoc(doc)
	return nil
}

func (f *Store) Delete(_ context.Context, coll, tenant, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.data[coll][id]
	if !ok || d["corpId"] != tenant {
		return errs.NotFoundf("%s %s not found", coll, id)
	}
	delete(f.data[coll], id)
	return nil
}

func (f *Store) Tx(ctx context.Context, fn func(ctx context.Context) error) error { return fn(ctx) }
func (f *Store) EnsureIndex(context.Context, string, []query.Path) error          { return nil }
func (f *Store) Ping(context.Context) error                                       { return nil }
func (f *Store) Close() error                                                     { return nil }

// All returns every document of coll in tenant.
func (f *Store) All(coll, tenant string) []store.Doc {
	docs, _ := f.Find(context.Background(), coll, tenant, query.Query{Limit: -1})
	return docs
}
