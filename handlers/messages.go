package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/policy"
	"github.com/hearth-safety/hearth/views"
	"github.com/hearth-safety/hearth/views/pages"
)

// rulesForm turns stored rules into the form's fields.
func rulesForm(p models.DMPolicy) pages.RulesForm {
	f := pages.RulesForm{
		Audience: p.Audience.String(), QuietEnabled: p.QuietEnabled, QuietStart: HHMM(p.QuietStart), QuietEnd: HHMM(p.QuietEnd),
		QuietApprovedExempt: p.QuietApprovedExempt, BlockAdultStrangers: p.BlockAdultStrangers, MediaFriendsOnly: p.MediaFriendsOnly,
		MinSenderAccountAgeDays: strconv.Itoa(p.MinSenderAccountAgeDays),
	}
	for _, c := range p.Approved {
		f.Approved = append(f.Approved, pages.ContactRow{ID: c.PlatformUserID, Label: c.Label})
	}
	for _, c := range p.Blocked {
		f.Blocked = append(f.Blocked, pages.ContactRow{ID: c.PlatformUserID, Label: c.Label})
	}
	return f
}

// parseRules reads the Messages form. It returns the form as typed (to
// show back), the rules it means, and field errors for what it could not
// read; the store validates the rest.
func parseRules(c echo.Context) (pages.RulesForm, models.DMPolicy, views.FieldErrors) {
	form, _ := c.FormParams()
	return parseRulesForm(form)
}

// parseRulesForm is parseRules on the posted values.
func parseRulesForm(form url.Values) (pages.RulesForm, models.DMPolicy, views.FieldErrors) {
	f := pages.RulesForm{
		Audience: form.Get("audience"), QuietEnabled: form.Get("quiet_enabled") != "", QuietStart: trimmed(form.Get("quiet_start")),
		QuietEnd: trimmed(form.Get("quiet_end")), QuietApprovedExempt: form.Get("quiet_approved_exempt") != "",
		BlockAdultStrangers: form.Get("block_adult_strangers") != "", MediaFriendsOnly: form.Get("media_friends_only") != "",
		MinSenderAccountAgeDays: trimmed(form.Get("min_sender_account_age_days")),
	}
	errs := views.FieldErrors{}
	var p models.DMPolicy
	a, err := policy.ParseAudience(f.Audience)
	if err != nil {
		errs["audience"] = "Choose who can send messages."
	}
	p.Audience = a
	p.QuietEnabled, p.QuietApprovedExempt = f.QuietEnabled, f.QuietApprovedExempt
	p.BlockAdultStrangers, p.MediaFriendsOnly = f.BlockAdultStrangers, f.MediaFriendsOnly
	for _, t := range []struct {
		field, v string
		dst      *uint16
	}{{"quiet_start", f.QuietStart, &p.QuietStart}, {"quiet_end", f.QuietEnd, &p.QuietEnd}} {
		if t.v == "" && !f.QuietEnabled {
			continue
		}
		m, ok := parseHHMM(t.v)
		if !ok {
			errs[t.field] = "Enter a time such as 22:00."
		}
		*t.dst = m
	}
	if f.MinSenderAccountAgeDays == "" {
		f.MinSenderAccountAgeDays = "0"
	}
	n, err := strconv.Atoi(f.MinSenderAccountAgeDays)
	if err != nil || n < 0 || n > policy.MaxMinSenderAccountAgeDays {
		errs["min_sender_account_age_days"] = fmt.Sprintf("Enter a whole number of days from 0 to %d.", policy.MaxMinSenderAccountAgeDays)
	}
	p.MinSenderAccountAgeDays = n
	contacts := func(kind string) ([]pages.ContactRow, []models.Contact) {
		ids, labels := form[kind+"_id"], form[kind+"_label"]
		var rows []pages.ContactRow
		var cs []models.Contact
		for i, id := range ids {
			id = strings.TrimSpace(id)
			label := ""
			if i < len(labels) {
				label = strings.TrimSpace(labels[i])
			}
			if id == "" {
				continue // a cleared ID removes the row
			}
			rows = append(rows, pages.ContactRow{ID: id, Label: label})
			cs = append(cs, models.Contact{PlatformUserID: id, Label: label})
		}
		return rows, cs
	}
	f.Approved, p.Approved = contacts("approved")
	f.Blocked, p.Blocked = contacts("blocked")
	return f, p, errs
}

// parseHHMM reads "HH:MM" as minutes after midnight.
func parseHHMM(s string) (uint16, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, false
	}
	return uint16(t.Hour()*60 + t.Minute()), true
}

// messagesPage gathers what the Messages page shows for teenID.
func (h *Handlers) messagesProps(c echo.Context, t models.Teen, p models.DMPolicy, viewer string) pages.MessagesProps {
	age := t.Age(h.Store.Now())
	props := pages.MessagesProps{
		Page: h.page(c, "Messages"), TeenID: t.ID, DisplayName: t.DisplayName, Age: age, Viewer: viewer, Mode: "edit",
		Version: p.Version, Rules: rulesForm(p), RevertAt: p.RevertAt, UpdatedAt: p.UpdatedAt, UpdatedByName: p.UpdatedByName,
		Action: fmt.Sprintf("/teens/%d/messages", t.ID),
	}
	name := t.DisplayName
	if viewer == "teen" {
		name = "you"
	}
	props.RuleCounts = h.ruleCounts(c, t.ID, name)
	if viewer == "teen" {
		props.Action = "/teen/messages"
		if age < 16 {
			props.Mode = "tighten"
		}
		if reqs, err := h.Store.TeenRequests(ctx(c), actor(c)); err == nil {
			for _, rv := range requestViews(reqs) {
				if rv.Kind == string(models.RequestLoosenPolicy) && rv.State == string(models.RequestPending) {
					rv := rv
					props.Pending = &rv
					break
				}
			}
		}
	}
	return props
}

// GuardianMessages shows a teen's DM rules to their guardian, editable.
func (h *Handlers) GuardianMessages(c echo.Context) error {
	gt, err := h.guardianTeen(c)
	if err != nil {
		return err
	}
	id := gt.Teen.ID
	p, err := h.Store.TeenPolicy(ctx(c), actor(c), id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.Messages(h.messagesProps(c, gt.Teen, p, "guardian")))
}

// SaveGuardianMessages saves a guardian's change to the rules. It takes
// effect on every node before this answer is sent.
func (h *Handlers) SaveGuardianMessages(c echo.Context) error {
	gt, err := h.guardianTeen(c)
	if err != nil {
		return err
	}
	id := gt.Teen.ID
	return h.saveRules(c, gt.Teen, "guardian", fmt.Sprintf("/teens/%d/messages", id))
}

// TeenMessages shows the teen their own rules, with what their age lets
// them change.
func (h *Handlers) TeenMessages(c echo.Context) error {
	t, err := h.Store.TeenForUser(ctx(c), actor(c))
	if err != nil {
		return err
	}
	p, err := h.Store.TeenPolicy(ctx(c), actor(c), t.ID)
	if errors.Is(err, models.ErrNotFound) {
		h.Flashes.Add(c, "info", "Nobody supervises you, so Hearth sets no rules on your messages.")
		return redirect(c, "/teen")
	} else if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.Messages(h.messagesProps(c, t, p, "teen")))
}

// SaveTeenMessages saves a teen's change (16–17: anything; 13–15: only
// stricter), or sends a 13–15-year-old's request for looser rules.
func (h *Handlers) SaveTeenMessages(c echo.Context) error {
	t, err := h.Store.TeenForUser(ctx(c), actor(c))
	if err != nil {
		return err
	}
	return h.saveRules(c, t, "teen", "/teen/messages")
}

func (h *Handlers) saveRules(c echo.Context, t models.Teen, viewer, back string) error {
	current, err := h.Store.TeenPolicy(ctx(c), actor(c), t.ID)
	if err != nil {
		return err
	}
	form, rules, errs := parseRules(c)
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	reason := trimmed(c.FormValue("reason"))
	show := func(status int, errs views.FieldErrors, loosenings []string) error {
		props := h.messagesProps(c, t, current, viewer)
		props.Rules, props.Errors, props.Loosenings, props.Reason, props.Version = form, errs, loosenings, reason, version
		return render(c, status, pages.Messages(props))
	}
	if len(errs) > 0 {
		return show(http.StatusUnprocessableEntity, errs, nil)
	}
	change := store.PolicyChange{Rules: rules, ExpectVersion: version, Reason: reason}
	if c.FormValue("action") == "request" {
		_, err := h.Store.RequestLoosening(ctx(c), actor(c), change)
		switch {
		case err == nil:
			h.Flashes.Add(c, "success", "Request sent to your guardians. We'll tell you when they answer.")
			return redirect(c, back)
		case errors.Is(err, models.ErrConflict):
			return show(http.StatusConflict, views.FieldErrors{"form": "You already have a request waiting. Cancel it first to ask for something else."}, nil)
		case models.FieldErrors(err) != nil:
			return show(http.StatusUnprocessableEntity, views.FieldErrors(models.FieldErrors(err)), nil)
		}
		return err
	}
	_, err = h.Store.UpdatePolicy(ctx(c), actor(c), t.ID, change)
	switch {
	case err == nil:
		msg := "Rules saved. They apply to the next message " + t.DisplayName + " gets."
		if viewer == "teen" {
			msg = "Rules saved. Your guardians have been told."
		}
		h.Flashes.Add(c, "success", msg)
		return redirect(c, back)
	case errors.Is(err, models.ErrNeedsApproval):
		old, neu := current.Engine(time.UTC), rules.Engine(time.UTC)
		return show(http.StatusUnprocessableEntity, views.FieldErrors{"form": "Some of these changes loosen your rules, so a guardian needs to agree. Ask them below, or save only stricter changes."},
			policy.Loosenings(&old, &neu))
	case errors.Is(err, models.ErrStale):
		fresh, ferr := h.Store.TeenPolicy(ctx(c), actor(c), t.ID)
		if ferr != nil {
			return ferr
		}
		props := h.messagesProps(c, t, fresh, viewer)
		props.Errors = views.FieldErrors{"form": "Someone changed these rules while you were editing. Here are the rules as they are now; make your change again."}
		return render(c, http.StatusConflict, pages.Messages(props))
	case models.FieldErrors(err) != nil:
		return show(http.StatusUnprocessableEntity, views.FieldErrors(models.FieldErrors(err)), nil)
	}
	return err
}

// parseGrant reads how long an approved loosening lasts: "1h", "24h" or
// "" (until someone changes the rules).
func parseGrant(s string) (time.Duration, error) {
	switch s {
	case "":
		return 0, nil
	case "1h":
		return time.Hour, nil
	case "24h":
		return 24 * time.Hour, nil
	}
	return 0, models.Invalid("duration", "must be 1 hour, 1 day, or until changed")
}
