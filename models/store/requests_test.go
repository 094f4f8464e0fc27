package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hearth-safety/hearth/models"
)

func TestStore_Requests(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06") // 14
		_, leoP := w.teen(t, "Leo", "2010-06")      // 16
		pat := w.guardian(t, "Pat Parent")
		cop := w.guardian(t, "Cam Coparent")
		patMaya := w.link(t, pat, mayaP)
		w.link(t, cop, mayaP)
		patLeo := w.link(t, pat, leoP)

		ask := func(t *testing.T, reason string) models.Request {
			t.Helper()
			r, err := s.RequestEndSupervision(ctx, mayaP.Actor, patMaya.ID, reason)
			if err != nil {
				t.Fatalf("RequestEndSupervision: %v", err)
			}
			return r
		}

		t.Run("only_the_teen_of_the_link_asks", func(t *testing.T) {
			for name, v := range map[string]models.Actor{"guardian": pat.Actor, "other_teen": leoP.Actor, "anonymous": {}} {
				if _, err := s.RequestEndSupervision(ctx, v, patMaya.ID, ""); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%s: err = %v, want ErrNotFound", name, err)
				}
			}
			if _, err := s.RequestEndSupervision(ctx, leoP.Actor, patLeo.ID, ""); models.FieldErrors(err)["link"] == "" {
				t.Errorf("16-year-old asked: %v", err)
			}
			if _, err := s.RequestEndSupervision(ctx, mayaP.Actor, patMaya.ID, strings.Repeat("x", 501)); models.FieldErrors(err)["reason"] == "" {
				t.Errorf("501-character reason: %v", err)
			}
		})

		t.Run("decline_keeps_the_link", func(t *testing.T) {
			r := ask(t, "I'm responsible now")
			if r.State != models.RequestPending || r.GuardianName != "Pat Parent" || r.TeenName != "Maya" || string(r.Payload) != "{}" {
				t.Fatalf("request = %+v", r)
			}
			_, err := s.RequestEndSupervision(ctx, mayaP.Actor, patMaya.ID, "again")
			if !errors.Is(err, models.ErrRequestPending) || !errors.Is(err, models.ErrConflict) {
				t.Errorf("second pending request: %v", err)
			}
			if !hasNote(notes(t, s, pat), "Maya asked you to end your supervision. You can approve or decline it on Maya's page.") {
				t.Errorf("guardian of the link not told: %+v", notes(t, s, pat))
			}
			for _, n := range notes(t, s, cop) {
				if n.Kind == models.NotifyRequestCreated {
					t.Errorf("another guardian was told about the request: %+v", n)
				}
			}
			if rs, err := s.GuardianRequests(ctx, cop.Actor, maya.ID); err != nil || len(rs) != 0 {
				t.Errorf("another guardian sees the request: %+v, %v", rs, err)
			}
			if rs, err := s.GuardianRequests(ctx, pat.Actor, maya.ID); err != nil || len(rs) != 1 || rs[0].ID != r.ID || rs[0].Reason != "I'm responsible now" {
				t.Errorf("GuardianRequests = %+v, %v", rs, err)
			}
			if _, err := s.GuardianRequests(ctx, w.guardian(t, "Stranger").Actor, maya.ID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("unlinked guardian: %v", err)
			}
			// Nobody evicts anybody: another guardian of the teen cannot
			// decide it, and it does not exist for them.
			if err := s.DecideRequest(ctx, cop.Actor, r.ID, true, ""); !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("other guardian decided: %v, want ErrNotFound", err)
			}
			if err := s.DecideRequest(ctx, mayaP.Actor, r.ID, true, ""); !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("teen decided: %v", err)
			}
			if err := s.DecideRequest(ctx, pat.Actor, r.ID, false, "Let's talk at dinner"); err != nil {
				t.Fatal(err)
			}
			if liveCount(t, s, maya.ID) != 2 {
				t.Fatal("declining ended a link")
			}
			if err := s.DecideRequest(ctx, pat.Actor, r.ID, true, ""); !errors.Is(err, models.ErrConflict) {
				t.Errorf("deciding twice: %v, want ErrConflict", err)
			}
			if !hasNote(notes(t, s, mayaP), "Pat Parent declined your request to end their supervision. They wrote: “Let's talk at dinner”") {
				t.Errorf("teen not told: %+v", notes(t, s, mayaP))
			}
			rs, _ := s.TeenRequests(ctx, mayaP.Actor)
			if len(rs) != 1 || rs[0].State != models.RequestDeclined || rs[0].DecisionNote != "Let's talk at dinner" ||
				rs[0].DecidedBy == nil || *rs[0].DecidedBy != pat.UserID || rs[0].DecidedAt == nil {
				t.Errorf("TeenRequests = %+v", rs)
			}
		})

		t.Run("cancel", func(t *testing.T) {
			r := ask(t, "")
			if err := s.CancelRequest(ctx, leoP.Actor, r.ID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("another teen cancelled: %v", err)
			}
			if err := s.CancelRequest(ctx, pat.Actor, r.ID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("guardian cancelled: %v", err)
			}
			if err := s.CancelRequest(ctx, mayaP.Actor, r.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.CancelRequest(ctx, mayaP.Actor, r.ID); !errors.Is(err, models.ErrConflict) {
				t.Errorf("cancel twice: %v", err)
			}
			if err := s.DecideRequest(ctx, pat.Actor, r.ID, true, ""); !errors.Is(err, models.ErrConflict) {
				t.Errorf("approving a cancelled request: %v", err)
			}
			if !hasNote(notes(t, s, pat), "Maya cancelled their request to end your supervision.") {
				t.Errorf("guardian not told of the cancel")
			}
		})

		t.Run("approve_ends_the_link", func(t *testing.T) {
			r := ask(t, "please")
			if err := s.DecideRequest(ctx, pat.Actor, r.ID, true, "OK, you've earned it"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.TeenForGuardian(ctx, pat.Actor, maya.ID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("link still active: %v", err)
			}
			if ls, _ := s.TeenGuardians(ctx, mayaP.Actor); len(ls) != 1 || ls[0].GuardianName != "Cam Coparent" {
				t.Errorf("teen's guardians = %+v", ls)
			}
			if !hasNote(notes(t, s, mayaP), "Pat Parent agreed to end their supervision. They no longer see anything about you. They wrote: “OK, you've earned it”") {
				t.Errorf("teen not told: %+v", notes(t, s, mayaP))
			}
			if !hasNote(notes(t, s, cop), "Pat Parent stopped supervising Maya, as Maya asked.") {
				t.Errorf("other guardian not told: %+v", notes(t, s, cop))
			}
			rs, _ := s.TeenRequests(ctx, mayaP.Actor)
			if len(rs) != 3 || rs[0].ID != r.ID || rs[0].State != models.RequestApproved {
				t.Errorf("TeenRequests (newest first) = %+v", rs)
			}
			if _, err := s.RequestEndSupervision(ctx, mayaP.Actor, patMaya.ID, ""); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("request about an ended link: %v", err)
			}
		})

		t.Run("ending_a_link_cancels_its_pending_requests", func(t *testing.T) {
			_, samP := w.teen(t, "Sam", "2012-02")
			g := w.guardian(t, "Gil Guardian")
			l := w.link(t, g, samP)
			r, err := s.RequestEndSupervision(ctx, samP.Actor, l.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.EndLink(ctx, g.Actor, l.ID, ""); err != nil {
				t.Fatal(err)
			}
			rs, _ := s.TeenRequests(ctx, samP.Actor)
			if len(rs) != 1 || rs[0].ID != r.ID || rs[0].State != models.RequestCancelled {
				t.Errorf("request after the link ended = %+v", rs)
			}
		})
	})
}
