package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

type secondFactorRow struct {
	UserID         int64  `gorm:"primaryKey"`
	TOTPSecret     string `gorm:"column:totp_secret"`
	ConfirmedAt    *time.Time
	LastStep       int64
	FailedAttempts int
	LockedUntil    *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (secondFactorRow) TableName() string { return "staff_second_factors" }

type recoveryCodeRow struct {
	ID        int64 `gorm:"primaryKey"`
	UserID    int64
	CodeHash  string
	UsedAt    *time.Time
	CreatedAt time.Time
}

func (recoveryCodeRow) TableName() string { return "staff_recovery_codes" }

// SecondFactor returns the state of staff member userID's second factor;
// the zero value (not enrolled) when they have none yet.
func (s *Store) SecondFactor(ctx context.Context, userID int64) (models.SecondFactor, error) {
	return secondFactorState(s.db.WithContext(ctx), userID, s.now())
}

func secondFactorState(db *gorm.DB, userID int64, now time.Time) (models.SecondFactor, error) {
	var rows []secondFactorRow
	if err := db.Where("user_id = ?", userID).Limit(1).Find(&rows).Error; err != nil {
		return models.SecondFactor{}, err
	}
	if len(rows) == 0 {
		return models.SecondFactor{}, nil
	}
	f := models.SecondFactor{EnrolledAt: utcPtr(rows[0].ConfirmedAt)}
	if l := rows[0].LockedUntil; l != nil && now.Before(*l) {
		f.LockedUntil = utcPtr(l)
	}
	var n int64
	if err := db.Model(&recoveryCodeRow{}).Where("user_id = ? AND used_at IS NULL", userID).Count(&n).Error; err != nil {
		return models.SecondFactor{}, err
	}
	f.RecoveryLeft = int(n)
	return f, nil
}

// StartTOTPEnrolment gives staff member u the secret to add to their
// authenticator app. While they have not confirmed it, the same secret is
// returned again (a reload must not change a QR code already scanned). An
// enrolled second factor is models.ErrConflict: its secret is never shown
// again.
func (s *Store) StartTOTPEnrolment(ctx context.Context, u models.User) (models.TOTPEnrolment, error) {
	if !u.Role.IsStaff() {
		return models.TOTPEnrolment{}, models.ErrNotFound
	}
	var secret string
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var rows []secondFactorRow
		if err := tx.Clauses(lockForUpdate).Where("user_id = ?", u.ID).Limit(1).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 1 {
			if rows[0].ConfirmedAt != nil {
				return models.ErrConflict
			}
			secret = rows[0].TOTPSecret
			return nil
		}
		b := make([]byte, 20) // 160 bits, as RFC 4226 recommends for SHA-1
		if _, err := rand.Read(b); err != nil {
			return err
		}
		secret = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
		now := s.now()
		return tx.Create(&secondFactorRow{UserID: u.ID, TOTPSecret: secret, CreatedAt: now, UpdatedAt: now}).Error
	})
	if err != nil {
		return models.TOTPEnrolment{}, err
	}
	return enrolment(u, secret)
}

// PendingTOTPEnrolment returns what StartTOTPEnrolment gave staff member u
// while they have not confirmed it, without changing anything (for the
// enrolment page, a GET). Without a started enrolment it is
// models.ErrNotFound; an enrolled factor is models.ErrConflict.
func (s *Store) PendingTOTPEnrolment(ctx context.Context, u models.User) (models.TOTPEnrolment, error) {
	var row secondFactorRow
	if err := s.db.WithContext(ctx).Where("user_id = ?", u.ID).Take(&row).Error; err != nil {
		return models.TOTPEnrolment{}, mapErr(err)
	}
	if row.ConfirmedAt != nil {
		return models.TOTPEnrolment{}, models.ErrConflict
	}
	return enrolment(u, row.TOTPSecret)
}

// enrolment builds the otpauth:// URL authenticator apps scan for secret.
func enrolment(u models.User, secret string) (models.TOTPEnrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: models.TOTPIssuer, AccountName: u.Email,
		Secret: mustBase32(secret), Period: uint(models.TOTPPeriod / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return models.TOTPEnrolment{}, err
	}
	return models.TOTPEnrolment{Secret: secret, URL: key.URL()}, nil
}

func mustBase32(s string) []byte {
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		panic("store: stored TOTP secret is not base32")
	}
	return b
}

// ConfirmTOTPEnrolment finishes userID's enrolment with a code from their
// app: it marks the factor enrolled, records the enrolment in the staff
// audit trail, and returns models.RecoveryCodeCount new recovery codes,
// which exist only in this answer (the store keeps their hashes). A wrong
// code is models.ErrInvalidCode and counts towards the lockout
// (*models.LockedError); without a started enrolment it is
// models.ErrNotFound, and an enrolled factor is models.ErrConflict.
func (s *Store) ConfirmTOTPEnrolment(ctx context.Context, userID int64, code string) ([]string, error) {
	var codes []string
	var wrong bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.now()
		row, err := lockSecondFactor(tx, userID, now)
		if err != nil {
			return err
		}
		if row.ConfirmedAt != nil {
			return models.ErrConflict
		}
		step, ok := matchTOTP(row.TOTPSecret, models.NormalizeCode(code), now)
		if !ok || step <= row.LastStep {
			wrong = true
			return nil
		}
		if err := tx.Model(&secondFactorRow{}).Where("user_id = ?", userID).Updates(map[string]any{
			"confirmed_at": now, "last_step": step, "failed_attempts": 0, "locked_until": nil, "updated_at": now,
		}).Error; err != nil {
			return err
		}
		if codes, err = newRecoveryCodes(tx, userID, now); err != nil {
			return err
		}
		var u userRow
		if err := tx.Where("id = ?", userID).Take(&u).Error; err != nil {
			return err
		}
		return appendStaffAudit(tx, staffAuditRow{At: now, ActorID: &userID, ActorName: u.Name, SubjectID: &userID,
			SubjectEmail: deref(u.Email), Action: string(models.StaffSecondFactorEnrol)})
	})
	if err != nil {
		return nil, err
	}
	if wrong {
		return nil, s.codeFailed(ctx, userID)
	}
	return codes, nil
}

// VerifySecondFactor checks the code staff member userID gives at sign-in:
// the TOTP code of the current 30-second step (or one step either side), or
// an unused recovery code, which is spent. A TOTP code is accepted once: a
// code for a step no newer than the last one accepted is models.ErrUsed.
// Wrong codes are models.ErrInvalidCode; after models.MaxCodeAttempts in a
// row the factor locks for models.CodeLockout and every code, right or
// wrong, is a *models.LockedError until then. Without an enrolled factor it
// is models.ErrNotFound.
func (s *Store) VerifySecondFactor(ctx context.Context, userID int64, code string) (models.SecondFactorCheck, error) {
	var out models.SecondFactorCheck
	var wrong, replay bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.now()
		row, err := lockSecondFactor(tx, userID, now)
		if err != nil {
			return err
		}
		if row.ConfirmedAt == nil {
			return models.ErrNotFound
		}
		norm := models.NormalizeCode(code)
		if models.IsTOTPCode(norm) {
			step, ok := matchTOTP(row.TOTPSecret, norm, now)
			switch {
			case !ok:
				wrong = true
				return nil
			case step <= row.LastStep:
				replay = true
				return nil
			}
			if err := tx.Model(&secondFactorRow{}).Where("user_id = ?", userID).
				Updates(map[string]any{"last_step": step, "failed_attempts": 0, "updated_at": now}).Error; err != nil {
				return err
			}
		} else {
			res := tx.Model(&recoveryCodeRow{}).Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, HashToken(norm)).
				Update("used_at", now)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected != 1 {
				wrong = true
				return nil
			}
			out.UsedRecoveryCode = true
			if err := tx.Model(&secondFactorRow{}).Where("user_id = ?", userID).
				Updates(map[string]any{"failed_attempts": 0, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		var n int64
		if err := tx.Model(&recoveryCodeRow{}).Where("user_id = ? AND used_at IS NULL", userID).Count(&n).Error; err != nil {
			return err
		}
		out.RecoveryLeft = int(n)
		return nil
	})
	switch {
	case err != nil:
		return models.SecondFactorCheck{}, err
	case replay:
		return models.SecondFactorCheck{}, models.ErrUsed
	case wrong:
		return models.SecondFactorCheck{}, s.codeFailed(ctx, userID)
	}
	return out, nil
}

// lockSecondFactor reads userID's factor for update, refusing while it is
// locked out.
func lockSecondFactor(tx *gorm.DB, userID int64, now time.Time) (secondFactorRow, error) {
	var row secondFactorRow
	if err := tx.Clauses(lockForUpdate).Where("user_id = ?", userID).Take(&row).Error; err != nil {
		return row, err
	}
	if row.LockedUntil != nil && now.Before(*row.LockedUntil) {
		return row, &models.LockedError{Until: row.LockedUntil.UTC()}
	}
	return row, nil
}

// codeFailed counts a wrong code in its own transaction (the check's
// transaction wrote nothing) and locks the factor at the limit. It returns
// the error the caller answers with.
func (s *Store) codeFailed(ctx context.Context, userID int64) error {
	var locked *models.LockedError
	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.now()
		row, err := lockSecondFactor(tx, userID, now)
		if err != nil {
			return err
		}
		upd := map[string]any{"failed_attempts": row.FailedAttempts + 1, "updated_at": now}
		if row.FailedAttempts+1 >= models.MaxCodeAttempts {
			until := now.Add(models.CodeLockout)
			upd["failed_attempts"], upd["locked_until"] = 0, until
			locked = &models.LockedError{Until: until}
		}
		return tx.Model(&secondFactorRow{}).Where("user_id = ?", userID).Updates(upd).Error
	})
	switch {
	case err != nil:
		return err
	case locked != nil:
		return locked
	}
	return models.ErrInvalidCode
}

// matchTOTP returns the time step whose code equals code, trying now's step
// and models.TOTPSkew steps either side, newest first.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	if !models.IsTOTPCode(code) {
		return 0, false
	}
	step := models.TOTPStep(now)
	for d := int64(models.TOTPSkew); d >= -models.TOTPSkew; d-- {
		want, err := models.TOTPCode(secret, time.Unix((step+d)*int64(models.TOTPPeriod/time.Second), 0))
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step + d, true
		}
	}
	return 0, false
}

// recoveryAlphabet leaves out letters and digits people mix up (0/o, 1/l/i).
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// newRecoveryCodes replaces userID's recovery codes with fresh ones and
// returns them as people read them ("k7m2p-9qx4t"): ten characters from a
// 31-letter alphabet, about 50 bits each, which the lockout makes
// unguessable.
func newRecoveryCodes(tx *gorm.DB, userID int64, now time.Time) ([]string, error) {
	if err := tx.Where("user_id = ?", userID).Delete(&recoveryCodeRow{}).Error; err != nil {
		return nil, err
	}
	codes := make([]string, 0, models.RecoveryCodeCount)
	rows := make([]recoveryCodeRow, 0, models.RecoveryCodeCount)
	for len(codes) < models.RecoveryCodeCount {
		b := make([]byte, 10)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		var sb strings.Builder
		for i, x := range b {
			if i == 5 {
				sb.WriteByte('-')
			}
			// 256 is not a multiple of 31: the first 248 values map evenly.
			for x >= 248 {
				var one [1]byte
				if _, err := rand.Read(one[:]); err != nil {
					return nil, err
				}
				x = one[0]
			}
			sb.WriteByte(recoveryAlphabet[int(x)%len(recoveryAlphabet)])
		}
		c := sb.String()
		codes = append(codes, c)
		rows = append(rows, recoveryCodeRow{UserID: userID, CodeHash: HashToken(models.NormalizeCode(c)), CreatedAt: now})
	}
	return codes, tx.Create(&rows).Error
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// errNotStaff is what acting on a non-staff account through the staff
// pages gives: the account is not there for them.
var errNotStaff = models.ErrNotFound

// staffSubject reads the staff account subjectID inside tx.
func staffSubject(tx *gorm.DB, subjectID int64) (userRow, error) {
	var u userRow
	if err := tx.Clauses(lockForUpdate).Where("id = ?", subjectID).Take(&u).Error; err != nil {
		return u, err
	}
	if !models.Role(u.Role).IsStaff() {
		return u, errNotStaff
	}
	return u, nil
}

// leadActing checks that viewer is a lead acting on someone else's account
// with a reason, and returns the lead's row and the cleaned reason.
func leadActing(tx *gorm.DB, viewer models.Actor, subjectID int64, reason string) (userRow, string, error) {
	var lead userRow
	if viewer.Role != models.RoleLead {
		return lead, "", models.ErrForbidden
	}
	if err := tx.Where("id = ? AND role = ? AND disabled_at IS NULL", viewer.UserID, string(models.RoleLead)).Take(&lead).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return lead, "", models.ErrForbidden
		}
		return lead, "", err
	}
	if viewer.UserID == subjectID {
		return lead, "", models.ErrForbidden
	}
	r, err := cleanReason("reason", reason)
	if err != nil {
		return lead, "", err
	}
	if r == "" {
		return lead, "", models.Invalid("reason", "Write why, for the staff audit trail.")
	}
	return lead, r, nil
}

// PreEnrolTOTP enrols staff member userID with a TOTP secret chosen by
// the operator (base32, at least 128 bits), as `hearth demo
// --staff-totp-secret` does so that scripts and demos can compute codes,
// and returns fresh recovery codes. An account enrolled already is
// models.ErrConflict; a secret too short or not base32 is a validation
// error on "secret".
func (s *Store) PreEnrolTOTP(ctx context.Context, userID int64, secret string) ([]string, error) {
	secret = normalizeSecret(secret)
	if err := ValidateTOTPSecret(secret); err != nil {
		return nil, err
	}
	var codes []string
	err := s.tx(ctx, func(tx *gorm.DB) error {
		u, err := staffSubject(tx, userID)
		if err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&secondFactorRow{}).Where("user_id = ? AND confirmed_at IS NOT NULL", userID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return models.ErrConflict
		}
		now := s.now()
		if err := tx.Where("user_id = ?", userID).Delete(&secondFactorRow{}).Error; err != nil {
			return err
		}
		if err := tx.Create(&secondFactorRow{UserID: userID, TOTPSecret: secret, ConfirmedAt: &now, CreatedAt: now, UpdatedAt: now}).Error; err != nil {
			return err
		}
		if codes, err = newRecoveryCodes(tx, userID, now); err != nil {
			return err
		}
		return appendStaffAudit(tx, staffAuditRow{At: now, ActorName: models.OperatorActorName, SubjectID: &u.ID,
			SubjectEmail: deref(u.Email), Action: string(models.StaffSecondFactorEnrol), Reason: "Enrolled with a secret given on the command line."})
	})
	return codes, err
}

func normalizeSecret(secret string) string {
	return strings.ToUpper(strings.TrimRight(strings.ReplaceAll(secret, " ", ""), "="))
}

// ValidateTOTPSecret checks a TOTP key given by an operator: base32 of at
// least 128 bits (spaces, padding and case do not matter). The error is a
// validation error on "secret".
func ValidateTOTPSecret(secret string) error {
	if b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(normalizeSecret(secret)); err != nil || len(b) < 16 {
		return models.Invalid("secret", "must be base32 (A–Z, 2–7) of at least 26 characters (128 bits)")
	}
	return nil
}
