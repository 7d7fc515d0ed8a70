package dataflow

import (
	"context"
	"errors"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// A run's writes are not made while its scripts run: scripts run outside
// any store transaction (so a long run holds no write lock and never delays
// other tenants' writes), and records.create/update/remove collect their
// effects here. After the last node succeeds, commit applies them in ONE
// short transaction, all or nothing.
//
// Reads during the run see the committed store plus the run's own pending
// writes (read-your-writes): records.get returns a record as the run left
// it (created, updated, or null once removed); records.find on a form the
// run wrote runs inside a transaction that applies the pending writes and
// is rolled back (it holds the store's write lock for that one query, not
// for the run), so filters, order and paging see the run's own writes.
//
// Optimistic concurrency: the first time a run reads a record from the
// store (get, find, update, remove) its updateTime is remembered; a record
// the run then updates or removes must still carry that updateTime when the
// writes are applied (compare-and-set), otherwise the whole run fails with
// errs.Conflict and writes nothing. Records only read are not re-checked.
// maxPending bounds the data a run may write: maxPending × Limits.IO bytes.
const maxPending = 64

type pending struct {
	docs    map[string]store.Doc // current state of records created/updated by the run
	created map[string]bool
	removed map[string]bool
	seen    map[string]int64 // updateTime when the run first read the record
	order   []string         // ids in the order of their first write
	bytes   int              // JSON bytes of data written (bounded)
}

func newPending() *pending {
	return &pending{docs: map[string]store.Doc{}, created: map[string]bool{}, removed: map[string]bool{},
		seen: map[string]int64{}}
}

// see remembers d's updateTime the first time the run reads it.
func (p *pending) see(d store.Doc) {
	id, _ := d["id"].(string)
	if _, ok := p.seen[id]; !ok && id != "" {
		p.seen[id] = timeOf(d["updateTime"])
	}
}

func (p *pending) touch(id string) {
	if _, ok := p.docs[id]; !ok && !p.removed[id] {
		p.order = append(p.order, id)
	}
}

// commit applies the writes in one transaction. A record changed or
// deleted by someone else since the run read it → errs.Conflict, nothing
// written.
func (p *pending) commit(ctx context.Context, st store.Store, tenant string) error {
	if len(p.order) == 0 {
		return nil
	}
	return st.Tx(ctx, func(ctx context.Context) error { return p.apply(ctx, st, tenant, true) })
}

// errView rolls back the transaction a find's view was read in.
var errView = errors.New("dataflow: read view")

// view runs find inside a transaction holding the run's pending writes,
// then rolls it back: find's filter, order and paging see the run's own
// writes. The transaction lasts one find, not the run.
func (p *pending) view(ctx context.Context, st store.Store, tenant string, find func(ctx context.Context) error) error {
	err := st.Tx(ctx, func(ctx context.Context) error {
		if err := p.apply(ctx, st, tenant, false); err != nil {
			return err
		}
		if err := find(ctx); err != nil {
			return err
		}
		return errView
	})
	if errors.Is(err, errView) {
		return nil
	}
	return err
}

// affects reports whether the run wrote records of form (or removed any).
func (p *pending) affects(form string) bool {
	if len(p.removed) > 0 {
		return true
	}
	for _, d := range p.docs {
		if d["formId"] == form {
			return true
		}
	}
	return false
}

// apply makes the writes in ctx's transaction; check enforces the
// compare-and-set (a read view skips records that vanished meanwhile).
func (p *pending) apply(ctx context.Context, st store.Store, tenant string, check bool) error {
	gone := func(err error) bool {
		c := errs.CodeOf(err)
		return !check && (c == errs.NotFound || c == errs.Conflict)
	}
	for _, id := range p.order {
		switch {
		case p.created[id] && p.removed[id]:
			// created and removed by the run: nothing to do
		case p.created[id]:
			if err := st.Insert(ctx, "formdata", p.docs[id]); err != nil {
				return err
			}
		case p.removed[id]:
			var err error
			if check {
				var cur store.Doc
				cur, err = st.Get(ctx, "formdata", tenant, id)
				if err == nil && timeOf(cur["updateTime"]) != p.seen[id] {
					err = errs.Conflictf("record %s was changed by another writer during the dataflow run", id)
				}
			}
			if err == nil {
				err = st.Delete(ctx, "formdata", tenant, id)
			}
			if err != nil && !gone(err) {
				return conflictOnMissing(err, id)
			}
		default:
			var cond query.Expr
			if check {
				cond = query.Cmp{Path: query.Path{"updateTime"}, Op: query.Eq, Value: p.seen[id]}
				if p.seen[id] == 0 {
					cond = query.Null{Path: query.Path{"updateTime"}, IsNull: true}
				}
			}
			if err := st.Update(ctx, "formdata", tenant, id, p.docs[id], cond); err != nil && !gone(err) {
				if errs.CodeOf(err) == errs.Conflict {
					return errs.Conflictf("record %s was changed by another writer during the dataflow run", id)
				}
				return conflictOnMissing(err, id)
			}
		}
	}
	return nil
}

func conflictOnMissing(err error, id string) error {
	if errs.CodeOf(err) == errs.NotFound {
		return errs.Conflictf("record %s was deleted by another writer during the dataflow run", id)
	}
	return err
}

func timeOf(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case int:
		return int64(x)
	}
	return 0
}
