package web

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
	"github.com/hearth-safety/hearth/web/jobs"
)

func TestDeleteExpiredJob_KeepsAlertsForTheConfiguredPeriod(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cl, _, err := st.CreateClient(ctx, store.NewClient{Name: "chat"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.UpsertTeen(ctx, cl.ID, "tk_maya", store.TeenInput{DisplayName: "Maya", BirthMonth: "2012-06", TimeZone: "Europe/London"}); err != nil {
			t.Fatal(err)
		}
		now := st.Now()
		var seed []store.SeedAlert
		for i, age := range []time.Duration{47 * time.Hour, 12 * time.Hour} {
			seed = append(seed, store.SeedAlert{Event: models.Event{ID: "evt_" + string(rune('a'+i)), TeenID: "tk_maya",
				Direction: models.DirectionInbound, Category: models.CategorySpam, Severity: models.SeverityLow,
				ActionTaken: models.ActionNone, OccurredAt: now.Add(-age)}})
		}
		if _, err := st.SeedAlerts(ctx, cl.ID, seed); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(env(map[string]string{"HEARTH_ALERT_RETENTION": "1d"}))
		if err != nil {
			t.Fatal(err)
		}
		jc := maintenance(jobs.Config{}, st, slog.New(slog.DiscardHandler), cfg.AlertRetention)
		scheduled := false
		for _, p := range jc.Periodic {
			scheduled = scheduled || p.ID == "delete_expired"
		}
		if !scheduled {
			t.Fatal("delete_expired is not scheduled")
		}
		worker := &deleteExpiredWorker{st: st, logger: slog.New(slog.DiscardHandler), alertRetention: cfg.AlertRetention}
		if err := worker.Work(ctx, nil); err != nil {
			t.Fatal(err)
		}
		var left int64
		if err := st.SQLDB().QueryRowContext(ctx, "SELECT COUNT(*) FROM alerts").Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 1 {
			t.Errorf("%d alerts left with a 1-day retention, want the one from 12 hours ago", left)
		}
	})
}
