package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/views"
	"github.com/hearth-safety/hearth/views/pages"
	"github.com/hearth-safety/hearth/web/session"
)

// retentionTable is the published retention schedule, built from the
// constants and settings the retention job and the session store use, so
// the page cannot drift from what Hearth does.
func (h *Handlers) retentionTable() []pages.RetentionRow {
	g, st := session.Timeouts[models.RoleGuardian], session.Timeouts[models.RoleStaff]
	return []pages.RetentionRow{
		{What: "Guardian accounts", Holds: "Name, email address, and a password hash (never the password itself).",
			Keep: []string{"Until you delete your account"}},
		{What: "Teen accounts", Holds: "Display name, the messaging app's user ID, birth month and time zone, as the messaging app provides them.",
			Keep: []string{"Until the messaging app removes the account; everything about the teen is then deleted"}},
		{What: "Supervision links", Holds: "Which guardian supervises which teen, since when, and when and why it ended.",
			Keep: []string{"Until the guardian's or the teen's account is deleted"}},
		{What: "DM rules and contacts", Holds: "The teen's message rules, and the approved and blocked accounts by ID with a label.",
			Keep: []string{"Until the teen's account is removed"}},
		{What: "Requests", Holds: "What a teen asked their guardians, their reason, and the answer.",
			Keep: []string{"Until the teen's account is removed"}},
		{What: "Moderation alerts", Holds: "Category, severity, the action taken, the time, and the IDs of the teen and the other account. Guardians' acknowledgements go with them.",
			Keep: []string{durationWords(h.AlertRetention) + " after the latest event, then deleted"}},
		{What: "Alert email choices", Holds: "Which alerts a guardian wants emailed at once, and whether they want the weekly digest.",
			Keep: []string{"Until the guardian deletes their account"}},
		{What: "Received event IDs", Holds: "The ID the messaging app gave each moderation event, and when it arrived: nothing about the teen or the message.",
			Keep: []string{"For good, so an event sent twice never becomes two alerts"}},
		{What: "Rule counts", Holds: "How many DMs each rule acted on per teen per day, as totals only.",
			Keep: []string{strconv.Itoa(models.RuleCountRetentionDays) + " days"}},
		{What: "Audit entries", Holds: "Who changed what for which teen, when, why, and the before and after.",
			Keep: []string{durationWords(models.AuditRetention) + "; deleted with the teen's account. They keep a guardian's name, never their email, after the guardian deletes their account"}},
		{What: "Support cases", Holds: "What the person who reported a problem wrote, support's replies and internal notes, and what support did. Never any message content.",
			Keep: []string{"Until the filer's or the teen's account is deleted"}},
		{What: "Notifications", Holds: "The messages in your notifications menu.",
			Keep: []string{"Until the account they belong to is deleted"}},
		{What: "Teen sign-in links", Holds: "A single-use link the messaging app opens to sign a teen in.",
			Keep: []string{durationWords(store.SigninLinkTTL) + ", then deleted"}},
		{What: "Invitations", Holds: "Which guardian invited a teen, the guardian's note of whom for, and the answer. The code is stored only as a hash.",
			Keep: []string{"Can be accepted for " + durationWords(models.InvitationTTL), "Deleted " + durationWords(store.InvitationRetention) + " after they expire"}},
		{What: "Email links", Holds: "Single-use links to confirm an address or choose a new password.",
			Keep: []string{"Confirming: " + durationWords(store.VerifyEmailTTL), "Password reset: " + durationWords(store.PasswordResetTTL)}},
		{What: "Sessions", Holds: "Which account is signed in on which browser.",
			Keep: []string{"Guardians and teens: " + durationWords(g.Idle) + " idle, " + durationWords(g.Absolute) + " at most",
				"Support staff: " + durationWords(st.Idle) + " idle, " + durationWords(st.Absolute) + " at most"}},
		{What: "Webhook deliveries", Holds: "Notices to the messaging app that a teen's rules or supervision changed: the teen's app user ID and rule version only.",
			Keep: []string{durationWords(store.WebhookRetention)}},
		{What: "Erasure records", Holds: "The app user ID of a teen whose account was removed, so every Hearth server forgets their rules.",
			Keep: []string{durationWords(store.PolicyTombstoneRetention)}},
	}
}

// durationWords says a retention period the way people do: "10 minutes",
// "48 hours", "90 days".
func durationWords(d time.Duration) string {
	unit := func(n int64, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.FormatInt(n, 10) + " " + many
	}
	const day, year = 24 * time.Hour, 365 * 24 * time.Hour
	switch {
	case d >= year && d%year == 0:
		return unit(int64(d/year), "year", "years")
	case d > 48*time.Hour && d%day == 0:
		return unit(int64(d/day), "day", "days")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour", "hours")
	case d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute", "minutes")
	}
	return d.String()
}

// Privacy is the public "Your data" page: what Hearth keeps and how long.
func (h *Handlers) Privacy(c echo.Context) error {
	return render(c, http.StatusOK, pages.Privacy(pages.PrivacyProps{Page: h.page(c, "Your data"), Retention: h.retentionTable()}))
}

// Account is the guardian's account page: who they are, and the way to
// their data, their alert emails and deleting the account.
func (h *Handlers) Account(c echo.Context) error {
	u := currentUser(c)
	return render(c, http.StatusOK, pages.Account(pages.AccountProps{Page: h.page(c, "Your account"), Name: u.Name, Email: u.Email,
		Since: u.CreatedAt}))
}

// exportFilename names a download after its kind and the day.
func (h *Handlers) exportFilename(kind string) string {
	return fmt.Sprintf("hearth-%s-%s.json", kind, h.Store.Now().Format("2006-01-02"))
}

// sendExport answers with v as a pretty JSON attachment that no cache keeps.
func sendExport(c echo.Context, filename string, v any) error {
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSONPretty(http.StatusOK, v, "  ")
}

// GuardianExportJSON downloads everything Hearth keeps about the guardian.
func (h *Handlers) GuardianExportJSON(c echo.Context) error {
	x, err := h.Store.GuardianExport(ctx(c), actor(c))
	if err != nil {
		return err
	}
	return sendExport(c, h.exportFilename("account"), x)
}

// TeenExportJSON downloads everything Hearth keeps about the teen.
func (h *Handlers) TeenExportJSON(c echo.Context) error {
	x, err := h.Store.TeenExport(ctx(c), actor(c))
	if err != nil {
		return err
	}
	return sendExport(c, h.exportFilename("data"), x)
}

// deleteConfirmWord is what a guardian types to confirm deleting their
// account: a deliberate act, not a stray click.
const deleteConfirmWord = "DELETE"

// DeleteAccountPage explains what deleting the account does and asks for
// the password and the typed confirmation.
func (h *Handlers) DeleteAccountPage(c echo.Context) error {
	return h.renderDeleteAccount(c, http.StatusOK, nil)
}

func (h *Handlers) renderDeleteAccount(c echo.Context, status int, errs views.FieldErrors) error {
	names := []string{}
	if teens, err := h.Store.GuardianTeens(ctx(c), actor(c)); err == nil {
		for _, gt := range teens {
			if gt.Link.Live() {
				names = append(names, gt.Teen.DisplayName)
			}
		}
	} else {
		return err
	}
	return render(c, status, pages.DeleteAccount(pages.DeleteAccountProps{Page: h.page(c, "Delete your account"),
		Teens: names, ConfirmWord: deleteConfirmWord, Errors: errs}))
}

// DeleteAccount erases the guardian's account once they typed their
// password and the confirmation, then signs them out and shows that it is
// done.
func (h *Handlers) DeleteAccount(c echo.Context) error {
	u := currentUser(c)
	errs := views.FieldErrors{}
	if !strings.EqualFold(trimmed(c.FormValue("confirm")), deleteConfirmWord) {
		errs["confirm"] = "Type " + deleteConfirmWord + " to confirm."
	}
	password := c.FormValue("password")
	if password == "" {
		errs["password"] = "Enter your password."
	}
	if len(errs) > 0 {
		return h.renderDeleteAccount(c, http.StatusUnprocessableEntity, errs)
	}
	if ok, _ := h.Throttle.Allow("delete:" + strconv.FormatInt(u.ID, 10)); !ok {
		return h.renderDeleteAccount(c, http.StatusTooManyRequests,
			views.FieldErrors{"password": "Too many tries. Wait a minute, then try again."})
	}
	err := h.Store.DeleteGuardianAccount(ctx(c), actor(c), password)
	if fe := models.FieldErrors(err); fe != nil {
		return h.renderDeleteAccount(c, http.StatusUnprocessableEntity, views.FieldErrors(fe))
	} else if err != nil {
		return err
	}
	// The sessions went with the account; this clears the cookie.
	if err := h.Sessions.SignOut(c.Response(), c.Request()); err != nil && !errors.Is(err, models.ErrNotFound) {
		h.Logger.WarnContext(ctx(c), "sign out after account deletion", "err", err)
	}
	return redirect(c, "/account/deleted")
}

// AccountDeleted confirms that an account was deleted. It shows the same
// to anyone, and says nothing about any account.
func (h *Handlers) AccountDeleted(c echo.Context) error {
	return render(c, http.StatusOK, pages.AccountDeleted(pages.AccountDeletedProps{Page: h.page(c, "Account deleted")}))
}

// DeleteTeen erases the teen the messaging service deprovisions: 204 once
// everything about them is gone and every node has forgotten their rules,
// 404 for a teen it does not know (including one already erased).
func (h *Handlers) DeleteTeen(c echo.Context) error {
	id := c.Param("id")
	if err := models.ValidatePlatformID("platform_user_id", id); err != nil {
		return err
	}
	if err := h.Store.EraseTeen(ctx(c), clientID(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
