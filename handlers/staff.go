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

// StaffLogin signs support staff in; guardians' credentials do not work here.
func (h *Handlers) StaffLogin(c echo.Context) error {
	return h.login(c, "staff", []models.Role{models.RoleStaff, models.RoleLead}, func(p views.Page, email, next, msg string, status int) error {
		p.Title = "Support sign in"
		return render(c, status, pages.StaffLogin(pages.StaffLoginProps{Page: p, Email: email, Next: next, Error: msg}))
	})
}
