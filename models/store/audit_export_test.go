package store

import (
	"context"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

// AppendAuditForTest writes e through appendAudit in a transaction of its
// own, so tests can add entries no public flow writes yet (confidential
// ones come with disputes).
func (s *Store) AppendAuditForTest(ctx context.Context, e models.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error { return s.appendAudit(tx, e) })
}
