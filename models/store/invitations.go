package store

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

// Invitation codes are typed by a teen from a guardian's screen or read
// aloud, so the alphabet leaves out what people confuse: 0/O, 1/I/L. That
// leaves 23 letters and 8 digits, 31 symbols.
//
// Why 12 of them: 31^12 ≈ 7.9e17 codes. Codes work for 48 hours, and typed
// codes are rate limited per teen account and per client IP (the handler's
// throttle). Grant an attacker far more than those limits allow, say 100
// guesses a second from many IPs for the whole 48 hours: 1.7e7 guesses.
// Suppose a million invitations are pending at once (every guardian at the
// cap of 5 would need 200,000 busy guardians). Each guess then hits some
// pending code with probability 1e6 / 7.9e17 ≈ 1.3e-12, so all 1.7e7 guesses
// together find one with probability about 2e-5, and guessing one chosen
// guardian's code about 2e-11. Hopeless, as intended, while 12 characters in
// three groups of four remain easy to type.
const (
	inviteAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
	inviteCodeLen  = 12
)

// NormalizeInviteCode turns a code as a person typed it into its canonical
// form: uppercase, without dashes and spaces. It reports false unless what
// is left is 12 characters of the code alphabet, so a malformed code never
// reaches the database.
func NormalizeInviteCode(s string) (string, bool) {
	if len(s) > 64 {
		return "", false
	}
	var b strings.Builder
	for _, r := range s {
		if r == '-' || unicode.IsSpace(r) {
			continue
		}
		// Checked before changing case: unicode.ToUpper turns some letters
		// beyond ASCII into ASCII ones ('ſ' into 'S').
		if r > unicode.MaxASCII {
			return "", false
		}
		r = unicode.ToUpper(r)
		if !strings.ContainsRune(inviteAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != inviteCodeLen {
		return "", false
	}
	return b.String(), true
}

// FormatInviteCode writes a normalized code as XXXX-XXXX-XXXX, the way it is
// shown and printed. Anything else is returned unchanged.
func FormatInviteCode(code string) string {
	if len(code) != inviteCodeLen {
		return code
	}
	return code[0:4] + "-" + code[4:8] + "-" + code[8:12]
}

// newInviteCode draws a code uniformly from the alphabet with crypto/rand.
// Bytes of 248 and above are dropped, since 248 = 8×31 is the largest
// multiple of 31 that fits in a byte; keeping them would favour some symbols.
func newInviteCode() string {
	out := make([]byte, 0, inviteCodeLen)
	var buf [24]byte
	for len(out) < inviteCodeLen {
		if _, err := rand.Read(buf[:]); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		for _, c := range buf {
			if c < 248 && len(out) < inviteCodeLen {
				out = append(out, inviteAlphabet[int(c)%len(inviteAlphabet)])
			}
		}
	}
	return string(out)
}

type invitationRow struct {
	ID         int64 `gorm:"primaryKey"`
	GuardianID int64
	CodeHash   string
	Label      string
	State      string
	TeenID     *int64
	ExpiresAt  time.Time
	CreatedAt  time.Time
	AnsweredAt *time.Time
}

func (invitationRow) TableName() string { return "invitations" }

type invitationView struct {
	Row           invitationRow `gorm:"embedded"`
	GuardianName  string
	GuardianEmail string
	TeenName      string
}

func (v invitationView) model() models.Invitation {
	r := v.Row
	return models.Invitation{ID: r.ID, GuardianID: r.GuardianID, Label: r.Label, State: models.InvitationState(r.State),
		TeenID: r.TeenID, ExpiresAt: r.ExpiresAt.UTC(), CreatedAt: r.CreatedAt.UTC(), AnsweredAt: utcPtr(r.AnsweredAt),
		GuardianName: v.GuardianName, GuardianEmail: v.GuardianEmail, TeenName: v.TeenName}
}

func invitationQuery(db *gorm.DB) *gorm.DB {
	return db.Table("invitations").
		Select("invitations.*, users.name AS guardian_name, COALESCE(users.email, '') AS guardian_email, COALESCE(teens.display_name, '') AS teen_name").
		Joins("JOIN users ON users.id = invitations.guardian_id").
		Joins("LEFT JOIN teens ON teens.id = invitations.teen_id")
}

// invitationUsable says why an invitation cannot be answered, in the order
// the teen needs to hear it: a withdrawn one is as good as unknown, an
// answered one is used (even if its time has also run out), and only then
// does expiry count.
func invitationUsable(state string, expires, now time.Time) error {
	switch models.InvitationState(state) {
	case models.InvitationWithdrawn:
		return models.ErrNotFound
	case models.InvitationAccepted, models.InvitationDeclined:
		return models.ErrUsed
	}
	if !now.Before(expires) {
		return models.ErrExpired
	}
	return nil
}

// teenOnly admits teens. Guardians and staff get models.ErrForbidden, so the
// page can tell a guardian who typed the code on their own account that the
// teen must enter it; anonymous callers get models.ErrNotFound.
func teenOnly(viewer models.Actor) error {
	switch {
	case viewer.Role == models.RoleGuardian || viewer.Role.IsStaff():
		return models.ErrForbidden
	case viewer.Role != models.RoleTeen || viewer.UserID == 0:
		return models.ErrNotFound
	}
	return nil
}

func validateLabel(label string) (string, error) {
	label = strings.TrimSpace(label)
	switch n := utf8.RuneCountInString(label); {
	case n == 0:
		return "", models.Invalid("label", "Enter who this invitation is for, such as their first name.")
	case n > models.MaxInvitationLabelLen:
		return "", models.Invalid("label", "Keep it to 64 characters or fewer.")
	case !utf8.ValidString(label) || strings.ContainsFunc(label, unicode.IsControl):
		return "", models.Invalid("label", "Use letters, numbers and punctuation only.")
	}
	return label, nil
}

// CreateInvitation makes a single-use invitation from the guardian viewer,
// valid for 48 hours, and returns it with its code formatted XXXX-XXXX-XXXX.
// The code exists in the clear only in this return value: the database keeps
// its SHA-256. label (1–64 characters) reminds the guardian whom it is for.
// A guardian with MaxPendingInvitations unexpired pending invitations is
// refused with a validation error; anyone but a guardian gets
// models.ErrNotFound.
func (s *Store) CreateInvitation(ctx context.Context, viewer models.Actor, label string) (models.Invitation, string, error) {
	if viewer.Role != models.RoleGuardian || viewer.UserID == 0 {
		return models.Invitation{}, "", models.ErrNotFound
	}
	label, err := validateLabel(label)
	if err != nil {
		return models.Invitation{}, "", err
	}
	code := newInviteCode()
	var out models.Invitation
	err = s.tx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()
		// Lock the guardian's row so two concurrent creates cannot both see
		// four pending invitations and make a sixth.
		var u userRow
		if err := tx.Clauses(lockForUpdate).Where("id = ? AND role = ? AND disabled_at IS NULL", viewer.UserID, string(models.RoleGuardian)).
			Take(&u).Error; err != nil {
			return err
		}
		var pending int64
		if err := tx.Model(&invitationRow{}).Where("guardian_id = ? AND state = ? AND expires_at > ?", u.ID, string(models.InvitationPending), now).
			Count(&pending).Error; err != nil {
			return err
		}
		if pending >= models.MaxPendingInvitations {
			return models.Invalid("invitation", "You already have 5 invitations waiting for an answer. Withdraw one or wait for it to expire.")
		}
		// A clash of two random codes (1 in 7.9e17 per pair) would fail the
		// unique index and surface as an error; not worth a retry loop.
		row := invitationRow{GuardianID: u.ID, CodeHash: HashToken(code), Label: label, State: string(models.InvitationPending),
			ExpiresAt: now.Add(models.InvitationTTL), CreatedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		v := invitationView{Row: row, GuardianName: u.Name}
		if u.Email != nil {
			v.GuardianEmail = *u.Email
		}
		out = v.model()
		return nil
	})
	if err != nil {
		return models.Invitation{}, "", err
	}
	return out, FormatInviteCode(code), nil
}

// Invitations returns the guardian viewer's invitations worth showing, newest
// first: every pending one (expired ones too, so the dashboard can say
// "expired" rather than let it vanish) and those answered in the last 7
// days, with the answering teen's name. Withdrawn ones are left out: the
// guardian removed them. Anyone but a guardian gets models.ErrNotFound.
func (s *Store) Invitations(ctx context.Context, viewer models.Actor) ([]models.Invitation, error) {
	if viewer.Role != models.RoleGuardian || viewer.UserID == 0 {
		return nil, models.ErrNotFound
	}
	since := s.stamp().Add(-7 * 24 * time.Hour)
	var vs []invitationView
	err := invitationQuery(s.db.WithContext(ctx)).
		Where("invitations.guardian_id = ?", viewer.UserID).
		Where("invitations.state = ? OR (invitations.state IN ? AND invitations.answered_at >= ?)",
			string(models.InvitationPending), []string{string(models.InvitationAccepted), string(models.InvitationDeclined)}, since).
		Order("invitations.created_at DESC, invitations.id DESC").Find(&vs).Error
	if err != nil {
		return nil, err
	}
	out := make([]models.Invitation, len(vs))
	for i, v := range vs {
		out[i] = v.model()
	}
	return out, nil
}

// WithdrawInvitation takes back one of the guardian viewer's pending
// invitations (expired or not); its code stops working at once. Anything
// else (another guardian's, already answered or withdrawn) is
// models.ErrNotFound. No audit entry is written: an unanswered invitation
// belongs to no teen yet, and the audit log is kept per teen.
func (s *Store) WithdrawInvitation(ctx context.Context, viewer models.Actor, id int64) error {
	if viewer.Role != models.RoleGuardian || viewer.UserID == 0 {
		return models.ErrNotFound
	}
	res := s.db.WithContext(ctx).Model(&invitationRow{}).
		Where("id = ? AND guardian_id = ? AND state = ?", id, viewer.UserID, string(models.InvitationPending)).
		Updates(map[string]any{"state": string(models.InvitationWithdrawn), "answered_at": s.stamp()})
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return models.ErrNotFound
	}
	return nil
}

// InvitationByCode returns the invitation a teen viewer typed or opened,
// with the guardian's name and email, so the teen sees who is asking before
// deciding. Guardians and staff get models.ErrForbidden (the code is for the
// teen to enter); a malformed, unknown or withdrawn code, or one from a
// disabled account, is models.ErrNotFound; an expired one models.ErrExpired;
// an answered one models.ErrUsed.
func (s *Store) InvitationByCode(ctx context.Context, viewer models.Actor, code string) (models.Invitation, error) {
	if err := teenOnly(viewer); err != nil {
		return models.Invitation{}, err
	}
	norm, ok := NormalizeInviteCode(code)
	if !ok {
		return models.Invitation{}, models.ErrNotFound
	}
	var v invitationView
	if err := invitationQuery(s.db.WithContext(ctx)).Where("invitations.code_hash = ? AND users.disabled_at IS NULL", HashToken(norm)).
		Take(&v).Error; err != nil {
		return models.Invitation{}, mapErr(err)
	}
	if err := invitationUsable(v.Row.State, v.Row.ExpiresAt, s.stamp()); err != nil {
		return models.Invitation{}, err
	}
	return v.model(), nil
}

// lockInvitation reads the invitation with the code and, on Postgres, locks
// it: of two concurrent answers to one code, the second waits here and then
// sees the first one's answer.
func lockInvitation(tx *gorm.DB, code string) (invitationRow, person, error) {
	norm, ok := NormalizeInviteCode(code)
	if !ok {
		return invitationRow{}, person{}, models.ErrNotFound
	}
	var inv invitationRow
	if err := tx.Clauses(lockForUpdate).Where("code_hash = ?", HashToken(norm)).Take(&inv).Error; err != nil {
		return invitationRow{}, person{}, err
	}
	var u userRow
	err := tx.Where("id = ? AND disabled_at IS NULL", inv.GuardianID).Take(&u).Error
	if err != nil {
		return invitationRow{}, person{}, err
	}
	g := person{ID: u.ID, Name: u.Name, Role: u.Role}
	if u.Email != nil {
		g.Email = *u.Email
	}
	return inv, g, nil
}

// AcceptInvitation links the teen viewer to the inviting guardian and
// returns the new active link. The caller must have shown the teen who the
// guardian is and had them confirm. In one transaction, and in this order of
// refusals: the invitation must be usable (as in InvitationByCode); the teen
// must be 13–17 (a validation error on "teen"); the guardian must not
// already supervise them (models.ErrAlreadySupervised) and the teen must
// have fewer than 4 guardians (models.ErrTooManyGuardians); both wrap
// models.ErrConflict. Then the link is made, the invitation marked
// accepted, the audit entry written, OnLinkCreated run, and the inviting
// guardian, the other active guardians and the teen told (guardians also by
// email). Concurrent accepts are safe: one code gives exactly one link, and
// the 4-guardian limit holds, because the invitation row and then the teen
// row are locked (Postgres) or the single connection serializes (SQLite).
func (s *Store) AcceptInvitation(ctx context.Context, viewer models.Actor, code string) (models.Link, error) {
	if err := teenOnly(viewer); err != nil {
		return models.Link{}, err
	}
	var out models.Link
	err := s.policyTx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()
		inv, g, err := lockInvitation(tx, code)
		if err != nil {
			return err
		}
		if err := invitationUsable(inv.State, inv.ExpiresAt, now); err != nil {
			return err
		}
		teenRowV, err := lockTeen(tx, "user_id = ?", viewer.UserID)
		if err != nil {
			return err
		}
		teen := teenRowV.model()
		switch age := teen.Age(now); {
		case age > models.MaxSupervisedAge:
			return models.Invalid("teen", "You are 18 or older, so nobody can supervise you on Hearth.")
		case age < models.MinSupervisedAge:
			return models.Invalid("teen", "Hearth supervises ages 13 to 17 only.")
		}
		var live []linkRow
		if err := tx.Where("teen_id = ? AND state IN ?", teen.ID, liveStates).Find(&live).Error; err != nil {
			return err
		}
		for _, l := range live {
			if l.GuardianID == g.ID {
				return models.ErrAlreadySupervised
			}
		}
		if len(live) >= models.MaxGuardians {
			return models.ErrTooManyGuardians
		}
		link := linkRow{TeenID: teen.ID, GuardianID: g.ID, State: string(models.LinkActive), CreatedAt: now}
		if err := tx.Create(&link).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return models.ErrAlreadySupervised // the partial unique index, as a backstop
			}
			return err
		}
		res := tx.Model(&invitationRow{}).Where("id = ? AND state = ?", inv.ID, string(models.InvitationPending)).
			Updates(map[string]any{"state": string(models.InvitationAccepted), "teen_id": teen.ID, "answered_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return models.ErrUsed
		}
		out = linkView{Row: link, GuardianName: g.Name, GuardianEmail: g.Email, TeenName: teen.DisplayName}.model()
		me, err := loadPerson(tx, viewer.UserID)
		if err != nil {
			return err
		}
		if err := s.appendAudit(tx, models.AuditEvent{TeenID: teen.ID, At: now, ActorID: me.ID, ActorRole: me.Role, ActorName: me.Name,
			Action: models.ActionInvitationAccepted, LinkID: &link.ID,
			Before: obj("invitation", string(models.InvitationPending)),
			After:  obj("invitation", string(models.InvitationAccepted), "link", string(models.LinkActive), "guardian", g.Name)}); err != nil {
			return err
		}
		// The teen's rules start (or start again) from the age defaults
		// in this transaction: a supervised teen is never without rules.
		if err := s.syncSupervision(tx, teenRowV, systemActor, &link.ID, now); err != nil {
			return err
		}
		if s.OnLinkCreated != nil {
			if err := s.OnLinkCreated(tx, teen, out); err != nil {
				return err
			}
		}
		name, teenID, path := teen.DisplayName, teen.ID, guardianTeenPath(teen.ID)
		msg := name + " accepted your invitation. You now supervise " + name + "."
		if err := s.notify(tx, g.ID, &teenID, models.NotifyInvitationAccepted, msg, path,
			s.guardianMail(g, name+" accepted your invitation", msg, path)); err != nil {
			return err
		}
		others, err := activeGuardians(tx, teen.ID, g.ID)
		if err != nil {
			return err
		}
		msg = g.Name + " now also supervises " + name + "."
		for _, o := range others {
			if err := s.notify(tx, o.ID, &teenID, models.NotifyLinkStarted, msg, path, s.guardianMail(o, msg, msg, path)); err != nil {
				return err
			}
		}
		return s.notify(tx, teen.UserID, &teenID, models.NotifyLinkStarted,
			g.Name+" now supervises you. You can see everything they see on My supervision.", teenSupervision, nil)
	})
	if err != nil {
		return models.Link{}, err
	}
	return out, nil
}

// DeclineInvitation turns down an invitation for the teen viewer, with the
// same refusals as InvitationByCode. It is recorded in the teen's audit log
// and the guardian is told, in the app and by email. Nothing about the teen
// is shared beyond their name.
func (s *Store) DeclineInvitation(ctx context.Context, viewer models.Actor, code string) error {
	if err := teenOnly(viewer); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()
		inv, g, err := lockInvitation(tx, code)
		if err != nil {
			return err
		}
		if err := invitationUsable(inv.State, inv.ExpiresAt, now); err != nil {
			return err
		}
		teen, err := lockTeen(tx, "user_id = ?", viewer.UserID)
		if err != nil {
			return err
		}
		res := tx.Model(&invitationRow{}).Where("id = ? AND state = ?", inv.ID, string(models.InvitationPending)).
			Updates(map[string]any{"state": string(models.InvitationDeclined), "teen_id": teen.ID, "answered_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return models.ErrUsed
		}
		me, err := loadPerson(tx, viewer.UserID)
		if err != nil {
			return err
		}
		if err := s.appendAudit(tx, models.AuditEvent{TeenID: teen.ID, At: now, ActorID: me.ID, ActorRole: me.Role, ActorName: me.Name,
			Action: models.ActionInvitationDeclined,
			Before: obj("invitation", string(models.InvitationPending)),
			After:  obj("invitation", string(models.InvitationDeclined), "guardian", g.Name)}); err != nil {
			return err
		}
		teenID := teen.ID
		msg := teen.DisplayName + " declined your invitation."
		return s.notify(tx, g.ID, &teenID, models.NotifyInvitationDeclined, msg, guardianHomePath,
			s.guardianMail(g, msg, msg, guardianHomePath))
	})
}

// InvitationRetention is how long an invitation is kept after it expires.
// By then it was answered, withdrawn or left to lapse at least a week ago, so
// the dashboard no longer shows it; the link and the audit log keep the
// history that matters.
const InvitationRetention = 7 * 24 * time.Hour

// DeleteOldInvitations removes invitations whose expiry is more than
// InvitationRetention in the past, whatever their state, and reports how
// many went. The retention job runs it ("invitations are deleted when
// expired", with a week's grace so the guardian sees what became of them).
func (s *Store) DeleteOldInvitations(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at <= ?", s.stamp().Add(-InvitationRetention)).Delete(&invitationRow{})
	return res.RowsAffected, mapErr(res.Error)
}
