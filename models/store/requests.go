package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

type requestRow struct {
	ID           int64 `gorm:"primaryKey"`
	TeenID       int64
	LinkID       *int64
	Kind         string
	State        string
	Reason       string
	Payload      string
	CreatedAt    time.Time
	DecidedAt    *time.Time
	DecidedBy    *int64
	DecisionNote string
	ExpiresAt    *time.Time
}

func (requestRow) TableName() string { return "requests" }

type requestView struct {
	Row          requestRow `gorm:"embedded"`
	TeenName     string
	GuardianName string
}

func (v requestView) model() models.Request {
	r := v.Row
	payload := json.RawMessage(r.Payload)
	if len(payload) == 0 {
		payload = json.RawMessage("{}")
	}
	return models.Request{ID: r.ID, TeenID: r.TeenID, LinkID: r.LinkID, Kind: models.RequestKind(r.Kind),
		State: models.RequestState(r.State), Reason: r.Reason, Payload: payload, CreatedAt: r.CreatedAt.UTC(),
		DecidedAt: utcPtr(r.DecidedAt), DecidedBy: r.DecidedBy, DecisionNote: r.DecisionNote, ExpiresAt: utcPtr(r.ExpiresAt),
		TeenName: v.TeenName, GuardianName: v.GuardianName}
}

func requestQuery(db *gorm.DB) *gorm.DB {
	return db.Table("requests").
		Select("requests.*, teens.display_name AS teen_name, COALESCE(users.name, '') AS guardian_name").
		Joins("JOIN teens ON teens.id = requests.teen_id").
		Joins("LEFT JOIN links ON links.id = requests.link_id").
		Joins("LEFT JOIN users ON users.id = links.guardian_id")
}

func requestModels(vs []requestView) []models.Request {
	out := make([]models.Request, len(vs))
	for i, v := range vs {
		out[i] = v.model()
	}
	return out
}

// errAnswered means the request was decided or cancelled already.
var errAnswered = fmt.Errorf("%w: the request was already answered or cancelled", models.ErrConflict)

// requestAudience is who hears about a request: for end_supervision only the
// guardian of that link, since it is about them alone and nobody else may
// answer it; for other kinds every active guardian, any of whom may answer.
func requestAudience(tx *gorm.DB, r requestRow) ([]person, error) {
	if models.RequestKind(r.Kind) != models.RequestEndSupervision {
		return activeGuardians(tx, r.TeenID)
	}
	if r.LinkID == nil {
		return nil, nil
	}
	var l linkRow
	if err := tx.Where("id = ?", *r.LinkID).Take(&l).Error; err != nil {
		return nil, err
	}
	if l.State != string(models.LinkActive) {
		return nil, nil
	}
	g, err := loadPerson(tx, l.GuardianID)
	if err != nil {
		return nil, err
	}
	return []person{g}, nil
}

// RequestEndSupervision sends a 13–15-year-old teen viewer's request to end
// one of their live links to that link's guardian, who may approve or
// decline it. reason is optional, at most 500 characters, and shown to that
// guardian. A 16- or 17-year-old is told (a validation error on "link") to
// end it themself; another teen's link, an ended one or a non-teen viewer
// is models.ErrNotFound; a second pending request about the same link is
// models.ErrRequestPending (an models.ErrConflict).
func (s *Store) RequestEndSupervision(ctx context.Context, viewer models.Actor, linkID int64, reason string) (models.Request, error) {
	if viewer.Role != models.RoleTeen || viewer.UserID == 0 {
		return models.Request{}, models.ErrNotFound
	}
	reason, err := cleanReason("reason", reason)
	if err != nil {
		return models.Request{}, err
	}
	var out models.Request
	err = s.tx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()
		var l linkRow
		if err := tx.Where("id = ?", linkID).Take(&l).Error; err != nil {
			return err
		}
		teen, err := lockTeen(tx, "id = ?", l.TeenID)
		if err != nil {
			return err
		}
		if err := tx.Where("id = ?", linkID).Take(&l).Error; err != nil {
			return err
		}
		if teen.UserID != viewer.UserID || !l.live() {
			return models.ErrNotFound
		}
		if teen.model().BirthMonth.AgeAt(now) >= 16 {
			return models.Invalid("link", "You can end supervision yourself, at once: at 16 and over you don't need to ask.")
		}
		var n int64
		if err := tx.Model(&requestRow{}).Where("link_id = ? AND kind = ? AND state = ?", l.ID, string(models.RequestEndSupervision),
			string(models.RequestPending)).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return models.ErrRequestPending
		}
		row := requestRow{TeenID: teen.ID, LinkID: &l.ID, Kind: string(models.RequestEndSupervision), State: string(models.RequestPending),
			Reason: reason, Payload: "{}", CreatedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return models.ErrRequestPending
			}
			return err
		}
		g, err := loadPerson(tx, l.GuardianID)
		if err != nil {
			return err
		}
		me, err := loadPerson(tx, viewer.UserID)
		if err != nil {
			return err
		}
		if err := s.appendAudit(tx, models.AuditEvent{TeenID: teen.ID, At: now, ActorID: me.ID, ActorRole: me.Role, ActorName: me.Name,
			Action: models.ActionRequestCreated, LinkID: &l.ID, Reason: reason,
			Before: obj(),
			After:  obj("state", string(models.RequestPending), "kind", row.Kind, "request_id", row.ID, "guardian", g.Name)}); err != nil {
			return err
		}
		out = requestView{Row: row, TeenName: teen.DisplayName, GuardianName: g.Name}.model()
		if l.State != string(models.LinkActive) {
			return nil // a suspended guardian cannot answer and is not told
		}
		name, teenID, path := teen.DisplayName, teen.ID, guardianTeenPath(teen.ID)
		msg := name + " asked you to end your supervision. You can approve or decline it on " + name + "'s page."
		return s.notify(tx, g.ID, &teenID, models.NotifyRequestCreated, msg, path, s.guardianMail(g, name+" asked to end your supervision", msg, path))
	})
	if err != nil {
		return models.Request{}, err
	}
	return out, nil
}

// TeenRequests returns every request of the teen viewer, newest first, with
// the name of the guardian each end_supervision request is about. Anyone
// but a teen gets models.ErrNotFound.
func (s *Store) TeenRequests(ctx context.Context, viewer models.Actor) ([]models.Request, error) {
	if viewer.Role != models.RoleTeen || viewer.UserID == 0 {
		return nil, models.ErrNotFound
	}
	var vs []requestView
	if err := requestQuery(s.db.WithContext(ctx)).Where("teens.user_id = ?", viewer.UserID).
		Order("requests.id DESC").Find(&vs).Error; err != nil {
		return nil, err
	}
	return requestModels(vs), nil
}

// GuardianRequests returns the pending requests about teenID that the
// guardian viewer may decide, newest first: end_supervision requests about
// their own link only, and requests of other kinds (any active guardian may
// answer those). Without an active link to the teen it is
// models.ErrNotFound.
func (s *Store) GuardianRequests(ctx context.Context, viewer models.Actor, teenID int64) ([]models.Request, error) {
	if viewer.Role != models.RoleGuardian || viewer.UserID == 0 {
		return nil, models.ErrNotFound
	}
	db := s.db.WithContext(ctx)
	var l linkRow
	if err := db.Where("teen_id = ? AND guardian_id = ? AND state = ?", teenID, viewer.UserID, string(models.LinkActive)).Take(&l).Error; err != nil {
		return nil, mapErr(err)
	}
	var vs []requestView
	if err := requestQuery(db).
		Where("requests.teen_id = ? AND requests.state = ?", teenID, string(models.RequestPending)).
		Where("(requests.kind = ? AND requests.link_id = ?) OR requests.kind <> ?",
			string(models.RequestEndSupervision), l.ID, string(models.RequestEndSupervision)).
		Order("requests.id DESC").Find(&vs).Error; err != nil {
		return nil, err
	}
	return requestModels(vs), nil
}

// DecideRequest approves or declines a pending request as the guardian
// viewer, with an optional note (at most 500 characters) shown to the teen.
// An end_supervision request can be decided only by the guardian of that
// link while it is active: nobody evicts anybody, so another guardian of the
// teen gets models.ErrNotFound, exactly as if the request did not exist (it
// is not theirs to see either). Requests of other kinds may be decided by
// any active guardian of the teen. An answered or cancelled request is a
// models.ErrConflict. Approving end_supervision ends the link as EndLink
// does; a loosen_policy request is decided by DecideLoosening with
// models.GrantUntilChanged; approving another kind runs OnRequestApproved.
// The teen is told, and the other active guardians when a link ends.
func (s *Store) DecideRequest(ctx context.Context, viewer models.Actor, requestID int64, approve bool, note string) error {
	if viewer.Role != models.RoleGuardian || viewer.UserID == 0 {
		return models.ErrNotFound
	}
	note, err := cleanReason("note", note)
	if err != nil {
		return err
	}
	if s.requestKind(ctx, requestID) == models.RequestLoosenPolicy {
		// Loosening requests have their own decision (with a duration);
		// deciding one here approves it until the rules are changed.
		return s.DecideLoosening(ctx, viewer, requestID, approve, note, models.GrantUntilChanged)
	}
	return s.policyTx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()
		var r requestRow
		if err := tx.Where("id = ?", requestID).Take(&r).Error; err != nil {
			return err
		}
		teen, err := lockTeen(tx, "id = ?", r.TeenID)
		if err != nil {
			return err
		}
		if err := tx.Clauses(lockForUpdate).Where("id = ?", requestID).Take(&r).Error; err != nil {
			return err
		}
		var mine linkRow
		if err := tx.Where("teen_id = ? AND guardian_id = ? AND state = ?", teen.ID, viewer.UserID, string(models.LinkActive)).
			Take(&mine).Error; err != nil {
			return err // no active link: not found
		}
		endSupervision := models.RequestKind(r.Kind) == models.RequestEndSupervision
		if endSupervision && (r.LinkID == nil || *r.LinkID != mine.ID) {
			return models.ErrNotFound
		}
		if r.State != string(models.RequestPending) {
			return errAnswered
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
		if err := s.appendAudit(tx, models.AuditEvent{TeenID: teen.ID, At: now, ActorID: g.ID, ActorRole: g.Role, ActorName: g.Name,
			Action: action, LinkID: r.LinkID, Reason: note,
			Before: obj("state", string(models.RequestPending), "kind", r.Kind, "request_id", r.ID),
			After:  obj("state", string(state), "kind", r.Kind, "request_id", r.ID)}); err != nil {
			return err
		}
		name, teenID := teen.DisplayName, teen.ID
		noteSuffix := ""
		if note != "" {
			noteSuffix = " They wrote: “" + note + "”"
		}
		switch {
		case !approve:
			what := "your request"
			if endSupervision {
				what = "your request to end their supervision"
			}
			return s.notify(tx, teen.UserID, &teenID, models.NotifyRequestDecided, g.Name+" declined "+what+"."+noteSuffix, teenSupervision, nil)
		case endSupervision:
			sentence := withReason(g.Name+" ended their supervision of "+name+", as "+name+" asked.", note)
			if err := s.endLink(tx, teen, mine, g, actorOf(g), sentence, note, now); err != nil {
				return err
			}
			if err := s.notify(tx, teen.UserID, &teenID, models.NotifyRequestDecided,
				g.Name+" agreed to end their supervision. They no longer see anything about you."+noteSuffix, teenSupervision, nil); err != nil {
				return err
			}
			others, err := activeGuardians(tx, teen.ID, g.ID)
			if err != nil {
				return err
			}
			msg := g.Name + " stopped supervising " + name + ", as " + name + " asked."
			for _, o := range others {
				path := guardianTeenPath(teenID)
				if err := s.notify(tx, o.ID, &teenID, models.NotifyLinkEnded, msg, path, s.guardianMail(o, g.Name+" stopped supervising "+name, msg, path)); err != nil {
					return err
				}
			}
			return nil
		default:
			if s.OnRequestApproved != nil {
				v := requestView{Row: r, TeenName: name}
				v.Row.State, v.Row.DecidedAt, v.Row.DecidedBy, v.Row.DecisionNote = string(state), &now, &g.ID, note
				if err := s.OnRequestApproved(tx, v.model()); err != nil {
					return err
				}
			}
			return s.notify(tx, teen.UserID, &teenID, models.NotifyRequestDecided, g.Name+" approved your request."+noteSuffix, teenSupervision, nil)
		}
	})
}

// CancelRequest withdraws one of the teen viewer's own pending requests; the
// guardians it was sent to are told. Another teen's request, or a non-teen
// viewer, is models.ErrNotFound; an answered one is models.ErrConflict.
func (s *Store) CancelRequest(ctx context.Context, viewer models.Actor, requestID int64) error {
	if viewer.Role != models.RoleTeen || viewer.UserID == 0 {
		return models.ErrNotFound
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()
		var r requestRow
		if err := tx.Where("id = ?", requestID).Take(&r).Error; err != nil {
			return err
		}
		teen, err := lockTeen(tx, "id = ?", r.TeenID)
		if err != nil {
			return err
		}
		if teen.UserID != viewer.UserID {
			return models.ErrNotFound
		}
		if err := tx.Clauses(lockForUpdate).Where("id = ?", requestID).Take(&r).Error; err != nil {
			return err
		}
		if r.State != string(models.RequestPending) {
			return errAnswered
		}
		res := tx.Model(&requestRow{}).Where("id = ? AND state = ?", r.ID, string(models.RequestPending)).
			Updates(map[string]any{"state": string(models.RequestCancelled), "decided_at": now, "decided_by": viewer.UserID})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return errAnswered
		}
		me, err := loadPerson(tx, viewer.UserID)
		if err != nil {
			return err
		}
		if err := s.appendAudit(tx, models.AuditEvent{TeenID: teen.ID, At: now, ActorID: me.ID, ActorRole: me.Role, ActorName: me.Name,
			Action: models.ActionRequestCancelled, LinkID: r.LinkID,
			Before: obj("state", string(models.RequestPending), "kind", r.Kind, "request_id", r.ID),
			After:  obj("state", string(models.RequestCancelled), "kind", r.Kind, "request_id", r.ID)}); err != nil {
			return err
		}
		audience, err := requestAudience(tx, r)
		if err != nil {
			return err
		}
		name, teenID, path := teen.DisplayName, teen.ID, guardianTeenPath(teen.ID)
		msg := name + " cancelled their request."
		if models.RequestKind(r.Kind) == models.RequestEndSupervision {
			msg = name + " cancelled their request to end your supervision."
		}
		for _, g := range audience {
			if err := s.notify(tx, g.ID, &teenID, models.NotifyRequestCancelled, msg, path, s.guardianMail(g, msg, msg, path)); err != nil {
				return err
			}
		}
		return nil
	})
}
