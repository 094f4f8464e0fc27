package store_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
)

func actions(es []models.AuditEvent) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Action
	}
	return out
}

func TestStore_Audit(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		pat := w.guardian(t, "Pat Parent")
		cop := w.guardian(t, "Cam Coparent")
		gone := w.guardian(t, "Gus Gone")
		stranger := w.guardian(t, "Sid Stranger")

		declined := w.invite(t, stranger)
		if err := s.DeclineInvitation(ctx, mayaP.Actor, declined); err != nil {
			t.Fatal(err)
		}
		patLink := w.link(t, pat, mayaP)
		goneLink := w.link(t, gone, mayaP)
		w.c.Add(time.Minute)
		copLink := w.link(t, cop, mayaP)
		w.c.Add(time.Minute)
		r, err := s.RequestEndSupervision(ctx, mayaP.Actor, patLink.ID, "I'd like privacy")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DecideRequest(ctx, pat.Actor, r.ID, false, "not yet"); err != nil {
			t.Fatal(err)
		}
		if err := s.EndLink(ctx, gone.Actor, goneLink.ID, "moving away"); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendAuditForTest(ctx, models.AuditEvent{TeenID: maya.ID, ActorID: maya.UserID, ActorRole: "teen", ActorName: "Maya",
			Action: "dispute.opened", Confidential: true, Reason: "about a guardian"}); err != nil {
			t.Fatal(err)
		}

		want := []string{models.ActionInvitationDeclined, models.ActionInvitationAccepted, models.ActionInvitationAccepted, models.ActionInvitationAccepted,
			models.ActionRequestCreated, models.ActionRequestDeclined, models.ActionLinkEnded, "dispute.opened"}

		t.Run("every_action_is_recorded_in_order", func(t *testing.T) {
			es, err := s.AllAuditEvents(ctx, mayaP.Actor, maya.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := actions(es); len(got) != len(want) {
				t.Fatalf("actions = %v, want %v", got, want)
			}
			for i, a := range actions(es) {
				if a != want[i] {
					t.Fatalf("actions = %v, want %v", actions(es), want)
				}
			}
			acc := es[1]
			if acc.ActorID != maya.UserID || acc.ActorRole != "teen" || acc.ActorName != "Maya" || acc.LinkID == nil || *acc.LinkID != patLink.ID ||
				string(acc.Before) != `{"invitation":"pending"}` || string(acc.After) != `{"guardian":"Pat Parent","invitation":"accepted","link":"active"}` {
				t.Errorf("accept entry = %+v (before %s, after %s)", acc, acc.Before, acc.After)
			}
			if e := es[4]; e.Reason != "I'd like privacy" || e.ActorName != "Maya" {
				t.Errorf("request entry = %+v", e)
			}
			if e := es[5]; e.Reason != "not yet" || e.ActorID != pat.UserID || e.ActorName != "Pat Parent" {
				t.Errorf("decision entry = %+v", e)
			}
			ended := es[6]
			var before, after map[string]string
			json.Unmarshal(ended.Before, &before)
			json.Unmarshal(ended.After, &after)
			if ended.Reason != "moving away" || before["state"] != "active" || after["state"] != "ended" || after["guardian"] != "Gus Gone" {
				t.Errorf("end entry = %+v (before %s, after %s)", ended, ended.Before, ended.After)
			}
			if es[0].PrevHash != "" || es[1].PrevHash != es[0].Hash || len(es[0].Hash) != 64 {
				t.Errorf("chain start: %q → %q / %q", es[0].PrevHash, es[0].Hash, es[1].PrevHash)
			}
		})

		t.Run("scoping", func(t *testing.T) {
			es, total, err := s.AuditEvents(ctx, mayaP.Actor, maya.ID, models.Page{Size: 3})
			if err != nil || total != len(want) || len(es) != 3 || es[0].Action != "dispute.opened" {
				t.Errorf("teen, page 1 = %v, %d, %v", actions(es), total, err)
			}
			es, total, err = s.AuditEvents(ctx, w.staff(t).Actor, maya.ID, models.Page{})
			if err != nil || total != len(want) || len(es) != len(want) {
				t.Errorf("staff = %v, %d, %v", actions(es), total, err)
			}
			// The co-parent joined a minute after the others: they see from
			// their own link on, and never the confidential entry.
			es, total, err = s.AuditEvents(ctx, cop.Actor, maya.ID, models.Page{})
			if err != nil || total != 4 || len(es) != 4 || es[3].LinkID == nil || *es[3].LinkID != copLink.ID {
				t.Errorf("co-parent = %v, %d, %v", actions(es), total, err)
			}
			for _, e := range es {
				if e.Confidential {
					t.Errorf("guardian sees a confidential entry: %+v", e)
				}
			}
			all, err := s.AllAuditEvents(ctx, pat.Actor, maya.ID)
			if err != nil || len(all) != len(want)-2 || all[0].Action != models.ActionInvitationAccepted {
				t.Errorf("first guardian, all = %v, %v", actions(all), err)
			}
			_, otherP := w.teen(t, "Other", "2012-01")
			for name, v := range map[string]models.Actor{"ended_guardian": gone.Actor, "unlinked_guardian": stranger.Actor, "another_teen": otherP.Actor, "anonymous": {}} {
				if _, _, err := s.AuditEvents(ctx, v, maya.ID, models.Page{}); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%s: err = %v, want ErrNotFound", name, err)
				}
				if _, err := s.AllAuditEvents(ctx, v, maya.ID); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%s: AllAuditEvents err = %v, want ErrNotFound", name, err)
				}
			}
		})

		t.Run("chain_verifies", func(t *testing.T) {
			if err := s.VerifyAuditChain(ctx, maya.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.VerifyAuditChain(ctx, 999999); err != nil {
				t.Errorf("empty chain: %v", err)
			}
		})

		t.Run("updates_are_refused", func(t *testing.T) {
			q := rebind(s, "UPDATE audit_events SET reason = 'forged' WHERE teen_id = ?")
			if _, err := s.SQLDB().ExecContext(ctx, q, maya.ID); err == nil {
				t.Fatal("the database let an audit entry change")
			}
			if err := s.VerifyAuditChain(ctx, maya.ID); err != nil {
				t.Fatalf("chain broken by a refused update: %v", err)
			}
		})

		t.Run("tampering_is_detected", func(t *testing.T) {
			// Someone with database access drops the trigger and edits a row.
			if s.Dialect() == store.Postgres {
				rawExec(t, s, "DROP TRIGGER audit_events_no_update ON audit_events")
			} else {
				rawExec(t, s, "DROP TRIGGER audit_events_no_update")
			}
			middle := rawInt(t, s, "SELECT id FROM audit_events WHERE teen_id = ? AND action = ?", maya.ID, models.ActionRequestDeclined)
			rawExec(t, s, `UPDATE audit_events SET "after" = '{"state":"approved"}' WHERE id = ?`, middle)
			err := s.VerifyAuditChain(ctx, maya.ID)
			if !errors.Is(err, models.ErrAuditTampered) {
				t.Fatalf("edited entry: err = %v, want ErrAuditTampered", err)
			}
			t.Logf("edit detected: %v", err)

			// Another teen's chain: remove an entry from the middle.
			sam, samP := w.teen(t, "Sam", "2012-03")
			g := w.guardian(t, "Sam's Parent")
			l := w.link(t, g, samP)
			if _, err := s.RequestEndSupervision(ctx, samP.Actor, l.ID, ""); err != nil {
				t.Fatal(err)
			}
			if err := s.EndLink(ctx, g.Actor, l.ID, ""); err != nil {
				t.Fatal(err)
			}
			if err := s.VerifyAuditChain(ctx, sam.ID); err != nil {
				t.Fatalf("intact chain: %v", err)
			}
			mid := rawInt(t, s, "SELECT id FROM audit_events WHERE teen_id = ? AND action = ?", sam.ID, models.ActionRequestCreated)
			rawExec(t, s, "DELETE FROM audit_events WHERE id = ?", mid)
			if err := s.VerifyAuditChain(ctx, sam.ID); !errors.Is(err, models.ErrAuditTampered) {
				t.Fatalf("removed entry: err = %v, want ErrAuditTampered", err)
			}

			// And the first entry of a third chain.
			leo, leoP := w.teen(t, "Leo", "2012-03")
			w.link(t, w.guardian(t, "Leo's Parent"), leoP)
			if err := s.AppendAuditForTest(ctx, models.AuditEvent{TeenID: leo.ID, ActorRole: models.AuditRoleSystem, Action: "test.second"}); err != nil {
				t.Fatal(err)
			}
			first := rawInt(t, s, "SELECT MIN(id) FROM audit_events WHERE teen_id = ?", leo.ID)
			rawExec(t, s, "DELETE FROM audit_events WHERE id = ?", first)
			if err := s.VerifyAuditChain(ctx, leo.ID); !errors.Is(err, models.ErrAuditTampered) {
				t.Fatalf("removed first entry: err = %v, want ErrAuditTampered", err)
			}
		})
	})
}
