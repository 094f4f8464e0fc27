package handlers_test

import (
	"fmt"

	"github.com/PuerkitoBio/goquery"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web/webtest"
)

// world is a small cast for linking tests: one service client and helpers
// to sign people in through the real pages.
type world struct {
	t      *testing.T
	app    *webtest.App
	api    *webtest.API
	client models.ServiceClient
}

func newWorld(t *testing.T, opts webtest.Options) *world {
	t.Helper()
	app := webtest.New(t, opts)
	c, key, err := app.Store.CreateClient(bg, store.NewClient{Name: "chat"})
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, app: app, api: app.API(t, key), client: c}
}

// guardian creates a confirmed guardian and returns their signed-in browser.
func (w *world) guardian(email, name string) *webtest.Browser {
	w.t.Helper()
	if _, err := w.app.Store.CreateUser(bg, store.NewUser{Email: email, Name: name, Password: pw, Role: models.RoleGuardian}); err != nil {
		w.t.Fatal(err)
	}
	b := w.app.Browser(w.t)
	res := b.Submit(b.Get("/login"), "form[action='/login']", map[string]string{"email": email, "password": pw})
	if res.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("guardian sign-in: %d", res.StatusCode)
	}
	return b
}

// teen provisions a teen of the given age and returns their signed-in browser.
func (w *world) teen(id, name string, age int) *webtest.Browser {
	w.t.Helper()
	now := w.app.Store.Now()
	born := time.Date(now.Year()-age, now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -2, 0).Format("2006-01")
	if s, _, body := w.api.Do("PUT", "/api/v1/teens/"+id, fmt.Sprintf(`{"display_name":%q,"birth_month":%q,"timezone":"Europe/London"}`, name, born)); s >= 300 {
		w.t.Fatalf("provision %s: %d %s", id, s, body)
	}
	tok, _, err := w.app.Store.CreateSigninLink(bg, w.client.ID, id)
	if err != nil {
		w.t.Fatal(err)
	}
	b := w.app.Browser(w.t)
	if res := b.Submit(b.Get("/t/signin/"+tok), "form", nil); res.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("teen sign-in: %d", res.StatusCode)
	}
	return b
}

// invite makes an invitation through the guardian's pages and returns its code.
func (w *world) invite(g *webtest.Browser, label string) string {
	w.t.Helper()
	res := g.Submit(g.Get("/invitations/new"), "form[action='/invitations']", map[string]string{"label": label})
	if res.StatusCode != http.StatusCreated {
		w.t.Fatalf("create invitation: %d", res.StatusCode)
	}
	code := strings.TrimSpace(res.Doc.Find("[data-invite-code]").First().Text())
	if code == "" {
		code = strings.TrimSpace(res.Doc.Find(".code-text").First().Text())
	}
	if len(strings.ReplaceAll(code, "-", "")) != 12 {
		w.t.Fatalf("no 12-character code on the invitation page: %q", code)
	}
	if res.Doc.Find("svg").Length() == 0 {
		w.t.Error("no QR code on the invitation page")
	}
	return code
}

// accept has the teen enter code, review and accept.
func (w *world) accept(teen *webtest.Browser, code string) *webtest.Page {
	w.t.Helper()
	review := teen.Follow(teen.Submit(teen.Get("/teen/invite"), "form[action='/teen/invite']", map[string]string{"code": strings.ToLower(code)}))
	if review.StatusCode != http.StatusOK {
		w.t.Fatalf("review page: %d", review.StatusCode)
	}
	return teen.Submit(review, "form[action$='/accept']", map[string]string{"confirm": "yes"})
}

func TestLinking_InviteAcceptAndSeeEachOther(t *testing.T) {
	t.Parallel()
	w := newWorld(t, webtest.Options{})
	g := w.guardian("pat@example.com", "Pat Parent")
	maya := w.teen("tk_maya", "Maya", 14)

	code := w.invite(g, "Maya")
	review := maya.Follow(maya.Submit(maya.Get("/teen/invite"), "form[action='/teen/invite']", map[string]string{"code": code}))
	if !strings.Contains(review.Body, "pat@example.com") || !strings.Contains(review.Body, "Pat Parent") {
		t.Fatal("the review page does not show who is inviting")
	}
	if !strings.Contains(strings.ToLower(review.Body), "never") {
		t.Error("the review page does not say message text is never shown")
	}
	unticked := maya.Submit(review, "form[action$='/accept']", nil)
	if unticked.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("accepting without ticking the box: %d", unticked.StatusCode)
	}
	if res := w.accept(maya, code); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d", res.StatusCode)
	}

	sup := maya.Get("/teen/supervision")
	if !strings.Contains(sup.Text(".supervised-banner, [data-supervised-by]"), "Pat Parent") && !strings.Contains(sup.Body, "Supervised by") {
		t.Error("the teen's pages do not say who supervises them")
	}
	if !strings.Contains(sup.Body, "pat@example.com") {
		t.Error("My supervision does not list the guardian")
	}
	dash := g.Get("/")
	if !strings.Contains(dash.Body, "Maya") {
		t.Fatal("the guardian's dashboard does not list Maya")
	}
	notes := g.Get("/notifications")
	if !strings.Contains(notes.Body, "accepted") {
		t.Error("the guardian was not told of the acceptance")
	}
	if len(w.app.Mail.Sent()) == 0 {
		t.Error("no email told the guardian")
	}
	activity := maya.Get("/teen/activity")
	if !strings.Contains(activity.Body, "accepted") {
		t.Error("the acceptance is not in the teen's activity log")
	}
	export := maya.Get("/teen/activity.json")
	if export.StatusCode != http.StatusOK || !strings.Contains(export.Header.Get("Content-Type"), "json") || !strings.Contains(export.Body, "invitation.accepted") {
		t.Errorf("activity export: %d %s", export.StatusCode, export.Header.Get("Content-Type"))
	}

	t.Run("used_code_is_refused", func(t *testing.T) {
		res := maya.Submit(maya.Get("/teen/invite"), "form[action='/teen/invite']", map[string]string{"code": code})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "already") {
			t.Fatalf("reused code: %d", res.StatusCode)
		}
	})
	t.Run("codes_are_for_teens", func(t *testing.T) {
		other := w.guardian("other@example.com", "Olive Other")
		if res := other.Get("/teen/invite"); res.StatusCode != http.StatusNotFound {
			t.Fatalf("a guardian opened the teen code page: %d", res.StatusCode)
		}
	})
	t.Run("other_guardian_gets_404", func(t *testing.T) {
		stranger := w.guardian("stranger@example.com", "Sam Stranger")
		teenID := firstTeenID(t, dash)
		for _, path := range []string{"/teens/" + teenID, "/teens/" + teenID + "/end"} {
			if res := stranger.Get(path); res.StatusCode != http.StatusNotFound {
				t.Errorf("%s for an unlinked guardian: %d", path, res.StatusCode)
			}
		}
		if res := stranger.Post("/teens/"+teenID+"/end", nil); res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
			t.Errorf("unlinked guardian ending the link: %d", res.StatusCode)
		}
	})
	t.Run("fourteen_year_old_cannot_end_at_once", func(t *testing.T) {
		teenID := teenIDOf(t, g)
		sup := maya.Get("/teen/supervision")
		if sup.Doc.Find("form[action$='/end']").Length() != 0 {
			t.Error("a 14-year-old is offered an immediate end")
		}
		linkForm := sup.Doc.Find("form[action$='/request-end']")
		if linkForm.Length() == 0 {
			t.Fatal("no request-to-end form for a 14-year-old")
		}
		action, _ := linkForm.Attr("action")
		endPath := strings.TrimSuffix(action, "/request-end") + "/end"
		res := maya.Submit(sup, "form[action$='/request-end']", map[string]string{"reason": "I'd like more privacy"})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("request: %d", res.StatusCode)
		}
		// Posting to the immediate end directly must not end supervision.
		maya.Post(endPath, nil)
		if g.Get("/teens/"+teenID).StatusCode != http.StatusOK {
			t.Fatal("a 14-year-old ended supervision without approval")
		}
		page := g.Get("/teens/" + teenID)
		if !strings.Contains(page.Doc.Text(), "I'd like more privacy") {
			t.Fatal("the guardian does not see the request and its reason")
		}
		approved := g.Submit(page, "form[action$='/approve']", nil)
		if approved.StatusCode != http.StatusSeeOther {
			t.Fatalf("approve: %d", approved.StatusCode)
		}
		if res := g.Get("/teens/" + teenID); res.StatusCode != http.StatusNotFound {
			t.Fatalf("after approval the guardian still has access: %d", res.StatusCode)
		}
	})
}

// firstTeenID finds the first /teens/{id} link on a dashboard.
func firstTeenID(t *testing.T, dash *webtest.Page) string {
	t.Helper()
	var id string
	dash.Doc.Find("a[href^='/teens/']").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		href, _ := s.Attr("href")
		rest := strings.TrimPrefix(href, "/teens/")
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[:i]
		}
		id = rest
		return id == ""
	})
	if id == "" {
		t.Fatal("no link to a teen on the dashboard")
	}
	return id
}

// teenIDOf reads the guardian's dashboard for their first teen's ID.
func teenIDOf(t *testing.T, g *webtest.Browser) string {
	t.Helper()
	return firstTeenID(t, g.Get("/"))
}

func TestLinking_SixteenEndsAtOnceAndGuardianIsTold(t *testing.T) {
	t.Parallel()
	w := newWorld(t, webtest.Options{})
	g := w.guardian("pat@example.com", "Pat Parent")
	leo := w.teen("tk_leo", "Leo", 16)
	w.accept(leo, w.invite(g, "Leo"))

	sup := leo.Get("/teen/supervision")
	if sup.Doc.Find("form[action$='/end']").Length() == 0 {
		t.Fatal("a 16-year-old is not offered to end supervision")
	}
	if res := leo.Submit(sup, "form[action$='/end']", map[string]string{"confirm": "yes"}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("end: %d", res.StatusCode)
	}
	if strings.Contains(leo.Get("/teen").Body, "Supervised by") {
		t.Error("the teen still shows as supervised after ending it")
	}
	notes := g.Get("/notifications")
	if !strings.Contains(notes.Body, "Leo") || notes.Doc.Find("li").Length() == 0 {
		t.Error("the guardian was not told")
	}
	if !strings.Contains(strings.ToLower(g.Get("/").Body), "ended") {
		t.Error("the dashboard does not show the link as ended")
	}
}

func TestLinking_GuardianEndsWithConfirmation(t *testing.T) {
	t.Parallel()
	w := newWorld(t, webtest.Options{})
	g := w.guardian("pat@example.com", "Pat Parent")
	co := w.guardian("co@example.com", "Chris Coparent")
	maya := w.teen("tk_maya", "Maya", 14)
	w.accept(maya, w.invite(g, "Maya"))
	w.accept(maya, w.invite(co, "Maya"))

	id := teenIDOf(t, g)
	confirm := g.Get("/teens/" + id + "/end")
	if confirm.StatusCode != http.StatusOK || confirm.Doc.Find("form[action$='/end']").Length() == 0 {
		t.Fatalf("confirmation step: %d", confirm.StatusCode)
	}
	if res := g.Submit(confirm, "form[action$='/end']", map[string]string{"reason": "Handing over to Chris"}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("end: %d", res.StatusCode)
	}
	if res := g.Get("/teens/" + id); res.StatusCode != http.StatusNotFound {
		t.Errorf("access after ending: %d", res.StatusCode)
	}
	if !strings.Contains(co.Get("/notifications").Body, "Pat Parent") {
		t.Error("the other guardian was not told")
	}
	if !strings.Contains(maya.Get("/notifications").Body, "Pat Parent") {
		t.Error("the teen was not told")
	}
	if res := co.Get("/teens/" + id); res.StatusCode != http.StatusOK {
		t.Errorf("the other guardian lost access: %d", res.StatusCode)
	}
}

func TestLinking_BadCodes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	clock := &now
	w := newWorld(t, webtest.Options{Now: func() time.Time { return *clock }})
	g := w.guardian("pat@example.com", "Pat Parent")
	sam := w.teen("tk_sam", "Sam", 15)

	for name, code := range map[string]string{"malformed": "12345", "unknown": "ABCD-EFGH-JKMN"} {
		res := sam.Submit(sam.Get("/teen/invite"), "form[action='/teen/invite']", map[string]string{"code": code})
		if res.StatusCode != http.StatusUnprocessableEntity || res.Doc.Find("[role=alert], .form-alert").Length() == 0 {
			t.Errorf("%s code: %d without a visible error", name, res.StatusCode)
		}
	}
	withdrawn := w.invite(g, "Sam")
	dash := g.Get("/")
	if res := g.Submit(dash, "form[action$='/withdraw']", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", res.StatusCode)
	}
	if res := sam.Submit(sam.Get("/teen/invite"), "form[action='/teen/invite']", map[string]string{"code": withdrawn}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("withdrawn code: %d", res.StatusCode)
	}
	expiring := w.invite(g, "Sam")
	later := now.Add(models.InvitationTTL + time.Minute)
	clock = &later
	sam = w.teen("tk_sam", "Sam", 15) // the earlier session has idled out
	res := sam.Submit(sam.Get("/teen/invite"), "form[action='/teen/invite']", map[string]string{"code": expiring})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "expired") {
		t.Errorf("expired code: %d", res.StatusCode)
	}
	g = w.app.Browser(t)
	g.Submit(g.Get("/login"), "form[action='/login']", map[string]string{"email": "pat@example.com", "password": pw})
	for i := 0; i < models.MaxPendingInvitations; i++ {
		w.invite(g, fmt.Sprintf("Teen %d", i))
	}
	sixth := g.Submit(g.Get("/invitations/new"), "form[action='/invitations']", map[string]string{"label": "One too many"})
	if sixth.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("sixth pending invitation: %d", sixth.StatusCode)
	}
}
