package entity

import (
	"context"
	"fmt"

	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
)

// MigrateWebClient brings documents stored before the web client support
// (spec §12.10, §12.11, §12.17) to the shapes the client needs; it runs at
// start, is idempotent and writes only what is missing:
//
//   - a form without a designer layout gets one synthesised from its items
//     (and the client's default options), and — in the same transaction, as
//     a form created now would — its menu entry in its app's appMenus, unless
//     the app lists it already;
//   - an app without appMenus gets an empty list (the client reads it);
//   - a workflow definition gets the §12.11 shape: flowType 0 (was the
//     string "workflow"), externalId = sourceId, eventSource 0, disabled
//     false; version, isCurrent and released are left as they are (a
//     definition without isCurrent is found as the highest version).
//
// A form whose stored content does not parse is logged and left alone. It
// returns how many documents it changed.
func (s *Service) MigrateWebClient(ctx context.Context) (int, error) {
	tenants, err := record.Tenants(ctx, s.st)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, tenant := range tenants {
		n, err := s.migrateTenant(ctx, tenant)
		if err != nil {
			return total, fmt.Errorf("migrate tenant %s: %w", tenant, err)
		}
		total += n
	}
	if total > 0 {
		s.log.InfoContext(ctx, "stored forms and workflow definitions migrated for the web client", "documents", total)
	}
	return total, nil
}

func (s *Service) migrateTenant(ctx context.Context, tenant string) (int, error) {
	n := 0
	forms := 0
	err := s.st.Tx(ctx, func(ctx context.Context) error {
		apps, err := s.st.Find(ctx, collApp, tenant, query.Query{
			Filter: query.Null{Path: query.Path{"appMenus"}, IsNull: true}, Limit: -1})
		if err != nil {
			return err
		}
		for _, a := range apps {
			a["appMenus"] = []any{}
			id, _ := a["id"].(string)
			if err := s.st.Update(ctx, collApp, tenant, id, a, nil); err != nil {
				return err
			}
			n++
		}
		docs, err := s.st.Find(ctx, collForm, tenant, query.Query{Limit: -1})
		if err != nil {
			return err
		}
		for _, d := range docs {
			if schema.IsDesignerContent(d["content"]) {
				continue
			}
			id, _ := d["id"].(string)
			stored, _, err := schema.NormalizeContent(d["content"])
			if d["content"] == nil {
				err = designForm(d)
				stored, _ = d["content"].(map[string]any)
			}
			if err != nil {
				s.log.WarnContext(ctx, "form content does not parse; not migrated", "tenant", tenant, "form", id, "err", err)
				continue
			}
			d["content"] = stored
			if err := s.st.Update(ctx, collForm, tenant, id, d, nil); err != nil {
				return err
			}
			if err := s.formMenus(ctx, tenant, d, nil); err != nil {
				return err
			}
			n++
			forms++
		}
		defs, err := s.st.Find(ctx, collWfDefinition, tenant, query.Query{Limit: -1})
		if err != nil {
			return err
		}
		for _, d := range defs {
			if migrateDefinition(d) {
				id, _ := d["id"].(string)
				if err := s.st.Update(ctx, collWfDefinition, tenant, id, d, nil); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	if err == nil && forms > 0 {
		s.rec.FormsChanged(ctx, tenant)
	}
	return n, err
}

// migrateDefinition sets the §12.11 properties a stored workflow definition
// lacks; it reports whether it changed d.
func migrateDefinition(d store.Doc) bool {
	changed := false
	if _, isInt := d["flowType"].(int64); !isInt {
		d["flowType"], changed = int64(0), true
	}
	if ext, _ := d["externalId"].(string); ext == "" {
		if src, _ := d["sourceId"].(string); src != "" {
			d["externalId"], changed = src, true
		}
	}
	if _, ok := d["eventSource"].(int64); !ok {
		d["eventSource"], changed = int64(0), true
	}
	if _, ok := d["disabled"].(bool); !ok {
		d["disabled"], changed = false, true
	}
	return changed
}
