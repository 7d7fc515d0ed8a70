// Package blob holds the local-disk files.Blob (the embedded default);
// adapters/blob/gridfs holds the MongoDB GridFS one.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/files"
)

// Disk stores blobs as files under a root directory: key "upload/t1/<id>.pdf"
// is root/upload/t1/<id>.pdf. Keys are validated (files.ValidKey) and the
// resolved path is checked to stay under root; writes go to a temporary
// file renamed into place, so a reader never sees a partial object.
type Disk struct {
	root string
}

// NewDisk returns a Disk rooted at dir, creating it when missing.
func NewDisk(dir string) (*Disk, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: root %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("blob: create root %s: %w", abs, err)
	}
	return &Disk{root: abs}, nil
}

var _ files.Blob = (*Disk)(nil)

func (d *Disk) path(key string) (string, error) {
	if err := files.ValidKey(key); err != nil {
		return "", err
	}
	p := filepath.Join(d.root, filepath.FromSlash(key))
	if !strings.HasPrefix(p, d.root+string(filepath.Separator)) {
		return "", errs.Invalidf("blob key %q escapes the root", key)
	}
	return p, nil
}

// Put writes r to key atomically (temp file + rename).
func (d *Disk) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	p, err := d.path(key)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return 0, fmt.Errorf("blob: mkdir for %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".upload-*")
	if err != nil {
		return 0, fmt.Errorf("blob: temp file for %s: %w", key, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	n, err := io.Copy(tmp, ctxReader{ctx, r})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("blob: write %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return 0, fmt.Errorf("blob: rename %s: %w", key, err)
	}
	return n, nil
}

// ctxReader stops copying when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type diskObject struct {
	*os.File
	size int64
}

func (o diskObject) Size() int64 { return o.size }

// Open opens key for reading.
func (d *Disk) Open(_ context.Context, key string) (files.Object, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.NotFoundf("blob %s not found", key)
	}
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		_ = f.Close()
		return nil, errs.NotFoundf("blob %s not found", key)
	}
	return diskObject{File: f, size: st.Size()}, nil
}

// Delete removes key; a missing key is fine.
func (d *Disk) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return nil
}
