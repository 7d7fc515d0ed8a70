package files

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/store"
)

// Collections.
const (
	// CollFile holds file metadata (§6.2 `file`).
	CollFile = "file"
	// CollPublic is a system-scope index id → tenant of public files, so
	// GET /files/{id}/{name} can find them without a token.
	CollPublic = "filepublic"
	// CollCapability is a system-scope index random name → tenant and file
	// id of every upload, so GET /upload/<tenant dir>/<name> (the
	// capability URL the EIMSNext web client builds from savePath, spec
	// §12.12) can find the file without a token.
	CollCapability = "filecap"
)

// DefaultMaxUpload is the default per-file limit (§1.6: 100 MiB).
const DefaultMaxUpload = 100 << 20

// MaxFiles caps the files of one upload request.
const MaxFiles = 20

// Options configure a Service.
type Options struct {
	// MaxUpload is the per-file size limit in bytes. Default: 100 MiB.
	MaxUpload int64
	Logger    *slog.Logger
	Now       func() time.Time
	// Access is the record access policy: its data scope decides which
	// records' file references make a private file readable. Default:
	// records readable tenant-wide.
	Access *access.Policy
}

// Service stores and serves files.
type Service struct {
	st   store.Store
	blob Blob
	max  int64
	log  *slog.Logger
	now  func() time.Time
	acc  *access.Policy
}

// New returns a Service over st (metadata) and blob (content).
func New(st store.Store, blob Blob, opts Options) *Service {
	s := &Service{st: st, blob: blob, max: opts.MaxUpload, log: opts.Logger, now: opts.Now, acc: opts.Access}
	if s.max <= 0 {
		s.max = DefaultMaxUpload
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// MaxUpload is the per-file limit.
func (s *Service) MaxUpload() int64 { return s.max }

// Upload is one file of an upload request.
type Upload struct {
	// FileName is the name the client sent (validated, kept as metadata).
	FileName string
	// Content is the file's bytes.
	Content io.Reader
	// Size is the declared size (-1 = unknown); larger than the limit →
	// TooLarge before anything is read.
	Size int64
}

// UploadRequest is §3.1's form.
type UploadRequest struct {
	Files []Upload
	// Next, when not nil, yields further files one at a time after Files:
	// a streamed multipart body, where a file's Content must be read to its
	// end before the next file can be asked for. It returns io.EOF after
	// the last file. It may set Folder and IsPublic on the request it is
	// handed (form fields that follow a file part); they are read only
	// after the last file.
	Next     func(req *UploadRequest) (Upload, error)
	Folder   string
	IsPublic bool
}

// Upload stores the files and their metadata (one transaction for the
// metadata; blobs of a failed request are removed). It returns the file
// objects of §3.1.
func (s *Service) Upload(ctx context.Context, p *principal.Principal, req UploadRequest) ([]map[string]any, error) {
	if p == nil || p.Tenant == "" {
		return nil, errs.Unauthorizedf("no caller")
	}
	if len(req.Files) > MaxFiles {
		return nil, errs.Invalidf("at most %d files per upload", MaxFiles).WithTarget("file")
	}
	if req.Next == nil {
		if len(req.Files) == 0 {
			return nil, errs.Invalidf("no file in the upload").WithTarget("file")
		}
		if _, err := CleanFolder(req.Folder); err != nil {
			return nil, err
		}
	}
	for _, f := range req.Files {
		if err := s.check(f); err != nil {
			return nil, err
		}
	}
	type stored struct {
		id, key, ext, name, capName string
		meta                        putMeta
	}
	var done []stored
	cleanup := func() {
		for _, d := range done {
			if err := s.blob.Delete(context.WithoutCancel(ctx), d.key); err != nil {
				s.log.WarnContext(ctx, "files: removing the blob of a failed upload", "key", d.key, "err", err)
			}
		}
	}
	for i := 0; ; i++ {
		var f Upload
		switch {
		case i < len(req.Files):
			f = req.Files[i]
		case req.Next == nil:
		default:
			next, err := req.Next(&req)
			if errors.Is(err, io.EOF) {
				break
			}
			if err == nil && i >= MaxFiles {
				err = errs.Invalidf("at most %d files per upload", MaxFiles).WithTarget("file")
			}
			if err == nil {
				err = s.check(next)
			}
			if err != nil {
				cleanup()
				return nil, err
			}
			f = next
		}
		if f.Content == nil {
			break
		}
		id := store.NewID()
		ext := extOf(f.FileName)
		capName, err := randomName()
		if err != nil {
			cleanup()
			return nil, err
		}
		key := "upload/" + tenantDir(p.Tenant) + "/" + capName + ext
		meta, err := s.put(ctx, key, f)
		if err != nil {
			cleanup()
			return nil, err
		}
		done = append(done, stored{id: id, key: key, ext: ext, name: f.FileName, capName: capName, meta: meta})
	}
	if len(done) == 0 {
		return nil, errs.Invalidf("no file in the upload").WithTarget("file")
	}
	folder, err := CleanFolder(req.Folder)
	if err != nil {
		cleanup()
		return nil, err
	}
	var docs []map[string]any
	capNames := map[string]string{} // file id → random name
	now := s.now().UnixMilli()
	by := map[string]any{"id": p.UserID, "value": p.UserCode, "label": p.DisplayName}
	for _, d := range done {
		// fileSize is the original's floor(bytes / 1000) "KB" (spec §3.1,
		// DEVIATIONS 18): 0 for a file under 1000 bytes; size is exact.
		// thumbPath is savePath: the hub makes no thumbnails (§12.12).
		capNames[d.id] = d.capName
		doc := map[string]any{"id": d.id, "corpId": p.Tenant, "fileName": d.name, "savePath": d.key, "thumbPath": d.key,
			"fileExt": d.ext, "fileSize": d.meta.size / 1000, "size": d.meta.size, "contentType": contentType(d.meta.sniffed, d.ext),
			"hash": d.meta.hash, "folder": folder, "isPublic": req.IsPublic, "url": "/api/v1/files/" + d.id,
			"createBy": by, "updateBy": by, "createTime": now, "updateTime": now}
		if req.IsPublic {
			doc["publicUrl"] = PublicURL(d.id, d.name)
		}
		docs = append(docs, doc)
	}
	err = s.st.Tx(ctx, func(ctx context.Context) error {
		for _, d := range docs {
			if err := s.st.Insert(ctx, CollFile, d); err != nil {
				return err
			}
			id, _ := d["id"].(string)
			if err := s.st.Insert(ctx, CollCapability, store.Doc{"id": capNames[id], "corpId": "",
				"tenant": p.Tenant, "file": id, "createTime": now}); err != nil {
				return err
			}
			if req.IsPublic {
				if err := s.st.Insert(ctx, CollPublic, store.Doc{"id": d["id"], "corpId": "", "tenant": p.Tenant,
					"createTime": now}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		cleanup()
		return nil, err
	}
	return docs, nil
}

// PublicURL is the token-free address of a public file (§3.2).
func PublicURL(id, name string) string {
	return "/files/" + id + "/" + url.PathEscape(name)
}

// check validates one file before it is read: its name and declared size.
func (s *Service) check(f Upload) error {
	if f.Content == nil {
		return errs.Invalidf("file %q has no content", f.FileName).WithTarget("file")
	}
	if _, err := CleanFileName(f.FileName); err != nil {
		return err
	}
	if f.Size > s.max {
		return s.tooLarge(f.FileName)
	}
	return nil
}

func (s *Service) tooLarge(name string) error {
	return errs.Newf(errs.TooLarge, "file %q exceeds the upload limit of %d bytes", name, s.max).WithTarget("file")
}

type putMeta struct {
	size    int64
	hash    string
	sniffed string
}

// put streams one file into the blob store: sniffing the first 512 bytes,
// hashing (SHA-256) and enforcing the size limit on the way.
func (s *Service) put(ctx context.Context, key string, f Upload) (putMeta, error) {
	br := bufio.NewReaderSize(f.Content, 512)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return putMeta{}, errs.Wrap(errs.Invalid, err, "reading the upload failed")
	}
	sniffed := http.DetectContentType(head)
	h := sha256.New()
	lr := &limitReader{r: io.TeeReader(br, h), left: s.max}
	n, err := s.blob.Put(ctx, key, lr)
	if lr.over {
		_ = s.blob.Delete(context.WithoutCancel(ctx), key)
		return putMeta{}, s.tooLarge(f.FileName)
	}
	if err != nil {
		_ = s.blob.Delete(context.WithoutCancel(ctx), key)
		return putMeta{}, fmt.Errorf("files: storing %s: %w", key, err)
	}
	return putMeta{size: n, hash: hex.EncodeToString(h.Sum(nil)), sniffed: sniffed}, nil
}

// limitReader fails once more than left bytes were read.
type limitReader struct {
	r    io.Reader
	left int64
	over bool
}

var errTooLarge = errors.New("upload limit exceeded")

func (l *limitReader) Read(p []byte) (int, error) {
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		l.over = true
		return n, errTooLarge
	}
	return n, err
}

// activeTypes may run script in a browser: never served inline.
var activeTypes = map[string]bool{"text/html": true, "image/svg+xml": true, "application/xhtml+xml": true,
	"text/xml": true, "application/xml": true, "text/javascript": true, "application/javascript": true,
	"application/x-javascript": true, "text/xsl": true}

// contentType decides the stored type: the sniffed one, refined by the
// extension only where sniffing is inconclusive (octet-stream, plain text)
// and the extension's type is not active content. The declared type of the
// multipart part is never trusted.
func contentType(sniffed, ext string) string {
	base := mediaType(sniffed)
	if (base == "application/octet-stream" || base == "text/plain") && ext != "" {
		if t := mime.TypeByExtension(ext); t != "" && !activeTypes[mediaType(t)] {
			if base == "text/plain" && !strings.HasPrefix(t, "text/") && !strings.Contains(t, "json") && !strings.Contains(t, "csv") {
				return sniffed
			}
			return t
		}
	}
	return sniffed
}

func mediaType(t string) string {
	mt, _, err := mime.ParseMediaType(t)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(t))
	}
	return mt
}

// IsActive reports whether a content type must be served as an attachment.
func IsActive(t string) bool { return activeTypes[mediaType(t)] }

var plainTenant = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// tenantDir is the tenant's blob directory: the id when it is plain, else a
// hash of it.
func tenantDir(t string) string {
	if plainTenant.MatchString(t) {
		return t
	}
	h := sha256.Sum256([]byte(t))
	return "t" + hex.EncodeToString(h[:12])
}

// File is an open file to serve.
type File struct {
	ID          string
	Name        string
	ContentType string
	Size        int64
	// ETag is the strong entity tag (quoted SHA-256).
	ETag    string
	ModTime time.Time
	Public  bool
	// Capability reports a file opened by its capability URL
	// (OpenCapability): served without a token, cacheable privately.
	Capability bool
	Content    Object
}

// Open opens a file of the caller's tenant that the caller may read
// (§3.2, mayRead): a private file of another user is NotFound unless a
// record the caller can read references it.
func (s *Service) Open(ctx context.Context, p *principal.Principal, id string) (*File, error) {
	if p == nil || p.Tenant == "" {
		return nil, errs.Unauthorizedf("no caller")
	}
	d, err := s.st.Get(ctx, CollFile, p.Tenant, id)
	if err != nil {
		return nil, notFound(err, id)
	}
	if err := s.mayRead(ctx, p, d); err != nil {
		return nil, err
	}
	return s.openDoc(ctx, id, d)
}

// OpenPublic opens a public file by id and name, without a caller (§3.2
// GET /files/{id}/{fileName}). A private file, a wrong name or an unknown
// id are all NotFound.
func (s *Service) OpenPublic(ctx context.Context, id, name string) (*File, error) {
	idx, err := s.st.Get(ctx, CollPublic, "", id)
	if err != nil {
		return nil, notFound(err, id)
	}
	tenant, _ := idx["tenant"].(string)
	f, err := s.open(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if !f.Public || f.Name != name {
		_ = f.Content.Close()
		return nil, errs.NotFoundf("file %s not found", id)
	}
	return f, nil
}

func (s *Service) open(ctx context.Context, tenant, id string) (*File, error) {
	d, err := s.st.Get(ctx, CollFile, tenant, id)
	if err != nil {
		return nil, notFound(err, id)
	}
	return s.openDoc(ctx, id, d)
}

// openDoc opens the blob of the file whose metadata is d.
func (s *Service) openDoc(ctx context.Context, id string, d store.Doc) (*File, error) {
	key, _ := d["savePath"].(string)
	obj, err := s.blob.Open(ctx, key)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			s.log.WarnContext(ctx, "files: metadata without blob", "file", id, "key", key)
		}
		return nil, notFound(err, id)
	}
	f := &File{ID: id, Content: obj, Size: obj.Size()}
	f.Name, _ = d["fileName"].(string)
	f.ContentType, _ = d["contentType"].(string)
	f.Public, _ = d["isPublic"].(bool)
	if h, _ := d["hash"].(string); h != "" {
		f.ETag = `"` + h + `"`
	}
	if t, ok := d["createTime"].(int64); ok {
		f.ModTime = time.UnixMilli(t).UTC()
	}
	if f.ContentType == "" {
		f.ContentType = "application/octet-stream"
	}
	return f, nil
}

// Delete removes a file: its metadata (soft delete, in one transaction with
// the public index) and then its blob. Only the owner or an admin may.
func (s *Service) Delete(ctx context.Context, p *principal.Principal, id string) error {
	if p == nil || p.Tenant == "" {
		return errs.Unauthorizedf("no caller")
	}
	var key string
	err := s.st.Tx(ctx, func(ctx context.Context) error {
		d, err := s.st.Get(ctx, CollFile, p.Tenant, id)
		if err != nil {
			return notFound(err, id)
		}
		by, _ := d["createBy"].(map[string]any)
		if owner, _ := by["id"].(string); owner != p.UserID && !p.IsAdmin() {
			return errs.Forbiddenf("only the owner or an admin may delete file %s", id)
		}
		key, _ = d["savePath"].(string)
		if err := s.st.Delete(ctx, CollFile, p.Tenant, id); err != nil {
			return err
		}
		if pub, _ := d["isPublic"].(bool); pub {
			if err := s.st.Delete(ctx, CollPublic, "", id); err != nil && errs.CodeOf(err) != errs.NotFound {
				return err
			}
		}
		if name, ok := capabilityName(key); ok {
			if err := s.st.Delete(ctx, CollCapability, "", name); err != nil && errs.CodeOf(err) != errs.NotFound {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.blob.Delete(ctx, key); err != nil {
		s.log.WarnContext(ctx, "files: blob left after delete", "file", id, "key", key, "err", err)
	}
	return nil
}

func notFound(err error, id string) error {
	if errs.CodeOf(err) == errs.NotFound {
		return errs.Wrap(errs.NotFound, err, "file "+id+" not found")
	}
	return err
}
