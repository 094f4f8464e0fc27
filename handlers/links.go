package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/views"
	"github.com/hearth-safety/hearth/views/pages"
)

// GuardianTeen is a supervised teen's page for their guardian: the link,
// the other guardians, requests waiting for an answer and the activity log.
func (h *Handlers) GuardianTeen(c echo.Context) error {
	gt, err := h.guardianTeen(c)
	if err != nil {
		return err
	}
	id := gt.Teen.ID
	reqs, err := h.Store.GuardianRequests(ctx(c), actor(c), id)
	if err != nil {
		return err
	}
	pg := pageParam(c)
	events, total, err := h.Store.AuditEvents(ctx(c), actor(c), id, pg)
	if err != nil {
		return err
	}
	unread, err := h.unreadAlerts(c)
	if err != nil {
		return err
	}
	others := make([]pages.GuardianRef, 0, len(gt.Others))
	for _, l := range gt.Others {
		others = append(others, pages.GuardianRef{Name: l.GuardianName, Email: l.GuardianEmail, Since: l.CreatedAt})
	}
	return render(c, http.StatusOK, pages.GuardianTeen(pages.GuardianTeenProps{
		Page: h.page(c, gt.Teen.DisplayName), TeenID: id, DisplayName: gt.Teen.DisplayName, Age: gt.Teen.Age(h.Store.Now()),
		Since: gt.Link.CreatedAt, Others: others, Requests: requestViews(reqs), Activity: activityItems(events),
		Pagination: pagination(pg, total, fmt.Sprintf("/teens/%d", id)), RuleCounts: h.ruleCounts(c, id, gt.Teen.DisplayName),
		UnreadAlerts: unread[id],
	}))
}

// EndLinkPage asks a guardian to confirm ending their supervision.
func (h *Handlers) EndLinkPage(c echo.Context) error {
	gt, err := h.guardianTeen(c)
	if err != nil {
		return err
	}
	id := gt.Teen.ID
	return render(c, http.StatusOK, pages.EndLinkConfirm(pages.EndLinkConfirmProps{Page: h.page(c, "End supervision"), TeenID: id, DisplayName: gt.Teen.DisplayName}))
}

// EndLink ends the guardian's own supervision of a teen.
func (h *Handlers) EndLink(c echo.Context) error {
	gt, err := h.guardianTeen(c)
	if err != nil {
		return err
	}
	id := gt.Teen.ID
	reason := trimmed(c.FormValue("reason"))
	if utf8.RuneCountInString(reason) > models.MaxReasonLen {
		return render(c, http.StatusUnprocessableEntity, pages.EndLinkConfirm(pages.EndLinkConfirmProps{Page: h.page(c, "End supervision"), TeenID: id,
			DisplayName: gt.Teen.DisplayName, Reason: reason, Errors: views.FieldErrors{"reason": "Keep the reason to 500 characters or fewer."}}))
	}
	if err := h.Store.EndLink(ctx(c), actor(c), gt.Link.ID, reason); err != nil {
		return err
	}
	h.Flashes.Add(c, "success", "You no longer supervise "+gt.Teen.DisplayName+". They and any other guardians have been told.")
	return redirect(c, "/")
}

// DecideRequest approves or declines a teen's request.
func (h *Handlers) DecideRequest(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		note := trimmed(c.FormValue("note"))
		if utf8.RuneCountInString(note) > models.MaxReasonLen {
			return models.Invalid("note", "Keep the note to 500 characters or fewer.")
		}
		// Only a loosening request's approve form carries a duration (1
		// hour, 1 day, or until changed).
		form, _ := c.FormParams()
		if _, loosen := form["duration"]; loosen {
			d, err := parseGrant(form.Get("duration"))
			if err != nil {
				return err
			}
			if err := h.Store.DecideLoosening(ctx(c), actor(c), id, approve, note, d); err != nil {
				return err
			}
		} else if err := h.Store.DecideRequest(ctx(c), actor(c), id, approve, note); err != nil {
			return err
		}
		if approve {
			h.Flashes.Add(c, "success", "Request approved. Your teen has been told.")
		} else {
			h.Flashes.Add(c, "info", "Request declined. Your teen has been told.")
		}
		next := safeNext(c.FormValue("next"), "/")
		// Approving an end to your own supervision closes the teen's page
		// to you: go home rather than to a page that is gone.
		if id, err := pathIDFrom(next, "/teens/"); err == nil {
			if _, err := h.Store.TeenForGuardian(ctx(c), actor(c), id); err != nil {
				next = "/"
			}
		}
		return redirect(c, next)
	}
}

// TeenSupervision is the teen's "My supervision": every guardian, since
// when, what they see, and how to end it by the age rules.
func (h *Handlers) TeenSupervision(c echo.Context) error {
	t, err := h.Store.TeenForUser(ctx(c), actor(c))
	if err != nil {
		return err
	}
	links, err := h.Store.TeenGuardians(ctx(c), actor(c))
	if err != nil {
		return err
	}
	reqs, err := h.Store.TeenRequests(ctx(c), actor(c))
	if err != nil {
		return err
	}
	pending := map[int64]bool{}
	for _, r := range reqs {
		if r.State == models.RequestPending && r.LinkID != nil {
			pending[*r.LinkID] = true
		}
	}
	gs := make([]pages.TeenGuardianView, 0, len(links))
	for _, l := range links {
		gs = append(gs, pages.TeenGuardianView{LinkID: l.ID, Name: l.GuardianName, Email: l.GuardianEmail, Since: l.CreatedAt, State: string(l.State), PendingRequest: pending[l.ID]})
	}
	age := t.Age(h.Store.Now())
	return render(c, http.StatusOK, pages.TeenSupervision(pages.TeenSupervisionProps{
		Page: h.page(c, "My supervision"), Age: age, CanEndAtOnce: age >= 16, Guardians: gs, Requests: requestViews(reqs),
	}))
}

// TeenEndLink lets a 16- or 17-year-old end a guardian's supervision at once.
func (h *Handlers) TeenEndLink(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		// Someone else's link is not found, confirmed or not.
		links, err := h.Store.TeenGuardians(ctx(c), actor(c))
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(links, func(l models.Link) bool { return l.ID == id }) {
			return models.ErrNotFound
		}
		h.Flashes.Add(c, "error", "Tick the box to confirm you want to end this supervision.")
		return redirect(c, "/teen/supervision")
	}
	err = h.Store.EndLink(ctx(c), actor(c), id, trimmed(c.FormValue("reason")))
	if errors.Is(err, models.ErrForbidden) {
		h.Flashes.Add(c, "error", "At your age, ending supervision needs your guardian's OK. You can ask them below, or get help from support.")
		return redirect(c, "/teen/supervision")
	} else if err != nil {
		return err
	}
	h.Flashes.Add(c, "success", "Supervision ended. Your guardian has been told.")
	return redirect(c, "/teen/supervision")
}

// TeenRequestEnd sends a 13–15-year-old's request to end supervision to
// that guardian.
func (h *Handlers) TeenRequestEnd(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	_, err = h.Store.RequestEndSupervision(ctx(c), actor(c), id, trimmed(c.FormValue("reason")))
	switch {
	case errors.Is(err, models.ErrConflict):
		h.Flashes.Add(c, "info", "You've already asked. We'll tell you when they answer.")
	case models.FieldErrors(err) != nil:
		for _, msg := range models.FieldErrors(err) {
			h.Flashes.Add(c, "error", msg)
		}
	case err != nil:
		return err
	default:
		h.Flashes.Add(c, "success", "Request sent. We'll tell you when they answer.")
	}
	return redirect(c, "/teen/supervision")
}

// TeenCancelRequest withdraws a teen's pending request.
func (h *Handlers) TeenCancelRequest(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.Store.CancelRequest(ctx(c), actor(c), id); err != nil {
		return err
	}
	h.Flashes.Add(c, "info", "Request cancelled.")
	return redirect(c, "/teen/supervision")
}

// TeenActivity is the teen's activity log: every event about them.
func (h *Handlers) TeenActivity(c echo.Context) error {
	t, err := h.Store.TeenForUser(ctx(c), actor(c))
	if err != nil {
		return err
	}
	pg := pageParam(c)
	events, total, err := h.Store.AuditEvents(ctx(c), actor(c), t.ID, pg)
	if err != nil {
		return err
	}
	// The alerts their guardians were told about are their own section,
	// newest few first, with a link to all of them.
	alerts, alertsTotal, err := h.Store.Alerts(ctx(c), actor(c), models.AlertFilter{Limit: 5})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.TeenActivity(pages.TeenActivityProps{
		Page: h.page(c, "Activity"), Items: activityItems(events), Pagination: pagination(pg, total, "/teen/activity"),
		Alerts: h.teenAlertViews(alerts, t.TimeZone), AlertsTotal: alertsTotal,
	}))
}

// ActivityExport is one audit entry in the teen's JSON download.
type ActivityExport struct {
	At      string          `json:"at"`
	Actor   string          `json:"actor"`
	Role    string          `json:"actor_role"`
	Action  string          `json:"action"`
	Summary string          `json:"summary"`
	Reason  string          `json:"reason,omitempty"`
	Before  json.RawMessage `json:"before,omitempty"`
	After   json.RawMessage `json:"after,omitempty"`
}

// TeenActivityJSON downloads the teen's whole activity log as JSON.
func (h *Handlers) TeenActivityJSON(c echo.Context) error {
	t, err := h.Store.TeenForUser(ctx(c), actor(c))
	if err != nil {
		return err
	}
	events, err := h.Store.AllAuditEvents(ctx(c), actor(c), t.ID)
	if err != nil {
		return err
	}
	out := make([]ActivityExport, 0, len(events))
	for _, e := range events {
		out = append(out, ActivityExport{At: e.At.UTC().Format("2006-01-02T15:04:05Z07:00"), Actor: actorLabel(e), Role: e.ActorRole, Action: e.Action,
			Summary: activitySentence(e), Reason: e.Reason, Before: rawOrNil(e.Before), After: rawOrNil(e.After)})
	}
	alerts, err := h.allTeenAlerts(c)
	if err != nil {
		return err
	}
	receipts := h.teenAlertViews(alerts, t.TimeZone)
	alertsOut := make([]AlertExport, len(alerts))
	for i, a := range alerts {
		alertsOut[i] = AlertExport{At: a.OccurredAt.UTC().Format("2006-01-02T15:04:05Z07:00"), Summary: receipts[i].Receipt, Category: string(a.Category),
			Severity: string(a.Severity), Action: string(a.ActionTaken), Direction: string(a.Direction), CounterpartID: a.CounterpartID, Occurrences: a.Occurrences}
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="hearth-activity.json"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSONPretty(http.StatusOK, map[string]any{"teen": t.DisplayName, "events": out, "alerts": alertsOut}, "  ")
}

func rawOrNil(r json.RawMessage) json.RawMessage {
	if len(r) == 0 || string(r) == "null" || string(r) == "{}" {
		return nil
	}
	return r
}

// TeenHelp shows teens where to get help; guardians never see it.
func (h *Handlers) TeenHelp(c echo.Context) error {
	return render(c, http.StatusOK, pages.TeenHelp(pages.TeenHelpProps{Page: h.page(c, "Get help")}))
}

func requestViews(rs []models.Request) []pages.RequestView {
	out := make([]pages.RequestView, 0, len(rs))
	for _, r := range rs {
		title := "A request"
		var changes []string
		switch r.Kind {
		case models.RequestEndSupervision:
			title = "End " + r.GuardianName + "'s supervision"
		case models.RequestLoosenPolicy:
			title = "Looser message rules"
			changes = requestedChanges(r)
		}
		rv := pages.RequestView{ID: r.ID, Kind: string(r.Kind), Title: title, TeenName: r.TeenName,
			GuardianName: r.GuardianName, Reason: r.Reason, CreatedAt: r.CreatedAt, State: string(r.State), Changes: changes}
		if r.LinkID != nil {
			rv.LinkID = *r.LinkID
		}
		out = append(out, rv)
	}
	return out
}

func activityItems(es []models.AuditEvent) []pages.ActivityItem {
	out := make([]pages.ActivityItem, 0, len(es))
	for _, e := range es {
		out = append(out, pages.ActivityItem{At: e.At, Actor: actorLabel(e), Summary: activitySentence(e), Reason: e.Reason})
	}
	return out
}

func actorLabel(e models.AuditEvent) string { return e.ActorLabel() }

// orSomeone is a name, or "someone" when the entry did not keep one.
func orSomeone(name string) string {
	if name == "" {
		return "someone"
	}
	return name
}

// activitySentence turns an audit entry into words for the activity log.
func activitySentence(e models.AuditEvent) string {
	who := actorLabel(e)
	var after map[string]any
	json.Unmarshal(e.After, &after)
	str := func(k string) string { s, _ := after[k].(string); return s }
	switch e.Action {
	case models.ActionInvitationAccepted:
		if g := str("guardian"); g != "" {
			return who + " accepted " + g + "'s invitation; " + g + " now supervises."
		}
		return who + " accepted an invitation to be supervised."
	case models.ActionInvitationDeclined:
		if g := str("guardian"); g != "" {
			return who + " declined " + g + "'s invitation."
		}
		return who + " declined an invitation."
	case models.ActionLinkEnded:
		if g := str("guardian"); g != "" {
			return who + " ended " + g + "'s supervision."
		}
		return who + " ended a supervision."
	case models.ActionRequestCreated:
		return who + " asked to end a guardian's supervision."
	case models.ActionRequestApproved:
		return who + " approved a request."
	case models.ActionRequestDeclined:
		return who + " declined a request."
	case models.ActionRequestCancelled:
		return who + " cancelled a request."
	case models.ActionPolicyChanged:
		return who + " changed the message rules."
	case models.ActionAuditPruned:
		return "Hearth deleted the activity older than 2 years, as its retention period says."
	case models.ActionLinkSuspended:
		return who + " paused " + orSomeone(str("guardian")) + "'s supervision."
	case models.ActionLinkReinstated:
		return who + " restored " + orSomeone(str("guardian")) + "'s supervision."
	case models.ActionAccountDisabled:
		return who + " closed " + orSomeone(str("guardian")) + "'s account."
	case models.ActionDisputeOpened:
		return who + " opened a support case."
	case models.ActionDisputeAnswered, models.ActionDisputeReplied:
		return who + " replied on a support case."
	case models.ActionDisputeAssigned:
		return who + " assigned a support case."
	case models.ActionDisputeAsked:
		return who + " asked for more information on a support case."
	case models.ActionDisputeNote:
		return who + " added an internal note to a support case."
	case models.ActionDisputeResolved:
		return who + " resolved a support case."
	case models.ActionDisputeRejected:
		return who + " closed a support case without action."
	case models.ActionDisputeProposed:
		return who + " proposed an action for a support lead to decide."
	case models.ActionDisputeApproved:
		return who + " approved a proposed action."
	case models.ActionDisputeDeclined:
		return who + " declined a proposed action."
	case models.ActionDisputeRefused:
		return who + " tried a lead-only action on a support case; it was refused."
	case models.ActionDisputeActed:
		switch models.DisputeActionKind(str("action")) {
		case models.ActSuspendLink:
			return who + " paused a supervision while working on a support case."
		case models.ActReinstateLink:
			return who + " restored a supervision while working on a support case."
		case models.ActEndLink:
			return who + " ended a supervision while working on a support case."
		case models.ActResetRules:
			return who + " reset the message rules while working on a support case."
		case models.ActDisable:
			return who + " closed a guardian's account while working on a support case."
		}
		return who + " acted on a support case."
	}
	return who + ": " + e.Action
}

// NotificationsPage lists the viewer's notifications, newest first.
func (h *Handlers) NotificationsPage(c echo.Context) error {
	pg := pageParam(c)
	ns, total, err := h.Store.Notifications(ctx(c), actor(c), pg)
	if err != nil {
		return err
	}
	unread, err := h.Store.UnreadCount(ctx(c), actor(c))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.Notifications(pages.NotificationsProps{
		Page: h.page(c, "Notifications"), Items: notificationViews(ns), Pagination: pagination(pg, total, "/notifications"), Unread: unread,
	}))
}

func notificationViews(ns []models.Notification) []pages.NotificationView {
	out := make([]pages.NotificationView, 0, len(ns))
	for _, n := range ns {
		out = append(out, pages.NotificationView{ID: n.ID, Message: n.Message, URL: n.URL, CreatedAt: n.CreatedAt, Read: n.ReadAt != nil})
	}
	return out
}

// MarkNotificationRead marks one notification read; htmx gets the updated
// item back, a plain form a redirect.
func (h *Handlers) MarkNotificationRead(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.Store.MarkNotificationRead(ctx(c), actor(c), id); err != nil {
		return err
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		n, err := h.Store.Notification(ctx(c), actor(c), id)
		if err != nil {
			return err
		}
		return h.renderFragment(c, pages.NotificationItem(notificationViews([]models.Notification{n})[0]))
	}
	return redirect(c, "/notifications")
}

// MarkAllNotificationsRead marks everything read.
func (h *Handlers) MarkAllNotificationsRead(c echo.Context) error {
	if err := h.Store.MarkAllNotificationsRead(ctx(c), actor(c)); err != nil {
		return err
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		pg := pageParam(c)
		ns, _, err := h.Store.Notifications(ctx(c), actor(c), pg)
		if err != nil {
			return err
		}
		return h.renderFragment(c, pages.NotificationList(notificationViews(ns)))
	}
	return redirect(c, "/notifications")
}

// renderFragment answers an htmx request with comp plus an out-of-band
// update of the header's bell, so the unread count stays true without a
// reload.
func (h *Handlers) renderFragment(c echo.Context, comp templ.Component) error {
	unread, err := h.Store.UnreadCount(ctx(c), actor(c))
	if err != nil {
		return err
	}
	c.SetRequest(c.Request().WithContext(views.WithCSRFToken(ctx(c), csrfToken(c))))
	return render(c, http.StatusOK, templ.Join(comp, views.NotificationBellUpdate(unread)))
}

// requestedChanges lists, in words, what a loosening request asks for.
func requestedChanges(r models.Request) []string {
	var p models.LoosenPayload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return nil
	}
	return p.Changes
}

// pathIDFrom reads the numeric ID after prefix in a local path such as
// /teens/12 or /teens/12/messages.
func pathIDFrom(path, prefix string) (int64, error) {
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok {
		return 0, models.ErrNotFound
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return strconv.ParseInt(rest, 10, 64)
}

// guardianTeen is the teen named by the :id in the path, for a guardian
// with an active link to them; anyone else gets models.ErrNotFound.
func (h *Handlers) guardianTeen(c echo.Context) (store.GuardianTeen, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return store.GuardianTeen{}, err
	}
	return h.Store.TeenForGuardian(ctx(c), actor(c), id)
}
