package store

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

// Erasure removes a person's data for good. Two paths lead here: a guardian
// deleting their own account, and the messaging service deprovisioning a
// teen. Rows that belong to the person go, through the schema's ON DELETE
// CASCADE from users and teens (links, invitations, requests, policies and
// contacts, alerts and their acknowledgements, rule counts, sign-in links,
// sessions, notifications, webhook deliveries, and for a teen their audit
// chain). Nothing is updated in place, so the audit log's append-only
// trigger, which refuses UPDATE only, never stands in the way.
//
// What stays is what belongs to others: the notifications telling them,
// and, when a guardian leaves, the audit entries about their teens. Those
// entries are part of each teen's hash-chained history and cannot change;
// they keep the name the guardian had at the time (never the email) and
// are deleted with the teen, or after the audit retention period.

// formerGuardianName replaces a deleted guardian's name where a teen's
// rules say who last changed them.
const formerGuardianName = "A former guardian"

// guardianLeftReason is the audit reason of links ended by an account
// deletion.
const guardianLeftReason = "The guardian deleted their Hearth account."

// DeleteGuardianAccount erases the guardian viewer's account once password
// is theirs. In one transaction: every live link ends (audited, the teen
// and the teen's other active guardians told, and a supervision.ended
// webhook queued when it was the teen's last active link, as EndLink
// does); pending invitations stop working; then the account row goes, and
// with it the ended links, invitations, sessions, emailed links,
// notifications, alert acknowledgements and preferences, so the address
// can sign up again. A wrong password is a *models.ValidationError on
// "password"; anyone but a guardian gets models.ErrNotFound.
func (s *Store) DeleteGuardianAccount(ctx context.Context, viewer models.Actor, password string) error {
	if viewer.Role != models.RoleGuardian || viewer.UserID == 0 {
		return models.ErrNotFound
	}
	var u userRow
	if err := s.db.WithContext(ctx).Where("id = ? AND role = ?", viewer.UserID, string(models.RoleGuardian)).Take(&u).Error; err != nil {
		return mapErr(err)
	}
	ok, _, err := models.VerifyPassword(ctx, password, u.PasswordHash)
	if err != nil {
		return err
	}
	if !ok || password == "" {
		return models.Invalid("password", "That isn't your password. Type the password you sign in with.")
	}
	return s.policyTx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()
		g, err := loadPerson(tx, viewer.UserID)
		if err != nil {
			return err
		}
		var live []linkRow
		if err := tx.Where("guardian_id = ? AND state IN ?", g.ID, liveStates).Order("teen_id, id").Find(&live).Error; err != nil {
			return err
		}
		for _, l := range live {
			teen, err := lockTeen(tx, "id = ?", l.TeenID)
			if err != nil {
				return err
			}
			name := teen.DisplayName
			sentence := g.Name + " deleted their Hearth account, so their supervision of " + name + " ended."
			if err := s.endLink(tx, teen, l, g, actorOf(g), sentence, guardianLeftReason, now); err != nil {
				return err
			}
			teenID := teen.ID
			msg := g.Name + " deleted their Hearth account, so their supervision ended. They no longer see anything about you."
			if err := s.notify(tx, teen.UserID, &teenID, models.NotifyLinkEnded, msg, teenSupervision, nil); err != nil {
				return err
			}
			others, err := activeGuardians(tx, teen.ID, g.ID)
			if err != nil {
				return err
			}
			msg = g.Name + " deleted their Hearth account and no longer supervises " + name + "."
			for _, o := range others {
				if err := s.notify(tx, o.ID, &teenID, models.NotifyLinkEnded, msg, guardianTeenPath(teenID),
					s.guardianMail(o, msg, msg, guardianTeenPath(teenID))); err != nil {
					return err
				}
			}
		}
		// The rules' "last changed by" is the teen's page, not a record:
		// it stops naming someone who left.
		var teenIDs []int64
		if err := tx.Model(&linkRow{}).Where("guardian_id = ?", g.ID).Distinct("teen_id").Pluck("teen_id", &teenIDs).Error; err != nil {
			return err
		}
		if len(teenIDs) > 0 {
			if err := tx.Model(&policyRow{}).Where("teen_id IN ? AND updated_by_name = ?", teenIDs, g.Name).
				Update("updated_by_name", formerGuardianName).Error; err != nil {
				return err
			}
		}
		// Withdraw before deleting, so a code being answered right now
		// finds nothing to accept whichever transaction goes first.
		if err := tx.Model(&invitationRow{}).Where("guardian_id = ? AND state = ?", g.ID, string(models.InvitationPending)).
			Updates(map[string]any{"state": string(models.InvitationWithdrawn)}).Error; err != nil {
			return err
		}
		res := tx.Where("id = ? AND role = ?", g.ID, string(models.RoleGuardian)).Delete(&userRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return models.ErrNotFound
		}
		return nil
	})
}

// EraseTeen erases the teen clientID provisioned as platformID, when the
// messaging service deprovisions them. The active guardians are told first,
// by notifications that do not point at the teen (so they outlive the
// erasure) and by email. Then the teen's account row goes and, with it,
// everything about the teen (see Erasure above), their audit chain
// included: erasure is the one legitimate deletion of a whole chain. When
// the teen had rules, a tombstone under a new policy seq tells every node
// to forget them, so a DM check answers not_supervised from then on; the
// write returns once every live node has applied it. No webhook goes out:
// the client asked. An unknown teen, or another client's, is
// models.ErrNotFound.
func (s *Store) EraseTeen(ctx context.Context, clientID int64, platformID string) error {
	return s.policyTx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()
		teen, err := lockTeen(tx, "client_id = ? AND platform_user_id = ?", clientID, platformID)
		if err != nil {
			return err
		}
		guardians, err := activeGuardians(tx, teen.ID)
		if err != nil {
			return err
		}
		msg := teen.DisplayName + "'s account was removed by the messaging service; supervision has ended. Hearth has deleted everything it kept about " +
			teen.DisplayName + "."
		for _, g := range guardians {
			if err := s.notify(tx, g.ID, nil, models.NotifyLinkEnded, msg, guardianHomePath,
				s.guardianMail(g, teen.DisplayName+"'s supervision has ended", msg, guardianHomePath)); err != nil {
				return err
			}
		}
		var rules int64
		if err := tx.Model(&policyRow{}).Where("teen_id = ?", teen.ID).Count(&rules).Error; err != nil {
			return err
		}
		if rules > 0 {
			seq, err := s.nextSeq(tx)
			if err != nil {
				return err
			}
			if err := tx.Create(&tombstoneRow{Seq: seq, ClientID: teen.ClientID, PlatformUserID: teen.PlatformUserID, ErasedAt: now}).Error; err != nil {
				return err
			}
			if err := s.announce(tx, seq); err != nil {
				return err
			}
		}
		res := tx.Where("id = ? AND role = ?", teen.UserID, string(models.RoleTeen)).Delete(&userRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return errors.New("store: the teen's account row is missing")
		}
		return nil
	})
}
