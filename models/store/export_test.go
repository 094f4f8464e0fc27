package store_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
)

func TestStore_Exports(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		pat := w.guardian(t, "Pat")
		sam := w.guardian(t, "Sam")
		maya, mp := w.teen(t, "Maya", "2012-06")
		leo, lp := w.teen(t, "Leo", "2010-06")
		patLink := w.link(t, pat, mp)
		w.link(t, sam, mp)
		w.link(t, sam, lp) // Sam's alone: Pat must learn nothing of Leo
		if _, _, err := s.CreateInvitation(ctx, pat.Actor, "for Noor"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RequestEndSupervision(ctx, mp.Actor, patLink.ID, "I'm old enough"); err != nil {
			t.Fatal(err)
		}
		at := w.c.Now().Add(-2 * time.Hour)
		storeAlertAt(t, w, maya.PlatformUserID, "evt_read", at, pat.UserID)
		storeAlertAt(t, w, maya.PlatformUserID, "evt_unread", at.Add(time.Hour))
		storeAlertAt(t, w, leo.PlatformUserID, "evt_leo", at)
		rawExec(t, s, "INSERT INTO alert_preferences (user_id, category, immediate_from) VALUES (?, 'grooming', 'low'), (?, 'spam', 'never')", pat.UserID, sam.UserID)
		rawExec(t, s, "INSERT INTO digest_settings (user_id, weekly) VALUES (?, ?)", pat.UserID, false)
		rawExec(t, s, "INSERT INTO rule_counts (teen_id, day, reason, count) VALUES (?, ?, 'quiet_hours', 12)", maya.ID, w.c.Now().Format("2006-01-02"))

		if _, err := s.GuardianExport(ctx, mp.Actor); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("a teen asking for a guardian export: err = %v, want ErrNotFound", err)
		}
		if _, err := s.TeenExport(ctx, pat.Actor); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("a guardian asking for a teen export: err = %v, want ErrNotFound", err)
		}

		g, err := s.GuardianExport(ctx, pat.Actor)
		if err != nil {
			t.Fatal(err)
		}
		if g.Format != models.GuardianExportFormat || g.Account.Email != pat.Email || g.Account.Name != "Pat" {
			t.Errorf("format and account: %q %+v", g.Format, g.Account)
		}
		if len(g.Links) != 1 || g.Links[0].TeenName != "Maya" || g.Links[0].State != "active" {
			t.Errorf("links: %+v, want the one with Maya", g.Links)
		}
		labels := map[string]string{}
		for _, i := range g.Invitations {
			labels[i.Label] = i.State
		}
		if labels["for Noor"] != "pending" || labels["for a teen"] != "accepted" {
			t.Errorf("invitations: %+v", g.Invitations)
		}
		if len(g.Teens) != 1 {
			t.Fatalf("teens: %+v, want Maya only", g.Teens)
		}
		mt := g.Teens[0]
		if mt.Name != "Maya" || mt.Age != 14 || mt.Policy == nil || mt.Policy.Rules.Audience != "friends" {
			t.Errorf("Maya in Pat's export: %+v", mt)
		}
		if len(mt.Requests) != 1 || mt.Requests[0].Kind != "end_supervision" || mt.Requests[0].Reason != "I'm old enough" {
			t.Errorf("requests: %+v", mt.Requests)
		}
		if len(mt.Alerts) != 2 || mt.Alerts[0].Read == nil || *mt.Alerts[0].Read || mt.Alerts[1].Read == nil || !*mt.Alerts[1].Read ||
			mt.Alerts[1].ReadAt == nil || mt.Alerts[0].Category != "bullying" || mt.Alerts[0].CounterpartID != "u_9" {
			t.Errorf("alerts (newest first, Pat's acknowledgement): %+v", mt.Alerts)
		}
		if len(mt.Audit) == 0 || mt.Audit[0].Action != models.ActionInvitationAccepted {
			t.Errorf("audit: %+v", mt.Audit)
		}
		if len(mt.RuleCounts) != 1 || mt.RuleCounts[0].Reason != "quiet_hours" || mt.RuleCounts[0].Count != 12 {
			t.Errorf("rule counts: %+v", mt.RuleCounts)
		}
		if len(g.Notifications) == 0 {
			t.Error("no notifications (Pat was told of the request)")
		}
		if p := g.AlertPreferences; p.ImmediateFrom["grooming"] != "low" || p.ImmediateFrom["bullying"] != "high" ||
			p.ImmediateFrom["spam"] != "high" || p.WeeklyDigest || len(p.ImmediateFrom) != len(models.Categories) {
			t.Errorf("alert preferences: %+v", p)
		}
		body, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		for _, leak := range []string{"Leo", leo.PlatformUserID, sam.Email, "hash", "argon2", "password"} {
			if strings.Contains(string(body), leak) {
				t.Errorf("Pat's export contains %q: %s", leak, body)
			}
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(body, &top); err != nil || string(top["format"]) != `"hearth.guardian-export.v1"` {
			t.Errorf("top-level format: %s (%v)", top["format"], err)
		}

		te, err := s.TeenExport(ctx, mp.Actor)
		if err != nil {
			t.Fatal(err)
		}
		if te.Format != models.TeenExportFormat || te.Account.PlatformUserID != maya.PlatformUserID || te.Account.BirthMonth != "2012-06" {
			t.Errorf("teen account: %q %+v", te.Format, te.Account)
		}
		if len(te.Guardians) != 2 || te.Guardians[0].GuardianName != "Sam" || te.Guardians[0].GuardianEmail != sam.Email {
			t.Errorf("guardians: %+v", te.Guardians)
		}
		if te.Policy == nil || len(te.Requests) != 1 || len(te.Alerts) != 2 || te.Alerts[0].Read != nil ||
			len(te.Activity) == 0 || len(te.RuleCounts) != 1 || len(te.Notifications) == 0 {
			t.Errorf("teen export: %+v", te)
		}
		body, _ = json.Marshal(te)
		for _, leak := range []string{"Leo", "evt_", "hash", "token"} {
			if strings.Contains(string(body), leak) {
				t.Errorf("Maya's export contains %q", leak)
			}
		}

		// Once Pat's link ends, Maya's current data leaves Pat's export;
		// the ended link stays, as on the dashboard.
		if err := s.EndLink(ctx, pat.Actor, patLink.ID, ""); err != nil {
			t.Fatal(err)
		}
		g, err = s.GuardianExport(ctx, pat.Actor)
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Teens) != 0 || len(g.Links) != 1 || g.Links[0].State != "ended" || g.Links[0].EndedAt == nil {
			t.Errorf("after the link ended: teens %+v, links %+v", g.Teens, g.Links)
		}
	})
}
