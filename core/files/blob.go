// Package files is the hub's file storage (spec eims-native.md §3): file
// metadata in the store (`file` entity) and content in a Blob port (local
// disk for the embedded default, GridFS with MongoDB). Names and folders
// callers send are metadata only; blobs are stored under keys made of the
// tenant and the file id, never of caller text.
package files

import (
	"context"
	"io"
	"regexp"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
)

// Blob is the content storage port. Its behaviour is pinned by the
// conformance suite in core/files/blobtest.
type Blob interface {
	// Put stores the content of r under key, replacing any object there,
	// and returns the number of bytes stored. On error nothing is stored
	// under key (a previous object may be gone).
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open returns the object under key for reading; errs.NotFound when
	// there is none.
	Open(ctx context.Context, key string) (Object, error)
	// Delete removes the object; removing an absent key is not an error.
	Delete(ctx context.Context, key string) error
}

// Object is an open blob.
type Object interface {
	io.ReadSeekCloser
	// Size is the object's length in bytes.
	Size() int64
}

var keyRE = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$`)

// ValidKey checks a blob key: '/'-separated segments of [A-Za-z0-9_.-],
// none empty, none starting with '.', at most 512 bytes. Adapters call it
// before touching storage.
func ValidKey(key string) error {
	if len(key) == 0 || len(key) > 512 || !keyRE.MatchString(key) || strings.Contains(key, "..") {
		return errs.Invalidf("invalid blob key %q", key)
	}
	return nil
}
