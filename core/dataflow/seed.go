package dataflow

import (
	"context"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// DefinitionSeed is a dataflow definition to seed.
type DefinitionSeed struct {
	// Key is the API name clients pass as dataFlowDefinitionId (required).
	Key     string
	Name    string
	AppID   string
	Version int64
	// Content is the §5.2 definition (object, JSON string or typed value).
	Content any
}

// SeedDefinition stores def in tenant unless a definition with its key
// exists (idempotent). The content is validated (and compiled) first.
func SeedDefinition(ctx context.Context, st store.Store, tenant string, def DefinitionSeed) error {
	if def.Key == "" {
		return errs.Invalidf("dataflow seed: key is required")
	}
	if _, err := ParseDefinition(def.Content); err != nil {
		return err
	}
	content, err := contentObject(def.Content)
	if err != nil {
		return err
	}
	return st.Tx(ctx, func(ctx context.Context) error {
		n, err := st.Count(ctx, CollDefinition, tenant, query.Cmp{Path: query.Path{"key"}, Op: query.Eq, Value: def.Key})
		if err != nil || n > 0 {
			return err
		}
		version := def.Version
		if version <= 0 {
			version = 1
		}
		name := def.Name
		if name == "" {
			name = def.Key
		}
		now := time.Now().UnixMilli()
		sys := map[string]any{"id": "", "value": "system", "label": "system"}
		return st.Insert(ctx, CollDefinition, store.Doc{"id": store.NewID(), "corpId": tenant, "key": def.Key,
			"name": name, "appId": def.AppID, "version": version, "flowType": "dataflow", "content": content,
			"createTime": now, "updateTime": now, "createBy": sys, "updateBy": sys})
	})
}

// ExampleOrderTotal is the demo dataflow `order_total`: inputData
// {"items":[{"price":2.5,"qty":4},…]} → output {"total": Σ price×qty}.
func ExampleOrderTotal() DefinitionSeed {
	return DefinitionSeed{Key: "order_total", Name: "订单合计", Version: 1, Content: map[string]any{
		"inputs": map[string]any{"items": "array"},
		"nodes": []any{map[string]any{"id": "sum", "type": "script",
			"script": "let t = 0; for (const i of input.items) t += i.price * i.qty; return {total: t};"}},
	}}
}
