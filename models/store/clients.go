package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

// Key and secret formats. A bearer key is 32 or more characters of
// [A-Za-z0-9_]; generated keys are "hk_" and 43 base62 characters (256 bits).
// A webhook secret is "whsec_" and the base64 of 24–64 random bytes, as the
// Standard Webhooks specification writes them.
var (
	apiKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_]{32,256}$`)
	clientName    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$`)
)

const base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewAPIKey returns a fresh bearer key.
func NewAPIKey() string {
	b := make([]byte, 43)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = base62[int(b[i])%len(base62)] // 256 % 62 bias is negligible at 43 chars (> 250 bits)
	}
	return "hk_" + string(b)
}

// NewWebhookSecret returns a fresh whsec_ secret of 32 random bytes.
func NewWebhookSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// ValidateAPIKey checks a caller-chosen bearer key: 32 or more characters
// of [A-Za-z0-9_].
func ValidateAPIKey(k string) error {
	if !apiKeyPattern.MatchString(k) {
		return models.Invalid("api_key", "must be at least 32 characters of A–Z, a–z, 0–9 and _")
	}
	return nil
}

// ValidateWebhookSecret checks the whsec_ format.
func ValidateWebhookSecret(s string) error {
	raw, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return models.Invalid("webhook_secret", `must start with "whsec_"`)
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return models.Invalid("webhook_secret", `after "whsec_" must come standard base64`)
	}
	if len(b) < 24 || len(b) > 64 {
		return models.Invalid("webhook_secret", fmt.Sprintf("decodes to %d bytes; it must be 24 to 64", len(b)))
	}
	return nil
}

// NewClient describes a service client to create. Empty Key and Secret are
// generated.
type NewClient struct {
	Name       string
	WebhookURL string
	Key        string
	Secret     string
}

// CreateClient stores a service client. The returned key is the only time
// it exists in the clear: only its hash is kept.
func (s *Store) CreateClient(ctx context.Context, in NewClient) (c models.ServiceClient, key string, err error) {
	ve := &models.ValidationError{}
	if !clientName.MatchString(in.Name) {
		ve.Add("name", "must be 1–64 characters: letters, digits, space, _ . -, starting with a letter or digit")
	}
	key = in.Key
	if key == "" {
		key = NewAPIKey()
	} else if err := ValidateAPIKey(key); err != nil {
		ve.Add("api_key", models.FieldErrors(err)["api_key"])
	}
	secret := in.Secret
	if secret == "" {
		secret = NewWebhookSecret()
	} else if err := ValidateWebhookSecret(secret); err != nil {
		ve.Add("webhook_secret", models.FieldErrors(err)["webhook_secret"])
	}
	if in.WebhookURL != "" {
		if u, err := url.Parse(in.WebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			ve.Add("webhook_url", "must be an absolute http:// or https:// URL")
		}
	}
	if err := ve.Err(); err != nil {
		return models.ServiceClient{}, "", err
	}
	row := clientRow{Name: in.Name, KeyPrefix: key[:min(len(key), 8)], KeyHash: HashToken(key),
		WebhookSecret: secret, WebhookURL: in.WebhookURL, CreatedAt: s.now()}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return models.ServiceClient{}, "", mapErr(err)
	}
	return row.model(), key, nil
}

// ClientByKey returns the active client whose bearer key this is. Unknown
// and revoked keys are both models.ErrNotFound.
func (s *Store) ClientByKey(ctx context.Context, key string) (models.ServiceClient, error) {
	var row clientRow
	if err := s.db.WithContext(ctx).Where("key_hash = ? AND revoked_at IS NULL", HashToken(key)).Take(&row).Error; err != nil {
		return models.ServiceClient{}, mapErr(err)
	}
	return row.model(), nil
}

// Clients lists every service client, revoked ones included, oldest first.
func (s *Store) Clients(ctx context.Context) ([]models.ServiceClient, error) {
	var rows []clientRow
	if err := s.db.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]models.ServiceClient, len(rows))
	for i, r := range rows {
		out[i] = r.model()
	}
	return out, nil
}

// RevokeClient stops the named client's key from working, at once.
func (s *Store) RevokeClient(ctx context.Context, name string) error {
	res := s.db.WithContext(ctx).Model(&clientRow{}).Where("name = ? AND revoked_at IS NULL", name).Update("revoked_at", s.now())
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return models.ErrNotFound
	}
	return nil
}

// ActiveClients lists the clients whose keys work, for nodes that keep the
// keys in memory so the DM check needs no database round trip.
func (s *Store) ActiveClients(ctx context.Context) ([]models.ServiceClient, error) {
	var rows []clientRow
	if err := s.db.WithContext(ctx).Where("revoked_at IS NULL").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]models.ServiceClient, len(rows))
	for i, r := range rows {
		out[i] = r.model()
	}
	return out, nil
}

// MaxSecretGrace is the longest a rotated-out webhook secret may keep
// working.
const MaxSecretGrace = 30 * 24 * time.Hour

// RotateWebhookSecret gives the active client named name a new webhook
// secret: newSecret when not empty (validated like a created client's),
// otherwise a generated one. The current secret becomes the previous one and
// keeps working, for events Hearth receives and in the signatures of the
// webhooks it sends, until now plus grace (0 to MaxSecretGrace; 0 retires it
// at once). A secret from an earlier rotation still in its grace period is
// dropped: only two are ever in force. It returns the client as it is after
// the rotation. An unknown or revoked client is models.ErrNotFound; a bad
// secret or grace a validation error.
func (s *Store) RotateWebhookSecret(ctx context.Context, name string, grace time.Duration, newSecret string) (models.ServiceClient, error) {
	ve := &models.ValidationError{}
	if grace < 0 || grace > MaxSecretGrace {
		ve.Add("grace", fmt.Sprintf("must be between 0 and %v", MaxSecretGrace))
	}
	if newSecret == "" {
		newSecret = NewWebhookSecret()
	} else if err := ValidateWebhookSecret(newSecret); err != nil {
		ve.Add("webhook_secret", models.FieldErrors(err)["webhook_secret"])
	}
	if err := ve.Err(); err != nil {
		return models.ServiceClient{}, err
	}
	var out models.ServiceClient
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var row clientRow
		if err := tx.Clauses(lockForUpdate).Where("name = ? AND revoked_at IS NULL", name).Take(&row).Error; err != nil {
			return err
		}
		if row.WebhookSecret == newSecret {
			return models.Invalid("webhook_secret", "is the client's current secret; give a new one")
		}
		expires := s.stamp().Add(grace)
		if err := tx.Model(&clientRow{}).Where("id = ?", row.ID).Updates(map[string]any{
			"webhook_secret":             newSecret,
			"previous_webhook_secret":    row.WebhookSecret,
			"previous_secret_expires_at": expires,
		}).Error; err != nil {
			return err
		}
		row.PreviousWebhookSecret, row.PreviousSecretExpiresAt, row.WebhookSecret = row.WebhookSecret, &expires, newSecret
		out = row.model()
		return nil
	})
	return out, err
}

// ActiveClient returns the active client with this ID, as the database has
// it now: for a node whose in-memory copy of the clients may be a moment
// behind a rotation. Unknown and revoked clients are models.ErrNotFound.
func (s *Store) ActiveClient(ctx context.Context, id int64) (models.ServiceClient, error) {
	var row clientRow
	if err := s.db.WithContext(ctx).Where("id = ? AND revoked_at IS NULL", id).Take(&row).Error; err != nil {
		return models.ServiceClient{}, mapErr(err)
	}
	return row.model(), nil
}
