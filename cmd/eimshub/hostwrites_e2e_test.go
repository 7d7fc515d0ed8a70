package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// smsRelay is the operator's relay behind messages.webhookURL: a real HTTP
// server that records what the hub's outbox delivers.
type smsRelay struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []map[string]string
}

func newSMSRelay(t *testing.T) *smsRelay {
	r := &smsRelay{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Authorization") != "Bearer relay-token" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
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

// to returns the messages delivered to addr, waiting up to 10 s for n.
func (r *smsRelay) to(t *testing.T, addr string, n int) []map[string]string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		var out []map[string]string
		for _, m := range r.got {
			if m["to"] == addr {
				out = append(out, m)
			}
		}
		r.mu.Unlock()
		if len(out) >= n || time.Now().After(deadline) {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMessagingThroughNativeAPIAndPlugin runs a hub with the example
// connector as a plugin process and an SMS/mail relay, and checks issue 11
// #5 end to end: the messaging writes are the native API's, a connector
// acting as a principal can do exactly what that principal can through
// /api/v1 (the same refusals), and every send — /auth/sendcode, POST
// /api/v1/outbox, the connector's — goes through the one outbox to the
// relay.
func TestMessagingThroughNativeAPIAndPlugin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	relay := newSMSRelay(t)
	plugin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join(repoRoot(t), "config", "eimshub.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(example), "\nconnectors:\n", fmt.Sprintf(`
connectors:
  example:
    command: %s
    sha256: %s
    mount: /ex
    config: {greeting: hi}
`, plugin, fileSHA256(t, plugin)), 1)
	cfg += fmt.Sprintf("\nmessages:\n  webhookURL: %s\n  webhookToken: relay-token\n", relay.srv.URL)
	path := filepath.Join(dir, "hub.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startHubAt(t, path, t.TempDir())
	admin, _ := h.login("demo-client", "demo-secret", "admin", "admin-pass")
	alice, _ := h.login("demo-client", "demo-secret", "alice", "alice-pass")
	bob, _ := h.login("demo-client", "demo-secret", "bob", "bob-pass")
	userID := func(name string) string {
		r := h.do("GET", "/api/v1/user?$select=id&$filter="+url.QueryEscape("userName eq '"+name+"'"), admin, "", nil)
		mustStatus(t, "user "+name, r, 200)
		v, _ := r.json(t)["value"].([]any)
		if len(v) != 1 {
			t.Fatalf("user %s: %s", name, r.body)
		}
		return v[0].(map[string]any)["id"].(string)
	}
	aliceID, bobID := userID("alice"), userID("bob")
	result := func(r resp) map[string]any {
		t.Helper()
		m, _ := r.json(t)["result"].(map[string]any)
		if m == nil {
			m = r.json(t)
		}
		return m
	}

	// Refusals: alice (no admin role, no message.send) gets the same
	// status and the same reason natively and through the connector.
	sched := h.jsonReq("POST", "/api/v1/schedule", admin, map[string]any{"content": "admin's"})
	mustStatus(t, "admin's schedule", sched, 200)
	entry := h.jsonReq("POST", "/ex/entity/auditlog", admin, map[string]any{"entityType": "orders", "detail": "x"})
	mustStatus(t, "admin appends through the plugin", entry, 200)
	sid, aid := sched.json(t)["id"].(string), result(entry)["id"].(string)
	for _, c := range []struct {
		name, method, entity, id string
		body                     map[string]any
		status                   int
		reason                   string
	}{
		{"send a message", "POST", "message", "", map[string]any{"title": "x", "receiverEmpId": bobID}, 403, "message.send permission"},
		{"send an SMS", "POST", "outbox", "", map[string]any{"channel": "sms", "to": "13800000009", "body": "x"}, 403, "message.send permission"},
		{"write bob's schedule", "POST", "schedule", "", map[string]any{"content": "x", "userId": bobID}, 403, "other users' schedules"},
		{"change admin's schedule", "PATCH", "schedule", sid, map[string]any{"content": "y"}, 404, "not found"},
		{"rewrite the audit log", "PATCH", "auditlog", aid, map[string]any{"detail": "y"}, 405, "never rewritten"},
		{"erase the audit log", "DELETE", "auditlog", aid, nil, 405, "read-only"},
	} {
		suffix := c.entity
		if c.id != "" {
			suffix += "/" + c.id
		}
		native := h.jsonReq(c.method, "/api/v1/"+suffix, alice, c.body)
		viaPlugin := h.jsonReq(c.method, "/ex/entity/"+suffix, alice, c.body)
		if native.status != c.status || viaPlugin.status != c.status {
			t.Errorf("%s: native %d %s, plugin %d %s; want %d", c.name, native.status, native.body, viaPlugin.status, viaPlugin.body, c.status)
			continue
		}
		if !strings.Contains(string(native.body), c.reason) || !strings.Contains(string(viaPlugin.body), c.reason) {
			t.Errorf("%s: reasons differ:\n native %s\n plugin %s", c.name, native.body, viaPlugin.body)
		}
	}

	// A notice sent through the connector is bob's: he lists it natively,
	// marks it read through the connector and deletes it natively.
	sent := h.jsonReq("POST", "/ex/entity/message", admin, map[string]any{"title": "会议通知", "detail": "下午 3 点", "receiverEmpId": bobID})
	mustStatus(t, "send through the plugin", sent, 200)
	mid := result(sent)["id"].(string)
	r := h.do("GET", "/api/v1/message?$filter="+url.QueryEscape("isRead eq false"), bob, "", nil)
	mustStatus(t, "bob's unread", r, 200)
	if !strings.Contains(string(r.body), mid) || !strings.Contains(string(r.body), `"会议通知"`) {
		t.Fatalf("bob's unread = %s", r.body)
	}
	mustStatus(t, "alice does not see it", h.do("GET", "/api/v1/message/"+mid, alice, "", nil), 404)
	r = h.jsonReq("PATCH", "/ex/entity/message/"+mid, bob, map[string]any{"isRead": true})
	mustStatus(t, "bob marks it read through the plugin", r, 200)
	if m := result(r); m["isRead"] != true || m["readTime"] == nil {
		t.Fatalf("marked = %s", r.body)
	}
	mustStatus(t, "bob deletes it natively", h.do("DELETE", "/api/v1/message/"+mid, bob, "", nil), 204)

	// E-mail queued through the connector reaches the relay by the
	// dispatcher; the row says sent.
	q := h.jsonReq("POST", "/ex/entity/outbox", admin, map[string]any{"channel": "email", "to": "ann@example.com", "subject": "周报", "body": "见附件"})
	mustStatus(t, "queue an e-mail through the plugin", q, 200)
	if got := relay.to(t, "ann@example.com", 1); len(got) != 1 || got[0]["body"] != "见附件" || got[0]["channel"] != "email" {
		t.Fatalf("relay got %v", got)
	}
	oid := result(q)["id"].(string)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = h.do("GET", "/api/v1/outbox/"+oid, admin, "", nil)
		mustStatus(t, "outbox row", r, 200)
		if r.json(t)["status"] == "sent" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := r.json(t)["status"]; st != "sent" {
		t.Fatalf("outbox row = %s", r.body)
	}

	// A code sent by the connector and one of /auth/sendcode take the
	// same path: delivered to the relay, masked in the outbox.
	code := h.jsonReq("POST", "/ex/entity/outbox", admin, map[string]any{"channel": "sms", "to": "13900000001", "body": "验证码 735194", "secret": "735194"})
	mustStatus(t, "code through the plugin", code, 200)
	if strings.Contains(string(code.body), "735194") {
		t.Fatalf("the answer holds the code: %s", code.body)
	}
	if got := relay.to(t, "13900000001", 1); len(got) != 1 || got[0]["body"] != "验证码 735194" {
		t.Fatalf("relay got %v", got)
	}
	mustStatus(t, "sendcode", h.jsonReq("POST", "/auth/sendcode", "", map[string]any{"phone": "13800000000", "type": "login", "client_id": "demo-client"}), 204)
	got := relay.to(t, "13800000000", 1)
	if len(got) != 1 || got[0]["purpose"] != "login" || got[0]["template"] != "verification_code" {
		t.Fatalf("relay got %v", got)
	}
	r = h.do("GET", "/api/v1/outbox", admin, "", nil)
	mustStatus(t, "outbox", r, 200)
	login := regexp.MustCompile(`\d{6}`).FindString(got[0]["body"])
	if login == "" || strings.Contains(string(r.body), "735194") || strings.Contains(string(r.body), login) || !strings.Contains(string(r.body), "******") {
		t.Fatalf("the outbox holds a code (%s): %s", login, r.body)
	}

	// bob appends to the audit log through the connector: the entry is his,
	// whatever the body claims; admins query it natively.
	r = h.jsonReq("POST", "/ex/entity/auditlog", bob, map[string]any{"action": "export", "entityType": "operlog", "detail": "导出",
		"createBy": map[string]any{"id": aliceID}})
	mustStatus(t, "bob appends", r, 200)
	r = h.do("GET", "/api/v1/auditlog?$filter="+url.QueryEscape("createBy/id eq '"+bobID+"' and action eq 5"), admin, "", nil)
	mustStatus(t, "audit query", r, 200)
	if v, _ := r.json(t)["value"].([]any); len(v) != 1 || !strings.Contains(string(r.body), `"clientId":"demo-client"`) {
		t.Fatalf("audit query = %s", r.body)
	}
}
