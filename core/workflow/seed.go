package workflow

import (
	"context"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// DefinitionSeed is a workflow definition to seed (from code or config).
type DefinitionSeed struct {
	// Key is the API name clients pass as flowDefinitionId (required).
	Key  string
	Name string
	// Form is the form's id or key (stored as sourceId, resolved to the id
	// when the form exists).
	Form    string
	AppID   string
	Version int64
	// Content is the §5.2 definition (object, JSON string or typed value).
	Content any
}

// SeedDefinition stores def in tenant unless a definition with its key
// exists (idempotent: an existing definition, possibly edited by an admin,
// is left alone). The content is validated first.
func SeedDefinition(ctx context.Context, st store.Store, tenant string, def DefinitionSeed) error {
	if def.Key == "" || def.Form == "" {
		return errs.Invalidf("workflow seed: key and form are required")
	}
	parsed, err := ParseDefinition(def.Content)
	if err != nil {
		return err
	}
	return st.Tx(ctx, func(ctx context.Context) error {
		n, err := st.Count(ctx, CollDefinition, tenant, eq("key", def.Key))
		if err != nil || n > 0 {
			return err
		}
		source, app := def.Form, def.AppID
		if f, err := st.Get(ctx, collForm, tenant, def.Form); err == nil {
			source, app = str(f, "id"), firstNonEmpty(app, str(f, "appId"))
		} else if found, ferr := st.Find(ctx, collForm, tenant, query.Query{Filter: eq("key", def.Form), Limit: 1}); ferr == nil && len(found) > 0 {
			source, app = str(found[0], "id"), firstNonEmpty(app, str(found[0], "appId"))
		}
		version := def.Version
		if version <= 0 {
			version = 1
		}
		now := time.Now().UnixMilli()
		sys := map[string]any{"id": "", "value": "system", "label": "system"}
		return st.Insert(ctx, CollDefinition, store.Doc{"id": store.NewID(), "corpId": tenant, "key": def.Key,
			"name": firstNonEmpty(def.Name, def.Key), "appId": app, "sourceId": source, "version": version,
			// §12.11 shape: a configured workflow is its form's current, released version.
			"flowType": int64(0), "externalId": source, "eventSource": int64(0), "disabled": false,
			"isCurrent": true, "released": true,
			"content": parsed.ToContent(), "createTime": now, "updateTime": now,
			"createBy": sys, "updateBy": sys})
	})
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ExampleLeaveApproval is the example config's `leave_approval` on form
// `leave_request`: node 1 the initiator's department manager, node 2 the
// admin user when the leave is longer than 3 days.
func ExampleLeaveApproval() DefinitionSeed {
	return DefinitionSeed{
		Key: "leave_approval", Name: "请假审批", Form: "leave_request", Version: 1,
		Content: map[string]any{"nodes": []any{
			map[string]any{"id": "start", "type": "start"},
			map[string]any{"id": "n_mgr", "type": "approve", "name": "主管审批",
				"assignees": map[string]any{"initiatorManager": true}},
			map[string]any{"id": "n_admin", "type": "approve", "name": "管理员审批",
				"assignees": map[string]any{"users": []any{"admin"}}, "when": "data/days gt 3"},
			map[string]any{"id": "end", "type": "end"},
		}},
	}
}
