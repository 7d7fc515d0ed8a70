package entity

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/messages"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/store"
)

// Write rules of the kinds connectors need beyond records and the
// directory (issue 11 #5) — messages and notices, the outbox (e-mail and
// SMS), the audit log and schedules. They are native rules first: the Host
// API reaches them through the same Create/Update/Delete.
//
//   - message: creating one sends it to its receiver (receiverEmpId must
//     be a user of the tenant; receiverName is filled from the user) and
//     needs the admin role or the message.send permission. Only isRead
//     changes afterwards (marking read stamps readTime; other properties
//     are ignored). The receiver reads, marks and deletes their own
//     messages; an administrator reads and deletes every message of the
//     tenant but marks only their own.
//   - outbox: creating one queues an e-mail or SMS (channel sms|email, to,
//     subject, body; secret, the one-time value inside body, is masked in
//     storage and delivered during the call) and needs admin or
//     message.send. Outbox rows are read by administrators only and never
//     rewritten or deleted through the API.
//   - auditlog: any writer appends; the entry is attributed to the
//     principal (createBy, clientId — server-set, a body cannot name
//     someone else) and never rewritten or deleted.
//   - schedule: a user's own entries (userId, default the caller); a
//     non-administrator writes only their own, an administrator anyone's.

// Permissions of the messaging kinds (Options.Can).
const (
	// PermMessageSend lets a non-administrator send messages and notices
	// to users and queue e-mails and SMS.
	PermMessageSend = "message.send"
)

// Outbox queues outgoing e-mail and SMS (messages.Outbox): the row is
// written with the caller's context (its transaction) and returned.
type Outbox interface {
	Enqueue(ctx context.Context, m messages.Message) (store.Doc, error)
}

// Limits of messaging inputs.
const (
	maxSubject  = 200
	maxBody     = 4000
	maxTitle    = 200
	maxEmailLen = 254
)

const collOutbox, collAuditLog, collSchedule = messages.CollOutbox, "auditlog", "schedule"

// can reports whether p holds perm (administrators hold every one).
func (s *Service) can(p *principal.Principal, perm string) bool {
	if p.IsAdmin() {
		return true
	}
	return s.canFn != nil && s.canFn(p, perm)
}

// checkCreate applies a kind's CreatePerm.
func (s *Service) checkCreate(p *principal.Principal, k *Kind) error {
	if k.CreatePerm != "" && !s.can(p, k.CreatePerm) {
		return errs.Forbiddenf("creating %s needs the admin role or the %s permission", k.Name, k.CreatePerm)
	}
	return nil
}

// deletableBy reports whether p may delete doc of kind k: its owner, or
// an administrator on an AdminDeletes kind.
func deletableBy(p *principal.Principal, k *Kind, doc store.Doc) bool {
	return ownedBy(p, k, doc, true) || k.AdminDeletes && p.IsAdmin()
}

// checkUpdate refuses rewriting an append-only kind.
func checkUpdate(k *Kind) error {
	if k.AppendOnly {
		return errs.Newf(errs.MethodNotAllowed, "%s entries are never rewritten", k.Name)
	}
	return nil
}

// completeMessage validates a new message (receiver, title; unread) and,
// on update, allows isRead only, stamping readTime when a message is
// marked read (and clearing it when marked unread).
func (s *Service) completeMessage(ctx context.Context, tenant string, doc, old store.Doc) error {
	if old == nil {
		if err := required(doc, "title", "receiverEmpId"); err != nil {
			return err
		}
		if err := maxLen(doc, "title", maxTitle); err != nil {
			return err
		}
		if u, _ := doc["url"].(string); u != "" && !safeLink(u) {
			return validation("the body failed validation", detail("invalid_value", "url", "url must be a path (/…) or an http(s) URL"))
		}
		rid, _ := doc["receiverEmpId"].(string)
		u, err := s.st.Get(ctx, collUser, tenant, rid)
		if errs.CodeOf(err) == errs.NotFound {
			return validation("the body failed validation", detail("not_found", "receiverEmpId", "user %q not found", rid))
		}
		if err != nil {
			return err
		}
		name, _ := u["empName"].(string)
		if name == "" {
			name, _ = u["userName"].(string)
		}
		doc["receiverName"] = name
		if _, ok := doc["category"]; !ok {
			doc["category"] = int64(1) // app notice
		}
		doc["isRead"] = false
		delete(doc, "readTime")
		return nil
	}
	// A sent message only changes isRead: the other properties are
	// ignored, as server-set ones are (§6.1).
	for _, name := range []string{"title", "detail", "url", "receiverEmpId", "dataId", "expireTime", "category"} {
		if v, ok := old[name]; ok {
			doc[name] = v
		} else {
			delete(doc, name)
		}
	}
	read, _ := doc["isRead"].(bool)
	wasRead, _ := old["isRead"].(bool)
	switch {
	case read && !wasRead:
		doc["readTime"] = s.now().UnixMilli()
	case !read:
		delete(doc, "readTime")
	}
	return nil
}

// createOutbox queues an e-mail or SMS as p (POST /outbox).
func (s *Service) createOutbox(ctx context.Context, p *principal.Principal, tenant string, in *input) (map[string]any, error) {
	str := func(k string) string { v, _ := in.vals[k].(string); return strings.TrimSpace(v) }
	m := messages.Message{Tenant: tenant, Channel: strings.ToLower(str("channel")), To: str("to"),
		Subject: str("subject"), Body: str("body"), Secret: str("secret"), By: s.operator(p)}
	var details []errs.Detail
	switch m.Channel {
	case messages.ChannelSMS:
		if !identity.ValidPhone(m.To) {
			details = append(details, detail("invalid_value", "to", "to must be a phone number: 6 to 20 digits with an optional leading +"))
		}
	case messages.ChannelEmail:
		if a, err := mail.ParseAddress(m.To); err != nil || a.Address != m.To || len(m.To) > maxEmailLen {
			details = append(details, detail("invalid_value", "to", "to must be one e-mail address"))
		}
	case "":
		details = append(details, detail("required", "channel", "channel is required"))
	default:
		details = append(details, detail("invalid_value", "channel", "channel must be sms or email"))
	}
	if m.Body == "" {
		details = append(details, detail("required", "body", "body is required"))
	}
	if utf8.RuneCountInString(m.Body) > maxBody {
		details = append(details, detail("too_long", "body", "body is longer than %d characters", maxBody))
	}
	if utf8.RuneCountInString(m.Subject) > maxSubject {
		details = append(details, detail("too_long", "subject", "subject is longer than %d characters", maxSubject))
	}
	if _, given := in.vals["secret"]; given && (len(m.Secret) < 4 || !strings.Contains(m.Body, m.Secret)) {
		details = append(details, detail("invalid_value", "secret", "secret must be the one-time value (4 characters or more) inside body"))
	}
	if len(details) > 0 {
		return nil, validation("the body failed validation", details...)
	}
	if m.Secret != "" {
		m.Template = identity.TemplateVerificationCode
	}
	doc, err := s.outbox.Enqueue(ctx, m)
	if err != nil {
		if m.Secret != "" && errs.CodeOf(err) == errs.Internal {
			return nil, errs.Wrap(errs.Unavailable, err, "the message was not delivered")
		}
		return nil, err
	}
	return clean(doc), nil
}

// completeAuditLog attributes an appended entry to the acting principal.
func completeAuditLog(ctx context.Context, doc store.Doc) error {
	p, _ := principal.From(ctx)
	if p != nil && p.ClientID != "" {
		doc["clientId"] = p.ClientID
	}
	if _, ok := doc["action"]; !ok {
		doc["action"] = int64(0)
	}
	if err := required(doc, "entityType"); err != nil {
		return err
	}
	return maxLen(doc, "entityType", maxTitle)
}

// completeSchedule checks the owner (a non-administrator's own), dates
// (yyyy-MM-dd, end not before start), remindTime (HH:mm) and remindWay
// (a comma list of 1 e-mail, 2 SMS, 3 in-site message).
func (s *Service) completeSchedule(ctx context.Context, tenant string, doc, old store.Doc) error {
	p, _ := principal.From(ctx)
	if p == nil {
		return errs.New(errs.Unauthorized, "no authenticated principal")
	}
	owner, _ := doc["userId"].(string)
	if owner == "" {
		owner = p.UserID
		doc["userId"] = owner
	}
	if owner == "" {
		return validation("the body failed validation", detail("required", "userId", "userId is required for a principal without a user"))
	}
	if owner != p.UserID && !p.IsAdmin() {
		return errs.Forbiddenf("only administrators write other users' schedules").WithTarget("userId")
	}
	if old == nil || old["userId"] != owner {
		if err := s.mustExist(ctx, tenant, collUser, "userId", owner); err != nil {
			return err
		}
	}
	var details []errs.Detail
	if !slices.ContainsFunc([]string{"content", "title", "name"}, func(k string) bool { v, _ := doc[k].(string); return strings.TrimSpace(v) != "" }) {
		details = append(details, detail("required", "content", "content, title or name is required"))
	}
	var dates [2]time.Time
	for i, k := range []string{"startDate", "endDate"} {
		if v, _ := doc[k].(string); v != "" {
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				details = append(details, detail("invalid_value", k, "%s must be yyyy-MM-dd", k))
			}
			dates[i] = d
		}
	}
	if !dates[0].IsZero() && !dates[1].IsZero() && dates[1].Before(dates[0]) {
		details = append(details, detail("invalid_value", "endDate", "endDate is before startDate"))
	}
	if v, _ := doc["remindTime"].(string); v != "" {
		if _, err := time.Parse("15:04", v); err != nil || len(v) != 5 {
			details = append(details, detail("invalid_value", "remindTime", "remindTime must be HH:mm"))
		}
	}
	if v, _ := doc["remindWay"].(string); v != "" {
		for _, w := range strings.Split(v, ",") {
			if w != "1" && w != "2" && w != "3" {
				details = append(details, detail("invalid_value", "remindWay", "remindWay is a comma list of 1 (e-mail), 2 (SMS), 3 (in-site message)"))
				break
			}
		}
	}
	if len(details) > 0 {
		return validation("the body failed validation", details...)
	}
	return nil
}

// safeLink reports whether u is a link a client may render: a path of
// this site or an http(s) URL (no javascript:, data: or protocol-relative
// links).
func safeLink(u string) bool {
	l := strings.ToLower(u)
	switch {
	case strings.HasPrefix(l, "//"), strings.ContainsAny(u, "\x00\r\n\\"):
		return false
	case strings.HasPrefix(l, "/"), strings.HasPrefix(l, "https://"), strings.HasPrefix(l, "http://"):
		return true
	}
	return false
}

// maxLen refuses a string property longer than n characters.
func maxLen(doc store.Doc, name string, n int) error {
	if v, _ := doc[name].(string); utf8.RuneCountInString(v) > n {
		return validation("the body failed validation", detail("too_long", name, "%s is longer than %d characters", name, n))
	}
	return nil
}
