package models

import (
	"context"
	"database/sql"
)

// EmailOutbox queues an email inside the caller's database transaction, so it goes only if the change commits.
// A rolled-back change therefore never tells anyone about something that did
// not happen, and a committed one is never left unannounced by a crash
// between the commit and the send.
type EmailOutbox interface {
	EnqueueEmail(ctx context.Context, tx *sql.Tx, to, subject, text string) error
}

// AlertNotifier is told, inside the transaction that stored them, which
// alerts are new or grew (a burst got another event), so the emails they
// call for are queued only if they commit and never lost to a crash after.
// It decides who is emailed and when; the store only reports.
type AlertNotifier interface {
	AlertsStored(ctx context.Context, tx *sql.Tx, alertIDs []int64) error
}
