package messages_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/eimshub/eimshub/core/messages"
	"github.com/eimshub/eimshub/core/messages/messagestest"
)

func email(to, subject, body string) messages.Message {
	return messages.Message{Tenant: "t1", Channel: messages.ChannelEmail, To: to, Subject: subject, Body: body}
}

// E-mail through a real relay in every security mode, with AUTH over TLS:
// the relay gets the envelope and an RFC 5322 message whose UTF-8 subject
// and body decode to what was sent.
func TestSMTPDelivers(t *testing.T) {
	for _, mode := range []string{messages.SMTPStartTLS, messages.SMTPTLS, messages.SMTPNone} {
		t.Run(mode, func(t *testing.T) {
			r := messagestest.StartSMTPRelay(t, mode == messages.SMTPTLS, mode == messages.SMTPStartTLS)
			g := &messages.SMTP{Addr: r.Addr, Security: mode, From: "EIMS Hub <noreply@hub.test>",
				TLSConfig: &tls.Config{RootCAs: r.Roots}}
			if mode != messages.SMTPNone {
				g.Username, g.Password = messagestest.SMTPUser, messagestest.SMTPPassword
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			body := strings.Repeat("审批已通过，请查收。", 20)
			if err := g.Send(ctx, email("Alice <alice@example.com>", "审批结果 #42", body)); err != nil {
				t.Fatal(err)
			}
			got := r.Received()
			if len(got) != 1 || got[0].From != "noreply@hub.test" || len(got[0].To) != 1 || got[0].To[0] != "alice@example.com" {
				t.Fatalf("relay got %+v", got)
			}
			if mode != messages.SMTPNone && len(r.Authenticated()) != 1 {
				t.Fatalf("authenticated %v", r.Authenticated())
			}
			msg, err := netmail.ReadMessage(bytes.NewReader(got[0].Data))
			if err != nil {
				t.Fatal(err)
			}
			subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if err != nil || subj != "审批结果 #42" {
				t.Fatalf("subject %q, %v", subj, err)
			}
			if got := decodeBase64Body(t, msg.Body); got != body {
				t.Fatalf("body %q", got)
			}
			if msg.Header.Get("Content-Type") != "text/plain; charset=utf-8" || msg.Header.Get("Message-Id") == "" || msg.Header.Get("Date") == "" {
				t.Fatalf("headers %v", msg.Header)
			}
		})
	}
}

// Refusals: a relay without STARTTLS is not used in starttls mode (no
// downgrade), wrong credentials, a bad recipient, a subject that would
// inject a header, an SMS, and an unreachable relay all fail — and the
// relay received nothing.
func TestSMTPRefuses(t *testing.T) {
	plain := messagestest.StartSMTPRelay(t, false, false)
	secure := messagestest.StartSMTPRelay(t, false, true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := func(r *messagestest.SMTPRelay) *messages.SMTP {
		return &messages.SMTP{Addr: r.Addr, From: "noreply@hub.test", Username: messagestest.SMTPUser, Password: messagestest.SMTPPassword,
			TLSConfig: &tls.Config{RootCAs: r.Roots}}
	}
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := free.Addr().String()
	free.Close()
	cases := []struct {
		name string
		g    *messages.SMTP
		m    messages.Message
		want string
	}{
		{"no STARTTLS offered", base(plain), email("a@example.com", "s", "b"), "STARTTLS"},
		{"wrong password", func() *messages.SMTP { g := base(secure); g.Password = "nope"; return g }(), email("a@example.com", "s", "b"), ""},
		{"bad recipient", base(secure), email("not an address", "s", "b"), "recipient"},
		{"header injection", base(secure), email("a@example.com", "s\r\nBcc: x@evil.test", "b"), "line break"},
		{"sms", base(secure), messages.Message{Channel: messages.ChannelSMS, To: "13800000000", Body: "b"}, "does not deliver"},
		{"unreachable", &messages.SMTP{Addr: closed, From: "noreply@hub.test"}, email("a@example.com", "s", "b"), "connect"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.g.Send(ctx, c.m)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, c.want)
			}
		})
	}
	for _, r := range []*messagestest.SMTPRelay{plain, secure} {
		if n := len(r.Received()); n != 0 {
			t.Fatalf("a relay received %d messages", n)
		}
	}
}

// Channels routes each message to its channel's gateway.
func TestChannels(t *testing.T) {
	var sms, mailed []string
	ch := messages.Channels{
		messages.ChannelSMS:   senderFunc(func(m messages.Message) error { sms = append(sms, m.To); return nil }),
		messages.ChannelEmail: senderFunc(func(m messages.Message) error { mailed = append(mailed, m.To); return nil }),
	}
	ctx := context.Background()
	_ = ch.Send(ctx, messages.Message{Channel: messages.ChannelSMS, To: "138"})
	_ = ch.Send(ctx, messages.Message{Channel: messages.ChannelEmail, To: "a@x"})
	if err := ch.Send(ctx, messages.Message{Channel: "fax", To: "1"}); !errors.Is(err, messages.ErrWrongChannel) {
		t.Fatalf("fax: %v", err)
	}
	if len(sms) != 1 || sms[0] != "138" || len(mailed) != 1 || mailed[0] != "a@x" {
		t.Fatalf("sms %v mail %v", sms, mailed)
	}
}

type senderFunc func(messages.Message) error

func (f senderFunc) Send(_ context.Context, m messages.Message) error { return f(m) }

func decodeBase64Body(t *testing.T, r io.Reader) string {
	t.Helper()
	raw, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\r\n") {
		if len(line) > 76 {
			t.Fatalf("body line of %d characters", len(line))
		}
	}
	b, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(strings.TrimSpace(string(raw)), "\r\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
