package host

import (
	"context"

	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// The generic entity calls of the Host API v2: a thin translation onto the
// entity service's native entry points (the code /api/v1 runs), so a
// connector acting as p can do exactly what p can do natively — same
// tenant, admin-only kinds, owner rules, record locks, data scope, private
// properties, read-only kinds (MethodNotAllowed). The scope check (read /
// readwrite) is the bearer middleware's equivalent.

// EntityFind implements sdk.Host.
func (b *bridge) EntityFind(ctx context.Context, p *sdk.Principal, name string, q sdk.Query, o sdk.EntityOptions) (sdk.Page, error) {
	cp, err := reader(p)
	if err != nil {
		return sdk.Page{}, err
	}
	items, total, err := b.ents.Find(ctx, cp, name, q, entity.FindOptions{Count: o.Count, Expand: o.Expand})
	if err != nil {
		return sdk.Page{}, err
	}
	return sdk.Page{Items: items, Total: total}, nil
}

// EntityGet implements sdk.Host (GET /api/v1/{entity}/{id}?$expand=).
func (b *bridge) EntityGet(ctx context.Context, p *sdk.Principal, name, id string, o sdk.EntityOptions) (sdk.Doc, error) {
	cp, err := reader(p)
	if err != nil {
		return nil, err
	}
	return b.ents.Get(ctx, cp, name, id, "", o.Expand)
}

// EntityCreate implements sdk.Host (POST /api/v1/{entity}).
func (b *bridge) EntityCreate(ctx context.Context, p *sdk.Principal, name string, body sdk.Doc) (sdk.Doc, error) {
	cp, err := writer(p)
	if err != nil {
		return nil, err
	}
	if body == nil {
		body = sdk.Doc{}
	}
	return b.ents.Create(ctx, cp, name, body)
}

// EntityUpdate implements sdk.Host (PATCH /api/v1/{entity}/{id}).
func (b *bridge) EntityUpdate(ctx context.Context, p *sdk.Principal, name, id string, body sdk.Doc, o sdk.EntityOptions) (sdk.Doc, error) {
	cp, err := writer(p)
	if err != nil {
		return nil, err
	}
	if body == nil {
		body = sdk.Doc{}
	}
	return b.ents.Update(ctx, cp, name, id, body, entity.IfMatch(o.IfMatch))
}

// EntityDelete implements sdk.Host (DELETE /api/v1/{entity}/{id}).
func (b *bridge) EntityDelete(ctx context.Context, p *sdk.Principal, name, id string, o sdk.EntityOptions) error {
	cp, err := writer(p)
	if err != nil {
		return err
	}
	return b.ents.Delete(ctx, cp, name, id, entity.IfMatch(o.IfMatch))
}
