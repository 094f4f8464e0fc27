package e2e_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web/webtest"
)

// supervise links the teen provisioned as teenID to the guardian with
// email, through an invitation the teen accepts, and returns the teen.
func supervise(t *testing.T, app *webtest.App, email, teenID string) (models.Teen, models.ServiceClient) {
	t.Helper()
	ctx := t.Context()
	g, err := app.Store.UserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := app.Store.Clients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		teen, err := app.Store.TeenByPlatformID(ctx, c.ID, teenID)
		if err != nil {
			continue
		}
		_, code, err := app.Store.CreateInvitation(ctx, models.Actor{UserID: g.ID, Role: models.RoleGuardian}, teen.DisplayName)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.Store.AcceptInvitation(ctx, models.Actor{UserID: teen.UserID, Role: models.RoleTeen}, code); err != nil {
			t.Fatal(err)
		}
		return teen, c
	}
	t.Fatalf("no teen %s", teenID)
	return models.Teen{}, models.ServiceClient{}
}

// TestBrowser_AlertInbox is a guardian working through their alerts the
// way a person does: the dashboard says there are unread ones; the inbox
// is filtered down to grooming; the alert is acknowledged in place (htmx,
// no reload) and the nav's count follows; the stranger is blocked with one
// button; the teen's page shows the 8-week chart. Then the teen reads the
// same alerts in their own words.
func TestBrowser_AlertInbox(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	const gName, gEmail, gPass = "Priya Shah", "priya@example.com", "warm hearth evenings 7"
	confirmedGuardian(t, app, gName, gEmail, gPass)
	signin := teenSigninLinkBorn(t, app, "tk_maya", "Maya", time.Now().AddDate(-14, -2, 0))
	maya, client := supervise(t, app, gEmail, "tk_maya")

	now := time.Now().UTC()
	ev := func(i int, other string, cat models.Category, sev models.Severity, act models.Action, ago time.Duration, n int) store.SeedAlert {
		return store.SeedAlert{Occurrences: n, Event: models.Event{ID: fmt.Sprintf("evt_%d", i), TeenID: "tk_maya", CounterpartID: other,
			Direction: models.DirectionInbound, Category: cat, Severity: sev, ActionTaken: act, OccurredAt: now.Add(-ago)}}
	}
	seeded := []store.SeedAlert{
		ev(1, "u_promo", models.CategorySpam, models.SeverityLow, models.ActionMessageHeld, 40*24*time.Hour, 1),
		ev(2, "u_9", models.CategoryBullying, models.SeverityMedium, models.ActionMessageBlocked, 20*24*time.Hour, 1),
		ev(3, "u_friend_jo", models.CategorySelfHarm, models.SeverityMedium, models.ActionNone, 9*24*time.Hour, 1),
		ev(4, "u_promo", models.CategorySpam, models.SeverityLow, models.ActionMessageBlocked, 5*24*time.Hour, 4),
		ev(5, "u_9", models.CategoryBullying, models.SeverityHigh, models.ActionMessageBlocked, 26*time.Hour, 3),
		ev(6, "u_stranger9", models.CategoryGrooming, models.SeverityHigh, models.ActionSenderSuspended, 2*time.Hour, 1),
	}
	ids, err := app.Store.SeedAlerts(t.Context(), client.ID, seeded)
	if err != nil {
		t.Fatal(err)
	}
	groom := "#alert-" + strconv.FormatInt(ids[5], 10)

	g := newBrowser(t, app.HTTP.URL, desktop)
	signInGuardian(g, gEmail, gPass, gName)
	if got := g.text(".teen-alerts"); !strings.Contains(got, "6 unread alerts") {
		t.Errorf("the dashboard's teen card says %q, want 6 unread alerts", got)
	}
	if got := g.text("#nav-alerts .nav-count"); got != "6" {
		t.Errorf("the nav's Alerts count is %q, want 6", got)
	}
	g.snap("alerts-dashboard")

	g.click(`#nav-alerts`)
	g.expectPage(g.state(), "/alerts", "Alerts")
	g.expectHTMX()
	if got := g.texts("li.alert-item"); len(got) != 6 {
		t.Fatalf("the inbox lists %d alerts, want 6", len(got))
	}
	if got := g.text("li.alert-item .alert-sentence"); !strings.Contains(got, "u_stranger9") {
		t.Errorf("the newest alert is %q, want the grooming one", got)
	}
	if got := g.text(`li.alert-item .alert-meta time`); got != "2 hours ago" {
		t.Errorf("the newest alert's time reads %q", got)
	}
	if !strings.Contains(g.text("#guidance-self_harm"), "988") {
		t.Error("the self-harm guidance with crisis lines is not shown open")
	}
	g.snap("alerts-inbox")

	// Filter down to grooming with the GET form.
	g.do("choose grooming", chromedp.SetValue(chromedp.CSS("#filter-category"), "grooming"))
	g.click(`form.alert-filters button[type=submit]`)
	if s := g.state(); s.Path != "/alerts" {
		t.Fatalf("filtering led to %s", s.Path)
	}
	var search string
	g.eval("read the query", `location.search`, &search)
	if !strings.Contains(search, "category=grooming") {
		t.Errorf("the filter is not in the address: %q", search)
	}
	if got := g.texts("li.alert-item"); len(got) != 1 || !strings.Contains(got[0], "Grooming") {
		t.Fatalf("filtered to grooming: %q", got)
	}

	// Acknowledge in place: htmx swaps the alert, the page stays.
	var marked bool
	g.eval("mark the page", `window.notReloaded = true`, &marked)
	g.do("acknowledge", chromedp.Click(chromedp.CSS(groom+` form[action$="/read"] button`)))
	g.waitFor("the alert shows as read", `document.querySelector("`+groom+`") && !document.querySelector("`+groom+`").classList.contains("alert-item--unread")`)
	var still bool
	g.eval("check for a reload", `window.notReloaded === true`, &still)
	if !still {
		t.Error("acknowledging reloaded the page instead of swapping the alert")
	}
	if got := g.text("#nav-alerts .nav-count"); got != "5" {
		t.Errorf("the nav count after acknowledging is %q, want 5", got)
	}
	if g.has(groom + ` form[action$="/read"]`) {
		t.Error("the acknowledged alert still offers Acknowledge")
	}
	g.snap("alerts-acknowledged")

	// Block the stranger with one button.
	g.click(groom + ` form[action$="/block"] button`)
	s := g.state()
	if !s.hasFlash("u_stranger9 is now blocked") {
		t.Errorf("after blocking: flashes %q", s.Flashes)
	}
	g.snap("alerts-blocked")
	g.open("/teens/" + strconv.FormatInt(maya.ID, 10) + "/messages")
	var blocked []string
	g.eval("read the blocked list", `[...document.querySelectorAll("input[name=blocked_id]")].map(e => e.value)`, &blocked)
	if !strings.Contains(strings.Join(blocked, " "), "u_stranger9") {
		t.Errorf("Maya's blocked contacts are %q", blocked)
	}

	// The teen's page with its chart.
	g.open("/teens/" + strconv.FormatInt(maya.ID, 10) + "/alerts")
	if !g.has("svg.chart[role=img]") {
		t.Fatal("no chart on Maya's alerts page")
	}
	var bars int
	g.eval("count the bars", `document.querySelectorAll("svg.chart rect.chart-seg").length`, &bars)
	if bars < 4 {
		t.Errorf("the chart draws %d bar parts, want one per week and category with alerts (at least 4)", bars)
	}
	g.snap("alerts-teen-chart")
	g.checkConsole()

	// The teen reads the same alerts.
	tb := newBrowser(t, app.HTTP.URL, desktop)
	signInTeen(tb, signin, "Maya")
	tb.click(`#what-guardians-see a[href="/teen/alerts"]`)
	tb.expectPage(tb.state(), "/teen/alerts", "What your guardians were told")
	receipts := tb.texts(".alert-sentence")
	if len(receipts) != 6 || !strings.HasPrefix(receipts[0], "Your guardians were told that u_stranger9's account was suspended after a message to you from u_stranger9") {
		t.Errorf("the teen's receipts: %q", receipts)
	}
	if tb.has(".guidance") || tb.has("form") && tb.has(`form[action$="/read"]`) {
		t.Error("the teen sees the guardians' guidance or actions")
	}
	tb.snap("alerts-teen-receipts")
	tb.click(`nav a[href="/teen/activity"]`)
	if got := tb.text("#activity-alerts-title"); got == "" {
		t.Error("the teen's activity log has no alerts section")
	}
	tb.snap("alerts-teen-activity")
	tb.checkConsole()
}
