package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/policy"
)

// policyHooks connect the store to the nodes' in-memory copies of the
// rules (the Consistency section of DESIGN.md). It is embedded in Store, so
// the hooks read as Store fields. Set them once at start, before serving.
type policyHooks struct {
	// OnPolicyChanged runs inside every transaction that bumps a teen's
	// change sequence number (seq), after the change is written, with the
	// new seq. On Postgres the node side uses it to pg_notify, which
	// Postgres delivers exactly when the change commits. An error rolls
	// the change back. Nil does nothing.
	OnPolicyChanged func(tx *gorm.DB, seq int64) error

	// AfterPolicyCommit runs after such a transaction committed, with the
	// highest seq it wrote, before the store method returns: the node side
	// applies the change in-process and waits until every live node has
	// applied it, so that a change is answered only once no node decides by
	// the old rules. Nil does nothing.
	AfterPolicyCommit func(ctx context.Context, seq int64)

	// webhooks queues the events clients receive about their teens' rules
	// and supervision (webhooks.go), inside the transaction of the change.
	// Nil records and sends none. Set with SetWebhookOutbox.
	webhooks models.WebhookOutbox
}

// Every change that affects what a DM check must decide for a teen bumps
// the teen's seq, a number global to the database that only grows: an edit
// of the rules, supervision starting (first active link) or stopping (the
// last live link ends), the teen's time zone changing,
// a time-limited permission running out. Nodes apply changes in seq order,
// so numbers must become visible in the order they are handed out: on
// Postgres the sequence policy_seq is taken under a transaction-scoped
// advisory lock, which holds every other bump back until this transaction
// ends; SQLite's single writer does the same for its counter row.

// policySeqLock is the key of the advisory lock that orders seqs on
// Postgres (an arbitrary constant: "hearth-policy-seq" in ASCII, cut to 63
// bits).
const policySeqLock int64 = 0x6865617274687073

// seqCollector gathers the seqs a transaction wrote, for AfterPolicyCommit.
type seqCollector struct{ max int64 }

type seqCollectorKey struct{}

// policyTx is s.tx for transactions that may change what a DM check
// decides. It runs AfterPolicyCommit with the highest seq written once the
// transaction committed. Seqs can only be written inside it (nextSeq
// refuses otherwise), so no path can forget the hook.
func (s *Store) policyTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	c := &seqCollector{}
	if err := s.tx(context.WithValue(ctx, seqCollectorKey{}, c), fn); err != nil {
		return err
	}
	if c.max > 0 && s.AfterPolicyCommit != nil {
		s.AfterPolicyCommit(ctx, c.max)
	}
	return nil
}

// nextSeq hands out the next change number inside tx (see policyTx).
func (s *Store) nextSeq(tx *gorm.DB) (int64, error) {
	if c, _ := tx.Statement.Context.Value(seqCollectorKey{}).(*seqCollector); c == nil {
		return 0, errors.New("store: a policy change outside policyTx would skip AfterPolicyCommit")
	}
	var seq int64
	if s.dialect == Postgres {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", policySeqLock).Error; err != nil {
			return 0, err
		}
		if err := tx.Raw("SELECT nextval('policy_seq')").Scan(&seq).Error; err != nil {
			return 0, err
		}
		return seq, nil
	}
	if err := tx.Raw("UPDATE policy_seq SET value = value + 1 WHERE id = 1 RETURNING value").Scan(&seq).Error; err != nil {
		return 0, err
	}
	if seq == 0 {
		return 0, errors.New("store: the policy_seq counter row is missing")
	}
	return seq, nil
}

// announce records that tx wrote seq: OnPolicyChanged now, and
// AfterPolicyCommit once the transaction commits.
func (s *Store) announce(tx *gorm.DB, seq int64) error {
	c, _ := tx.Statement.Context.Value(seqCollectorKey{}).(*seqCollector)
	if c == nil {
		return errors.New("store: a policy change outside policyTx would skip AfterPolicyCommit")
	}
	c.max = max(c.max, seq)
	if s.OnPolicyChanged != nil {
		return s.OnPolicyChanged(tx, seq)
	}
	return nil
}

// bumpSeq gives teenID's policies row a new seq, when there is a row, so
// every node reloads it: for changes outside the row itself, such as the
// teen's time zone.
func (s *Store) bumpSeq(tx *gorm.DB, teenID int64) error {
	var n int64
	if err := tx.Model(&policyRow{}).Where("teen_id = ?", teenID).Count(&n).Error; err != nil || n == 0 {
		return err
	}
	seq, err := s.nextSeq(tx)
	if err != nil {
		return err
	}
	if err := tx.Model(&policyRow{}).Where("teen_id = ?", teenID).Update("seq", seq).Error; err != nil {
		return err
	}
	return s.announce(tx, seq)
}

type policyRow struct {
	TeenID                  int64 `gorm:"primaryKey;autoIncrement:false"`
	Version                 int64
	Audience                string
	QuietEnabled            bool
	QuietStart              int
	QuietEnd                int
	QuietApprovedExempt     bool
	BlockAdultStrangers     bool
	MediaFriendsOnly        bool
	MinSenderAccountAgeDays int
	Supervised              bool
	Seq                     int64
	UpdatedAt               time.Time
	UpdatedByName           string
	RevertAt                *time.Time
	RevertTo                *string
}

func (policyRow) TableName() string { return "policies" }

type contactRow struct {
	ID             int64 `gorm:"primaryKey"`
	TeenID         int64
	Kind           string
	PlatformUserID string
	Label          string
	CreatedAt      time.Time
}

func (contactRow) TableName() string { return "policy_contacts" }

const (
	contactApproved = "approved"
	contactBlocked  = "blocked"
)

// audienceOf reads a stored audience. The column's CHECK allows only the
// four names; anything else reads as nobody, failing closed.
func audienceOf(s string) policy.Audience {
	a, err := policy.ParseAudience(s)
	if err != nil {
		return policy.AudienceNobody
	}
	return a
}

func (r policyRow) model(contacts []contactRow) models.DMPolicy {
	p := models.DMPolicy{TeenID: r.TeenID, Version: r.Version, Audience: audienceOf(r.Audience),
		QuietEnabled: r.QuietEnabled, QuietStart: uint16(r.QuietStart), QuietEnd: uint16(r.QuietEnd),
		QuietApprovedExempt: r.QuietApprovedExempt, BlockAdultStrangers: r.BlockAdultStrangers,
		MediaFriendsOnly: r.MediaFriendsOnly, MinSenderAccountAgeDays: r.MinSenderAccountAgeDays,
		Approved: []models.Contact{}, Blocked: []models.Contact{},
		UpdatedAt: r.UpdatedAt.UTC(), UpdatedByName: r.UpdatedByName, RevertAt: utcPtr(r.RevertAt)}
	for _, c := range contacts {
		mc := models.Contact{PlatformUserID: c.PlatformUserID, Label: c.Label}
		if c.Kind == contactApproved {
			p.Approved = append(p.Approved, mc)
		} else {
			p.Blocked = append(p.Blocked, mc)
		}
	}
	return p
}

// loadPolicy reads teenID's policies row and contacts (in the order they
// were added). No row is gorm.ErrRecordNotFound. Callers that change the
// rules hold the teen's lock (lockTeen), which serializes every writer of
// the row.
func loadPolicy(tx *gorm.DB, teenID int64) (policyRow, []contactRow, error) {
	var row policyRow
	if err := tx.Where("teen_id = ?", teenID).Take(&row).Error; err != nil {
		return policyRow{}, nil, err
	}
	var cs []contactRow
	if err := tx.Where("teen_id = ?", teenID).Order("id").Find(&cs).Error; err != nil {
		return policyRow{}, nil, err
	}
	return row, cs, nil
}

// cloneRules copies p with contact lists of its own, so normalizing or
// merging never writes into a caller's slices.
func cloneRules(p models.DMPolicy) models.DMPolicy {
	p.Approved = append([]models.Contact{}, p.Approved...)
	p.Blocked = append([]models.Contact{}, p.Blocked...)
	return p
}

func engineOf(p models.DMPolicy) *policy.Policy {
	e := p.Engine(nil)
	return &e
}

// policyWrite is a whole new state of a teen's policies row.
type policyWrite struct {
	rules      models.DMPolicy
	version    int64
	supervised bool
	byName     string
	revertAt   *time.Time
	revertTo   *string
}

// savePolicy writes w as teenID's row (creating it when exists is false),
// makes the contacts match w.rules, and gives the row a new seq.
func (s *Store) savePolicy(tx *gorm.DB, teenID int64, exists bool, old []contactRow, w policyWrite, now time.Time) error {
	seq, err := s.nextSeq(tx)
	if err != nil {
		return err
	}
	r := w.rules
	row := policyRow{TeenID: teenID, Version: w.version, Audience: r.Audience.String(), QuietEnabled: r.QuietEnabled,
		QuietStart: int(r.QuietStart), QuietEnd: int(r.QuietEnd), QuietApprovedExempt: r.QuietApprovedExempt,
		BlockAdultStrangers: r.BlockAdultStrangers, MediaFriendsOnly: r.MediaFriendsOnly,
		MinSenderAccountAgeDays: r.MinSenderAccountAgeDays, Supervised: w.supervised, Seq: seq, UpdatedAt: now,
		UpdatedByName: w.byName, RevertAt: w.revertAt, RevertTo: w.revertTo}
	if !exists {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
	} else if err := tx.Model(&policyRow{}).Where("teen_id = ?", teenID).Updates(map[string]any{
		"version": row.Version, "audience": row.Audience, "quiet_enabled": row.QuietEnabled, "quiet_start": row.QuietStart,
		"quiet_end": row.QuietEnd, "quiet_approved_exempt": row.QuietApprovedExempt,
		"block_adult_strangers": row.BlockAdultStrangers, "media_friends_only": row.MediaFriendsOnly,
		"min_sender_account_age_days": row.MinSenderAccountAgeDays, "supervised": row.Supervised, "seq": seq,
		"updated_at": now, "updated_by_name": row.UpdatedByName, "revert_at": row.RevertAt, "revert_to": row.RevertTo,
	}).Error; err != nil {
		return err
	}
	if err := syncContacts(tx, teenID, old, r, now); err != nil {
		return err
	}
	return s.announce(tx, seq)
}

// syncContacts makes teenID's contact rows say what p's lists say, touching
// only what differs: a contact kept keeps its place and its created_at.
func syncContacts(tx *gorm.DB, teenID int64, old []contactRow, p models.DMPolicy, now time.Time) error {
	type want struct{ kind, label string }
	desired := make(map[string]want, len(p.Approved)+len(p.Blocked))
	for _, c := range p.Approved {
		desired[c.PlatformUserID] = want{contactApproved, c.Label}
	}
	for _, c := range p.Blocked {
		desired[c.PlatformUserID] = want{contactBlocked, c.Label}
	}
	kept := make(map[string]bool, len(old))
	var gone []int64
	for _, o := range old {
		d, ok := desired[o.PlatformUserID]
		switch {
		case !ok || d.kind != o.Kind:
			gone = append(gone, o.ID)
		case d.label != o.Label:
			if err := tx.Model(&contactRow{}).Where("id = ?", o.ID).Update("label", d.label).Error; err != nil {
				return err
			}
			kept[o.PlatformUserID] = true
		default:
			kept[o.PlatformUserID] = true
		}
	}
	if len(gone) > 0 {
		if err := tx.Where("id IN ?", gone).Delete(&contactRow{}).Error; err != nil {
			return err
		}
	}
	var add []contactRow
	for kind, list := range map[string][]models.Contact{contactApproved: p.Approved, contactBlocked: p.Blocked} {
		for _, c := range list {
			if !kept[c.PlatformUserID] {
				add = append(add, contactRow{TeenID: teenID, Kind: kind, PlatformUserID: c.PlatformUserID, Label: c.Label, CreatedAt: now})
			}
		}
	}
	if len(add) == 0 {
		return nil
	}
	return tx.CreateInBatches(&add, 500).Error
}

// syncSupervision makes teen's policies row agree with whether the teen has
// a live link, inside the transaction that just changed the teen's
// links (which holds the teen's lock). Every path that makes, ends,
// suspends or reinstates a link must call it:
//
//   - First active link, no row yet: the rules start from the age defaults
//     (policy.Defaults), version 1.
//   - Active again after supervision had stopped: the rules start again
//     from the age defaults, as new supervision does by DESIGN.md, with the
//     next version. The kept rules are not revived silently: the audit log
//     holds them, and the change is recorded.
//   - No live link left: supervised = false and a new seq, so every node
//     drops the teen; the rules are kept for the history, a time-limited
//     permission is dropped, and pending loosening requests, which nobody
//     can answer any more, are cancelled.
//
// A suspended link counts as live: staff suspend a guardian while they look
// into a problem, the guardian loses access, and the rules stay in force.
//
// The first two queue a supervision.started webhook, the third a
// supervision.ended one with the reason (queueWebhook), for the client that
// provisioned the teen. Anything else changes nothing. by is who caused it,
// for the audit log and the reason; linkID the link that started or ended,
// if any.
func (s *Store) syncSupervision(tx *gorm.DB, teen teenRow, by auditActor, linkID *int64, now time.Time) error {
	var active int64
	if err := tx.Model(&linkRow{}).Where("teen_id = ? AND state IN ?", teen.ID, liveStates).Count(&active).Error; err != nil {
		return err
	}
	row, contacts, err := loadPolicy(tx, teen.ID)
	exists := err == nil
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return err
	}
	switch {
	case active > 0 && (!exists || !row.Supervised):
		m := teen.model()
		age := m.Age(now)
		defaults := models.DMPolicyFrom(teen.ID, policy.Defaults(age, m.Location()))
		version := int64(1)
		if exists {
			version = row.Version + 1
		}
		if err := s.savePolicy(tx, teen.ID, exists, contacts, policyWrite{rules: defaults, version: version, supervised: true,
			byName: systemActor.name}, now); err != nil {
			return err
		}
		if err := s.queueWebhook(tx, teen, models.WebhookSupervisionStarted, version, "", now); err != nil {
			return err
		}
		if !exists {
			// Version 1 is the documented age defaults, and the entry that
			// made the link (invitation.accepted) records when they began.
			return nil
		}
		return s.appendAudit(tx, models.AuditEvent{TeenID: teen.ID, At: now, ActorRole: systemActor.role, ActorName: systemActor.name,
			Action: models.ActionPolicyChanged, LinkID: linkID,
			Reason: fmt.Sprintf("Supervision started again: the rules start from the defaults for age %d.", age),
			Before: auditRules(row.model(contacts), row.Version), After: auditRules(defaults, version)})
	case active == 0 && exists && row.Supervised:
		seq, err := s.nextSeq(tx)
		if err != nil {
			return err
		}
		if err := tx.Model(&policyRow{}).Where("teen_id = ?", teen.ID).Updates(map[string]any{
			"supervised": false, "seq": seq, "revert_at": nil, "revert_to": nil}).Error; err != nil {
			return err
		}
		if err := s.announce(tx, seq); err != nil {
			return err
		}
		reason, err := supervisionEndReason(tx, teen, by, linkID, now)
		if err != nil {
			return err
		}
		if err := s.queueWebhook(tx, teen, models.WebhookSupervisionEnded, row.Version, reason, now); err != nil {
			return err
		}
		return s.cancelLoosenRequests(tx, teen.ID, by, now)
	}
	return nil
}

// versioned is rules as the audit log records them: the version they
// were, then the rules in their compact JSON form.
type versioned struct {
	Version int64 `json:"version"`
	models.PolicyRules
}

// auditRules is p as the audit log records it, labelled with version.
func auditRules(p models.DMPolicy, version int64) json.RawMessage {
	return mustJSON(versioned{Version: version, PolicyRules: p.Rules()})
}

// cancelLoosenRequests cancels teenID's pending loosening requests, with an
// audit entry each, when no guardian is left to answer them.
func (s *Store) cancelLoosenRequests(tx *gorm.DB, teenID int64, by auditActor, now time.Time) error {
	var pending []requestRow
	if err := tx.Where("teen_id = ? AND kind = ? AND state = ?", teenID, string(models.RequestLoosenPolicy), string(models.RequestPending)).
		Order("id").Find(&pending).Error; err != nil {
		return err
	}
	for _, r := range pending {
		if err := tx.Model(&requestRow{}).Where("id = ? AND state = ?", r.ID, string(models.RequestPending)).
			Updates(map[string]any{"state": string(models.RequestCancelled), "decided_at": now}).Error; err != nil {
			return err
		}
		if err := s.appendAudit(tx, models.AuditEvent{TeenID: teenID, At: now, ActorID: by.id, ActorRole: by.role, ActorName: by.name,
			Action: models.ActionRequestCancelled, Reason: "No guardian supervises the teen any more to answer it.",
			Before: obj("state", string(models.RequestPending), "kind", r.Kind, "request_id", r.ID),
			After:  obj("state", string(models.RequestCancelled), "kind", r.Kind, "request_id", r.ID)}); err != nil {
			return err
		}
	}
	return nil
}

// policyViewer says whether viewer may edit teen's rules and as whom: the
// teen themself (byTeen) or a guardian with an active link. Anyone else is
// models.ErrNotFound.
func policyViewer(tx *gorm.DB, viewer models.Actor, teen teenRow) (byTeen bool, err error) {
	switch {
	case viewer.UserID == 0:
		return false, models.ErrNotFound
	case viewer.Role == models.RoleTeen && teen.UserID == viewer.UserID:
		return true, nil
	case viewer.Role == models.RoleGuardian:
		var n int64
		if err := tx.Model(&linkRow{}).Where("teen_id = ? AND guardian_id = ? AND state = ?", teen.ID, viewer.UserID,
			string(models.LinkActive)).Count(&n).Error; err != nil {
			return false, err
		}
		if n > 0 {
			return false, nil
		}
	}
	return false, models.ErrNotFound
}

// TeenPolicy returns teenID's DM rules for viewer: the teen themself, a
// guardian with an active link, or staff. While nobody supervises the teen
// their rules do not apply, and only staff still see the kept ones. A teen
// who never had rules, anyone else, and a missing teen are all
// models.ErrNotFound.
func (s *Store) TeenPolicy(ctx context.Context, viewer models.Actor, teenID int64) (models.DMPolicy, error) {
	db := s.db.WithContext(ctx)
	var teen teenRow
	if err := db.Where("id = ?", teenID).Take(&teen).Error; err != nil {
		return models.DMPolicy{}, mapErr(err)
	}
	staff := viewer.UserID != 0 && viewer.Role.IsStaff()
	if !staff {
		if _, err := policyViewer(db, viewer, teen); err != nil {
			return models.DMPolicy{}, err
		}
	}
	row, contacts, err := loadPolicy(db, teenID)
	if err != nil {
		return models.DMPolicy{}, mapErr(err)
	}
	if !row.Supervised && !staff {
		return models.DMPolicy{}, models.ErrNotFound
	}
	return row.model(contacts), nil
}

// TeenPolicyByPlatformID returns the rules of the teen the service client
// clientID provisioned as platformUserID, and whether they apply (the teen
// has an active link), for GET /api/v1/teens/{id}/policy. A teen who was
// never supervised gets empty rules (TeenID set, Version 0) and false; one
// no longer supervised the kept rules and false. A teen of another client,
// or none, is models.ErrNotFound.
func (s *Store) TeenPolicyByPlatformID(ctx context.Context, clientID int64, platformUserID string) (models.DMPolicy, bool, error) {
	db := s.db.WithContext(ctx)
	var teen teenRow
	if err := db.Select("id").Where("client_id = ? AND platform_user_id = ?", clientID, platformUserID).Take(&teen).Error; err != nil {
		return models.DMPolicy{}, false, mapErr(err)
	}
	row, contacts, err := loadPolicy(db, teen.ID)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.DMPolicy{TeenID: teen.ID, Approved: []models.Contact{}, Blocked: []models.Contact{}}, false, nil
	}
	if err != nil {
		return models.DMPolicy{}, false, err
	}
	return row.model(contacts), row.Supervised, nil
}

// PolicyChange is an edit of a teen's rules as a person submits it.
type PolicyChange struct {
	// Rules are the whole desired rules; TeenID, Version and the
	// bookkeeping fields are ignored.
	Rules models.DMPolicy
	// ExpectVersion is the version the person saw; any other current
	// version is models.ErrStale.
	ExpectVersion int64
	// Reason is the person's own words, optional, at most 500 characters.
	Reason string
}

// prepare normalizes and validates a change's rules.
func (ch PolicyChange) prepare() (models.DMPolicy, string, error) {
	next := cloneRules(ch.Rules)
	next.Normalize()
	if err := next.Validate(); err != nil {
		return models.DMPolicy{}, "", err
	}
	reason, err := cleanReason("reason", ch.Reason)
	if err != nil {
		return models.DMPolicy{}, "", err
	}
	return next, reason, nil
}

// UpdatePolicy changes teenID's DM rules to ch.Rules as viewer and returns
// the rules now in force. In this order of refusals: invalid rules are a
// *models.ValidationError naming each field (see DMPolicy.Validate) and a
// reason over 500 characters one on "reason"; a viewer who is neither the
// teen nor a guardian with an active link, and a teen nobody supervises,
// get models.ErrNotFound; ch.ExpectVersion other than the current version
// is models.ErrStale. Rules identical to the current ones change nothing
// (no new version). A teen of 13–15 may only make the rules stricter
// (policy.Stricter) and gets models.ErrNeedsApproval for anything else
// (RequestLoosening asks the guardians); 16 and over may change anything,
// as may guardians. A change gets the next version and a new seq, ends any
// time-limited permission ("until changed"), is audited with the rules
// before and after and ch.Reason, and is told, with what changed, to the
// teen and the other active guardians (guardians also by email).
func (s *Store) UpdatePolicy(ctx context.Context, viewer models.Actor, teenID int64, ch PolicyChange) (models.DMPolicy, error) {
	next, reason, err := ch.prepare()
	if err != nil {
		return models.DMPolicy{}, err
	}
	if viewer.UserID == 0 || (viewer.Role != models.RoleGuardian && viewer.Role != models.RoleTeen) {
		return models.DMPolicy{}, models.ErrNotFound
	}
	var out models.DMPolicy
	err = s.policyTx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()
		teen, err := lockTeen(tx, "id = ?", teenID)
		if err != nil {
			return err
		}
		byTeen, err := policyViewer(tx, viewer, teen)
		if err != nil {
			return err
		}
		row, contacts, err := loadPolicy(tx, teen.ID)
		if err != nil {
			return err
		}
		if !row.Supervised {
			return models.ErrNotFound
		}
		cur := row.model(contacts)
		if ch.ExpectVersion != row.Version {
			return models.ErrStale
		}
		if models.SameRules(cur, next) {
			out = cur
			return nil
		}
		if byTeen && teen.model().BirthMonth.AgeAt(now) < 16 && !policy.Stricter(engineOf(cur), engineOf(next)) {
			return models.ErrNeedsApproval
		}
		me, err := loadPerson(tx, viewer.UserID)
		if err != nil {
			return err
		}
		changes, err := s.changeRules(tx, teen, row, contacts, next, actorOf(me), reason, nil, now)
		if err != nil {
			return err
		}
		summary := models.SummarizeChanges(changes)
		toTeen := me.Name + " changed your message rules: " + summary + "."
		toGuardians := me.Name + " changed " + teen.DisplayName + "'s message rules: " + summary + "."
		if byTeen {
			toGuardians = teen.DisplayName + " changed their message rules: " + summary + "."
		}
		if err := s.tellPolicyChange(tx, teen, me.ID, models.NotifyPolicyChanged, toTeen, toGuardians); err != nil {
			return err
		}
		if out, err = reloadPolicy(tx, teen.ID); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return models.DMPolicy{}, err
	}
	return out, nil
}

func reloadPolicy(tx *gorm.DB, teenID int64) (models.DMPolicy, error) {
	row, contacts, err := loadPolicy(tx, teenID)
	if err != nil {
		return models.DMPolicy{}, err
	}
	return row.model(contacts), nil
}

// grant is a time-limited permission to set with a change.
type grant struct {
	until  time.Time
	revert models.DMPolicy
}

// changeRules replaces the supervised teen's rules (row, contacts) with
// next as by, inside tx which holds the teen's lock: next version, new seq,
// the audit entry with before and after. It ends any time-limited
// permission, or starts one when g is set, and queues the policy.updated
// webhook for the teen's client. It returns what changed, as
// DescribeChanges words it. Telling people is the caller's job.
func (s *Store) changeRules(tx *gorm.DB, teen teenRow, row policyRow, contacts []contactRow, next models.DMPolicy,
	by auditActor, reason string, g *grant, now time.Time) ([]string, error) {
	cur := row.model(contacts)
	w := policyWrite{rules: next, version: row.Version + 1, supervised: row.Supervised, byName: by.name}
	if g != nil {
		until := g.until.UTC().Truncate(time.Microsecond)
		to := string(g.revert.JSON())
		w.revertAt, w.revertTo = &until, &to
	}
	if err := s.savePolicy(tx, teen.ID, true, contacts, w, now); err != nil {
		return nil, err
	}
	if err := s.appendAudit(tx, models.AuditEvent{TeenID: teen.ID, At: now, ActorID: by.id, ActorRole: by.role, ActorName: by.name,
		Action: models.ActionPolicyChanged, Reason: reason,
		Before: auditRules(cur, row.Version), After: auditRules(next, w.version)}); err != nil {
		return nil, err
	}
	if row.Supervised {
		if err := s.queueWebhook(tx, teen, models.WebhookPolicyUpdated, w.version, "", now); err != nil {
			return nil, err
		}
	}
	return models.DescribeChanges(cur, next), nil
}

// Where people read their rules: the teen's and the guardian's Messages
// pages.
const teenRulesPath = "/teen/messages"

func guardianRulesPath(teenID int64) string { return guardianTeenPath(teenID) + "/messages" }

// tellPolicyChange tells the teen (toTeen, unless empty) and every active
// guardian (toGuardians, also by email) about something that happened to
// the teen's rules, except the person who did it (except; 0 for Hearth
// itself).
func (s *Store) tellPolicyChange(tx *gorm.DB, teen teenRow, except int64, kind, toTeen, toGuardians string) error {
	teenID := teen.ID
	if teen.UserID != except && toTeen != "" {
		if err := s.notify(tx, teen.UserID, &teenID, kind, toTeen, teenRulesPath, nil); err != nil {
			return err
		}
	}
	guardians, err := activeGuardians(tx, teen.ID, except)
	if err != nil {
		return err
	}
	path := guardianRulesPath(teen.ID)
	for _, g := range guardians {
		if err := s.notify(tx, g.ID, &teenID, kind, toGuardians, path,
			s.guardianMail(g, teen.DisplayName+"'s message rules", toGuardians, path)); err != nil {
			return err
		}
	}
	return nil
}

// RequestLoosening sends a 13–15-year-old teen viewer's wish for looser
// rules (ch.Rules, based on version ch.ExpectVersion) to all of their
// active guardians, any of whom may approve it with DecideLoosening. The
// reason is required (at most 500 characters): guardians decide on it.
// Refusals: invalid rules or reason, a *models.ValidationError; anyone but
// a supervised teen, models.ErrNotFound; a teen of 16 or over (a
// validation error on "rules": they just save), rules that are not looser
// in any way (a validation error on "rules": stricter changes need no
// approval), models.ErrStale for an old version, and
// models.ErrRequestPending while another loosening request waits. The
// request's payload is a models.LoosenPayload; the guardians are told in
// the app and by email.
func (s *Store) RequestLoosening(ctx context.Context, viewer models.Actor, ch PolicyChange) (models.Request, error) {
	if viewer.Role != models.RoleTeen || viewer.UserID == 0 {
		return models.Request{}, models.ErrNotFound
	}
	next, reason, err := ch.prepare()
	if err != nil {
		return models.Request{}, err
	}
	if reason == "" {
		return models.Request{}, models.Invalid("reason", "Tell your guardians why you'd like this change.")
	}
	var out models.Request
	err = s.tx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()
		teen, err := lockTeen(tx, "user_id = ?", viewer.UserID)
		if err != nil {
			return err
		}
		row, contacts, err := loadPolicy(tx, teen.ID)
		if err != nil {
			return err
		}
		if !row.Supervised {
			return models.ErrNotFound
		}
		if teen.model().BirthMonth.AgeAt(now) >= 16 {
			return models.Invalid("rules", "At 16 and over you can change your rules yourself: just save them, no need to ask.")
		}
		if ch.ExpectVersion != row.Version {
			return models.ErrStale
		}
		cur := row.model(contacts)
		loosens := policy.Loosenings(engineOf(cur), engineOf(next))
		if len(loosens) == 0 {
			return models.Invalid("rules", "These changes only make your rules stricter (or change nothing), so you can save them yourself without asking.")
		}
		var n int64
		if err := tx.Model(&requestRow{}).Where("teen_id = ? AND kind = ? AND state = ?", teen.ID, string(models.RequestLoosenPolicy),
			string(models.RequestPending)).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return models.ErrRequestPending
		}
		changes := models.DescribeChanges(cur, next)
		payload, err := json.Marshal(models.LoosenPayload{BaseVersion: row.Version, Base: cur.Rules(), Rules: next.Rules(),
			Changes: changes, Loosens: loosens})
		if err != nil {
			return err
		}
		r := requestRow{TeenID: teen.ID, Kind: string(models.RequestLoosenPolicy), State: string(models.RequestPending),
			Reason: reason, Payload: string(payload), CreatedAt: now}
		if err := tx.Create(&r).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return models.ErrRequestPending
			}
			return err
		}
		me, err := loadPerson(tx, viewer.UserID)
		if err != nil {
			return err
		}
		if err := s.appendAudit(tx, models.AuditEvent{TeenID: teen.ID, At: now, ActorID: me.ID, ActorRole: me.Role, ActorName: me.Name,
			Action: models.ActionRequestCreated, Reason: reason, Before: obj(),
			After: mustJSON(map[string]any{"state": string(models.RequestPending), "kind": r.Kind, "request_id": r.ID,
				"base_version": row.Version, "rules": next.Rules()})}); err != nil {
			return err
		}
		out = requestView{Row: r, TeenName: teen.DisplayName}.model()
		guardians, err := activeGuardians(tx, teen.ID)
		if err != nil {
			return err
		}
		name, teenID, path := teen.DisplayName, teen.ID, guardianRulesPath(teen.ID)
		msg := name + " asked for looser message rules: " + models.SummarizeChanges(changes) +
			". You can approve or decline it on " + name + "'s page."
		for _, g := range guardians {
			if err := s.notify(tx, g.ID, &teenID, models.NotifyRequestCreated, msg, path,
				s.guardianMail(g, name+" asked for looser message rules", msg, path)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return models.Request{}, err
	}
	return out, nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain data goes in
	}
	return b
}

// DecideLoosening approves or declines a pending loosening request as the
// guardian viewer, who must have an active link to the teen (anyone else,
// and a request of another kind, get models.ErrNotFound; an answered one is
// a models.ErrConflict). note (at most 500 characters) is shown to the
// teen. duration is how long an approval lasts: models.GrantUntilChanged
// (0), GrantOneHour or GrantOneDay; anything else is a validation error on
// "duration".
//
// Approving applies the requested rules as a change by the guardian (next
// version, new seq, audit, the teen and the other guardians told). If the
// rules changed since the teen asked, only what the teen asked to change
// (the difference between the rules they saw and the rules they asked for)
// is applied on top of the current rules, so a later change by someone
// else is not undone; if that leaves nothing to change, the request is
// approved without a new version. With a duration, the rules go back to
// what they were before the approval at now+duration (RevertExpiredGrants),
// unless someone changes them before. Declining changes nothing; the teen
// is told either way, and so are the other guardians.
func (s *Store) DecideLoosening(ctx context.Context, viewer models.Actor, requestID int64, approve bool, note string, duration time.Duration) error {
	if viewer.Role != models.RoleGuardian || viewer.UserID == 0 {
		return models.ErrNotFound
	}
	note, err := cleanReason("note", note)
	if err != nil {
		return err
	}
	if !models.ValidGrantDuration(duration) {
		return models.Invalid("duration", "Choose how long: 1 hour, 1 day, or until the rules are changed.")
	}
	return s.policyTx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()
		var r requestRow
		if err := tx.Where("id = ? AND kind = ?", requestID, string(models.RequestLoosenPolicy)).Take(&r).Error; err != nil {
			return err
		}
		teen, err := lockTeen(tx, "id = ?", r.TeenID)
		if err != nil {
			return err
		}
		if byTeen, err := policyViewer(tx, viewer, teen); err != nil || byTeen {
			return models.ErrNotFound
		}
		if err := tx.Clauses(lockForUpdate).Where("id = ?", requestID).Take(&r).Error; err != nil {
			return err
		}
		if r.State != string(models.RequestPending) {
			return errAnswered
		}
		var p models.LoosenPayload
		if err := json.Unmarshal([]byte(r.Payload), &p); err != nil {
			return fmt.Errorf("store: loosen request %d has an unreadable payload: %w", r.ID, err)
		}
		state, action := models.RequestDeclined, models.ActionRequestDeclined
		if approve {
			state, action = models.RequestApproved, models.ActionRequestApproved
		}
		res := tx.Model(&requestRow{}).Where("id = ? AND state = ?", r.ID, string(models.RequestPending)).
			Updates(map[string]any{"state": string(state), "decided_at": now, "decided_by": viewer.UserID, "decision_note": note})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return errAnswered
		}
		g, err := loadPerson(tx, viewer.UserID)
		if err != nil {
			return err
		}
		lasts := grantWords(duration)
		after := map[string]any{"state": string(state), "kind": r.Kind, "request_id": r.ID}
		if approve {
			after["duration"] = lasts
		}
		if err := s.appendAudit(tx, models.AuditEvent{TeenID: teen.ID, At: now, ActorID: g.ID, ActorRole: g.Role, ActorName: g.Name,
			Action: action, Reason: note,
			Before: obj("state", string(models.RequestPending), "kind", r.Kind, "request_id", r.ID),
			After:  mustJSON(after)}); err != nil {
			return err
		}
		name, teenID := teen.DisplayName, teen.ID
		noteSuffix := ""
		if note != "" {
			noteSuffix = " They wrote: “" + note + "”"
		}
		if !approve {
			if err := s.notify(tx, teen.UserID, &teenID, models.NotifyRequestDecided,
				g.Name+" declined your request to loosen your message rules."+noteSuffix, teenRulesPath, nil); err != nil {
				return err
			}
			return s.tellPolicyChange(tx, teen, g.ID, models.NotifyRequestDecided, "", g.Name+" declined "+name+"'s request for looser message rules.")
		}
		row, contacts, err := loadPolicy(tx, teen.ID)
		if err != nil {
			return err
		}
		if !row.Supervised {
			return models.ErrNotFound // cannot happen: the viewer's link is active
		}
		cur := row.model(contacts)
		base, err1 := p.Base.Policy(teen.ID)
		want, err2 := p.Rules.Policy(teen.ID)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("store: loosen request %d has unreadable rules: %w", r.ID, err)
		}
		next := want
		if p.BaseVersion != row.Version {
			next = applyRequested(base, want, cur)
		}
		next.Normalize()
		if err := next.Validate(); err != nil {
			return err
		}
		if models.SameRules(cur, next) {
			return s.notify(tx, teen.UserID, &teenID, models.NotifyRequestDecided,
				g.Name+" approved your request; your message rules already allowed it."+noteSuffix, teenRulesPath, nil)
		}
		var gr *grant
		until := ""
		if duration > 0 {
			gr = &grant{until: now.Add(duration), revert: cur}
			m := teen.model()
			until = " (until " + now.Add(duration).In(m.Location()).Format("15:04 on 2 Jan") + ")"
		}
		reason := "Approved " + name + "'s request " + lasts + "."
		if note != "" {
			reason += " " + note
		}
		changes, err := s.changeRules(tx, teen, row, contacts, next, actorOf(g), reason, gr, now)
		if err != nil {
			return err
		}
		summary := models.SummarizeChanges(changes)
		toTeen := g.Name + " approved your request " + lasts + until + ". Your message rules changed: " + summary + "." + noteSuffix
		toGuardians := g.Name + " approved " + name + "'s request " + lasts + " and changed " + name + "'s message rules: " + summary + "."
		if err := s.notify(tx, teen.UserID, &teenID, models.NotifyRequestDecided, toTeen, teenRulesPath, nil); err != nil {
			return err
		}
		return s.tellPolicyChange(tx, teen, g.ID, models.NotifyPolicyChanged, "", toGuardians)
	})
}

func grantWords(d time.Duration) string {
	switch d {
	case models.GrantOneHour:
		return "for 1 hour"
	case models.GrantOneDay:
		return "for 1 day"
	}
	return "until the rules are changed"
}

// applyRequested returns cur with the changes the teen asked for (from base
// to want) applied, field by field and contact by contact; what the teen
// left as it was keeps its current value.
func applyRequested(base, want, cur models.DMPolicy) models.DMPolicy {
	out := cloneRules(cur)
	if want.Audience != base.Audience {
		out.Audience = want.Audience
	}
	if want.QuietEnabled != base.QuietEnabled {
		out.QuietEnabled = want.QuietEnabled
	}
	if want.QuietStart != base.QuietStart || want.QuietEnd != base.QuietEnd {
		out.QuietStart, out.QuietEnd = want.QuietStart, want.QuietEnd
	}
	if want.QuietApprovedExempt != base.QuietApprovedExempt {
		out.QuietApprovedExempt = want.QuietApprovedExempt
	}
	if want.BlockAdultStrangers != base.BlockAdultStrangers {
		out.BlockAdultStrangers = want.BlockAdultStrangers
	}
	if want.MediaFriendsOnly != base.MediaFriendsOnly {
		out.MediaFriendsOnly = want.MediaFriendsOnly
	}
	if want.MinSenderAccountAgeDays != base.MinSenderAccountAgeDays {
		out.MinSenderAccountAgeDays = want.MinSenderAccountAgeDays
	}
	out.Approved = mergeList(base.Approved, want.Approved, cur.Approved)
	out.Blocked = mergeList(base.Blocked, want.Blocked, cur.Blocked)
	// An ID the teen asked to approve leaves the blocked list, and one they
	// asked to block leaves the approved list.
	out.Blocked = without(out.Blocked, added(base.Approved, want.Approved))
	out.Approved = without(out.Approved, added(base.Blocked, want.Blocked))
	return out
}

// mergeList applies the difference between base and want to cur: entries
// added in want are added, relabelled ones take the new label, removed
// ones are dropped. A relabelled entry that is no longer in cur stays out.
func mergeList(base, want, cur []models.Contact) []models.Contact {
	b := make(map[string]string, len(base))
	for _, c := range base {
		b[c.PlatformUserID] = c.Label
	}
	w := make(map[string]string, len(want))
	for _, c := range want {
		w[c.PlatformUserID] = c.Label
	}
	out := make([]models.Contact, 0, len(cur)+len(want))
	have := map[string]bool{}
	for _, c := range cur {
		label, inWant := w[c.PlatformUserID]
		_, inBase := b[c.PlatformUserID]
		switch {
		case inBase && !inWant:
			continue // the teen removed it
		case inWant && (!inBase || b[c.PlatformUserID] != label):
			c.Label = label // the teen added or relabelled it
		}
		out = append(out, c)
		have[c.PlatformUserID] = true
	}
	for _, c := range want {
		if _, inBase := b[c.PlatformUserID]; !have[c.PlatformUserID] && !inBase {
			out = append(out, c)
			have[c.PlatformUserID] = true
		}
	}
	return out
}

// added returns the IDs in want but not in base.
func added(base, want []models.Contact) map[string]bool {
	b := make(map[string]bool, len(base))
	for _, c := range base {
		b[c.PlatformUserID] = true
	}
	out := map[string]bool{}
	for _, c := range want {
		if !b[c.PlatformUserID] {
			out[c.PlatformUserID] = true
		}
	}
	return out
}

func without(list []models.Contact, ids map[string]bool) []models.Contact {
	out := list[:0:0]
	for _, c := range list {
		if !ids[c.PlatformUserID] {
			out = append(out, c)
		}
	}
	return out
}

// requestKind returns the kind of request id, or "" when there is none.
// The kind never changes, so it may be read before any lock.
func (s *Store) requestKind(ctx context.Context, id int64) models.RequestKind {
	var kinds []string
	s.db.WithContext(ctx).Model(&requestRow{}).Where("id = ?", id).Limit(1).Pluck("kind", &kinds)
	if len(kinds) == 0 {
		return ""
	}
	return models.RequestKind(kinds[0])
}

// RevertExpiredGrants ends every time-limited permission whose time has
// come (revert_at at or before now), for a job that runs every minute: the
// rules go back to what they were before the approval, as a change by
// Hearth (next version, new seq, audit entry by "system"), and the teen and
// the active guardians are told. Each teen is handled in a transaction of
// its own, so one failure does not hold back the others; it reports how
// many it reverted and the errors joined.
func (s *Store) RevertExpiredGrants(ctx context.Context) (int, error) {
	var ids []int64
	if err := s.db.WithContext(ctx).Model(&policyRow{}).Where("revert_at IS NOT NULL AND revert_at <= ?", s.stamp()).
		Order("revert_at").Pluck("teen_id", &ids).Error; err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, id := range ids {
		done, err := s.revertGrant(ctx, id)
		if err != nil {
			errs = append(errs, fmt.Errorf("revert the rules of teen %d: %w", id, err))
		}
		if done {
			n++
		}
	}
	return n, errors.Join(errs...)
}

func (s *Store) revertGrant(ctx context.Context, teenID int64) (bool, error) {
	done := false
	err := s.policyTx(ctx, func(tx *gorm.DB) error {
		done = false
		now := s.stamp()
		teen, err := lockTeen(tx, "id = ?", teenID)
		if err != nil {
			return err
		}
		row, contacts, err := loadPolicy(tx, teenID)
		if err != nil {
			return err
		}
		if row.RevertAt == nil || row.RevertTo == nil || row.RevertAt.After(now) {
			return nil // changed meanwhile: an edit ends the permission
		}
		var rules models.PolicyRules
		if err := json.Unmarshal([]byte(*row.RevertTo), &rules); err != nil {
			return fmt.Errorf("unreadable rules to go back to: %w", err)
		}
		back, err := rules.Policy(teenID)
		if err != nil {
			return fmt.Errorf("unreadable rules to go back to: %w", err)
		}
		if err := back.Validate(); err != nil {
			return fmt.Errorf("the rules to go back to are not valid: %w", err)
		}
		changes, err := s.changeRules(tx, teen, row, contacts, back, systemActor,
			"The time-limited permission ended; the rules went back to what they were before it.", nil, now)
		if err != nil {
			return err
		}
		done = true
		if len(changes) == 0 {
			return nil
		}
		summary := models.SummarizeChanges(changes)
		return s.tellPolicyChange(tx, teen, 0, models.NotifyPolicyChanged,
			"Your time-limited message rules ended, so they are back to what they were: "+summary+".",
			"The time-limited change to "+teen.DisplayName+"'s message rules ended; they are back to what they were: "+summary+".")
	})
	return done && err == nil, err
}

// RegisterNode records that node id has started (a `hearth serve`
// process), with nothing applied yet, and forgets nodes silent for a day.
// A node that registers again under the same id starts over at 0.
func (s *Store) RegisterNode(ctx context.Context, id string) error {
	if id == "" || len(id) > 200 {
		return models.Invalid("node", "A node needs an id of 1 to 200 characters.")
	}
	now := s.stamp()
	if s.dialect == Postgres {
		// The database's clock, like NodeHeartbeat's (see LiveNodesWithin).
		return s.tx(ctx, func(tx *gorm.DB) error {
			if err := tx.Exec("DELETE FROM cluster_nodes WHERE heartbeat_at < clock_timestamp() - interval '24 hours'").Error; err != nil {
				return err
			}
			return tx.Exec(`INSERT INTO cluster_nodes (id, applied_seq, heartbeat_at, started_at) VALUES (?, 0, clock_timestamp(), clock_timestamp())
				ON CONFLICT (id) DO UPDATE SET applied_seq = 0, heartbeat_at = excluded.heartbeat_at, started_at = excluded.started_at`, id).Error
		})
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("DELETE FROM cluster_nodes WHERE heartbeat_at < ?", now.Add(-24*time.Hour)).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO cluster_nodes (id, applied_seq, heartbeat_at, started_at) VALUES (?, 0, ?, ?)
			ON CONFLICT (id) DO UPDATE SET applied_seq = 0, heartbeat_at = excluded.heartbeat_at, started_at = excluded.started_at`,
			id, now, now).Error
	})
}

// NodeHeartbeat records that node id is alive now and has applied every
// change up to appliedSeq. The recorded applied_seq never goes down, so a
// late heartbeat cannot undo a newer one. An unknown id is registered.
func (s *Store) NodeHeartbeat(ctx context.Context, id string, appliedSeq int64) error {
	greatest, now := "MAX", "?"
	args := []any{id, appliedSeq}
	if s.dialect == Postgres {
		// Heartbeats are stamped with the database's clock, and
		// LiveNodesWithin compares with the same clock, so skew between
		// the nodes' own clocks cannot make a writer stop waiting early.
		greatest, now = "GREATEST", "clock_timestamp()"
	} else {
		args = append(args, s.stamp())
	}
	q := `INSERT INTO cluster_nodes (id, applied_seq, heartbeat_at, started_at) VALUES (?, ?, ` + now + `, ` + now + `)
		ON CONFLICT (id) DO UPDATE SET applied_seq = ` + greatest + `(cluster_nodes.applied_seq, excluded.applied_seq),
		heartbeat_at = excluded.heartbeat_at`
	if s.dialect != Postgres {
		args = append(args, args[2])
	}
	return mapErr(s.db.WithContext(ctx).Exec(q, args...).Error)
}

// LiveNodesWithin returns the ids of the nodes that heartbeated within the
// last lease and have not applied seq yet: those a writer of change seq
// must still wait for. On Postgres "within the last lease" is measured by
// the database's clock, the same clock that stamped the heartbeats.
func (s *Store) LiveNodesWithin(ctx context.Context, seq int64, lease time.Duration) ([]string, error) {
	if s.dialect != Postgres {
		return s.LiveNodesBehind(ctx, seq, s.now().Add(-lease))
	}
	var ids []string
	err := s.db.WithContext(ctx).Raw(`SELECT id FROM cluster_nodes
		WHERE heartbeat_at >= clock_timestamp() - make_interval(secs => ?) AND applied_seq < ? ORDER BY id`,
		lease.Seconds(), seq).Scan(&ids).Error
	if ids == nil {
		ids = []string{}
	}
	return ids, err
}

// LiveNodesBehind returns the ids of the nodes that are live (a heartbeat
// at or after liveSince) and have not applied seq yet, in id order: those a
// writer of change seq must still wait for. Heartbeats carry the writing
// node's clock, so liveSince should allow for clock skew between machines.
func (s *Store) LiveNodesBehind(ctx context.Context, seq int64, liveSince time.Time) ([]string, error) {
	var ids []string
	err := s.db.WithContext(ctx).Raw("SELECT id FROM cluster_nodes WHERE heartbeat_at >= ? AND applied_seq < ? ORDER BY id",
		liveSince.UTC(), seq).Scan(&ids).Error
	if ids == nil {
		ids = []string{}
	}
	return ids, err
}

// RemoveNode forgets node id, at its clean shutdown, so writers stop
// waiting for it at once.
func (s *Store) RemoveNode(ctx context.Context, id string) error {
	return s.db.WithContext(ctx).Exec("DELETE FROM cluster_nodes WHERE id = ?", id).Error
}

// CurrentSeq returns the highest seq any teen's rules carry, 0 when none.
func (s *Store) CurrentSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.db.WithContext(ctx).Raw("SELECT COALESCE(MAX(seq), 0) FROM policies").Scan(&seq).Error
	return seq, err
}

// PolicySnapshots returns every teen's rules changed after afterSeq (0 for
// all), oldest change first, with the teen's client, platform ID and time
// zone and the contacts; and the highest seq among them (afterSeq when
// there are none), which is what the caller has applied once it applied
// them. Rows of teens nobody supervises any more come too, with Supervised
// false, so a node drops them, and so do teens erased since (tombstones,
// see EraseTeen), with only the client and platform ID set. It reads in
// one consistent snapshot with three queries (rules with teens, contacts,
// tombstones), fast enough for 100,000 teens at start-up.
func (s *Store) PolicySnapshots(ctx context.Context, afterSeq int64) ([]models.PolicySnapshot, int64, error) {
	var out []models.PolicySnapshot
	maxSeq := afterSeq
	var opts []*sql.TxOptions
	if s.dialect == Postgres {
		opts = append(opts, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		out, maxSeq = nil, afterSeq
		rows, err := tx.Raw(`SELECT p.teen_id, p.version, p.audience, p.quiet_enabled, p.quiet_start, p.quiet_end,
			p.quiet_approved_exempt, p.block_adult_strangers, p.media_friends_only, p.min_sender_account_age_days,
			p.supervised, p.seq, p.updated_at, p.updated_by_name, p.revert_at, t.client_id, t.platform_user_id, t.time_zone
			FROM policies p JOIN teens t ON t.id = p.teen_id WHERE p.seq > ? ORDER BY p.seq`, afterSeq).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		index := map[int64]int{}
		for rows.Next() {
			var sn models.PolicySnapshot
			var audience string
			var qs, qe int
			var revertAt sql.NullTime
			p := &sn.Policy
			if err := rows.Scan(&p.TeenID, &p.Version, &audience, &p.QuietEnabled, &qs, &qe, &p.QuietApprovedExempt,
				&p.BlockAdultStrangers, &p.MediaFriendsOnly, &p.MinSenderAccountAgeDays, &sn.Supervised, &sn.Seq,
				&p.UpdatedAt, &p.UpdatedByName, &revertAt, &sn.ClientID, &sn.PlatformUserID, &sn.TimeZone); err != nil {
				return err
			}
			p.Audience, p.QuietStart, p.QuietEnd = audienceOf(audience), uint16(qs), uint16(qe)
			p.UpdatedAt = p.UpdatedAt.UTC()
			if revertAt.Valid {
				t := revertAt.Time.UTC()
				p.RevertAt = &t
			}
			index[p.TeenID] = len(out)
			out = append(out, sn)
			maxSeq = max(maxSeq, sn.Seq)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		if len(out) > 0 {
			if err := addSnapshotContacts(tx, afterSeq, out, index); err != nil {
				return err
			}
		}
		// Erased teens: apply as "no longer supervised", in seq order with
		// the rest (a platform ID provisioned again after an erasure has a
		// later seq, so its new rules win).
		var stones []tombstoneRow
		if err := tx.Where("seq > ?", afterSeq).Order("seq").Find(&stones).Error; err != nil {
			return err
		}
		for _, t := range stones {
			out = append(out, models.PolicySnapshot{ClientID: t.ClientID, PlatformUserID: t.PlatformUserID, Seq: t.Seq})
			maxSeq = max(maxSeq, t.Seq)
		}
		if len(stones) > 0 {
			slices.SortStableFunc(out, func(a, b models.PolicySnapshot) int { return cmp.Compare(a.Seq, b.Seq) })
		}
		return nil
	}, opts...)
	if err != nil {
		return nil, 0, err
	}
	if out == nil {
		out = []models.PolicySnapshot{}
	}
	return out, maxSeq, nil
}

// addSnapshotContacts fills in the contacts of the snapshots in out (index
// maps a teen ID to its place) whose rules changed after afterSeq.
func addSnapshotContacts(tx *gorm.DB, afterSeq int64, out []models.PolicySnapshot, index map[int64]int) error {
	crows, err := tx.Raw(`SELECT c.teen_id, c.kind, c.platform_user_id, c.label FROM policy_contacts c
		JOIN policies p ON p.teen_id = c.teen_id WHERE p.seq > ? ORDER BY c.teen_id, c.id`, afterSeq).Rows()
	if err != nil {
		return err
	}
	defer crows.Close()
	for crows.Next() {
		var teenID int64
		var kind string
		var c models.Contact
		if err := crows.Scan(&teenID, &kind, &c.PlatformUserID, &c.Label); err != nil {
			return err
		}
		i, ok := index[teenID]
		if !ok {
			continue
		}
		p := &out[i].Policy
		if kind == contactApproved {
			p.Approved = append(p.Approved, c)
		} else {
			p.Blocked = append(p.Blocked, c)
		}
	}
	return crows.Err()
}
