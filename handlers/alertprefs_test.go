package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store/storetest"
	"github.com/hearth-safety/hearth/web/webtest"
)

func TestAlertPrefs_PageSavesChoices(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, webtest.Options{Dialect: d})
			g, _ := supervisedMaya(t, w)

			dash := g.Get("/")
			if dash.Doc.Find(`a[href="/account/alerts"]`).Length() == 0 {
				t.Error("the dashboard has no link to the alert email preferences")
			}

			page := g.Get("/account/alerts")
			if page.StatusCode != http.StatusOK {
				t.Fatalf("GET /account/alerts: %d", page.StatusCode)
			}
			selects := page.Doc.Find("form[action='/account/alerts'] select")
			if selects.Length() != len(models.Categories) {
				t.Fatalf("%d selects, want one per category (%d)", selects.Length(), len(models.Categories))
			}
			if got := page.Doc.Find("select#immediate_self_harm option[selected]").AttrOr("value", ""); got != "high" {
				t.Errorf("self-harm starts at %q, want high", got)
			}
			if label := strings.TrimSpace(page.Doc.Find("label[for='immediate_self_harm']").Text()); label != "Self-harm" {
				t.Errorf("self-harm's label is %q", label)
			}
			var opts []string
			page.Doc.Find("select#immediate_bullying option").Each(func(_ int, s *goquery.Selection) {
				opts = append(opts, strings.TrimSpace(s.Text()))
			})
			if strings.Join(opts, "|") != "Low and above|Medium and above|High and above|Critical only|Never, digest only" {
				t.Errorf("options %q", opts)
			}
			if _, on := page.Doc.Find("input#weekly").Attr("checked"); !on {
				t.Error("the weekly summary is not ticked by default")
			}
			key := page.Doc.Find(".alert-prefs-key").Text()
			for _, want := range []string{"Never, digest only", "weekly summary", "never say what a message said"} {
				if !strings.Contains(key, want) {
					t.Errorf("the page does not explain %q", want)
				}
			}

			res := g.Submit(page, "form[action='/account/alerts']", map[string]string{
				"immediate_bullying": "low", "immediate_spam": "never", "weekly": ""})
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/alerts" {
				t.Fatalf("save: %d to %q", res.StatusCode, res.Header.Get("Location"))
			}
			after := g.Follow(res)
			if flash := after.Text(".flash"); !strings.Contains(flash, "Saved") {
				t.Errorf("flash %q, want Saved", flash)
			}
			if got := after.Doc.Find("select#immediate_bullying option[selected]").AttrOr("value", ""); got != "low" {
				t.Errorf("bullying shows %q after saving low", got)
			}
			if got := after.Doc.Find("select#immediate_spam option[selected]").AttrOr("value", ""); got != "never" {
				t.Errorf("spam shows %q after saving never", got)
			}
			if _, on := after.Doc.Find("input#weekly").Attr("checked"); on {
				t.Error("the weekly summary is still ticked after turning it off")
			}
		})
	}
}

func TestAlertPrefs_Validation(t *testing.T) {
	t.Parallel()
	w := newWorld(t, webtest.Options{})
	g := w.guardian("pat@example.com", "Pat Parent")
	page := g.Get("/account/alerts")
	res := g.Submit(page, "form[action='/account/alerts']", map[string]string{"immediate_hate": "sometimes", "immediate_scam": "low"})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a bad choice answered %d, want 422", res.StatusCode)
	}
	if msg := res.Text("#immediate_hate-error"); !strings.Contains(msg, "Choose when hate alerts email you") {
		t.Errorf("error beside the field: %q", msg)
	}
	if res.Doc.Find(".error-summary a[href='#immediate_hate']").Length() != 1 {
		t.Error("the error summary does not link to the field")
	}
	if inv, _ := res.Doc.Find("select#immediate_hate").Attr("aria-invalid"); inv != "true" {
		t.Error("the bad select is not marked invalid")
	}
	// The form comes back as posted; the bad select shows the saved choice.
	if got := res.Doc.Find("select#immediate_scam option[selected]").AttrOr("value", ""); got != "low" {
		t.Errorf("scam shows %q on the form shown back, want low as posted", got)
	}
	if got := res.Doc.Find("select#immediate_hate option[selected]").AttrOr("value", ""); got != "high" {
		t.Errorf("hate shows %q on the form shown back, want the saved high", got)
	}
	// Nothing was saved, not even the valid part.
	again := g.Get("/account/alerts")
	if got := again.Doc.Find("select#immediate_scam option[selected]").AttrOr("value", ""); got != "high" {
		t.Errorf("scam is %q after a refused save, want high", got)
	}
}

func TestAlertPrefs_GuardiansOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t, webtest.Options{})
	teen := w.teen("tk_maya", "Maya", 14)
	anon := w.app.Browser(t)
	for name, b := range map[string]*webtest.Browser{"teen": teen, "anonymous": anon} {
		home := b.Get("/")
		if res := b.Get("/account/alerts"); res.StatusCode == http.StatusOK {
			t.Errorf("%s: GET /account/alerts answered 200", name)
		}
		// With a valid CSRF token, so the role guard is what refuses it.
		token := home.Doc.Find("meta[name='csrf-token']").AttrOr("content", "")
		res := b.Post("/account/alerts", url.Values{"_csrf": {token}, "immediate_bullying": {"low"}, "weekly": {"yes"}})
		if res.StatusCode < 300 || res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/account/alerts" {
			t.Errorf("%s: POST /account/alerts answered %d to %q", name, res.StatusCode, res.Header.Get("Location"))
		}
	}
	var n int
	if err := w.app.Store.SQLDB().QueryRow("SELECT COUNT(*) FROM alert_preferences").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d preference rows after refused posts (%v)", n, err)
	}
}
