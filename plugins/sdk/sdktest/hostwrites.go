package sdktest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// HostWrites is the conformance suite of the messaging writes a Host
// offers through EntityCreate/Update/Delete (issue 11 #5): messages and
// notices, the outbox (e-mail, SMS), the audit log, apps and schedules. Run it
// against MemHost and against the real hub (the plugin host's bridge) to
// keep them in agreement.
//
// h must hold, in admin's tenant, the users admin.UserID and user.UserID.
// admin has the admin role; user has neither it nor PermMessageSend; both
// have a write scope. The suite writes; give it a fresh host.
func HostWrites(t *testing.T, h sdk.Host, admin, user sdk.Principal) {
	t.Helper()
	ctx := context.Background()
	code := func(err error) sdk.Code {
		if err == nil {
			return -1
		}
		return sdk.AsError(err).Code
	}
	want := func(t *testing.T, what string, err error, c sdk.Code) {
		t.Helper()
		if code(err) != c {
			t.Fatalf("%s: got %v, want %v", what, err, c)
		}
	}
	mustDoc := func(t *testing.T, what string) func(sdk.Doc, error) sdk.Doc {
		return func(d sdk.Doc, err error) sdk.Doc {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			return d
		}
	}
	byID := func(id any) sdk.Query {
		return sdk.Query{Filter: sdk.Cmp{Path: sdk.Path{"id"}, Op: sdk.Eq, Value: id}, Limit: 10}
	}

	t.Run("messages", func(t *testing.T) {
		_, err := h.EntityCreate(ctx, &user, "message", sdk.Doc{"title": "x", "receiverEmpId": admin.UserID})
		want(t, "a plain user sends", err, sdk.Forbidden)
		_, err = h.EntityCreate(ctx, &admin, "message", sdk.Doc{"title": "x", "receiverEmpId": "no-such-user"})
		want(t, "to an unknown user", err, sdk.Invalid)
		_, err = h.EntityCreate(ctx, &admin, "message", sdk.Doc{"title": "x", "receiverEmpId": user.UserID, "url": "javascript:alert(1)"})
		want(t, "a script link", err, sdk.Invalid)
		m := mustDoc(t, "admin sends")(h.EntityCreate(ctx, &admin, "message", sdk.Doc{"title": "会议通知", "detail": "3 点",
			"receiverEmpId": user.UserID, "isRead": true}))
		if m["isRead"] != false || m["receiverName"] == nil || m["receiverName"] == "" {
			t.Fatalf("sent = %v", m)
		}
		pg, err := h.EntityFind(ctx, &user, "message", byID(m["id"]), sdk.EntityOptions{Count: true})
		if err != nil || pg.Total != 1 {
			t.Fatalf("the receiver finds it: %+v, %v", pg, err)
		}
		_, err = h.EntityUpdate(ctx, &admin, "message", m["id"].(string), sdk.Doc{"isRead": true}, sdk.EntityOptions{})
		want(t, "admin marks another's message", err, sdk.NotFound)
		r := mustDoc(t, "mark read")(h.EntityUpdate(ctx, &user, "message", m["id"].(string), sdk.Doc{"isRead": true, "title": "改"}, sdk.EntityOptions{}))
		if r["isRead"] != true || r["readTime"] == nil || r["title"] != "会议通知" {
			t.Fatalf("marked = %v", r)
		}
		if err := h.EntityDelete(ctx, &user, "message", m["id"].(string), sdk.EntityOptions{}); err != nil {
			t.Fatalf("the receiver deletes: %v", err)
		}
		_, err = h.EntityGet(ctx, &user, "message", m["id"].(string), sdk.EntityOptions{})
		want(t, "deleted", err, sdk.NotFound)
		m2 := mustDoc(t, "admin sends again")(h.EntityCreate(ctx, &admin, "message", sdk.Doc{"title": "二", "receiverEmpId": user.UserID}))
		if err := h.EntityDelete(ctx, &admin, "message", m2["id"].(string), sdk.EntityOptions{}); err != nil {
			t.Fatalf("admin deletes a message: %v", err)
		}
	})

	t.Run("outbox", func(t *testing.T) {
		sms := sdk.Doc{"channel": "sms", "to": "13800000001", "body": "验证码 482913", "secret": "482913"}
		_, err := h.EntityCreate(ctx, &user, "outbox", sms)
		want(t, "a plain user sends", err, sdk.Forbidden)
		_, err = h.EntityCreate(ctx, &admin, "outbox", sdk.Doc{"channel": "email", "to": "not an address", "body": "x"})
		want(t, "bad address", err, sdk.Invalid)
		_, err = h.EntityCreate(ctx, &admin, "outbox", sdk.Doc{"channel": "fax", "to": "13800000001", "body": "x"})
		want(t, "bad channel", err, sdk.Invalid)
		o := mustDoc(t, "admin queues an SMS")(h.EntityCreate(ctx, &admin, "outbox", sms))
		raw, _ := json.Marshal(o)
		if strings.Contains(string(raw), "482913") || o["body"] != "验证码 ******" {
			t.Fatalf("queued = %s", raw)
		}
		pg, err := h.EntityFind(ctx, &admin, "outbox", byID(o["id"]), sdk.EntityOptions{})
		if err != nil || len(pg.Items) != 1 || pg.Items[0]["body"] != "验证码 ******" {
			t.Fatalf("admin reads it: %+v, %v", pg, err)
		}
		_, err = h.EntityFind(ctx, &user, "outbox", sdk.Query{Limit: 1}, sdk.EntityOptions{})
		want(t, "a plain user reads", err, sdk.Forbidden)
		_, err = h.EntityUpdate(ctx, &admin, "outbox", o["id"].(string), sdk.Doc{"to": "13800000002"}, sdk.EntityOptions{})
		want(t, "rewrite", err, sdk.MethodNotAllowed)
		want(t, "delete", h.EntityDelete(ctx, &admin, "outbox", o["id"].(string), sdk.EntityOptions{}), sdk.MethodNotAllowed)
	})

	t.Run("auditlog", func(t *testing.T) {
		e := mustDoc(t, "append")(h.EntityCreate(ctx, &user, "auditlog", sdk.Doc{"action": "insert", "entityType": "orders",
			"dataId": "r1", "detail": "via connector",
			"createBy": map[string]any{"id": admin.UserID, "value": "forged", "label": "forged"}}))
		by, _ := e["createBy"].(map[string]any)
		if by["id"] != user.UserID || e["action"] != int64(1) {
			t.Fatalf("appended = %v", e)
		}
		_, err := h.EntityCreate(ctx, &user, "auditlog", sdk.Doc{"detail": "no entity type"})
		want(t, "no entityType", err, sdk.Invalid)
		_, err = h.EntityUpdate(ctx, &admin, "auditlog", e["id"].(string), sdk.Doc{"detail": "x"}, sdk.EntityOptions{})
		want(t, "rewrite", err, sdk.MethodNotAllowed)
		want(t, "delete", h.EntityDelete(ctx, &admin, "auditlog", e["id"].(string), sdk.EntityOptions{}), sdk.MethodNotAllowed)
		pg, err := h.EntityFind(ctx, &admin, "auditlog", sdk.Query{Filter: sdk.Cmp{Path: sdk.Path{"dataId"}, Op: sdk.Eq, Value: "r1"}, Limit: 10}, sdk.EntityOptions{})
		if err != nil || len(pg.Items) != 1 {
			t.Fatalf("query = %+v, %v", pg, err)
		}
	})

	t.Run("apps", func(t *testing.T) {
		_, err := h.EntityCreate(ctx, &user, "app", sdk.Doc{"name": "x"})
		want(t, "a plain user creates an app", err, sdk.Forbidden)
		app := mustDoc(t, "admin creates an app")(h.EntityCreate(ctx, &admin, "app", sdk.Doc{"name": "门户", "sortIndex": 2}))
		id := app["id"].(string)
		_, err = h.EntityUpdate(ctx, &user, "app", id, sdk.Doc{"name": "y"}, sdk.EntityOptions{})
		want(t, "a plain user renames it", err, sdk.Forbidden)
		if u := mustDoc(t, "admin renames it")(h.EntityUpdate(ctx, &admin, "app", id, sdk.Doc{"name": "门户 2"}, sdk.EntityOptions{})); u["name"] != "门户 2" {
			t.Fatalf("renamed = %v", u)
		}
		want(t, "a plain user deletes it", h.EntityDelete(ctx, &user, "app", id, sdk.EntityOptions{}), sdk.Forbidden)
		if err := h.EntityDelete(ctx, &admin, "app", id, sdk.EntityOptions{}); err != nil {
			t.Fatalf("admin deletes it: %v", err)
		}
	})

	t.Run("schedules", func(t *testing.T) {
		mine := mustDoc(t, "own schedule")(h.EntityCreate(ctx, &user, "schedule", sdk.Doc{"content": "需求会议",
			"startDate": "2022-09-01", "endDate": "2022-09-01", "remind": true, "remindWay": "1,2", "remindTime": "23:00"}))
		if mine["userId"] != user.UserID {
			t.Fatalf("owner = %v", mine["userId"])
		}
		_, err := h.EntityCreate(ctx, &user, "schedule", sdk.Doc{"content": "x", "userId": admin.UserID})
		want(t, "for someone else", err, sdk.Forbidden)
		_, err = h.EntityCreate(ctx, &user, "schedule", sdk.Doc{"content": "x", "startDate": "2022-09-02", "endDate": "2022-09-01"})
		want(t, "end before start", err, sdk.Invalid)
		theirs := mustDoc(t, "admin's")(h.EntityCreate(ctx, &admin, "schedule", sdk.Doc{"title": "admin's own"}))
		mustDoc(t, "admin writes the user's")(h.EntityCreate(ctx, &admin, "schedule", sdk.Doc{"content": "评审", "userId": user.UserID}))
		pg, err := h.EntityFind(ctx, &user, "schedule", sdk.Query{Limit: 10}, sdk.EntityOptions{Count: true})
		if err != nil || pg.Total != 2 {
			t.Fatalf("the user lists %+v, %v", pg, err)
		}
		_, err = h.EntityUpdate(ctx, &user, "schedule", theirs["id"].(string), sdk.Doc{"content": "x"}, sdk.EntityOptions{})
		want(t, "update another's", err, sdk.NotFound)
		want(t, "delete another's", h.EntityDelete(ctx, &user, "schedule", theirs["id"].(string), sdk.EntityOptions{}), sdk.NotFound)
		if err := h.EntityDelete(ctx, &user, "schedule", mine["id"].(string), sdk.EntityOptions{}); err != nil {
			t.Fatalf("delete own: %v", err)
		}
	})
}
