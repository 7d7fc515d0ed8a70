package identity

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/store"
)

// Brute-force protection (§2.2, issue 10 #11): MaxFailedLogins failed
// password attempts for one user from one source IP within LockoutWindow
// lock that (user, IP) pair for LockoutWindow; MaxFailedLoginsPerUser
// failures from all IPs together lock the user. Locked attempts answer
// invalid_grant with DescLocked and Retry-After, without checking the
// password. Attempts naming no user are counted per login string the same
// way, so the answer (and its timing) does not tell whether the user exists.

func bruteKey(tenant, login string, u *user) string {
	if u != nil {
		return "bf:" + tenant + ":u:" + u.ID
	}
	return "bf:" + tenant + ":l:" + strings.ToLower(login)
}

// pairKey is the (user or login, source IP) key under k.
func pairKey(k, ip string) string { return k + ":ip:" + ip }

func failKey(k string) string { return k + ":n" }
func lockKey(k string) string { return k + ":lock" }

// lockedFor returns how long the pair or the user stays locked (0 = not
// locked).
func (s *Service) lockedFor(ctx context.Context, k, ip string) (time.Duration, error) {
	vals, err := s.c.MGet(ctx, lockKey(pairKey(k, ip)), lockKey(k))
	if err != nil {
		return 0, errs.Wrap(errs.Unavailable, err, "read lockout")
	}
	var wait time.Duration
	for _, v := range vals {
		if v == nil {
			continue
		}
		until, err := strconv.ParseInt(string(v), 10, 64)
		d := time.UnixMilli(until).Sub(s.now())
		if err != nil || d <= 0 {
			d = time.Second // unreadable or just expiring: still locked now
		}
		wait = max(wait, d)
	}
	return wait, nil
}

// recordFailure counts a failed attempt for the pair and for the user.
func (s *Service) recordFailure(ctx context.Context, k, ip string) error {
	if err := s.countFailure(ctx, pairKey(k, ip), s.cfg.MaxFailedLogins); err != nil {
		return err
	}
	return s.countFailure(ctx, k, s.cfg.MaxFailedLoginsPerUser)
}

func (s *Service) countFailure(ctx context.Context, k string, limit int) error {
	n, err := s.c.Incr(ctx, failKey(k), s.cfg.LockoutWindow)
	if err != nil {
		return err
	}
	if n >= int64(limit) {
		until := strconv.FormatInt(s.now().Add(s.cfg.LockoutWindow).UnixMilli(), 10)
		if err := s.c.Set(ctx, lockKey(k), []byte(until), s.cfg.LockoutWindow); err != nil {
			return err
		}
		if err := s.c.Del(ctx, failKey(k)); err != nil {
			return err
		}
	}
	return nil
}

// audit is one login attempt for the loginaudit collection (§2.2).
type audit struct {
	tenant, login, clientID, ip, grant string
	userID                             string
	success                            bool
	reason                             string
}

func (a audit) fail(u *user, reason string) audit {
	if u != nil {
		a.userID = u.ID
	}
	a.reason = reason
	return a
}

func (a audit) ok(u *user) audit {
	if u != nil {
		a.userID = u.ID
	}
	a.success = true
	return a
}

// writeAudit records a login attempt. A failed write is logged, not
// returned: the audit must not decide whether someone can log in.
func (s *Service) writeAudit(ctx context.Context, a audit) {
	now := s.now().UnixMilli()
	doc := store.Doc{
		"id": store.NewID(), "corpId": a.tenant,
		"userId": a.userID, "login": a.login, "clientId": a.clientID, "ip": a.ip,
		"grant": a.grant, "success": a.success, "reason": a.reason,
		"createTime": now, "updateTime": now,
	}
	if err := s.st.Insert(ctx, collLoginAudit, doc); err != nil {
		s.log.WarnContext(ctx, "login audit not written", "err", err)
	}
	lvl := "login succeeded"
	if !a.success {
		lvl = "login failed"
	}
	s.log.InfoContext(ctx, lvl, "tenant", a.tenant, "user_id", a.userID, "client_id", a.clientID,
		"ip", a.ip, "grant", a.grant, "reason", a.reason)
}
