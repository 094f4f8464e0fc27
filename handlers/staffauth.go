package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/views"
	"github.com/hearth-safety/hearth/views/pages"
)

// enrolPath is where staff without a second factor set one up.
const enrolPath = "/staff/login/enrol"

// withNext adds where to go after sign-in to path.
func withNext(path, next string) string {
	if next = safeNext(next, ""); next == "" {
		return path
	}
	return path + "?next=" + url.QueryEscape(next)
}

// StaffCodePage asks for the code from the authenticator app (or a
// recovery code); staff who have not enrolled are sent to enrolment.
func (h *Handlers) StaffCodePage(c echo.Context) error {
	u := pendingStaff(c)
	next := safeNext(c.QueryParam("next"), "")
	f, err := h.Store.SecondFactor(ctx(c), u.ID)
	if err != nil {
		return err
	}
	if !f.Enrolled() {
		return c.Redirect(http.StatusSeeOther, withNext(enrolPath, next))
	}
	props := pages.StaffCodeProps{Page: h.page(c, "Enter your code"), Next: next, Email: u.Email}
	if f.LockedUntil != nil {
		props.Error, props.Locked = lockedMessage(*f.LockedUntil), true
	}
	return render(c, http.StatusOK, pages.StaffCode(props))
}

// StaffCode checks the code. A right one replaces the pending session with
// a signed-in one under a new ID; a recovery code is spent, and the flash
// says how many remain.
func (h *Handlers) StaffCode(c echo.Context) error {
	u := pendingStaff(c)
	next := safeNext(c.FormValue("next"), "")
	show := func(status int, msg string, locked bool) error {
		return render(c, status, pages.StaffCode(pages.StaffCodeProps{Page: h.page(c, "Enter your code"), Next: next, Email: u.Email, Error: msg, Locked: locked}))
	}
	code := models.NormalizeCode(c.FormValue(pages.FieldTOTPCode))
	if code == "" {
		return show(http.StatusUnprocessableEntity, "Enter the 6-digit code from your authenticator app, or a recovery code.", false)
	}
	res, err := h.Store.VerifySecondFactor(ctx(c), u.ID, code)
	if errors.Is(err, models.ErrNotFound) {
		return redirect(c, withNext(enrolPath, next))
	}
	if status, msg, locked, ok := codeProblem(err); ok {
		return show(status, msg, locked)
	} else if err != nil {
		return err
	}
	if err := h.Sessions.SignIn(c.Response(), c.Request(), *u); err != nil {
		return err
	}
	if res.UsedRecoveryCode {
		msg := "You signed in with a recovery code, which now no longer works. You have " +
			plural(res.RecoveryLeft, "recovery code", "recovery codes") + " left."
		if res.RecoveryLeft <= 3 {
			msg += " Ask a support lead to reset your second factor to get a new set."
		}
		h.Flashes.Add(c, views.FlashInfo, msg)
	}
	return redirect(c, safeNext(next, HomeFor(u.Role)))
}

// StaffEnrolPage shows the QR code and the secret of a new authenticator
// app entry; staff who have enrolled already are sent to the code step.
func (h *Handlers) StaffEnrolPage(c echo.Context) error {
	return h.showEnrol(c, http.StatusOK, "")
}

func (h *Handlers) showEnrol(c echo.Context, status int, msg string) error {
	u := pendingStaff(c)
	next := safeNext(c.QueryParam("next"), safeNext(c.FormValue("next"), ""))
	f, err := h.Store.SecondFactor(ctx(c), u.ID)
	if err != nil {
		return err
	}
	if f.Enrolled() {
		return c.Redirect(http.StatusSeeOther, withNext(SecondFactorPath, next))
	}
	enr, err := h.Store.PendingTOTPEnrolment(ctx(c), *u)
	if errors.Is(err, models.ErrNotFound) {
		// Reset while they were signing in: start again from the password.
		return c.Redirect(http.StatusSeeOther, "/staff/login")
	} else if err != nil {
		return err
	}
	qr, err := qrSVG(enr.URL)
	if err != nil {
		return err
	}
	props := pages.StaffEnrolProps{Page: h.page(c, "Set up your second factor"), Next: next, Email: u.Email, QR: qr, Secret: groupSecret(enr.Secret), Error: msg}
	if f.LockedUntil != nil {
		props.Error, props.Locked = lockedMessage(*f.LockedUntil), true
	}
	return render(c, status, pages.StaffEnrol(props))
}

// StaffEnrol confirms enrolment with the first code from the app, signs the
// staff member in under a new session ID and shows their recovery codes,
// this once.
func (h *Handlers) StaffEnrol(c echo.Context) error {
	u := pendingStaff(c)
	next := safeNext(c.FormValue("next"), "")
	code := models.NormalizeCode(c.FormValue(pages.FieldTOTPCode))
	if code == "" {
		return h.showEnrol(c, http.StatusUnprocessableEntity, "Enter the 6-digit code your app shows for Hearth.")
	}
	codes, err := h.Store.ConfirmTOTPEnrolment(ctx(c), u.ID, code)
	switch {
	case errors.Is(err, models.ErrConflict):
		return redirect(c, withNext(SecondFactorPath, next))
	case errors.Is(err, models.ErrInvalidCode):
		return h.showEnrol(c, http.StatusUnauthorized, "That code doesn't match. Check that you added the key shown here, then enter the code your app shows now.")
	}
	if status, msg, _, ok := codeProblem(err); ok {
		return h.showEnrol(c, status, msg)
	} else if err != nil {
		return err
	}
	if err := h.Sessions.SignIn(c.Response(), c.Request(), *u); err != nil {
		return err
	}
	// The page shows secrets; the signed-in user was not on the context
	// when this request began, so say it here too.
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Set(keyUser, u)
	c.Set(keyActor, models.Actor{UserID: u.ID, Role: u.Role})
	return render(c, http.StatusOK, pages.StaffRecoveryCodes(pages.StaffRecoveryCodesProps{
		Page: h.page(c, "Save your recovery codes"), Codes: codes, Download: recoveryDownload(u.Email, codes), Next: next,
	}))
}

// codeProblem words a second-factor failure for the page: the status, the
// message, whether the form must stay hidden (locked), and ok when err was
// such a failure.
func codeProblem(err error) (int, string, bool, bool) {
	var locked *models.LockedError
	switch {
	case errors.As(err, &locked):
		return http.StatusTooManyRequests, lockedMessage(locked.Until), true, true
	case errors.Is(err, models.ErrInvalidCode):
		return http.StatusUnauthorized, "That code isn't right. Enter the code your authenticator app shows now, or one of your recovery codes.", false, true
	case errors.Is(err, models.ErrUsed):
		return http.StatusUnauthorized, "That code was used already. Wait for your app to show the next one (codes change every 30 seconds).", false, true
	}
	return 0, "", false, false
}

func lockedMessage(until time.Time) string {
	return "Too many wrong codes. To keep the account safe, no code is accepted until " + until.UTC().Format("15:04 MST") +
		". If you've lost your phone, use a recovery code then, or ask a support lead to reset your second factor."
}

// groupSecret splits a base32 secret into groups of four for reading.
func groupSecret(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// recoveryDownload is a data: URL of the recovery codes as a text file, so
// the download needs no second request and the codes never leave this
// page's answer. Hearth made every character of it.
func recoveryDownload(email string, codes []string) templ.SafeURL {
	text := "Hearth support recovery codes for " + email + "\n" +
		"Each code signs you in once in place of your authenticator app.\n\n" + strings.Join(codes, "\n") + "\n"
	return templ.SafeURL("data:text/plain;charset=utf-8," + url.PathEscape(text))
}

// plural returns "1 code" or "3 codes".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
