// Package mail sends Hearth's plain-text emails: password resets, invitations
// and alert notices.
//
// Two [Sender]s exist: [SMTP] talks to a real mail server (HEARTH_SMTP_URL),
// [DevMailbox] keeps the last messages in memory and logs them, so that a
// developer without a mail server still gets their reset link.
//
// Web handlers never call a Sender directly: they enqueue the message with
// web/jobs (EnqueueEmail), inside the transaction of the change that caused
// it, so an email goes out only if that change commits, and a failing mail
// server is retried instead of failing the request.
//
// A Message never holds message content from the messaging platform (Hearth
// has none) nor a password. It may hold a single-use link, so its Text is
// treated as a secret: it is not logged (except by DevMailbox, in
// development) and errors never quote it.
package mail

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
)

// Message is one plain-text email to one recipient.
type Message struct {
	// To is the recipient's bare address, like "parent@example.com".
	To string
	// Subject is one line of text; non-ASCII is fine.
	Subject string
	// Text is the plain-text body. It may contain a single-use link.
	Text string
}

// Limits for a Message. They are far above what Hearth writes and exist so a
// bug cannot queue megabytes.
const (
	maxSubjectLen = 250
	maxTextLen    = 64 << 10
)

// Validate returns an error unless m can be sent: To is a single bare
// address, Subject is one non-empty line, and Text is non-empty. The error
// never quotes the address or the body. Both senders call it, and
// jobs.EnqueueEmail calls it before queueing, so a bad message fails in the
// request that made it, not ten times in the queue.
func (m Message) Validate() error {
	if m.To == "" {
		return errors.New("mail: message has no recipient")
	}
	addr, err := netmail.ParseAddress(m.To)
	if err != nil || addr.Address != m.To || addr.Name != "" {
		return errors.New("mail: recipient is not a single bare email address")
	}
	if strings.TrimSpace(m.Subject) == "" {
		return errors.New("mail: message has no subject")
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return errors.New("mail: subject must be a single line")
	}
	if len(m.Subject) > maxSubjectLen {
		return fmt.Errorf("mail: subject is longer than %d bytes", maxSubjectLen)
	}
	if strings.TrimSpace(m.Text) == "" {
		return errors.New("mail: message has no text")
	}
	if len(m.Text) > maxTextLen {
		return fmt.Errorf("mail: text is longer than %d bytes", maxTextLen)
	}
	return nil
}

// RecipientDomain returns the part of To after the last "@", lower-cased, or
// "" when there is none. It is what logs may show about a recipient.
func (m Message) RecipientDomain() string {
	i := strings.LastIndexByte(m.To, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(m.To[i+1:])
}

// Sender delivers one Message. Send returns nil only once the message was
// handed over (to the mail server, or to the dev mailbox). It honours ctx's
// deadline and cancellation. Implementations are safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrRecipientRejected is wrapped by errors from Send when the mail server
// refused the recipient for good (a 5xx reply to RCPT TO, e.g. "no such
// user"). Retrying the same message cannot succeed; the job queue gives up on
// it at once instead of retrying for hours.
var ErrRecipientRejected = errors.New("mail: recipient rejected by the mail server")
