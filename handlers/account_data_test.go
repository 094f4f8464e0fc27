package handlers_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/hearth-safety/hearth/client"
	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store/storetest"
	"github.com/hearth-safety/hearth/web/webtest"
)

// retentionRows reads the "Your data" table into what → kept-for text.
func retentionRows(p *webtest.Page) map[string]string {
	rows := map[string]string{}
	p.Doc.Find("main table tbody tr").Each(func(_ int, tr *goquery.Selection) {
		th := tr.Find("th").Clone()
		th.Find(".row-detail").Remove()
		rows[strings.TrimSpace(th.Text())] = strings.Join(strings.Fields(tr.Find("td").Text()), " ")
	})
	return rows
}

func TestPrivacyPage_ListsWhatIsKeptFromTheSettings(t *testing.T) {
	t.Parallel()
	app := webtest.New(t, webtest.Options{Env: map[string]string{"HEARTH_ALERT_RETENTION": "30d"}})
	res := app.Browser(t).Get("/privacy")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/privacy: %d", res.StatusCode)
	}
	rows := retentionRows(res)
	for what, want := range map[string]string{
		"Moderation alerts":  "30 days after the latest event",
		"Audit entries":      "2 years",
		"Teen sign-in links": "10 minutes",
		"Invitations":        "48 hours",
		"Sessions":           "30 minutes idle, 12 hours at most",
		"Rule counts":        "90 days",
		"Webhook deliveries": "30 days",
		"Received event IDs": "For good",
		"Guardian accounts":  "Until you delete your account",
		"Notifications":      "Until the account",
	} {
		if !strings.Contains(rows[what], want) {
			t.Errorf("%q is kept for %q, want it to say %q", what, rows[what], want)
		}
	}
	never := strings.ToLower(res.Doc.Find("#never-title").Parent().Text())
	if !strings.Contains(never, "text of any message") {
		t.Errorf("the page does not say message text is never kept: %q", never)
	}
	if res.Doc.Find(`main a[href="/account"]`).Length() == 0 {
		t.Error("the page does not say where to download or delete")
	}
}

func TestAccountPage(t *testing.T) {
	t.Parallel()
	w := newWorld(t, webtest.Options{})
	g, maya := supervisedMaya(t, w)
	res := g.Get("/account")
	if res.StatusCode != http.StatusOK || res.Text("main h1") != "Pat Parent" || !strings.Contains(res.Text("main .page-head"), "pat@example.com") {
		t.Fatalf("/account: %d, h1 %q", res.StatusCode, res.Text("main h1"))
	}
	for _, href := range []string{"/account/export.json", "/account/alerts", "/account/delete"} {
		if res.Doc.Find(`main a[href="`+href+`"]`).Length() == 0 {
			t.Errorf("/account has no link to %s", href)
		}
	}
	if res.Doc.Find(`header a[href="/account"]`).Length() == 0 {
		t.Error("the header does not lead to the account page")
	}
	if got := maya.Get("/account").StatusCode; got != http.StatusNotFound {
		t.Errorf("a teen opening /account: %d, want 404", got)
	}
	if got := w.app.Browser(t).Get("/account").StatusCode; got != http.StatusSeeOther {
		t.Errorf("an anonymous visitor opening /account: %d, want a redirect to sign in", got)
	}
	home := maya.Get("/teen")
	if home.Doc.Find(`#your-data a[href="/teen/export.json"]`).Length() == 0 {
		t.Error("the teen's home page has no 'Your data' download")
	}
}

func TestExportDownloads(t *testing.T) {
	t.Parallel()
	w := newWorld(t, webtest.Options{})
	g, maya := supervisedMaya(t, w)
	other := w.guardian("sam@example.com", "Sam")

	check := func(b *webtest.Browser, path, format string) map[string]json.RawMessage {
		t.Helper()
		res := b.Get(path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: content type %q", path, ct)
		}
		if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".json") {
			t.Errorf("%s: Content-Disposition %q, want an attachment", path, cd)
		}
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", path, res.Header.Get("Cache-Control"))
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal([]byte(res.Body), &top); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if string(top["format"]) != `"`+format+`"` {
			t.Errorf("%s: format %s, want %s", path, top["format"], format)
		}
		for _, leak := range []string{"hash", "argon2", "session"} {
			if strings.Contains(strings.ToLower(res.Body), leak) {
				t.Errorf("%s contains %q", path, leak)
			}
		}
		return top
	}

	top := check(g, "/account/export.json", models.GuardianExportFormat)
	var teens []struct{ Name string }
	if err := json.Unmarshal(top["teens"], &teens); err != nil || len(teens) != 1 || teens[0].Name != "Maya" {
		t.Errorf("Pat's teens: %s", top["teens"])
	}
	for _, key := range []string{"account", "links", "invitations", "notifications", "alert_preferences", "exported_at"} {
		if _, ok := top[key]; !ok {
			t.Errorf("the guardian export has no %q", key)
		}
	}
	top = check(other, "/account/export.json", models.GuardianExportFormat)
	if string(top["teens"]) != "[]" || strings.Contains(string(top["links"]), "Maya") {
		t.Errorf("another guardian's export shows Maya: teens %s, links %s", top["teens"], top["links"])
	}
	top = check(maya, "/teen/export.json", models.TeenExportFormat)
	var acct struct {
		PlatformUserID string `json:"platform_user_id"`
	}
	if err := json.Unmarshal(top["account"], &acct); err != nil || acct.PlatformUserID != "tk_maya" {
		t.Errorf("Maya's account: %s", top["account"])
	}
	for _, key := range []string{"guardians", "policy", "requests", "alerts", "activity", "rule_counts"} {
		if _, ok := top[key]; !ok {
			t.Errorf("the teen export has no %q", key)
		}
	}
	if got := maya.Get("/account/export.json").StatusCode; got != http.StatusNotFound {
		t.Errorf("a teen downloading a guardian export: %d", got)
	}
	if got := g.Get("/teen/export.json").StatusCode; got != http.StatusNotFound {
		t.Errorf("a guardian downloading a teen export: %d", got)
	}
}

func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	w := newWorld(t, webtest.Options{})
	g, maya := supervisedMaya(t, w)
	sam := w.guardian("sam@example.com", "Sam")
	if res := w.accept(maya, w.invite(sam, "Maya")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d", res.StatusCode)
	}

	form := g.Get("/account/delete")
	if form.StatusCode != http.StatusOK || !strings.Contains(form.Text(".consequences"), "Maya") {
		t.Fatalf("/account/delete: %d, consequences %q", form.StatusCode, form.Text(".consequences"))
	}
	sel := "form[action='/account/delete']"
	wrong := g.Submit(form, sel, map[string]string{"password": "not the password", "confirm": "DELETE"})
	if wrong.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(wrong.Text("#delete-password-error"), "isn't your password") {
		t.Fatalf("wrong password: %d, error %q", wrong.StatusCode, wrong.Text("#delete-password-error"))
	}
	unconfirmed := g.Submit(form, sel, map[string]string{"password": pw, "confirm": "yes"})
	if unconfirmed.StatusCode != http.StatusUnprocessableEntity || unconfirmed.Text("#delete-confirm-error") == "" {
		t.Fatalf("without the typed confirmation: %d", unconfirmed.StatusCode)
	}
	if _, err := w.app.Store.UserByEmail(bg, "pat@example.com"); err != nil {
		t.Fatalf("a refused deletion deleted: %v", err)
	}

	done := g.Submit(form, sel, map[string]string{"password": pw, "confirm": "delete"})
	if done.StatusCode != http.StatusSeeOther || done.Header.Get("Location") != "/account/deleted" {
		t.Fatalf("delete: %d to %q", done.StatusCode, done.Header.Get("Location"))
	}
	page := g.Follow(done)
	if page.StatusCode != http.StatusOK || page.Text("main h1") != "Your account is deleted" || page.Doc.Find(".account-who").Length() != 0 {
		t.Errorf("confirmation page: %d %q (still signed in: %v)", page.StatusCode, page.Text("main h1"), page.Doc.Find(".account-who").Length() != 0)
	}
	if got := g.Get("/account").StatusCode; got != http.StatusSeeOther {
		t.Errorf("the deleted account's browser still opens /account: %d", got)
	}
	if _, err := w.app.Store.UserByEmail(bg, "pat@example.com"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("the account is still there: %v", err)
	}
	if notes := maya.Get("/notifications"); !strings.Contains(notes.Body, "Pat Parent deleted their Hearth account") {
		t.Error("Maya was not told")
	}
	if notes := sam.Get("/notifications"); !strings.Contains(notes.Body, "Pat Parent deleted their Hearth account and no longer supervises Maya.") {
		t.Error("Sam was not told")
	}
	b := w.app.Browser(t)
	if res := b.Submit(b.Get("/login"), "form[action='/login']", map[string]string{"email": "pat@example.com", "password": pw}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("signing in to the deleted account: %d", res.StatusCode)
	}
}

func TestAPI_DeleteTeen(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, webtest.Options{Dialect: d})
			g, maya := supervisedMaya(t, w)
			if a := w.check(t, strangerToMaya); a.Decision != "deny" {
				t.Fatalf("before: %+v", a)
			}

			if s, ct, body := w.app.API(t, "").Do("DELETE", "/api/v1/teens/tk_maya", ""); s != http.StatusUnauthorized {
				t.Errorf("without a key: %d %s %s", s, ct, body)
			}
			otherKey := newClient(t, w.app, "other app")
			if s, ct, body := w.app.API(t, otherKey).Do("DELETE", "/api/v1/teens/tk_maya", ""); s != http.StatusNotFound {
				t.Errorf("another client's teen: %d %s", s, body)
			} else {
				decodeProblem(t, ct, body)
			}
			if s, ct, body := w.api.Do("DELETE", "/api/v1/teens/bad%20id", ""); s != http.StatusUnprocessableEntity {
				t.Errorf("a malformed ID: %d %s", s, body)
			} else {
				decodeProblem(t, ct, body)
			}

			s, _, body := w.api.Do("DELETE", "/api/v1/teens/tk_maya", "")
			if s != http.StatusNoContent || body != "" {
				t.Fatalf("DELETE: %d %q, want 204 with no body", s, body)
			}
			// Answered means every node forgot her: no stale rules.
			if a := w.check(t, strangerToMaya); a.Decision != "allow" || a.Reason != "not_supervised" {
				t.Errorf("a DM check after the erasure: %+v, want allow / not_supervised", a)
			}
			if s, _, body := w.api.Do("GET", "/api/v1/teens/tk_maya/policy", ""); s != http.StatusNotFound {
				t.Errorf("her policy after the erasure: %d %s", s, body)
			}
			if s, ct, body := w.api.Do("DELETE", "/api/v1/teens/tk_maya", ""); s != http.StatusNotFound {
				t.Errorf("DELETE again: %d %s", s, body)
			} else {
				decodeProblem(t, ct, body)
			}
			if notes := g.Get("/notifications"); !strings.Contains(notes.Doc.Find("main").Text(), "Maya's account was removed by the messaging service; supervision has ended.") {
				t.Error("the guardian was not told")
			}
			if res := maya.Get("/teen"); res.StatusCode == http.StatusOK {
				t.Error("the erased teen is still signed in")
			}

			// The SDK's DeleteTeen speaks the same contract.
			w.teen("tk_leo", "Leo", 16)
			c, err := client.New(client.Config{BaseURL: w.app.HTTP.URL, APIKey: w.api.Key})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.DeleteTeen(bg, "tk_leo"); err != nil {
				t.Errorf("SDK DeleteTeen: %v", err)
			}
			var e *client.Error
			if err := c.DeleteTeen(bg, "tk_leo"); !errors.As(err, &e) || e.Status != http.StatusNotFound {
				t.Errorf("SDK DeleteTeen of an erased teen: %v, want a 404 *client.Error", err)
			}
		})
	}
}
