package identity

import (
	"context"
	"slices"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
)

// maxUnlockAudits bounds how many failed-login audit records Unlock reads
// to find the source addresses a user is locked for.
const maxUnlockAudits = 10000

// UnlockResult says what Unlock cleared.
type UnlockResult struct {
	// UserID is the user the login names ("" when it names no active user:
	// the lockout of that login string was cleared).
	UserID string
	// Addresses are the source IPs whose (user, IP) lockout and failure
	// counter were cleared: every address with a failed attempt in the
	// last LockoutWindow (from the loginaudit collection).
	Addresses []string
}

// Unlock clears the password-login lockout of login in tenant (an
// operator's `eimshub user unlock`): the user-wide lock and failure
// counter, and the per-(user, source IP) locks and counters of every
// address that failed within LockoutWindow. The lockout lives in the cache,
// so with Redis this works from another process while the hub runs; with
// the in-process cache only a running hub's own Service can clear it.
func (s *Service) Unlock(ctx context.Context, tenant, login string) (UnlockResult, error) {
	if tenant == "" || login == "" {
		return UnlockResult{}, errs.Invalidf("tenant and user are required")
	}
	u, err := s.findUserByLogin(ctx, tenant, login)
	if err != nil {
		return UnlockResult{}, err
	}
	k := bruteKey(tenant, login, u)
	var res UnlockResult
	who := query.Expr(query.Cmp{Path: query.Path{"login"}, Op: query.Eq, Value: login})
	if u != nil {
		res.UserID = u.ID
		who = query.Cmp{Path: query.Path{"userId"}, Op: query.Eq, Value: u.ID}
	}
	// A lock set at the attempt that reached the limit expires LockoutWindow
	// later; that attempt's audit is therefore within the window (plus a
	// minute of clock slack between instances).
	since := s.now().Add(-s.cfg.LockoutWindow - time.Minute).UnixMilli()
	docs, err := s.st.Find(ctx, collLoginAudit, tenant, query.Query{
		Filter: query.And{Items: []query.Expr{who,
			query.Cmp{Path: query.Path{"success"}, Op: query.Eq, Value: false},
			query.Cmp{Path: query.Path{"createTime"}, Op: query.Ge, Value: since},
		}},
		Sort:  []query.Sort{{Path: query.Path{"createTime"}, Desc: true}},
		Limit: maxUnlockAudits,
	})
	if err != nil {
		return UnlockResult{}, errs.Wrap(errs.Unavailable, err, "read login audit")
	}
	keys := []string{lockKey(k), failKey(k)}
	for _, d := range docs {
		ip, _ := d["ip"].(string)
		if slices.Contains(res.Addresses, ip) {
			continue
		}
		res.Addresses = append(res.Addresses, ip)
		keys = append(keys, lockKey(pairKey(k, ip)), failKey(pairKey(k, ip)))
	}
	slices.Sort(res.Addresses)
	if err := s.c.Del(ctx, keys...); err != nil {
		return UnlockResult{}, errs.Wrap(errs.Unavailable, err, "clear lockout")
	}
	s.log.InfoContext(ctx, "login lockout cleared", "tenant", tenant, "user_id", res.UserID, "addresses", len(res.Addresses))
	return res, nil
}
