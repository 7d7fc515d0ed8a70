package entity

import (
	"context"
	"strconv"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// Generic access for the Host API v2 (issue 11 #5): any entity of the
// catalogue (or a form key) with an already-built query AST, through the
// same resolution, read checks, scopes, rendering and $expand as the
// HTTP-facing List/Get. Writes need no new code: Create, Update and
// Delete take an entity name already.

// FindOptions tune Find.
type FindOptions struct {
	// Count returns the total ignoring paging (else -1).
	Count bool
	// Expand is a native $expand (§7.5), parsed and checked as on /api/v1.
	Expand string
}

// Find runs q over entity (a built-in name or a form key) as p: the read
// rules of List (AdminRead kinds, owned kinds, wftodo's default scope,
// record data scope, private properties) with q's storage paths checked
// against the kind's (or form's) resolver. Records are listed through
// their form's key (the formdata kind needs the form: Invalid).
func (s *Service) Find(ctx context.Context, p *principal.Principal, entity string, q query.Query, o FindOptions) ([]map[string]any, int64, error) {
	tenant, err := tenantOf(p)
	if err != nil {
		return nil, 0, err
	}
	t, err := s.resolve(ctx, tenant, entity)
	if err != nil {
		return nil, 0, err
	}
	if err := checkRead(p, t.kind); err != nil {
		return nil, 0, err
	}
	if t.kind.IsRecord() && t.form == nil {
		return nil, 0, errs.Invalidf("list records through their form's key as the entity name").WithTarget("entity")
	}
	ctx = withViewer(ctx, p)
	exp, err := parseExpand(t.kind, o.Expand)
	if err != nil {
		return nil, 0, err
	}
	scope, err := s.readScope(ctx, p, t.kind, q.Filter)
	if err != nil {
		return nil, 0, err
	}
	return s.findExpand(ctx, tenant, t, q, scope, o.Count, exp)
}

// findExpand is findIn with navigations to expand.
func (s *Service) findExpand(ctx context.Context, tenant string, t *target, q query.Query, scope query.Expr, count bool, exp []query.ExpandItem) ([]map[string]any, int64, error) {
	if err := checkQuery(resolverFor(ctx, t.kind, t.form), q); err != nil {
		return nil, 0, err
	}
	if q.Offset < 0 {
		return nil, 0, errs.Invalidf("offset must not be negative").WithTarget("offset")
	}
	filter := query.AndOf(q.Filter, scopeFilter(t.kind, t.form, ""), scope)
	total := int64(-1)
	if count {
		n, err := s.st.Count(ctx, t.kind.Coll, tenant, filter)
		if err != nil {
			return nil, 0, err
		}
		total = n
	}
	out := []map[string]any{}
	if q.Limit == 0 {
		return out, total, nil
	}
	sort := q.Sort
	if len(sort) == 0 {
		sort = defaultSort
	}
	docs, err := s.st.Find(ctx, t.kind.Coll, tenant, query.Query{Filter: filter, Sort: sort, Limit: q.Limit, Offset: q.Offset})
	if err != nil {
		return nil, 0, err
	}
	if out, err = s.render(ctx, tenant, t.kind, docs, nil, exp); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// FindRecordsExpand is FindRecords with a native $expand over the records'
// navigations (creator, updater, form, app), e.g. the owner and the
// owner's department in the same call.
func (s *Service) FindRecordsExpand(ctx context.Context, p *principal.Principal, form string, q query.Query, count bool, expand string) ([]map[string]any, int64, error) {
	tenant, t, err := s.recordTarget(ctx, p, form)
	if err != nil {
		return nil, 0, err
	}
	exp, err := parseExpand(t.kind, expand)
	if err != nil {
		return nil, 0, err
	}
	scope, err := s.acc.RecordScope(ctx, p)
	if err != nil {
		return nil, 0, err
	}
	return s.findExpand(withViewer(ctx, p), tenant, t, q, scope, count, exp)
}

// GetRecordExpand is GetRecord with a native $expand.
func (s *Service) GetRecordExpand(ctx context.Context, p *principal.Principal, form, id, expand string) (map[string]any, error) {
	tenant, t, err := s.recordTarget(ctx, p, form)
	if err != nil {
		return nil, err
	}
	exp, err := parseExpand(t.kind, expand)
	if err != nil {
		return nil, err
	}
	doc, err := s.getDoc(ctx, tenant, t, id)
	if err != nil {
		return nil, err
	}
	if err := s.inRecordScope(ctx, p, tenant, t.kind, id); err != nil {
		return nil, err
	}
	out, err := s.render(withViewer(ctx, p), tenant, t.kind, []store.Doc{doc}, nil, exp)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// IfMatch renders an updateTime as the If-Match value Update and Delete
// take (0 = none).
func IfMatch(updateTime int64) string {
	if updateTime == 0 {
		return ""
	}
	return `"` + strconv.FormatInt(updateTime, 10) + `"`
}
