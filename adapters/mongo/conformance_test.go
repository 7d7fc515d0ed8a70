package mongo

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/store/storetest"
)

// uriEnv names the MongoDB deployment the server-backed tests use. It must
// be a replica set (a single-node one is enough) for transactions, e.g.
// mongodb://localhost:27017/?replicaSet=rs0.
const uriEnv = "EIMSHUB_TEST_MONGO_URI"

var dbSeq atomic.Int64

// testClient connects to the server named by uriEnv, or skips the test.
func testClient(t *testing.T) *mongo.Client {
	t.Helper()
	uri := os.Getenv(uriEnv)
	if uri == "" {
		t.Skip(uriEnv + " not set: no MongoDB server on this machine")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatalf("connect %s: %v", uri, err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

// freshStore returns a store on a new database, dropped at cleanup.
func freshStore(t *testing.T, client *mongo.Client) *Store {
	t.Helper()
	name := fmt.Sprintf("eimshub_test_%d_%d", time.Now().UnixNano(), dbSeq.Add(1))
	t.Cleanup(func() { _ = client.Database(name).Drop(context.Background()) })
	return New(client, name)
}

func TestConformance(t *testing.T) {
	client := testClient(t)
	storetest.Run(t, func(t *testing.T) store.Store { return freshStore(t, client) })
}

// TestServerAcceptsCompiledFilters sends every filter shape of
// filterCases to a real server: the operator documents (notably the
// operator form of $elemMatch) must be accepted.
func TestServerAcceptsCompiledFilters(t *testing.T) {
	client := testClient(t)
	s := freshStore(t, client)
	ctx := context.Background()
	if err := s.Insert(ctx, "formdata", store.Doc{"id": "a", "corpId": "t1",
		"data": map[string]any{"tags": []any{"a", "b"}, "items": []any{map[string]any{"qty": 11.0}}}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range filterCases {
		if _, err := s.Find(ctx, "formdata", "t1", query.Query{Filter: tc.filter, Limit: -1}); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "not-a-uri", ""); errs.CodeOf(err) != errs.Invalid || err == nil {
		t.Errorf("Open(bad uri) = %v, want invalid", err)
	}
	// Nothing listens on port 1: a quick server selection failure.
	_, err := Open(ctx, "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=50&connectTimeoutMS=50", "")
	if errs.CodeOf(err) != errs.Unavailable || err == nil {
		t.Errorf("Open(unreachable) = %v, want unavailable", err)
	}

	uri := os.Getenv(uriEnv)
	if uri == "" {
		t.Skip(uriEnv + " not set: no MongoDB server on this machine")
	}
	s, err := Open(ctx, uri, "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Database().Name() != DefaultDatabase {
		t.Errorf("database %q, want %q", s.Database().Name(), DefaultDatabase)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Ping(ctx); errs.CodeOf(err) != errs.Unavailable || err == nil {
		t.Errorf("Ping after Close = %v, want unavailable", err)
	}
}
