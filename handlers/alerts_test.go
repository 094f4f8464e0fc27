package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
	"github.com/hearth-safety/hearth/web/webtest"
)

// seed stores alerts for the world's client directly.
func (w *world) seed(t *testing.T, alerts ...models.Event) []int64 {
	t.Helper()
	in := make([]store.SeedAlert, len(alerts))
	for i, e := range alerts {
		if e.ID == "" {
			e.ID = fmt.Sprintf("evt_%d_%d", time.Now().UnixNano(), i)
		}
		in[i] = store.SeedAlert{Event: e}
	}
	ids, err := w.app.Store.SeedAlerts(bg, w.client.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func event(teen, other string, cat models.Category, sev models.Severity, act models.Action, at time.Time) models.Event {
	return models.Event{TeenID: teen, CounterpartID: other, Direction: models.DirectionInbound, Category: cat, Severity: sev, ActionTaken: act, OccurredAt: at}
}

// htmxPost posts form to path as htmx does: with the HX-Request header and
// the CSRF token from page p's meta tag.
func htmxPost(t *testing.T, w *world, b *webtest.Browser, p *webtest.Page, path string, form url.Values) *webtest.Page {
	t.Helper()
	token, _ := p.Doc.Find("meta[name='csrf-token']").Attr("content")
	req, _ := http.NewRequest(http.MethodPost, w.app.HTTP.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Current-URL", w.app.HTTP.URL+p.Request.URL.RequestURI())
	req.Header.Set("X-CSRF-Token", token)
	return b.Do(req)
}

func alertItems(p *webtest.Page) []string {
	var ids []string
	p.Doc.Find("li.alert-item").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("id")
		ids = append(ids, id)
	})
	return ids
}

// family is Pat supervising Maya (14) and Leo (16), and Olive supervising
// Ava, each with alerts.
type family struct {
	w                  *world
	pat, olive, maya   *webtest.Browser
	mayaID, leoID, ava string
	bully, groom       int64
	mayaIDs            []int64
}

func newFamily(t *testing.T, d store.Dialect) family {
	t.Helper()
	w := newWorld(t, webtest.Options{Dialect: d})
	pat, maya := supervisedMaya(t, w)
	leo := w.teen("tk_leo", "Leo", 16)
	if res := w.accept(leo, w.invite(pat, "Leo")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("Leo accepts: %d", res.StatusCode)
	}
	olive := w.guardian("olive@example.com", "Olive Other")
	ava := w.teen("tk_ava", "Ava", 15)
	if res := w.accept(ava, w.invite(olive, "Ava")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("Ava accepts: %d", res.StatusCode)
	}
	now := w.app.Store.Now()
	f := family{w: w, pat: pat, olive: olive, maya: maya}
	var evs []models.Event
	for i := range 28 {
		cat := models.CategorySpam
		if i%2 == 0 {
			cat = models.CategoryBullying
		}
		evs = append(evs, event("tk_maya", "u_"+strconv.Itoa(i), cat, models.SeverityLow, models.ActionMessageHeld, now.Add(-time.Duration(60+i)*time.Hour)))
	}
	f.mayaIDs = w.seed(t, evs...)
	f.bully = w.seed(t, event("tk_maya", "u_9", models.CategoryBullying, models.SeverityMedium, models.ActionMessageBlocked,
		time.Date(2026, 11, 3, 16, 0, 0, 0, time.UTC)))[0]
	f.groom = w.seed(t, event("tk_maya", "u_stranger9", models.CategoryGrooming, models.SeverityHigh, models.ActionSenderSuspended, now.Add(-2*time.Hour)))[0]
	w.seed(t, event("tk_leo", "u_spam", models.CategorySpam, models.SeverityLow, models.ActionNone, now.Add(-3*time.Hour)))
	w.seed(t, event("tk_ava", "u_x", models.CategoryHate, models.SeverityCritical, models.ActionMessageBlocked, now.Add(-time.Hour)))
	f.mayaID, f.leoID = teenIDOf(t, pat), ""
	dash := pat.Get("/")
	dash.Doc.Find("a.teen-card-link").Each(func(_ int, s *goquery.Selection) {
		href, _ := s.Attr("href")
		if strings.Contains(s.Text(), "Leo") {
			f.leoID = strings.TrimPrefix(href, "/teens/")
		}
		if strings.Contains(s.Text(), "Maya") {
			f.mayaID = strings.TrimPrefix(href, "/teens/")
		}
	})
	f.ava = teenIDOf(t, olive)
	return f
}

func TestAlerts_Inbox(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f := newFamily(t, d)
			pat := f.pat

			page := pat.Get("/alerts")
			if page.StatusCode != http.StatusOK {
				t.Fatalf("/alerts: %d", page.StatusCode)
			}
			items := alertItems(page)
			if len(items) != 25 || items[0] != fmt.Sprintf("alert-%d", f.groom) {
				t.Fatalf("first page = %d items starting %v", len(items), items[:min(3, len(items))])
			}
			if got := page.Text("#alert-count"); !strings.HasPrefix(got, "31 alerts") {
				t.Errorf("count line %q, want 31 alerts (Ava's are not Pat's)", got)
			}
			first := page.Doc.Find("li.alert-item").First()
			if s := first.Find(".alert-sentence").Text(); s != "u_stranger9's account was suspended after a message to Maya from u_stranger9 was flagged as grooming." {
				t.Errorf("grooming sentence = %q", s)
			}
			if first.Find("time[datetime]").Length() != 1 || !strings.Contains(first.Find("time").Text(), "hours ago") {
				t.Errorf("no <time> in words: %q", first.Find(".alert-meta").Text())
			}
			if !strings.Contains(first.Find(".alert-meta").Text(), "u_stranger9") || first.Find(".badge--danger").Text() != "High" {
				t.Errorf("meta or severity missing: %q", first.Text())
			}
			if n := page.Doc.Find("#nav-alerts .nav-count").Text(); n != "31" {
				t.Errorf("nav badge %q, want 31", n)
			}
			if page.Doc.Find("#guidance-grooming").Length() != 1 || page.Doc.Find("#guidance-hate").Length() != 0 {
				t.Error("guidance is not for the categories on the page")
			}
			if strings.Contains(page.Body, "/teen/help") {
				t.Error("a guardian's page links to the teens' help")
			}

			older, ok := page.Doc.Find("a[rel='next']").Attr("href")
			if !ok {
				t.Fatal("no Older link on a full first page")
			}
			page2 := pat.Get(older)
			items2 := alertItems(page2)
			if len(items2) != 6 {
				t.Fatalf("page 2 has %d alerts, want 6", len(items2))
			}
			for _, id := range items2 {
				for _, id1 := range items {
					if id == id1 {
						t.Errorf("%s on both pages", id)
					}
				}
			}
			if _, ok := page2.Doc.Find("a[rel='prev']").Attr("href"); !ok {
				t.Error("no Newer link on page 2")
			}
			if page2.Doc.Find("a[rel='next']").Length() != 0 {
				t.Error("an Older link on the last page")
			}
			newer, _ := page2.Doc.Find("a[rel='prev']").Attr("href")
			if back := alertItems(pat.Get(newer)); fmt.Sprint(back) != fmt.Sprint(items) {
				t.Errorf("Newer from page 2 gave %d alerts, not page 1", len(back))
			}

			for _, tc := range []struct {
				query string
				want  int
				check string
			}{
				{"?category=grooming", 1, "grooming"},
				{"?severity=high", 1, "grooming"},
				{"?severity=medium", 2, ""},
				{"?teen=" + f.leoID, 1, "Leo"},
				{"?category=spam&teen=" + f.mayaID, 14, ""},
				{"?state=read", 0, ""},
			} {
				res := pat.Get("/alerts" + tc.query)
				if res.StatusCode != http.StatusOK || len(alertItems(res)) != tc.want {
					t.Errorf("%s: %d with %d alerts, want %d", tc.query, res.StatusCode, len(alertItems(res)), tc.want)
				}
				if tc.check != "" && !strings.Contains(res.Doc.Find("li.alert-item").First().Text(), tc.check) {
					t.Errorf("%s: first alert is not about %s", tc.query, tc.check)
				}
			}
			filtered := pat.Get("/alerts?category=bullying")
			if v, _ := filtered.Doc.Find("#filter-category option[selected]").Attr("value"); v != "bullying" {
				t.Errorf("the filter form does not keep the category: %q", v)
			}
			if older, _ := filtered.Doc.Find("a[rel='next']").Attr("href"); older != "" {
				t.Errorf("15 bullying alerts have a second page: %s", older)
			}

			t.Run("per_teen_page_with_chart", func(t *testing.T) {
				res := pat.Get("/teens/" + f.mayaID + "/alerts")
				if res.StatusCode != http.StatusOK {
					t.Fatalf("per-teen page: %d", res.StatusCode)
				}
				svg := res.Doc.Find("svg.chart[role='img']")
				if svg.Length() != 1 || svg.Find("title").First().Text() == "" || svg.Find("desc").Text() == "" {
					t.Fatal("no accessible SVG chart with a title and a description")
				}
				if !strings.Contains(svg.Find("desc").Text(), "30 alerts about Maya") {
					t.Errorf("chart description %q", svg.Find("desc").Text())
				}
				rows := res.Doc.Find(".chart-table tbody tr")
				if rows.Length() != 8 {
					t.Errorf("chart table has %d weeks, want 8", rows.Length())
				}
				total := 0
				rows.Each(func(_ int, s *goquery.Selection) {
					n, _ := strconv.Atoi(s.Find("td").Last().Text())
					total += n
				})
				if total != 30 {
					t.Errorf("chart table totals %d, want Maya's 30", total)
				}
				if res.Doc.Find("#filter-teen").Length() != 0 {
					t.Error("a teen filter on one teen's page")
				}
				if strings.Contains(res.Text("#alert-list"), "Leo") {
					t.Error("Leo's alert on Maya's page")
				}
			})
			t.Run("other_guardians_teen_is_404", func(t *testing.T) {
				for _, path := range []string{"/alerts?teen=" + f.ava, "/teens/" + f.ava + "/alerts"} {
					if res := pat.Get(path); res.StatusCode != http.StatusNotFound {
						t.Errorf("%s: %d, want 404", path, res.StatusCode)
					}
				}
				if res := f.maya.Get("/alerts"); res.StatusCode != http.StatusNotFound {
					t.Errorf("a teen opened the guardian inbox: %d", res.StatusCode)
				}
			})
		})
	}
}

func TestAlerts_AcknowledgeAndMarkAllRead(t *testing.T) {
	t.Parallel()
	f := newFamily(t, store.SQLite)
	w, pat := f.w, f.pat
	page := pat.Get("/alerts")

	t.Run("htmx_ack_returns_the_fragment", func(t *testing.T) {
		res := htmxPost(t, w, pat, page, fmt.Sprintf("/alerts/%d/read", f.groom), url.Values{"next": {"/alerts"}})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("htmx acknowledge: %d %s", res.StatusCode, res.Body)
		}
		if strings.Contains(res.Body, "<html") || res.Doc.Find("li.alert-item").Length() != 1 {
			t.Fatalf("not a fragment: %s", res.Body)
		}
		li := res.Doc.Find("li.alert-item")
		if id, _ := li.Attr("id"); id != fmt.Sprintf("alert-%d", f.groom) || li.HasClass("alert-item--unread") ||
			li.Find("form[action$='/read']").Length() != 0 || strings.Contains(li.Text(), "New") {
			t.Errorf("the fragment still shows the alert unread: %s", res.Body)
		}
		nav := res.Doc.Find("#nav-alerts[hx-swap-oob]")
		if nav.Length() != 1 || nav.Find(".nav-count").Text() != "30" {
			t.Errorf("no out-of-band nav update to 30: %s", res.Body)
		}
		if !strings.Contains(li.Text(), "Maya") {
			t.Error("the inbox's fragment does not name the teen")
		}
	})
	t.Run("plain_form_ack_redirects_back", func(t *testing.T) {
		res := pat.Submit(page, fmt.Sprintf("#alert-%d form[action$='/read']", f.mayaIDs[1]), nil)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/alerts" {
			t.Fatalf("plain acknowledge: %d → %s", res.StatusCode, res.Header.Get("Location"))
		}
		after := pat.Follow(res)
		if li := after.Doc.Find(fmt.Sprintf("#alert-%d", f.mayaIDs[1])); li.Length() != 1 || li.HasClass("alert-item--unread") {
			t.Error("still unread after acknowledging")
		}
		if got := after.Doc.Find("#nav-alerts .nav-count").Text(); got != "29" {
			t.Errorf("nav count %q, want 29", got)
		}
		if n := len(alertItems(pat.Get("/alerts?state=read"))); n != 2 {
			t.Errorf("%d read alerts, want 2", n)
		}
	})
	t.Run("without_a_token_is_refused", func(t *testing.T) {
		if res := pat.Post(fmt.Sprintf("/alerts/%d/read", f.mayaIDs[0]), url.Values{}); res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusBadRequest {
			t.Errorf("acknowledge without CSRF token: %d", res.StatusCode)
		}
	})
	t.Run("idor_is_404", func(t *testing.T) {
		olivePage := f.olive.Get("/")
		for _, path := range []string{"/read", "/not-useful", "/block"} {
			res := htmxPost(t, w, f.olive, olivePage, fmt.Sprintf("/alerts/%d%s", f.groom, path), url.Values{})
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("another guardian posting %s: %d", path, res.StatusCode)
			}
		}
		res := htmxPost(t, w, f.olive, olivePage, "/alerts/read-all", url.Values{"scope": {f.mayaID}})
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("another guardian marking Maya's alerts read: %d", res.StatusCode)
		}
		if got := pat.Get("/").Doc.Find("#nav-alerts .nav-count").Text(); got != "29" {
			t.Errorf("Olive's posts changed Pat's count to %q", got)
		}
	})
	t.Run("not_useful_in_place", func(t *testing.T) {
		res := htmxPost(t, w, pat, page, fmt.Sprintf("/alerts/%d/not-useful", f.mayaIDs[0]), url.Values{"next": {"/alerts"}})
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Doc.Find("li").Text(), "Marked not useful") {
			t.Errorf("not useful: %d %s", res.StatusCode, res.Body)
		}
	})
	t.Run("htmx_mark_all_read_on_one_teen", func(t *testing.T) {
		mayaPage := pat.Get("/teens/" + f.mayaID + "/alerts?category=spam")
		form := mayaPage.Doc.Find("form.mark-all")
		hx, _ := form.Attr("hx-post")
		if form.Length() != 1 || !strings.Contains(hx, "category=spam") {
			t.Fatalf("mark-all form %q", hx)
		}
		res := htmxPost(t, w, pat, mayaPage, hx, url.Values{"scope": {f.mayaID}})
		if res.StatusCode != http.StatusOK || res.Doc.Find("#alert-list").Length() != 1 {
			t.Fatalf("mark all read: %d %s", res.StatusCode, res.Body)
		}
		if n := res.Doc.Find("li.alert-item").Length(); n != 14 || res.Doc.Find("li.alert-item--unread").Length() != 0 {
			t.Errorf("the list came back with %d alerts, %d unread; want Maya's 14 spam, none unread", n, res.Doc.Find("li.alert-item--unread").Length())
		}
		if got := res.Doc.Find("#nav-alerts .nav-count").Text(); got != "1" {
			t.Errorf("nav count after marking Maya's read %q, want Leo's 1", got)
		}
	})
	t.Run("plain_mark_all_read", func(t *testing.T) {
		res := pat.Submit(pat.Get("/alerts"), "form.mark-all", nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("plain mark all read: %d", res.StatusCode)
		}
		after := pat.Follow(res)
		if after.Doc.Find("li.alert-item--unread").Length() != 0 || after.Doc.Find("#nav-alerts .nav-count").Length() != 0 {
			t.Error("alerts still unread after mark all read")
		}
		if !strings.Contains(after.Text("#flashes"), "marked read") {
			t.Errorf("no flash: %q", after.Text("#flashes"))
		}
	})
}

func TestAlerts_BlockSender(t *testing.T) {
	t.Parallel()
	f := newFamily(t, store.SQLite)
	w, pat := f.w, f.pat
	cam := w.guardian("cam@example.com", "Cam Coparent")
	if res := w.accept(f.maya, w.invite(cam, "Maya")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("Maya accepts Cam: %d", res.StatusCode)
	}
	page := pat.Get("/alerts")
	sel := fmt.Sprintf("#alert-%d form[action$='/block']", f.groom)
	if !strings.Contains(page.Doc.Find(sel).Text(), "Block u_stranger9") {
		t.Fatalf("no block button: %q", page.Doc.Find(fmt.Sprintf("#alert-%d", f.groom)).Text())
	}
	if href, _ := page.Doc.Find(fmt.Sprintf("#alert-%d a[href$='/messages']", f.groom)).Attr("href"); href != "/teens/"+f.mayaID+"/messages" {
		t.Errorf("Messages link = %q", href)
	}
	res := pat.Submit(page, sel, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("block: %d %s", res.StatusCode, res.Body)
	}
	after := pat.Follow(res)
	if flash := after.Text("#flashes"); !strings.Contains(flash, "u_stranger9 is now blocked") {
		t.Errorf("flash %q", flash)
	}
	rules := pat.Get("/teens/" + f.mayaID + "/messages")
	found := false
	rules.Doc.Find("input[name='blocked_id']").Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr("value")
		found = found || v == "u_stranger9"
	})
	if !found {
		t.Error("u_stranger9 is not on Maya's blocked list")
	}
	var a struct {
		Decision, Reason string
	}
	_, _, body := w.api.Do("POST", "/api/v1/dm/check", `{"sender_id":"u_stranger9","recipient_id":"tk_maya","context":{"mutual_follow":true}}`)
	json.Unmarshal([]byte(body), &a)
	if a.Decision != "deny" || a.Reason != "blocked_contact" {
		t.Errorf("a DM from the blocked account: %+v", a)
	}
	if !strings.Contains(f.maya.Get("/notifications").Body, "after a safety alert") {
		t.Error("Maya was not told")
	}
	if !strings.Contains(cam.Get("/notifications").Body, "after a safety alert") {
		t.Error("Cam was not told")
	}
	activity := f.maya.Get("/teen/activity")
	if !strings.Contains(activity.Body, "Blocked from a grooming alert") {
		t.Error("the block is not in the audited activity log with its reason")
	}

	inbox := pat.Get("/alerts")
	li := inbox.Doc.Find(fmt.Sprintf("#alert-%d", f.groom))
	if li.Find("form[action$='/block']").Length() != 0 || !strings.Contains(li.Find(".alert-blocked").Text(), "u_stranger9 is blocked") {
		t.Errorf("the inbox still offers to block an account that is blocked: %q", li.Text())
	}
	token, _ := inbox.Doc.Find("meta[name='csrf-token']").Attr("content")
	again := pat.Follow(pat.Post(fmt.Sprintf("/alerts/%d/block", f.groom), url.Values{"_csrf": {token}}))
	if flash := again.Text("#flashes"); !strings.Contains(flash, "already blocked") {
		t.Errorf("blocking again: flash %q", flash)
	}
}

func TestAlerts_TeenReceipts(t *testing.T) {
	t.Parallel()
	f := newFamily(t, store.SQLite)
	page := f.maya.Get("/teen/alerts")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("/teen/alerts: %d", page.StatusCode)
	}
	if got := page.Doc.Find(".alert-sentence").Length(); got != 25 {
		t.Errorf("%d receipts on the first page, want 25", got)
	}
	if !strings.Contains(page.Text(".alert-sentence"), "Your guardians were told that u_stranger9's account was suspended after a message to you from u_stranger9 was flagged as grooming") {
		t.Errorf("first receipt %q", page.Text(".alert-sentence"))
	}
	older, _ := page.Doc.Find("a[rel='next']").Attr("href")
	all := page.Body + f.maya.Get(older).Body
	if !strings.Contains(all, "Your guardians were told that a message to you from u_9 was blocked as bullying on 3 Nov.") {
		t.Error("no receipt in the guardians' words for the bullying alert")
	}
	if strings.Contains(all, "Leo") || strings.Contains(all, "u_spam") {
		t.Error("Maya sees Leo's alerts")
	}
	for _, guardianOnly := range []string{"guidance-", "Internet Matters", "How to talk about it", "Acknowledge"} {
		if strings.Contains(all, guardianOnly) {
			t.Errorf("the teen's receipts show guardians' %q", guardianOnly)
		}
	}
	if page.Doc.Find("a[href='/teen/help']").Length() == 0 {
		t.Error("no link to the teen's help")
	}
	activity := f.maya.Get("/teen/activity")
	if !strings.Contains(activity.Text("#activity-alerts-title"), "guardians were told") || activity.Doc.Find(".alerts .alert-sentence").Length() != 5 {
		t.Errorf("the activity log has no alerts section: %q", activity.Text("main"))
	}
	export := f.maya.Get("/teen/activity.json")
	var doc struct {
		Alerts []struct {
			Summary       string `json:"summary"`
			Category      string `json:"category"`
			CounterpartID string `json:"counterpart_id"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(export.Body), &doc); err != nil || len(doc.Alerts) != 30 {
		t.Fatalf("activity.json alerts: %d, %v", len(doc.Alerts), err)
	}
	if !strings.Contains(export.Body, "a message to you from u_9 was blocked as bullying on 3 Nov") {
		t.Error("activity.json does not word the alerts as the teen's page does")
	}
	if res := f.pat.Get("/teen/alerts"); res.StatusCode != http.StatusNotFound {
		t.Errorf("a guardian opened the teen's receipts: %d", res.StatusCode)
	}
}
