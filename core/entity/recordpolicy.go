package entity

import (
	"context"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
)

// Record access (core/access): every read of records — listings, $count,
// $query, single reads and the Host API's finds — is AND-ed with the data
// scope of the policy; every update and delete of a record, whatever the
// API shape, goes through core/record (access.CheckRecord inside the
// write's transaction).

// readScope is the row-level restriction of a read of kind k: an owned
// kind (Kind.Owner) shows a non-admin only its own documents; wftodo
// listings default to the caller's tasks (todoScope); records follow the
// access policy's data scope.
func (s *Service) readScope(ctx context.Context, p *principal.Principal, k *Kind, filter query.Expr) (query.Expr, error) {
	if k.IsRecord() {
		return s.acc.RecordScope(ctx, p)
	}
	if own := ownScope(ctx, p, k); own != nil {
		return own, nil
	}
	if k.Coll == collApp {
		return s.appScope(ctx, p, k) // webclient.go
	}
	return readScope(p, k, filter), nil
}

// inRecordScope fails with NotFound when record id is outside p's data
// scope (nil for other kinds and when there is no scope).
func (s *Service) inRecordScope(ctx context.Context, p *principal.Principal, tenant string, k *Kind, id string) error {
	if !k.IsRecord() {
		return nil
	}
	scope, err := s.acc.RecordScope(ctx, p)
	if err != nil || scope == nil {
		return err
	}
	n, err := s.st.Count(ctx, k.Coll, tenant, query.AndOf(query.Cmp{Path: query.Path{"id"}, Op: query.Eq, Value: id}, scope))
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.NotFoundf("%s %q not found", k.Name, id)
	}
	return nil
}
