package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"
)

// WebhookType names an event Hearth posts to a service client's webhook URL.
// The values are part of the hook API contract (DESIGN.md) and the SDK's
// Webhook* constants: never rename one.
type WebhookType string

// The events Hearth sends. Each concerns one teen the receiving client
// provisioned and carries the teen's platform user ID and policy version,
// nothing else about the teen and never message content.
const (
	// WebhookPolicyUpdated: a supervised teen's rules got a new version (an
	// edit by a guardian or the teen, an approved loosening, a time-limited
	// permission running out). Fetch GET /api/v1/teens/{id}/policy or send
	// min_policy_version on the next checks.
	WebhookPolicyUpdated WebhookType = "policy.updated"
	// WebhookSupervisionStarted: the teen went from unsupervised to
	// supervised (the first active link). Their rules start from the age
	// defaults at the version given.
	WebhookSupervisionStarted WebhookType = "supervision.started"
	// WebhookSupervisionEnded: the teen's last active link ended; their
	// rules no longer apply. Data.Reason says why.
	WebhookSupervisionEnded WebhookType = "supervision.ended"
)

// EndReason is why supervision ended, as a supervision.ended webhook says it:
// a code from a fixed list, never free text (people's own words stay in
// Hearth).
type EndReason string

// The reasons supervision ends.
const (
	// EndGuardianEnded: the last guardian ended their supervision.
	EndGuardianEnded EndReason = "guardian_ended"
	// EndTeenEnded: the teen (16 or over) ended the last guardian's
	// supervision.
	EndTeenEnded EndReason = "teen_ended"
	// EndRequestApproved: the last guardian approved the teen's request to
	// end supervision.
	EndRequestApproved EndReason = "request_approved"
	// EndTurned18: the teen turned 18 and every link ended by itself.
	EndTurned18 EndReason = "turned_18"
	// EndStaffEnded: support staff ended the link (a dispute).
	EndStaffEnded EndReason = "staff_ended"
	// EndOther: any other way, such as an account being closed.
	EndOther EndReason = "other"
)

// WebhookData is the "data" object of every webhook Hearth sends.
type WebhookData struct {
	// TeenID is the teen's platform user ID, as the client provisioned it.
	TeenID string `json:"teen_id"`
	// PolicyVersion is the version of the teen's rules after the event.
	PolicyVersion int64 `json:"policy_version"`
	// Reason is set on supervision.ended only.
	Reason EndReason `json:"reason,omitempty"`
}

// WebhookPayload is the body of a webhook, in the Standard Webhooks shape.
type WebhookPayload struct {
	Type      WebhookType `json:"type"`
	Timestamp time.Time   `json:"timestamp"`
	Data      WebhookData `json:"data"`
}

// JSON returns the payload's body bytes. It cannot fail: the payload is
// plain data.
func (p WebhookPayload) JSON() []byte {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return b
}

// WebhookState is where a delivery stands.
type WebhookState string

// Delivery states. Only pending changes; the others are final.
const (
	// WebhookPending: not delivered yet; attempts continue until ExpiresAt.
	WebhookPending WebhookState = "pending"
	// WebhookDelivered: the receiver answered 2xx.
	WebhookDelivered WebhookState = "delivered"
	// WebhookFailed: given up for good without waiting for expiry: the
	// receiver answered 410 Gone, the client was revoked, or its webhook URL
	// was removed or is not http(s).
	WebhookFailed WebhookState = "failed"
	// WebhookExpired: no attempt succeeded before ExpiresAt.
	WebhookExpired WebhookState = "expired"
)

// ParseWebhookState reads a state name, for filters.
func ParseWebhookState(s string) (WebhookState, error) {
	switch st := WebhookState(s); st {
	case WebhookPending, WebhookDelivered, WebhookFailed, WebhookExpired:
		return st, nil
	}
	return "", Invalid("state", "must be pending, delivered, failed or expired")
}

// WebhookTTL is how long Hearth keeps trying to deliver a webhook.
const WebhookTTL = 24 * time.Hour

// WebhookDelivery is one event queued for one service client's webhook URL,
// and how its delivery went. Operators see these (`hearth client
// deliveries`); the payload holds no personal data beyond the teen's
// platform user ID.
type WebhookDelivery struct {
	ID       int64
	ClientID int64
	// TeenPlatformID is the teen the event is about, as in the payload.
	TeenPlatformID string
	// MsgID ("msg_…") is the webhook-id header of every attempt: the key a
	// receiver skips duplicates by.
	MsgID   string
	Type    WebhookType
	Payload string
	State   WebhookState
	// Attempts counts the requests sent.
	Attempts int
	// LastStatus is the HTTP status of the last attempt; nil when it got no
	// response (timeout, refused connection) or none was sent.
	LastStatus *int
	// LastError says briefly why the last attempt did not deliver: at most
	// WebhookErrorMax characters, never more of a response body.
	LastError     string
	CreatedAt     time.Time
	NextAttemptAt *time.Time
	DeliveredAt   *time.Time
	ExpiresAt     time.Time
}

// WebhookErrorMax bounds WebhookDelivery.LastError.
const WebhookErrorMax = 200

// WebhookAttempt is the outcome of one delivery attempt, as the worker
// records it.
type WebhookAttempt struct {
	// Sent is whether a request went out (Attempts counts only those).
	Sent bool
	// Status is the HTTP status, nil without a response.
	Status *int
	// Error is why it did not deliver ("" when delivered); cut to
	// WebhookErrorMax characters when stored.
	Error string
	// State is the delivery's state after the attempt.
	State WebhookState
	// NextAttemptAt is when the next attempt is due (pending only).
	NextAttemptAt *time.Time
	// At is when the attempt ended.
	At time.Time
}

// WebhookFilter selects deliveries for operators.
type WebhookFilter struct {
	// ClientName is the client whose deliveries to list; required.
	ClientName string
	// State, when set, keeps only deliveries in that state.
	State *WebhookState
	// Limit is how many of the newest to return: 1–1000, default 50.
	Limit int
}

// WebhookOutbox queues the delivery of a webhook inside the caller's
// database transaction, next to the delivery row written there: the job
// exists only if the change that caused the event commits, so a rolled-back
// change sends nothing and a committed one is never left unannounced.
type WebhookOutbox interface {
	EnqueueWebhook(ctx context.Context, tx *sql.Tx, delivery WebhookDelivery) error
}
