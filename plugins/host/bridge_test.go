package host_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/plugins/host"
	"github.com/eimshub/eimshub/plugins/host/hosttest"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/example"
	"github.com/eimshub/eimshub/plugins/sdk/example/exampletest"
)

// realCore is the hub's real core (SQLite store, in-process cache, entity
// and identity services) behind the bridge, seeded with the same fixture as
// exampletest.Seed loads into a MemHost.
type realCore struct {
	st    store.Store
	ents  *entity.Service
	ident *identity.Service
	host  host.Core
	tok   string // access token of exampletest.User
}

const (
	clientSecret   = "s3cret"
	disabledClient = "off"
)

func sha256Secret(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(h[:])
}

func newRealCore(t *testing.T) *realCore {
	t.Helper()
	ctx := context.Background()
	k := hosttest.NewCore(t)
	rc := &realCore{st: k.Store, ents: k.Entities, ident: k.Identity, host: k.Host}
	rc.seed(t)
	u := exampletest.User
	tok, err := rc.host.IssueToken(ctx, &u, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	rc.tok = tok.AccessToken
	return rc
}

// seed stores exampletest.Seed's fixture through the store, in the shapes
// the entity service writes (notes/DATA.md), with MemHost's record ids.
func (rc *realCore) seed(t *testing.T) {
	t.Helper()
	t1, t2 := exampletest.Tenant, exampletest.OtherTenant
	content := map[string]any{"items": []any{
		map[string]any{"field": "title", "type": "input", "title": "Title", "required": true},
		map[string]any{"field": "amount", "type": "number", "title": "Amount"},
		map[string]any{"field": "status", "type": "select", "props": map[string]any{
			"options": []any{map[string]any{"value": "open", "label": "Open"}}}},
	}}
	op := map[string]any{"id": "u1", "value": "alice", "label": "Alice"}
	rec := func(id, tenant, form string, at int64, data map[string]any) store.Doc {
		return store.Doc{"id": id, "corpId": tenant, "formId": form, "appId": "app", "flowStatus": int64(0),
			"dataTitle": data["title"], "data": data, "createBy": op, "updateBy": op, "createTime": at, "updateTime": at}
	}
	role := map[string]any{"roleId": "ro1", "roleName": "Admin", "roleCode": "admin"}
	docs := []struct {
		coll string
		doc  store.Doc
	}{
		{"tenant", store.Doc{"id": t1, "corpId": "", "name": "T1"}},
		{"tenant", store.Doc{"id": t2, "corpId": "", "name": "T2"}},
		{"client", store.Doc{"id": "app1", "corpId": "", "tenantId": t1, "secretHash": sha256Secret(clientSecret),
			"grants": []any{"client_credentials", "refresh_token"}, "scopes": []any{"api.readwrite", "openid"}, "serviceUserId": "svc"}},
		{"client", store.Doc{"id": disabledClient, "corpId": "", "tenantId": t1, "secretHash": sha256Secret(clientSecret),
			"grants": []any{"client_credentials"}, "scopes": []any{"api.readwrite"}, "disabled": true}},
		{"client", store.Doc{"id": "app9", "corpId": "", "tenantId": t2, "secretHash": sha256Secret(clientSecret),
			"grants": []any{"client_credentials", "refresh_token"}, "scopes": []any{"api.readwrite"}}},
		{"app", store.Doc{"id": "app", "corpId": t1, "name": "App"}},
		{"form", store.Doc{"id": "f-orders", "corpId": t1, "appId": "app", "key": "orders", "name": "Orders", "content": content}},
		{"form", store.Doc{"id": "f-notes", "corpId": t1, "appId": "app", "key": "notes", "name": "Notes",
			"content": map[string]any{"items": []any{map[string]any{"field": "text", "type": "textarea"}}}}},
		{"form", store.Doc{"id": "f-leave", "corpId": t1, "appId": "app", "key": "leave", "name": "Leave", "usingWorkflow": true,
			"content": map[string]any{"items": []any{map[string]any{"field": "days", "type": "number", "title": "Days"}}}}},
		{"wfdefinition", store.Doc{"id": "wd-leave", "corpId": t1, "appId": "app", "key": "leave_flow", "sourceId": "f-leave",
			"name": "Leave flow", "version": int64(1), "flowType": "workflow", "updateTime": int64(1), "content": map[string]any{"nodes": []any{
				map[string]any{"id": "start", "type": "start"},
				map[string]any{"id": "boss", "type": "approve", "name": "Boss", "assignees": map[string]any{"users": []any{"u1"}}},
				map[string]any{"id": "end", "type": "end"}}}}},
		{"dfdefinition", store.Doc{"id": "df-double", "corpId": t1, "key": "double", "name": "Double", "version": int64(1),
			"flowType": "dataflow", "content": map[string]any{"nodes": []any{map[string]any{"id": "x2", "type": "script",
				"script": "if (typeof input.n !== 'number' || !Number.isInteger(input.n)) throw new Error('n is not an integer'); return {n: input.n * 2};"}}}}},
		{"form", store.Doc{"id": "f-secret", "corpId": t2, "key": "orders", "name": "Other orders", "content": content}},
		{"user", store.Doc{"id": "u1", "corpId": t1, "userName": "alice", "code": "alice", "empName": "Alice",
			"departmentId": "d1", "status": int64(0), "passwordHash": "secret-hash", "roles": []any{role}}},
		{"user", store.Doc{"id": "u2", "corpId": t1, "userName": "bob", "code": "bob", "empName": "Bob",
			"departmentId": "d1", "status": int64(0)}},
		{"user", store.Doc{"id": "svc", "corpId": t1, "userName": "svc", "code": "svc", "empName": "Service", "status": int64(0)}},
		{"user", store.Doc{"id": "u9", "corpId": t2, "userName": "mallory", "empName": "Mallory", "status": int64(0)}},
		{"department", store.Doc{"id": "d1", "corpId": t1, "code": "hq", "name": "HQ", "parentId": "", "heriarchyId": "d1"}},
		{"role", store.Doc{"id": "ro1", "corpId": t1, "code": "admin", "name": "Admin"}},
		{"formdata", rec("r1", t1, "f-orders", 1000, map[string]any{"title": "first", "amount": int64(10),
			"status": map[string]any{"value": "open", "label": "Open"}})},
		{"formdata", rec("r2", t1, "f-orders", 2000, map[string]any{"title": "second", "amount": 20.5})},
		{"formdata", rec("r3", t2, "f-secret", 3000, map[string]any{"title": "secret"})},
	}
	for _, d := range docs {
		if err := rc.st.Insert(context.Background(), d.coll, d.doc); err != nil {
			t.Fatalf("seed %s %v: %v", d.coll, d.doc["id"], err)
		}
	}
}

// authenticate resolves the bearer token with the identity service, as the
// hub's bearer middleware does.
func (rc *realCore) authenticate(c *fiber.Ctx) (*principal.Principal, error) {
	tok, ok := strings.CutPrefix(c.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, errs.New(errs.Unauthorized, "missing bearer token")
	}
	return rc.ident.Authenticate(c.UserContext(), tok)
}

// TestBridgeRunsTheExampleScenarios runs the example connector's scenario
// table — the one the MemHost tests run — against the real core, out of
// process and in process: a connector sees the same behaviour from both
// hosts.
func TestBridgeRunsTheExampleScenarios(t *testing.T) {
	for _, iso := range []host.Isolation{host.Process, host.InProc} {
		t.Run(string(iso), func(t *testing.T) {
			rc := newRealCore(t)
			logs := &syncBuffer{}
			m, err := host.New([]host.Config{{ID: example.ID, Enabled: true, Isolation: iso, Mount: "/ex",
				Config: json.RawMessage(`{"greeting":"hi"}`)}}, rc.host, host.Options{
				Logger:      slog.New(slog.NewTextHandler(logs, nil)),
				SelfCommand: selfCommand("example"),
			})
			if err != nil {
				t.Fatal(err)
			}
			m.Start(context.Background())
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = m.Close(ctx)
				if t.Failed() {
					t.Logf("logs:\n%s", logs.String())
				}
			})
			f := &fixture{m: m, app: fiber.New(), tok: rc.tok, logs: logs}
			m.Mount(f.app, host.Auth{Bearer: rc.authenticate}, nil)
			bodies := map[string]string{}
			for _, sc := range exampletest.Scenarios(rc.tok) {
				a := f.scenario(t, "/ex", sc)
				if a.Status != sc.Status {
					t.Errorf("%s: status %d, want %d: %s", sc.Name, a.Status, sc.Status, a.Body)
				}
				bodies[sc.Name] = a.Body
			}
			// A few answers in detail: the real core's documents.
			var got struct {
				Result []map[string]any `json:"result"`
			}
			if err := json.Unmarshal([]byte(bodies["batch get"]), &got); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, d := range got.Result {
				ids = append(ids, d["id"].(string))
			}
			if !slices.Equal(ids, []string{"r1", "r2"}) {
				t.Errorf("batch get ids = %v, want [r1 r2]", ids)
			}
			for name, wants := range map[string][]string{
				"files":               {`"content":"hello"`, `"goneAfterDelete":true`, `"fileName":"note.txt"`, `"size":5`},
				"submit":              {`"workflowInstanceId":"`, `"flowStatus":2`},
				"draft":               {`"flowStatus":1`},
				"dataflow":            {`"status":"succeeded"`, `"output":{"n":42}`},
				"dataflow failed run": {`"status":"failed"`, `n is not an integer`},
				"entity find menu":    {`"Total":1`, `"title":"Menu 1"`},
				"entity send message": {`"receiverName":"Bob"`, `"isRead":false`},
				"entity queue sms":    {`"body":"code ******"`, `"channel":"sms"`},
				"entity schedule":     {`"userId":"u1"`},
				"get with owner":      {`"creator":{`, `"empName":"Alice"`},
				"find with form":      {`"Form":{`, `"Key":"orders"`, `"creator":{`},
				"todo":                {`"items":[{`, `"taskId":"`},
				"alias allocate":      {`"u1":"WV00000001"`, `"u2":"WV00000002"`},
				"alias resolve":       {`"WV00000001":"u1"`, `"u2":"WV00000002"`},
			} {
				for _, w := range wants {
					if !strings.Contains(bodies[name], w) {
						t.Errorf("%s: %s lacks %s", name, bodies[name], w)
					}
				}
			}
			if !strings.Contains(bodies["update"], `"amount":11`) || strings.Contains(bodies["update"], `"status"`) {
				t.Errorf("update: %s", bodies["update"])
			}
			if strings.Contains(bodies["users"], "passwordHash") || strings.Contains(bodies["users"], "mallory") {
				t.Errorf("users leak: %s", bodies["users"])
			}
			if !strings.Contains(bodies["users"], `"Total":3`) {
				t.Errorf("users count: %s", bodies["users"])
			}
		})
	}
}

func codeOf(t *testing.T, err error) errs.Code {
	t.Helper()
	if err == nil {
		return -1 // no error
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *errs.Error", err, err)
	}
	return e.Code
}

func TestBridgeTenancyAndAuth(t *testing.T) {
	rc := newRealCore(t)
	h, ctx := rc.host, context.Background()
	alice := exampletest.User
	mallory := sdk.Principal{Tenant: exampletest.OtherTenant, UserID: "u9", ClientID: "app9", Scopes: []string{"api.readwrite"}}
	readOnly := alice
	readOnly.Scopes = []string{"api.read"}

	for _, tc := range []struct {
		name string
		call func(p *sdk.Principal) error
	}{
		{"ListForms", func(p *sdk.Principal) error { _, err := h.ListForms(ctx, p); return err }},
		{"GetForm", func(p *sdk.Principal) error { _, err := h.GetForm(ctx, p, "orders"); return err }},
		{"GetRecord", func(p *sdk.Principal) error { _, err := h.GetRecord(ctx, p, "orders", "r1"); return err }},
		{"FindRecords", func(p *sdk.Principal) error {
			_, err := h.FindRecords(ctx, p, "orders", sdk.Query{Limit: -1}, true)
			return err
		}},
		{"CreateRecord", func(p *sdk.Principal) error {
			_, err := h.CreateRecord(ctx, p, "orders", map[string]any{"title": "x"})
			return err
		}},
		{"UpdateRecord", func(p *sdk.Principal) error {
			_, err := h.UpdateRecord(ctx, p, "orders", "r1", map[string]any{"amount": 1})
			return err
		}},
		{"DeleteRecord", func(p *sdk.Principal) error { return h.DeleteRecord(ctx, p, "orders", "nope") }},
		{"BatchCreateRecords", func(p *sdk.Principal) error {
			_, err := h.BatchCreateRecords(ctx, p, "orders", []map[string]any{{"title": "x"}})
			return err
		}},
		{"BatchGetRecords", func(p *sdk.Principal) error {
			_, err := h.BatchGetRecords(ctx, p, "orders", []string{"r1"})
			return err
		}},
		{"IssueToken", func(p *sdk.Principal) error { _, err := h.IssueToken(ctx, p, "", nil); return err }},
		{"RevokeToken", func(p *sdk.Principal) error { return h.RevokeToken(ctx, p, "x") }},
		{"FindUsers", func(p *sdk.Principal) error { _, err := h.FindUsers(ctx, p, sdk.Query{Limit: -1}, false); return err }},
		{"FindDepartments", func(p *sdk.Principal) error {
			_, err := h.FindDepartments(ctx, p, sdk.Query{Limit: -1}, false)
			return err
		}},
		{"FindRoles", func(p *sdk.Principal) error { _, err := h.FindRoles(ctx, p, sdk.Query{Limit: -1}, false); return err }},
	} {
		if c := codeOf(t, tc.call(nil)); c != errs.Unauthorized {
			t.Errorf("%s(nil principal) = %v, want unauthorized", tc.name, c)
		}
		if c := codeOf(t, tc.call(&sdk.Principal{UserID: "u1", Scopes: []string{"api.readwrite"}})); c != errs.Unauthorized {
			t.Errorf("%s(no tenant) = %v, want unauthorized", tc.name, c)
		}
	}

	// Another tenant's record is NotFound, by its form's key or id; the
	// other tenant's own "orders" form holds only its record.
	for _, form := range []string{"orders", "f-orders"} {
		if _, err := h.GetRecord(ctx, &mallory, form, "r1"); codeOf(t, err) != errs.NotFound {
			t.Errorf("mallory GetRecord(%s, r1) = %v, want not found", form, err)
		}
	}
	pg, err := h.FindRecords(ctx, &mallory, "orders", sdk.Query{Limit: -1}, true)
	if err != nil || pg.Total != 1 || len(pg.Items) != 1 || pg.Items[0]["id"] != "r3" {
		t.Errorf("mallory FindRecords = %+v, %v; want only r3", pg, err)
	}
	if got, err := h.BatchGetRecords(ctx, &alice, "orders", []string{"r3", "r1"}); err != nil || len(got) != 1 || got[0]["id"] != "r1" {
		t.Errorf("BatchGetRecords across tenants = %v, %v", got, err)
	}
	if err := h.DeleteRecord(ctx, &mallory, "orders", "r1"); codeOf(t, err) != errs.NotFound {
		t.Errorf("mallory DeleteRecord(r1) = %v", err)
	}
	if _, err := h.GetRecord(ctx, &alice, "notes", "r1"); codeOf(t, err) != errs.NotFound {
		t.Errorf("r1 through another form = %v, want not found", err)
	}
	if users, err := h.FindUsers(ctx, &mallory, sdk.Query{Limit: -1}, true); err != nil || users.Total != 1 {
		t.Errorf("mallory FindUsers = %+v, %v", users, err)
	}

	// Scopes: a read-only principal reads but does not write.
	if _, err := h.GetRecord(ctx, &readOnly, "orders", "r1"); err != nil {
		t.Errorf("read-only GetRecord: %v", err)
	}
	if _, err := h.CreateRecord(ctx, &readOnly, "orders", map[string]any{"title": "x"}); codeOf(t, err) != errs.Forbidden {
		t.Errorf("read-only CreateRecord = %v, want forbidden", err)
	}
}

func TestBridgeRecords(t *testing.T) {
	rc := newRealCore(t)
	h, ctx := rc.host, context.Background()
	alice := exampletest.User

	f, err := h.GetForm(ctx, &alice, "f-orders")
	if err != nil || f.Key != "orders" || len(f.Fields) != 3 || f.Fields[2].Props.Options[0].Label != "Open" {
		t.Fatalf("GetForm by id = %+v, %v", f, err)
	}
	forms, err := h.ListForms(ctx, &alice)
	if err != nil || len(forms) != 3 || forms[0].Key != "leave" || forms[1].Key != "notes" || forms[2].Key != "orders" {
		t.Errorf("ListForms = %+v, %v", forms, err)
	}

	rec, err := h.CreateRecord(ctx, &alice, "orders", map[string]any{"title": "third", "amount": int64(3), "status": "open"})
	if err != nil {
		t.Fatal(err)
	}
	data := rec["data"].(map[string]any)
	if rec["formId"] != "f-orders" || rec["appId"] != "app" || rec["dataTitle"] != "third" || rec["flowStatus"] != int64(3) ||
		data["amount"] != 3.0 || data["status"].(map[string]any)["label"] != "Open" {
		t.Errorf("created = %v", rec)
	}
	if by := rec["createBy"].(map[string]any); by["id"] != "u1" || by["value"] != "alice" || by["label"] != "Alice" {
		t.Errorf("createBy = %v", by)
	}
	id := rec["id"].(string)
	upd, err := h.UpdateRecord(ctx, &alice, "orders", id, map[string]any{"amount": 4})
	if err != nil || upd["data"].(map[string]any)["title"] != "third" || upd["data"].(map[string]any)["amount"] != 4.0 {
		t.Errorf("partial update = %v, %v", upd, err)
	}
	if _, err := h.UpdateRecord(ctx, &alice, "orders", id, map[string]any{"nope": 1}); codeOf(t, err) != errs.Invalid {
		t.Errorf("update with unknown field = %v", err)
	}
	e := sdk.AsError(func() error {
		_, err := h.CreateRecord(ctx, &alice, "orders", map[string]any{"amount": "x", "bogus": true})
		return err
	}())
	var targets []string
	for _, d := range e.Details {
		targets = append(targets, d.Target)
	}
	slices.Sort(targets)
	if e.Code != errs.Invalid || !slices.Equal(targets, []string{"data/amount", "data/bogus", "data/title"}) {
		t.Errorf("invalid create = %v %v", e, targets)
	}

	// Find: filters, sort, paging, count.
	find := func(q sdk.Query, count bool) (sdk.Page, error) { return h.FindRecords(ctx, &alice, "orders", q, count) }
	pg, err := find(sdk.Query{Sort: []sdk.Sort{{Path: sdk.Path{"data", "amount"}, Desc: true}}, Limit: 2, Offset: 0}, true)
	if err != nil || pg.Total != 3 || len(pg.Items) != 2 || pg.Items[0]["id"] != "r2" || pg.Items[1]["id"] != "r1" {
		t.Errorf("sorted page = %+v, %v", pg, err)
	}
	pg, err = find(sdk.Query{Filter: sdk.Cmp{Path: sdk.Path{"data", "status", "value"}, Op: sdk.Eq, Value: "open"}, Limit: -1}, false)
	if err != nil || pg.Total != -1 || len(pg.Items) != 2 {
		t.Errorf("select filter = %+v, %v", pg, err)
	}
	pg, err = find(sdk.Query{Filter: sdk.Cmp{Path: sdk.Path{"createBy", "id"}, Op: sdk.Eq, Value: "u1"}, Limit: 0}, true)
	if err != nil || pg.Total != 3 || len(pg.Items) != 0 {
		t.Errorf("limit 0 = %+v, %v", pg, err)
	}
	for _, q := range []sdk.Query{
		{Filter: sdk.Cmp{Path: sdk.Path{"data", "bogus"}, Op: sdk.Eq, Value: "x"}},
		{Filter: sdk.And{Items: []sdk.Expr{sdk.Null{Path: sdk.Path{"data", "title"}}, sdk.Str{Path: sdk.Path{"deleteFlag"}, Fn: sdk.Contains, Value: "x"}}}},
		{Filter: sdk.Cmp{Path: sdk.Path{"Data", "title"}, Op: sdk.Eq, Value: "x"}},
		{Filter: sdk.AnyRow{Array: sdk.Path{"data", "title"}, Pred: sdk.Cmp{Path: sdk.Path{}, Op: sdk.Eq, Value: "x"}}},
		{Sort: []sdk.Sort{{Path: sdk.Path{"data", "nope"}}}},
	} {
		if _, err := find(q, false); codeOf(t, err) != errs.Invalid {
			t.Errorf("query %+v: err %v, want invalid", q, err)
		}
	}
	if _, err := h.FindRecords(ctx, &alice, "nope", sdk.Query{}, false); codeOf(t, err) != errs.NotFound {
		t.Errorf("unknown form = %v", err)
	}

	// Batch: all or nothing, details per item.
	before, _ := find(sdk.Query{Limit: 0}, true)
	_, err = h.BatchCreateRecords(ctx, &alice, "orders", []map[string]any{{"title": "ok"}, {"nope": 1}, {"title": "ok2"}})
	e = sdk.AsError(err)
	targets = targets[:0]
	for _, d := range e.Details {
		targets = append(targets, d.Target)
	}
	slices.Sort(targets)
	if e.Code != errs.Invalid || !slices.Equal(targets, []string{"data[1]/nope", "data[1]/title"}) {
		t.Errorf("batch invalid = %v %v", e, targets)
	}
	if after, _ := find(sdk.Query{Limit: 0}, true); after.Total != before.Total {
		t.Errorf("a failed batch wrote %d records", after.Total-before.Total)
	}
	recs, err := h.BatchCreateRecords(ctx, &alice, "orders", []map[string]any{{"title": "b1"}, {"title": "b2", "amount": 1.25}})
	if err != nil || len(recs) != 2 || recs[0]["dataTitle"] != "b1" || recs[1]["dataTitle"] != "b2" {
		t.Fatalf("batch = %v, %v", recs, err)
	}
	got, err := h.BatchGetRecords(ctx, &alice, "orders", []string{recs[1]["id"].(string), "missing", "r1", recs[0]["id"].(string)})
	if err != nil || len(got) != 3 || got[0]["dataTitle"] != "b2" || got[1]["id"] != "r1" || got[2]["dataTitle"] != "b1" {
		t.Errorf("batch get = %v, %v", got, err)
	}

	if err := h.DeleteRecord(ctx, &alice, "orders", id); err != nil {
		t.Fatal(err)
	}
	if _, err := h.GetRecord(ctx, &alice, "orders", id); codeOf(t, err) != errs.NotFound {
		t.Errorf("deleted record = %v", err)
	}
}

func TestBridgeDirectory(t *testing.T) {
	rc := newRealCore(t)
	h, ctx := rc.host, context.Background()
	alice := exampletest.User

	users, err := h.FindUsers(ctx, &alice, sdk.Query{Sort: []sdk.Sort{{Path: sdk.Path{"code"}}}, Limit: -1}, true)
	if err != nil || users.Total != 3 || users.Items[0]["id"] != "u1" {
		t.Fatalf("FindUsers = %+v, %v", users, err)
	}
	for _, u := range users.Items {
		if _, ok := u["passwordHash"]; ok {
			t.Errorf("passwordHash returned: %v", u)
		}
	}
	admins, err := h.FindUsers(ctx, &alice, sdk.Query{Filter: sdk.AnyRow{Array: sdk.Path{"roles"},
		Pred: sdk.Cmp{Path: sdk.Path{"roleCode"}, Op: sdk.Eq, Value: "admin"}}, Limit: -1}, false)
	if err != nil || len(admins.Items) != 1 || admins.Items[0]["id"] != "u1" {
		t.Errorf("users with role admin = %+v, %v", admins, err)
	}
	for _, q := range []sdk.Query{
		{Filter: sdk.Cmp{Path: sdk.Path{"passwordHash"}, Op: sdk.Eq, Value: "secret-hash"}},
		{Filter: sdk.Null{Path: sdk.Path{"passwordHash"}, IsNull: false}},
		{Sort: []sdk.Sort{{Path: sdk.Path{"passwordHash"}}}},
		{Filter: sdk.Cmp{Path: sdk.Path{"roles", "roleCode"}, Op: sdk.Eq, Value: "admin"}},
		{Filter: sdk.AnyRow{Array: sdk.Path{"roles"}, Pred: sdk.AnyRow{Array: sdk.Path{"x"}, Pred: sdk.Const{Value: true}}}},
		{Sort: []sdk.Sort{{Path: sdk.Path{"roles"}}}},
	} {
		if _, err := h.FindUsers(ctx, &alice, q, false); codeOf(t, err) != errs.Invalid {
			t.Errorf("users query %+v: err %v, want invalid", q, err)
		}
	}
	deps, err := h.FindDepartments(ctx, &alice, sdk.Query{Filter: sdk.Cmp{Path: sdk.Path{"code"}, Op: sdk.Eq, Value: "hq"}, Limit: -1}, true)
	if err != nil || deps.Total != 1 || deps.Items[0]["name"] != "HQ" {
		t.Errorf("FindDepartments = %+v, %v", deps, err)
	}
	roles, err := h.FindRoles(ctx, &alice, sdk.Query{Limit: -1}, false)
	if err != nil || len(roles.Items) != 1 || roles.Items[0]["code"] != "admin" || roles.Total != -1 {
		t.Errorf("FindRoles = %+v, %v", roles, err)
	}
}

func TestBridgeTokens(t *testing.T) {
	rc := newRealCore(t)
	h, ctx := rc.host, context.Background()

	for _, c := range []struct{ id, secret string }{
		{"app1", "wrong"}, {"app1", ""}, {"nobody", clientSecret}, {disabledClient, clientSecret},
	} {
		if _, err := h.VerifyClient(ctx, c.id, c.secret); codeOf(t, err) != errs.Unauthorized {
			t.Errorf("VerifyClient(%s, %q) = %v, want unauthorized", c.id, c.secret, err)
		}
	}
	cp, err := h.VerifyClient(ctx, "app1", clientSecret)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Tenant != exampletest.Tenant || cp.ClientID != "app1" || cp.UserID != "svc" || !slices.Contains(cp.Scopes, "api.readwrite") {
		t.Errorf("VerifyClient principal = %+v", cp)
	}

	tok, err := h.IssueToken(ctx, cp, "u2", []string{"api.readwrite"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.ExpiresIn <= 0 || tok.RefreshToken == "" || tok.Scope != "api.readwrite" {
		t.Errorf("token = %+v", tok)
	}
	who, err := h.ResolveToken(ctx, tok.AccessToken)
	if err != nil || who.UserID != "u2" || who.Login != "bob" || who.Tenant != exampletest.Tenant || who.ClientID != "app1" {
		t.Errorf("ResolveToken = %+v, %v", who, err)
	}
	if _, err := h.IssueToken(ctx, cp, "u9", nil); codeOf(t, err) != errs.NotFound {
		t.Errorf("token for another tenant's user = %v, want not found", err)
	}
	if _, err := h.IssueToken(ctx, cp, "", []string{"admin.everything"}); codeOf(t, err) != errs.Forbidden {
		t.Errorf("token with a scope the client lacks = %v, want forbidden", err)
	}
	forged := *cp
	forged.Tenant = exampletest.OtherTenant
	if _, err := h.IssueToken(ctx, &forged, "u9", nil); codeOf(t, err) != errs.Unauthorized {
		t.Errorf("token of a client outside its tenant = %v, want unauthorized", err)
	}

	// Refresh rotates; the old token is then reuse (401) and kills the family.
	next, err := h.RefreshToken(ctx, "app1", tok.RefreshToken)
	if err != nil || next.RefreshToken == tok.RefreshToken || next.AccessToken == "" {
		t.Fatalf("refresh = %+v, %v", next, err)
	}
	if _, err := h.RefreshToken(ctx, "app9", next.RefreshToken); codeOf(t, err) != errs.Unauthorized {
		t.Errorf("refresh by another client = %v", err)
	}
	if _, err := h.RefreshToken(ctx, "app1", tok.RefreshToken); codeOf(t, err) != errs.Unauthorized {
		t.Errorf("refresh reuse = %v", err)
	}
	if _, err := h.RefreshToken(ctx, "app1", next.RefreshToken); codeOf(t, err) != errs.Unauthorized {
		t.Errorf("refresh after reuse = %v (the family should be revoked)", err)
	}

	// Revoke: another tenant cannot, the token's tenant can.
	tok2, err := h.IssueToken(ctx, cp, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	mallory := &sdk.Principal{Tenant: exampletest.OtherTenant, UserID: "u9"}
	if err := h.RevokeToken(ctx, mallory, tok2.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ResolveToken(ctx, tok2.AccessToken); err != nil {
		t.Errorf("another tenant revoked the token: %v", err)
	}
	if err := h.RevokeToken(ctx, cp, "not-a-token"); err != nil {
		t.Errorf("revoking an unknown token = %v", err)
	}
	if err := h.RevokeToken(ctx, cp, tok2.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ResolveToken(ctx, tok2.AccessToken); codeOf(t, err) != errs.Unauthorized {
		t.Errorf("revoked token resolves: %v", err)
	}
	if err := h.RevokeToken(ctx, cp, tok2.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := h.RefreshToken(ctx, "app1", tok2.RefreshToken); codeOf(t, err) != errs.Unauthorized {
		t.Errorf("revoked refresh token = %v", err)
	}
}
