package eoffice

import (
	"context"
	"strconv"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// e-office ids are core aliases in namespace "eoffice" (spec §7): users
// "WV" + 8 digits (pinned ones such as "admin" come from the YAML),
// departments, roles and form-modeling rows plain integers. A hub entity
// gets its e-office id the first time the connector shows it, and keeps it.

// Alias kinds.
const (
	kindUser = sdk.AliasKindUser
	kindDept = sdk.AliasKindDepartment
	kindRole = "role"
	kindData = sdk.AliasKindRecord
)

// sequences of allocated ids per kind.
var sequences = map[string][2]any{
	kindUser: {"WV", 8},
	kindDept: {"", 0},
	kindRole: {"", 0},
	kindData: {"", 0},
}

// ExtIDs returns the e-office ids of hub ids of kind, allocating the
// missing ones (one Host call).
func ExtIDs(ctx context.Context, h sdk.Host, p *sdk.Principal, kind string, hub []string) (map[string]string, error) {
	if len(hub) == 0 {
		return map[string]string{}, nil
	}
	seq := sequences[kind]
	prefix, _ := seq[0].(string)
	width, _ := seq[1].(int)
	res, err := h.Aliases(ctx, p, sdk.AliasRequest{Namespace: aliasNS, Kind: kind, ToExt: hub, Allocate: true, Prefix: prefix, Width: width})
	if err != nil {
		return nil, FromHost(err, nil)
	}
	return res.ToExt, nil
}

// hubIDs resolves e-office ids of kind to hub ids (unknown ones absent).
func hubIDs(ctx context.Context, h sdk.Host, p *sdk.Principal, kind string, ext []string) (map[string]string, error) {
	if len(ext) == 0 {
		return map[string]string{}, nil
	}
	res, err := h.Aliases(ctx, p, sdk.AliasRequest{Namespace: aliasNS, Kind: kind, ToHub: ext})
	if err != nil {
		return nil, FromHost(err, nil)
	}
	return res.ToHub, nil
}

// HubIDs resolves e-office ids of kind to hub ids for c's principal.
func (c *Call) HubIDs(ctx context.Context, kind string, ext []string) (map[string]string, error) {
	return hubIDs(ctx, c.Host, c.P, kind, ext)
}

// hubID resolves one e-office id of kind to its hub id ("" when unknown).
func (c *Call) hubID(ctx context.Context, kind string, ext string) (string, error) {
	hub, err := c.HubIDs(ctx, kind, []string{ext})
	if err != nil {
		return "", err
	}
	return hub[ext], nil
}

// numeric renders an allocated integer id as a JSON number (dept_id,
// role_id, data_id are integers); a non-numeric id stays a string.
func numeric(s string) any {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	return s
}
