package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

type auditRow struct {
	ID           int64 `gorm:"primaryKey"`
	TeenID       int64
	At           time.Time
	ActorID      *int64
	ActorRole    string
	ActorName    string
	Action       string
	LinkID       *int64
	Before       string `gorm:"column:before"`
	After        string `gorm:"column:after"`
	Reason       string
	Confidential bool
	PrevHash     string
	Hash         string
}

func (auditRow) TableName() string { return "audit_events" }

func (r auditRow) model() models.AuditEvent {
	e := models.AuditEvent{ID: r.ID, TeenID: r.TeenID, At: r.At.UTC(), ActorRole: r.ActorRole, ActorName: r.ActorName,
		Action: r.Action, LinkID: r.LinkID, Before: json.RawMessage(r.Before), After: json.RawMessage(r.After),
		Reason: r.Reason, PrevHash: r.PrevHash, Hash: r.Hash, Confidential: r.Confidential}
	if r.ActorID != nil {
		e.ActorID = *r.ActorID
	}
	return e
}

// auditHash is the hash a row must carry: SHA-256, in hex, of a canonical
// encoding of everything the row says, starting with the previous row's
// hash. The encoding is a version tag followed by netstrings (length:bytes,)
// of each field, so no two different rows can encode alike whatever their
// text contains, and nothing depends on JSON escaping or map order.
// The time is RFC 3339 in UTC at microsecond precision, which both databases
// give back exactly.
func auditHash(r auditRow) string {
	var actor, link int64
	if r.ActorID != nil {
		actor = *r.ActorID
	}
	if r.LinkID != nil {
		link = *r.LinkID
	}
	var b strings.Builder
	field := func(s string) {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
		b.WriteByte(',')
	}
	field("hearth-audit-v1")
	field(r.PrevHash)
	field(strconv.FormatInt(r.TeenID, 10))
	field(r.At.UTC().Format(time.RFC3339Nano))
	field(strconv.FormatInt(actor, 10))
	field(r.ActorRole)
	field(r.ActorName)
	field(r.Action)
	field(strconv.FormatInt(link, 10))
	field(r.Before)
	field(r.After)
	field(r.Reason)
	field(strconv.FormatBool(r.Confidential))
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// appendAudit adds e to its teen's chain inside tx, the transaction of the
// change it records, so the log can never miss a change nor record one that
// rolled back. PrevHash is the hash of the teen's last entry ("" for the
// first) and Hash covers the entry and PrevHash (see auditHash). On
// Postgres the teen row is locked first, so two transactions cannot both
// chain onto the same last entry; SQLite's single writer does the same.
// At defaults to now; ActorName is kept as it was at the time.
func (s *Store) appendAudit(tx *gorm.DB, e models.AuditEvent) error {
	if e.TeenID == 0 || e.Action == "" || e.ActorRole == "" {
		return errors.New("store: audit event needs a teen, an action and an actor role")
	}
	var t teenRow
	if err := tx.Clauses(lockForUpdate).Select("id").Where("id = ?", e.TeenID).Take(&t).Error; err != nil {
		return err
	}
	var last []auditRow
	if err := tx.Select("hash").Where("teen_id = ?", e.TeenID).Order("id DESC").Limit(1).Find(&last).Error; err != nil {
		return err
	}
	at := e.At
	if at.IsZero() {
		at = s.now()
	}
	row := auditRow{TeenID: e.TeenID, At: at.UTC().Truncate(time.Microsecond), ActorRole: e.ActorRole, ActorName: e.ActorName,
		Action: e.Action, LinkID: e.LinkID, Before: jsonText(e.Before), After: jsonText(e.After), Reason: e.Reason,
		Confidential: e.Confidential}
	if e.ActorID != 0 {
		id := e.ActorID
		row.ActorID = &id
	}
	if len(last) == 1 {
		row.PrevHash = last[0].Hash
	}
	row.Hash = auditHash(row)
	return tx.Create(&row).Error
}

func jsonText(r json.RawMessage) string {
	if len(r) == 0 {
		return "{}"
	}
	return string(r)
}

// auditScope decides what part of teenID's log viewer may read: the teen
// everything about themself; a guardian, only while their link is active,
// the entries since that link began and never confidential ones (a teen's
// dispute about a guardian stays hidden from guardians until staff act);
// staff everything. Anyone else gets models.ErrNotFound.
func (s *Store) auditScope(db *gorm.DB, viewer models.Actor, teenID int64) (func(*gorm.DB) *gorm.DB, error) {
	all := func(q *gorm.DB) *gorm.DB { return q.Where("teen_id = ?", teenID) }
	if viewer.UserID == 0 {
		return nil, models.ErrNotFound
	}
	switch {
	case viewer.Role == models.RoleTeen:
		var n int64
		if err := db.Model(&teenRow{}).Where("id = ? AND user_id = ?", teenID, viewer.UserID).Count(&n).Error; err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, models.ErrNotFound
		}
		return all, nil
	case viewer.Role == models.RoleGuardian:
		var l linkRow
		if err := db.Where("teen_id = ? AND guardian_id = ? AND state = ?", teenID, viewer.UserID, string(models.LinkActive)).
			Take(&l).Error; err != nil {
			return nil, mapErr(err)
		}
		// The guardian's window opens with the entry that made their link
		// (the first one naming it). Ids, not times, mark it: another entry
		// can share the link's timestamp yet come before it.
		var first []int64
		if err := db.Model(&auditRow{}).Where("teen_id = ? AND link_id = ?", teenID, l.ID).Order("id").Limit(1).Pluck("id", &first).Error; err != nil {
			return nil, err
		}
		if len(first) == 0 {
			since := l.CreatedAt // a link made without an entry (none should be)
			return func(q *gorm.DB) *gorm.DB {
				return q.Where("teen_id = ? AND confidential = ? AND at >= ?", teenID, false, since)
			}, nil
		}
		return func(q *gorm.DB) *gorm.DB {
			return q.Where("teen_id = ? AND confidential = ? AND id >= ?", teenID, false, first[0])
		}, nil
	case viewer.Role.IsStaff():
		var n int64
		if err := db.Model(&teenRow{}).Where("id = ?", teenID).Count(&n).Error; err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, models.ErrNotFound
		}
		return all, nil
	}
	return nil, models.ErrNotFound
}

// AuditEvents returns one page of teenID's audit log as viewer may see it,
// newest first, and how many entries that view holds in all. The teen sees
// every entry about them; a guardian with an active link sees the entries
// since their link began, except confidential ones; staff see all. A
// guardian without an active link, and anyone else, gets models.ErrNotFound.
func (s *Store) AuditEvents(ctx context.Context, viewer models.Actor, teenID int64, page models.Page) ([]models.AuditEvent, int, error) {
	db := s.db.WithContext(ctx)
	scope, err := s.auditScope(db, viewer, teenID)
	if err != nil {
		return nil, 0, err
	}
	var total int64
	if err := db.Model(&auditRow{}).Scopes(scope).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var rows []auditRow
	if err := db.Scopes(scope).Order("id DESC").Offset(page.Offset()).Limit(page.Limit()).Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	return auditModels(rows), int(total), nil
}

// AllAuditEvents returns the whole of teenID's audit log that viewer may
// see (scoped as AuditEvents), oldest first, for the JSON download.
func (s *Store) AllAuditEvents(ctx context.Context, viewer models.Actor, teenID int64) ([]models.AuditEvent, error) {
	db := s.db.WithContext(ctx)
	scope, err := s.auditScope(db, viewer, teenID)
	if err != nil {
		return nil, err
	}
	var rows []auditRow
	if err := db.Scopes(scope).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	return auditModels(rows), nil
}

func auditModels(rows []auditRow) []models.AuditEvent {
	out := make([]models.AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = r.model()
	}
	return out
}

// VerifyAuditChain checks teenID's whole chain, oldest first: each entry's
// PrevHash must be the hash of the entry before it ("" for the first) and
// its Hash must match its contents. It returns nil, or an error wrapping
// models.ErrAuditTampered that names the first entry that fails: a changed
// entry fails its own hash, a removed or reordered one breaks the next
// entry's link. (A chain only proves itself consistent: removing the newest
// entries, or rewriting everything and recomputing every hash, needs an
// anchor kept elsewhere to detect. Retention prunes the oldest entries and
// records the last pruned hash in an audit.pruned entry, which becomes the
// start; see DeleteOldAuditEvents.)
func (s *Store) VerifyAuditChain(ctx context.Context, teenID int64) error {
	db := s.db.WithContext(ctx)
	prev, afterID := "", int64(0)
	// After retention deleted the oldest entries, the chain starts from
	// the hash the newest audit.pruned entry names (it is itself covered
	// by the chain, so it cannot be altered unseen either).
	var pruned []auditRow
	if err := db.Where("teen_id = ? AND action = ?", teenID, models.ActionAuditPruned).Order("id DESC").Limit(1).Find(&pruned).Error; err != nil {
		return err
	}
	if len(pruned) == 1 {
		var after struct {
			ThroughHash string `json:"through_hash"`
		}
		if err := json.Unmarshal([]byte(pruned[0].After), &after); err != nil || after.ThroughHash == "" {
			return fmt.Errorf("%w: entry %d of teen %d does not say where the kept log starts", models.ErrAuditTampered, pruned[0].ID, teenID)
		}
		prev = after.ThroughHash
	}
	const batch = 500
	for {
		var rows []auditRow
		if err := db.Where("teen_id = ? AND id > ?", teenID, afterID).Order("id").Limit(batch).Find(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			if r.PrevHash != prev {
				return fmt.Errorf("%w: entry %d of teen %d does not follow the entry before it (one was removed or reordered)",
					models.ErrAuditTampered, r.ID, teenID)
			}
			if auditHash(r) != r.Hash {
				return fmt.Errorf("%w: entry %d of teen %d was changed after it was written", models.ErrAuditTampered, r.ID, teenID)
			}
			prev, afterID = r.Hash, r.ID
		}
		if len(rows) < batch {
			return nil
		}
	}
}
