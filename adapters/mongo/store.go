// Package mongo is the production document store: store.Store on MongoDB
// through go.mongodb.org/mongo-driver v1.17.
//
// Layout (spec §8, the original's MongoDB row): database "EIMS" unless
// configured, one collection per entity kind, string ids stored as "_id",
// every other key of the document stored as is (records keep their fields in
// their "data" sub-document), the tenant in "corpId" and soft deletion as
// "deleteFlag": true — so an existing EIMSNext database can be read. Every
// statement is scoped by {corpId: tenant, deleteFlag: {$ne: true}}.
//
// Filters and sorts are compiled from the core query AST to typed BSON
// (compile.go); nothing a caller writes becomes an operator.
//
// Transactions (spec §8, MongoTransactionScope row) travel in the context:
// the outermost Tx starts a session and runs fn through
// session.WithTransaction with majority read and write concerns (which
// retries on TransientTransactionError and UnknownTransactionCommitResult);
// nested Tx calls join it. Transactions need a replica set (a single-node
// replica set is enough) and, like the compiled filters ($not around
// $regex, collections created inside transactions), MongoDB 4.4 or later.
// A transaction's context must not be used from several goroutines at once
// (a driver session is not safe for concurrent use).
//
// Server behaviour the adapter relies on (MongoDB 4.4+). The tests run the
// conformance suite on an embedded FerretDB v1 (adapters/mongo/mongotest)
// and, with EIMSHUB_TEST_MONGO_URI, on a real replica set; FerretDB lacks
// these, so the cases that need them run on MongoDB only:
//   - multi-document transactions (Tx);
//   - single-document atomicity of ReplaceOne's filter and replacement
//     (Update's condition is a compare-and-set; FerretDB reads then writes);
//   - the query form of $elemMatch over row fields and $ne/$not/$nor/$and/
//     $or inside $elemMatch (AnyRow; FerretDB matches nothing or refuses);
//   - createIndexes of an existing index being a no-op (EnsureIndex).
package mongo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readconcern"
	"go.mongodb.org/mongo-driver/mongo/readpref"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

var _ store.Store = (*Store)(nil)

// DefaultDatabase is the database used when none is configured (spec §8).
const DefaultDatabase = "EIMS"

// Store is the MongoDB store.Store. It is safe for concurrent use.
type Store struct {
	client *mongo.Client
	db     *mongo.Database
	owned  bool // Close disconnects the client (Open made it)

	closeOnce sync.Once
	closeErr  error
}

// Option configures Open.
type Option func(*config)

type config struct {
	client []*options.ClientOptions
}

// WithClientOptions adds driver client options applied after the URI's
// (pool sizes, timeouts, TLS, a command monitor, …).
func WithClientOptions(o *options.ClientOptions) Option {
	return func(c *config) { c.client = append(c.client, o) }
}

// Open connects to the MongoDB deployment at uri and checks that it is
// reachable. database "" means DefaultDatabase. The returned Store owns the
// client: Close disconnects it.
//
// An invalid URI is errs.Invalid; an unreachable server errs.Unavailable.
func Open(ctx context.Context, uri, database string, opts ...Option) (*Store, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	co := append([]*options.ClientOptions{options.Client().ApplyURI(uri)}, c.client...)
	if err := options.MergeClientOptions(co...).Validate(); err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "mongo: invalid connection options").WithReason("invalid_config")
	}
	client, err := mongo.Connect(ctx, co...)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "mongo: invalid connection options").WithReason("invalid_config")
	}
	if err := client.Ping(ctx, readpref.Primary()); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, errs.Wrap(errs.Unavailable, err, "mongo: server unreachable")
	}
	s := New(client, database)
	s.owned = true
	return s, nil
}

// New returns a Store on an existing client (the caller keeps owning it:
// Close does not disconnect it). database "" means DefaultDatabase.
func New(client *mongo.Client, database string) *Store {
	if database == "" {
		database = DefaultDatabase
	}
	return &Store{client: client, db: client.Database(database)}
}

// Database returns the database the store uses.
func (s *Store) Database() *mongo.Database { return s.db }

// coll returns the collection for an entity kind, rejecting names MongoDB
// would refuse or treat specially.
func (s *Store) coll(name string) (*mongo.Collection, error) {
	if err := checkColl(name); err != nil {
		return nil, err
	}
	return s.db.Collection(name), nil
}

func checkColl(name string) error {
	if name == "" || strings.ContainsAny(name, "$\x00") || strings.HasPrefix(name, "system.") || !utf8.ValidString(name) {
		return errs.Invalidf("invalid collection name %q", name).WithReason("invalid_collection")
	}
	return nil
}

// idFilter selects the tenant's live document id.
func idFilter(tenant, id string) bson.D {
	return append(bson.D{{Key: keyID, Value: id}}, scopeFilter(tenant, nil)...)
}

// Insert implements store.Store.
func (s *Store) Insert(ctx context.Context, coll string, doc store.Doc) error {
	c, err := s.coll(coll)
	if err != nil {
		return err
	}
	d, err := encodeDoc(doc, true)
	if err != nil {
		return err
	}
	_, err = c.InsertOne(ctx, d)
	return mapErr(err, "mongo: insert into "+coll)
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, coll, tenant, id string) (store.Doc, error) {
	c, err := s.coll(coll)
	if err != nil {
		return nil, err
	}
	raw, err := c.FindOne(ctx, idFilter(tenant, id)).Raw()
	if err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil, errs.NotFoundf("%s %q not found", coll, id)
		}
		return nil, mapErr(err, "mongo: get from "+coll)
	}
	return decodeDoc(raw)
}

// Find implements store.Store.
func (s *Store) Find(ctx context.Context, coll, tenant string, q query.Query) ([]store.Doc, error) {
	c, err := s.coll(coll)
	if err != nil {
		return nil, err
	}
	filter, opts, err := findArgs(tenant, q)
	if err != nil {
		return nil, err
	}
	if q.Limit == 0 {
		return []store.Doc{}, nil
	}
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return nil, mapErr(err, "mongo: find in "+coll)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	out := []store.Doc{}
	for cur.Next(ctx) {
		d, err := decodeDoc(cur.Current)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := cur.Err(); err != nil {
		return nil, mapErr(err, "mongo: find in "+coll)
	}
	return out, nil
}

// Count implements store.Store.
func (s *Store) Count(ctx context.Context, coll, tenant string, filter query.Expr) (int64, error) {
	c, err := s.coll(coll)
	if err != nil {
		return 0, err
	}
	f, err := compileFilter(filter)
	if err != nil {
		return 0, err
	}
	n, err := c.CountDocuments(ctx, scopeFilter(tenant, f))
	return n, mapErr(err, "mongo: count in "+coll)
}

// Update implements store.Store: a ReplaceOne whose filter is the live
// document AND cond; when nothing matched, a second read tells NotFound
// (absent) from Conflict (cond does not hold).
func (s *Store) Update(ctx context.Context, coll, tenant, id string, doc store.Doc, cond query.Expr) error {
	c, err := s.coll(coll)
	if err != nil {
		return err
	}
	if doc["id"] != id {
		return errs.Invalidf("document id %v does not match %q", doc["id"], id).WithReason("invalid_document")
	}
	if doc["corpId"] != tenant {
		return errs.Invalidf("document corpId %v does not match the tenant", doc["corpId"]).WithReason("invalid_document")
	}
	repl, err := encodeDoc(doc, false)
	if err != nil {
		return err
	}
	filter := idFilter(tenant, id)
	if cond != nil {
		cf, err := compileFilter(cond)
		if err != nil {
			return err
		}
		filter = append(bson.D{{Key: keyID, Value: id}}, scopeFilter(tenant, cf)...)
	}
	res, err := c.ReplaceOne(ctx, filter, repl)
	if err != nil {
		return mapErr(err, "mongo: update in "+coll)
	}
	if res.MatchedCount > 0 {
		return nil
	}
	if cond != nil {
		err := c.FindOne(ctx, idFilter(tenant, id), options.FindOne().SetProjection(bson.D{{Key: keyID, Value: int32(1)}})).Err()
		switch {
		case err == nil:
			return errs.Conflictf("%s %q does not match the update condition", coll, id).WithReason("condition_failed")
		case !errors.Is(err, mongo.ErrNoDocuments):
			return mapErr(err, "mongo: update in "+coll)
		}
	}
	return errs.NotFoundf("%s %q not found", coll, id)
}

// Delete implements store.Store (soft delete).
func (s *Store) Delete(ctx context.Context, coll, tenant, id string) error {
	c, err := s.coll(coll)
	if err != nil {
		return err
	}
	res, err := c.UpdateOne(ctx, idFilter(tenant, id),
		bson.D{{Key: "$set", Value: bson.D{{Key: keyDeleted, Value: true}}}})
	if err != nil {
		return mapErr(err, "mongo: delete from "+coll)
	}
	if res.MatchedCount == 0 {
		return errs.NotFoundf("%s %q not found", coll, id)
	}
	return nil
}

// txKey carries the running transaction in a context.
type txKey struct{}

// txState is one attempt of a transaction. An error returned by a nested Tx
// dooms the whole transaction even if the outer fn swallows it (the same
// rule as the embedded store).
type txState struct {
	client *mongo.Client
	mu     sync.Mutex
	failed error
}

func (t *txState) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failed == nil {
		t.failed = err
	}
}

func (t *txState) err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

// fnError marks the error fn returned, to tell it from the driver's. Its
// Unwrap keeps the error labels of a driver error fn passed on visible to
// WithTransaction's retry loop.
type fnError struct{ err error }

func (e *fnError) Error() string { return e.err.Error() }
func (e *fnError) Unwrap() error { return e.err }

// txOptions: majority read and write concerns, as MongoTransactionScope.
func txOptions() *options.TransactionOptions {
	return options.Transaction().
		SetReadConcern(readconcern.Majority()).
		SetWriteConcern(writeconcern.Majority()).
		SetReadPreference(readpref.Primary())
}

// Tx implements store.Store. fn may run more than once when the server
// reports a transient transaction error; a panic in fn propagates after the
// transaction is aborted.
func (s *Store) Tx(ctx context.Context, fn func(ctx context.Context) error) error {
	if st, ok := ctx.Value(txKey{}).(*txState); ok && st.client == s.client && mongo.SessionFromContext(ctx) != nil {
		if err := fn(ctx); err != nil {
			st.fail(err)
			return err
		}
		return nil
	}
	sess, err := s.client.StartSession()
	if err != nil {
		return mapErr(err, "mongo: start session")
	}
	// EndSession aborts a transaction still running (fn panicked).
	defer sess.EndSession(context.WithoutCancel(ctx))
	_, err = sess.WithTransaction(ctx, func(sc mongo.SessionContext) (any, error) {
		st := &txState{client: s.client}
		err := fn(context.WithValue(sc, txKey{}, st))
		if err == nil {
			err = st.err()
		}
		if err != nil {
			return nil, &fnError{err}
		}
		return nil, nil
	}, txOptions())
	if err == nil {
		return nil
	}
	if fe, ok := errors.AsType[*fnError](err); ok {
		return fe.err // fn's own error, unchanged
	}
	return mapErr(err, "mongo: transaction")
}

// EnsureIndex implements store.Store: one ascending index {corpId: 1,
// <path>: 1} per path, named after its keys ("corpId_1_data.amount_1", the
// driver's default spelling), so repeated calls are no-ops.
func (s *Store) EnsureIndex(ctx context.Context, coll string, paths []query.Path) error {
	c, err := s.coll(coll)
	if err != nil {
		return err
	}
	var models []mongo.IndexModel
	seen := map[string]bool{keyTenant: true}
	for _, p := range paths {
		key, err := fieldKey(p, true)
		if err != nil {
			return err
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		models = append(models, mongo.IndexModel{
			Keys:    bson.D{{Key: keyTenant, Value: int32(1)}, {Key: key, Value: int32(1)}},
			Options: options.Index().SetName(indexName(key)),
		})
	}
	if len(models) == 0 {
		return nil
	}
	_, err = c.Indexes().CreateMany(ctx, models)
	if err == nil || !hasCode(err, codeIndexOptionsConflict) {
		return mapErr(err, "mongo: create indexes on "+coll)
	}
	// The same keys are already indexed under another name: create the
	// others one by one.
	for _, m := range models {
		if _, err := c.Indexes().CreateOne(ctx, m); err != nil && !hasCode(err, codeIndexOptionsConflict) {
			return mapErr(err, "mongo: create index on "+coll)
		}
	}
	return nil
}

// maxIndexName keeps index names well below the server's limits.
const maxIndexName = 100

func indexName(key string) string {
	name := keyTenant + "_1_" + key + "_1"
	if len(name) <= maxIndexName {
		return name
	}
	h := fnv32(name)
	cut := maxIndexName - 9
	for cut > 0 && !utf8RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + "_" + h
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

func fnv32(s string) string {
	h := fnv.New32a()
	h.Write([]byte(s))
	return fmt.Sprintf("%08x", h.Sum32())
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	return mapErr(s.client.Ping(ctx, readpref.Primary()), "mongo: ping")
}

// Close implements store.Store. It disconnects the client only when Open
// created it.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if !s.owned {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.closeErr = mapErr(s.client.Disconnect(ctx), "mongo: disconnect")
	})
	return s.closeErr
}

// Explain returns the filter and find options Find would send for q (for
// tests and debugging); nothing is sent.
func (s *Store) Explain(coll, tenant string, q query.Query) (bson.D, *options.FindOptions, error) {
	if err := checkColl(coll); err != nil {
		return nil, nil, err
	}
	return findArgs(tenant, q)
}
