package entity_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/messages"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
)

// senderSvc is the fixture's service with the message.send permission
// granted to the principals in holders (the Options.Can hook).
func senderSvc(f *fixture, o entity.Options, holders ...*principal.Principal) *entity.Service {
	o.Can = func(p *principal.Principal, perm string) bool {
		for _, h := range holders {
			if h.UserID == p.UserID && h.Tenant == p.Tenant && perm == entity.PermMessageSend {
				return true
			}
		}
		return false
	}
	return entity.New(f.st, o)
}

func storedCount(f *fixture, coll, tenant string) int64 {
	f.t.Helper()
	n, err := f.st.Count(f.ctx, coll, tenant, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func TestSendingMessages(t *testing.T) {
	f := newFixture(t)
	carol := &principal.Principal{Tenant: "t1", UserID: "u_3", UserCode: "E003", DisplayName: "Carol", Scopes: []string{"api.readwrite"}}
	svc := senderSvc(f, entity.Options{}, carol)

	// Who may send.
	for _, tc := range []struct {
		name string
		p    *principal.Principal
		code errs.Code
	}{
		{"a user without message.send", f.user, errs.Forbidden},
		{"another tenant's admin", f.other, errs.Invalid}, // u_2 is no user of t2
		{"a holder of message.send", carol, 0},
		{"an administrator", f.admin, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := storedCount(f, "message", tc.p.Tenant)
			out, err := svc.Create(f.ctx, tc.p, "message", map[string]any{"title": "会议通知", "detail": "3 点", "receiverEmpId": "u_2", "url": "/api/v1/wftodo/t1",
				"isRead": true, "readTime": 5})
			if tc.code != 0 {
				wantErr(t, err, tc.code, "")
				if n := storedCount(f, "message", tc.p.Tenant); n != before {
					t.Fatalf("a refused send wrote a message")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			by, _ := out["createBy"].(map[string]any)
			if out["receiverName"] != "Bob" || out["isRead"] != false || out["readTime"] != nil || out["category"] != int64(1) || by["id"] != tc.p.UserID {
				t.Fatalf("sent = %v", out)
			}
		})
	}

	// Bad bodies: nothing written.
	before := storedCount(f, "message", "t1")
	for _, body := range []map[string]any{
		{"title": "x"}, // no receiver
		{"receiverEmpId": "u_2"},
		{"title": "x", "receiverEmpId": "u_404"},
		{"title": "x", "receiverEmpId": "u_9"}, // another tenant's user
		{"title": "x", "receiverEmpId": "u_2", "category": "bogus"},
		{"title": "x", "receiverEmpId": "u_2", "wat": 1},
		{"title": strings.Repeat("长", 201), "receiverEmpId": "u_2"},
		{"title": "x", "receiverEmpId": 42},
		{"title": "x", "receiverEmpId": "u_2", "url": "javascript:alert(1)"},
		{"title": "x", "receiverEmpId": "u_2", "url": "//evil.example/x"},
		{"title": "x", "receiverEmpId": "u_2", "url": "data:text/html,x"},
	} {
		_, err := svc.Create(f.ctx, f.admin, "message", body)
		wantErr(t, err, errs.Invalid, "")
	}
	if n := storedCount(f, "message", "t1"); n != before {
		t.Fatalf("bad bodies wrote %d messages", n-before)
	}

	// The receiver lists, marks and deletes their own; the text stays.
	list := must[*entity.ListResult](t)(svc.List(f.ctx, f.user, "message", entity.ListOptions{Filter: "isRead eq false"}))
	if len(list.Value) != 2 {
		t.Fatalf("bob's unread = %v", list.Value)
	}
	id := list.Value[0]["id"].(string)
	out := must[map[string]any](t)(svc.Update(f.ctx, f.user, "message", id, map[string]any{"isRead": true, "title": "改", "receiverEmpId": "u_1001"}, ""))
	if out["isRead"] != true || out["readTime"] == nil || out["title"] != "会议通知" || out["receiverEmpId"] != "u_2" {
		t.Fatalf("marked = %v", out)
	}
	// Nobody else marks or deletes it, an administrator deletes it.
	_, err := svc.Update(f.ctx, f.admin, "message", id, map[string]any{"isRead": false}, "")
	wantErr(t, err, errs.NotFound, "")
	wantErr(t, svc.Delete(f.ctx, carol, "message", id, ""), errs.NotFound, "")
	wantErr(t, svc.Delete(f.ctx, f.other, "message", id, ""), errs.NotFound, "")
	if err := svc.Delete(f.ctx, f.user, "message", id, ""); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Get(f.ctx, f.user, "message", id, "", "")
	wantErr(t, err, errs.NotFound, "")
	other := list.Value[1]["id"].(string)
	if err := svc.Delete(f.ctx, f.admin, "message", other, ""); err != nil {
		t.Fatalf("admin delete: %v", err)
	}
	if list := must[*entity.ListResult](t)(svc.List(f.ctx, f.user, "message", entity.ListOptions{})); len(list.Value) != 0 {
		t.Fatalf("left: %v", list.Value)
	}
}

// relay is a real HTTP relay behind a messages.Webhook gateway.
type relay struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []map[string]string
	down bool
}

func newRelay(t *testing.T, down bool) *relay {
	r := &relay{down: down}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.down {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		var m map[string]string
		_ = json.NewDecoder(req.Body).Decode(&m)
		r.mu.Lock()
		r.got = append(r.got, m)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func TestOutboxSends(t *testing.T) {
	f := newFixture(t)
	carol := &principal.Principal{Tenant: "t1", UserID: "u_3", UserCode: "E003", DisplayName: "Carol", Scopes: []string{"api.readwrite"}}
	up := newRelay(t, false)
	svc := senderSvc(f, entity.Options{Outbox: messages.New(f.st, messages.Options{Gateway: &messages.Webhook{URL: up.srv.URL}})}, carol)

	sms := map[string]any{"channel": "SMS", "to": "+8613800000001", "body": "您的验证码是 482913", "secret": "482913"}
	_, err := svc.Create(f.ctx, f.user, "outbox", sms)
	wantErr(t, err, errs.Forbidden, "")
	if n := storedCount(f, "outbox", "t1"); n != 0 {
		t.Fatalf("a refused send wrote %d rows", n)
	}

	// A code: delivered during the call, stored masked.
	out := must[map[string]any](t)(svc.Create(f.ctx, carol, "outbox", sms))
	raw, _ := json.Marshal(out)
	if strings.Contains(string(raw), "482913") || out["status"] != messages.StatusSent || out["channel"] != "sms" {
		t.Fatalf("created = %s", raw)
	}
	if len(up.got) != 1 || up.got[0]["body"] != "您的验证码是 482913" {
		t.Fatalf("relay got %v", up.got)
	}
	// An e-mail: queued in the store, delivered by the dispatcher.
	mail := must[map[string]any](t)(svc.Create(f.ctx, f.admin, "outbox", map[string]any{"channel": "email", "to": "ann@example.com", "subject": "周报", "body": "见附件"}))
	if mail["status"] != messages.StatusPending {
		t.Fatalf("mail = %v", mail)
	}
	rows := must[*entity.ListResult](t)(svc.List(f.ctx, f.admin, "outbox", entity.ListOptions{OrderBy: "createTime"}))
	if len(rows.Value) != 2 || rows.Value[0]["body"] != "您的验证码是 ******" {
		t.Fatalf("admin reads %v", rows.Value)
	}
	// Only administrators read it; nobody rewrites or deletes it.
	_, err = svc.List(f.ctx, carol, "outbox", entity.ListOptions{})
	wantErr(t, err, errs.Forbidden, "")
	_, err = svc.Update(f.ctx, f.admin, "outbox", mail["id"].(string), map[string]any{"to": "eve@example.com"}, "")
	wantErr(t, err, errs.MethodNotAllowed, "")
	wantErr(t, svc.Delete(f.ctx, f.admin, "outbox", mail["id"].(string), ""), errs.MethodNotAllowed, "")

	// Bad input: nothing queued.
	for _, body := range []map[string]any{
		{"to": "13800000001", "body": "x"},
		{"channel": "fax", "to": "13800000001", "body": "x"},
		{"channel": "sms", "to": "138-0000", "body": "x"},
		{"channel": "sms", "to": "13800000001"},
		{"channel": "email", "to": "ann@example.com, eve@example.com", "body": "x"},
		{"channel": "email", "to": "Ann <ann@example.com>", "body": "x"},
		{"channel": "email", "to": "ann@example.com", "body": strings.Repeat("x", 4001)},
		{"channel": "sms", "to": "13800000001", "body": "code 1234", "secret": "9999"},
		{"channel": "sms", "to": "13800000001", "body": "code 1", "secret": "1"},
		{"channel": "sms", "to": "13800000001", "body": "x", "status": "sent", "bogus": true},
		{"channel": 7, "to": "13800000001", "body": "x"},
	} {
		_, err := svc.Create(f.ctx, f.admin, "outbox", body)
		wantErr(t, err, errs.Invalid, "")
	}
	if n := storedCount(f, "outbox", "t1"); n != 2 {
		t.Fatalf("bad input queued: %d rows", n)
	}

	// A gateway that is down: the code is not delivered (Unavailable) and
	// its row says failed.
	up.down = true
	_, err = svc.Create(f.ctx, f.admin, "outbox", sms)
	wantErr(t, err, errs.Unavailable, "")
	failed := must[*entity.ListResult](t)(svc.List(f.ctx, f.admin, "outbox", entity.ListOptions{Filter: "status eq 'failed'"}))
	if len(failed.Value) != 1 || failed.Value[0]["body"] != "您的验证码是 ******" {
		t.Fatalf("failed rows = %v", failed.Value)
	}
}

func TestAuditLogIsAppendedAsThePrincipal(t *testing.T) {
	f := newFixture(t)
	bob := *f.user
	bob.ClientID = "apicenter-wb"
	out := must[map[string]any](t)(f.svc.Create(f.ctx, &bob, "auditlog", map[string]any{
		"action": "export", "entityType": "operlog", "detail": "导出", "newData": map[string]any{"title": "测试", "operName": "admin"},
		// Identity fields are the server's: these are ignored.
		"createBy": map[string]any{"id": "u_1001", "value": "E001", "label": "Admin"}, "clientId": "forged", "corpId": "t2"}))
	by := out["createBy"].(map[string]any)
	if by["id"] != "u_2" || out["clientId"] != "apicenter-wb" || out["corpId"] != "t1" || out["action"] != int64(5) {
		t.Fatalf("appended = %v", out)
	}
	id := out["id"].(string)
	for _, p := range []*principal.Principal{&bob, f.admin} {
		_, err := f.svc.Update(f.ctx, p, "auditlog", id, map[string]any{"detail": "改"}, "")
		wantErr(t, err, errs.MethodNotAllowed, "")
		wantErr(t, f.svc.Delete(f.ctx, p, "auditlog", id, ""), errs.MethodNotAllowed, "")
	}
	for _, body := range []map[string]any{
		{"action": "insert"},
		{"action": "fly", "entityType": "x"},
		{"entityType": "x", "oldData": "not an object"},
	} {
		_, err := f.svc.Create(f.ctx, &bob, "auditlog", body)
		wantErr(t, err, errs.Invalid, "")
	}
	// Read-only tokens append nothing (scopes are the caller's check: the
	// HTTP middleware and the Host API bridge); the query sees the entry.
	items, _, err := f.svc.Find(f.ctx, f.admin, "auditlog", query.Query{
		Filter: query.Cmp{Path: query.Path{"createBy", "id"}, Op: query.Eq, Value: "u_2"}, Limit: 10}, entity.FindOptions{})
	if err != nil || len(items) != 1 || items[0]["detail"] != "导出" {
		t.Fatalf("find = %v, %v", items, err)
	}
}

func TestSchedulesBelongToTheirUser(t *testing.T) {
	f := newFixture(t)
	mine := f.create(f.user, "schedule", map[string]any{"content": "需求会议", "remind": true, "remindWay": "1,2",
		"remindTime": "23:00", "startDate": "2022-09-01", "endDate": "2022-09-01"})
	if mine["userId"] != "u_2" {
		t.Fatalf("owner = %v", mine["userId"])
	}
	_, err := f.svc.Create(f.ctx, f.user, "schedule", map[string]any{"content": "x", "userId": "u_1001"})
	wantErr(t, err, errs.Forbidden, "")
	theirs := f.create(f.admin, "schedule", map[string]any{"content": "评审", "userId": "u_2"})
	adm := f.create(f.admin, "schedule", map[string]any{"title": "admin's"})
	_, err = f.svc.Create(f.ctx, f.admin, "schedule", map[string]any{"content": "x", "userId": "u_9"})
	wantErr(t, err, errs.Invalid, "")

	list := must[*entity.ListResult](t)(f.svc.List(f.ctx, f.user, "schedule", entity.ListOptions{}))
	if len(list.Value) != 2 {
		t.Fatalf("bob lists %v", list.Value)
	}
	if list := must[*entity.ListResult](t)(f.svc.List(f.ctx, f.admin, "schedule", entity.ListOptions{})); len(list.Value) != 3 {
		t.Fatalf("admin lists %v", list.Value)
	}
	_, err = f.svc.Get(f.ctx, f.user, "schedule", adm["id"].(string), "", "")
	wantErr(t, err, errs.NotFound, "")
	_, err = f.svc.Update(f.ctx, f.user, "schedule", adm["id"].(string), map[string]any{"content": "y"}, "")
	wantErr(t, err, errs.NotFound, "")
	_, err = f.svc.Update(f.ctx, f.user, "schedule", mine["id"].(string), map[string]any{"userId": "u_1001"}, "")
	wantErr(t, err, errs.Forbidden, "")
	if out, err := f.svc.Update(f.ctx, f.admin, "schedule", theirs["id"].(string), map[string]any{"content": "评审（改）"}, ""); err != nil || out["userId"] != "u_2" {
		t.Fatalf("admin update = %v, %v", out, err)
	}
	for _, body := range []map[string]any{
		{"startDate": "2022-09-02"},
		{"content": "x", "startDate": "2022/09/01"},
		{"content": "x", "startDate": "2022-09-02", "endDate": "2022-09-01"},
		{"content": "x", "remindTime": "25:00"},
		{"content": "x", "remindTime": "9:00"},
		{"content": "x", "remindWay": "1,4"},
		{"content": "x", "remind": "yes"},
	} {
		_, err := f.svc.Create(f.ctx, f.user, "schedule", body)
		wantErr(t, err, errs.Invalid, "")
	}
	if err := f.svc.Delete(f.ctx, f.user, "schedule", mine["id"].(string), ""); err != nil {
		t.Fatal(err)
	}
	wantErr(t, f.svc.Delete(f.ctx, f.user, "schedule", adm["id"].(string), ""), errs.NotFound, "")
	if err := f.svc.Delete(f.ctx, f.admin, "schedule", theirs["id"].(string), ""); err != nil {
		t.Fatal(err)
	}
}
