package record_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// countingStore counts Find calls on the form collection (the form cache
// must not read the store per lookup).
type countingStore struct {
	store.Store
	formFinds atomic.Int64
}

func (c *countingStore) Find(ctx context.Context, coll, tenant string, q query.Query) ([]store.Doc, error) {
	if coll == record.CollForm {
		c.formFinds.Add(1)
	}
	return c.Store.Find(ctx, coll, tenant, q)
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	ctx   context.Context
	st    *countingStore
	clk   *clock
	svc   *record.Service
	owner *principal.Principal
	other *principal.Principal
	admin *principal.Principal
}

var content = map[string]any{"items": []any{
	map[string]any{"field": "title", "type": "input", "title": "Title", "required": true},
	map[string]any{"field": "amount", "type": "number"},
	map[string]any{"field": "note", "type": "textarea"},
}}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	raw, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	f := &fixture{ctx: ctx, st: &countingStore{Store: raw}, clk: &clock{t: time.UnixMilli(1_700_000_000_000)}}
	f.svc = record.New(f.st, record.Options{Logger: quiet, Now: f.clk.now})
	scopes := []string{"api.readwrite"}
	f.owner = &principal.Principal{Tenant: "t1", UserID: "u1", UserCode: "U1", DisplayName: "One", Scopes: scopes}
	f.other = &principal.Principal{Tenant: "t1", UserID: "u2", UserCode: "U2", DisplayName: "Two", Scopes: scopes}
	f.admin = &principal.Principal{Tenant: "t1", UserID: "u9", Roles: []string{"admin"}, Scopes: scopes}
	f.putForm(t, "t1", "f_plain", "Plain", false, "a1")
	f.putForm(t, "t1", "f_flow", "Flow", true, "")
	for _, u := range []string{"u1", "u2", "u9"} {
		if err := raw.Insert(ctx, "user", store.Doc{"id": u, "corpId": "t1", "userName": u, "code": "C" + u, "empName": "N" + u}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) putForm(t *testing.T, tenant, id, key string, wf bool, app string) {
	t.Helper()
	doc := store.Doc{"id": id, "corpId": tenant, "key": key, "name": key, "appId": app, "usingWorkflow": wf, "content": content}
	if _, err := f.st.Get(f.ctx, record.CollForm, tenant, id); err == nil {
		if err := f.st.Update(f.ctx, record.CollForm, tenant, id, doc, nil); err != nil {
			t.Fatal(err)
		}
	} else if err := f.st.Insert(f.ctx, record.CollForm, doc); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) form(t *testing.T, keyOrID string) *schema.Form {
	t.Helper()
	fm, err := f.svc.Form(f.ctx, "t1", keyOrID)
	if err != nil {
		t.Fatalf("Form(%s): %v", keyOrID, err)
	}
	return fm
}

func (f *fixture) create(t *testing.T, p *principal.Principal, form string, data map[string]any, o record.CreateOptions) store.Doc {
	t.Helper()
	doc, err := f.svc.Create(f.ctx, p, f.form(t, form), data, o)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return doc
}

// setStatus forces a stored record's flowStatus (as the workflow would).
func (f *fixture) setStatus(t *testing.T, doc store.Doc, st int64) store.Doc {
	t.Helper()
	// As the workflow engine writes it: the record names its instance.
	d, err := f.svc.SetFlowStatus(f.ctx, doc, st, map[string]any{record.InstanceKey: "wf_test"}, record.Operator(f.admin), f.clk.now().UnixMilli())
	if err != nil {
		t.Fatalf("SetFlowStatus: %v", err)
	}
	return d
}

func (f *fixture) stored(t *testing.T, id string) store.Doc {
	t.Helper()
	d, err := f.st.Get(f.ctx, record.Coll, "t1", id)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return d
}

func TestFormLookupOneCaseRule(t *testing.T) {
	f := newFixture(t)
	// A form whose id spells another form's key: the id wins.
	f.putForm(t, "t1", "plain", "Shadow", false, "a1")
	f.svc.FormsChanged(f.ctx, "t1")
	for _, tc := range []struct {
		ref, want string // want "" = NotFound
	}{
		{"f_plain", "f_plain"}, {"Plain", "f_plain"}, {"PLAIN", "f_plain"}, {"pLaIn", "f_plain"},
		{"plain", "plain"}, // exact id first
		{"shadow", "plain"}, {"F_PLAIN", ""}, {"", ""}, {"nope", ""}, {"Plain ", ""},
	} {
		got, err := f.svc.Form(f.ctx, "t1", tc.ref)
		if tc.want == "" {
			if errs.CodeOf(err) != errs.NotFound {
				t.Errorf("Form(%q) = %v, %v; want NotFound", tc.ref, got, err)
			}
			continue
		}
		if err != nil || got.ID != tc.want {
			t.Errorf("Form(%q) = %v, %v; want %s", tc.ref, got, err, tc.want)
		}
	}
	if _, err := f.svc.Form(f.ctx, "t2", "f_plain"); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("another tenant's form: %v", err)
	}
	if fm, err := f.svc.FormByKey(f.ctx, "t1", "flow"); err != nil || fm.ID != "f_flow" {
		t.Errorf("FormByKey(flow) = %v, %v", fm, err)
	}
	if _, err := f.svc.FormByID(f.ctx, "t1", "Plain"); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("FormByID by key: %v", err)
	}
	forms, err := f.svc.Forms(f.ctx, "t1")
	if err != nil || len(forms) != 3 || forms[0].Key != "Flow" || forms[1].Key != "Plain" || forms[2].Key != "Shadow" {
		t.Errorf("Forms = %v, %v", forms, err)
	}
}

func TestFormCacheLocalInvalidation(t *testing.T) {
	f := newFixture(t)
	f.form(t, "Plain")
	before := f.st.formFinds.Load()
	for range 50 {
		f.form(t, "Plain")
		f.form(t, "f_flow")
	}
	if n := f.st.formFinds.Load() - before; n != 0 {
		t.Fatalf("100 cached lookups read the store %d times", n)
	}
	// A write behind the service's back is not seen; FormsChanged makes it so.
	f.putForm(t, "t1", "f_plain", "Renamed", false, "a1")
	if _, err := f.svc.Form(f.ctx, "t1", "Renamed"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("uninvalidated cache saw the write: %v", err)
	}
	f.svc.FormsChanged(f.ctx, "t1")
	if fm := f.form(t, "renamed"); fm.ID != "f_plain" {
		t.Fatalf("after FormsChanged: %v", fm)
	}
	if _, err := f.svc.Form(f.ctx, "t1", "Plain"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("old key still resolves: %v", err)
	}
}

func TestBuild(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, form string
		draft      bool
		wantFlow   int64
		wantApp    string
	}{
		{"plain form (effective, D-12.1)", "Plain", false, access.FlowApproved, "a1"},
		{"plain form as draft", "Plain", true, access.FlowDraft, "a1"},
		{"workflow form", "Flow", false, access.FlowDraft, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := record.Build(f.form(t, tc.form), "t1", map[string]any{"TITLE": "Hello", "amount": "12.5"},
				record.Operator(f.owner), 42, tc.draft)
			if err != nil {
				t.Fatal(err)
			}
			data := doc["data"].(map[string]any)
			if doc["flowStatus"] != tc.wantFlow || data["title"] != "Hello" || data["amount"] != 12.5 || doc["dataTitle"] != "Hello" {
				t.Errorf("doc = %v", doc)
			}
			if app, ok := doc["appId"]; !ok || app != tc.wantApp {
				t.Errorf("appId = %v, %v; want present %q", app, ok, tc.wantApp)
			}
			by := doc["createBy"].(map[string]any)
			if by["id"] != "u1" || doc["updateBy"].(map[string]any)["value"] != "U1" || doc["createTime"] != int64(42) || doc["updateTime"] != int64(42) {
				t.Errorf("operator/times: %v", doc)
			}
			if doc["corpId"] != "t1" || doc["formId"] != f.form(t, tc.form).ID || doc["id"] == "" {
				t.Errorf("ids: %v", doc)
			}
		})
	}
	_, err := record.Build(f.form(t, "Plain"), "t1", map[string]any{"amount": "x", "bogus": 1}, record.Operator(f.owner), 1, false)
	e := errs.As(err)
	if e.Code != errs.Invalid || len(e.Details) != 3 { // title required, amount invalid, bogus unknown
		t.Fatalf("invalid data: %v %v", err, e.Details)
	}
}

func TestMerge(t *testing.T) {
	f := newFixture(t)
	fm := f.form(t, "Plain")
	old, err := record.Build(fm, "t1", map[string]any{"title": "A", "amount": 1, "note": "n"}, record.Operator(f.owner), 100, false)
	if err != nil {
		t.Fatal(err)
	}
	old["flowStatus"] = access.FlowRejected
	old[record.InstanceKey] = "wf1"
	for _, tc := range []struct {
		name    string
		patch   map[string]any
		now     int64
		want    map[string]any
		wantUT  int64
		wantErr errs.Code
	}{
		{"absent keys kept", map[string]any{"amount": 2}, 200, map[string]any{"title": "A", "amount": int64(2), "note": "n"}, 200, 0},
		{"null clears (any case)", map[string]any{"NOTE": nil}, 200, map[string]any{"title": "A", "amount": int64(1)}, 200, 0},
		{"title recomputed", map[string]any{"title": "B"}, 200, map[string]any{"title": "B", "amount": int64(1), "note": "n"}, 200, 0},
		{"clock behind: version still moves", map[string]any{}, 50, map[string]any{"title": "A", "amount": int64(1), "note": "n"}, 101, 0},
		{"required cleared", map[string]any{"title": nil}, 200, nil, 0, errs.Invalid},
		{"unknown field", map[string]any{"nope": 1}, 200, nil, 0, errs.Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := record.Merge(fm, old, tc.patch, record.Operator(f.other), tc.now)
			if tc.wantErr != 0 {
				if errs.CodeOf(err) != tc.wantErr {
					t.Fatalf("err = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			data := doc["data"].(map[string]any)
			if len(data) != len(tc.want) {
				t.Errorf("data = %v, want %v", data, tc.want)
			}
			for k, v := range tc.want {
				if n, ok := data[k].(float64); ok && float64(int64(n)) == n {
					data[k] = int64(n)
				}
				if data[k] != v {
					t.Errorf("data[%s] = %v (%T), want %v", k, data[k], data[k], v)
				}
			}
			if doc["dataTitle"] != tc.want["title"] || doc["updateTime"] != tc.wantUT || doc["createTime"] != int64(100) ||
				doc["flowStatus"] != access.FlowRejected || doc[record.InstanceKey] != "wf1" ||
				doc["updateBy"].(map[string]any)["id"] != "u2" || doc["createBy"].(map[string]any)["id"] != "u1" {
				t.Errorf("doc = %v", doc)
			}
			if old["data"].(map[string]any)["note"] != "n" {
				t.Error("Merge modified old")
			}
		})
	}
}

func TestUpdateCompareAndSet(t *testing.T) {
	f := newFixture(t)
	doc := f.create(t, f.owner, "Plain", map[string]any{"title": "A"}, record.CreateOptions{})
	first, err := f.svc.Update(f.ctx, f.owner, record.Change{Old: doc, Data: map[string]any{"amount": 1}})
	if err != nil {
		t.Fatal(err)
	}
	// A second writer that read the same version loses.
	_, err = f.svc.Update(f.ctx, f.owner, record.Change{Old: doc, Data: map[string]any{"amount": 2}})
	if errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("stale update: %v", err)
	}
	if got := f.stored(t, doc["id"].(string)); got["updateTime"] != first["updateTime"] {
		t.Fatalf("stored = %v, want the first update", got)
	}
	cur := f.stored(t, doc["id"].(string))
	for _, tc := range []struct {
		name string
		c    record.Change
		want errs.Code
	}{
		{"If-Match stale", record.Change{Old: cur, IfMatch: record.TimeOf(doc["updateTime"]), HasIfMatch: true}, errs.Conflict},
		{"move form", record.Change{Old: cur, FormID: "f_flow"}, errs.Invalid},
		{"wrong data", record.Change{Old: cur, Data: map[string]any{"amount": "x"}}, errs.Invalid},
	} {
		if _, err := f.svc.Update(f.ctx, f.owner, tc.c); errs.CodeOf(err) != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
	if got := f.stored(t, doc["id"].(string)); got["updateTime"] != cur["updateTime"] {
		t.Fatal("a refused update wrote")
	}
	ok, err := f.svc.Update(f.ctx, f.owner, record.Change{Old: cur, IfMatch: record.TimeOf(cur["updateTime"]), HasIfMatch: true, FormID: "f_plain"})
	if err != nil || ok["updateTime"].(int64) <= cur["updateTime"].(int64) {
		t.Fatalf("matching If-Match: %v %v", ok, err)
	}
}

func TestWriteAccessAndLocks(t *testing.T) {
	f := newFixture(t)
	const ok, forbidden, locked = "ok", "forbidden", "locked"
	for _, tc := range []struct {
		name   string
		status int64
		p      *principal.Principal
		op     access.Op
		want   string
	}{
		{"owner updates draft", access.FlowDraft, nil, access.Update, ok},
		{"other updates", access.FlowNone, f.other, access.Update, forbidden},
		{"admin updates", access.FlowNone, f.admin, access.Update, ok},
		{"owner updates in approval", access.FlowApproving, nil, access.Update, locked},
		{"admin updates approved", access.FlowApproved, f.admin, access.Update, locked},
		{"owner updates rejected", access.FlowRejected, nil, access.Update, ok},
		{"other deletes", access.FlowNone, f.other, access.Delete, forbidden},
		{"owner deletes approved", access.FlowApproved, nil, access.Delete, locked},
		{"admin deletes approved", access.FlowApproved, f.admin, access.Delete, ok},
		{"owner deletes in approval", access.FlowApproving, nil, access.Delete, ok},
		// Records of a form without workflow are effective (3) from creation
		// (D-12.1), approved by no workflow: not locked.
		{"owner updates effective", access.FlowNone, nil, access.Update, ok},
		{"owner deletes effective", access.FlowNone, nil, access.Delete, ok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := f.create(t, f.owner, "Plain", map[string]any{"title": "A"}, record.CreateOptions{})
			if tc.status != access.FlowNone {
				doc = f.setStatus(t, doc, tc.status)
			}
			p := tc.p
			if p == nil {
				p = f.owner
			}
			var err error
			if tc.op == access.Update {
				_, err = f.svc.Update(f.ctx, p, record.Change{Old: doc, Data: map[string]any{"amount": 3}})
			} else {
				err = f.svc.Delete(f.ctx, p, doc, 0, false)
			}
			got := ok
			switch {
			case access.IsLocked(err):
				got = locked
			case access.IsNotOwner(err):
				got = forbidden
			case err != nil:
				got = err.Error()
			}
			if got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
			_, gerr := f.st.Get(f.ctx, record.Coll, "t1", doc["id"].(string))
			if tc.want != ok && gerr != nil {
				t.Fatal("a refused write changed the record")
			}
		})
	}
}

func TestSetFlowStatusTransitions(t *testing.T) {
	f := newFixture(t)
	doc := f.create(t, f.owner, "Flow", map[string]any{"title": "A"}, record.CreateOptions{})
	if doc["flowStatus"] != access.FlowDraft {
		t.Fatalf("workflow form record created as %v", doc["flowStatus"])
	}
	now := f.clk.now().UnixMilli()
	next, err := f.svc.SetFlowStatus(f.ctx, doc, access.FlowApproving, map[string]any{record.InstanceKey: "wf1"}, record.Operator(f.admin), now)
	if err != nil {
		t.Fatal(err)
	}
	st := f.stored(t, doc["id"].(string))
	if st["flowStatus"] != access.FlowApproving || st[record.InstanceKey] != "wf1" || st["updateTime"] != next["updateTime"] ||
		record.TimeOf(st["updateTime"]) <= record.TimeOf(doc["updateTime"]) {
		t.Fatalf("stored = %v", st)
	}
	// The engine's write is a compare-and-set too: a stale read loses.
	if _, err := f.svc.SetFlowStatus(f.ctx, doc, access.FlowApproved, nil, record.Operator(f.admin), now); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("stale SetFlowStatus: %v", err)
	}
	if _, err := f.svc.SetFlowStatus(f.ctx, st, 42, nil, record.Operator(f.admin), now); errs.CodeOf(err) != errs.Internal {
		t.Fatalf("unknown status: %v", err)
	}
	for name, code := range record.FlowStatusEnum {
		if n, ok := record.FlowStatusName(code); !ok || n != name {
			t.Errorf("FlowStatusName(%d) = %q", code, n)
		}
	}
}

func TestApplyObeysLocksAndCAS(t *testing.T) {
	f := newFixture(t)
	fm := f.form(t, "Plain")
	mine := f.create(t, f.owner, "Plain", map[string]any{"title": "mine"}, record.CreateOptions{})
	theirs := f.create(t, f.other, "Plain", map[string]any{"title": "theirs"}, record.CreateOptions{})
	approved := f.setStatus(t, f.create(t, f.other, "Plain", map[string]any{"title": "approved"}, record.CreateOptions{}), access.FlowApproved)
	update := func(old store.Doc, title string) record.Write {
		d, err := record.Merge(fm, old, map[string]any{"title": title}, record.Operator(f.owner), f.clk.now().UnixMilli())
		if err != nil {
			t.Fatal(err)
		}
		return record.Write{Op: record.OpUpdate, ID: old["id"].(string), Doc: d, Seen: record.TimeOf(old["updateTime"])}
	}
	created, err := record.Build(fm, "t1", map[string]any{"title": "new"}, record.Operator(f.owner), 1, false)
	if err != nil {
		t.Fatal(err)
	}
	apply := func(ws ...record.Write) error {
		return f.st.Tx(f.ctx, func(ctx context.Context) error { return f.svc.Apply(ctx, f.owner, ws, record.ApplyOptions{}) })
	}
	// A locked record in the batch: nothing of the batch is written.
	err = apply(record.Write{Op: record.OpCreate, ID: created["id"].(string), Doc: created}, update(theirs, "x"), update(approved, "y"))
	if !access.IsLocked(err) {
		t.Fatalf("batch with an approved record: %v", err)
	}
	if _, err := f.st.Get(f.ctx, record.Coll, "t1", created["id"].(string)); errs.CodeOf(err) != errs.NotFound {
		t.Fatal("the refused batch created a record")
	}
	if f.stored(t, theirs["id"].(string))["dataTitle"] != "theirs" {
		t.Fatal("the refused batch updated a record")
	}
	// Another user's record (no owner rule for a definition's run) and a delete.
	if err := apply(update(theirs, "x"), record.Write{Op: record.OpDelete, ID: mine["id"].(string), Seen: record.TimeOf(mine["updateTime"])}); err != nil {
		t.Fatalf("batch: %v", err)
	}
	if f.stored(t, theirs["id"].(string))["dataTitle"] != "x" {
		t.Fatal("update not applied")
	}
	// Seen is stale now: Conflict.
	if err := apply(update(theirs, "z")); errs.CodeOf(err) != errs.Conflict || access.IsLocked(err) {
		t.Fatalf("stale batch: %v", err)
	}
	if err := apply(record.Write{Op: record.OpDelete, ID: mine["id"].(string), Seen: record.TimeOf(mine["updateTime"])}); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("delete of a deleted record: %v", err)
	}
}

func TestCreateManyDraftsOwnersAllOrNothing(t *testing.T) {
	f := newFixture(t)
	fm := f.form(t, "Plain")
	count := func() int64 {
		n, err := f.st.Count(f.ctx, record.Coll, "t1", nil)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	out, err := f.svc.CreateMany(f.ctx, f.admin, fm, []map[string]any{{"title": "a"}, {"title": "b"}},
		record.ManyOptions{Owners: []string{"u1", ""}, Draft: true})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Record["createBy"].(map[string]any)["id"] != "u1" || out[0].Record["createBy"].(map[string]any)["value"] != "Cu1" ||
		out[1].Record["createBy"].(map[string]any)["id"] != "u9" || out[0].Record["flowStatus"] != access.FlowDraft {
		t.Fatalf("out = %v", out)
	}
	n := count()
	for _, tc := range []struct {
		name string
		p    *principal.Principal
		data []map[string]any
		o    record.ManyOptions
		want errs.Code
		nDet int
	}{
		{"invalid items reported together", f.owner, []map[string]any{{"title": "ok"}, {"amount": "x"}, {}}, record.ManyOptions{}, errs.Invalid, 3},
		{"non-admin as another user", f.owner, []map[string]any{{"title": "a"}}, record.ManyOptions{Owners: []string{"u2"}}, errs.Forbidden, 0},
		{"unknown owner", f.admin, []map[string]any{{"title": "a"}}, record.ManyOptions{Owners: []string{"ghost"}}, errs.Invalid, 0},
		{"owners count", f.admin, []map[string]any{{"title": "a"}, {"title": "b"}, {"title": "c"}}, record.ManyOptions{Owners: []string{"u1", "u2"}}, errs.Invalid, 0},
		{"start on a form without workflow", f.owner, []map[string]any{{"title": "a"}}, record.ManyOptions{StartWorkflow: true}, errs.Invalid, 0},
	} {
		_, err := f.svc.CreateMany(f.ctx, tc.p, fm, tc.data, tc.o)
		if errs.CodeOf(err) != tc.want || len(errs.As(err).Details) != tc.nDet {
			t.Errorf("%s: %v %v", tc.name, err, errs.As(err).Details)
		}
		if tc.nDet > 0 && errs.As(err).Details[0].Target[:7] != "data[1]" {
			t.Errorf("%s: details %v", tc.name, errs.As(err).Details)
		}
	}
	if count() != n {
		t.Fatal("a refused batch wrote records")
	}
	// With no workflow wired, StartWorkflow is Unavailable.
	if _, err := f.svc.CreateMany(f.ctx, f.owner, f.form(t, "Flow"), []map[string]any{{"title": "a"}},
		record.ManyOptions{StartWorkflow: true}); errs.CodeOf(err) != errs.Unavailable {
		t.Errorf("start without engine: %v", err)
	}
}

// TestCreateManyFormVersion: the form's version is its stored updateTime;
// CreateMany expecting another version is Conflict/form_changed and
// writes nothing; the current version (or none) writes.
func TestCreateManyFormVersion(t *testing.T) {
	f := newFixture(t)
	doc := store.Doc{"id": "f_plain", "corpId": "t1", "key": "Plain", "name": "Plain", "appId": "a1", "content": content,
		"updateTime": int64(1_700_000_000_123)}
	if err := f.st.Update(f.ctx, record.CollForm, "t1", "f_plain", doc, nil); err != nil {
		t.Fatal(err)
	}
	f.svc.FormsChanged(f.ctx, "t1")
	fm := f.form(t, "Plain")
	if fm.Version != 1_700_000_000_123 {
		t.Fatalf("Version = %d, want the form's updateTime", fm.Version)
	}
	count := func() int64 {
		n, err := f.st.Count(f.ctx, record.Coll, "t1", nil)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	_, err := f.svc.CreateMany(f.ctx, f.owner, fm, []map[string]any{{"title": "a"}}, record.ManyOptions{FormVersion: fm.Version - 1})
	if e := errs.As(err); err == nil || e.Code != errs.Conflict || e.Reason != record.ReasonFormChanged || e.Target != "form" {
		t.Fatalf("stale version: %v, want Conflict/%s", err, record.ReasonFormChanged)
	}
	if n := count(); n != 0 {
		t.Fatalf("a refused CreateMany wrote %d records", n)
	}
	for _, v := range []int64{fm.Version, 0} {
		if _, err := f.svc.CreateMany(f.ctx, f.owner, fm, []map[string]any{{"title": "a"}}, record.ManyOptions{FormVersion: v}); err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
	}
	if err := record.CheckFormVersion(fm, fm.Version+1); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("CheckFormVersion: %v", err)
	}
}
