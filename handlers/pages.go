package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/views/pages"
)

// Home is the guardian's dashboard when signed in and the public page about
// Hearth otherwise. Teens and staff are sent to their own homes.
func (h *Handlers) Home(c echo.Context) error {
	u := currentUser(c)
	if u == nil {
		return render(c, http.StatusOK, pages.Home(pages.HomeProps{Page: h.page(c, "Supervision without reading messages")}))
	}
	if u.Role != models.RoleGuardian {
		return c.Redirect(http.StatusSeeOther, HomeFor(u.Role))
	}
	teens, err := h.Store.GuardianTeens(ctx(c), actor(c))
	if err != nil {
		return err
	}
	invs, err := h.Store.Invitations(ctx(c), actor(c))
	if err != nil {
		return err
	}
	unread, err := h.unreadAlerts(c)
	if err != nil {
		return err
	}
	now := h.Store.Now()
	props := pages.DashboardProps{Page: h.page(c, "Dashboard"), Name: u.Name, Now: now}
	for _, gt := range teens {
		dt := pages.DashboardTeen{TeenID: gt.Teen.ID, DisplayName: gt.Teen.DisplayName, Age: gt.Teen.Age(now), State: string(gt.Link.State),
			Since: gt.Link.CreatedAt, EndedAt: gt.Link.EndedAt, EndReason: gt.Link.EndReason, UnreadAlerts: unread[gt.Teen.ID]}
		for _, o := range gt.Others {
			dt.OtherGuardians = append(dt.OtherGuardians, o.GuardianName)
		}
		if gt.Link.State == models.LinkActive {
			if reqs, err := h.Store.GuardianRequests(ctx(c), actor(c), gt.Teen.ID); err == nil {
				dt.PendingRequests = len(reqs)
			}
			if p, err := h.Store.TeenPolicy(ctx(c), actor(c), gt.Teen.ID); err == nil {
				dt.RulesSummary = pages.RulesSummary(rulesForm(p), gt.Teen.DisplayName)
			}
		}
		props.Teens = append(props.Teens, dt)
	}
	for _, inv := range invs {
		props.Invitations = append(props.Invitations, pages.DashboardInvitation{ID: inv.ID, Label: inv.Label, State: string(inv.State),
			Expired: inv.Expired(now), CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt})
	}
	return render(c, http.StatusOK, pages.Dashboard(props))
}

// DevMailbox shows the emails Hearth would have sent, in development only
// (the route does not exist otherwise).
func (h *Handlers) DevMailbox(c echo.Context) error {
	var msgs []pages.MailboxMessage
	for _, m := range h.Mailbox.Messages() {
		msgs = append(msgs, pages.MailboxMessage{To: m.To, Subject: m.Subject, Body: m.Body, SentAt: m.SentAt})
	}
	return render(c, http.StatusOK, pages.Mailbox(pages.MailboxProps{Page: h.page(c, "Dev mailbox"), Messages: msgs}))
}

// NotFound renders 404 for unknown paths in the app's look.
func (h *Handlers) NotFound(c echo.Context) error { return models.ErrNotFound }
