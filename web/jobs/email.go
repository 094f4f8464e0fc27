package jobs

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"

	"github.com/riverqueue/river"

	"github.com/hearth-safety/hearth/web/mail"
)

// KindSendEmail is the River job kind that sends one mail.Message.
const KindSendEmail = "send_email"

// emailMaxAttempts bounds retries. With River's attempt^4 seconds backoff the
// tenth attempt comes about four and a half hours after the first.
const emailMaxAttempts = 10

// emailArgs is the stored form of a mail.Message. River keeps it in
// river_job.args until the finished job is cleaned up (see riverConfig's
// retention periods), so the single-use link in Text is in the database
// that long.
type emailArgs struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

func (emailArgs) Kind() string { return KindSendEmail }

func (emailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueEmail, MaxAttempts: emailMaxAttempts}
}

// emailWorker sends emailArgs through a mail.Sender.
type emailWorker struct {
	river.WorkerDefaults[emailArgs]
	sender mail.Sender
	logger *slog.Logger
}

// Work sends the message. It logs only the kind, the recipient's domain and
// the attempt, and the error it returns (which River logs and stores) has
// the recipient's address and the body masked. A recipient the server
// refused for good cancels the job instead of retrying it.
func (w *emailWorker) Work(ctx context.Context, job *river.Job[emailArgs]) error {
	m := mail.Message{To: job.Args.To, Subject: job.Args.Subject, Text: job.Args.Text}
	attrs := []any{
		slog.String("kind", KindSendEmail),
		slog.String("to_domain", m.RecipientDomain()),
		slog.Int("attempt", job.Attempt),
	}
	err := w.sender.Send(ctx, m)
	if err == nil {
		w.logger.InfoContext(ctx, "jobs: email sent", attrs...)
		return nil
	}
	masked := errors.New(mask(err.Error(), m))
	switch {
	case errors.Is(err, mail.ErrRecipientRejected):
		w.logger.WarnContext(ctx, "jobs: email recipient rejected; not retrying", attrs...)
		return river.JobCancel(masked)
	case job.Attempt >= job.MaxAttempts:
		w.logger.ErrorContext(ctx, "jobs: email failed; giving up", attrs...)
	default:
		w.logger.WarnContext(ctx, "jobs: email failed; will retry", attrs...)
	}
	return masked
}

// mask removes from s the recipient's address (keeping its domain) and
// every line of the body long enough to matter, in case a Sender's error
// quotes them (SMTP replies often quote the recipient).
func mask(s string, m mail.Message) string {
	// The body first: its lines may contain the address.
	if m.Text != "" {
		s = strings.ReplaceAll(s, m.Text, "<body>")
		for line := range strings.Lines(m.Text) {
			if line = strings.TrimSpace(line); len(line) >= 8 {
				s = strings.ReplaceAll(s, line, "<body>")
			}
		}
	}
	if m.To != "" {
		re := regexp.MustCompile("(?i)" + regexp.QuoteMeta(m.To))
		s = re.ReplaceAllLiteralString(s, "<recipient>@"+m.RecipientDomain())
	}
	return s
}
