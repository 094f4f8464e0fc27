package mail

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// devMailboxSize is how many messages a DevMailbox keeps.
const devMailboxSize = 100

// MailboxMessage is one message kept by a DevMailbox.
type MailboxMessage struct {
	To      string
	Subject string
	Body    string
	SentAt  time.Time
}

// DevMailbox is the Sender for local development and tests: it sends
// nothing, keeps the last 100 messages in memory and logs each one, body
// included, at info level. The body can hold a single-use link, which is the
// point (a developer finds their reset link in the log) and why DevMailbox
// must never be used in production. Safe for concurrent use; the zero value
// is not usable, call NewDevMailbox.
type DevMailbox struct {
	logger *slog.Logger
	now    func() time.Time

	mu   sync.Mutex
	ring [devMailboxSize]MailboxMessage
	next int // index the next message goes to
	n    int // messages held, up to devMailboxSize
}

// NewDevMailbox returns an empty DevMailbox logging to logger
// (slog.Default() when nil).
func NewDevMailbox(logger *slog.Logger) *DevMailbox {
	if logger == nil {
		logger = slog.Default()
	}
	return &DevMailbox{logger: logger, now: time.Now}
}

// Send validates m like SMTP.Send does, keeps it and logs it. It fails only
// for an invalid message or a context that has already ended.
func (d *DevMailbox) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	kept := MailboxMessage{To: m.To, Subject: m.Subject, Body: m.Text, SentAt: d.now()}

	d.mu.Lock()
	d.ring[d.next] = kept
	d.next = (d.next + 1) % devMailboxSize
	d.n = min(d.n+1, devMailboxSize)
	d.mu.Unlock()

	d.logger.InfoContext(ctx, "dev mailbox: email not sent, kept in memory",
		slog.String("to", m.To),
		slog.String("subject", m.Subject),
		slog.String("body", m.Text),
	)
	return nil
}

// Messages returns a copy of the kept messages, newest first.
func (d *DevMailbox) Messages() []MailboxMessage {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]MailboxMessage, 0, d.n)
	for i := 1; i <= d.n; i++ {
		out = append(out, d.ring[(d.next-i+devMailboxSize)%devMailboxSize])
	}
	return out
}
