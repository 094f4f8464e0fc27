package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
)

// LoadViewer finds who is signed in from the session cookie and puts the
// user and actor on the context. It lets every request through; the guards
// below decide.
func (h *Handlers) LoadViewer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		uid, role, err := h.Sessions.Current(c.Request())
		if err != nil {
			return err
		}
		if uid != 0 {
			u, err := h.Store.User(ctx(c), uid)
			switch {
			case errors.Is(err, models.ErrNotFound):
				h.Sessions.SignOut(c.Response(), c.Request())
			case err != nil:
				return err
			case u.Disabled() || u.Role != role:
				// A disabled account or changed role ends the session.
				h.Sessions.EndUser(ctx(c), u.ID)
				h.Sessions.SignOut(c.Response(), c.Request())
			default:
				c.Set(keyUser, &u)
				c.Set(keyActor, models.Actor{UserID: u.ID, Role: u.Role})
				// Signed-in pages hold personal data: never cache them.
				c.Response().Header().Set("Cache-Control", "no-store")
			}
			return next(c)
		}
		if err := h.loadPending(c); err != nil {
			return err
		}
		return next(c)
	}
}

// loadPending puts a staff member who gave the right password but not yet
// their second factor on the context, apart from the signed-in user: such a
// session grants nothing but the code step.
func (h *Handlers) loadPending(c echo.Context) error {
	uid, role, err := h.Sessions.Pending(c.Request())
	if err != nil || uid == 0 {
		return err
	}
	u, err := h.Store.User(ctx(c), uid)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return h.Sessions.SignOut(c.Response(), c.Request())
	case err != nil:
		return err
	case u.Disabled() || u.Role != role || !u.Role.IsStaff():
		h.Sessions.EndUser(ctx(c), u.ID)
		return h.Sessions.SignOut(c.Response(), c.Request())
	}
	c.Set(keyPending, &u)
	c.Response().Header().Set("Cache-Control", "no-store")
	return nil
}

// pendingStaff returns the staff member half-way through signing in, or nil.
func pendingStaff(c echo.Context) *models.User {
	u, _ := c.Get(keyPending).(*models.User)
	return u
}

// SecondFactorPath is the code step of staff sign-in; it sends people who
// have not enrolled yet on to enrolment.
const SecondFactorPath = "/staff/login/code"

// RequirePendingStaff lets through only a staff session that has the right
// password and waits for the second factor: the code and enrolment steps.
// Someone fully signed in is sent home, anyone else to the staff sign-in.
func RequirePendingStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u := currentUser(c); u != nil {
			if c.Request().Method != http.MethodGet {
				return echo.NewHTTPError(http.StatusForbidden, "You're signed in already.")
			}
			return c.Redirect(http.StatusSeeOther, HomeFor(u.Role))
		}
		if pendingStaff(c) == nil {
			if c.Request().Method != http.MethodGet {
				return echo.NewHTTPError(http.StatusUnauthorized, "Your sign-in took too long and has ended. Sign in again.")
			}
			return c.Redirect(http.StatusSeeOther, "/staff/login")
		}
		return next(c)
	}
}

// Public marks a route open to everyone. It does nothing but makes the
// choice explicit in the route table, where the guard test looks for it.
func Public(next echo.HandlerFunc) echo.HandlerFunc { return next }

// Guest marks pages for signed-out visitors (sign-in, sign-up). A signed-in
// person is sent to their home instead.
func Guest(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u := currentUser(c); u != nil && c.Request().Method == http.MethodGet {
			return c.Redirect(http.StatusSeeOther, HomeFor(u.Role))
		}
		return next(c)
	}
}

// HomeFor is where a role lands after signing in.
func HomeFor(r models.Role) string {
	switch r {
	case models.RoleTeen:
		return "/teen"
	case models.RoleStaff, models.RoleLead:
		return "/staff"
	}
	return "/"
}

// Require lets through only people signed in with one of roles. Signed-out
// visitors are sent to the right sign-in page (and back afterwards); people
// of another role get 404, as if the page did not exist.
func Require(roles ...models.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u := currentUser(c)
			if u == nil {
				// Staff with only a password grant nothing: every staff page
				// sends them on to the code step (and back afterwards).
				if p := pendingStaff(c); p != nil && roleIn(p.Role, roles) {
					if c.Request().Method != http.MethodGet {
						return echo.NewHTTPError(http.StatusUnauthorized, "Finish signing in with the code from your authenticator app first.")
					}
					return c.Redirect(http.StatusSeeOther, SecondFactorPath+"?next="+url.QueryEscape(c.Request().URL.RequestURI()))
				}
				if c.Request().Method != http.MethodGet {
					return echo.NewHTTPError(http.StatusUnauthorized, "Your session has ended. Sign in again.")
				}
				login := "/login"
				for _, r := range roles {
					if r.IsStaff() {
						login = "/staff/login"
					}
					if r == models.RoleTeen && len(roles) == 1 {
						return echo.NewHTTPError(http.StatusUnauthorized, "Open Hearth from your messaging app to sign in.")
					}
				}
				return c.Redirect(http.StatusSeeOther, login+"?next="+url.QueryEscape(c.Request().URL.RequestURI()))
			}
			for _, r := range roles {
				if u.Role == r {
					return next(c)
				}
			}
			return models.ErrNotFound
		}
	}
}

func roleIn(r models.Role, roles []models.Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

// safeNext returns a local path to go to after sign-in, refusing anything
// that could leave the site.
func safeNext(next, fallback string) string {
	// Browsers drop tabs and newlines anywhere in a URL, so "/\t/evil.example"
	// is "//evil.example" to them: refuse every control character.
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fallback
	}
	return next
}
