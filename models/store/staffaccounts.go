package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

type staffAuditRow struct {
	ID           int64 `gorm:"primaryKey"`
	At           time.Time
	ActorID      *int64
	ActorName    string
	SubjectID    *int64
	SubjectEmail string
	Action       string
	Reason       string
}

func (staffAuditRow) TableName() string { return "staff_audit_events" }

func (r staffAuditRow) model() models.StaffAuditEvent {
	e := models.StaffAuditEvent{ID: r.ID, At: r.At.UTC(), ActorName: r.ActorName, SubjectEmail: r.SubjectEmail,
		Action: models.StaffAction(r.Action), Reason: r.Reason}
	if r.ActorID != nil {
		e.ActorID = *r.ActorID
	}
	if r.SubjectID != nil {
		e.SubjectID = *r.SubjectID
	}
	return e
}

// appendStaffAudit records a staff action inside the transaction that made
// it, so the trail never misses one nor records one that rolled back.
func appendStaffAudit(tx *gorm.DB, r staffAuditRow) error {
	r.At = r.At.UTC().Truncate(time.Microsecond)
	return tx.Create(&r).Error
}

// StaffAccounts lists every support agent and lead with their second
// factor and live session count, leads first, then by name. Only a lead
// may list them; anyone else gets models.ErrForbidden.
func (s *Store) StaffAccounts(ctx context.Context, viewer models.Actor) ([]models.StaffAccount, error) {
	if viewer.Role != models.RoleLead {
		return nil, models.ErrForbidden
	}
	db := s.db.WithContext(ctx)
	var rows []userRow
	if err := db.Where("role IN ?", []string{string(models.RoleLead), string(models.RoleStaff)}).
		Order("CASE WHEN role = 'lead' THEN 0 ELSE 1 END").Order("name").Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]models.StaffAccount, 0, len(rows))
	for _, r := range rows {
		f, err := secondFactorState(db, r.ID, now)
		if err != nil {
			return nil, err
		}
		var n int64
		if err := db.Model(&sessionRow{}).Where("user_id = ? AND expires_at > ?", r.ID, now).Count(&n).Error; err != nil {
			return nil, err
		}
		out = append(out, models.StaffAccount{User: r.model(), SecondFactor: f, Sessions: n})
	}
	return out, nil
}

// StaffAuditEvents returns the newest limit entries of the staff audit
// trail (only those about subjectID when it is not 0), newest first. Only
// a lead may read it (models.ErrForbidden).
func (s *Store) StaffAuditEvents(ctx context.Context, viewer models.Actor, subjectID int64, limit int) ([]models.StaffAuditEvent, error) {
	if viewer.Role != models.RoleLead {
		return nil, models.ErrForbidden
	}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	q := s.db.WithContext(ctx).Order("id DESC").Limit(limit)
	if subjectID != 0 {
		q = q.Where("subject_id = ?", subjectID)
	}
	var rows []staffAuditRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]models.StaffAuditEvent, len(rows))
	for i, r := range rows {
		out[i] = r.model()
	}
	return out, nil
}

// SetStaffDisabled disables (disabled true) or re-enables a support agent
// or lead, for a lead with a written reason, and records it in the staff
// audit trail. Disabling ends every session of the account in the same
// transaction, so its next request is signed out. Agents, and a lead
// acting on their own account, get models.ErrForbidden; a missing reason
// is a validation error on "reason"; an account that is not staff is
// models.ErrNotFound; one already in that state is models.ErrConflict.
func (s *Store) SetStaffDisabled(ctx context.Context, viewer models.Actor, subjectID int64, disabled bool, reason string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		lead, why, err := leadActing(tx, viewer, subjectID, reason)
		if err != nil {
			return err
		}
		u, err := staffSubject(tx, subjectID)
		if err != nil {
			return err
		}
		if (u.DisabledAt != nil) == disabled {
			return models.ErrConflict
		}
		now := s.now()
		upd := map[string]any{"disabled_at": nil, "updated_at": now}
		action := models.StaffEnabled
		if disabled {
			upd["disabled_at"], action = now, models.StaffDisabled
		}
		if err := tx.Model(&userRow{}).Where("id = ?", subjectID).Updates(upd).Error; err != nil {
			return err
		}
		if disabled {
			if err := tx.Where("user_id = ?", subjectID).Delete(&sessionRow{}).Error; err != nil {
				return err
			}
		}
		return appendStaffAudit(tx, staffAuditRow{At: now, ActorID: &lead.ID, ActorName: lead.Name, SubjectID: &u.ID,
			SubjectEmail: deref(u.Email), Action: string(action), Reason: why})
	})
}

// ResetSecondFactor removes a staff member's authenticator secret and
// recovery codes, for a lead with a written reason (a lost phone), and ends
// their sessions: they enrol again at their next sign-in. It is recorded in
// the staff audit trail. Errors are those of SetStaffDisabled; an account
// with nothing to reset is models.ErrConflict.
func (s *Store) ResetSecondFactor(ctx context.Context, viewer models.Actor, subjectID int64, reason string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		lead, why, err := leadActing(tx, viewer, subjectID, reason)
		if err != nil {
			return err
		}
		return s.resetSecondFactor(tx, &lead.ID, lead.Name, subjectID, why)
	})
}

// ResetSecondFactorByOperator is ResetSecondFactor for the server's
// operator (`hearth user reset-second-factor`), who needs no lead: the way
// back in when the only lead has lost their phone.
func (s *Store) ResetSecondFactorByOperator(ctx context.Context, subjectID int64) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		return s.resetSecondFactor(tx, nil, models.OperatorActorName, subjectID, "Reset on the server's command line.")
	})
}

func (s *Store) resetSecondFactor(tx *gorm.DB, actorID *int64, actorName string, subjectID int64, reason string) error {
	u, err := staffSubject(tx, subjectID)
	if err != nil {
		return err
	}
	res := tx.Where("user_id = ?", subjectID).Delete(&secondFactorRow{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return models.ErrConflict
	}
	if err := tx.Where("user_id = ?", subjectID).Delete(&recoveryCodeRow{}).Error; err != nil {
		return err
	}
	if err := tx.Where("user_id = ?", subjectID).Delete(&sessionRow{}).Error; err != nil {
		return err
	}
	return appendStaffAudit(tx, staffAuditRow{At: s.now(), ActorID: actorID, ActorName: actorName, SubjectID: &u.ID,
		SubjectEmail: deref(u.Email), Action: string(models.StaffSecondFactorReset), Reason: reason})
}
