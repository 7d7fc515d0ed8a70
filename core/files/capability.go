package files

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path"
	"regexp"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
)

// Capability URLs (spec eims-native.md §12.12, decision D-12.2): the
// EIMSNext web client shows an uploaded file by loading
// {uploadUrl}/{savePath} directly, without a token. Every upload is
// therefore stored under savePath upload/<tenant dir>/<random name><ext>,
// where the random name carries 128 bits from crypto/rand, and
// OpenCapability serves it to whoever knows that path. Knowing the path is
// the permission (like a public file's id, §3.2); deleting the file
// removes it. The HTTP layer serves active content (HTML, SVG, scripts) as
// an attachment with nosniff, and can turn the route off.

// capNameLen is the length of a random name: 16 bytes, hex.
const capNameLen = 32

var (
	capNameRE = regexp.MustCompile(`^[0-9a-f]{32}$`)
	capDirRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,65}$`)
)

// randomName returns a fresh 128-bit random name (32 lower-case hex digits).
func randomName() (string, error) {
	var b [capNameLen / 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", errs.Wrap(errs.Internal, err, "crypto/rand")
	}
	return hex.EncodeToString(b[:]), nil
}

// capabilityName is the random name of a savePath written by Upload
// ("upload/<dir>/<name><ext>"); ok is false for older paths (named by the
// file id), which have no capability URL.
func capabilityName(savePath string) (string, bool) {
	base := path.Base(savePath)
	name := strings.TrimSuffix(base, path.Ext(base))
	if !strings.HasPrefix(savePath, "upload/") || !capNameRE.MatchString(name) {
		return "", false
	}
	return name, true
}

// OpenCapability opens the file stored at savePath upload/<dir>/<name>
// without a caller (GET /upload/<dir>/<name>, §12.12). The directory, the
// random name and the extension must all match what Upload recorded; an
// unknown, deleted or malformed path is NotFound, like any other file.
func (s *Service) OpenCapability(ctx context.Context, dir, name string) (*File, error) {
	notFound := errs.NotFoundf("file upload/%s/%s not found", dir, name)
	if !capDirRE.MatchString(dir) || len(name) > capNameLen+16 {
		return nil, notFound
	}
	savePath := "upload/" + dir + "/" + name
	rnd, ok := capabilityName(savePath)
	if !ok || extOf(name) != path.Ext(name) {
		return nil, notFound
	}
	idx, err := s.st.Get(ctx, CollCapability, "", rnd)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return nil, notFound
		}
		return nil, err
	}
	tenant, _ := idx["tenant"].(string)
	id, _ := idx["file"].(string)
	if tenant == "" || id == "" || tenantDir(tenant) != dir {
		return nil, notFound
	}
	d, err := s.st.Get(ctx, CollFile, tenant, id)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return nil, notFound
		}
		return nil, err
	}
	if sp, _ := d["savePath"].(string); sp != savePath {
		return nil, notFound
	}
	f, err := s.openDoc(ctx, id, d)
	if err != nil {
		return nil, err
	}
	f.Capability = true
	return f, nil
}
