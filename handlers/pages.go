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
	return render(c, http.StatusOK, pages.Dashboard(pages.DashboardProps{Page: h.page(c, "Dashboard"), Name: u.Name}))
}

// Privacy is the public "Your data" page: what Hearth keeps and how long.
func (h *Handlers) Privacy(c echo.Context) error {
	return render(c, http.StatusOK, pages.Privacy(pages.PrivacyProps{Page: h.page(c, "Your data")}))
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
