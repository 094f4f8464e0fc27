package pages

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
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
	// Every header has the main nav, except the staff sign-in pages', which
	// offer no way in but their own forms.
	headerNavs := 1
	if doc.Find(`form[action^="/staff/login"], main a[href="/staff/login"]`).Length() > 0 {
		headerNavs = 0
	}
	for sel, want := range map[string]int{"header": 1, "main#main": 1, "footer": 1, "h1": 1, "header nav": headerNavs} {
		if got := doc.Find(sel).Length(); got != want {
			t.Errorf("%d %s, want %d", got, sel, want)
		}
	}
	if doc.Find("nav").Length() > 1 {
		doc.Find("nav").Each(func(_ int, n *goquery.Selection) {
			if attr(n, "aria-label") == "" && attr(n, "aria-labelledby") == "" {
				t.Error("one of several <nav>s has no label")
			}
		})
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
		// A search form (the staff queue's and the inbox's filters) only
		// reads, so it may GET without a token; every other form posts
		// with one.
		m, _ := f.Attr("method")
		if m != "post" && m != "get" {
			t.Errorf("form %s method = %q", action, m)
		}
		if _, ok := f.Attr("novalidate"); ok {
			t.Errorf("form %s has novalidate", action)
		}
		csrf := f.Find(`input[type="hidden"][name="_csrf"]`)
		if v, _ := csrf.Attr("value"); m == "post" && (csrf.Length() != 1 || v != testToken) {
			t.Errorf("form %s: _csrf inputs %d, value %q", action, csrf.Length(), v)
		}
		if m == "get" && csrf.Length() != 0 {
			t.Errorf("search form %s leaks the CSRF token into URLs", action)
		}
		f.Find("input:not([type=hidden]), select, textarea").Each(func(_ int, in *goquery.Selection) {
			id, _ := in.Attr("id")
			if id == "" || doc.Find(`label[for="`+id+`"]`).Length() != 1 {
				t.Errorf("form %s: input %q has no label", action, id)
			}
		})
	})

	// Links and form targets are local paths or http(s), never script.
	doc.Find("a[href], form[action], [hx-post]").Each(func(_ int, s *goquery.Selection) {
		for _, name := range []string{"href", "action", "hx-post"} {
			v, ok := s.Attr(name)
			if !ok {
				continue
			}
			lower := strings.ToLower(strings.TrimSpace(v))
			// A download of plain text (the recovery codes) runs nothing.
			_, download := s.Attr("download")
			plainDownload := download && name == "href" && strings.HasPrefix(lower, "data:text/plain")
			if strings.HasPrefix(lower, "javascript:") || strings.HasPrefix(lower, "data:") && !plainDownload || strings.Contains(v, " ") {
				t.Errorf("<%s %s=%q> is not a safe URL", goquery.NodeName(s), name, v)
			}
		}
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
		"check_email":    CheckEmail(CheckEmailProps{Page: page(nil, "/signup"), Email: "ada@example.com"}),
		"teen_home_none": TeenHome(TeenHomeProps{Page: page(teen, "/teen"), DisplayName: "Ava", Age: 14}),
		"reset":          ResetPassword(ResetProps{Page: page(nil, "/password/reset/x"), Token: "x"}),
		"reset_invalid":  ResetPassword(ResetProps{Page: page(nil, "/password/reset/x"), Invalid: true}),
		"dashboard":      Dashboard(DashboardProps{Page: page(guardian, "/"), Name: "Priya"}),
		"dashboard_full": Dashboard(sampleDashboard()),
		"invite_new":     InviteNew(InviteNewProps{Page: page(guardian, "/invitations/new"), Label: "Sam", Errors: views.FieldErrors{FieldLabel: "Too long.", "form": "You already have 5 invitations waiting."}}),
		"invite_created": InviteCreated(sampleInviteCreated()),
		"guardian_teen":  GuardianTeen(sampleGuardianTeen()),
		"end_link":       EndLinkConfirm(EndLinkConfirmProps{Page: page(guardian, "/teens/42/end"), TeenID: 42, DisplayName: "Maya", Reason: "x", Errors: views.FieldErrors{FieldReason: "Keep the reason to 500 characters or fewer."}}),
		"teen_home_full": TeenHome(TeenHomeProps{Page: teenPage("/teen"), DisplayName: "Maya", Age: 14, Supervised: true, Guardians: sampleGuardians(), PendingRequests: 2}),
		"teen_code":      TeenInviteCode(TeenInviteCodeProps{Page: page(teen, "/teen/invite"), Code: "abc", Error: "That code doesn't match an invitation."}),
		"teen_review":    TeenInviteReview(sampleReview(14, "Tick the box.")),
		"invite_landing": TeenInviteCode(TeenInviteCodeProps{Page: page(nil, "/i/KX7P-M3QD-9WRT"), Code: "KX7P-M3QD-9WRT", Error: "Open Hearth from your messaging app first."}),
		"teen_sup_14":    TeenSupervision(sampleSupervision(14)),
		"teen_sup_16":    TeenSupervision(sampleSupervision(16)),
		"teen_sup_none":  TeenSupervision(TeenSupervisionProps{Page: page(teen, "/teen/supervision"), Age: 15}),
		"teen_activity":  TeenActivity(TeenActivityProps{Page: teenPage("/teen/activity"), Items: sampleActivity(), Pagination: Pagination{Page: 2, Pages: 3, BaseURL: "/teen/activity"}}),
		"teen_act_empty": TeenActivity(TeenActivityProps{Page: page(teen, "/teen/activity")}),
		"teen_help":      TeenHelp(TeenHelpProps{Page: teenPage("/teen/help")}),
		"notifications":  Notifications(sampleNotifications()),
		"notifs_empty":   Notifications(NotificationsProps{Page: page(guardian, "/notifications")}),
		"teen_home":      TeenHome(TeenHomeProps{Page: teenPage("/teen"), DisplayName: "Maya", Age: 14, Supervised: true}),
		"staff_login":    StaffLogin(StaffLoginProps{Page: page(nil, "/staff/login")}),
		"staff_home":     StaffHome(StaffHomeProps{Page: page(lead, "/staff"), Name: "Jordan"}),
		"staff_code":     StaffCode(StaffCodeProps{Page: page(nil, "/staff/login/code"), Email: "agent@example.com", Next: "/staff", Error: "That code isn't right."}),
		"staff_locked":   StaffCode(StaffCodeProps{Page: page(nil, "/staff/login/code"), Email: "agent@example.com", Error: "Too many wrong codes.", Locked: true}),
		"staff_enrol":    StaffEnrol(StaffEnrolProps{Page: page(nil, "/staff/login/enrol"), Email: "agent@example.com", QR: templ.Raw("<svg></svg>"), Secret: "ABCD EFGH"}),
		"staff_recovery": StaffRecoveryCodes(StaffRecoveryCodesProps{Page: page(agent, "/staff/login/enrol"), Codes: []string{"abcde-fghjk", "mnpqr-stuvw"}, Download: "data:text/plain,x"}),
		"staff_accounts": StaffAccounts(sampleStaffAccounts()),
		"staff_account":  StaffAccount(StaffAccountProps{Page: page(lead, "/staff/accounts/2"), Account: sampleStaffAccounts().Accounts[1], Events: sampleStaffAccounts().Events, Action: StaffActionDisable, Errors: views.FieldErrors{FieldReason: "Write why."}}),
		"staff_acct_own": StaffAccount(StaffAccountProps{Page: page(lead, "/staff/accounts/1"), Account: sampleStaffAccounts().Accounts[0], Self: true}),
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

	t.Run("no_create_account_on_signup", func(t *testing.T) {
		for _, doc := range []*goquery.Document{
			render(t, Signup(SignupProps{Page: page(nil, "/signup")})),
			render(t, CheckEmail(CheckEmailProps{Page: page(nil, "/signup"), Email: "a@example.com"})),
		} {
			nav := doc.Find("header nav")
			if nav.Find(`a[href="/signup"]`).Length() != 0 {
				t.Errorf("the sign-up page's header offers %q", text(nav.Find(`a[href="/signup"]`)))
			}
			if text(nav.Find(`a[href="/login"]`)) != "Sign in" {
				t.Error("the sign-up page's header lost Sign in")
			}
		}
		// Everywhere else a visitor is offered both.
		for _, path := range []string{"/", "/login", "/privacy", "/signup-help"} {
			doc := render(t, Privacy(PrivacyProps{Page: page(nil, path)}))
			if text(doc.Find(`header nav a[href="/signup"]`)) != "Create account" {
				t.Errorf("%s: no Create account in the header", path)
			}
		}
	})

	t.Run("staff_login_has_a_minimal_header", func(t *testing.T) {
		doc := render(t, StaffLogin(StaffLoginProps{Page: page(nil, "/staff/login")}))
		header := doc.Find("header")
		if header.Find("nav").Length() != 0 || header.Find(`a[href="/login"], a[href="/signup"]`).Length() != 0 {
			t.Errorf("staff sign-in header offers guardian links: %q", text(header))
		}
		if header.Find("a.brand").Length() != 1 || text(header) != "Hearth" {
			t.Errorf("staff sign-in header = %q, want just the brand", text(header))
		}
		if doc.Find(`main form[action="/staff/login"]`).Length() != 1 {
			t.Error("the staff sign-in form is gone")
		}
	})

	t.Run("sign_in_is_current_on_login", func(t *testing.T) {
		doc := render(t, Login(LoginProps{Page: page(nil, "/login")}))
		if attr(doc.Find(`header nav a[href="/login"]`), "aria-current") != "page" {
			t.Error("Sign in is not marked current on /login")
		}
	})

	roles := []struct {
		name, home, badge, logout string
		nav                       []string // label -> href pairs
		viewer                    *views.Viewer
	}{
		{"guardian", "/", "Guardian", "/logout", []string{"Dashboard", "/", "Alerts", "/alerts", "Invite a teen", "/invitations/new", "Support", "/disputes"}, guardian},
		{"teen", "/teen", "Teen", "/logout", []string{"My home", "/teen", "My messages", "/teen/messages", "My supervision", "/teen/supervision", "Activity", "/teen/activity"}, teen},
		{"agent", "/staff", "Support agent", "/staff/logout", []string{"Queue", "/staff"}, agent},
		{"lead", "/staff", "Support lead", "/staff/logout", []string{"Queue", "/staff", "Staff accounts", "/staff/accounts"}, lead},
	}
	for _, r := range roles {
		t.Run(r.name, func(t *testing.T) {
			doc := render(t, Privacy(PrivacyProps{Page: page(r.viewer, r.home)}))
			header := doc.Find("header")
			links := header.Find("nav a")
			var got []string
			links.Each(func(_ int, a *goquery.Selection) { got = append(got, text(a), attr(a, "href")) })
			if strings.Join(got, " ") != strings.Join(r.nav, " ") {
				t.Errorf("nav = %q, want %q", got, r.nav)
			}
			current := header.Find(`nav a[aria-current="page"]`)
			if current.Length() != 1 || attr(current, "href") != r.home {
				t.Errorf("current nav item = %q, want only %s", text(current), r.home)
			}
			if got := text(header.Find(".account-name .badge")); got != r.badge {
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
			if attr(header.Find("a#notification-bell"), "href") != "/notifications" {
				t.Error("no notification bell for a signed-in viewer")
			}
		})
	}

	t.Run("longest_match_is_current", func(t *testing.T) {
		for path, want := range map[string]string{
			"/teen":                "/teen",
			"/teen/supervision":    "/teen/supervision",
			"/teen/activity":       "/teen/activity",
			"/teen/invite/AB-CD":   "/teen",
			"/teen/help":           "/teen",
			"/":                    "/",
			"/teens/42":            "/",
			"/teens/42/end":        "/",
			"/invitations/new":     "/invitations/new",
			"/invitations":         "/invitations/new",
			"/privacy":             "",
			"/teenager":            "",
			"/invitations-archive": "",
		} {
			viewer := guardian
			if strings.HasPrefix(path, "/teen/") || path == "/teen" {
				viewer = teen
			}
			doc := render(t, Privacy(PrivacyProps{Page: page(viewer, path)}))
			cur := doc.Find(`header nav a[aria-current="page"]`)
			if cur.Length() > 1 || attr(cur, "href") != want {
				t.Errorf("%s: current = %q (%d), want %q", path, attr(cur, "href"), cur.Length(), want)
			}
		}
	})

	t.Run("bell_shows_the_unread_count", func(t *testing.T) {
		p := page(guardian, "/")
		p.Unread = 3
		doc := render(t, Privacy(PrivacyProps{Page: p}))
		bell := doc.Find("header a#notification-bell")
		if got := text(bell.Find(".visually-hidden")); got != "3 unread notifications" {
			t.Errorf("bell reads %q", got)
		}
		count := bell.Find(".bell-count")
		if text(count) != "3" || attr(count, "aria-hidden") != "true" {
			t.Errorf("bell count = %q (aria-hidden %q)", text(count), attr(count, "aria-hidden"))
		}
		if _, ok := bell.Attr("aria-current"); ok {
			t.Error("bell is current away from /notifications")
		}

		p.Unread, p.Path = 0, "/notifications"
		doc = render(t, Privacy(PrivacyProps{Page: p}))
		bell = doc.Find("header a#notification-bell")
		if bell.Find(".bell-count").Length() != 0 || text(bell) != "Notifications" {
			t.Errorf("bell with nothing unread = %q", text(bell))
		}
		if attr(bell, "aria-current") != "page" {
			t.Error("bell is not current on /notifications")
		}

		p.Unread = 1
		if got := text(render(t, Privacy(PrivacyProps{Page: p})).Find("#notification-bell")); got != "1 1 unread notification" {
			t.Errorf("one unread reads %q", got)
		}
		p.Unread = 250
		if got := text(render(t, Privacy(PrivacyProps{Page: p})).Find("#notification-bell .bell-count")); got != "99+" {
			t.Errorf("250 unread shows %q", got)
		}
	})

	t.Run("signed_out_has_no_bell", func(t *testing.T) {
		if render(t, Home(HomeProps{Page: page(nil, "/")})).Find("#notification-bell").Length() != 0 {
			t.Error("signed-out visitor sees a bell")
		}
	})

	t.Run("help_link_only_for_teens", func(t *testing.T) {
		if render(t, Privacy(PrivacyProps{Page: page(teen, "/privacy")})).Find(`footer a[href="/teen/help"]`).Length() != 1 {
			t.Error("teen footer has no help link")
		}
		for _, v := range []*views.Viewer{nil, guardian, agent} {
			if render(t, Privacy(PrivacyProps{Page: page(v, "/privacy")})).Find(`a[href^="/teen/help"]`).Length() != 0 {
				t.Errorf("%v sees the teen help link", v)
			}
		}
	})

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

func TestCheckEmail(t *testing.T) {
	t.Parallel()
	doc := render(t, CheckEmail(CheckEmailProps{Page: page(nil, "/signup"), Email: "ada@example.com"}))
	// The news sits in the same mail notice as the forgotten-password
	// page's, with the address in it.
	notice := doc.Find("main .auth-card .notice")
	if notice.Length() != 1 || notice.Find("svg.icon").Length() != 1 || text(notice.Find("strong")) != "ada@example.com" {
		t.Fatalf("mail notice = %q", text(notice))
	}
	if !strings.Contains(text(notice), "Open the link in it to confirm the address") {
		t.Errorf("notice = %q", text(notice))
	}
	forgot := render(t, ForgotPassword(ForgotProps{Page: page(nil, "/password/forgot"), Sent: true}))
	if attr(forgot.Find("main .notice"), "class") != attr(notice, "class") ||
		attr(forgot.Find("main .notice svg"), "class") != attr(notice.Find("svg"), "class") {
		t.Errorf("check-email notice %q differs from the reset page's %q", attr(notice, "class"), attr(forgot.Find("main .notice"), "class"))
	}
	// The fine print is muted and small, never darker than the lead.
	fine := notice.NextFiltered("p")
	if !fine.HasClass("muted") || !fine.HasClass("small") || !strings.Contains(text(fine), "expires in 24 hours") {
		t.Errorf("fine print %q has class %q, want muted small", text(fine), attr(fine, "class"))
	}
	doc.Find("main .auth-card p").Each(func(_ int, p *goquery.Selection) {
		if p.Closest(".notice, .auth-foot").Length() == 0 && !p.HasClass("muted") {
			t.Errorf("paragraph %q is in full ink", text(p))
		}
	})
	if attr(doc.Find(`main .auth-foot a`), "href") != "/signup" {
		t.Error("no way to ask for a new link")
	}
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

	if attr(doc.Find(`.empty-state a.button[href="/invitations/new"]`), "href") == "" {
		t.Error("empty dashboard has no Invite a teen button")
	}

	doc = render(t, Dashboard(sampleDashboard()))
	if doc.Find(".empty-state").Length() != 0 {
		t.Error("empty state shown with teens")
	}
	cards := doc.Find(".teen-card")
	if cards.Length() != 3 {
		t.Fatalf("%d teen cards, want 3", cards.Length())
	}
	maya, leo, ava := cards.Eq(0), cards.Eq(1), cards.Eq(2)
	for want, got := range map[string]string{
		"Maya":                           text(maya.Find("h3")),
		"15 years old":                   text(maya.Find(".teen-age")),
		"Supervising since 3 Nov 2026":   text(maya.Find(".badge")),
		"Also supervised by Sam and Ana": text(maya.Find(".teen-others")),
		"2 requests waiting for you":     text(maya.Find(".teen-requests")),
		"Suspended by support":           text(leo.Find(".badge")),
		"Ended 5 Nov 2026":               text(ava.Find(".badge")),
		"Ava turned 18.":                 text(ava.Find(".teen-note")),
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if attr(maya.Find("h3 a"), "href") != "/teens/42" || attr(maya.Find(".teen-requests"), "href") != "/teens/42#requests" {
		t.Errorf("Maya's links: %q, %q", attr(maya.Find("h3 a"), "href"), attr(maya.Find(".teen-requests"), "href"))
	}
	if leo.Find("a").Length()+ava.Find("a").Length() != 0 {
		t.Error("a suspended or ended teen links to their page")
	}
	if doc.Find("#once-linked-title").Length() != 0 {
		t.Error("'Once your teen accepts' shown while supervising")
	}

	invites := doc.Find(".invite-row")
	if invites.Length() != 2 {
		t.Fatalf("%d pending invitations, want 2", invites.Length())
	}
	live, expired := invites.Eq(0), invites.Eq(1)
	if !strings.Contains(text(live), "For Sam") || text(live.Find(".badge")) != "Expires in 41 hours" {
		t.Errorf("live invitation = %q", text(live))
	}
	form := live.Find("form")
	if attr(form, "action") != "/invitations/9/withdraw" || text(form.Find("button")) != "Withdraw the invitation for Sam" {
		t.Errorf("withdraw form %q, button %q", attr(form, "action"), text(form.Find("button")))
	}
	if text(expired.Find(".badge")) != "Expired" || expired.Find("form").Length() != 0 {
		t.Errorf("expired invitation = %q", text(expired))
	}
	answered := doc.Find(".answered-list li")
	if answered.Length() != 1 || !strings.Contains(text(answered), "For Maya") || text(answered.Find(".badge")) != "Accepted" {
		t.Errorf("answered = %q", text(answered))
	}

	t.Run("only_ended_links_still_explains_linking", func(t *testing.T) {
		p := sampleDashboard()
		p.Teens = p.Teens[2:]
		if render(t, Dashboard(p)).Find("#once-linked-title").Length() != 1 {
			t.Error("no explanation when nobody is supervised any more")
		}
	})
	t.Run("unknown_state_is_worded", func(t *testing.T) {
		p := sampleDashboard()
		p.Teens = []DashboardTeen{{TeenID: 1, DisplayName: "Zed", State: "on_hold"}}
		if got := text(render(t, Dashboard(p)).Find(".teen-card .badge")); got != "On hold" {
			t.Errorf("badge = %q", got)
		}
	})
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
	for _, status := range []int{403, 404, 429, 500, 503} {
		doc := render(t, Error(ErrorProps{Page: page(guardian, "/x"), Status: status, RequestID: "req_123"}))
		if !strings.Contains(text(doc.Find(".error-code")), itoa(status)) {
			t.Errorf("%d: code badge = %q", status, text(doc.Find(".error-code")))
		}
		if text(doc.Find("h1")) == "" || !strings.Contains(doc.Find("title").Text(), text(doc.Find("h1"))) {
			t.Errorf("%d: h1 %q, title %q", status, text(doc.Find("h1")), doc.Find("title").Text())
		}
		// A reference only helps when something broke on Hearth's side.
		if got := text(doc.Find(".request-id code")); status >= 500 && got != "req_123" {
			t.Errorf("%d: request ID shown as %q, want req_123", status, got)
		} else if status < 500 && doc.Find(".request-id").Length() != 0 {
			t.Errorf("%d: request ID shown: %q", status, text(doc.Find(".request-id")))
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
	doc := render(t, Privacy(PrivacyProps{Page: page(nil, "/privacy"), Retention: []RetentionRow{
		{What: "Moderation alerts", Holds: "Category and severity.", Keep: []string{"90 days after the latest event"}},
		{What: "Sessions", Holds: "Who is signed in.", Keep: []string{"Guardians: 30 minutes idle", "Staff: 15 minutes idle"}},
	}}))
	rows := map[string][]string{}
	doc.Find("table tbody tr").Each(func(_ int, tr *goquery.Selection) {
		tr.Find("td span").Each(func(_ int, s *goquery.Selection) {
			rows[text(tr.Find("th").Contents().First())] = append(rows[text(tr.Find("th").Contents().First())], text(s))
		})
		if text(tr.Find("th .row-detail")) == "" {
			t.Errorf("row %q has no description", text(tr.Find("th")))
		}
	})
	if got := rows["Moderation alerts"]; len(got) != 1 || got[0] != "90 days after the latest event" {
		t.Errorf("alerts row: %q", got)
	}
	if got := rows["Sessions"]; len(got) != 2 || got[1] != "Staff: 15 minutes idle" {
		t.Errorf("sessions row, one line per period: %q", got)
	}
	if !strings.Contains(text(doc.Find("main")), "Message text is never received or stored") {
		t.Error("privacy page does not say message text is never received or stored")
	}
	if !strings.Contains(text(doc.Find("#never-title").Parent()), "The text of any message") {
		t.Error("the never-kept list does not name message text")
	}
	for _, href := range []string{"/account", "/teen"} {
		if doc.Find(`#rights-title ~ ul a[href="`+href+`"]`).Length() == 0 {
			t.Errorf("the choices section does not link %s", href)
		}
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

// ---- Linking guardians and teens ----

var (
	testNow = time.Date(2026, 11, 27, 21, 30, 0, 0, time.UTC)
	since   = time.Date(2026, 11, 3, 18, 0, 0, 0, time.UTC)
)

func sampleDashboard() DashboardProps {
	ended := time.Date(2026, 11, 5, 9, 0, 0, 0, time.UTC)
	return DashboardProps{
		Page: page(guardian, "/"), Name: "Priya", Now: testNow,
		Teens: []DashboardTeen{
			{TeenID: 42, DisplayName: "Maya", Age: 15, State: "active", Since: since, OtherGuardians: []string{"Sam", "Ana"}, PendingRequests: 2},
			{TeenID: 43, DisplayName: "Leo", Age: 17, State: "suspended", Since: since},
			{TeenID: 44, DisplayName: "Ava", Age: 18, State: "ended", Since: since, EndedAt: &ended, EndReason: "Ava turned 18."},
		},
		Invitations: []DashboardInvitation{
			{ID: 9, Label: "Sam", State: "pending", CreatedAt: testNow.Add(-7 * time.Hour), ExpiresAt: testNow.Add(41*time.Hour + 20*time.Minute)},
			{ID: 8, Label: "Jo", State: "pending", Expired: true, CreatedAt: testNow.Add(-50 * time.Hour), ExpiresAt: testNow.Add(-2 * time.Hour)},
			{ID: 6, Label: "Maya", State: "accepted", CreatedAt: since},
		},
	}
}

func sampleInviteCreated() InviteCreatedProps {
	qr := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" class="test-qr"><rect width="10" height="10"></rect></svg>`)
		return err
	})
	return InviteCreatedProps{Page: page(guardian, "/invitations"), Label: "Sam", Code: "KX7P-M3QD-9WRT",
		URL: "https://hearth.example/i/KX7P-M3QD-9WRT", QR: qr, ExpiresAt: testNow.Add(48 * time.Hour)}
}

func sampleGuardians() []GuardianRef {
	return []GuardianRef{
		{Name: "Priya", Email: "parent@example.com", Since: since},
		{Name: "Sam", Email: "sam@example.com", Since: since.Add(72 * time.Hour)},
	}
}

func sampleActivity() []ActivityItem {
	return []ActivityItem{
		{At: testNow, Actor: "Maya", Summary: "Maya asked to end Priya's supervision.", Reason: "I'm old enough."},
		{At: testNow.Add(-time.Hour), Actor: "Sam", Summary: "Sam changed quiet hours to 21:30–07:00."},
	}
}

func sampleRequests() []RequestView {
	return []RequestView{
		{ID: 7, Kind: RequestEndSupervision, Title: "End Priya's supervision", TeenName: "Maya", GuardianName: "Priya",
			Reason: "I'm old enough.", CreatedAt: testNow, State: RequestPending, LinkID: 11},
		{ID: 5, Kind: RequestEndSupervision, Title: "End Sam's supervision", TeenName: "Maya", GuardianName: "Sam",
			CreatedAt: testNow.Add(-48 * time.Hour), State: RequestDeclined, LinkID: 12},
	}
}

func sampleGuardianTeen() GuardianTeenProps {
	return GuardianTeenProps{
		Page: page(guardian, "/teens/42"), TeenID: 42, DisplayName: "Maya", Age: 15, Since: since,
		Others:   []GuardianRef{{Name: "Sam", Email: "sam@example.com", Since: since.Add(72 * time.Hour)}},
		Requests: sampleRequests()[:1], Activity: sampleActivity(),
		Pagination: Pagination{Page: 2, Pages: 5, BaseURL: "/teens/42"},
	}
}

func sampleReview(age int, errMsg string) TeenInviteReviewProps {
	return TeenInviteReviewProps{Page: page(teen, "/teen/invite/KX7P-M3QD-9WRT"), Code: "KX7P-M3QD-9WRT", GuardianName: "Priya Shah",
		GuardianEmail: "priya@example.com", ExpiresAt: testNow.Add(41 * time.Hour), Age: age, Error: errMsg}
}

func sampleSupervision(age int) TeenSupervisionProps {
	return TeenSupervisionProps{
		Page: teenPage("/teen/supervision"), Age: age, CanEndAtOnce: age >= 16,
		Guardians: []TeenGuardianView{
			{LinkID: 11, Name: "Priya", Email: "parent@example.com", Since: since, State: "active", PendingRequest: age < 16},
			{LinkID: 12, Name: "Sam", Email: "sam@example.com", Since: since, State: "active"},
		},
		Requests: sampleRequests(),
	}
}

func sampleNotifications() NotificationsProps {
	return NotificationsProps{
		Page: page(guardian, "/notifications"), Unread: 2,
		Items: []NotificationView{
			{ID: 3, Message: "Maya asked to end your supervision.", URL: "/teens/42#requests", CreatedAt: testNow},
			{ID: 2, Message: "Sam changed Maya's quiet hours.", URL: "javascript:alert(1)", CreatedAt: testNow.Add(-time.Hour)},
			{ID: 1, Message: "Maya accepted your invitation.", URL: "/teens/42", CreatedAt: since, Read: true},
		},
		Pagination: Pagination{Page: 1, Pages: 2, BaseURL: "/notifications"},
	}
}

// renderFragment renders a component that is not a whole page (an htmx
// answer) and parses it.
func renderFragment(t *testing.T, ctx context.Context, c templ.Component) (*goquery.Document, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(ctx, &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc, buf.String()
}

func TestDashboard_withoutName(t *testing.T) {
	t.Parallel()
	p := sampleDashboard()
	p.Name = ""
	if got := text(render(t, Dashboard(p)).Find("h1")); got != "Welcome" {
		t.Errorf("h1 without a name = %q", got)
	}
}

func TestInviteNew(t *testing.T) {
	t.Parallel()
	doc := render(t, InviteNew(InviteNewProps{Page: page(guardian, "/invitations"), Label: "Sam <3",
		Errors: views.FieldErrors{FieldLabel: "Keep it to 60 characters.", "form": "You already have 5 invitations waiting."}}))
	form := doc.Find(`form[action="/invitations"]`)
	if form.Length() != 1 {
		t.Fatal("no form posting to /invitations")
	}
	in := form.Find(`input[name="label"]`)
	if attr(in, "value") != "Sam <3" || attr(in, "aria-invalid") != "true" || attr(in, "maxlength") != "64" || attr(in, "autocomplete") != "off" {
		t.Errorf("label input: %v", in.Nodes[0].Attr)
	}
	if got := text(doc.Find(`label[for="` + attr(in, "id") + `"]`)); got != "Who is this for?" {
		t.Errorf("label = %q", got)
	}
	if !strings.Contains(text(doc.Find("#"+hintOf(in))), "Only you see it") {
		t.Error("hint does not say the label is private")
	}
	if !strings.Contains(text(form.Find(".error-summary")), "5 invitations waiting") {
		t.Error("form-level error not shown")
	}
	next := text(doc.Find("main ol"))
	for _, want := range []string{"messaging app", "enters the code", "scans", "your name and email", "Nothing happens without their acceptance", "48 hours", "once"} {
		if !strings.Contains(next, want) {
			t.Errorf("'what happens next' lacks %q", want)
		}
	}
}

func TestInviteCreated(t *testing.T) {
	t.Parallel()
	doc := render(t, InviteCreated(sampleInviteCreated()))
	box := doc.Find(".code-box")
	if got := text(box.Find(".code-text")); got != "KX7P-M3QD-9WRT" || attr(box.Find(".code-text"), "aria-hidden") != "true" {
		t.Errorf("code = %q", got)
	}
	if got := text(box.Find(".visually-hidden")); got != "K X 7 P, M 3 Q D, 9 W R T" {
		t.Errorf("code read out as %q", got)
	}
	link := doc.Find("input#invite-url")
	if _, ro := link.Attr("readonly"); !ro || attr(link, "value") != "https://hearth.example/i/KX7P-M3QD-9WRT" || doc.Find(`label[for="invite-url"]`).Length() != 1 {
		t.Errorf("link input: %v", link.Nodes[0].Attr)
	}
	qr := doc.Find(`.qr[role="img"]`)
	if qr.Find("svg.test-qr").Length() != 1 || attr(qr, "aria-label") == "" {
		t.Error("QR code missing or unlabelled")
	}
	main := text(doc.Find("main"))
	for _, want := range []string{"This code is shown only now. If you lose it, withdraw it and make a new one.", "29 Nov 2026, 21:30 UTC", "Give this code to Sam"} {
		if !strings.Contains(main, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if attr(doc.Find(`main a.button[href="/"]`), "href") != "/" {
		t.Error("no button back to the dashboard")
	}

	p := sampleInviteCreated()
	p.QR = nil
	if render(t, InviteCreated(p)).Find(".qr").Length() != 0 {
		t.Error("empty QR box without a QR")
	}
}

func TestTeenInviteCode(t *testing.T) {
	t.Parallel()
	// An invitation link opened by anyone but a signed-in teen shows the
	// code and how to use it, not a form that would only refuse them.
	for _, v := range []*views.Viewer{nil, guardian} {
		doc := render(t, TeenInviteCode(TeenInviteCodeProps{Page: page(v, "/i/KX7P-M3QD-9WRT"), Code: "KX7P-M3QD-9WRT", Error: "Open Hearth from your messaging app first."}))
		if doc.Find("main form").Length() != 0 {
			t.Errorf("viewer %v: the invitation link page has a form", v)
		}
		if text(doc.Find("main .code-box .code-text")) != "KX7P-M3QD-9WRT" {
			t.Errorf("viewer %v: code shown as %q", v, text(doc.Find("main .code-box")))
		}
		steps := text(doc.Find("main ol"))
		if !strings.Contains(steps, "Open Hearth from your messaging app") || !strings.Contains(steps, "Enter an invitation code") {
			t.Errorf("viewer %v: steps = %q", v, steps)
		}
		if doc.Find(`main a[href^="/teen/"]`).Length() != 0 {
			t.Errorf("viewer %v: links to teen-only pages", v)
		}
	}

	doc := render(t, TeenInviteCode(TeenInviteCodeProps{Page: page(teen, "/teen/invite"), Code: `AB"CD`, Error: "That invitation has expired."}))
	form := doc.Find(`form[action="/teen/invite"]`)
	in := form.Find(`input[name="code"]`)
	for name, want := range map[string]string{
		"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "inputmode": "text",
		"placeholder": "XXXX-XXXX-XXXX", "value": `AB"CD`, "aria-invalid": "true",
	} {
		if got := attr(in, name); got != want {
			t.Errorf("code input %s = %q, want %q", name, got, want)
		}
	}
	if _, ok := in.Attr("required"); !ok {
		t.Error("code is not required")
	}
	if !strings.HasPrefix(attr(in, "aria-describedby"), "invite-code-error") || !strings.Contains(text(doc.Find("#invite-code-error")), "expired") {
		t.Error("error is not tied to the input")
	}
	if doc.Find(`main a[href="/teen/help"]`).Length() == 0 {
		t.Error("no way to get help")
	}
	clean := render(t, TeenInviteCode(TeenInviteCodeProps{Page: page(teen, "/teen/invite")}))
	if clean.Find("[aria-invalid], .form-alert").Length() != 0 || attr(clean.Find("#invite-code"), "aria-describedby") != "invite-code-hint" {
		t.Error("clean code form shows an error")
	}
}

func TestTeenInviteReview(t *testing.T) {
	t.Parallel()
	doc := render(t, TeenInviteReview(sampleReview(14, "")))
	inviter := doc.Find(".inviter")
	if text(inviter.Find(".inviter-name")) != "Priya Shah" || text(inviter.Find(".inviter-email")) != "priya@example.com" {
		t.Errorf("inviter = %q", text(inviter))
	}
	accept := doc.Find(`form[action="/teen/invite/KX7P-M3QD-9WRT/accept"]`)
	if accept.Length() != 1 {
		t.Fatal("no accept form posting to /teen/invite/{code}/accept")
	}
	box := accept.Find(`input[type="checkbox"][name="confirm"]`)
	if _, req := box.Attr("required"); !req || attr(box, "value") != "yes" {
		t.Errorf("confirm checkbox: %v", box.Nodes)
	}
	if _, checked := box.Attr("checked"); checked {
		t.Error("confirm box is ticked for the teen")
	}
	if got := text(doc.Find(`label[for="` + attr(box, "id") + `"]`)); got != "I confirm Priya Shah is my parent or guardian" {
		t.Errorf("checkbox label = %q", got)
	}
	if text(accept.Find("button[type=submit]")) != "Accept" {
		t.Error("accept form has no Accept button")
	}
	decline := doc.Find(`form[action="/teen/invite/KX7P-M3QD-9WRT/decline"]`)
	if decline.Length() != 1 || decline.Find("input[type=checkbox]").Length() != 0 || text(decline.Find("button")) != "Decline" {
		t.Error("decline form missing, or it asks for the checkbox")
	}
	main := text(doc.Find("main"))
	for _, want := range []string{
		"DM rules", "who can message you", "quiet hours", "approved and blocked contacts",
		"category", "how serious", "what the platform did", "other account's ID", "Never the text of your messages",
		"Because you're 14", "stricter", "guardian's approval, or help from Hearth support",
		"If this isn't your parent or guardian, decline. You can also get help.",
	} {
		if !strings.Contains(main, want) {
			t.Errorf("review lacks %q", want)
		}
	}
	if doc.Find(`.help-line a[href="/teen/help"]`).Length() != 1 {
		t.Error("help line does not link /teen/help")
	}
	if doc.Find(".form-alert").Length() != 0 {
		t.Error("error shown without one")
	}

	t.Run("16_may_end_it_themselves", func(t *testing.T) {
		if !strings.Contains(text(render(t, TeenInviteReview(sampleReview(16, ""))).Find("main")), "end supervision yourself") {
			t.Error("16-year-old is not told they may end supervision")
		}
	})
	t.Run("error_is_tied_to_the_checkbox", func(t *testing.T) {
		doc := render(t, TeenInviteReview(sampleReview(14, "Tick the box to confirm.")))
		alert := doc.Find("#review-error")
		box := doc.Find("#review-confirm")
		if attr(alert, "role") != "alert" || !strings.Contains(text(alert), "Tick the box") {
			t.Errorf("alert = %q", text(alert))
		}
		if attr(box, "aria-invalid") != "true" || !strings.Contains(attr(box, "aria-describedby"), "review-error") {
			t.Error("checkbox is not tied to the error")
		}
	})
	t.Run("code_is_escaped_in_urls", func(t *testing.T) {
		p := sampleReview(14, "")
		p.Code = "AB/CD?x=1 #"
		doc := render(t, TeenInviteReview(p))
		if doc.Find(`form[action="/teen/invite/AB%2FCD%3Fx=1%20%23/accept"]`).Length() != 1 ||
			doc.Find(`form[action="/teen/invite/AB%2FCD%3Fx=1%20%23/decline"]`).Length() != 1 {
			var got []string
			doc.Find("form").Each(func(_ int, f *goquery.Selection) { got = append(got, attr(f, "action")) })
			t.Errorf("actions = %q", got)
		}
	})
}

func TestGuardianTeen(t *testing.T) {
	t.Parallel()
	doc := render(t, GuardianTeen(sampleGuardianTeen()))
	if text(doc.Find("h1")) != "Maya" || !strings.Contains(text(doc.Find(".teen-head")), "You've supervised Maya since 3 Nov 2026") {
		t.Errorf("head = %q", text(doc.Find(".teen-head")))
	}
	if !strings.Contains(text(doc.Find(".teen-head")), "15 years old") {
		t.Error("age not shown")
	}
	people := text(doc.Find(".people"))
	if !strings.Contains(people, "Sam") || !strings.Contains(people, "sam@example.com") {
		t.Errorf("other guardians = %q", people)
	}
	if !strings.Contains(text(doc.Find(".sees-card")), "Maya sees everything you see here") {
		t.Error("no 'what Maya sees' reassurance")
	}

	req := doc.Find("#requests .request-card")
	if req.Length() != 1 || text(req.Find("h3")) != "End Priya's supervision" || !strings.Contains(text(req.Find("blockquote")), "I'm old enough.") {
		t.Fatalf("request = %q", text(req))
	}
	// Approving an end of supervision closes the teen's page to this
	// guardian, so that form returns to the dashboard; declining stays.
	for verb, c := range map[string]struct{ button, next string }{"approve": {"Approve", "/"}, "decline": {"Decline", "/teens/42"}} {
		button := c.button
		form := req.Find(`form[action="/requests/7/` + verb + `"]`)
		if form.Length() != 1 {
			t.Errorf("no %s form", verb)
			continue
		}
		note := form.Find(`textarea[name="note"]`)
		if attr(note, "maxlength") != "500" {
			t.Errorf("%s note maxlength = %q", verb, attr(note, "maxlength"))
		}
		if _, req := note.Attr("required"); req {
			t.Errorf("%s note is required", verb)
		}
		if got := attr(form.Find(`input[name="next"]`), "value"); got != c.next {
			t.Errorf("%s form returns to %q, want %q", verb, got, c.next)
		}
		if text(form.Find("button[type=submit]")) != button {
			t.Errorf("%s button = %q", verb, text(form.Find("button")))
		}
	}
	if !strings.Contains(text(req.Find(`form[action="/requests/7/approve"]`)), "Priya's supervision of Maya ends at once") {
		t.Error("approving does not say what it does")
	}
	if !strings.Contains(text(req.Find(`form[action="/requests/7/decline"]`)), "Nothing changes") {
		t.Error("declining does not say what it does")
	}

	items := doc.Find("ol.activity li")
	if items.Length() != 2 {
		t.Fatalf("%d activity items, want 2", items.Length())
	}
	first := items.Eq(0)
	if attr(first.Find("time"), "datetime") != "2026-11-27T21:30:00Z" || text(first.Find("time")) != "27 Nov 2026, 21:30" ||
		text(first.Find(".activity-actor")) != "Maya" || text(first.Find(".activity-summary")) != "Maya asked to end Priya's supervision." ||
		text(first.Find(".activity-reason")) != "Reason: I'm old enough." {
		t.Errorf("first activity = %q", text(first))
	}
	if items.Eq(1).Find(".activity-reason").Length() != 0 {
		t.Error("empty reason shown")
	}
	pager := doc.Find("nav.pager")
	if text(pager.Find(".pager-status")) != "Page 2 of 5" ||
		attr(pager.Find(`a[rel="prev"]`), "href") != "/teens/42?page=1" || attr(pager.Find(`a[rel="next"]`), "href") != "/teens/42?page=3" {
		t.Errorf("pager = %q", text(pager))
	}
	end := doc.Find(`main a[href="/teens/42/end"]`)
	if text(end) != "End my supervision of Maya" {
		t.Errorf("end link = %q", text(end))
	}

	t.Run("own_supervision_reads_your", func(t *testing.T) {
		p := sampleGuardianTeen()
		p.Requests[0].GuardianName = guardian.Name
		doc := render(t, GuardianTeen(p))
		if !strings.Contains(text(doc.Find("#requests")), "Your supervision of Maya ends at once") {
			t.Error("the viewer's own supervision is not called theirs")
		}
		if got := text(doc.Find("#requests .request-card h3")); got != "End your supervision" {
			t.Errorf("the request to end the viewer's own supervision is titled %q", got)
		}
	})

	t.Run("other_requests_return_to_the_teen", func(t *testing.T) {
		p := sampleGuardianTeen()
		p.Requests[0].Kind, p.Requests[0].Title = RequestLoosenPolicy, "Allow DMs from everyone"
		doc := render(t, GuardianTeen(p))
		for _, verb := range []string{"approve", "decline"} {
			if got := attr(doc.Find(`form[action="/requests/7/`+verb+`"] input[name="next"]`), "value"); got != "/teens/42" {
				t.Errorf("%s of a rule request returns to %q, want /teens/42", verb, got)
			}
		}
	})

	t.Run("no_requests_no_section", func(t *testing.T) {
		p := sampleGuardianTeen()
		p.Requests, p.Activity = nil, nil
		doc := render(t, GuardianTeen(p))
		if doc.Find("#requests").Length() != 0 || doc.Find("ol.activity").Length() != 0 {
			t.Error("empty sections shown")
		}
		if !strings.Contains(text(doc.Find("main")), "Nothing has happened yet.") {
			t.Error("empty activity not explained")
		}
	})
}

func TestEndLinkConfirm(t *testing.T) {
	t.Parallel()
	doc := render(t, EndLinkConfirm(EndLinkConfirmProps{Page: page(guardian, "/teens/42/end"), TeenID: 42, DisplayName: "Maya",
		Reason: "Moving abroad", Errors: views.FieldErrors{FieldReason: "Keep the reason to 500 characters or fewer."}}))
	form := doc.Find(`form[action="/teens/42/end"]`)
	if form.Length() != 1 {
		t.Fatal("no form posting to /teens/42/end")
	}
	reason := form.Find(`textarea[name="reason"]`)
	if text(reason) != "Moving abroad" || attr(reason, "aria-invalid") != "true" || attr(reason, "maxlength") != "500" {
		t.Errorf("reason: %q %v", text(reason), reason.Nodes[0].Attr)
	}
	if _, req := reason.Attr("required"); req {
		t.Error("reason is required")
	}
	if !form.Find("button[type=submit]").HasClass("button--danger") || text(form.Find("button[type=submit]")) != "End supervision" {
		t.Error("no danger End supervision button")
	}
	if attr(form.Find(`a:contains("Cancel")`), "href") != "/teens/42" {
		t.Error("Cancel does not go back to the teen")
	}
	main := text(doc.Find("main"))
	for _, want := range []string{"lose access", "at once", "Maya and any other guardians are told", "rules stay as they are"} {
		if !strings.Contains(main, want) {
			t.Errorf("confirmation lacks %q", want)
		}
	}
}

func TestTeenHome_guardiansAndActions(t *testing.T) {
	t.Parallel()
	doc := render(t, TeenHome(TeenHomeProps{Page: teenPage("/teen"), DisplayName: "Maya", Age: 14, Supervised: true, Guardians: sampleGuardians(), PendingRequests: 1}))
	people := text(doc.Find(".people"))
	for _, want := range []string{"Priya", "parent@example.com", "since 3 Nov 2026", "Sam", "sam@example.com"} {
		if !strings.Contains(people, want) {
			t.Errorf("guardians lack %q: %q", want, people)
		}
	}
	// The page's own action is the code; My supervision and Activity are
	// in the nav right above, and not repeated as buttons.
	if got := text(doc.Find(`main .page-actions a`)); got != "Enter an invitation code" || attr(doc.Find(`main .page-actions a`), "href") != "/teen/invite" {
		t.Errorf("page actions = %q", got)
	}
	for _, href := range []string{"/teen/supervision", "/teen/activity"} {
		if n := doc.Find(`main .page-actions a[href="` + href + `"]`).Length(); n != 0 {
			t.Errorf("a button to %s repeats the nav", href)
		}
		if doc.Find(`header nav a[href="`+href+`"]`).Length() != 1 {
			t.Errorf("the nav has no link to %s", href)
		}
	}
	// Every card's heading is a card title, the top two included.
	doc.Find("main .card h2").Each(func(_ int, h *goquery.Selection) {
		if !h.HasClass("card-title") && !h.HasClass("visually-hidden") {
			t.Errorf("card heading %q is not a .card-title", text(h))
		}
	})
	if doc.Find("main .grid.teen-summary #status-title").Length() != 1 {
		t.Error("the status card is not in the .teen-summary grid (its cards would stretch)")
	}
	if !strings.Contains(text(doc.Find("#choices-title").Parent()), "Because you're 14:") {
		t.Errorf("supervised choices = %q", text(doc.Find("#choices-title").Parent()))
	}
	if got := text(doc.Find(".highlight-link")); got != "1 request waiting for a guardian's answer" {
		t.Errorf("pending requests = %q", got)
	}
	if doc.Find("#what-guardians-see").Length() != 1 {
		t.Error("explanation of what guardians see is gone")
	}
	unsupervised := render(t, TeenHome(TeenHomeProps{Page: page(teen, "/teen"), DisplayName: "Ava", Age: 16}))
	if !unsupervised.Find(`.page-actions a[href="/teen/invite"]`).Is(".button:not(.button--secondary)") {
		t.Error("entering a code is not the main action when unsupervised")
	}
	if n := unsupervised.Find(".page-actions a").Length(); n != 1 {
		t.Errorf("%d page actions when unsupervised, want just the code", n)
	}
	// Nobody supervises Ava: her choices are worded as what would apply.
	choices := text(unsupervised.Find("#choices-title").Parent())
	if !strings.Contains(choices, "You're 16. If you're ever supervised:") || strings.Contains(choices, "Because you're") {
		t.Errorf("unsupervised choices = %q", choices)
	}
	if !strings.Contains(choices, "You can end supervision yourself.") {
		t.Errorf("unsupervised choices lost the rules: %q", choices)
	}
	if got := attr(unsupervised.Find("#status-title"), "class"); got != "card-title" || text(unsupervised.Find("#status-title")) != "Nobody supervises you" {
		t.Errorf("status heading %q has class %q", text(unsupervised.Find("#status-title")), got)
	}
	if unsupervised.Find(".highlight-link").Length() != 0 {
		t.Error("pending requests shown without any")
	}
}

func TestTeenSupervision(t *testing.T) {
	t.Parallel()

	t.Run("16_ends_at_once", func(t *testing.T) {
		doc := render(t, TeenSupervision(sampleSupervision(16)))
		cards := doc.Find(".guardian-card")
		if cards.Length() != 2 || text(cards.Eq(0).Find(".guardian-name")) != "Priya" || text(cards.Eq(0).Find(".guardian-email")) != "parent@example.com" {
			t.Fatalf("cards = %q", text(cards))
		}
		form := cards.Eq(0).Find(`form[action="/teen/links/11/end"]`)
		if form.Length() != 1 {
			t.Fatal("no end form for a 16-year-old")
		}
		box := form.Find(`input[type=checkbox][name="confirm"][value="yes"]`)
		if _, req := box.Attr("required"); !req {
			t.Error("end form's confirm box is not required")
		}
		if doc.Find(`form[action$="/request-end"]`).Length() != 0 {
			t.Error("a 16-year-old is asked to request")
		}
		if !strings.Contains(text(cards.Eq(0)), "Since 3 Nov 2026") || !strings.Contains(text(cards.Eq(0)), "never your messages") {
			t.Error("card lacks since or what they see")
		}
	})

	t.Run("14_asks", func(t *testing.T) {
		doc := render(t, TeenSupervision(sampleSupervision(14)))
		if doc.Find(`form[action$="/end"]`).Length() != 0 {
			t.Error("a 14-year-old gets an end form")
		}
		priya, sam := doc.Find(".guardian-card").Eq(0), doc.Find(".guardian-card").Eq(1)
		if !strings.Contains(text(priya), "Request sent — waiting for Priya") {
			t.Errorf("pending request not shown: %q", text(priya))
		}
		if priya.Find(`form[action="/teen/requests/7/cancel"]`).Length() != 1 {
			t.Error("no cancel form for the pending request")
		}
		if priya.Find(`form[action$="/request-end"]`).Length() != 0 {
			t.Error("asked again while a request waits")
		}
		form := sam.Find(`form[action="/teen/links/12/request-end"]`)
		if form.Length() != 1 {
			t.Fatal("no request form for a 14-year-old")
		}
		reason := form.Find(`textarea[name="reason"]`)
		if attr(reason, "maxlength") != "500" {
			t.Errorf("reason maxlength = %q", attr(reason, "maxlength"))
		}
		if _, req := reason.Attr("required"); req {
			t.Error("reason is required")
		}
		if doc.Find(`main a[href^="/teen/disputes/new"]`).Length() == 0 {
			t.Error("no way to get help")
		}
		reqs := doc.Find("#my-requests-title").Closest("section").Find(".request-card")
		if reqs.Length() != 2 || text(reqs.Eq(0).Find(".badge")) != "Waiting for an answer" || text(reqs.Eq(1).Find(".badge")) != "Declined" {
			t.Errorf("requests = %q", text(reqs))
		}
	})

	t.Run("pending_matched_by_name_without_link_id", func(t *testing.T) {
		p := sampleSupervision(14)
		for i := range p.Requests {
			p.Requests[i].LinkID = 0
		}
		doc := render(t, TeenSupervision(p))
		if doc.Find(`form[action="/teen/requests/7/cancel"]`).Length() != 1 {
			t.Error("pending request not found by guardian name")
		}
	})

	t.Run("pending_without_request_has_no_cancel", func(t *testing.T) {
		p := sampleSupervision(14)
		p.Requests = nil
		doc := render(t, TeenSupervision(p))
		if !strings.Contains(text(doc.Find(".guardian-card").Eq(0)), "Request sent — waiting for Priya") || doc.Find(`form[action*="/cancel"]`).Length() != 0 {
			t.Error("pending flag not honoured on its own")
		}
	})

	t.Run("nobody", func(t *testing.T) {
		doc := render(t, TeenSupervision(TeenSupervisionProps{Page: page(teen, "/teen/supervision"), Age: 14}))
		empty := doc.Find(".empty-state")
		if !strings.Contains(text(empty), "Nobody supervises you") || attr(empty.Find(`a[href="/teen/invite"]`), "href") == "" {
			t.Errorf("empty state = %q", text(empty))
		}
	})
}

func TestTeenActivity(t *testing.T) {
	t.Parallel()
	doc := render(t, TeenActivity(TeenActivityProps{Page: teenPage("/teen/activity"), Items: sampleActivity(), Pagination: Pagination{Page: 1, Pages: 3, BaseURL: "/teen/activity"}}))
	if got := text(doc.Find(`main a[href="/teen/activity.json"]`)); got != "Download all as JSON" {
		t.Errorf("download link = %q", got)
	}
	times := doc.Find("ol.activity time")
	if times.Length() != 2 || attr(times.Eq(0), "datetime") <= attr(times.Eq(1), "datetime") {
		t.Error("activity is not in the given (newest first) order")
	}
	pager := doc.Find("nav.pager")
	if pager.Find(`a[rel="prev"]`).Length() != 0 || attr(pager.Find(`a[rel="next"]`), "href") != "/teen/activity?page=2" || text(pager.Find(".pager-status")) != "Page 1 of 3" {
		t.Errorf("pager = %q", text(pager))
	}
	empty := render(t, TeenActivity(TeenActivityProps{Page: page(teen, "/teen/activity"), Pagination: Pagination{Page: 1, Pages: 1, BaseURL: "/teen/activity"}}))
	if empty.Find(".empty-state").Length() != 1 || empty.Find("nav.pager").Length() != 0 {
		t.Error("empty activity has no empty state, or a pager")
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		p          Pagination
		prev, next string
	}{
		{Pagination{Page: 1, Pages: 1, BaseURL: "/x"}, "-", "-"},
		{Pagination{Page: 3, Pages: 3, BaseURL: "/x?kind=a"}, "/x?kind=a&page=2", ""},
		{Pagination{Page: 2, Pages: 3, BaseURL: "/x"}, "/x?page=1", "/x?page=3"},
	} {
		doc := render(t, TeenActivity(TeenActivityProps{Page: page(teen, "/teen/activity"), Items: sampleActivity(), Pagination: c.p}))
		pager := doc.Find("nav.pager")
		if c.prev == "-" {
			if pager.Length() != 0 {
				t.Errorf("%+v: pager shown for one page", c.p)
			}
			continue
		}
		if attr(pager, "aria-label") == "" {
			t.Errorf("%+v: pager has no label", c.p)
		}
		if got := attr(pager.Find(`a[rel="prev"]`), "href"); got != c.prev {
			t.Errorf("%+v: prev = %q, want %q", c.p, got, c.prev)
		}
		if got := attr(pager.Find(`a[rel="next"]`), "href"); got != c.next {
			t.Errorf("%+v: next = %q, want %q", c.p, got, c.next)
		}
	}
}

func TestTeenHelp(t *testing.T) {
	t.Parallel()
	doc := render(t, TeenHelp(TeenHelpProps{Page: teenPage("/teen/help")}))
	main := text(doc.Find("main"))
	for _, want := range []string{
		"call your local emergency number", "isn't your parent or guardian",
		"adult you trust", "Childline", "988 Suicide & Crisis Lifeline", "Kids Help Phone", "Kids Helpline",
		"your guardians can't see it",
	} {
		if !strings.Contains(main, want) {
			t.Errorf("help page lacks %q", want)
		}
	}
	for _, href := range []string{"tel:08001111", "tel:988", "sms:988", "tel:+18006686868", "sms:686868", "tel:1800551800", "https://findahelpline.com", "/teen/supervision"} {
		if doc.Find(`main a[href="`+href+`"]`).Length() == 0 {
			t.Errorf("no link to %s", href)
		}
	}
}

func TestNotifications(t *testing.T) {
	t.Parallel()
	doc := render(t, Notifications(sampleNotifications()))
	list := doc.Find("#notification-list")
	items := list.Find("li.notification")
	if items.Length() != 3 {
		t.Fatalf("%d items, want 3", items.Length())
	}
	unread := list.Find("li.notification--unread")
	if unread.Length() != 2 || text(unread.Eq(0).Find(".badge")) != "New" {
		t.Errorf("unread items = %d", unread.Length())
	}
	first := items.Eq(0)
	form := first.Find("form")
	if attr(form, "action") != "/notifications/3/read" || attr(form, "hx-post") != "/notifications/3/read" ||
		attr(form, "hx-target") != "closest li" || attr(form, "hx-swap") != "outerHTML" {
		t.Errorf("mark-read form: %v", form.Nodes[0].Attr)
	}
	if text(form.Find("button")) != "Mark read" || attr(form.Find("button"), "aria-describedby") != "notification-3-message" {
		t.Error("mark-read button is unnamed or not tied to its message")
	}
	if attr(first.Find("a"), "href") != "/teens/42#requests" {
		t.Error("notification does not link to its page")
	}
	if items.Eq(1).Find(".notification-message a").Length() != 0 || !strings.Contains(text(items.Eq(1)), "quiet hours") {
		t.Error("a non-local URL became a link")
	}
	if items.Eq(2).Find("form").Length() != 0 {
		t.Error("a read notification can be marked read")
	}
	if _, ok := first.Attr("autofocus"); ok {
		t.Error("items on the page take focus")
	}
	all := doc.Find(`form[action="/notifications/read-all"]`)
	if attr(all, "hx-post") != "/notifications/read-all" || attr(all, "hx-target") != "#notification-list" || attr(all, "hx-swap") != "outerHTML" {
		t.Errorf("mark-all form: %v", all.Nodes)
	}
	if attr(doc.Find(`nav.pager a[rel="next"]`), "href") != "/notifications?page=2" {
		t.Error("no pager")
	}
	// On a later page, htmx asks for that page back, so the list it swaps
	// in matches the pager; the plain form still redirects.
	second := sampleNotifications()
	second.Pagination.Page = 2
	all = render(t, Notifications(second)).Find(`form[action="/notifications/read-all"]`)
	if got := attr(all, "hx-post"); got != "/notifications/read-all?page=2" {
		t.Errorf("mark-all on page 2 posts to %q, want /notifications/read-all?page=2", got)
	}

	none := render(t, Notifications(NotificationsProps{Page: page(guardian, "/notifications")}))
	if none.Find("#notification-list .empty-state").Length() != 1 || none.Find(`form[action="/notifications/read-all"]`).Length() != 0 {
		t.Error("empty notifications: no empty state, or a mark-all button")
	}
}

func TestNotificationFragments(t *testing.T) {
	t.Parallel()
	ctx := views.WithCSRFToken(context.Background(), testToken)

	doc, raw := renderFragment(t, ctx, NotificationItem(NotificationView{ID: 5, Message: "Hello <b>", URL: "/x", CreatedAt: testNow}))
	if strings.Contains(raw, "<html") || strings.Contains(raw, "<header") {
		t.Error("the item fragment renders the layout")
	}
	li := doc.Find("li#notification-5")
	if li.Length() != 1 || !li.HasClass("notification--unread") {
		t.Fatal("fragment is not the unread <li>")
	}
	form := li.Find(`form[hx-post="/notifications/5/read"]`)
	if form.Length() != 1 || attr(form, "hx-target") != "closest li" || attr(form, "action") != "/notifications/5/read" {
		t.Error("fragment has no hx-post form")
	}
	if attr(form.Find(`input[name="_csrf"]`), "value") != testToken {
		t.Error("fragment's form lacks the CSRF token from the context")
	}
	if li.Find("b").Length() != 0 {
		t.Error("message markup rendered")
	}

	doc, _ = renderFragment(t, ctx, NotificationItem(NotificationView{ID: 5, Message: "Hello", CreatedAt: testNow, Read: true}))
	li = doc.Find("li#notification-5")
	if _, ok := li.Attr("autofocus"); !ok || attr(li, "tabindex") != "-1" || li.Find("form").Length() != 0 {
		t.Error("the swapped-in read item does not take focus, or still has a form")
	}

	doc, _ = renderFragment(t, ctx, NotificationList(sampleNotifications().Items))
	list := doc.Find("body > #notification-list")
	if list.Length() != 1 || list.Find("li").Length() != 3 {
		t.Fatal("list fragment is not #notification-list with its items")
	}
	if list.Find("[autofocus]").Length() != 0 {
		t.Error("items in a list fragment take focus")
	}

	doc, _ = renderFragment(t, context.Background(), views.NotificationBellUpdate(4))
	bell := doc.Find("a#notification-bell")
	if attr(bell, "hx-swap-oob") != "true" || text(bell.Find(".visually-hidden")) != "4 unread notifications" {
		t.Errorf("bell update = %q", text(bell))
	}
}

func TestIDsAreEscapedInURLs(t *testing.T) {
	t.Parallel()
	if got := string(idURL("/requests/", int64(7), "/approve")); got != "/requests/7/approve" {
		t.Errorf("idURL = %q", got)
	}
	if got := string(idURL("/teen/invite/", escaped("A/B?C#D E"), "/accept")); got != "/teen/invite/A%2FB%3FC%23D%20E/accept" {
		t.Errorf("idURL = %q", got)
	}
	for u, ok := range map[string]bool{"/teens/1": true, "//evil.example": false, "https://x": false, "javascript:x": false, "/\\evil": false, "": false} {
		if _, got := localURL(u); got != ok {
			t.Errorf("localURL(%q) = %v", u, got)
		}
	}
	if expiresIn(testNow, testNow.Add(90*time.Second)) != "expires in 1 minute" || expiresIn(testNow, testNow) != "expired" ||
		expiresIn(testNow, testNow.Add(30*time.Second)) != "expires in under a minute" {
		t.Error("expiresIn words")
	}
}

// ---- Messages: DM rules ----

func sampleRules() RulesForm {
	return RulesForm{
		Audience: AudienceFriends, QuietEnabled: true, QuietStart: "21:30", QuietEnd: "07:00", QuietApprovedExempt: true,
		BlockAdultStrangers: true, MinSenderAccountAgeDays: "30",
		Approved: []ContactRow{{ID: "u_48213", Label: "Grandma"}, {ID: "coach.lee", Label: "Coach"}},
		Blocked:  []ContactRow{{ID: "spam:9917"}},
	}
}

func sampleMessages(viewer, mode string) MessagesProps {
	p := MessagesProps{
		Page: page(guardian, "/teens/42/messages"), TeenID: 42, DisplayName: "Maya", Age: 14,
		Viewer: viewer, Mode: mode, Version: 7, Rules: sampleRules(),
		UpdatedAt: testNow, UpdatedByName: "Sam", Action: "/teens/42/messages",
	}
	if viewer == MessagesViewerTeen {
		p.Page, p.Action = teenPage("/teen/messages"), "/teen/messages"
	}
	return p
}

func TestMessages(t *testing.T) {
	t.Parallel()

	values := func(s *goquery.Selection) []string {
		var out []string
		s.Each(func(_ int, in *goquery.Selection) { out = append(out, attr(in, "value")) })
		return out
	}

	t.Run("guardian_edit_renders_every_field", func(t *testing.T) {
		doc := render(t, Messages(sampleMessages(MessagesViewerGuardian, MessagesModeEdit)))
		if text(doc.Find("h1")) != "Maya's message rules" || attr(doc.Find(`.back-link a`), "href") != "/teens/42" {
			t.Errorf("h1 %q, back link %q", text(doc.Find("h1")), attr(doc.Find(".back-link a"), "href"))
		}
		if got := text(doc.Find(".rules-meta")); got != "Rules version 7 · last changed 27 Nov 2026, 21:30 by Sam" {
			t.Errorf("meta = %q", got)
		}
		form := doc.Find(`form[action="/teens/42/messages"]`)
		if form.Length() != 1 {
			t.Fatal("no rules form")
		}
		if v := form.Find(`input[type=hidden][name="version"]`); v.Length() != 1 || attr(v, "value") != "7" {
			t.Errorf("version input = %v", values(v))
		}
		legends := []string{}
		form.Find("fieldset > legend").Each(func(_ int, l *goquery.Selection) { legends = append(legends, text(l)) })
		if strings.Join(legends, "|") != "Who can message Maya|Quiet hours|Safety|Approved contacts|Blocked contacts" {
			t.Errorf("legends = %q", legends)
		}
		radios := form.Find(`input[type=radio][name="audience"]`)
		if got := strings.Join(values(radios), " "); got != "everyone friends approved nobody" {
			t.Errorf("audience values = %q", got)
		}
		if checked := form.Find(`input[name="audience"][checked]`); checked.Length() != 1 || attr(checked, "value") != "friends" {
			t.Errorf("checked audience = %v", values(checked))
		}
		labels := text(form.Find(".choice label"))
		for _, want := range []string{"Everyone", "Friends", "Only approved contacts", "Nobody"} {
			if !strings.Contains(labels, want) {
				t.Errorf("audience labels lack %q", want)
			}
		}
		if !strings.Contains(text(form.Find(".choice").Eq(1)), "message requests") || !strings.Contains(text(form.Find(".choice").Eq(3)), "DMs are off") {
			t.Error("audience choices are not described")
		}
		for name, checked := range map[string]bool{"quiet_enabled": true, "quiet_approved_exempt": true, "block_adult_strangers": true, "media_friends_only": false} {
			box := form.Find(`input[type=checkbox][name="` + name + `"]`)
			if box.Length() != 1 || attr(box, "value") != CheckedValue {
				t.Errorf("%s: %d boxes, value %q", name, box.Length(), attr(box, "value"))
			}
			if _, on := box.Attr("checked"); on != checked {
				t.Errorf("%s checked = %v, want %v", name, on, checked)
			}
		}
		if got := text(form.Find(`label[for="rules-block_adult_strangers"]`)); got != "Block adults Maya doesn't follow back" {
			t.Errorf("adult label = %q", got)
		}
		if got := text(form.Find(`label[for="rules-media_friends_only"]`)); got != "Only friends can send photos, videos and links" {
			t.Errorf("media label = %q", got)
		}
		for name, want := range map[string]string{"quiet_start": "21:30", "quiet_end": "07:00"} {
			in := form.Find(`input[name="` + name + `"]`)
			if attr(in, "type") != "time" || attr(in, "step") != "60" || attr(in, "value") != want {
				t.Errorf("%s = type %q step %q value %q", name, attr(in, "type"), attr(in, "step"), attr(in, "value"))
			}
		}
		if !strings.Contains(text(form.Find("#rules-quiet-hint")), "In Maya's time zone. A start later than the end runs over midnight") {
			t.Errorf("quiet hint = %q", text(form.Find("#rules-quiet-hint")))
		}
		if !strings.Contains(text(form), "held and delivered when they end") {
			t.Error("quiet hours do not say what happens to messages")
		}
		age := form.Find(`input[name="min_sender_account_age_days"]`)
		if attr(age, "type") != "number" || attr(age, "min") != "0" || attr(age, "max") != "3650" || attr(age, "value") != "30" {
			t.Errorf("min age input = %v", age.Nodes[0].Attr)
		}
		for name, want := range map[string]string{
			"approved_id": "u_48213 coach.lee  ", "approved_label": "Grandma Coach  ",
			"blocked_id": "spam:9917  ", "blocked_label": "  ",
		} {
			in := form.Find(`input[name="` + name + `"]`)
			if got := strings.Join(values(in), " "); got != want {
				t.Errorf("%s values = %q, want %q (existing rows plus 2 empty)", name, got, want)
			}
		}
		id := form.Find(`input[name="approved_id"]`).First()
		if attr(id, "maxlength") != "64" || attr(id, "pattern") == "" || attr(form.Find(`input[name="approved_label"]`).First(), "maxlength") != "64" {
			t.Error("contact inputs lack their limits")
		}
		if !strings.Contains(text(form), "Clear an ID to remove it") {
			t.Error("removing a contact is not explained")
		}
		buttons := form.Find("button[type=submit]")
		if buttons.Length() != 1 || attr(buttons, "name") != "action" || attr(buttons, "value") != "save" || text(buttons) != "Save rules" {
			t.Errorf("buttons = %q", text(buttons))
		}
		if form.Find(`[name="reason"]`).Length() != 0 {
			t.Error("a guardian is offered a request")
		}
		now := doc.Find(".rules-now")
		if !strings.Contains(text(now), "What the rules do now") || !strings.Contains(text(now), "Maya sees these rules and every change.") {
			t.Errorf("summary card = %q", text(now))
		}
		if now.Find(".rules-summary li").Length() != len(RulesSummary(sampleRules(), "Maya")) {
			t.Error("summary card does not list RulesSummary")
		}
		if doc.Find("[style]").Length() != 0 {
			t.Error("style attribute rendered")
		}
		if doc.Find("[autofocus]").Length() != 0 {
			t.Error("something takes focus without errors")
		}
	})

	t.Run("teen_16_edits_and_guardians_are_told", func(t *testing.T) {
		p := sampleMessages(MessagesViewerTeen, MessagesModeEdit)
		p.Age = 16
		doc := render(t, Messages(p))
		if text(doc.Find("h1")) != "My message rules" || doc.Find(".back-link").Length() != 0 {
			t.Errorf("h1 = %q", text(doc.Find("h1")))
		}
		if attr(doc.Find(`header nav a[aria-current="page"]`), "href") != "/teen/messages" {
			t.Error("My messages is not the current nav item")
		}
		form := doc.Find(`form[action="/teen/messages"]`)
		if text(form.Find("button[type=submit]")) != "Save rules" || !strings.Contains(text(form.Find(".rules-actions")), "Your guardians will be told") {
			t.Errorf("actions = %q", text(form.Find(".rules-actions")))
		}
		if got := text(form.Find("fieldset > legend").First()); got != "Who can message you" {
			t.Errorf("legend = %q", got)
		}
		if got := text(form.Find(`label[for="rules-block_adult_strangers"]`)); got != "Block adults you don't follow back" {
			t.Errorf("adult label = %q", got)
		}
		if !strings.Contains(text(doc.Find(".rules-summary")), "Adults you don't follow back are blocked.") {
			t.Error("summary is not in the second person for the teen")
		}
	})

	t.Run("tighten_shows_both_actions_and_the_loosenings", func(t *testing.T) {
		p := sampleMessages(MessagesViewerTeen, MessagesModeTighten)
		p.Rules.Audience = AudienceEveryone
		p.Loosenings = []string{"Who can message you: friends → everyone", "Quiet hours end at 08:00"}
		p.Reason = "Team chat"
		doc := render(t, Messages(p))
		form := doc.Find(`form[action="/teen/messages"]`)
		if !strings.Contains(text(form), "You can make your rules stricter yourself. To loosen them, ask your guardian.") {
			t.Error("tighten mode is not explained")
		}
		var got []string
		form.Find("button[type=submit]").Each(func(_ int, b *goquery.Selection) {
			got = append(got, attr(b, "name")+"="+attr(b, "value")+":"+text(b))
		})
		if strings.Join(got, "|") != "action=save:Save stricter rules|action=request:Ask my guardian" {
			t.Errorf("buttons = %q (save must come first: Enter submits it)", got)
		}
		req := doc.Find("section#rules-request")
		if req.Length() != 1 {
			t.Fatal("the request form is not shown open with loosenings")
		}
		items := req.Find(".change-list li")
		if items.Length() != 2 || text(items.Eq(0)) != "Who can message you: friends → everyone" {
			t.Errorf("loosenings = %q", text(items))
		}
		reason := req.Find(`textarea[name="reason"]`)
		if attr(reason, "maxlength") != "500" || text(reason) != "Team chat" {
			t.Errorf("reason maxlength %q, value %q", attr(reason, "maxlength"), text(reason))
		}
		if _, req := reason.Attr("required"); req {
			t.Error("reason is required")
		}
		notice := doc.Find(".rules-loosen-notice")
		if _, ok := notice.Attr("autofocus"); !ok || attr(notice.Find("a"), "href") != "#rules-request" {
			t.Error("unsaved loosenings are not announced at the top")
		}
		if !strings.Contains(text(doc.Find(".rules-now")), "Not saved") {
			t.Error("the summary of unsaved rules is not marked")
		}
	})

	t.Run("tighten_without_loosenings_collapses_the_request", func(t *testing.T) {
		doc := render(t, Messages(sampleMessages(MessagesViewerTeen, MessagesModeTighten)))
		d := doc.Find("details#rules-request")
		if d.Length() != 1 || text(d.Find("summary")) != "Ask for looser rules" {
			t.Fatal("no collapsed request form")
		}
		if _, open := d.Attr("open"); open {
			t.Error("request form open without loosenings")
		}
		if d.Find(`textarea[name="reason"]`).Length() != 1 || d.Find(`button[value="request"]`).Length() != 1 {
			t.Error("collapsed request lacks reason or button")
		}
		if doc.Find(".rules-loosen-notice").Length() != 0 {
			t.Error("loosenings notice without loosenings")
		}
	})

	t.Run("pending_and_time_limited", func(t *testing.T) {
		p := sampleMessages(MessagesViewerTeen, MessagesModeTighten)
		revert := testNow.Add(90 * time.Minute)
		p.RevertAt = &revert
		p.Pending = &RequestView{ID: 9, Kind: RequestLoosenPolicy, GuardianName: "Priya", CreatedAt: testNow, State: RequestPending,
			Changes: []string{"Who can message you: friends → everyone"}}
		doc := render(t, Messages(p))
		if !strings.Contains(text(doc.Find(".notice--info")), "These looser rules last until 23:00 on 27 Nov 2026, then go back") {
			t.Errorf("revert notice = %q", text(doc.Find(".notice--info")))
		}
		box := doc.Find(".rules-pending")
		if !strings.Contains(text(box), "Waiting for Priya") || !strings.Contains(text(box), "friends → everyone") {
			t.Errorf("pending = %q", text(box))
		}
		if box.Find(`form[action="/teen/requests/9/cancel"] button`).Length() != 1 {
			t.Error("no cancel form")
		}
		if doc.Find("#rules-request").Length() != 0 {
			t.Error("asked again while a request waits")
		}

		g := sampleMessages(MessagesViewerGuardian, MessagesModeEdit)
		g.Pending = p.Pending
		if attr(render(t, Messages(g)).Find("a.highlight-link"), "href") != "/teens/42#requests" {
			t.Error("guardian is not pointed at the waiting request")
		}
	})

	t.Run("errors_are_marked_and_linked", func(t *testing.T) {
		p := sampleMessages(MessagesViewerTeen, MessagesModeTighten)
		p.Rules.Approved = append(p.Rules.Approved, ContactRow{ID: "bad id!", Label: "x"})
		p.Errors = views.FieldErrors{
			FieldAudience: "Choose who can message you.", FieldQuietStart: "Enter a time like 21:30.", FieldQuietEnd: "Enter a time like 07:00.",
			FieldMinSenderAccountAgeDays: "Enter 0 to 3650.", FieldApproved: "“bad id!” isn't a user ID.", FieldBlocked: "Too many.",
			FieldReason: "Keep it to 500 characters.", "form": "Someone changed the rules first.",
		}
		doc := render(t, Messages(p))
		summary := doc.Find(".error-summary")
		if summary.Find("li").Length() != 8 || summary.Find("a").Length() != 7 {
			t.Fatalf("summary = %q", text(summary))
		}
		summary.Find("a").Each(func(_ int, a *goquery.Selection) {
			target := doc.Find(attr(a, "href"))
			if target.Length() != 1 {
				t.Errorf("summary link %s has no target", attr(a, "href"))
				return
			}
			if attr(target, "aria-invalid") != "true" {
				t.Errorf("%s is not aria-invalid", attr(a, "href"))
			}
			if !strings.Contains(attr(target, "aria-describedby"), "-error") {
				t.Errorf("%s is not described by its error (%q)", attr(a, "href"), attr(target, "aria-describedby"))
			}
		})
		if doc.Find(`input[name="audience"][aria-invalid="true"]`).Length() != 4 {
			t.Error("audience radios are not all invalid")
		}
		bad := doc.Find("#rules-approved")
		if attr(bad, "value") != "bad id!" || doc.Find(`input[name="approved_id"][aria-invalid="true"]`).Length() != 1 {
			t.Errorf("the bad approved row is not the one marked: %q", attr(bad, "value"))
		}
		if doc.Find(`input[name="blocked_id"][aria-invalid="true"]`).Length() != 1 || attr(doc.Find("#rules-blocked"), "name") != "blocked_id" {
			t.Error("a list error without a row to blame marks nothing")
		}
		if _, open := doc.Find("details#rules-request").Attr("open"); !open {
			t.Error("the request form stays collapsed around a reason error")
		}
		if doc.Find("[autofocus]").Length() != 1 {
			t.Error("more than one thing takes focus")
		}
	})

	t.Run("other_modes_are_read_only", func(t *testing.T) {
		doc := render(t, Messages(sampleMessages(MessagesViewerTeen, "view")))
		if _, ok := doc.Find("fieldset.rules-locked").Attr("disabled"); !ok {
			t.Error("rules are not disabled")
		}
		if doc.Find("button[type=submit]").Length() != 1 { // Sign out only
			t.Error("a read-only page offers to save")
		}
	})

	t.Run("rules_summary", func(t *testing.T) {
		for _, c := range []struct {
			r    RulesForm
			name string
			want []string
		}{
			{sampleRules(), "Maya", []string{
				"Friends can message Maya. Others go to message requests.",
				"Quiet hours 21:30–07:00 (approved contacts exempt).",
				"Adults Maya doesn't follow back are blocked.",
				"Messages from accounts newer than 30 days go to requests.",
				"Maya has 2 approved contacts and 1 blocked contact.",
			}},
			{RulesForm{Audience: AudienceNobody, QuietEnabled: true, QuietStart: "22:00", QuietEnd: "07:00", MediaFriendsOnly: true, MinSenderAccountAgeDays: "0",
				Blocked: []ContactRow{{ID: ""}}}, "you", []string{
				"DMs are off: nobody can message you.",
				"Quiet hours 22:00–07:00, for everyone.",
				"Photos, videos and links only from friends.",
			}},
			{RulesForm{Audience: AudienceApproved, Approved: []ContactRow{{ID: "a"}}, MinSenderAccountAgeDays: "1", BlockAdultStrangers: true}, "You", []string{
				"Only approved contacts can message you.",
				"Adults you don't follow back are blocked.",
				"Messages from accounts newer than 1 day go to requests.",
				"You have 1 approved contact.",
			}},
			{RulesForm{Audience: AudienceEveryone, MinSenderAccountAgeDays: "abc"}, "Leo", []string{"Anyone can message Leo."}},
		} {
			if got := RulesSummary(c.r, c.name); strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("RulesSummary(%+v, %q) =\n%q\nwant\n%q", c.r, c.name, got, c.want)
			}
		}
	})

	t.Run("guardian_teen_loosen_request_asks_how_long", func(t *testing.T) {
		p := sampleGuardianTeen()
		p.Requests[0].Kind, p.Requests[0].Title = RequestLoosenPolicy, "Looser message rules"
		p.Requests[0].Changes = []string{"Who can message Maya: friends → everyone"}
		doc := render(t, GuardianTeen(p))
		if attr(doc.Find(`.teen-head a[href="/teens/42/messages"]`), "href") == "" || text(doc.Find(`.teen-head a[href="/teens/42/messages"]`)) != "Messages" {
			t.Error("no Messages link in the teen's header")
		}
		req := doc.Find("#requests .request-card")
		if got := text(req.Find(".change-list li")); got != "Who can message Maya: friends → everyone" {
			t.Errorf("changes = %q", got)
		}
		sel := req.Find(`form[action="/requests/7/approve"] select[name="duration"]`)
		if sel.Length() != 1 {
			t.Fatal("no duration select on the approve form")
		}
		var opts []string
		sel.Find("option").Each(func(_ int, o *goquery.Selection) { opts = append(opts, attr(o, "value")+"="+text(o)) })
		if strings.Join(opts, "|") != "1h=For 1 hour|24h=For 1 day|=Until someone changes them" {
			t.Errorf("options = %q", opts)
		}
		if sel := sel.Find("option[selected]"); sel.Length() != 1 || attr(sel, "value") != "" {
			t.Error("'Until someone changes them' is not the default")
		}
		if req.Find(`form[action="/requests/7/decline"] select`).Length() != 0 {
			t.Error("declining asks how long")
		}
		plain := render(t, GuardianTeen(sampleGuardianTeen()))
		if plain.Find(`select[name="duration"]`).Length() != 0 {
			t.Error("an end-of-supervision request asks how long")
		}
	})

	t.Run("dashboard_shows_two_lines_and_the_link", func(t *testing.T) {
		p := sampleDashboard()
		p.Teens[0].RulesSummary = RulesSummary(sampleRules(), "Maya")
		doc := render(t, Dashboard(p))
		maya := doc.Find(".teen-card").Eq(0)
		lines := maya.Find(".teen-rules-list li")
		if lines.Length() != 2 || text(lines.Eq(0)) != "Friends can message Maya. Others go to message requests." {
			t.Errorf("summary lines = %q", text(lines))
		}
		link := maya.Find(`a[href="/teens/42/messages"]`)
		if !strings.HasPrefix(text(link), "Messages") {
			t.Errorf("messages link = %q", text(link))
		}
		if doc.Find(".teen-card").Eq(1).Find(".teen-rules").Length() != 0 {
			t.Error("a suspended teen shows rules")
		}
	})
}

func sampleStaffAccounts() StaffAccountsProps {
	at := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	locked := at.Add(15 * time.Minute)
	return StaffAccountsProps{Page: page(lead, "/staff/accounts"),
		Accounts: []StaffAccountView{
			{ID: 1, Name: "Jordan", Email: "support@example.com", Role: views.RoleLead, EnrolledAt: &at, RecoveryLeft: 9, Sessions: 1},
			{ID: 2, Name: "Alex", Email: "agent@example.com", Role: views.RoleStaff, EnrolledAt: &at, RecoveryLeft: 10, LockedUntil: &locked},
			{ID: 3, Name: "Nova", Email: "nova@example.com", Role: views.RoleStaff, DisabledAt: &at},
		},
		Events: []StaffAuditView{{At: at, Actor: "Jordan", Action: "Disabled the account", SubjectID: 3, SubjectEmail: "nova@example.com", Reason: "Left the team"}},
	}
}

func TestStaffAccounts_actionsFollowState(t *testing.T) {
	t.Parallel()
	s := sampleStaffAccounts()
	active := render(t, StaffAccount(StaffAccountProps{Page: s.Page, Account: s.Accounts[1]}))
	if active.Find(`form[action="/staff/accounts/2/disable"]`).Length() != 1 || active.Find(`form[action="/staff/accounts/2/enable"]`).Length() != 0 ||
		active.Find(`form[action="/staff/accounts/2/reset-second-factor"]`).Length() != 1 {
		t.Error("an active, enrolled account does not offer disable and reset (only)")
	}
	disabled := render(t, StaffAccount(StaffAccountProps{Page: s.Page, Account: s.Accounts[2]}))
	if disabled.Find(`form[action="/staff/accounts/3/enable"]`).Length() != 1 || disabled.Find(`form[action$="/disable"]`).Length() != 0 ||
		disabled.Find(`form[action$="/reset-second-factor"]`).Length() != 0 {
		t.Error("a disabled account without a second factor does not offer enable (only)")
	}
	own := render(t, StaffAccount(StaffAccountProps{Page: s.Page, Account: s.Accounts[0], Self: true}))
	if own.Find("main form").Length() != 0 {
		t.Error("a lead's own account offers actions")
	}
	list := render(t, StaffAccounts(s))
	if got := text(list.Find("tbody tr").Eq(1).Find(".account-factor")); !strings.Contains(got, "Locked") {
		t.Errorf("a locked second factor shows as %q", got)
	}
	if got := text(list.Find("tbody tr").Eq(2).Find(".account-status")); !strings.Contains(got, "Disabled") {
		t.Errorf("a disabled account shows as %q", got)
	}
}

func TestStaffCode_lockedHidesTheForm(t *testing.T) {
	t.Parallel()
	doc := render(t, StaffCode(StaffCodeProps{Page: page(nil, "/staff/login/code"), Email: "a@example.com", Error: "Too many wrong codes.", Locked: true}))
	if doc.Find(`form[action="/staff/login/code"]`).Length() != 0 || !strings.Contains(text(doc.Find(".form-alert")), "Too many") {
		t.Error("a locked code step still offers the form, or does not say why")
	}
	open := render(t, StaffCode(StaffCodeProps{Page: page(nil, "/staff/login/code"), Email: "a@example.com"}))
	in := open.Find(`form[action="/staff/login/code"] input[name="code"]`)
	if in.Length() != 1 || attr(in, "autocomplete") != "one-time-code" {
		t.Error("the code step has no one-time-code input")
	}
}
