package host_test

import (
	"context"
	"testing"

	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/host"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/example/exampletest"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

// The messaging writes through the real core pass the same conformance
// suite as MemHost.
func TestBridgeHostWrites(t *testing.T) {
	rc := newRealCore(t)
	bob := sdk.Principal{Tenant: exampletest.Tenant, UserID: "u2", UserCode: "bob", DisplayName: "Bob",
		ClientID: "app1", Scopes: []string{"api.readwrite"}}
	sdktest.HostWrites(t, rc.host, exampletest.User, bob)
}

// Permission parity of the messaging writes (issue 11 #5): what bob may
// not do through the native entity service (the code /api/v1 runs) is
// refused identically — code and message — through the Host API, and
// writes nothing.
func TestHostAPIWritesParity(t *testing.T) {
	rc := newRealCore(t)
	ctx := context.Background()
	alice := exampletest.User
	bob := sdk.Principal{Tenant: exampletest.Tenant, UserID: "u2", UserCode: "bob", DisplayName: "Bob",
		ClientID: "app1", Scopes: []string{"api.readwrite"}}
	nbob := host.FromSDKPrincipal(&bob)
	msg, err := rc.host.EntityCreate(ctx, &alice, "message", sdk.Doc{"title": "for alice", "receiverEmpId": "u1"})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := rc.host.EntityCreate(ctx, &alice, "schedule", sdk.Doc{"content": "alice's"})
	if err != nil {
		t.Fatal(err)
	}
	entry, err := rc.host.EntityCreate(ctx, &alice, "auditlog", sdk.Doc{"entityType": "orders", "detail": "x"})
	if err != nil {
		t.Fatal(err)
	}
	mid, sid, aid := msg["id"].(string), sched["id"].(string), entry["id"].(string)
	type write struct {
		entity, id string
		body       map[string]any
		del        bool
	}
	for _, c := range []struct {
		name string
		w    write
		want errs.Code
	}{
		{"send a message", write{entity: "message", body: map[string]any{"title": "x", "receiverEmpId": "u1"}}, errs.Forbidden},
		{"send an SMS", write{entity: "outbox", body: map[string]any{"channel": "sms", "to": "13800000001", "body": "x"}}, errs.Forbidden},
		{"send an e-mail", write{entity: "outbox", body: map[string]any{"channel": "email", "to": "a@example.com", "body": "x"}}, errs.Forbidden},
		{"mark alice's message read", write{entity: "message", id: mid, body: map[string]any{"isRead": true}}, errs.NotFound},
		{"delete alice's message", write{entity: "message", id: mid, del: true}, errs.NotFound},
		{"write alice's schedule", write{entity: "schedule", body: map[string]any{"content": "x", "userId": "u1"}}, errs.Forbidden},
		{"change alice's schedule", write{entity: "schedule", id: sid, body: map[string]any{"content": "y"}}, errs.NotFound},
		{"delete alice's schedule", write{entity: "schedule", id: sid, del: true}, errs.NotFound},
		{"rewrite the audit log", write{entity: "auditlog", id: aid, body: map[string]any{"detail": "y"}}, errs.MethodNotAllowed},
		{"erase the audit log", write{entity: "auditlog", id: aid, del: true}, errs.MethodNotAllowed},
	} {
		t.Run(c.name, func(t *testing.T) {
			var nerr, herr error
			switch {
			case c.w.del:
				nerr = rc.ents.Delete(ctx, nbob, c.w.entity, c.w.id, "")
				herr = rc.host.EntityDelete(ctx, &bob, c.w.entity, c.w.id, sdk.EntityOptions{})
			case c.w.id != "":
				_, nerr = rc.ents.Update(ctx, nbob, c.w.entity, c.w.id, c.w.body, "")
				_, herr = rc.host.EntityUpdate(ctx, &bob, c.w.entity, c.w.id, c.w.body, sdk.EntityOptions{})
			default:
				_, nerr = rc.ents.Create(ctx, nbob, c.w.entity, c.w.body)
				_, herr = rc.host.EntityCreate(ctx, &bob, c.w.entity, c.w.body)
			}
			if nerr == nil || herr == nil {
				t.Fatalf("native %v, host API %v: both must refuse", nerr, herr)
			}
			ne, he := errs.As(nerr), errs.As(herr)
			if ne.Code != c.want || he.Code != c.want || ne.Msg != he.Msg {
				t.Fatalf("native %v / %q, host API %v / %q, want %v", ne.Code, ne.Msg, he.Code, he.Msg, c.want)
			}
		})
	}
	// Nothing was written: alice's message unread, her schedule and the
	// audit entry unchanged, no outbox row, bob sent nothing.
	got, err := rc.host.EntityGet(ctx, &alice, "message", mid, sdk.EntityOptions{})
	if err != nil || got["isRead"] != false {
		t.Fatalf("alice's message = %v, %v", got, err)
	}
	if got, err := rc.host.EntityGet(ctx, &alice, "schedule", sid, sdk.EntityOptions{}); err != nil || got["content"] != "alice's" {
		t.Fatalf("alice's schedule = %v, %v", got, err)
	}
	admin := host.FromSDKPrincipal(&alice)
	for coll, want := range map[string]int64{"outbox": 0, "message": 1, "auditlog": 1} {
		n, err := rc.ents.Count(ctx, admin, coll, entity.ListOptions{})
		if err != nil || n != want {
			t.Errorf("%s count = %d, %v; want %d", coll, n, err, want)
		}
	}
	// A read-only token appends nothing through the Host API (the native
	// middleware refuses it the same way: 403 insufficient_scope).
	ro := bob
	ro.Scopes = []string{"api.read"}
	if _, err := rc.host.EntityCreate(ctx, &ro, "auditlog", sdk.Doc{"entityType": "x"}); codeOf(t, err) != errs.Forbidden {
		t.Errorf("read-only scope appends: %v", err)
	}
}
