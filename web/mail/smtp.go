package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// sendTimeout bounds one Send from dial to QUIT. The job queue runs each
// attempt under River's one-minute job timeout, so a hung server costs one
// attempt, not a worker.
const sendTimeout = 30 * time.Second

// tlsMode is how the connection to the mail server is protected.
type tlsMode int

const (
	tlsOpportunistic tlsMode = iota // smtp://: STARTTLS when the server offers it
	tlsStartTLS                     // smtp://…?tls=starttls: STARTTLS or fail
	tlsImplicit                     // smtps://: TLS from the first byte
	tlsNone                         // smtp://…?tls=none: never TLS (local relays)
)

func (m tlsMode) String() string {
	switch m {
	case tlsStartTLS:
		return "starttls required"
	case tlsImplicit:
		return "implicit tls"
	case tlsNone:
		return "no tls"
	default:
		return "starttls when offered"
	}
}

// SMTP is a Sender that delivers through an SMTP server with
// github.com/wneessen/go-mail. It opens one connection per message, which
// suits Hearth's volume (resets, invitations, alert notices) and leaves no
// idle connection to go stale. Safe for concurrent use.
type SMTP struct {
	scheme   string
	host     string
	port     int
	mode     tlsMode
	username string
	password string
	from     *netmail.Address
	timeout  time.Duration
	rootCAs  *x509.CertPool // nil: the system roots; tests set their own CA
}

const smtpURLHelp = "want smtp://user:pass@host:587 (STARTTLS when offered), " +
	"smtp://user:pass@host:587?tls=starttls (STARTTLS required), " +
	"smtps://user:pass@host:465 (implicit TLS) or smtp://host:25?tls=none (local relay)"

// NewSMTP returns a Sender for the server named by rawURL (HEARTH_SMTP_URL),
// sending as from (an address, optionally with a display name, like
// "Hearth <no-reply@hearth.example>").
//
// URL forms:
//
//	smtp://user:pass@host:587              STARTTLS when the server offers it
//	smtp://user:pass@host:587?tls=starttls STARTTLS required
//	smtps://user:pass@host:465             implicit TLS
//	smtp://host:25?tls=none                no TLS, for a local relay
//
// The port defaults to 587 for smtp and 465 for smtps. Special characters in
// the user or password must be percent-encoded. Credentials are never sent
// over an unencrypted connection to anything but a loopback address: with
// ?tls=none that is refused here, and without TLS go-mail refuses at send
// time. Errors describe what is wrong without repeating the password.
func NewSMTP(rawURL string, from string) (*SMTP, error) {
	if strings.TrimSpace(rawURL) == "" {
		return nil, errors.New("mail: SMTP URL is empty; " + smtpURLHelp)
	}
	if strings.Contains(rawURL, "#") {
		return nil, errors.New("mail: invalid SMTP URL: unexpected '#' (percent-encode it as %23 in a user or password)")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("mail: invalid SMTP URL: %s; %s", urlParseReason(err), smtpURLHelp)
	}
	s := &SMTP{scheme: u.Scheme, timeout: sendTimeout}
	switch u.Scheme {
	case "smtp":
		s.port = 587
	case "smtps":
		s.port = 465
		s.mode = tlsImplicit
	case "":
		return nil, errors.New("mail: invalid SMTP URL: no scheme; " + smtpURLHelp)
	default:
		return nil, fmt.Errorf("mail: invalid SMTP URL: scheme %q is not smtp or smtps; %s", u.Scheme, smtpURLHelp)
	}
	if u.Opaque != "" {
		return nil, errors.New("mail: invalid SMTP URL: missing // after the scheme; " + smtpURLHelp)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, errors.New("mail: invalid SMTP URL: unexpected path after the host (percent-encode '/' as %2F in a user or password)")
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, errors.New("mail: invalid SMTP URL: no host; " + smtpURLHelp)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("mail: invalid SMTP URL: port %q is not a number from 1 to 65535", p)
		}
		s.port = n
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("mail: invalid SMTP URL: bad query: %v", err)
	}
	for k, vs := range q {
		if k != "tls" {
			return nil, fmt.Errorf("mail: invalid SMTP URL: unknown parameter %q (only tls=starttls or tls=none is supported)", k)
		}
		if len(vs) != 1 {
			return nil, errors.New("mail: invalid SMTP URL: tls is given more than once")
		}
		if s.mode == tlsImplicit {
			return nil, errors.New("mail: invalid SMTP URL: smtps:// always uses implicit TLS; remove the tls parameter")
		}
		switch strings.ToLower(vs[0]) {
		case "starttls":
			s.mode = tlsStartTLS
		case "none":
			s.mode = tlsNone
		default:
			return nil, fmt.Errorf("mail: invalid SMTP URL: tls=%q: want tls=starttls (STARTTLS required) or tls=none (no TLS)", vs[0])
		}
	}

	if u.User != nil {
		s.username = u.User.Username()
		pass, hasPass := u.User.Password()
		if s.username == "" {
			return nil, errors.New("mail: invalid SMTP URL: user is empty")
		}
		if !hasPass || pass == "" {
			return nil, errors.New("mail: invalid SMTP URL: user given without a password")
		}
		s.password = pass
		if s.mode == tlsNone && !isLoopback(s.host) {
			return nil, fmt.Errorf("mail: invalid SMTP URL: refusing to send credentials without TLS to %s; drop tls=none or use smtps://", s.host)
		}
	}

	if strings.TrimSpace(from) == "" {
		return nil, errors.New("mail: from address is empty")
	}
	s.from, err = netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: invalid from address %q: %v", from, err)
	}
	return s, nil
}

// String describes the server without credentials, for a start-up log line,
// e.g. "smtp://mail.example.com:587 (starttls when offered, auth)".
func (s *SMTP) String() string {
	auth := "no auth"
	if s.username != "" {
		auth = "auth"
	}
	return fmt.Sprintf("%s://%s (%s, %s)", s.scheme, net.JoinHostPort(s.host, strconv.Itoa(s.port)), s.mode, auth)
}

// Send delivers m and returns once the server accepted it. It gives up when
// ctx ends or after 30 seconds; the error then wraps the context's error
// (errors.Is(err, context.DeadlineExceeded)). A recipient refused for good
// wraps ErrRecipientRejected. Errors may quote the server's reply (which can
// name the recipient) but never the message text.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()

	msg, err := s.message(m)
	if err != nil {
		return err
	}
	client, err := gomail.NewClient(s.host, s.options(ctx)...)
	if err != nil {
		return fmt.Errorf("mail: configuring SMTP client for %s: %w", s, err)
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	if cerr := ctxErr(ctx); cerr != nil {
		return fmt.Errorf("mail: sending via %s: %w: %v", s, cerr, err)
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && !se.IsTemp() {
		return fmt.Errorf("%w: %v", ErrRecipientRejected, err)
	}
	return fmt.Errorf("mail: sending via %s: %w", s, err)
}

// message builds the go-mail message with the headers a mail provider
// expects: From, To, Subject, Date and a Message-ID in the sender's domain.
func (s *SMTP) message(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	if err := msg.To(m.To); err != nil {
		return nil, errors.New("mail: recipient is not a valid address")
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	domain := s.from.Address[strings.LastIndexByte(s.from.Address, '@')+1:]
	msg.SetMessageIDWithValue(rand.Text() + "@" + domain)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	return msg, nil
}

func (s *SMTP) options(ctx context.Context) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithTLSConfig(s.tlsConfig()),
		gomail.WithDialContextFunc(s.dialer(ctx)),
	}
	switch s.mode {
	case tlsOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case tlsStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case tlsImplicit:
		// Our dialer does the TLS handshake; WithSSL only stops go-mail
		// from trying STARTTLS on top of it.
		opts = append(opts, gomail.WithSSL())
	case tlsNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.username != "" {
		// The first mechanism the server offers wins. PLAIN and LOGIN are
		// refused by go-mail on a connection without TLS unless the server
		// is on a loopback address.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.username),
			gomail.WithPassword(s.password),
		)
	}
	return opts
}

func (s *SMTP) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12, RootCAs: s.rootCAs}
}

// dialer returns a dial function whose connections end when sendCtx ends.
// go-mail only uses its context to dial and then sets its own per-command
// deadlines, so without this a server that stops answering would hold Send
// past the caller's deadline and ignore cancellation.
func (s *SMTP) dialer(sendCtx context.Context) gomail.DialContextFunc {
	return func(dialCtx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		raw, err := d.DialContext(dialCtx, network, addr)
		if err != nil {
			return nil, err
		}
		conn := newCtxConn(sendCtx, raw)
		if s.mode != tlsImplicit {
			return conn, nil
		}
		// Returned as a *tls.Conn so that go-mail's SMTP client knows the
		// connection is encrypted (it allows PLAIN auth only then).
		tc := tls.Client(conn, s.tlsConfig())
		if err := tc.HandshakeContext(dialCtx); err != nil {
			_ = conn.Close()
			return nil, err
		}
		return tc, nil
	}
}

// ctxConn is a net.Conn whose deadlines never reach past its context's
// deadline and which stops all I/O when the context is cancelled.
type ctxConn struct {
	net.Conn
	ctx  context.Context
	stop func() bool

	mu   sync.Mutex
	done bool
}

func newCtxConn(ctx context.Context, conn net.Conn) *ctxConn {
	c := &ctxConn{Conn: conn, ctx: ctx}
	c.stop = context.AfterFunc(ctx, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.done = true
		_ = c.Conn.SetDeadline(pastDeadline)
	})
	return c
}

var pastDeadline = time.Unix(1, 0)

func (c *ctxConn) clamp(t time.Time) time.Time {
	if c.done {
		return pastDeadline
	}
	if d, ok := c.ctx.Deadline(); ok && (t.IsZero() || d.Before(t)) {
		return d
	}
	return t
}

func (c *ctxConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetDeadline(c.clamp(t))
}

func (c *ctxConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetReadDeadline(c.clamp(t))
}

func (c *ctxConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetWriteDeadline(c.clamp(t))
}

func (c *ctxConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// ctxErr is ctx.Err(), but already DeadlineExceeded once the deadline has
// passed: a connection deadline can fire a moment before ctx's own timer.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// urlParseReason says why url.Parse failed without repeating any part of the
// URL: url.Error quotes the whole URL, and its reason can quote a piece of a
// password that was mistaken for a port ("user:pa/ss@host").
func urlParseReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "port"):
		return "invalid port after the host (percent-encode '/', '?' and '#' in a user or password)"
	case strings.Contains(msg, "escape"):
		return "invalid percent-encoding"
	case strings.Contains(msg, "userinfo"):
		return "invalid user or password (percent-encode special characters such as '@' and ':')"
	case strings.Contains(msg, "host"):
		return "invalid host name"
	}
	return "cannot parse the URL"
}

// isLoopback matches go-mail's own rule for allowing PLAIN and LOGIN
// without TLS, so that NewSMTP refuses exactly what Send would refuse.
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
