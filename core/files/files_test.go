package files_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/adapters/blob"
	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/files"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/store"
)

func TestNames(t *testing.T) {
	good := map[string]string{"合同.pdf": "合同.pdf", "a b.txt": "a b.txt", ".env": ".env", "con.txt.bak": ""}
	for in := range good {
		if in == "con.txt.bak" {
			continue
		}
		if got, err := files.CleanFileName(in); err != nil || got != in {
			t.Errorf("CleanFileName(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", ".", "..", "../x", "a/b", `a\b`, "/abs", `C:\x`, "C:x", "a\x00b", "a\nb", "CON", "con.txt",
		"Lpt9.doc", "COM¹", "x.", "x ", " ", "a:b", "a|b", "a<b", "\u202e.exe", strings.Repeat("a", 256), "\xff\xfe"} {
		if _, err := files.CleanFileName(in); errs.CodeOf(err) != errs.Invalid || err == nil {
			t.Errorf("CleanFileName(%q) = %v, want Invalid", in, err)
		}
	}
	folders := map[string]string{"": "/", "/": "/", "contracts": "contracts", "a/b/": "a/b", "合同/2024": "合同/2024"}
	for in, want := range folders {
		if got, err := files.CleanFolder(in); err != nil || got != want {
			t.Errorf("CleanFolder(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"/etc", "//x", "a//b", "../a", "a/..", "a/./b", `a\b`, `\\srv\share`, "C:/x", "a\x00", "aux/x",
		strings.Repeat("a", 201)} {
		if _, err := files.CleanFolder(in); errs.CodeOf(err) != errs.Invalid || err == nil {
			t.Errorf("CleanFolder(%q) = %v, want Invalid", in, err)
		}
	}
}

type env struct {
	ctx  context.Context
	st   store.Store
	svc  *files.Service
	root string
	bob  *principal.Principal
}

func newEnv(t *testing.T, st store.Store) *env {
	t.Helper()
	root := filepath.Join(t.TempDir(), "blobs")
	disk, err := blob.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	return &env{ctx: context.Background(), st: st, root: root, svc: files.New(st, disk, files.Options{MaxUpload: 1 << 16}),
		bob: &principal.Principal{Tenant: "t1", UserID: "u_bob", UserCode: "E2", DisplayName: "Bob"}}
}

func openStore(t *testing.T) store.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func blobCount(t *testing.T, root string) int {
	n := 0
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestUploadOpenDelete(t *testing.T) {
	e := newEnv(t, openStore(t))
	docs, err := e.svc.Upload(e.ctx, e.bob, files.UploadRequest{Files: []files.Upload{
		{FileName: "a.csv", Content: strings.NewReader("x,y\n1,2\n"), Size: -1},
		{FileName: "b.png", Content: bytes.NewReader([]byte("\x89PNG\r\n\x1a\n0000")), Size: -1}}, Folder: "x"})
	if err != nil || len(docs) != 2 {
		t.Fatal(err)
	}
	if docs[0]["contentType"] != "text/csv; charset=utf-8" || docs[1]["contentType"] != "image/png" {
		t.Fatalf("types: %v / %v", docs[0]["contentType"], docs[1]["contentType"])
	}
	f, err := e.svc.Open(e.ctx, e.bob, docs[0]["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f.Content)
	f.Content.Close()
	if string(b) != "x,y\n1,2\n" || f.Size != 8 || len(f.ETag) != 66 {
		t.Fatalf("open = %+v %q", f, b)
	}
	other := &principal.Principal{Tenant: "t1", UserID: "u_x"}
	if err := e.svc.Delete(e.ctx, other, docs[0]["id"].(string)); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("delete by another user: %v", err)
	}
	if err := e.svc.Delete(e.ctx, e.bob, docs[0]["id"].(string)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Open(e.ctx, e.bob, docs[0]["id"].(string)); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("open deleted: %v", err)
	}
	if n := blobCount(t, e.root); n != 1 {
		t.Fatalf("%d blobs left, want 1", n)
	}
	// too large while streaming (declared size unknown): nothing stored
	_, err = e.svc.Upload(e.ctx, e.bob, files.UploadRequest{Files: []files.Upload{
		{FileName: "big.bin", Content: bytes.NewReader(make([]byte, 1<<16+1)), Size: -1}}})
	if errs.CodeOf(err) != errs.TooLarge {
		t.Fatalf("big: %v", err)
	}
	if n := blobCount(t, e.root); n != 1 {
		t.Fatalf("%d blobs after a refused upload", n)
	}
}

// failInsert makes the metadata transaction fail.
type failInsert struct{ store.Store }

func (failInsert) Insert(context.Context, string, store.Doc) error {
	return errs.New(errs.Unavailable, "down")
}

func TestMetadataFailureRemovesBlobs(t *testing.T) {
	e := newEnv(t, failInsert{openStore(t)})
	_, err := e.svc.Upload(e.ctx, e.bob, files.UploadRequest{Files: []files.Upload{
		{FileName: "a.txt", Content: strings.NewReader("a"), Size: 1}, {FileName: "b.txt", Content: strings.NewReader("b"), Size: 1}}})
	if errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("err = %v", err)
	}
	if n := blobCount(t, e.root); n != 0 {
		t.Fatalf("%d blobs left after the failed upload", n)
	}
}

// TestUploadNext: files yielded one at a time (a streamed multipart body)
// are stored in order; form fields that follow the files still apply; a
// failure of a later part removes the blobs of the earlier ones.
func TestUploadNext(t *testing.T) {
	e := newEnv(t, openStore(t))
	parts := []string{"hello world", "second"}
	next := func(req *files.UploadRequest) (files.Upload, error) {
		if len(parts) == 0 {
			req.Folder, req.IsPublic = "late/folder", true // fields after the files
			return files.Upload{}, io.EOF
		}
		c := parts[0]
		parts = parts[1:]
		return files.Upload{FileName: c[:2] + ".txt", Content: strings.NewReader(c), Size: -1}, nil
	}
	docs, err := e.svc.Upload(e.ctx, e.bob, files.UploadRequest{Next: next})
	if err != nil || len(docs) != 2 {
		t.Fatalf("upload = %v, %v", docs, err)
	}
	if docs[0]["size"] != int64(11) || docs[0]["fileSize"] != int64(0) || docs[1]["fileName"] != "se.txt" ||
		docs[0]["folder"] != "late/folder" || docs[1]["isPublic"] != true {
		t.Fatalf("docs = %v", docs)
	}

	before := blobCount(t, e.root)
	calls := 0
	_, err = e.svc.Upload(e.ctx, e.bob, files.UploadRequest{Next: func(*files.UploadRequest) (files.Upload, error) {
		calls++
		if calls == 1 {
			return files.Upload{FileName: "a.txt", Content: strings.NewReader("a"), Size: -1}, nil
		}
		return files.Upload{}, errs.New(errs.TooLarge, "the body is over the limit")
	}})
	if errs.CodeOf(err) != errs.TooLarge {
		t.Fatalf("failing part: %v", err)
	}
	if n := blobCount(t, e.root); n != before {
		t.Fatalf("%d blobs after a failed streamed upload, want %d", n, before)
	}
	if _, err := e.svc.Upload(e.ctx, e.bob, files.UploadRequest{Next: func(*files.UploadRequest) (files.Upload, error) {
		return files.Upload{}, io.EOF
	}}); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("no files: %v", err)
	}
}
