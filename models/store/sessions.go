package store

import (
	"context"
	"time"
)

// Session is a server-side sign-in record. The cookie holds the raw ID; the
// table holds only its hash.
type Session struct {
	IDHash     string
	UserID     int64
	Data       string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, ss Session) error {
	row := sessionRow(ss)
	return mapErr(s.db.WithContext(ctx).Create(&row).Error)
}

// SessionByHash returns a session that has not passed its absolute expiry.
func (s *Store) SessionByHash(ctx context.Context, idHash string) (Session, error) {
	var row sessionRow
	if err := s.db.WithContext(ctx).Where("id_hash = ? AND expires_at > ?", idHash, s.now()).Take(&row).Error; err != nil {
		return Session{}, mapErr(err)
	}
	row.CreatedAt, row.LastSeenAt, row.ExpiresAt = row.CreatedAt.UTC(), row.LastSeenAt.UTC(), row.ExpiresAt.UTC()
	return Session(row), nil
}

// TouchSession records activity, which keeps the idle timeout from running out.
func (s *Store) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	return s.db.WithContext(ctx).Model(&sessionRow{}).Where("id_hash = ?", idHash).Update("last_seen_at", at.UTC()).Error
}

// UpdateSessionData replaces the session's stored values.
func (s *Store) UpdateSessionData(ctx context.Context, idHash, data string) error {
	return s.db.WithContext(ctx).Model(&sessionRow{}).Where("id_hash = ?", idHash).Update("data", data).Error
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	return s.db.WithContext(ctx).Where("id_hash = ?", idHash).Delete(&sessionRow{}).Error
}

// DeleteUserSessions ends every session of a user, for sign-out everywhere,
// password resets and disabled accounts.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) error {
	return s.db.WithContext(ctx).Where("user_id = ?", userID).Delete(&sessionRow{}).Error
}

// CountUserSessions reports how many live sessions a user has.
func (s *Store) CountUserSessions(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&sessionRow{}).Where("user_id = ? AND expires_at > ?", userID, s.now()).Count(&n).Error
	return n, err
}

// DeleteExpired removes sessions, sign-in links and reset tokens past their
// time, and reports how many rows went. Retention runs it on a schedule.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	now := s.now()
	var total int64
	for _, m := range []any{&sessionRow{}, &signinLinkRow{}, &userTokenRow{}} {
		res := s.db.WithContext(ctx).Where("expires_at <= ?", now).Delete(m)
		if res.Error != nil {
			return total, res.Error
		}
		total += res.RowsAffected
	}
	return total, nil
}
