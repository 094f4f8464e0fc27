package models

import "time"

// ServiceClient is a messaging service allowed to call the hook API. Its
// bearer key is stored only as a hash; the webhook secret signs the events it
// sends and the webhooks Hearth sends back.
type ServiceClient struct {
	ID            int64
	Name          string
	KeyPrefix     string // the first characters of the key, so operators can tell keys apart
	KeyHash       string
	WebhookSecret string
	WebhookURL    string
	CreatedAt     time.Time
	RevokedAt     *time.Time
}

// Revoked reports whether the client's key no longer works.
func (c *ServiceClient) Revoked() bool { return c.RevokedAt != nil }
