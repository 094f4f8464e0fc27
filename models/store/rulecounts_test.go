package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/policy"
)

func countsOf(t *testing.T, s *store.Store, viewer models.Actor, teenID int64, days int) map[policy.Reason]int64 {
	t.Helper()
	rcs, err := s.RuleCounts(ctx, viewer, teenID, days)
	if err != nil {
		t.Fatalf("RuleCounts: %v", err)
	}
	out := map[policy.Reason]int64{}
	for i, rc := range rcs {
		if i > 0 && rcs[i-1].Reason >= rc.Reason {
			t.Errorf("RuleCounts not in rule order: %v", rcs)
		}
		out[rc.Reason] = rc.Count
	}
	return out
}

func addCounts(t *testing.T, s *store.Store, ds ...models.RuleCountDelta) int {
	t.Helper()
	dropped, err := s.AddRuleCounts(ctx, ds)
	if err != nil {
		t.Fatalf("AddRuleCounts: %v", err)
	}
	return dropped
}

func TestStore_RuleCounts(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		pat := w.guardian(t, "Pat Parent")
		w.link(t, pat, mayaP)
		today := "2026-11-27" // day0 is noon UTC: the 27th in London too
		d := func(day string, r policy.Reason, n int64) models.RuleCountDelta {
			return models.RuleCountDelta{ClientID: w.client.ID, PlatformUserID: maya.PlatformUserID, Day: day, Reason: r, Count: n}
		}

		if got := countsOf(t, s, pat.Actor, maya.ID, 7); len(got) != 0 {
			t.Errorf("before any check: %v", got)
		}

		t.Run("upsert_adds", func(t *testing.T) {
			addCounts(t, s, d(today, policy.ReasonQuietHours, 5), d(today, policy.ReasonNotFriends, 3))
			// A second node flushing the same row adds to it.
			addCounts(t, s, d(today, policy.ReasonQuietHours, 7), d(today, policy.ReasonAllowed, 40))
			// Within one flush, duplicates are merged rather than refused.
			addCounts(t, s, d(today, policy.ReasonBlockedContact, 1), d(today, policy.ReasonBlockedContact, 0), d(today, policy.ReasonBlockedContact, -4))
			got := countsOf(t, s, pat.Actor, maya.ID, 7)
			want := map[policy.Reason]int64{policy.ReasonQuietHours: 12, policy.ReasonNotFriends: 3, policy.ReasonAllowed: 40, policy.ReasonBlockedContact: 1}
			if len(got) != len(want) {
				t.Fatalf("counts = %v, want %v", got, want)
			}
			for r, n := range want {
				if got[r] != n {
					t.Errorf("%s = %d, want %d", r, got[r], n)
				}
			}
		})

		t.Run("concurrent_nodes_add_up", func(t *testing.T) {
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for range 5 {
						if _, err := s.AddRuleCounts(ctx, []models.RuleCountDelta{d("2026-11-26", policy.ReasonDMsOff, 1), d(today, policy.ReasonDMsOff, 2)}); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			if got := countsOf(t, s, mayaP.Actor, maya.ID, 7)[policy.ReasonDMsOff]; got != 8*5*3 {
				t.Errorf("dms_off after 8 nodes × 5 flushes × 3 = %d, want 120", got)
			}
		})

		t.Run("window_is_the_last_n_days", func(t *testing.T) {
			addCounts(t, s,
				d("2026-11-21", policy.ReasonNewAccount, 1),   // 6 days ago: in
				d("2026-11-20", policy.ReasonNewAccount, 100), // 7 days ago: out
				d("2026-11-28", policy.ReasonNewAccount, 100), // tomorrow: out
			)
			if got := countsOf(t, s, pat.Actor, maya.ID, 7)[policy.ReasonNewAccount]; got != 1 {
				t.Errorf("new_account over 7 days = %d, want 1", got)
			}
			if got := countsOf(t, s, pat.Actor, maya.ID, 8)[policy.ReasonNewAccount]; got != 101 {
				t.Errorf("new_account over 8 days = %d, want 101", got)
			}
			if got := countsOf(t, s, pat.Actor, maya.ID, 1)[policy.ReasonDMsOff]; got != 80 {
				t.Errorf("dms_off today only = %d, want 80", got)
			}
			if got := countsOf(t, s, pat.Actor, maya.ID, 0)[policy.ReasonNewAccount]; got != 1 {
				t.Errorf("days 0 means the default 7: new_account = %d, want 1", got)
			}
		})

		t.Run("unknown_teens_and_bad_days_are_dropped", func(t *testing.T) {
			dropped := addCounts(t, s,
				models.RuleCountDelta{ClientID: w.client.ID, PlatformUserID: "tk_nobody", Day: today, Reason: policy.ReasonQuietHours, Count: 3},
				models.RuleCountDelta{ClientID: w.client.ID + 1000, PlatformUserID: maya.PlatformUserID, Day: today, Reason: policy.ReasonQuietHours, Count: 3},
				d("27/11/2026", policy.ReasonQuietHours, 3),
			)
			if dropped != 2 {
				t.Errorf("dropped = %d, want 2 (the bad day is ignored, not dropped)", dropped)
			}
			if got := countsOf(t, s, pat.Actor, maya.ID, 7)[policy.ReasonQuietHours]; got != 12 {
				t.Errorf("quiet_hours = %d, want still 12", got)
			}
		})

		t.Run("viewer_scoping", func(t *testing.T) {
			other := w.guardian(t, "Other Parent")
			leo, leoP := w.teen(t, "Leo", "2010-06")
			w.link(t, other, leoP)
			staff := w.staff(t)
			for name, v := range map[string]models.Actor{
				"other guardian":                   other.Actor,
				"other teen":                       leoP.Actor,
				"anonymous":                        {},
				"client":                           {ClientID: w.client.ID},
				"guardian role with the teen's id": {UserID: maya.UserID, Role: models.RoleGuardian},
			} {
				if _, err := s.RuleCounts(ctx, v, maya.ID, 7); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%s: err = %v, want ErrNotFound", name, err)
				}
			}
			if _, err := s.RuleCounts(ctx, pat.Actor, maya.ID+leo.ID+1000, 7); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("missing teen: err = %v, want ErrNotFound", err)
			}
			for name, v := range map[string]models.Actor{"teen": mayaP.Actor, "guardian": pat.Actor, "staff": staff.Actor} {
				if got := countsOf(t, s, v, maya.ID, 7); got[policy.ReasonQuietHours] != 12 {
					t.Errorf("%s sees %v", name, got)
				}
			}
			// A guardian whose link ended no longer sees them.
			l := w.link(t, other, mayaP)
			if got := countsOf(t, s, other.Actor, maya.ID, 7); got[policy.ReasonQuietHours] != 12 {
				t.Errorf("second guardian sees %v", got)
			}
			if err := s.EndLink(ctx, other.Actor, l.ID, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := s.RuleCounts(ctx, other.Actor, maya.ID, 7); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("guardian after the link ended: err = %v, want ErrNotFound", err)
			}
		})

		t.Run("retention", func(t *testing.T) {
			addCounts(t, s, d("2026-08-01", policy.ReasonQuietHours, 1), d("2026-09-01", policy.ReasonQuietHours, 1))
			n, err := s.DeleteOldRuleCounts(ctx, time.Date(2026, 8, 28, 12, 0, 0, 0, time.UTC))
			if err != nil || n != 1 {
				t.Errorf("DeleteOldRuleCounts = %d, %v; want 1 row", n, err)
			}
			if got := countsOf(t, s, pat.Actor, maya.ID, 90)[policy.ReasonQuietHours]; got != 13 {
				t.Errorf("quiet_hours over 90 days = %d, want 13", got)
			}
			if n := rawInt(t, s, "SELECT COUNT(*) FROM rule_counts WHERE day < '2026-08-28'"); n != 0 {
				t.Errorf("%d rows older than the cut are left", n)
			}
		})
	})
}

func TestStore_RuleCountsInTheTeensZone(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		// 20:00 UTC on the 27th is already the 28th in Tokyo.
		w.c.t.Store(time.Date(2026, 11, 27, 20, 0, 0, 0, time.UTC).UnixNano())
		sam, _, err := s.UpsertTeen(ctx, w.client.ID, "tk_sam", store.TeenInput{DisplayName: "Sam", BirthMonth: "2011-06", TimeZone: "Asia/Tokyo"})
		if err != nil {
			t.Fatal(err)
		}
		lead := w.staff(t)
		d := func(day string) models.RuleCountDelta {
			return models.RuleCountDelta{ClientID: w.client.ID, PlatformUserID: "tk_sam", Day: day, Reason: policy.ReasonQuietHours, Count: 1}
		}
		addCounts(t, s, d("2026-11-28"), d("2026-11-22"), d("2026-11-21"))
		// Sam's last 7 days are the 22nd to the 28th.
		if got := countsOf(t, s, lead.Actor, sam.ID, 7)[policy.ReasonQuietHours]; got != 2 {
			t.Errorf("quiet_hours in Tokyo's last 7 days = %d, want 2", got)
		}
	})
}
