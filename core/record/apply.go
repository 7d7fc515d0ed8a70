package record

import (
	"context"

	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/store"
)

// Op is the kind of a Write.
type Op int

// The writes Apply makes.
const (
	OpCreate Op = iota + 1
	OpUpdate
	OpDelete
)

// Write is one collected write of a batch (a dataflow run's records.*
// calls): a record built with Build (OpCreate), a record's new state made
// with Merge (OpUpdate, Doc), or a removal (OpDelete, ID). Seen is the
// updateTime the batch read the record at (OpUpdate, OpDelete).
type Write struct {
	Op   Op
	ID   string
	Doc  store.Doc
	Seen int64
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// View applies the writes for a read that is rolled back afterwards:
	// records that vanished or changed meanwhile are skipped instead of
	// failing, and the locks are not checked (nothing is committed).
	View bool
}

// Apply makes ws in order in ctx's transaction (the caller's store.Tx), as
// p acting through an administrator's definition: the flowStatus locks
// apply (access.CheckRecordLock: a record in approval, approved, suspended
// or discarded is not changed — 409 record_locked), the owner rule does
// not. Every update and delete is a compare-and-set on Seen: a record
// changed or deleted by another writer since the batch read it → Conflict,
// and the caller's transaction rolls everything back.
func (s *Service) Apply(ctx context.Context, p *principal.Principal, ws []Write, o ApplyOptions) error {
	if p == nil || p.Tenant == "" {
		return errs.Unauthorizedf("no authenticated tenant")
	}
	tenant := p.Tenant
	gone := func(err error) bool {
		c := errs.CodeOf(err)
		return o.View && (c == errs.NotFound || c == errs.Conflict)
	}
	for _, w := range ws {
		switch w.Op {
		case OpCreate:
			if w.Doc["corpId"] != tenant {
				return errs.Newf(errs.Internal, "record: created in another tenant")
			}
			if err := s.st.Insert(ctx, Coll, w.Doc); err != nil {
				return err
			}
		case OpUpdate, OpDelete:
			if o.View {
				err := s.applyView(ctx, tenant, w)
				if err != nil && !gone(err) {
					return err
				}
				continue
			}
			cur, err := s.st.Get(ctx, Coll, tenant, w.ID)
			if errs.CodeOf(err) == errs.NotFound {
				return errs.Conflictf("record %s was deleted by another writer", w.ID)
			}
			if err != nil {
				return err
			}
			if TimeOf(cur["updateTime"]) != w.Seen {
				return errs.Conflictf("record %s was changed by another writer", w.ID)
			}
			op := access.Update
			if w.Op == OpDelete {
				op = access.Delete
			}
			if err := s.check(ctx, p, cur, op, false); err != nil {
				return err
			}
			if w.Op == OpDelete {
				if s.wf != nil {
					if err := s.wf.CancelForRecord(ctx, tenant, w.ID); err != nil {
						return err
					}
				}
				err = s.del(ctx, tenant, cur)
			} else {
				err = s.put(ctx, tenant, w.Doc, cur)
			}
			if err != nil {
				return err
			}
		default:
			return errs.Newf(errs.Internal, "record: unknown write op %d", w.Op)
		}
	}
	return nil
}

// applyView makes w without checks (a rolled-back read view).
func (s *Service) applyView(ctx context.Context, tenant string, w Write) error {
	if w.Op == OpDelete {
		return s.st.Delete(ctx, Coll, tenant, w.ID)
	}
	return s.st.Update(ctx, Coll, tenant, w.ID, w.Doc, nil)
}
