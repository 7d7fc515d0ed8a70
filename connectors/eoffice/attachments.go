package eoffice

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Attachments (spec §5.8) on hub files. attachment_id is 32 lower-case hex
// characters: a core alias of the hub file id (kind "file", a 14-character
// hex prefix and 18 digits).

const (
	kindFile     = "file"
	attachPrefix = "ef000000000000"
	attachWidth  = 18
	// chunkFolder holds the chunks of a chunked upload until the last.
	chunkFolder = "eoffice-chunks"
)

// unsafeSuffixes are refused uploads (0x011028).
var unsafeSuffixes = map[string]bool{".php": true, ".php3": true, ".php4": true, ".php5": true, ".phtml": true, ".phar": true,
	".jsp": true, ".jspx": true, ".asp": true, ".aspx": true, ".exe": true, ".sh": true, ".bat": true, ".cmd": true, ".cgi": true}

func registerFileRoutes(r *Router) {
	r.Add(http.MethodPost, "attachment/upload", attachUpload)
	r.Add(http.MethodPost, "attachment/list", attachList)
	r.Add(http.MethodGet, "attachment/index/:attachmentId", attachDownload)
}

// attachIDs returns the attachment ids of hub file ids (allocated).
func attachIDs(ctx context.Context, c *Call, files []string) (map[string]string, error) {
	if len(files) == 0 {
		return map[string]string{}, nil
	}
	res, err := c.Host.Aliases(ctx, c.Svc, sdk.AliasRequest{Namespace: aliasNS, Kind: kindFile, ToExt: files, Allocate: true,
		Prefix: attachPrefix, Width: attachWidth})
	if err != nil {
		return nil, FromHost(err, nil)
	}
	return res.ToExt, nil
}

// chunkKey names the chunks of one upload: the user and the file name.
func chunkKey(c *Call, name string, chunks int64) string {
	sum := sha256.Sum256([]byte(c.P.UserID + "\x00" + name + "\x00" + strconv.FormatInt(chunks, 10)))
	return hex.EncodeToString(sum[:12])
}

// attachUpload serves POST attachment/upload (multipart, part Filedata):
// a non-final chunk answers no data; the last one (or a whole file) the
// attachment.
func attachUpload(ctx context.Context, c *Call) (any, error) {
	f, ok := c.Files["Filedata"]
	if !ok {
		return nil, Fail(CodeMissing)
	}
	name := f.Name
	if n := strings.TrimSpace(c.In.Str("name")); n != "" {
		name = n
	}
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	ext := strings.ToLower(path.Ext(name))
	if unsafeSuffixes[ext] || name == "." || name == "/" {
		return nil, Fail("0x011028")
	}
	if len(f.Content) > sdk.MaxFileSize {
		return nil, Fail("0x011012")
	}
	chunks := int64(1)
	if c.In.Has("chunks") {
		chunks = IntOf(c.In["chunks"])
	}
	chunk := IntOf(c.In["chunk"])
	if chunks < 1 || chunks > 1000 || chunk < 0 || chunk >= chunks {
		return nil, Fail("0x011006")
	}
	content := f.Content
	if chunks > 1 {
		key := chunkKey(c, name, chunks)
		if _, err := c.Host.UploadFile(ctx, c.P, sdk.FileUpload{Name: key + "." + strconv.FormatInt(chunk, 10) + ".part",
			Folder: chunkFolder, Content: f.Content}); err != nil {
			return nil, uploadError(err)
		}
		if chunk < chunks-1 {
			return NoData, nil
		}
		merged, err := mergeChunks(ctx, c, key, chunks)
		if err != nil {
			return nil, err
		}
		content = merged
	}
	doc, err := c.Host.UploadFile(ctx, c.P, sdk.FileUpload{Name: name, Content: content})
	if err != nil {
		return nil, uploadError(err)
	}
	rows, err := attachRows(ctx, c, []sdk.Doc{doc})
	if err != nil {
		return nil, err
	}
	return rows[0], nil
}

// mergeChunks reads the chunks of key in order, deletes them and returns
// the content; a missing chunk is 0x011007.
func mergeChunks(ctx context.Context, c *Call, key string, chunks int64) ([]byte, error) {
	pg, err := c.Host.EntityFind(ctx, c.P, "file", sdk.Query{Filter: sdk.AndOf(
		sdk.Cmp{Path: sdk.Path{"folder"}, Op: sdk.Eq, Value: chunkFolder},
		sdk.Str{Path: sdk.Path{"fileName"}, Fn: sdk.StartsWith, Value: key + "."}), Limit: int(chunks) * 2}, sdk.EntityOptions{})
	if err != nil {
		return nil, &Error{Code: "0x011007", Err: err}
	}
	byIndex := map[int64]string{}
	for _, d := range pg.Items {
		rest := strings.TrimSuffix(strings.TrimPrefix(str(d, "fileName"), key+"."), ".part")
		if i, err := strconv.ParseInt(rest, 10, 64); err == nil {
			byIndex[i] = str(d, "id")
		}
	}
	var out []byte
	for i := int64(0); i < chunks; i++ {
		id := byIndex[i]
		if id == "" {
			return nil, Fail("0x011007")
		}
		f, err := c.Host.ReadFile(ctx, c.P, id)
		if err != nil {
			return nil, &Error{Code: "0x011007", Err: err}
		}
		if len(out)+len(f.Content) > sdk.MaxFileSize {
			return nil, Fail("0x011012")
		}
		out = append(out, f.Content...)
	}
	for _, id := range byIndex {
		_ = c.Host.DeleteFile(ctx, c.P, id)
	}
	return out, nil
}

func uploadError(err error) error {
	switch sdk.CodeOf(err) {
	case sdk.TooLarge:
		return &Error{Code: "0x011012", Err: err}
	case sdk.Invalid:
		return &Error{Code: "0x011011", Err: err}
	}
	return FromHost(err, nil)
}

// attachRows renders file entities as attachment rows.
func attachRows(ctx context.Context, c *Call, docs []sdk.Doc) ([]any, error) {
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = str(d, "id")
	}
	ext, err := attachIDs(ctx, c, ids)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(docs))
	for i, d := range docs {
		name := str(d, "fileName")
		out[i] = Obj{{"attachment_id", ext[ids[i]]}, {"attachment_name", name},
			{"attachment_type", strings.TrimPrefix(strings.ToLower(path.Ext(name)), ".")},
			{"attachment_size", intOf(d["size"])}, {"attachment_time", timeStr(d["createTime"], c.Cfg.loc)},
			{"attachment_mark", 0}, {"category", 0}, {"relation_table", ""}, {"thumb_attachment_name", ""},
			{"attachment_path", ""}}
	}
	return out, nil
}

// fileOf resolves an attachment id to a hub file id ("" when unknown).
func fileOf(ctx context.Context, c *Call, ext string) (string, error) {
	return c.hubID(ctx, kindFile, ext)
}

// fileInfos reads the infos of the files ids, in order; a file that is
// gone is skipped.
func fileInfos(ctx context.Context, c *Call, ids []string) ([]sdk.Doc, error) {
	var docs []sdk.Doc
	for _, id := range ids {
		f, err := c.Host.ReadFile(ctx, c.P, id)
		if err != nil {
			if sdk.CodeOf(err) == sdk.NotFound {
				continue
			}
			return nil, FromHost(err, nil)
		}
		docs = append(docs, f.Info)
	}
	return docs, nil
}

// attachList serves POST attachment/list: attach_ids (array or comma
// string); unknown ids are skipped.
func attachList(ctx context.Context, c *Call) (any, error) {
	var ext []string
	for _, v := range ListValues(c.In["attach_ids"]) {
		if s := strings.TrimSpace(ToStr(v)); s != "" {
			ext = append(ext, s)
		}
	}
	if len(ext) == 0 {
		if table := c.In.Str("entity_table"); table != "" {
			return entityAttachments(ctx, c, table, c.In.Str("entity_id"))
		}
		return []any{}, nil
	}
	if len(ext) > 500 {
		return nil, FailField(CodeIllegalField, "attach_ids")
	}
	hub, err := c.HubIDs(ctx, kindFile, ext)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(ext))
	for _, e := range ext {
		if id := hub[e]; id != "" {
			ids = append(ids, id)
		}
	}
	docs, err := fileInfos(ctx, c, ids)
	if err != nil {
		return nil, err
	}
	rows, err := attachRows(ctx, c, docs)
	if err != nil {
		return nil, err
	}
	if rows == nil {
		rows = []any{}
	}
	return rows, nil
}

// attachDownload serves GET attachment/index/{attachmentId}: the bytes,
// or the envelope with 0x011017.
func attachDownload(ctx context.Context, c *Call) (any, error) {
	id, err := fileOf(ctx, c, c.Params["attachmentId"])
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, Fail("0x011017")
	}
	f, err := c.Host.ReadFile(ctx, c.P, id)
	if err != nil {
		if sdk.CodeOf(err) == sdk.NotFound {
			return nil, Fail("0x011017")
		}
		return nil, FromHost(err, nil)
	}
	ct := str(f.Info, "contentType")
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := http.Header{}
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": str(f.Info, "fileName")}))
	return &sdk.Response{Status: http.StatusOK, Headers: h, Body: f.Content}, nil
}

// entityAttachments lists the attachments of a record: entity_table is a
// form-modeling table key (or "document"), entity_id its data id. An
// unknown table or row lists nothing.
func entityAttachments(ctx context.Context, c *Call, table, dataID string) (any, error) {
	var m *FormMap
	var err error
	if table == "document" {
		m, err = documentForm(ctx, c)
	} else {
		c.Params = map[string]string{"tableKey": table}
		m, err = tableForm(ctx, c)
	}
	if err != nil || m == nil {
		return []any{}, err
	}
	id, err := recordOf(ctx, c, dataID)
	if err != nil || id == "" {
		return []any{}, err
	}
	rec, err := c.Host.GetRecord(ctx, c.P, m.Form.Key, id)
	if err != nil {
		if sdk.CodeOf(err) == sdk.NotFound {
			return []any{}, nil
		}
		return nil, FromHost(err, nil)
	}
	data, _ := rec["data"].(map[string]any)
	var files []string
	var collect func(fields []sdk.Field, row map[string]any)
	collect = func(fields []sdk.Field, row map[string]any) {
		for i := range fields {
			f := &fields[i]
			switch {
			case isFile(f):
				for _, v := range anyList(row[f.Field]) {
					if mm, ok := v.(map[string]any); ok {
						v = mm["id"]
					}
					if s := ToStr(v); s != "" {
						files = append(files, s)
					}
				}
			case f.Type == "tableform":
				for _, r := range anyList(row[f.Field]) {
					if rm, ok := r.(map[string]any); ok {
						collect(f.Columns, rm)
					}
				}
			}
		}
	}
	collect(m.Form.Fields, data)
	docs, err := fileInfos(ctx, c, files)
	if err != nil {
		return nil, err
	}
	rows, err := attachRows(ctx, c, docs)
	if err != nil || rows == nil {
		return []any{}, err
	}
	return rows, nil
}
