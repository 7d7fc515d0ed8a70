package dataflow

import (
	"context"
	"errors"

	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/record"
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
		p.seen[id] = record.TimeOf(d["updateTime"])
	}
}

func (p *pending) touch(id string) {
	if _, ok := p.docs[id]; !ok && !p.removed[id] {
		p.order = append(p.order, id)
	}
}

// commit applies the writes in one transaction through the record core
// (record.Service.Apply: the flowStatus locks, and a compare-and-set on
// the updateTime the run read). A record changed or deleted by someone else
// since the run read it → errs.Conflict; a locked record → errs.Conflict
// (record_locked); nothing written.
func (p *pending) commit(ctx context.Context, st store.Store, rec *record.Service, actor *principal.Principal) error {
	if len(p.order) == 0 {
		return nil
	}
	ws := p.writes()
	return st.Tx(ctx, func(ctx context.Context) error { return rec.Apply(ctx, actor, ws, record.ApplyOptions{}) })
}

// errView rolls back the transaction a find's view was read in.
var errView = errors.New("dataflow: read view")

// view runs find inside a transaction holding the run's pending writes,
// then rolls it back: find's filter, order and paging see the run's own
// writes. The transaction lasts one find, not the run.
func (p *pending) view(ctx context.Context, st store.Store, rec *record.Service, actor *principal.Principal, find func(ctx context.Context) error) error {
	ws := p.writes()
	err := st.Tx(ctx, func(ctx context.Context) error {
		if err := rec.Apply(ctx, actor, ws, record.ApplyOptions{View: true}); err != nil {
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

// writes lists the run's net effect in the order of first write.
func (p *pending) writes() []record.Write {
	ws := make([]record.Write, 0, len(p.order))
	for _, id := range p.order {
		switch {
		case p.created[id] && p.removed[id]:
			// created and removed by the run: nothing to do
		case p.created[id]:
			ws = append(ws, record.Write{Op: record.OpCreate, ID: id, Doc: p.docs[id]})
		case p.removed[id]:
			ws = append(ws, record.Write{Op: record.OpDelete, ID: id, Seen: p.seen[id]})
		default:
			ws = append(ws, record.Write{Op: record.OpUpdate, ID: id, Doc: p.docs[id], Seen: p.seen[id]})
		}
	}
	return ws
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
