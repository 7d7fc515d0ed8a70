package gridfs_test

import (
	"os"
	"testing"

	"go.mongodb.org/mongo-driver/mongo"

	"github.com/eimshub/eimshub/adapters/blob/gridfs"
	"github.com/eimshub/eimshub/adapters/mongo/mongotest"
	"github.com/eimshub/eimshub/core/files/blobtest"
)

// ferret is the embedded FerretDB the tests of this binary share.
var ferret *mongotest.Server

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m, &ferret)) }

// The conformance suite against the embedded FerretDB and, when
// EIMSHUB_TEST_MONGO_URI is set, a real MongoDB.
func TestGridFSConformance(t *testing.T) {
	t.Run("FerretDB", func(t *testing.T) {
		run(t, mongotest.Database(t, ferret.Connect(t), "eimshub_blobtest"))
	})
	t.Run("MongoDB", func(t *testing.T) {
		c := mongotest.Real(t)
		if c == nil {
			t.Skip(mongotest.URIEnv + " not set: GridFS ran on the embedded FerretDB only")
		}
		run(t, mongotest.Database(t, c, "eimshub_blobtest"))
	})
}

func run(t *testing.T, db *mongo.Database) {
	t.Helper()
	b, err := gridfs.New(db, "")
	if err != nil {
		t.Fatal(err)
	}
	blobtest.Run(t, b)
}
