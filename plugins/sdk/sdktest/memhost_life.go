package sdktest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// MemInstance is a workflow instance MemHost started for a record: it
// models only what a connector observes (the record's flowStatus 2, the
// instance id, the initiator and whether the start node was passed).
type MemInstance struct {
	ID        string
	RecordID  string
	Initiator string
	// Submitted is true when the start task was completed (opts.Submit).
	Submitted bool
}

// Workflow returns the instance MemHost started for a record of tenant.
func (m *MemHost) Workflow(tenant, recordID string) (MemInstance, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in, ok := m.flows[tenant+"/"+recordID]
	return in, ok
}

// CreateRecords implements sdk.Host: all or nothing, like
// BatchCreateRecords; Draft sets flowStatus 1; StartWorkflow (on a form
// with UsingWorkflow) sets flowStatus 2 and records a MemInstance.
func (m *MemHost) CreateRecords(_ context.Context, p *sdk.Principal, form string, data []map[string]any, opts sdk.CreateOptions) ([]sdk.CreatedRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, f, err := m.form(p, form)
	if err != nil {
		return nil, err
	}
	if err := checkFormVersion(f, opts.FormVersion); err != nil {
		return nil, err
	}
	if opts.StartWorkflow && !f.UsingWorkflow {
		return nil, errs.Invalidf("form %s has no workflow", f.Key).WithTarget("form")
	}
	if n := len(opts.Initiators); n > 1 && n != len(data) {
		return nil, errs.Invalidf("%d initiators for %d records", n, len(data)).WithTarget("initiators")
	}
	if n := len(opts.Owners); n > 1 && n != len(data) {
		return nil, errs.Invalidf("%d owners for %d records", n, len(data)).WithTarget("owners")
	}
	as := make([]*sdk.Principal, len(data))
	for i := range data {
		id := pick(opts.Owners, i)
		if id == "" || id == p.UserID {
			as[i] = p
			continue
		}
		if !slices.Contains(p.Roles, "admin") {
			return nil, errs.Forbiddenf("creating records as another user needs a tenant administrator").WithTarget(fmt.Sprintf("owners[%d]", i))
		}
		var u sdk.Doc
		for _, d := range m.dir["user"][t] {
			if d["id"] == id {
				u = d
			}
		}
		if u == nil {
			return nil, errs.Invalidf("user %s not found", id).WithTarget(fmt.Sprintf("owners[%d]", i))
		}
		acting := *p
		acting.UserID = id
		acting.UserCode, _ = u["code"].(string)
		acting.DisplayName, _ = u["empName"].(string)
		acting.Login, _ = u["userName"].(string)
		as[i] = &acting
	}
	var ds []errs.Detail
	for i, d := range data {
		ds = append(ds, validate(f, d, false, fmt.Sprintf("data[%d]", i))...)
	}
	if len(ds) > 0 {
		return nil, invalid(ds)
	}
	if m.flows == nil {
		m.flows = map[string]MemInstance{}
	}
	out := make([]sdk.CreatedRecord, len(data))
	for i, d := range data {
		rec := m.newRecord(t, f, as[i], d)
		var inst string
		switch {
		case opts.StartWorkflow:
			rec["flowStatus"] = int64(2)
			initiator := pick(opts.Initiators, i)
			if initiator == "" {
				initiator = as[i].UserID
			}
			inst = m.nextID("w")
			rec["wfInstanceId"] = inst // as the hub's engine names a record's latest instance
			m.flows[t+"/"+rec["id"].(string)] = MemInstance{ID: inst, RecordID: rec["id"].(string),
				Initiator: initiator, Submitted: opts.Submit}
		case opts.Draft || f.UsingWorkflow:
			rec["flowStatus"] = int64(1)
		}
		rs := m.recs(t, f.ID) // creates the tenant's map: call it before indexing
		m.records[t][f.ID] = append(rs, rec)
		out[i] = sdk.CreatedRecord{Record: clone(rec), WorkflowInstanceID: inst}
	}
	return out, nil
}

// pick is the i-th of none, one-for-all or one-per-item values.
func pick(vals []string, i int) string {
	switch {
	case len(vals) == 0:
		return ""
	case len(vals) == 1:
		return vals[0]
	}
	return vals[i]
}

type memFile struct {
	info    sdk.Doc
	content []byte
}

func (m *MemHost) maxUpload() int {
	if m.MaxUpload > 0 {
		return m.MaxUpload
	}
	return sdk.MaxFileSize
}

// UploadFile implements sdk.Host: the name is checked like the hub's
// (no separators, "..", NUL or control characters), the type comes from the
// content and the extension.
func (m *MemHost) UploadFile(_ context.Context, p *sdk.Principal, f sdk.FileUpload) (sdk.Doc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(f.Name)
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") ||
		strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 }) {
		return nil, errs.Invalidf("invalid file name %q", f.Name).WithTarget("fileName")
	}
	if len(f.Content) > m.maxUpload() {
		return nil, errs.Newf(errs.TooLarge, "file %q is larger than %d bytes", f.Name, m.maxUpload()).WithTarget("file")
	}
	ct := http.DetectContentType(f.Content)
	if ext := path.Ext(name); ext != "" && strings.HasPrefix(ct, "text/plain") {
		if byExt := mime.TypeByExtension(ext); byExt != "" && strings.HasPrefix(byExt, "text/") {
			ct = byExt
		}
	}
	sum := sha256.Sum256(f.Content)
	id := m.nextID("file")
	info := sdk.Doc{"id": id, "corpId": t, "fileName": name, "size": int64(len(f.Content)), "contentType": ct,
		"hash": hex.EncodeToString(sum[:]), "folder": f.Folder, "isPublic": f.Public, "url": "/api/v1/files/" + id,
		"createBy": operator(p), "createTime": m.now()}
	if m.files == nil {
		m.files = map[string]memFile{}
	}
	m.files[t+"/"+id] = memFile{info: info, content: append([]byte(nil), f.Content...)}
	return clone(info), nil
}

// ReadFile implements sdk.Host.
func (m *MemHost) ReadFile(_ context.Context, p *sdk.Principal, id string) (*sdk.File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	f, ok := m.files[t+"/"+id]
	if !ok {
		return nil, errs.NotFoundf("file %s not found", id).WithTarget("id")
	}
	return &sdk.File{Info: clone(f.info), Content: append([]byte(nil), f.content...)}, nil
}

// DeleteFile implements sdk.Host.
func (m *MemHost) DeleteFile(_ context.Context, p *sdk.Principal, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := tenantOf(p)
	if err != nil {
		return err
	}
	if _, ok := m.files[t+"/"+id]; !ok {
		return errs.NotFoundf("file %s not found", id).WithTarget("id")
	}
	delete(m.files, t+"/"+id)
	return nil
}

// DataflowFunc is a dataflow MemHost runs: input in, output or a failure
// (which becomes Status "failed" with the error's text) out.
type DataflowFunc func(p *sdk.Principal, input map[string]any) (any, error)

// AddDataflow registers a dataflow of tenant under key.
func (m *MemHost) AddDataflow(tenant, key string, fn DataflowFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dataflows == nil {
		m.dataflows = map[string]DataflowFunc{}
	}
	m.dataflows[tenant+"/"+key] = fn
}

// RunDataflow implements sdk.Host.
func (m *MemHost) RunDataflow(_ context.Context, p *sdk.Principal, key string, input map[string]any) (*sdk.DataflowResult, error) {
	m.mu.Lock()
	t, err := tenantOf(p)
	if err != nil {
		m.mu.Unlock()
		return nil, err
	}
	fn, ok := m.dataflows[t+"/"+key]
	id := m.nextID("run")
	m.mu.Unlock()
	if !ok {
		return nil, errs.NotFoundf("dataflow definition %s not found", key).WithTarget("dataFlowDefinitionId")
	}
	if input == nil {
		return nil, errs.Invalidf("inputData must be an object").WithTarget("inputData")
	}
	out, err := fn(p, input)
	if err != nil {
		return &sdk.DataflowResult{ID: id, Status: "failed", ErrMsg: err.Error()}, nil
	}
	return &sdk.DataflowResult{ID: id, Status: "succeeded", Output: out}, nil
}
