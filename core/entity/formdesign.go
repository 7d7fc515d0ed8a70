package entity

import (
	"context"
	"slices"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
)

// Form rules the EIMSNext web client depends on (spec eims-native.md §12.6.1,
// §12.10): the form's content in the designer's shape, and the app's menu
// entry of the form, kept in the form's write transaction.

// Menu types of app.appMenus[].menuType (§12.13).
const (
	menuTypeForm int64 = 0
	menuSortStep int64 = 100
)

// designForm normalises a form document's content (schema.NormalizeContent:
// the designer's layout/options kept as sent and items derived from them,
// or a layout synthesised for items-only content). A form without content
// gets an empty designer content, so the client can open it.
func designForm(doc store.Doc) error {
	c, ok := doc["content"]
	if !ok || c == nil {
		doc["content"] = map[string]any{"layout": "[]", "options": schema.DefaultOptions, "items": []any{}}
		return nil
	}
	stored, _, err := schema.NormalizeContent(c)
	if err != nil {
		return err
	}
	doc["content"] = stored
	return nil
}

// formMenus keeps app.appMenus in step with a form write (old nil = create,
// doc nil = delete), in the caller's transaction, as the original's
// FormDefService does: a new form appends {menuId, title, icon, iconColor,
// menuType 0, sortIndex max+100} to its app's menus; a rename renames the
// entry (wherever it is, groups' subMenus included); moving the form to
// another app moves the entry; a delete removes it.
func (s *Service) formMenus(ctx context.Context, tenant string, doc, old store.Doc) error {
	var id, oldApp, newApp, oldName, newName string
	if old != nil {
		id, _ = old["id"].(string)
		oldApp, _ = old["appId"].(string)
		oldName, _ = old["name"].(string)
	}
	if doc != nil {
		id, _ = doc["id"].(string)
		newApp, _ = doc["appId"].(string)
		newName, _ = doc["name"].(string)
	}
	if oldApp != "" && oldApp != newApp {
		if err := s.editMenus(ctx, tenant, oldApp, func(menus []any) ([]any, bool) {
			return removeMenu(menus, id)
		}); err != nil {
			return err
		}
	}
	if newApp == "" {
		return nil
	}
	return s.editMenus(ctx, tenant, newApp, func(menus []any) ([]any, bool) {
		if m := findMenu(menus, id); m != nil {
			if oldApp == newApp && oldName == newName && m["title"] == newName {
				return menus, false
			}
			m["title"] = newName
			return menus, true
		}
		top := int64(0)
		for _, e := range menus {
			if em, ok := e.(map[string]any); ok {
				if v, ok := toInt(em["sortIndex"]); ok && v > top {
					top = v
				}
			}
		}
		return append(menus, map[string]any{"menuId": id, "title": newName, "icon": "", "iconColor": "",
			"menuType": menuTypeForm, "sortIndex": top + menuSortStep}), true
	})
}

// editMenus applies edit to the appMenus of app appID and stores the app
// when edit reports a change. A missing app is left alone (a form's app is
// checked by completeForm; on delete the app may be gone already).
func (s *Service) editMenus(ctx context.Context, tenant, appID string, edit func([]any) ([]any, bool)) error {
	app, err := s.st.Get(ctx, collApp, tenant, appID)
	if errs.CodeOf(err) == errs.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	menus, _ := app["appMenus"].([]any)
	menus = cloneMenus(menus)
	menus, changed := edit(menus)
	if !changed {
		return nil
	}
	app["appMenus"] = menus
	app["updateTime"] = record.NextTime(app, s.now().UnixMilli())
	return s.st.Update(ctx, collApp, tenant, appID, app, nil)
}

// cloneMenus deep-copies a menu list (entries and their subMenus), so an
// edit never changes a document another reader holds.
func cloneMenus(menus []any) []any {
	out := make([]any, 0, len(menus)+1)
	for _, e := range menus {
		m, ok := e.(map[string]any)
		if !ok {
			out = append(out, e)
			continue
		}
		c := make(map[string]any, len(m))
		for k, v := range m {
			c[k] = v
		}
		if sub, ok := m["subMenus"].([]any); ok {
			c["subMenus"] = cloneMenus(sub)
		}
		out = append(out, c)
	}
	return out
}

// findMenu returns the entry whose menuId is id, searching groups' subMenus.
func findMenu(menus []any, id string) map[string]any {
	for _, e := range menus {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		if mid, _ := m["menuId"].(string); mid == id {
			return m
		}
		if sub, ok := m["subMenus"].([]any); ok {
			if f := findMenu(sub, id); f != nil {
				return f
			}
		}
	}
	return nil
}

// removeMenu removes the entries whose menuId is id, groups' subMenus included.
func removeMenu(menus []any, id string) ([]any, bool) {
	changed := false
	out := slices.DeleteFunc(menus, func(e any) bool {
		m, _ := e.(map[string]any)
		mid, _ := m["menuId"].(string)
		if m != nil && mid == id {
			changed = true
			return true
		}
		return false
	})
	for _, e := range out {
		m, _ := e.(map[string]any)
		if sub, ok := m["subMenus"].([]any); ok {
			if ns, c := removeMenu(sub, id); c {
				m["subMenus"] = ns
				changed = true
			}
		}
	}
	return out, changed
}

// formDeleted removes a deleted form's menu entry from its app and, as the
// original does, soft-deletes the form's records through the record core
// (each record's running workflow instance is cancelled with it), all in
// the form's delete transaction.
func (s *Service) formDeleted(ctx context.Context, p *principal.Principal, tenant string, old store.Doc) error {
	if err := s.formMenus(ctx, tenant, nil, old); err != nil {
		return err
	}
	id, _ := old["id"].(string)
	for {
		recs, err := s.st.Find(ctx, collFormData, tenant, query.Query{
			Filter: query.Cmp{Path: query.Path{"formId"}, Op: query.Eq, Value: id}, Limit: 500})
		if err != nil || len(recs) == 0 {
			return err
		}
		for _, r := range recs {
			if err := s.rec.Delete(ctx, p, r, 0, false); err != nil {
				return err
			}
		}
	}
}
