package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
)

func TestStore_SeedAlerts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cl, _, err := st.CreateClient(ctx, store.NewClient{Name: "svc"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.UpsertTeen(ctx, cl.ID, "tk_a", store.TeenInput{DisplayName: "A", BirthMonth: "2012-01", TimeZone: "Europe/London"}); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 11, 3, 16, 0, 0, 0, time.UTC)
		ids, err := st.SeedAlerts(ctx, cl.ID, []store.SeedAlert{{Event: models.Event{ID: "evt_1", TeenID: "tk_a", CounterpartID: "u_9",
			Direction: models.DirectionInbound, Category: models.CategoryBullying, Severity: models.SeverityHigh,
			ActionTaken: models.ActionMessageBlocked, OccurredAt: at}}})
		if err != nil || len(ids) != 1 || ids[0] == 0 {
			t.Fatalf("SeedAlerts = %v, %v", ids, err)
		}
		_, err = st.SeedAlerts(ctx, cl.ID, []store.SeedAlert{{Event: models.Event{ID: "evt_2", TeenID: "tk_nobody",
			Direction: models.DirectionInbound, Category: models.CategoryBullying, Severity: models.SeverityHigh,
			ActionTaken: models.ActionNone, OccurredAt: at}}})
		if err == nil {
			t.Fatal("SeedAlerts for an unknown teen succeeded")
		}
	})
}
