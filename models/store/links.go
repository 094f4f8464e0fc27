package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hearth-safety/hearth/models"
)

// linking holds what the linking flows need beyond the database. It is
// embedded in Store, so its exported hooks read as Store fields
// (s.OnLinkCreated). Set them once at start, before serving.
type linking struct {
	outbox   models.EmailOutbox
	notifier models.AlertNotifier
	baseURL  string

	// OnLinkCreated runs inside the transaction that accepts an invitation,
	// after the link exists and before anyone is told, so the teen's first
	// DM policy is created atomically with the link: no moment exists in
	// which a supervised teen has no rules. An error rolls the link back.
	// Nil does nothing.
	OnLinkCreated func(tx *gorm.DB, teen models.Teen, link models.Link) error

	// OnRequestApproved runs inside the transaction of a guardian approving
	// a request whose kind the store does not act on itself (anything but
	// end_supervision, such as loosen_policy), so the change the teen asked
	// for commits together with the approval. Nil does nothing.
	OnRequestApproved func(tx *gorm.DB, r models.Request) error
}

// SetOutbox makes the store queue email for guardian-facing notifications
// through o, inside the transaction of the change. baseURL (such as
// "http://127.0.0.1:8080") prefixes the links in those emails. Without an
// outbox, notifications are still stored but nothing is emailed.
func (s *Store) SetOutbox(o models.EmailOutbox, baseURL string) {
	s.outbox = o
	s.baseURL = strings.TrimRight(baseURL, "/")
}

// SetAlertNotifier makes the store tell n, inside the transaction that
// stores them, which alerts are new or grew. Without one, alerts are stored
// and shown but nobody is emailed.
func (s *Store) SetAlertNotifier(n models.AlertNotifier) { s.notifier = n }

// stamp is the store's clock cut to microseconds, the precision Postgres
// keeps. Every time this file family writes goes through it, so a value
// compared or hashed after a round trip equals the one written, on both
// databases.
func (s *Store) stamp() time.Time { return s.now().Truncate(time.Microsecond) }

var liveStates = []string{string(models.LinkActive), string(models.LinkSuspended)}

type linkRow struct {
	ID         int64 `gorm:"primaryKey"`
	TeenID     int64
	GuardianID int64
	State      string
	CreatedAt  time.Time
	EndedAt    *time.Time
	EndReason  string
	EndedBy    *int64
}

func (linkRow) TableName() string { return "links" }

func (r linkRow) live() bool { return models.Link{State: models.LinkState(r.State)}.Live() }

// linkView is a link with the names people see next to it.
type linkView struct {
	Row           linkRow `gorm:"embedded"`
	GuardianName  string
	GuardianEmail string
	TeenName      string
}

func (v linkView) model() models.Link {
	r := v.Row
	return models.Link{ID: r.ID, TeenID: r.TeenID, GuardianID: r.GuardianID, State: models.LinkState(r.State),
		CreatedAt: r.CreatedAt.UTC(), EndedAt: utcPtr(r.EndedAt), EndReason: r.EndReason, EndedBy: r.EndedBy,
		GuardianName: v.GuardianName, GuardianEmail: v.GuardianEmail, TeenName: v.TeenName}
}

func linkQuery(db *gorm.DB) *gorm.DB {
	return db.Table("links").
		Select("links.*, users.name AS guardian_name, COALESCE(users.email, '') AS guardian_email, teens.display_name AS teen_name").
		Joins("JOIN users ON users.id = links.guardian_id").
		Joins("JOIN teens ON teens.id = links.teen_id")
}

func linkModels(vs []linkView) []models.Link {
	out := make([]models.Link, len(vs))
	for i, v := range vs {
		out[i] = v.model()
	}
	return out
}

// person is a user as the linking flows need them: who to tell, by which
// name, and where to email.
type person struct {
	ID    int64
	Name  string
	Email string
	Role  string
}

func loadPerson(tx *gorm.DB, id int64) (person, error) {
	var u userRow
	if err := tx.Where("id = ?", id).Take(&u).Error; err != nil {
		return person{}, err
	}
	p := person{ID: u.ID, Name: u.Name, Role: u.Role}
	if u.Email != nil {
		p.Email = *u.Email
	}
	return p, nil
}

// activeGuardians lists the guardians with an active link to teenID, except
// the given users, oldest link first. Suspended guardians are left out on
// purpose: staff suspend a guardian when something is wrong, and such a
// person must not keep learning about the teen.
func activeGuardians(tx *gorm.DB, teenID int64, except ...int64) ([]person, error) {
	var ps []person
	q := tx.Table("links").Select("users.id, users.name, COALESCE(users.email, '') AS email, users.role").
		Joins("JOIN users ON users.id = links.guardian_id").
		Where("links.teen_id = ? AND links.state = ?", teenID, string(models.LinkActive))
	if len(except) > 0 {
		q = q.Where("links.guardian_id NOT IN ?", except)
	}
	err := q.Order("links.id").Scan(&ps).Error
	return ps, err
}

// lockForUpdate is SELECT … FOR NO KEY UPDATE on Postgres: it serializes
// the linking flows on a row exactly as FOR UPDATE would (the two conflict
// with each other and with plain UPDATEs), but does not block other
// transactions that merely insert rows referencing it, whose foreign-key
// checks take KEY SHARE locks (an alert arriving for the teen, a
// notification for the guardian). SQLite ignores it.
var lockForUpdate = clause.Locking{Strength: "NO KEY UPDATE"}

// lockTeen reads the teen row and, on Postgres, locks it until the
// transaction ends. Every change to a teen's links, requests and audit chain
// takes this lock first, which serializes them per teen: the guardian count,
// the one-pending-request rule and the hash chain all hold under concurrency.
// SQLite needs no lock: its one connection and BEGIN IMMEDIATE already
// serialize writers (gorm's SQLite dialect drops the FOR UPDATE clause).
func lockTeen(tx *gorm.DB, query string, args ...any) (teenRow, error) {
	var row teenRow
	err := tx.Clauses(lockForUpdate).Where(query, args...).Take(&row).Error
	return row, err
}

// auditActor is who an audit entry names.
type auditActor struct {
	id   int64
	role string
	name string
}

func actorOf(p person) auditActor { return auditActor{id: p.ID, role: p.Role, name: p.Name} }

// systemActor is Hearth acting by itself.
var systemActor = auditActor{role: models.AuditRoleSystem, name: "Hearth"}

// obj encodes a small before/after object for the audit log. Map keys are
// sorted by encoding/json, so the same facts always give the same text.
func obj(kv ...any) json.RawMessage {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // only strings and numbers go in
	}
	return b
}

// cleanText trims free text a person typed and checks its length.
func cleanText(field, s string, max int, tooLong string) (string, error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		return "", models.Invalid(field, tooLong)
	}
	if !utf8.ValidString(s) {
		return "", models.Invalid(field, "contains characters that are not valid text")
	}
	return s, nil
}

func cleanReason(field, s string) (string, error) {
	return cleanText(field, s, models.MaxReasonLen, "Keep it to 500 characters or fewer.")
}

// withReason appends the words a person gave to a sentence about what happened.
func withReason(sentence, reason string) string {
	if reason == "" {
		return sentence
	}
	return sentence + " Reason given: “" + reason + "”"
}

func guardianTeenPath(teenID int64) string { return "/teens/" + strconv.FormatInt(teenID, 10) }

const (
	guardianHomePath = "/"
	teenSupervision  = "/teen/supervision"
)

// GuardianTeen is one teen on a guardian's dashboard or page.
type GuardianTeen struct {
	Teen models.Teen
	// Link is the viewer's own link with the teen (the newest, when there
	// were several over time).
	Link models.Link
	// Others are the other guardians' live links, filled only while the
	// viewer's own link is active: a guardian who left, or was suspended,
	// no longer learns who supervises the teen.
	Others []models.Link
}

// GuardianTeens returns every teen the guardian viewer has or had a link
// with, for the dashboard: the newest link per teen, ended ones included so
// the guardian sees what ended and why. Live links come first, then ended
// ones, each newest first. Anyone but a guardian gets models.ErrNotFound.
func (s *Store) GuardianTeens(ctx context.Context, viewer models.Actor) ([]GuardianTeen, error) {
	if viewer.Role != models.RoleGuardian || viewer.UserID == 0 {
		return nil, models.ErrNotFound
	}
	db := s.db.WithContext(ctx)
	var mine []linkView
	if err := linkQuery(db).Where("links.guardian_id = ?", viewer.UserID).Order("links.id DESC").Find(&mine).Error; err != nil {
		return nil, err
	}
	var out []GuardianTeen
	seen := map[int64]bool{}
	var activeTeens []int64
	for _, l := range mine {
		if seen[l.Row.TeenID] {
			continue
		}
		seen[l.Row.TeenID] = true
		out = append(out, GuardianTeen{Link: l.model()})
		if l.Row.State == string(models.LinkActive) {
			activeTeens = append(activeTeens, l.Row.TeenID)
		}
	}
	if len(out) == 0 {
		return []GuardianTeen{}, nil
	}
	ids := make([]int64, 0, len(out))
	for _, gt := range out {
		ids = append(ids, gt.Link.TeenID)
	}
	var teens []teenRow
	if err := db.Where("id IN ?", ids).Find(&teens).Error; err != nil {
		return nil, err
	}
	byID := make(map[int64]models.Teen, len(teens))
	for _, t := range teens {
		byID[t.ID] = t.model()
	}
	others := map[int64][]models.Link{}
	if len(activeTeens) > 0 {
		var os []linkView
		if err := linkQuery(db).Where("links.teen_id IN ? AND links.state IN ? AND links.guardian_id <> ?", activeTeens, liveStates, viewer.UserID).
			Order("links.id").Find(&os).Error; err != nil {
			return nil, err
		}
		for _, o := range os {
			others[o.Row.TeenID] = append(others[o.Row.TeenID], o.model())
		}
	}
	for i := range out {
		out[i].Teen = byID[out[i].Link.TeenID]
		out[i].Others = others[out[i].Link.TeenID]
	}
	slices.SortStableFunc(out, func(a, b GuardianTeen) int {
		if a.Link.Live() != b.Link.Live() {
			if a.Link.Live() {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.Link.ID, a.Link.ID)
	})
	return out, nil
}

// TeenForGuardian returns teenID with the viewer's link and the other live
// links, only while the guardian viewer's link is active. Anything else (no
// link, an ended or suspended one, another role) is models.ErrNotFound, so a
// guardian cannot even learn whether another teen exists.
func (s *Store) TeenForGuardian(ctx context.Context, viewer models.Actor, teenID int64) (GuardianTeen, error) {
	if viewer.Role != models.RoleGuardian || viewer.UserID == 0 {
		return GuardianTeen{}, models.ErrNotFound
	}
	db := s.db.WithContext(ctx)
	var mine linkView
	if err := linkQuery(db).Where("links.teen_id = ? AND links.guardian_id = ? AND links.state = ?", teenID, viewer.UserID, string(models.LinkActive)).
		Take(&mine).Error; err != nil {
		return GuardianTeen{}, mapErr(err)
	}
	var t teenRow
	if err := db.Where("id = ?", teenID).Take(&t).Error; err != nil {
		return GuardianTeen{}, mapErr(err)
	}
	var others []linkView
	if err := linkQuery(db).Where("links.teen_id = ? AND links.state IN ? AND links.guardian_id <> ?", teenID, liveStates, viewer.UserID).
		Order("links.id").Find(&others).Error; err != nil {
		return GuardianTeen{}, err
	}
	return GuardianTeen{Teen: t.model(), Link: mine.model(), Others: linkModels(others)}, nil
}

// TeenGuardians returns the teen viewer's live links, with each guardian's
// name and email, oldest first: who supervises them, for "My supervision".
// Anyone but a teen gets models.ErrNotFound.
func (s *Store) TeenGuardians(ctx context.Context, viewer models.Actor) ([]models.Link, error) {
	if viewer.Role != models.RoleTeen || viewer.UserID == 0 {
		return nil, models.ErrNotFound
	}
	var vs []linkView
	if err := linkQuery(s.db.WithContext(ctx)).Where("teens.user_id = ? AND links.state IN ?", viewer.UserID, liveStates).
		Order("links.id").Find(&vs).Error; err != nil {
		return nil, err
	}
	return linkModels(vs), nil
}

// SupervisorNames returns the names of the active guardians of the teen
// whose account is userID, oldest link first, for the "Supervised by" banner
// on every teen page. It runs on every teen request, so it is one indexed
// query (teens.user_id, links(teen_id, state)). Nil when nobody supervises.
func (s *Store) SupervisorNames(ctx context.Context, userID int64) ([]string, error) {
	var names []string
	err := s.db.WithContext(ctx).Table("links").Select("users.name").
		Joins("JOIN teens ON teens.id = links.teen_id").
		Joins("JOIN users ON users.id = links.guardian_id").
		Where("teens.user_id = ? AND links.state = ?", userID, string(models.LinkActive)).
		Order("links.id").Pluck("users.name", &names).Error
	return names, err
}

// EndLink ends a live link. The guardian of the link may end it at any time;
// the teen may end it at once when 16 or older, while a teen of 13–15 gets
// models.ErrForbidden (they ask with RequestEndSupervision instead). Anyone
// else, and a link that already ended, is models.ErrNotFound. reason is the
// person's own words (optional, at most 500 characters); it is kept in the
// audit log and added to the end reason both sides see. The teen and the
// other active guardians are told, and so is the guardian when the teen
// ended it; pending requests about the link are cancelled.
func (s *Store) EndLink(ctx context.Context, viewer models.Actor, linkID int64, reason string) error {
	reason, err := cleanReason("reason", reason)
	if err != nil {
		return err
	}
	if viewer.UserID == 0 || (viewer.Role != models.RoleGuardian && viewer.Role != models.RoleTeen) {
		return models.ErrNotFound
	}
	return s.policyTx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()
		var l linkRow
		if err := tx.Where("id = ?", linkID).Take(&l).Error; err != nil {
			return err
		}
		teen, err := lockTeen(tx, "id = ?", l.TeenID)
		if err != nil {
			return err
		}
		// Read again under the teen's lock: a concurrent end may have won.
		if err := tx.Where("id = ?", linkID).Take(&l).Error; err != nil {
			return err
		}
		byTeen := false
		switch {
		case !l.live():
			return models.ErrNotFound
		case viewer.Role == models.RoleGuardian && l.GuardianID == viewer.UserID:
		case viewer.Role == models.RoleTeen && teen.UserID == viewer.UserID:
			if teen.model().BirthMonth.AgeAt(now) < 16 {
				return models.ErrForbidden
			}
			byTeen = true
		default:
			return models.ErrNotFound
		}
		g, err := loadPerson(tx, l.GuardianID)
		if err != nil {
			return err
		}
		actor := g
		if byTeen {
			if actor, err = loadPerson(tx, teen.UserID); err != nil {
				return err
			}
		}
		name := teen.DisplayName
		sentence := g.Name + " ended their supervision of " + name + "."
		if byTeen {
			sentence = name + " ended " + g.Name + "'s supervision."
		}
		if err := s.endLink(tx, teen, l, g, actorOf(actor), withReason(sentence, reason), reason, now); err != nil {
			return err
		}
		teenID := teen.ID
		others, err := activeGuardians(tx, teen.ID, g.ID)
		if err != nil {
			return err
		}
		if byTeen {
			msg := name + " ended your supervision. You no longer see anything about " + name + "."
			if err := s.notify(tx, g.ID, &teenID, models.NotifyLinkEnded, msg, guardianHomePath,
				s.guardianMail(g, name+" ended your supervision", msg, guardianHomePath)); err != nil {
				return err
			}
			msg = name + " ended " + g.Name + "'s supervision."
			for _, o := range others {
				if err := s.notify(tx, o.ID, &teenID, models.NotifyLinkEnded, msg, guardianTeenPath(teenID),
					s.guardianMail(o, msg, msg, guardianTeenPath(teenID))); err != nil {
					return err
				}
			}
			return nil
		}
		msg := g.Name + " ended their supervision. They no longer see anything about you."
		if err := s.notify(tx, teen.UserID, &teenID, models.NotifyLinkEnded, msg, teenSupervision, nil); err != nil {
			return err
		}
		msg = g.Name + " stopped supervising " + name + "."
		for _, o := range others {
			if err := s.notify(tx, o.ID, &teenID, models.NotifyLinkEnded, msg, guardianTeenPath(teenID),
				s.guardianMail(o, msg, msg, guardianTeenPath(teenID))); err != nil {
				return err
			}
		}
		return nil
	})
}

// endLink ends a live link inside tx, which holds the teen's lock: the
// state change, the audit entry, and the cancelling of requests about the
// link that can no longer be answered. Telling people is the caller's job,
// because who hears what depends on who ended it.
func (s *Store) endLink(tx *gorm.DB, teen teenRow, l linkRow, g person, by auditActor, sentence, reason string, now time.Time) error {
	var endedBy *int64
	if by.id != 0 {
		endedBy = &by.id
	}
	res := tx.Model(&linkRow{}).Where("id = ? AND state IN ?", l.ID, liveStates).
		Updates(map[string]any{"state": string(models.LinkEnded), "ended_at": now, "end_reason": sentence, "ended_by": endedBy})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return models.ErrNotFound
	}
	linkID := l.ID
	if err := s.appendAudit(tx, models.AuditEvent{TeenID: teen.ID, At: now, ActorID: by.id, ActorRole: by.role, ActorName: by.name,
		Action: models.ActionLinkEnded, LinkID: &linkID, Reason: reason,
		Before: obj("state", l.State, "guardian", g.Name), After: obj("state", string(models.LinkEnded), "guardian", g.Name)}); err != nil {
		return err
	}
	var pending []requestRow
	if err := tx.Where("link_id = ? AND state = ?", l.ID, string(models.RequestPending)).Order("id").Find(&pending).Error; err != nil {
		return err
	}
	for _, r := range pending {
		if err := tx.Model(&requestRow{}).Where("id = ? AND state = ?", r.ID, string(models.RequestPending)).
			Updates(map[string]any{"state": string(models.RequestCancelled), "decided_at": now}).Error; err != nil {
			return err
		}
		if err := s.appendAudit(tx, models.AuditEvent{TeenID: teen.ID, At: now, ActorID: by.id, ActorRole: by.role, ActorName: by.name,
			Action: models.ActionRequestCancelled, LinkID: &linkID, Reason: "The supervision it was about ended.",
			Before: obj("state", string(models.RequestPending), "kind", r.Kind, "request_id", r.ID),
			After:  obj("state", string(models.RequestCancelled), "kind", r.Kind, "request_id", r.ID)}); err != nil {
			return err
		}
	}
	// When this was the last active link, the teen's rules stop applying
	// (a new seq tells every node) and loosening requests are cancelled.
	return s.syncSupervision(tx, teen, by, &linkID, now)
}

// EndLinksAtEighteen ends every live link of every teen who has turned 18
// (BirthMonth.EighteenAt at or before now), as the scheduled job does, and
// reports how many links it ended. Each teen is handled in a transaction of
// its own, so one failure does not hold back everyone else's; the errors
// are returned joined. The audit entries name Hearth (role "system") as the
// actor; the teen and each guardian are told, guardians also by email.
func (s *Store) EndLinksAtEighteen(ctx context.Context) (int, error) {
	now := s.stamp()
	// Birth months are stored as YYYY-MM, which sorts like the months it
	// names, so "turned 18 by now" is one string comparison in SQL.
	cutoff := fmt.Sprintf("%04d-%02d", now.Year()-18, int(now.Month()))
	var teenIDs []int64
	if err := s.db.WithContext(ctx).Raw(`SELECT DISTINCT links.teen_id FROM links JOIN teens ON teens.id = links.teen_id
		WHERE links.state IN ? AND teens.birth_month <= ? ORDER BY links.teen_id`, liveStates, cutoff).Scan(&teenIDs).Error; err != nil {
		return 0, err
	}
	ended := 0
	var errs []error
	for _, id := range teenIDs {
		n, err := s.endLinksOfAdult(ctx, id)
		ended += n
		if err != nil {
			errs = append(errs, fmt.Errorf("end links of teen %d: %w", id, err))
		}
	}
	return ended, errors.Join(errs...)
}

func (s *Store) endLinksOfAdult(ctx context.Context, teenID int64) (int, error) {
	n := 0
	err := s.policyTx(ctx, func(tx *gorm.DB) error {
		n = 0
		now := s.stamp()
		teen, err := lockTeen(tx, "id = ?", teenID)
		if err != nil {
			return err
		}
		if now.Before(teen.model().BirthMonth.EighteenAt()) {
			return nil // the birth month was corrected meanwhile
		}
		var links []linkRow
		if err := tx.Where("teen_id = ? AND state IN ?", teenID, liveStates).Order("id").Find(&links).Error; err != nil {
			return err
		}
		name := teen.DisplayName
		sentence := name + " turned 18, so supervision ended automatically."
		for _, l := range links {
			g, err := loadPerson(tx, l.GuardianID)
			if err != nil {
				return err
			}
			if err := s.endLink(tx, teen, l, g, systemActor, sentence, sentence, now); err != nil {
				return err
			}
			n++
			msg := name + " turned 18, so your supervision ended automatically."
			if err := s.notify(tx, g.ID, &teenID, models.NotifyLinkEnded, msg, guardianHomePath,
				s.guardianMail(g, name+" turned 18: supervision ended", msg, guardianHomePath)); err != nil {
				return err
			}
		}
		if n == 0 {
			return nil
		}
		return s.notify(tx, teen.UserID, &teenID, models.NotifyLinkEnded,
			"You turned 18, so supervision ended automatically. Nobody supervises you on Hearth any more.", teenSupervision, nil)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
