// Package handlers turns HTTP requests into calls on the store and renders
// the answers: HTML pages for people and problem+json for the messaging
// service. Handlers are thin: they bind input, call the store with the
// viewer, and render; errors go back to the one error handler.
package handlers

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/views"
	"github.com/hearth-safety/hearth/web/mail"
	"github.com/hearth-safety/hearth/web/policycache"
	"github.com/hearth-safety/hearth/web/rulecounts"
	"github.com/hearth-safety/hearth/web/session"
)

// Mailer queues an email for delivery by a background job, so a slow or
// failing mail server never slows a page or tells a visitor anything.
type Mailer interface {
	Enqueue(ctx context.Context, m mail.Message) error
}

// Deps is what the handlers need from the server around them.
type Deps struct {
	Store    *store.Store
	Sessions *session.Store
	Flashes  *FlashStore
	Mail     Mailer
	Mailbox  *mail.DevMailbox // nil outside development
	BaseURL  *url.URL
	Dev      bool
	Logger   *slog.Logger
	// Policies is this node's in-memory copy of the supervised teens'
	// rules, which answers DM checks.
	Policies *policycache.Cache
	// RuleCounts counts what each teen's rules decide, for the "what the
	// rules did" card; nil counts nothing.
	RuleCounts *rulecounts.Counter
	// AlertRetention is how long alerts are kept (HEARTH_ALERT_RETENTION),
	// for the published retention table.
	AlertRetention time.Duration
	// Throttle limits attempts per account (sign-in, reset) on top of the
	// per-IP limits in front of the routes.
	Throttle middleware.RateLimiterStore
}

// Handlers holds the dependencies shared by every handler.
type Handlers struct {
	Deps
}

// New returns the handlers.
func New(d Deps) *Handlers { return &Handlers{Deps: d} }

// Context keys set by middleware.
const (
	keyUser  = "hearth.user"
	keyActor = "hearth.actor"
	// keyPending holds a staff member between password and second factor.
	keyPending = "hearth.pending"
	// KeyClient holds the authenticated service client on /api/v1.
	keyClient = "hearth.client"
	keyNonce  = "hearth.nonce"
)

// ctx returns the request's context (which carries the CSP nonce for templ).
func ctx(c echo.Context) context.Context { return c.Request().Context() }

// actor returns who is asking; the zero Actor when nobody is signed in.
func actor(c echo.Context) models.Actor {
	a, _ := c.Get(keyActor).(models.Actor)
	return a
}

// currentUser returns the signed-in user, or nil.
func currentUser(c echo.Context) *models.User {
	u, _ := c.Get(keyUser).(*models.User)
	return u
}

// csrfToken returns the token forms must echo back.
func csrfToken(c echo.Context) string {
	t, _ := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string)
	return t
}

// page fills the layout's props for the current request.
func (h *Handlers) page(c echo.Context, title string) views.Page {
	p := views.Page{
		Title:     title,
		CSRFToken: csrfToken(c),
		DevMode:   h.Dev,
		Path:      c.Request().URL.Path,
		Flashes:   h.Flashes.Take(c),
	}
	if u := currentUser(c); u != nil {
		p.Viewer = &views.Viewer{Name: u.Name, Email: u.Email, Role: views.Role(u.Role)}
		// Failures here only dim the chrome (no count, no banner would be
		// wrong for a teen), so they are logged rather than failing the page;
		// for teens the banner errs on the side of showing.
		if n, err := h.Store.UnreadCount(ctx(c), actor(c)); err == nil {
			p.Unread = n
		}
		if u.Role == models.RoleGuardian {
			if n, err := h.unreadAlertTotal(c); err == nil {
				p.UnreadAlerts = n
			} else {
				h.Logger.ErrorContext(ctx(c), "unread alerts", "err", err)
			}
		}
		if u.Role == models.RoleTeen {
			names, err := h.Store.SupervisorNames(ctx(c), u.ID)
			if err != nil {
				h.Logger.ErrorContext(ctx(c), "supervisor names", "err", err)
				names = []string{"your guardians (we couldn't load their names just now)"}
			}
			p.SupervisedBy = names
		}
	}
	return p
}

// render writes a templ component with status. It renders into a buffer
// first, so a failed render sends a clean error page, never half a page.
func render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(ctx(c), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// redirect answers a form post with 303 See Other, or an HX-Redirect for htmx.
func redirect(c echo.Context, to string) error {
	if c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// absURL makes an absolute link on Hearth's public origin, for emails and API answers.
func (h *Handlers) absURL(path string) string {
	u := *h.BaseURL
	u.Path = path
	return u.String()
}

// sendMail queues an email and logs (without its body) when queueing fails;
// the visitor's answer must not depend on mail.
func (h *Handlers) sendMail(c echo.Context, m mail.Message) {
	if err := h.Mail.Enqueue(ctx(c), m); err != nil {
		h.Logger.ErrorContext(ctx(c), "queue email", "subject", m.Subject, "err", err,
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
}
