package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// testServer is a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1 that records what it receives.
type testServer struct {
	addr string
	opts serverOpts

	mu       sync.Mutex
	received []received
}

type serverOpts struct {
	user, pass  string          // when set, AUTH PLAIN is offered and required
	rejectRcpt  *smtp.SMTPError // when set, every RCPT TO gets this reply
	startTLS    *tls.Config     // when set, STARTTLS is offered
	implicitTLS *tls.Config     // when set, the listener speaks TLS from the first byte
	requireTLS  bool            // refuse MAIL FROM on a connection without TLS
}

type received struct {
	from     string
	to       []string
	data     []byte
	tls      bool
	authUser string
}

func startServer(t *testing.T, opts serverOpts) *testServer {
	t.Helper()
	ts := &testServer{opts: opts}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &testSession{srv: ts, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 5 * time.Second
	srv.WriteTimeout = 5 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 10
	srv.TLSConfig = opts.startTLS

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = l.Addr().String()
	if opts.implicitTLS != nil {
		l = tls.NewListener(l, opts.implicitTLS)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ts
}

func (ts *testServer) messages() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.received...)
}

type testSession struct {
	srv      *testServer
	conn     *smtp.Conn
	authUser string
	from     string
	to       []string
}

func (s *testSession) AuthMechanisms() []string {
	if s.srv.opts.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *testSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.srv.opts.user || password != s.srv.opts.pass {
			return smtp.ErrAuthFailed
		}
		s.authUser = username
		return nil
	}), nil
}

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.opts.user != "" && s.authUser == "" {
		return smtp.ErrAuthRequired
	}
	if _, isTLS := s.conn.TLSConnectionState(); s.srv.opts.requireTLS && !isTLS {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "TLS required"}
	}
	s.from = from
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.opts.rejectRcpt != nil {
		return s.srv.opts.rejectRcpt
	}
	s.to = append(s.to, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.received = append(s.srv.received, received{
		from: s.from, to: s.to, data: data, tls: isTLS, authUser: s.authUser,
	})
	return nil
}

func (s *testSession) Reset()        { s.from, s.to = "", nil }
func (s *testSession) Logout() error { return nil }

// newTestCA returns a server certificate for 127.0.0.1 and a pool that
// trusts it.
func newTestCA(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "hearth test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

const testFrom = "Hearth <no-reply@hearth.example>"

// testMessage has a non-ASCII subject and a long link line, so the test
// also covers header encoding and quoted-printable soft line breaks.
var testMessage = Message{
	To:      "parent@example.com",
	Subject: "Réinitialiser your Hearth password",
	Text: "Hello,\n\nOpen this link within one hour to choose a new password:\n" +
		"http://127.0.0.1:8080/password/reset/" + strings.Repeat("k9Zq", 20) + "\n\nIf you did not ask for this, ignore this email.\n",
}

func newTestSMTP(t *testing.T, rawURL string) *SMTP {
	t.Helper()
	s, err := NewSMTP(rawURL, testFrom)
	if err != nil {
		t.Fatalf("NewSMTP(%q): %v", rawURL, err)
	}
	return s
}

// assertDelivered checks envelope, headers and body of the one message ts
// received.
func assertDelivered(t *testing.T, ts *testServer, m Message) received {
	t.Helper()
	got := ts.messages()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	r := got[0]
	if r.from != "no-reply@hearth.example" {
		t.Errorf("MAIL FROM = %q, want no-reply@hearth.example", r.from)
	}
	if len(r.to) != 1 || r.to[0] != m.To {
		t.Errorf("RCPT TO = %q, want [%q]", r.to, m.To)
	}

	msg, err := netmail.ReadMessage(bytes.NewReader(r.data))
	if err != nil {
		t.Fatalf("parsing received message: %v\n%s", err, r.data)
	}
	from, err := netmail.ParseAddress(msg.Header.Get("From"))
	if err != nil || from.Address != "no-reply@hearth.example" || from.Name != "Hearth" {
		t.Errorf("From = %q (%v), want Hearth <no-reply@hearth.example>", msg.Header.Get("From"), err)
	}
	to, err := netmail.ParseAddress(msg.Header.Get("To"))
	if err != nil || to.Address != m.To {
		t.Errorf("To = %q (%v), want %q", msg.Header.Get("To"), err, m.To)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("Subject = %q (%v), want %q", subject, err, m.Subject)
	}
	date, err := msg.Header.Date()
	if err != nil || time.Since(date) > time.Minute || time.Until(date) > time.Minute {
		t.Errorf("Date = %q (%v), want about now", msg.Header.Get("Date"), err)
	}
	if id := msg.Header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@hearth.example>") {
		t.Errorf("Message-ID = %q, want <…@hearth.example>", id)
	}
	if ct := msg.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}

	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(string(b), "\r\n", "\n"); got != m.Text {
		t.Errorf("body = %q, want %q", got, m.Text)
	}
	return r
}

func TestSMTP_Send(t *testing.T) {
	t.Parallel()

	t.Run("plain_without_auth_tls_none", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, serverOpts{})
		s := newTestSMTP(t, "smtp://"+ts.addr+"?tls=none")
		if err := s.Send(t.Context(), testMessage); err != nil {
			t.Fatal(err)
		}
		r := assertDelivered(t, ts, testMessage)
		if r.tls || r.authUser != "" {
			t.Errorf("tls=%v auth=%q, want plain without auth", r.tls, r.authUser)
		}
	})

	t.Run("starttls_when_offered_falls_back_to_plain", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, serverOpts{})
		s := newTestSMTP(t, "smtp://"+ts.addr)
		if err := s.Send(t.Context(), testMessage); err != nil {
			t.Fatal(err)
		}
		assertDelivered(t, ts, testMessage)
	})

	t.Run("auth_plain_on_local_server", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, serverOpts{user: "hearth", pass: "p@ss/w:rd"})
		s := newTestSMTP(t, "smtp://hearth:p%40ss%2Fw%3Ard@"+ts.addr)
		if err := s.Send(t.Context(), testMessage); err != nil {
			t.Fatal(err)
		}
		r := assertDelivered(t, ts, testMessage)
		if r.authUser != "hearth" {
			t.Errorf("authenticated as %q, want hearth", r.authUser)
		}
	})

	t.Run("auth_wrong_password_fails", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, serverOpts{user: "hearth", pass: "right"})
		s := newTestSMTP(t, "smtp://hearth:wrong@"+ts.addr)
		err := s.Send(t.Context(), testMessage)
		if err == nil {
			t.Fatal("Send succeeded with a wrong password")
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Errorf("error quotes the password: %v", err)
		}
		if n := len(ts.messages()); n != 0 {
			t.Errorf("server received %d messages", n)
		}
	})

	t.Run("starttls_upgrades_when_offered", func(t *testing.T) {
		t.Parallel()
		serverTLS, roots := newTestCA(t)
		ts := startServer(t, serverOpts{startTLS: serverTLS, requireTLS: true, user: "hearth", pass: "secret"})
		s := newTestSMTP(t, "smtp://hearth:secret@"+ts.addr)
		s.rootCAs = roots
		if err := s.Send(t.Context(), testMessage); err != nil {
			t.Fatal(err)
		}
		if r := assertDelivered(t, ts, testMessage); !r.tls {
			t.Error("message went over a connection without TLS")
		}
	})

	t.Run("starttls_required_and_offered", func(t *testing.T) {
		t.Parallel()
		serverTLS, roots := newTestCA(t)
		ts := startServer(t, serverOpts{startTLS: serverTLS})
		s := newTestSMTP(t, "smtp://"+ts.addr+"?tls=starttls")
		s.rootCAs = roots
		if err := s.Send(t.Context(), testMessage); err != nil {
			t.Fatal(err)
		}
		if r := assertDelivered(t, ts, testMessage); !r.tls {
			t.Error("message went over a connection without TLS")
		}
	})

	t.Run("starttls_required_but_not_offered_fails", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, serverOpts{})
		s := newTestSMTP(t, "smtp://"+ts.addr+"?tls=starttls")
		err := s.Send(t.Context(), testMessage)
		if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("err = %v, want a STARTTLS error", err)
		}
		if n := len(ts.messages()); n != 0 {
			t.Errorf("server received %d messages without TLS", n)
		}
	})

	t.Run("starttls_with_untrusted_certificate_fails", func(t *testing.T) {
		t.Parallel()
		serverTLS, _ := newTestCA(t)
		ts := startServer(t, serverOpts{startTLS: serverTLS})
		s := newTestSMTP(t, "smtp://"+ts.addr) // system roots do not trust the test CA
		if err := s.Send(t.Context(), testMessage); err == nil {
			t.Fatal("Send succeeded with an untrusted certificate")
		}
		if n := len(ts.messages()); n != 0 {
			t.Errorf("server received %d messages", n)
		}
	})

	t.Run("smtps_implicit_tls_with_auth", func(t *testing.T) {
		t.Parallel()
		serverTLS, roots := newTestCA(t)
		ts := startServer(t, serverOpts{implicitTLS: serverTLS, requireTLS: true, user: "hearth", pass: "secret"})
		s := newTestSMTP(t, "smtps://hearth:secret@"+ts.addr)
		s.rootCAs = roots
		if err := s.Send(t.Context(), testMessage); err != nil {
			t.Fatal(err)
		}
		r := assertDelivered(t, ts, testMessage)
		if !r.tls || r.authUser != "hearth" {
			t.Errorf("tls=%v auth=%q, want TLS and auth as hearth", r.tls, r.authUser)
		}
	})

	t.Run("recipient_refused_for_good", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, serverOpts{rejectRcpt: &smtp.SMTPError{
			Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user",
		}})
		s := newTestSMTP(t, "smtp://"+ts.addr)
		err := s.Send(t.Context(), testMessage)
		if !errors.Is(err, ErrRecipientRejected) {
			t.Fatalf("err = %v, want ErrRecipientRejected", err)
		}
		if strings.Contains(err.Error(), "k9Zq") {
			t.Errorf("error quotes the body: %v", err)
		}
		if n := len(ts.messages()); n != 0 {
			t.Errorf("server received %d messages", n)
		}
	})

	t.Run("recipient_refused_for_now_is_retryable", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, serverOpts{rejectRcpt: &smtp.SMTPError{
			Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later",
		}})
		s := newTestSMTP(t, "smtp://"+ts.addr)
		err := s.Send(t.Context(), testMessage)
		if err == nil {
			t.Fatal("Send succeeded although the server refused the recipient")
		}
		if errors.Is(err, ErrRecipientRejected) {
			t.Errorf("a 451 is temporary, but err = %v wraps ErrRecipientRejected", err)
		}
	})

	t.Run("server_that_never_answers_times_out", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { _ = c.Close() }) // hold it open, never greet
			}
		}()
		s := newTestSMTP(t, "smtp://"+l.Addr().String())
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err = s.Send(ctx, testMessage)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Send took %v after a 300ms deadline", d)
		}
	})

	t.Run("cancelled_context_stops_a_hung_send", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { _ = c.Close() })
			}
		}()
		s := newTestSMTP(t, "smtp://"+l.Addr().String())
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(200*time.Millisecond, cancel)
		start := time.Now()
		err = s.Send(ctx, testMessage)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Send took %v after cancellation", d)
		}
	})

	t.Run("invalid_message_is_refused_before_dialing", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, serverOpts{})
		s := newTestSMTP(t, "smtp://"+ts.addr)
		bad := testMessage
		bad.Subject = "Hi\r\nBcc: victim@example.com"
		if err := s.Send(t.Context(), bad); err == nil {
			t.Fatal("Send accepted a subject with a line break")
		}
		if n := len(ts.messages()); n != 0 {
			t.Errorf("server received %d messages", n)
		}
	})
}

func TestNewSMTP(t *testing.T) {
	t.Parallel()

	good := []struct {
		url, want string
	}{
		{"smtp://user:pass@mail.example.com:587", "smtp://mail.example.com:587 (starttls when offered, auth)"},
		{"smtp://user:pass@mail.example.com", "smtp://mail.example.com:587 (starttls when offered, auth)"},
		{"smtp://user:pass@mail.example.com:2525?tls=starttls", "smtp://mail.example.com:2525 (starttls required, auth)"},
		{"smtps://user:pass@mail.example.com", "smtps://mail.example.com:465 (implicit tls, auth)"},
		{"SMTPS://mail.example.com:4650/", "smtps://mail.example.com:4650 (implicit tls, no auth)"},
		{"smtp://relay.internal:25?tls=none", "smtp://relay.internal:25 (no tls, no auth)"},
		{"smtp://user:pass@localhost:25?tls=NONE", "smtp://localhost:25 (no tls, auth)"},
		{"smtp://[::1]:25?tls=none", "smtp://[::1]:25 (no tls, no auth)"},
	}
	for _, tc := range good {
		s, err := NewSMTP(tc.url, testFrom)
		if err != nil {
			t.Errorf("NewSMTP(%q): %v", tc.url, err)
			continue
		}
		if got := s.String(); got != tc.want {
			t.Errorf("NewSMTP(%q).String() = %q, want %q", tc.url, got, tc.want)
		}
		if strings.Contains(s.String(), "pass") {
			t.Errorf("String() shows the password: %q", s.String())
		}
	}

	bad := []struct {
		name, url, from, want string
	}{
		{"empty", "", testFrom, "SMTP URL is empty"},
		{"wrong scheme", "http://mail.example.com", testFrom, `scheme "http" is not smtp or smtps`},
		{"no scheme", "mail.example.com:587", testFrom, "not smtp or smtps"},
		{"bare host", "mail.example.com", testFrom, "no scheme"},
		{"opaque", "smtp:mail.example.com", testFrom, "missing //"},
		{"no host", "smtp://:587", testFrom, "no host"},
		{"bad port", "smtp://mail.example.com:99999", testFrom, `port "99999"`},
		{"non-numeric port", "smtp://mail.example.com:abc", testFrom, "invalid SMTP URL"},
		{"unknown tls", "smtp://mail.example.com?tls=yes", testFrom, `tls="yes"`},
		{"tls twice", "smtp://mail.example.com?tls=none&tls=starttls", testFrom, "more than once"},
		{"unknown parameter", "smtp://mail.example.com?timeout=5s", testFrom, `unknown parameter "timeout"`},
		{"tls with smtps", "smtps://mail.example.com?tls=starttls", testFrom, "always uses implicit TLS"},
		{"user without password", "smtp://user@mail.example.com", testFrom, "without a password"},
		{"empty user", "smtp://:s3cret-pw@mail.example.com", testFrom, "user is empty"},
		{"credentials in clear", "smtp://user:s3cret-pw@mail.example.com:25?tls=none", testFrom, "refusing to send credentials without TLS"},
		{"unencoded slash in password", "smtp://user:s3cret/pw@mail.example.com", testFrom, "invalid SMTP URL"},
		{"unencoded hash in password", "smtp://user:s3cret#pw@mail.example.com", testFrom, "invalid SMTP URL"},
		{"space in host", "smtp://user:s3cret-pw@mail example.com", testFrom, "invalid SMTP URL"},
		{"no from", "smtp://mail.example.com", "", "from address is empty"},
		{"bad from", "smtp://mail.example.com", "not an address", "invalid from address"},
	}
	for _, tc := range bad {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			_, err := NewSMTP(tc.url, tc.from)
			if err == nil {
				t.Fatalf("NewSMTP(%q) succeeded", tc.url)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewSMTP(%q) = %v, want it to mention %q", tc.url, err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error repeats the password: %v", err)
			}
		})
	}
}
