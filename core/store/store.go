// Package store declares the document store port that every persistent core
// service uses, and that each storage adapter (adapters/sqlite, adapters/mongo)
// implements. Its behaviour is pinned by the conformance suite in
// core/store/storetest, which every adapter runs.
package store

import (
	"context"

	"github.com/eimshub/eimshub/core/query"
)

// Doc is a stored entity: a JSON-shaped map. Values are nil, bool, string,
// int64 (integral numbers, epoch-ms times, enums), float64 (other numbers),
// []any and map[string]any. Adapters return integral numbers as int64 and
// other numbers as float64, whatever the driver hands back, so documents
// look the same whichever adapter stored them.
//
// Every stored Doc carries "id" (string) and "corpId" (string, the tenant;
// "" is the system scope that holds tenants and clients). Soft-deleted
// documents carry "deleteFlag": true and are invisible to every method.
type Doc = map[string]any

// Store is the persistence port. Every method is scoped to one collection
// (an entity kind such as "formdata" or "user") and one tenant; there is no
// cross-tenant read or write.
type Store interface {
	// Insert stores doc in coll. doc["id"] and doc["corpId"] must be set.
	// An existing id in the same collection (any tenant, deleted or not)
	// → errs.Conflict.
	Insert(ctx context.Context, coll string, doc Doc) error
	// Get returns the document with id in tenant; errs.NotFound when it is
	// absent, soft-deleted or belongs to another tenant.
	Get(ctx context.Context, coll, tenant, id string) (Doc, error)
	// Find returns the tenant's documents matching q, in q's order (then id
	// ascending), paged by q.Limit and q.Offset.
	Find(ctx context.Context, coll, tenant string, q query.Query) ([]Doc, error)
	// Count returns how many of the tenant's documents match filter (nil = all).
	Count(ctx context.Context, coll, tenant string, filter query.Expr) (int64, error)
	// Update replaces the stored document id with doc (which keeps the same
	// "id" and "corpId"), provided the stored document matches cond (nil =
	// unconditionally). errs.NotFound when it is absent, deleted or in
	// another tenant; errs.Conflict when cond does not hold. This is the
	// compare-and-set that optimistic concurrency and workflow decisions use.
	Update(ctx context.Context, coll, tenant, id string, doc Doc, cond query.Expr) error
	// Delete soft-deletes the document (sets "deleteFlag": true);
	// errs.NotFound when it is absent, already deleted or in another tenant.
	Delete(ctx context.Context, coll, tenant, id string) error
	// Tx runs fn in a transaction carried by the context fn receives: every
	// Store call made with that context joins it. Nested Tx calls join the
	// outer transaction (only the outermost commits). fn's error, or a panic,
	// rolls everything back; the error is returned.
	Tx(ctx context.Context, fn func(ctx context.Context) error) error
	// EnsureIndex declares that coll is queried by these paths (e.g. a form's
	// fields), so the adapter may build indexes for them. Idempotent.
	EnsureIndex(ctx context.Context, coll string, paths []query.Path) error
	// Ping reports whether the store is reachable (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}
