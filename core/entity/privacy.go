package entity

import (
	"context"
	"slices"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// Who reads what (issue 10 #1):
//
//   - Kinds marked AdminRead (the outbox) are read by the tenant's
//     administrators only; anyone else gets 403 on every read path (list,
//     get, $count, $query, the Host API).
//   - A kind's Private properties (a user's workPhone and workEmail) are
//     personal contact data: only administrators and the document's own
//     user see them. For anyone else they are left out of every rendered
//     document — listings, single reads, $query, $expand targets at any
//     depth, Host API reads — and they can be neither filtered nor sorted
//     by (a filter would be an oracle: startswith(workPhone,'138')).
//
// The viewer travels in the context (principal.With, set by each read
// entry point); a render without a viewer redacts (fails closed).

// withViewer returns ctx carrying p as the reader of what is rendered.
func withViewer(ctx context.Context, p *principal.Principal) context.Context {
	return principal.With(ctx, p)
}

// checkRead refuses reads of an AdminRead kind by non-administrators.
func checkRead(p *principal.Principal, k *Kind) error {
	if k.AdminRead && !p.IsAdmin() {
		return errs.Forbiddenf("reading %s needs the admin role", k.Name)
	}
	return nil
}

// seesPrivate reports whether the viewer in ctx may see the private
// properties of doc (of kind k).
func seesPrivate(ctx context.Context, k *Kind, doc store.Doc) bool {
	p, ok := principal.From(ctx)
	if !ok {
		return false
	}
	if p.IsAdmin() {
		return true
	}
	id, _ := doc["id"].(string)
	return k.Coll == collUser && id != "" && id == p.UserID || seesFilePaths(p, k, doc)
}

// redact drops k's private properties from out (rendered from doc) unless
// the viewer may see them.
func redact(ctx context.Context, k *Kind, doc store.Doc, out map[string]any) {
	if len(k.Private) == 0 || seesPrivate(ctx, k, doc) {
		return
	}
	for _, name := range k.Private {
		delete(out, name)
	}
}

// guardResolver hides k's private properties from the filters and sorts
// of a non-administrator (they resolve as unknown members).
func guardResolver(ctx context.Context, k *Kind, res query.Resolver) query.Resolver {
	if len(k.Private) == 0 {
		return res
	}
	if p, ok := principal.From(ctx); ok && p.IsAdmin() {
		return res
	}
	return query.ResolverFunc(func(segs []string) (query.Field, error) {
		if len(segs) > 0 && slices.ContainsFunc(k.Private, func(n string) bool { return strings.EqualFold(n, segs[0]) }) {
			return query.Field{}, unknownMember(strings.Join(segs, "/"))
		}
		return res.Resolve(segs)
	})
}
