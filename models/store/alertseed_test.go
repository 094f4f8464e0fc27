package store_test

import (
	"context"
	"errors"
	"fmt"
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

func TestStore_SeedAlerts_ManyInOrder(t *testing.T) {
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
		in := make([]store.SeedAlert, 1000)
		for i := range in {
			in[i] = store.SeedAlert{Event: models.Event{ID: fmt.Sprintf("evt_%d", i), TeenID: "tk_a", CounterpartID: fmt.Sprintf("u_%d", i),
				Direction: models.DirectionInbound, Category: models.CategorySpam, Severity: models.SeverityLow,
				ActionTaken: models.ActionNone, OccurredAt: at.Add(time.Duration(i) * time.Minute)}}
		}
		ids, err := st.SeedAlerts(ctx, cl.ID, in)
		if err != nil || len(ids) != len(in) {
			t.Fatalf("SeedAlerts = %d ids, %v", len(ids), err)
		}
		var other string
		for _, i := range []int{0, 399, 400, 999} {
			if err := st.SQLDB().QueryRowContext(ctx, rebind(st, "SELECT counterpart_id FROM alerts WHERE id = ?"), ids[i]).Scan(&other); err != nil || other != fmt.Sprintf("u_%d", i) {
				t.Errorf("ids[%d] = %d is the alert of %q (%v), want u_%d", i, ids[i], other, err, i)
			}
		}
		if _, err := st.SeedAlerts(ctx, cl.ID, in[:1]); !errors.Is(err, models.ErrConflict) {
			t.Errorf("seeding an event ID again: %v, want ErrConflict", err)
		}
	})
}
