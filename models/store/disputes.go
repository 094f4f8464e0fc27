package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/policy"
)

type disputeRow struct {
	ID              int64 `gorm:"primaryKey"`
	TeenID          int64
	LinkID          *int64
	FilerID         int64
	FilerRole       string
	Kind            string
	Description     string
	Status          string
	Confidential    bool
	AssigneeID      *int64
	Outcome         string
	Version         int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
	FirstResponseAt *time.Time
	ClosedAt        *time.Time
}

func (disputeRow) TableName() string { return "disputes" }

type disputeView struct {
	Row            disputeRow `gorm:"embedded"`
	TeenName       string
	TeenBirthMonth string
	FilerName      string
	AssigneeName   string
	GuardianName   string
	PendingAction  string
}

func (v disputeView) model() models.Dispute {
	r := v.Row
	return models.Dispute{ID: r.ID, TeenID: r.TeenID, LinkID: r.LinkID, FilerID: r.FilerID, FilerRole: models.Role(r.FilerRole),
		Kind: models.DisputeKind(r.Kind), Description: r.Description, Status: models.DisputeStatus(r.Status),
		Confidential: r.Confidential, AssigneeID: r.AssigneeID, Outcome: r.Outcome, Version: r.Version,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), FirstResponseAt: utcPtr(r.FirstResponseAt),
		ClosedAt: utcPtr(r.ClosedAt), TeenName: v.TeenName, TeenBirth: models.MustBirthMonth(v.TeenBirthMonth),
		FilerName: v.FilerName, AssigneeName: v.AssigneeName, GuardianName: v.GuardianName, PendingAction: v.PendingAction}
}

func disputeQuery(db *gorm.DB) *gorm.DB {
	return db.Table("disputes").
		Select(`disputes.*, teens.display_name AS teen_name, teens.birth_month AS teen_birth_month, filer.name AS filer_name,
			COALESCE(assignee.name, '') AS assignee_name, COALESCE(lg.name, '') AS guardian_name,
			COALESCE((SELECT p.action FROM dispute_proposals p WHERE p.dispute_id = disputes.id AND p.state = 'pending'), '') AS pending_action`).
		Joins("JOIN teens ON teens.id = disputes.teen_id").
		Joins("JOIN users filer ON filer.id = disputes.filer_id").
		Joins("LEFT JOIN users assignee ON assignee.id = disputes.assignee_id").
		Joins("LEFT JOIN links dl ON dl.id = disputes.link_id").
		Joins("LEFT JOIN users lg ON lg.id = dl.guardian_id")
}

func disputeModels(vs []disputeView) []models.Dispute {
	out := make([]models.Dispute, len(vs))
	for i, v := range vs {
		out[i] = v.model()
	}
	return out
}

type disputeMessageRow struct {
	ID         int64 `gorm:"primaryKey"`
	DisputeID  int64
	AuthorID   *int64
	AuthorRole string
	AuthorName string
	Body       string
	CreatedAt  time.Time
}

func (disputeMessageRow) TableName() string { return "dispute_messages" }

type disputeNoteRow struct {
	ID         int64 `gorm:"primaryKey"`
	DisputeID  int64
	AuthorID   *int64
	AuthorName string
	Body       string
	CreatedAt  time.Time
}

func (disputeNoteRow) TableName() string { return "dispute_notes" }

type proposalRow struct {
	ID             int64 `gorm:"primaryKey"`
	DisputeID      int64
	Action         string
	LinkID         *int64
	GuardianID     *int64
	Reason         string
	State          string
	ProposedBy     *int64
	ProposedByName string
	DecidedBy      *int64
	DecidedByName  string
	DecisionReason string
	CreatedAt      time.Time
	DecidedAt      *time.Time
}

func (proposalRow) TableName() string { return "dispute_proposals" }

type disputeEventRow struct {
	ID        int64 `gorm:"primaryKey"`
	DisputeID int64
	Version   int64
	At        time.Time
	ActorID   *int64
	ActorRole string
	ActorName string
	Action    string
	Summary   string
	Reason    string
}

func (disputeEventRow) TableName() string { return "dispute_events" }

func (r disputeEventRow) model() models.DisputeEvent {
	return models.DisputeEvent{Version: r.Version, At: r.At.UTC(), ActorRole: r.ActorRole, ActorName: r.ActorName,
		Action: r.Action, Summary: r.Summary, Reason: r.Reason}
}

// Where filers read their cases.
func filerCasePath(role string, id int64) string {
	if role == string(models.RoleTeen) {
		return "/teen/disputes/" + strconv.FormatInt(id, 10)
	}
	return "/disputes/" + strconv.FormatInt(id, 10)
}

func staffCasePath(id int64) string { return "/staff/disputes/" + strconv.FormatInt(id, 10) }

// cleanCaseText trims what someone typed into a case and checks it is
// there and not too long.
func cleanCaseText(field, s string, max int, empty string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", models.Invalid(field, empty)
	case !utf8.ValidString(s):
		return "", models.Invalid(field, "contains characters that are not valid text")
	case utf8.RuneCountInString(s) > max:
		return "", models.Invalid(field, fmt.Sprintf("Keep it to %d characters or fewer.", max))
	}
	return s, nil
}

// NewDispute is a dispute as a teen or guardian files it.
type NewDispute struct {
	Kind models.DisputeKind
	// TeenID is the teen a guardian's dispute is about; a teen's own
	// disputes are always about themself, and a TeenID other than theirs
	// is models.ErrNotFound.
	TeenID int64
	// LinkID is the supervision (guardian) a teen's dispute is about:
	// required for the kinds that name a guardian (NeedsLink), optional
	// otherwise. A guardian's dispute is about their own newest link with
	// the teen, whatever LinkID says.
	LinkID      int64
	Description string
}

// OpenDispute files a dispute as the teen or guardian viewer. Refusals: an
// unknown kind for the viewer's role, a missing or overlong description (at
// most 2,000 characters) or a missing link, a *models.ValidationError; a
// teen or link the viewer has nothing to do with, models.ErrNotFound, like
// anyone who is neither a teen nor a guardian; a sixth unclosed case of
// the same person (models.MaxOpenDisputes), a validation error on "kind".
// A teen's dispute is
// confidential: no guardian is told of it or sees it anywhere. The filer is
// told it arrived (a guardian also by email); the audit entry is hidden
// from guardians.
func (s *Store) OpenDispute(ctx context.Context, viewer models.Actor, in NewDispute) (models.Dispute, error) {
	if viewer.UserID == 0 || (viewer.Role != models.RoleTeen && viewer.Role != models.RoleGuardian) {
		return models.Dispute{}, models.ErrNotFound
	}
	ve := &models.ValidationError{}
	if !in.Kind.AllowedFor(viewer.Role) {
		ve.Add("kind", "Choose what the problem is about.")
	}
	desc, err := cleanCaseText("description", in.Description, models.MaxDisputeTextLen, "Tell us what is happening, in a few words.")
	var dve *models.ValidationError
	if errors.As(err, &dve) {
		ve.Errors = append(ve.Errors, dve.Errors...)
	}
	if viewer.Role == models.RoleTeen && in.Kind.NeedsLink() && in.LinkID == 0 {
		ve.Add("link", "Choose which guardian this is about.")
	}
	if viewer.Role == models.RoleGuardian && in.TeenID == 0 {
		ve.Add("teen", "Choose which teen this is about.")
	}
	if err := ve.Err(); err != nil {
		return models.Dispute{}, err
	}
	var out models.Dispute
	err = s.tx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()
		var teen teenRow
		var linkID *int64
		if viewer.Role == models.RoleTeen {
			var err error
			if teen, err = lockTeen(tx, "user_id = ?", viewer.UserID); err != nil {
				return err
			}
			if in.TeenID != 0 && in.TeenID != teen.ID {
				return models.ErrNotFound
			}
			if in.LinkID != 0 {
				var l linkRow
				if err := tx.Where("id = ? AND teen_id = ?", in.LinkID, teen.ID).Take(&l).Error; err != nil {
					return err
				}
				if !l.live() {
					return models.ErrNotFound
				}
				linkID = &l.ID
			}
		} else {
			var err error
			if teen, err = lockTeen(tx, "id = ?", in.TeenID); err != nil {
				return err
			}
			var mine []linkRow
			if err := tx.Where("teen_id = ? AND guardian_id = ?", teen.ID, viewer.UserID).Order("id DESC").Limit(1).Find(&mine).Error; err != nil {
				return err
			}
			if len(mine) == 0 {
				return models.ErrNotFound
			}
			linkID = &mine[0].ID
		}
		var open int64
		if err := tx.Model(&disputeRow{}).Where("filer_id = ? AND status IN ?", viewer.UserID,
			[]string{string(models.DisputeOpen), string(models.DisputeWaitingOnFiler)}).Count(&open).Error; err != nil {
			return err
		}
		if open >= models.MaxOpenDisputes {
			return models.Invalid("kind", fmt.Sprintf("You already have %d open reports. Support answers them first: add to one of them instead.", open))
		}
		me, err := loadPerson(tx, viewer.UserID)
		if err != nil {
			return err
		}
		row := disputeRow{TeenID: teen.ID, LinkID: linkID, FilerID: me.ID, FilerRole: string(viewer.Role), Kind: string(in.Kind),
			Description: desc, Status: string(models.DisputeOpen), Confidential: viewer.Role == models.RoleTeen, Version: 1,
			CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		summary := "Opened the case: " + in.Kind.Label() + "."
		if err := tx.Create(&disputeEventRow{DisputeID: row.ID, Version: 1, At: now, ActorID: &me.ID, ActorRole: me.Role,
			ActorName: me.Name, Action: models.ActionDisputeOpened, Summary: summary}).Error; err != nil {
			return err
		}
		if err := s.appendAudit(tx, models.AuditEvent{TeenID: teen.ID, At: now, ActorID: me.ID, ActorRole: me.Role, ActorName: me.Name,
			Action: models.ActionDisputeOpened, LinkID: linkID, Confidential: true,
			Before: obj(), After: obj("dispute_id", row.ID, "kind", row.Kind, "status", row.Status)}); err != nil {
			return err
		}
		msg := "We've got your report (case #" + strconv.FormatInt(row.ID, 10) + "). Hearth support will reply on the case page, usually within a day."
		path := filerCasePath(row.FilerRole, row.ID)
		teenID := teen.ID
		if err := s.notify(tx, me.ID, &teenID, models.NotifyDisputeOpened, msg, path,
			s.guardianMail(me, "We've got your report", msg, path)); err != nil {
			return err
		}
		var v disputeView
		if err := disputeQuery(tx).Where("disputes.id = ?", row.ID).Take(&v).Error; err != nil {
			return err
		}
		out = v.model()
		return nil
	})
	if err != nil {
		return models.Dispute{}, err
	}
	return out, nil
}

// FilerDisputes returns the viewer's own disputes, newest first. Nobody
// sees anyone else's; staff use DisputeQueue.
func (s *Store) FilerDisputes(ctx context.Context, viewer models.Actor) ([]models.Dispute, error) {
	if viewer.UserID == 0 || (viewer.Role != models.RoleTeen && viewer.Role != models.RoleGuardian) {
		return nil, models.ErrNotFound
	}
	var vs []disputeView
	if err := disputeQuery(s.db.WithContext(ctx)).Where("disputes.filer_id = ?", viewer.UserID).
		Order("disputes.id DESC").Find(&vs).Error; err != nil {
		return nil, err
	}
	return disputeModels(vs), nil
}

// FilerThread is a case as the person who filed it sees it: the case and
// the thread with support. Internal notes and proposals are not in it.
type FilerThread struct {
	Dispute  models.Dispute
	Messages []models.DisputeMessage
}

// FilerDispute returns one of the viewer's own disputes with its thread.
// Anyone else's, including staff asking here, is models.ErrNotFound.
func (s *Store) FilerDispute(ctx context.Context, viewer models.Actor, id int64) (FilerThread, error) {
	if viewer.UserID == 0 || (viewer.Role != models.RoleTeen && viewer.Role != models.RoleGuardian) {
		return FilerThread{}, models.ErrNotFound
	}
	db := s.db.WithContext(ctx)
	var v disputeView
	if err := disputeQuery(db).Where("disputes.id = ? AND disputes.filer_id = ?", id, viewer.UserID).Take(&v).Error; err != nil {
		return FilerThread{}, mapErr(err)
	}
	msgs, err := disputeMessages(db, id)
	if err != nil {
		return FilerThread{}, err
	}
	return FilerThread{Dispute: v.model(), Messages: msgs}, nil
}

func disputeMessages(db *gorm.DB, id int64) ([]models.DisputeMessage, error) {
	var rows []disputeMessageRow
	if err := db.Where("dispute_id = ?", id).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]models.DisputeMessage, len(rows))
	for i, r := range rows {
		out[i] = models.DisputeMessage{ID: r.ID, AuthorRole: r.AuthorRole, AuthorName: r.AuthorName, Body: r.Body, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}

// FilerReply adds the filer viewer's reply to their own case (at most 2,000
// characters). A case that waited on the filer waits on staff again. A
// closed case is models.ErrCaseClosed; anyone else's case
// models.ErrNotFound.
func (s *Store) FilerReply(ctx context.Context, viewer models.Actor, id int64, body string) error {
	if viewer.UserID == 0 || (viewer.Role != models.RoleTeen && viewer.Role != models.RoleGuardian) {
		return models.ErrNotFound
	}
	body, err := cleanCaseText("body", body, models.MaxDisputeTextLen, "Write your reply first.")
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()
		d, teen, err := lockDispute(tx, id)
		if err != nil {
			return err
		}
		if d.FilerID != viewer.UserID {
			return models.ErrNotFound
		}
		if models.DisputeStatus(d.Status).Closed() {
			return models.ErrCaseClosed
		}
		me, err := loadPerson(tx, viewer.UserID)
		if err != nil {
			return err
		}
		if err := tx.Create(&disputeMessageRow{DisputeID: d.ID, AuthorID: &me.ID, AuthorRole: models.AuthorFiler, AuthorName: me.Name,
			Body: body, CreatedAt: now}).Error; err != nil {
			return err
		}
		status := d.Status
		summary := "The filer replied."
		if d.Status == string(models.DisputeWaitingOnFiler) {
			status = string(models.DisputeOpen)
			summary = "The filer replied; the case waits on support again."
		}
		if err := s.bumpDispute(tx, d, me, models.ActionDisputeAnswered, summary, "", map[string]any{"status": status}, now); err != nil {
			return err
		}
		return s.appendAudit(tx, models.AuditEvent{TeenID: teen.ID, At: now, ActorID: me.ID, ActorRole: me.Role, ActorName: me.Name,
			Action: models.ActionDisputeAnswered, LinkID: d.LinkID, Confidential: true,
			Before: obj("dispute_id", d.ID, "status", d.Status), After: obj("dispute_id", d.ID, "status", status)})
	})
}

// lockDispute reads a case, locks its teen (which serializes every change
// to the case, the teen's links and the audit chain), and reads the case
// again under the lock.
func lockDispute(tx *gorm.DB, id int64) (disputeRow, teenRow, error) {
	var d disputeRow
	if err := tx.Where("id = ?", id).Take(&d).Error; err != nil {
		return disputeRow{}, teenRow{}, err
	}
	teen, err := lockTeen(tx, "id = ?", d.TeenID)
	if err != nil {
		return disputeRow{}, teenRow{}, err
	}
	if err := tx.Where("id = ?", id).Take(&d).Error; err != nil {
		return disputeRow{}, teenRow{}, err
	}
	return d, teen, nil
}

// bumpDispute writes the case's next version with the columns in set and
// records what happened in the case history. The version guard makes a
// lost update impossible even if a caller forgot the lock.
func (s *Store) bumpDispute(tx *gorm.DB, d disputeRow, by person, action, summary, reason string, set map[string]any, now time.Time) error {
	cols := map[string]any{"version": d.Version + 1, "updated_at": now}
	for k, v := range set {
		cols[k] = v
	}
	res := tx.Model(&disputeRow{}).Where("id = ? AND version = ?", d.ID, d.Version).Updates(cols)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return models.ErrCaseChanged
	}
	var actorID *int64
	if by.ID != 0 {
		actorID = &by.ID
	}
	return tx.Create(&disputeEventRow{DisputeID: d.ID, Version: d.Version + 1, At: now, ActorID: actorID, ActorRole: by.Role,
		ActorName: by.Name, Action: action, Summary: summary, Reason: reason}).Error
}

// DisputeFilter narrows the staff queue. Zero values mean "any".
type DisputeFilter struct {
	// Status is one status, "" for every unclosed case, or "all".
	Status string
	Kind   models.DisputeKind
	// AgeBand is "13-15" or "16-17".
	AgeBand string
	// Assignee is "me", "unassigned" or a staff user's ID.
	Assignee string
	// Waiting is models.WaitingStaff, WaitingLead or WaitingFiler.
	Waiting string
}

// QueueCounts are the headline numbers over every unclosed case,
// whatever the filter.
type QueueCounts struct {
	Unclosed, WaitingOnStaff, WaitingOnLead, WaitingOnFiler, Unassigned, Overdue int
}

// DisputeQueue is the staff queue: the cases the filter lets through,
// oldest first, and the headline counts.
type DisputeQueue struct {
	Items  []models.Dispute
	Counts QueueCounts
}

// maxQueue bounds one queue page; the oldest cases come first, so nothing
// urgent hides beyond it.
const maxQueue = 200

// DisputeQueueFor returns the queue for the staff viewer; anyone else gets
// models.ErrNotFound. An unknown filter value is a *models.ValidationError.
func (s *Store) DisputeQueueFor(ctx context.Context, viewer models.Actor, f DisputeFilter) (DisputeQueue, error) {
	if viewer.UserID == 0 || !viewer.Role.IsStaff() {
		return DisputeQueue{}, models.ErrNotFound
	}
	db := s.db.WithContext(ctx)
	now := s.stamp()
	unclosed := []string{string(models.DisputeOpen), string(models.DisputeWaitingOnFiler)}
	pending := "EXISTS (SELECT 1 FROM dispute_proposals p WHERE p.dispute_id = disputes.id AND p.state = 'pending')"
	q := disputeQuery(db)
	switch {
	case f.Status == "":
		q = q.Where("disputes.status IN ?", unclosed)
	case f.Status == "all":
	case models.DisputeStatus(f.Status).Valid():
		q = q.Where("disputes.status = ?", f.Status)
	default:
		return DisputeQueue{}, models.Invalid("status", "Unknown status.")
	}
	if f.Kind != "" {
		if !f.Kind.AllowedFor(models.RoleTeen) && !f.Kind.AllowedFor(models.RoleGuardian) {
			return DisputeQueue{}, models.Invalid("kind", "Unknown kind.")
		}
		q = q.Where("disputes.kind = ?", string(f.Kind))
	}
	// Birth months sort like the months they name: 16 or older is born
	// in or before the month 16 years ago.
	cutoff16 := fmt.Sprintf("%04d-%02d", now.Year()-16, int(now.Month()))
	switch f.AgeBand {
	case "":
	case "13-15":
		q = q.Where("teens.birth_month > ?", cutoff16)
	case "16-17":
		q = q.Where("teens.birth_month <= ?", cutoff16)
	default:
		return DisputeQueue{}, models.Invalid("age", "Unknown age band.")
	}
	switch f.Assignee {
	case "":
	case "me":
		q = q.Where("disputes.assignee_id = ?", viewer.UserID)
	case "unassigned":
		q = q.Where("disputes.assignee_id IS NULL")
	default:
		id, err := strconv.ParseInt(f.Assignee, 10, 64)
		if err != nil {
			return DisputeQueue{}, models.Invalid("assignee", "Unknown assignee.")
		}
		q = q.Where("disputes.assignee_id = ?", id)
	}
	switch f.Waiting {
	case "":
	case models.WaitingFiler:
		q = q.Where("disputes.status = ? AND NOT "+pending, string(models.DisputeWaitingOnFiler))
	case models.WaitingLead:
		q = q.Where("disputes.status IN ? AND "+pending, unclosed)
	case models.WaitingStaff:
		q = q.Where("disputes.status = ? AND NOT "+pending, string(models.DisputeOpen))
	default:
		return DisputeQueue{}, models.Invalid("waiting", "Unknown party.")
	}
	var vs []disputeView
	if err := q.Order("disputes.created_at, disputes.id").Limit(maxQueue).Find(&vs).Error; err != nil {
		return DisputeQueue{}, err
	}
	var all []disputeView
	if err := disputeQuery(db).Where("disputes.status IN ?", unclosed).Find(&all).Error; err != nil {
		return DisputeQueue{}, err
	}
	var c QueueCounts
	for _, v := range all {
		d := v.model()
		c.Unclosed++
		switch d.WaitingOn() {
		case models.WaitingStaff:
			c.WaitingOnStaff++
		case models.WaitingLead:
			c.WaitingOnLead++
		case models.WaitingFiler:
			c.WaitingOnFiler++
		}
		if d.AssigneeID == nil {
			c.Unassigned++
		}
		if _, over := d.Due(now); over {
			c.Overdue++
		}
	}
	return DisputeQueue{Items: disputeModels(vs), Counts: c}, nil
}

// StaffMember is someone on the support team, for "assign to".
type StaffMember struct {
	ID   int64
	Name string
	Role models.Role
}

// StaffMembers lists the support team's enabled accounts by name, for the
// staff viewer; anyone else gets models.ErrNotFound.
func (s *Store) StaffMembers(ctx context.Context, viewer models.Actor) ([]StaffMember, error) {
	if viewer.UserID == 0 || !viewer.Role.IsStaff() {
		return nil, models.ErrNotFound
	}
	var rows []userRow
	if err := s.db.WithContext(ctx).Where("role IN ? AND disabled_at IS NULL", []string{string(models.RoleStaff), string(models.RoleLead)}).
		Order("name, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]StaffMember, len(rows))
	for i, r := range rows {
		out[i] = StaffMember{ID: r.ID, Name: r.Name, Role: models.Role(r.Role)}
	}
	return out, nil
}

// CategoryCount is how many alerts of one category a teen has.
type CategoryCount struct {
	Category models.Category
	Count    int
}

// DisputeCase is everything the case page shows staff: never an alert
// itself or any message content, only counts and history.
type DisputeCase struct {
	Dispute models.Dispute
	Teen    models.Teen
	// FilerEmail is the guardian filer's address ("" for a teen).
	FilerEmail string
	// Links are every link the teen has had, oldest first: the history.
	Links []models.Link
	// Rules are the teen's current rules, when they have any.
	Rules *models.DMPolicy
	// RulesSupervised says whether the rules are in force.
	RulesSupervised bool
	// PolicyHistory are the teen's rule changes, newest first.
	PolicyHistory []models.AuditEvent
	AlertCounts   []CategoryCount
	// Earlier are the teen's other cases, newest first.
	Earlier   []models.Dispute
	Audit     []models.AuditEvent
	Messages  []models.DisputeMessage
	Notes     []models.DisputeNote
	Proposals []models.DisputeProposal
	Events    []models.DisputeEvent
}

// maxCaseAudit bounds the audit trail on the case page.
const maxCaseAudit = 100

// DisputeCaseFor returns case id for the staff viewer; anyone else, and a
// missing case, is models.ErrNotFound.
func (s *Store) DisputeCaseFor(ctx context.Context, viewer models.Actor, id int64) (DisputeCase, error) {
	if viewer.UserID == 0 || !viewer.Role.IsStaff() {
		return DisputeCase{}, models.ErrNotFound
	}
	db := s.db.WithContext(ctx)
	var v disputeView
	if err := disputeQuery(db).Where("disputes.id = ?", id).Take(&v).Error; err != nil {
		return DisputeCase{}, mapErr(err)
	}
	out := DisputeCase{Dispute: v.model()}
	var t teenRow
	if err := db.Where("id = ?", v.Row.TeenID).Take(&t).Error; err != nil {
		return DisputeCase{}, mapErr(err)
	}
	out.Teen = t.model()
	if v.Row.FilerRole == string(models.RoleGuardian) {
		if p, err := loadPerson(db, v.Row.FilerID); err == nil {
			out.FilerEmail = p.Email
		}
	}
	var ls []linkView
	if err := linkQuery(db).Where("links.teen_id = ?", t.ID).Order("links.id").Find(&ls).Error; err != nil {
		return DisputeCase{}, err
	}
	out.Links = linkModels(ls)
	if row, contacts, err := loadPolicy(db, t.ID); err == nil {
		p := row.model(contacts)
		out.Rules, out.RulesSupervised = &p, row.Supervised
	} else if !errors.Is(err, gorm.ErrRecordNotFound) {
		return DisputeCase{}, err
	}
	var ph []auditRow
	if err := db.Where("teen_id = ? AND action = ?", t.ID, models.ActionPolicyChanged).Order("id DESC").Limit(maxCaseAudit).Find(&ph).Error; err != nil {
		return DisputeCase{}, err
	}
	out.PolicyHistory = auditModels(ph)
	var counts []struct {
		Category string
		N        int
	}
	if err := db.Raw("SELECT category, COUNT(*) AS n FROM alerts WHERE teen_id = ? GROUP BY category", t.ID).Scan(&counts).Error; err != nil {
		return DisputeCase{}, err
	}
	byCat := map[string]int{}
	for _, c := range counts {
		byCat[c.Category] = c.N
	}
	for _, c := range models.Categories {
		if n := byCat[string(c)]; n > 0 {
			out.AlertCounts = append(out.AlertCounts, CategoryCount{Category: c, Count: n})
		}
	}
	var earlier []disputeView
	if err := disputeQuery(db).Where("disputes.teen_id = ? AND disputes.id <> ?", t.ID, id).Order("disputes.id DESC").Find(&earlier).Error; err != nil {
		return DisputeCase{}, err
	}
	out.Earlier = disputeModels(earlier)
	var audit []auditRow
	if err := db.Where("teen_id = ?", t.ID).Order("id DESC").Limit(maxCaseAudit).Find(&audit).Error; err != nil {
		return DisputeCase{}, err
	}
	out.Audit = auditModels(audit)
	var err error
	if out.Messages, err = disputeMessages(db, id); err != nil {
		return DisputeCase{}, err
	}
	var notes []disputeNoteRow
	if err := db.Where("dispute_id = ?", id).Order("id").Find(&notes).Error; err != nil {
		return DisputeCase{}, err
	}
	for _, n := range notes {
		out.Notes = append(out.Notes, models.DisputeNote{ID: n.ID, AuthorName: n.AuthorName, Body: n.Body, CreatedAt: n.CreatedAt.UTC()})
	}
	var props []struct {
		Row          proposalRow `gorm:"embedded"`
		GuardianName string
	}
	if err := db.Table("dispute_proposals").Select("dispute_proposals.*, COALESCE(users.name, '') AS guardian_name").
		Joins("LEFT JOIN links ON links.id = dispute_proposals.link_id").
		Joins("LEFT JOIN users ON users.id = COALESCE(dispute_proposals.guardian_id, links.guardian_id)").
		Where("dispute_proposals.dispute_id = ?", id).Order("dispute_proposals.id").Find(&props).Error; err != nil {
		return DisputeCase{}, err
	}
	for _, p := range props {
		r := p.Row
		out.Proposals = append(out.Proposals, models.DisputeProposal{ID: r.ID, Action: models.ProposalAction(r.Action), LinkID: r.LinkID,
			GuardianID: r.GuardianID, GuardianName: p.GuardianName, Reason: r.Reason, State: models.ProposalState(r.State),
			ProposedByName: r.ProposedByName, DecidedByName: r.DecidedByName, DecisionReason: r.DecisionReason,
			CreatedAt: r.CreatedAt.UTC(), DecidedAt: utcPtr(r.DecidedAt)})
	}
	if out.Events, err = s.DisputeChangesSince(ctx, viewer, id, 0); err != nil {
		return DisputeCase{}, err
	}
	return out, nil
}

// DisputeChangesSince returns the changes to case id after version, oldest
// first, for the staff viewer: what someone else did while an agent had
// the case open. Anyone else gets models.ErrNotFound.
func (s *Store) DisputeChangesSince(ctx context.Context, viewer models.Actor, id, version int64) ([]models.DisputeEvent, error) {
	if viewer.UserID == 0 || !viewer.Role.IsStaff() {
		return nil, models.ErrNotFound
	}
	var rows []disputeEventRow
	if err := s.db.WithContext(ctx).Where("dispute_id = ? AND version > ?", id, version).Order("version").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]models.DisputeEvent, len(rows))
	for i, r := range rows {
		out[i] = r.model()
	}
	return out, nil
}

// ActOnDispute takes one staff action on case id as the staff viewer and
// returns the case as it now is. In this order of refusals: anyone but
// staff, a missing case, and a link or guardian that is not the case
// teen's, models.ErrNotFound; an empty or overlong reason (1,000
// characters; 2,000 for replies and notes) or a missing choice, a
// *models.ValidationError; a lead-only action by an agent,
// models.ErrLeadOnly, after recording the attempt in the teen's audit log;
// a closed case, models.ErrCaseClosed; a.Version other than the case's
// (for versioned actions), models.ErrCaseChanged, with nothing done:
// DisputeChangesSince says what changed. A done action bumps the version,
// is recorded in the case history and, hidden from guardians, in the
// teen's audit log; what it changes for a link or the rules is recorded
// there too, in neutral words when the case is confidential, and the
// people it touches are told.
func (s *Store) ActOnDispute(ctx context.Context, viewer models.Actor, id int64, a models.DisputeAction) (models.Dispute, error) {
	if viewer.UserID == 0 || !viewer.Role.IsStaff() {
		return models.Dispute{}, models.ErrNotFound
	}
	if a.Kind.LeadOnly() && viewer.Role != models.RoleLead {
		// Refused whatever the form says, and recorded with what reason
		// there was, trimmed to the usual length.
		a.Reason = strings.TrimSpace(a.Reason)
		if r := []rune(a.Reason); len(r) > models.MaxStaffReasonLen {
			a.Reason = string(r[:models.MaxStaffReasonLen])
		}
		if err := s.auditRefusal(ctx, viewer, id, a); err != nil {
			return models.Dispute{}, err
		}
		return models.Dispute{}, models.ErrLeadOnly
	}
	max := models.MaxStaffReasonLen
	empty := "Write a reason: it is kept in the teen's audit log."
	switch a.Kind {
	case models.ActReply, models.ActNote:
		max, empty = models.MaxDisputeTextLen, "Write something first."
	case models.ActAskInfo:
		empty = "Write what you need to know: the filer sees it."
	case models.ActResolve, models.ActReject:
		empty = "Write a note for the person who filed the case: they see it."
	}
	reason, err := cleanCaseText("reason", a.Reason, max, empty)
	if err != nil {
		return models.Dispute{}, err
	}
	a.Reason = reason
	if err := checkAction(a); err != nil {
		return models.Dispute{}, err
	}
	var out models.Dispute
	err = s.policyTx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()
		d, teen, err := lockDispute(tx, id)
		if err != nil {
			return err
		}
		if models.DisputeStatus(d.Status).Closed() {
			return models.ErrCaseClosed
		}
		if a.Kind.Versioned() && a.Version != d.Version {
			return models.ErrCaseChanged
		}
		me, err := loadPerson(tx, viewer.UserID)
		if err != nil {
			return err
		}
		w := &caseWork{s: s, tx: tx, d: d, teen: teen, me: me, a: a, now: now, set: map[string]any{}}
		if err := w.do(); err != nil {
			return err
		}
		if err := s.bumpDispute(tx, d, me, w.action, w.summary, w.reason(), w.set, now); err != nil {
			return err
		}
		before := obj("dispute_id", d.ID, "status", d.Status)
		after := obj("dispute_id", d.ID, "status", w.status(), "action", string(a.Kind))
		// The case's own entry is hidden from guardians; what the action
		// did to a link or the rules has its own entry, written above.
		action := w.action
		if !strings.HasPrefix(action, "dispute.") {
			action = models.ActionDisputeActed
		}
		if err := s.appendAudit(tx, models.AuditEvent{TeenID: teen.ID, At: now, ActorID: me.ID, ActorRole: me.Role, ActorName: me.Name,
			Action: action, LinkID: w.linkID, Confidential: true, Reason: w.reason(), Before: before, After: after}); err != nil {
			return err
		}
		var v disputeView
		if err := disputeQuery(tx).Where("disputes.id = ?", d.ID).Take(&v).Error; err != nil {
			return err
		}
		out = v.model()
		return nil
	})
	if err != nil {
		return models.Dispute{}, err
	}
	return out, nil
}

// checkAction refuses an action missing what it needs, before any lock.
func checkAction(a models.DisputeAction) error {
	switch a.Kind {
	case models.ActAssign:
		if a.AssigneeID == 0 {
			return models.Invalid("assignee", "Choose whom to assign the case to.")
		}
	case models.ActSuspendLink, models.ActReinstateLink, models.ActEndLink:
		if a.LinkID == 0 {
			return models.Invalid("link", "Choose which supervision.")
		}
	case models.ActDisable:
		if a.GuardianID == 0 {
			return models.Invalid("guardian", "Choose which guardian.")
		}
	case models.ActPropose:
		switch a.Proposal {
		case models.ProposeEndLink:
			if a.LinkID == 0 {
				return models.Invalid("link", "Choose which supervision.")
			}
		case models.ProposeDisableGuardian:
			if a.GuardianID == 0 {
				return models.Invalid("guardian", "Choose which guardian.")
			}
		default:
			return models.Invalid("proposal", "Choose what to propose.")
		}
	case models.ActApprove, models.ActDecline:
		if a.ProposalID == 0 {
			return models.Invalid("proposal", "Choose which proposal.")
		}
	case models.ActAskInfo, models.ActReply, models.ActNote, models.ActResetRules, models.ActResolve, models.ActReject:
	default:
		return models.Invalid("action", "Unknown action.")
	}
	return nil
}

// auditRefusal records, in its own transaction, that an agent tried a
// lead-only action: the refusal must be kept even though nothing else is.
func (s *Store) auditRefusal(ctx context.Context, viewer models.Actor, id int64, a models.DisputeAction) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		d, teen, err := lockDispute(tx, id)
		if err != nil {
			return err
		}
		me, err := loadPerson(tx, viewer.UserID)
		if err != nil {
			return err
		}
		return s.appendAudit(tx, models.AuditEvent{TeenID: teen.ID, At: s.stamp(), ActorID: me.ID, ActorRole: me.Role, ActorName: me.Name,
			Action: models.ActionDisputeRefused, LinkID: d.LinkID, Confidential: true, Reason: a.Reason,
			Before: obj("dispute_id", d.ID, "status", d.Status),
			After:  obj("dispute_id", d.ID, "status", d.Status, "refused", string(a.Kind))})
	})
}

// caseWork is one staff action in progress inside its transaction.
type caseWork struct {
	s    *Store
	tx   *gorm.DB
	d    disputeRow
	teen teenRow
	me   person
	a    models.DisputeAction
	now  time.Time

	// Filled by do: the audit action, the case history's summary, the
	// columns to set with the new version, the link it touched.
	action  string
	summary string
	set     map[string]any
	linkID  *int64
}

func (w *caseWork) reason() string {
	if w.a.Kind == models.ActNote {
		// The note itself stays on the case; the audit log, which the
		// teen reads, only records that one was added.
		return ""
	}
	return w.a.Reason
}

func (w *caseWork) status() string {
	if s, ok := w.set["status"].(string); ok {
		return s
	}
	return w.d.Status
}

// neutral is the reason recorded where guardians can read it: the staff
// member's own words, or for a confidential case only that support acted.
func (w *caseWork) neutral() string { return w.neutralOr(w.a.Reason) }

// neutralOr is neutral with reason as the staff member's words.
func (w *caseWork) neutralOr(reason string) string {
	if w.d.Confidential {
		return neutralReason
	}
	return reason
}

// neutralReason is all guardians read of why support acted on a
// confidential case.
const neutralReason = "After a review by Hearth support."

// actor is the staff member as audit entries name them.
func (w *caseWork) actor() auditActor { return actorOf(w.me) }

func (w *caseWork) do() error {
	a := w.a
	switch a.Kind {
	case models.ActAssign:
		return w.assign()
	case models.ActAskInfo:
		w.action, w.summary = models.ActionDisputeAsked, "Asked the filer for more information."
		w.set["status"] = string(models.DisputeWaitingOnFiler)
		return w.message("Hearth support asked you something about your case. Reply on the case page so they can help.",
			"Hearth support has a question")
	case models.ActReply:
		w.action, w.summary = models.ActionDisputeReplied, "Replied to the filer."
		return w.message("Hearth support replied to your case.", "Hearth support replied")
	case models.ActNote:
		w.action, w.summary = models.ActionDisputeNote, "Added an internal note."
		return w.tx.Create(&disputeNoteRow{DisputeID: w.d.ID, AuthorID: &w.me.ID, AuthorName: w.me.Name, Body: a.Reason, CreatedAt: w.now}).Error
	case models.ActSuspendLink:
		return w.suspend()
	case models.ActReinstateLink:
		return w.reinstate()
	case models.ActEndLink:
		name, err := w.endLink(a.LinkID, a.Reason)
		w.action, w.summary = models.ActionLinkEnded, "Ended "+name+"'s supervision."
		return err
	case models.ActResetRules:
		return w.resetRules()
	case models.ActResolve, models.ActReject:
		return w.close()
	case models.ActPropose:
		return w.propose()
	case models.ActApprove, models.ActDecline:
		return w.decide()
	case models.ActDisable:
		name, err := w.disable(a.GuardianID, a.Reason)
		w.action, w.summary = models.ActionAccountDisabled, "Disabled "+name+"'s account and ended their supervision."
		return err
	}
	return models.Invalid("action", "Unknown action.")
}

func (w *caseWork) teenID() *int64 { id := w.teen.ID; return &id }

// tellFiler notifies the person who filed the case (a guardian also by
// email), pointing at their case page.
func (w *caseWork) tellFiler(msg, subject string) error {
	f, err := loadPerson(w.tx, w.d.FilerID)
	if err != nil {
		return err
	}
	path := filerCasePath(w.d.FilerRole, w.d.ID)
	return w.s.notify(w.tx, f.ID, w.teenID(), models.NotifyDisputeUpdated, msg, path, w.s.guardianMail(f, subject, msg, path))
}

// firstResponse marks the first time support answered the filer.
func (w *caseWork) firstResponse() {
	if w.d.FirstResponseAt == nil {
		w.set["first_response_at"] = w.now
	}
}

func (w *caseWork) message(notice, subject string) error {
	if err := w.tx.Create(&disputeMessageRow{DisputeID: w.d.ID, AuthorID: &w.me.ID, AuthorRole: models.AuthorStaff,
		AuthorName: w.me.Name, Body: w.a.Reason, CreatedAt: w.now}).Error; err != nil {
		return err
	}
	w.firstResponse()
	return w.tellFiler(notice, subject)
}

func (w *caseWork) assign() error {
	var u userRow
	if err := w.tx.Where("id = ? AND role IN ? AND disabled_at IS NULL", w.a.AssigneeID,
		[]string{string(models.RoleStaff), string(models.RoleLead)}).Take(&u).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return models.Invalid("assignee", "Choose someone on the support team.")
		}
		return err
	}
	if w.d.AssigneeID != nil && *w.d.AssigneeID == u.ID {
		return models.Invalid("assignee", "The case is already assigned to "+u.Name+".")
	}
	w.action, w.summary = models.ActionDisputeAssigned, "Assigned the case to "+u.Name+"."
	w.set["assignee_id"] = u.ID
	if u.ID != w.me.ID {
		if err := w.s.notify(w.tx, u.ID, w.teenID(), models.NotifyStaffDisputeWork,
			w.me.Name+" assigned case #"+strconv.FormatInt(w.d.ID, 10)+" to you.", staffCasePath(w.d.ID), nil); err != nil {
			return err
		}
	}
	if w.d.AssigneeID == nil {
		return w.tellFiler("Someone from Hearth support is now working on your case.", "Your case is being worked on")
	}
	return nil
}

// caseLink reads the teen's link id under the teen's lock; a link of
// another teen is models.ErrNotFound.
func (w *caseWork) caseLink(id int64) (linkRow, person, error) {
	var l linkRow
	if err := w.tx.Where("id = ? AND teen_id = ?", id, w.teen.ID).Take(&l).Error; err != nil {
		return linkRow{}, person{}, err
	}
	g, err := loadPerson(w.tx, l.GuardianID)
	return l, g, err
}

func (w *caseWork) suspend() error {
	l, g, err := w.caseLink(w.a.LinkID)
	if err != nil {
		return err
	}
	if l.State != string(models.LinkActive) {
		return models.Invalid("link", "Only an active supervision can be paused.")
	}
	if err := w.setLinkState(l, g, models.LinkSuspended, models.ActionLinkSuspended); err != nil {
		return err
	}
	w.action, w.summary = models.ActionLinkSuspended, "Paused "+g.Name+"'s supervision."
	name := w.teen.DisplayName
	msg := "Hearth support paused your supervision of " + name + ". While it is paused you don't see " + name +
		"'s rules or alerts; " + name + "'s message rules stay in force."
	path := guardianHomePath
	if err := w.s.notify(w.tx, g.ID, w.teenID(), models.NotifyLinkSuspended, msg, path,
		w.s.guardianMail(g, "Your supervision of "+name+" is paused", msg, path)); err != nil {
		return err
	}
	return w.s.notify(w.tx, w.teen.UserID, w.teenID(), models.NotifyLinkSuspended,
		"Hearth support paused "+g.Name+"'s supervision. They can't see your rules or alerts while it is paused; your message rules stay as they are.",
		teenSupervision, nil)
}

func (w *caseWork) reinstate() error {
	l, g, err := w.caseLink(w.a.LinkID)
	if err != nil {
		return err
	}
	if l.State != string(models.LinkSuspended) {
		return models.Invalid("link", "Only a paused supervision can be restored.")
	}
	if err := w.setLinkState(l, g, models.LinkActive, models.ActionLinkReinstated); err != nil {
		return err
	}
	w.action, w.summary = models.ActionLinkReinstated, "Restored "+g.Name+"'s supervision."
	name := w.teen.DisplayName
	msg := "Hearth support restored your supervision of " + name + "."
	path := guardianTeenPath(w.teen.ID)
	if err := w.s.notify(w.tx, g.ID, w.teenID(), models.NotifyLinkReinstated, msg, path,
		w.s.guardianMail(g, "Your supervision of "+name+" is restored", msg, path)); err != nil {
		return err
	}
	return w.s.notify(w.tx, w.teen.UserID, w.teenID(), models.NotifyLinkReinstated,
		"Hearth support restored "+g.Name+"'s supervision.", teenSupervision, nil)
}

// setLinkState moves a live link between active and suspended, with its
// own audit entry (which guardians may read, so its reason is neutral for
// a confidential case), and keeps the teen's rules in step.
func (w *caseWork) setLinkState(l linkRow, g person, to models.LinkState, action string) error {
	res := w.tx.Model(&linkRow{}).Where("id = ? AND state = ?", l.ID, l.State).Update("state", string(to))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return models.ErrCaseChanged
	}
	linkID := l.ID
	w.linkID = &linkID
	by := w.actor()
	if err := w.s.appendAudit(w.tx, models.AuditEvent{TeenID: w.teen.ID, At: w.now, ActorID: by.id, ActorRole: by.role, ActorName: by.name,
		Action: action, LinkID: &linkID, Reason: w.neutral(),
		Before: obj("state", l.State, "guardian", g.Name), After: obj("state", string(to), "guardian", g.Name)}); err != nil {
		return err
	}
	return w.s.syncSupervision(w.tx, w.teen, by, &linkID, w.now)
}

// endLink ends one of the teen's live links as support. reason is the
// lead's words; guardians read only neutral ones on a confidential case.
func (w *caseWork) endLink(linkID int64, reason string) (string, error) {
	l, g, err := w.caseLink(linkID)
	if err != nil {
		return "", err
	}
	if !l.live() {
		return "", models.Invalid("link", "That supervision has already ended.")
	}
	id := l.ID
	w.linkID = &id
	sentence := "Hearth support ended this supervision."
	if !w.d.Confidential {
		sentence = withReason(sentence, reason)
	}
	if err := w.s.endLink(w.tx, w.teen, l, g, w.actor(), sentence, w.neutralOr(reason), w.now); err != nil {
		return "", err
	}
	name := w.teen.DisplayName
	msg := "Hearth support ended your supervision of " + name + ". You no longer see anything about " + name + "."
	if err := w.s.notify(w.tx, g.ID, w.teenID(), models.NotifyLinkEnded, msg, guardianHomePath,
		w.s.guardianMail(g, "Your supervision of "+name+" has ended", msg, guardianHomePath)); err != nil {
		return "", err
	}
	if err := w.s.notify(w.tx, w.teen.UserID, w.teenID(), models.NotifyLinkEnded,
		"Hearth support ended "+g.Name+"'s supervision. They no longer see anything about you.", teenSupervision, nil); err != nil {
		return "", err
	}
	others, err := activeGuardians(w.tx, w.teen.ID, g.ID)
	if err != nil {
		return "", err
	}
	other := "Hearth support ended " + g.Name + "'s supervision of " + name + "."
	for _, o := range others {
		path := guardianTeenPath(w.teen.ID)
		if err := w.s.notify(w.tx, o.ID, w.teenID(), models.NotifyLinkEnded, other, path, w.s.guardianMail(o, other, other, path)); err != nil {
			return "", err
		}
	}
	return g.Name, nil
}

func (w *caseWork) resetRules() error {
	row, contacts, err := loadPolicy(w.tx, w.teen.ID)
	if errors.Is(err, gorm.ErrRecordNotFound) || err == nil && !row.Supervised {
		return models.Invalid("rules", w.teen.DisplayName+" has no rules in force to reset.")
	}
	if err != nil {
		return err
	}
	m := w.teen.model()
	age := m.Age(w.now)
	defaults := models.DMPolicyFrom(w.teen.ID, policy.Defaults(age, m.Location()))
	if models.SameRules(row.model(contacts), defaults) {
		return models.Invalid("rules", "The rules already are the defaults for age "+strconv.Itoa(age)+".")
	}
	if _, err := w.s.changeRules(w.tx, w.teen, row, contacts, defaults, w.actor(), w.neutral(), nil, w.now); err != nil {
		return err
	}
	w.action = models.ActionPolicyChanged
	w.summary = fmt.Sprintf("Reset the message rules to the defaults for age %d.", age)
	name := w.teen.DisplayName
	return w.s.tellPolicyChange(w.tx, w.teen, 0, models.NotifyPolicyChanged,
		fmt.Sprintf("Hearth support reset your message rules to the defaults for age %d.", age),
		fmt.Sprintf("Hearth support reset %s's message rules to the defaults for age %d.", name, age))
}

func (w *caseWork) close() error {
	status, action, words := models.DisputeResolved, models.ActionDisputeResolved, "resolved"
	if w.a.Kind == models.ActReject {
		status, action, words = models.DisputeRejected, models.ActionDisputeRejected, "closed without action"
	}
	w.action, w.summary = action, "Closed the case as "+words+"."
	w.set["status"] = string(status)
	w.set["closed_at"] = w.now
	w.set["outcome"] = w.a.Reason
	w.firstResponse()
	if err := w.tx.Model(&proposalRow{}).Where("dispute_id = ? AND state = ?", w.d.ID, string(models.ProposalPending)).
		Updates(map[string]any{"state": string(models.ProposalWithdrawn), "decided_at": w.now}).Error; err != nil {
		return err
	}
	return w.tellFiler("Your case was "+words+". Hearth support wrote: “"+w.a.Reason+"”", "Your case was "+words)
}

func (w *caseWork) propose() error {
	var n int64
	if err := w.tx.Model(&proposalRow{}).Where("dispute_id = ? AND state = ?", w.d.ID, string(models.ProposalPending)).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return models.Invalid("proposal", "A proposal on this case is already waiting for a lead.")
	}
	row := proposalRow{DisputeID: w.d.ID, Action: string(w.a.Proposal), Reason: w.a.Reason, State: string(models.ProposalPending),
		ProposedBy: &w.me.ID, ProposedByName: w.me.Name, CreatedAt: w.now}
	var what string
	switch w.a.Proposal {
	case models.ProposeEndLink:
		l, g, err := w.caseLink(w.a.LinkID)
		if err != nil {
			return err
		}
		if !l.live() {
			return models.Invalid("link", "That supervision has already ended.")
		}
		row.LinkID, row.GuardianID = &l.ID, &g.ID
		w.linkID = &l.ID
		what = "end " + g.Name + "'s supervision"
	case models.ProposeDisableGuardian:
		g, err := w.caseGuardian(w.a.GuardianID)
		if err != nil {
			return err
		}
		row.GuardianID = &g.ID
		what = "disable " + g.Name + "'s account"
	}
	if err := w.tx.Create(&row).Error; err != nil {
		return err
	}
	w.action, w.summary = models.ActionDisputeProposed, "Proposed to "+what+"; a lead must approve."
	var leads []userRow
	if err := w.tx.Where("role = ? AND disabled_at IS NULL AND id <> ?", string(models.RoleLead), w.me.ID).Find(&leads).Error; err != nil {
		return err
	}
	for _, l := range leads {
		if err := w.s.notify(w.tx, l.ID, w.teenID(), models.NotifyStaffDisputeWork,
			w.me.Name+" proposed to "+what+" on case #"+strconv.FormatInt(w.d.ID, 10)+"; it needs a lead.", staffCasePath(w.d.ID), nil); err != nil {
			return err
		}
	}
	return nil
}

// caseGuardian reads a guardian who has or had a link with the case teen;
// anyone else is models.ErrNotFound.
func (w *caseWork) caseGuardian(id int64) (person, error) {
	var n int64
	if err := w.tx.Model(&linkRow{}).Where("teen_id = ? AND guardian_id = ?", w.teen.ID, id).Count(&n).Error; err != nil {
		return person{}, err
	}
	if n == 0 {
		return person{}, models.ErrNotFound
	}
	return loadPerson(w.tx, id)
}

func (w *caseWork) decide() error {
	var p proposalRow
	if err := w.tx.Where("id = ? AND dispute_id = ?", w.a.ProposalID, w.d.ID).Take(&p).Error; err != nil {
		return err
	}
	if p.State != string(models.ProposalPending) {
		return models.Invalid("proposal", "That proposal was already decided.")
	}
	state, action, words := models.ProposalDeclined, models.ActionDisputeDeclined, "Declined"
	if w.a.Kind == models.ActApprove {
		state, action, words = models.ProposalApproved, models.ActionDisputeApproved, "Approved"
	}
	res := w.tx.Model(&proposalRow{}).Where("id = ? AND state = ?", p.ID, string(models.ProposalPending)).
		Updates(map[string]any{"state": string(state), "decided_by": w.me.ID, "decided_by_name": w.me.Name,
			"decision_reason": w.a.Reason, "decided_at": w.now})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return models.ErrCaseChanged
	}
	what := models.ProposalAction(p.Action).Label()
	w.action, w.summary = action, words+" "+p.ProposedByName+"'s proposal: "+strings.ToLower(what[:1])+what[1:]+"."
	if p.ProposedBy != nil && *p.ProposedBy != w.me.ID {
		if err := w.s.notify(w.tx, *p.ProposedBy, w.teenID(), models.NotifyStaffDisputeWork,
			w.me.Name+" "+strings.ToLower(words)+" your proposal on case #"+strconv.FormatInt(w.d.ID, 10)+".", staffCasePath(w.d.ID), nil); err != nil {
			return err
		}
	}
	if state != models.ProposalApproved {
		return nil
	}
	// The agent's reason is why it is done; the lead's is why they agreed.
	why := p.Reason + " (Approved: " + w.a.Reason + ")"
	switch models.ProposalAction(p.Action) {
	case models.ProposeEndLink:
		if p.LinkID == nil {
			return models.Invalid("proposal", "The supervision of that proposal no longer exists.")
		}
		_, err := w.endLink(*p.LinkID, why)
		return err
	case models.ProposeDisableGuardian:
		if p.GuardianID == nil {
			return models.Invalid("proposal", "The account of that proposal no longer exists.")
		}
		_, err := w.disable(*p.GuardianID, why)
		return err
	}
	return nil
}

// disable closes a guardian's account: it can no longer sign in, its
// sessions end at once, and every supervision it holds ends (a disabled
// account cannot supervise anyone), each teen and their other guardians
// told in neutral words.
func (w *caseWork) disable(guardianID int64, reason string) (string, error) {
	g, err := w.caseGuardian(guardianID)
	if err != nil {
		return "", err
	}
	if g.Role != string(models.RoleGuardian) {
		return "", models.ErrNotFound
	}
	var u userRow
	if err := w.tx.Where("id = ?", g.ID).Take(&u).Error; err != nil {
		return "", err
	}
	if u.DisabledAt != nil {
		return "", models.Invalid("guardian", g.Name+"'s account is already disabled.")
	}
	if err := w.tx.Model(&userRow{}).Where("id = ? AND disabled_at IS NULL", g.ID).
		Updates(map[string]any{"disabled_at": w.now, "updated_at": w.now}).Error; err != nil {
		return "", err
	}
	if err := w.tx.Where("user_id = ?", g.ID).Delete(&sessionRow{}).Error; err != nil {
		return "", err
	}
	by := w.actor()
	if err := w.s.appendAudit(w.tx, models.AuditEvent{TeenID: w.teen.ID, At: w.now, ActorID: by.id, ActorRole: by.role, ActorName: by.name,
		Action: models.ActionAccountDisabled, Reason: w.neutral(), Before: obj("guardian", g.Name, "disabled", false),
		After: obj("guardian", g.Name, "disabled", true)}); err != nil {
		return "", err
	}
	closed := "Hearth support closed your Hearth account after a review. Your supervision of any teen has ended."
	if err := w.s.notify(w.tx, g.ID, nil, models.NotifyLinkEnded, closed, guardianHomePath,
		w.s.guardianMail(g, "Your Hearth account was closed", closed, guardianHomePath)); err != nil {
		return "", err
	}
	var live []linkRow
	if err := w.tx.Where("guardian_id = ? AND state IN ?", g.ID, liveStates).Order("teen_id, id").Find(&live).Error; err != nil {
		return "", err
	}
	sentence := "Hearth support closed " + g.Name + "'s account, so their supervision ended."
	for _, l := range live {
		teen := w.teen
		if l.TeenID != w.teen.ID {
			if teen, err = lockTeen(w.tx, "id = ?", l.TeenID); err != nil {
				return "", err
			}
		}
		auditReason := neutralReason
		if l.TeenID == w.teen.ID && !w.d.Confidential {
			auditReason = reason
		}
		if err := w.s.endLink(w.tx, teen, l, g, by, sentence, auditReason, w.now); err != nil {
			return "", err
		}
		teenID := teen.ID
		if err := w.s.notify(w.tx, teen.UserID, &teenID, models.NotifyLinkEnded,
			sentence+" They no longer see anything about you.", teenSupervision, nil); err != nil {
			return "", err
		}
		others, err := activeGuardians(w.tx, teen.ID, g.ID)
		if err != nil {
			return "", err
		}
		for _, o := range others {
			path := guardianTeenPath(teen.ID)
			msg := "Hearth support closed " + g.Name + "'s account, so their supervision of " + teen.DisplayName + " ended."
			if err := w.s.notify(w.tx, o.ID, &teenID, models.NotifyLinkEnded, msg, path, w.s.guardianMail(o, msg, msg, path)); err != nil {
				return "", err
			}
		}
	}
	return g.Name, nil
}
