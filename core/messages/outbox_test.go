package messages_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/messages"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// relay is a real HTTP relay behind the Webhook gateway: it records what
// it receives and answers 503 to the first fail requests.
type relay struct {
	srv  *httptest.Server
	fail atomic.Int64
	mu   sync.Mutex
	got  []map[string]string
}

func newRelay(t testing.TB, fail int) *relay {
	r := &relay{}
	r.fail.Store(int64(fail))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Authorization") != "Bearer relay-key" {
			http.Error(w, "no key", http.StatusUnauthorized)
			return
		}
		if r.fail.Add(-1) >= 0 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		var m map[string]string
		if err := json.NewDecoder(req.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.got = append(r.got, m)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *relay) gateway() *messages.Webhook {
	return &messages.Webhook{URL: r.srv.URL, Header: http.Header{"Authorization": {"Bearer relay-key"}}}
}

func (r *relay) received() []map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]string(nil), r.got...)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openStore(t testing.TB, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func rows(t *testing.T, st store.Store, tenant string) []store.Doc {
	t.Helper()
	docs, err := st.Find(context.Background(), messages.CollOutbox, tenant, query.Query{Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func queued(t *testing.T, st store.Store) int64 {
	t.Helper()
	n, err := st.Count(context.Background(), messages.CollQueue, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var mail = messages.Message{Tenant: "t1", Channel: messages.ChannelEmail, To: "ann@example.com", Subject: "Hi", Body: "hello"}

func TestQueuedMessageSurvivesRestartAndIsSentOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hub.db")
	st := openStore(t, path)
	r := newRelay(t, 0)
	clk := &clock{t: time.UnixMilli(1_700_000_000_000)}
	b := messages.New(st, messages.Options{Gateway: r.gateway(), Now: clk.Now})
	if err := b.Send(ctx, mail); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, st, "t1"); len(got) != 1 || got[0]["status"] != messages.StatusPending || got[0]["body"] != "hello" {
		t.Fatalf("rows after send = %v", got)
	}
	// The process stops before dispatching; a new one over the same file
	// delivers it.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openStore(t, path)
	defer st.Close()
	b = messages.New(st, messages.Options{Gateway: r.gateway(), Now: clk.Now})
	n, err := b.DispatchDue(ctx)
	if err != nil || n != 1 {
		t.Fatalf("DispatchDue = %d, %v", n, err)
	}
	if got := r.received(); len(got) != 1 || got[0]["to"] != "ann@example.com" || got[0]["body"] != "hello" || got[0]["tenant"] != "t1" {
		t.Fatalf("relay got %v", got)
	}
	row := rows(t, st, "t1")[0]
	if row["status"] != messages.StatusSent || row["attempts"] != int64(1) || row["sentTime"] == nil {
		t.Fatalf("row = %v", row)
	}
	if q := queued(t, st); q != 0 {
		t.Fatalf("%d entries still queued", q)
	}
	if n, _ := b.DispatchDue(ctx); n != 0 || len(r.received()) != 1 {
		t.Fatalf("a second pass sent again: %d, %d", n, len(r.received()))
	}
}

func TestRolledBackSendLeavesNothing(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "hub.db"))
	defer st.Close()
	r := newRelay(t, 0)
	b := messages.New(st, messages.Options{Gateway: r.gateway()})
	boom := errors.New("the caller's write failed")
	err := st.Tx(ctx, func(ctx context.Context) error {
		if err := b.Send(ctx, mail); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v", err)
	}
	if got := rows(t, st, "t1"); len(got) != 0 {
		t.Fatalf("rows = %v", got)
	}
	if q := queued(t, st); q != 0 {
		t.Fatalf("%d queued", q)
	}
	if n, _ := b.DispatchDue(ctx); n != 0 || len(r.received()) != 0 {
		t.Fatalf("sent a rolled-back message")
	}
}

func TestRetriesWithBackoffThenSucceeds(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "hub.db"))
	defer st.Close()
	r := newRelay(t, 2)
	clk := &clock{t: time.UnixMilli(1_700_000_000_000)}
	b := messages.New(st, messages.Options{Gateway: r.gateway(), Now: clk.Now, Backoff: time.Minute, MaxAttempts: 5})
	if err := b.Send(ctx, mail); err != nil {
		t.Fatal(err)
	}
	for i, step := range []struct {
		advance time.Duration
		claimed int
		status  string
		tries   int64
	}{
		{0, 1, messages.StatusPending, 1},                 // 503: retry in 1 min
		{59 * time.Second, 0, messages.StatusPending, 1},  // not due yet
		{time.Second, 1, messages.StatusPending, 2},       // 503: retry in 2 min
		{119 * time.Second, 0, messages.StatusPending, 2}, // not due yet
		{time.Second, 1, messages.StatusSent, 3},          // delivered
		{time.Hour, 0, messages.StatusSent, 3},            // nothing left
	} {
		clk.Add(step.advance)
		n, err := b.DispatchDue(ctx)
		if err != nil || n != step.claimed {
			t.Fatalf("step %d: DispatchDue = %d, %v", i, n, err)
		}
		row := rows(t, st, "t1")[0]
		if row["status"] != step.status || row["attempts"] != step.tries {
			t.Fatalf("step %d: row = %v", i, row)
		}
		if step.status == messages.StatusPending && !strings.Contains(row["lastError"].(string), "503") {
			t.Fatalf("step %d: lastError = %v", i, row["lastError"])
		}
	}
	if len(r.received()) != 1 {
		t.Fatalf("relay got %d", len(r.received()))
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "hub.db"))
	defer st.Close()
	r := newRelay(t, 100)
	clk := &clock{t: time.UnixMilli(1_700_000_000_000)}
	b := messages.New(st, messages.Options{Gateway: r.gateway(), Now: clk.Now, Backoff: time.Second, MaxAttempts: 3})
	if err := b.Send(ctx, mail); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := b.DispatchDue(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Hour)
	}
	row := rows(t, st, "t1")[0]
	if row["status"] != messages.StatusFailed || row["attempts"] != int64(3) {
		t.Fatalf("row = %v", row)
	}
	if q := queued(t, st); q != 0 {
		t.Fatalf("%d still queued", q)
	}
}

func TestConcurrentDispatchersDeliverOnce(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "hub.db"))
	defer st.Close()
	r := newRelay(t, 0)
	a := messages.New(st, messages.Options{Gateway: r.gateway()})
	b := messages.New(st, messages.Options{Gateway: r.gateway()})
	const n = 20
	for i := range n {
		m := mail
		m.To = "user" + string(rune('a'+i)) + "@example.com"
		if err := a.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, o := range []*messages.Outbox{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := o.DispatchDue(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for _, m := range r.received() {
		seen[m["to"]]++
	}
	if len(seen) != n {
		t.Fatalf("delivered to %d of %d", len(seen), n)
	}
	for to, c := range seen {
		if c != 1 {
			t.Errorf("%s got %d copies", to, c)
		}
	}
}

func TestSecretIsDeliveredInSendAndNeverStored(t *testing.T) {
	ctx := context.Background()
	code := messages.Message{Tenant: "t1", Channel: messages.ChannelSMS, To: "13800000001",
		Body: "您的验证码是 246810，5 分钟内有效。", Secret: "246810", Template: messages.TemplateVerificationCode, Purpose: "login"}
	for _, tc := range []struct {
		name    string
		fail    int
		wantErr bool
		status  string
		tries   int64
	}{
		{"first try", 0, false, messages.StatusSent, 1},
		{"after a retry", 1, false, messages.StatusSent, 2},
		{"gateway down", 10, true, messages.StatusFailed, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t, filepath.Join(t.TempDir(), "hub.db"))
			defer st.Close()
			r := newRelay(t, tc.fail)
			b := messages.New(st, messages.Options{Gateway: r.gateway(), SecretBackoff: time.Millisecond})
			err := b.Send(ctx, code)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Send = %v", err)
			}
			got := rows(t, st, "t1")
			if len(got) != 1 || got[0]["status"] != tc.status || got[0]["attempts"] != tc.tries {
				t.Fatalf("rows = %v", got)
			}
			raw, _ := json.Marshal(got[0])
			if strings.Contains(string(raw), "246810") || !strings.Contains(string(raw), "******") {
				t.Fatalf("the stored row holds the code or no mask: %s", raw)
			}
			if q := queued(t, st); q != 0 {
				t.Fatalf("a secret message was queued (%d)", q)
			}
			if !tc.wantErr {
				if rc := r.received(); len(rc) != 1 || !strings.Contains(rc[0]["body"], "246810") {
					t.Fatalf("the recipient did not get the code: %v", rc)
				}
			}
		})
	}
}

func TestWithoutGatewayRowsAreRecorded(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "hub.db"))
	defer st.Close()
	b := messages.New(st, messages.Options{})
	code := mail
	code.Body, code.Secret = "code 123456", "123456"
	for _, m := range []messages.Message{mail, code} {
		if err := b.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range rows(t, st, "t1") {
		if r["status"] != messages.StatusRecorded || strings.Contains(r["body"].(string), "123456") {
			t.Fatalf("row = %v", r)
		}
	}
	if q := queued(t, st); q != 0 {
		t.Fatalf("%d queued without a gateway", q)
	}
	if err := b.Run(ctx); !messages.IsNoGateway(err) {
		t.Fatalf("Run without gateway = %v", err)
	}
}

func TestBadMessagesAreRefused(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "hub.db"))
	defer st.Close()
	b := messages.New(st, messages.Options{})
	for _, m := range []messages.Message{
		{Channel: "sms", To: "1380000"},
		{Tenant: "t1", To: "1380000"},
		{Tenant: "t1", Channel: "sms"},
	} {
		if err := b.Send(context.Background(), m); err == nil {
			t.Errorf("Send(%+v) = nil", m)
		}
	}
	if got := rows(t, st, "t1"); len(got) != 0 {
		t.Fatalf("rows = %v", got)
	}
}

func TestRunDeliversPromptlyAndStops(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "hub.db"))
	defer st.Close()
	r := newRelay(t, 0)
	b := messages.New(st, messages.Options{Gateway: r.gateway(), Interval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	if err := b.Send(context.Background(), mail); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(r.received()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if len(r.received()) != 1 {
		t.Fatalf("Send did not wake the dispatcher (interval 1 h): %d delivered", len(r.received()))
	}
}
