package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/views"
	"github.com/hearth-safety/hearth/views/pages"
)

// StaffLoginPage shows the support staff sign-in form.
func (h *Handlers) StaffLoginPage(c echo.Context) error {
	return render(c, http.StatusOK, pages.StaffLogin(pages.StaffLoginProps{Page: h.page(c, "Support sign in"), Next: safeNext(c.QueryParam("next"), "")}))
}

// StaffLogin checks a staff member's password; guardians' credentials do
// not work here. A right password signs nobody in yet: it starts a session
// that waits for the second factor and sends them to that step.
func (h *Handlers) StaffLogin(c echo.Context) error {
	return h.login(c, "staff", []models.Role{models.RoleStaff, models.RoleLead}, func(p views.Page, email, next, msg string, status int) error {
		p.Title = "Support sign in"
		return render(c, status, pages.StaffLogin(pages.StaffLoginProps{Page: p, Email: email, Next: next, Error: msg}))
	}, func(c echo.Context, u models.User, next string) error {
		if err := h.Sessions.SignInPending(c.Response(), c.Request(), u); err != nil {
			return err
		}
		// Staff without a second factor get their key now, in this POST,
		// so that the enrolment page (a GET) only shows it.
		f, err := h.Store.SecondFactor(ctx(c), u.ID)
		if err != nil {
			return err
		}
		if !f.Enrolled() {
			if _, err := h.Store.StartTOTPEnrolment(ctx(c), u); err != nil {
				return err
			}
		}
		return redirect(c, withNext(SecondFactorPath, next))
	})
}
