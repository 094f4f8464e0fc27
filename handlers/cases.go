package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/views/pages"
)

// StaffHome is the support queue: unclosed cases oldest first, filtered by
// the query string, with headline counts and each case's deadline.
func (h *Handlers) StaffHome(c echo.Context) error {
	f, df := staffFilter(c.QueryParams())
	q, err := h.Store.DisputeQueueFor(ctx(c), actor(c), df)
	if models.FieldErrors(err) != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "That filter is not one the queue knows. Clear the filters and try again.")
	}
	if err != nil {
		return err
	}
	staff, err := h.Store.StaffMembers(ctx(c), actor(c))
	if err != nil {
		return err
	}
	now := h.Store.Now()
	props := pages.StaffHomeProps{Page: h.page(c, "Support queue"), Name: currentUser(c).Name, Filter: f,
		Filtered: f != (pages.StaffFilter{}), Counts: pages.QueueCounts(q.Counts)}
	for _, k := range models.AllDisputeKinds {
		props.Kinds = append(props.Kinds, pages.Option{Value: string(k), Label: k.Label()})
	}
	for _, m := range staff {
		props.Staff = append(props.Staff, pages.Option{Value: strconv.FormatInt(m.ID, 10), Label: m.Name})
	}
	for _, d := range q.Items {
		props.Items = append(props.Items, queueItem(d, now))
	}
	return render(c, http.StatusOK, pages.StaffHome(props))
}

// staffFilter reads the queue's filters from the query string: as typed,
// for the page, and as the store's filter, which refuses unknown values.
func staffFilter(q url.Values) (pages.StaffFilter, store.DisputeFilter) {
	f := pages.StaffFilter{Status: q.Get("status"), Kind: q.Get("kind"), Age: q.Get("age"),
		Assignee: q.Get("assignee"), Waiting: q.Get("waiting")}
	return f, store.DisputeFilter{Status: f.Status, Kind: models.DisputeKind(f.Kind),
		AgeBand: f.Age, Assignee: f.Assignee, Waiting: f.Waiting}
}

func queueItem(d models.Dispute, now time.Time) pages.StaffQueueItem {
	due, over := d.Due(now)
	it := pages.StaffQueueItem{ID: d.ID, KindLabel: d.Kind.Label(), TeenName: d.TeenName, TeenAge: d.TeenBirth.AgeAt(now),
		FilerName: d.FilerName, FilerRole: string(d.FilerRole), Status: string(d.Status), StatusLabel: d.Status.Label(),
		WaitingOn: d.WaitingOn(), Assignee: d.AssigneeName, Confidential: d.Confidential, CreatedAt: d.CreatedAt,
		Opened: ago(now.Sub(d.CreatedAt)), Overdue: over}
	if !due.IsZero() {
		it.DueLabel = dueWords(d.FirstResponseAt == nil, due, now)
	}
	return it
}

// ago words a case's age: "40 minutes", "26 hours", "3 days".
func ago(d time.Duration) string {
	switch {
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute", "minutes")
	case d < 72*time.Hour:
		return plural(int(d/time.Hour), "hour", "hours")
	}
	return plural(int(d/(24*time.Hour)), "day", "days")
}

// dueWords says how the case stands against its target.
func dueWords(firstReply bool, due, now time.Time) string {
	what := "Resolution"
	if firstReply {
		what = "First reply"
	}
	if now.After(due) {
		return what + " overdue by " + ago(now.Sub(due))
	}
	return what + " due in " + ago(due.Sub(now))
}

// StaffCase is one case for support staff.
func (h *Handlers) StaffCase(c echo.Context) error {
	return h.renderCase(c, http.StatusOK, caseForm{})
}

// caseForm is what a staff member typed into one of the case page's forms,
// kept when the page is shown again after a refusal.
type caseForm struct {
	key, reason, problem string
	changed              []models.DisputeEvent
}

func (h *Handlers) renderCase(c echo.Context, status int, f caseForm) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	dc, err := h.Store.DisputeCaseFor(ctx(c), actor(c), id)
	if err != nil {
		return err
	}
	staff, err := h.Store.StaffMembers(ctx(c), actor(c))
	if err != nil {
		return err
	}
	now := h.Store.Now()
	d := dc.Dispute
	due, over := d.Due(now)
	p := pages.StaffCaseProps{Page: h.page(c, "Case #"+strconv.FormatInt(d.ID, 10)), Lead: actor(c).Role == models.RoleLead,
		ID: d.ID, Version: d.Version, Title: d.Kind.Label(), Status: string(d.Status), StatusLabel: d.Status.Label(),
		Closed: d.Status.Closed(), Outcome: d.Outcome, WaitingOn: d.WaitingOn(), Confidential: d.Confidential,
		CreatedAt: d.CreatedAt, Opened: ago(now.Sub(d.CreatedAt)), Overdue: over, Assignee: d.AssigneeName,
		FilerName: d.FilerName, FilerRole: string(d.FilerRole), FilerEmail: dc.FilerEmail, Description: d.Description,
		TeenName: dc.Teen.DisplayName, TeenAge: dc.Teen.Age(now), TeenPlatformID: dc.Teen.PlatformUserID, TeenZone: dc.Teen.TimeZone,
		RulesInForce: dc.RulesSupervised, FormKey: f.key, Draft: f.reason, Problem: f.problem}
	if !due.IsZero() {
		p.DueLabel = dueWords(d.FirstResponseAt == nil, due, now)
	}
	if d.AssigneeID != nil {
		p.AssignedToMe = *d.AssigneeID == actor(c).UserID
	}
	for _, m := range staff {
		p.Staff = append(p.Staff, pages.Option{Value: strconv.FormatInt(m.ID, 10), Label: m.Name + " (" + m.Role.Label() + ")"})
	}
	for _, l := range dc.Links {
		cl := pages.CaseLink{ID: l.ID, GuardianID: l.GuardianID, Guardian: l.GuardianName, Email: l.GuardianEmail, State: string(l.State),
			Since: l.CreatedAt, EndedAt: l.EndedAt, EndReason: l.EndReason, Subject: d.LinkID != nil && *d.LinkID == l.ID}
		p.Links = append(p.Links, cl)
	}
	if dc.Rules != nil {
		p.Rules = pages.RulesSummary(rulesForm(*dc.Rules), dc.Teen.DisplayName)
	}
	p.PolicyHistory = activityItems(dc.PolicyHistory)
	for _, a := range dc.AlertCounts {
		p.AlertCounts = append(p.AlertCounts, pages.CountView{Label: a.Category.Label(), N: a.Count})
	}
	for _, e := range dc.Earlier {
		p.Earlier = append(p.Earlier, pages.CaseRef{ID: e.ID, Title: e.Kind.Label(), Status: string(e.Status), StatusLabel: e.Status.Label(),
			FiledBy: e.FilerName, CreatedAt: e.CreatedAt})
	}
	for _, e := range dc.Audit {
		p.Audit = append(p.Audit, pages.CaseAuditItem{At: e.At, Actor: staffActorLabel(e), Summary: activitySentence(e), Reason: e.Reason,
			HiddenFromGuardians: e.Confidential})
	}
	for _, m := range dc.Messages {
		p.Thread = append(p.Thread, pages.ThreadItem{FromSupport: m.AuthorRole == models.AuthorStaff, Author: m.AuthorName, Body: m.Body, At: m.CreatedAt})
	}
	for _, n := range dc.Notes {
		p.Notes = append(p.Notes, pages.ThreadItem{FromSupport: true, Author: n.AuthorName, Body: n.Body, At: n.CreatedAt})
	}
	for _, pr := range dc.Proposals {
		what := pr.Action.Label()
		if pr.GuardianName != "" {
			what += " (" + pr.GuardianName + ")"
		}
		p.Proposals = append(p.Proposals, pages.ProposalView{ID: pr.ID, What: what, Reason: pr.Reason, ProposedBy: pr.ProposedByName,
			State: string(pr.State), DecidedBy: pr.DecidedByName, DecisionReason: pr.DecisionReason, At: pr.CreatedAt,
			Pending: pr.State == models.ProposalPending})
	}
	p.History = eventViews(dc.Events)
	p.Changed = eventViews(f.changed)
	return render(c, status, pages.StaffCase(p))
}

func eventViews(es []models.DisputeEvent) []pages.EventView {
	out := make([]pages.EventView, 0, len(es))
	for _, e := range es {
		out = append(out, pages.EventView{Version: e.Version, At: e.At, Actor: e.ActorName, Summary: e.Summary, Reason: e.Reason})
	}
	return out
}

// staffActorLabel names the actor of an audit entry for staff, who may
// see which colleague acted.
func staffActorLabel(e models.AuditEvent) string {
	if (e.ActorRole == string(models.RoleStaff) || e.ActorRole == string(models.RoleLead)) && e.ActorName != "" {
		return e.ActorName + " (" + models.Role(e.ActorRole).Label() + ")"
	}
	return actorLabel(e)
}

// staffDone is what the flash says after each action.
var staffDone = map[models.DisputeActionKind]string{
	models.ActAssign:        "Case assigned.",
	models.ActAskInfo:       "Question sent. The case now waits on the filer.",
	models.ActReply:         "Reply sent to the filer.",
	models.ActNote:          "Internal note added.",
	models.ActSuspendLink:   "Supervision paused. The guardian and the teen have been told.",
	models.ActReinstateLink: "Supervision restored. The guardian and the teen have been told.",
	models.ActEndLink:       "Supervision ended. The guardian and the teen have been told.",
	models.ActResetRules:    "Rules reset to the age defaults. The teen and guardians have been told.",
	models.ActResolve:       "Case resolved. The filer has been told.",
	models.ActReject:        "Case closed without action. The filer has been told.",
	models.ActPropose:       "Proposal sent to the leads.",
	models.ActApprove:       "Proposal approved and carried out.",
	models.ActDecline:       "Proposal declined.",
	models.ActDisable:       "Account disabled; its supervisions ended and everyone affected has been told.",
}

// parseDisputeAction reads a case page's action form for kind, posted by
// the staff member me. Numbers that do not parse are 0, which the store
// refuses wherever the action needs one.
func parseDisputeAction(kind models.DisputeActionKind, form url.Values, me int64) models.DisputeAction {
	a := models.DisputeAction{Kind: kind, Reason: form.Get(pages.FieldReason), Proposal: models.ProposalAction(form.Get("proposal"))}
	num := func(name string) int64 {
		n, err := strconv.ParseInt(form.Get(name), 10, 64)
		if err != nil {
			return 0 // not the largest int64 ParseInt returns for a number out of range
		}
		return n
	}
	a.Version, a.LinkID, a.GuardianID = num("version"), num("link"), num("guardian")
	if v := form.Get("assignee"); v == "me" {
		a.AssigneeID = me
	} else {
		a.AssigneeID = num("assignee")
	}
	return a
}

// StaffAct takes one action on a case. Every action posts a reason and the
// case version the page showed; a case that changed meanwhile is shown
// again with what changed and the typed reason kept.
func (h *Handlers) StaffAct(kind models.DisputeActionKind) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		form, _ := c.FormParams()
		a := parseDisputeAction(kind, form, actor(c).UserID)
		if c.Param("pid") != "" {
			if a.ProposalID, err = pathID(c, "pid"); err != nil {
				return err
			}
		}
		f := caseForm{key: c.FormValue("form"), reason: a.Reason}
		_, err = h.Store.ActOnDispute(ctx(c), actor(c), id, a)
		switch {
		case err == nil:
			h.Flashes.Add(c, "success", staffDone[kind])
			return redirect(c, fmt.Sprintf("/staff/disputes/%d", id))
		case errors.Is(err, models.ErrCaseChanged):
			if f.changed, err = h.Store.DisputeChangesSince(ctx(c), actor(c), id, a.Version); err != nil {
				return err
			}
			f.problem = "This case changed since you opened it, so nothing was done. Check what changed, then try again: what you wrote is kept below."
			return h.renderCase(c, http.StatusConflict, f)
		case errors.Is(err, models.ErrCaseClosed):
			// A closed case shows no forms: say it at the top.
			f.key, f.reason = "", ""
			f.problem = "This case is closed, so nothing more can be done on it."
			return h.renderCase(c, http.StatusConflict, f)
		case errors.Is(err, models.ErrLeadOnly):
			return echo.NewHTTPError(http.StatusForbidden, "Only a support lead can do this, and your attempt was recorded. You can propose it instead: a lead will decide.")
		case models.FieldErrors(err) != nil:
			var ve *models.ValidationError
			errors.As(err, &ve)
			f.problem = ve.Errors[0].Message
			return h.renderCase(c, http.StatusUnprocessableEntity, f)
		}
		return err
	}
}
