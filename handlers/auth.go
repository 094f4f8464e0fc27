package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/views"
	"github.com/hearth-safety/hearth/views/pages"
	"github.com/hearth-safety/hearth/web/mail"
)

// signupForm is the sign-up form; bound field by field, never into a model.
type signupForm struct {
	Name     string `form:"name"`
	Email    string `form:"email"`
	Password string `form:"password"`
}

// SignupPage shows the guardian sign-up form.
func (h *Handlers) SignupPage(c echo.Context) error {
	return render(c, http.StatusOK, pages.Signup(pages.SignupProps{Page: h.page(c, "Create your account")}))
}

// Signup creates an unconfirmed guardian account and emails a confirmation
// link. The answer is the same whether or not the address already had an
// account; its owner gets an email about the attempt instead.
func (h *Handlers) Signup(c echo.Context) error {
	var f signupForm
	if err := c.Bind(&f); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	res, err := h.Store.SignUpGuardian(ctx(c), store.NewUser{Name: f.Name, Email: f.Email, Password: f.Password})
	if fe := models.FieldErrors(err); fe != nil {
		return render(c, http.StatusUnprocessableEntity, pages.Signup(pages.SignupProps{
			Page: h.page(c, "Create your account"), Name: f.Name, Email: f.Email, Errors: views.FieldErrors(fe),
		}))
	} else if err != nil {
		return err
	}
	to := res.User.Email
	switch {
	case res.Existing && res.VerifyToken == "":
		h.sendMail(c, mail.Message{To: to, Subject: "Someone tried to create a Hearth account with your address",
			Text: "Hello " + res.User.Name + ",\n\nSomeone, perhaps you, tried to create a Hearth account with this email address, which already has one. Nothing has changed.\n\n" +
				"If it was you, sign in at " + h.absURL("/login") + "\nIf you forgot your password, reset it at " + h.absURL("/password/forgot") +
				"\n\nIf it wasn't you, you can ignore this email.\n\n— Hearth"})
	default:
		h.sendMail(c, mail.Message{To: to, Subject: "Confirm your email address for Hearth",
			Text: "Hello " + res.User.Name + ",\n\nConfirm this address to finish creating your Hearth account:\n\n" +
				h.absURL("/signup/confirm/"+res.VerifyToken) + "\n\nThe link works once and expires in 24 hours. " +
				"Teens you invite see this address before they accept, so it has to be yours.\n\nIf you didn't sign up for Hearth, ignore this email.\n\n— Hearth"})
	}
	return render(c, http.StatusOK, pages.CheckEmail(pages.CheckEmailProps{Page: h.page(c, "Check your email"), Email: models.NormalizeEmail(f.Email)}))
}

// ConfirmEmailPage shows the button that confirms an address. Confirming
// takes a POST, so link scanners in mail clients cannot spend the link.
func (h *Handlers) ConfirmEmailPage(c echo.Context) error {
	return render(c, http.StatusOK, pages.ConfirmEmail(pages.ConfirmEmailProps{Page: h.page(c, "Confirm your email"), Token: c.Param("token")}))
}

// ConfirmEmail confirms the address and signs the guardian in.
func (h *Handlers) ConfirmEmail(c echo.Context) error {
	u, err := h.Store.VerifyEmail(ctx(c), c.Param("token"))
	if err != nil {
		if reason := tokenProblem(err); reason != "" {
			return render(c, http.StatusGone, pages.ConfirmEmail(pages.ConfirmEmailProps{Page: h.page(c, "Confirm your email"), Problem: reason}))
		}
		return err
	}
	if err := h.Sessions.SignIn(c.Response(), c.Request(), u); err != nil {
		return err
	}
	h.Flashes.Add(c, "success", "Your email address is confirmed. Welcome to Hearth.")
	return redirect(c, HomeFor(u.Role))
}

// tokenProblem names why a single-use token failed, for the page that says
// so: "used", "expired" or "invalid". Other errors are not token problems.
func tokenProblem(err error) string {
	switch {
	case errors.Is(err, models.ErrUsed):
		return "used"
	case errors.Is(err, models.ErrExpired):
		return "expired"
	case errors.Is(err, models.ErrNotFound):
		return "invalid"
	}
	return ""
}

type loginForm struct {
	Email    string `form:"email"`
	Password string `form:"password"`
	Next     string `form:"next"`
}

// LoginPage shows the guardian sign-in form.
func (h *Handlers) LoginPage(c echo.Context) error {
	return render(c, http.StatusOK, pages.Login(pages.LoginProps{Page: h.page(c, "Sign in"), Next: safeNext(c.QueryParam("next"), "")}))
}

// Login signs a guardian in. Wrong password and unknown email get the same
// answer in the same time; attempts are limited per account and per IP.
func (h *Handlers) Login(c echo.Context) error {
	return h.login(c, "guardian", []models.Role{models.RoleGuardian}, func(p views.Page, email, next, msg string, status int) error {
		return render(c, status, pages.Login(pages.LoginProps{Page: p, Email: email, Next: next, Error: msg}))
	}, h.signedIn)
}

// signedIn starts u's session and sends them on: the end of a sign-in.
func (h *Handlers) signedIn(c echo.Context, u models.User, next string) error {
	if err := h.Sessions.SignIn(c.Response(), c.Request(), u); err != nil {
		return err
	}
	return redirect(c, safeNext(next, HomeFor(u.Role)))
}

// loginFailed is the one message for every failed sign-in.
const loginFailed = "That email and password don't match an account. Check them and try again."

// login checks an email and password for one of roles; show renders the
// form again with a message, and done takes over once the password is right.
func (h *Handlers) login(c echo.Context, kind string, roles []models.Role, show func(p views.Page, email, next, msg string, status int) error,
	done func(c echo.Context, u models.User, next string) error) error {
	var f loginForm
	if err := c.Bind(&f); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	email := models.NormalizeEmail(f.Email)
	next := safeNext(f.Next, "")
	title := "Sign in"
	if ok, _ := h.Throttle.Allow(kind + ":" + email); !ok {
		return show(h.page(c, title), email, next, "Too many attempts to sign in to this account. Wait a minute, then try again.", http.StatusTooManyRequests)
	}
	if email == "" || f.Password == "" {
		return show(h.page(c, title), email, next, "Enter your email address and password.", http.StatusUnprocessableEntity)
	}
	u, err := h.Store.Authenticate(ctx(c), email, f.Password, roles...)
	switch {
	case errors.Is(err, models.ErrInvalidCredentials):
		return show(h.page(c, title), email, next, loginFailed, http.StatusUnauthorized)
	case errors.Is(err, models.ErrEmailUnverified):
		if tok, terr := h.Store.ResendVerification(ctx(c), u.ID); terr == nil {
			h.sendMail(c, mail.Message{To: u.Email, Subject: "Confirm your email address for Hearth",
				Text: "Hello " + u.Name + ",\n\nConfirm this address to finish creating your Hearth account:\n\n" +
					h.absURL("/signup/confirm/"+tok) + "\n\nThe link works once and expires in 24 hours.\n\n— Hearth"})
		}
		return show(h.page(c, title), email, next, "Confirm your email address first. We've sent a new confirmation link to "+u.Email+".", http.StatusForbidden)
	case err != nil:
		return err
	}
	return done(c, u, next)
}

// Logout ends the session on the server and in the browser.
func (h *Handlers) Logout(c echo.Context) error {
	if err := h.Sessions.SignOut(c.Response(), c.Request()); err != nil {
		return err
	}
	h.Flashes.Add(c, "info", "You're signed out.")
	if u := currentUser(c); u != nil && u.Role.IsStaff() {
		return redirect(c, "/staff/login")
	}
	return redirect(c, "/login")
}

// ForgotPage shows the form asking for a reset link.
func (h *Handlers) ForgotPage(c echo.Context) error {
	return render(c, http.StatusOK, pages.ForgotPassword(pages.ForgotProps{Page: h.page(c, "Reset your password")}))
}

// Forgot emails a reset link when the address has an account. The page
// says the same either way.
func (h *Handlers) Forgot(c echo.Context) error {
	email := models.NormalizeEmail(c.FormValue("email"))
	if err := models.ValidateEmail(email); err != nil {
		return render(c, http.StatusUnprocessableEntity, pages.ForgotPassword(pages.ForgotProps{
			Page: h.page(c, "Reset your password"), Email: email, Error: models.FieldErrors(err)["email"]}))
	}
	if ok, _ := h.Throttle.Allow("reset:" + email); ok {
		token, u, err := h.Store.CreatePasswordReset(ctx(c), email)
		switch {
		case err == nil:
			h.sendMail(c, mail.Message{To: u.Email, Subject: "Reset your Hearth password",
				Text: "Hello " + u.Name + ",\n\nSomeone asked to reset the password of your Hearth account. To choose a new one, open:\n\n" +
					h.absURL("/password/reset/"+token) + "\n\nThe link works once and expires in 1 hour. Resetting signs you out everywhere.\n\n" +
					"If you didn't ask for this, ignore this email; your password stays as it is.\n\n— Hearth"})
		case !errors.Is(err, models.ErrNotFound):
			return err
		}
	}
	return render(c, http.StatusOK, pages.ForgotPassword(pages.ForgotProps{Page: h.page(c, "Reset your password"), Sent: true, Email: email}))
}

// ResetPage shows the new-password form, or why the link no longer works.
func (h *Handlers) ResetPage(c echo.Context) error {
	token := c.Param("token")
	p := h.page(c, "Choose a new password")
	if err := h.Store.CheckPasswordReset(ctx(c), token); err != nil {
		if tokenProblem(err) == "" {
			return err
		}
		return render(c, http.StatusGone, pages.ResetPassword(pages.ResetProps{Page: p, Invalid: true}))
	}
	return render(c, http.StatusOK, pages.ResetPassword(pages.ResetProps{Page: p, Token: token}))
}

// Reset sets the new password, signs the account out everywhere and asks
// the guardian to sign in with it.
func (h *Handlers) Reset(c echo.Context) error {
	token := c.Param("token")
	pw, confirm := c.FormValue("password"), c.FormValue("password_confirm")
	p := h.page(c, "Choose a new password")
	if pw != confirm {
		return render(c, http.StatusUnprocessableEntity, pages.ResetPassword(pages.ResetProps{Page: p, Token: token,
			Errors: views.FieldErrors{"password_confirm": "The two passwords are different. Type the same one twice."}}))
	}
	_, err := h.Store.ResetPassword(ctx(c), token, pw)
	if fe := models.FieldErrors(err); fe != nil {
		return render(c, http.StatusUnprocessableEntity, pages.ResetPassword(pages.ResetProps{Page: p, Token: token, Errors: views.FieldErrors(fe)}))
	}
	if tokenProblem(err) != "" {
		return render(c, http.StatusGone, pages.ResetPassword(pages.ResetProps{Page: p, Invalid: true}))
	}
	if err != nil {
		return err
	}
	h.Sessions.SignOut(c.Response(), c.Request())
	h.Flashes.Add(c, "success", "Your password is changed and you're signed out everywhere. Sign in with the new one.")
	return redirect(c, "/login")
}

// trimmed returns s without surrounding space, for form values.
func trimmed(s string) string { return strings.TrimSpace(s) }
