package httpapi

import (
	"strings"
	"testing"
)

// The messaging writes over HTTP (issue 11 #5): bad bodies are refused in
// the native envelope and write nothing; permissions as in core/entity.
func TestMessagingWritesOverHTTP(t *testing.T) {
	a := newEntApp(t)
	count := func(entity string) string {
		t.Helper()
		r := a.do("GET", "/api/v1/"+entity+"/$count", "")
		if r.status != 200 {
			t.Fatalf("count %s: %d %s", entity, r.status, r.body)
		}
		return strings.TrimSpace(string(r.body))
	}
	for _, c := range []struct {
		name, method, path, body, user string
		status                         int
		code                           string
	}{
		{"outbox: malformed JSON", "POST", "/api/v1/outbox", `{"channel":"sms",`, "admin", 400, ""},
		{"outbox: array body", "POST", "/api/v1/outbox", `[{"channel":"sms"}]`, "admin", 400, ""},
		{"outbox: unknown field", "POST", "/api/v1/outbox", `{"channel":"sms","to":"13800000001","body":"x","cc":"y"}`, "admin", 400, "validation_failed"},
		{"outbox: wrong type", "POST", "/api/v1/outbox", `{"channel":"sms","to":13800000001,"body":"x"}`, "admin", 400, "validation_failed"},
		{"outbox: operator key", "POST", "/api/v1/outbox", `{"channel":"sms","to":"13800000001","body":"x","$where":"1"}`, "admin", 400, "validation_failed"},
		{"outbox: not an admin", "POST", "/api/v1/outbox", `{"channel":"sms","to":"13800000001","body":"x"}`, "bob", 403, "forbidden"},
		{"message: not an admin", "POST", "/api/v1/message", `{"title":"x","receiverEmpId":"u_1001"}`, "bob", 403, "forbidden"},
		{"message: unknown receiver", "POST", "/api/v1/systemmessage", `{"title":"x","receiverEmpId":"u_404"}`, "admin", 400, "validation_failed"},
		{"auditlog: no entityType", "POST", "/api/v1/AuditLog", `{"detail":"x"}`, "bob", 400, "validation_failed"},
		{"auditlog: rewrite", "PATCH", "/api/v1/auditlog/x", `{"detail":"x"}`, "admin", 405, ""},
		{"auditlog: erase", "DELETE", "/api/v1/auditlog/x", ``, "admin", 405, ""},
		{"outbox: rewrite", "PUT", "/api/v1/outbox/x", `{"to":"13800000002"}`, "admin", 405, ""},
		{"schedule: someone else's", "POST", "/api/v1/schedule", `{"content":"x","userId":"u_1001"}`, "bob", 403, "forbidden"},
		{"schedule: bad date", "POST", "/api/v1/schedule", `{"content":"x","startDate":"2022-13-01"}`, "bob", 400, "validation_failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := a.do(c.method, c.path, c.body, "X-Test-User", c.user)
			if r.status != c.status {
				t.Fatalf("%d, want %d: %s", r.status, c.status, r.body)
			}
			if c.code != "" {
				r.errCode(t, c.status, c.code)
			}
		})
	}
	for _, e := range []string{"outbox", "message", "auditlog", "schedule"} {
		if n := count(e); n != "0" {
			t.Errorf("%s: %s written by refused requests", e, n)
		}
	}
	// The accepted forms, for contrast.
	r := a.do("POST", "/api/v1/outbox", `{"channel":"email","to":"ann@example.com","body":"hi"}`)
	if r.status != 200 || r.obj(t)["status"] != "recorded" {
		t.Fatalf("queue: %d %s", r.status, r.body)
	}
	r = a.do("POST", "/api/v1/auditlog", `{"entityType":"orders","action":"delete"}`, "X-Test-User", "bob")
	if r.status != 200 || r.obj(t)["createBy"].(map[string]any)["id"] != "u_2" || r.obj(t)["action"] != float64(3) {
		t.Fatalf("append: %d %s", r.status, r.body)
	}
}
