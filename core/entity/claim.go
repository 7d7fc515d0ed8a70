package entity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// Claims make "check, then write" rules safe on MongoDB.
//
// A unique value (a user's userName, a role's code, a form's key), the next
// version number of a workflow and a workflow's current version are checked
// by reading, then written. On SQLite writers are serialised, so nothing
// can come between the read and the write. A MongoDB transaction reads a
// snapshot and locks only the documents it writes: two transactions can
// both see "userName alice is free" and both insert a user alice, or both
// take version 4. Each such rule therefore also writes one claim document,
// named after the claimed value, in the same transaction: creating it, or
// moving it to its new owner with a compare-and-set on the old owner. Two
// transactions claiming the same value write the same document, and
// MongoDB lets only one of them commit (duplicate key or write conflict,
// both errs.Conflict); the other fails Conflict, as if it had run second.
//
// A claim is not released when its owner lets the value go (renamed,
// deleted): the rule's own read decides whether the value is free, and a
// free value's claim moves to its new owner.
const collClaim = "claim"

// claimID names the claim of value under (coll, rule) in tenant.
func claimID(tenant, coll, rule, value string) string {
	h := sha256.New()
	for _, s := range []string{tenant, coll, rule, value} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "claim_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// claim makes owner the holder of value under (coll, rule) in the caller's
// transaction; Conflict (with target) when a concurrent transaction claims
// it too. The caller has already decided, by its own read, that owner may
// hold the value.
func (s *Service) claim(ctx context.Context, tenant, coll, rule, value, owner, target string) error {
	if owner == "" {
		return nil
	}
	id := claimID(tenant, coll, rule, value)
	old, err := s.st.Get(ctx, collClaim, tenant, id)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		err = s.st.Insert(ctx, collClaim, store.Doc{"id": id, "corpId": tenant, "coll": coll, "rule": rule, "owner": owner})
	case err != nil:
		return err
	default:
		prev, _ := old["owner"].(string)
		if prev == owner {
			return nil
		}
		next := maps.Clone(old)
		next["owner"] = owner
		err = s.st.Update(ctx, collClaim, tenant, id, next, query.Cmp{Path: query.Path{"owner"}, Op: query.Eq, Value: prev})
	}
	if errs.CodeOf(err) == errs.Conflict {
		return errs.Conflictf("%s %q is being claimed by another write; try again", rule, value).WithTarget(target)
	}
	return err
}
