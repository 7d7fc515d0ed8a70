// Package mongotest starts an embedded MongoDB wire-protocol server for
// tests: FerretDB v1 (github.com/FerretDB/FerretDB/ferretdb) on its SQLite
// backend, in-process, on a loopback port, with its data in a temporary
// directory. Only test code imports it; the eimshub binary never links it
// (check: go list -deps ./cmd/eimshub | grep -i ferret prints nothing).
//
// FerretDB is not MongoDB. The differences the hub's tests run into are
// named where they matter; the one that shapes the suites is that FerretDB
// v1 has no multi-document transactions (startTransaction is rejected), so
// transactional behaviours stay on the driver's mock deployment and on a
// real replica set named by EIMSHUB_TEST_MONGO_URI.
package mongotest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// URIEnv names a real MongoDB deployment (a replica set, for transactions).
// When it is set, tests use it instead of the embedded server.
const URIEnv = "EIMSHUB_TEST_MONGO_URI"

// NoTransactions is the skip message for transactional tests on FerretDB.
const NoTransactions = "FerretDB v1 has no multi-document transactions: " +
	"transactional behaviour is tested on the driver's mock deployment and on a real replica set (set " + URIEnv + ")"

// Server is a running embedded FerretDB.
type Server struct {
	URI    string
	dir    string
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs an embedded FerretDB on 127.0.0.1 (a free port) with its
// SQLite files under a new temporary directory. Stop ends it.
func Start() (*Server, error) {
	dir, err := os.MkdirTemp("", "eimshub-ferretdb-")
	if err != nil {
		return nil, fmt.Errorf("mongotest: temp dir: %w", err)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("mongotest: start FerretDB: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{dir: dir, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = f.Run(ctx)
	}()
	// MongoDBURI blocks until the listener is up.
	s.URI = f.MongoDBURI()
	return s, nil
}

// Stop ends the server and removes its files.
func (s *Server) Stop() {
	s.cancel()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
	_ = os.RemoveAll(s.dir)
}

// Connect returns a client for the server, disconnected at cleanup.
func (s *Server) Connect(t testing.TB) *mongo.Client {
	t.Helper()
	return connect(t, s.URI)
}

func connect(t testing.TB, uri string) *mongo.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatalf("mongotest: connect %s: %v", uri, err)
	}
	if err := client.Ping(ctx, nil); err != nil {
		t.Fatalf("mongotest: ping %s: %v", uri, err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

// Real connects to the deployment named by URIEnv, or returns nil when the
// variable is unset.
func Real(t testing.TB) *mongo.Client {
	t.Helper()
	uri := os.Getenv(URIEnv)
	if uri == "" {
		return nil
	}
	return connect(t, uri)
}

var dbSeq atomic.Int64

// Database returns a new database name with the given prefix; the
// database is dropped at cleanup.
func Database(t testing.TB, client *mongo.Client, prefix string) *mongo.Database {
	t.Helper()
	name := fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), dbSeq.Add(1))
	db := client.Database(name)
	t.Cleanup(func() { _ = db.Drop(context.Background()) })
	return db
}

// Main is a TestMain helper: it starts one server for the test binary,
// stores it in *srv, runs the tests and stops it.
func Main(m *testing.M, srv **Server) int {
	s, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	*srv = s
	defer s.Stop()
	return m.Run()
}
