package entity

// Programmatic entry points for the plugin Host API (plugins/host bridge):
// the same rules as the HTTP-facing methods (tenancy, write permissions,
// form normalisation, Operator refs, output cleaning), but taking an
// already-built query AST whose paths are storage paths, and a form named by
// key or id instead of an entity name.

import (
	"context"
	"slices"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
)

// Form returns the tenant's form whose id or API key (case-insensitively)
// is keyOrID; NotFound when there is none.
func (s *Service) Form(ctx context.Context, p *principal.Principal, keyOrID string) (*schema.Form, error) {
	tenant, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	return s.formByKeyOrID(ctx, tenant, keyOrID)
}

func (s *Service) formByKeyOrID(ctx context.Context, tenant, keyOrID string) (*schema.Form, error) {
	return s.rec.Form(ctx, tenant, keyOrID)
}

// Forms lists the tenant's forms ordered by key (then id). A form whose
// stored content is invalid is logged and left out.
func (s *Service) Forms(ctx context.Context, p *principal.Principal) ([]*schema.Form, error) {
	tenant, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	return s.rec.Forms(ctx, tenant)
}

// recordTarget resolves a form key or id to the records target.
func (s *Service) recordTarget(ctx context.Context, p *principal.Principal, form string) (string, *target, error) {
	tenant, err := tenantOf(p)
	if err != nil {
		return "", nil, err
	}
	f, err := s.formByKeyOrID(ctx, tenant, form)
	if err != nil {
		return "", nil, err
	}
	k, _ := Builtin(collFormData)
	return tenant, &target{kind: k, form: f}, nil
}

// GetRecord returns record id of form (key or id), cleaned for output;
// NotFound when it is absent, deleted, of another form or another tenant.
func (s *Service) GetRecord(ctx context.Context, p *principal.Principal, form, id string) (map[string]any, error) {
	tenant, t, err := s.recordTarget(ctx, p, form)
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
	return clean(doc), nil
}

// FindRecords runs q over form's records. q's paths are storage paths
// ({"data","amount"}, {"createBy","id"}); each must name a property of a
// record or a field of the form (Invalid otherwise, Target the path joined
// with "/"). q.Limit < 0 means no limit, 0 returns no items; an empty
// q.Sort sorts by createTime (then id). When count is true the total
// ignoring paging is returned too, else -1.
func (s *Service) FindRecords(ctx context.Context, p *principal.Principal, form string, q query.Query, count bool) ([]map[string]any, int64, error) {
	tenant, t, err := s.recordTarget(ctx, p, form)
	if err != nil {
		return nil, 0, err
	}
	scope, err := s.acc.RecordScope(ctx, p)
	if err != nil {
		return nil, 0, err
	}
	return s.findIn(ctx, tenant, t, q, scope, count)
}

// FindKind runs q over a built-in entity kind other than records (user,
// department, role, ...), with the same path rules as FindRecords against
// the kind's properties. Hidden properties (passwordHash) neither resolve
// nor appear in the output.
func (s *Service) FindKind(ctx context.Context, p *principal.Principal, entity string, q query.Query, count bool) ([]map[string]any, int64, error) {
	tenant, err := tenantOf(p)
	if err != nil {
		return nil, 0, err
	}
	k, ok := Builtin(entity)
	if !ok || k.IsRecord() {
		return nil, 0, errs.NotFoundf("unknown entity %q", entity).WithTarget("entity")
	}
	if err := checkRead(p, k); err != nil {
		return nil, 0, err
	}
	return s.findIn(withViewer(ctx, p), tenant, &target{kind: k}, q, readScope(p, k, q.Filter), count)
}

// findIn runs q (checked against the kind's resolver) AND-ed with scope,
// the caller's row-level restriction.
func (s *Service) findIn(ctx context.Context, tenant string, t *target, q query.Query, scope query.Expr, count bool) ([]map[string]any, int64, error) {
	return s.findExpand(ctx, tenant, t, q, scope, count, nil)
}

// CreateRecord validates data (field → value) against form and stores a new
// record (flowStatus, appId, dataTitle, Operator refs and times set by the
// service, §6.3). Invalid details target "data/<field>".
func (s *Service) CreateRecord(ctx context.Context, p *principal.Principal, form string, data map[string]any) (map[string]any, error) {
	tenant, t, err := s.recordTarget(ctx, p, form)
	if err != nil {
		return nil, err
	}
	return s.createIn(ctx, p, tenant, t, recordBody(data))
}

// UpdateRecord merges data into record id's data (keys absent are kept,
// null clears) and returns the updated record.
func (s *Service) UpdateRecord(ctx context.Context, p *principal.Principal, form, id string, data map[string]any) (map[string]any, error) {
	tenant, t, err := s.recordTarget(ctx, p, form)
	if err != nil {
		return nil, err
	}
	return s.updateIn(ctx, p, tenant, t, id, recordBody(data), "")
}

// DeleteRecord soft-deletes record id of form; NotFound when it is absent.
func (s *Service) DeleteRecord(ctx context.Context, p *principal.Principal, form, id string) error {
	tenant, t, err := s.recordTarget(ctx, p, form)
	if err != nil {
		return err
	}
	return s.deleteIn(ctx, p, tenant, t, id, "")
}

// MaxBatch bounds the records of one BatchCreate or BatchGet.
const MaxBatch = record.MaxBatch

// BatchCreate creates every record of data or none (one store transaction)
// and returns them in input order. Validation problems of every item are
// reported together, their targets rewritten to "data[i]/<field>".
func (s *Service) BatchCreate(ctx context.Context, p *principal.Principal, form string, data []map[string]any) ([]map[string]any, error) {
	created, err := s.CreateRecords(ctx, p, form, data, record.ManyOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(created))
	for i, c := range created {
		out[i] = c.Record
	}
	return out, nil
}

// CreateRecords is record.Service.CreateMany on form (key or id) for p:
// the records as their owners, drafts or started workflows (submitted or
// not), all in one transaction; the records are cleaned for output.
func (s *Service) CreateRecords(ctx context.Context, p *principal.Principal, form string, data []map[string]any, o record.ManyOptions) ([]record.Created, error) {
	_, t, err := s.recordTarget(ctx, p, form)
	if err != nil {
		return nil, err
	}
	if err := checkWrite(p, t.kind, false); err != nil {
		return nil, err
	}
	out, err := s.rec.CreateMany(ctx, p, t.form, data, o)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Record = clean(out[i].Record)
	}
	return out, nil
}

// BatchGet returns form's records with these ids in ids order, skipping
// ids that do not exist (one store query).
func (s *Service) BatchGet(ctx context.Context, p *principal.Principal, form string, ids []string) ([]map[string]any, error) {
	tenant, t, err := s.recordTarget(ctx, p, form)
	if err != nil {
		return nil, err
	}
	if len(ids) > MaxBatch {
		return nil, errs.Invalidf("at most %d ids per batch", MaxBatch).WithTarget("ids")
	}
	out := []map[string]any{}
	if len(ids) == 0 {
		return out, nil
	}
	vals := make([]any, 0, len(ids))
	for _, id := range ids {
		vals = append(vals, id)
	}
	scope, err := s.acc.RecordScope(ctx, p)
	if err != nil {
		return nil, err
	}
	docs, err := s.st.Find(ctx, collFormData, tenant, query.Query{
		Filter: query.AndOf(query.In{Path: query.Path{"id"}, Values: vals}, scopeFilter(t.kind, t.form, ""), scope),
		Limit:  -1})
	if err != nil {
		return nil, err
	}
	byID := make(map[string]store.Doc, len(docs))
	for _, d := range docs {
		id, _ := d["id"].(string)
		byID[id] = d
	}
	for _, id := range ids {
		if d, ok := byID[id]; ok {
			out = append(out, clean(d))
		}
	}
	return out, nil
}

// recordBody wraps record data as a write body; a nil map is an empty one.
func recordBody(data map[string]any) map[string]any {
	if data == nil {
		data = map[string]any{}
	}
	return map[string]any{"data": data}
}

// checkQuery validates every storage path of q against res: a path must be
// what a member resolves to (or a prefix of it, e.g. {"data","region"} for
// a select field stored as {value,label}); AnyRow predicates must be
// relative to an array the resolver knows. Errors are Invalid with Target
// the path joined with "/".
func checkQuery(res query.Resolver, q query.Query) error {
	if err := checkExpr(res, q.Filter, nil); err != nil {
		return err
	}
	for _, s := range q.Sort {
		f, err := resolvePath(res, nil, s.Path)
		if err != nil {
			return err
		}
		if f.NoSort || f.Array != nil {
			return unknownPath(s.Path, "cannot be sorted")
		}
		if !hasPrefix(f.Path, s.Path) && !hasPrefix(f.SortPath, s.Path) {
			return unknownPath(s.Path, "is not a property")
		}
	}
	return nil
}

func checkExpr(res query.Resolver, e query.Expr, array query.Path) error {
	var err error
	query.Walk(e, func(x query.Expr) bool {
		if err != nil {
			return false
		}
		switch n := x.(type) {
		case query.And, query.Or, query.Not, query.Const:
			return true
		case query.Cmp:
			err = checkPath(res, array, n.Path)
		case query.In:
			err = checkPath(res, array, n.Path)
		case query.Str:
			err = checkPath(res, array, n.Path)
		case query.Null:
			err = checkPath(res, array, n.Path)
		case query.AnyRow:
			if array != nil {
				err = unknownPath(n.Array, "cannot nest an any-element condition")
				return false
			}
			if err = checkArray(res, n.Array, n.Pred); err == nil {
				err = checkExpr(res, n.Pred, n.Array)
			}
			return false
		default:
			err = errs.Invalidf("unsupported filter node %T", x).WithTarget("filter")
		}
		return false
	})
	return err
}

// checkPath validates a comparison path (relative to array when set).
func checkPath(res query.Resolver, array, path query.Path) error {
	f, err := resolvePath(res, array, path)
	if err != nil {
		return err
	}
	if f.NoFilter {
		return unknownPath(path, "cannot be filtered")
	}
	if !slices.Equal(f.Array, array) {
		if array == nil {
			return unknownPath(path, "is an array: compare its elements with an any-element condition")
		}
		return unknownPath(append(slices.Clone(array), path...), "is not an element property of "+strings.Join(array, "/"))
	}
	if !hasPrefix(f.Path, path) {
		return unknownPath(path, "is not a property")
	}
	return nil
}

// checkArray validates the array of an AnyRow whose predicate names no
// path (e.g. a constant): some member must resolve to elements of it.
func checkArray(res query.Resolver, array query.Path, pred query.Expr) error {
	if len(array) == 0 {
		return unknownPath(array, "is not an array")
	}
	hasPath := false
	query.Walk(pred, func(x query.Expr) bool {
		switch x.(type) {
		case query.Cmp, query.In, query.Str, query.Null:
			hasPath = true
		}
		return !hasPath
	})
	if hasPath {
		return nil // each predicate path is checked against array
	}
	f, err := res.Resolve(array)
	if err == nil && slices.Equal(f.Array, array) {
		return nil
	}
	return unknownPath(array, "is not an array")
}

// resolvePath resolves a storage path (relative to array when set).
func resolvePath(res query.Resolver, array, path query.Path) (query.Field, error) {
	full := append(slices.Clone(array), path...)
	if len(full) == 0 {
		return query.Field{}, unknownPath(full, "is empty")
	}
	f, err := res.Resolve(full)
	if err != nil {
		return query.Field{}, unknownPath(full, "is not a property")
	}
	return f, nil
}

func hasPrefix(p, prefix query.Path) bool {
	return p != nil && len(prefix) <= len(p) && slices.Equal(p[:len(prefix)], prefix)
}

func unknownPath(p query.Path, why string) *errs.Error {
	name := strings.Join(p, "/")
	return errs.Invalidf("path %q %s", name, why).WithReason("invalid_path").WithTarget(name)
}
