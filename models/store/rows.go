package store

import (
	"time"

	"github.com/hearth-safety/hearth/models"
)

// Row types mirror the tables. They stay unexported: the store speaks
// models to the rest of Hearth, and columns are named explicitly on update.

type userRow struct {
	ID              int64 `gorm:"primaryKey"`
	Email           *string
	Name            string
	Role            string
	PasswordHash    string
	EmailVerifiedAt *time.Time
	DisabledAt      *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (userRow) TableName() string { return "users" }

func (r userRow) model() models.User {
	u := models.User{ID: r.ID, Name: r.Name, Role: models.Role(r.Role), PasswordHash: r.PasswordHash,
		EmailVerifiedAt: utcPtr(r.EmailVerifiedAt), DisabledAt: utcPtr(r.DisabledAt), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.Email != nil {
		u.Email = *r.Email
	}
	return u
}

type teenRow struct {
	ID             int64 `gorm:"primaryKey"`
	UserID         int64
	ClientID       int64
	PlatformUserID string
	DisplayName    string
	BirthMonth     string
	TimeZone       string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (teenRow) TableName() string { return "teens" }

func (r teenRow) model() models.Teen {
	return models.Teen{ID: r.ID, UserID: r.UserID, ClientID: r.ClientID, PlatformUserID: r.PlatformUserID,
		DisplayName: r.DisplayName, BirthMonth: models.MustBirthMonth(r.BirthMonth), TimeZone: r.TimeZone,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

type clientRow struct {
	ID            int64 `gorm:"primaryKey"`
	Name          string
	KeyPrefix     string
	KeyHash       string
	WebhookSecret string
	// PreviousWebhookSecret and PreviousSecretExpiresAt keep a rotated-out
	// secret working for its grace period.
	PreviousWebhookSecret   string
	PreviousSecretExpiresAt *time.Time
	WebhookURL              string
	CreatedAt               time.Time
	RevokedAt               *time.Time
}

func (clientRow) TableName() string { return "service_clients" }

func (r clientRow) model() models.ServiceClient {
	return models.ServiceClient{ID: r.ID, Name: r.Name, KeyPrefix: r.KeyPrefix, KeyHash: r.KeyHash,
		WebhookSecret: r.WebhookSecret, PreviousWebhookSecret: r.PreviousWebhookSecret,
		PreviousSecretExpiresAt: utcPtr(r.PreviousSecretExpiresAt), WebhookURL: r.WebhookURL,
		CreatedAt: r.CreatedAt.UTC(), RevokedAt: utcPtr(r.RevokedAt)}
}

type signinLinkRow struct {
	ID        int64 `gorm:"primaryKey"`
	TokenHash string
	TeenID    int64
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

func (signinLinkRow) TableName() string { return "signin_links" }

type userTokenRow struct {
	ID        int64 `gorm:"primaryKey"`
	TokenHash string
	UserID    int64
	Purpose   string
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

func (userTokenRow) TableName() string { return "user_tokens" }

type sessionRow struct {
	IDHash     string `gorm:"primaryKey;column:id_hash"`
	UserID     int64
	Data       string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

func (sessionRow) TableName() string { return "sessions" }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
