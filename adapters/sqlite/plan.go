package sqlite

import (
	"context"

	"github.com/eimshub/eimshub/core/query"
)

// QueryPlan returns the detail lines of SQLite's EXPLAIN QUERY PLAN for the
// statement Find would run for q (for tests and diagnostics: which index a
// service's queries use). It creates coll's table when missing, as Find
// would, and reads no documents.
func (s *Store) QueryPlan(ctx context.Context, coll, tenant string, q query.Query) ([]string, error) {
	t, err := s.table(ctx, s.run(ctx), coll)
	if err != nil {
		return nil, err
	}
	sqlText, args, err := findSQL(t, tenant, q)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+sqlText, args...)
	if err != nil {
		return nil, mapErr(err, "sqlite: explain "+coll)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, mapErr(err, "sqlite: explain "+coll)
		}
		plan = append(plan, detail)
	}
	return plan, mapErr(rows.Err(), "sqlite: explain "+coll)
}
