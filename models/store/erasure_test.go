package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
)

const patPassword = "correct horse battery"

// passwordGuardian makes a guardian who can type a real password.
func (w *world) passwordGuardian(t *testing.T, name, email string) party {
	t.Helper()
	u, err := w.s.CreateUser(ctx, store.NewUser{Email: email, Name: name, Password: patPassword, Role: models.RoleGuardian})
	if err != nil {
		t.Fatal(err)
	}
	return party{Actor: models.Actor{UserID: u.ID, Role: models.RoleGuardian}, Name: name, Email: email}
}

func TestStore_DeleteGuardianAccount(t *testing.T) {
	eachHookWorld(t, func(t *testing.T, w *hookWorld) {
		s := w.s
		pat := w.passwordGuardian(t, "Pat", "pat@example.com")
		sam := w.guardian(t, "Sam")
		maya, mp := w.teen(t, "Maya", "2012-06")
		leo, lp := w.teen(t, "Leo", "2010-06")
		w.link(t, pat, mp)
		w.link(t, sam, mp)
		w.link(t, pat, lp)
		w.invite(t, pat)
		storeAlertAt(t, w.world, maya.PlatformUserID, "evt_1", w.c.Now().Add(-time.Hour), pat.UserID)
		now := w.c.Now()
		if err := s.CreateSession(ctx, store.Session{IDHash: "pats", UserID: pat.UserID, Data: "{}", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) { p.MediaFriendsOnly = !p.MediaFriendsOnly }); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.TeenPolicy(ctx, sam.Actor, maya.ID); p.UpdatedByName != "Pat" {
			t.Fatalf("set-up: Maya's rules last changed by %q, want Pat", p.UpdatedByName)
		}
		hooksBefore := len(w.events(t, 0))

		err := s.DeleteGuardianAccount(ctx, pat.Actor, "not my password")
		if fe := models.FieldErrors(err); fe["password"] == "" {
			t.Fatalf("wrong password: err = %v, want a field error on password", err)
		}
		if err := s.DeleteGuardianAccount(ctx, mp.Actor, patPassword); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("a teen deleting as a guardian: err = %v, want ErrNotFound", err)
		}
		if liveCount(t, s, maya.ID) != 2 || rawInt(t, s, "SELECT COUNT(*) FROM users WHERE id = ?", pat.UserID) != 1 {
			t.Fatal("a refused deletion changed something")
		}

		if err := s.DeleteGuardianAccount(ctx, pat.Actor, patPassword); err != nil {
			t.Fatalf("DeleteGuardianAccount: %v", err)
		}

		for q, want := range map[string]int{
			"SELECT COUNT(*) FROM users WHERE id = ? OR email = 'pat@example.com'": 0,
			"SELECT COUNT(*) FROM links WHERE guardian_id = ?":                     0,
			"SELECT COUNT(*) FROM invitations WHERE guardian_id = ?":               0,
			"SELECT COUNT(*) FROM sessions WHERE user_id = ?":                      0,
			"SELECT COUNT(*) FROM notifications WHERE user_id = ?":                 0,
			"SELECT COUNT(*) FROM alert_reads WHERE user_id = ?":                   0,
		} {
			if n := rawInt(t, s, q, pat.UserID); n != want {
				t.Errorf("%s: %d rows, want %d", q, n, want)
			}
		}
		if liveCount(t, s, maya.ID) != 1 || liveCount(t, s, leo.ID) != 0 {
			t.Errorf("live links: Maya %d (want Sam's), Leo %d (want none)", liveCount(t, s, maya.ID), liveCount(t, s, leo.ID))
		}
		if !hasNote(notes(t, s, mp), "Pat deleted their Hearth account, so their supervision ended. They no longer see anything about you.") ||
			!hasNote(notes(t, s, lp), "Pat deleted their Hearth account, so their supervision ended. They no longer see anything about you.") {
			t.Error("a teen was not told")
		}
		if msg := "Pat deleted their Hearth account and no longer supervises Maya."; !hasNote(notes(t, s, sam), msg) || len(w.out.to(t, sam.Email)) == 0 {
			t.Error("the other guardian was not told, in the app and by email")
		}
		// The end is in each teen's chain, with the reason, and the chain
		// still verifies: nothing in it was changed.
		for _, teen := range []models.Teen{maya, leo} {
			e := latestAudit(t, s, teen.ID)
			if e.Action != models.ActionLinkEnded || e.ActorName != "Pat" || !strings.Contains(e.Reason, "deleted their Hearth account") {
				t.Errorf("%s's last audit entry is %+v", teen.DisplayName, e)
			}
			if err := s.VerifyAuditChain(ctx, teen.ID); err != nil {
				t.Errorf("%s's chain: %v", teen.DisplayName, err)
			}
		}
		// Leo's supervision ended with Pat's link: the client hears of it;
		// Maya is still supervised by Sam, so nothing goes out for her.
		evs := w.events(t, 0)[hooksBefore:]
		if len(evs) != 1 || evs[0].Type != models.WebhookSupervisionEnded || evs[0].Data.TeenID != leo.PlatformUserID {
			t.Errorf("webhooks after the deletion: %+v, want one supervision.ended for Leo", evs)
		}
		if p, err := s.TeenPolicy(ctx, sam.Actor, maya.ID); err != nil || p.UpdatedByName == "Pat" {
			t.Errorf("Maya's rules for Sam: last changed by %q (%v); want them kept without Pat's name", p.UpdatedByName, err)
		}
		// The address is free: signing up again makes a new account.
		res, err := s.SignUpGuardian(ctx, store.NewUser{Email: "Pat@Example.com", Name: "Pat", Password: "a brand new passphrase"})
		if err != nil || res.Existing || res.User.ID == pat.UserID {
			t.Errorf("signing up again: %+v, %v", res, err)
		}
	})
}

func TestStore_EraseTeen(t *testing.T) {
	eachHookWorld(t, func(t *testing.T, w *hookWorld) {
		s := w.s
		pat := w.guardian(t, "Pat")
		sam := w.guardian(t, "Sam")
		maya, mp := w.teen(t, "Maya", "2012-06")
		leo, lp := w.teen(t, "Leo", "2010-06")
		l := w.link(t, pat, mp)
		w.link(t, sam, mp)
		w.link(t, pat, lp)
		if _, err := s.RequestEndSupervision(ctx, mp.Actor, l.ID, "please"); err != nil {
			t.Fatal(err)
		}
		storeAlertAt(t, w.world, maya.PlatformUserID, "evt_maya", w.c.Now().Add(-time.Hour), pat.UserID)
		storeAlertAt(t, w.world, leo.PlatformUserID, "evt_leo", w.c.Now().Add(-time.Hour))
		rawExec(t, s, "INSERT INTO alert_watermarks (user_id, teen_id, read_through, updated_at) VALUES (?, ?, 1, ?)", sam.UserID, maya.ID, w.c.Now())
		rawExec(t, s, "INSERT INTO rule_counts (teen_id, day, reason, count) VALUES (?, '2026-11-27', 'allowed', 3)", maya.ID)
		if _, _, err := s.CreateSigninLink(ctx, w.client.ID, maya.PlatformUserID); err != nil {
			t.Fatal(err)
		}
		now := w.c.Now()
		if err := s.CreateSession(ctx, store.Session{IDHash: "mayas", UserID: maya.UserID, Data: "{}", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if rawInt(t, s, "SELECT COUNT(*) FROM webhook_deliveries WHERE teen_id = ?", maya.ID) == 0 {
			t.Fatal("the set-up made no webhook deliveries for Maya")
		}
		other, _ := newClient(t, s, "other app")
		if err := s.EraseTeen(ctx, other.ID, maya.PlatformUserID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("another client erasing Maya: err = %v, want ErrNotFound", err)
		}
		if err := s.EraseTeen(ctx, w.client.ID, "tk_nobody"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("erasing an unknown teen: err = %v, want ErrNotFound", err)
		}
		hooksBefore := rawInt(t, s, "SELECT COUNT(*) FROM webhook_deliveries")

		if err := s.EraseTeen(ctx, w.client.ID, maya.PlatformUserID); err != nil {
			t.Fatalf("EraseTeen: %v", err)
		}

		for _, table := range []string{"links", "invitations", "requests", "audit_events", "notifications", "policies", "policy_contacts",
			"signin_links", "webhook_deliveries", "rule_counts", "alerts", "alert_watermarks"} {
			if n := rawInt(t, s, "SELECT COUNT(*) FROM "+table+" WHERE teen_id = ?", maya.ID); n != 0 {
				t.Errorf("%s still has %d rows about Maya", table, n)
			}
		}
		for q, want := range map[string]int{
			"SELECT COUNT(*) FROM teens WHERE id = ?":              0,
			"SELECT COUNT(*) FROM users WHERE id = ?":              0,
			"SELECT COUNT(*) FROM sessions WHERE user_id = ?":      0,
			"SELECT COUNT(*) FROM notifications WHERE user_id = ?": 0,
		} {
			id := maya.UserID
			if strings.Contains(q, "teens") {
				id = maya.ID
			}
			if n := rawInt(t, s, q, id); n != want {
				t.Errorf("%s: %d rows, want %d", q, n, want)
			}
		}
		if n := rawInt(t, s, "SELECT COUNT(*) FROM alert_reads WHERE user_id = ?", pat.UserID); n != 0 {
			t.Errorf("%d acknowledgements of Maya's alerts are left", n)
		}
		// Kept: the event IDs (nothing about Maya in them), and Leo.
		if n := count(t, s, "received_events"); n != 2 {
			t.Errorf("received_events holds %d IDs, want both", n)
		}
		if liveCount(t, s, leo.ID) != 1 || rawInt(t, s, "SELECT COUNT(*) FROM alerts WHERE teen_id = ?", leo.ID) != 1 {
			t.Error("Leo's data was touched")
		}
		if err := s.VerifyAuditChain(ctx, leo.ID); err != nil {
			t.Errorf("Leo's chain: %v", err)
		}
		// The guardians were told, by a notification that outlives Maya.
		msg := "Maya's account was removed by the messaging service; supervision has ended. Hearth has deleted everything it kept about Maya."
		for _, g := range []party{pat, sam} {
			if !hasNote(notes(t, s, g), msg) || len(w.out.to(t, g.Email)) == 0 {
				t.Errorf("%s was not told in the app and by email", g.Name)
			}
		}
		// The client asked for this: no webhook goes out about it.
		if n := rawInt(t, s, "SELECT COUNT(*) FROM webhook_deliveries"); n > hooksBefore {
			t.Errorf("%d webhooks were queued by the erasure", n-hooksBefore)
		}
		// Every node forgets her: the snapshot stream says she is gone,
		// and the API no longer knows her.
		snaps, _, err := s.PolicySnapshots(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		var gone, supervised bool
		for _, sn := range snaps {
			if sn.ClientID == w.client.ID && sn.PlatformUserID == maya.PlatformUserID {
				gone = gone || !sn.Supervised
				supervised = supervised || sn.Supervised
			}
		}
		if !gone || supervised {
			t.Errorf("snapshots about Maya: gone %v, supervised %v; want a tombstone only", gone, supervised)
		}
		if _, _, err := s.TeenPolicyByPlatformID(ctx, w.client.ID, maya.PlatformUserID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("policy of an erased teen: err = %v, want ErrNotFound", err)
		}
		if err := s.EraseTeen(ctx, w.client.ID, maya.PlatformUserID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("erasing twice: err = %v, want ErrNotFound", err)
		}
		// The platform may provision the same ID again: a new teen, who
		// starts unsupervised.
		again, created, err := s.UpsertTeen(ctx, w.client.ID, maya.PlatformUserID, store.TeenInput{DisplayName: "Maya", BirthMonth: "2012-06", TimeZone: "Europe/London"})
		if err != nil || !created || again.ID == maya.ID {
			t.Errorf("provisioning again: %+v, created %v, %v", again, created, err)
		}
	})
}
