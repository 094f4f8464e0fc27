package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

// NewUser is what it takes to create a guardian or staff account.
type NewUser struct {
	Email    string
	Name     string
	Password string
	Role     models.Role
}

func validateNewUser(in NewUser) (string, error) {
	email := models.NormalizeEmail(in.Email)
	ve := &models.ValidationError{}
	for _, err := range []error{models.ValidateName(in.Name), models.ValidateEmail(email), models.ValidatePassword("password", in.Password)} {
		var e *models.ValidationError
		if errors.As(err, &e) {
			ve.Errors = append(ve.Errors, e.Errors...)
		}
	}
	if in.Role == models.RoleTeen || in.Role == "" {
		ve.Add("role", "password accounts are for guardians and staff")
	}
	return email, ve.Err()
}

// CreateUser validates and stores a password account whose address is taken
// as confirmed (staff made by an operator, demo accounts). A taken email is
// models.ErrConflict.
func (s *Store) CreateUser(ctx context.Context, in NewUser) (models.User, error) {
	email, err := validateNewUser(in)
	if err != nil {
		return models.User{}, err
	}
	hash, err := models.HashPassword(ctx, in.Password)
	if err != nil {
		return models.User{}, err
	}
	now := s.now()
	row := userRow{Email: &email, Name: strings.TrimSpace(in.Name), Role: string(in.Role), PasswordHash: hash,
		EmailVerifiedAt: &now, CreatedAt: now, UpdatedAt: now}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return models.User{}, mapErr(err)
	}
	return row.model(), nil
}

// SignUp is the outcome of a guardian sign-up, for the caller to email. The
// page shown is the same whichever it was, so sign-up never tells anyone
// whether an address has an account.
type SignUp struct {
	User models.User
	// Existing is true when the address already had an account: its owner
	// is emailed about the attempt and nothing changes.
	Existing bool
	// VerifyToken confirms the address; empty when Existing and confirmed.
	VerifyToken string
}

// VerifyEmailTTL is how long an emailed confirmation link works.
const VerifyEmailTTL = 24 * time.Hour

// SignUpGuardian creates an unconfirmed guardian account and a confirmation
// token. An address that already has an account is left alone (its password
// unchanged) and reported as Existing. The password is hashed either way so
// that the time taken does not tell the two apart.
func (s *Store) SignUpGuardian(ctx context.Context, in NewUser) (SignUp, error) {
	in.Role = models.RoleGuardian
	email, err := validateNewUser(in)
	if err != nil {
		return SignUp{}, err
	}
	hash, err := models.HashPassword(ctx, in.Password)
	if err != nil {
		return SignUp{}, err
	}
	var out SignUp
	err = s.tx(ctx, func(tx *gorm.DB) error {
		now := s.now()
		var existing userRow
		err := tx.Where("email = ?", email).Take(&existing).Error
		switch {
		case err == nil:
			out.User, out.Existing = existing.model(), true
			if existing.EmailVerifiedAt != nil || existing.Role != string(models.RoleGuardian) {
				return nil
			}
		case errors.Is(err, gorm.ErrRecordNotFound):
			row := userRow{Email: &email, Name: strings.TrimSpace(in.Name), Role: string(models.RoleGuardian), PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
			out.User = row.model()
		default:
			return err
		}
		tok, err := newUserToken(tx, out.User.ID, purposeVerify, now.Add(VerifyEmailTTL), now)
		out.VerifyToken = tok
		return err
	})
	return out, err
}

const (
	purposeVerify = "verify_email"
	purposeReset  = "reset_password"
)

// newUserToken replaces any unused token of the same purpose for the user,
// so only the newest emailed link works.
func newUserToken(tx *gorm.DB, userID int64, purpose string, expires, now time.Time) (string, error) {
	if err := tx.Where("user_id = ? AND purpose = ? AND used_at IS NULL", userID, purpose).Delete(&userTokenRow{}).Error; err != nil {
		return "", err
	}
	raw, hash := NewToken()
	err := tx.Create(&userTokenRow{TokenHash: hash, UserID: userID, Purpose: purpose, ExpiresAt: expires, CreatedAt: now}).Error
	return raw, err
}

// useUserToken spends a token of purpose inside tx and returns its user ID.
// The used_at guard makes concurrent uses of one token resolve to one winner.
func useUserToken(tx *gorm.DB, token, purpose string, now time.Time) (int64, error) {
	var row userTokenRow
	if err := tx.Where("token_hash = ? AND purpose = ?", HashToken(token), purpose).Take(&row).Error; err != nil {
		return 0, err
	}
	if err := tokenState(row.UsedAt, row.ExpiresAt, now); err != nil {
		return 0, err
	}
	res := tx.Model(&userTokenRow{}).Where("id = ? AND used_at IS NULL", row.ID).Update("used_at", now)
	if res.Error != nil {
		return 0, res.Error
	}
	if res.RowsAffected != 1 {
		return 0, models.ErrUsed
	}
	return row.UserID, nil
}

// VerifyEmail confirms an address with the emailed token and returns the
// account, now able to sign in.
func (s *Store) VerifyEmail(ctx context.Context, token string) (models.User, error) {
	var u models.User
	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.now()
		id, err := useUserToken(tx, token, purposeVerify, now)
		if err != nil {
			return err
		}
		if err := tx.Model(&userRow{}).Where("id = ? AND email_verified_at IS NULL", id).
			Updates(map[string]any{"email_verified_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		var row userRow
		if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
			return err
		}
		u = row.model()
		return nil
	})
	return u, err
}

// ResendVerification makes a fresh confirmation token for an unconfirmed
// account (after it signed in with the right password).
func (s *Store) ResendVerification(ctx context.Context, userID int64) (string, error) {
	var tok string
	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.now()
		var err error
		tok, err = newUserToken(tx, userID, purposeVerify, now.Add(VerifyEmailTTL), now)
		return err
	})
	return tok, err
}

// User returns the account with id.
func (s *Store) User(ctx context.Context, id int64) (models.User, error) {
	var row userRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return models.User{}, mapErr(err)
	}
	return row.model(), nil
}

// UserByEmail returns the password account with email.
func (s *Store) UserByEmail(ctx context.Context, email string) (models.User, error) {
	var row userRow
	if err := s.db.WithContext(ctx).Where("email = ?", models.NormalizeEmail(email)).Take(&row).Error; err != nil {
		return models.User{}, mapErr(err)
	}
	return row.model(), nil
}

// Authenticate checks an email and password and returns the account, limited
// to the given roles. Every failure (unknown email, wrong password, disabled
// account, wrong role) is models.ErrInvalidCredentials and costs one argon2id
// verification, so neither the answer nor its timing tells whether the
// account exists. A hash made with weaker parameters is replaced.
func (s *Store) Authenticate(ctx context.Context, email, password string, roles ...models.Role) (models.User, error) {
	var row userRow
	err := s.db.WithContext(ctx).Where("email = ?", models.NormalizeEmail(email)).Take(&row).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return models.User{}, err
	}
	hash := row.PasswordHash // empty when not found: verified against a dummy
	ok, rehash, err := models.VerifyPassword(ctx, password, hash)
	if err != nil {
		return models.User{}, err
	}
	u := row.model()
	if !ok || u.Disabled() || !roleIn(u.Role, roles) {
		return models.User{}, models.ErrInvalidCredentials
	}
	if u.EmailVerifiedAt == nil {
		return u, models.ErrEmailUnverified
	}
	if rehash {
		if h, err := models.HashPassword(ctx, password); err == nil {
			s.db.WithContext(ctx).Model(&userRow{}).Where("id = ?", u.ID).
				Updates(map[string]any{"password_hash": h, "updated_at": s.now()})
		}
	}
	return u, nil
}

func roleIn(r models.Role, roles []models.Role) bool {
	if len(roles) == 0 {
		return true
	}
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

// DisableUser stops an account from signing in and ends its sessions at
// once. It is the operator's command (`hearth user disable`); disabling a
// support agent or lead is recorded in the staff audit trail with the
// operator as the actor.
func (s *Store) DisableUser(ctx context.Context, id int64) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		now := s.now()
		var u userRow
		if err := tx.Clauses(lockForUpdate).Where("id = ?", id).Take(&u).Error; err != nil {
			return err
		}
		if err := tx.Model(&userRow{}).Where("id = ?", id).Updates(map[string]any{"disabled_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", id).Delete(&sessionRow{}).Error; err != nil {
			return err
		}
		if !models.Role(u.Role).IsStaff() || u.DisabledAt != nil {
			return nil
		}
		return appendStaffAudit(tx, staffAuditRow{At: now, ActorName: models.OperatorActorName, SubjectID: &u.ID,
			SubjectEmail: deref(u.Email), Action: string(models.StaffDisabled), Reason: "Disabled on the server's command line."})
	})
}

// PasswordResetTTL is how long an emailed reset link works.
const PasswordResetTTL = time.Hour

// CreatePasswordReset makes a single-use reset token for the password
// account with email, replacing any earlier unused one. An unknown email is
// models.ErrNotFound; the caller answers the same either way.
func (s *Store) CreatePasswordReset(ctx context.Context, email string) (token string, u models.User, err error) {
	u, err = s.UserByEmail(ctx, email)
	if err != nil {
		return "", models.User{}, err
	}
	if u.Disabled() || u.Role == models.RoleTeen {
		return "", models.User{}, models.ErrNotFound
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		now := s.now()
		token, err = newUserToken(tx, u.ID, purposeReset, now.Add(PasswordResetTTL), now)
		return err
	})
	if err != nil {
		return "", models.User{}, err
	}
	return token, u, nil
}

// CheckPasswordReset reports whether a reset token can still be used:
// nil, models.ErrUsed, models.ErrExpired or models.ErrNotFound.
func (s *Store) CheckPasswordReset(ctx context.Context, token string) error {
	var row userTokenRow
	if err := s.db.WithContext(ctx).Where("token_hash = ? AND purpose = ?", HashToken(token), purposeReset).Take(&row).Error; err != nil {
		return mapErr(err)
	}
	return tokenState(row.UsedAt, row.ExpiresAt, s.now())
}

func tokenState(used *time.Time, expires, now time.Time) error {
	switch {
	case used != nil:
		return models.ErrUsed
	case !now.Before(expires):
		return models.ErrExpired
	}
	return nil
}

// ResetPassword sets a new password with a reset token, uses the token up,
// confirms the address (the link reached it), and signs the account out
// everywhere: whoever knew the old password is out.
func (s *Store) ResetPassword(ctx context.Context, token, password string) (models.User, error) {
	if err := models.ValidatePassword("password", password); err != nil {
		return models.User{}, err
	}
	if err := s.CheckPasswordReset(ctx, token); err != nil {
		return models.User{}, err
	}
	hash, err := models.HashPassword(ctx, password)
	if err != nil {
		return models.User{}, err
	}
	var u models.User
	err = s.tx(ctx, func(tx *gorm.DB) error {
		now := s.now()
		id, err := useUserToken(tx, token, purposeReset, now)
		if err != nil {
			return err
		}
		if err := tx.Model(&userRow{}).Where("id = ?", id).
			Updates(map[string]any{"password_hash": hash, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := tx.Model(&userRow{}).Where("id = ? AND email_verified_at IS NULL", id).
			Update("email_verified_at", now).Error; err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", id).Delete(&sessionRow{}).Error; err != nil {
			return err
		}
		var row userRow
		if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
			return err
		}
		u = row.model()
		return nil
	})
	return u, err
}
