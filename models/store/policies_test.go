package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/policy"
)

// rulesOf returns the rules viewer sees for teenID, failing the test if
// they cannot see them.
func rulesOf(t *testing.T, s *store.Store, viewer models.Actor, teenID int64) models.DMPolicy {
	t.Helper()
	p, err := s.TeenPolicy(ctx, viewer, teenID)
	if err != nil {
		t.Fatalf("TeenPolicy: %v", err)
	}
	return p
}

// edit saves the current rules as edited by change, as viewer, based on the
// version they see now.
func edit(t *testing.T, s *store.Store, viewer models.Actor, teenID int64, change func(p *models.DMPolicy)) (models.DMPolicy, error) {
	t.Helper()
	cur := rulesOf(t, s, viewer, teenID)
	next := cur
	next.Approved = slices.Clone(cur.Approved)
	next.Blocked = slices.Clone(cur.Blocked)
	change(&next)
	return s.UpdatePolicy(ctx, viewer, teenID, store.PolicyChange{Rules: next, ExpectVersion: cur.Version})
}

func seqNow(t *testing.T, s *store.Store) int64 {
	t.Helper()
	n, err := s.CurrentSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func latestAudit(t *testing.T, s *store.Store, teenID int64) models.AuditEvent {
	t.Helper()
	es, err := s.AllAuditEvents(ctx, models.Actor{UserID: -1, Role: models.RoleLead}, teenID)
	if err != nil || len(es) == 0 {
		t.Fatalf("AllAuditEvents = %v, %v", es, err)
	}
	return es[len(es)-1]
}

func noteWith(ns []models.Notification, prefix string) (models.Notification, bool) {
	for _, n := range ns {
		if strings.HasPrefix(n.Message, prefix) {
			return n, true
		}
	}
	return models.Notification{}, false
}

func TestStore_PolicyDefaultsAtAccept(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06") // 14
		leo, leoP := w.teen(t, "Leo", "2010-06")    // 16
		pat := w.guardian(t, "Pat Parent")
		cam := w.guardian(t, "Cam Coparent")

		if _, err := s.TeenPolicy(ctx, mayaP.Actor, maya.ID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("rules before supervision: %v, want ErrNotFound", err)
		}
		if p, sup, err := s.TeenPolicyByPlatformID(ctx, w.client.ID, maya.PlatformUserID); err != nil || sup || p.Version != 0 {
			t.Errorf("TeenPolicyByPlatformID before supervision = %+v, %v, %v", p, sup, err)
		}
		if seqNow(t, s) != 0 {
			t.Errorf("CurrentSeq on an empty database = %d", seqNow(t, s))
		}

		w.link(t, pat, mayaP)
		w.link(t, pat, leoP)
		got := rulesOf(t, s, pat.Actor, maya.ID)
		want := models.DMPolicy{TeenID: maya.ID, Version: 1, Audience: policy.AudienceFriends, QuietEnabled: true,
			QuietStart: 22 * 60, QuietEnd: 7 * 60, QuietApprovedExempt: true, BlockAdultStrangers: true, MediaFriendsOnly: true}
		if !models.SameRules(got, want) || got.Version != 1 || got.TeenID != maya.ID || got.UpdatedByName != "Hearth" {
			t.Errorf("14-year-old's first rules = %+v, want %+v", got, want)
		}
		got = rulesOf(t, s, leoP.Actor, leo.ID)
		want = models.DMPolicy{Audience: policy.AudienceFriends, QuietStart: 22 * 60, QuietEnd: 7 * 60, QuietApprovedExempt: true,
			BlockAdultStrangers: true}
		if !models.SameRules(got, want) || got.Version != 1 {
			t.Errorf("16-year-old's first rules = %+v, want %+v", got, want)
		}
		if p, sup, err := s.TeenPolicyByPlatformID(ctx, w.client.ID, maya.PlatformUserID); err != nil || !sup || p.Version != 1 {
			t.Errorf("TeenPolicyByPlatformID = %+v, %v, %v", p, sup, err)
		}
		other, _ := newClient(t, s, "other app")
		if _, _, err := s.TeenPolicyByPlatformID(ctx, other.ID, maya.PlatformUserID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("another client's teen: %v, want ErrNotFound", err)
		}

		t.Run("a_second_guardian_keeps_the_rules", func(t *testing.T) {
			if _, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) { p.MinSenderAccountAgeDays = 7 }); err != nil {
				t.Fatal(err)
			}
			before := seqNow(t, s)
			w.link(t, cam, mayaP)
			if p := rulesOf(t, s, cam.Actor, maya.ID); p.Version != 2 || p.MinSenderAccountAgeDays != 7 {
				t.Errorf("rules after a second guardian joined = %+v", p)
			}
			if seqNow(t, s) != before {
				t.Errorf("a second link bumped the seq: %d → %d", before, seqNow(t, s))
			}
		})
		t.Run("who_may_read", func(t *testing.T) {
			stranger := w.guardian(t, "Stranger")
			for name, v := range map[string]models.Actor{"unlinked_guardian": stranger.Actor, "other_teen": leoP.Actor, "anonymous": {}} {
				if _, err := s.TeenPolicy(ctx, v, maya.ID); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%s: %v, want ErrNotFound", name, err)
				}
			}
			rulesOf(t, s, w.staff(t).Actor, maya.ID)
			rulesOf(t, s, mayaP.Actor, maya.ID)
		})
	})
}

func TestStore_UpdatePolicy(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06") // 14
		leo, leoP := w.teen(t, "Leo", "2010-06")    // 16
		_, samP := w.teen(t, "Sam", "2012-02")
		pat := w.guardian(t, "Pat Parent")
		cam := w.guardian(t, "Cam Coparent")
		gil := w.guardian(t, "Gil Guardian")
		w.link(t, pat, mayaP)
		w.link(t, cam, mayaP)
		w.link(t, pat, leoP)
		w.link(t, gil, samP)

		t.Run("guardian_edit_bumps_version_and_seq_audits_and_tells", func(t *testing.T) {
			before := seqNow(t, s)
			cur := rulesOf(t, s, pat.Actor, maya.ID)
			next := cur
			next.Audience = policy.AudienceEveryone
			next.Approved = []models.Contact{{PlatformUserID: "u_grandma", Label: "Grandma"}}
			next.Blocked = []models.Contact{{PlatformUserID: " u_9 ", Label: " Stranger "}} // trimmed
			got, err := s.UpdatePolicy(ctx, pat.Actor, maya.ID, store.PolicyChange{Rules: next, ExpectVersion: 1, Reason: "She's older now"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != 2 || got.Audience != policy.AudienceEveryone || got.UpdatedByName != "Pat Parent" ||
				len(got.Blocked) != 1 || got.Blocked[0] != (models.Contact{PlatformUserID: "u_9", Label: "Stranger"}) ||
				len(got.Approved) != 1 || got.Approved[0].Label != "Grandma" {
				t.Fatalf("UpdatePolicy = %+v", got)
			}
			if again := rulesOf(t, s, cam.Actor, maya.ID); !models.SameRules(again, got) || again.Version != 2 {
				t.Errorf("stored rules = %+v", again)
			}
			if seqNow(t, s) <= before {
				t.Errorf("seq did not grow: %d → %d", before, seqNow(t, s))
			}
			e := latestAudit(t, s, maya.ID)
			var b, a map[string]any
			if err := errors.Join(json.Unmarshal(e.Before, &b), json.Unmarshal(e.After, &a)); err != nil {
				t.Fatal(err)
			}
			if e.Action != models.ActionPolicyChanged || e.ActorID != pat.UserID || e.Reason != "She's older now" ||
				b["audience"] != "friends" || a["audience"] != "everyone" || b["version"] != 1.0 || a["version"] != 2.0 ||
				!strings.Contains(string(e.After), `"blocked":[{"id":"u_9","label":"Stranger"}]`) ||
				!strings.Contains(string(e.Before), `"quiet":{"enabled":true,"start":"22:00","end":"07:00","approved_exempt":true}`) {
				t.Errorf("audit entry = %+v\nbefore %s\nafter %s", e, e.Before, e.After)
			}
			if err := s.VerifyAuditChain(ctx, maya.ID); err != nil {
				t.Error(err)
			}
			summary := "who can message: friends → everyone; approved u_grandma (Grandma); blocked u_9 (Stranger)."
			if !hasNote(notes(t, s, mayaP), "Pat Parent changed your message rules: "+summary) {
				t.Errorf("teen not told: %+v", notes(t, s, mayaP))
			}
			if !hasNote(notes(t, s, cam), "Pat Parent changed Maya's message rules: "+summary) {
				t.Errorf("other guardian not told: %+v", notes(t, s, cam))
			}
			if _, ok := noteWith(notes(t, s, pat), "Pat Parent changed"); ok {
				t.Error("the guardian who made the change was told about it")
			}
			if ms := w.out.to(t, cam.Email); len(ms) == 0 || !strings.Contains(ms[len(ms)-1].Text, summary) ||
				!strings.Contains(ms[len(ms)-1].Text, testBaseURL+"/teens/") {
				t.Errorf("other guardian's email = %+v", ms)
			}
		})

		t.Run("no_change_is_not_a_new_version", func(t *testing.T) {
			before := seqNow(t, s)
			got, err := edit(t, s, cam.Actor, maya.ID, func(p *models.DMPolicy) { slices.Reverse(p.Approved) })
			if err != nil || got.Version != 2 || seqNow(t, s) != before {
				t.Errorf("no-op save = %+v, %v; seq %d → %d", got, err, before, seqNow(t, s))
			}
		})

		t.Run("stale_version", func(t *testing.T) {
			cur := rulesOf(t, s, cam.Actor, maya.ID)
			cur.MediaFriendsOnly = false
			_, err := s.UpdatePolicy(ctx, cam.Actor, maya.ID, store.PolicyChange{Rules: cur, ExpectVersion: cur.Version - 1})
			if !errors.Is(err, models.ErrStale) || !errors.Is(err, models.ErrConflict) {
				t.Fatalf("stale save: %v, want ErrStale", err)
			}
			if p := rulesOf(t, s, cam.Actor, maya.ID); p.Version != cur.Version || !p.MediaFriendsOnly {
				t.Errorf("stale save changed the rules: %+v", p)
			}
		})

		t.Run("who_may_change", func(t *testing.T) {
			cur := rulesOf(t, s, pat.Actor, maya.ID)
			cur.Audience = policy.AudienceNobody
			ch := store.PolicyChange{Rules: cur, ExpectVersion: cur.Version}
			for name, v := range map[string]models.Actor{"guardian_of_another_teen": gil.Actor, "other_teen": samP.Actor,
				"staff": w.staff(t).Actor, "anonymous": {}} {
				if _, err := s.UpdatePolicy(ctx, v, maya.ID, ch); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%s: %v, want ErrNotFound", name, err)
				}
			}
			if _, err := s.UpdatePolicy(ctx, pat.Actor, 999999, ch); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("missing teen: %v", err)
			}
			if p := rulesOf(t, s, pat.Actor, maya.ID); p.Version != cur.Version {
				t.Errorf("a refused change changed the rules: %+v", p)
			}
		})

		t.Run("14_year_old_tightens_at_once", func(t *testing.T) {
			v := rulesOf(t, s, mayaP.Actor, maya.ID).Version
			got, err := edit(t, s, mayaP.Actor, maya.ID, func(p *models.DMPolicy) {
				p.Audience = policy.AudienceApproved
				p.Blocked = append(p.Blocked, models.Contact{PlatformUserID: "u_bully", Label: "Bully"})
				p.Approved[0].Label = "Gran" // labels are not looser or stricter
			})
			if err != nil || got.Version != v+1 || got.Audience != policy.AudienceApproved {
				t.Fatalf("tightening: %+v, %v", got, err)
			}
			msg := "Maya changed their message rules: who can message: everyone → approved contacts only; label of u_grandma: Grandma → Gran; blocked u_bully (Bully)."
			if !hasNote(notes(t, s, pat), msg) || !hasNote(notes(t, s, cam), msg) {
				t.Errorf("guardians not told: %+v", notes(t, s, pat))
			}
			if _, ok := noteWith(notes(t, s, mayaP), "Maya changed"); ok {
				t.Error("the teen was told about their own change")
			}
		})

		t.Run("14_year_old_loosening_needs_approval", func(t *testing.T) {
			before := rulesOf(t, s, mayaP.Actor, maya.ID)
			for name, change := range map[string]func(p *models.DMPolicy){
				"audience":    func(p *models.DMPolicy) { p.Audience = policy.AudienceEveryone },
				"unblock":     func(p *models.DMPolicy) { p.Blocked = p.Blocked[:1] },
				"approve":     func(p *models.DMPolicy) { p.Approved = append(p.Approved, models.Contact{PlatformUserID: "u_new"}) },
				"quiet_off":   func(p *models.DMPolicy) { p.QuietEnabled = false },
				"quiet_moved": func(p *models.DMPolicy) { p.QuietStart = 23 * 60 },
				"adults":      func(p *models.DMPolicy) { p.BlockAdultStrangers = false },
				"media":       func(p *models.DMPolicy) { p.MediaFriendsOnly = false },
			} {
				_, err := edit(t, s, mayaP.Actor, maya.ID, change)
				if !errors.Is(err, models.ErrNeedsApproval) || !errors.Is(err, models.ErrForbidden) {
					t.Errorf("%s: %v, want ErrNeedsApproval", name, err)
				}
			}
			if after := rulesOf(t, s, mayaP.Actor, maya.ID); after.Version != before.Version || !models.SameRules(before, after) {
				t.Errorf("refused loosening changed the rules: %+v", after)
			}
		})

		t.Run("16_year_old_loosens_at_once", func(t *testing.T) {
			got, err := edit(t, s, leoP.Actor, leo.ID, func(p *models.DMPolicy) {
				p.Audience, p.BlockAdultStrangers = policy.AudienceEveryone, false
			})
			if err != nil || got.Audience != policy.AudienceEveryone || got.BlockAdultStrangers || got.Version != 2 {
				t.Fatalf("16-year-old loosening: %+v, %v", got, err)
			}
			if !hasNote(notes(t, s, pat), "Leo changed their message rules: who can message: friends → everyone; adult strangers: blocked → allowed.") {
				t.Errorf("guardian not told: %+v", notes(t, s, pat))
			}
		})
	})
}

func TestStore_UpdatePolicy_Validation(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		pat := w.guardian(t, "Pat Parent")
		w.link(t, pat, mayaP)
		c := func(id, label string) models.Contact { return models.Contact{PlatformUserID: id, Label: label} }
		many := make([]models.Contact, models.MaxContacts+1)
		for i := range many {
			many[i] = c(fmt.Sprintf("u_%d", i), "")
		}
		cases := []struct {
			name   string
			change func(p *models.DMPolicy)
			want   map[string]string // field → part of the message
		}{
			{"same_start_and_end", func(p *models.DMPolicy) { p.QuietEnd = p.QuietStart },
				map[string]string{"quiet_end": "Quiet hours need different start and end times"}},
			{"times_out_of_range", func(p *models.DMPolicy) { p.QuietStart, p.QuietEnd = 1440, 5000 },
				map[string]string{"quiet_start": "00:00 to 23:59", "quiet_end": "00:00 to 23:59"}},
			{"bad_audience", func(p *models.DMPolicy) { p.Audience = 9 }, map[string]string{"audience": "everyone"}},
			{"negative_min_age", func(p *models.DMPolicy) { p.MinSenderAccountAgeDays = -1 },
				map[string]string{"min_sender_account_age_days": "negative"}},
			{"huge_min_age", func(p *models.DMPolicy) { p.MinSenderAccountAgeDays = 4000 },
				map[string]string{"min_sender_account_age_days": "3650"}},
			{"bad_ids", func(p *models.DMPolicy) {
				p.Approved = []models.Contact{c("ok_1", ""), c("has space", ""), c("", "x")}
				p.Blocked = []models.Contact{c(strings.Repeat("a", 65), "")}
			}, map[string]string{"approved[1]": `"has space" is not a platform user ID`, "approved[2]": "needs a platform user ID",
				"blocked[0]": "longer than 64"}},
			{"duplicates", func(p *models.DMPolicy) {
				p.Blocked = []models.Contact{c("u_9", "a"), c("u_8", ""), c("u_9", "b")}
			}, map[string]string{"blocked[2]": `"u_9" is listed twice`}},
			{"both_lists", func(p *models.DMPolicy) {
				p.Approved = []models.Contact{c("u_7", "Gran")}
				p.Blocked = []models.Contact{c("u_7", "")}
			}, map[string]string{"blocked[0]": `"u_7" is also an approved contact`}},
			{"labels", func(p *models.DMPolicy) {
				p.Approved = []models.Contact{c("u_1", strings.Repeat("é", 65)), c("u_2", "tab\there"), c("u_3", "\xff")}
			}, map[string]string{"approved[0]": `label for "u_1" is longer than 64`, "approved[1]": "control characters",
				"approved[2]": "not valid text"}},
			{"too_many", func(p *models.DMPolicy) { p.Blocked = many }, map[string]string{"blocked": "at most 200"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := edit(t, s, pat.Actor, maya.ID, tc.change)
				fe := models.FieldErrors(err)
				if fe == nil {
					t.Fatalf("err = %v, want a validation error", err)
				}
				for field, part := range tc.want {
					if !strings.Contains(fe[field], part) {
						t.Errorf("%s: %q, want it to mention %q (all: %v)", field, fe[field], part, fe)
					}
				}
			})
		}
		if p := rulesOf(t, s, pat.Actor, maya.ID); p.Version != 1 {
			t.Errorf("invalid changes changed the rules: %+v", p)
		}
		if _, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) { p.QuietEnabled, p.QuietEnd = false, p.QuietStart }); err != nil {
			t.Errorf("equal times with quiet hours off: %v", err)
		}
	})
}

func TestStore_Loosening(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06") // 14
		_, leoP := w.teen(t, "Leo", "2010-06")      // 16
		_, samP := w.teen(t, "Sam", "2012-02")
		pat := w.guardian(t, "Pat Parent")
		cam := w.guardian(t, "Cam Coparent")
		gil := w.guardian(t, "Gil Guardian")
		w.link(t, pat, mayaP)
		w.link(t, cam, mayaP)
		w.link(t, pat, leoP)
		w.link(t, gil, samP)

		ask := func(t *testing.T, reason string, change func(p *models.DMPolicy)) models.Request {
			t.Helper()
			cur := rulesOf(t, s, mayaP.Actor, maya.ID)
			next := cur
			next.Approved, next.Blocked = slices.Clone(cur.Approved), slices.Clone(cur.Blocked)
			change(&next)
			r, err := s.RequestLoosening(ctx, mayaP.Actor, store.PolicyChange{Rules: next, ExpectVersion: cur.Version, Reason: reason})
			if err != nil {
				t.Fatalf("RequestLoosening: %v", err)
			}
			return r
		}
		everyone := func(p *models.DMPolicy) { p.Audience = policy.AudienceEveryone }

		t.Run("refusals", func(t *testing.T) {
			cur := rulesOf(t, s, mayaP.Actor, maya.ID)
			looser := cur
			looser.Audience = policy.AudienceEveryone
			ch := store.PolicyChange{Rules: looser, ExpectVersion: cur.Version, Reason: "please"}
			for name, v := range map[string]models.Actor{"guardian": pat.Actor, "anonymous": {}} {
				if _, err := s.RequestLoosening(ctx, v, ch); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%s: %v, want ErrNotFound", name, err)
				}
			}
			if _, err := s.RequestLoosening(ctx, leoP.Actor, ch); models.FieldErrors(err)["rules"] == "" {
				t.Errorf("16-year-old asked: %v", err)
			}
			noReason := ch
			noReason.Reason = " "
			if _, err := s.RequestLoosening(ctx, mayaP.Actor, noReason); models.FieldErrors(err)["reason"] == "" {
				t.Errorf("no reason: %v", err)
			}
			stricter := ch
			stricter.Rules.Audience = policy.AudienceNobody
			if _, err := s.RequestLoosening(ctx, mayaP.Actor, stricter); !strings.Contains(models.FieldErrors(err)["rules"], "save them yourself") {
				t.Errorf("a stricter change as a request: %v", err)
			}
			stale := ch
			stale.ExpectVersion--
			if _, err := s.RequestLoosening(ctx, mayaP.Actor, stale); !errors.Is(err, models.ErrStale) {
				t.Errorf("stale request: %v", err)
			}
		})

		t.Run("approve_for_an_hour_then_revert", func(t *testing.T) {
			r := ask(t, "My club chat has people I don't follow", everyone)
			if r.Kind != models.RequestLoosenPolicy || r.State != models.RequestPending || r.TeenName != "Maya" {
				t.Fatalf("request = %+v", r)
			}
			var p models.LoosenPayload
			if err := json.Unmarshal(r.Payload, &p); err != nil || p.BaseVersion != 1 || p.Rules.Audience != "everyone" ||
				p.Base.Audience != "friends" || len(p.Loosens) != 1 || p.Changes[0] != "who can message: friends → everyone" {
				t.Fatalf("payload = %s (%v)", r.Payload, err)
			}
			if _, err := s.RequestLoosening(ctx, mayaP.Actor, store.PolicyChange{Rules: rulesOf(t, s, mayaP.Actor, maya.ID),
				ExpectVersion: 1, Reason: "x"}); err == nil {
				t.Error("a no-op request was accepted")
			}
			again := rulesOf(t, s, mayaP.Actor, maya.ID)
			again.MediaFriendsOnly = false
			if _, err := s.RequestLoosening(ctx, mayaP.Actor, store.PolicyChange{Rules: again, ExpectVersion: 1, Reason: "and this"}); !errors.Is(err, models.ErrRequestPending) {
				t.Errorf("second pending request: %v, want ErrRequestPending", err)
			}
			msg := "Maya asked for looser message rules: who can message: friends → everyone. You can approve or decline it on Maya's page."
			for _, g := range []party{pat, cam} {
				if !hasNote(notes(t, s, g), msg) {
					t.Errorf("%s not told: %+v", g.Name, notes(t, s, g))
				}
				if len(w.out.to(t, g.Email)) == 0 {
					t.Errorf("%s not emailed", g.Name)
				}
				rs, err := s.GuardianRequests(ctx, g.Actor, maya.ID)
				if err != nil || len(rs) != 1 || rs[0].ID != r.ID {
					t.Errorf("GuardianRequests(%s) = %+v, %v", g.Name, rs, err)
				}
			}
			if err := s.DecideLoosening(ctx, gil.Actor, r.ID, true, "", models.GrantOneHour); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("guardian of another teen decided: %v", err)
			}
			if err := s.DecideLoosening(ctx, cam.Actor, r.ID, true, "", 2*time.Hour); models.FieldErrors(err)["duration"] == "" {
				t.Errorf("a 2-hour grant: %v", err)
			}
			if err := s.DecideLoosening(ctx, cam.Actor, r.ID, true, "Just for the trip", models.GrantOneHour); err != nil {
				t.Fatal(err)
			}
			got := rulesOf(t, s, mayaP.Actor, maya.ID)
			if got.Audience != policy.AudienceEveryone || got.Version != 2 || got.UpdatedByName != "Cam Coparent" ||
				got.RevertAt == nil || !got.RevertAt.Equal(day0.Add(time.Hour)) {
				t.Fatalf("rules after approval = %+v", got)
			}
			if _, ok := noteWith(notes(t, s, mayaP), "Cam Coparent approved your request for 1 hour (until 13:00 on 27 Nov). Your message rules changed: who can message: friends → everyone. They wrote: “Just for the trip”"); !ok {
				t.Errorf("teen not told: %+v", notes(t, s, mayaP))
			}
			if !hasNote(notes(t, s, pat), "Cam Coparent approved Maya's request for 1 hour and changed Maya's message rules: who can message: friends → everyone.") {
				t.Errorf("other guardian not told: %+v", notes(t, s, pat))
			}
			if err := s.DecideLoosening(ctx, pat.Actor, r.ID, false, "", 0); !errors.Is(err, models.ErrConflict) {
				t.Errorf("deciding twice: %v", err)
			}

			if n, err := s.RevertExpiredGrants(ctx); n != 0 || err != nil {
				t.Errorf("early revert: %d, %v", n, err)
			}
			w.c.Add(time.Hour)
			if n, err := s.RevertExpiredGrants(ctx); n != 1 || err != nil {
				t.Fatalf("RevertExpiredGrants = %d, %v", n, err)
			}
			got = rulesOf(t, s, mayaP.Actor, maya.ID)
			if got.Audience != policy.AudienceFriends || got.Version != 3 || got.RevertAt != nil || got.UpdatedByName != "Hearth" {
				t.Fatalf("rules after the hour = %+v", got)
			}
			if e := latestAudit(t, s, maya.ID); e.Action != models.ActionPolicyChanged || e.ActorRole != models.AuditRoleSystem {
				t.Errorf("revert audit = %+v", e)
			}
			if !hasNote(notes(t, s, mayaP), "Your time-limited message rules ended, so they are back to what they were: who can message: everyone → friends.") {
				t.Errorf("teen not told of the revert: %+v", notes(t, s, mayaP))
			}
			if _, ok := noteWith(notes(t, s, cam), "The time-limited change to Maya's message rules ended"); !ok {
				t.Error("guardian not told of the revert")
			}
			if n, _ := s.RevertExpiredGrants(ctx); n != 0 {
				t.Errorf("reverted twice: %d", n)
			}
		})

		t.Run("until_changed", func(t *testing.T) {
			r := ask(t, "I'm careful", everyone)
			// The generic decision delegates with "until changed".
			if err := s.DecideRequest(ctx, pat.Actor, r.ID, true, ""); err != nil {
				t.Fatal(err)
			}
			got := rulesOf(t, s, mayaP.Actor, maya.ID)
			if got.Audience != policy.AudienceEveryone || got.RevertAt != nil {
				t.Fatalf("rules = %+v", got)
			}
			w.c.Add(48 * time.Hour)
			if n, _ := s.RevertExpiredGrants(ctx); n != 0 || rulesOf(t, s, mayaP.Actor, maya.ID).Audience != policy.AudienceEveryone {
				t.Errorf("an until-changed approval reverted")
			}
			if _, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) { p.Audience = policy.AudienceFriends }); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("decline", func(t *testing.T) {
			before := rulesOf(t, s, mayaP.Actor, maya.ID)
			r := ask(t, "photos from my team", func(p *models.DMPolicy) { p.MediaFriendsOnly = false })
			if err := s.DecideLoosening(ctx, cam.Actor, r.ID, false, "Not yet", 0); err != nil {
				t.Fatal(err)
			}
			if after := rulesOf(t, s, mayaP.Actor, maya.ID); after.Version != before.Version || !after.MediaFriendsOnly {
				t.Errorf("declining changed the rules: %+v", after)
			}
			if !hasNote(notes(t, s, mayaP), "Cam Coparent declined your request to loosen your message rules. They wrote: “Not yet”") {
				t.Errorf("teen not told: %+v", notes(t, s, mayaP))
			}
			if !hasNote(notes(t, s, pat), "Cam Coparent declined Maya's request for looser message rules.") {
				t.Errorf("other guardian not told")
			}
		})

		t.Run("an_edit_ends_a_grant", func(t *testing.T) {
			r := ask(t, "one evening", func(p *models.DMPolicy) { p.QuietEnabled = false })
			if err := s.DecideLoosening(ctx, pat.Actor, r.ID, true, "", models.GrantOneDay); err != nil {
				t.Fatal(err)
			}
			if rulesOf(t, s, pat.Actor, maya.ID).RevertAt == nil {
				t.Fatal("no revert time")
			}
			got, err := edit(t, s, cam.Actor, maya.ID, func(p *models.DMPolicy) { p.MinSenderAccountAgeDays = 30 })
			if err != nil || got.RevertAt != nil || got.QuietEnabled {
				t.Fatalf("edit during a grant = %+v, %v", got, err)
			}
			w.c.Add(25 * time.Hour)
			if n, _ := s.RevertExpiredGrants(ctx); n != 0 || rulesOf(t, s, pat.Actor, maya.ID).QuietEnabled {
				t.Error("a grant ended by an edit still reverted")
			}
			if _, err := edit(t, s, cam.Actor, maya.ID, func(p *models.DMPolicy) { p.QuietEnabled = true }); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("approving_after_a_change_applies_only_what_was_asked", func(t *testing.T) {
			r := ask(t, "my coach", func(p *models.DMPolicy) {
				p.BlockAdultStrangers = false
				p.Approved = append(p.Approved, models.Contact{PlatformUserID: "u_coach", Label: "Coach"})
			})
			// Meanwhile a guardian blocks someone and raises the minimum age.
			if _, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) {
				p.Blocked = append(p.Blocked, models.Contact{PlatformUserID: "u_troll", Label: "Troll"})
				p.MinSenderAccountAgeDays = 60
			}); err != nil {
				t.Fatal(err)
			}
			if err := s.DecideLoosening(ctx, cam.Actor, r.ID, true, "", 0); err != nil {
				t.Fatal(err)
			}
			got := rulesOf(t, s, mayaP.Actor, maya.ID)
			if got.BlockAdultStrangers || got.MinSenderAccountAgeDays != 60 ||
				!slices.Contains(got.Approved, models.Contact{PlatformUserID: "u_coach", Label: "Coach"}) ||
				!slices.Contains(got.Blocked, models.Contact{PlatformUserID: "u_troll", Label: "Troll"}) {
				t.Errorf("merged rules = %+v", got)
			}
		})

		t.Run("teen_cancels", func(t *testing.T) {
			r := ask(t, "hmm", func(p *models.DMPolicy) { p.MediaFriendsOnly = false })
			if err := s.CancelRequest(ctx, mayaP.Actor, r.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.DecideLoosening(ctx, pat.Actor, r.ID, true, "", 0); !errors.Is(err, models.ErrConflict) {
				t.Errorf("approving a cancelled request: %v", err)
			}
		})
	})
}

func TestStore_PolicySnapshotsAndSupervision(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		if snaps, max, err := s.PolicySnapshots(ctx, 0); err != nil || len(snaps) != 0 || max != 0 {
			t.Fatalf("empty PolicySnapshots = %v, %d, %v", snaps, max, err)
		}
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		leo, leoP := w.teen(t, "Leo", "2010-06")
		w.teen(t, "Ava", "2009-06") // never supervised
		pat := w.guardian(t, "Pat Parent")
		cam := w.guardian(t, "Cam Coparent")
		patMaya := w.link(t, pat, mayaP)
		camMaya := w.link(t, cam, mayaP)
		w.link(t, pat, leoP)
		if _, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) {
			p.Approved = []models.Contact{{PlatformUserID: "u_grandma", Label: "Grandma"}}
			p.Blocked = []models.Contact{{PlatformUserID: "u_stranger9"}, {PlatformUserID: "u_x", Label: "X"}}
		}); err != nil {
			t.Fatal(err)
		}

		snaps, max, err := s.PolicySnapshots(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(snaps) != 2 || max != seqNow(t, s) || snaps[0].Seq >= snaps[1].Seq || snaps[1].Seq != max {
			t.Fatalf("PolicySnapshots(0) = %+v, %d", snaps, max)
		}
		m := snaps[1] // Maya changed last
		if m.PlatformUserID != maya.PlatformUserID || m.ClientID != w.client.ID || m.TimeZone != "Europe/London" || !m.Supervised ||
			m.Policy.Version != 2 || m.Policy.TeenID != maya.ID || len(m.Policy.Approved) != 1 || len(m.Policy.Blocked) != 2 ||
			m.Policy.Blocked[1].Label != "X" || !m.Policy.MediaFriendsOnly || m.Policy.QuietStart != 22*60 {
			t.Errorf("Maya's snapshot = %+v", m)
		}
		if snaps[0].PlatformUserID != leo.PlatformUserID || len(snaps[0].Policy.Approved)+len(snaps[0].Policy.Blocked) != 0 {
			t.Errorf("Leo's snapshot = %+v", snaps[0])
		}

		t.Run("only_changes_after_a_seq", func(t *testing.T) {
			if _, err := edit(t, s, pat.Actor, leo.ID, func(p *models.DMPolicy) { p.MinSenderAccountAgeDays = 7 }); err != nil {
				t.Fatal(err)
			}
			got, newMax, err := s.PolicySnapshots(ctx, max)
			if err != nil || len(got) != 1 || got[0].PlatformUserID != leo.PlatformUserID || got[0].Policy.MinSenderAccountAgeDays != 7 ||
				newMax != got[0].Seq || newMax <= max {
				t.Fatalf("PolicySnapshots(%d) = %+v, %d, %v", max, got, newMax, err)
			}
			if got, same, err := s.PolicySnapshots(ctx, newMax); err != nil || len(got) != 0 || same != newMax {
				t.Errorf("nothing new: %+v, %d, %v", got, same, err)
			}
			max = newMax
		})

		t.Run("time_zone_change_bumps_the_seq", func(t *testing.T) {
			in := store.TeenInput{DisplayName: "Maya", BirthMonth: "2012-06", TimeZone: "Europe/London"}
			if _, _, err := s.UpsertTeen(ctx, w.client.ID, maya.PlatformUserID, in); err != nil || seqNow(t, s) != max {
				t.Fatalf("same zone: %v, seq %d → %d", err, max, seqNow(t, s))
			}
			in.TimeZone = "America/New_York"
			if _, _, err := s.UpsertTeen(ctx, w.client.ID, maya.PlatformUserID, in); err != nil {
				t.Fatal(err)
			}
			got, newMax, err := s.PolicySnapshots(ctx, max)
			if err != nil || len(got) != 1 || got[0].TimeZone != "America/New_York" || got[0].Policy.Version != 2 {
				t.Fatalf("after a zone change: %+v, %v", got, err)
			}
			max = newMax
		})

		t.Run("last_link_ending_stops_supervision", func(t *testing.T) {
			r, err := s.RequestLoosening(ctx, mayaP.Actor, store.PolicyChange{Rules: func() models.DMPolicy {
				p := rulesOf(t, s, mayaP.Actor, maya.ID)
				p.Audience = policy.AudienceEveryone
				return p
			}(), ExpectVersion: 2, Reason: "please"})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.EndLink(ctx, pat.Actor, patMaya.ID, ""); err != nil {
				t.Fatal(err)
			}
			if got, _, _ := s.PolicySnapshots(ctx, max); len(got) != 0 {
				t.Errorf("ending one of two links changed the rules: %+v", got)
			}
			if err := s.EndLink(ctx, cam.Actor, camMaya.ID, ""); err != nil {
				t.Fatal(err)
			}
			got, newMax, err := s.PolicySnapshots(ctx, max)
			if err != nil || len(got) != 1 || got[0].Supervised || got[0].Policy.Version != 2 || newMax <= max {
				t.Fatalf("after the last link ended: %+v, %d, %v", got, newMax, err)
			}
			max = newMax
			if _, err := s.TeenPolicy(ctx, mayaP.Actor, maya.ID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("unsupervised teen reads rules: %v", err)
			}
			if p := rulesOf(t, s, w.staff(t).Actor, maya.ID); p.Version != 2 || len(p.Blocked) != 2 {
				t.Errorf("kept rules = %+v", p)
			}
			if _, sup, err := s.TeenPolicyByPlatformID(ctx, w.client.ID, maya.PlatformUserID); sup || err != nil {
				t.Errorf("TeenPolicyByPlatformID supervised = %v, %v", sup, err)
			}
			rs, _ := s.TeenRequests(ctx, mayaP.Actor)
			if len(rs) == 0 || rs[0].ID != r.ID || rs[0].State != models.RequestCancelled {
				t.Errorf("pending loosening request = %+v, want cancelled", rs)
			}
		})

		t.Run("new_supervision_starts_from_the_defaults", func(t *testing.T) {
			w.link(t, cam, mayaP)
			p := rulesOf(t, s, cam.Actor, maya.ID)
			if p.Version != 3 || len(p.Approved)+len(p.Blocked) != 0 || p.MinSenderAccountAgeDays != 0 || !p.QuietEnabled {
				t.Errorf("rules of renewed supervision = %+v", p)
			}
			e := latestAudit(t, s, maya.ID)
			if e.Action != models.ActionPolicyChanged || !strings.Contains(e.Reason, "started again") || !strings.Contains(string(e.Before), "u_stranger9") {
				t.Errorf("audit of the reset = %+v", e)
			}
			got, _, _ := s.PolicySnapshots(ctx, max)
			if len(got) != 1 || !got[0].Supervised || got[0].Policy.Version != 3 {
				t.Errorf("snapshot after renewed supervision = %+v", got)
			}
		})

		t.Run("turning_18_stops_supervision", func(t *testing.T) {
			_, zoeP := w.teen(t, "Zoe", "2009-01") // turns 18 on 2027-01-01
			w.link(t, pat, zoeP)
			before := seqNow(t, s)
			w.c.t.Store(time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC).UnixNano())
			defer w.c.t.Store(day0.UnixNano())
			if n, err := s.EndLinksAtEighteen(ctx); err != nil || n != 1 {
				t.Fatalf("EndLinksAtEighteen = %d, %v", n, err)
			}
			got, _, _ := s.PolicySnapshots(ctx, before)
			if len(got) != 1 || got[0].Supervised || got[0].PlatformUserID == maya.PlatformUserID {
				t.Errorf("after 18: %+v", got)
			}
		})

		t.Run("approved_end_supervision_request_stops_supervision", func(t *testing.T) {
			_, kimP := w.teen(t, "Kim", "2012-03")
			l := w.link(t, cam, kimP)
			r, err := s.RequestEndSupervision(ctx, kimP.Actor, l.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			before := seqNow(t, s)
			if err := s.DecideRequest(ctx, cam.Actor, r.ID, true, ""); err != nil {
				t.Fatal(err)
			}
			if got, _, _ := s.PolicySnapshots(ctx, before); len(got) != 1 || got[0].Supervised {
				t.Errorf("after approval: %+v", got)
			}
		})
	})
}

// hookLog records what the policy hooks saw.
type hookLog struct {
	mu      sync.Mutex
	inTx    []int64
	commits []int64
	errs    []string
}

func (h *hookLog) take() (inTx, commits []int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	inTx, commits = h.inTx, h.commits
	h.inTx, h.commits = nil, nil
	return inTx, commits
}

func TestStore_PolicyHooks(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		h := &hookLog{}
		s.OnPolicyChanged = func(tx *gorm.DB, seq int64) error {
			// Inside the writing transaction the new seq is already there.
			var n int64
			if err := tx.Table("policies").Where("seq = ?", seq).Count(&n).Error; err != nil || n != 1 {
				h.errs = append(h.errs, fmt.Sprintf("seq %d not visible in the transaction (%d, %v)", seq, n, err))
			}
			h.mu.Lock()
			h.inTx = append(h.inTx, seq)
			h.mu.Unlock()
			return nil
		}
		s.AfterPolicyCommit = func(c2 context.Context, seq int64) {
			// After the commit the store is free again and the change is
			// there for everyone (on SQLite this would deadlock inside).
			if cur, err := s.CurrentSeq(c2); err != nil || cur < seq {
				h.errs = append(h.errs, fmt.Sprintf("after commit CurrentSeq = %d, %v, want >= %d", cur, err, seq))
			}
			h.mu.Lock()
			h.commits = append(h.commits, seq)
			h.mu.Unlock()
		}
		t.Cleanup(func() { s.OnPolicyChanged, s.AfterPolicyCommit = nil, nil })

		maya, mayaP := w.teen(t, "Maya", "2012-06")
		pat := w.guardian(t, "Pat Parent")
		check := func(t *testing.T, what string, want int) {
			t.Helper()
			inTx, commits := h.take()
			if len(inTx) != want || len(commits) != min(want, 1) || (want > 0 && commits[0] != slices.Max(inTx)) {
				t.Errorf("%s: in tx %v, after commit %v; want %d in tx and the highest after commit", what, inTx, commits, want)
			}
			if want > 0 && commits[0] != seqNow(t, s) {
				t.Errorf("%s: after commit %v, CurrentSeq %d", what, commits, seqNow(t, s))
			}
		}
		l := w.link(t, pat, mayaP)
		check(t, "accept", 1)
		if _, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) { p.Audience = policy.AudienceNobody }); err != nil {
			t.Fatal(err)
		}
		check(t, "edit", 1)
		if _, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) {}); err != nil {
			t.Fatal(err)
		}
		check(t, "no-op edit", 0)
		if _, _, err := s.UpsertTeen(ctx, w.client.ID, maya.PlatformUserID, store.TeenInput{DisplayName: "Maya", BirthMonth: "2012-06", TimeZone: "Asia/Tokyo"}); err != nil {
			t.Fatal(err)
		}
		check(t, "time zone", 1)
		if _, err := edit(t, s, mayaP.Actor, maya.ID, func(p *models.DMPolicy) { p.Audience = policy.AudienceFriends }); !errors.Is(err, models.ErrNeedsApproval) {
			t.Fatal(err)
		}
		check(t, "refused edit", 0)

		t.Run("a_failing_hook_rolls_the_change_back", func(t *testing.T) {
			prev := s.OnPolicyChanged
			s.OnPolicyChanged = func(tx *gorm.DB, seq int64) error { return errors.New("notify failed") }
			defer func() { s.OnPolicyChanged = prev }()
			before := rulesOf(t, s, pat.Actor, maya.ID)
			if _, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) { p.MinSenderAccountAgeDays = 3 }); err == nil {
				t.Fatal("edit succeeded although the hook failed")
			}
			if after := rulesOf(t, s, pat.Actor, maya.ID); after.Version != before.Version || after.MinSenderAccountAgeDays != 0 {
				t.Errorf("rules after a failed hook = %+v", after)
			}
			check(t, "failed hook", 0)
		})

		if err := s.EndLink(ctx, pat.Actor, l.ID, ""); err != nil {
			t.Fatal(err)
		}
		check(t, "last link ended", 1)
		if len(h.errs) > 0 {
			t.Errorf("hook problems: %v", h.errs)
		}
	})
}

func TestStore_ClusterNodes(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		t0 := w.c.Now()
		behind := func(t *testing.T, seq int64, since time.Time, want ...string) {
			t.Helper()
			got, err := s.LiveNodesBehind(ctx, seq, since)
			if err != nil || !slices.Equal(got, append([]string{}, want...)) {
				t.Errorf("LiveNodesBehind(%d, %s) = %v, %v; want %v", seq, since.Format(time.TimeOnly), got, err, want)
			}
		}
		for _, id := range []string{"a", "b"} {
			if err := s.RegisterNode(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if s.Dialect() == store.Postgres {
			// Heartbeats carry the database's clock here, so liveness is
			// measured by it too; the fake clock plays no part.
			within := func(seq int64, lease time.Duration, want ...string) {
				t.Helper()
				got, err := s.LiveNodesWithin(ctx, seq, lease)
				if err != nil || !slices.Equal(got, append([]string{}, want...)) {
					t.Errorf("LiveNodesWithin(%d, %s) = %v, %v; want %v", seq, lease, got, err, want)
				}
			}
			s.NodeHeartbeat(ctx, "a", 5)
			s.NodeHeartbeat(ctx, "a", 3) // late, must not lower it
			within(5, time.Hour, "b")
			within(6, time.Hour, "a", "b")
			time.Sleep(300 * time.Millisecond)
			s.NodeHeartbeat(ctx, "b", 5)
			within(6, 200*time.Millisecond, "b") // a has been silent longer than that
			within(5, 200*time.Millisecond)
			return
		}
		behind(t, 1, t0, "a", "b")
		if err := s.NodeHeartbeat(ctx, "a", 5); err != nil {
			t.Fatal(err)
		}
		if err := s.NodeHeartbeat(ctx, "a", 3); err != nil { // late, must not lower it
			t.Fatal(err)
		}
		behind(t, 5, t0, "b")
		behind(t, 6, t0, "a", "b")

		w.c.Add(10 * time.Second)
		if err := s.NodeHeartbeat(ctx, "b", 5); err != nil {
			t.Fatal(err)
		}
		// a's last heartbeat was at t0: not live since t0+5s.
		behind(t, 6, t0.Add(5*time.Second), "b")
		behind(t, 6, t0.Add(10*time.Second), "b")
		behind(t, 6, t0.Add(11*time.Second))
		behind(t, 6, t0.In(time.FixedZone("X", 3600)), "a", "b") // any zone reads the same instant

		if err := s.RemoveNode(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		behind(t, 6, t0, "a")
		if err := s.RegisterNode(ctx, "a"); err != nil { // restarted: applied nothing yet
			t.Fatal(err)
		}
		behind(t, 1, t0, "a")
		w.c.Add(25 * time.Hour)
		if err := s.RegisterNode(ctx, "c"); err != nil { // forgets nodes silent for a day
			t.Fatal(err)
		}
		behind(t, 1, time.Time{}, "c")
		if err := s.RegisterNode(ctx, ""); models.FieldErrors(err)["node"] == "" {
			t.Errorf("empty node id: %v", err)
		}
	})
}

func TestStore_UpdatePolicy_Concurrency(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		pat := w.guardian(t, "Pat Parent")
		cam := w.guardian(t, "Cam Coparent")
		w.link(t, pat, mayaP)
		w.link(t, cam, mayaP)
		for round := range 8 {
			cur := rulesOf(t, s, pat.Actor, maya.ID)
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, 4)
			for i := range errs {
				g := []party{pat, cam}[i%2]
				next := cur
				next.MinSenderAccountAgeDays = round*10 + i + 1
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = s.UpdatePolicy(ctx, g.Actor, maya.ID, store.PolicyChange{Rules: next, ExpectVersion: cur.Version})
				}()
			}
			close(start)
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, models.ErrStale):
					t.Errorf("round %d: %v, want ErrStale", round, err)
				}
			}
			if got := rulesOf(t, s, pat.Actor, maya.ID); won != 1 || got.Version != cur.Version+1 {
				t.Fatalf("round %d: %d saves won, version %d → %d", round, won, cur.Version, got.Version)
			}
		}
		if err := s.VerifyAuditChain(ctx, maya.ID); err != nil {
			t.Error(err)
		}
	})
}

// TestStore_PolicySnapshots_FollowerMissesNothing checks the property the
// nodes rely on: a reader that repeatedly asks for the changes after the
// highest seq it has seen ends up with every teen's latest rules, however
// writers on different teens interleave.
func TestStore_PolicySnapshots_FollowerMissesNothing(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		pat := w.guardian(t, "Pat Parent")
		var teens []models.Teen
		// Only a teen's last change can be missed for good, so many teens
		// with few changes each.
		for i := range 24 {
			tn, tp := w.teen(t, fmt.Sprintf("T%d", i), "2012-06")
			w.link(t, pat, tp)
			teens = append(teens, tn)
		}
		// A writer that is slow between taking its seq and committing is
		// where a follower could skip a change; make every writer slow.
		s.OnPolicyChanged = func(tx *gorm.DB, seq int64) error {
			time.Sleep(time.Duration(seq%4) * time.Millisecond)
			return nil
		}
		t.Cleanup(func() { s.OnPolicyChanged = nil })
		seen := map[int64]int64{} // teen → version
		var applied int64
		follow := func() {
			snaps, max, err := s.PolicySnapshots(ctx, applied)
			if err != nil {
				t.Error(err)
				return
			}
			for _, sn := range snaps {
				seen[sn.Policy.TeenID] = sn.Policy.Version
			}
			applied = max
		}
		done := make(chan struct{})
		var wg sync.WaitGroup
		for _, tn := range teens {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range 2 {
					cur, err := s.TeenPolicy(ctx, pat.Actor, tn.ID)
					if err != nil {
						t.Error(err)
						return
					}
					cur.MinSenderAccountAgeDays = j + 1
					if _, err := s.UpdatePolicy(ctx, pat.Actor, tn.ID, store.PolicyChange{Rules: cur, ExpectVersion: cur.Version}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		go func() { wg.Wait(); close(done) }()
		for running := true; running; {
			select {
			case <-done:
				running = false
			default:
				follow()
			}
		}
		follow()
		for _, tn := range teens {
			if want := rulesOf(t, s, pat.Actor, tn.ID).Version; seen[tn.ID] != want {
				t.Errorf("follower has version %d of teen %d, the database %d", seen[tn.ID], tn.ID, want)
			}
		}
	})
}

func TestDescribeChanges(t *testing.T) {
	base := models.DMPolicy{Audience: policy.AudienceFriends, QuietEnabled: true, QuietStart: 22 * 60, QuietEnd: 7 * 60,
		QuietApprovedExempt: true, BlockAdultStrangers: true, MediaFriendsOnly: true,
		Approved: []models.Contact{{PlatformUserID: "u_gran", Label: "Gran"}}, Blocked: []models.Contact{{PlatformUserID: "u_9", Label: "Stranger"}}}
	cases := []struct {
		name   string
		change func(p *models.DMPolicy)
		want   []string
	}{
		{"nothing", func(p *models.DMPolicy) {}, nil},
		{"audience", func(p *models.DMPolicy) { p.Audience = policy.AudienceEveryone }, []string{"who can message: friends → everyone"}},
		{"quiet_off", func(p *models.DMPolicy) { p.QuietEnabled = false }, []string{"quiet hours: 22:00–07:00 → off"}},
		{"quiet_moved", func(p *models.DMPolicy) { p.QuietStart = 21*60 + 30 }, []string{"quiet hours: 22:00–07:00 → 21:30–07:00"}},
		{"quiet_preset_while_off", func(p *models.DMPolicy) { p.QuietEnabled = false; p.QuietEnd = 6 * 60 }, []string{"quiet hours: 22:00–07:00 → off"}},
		{"exempt", func(p *models.DMPolicy) { p.QuietApprovedExempt = false }, []string{"approved contacts during quiet hours: let through → held"}},
		{"toggles", func(p *models.DMPolicy) {
			p.BlockAdultStrangers, p.MediaFriendsOnly, p.MinSenderAccountAgeDays = false, false, 7
		},
			[]string{"adult strangers: blocked → allowed", "photos, videos and links: friends only → anyone", "minimum account age for strangers: none → 7 days"}},
		{"contacts", func(p *models.DMPolicy) {
			p.Approved = []models.Contact{{PlatformUserID: "u_gran", Label: "Grandma"}, {PlatformUserID: "u_aunt"}}
			p.Blocked = nil
		}, []string{"label of u_gran: Gran → Grandma", "approved u_aunt", "unblocked u_9 (Stranger)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			next := base
			next.Approved, next.Blocked = slices.Clone(base.Approved), slices.Clone(base.Blocked)
			tc.change(&next)
			if got := models.DescribeChanges(base, next); !slices.Equal(got, tc.want) {
				t.Errorf("DescribeChanges = %q, want %q", got, tc.want)
			}
			if models.SameRules(base, next) != (tc.want == nil) {
				t.Errorf("SameRules = %v", models.SameRules(base, next))
			}
		})
	}
	off := base
	off.QuietEnabled = false
	moved := off
	moved.QuietStart = 23 * 60
	if got := models.DescribeChanges(off, moved); !slices.Equal(got, []string{"quiet hours (off) preset: 22:00–07:00 → 23:00–07:00"}) {
		t.Errorf("preset moved while off: %q", got)
	}
	if got := models.SummarizeChanges([]string{"a", "b", "c", "d", "e", "f"}); got != "a; b; c; d; and 2 more" {
		t.Errorf("SummarizeChanges = %q", got)
	}
}

func TestPolicyRulesJSONRoundTrip(t *testing.T) {
	p := models.DMPolicy{TeenID: 7, Audience: policy.AudienceApproved, QuietEnabled: true, QuietStart: 21*60 + 30, QuietEnd: 7 * 60,
		BlockAdultStrangers: true, MinSenderAccountAgeDays: 30,
		Approved: []models.Contact{{PlatformUserID: "u_1", Label: "One"}}, Blocked: []models.Contact{}}
	var r models.PolicyRules
	if err := json.Unmarshal(p.JSON(), &r); err != nil {
		t.Fatal(err)
	}
	back, err := r.Policy(7)
	if err != nil || !models.SameRules(p, back) {
		t.Fatalf("round trip = %+v, %v", back, err)
	}
	want := `{"audience":"approved","quiet":{"enabled":true,"start":"21:30","end":"07:00","approved_exempt":false},"block_adult_strangers":true,"media_friends_only":false,"min_sender_account_age_days":30,"approved":[{"id":"u_1","label":"One"}],"blocked":[]}`
	if string(p.JSON()) != want {
		t.Errorf("JSON = %s\nwant   %s", p.JSON(), want)
	}
	for _, bad := range []string{"24:00", "7:5", "ab:cd", "", "12:60"} {
		if _, err := models.ParseClock(bad); err == nil {
			t.Errorf("ParseClock(%q) accepted", bad)
		}
	}
	if m, err := models.ParseClock("7:30"); err != nil || m != 450 {
		t.Errorf("ParseClock(7:30) = %d, %v", m, err)
	}
}
