package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/hearth-safety/hearth/models/store/storetest"
	"github.com/hearth-safety/hearth/web/webtest"
)

// TestRuleCounts_ShowWhatTheRulesDid runs a few DM checks for Maya, flushes
// the counts, and reads them back on the pages guardians and the teen see.
func TestRuleCounts_ShowWhatTheRulesDid(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, webtest.Options{Dialect: d})
			g, maya := supervisedMaya(t, w)
			id := teenIDOf(t, g)
			card := func(p *webtest.Page) string {
				t.Helper()
				if p.StatusCode != http.StatusOK {
					t.Fatalf("%s: %d", p.Request.URL.Path, p.StatusCode)
				}
				s := p.Doc.Find(".rule-counts")
				if s.Length() != 1 {
					t.Fatalf("%s: %d rule count cards", p.Request.URL.Path, s.Length())
				}
				return strings.Join(strings.Fields(s.Text()), " ")
			}

			if got := card(g.Get("/teens/" + id + "/messages")); !strings.Contains(got, "No messages to or from Maya were checked in the last 7 days.") {
				t.Errorf("before any check the card says %q", got)
			}

			const friend = `"context":{"mutual_follow":true,"sender_is_adult":false}`
			const kid = `"context":{"mutual_follow":false,"sender_is_adult":false,"sender_account_age_days":400,"has_media":false,"has_link":false}`
			checks := []struct {
				body, reason string
				n            int
			}{
				{`{"sender_id":"u_friend","recipient_id":"tk_maya","sent_at":"2026-11-27T23:00:00Z",` + friend + `}`, "quiet_hours", 2},
				{`{"sender_id":"u_kid","recipient_id":"tk_maya","sent_at":"2026-11-27T15:00:00Z",` + kid + `}`, "not_friends", 3},
				{strangerToMaya, "adult_stranger", 1},
				{`{"sender_id":"u_friend","recipient_id":"tk_maya","sent_at":"2026-11-27T15:00:00Z",` + friend + `}`, "allowed", 4},
				// Maya's own message at night: her rules decide, as sender.
				{`{"sender_id":"tk_maya","recipient_id":"u_friend","sent_at":"2026-11-27T23:30:00Z","context":{"mutual_follow":true,"recipient_is_adult":false}}`, "quiet_hours", 1},
				// Nobody supervised: not anyone's count.
				{`{"sender_id":"u_a","recipient_id":"u_b"}`, "not_supervised", 5},
			}
			for _, c := range checks {
				for range c.n {
					if a := w.check(t, c.body); a.Reason != c.reason {
						t.Fatalf("check %s answered %+v, want reason %s", c.body, a, c.reason)
					}
				}
			}
			w.app.FlushRuleCounts(t)

			want := []string{
				"What Maya's rules did with 11 messages in the last 7 days",
				"3 messages held for quiet hours",
				"3 sent to message requests: not friends",
				"1 refused: adult who isn't a friend",
				"4 delivered",
				"Counts only.",
			}
			for _, page := range []struct{ name, path string }{{"guardian messages", "/teens/" + id + "/messages"}, {"guardian teen page", "/teens/" + id}} {
				got := card(g.Get(page.path))
				for _, s := range want {
					if !strings.Contains(got, s) {
						t.Errorf("%s: card %q lacks %q", page.name, got, s)
					}
				}
				// Counts only: never who.
				for _, who := range []string{"u_friend", "u_kid", "u_stranger"} {
					if strings.Contains(got, who) {
						t.Errorf("%s: card names %s", page.name, who)
					}
				}
			}
			// The largest restrictive count comes first (ties in rule order).
			items := g.Get("/teens/" + id + "/messages").Doc.Find(".rule-counts li[data-reason]")
			var order []string
			items.Each(func(_ int, s *goquery.Selection) { order = append(order, s.AttrOr("data-reason", "")) })
			if strings.Join(order, " ") != "not_friends quiet_hours adult_stranger allowed" {
				t.Errorf("card order = %v", order)
			}

			teenCard := card(maya.Get("/teen/messages"))
			for _, s := range []string{"What your rules did with 11 messages", "3 messages held for quiet hours", "4 delivered"} {
				if !strings.Contains(teenCard, s) {
					t.Errorf("teen's card %q lacks %q", teenCard, s)
				}
			}

			// A second flush adds to the same daily rows.
			w.check(t, strangerToMaya)
			w.app.FlushRuleCounts(t)
			w.app.FlushRuleCounts(t) // nothing new: no double count
			if got := card(g.Get("/teens/" + id)); !strings.Contains(got, "2 refused: adult who isn't a friend") {
				t.Errorf("after one more check: %q", got)
			}

			// Another guardian cannot see Maya's page, counts included.
			other := w.guardian("other@example.com", "Other Parent")
			if res := other.Get("/teens/" + id + "/messages"); res.StatusCode != http.StatusNotFound {
				t.Errorf("another guardian: %d", res.StatusCode)
			}
		})
	}
}
