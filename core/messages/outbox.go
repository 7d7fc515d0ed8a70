package messages

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// Collections.
const (
	// CollOutbox holds one document per message, in the message's tenant
	// (admin-readable; the entity kind "outbox").
	CollOutbox = "outbox"
	// CollQueue holds the queue entries of undelivered ordinary messages,
	// in the system scope (tenant ""), so one dispatcher serves every
	// tenant: {id (= the outbox row's), tenant, next (epoch ms), attempts}.
	CollQueue = "outboxqueue"
)

// Outbox row statuses.
const (
	StatusRecorded = "recorded" // no gateway configured: kept, not delivered
	StatusPending  = "pending"  // queued (or being retried: see attempts, lastError)
	StatusSending  = "sending"  // a secret message being delivered during Send
	StatusSent     = "sent"
	StatusFailed   = "failed" // gave up (secret: at once; ordinary: after MaxAttempts)
)

// Options configure an Outbox. Zero fields take the defaults.
type Options struct {
	// Gateway delivers messages. Default: none — rows are "recorded".
	Gateway Sender
	// Logger receives operational messages (channel and masked recipient,
	// never a body). Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// MaxAttempts bounds the deliveries of a queued message. Default: 8.
	MaxAttempts int
	// Backoff is the wait after the first failed delivery; it doubles
	// after each further failure up to MaxBackoff. Default: 30 s.
	Backoff time.Duration
	// MaxBackoff caps the wait between deliveries. Default: 1 h.
	MaxBackoff time.Duration
	// Lease is how long a dispatcher owns a claimed entry: one that died
	// mid-delivery leaves it to be claimed again after Lease (delivery is
	// at least once). Default: 2 min.
	Lease time.Duration
	// Interval is how often Run looks for due entries (Send also wakes it).
	// Default: 2 s.
	Interval time.Duration
	// SecretAttempts bounds the in-memory deliveries of a secret message
	// within Send (SecretBackoff apart, doubling). Default: 3, 200 ms.
	SecretAttempts int
	SecretBackoff  time.Duration
	// SendTimeout bounds one gateway call of a queued message. Default:
	// 30 s.
	SendTimeout time.Duration
	// SecretTimeout bounds one gateway call of a secret message (its
	// caller waits). Default: 10 s.
	SecretTimeout time.Duration
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Backoff <= 0 {
		o.Backoff = 30 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Hour
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.SecretAttempts <= 0 {
		o.SecretAttempts = 3
	}
	if o.SecretBackoff <= 0 {
		o.SecretBackoff = 200 * time.Millisecond
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 30 * time.Second
	}
	if o.SecretTimeout <= 0 {
		o.SecretTimeout = 10 * time.Second
	}
}

// Outbox records and delivers messages; it is the hub's Sender. Safe for
// concurrent use; several instances (processes) may share a store.
type Outbox struct {
	st   store.Store
	o    Options
	wake chan struct{}
}

// New returns an Outbox over st.
func New(st store.Store, o Options) *Outbox {
	o.defaults()
	return &Outbox{st: st, o: o, wake: make(chan struct{}, 1)}
}

// Delivers reports whether a gateway is configured.
func (b *Outbox) Delivers() bool { return b.o.Gateway != nil }

// Send implements Sender: it records m (see the package doc for queued,
// secret and recorded messages). ctx may carry a store transaction, which
// the row and the queue entry join.
func (b *Outbox) Send(ctx context.Context, m Message) error {
	_, err := b.Enqueue(ctx, m)
	return err
}

// Enqueue is Send returning the outbox row as written (a secret message:
// after its delivery).
func (b *Outbox) Enqueue(ctx context.Context, m Message) (store.Doc, error) {
	if m.Tenant == "" {
		return nil, errs.Invalidf("outbox message without a tenant")
	}
	if m.Channel == "" || m.To == "" {
		return nil, errs.Invalidf("outbox message without a channel or recipient")
	}
	ms := b.o.Now().UnixMilli()
	doc := store.Doc{
		"id": store.NewID(), "corpId": m.Tenant,
		"channel": m.Channel, "to": m.To, "subject": m.Subject, "body": m.Redacted(),
		"status": StatusRecorded, "attempts": int64(0), "createTime": ms, "updateTime": ms,
	}
	if m.Template != "" {
		doc["template"] = m.Template
	}
	if m.Purpose != "" {
		doc["purpose"] = m.Purpose
	}
	if m.By != nil {
		doc["createBy"], doc["updateBy"] = m.By, m.By
	}
	log := b.o.Logger.With("tenant", m.Tenant, "channel", m.Channel, "to", MaskRecipient(m.To), "outbox", doc["id"])
	switch {
	case b.o.Gateway == nil:
		if err := b.st.Insert(ctx, CollOutbox, doc); err != nil {
			return nil, fmt.Errorf("record %s message: %w", m.Channel, err)
		}
		log.InfoContext(ctx, "message recorded in outbox (no gateway configured)")
		return doc, nil
	case m.Secret != "":
		return b.sendSecret(ctx, m, doc, log)
	}
	doc["status"] = StatusPending
	err := b.st.Tx(ctx, func(ctx context.Context) error {
		if err := b.st.Insert(ctx, CollOutbox, doc); err != nil {
			return err
		}
		return b.st.Insert(ctx, CollQueue, store.Doc{"id": doc["id"], "corpId": "", "tenant": m.Tenant,
			"next": ms, "attempts": int64(0)})
	})
	if err != nil {
		return nil, fmt.Errorf("queue %s message: %w", m.Channel, err)
	}
	log.InfoContext(ctx, "message queued in outbox")
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return doc, nil
}

// sendSecret delivers a message holding a secret during the call: the row
// (body masked) is written first, status "sending", then updated to sent
// or failed. Retries stay in memory.
func (b *Outbox) sendSecret(ctx context.Context, m Message, doc store.Doc, log *slog.Logger) (store.Doc, error) {
	doc["status"] = StatusSending
	if err := b.st.Insert(ctx, CollOutbox, doc); err != nil {
		return nil, fmt.Errorf("record %s message: %w", m.Channel, err)
	}
	var err error
	wait := b.o.SecretBackoff
	attempts := 0
	for attempts < b.o.SecretAttempts {
		attempts++
		if err = b.deliver(ctx, m, b.o.SecretTimeout); err == nil {
			break
		}
		log.WarnContext(ctx, "secret message not delivered", "attempt", attempts, "err", err)
		if attempts == b.o.SecretAttempts || sleep(ctx, wait) != nil {
			break
		}
		wait *= 2
	}
	status, lastErr := StatusSent, ""
	if err != nil {
		status, lastErr = StatusFailed, errText(err)
	}
	if uerr := b.mark(context.WithoutCancel(ctx), doc, status, int64(attempts), lastErr); uerr != nil {
		log.ErrorContext(ctx, "outbox row not updated after a secret send", "status", status, "err", uerr)
	}
	if err != nil {
		return nil, fmt.Errorf("deliver %s message: %w", m.Channel, err)
	}
	log.InfoContext(ctx, "secret message delivered", "attempts", attempts)
	return doc, nil
}

// mark sets a row's delivery state (compare-and-set on its updateTime).
func (b *Outbox) mark(ctx context.Context, doc store.Doc, status string, attempts int64, lastErr string) error {
	old := doc["updateTime"]
	now := b.o.Now().UnixMilli()
	doc["status"], doc["attempts"] = status, attempts
	doc["updateTime"] = max(now, asInt(old)+1)
	if lastErr != "" {
		doc["lastError"] = lastErr
	} else {
		delete(doc, "lastError")
	}
	if status == StatusSent {
		doc["sentTime"] = now
	}
	tenant, _ := doc["corpId"].(string)
	id, _ := doc["id"].(string)
	return b.st.Update(ctx, CollOutbox, tenant, id, doc, query.Cmp{Path: query.Path{"updateTime"}, Op: query.Eq, Value: old})
}

// deliver is one gateway call, bounded by timeout.
func (b *Outbox) deliver(ctx context.Context, m Message, timeout time.Duration) (err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gateway panicked: %v", r)
		}
	}()
	return b.o.Gateway.Send(ctx, m)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errText is the lastError kept on a row: the gateway's error, bounded.
func errText(err error) string {
	s := err.Error()
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}

func asInt(v any) int64 {
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

var errNoGateway = errors.New("messages: no gateway configured")
