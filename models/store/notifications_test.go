package store_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hearth-safety/hearth/models"
)

func TestStore_Notifications(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		pat := w.guardian(t, "Pat Parent")
		cop := w.guardian(t, "Cam Coparent")
		w.link(t, pat, mayaP)
		w.link(t, cop, mayaP)

		t.Run("accept_tells_the_right_people", func(t *testing.T) {
			pn, cn, tn := notes(t, s, pat), notes(t, s, cop), notes(t, s, mayaP)
			if len(pn) != 2 || pn[0].Message != "Cam Coparent now also supervises Maya." || pn[1].Message != "Maya accepted your invitation. You now supervise Maya." {
				t.Errorf("inviting guardian's notifications (newest first) = %+v", pn)
			}
			if len(cn) != 1 || cn[0].Message != "Maya accepted your invitation. You now supervise Maya." || cn[0].Kind != models.NotifyInvitationAccepted {
				t.Errorf("second guardian's notifications = %+v", cn)
			}
			if len(tn) != 2 || tn[0].Message != "Cam Coparent now supervises you. You can see everything they see on My supervision." ||
				tn[0].URL != "/teen/supervision" || tn[0].TeenID == nil || *tn[0].TeenID != maya.ID {
				t.Errorf("teen's notifications = %+v", tn)
			}
			wantURL := fmt.Sprintf("/teens/%d", maya.ID)
			if pn[0].URL != wantURL {
				t.Errorf("guardian notification URL = %q, want %q", pn[0].URL, wantURL)
			}
		})

		t.Run("email_goes_to_guardians_only", func(t *testing.T) {
			ms := w.out.mails(t)
			if len(ms) != 3 {
				t.Fatalf("%d emails, want 3: %+v", len(ms), ms)
			}
			for _, m := range ms {
				if m.To != pat.Email && m.To != cop.Email {
					t.Errorf("email to %q", m.To)
				}
				if !strings.Contains(m.Text, fmt.Sprintf("%s/teens/%d", testBaseURL, maya.ID)) {
					t.Errorf("email lacks the teen's page link: %q", m.Text)
				}
			}
			pm := w.out.to(t, pat.Email)
			if len(pm) != 2 || pm[0].Subject != "Maya accepted your invitation" || !strings.Contains(pm[0].Text, "Maya accepted your invitation. You now supervise Maya.") ||
				pm[1].Subject != "Cam Coparent now also supervises Maya." {
				t.Errorf("emails to the first guardian = %+v", pm)
			}
		})

		t.Run("unread_counts_and_marking", func(t *testing.T) {
			if n, err := s.UnreadCount(ctx, pat.Actor); err != nil || n != 2 {
				t.Fatalf("UnreadCount = %d, %v", n, err)
			}
			pn := notes(t, s, pat)
			for name, v := range map[string]models.Actor{"other_guardian": cop.Actor, "teen": mayaP.Actor, "anonymous": {}} {
				if err := s.MarkNotificationRead(ctx, v, pn[0].ID); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%s marked another's notification: %v", name, err)
				}
			}
			if n, _ := s.UnreadCount(ctx, pat.Actor); n != 2 {
				t.Errorf("someone else's marking changed the count: %d", n)
			}
			if err := s.MarkNotificationRead(ctx, pat.Actor, pn[0].ID); err != nil {
				t.Fatal(err)
			}
			if err := s.MarkNotificationRead(ctx, pat.Actor, pn[0].ID); err != nil {
				t.Errorf("marking twice: %v", err)
			}
			if n, _ := s.UnreadCount(ctx, pat.Actor); n != 1 {
				t.Errorf("UnreadCount after one read = %d", n)
			}
			if got := notes(t, s, pat); got[0].ReadAt == nil || got[1].ReadAt != nil {
				t.Errorf("read marks = %+v", got)
			}
			if err := s.MarkAllNotificationsRead(ctx, pat.Actor); err != nil {
				t.Fatal(err)
			}
			if n, _ := s.UnreadCount(ctx, pat.Actor); n != 0 {
				t.Errorf("UnreadCount after all read = %d", n)
			}
			if n, _ := s.UnreadCount(ctx, mayaP.Actor); n != 2 {
				t.Errorf("marking all read touched another user: teen has %d unread", n)
			}
			if _, err := s.UnreadCount(ctx, models.Actor{}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("anonymous UnreadCount: %v", err)
			}
		})

		t.Run("pages", func(t *testing.T) {
			ns, total, err := s.Notifications(ctx, mayaP.Actor, models.Page{Number: 2, Size: 1})
			if err != nil || total != 2 || len(ns) != 1 || ns[0].Message != "Pat Parent now supervises you. You can see everything they see on My supervision." {
				t.Errorf("page 2 = %+v, %d, %v", ns, total, err)
			}
		})
	})
}
