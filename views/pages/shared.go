package pages

import (
	"context"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/hearth-safety/hearth/views"
)

// Form field names of the invitation, supervision and request forms.
// Handlers read the posted values and key FieldErrors by these names.
const (
	FieldLabel   = "label"   // InviteNew: who the invitation is for
	FieldCode    = "code"    // TeenInviteCode: the typed invitation code
	FieldConfirm = "confirm" // review and end forms: a checkbox posting ConfirmValue
	FieldReason  = "reason"  // EndLinkConfirm, TeenSupervision: optional reason
	FieldNote    = "note"    // GuardianTeen: optional note with a decision
	FieldNext    = "next"    // GuardianTeen decisions: where to return afterwards
)

// ConfirmValue is what a ticked FieldConfirm checkbox posts.
const ConfirmValue = "yes"

// Length limits shown to the browser; the server checks them again.
const (
	// InviteLabelMaxLength bounds InviteNew's "Who is this for?".
	InviteLabelMaxLength = 64
	// TextMaxLength bounds reasons and notes (models.MaxReasonLen).
	TextMaxLength = 500
	// InviteCodeMaxLength leaves room for spaces and dashes around the 12
	// characters of a code.
	InviteCodeMaxLength = 32
)

// Pagination describes one page of a newest-first list. When Pages > 1 it
// renders "Page 2 of 5" with previous and next links to BaseURL plus
// "?page=N" (or "&page=N" when BaseURL already has a query).
type Pagination struct {
	Page, Pages int
	BaseURL     string
}

// URL returns the address of page n.
func (p Pagination) URL(n int) string {
	sep := "?"
	if strings.Contains(p.BaseURL, "?") {
		sep = "&"
	}
	return p.BaseURL + sep + "page=" + strconv.Itoa(n)
}

// GuardianRef is a guardian as others see them: name, email and since when
// they have supervised the teen.
type GuardianRef struct {
	Name, Email string
	Since       time.Time
}

// ActivityItem is one entry of a teen's activity log. Summary is a whole
// sentence prepared by the handler ("Priya changed quiet hours to 21:30–07:00.");
// Reason is what the actor wrote, if anything.
type ActivityItem struct {
	At      time.Time
	Actor   string
	Summary string
	Reason  string
}

// Request kinds and states as RequestView carries them.
const (
	RequestEndSupervision = "end_supervision"
	RequestLoosenPolicy   = "loosen_policy"

	RequestPending   = "pending"
	RequestApproved  = "approved"
	RequestDeclined  = "declined"
	RequestCancelled = "cancelled"
)

// RequestView is a teen's request to a guardian, for both sides. Title is
// the request in a few words ("End Pat's supervision"). LinkID, when set,
// is the link an end_supervision request is about: TeenSupervision uses it
// to show a guardian's pending request on their card (it falls back to
// matching GuardianName).
type RequestView struct {
	ID                             int64
	Kind                           string // RequestEndSupervision or RequestLoosenPolicy
	Title                          string
	TeenName, GuardianName, Reason string
	CreatedAt                      time.Time
	State                          string // RequestPending, RequestApproved, …
	LinkID                         int64
	// Changes says in words what a loosen_policy request would change
	// ("Who can message Maya: friends → everyone"); GuardianTeen lists them.
	Changes []string
}

// FieldDuration is the select on the approve form of a loosen_policy
// request: how long the looser rules last. Its values are Duration1Hour,
// Duration1Day and DurationUntilChanged (the default).
const (
	FieldDuration        = "duration"
	Duration1Hour        = "1h"
	Duration1Day         = "24h"
	DurationUntilChanged = ""
)

// idURL joins path segments with each id or code path-escaped:
// idURL("/requests/", id, "/approve").
func idURL(parts ...any) templ.SafeURL {
	var b strings.Builder
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			b.WriteString(v)
		case int64:
			b.WriteString(url.PathEscape(strconv.FormatInt(v, 10)))
		case escaped:
			b.WriteString(url.PathEscape(string(v)))
		}
	}
	return templ.SafeURL(b.String())
}

// escaped marks a string path segment for idURL to escape (a code).
type escaped string

// localURL returns u when it is a path on this site ("/teens/5"), and false
// for anything else, so a stored URL can never link away or run script.
func localURL(u string) (templ.SafeURL, bool) {
	if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") || strings.HasPrefix(u, "/\\") {
		return "", false
	}
	return templ.SafeURL(u), true
}

// Dates and times read the same everywhere: "3 Nov 2026" and
// "3 Nov 2026, 21:30", in the location the handler gave the time.
func day(t time.Time) string     { return t.Format("2 Jan 2006") }
func dayTime(t time.Time) string { return t.Format("2 Jan 2006, 15:04") }

// dayTimeZone adds the zone to dayTime, for deadlines read on their own.
func dayTimeZone(t time.Time) string { return t.Format("2 Jan 2006, 15:04 MST") }

// machineTime is the datetime attribute of a <time>.
func machineTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// plural returns "1 request" or "3 requests".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// expiresIn words the time left before at: "expires in 41 hours",
// "expires in 25 minutes", or "expired".
func expiresIn(now, at time.Time) string {
	d := at.Sub(now)
	switch {
	case d <= 0:
		return "expired"
	case d >= time.Hour:
		return "expires in " + plural(int(d/time.Hour), "hour", "hours")
	case d >= time.Minute:
		return "expires in " + plural(int(d/time.Minute), "minute", "minutes")
	}
	return "expires in under a minute"
}

// spellCode reads a code out character by character for screen readers:
// "ABCD-EFGH" becomes "A B C D, E F G H".
func spellCode(code string) string {
	groups := strings.FieldsFunc(code, func(r rune) bool { return r == '-' || r == ' ' })
	for i, g := range groups {
		groups[i] = strings.Join(strings.Split(g, ""), " ")
	}
	return strings.Join(groups, ", ")
}

// possessive returns "Maya's", or "James'" for a name ending in s.
func possessive(name string) string {
	if strings.HasSuffix(name, "s") || strings.HasSuffix(name, "S") {
		return name + "'"
	}
	return name + "'s"
}

// orDefault returns s, or def when s is blank.
func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// requestBadge returns the badge kind and words for a request state.
func requestBadge(state string) (string, string) {
	switch state {
	case RequestPending, "":
		return "warning", "Waiting for an answer"
	case RequestApproved:
		return "success", "Approved"
	case RequestDeclined:
		return "danger", "Declined"
	case RequestCancelled:
		return "", "Cancelled"
	case "expired":
		return "", "Expired"
	}
	return linkStateBadge(state)
}

// fragmentKey marks that a NotificationItem is rendered inside a list or
// page rather than on its own as an htmx answer.
type fragmentKey struct{}

// inList renders c with ctx marked as inside a list (and, when token is not
// empty, carrying the CSRF token for its forms).
func inList(token string, c templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		ctx = context.WithValue(ctx, fragmentKey{}, true)
		if token != "" {
			ctx = views.WithCSRFToken(ctx, token)
		}
		return c.Render(ctx, w)
	})
}

// standalone reports whether a component renders on its own (an htmx
// answer) rather than inside a list or page.
func standalone(ctx context.Context) bool {
	return ctx.Value(fragmentKey{}) == nil
}
