package eoffice

import (
	"context"
	"net/http"
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Documents (spec §5.6) are records of a hub form (connectors.eoffice.
// config.documents.form, default "document") whose fields are subject,
// content, folder_id and attachment_id (a fileupload field), or the keys
// documents.fields maps them to. document_id is the record's alias
// (kind formdata, an integer). Folders are a number on the record; the
// hub has no folder tree (docs/DEVIATIONS.md).

// DocumentsConfig names the documents form.
type DocumentsConfig struct {
	// Form is the hub form key. Default: "document".
	Form string `json:"form"`
	// Fields map subject, content, folder_id, attachment_id to the form's
	// field keys. Default: the same keys.
	Fields map[string]string `json:"fields"`
}

func registerDocumentRoutes(r *Router) {
	r.Add(http.MethodGet, "document", documentList)
	r.Add(http.MethodGet, "document/:documentId", documentGet)
	r.Add(http.MethodPost, "document", documentCreate)
}

var documentKeys = []string{"subject", "content", "folder_id", "attachment_id"}

// documentForm loads the documents form; nil when the tenant has none.
func documentForm(ctx context.Context, c *Call) (*FormMap, error) {
	dc := c.Cfg.Documents
	key := dc.Form
	if key == "" {
		key = "document"
	}
	f, err := c.Host.GetForm(ctx, c.P, key)
	if err != nil {
		if sdk.CodeOf(err) == sdk.NotFound {
			return nil, nil
		}
		return nil, FromHost(err, nil)
	}
	explicit := map[string]string{}
	for _, k := range documentKeys {
		explicit[k] = k
		if v := dc.Fields[k]; v != "" {
			explicit[k] = v
		}
	}
	return NewFormMap(f, explicit), nil
}

// documentColumns are the list's search and sort columns.
func documentColumns(m *FormMap) Columns {
	cols := Columns{
		"document_id": {Path: sdk.Path{"createTime"}, Type: TInt},
		"created_at":  {Path: sdk.Path{"createTime"}, Type: TInt},
		"updated_at":  {Path: sdk.Path{"updateTime"}, Type: TInt},
	}
	for _, k := range []string{"subject", "folder_id"} {
		if col := m.Column(k); col != nil {
			cols[k] = *col
		}
	}
	return cols
}

// documentRows renders records as document list rows.
func documentRows(ctx context.Context, c *Call, m *FormMap, recs []sdk.Doc, detail bool) ([]any, error) {
	rs, err := loadRows(ctx, c, m, recs)
	if err != nil {
		return nil, err
	}
	ids, ext, uext, vals := rs.ids, rs.ext, rs.uext, rs.vals
	out := make([]any, len(recs))
	for i, r := range recs {
		cb, _ := r["createBy"].(map[string]any)
		attach := anyList(vals[i]["attachment_id"])
		if attach == nil {
			attach = []any{}
		}
		folder := vals[i]["folder_id"]
		if folder == nil {
			folder = int64(0)
		}
		row := Obj{{"document_id", numeric(ext[ids[i]])}, {"subject", vals[i]["subject"]}, {"folder_id", folder}}
		if detail {
			row = append(row, KV{"source_content", ToStr(vals[i]["content"])}, KV{"folder_type", 1}, KV{"document_type", 0},
				KV{"source_id", 0}, KV{"creator", uext[ToStr(cb["id"])]}, KV{"attachment_id", attach}, KV{"tag_id", []any{}},
				KV{"status", 1}, KV{"is_draft", 0}, KV{"down_purview", 1}, KV{"manage_purview", 1}, KV{"reply_count", 0},
				KV{"created_at", timeStr(r["createTime"], c.Cfg.loc)})
		} else {
			row = append(row, KV{"folder_name", ""}, KV{"folder_type", 1}, KV{"document_type", 0},
				KV{"creator", uext[ToStr(cb["id"])]}, KV{"create_name", ToStr(cb["label"])},
				KV{"created_at", timeStr(r["createTime"], c.Cfg.loc)}, KV{"is_draft", 0}, KV{"isView", 1},
				KV{"attachment_count", len(attach)}, KV{"reply_count", 0}, KV{"manage_purview", 1})
		}
		out[i] = row
	}
	return out, nil
}

// documentList serves GET document: newest first (updated_at DESC,
// document_id DESC); folder_id is matched with "=" whatever the operator.
func documentList(ctx context.Context, c *Call) (any, error) {
	m, err := documentForm(ctx, c)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return Obj{{"total", 0}, {"list", []any{}}}, nil
	}
	cols := documentColumns(m)
	virtual := func(key string, v any, _ string) (sdk.Expr, bool, error) {
		if key != "folder_id" {
			return nil, false, nil
		}
		col, ok := cols[key]
		if !ok {
			return nil, true, FailField(CodeIllegalField, key)
		}
		e, err := Cond(col, key, v, "=")
		return e, true, err
	}
	l, err := ParseList(c, SearchOptions{Columns: cols, Virtual: virtual})
	if err != nil {
		return nil, err
	}
	if !l.OrderGiven {
		l.Sort = []sdk.Sort{{Path: sdk.Path{"updateTime"}, Desc: true}}
	}
	l.Sort = append(l.Sort, sdk.Sort{Path: sdk.Path{"createTime"}, Desc: true})
	return runList(ctx, c, l, func(q sdk.Query, count bool) (sdk.Page, error) {
		return c.Host.FindRecords(ctx, c.P, m.Form.Key, q, count)
	}, func(items []sdk.Doc) ([]any, error) { return documentRows(ctx, c, m, items, false) }, false)
}

// documentGet serves GET document/{documentId}.
func documentGet(ctx context.Context, c *Call) (any, error) {
	ext := c.Params["documentId"]
	if Empty(ext) {
		return nil, Fail("0x041017")
	}
	m, err := documentForm(ctx, c)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, Fail("0x041033")
	}
	id, err := recordOf(ctx, c, ext)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, Fail("0x041033")
	}
	rec, err := c.Host.GetRecord(ctx, c.P, m.Form.Key, id)
	if err != nil {
		switch sdk.CodeOf(err) {
		case sdk.NotFound:
			return nil, Fail("0x041033")
		case sdk.Forbidden:
			return nil, Fail("0x041027")
		}
		return nil, FromHost(err, nil)
	}
	rows, err := documentRows(ctx, c, m, []sdk.Doc{rec}, true)
	if err != nil {
		return nil, err
	}
	return rows[0], nil
}

// documentCreate serves POST document: {"document_id": n}.
func documentCreate(ctx context.Context, c *Call) (any, error) {
	m, err := documentForm(ctx, c)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, Fail("0x041016")
	}
	var msgs []string
	subject := strings.TrimSpace(c.In.Str("subject"))
	if subject == "" {
		msgs = append(msgs, "The subject field is required.")
	}
	if !c.In.Has("folder_id") {
		msgs = append(msgs, "The folder_id field is required.")
	}
	if len(msgs) > 0 {
		return nil, &Error{Code: CodeValidation, Messages: msgs}
	}
	vals := map[string]any{"subject": subject, "folder_id": IntOf(c.In["folder_id"])}
	if c.In.Has("content") {
		vals["content"] = c.In.Str("content")
	}
	if c.In.Has("attachment_id") {
		vals["attachment_id"] = ListValues(c.In["attachment_id"])
	}
	data, err := m.ToHub(vals, c.Cfg.loc)
	if err != nil {
		return nil, err
	}
	if err := m.FilesToHub(ctx, c, data); err != nil {
		return nil, err
	}
	rec, err := c.Host.CreateRecord(ctx, c.P, m.Form.Key, data)
	if err != nil {
		if sdk.CodeOf(err) == sdk.Forbidden {
			return nil, &Error{Code: "0x041016", Err: err}
		}
		return nil, FromHost(err, nil)
	}
	id := str(rec, "id")
	ext, err := ExtIDs(ctx, c.Host, c.Svc, kindData, []string{id})
	if err != nil {
		return nil, err
	}
	return Obj{{"document_id", numeric(ext[id])}}, nil
}

// unsupportedRoutes are the modules of the vendor's published list the
// hub does not emulate (§5.9): a clean 0x000013 rather than 404.
var unsupportedRoutes = [][2]string{
	{"GET", "news"}, {"POST", "news"}, {"GET", "notify"}, {"POST", "notify"}, {"GET", "meeting/own"}, {"GET", "system-sms"},
	{"GET", "menu/menu-tree-search"}, {"GET", "system/combobox/combobox-all-fields/:id"}, {"GET", "customer/lists"},
	{"POST", "customer"}, {"PUT", "customer/:id"}, {"DELETE", "customer/:id"}, {"GET", "customer/linkman"},
	{"PUT", "customer/linkman/:id"}, {"GET", "customer/contact-record"}, {"POST", "customer/contact-record"},
	{"GET", "contract"}, {"PUT", "contract/:id"}, {"DELETE", "contract/recycle/:id"}, {"POST", "project/project-manager/add"},
	{"GET", "document/folder/children/:parentId/show"},
}

func registerUnsupportedRoutes(r *Router) {
	for _, u := range unsupportedRoutes {
		r.Add(u[0], u[1], func(context.Context, *Call) (any, error) { return nil, Fail(CodeAPIError) })
	}
}
