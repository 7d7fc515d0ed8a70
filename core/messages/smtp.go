package messages

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
)

// SMTP is a gateway Sender that delivers e-mail through an SMTP relay (the
// operator's mail server or a provider's submission port). It sends one
// message per connection: the outbox delivers few messages, each with its
// own deadline, and a fresh connection survives relays that close idle
// ones. SMS cannot go through it (Send fails; see Channels).
type SMTP struct {
	// Addr is the relay's host:port, e.g. "smtp.example.com:587".
	Addr string
	// Security is "starttls" (default; the relay must offer STARTTLS —
	// a server without it is refused, never downgraded), "tls" (implicit
	// TLS, usually port 465) or "none" (plain text: for a relay on
	// localhost or a trusted network; credentials are then refused by
	// net/smtp unless the relay is on localhost).
	Security string
	// Username and Password, when Username is set, authenticate with AUTH
	// PLAIN (only over TLS, or to localhost).
	Username, Password string
	// From is the sender, e.g. "EIMS Hub <noreply@example.com>".
	From string
	// HelloName is sent with EHLO. Default: "localhost".
	HelloName string
	// TLSConfig overrides the TLS settings (tests: a private CA). Its
	// ServerName defaults to Addr's host.
	TLSConfig *tls.Config
	// Now stamps the Date header. Default: time.Now.
	Now func() time.Time
}

// Security modes of SMTP.
const (
	SMTPStartTLS = "starttls"
	SMTPTLS      = "tls"
	SMTPNone     = "none"
)

// ErrWrongChannel is what a gateway returns for a channel it cannot
// deliver (an SMS handed to SMTP).
var ErrWrongChannel = errors.New("messages: the gateway does not deliver this channel")

// Send implements Sender.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if m.Channel != ChannelEmail {
		return fmt.Errorf("smtp: %w (%s)", ErrWrongChannel, m.Channel)
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("smtp: messages.smtp.from %q: %w", s.From, err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("smtp: recipient %s: %w", MaskRecipient(m.To), err)
	}
	data, err := s.compose(from, to, m)
	if err != nil {
		return err
	}
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := s.transact(c, from.Address, to.Address, data); err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	return nil
}

// dial connects under ctx's deadline and brings the session to the point
// where MAIL FROM can be sent (EHLO, STARTTLS, AUTH).
func (s *SMTP) dial(ctx context.Context) (*smtp.Client, error) {
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp: messages.smtp.addr %q: %w", s.Addr, err)
	}
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		tc = s.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = host
		}
	}
	d := net.Dialer{Timeout: 30 * time.Second}
	var conn net.Conn
	if s.Security == SMTPTLS {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tc}).DialContext(ctx, "tcp", s.Addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.Addr)
	}
	if err != nil {
		return nil, fmt.Errorf("smtp: connect %s: %w", s.Addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("smtp %s: greeting: %w", s.Addr, err)
	}
	fail := func(err error) (*smtp.Client, error) {
		c.Close()
		return nil, fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	hello := s.HelloName
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return fail(err)
	}
	switch s.Security {
	case "", SMTPStartTLS:
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fail(errors.New("the relay does not offer STARTTLS (set messages.smtp.security to tls or none)"))
		}
		if err := c.StartTLS(tc); err != nil {
			return fail(err)
		}
	case SMTPTLS, SMTPNone:
	default:
		return fail(fmt.Errorf("unknown security %q", s.Security))
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fail(err)
		}
	}
	return c, nil
}

func (s *SMTP) transact(c *smtp.Client, from, to string, data []byte) error {
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// compose builds the RFC 5322 message: UTF-8 text, base64 body, the
// subject RFC 2047-encoded. Addresses come from net/mail (no header can
// be injected through them); a subject with a line break is refused.
func (s *SMTP) compose(from, to *mail.Address, m Message) ([]byte, error) {
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, errors.New("smtp: the subject contains a line break")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", now().Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(m.Body))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.Bytes(), nil
}

// Channels is a gateway that hands each message to the gateway of its
// channel (e-mail to SMTP, SMS to the webhook, …). A channel without one
// fails with ErrWrongChannel, which the outbox retries until it marks the
// message failed — configure a gateway for every channel you send.
type Channels map[string]Sender

// Send implements Sender.
func (c Channels) Send(ctx context.Context, m Message) error {
	if g := c[m.Channel]; g != nil {
		return g.Send(ctx, m)
	}
	return fmt.Errorf("messages: no gateway for channel %q: %w", m.Channel, ErrWrongChannel)
}
