package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web/webtest"
)

// TestBrowser_NotMyParent is issue 6's path through three browsers: a
// 14-year-old reports that the guardian supervising them is not their
// parent; a support agent pauses that supervision with a reason; a lead
// ends it and resolves the case; the teen and the guardian each see the
// outcome, and the guardian only ever in neutral words.
func TestBrowser_NotMyParent(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	const (
		gName, gEmail, gPass = "Pat Parent", "pat@example.com", "warm hearth evenings 7"
		teenName             = "Maya"
		description          = "I don't know who Pat is. He is not my dad."
	)
	confirmedGuardian(t, app, gName, gEmail, gPass)
	signin := teenSigninLinkBorn(t, app, "tk_maya", teenName, time.Now().AddDate(-14, -2, 0))

	g := newBrowser(t, app.HTTP.URL, desktop)
	signInGuardian(g, gEmail, gPass, gName)
	code, _ := invite(g, teenName)
	teen := newBrowser(t, app.HTTP.URL, desktop)
	signInTeen(teen, signin, teenName)
	enterCode(teen, code)
	accept(teen, gName)

	// The teen finds help and reports the problem.
	teen.open("/teen/help")
	teen.click(`main a[href="/teen/disputes/new"]`)
	teen.expectPage(teen.state(), "/teen/disputes/new", "Report a problem")
	if !strings.Contains(teen.text("main"), "don't paste private messages") {
		t.Error("the form does not ask not to paste private messages")
	}
	teen.do("choose the kind", chromedp.Click(chromedp.CSS(`#dispute-kind`)))
	var linkID string
	teen.eval("find the guardian's option", `document.querySelector('#dispute-link option[value]:not([value=""])').value`, &linkID)
	teen.do("choose the guardian", chromedp.SetValue(chromedp.CSS(`#dispute-link`), linkID))
	teen.typeInto("#dispute-description", description)
	teen.snap("dispute-new")
	teen.click(`main form button[type=submit]`)
	filed := teen.state()
	if !strings.HasPrefix(filed.Path, "/teen/disputes/") || filed.Heading != models.DisputeNotMyGuardian.Label() {
		t.Fatalf("after filing: %s %q", filed.Path, filed.Heading)
	}
	if !strings.Contains(teen.text(".thread"), description) {
		t.Errorf("the case page does not show what the teen wrote: %q", teen.text(".thread"))
	}
	teen.snap("dispute-filed")
	casePath := "/staff/disputes/" + strings.TrimPrefix(filed.Path, "/teen/disputes/")

	// An agent finds it in the queue and pauses the supervision.
	agent := newBrowser(t, app.HTTP.URL, desktop)
	signInStaff(t, app, agent, "agent@example.com", "Alex Agent", models.RoleStaff)
	if got := agent.text("main table tbody"); !strings.Contains(got, models.DisputeNotMyGuardian.Label()) || !strings.Contains(got, "Confidential") {
		t.Fatalf("the queue does not list the case: %q", got)
	}
	agent.snap("staff-queue")
	agent.click(`main table a[href="` + casePath + `"]`)
	agent.expectPage(agent.state(), casePath, models.DisputeNotMyGuardian.Label())
	if agent.has(`button[formaction$="/end"]`) {
		t.Error("an agent is offered to end the supervision")
	}
	agent.do("open the link's actions", chromedp.Click(chromedp.CSS(`.link-actions summary`)))
	agent.typeInto(`.link-actions textarea[name="reason"]`, "Teen says he is not her father; pausing while we check.")
	agent.click(`.link-actions form button[type=submit]:not([formaction])`)
	if s := agent.state(); s.Path != casePath || !s.hasFlash("Supervision paused") {
		t.Fatalf("after pausing: %s, flashes %q", s.Path, s.Flashes)
	}
	if got := agent.text(".case-links"); !strings.Contains(got, "Paused by support") {
		t.Errorf("the link is not shown paused: %q", got)
	}
	agent.snap("staff-case-paused")

	// The guardian is told neutrally and loses access.
	g.open("/notifications")
	expectNotification(t, g, "Hearth support paused your supervision of "+teenName, true)
	if strings.Contains(g.text("body"), "father") || strings.Contains(g.text("body"), "not my") {
		t.Error("the guardian's notifications leak the report")
	}

	// A lead, on the same support computer, ends it and resolves the case
	// with a note for the teen.
	agent.click(`header form.signout button[type=submit]`)
	lead := agent
	signInStaff(t, app, lead, "lead@example.com", "Lee Lead", models.RoleLead)
	lead.open(casePath)
	lead.do("open the link's actions", chromedp.Click(chromedp.CSS(`.link-actions summary`)))
	lead.typeInto(`.link-actions textarea[name="reason"]`, "School records confirm he is not her guardian.")
	lead.click(`.link-actions button[formaction$="/end"]`)
	if s := lead.state(); !s.hasFlash("Supervision ended") {
		t.Fatalf("after ending: %s, flashes %q", s.Path, s.Flashes)
	}
	lead.typeInto(`form[action$="/resolve"] textarea[name="reason"]`, "Pat no longer supervises you. Thank you for telling us.")
	lead.click(`form[action$="/resolve"] button[type=submit]:not([formaction])`)
	if got := lead.text(".case-outcome"); !strings.Contains(got, "Pat no longer supervises you.") {
		t.Errorf("the case does not show it closed: %q", got)
	}
	lead.snap("staff-case-resolved")

	// The teen sees the outcome, and is no longer supervised.
	teen.open("/notifications")
	expectNotification(t, teen, "Hearth support ended "+gName+"'s supervision", true)
	expectNotification(t, teen, "Your case was resolved", true)
	teen.open(filed.Path)
	if got := teen.text(".case-outcome"); !strings.Contains(got, "Pat no longer supervises you.") {
		t.Errorf("the teen does not see support's answer: %q", got)
	}
	if teen.has(".supervised-banner") {
		t.Errorf("the teen still sees a banner: %q", teen.text(".supervised-banner"))
	}
	teen.snap("dispute-resolved")

	// The guardian sees the outcome in neutral words, and nothing more.
	g.open("/")
	if got := g.text("main"); !strings.Contains(got, "Hearth support ended this supervision.") || strings.Contains(got, "father") ||
		strings.Contains(got, "guardian") && strings.Contains(got, "School records") {
		t.Errorf("the guardian's dashboard = %q", got)
	}
	g.snap("guardian-after")

	// The queue and the case page work on a phone: nothing scrolls
	// sideways but the wide tables inside their own scrolling box.
	lead.do("emulate a phone", phoneNarrow.emulate())
	for _, path := range []string{"/staff?status=all", casePath} {
		lead.open(path)
		if o := lead.measureOverflow(); !o.fits(phoneNarrow.width) {
			t.Errorf("%s scrolls sideways on a phone: %+v", path, o)
		}
	}
	lead.do("back to the desktop", desktop.emulate())
}

// signInStaff creates a support account and signs it in through
// /staff/login, typing into the form. Browser tests sign staff in only
// through it, so the sign-in steps live in one place.
func signInStaff(t *testing.T, app *webtest.App, b *browser, email, name string, role models.Role) {
	t.Helper()
	const password = "staff passphrase for tests"
	if _, err := app.Store.CreateUser(t.Context(), store.NewUser{Name: name, Email: email, Password: password, Role: role}); err != nil {
		t.Fatal(err)
	}
	// First sign-in: the password, then setting up the authenticator app
	// from the key on the page, as a person with the app would.
	staffPassword(b, email, password)
	b.expectPage(b.state(), "/staff/login/enrol", "Set up your authenticator app")
	secret := strings.ReplaceAll(b.text("#totp-secret"), " ", "")
	b.typeInto("#enrol-code", appCode(t, secret, time.Now()))
	b.click(`main form[action="/staff/login/enrol"] button[type=submit]`)
	b.expectPage(b.state(), "/staff/login/enrol", "Save your recovery codes")
	b.click(`main a[href="/staff"]`)
	b.expectPage(b.state(), "/staff", "Hello, "+name)
}
