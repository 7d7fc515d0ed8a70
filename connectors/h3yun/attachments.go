package h3yun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// This file serves the attachment actions (spec §4.8, §4.9): files live in
// the hub's file store (Host UploadFile/ReadFile), and an attachment field
// of a record holds references to them, so a file attached here is a
// native `file` entity and shows up in the record's field through every
// dialect.

// mediaPart is the multipart part that carries the file (§4.8).
const mediaPart = "media"

// upload serves UploadAttachment: the file is stored, then appended to the
// attachment field of the record (or of the child row, with
// ChildSchemaCode). If the record update fails the file is removed again.
func (c *Connector) upload(ctx context.Context, req *sdk.Request, host sdk.Host) (*sdk.Response, error) {
	p, err := authenticate(req)
	if err != nil {
		return nil, err
	}
	cfg := c.cfg.Load()
	q := req.Query
	k := &call{host: host, p: p, cfg: cfg, forms: c.forms,
		log: requestLogger(req.RequestID, p.ClientID),
		in:  invokeRequest{SchemaCode: strings.TrimSpace(q.Get("SchemaCode")), BizObjectId: hubID(q.Get("BizObjectId"))}}
	prop := strings.TrimSpace(q.Get("FilePropertyName"))
	child := strings.TrimSpace(q.Get("ChildSchemaCode"))
	for _, m := range []struct{ name, v string }{{"SchemaCode", k.in.SchemaCode}, {"FilePropertyName", prop}, {"BizObjectId", k.in.BizObjectId}} {
		if m.v == "" {
			return nil, fail(reasonMissing, m.name)
		}
	}
	cv, err := k.form(ctx)
	if err != nil {
		return nil, err
	}
	fields := cv.form.Fields
	if child != "" {
		table := fieldNamed(fields, child)
		if table == nil || table.Type != tTableForm {
			return nil, fail(reasonControl, child)
		}
		fields = table.Columns
	}
	f := fieldNamed(fields, prop)
	if f == nil {
		return nil, fail(reasonControl, prop)
	}
	if f.Type != tFileUpload && f.Type != tImageUpload {
		return nil, failf(reasonData, "%s 不是附件或图片控件", prop)
	}
	name, content, err := readMedia(req, cfg.MaxAttachment)
	if err != nil {
		return nil, err
	}

	// Find the record (or the child row's record) before storing anything.
	var rec sdk.Doc
	if child == "" {
		if rec, err = host.GetRecord(ctx, p, cv.form.Key, k.in.BizObjectId); err != nil {
			return nil, fromHost(err, k.notFound())
		}
	} else {
		page, err := host.FindRecords(ctx, p, cv.form.Key, sdk.Query{Limit: 1, Filter: sdk.AnyRow{Array: sdk.Path{"data", child},
			Pred: sdk.Cmp{Path: sdk.Path{"id"}, Op: sdk.Eq, Value: k.in.BizObjectId}}}, false)
		if err != nil {
			return nil, fromHost(err, nil)
		}
		if len(page.Items) == 0 {
			return nil, k.notFound()
		}
		rec = page.Items[0]
	}
	info, err := host.UploadFile(ctx, p, sdk.FileUpload{Name: name, Folder: "h3yun/" + folderSafe(cv.form.Key), Content: content})
	if err != nil {
		return nil, fromHost(err, nil)
	}
	fileID, _ := info["id"].(string)
	ref := map[string]any{"id": fileID, "fileName": info["fileName"], "url": info["url"]}
	data, _ := rec["data"].(map[string]any)
	var patch map[string]any
	if child == "" {
		patch = map[string]any{prop: appendRef(data[prop], ref)}
	} else {
		rows, _ := data[child].([]any)
		out := make([]any, len(rows))
		for i, r := range rows {
			row, _ := r.(map[string]any)
			if row["id"] == k.in.BizObjectId {
				row = maps.Clone(row)
				row[prop] = appendRef(row[prop], ref)
			}
			out[i] = row
		}
		patch = map[string]any{child: out}
	}
	recID, _ := rec["id"].(string)
	if _, err := host.UpdateRecord(ctx, p, cv.form.Key, recID, patch); err != nil {
		if derr := host.DeleteFile(context.WithoutCancel(ctx), p, fileID); derr != nil {
			k.log.Warn("h3yun: removing the file of a failed attachment upload", "file", fileID, "err", derr)
		}
		return nil, fromHost(err, k.notFound())
	}
	return success(map[string]any{"AttachmentId": extID(fileID)})
}

// download serves DownloadBizObjectFile: the raw bytes with the stored
// type and the file name (§4.9).
func (c *Connector) download(ctx context.Context, req *sdk.Request, host sdk.Host) (*sdk.Response, error) {
	p, err := authenticate(req)
	if err != nil {
		return nil, err
	}
	form := url.Values{}
	if ct, _, _ := mime.ParseMediaType(req.Headers.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		if form, err = url.ParseQuery(string(req.Body)); err != nil {
			return nil, fail(reasonFormat, "请求内容不是合法的表单")
		}
	}
	get := func(key string) string {
		if v := strings.TrimSpace(form.Get(key)); v != "" {
			return v
		}
		return strings.TrimSpace(req.Query.Get(key))
	}
	id := get("attachmentId")
	if id == "" {
		return nil, fail(reasonMissing, "attachmentId")
	}
	if code := get("EngineCode"); code != "" && code != strings.TrimSpace(req.Headers.Get("EngineCode")) {
		return nil, sdk.Errorf(sdk.Unauthorized, "the EngineCode in the body is not the header's")
	}
	f, err := host.ReadFile(ctx, p, hubID(id))
	if err != nil {
		return nil, fromHost(err, fail(reasonRecord, id))
	}
	ct, _ := f.Info["contentType"].(string)
	if ct == "" {
		ct = "application/octet-stream"
	}
	name, _ := f.Info["fileName"].(string)
	h := http.Header{}
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", "attachment; filename="+url.PathEscape(name))
	h.Set("X-Content-Type-Options", "nosniff")
	return &sdk.Response{Status: http.StatusOK, Headers: h, Body: f.Content}, nil
}

// readMedia returns the name and bytes of the multipart part "media" (or
// the only file part). The name is the part's filename parameter as sent —
// not reduced to its base name, so path tricks reach the hub's name check
// and are refused — and must have an extension (§4.8).
func readMedia(req *sdk.Request, max int) (string, []byte, error) {
	mt, params, err := mime.ParseMediaType(req.Headers.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return "", nil, fail(reasonFormat, "请使用 multipart/form-data 上传文件（字段 media）")
	}
	mr := multipart.NewReader(bytes.NewReader(req.Body), params["boundary"])
	var fallback *mediaFile
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", nil, fail(reasonFormat, "multipart 内容不完整")
		}
		_, dp, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		name, isFile := dp["filename"]
		if !isFile {
			continue
		}
		content, err := io.ReadAll(io.LimitReader(part, int64(max)+1))
		if err != nil {
			return "", nil, fail(reasonFormat, "multipart 内容不完整")
		}
		if len(content) > max {
			return "", nil, fail(reasonAttachment, sizeText(max))
		}
		mf := &mediaFile{name: name, content: content}
		if part.FormName() == mediaPart {
			return mf.check()
		}
		if fallback != nil {
			return "", nil, fail(reasonMissing, mediaPart)
		}
		fallback = mf
	}
	if fallback == nil {
		return "", nil, fail(reasonMissing, mediaPart)
	}
	return fallback.check()
}

// sizeText renders a byte limit the way H3Yun words it ("3M").
func sizeText(n int) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprintf("%d字节", n)
}

type mediaFile struct {
	name    string
	content []byte
}

func (m *mediaFile) check() (string, []byte, error) {
	name := strings.TrimSpace(m.name)
	if name == "" {
		return "", nil, fail(reasonMissing, "filename")
	}
	if ext := path.Ext(name); ext == "" || ext == "." {
		return "", nil, failf(reasonData, "文件名 %q 必须包含扩展名", name)
	}
	return name, m.content, nil
}

// fieldNamed returns the field with that code.
func fieldNamed(fields []sdk.Field, code string) *sdk.Field {
	for i := range fields {
		if fields[i].Field == code {
			return &fields[i]
		}
	}
	return nil
}

// appendRef appends ref to an attachment field's stored references
// (existing files are kept, §4.8).
func appendRef(cur any, ref map[string]any) []any {
	arr, _ := cur.([]any)
	out := make([]any, 0, len(arr)+1)
	out = append(out, arr...)
	return append(out, ref)
}

// folderSafe keeps a form code usable as a folder segment.
func folderSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == '.' || r < 0x20 {
			return '_'
		}
		return r
	}, s)
}

// hasAttachments reports whether fields (child tables included) have an
// attachment or image control.
func hasAttachments(fields []sdk.Field) bool {
	for _, f := range fields {
		if f.Type == tFileUpload || f.Type == tImageUpload || f.Type == tTableForm && hasAttachments(f.Columns) {
			return true
		}
	}
	return false
}

// attachmentIDs lists the file ids the attachment controls of data (and of
// its child rows) reference.
func attachmentIDs(fields []sdk.Field, data map[string]any) []string {
	var out []string
	for _, f := range fields {
		switch f.Type {
		case tFileUpload, tImageUpload:
			arr, _ := data[f.Field].([]any)
			for _, e := range arr {
				if m, ok := e.(map[string]any); ok {
					if id, _ := m["id"].(string); id != "" {
						out = append(out, id)
					}
				} else if id, ok := e.(string); ok && id != "" {
					out = append(out, id)
				}
			}
		case tTableForm:
			rows, _ := data[f.Field].([]any)
			for _, r := range rows {
				if row, ok := r.(map[string]any); ok {
					out = append(out, attachmentIDs(f.Columns, row)...)
				}
			}
		}
	}
	return out
}
