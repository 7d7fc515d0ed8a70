package host

import (
	"context"
	"maps"

	"github.com/eimshub/eimshub/core/alias"
	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// Aliases implements sdk.Host over core/alias: lookups in both directions
// need a read scope; allocation a write scope and, for the kinds only
// administrators write (users, departments, roles, …), the admin role —
// the same principal could not create such an entity natively either.
func (b *bridge) Aliases(ctx context.Context, p *sdk.Principal, r sdk.AliasRequest) (*sdk.AliasResult, error) {
	cp, err := reader(p)
	if err != nil {
		return nil, err
	}
	if b.aliases == nil {
		return nil, errs.New(errs.Unavailable, "aliases are not available to connectors")
	}
	out := &sdk.AliasResult{ToHub: map[string]string{}, ToExt: map[string]string{}}
	if len(r.ToHub) > 0 {
		if out.ToHub, err = b.aliases.ToHub(ctx, cp.Tenant, r.Namespace, r.Kind, r.ToHub); err != nil {
			return nil, err
		}
	}
	if len(r.ToExt) == 0 {
		return out, nil
	}
	if !r.Allocate {
		if out.ToExt, err = b.aliases.ToExt(ctx, cp.Tenant, r.Namespace, r.Kind, r.ToExt); err != nil {
			return nil, err
		}
		return out, nil
	}
	if cp, err = writer(p); err != nil {
		return nil, err
	}
	if k, ok := entity.Builtin(r.Kind); ok && k.AdminOnly && !cp.IsAdmin() {
		return nil, errs.Forbiddenf("allocating %s aliases needs the admin role", r.Kind).WithTarget("kind")
	}
	if out.ToExt, err = b.aliases.Allocate(ctx, cp.Tenant, r.Namespace, r.Kind, r.ToExt,
		alias.Sequence{Prefix: r.Prefix, Width: r.Width}); err != nil {
		return nil, err
	}
	return out, nil
}

// pageAliases resolves the aliases of a page's records, users and
// departments in namespace ns (FindRecords WithAliases): one store query per
// kind and 1000 ids, in the hub — no call back from the connector.
func (b *bridge) pageAliases(ctx context.Context, tenant, ns string, items []sdk.Doc) (map[string]map[string]string, error) {
	if b.aliases == nil {
		return nil, errs.New(errs.Unavailable, "aliases are not available to connectors")
	}
	out := map[string]map[string]string{}
	for kind, ids := range sdk.AliasIDs(items) {
		for len(ids) > 0 {
			n := min(len(ids), alias.MaxBatch)
			m, err := b.aliases.ToExt(ctx, tenant, ns, kind, ids[:n])
			if err != nil {
				return nil, err
			}
			ids = ids[n:]
			if len(m) == 0 {
				continue
			}
			if out[kind] == nil {
				out[kind] = m
			} else {
				maps.Copy(out[kind], m)
			}
		}
	}
	return out, nil
}
