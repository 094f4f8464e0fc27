package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

// The exports are built only from reads scoped to the viewer: what the
// download holds is what the person can already see on their pages, in
// full. Hashes, codes, session IDs and secrets are never part of it.

// GuardianExport returns everything Hearth keeps about the guardian viewer
// (see models.GuardianExport). Anyone else gets models.ErrNotFound.
func (s *Store) GuardianExport(ctx context.Context, viewer models.Actor) (models.GuardianExport, error) {
	if viewer.Role != models.RoleGuardian || viewer.UserID == 0 {
		return models.GuardianExport{}, models.ErrNotFound
	}
	db := s.db.WithContext(ctx)
	now := s.now()
	var u userRow
	if err := db.Where("id = ? AND role = ?", viewer.UserID, string(models.RoleGuardian)).Take(&u).Error; err != nil {
		return models.GuardianExport{}, mapErr(err)
	}
	m := u.model()
	out := models.GuardianExport{Format: models.GuardianExportFormat, ExportedAt: now,
		Account: models.ExportAccount{Name: m.Name, Email: m.Email, Role: string(m.Role), EmailVerifiedAt: m.EmailVerifiedAt, CreatedAt: m.CreatedAt},
		Links:   []models.ExportLink{}, Invitations: []models.ExportInvitation{}, Teens: []models.ExportGuardianTeen{}}

	var links []linkView
	if err := linkQuery(db).Where("links.guardian_id = ?", viewer.UserID).Order("links.id DESC").Find(&links).Error; err != nil {
		return out, err
	}
	var active []linkView
	for _, l := range links {
		out.Links = append(out.Links, exportLink(l.model(), false))
		if l.Row.State == string(models.LinkActive) {
			active = append(active, l)
		}
	}

	var invs []invitationView
	if err := invitationQuery(db).Where("invitations.guardian_id = ?", viewer.UserID).
		Order("invitations.created_at DESC, invitations.id DESC").Find(&invs).Error; err != nil {
		return out, err
	}
	for _, v := range invs {
		i := v.model()
		out.Invitations = append(out.Invitations, models.ExportInvitation{Label: i.Label, State: string(i.State),
			CreatedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt, AnsweredAt: i.AnsweredAt, TeenName: i.TeenName})
	}

	for _, l := range active {
		gt, err := s.TeenForGuardian(ctx, viewer, l.Row.TeenID)
		if errors.Is(err, models.ErrNotFound) {
			continue // the link ended while the export was being read
		} else if err != nil {
			return out, err
		}
		t := models.ExportGuardianTeen{Name: gt.Teen.DisplayName, Age: gt.Teen.Age(now)}
		if t.Policy, err = s.exportPolicy(ctx, viewer, gt.Teen.ID); err != nil {
			return out, err
		}
		var reqs []requestView
		if err := requestQuery(db).Where("requests.teen_id = ?", gt.Teen.ID).
			Where("(requests.kind = ? AND requests.link_id = ?) OR requests.kind <> ?",
				string(models.RequestEndSupervision), gt.Link.ID, string(models.RequestEndSupervision)).
			Order("requests.id DESC").Find(&reqs).Error; err != nil {
			return out, err
		}
		t.Requests = exportRequests(requestModels(reqs))
		if t.Alerts, err = s.exportAlerts(db, viewer, gt.Teen.ID); err != nil {
			return out, err
		}
		if t.Audit, err = s.exportAudit(ctx, viewer, gt.Teen.ID); err != nil {
			return out, err
		}
		if t.RuleCounts, err = s.exportRuleCounts(ctx, viewer, gt.Teen.ID); err != nil {
			return out, err
		}
		out.Teens = append(out.Teens, t)
	}

	var err error
	if out.Notifications, err = s.exportNotifications(db, viewer); err != nil {
		return out, err
	}
	out.AlertPreferences, err = exportAlertPreferences(db, viewer.UserID)
	return out, err
}

// TeenExport returns everything Hearth keeps about the teen viewer (see
// models.TeenExport). Anyone else gets models.ErrNotFound.
func (s *Store) TeenExport(ctx context.Context, viewer models.Actor) (models.TeenExport, error) {
	teen, err := s.TeenForUser(ctx, viewer)
	if err != nil {
		return models.TeenExport{}, err
	}
	db := s.db.WithContext(ctx)
	out := models.TeenExport{Format: models.TeenExportFormat, ExportedAt: s.now(),
		Account: models.ExportTeenAccount{DisplayName: teen.DisplayName, PlatformUserID: teen.PlatformUserID,
			BirthMonth: teen.BirthMonth.String(), TimeZone: teen.TimeZone, CreatedAt: teen.CreatedAt},
		Guardians: []models.ExportLink{}}
	var links []linkView
	if err := linkQuery(db).Where("teens.user_id = ?", viewer.UserID).Order("links.id DESC").Find(&links).Error; err != nil {
		return out, err
	}
	for _, l := range links {
		// The teen sees who supervises them, address included, on their
		// supervision page; ended links keep only the name.
		out.Guardians = append(out.Guardians, exportLink(l.model(), l.Row.live()))
	}
	if out.Policy, err = s.exportPolicy(ctx, viewer, teen.ID); err != nil {
		return out, err
	}
	reqs, err := s.TeenRequests(ctx, viewer)
	if err != nil {
		return out, err
	}
	out.Requests = exportRequests(reqs)
	if out.Alerts, err = s.exportAlerts(db, viewer, teen.ID); err != nil {
		return out, err
	}
	if out.Activity, err = s.exportAudit(ctx, viewer, teen.ID); err != nil {
		return out, err
	}
	if out.RuleCounts, err = s.exportRuleCounts(ctx, viewer, teen.ID); err != nil {
		return out, err
	}
	out.Notifications, err = s.exportNotifications(db, viewer)
	return out, err
}

func exportLink(l models.Link, withEmail bool) models.ExportLink {
	e := models.ExportLink{TeenName: l.TeenName, GuardianName: l.GuardianName, State: string(l.State), Since: l.CreatedAt,
		EndedAt: l.EndedAt, EndReason: l.EndReason}
	if withEmail {
		e.GuardianEmail = l.GuardianEmail
	}
	return e
}

// exportPolicy is the teen's rules as viewer sees them; nil while nobody
// supervises the teen (the kept rules do not apply then).
func (s *Store) exportPolicy(ctx context.Context, viewer models.Actor, teenID int64) (*models.ExportPolicy, error) {
	p, err := s.TeenPolicy(ctx, viewer, teenID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &models.ExportPolicy{Version: p.Version, Rules: p.Rules(), UpdatedAt: p.UpdatedAt, UpdatedByName: p.UpdatedByName, RevertAt: p.RevertAt}, nil
}

func exportRequests(rs []models.Request) []models.ExportRequest {
	out := make([]models.ExportRequest, 0, len(rs))
	for _, r := range rs {
		e := models.ExportRequest{Kind: string(r.Kind), State: string(r.State), Reason: r.Reason, Guardian: r.GuardianName,
			CreatedAt: r.CreatedAt, DecidedAt: r.DecidedAt, DecisionNote: r.DecisionNote, ExpiresAt: r.ExpiresAt}
		if len(r.Payload) > 0 && string(r.Payload) != "{}" {
			e.Details = r.Payload
		}
		out = append(out, e)
	}
	return out
}

// exportAlerts returns the alerts about teenID, newest first: for the teen
// themself, or for a guardian with an active link together with their own
// acknowledgement (one alert read, or "mark all read" past it).
func (s *Store) exportAlerts(db *gorm.DB, viewer models.Actor, teenID int64) ([]models.ExportAlert, error) {
	var teen teenRow
	if err := db.Select("id", "user_id").Where("id = ?", teenID).Take(&teen).Error; err != nil {
		return nil, mapErr(err)
	}
	byTeen, err := policyViewer(db, viewer, teen)
	if err != nil {
		return nil, err
	}
	var rows []alertRow
	if err := db.Where("teen_id = ?", teenID).Order("occurred_at DESC, id DESC").Find(&rows).Error; err != nil {
		return nil, err
	}
	reads := map[int64]time.Time{}
	var mark struct {
		ReadThrough int64
		UpdatedAt   time.Time
	}
	if !byTeen {
		var rs []struct {
			AlertID int64
			ReadAt  time.Time
		}
		if err := db.Table("alert_reads").Select("alert_reads.alert_id, alert_reads.read_at").
			Joins("JOIN alerts ON alerts.id = alert_reads.alert_id").
			Where("alert_reads.user_id = ? AND alerts.teen_id = ?", viewer.UserID, teenID).Scan(&rs).Error; err != nil {
			return nil, err
		}
		for _, r := range rs {
			reads[r.AlertID] = r.ReadAt.UTC()
		}
		if err := db.Table("alert_watermarks").Select("read_through, updated_at").
			Where("user_id = ? AND teen_id = ?", viewer.UserID, teenID).Limit(1).Scan(&mark).Error; err != nil {
			return nil, err
		}
	}
	out := make([]models.ExportAlert, 0, len(rows))
	for _, r := range rows {
		a := r.model()
		e := models.ExportAlert{CounterpartID: a.CounterpartID, Direction: string(a.Direction), Category: string(a.Category),
			Severity: string(a.Severity), ActionTaken: string(a.ActionTaken), OccurredAt: a.OccurredAt,
			LastOccurredAt: a.LastOccurredAt, Occurrences: a.Occurrences, NotUseful: a.NotUseful}
		if !byTeen {
			read := false
			if at, ok := reads[r.ID]; ok {
				read, e.ReadAt = true, &at
			} else if r.ID <= mark.ReadThrough {
				at := mark.UpdatedAt.UTC()
				read, e.ReadAt = true, &at
			}
			e.Read = &read
		}
		out = append(out, e)
	}
	return out, nil
}

func (s *Store) exportAudit(ctx context.Context, viewer models.Actor, teenID int64) ([]models.ExportAuditEntry, error) {
	events, err := s.AllAuditEvents(ctx, viewer, teenID)
	if err != nil {
		return nil, err
	}
	out := make([]models.ExportAuditEntry, 0, len(events))
	for _, e := range events {
		x := models.ExportAuditEntry{At: e.At, Actor: e.ActorLabel(), ActorRole: e.ActorRole, Action: e.Action, Reason: e.Reason}
		if b := string(e.Before); b != "" && b != "{}" {
			x.Before = e.Before
		}
		if a := string(e.After); a != "" && a != "{}" {
			x.After = e.After
		}
		out = append(out, x)
	}
	return out, nil
}

func (s *Store) exportRuleCounts(ctx context.Context, viewer models.Actor, teenID int64) ([]models.ExportRuleCount, error) {
	counts, err := s.RuleCounts(ctx, viewer, teenID, models.RuleCountRetentionDays)
	if err != nil {
		return nil, err
	}
	out := make([]models.ExportRuleCount, 0, len(counts))
	for _, c := range counts {
		out = append(out, models.ExportRuleCount{Reason: c.Reason.String(), Count: c.Count, Days: models.RuleCountRetentionDays})
	}
	return out, nil
}

func (s *Store) exportNotifications(db *gorm.DB, viewer models.Actor) ([]models.ExportNotification, error) {
	if err := ownerOnly(viewer); err != nil {
		return nil, err
	}
	var rows []notificationRow
	if err := db.Where("user_id = ?", viewer.UserID).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]models.ExportNotification, 0, len(rows))
	for _, r := range rows {
		n := r.model()
		out = append(out, models.ExportNotification{Kind: n.Kind, Message: n.Message, CreatedAt: n.CreatedAt, ReadAt: n.ReadAt})
	}
	return out, nil
}

// exportAlertPreferences reads the guardian's alert email choices, with
// the defaults where they chose nothing: high and critical at once, and
// the weekly digest on.
func exportAlertPreferences(db *gorm.DB, userID int64) (models.ExportAlertPreferences, error) {
	p := models.ExportAlertPreferences{ImmediateFrom: map[string]string{}, WeeklyDigest: true}
	for _, c := range models.Categories {
		p.ImmediateFrom[string(c)] = string(models.SeverityHigh)
	}
	var rows []struct {
		Category      string
		ImmediateFrom string
	}
	if err := db.Table("alert_preferences").Select("category, immediate_from").Where("user_id = ?", userID).Scan(&rows).Error; err != nil {
		return p, err
	}
	for _, r := range rows {
		p.ImmediateFrom[r.Category] = r.ImmediateFrom
	}
	var weekly []bool
	if err := db.Table("digest_settings").Where("user_id = ?", userID).Pluck("weekly", &weekly).Error; err != nil {
		return p, err
	}
	if len(weekly) == 1 {
		p.WeeklyDigest = weekly[0]
	}
	return p, nil
}
