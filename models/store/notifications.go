package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

type notificationRow struct {
	ID        int64 `gorm:"primaryKey"`
	UserID    int64
	TeenID    *int64
	Kind      string
	Message   string
	URL       string `gorm:"column:url"`
	CreatedAt time.Time
	ReadAt    *time.Time
}

func (notificationRow) TableName() string { return "notifications" }

func (r notificationRow) model() models.Notification {
	return models.Notification{ID: r.ID, UserID: r.UserID, TeenID: r.TeenID, Kind: r.Kind, Message: r.Message, URL: r.URL,
		CreatedAt: r.CreatedAt.UTC(), ReadAt: utcPtr(r.ReadAt)}
}

// mailOut is an email to queue with a notification.
type mailOut struct {
	to, subject, text string
}

// guardianMail builds the email for a guardian-facing notification, or nil
// for anyone without an address: teens have none and are never emailed.
// The text holds nothing the in-app notification does not, plus a link.
func (s *Store) guardianMail(p person, subject, message, path string) *mailOut {
	if p.Email == "" || p.Role != string(models.RoleGuardian) {
		return nil
	}
	text := "Hello " + p.Name + ",\n\n" + message + "\n\nOpen Hearth: " + s.baseURL + path +
		"\n\n— Hearth\nYou get these emails because you are a guardian on Hearth.\n"
	return &mailOut{to: p.Email, subject: subject, text: text}
}

// notify stores a notification for userID inside tx and, when email is not
// nil and an outbox is set, queues the email in the same transaction: both
// happen only if the change they announce commits.
func (s *Store) notify(tx *gorm.DB, userID int64, teenID *int64, kind, message, url string, email *mailOut) error {
	row := notificationRow{UserID: userID, TeenID: teenID, Kind: kind, Message: message, URL: url, CreatedAt: s.stamp()}
	if err := tx.Create(&row).Error; err != nil {
		return err
	}
	if email == nil || s.outbox == nil {
		return nil
	}
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		// Outside a transaction the email could go for a change that then
		// fails; refuse rather than risk telling people something false.
		return errors.New("store: notify with email needs a transaction")
	}
	return s.outbox.EnqueueEmail(tx.Statement.Context, sqlTx, email.to, email.subject, email.text)
}

func ownerOnly(viewer models.Actor) error {
	if viewer.UserID == 0 {
		return models.ErrNotFound
	}
	return nil
}

// Notifications returns one page of the viewer's own notifications, newest
// first, and how many they have in all. Anonymous viewers get
// models.ErrNotFound.
func (s *Store) Notifications(ctx context.Context, viewer models.Actor, page models.Page) ([]models.Notification, int, error) {
	if err := ownerOnly(viewer); err != nil {
		return nil, 0, err
	}
	db := s.db.WithContext(ctx)
	var total int64
	if err := db.Model(&notificationRow{}).Where("user_id = ?", viewer.UserID).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var rows []notificationRow
	if err := db.Where("user_id = ?", viewer.UserID).Order("id DESC").Offset(page.Offset()).Limit(page.Limit()).Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	out := make([]models.Notification, len(rows))
	for i, r := range rows {
		out[i] = r.model()
	}
	return out, int(total), nil
}

// Notification returns one of the viewer's own notifications; anyone
// else's is models.ErrNotFound.
func (s *Store) Notification(ctx context.Context, viewer models.Actor, id int64) (models.Notification, error) {
	if err := ownerOnly(viewer); err != nil {
		return models.Notification{}, err
	}
	var row notificationRow
	if err := s.db.WithContext(ctx).Where("id = ? AND user_id = ?", id, viewer.UserID).Take(&row).Error; err != nil {
		return models.Notification{}, mapErr(err)
	}
	return row.model(), nil
}

// UnreadCount is the number on the viewer's bell: their unread
// notifications. It is one count on the (user_id, read_at, id) index.
func (s *Store) UnreadCount(ctx context.Context, viewer models.Actor) (int, error) {
	if err := ownerOnly(viewer); err != nil {
		return 0, err
	}
	var n int64
	err := s.db.WithContext(ctx).Model(&notificationRow{}).Where("user_id = ? AND read_at IS NULL", viewer.UserID).Count(&n).Error
	return int(n), err
}

// MarkNotificationRead marks one of the viewer's own notifications read;
// marking a read one again changes nothing. Someone else's is
// models.ErrNotFound.
func (s *Store) MarkNotificationRead(ctx context.Context, viewer models.Actor, id int64) error {
	if err := ownerOnly(viewer); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		var row notificationRow
		if err := tx.Select("id", "read_at").Where("id = ? AND user_id = ?", id, viewer.UserID).Take(&row).Error; err != nil {
			return err
		}
		if row.ReadAt != nil {
			return nil
		}
		return tx.Model(&notificationRow{}).Where("id = ? AND read_at IS NULL", id).Update("read_at", s.stamp()).Error
	})
}

// MarkAllNotificationsRead marks every unread notification of the viewer read.
func (s *Store) MarkAllNotificationsRead(ctx context.Context, viewer models.Actor) error {
	if err := ownerOnly(viewer); err != nil {
		return err
	}
	return s.db.WithContext(ctx).Model(&notificationRow{}).Where("user_id = ? AND read_at IS NULL", viewer.UserID).
		Update("read_at", s.stamp()).Error
}
