package identity

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/messages"
	"github.com/eimshub/eimshub/core/store"
)

// Code purposes (§2.1 `type`).
const (
	PurposeLogin    = "login"
	PurposeRegister = "register"
	PurposeReset    = "reset"
	PurposeBind     = "bind"
)

// Message is one outgoing SMS or e-mail (the messages port's type: the
// sender of /auth/sendcode is the hub's one outbox).
type Message = messages.Message

// TemplateVerificationCode is Message.Template of SMS verification codes.
const TemplateVerificationCode = messages.TemplateVerificationCode

// Sender delivers messages: the hub wires its messages.Outbox (recorded,
// queued or delivered per the outbox's rules; codes masked in storage).
// See messages.Sender for the retry rules of codes.
type Sender = messages.Sender

// OutboxSender is the default Sender without a gateway: it records each
// message as an `outbox` document of the message's tenant (status
// "recorded") with the secret masked (Message.Redacted), plus its template
// and purpose, so the tenant's administrators can see what was sent to
// whom — never the code. It is messages.Outbox with no gateway.
type OutboxSender struct {
	Store  store.Store
	Logger *slog.Logger
	Now    func() time.Time
}

// Send implements Sender.
func (o *OutboxSender) Send(ctx context.Context, m Message) error {
	return messages.New(o.Store, messages.Options{Logger: o.Logger, Now: o.Now}).Send(ctx, m)
}

// maskRecipient keeps the last four characters.
func maskRecipient(s string) string { return messages.MaskRecipient(s) }

var phoneRE = regexp.MustCompile(`^\+?[0-9]{6,20}$`)

// ValidPhone reports whether phone is 6–20 digits with an optional leading
// "+" (§2.1).
func ValidPhone(phone string) bool { return phoneRE.MatchString(phone) }

func validPurpose(p string) bool {
	switch p {
	case PurposeLogin, PurposeRegister, PurposeReset, PurposeBind:
		return true
	}
	return false
}

func codeKey(tenant, purpose, phone string) string {
	return "sms:" + tenant + ":" + purpose + ":" + phone
}
func codeAttemptsKey(tenant, purpose, phone string) string {
	return codeKey(tenant, purpose, phone) + ":n"
}
func resendKey(tenant, phone string) string { return "smsr:" + tenant + ":" + phone }
func dailyKey(tenant, phone string, day time.Time) string {
	return "smsd:" + tenant + ":" + phone + ":" + day.UTC().Format("20060102")
}

func (s *Service) hashCode(tenant, purpose, phone, code string) string {
	m := hmac.New(sha256.New, s.codePepper)
	m.Write([]byte(tenant + "\x00" + purpose + "\x00" + phone + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

// SendCodeForClient is SendCode for /auth/sendcode: the tenant is that of
// clientID when given (an unknown or disabled client → errs.Invalid), else
// Config.DefaultTenant. The store is tenant-scoped, so a phone cannot be
// looked up across tenants: without a client_id and a default tenant the
// request is errs.Invalid ("client_id is required").
//
// ip is the caller's address, for the per-IP budget of codes to unknown
// numbers ("" = not counted per IP).
func (s *Service) SendCodeForClient(ctx context.Context, clientID, phone, purpose, ip string) error {
	tenant := s.cfg.DefaultTenant
	if clientID != "" {
		cl, err := s.getClient(ctx, clientID)
		if errors.Is(err, errs.E(errs.NotFound)) {
			return errs.Invalidf("unknown client_id").WithReason("invalid_request").WithTarget("client_id")
		}
		if err != nil {
			return errs.Wrap(errs.Unavailable, err, "load client")
		}
		if cl.Disabled || cl.Tenant == "" {
			return errs.Invalidf("unknown client_id").WithReason("invalid_request").WithTarget("client_id")
		}
		tenant = cl.Tenant
	}
	if tenant == "" {
		return errs.Invalidf("client_id is required").WithReason("invalid_request").WithTarget("client_id")
	}
	return s.sendCode(ctx, tenant, phone, purpose, ip)
}

// SendCode issues a 6-digit verification code for (tenant, phone, purpose)
// and hands it to the Sender (§2.1). Errors: errs.Invalid for a bad phone or
// purpose; errs.RateLimited (RetryAfter set) within CodeResendInterval of
// the previous code to the phone or past CodeDailyMax codes a day. For
// login/reset, a phone that belongs to no active user gets nil and no
// message, so callers cannot probe for accounts.
//
// SMS pumping (issue 10 #9): type=register is refused (errs.Invalid) unless
// the tenant is in Config.RegisterTenants; codes to numbers of no active
// user (register, bind) are limited per source IP and hub-wide
// (UnknownNumberIPMax / UnknownNumberMax per UnknownNumberWindow,
// errs.RateLimited past them).
func (s *Service) SendCode(ctx context.Context, tenant, phone, purpose string) error {
	return s.sendCode(ctx, tenant, phone, purpose, "")
}

func (s *Service) sendCode(ctx context.Context, tenant, phone, purpose, ip string) error {
	phone = strings.TrimSpace(phone)
	purpose = strings.ToLower(strings.TrimSpace(purpose))
	if tenant == "" {
		return errs.Invalidf("no tenant for the verification code").WithReason("invalid_request")
	}
	if !ValidPhone(phone) {
		return errs.Invalidf("phone must be 6 to 20 digits with an optional leading +").WithReason("invalid_request").WithTarget("phone")
	}
	if !validPurpose(purpose) {
		return errs.Invalidf("type must be one of login, register, reset, bind").WithReason("invalid_request").WithTarget("type")
	}
	if purpose == PurposeRegister && !s.cfg.RegisterTenants[tenant] {
		return errs.Invalidf("registration by SMS is not enabled for this tenant").WithReason("invalid_request").WithTarget("type")
	}
	now := s.now()
	ok, err := s.c.SetNX(ctx, resendKey(tenant, phone), []byte(strconv.FormatInt(now.UnixMilli(), 10)), s.cfg.CodeResendInterval)
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "check resend interval")
	}
	if !ok {
		return s.resendWait(ctx, tenant, phone, now)
	}
	n, err := s.c.Incr(ctx, dailyKey(tenant, phone, now), 25*time.Hour)
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "count daily codes")
	}
	if n > int64(s.cfg.CodeDailyMax) {
		next := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		e := errs.New(errs.RateLimited, "too many verification codes for this phone today").WithReason("rate_limited")
		e.RetryAfter = max(1, int(next.Sub(now).Seconds()))
		return e
	}
	u, err := s.findUserByPhone(ctx, tenant, phone)
	if err != nil {
		return err
	}
	if u == nil {
		if purpose == PurposeLogin || purpose == PurposeReset {
			s.log.InfoContext(ctx, "verification code not sent: no active user with this phone",
				"tenant", tenant, "to", maskRecipient(phone), "purpose", purpose)
			return nil
		}
		if err := s.unknownNumberBudget(ctx, ip, now); err != nil {
			s.log.WarnContext(ctx, "verification code not sent: budget for unknown numbers spent",
				"tenant", tenant, "to", maskRecipient(phone), "purpose", purpose, "ip", ip)
			return err
		}
	}
	code, err := newCode()
	if err != nil {
		return err
	}
	ck := codeKey(tenant, purpose, phone)
	if err := s.c.Set(ctx, ck, []byte(s.hashCode(tenant, purpose, phone, code)), s.cfg.CodeTTL); err != nil {
		return errs.Wrap(errs.Unavailable, err, "store verification code")
	}
	if err := s.c.Del(ctx, codeAttemptsKey(tenant, purpose, phone)); err != nil {
		return errs.Wrap(errs.Unavailable, err, "reset code attempts")
	}
	mins := int(s.cfg.CodeTTL / time.Minute)
	msg := Message{
		Tenant: tenant, Channel: "sms", To: phone,
		Body:   fmt.Sprintf("您的验证码是 %s，%d 分钟内有效。请勿泄露给他人。", code, mins),
		Secret: code, Template: TemplateVerificationCode, Purpose: purpose,
	}
	if err := s.sender.Send(ctx, msg); err != nil {
		// The code was not delivered: drop it and release the resend
		// interval so the caller can ask again (see Sender).
		_ = s.c.Del(ctx, ck)
		_ = s.c.Del(ctx, resendKey(tenant, phone))
		return errs.Wrap(errs.Unavailable, err, "send verification code")
	}
	return nil
}

// unknownNumberBudget counts one code to a number of no user against the
// caller's IP and the hub; past either budget it is errs.RateLimited.
func (s *Service) unknownNumberBudget(ctx context.Context, ip string, now time.Time) error {
	w := s.cfg.UnknownNumberWindow
	slot := now.UnixMilli() / w.Milliseconds()
	retry := max(1, int(time.UnixMilli((slot+1)*w.Milliseconds()).Sub(now).Seconds()))
	over := func(key string, limit int) (bool, error) {
		n, err := s.c.Incr(ctx, key, w+time.Minute)
		if err != nil {
			return false, errs.Wrap(errs.Unavailable, err, "count codes to unknown numbers")
		}
		return n > int64(limit), nil
	}
	sl := strconv.FormatInt(slot, 10)
	if ip != "" {
		if o, err := over("smsu:ip:"+ip+":"+sl, s.cfg.UnknownNumberIPMax); err != nil || o {
			if err != nil {
				return err
			}
			e := errs.New(errs.RateLimited, "too many verification codes to new numbers from this address").WithReason("rate_limited")
			e.RetryAfter = retry
			return e
		}
	}
	o, err := over("smsu:all:"+sl, s.cfg.UnknownNumberMax)
	if err != nil {
		return err
	}
	if o {
		e := errs.New(errs.RateLimited, "too many verification codes to new numbers; try again later").WithReason("rate_limited")
		e.RetryAfter = retry
		return e
	}
	return nil
}

func (s *Service) resendWait(ctx context.Context, tenant, phone string, now time.Time) error {
	wait := s.cfg.CodeResendInterval
	if b, err := s.c.Get(ctx, resendKey(tenant, phone)); err == nil {
		if ms, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			wait = time.UnixMilli(ms).Add(s.cfg.CodeResendInterval).Sub(now)
		}
	}
	e := errs.New(errs.RateLimited, "a verification code was sent to this phone recently").WithReason("rate_limited")
	e.RetryAfter = max(1, int((wait+time.Second-1)/time.Second))
	return e
}

// newCode returns a uniformly random 6-digit code.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "crypto/rand")
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// CheckCode verifies and consumes a code issued by SendCode. A code can be
// checked CodeMaxAttempts times (wrong attempts included) and is deleted on
// success. A wrong, expired, used or exhausted code is errs.Invalid (Reason
// "invalid_code"); cache failures are errs.Unavailable.
func (s *Service) CheckCode(ctx context.Context, tenant, phone, purpose, code string) error {
	bad := errs.New(errs.Invalid, "wrong or expired verification code").WithReason("invalid_code")
	phone, code = strings.TrimSpace(phone), strings.TrimSpace(code)
	if tenant == "" || phone == "" || code == "" {
		return bad
	}
	ck, ak := codeKey(tenant, purpose, phone), codeAttemptsKey(tenant, purpose, phone)
	n, err := s.c.Incr(ctx, ak, s.cfg.CodeTTL)
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "count code attempts")
	}
	if n > int64(s.cfg.CodeMaxAttempts) {
		if err := s.c.Del(ctx, ck); err != nil {
			return errs.Wrap(errs.Unavailable, err, "drop exhausted code")
		}
		return bad
	}
	stored, err := s.c.Get(ctx, ck)
	if errors.Is(err, errs.E(errs.NotFound)) {
		return bad
	}
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "read verification code")
	}
	if !hmac.Equal(stored, []byte(s.hashCode(tenant, purpose, phone, code))) {
		return bad
	}
	taken, err := s.c.Take(ctx, ck)
	if errors.Is(err, errs.E(errs.NotFound)) {
		return bad // consumed concurrently
	}
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "consume verification code")
	}
	if !hmac.Equal(taken, stored) {
		return bad // replaced by a newer code between the read and the take
	}
	if err := s.c.Del(ctx, ak); err != nil {
		s.log.WarnContext(ctx, "code attempt counter not reset", "err", err)
	}
	return nil
}
