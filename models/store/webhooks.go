package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

// Outbound webhooks. The store writes a webhook_deliveries row for each
// event, inside the transaction of the change the event announces, and hands
// it to the WebhookOutbox, which queues the delivery job in the same
// transaction. The worker (package web) sends it and records each attempt
// here.

// WebhookRetention is how long a finished delivery is kept for operators.
const WebhookRetention = 30 * 24 * time.Hour

// webhookStuckGrace is how long past its expiry a delivery may stay pending
// before the clean-up expires it: the worker never schedules an attempt
// after expires_at, so one still pending by then has lost its job.
const webhookStuckGrace = time.Hour

type webhookRow struct {
	ID            int64 `gorm:"primaryKey"`
	ClientID      int64
	TeenID        int64
	MsgID         string
	EventType     string
	Payload       string
	State         string
	Attempts      int
	LastStatus    *int
	LastError     string
	CreatedAt     time.Time
	NextAttemptAt *time.Time
	DeliveredAt   *time.Time
	ExpiresAt     time.Time
}

func (webhookRow) TableName() string { return "webhook_deliveries" }

func (r webhookRow) model(teenPlatformID string) models.WebhookDelivery {
	return models.WebhookDelivery{ID: r.ID, ClientID: r.ClientID, TeenPlatformID: teenPlatformID, MsgID: r.MsgID,
		Type: models.WebhookType(r.EventType), Payload: r.Payload, State: models.WebhookState(r.State),
		Attempts: r.Attempts, LastStatus: r.LastStatus, LastError: r.LastError, CreatedAt: r.CreatedAt.UTC(),
		NextAttemptAt: utcPtr(r.NextAttemptAt), DeliveredAt: utcPtr(r.DeliveredAt), ExpiresAt: r.ExpiresAt.UTC()}
}

// SetWebhookOutbox makes the store queue webhooks through o, inside the
// transaction of each change. Without one (the CLI commands, most tests) no
// webhook is recorded or sent. Set it once at start, before serving.
func (s *Store) SetWebhookOutbox(o models.WebhookOutbox) { s.webhooks = o }

// newMsgID returns a fresh webhook-id: "msg_" and 26 base32 characters (130
// random bits).
func newMsgID() string { return "msg_" + rand.Text() }

// queueWebhook records an event about teen for the client that provisioned
// them and queues its delivery, inside tx (the change's transaction). It
// does nothing without an outbox, or when the client has no webhook URL or
// was revoked. version is the teen's policy version after the change;
// reason is set for supervision.ended only.
func (s *Store) queueWebhook(tx *gorm.DB, teen teenRow, typ models.WebhookType, version int64, reason models.EndReason, now time.Time) error {
	if s.webhooks == nil {
		return nil
	}
	var c clientRow
	if err := tx.Select("id", "webhook_url", "revoked_at").Where("id = ?", teen.ClientID).Take(&c).Error; err != nil {
		return err
	}
	if c.WebhookURL == "" || c.RevokedAt != nil {
		return nil
	}
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		// Outside a transaction the webhook could announce a change that
		// then fails; refuse rather than tell a client something false.
		return errors.New("store: a webhook needs the change's transaction")
	}
	payload := models.WebhookPayload{Type: typ, Timestamp: now.UTC(),
		Data: models.WebhookData{TeenID: teen.PlatformUserID, PolicyVersion: version, Reason: reason}}
	due := now
	row := webhookRow{ClientID: c.ID, TeenID: teen.ID, MsgID: newMsgID(), EventType: string(typ), Payload: string(payload.JSON()),
		State: string(models.WebhookPending), CreatedAt: now, NextAttemptAt: &due, ExpiresAt: now.Add(models.WebhookTTL)}
	if err := tx.Create(&row).Error; err != nil {
		return err
	}
	return s.webhooks.EnqueueWebhook(tx.Statement.Context, sqlTx, row.model(teen.PlatformUserID))
}

// supervisionEndReason tells why the teen's last active link ended, from who
// ended it (by) and the link (linkID), inside the transaction that ended it.
func supervisionEndReason(tx *gorm.DB, teen teenRow, by auditActor, linkID *int64, now time.Time) (models.EndReason, error) {
	switch models.Role(by.role) {
	case models.RoleTeen:
		return models.EndTeenEnded, nil
	case models.RoleStaff, models.RoleLead:
		return models.EndStaffEnded, nil
	case models.RoleGuardian:
		if linkID == nil {
			return models.EndGuardianEnded, nil
		}
		// Approving a teen's request to end supervision ends the link in
		// the approval's transaction, which has just marked it approved.
		var n int64
		if err := tx.Model(&requestRow{}).Where("link_id = ? AND kind = ? AND state = ?", *linkID,
			string(models.RequestEndSupervision), string(models.RequestApproved)).Count(&n).Error; err != nil {
			return "", err
		}
		if n > 0 {
			return models.EndRequestApproved, nil
		}
		return models.EndGuardianEnded, nil
	}
	if by.role == models.AuditRoleSystem && !now.Before(teen.model().BirthMonth.EighteenAt()) {
		return models.EndTurned18, nil
	}
	return models.EndOther, nil
}

// WebhookToSend returns delivery id with the client it goes to, as the
// client is now (its current URL and secret, and whether it was revoked),
// for the delivery worker. A delivery that no longer exists (its teen was
// deleted, or it was cleaned up) is models.ErrNotFound.
func (s *Store) WebhookToSend(ctx context.Context, id int64) (models.WebhookDelivery, models.ServiceClient, error) {
	db := s.db.WithContext(ctx)
	var row webhookRow
	if err := db.Where("id = ?", id).Take(&row).Error; err != nil {
		return models.WebhookDelivery{}, models.ServiceClient{}, mapErr(err)
	}
	var c clientRow
	if err := db.Where("id = ?", row.ClientID).Take(&c).Error; err != nil {
		return models.WebhookDelivery{}, models.ServiceClient{}, mapErr(err)
	}
	var teen teenRow
	if err := db.Select("platform_user_id").Where("id = ?", row.TeenID).Take(&teen).Error; err != nil {
		return models.WebhookDelivery{}, models.ServiceClient{}, mapErr(err)
	}
	return row.model(teen.PlatformUserID), c.model(), nil
}

// RecordWebhookAttempt records the outcome of one attempt to deliver
// delivery id: the new state, and, when a request was sent, one more
// attempt with its status and error (cut to models.WebhookErrorMax
// characters). Only a pending delivery changes; a finished or missing one
// is models.ErrNotFound, so a late duplicate attempt cannot undo the
// outcome.
func (s *Store) RecordWebhookAttempt(ctx context.Context, id int64, a models.WebhookAttempt) error {
	if _, err := models.ParseWebhookState(string(a.State)); err != nil {
		return err
	}
	at := a.At.UTC().Truncate(time.Microsecond)
	set := map[string]any{
		"state":           string(a.State),
		"last_error":      cutError(a.Error),
		"next_attempt_at": nil,
	}
	if a.Sent {
		set["attempts"] = gorm.Expr("attempts + 1")
		set["last_status"] = a.Status
	}
	switch a.State {
	case models.WebhookPending:
		if a.NextAttemptAt != nil {
			next := a.NextAttemptAt.UTC().Truncate(time.Microsecond)
			set["next_attempt_at"] = next
		}
	case models.WebhookDelivered:
		set["delivered_at"] = at
	}
	res := s.db.WithContext(ctx).Model(&webhookRow{}).Where("id = ? AND state = ?", id, string(models.WebhookPending)).Updates(set)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return models.ErrNotFound
	}
	return nil
}

// cutError keeps an attempt's error short and on one line, for the
// operators' table: control characters become spaces, and at most
// models.WebhookErrorMax characters are kept.
func cutError(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if utf8.RuneCountInString(s) <= models.WebhookErrorMax {
		return s
	}
	r := []rune(s)
	return string(r[:models.WebhookErrorMax-1]) + "…"
}

// webhookListRow is a delivery with its teen's platform ID.
type webhookListRow struct {
	Row            webhookRow `gorm:"embedded"`
	TeenPlatformID string
}

// WebhookDeliveries returns the newest deliveries to the client named
// f.ClientName (revoked clients included), newest first, for operators.
// An unknown name is models.ErrNotFound; a limit outside 1–1000 is a
// validation error (0 means 50).
func (s *Store) WebhookDeliveries(ctx context.Context, f models.WebhookFilter) ([]models.WebhookDelivery, error) {
	limit := f.Limit
	if limit == 0 {
		limit = 50
	}
	if limit < 1 || limit > 1000 {
		return nil, models.Invalid("limit", "must be 1 to 1000")
	}
	db := s.db.WithContext(ctx)
	var c clientRow
	if err := db.Select("id").Where("name = ?", f.ClientName).Take(&c).Error; err != nil {
		return nil, mapErr(err)
	}
	q := db.Table("webhook_deliveries").
		Select("webhook_deliveries.*, teens.platform_user_id AS teen_platform_id").
		Joins("JOIN teens ON teens.id = webhook_deliveries.teen_id").
		Where("webhook_deliveries.client_id = ?", c.ID)
	if f.State != nil {
		if _, err := models.ParseWebhookState(string(*f.State)); err != nil {
			return nil, err
		}
		q = q.Where("webhook_deliveries.state = ?", string(*f.State))
	}
	var rows []webhookListRow
	if err := q.Order("webhook_deliveries.id DESC").Limit(limit).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]models.WebhookDelivery, len(rows))
	for i, r := range rows {
		out[i] = r.Row.model(r.TeenPlatformID)
	}
	return out, nil
}

// CleanUpWebhooks expires deliveries still pending more than an hour after
// their expiry (their job was lost) and deletes finished ones older than
// WebhookRetention, for an hourly job. It reports how many it expired and
// deleted.
func (s *Store) CleanUpWebhooks(ctx context.Context) (expired, deleted int64, err error) {
	now := s.stamp()
	db := s.db.WithContext(ctx)
	res := db.Model(&webhookRow{}).Where("state = ? AND expires_at < ?", string(models.WebhookPending), now.Add(-webhookStuckGrace)).
		Updates(map[string]any{"state": string(models.WebhookExpired), "next_attempt_at": nil,
			"last_error": "expired: no attempt was left to make"})
	if res.Error != nil {
		return 0, 0, res.Error
	}
	expired = res.RowsAffected
	res = db.Where("state <> ? AND created_at < ?", string(models.WebhookPending), now.Add(-WebhookRetention)).Delete(&webhookRow{})
	return expired, res.RowsAffected, res.Error
}

// ValidateWebhookURL checks a client's webhook URL as `hearth client
// create` does: an absolute http:// or https:// URL with a host. Empty
// means no webhooks and is valid.
func ValidateWebhookURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return models.Invalid("webhook_url", "must be an absolute http:// or https:// URL")
	}
	return nil
}

// SetClientWebhookURL changes where the active client named name receives
// webhooks; "" turns them off. Deliveries still pending go to the new URL
// at their next attempt. An unknown or revoked client is
// models.ErrNotFound; a bad URL a validation error on "webhook_url".
func (s *Store) SetClientWebhookURL(ctx context.Context, name, webhookURL string) error {
	if err := ValidateWebhookURL(webhookURL); err != nil {
		return err
	}
	res := s.db.WithContext(ctx).Model(&clientRow{}).Where("name = ? AND revoked_at IS NULL", name).Update("webhook_url", webhookURL)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return models.ErrNotFound
	}
	return nil
}
