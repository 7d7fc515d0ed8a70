package messages

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// dispatchBatch bounds the entries one pass claims.
const dispatchBatch = 50

// Run is the dispatcher: until ctx ends it delivers due queue entries,
// every Interval and whenever Send queued a message. It returns ctx's
// error; without a gateway it returns at once (errNoGateway).
func (b *Outbox) Run(ctx context.Context) error {
	if b.o.Gateway == nil {
		return errNoGateway
	}
	if err := b.st.EnsureIndex(ctx, CollQueue, []query.Path{{"next"}}); err != nil {
		b.o.Logger.WarnContext(ctx, "outbox queue index not declared", "err", err)
	}
	t := time.NewTicker(b.o.Interval)
	defer t.Stop()
	for {
		for {
			n, err := b.DispatchDue(ctx)
			if err != nil && ctx.Err() == nil {
				b.o.Logger.WarnContext(ctx, "outbox dispatch pass failed", "err", err)
			}
			if n < dispatchBatch || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-b.wake:
		}
	}
}

// DispatchDue makes one pass: it claims up to a batch of queue entries
// that are due, delivers each and records the outcome. It returns how many
// it claimed. Entries another dispatcher claimed first are skipped.
func (b *Outbox) DispatchDue(ctx context.Context) (int, error) {
	if b.o.Gateway == nil {
		return 0, errNoGateway
	}
	now := b.o.Now().UnixMilli()
	due, err := b.st.Find(ctx, CollQueue, "", query.Query{
		Filter: query.Cmp{Path: query.Path{"next"}, Op: query.Le, Value: now},
		Sort:   []query.Sort{{Path: query.Path{"next"}}}, Limit: dispatchBatch})
	if err != nil {
		return 0, fmt.Errorf("list due outbox entries: %w", err)
	}
	claimed := 0
	for _, q := range due {
		if ctx.Err() != nil {
			return claimed, ctx.Err()
		}
		ok, err := b.claim(ctx, q, now)
		if err != nil {
			return claimed, err
		}
		if !ok {
			continue
		}
		claimed++
		if err := b.dispatch(ctx, q); err != nil {
			return claimed, err
		}
	}
	return claimed, nil
}

// claim leases entry q: its next moves Lease ahead (compare-and-set on
// the next read), so a dispatcher that dies leaves it due again later.
func (b *Outbox) claim(ctx context.Context, q store.Doc, now int64) (bool, error) {
	id, _ := q["id"].(string)
	old := q["next"]
	q["next"] = now + b.o.Lease.Milliseconds()
	err := b.st.Update(ctx, CollQueue, "", id, q, query.Cmp{Path: query.Path{"next"}, Op: query.Eq, Value: old})
	if err == nil {
		return true, nil
	}
	switch errs.CodeOf(err) {
	case errs.Conflict, errs.NotFound:
		return false, nil // another dispatcher has it
	}
	return false, fmt.Errorf("claim outbox entry %s: %w", id, err)
}

// dispatch delivers the claimed entry q and records the outcome on the row
// and the entry, in one transaction.
func (b *Outbox) dispatch(ctx context.Context, q store.Doc) error {
	id, _ := q["id"].(string)
	tenant, _ := q["tenant"].(string)
	row, err := b.st.Get(ctx, CollOutbox, tenant, id)
	if errs.CodeOf(err) == errs.NotFound {
		return b.st.Delete(ctx, CollQueue, "", id) // the row is gone: nothing to send
	}
	if err != nil {
		return fmt.Errorf("load outbox row %s: %w", id, err)
	}
	m := Message{Tenant: tenant}
	m.Channel, _ = row["channel"].(string)
	m.To, _ = row["to"].(string)
	m.Subject, _ = row["subject"].(string)
	m.Body, _ = row["body"].(string)
	m.Template, _ = row["template"].(string)
	m.Purpose, _ = row["purpose"].(string)
	log := b.o.Logger.With("tenant", tenant, "channel", m.Channel, "to", MaskRecipient(m.To), "outbox", id)

	attempts := asInt(q["attempts"]) + 1
	derr := b.deliver(ctx, m, b.o.SendTimeout)
	if derr != nil && ctx.Err() != nil {
		return ctx.Err() // shutting down: the lease brings it back
	}
	return b.st.Tx(context.WithoutCancel(ctx), func(tx context.Context) error {
		cur, err := b.st.Get(tx, CollOutbox, tenant, id)
		if err != nil {
			return err
		}
		switch {
		case derr == nil:
			log.InfoContext(ctx, "outbox message delivered", "attempts", attempts)
			if err := b.mark(tx, cur, StatusSent, attempts, ""); err != nil {
				return err
			}
			return b.st.Delete(tx, CollQueue, "", id)
		case attempts >= int64(b.o.MaxAttempts):
			log.ErrorContext(ctx, "outbox message failed; giving up", "attempts", attempts, "err", derr)
			if err := b.mark(tx, cur, StatusFailed, attempts, errText(derr)); err != nil {
				return err
			}
			return b.st.Delete(tx, CollQueue, "", id)
		}
		wait := b.backoff(attempts)
		log.WarnContext(ctx, "outbox message not delivered; retrying", "attempts", attempts, "retryIn", wait, "err", derr)
		if err := b.mark(tx, cur, StatusPending, attempts, errText(derr)); err != nil {
			return err
		}
		q["attempts"] = attempts
		q["next"] = b.o.Now().Add(wait).UnixMilli()
		return b.st.Update(tx, CollQueue, "", id, q, nil)
	})
}

// backoff is the wait after the attempts-th failed delivery.
func (b *Outbox) backoff(attempts int64) time.Duration {
	d := b.o.Backoff
	for i := int64(1); i < attempts && d < b.o.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, b.o.MaxBackoff)
}

// IsNoGateway reports whether err is Run's answer without a gateway.
func IsNoGateway(err error) bool { return errors.Is(err, errNoGateway) }
