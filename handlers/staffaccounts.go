package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/views"
	"github.com/hearth-safety/hearth/views/pages"
)

// StaffAccounts lists support agents and leads for a lead, with the newest
// entries of the staff audit trail. Agents get 403.
func (h *Handlers) StaffAccounts(c echo.Context) error {
	accts, err := h.Store.StaffAccounts(ctx(c), actor(c))
	if err != nil {
		return err
	}
	events, err := h.Store.StaffAuditEvents(ctx(c), actor(c), 0, 30)
	if err != nil {
		return err
	}
	list := make([]pages.StaffAccountView, len(accts))
	for i, a := range accts {
		list[i] = staffAccountView(a)
	}
	return render(c, http.StatusOK, pages.StaffAccounts(pages.StaffAccountsProps{
		Page: h.page(c, "Staff accounts"), Accounts: list, Events: staffAuditViews(events),
	}))
}

// StaffAccountPage shows one staff account with the lead's actions on it.
func (h *Handlers) StaffAccountPage(c echo.Context) error {
	return h.showStaffAccount(c, http.StatusOK, pages.StaffAccountProps{})
}

func (h *Handlers) showStaffAccount(c echo.Context, status int, props pages.StaffAccountProps) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return models.ErrNotFound
	}
	accts, err := h.Store.StaffAccounts(ctx(c), actor(c))
	if err != nil {
		return err
	}
	found := false
	for _, a := range accts {
		if a.User.ID == id {
			props.Account, found = staffAccountView(a), true
		}
	}
	if !found {
		return models.ErrNotFound
	}
	events, err := h.Store.StaffAuditEvents(ctx(c), actor(c), id, 100)
	if err != nil {
		return err
	}
	props.Page = h.page(c, props.Account.Name)
	props.Self = id == actor(c).UserID
	props.Events = staffAuditViews(events)
	return render(c, status, pages.StaffAccount(props))
}

// StaffAccountAction is a lead's action on a staff account (disable,
// enable, reset the second factor), each with a written reason that the
// staff audit trail keeps. Agents, and a lead acting on their own account,
// get 403.
func (h *Handlers) StaffAccountAction(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return models.ErrNotFound
		}
		reason := c.FormValue(pages.FieldReason)
		var done string
		switch action {
		case pages.StaffActionDisable:
			err, done = h.Store.SetStaffDisabled(ctx(c), actor(c), id, true, reason), "The account is disabled and its sessions have ended."
		case pages.StaffActionEnable:
			err, done = h.Store.SetStaffDisabled(ctx(c), actor(c), id, false, reason), "The account is enabled again."
		case pages.StaffActionReset:
			err, done = h.Store.ResetSecondFactor(ctx(c), actor(c), id, reason), "Their second factor is reset and their sessions have ended. They set up a new authenticator app at their next sign-in."
		default:
			return models.ErrNotFound
		}
		if fe := models.FieldErrors(err); fe != nil {
			return h.showStaffAccount(c, http.StatusUnprocessableEntity, pages.StaffAccountProps{Action: action, Reason: reason, Errors: views.FieldErrors(fe)})
		}
		if errors.Is(err, models.ErrConflict) {
			h.Flashes.Add(c, views.FlashInfo, "Nothing changed: the account was already that way. Someone may have acted on it at the same time.")
			return redirect(c, "/staff/accounts/"+strconv.FormatInt(id, 10))
		}
		if err != nil {
			return err
		}
		h.Flashes.Add(c, views.FlashSuccess, done)
		return redirect(c, "/staff/accounts/"+strconv.FormatInt(id, 10))
	}
}

func staffAccountView(a models.StaffAccount) pages.StaffAccountView {
	return pages.StaffAccountView{ID: a.User.ID, Name: a.User.Name, Email: a.User.Email, Role: views.Role(a.User.Role),
		DisabledAt: a.User.DisabledAt, EnrolledAt: a.SecondFactor.EnrolledAt, RecoveryLeft: a.SecondFactor.RecoveryLeft,
		LockedUntil: a.SecondFactor.LockedUntil, Sessions: a.Sessions}
}

// staffAuditViews words the trail's entries for the pages.
func staffAuditViews(events []models.StaffAuditEvent) []pages.StaffAuditView {
	out := make([]pages.StaffAuditView, 0, len(events))
	for _, e := range events {
		out = append(out, pages.StaffAuditView{At: e.At, Actor: e.ActorName, Action: e.Action.Label(), SubjectID: e.SubjectID,
			SubjectEmail: e.SubjectEmail, Reason: e.Reason})
	}
	return out
}
