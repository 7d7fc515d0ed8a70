package h3yun

import (
	"context"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Aliases (issue 11 #6): companies migrating from H3Yun keep systems that
// store H3Yun's own GUIDs. The administrator binds them to hub entities in
// the YAML seed (`aliases: {h3yun: <guid>}` on users, departments and
// forms) or a tool does through the Host API; this connector then
//
//   - shows the alias where one exists, else the computed GUID: ObjectId
//     (records), OwnerId/CreatedBy/ModifiedBy (users) and OwnerDeptId
//     (departments) of LoadBizObject(s) — resolved by the hub inside the
//     read (FindRecords WithAliases), no call of its own;
//   - accepts an alias wherever it reads those ids: BizObjectId and
//     OwnerId/CreatedBy — one batch Aliases call per request, made only
//     when an id has the shape of a GUID (H3Yun's ids are GUIDs) and is
//     not the GUID of a hub id; other requests pay nothing.
//
// Not aliased: child-table row ids, WorkflowInstanceId, attachment ids and
// the user/department values inside form fields (computed GUIDs only), and
// ids inside a Matcher (a Matcher on ObjectId/OwnerId compares hub ids).
// A form's H3Yun SchemaCode alias is seeded (kind "form") for tools; the
// connector addresses forms by key.

// aliasNS is this dialect's alias namespace.
const aliasNS = "h3yun"

// isHubID reports whether s is a hub id (24 lower-case hex digits): what
// hubID returns for a hub id or its GUID spelling.
func isHubID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// foreignGUID reports whether s is shaped 8-4-4-4-12 hex (braces allowed)
// but is no hub id's GUID: an id only an alias can name.
func foreignGUID(s string) bool {
	if isHubID(s) {
		return false
	}
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'):
			return false
		}
	}
	return true
}

// resolveAliases replaces, in place, the ids of kind that are not hub ids
// by the hub ids their aliases name (one Aliases call for all; none when
// every id is a hub id). Ids without an alias stay as given: they name
// nothing, and the Host says so.
func (k *call) resolveAliases(ctx context.Context, kind string, ids ...*string) error {
	var ext []string
	for _, p := range ids {
		if foreignGUID(*p) {
			ext = append(ext, *p)
		}
	}
	if len(ext) == 0 {
		return nil
	}
	r, err := k.host.Aliases(ctx, k.p, sdk.AliasRequest{Namespace: aliasNS, Kind: kind, ToHub: ext})
	if err != nil {
		return fromHost(err, nil)
	}
	for _, p := range ids {
		if h, ok := r.ToHub[*p]; ok {
			*p = h
		}
	}
	return nil
}

// ext is how this converter shows a hub id of kind: its alias when the
// read brought one, else the computed GUID.
func (c *converter) ext(kind, id string) string {
	if e, ok := c.aliases[kind][id]; ok {
		return e
	}
	return extID(id)
}
