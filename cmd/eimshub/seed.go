package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/eimshub/eimshub/config"
	"github.com/eimshub/eimshub/core/alias"
	"github.com/eimshub/eimshub/core/dataflow"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
	"gopkg.in/yaml.v3"
)

// seedID is the stable id of a seeded entity: the same YAML entry gets the
// same id on every start and on every instance, and two tenants never share
// one (ids are unique per collection across tenants).
func seedID(kind, tenant, key string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + tenant + "\x00" + strings.ToLower(key)))
	return hex.EncodeToString(sum[:12])
}

var systemOperator = map[string]any{"id": "system", "value": "system", "label": "system"}

// seeder writes the YAML tenants into the store: what is missing is created,
// what exists is left alone (an admin's later changes win over the file).
type seeder struct {
	st      store.Store
	rec     *record.Service
	aliases *alias.Service
	now     int64
	// forms are the forms written in the current tenant's transaction:
	// announced to the record core (indexes, form cache) after it commits.
	forms []*schema.Form
}

// seedTenants creates the configured tenants and everything they own, one
// transaction per tenant.
func seedTenants(ctx context.Context, st store.Store, rec *record.Service, tenants []config.Tenant) error {
	s := &seeder{st: st, rec: rec, aliases: alias.New(st), now: time.Now().UnixMilli()}
	for i := range tenants {
		t := &tenants[i]
		s.forms = nil
		if err := st.Tx(ctx, func(ctx context.Context) error { return s.tenant(ctx, t) }); err != nil {
			return fmt.Errorf("seed tenant %q: %w", t.ID, err)
		}
		for _, f := range s.forms {
			rec.FormSaved(ctx, t.ID, f)
		}
	}
	return nil
}

// put inserts doc unless a document with its id exists. It reports whether it inserted.
func (s *seeder) put(ctx context.Context, coll, tenant string, doc store.Doc) (bool, error) {
	id := doc["id"].(string)
	if _, err := s.st.Get(ctx, coll, tenant, id); err == nil {
		return false, nil
	} else if errs.CodeOf(err) != errs.NotFound {
		return false, fmt.Errorf("%s %s: %w", coll, id, err)
	}
	doc["corpId"] = tenant
	doc["createBy"], doc["updateBy"] = systemOperator, systemOperator
	doc["createTime"], doc["updateTime"] = s.now, s.now
	if err := s.st.Insert(ctx, coll, doc); err != nil {
		return false, fmt.Errorf("%s %s: %w", coll, id, err)
	}
	return true, nil
}

func (s *seeder) tenant(ctx context.Context, t *config.Tenant) error {
	tid := t.ID
	if _, err := s.put(ctx, "tenant", "", store.Doc{"id": tid, "name": or(t.Name, tid)}); err != nil {
		return err
	}
	roles := map[string]store.Doc{}
	for i, r := range t.Roles {
		d := store.Doc{"id": seedID("role", tid, r.Code), "code": r.Code, "name": or(r.Name, r.Code),
			"description": r.Description, "sortValue": int64(i)}
		roles[r.Code] = d
		if _, err := s.put(ctx, "role", tid, d); err != nil {
			return err
		}
	}
	depts := map[string]config.Department{}
	for _, d := range t.Departments {
		depts[d.Code] = d
	}
	// hierarchy walks up the parents (validated acyclic by config).
	hierarchy := func(code string) (ids, names []string) {
		for c := code; c != ""; c = depts[c].Parent {
			ids = append([]string{seedID("department", tid, c)}, ids...)
			names = append([]string{or(depts[c].Name, c)}, names...)
		}
		return ids, names
	}
	for _, d := range t.Departments {
		ids, names := hierarchy(d.Code)
		doc := store.Doc{"id": seedID("department", tid, d.Code), "code": d.Code, "name": or(d.Name, d.Code),
			"isCompany": d.Parent == "", "parentId": "", "parentName": "",
			"heriarchyId": strings.Join(ids, "/"), "heriarchyName": strings.Join(names, "/")}
		if d.Parent != "" {
			doc["parentId"] = seedID("department", tid, d.Parent)
			doc["parentName"] = or(depts[d.Parent].Name, d.Parent)
		}
		if d.Manager != "" {
			doc["managerId"] = seedID("user", tid, d.Manager)
		}
		if _, err := s.put(ctx, "department", tid, doc); err != nil {
			return err
		}
		if err := s.setAliases(ctx, tid, "department", d.Code, doc["id"].(string), d.Aliases); err != nil {
			return err
		}
	}
	for _, u := range t.Users {
		doc := store.Doc{"id": seedID("user", tid, u.UserName), "userName": strings.ToLower(u.UserName),
			"code": u.Code, "empName": or(u.Name, u.UserName), "workPhone": u.Phone,
			"workEmail": strings.ToLower(u.Email), "status": int64(0), "isManager": u.Manager}
		if u.Department != "" {
			doc["departmentId"] = seedID("department", tid, u.Department)
		}
		var rs []any
		for _, code := range u.Roles {
			r := roles[code]
			if r == nil {
				return fmt.Errorf("user %s: unknown role %q", u.UserName, code)
			}
			rs = append(rs, map[string]any{"roleId": r["id"], "roleName": r["name"], "roleCode": code})
		}
		doc["roles"] = rs
		if err := s.setAliases(ctx, tid, "user", u.UserName, doc["id"].(string), u.Aliases); err != nil {
			return err
		}
		if u.Password != "" {
			if _, err := s.st.Get(ctx, "user", tid, doc["id"].(string)); err == nil {
				continue // exists: never reset a password from the file
			}
			h, err := identity.HashPassword(u.Password)
			if err != nil {
				return fmt.Errorf("user %s: %w", u.UserName, err)
			}
			doc["passwordHash"] = h
		}
		if _, err := s.put(ctx, "user", tid, doc); err != nil {
			return err
		}
	}
	for _, c := range t.Clients {
		doc := store.Doc{"id": c.ID, "tenantId": tid, "name": or(c.Name, c.ID), "public": c.Public,
			"grants": anys(c.Grants), "scopes": anys(c.Scopes),
			"accessTokenTTL": int64(c.AccessTokenTTL.Std() / time.Second), "rateLimit": c.RateLimit, "disabled": false}
		if c.ServiceUser != "" {
			doc["serviceUserId"] = seedID("user", tid, c.ServiceUser)
		}
		if !c.Public {
			if _, err := s.st.Get(ctx, "client", "", c.ID); err == nil {
				continue
			}
			h, err := identity.HashClientSecret(c.Secret)
			if err != nil {
				return fmt.Errorf("client %s: %w", c.ID, err)
			}
			doc["secretHash"] = h
		}
		if _, err := s.put(ctx, "client", "", doc); err != nil {
			if errors.Is(err, errs.E(errs.Conflict)) {
				return fmt.Errorf("client id %q is already used by another tenant", c.ID)
			}
			return err
		}
	}
	for i, a := range t.Apps {
		doc := store.Doc{"id": seedID("app", tid, a.Key), "key": a.Key, "name": or(a.Name, a.Key),
			"description": a.Description, "sortIndex": int64(i), "appMenus": []any{}}
		if _, err := s.put(ctx, "app", tid, doc); err != nil {
			return err
		}
	}
	for _, f := range t.Forms {
		if err := s.form(ctx, tid, f); err != nil {
			return err
		}
	}
	for _, w := range t.Workflows {
		content, err := nodeValue(&w.Content)
		if err != nil {
			return fmt.Errorf("workflow %s: %w", w.Key, err)
		}
		if err := workflow.SeedDefinition(ctx, s.st, tid, workflow.DefinitionSeed{Key: w.Key, Name: w.Name,
			Form: w.Form, Version: w.Version, Content: content}); err != nil {
			return fmt.Errorf("workflow %s: %w", w.Key, err)
		}
	}
	for _, d := range t.Dataflows {
		content, err := nodeValue(&d.Content)
		if err != nil {
			return fmt.Errorf("dataflow %s: %w", d.Key, err)
		}
		if err := dataflow.SeedDefinition(ctx, s.st, tid, dataflow.DefinitionSeed{Key: d.Key, Name: d.Name,
			Version: d.Version, Content: content}); err != nil {
			return fmt.Errorf("dataflow %s: %w", d.Key, err)
		}
	}
	return nil
}

// setAliases binds the entry's external ids (YAML `aliases`, namespace →
// id) to its hub id through core/alias: a pair already there is kept (a
// re-seed changes nothing); a value bound to another entity, or an entity
// that already has another alias in that namespace, stops the start-up
// with both named.
func (s *seeder) setAliases(ctx context.Context, tid, kind, key, id string, m map[string]string) error {
	nss := make([]string, 0, len(m))
	for ns := range m {
		nss = append(nss, ns)
	}
	slices.Sort(nss)
	for _, ns := range nss {
		if err := s.aliases.Set(ctx, tid, ns, kind, m[ns], id); err != nil {
			return fmt.Errorf("%s %s: aliases.%s %q: %w", kind, key, ns, m[ns], err)
		}
	}
	return nil
}

// nodeValue decodes a YAML node into plain JSON-shaped values.
func nodeValue(n *yaml.Node) (any, error) {
	raw, err := nodeJSON(n)
	if err != nil || raw == nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}

func (s *seeder) form(ctx context.Context, tid string, f config.Form) error {
	items := make([]any, 0, len(f.Fields))
	for _, fd := range f.Fields {
		items = append(items, fieldDoc(fd))
	}
	// The web client renders and designs forms from a designer layout
	// (spec §12.10): synthesise one from the fields, once.
	content, _, err := schema.NormalizeContent(map[string]any{"items": items})
	if err != nil {
		return fmt.Errorf("form %s: %w", f.Key, err)
	}
	doc := store.Doc{"id": seedID("form", tid, f.Key), "key": f.Key, "name": or(f.Name, f.Key),
		"appId": seedID("app", tid, f.App), "usingWorkflow": f.UsingWorkflow, "isLedger": false,
		"content": content}
	inserted, err := s.put(ctx, record.CollForm, tid, doc)
	if err != nil {
		return err
	}
	if inserted {
		if err := s.menu(ctx, tid, doc); err != nil {
			return fmt.Errorf("form %s: %w", f.Key, err)
		}
	}
	if err := s.setAliases(ctx, tid, "form", f.Key, doc["id"].(string), f.Aliases); err != nil {
		return err
	}
	form, err := schema.FormFromDoc(doc)
	if err != nil {
		return fmt.Errorf("form %s: %w", f.Key, err)
	}
	s.forms = append(s.forms, form)
	return nil
}

// menu appends a newly seeded form to its app's menus (appMenus, spec
// §12.6.1: {menuId, title, icon, iconColor, menuType 0, sortIndex max+100}),
// as a form created through the API is, so the web client's side bar
// shows it. An entry already there is kept.
func (s *seeder) menu(ctx context.Context, tid string, form store.Doc) error {
	appID, _ := form["appId"].(string)
	app, err := s.st.Get(ctx, "app", tid, appID)
	if errs.CodeOf(err) == errs.NotFound {
		return nil
	} else if err != nil {
		return err
	}
	menus, _ := app["appMenus"].([]any)
	top := int64(0)
	for _, e := range menus {
		m, _ := e.(map[string]any)
		if m["menuId"] == form["id"] {
			return nil
		}
		if v, ok := m["sortIndex"].(int64); ok && v > top {
			top = v
		}
	}
	app["appMenus"] = append(slices.Clone(menus), map[string]any{"menuId": form["id"], "title": form["name"],
		"icon": "", "iconColor": "", "menuType": int64(0), "sortIndex": top + 100})
	return s.st.Update(ctx, "app", tid, appID, app, nil)
}

// fieldDoc renders a config field as a FieldDef object (content.items[]).
func fieldDoc(f config.Field) map[string]any {
	d := map[string]any{"field": f.Field, "type": f.Type, "title": or(f.Title, f.Field)}
	if f.Required {
		d["required"] = true
	}
	if f.Hidden {
		d["hidden"] = true
	}
	if len(f.Options) > 0 {
		opts := make([]any, 0, len(f.Options))
		for _, o := range f.Options {
			opts = append(opts, map[string]any{"value": o.Value, "label": or(o.Label, o.Value)})
		}
		d["props"] = map[string]any{"options": opts}
	}
	if len(f.Columns) > 0 {
		cols := make([]any, 0, len(f.Columns))
		for _, c := range f.Columns {
			cols = append(cols, fieldDoc(c))
		}
		d["columns"] = cols
	}
	return d
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
