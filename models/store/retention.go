package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

// PolicyTombstoneRetention is how long the record that a teen was erased
// is kept for the nodes (see EraseTeen). A node applies it within a poll
// interval; the rest is margin for nodes that were cut off for a while.
const PolicyTombstoneRetention = 30 * 24 * time.Hour

type tombstoneRow struct {
	Seq            int64 `gorm:"primaryKey;autoIncrement:false"`
	ClientID       int64
	PlatformUserID string
	ErasedAt       time.Time
}

func (tombstoneRow) TableName() string { return "policy_tombstones" }

// Retained is what one retention run deleted, by kind of data.
type Retained struct {
	// Tokens counts sessions, teen sign-in links and emailed links past
	// their expiry.
	Tokens      int64
	Invitations int64
	Alerts      int64
	RuleCounts  int64
	Tombstones  int64
	// Audit counts audit entries older than models.AuditRetention.
	Audit int64
}

// Total is every row the run deleted.
func (r Retained) Total() int64 {
	return r.Tokens + r.Invitations + r.Alerts + r.RuleCounts + r.Tombstones + r.Audit
}

// DeleteExpiredData applies the published retention periods, for the
// hourly job: sessions, sign-in links and emailed links past their expiry;
// invitations InvitationRetention after they expired; alerts whose latest
// event is older than alertRetention; daily rule counts older than
// models.RuleCountRetentionDays; erasure tombstones every node has applied,
// after PolicyTombstoneRetention; audit entries older than
// models.AuditRetention (DeleteOldAuditEvents). Received event IDs are never deleted:
// they are what makes a redelivered event a duplicate, and say nothing
// about a teen. Each kind is deleted on its own, so one failure does not
// hold back the rest; the errors are returned joined.
func (s *Store) DeleteExpiredData(ctx context.Context, alertRetention time.Duration) (Retained, error) {
	if alertRetention <= 0 {
		return Retained{}, errors.New("store: alert retention must be positive")
	}
	var r Retained
	var errs []error
	add := func(n *int64, got int64, err error) {
		*n += got
		if err != nil {
			errs = append(errs, err)
		}
	}
	n, err := s.DeleteExpired(ctx)
	add(&r.Tokens, n, err)
	n, err = s.DeleteOldInvitations(ctx)
	add(&r.Invitations, n, err)
	n, err = s.DeleteOldAlerts(ctx, s.stamp().Add(-alertRetention))
	add(&r.Alerts, n, err)
	n, err = s.DeleteOldRuleCounts(ctx, s.now().AddDate(0, 0, -models.RuleCountRetentionDays))
	add(&r.RuleCounts, n, err)
	n, err = s.DeleteOldTombstones(ctx)
	add(&r.Tombstones, n, err)
	n, err = s.DeleteOldAuditEvents(ctx)
	add(&r.Audit, n, err)
	return r, errors.Join(errs...)
}

// DeleteOldAlerts deletes the alerts whose latest event happened before
// olderThan (a burst counts from its last event), with their
// acknowledgements, and reports how many went. The received event IDs stay.
func (s *Store) DeleteOldAlerts(ctx context.Context, olderThan time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("last_occurred_at < ?", olderThan.UTC()).Delete(&alertRow{})
	return res.RowsAffected, mapErr(res.Error)
}

// DeleteOldTombstones deletes erasure tombstones older than
// PolicyTombstoneRetention that every node heard from in that time has
// applied, and reports how many went. A node that has been silent longer
// is long past its lease and reloads before it decides again.
func (s *Store) DeleteOldTombstones(ctx context.Context) (int64, error) {
	cutoff := s.stamp().Add(-PolicyTombstoneRetention)
	res := s.db.WithContext(ctx).Exec(`DELETE FROM policy_tombstones WHERE erased_at < ?
		AND seq <= COALESCE((SELECT MIN(applied_seq) FROM cluster_nodes WHERE heartbeat_at >= ?), seq)`, cutoff, cutoff)
	return res.RowsAffected, mapErr(res.Error)
}

// DeleteOldAuditEvents deletes every audit entry older than
// models.AuditRetention and reports how many went. The log of each teen is
// a hash chain, so entries go only from its start, oldest first, and in the
// same transaction Hearth appends an audit.pruned entry naming the hash of
// the last one deleted: the first kept entry chains onto it, and
// VerifyAuditChain starts from there. The teen sees in their activity log
// that old entries were deleted. Each teen is handled in a transaction of
// its own; the errors are returned joined.
func (s *Store) DeleteOldAuditEvents(ctx context.Context) (int64, error) {
	cutoff := s.stamp().Add(-models.AuditRetention)
	var teens []int64
	if err := s.db.WithContext(ctx).Model(&auditRow{}).Distinct("teen_id").
		Where("at < ? AND action <> ?", cutoff, models.ActionAuditPruned).Order("teen_id").Pluck("teen_id", &teens).Error; err != nil {
		return 0, err
	}
	var total int64
	var errs []error
	for _, teenID := range teens {
		n, err := s.pruneAudit(ctx, teenID, cutoff)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("prune the audit log of teen %d: %w", teenID, err))
		}
	}
	return total, errors.Join(errs...)
}

func (s *Store) pruneAudit(ctx context.Context, teenID int64, cutoff time.Time) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *gorm.DB) error {
		n = 0
		if _, err := lockTeen(tx, "id = ?", teenID); err != nil {
			return err
		}
		// The prefix to delete ends at the newest old entry, so a later
		// entry with an earlier time (none should exist) cannot split it.
		var last []auditRow
		if err := tx.Where("teen_id = ? AND at < ?", teenID, cutoff).Order("id DESC").Limit(1).Find(&last).Error; err != nil {
			return err
		}
		if len(last) == 0 {
			return nil
		}
		if err := s.appendAudit(tx, models.AuditEvent{TeenID: teenID, ActorRole: systemActor.role, ActorName: systemActor.name,
			Action: models.ActionAuditPruned, Reason: "Entries older than the audit retention period were deleted.",
			After: obj("through_hash", last[0].Hash, "before", cutoff.Format(time.RFC3339))}); err != nil {
			return err
		}
		res := tx.Where("teen_id = ? AND id <= ?", teenID, last[0].ID).Delete(&auditRow{})
		n = res.RowsAffected
		return res.Error
	})
	return n, err
}
