package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hearth-safety/hearth/models"
)

type alertPreferenceRow struct {
	UserID        int64  `gorm:"primaryKey;autoIncrement:false"`
	Category      string `gorm:"primaryKey"`
	ImmediateFrom string
}

func (alertPreferenceRow) TableName() string { return "alert_preferences" }

type digestSettingsRow struct {
	UserID     int64 `gorm:"primaryKey;autoIncrement:false"`
	Weekly     bool
	LastSentAt *time.Time
}

func (digestSettingsRow) TableName() string { return "digest_settings" }

// guardianOnly admits a signed-in guardian: alert emails are theirs alone.
func guardianOnly(viewer models.Actor) error {
	if viewer.UserID == 0 || viewer.Role != models.RoleGuardian {
		return models.ErrNotFound
	}
	return nil
}

// AlertPreferences returns the viewer's own alert email preferences, with
// the defaults (high and above at once, weekly digest on) for whatever
// they never chose. Only guardians have them; anyone else gets
// models.ErrNotFound.
func (s *Store) AlertPreferences(ctx context.Context, viewer models.Actor) (models.AlertPreferences, error) {
	if err := guardianOnly(viewer); err != nil {
		return models.AlertPreferences{}, err
	}
	prefs, err := loadAlertPreferences(s.db.WithContext(ctx), []int64{viewer.UserID})
	if err != nil {
		return models.AlertPreferences{}, err
	}
	return prefs[viewer.UserID], nil
}

// loadAlertPreferences returns the preferences of each of userIDs, defaults
// filled in.
func loadAlertPreferences(db *gorm.DB, userIDs []int64) (map[int64]models.AlertPreferences, error) {
	out := make(map[int64]models.AlertPreferences, len(userIDs))
	for _, id := range userIDs {
		out[id] = models.DefaultAlertPreferences()
	}
	if len(userIDs) == 0 {
		return out, nil
	}
	var rows []alertPreferenceRow
	if err := db.Where("user_id IN ?", userIDs).Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		f, c := models.ImmediateFrom(r.ImmediateFrom), models.Category(r.Category)
		if f.Valid() && c.Valid() {
			out[r.UserID].Immediate[c] = f
		}
	}
	var ds []digestSettingsRow
	if err := db.Where("user_id IN ?", userIDs).Find(&ds).Error; err != nil {
		return nil, err
	}
	for _, d := range ds {
		p := out[d.UserID]
		p.Weekly = d.Weekly
		out[d.UserID] = p
	}
	return out, nil
}

// SaveAlertPreferences stores the viewer's choices: one per category named
// in p (categories left out keep what they had) and the weekly digest
// switch. A category or choice outside the contract is a
// *models.ValidationError and nothing is saved. Only guardians have
// preferences; anyone else gets models.ErrNotFound.
func (s *Store) SaveAlertPreferences(ctx context.Context, viewer models.Actor, p models.AlertPreferences) error {
	if err := guardianOnly(viewer); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		for _, c := range models.Categories {
			f, ok := p.Immediate[c]
			if !ok {
				continue
			}
			row := alertPreferenceRow{UserID: viewer.UserID, Category: string(c), ImmediateFrom: string(f)}
			if err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "user_id"}, {Name: "category"}},
				DoUpdates: clause.AssignmentColumns([]string{"immediate_from"}),
			}).Create(&row).Error; err != nil {
				return err
			}
		}
		// Only the switch: last_sent_at belongs to the digest job.
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"weekly"}),
		}).Select("user_id", "weekly").Create(&digestSettingsRow{UserID: viewer.UserID, Weekly: p.Weekly}).Error
	})
}
