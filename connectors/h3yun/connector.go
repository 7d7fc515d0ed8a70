// Package h3yun is the H3Yun (氚云) OpenApi connector: an unmodified H3Yun
// client changes its base URL and its EngineCode/EngineSecret and keeps
// working against the hub (spec h3yun.md). It is written only against
// plugins/sdk and registers itself as the built-in connector "h3yun".
//
// Mapping (spec §10): EngineCode/EngineSecret are a hub client's id and
// secret (verified by the hub before the plugin hop); SchemaCode is a form key; a BizObject is a
// record; ObjectId is the hub record id; OwnerId and CreatedBy are the
// record's creator (createBy); Status is derived from flowStatus.
package h3yun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// ID is the connector's id (the YAML key under connectors:).
const ID = "h3yun"

// Version is the connector's version.
const Version = "0.1.0"

// Route paths (spec §1). The hub's router matches them case-insensitively
// and with an optional trailing slash.
const (
	pathInvoke   = "/OpenApi/Invoke"
	pathUpload   = "/OpenApi/UploadAttachment"
	pathDownload = "/Api/DownloadBizObjectFile"
)

// The six reserved ActionNames (spec §2).
const (
	actionLoad       = "LoadBizObject"
	actionLoadMany   = "LoadBizObjects"
	actionCreate     = "CreateBizObject"
	actionCreateMany = "CreateBizObjects"
	actionUpdate     = "UpdateBizObject"
	actionRemove     = "RemoveBizObject"
	defaultMaxBatch  = 500
	// defaultMaxAttachment is H3Yun's documented upload limit (§4.8).
	defaultMaxAttachment = 3 << 20
	defaultTimeZoneID    = "Asia/Shanghai"
)

func init() { sdk.Register(Info()) }

// Info describes the connector.
func Info() sdk.Info {
	return sdk.Info{
		ID:          ID,
		Version:     Version,
		Description: "H3Yun (氚云) OpenApi: /OpenApi/Invoke with EngineCode/EngineSecret",
		Routes: []sdk.Route{
			{Method: http.MethodPost, Path: pathInvoke, Auth: sdk.AuthClientSecret, Credentials: engineCredentials},
			{Method: http.MethodPost, Path: pathUpload, Auth: sdk.AuthClientSecret, Credentials: engineCredentials},
			// Download failures are non-2xx (§4.9), the hub's refusals too.
			{Method: http.MethodPost, Path: pathDownload, Auth: sdk.AuthClientSecret, Credentials: engineCredentials,
				ErrorStatusByCode: true},
		},
		ErrorEnvelope: errorEnvelope(),
		New:           New,
	}
}

// settings is the connector's configuration (the YAML config: block).
type settings struct {
	// TimeZone is the IANA zone in which dates are read and written.
	// Default: "Asia/Shanghai" (a fixed UTC+08:00 zone when the system has
	// no zone database).
	TimeZone string `json:"timeZone"`
	// MaxBatch caps the records of one CreateBizObjects. Default: 500.
	MaxBatch int `json:"maxBatch"`
	// MaxAttachment caps one UploadAttachment file in bytes. Default:
	// 3 MiB, H3Yun's documented limit (§4.8).
	MaxAttachment int `json:"maxAttachment"`
	// Controllers route custom controller calls (§4.7) to dataflows.
	Controllers []controllerRoute `json:"controllers"`
	// ReadCacheBytes bounds the LoadBizObject(s) answers kept for reuse
	// (readcache.go). Default (0): 16 MiB; negative: off.
	ReadCacheBytes int `json:"readCacheBytes"`

	loc   *time.Location
	reads *readCache
}

// Connector is the H3Yun connector. Its state is its configuration and
// the forms it caches for writes (formcache.go).
type Connector struct {
	cfg   atomic.Pointer[settings]
	forms *formCache
}

// New returns a connector with the default configuration.
func New() sdk.Connector {
	c := &Connector{forms: newFormCache()}
	c.cfg.Store(&settings{TimeZone: defaultTimeZoneID, MaxBatch: defaultMaxBatch, MaxAttachment: defaultMaxAttachment,
		loc: defaultLocation, reads: newReadCache(defaultReadCacheBytes)})
	return c
}

// Info implements sdk.Connector.
func (*Connector) Info() sdk.Info { return Info() }

// Configure implements sdk.Configurer: {"timeZone": "Asia/Shanghai", "maxBatch": 500}.
func (c *Connector) Configure(raw []byte) error {
	s := settings{TimeZone: defaultTimeZoneID, MaxBatch: defaultMaxBatch, MaxAttachment: defaultMaxAttachment}
	if len(raw) > 0 && string(raw) != "null" {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return sdk.Errorf(sdk.Invalid, "h3yun config: %v", err)
		}
	}
	if s.MaxBatch < 1 {
		return sdk.Errorf(sdk.Invalid, "h3yun config: maxBatch must be at least 1")
	}
	if s.MaxAttachment < 1 || s.MaxAttachment > sdk.MaxFileSize {
		return sdk.Errorf(sdk.Invalid, "h3yun config: maxAttachment must be between 1 and %d bytes", sdk.MaxFileSize)
	}
	for i, r := range s.Controllers {
		if err := r.check(); err != nil {
			return sdk.Errorf(sdk.Invalid, "h3yun config: controllers[%d]: %v", i, err)
		}
	}
	s.loc = defaultLocation
	if s.TimeZone != defaultTimeZoneID {
		loc, err := time.LoadLocation(s.TimeZone)
		if err != nil {
			return sdk.Errorf(sdk.Invalid, "h3yun config: timeZone %q: %v", s.TimeZone, err)
		}
		s.loc = loc
	}
	if s.ReadCacheBytes == 0 {
		s.ReadCacheBytes = defaultReadCacheBytes
	}
	// A new configuration starts with no kept answers (they depend on it).
	s.reads = newReadCache(s.ReadCacheBytes)
	c.cfg.Store(&s)
	// A (re)configuration starts from an empty form cache: the golden
	// harness relies on it to run every golden file cold.
	c.forms.reset()
	return nil
}

// Handle implements sdk.Connector.
func (c *Connector) Handle(ctx context.Context, req *sdk.Request, host sdk.Host) (*sdk.Response, error) {
	switch strings.ToLower(strings.TrimRight(req.Route, "/")) {
	case strings.ToLower(pathInvoke):
		return c.invoke(ctx, req, host)
	case strings.ToLower(pathUpload):
		return c.upload(ctx, req, host)
	case strings.ToLower(pathDownload):
		resp, err := c.download(ctx, req, host)
		if err != nil {
			// Download failures are non-2xx with the envelope (§4.9, §11.14).
			return errorResponse(err, req.RequestID), nil
		}
		return resp, nil
	}
	return nil, fail(reasonAction, req.Path)
}

// engineCredentials: every request carries the EngineCode and EngineSecret
// headers (§1), a hub client's id and secret. The hub verifies them before
// the plugin hop (wrong ones never reach the connector and spend no
// engine's rate budget) and hands over the client's principal; the
// EngineSecret header is not passed on.
var engineCredentials = sdk.ClientCredentials{IDHeaders: []string{"EngineCode"}, SecretHeaders: []string{"EngineSecret"}}

// authenticate returns the principal the engine acts as: the one the hub
// verified from EngineCode/EngineSecret. No Host call.
func authenticate(req *sdk.Request) (*sdk.Principal, error) {
	if req.Principal == nil || req.Principal.Tenant == "" {
		return nil, sdk.Errorf(sdk.Unauthorized, "missing EngineCode or EngineSecret header")
	}
	return req.Principal, nil
}

// invokeRequest is an /OpenApi/Invoke body (§3). Fields that arrive in
// several shapes stay raw.
type invokeRequest struct {
	ActionName     string
	SchemaCode     string
	BizObjectId    string //nolint:revive // the wire name
	BizObject      json.RawMessage
	BizObjectArray json.RawMessage
	IsSubmit       json.RawMessage
	Filter         json.RawMessage
	Controller     string
	AppCode        string
}

// envelope is H3Yun's response body; the key order is the real service's (§1.1).
type envelope struct {
	Successful   bool    `json:"Successful"`
	ErrorMessage *string `json:"ErrorMessage"`
	Logined      bool    `json:"Logined"`
	ReturnData   any     `json:"ReturnData"`
	DataType     int     `json:"DataType"`
}

// successHead and successTail frame ReturnData in a successful envelope,
// as json.Marshal encodes envelope (TestSuccessIsTheEnvelope).
const (
	successHead = `{"Successful":true,"ErrorMessage":null,"Logined":false,"ReturnData":`
	successTail = `,"DataType":0}`
)

func success(data any) (*sdk.Response, error) {
	b, err := sdk.AppendJSON(append(make([]byte, 0, 512), successHead...), data)
	if err != nil {
		return sdk.JSON(http.StatusOK, envelope{Successful: true, ReturnData: data}) // its error
	}
	return &sdk.Response{Status: http.StatusOK, Headers: http.Header{"Content-Type": {"application/json; charset=utf-8"}},
		Body: append(b, successTail...)}, nil
}

// call is one Invoke request in progress.
type call struct {
	host sdk.Host
	p    *sdk.Principal
	in   invokeRequest
	cfg  *settings
	log  *slog.Logger
	// forms are the connector's cached forms (writes use them).
	forms *formCache
	// body is the raw Invoke body (custom controllers read every key).
	body []byte
}

func (c *Connector) invoke(ctx context.Context, req *sdk.Request, host sdk.Host) (*sdk.Response, error) {
	p, err := authenticate(req)
	if err != nil {
		return nil, err
	}
	k := &call{host: host, p: p, cfg: c.cfg.Load(), forms: c.forms,
		log: requestLogger(req.RequestID, p.ClientID)}
	if err := decodeJSON(req.Body, &k.in); err != nil {
		return nil, fail(reasonFormat, "请求内容不是合法的 JSON 对象")
	}
	k.body = req.Body
	k.in.ActionName = strings.TrimSpace(k.in.ActionName)
	if k.in.ActionName != actionLoad && k.in.ActionName != actionLoadMany {
		return k.dispatch(ctx)
	}
	// Reads: an identical request under the same StoreVersion gets the
	// answer kept for it (readcache.go).
	key := readKey(p, req.Body)
	if body := k.cfg.reads.get(key, req.StoreVersion); body != nil {
		return answer(body), nil
	}
	resp, err := k.dispatch(ctx)
	if err == nil && resp != nil && resp.Status == http.StatusOK {
		k.cfg.reads.put(key, req.StoreVersion, resp.Body)
	}
	return resp, err
}

// dispatch runs the Invoke action.
func (k *call) dispatch(ctx context.Context) (*sdk.Response, error) {
	k.in.SchemaCode = strings.TrimSpace(k.in.SchemaCode)
	k.in.BizObjectId = hubID(k.in.BizObjectId)
	if k.in.ActionName == actionLoad || k.in.ActionName == actionUpdate || k.in.ActionName == actionRemove {
		if err := k.resolveAliases(ctx, sdk.AliasKindRecord, &k.in.BizObjectId); err != nil {
			return nil, err
		}
	}
	switch k.in.ActionName {
	case "":
		return nil, fail(reasonMissing, "ActionName")
	case actionLoad:
		return k.load(ctx)
	case actionLoadMany:
		return k.loadMany(ctx)
	case actionCreate:
		return k.create(ctx)
	case actionCreateMany:
		return k.createMany(ctx)
	case actionUpdate:
		return k.update(ctx)
	case actionRemove:
		return k.remove(ctx)
	}
	// Any other name is a custom controller's action (§4.7).
	return k.custom(ctx)
}

// form loads SchemaCode's form (one GetForm, kept in the form cache) and
// a converter for it.
func (k *call) form(ctx context.Context) (*converter, error) {
	if k.in.SchemaCode == "" {
		return nil, fail(reasonMissing, "SchemaCode")
	}
	f, err := k.host.GetForm(ctx, k.p, k.in.SchemaCode)
	if err != nil {
		k.forms.drop(k.p.Tenant, k.in.SchemaCode)
		return nil, fromHost(err, fail(reasonSchema, ""))
	}
	k.forms.put(k.p.Tenant, k.in.SchemaCode, f)
	return &converter{form: f, loc: k.cfg.loc, log: k.log}, nil
}

// errStaleForm is what a write built on a cached form returns when the
// form may have changed since (the host said form_changed or does not
// know the form, or the BizObject did not convert): withWriteForm then
// reloads the form and runs the write once more.
var errStaleForm = errors.New("h3yun: the cached form is stale")

// withWriteForm runs write with SchemaCode's form: the cached one when
// there is one (no Host call; the write sends its version), else a freshly
// loaded one. When write reports errStaleForm (see staleForm), the form is
// reloaded and write runs once more: a create or update is one Host call
// on a warm cache, two on a cold one, and a changed form costs one reload.
func (k *call) withWriteForm(ctx context.Context, write func(ctx context.Context, cv *converter) (*sdk.Response, error)) (*sdk.Response, error) {
	if k.in.SchemaCode == "" {
		return nil, fail(reasonMissing, "SchemaCode")
	}
	var cv *converter
	if f := k.forms.get(k.p.Tenant, k.in.SchemaCode); f != nil {
		cv = &converter{form: f, loc: k.cfg.loc, log: k.log, cached: true, first: true}
	} else {
		var err error
		if cv, err = k.form(ctx); err != nil {
			return nil, err
		}
		cv.first = true
	}
	resp, err := write(ctx, cv)
	if !errors.Is(err, errStaleForm) {
		return resp, err
	}
	k.forms.drop(k.p.Tenant, k.in.SchemaCode)
	if cv, err = k.form(ctx); err != nil {
		return nil, err
	}
	return write(ctx, cv)
}

// staleForm tells a write whether its failure may come from a stale form
// (and it should return errStaleForm to be retried with a reloaded one):
// on the first attempt, the host's form_changed; with a cached form also
// a form the host does not know and a conversion error (hostErr false: a
// field added to the form since it was cached).
func (cv *converter) staleForm(err error, hostErr bool) bool {
	if !cv.first || err == nil {
		return false
	}
	if !hostErr {
		return cv.cached
	}
	if sdk.IsFormChanged(err) {
		return true
	}
	e := sdk.AsError(err)
	return cv.cached && e.Code == sdk.NotFound && e.Target == "form"
}

func (k *call) requireID() error {
	if k.in.BizObjectId == "" {
		return fail(reasonMissing, "BizObjectId")
	}
	return nil
}

func (k *call) notFound() *sdk.Error { return fail(reasonRecord, extID(k.in.BizObjectId)) }

// load serves LoadBizObject (§4.1), on a form or on a child table (§4.1
// notes): one Host call — the record, its form and its owner with the
// owner's department (Host API v2 read options).
func (k *call) load(ctx context.Context) (*sdk.Response, error) {
	if k.in.SchemaCode == "" {
		return nil, fail(reasonMissing, "SchemaCode")
	}
	if err := k.requireID(); err != nil {
		return nil, err
	}
	page, err := k.host.FindRecords(ctx, k.p, k.in.SchemaCode,
		sdk.Query{Filter: sdk.Cmp{Path: sdk.Path{"id"}, Op: sdk.Eq, Value: k.in.BizObjectId}, Limit: 1}, false,
		sdk.WithForm(), sdk.Expand(sdk.OwnerExpand), sdk.WithAliases(aliasNS))
	if err != nil {
		if e := sdk.AsError(err); e.Code == sdk.NotFound && e.Target == "form" {
			return k.loadChildRow(ctx, fromHost(err, fail(reasonSchema, "")))
		}
		return nil, fromHost(err, k.notFound())
	}
	if len(page.Items) == 0 || page.Form == nil {
		return nil, k.notFound()
	}
	k.forms.put(k.p.Tenant, k.in.SchemaCode, page.Form)
	cv := &converter{form: page.Form, loc: k.cfg.loc, log: k.log, aliases: page.Aliases}
	return success(map[string]any{"BizObject": cv.toBizObject(page.Items[0], expandedDirectory(page.Items))})
}

// expandedDirectory reads the owners and their departments the records
// carry under "creator" (sdk.OwnerExpand).
func expandedDirectory(recs []sdk.Doc) *directory {
	d := &directory{userDept: map[string]string{}, deptName: map[string]string{}}
	for _, r := range recs {
		u, _ := r["creator"].(map[string]any)
		uid, _ := u["id"].(string)
		dept, _ := u["departmentId"].(string)
		if uid == "" || dept == "" {
			continue
		}
		d.userDept[uid] = dept
		if dep, ok := u["department"].(map[string]any); ok {
			d.deptName[dept], _ = dep["name"].(string)
		}
	}
	return d
}

// loadChildRow serves LoadBizObject with a child table's code as
// SchemaCode: the row with ObjectId BizObjectId, with its ParentObjectId.
// schemaErr is returned when no form has such a child table.
func (k *call) loadChildRow(ctx context.Context, schemaErr error) (*sdk.Response, error) {
	forms, err := k.host.ListForms(ctx, k.p)
	if err != nil {
		return nil, fromHost(err, nil)
	}
	for i := range forms {
		for j := range forms[i].Fields {
			col := &forms[i].Fields[j]
			if col.Type != tTableForm || col.Field != k.in.SchemaCode {
				continue
			}
			cv := &converter{form: &forms[i], loc: k.cfg.loc, log: k.log}
			q := sdk.Query{Limit: 1, Filter: sdk.AnyRow{Array: sdk.Path{"data", col.Field},
				Pred: sdk.Cmp{Path: sdk.Path{"id"}, Op: sdk.Eq, Value: k.in.BizObjectId}}}
			page, err := k.host.FindRecords(ctx, k.p, forms[i].Key, q, false)
			if err != nil {
				return nil, fromHost(err, nil)
			}
			for _, rec := range page.Items {
				parent, _ := rec["id"].(string)
				data, _ := rec["data"].(map[string]any)
				rows, _ := data[col.Field].([]any)
				for _, r := range rows {
					if row, ok := r.(map[string]any); ok && row["id"] == k.in.BizObjectId {
						return success(map[string]any{"BizObject": cv.rowOut(col, row, parent)})
					}
				}
			}
			return nil, k.notFound()
		}
	}
	return nil, schemaErr
}

// loadMany serves LoadBizObjects (§4.2). With SchemaCode's form in the
// form cache it is one Host call: the query is compiled with the cached
// form and FindRecords returns the current form with the page; when that
// is another version (or anything fails on the cached form) the cached
// form is dropped and the request runs again as on a cold cache — GetForm,
// then FindRecords — so a changed form never shapes a query, and errors
// are exactly those of the cold path.
func (k *call) loadMany(ctx context.Context) (*sdk.Response, error) {
	if f := k.forms.get(k.p.Tenant, k.in.SchemaCode); f != nil && k.in.SchemaCode != "" {
		cv := &converter{form: f, loc: k.cfg.loc, log: k.log, cached: true}
		if resp, err := k.loadManyWith(ctx, cv); err == nil {
			return resp, nil
		}
		k.forms.drop(k.p.Tenant, k.in.SchemaCode)
	}
	cv, err := k.form(ctx)
	if err != nil {
		return nil, err
	}
	return k.loadManyWith(ctx, cv)
}

func (k *call) loadManyWith(ctx context.Context, cv *converter) (*sdk.Response, error) {
	f, err := decodeFilter(k.in.Filter)
	if err != nil {
		return nil, err
	}
	if err := k.resolveOwnerDepts(ctx, cv, f.matcher); err != nil {
		return nil, err
	}
	q, err := cv.query(f)
	if err != nil {
		return nil, err
	}
	opts := []sdk.ReadOption{sdk.WithAliases(aliasNS)}
	if cv.cached {
		opts = append(opts, sdk.WithForm())
	}
	ownerDept := wantsOwnerDept(f.returnItems)
	if ownerDept {
		opts = append(opts, sdk.Expand(sdk.OwnerExpand))
	}
	page, err := k.host.FindRecords(ctx, k.p, cv.form.Key, q, f.requireCount, opts...)
	if err != nil {
		return nil, fromHost(err, nil)
	}
	if cv.cached {
		if page.Form == nil || page.Form.Version != cv.form.Version {
			return nil, errStaleForm
		}
		k.forms.put(k.p.Tenant, k.in.SchemaCode, page.Form)
		cv.form = page.Form
	}
	cv.aliases = page.Aliases
	var dir *directory
	if ownerDept {
		dir = expandedDirectory(page.Items)
	}
	rows := make([]any, len(page.Items))
	for i, rec := range page.Items {
		rows[i] = project(cv.toBizObject(rec, dir), f.returnItems)
	}
	out := map[string]any{"BizObjectArray": rows}
	if f.requireCount {
		out["TotalCount"] = page.Total
	}
	return success(out)
}

// ownerOf returns the owner id a BizObject names ("" for none): OwnerId,
// else CreatedBy (§5.1). Records are created as that user — the Host
// checks it is a user of the tenant; without one, as the engine's service
// user, the tenant administrator (§6). An OwnerId or CreatedBy that is
// neither null nor a string is an error, never a silent "no owner": the
// record would otherwise be written as the service user.
func ownerOf(obj map[string]any, where string) (string, error) {
	for _, key := range []string{fOwnerID, fCreatedBy} {
		switch v := obj[key].(type) {
		case nil:
		case string:
			if strings.TrimSpace(v) != "" {
				return hubID(v), nil
			}
		default:
			return "", failf(reasonData, "%s%s: 应为用户 ID 字符串", where, key)
		}
	}
	return "", nil
}

// lifecycle maps IsSubmit (§6) to the Host API's create options: on a form
// with workflow the form's flow starts (waiting at the start node, or
// submitted past it as the acting owner); without workflow IsSubmit=false
// stores a draft.
func lifecycle(cv *converter, isSubmit bool) sdk.CreateOptions {
	if cv.form.UsingWorkflow {
		return sdk.CreateOptions{StartWorkflow: true, Submit: isSubmit, FormVersion: cv.form.Version}
	}
	return sdk.CreateOptions{Draft: !isSubmit, FormVersion: cv.form.Version}
}

// create serves CreateBizObject (§4.3): one CreateRecords on a warm form
// cache.
func (k *call) create(ctx context.Context) (*sdk.Response, error) {
	return k.withWriteForm(ctx, k.createWith)
}

func (k *call) createWith(ctx context.Context, cv *converter) (*sdk.Response, error) {
	obj, err := decodeBizObject(k.in.BizObject, "BizObject")
	if err != nil {
		return nil, err
	}
	isSubmit, err := parseBool(k.in.IsSubmit, "IsSubmit", false)
	if err != nil {
		return nil, err
	}
	data, err := cv.toData(obj, false)
	if err != nil {
		if cv.staleForm(err, false) {
			return nil, errStaleForm
		}
		return nil, err
	}
	opts := lifecycle(cv, isSubmit)
	owner, err := ownerOf(obj, "")
	if err != nil {
		return nil, err
	}
	if owner != "" {
		opts.Owners = []string{owner}
	}
	out, err := k.createRecords(ctx, cv.form.Key, []map[string]any{data}, opts)
	if err != nil {
		if cv.staleForm(err, true) {
			return nil, errStaleForm
		}
		return nil, ownerError(err, opts.Owners, false)
	}
	id, _ := out[0].Record["id"].(string)
	return success(map[string]any{"BizObjectId": extID(id), "WorkflowInstanceId": extID(out[0].WorkflowInstanceID)})
}

// createMany serves CreateBizObjects (§4.4): all records or none; one
// CreateRecords on a warm form cache.
func (k *call) createMany(ctx context.Context) (*sdk.Response, error) {
	return k.withWriteForm(ctx, k.createManyWith)
}

func (k *call) createManyWith(ctx context.Context, cv *converter) (*sdk.Response, error) {
	objs, err := decodeBizObjectArray(k.in.BizObjectArray)
	if err != nil {
		return nil, err
	}
	if len(objs) > k.cfg.MaxBatch {
		return nil, failf(reasonQuery, "BizObjectArray 最多 %d 条", k.cfg.MaxBatch)
	}
	isSubmit, err := parseBool(k.in.IsSubmit, "IsSubmit", false)
	if err != nil {
		return nil, err
	}
	data := make([]map[string]any, len(objs))
	opts := lifecycle(cv, isSubmit)
	owners := make([]string, len(objs))
	anyOwner := false
	for i, obj := range objs {
		if data[i], err = cv.toData(obj, false); err != nil {
			if cv.staleForm(err, false) {
				return nil, errStaleForm
			}
			return nil, err
		}
		if owners[i], err = ownerOf(obj, fmt.Sprintf("BizObjectArray[%d].", i)); err != nil {
			return nil, err
		}
		anyOwner = anyOwner || owners[i] != ""
	}
	if anyOwner {
		opts.Owners = owners
	}
	out, err := k.createRecords(ctx, cv.form.Key, data, opts)
	if err != nil {
		if cv.staleForm(err, true) {
			return nil, errStaleForm
		}
		return nil, ownerError(err, opts.Owners, true)
	}
	ids := make([]string, len(out))
	for i, c := range out {
		id, _ := c.Record["id"].(string)
		ids[i] = extID(id)
	}
	return success(map[string]any{"BizObjectIdArray": ids})
}

// update serves UpdateBizObject (§4.5): a partial update; null clears; a
// child table present replaces the whole table. OwnerId cannot change: the
// hub's owner is the record's creator. One UpdateRecord on a warm form
// cache.
func (k *call) update(ctx context.Context) (*sdk.Response, error) {
	return k.withWriteForm(ctx, k.updateWith)
}

func (k *call) updateWith(ctx context.Context, cv *converter) (*sdk.Response, error) {
	if err := k.requireID(); err != nil {
		return nil, err
	}
	obj, err := decodeBizObject(k.in.BizObject, "BizObject")
	if err != nil {
		return nil, err
	}
	data, err := cv.toData(obj, true)
	if err != nil {
		if cv.staleForm(err, false) {
			return nil, errStaleForm
		}
		return nil, err
	}
	if _, err := k.host.UpdateRecord(ctx, k.p, cv.form.Key, k.in.BizObjectId, data, sdk.IfFormVersion(cv.form.Version)); err != nil {
		if cv.staleForm(err, true) {
			return nil, errStaleForm
		}
		return nil, fromHost(err, k.notFound())
	}
	return success(map[string]any{})
}

// remove serves RemoveBizObject (§4.6).
func (k *call) remove(ctx context.Context) (*sdk.Response, error) {
	cv, err := k.form(ctx)
	if err != nil {
		return nil, err
	}
	if err := k.requireID(); err != nil {
		return nil, err
	}
	// The record's attachments go with it (§4.6): read their ids first
	// (only forms with attachment fields pay for the read).
	var files []string
	if hasAttachments(cv.form.Fields) {
		rec, err := k.host.GetRecord(ctx, k.p, cv.form.Key, k.in.BizObjectId)
		if err != nil {
			return nil, fromHost(err, k.notFound())
		}
		data, _ := rec["data"].(map[string]any)
		files = attachmentIDs(cv.form.Fields, data)
	}
	if err := k.host.DeleteRecord(ctx, k.p, cv.form.Key, k.in.BizObjectId); err != nil {
		return nil, fromHost(err, k.notFound())
	}
	for _, id := range files {
		if err := k.host.DeleteFile(ctx, k.p, id); err != nil && sdk.CodeOf(err) != sdk.NotFound {
			// The record is gone; a file left behind is logged, not an error.
			k.log.Warn("h3yun: removing an attachment of a removed record", "file", id, "err", err)
		}
	}
	return success(map[string]any{})
}

// createRecords is Host.CreateRecords; when the Host refuses an owner and
// some owners are foreign GUIDs, they are resolved as H3Yun aliases (one
// Aliases call) and the create (one transaction, nothing written by the
// refused one) is retried once. A create with hub owners pays nothing.
func (k *call) createRecords(ctx context.Context, form string, data []map[string]any, opts sdk.CreateOptions) ([]sdk.CreatedRecord, error) {
	out, err := k.host.CreateRecords(ctx, k.p, form, data, opts)
	if e := sdk.AsError(err); err == nil || e.Code != sdk.Invalid || !strings.HasPrefix(e.Target, "owners[") {
		return out, err
	}
	owners := slices.Clone(opts.Owners)
	ptrs := make([]*string, len(owners))
	for i := range owners {
		ptrs[i] = &owners[i]
	}
	if rerr := k.resolveAliases(ctx, sdk.AliasKindUser, ptrs...); rerr != nil || slices.Equal(owners, opts.Owners) {
		return nil, err
	}
	opts.Owners = owners
	return k.host.CreateRecords(ctx, k.p, form, data, opts)
}

// ownerError translates a CreateRecords error: an unknown owner names the
// BizObject's OwnerId; anything else as fromHost does.
func ownerError(err error, owners []string, batch bool) error {
	e := sdk.AsError(err)
	if e.Code == sdk.Invalid {
		var i int
		if _, serr := fmt.Sscanf(e.Target, "owners[%d]", &i); serr == nil && i >= 0 && i < len(owners) {
			f := failf(reasonData, "OwnerId: 用户 %s 不存在", extID(owners[i]))
			if batch {
				f = failf(reasonData, "BizObjectArray[%d].OwnerId: 用户 %s 不存在", i, extID(owners[i]))
			}
			f.Err = err
			return f
		}
	}
	return fromHostItems(err, nil, batch)
}
