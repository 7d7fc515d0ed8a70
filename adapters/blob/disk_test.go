package blob_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/adapters/blob"
	"github.com/eimshub/eimshub/core/files/blobtest"
)

func TestDiskConformance(t *testing.T) {
	root := filepath.Join(t.TempDir(), "blobs")
	d, err := blob.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	blobtest.Run(t, d)
	// nothing was written outside the root, and no temp files are left
	err = filepath.WalkDir(filepath.Dir(root), func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && (!strings.HasPrefix(p, root+string(filepath.Separator)) || strings.HasPrefix(e.Name(), ".upload-")) {
			t.Errorf("stray file %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
