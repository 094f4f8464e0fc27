package pages

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"golang.org/x/net/html"

	"github.com/hearth-safety/hearth/static"
	"github.com/hearth-safety/hearth/views"
)

const (
	testNonce = "dGVzdC1ub25jZQ"
	testToken = `tok-"quoted"&<less>`
)

var (
	guardian = &views.Viewer{Name: "Priya Shah", Email: "parent@example.com", Role: views.RoleGuardian}
	teen     = &views.Viewer{Name: "Maya", Role: views.RoleTeen}
	agent    = &views.Viewer{Name: "Alex", Email: "agent@example.com", Role: views.RoleStaff}
	lead     = &views.Viewer{Name: "Jordan", Email: "support@example.com", Role: views.RoleLead}
)

func page(v *views.Viewer, path string) views.Page {
	return views.Page{Viewer: v, CSRFToken: testToken, Path: path}
}

func teenPage(path string) views.Page {
	p := page(teen, path)
	p.SupervisedBy = []string{"Priya", "Sam"}
	return p
}

// render renders c with the test nonce, checks the rules every page must
// follow, and returns the parsed document.
func render(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(templ.WithNonce(context.Background(), testNonce), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	checkDocument(t, doc)
	return doc
}

// checkDocument asserts what holds for every page: CSP-safe markup, the
// layout's landmarks and head, CSRF on every form, labelled inputs, valid
// aria references and existing static files.
func checkDocument(t *testing.T, doc *goquery.Document) {
	t.Helper()

	// Strict CSP: no inline styles or handlers, only nonced external scripts.
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			name := strings.ToLower(a.Key)
			if name == "style" || strings.HasPrefix(name, "on") || strings.HasPrefix(name, "hx-on") {
				t.Errorf("<%s> has a %s attribute", goquery.NodeName(s), a.Key)
			}
		}
	})
	if n := doc.Find("style").Length(); n > 0 {
		t.Errorf("%d <style> elements", n)
	}
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if nonce, _ := s.Attr("nonce"); nonce != testNonce {
			t.Errorf("<script> nonce = %q, want %q", nonce, testNonce)
		}
		if src, _ := s.Attr("src"); src == "" || strings.TrimSpace(s.Text()) != "" {
			t.Errorf("inline <script> (src %q)", src)
		}
	})

	// Head and landmarks.
	if lang, _ := doc.Find("html").Attr("lang"); lang != "en" {
		t.Errorf("html lang = %q", lang)
	}
	if title := doc.Find("title").Text(); !strings.HasSuffix(title, " · Hearth") || len(title) <= len(" · Hearth") {
		t.Errorf("title = %q, want \"X · Hearth\"", title)
	}
	if vp, _ := doc.Find(`meta[name="viewport"]`).Attr("content"); !strings.Contains(vp, "width=device-width") {
		t.Errorf("viewport meta = %q", vp)
	}
	if tok, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content"); tok != testToken {
		t.Errorf("csrf-token meta = %q", tok)
	}
	var cfg map[string]any
	raw, _ := doc.Find(`meta[name="htmx-config"]`).Attr("content")
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Errorf("htmx-config %q: %v", raw, err)
	} else if cfg["allowEval"] != false || cfg["includeIndicatorStyles"] != false || cfg["selfRequestsOnly"] != true {
		t.Errorf("htmx-config = %v", cfg)
	}
	var hdr map[string]string
	raw, _ = doc.Find("body").Attr("hx-headers")
	if err := json.Unmarshal([]byte(raw), &hdr); err != nil || hdr["X-CSRF-Token"] != testToken {
		t.Errorf("body hx-headers = %q (%v)", raw, err)
	}
	for sel, want := range map[string]int{"header": 1, "main#main": 1, "footer": 1, "h1": 1, "nav": 1} {
		if got := doc.Find(sel).Length(); got != want {
			t.Errorf("%d %s, want %d", got, sel, want)
		}
	}
	skip := doc.Find("body > a.skip-link").First()
	if href, _ := skip.Attr("href"); href != "#main" {
		t.Errorf("skip link href = %q, want #main", href)
	}
	flashes := doc.Find("#flashes")
	if r, _ := flashes.Attr("role"); r != "status" {
		t.Errorf("flash region role = %q", r)
	}
	if l, _ := flashes.Attr("aria-live"); l != "polite" {
		t.Errorf("flash region aria-live = %q", l)
	}

	// Unique IDs, and every ARIA reference points at one.
	ids := map[string]bool{}
	doc.Find("[id]").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("id")
		if ids[id] {
			t.Errorf("duplicate id %q", id)
		}
		ids[id] = true
	})
	doc.Find("[aria-describedby], [aria-labelledby]").Each(func(_ int, s *goquery.Selection) {
		for _, attr := range []string{"aria-describedby", "aria-labelledby"} {
			v, _ := s.Attr(attr)
			for _, id := range strings.Fields(v) {
				if !ids[id] {
					t.Errorf("<%s %s=%q>: no element with id %q", goquery.NodeName(s), attr, v, id)
				}
			}
		}
	})

	// Forms post, carry the CSRF token, and label their inputs.
	doc.Find("form").Each(func(_ int, f *goquery.Selection) {
		action, _ := f.Attr("action")
		if m, _ := f.Attr("method"); m != "post" {
			t.Errorf("form %s method = %q", action, m)
		}
		if _, ok := f.Attr("novalidate"); ok {
			t.Errorf("form %s has novalidate", action)
		}
		csrf := f.Find(`input[type="hidden"][name="_csrf"]`)
		if v, _ := csrf.Attr("value"); csrf.Length() != 1 || v != testToken {
			t.Errorf("form %s: _csrf inputs %d, value %q", action, csrf.Length(), v)
		}
		f.Find("input:not([type=hidden]), select, textarea").Each(func(_ int, in *goquery.Selection) {
			id, _ := in.Attr("id")
			if id == "" || doc.Find(`label[for="`+id+`"]`).Length() != 1 {
				t.Errorf("form %s: input %q has no label", action, id)
			}
		})
	})

	// Static URLs are versioned and name embedded files.
	doc.Find("[href^='/static/'], [src^='/static/']").Each(func(_ int, s *goquery.Selection) {
		u, ok := s.Attr("href")
		if !ok {
			u, _ = s.Attr("src")
		}
		checkStatic(t, u)
	})
	for _, sel := range []string{`link[rel="stylesheet"]`, `link[rel="icon"]`, "script[src]", "header img"} {
		if doc.Find(sel).Length() == 0 {
			t.Errorf("no %s", sel)
		}
	}
}

func checkStatic(t *testing.T, raw string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Errorf("static URL %q: %v", raw, err)
		return
	}
	name := strings.TrimPrefix(u.Path, "/static/")
	if _, err := fs.Stat(static.FS(), name); err != nil {
		t.Errorf("static URL %q names no embedded file", raw)
	}
	if len(u.Query().Get("v")) != 10 {
		t.Errorf("static URL %q has no content version", raw)
	}
}

func text(s *goquery.Selection) string {
	return strings.Join(strings.Fields(s.Text()), " ")
}

func attr(s *goquery.Selection, name string) string {
	v, _ := s.Attr(name)
	return v
}

// allPages renders one sample of every page: the shared checks run on each.
func TestRender_everyPage(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 21, 30, 0, 0, time.UTC)
	cases := map[string]templ.Component{
		"home":           Home(HomeProps{Page: page(nil, "/")}),
		"signup":         Signup(SignupProps{Page: page(nil, "/signup")}),
		"login":          Login(LoginProps{Page: page(nil, "/login"), Error: "Wrong email or password."}),
		"forgot":         ForgotPassword(ForgotProps{Page: page(nil, "/password/forgot")}),
		"forgot_sent":    ForgotPassword(ForgotProps{Page: page(nil, "/password/forgot"), Sent: true}),
		"reset":          ResetPassword(ResetProps{Page: page(nil, "/password/reset/x"), Token: "x"}),
		"reset_invalid":  ResetPassword(ResetProps{Page: page(nil, "/password/reset/x"), Invalid: true}),
		"dashboard":      Dashboard(DashboardProps{Page: page(guardian, "/"), Name: "Priya"}),
		"teen_home":      TeenHome(TeenHomeProps{Page: teenPage("/teen"), DisplayName: "Maya", Age: 14, Supervised: true}),
		"staff_login":    StaffLogin(StaffLoginProps{Page: page(nil, "/staff/login")}),
		"staff_home":     StaffHome(StaffHomeProps{Page: page(lead, "/staff"), Name: "Jordan"}),
		"signin_problem": SigninLinkProblem(SigninProblemProps{Page: page(nil, "/t/signin/x"), Reason: "used"}),
		"error":          Error(ErrorProps{Page: page(nil, "/nope"), Status: 404}),
		"mailbox":        Mailbox(MailboxProps{Page: page(nil, "/dev/mailbox"), Messages: []MailboxMessage{{To: "a@example.com", Subject: "Hi", Body: "https://x.example/", SentAt: now}}}),
		"privacy":        Privacy(PrivacyProps{Page: page(guardian, "/privacy")}),
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			render(t, c)
		})
	}
}

func TestLayout_navigation(t *testing.T) {
	t.Parallel()

	t.Run("signed_out_offers_sign_in_and_sign_up", func(t *testing.T) {
		doc := render(t, Home(HomeProps{Page: page(nil, "/")}))
		nav := doc.Find("header nav")
		if nav.Find(`a[href="/login"]`).Text() != "Sign in" {
			t.Error("signed-out nav has no Sign in link")
		}
		if text(nav.Find(`a[href="/signup"]`)) != "Create account" {
			t.Error("signed-out nav has no Create account link")
		}
		if doc.Find(`header form`).Length() != 0 || strings.Contains(text(doc.Find("header")), "Sign out") {
			t.Error("signed-out header offers Sign out")
		}
	})

	t.Run("sign_in_is_current_on_login", func(t *testing.T) {
		doc := render(t, Login(LoginProps{Page: page(nil, "/login")}))
		if attr(doc.Find(`header nav a[href="/login"]`), "aria-current") != "page" {
			t.Error("Sign in is not marked current on /login")
		}
	})

	roles := []struct {
		name, home, label, badge, logout string
		viewer                           *views.Viewer
	}{
		{"guardian", "/", "Dashboard", "Guardian", "/logout", guardian},
		{"teen", "/teen", "My home", "Teen", "/logout", teen},
		{"agent", "/staff", "Queue", "Support agent", "/staff/logout", agent},
		{"lead", "/staff", "Queue", "Support lead", "/staff/logout", lead},
	}
	for _, r := range roles {
		t.Run(r.name, func(t *testing.T) {
			doc := render(t, Privacy(PrivacyProps{Page: page(r.viewer, r.home)}))
			header := doc.Find("header")
			link := header.Find("nav a")
			if link.Length() != 1 || text(link) != r.label || attr(link, "href") != r.home {
				t.Errorf("nav = %q -> %q, want one %q -> %q", text(link), attr(link, "href"), r.label, r.home)
			}
			if attr(link, "aria-current") != "page" {
				t.Errorf("%s is not aria-current on %s", r.label, r.home)
			}
			if got := text(header.Find(".badge")); got != r.badge {
				t.Errorf("role badge = %q, want %q", got, r.badge)
			}
			if !strings.Contains(text(header), r.viewer.Name) {
				t.Errorf("header does not name %q", r.viewer.Name)
			}
			if r.viewer.Email != "" && !strings.Contains(text(header), r.viewer.Email) {
				t.Errorf("header does not show %q", r.viewer.Email)
			}
			form := header.Find("form")
			if attr(form, "action") != r.logout || text(form.Find("button[type=submit]")) != "Sign out" {
				t.Errorf("sign-out form action %q, button %q", attr(form, "action"), text(form.Find("button")))
			}
			if attr(header.Find("a.brand"), "href") != r.home {
				t.Errorf("brand links to %q", attr(header.Find("a.brand"), "href"))
			}
		})
	}

	t.Run("not_current_elsewhere", func(t *testing.T) {
		doc := render(t, Privacy(PrivacyProps{Page: page(guardian, "/privacy")}))
		if _, ok := doc.Find("header nav a").Attr("aria-current"); ok {
			t.Error("Dashboard is aria-current on /privacy")
		}
	})

	t.Run("viewer_data_is_escaped", func(t *testing.T) {
		evil := &views.Viewer{Name: `<script>alert(1)</script>`, Email: `"><img src=x>`, Role: views.RoleGuardian}
		doc := render(t, Dashboard(DashboardProps{Page: page(evil, "/"), Name: evil.Name}))
		if doc.Find("img[src=x]").Length() != 0 {
			t.Error("viewer email injected markup")
		}
		if !strings.Contains(text(doc.Find("h1")), "<script>") {
			t.Errorf("h1 = %q, want the name as text", text(doc.Find("h1")))
		}
	})
}

func TestLayout_footerAndFlashes(t *testing.T) {
	t.Parallel()
	p := page(guardian, "/")
	p.Flashes = []views.Flash{{Kind: "success", Message: "Rules saved."}, {Kind: "error", Message: "That didn't work."}}
	doc := render(t, Dashboard(DashboardProps{Page: p}))
	if !strings.Contains(text(doc.Find("footer")), "Hearth — supervision without reading messages") {
		t.Errorf("footer = %q", text(doc.Find("footer")))
	}
	if attr(doc.Find(`footer a:contains("Your data")`), "href") != "/privacy" {
		t.Error("footer has no Your data link to /privacy")
	}
	if doc.Find(`a[href="/dev/mailbox"]`).Length() != 0 {
		t.Error("Dev mailbox link shown outside dev mode")
	}
	flashes := doc.Find("#flashes .flash")
	if flashes.Length() != 2 || !strings.Contains(text(flashes.Eq(0)), "Rules saved.") || !flashes.Eq(1).HasClass("flash--error") {
		t.Errorf("flashes = %q", text(doc.Find("#flashes")))
	}

	p.DevMode = true
	doc = render(t, Dashboard(DashboardProps{Page: p}))
	if text(doc.Find(`footer a[href="/dev/mailbox"]`)) != "Dev mailbox" {
		t.Error("Dev mailbox link missing in dev mode")
	}
}

func TestLayout_supervisedBanner(t *testing.T) {
	t.Parallel()
	p := teenPage("/privacy")
	for name, c := range map[string]templ.Component{
		"teen_home": TeenHome(TeenHomeProps{Page: teenPage("/teen"), DisplayName: "Maya", Age: 14, Supervised: true}),
		"privacy":   Privacy(PrivacyProps{Page: p}),
		"error":     Error(ErrorProps{Page: p, Status: 404}),
	} {
		t.Run(name, func(t *testing.T) {
			doc := render(t, c)
			banner := doc.Find(".supervised-banner")
			if banner.Length() != 1 {
				t.Fatalf("%d supervision banners, want 1", banner.Length())
			}
			if got := text(banner.Find("#supervised-title")); got != "Supervised by Priya and Sam" {
				t.Errorf("banner title = %q", got)
			}
			if banner.ParentsFiltered("main").Length() != 0 {
				t.Error("banner is inside main, below the fold of the skip link")
			}
		})
	}
	t.Run("three_guardians", func(t *testing.T) {
		p := teenPage("/teen")
		p.SupervisedBy = []string{"Priya", "Sam", "Ana"}
		doc := render(t, TeenHome(TeenHomeProps{Page: p, Supervised: true, Age: 16}))
		if got := text(doc.Find("#supervised-title")); got != "Supervised by Priya, Sam and Ana" {
			t.Errorf("banner title = %q", got)
		}
	})
	t.Run("not_supervised_has_no_banner", func(t *testing.T) {
		doc := render(t, TeenHome(TeenHomeProps{Page: page(teen, "/teen"), DisplayName: "Ava", Age: 17}))
		if doc.Find(".supervised-banner").Length() != 0 {
			t.Error("banner shown with no guardians")
		}
		if !strings.Contains(text(doc.Find("main")), "Nobody supervises you") {
			t.Error("unsupervised teen is not told so")
		}
	})
}

func TestSignup(t *testing.T) {
	t.Parallel()
	doc := render(t, Signup(SignupProps{
		Page:   page(nil, "/signup"),
		Name:   "Priya",
		Email:  "priya@",
		Errors: views.FieldErrors{FieldEmail: "Enter a full email address.", "form": "Try again later."},
	}))
	form := doc.Find(`form[action="/signup"]`)
	if form.Length() != 1 {
		t.Fatal("no form posting to /signup")
	}
	name := form.Find("input#signup-name")
	if attr(name, "name") != "name" || attr(name, "value") != "Priya" || attr(name, "autocomplete") != "name" {
		t.Errorf("name input: name=%q value=%q autocomplete=%q", attr(name, "name"), attr(name, "value"), attr(name, "autocomplete"))
	}
	if _, ok := name.Attr("aria-invalid"); ok {
		t.Error("valid name input is aria-invalid")
	}
	email := form.Find("input#signup-email")
	if attr(email, "type") != "email" || attr(email, "value") != "priya@" || attr(email, "aria-invalid") != "true" {
		t.Errorf("email input: type=%q value=%q aria-invalid=%q", attr(email, "type"), attr(email, "value"), attr(email, "aria-invalid"))
	}
	described := strings.Fields(attr(email, "aria-describedby"))
	if len(described) == 0 || described[0] != "signup-email-error" {
		t.Fatalf("email aria-describedby = %v, want the error first", described)
	}
	if got := text(doc.Find("#signup-email-error")); !strings.Contains(got, "Enter a full email address.") {
		t.Errorf("email error = %q", got)
	}
	pw := form.Find("input#signup-password")
	if attr(pw, "type") != "password" || attr(pw, "autocomplete") != "new-password" ||
		attr(pw, "minlength") != "8" || attr(pw, "maxlength") != "128" || attr(pw, "value") != "" {
		t.Errorf("password input: %v", pw.Nodes[0].Attr)
	}
	if _, ok := pw.Attr("required"); !ok {
		t.Error("password is not required")
	}
	if hint := text(doc.Find("#" + hintOf(pw))); !strings.Contains(hint, "8–128 characters") || !strings.Contains(hint, "passphrase") {
		t.Errorf("password hint = %q", hint)
	}
	summary := form.Find(".error-summary")
	if attr(summary, "role") != "alert" || attr(summary.Find("a"), "href") != "#signup-email" {
		t.Errorf("error summary link = %q", attr(summary.Find("a"), "href"))
	}
	if !strings.Contains(text(summary), "Try again later.") || !strings.Contains(text(summary), "2 problems") {
		t.Errorf("error summary = %q", text(summary))
	}
	if attr(doc.Find(`a[href="/login"]:contains("Sign in")`), "href") == "" {
		t.Error("no way to sign in instead")
	}

	t.Run("no_errors_no_summary", func(t *testing.T) {
		doc := render(t, Signup(SignupProps{Page: page(nil, "/signup")}))
		if doc.Find(".error-summary, [aria-invalid]").Length() != 0 {
			t.Error("clean form shows errors")
		}
	})
}

// hintOf returns the id of the hint an input is described by.
func hintOf(in *goquery.Selection) string {
	for _, id := range strings.Fields(attr(in, "aria-describedby")) {
		if strings.HasSuffix(id, "-hint") {
			return id
		}
	}
	return "missing-hint"
}

func TestLogin(t *testing.T) {
	t.Parallel()
	doc := render(t, Login(LoginProps{Page: page(nil, "/login"), Email: "parent@example.com", Error: "That email and password don't match."}))
	form := doc.Find(`form[action="/login"]`)
	if form.Length() != 1 {
		t.Fatal("no form posting to /login")
	}
	alert := form.Find("#login-error")
	if attr(alert, "role") != "alert" || !strings.Contains(text(alert), "don't match") {
		t.Errorf("login alert = %q", text(alert))
	}
	for _, sel := range []string{"input#login-email", "input#login-password"} {
		in := form.Find(sel)
		if !strings.Contains(attr(in, "aria-describedby"), "login-error") || attr(in, "aria-invalid") != "true" {
			t.Errorf("%s is not tied to the error", sel)
		}
	}
	if attr(form.Find("#login-email"), "value") != "parent@example.com" || attr(form.Find("#login-email"), "autocomplete") != "username" {
		t.Error("email is not kept or has the wrong autocomplete")
	}
	if attr(form.Find("#login-password"), "autocomplete") != "current-password" {
		t.Error("password autocomplete is not current-password")
	}
	for _, href := range []string{"/password/forgot", "/signup"} {
		if doc.Find(`main a[href="`+href+`"]`).Length() == 0 {
			t.Errorf("no link to %s", href)
		}
	}

	t.Run("no_error", func(t *testing.T) {
		doc := render(t, Login(LoginProps{Page: page(nil, "/login")}))
		if doc.Find("#login-error, [aria-invalid]").Length() != 0 {
			t.Error("error shown without one")
		}
	})
}

func TestForgotPassword(t *testing.T) {
	t.Parallel()
	doc := render(t, ForgotPassword(ForgotProps{Page: page(nil, "/password/forgot"), Email: "x@example.com", Error: "Enter an email address."}))
	in := doc.Find(`form[action="/password/forgot"] input#forgot-email`)
	if attr(in, "aria-invalid") != "true" || !strings.Contains(attr(in, "aria-describedby"), "forgot-email-error") {
		t.Error("forgot email error is not tied to the input")
	}

	sent := func(email string) string {
		doc := render(t, ForgotPassword(ForgotProps{Page: page(nil, "/password/forgot"), Sent: true, Email: email}))
		if doc.Find("form").Length() != 0 {
			t.Error("form still shown once sent")
		}
		h, _ := doc.Find("main").Html()
		return h
	}
	known, unknown := sent("parent@example.com"), sent("nobody@example.com")
	if known != unknown {
		t.Error("the confirmation differs by address")
	}
	if !strings.Contains(known, "If an account exists for that address, we&#39;ve sent a link. It works once and expires in 1 hour.") {
		t.Errorf("confirmation text missing: %s", known)
	}
}

func TestResetPassword(t *testing.T) {
	t.Parallel()
	doc := render(t, ResetPassword(ResetProps{
		Page:   page(nil, "/password/reset/x"),
		Token:  "ab/c?d",
		Errors: views.FieldErrors{FieldPasswordConfirm: "The passwords don't match."},
	}))
	form := doc.Find("form")
	if got := attr(form, "action"); got != "/password/reset/ab%2Fc%3Fd" {
		t.Errorf("action = %q", got)
	}
	for _, id := range []string{"reset-password", "reset-password_confirm"} {
		if attr(form.Find("#"+id), "autocomplete") != "new-password" {
			t.Errorf("%s autocomplete is not new-password", id)
		}
	}
	confirm := form.Find("#reset-password_confirm")
	if attr(confirm, "aria-invalid") != "true" || !strings.Contains(text(doc.Find("#"+strings.Fields(attr(confirm, "aria-describedby"))[0])), "don't match") {
		t.Error("confirm error is not tied to its input")
	}

	t.Run("invalid_link", func(t *testing.T) {
		doc := render(t, ResetPassword(ResetProps{Page: page(nil, "/password/reset/x"), Token: "x", Invalid: true}))
		if doc.Find("input[type=password]").Length() != 0 {
			t.Error("password form shown for an invalid link")
		}
		body := text(doc.Find("main"))
		for _, want := range []string{"already been used", "expired", "isn't a valid link"} {
			if !strings.Contains(body, want) {
				t.Errorf("invalid page does not say %q", want)
			}
		}
		if text(doc.Find(`main a.button[href="/password/forgot"]`)) != "Request a new link" {
			t.Error("no button to request a new link")
		}
	})
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	doc := render(t, Dashboard(DashboardProps{Page: page(guardian, "/"), Name: "Priya"}))
	if text(doc.Find("h1")) != "Welcome, Priya" {
		t.Errorf("h1 = %q", text(doc.Find("h1")))
	}
	empty := text(doc.Find(".empty-state"))
	for _, want := range []string{"You're not supervising anyone yet", "only links a teen after they accept your invitation"} {
		if !strings.Contains(empty, want) {
			t.Errorf("empty state lacks %q: %q", want, empty)
		}
	}

	doc = render(t, Dashboard(DashboardProps{Page: page(guardian, "/"), Teens: []DashboardTeen{
		{DisplayName: "Maya", State: "active", Since: "3 October 2026"},
		{DisplayName: "Sam", State: "invited", Since: "26 November 2026"},
	}}))
	if doc.Find(".empty-state").Length() != 0 {
		t.Error("empty state shown with teens")
	}
	cards := doc.Find(".teen-card")
	if cards.Length() != 2 || text(cards.Eq(0).Find("h3")) != "Maya" || !strings.Contains(text(cards.Eq(1)), "Invitation sent") {
		t.Errorf("teen cards = %q", text(cards))
	}
	if text(doc.Find("h1")) != "Welcome" {
		t.Errorf("h1 without a name = %q", text(doc.Find("h1")))
	}
}

func TestTeenHome(t *testing.T) {
	t.Parallel()
	doc := render(t, TeenHome(TeenHomeProps{Page: teenPage("/teen"), DisplayName: "Maya", Age: 14, Supervised: true}))
	main := text(doc.Find("main"))
	for _, want := range []string{
		"Hi, Maya", "You're supervised", "Priya and Sam supervise your account",
		"Nothing is shared unless you agree",
		"make your rules stricter", "needs a guardian's OK",
		"DM rules", "category", "how serious", "the time", "other account's ID",
		"The text of your messages",
	} {
		if !strings.Contains(main, want) {
			t.Errorf("teen home lacks %q", want)
		}
	}
	if doc.Find("#what-guardians-see").Length() != 1 {
		t.Error("the banner's link target #what-guardians-see is missing")
	}

	older := render(t, TeenHome(TeenHomeProps{Page: teenPage("/teen"), DisplayName: "Leo", Age: 16, Supervised: true}))
	if !strings.Contains(text(older.Find("main")), "end supervision yourself") {
		t.Error("16-year-old is not told they may end supervision")
	}
}

func TestStaff(t *testing.T) {
	t.Parallel()
	doc := render(t, StaffLogin(StaffLoginProps{Page: page(nil, "/staff/login"), Email: "a@example.com", Error: "Wrong email or password."}))
	form := doc.Find(`form[action="/staff/login"]`)
	if form.Find(`input[name="email"]`).Length() != 1 || form.Find(`input[name="password"][type="password"]`).Length() != 1 {
		t.Error("staff login lacks email or password")
	}
	if !strings.Contains(attr(form.Find(`input[name="password"]`), "aria-describedby"), "staff-login-error") {
		t.Error("staff login error is not tied to the inputs")
	}

	doc = render(t, StaffHome(StaffHomeProps{Page: page(agent, "/staff"), Name: "Alex"}))
	if got := text(doc.Find(".empty-state")); !strings.Contains(got, "No open disputes") ||
		!strings.Contains(got, "New cases from teens and guardians appear here, oldest first.") {
		t.Errorf("empty queue = %q", got)
	}
	doc = render(t, StaffHome(StaffHomeProps{Page: page(agent, "/staff"), Name: "Alex", OpenDisputes: 3}))
	if doc.Find(".empty-state").Length() != 0 || text(doc.Find(".stat")) != "3 open disputes" {
		t.Errorf("queue with disputes = %q", text(doc.Find(".stat")))
	}
	doc = render(t, StaffHome(StaffHomeProps{Page: page(agent, "/staff"), OpenDisputes: 1}))
	if text(doc.Find(".stat")) != "1 open dispute" {
		t.Errorf("one dispute = %q", text(doc.Find(".stat")))
	}
}

func TestSigninLinkProblem(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, reason := range []string{"used", "expired", "invalid", "bogus"} {
		doc := render(t, SigninLinkProblem(SigninProblemProps{Page: page(nil, "/t/signin/x"), Reason: reason}))
		h1 := text(doc.Find("h1"))
		seen[h1] = true
		if !strings.Contains(text(doc.Find("main")), "messaging app") {
			t.Errorf("%s: does not send the teen back to the messaging app", reason)
		}
		if reason == "expired" && !strings.Contains(h1, "expired") {
			t.Errorf("expired heading = %q", h1)
		}
		if reason == "used" && !strings.Contains(h1, "already used") {
			t.Errorf("used heading = %q", h1)
		}
	}
	if len(seen) != 3 {
		t.Errorf("headings %v: want one each for used, expired and invalid", seen)
	}
}

func TestError(t *testing.T) {
	t.Parallel()
	for _, status := range []int{403, 404, 429, 500} {
		doc := render(t, Error(ErrorProps{Page: page(guardian, "/x"), Status: status, RequestID: "req_123"}))
		if !strings.Contains(text(doc.Find(".error-code")), itoa(status)) {
			t.Errorf("%d: code badge = %q", status, text(doc.Find(".error-code")))
		}
		if text(doc.Find("h1")) == "" || !strings.Contains(doc.Find("title").Text(), text(doc.Find("h1"))) {
			t.Errorf("%d: h1 %q, title %q", status, text(doc.Find("h1")), doc.Find("title").Text())
		}
		if text(doc.Find(".request-id code")) != "req_123" {
			t.Errorf("%d: request ID not shown", status)
		}
		if attr(doc.Find("main a.button"), "href") != "/" {
			t.Errorf("%d: no way home", status)
		}
	}
	doc := render(t, Error(ErrorProps{Page: page(nil, "/x"), Status: 410, Heading: "Invitation withdrawn", Message: "Ask for a new one."}))
	if text(doc.Find("h1")) != "Invitation withdrawn" || text(doc.Find("main .lead")) != "Ask for a new one." {
		t.Error("custom heading and message not used")
	}
	if doc.Find(".request-id").Length() != 0 {
		t.Error("empty request ID shown")
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestMailbox(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 21, 30, 0, 0, time.UTC)
	msgs := []MailboxMessage{
		{To: "old@example.com", Subject: "Older", Body: "plain", SentAt: now.Add(-time.Hour)},
		{To: "new@example.com", Subject: "Newer", SentAt: now, Body: "Reset: https://hearth.test/password/reset/abc.\n" +
			"Bad: javascript:alert(1) and data:text/html,x and <b>bold</b> and <a href=\"https://evil\">x</a>\n" +
			"Plain http://127.0.0.1:8080/t/signin/xyz?a=1&b=2 ok"},
	}
	doc := render(t, Mailbox(MailboxProps{Page: page(nil, "/dev/mailbox"), Messages: msgs}))
	subjects := doc.Find(".mail h2")
	if subjects.Length() != 2 || text(subjects.Eq(0)) != "Newer" || text(subjects.Eq(1)) != "Older" {
		t.Errorf("order = %q, want newest first", text(subjects))
	}
	if msgs[0].Subject != "Older" {
		t.Error("caller's slice was reordered")
	}
	pre := doc.Find(".mail").First().Find("pre")
	var hrefs []string
	pre.Find("a").Each(func(_ int, a *goquery.Selection) { hrefs = append(hrefs, attr(a, "href")) })
	// The raw <a href="https://evil"> is text; only its URL becomes a link.
	want := []string{"https://hearth.test/password/reset/abc", "https://evil", "http://127.0.0.1:8080/t/signin/xyz?a=1&b=2"}
	if strings.Join(hrefs, " ") != strings.Join(want, " ") {
		t.Errorf("links = %q, want %q", hrefs, want)
	}
	if pre.Find("b").Length() != 0 {
		t.Error("markup in a body was rendered")
	}
	pre.Find("a").Each(func(_ int, a *goquery.Selection) {
		if a.Text() != attr(a, "href") {
			t.Errorf("link text %q differs from its href %q", a.Text(), attr(a, "href"))
		}
	})
	if !strings.Contains(pre.Text(), "<b>bold</b>") || !strings.Contains(pre.Text(), "abc.\nBad") {
		t.Errorf("body text not kept verbatim: %q", pre.Text())
	}
	if attr(doc.Find(".mail time").First(), "datetime") != "2026-11-27T21:30:00Z" {
		t.Error("time datetime missing")
	}

	empty := render(t, Mailbox(MailboxProps{Page: page(nil, "/dev/mailbox")}))
	if empty.Find(".empty-state").Length() != 1 {
		t.Error("empty mailbox has no empty state")
	}
}

func TestLinkify(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"see https://a.example/x, then":      {"https://a.example/x"},
		"(http://a.example/b)":               {"http://a.example/b"},
		"ftp://a.example javascript:x":       nil,
		"https:// nothing":                   nil,
		"HTTPS://A.EXAMPLE/ok! and more":     {"HTTPS://A.EXAMPLE/ok"},
		"two http://a.example http://b.test": {"http://a.example", "http://b.test"},
	}
	for in, want := range cases {
		var got []string
		var joined strings.Builder
		for _, s := range linkify(in) {
			joined.WriteString(s.text)
			if s.url {
				got = append(got, s.text)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("linkify(%q) links = %q, want %q", in, got, want)
		}
		if joined.String() != in {
			t.Errorf("linkify(%q) lost text: %q", in, joined.String())
		}
	}
}

func TestPrivacy(t *testing.T) {
	t.Parallel()
	doc := render(t, Privacy(PrivacyProps{Page: page(nil, "/privacy")}))
	rows := map[string]string{}
	doc.Find("table tbody tr").Each(func(_ int, tr *goquery.Selection) {
		rows[text(tr.Find("th").Contents().First())] = text(tr.Find("td"))
	})
	want := map[string][]string{
		"Accounts":             {"Until the account is deleted"},
		"Moderation alerts":    {"90 days"},
		"Audit entries":        {"2 years"},
		"Teen sign-in links":   {"10 minutes", "deleted"},
		"Invitations":          {"48 hours"},
		"Password reset links": {"1 hour"},
		"Sessions":             {"30 minutes idle", "12 hours", "15 minutes idle", "8 hours"},
	}
	for what, parts := range want {
		got, ok := rows[what]
		if !ok {
			t.Errorf("no row for %q (rows %v)", what, rows)
			continue
		}
		for _, p := range parts {
			if !strings.Contains(got, p) {
				t.Errorf("%s kept for %q, want it to mention %q", what, got, p)
			}
		}
	}
	if !strings.Contains(text(doc.Find("main")), "Message text is never received or stored") {
		t.Error("privacy page does not say message text is never received or stored")
	}
}

// TestRender_rawHTMLIsWellFormed guards against templ output the HTML parser
// has to repair, which would make the goquery checks above meaningless.
func TestRender_rawHTMLIsWellFormed(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Home(HomeProps{Page: page(nil, "/")}).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "<!doctype html>") {
		t.Errorf("document starts %q", buf.String()[:min(20, buf.Len())])
	}
	z := html.NewTokenizer(bytes.NewReader(buf.Bytes()))
	var stack []string
	void := map[string]bool{"meta": true, "link": true, "img": true, "input": true, "br": true, "hr": true, "path": false}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if len(stack) != 0 {
				t.Errorf("unclosed elements: %v", stack)
			}
			return
		case html.StartTagToken:
			name, _ := z.TagName()
			if !void[string(name)] {
				stack = append(stack, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(stack) == 0 || stack[len(stack)-1] != string(name) {
				t.Fatalf("</%s> closes %v", name, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
}
