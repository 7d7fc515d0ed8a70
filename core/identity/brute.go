package identity

import (
	"context"
	"errors"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/store"
)

// Brute-force protection (§2.2): MaxFailedLogins failed password attempts
// for one user within LockoutWindow lock that user's password logins for
// LockoutWindow; locked attempts answer invalid_grant without checking the
// password. Attempts naming no user are counted per login string, so the
// answer (and its timing) does not tell whether the user exists.

func bruteKey(tenant, login string, u *user) string {
	if u != nil {
		return "bf:" + tenant + ":u:" + u.ID
	}
	return "bf:" + tenant + ":l:" + strings.ToLower(login)
}

func failKey(k string) string { return k + ":n" }
func lockKey(k string) string { return k + ":lock" }

func (s *Service) isLocked(ctx context.Context, k string) (bool, error) {
	_, err := s.c.Get(ctx, lockKey(k))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, errs.E(errs.NotFound)):
		return false, nil
	}
	return false, errs.Wrap(errs.Unavailable, err, "read lockout")
}

func (s *Service) recordFailure(ctx context.Context, k string) error {
	n, err := s.c.Incr(ctx, failKey(k), s.cfg.LockoutWindow)
	if err != nil {
		return err
	}
	if n >= int64(s.cfg.MaxFailedLogins) {
		if err := s.c.Set(ctx, lockKey(k), []byte("1"), s.cfg.LockoutWindow); err != nil {
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
