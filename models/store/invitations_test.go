package store_test

import (
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
)

func TestInviteCode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ABCD-EFGH-JKMN":     "ABCDEFGHJKMN",
		"abcd-efgh-jkmn":     "ABCDEFGHJKMN",
		"abcdefghjkmn":       "ABCDEFGHJKMN",
		" abcd efgh jkmn ":   "ABCDEFGHJKMN",
		"AbCd - EfGh - 2345": "ABCDEFGH2345",
		"ab-cd-ef-gh-jk-mn":  "ABCDEFGHJKMN",
	} {
		got, ok := store.NormalizeInviteCode(in)
		if !ok || got != want {
			t.Errorf("NormalizeInviteCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{
		"", "ABCD-EFGH-JKM", "ABCD-EFGH-JKMNP", // wrong length
		"ABCD-EFGH-JKM0", "ABCD-EFGH-JKMO", "ABCD-EFGH-JKM1", "ABCD-EFGH-JKMI", "ABCD-EFGH-JKML", // confusable characters are not in codes
		"ABCD_EFGH_JKMN", "ÄBCD-EFGH-JKMN", "ABCD-EFGH-JKMN'; --",
	} {
		if got, ok := store.NormalizeInviteCode(in); ok {
			t.Errorf("NormalizeInviteCode(%q) = %q, accepted", in, got)
		}
	}
	if got := store.FormatInviteCode("ABCDEFGHJKMN"); got != "ABCD-EFGH-JKMN" {
		t.Errorf("FormatInviteCode = %q", got)
	}
}

func TestStore_Invitations(t *testing.T) {
	shape := regexp.MustCompile(`^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$`)
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		pat := w.guardian(t, "Pat Parent")

		t.Run("create_validates_and_hides_the_code", func(t *testing.T) {
			inv, code, err := s.CreateInvitation(ctx, pat.Actor, "  Maya  ")
			if err != nil || !shape.MatchString(code) || inv.Label != "Maya" || inv.State != models.InvitationPending ||
				!inv.ExpiresAt.Equal(w.c.Now().Add(48*time.Hour)) || inv.GuardianName != "Pat Parent" {
				t.Fatalf("CreateInvitation = %+v, %q, %v", inv, code, err)
			}
			norm, _ := store.NormalizeInviteCode(code)
			if n := rawInt(t, s, "SELECT COUNT(*) FROM invitations WHERE code_hash = ?", store.HashToken(norm)); n != 1 {
				t.Errorf("code not stored as its hash")
			}
			if n := rawInt(t, s, "SELECT COUNT(*) FROM invitations WHERE code_hash = ? OR code_hash = ?", code, norm); n != 0 {
				t.Errorf("code stored in the clear")
			}
			for _, label := range []string{"", "   ", strings.Repeat("x", 65), "a\x00b"} {
				if _, _, err := s.CreateInvitation(ctx, pat.Actor, label); models.FieldErrors(err)["label"] == "" {
					t.Errorf("label %q: err = %v", label, err)
				}
			}
			for name, v := range map[string]models.Actor{"teen": mayaP.Actor, "staff": w.staff(t).Actor, "anonymous": {}} {
				if _, _, err := s.CreateInvitation(ctx, v, "x"); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%s created an invitation: %v", name, err)
				}
			}
			if err := s.WithdrawInvitation(ctx, pat.Actor, inv.ID); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("code_is_for_teens_only", func(t *testing.T) {
			code := w.invite(t, pat)
			inv, err := s.InvitationByCode(ctx, mayaP.Actor, code)
			if err != nil || inv.GuardianName != "Pat Parent" || inv.GuardianEmail != pat.Email {
				t.Fatalf("InvitationByCode = %+v, %v", inv, err)
			}
			for name, v := range map[string]models.Actor{"guardian": pat.Actor, "other_guardian": w.guardian(t, "Other").Actor, "staff": w.staff(t).Actor} {
				if _, err := s.InvitationByCode(ctx, v, code); !errors.Is(err, models.ErrForbidden) {
					t.Errorf("%s: InvitationByCode err = %v, want ErrForbidden", name, err)
				}
				if _, err := s.AcceptInvitation(ctx, v, code); !errors.Is(err, models.ErrForbidden) {
					t.Errorf("%s: AcceptInvitation err = %v, want ErrForbidden", name, err)
				}
				if err := s.DeclineInvitation(ctx, v, code); !errors.Is(err, models.ErrForbidden) {
					t.Errorf("%s: DeclineInvitation err = %v, want ErrForbidden", name, err)
				}
			}
			if _, err := s.InvitationByCode(ctx, models.Actor{}, code); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("anonymous: %v", err)
			}
			for _, bad := range []string{"nonsense", "AAAA-AAAA-AAAA", ""} {
				if _, err := s.InvitationByCode(ctx, mayaP.Actor, bad); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("code %q: err = %v, want ErrNotFound", bad, err)
				}
			}
			norm, _ := store.NormalizeInviteCode(code)
			typed := strings.ToLower(norm[:4] + " " + norm[4:8] + "-" + norm[8:])
			if _, err := s.InvitationByCode(ctx, mayaP.Actor, typed); err != nil {
				t.Errorf("code typed as %q: %v", typed, err)
			}
		})

		t.Run("accept_makes_an_active_link_once", func(t *testing.T) {
			code := w.invite(t, pat)
			norm, _ := store.NormalizeInviteCode(code)
			l, err := s.AcceptInvitation(ctx, mayaP.Actor, strings.ToLower(norm))
			if err != nil || l.State != models.LinkActive || l.TeenID != maya.ID || l.GuardianID != pat.UserID ||
				l.GuardianName != "Pat Parent" || l.TeenName != "Maya" || !l.CreatedAt.Equal(w.c.Now()) {
				t.Fatalf("AcceptInvitation = %+v, %v", l, err)
			}
			if _, err := s.AcceptInvitation(ctx, mayaP.Actor, code); !errors.Is(err, models.ErrUsed) {
				t.Errorf("second accept: %v, want ErrUsed", err)
			}
			if _, err := s.InvitationByCode(ctx, mayaP.Actor, code); !errors.Is(err, models.ErrUsed) {
				t.Errorf("InvitationByCode after accept: %v, want ErrUsed", err)
			}
			if err := s.DeclineInvitation(ctx, mayaP.Actor, code); !errors.Is(err, models.ErrUsed) {
				t.Errorf("decline after accept: %v, want ErrUsed", err)
			}
			invs, err := s.Invitations(ctx, pat.Actor)
			if err != nil {
				t.Fatal(err)
			}
			var accepted []models.Invitation
			for _, i := range invs {
				if i.State == models.InvitationAccepted {
					accepted = append(accepted, i)
				}
			}
			if len(accepted) != 1 || accepted[0].TeenName != "Maya" || accepted[0].TeenID == nil || *accepted[0].TeenID != maya.ID || accepted[0].AnsweredAt == nil {
				t.Errorf("accepted invitations = %+v", accepted)
			}
		})

		t.Run("already_supervised", func(t *testing.T) {
			code := w.invite(t, pat)
			_, err := s.AcceptInvitation(ctx, mayaP.Actor, code)
			if !errors.Is(err, models.ErrAlreadySupervised) || !errors.Is(err, models.ErrConflict) || errors.Is(err, models.ErrTooManyGuardians) {
				t.Fatalf("err = %v, want ErrAlreadySupervised (a conflict)", err)
			}
			if inv, err := s.InvitationByCode(ctx, mayaP.Actor, code); err != nil || inv.State != models.InvitationPending {
				t.Errorf("refused invitation changed: %+v, %v", inv, err)
			}
		})

		t.Run("fifth_guardian_is_refused", func(t *testing.T) {
			for _, n := range []string{"G2", "G3", "G4"} {
				w.link(t, w.guardian(t, n), mayaP)
			}
			fifth := w.guardian(t, "G5")
			_, err := s.AcceptInvitation(ctx, mayaP.Actor, w.invite(t, fifth))
			if !errors.Is(err, models.ErrTooManyGuardians) || !errors.Is(err, models.ErrConflict) {
				t.Fatalf("err = %v, want ErrTooManyGuardians", err)
			}
			if liveCount(t, s, maya.ID) != models.MaxGuardians {
				t.Errorf("live links = %d", liveCount(t, s, maya.ID))
			}
		})

		t.Run("decline_tells_the_guardian", func(t *testing.T) {
			_, samP := w.teen(t, "Sam", "2011-03")
			g := w.guardian(t, "Dee Decline")
			code := w.invite(t, g)
			if err := s.DeclineInvitation(ctx, samP.Actor, code); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AcceptInvitation(ctx, samP.Actor, code); !errors.Is(err, models.ErrUsed) {
				t.Errorf("accept after decline: %v, want ErrUsed", err)
			}
			if !hasNote(notes(t, s, g), "Sam declined your invitation.") {
				t.Errorf("guardian not told: %+v", notes(t, s, g))
			}
			ms := w.out.to(t, g.Email)
			if len(ms) != 1 || ms[0].Subject != "Sam declined your invitation." || !strings.Contains(ms[0].Text, "Sam declined your invitation.") {
				t.Errorf("decline mail = %+v", ms)
			}
			invs, _ := s.Invitations(ctx, g.Actor)
			if len(invs) != 1 || invs[0].State != models.InvitationDeclined || invs[0].TeenName != "Sam" {
				t.Errorf("Invitations = %+v", invs)
			}
		})

		t.Run("withdrawn_is_not_found", func(t *testing.T) {
			_, samP := w.teen(t, "Sam2", "2011-03")
			g := w.guardian(t, "Wes Withdraw")
			inv, code, err := s.CreateInvitation(ctx, g.Actor, "Sam")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.WithdrawInvitation(ctx, pat.Actor, inv.ID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("another guardian withdrew it: %v", err)
			}
			if err := s.WithdrawInvitation(ctx, g.Actor, inv.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.WithdrawInvitation(ctx, g.Actor, inv.ID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("second withdraw: %v", err)
			}
			if _, err := s.AcceptInvitation(ctx, samP.Actor, code); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("accept after withdraw: %v, want ErrNotFound", err)
			}
			if invs, _ := s.Invitations(ctx, g.Actor); len(invs) != 0 {
				t.Errorf("withdrawn invitation still listed: %+v", invs)
			}
		})

		t.Run("five_pending_at_most", func(t *testing.T) {
			g := w.guardian(t, "Max Pending")
			var first models.Invitation
			for i := range models.MaxPendingInvitations {
				inv, _, err := s.CreateInvitation(ctx, g.Actor, "teen")
				if err != nil {
					t.Fatalf("invitation %d: %v", i+1, err)
				}
				if i == 0 {
					first = inv
				}
			}
			_, _, err := s.CreateInvitation(ctx, g.Actor, "one too many")
			if msg := models.FieldErrors(err)["invitation"]; msg != "You already have 5 invitations waiting for an answer. Withdraw one or wait for it to expire." {
				t.Fatalf("sixth: err = %v", err)
			}
			if err := s.WithdrawInvitation(ctx, g.Actor, first.ID); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.CreateInvitation(ctx, g.Actor, "after withdrawing"); err != nil {
				t.Errorf("after withdrawing one: %v", err)
			}
		})

		t.Run("expired", func(t *testing.T) {
			_, samP := w.teen(t, "Sam3", "2011-03")
			g := w.guardian(t, "Eve Expired")
			code := w.invite(t, g)
			w.c.Add(48*time.Hour - time.Second)
			if _, err := s.InvitationByCode(ctx, samP.Actor, code); err != nil {
				t.Fatalf("a second before expiry: %v", err)
			}
			w.c.Add(time.Second)
			if _, err := s.InvitationByCode(ctx, samP.Actor, code); !errors.Is(err, models.ErrExpired) {
				t.Errorf("InvitationByCode: %v, want ErrExpired", err)
			}
			if _, err := s.AcceptInvitation(ctx, samP.Actor, code); !errors.Is(err, models.ErrExpired) {
				t.Errorf("AcceptInvitation: %v, want ErrExpired", err)
			}
			if err := s.DeclineInvitation(ctx, samP.Actor, code); !errors.Is(err, models.ErrExpired) {
				t.Errorf("DeclineInvitation: %v, want ErrExpired", err)
			}
			invs, _ := s.Invitations(ctx, g.Actor)
			if len(invs) != 1 || !invs[0].Expired(w.c.Now()) {
				t.Errorf("expired invitation should still be listed as expired: %+v", invs)
			}
			// Expired invitations no longer count towards the five.
			for range models.MaxPendingInvitations {
				if _, _, err := s.CreateInvitation(ctx, g.Actor, "again"); err != nil {
					t.Fatalf("expired ones counted: %v", err)
				}
			}
			// Answered ones drop off the list after 7 days.
			w.c.Add(8 * 24 * time.Hour)
			invs, _ = s.Invitations(ctx, pat.Actor)
			for _, i := range invs {
				if i.State != models.InvitationPending {
					t.Errorf("old answered invitation listed: %+v", i)
				}
			}
			// Retention deletes what expired over a week ago (everything
			// made at day0), and keeps the five made two days later.
			before := rawInt(t, s, "SELECT COUNT(*) FROM invitations")
			fresh := w.invite(t, g)
			n, err := s.DeleteOldInvitations(ctx)
			if err != nil || int(n) != before-models.MaxPendingInvitations {
				t.Errorf("DeleteOldInvitations = %d, %v; want %d", n, err, before-models.MaxPendingInvitations)
			}
			if left := rawInt(t, s, "SELECT COUNT(*) FROM invitations"); left != models.MaxPendingInvitations+1 {
				t.Errorf("%d invitations left, want %d", left, models.MaxPendingInvitations+1)
			}
			if _, err := s.InvitationByCode(ctx, samP.Actor, fresh); err != nil {
				t.Errorf("a fresh invitation was deleted: %v", err)
			}
		})

		t.Run("adult_cannot_be_linked", func(t *testing.T) {
			_, avaP := w.teen(t, "Ava", "2009-01")
			g := w.guardian(t, "Late Parent")
			w.c.t.Store(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
			if _, err := s.AcceptInvitation(ctx, avaP.Actor, w.invite(t, g)); models.FieldErrors(err)["teen"] == "" {
				t.Errorf("18-year-old linked: %v", err)
			}
		})
	})
}

func TestStore_AcceptInvitation_Concurrency(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s

		t.Run("one_code_many_accepts_one_link", func(t *testing.T) {
			maya, mayaP := w.teen(t, "Maya", "2012-06")
			pat := w.guardian(t, "Pat Parent")
			code := w.invite(t, pat)
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, 8)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = s.AcceptInvitation(ctx, mayaP.Actor, code)
				}()
			}
			close(start)
			wg.Wait()
			wins := 0
			for _, err := range errs {
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, models.ErrUsed):
					t.Errorf("a losing accept failed with %v, want ErrUsed", err)
				}
			}
			if wins != 1 {
				t.Fatalf("%d accepts succeeded, want 1", wins)
			}
			if n := rawInt(t, s, "SELECT COUNT(*) FROM links WHERE teen_id = ?", maya.ID); n != 1 {
				t.Errorf("%d links, want 1", n)
			}
			if n := rawInt(t, s, "SELECT COUNT(*) FROM invitations WHERE state = 'accepted' AND guardian_id = ?", pat.UserID); n != 1 {
				t.Errorf("%d accepted invitations, want 1", n)
			}
			if n := rawInt(t, s, "SELECT COUNT(*) FROM audit_events WHERE teen_id = ? AND action = ?", maya.ID, models.ActionInvitationAccepted); n != 1 {
				t.Errorf("%d audit entries, want 1", n)
			}
			if err := s.VerifyAuditChain(ctx, maya.ID); err != nil {
				t.Error(err)
			}
		})

		t.Run("four_guardian_limit_holds_under_concurrency", func(t *testing.T) {
			leo, leoP := w.teen(t, "Leo", "2011-02")
			for _, n := range []string{"A", "B", "C"} {
				w.link(t, w.guardian(t, n), leoP)
			}
			codes := []string{w.invite(t, w.guardian(t, "D")), w.invite(t, w.guardian(t, "E"))}
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, len(codes))
			for i, code := range codes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = s.AcceptInvitation(ctx, leoP.Actor, code)
				}()
			}
			close(start)
			wg.Wait()
			if liveCount(t, s, leo.ID) != 4 {
				t.Fatalf("%d live links, want 4 (errors %v)", liveCount(t, s, leo.ID), errs)
			}
			ok, full := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, models.ErrTooManyGuardians):
					full++
				default:
					t.Errorf("unexpected error %v", err)
				}
			}
			if ok != 1 || full != 1 {
				t.Errorf("%d accepted, %d refused as too many; want 1 and 1", ok, full)
			}
		})

		t.Run("six_guardians_at_once_from_none", func(t *testing.T) {
			ava, avaP := w.teen(t, "Ava", "2011-02")
			var codes []string
			for _, n := range []string{"P1", "P2", "P3", "P4", "P5", "P6"} {
				codes = append(codes, w.invite(t, w.guardian(t, n)))
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			for _, code := range codes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					s.AcceptInvitation(ctx, avaP.Actor, code)
				}()
			}
			close(start)
			wg.Wait()
			if n := liveCount(t, s, ava.ID); n != models.MaxGuardians {
				t.Fatalf("%d live links, want %d", n, models.MaxGuardians)
			}
			if err := s.VerifyAuditChain(ctx, ava.ID); err != nil {
				t.Error(err)
			}
		})
	})
}

func TestStore_OnLinkCreated(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		pat := w.guardian(t, "Pat Parent")
		code := w.invite(t, pat)

		s.OnLinkCreated = func(tx *gorm.DB, teen models.Teen, l models.Link) error { return errors.New("no policy for you") }
		if _, err := s.AcceptInvitation(ctx, mayaP.Actor, code); err == nil {
			t.Fatal("accept succeeded although the hook failed")
		}
		if liveCount(t, s, maya.ID) != 0 {
			t.Error("link survived the failed hook")
		}
		if inv, err := s.InvitationByCode(ctx, mayaP.Actor, code); err != nil || inv.State != models.InvitationPending {
			t.Errorf("invitation after rollback = %+v, %v", inv, err)
		}
		if len(notes(t, s, pat)) != 0 || len(w.out.mails(t)) != 0 {
			t.Errorf("a rolled-back accept told people: %+v / %+v", notes(t, s, pat), w.out.mails(t))
		}

		var seen []string
		s.OnLinkCreated = func(tx *gorm.DB, teen models.Teen, l models.Link) error {
			var n int64
			// The hook sees the new link inside the same transaction.
			if err := tx.Table("links").Where("id = ? AND state = 'active'", l.ID).Count(&n).Error; err != nil || n != 1 {
				return errors.New("link not visible to the hook")
			}
			seen = append(seen, teen.DisplayName)
			return nil
		}
		t.Cleanup(func() { s.OnLinkCreated = nil })
		if _, err := s.AcceptInvitation(ctx, mayaP.Actor, code); err != nil {
			t.Fatal(err)
		}
		if len(seen) != 1 || seen[0] != "Maya" {
			t.Errorf("hook saw %v", seen)
		}
	})
}
