package entity

import (
	"context"
	"slices"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/store"
)

// Revoker ends every access and refresh token issued to a user so far
// (implemented by *identity.Service).
type Revoker interface {
	RevokeUser(ctx context.Context, tenant, userID string) error
}

// DirectoryInvalidator is implemented by a Revoker that also caches users
// (identity.Service, issue 11 #2): it is told of every user update or
// delete and every role change that rewrites users, inside the write's
// transaction (an error rolls the write back) and again after commit.
type DirectoryInvalidator interface {
	InvalidateDirectory(ctx context.Context, tenant string) error
}

// Token revocation on user and role changes (issue 10 #2). Access tokens
// carry the user's role codes for up to 8 h; every write that changes what
// a user may do ends their tokens and refresh-token families:
//
//   - a user's status, password or role list changes, or the user is deleted;
//   - a role's code changes (tokens carry codes) or the role is deleted —
//     for every user holding it; a deleted role is also removed from those
//     users, so a new login does not bring it back; a renamed role's name
//     is updated in them.
//
// The revocation is written inside the write's transaction (a failure —
// the cache down — rolls the change back: a demotion never commits with
// tokens left valid) and once more after commit, so a token minted from the
// old document between the two is ended too. The identity service reads
// revocation marks through a near cache of at most one second, so every
// instance refuses the old tokens within a second.

// revokeUsers revokes the users' tokens now and returns the after-commit
// repeat. Without a Revoker it does nothing.
func (s *Service) revokeUsers(ctx context.Context, tenant string, ids []string) (func(context.Context), error) {
	if s.revoker == nil || len(ids) == 0 {
		return nil, nil
	}
	for _, id := range ids {
		if err := s.revoker.RevokeUser(ctx, tenant, id); err != nil {
			return nil, errs.Wrap(errs.Unavailable, err, "revoke the user's tokens")
		}
	}
	return func(ctx context.Context) {
		for _, id := range ids {
			if err := s.revoker.RevokeUser(ctx, tenant, id); err != nil {
				s.log.ErrorContext(ctx, "entity: token revocation after commit failed (revoked before commit)", "user", id, "err", err)
			}
		}
	}, nil
}

// invalidateUsers tells the Revoker's user cache (when it has one) that
// users of tenant changed, and returns the after-commit repeat.
func (s *Service) invalidateUsers(ctx context.Context, tenant string) (func(context.Context), error) {
	inv, ok := s.revoker.(DirectoryInvalidator)
	if !ok {
		return nil, nil
	}
	if err := inv.InvalidateDirectory(ctx, tenant); err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "invalidate the cached users")
	}
	return func(ctx context.Context) {
		if err := inv.InvalidateDirectory(ctx, tenant); err != nil {
			s.log.ErrorContext(ctx, "entity: user cache invalidation after commit failed (invalidated before commit)", "tenant", tenant, "err", err)
		}
	}, nil
}

// thenRun runs a, then b (either may be nil).
func thenRun(a, b func(context.Context)) func(context.Context) {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return func(ctx context.Context) { a(ctx); b(ctx) }
}

// userAccessChanged reports whether an update changes what the user's
// tokens stand for: status, password or roles.
func userAccessChanged(old, doc store.Doc) bool {
	if record.TimeOf(old["status"]) != record.TimeOf(doc["status"]) {
		return true
	}
	oldHash, _ := old["passwordHash"].(string)
	newHash, _ := doc["passwordHash"].(string)
	if oldHash != newHash {
		return true
	}
	return !slices.Equal(roleKeys(old), roleKeys(doc))
}

// roleKeys lists a user's roles as "id\x00code".
func roleKeys(d store.Doc) []string {
	rs, _ := d["roles"].([]any)
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		if m, ok := r.(map[string]any); ok {
			id, _ := m["roleId"].(string)
			code, _ := m["roleCode"].(string)
			out = append(out, id+"\x00"+code)
		}
	}
	slices.Sort(out)
	return out
}

// userWritten handles a user update (old != nil) or delete (doc == nil).
func (s *Service) userWritten(ctx context.Context, tenant string, old, doc store.Doc) (func(context.Context), error) {
	if old == nil {
		return nil, nil
	}
	inv, err := s.invalidateUsers(ctx, tenant)
	if err != nil || doc != nil && !userAccessChanged(old, doc) {
		return inv, err
	}
	id, _ := old["id"].(string)
	rev, err := s.revokeUsers(ctx, tenant, []string{id})
	return thenRun(inv, rev), err
}

// roleWritten handles a role update (old and doc set) or delete (doc ==
// nil): it rewrites the users holding the role and revokes their tokens
// when what their tokens carry changes.
func (s *Service) roleWritten(ctx context.Context, tenant string, old, doc store.Doc) (func(context.Context), error) {
	if old == nil {
		return nil, nil
	}
	roleID, _ := old["id"].(string)
	if doc != nil && old["code"] == doc["code"] && old["name"] == doc["name"] {
		return nil, nil
	}
	users, err := s.st.Find(ctx, collUser, tenant, query.Query{
		Filter: query.Null{Path: query.Path{"roles"}, IsNull: false}, Limit: -1})
	if err != nil {
		return nil, err
	}
	inv, err := s.invalidateUsers(ctx, tenant)
	if err != nil {
		return nil, err
	}
	var revoke []string
	for _, u := range users {
		rs, _ := u["roles"].([]any)
		kept := make([]any, 0, len(rs))
		held := false
		for _, r := range rs {
			m, ok := r.(map[string]any)
			if !ok || m["roleId"] != roleID {
				kept = append(kept, r)
				continue
			}
			held = true
			if doc != nil {
				kept = append(kept, map[string]any{"roleId": roleID, "roleName": doc["name"], "roleCode": doc["code"]})
			}
		}
		if !held {
			continue
		}
		u["roles"] = kept
		uid, _ := u["id"].(string)
		if err := s.st.Update(ctx, collUser, tenant, uid, u, nil); err != nil {
			return nil, err
		}
		if doc == nil || old["code"] != doc["code"] {
			revoke = append(revoke, uid)
		}
	}
	rev, err := s.revokeUsers(ctx, tenant, revoke)
	return thenRun(inv, rev), err
}
