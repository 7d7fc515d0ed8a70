// Package sdktest is the conformance kit for connector authors: an in-memory
// Host (MemHost), a recording/replaying Host (RecordingHost), golden-file
// tests (RunGolden) and a contract check (Conformance). None of it needs a
// running hub.
package sdktest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// MemHost is an in-memory sdk.Host that honours tenancy: every call acts in
// p.Tenant and never sees another tenant's data. Ids and times are
// deterministic ("r1", "r2", ...; Now), so responses built on it are stable
// enough for golden files. It is safe for concurrent use.
type MemHost struct {
	// Now returns the epoch-ms time stamped on writes. Default: a fixed time.
	Now func() int64
	// MaxUpload is UploadFile's per-file limit in bytes. Default:
	// sdk.MaxFileSize.
	MaxUpload int

	mu      sync.Mutex
	seq     int
	forms   map[string][]sdk.Form           // tenant → forms
	records map[string]map[string][]sdk.Doc // tenant → form id → records
	clients map[string]memClient
	access  map[string]sdk.Principal
	refresh map[string]refreshEntry
	dir     map[string]map[string][]sdk.Doc // kind → tenant → docs
	flows   map[string]MemInstance          // tenant/record id → instance
	files   map[string]memFile              // tenant/file id → file
	// dataflows by tenant/key
	dataflows map[string]DataflowFunc
	// v2 (memhost_v2.go)
	ents    map[string]map[string][]sdk.Doc // kind → tenant → docs (not directory kinds)
	wfs     map[string]*memWF               // tenant → task lists
	aliases map[string]*memAliases          // tenant/ns/kind → aliases
	perms   map[string]bool                 // tenant/user/permission (memhost_writes.go)
}

type memClient struct {
	secret string
	p      sdk.Principal
}

type refreshEntry struct {
	clientID string
	p        sdk.Principal
}

// FixedNow is MemHost's default clock (2023-11-14T22:13:20Z).
const FixedNow int64 = 1700000000000

// NewMemHost returns an empty MemHost.
func NewMemHost() *MemHost {
	return &MemHost{
		forms:   map[string][]sdk.Form{},
		records: map[string]map[string][]sdk.Doc{},
		clients: map[string]memClient{},
		access:  map[string]sdk.Principal{},
		refresh: map[string]refreshEntry{},
		dir:     map[string]map[string][]sdk.Doc{},
	}
}

func (m *MemHost) now() int64 {
	if m.Now != nil {
		return m.Now()
	}
	return FixedNow
}

func (m *MemHost) nextID(prefix string) string {
	m.seq++
	return fmt.Sprintf("%s%d", prefix, m.seq)
}

// AddForm adds a form to tenant (an empty f.ID gets one; a zero
// f.Version gets the clock's time, as the hub's updateTime).
func (m *MemHost) AddForm(tenant string, f sdk.Form) sdk.Form {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f.ID == "" {
		f.ID = m.nextID("f")
	}
	if f.Version == 0 {
		f.Version = m.now()
	}
	m.forms[tenant] = append(m.forms[tenant], f)
	return f
}

// UpdateForm replaces tenant's form with f.ID (or, without an id, f.Key)
// by f, as an admin's edit of the form: its Version moves forward (the
// clock's time, at least the old version + 1), so writes that expect the
// old version get Conflict/sdk.ReasonFormChanged.
func (m *MemHost) UpdateForm(tenant string, f sdk.Form) (sdk.Form, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, old := range m.forms[tenant] {
		if (f.ID != "" && old.ID == f.ID) || (f.ID == "" && old.Key == f.Key) {
			f.ID = old.ID
			f.Version = max(m.now(), old.Version+1)
			m.forms[tenant][i] = f
			return f, nil
		}
	}
	return sdk.Form{}, errs.NotFoundf("form %q not found", f.Key).WithTarget("form")
}

// checkFormVersion is the host's side of a write that expects a form
// version (0 = no check).
func checkFormVersion(f *sdk.Form, want int64) error {
	if want == 0 || want == f.Version {
		return nil
	}
	return errs.Conflictf("form %s changed (version %d, the write expected %d); reload it", f.Key, f.Version, want).
		WithReason(sdk.ReasonFormChanged).WithTarget("form")
}

// AddClient registers an OAuth client whose credentials verify to p.
func (m *MemHost) AddClient(clientID, secret string, p sdk.Principal) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p.ClientID = clientID
	m.clients[clientID] = memClient{secret: secret, p: p}
}

// AddDirectory adds a user, department or role document (kind "user",
// "department", "role") to tenant; an absent "id" gets one.
func (m *MemHost) AddDirectory(kind, tenant string, d sdk.Doc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := d["id"]; !ok {
		d["id"] = m.nextID(kind[:1])
	}
	d["corpId"] = tenant
	if m.dir[kind] == nil {
		m.dir[kind] = map[string][]sdk.Doc{}
	}
	m.dir[kind][tenant] = append(m.dir[kind][tenant], d)
}

func tenantOf(p *sdk.Principal) (string, error) {
	if p == nil || p.Tenant == "" {
		return "", errs.New(errs.Unauthorized, "no principal").WithReason("no_principal")
	}
	return p.Tenant, nil
}

func (m *MemHost) form(p *sdk.Principal, keyOrID string) (string, *sdk.Form, error) {
	t, err := tenantOf(p)
	if err != nil {
		return "", nil, err
	}
	for i, f := range m.forms[t] {
		if f.Key == keyOrID || f.ID == keyOrID {
			return t, &m.forms[t][i], nil
		}
	}
	return "", nil, errs.NotFoundf("form %q not found", keyOrID).WithTarget("form")
}

// ListForms implements sdk.Host.
func (m *MemHost) ListForms(_ context.Context, p *sdk.Principal) ([]sdk.Form, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(m.forms[t])
	slices.SortFunc(out, func(a, b sdk.Form) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// GetForm implements sdk.Host.
func (m *MemHost) GetForm(_ context.Context, p *sdk.Principal, keyOrID string) (*sdk.Form, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, f, err := m.form(p, keyOrID)
	if err != nil {
		return nil, err
	}
	c := *f
	return &c, nil
}

// clone deep-copies a document through JSON-shaped values.
func clone(d sdk.Doc) sdk.Doc {
	if d == nil {
		return nil
	}
	return cloneValue(d).(map[string]any)
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}

// validate checks data against f: unknown fields always, required fields on
// create. prefix is "data" or "data[i]".
func validate(f *sdk.Form, data map[string]any, partial bool, prefix string) []errs.Detail {
	var ds []errs.Detail
	known := map[string]sdk.Field{}
	for _, fd := range f.Fields {
		known[fd.Field] = fd
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if _, ok := known[k]; !ok {
			ds = append(ds, errs.Detail{Code: "unknown_field", Message: fmt.Sprintf("form has no field %q", k), Target: prefix + "/" + k})
		}
	}
	if !partial {
		for _, fd := range f.Fields {
			if v, ok := data[fd.Field]; fd.Required && (!ok || v == nil || v == "") {
				ds = append(ds, errs.Detail{Code: "required", Message: fmt.Sprintf("field %q is required", fd.Field), Target: prefix + "/" + fd.Field})
			}
		}
	}
	return ds
}

func invalid(ds []errs.Detail) error {
	return errs.New(errs.Invalid, "record data is invalid").WithReason("validation_failed").WithDetails(ds...)
}

func operator(p *sdk.Principal) map[string]any {
	return map[string]any{"id": p.UserID, "value": p.UserCode, "label": p.DisplayName}
}

func (m *MemHost) newRecord(t string, f *sdk.Form, p *sdk.Principal, data map[string]any) sdk.Doc {
	now := m.now()
	return sdk.Doc{
		"id": m.nextID("r"), "corpId": t, "appId": f.AppID, "formId": f.ID,
		"flowStatus": int64(0), "data": cloneValue(data),
		"createBy": operator(p), "updateBy": operator(p), "createTime": now, "updateTime": now,
	}
}

func (m *MemHost) recs(t, formID string) []sdk.Doc {
	if m.records[t] == nil {
		m.records[t] = map[string][]sdk.Doc{}
	}
	return m.records[t][formID]
}

// GetRecord implements sdk.Host.
func (m *MemHost) GetRecord(_ context.Context, p *sdk.Principal, form, id string, opts ...sdk.ReadOption) (sdk.Doc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, f, err := m.form(p, form)
	if err != nil {
		return nil, err
	}
	for _, d := range m.recs(t, f.ID) {
		if d["id"] == id {
			return m.expand(t, clone(d), sdk.ReadOpts(opts...).Expand), nil
		}
	}
	return nil, errs.NotFoundf("record %q not found", id).WithTarget("id")
}

// FindRecords implements sdk.Host.
func (m *MemHost) FindRecords(_ context.Context, p *sdk.Principal, form string, q sdk.Query, count bool, opts ...sdk.ReadOption) (sdk.Page, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, f, err := m.form(p, form)
	if err != nil {
		return sdk.Page{}, err
	}
	o := sdk.ReadOpts(opts...)
	pg := page(m.recs(t, f.ID), q, count)
	for i := range pg.Items {
		pg.Items[i] = m.expand(t, pg.Items[i], o.Expand)
	}
	if o.Form {
		fc := *f
		pg.Form = &fc
	}
	if o.Aliases != "" {
		pg.Aliases = m.pageAliases(t, o.Aliases, pg.Items)
	}
	return pg, nil
}

func page(docs []sdk.Doc, q sdk.Query, count bool) sdk.Page {
	items, total := run(docs, q)
	out := sdk.Page{Items: make([]sdk.Doc, len(items)), Total: -1}
	for i, d := range items {
		out.Items[i] = clone(d)
	}
	if count {
		out.Total = total
	}
	return out
}

// CreateRecord implements sdk.Host.
func (m *MemHost) CreateRecord(_ context.Context, p *sdk.Principal, form string, data map[string]any) (sdk.Doc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, f, err := m.form(p, form)
	if err != nil {
		return nil, err
	}
	if ds := validate(f, data, false, "data"); len(ds) > 0 {
		return nil, invalid(ds)
	}
	d := m.newRecord(t, f, p, data)
	rs := m.recs(t, f.ID)
	m.records[t][f.ID] = append(rs, d)
	return clone(d), nil
}

// UpdateRecord implements sdk.Host.
func (m *MemHost) UpdateRecord(_ context.Context, p *sdk.Principal, form, id string, data map[string]any, opts ...sdk.WriteOption) (sdk.Doc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, f, err := m.form(p, form)
	if err != nil {
		return nil, err
	}
	if err := checkFormVersion(f, sdk.WriteOpts(opts...).FormVersion); err != nil {
		return nil, err
	}
	if ds := validate(f, data, true, "data"); len(ds) > 0 {
		return nil, invalid(ds)
	}
	for _, d := range m.recs(t, f.ID) {
		if d["id"] != id {
			continue
		}
		cur, _ := d["data"].(map[string]any)
		if cur == nil {
			cur = map[string]any{}
		}
		for k, v := range data {
			if v == nil {
				delete(cur, k)
			} else {
				cur[k] = cloneValue(v)
			}
		}
		d["data"] = cur
		d["updateBy"] = operator(p)
		d["updateTime"] = m.now()
		return clone(d), nil
	}
	return nil, errs.NotFoundf("record %q not found", id).WithTarget("id")
}

// DeleteRecord implements sdk.Host.
func (m *MemHost) DeleteRecord(_ context.Context, p *sdk.Principal, form, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, f, err := m.form(p, form)
	if err != nil {
		return err
	}
	rs := m.recs(t, f.ID)
	for i, d := range rs {
		if d["id"] == id {
			m.records[t][f.ID] = slices.Delete(rs, i, i+1)
			return nil
		}
	}
	return errs.NotFoundf("record %q not found", id).WithTarget("id")
}

// BatchCreateRecords implements sdk.Host (all or nothing).
func (m *MemHost) BatchCreateRecords(_ context.Context, p *sdk.Principal, form string, data []map[string]any) ([]sdk.Doc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, f, err := m.form(p, form)
	if err != nil {
		return nil, err
	}
	var ds []errs.Detail
	for i, d := range data {
		ds = append(ds, validate(f, d, false, fmt.Sprintf("data[%d]", i))...)
	}
	if len(ds) > 0 {
		return nil, invalid(ds)
	}
	out := make([]sdk.Doc, len(data))
	for i, d := range data {
		rec := m.newRecord(t, f, p, d)
		rs := m.recs(t, f.ID)
		m.records[t][f.ID] = append(rs, rec)
		out[i] = clone(rec)
	}
	return out, nil
}

// BatchGetRecords implements sdk.Host.
func (m *MemHost) BatchGetRecords(_ context.Context, p *sdk.Principal, form string, ids []string) ([]sdk.Doc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, f, err := m.form(p, form)
	if err != nil {
		return nil, err
	}
	out := []sdk.Doc{}
	for _, id := range ids {
		for _, d := range m.recs(t, f.ID) {
			if d["id"] == id {
				out = append(out, clone(d))
				break
			}
		}
	}
	return out, nil
}

func badCredentials() error {
	return errs.New(errs.Unauthorized, "invalid client credentials").WithReason("invalid_client")
}

// VerifyClient implements sdk.Host.
func (m *MemHost) VerifyClient(_ context.Context, clientID, secret string) (*sdk.Principal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.clients[clientID]
	if !ok || c.secret != secret {
		return nil, badCredentials()
	}
	p := c.p
	return &p, nil
}

// IssueToken implements sdk.Host.
func (m *MemHost) IssueToken(_ context.Context, p *sdk.Principal, userID string, scopes []string) (*sdk.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	acting := *p
	if userID != "" {
		u := m.findDir("user", t, userID)
		if u == nil {
			return nil, errs.NotFoundf("user %q not found", userID).WithTarget("userId")
		}
		acting.UserID = userID
		acting.UserCode, _ = u["code"].(string)
		acting.DisplayName, _ = u["empName"].(string)
		acting.Login, _ = u["userName"].(string)
	}
	if scopes != nil {
		acting.Scopes = slices.Clone(scopes)
	}
	at, rt := m.nextID("at-"), m.nextID("rt-")
	acting.TokenID = at
	m.access[at] = acting
	m.refresh[rt] = refreshEntry{clientID: p.ClientID, p: acting}
	return &sdk.Token{AccessToken: at, RefreshToken: rt, TokenType: "Bearer", ExpiresIn: 7200, Scope: strings.Join(acting.Scopes, " ")}, nil
}

func (m *MemHost) findDir(kind, tenant, id string) sdk.Doc {
	for _, d := range m.dir[kind][tenant] {
		if d["id"] == id {
			return d
		}
	}
	return nil
}

// RefreshToken implements sdk.Host (rotation: the old refresh token dies).
func (m *MemHost) RefreshToken(_ context.Context, clientID, refreshToken string) (*sdk.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.refresh[refreshToken]
	if !ok || e.clientID != clientID {
		return nil, errs.New(errs.Unauthorized, "invalid refresh token").WithReason("invalid_grant")
	}
	delete(m.refresh, refreshToken)
	at, rt := m.nextID("at-"), m.nextID("rt-")
	p := e.p
	p.TokenID = at
	m.access[at] = p
	m.refresh[rt] = refreshEntry{clientID: clientID, p: p}
	return &sdk.Token{AccessToken: at, RefreshToken: rt, TokenType: "Bearer", ExpiresIn: 7200, Scope: strings.Join(p.Scopes, " ")}, nil
}

// RevokeToken implements sdk.Host.
func (m *MemHost) RevokeToken(_ context.Context, p *sdk.Principal, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := tenantOf(p)
	if err != nil {
		return err
	}
	if a, ok := m.access[token]; ok && a.Tenant == t {
		delete(m.access, token)
	}
	if r, ok := m.refresh[token]; ok && r.p.Tenant == t {
		delete(m.refresh, token)
	}
	return nil
}

// ResolveToken implements sdk.Host.
func (m *MemHost) ResolveToken(_ context.Context, token string) (*sdk.Principal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.access[token]
	if !ok {
		return nil, errs.New(errs.Unauthorized, "invalid or expired token").WithReason("invalid_token")
	}
	return &p, nil
}

func (m *MemHost) directory(kind string, p *sdk.Principal, q sdk.Query, count bool) (sdk.Page, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := tenantOf(p)
	if err != nil {
		return sdk.Page{}, err
	}
	return page(m.dir[kind][t], q, count), nil
}

// FindUsers implements sdk.Host.
func (m *MemHost) FindUsers(_ context.Context, p *sdk.Principal, q sdk.Query, count bool) (sdk.Page, error) {
	return m.directory("user", p, q, count)
}

// FindDepartments implements sdk.Host.
func (m *MemHost) FindDepartments(_ context.Context, p *sdk.Principal, q sdk.Query, count bool) (sdk.Page, error) {
	return m.directory("department", p, q, count)
}

// FindRoles implements sdk.Host.
func (m *MemHost) FindRoles(_ context.Context, p *sdk.Principal, q sdk.Query, count bool) (sdk.Page, error) {
	return m.directory("role", p, q, count)
}

var _ sdk.Host = (*MemHost)(nil)

// mustJSON is a test helper for encoding canned values.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
