// Package entity is the generic entity service behind the native API's
// entity routes (spec eims-native.md §6, §7): one catalogue of entity kinds
// (apps, forms, records, users, departments, roles and read-only listings),
// OData-style listing with $filter/$orderby/$select/$expand/$top/$skip/$count,
// the DynamicFindOptions body, and the write rules (partial merge, optimistic
// concurrency, admin-only kinds, server-set fields, form schemas for records).
//
// Every call is scoped to the principal's tenant: the store is tenant-scoped
// and the service always passes principal.Tenant (§7.2 rule 10).
package entity

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/messages"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
)

// Options configure a Service.
type Options struct {
	// Logger receives operational messages. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock for createTime/updateTime. Default: time.Now.
	Now func() time.Time
	// HashPassword hashes a user's password. Default: identity.HashPassword.
	HashPassword func(pw string) (string, error)
	// Access is the record access policy (its data scope hook). Default:
	// records readable tenant-wide; writes always follow access.CheckRecord.
	Access *access.Policy
	// Revoker ends a user's tokens when the user's status, password or
	// roles change (revoke.go). Default: none (tokens live until they expire).
	Revoker Revoker
	// Records is the record core records are written through and forms
	// read from (share the process's one, wired to the workflow engine).
	// Default: a new one over st with its own workflow engine.
	Records *record.Service
	// Can reports whether a non-administrator p holds a permission
	// (PermMessageSend). Default: nobody but administrators holds any.
	Can func(p *principal.Principal, perm string) bool
	// Outbox queues the e-mail and SMS of POST /outbox (share the
	// process's one, the sender of /auth/sendcode). Default: an outbox
	// without a gateway over st (messages are recorded, not delivered).
	Outbox Outbox
}

// Service is the entity service.
type Service struct {
	st   store.Store
	log  *slog.Logger
	now  func() time.Time
	hash func(string) (string, error)
	acc  *access.Policy
	// revoker may be nil.
	revoker Revoker
	rec     *record.Service
	canFn   func(*principal.Principal, string) bool
	outbox  Outbox
	// ver is st's committed version when it has one (expandcache.go).
	ver      committedVersioner
	expanded *expandCache
}

// New returns a Service over st.
func New(st store.Store, opts Options) *Service {
	s := &Service{st: st, log: opts.Logger, now: opts.Now, hash: opts.HashPassword, acc: opts.Access, revoker: opts.Revoker, rec: opts.Records,
		canFn: opts.Can, outbox: opts.Outbox, expanded: newExpandCache()}
	s.ver, _ = st.(committedVersioner)
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.hash == nil {
		s.hash = identity.HashPassword
	}
	if s.outbox == nil {
		s.outbox = messages.New(st, messages.Options{Logger: s.log, Now: s.now})
	}
	if s.rec == nil {
		s.rec = record.New(st, record.Options{Logger: s.log, Now: s.now})
	}
	if s.rec.Workflow() == nil {
		s.rec.SetWorkflow(workflow.New(st, workflow.Options{Logger: s.log, Now: s.now, Records: s.rec}))
	}
	return s
}

// ListOptions are the query options of a listing (§6.1, §7), as raw text.
type ListOptions struct {
	Filter, OrderBy, Select, Expand, Top, Skip, Count string
	// FormID and AppID are the formId/appId shortcuts (§6.1).
	FormID, AppID string
}

// ListResult is a collection body (§1.4).
type ListResult struct {
	Value []map[string]any
	// Count is set when $count=true.
	Count *int64
}

// target is an entity name resolved against the catalogue and the tenant's
// form keys.
type target struct {
	kind *Kind
	// form is the form of a form-key entity (fixed), else nil.
	form *schema.Form
}

func tenantOf(p *principal.Principal) (string, error) {
	if p == nil || p.Tenant == "" {
		return "", errs.New(errs.Unauthorized, "no authenticated tenant")
	}
	return p.Tenant, nil
}

// resolve maps an entity name to a kind: built-in names first, then the
// tenant's form keys (§6.2).
func (s *Service) resolve(ctx context.Context, tenant, name string) (*target, error) {
	if k, ok := Builtin(name); ok {
		return &target{kind: k}, nil
	}
	f, err := s.formByKey(ctx, tenant, name)
	if err != nil {
		return nil, err
	}
	k, _ := Builtin(collFormData)
	return &target{kind: k, form: f}, nil
}

// formByKey finds the form whose API key is key (the record core's rule:
// case-insensitively).
func (s *Service) formByKey(ctx context.Context, tenant, key string) (*schema.Form, error) {
	notFound := errs.NotFoundf("unknown entity %q", key).WithTarget(key)
	if key == "" || !validKey(key) {
		return nil, notFound
	}
	f, err := s.rec.FormByKey(ctx, tenant, key)
	if errs.CodeOf(err) == errs.NotFound {
		return nil, notFound
	}
	return f, err
}

// formByID loads a form of the tenant.
func (s *Service) formByID(ctx context.Context, tenant, id string) (*schema.Form, error) {
	return s.rec.FormByID(ctx, tenant, id)
}

// listForm finds the form a record listing is about (§6.3).
func (s *Service) listForm(ctx context.Context, tenant string, t *target, formID string, fromFilter func() (string, bool)) (*schema.Form, error) {
	if t.form != nil {
		if formID != "" && formID != t.form.ID {
			return nil, errs.Invalidf("formId %q is not the form of this entity", formID).
				WithReason("invalid_request").WithTarget("formId")
		}
		return t.form, nil
	}
	if formID == "" {
		formID, _ = fromFilter()
	}
	if formID == "" {
		return nil, errs.Invalidf("listing records needs the form: pass formId, a formId eq '…' filter conjunct, or use the form's key as entity name").
			WithReason("invalid_request").WithTarget("formId")
	}
	f, err := s.formByID(ctx, tenant, formID)
	if errs.CodeOf(err) == errs.NotFound {
		return nil, errs.NotFoundf("form %q not found", formID).WithTarget("formId")
	}
	return f, err
}

// resolverFor is the filter/sort resolver of a kind (with the form for records).
// A non-administrator viewer (in ctx) cannot resolve private properties.
func resolverFor(ctx context.Context, k *Kind, f *schema.Form) query.Resolver {
	if f != nil {
		return f.Resolver(k.Resolver())
	}
	return guardResolver(ctx, k, k.Resolver())
}

// defaultSort is createTime asc (then id asc, appended by the store) (§7.3).
var defaultSort = []query.Sort{{Path: query.Path{"createTime"}}}

// prepared is a parsed listing.
type prepared struct {
	t      *target
	form   *schema.Form
	filter query.Expr
	sort   []query.Sort
	limit  int
	offset int
	count  bool
	sel    selTree
	expand []query.ExpandItem
}

func (s *Service) prepareList(ctx context.Context, tenant, entity string, o ListOptions) (*prepared, error) {
	t, err := s.resolve(ctx, tenant, entity)
	if err != nil {
		return nil, err
	}
	pr := &prepared{t: t}
	k := t.kind
	if k.IsRecord() {
		pr.form, err = s.listForm(ctx, tenant, t, o.FormID, func() (string, bool) { return formIDConjunct(o.Filter) })
		if err != nil {
			return nil, err
		}
	}
	res := resolverFor(ctx, k, pr.form)
	if strings.TrimSpace(o.Filter) != "" {
		if pr.filter, err = query.ParseFilter(o.Filter, res); err != nil {
			return nil, err
		}
	}
	pr.filter = query.AndOf(pr.filter, scopeFilter(k, pr.form, o.AppID))
	if strings.TrimSpace(o.OrderBy) != "" {
		if pr.sort, err = query.ParseOrderBy(o.OrderBy, res); err != nil {
			return nil, err
		}
	}
	if len(pr.sort) == 0 {
		pr.sort = defaultSort
	}
	if pr.limit, pr.offset, err = query.ParsePaging(o.Top, o.Skip); err != nil {
		return nil, err
	}
	if pr.count, err = parseCount(o.Count); err != nil {
		return nil, err
	}
	if pr.sel, err = parseSelect(k, pr.form, o.Select); err != nil {
		return nil, err
	}
	if pr.expand, err = parseExpand(k, o.Expand); err != nil {
		return nil, err
	}
	return pr, nil
}

// scopeFilter restricts records to their form and applies the appId shortcut.
func scopeFilter(k *Kind, f *schema.Form, appID string) query.Expr {
	var items []query.Expr
	if f != nil {
		items = append(items, query.Cmp{Path: query.Path{"formId"}, Op: query.Eq, Value: f.ID})
	}
	if appID != "" {
		if _, ok := k.Prop("appId"); ok {
			items = append(items, query.Cmp{Path: query.Path{"appId"}, Op: query.Eq, Value: appID})
		}
	}
	return query.AndOf(items...)
}

func parseCount(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, errs.Invalidf("$count must be true or false").WithReason("invalid_query_option").WithTarget("$count")
}

func parseSelect(k *Kind, f *schema.Form, src string) (selTree, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	all, items, err := query.ParseSelect(src)
	if err != nil {
		return nil, err
	}
	if all {
		return nil, nil
	}
	return k.selection(items, f)
}

func parseExpand(k *Kind, src string) ([]query.ExpandItem, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	if items, ok := parsedExpands.get(k, src); ok {
		return items, nil
	}
	items, err := query.ParseExpand(src)
	if err != nil {
		return nil, err
	}
	if err := checkExpand(k, items, 1); err != nil {
		return nil, err
	}
	parsedExpands.put(k, src, items)
	return items, nil
}

// checkExpand validates navigation names, nested $select and the depth
// limit (§7.5) before any query runs.
func checkExpand(k *Kind, items []query.ExpandItem, depth int) error {
	for _, it := range items {
		if depth > query.MaxExpandDepth {
			return errs.Invalidf("$expand: deeper than %d levels", query.MaxExpandDepth).
				WithReason("invalid_expand").WithTarget(it.Name).WithPos(it.Pos)
		}
		nav, ok := k.Nav(it.Name)
		if !ok {
			return errs.Invalidf("$expand: unknown navigation %q", it.Name).
				WithReason("invalid_expand").WithTarget(it.Name).WithPos(it.Pos)
		}
		tk, _ := Builtin(nav.Target)
		if it.Select != nil {
			if _, err := tk.selection(it.Select, nil); err != nil {
				return err
			}
		}
		if err := checkExpand(tk, it.Expand, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// List serves GET /{entity} (§6.1, §7).
func (s *Service) List(ctx context.Context, p *principal.Principal, entity string, o ListOptions) (*ListResult, error) {
	tenant, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	ctx = withViewer(ctx, p)
	pr, err := s.prepareList(ctx, tenant, entity, o)
	if err != nil {
		return nil, err
	}
	if err := checkRead(p, pr.t.kind); err != nil {
		return nil, err
	}
	if isCorporate(pr.t.kind) {
		return s.listCorporate(ctx, tenant, pr)
	}
	scope, err := s.readScope(ctx, p, pr.t.kind, pr.filter)
	if err != nil {
		return nil, err
	}
	pr.filter = query.AndOf(pr.filter, scope)
	res := &ListResult{Value: []map[string]any{}}
	if pr.count {
		n, err := s.st.Count(ctx, pr.t.kind.Coll, tenant, pr.filter)
		if err != nil {
			return nil, err
		}
		res.Count = &n
	}
	if pr.limit == 0 {
		return res, nil
	}
	docs, err := s.st.Find(ctx, pr.t.kind.Coll, tenant, query.Query{
		Filter: pr.filter, Sort: pr.sort, Limit: pr.limit, Offset: pr.offset})
	if err != nil {
		return nil, err
	}
	res.Value, err = s.render(ctx, tenant, pr.t.kind, docs, pr.sel, pr.expand)
	return res, err
}

// Count serves GET /{entity}/$count: the number of matches of $filter and
// the shortcuts (other options are ignored).
func (s *Service) Count(ctx context.Context, p *principal.Principal, entity string, o ListOptions) (int64, error) {
	tenant, err := tenantOf(p)
	if err != nil {
		return 0, err
	}
	ctx = withViewer(ctx, p)
	pr, err := s.prepareList(ctx, tenant, entity, ListOptions{Filter: o.Filter, FormID: o.FormID, AppID: o.AppID})
	if err != nil {
		return 0, err
	}
	if err := checkRead(p, pr.t.kind); err != nil {
		return 0, err
	}
	if isCorporate(pr.t.kind) {
		return s.st.Count(ctx, collTenant, "", query.AndOf(pr.filter, corporateFilter(tenant)))
	}
	scope, err := s.readScope(ctx, p, pr.t.kind, pr.filter)
	if err != nil {
		return 0, err
	}
	return s.st.Count(ctx, pr.t.kind.Coll, tenant, query.AndOf(pr.filter, scope))
}

// getDoc loads one entity of the tenant through target t (a form-key entity
// only sees its form's records).
func (s *Service) getDoc(ctx context.Context, tenant string, t *target, id string) (store.Doc, error) {
	doc, err := s.st.Get(ctx, t.kind.Coll, tenant, id)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return nil, errs.NotFoundf("%s %q not found", t.kind.Name, id)
		}
		return nil, err
	}
	if t.form != nil && doc["formId"] != t.form.ID {
		return nil, errs.NotFoundf("%s %q not found", t.form.Key, id)
	}
	return doc, nil
}

// Get serves GET /{entity}/{id} with $select and $expand.
func (s *Service) Get(ctx context.Context, p *principal.Principal, entity, id, sel, expand string) (map[string]any, error) {
	tenant, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	t, err := s.resolve(ctx, tenant, entity)
	if err != nil {
		return nil, err
	}
	if err := checkRead(p, t.kind); err != nil {
		return nil, err
	}
	if isCorporate(t.kind) {
		return s.getCorporate(ctx, tenant, id)
	}
	ctx = withViewer(ctx, p)
	doc, err := s.getDoc(ctx, tenant, t, id)
	if err != nil {
		return nil, err
	}
	if !ownedBy(p, t.kind, doc, false) || !ownsRow(ctx, p, t.kind, doc) {
		return nil, errs.NotFoundf("%s %q not found", t.kind.Name, id)
	}
	if err := s.inRecordScope(ctx, p, tenant, t.kind, id); err != nil {
		return nil, err
	}
	form := t.form
	if t.kind.IsRecord() && form == nil && strings.TrimSpace(sel) != "" {
		fid, _ := doc["formId"].(string)
		if form, err = s.formByID(ctx, tenant, fid); err != nil && errs.CodeOf(err) != errs.NotFound {
			return nil, err
		}
	}
	tree, err := parseSelect(t.kind, form, sel)
	if err != nil {
		return nil, err
	}
	items, err := parseExpand(t.kind, expand)
	if err != nil {
		return nil, err
	}
	out, err := s.render(ctx, tenant, t.kind, []store.Doc{doc}, tree, items)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// Query serves POST /{entity}/$query with a DynamicFindOptions body (§7.8).
// formID is the formId query parameter, if any.
func (s *Service) Query(ctx context.Context, p *principal.Principal, entity, formID string, body []byte) (*ListResult, error) {
	tenant, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	t, err := s.resolve(ctx, tenant, entity)
	if err != nil {
		return nil, err
	}
	if err := checkRead(p, t.kind); err != nil {
		return nil, err
	}
	ctx = withViewer(ctx, p)
	var form *schema.Form
	if t.kind.IsRecord() {
		if form, err = s.listForm(ctx, tenant, t, formID, func() (string, bool) { return dynamicBodyFormID(body, false) }); err != nil {
			return nil, err
		}
	}
	dq, err := query.ParseDynamic(body, resolverFor(ctx, t.kind, form))
	if err != nil {
		return nil, err
	}
	var incl, excl []query.SelectItem
	for _, ds := range dq.Select {
		it := query.SelectItem{Segments: ds.Segments}
		if ds.Visible {
			incl = append(incl, it)
		} else {
			excl = append(excl, it)
		}
	}
	var tree, drop selTree
	if len(incl) > 0 {
		if tree, err = t.kind.selection(incl, form); err != nil {
			return nil, err
		}
	}
	if len(excl) > 0 {
		if drop, err = t.kind.selection(excl, form); err != nil {
			return nil, err
		}
	}
	sort := dq.Sort
	if len(sort) == 0 {
		sort = defaultSort
	}
	scope, err := s.readScope(ctx, p, t.kind, dq.Filter)
	if err != nil {
		return nil, err
	}
	docs, err := s.st.Find(ctx, t.kind.Coll, tenant, query.Query{
		Filter: query.AndOf(dq.Filter, scopeFilter(t.kind, form, ""), scope),
		Sort:   sort, Limit: min(max(dq.Take, 0), query.MaxTop), Offset: max(dq.Skip, 0)})
	if err != nil {
		return nil, err
	}
	out, err := s.render(ctx, tenant, t.kind, docs, tree, nil)
	if err != nil {
		return nil, err
	}
	if drop != nil {
		for _, o := range out {
			exclude(o, drop)
		}
	}
	return &ListResult{Value: out}, nil
}

// CountQuery serves POST /{entity}/$count with a DynamicFindOptions filter
// as the body (or {"filter": …}); an empty body counts everything.
func (s *Service) CountQuery(ctx context.Context, p *principal.Principal, entity, formID string, body []byte) (int64, error) {
	tenant, err := tenantOf(p)
	if err != nil {
		return 0, err
	}
	t, err := s.resolve(ctx, tenant, entity)
	if err != nil {
		return 0, err
	}
	if err := checkRead(p, t.kind); err != nil {
		return 0, err
	}
	ctx = withViewer(ctx, p)
	var form *schema.Form
	if t.kind.IsRecord() {
		if form, err = s.listForm(ctx, tenant, t, formID, func() (string, bool) { return dynamicBodyFormID(body, true) }); err != nil {
			return 0, err
		}
	}
	var filter query.Expr
	if raw := bareFilter(body); len(raw) > 0 {
		if filter, err = query.ParseDynamicFilter(raw, resolverFor(ctx, t.kind, form)); err != nil {
			return 0, err
		}
	}
	scope, err := s.readScope(ctx, p, t.kind, filter)
	if err != nil {
		return 0, err
	}
	return s.st.Count(ctx, t.kind.Coll, tenant, query.AndOf(filter, scopeFilter(t.kind, form, ""), scope))
}

// parseIfMatch reads If-Match: "<updateTime>" (W/ and quotes optional;
// "" and "*" mean no condition).
func parseIfMatch(v string) (int64, bool, error) {
	v = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "W/"))
	v = strings.Trim(v, `"`)
	if v == "" || v == "*" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, errs.Conflictf("If-Match %q does not match the entity's updateTime", v)
	}
	return n, true, nil
}
