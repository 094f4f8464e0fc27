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
