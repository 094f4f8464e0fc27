package store_test

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
)

// FuzzAlertsScope feeds the alert inbox's filters and keyset cursors (as
// the query string carries them, through models.ParseAlertCursor) to
// Store.Alerts on a real SQLite store where two guardians supervise
// different teens. Whatever the values, for a guardian and for a teen:
//
//   - asking for a teen the viewer may not see is models.ErrNotFound, and
//     nothing else fails;
//   - the page is exactly what the viewer may see, filtered, ordered and
//     cut at the cursor and the limit as computed here from the seeded
//     alerts: no alert of another guardian's teen, none missing, none out
//     of order, whatever position the cursor names.
func FuzzAlertsScope(f *testing.F) {
	ctx := context.Background()
	s := storetest.Open(f, store.SQLite, storetest.Options{})
	cl, _, err := s.CreateClient(ctx, store.NewClient{Name: "chat"})
	if err != nil {
		f.Fatal(err)
	}
	var viewers []models.Actor
	visible := map[models.Actor][]int64{} // teen IDs each viewer may see
	var events []store.SeedAlert
	base := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for gi, prefix := range []string{"tk_a", "tk_b"} {
		g, err := s.CreateUser(ctx, store.NewUser{Email: prefix + "@example.com", Name: prefix, Password: "correct horse battery", Role: models.RoleGuardian})
		if err != nil {
			f.Fatal(err)
		}
		n := 3 - gi
		if err := s.SeedSupervisedTeens(ctx, cl.ID, g.ID, prefix, n, nil); err != nil {
			f.Fatal(err)
		}
		ga := models.Actor{UserID: g.ID, Role: models.RoleGuardian}
		gts, err := s.GuardianTeens(ctx, ga)
		if err != nil || len(gts) != n {
			f.Fatalf("%d teens: %v", len(gts), err)
		}
		viewers = append(viewers, ga)
		for _, gt := range gts {
			visible[ga] = append(visible[ga], gt.Teen.ID)
			ta := models.Actor{UserID: gt.Teen.UserID, Role: models.RoleTeen}
			viewers = append(viewers, ta)
			visible[ta] = []int64{gt.Teen.ID}
		}
		for i := range 12 {
			// Some alerts share a moment, so the id must break ties.
			at := base.Add(time.Duration(i/2+gi*3) * time.Hour)
			events = append(events, store.SeedAlert{Event: models.Event{
				ID: prefix + "_evt_" + string(rune('a'+i)), TeenID: store.SeedPlatformID(prefix, 1+i%n), CounterpartID: "u_x",
				Direction: models.DirectionInbound, Category: models.Categories[i%3], Severity: models.Severities[i%4],
				ActionTaken: models.ActionMessageBlocked, OccurredAt: at}})
		}
	}
	if _, err := s.SeedAlerts(ctx, cl.ID, events); err != nil {
		f.Fatal(err)
	}
	// Everything each viewer may see, read once without filters.
	seen := map[models.Actor][]models.Alert{}
	for _, v := range viewers {
		as, _, err := s.Alerts(ctx, v, models.AlertFilter{Limit: models.MaxAlertLimit})
		if err != nil || len(as) == 0 {
			f.Fatalf("viewer %+v: %d alerts, %v", v, len(as), err)
		}
		for _, a := range as {
			if !slices.Contains(visible[v], a.TeenID) {
				f.Fatalf("viewer %+v sees an alert about teen %d", v, a.TeenID)
			}
		}
		seen[v] = as
	}

	cursor := models.CursorOf(seen[viewers[0]][3]).String()
	f.Add(uint8(0), int64(0), uint8(0), uint8(0), uint8(0), "", "", int8(0))
	f.Add(uint8(0), int64(1), uint8(1), uint8(2), uint8(1), cursor, "", int8(3))
	f.Add(uint8(0), int64(4), uint8(0), uint8(0), uint8(0), "", "", int8(0))
	f.Add(uint8(1), int64(2), uint8(0), uint8(0), uint8(0), "", cursor, int8(2))
	f.Add(uint8(4), int64(0), uint8(3), uint8(1), uint8(2), "", cursor, int8(-1))
	f.Add(uint8(0), int64(0), uint8(0), uint8(0), uint8(0), "9223372036854775807.9223372036854775807", "", int8(0))
	f.Add(uint8(0), int64(0), uint8(0), uint8(0), uint8(0), "", "0.1", int8(100))
	f.Add(uint8(0), int64(0), uint8(0), uint8(0), uint8(0), "253402300800000000.1", "", int8(5))
	f.Fuzz(func(t *testing.T, who uint8, teen int64, cat, sev, state uint8, before, after string, limit int8) {
		viewer := viewers[int(who)%len(viewers)]
		var fl models.AlertFilter
		if teen != 0 {
			fl.TeenID = &teen
		}
		if cat > 0 {
			c := models.Categories[int(cat-1)%len(models.Categories)]
			fl.Category = &c
		}
		if sev > 0 {
			s := models.Severities[int(sev-1)%len(models.Severities)]
			fl.MinSeverity = &s
		}
		fl.State = []models.AlertState{"", models.AlertUnread, models.AlertRead}[state%3]
		if c, err := models.ParseAlertCursor(before); err == nil {
			fl.Before = &c
		} else if c, err := models.ParseAlertCursor(after); err == nil {
			fl.After = &c
		}
		fl.Limit = int(limit)

		got, _, err := s.Alerts(ctx, viewer, fl)
		if fl.TeenID != nil && !slices.Contains(visible[viewer], teen) {
			if !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("viewer %+v asking for teen %d got %d alerts, %v", viewer, teen, len(got), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("viewer %+v, filter %+v: %v", viewer, fl, err)
		}

		// What the page must be, from everything the viewer may see.
		var want []models.Alert
		for _, a := range seen[viewer] {
			switch {
			case fl.TeenID != nil && a.TeenID != *fl.TeenID,
				fl.Category != nil && a.Category != *fl.Category,
				fl.MinSeverity != nil && a.Severity.Rank() < fl.MinSeverity.Rank(),
				fl.State == models.AlertRead && !a.Read, fl.State == models.AlertUnread && (a.Read || viewer.Role == models.RoleTeen):
				continue
			}
			want = append(want, a)
		}
		older := func(a models.Alert, c models.AlertCursor) bool {
			return a.OccurredAt.Before(c.At) || a.OccurredAt.Equal(c.At) && a.ID < c.ID
		}
		newer := func(a models.Alert, c models.AlertCursor) bool {
			return a.OccurredAt.After(c.At) || a.OccurredAt.Equal(c.At) && a.ID > c.ID
		}
		switch {
		case fl.After != nil:
			want = slices.DeleteFunc(want, func(a models.Alert) bool { return !newer(a, *fl.After) })
			if n := fl.AlertLimit(); len(want) > n {
				want = want[len(want)-n:] // the ones just newer than the cursor
			}
		case fl.Before != nil:
			want = slices.DeleteFunc(want, func(a models.Alert) bool { return !older(a, *fl.Before) })
		}
		if n := fl.AlertLimit(); len(want) > n {
			want = want[:n]
		}
		ids := func(as []models.Alert) []int64 {
			out := make([]int64, len(as))
			for i, a := range as {
				out[i] = a.ID
			}
			return out
		}
		if !slices.Equal(ids(got), ids(want)) {
			t.Fatalf("viewer %+v, filter %+v: got alerts %v, want %v", viewer, fl, ids(got), ids(want))
		}
		if !slices.IsSortedFunc(got, func(a, b models.Alert) int {
			return cmp.Or(b.OccurredAt.Compare(a.OccurredAt), cmp.Compare(b.ID, a.ID))
		}) {
			t.Fatalf("page out of order: %v", ids(got))
		}
	})
}
