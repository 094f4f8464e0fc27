package store_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
)

// seedAlert is one alert for a test, about teen (by platform ID).
type seedAlert struct {
	teen, other string
	cat         models.Category
	sev         models.Severity
	act         models.Action
	dir         models.Direction
	at          time.Time
	n           int
}

func (w *world) alerts(t *testing.T, as ...seedAlert) []int64 {
	t.Helper()
	in := make([]store.SeedAlert, len(as))
	for i, a := range as {
		w.n++
		if a.dir == "" {
			a.dir = models.DirectionInbound
		}
		if a.act == "" {
			a.act = models.ActionMessageBlocked
		}
		if a.sev == "" {
			a.sev = models.SeverityMedium
		}
		if a.cat == "" {
			a.cat = models.CategoryBullying
		}
		in[i] = store.SeedAlert{Occurrences: a.n, Event: models.Event{ID: fmt.Sprintf("evt_%d", w.n), TeenID: a.teen, CounterpartID: a.other,
			Direction: a.dir, Category: a.cat, Severity: a.sev, ActionTaken: a.act, OccurredAt: a.at}}
	}
	ids, err := w.s.SeedAlerts(ctx, w.client.ID, in)
	if err != nil {
		t.Fatalf("SeedAlerts: %v", err)
	}
	return ids
}

func alertIDs(as []models.Alert) []int64 {
	out := make([]int64, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func TestStore_Alerts(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		leo, leoP := w.teen(t, "Leo", "2010-06")
		ava, avaP := w.teen(t, "Ava", "2010-06")
		pat := w.guardian(t, "Pat Parent")
		cam := w.guardian(t, "Cam Coparent")
		olive := w.guardian(t, "Olive Other")
		w.link(t, pat, mayaP)
		w.link(t, cam, mayaP)
		w.link(t, pat, leoP)
		w.link(t, olive, avaP)

		h := func(n int) time.Time { return day0.Add(-time.Duration(n) * time.Hour) }
		ids := w.alerts(t,
			seedAlert{teen: maya.PlatformUserID, other: "u_9", cat: models.CategoryBullying, sev: models.SeverityMedium, at: h(10)},
			seedAlert{teen: leo.PlatformUserID, other: "u_spam", cat: models.CategorySpam, sev: models.SeverityLow, at: h(9)},
			seedAlert{teen: maya.PlatformUserID, other: "u_stranger9", cat: models.CategoryGrooming, sev: models.SeverityHigh, at: h(8), n: 3},
			seedAlert{teen: ava.PlatformUserID, other: "u_x", cat: models.CategoryHate, sev: models.SeverityCritical, at: h(7)},
			seedAlert{teen: leo.PlatformUserID, other: "u_9", cat: models.CategoryBullying, sev: models.SeverityCritical, at: h(6)},
			// Same time as the one before: id breaks the tie.
			seedAlert{teen: maya.PlatformUserID, other: "u_spam", cat: models.CategorySpam, sev: models.SeverityLow, at: h(6)},
		)
		mayaBully, leoSpam, mayaGroom, avaHate, leoBully, mayaSpam := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]

		t.Run("guardian_sees_active_teens_newest_first", func(t *testing.T) {
			got, total, err := s.Alerts(ctx, pat.Actor, models.AlertFilter{})
			if err != nil {
				t.Fatal(err)
			}
			want := []int64{mayaSpam, leoBully, mayaGroom, leoSpam, mayaBully}
			if fmt.Sprint(alertIDs(got)) != fmt.Sprint(want) || total != 5 {
				t.Fatalf("Alerts = %v (total %d), want %v (5)", alertIDs(got), total, want)
			}
			g := got[2]
			if g.TeenName != "Maya" || g.CounterpartID != "u_stranger9" || g.Category != models.CategoryGrooming || g.Severity != models.SeverityHigh ||
				g.Occurrences != 3 || g.Read || !g.OccurredAt.Equal(h(8)) {
				t.Errorf("grooming alert = %+v", g)
			}
		})
		t.Run("filters", func(t *testing.T) {
			for _, tc := range []struct {
				name string
				f    models.AlertFilter
				want []int64
			}{
				{"teen", models.AlertFilter{TeenID: &leo.ID}, []int64{leoBully, leoSpam}},
				{"category", models.AlertFilter{Category: ptr(models.CategorySpam)}, []int64{mayaSpam, leoSpam}},
				{"min_severity", models.AlertFilter{MinSeverity: ptr(models.SeverityHigh)}, []int64{leoBully, mayaGroom}},
				{"all_three", models.AlertFilter{TeenID: &maya.ID, Category: ptr(models.CategoryGrooming), MinSeverity: ptr(models.SeverityMedium)}, []int64{mayaGroom}},
				{"nothing_matches", models.AlertFilter{TeenID: &leo.ID, Category: ptr(models.CategoryGrooming)}, []int64{}},
			} {
				got, total, err := s.Alerts(ctx, pat.Actor, tc.f)
				if err != nil || fmt.Sprint(alertIDs(got)) != fmt.Sprint(tc.want) || total != len(tc.want) {
					t.Errorf("%s: Alerts = %v (total %d), %v; want %v", tc.name, alertIDs(got), total, err, tc.want)
				}
			}
		})
		t.Run("keyset_pages_hold_under_inserts", func(t *testing.T) {
			first, total, err := s.Alerts(ctx, pat.Actor, models.AlertFilter{Limit: 2})
			if err != nil || fmt.Sprint(alertIDs(first)) != fmt.Sprint([]int64{mayaSpam, leoBully}) || total != 5 {
				t.Fatalf("page 1 = %v (total %d), %v", alertIDs(first), total, err)
			}
			// A newer alert arrives between pages: page 2 must neither repeat
			// nor skip anything.
			newer := w.alerts(t, seedAlert{teen: maya.PlatformUserID, other: "u_new", at: h(1)})[0]
			defer rawExec(t, s, "DELETE FROM alerts WHERE id = ?", newer)
			second, total, err := s.Alerts(ctx, pat.Actor, models.AlertFilter{Limit: 2, Before: ptr(models.CursorOf(first[1]))})
			if err != nil || fmt.Sprint(alertIDs(second)) != fmt.Sprint([]int64{mayaGroom, leoSpam}) || total != 6 {
				t.Fatalf("page 2 = %v (total %d), %v", alertIDs(second), total, err)
			}
			third, _, _ := s.Alerts(ctx, pat.Actor, models.AlertFilter{Limit: 2, Before: ptr(models.CursorOf(second[1]))})
			if fmt.Sprint(alertIDs(third)) != fmt.Sprint([]int64{mayaBully}) {
				t.Fatalf("page 3 = %v", alertIDs(third))
			}
			// Back from page 2 towards the newest: the two just newer, still
			// newest first.
			back, _, _ := s.Alerts(ctx, pat.Actor, models.AlertFilter{Limit: 2, After: ptr(models.CursorOf(second[0]))})
			if fmt.Sprint(alertIDs(back)) != fmt.Sprint([]int64{mayaSpam, leoBully}) {
				t.Fatalf("newer than page 2 = %v", alertIDs(back))
			}
			// The tie at h(6) splits correctly on id.
			tie, _, _ := s.Alerts(ctx, pat.Actor, models.AlertFilter{Limit: 5, Before: ptr(models.CursorOf(first[0]))})
			if len(tie) == 0 || tie[0].ID != leoBully {
				t.Fatalf("after the first of two equal times = %v", alertIDs(tie))
			}
			// One teen alone pages the same way.
			one, _, _ := s.Alerts(ctx, pat.Actor, models.AlertFilter{TeenID: &maya.ID, Limit: 1, Before: ptr(models.CursorOf(first[0]))})
			if fmt.Sprint(alertIDs(one)) != fmt.Sprint([]int64{mayaGroom}) {
				t.Fatalf("Maya after the newest = %v", alertIDs(one))
			}
		})
		t.Run("read_state_is_per_guardian", func(t *testing.T) {
			if err := s.AcknowledgeAlert(ctx, pat.Actor, mayaGroom); err != nil {
				t.Fatal(err)
			}
			if err := s.AcknowledgeAlert(ctx, pat.Actor, mayaGroom); err != nil {
				t.Fatalf("acknowledging twice: %v", err)
			}
			a, err := s.Alert(ctx, pat.Actor, mayaGroom)
			if err != nil || !a.Read || a.TeenName != "Maya" {
				t.Fatalf("Alert after ack = %+v, %v", a, err)
			}
			if a, _ := s.Alert(ctx, cam.Actor, mayaGroom); a.Read {
				t.Error("Pat's acknowledgement marked it read for Cam")
			}
			unread, total, _ := s.Alerts(ctx, pat.Actor, models.AlertFilter{State: models.AlertUnread})
			if total != 4 || strings.Contains(fmt.Sprint(alertIDs(unread)), fmt.Sprint(mayaGroom)) {
				t.Errorf("unread = %v (total %d)", alertIDs(unread), total)
			}
			read, total, _ := s.Alerts(ctx, pat.Actor, models.AlertFilter{State: models.AlertRead})
			if fmt.Sprint(alertIDs(read)) != fmt.Sprint([]int64{mayaGroom}) || total != 1 {
				t.Errorf("read = %v (total %d)", alertIDs(read), total)
			}
			counts, err := s.UnreadAlertCounts(ctx, pat.Actor)
			if err != nil || counts[maya.ID] != 2 || counts[leo.ID] != 2 || len(counts) != 2 {
				t.Errorf("UnreadAlertCounts = %v, %v", counts, err)
			}
		})
		t.Run("mark_all_read_moves_a_watermark", func(t *testing.T) {
			if err := s.MarkAllAlertsRead(ctx, pat.Actor, &maya.ID); err != nil {
				t.Fatal(err)
			}
			counts, _ := s.UnreadAlertCounts(ctx, pat.Actor)
			if counts[maya.ID] != 0 || counts[leo.ID] != 2 {
				t.Errorf("after marking Maya's read: %v", counts)
			}
			if n := rawInt(t, s, "SELECT COUNT(*) FROM alert_watermarks WHERE user_id = ?", pat.UserID); n != 1 {
				t.Errorf("%d watermark rows, want 1", n)
			}
			if n := rawInt(t, s, "SELECT COUNT(*) FROM alert_reads WHERE user_id = ?", pat.UserID); n != 0 {
				t.Errorf("%d single acknowledgements left under the watermark", n)
			}
			later := w.alerts(t, seedAlert{teen: maya.PlatformUserID, other: "u_late", at: h(2)})[0]
			defer rawExec(t, s, "DELETE FROM alerts WHERE id = ?", later)
			unread, _, _ := s.Alerts(ctx, pat.Actor, models.AlertFilter{TeenID: &maya.ID, State: models.AlertUnread})
			if fmt.Sprint(alertIDs(unread)) != fmt.Sprint([]int64{later}) {
				t.Errorf("unread after a new alert = %v, want only %d", alertIDs(unread), later)
			}
			if err := s.MarkAllAlertsRead(ctx, pat.Actor, nil); err != nil {
				t.Fatal(err)
			}
			if counts, _ := s.UnreadAlertCounts(ctx, pat.Actor); len(counts) != 0 {
				t.Errorf("after mark all read: %v", counts)
			}
			if counts, _ := s.UnreadAlertCounts(ctx, cam.Actor); counts[maya.ID] != 4 {
				t.Errorf("Pat's mark all read changed Cam's count: %v", counts)
			}
		})
		t.Run("teen_sees_all_their_own", func(t *testing.T) {
			got, total, err := s.Alerts(ctx, mayaP.Actor, models.AlertFilter{})
			if err != nil || total != 3 || len(got) != 3 || got[0].ID != mayaSpam || !got[0].Read || got[0].TeenName != "Maya" {
				t.Fatalf("teen's alerts = %v (total %d), %v", alertIDs(got), total, err)
			}
			if _, _, err := s.Alerts(ctx, mayaP.Actor, models.AlertFilter{TeenID: &leo.ID}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("Maya asking for Leo's alerts: %v", err)
			}
			if err := s.AcknowledgeAlert(ctx, mayaP.Actor, mayaSpam); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("teen acknowledging: %v", err)
			}
			if _, err := s.Alert(ctx, mayaP.Actor, leoSpam); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("Maya reading Leo's alert: %v", err)
			}
		})
		t.Run("other_guardians_teen_is_not_found", func(t *testing.T) {
			if _, _, err := s.Alerts(ctx, pat.Actor, models.AlertFilter{TeenID: &ava.ID}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("Alerts for another guardian's teen: %v", err)
			}
			if _, _, err := s.Alerts(ctx, pat.Actor, models.AlertFilter{TeenID: ptr(int64(987654))}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("Alerts for a missing teen: %v", err)
			}
			for name, err := range map[string]error{
				"Alert":                 func() error { _, err := s.Alert(ctx, pat.Actor, avaHate); return err }(),
				"AcknowledgeAlert":      s.AcknowledgeAlert(ctx, pat.Actor, avaHate),
				"MarkAlertNotUseful":    s.MarkAlertNotUseful(ctx, pat.Actor, avaHate),
				"MarkAllAlertsRead":     s.MarkAllAlertsRead(ctx, pat.Actor, &ava.ID),
				"BlockAlertCounterpart": func() error { _, err := s.BlockAlertCounterpart(ctx, pat.Actor, avaHate); return err }(),
				"AlertChart":            func() error { _, err := s.AlertChart(ctx, pat.Actor, ava.ID, day0); return err }(),
				"missing alert":         s.AcknowledgeAlert(ctx, pat.Actor, 987654),
			} {
				if !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%s on another guardian's teen: %v, want ErrNotFound", name, err)
				}
			}
			if n := rawInt(t, s, "SELECT COUNT(*) FROM alert_reads WHERE alert_id = ?", avaHate); n != 0 {
				t.Error("a refused acknowledgement was stored")
			}
			all, total, _ := s.Alerts(ctx, pat.Actor, models.AlertFilter{Limit: 100})
			for _, a := range all {
				if a.TeenID == ava.ID {
					t.Errorf("Pat's inbox holds Ava's alert %d (total %d)", a.ID, total)
				}
			}
			if _, _, err := s.Alerts(ctx, w.staff(t).Actor, models.AlertFilter{}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("staff listing alerts: %v", err)
			}
			if _, _, err := s.Alerts(ctx, models.Actor{}, models.AlertFilter{}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("anonymous listing alerts: %v", err)
			}
		})
		t.Run("suspended_and_ended_links_see_nothing", func(t *testing.T) {
			rawExec(t, s, "UPDATE links SET state = 'suspended' WHERE guardian_id = ? AND teen_id = ?", cam.UserID, maya.ID)
			got, total, err := s.Alerts(ctx, cam.Actor, models.AlertFilter{})
			if err != nil || len(got) != 0 || total != 0 {
				t.Errorf("suspended guardian's inbox = %v (total %d), %v", alertIDs(got), total, err)
			}
			if _, _, err := s.Alerts(ctx, cam.Actor, models.AlertFilter{TeenID: &maya.ID}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("suspended guardian filtering by the teen: %v", err)
			}
			if err := s.AcknowledgeAlert(ctx, cam.Actor, mayaBully); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("suspended guardian acknowledging: %v", err)
			}
			rawExec(t, s, "UPDATE links SET state = 'ended', ended_at = ? WHERE guardian_id = ? AND teen_id = ?", day0, cam.UserID, maya.ID)
			if _, err := s.Alert(ctx, cam.Actor, mayaBully); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("ended guardian reading an alert: %v", err)
			}
			if counts, err := s.UnreadAlertCounts(ctx, cam.Actor); err != nil || len(counts) != 0 {
				t.Errorf("ended guardian's unread counts = %v, %v", counts, err)
			}
		})
		t.Run("not_useful_is_kept_once", func(t *testing.T) {
			if err := s.MarkAlertNotUseful(ctx, pat.Actor, leoSpam); err != nil {
				t.Fatal(err)
			}
			if err := s.MarkAlertNotUseful(ctx, pat.Actor, leoSpam); err != nil {
				t.Fatal(err)
			}
			a, _ := s.Alert(ctx, leoP.Actor, leoSpam)
			if !a.NotUseful || rawInt(t, s, "SELECT not_useful_by FROM alerts WHERE id = ?", leoSpam) != int(pat.UserID) {
				t.Errorf("not useful not kept: %+v", a)
			}
		})
	})
}

func TestStore_AlertChart(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		pat := w.guardian(t, "Pat Parent")
		w.link(t, pat, mayaP)
		// day0 is Friday 27 Nov 2026: its week starts Monday 23 Nov.
		w.alerts(t,
			seedAlert{teen: maya.PlatformUserID, cat: models.CategoryBullying, at: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)},
			seedAlert{teen: maya.PlatformUserID, cat: models.CategoryBullying, at: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)},
			seedAlert{teen: maya.PlatformUserID, cat: models.CategorySpam, at: time.Date(2026, 11, 22, 23, 59, 0, 0, time.UTC)},
			seedAlert{teen: maya.PlatformUserID, cat: models.CategoryGrooming, at: time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)},
			// Nine weeks back: outside the chart.
			seedAlert{teen: maya.PlatformUserID, cat: models.CategoryHate, at: time.Date(2026, 9, 27, 12, 0, 0, 0, time.UTC)},
		)
		for _, viewer := range []models.Actor{pat.Actor, mayaP.Actor} {
			weeks, err := s.AlertChart(ctx, viewer, maya.ID, day0)
			if err != nil {
				t.Fatal(err)
			}
			if len(weeks) != 8 || !weeks[7].Start.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)) ||
				!weeks[0].Start.Equal(time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)) {
				t.Fatalf("weeks = %+v", weeks)
			}
			if weeks[7].Counts[models.CategoryBullying] != 2 || weeks[7].Total != 2 {
				t.Errorf("this week = %+v, want 2 bullying", weeks[7])
			}
			if weeks[6].Counts[models.CategorySpam] != 1 || weeks[6].Total != 1 {
				t.Errorf("last week = %+v, want 1 spam (Sunday 23:59)", weeks[6])
			}
			if weeks[0].Counts[models.CategoryGrooming] != 1 || weeks[0].Counts[models.CategoryHate] != 0 {
				t.Errorf("first week = %+v", weeks[0])
			}
			total := 0
			for _, wk := range weeks {
				total += wk.Total
			}
			if total != 4 {
				t.Errorf("%d alerts charted, want 4", total)
			}
		}
	})
}

func TestStore_BlockAlertCounterpart(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		pat := w.guardian(t, "Pat Parent")
		cam := w.guardian(t, "Cam Coparent")
		w.link(t, pat, mayaP)
		w.link(t, cam, mayaP)
		if _, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) {
			p.Approved = append(p.Approved, models.Contact{PlatformUserID: "u_friend", Label: "Friend"})
		}); err != nil {
			t.Fatal(err)
		}
		ids := w.alerts(t,
			seedAlert{teen: maya.PlatformUserID, other: "u_9", cat: models.CategoryBullying, at: day0.Add(-time.Hour)},
			seedAlert{teen: maya.PlatformUserID, other: "u_friend", cat: models.CategoryScam, at: day0.Add(-time.Hour)},
			seedAlert{teen: maya.PlatformUserID, other: "", cat: models.CategorySpam, at: day0.Add(-time.Hour)},
		)
		before := rulesOf(t, s, pat.Actor, maya.ID)
		seq := seqNow(t, s)

		res, err := s.BlockAlertCounterpart(ctx, pat.Actor, ids[0])
		if err != nil || res.AlreadyBlocked || res.CounterpartID != "u_9" || res.TeenName != "Maya" {
			t.Fatalf("block = %+v, %v", res, err)
		}
		after := rulesOf(t, s, mayaP.Actor, maya.ID)
		if after.Version != before.Version+1 || len(after.Blocked) != len(before.Blocked)+1 || seqNow(t, s) <= seq {
			t.Fatalf("rules after blocking: version %d, blocked %+v", after.Version, after.Blocked)
		}
		found := false
		for _, c := range after.Blocked {
			found = found || c.PlatformUserID == "u_9"
		}
		if !found {
			t.Errorf("u_9 not blocked: %+v", after.Blocked)
		}
		e := latestAudit(t, s, maya.ID)
		if e.Action != models.ActionPolicyChanged || e.ActorID != pat.UserID || !strings.Contains(e.Reason, "bullying alert") ||
			!strings.Contains(string(e.After), "u_9") || strings.Contains(string(e.Before), "u_9") {
			t.Errorf("audit entry = %+v", e)
		}
		if _, ok := noteWith(notes(t, s, mayaP), "Pat Parent changed your message rules after a safety alert"); !ok {
			t.Errorf("the teen was not told: %+v", notes(t, s, mayaP))
		}
		if _, ok := noteWith(notes(t, s, cam), "Pat Parent changed Maya's message rules after a safety alert"); !ok {
			t.Errorf("the other guardian was not told: %+v", notes(t, s, cam))
		}
		if len(w.out.to(t, cam.Email)) == 0 {
			t.Error("the other guardian was not emailed")
		}

		again, err := s.BlockAlertCounterpart(ctx, cam.Actor, ids[0])
		if err != nil || !again.AlreadyBlocked {
			t.Errorf("blocking again = %+v, %v", again, err)
		}
		if v := rulesOf(t, s, pat.Actor, maya.ID).Version; v != after.Version {
			t.Errorf("blocking again made version %d, want %d", v, after.Version)
		}

		moved, err := s.BlockAlertCounterpart(ctx, pat.Actor, ids[1])
		if err != nil || !moved.WasApproved {
			t.Fatalf("blocking an approved contact = %+v, %v", moved, err)
		}
		p := rulesOf(t, s, pat.Actor, maya.ID)
		for _, c := range p.Approved {
			if c.PlatformUserID == "u_friend" {
				t.Error("u_friend is still approved after being blocked")
			}
		}

		if _, err := s.BlockAlertCounterpart(ctx, pat.Actor, ids[2]); models.FieldErrors(err) == nil {
			t.Errorf("blocking an alert without another account: %v", err)
		}
		if _, err := s.BlockAlertCounterpart(ctx, mayaP.Actor, ids[0]); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("the teen using the guardian's block: %v", err)
		}
	})
}

// A guardian of many teens gets one list, merged newest first across
// them, with alerts of one teen between those of others, paging both ways,
// and counts per teen and per state.
func TestStore_Alerts_ManyTeens(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		pat := w.guardian(t, "Pat Parent")
		var teens []models.Teen
		var seeds []seedAlert
		const n = 20
		for i := range n {
			tn, p := w.teen(t, fmt.Sprintf("Teen %02d", i), "2011-06")
			w.link(t, pat, p)
			teens = append(teens, tn)
			// Times out of step with the teens' order, so the newest
			// alerts come from teens far apart in the list.
			at := day0.Add(-time.Duration((i*7)%n) * time.Hour)
			seeds = append(seeds, seedAlert{teen: tn.PlatformUserID, other: "u_1", at: at},
				seedAlert{teen: tn.PlatformUserID, other: "u_2", cat: models.CategorySpam, at: at.Add(-30 * time.Minute)})
		}
		seeded := w.alerts(t, seeds...)
		order := make([]int, len(seeded))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return seeds[b].at.Compare(seeds[a].at) })
		ids := make([]int64, len(order))
		for i, k := range order {
			ids[i] = seeded[k]
		}
		first := func(teen models.Teen) int64 { // the teen's bullying alert
			for k, sa := range seeds {
				if sa.teen == teen.PlatformUserID {
					return seeded[k]
				}
			}
			return 0
		}
		got, total, err := s.Alerts(ctx, pat.Actor, models.AlertFilter{Limit: 5})
		if err != nil || total != 2*n || fmt.Sprint(alertIDs(got)) != fmt.Sprint(ids[:5]) {
			t.Fatalf("first page = %v (total %d), %v; want %v", alertIDs(got), total, err, ids[:5])
		}
		next, _, _ := s.Alerts(ctx, pat.Actor, models.AlertFilter{Limit: 5, Before: ptr(models.CursorOf(got[4]))})
		if fmt.Sprint(alertIDs(next)) != fmt.Sprint(ids[5:10]) {
			t.Errorf("second page = %v, want %v", alertIDs(next), ids[5:10])
		}
		if len(next) > 0 {
			back, _, _ := s.Alerts(ctx, pat.Actor, models.AlertFilter{Limit: 5, After: ptr(models.CursorOf(next[0]))})
			if fmt.Sprint(alertIDs(back)) != fmt.Sprint(ids[:5]) {
				t.Errorf("page before the second = %v, want %v", alertIDs(back), ids[:5])
			}
		}
		spam, total, _ := s.Alerts(ctx, pat.Actor, models.AlertFilter{Category: ptr(models.CategorySpam), Limit: 3})
		if total != n || len(spam) != 3 || spam[0].Category != models.CategorySpam || !spam[0].OccurredAt.After(spam[1].OccurredAt) {
			t.Errorf("spam: %v, total %d; want the 3 newest of %d", alertIDs(spam), total, n)
		}
		if err := s.AcknowledgeAlert(ctx, pat.Actor, first(teens[0])); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkAllAlertsRead(ctx, pat.Actor, &teens[3].ID); err != nil {
			t.Fatal(err)
		}
		counts, err := s.UnreadAlertCounts(ctx, pat.Actor)
		if err != nil || counts[teens[0].ID] != 1 || counts[teens[3].ID] != 0 || counts[teens[n-1].ID] != 2 || len(counts) != n-1 {
			t.Errorf("UnreadAlertCounts = %v, %v", counts, err)
		}
		if sum, err := s.UnreadAlertTotal(ctx, pat.Actor); err != nil || sum != 2*n-3 {
			t.Errorf("UnreadAlertTotal = %d, %v; want %d", sum, err, 2*n-3)
		}
		unread, total, _ := s.Alerts(ctx, pat.Actor, models.AlertFilter{State: models.AlertUnread, Limit: 100})
		if total != 2*n-3 || len(unread) != min(2*n-3, 100) {
			t.Errorf("unread: %d listed, total %d; want %d", len(unread), total, 2*n-3)
		}
		read, total, _ := s.Alerts(ctx, pat.Actor, models.AlertFilter{State: models.AlertRead, Category: ptr(models.CategoryBullying), Limit: 100})
		if total != 2 || len(read) != 2 || !read[0].Read || !read[1].Read {
			t.Errorf("read bullying: %v, total %d; want Teen 00's and Teen 03's, marked read", alertIDs(read), total)
		}
		for _, a := range unread {
			if a.Read {
				t.Errorf("unread alert %d is marked read", a.ID)
			}
		}
	})
}

// Counts stop past models.AlertCountCap: a backlog is "more than", never
// counted alert by alert on every page.
func TestStore_AlertCountsAreCapped(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		pat := w.guardian(t, "Pat Parent")
		w.link(t, pat, mayaP)
		seeds := make([]seedAlert, models.AlertCountCap+5)
		for i := range seeds {
			seeds[i] = seedAlert{teen: maya.PlatformUserID, other: "u_9", at: day0.Add(-time.Duration(i) * time.Minute)}
		}
		ids := w.alerts(t, seeds...)
		over := models.AlertCountCap + 1
		if _, total, err := s.Alerts(ctx, pat.Actor, models.AlertFilter{}); err != nil || total != over {
			t.Errorf("total = %d, %v; want %d (more than the cap)", total, err, over)
		}
		if counts, _ := s.UnreadAlertCounts(ctx, pat.Actor); counts[maya.ID] != over {
			t.Errorf("unread = %v, want %d", counts, over)
		}
		if sum, _ := s.UnreadAlertTotal(ctx, pat.Actor); sum != over {
			t.Errorf("unread total = %d, want %d", sum, over)
		}
		// Acknowledged ones come off what is counted, so the count is
		// exact again below the cap.
		for _, id := range ids[:10] {
			if err := s.AcknowledgeAlert(ctx, pat.Actor, id); err != nil {
				t.Fatal(err)
			}
		}
		if counts, _ := s.UnreadAlertCounts(ctx, pat.Actor); counts[maya.ID] != models.AlertCountCap-5 {
			t.Errorf("unread after 10 acknowledged = %v, want %d", counts, models.AlertCountCap-5)
		}
		if sum, _ := s.UnreadAlertTotal(ctx, pat.Actor); sum != models.AlertCountCap-5 {
			t.Errorf("unread total after 10 acknowledged = %d, want %d", sum, models.AlertCountCap-5)
		}
		if _, err := s.UnreadAlertTotal(ctx, mayaP.Actor); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("the teen's unread total: %v, want not found", err)
		}
		if _, total, _ := s.Alerts(ctx, pat.Actor, models.AlertFilter{State: models.AlertRead}); total != 10 {
			t.Errorf("read total = %d, want 10", total)
		}
		if _, total, _ := s.Alerts(ctx, mayaP.Actor, models.AlertFilter{}); total != over {
			t.Errorf("the teen's total = %d, want %d", total, over)
		}
	})
}
