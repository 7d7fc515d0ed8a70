package mongo

import (
	"context"
	"os"
	"testing"

	"go.mongodb.org/mongo-driver/mongo"

	"github.com/eimshub/eimshub/adapters/mongo/mongotest"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/store/storetest"
)

// uriEnv names a real MongoDB deployment. It must be a replica set (a
// single-node one is enough) for transactions, e.g.
// mongodb://localhost:27017/?replicaSet=rs0.
const uriEnv = mongotest.URIEnv

// ferret is the embedded FerretDB every server-backed test of this binary
// shares (each test on its own database).
var ferret *mongotest.Server

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m, &ferret)) }

// server is one deployment the server-backed tests run on.
type server struct {
	name   string
	client *mongo.Client
	noTx   string              // why transactional behaviours are skipped ("" = run them)
	skip   func(string) string // storetest.Options.Skip
}

// servers returns the embedded FerretDB and, when uriEnv is set, the real
// MongoDB deployment. The test output names each.
func servers(t *testing.T) []server {
	t.Helper()
	out := []server{{name: "FerretDB", client: ferret.Connect(t), noTx: mongotest.NoTransactions, skip: ferretSkip}}
	if c := mongotest.Real(t); c != nil {
		out = append(out, server{name: "MongoDB", client: c})
	} else {
		t.Log(uriEnv + " not set: running on the embedded FerretDB only (no multi-document transactions there)")
	}
	return out
}

// freshStore returns a store on a new database, dropped at cleanup.
func freshStore(t *testing.T, client *mongo.Client) *Store {
	t.Helper()
	return New(client, mongotest.Database(t, client, "eimshub_test").Name())
}

func TestConformance(t *testing.T) {
	for _, srv := range servers(t) {
		t.Run(srv.name, func(t *testing.T) {
			storetest.RunWith(t, func(t *testing.T) store.Store { return freshStore(t, srv.client) },
				storetest.Options{NoTx: srv.noTx, Skip: srv.skip})
		})
	}
}

// TestServerAcceptsCompiledFilters sends every filter shape of
// filterCases to a server: the operator documents (notably the operator
// form of $elemMatch) must be accepted.
func TestServerAcceptsCompiledFilters(t *testing.T) {
	for _, srv := range servers(t) {
		t.Run(srv.name, func(t *testing.T) {
			s := freshStore(t, srv.client)
			ctx := context.Background()
			if err := s.Insert(ctx, "formdata", store.Doc{"id": "a", "corpId": "t1",
				"data": map[string]any{"tags": []any{"a", "b"}, "items": []any{map[string]any{"qty": 11.0}}}}); err != nil {
				t.Fatal(err)
			}
			for _, tc := range filterCases {
				if srv.skip != nil && !ferretFilterOK(tc.filter) {
					continue // ferretElemMatch
				}
				if _, err := s.Find(ctx, "formdata", "t1", query.Query{Filter: tc.filter, Limit: -1}); err != nil {
					t.Errorf("%s: %v", tc.name, err)
				}
			}
		})
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

	uris := []string{ferret.URI}
	if u := os.Getenv(uriEnv); u != "" {
		uris = append(uris, u)
	}
	for _, uri := range uris {
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
}
