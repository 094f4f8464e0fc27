// Package webtest runs a real Hearth server (the echo instance with every
// middleware and route, on a real migrated store) for handler tests, and
// gives tests a browser-like client with cookies, CSRF tokens and parsed
// HTML.
package webtest

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
	"github.com/hearth-safety/hearth/web"
	"github.com/hearth-safety/hearth/web/mail"
	"github.com/hearth-safety/hearth/web/policycache"
	"github.com/hearth-safety/hearth/web/rulecounts"
)

// Mailer records the emails handlers queue, in place of the job queue.
type Mailer struct {
	mu   sync.Mutex
	sent []mail.Message
}

// Enqueue records m.
func (m *Mailer) Enqueue(_ context.Context, msg mail.Message) error {
	if err := msg.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, msg)
	return nil
}

// EnqueueEmail records an email the store queues inside a transaction.
func (m *Mailer) EnqueueEmail(ctx context.Context, _ *sql.Tx, to, subject, text string) error {
	return m.Enqueue(ctx, mail.Message{To: to, Subject: subject, Text: text})
}

// Sent returns every email so far.
func (m *Mailer) Sent() []mail.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mail.Message(nil), m.sent...)
}

// Last returns the newest email to addr, failing the test when none.
func (m *Mailer) Last(t testing.TB, addr string) mail.Message {
	t.Helper()
	s := m.Sent()
	for i := len(s) - 1; i >= 0; i-- {
		if s[i].To == addr {
			return s[i]
		}
	}
	t.Fatalf("no email to %s (sent: %d)", addr, len(s))
	return mail.Message{}
}

var linkRE = regexp.MustCompile(`https?://\S+`)

// Link returns the path of the first link in an email body that contains
// fragment.
func Link(t testing.TB, m mail.Message, fragment string) string {
	t.Helper()
	for _, l := range linkRE.FindAllString(m.Text, -1) {
		if strings.Contains(l, fragment) {
			u, err := url.Parse(l)
			if err != nil {
				t.Fatal(err)
			}
			return u.Path
		}
	}
	t.Fatalf("no link with %q in email %q", fragment, m.Subject)
	return ""
}

// App is a running Hearth for one test.
type App struct {
	Server *web.Server
	Store  *store.Store
	Mail   *Mailer
	HTTP   *httptest.Server
	Logs   *SyncBuffer
	// Policies is the app's in-memory copy of the rules.
	Policies *policycache.Cache
	// RuleCounts counts the app's DM decisions; it flushes every 10 s and
	// when the test ends, and FlushRuleCounts flushes now.
	RuleCounts *rulecounts.Counter

	staffMu sync.Mutex
	staff   map[string]*staffFactor // by email, filled by SignInStaff
}

// staffFactor is what a staff member's phone would hold, as SignInStaff
// learnt it while enrolling them: the TOTP secret, the newest time step
// whose code it gave, and the recovery codes shown once.
type staffFactor struct {
	secret   string
	lastStep int64
	recovery []string
}

// FlushRuleCounts moves the DM decisions counted so far to the store, so
// that pages show them at once.
func (a *App) FlushRuleCounts(t testing.TB) {
	t.Helper()
	if err := a.RuleCounts.Flush(context.Background()); err != nil {
		t.Fatalf("flush rule counts: %v", err)
	}
}

// Options adjust the app.
type Options struct {
	Dialect store.Dialect // default SQLite
	Now     func() time.Time
	Env     map[string]string // extra HEARTH_* settings
	// PolicyLease overrides how long the rules copy trusts itself without
	// a sync (default 2s), for tests of what happens when it cannot.
	PolicyLease time.Duration
}

// New starts a Hearth on a fresh store; it stops when t ends.
func New(t testing.TB, opts Options) *App {
	t.Helper()
	if opts.Dialect == "" {
		opts.Dialect = store.SQLite
	}
	st := storetest.Open(t, opts.Dialect, storetest.Options{Now: opts.Now})
	ts := httptest.NewUnstartedServer(nil)
	env := map[string]string{
		"HEARTH_ENV":      "development",
		"HEARTH_BASE_URL": "http://" + ts.Listener.Addr().String(),
		"HEARTH_ADDR":     ts.Listener.Addr().String(),
	}
	for k, v := range opts.Env {
		env[k] = v
	}
	cfg, err := web.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &SyncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := &Mailer{}
	st.SetOutbox(m, cfg.BaseURL.String())
	policies, err := web.StartPolicies(context.Background(), st, opts.PolicyLease, logger)
	if err != nil {
		t.Fatalf("load policies: %v", err)
	}
	t.Cleanup(func() { policies.Stop(context.Background()) })
	counts := rulecounts.New(st, rulecounts.Config{Now: opts.Now, Logger: logger})
	counts.Start()
	t.Cleanup(func() { counts.Stop(context.Background()) }) // after the server closes, before the store
	srv, err := web.New(cfg, web.Deps{Store: st, Policies: policies, RuleCounts: counts, Mail: m, Mailbox: mail.NewDevMailbox(logger), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Echo
	ts.Start()
	t.Cleanup(ts.Close)
	return &App{Server: srv, Store: st, Mail: m, HTTP: ts, Logs: logs, Policies: policies, RuleCounts: counts, staff: map[string]*staffFactor{}}
}

// SyncBuffer is a goroutine-safe log sink tests can search.
type SyncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Browser is a cookie-keeping client that acts like a person's browser
// without Sec-Fetch-Site headers (so CSRF tokens are really checked).
type Browser struct {
	t      testing.TB
	app    *App
	Client *http.Client
}

// Browser returns a new browser with an empty cookie jar.
func (a *App) Browser(t testing.TB) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{t: t, app: a, Client: &http.Client{
		Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// Page is a response with its parsed HTML.
type Page struct {
	*http.Response
	Body string
	Doc  *goquery.Document
}

// Text returns the trimmed text of the first element matching sel.
func (p *Page) Text(sel string) string { return strings.TrimSpace(p.Doc.Find(sel).First().Text()) }

// Do sends req and parses the answer.
func (b *Browser) Do(req *http.Request) *Page {
	b.t.Helper()
	resp, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	return &Page{Response: resp, Body: string(body), Doc: doc}
}

// Get fetches path.
func (b *Browser) Get(path string) *Page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.app.HTTP.URL+path, nil)
	return b.Do(req)
}

// Follow fetches where a redirect points.
func (b *Browser) Follow(p *Page) *Page {
	b.t.Helper()
	loc := p.Header.Get("Location")
	if loc == "" {
		b.t.Fatalf("response %d has no Location", p.StatusCode)
	}
	return b.Get(loc)
}

// Post sends a form to path as is (no CSRF token added).
func (b *Browser) Post(path string, form url.Values) *Page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.app.HTTP.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.Do(req)
}

// Submit posts the form matching sel on page p the way a browser would:
// every successful control with its current value (text inputs, checked
// boxes and radios, selected options, textareas, hidden fields such as the
// CSRF token), then values on top. An empty value removes the field, which
// is how a test unticks a checkbox.
func (b *Browser) Submit(p *Page, sel string, values map[string]string) *Page {
	b.t.Helper()
	form := p.Doc.Find(sel).First()
	if form.Length() == 0 {
		b.t.Fatalf("no form %q on page (status %d)", sel, p.StatusCode)
	}
	v := url.Values{}
	form.Find("input, textarea, select").Each(func(_ int, s *goquery.Selection) {
		name, ok := s.Attr("name")
		if !ok || name == "" {
			return
		}
		if _, disabled := s.Attr("disabled"); disabled {
			return
		}
		switch goquery.NodeName(s) {
		case "textarea":
			v.Add(name, s.Text())
		case "select":
			opt := s.Find("option[selected]").First()
			if opt.Length() == 0 {
				opt = s.Find("option").First()
			}
			val, ok := opt.Attr("value")
			if !ok {
				val = opt.Text()
			}
			v.Add(name, val)
		default:
			typ, _ := s.Attr("type")
			val, _ := s.Attr("value")
			switch typ {
			case "checkbox", "radio":
				if _, checked := s.Attr("checked"); checked {
					if val == "" {
						val = "on"
					}
					v.Add(name, val)
				}
			case "submit", "button", "image", "reset", "file":
			default:
				v.Add(name, val)
			}
		}
	})
	for k, val := range values {
		if val == "" {
			v.Del(k)
		} else {
			v.Set(k, val)
		}
	}
	action, _ := form.Attr("action")
	if action == "" {
		action = p.Request.URL.Path
	}
	return b.Post(action, v)
}

// Cookie returns the value of the named cookie for the app, or "".
func (b *Browser) Cookie(name string) string {
	u, _ := url.Parse(b.app.HTTP.URL)
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// API is a client of the hook API with a bearer key.
type API struct {
	t   testing.TB
	app *App
	Key string
}

// API returns a hook API client using key.
func (a *App) API(t testing.TB, key string) *API { return &API{t: t, app: a, Key: key} }

// Do sends a JSON request and returns the status, the content type and the body.
func (c *API) Do(method, path, body string) (int, string, string) {
	c.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.app.HTTP.URL+path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// SignInStaff signs a support agent or lead in on this browser through the
// real pages, second factor included, and fails the test if any step does
// not work. The account must exist (store.CreateUser with RoleStaff or
// RoleLead). On the account's first sign-in it enrols the way a person
// does: it reads the key off the enrolment page, answers with the code an
// authenticator app would show at the store's clock, and keeps the
// recovery codes; later sign-ins answer the code step from that key. A
// code is never given twice (Hearth refuses replays), so when the current
// and the next 30-second step are both spent, as with a fake clock that
// stands still, it uses one of the recovery codes instead.
//
// The browser ends on the staff home, /staff. StaffSecret returns the key
// for tests that type codes themselves.
func (b *Browser) SignInStaff(t testing.TB, email, password string) {
	t.Helper()
	res := b.Submit(b.Get("/staff/login"), "form", map[string]string{"email": email, "password": password})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/staff/login/code") {
		t.Fatalf("SignInStaff %s: password step answered %d → %q", email, res.StatusCode, res.Header.Get("Location"))
	}
	step := b.Follow(res)
	a := b.app
	key := models.NormalizeEmail(email)
	if step.StatusCode == http.StatusSeeOther && strings.HasPrefix(step.Header.Get("Location"), "/staff/login/enrol") {
		enrol := b.Follow(step)
		secret := strings.ReplaceAll(enrol.Text("#totp-secret"), " ", "")
		if enrol.StatusCode != http.StatusOK || secret == "" {
			t.Fatalf("SignInStaff %s: enrolment page answered %d without a key", email, enrol.StatusCode)
		}
		now := a.Store.Now()
		code, err := models.TOTPCode(secret, now)
		if err != nil {
			t.Fatal(err)
		}
		done := b.Submit(enrol, "form[action='/staff/login/enrol']", map[string]string{"code": code})
		var recovery []string
		done.Doc.Find(".recovery-codes code").Each(func(_ int, s *goquery.Selection) { recovery = append(recovery, s.Text()) })
		if done.StatusCode != http.StatusOK || len(recovery) == 0 {
			t.Fatalf("SignInStaff %s: confirming enrolment answered %d with %d recovery codes", email, done.StatusCode, len(recovery))
		}
		a.staffMu.Lock()
		a.staff[key] = &staffFactor{secret: secret, lastStep: models.TOTPStep(now), recovery: recovery}
		a.staffMu.Unlock()
		return
	}
	if step.StatusCode != http.StatusOK {
		t.Fatalf("SignInStaff %s: code step answered %d", email, step.StatusCode)
	}
	a.staffMu.Lock()
	f := a.staff[key]
	var code string
	if f != nil {
		now := a.Store.Now()
		for _, s := range []int64{models.TOTPStep(now), models.TOTPStep(now) + 1} {
			if s > f.lastStep {
				code, _ = models.TOTPCode(f.secret, time.Unix(s*int64(models.TOTPPeriod/time.Second), 0))
				f.lastStep = s
				break
			}
		}
		if code == "" && len(f.recovery) > 0 {
			code, f.recovery = f.recovery[0], f.recovery[1:]
		}
	}
	a.staffMu.Unlock()
	if code == "" {
		t.Fatalf("SignInStaff %s: enrolled outside SignInStaff, or out of codes (move the test clock on 30 s)", email)
	}
	in := b.Submit(step, "form[action='/staff/login/code']", map[string]string{"code": code})
	if in.StatusCode != http.StatusSeeOther {
		t.Fatalf("SignInStaff %s: code step answered %d: %s", email, in.StatusCode, in.Text(".form-alert"))
	}
}

// StaffSecret returns the TOTP key SignInStaff enrolled email with, or ""
// when it did not enrol them.
func (a *App) StaffSecret(email string) string {
	a.staffMu.Lock()
	defer a.staffMu.Unlock()
	if f := a.staff[models.NormalizeEmail(email)]; f != nil {
		return f.secret
	}
	return ""
}
