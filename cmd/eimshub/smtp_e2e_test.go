package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eimshub/eimshub/core/messages/messagestest"
)

// TestOutboxThroughSMTP: with messages.smtp the hub's outbox delivers
// e-mail to a real SMTP relay; SMS, which has no gateway then, is not sent
// by it and its row does not say sent.
func TestOutboxThroughSMTP(t *testing.T) {
	t.Parallel()
	relay := messagestest.StartSMTPRelay(t, false, false)
	example, err := os.ReadFile(filepath.Join(repoRoot(t), "config", "eimshub.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(example) + fmt.Sprintf("\nmessages:\n  smtp:\n    addr: %s\n    security: none\n    from: \"EIMS Hub <noreply@hub.test>\"\n", relay.Addr)
	path := filepath.Join(t.TempDir(), "hub.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startHubAt(t, path, t.TempDir())
	admin, _ := h.login("demo-client", "demo-secret", "admin", "admin-pass")

	q := h.jsonReq("POST", "/api/v1/outbox", admin, map[string]any{"channel": "email", "to": "ann@example.com", "subject": "周报", "body": "见附件"})
	mustStatus(t, "queue an e-mail", q, 200)
	id, _ := q.json(t)["id"].(string)
	deadline := time.Now().Add(10 * time.Second)
	for len(relay.Received()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	got := relay.Received()
	if len(got) != 1 || got[0].From != "noreply@hub.test" || len(got[0].To) != 1 || got[0].To[0] != "ann@example.com" ||
		!strings.Contains(string(got[0].Data), "Subject: =?utf-8?") {
		t.Fatalf("relay got %+v", got)
	}
	var row resp
	for {
		row = h.do("GET", "/api/v1/outbox/"+id, admin, "", nil)
		mustStatus(t, "outbox row", row, 200)
		if row.json(t)["status"] == "sent" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := row.json(t)["status"]; st != "sent" {
		t.Fatalf("outbox row = %s", row.body)
	}

	s := h.jsonReq("POST", "/api/v1/outbox", admin, map[string]any{"channel": "sms", "to": "13800000009", "body": "x"})
	mustStatus(t, "queue an SMS", s, 200)
	sid, _ := s.json(t)["id"].(string)
	time.Sleep(300 * time.Millisecond)
	if r := h.do("GET", "/api/v1/outbox/"+sid, admin, "", nil); r.json(t)["status"] == "sent" {
		t.Fatalf("an SMS without a gateway says sent: %s", r.body)
	}
	if n := len(relay.Received()); n != 1 {
		t.Fatalf("the SMTP relay received %d messages", n)
	}
}
