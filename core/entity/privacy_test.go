package entity_test

import (
	"testing"

	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// seedContacts gives admin and bob a phone and an e-mail, and records one
// outbox message.
func seedContacts(t *testing.T, f *fixture) {
	t.Helper()
	for id, c := range map[string][2]string{"u_1001": {"12345678901", "admin@example.com"}, "u_2": {"13900000002", "bob@example.com"}} {
		d, err := f.st.Get(f.ctx, "user", "t1", id)
		if err != nil {
			t.Fatal(err)
		}
		d["workPhone"], d["workEmail"] = c[0], c[1]
		if err := f.st.Update(f.ctx, "user", "t1", id, d, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.st.Insert(f.ctx, "outbox", store.Doc{"id": "o_1", "corpId": "t1", "channel": "sms",
		"to": "12345678901", "body": "您的验证码是 ******", "status": "recorded", "createTime": int64(1), "updateTime": int64(1)}); err != nil {
		t.Fatal(err)
	}
}

// Issue 10 #1: a plain user reads no other user's phone or e-mail on any
// read path (list, get, $query, $expand, Host API), cannot filter or sort
// by them, and cannot read the outbox; the user's own and an
// administrator's reads are unchanged.
func TestOtherUsersContactsHiddenFromNonAdmins(t *testing.T) {
	f := newFixture(t)
	seedContacts(t, f)
	hasContact := func(m map[string]any) bool {
		_, p := m["workPhone"]
		_, e := m["workEmail"]
		return p || e
	}
	byID := func(rows []map[string]any) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, r := range rows {
			out[r["id"].(string)] = r
		}
		return out
	}

	// Listing (with $select naming the phone explicitly).
	res := must[*entity.ListResult](t)(f.svc.List(f.ctx, f.user, "user", entity.ListOptions{Select: "id,empName,workPhone,workEmail"}))
	rows := byID(res.Value)
	if hasContact(rows["u_1001"]) {
		t.Fatalf("bob sees admin's contacts in a listing: %v", rows["u_1001"])
	}
	if rows["u_2"]["workPhone"] != "13900000002" || rows["u_2"]["workEmail"] != "bob@example.com" {
		t.Fatalf("bob does not see his own contacts: %v", rows["u_2"])
	}
	if rows["u_1001"]["empName"] != "Admin" {
		t.Fatalf("names must stay visible: %v", rows["u_1001"])
	}
	// Single read.
	got := must[map[string]any](t)(f.svc.Get(f.ctx, f.user, "employee", "u_1001", "", ""))
	if hasContact(got) {
		t.Fatalf("bob sees admin's contacts by id: %v", got)
	}
	// $expand from another kind (department manager is not a nav; use creator of a role).
	if err := f.st.Insert(f.ctx, "role", store.Doc{"id": "r_x", "corpId": "t1", "code": "x", "name": "X",
		"createBy": map[string]any{"id": "u_1001"}, "createTime": int64(5), "updateTime": int64(5)}); err != nil {
		t.Fatal(err)
	}
	role := must[map[string]any](t)(f.svc.Get(f.ctx, f.user, "role", "r_x", "", "creator($select=id,workPhone)"))
	if c, _ := role["creator"].(map[string]any); c == nil || c["id"] != "u_1001" || hasContact(c) {
		t.Fatalf("bob sees admin's contacts through $expand: %v", role["creator"])
	}
	// $query (DynamicFindOptions).
	qr := must[*entity.ListResult](t)(f.svc.Query(f.ctx, f.user, "user", "", []byte(`{"take":10}`)))
	if hasContact(byID(qr.Value)["u_1001"]) {
		t.Fatalf("bob sees admin's contacts through $query: %v", qr.Value)
	}
	// Host API directory read.
	items, _, err := f.svc.FindKind(f.ctx, f.user, "user", query.Query{Limit: -1}, false)
	if err != nil {
		t.Fatal(err)
	}
	if hasContact(byID(items)["u_1001"]) {
		t.Fatalf("bob sees admin's contacts through the Host API: %v", items)
	}

	// No oracle: filters and sorts on the private properties are refused.
	for _, o := range []entity.ListOptions{
		{Filter: "startswith(workPhone,'123')"},
		{Filter: "workEmail eq 'admin@example.com'"},
		{OrderBy: "workPhone"},
	} {
		_, err := f.svc.List(f.ctx, f.user, "user", o)
		wantErr(t, err, errs.Invalid, "")
		_, err = f.svc.Count(f.ctx, f.user, "user", o)
		if o.Filter != "" {
			wantErr(t, err, errs.Invalid, "")
		}
	}
	_, err = f.svc.Query(f.ctx, f.user, "user", "", []byte(`{"filter":{"field":"workPhone","type":"eq","value":"12345678901"}}`))
	wantErr(t, err, errs.Invalid, "")
	_, _, err = f.svc.FindKind(f.ctx, f.user, "user", query.Query{
		Filter: query.Cmp{Path: query.Path{"workPhone"}, Op: query.Eq, Value: "12345678901"}, Limit: -1}, false)
	wantErr(t, err, errs.Invalid, "")

	// Administrators see and filter everything.
	ar := must[*entity.ListResult](t)(f.svc.List(f.ctx, f.admin, "user", entity.ListOptions{Filter: "workPhone eq '13900000002'"}))
	if len(ar.Value) != 1 || ar.Value[0]["workEmail"] != "bob@example.com" {
		t.Fatalf("admin listing = %v", ar.Value)
	}

	// The outbox: administrators only, on every read path.
	_, err = f.svc.List(f.ctx, f.user, "outbox", entity.ListOptions{})
	wantErr(t, err, errs.Forbidden, "")
	_, err = f.svc.Get(f.ctx, f.user, "outbox", "o_1", "", "")
	wantErr(t, err, errs.Forbidden, "")
	_, err = f.svc.Count(f.ctx, f.user, "outbox", entity.ListOptions{})
	wantErr(t, err, errs.Forbidden, "")
	_, err = f.svc.Query(f.ctx, f.user, "outbox", "", []byte(`{}`))
	wantErr(t, err, errs.Forbidden, "")
	_, err = f.svc.CountQuery(f.ctx, f.user, "outbox", "", nil)
	wantErr(t, err, errs.Forbidden, "")
	_, _, err = f.svc.FindKind(f.ctx, f.user, "outbox", query.Query{Limit: -1}, false)
	wantErr(t, err, errs.Forbidden, "")
	ob := must[*entity.ListResult](t)(f.svc.List(f.ctx, f.admin, "outbox", entity.ListOptions{}))
	if len(ob.Value) != 1 {
		t.Fatalf("admin outbox = %v", ob.Value)
	}
}
