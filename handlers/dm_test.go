package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models/store/storetest"
	"github.com/hearth-safety/hearth/web/webtest"
)

type dmAnswer struct {
	Decision      string    `json:"decision"`
	Reason        string    `json:"reason"`
	DecidedBy     string    `json:"decided_by"`
	PolicyVersion int64     `json:"policy_version"`
	HoldUntil     time.Time `json:"hold_until"`
}

func (w *world) check(t *testing.T, body string) dmAnswer {
	t.Helper()
	status, _, out := w.api.Do("POST", "/api/v1/dm/check", body)
	if status != http.StatusOK {
		t.Fatalf("dm/check %s: %d %s", body, status, out)
	}
	var a dmAnswer
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// supervisedMaya links a 14-year-old Maya to Pat and returns Pat's browser
// and the teen's.
func supervisedMaya(t *testing.T, w *world) (*webtest.Browser, *webtest.Browser) {
	t.Helper()
	g := w.guardian("pat@example.com", "Pat Parent")
	maya := w.teen("tk_maya", "Maya", 14)
	if res := w.accept(maya, w.invite(g, "Maya")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d", res.StatusCode)
	}
	return g, maya
}

const strangerToMaya = `{"sender_id":"u_stranger","recipient_id":"tk_maya","sent_at":"2026-11-27T15:00:00Z",
  "context":{"mutual_follow":false,"sender_is_adult":true,"sender_account_age_days":3}}`

func TestDMCheck(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, webtest.Options{Dialect: d})
			g, _ := supervisedMaya(t, w)

			a := w.check(t, strangerToMaya)
			if a.Decision != "deny" || a.Reason != "adult_stranger" || a.DecidedBy != "recipient" || a.PolicyVersion < 1 {
				t.Fatalf("stranger adult to a 14-year-old on defaults: %+v", a)
			}
			friend := w.check(t, `{"sender_id":"u_friend","recipient_id":"tk_maya","sent_at":"2026-11-27T15:00:00Z","context":{"mutual_follow":true,"sender_is_adult":false}}`)
			if friend.Decision != "allow" {
				t.Errorf("a friend at 3pm: %+v", friend)
			}
			night := w.check(t, `{"sender_id":"u_friend","recipient_id":"tk_maya","sent_at":"2026-11-27T23:00:00Z","context":{"mutual_follow":true,"sender_is_adult":false}}`)
			if night.Decision != "hold" || night.Reason != "quiet_hours" || !night.HoldUntil.Equal(time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC)) {
				t.Errorf("a friend at 23:00 London time: %+v", night)
			}
			none := w.check(t, `{"sender_id":"u_a","recipient_id":"u_b"}`)
			if none.Decision != "allow" || none.Reason != "not_supervised" || none.DecidedBy != "none" {
				t.Errorf("two unsupervised users: %+v", none)
			}
			missing := w.check(t, `{"sender_id":"u_friend","recipient_id":"tk_maya","sent_at":"2026-11-27T15:00:00Z"}`)
			if missing.Decision != "deny" {
				t.Errorf("no context must count on the safe side (adult, not mutual): %+v", missing)
			}

			t.Run("a_guardian_change_applies_to_the_next_check", func(t *testing.T) {
				id := teenIDOf(t, g)
				page := g.Get("/teens/" + id + "/messages")
				if page.StatusCode != http.StatusOK {
					t.Fatalf("messages page: %d", page.StatusCode)
				}
				for i, audience := range []string{"nobody", "everyone", "nobody"} {
					res := g.Submit(g.Get("/teens/"+id+"/messages"), "form[action$='/messages']", map[string]string{
						"audience": audience, "block_adult_strangers": "", "action": "save"})
					if res.StatusCode != http.StatusSeeOther {
						t.Fatalf("save %s: %d", audience, res.StatusCode)
					}
					a := w.check(t, `{"sender_id":"u_friend","recipient_id":"tk_maya","sent_at":"2026-11-27T15:00:00Z","context":{"mutual_follow":true,"sender_is_adult":false}}`)
					want := map[string]string{"nobody": "deny", "everyone": "allow"}[audience]
					if a.Decision != want {
						t.Fatalf("change %d (%s): check answered %+v", i, audience, a)
					}
				}
				status, _, body := w.api.Do("GET", "/api/v1/teens/tk_maya/policy", "")
				if status != http.StatusOK || !strings.Contains(body, `"audience":"nobody"`) || !strings.Contains(body, `"supervised":true`) {
					t.Errorf("policy API: %d %s", status, body)
				}
			})
		})
	}
}

func TestDMCheck_BadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t, webtest.Options{})
	supervisedMaya(t, w)
	cases := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"text_field", "/api/v1/dm/check", `{"sender_id":"a","recipient_id":"tk_maya","text":"hi"}`, 422, "text"},
		{"content_in_context", "/api/v1/dm/check", `{"sender_id":"a","recipient_id":"tk_maya","context":{"content":"x"}}`, 422, "content"},
		{"field_name_in_other_case", "/api/v1/dm/check", `{"Sender_ID":"a","recipient_id":"tk_maya"}`, 422, "Sender_ID"},
		{"duplicate_field", "/api/v1/dm/check", `{"sender_id":"a","sender_id":"b","recipient_id":"tk_maya"}`, 400, ""},
		{"body_field", "/api/v1/dm/check", `{"sender_id":"a","recipient_id":"tk_maya","body":"x"}`, 422, "body"},
		{"wrong_type", "/api/v1/dm/check", `{"sender_id":"a","recipient_id":"tk_maya","context":{"mutual_follow":"yes"}}`, 422, "context.mutual_follow"},
		{"missing_ids", "/api/v1/dm/check", `{}`, 422, "sender_id"},
		{"long_id", "/api/v1/dm/check", `{"sender_id":"` + strings.Repeat("a", 65) + `","recipient_id":"tk_maya"}`, 422, "sender_id"},
		{"bad_sent_at", "/api/v1/dm/check", `{"sender_id":"a","recipient_id":"tk_maya","sent_at":"yesterday"}`, 422, "sent_at"},
		{"negative_age", "/api/v1/dm/check", `{"sender_id":"a","recipient_id":"tk_maya","context":{"sender_account_age_days":-1}}`, 422, "context.sender_account_age_days"},
		{"empty_batch", "/api/v1/dm/check/batch", `{"checks":[]}`, 422, "checks"},
		{"no_checks", "/api/v1/dm/check/batch", `{}`, 422, "checks"},
		{"huge_batch", "/api/v1/dm/check/batch", `{"checks":[` + strings.TrimSuffix(strings.Repeat(`{"sender_id":"a","recipient_id":"b"},`, 501), ",") + `]}`, 422, "checks"},
		{"bad_item", "/api/v1/dm/check/batch", `{"checks":[{"sender_id":"a","recipient_id":"b"},{"sender_id":"a b","recipient_id":"c"}]}`, 422, "checks[1].sender_id"},
		{"huge_body", "/api/v1/dm/check", `{"sender_id":"` + strings.Repeat("a", 3<<20) + `"}`, 413, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, ct, body := w.api.Do("POST", c.path, c.body)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, body)
			}
			p := decodeProblem(t, ct, body)
			if c.field != "" {
				found := false
				for _, e := range p.Errors {
					found = found || e.Field == c.field
				}
				if !found {
					t.Fatalf("no error names %q: %+v", c.field, p.Errors)
				}
			}
		})
	}
	t.Run("batch_answers_in_order", func(t *testing.T) {
		status, _, body := w.api.Do("POST", "/api/v1/dm/check/batch", `{"checks":[`+strangerToMaya+`,{"sender_id":"u_a","recipient_id":"u_b"}]}`)
		var out struct{ Results []dmAnswer }
		if err := json.Unmarshal([]byte(body), &out); status != 200 || err != nil || len(out.Results) != 2 {
			t.Fatalf("batch: %d %s", status, body)
		}
		if out.Results[0].Decision != "deny" || out.Results[1].Reason != "not_supervised" {
			t.Fatalf("batch results out of order or wrong: %+v", out.Results)
		}
	})
	t.Run("another_clients_teen_is_not_supervised_for_it", func(t *testing.T) {
		_, key := newClientKey(t, w, "other")
		status, _, body := w.app.API(t, key).Do("POST", "/api/v1/dm/check", strangerToMaya)
		if status != 200 || !strings.Contains(body, "not_supervised") {
			t.Fatalf("other client: %d %s", status, body)
		}
		if status, _, _ := w.app.API(t, key).Do("GET", "/api/v1/teens/tk_maya/policy", ""); status != http.StatusNotFound {
			t.Fatalf("other client's policy read: %d", status)
		}
	})
}

func newClientKey(t *testing.T, w *world, name string) (string, string) {
	t.Helper()
	return name, newClient(t, w.app, name)
}

func TestDMCheck_HoldsWhenItCannotConfirmItIsCurrent(t *testing.T) {
	t.Parallel()
	w := newWorld(t, webtest.Options{PolicyLease: 300 * time.Millisecond})
	supervisedMaya(t, w)
	if a := w.check(t, strangerToMaya); a.Decision != "deny" {
		t.Fatalf("before: %+v", a)
	}
	// Stop syncing, as a node cut off from its database would.
	w.app.Policies.Stop(bg)
	time.Sleep(400 * time.Millisecond)
	for _, body := range []string{strangerToMaya, `{"sender_id":"u_a","recipient_id":"u_b"}`} {
		a := w.check(t, body)
		if a.Decision != "hold" || a.Reason != "supervision_unavailable" {
			t.Fatalf("a node past its lease answered %+v for %s", a, body)
		}
	}
}

func TestMessages_AgeRules(t *testing.T) {
	t.Parallel()
	w := newWorld(t, webtest.Options{})
	g, maya := supervisedMaya(t, w)

	page := maya.Get("/teen/messages")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("teen messages: %d", page.StatusCode)
	}
	// Tightening: DMs off at once.
	res := maya.Submit(page, "form[action='/teen/messages']", map[string]string{"audience": "nobody", "action": "save"})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("teen tightening: %d", res.StatusCode)
	}
	if a := w.check(t, `{"sender_id":"u_friend","recipient_id":"tk_maya","sent_at":"2026-11-27T15:00:00Z","context":{"mutual_follow":true}}`); a.Reason != "dms_off" {
		t.Fatalf("after the teen turned DMs off: %+v", a)
	}
	// Loosening needs approval: nothing changes, the page says what would loosen.
	res = maya.Submit(maya.Get("/teen/messages"), "form[action='/teen/messages']", map[string]string{"audience": "everyone", "block_adult_strangers": "", "action": "save"})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Doc.Text(), "everyone") {
		t.Fatalf("teen loosening: %d", res.StatusCode)
	}
	if a := w.check(t, `{"sender_id":"u_friend","recipient_id":"tk_maya","sent_at":"2026-11-27T15:00:00Z","context":{"mutual_follow":true}}`); a.Reason != "dms_off" {
		t.Fatalf("a refused loosening changed the rules: %+v", a)
	}
	req := maya.Submit(maya.Get("/teen/messages"), "form[action='/teen/messages']", map[string]string{"audience": "friends", "action": "request", "reason": "Group project chats"})
	if req.StatusCode != http.StatusSeeOther {
		t.Fatalf("request: %d", req.StatusCode)
	}
	teenPage := g.Get("/teens/" + teenIDOf(t, g))
	if !strings.Contains(teenPage.Doc.Text(), "Group project chats") {
		t.Fatal("the guardian does not see the loosening request")
	}
	approved := g.Submit(teenPage, "form[action$='/approve']", map[string]string{"duration": "1h"})
	if approved.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", approved.StatusCode, approved.Text("main"))
	}
	if a := w.check(t, `{"sender_id":"u_friend","recipient_id":"tk_maya","sent_at":"2026-11-27T15:00:00Z","context":{"mutual_follow":true}}`); a.Decision != "allow" {
		t.Fatalf("after approval for an hour: %+v", a)
	}
	if !strings.Contains(maya.Get("/notifications").Doc.Text(), "Pat Parent") {
		t.Error("the teen was not told of the approval")
	}
	_ = fmt.Sprintf
}
