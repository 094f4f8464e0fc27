package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

// SeedAlert is one alert for SeedAlerts: the teen by platform user ID, and
// the event as the messaging service would have reported it.
type SeedAlert struct {
	Event       models.Event
	Occurrences int // 0 means 1
	ReceivedAt  time.Time
	// Read marks it acknowledged by these guardians.
	ReadBy []int64
}

// SeedAlerts stores alerts for clientID's teens directly, without the
// ingestion path's checks, grouping or emails: for `hearth demo`, benchmarks
// and tests that need alerts in place. Each event ID is remembered as
// received, as ingestion would. It returns the new alert IDs in order.
func (s *Store) SeedAlerts(ctx context.Context, clientID int64, alerts []SeedAlert) ([]int64, error) {
	ids := make([]int64, 0, len(alerts))
	teens := map[string]int64{}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		rows := make([]alertRow, len(alerts))
		events := make([]receivedEventRow, len(alerts))
		for i, a := range alerts {
			e := a.Event
			teenID, ok := teens[e.TeenID]
			if !ok {
				var t teenRow
				if err := tx.Where("client_id = ? AND platform_user_id = ?", clientID, e.TeenID).Take(&t).Error; err != nil {
					return fmt.Errorf("seed alerts: teen %q: %w", e.TeenID, mapErr(err))
				}
				teenID, teens[e.TeenID] = t.ID, t.ID
			}
			n := a.Occurrences
			if n < 1 {
				n = 1
			}
			received := a.ReceivedAt
			if received.IsZero() {
				received = e.OccurredAt
			}
			at := e.OccurredAt.UTC().Truncate(time.Microsecond)
			rows[i] = alertRow{TeenID: teenID, ClientID: clientID, EventID: e.ID, CounterpartID: e.CounterpartID,
				Direction: string(e.Direction), Category: string(e.Category), Severity: string(e.Severity),
				SeverityRank: e.Severity.Rank(), ActionTaken: string(e.ActionTaken), OccurredAt: at,
				LastOccurredAt: at, Occurrences: n, ReceivedAt: received.UTC().Truncate(time.Microsecond)}
			events[i] = receivedEventRow{ClientID: clientID, EventID: e.ID, ReceivedAt: rows[i].ReceivedAt}
		}
		// In batches, in order: both databases hand the new ids back in the
		// order of the rows, so ids[i] is alerts[i]'s.
		const batch = 400
		for lo := 0; lo < len(rows); lo += batch {
			hi := min(lo+batch, len(rows))
			if err := tx.Create(rows[lo:hi]).Error; err != nil {
				return fmt.Errorf("seed alerts: %w", err)
			}
			if err := tx.Create(events[lo:hi]).Error; err != nil {
				return fmt.Errorf("seed alerts: event IDs: %w", err)
			}
		}
		for i, a := range alerts {
			for _, g := range a.ReadBy {
				if err := tx.Exec("INSERT INTO alert_reads (alert_id, user_id, read_at) VALUES (?, ?, ?)", rows[i].ID, g, rows[i].ReceivedAt).Error; err != nil {
					return fmt.Errorf("seed alerts: %w", err)
				}
			}
			ids = append(ids, rows[i].ID)
		}
		return nil
	})
	return ids, err
}
