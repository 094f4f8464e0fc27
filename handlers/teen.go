package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/views/pages"
)

// TeenSigninPage is where a sign-in link from the messaging app lands. It
// checks the link without spending it and shows a button: link previews in
// chat apps fetch URLs, and must not use up the teen's link.
func (h *Handlers) TeenSigninPage(c echo.Context) error {
	token := c.Param("token")
	if err := h.Store.CheckSigninLink(ctx(c), token); err != nil {
		// A teen who reloads the link after signing in is simply home.
		if u := currentUser(c); u != nil && u.Role == models.RoleTeen && errors.Is(err, models.ErrUsed) {
			return c.Redirect(http.StatusSeeOther, "/teen")
		}
		return h.signinProblem(c, err)
	}
	return render(c, http.StatusOK, pages.TeenSignin(pages.TeenSigninProps{Page: h.page(c, "Sign in to Hearth"), Token: token}))
}

// TeenSignin spends the link and signs the teen in.
func (h *Handlers) TeenSignin(c echo.Context) error {
	u, err := h.Store.ConsumeSigninLink(ctx(c), c.Param("token"))
	if err != nil {
		return h.signinProblem(c, err)
	}
	if err := h.Sessions.SignIn(c.Response(), c.Request(), u); err != nil {
		return err
	}
	return redirect(c, "/teen")
}

func (h *Handlers) signinProblem(c echo.Context, err error) error {
	reason := tokenProblem(err)
	if reason == "" {
		return err
	}
	return render(c, http.StatusGone, pages.SigninLinkProblem(pages.SigninProblemProps{Page: h.page(c, "This link doesn't work"), Reason: reason}))
}

// TeenHome is the signed-in teen's home page.
func (h *Handlers) TeenHome(c echo.Context) error {
	t, err := h.Store.TeenForUser(ctx(c), actor(c))
	if err != nil {
		return err
	}
	links, err := h.Store.TeenGuardians(ctx(c), actor(c))
	if err != nil {
		return err
	}
	reqs, err := h.Store.TeenRequests(ctx(c), actor(c))
	if err != nil {
		return err
	}
	props := pages.TeenHomeProps{Page: h.page(c, "Your Hearth"), DisplayName: t.DisplayName, Age: t.Age(h.Store.Now())}
	for _, l := range links {
		if l.State == models.LinkActive {
			props.Guardians = append(props.Guardians, pages.GuardianRef{Name: l.GuardianName, Email: l.GuardianEmail, Since: l.CreatedAt})
		}
	}
	props.Supervised = len(props.Guardians) > 0
	for _, r := range reqs {
		if r.State == models.RequestPending {
			props.PendingRequests++
		}
	}
	return render(c, http.StatusOK, pages.TeenHome(props))
}
