// Package sqlite is the embedded default document store: store.Store on a
// single SQLite file through the pure-Go driver modernc.org/sqlite (no cgo).
//
// Layout: one table per collection, created on first use, named "c_<coll>":
//
//	id TEXT PRIMARY KEY, corp_id TEXT, deleted INTEGER, doc BLOB (JSONB)
//
// The whole document is kept in doc (SQLite's binary JSON, so paths are read
// without re-parsing); id, tenant and the soft-delete flag are also columns
// so every statement can be scoped by an index. Filters and sorts compile to
// json_extract over doc (compile.go), and EnsureIndex builds expression
// indexes on exactly those expressions. Documents are read as stored and
// decoded from JSONB in Go (jsonb.go), and Get is served from a document
// cache while nothing has been committed since the read (doccache.go).
//
// Transactions (spec §8, MongoTransactionScope row) travel in the context:
// the outermost Tx begins an IMMEDIATE transaction (retried while the
// database is busy), nested Tx calls join it, and every Store method called
// with that context uses it. A nested Tx that fails aborts the whole
// transaction even if the outer fn swallows the error. Inside fn, always
// pass fn's context: a write made with another context waits for the
// transaction's lock and fails Unavailable after the busy timeout.
package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

var _ store.Store = (*Store)(nil)

// Store is the SQLite store.Store. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	opts options

	tables  sync.Map // collection name → struct{}: table and base indexes exist
	indexes sync.Map // index name → struct{}: created

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared statements by SQL text

	// docs caches the documents Get reads (doccache.go); nil when off. wal
	// reads the committed state's version, pin holds one connection open
	// for the store's life so the WAL index it maps stays in place.
	docs *docCache
	wal  *walVersion
	pin  *sql.Conn

	// writer is the store's write gate (writegate.go): one writer of this
	// process at a time, in arrival order, before SQLite's write lock.
	writer writeGate
}

type options struct {
	busyTimeout time.Duration
	maxConns    int
	beginTries  int
	partitions  map[string]query.Path
	docCache    int
}

// Option configures Open.
type Option func(*options)

// WithBusyTimeout sets how long a statement waits for another writer's lock
// before failing. Default: 10s.
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// WithMaxConns caps the connection pool (all kept open). Default: 64.
//
// The pool must not be the queue: database/sql hands a released connection
// to a random waiter (Go 1.23+), so requests waiting for a connection are
// served out of order and the wait lands in the tail (p99). In WAL mode
// readers do not block each other or the writer, and a connection costs
// little until it caches pages, so the default is sized above the
// concurrency a hub serves (the load benchmark's 32 connections, each
// request reading the store a few times): requests queue on the CPUs —
// fairly, in the Go scheduler — not on the pool. Writers still serialise
// on SQLite's write lock (BEGIN IMMEDIATE, busy timeout).
func WithMaxConns(n int) Option { return func(o *options) { o.maxConns = n } }

// WithDocCache sets the byte budget of the document cache (doccache.go),
// which serves Get from memory while nothing has been committed since the
// document was read; 0 turns it off. Default: 16 MiB.
func WithDocCache(bytes int) Option { return func(o *options) { o.docCache = bytes } }

// DefaultDocCache is the default budget of the document cache.
const DefaultDocCache = 16 << 20

// WithPartition declares that queries on coll are (almost) always filtered
// by key equality, so every index EnsureIndex builds on coll leads with it
// after the tenant. Default: "formdata" is partitioned by "formId".
func WithPartition(coll string, key query.Path) Option {
	return func(o *options) { o.partitions[coll] = key }
}

// Open opens (creating it and its parent directory when missing) the
// database file at path, in WAL mode.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{
		busyTimeout: 10 * time.Second,
		maxConns:    64,
		beginTries:  4,
		partitions:  map[string]query.Path{"formdata": {"formId"}},
		docCache:    DefaultDocCache,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, errs.Invalidf("sqlite: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "sqlite: database path")
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "sqlite: create database directory")
	}
	if err := createPrivate(abs); err != nil {
		return nil, err
	}
	// SQLite names the WAL index after the path it is given; give it the
	// real one, so the document cache maps the same "-shm" file.
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q.Set("_busy_timeout", strconv.FormatInt(o.busyTimeout.Milliseconds(), 10))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "temp_store(MEMORY)")
	// The file: URI form lets any file name through (percent-encoded).
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "sqlite: open")
	}
	db.SetMaxOpenConns(o.maxConns)
	db.SetMaxIdleConns(o.maxConns)
	s := &Store{db: db, opts: o, stmts: map[string]*sql.Stmt{}, writer: newWriteGate()}
	if err := s.Ping(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	if o.docCache > 0 {
		s.openDocCache(ctx, abs, o.docCache)
	}
	return s, nil
}

// openDocCache pins a connection that has read the database (so the WAL
// index exists and stays mapped) and maps the index's header; when that
// fails the store runs without the cache.
func (s *Store) openDocCache(ctx context.Context, path string, budget int) {
	pin, err := s.db.Conn(ctx)
	if err != nil {
		return
	}
	var n int
	if err := pin.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		_ = pin.Close()
		return
	}
	w := openWALVersion(path)
	if _, ok := w.current(); !ok {
		w.close()
		_ = pin.Close()
		return
	}
	s.pin, s.wal, s.docs = pin, w, newDocCache(budget)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return mapErr(err, "sqlite: ping")
	}
	return nil
}

// Close closes the database (after refreshing planner statistics where
// SQLite thinks they are stale). Transactions in flight fail.
func (s *Store) Close() error {
	_, _ = s.db.Exec("PRAGMA optimize") // best effort
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		_ = st.Close()
	}
	s.stmts = map[string]*sql.Stmt{}
	s.stmtMu.Unlock()
	if s.pin != nil {
		_ = s.pin.Close()
		s.wal.close()
	}
	if err := s.db.Close(); err != nil {
		return mapErr(err, "sqlite: close")
	}
	return nil
}

// maxStmts bounds the prepared-statement cache. Statement texts depend only
// on the collection and the filter's shape (values are bound), so a busy
// hub reuses a small set of them.
const maxStmts = 512

// runner runs statements on the transaction a context carries, or on the
// pool, through the prepared-statement cache.
type runner struct {
	s  *Store
	st *txState // nil outside a transaction
}

// stmt returns the cached prepared statement for text, bound to the
// transaction when there is one; release it with done.
func (r runner) stmt(ctx context.Context, text string) (stmt *sql.Stmt, done func(), err error) {
	s := r.s
	s.stmtMu.Lock()
	ps, ok := s.stmts[text]
	s.stmtMu.Unlock()
	if !ok {
		if ps, err = s.db.PrepareContext(ctx, text); err != nil {
			if r.st == nil {
				return nil, nil, err
			}
			// E.g. a table created by this uncommitted transaction: prepare
			// on the transaction's connection, once.
			ts, err := r.st.tx.PrepareContext(ctx, text)
			if err != nil {
				return nil, nil, err
			}
			return ts, func() { _ = ts.Close() }, nil
		}
		s.stmtMu.Lock()
		switch prev, dup := s.stmts[text]; {
		case dup:
			_ = ps.Close()
			ps = prev
		case len(s.stmts) < maxStmts:
			s.stmts[text] = ps
		default:
			s.stmtMu.Unlock()
			// Cache full: a one-off statement.
			if r.st != nil {
				defer ps.Close()
				return r.st.tx.StmtContext(ctx, ps), func() {}, nil
			}
			return ps, func() { _ = ps.Close() }, nil
		}
		s.stmtMu.Unlock()
	}
	if r.st != nil {
		ts := r.st.tx.StmtContext(ctx, ps)
		return ts, func() { _ = ts.Close() }, nil
	}
	return ps, func() {}, nil
}

func (r runner) exec(ctx context.Context, text string, args ...any) (sql.Result, error) {
	st, done, err := r.stmt(ctx, text)
	if err != nil {
		return nil, err
	}
	defer done()
	if r.st == nil { // an autocommit write: through the gate
		if err := r.s.writer.enter(ctx, r.s.opts.busyTimeout); err != nil {
			return nil, err
		}
		defer r.s.writer.leave()
	}
	return st.ExecContext(ctx, args...)
}

// query runs text and calls row for each result row.
func (r runner) query(ctx context.Context, text string, args []any, row func(*sql.Rows) error) error {
	st, done, err := r.stmt(ctx, text)
	if err != nil {
		return err
	}
	defer done()
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// queryRow scans the first row of text into dest; sql.ErrNoRows when none.
func (r runner) queryRow(ctx context.Context, text string, args []any, dest ...any) error {
	found := false
	err := r.query(ctx, text, args, func(rows *sql.Rows) error {
		if found {
			return nil
		}
		found = true
		return rows.Scan(dest...)
	})
	if err == nil && !found {
		err = sql.ErrNoRows
	}
	return err
}

// ddl runs a schema statement (not cached).
func (r runner) ddl(ctx context.Context, text string) error {
	var err error
	if r.st != nil {
		_, err = r.st.tx.ExecContext(ctx, text)
	} else {
		if err := r.s.writer.enter(ctx, r.s.opts.busyTimeout); err != nil {
			return err
		}
		defer r.s.writer.leave()
		_, err = r.s.db.ExecContext(ctx, text)
	}
	return err
}

type txKey struct{}

// txState is the transaction a context carries.
type txState struct {
	owner *Store
	tx    *sql.Tx

	mu        sync.Mutex
	failed    error    // a nested Tx's error: the whole transaction rolls back
	newTables []string // created inside the transaction; known after commit
}

func (s *Store) txFrom(ctx context.Context) *txState {
	st, _ := ctx.Value(txKey{}).(*txState)
	if st == nil || st.owner != s {
		return nil
	}
	return st
}

// run returns the runner for ctx: its transaction, or the pool.
func (s *Store) run(ctx context.Context) runner { return runner{s: s, st: s.txFrom(ctx)} }

// Tx runs fn in a transaction carried by the context fn receives. Nested
// calls join the outer transaction; an error from any level (even one the
// outer fn swallows) or a panic rolls the whole transaction back.
func (s *Store) Tx(ctx context.Context, fn func(ctx context.Context) error) error {
	if st := s.txFrom(ctx); st != nil {
		if err := fn(ctx); err != nil {
			st.mu.Lock()
			if st.failed == nil {
				st.failed = err
			}
			st.mu.Unlock()
			return err
		}
		return nil
	}
	if err := s.writer.enter(ctx, s.opts.busyTimeout); err != nil {
		return err
	}
	defer s.writer.leave() // after the commit or the rollback below
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	st := &txState{owner: s, tx: tx}
	done := false
	defer func() {
		if !done { // fn failed or panicked (the panic keeps unwinding)
			_ = tx.Rollback()
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{}, st)); err != nil {
		return err
	}
	st.mu.Lock()
	failed := st.failed
	st.mu.Unlock()
	if failed != nil {
		return failed
	}
	done = true
	if err := tx.Commit(); err != nil {
		return mapErr(err, "sqlite: commit")
	}
	for _, t := range st.newTables {
		s.tables.Store(t, struct{}{})
	}
	return nil
}

// begin starts an IMMEDIATE transaction, retrying while the database stays
// busy beyond the busy timeout.
func (s *Store) begin(ctx context.Context) (*sql.Tx, error) {
	var err error
	for i := 0; i < s.opts.beginTries; i++ {
		var tx *sql.Tx
		tx, err = s.db.BeginTx(ctx, nil)
		if err == nil {
			return tx, nil
		}
		if !busy(err) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, mapErr(ctx.Err(), "sqlite: begin")
		case <-time.After(time.Duration(i+1) * 20 * time.Millisecond):
		}
	}
	return nil, mapErr(err, "sqlite: begin")
}

var collName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,62}$`)

// table returns the quoted table of coll, creating it on first use.
func (s *Store) table(ctx context.Context, r runner, coll string) (string, error) {
	if !collName.MatchString(coll) {
		return "", errs.Invalidf("sqlite: invalid collection name %q", coll)
	}
	name := `"c_` + coll + `"`
	if _, ok := s.tables.Load(coll); ok {
		return name, nil
	}
	// Every index ends with id, the final sort key, so a tenant's (or a
	// partition's) documents come out of it already in id order.
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS ` + name + ` (
			id TEXT PRIMARY KEY NOT NULL,
			corp_id TEXT NOT NULL,
			deleted INTEGER NOT NULL DEFAULT 0,
			doc BLOB NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS "c_` + coll + `__tenant" ON ` + name + ` (corp_id, deleted, id)`,
	}
	if key, ok := s.opts.partitions[coll]; ok {
		lit, err := pathLiteral(key)
		if err != nil {
			return "", err
		}
		stmts = append(stmts, `CREATE INDEX IF NOT EXISTS "c_`+coll+`__part" ON `+name+
			` (corp_id, deleted, json_extract(doc, `+lit+`), id)`)
	}
	for _, stmt := range stmts {
		if err := r.ddl(ctx, stmt); err != nil {
			return "", mapErr(err, "sqlite: create collection "+coll)
		}
	}
	if r.st == nil {
		s.tables.Store(coll, struct{}{})
	} else {
		r.st.mu.Lock()
		r.st.newTables = append(r.st.newTables, coll)
		r.st.mu.Unlock()
	}
	return name, nil
}

func docString(doc store.Doc, key string) (string, bool) {
	v, ok := doc[key].(string)
	return v, ok
}

func deletedFlag(doc store.Doc) int {
	if b, _ := doc["deleteFlag"].(bool); b {
		return 1
	}
	return 0
}

// Insert stores doc; an existing id in coll (any tenant, deleted or not) is
// a Conflict.
func (s *Store) Insert(ctx context.Context, coll string, doc store.Doc) error {
	id, ok := docString(doc, "id")
	if !ok || id == "" {
		return errs.Invalidf("sqlite: insert into %s: document has no string id", coll)
	}
	corp, ok := docString(doc, "corpId")
	if !ok {
		return errs.Invalidf("sqlite: insert into %s: document has no string corpId", coll)
	}
	body, err := encodeDoc(doc)
	if err != nil {
		return err
	}
	r := s.run(ctx)
	t, err := s.table(ctx, r, coll)
	if err != nil {
		return err
	}
	_, err = r.exec(ctx, `INSERT INTO `+t+` (id, corp_id, deleted, doc) VALUES (?, ?, ?, jsonb(?))`,
		id, corp, deletedFlag(doc), body)
	return mapErr(err, "sqlite: insert into "+coll)
}

// Get returns the tenant's live document id. Outside a transaction it is
// served from the document cache while nothing has been committed since
// the document was read (doccache.go).
func (s *Store) Get(ctx context.Context, coll, tenant, id string) (store.Doc, error) {
	r := s.run(ctx)
	t, err := s.table(ctx, r, coll)
	if err != nil {
		return nil, err
	}
	var (
		key   string
		ver   walHdr
		cache bool
	)
	if r.st == nil && s.docs != nil {
		key = docKey{coll, tenant, id}.String()
		if ver, cache = s.wal.current(); cache {
			if e, ok := s.docs.get(key, ver); ok {
				if d, ok := decodeJSONBShared(e.blobs[0]); ok {
					return d, nil
				}
			}
		}
	}
	var (
		doc   store.Doc
		found bool
		slow  []byte // a document decodeJSONB does not read
	)
	err = r.query(ctx, `SELECT doc FROM `+t+` WHERE id = ? AND corp_id = ? AND deleted = 0`,
		[]any{id, tenant}, func(rows *sql.Rows) error {
			if found {
				return nil
			}
			found = true
			if !cache {
				var err error
				doc, slow, err = scanDoc(rows)
				return err
			}
			var raw sql.RawBytes
			if err := rows.Scan(&raw); err != nil {
				return err
			}
			blob := bytes.Clone(raw)
			var ok bool
			if doc, ok = decodeJSONBShared(blob); ok {
				s.docs.put(key, docEntry{ver: ver, blobs: [][]byte{blob}})
			} else {
				slow = blob
			}
			return nil
		})
	if err == nil && !found {
		return nil, errs.NotFoundf("%s %s not found", coll, id)
	}
	if err == nil && slow != nil {
		doc, err = r.decodeSlow(ctx, slow)
	}
	if err != nil {
		return nil, mapErr(err, "sqlite: get from "+coll)
	}
	return doc, nil
}

// scanDoc reads the doc column of the current row and decodes it straight
// from JSONB (jsonb.go). A document that decoder does not read comes back
// as a copy of its bytes, for decodeSlow once the statement is done.
func scanDoc(rows *sql.Rows) (store.Doc, []byte, error) {
	var raw sql.RawBytes // the driver's buffer: valid until Next
	if err := rows.Scan(&raw); err != nil {
		return nil, nil, err
	}
	if d, ok := decodeJSONB(raw); ok {
		return d, nil, nil
	}
	return nil, append([]byte{}, raw...), nil
}

// decodeSlow decodes a stored document through SQLite's json() (which reads
// every JSONB form, and JSON text) and decodeDoc.
func (r runner) decodeSlow(ctx context.Context, raw []byte) (store.Doc, error) {
	var text []byte
	if err := r.queryRow(ctx, `SELECT json(?)`, []any{raw}, &text); err != nil {
		return nil, err
	}
	return decodeDoc(text)
}

// findSQL compiles a Find.
func findSQL(table, tenant string, q query.Query) (string, []any, error) {
	var c compiler
	where, err := c.where(tenant, q.Filter)
	if err != nil {
		return "", nil, err
	}
	order, err := orderBy(q.Sort)
	if err != nil {
		return "", nil, err
	}
	limit, offset := int64(q.Limit), int64(q.Offset)
	if limit < 0 {
		limit = -1
	}
	if offset < 0 {
		offset = 0
	}
	sqlText := "SELECT doc FROM " + table + " WHERE " + where + " ORDER BY " + order +
		" LIMIT " + c.bind(limit) + " OFFSET " + c.bind(offset)
	return sqlText, c.args, nil
}

// Explain returns the SQL and arguments Find would run (for tests and
// diagnostics). It does not touch the database.
func (s *Store) Explain(coll, tenant string, q query.Query) (sqlText string, args []any, err error) {
	if !collName.MatchString(coll) {
		return "", nil, errs.Invalidf("sqlite: invalid collection name %q", coll)
	}
	return findSQL(`"c_`+coll+`"`, tenant, q)
}

// Find returns the tenant's documents matching q, in q's order then id.
func (s *Store) Find(ctx context.Context, coll, tenant string, q query.Query) ([]store.Doc, error) {
	r := s.run(ctx)
	t, err := s.table(ctx, r, coll)
	if err != nil {
		return nil, err
	}
	sqlText, args, err := findSQL(t, tenant, q)
	if err != nil {
		return nil, err
	}
	out := []store.Doc{}
	if q.Limit == 0 {
		return out, nil
	}
	var (
		key   string
		ver   walHdr
		cache bool
	)
	if r.st == nil && s.docs != nil {
		if key, cache = queryKey("f", sqlText, args); cache {
			if ver, cache = s.wal.current(); cache {
				if e, ok := s.docs.get(key, ver); ok {
					if docs, ok := decodeAll(e.blobs); ok {
						return docs, nil
					}
				}
			}
		}
	}
	if q.Limit > 0 {
		out = make([]store.Doc, 0, min(q.Limit, 256))
	}
	var (
		slow  map[int][]byte // row → a document decodeJSONB does not read
		blobs [][]byte       // the rows' bytes, for the cache
	)
	err = r.query(ctx, sqlText, args, func(rows *sql.Rows) error {
		if !cache {
			d, raw, err := scanDoc(rows)
			if err != nil {
				return err
			}
			if raw != nil {
				if slow == nil {
					slow = map[int][]byte{}
				}
				slow[len(out)] = raw
			}
			out = append(out, d)
			return nil
		}
		var raw sql.RawBytes
		if err := rows.Scan(&raw); err != nil {
			return err
		}
		blob := bytes.Clone(raw)
		d, ok := decodeJSONBShared(blob)
		if !ok {
			if slow == nil {
				slow = map[int][]byte{}
			}
			slow[len(out)] = blob
		}
		out = append(out, d)
		blobs = append(blobs, blob)
		return nil
	})
	for i, raw := range slow {
		if err != nil {
			break
		}
		out[i], err = r.decodeSlow(ctx, raw)
	}
	if err != nil {
		return nil, mapErr(err, "sqlite: find in "+coll)
	}
	if cache && slow == nil && len(blobs) <= maxCachedRows {
		s.docs.put(key, docEntry{ver: ver, blobs: blobs})
	}
	return out, nil
}

// decodeAll decodes cached rows (decodeJSONBShared read each of them when
// they were cached).
func decodeAll(blobs [][]byte) ([]store.Doc, bool) {
	out := make([]store.Doc, len(blobs))
	for i, b := range blobs {
		d, ok := decodeJSONBShared(b)
		if !ok {
			return nil, false
		}
		out[i] = d
	}
	return out, true
}

// Count returns how many of the tenant's live documents match filter.
func (s *Store) Count(ctx context.Context, coll, tenant string, filter query.Expr) (int64, error) {
	r := s.run(ctx)
	t, err := s.table(ctx, r, coll)
	if err != nil {
		return 0, err
	}
	var c compiler
	where, err := c.where(tenant, filter)
	if err != nil {
		return 0, err
	}
	text := "SELECT count(*) FROM " + t + " WHERE " + where
	var (
		key   string
		ver   walHdr
		cache bool
	)
	if r.st == nil && s.docs != nil {
		if key, cache = queryKey("c", text, c.args); cache {
			if ver, cache = s.wal.current(); cache {
				if e, ok := s.docs.get(key, ver); ok {
					return e.n, nil
				}
			}
		}
	}
	var n int64
	if err := r.queryRow(ctx, text, c.args, &n); err != nil {
		return 0, mapErr(err, "sqlite: count in "+coll)
	}
	if cache {
		s.docs.put(key, docEntry{ver: ver, n: n})
	}
	return n, nil
}

// Update replaces the tenant's live document id with doc when the stored
// document matches cond. The check and the write are one statement.
func (s *Store) Update(ctx context.Context, coll, tenant, id string, doc store.Doc, cond query.Expr) error {
	d := make(store.Doc, len(doc)+2)
	for k, v := range doc {
		d[k] = v
	}
	if v, ok := d["id"]; !ok {
		d["id"] = id
	} else if v != id {
		return errs.Invalidf("sqlite: update %s %s: document id %v differs", coll, id, v)
	}
	if v, ok := d["corpId"]; !ok {
		d["corpId"] = tenant
	} else if v != tenant {
		return errs.Invalidf("sqlite: update %s %s: document corpId differs from the tenant", coll, id)
	}
	body, err := encodeDoc(d)
	if err != nil {
		return err
	}
	r := s.run(ctx)
	t, err := s.table(ctx, r, coll)
	if err != nil {
		return err
	}
	c := compiler{args: []any{body, deletedFlag(d), id}}
	where, err := c.where(tenant, cond)
	if err != nil {
		return err
	}
	res, err := r.exec(ctx, "UPDATE "+t+" SET doc = jsonb(?), deleted = ? WHERE id = ? AND "+where, c.args...)
	if err != nil {
		return mapErr(err, "sqlite: update "+coll)
	}
	if n, err := res.RowsAffected(); err != nil {
		return mapErr(err, "sqlite: update "+coll)
	} else if n == 1 {
		return nil
	}
	// Nothing changed: tell a missing document from a failed condition.
	var one int
	err = r.queryRow(ctx, "SELECT 1 FROM "+t+" WHERE id = ? AND corp_id = ? AND deleted = 0", []any{id, tenant}, &one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errs.NotFoundf("%s %s not found", coll, id)
	case err != nil:
		return mapErr(err, "sqlite: update "+coll)
	}
	return errs.Conflictf("%s %s was changed concurrently (condition failed)", coll, id).WithReason("condition_failed")
}

// Delete soft-deletes the tenant's live document id.
func (s *Store) Delete(ctx context.Context, coll, tenant, id string) error {
	r := s.run(ctx)
	t, err := s.table(ctx, r, coll)
	if err != nil {
		return err
	}
	res, err := r.exec(ctx, "UPDATE "+t+` SET deleted = 1, doc = jsonb_set(doc, '$."deleteFlag"', json('true'))
		WHERE id = ? AND corp_id = ? AND deleted = 0`, id, tenant)
	if err != nil {
		return mapErr(err, "sqlite: delete from "+coll)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(err, "sqlite: delete from "+coll)
	}
	if n == 0 {
		return errs.NotFoundf("%s %s not found", coll, id)
	}
	return nil
}

// EnsureIndex builds, for each path, two expression indexes led by the
// tenant, the soft-delete flag and the collection's partition key (if any),
// then the path's value ascending (resp. descending) and id: any equality or
// range filter on the path can use them, and so can a sort on it in either
// direction with the id-ascending tie-break, which lets a filtered, sorted
// page stop after reading about one page of rows instead of sorting every
// match. Index names are derived from a hash of the path. Idempotent.
func (s *Store) EnsureIndex(ctx context.Context, coll string, paths []query.Path) error {
	r := s.run(ctx)
	t, err := s.table(ctx, r, coll)
	if err != nil {
		return err
	}
	lead := "corp_id, deleted, "
	if key, ok := s.opts.partitions[coll]; ok {
		lit, err := pathLiteral(key)
		if err != nil {
			return err
		}
		lead += "json_extract(doc, " + lit + "), "
	}
	created := false
	for _, p := range paths {
		if col := columnFor(p); col != "" {
			continue // a column, already indexed
		}
		lit, err := pathLiteral(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256([]byte(strings.Join(p, "\x00")))
		base := fmt.Sprintf("c_%s__ix_%s", coll, hex.EncodeToString(sum[:10]))
		for _, dir := range []string{"a", "d"} {
			name := `"` + base + "_" + dir + `"`
			if _, ok := s.indexes.Load(name); ok {
				continue
			}
			order := ""
			if dir == "d" {
				order = " DESC"
			}
			stmt := "CREATE INDEX IF NOT EXISTS " + name + " ON " + t + " (" + lead + "json_extract(doc, " + lit + ")" + order + ", id)"
			if err := r.ddl(ctx, stmt); err != nil {
				return mapErr(err, "sqlite: ensure index on "+coll+"."+p.String())
			}
			if r.st == nil {
				s.indexes.Store(name, struct{}{})
			}
			created = true
		}
	}
	if created {
		// Refresh planner statistics so it can choose between indexes.
		if err := r.ddl(ctx, "PRAGMA optimize"); err != nil {
			return mapErr(err, "sqlite: optimize")
		}
	}
	return nil
}

// createPrivate creates the database file with mode 0600 before SQLite
// opens it (SQLite would create it 0644 under the usual umask), so only the
// hub's user can read the tenants' data and the hashed secrets; SQLite
// gives its -wal and -shm files the database file's mode. An existing file
// is left as it is (an operator may have chosen its mode).
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "sqlite: create database file")
	}
	return f.Close()
}
