// Package gridfs is the files.Blob on MongoDB GridFS (used when MongoDB is
// the store). The blob key is the GridFS file id (a string) and its name.
package gridfs

import (
	"context"
	"errors"
	"fmt"
	"io"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/gridfs"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/files"
)

// DefaultBucket is the bucket name (collections <bucket>.files and <bucket>.chunks).
const DefaultBucket = "blobs"

// Blob stores blobs in a GridFS bucket.
type Blob struct {
	bucket *gridfs.Bucket
}

var _ files.Blob = (*Blob)(nil)

// New returns a Blob on db's bucket name ("" = DefaultBucket).
func New(db *mongo.Database, name string) (*Blob, error) {
	if name == "" {
		name = DefaultBucket
	}
	b, err := gridfs.NewBucket(db, options.GridFSBucket().SetName(name))
	if err != nil {
		return nil, fmt.Errorf("gridfs: bucket %s: %w", name, err)
	}
	return &Blob{bucket: b}, nil
}

// Put replaces key with the content of r. GridFS has no atomic replace:
// the old object is deleted first, and a failed upload is aborted (its
// chunks removed) so nothing is left under key.
func (b *Blob) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := files.ValidKey(key); err != nil {
		return 0, err
	}
	if err := b.Delete(ctx, key); err != nil {
		return 0, err
	}
	up, err := b.bucket.OpenUploadStreamWithID(key, key)
	if err != nil {
		return 0, unavailable(err, "open upload "+key)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = up.SetWriteDeadline(dl)
	}
	n, err := io.Copy(up, r)
	if err != nil {
		_ = up.Abort()
		return 0, fmt.Errorf("gridfs: upload %s: %w", key, err)
	}
	if err := up.Close(); err != nil {
		return 0, unavailable(err, "finish upload "+key)
	}
	return n, nil
}

// Open opens key for reading.
func (b *Blob) Open(ctx context.Context, key string) (files.Object, error) {
	if err := files.ValidKey(key); err != nil {
		return nil, err
	}
	ds, err := b.open(ctx, key)
	if err != nil {
		return nil, err
	}
	return &object{b: b, ctx: ctx, key: key, ds: ds, size: ds.GetFile().Length}, nil
}

func (b *Blob) open(ctx context.Context, key string) (*gridfs.DownloadStream, error) {
	ds, err := b.bucket.OpenDownloadStream(key)
	if errors.Is(err, gridfs.ErrFileNotFound) {
		return nil, errs.NotFoundf("blob %s not found", key)
	}
	if err != nil {
		return nil, unavailable(err, "open "+key)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = ds.SetReadDeadline(dl)
	}
	return ds, nil
}

// Delete removes key; a missing key is fine.
func (b *Blob) Delete(ctx context.Context, key string) error {
	if err := files.ValidKey(key); err != nil {
		return err
	}
	err := b.bucket.DeleteContext(ctx, key)
	if err == nil || errors.Is(err, gridfs.ErrFileNotFound) {
		return nil
	}
	return unavailable(err, "delete "+key)
}

func unavailable(err error, what string) error {
	return errs.Wrap(errs.Unavailable, err, "gridfs: "+what)
}

// object is a download stream made seekable by reopening and skipping.
type object struct {
	b    *Blob
	ctx  context.Context
	key  string
	ds   *gridfs.DownloadStream
	pos  int64
	size int64
}

func (o *object) Size() int64 { return o.size }

func (o *object) Read(p []byte) (int, error) {
	if o.pos >= o.size {
		return 0, io.EOF
	}
	n, err := o.ds.Read(p)
	o.pos += int64(n)
	if errors.Is(err, gridfs.ErrWrongIndex) || errors.Is(err, gridfs.ErrWrongSize) {
		return n, fmt.Errorf("gridfs: corrupt blob %s: %w", o.key, err)
	}
	return n, err
}

func (o *object) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = o.pos + offset
	case io.SeekEnd:
		abs = o.size + offset
	default:
		return 0, errors.New("gridfs: invalid whence")
	}
	if abs < 0 {
		return 0, errors.New("gridfs: negative position")
	}
	if abs == o.pos {
		return abs, nil
	}
	if abs < o.pos {
		_ = o.ds.Close()
		ds, err := o.b.open(o.ctx, o.key)
		if err != nil {
			return 0, err
		}
		o.ds, o.pos = ds, 0
	}
	if abs >= o.size {
		o.pos = abs
		return abs, nil
	}
	n, err := o.ds.Skip(abs - o.pos)
	o.pos += n
	if err != nil {
		return o.pos, fmt.Errorf("gridfs: seek %s: %w", o.key, err)
	}
	return o.pos, nil
}

func (o *object) Close() error { return o.ds.Close() }
