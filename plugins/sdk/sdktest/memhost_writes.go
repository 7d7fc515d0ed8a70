package sdktest

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// MemHost's model of the messaging kinds' write rules (the hub's
// core/entity/messaging.go): messages and notices, the outbox, the audit
// log and schedules. HostWrites checks that MemHost and the real hub agree.

// PermMessageSend is the permission that lets a non-administrator send
// messages and queue e-mail and SMS (the hub's entity.PermMessageSend).
const PermMessageSend = "message.send"

// appendOnlyKinds take creates only.
var appendOnlyKinds = map[string]bool{"auditlog": true, "outbox": true}

// ownerPath is the owner property of owned kinds.
var ownerPath = map[string]string{"message": "receiverEmpId", "schedule": "userId"}

// auditActions are the audit-log action codes by name.
var auditActions = map[string]int64{"other": 0, "insert": 1, "update": 2, "delete": 3, "grant": 4,
	"export": 5, "import": 6, "force": 7, "gencode": 8, "clean": 9}

var phonePattern = regexp.MustCompile(`^\+?[0-9]{6,20}$`)

// Grant gives userID of tenant a permission (PermMessageSend);
// administrators hold every permission.
func (m *MemHost) Grant(tenant, userID, perm string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.perms == nil {
		m.perms = map[string]bool{}
	}
	m.perms[tenant+"\x00"+userID+"\x00"+perm] = true
}

func (m *MemHost) can(p *sdk.Principal, perm string) bool {
	return isAdmin(p) || m.perms[p.Tenant+"\x00"+p.UserID+"\x00"+perm]
}

// visible reports whether p reads d of kind (owned kinds: the owner and
// administrators).
func visible(p *sdk.Principal, kind string, d sdk.Doc) bool {
	path, ok := ownerPath[kind]
	return !ok || isAdmin(p) || d[path] == p.UserID
}

// writable reports whether p updates (del: deletes) d of kind.
func writable(p *sdk.Principal, kind string, d sdk.Doc, del bool) bool {
	path, ok := ownerPath[kind]
	if !ok {
		return true
	}
	if isAdmin(p) && (kind == "schedule" || del) {
		return true
	}
	return d[path] != "" && d[path] == p.UserID
}

func mInvalid(target, format string, args ...any) error {
	return errs.New(errs.Invalid, "the body failed validation").WithReason("validation_failed").
		WithDetails(errs.Detail{Code: "invalid_value", Target: target, Message: fmt.Sprintf(format, args...)})
}

// createRules checks and completes a new document d of kind (m.mu held).
func (m *MemHost) createRules(t string, p *sdk.Principal, kind string, d sdk.Doc) error {
	switch kind {
	case "message":
		if !m.can(p, PermMessageSend) {
			return errs.Forbiddenf("creating message needs the admin role or the %s permission", PermMessageSend)
		}
		title, _ := d["title"].(string)
		rid, _ := d["receiverEmpId"].(string)
		if strings.TrimSpace(title) == "" {
			return mInvalid("title", "title is required")
		}
		if link, _ := d["url"].(string); link != "" && !safeLink(link) {
			return mInvalid("url", "url must be a path (/…) or an http(s) URL")
		}
		u := m.findDir("user", t, rid)
		if u == nil {
			return mInvalid("receiverEmpId", "user %q not found", rid)
		}
		name, _ := u["empName"].(string)
		d["receiverName"], d["isRead"] = name, false
		delete(d, "readTime")
		if _, ok := d["category"]; !ok {
			d["category"] = int64(1)
		}
	case "outbox":
		if !m.can(p, PermMessageSend) {
			return errs.Forbiddenf("creating outbox needs the admin role or the %s permission", PermMessageSend)
		}
		ch, _ := d["channel"].(string)
		ch = strings.ToLower(ch)
		to, _ := d["to"].(string)
		body, _ := d["body"].(string)
		switch ch {
		case "sms":
			if !phonePattern.MatchString(to) {
				return mInvalid("to", "to must be a phone number")
			}
		case "email":
			if a, err := mail.ParseAddress(to); err != nil || a.Address != to {
				return mInvalid("to", "to must be one e-mail address")
			}
		default:
			return mInvalid("channel", "channel must be sms or email")
		}
		if body == "" {
			return mInvalid("body", "body is required")
		}
		d["channel"], d["status"], d["attempts"] = ch, "recorded", int64(0)
		if secret, ok := d["secret"].(string); ok {
			if len(secret) < 4 || !strings.Contains(body, secret) {
				return mInvalid("secret", "secret must be the one-time value inside body")
			}
			d["body"] = strings.ReplaceAll(body, secret, strings.Repeat("*", len(secret)))
			d["template"] = "verification_code"
			delete(d, "secret")
		}
	case "auditlog":
		if et, _ := d["entityType"].(string); strings.TrimSpace(et) == "" {
			return mInvalid("entityType", "entityType is required")
		}
		a, ok := d["action"]
		switch x := a.(type) {
		case nil:
			if !ok {
				d["action"] = int64(0)
			}
		case string:
			code, known := auditActions[strings.ToLower(x)]
			if !known {
				return mInvalid("action", "unknown action %q", x)
			}
			d["action"] = code
		}
		delete(d, "clientId")
		if p.ClientID != "" {
			d["clientId"] = p.ClientID
		}
	case "schedule":
		return m.scheduleRules(t, p, d, nil)
	}
	return nil
}

// updateRules applies kind's rules to the merged d (old is the stored
// document; m.mu held).
func (m *MemHost) updateRules(t string, p *sdk.Principal, kind string, d, old sdk.Doc) error {
	switch kind {
	case "message":
		for _, k := range []string{"title", "detail", "url", "receiverEmpId", "receiverName", "dataId", "expireTime", "category"} {
			if v, ok := old[k]; ok {
				d[k] = v
			} else {
				delete(d, k)
			}
		}
		read, _ := d["isRead"].(bool)
		was, _ := old["isRead"].(bool)
		switch {
		case read && !was:
			d["readTime"] = m.now()
		case !read:
			delete(d, "readTime")
		}
	case "schedule":
		return m.scheduleRules(t, p, d, old)
	}
	return nil
}

func (m *MemHost) scheduleRules(t string, p *sdk.Principal, d, old sdk.Doc) error {
	owner, _ := d["userId"].(string)
	if owner == "" {
		owner = p.UserID
		d["userId"] = owner
	}
	if owner != p.UserID && !isAdmin(p) {
		return errs.Forbiddenf("only administrators write other users' schedules")
	}
	if (old == nil || old["userId"] != owner) && m.findDir("user", t, owner) == nil {
		return mInvalid("userId", "user %q not found", owner)
	}
	if !slices.ContainsFunc([]string{"content", "title", "name"}, func(k string) bool { v, _ := d[k].(string); return v != "" }) {
		return mInvalid("content", "content, title or name is required")
	}
	var start, end time.Time
	for _, k := range []string{"startDate", "endDate"} {
		if v, _ := d[k].(string); v != "" {
			x, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return mInvalid(k, "%s must be yyyy-MM-dd", k)
			}
			if k == "startDate" {
				start = x
			} else {
				end = x
			}
		}
	}
	if !start.IsZero() && !end.IsZero() && end.Before(start) {
		return mInvalid("endDate", "endDate is before startDate")
	}
	if v, _ := d["remindTime"].(string); v != "" {
		if _, err := time.Parse("15:04", v); err != nil || len(v) != 5 {
			return mInvalid("remindTime", "remindTime must be HH:mm")
		}
	}
	return nil
}

// safeLink is the hub's rule for message links: a path of the site or an
// http(s) URL.
func safeLink(u string) bool {
	l := strings.ToLower(u)
	if strings.HasPrefix(l, "//") || strings.ContainsAny(u, "\x00\r\n\\") {
		return false
	}
	return strings.HasPrefix(l, "/") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")
}
