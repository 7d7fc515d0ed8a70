package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/files"
	"github.com/eimshub/eimshub/core/ids"
	"github.com/eimshub/eimshub/core/principal"
)

// Files is what the file routes need (implemented by *files.Service).
type Files interface {
	Upload(ctx context.Context, p *principal.Principal, req files.UploadRequest) ([]map[string]any, error)
	Open(ctx context.Context, p *principal.Principal, id string) (*files.File, error)
	OpenPublic(ctx context.Context, id, name string) (*files.File, error)
	// OpenCapability opens an upload by its savePath upload/<dir>/<name>,
	// without a caller (§12.12).
	OpenCapability(ctx context.Context, dir, name string) (*files.File, error)
	Delete(ctx context.Context, p *principal.Principal, id string) error
	MaxUpload() int64
}

var _ Files = (*files.Service)(nil)

// bindFileRoutes binds §3 under r (the /api/v1 group, behind bearer auth):
// POST /upload (alias /Upload/Upload) and GET /files/{id}.
func bindFileRoutes(r fiber.Router, f Files) {
	r.Post("/upload", uploadHandler(f))
	r.Post("/upload/upload", uploadHandler(f))
	r.Get("/files/:id", func(c *fiber.Ctx) error {
		if f == nil {
			return errs.Unavailablef("file storage is not configured")
		}
		p, ok := principal.From(c.UserContext())
		if !ok {
			return errs.New(errs.Unauthorized, "a bearer access token is required")
		}
		file, err := f.Open(c.UserContext(), p, fileParam(c, "id"))
		if err != nil {
			return err
		}
		return serveFile(c, file)
	})
	// Deleting a file removes its metadata and its blob (the generic entity
	// DELETE would leave the blob behind); bound before the entity routes.
	del := func(c *fiber.Ctx) error {
		if f == nil {
			return errs.Unavailablef("file storage is not configured")
		}
		p, ok := principal.From(c.UserContext())
		if !ok {
			return errs.New(errs.Unauthorized, "a bearer access token is required")
		}
		if err := f.Delete(c.UserContext(), p, fileParam(c, "id")); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
	r.Delete("/file/:id", del)
	r.Delete("/uploadedfile/:id", del)
}

// bindPublicFileRoutes binds GET /files/{id}/{fileName} under r WITHOUT
// authentication (public files only, §3.2). Mount it outside the bearer group.
func bindPublicFileRoutes(r fiber.Router, f Files) {
	r.Get("/files/:id/:name", func(c *fiber.Ctx) error {
		if f == nil {
			return errs.Unavailablef("file storage is not configured")
		}
		file, err := f.OpenPublic(c.UserContext(), fileParam(c, "id"), fileParam(c, "name"))
		if err != nil {
			return err
		}
		return serveFile(c, file)
	})
}

// bindCapabilityRoutes binds GET (and HEAD) /upload/<tenant dir>/<name>
// under r WITHOUT authentication: the capability URL {uploadUrl}/{savePath}
// the EIMSNext web client loads uploaded images and attachments from
// (§12.12, D-12.2). Mount it outside the bearer group; the CORS middleware
// gives it its headers like every other route.
func bindCapabilityRoutes(r fiber.Router, f Files) {
	r.Get("/upload/:dir/:name", func(c *fiber.Ctx) error {
		if f == nil {
			return errs.Unavailablef("file storage is not configured")
		}
		file, err := f.OpenCapability(c.UserContext(), fileParam(c, "dir"), fileParam(c, "name"))
		if err != nil {
			return err
		}
		return serveFile(c, file)
	})
}

// fileParam is param for the file routes (id in either spelling).
func fileParam(c *fiber.Ctx, name string) string {
	v := strings.Clone(c.Params(name)) // see rawParam
	if u, err := url.PathUnescape(v); err == nil {
		v = u
	}
	if name == "id" {
		return ids.FromGUID(v)
	}
	return v
}

// uploadHandler serves POST /api/v1/upload (§3.1). It runs behind bearer
// auth and is the only route whose body is not buffered by limitBody: the
// multipart body is read part by part from the request stream and each
// file goes straight to the blob store (files.UploadRequest.Next), so an
// upload costs a few buffers of memory whatever its size. The body is
// capped at MaxUpload plus uploadSlack (a declared Content-Length over it
// is refused before reading); each file at MaxUpload by the service.
func uploadHandler(f Files) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if f == nil {
			return errs.Unavailablef("file storage is not configured")
		}
		p, ok := principal.From(c.UserContext())
		if !ok {
			return errs.New(errs.Unauthorized, "a bearer access token is required")
		}
		mt, params, err := mime.ParseMediaType(string(c.Request().Header.ContentType()))
		if err != nil || mt != fiber.MIMEMultipartForm || params["boundary"] == "" {
			return errs.New(errs.UnsupportedMedia, "the upload must be multipart/form-data")
		}
		if enc := c.Request().Header.Peek(fiber.HeaderContentEncoding); len(enc) > 0 && !strings.EqualFold(string(enc), "identity") {
			return errs.New(errs.UnsupportedMedia, "a compressed upload body is not supported")
		}
		limit := f.MaxUpload() + uploadSlack
		if cl := c.Request().Header.ContentLength(); cl > 0 && int64(cl) > limit {
			return errs.Newf(errs.TooLarge, "the upload exceeds %d bytes", limit).WithTarget("file")
		}
		var body io.Reader = c.Context().RequestBodyStream()
		if body == nil {
			body = bytes.NewReader(c.Request().Body())
		}
		cr := &capReader{r: body, left: limit}
		u := &multipartUpload{mr: multipart.NewReader(cr, params["boundary"]), cr: cr}
		out, err := f.Upload(c.UserContext(), p, files.UploadRequest{Next: u.next})
		if err != nil {
			if cr.over {
				return errs.Newf(errs.TooLarge, "the upload exceeds %d bytes", limit).WithTarget("file")
			}
			return err
		}
		// The service asked for parts until the closing boundary; what may
		// follow it (an epilogue) is read here, so the connection can serve
		// the next request.
		if n, _ := io.Copy(io.Discard, io.LimitReader(cr, 4<<10)); n < 4<<10 && !cr.failed {
			c.Locals(bodyReadLocal, true)
		}
		return c.JSON(fiber.Map{"value": out})
	}
}

// Bounds of a streamed upload form.
const (
	maxFormFields    = 32
	maxFormFieldSize = 4 << 10
)

// multipartUpload yields the file parts of a multipart body one by one
// (files.UploadRequest.Next), taking the form fields (folder, isPublic)
// wherever they appear between them.
type multipartUpload struct {
	mr     *multipart.Reader
	cr     *capReader
	fields int
}

func (u *multipartUpload) next(req *files.UploadRequest) (files.Upload, error) {
	for {
		part, err := u.mr.NextPart()
		if errors.Is(err, io.EOF) {
			return files.Upload{}, io.EOF
		}
		if err != nil {
			if u.cr.over {
				return files.Upload{}, errs.New(errs.TooLarge, "the upload is over the limit").WithTarget("file")
			}
			return files.Upload{}, errs.Wrap(errs.Invalid, err, "the multipart body is malformed")
		}
		if name, ok := partFileName(part); ok {
			return files.Upload{FileName: name, Content: part, Size: -1}, nil
		}
		// A form field: every part counts as a file only when it has a file name (§3.1).
		if u.fields++; u.fields > maxFormFields {
			return files.Upload{}, errs.Invalidf("too many form fields in the upload")
		}
		v, err := io.ReadAll(io.LimitReader(part, maxFormFieldSize+1))
		if err != nil {
			return files.Upload{}, errs.Wrap(errs.Invalid, err, "the multipart body is malformed")
		}
		if len(v) > maxFormFieldSize {
			return files.Upload{}, errs.Invalidf("form field %q is too long", part.FormName()).WithTarget(part.FormName())
		}
		switch {
		case strings.EqualFold(part.FormName(), "folder"):
			req.Folder = string(v)
		case strings.EqualFold(part.FormName(), "isPublic"):
			b, err := strconv.ParseBool(string(v))
			if err != nil {
				return files.Upload{}, errs.Invalidf("isPublic must be true or false").WithTarget("isPublic")
			}
			req.IsPublic = b
		}
	}
}

// capReader fails once more than left bytes were read (over), so a chunked
// upload without Content-Length is bounded too; failed records any read
// error.
type capReader struct {
	r      io.Reader
	left   int64
	over   bool
	failed bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.over {
		return 0, errs.New(errs.TooLarge, "the upload is over the limit")
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		c.over, c.failed = true, true
		return n, errs.New(errs.TooLarge, "the upload is over the limit")
	}
	if err != nil && !errors.Is(err, io.EOF) {
		c.failed = true
	}
	return n, err
}

// partFileName is a file part's name as sent: mime/multipart reduces it to
// its base name, which would hide a traversal attempt the caller must be
// told about (400), so the Content-Disposition header is read again. ok is
// false for a form field (no filename parameter).
func partFileName(part *multipart.Part) (string, bool) {
	if _, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition")); err == nil {
		if n := params["filename"]; n != "" {
			return n, true
		}
	}
	return "", false
}

// serveFile streams a file with Content-Type, Content-Length,
// Content-Disposition (filename*=UTF-8”…), ETag/If-None-Match and a single
// Range (§3.2).
func serveFile(c *fiber.Ctx, f *files.File) error {
	obj := f.Content
	closeObj := true
	defer func() {
		if closeObj {
			_ = obj.Close()
		}
	}()
	c.Set(fiber.HeaderContentType, f.ContentType)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderAcceptRanges, "bytes")
	if f.ETag != "" {
		c.Set(fiber.HeaderETag, f.ETag)
	}
	if !f.ModTime.IsZero() {
		c.Set(fiber.HeaderLastModified, f.ModTime.Format(http.TimeFormat))
	}
	switch {
	case f.Public:
		c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	case f.Capability:
		// The content under a random name never changes; only the holder
		// of the URL's browser keeps a copy.
		c.Set(fiber.HeaderCacheControl, "private, max-age=3600")
	default:
		c.Set(fiber.HeaderCacheControl, "private, no-cache")
	}
	disp := "inline"
	// Active content by type, or by the name's extension (an SVG sniffed as
	// plain text is still an SVG to whoever saves it), is an attachment
	// (D-12.2); nosniff above keeps browsers from second-guessing the type.
	if files.IsActive(f.ContentType) || files.IsActive(mime.TypeByExtension(path.Ext(f.Name))) || isTrue(c.Query("download")) {
		disp = "attachment"
	}
	c.Set(fiber.HeaderContentDisposition, contentDisposition(disp, f.Name))
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && f.ETag != "" && etagMatch(inm, f.ETag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	start, length, status := int64(0), f.Size, fiber.StatusOK
	if rg := c.Get(fiber.HeaderRange); rg != "" && ifRangeOK(c.Get(fiber.HeaderIfRange), f.ETag) {
		s, n, ok, satisfiable := parseRange(rg, f.Size)
		if !satisfiable {
			c.Set(fiber.HeaderContentRange, "bytes */"+strconv.FormatInt(f.Size, 10))
			c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
			c.Response().Header.Del(fiber.HeaderContentDisposition)
			return c.SendStatus(fiber.StatusRequestedRangeNotSatisfiable)
		}
		if ok {
			start, length, status = s, n, fiber.StatusPartialContent
			c.Set(fiber.HeaderContentRange, "bytes "+strconv.FormatInt(s, 10)+"-"+strconv.FormatInt(s+n-1, 10)+"/"+strconv.FormatInt(f.Size, 10))
		}
	}
	if start > 0 {
		if _, err := obj.Seek(start, io.SeekStart); err != nil {
			return err
		}
	}
	c.Status(status)
	if c.Method() == fiber.MethodHead {
		c.Response().Header.SetContentLength(int(length))
		c.Response().SkipBody = true
		return nil
	}
	closeObj = false // the response stream closes it
	c.Response().SetBodyStream(readCloser{io.LimitReader(obj, length), obj}, int(length))
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

func isTrue(s string) bool { return s == "1" || strings.EqualFold(s, "true") }

// etagMatch implements If-None-Match (weak comparison, "*" matches).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// ifRangeOK: a Range is honoured without If-Range, or when If-Range is the
// current ETag.
func ifRangeOK(ifRange, etag string) bool { return ifRange == "" || ifRange == etag }

// parseRange parses a single "bytes=a-b", "bytes=a-" or "bytes=-n" range.
// ok=false with satisfiable=true means "ignore the header, send everything"
// (malformed or multi-range); satisfiable=false means 416.
func parseRange(h string, size int64) (start, length int64, ok, satisfiable bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, true
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false, true
	}
	if a == "" { // suffix
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, false, true
		}
		if n == 0 || size == 0 {
			return 0, 0, false, false
		}
		n = min(n, size)
		return size - n, n, true, true
	}
	s, err := strconv.ParseInt(a, 10, 64)
	if err != nil || s < 0 {
		return 0, 0, false, true
	}
	if s >= size {
		return 0, 0, false, false
	}
	end := size - 1
	if b != "" {
		e, err := strconv.ParseInt(b, 10, 64)
		if err != nil || e < s {
			return 0, 0, false, true
		}
		end = min(e, size-1)
	}
	return s, end - s + 1, true, true
}

// contentDisposition renders `<disp>; filename="<ascii>"; filename*=UTF-8”<pct>` (RFC 6266, 8187).
func contentDisposition(disp, name string) string {
	if name == "" {
		return disp
	}
	var ascii strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' || r == ';' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	return disp + `; filename="` + ascii.String() + `"; filename*=UTF-8''` + rfc8187(name)
}

// rfc8187 percent-encodes everything but attr-char.
func rfc8187(s string) string {
	const attr = "!#$&+-.^_`|~"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(attr, c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)|0x100, 16)[1:]))
		}
	}
	return b.String()
}
