package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web/webtest"
)

// homeHeading is the public home page's h1: what a signed-out visitor sees at "/".
const homeHeading = "Keep teens safe in their DMs, without reading a single message."

// TestBrowser_GuardianSignUpSignOutSignIn walks a new guardian through the
// pages as a person would: from the public home page to the sign-up form,
// the confirmation link from the email, the dashboard, signing out from the
// header and signing back in. No page may break the CSP or throw.
func TestBrowser_GuardianSignUpSignOutSignIn(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	b := newBrowser(t, app.HTTP.URL, desktop)
	const (
		name     = "Ada Lovelace"
		email    = "ada@example.com"
		password = "analytical engine 1843"
	)

	if status := b.open("/"); status != http.StatusOK {
		t.Fatalf("GET / answered %d", status)
	}
	home := b.state()
	b.expectPage(home, "/", homeHeading)
	if home.Account != "" || home.SignOut {
		t.Errorf("a visitor's header shows an account (%q) or a Sign out button", home.Account)
	}
	b.expectHTMX()
	b.expectHeaderControlsAligned()
	b.snap("home")

	// The header's "Create account" button leads to the form.
	b.click(`header a[href="/signup"]`)
	b.expectPage(b.state(), "/signup", "Create your guardian account")
	b.snap("signup")
	b.typeInto("#signup-name", name)
	b.typeInto("#signup-email", email)
	b.typeInto("#signup-password", password)
	if status := b.click(`main form[action="/signup"] button[type=submit]`); status != http.StatusOK {
		t.Fatalf("sign-up answered %d", status)
	}
	check := b.state()
	b.expectPage(check, "/signup", "Check your email")
	var shown string
	b.eval("read the address on the page", `document.querySelector("main .notice strong").innerText`, &shown)
	if shown != email {
		t.Errorf("check-email page names %q, want %q", shown, email)
	}
	b.snap("check-email")

	// The link is the one Hearth emailed, opened in the same browser.
	confirm := webtest.Link(t, app.Mail.Last(t, email), "/signup/confirm/")
	b.open(confirm)
	b.expectPage(b.state(), confirm, "Confirm your email")
	if status := b.click(`main form button[type=submit]`); status != http.StatusOK {
		t.Fatalf("confirming answered %d", status)
	}
	dash := b.state()
	b.expectPage(dash, "/", "Welcome, "+name)
	if dash.Account != name || dash.Role != "Guardian" || dash.Email != email || !dash.SignOut {
		t.Errorf("header after confirming shows name %q, badge %q, email %q, sign out %v; want %q, Guardian, %q, true",
			dash.Account, dash.Role, dash.Email, dash.SignOut, name, email)
	}
	if !dash.hasFlash("Your email address is confirmed") {
		t.Errorf("no confirmation flash on the dashboard; flashes: %q", dash.Flashes)
	}
	if !dash.HXHeaders {
		t.Error(`<body> has no hx-headers with the CSRF token: htmx requests of a signed-in guardian would be refused`)
	}
	var badgeClass string
	b.eval("read the badge's class", `document.querySelector(".account-name .badge").className`, &badgeClass)
	if !strings.Contains(badgeClass, "badge--guardian") {
		t.Errorf("role badge has class %q, want badge--guardian", badgeClass)
	}
	b.expectHTMX()
	b.expectFlashIconsCentred()
	b.expectHeaderControlsAligned()
	b.snap("dashboard")

	// Sign out with the header's button.
	if status := b.click("header form.signout button[type=submit]"); status != http.StatusOK {
		t.Fatalf("signing out answered %d", status)
	}
	out := b.state()
	b.expectPage(out, "/login", "Sign in")
	if !out.hasFlash("You're signed out.") {
		t.Errorf("no sign-out flash on /login; flashes: %q", out.Flashes)
	}
	if out.Account != "" || out.SignOut {
		t.Errorf("header still shows %q (sign out button: %v) after signing out", out.Account, out.SignOut)
	}
	b.expectFlashIconsCentred()
	// On a page built around one narrow card the flash is no wider than it.
	var widths struct{ Flashes, Card float64 }
	b.eval("measure the flashes", `({Flashes: document.querySelector("#flashes").getBoundingClientRect().width,
		Card: document.querySelector("main .auth-card").getBoundingClientRect().width})`, &widths)
	if widths.Flashes > widths.Card+0.5 {
		t.Errorf("on /login the flashes are %.0fpx wide, wider than the %.0fpx card", widths.Flashes, widths.Card)
	}
	b.snap("login")
	// The session is really gone, not just the header: the dashboard is
	// the public page again.
	b.open("/")
	if s := b.state(); s.Heading == "Welcome, "+name || s.Account != "" {
		t.Fatalf("after signing out, / still shows the dashboard (heading %q, account %q)", s.Heading, s.Account)
	}

	// Sign in again, typing into the form.
	b.open("/login")
	b.typeInto("#login-email", email)
	b.typeInto("#login-password", password)
	if status := b.click(`main form[action="/login"] button[type=submit]`); status != http.StatusOK {
		t.Fatalf("signing in answered %d", status)
	}
	again := b.state()
	b.expectPage(again, "/", "Welcome, "+name)
	if again.Account != name || again.Role != "Guardian" || !again.SignOut {
		t.Errorf("header after signing in shows %q, badge %q, sign out %v", again.Account, again.Role, again.SignOut)
	}
	if again.hasFlash("confirmed") || again.hasFlash("signed out") {
		t.Errorf("old flash messages shown again: %q", again.Flashes)
	}
	b.expectHTMX()
}

// TestBrowser_TeenSigninLink signs a teen in through a link the messaging
// service asked for: the link opens a page with one button (opening alone
// must not spend it), the button leads to the teen's home, and the same link
// then no longer works.
func TestBrowser_TeenSigninLink(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	b := newBrowser(t, app.HTTP.URL, desktop)
	link := teenSigninLink(t, app, "tk_maya", "Maya")

	if status := b.open(link); status != http.StatusOK {
		t.Fatalf("opening the sign-in link answered %d", status)
	}
	landing := b.state()
	b.expectPage(landing, pathOf(t, link), "Welcome to Hearth")
	if landing.Account != "" {
		t.Errorf("opening the link alone signed someone in: header shows %q", landing.Account)
	}
	b.expectHTMX()
	if status := b.click(`main form button[type=submit]`); status != http.StatusOK {
		t.Fatalf("Continue to Hearth answered %d", status)
	}
	home := b.state()
	b.expectPage(home, "/teen", "Hi, Maya")
	if home.Role != "Teen" || !home.SignOut {
		t.Errorf("teen's header shows badge %q, sign out %v; want Teen, true", home.Role, home.SignOut)
	}
	b.expectHTMX()
	b.snap("teen-home")

	// The teen reloading the link after signing in is simply home.
	b.open(link)
	b.expectPage(b.state(), "/teen", "Hi, Maya")

	// Anyone else opening the used link (a forwarded copy, say) is refused
	// with the page that says why and what to do.
	b = newBrowser(t, app.HTTP.URL, desktop)
	if status := b.open(link); status != http.StatusGone {
		t.Errorf("reopening a used link answered %d, want %d", status, http.StatusGone)
	}
	used := b.state()
	b.expectPage(used, pathOf(t, link), "This sign-in link was already used")
	if used.Title != "This link doesn't work · Hearth" {
		t.Errorf("used link page has title %q", used.Title)
	}
	var hasButton bool
	b.eval("look for a sign-in button", `!!document.querySelector("main form[action^='/t/signin/']")`, &hasButton)
	if hasButton {
		t.Error("the used-link page still offers a sign-in button")
	}
	b.snap("used-link")
}

// TestBrowser_PhoneLayout checks that at a 375×812 phone viewport nothing
// scrolls sideways and the header's links and buttons can be seen and tapped
// without scrolling, on the public pages, a guardian's dashboard and a
// teen's pages (teens arrive from a messaging app, so mostly on phones).
func TestBrowser_PhoneLayout(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	b := newBrowser(t, app.HTTP.URL, phoneNarrow)
	fits := func(what string) {
		t.Helper()
		if o := b.measureOverflow(); !o.fits(phoneNarrow.width) {
			t.Errorf("%s scrolls sideways at %dpx: scrollWidth %d, clientWidth %d, innerWidth %d; too wide: %q",
				what, phoneNarrow.width, o.ScrollWidth, o.ClientWidth, o.InnerWidth, o.Wide)
		}
	}
	shows := func(what, sel string) {
		t.Helper()
		if why := b.visibleProblem(sel); why != "" {
			t.Errorf("%s at %dpx: %s %s", what, phoneNarrow.width, sel, why)
		}
	}
	signIn, createAccount := `header a.nav-link[href="/login"]`, `header a.button[href="/signup"]`

	heroButtons := `main .hero .button-row .button`

	for _, p := range []struct {
		path, heading string
		status        int
		tap           []string // must be visible without scrolling
		absent        []string // must not be in the header at all
		shot          string   // screenshot name; pages the flows photograph have none
	}{
		{"/", homeHeading, http.StatusOK, []string{signIn, createAccount}, nil, ""},
		{"/login", "Sign in", http.StatusOK, []string{signIn, createAccount, `main form button[type=submit]`}, nil, ""},
		// Already on the sign-up form: the header does not offer it again.
		{"/signup", "Create your guardian account", http.StatusOK, []string{signIn}, []string{createAccount}, ""},
		// Staff sign in with their own form only: a minimal header.
		{"/staff/login", "Staff sign in", http.StatusOK, []string{`main form button[type=submit]`}, []string{"header nav", signIn, createAccount}, "staff-login"},
		{"/no-such-page", "Page not found", http.StatusNotFound, []string{signIn}, nil, "404"},
	} {
		if status := b.open(p.path); status != p.status {
			t.Errorf("GET %s answered %d, want %d", p.path, status, p.status)
		}
		b.expectPage(b.state(), p.path, p.heading)
		fits(p.path)
		for _, sel := range p.tap {
			shows(p.path, sel)
		}
		for _, sel := range p.absent {
			if b.has(sel) {
				t.Errorf("%s shows %s", p.path, sel)
			}
		}
		if p.path == "/" {
			// Stacked on a phone, the hero's buttons share one width.
			var widths []float64
			b.eval("measure the hero buttons", `[...document.querySelectorAll("`+heroButtons+`")].map(e => e.getBoundingClientRect().width)`, &widths)
			if len(widths) != 2 || widths[0] != widths[1] {
				t.Errorf("the hero's buttons are %v px wide on a phone, want two of one width", widths)
			}
		}
		if p.path == "/no-such-page" && b.has(".request-id") {
			t.Errorf("a 404 shows a support reference: %q", b.text(".request-id"))
		}
		if p.shot != "" {
			b.snap(p.shot)
		}
	}

	// A signed-in header holds more (name, badge, Sign out): the likeliest
	// thing to overflow on a phone.
	const email, password = "grace@example.com", "compiler pioneer 1952"
	guardian(t, app, "Grace Brewster Murray Hopper", email, password)
	b.open("/login")
	b.typeInto("#login-email", email)
	b.typeInto("#login-password", password)
	b.click(`main form[action="/login"] button[type=submit]`)
	b.expectPage(b.state(), "/", "Welcome, Grace Brewster Murray Hopper")
	fits("the dashboard")
	shows("the dashboard", "header .nav-link")
	shows("the dashboard", "header form.signout button[type=submit]")
	shows("the dashboard", ".account-name .badge")
	b.click("header form.signout button[type=submit]")
	b.expectPage(b.state(), "/login", "Sign in")

	link := teenSigninLink(t, app, "tk_maya", "Maya")
	b.open(link)
	fits("the teen sign-in page")
	shows("the teen sign-in page", "main form button[type=submit]")
	b.click("main form button[type=submit]")
	b.expectPage(b.state(), "/teen", "Hi, Maya")
	fits("the teen's home")
	shows("the teen's home", "header .nav-link")
	shows("the teen's home", "header form.signout button[type=submit]")

	// On the narrowest phones in use (320px) the teen's nav wraps rather
	// than cutting a link off at the edge.
	narrowest := viewport{name: "phone-320", width: 320, height: 640, phone: true}
	b.do("emulate a 320px phone", narrowest.emulate())
	if o := b.measureOverflow(); !o.fits(narrowest.width) {
		t.Errorf("the teen's home scrolls sideways at 320px: %+v", o)
	}
	if why := b.visibleProblem("header .nav-link"); why != "" {
		t.Errorf("the teen's nav at 320px: %s", why)
	}
	b.do("restore the phone viewport", phoneNarrow.emulate())

	// The probe itself must be able to fail: a 600px-wide box is overflow.
	b.eval("add a wide box", `(() => { const d = document.createElement("div"); d.style.width = "600px"; d.style.height = "1px"; document.querySelector("main").append(d); return true })()`, new(bool))
	if o := b.measureOverflow(); o.fits(phoneNarrow.width) {
		t.Errorf("the overflow probe missed a 600px-wide box: %+v", o)
	}
}

// TestBrowser_ConsoleWatcherCatchesProblems proves that the console watcher
// every browser test relies on does see what it guards against, on a page
// made to break: a CSP violation, a console.error and an uncaught exception.
// Without this a watcher that saw nothing would pass every test.
func TestBrowser_ConsoleWatcherCatchesProblems(t *testing.T) {
	t.Parallel()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'")
			fmt.Fprint(w, `<!DOCTYPE html><title>broken</title><h1>broken</h1>`+
				`<script>document.title = "inline ran"</script><script src="/boom.js"></script>`)
		case "/boom.js":
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, `console.error("htmx:targetError"); throw new Error("boom");`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(broken.Close)
	b := newBrowser(t, broken.URL, desktop)
	b.open("/")
	got := b.takeProblems() // taken, so the test's own check stays quiet
	for _, want := range []string{"Content Security Policy", "console.error: htmx:targetError", "uncaught exception", "boom"} {
		found := false
		for _, p := range got {
			found = found || strings.Contains(p, want)
		}
		if !found {
			t.Errorf("watcher missed %q; it saw %q", want, got)
		}
	}
	var title string
	b.eval("read the title", "document.title", &title)
	if title != "broken" {
		t.Errorf("the inline script ran (title %q): the CSP was not applied, so this test proves nothing", title)
	}
}

// guardian creates a confirmed guardian account directly in the store, for
// tests whose subject is not signing up.
func guardian(t *testing.T, app *webtest.App, name, email, password string) {
	t.Helper()
	res, err := app.Store.SignUpGuardian(t.Context(), store.NewUser{Name: name, Email: email, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Store.VerifyEmail(t.Context(), res.VerifyToken); err != nil {
		t.Fatal(err)
	}
}

// newApp starts a Hearth for the test.
func newApp(t *testing.T) *webtest.App {
	t.Helper()
	return webtest.New(t, webtest.Options{})
}

// teenSigninLink provisions a teen through the hook API, as the messaging
// service does, and returns a fresh sign-in link for them.
func teenSigninLink(t *testing.T, app *webtest.App, id, name string) string {
	t.Helper()
	// 14 years before now rather than a fixed month, so the teen stays
	// 13–17 (supervisable) whenever the test runs.
	return teenSigninLinkBorn(t, app, id, name, time.Now().AddDate(-14, 0, 0))
}

// teenSigninLinkBorn is teenSigninLink for a teen born in born's month.
// Each call registers its own service client, so a test may provision
// several teens.
func teenSigninLinkBorn(t *testing.T, app *webtest.App, id, name string, born time.Time) string {
	t.Helper()
	_, key, err := app.Store.CreateClient(t.Context(), store.NewClient{Name: "chat " + id})
	if err != nil {
		t.Fatal(err)
	}
	api := app.API(t, key)
	body := fmt.Sprintf(`{"display_name":%q,"birth_month":%q,"timezone":"Europe/London"}`, name, born.Format("2006-01"))
	if status, _, resp := api.Do(http.MethodPut, "/api/v1/teens/"+id, body); status != http.StatusCreated {
		t.Fatalf("provisioning %s: %d %s", id, status, resp)
	}
	status, _, resp := api.Do(http.MethodPost, "/api/v1/teens/"+id+"/signin-links", "")
	if status != http.StatusCreated {
		t.Fatalf("sign-in link for %s: %d %s", id, status, resp)
	}
	var l struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(resp), &l); err != nil {
		t.Fatalf("sign-in link answer %s: %v", resp, err)
	}
	if !strings.HasPrefix(l.URL, app.HTTP.URL+"/t/signin/") || time.Until(l.ExpiresAt) <= 0 {
		t.Fatalf("sign-in link %q expiring %s: not a usable link on %s", l.URL, l.ExpiresAt, app.HTTP.URL)
	}
	return l.URL
}
