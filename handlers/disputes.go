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

// Where a filer's cases live: teens under /teen, guardians at the top.
func disputesBase(r models.Role) string {
	if r == models.RoleTeen {
		return "/teen/disputes"
	}
	return "/disputes"
}

// DisputeList lists the signed-in teen's or guardian's own cases.
func (h *Handlers) DisputeList(c echo.Context) error {
	ds, err := h.Store.FilerDisputes(ctx(c), actor(c))
	if err != nil {
		return err
	}
	base := disputesBase(actor(c).Role)
	props := pages.DisputeListProps{Page: h.page(c, "Your reports"), ForTeen: actor(c).Role == models.RoleTeen, NewURL: base + "/new"}
	for _, d := range ds {
		props.Items = append(props.Items, pages.DisputeSummary{ID: d.ID, Title: d.Kind.Label(), About: disputeAbout(d, actor(c).Role),
			Status: string(d.Status), StatusLabel: d.Status.Label(), CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
			URL: base + "/" + strconv.FormatInt(d.ID, 10)})
	}
	return render(c, http.StatusOK, pages.DisputeList(props))
}

// disputeAbout words whom a case is about, for its filer.
func disputeAbout(d models.Dispute, filer models.Role) string {
	switch {
	case filer == models.RoleGuardian:
		return "About " + d.TeenName
	case d.GuardianName != "":
		return "About " + d.GuardianName
	}
	return "About your supervision"
}

// DisputeNewPage shows the "Report a problem" form.
func (h *Handlers) DisputeNewPage(c echo.Context) error {
	props, err := h.disputeForm(c)
	if err != nil {
		return err
	}
	props.Kind = c.QueryParam(pages.FieldKind)
	return render(c, http.StatusOK, pages.DisputeNew(props))
}

// disputeForm fills the parts of the form that depend on who files.
func (h *Handlers) disputeForm(c echo.Context) (pages.DisputeNewProps, error) {
	a := actor(c)
	base := disputesBase(a.Role)
	p := pages.DisputeNewProps{Page: h.page(c, "Report a problem"), ForTeen: a.Role == models.RoleTeen, Action: base, Back: base}
	for _, k := range models.KindsFor(a.Role) {
		p.Kinds = append(p.Kinds, pages.Option{Value: string(k), Label: k.Label()})
	}
	if a.Role == models.RoleTeen {
		p.SubjectField, p.Back = pages.FieldLink, "/teen/help"
		links, err := h.Store.TeenGuardians(ctx(c), a)
		if err != nil {
			return p, err
		}
		for _, l := range links {
			p.Subjects = append(p.Subjects, pages.Option{Value: strconv.FormatInt(l.ID, 10), Label: l.GuardianName + " (" + l.GuardianEmail + ")"})
		}
		return p, nil
	}
	p.SubjectField, p.Back = pages.FieldTeen, "/disputes"
	teens, err := h.Store.GuardianTeens(ctx(c), a)
	if err != nil {
		return p, err
	}
	for _, gt := range teens {
		p.Subjects = append(p.Subjects, pages.Option{Value: strconv.FormatInt(gt.Teen.ID, 10), Label: gt.Teen.DisplayName})
	}
	return p, nil
}

// OpenDispute files the form. A teen or link the filer has nothing to do
// with is 404, as the store decides.
func (h *Handlers) OpenDispute(c echo.Context) error {
	a := actor(c)
	form, _ := c.FormParams()
	in, subject, err := parseNewDispute(form, a.Role)
	if err != nil {
		return err
	}
	d, err := h.Store.OpenDispute(ctx(c), a, in)
	if fe := models.FieldErrors(err); fe != nil {
		props, ferr := h.disputeForm(c)
		if ferr != nil {
			return ferr
		}
		props.Kind, props.Subject, props.Description, props.Errors = string(in.Kind), subject, in.Description, views.FieldErrors(fe)
		return render(c, http.StatusUnprocessableEntity, pages.DisputeNew(props))
	}
	if err != nil {
		return err
	}
	h.Flashes.Add(c, "success", "Sent. Hearth support will reply here, usually within a day.")
	return redirect(c, disputesBase(a.Role)+"/"+strconv.FormatInt(d.ID, 10))
}

// parseNewDispute reads the "Report a problem" form as filed by role: the
// dispute it means and the subject (teen or link ID) as typed, to show
// back. A subject that is not a positive ID is models.ErrNotFound, as a
// teen or link the filer cannot see would be; the store checks the rest.
func parseNewDispute(form url.Values, role models.Role) (store.NewDispute, string, error) {
	in := store.NewDispute{Kind: models.DisputeKind(form.Get(pages.FieldKind)), Description: form.Get(pages.FieldDescription)}
	subjectField := pages.FieldTeen
	if role == models.RoleTeen {
		subjectField = pages.FieldLink
	}
	subject := trimmed(form.Get(subjectField))
	if subject != "" {
		id, err := strconv.ParseInt(subject, 10, 64)
		if err != nil || id <= 0 {
			return store.NewDispute{}, subject, models.ErrNotFound
		}
		if role == models.RoleTeen {
			in.LinkID = id
		} else {
			in.TeenID = id
		}
	}
	return in, subject, nil
}

// DisputeDetail shows one of the filer's own cases.
func (h *Handlers) DisputeDetail(c echo.Context) error {
	return h.renderDispute(c, http.StatusOK, "", nil)
}

func (h *Handlers) renderDispute(c echo.Context, status int, reply string, errs views.FieldErrors) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	th, err := h.Store.FilerDispute(ctx(c), actor(c), id)
	if err != nil {
		return err
	}
	d := th.Dispute
	base := disputesBase(actor(c).Role)
	props := pages.DisputeDetailProps{Page: h.page(c, "Case #"+strconv.FormatInt(d.ID, 10)), ForTeen: actor(c).Role == models.RoleTeen,
		ID: d.ID, Title: d.Kind.Label(), About: disputeAbout(d, actor(c).Role), Description: d.Description, Status: string(d.Status),
		StatusLabel: d.Status.Label(), Outcome: d.Outcome, Closed: d.Status.Closed(), CreatedAt: d.CreatedAt,
		ReplyURL: base + "/" + strconv.FormatInt(d.ID, 10) + "/reply", BackURL: base, Reply: reply, Errors: errs}
	for _, m := range th.Messages {
		it := pages.ThreadItem{FromSupport: m.AuthorRole == models.AuthorStaff, Author: "You", Body: m.Body, At: m.CreatedAt}
		if it.FromSupport {
			// Staff are named by team, not by person, to the public.
			it.Author = "Hearth support"
		}
		props.Thread = append(props.Thread, it)
	}
	return render(c, status, pages.DisputeDetail(props))
}

// DisputeReply adds the filer's reply to their case.
func (h *Handlers) DisputeReply(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	body := c.FormValue(pages.FieldBody)
	err = h.Store.FilerReply(ctx(c), actor(c), id, body)
	if fe := models.FieldErrors(err); fe != nil {
		return h.renderDispute(c, http.StatusUnprocessableEntity, body, views.FieldErrors(fe))
	}
	if errors.Is(err, models.ErrCaseClosed) {
		h.Flashes.Add(c, "error", "This case is closed, so your reply was not sent. If something else comes up, report a new problem.")
		return redirect(c, disputesBase(actor(c).Role)+"/"+strconv.FormatInt(id, 10))
	}
	if err != nil {
		return err
	}
	h.Flashes.Add(c, "success", "Reply sent to Hearth support.")
	return redirect(c, disputesBase(actor(c).Role)+"/"+strconv.FormatInt(id, 10))
}
