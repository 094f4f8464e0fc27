package handlers

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/views"
	"github.com/hearth-safety/hearth/views/pages"
)

// alertPrefsProps fills the preferences page: choices holds each
// category's choice as stored, or as posted when the form is shown back
// with errors.
func (h *Handlers) alertPrefsProps(c echo.Context, choices map[models.Category]string, weekly bool, errs views.FieldErrors) pages.AlertPrefsProps {
	props := pages.AlertPrefsProps{Page: h.page(c, "Alert emails"), Weekly: weekly, Errors: errs}
	for _, f := range models.ImmediateChoices {
		props.Options = append(props.Options, pages.AlertPrefOption{Value: string(f), Label: f.Label()})
	}
	for _, cat := range models.Categories {
		props.Rows = append(props.Rows, pages.AlertPrefRow{Field: pages.FieldImmediatePrefix + string(cat), Label: cat.Label(), Choice: choices[cat]})
	}
	return props
}

// AlertPrefsPage shows the guardian's alert email preferences.
func (h *Handlers) AlertPrefsPage(c echo.Context) error {
	p, err := h.Store.AlertPreferences(ctx(c), actor(c))
	if err != nil {
		return err
	}
	choices := make(map[models.Category]string, len(models.Categories))
	for _, cat := range models.Categories {
		choices[cat] = string(p.For(cat))
	}
	return render(c, http.StatusOK, pages.AlertPrefs(h.alertPrefsProps(c, choices, p.Weekly, nil)))
}

// parseAlertPrefs reads the preferences form: the preferences it means,
// each category's choice as posted (to show back), and a problem per
// category whose choice is missing or not one offered.
func parseAlertPrefs(form url.Values) (models.AlertPreferences, map[models.Category]string, views.FieldErrors) {
	p := models.AlertPreferences{Immediate: make(map[models.Category]models.ImmediateFrom, len(models.Categories)),
		Weekly: form.Get(pages.FieldWeekly) == pages.CheckedValue}
	choices := make(map[models.Category]string, len(models.Categories))
	errs := views.FieldErrors{}
	for _, cat := range models.Categories {
		field := pages.FieldImmediatePrefix + string(cat)
		v := models.ImmediateFrom(form.Get(field))
		choices[cat] = string(v)
		if !v.Valid() {
			errs[field] = "Choose when " + cat.Label() + " alerts email you."
			continue
		}
		p.Immediate[cat] = v
	}
	return p, choices, errs
}

// SaveAlertPrefs saves the form: every category needs one of the choices.
// A bad or missing one shows the form again, as posted (a bad select
// showing the saved choice), with the problem beside it.
func (h *Handlers) SaveAlertPrefs(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	p, choices, errs := parseAlertPrefs(form)
	if len(errs) > 0 {
		// A select cannot show a value it does not offer (the browser would
		// show, and resubmit, its first option): show the saved choice.
		saved, err := h.Store.AlertPreferences(ctx(c), actor(c))
		if err != nil {
			return err
		}
		for _, cat := range models.Categories {
			if !models.ImmediateFrom(choices[cat]).Valid() {
				choices[cat] = string(saved.For(cat))
			}
		}
		return render(c, http.StatusUnprocessableEntity, pages.AlertPrefs(h.alertPrefsProps(c, choices, p.Weekly, errs)))
	}
	if err := h.Store.SaveAlertPreferences(ctx(c), actor(c), p); err != nil {
		return err
	}
	h.Flashes.Add(c, views.FlashSuccess, "Saved")
	return redirect(c, "/account/alerts")
}
