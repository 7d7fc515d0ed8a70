package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/eimshub/eimshub/core/store"
)

// TestFilesArePrivate: the database file (which holds every tenant's data
// and the hashed secrets) and its WAL and shared-memory files are created
// 0600 and a created directory 0700, whatever the umask allows (issue 10:
// eimshub.db was created 0644).
func TestFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "eimshub.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A write, so that the WAL and its index exist.
	if err := s.Insert(context.Background(), "tenant", store.Doc{"id": "t1", "corpId": ""}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600, dir: 0o700} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", filepath.Base(name), got, want)
		}
	}
}
