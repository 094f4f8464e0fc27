package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/cookiejar"
	netmail "net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/emersion/go-smtp"

	"github.com/hearth-safety/hearth/models/store/storetest"
)

// Bounds of the end-to-end test. Start-up includes migrations (slow on
// Postgres and under -race); shutdown must finish within 25 s by SECURITY.md.
const (
	startTimeout    = 60 * time.Second
	mailTimeout     = 30 * time.Second
	shutdownLimit   = 25 * time.Second
	pollInterval    = 10 * time.Millisecond
	requestTimeout  = 10 * time.Second
	guardianName    = "Gwen Guardian"
	guardianEmail   = "gwen@example.com"
	guardianPass    = "a long and unusual passphrase"
	latecomerEmail  = "late@example.com"
	mailFromAddress = "no-reply@hearth.test"
)

// TestServe runs the whole program as `hearth serve` would run it: real
// listeners, the job queue, and a real SMTP server receiving the mail. Each
// subtest has its own database and ports, so they run in parallel (which
// also checks that two servers in one process share no state).
func TestServe(t *testing.T) {
	t.Parallel()
	t.Run("address_in_use", func(t *testing.T) {
		t.Parallel()
		testServeAddressInUse(t)
	})
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testServe(t, filepath.Join(t.TempDir(), "hearth.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		base, why := storetest.PostgresURL()
		if base == "" {
			if os.Getenv("HEARTH_REQUIRE_POSTGRES") == "1" {
				t.Fatalf("HEARTH_REQUIRE_POSTGRES=1 but %s", why)
			}
			t.Skipf("SKIPPED on PostgreSQL: %s", why)
		}
		testServe(t, storetest.NewSchema(t, base))
	})
}

func testServe(t *testing.T, databaseURL string) {
	mailSrv := startSMTP(t)
	env := map[string]string{
		"HEARTH_DATABASE_URL": databaseURL,
		"HEARTH_ADDR":         freeAddr(t),
		"HEARTH_METRICS_ADDR": freeAddr(t),
		"HEARTH_SMTP_URL":     "smtp://" + mailSrv.addr + "?tls=none",
		"HEARTH_MAIL_FROM":    "Hearth Test <" + mailFromAddress + ">",
		"HEARTH_LOG_LEVEL":    "debug",
	}
	p := startServe(t, env)

	// Sign up over HTTP, as a browser would.
	b := newBrowser(t, p.base)
	page := b.get("/signup", http.StatusOK)
	form := page.form(t, `form[action="/signup"]`)
	form.Set("name", guardianName)
	form.Set("email", guardianEmail)
	form.Set("password", guardianPass)
	page = b.post("/signup", form, http.StatusOK)
	if !strings.Contains(page.body, guardianEmail) {
		t.Errorf("sign-up answer does not tell where the email went:\n%s", page.body)
	}

	// handlers → River job → SMTP: the real server receives the mail.
	msg := mailSrv.waitFor(t, guardianEmail, mailTimeout)
	if msg.from != mailFromAddress {
		t.Errorf("envelope sender %q, want %q", msg.from, mailFromAddress)
	}
	if got := msg.header.Get("To"); !strings.Contains(got, guardianEmail) {
		t.Errorf("To: %q, want %s", got, guardianEmail)
	}
	if got := msg.header.Get("From"); !strings.Contains(got, mailFromAddress) {
		t.Errorf("From: %q, want %s", got, mailFromAddress)
	}
	if got := msg.subject(t); got != "Confirm your email address for Hearth" {
		t.Errorf("Subject: %q", got)
	}
	body := msg.text(t)
	if !strings.Contains(body, guardianName) {
		t.Errorf("email does not greet %s:\n%s", guardianName, body)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(p.base) + `(/signup/confirm/[A-Za-z0-9_\-]+)`).FindStringSubmatch(body)
	if link == nil {
		t.Fatalf("no %s/signup/confirm/ link in the email:\n%s", p.base, body)
	}
	if strings.Contains(body, guardianPass) {
		t.Error("the email contains the password")
	}

	// Follow the link: GET shows a button, its POST confirms and signs in.
	confirmForm := `form[action^="/signup/confirm/"]`
	page = b.get(link[1], http.StatusOK)
	resp := b.postRaw(link[1], page.form(t, confirmForm))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("confirming: %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	page = b.get("/", http.StatusOK)
	if h1 := strings.TrimSpace(page.doc.Find("h1").First().Text()); !strings.Contains(h1, guardianName) {
		t.Errorf("dashboard heading %q does not name %s", h1, guardianName)
	}
	// The link works once; a second use is refused.
	again := newBrowser(t, p.base)
	page = again.get(link[1], http.StatusOK)
	if resp := again.postRaw(link[1], page.form(t, confirmForm)); resp.StatusCode != http.StatusGone {
		t.Errorf("second use of the confirmation link: %d, want 410", resp.StatusCode)
	}

	// Metrics on their own listener, labelled by route pattern.
	metrics := getText(t, "http://"+env["HEARTH_METRICS_ADDR"]+"/metrics")
	for _, want := range []string{
		`hearth_http_requests_total{method="GET",route="/signup",status="200"} 1`,
		`hearth_http_requests_total{method="POST",route="/signup",status="200"} 1`,
		`hearth_http_requests_total{method="POST",route="/signup/confirm/:token",status="303"} 1`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("metrics lack %s; request lines:\n%s", want, grepLines(metrics, "hearth_http_requests_total{"))
		}
	}
	token := strings.TrimPrefix(link[1], "/signup/confirm/")
	if strings.Contains(metrics, token) {
		t.Error("metrics contain a single-use token")
	}
	if logs := p.stderr.String(); strings.Contains(logs, token) || strings.Contains(logs, guardianPass) {
		t.Error("the logs contain the confirmation token or the password")
	}
	if status := getStatus(t, p.base+"/metrics"); status != http.StatusNotFound {
		t.Errorf("/metrics on the public listener: %d, want 404", status)
	}

	// Graceful shutdown with a request in flight: cancel ctx as SIGTERM
	// would, while a sign-up is half sent.
	lb := newBrowser(t, p.base)
	page = lb.get("/signup", http.StatusOK)
	form = page.form(t, `form[action="/signup"]`)
	form.Set("name", "Lata Late")
	form.Set("email", latecomerEmail)
	form.Set("password", guardianPass)
	slow := lb.startSlowPost("/signup", form)

	stopped := time.Now()
	p.cancel()
	waitUntil(t, 10*time.Second, "the public listener to close", func() bool {
		c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err != nil
	})
	select {
	case err := <-p.done:
		t.Fatalf("run returned (%v) before the in-flight request finished", err)
	default:
	}
	status, slowBody := slow.finish(t)
	if status != http.StatusOK || !strings.Contains(slowBody, latecomerEmail) {
		t.Errorf("in-flight sign-up during shutdown answered %d:\n%s", status, slowBody)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("run returned %v after shutdown, want nil", err)
		}
		if d := time.Since(stopped); d > shutdownLimit {
			t.Errorf("shutdown took %s, want under %s", d, shutdownLimit)
		}
	case <-time.After(shutdownLimit):
		t.Fatalf("run did not return within %s of cancellation; stderr:\n%s", shutdownLimit, p.stderr.String())
	}
	p.stopped = true
	if _, err := (&http.Client{Timeout: time.Second}).Get("http://" + env["HEARTH_METRICS_ADDR"] + "/metrics"); err == nil {
		t.Error("the metrics listener still answers after run returned")
	}

	// The email queued by the last request is not lost: it was sent before
	// the queue stopped, or the next process sends it.
	if !mailSrv.has(latecomerEmail) {
		p2 := startServe(t, env)
		mailSrv.waitFor(t, latecomerEmail, mailTimeout)
		p2.stop(t)
	}
}

// testServeAddressInUse starts serve where a listener cannot bind: run must
// say which address, and leave nothing behind (no server still answering,
// no job queue still working on the closed database).
func testServeAddressInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		name, busyVar, freeVar string
		want                   []string
	}{
		{"public", "HEARTH_ADDR", "HEARTH_METRICS_ADDR", []string{busy.Addr().String()}},
		{"metrics", "HEARTH_METRICS_ADDR", "HEARTH_ADDR", []string{"HEARTH_METRICS_ADDR", busy.Addr().String()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			free := freeAddr(t)
			env := map[string]string{
				"HEARTH_DATABASE_URL": filepath.Join(t.TempDir(), "hearth.db"),
				tc.busyVar:            busy.Addr().String(),
				tc.freeVar:            free,
			}
			ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
			defer cancel()
			var stdout, stderr syncBuffer
			err := run(ctx, []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
			if ctx.Err() != nil {
				t.Fatalf("serve kept running with %s busy", tc.busyVar)
			}
			if err == nil {
				t.Fatalf("serve with %s busy returned nil", tc.busyVar)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
			var leaks []string
			if tc.freeVar == "HEARTH_ADDR" && getStatus(t, "http://"+free+"/healthz") != 0 {
				leaks = append(leaks, "the public server still answers on "+free)
			}
			logs := stderr.String()
			if strings.Contains(logs, "River client started") && !strings.Contains(logs, "River client stopped") {
				leaks = append(leaks, "the job queue was never stopped and runs on after the database closed")
			}
			if len(leaks) > 0 {
				t.Fatalf("serve returned on a listen error without stopping what it started: %s", strings.Join(leaks, "; "))
			}
		})
	}
}

// serveProc is a `hearth serve` running in the test.
type serveProc struct {
	base           string
	cancel         context.CancelFunc
	done           chan error
	stdout, stderr *syncBuffer
	stopped        bool
}

// startServe runs `hearth serve` with env and returns once it listens and
// reports ready. It is stopped when the test ends, if the test did not.
func startServe(t *testing.T, env map[string]string) *serveProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &serveProc{base: "http://" + env["HEARTH_ADDR"], cancel: cancel, done: make(chan error, 1), stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	go func() {
		p.done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), p.stdout, p.stderr)
	}()
	t.Cleanup(func() {
		if !p.stopped {
			p.stop(t)
		}
		if t.Failed() {
			t.Logf("serve stdout:\n%s\nserve stderr (last 8 KiB):\n%s", p.stdout.String(), tail(p.stderr.String(), 8<<10))
		}
	})

	want := "Hearth is listening on " + p.base
	waitUntil(t, startTimeout, "the listening line", func() bool {
		select {
		case err := <-p.done:
			p.stopped = true
			t.Fatalf("serve returned before listening: %v\nstderr:\n%s", err, p.stderr.String())
		default:
		}
		return strings.Contains(p.stdout.String(), want)
	})
	if out := p.stdout.String(); !strings.Contains(out, "Metrics at http://"+env["HEARTH_METRICS_ADDR"]+"/metrics") {
		t.Errorf("stdout does not say where metrics are:\n%s", out)
	}
	waitUntil(t, startTimeout, "/readyz to answer 200", func() bool {
		return getStatus(t, p.base+"/readyz") == http.StatusOK
	})
	return p
}

// stop cancels the process and waits for run to return nil.
func (p *serveProc) stop(t *testing.T) {
	t.Helper()
	p.stopped = true
	p.cancel()
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
	case <-time.After(shutdownLimit):
		t.Errorf("serve did not stop within %s", shutdownLimit)
	}
}

// waitUntil polls cond until it holds, failing the test after timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(pollInterval)
	}
}

// freeAddr returns a 127.0.0.1 address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func getStatus(t *testing.T, u string) int {
	t.Helper()
	c := &http.Client{Timeout: requestTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(u)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func getText(t *testing.T, u string) string {
	t.Helper()
	c := &http.Client{Timeout: requestTimeout}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	return string(b)
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// browser is a cookie-keeping HTTP client that does not follow redirects
// and sends no Sec-Fetch-Site header, so CSRF tokens are really checked.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, client: &http.Client{
		Jar:           jar,
		Timeout:       requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type page struct {
	body string
	doc  *goquery.Document
}

// form returns the values of the form matching sel: its hidden inputs, the
// CSRF token among them. It fails the test when there is no token.
func (p *page) form(t *testing.T, sel string) url.Values {
	t.Helper()
	f := p.doc.Find(sel).First()
	if f.Length() == 0 {
		t.Fatalf("no form %q on the page:\n%s", sel, p.body)
	}
	v := url.Values{}
	f.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		n, _ := s.Attr("name")
		val, _ := s.Attr("value")
		v.Set(n, val)
	})
	if v.Get("_csrf") == "" {
		t.Fatalf("form %q has no _csrf token", sel)
	}
	return v
}

func (b *browser) get(path string, want int) *page {
	b.t.Helper()
	resp, err := b.client.Get(b.base + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	return b.read(resp, "GET "+path, want)
}

func (b *browser) post(path string, form url.Values, want int) *page {
	b.t.Helper()
	return b.read(b.postRaw(path, form), "POST "+path, want)
}

func (b *browser) postRaw(path string, form url.Values) *http.Response {
	b.t.Helper()
	resp, err := b.client.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	b.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (b *browser) read(resp *http.Response, what string, want int) *page {
	b.t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s: reading: %v", what, err)
	}
	if resp.StatusCode != want {
		b.t.Fatalf("%s: status %d, want %d\n%s", what, resp.StatusCode, want, body)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		b.t.Fatalf("%s: parsing HTML: %v", what, err)
	}
	return &page{body: string(body), doc: doc}
}

// slowPost is a form POST the server has started handling but whose body
// has not been sent yet.
type slowPost struct {
	conn net.Conn
	br   *bufio.Reader
	body string
	req  *http.Request
}

// startSlowPost sends the headers of a form POST with "Expect:
// 100-continue" on a connection of its own, with the browser's cookies,
// and returns once the server answers "100 Continue": Go's server does that
// when the handler first reads the body, so the request is then in flight.
func (b *browser) startSlowPost(path string, form url.Values) *slowPost {
	b.t.Helper()
	u, _ := url.Parse(b.base + path)
	body := form.Encode()
	var cookies []string
	for _, c := range b.client.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	conn, err := net.DialTimeout("tcp", u.Host, requestTimeout)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: %d\r\nExpect: 100-continue\r\nCookie: %s\r\n\r\n", path, u.Host, len(body), strings.Join(cookies, "; "))
	if _, err := io.WriteString(conn, head); err != nil {
		b.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, u.String(), nil)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		b.t.Fatalf("waiting for 100 Continue: %v", err)
	}
	if resp.StatusCode != http.StatusContinue {
		b.t.Fatalf("POST %s with Expect: 100-continue: %d, want 100", path, resp.StatusCode)
	}
	return &slowPost{conn: conn, br: br, body: body, req: req}
}

// finish sends the body and returns the answer.
func (s *slowPost) finish(t *testing.T) (int, string) {
	t.Helper()
	if _, err := io.WriteString(s.conn, s.body); err != nil {
		t.Fatalf("sending the in-flight request's body: %v", err)
	}
	resp, err := http.ReadResponse(s.br, s.req)
	if err != nil {
		t.Fatalf("reading the in-flight request's answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// smtpServer is a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1 that keeps what it receives.
type smtpServer struct {
	addr string
	mu   sync.Mutex
	msgs []receivedMail
}

type receivedMail struct {
	from   string
	to     []string
	header netmail.Header
	body   []byte
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: s}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *smtpServer) find(to string) (receivedMail, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		for _, r := range m.to {
			if r == to {
				return m, true
			}
		}
	}
	return receivedMail{}, false
}

func (s *smtpServer) has(to string) bool { _, ok := s.find(to); return ok }

// waitFor returns the first message to the address, waiting up to timeout.
func (s *smtpServer) waitFor(t *testing.T, to string, timeout time.Duration) receivedMail {
	t.Helper()
	var m receivedMail
	waitUntil(t, timeout, "an email to "+to, func() bool {
		var ok bool
		m, ok = s.find(to)
		return ok
	})
	return m
}

func (m receivedMail) subject(t *testing.T) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(m.header.Get("Subject"))
	if err != nil {
		t.Fatalf("Subject: %v", err)
	}
	return s
}

// text returns the plain-text body, decoded.
func (m receivedMail) text(t *testing.T) string {
	t.Helper()
	if ct := m.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want text/plain", ct)
	}
	var r io.Reader = bytes.NewReader(m.body)
	switch strings.ToLower(m.header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "", "7bit", "8bit":
	default:
		t.Fatalf("unexpected Content-Transfer-Encoding %q", m.header.Get("Content-Transfer-Encoding"))
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decoding the body: %v", err)
	}
	return string(b)
}

type smtpSession struct {
	srv  *smtpServer
	from string
	to   []string
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	msg, err := netmail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.msgs = append(s.srv.msgs, receivedMail{from: s.from, to: s.to, header: msg.Header, body: body})
	return nil
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }
