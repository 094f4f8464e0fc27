package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web/webtest"
)

// fakeClock is the app's clock in these tests: TOTP codes are computed for
// its time, and moving it on replaces waiting.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 11, 27, 9, 0, 5, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Add(d time.Duration) { c.ns.Add(int64(d)) }

func createStaff(t *testing.T, app *webtest.App, email, name string, role models.Role) models.User {
	t.Helper()
	u, err := app.Store.CreateUser(bg, store.NewUser{Email: email, Name: name, Password: pw, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func totp(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := models.TOTPCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// passwordStep signs in with the password and returns the answer, which
// must send the browser to the code step.
func passwordStep(t *testing.T, b *webtest.Browser, email string) *webtest.Page {
	t.Helper()
	res := b.Submit(b.Get("/staff/login"), "form", map[string]string{"email": email, "password": pw})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/staff/login/code") {
		t.Fatalf("password step answered %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	return res
}

func TestStaffSignIn_EnrolThenCodes(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	app := webtest.New(t, webtest.Options{Now: clk.Now})
	createStaff(t, app, "agent@example.com", "Alex Agent", models.RoleStaff)

	b := app.Browser(t)
	// Asked for a staff page first, the person comes back to it at the end.
	if res := b.Get("/staff"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff/login?next=%2Fstaff" {
		t.Fatalf("anonymous /staff answered %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	login := b.Get("/staff/login?next=%2Fstaff")
	res := b.Submit(login, "form", map[string]string{"email": "agent@example.com", "password": pw})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/staff/login/code?next=%2Fstaff" {
		t.Fatalf("password step answered %d → %q", res.StatusCode, loc)
	}
	pendingCookie := b.Cookie("hearth_session")

	t.Run("the_password_alone_grants_nothing", func(t *testing.T) {
		for _, path := range []string{"/staff", "/staff/accounts", "/staff/accounts/1"} {
			res := b.Get(path)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff/login/code?next="+url.QueryEscape(path) {
				t.Errorf("GET %s before the second factor answered %d → %q", path, res.StatusCode, res.Header.Get("Location"))
			}
		}
		home := b.Get("/")
		if home.StatusCode != http.StatusOK || home.Doc.Find("form.signout").Length() != 0 || strings.Contains(home.Body, "Alex Agent") {
			t.Error("the public home treats a half-signed-in agent as signed in")
		}
		for _, path := range []string{"/notifications", "/teen"} {
			if res := b.Get(path); res.StatusCode == http.StatusOK {
				t.Errorf("GET %s answered 200 before the second factor", path)
			}
		}
		token, _ := home.Doc.Find(`meta[name="csrf-token"]`).Attr("content")
		for _, path := range []string{"/staff/logout", "/staff/accounts/1/disable", "/notifications/read-all"} {
			if res := b.Post(path, url.Values{"_csrf": {token}, "reason": {"x"}}); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("POST %s before the second factor answered %d, want 401", path, res.StatusCode)
			}
		}
	})

	enrol := b.Follow(b.Follow(res))
	if enrol.Request.URL.Path != "/staff/login/enrol" || enrol.StatusCode != http.StatusOK {
		t.Fatalf("code step of an agent without a second factor went to %s (%d), want enrolment", enrol.Request.URL.Path, enrol.StatusCode)
	}
	if enrol.Doc.Find(".qr svg").Length() != 1 {
		t.Error("the enrolment page has no QR code")
	}
	if cc := enrol.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the enrolment page, which shows a secret, has Cache-Control %q", cc)
	}
	secret := strings.ReplaceAll(enrol.Text("#totp-secret"), " ", "")
	if len(secret) != 32 {
		t.Fatalf("the key shown for typing in is %q", secret)
	}
	if again := b.Get("/staff/login/enrol"); strings.ReplaceAll(again.Text("#totp-secret"), " ", "") != secret {
		t.Error("reloading the enrolment page changed the key")
	}

	wrong := b.Submit(enrol, "form[action='/staff/login/enrol']", map[string]string{"code": totp(t, secret, clk.Now().Add(-3*time.Minute))})
	if wrong.StatusCode != http.StatusUnauthorized || wrong.Text(".form-alert") == "" {
		t.Fatalf("a wrong enrolment code answered %d %q", wrong.StatusCode, wrong.Text(".form-alert"))
	}
	done := b.Submit(enrol, "form[action='/staff/login/enrol']", map[string]string{"code": totp(t, secret, clk.Now())})
	if done.StatusCode != http.StatusOK || done.Text("h1") != "Save your recovery codes" {
		t.Fatalf("confirming enrolment answered %d %q", done.StatusCode, done.Text("h1"))
	}
	var recovery []string
	for _, n := range done.Doc.Find(".recovery-codes code").Nodes {
		recovery = append(recovery, strings.TrimSpace(n.FirstChild.Data))
	}
	if len(recovery) != models.RecoveryCodeCount {
		t.Fatalf("%d recovery codes shown, want %d", len(recovery), models.RecoveryCodeCount)
	}
	href, _ := done.Doc.Find("a[download]").Attr("href")
	if !strings.HasPrefix(href, "data:text/plain") || !strings.Contains(href, recovery[0]) {
		t.Errorf("the download link %q does not hold the codes", href)
	}
	if next, _ := done.Doc.Find(`a[href="/staff"]`).Attr("href"); next != "/staff" {
		t.Error("the recovery codes page does not lead on to /staff")
	}
	if done.Header.Get("Cache-Control") != "no-store" {
		t.Error("the recovery codes page may be cached")
	}
	if c := b.Cookie("hearth_session"); c == "" || c == pendingCookie {
		t.Fatal("the session ID did not change after the second factor")
	}
	if home := b.Get("/staff"); home.StatusCode != http.StatusOK || !strings.Contains(home.Body, "Support agent") {
		t.Fatalf("/staff after enrolment answered %d", home.StatusCode)
	}
	// The pending session is gone with its ID.
	stale := app.Browser(t)
	u, _ := url.Parse(app.HTTP.URL)
	stale.Client.Jar.SetCookies(u, []*http.Cookie{{Name: "hearth_session", Value: pendingCookie, Path: "/"}})
	if res := stale.Get("/staff/login/code"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff/login" {
		t.Errorf("the pre-second-factor cookie still works: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res := b.Get("/staff/login/enrol"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff" {
		t.Errorf("enrolment page for a signed-in agent: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}

	t.Run("later_sign_in_asks_for_a_code_and_refuses_replays", func(t *testing.T) {
		b := app.Browser(t)
		step := b.Follow(passwordStep(t, b, "agent@example.com"))
		if step.StatusCode != http.StatusOK || step.Text("h1") != "Enter your code" {
			t.Fatalf("code step answered %d %q", step.StatusCode, step.Text("h1"))
		}
		if b.Get("/staff/login/enrol").StatusCode != http.StatusSeeOther {
			t.Error("an enrolled agent can open enrolment again")
		}
		// The code that confirmed enrolment is spent for its window.
		replay := b.Submit(step, "form[action='/staff/login/code']", map[string]string{"code": totp(t, secret, clk.Now())})
		if replay.StatusCode != http.StatusUnauthorized || !strings.Contains(replay.Text(".form-alert"), "used already") {
			t.Fatalf("a replayed code answered %d %q", replay.StatusCode, replay.Text(".form-alert"))
		}
		clk.Add(models.TOTPPeriod)
		in := b.Submit(step, "form[action='/staff/login/code']", map[string]string{"code": totp(t, secret, clk.Now())})
		if in.StatusCode != http.StatusSeeOther || in.Header.Get("Location") != "/staff" {
			t.Fatalf("the next code answered %d → %q", in.StatusCode, in.Header.Get("Location"))
		}
		if b.Get("/staff").StatusCode != http.StatusOK {
			t.Fatal("not signed in after the code")
		}
	})

	t.Run("recovery_code_works_once_and_says_how_many_remain", func(t *testing.T) {
		b := app.Browser(t)
		step := b.Follow(passwordStep(t, b, "agent@example.com"))
		in := b.Submit(step, "form[action='/staff/login/code']", map[string]string{"code": strings.ToUpper(recovery[3])})
		if in.StatusCode != http.StatusSeeOther {
			t.Fatalf("a recovery code answered %d %q", in.StatusCode, in.Text(".form-alert"))
		}
		home := b.Follow(in)
		if flash := home.Text(".flash"); !strings.Contains(flash, "9 recovery codes left") {
			t.Errorf("flash after a recovery code = %q, want the 9 left", flash)
		}
		again := app.Browser(t)
		step = again.Follow(passwordStep(t, again, "agent@example.com"))
		if res := again.Submit(step, "form[action='/staff/login/code']", map[string]string{"code": recovery[3]}); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("a used recovery code answered %d", res.StatusCode)
		}
	})
}

func TestStaffSignIn_LockoutAfterWrongCodes(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	app := webtest.New(t, webtest.Options{Now: clk.Now})
	createStaff(t, app, "agent@example.com", "Alex Agent", models.RoleStaff)
	app.Browser(t).SignInStaff(t, "agent@example.com", pw)
	secret := app.StaffSecret("agent@example.com")
	clk.Add(time.Minute)

	b := app.Browser(t)
	step := b.Follow(passwordStep(t, b, "agent@example.com"))
	wrong := "000000"
	if wrong == totp(t, secret, clk.Now()) {
		wrong = "999999"
	}
	for i := 1; i < models.MaxCodeAttempts; i++ {
		if res := b.Submit(step, "form[action='/staff/login/code']", map[string]string{"code": wrong}); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong code %d answered %d", i, res.StatusCode)
		}
	}
	locked := b.Submit(step, "form[action='/staff/login/code']", map[string]string{"code": wrong})
	if locked.StatusCode != http.StatusTooManyRequests || !strings.Contains(locked.Text(".form-alert"), "Too many wrong codes") ||
		locked.Doc.Find("form[action='/staff/login/code']").Length() != 0 {
		t.Fatalf("after %d wrong codes: %d %q (form shown: %v)", models.MaxCodeAttempts, locked.StatusCode, locked.Text(".form-alert"),
			locked.Doc.Find("form[action='/staff/login/code']").Length() > 0)
	}
	if res := b.Submit(step, "form[action='/staff/login/code']", map[string]string{"code": totp(t, secret, clk.Now())}); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the right code during the lockout answered %d", res.StatusCode)
	}
	if page := b.Get("/staff/login/code"); page.Doc.Find("form[action='/staff/login/code']").Length() != 0 {
		t.Error("the code page offers the form during the lockout")
	}
	clk.Add(models.CodeLockout)
	// The pending session has ended meanwhile (10 minutes): start again.
	b = app.Browser(t)
	step = b.Follow(passwordStep(t, b, "agent@example.com"))
	if res := b.Submit(step, "form[action='/staff/login/code']", map[string]string{"code": totp(t, secret, clk.Now())}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the right code after the lockout answered %d %q", res.StatusCode, res.Text(".form-alert"))
	}
}

func TestStaffSignIn_PendingSessionEnds(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	app := webtest.New(t, webtest.Options{Now: clk.Now})
	createStaff(t, app, "agent@example.com", "Alex Agent", models.RoleStaff)
	app.Browser(t).SignInStaff(t, "agent@example.com", pw)
	secret := app.StaffSecret("agent@example.com")

	b := app.Browser(t)
	step := b.Follow(passwordStep(t, b, "agent@example.com"))
	clk.Add(11 * time.Minute)
	res := b.Submit(step, "form[action='/staff/login/code']", map[string]string{"code": totp(t, secret, clk.Now())})
	if res.StatusCode != http.StatusUnauthorized || b.Get("/staff").StatusCode == http.StatusOK {
		t.Fatalf("a code 11 minutes after the password answered %d; the code step must have ended", res.StatusCode)
	}
}

func TestStaffTimeouts(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	app := webtest.New(t, webtest.Options{Now: clk.Now})
	createStaff(t, app, "agent@example.com", "Alex Agent", models.RoleStaff)
	agent := app.Browser(t)
	agent.SignInStaff(t, "agent@example.com", pw)
	guardian := signUpAndConfirm(t, app, "pat@example.com")

	clk.Add(16 * time.Minute)
	if res := guardian.Get("/"); !strings.Contains(res.Body, "Pat Parent") {
		t.Fatal("a guardian was signed out after 16 idle minutes (limit 30)")
	}
	if res := agent.Get("/staff"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/staff/login") {
		t.Fatalf("a staff session survived 16 idle minutes: %d", res.StatusCode)
	}

	// Busy all day, a staff session still ends at 8 hours.
	clk.Add(time.Minute)
	agent.SignInStaff(t, "agent@example.com", pw)
	for worked := time.Duration(0); worked < 8*time.Hour-15*time.Minute; worked += 10 * time.Minute {
		clk.Add(10 * time.Minute)
		if res := agent.Get("/staff"); res.StatusCode != http.StatusOK {
			t.Fatalf("a busy staff session ended after %s", worked+10*time.Minute)
		}
	}
	clk.Add(10 * time.Minute)
	if res := agent.Get("/staff"); res.StatusCode == http.StatusOK {
		t.Fatal("a busy staff session outlived 8 hours")
	}
}

func TestStaffAccounts_LeadsManageStaff(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	w := newWorld(t, webtest.Options{Now: clk.Now})
	app := w.app
	lead := createStaff(t, app, "lead@example.com", "Lee Lead", models.RoleLead)
	agent := createStaff(t, app, "agent@example.com", "Alex Agent", models.RoleStaff)
	createStaff(t, app, "new@example.com", "Nova New", models.RoleStaff)
	lb, ab := app.Browser(t), app.Browser(t)
	lb.SignInStaff(t, "lead@example.com", pw)
	ab.SignInStaff(t, "agent@example.com", pw)
	agentPath := "/staff/accounts/" + itoa(agent.ID)

	t.Run("agents_get_403", func(t *testing.T) {
		if res := ab.Get("/staff/accounts"); res.StatusCode != http.StatusForbidden {
			t.Errorf("agent GET /staff/accounts: %d, want 403", res.StatusCode)
		}
		if res := ab.Get("/staff/accounts/" + itoa(lead.ID)); res.StatusCode != http.StatusForbidden {
			t.Errorf("agent GET a staff account: %d, want 403", res.StatusCode)
		}
		token := csrf(t, ab.Get("/staff"))
		for _, action := range []string{"disable", "enable", "reset-second-factor"} {
			res := ab.Post("/staff/accounts/"+itoa(lead.ID)+"/"+action, url.Values{"_csrf": {token}, "reason": {"I want to"}})
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("agent POST %s: %d, want 403", action, res.StatusCode)
			}
		}
		if ab.Get("/staff").Doc.Find(`header a[href="/staff/accounts"]`).Length() != 0 {
			t.Error("an agent's header offers Staff accounts")
		}
		if u, _ := app.Store.User(bg, lead.ID); u.Disabled() {
			t.Fatal("an agent disabled the lead")
		}
	})

	t.Run("list_shows_status_and_second_factor", func(t *testing.T) {
		list := lb.Get("/staff/accounts")
		if list.StatusCode != http.StatusOK {
			t.Fatalf("lead GET /staff/accounts: %d", list.StatusCode)
		}
		rows := list.Doc.Find("table tbody tr")
		if rows.Length() != 3 {
			t.Fatalf("%d rows, want 3 staff (no guardians)", rows.Length())
		}
		byName := map[string]string{}
		rows.Each(func(_ int, r *goquery.Selection) {
			byName[strings.TrimSpace(r.Find("th a").Text())] = strings.Join(strings.Fields(r.Find(".account-factor").Text()), " ")
		})
		if !strings.HasPrefix(byName["Alex Agent"], "Authenticator app") || !strings.HasPrefix(byName["Nova New"], "Not set up") {
			t.Errorf("second factor column = %v", byName)
		}
		if lb.Get("/staff").Doc.Find(`header a[href="/staff/accounts"]`).Length() != 1 {
			t.Error("a lead's header does not offer Staff accounts")
		}
	})

	t.Run("disable_needs_a_reason_and_ends_sessions_at_once", func(t *testing.T) {
		page := lb.Get(agentPath)
		empty := lb.Submit(page, "form[action$='/disable']", map[string]string{"reason": ""})
		if empty.StatusCode != http.StatusUnprocessableEntity || empty.Text(".field-error") == "" {
			t.Fatalf("disable without a reason answered %d %q", empty.StatusCode, empty.Text(".field-error"))
		}
		if ab.Get("/staff").StatusCode != http.StatusOK {
			t.Fatal("a refused disable ended the agent's session")
		}
		res := lb.Submit(page, "form[action$='/disable']", map[string]string{"reason": "Left the team"})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable answered %d", res.StatusCode)
		}
		after := lb.Follow(res)
		if !strings.Contains(after.Text(".flash"), "disabled") || !strings.Contains(after.Text(".account-status"), "Disabled") {
			t.Errorf("after disabling: flash %q, status %q", after.Text(".flash"), after.Text(".account-status"))
		}
		if !strings.Contains(after.Text(".staff-audit"), "Left the team") || !strings.Contains(after.Text(".staff-audit"), "Lee Lead") {
			t.Errorf("the account's history lacks the entry: %q", after.Text(".staff-audit"))
		}
		if res := ab.Get("/staff"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/staff/login") {
			t.Fatalf("the disabled agent's next request answered %d → %q", res.StatusCode, res.Header.Get("Location"))
		}
		if res := ab.Submit(ab.Get("/staff/login"), "form", map[string]string{"email": "agent@example.com", "password": pw}); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("a disabled agent's password answered %d", res.StatusCode)
		}
		again := lb.Get(agentPath)
		res = lb.Submit(again, "form[action$='/enable']", map[string]string{"reason": "Came back"})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("enable answered %d", res.StatusCode)
		}
		clk.Add(time.Minute)
		ab.SignInStaff(t, "agent@example.com", pw)
	})

	t.Run("reset_second_factor_makes_them_enrol_again", func(t *testing.T) {
		old := app.StaffSecret("agent@example.com")
		res := lb.Submit(lb.Get(agentPath), "form[action$='/reset-second-factor']", map[string]string{"reason": "Lost phone"})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("reset answered %d", res.StatusCode)
		}
		if ab.Get("/staff").StatusCode == http.StatusOK {
			t.Error("the agent's session survived the reset")
		}
		b := app.Browser(t)
		enrol := b.Follow(b.Follow(passwordStep(t, b, "agent@example.com")))
		if enrol.Request.URL.Path != "/staff/login/enrol" {
			t.Fatalf("after a reset the agent went to %s, want enrolment", enrol.Request.URL.Path)
		}
		if strings.ReplaceAll(enrol.Text("#totp-secret"), " ", "") == old {
			t.Error("the reset kept the old key")
		}
	})

	t.Run("a_lead_cannot_disable_themselves", func(t *testing.T) {
		own := lb.Get("/staff/accounts/" + itoa(lead.ID))
		if own.StatusCode != http.StatusOK || own.Doc.Find("form[action$='/disable']").Length() != 0 {
			t.Errorf("the lead's own page answered %d and offers disabling", own.StatusCode)
		}
		res := lb.Post("/staff/accounts/"+itoa(lead.ID)+"/disable", url.Values{"_csrf": {csrf(t, own)}, "reason": {"tired"}})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("a lead disabling themselves answered %d", res.StatusCode)
		}
		if lb.Get("/staff").StatusCode != http.StatusOK {
			t.Error("the lead lost their session")
		}
	})

	t.Run("guardians_are_not_staff_accounts", func(t *testing.T) {
		w.guardian("pat@example.com", "Pat Parent")
		g, _ := app.Store.UserByEmail(bg, "pat@example.com")
		if res := lb.Get("/staff/accounts/" + itoa(g.ID)); res.StatusCode != http.StatusNotFound {
			t.Errorf("a guardian's page under staff accounts: %d", res.StatusCode)
		}
		res := lb.Post("/staff/accounts/"+itoa(g.ID)+"/disable", url.Values{"_csrf": {csrf(t, lb.Get("/staff"))}, "reason": {"no"}})
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("disabling a guardian through staff accounts: %d", res.StatusCode)
		}
	})
}

// TestStaff_NoImpersonation walks every route as a signed-in lead and an
// agent: staff reach no guardian or teen page or action, and no request
// leaves them with anyone else's session, so nothing lets staff act as a
// user.
func TestStaff_NoImpersonation(t *testing.T) {
	t.Parallel()
	w := newWorld(t, webtest.Options{})
	app := w.app
	g := w.guardian("pat@example.com", "Pat Parent")
	w.accept(w.teen("tk_maya", "Maya", 14), w.invite(g, "Maya"))
	gu, _ := app.Store.UserByEmail(bg, "pat@example.com")
	createStaff(t, app, "lead@example.com", "Lee Lead", models.RoleLead)
	createStaff(t, app, "agent@example.com", "Alex Agent", models.RoleStaff)
	teen, err := app.Store.TeenByPlatformID(bg, w.client.ID, "tk_maya")
	if err != nil {
		t.Fatal(err)
	}
	before := map[int64]int64{}
	for _, uid := range []int64{gu.ID, teen.UserID} {
		before[uid], _ = app.Store.CountUserSessions(bg, uid)
	}

	for _, who := range []string{"lead@example.com", "agent@example.com"} {
		b := app.Browser(t)
		b.SignInStaff(t, who, pw)
		token := csrf(t, b.Get("/staff"))
		for _, r := range app.Server.Echo.Routes() {
			guard := app.Server.RouteGuards[r.Method+" "+r.Path]
			if r.Path == "/staff/logout" || r.Path == "/logout" || strings.HasPrefix(r.Path, "/api/") || r.Path == "/static/*" {
				continue
			}
			path := strings.NewReplacer(":id", itoa(teen.ID), ":token", "x", ":code", "x").Replace(r.Path)
			var res *webtest.Page
			if r.Method == http.MethodGet {
				res = b.Get(path)
			} else {
				res = b.Post(path, url.Values{"_csrf": {token}, "reason": {"checking"}, "confirm": {"yes"}})
			}
			if (guard == "guardian" || guard == "teen") && res.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %s %s (%s) answered %d, want 404", who, r.Method, r.Path, guard, res.StatusCode)
			}
			if strings.Contains(res.Body, "Pat Parent") && guard != "staff" {
				t.Errorf("%s: %s %s shows the guardian's account", who, r.Method, r.Path)
			}
			if home := b.Get("/staff"); home.StatusCode != http.StatusOK || home.Text(".account-email") != who {
				t.Fatalf("%s: after %s %s the browser is signed in as %q (%d)", who, r.Method, r.Path, home.Text(".account-email"), home.StatusCode)
			}
		}
	}
	for uid, n := range before {
		if after, _ := app.Store.CountUserSessions(bg, uid); after != n {
			t.Errorf("user %d had %d sessions before staff walked the routes and %d after", uid, n, after)
		}
	}
}

func csrf(t *testing.T, p *webtest.Page) string {
	t.Helper()
	tok, ok := p.Doc.Find(`meta[name="csrf-token"]`).Attr("content")
	if !ok || tok == "" {
		t.Fatalf("no CSRF token on %s", p.Request.URL.Path)
	}
	return tok
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
