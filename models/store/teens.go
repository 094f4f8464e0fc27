package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

// TeenInput is what the messaging service sends to provision a teen.
type TeenInput struct {
	DisplayName string
	BirthMonth  string
	TimeZone    string
}

// ValidateTeenInput checks every field and reports all problems together.
func ValidateTeenInput(platformID string, in TeenInput, now time.Time) (models.BirthMonth, error) {
	ve := &models.ValidationError{}
	collect := func(err error) {
		var e *models.ValidationError
		if errors.As(err, &e) {
			ve.Errors = append(ve.Errors, e.Errors...)
		}
	}
	collect(models.ValidatePlatformID("platform_user_id", platformID))
	collect(models.ValidateDisplayName("display_name", in.DisplayName))
	bm, err := models.ParseBirthMonth(in.BirthMonth, now)
	collect(err)
	collect(models.ValidateTimeZone("timezone", in.TimeZone))
	return bm, ve.Err()
}

// UpsertTeen provisions a teen for the calling client, or updates the teen it
// provisioned before. created tells which. Each teen gets a sign-in account
// of role teen, without email or password: teens sign in through links the
// messaging app hands out.
func (s *Store) UpsertTeen(ctx context.Context, clientID int64, platformID string, in TeenInput) (t models.Teen, created bool, err error) {
	now := s.now()
	bm, err := ValidateTeenInput(platformID, in, now)
	if err != nil {
		return models.Teen{}, false, err
	}
	name := strings.TrimSpace(in.DisplayName)
	err = s.policyTx(ctx, func(tx *gorm.DB) error {
		var row teenRow
		err := tx.Where("client_id = ? AND platform_user_id = ?", clientID, platformID).Take(&row).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			u := userRow{Name: name, Role: string(models.RoleTeen), CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&u).Error; err != nil {
				return err
			}
			row = teenRow{UserID: u.ID, ClientID: clientID, PlatformUserID: platformID, DisplayName: name,
				BirthMonth: bm.String(), TimeZone: in.TimeZone, CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
			created = true
		case err != nil:
			return err
		default:
			if err := tx.Model(&teenRow{}).Where("id = ?", row.ID).Updates(map[string]any{
				"display_name": name, "birth_month": bm.String(), "time_zone": in.TimeZone, "updated_at": now,
			}).Error; err != nil {
				return err
			}
			if err := tx.Model(&userRow{}).Where("id = ?", row.UserID).
				Updates(map[string]any{"name": name, "updated_at": now}).Error; err != nil {
				return err
			}
			if row.TimeZone != in.TimeZone {
				// Quiet hours are read in the teen's zone: every node must
				// reload the teen's rules.
				if err := s.bumpSeq(tx, row.ID); err != nil {
					return err
				}
			}
			row.DisplayName, row.BirthMonth, row.TimeZone, row.UpdatedAt = name, bm.String(), in.TimeZone, now
		}
		t = row.model()
		return nil
	})
	if errors.Is(err, models.ErrConflict) {
		// Two provisioning calls for a new teen raced; the other one won.
		return s.UpsertTeen(ctx, clientID, platformID, in)
	}
	return t, created, err
}

// TeenByPlatformID returns the teen the client provisioned under platformID.
// A teen of another client is models.ErrNotFound.
func (s *Store) TeenByPlatformID(ctx context.Context, clientID int64, platformID string) (models.Teen, error) {
	var row teenRow
	if err := s.db.WithContext(ctx).Where("client_id = ? AND platform_user_id = ?", clientID, platformID).Take(&row).Error; err != nil {
		return models.Teen{}, mapErr(err)
	}
	return row.model(), nil
}

// TeenForUser returns the teen record behind a teen's own account. Only the
// teen themself may ask; anyone else gets models.ErrNotFound.
func (s *Store) TeenForUser(ctx context.Context, viewer models.Actor) (models.Teen, error) {
	if viewer.Role != models.RoleTeen || viewer.UserID == 0 {
		return models.Teen{}, models.ErrNotFound
	}
	var row teenRow
	if err := s.db.WithContext(ctx).Where("user_id = ?", viewer.UserID).Take(&row).Error; err != nil {
		return models.Teen{}, mapErr(err)
	}
	return row.model(), nil
}

// SigninLinkTTL is how long a teen's sign-in link works: long enough to open
// it from the app, short enough that a forwarded link soon goes stale.
const SigninLinkTTL = 10 * time.Minute

// CreateSigninLink makes a single-use sign-in token for a teen of the client.
func (s *Store) CreateSigninLink(ctx context.Context, clientID int64, platformID string) (token string, expires time.Time, err error) {
	t, err := s.TeenByPlatformID(ctx, clientID, platformID)
	if err != nil {
		return "", time.Time{}, err
	}
	if t.Age(s.now()) > models.MaxSupervisedAge {
		return "", time.Time{}, models.Invalid("birth_month", "the teen is 18 or older now; Hearth no longer serves them")
	}
	raw, hash := NewToken()
	now := s.now()
	expires = now.Add(SigninLinkTTL)
	if err := s.db.WithContext(ctx).Create(&signinLinkRow{TokenHash: hash, TeenID: t.ID, ExpiresAt: expires, CreatedAt: now}).Error; err != nil {
		return "", time.Time{}, mapErr(err)
	}
	return raw, expires, nil
}

// ConsumeSigninLink uses up a sign-in token and returns the teen's account.
// A used token is models.ErrUsed, an old one models.ErrExpired, anything
// else models.ErrNotFound. Of two concurrent uses exactly one succeeds.
func (s *Store) ConsumeSigninLink(ctx context.Context, token string) (models.User, error) {
	var u models.User
	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.now()
		var link signinLinkRow
		if err := tx.Where("token_hash = ?", HashToken(token)).Take(&link).Error; err != nil {
			return err
		}
		if err := tokenState(link.UsedAt, link.ExpiresAt, now); err != nil {
			return err
		}
		res := tx.Model(&signinLinkRow{}).Where("id = ? AND used_at IS NULL", link.ID).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return models.ErrUsed
		}
		var row userRow
		if err := tx.Joins("JOIN teens ON teens.user_id = users.id").Where("teens.id = ?", link.TeenID).Take(&row).Error; err != nil {
			return err
		}
		u = row.model()
		if u.Disabled() {
			return models.ErrNotFound
		}
		return nil
	})
	return u, err
}

// CheckSigninLink reports whether a sign-in token can still be used,
// without using it: nil, models.ErrUsed, models.ErrExpired or
// models.ErrNotFound.
func (s *Store) CheckSigninLink(ctx context.Context, token string) error {
	var link signinLinkRow
	if err := s.db.WithContext(ctx).Where("token_hash = ?", HashToken(token)).Take(&link).Error; err != nil {
		return mapErr(err)
	}
	return tokenState(link.UsedAt, link.ExpiresAt, s.now())
}
