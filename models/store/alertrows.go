package store

import (
	"time"

	"github.com/hearth-safety/hearth/models"
)

// alertRow mirrors the alerts table.
type alertRow struct {
	ID             int64 `gorm:"primaryKey"`
	TeenID         int64
	ClientID       int64
	EventID        string
	CounterpartID  string
	Direction      string
	Category       string
	Severity       string
	SeverityRank   int
	ActionTaken    string
	OccurredAt     time.Time
	LastOccurredAt time.Time
	Occurrences    int
	ReceivedAt     time.Time
	NotUsefulAt    *time.Time
	NotUsefulBy    *int64
	EmailedAt      *time.Time
	DigestedAt     *time.Time
}

func (alertRow) TableName() string { return "alerts" }

func (r alertRow) model() models.Alert {
	return models.Alert{ID: r.ID, TeenID: r.TeenID, CounterpartID: r.CounterpartID,
		Direction: models.Direction(r.Direction), Category: models.Category(r.Category),
		Severity: models.Severity(r.Severity), ActionTaken: models.Action(r.ActionTaken),
		OccurredAt: r.OccurredAt.UTC(), LastOccurredAt: r.LastOccurredAt.UTC(), Occurrences: r.Occurrences,
		ReceivedAt: r.ReceivedAt.UTC(), NotUseful: r.NotUsefulAt != nil}
}

// receivedEventRow is one remembered event ID: the idempotency key.
type receivedEventRow struct {
	ClientID   int64  `gorm:"primaryKey;autoIncrement:false"`
	EventID    string `gorm:"primaryKey"`
	ReceivedAt time.Time
}

func (receivedEventRow) TableName() string { return "received_events" }
