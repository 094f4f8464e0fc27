package client

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Event is one moderation event: the platform acted on a message to or from
// a teen, and tells Hearth what kind of harm it was and what it did, never
// what the message said. Its JSON is one element of the body of POST
// /api/v1/moderation/events.
type Event struct {
	// ID is the platform's own ID for the event. Hearth remembers it for
	// good, so sending the same event twice stores one alert.
	ID string `json:"id"`
	// TeenID is the supervised teen's platform user ID. Events about teens
	// nobody supervises are ignored, not stored.
	TeenID string `json:"teen_id"`
	// CounterpartID is the other account's platform user ID; empty leaves
	// it out.
	CounterpartID string `json:"counterpart_id,omitempty"`
	// Direction is DirectionInbound (to the teen) or DirectionOutbound
	// (from the teen).
	Direction string `json:"direction"`
	// Category is one of the Category constants, such as CategoryGrooming.
	Category string `json:"category"`
	// Severity is one of the Severity constants.
	Severity string `json:"severity"`
	// ActionTaken is what the platform did: one of the Action constants.
	ActionTaken string `json:"action_taken"`
	// OccurredAt is when it happened; it is sent in UTC, and left out when
	// zero.
	OccurredAt time.Time `json:"occurred_at,omitzero"`
}

// MarshalJSON writes the hook API's event, with OccurredAt in UTC.
func (e Event) MarshalJSON() ([]byte, error) {
	type wire Event // without this method
	w := wire(e)
	if !w.OccurredAt.IsZero() {
		w.OccurredAt = w.OccurredAt.UTC()
	}
	return json.Marshal(w)
}

// The values of Event.Direction. DESIGN.md shows "inbound"; "outbound" is
// its counterpart for a message the teen sent.
const (
	DirectionInbound  = "inbound"
	DirectionOutbound = "outbound"
)

// The values of Event.Category.
const (
	CategoryBullying      = "bullying"
	CategoryHarassment    = "harassment"
	CategoryHate          = "hate"
	CategorySelfHarm      = "self_harm"
	CategorySexualContent = "sexual_content"
	CategoryGrooming      = "grooming"
	CategorySextortion    = "sextortion"
	CategoryViolence      = "violence"
	CategoryScam          = "scam"
	CategorySpam          = "spam"
	CategoryOther         = "other"
)

// The values of Event.Severity. High and critical alerts email guardians at
// once; the others wait for the digest.
const (
	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"
)

// The values of Event.ActionTaken.
const (
	ActionNone             = "none"
	ActionMessageBlocked   = "message_blocked"
	ActionMessageHeld      = "message_held"
	ActionSenderWarned     = "sender_warned"
	ActionSenderRestricted = "sender_restricted"
	ActionSenderSuspended  = "sender_suspended"
)

// ReportResult counts what Hearth did with a report's events: Accepted were
// stored as alerts, Duplicates had been received before (by event ID), and
// Ignored were about teens nobody supervises.
type ReportResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Ignored    int `json:"ignored"`
}

// ReportEvents sends 1 to MaxBatch moderation events to Hearth, signed as a
// Standard Webhook with Config.WebhookSecret, and returns the counts Hearth
// answers with once it has committed them (202). It is retried like the
// other calls: every attempt carries the same webhook-id, re-signed with the
// attempt's time, and Hearth also deduplicates by event ID, so an event
// delivered twice counts once (as a duplicate the second time). Sending the
// same events again later, after an error, is safe for the same reason.
// Without a WebhookSecret in the Config, or with no events or too many, it
// sends nothing and returns an error wrapping ErrInvalid.
func (c *Client) ReportEvents(ctx context.Context, events []Event) (ReportResult, error) {
	const path = "/api/v1/moderation/events"
	switch {
	case c.secret == nil:
		return ReportResult{}, fmt.Errorf("hearth: report events: Config.WebhookSecret is not set; reports must be signed with the whsec_ secret from `hearth client create`: %w", ErrInvalid)
	case len(events) == 0:
		return ReportResult{}, fmt.Errorf("hearth: report events: no events: %w", ErrInvalid)
	case len(events) > MaxBatch:
		return ReportResult{}, fmt.Errorf("hearth: report events: %d events, at most %d per report: %w", len(events), MaxBatch, ErrInvalid)
	}
	body, err := json.Marshal(struct {
		Events []Event `json:"events"`
	}{events})
	if err != nil {
		return ReportResult{}, fmt.Errorf("hearth: report events: %w: %w", ErrInvalid, err)
	}
	// One webhook-id for the whole delivery, however many attempts it takes.
	msgID := "msg_" + rand.Text()
	a, err := c.do(ctx, &request{method: http.MethodPost, path: path, body: body, ok: []int{http.StatusAccepted},
		header: func(h http.Header) {
			ts := strconv.FormatInt(c.now().Unix(), 10)
			h.Set(headerID, msgID)
			h.Set(headerTimestamp, ts)
			h.Set(headerSignature, signature(c.secret, msgID, ts, body))
		}})
	if err != nil {
		return ReportResult{}, err
	}
	var present struct {
		Accepted   *int `json:"accepted"`
		Duplicates *int `json:"duplicates"`
		Ignored    *int `json:"ignored"`
	}
	if err := json.Unmarshal(a.body, &present); err != nil {
		return ReportResult{}, badAnswer(http.MethodPost, path, err)
	}
	if present.Accepted == nil || present.Duplicates == nil || present.Ignored == nil {
		return ReportResult{}, badAnswer(http.MethodPost, path, errors.New(`want "accepted", "duplicates" and "ignored"`))
	}
	return ReportResult{Accepted: *present.Accepted, Duplicates: *present.Duplicates, Ignored: *present.Ignored}, nil
}
