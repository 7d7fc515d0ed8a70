// Package blobtest is the conformance suite every files.Blob adapter runs.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/files"
)

// Run checks b against the Blob contract. b must be empty.
func Run(t *testing.T, b files.Blob) {
	ctx := context.Background()
	big := make([]byte, 3<<20+17) // spans several chunks / buffers
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}

	t.Run("put and read back", func(t *testing.T) {
		n, err := b.Put(ctx, "upload/t1/a.pdf", bytes.NewReader(big))
		if err != nil || n != int64(len(big)) {
			t.Fatalf("Put = %d, %v", n, err)
		}
		got := read(t, b, "upload/t1/a.pdf")
		if !bytes.Equal(got, big) {
			t.Fatalf("read back %d bytes, differ", len(got))
		}
	})
	t.Run("size and seek", func(t *testing.T) {
		o, err := b.Open(ctx, "upload/t1/a.pdf")
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		if o.Size() != int64(len(big)) {
			t.Fatalf("Size = %d", o.Size())
		}
		for _, off := range []int64{0, 1, 255 << 10, 1 << 20, int64(len(big)) - 5} {
			if pos, err := o.Seek(off, io.SeekStart); err != nil || pos != off {
				t.Fatalf("Seek(%d) = %d, %v", off, pos, err)
			}
			buf := make([]byte, 5)
			if _, err := io.ReadFull(o, buf); err != nil || !bytes.Equal(buf, big[off:off+5]) {
				t.Fatalf("read at %d: %v", off, err)
			}
		}
		if pos, err := o.Seek(-3, io.SeekEnd); err != nil || pos != int64(len(big))-3 {
			t.Fatalf("SeekEnd = %d, %v", pos, err)
		}
		rest, err := io.ReadAll(o)
		if err != nil || !bytes.Equal(rest, big[len(big)-3:]) {
			t.Fatalf("tail = %v, %v", rest, err)
		}
		if pos, err := o.Seek(0, io.SeekCurrent); err != nil || pos != int64(len(big)) {
			t.Fatalf("SeekCurrent = %d, %v", pos, err)
		}
		if _, err := o.Seek(-1, io.SeekStart); err == nil {
			t.Fatal("negative seek succeeded")
		}
	})
	t.Run("overwrite", func(t *testing.T) {
		if _, err := b.Put(ctx, "upload/t1/a.pdf", bytes.NewReader([]byte("short"))); err != nil {
			t.Fatal(err)
		}
		if got := read(t, b, "upload/t1/a.pdf"); string(got) != "short" {
			t.Fatalf("after overwrite: %q", got)
		}
	})
	t.Run("empty object", func(t *testing.T) {
		if n, err := b.Put(ctx, "upload/t1/empty", bytes.NewReader(nil)); err != nil || n != 0 {
			t.Fatalf("Put = %d, %v", n, err)
		}
		if got := read(t, b, "upload/t1/empty"); len(got) != 0 {
			t.Fatalf("empty read %d bytes", len(got))
		}
	})
	t.Run("failed put stores nothing", func(t *testing.T) {
		_, err := b.Put(ctx, "upload/t1/broken", io.MultiReader(bytes.NewReader(big[:1000]), errReader{}))
		if err == nil {
			t.Fatal("Put of a failing reader succeeded")
		}
		if _, err := b.Open(ctx, "upload/t1/broken"); errs.CodeOf(err) != errs.NotFound || err == nil {
			t.Fatalf("Open after failed Put: %v", err)
		}
	})
	t.Run("missing and delete", func(t *testing.T) {
		if _, err := b.Open(ctx, "upload/t1/none"); errs.CodeOf(err) != errs.NotFound || err == nil {
			t.Fatalf("Open(missing) = %v, want NotFound", err)
		}
		if err := b.Delete(ctx, "upload/t1/a.pdf"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Open(ctx, "upload/t1/a.pdf"); errs.CodeOf(err) != errs.NotFound || err == nil {
			t.Fatalf("Open(deleted) = %v", err)
		}
		if err := b.Delete(ctx, "upload/t1/a.pdf"); err != nil {
			t.Fatalf("second Delete = %v", err)
		}
	})
	t.Run("hostile keys are refused", func(t *testing.T) {
		for _, k := range []string{"", "../x", "a/../../x", "/etc/passwd", "a//b", "a\\b", ".hidden", "a/\x00b", "C:/x"} {
			if _, err := b.Put(ctx, k, bytes.NewReader([]byte("x"))); errs.CodeOf(err) != errs.Invalid || err == nil {
				t.Errorf("Put(%q) = %v, want Invalid", k, err)
			}
			if _, err := b.Open(ctx, k); err == nil {
				t.Errorf("Open(%q) succeeded", k)
			}
		}
	})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("client went away") }

func read(t *testing.T, b files.Blob, key string) []byte {
	t.Helper()
	o, err := b.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	got, err := io.ReadAll(o)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
