package entity

// What the EIMSNext web client needs of the entity service on /odata/v1
// (spec eims-native.md §12.5–§12.7, §12.13): the sets Corporate, AuthGroup
// and PrintTemplate, the to-do's formName/dataBrief properties, "the
// caller's own rows" for SystemMessage and WfTodo (administrators
// included), enums written as numeric strings, lenient write bodies, and
// batch deletes.

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// Collections of the web client's sets.
const (
	// collTenant holds the tenants (corpId ""); the Corporate set shows
	// the caller's own.
	collTenant = "tenant"
	// collAuthGroup and collPrintTemplate have no writers yet: their sets
	// answer empty lists (a list must not fail: the client awaits them
	// before it shows a form page or a record, §12.7).
	collAuthGroup     = "authgroup"
	collPrintTemplate = "printtemplate"
)

// enumPlatform is Corporate.platform (the original's enum; the hub's
// tenants are all "public").
var enumPlatform = map[string]int64{"public": 0, "wecom": 1, "dingtalk": 2, "feishu": 3, "private": 999}

// enumAuthGroupType is AuthGroup.type (the original's permission group
// kinds; the client compares the numeric strings).
var enumAuthGroupType = map[string]int64{"submit": 0, "manage": 1, "view": 2, "custom": 3}

func init() {
	registerKinds(
		&Kind{Name: "corporate", Coll: collTenant,
			Props: []Prop{out("name", TString), out("description", TString), out("code", TString),
				enumOut("platform", enumPlatform)}},
		&Kind{Name: collAuthGroup, Coll: collAuthGroup,
			Props: []Prop{out("appId", TString), out("formId", TString), out("name", TString),
				out("description", TString), enumOut("type", enumAuthGroupType)}},
		&Kind{Name: collPrintTemplate, Coll: collPrintTemplate,
			Props: []Prop{out("appId", TString), out("formId", TString), out("name", TString),
				out("content", TString)}},
	)
	// The to-do list shows the form's name and a brief of the record
	// (§12.9.1, written by the workflow engine when it issues a task).
	addProps(collWfTodo, out("formName", TString), out("dataBrief", TArray))
}

// registerKinds adds kinds to the catalogue (after the built-in ones).
func registerKinds(list ...*Kind) {
	for _, k := range list {
		k.Props = append(append([]Prop{}, commonProps...), k.Props...)
		k.Navs = append(append([]Nav{}, userNavs...), k.Navs...)
		k.props = map[string]*Prop{}
		for i := range k.Props {
			k.props[strings.ToLower(k.Props[i].Name)] = &k.Props[i]
		}
		for _, n := range append([]string{k.Name}, k.Aliases...) {
			kindByName[strings.ToLower(n)] = k
		}
		kinds = append(kinds, k)
	}
}

// addProps adds properties to the built-in kind coll.
func addProps(name string, ps ...Prop) {
	k, ok := Builtin(name)
	if !ok {
		panic("entity: addProps: unknown kind " + name)
	}
	k.Props = append(k.Props, ps...)
	k.props = map[string]*Prop{}
	for i := range k.Props {
		k.props[strings.ToLower(k.Props[i].Name)] = &k.Props[i]
	}
}

// isCorporate reports whether k is the Corporate set.
func isCorporate(k *Kind) bool { return k.Coll == collTenant }

// ownRowsKey marks a context whose listings show only the caller's own
// rows of owned kinds and to-dos, administrators included.
type ownRowsKey struct{}

// WithOwnRows returns ctx in which SystemMessage (message) and WfTodo
// (wftodo) show only the caller's own documents, administrators included,
// as the original's OData sets do (§12.5.3): the web client's badges and
// lists count on it. The /api/v1 routes keep the administrator's view.
func WithOwnRows(ctx context.Context) context.Context {
	return context.WithValue(ctx, ownRowsKey{}, true)
}

func ownRows(ctx context.Context) bool {
	v, _ := ctx.Value(ownRowsKey{}).(bool)
	return v
}

// ownScope is the "own rows" filter of k in ctx (nil when none applies).
func ownScope(ctx context.Context, p *principal.Principal, k *Kind) query.Expr {
	if !ownRows(ctx) {
		return nil
	}
	switch {
	case k.Owner != nil:
		return query.Cmp{Path: k.Owner, Op: query.Eq, Value: p.UserID}
	case k.Coll == collWfTodo:
		return query.Cmp{Path: query.Path{"employeeId"}, Op: query.Eq, Value: p.UserID}
	}
	return nil
}

// ownsRow reports whether doc of k may be shown to p in ctx (a single
// entity read by key): outside WithOwnRows always.
func ownsRow(ctx context.Context, p *principal.Principal, k *Kind, doc store.Doc) bool {
	if !ownRows(ctx) {
		return true
	}
	switch {
	case k.Owner != nil:
		v, _ := at(doc, k.Owner).(string)
		return v != "" && v == p.UserID
	case k.Coll == collWfTodo:
		v, _ := doc["employeeId"].(string)
		return v != "" && v == p.UserID
	}
	return true
}

// corporateView is the Corporate entity of a stored tenant: only these
// properties leave the store (a tenant document may hold settings).
func corporateView(doc store.Doc) map[string]any {
	out := map[string]any{"id": doc["id"], "name": doc["name"], "description": "", "code": "",
		"platform": enumPlatform["public"]}
	if s, ok := doc["description"].(string); ok {
		out["description"] = s
	}
	if s, ok := doc["code"].(string); ok {
		out["code"] = s
	}
	if t, ok := doc["createTime"]; ok && t != nil {
		out["createTime"] = t
	}
	if out["name"] == nil {
		out["name"] = doc["id"]
	}
	return out
}

// corporateFilter is the filter of the caller's tenant among the tenants.
func corporateFilter(tenant string) query.Expr {
	return query.Cmp{Path: query.Path{"id"}, Op: query.Eq, Value: tenant}
}

// listCorporate serves a Corporate listing: the caller's tenant, if it
// matches the options ($filter, $orderby and paging apply to the stored
// tenant: description, code and platform are not stored, so a filter on
// them sees no value).
func (s *Service) listCorporate(ctx context.Context, tenant string, pr *prepared) (*ListResult, error) {
	filter := query.AndOf(pr.filter, corporateFilter(tenant))
	res := &ListResult{Value: []map[string]any{}}
	if pr.count {
		n, err := s.st.Count(ctx, collTenant, "", filter)
		if err != nil {
			return nil, err
		}
		res.Count = &n
	}
	if pr.limit == 0 {
		return res, nil
	}
	docs, err := s.st.Find(ctx, collTenant, "", query.Query{Filter: filter, Sort: pr.sort, Limit: pr.limit, Offset: pr.offset})
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		res.Value = append(res.Value, corporateView(d))
	}
	return res, nil
}

// getCorporate serves GET Corporate/{id}: only the caller's own tenant.
func (s *Service) getCorporate(ctx context.Context, tenant, id string) (map[string]any, error) {
	if id != tenant {
		return nil, errs.NotFoundf("corporate %q not found", id)
	}
	doc, err := s.st.Get(ctx, collTenant, "", id)
	if errs.CodeOf(err) == errs.NotFound {
		return nil, errs.NotFoundf("corporate %q not found", id)
	}
	if err != nil {
		return nil, err
	}
	return corporateView(doc), nil
}

// ODataView rewrites an entity of the set entity (a built-in name or a
// form key) as the original's OData routes write it (§12.5.3, §12.13):
// enum properties as strings of their numeric value ("0"), also the
// menuType of an app's menus; an app always has appMenus and a to-do
// formName and dataBrief.
func ODataView(entity string, m map[string]any) {
	k, ok := Builtin(entity)
	if !ok {
		k, _ = Builtin(collFormData)
	}
	for _, p := range k.Props {
		if p.Type != TEnum {
			continue
		}
		if v, ok := m[p.Name]; ok {
			m[p.Name] = enumString(v)
		}
	}
	switch k.Coll {
	case collApp:
		if _, ok := m["appMenus"]; !ok {
			m["appMenus"] = []any{} // the client walks the menus of every app
		}
		if menus, ok := m["appMenus"].([]any); ok {
			for _, x := range menus {
				if menu, ok := x.(map[string]any); ok {
					if v, ok := menu["menuType"]; ok {
						menu["menuType"] = enumString(v)
					}
				}
			}
		}
	case collWfTodo:
		if _, ok := m["formName"]; !ok {
			m["formName"] = ""
		}
		if _, ok := m["dataBrief"]; !ok {
			m["dataBrief"] = []any{}
		}
	}
}

// enumString is an enum code as a string; other values are kept.
func enumString(v any) any {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		if n, ok := toInt(x); ok {
			return strconv.FormatInt(n, 10)
		}
	case json.Number:
		return x.String()
	}
	return v
}

// KnownProperties keeps the keys of body that name a property of the set
// entity and drops the others (the original's OData request models carry
// properties the hub does not have, e.g. Employee.invite: they are
// ignored, not refused, §12.6). Record sets keep every key (a flat record
// body names fields).
func KnownProperties(entity string, body map[string]any) map[string]any {
	k, ok := Builtin(entity)
	if !ok || k.IsRecord() {
		return body
	}
	out := make(map[string]any, len(body))
	for key, v := range body {
		if p, ok := k.Prop(key); ok && (!p.Hidden || p.Input) {
			out[key] = v
		}
	}
	return out
}

// MaxDeleteBatch bounds the keys of one DeleteMany.
const MaxDeleteBatch = 1000

// DeleteMany deletes the entities ids of entity as p in one transaction:
// every one or none (the first failure is returned, e.g. NotFound for an
// unknown id). No ids is Invalid (the original answers 400).
func (s *Service) DeleteMany(ctx context.Context, p *principal.Principal, entity string, ids []string) error {
	tenant, err := tenantOf(p)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return errs.Invalidf("keys is required: the ids to delete").WithTarget("keys")
	}
	if len(ids) > MaxDeleteBatch {
		return errs.Invalidf("at most %d keys per batch", MaxDeleteBatch).WithTarget("keys")
	}
	t, err := s.resolve(ctx, tenant, entity)
	if err != nil {
		return err
	}
	if err := checkWrite(p, t.kind, true); err != nil {
		return err
	}
	seen := make(map[string]bool, len(ids))
	err = s.st.Tx(ctx, func(ctx context.Context) error {
		for _, id := range ids {
			if id == "" {
				return errs.Invalidf("keys must not hold an empty id").WithTarget("keys")
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			if err := s.deleteIn(ctx, p, tenant, t, id, ""); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && t.kind.Coll == collForm {
		// deleteIn dropped the form cache before this commit; drop it
		// again so no reader keeps forms loaded in between.
		s.rec.FormsChanged(ctx, tenant)
	}
	return err
}
