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

// safeNext returns a local path to go to after sign-in, refusing anything
// that could leave the site.
func safeNext(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return fallback
	}
	return next
}
