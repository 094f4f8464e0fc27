package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
)

// storeAlertAt stores one alert about platformID that happened at, with the
// event ID id.
func storeAlertAt(t *testing.T, w *world, platformID, id string, at time.Time, readBy ...int64) int64 {
	t.Helper()
	ids, err := w.s.SeedAlerts(ctx, w.client.ID, []store.SeedAlert{{Event: models.Event{ID: id, TeenID: platformID, CounterpartID: "u_9",
		Direction: models.DirectionInbound, Category: models.CategoryBullying, Severity: models.SeverityHigh,
		ActionTaken: models.ActionMessageBlocked, OccurredAt: at}, ReadBy: readBy}})
	if err != nil {
		t.Fatalf("SeedAlerts: %v", err)
	}
	return ids[0]
}

func count(t *testing.T, s *store.Store, table string) int {
	t.Helper()
	return rawInt(t, s, "SELECT COUNT(*) FROM "+table)
}

func TestStore_DeleteExpiredData(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		const retention = 90 * 24 * time.Hour
		g := w.guardian(t, "Pat")
		maya, mp := w.teen(t, "Maya", "2012-06")
		w.link(t, g, mp)
		w.invite(t, g) // pending, expires in 48 hours
		now := w.c.Now()

		for _, ss := range []store.Session{
			{IDHash: "short", UserID: g.UserID, Data: "{}", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Minute)},
			{IDHash: "long", UserID: g.UserID, Data: "{}", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(12 * time.Hour)},
		} {
			if err := s.CreateSession(ctx, ss); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.CreateSigninLink(ctx, w.client.ID, maya.PlatformUserID); err != nil {
			t.Fatal(err)
		}
		old := storeAlertAt(t, w, maya.PlatformUserID, "evt_old", now.Add(-retention-time.Hour), g.UserID)
		recent := storeAlertAt(t, w, maya.PlatformUserID, "evt_recent", now.Add(-10*24*time.Hour))
		// A burst that began before the cut but went on after it is kept:
		// retention counts from the latest event.
		burst := storeAlertAt(t, w, maya.PlatformUserID, "evt_burst", now.Add(-retention-2*time.Hour))
		rawExec(t, s, "UPDATE alerts SET last_occurred_at = ?, occurrences = 3 WHERE id = ?", now.Add(-retention+time.Hour), burst)
		rawExec(t, s, "INSERT INTO rule_counts (teen_id, day, reason, count) VALUES (?, ?, 'allowed', 4), (?, ?, 'allowed', 2)",
			maya.ID, now.AddDate(0, 0, -models.RuleCountRetentionDays-2).Format("2006-01-02"), maya.ID, now.Format("2006-01-02"))
		rawExec(t, s, "INSERT INTO policy_tombstones (seq, client_id, platform_user_id, erased_at) VALUES (900001, ?, 'tk_gone', ?), (900002, ?, 'tk_new', ?)",
			w.client.ID, now.Add(-store.PolicyTombstoneRetention-time.Hour), w.client.ID, now.Add(-time.Hour))

		if _, err := s.DeleteExpiredData(ctx, 0); err == nil {
			t.Error("a retention of 0 was accepted")
		}

		// Eleven minutes on: the sign-in link and the short session expired.
		w.c.Add(11 * time.Minute)
		r, err := s.DeleteExpiredData(ctx, retention)
		if err != nil {
			t.Fatal(err)
		}
		want := store.Retained{Tokens: 2, Alerts: 1, RuleCounts: 1, Tombstones: 1}
		if r != want {
			t.Errorf("first run deleted %+v, want %+v", r, want)
		}
		if n := rawInt(t, s, "SELECT COUNT(*) FROM alerts WHERE id = ?", old); n != 0 {
			t.Error("the alert older than the retention period is still there")
		}
		if n := rawInt(t, s, "SELECT COUNT(*) FROM alerts WHERE id IN (?, ?)", recent, burst); n != 2 {
			t.Errorf("%d of the recent alert and the ongoing burst are left, want both", n)
		}
		if n := count(t, s, "alert_reads"); n != 0 {
			t.Errorf("%d acknowledgements of deleted alerts are left", n)
		}
		// Event IDs are kept for good: a redelivery of evt_old must stay a
		// duplicate after its alert is gone.
		if n := count(t, s, "received_events"); n != 3 {
			t.Errorf("received_events holds %d IDs, want all 3", n)
		}
		if n := rawInt(t, s, "SELECT COUNT(*) FROM sessions WHERE id_hash = 'long'"); n != 1 {
			t.Error("a live session was deleted")
		}
		if n := count(t, s, "invitations"); n != 2 {
			t.Errorf("%d invitations are left, want the accepted one and the pending one", n)
		}
		if n := rawInt(t, s, "SELECT COUNT(*) FROM policy_tombstones WHERE platform_user_id = 'tk_new'"); n != 1 {
			t.Error("a recent tombstone was deleted")
		}

		// A week and two days on: the invitations are a week past expiry,
		// the last session is over; the burst's last event is now too old.
		w.c.Add(9 * 24 * time.Hour)
		r, err = s.DeleteExpiredData(ctx, retention)
		if err != nil {
			t.Fatal(err)
		}
		if r.Invitations != 2 || r.Tokens != 1 || r.Alerts != 1 {
			t.Errorf("second run deleted %+v, want 2 invitations, 1 session and the burst", r)
		}
		if n := count(t, s, "received_events"); n != 3 {
			t.Errorf("received_events holds %d IDs after the second run, want 3", n)
		}
		// The teen's link and rules are not retention's business.
		if liveCount(t, s, maya.ID) != 1 || count(t, s, "policies") != 1 {
			t.Error("retention touched the link or the rules")
		}
	})
}

func TestStore_DeleteOldTombstones_waitsForNodes(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		now := w.c.Now()
		old := now.Add(-store.PolicyTombstoneRetention - time.Hour)
		rawExec(t, s, "INSERT INTO policy_tombstones (seq, client_id, platform_user_id, erased_at) VALUES (50, ?, 'tk_gone', ?)", w.client.ID, old)
		// A node heard from this month that has not applied seq 50 yet.
		rawExec(t, s, "INSERT INTO cluster_nodes (id, applied_seq, heartbeat_at, started_at) VALUES ('n1', 49, ?, ?)", now, now)
		if n, err := s.DeleteOldTombstones(ctx); err != nil || n != 0 {
			t.Fatalf("DeleteOldTombstones = %d, %v; want 0 while a node has not applied it", n, err)
		}
		rawExec(t, s, "UPDATE cluster_nodes SET applied_seq = 50 WHERE id = 'n1'")
		if n, err := s.DeleteOldTombstones(ctx); err != nil || n != 1 {
			t.Fatalf("DeleteOldTombstones = %d, %v; want 1 once every node applied it", n, err)
		}
	})
}

func TestStore_DeleteOldAuditEvents(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		pat, sam := w.guardian(t, "Pat"), w.guardian(t, "Sam")
		maya, mp := w.teen(t, "Maya", "2012-06")
		leo, lp := w.teen(t, "Leo", "2012-06")
		w.link(t, pat, mp)
		old := rawInt(t, s, "SELECT COUNT(*) FROM audit_events WHERE teen_id = ?", maya.ID)
		w.c.Add(365 * 24 * time.Hour)
		w.link(t, sam, mp)
		w.link(t, sam, lp)
		w.c.Add(365*24*time.Hour + 24*time.Hour)

		n, err := s.DeleteOldAuditEvents(ctx)
		if err != nil || n != int64(old) {
			t.Fatalf("DeleteOldAuditEvents = %d, %v; want Maya's %d entries from two years ago", n, err, old)
		}
		events, err := s.AllAuditEvents(ctx, mp.Actor, maya.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) < 2 || events[0].Action != models.ActionInvitationAccepted || events[len(events)-1].Action != models.ActionAuditPruned {
			t.Fatalf("Maya's log after pruning: %v, want Sam's acceptance first and the pruning last", actions(events))
		}
		if err := s.VerifyAuditChain(ctx, maya.ID); err != nil {
			t.Errorf("the pruned chain does not verify: %v", err)
		}
		if n, err := s.DeleteOldAuditEvents(ctx); err != nil || n != 0 {
			t.Errorf("a second run deleted %d (%v); nothing is old any more", n, err)
		}
		if rawInt(t, s, "SELECT COUNT(*) FROM audit_events WHERE teen_id = ? AND action = ?", leo.ID, models.ActionAuditPruned) != 0 {
			t.Error("Leo's log, with nothing old in it, was pruned")
		}
		// Removing the first kept entry is still caught.
		rawExec(t, s, "DELETE FROM audit_events WHERE id = ?", events[0].ID)
		if err := s.VerifyAuditChain(ctx, maya.ID); !errors.Is(err, models.ErrAuditTampered) {
			t.Errorf("after removing the first kept entry: %v, want ErrAuditTampered", err)
		}
	})
}
