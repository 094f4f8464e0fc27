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
	// PreviousWebhookSecret is the secret a rotation replaced; it keeps
	// working (for moderation events Hearth receives and in the signatures
	// it sends) until PreviousSecretExpiresAt, so the messaging service can
	// switch without a gap. Empty when there is none.
	PreviousWebhookSecret   string
	PreviousSecretExpiresAt *time.Time
	WebhookURL              string
	CreatedAt               time.Time
	RevokedAt               *time.Time
}

// WebhookSecrets returns the webhook secrets in force at t: the current one,
// then the previous one while its grace period lasts. Events signed with any
// of them are accepted, and Hearth signs its webhooks with all of them.
func (c *ServiceClient) WebhookSecrets(t time.Time) []string {
	if c.PreviousWebhookSecret != "" && c.PreviousSecretExpiresAt != nil && t.Before(*c.PreviousSecretExpiresAt) {
		return []string{c.WebhookSecret, c.PreviousWebhookSecret}
	}
	return []string{c.WebhookSecret}
}

// Revoked reports whether the client's key no longer works.
func (c *ServiceClient) Revoked() bool { return c.RevokedAt != nil }
