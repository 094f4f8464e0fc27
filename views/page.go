// Package views holds Hearth's server-rendered look: the one layout, the
// shared components and the types every page takes. Pages live in
// views/pages. Templates only format what handlers give them; they never
// query anything and never see message content, because there is none.
package views

import (
	"context"
	"strconv"
	"strings"
)

// Role is who the signed-in viewer is. The zero value is a signed-out visitor.
type Role string

// The roles the layout knows. They decide the navigation, the role badge and
// where "Sign out" posts to.
const (
	RoleAnonymous Role = ""
	RoleGuardian  Role = "guardian"
	RoleTeen      Role = "teen"
	RoleStaff     Role = "staff"
	RoleLead      Role = "lead"
)

// IsStaff reports whether r is a support role (agent or lead).
func (r Role) IsStaff() bool { return r == RoleStaff || r == RoleLead }

// Label returns the human name of r as the role badge shows it, or "" for a
// signed-out visitor.
func (r Role) Label() string {
	switch r {
	case RoleGuardian:
		return "Guardian"
	case RoleTeen:
		return "Teen"
	case RoleStaff:
		return "Support agent"
	case RoleLead:
		return "Support lead"
	}
	return ""
}

// HomePath returns where r's home page is: "/" for guardians and visitors,
// "/teen" for teens and "/staff" for support.
func (r Role) HomePath() string {
	switch {
	case r == RoleTeen:
		return "/teen"
	case r.IsStaff():
		return "/staff"
	}
	return "/"
}

// LogoutPath returns the URL that r's "Sign out" form posts to.
func (r Role) LogoutPath() string {
	if r.IsStaff() {
		return "/staff/logout"
	}
	return "/logout"
}

// Viewer is the signed-in person a page is rendered for. A nil *Viewer means
// the visitor is signed out.
type Viewer struct {
	Name  string
	Email string
	Role  Role
}

// Flash kinds understood by the layout. Any other kind renders as info.
const (
	FlashSuccess = "success"
	FlashError   = "error"
	FlashInfo    = "info"
)

// Flash is a one-time message shown at the top of the next page, in a polite
// live region.
type Flash struct {
	Kind    string // FlashSuccess, FlashError or FlashInfo
	Message string
}

// Page is what the layout needs from every handler. Each page's props embed
// it.
type Page struct {
	// Title is the page's own title; the layout appends " · Hearth".
	Title string
	// Viewer is the signed-in person, nil when signed out.
	Viewer *Viewer
	// Flashes are shown once, in order, above the page content.
	Flashes []Flash
	// CSRFToken goes into <meta name="csrf-token">, the htmx request header
	// and the hidden _csrf input of every form.
	CSRFToken string
	// DevMode adds a "Dev mailbox" link to the footer.
	DevMode bool
	// Path is the current request path; the matching nav item gets
	// aria-current="page".
	Path string
	// SupervisedBy names a teen's active guardians. When it is not empty the
	// layout shows the "Supervised by …" banner on every page (AADC: an
	// obvious sign that supervision is on). Handlers must fill it on every
	// page a supervised teen sees.
	SupervisedBy []string
	// Unread is how many of the viewer's notifications are unread. When a
	// viewer is signed in the header shows it on the bell linking to
	// /notifications; 0 shows the bell without a count.
	Unread int
	// UnreadAlerts is how many alerts about a guardian's teens the guardian
	// has not acknowledged; the "Alerts" nav item shows it when above 0.
	UnreadAlerts int
}

// WithDefaultTitle returns a copy of p whose Title is title when p has none,
// so every page has a meaningful <title> even if its handler set none.
func (p Page) WithDefaultTitle(title string) Page {
	if p.Title == "" {
		p.Title = title
	}
	return p
}

// Role returns the viewer's role, or RoleAnonymous when signed out.
func (p Page) Role() Role {
	if p.Viewer == nil {
		return RoleAnonymous
	}
	return p.Viewer.Role
}

// FieldErrors maps a form field's name to the message shown beside it. A
// message under a name that is not a field of the form (such as "form") is
// shown only in the error summary at the top of the form.
type FieldErrors map[string]string

// JoinNames lists names the way a sentence does: "A", "A and B",
// "A, B and C". Empty names are skipped.
func JoinNames(names []string) string {
	kept := make([]string, 0, len(names))
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			kept = append(kept, n)
		}
	}
	switch len(kept) {
	case 0:
		return ""
	case 1:
		return kept[0]
	}
	return strings.Join(kept[:len(kept)-1], ", ") + " and " + kept[len(kept)-1]
}

// UnreadLabel words an unread count the way the bell reads it out:
// "1 unread notification", "3 unread notifications", or "Notifications"
// when there are none.
func UnreadLabel(n int) string {
	switch {
	case n <= 0:
		return "Notifications"
	case n == 1:
		return "1 unread notification"
	}
	return strconv.Itoa(n) + " unread notifications"
}

// UnreadAlertsLabel words an unread alert count: "1 unread", "3 unread",
// "more than 99 unread".
func UnreadAlertsLabel(n int) string {
	if n > 99 {
		return "more than 99 unread"
	}
	return strconv.Itoa(n) + " unread"
}

// CountBadge is a count as a badge shows it: "1"–"99", then "99+".
func CountBadge(n int) string { return bellCount(n) }

// bellCount is the number printed on the bell: "1"–"99", then "99+".
func bellCount(n int) string {
	if n > 99 {
		return "99+"
	}
	return strconv.Itoa(n)
}

type csrfKey struct{}

// WithCSRFToken returns a copy of ctx carrying the request's CSRF token, for
// components rendered without a Page (such as an htmx fragment) whose forms
// still need the hidden _csrf input for the no-JavaScript path.
func WithCSRFToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, csrfKey{}, token)
}

// CSRFTokenFrom returns the token stored by WithCSRFToken, or "".
func CSRFTokenFrom(ctx context.Context) string {
	t, _ := ctx.Value(csrfKey{}).(string)
	return t
}
