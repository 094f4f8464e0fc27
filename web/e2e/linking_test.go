package e2e_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web/webtest"
)

// TestBrowser_InviteAcceptEnd is issue 3's path through two browsers, the
// way the two people use it: a guardian invites from the dashboard and
// reads the code off the page; a 16-year-old signs in through their
// messaging app's link, enters the code, reviews who is asking and accepts;
// both see the link and are told; the guardian marks a notification read
// in place (htmx); then the teen ends the supervision themselves and the
// guardian is told.
func TestBrowser_InviteAcceptEnd(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	const (
		gName, gEmail, gPass = "Priya Shah", "priya@example.com", "warm hearth evenings 7"
		teenName             = "Leo"
	)
	confirmedGuardian(t, app, gName, gEmail, gPass)
	// 16 years and 2 months ago: 16 whatever the day of the month.
	signin := teenSigninLinkBorn(t, app, "tk_leo", teenName, time.Now().AddDate(-16, -2, 0))

	g := newBrowser(t, app.HTTP.URL, desktop)
	signInGuardian(g, gEmail, gPass, gName)
	code, inviteURL := invite(g, teenName)
	g.snap("invitation-ready")

	// The teen first opens the link the guardian sent, before Hearth knows
	// them: the page shows the code and how to answer from the messaging
	// app, with no form that would only refuse them.
	if !strings.HasPrefix(inviteURL, app.HTTP.URL+"/i/") {
		t.Fatalf("invitation link %q is not a /i/ link on %s", inviteURL, app.HTTP.URL)
	}
	teen := newBrowser(t, app.HTTP.URL, desktop)
	if status := teen.open(inviteURL); status != http.StatusOK {
		t.Fatalf("the invitation link answered %d to a visitor", status)
	}
	if got := teen.text("main .code-box .code-text"); got != code {
		t.Errorf("the invitation link shows the code %q to a visitor, want %q", got, code)
	}
	if teen.has("main form") || teen.state().Account != "" {
		t.Error("the invitation link offers a visitor a form, or signed them in")
	}
	if !strings.Contains(teen.text("main ol"), "Open Hearth from your messaging app") {
		t.Errorf("the invitation link does not send a visitor to the messaging app: %q", teen.text("main"))
	}
	teen.snap("invitation-link-visitor")

	signInTeen(teen, signin, teenName)
	if teen.has(".supervised-banner") {
		t.Fatalf("a teen nobody supervises sees the banner %q", teen.text(".supervised-banner"))
	}

	// The same link, opened by the signed-in teen, leads to the same review
	// page as the code. Only looking: it must not answer anything.
	if status := teen.open(inviteURL); status != http.StatusOK {
		t.Fatalf("the invitation link answered %d", status)
	}
	reviewPath := "/teen/invite/" + url.PathEscape(code)
	reviewHeading := gName + " wants to supervise your DMs"
	teen.expectPage(teen.state(), reviewPath, reviewHeading)

	// The code path: typed on /teen/invite, as the guardian read it out.
	enterCode(teen, code)
	teen.expectPage(teen.state(), reviewPath, reviewHeading)
	if got := teen.text(".inviter-name"); got != gName {
		t.Errorf("review page names the guardian %q, want %q", got, gName)
	}
	if got := teen.text(".inviter-email"); got != gEmail {
		t.Errorf("review page shows the guardian's email as %q, want %q", got, gEmail)
	}
	for _, want := range []string{"What " + gName + " would see", "What " + gName + " could control", "Never the text of your messages"} {
		if !strings.Contains(teen.text("main"), want) {
			t.Errorf("review page does not say %q", want)
		}
	}
	teen.snap("invitation-review")

	accept(teen, gName)
	mine := teen.state()
	teen.expectPage(mine, "/teen/supervision", "My supervision")
	if !mine.hasFlash(gName + " now supervises you") {
		t.Errorf("no acceptance flash; flashes: %q", mine.Flashes)
	}
	if got := teen.text(".supervised-title"); got != "Supervised by "+gName {
		t.Errorf("banner on My supervision = %q, want %q", got, "Supervised by "+gName)
	}
	if got := teen.texts(".guardian-card .guardian-name"); len(got) != 1 || got[0] != gName {
		t.Errorf("My supervision lists guardians %q, want just %q", got, gName)
	}
	if got := teen.text(".guardian-card .guardian-email"); got != gEmail {
		t.Errorf("My supervision shows the guardian's email as %q, want %q", got, gEmail)
	}
	teen.snap("teen-supervision")
	// Every teen page carries the banner, not only the one after accepting.
	teen.open("/teen/activity")
	if got := teen.text(".supervised-title"); got != "Supervised by "+gName {
		t.Errorf("banner on Activity = %q", got)
	}
	teen.open("/teen")
	teen.expectPage(teen.state(), "/teen", "Hi, "+teenName)
	if got := teen.text(".supervised-title"); got != "Supervised by "+gName {
		t.Errorf("banner on the teen's home = %q", got)
	}
	if n := teen.bellCount(); n < 1 {
		t.Errorf("the teen's bell shows %d unread after accepting, want at least 1", n)
	}
	teen.click("header #notification-bell")
	teen.expectPage(teen.state(), "/notifications", "Notifications")
	expectNotification(t, teen, gName+" now supervises you", true)

	// The guardian's side: the dashboard lists the teen, and the bell has news.
	g.open("/")
	g.expectPage(g.state(), "/", "Welcome, "+gName)
	if got := g.text(".teen-card h3"); got != teenName {
		t.Errorf("dashboard lists %q, want %q", got, teenName)
	}
	if got := g.text(".teen-card .teen-status"); !strings.HasPrefix(got, "Supervising since") {
		t.Errorf("dashboard shows %s as %q, want Supervising since …", teenName, got)
	}
	before := g.bellCount()
	if before < 1 {
		t.Fatalf("the guardian's bell shows %d unread after the teen accepted, want at least 1", before)
	}
	g.click("header #notification-bell")
	g.expectPage(g.state(), "/notifications", "Notifications")
	accepted := teenName + " accepted your invitation"
	expectNotification(t, g, accepted, true)
	g.snap("notifications")

	// Mark it read with the item's own button: htmx swaps the item and the
	// bell in place. A marker on window survives only if the page did not
	// reload, and the address must not change.
	g.eval("set a marker", `(window.__hearthMarker = "still here")`, new(string))
	item := notificationID(g, accepted)
	g.do("click Mark read", chromedp.Click(chromedp.CSS("#"+item+" .notification-action button[type=submit]")))
	g.waitFor("the notification shows as read", `document.querySelector("#`+item+`") && !document.querySelector("#`+item+`").classList.contains("notification--unread")`)
	if after := g.bellCount(); after != before-1 {
		t.Errorf("bell shows %d after marking one of %d read, want %d", after, before, before-1)
	}
	var page struct {
		Path   string `json:"path"`
		Marker string `json:"marker"`
	}
	g.eval("check the page stayed", `({path: location.pathname + location.search, marker: window.__hearthMarker || ""})`, &page)
	if page.Path != "/notifications" || page.Marker != "still here" {
		t.Errorf("marking read reloaded or left the page: now at %q, marker %q", page.Path, page.Marker)
	}
	expectNotification(t, g, accepted, false)
	if g.has("#" + item + " .notification-action") {
		t.Error("the read notification still offers Mark read")
	}

	// At 16 the teen ends it themselves, behind a disclosure and a tick.
	teen.open("/teen/supervision")
	if teen.has(`.guardian-end form[action$="/request-end"]`) {
		t.Error("a 16-year-old is offered to ask, not to end")
	}
	teen.do("open the end disclosure", chromedp.Click(chromedp.CSS(".guardian-end details.disclosure > summary")))
	teen.do("tick the confirmation", chromedp.Click(chromedp.CSS(`.guardian-end form[action$="/end"] input[name="confirm"]`)))
	teen.click(`.guardian-end form[action$="/end"] button[type=submit]`)
	ended := teen.state()
	teen.expectPage(ended, "/teen/supervision", "My supervision")
	if !ended.hasFlash("Supervision ended") {
		t.Errorf("no flash after ending; flashes: %q", ended.Flashes)
	}
	if teen.has(".supervised-banner") {
		t.Errorf("the banner still shows after ending: %q", teen.text(".supervised-banner"))
	}
	if teen.has(".guardian-card") {
		t.Errorf("My supervision still lists %q", teen.texts(".guardian-card .guardian-name"))
	}
	teen.open("/teen")
	if teen.has(".supervised-banner") {
		t.Error("the banner still shows on the teen's home after ending")
	}
	if got := teen.text("#status-title"); got != "Nobody supervises you" {
		t.Errorf("teen's home says %q after ending", got)
	}

	g.open("/notifications")
	expectNotification(t, g, teenName+" ended your supervision", true)
	g.open("/")
	if got := g.text(".teen-card .teen-status"); !strings.HasPrefix(got, "Ended") {
		t.Errorf("dashboard shows %s as %q after the teen ended it, want Ended …", teenName, got)
	}
	if g.has(".teen-card a.teen-card-link") {
		t.Error("the dashboard still links to the page of a teen the guardian no longer supervises")
	}
}

// TestBrowser_FourteenYearOldAsks checks the 13–15 rule in the browser: a
// 14-year-old can only ask to end supervision; asking leaves it on and
// shows that it waits; the guardian sees the request on the teen's page
// and approves; the teen is told and is no longer supervised.
func TestBrowser_FourteenYearOldAsks(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	const (
		gName, gEmail, gPass = "Sam Okafor", "sam@example.com", "kettle on the hob 42"
		teenName             = "Maya"
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

	teen.expectPage(teen.state(), "/teen/supervision", "My supervision")
	if teen.has(`.guardian-end form[action$="/end"]`) {
		t.Fatal("a 14-year-old is offered to end supervision at once")
	}
	summary := teen.text(".guardian-end details.disclosure > summary")
	if want := "Ask to end " + gName + "'s supervision"; summary != want {
		t.Errorf("the disclosure reads %q, want %q", summary, want)
	}
	teen.do("open the ask disclosure", chromedp.Click(chromedp.CSS(".guardian-end details.disclosure > summary")))
	teen.typeInto(`.guardian-end form[action$="/request-end"] textarea[name="reason"]`, "I'm fine on my own now.")
	teen.click(`.guardian-end form[action$="/request-end"] button[type=submit]`)
	asked := teen.state()
	teen.expectPage(asked, "/teen/supervision", "My supervision")
	if !asked.hasFlash("Request sent") {
		t.Errorf("no flash after asking; flashes: %q", asked.Flashes)
	}
	if got := teen.text(".request-sent-title"); !strings.Contains(got, "waiting for "+gName) {
		t.Errorf("after asking, the card says %q, want it waiting for %s", got, gName)
	}
	if got := teen.text(".supervised-title"); got != "Supervised by "+gName {
		t.Errorf("asking ended supervision at once: banner %q", got)
	}
	teen.snap("teen-supervision-asked")

	// The guardian is told, and answers on the teen's page.
	g.open("/")
	if got := g.text(".teen-card .teen-requests"); got != "1 request waiting for you" {
		t.Errorf("dashboard shows %q for the waiting request", got)
	}
	g.click(".teen-card .teen-requests")
	if s := g.state(); !strings.HasPrefix(s.Path, "/teens/") || s.Heading != teenName {
		t.Fatalf("the request link led to %s with heading %q, want /teens/… with %q", s.Path, s.Heading, teenName)
	}
	if got := g.text("#requests .request-card h3"); got != "End your supervision" {
		t.Errorf("the request is titled %q", got)
	}
	if got := g.text("#requests .quote blockquote"); got != "I'm fine on my own now." {
		t.Errorf("the request shows the reason %q", got)
	}
	g.snap("guardian-teen-request")
	// Approving ends the guardian's own supervision, so the teen's page is
	// no longer theirs: they land on the dashboard, which shows it ended.
	if status := g.click(`#requests form[action$="/approve"] button[type=submit]`); status != http.StatusOK {
		t.Errorf("approving answered %d (on %s, heading %q)", status, g.state().Path, g.state().Heading)
	}
	decided := g.state()
	g.expectPage(decided, "/", "Welcome, "+gName)
	if !decided.hasFlash("Request approved") {
		t.Errorf("no flash after approving; flashes %q", decided.Flashes)
	}
	if got := g.text(".teen-card .teen-status"); !strings.HasPrefix(got, "Ended") {
		t.Errorf("dashboard shows %s as %q after approving, want Ended …", teenName, got)
	}

	// The teen is told, and is no longer supervised.
	teen.open("/teen/supervision")
	if teen.has(".supervised-banner") {
		t.Errorf("still supervised after the guardian approved: %q", teen.text(".supervised-banner"))
	}
	if n := teen.bellCount(); n < 1 {
		t.Errorf("the teen's bell shows %d unread after the answer", n)
	}
	teen.open("/notifications")
	expectNotification(t, teen, gName+" agreed to end their supervision", true)
}

// confirmedGuardian creates a guardian whose email is already confirmed,
// as staff tooling would.
func confirmedGuardian(t *testing.T, app *webtest.App, name, email, password string) {
	t.Helper()
	if _, err := app.Store.CreateUser(t.Context(), store.NewUser{Name: name, Email: email, Password: password, Role: models.RoleGuardian}); err != nil {
		t.Fatal(err)
	}
}

// signInGuardian signs in through /login, typing into the form.
func signInGuardian(b *browser, email, password, name string) {
	b.t.Helper()
	b.open("/login")
	b.typeInto("#login-email", email)
	b.typeInto("#login-password", password)
	b.click(`main form[action="/login"] button[type=submit]`)
	b.expectPage(b.state(), "/", "Welcome, "+name)
}

// signInTeen opens a sign-in link from the messaging app and continues.
func signInTeen(b *browser, link, name string) {
	b.t.Helper()
	if status := b.open(link); status != http.StatusOK {
		b.t.Fatalf("the sign-in link answered %d", status)
	}
	b.click(`main form button[type=submit]`)
	b.expectPage(b.state(), "/teen", "Hi, "+name)
}

// invite makes an invitation from the dashboard for label and returns the
// code and link the page shows, after checking the QR code shows.
func invite(g *browser, label string) (code, link string) {
	g.t.Helper()
	g.open("/")
	g.click(`main a[href="/invitations/new"]`)
	g.expectPage(g.state(), "/invitations/new", "Invite your teen to Hearth")
	g.typeInto("#invite-label", label)
	if status := g.click(`main form[action="/invitations"] button[type=submit]`); status != http.StatusCreated {
		g.t.Fatalf("making the invitation answered %d", status)
	}
	g.expectPage(g.state(), "/invitations", "Give this code to "+label)
	code = g.text(".code-box .code-text")
	if len(strings.ReplaceAll(code, "-", "")) != 12 {
		g.t.Fatalf("invitation code %q: want 12 characters", code)
	}
	g.eval("read the invitation link", `document.querySelector("#invite-url").value`, &link)
	var qr struct {
		W     float64 `json:"w"`
		H     float64 `json:"h"`
		Parts int     `json:"parts"`
		Shown bool    `json:"shown"`
	}
	g.eval("measure the QR code", `(() => { const s = document.querySelector(".qr svg"); if (!s) return {};
		const r = s.getBoundingClientRect();
		return {w: r.width, h: r.height, parts: s.querySelectorAll("path, rect").length, shown: `+shownJS+`(s)}; })()`, &qr)
	if !qr.Shown || qr.W < 120 || qr.H < 120 || qr.Parts == 0 {
		g.t.Errorf("QR code is not visible as a drawn square of at least 120px: %+v", qr)
	}
	return code, link
}

// enterCode types code on /teen/invite and submits it.
func enterCode(b *browser, code string) {
	b.t.Helper()
	b.open("/teen/invite")
	b.expectPage(b.state(), "/teen/invite", "Enter an invitation code")
	b.typeInto("#invite-code", code)
	b.click(`main form[action="/teen/invite"] button[type=submit]`)
}

// accept ticks the review page's box and accepts.
func accept(b *browser, guardianName string) {
	b.t.Helper()
	b.do("tick the confirmation", chromedp.Click(chromedp.CSS(`form.decision-accept input[name="confirm"]`)))
	b.click(`form.decision-accept button[type=submit]`)
	if s := b.state(); s.Path != "/teen/supervision" {
		b.t.Fatalf("accepting %s's invitation led to %s (%q, flashes %q)", guardianName, s.Path, s.Heading, s.Flashes)
	}
}

// expectNotification fails the test unless the notifications page lists
// one containing msg, unread or read as said.
func expectNotification(t *testing.T, b *browser, msg string, unread bool) {
	t.Helper()
	var items []struct {
		Text   string `json:"text"`
		Unread bool   `json:"unread"`
	}
	b.eval("read the notifications", `[...document.querySelectorAll("#notification-list .notification")].map(e =>
		({text: e.querySelector(".notification-message").innerText.trim(), unread: e.classList.contains("notification--unread")}))`, &items)
	for _, it := range items {
		if strings.Contains(it.Text, msg) {
			if it.Unread != unread {
				t.Errorf("notification %q: unread %v, want %v", it.Text, it.Unread, unread)
			}
			return
		}
	}
	t.Errorf("no notification with %q; the list has %+v", msg, items)
}

// notificationID returns the element id of the notification containing msg.
func notificationID(b *browser, msg string) string {
	b.t.Helper()
	var id string
	b.eval("find the notification", `(msg => { const e = [...document.querySelectorAll("#notification-list .notification")].find(e => e.innerText.includes(msg)); return e ? e.id : ""; })(`+jsString(msg)+`)`, &id)
	if id == "" {
		b.t.Fatalf("no notification with %q", msg)
	}
	return id
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}
