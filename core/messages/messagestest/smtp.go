// Package messagestest runs a real SMTP relay (emersion/go-smtp) for tests
// of the outbox's SMTP gateway and of the hub that uses it.
package messagestest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPRelay is a real SMTP server (emersion/go-smtp) on a free local
// port that keeps what it receives.
type SMTPRelay struct {
	// Addr is the relay's host:port; Roots trusts its certificate.
	Addr  string
	Roots *x509.CertPool

	mu     sync.Mutex
	got    []Received
	authed []string
}

// Received is one message the relay accepted.
type Received struct {
	From string
	To   []string
	Data []byte
}

// Received returns the messages accepted so far.
func (r *SMTPRelay) Received() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Received(nil), r.got...)
}

// Authenticated returns the users that authenticated so far.
func (r *SMTPRelay) Authenticated() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.authed...)
}

// Credentials the relay accepts with AUTH PLAIN.
const (
	SMTPUser     = "hub"
	SMTPPassword = "relay-pass"
)

type session struct {
	r   *SMTPRelay
	cur Received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != SMTPUser || pass != SMTPPassword {
			return errors.New("bad credentials")
		}
		s.r.mu.Lock()
		s.r.authed = append(s.r.authed, user)
		s.r.mu.Unlock()
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.cur.From = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = b
	s.r.mu.Lock()
	s.r.got = append(s.r.got, s.cur)
	s.r.mu.Unlock()
	return nil
}
func (s *session) Reset()        { s.cur = Received{} }
func (s *session) Logout() error { return nil }

// StartSMTPRelay serves SMTP on 127.0.0.1 until the test ends; with
// implicitTLS the listener is TLS, otherwise STARTTLS is offered when
// offerTLS. AUTH PLAIN (SMTPUser, SMTPPassword) is offered over TLS only.
func StartSMTPRelay(t testing.TB, implicitTLS, offerTLS bool) *SMTPRelay {
	t.Helper()
	cert, roots := selfSigned(t)
	r := &SMTPRelay{Roots: roots}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{r: r}, nil }))
	srv.Domain = "relay.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	tc := &tls.Config{Certificates: []tls.Certificate{cert}}
	var l net.Listener
	var err error
	if implicitTLS {
		l, err = tls.Listen("tcp", "127.0.0.1:0", tc)
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
		if offerTLS {
			srv.TLSConfig = tc
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	r.Addr = l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r
}

func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relay.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"relay.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
