package gridfs_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/eimshub/eimshub/adapters/blob/gridfs"
	"github.com/eimshub/eimshub/core/files/blobtest"
)

// The conformance suite against a real MongoDB (EIMSHUB_TEST_MONGO_URI).
func TestGridFSConformance(t *testing.T) {
	uri := os.Getenv("EIMSHUB_TEST_MONGO_URI")
	if uri == "" {
		t.Skip("EIMSHUB_TEST_MONGO_URI not set: no MongoDB server to test GridFS against")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	db := client.Database(fmt.Sprintf("eimshub_blobtest_%d", time.Now().UnixNano()))
	defer db.Drop(context.Background())
	b, err := gridfs.New(db, "")
	if err != nil {
		t.Fatal(err)
	}
	blobtest.Run(t, b)
}
