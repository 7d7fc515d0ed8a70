package record

import (
	"context"
	"fmt"

	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// CollTenant is the collection of tenants (system scope "").
const CollTenant = "tenant"

// migrateBatch is how many records one migration step reads and writes.
const migrateBatch = 500

// Tenants lists the ids of the store's tenants.
func Tenants(ctx context.Context, st store.Store) ([]string, error) {
	docs, err := st.Find(ctx, CollTenant, "", query.Query{Limit: -1})
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		if id, _ := d["id"].(string); id != "" {
			out = append(out, id)
		}
	}
	return out, nil
}

// MigrateEffective aligns stored records with spec §12.17 D-12.1: a record
// of a form without workflow is effective (flowStatus 3), as the original
// EIMSNext writes it; the hub wrote 0 ("none") before. It rewrites the
// records of every tenant's non-workflow forms whose flowStatus is 0 or
// absent, in transactions of at most migrateBatch records, each write a
// compare-and-set on the status read (a record changed meanwhile is left
// to the next start). updateTime is kept: the data did not change.
//
// It is idempotent (a second run finds nothing) and returns how many
// records it changed. Records of workflow forms are never touched: there
// 0 meant "not started", a draft.
func (s *Service) MigrateEffective(ctx context.Context) (int, error) {
	tenants, err := Tenants(ctx, s.st)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, tenant := range tenants {
		forms, err := s.st.Find(ctx, CollForm, tenant, query.Query{Limit: -1})
		if err != nil {
			return total, fmt.Errorf("migrate flowStatus: forms of %s: %w", tenant, err)
		}
		var ids []any
		for _, f := range forms {
			if !truthy(f["usingWorkflow"]) {
				ids = append(ids, f["id"])
			}
		}
		if len(ids) == 0 {
			continue
		}
		none := query.Or{Items: []query.Expr{query.Null{Path: query.Path{"flowStatus"}, IsNull: true},
			query.Cmp{Path: query.Path{"flowStatus"}, Op: query.Eq, Value: float64(access.FlowNone)}}}
		filter := query.AndOf(query.In{Path: query.Path{"formId"}, Values: ids}, none)
		for {
			n := 0
			err := s.st.Tx(ctx, func(ctx context.Context) error {
				docs, err := s.st.Find(ctx, Coll, tenant, query.Query{Filter: filter, Limit: migrateBatch})
				if err != nil {
					return err
				}
				for _, d := range docs {
					id, _ := d["id"].(string)
					d["flowStatus"] = access.FlowApproved
					if err := s.st.Update(ctx, Coll, tenant, id, d, none); err != nil {
						return err
					}
				}
				n = len(docs)
				return nil
			})
			if err != nil {
				return total, fmt.Errorf("migrate flowStatus of %s: %w", tenant, err)
			}
			total += n
			if n < migrateBatch {
				break
			}
		}
	}
	if total > 0 {
		s.log.InfoContext(ctx, "records of forms without workflow are now effective (flowStatus 0 → 3, D-12.1)", "records", total)
	}
	return total, nil
}

// truthy reads a stored boolean that older documents may hold as a number.
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	}
	return false
}
