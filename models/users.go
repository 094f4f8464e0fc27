package models

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a signed-in person is to Hearth. It decides which pages and
// actions are open to them.
type Role string

// The roles. Staff agents and leads both work disputes; only leads may end
// links or disable accounts.
const (
	RoleGuardian Role = "guardian"
	RoleTeen     Role = "teen"
	RoleStaff    Role = "staff"
	RoleLead     Role = "lead"
)

// ParseRole accepts the role names used on the command line.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case RoleGuardian, RoleTeen, RoleStaff, RoleLead:
		return r, nil
	}
	return "", Invalid("role", "must be one of guardian, teen, staff or lead")
}

// IsStaff reports whether the role works the support queue.
func (r Role) IsStaff() bool { return r == RoleStaff || r == RoleLead }

// Label is the role as people read it.
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

// User is anyone who signs in: guardians and staff with an email and a
// password, teens through sign-in links from their messaging app.
type User struct {
	ID           int64
	Email        string // empty for teens
	Name         string
	Role         Role
	PasswordHash string
	// EmailVerifiedAt is when the guardian proved the address is theirs.
	// Teens see a guardian's email before consenting, so it must be real.
	EmailVerifiedAt *time.Time
	DisabledAt      *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Disabled reports whether the account may no longer sign in.
func (u *User) Disabled() bool { return u.DisabledAt != nil }

// Actor is who is asking, as every store read and write needs to know. The
// zero Actor is anonymous and may see nothing private.
type Actor struct {
	UserID int64
	Role   Role
	// ClientID is set for the messaging service calling the hook API.
	ClientID int64
}

// Anonymous reports whether nobody is signed in.
func (a Actor) Anonymous() bool { return a.UserID == 0 && a.ClientID == 0 }

// Name and email limits. An email address can be at most 254 characters
// (RFC 5321 path limit); names are for display and kept short enough to lay out.
const (
	MaxNameLen  = 100
	MaxEmailLen = 254
)

// NormalizeEmail trims and lowercases an address so one person has one
// account whatever case they type.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateEmail checks an already normalized address.
func ValidateEmail(email string) error {
	switch {
	case email == "":
		return Invalid("email", "Enter your email address.")
	case len(email) > MaxEmailLen:
		return Invalid("email", "That email address is too long (at most 254 characters).")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return Invalid("email", "Enter an email address like name@example.com.")
	}
	return nil
}

// ValidateName checks a display name for a guardian or staff member.
func ValidateName(name string) error {
	n := utf8.RuneCountInString(strings.TrimSpace(name))
	switch {
	case n == 0:
		return Invalid("name", "Enter your name.")
	case n > MaxNameLen:
		return Invalid("name", "Names can be at most 100 characters.")
	case strings.ContainsFunc(name, isControl):
		return Invalid("name", "Names cannot contain control characters.")
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
