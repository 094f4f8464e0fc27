package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/hearth-safety/hearth/handlers"
	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/static"
	"github.com/hearth-safety/hearth/views/pages"
)

// Guard names who may use a route. Every route has exactly one; a test walks
// the router and fails on a route without one.
type Guard string

// The guards.
const (
	GuardPublic Guard = "public"    // anyone
	GuardGuest  Guard = "guest"     // signed-out visitors (signed-in ones are sent home)
	GuardSigned Guard = "signed-in" // anyone signed in
	GuardGuardn Guard = "guardian"
	GuardTeen   Guard = "teen"
	GuardStaff  Guard = "staff" // agents and leads, password and second factor done
	// GuardStaffPending is the second-factor step of staff sign-in: staff
	// whose password was right and who still owe a code.
	GuardStaffPending Guard = "staff-second-factor"
	GuardClient       Guard = "api-client"
	GuardDevOnly      Guard = "dev-only" // registered only in development
)

// routes is the one route table: every URL, its method, its guard and its
// handler, on one screen.
func routes(e *echo.Echo, s *Server, h *handlers.Handlers, cfg Config, csrfCookie string) {
	csrf := middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "header:X-CSRF-Token,form:_csrf",
		CookieName:     csrfCookie,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   cfg.TLS(),
		CookieSameSite: http.SameSiteLaxMode,
	})
	// Per-IP limits: sign-in style forms get a few tries a minute, the hook
	// API gets what a busy messaging service needs.
	authLimit := limiter(rate.Every(3*time.Second), 20)
	// Invitation codes are also limited per teen account in the handler;
	// this per-IP limit stops one address cycling through many accounts.
	codeLimit := limiter(rate.Every(6*time.Second), 20)
	apiLimit := limiter(rate.Limit(cfg.APIRate), int(2*cfg.APIRate))
	formBody := middleware.BodyLimit("64K")
	apiBody := middleware.BodyLimit("2M")

	guest := []echo.MiddlewareFunc{formBody, csrf, h.LoadViewer, handlers.Guest}
	public := []echo.MiddlewareFunc{formBody, csrf, h.LoadViewer, handlers.Public}
	signedIn := []echo.MiddlewareFunc{formBody, csrf, h.LoadViewer, handlers.Require(models.RoleGuardian, models.RoleTeen, models.RoleStaff, models.RoleLead)}
	guardian := []echo.MiddlewareFunc{formBody, csrf, h.LoadViewer, handlers.Require(models.RoleGuardian)}
	teen := []echo.MiddlewareFunc{formBody, csrf, h.LoadViewer, handlers.Require(models.RoleTeen)}
	staff := []echo.MiddlewareFunc{formBody, csrf, h.LoadViewer, handlers.Require(models.RoleStaff, models.RoleLead)}
	staffPending := []echo.MiddlewareFunc{formBody, csrf, h.LoadViewer, handlers.RequirePendingStaff}
	client := []echo.MiddlewareFunc{apiLimit, apiBody, h.RequireClient}
	// Moderation reports: the key first, then (in the handler) the
	// signature over a body of at most 500 events.
	events := []echo.MiddlewareFunc{apiLimit, middleware.BodyLimit(handlers.EventsBodyLimit), h.RequireClient}
	with := func(mw []echo.MiddlewareFunc, extra ...echo.MiddlewareFunc) []echo.MiddlewareFunc {
		return append(append([]echo.MiddlewareFunc{}, extra...), mw...)
	}
	// then adds limits after the guard, for forms only a signed-in role
	// may use: anyone else is turned away before spending the limit.
	then := func(mw []echo.MiddlewareFunc, extra ...echo.MiddlewareFunc) []echo.MiddlewareFunc {
		return append(append([]echo.MiddlewareFunc{}, mw...), extra...)
	}

	add := func(method, path string, g Guard, fn echo.HandlerFunc, mw []echo.MiddlewareFunc) {
		s.RouteGuards[method+" "+path] = g
		// Compose the route's middleware once, here: echo would wrap the
		// handler in it again on every request, which the DM check pays
		// thousands of times a second. Same order as echo's own.
		h := fn
		for i := len(mw) - 1; i >= 0; i-- {
			h = mw[i](h)
		}
		e.Add(method, path, h)
	}

	// Probes and assets.
	add(http.MethodGet, "/healthz", GuardPublic, s.Health.Live, []echo.MiddlewareFunc{handlers.Public})
	add(http.MethodGet, "/readyz", GuardPublic, s.Health.Ready, []echo.MiddlewareFunc{handlers.Public})
	add(http.MethodGet, "/static/*", GuardPublic, echo.WrapHandler(static.Handler()), []echo.MiddlewareFunc{handlers.Public})

	// Public pages.
	add(http.MethodGet, "/", GuardPublic, h.Home, public)
	add(http.MethodGet, "/privacy", GuardPublic, h.Privacy, public)

	// Guardian accounts.
	add(http.MethodGet, "/signup", GuardGuest, h.SignupPage, guest)
	add(http.MethodPost, "/signup", GuardGuest, h.Signup, with(guest, authLimit))
	add(http.MethodGet, "/signup/confirm/:token", GuardPublic, h.ConfirmEmailPage, public)
	add(http.MethodPost, "/signup/confirm/:token", GuardPublic, h.ConfirmEmail, with(public, authLimit))
	add(http.MethodGet, "/login", GuardGuest, h.LoginPage, guest)
	add(http.MethodPost, "/login", GuardGuest, h.Login, with(guest, authLimit))
	add(http.MethodPost, "/logout", GuardSigned, h.Logout, signedIn)
	add(http.MethodGet, "/password/forgot", GuardPublic, h.ForgotPage, public)
	add(http.MethodPost, "/password/forgot", GuardPublic, h.Forgot, with(public, authLimit))
	add(http.MethodGet, "/password/reset/:token", GuardPublic, h.ResetPage, public)
	add(http.MethodPost, "/password/reset/:token", GuardPublic, h.Reset, with(public, authLimit))
	add(http.MethodGet, "/account", GuardGuardn, h.Account, guardian)
	add(http.MethodGet, "/account/export.json", GuardGuardn, h.GuardianExportJSON, guardian)
	add(http.MethodGet, "/account/delete", GuardGuardn, h.DeleteAccountPage, guardian)
	add(http.MethodPost, "/account/delete", GuardGuardn, h.DeleteAccount, then(guardian, authLimit))
	add(http.MethodGet, "/account/deleted", GuardPublic, h.AccountDeleted, public)

	// Guardians: invitations, their teens, requests.
	add(http.MethodGet, "/invitations/new", GuardGuardn, h.InviteNewPage, guardian)
	add(http.MethodPost, "/invitations", GuardGuardn, h.CreateInvitation, guardian)
	add(http.MethodPost, "/invitations/:id/withdraw", GuardGuardn, h.WithdrawInvitation, guardian)
	add(http.MethodGet, "/i/:code", GuardPublic, h.InvitationLink, with(public, codeLimit))
	add(http.MethodGet, "/teens/:id", GuardGuardn, h.GuardianTeen, guardian)
	add(http.MethodGet, "/teens/:id/end", GuardGuardn, h.EndLinkPage, guardian)
	add(http.MethodPost, "/teens/:id/end", GuardGuardn, h.EndLink, guardian)
	add(http.MethodGet, "/teens/:id/messages", GuardGuardn, h.GuardianMessages, guardian)
	add(http.MethodPost, "/teens/:id/messages", GuardGuardn, h.SaveGuardianMessages, guardian)
	add(http.MethodGet, "/teens/:id/alerts", GuardGuardn, h.GuardianTeenAlerts, guardian)
	add(http.MethodGet, "/alerts", GuardGuardn, h.GuardianAlerts, guardian)
	add(http.MethodPost, "/alerts/read-all", GuardGuardn, h.MarkAllAlertsRead, guardian)
	add(http.MethodPost, "/alerts/:id/read", GuardGuardn, h.AcknowledgeAlert, guardian)
	add(http.MethodPost, "/alerts/:id/not-useful", GuardGuardn, h.MarkAlertNotUseful, guardian)
	add(http.MethodPost, "/alerts/:id/block", GuardGuardn, h.BlockAlertSender, guardian)
	add(http.MethodPost, "/requests/:id/approve", GuardGuardn, h.DecideRequest(true), guardian)
	add(http.MethodPost, "/requests/:id/decline", GuardGuardn, h.DecideRequest(false), guardian)
	add(http.MethodGet, "/disputes", GuardGuardn, h.DisputeList, guardian)
	add(http.MethodGet, "/disputes/new", GuardGuardn, h.DisputeNewPage, guardian)
	add(http.MethodPost, "/disputes", GuardGuardn, h.OpenDispute, guardian)
	add(http.MethodGet, "/disputes/:id", GuardGuardn, h.DisputeDetail, guardian)
	add(http.MethodPost, "/disputes/:id/reply", GuardGuardn, h.DisputeReply, guardian)

	// Guardians: which alerts email them at once, and the weekly digest.
	add(http.MethodGet, "/account/alerts", GuardGuardn, h.AlertPrefsPage, guardian)
	add(http.MethodPost, "/account/alerts", GuardGuardn, h.SaveAlertPrefs, guardian)

	// Everyone signed in.
	add(http.MethodGet, "/notifications", GuardSigned, h.NotificationsPage, signedIn)
	add(http.MethodPost, "/notifications/read-all", GuardSigned, h.MarkAllNotificationsRead, signedIn)
	add(http.MethodPost, "/notifications/:id/read", GuardSigned, h.MarkNotificationRead, signedIn)

	// Teens, signed in through links from their messaging app.
	add(http.MethodGet, "/t/signin/:token", GuardPublic, h.TeenSigninPage, public)
	add(http.MethodPost, "/t/signin/:token", GuardPublic, h.TeenSignin, with(public, authLimit))
	add(http.MethodGet, "/teen/alerts", GuardTeen, h.TeenAlerts, teen)
	add(http.MethodGet, "/teen", GuardTeen, h.TeenHome, teen)
	add(http.MethodGet, "/teen/supervision", GuardTeen, h.TeenSupervision, teen)
	add(http.MethodPost, "/teen/links/:id/end", GuardTeen, h.TeenEndLink, teen)
	add(http.MethodPost, "/teen/links/:id/request-end", GuardTeen, h.TeenRequestEnd, teen)
	add(http.MethodPost, "/teen/requests/:id/cancel", GuardTeen, h.TeenCancelRequest, teen)
	add(http.MethodGet, "/teen/messages", GuardTeen, h.TeenMessages, teen)
	add(http.MethodPost, "/teen/messages", GuardTeen, h.SaveTeenMessages, teen)
	add(http.MethodGet, "/teen/activity", GuardTeen, h.TeenActivity, teen)
	add(http.MethodGet, "/teen/activity.json", GuardTeen, h.TeenActivityJSON, teen)
	add(http.MethodGet, "/teen/export.json", GuardTeen, h.TeenExportJSON, teen)
	add(http.MethodGet, "/teen/help", GuardTeen, h.TeenHelp, teen)
	add(http.MethodGet, "/teen/disputes", GuardTeen, h.DisputeList, teen)
	add(http.MethodGet, "/teen/disputes/new", GuardTeen, h.DisputeNewPage, teen)
	add(http.MethodPost, "/teen/disputes", GuardTeen, h.OpenDispute, teen)
	add(http.MethodGet, "/teen/disputes/:id", GuardTeen, h.DisputeDetail, teen)
	add(http.MethodPost, "/teen/disputes/:id/reply", GuardTeen, h.DisputeReply, teen)
	add(http.MethodGet, "/teen/invite", GuardTeen, h.TeenInviteCodePage, teen)
	add(http.MethodPost, "/teen/invite", GuardTeen, h.TeenInviteCode, then(teen, codeLimit))
	add(http.MethodGet, "/teen/invite/:code", GuardTeen, h.TeenInviteReview, then(teen, codeLimit))
	add(http.MethodPost, "/teen/invite/:code/accept", GuardTeen, h.AcceptInvitation, then(teen, codeLimit))
	add(http.MethodPost, "/teen/invite/:code/decline", GuardTeen, h.DeclineInvitation, then(teen, codeLimit))

	// Support staff.
	add(http.MethodGet, "/staff/login", GuardGuest, h.StaffLoginPage, guest)
	add(http.MethodPost, "/staff/login", GuardGuest, h.StaffLogin, with(guest, authLimit))
	add(http.MethodGet, handlers.SecondFactorPath, GuardStaffPending, h.StaffCodePage, staffPending)
	add(http.MethodPost, handlers.SecondFactorPath, GuardStaffPending, h.StaffCode, with(staffPending, authLimit))
	add(http.MethodGet, "/staff/login/enrol", GuardStaffPending, h.StaffEnrolPage, staffPending)
	add(http.MethodPost, "/staff/login/enrol", GuardStaffPending, h.StaffEnrol, with(staffPending, authLimit))
	add(http.MethodPost, "/staff/logout", GuardStaff, h.Logout, staff)
	add(http.MethodGet, "/staff", GuardStaff, h.StaffHome, staff)
	// Staff accounts: leads only (agents get 403 from the store).
	add(http.MethodGet, "/staff/accounts", GuardStaff, h.StaffAccounts, staff)
	add(http.MethodGet, "/staff/accounts/:id", GuardStaff, h.StaffAccountPage, staff)
	add(http.MethodPost, "/staff/accounts/:id/disable", GuardStaff, h.StaffAccountAction(pages.StaffActionDisable), staff)
	add(http.MethodPost, "/staff/accounts/:id/enable", GuardStaff, h.StaffAccountAction(pages.StaffActionEnable), staff)
	add(http.MethodPost, "/staff/accounts/:id/reset-second-factor", GuardStaff, h.StaffAccountAction(pages.StaffActionReset), staff)
	add(http.MethodGet, "/staff/disputes/:id", GuardStaff, h.StaffCase, staff)
	add(http.MethodPost, "/staff/disputes/:id/assign", GuardStaff, h.StaffAct(models.ActAssign), staff)
	add(http.MethodPost, "/staff/disputes/:id/reply", GuardStaff, h.StaffAct(models.ActReply), staff)
	add(http.MethodPost, "/staff/disputes/:id/ask", GuardStaff, h.StaffAct(models.ActAskInfo), staff)
	add(http.MethodPost, "/staff/disputes/:id/notes", GuardStaff, h.StaffAct(models.ActNote), staff)
	add(http.MethodPost, "/staff/disputes/:id/suspend", GuardStaff, h.StaffAct(models.ActSuspendLink), staff)
	add(http.MethodPost, "/staff/disputes/:id/reinstate", GuardStaff, h.StaffAct(models.ActReinstateLink), staff)
	add(http.MethodPost, "/staff/disputes/:id/reset-rules", GuardStaff, h.StaffAct(models.ActResetRules), staff)
	add(http.MethodPost, "/staff/disputes/:id/resolve", GuardStaff, h.StaffAct(models.ActResolve), staff)
	add(http.MethodPost, "/staff/disputes/:id/reject", GuardStaff, h.StaffAct(models.ActReject), staff)
	add(http.MethodPost, "/staff/disputes/:id/propose", GuardStaff, h.StaffAct(models.ActPropose), staff)
	// Lead-only: the store refuses an agent (403) and records the attempt,
	// so these are open to all staff here.
	add(http.MethodPost, "/staff/disputes/:id/end", GuardStaff, h.StaffAct(models.ActEndLink), staff)
	add(http.MethodPost, "/staff/disputes/:id/disable", GuardStaff, h.StaffAct(models.ActDisable), staff)
	add(http.MethodPost, "/staff/disputes/:id/proposals/:pid/approve", GuardStaff, h.StaffAct(models.ActApprove), staff)
	add(http.MethodPost, "/staff/disputes/:id/proposals/:pid/decline", GuardStaff, h.StaffAct(models.ActDecline), staff)

	// The messaging service's hook API.
	add(http.MethodPut, "/api/v1/teens/:id", GuardClient, h.PutTeen, client)
	add(http.MethodDelete, "/api/v1/teens/:id", GuardClient, h.DeleteTeen, client)
	add(http.MethodPost, "/api/v1/teens/:id/signin-links", GuardClient, h.CreateSigninLink, client)
	add(http.MethodGet, "/api/v1/teens/:id/policy", GuardClient, h.TeenPolicy, client)
	add(http.MethodPost, "/api/v1/dm/check", GuardClient, h.CheckDM, client)
	add(http.MethodPost, "/api/v1/dm/check/batch", GuardClient, h.CheckDMBatch, client)
	add(http.MethodPost, "/api/v1/moderation/events", GuardClient, h.ReportEvents, events)

	if cfg.Dev() && s.Mailbox != nil {
		add(http.MethodGet, "/dev/mailbox", GuardDevOnly, h.DevMailbox, public)
	}
}

// limiter limits requests per client IP (as the IP extractor decides).
func limiter(r rate.Limit, burst int) echo.MiddlewareFunc {
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: r, Burst: burst, ExpiresIn: 10 * time.Minute,
		}),
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", "60")
			return echo.NewHTTPError(http.StatusTooManyRequests, "Too many requests from this address. Wait a minute and try again.")
		},
		ErrorHandler: func(c echo.Context, err error) error {
			return echo.NewHTTPError(http.StatusForbidden, "Could not tell where the request came from.")
		},
	})
}
