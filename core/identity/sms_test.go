package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/identity/identitytest"
)

// TV-3: SMS code login with the guide's names, then the original's.
func TestCodeGrantTV3(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.svc.SendCodeForClient(ctx, "", identitytest.AdminPhone, "login", "192.0.2.1"); err != nil {
		t.Fatalf("SendCode: %v", err)
	}
	if n := f.outboxCount(t, identitytest.AdminPhone); n != 1 {
		t.Fatalf("outbox holds %d messages, want 1", n)
	}
	code := f.lastCode(t, identitytest.AdminPhone)
	r := f.mustToken(t, "grant_type=code", "username=12345678901", "code="+code, "client_id=web", "scope=api.readwrite")
	_, claims := jwtParts(t, r.AccessToken)
	if claims["id"] != "u_1001" || claims["sub"] != "12345678901" || r.RefreshToken == "" {
		t.Fatalf("claims = %v, response %+v", claims, r)
	}
	_, err := f.token(t, "grant_type=verification_code", "username=12345678901", "password="+code, "client_id=web")
	oe := wantOAuth(t, err, ErrInvalidGrant, 400)
	if oe.Description != DescBadCode {
		t.Fatalf("description = %q", oe.Description)
	}
}

func TestCodeGrantOriginalNames(t *testing.T) {
	f := newFixture(t)
	if err := f.svc.SendCodeForClient(context.Background(), "web", identitytest.AdminPhone, "login", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	f.mustToken(t, "grant_type=verification_code", "phone=12345678901", "password="+f.lastCode(t, identitytest.AdminPhone), "client_id=web")
}

func TestCodeAttemptLimit(t *testing.T) {
	f := newFixture(t)
	if err := f.svc.SendCode(context.Background(), "t1", identitytest.AdminPhone, "login"); err != nil {
		t.Fatal(err)
	}
	code := f.lastCode(t, identitytest.AdminPhone)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for range 5 {
		_, err := f.token(t, "grant_type=code", "username=12345678901", "code="+wrong, "client_id=web")
		wantOAuth(t, err, ErrInvalidGrant, 400)
	}
	_, err := f.token(t, "grant_type=code", "username=12345678901", "code="+code, "client_id=web")
	wantOAuth(t, err, ErrInvalidGrant, 400)
}

func TestCodeWrongPurpose(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.svc.SendCode(ctx, "t1", identitytest.AdminPhone, "reset"); err != nil {
		t.Fatal(err)
	}
	code := f.lastCode(t, identitytest.AdminPhone)
	_, err := f.token(t, "grant_type=code", "username=12345678901", "code="+code, "client_id=web")
	wantOAuth(t, err, ErrInvalidGrant, 400)
	// The reset code is still good for its own purpose, once.
	if err := f.svc.CheckCode(ctx, "t1", identitytest.AdminPhone, "reset", code); err != nil {
		t.Fatalf("CheckCode(reset): %v", err)
	}
	if err := f.svc.CheckCode(ctx, "t1", identitytest.AdminPhone, "reset", code); !errors.Is(err, errs.E(errs.Invalid)) {
		t.Fatalf("second CheckCode: %v, want invalid", err)
	}
}

func TestCodeExpires(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CodeTTL = 100 * time.Millisecond })
	ctx := context.Background()
	if err := f.svc.SendCode(ctx, "t1", identitytest.AdminPhone, "login"); err != nil {
		t.Fatal(err)
	}
	code := f.lastCode(t, identitytest.AdminPhone)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := f.cache.Get(ctx, codeKey("t1", "login", identitytest.AdminPhone)); errors.Is(err, errs.E(errs.NotFound)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("code did not expire")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, err := f.token(t, "grant_type=code", "username=12345678901", "code="+code, "client_id=web")
	wantOAuth(t, err, ErrInvalidGrant, 400)
}

func allowRegister(c *Config) { c.RegisterTenants = map[string]bool{identitytest.Tenant: true} }

func TestSendCodeRules(t *testing.T) {
	f := newFixture(t, allowRegister)
	ctx := context.Background()
	for _, phone := range []string{"", "12345", "+", "123-456-789", "1234567890123456789012", "abcdefg"} {
		err := f.svc.SendCode(ctx, "t1", phone, "login")
		if e := errs.As(err); err == nil || e.Code != errs.Invalid || e.Target != "phone" {
			t.Errorf("SendCode(%q) = %v, want invalid phone", phone, err)
		}
	}
	if err := f.svc.SendCode(ctx, "t1", "123456", "spam"); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("bad type: %v", err)
	}
	// Resend interval.
	if err := f.svc.SendCode(ctx, "t1", "+8613800000000", "register"); err != nil {
		t.Fatal(err)
	}
	err := f.svc.SendCode(ctx, "t1", "+8613800000000", "register")
	e := errs.As(err)
	if err == nil || e.Code != errs.RateLimited || e.RetryAfter < 1 || e.RetryAfter > 60 {
		t.Fatalf("resend within 60 s: %v (retry after %d)", err, e.RetryAfter)
	}
	// Unknown phone for login: nil, nothing sent (no enumeration); still rate limited.
	if err := f.svc.SendCode(ctx, "t1", "13900000000", "login"); err != nil {
		t.Fatalf("unknown phone: %v", err)
	}
	if n := f.outboxCount(t, "13900000000"); n != 0 {
		t.Fatalf("%d messages to an unknown phone", n)
	}
	if err := f.svc.SendCode(ctx, "t1", "13900000000", "login"); errs.CodeOf(err) != errs.RateLimited {
		t.Fatalf("unknown phone resend: %v, want rate limited like a known one", err)
	}
	// Disabled users get nothing either.
	if err := f.svc.SendCode(ctx, "t1", "12345678902", "login"); err != nil || f.outboxCount(t, "12345678902") != 0 {
		t.Fatalf("disabled user: %v, %d messages", err, f.outboxCount(t, "12345678902"))
	}
	// client_id picks the tenant; an unknown one is invalid.
	if err := f.svc.SendCodeForClient(ctx, "nope", "13800000001", "register", "192.0.2.1"); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("unknown client: %v", err)
	}
}

func TestSendCodeNeedsTenant(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.DefaultTenant = "" })
	err := f.svc.SendCodeForClient(context.Background(), "", identitytest.AdminPhone, "login", "192.0.2.1")
	if e := errs.As(err); err == nil || e.Code != errs.Invalid || e.Target != "client_id" {
		t.Fatalf("no client, no default tenant: %v", err)
	}
}

func TestSendCodeDailyMax(t *testing.T) {
	f := newFixture(t, allowRegister, func(c *Config) { c.CodeResendInterval = time.Millisecond; c.CodeDailyMax = 3 })
	ctx := context.Background()
	send := func() error {
		deadline := time.Now().Add(5 * time.Second)
		for {
			err := f.svc.SendCode(ctx, "t1", "13800000002", "register")
			e := errs.As(err)
			if err == nil || e.Code != errs.RateLimited || e.Reason != "rate_limited" || time.Now().After(deadline) {
				return err
			}
			if e.Msg != "a verification code was sent to this phone recently" {
				return err
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for i := range 3 {
		if err := send(); err != nil {
			t.Fatalf("code %d: %v", i+1, err)
		}
	}
	err := send()
	if e := errs.As(err); err == nil || e.Code != errs.RateLimited || e.RetryAfter < 1 {
		t.Fatalf("4th code: %v", err)
	}
	if n := f.outboxCount(t, "13800000002"); n != 3 {
		t.Fatalf("%d messages, want 3", n)
	}
}

type failingSender struct{}

func (failingSender) Send(context.Context, Message) error { return errors.New("gateway down") }

func TestSendFailureDropsCode(t *testing.T) {
	f := newFixture(t)
	svc, err := New(f.svc.cfg, f.st, f.cache, failingSender{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := svc.SendCode(ctx, "t1", identitytest.AdminPhone, "login"); errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("SendCode with a failing sender: %v", err)
	}
	if _, err := f.cache.Get(ctx, codeKey("t1", "login", identitytest.AdminPhone)); !errors.Is(err, errs.E(errs.NotFound)) {
		t.Fatalf("code kept after a failed send: %v", err)
	}
}

func TestMaskRecipient(t *testing.T) {
	for in, want := range map[string]string{"12345678901": "*******8901", "123": "***", "": ""} {
		if got := maskRecipient(in); got != want {
			t.Errorf("maskRecipient(%q) = %q, want %q", in, got, want)
		}
	}
}

// Issue 10 #1: the outbox records what was sent to whom, never the code,
// so nothing readable back through the API lets one log in as the
// recipient.
func TestOutboxNeverHoldsTheCode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.svc.SendCode(ctx, identitytest.Tenant, identitytest.AdminPhone, "login"); err != nil {
		t.Fatal(err)
	}
	code := f.lastCode(t, identitytest.AdminPhone)
	docs := all(t, f.st, "outbox", identitytest.Tenant)
	if len(docs) != 1 {
		t.Fatalf("outbox holds %d messages, want 1", len(docs))
	}
	d := docs[0]
	for k, v := range d {
		if s, ok := v.(string); ok && strings.Contains(s, code) {
			t.Fatalf("outbox field %s holds the code: %q", k, s)
		}
	}
	if d["template"] != TemplateVerificationCode || d["purpose"] != "login" || d["to"] != identitytest.AdminPhone {
		t.Fatalf("outbox row = %v", d)
	}
	if body, _ := d["body"].(string); !strings.Contains(body, "******") {
		t.Fatalf("body %q does not show the masked code", body)
	}
}

// A sender failure releases the resend interval too: the retry is a new
// code at once (nothing in storage can re-send the old one).
func TestSendFailureReleasesResend(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.svc.sender = failingSender{}
	if err := f.svc.SendCode(ctx, identitytest.Tenant, identitytest.AdminPhone, "login"); errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("send failure: %v", err)
	}
	f.svc.sender = f.sms
	if err := f.svc.SendCode(ctx, identitytest.Tenant, identitytest.AdminPhone, "login"); err != nil {
		t.Fatalf("retry after a failed send: %v", err)
	}
}

// Issue 10 #9 (SMS pumping): register is a tenant setting, off by default.
func TestRegisterCodesOffByDefault(t *testing.T) {
	f := newFixture(t)
	err := f.svc.SendCodeForClient(context.Background(), "", "13700000001", "register", "192.0.2.1")
	if e := errs.As(err); err == nil || e.Code != errs.Invalid || e.Target != "type" {
		t.Fatalf("register on a tenant without registration: %v", err)
	}
	if len(f.sms.Messages("")) != 0 {
		t.Fatal("a register code was sent")
	}
}

// Issue 10 #9: codes to numbers of no user are budgeted per source IP and
// hub-wide; codes to users' own phones are not counted.
func TestUnknownNumberBudgets(t *testing.T) {
	f := newFixture(t, allowRegister, func(c *Config) { c.UnknownNumberIPMax = 3; c.UnknownNumberMax = 5 })
	ctx := context.Background()
	send := func(phone, purpose, ip string) error {
		return f.svc.SendCodeForClient(ctx, "", phone, purpose, ip)
	}
	for i := range 3 {
		if err := send(fmt.Sprintf("1370000000%d", i), "register", "192.0.2.1"); err != nil {
			t.Fatalf("code %d: %v", i+1, err)
		}
	}
	err := send("13700000009", "bind", "192.0.2.1")
	if e := errs.As(err); err == nil || e.Code != errs.RateLimited || e.RetryAfter < 1 {
		t.Fatalf("4th unknown number from one IP: %v", err)
	}
	// The admin's own phone is not an unknown number.
	if err := send(identitytest.AdminPhone, "bind", "192.0.2.1"); err != nil {
		t.Fatalf("code to a user's phone: %v", err)
	}
	// Other IPs share the hub-wide budget (5): 3 used (refusals are not
	// counted), so two more.
	if err := send("13600000001", "register", "198.51.100.7"); err != nil {
		t.Fatalf("another IP: %v", err)
	}
	if err := send("13600000002", "register", "198.51.100.8"); err != nil {
		t.Fatalf("another IP: %v", err)
	}
	err = send("13600000003", "register", "203.0.113.9")
	if e := errs.As(err); err == nil || e.Code != errs.RateLimited {
		t.Fatalf("past the hub-wide budget: %v", err)
	}
	sent := 0
	for _, m := range f.sms.Messages("") {
		if m.To != identitytest.AdminPhone {
			sent++
		}
	}
	if sent != 5 {
		t.Fatalf("%d codes sent to unknown numbers, want 5", sent)
	}
}
