package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/views"
	"github.com/hearth-safety/hearth/views/pages"
)

// InviteNewPage shows the form that starts an invitation.
func (h *Handlers) InviteNewPage(c echo.Context) error {
	return render(c, http.StatusOK, pages.InviteNew(pages.InviteNewProps{Page: h.page(c, "Invite a teen")}))
}

// CreateInvitation makes an invitation and shows its code, link and QR
// code once: only a hash of the code is kept.
func (h *Handlers) CreateInvitation(c echo.Context) error {
	label := trimmed(c.FormValue("label"))
	inv, code, err := h.Store.CreateInvitation(ctx(c), actor(c), label)
	if fe := models.FieldErrors(err); fe != nil {
		return render(c, http.StatusUnprocessableEntity, pages.InviteNew(pages.InviteNewProps{Page: h.page(c, "Invite a teen"), Label: label, Errors: views.FieldErrors(fe)}))
	} else if err != nil {
		return err
	}
	link := h.absURL("/i/" + url.PathEscape(code))
	qr, err := qrSVG(link)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusCreated, pages.InviteCreated(pages.InviteCreatedProps{
		Page: h.page(c, "Invitation ready"), Label: inv.Label, Code: code, URL: link, QR: qr, ExpiresAt: inv.ExpiresAt,
	}))
}

// WithdrawInvitation takes back a pending invitation.
func (h *Handlers) WithdrawInvitation(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.Store.WithdrawInvitation(ctx(c), actor(c), id); err != nil {
		return err
	}
	h.Flashes.Add(c, "success", "Invitation withdrawn. Its code no longer works.")
	return redirect(c, "/")
}

// InvitationLink is where an invitation's link or QR code leads. A signed-in
// teen goes straight to the review page; anyone else learns how to use it.
func (h *Handlers) InvitationLink(c echo.Context) error {
	code, ok := store.NormalizeInviteCode(c.Param("code"))
	if !ok {
		return models.ErrNotFound
	}
	if u := currentUser(c); u != nil && u.Role == models.RoleTeen {
		return c.Redirect(http.StatusSeeOther, "/teen/invite/"+url.PathEscape(store.FormatInviteCode(code)))
	}
	return render(c, http.StatusOK, pages.TeenInviteCode(pages.TeenInviteCodeProps{
		Page: h.page(c, "You've been invited"),
		Code: store.FormatInviteCode(code),
	}))
}

// TeenInviteCodePage shows the code form to a teen.
func (h *Handlers) TeenInviteCodePage(c echo.Context) error {
	return render(c, http.StatusOK, pages.TeenInviteCode(pages.TeenInviteCodeProps{Page: h.page(c, "Enter an invitation code")}))
}

// TeenInviteCode checks a typed code and opens its review page. Attempts
// are limited per teen and per IP, so codes cannot be guessed.
func (h *Handlers) TeenInviteCode(c echo.Context) error {
	raw := trimmed(c.FormValue("code"))
	show := func(status int, msg string) error {
		return render(c, status, pages.TeenInviteCode(pages.TeenInviteCodeProps{Page: h.page(c, "Enter an invitation code"), Code: raw, Error: msg}))
	}
	if ok, _ := h.Throttle.Allow("invite:" + strconv.FormatInt(actor(c).UserID, 10)); !ok {
		return show(http.StatusTooManyRequests, "Too many codes tried. Wait a minute, then try again.")
	}
	code, ok := store.NormalizeInviteCode(raw)
	if !ok {
		return show(http.StatusUnprocessableEntity, "Codes are 12 letters and numbers, like ABCD-EFGH-JKMN. Check it and try again.")
	}
	if _, err := h.Store.InvitationByCode(ctx(c), actor(c), code); err != nil {
		if msg := invitationProblem(err); msg != "" {
			return show(http.StatusUnprocessableEntity, msg)
		}
		return err
	}
	return redirect(c, "/teen/invite/"+url.PathEscape(store.FormatInviteCode(code)))
}

// invitationProblem says why a code cannot be used, in the teen's words.
func invitationProblem(err error) string {
	switch {
	case errors.Is(err, models.ErrNotFound):
		return "That code doesn't match an invitation. It may be mistyped, or the guardian withdrew it."
	case errors.Is(err, models.ErrExpired):
		return "That invitation has expired (they last 48 hours). Ask for a new one."
	case errors.Is(err, models.ErrUsed):
		return "That invitation has already been answered."
	case errors.Is(err, models.ErrAlreadySupervised):
		return "This person already supervises you."
	case errors.Is(err, models.ErrTooManyGuardians):
		return "You already have 4 guardians, the most Hearth allows. One of them would need to stop first."
	case errors.Is(err, models.ErrForbidden):
		return "Invitation codes are for teens. Guardians invite; the teen enters the code."
	}
	return ""
}

// TeenInviteReview shows the teen who is inviting them and exactly what
// that person would see and control, before they decide.
func (h *Handlers) TeenInviteReview(c echo.Context) error {
	return h.showReview(c, http.StatusOK, "")
}

func (h *Handlers) showReview(c echo.Context, status int, msg string) error {
	code, ok := store.NormalizeInviteCode(c.Param("code"))
	if !ok {
		return models.ErrNotFound
	}
	inv, err := h.Store.InvitationByCode(ctx(c), actor(c), code)
	if err != nil {
		if m := invitationProblem(err); m != "" {
			return render(c, http.StatusUnprocessableEntity, pages.TeenInviteCode(pages.TeenInviteCodeProps{Page: h.page(c, "Enter an invitation code"), Error: m}))
		}
		return err
	}
	t, err := h.Store.TeenForUser(ctx(c), actor(c))
	if err != nil {
		return err
	}
	return render(c, status, pages.TeenInviteReview(pages.TeenInviteReviewProps{
		Page: h.page(c, "Review invitation"), Code: store.FormatInviteCode(code), GuardianName: inv.GuardianName,
		GuardianEmail: inv.GuardianEmail, ExpiresAt: inv.ExpiresAt, Age: t.Age(h.Store.Now()), Error: msg,
	}))
}

// AcceptInvitation links the teen to the guardian, only with the box
// ticked that this person is their parent or guardian.
func (h *Handlers) AcceptInvitation(c echo.Context) error {
	if c.FormValue("confirm") != "yes" {
		return h.showReview(c, http.StatusUnprocessableEntity, "Tick the box to confirm this person is your parent or guardian, or decline.")
	}
	code, _ := store.NormalizeInviteCode(c.Param("code"))
	link, err := h.Store.AcceptInvitation(ctx(c), actor(c), code)
	if err != nil {
		if m := invitationProblem(err); m != "" {
			return render(c, http.StatusConflict, pages.TeenInviteCode(pages.TeenInviteCodeProps{Page: h.page(c, "Enter an invitation code"), Error: m}))
		}
		return err
	}
	h.Flashes.Add(c, "success", link.GuardianName+" now supervises you. You can see everything they see here.")
	return redirect(c, "/teen/supervision")
}

// DeclineInvitation turns an invitation down; the guardian is told.
func (h *Handlers) DeclineInvitation(c echo.Context) error {
	code, _ := store.NormalizeInviteCode(c.Param("code"))
	if err := h.Store.DeclineInvitation(ctx(c), actor(c), code); err != nil {
		if m := invitationProblem(err); m != "" {
			return render(c, http.StatusConflict, pages.TeenInviteCode(pages.TeenInviteCodeProps{Page: h.page(c, "Enter an invitation code"), Error: m}))
		}
		return err
	}
	h.Flashes.Add(c, "info", "You declined the invitation. They have been told; nothing was shared.")
	return redirect(c, "/teen")
}

// pathID reads a positive integer path parameter; anything else is 404.
func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, models.ErrNotFound
	}
	return id, nil
}

// pageParam reads ?page=N (default 1).
func pageParam(c echo.Context) models.Page {
	n, err := strconv.Atoi(c.QueryParam("page"))
	if err != nil || n < 1 {
		n = 1
	}
	return models.Page{Number: n, Size: 20}
}

func pagination(p models.Page, total int, base string) pages.Pagination {
	pagesN := (total + p.Limit() - 1) / p.Limit()
	if pagesN < 1 {
		pagesN = 1
	}
	return pages.Pagination{Page: max(p.Number, 1), Pages: pagesN, BaseURL: base}
}
