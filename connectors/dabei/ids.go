package dabei

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Dabei ids are 32 lower-case hex characters (spec 1.5). A hub entity's
// Dabei id is its alias in namespace "dabei" when it has one (pinned ids,
// or ids allocated on first sight for hub ids that are not 24-hex), else
// the GUID spelling of its 24-hex hub id without the dashes (computed, no
// table). Ids are accepted back case-insensitively.

// Alias kinds.
const (
	kindApp    = "app"
	kindForm   = sdk.AliasKindForm
	kindRecord = sdk.AliasKindRecord
	kindUser   = sdk.AliasKindUser
	kindDept   = sdk.AliasKindDepartment
	kindTask   = "wftask"
	kindTenant = "tenant"
)

// allocPrefix is the prefix of allocated ids per kind (the rest: digits,
// 32 characters in all).
var allocPrefix = map[string]string{kindApp: "aa", kindForm: "fa", kindUser: "ea", kindDept: "da", kindRecord: "ba", kindTask: "ca"}

// IsDabeiID reports whether s is 32 hex characters.
func IsDabeiID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// guidExt is the computed Dabei id of a 24-hex hub id ("" otherwise).
func guidExt(hub string) string {
	g := sdk.GUID(hub)
	if g == hub || len(g) != 36 {
		return ""
	}
	return strings.ReplaceAll(g, "-", "")
}

// guidHub is the hub id a computed Dabei id stands for ("" otherwise).
func guidHub(ext string) string {
	if len(ext) != 32 {
		return ""
	}
	e := strings.ToLower(ext)
	g := e[0:8] + "-" + e[8:12] + "-" + e[12:16] + "-" + e[16:20] + "-" + e[20:32]
	if h := sdk.FromGUID(g); h != g {
		return h
	}
	return ""
}

// ExtIDs returns the Dabei ids of hub ids of kind (one Aliases call; a
// second one allocates for hub ids that have neither an alias nor a GUID
// spelling).
func (c *Call) ExtIDs(ctx context.Context, kind string, hub []string) (map[string]string, error) {
	out := make(map[string]string, len(hub))
	if len(hub) == 0 {
		return out, nil
	}
	res, err := c.Host.Aliases(ctx, c.Svc, sdk.AliasRequest{Namespace: aliasNS, Kind: kind, ToExt: hub})
	if err != nil {
		return nil, err
	}
	var alloc []string
	for _, h := range hub {
		if e := res.ToExt[h]; e != "" {
			out[h] = e
		} else if e := guidExt(h); e != "" {
			out[h] = e
		} else if h != "" {
			alloc = append(alloc, h)
		}
	}
	if len(alloc) > 0 {
		pre := allocPrefix[kind]
		res, err := c.Host.Aliases(ctx, c.Svc, sdk.AliasRequest{Namespace: aliasNS, Kind: kind, ToExt: alloc, Allocate: true, Prefix: pre, Width: 32 - len(pre)})
		if err != nil {
			return nil, err
		}
		for _, h := range alloc {
			out[h] = res.ToExt[h]
		}
	}
	return out, nil
}

// ExtID returns one hub id's Dabei id.
func (c *Call) ExtID(ctx context.Context, kind, hub string) (string, error) {
	if hub == "" {
		return "", nil
	}
	m, err := c.ExtIDs(ctx, kind, []string{hub})
	if err != nil {
		return "", err
	}
	return m[hub], nil
}

// HubID resolves a Dabei id of kind to its hub id ("" when it is no id of
// the caller's tenant's shape: not 32 hex, no alias, no GUID spelling).
// The hub id is still to be looked up in the caller's tenant.
func (c *Call) HubID(ctx context.Context, kind, ext string) (string, error) {
	if !IsDabeiID(ext) {
		return "", nil
	}
	e := strings.ToLower(ext)
	res, err := c.Host.Aliases(ctx, c.Svc, sdk.AliasRequest{Namespace: aliasNS, Kind: kind, ToHub: []string{e}})
	if err != nil {
		return "", err
	}
	if h := res.ToHub[e]; h != "" {
		return h, nil
	}
	return guidHub(e), nil
}

// tenantRoot is the Dabei id of the tenant (the pid of top-level
// departments, spec 7.1): its alias of kind "tenant", else a digest of the
// tenant id.
func (c *Call) tenantRoot(ctx context.Context) (string, error) {
	t := c.Svc.Tenant
	res, err := c.Host.Aliases(ctx, c.Svc, sdk.AliasRequest{Namespace: aliasNS, Kind: kindTenant, ToExt: []string{t}})
	if err != nil {
		return "", err
	}
	if e := res.ToExt[t]; e != "" {
		return e, nil
	}
	sum := md5.Sum([]byte("dabei-tenant:" + t))
	return hex.EncodeToString(sum[:]), nil
}
