package rulecounts_test

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
	"github.com/hearth-safety/hearth/policy"
	"github.com/hearth-safety/hearth/web/rulecounts"
)

// TestFlushToStore counts on two nodes sharing one database and reads the
// totals back as staff would.
func TestFlushToStore(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cl, _, err := s.CreateClient(ctx, store.NewClient{Name: "chat"})
		if err != nil {
			t.Fatal(err)
		}
		maya, _, err := s.UpsertTeen(ctx, cl.ID, "tk_maya", store.TeenInput{DisplayName: "Maya", BirthMonth: "2012-06", TimeZone: "Europe/London"})
		if err != nil {
			t.Fatal(err)
		}
		london, _ := time.LoadLocation("Europe/London")
		lead := models.Actor{UserID: -1, Role: models.RoleLead}
		quiet := func() int64 {
			t.Helper()
			rcs, err := s.RuleCounts(ctx, lead, maya.ID, 7)
			if err != nil {
				t.Fatal(err)
			}
			for _, rc := range rcs {
				if rc.Reason == policy.ReasonQuietHours {
					return rc.Count
				}
			}
			return 0
		}

		a := rulecounts.New(s, rulecounts.Config{Interval: time.Hour})
		b := rulecounts.New(s, rulecounts.Config{Interval: time.Hour})
		for range 5 {
			a.Record(cl.ID, "tk_maya", london, policy.ReasonQuietHours)
		}
		a.Record(cl.ID, "tk_gone", london, policy.ReasonQuietHours) // no such teen: dropped, not an error
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := quiet(); got != 5 {
			t.Errorf("after two flushes of 5: %d", got)
		}
		for range 2 {
			a.Record(cl.ID, "tk_maya", london, policy.ReasonQuietHours)
		}
		for range 3 {
			b.Record(cl.ID, "tk_maya", london, policy.ReasonQuietHours)
		}
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if got := quiet(); got != 10 {
			t.Errorf("after both nodes flushed: %d, want 10", got)
		}
	})
}
