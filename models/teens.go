package models

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Supervision is for ages 13 to 17: Hearth refuses younger teens (they should
// not be on the platform's DMs at all) and ends every link at 18.
const (
	MinSupervisedAge = 13
	MaxSupervisedAge = 17
)

// Teen is a young person provisioned by a messaging service. Hearth keeps the
// birth month, never a birth date, because the month is all the age rules need.
type Teen struct {
	ID             int64
	UserID         int64 // the account the teen signs in with
	ClientID       int64 // the messaging service that provisioned the teen
	PlatformUserID string
	DisplayName    string
	BirthMonth     BirthMonth
	TimeZone       string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Age is the teen's age in whole years at t.
func (t *Teen) Age(at time.Time) int { return t.BirthMonth.AgeAt(at) }

// Location returns the teen's time zone. The zone was validated when it was
// stored, so a failure here means the server's tz database lost it; UTC is the
// least surprising fallback.
func (t *Teen) Location() *time.Location {
	loc, err := time.LoadLocation(t.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// BirthMonth is a year and month of birth, written YYYY-MM.
type BirthMonth struct {
	Year  int
	Month time.Month
}

// String writes the month as YYYY-MM.
func (b BirthMonth) String() string { return fmt.Sprintf("%04d-%02d", b.Year, int(b.Month)) }

// AgeAt is the age in whole years at t. With only the month known, the
// birthday counts from the first of that month: a teen born in March 2010
// turns 18 on 1 March 2028. That ends supervision at the earliest moment the
// person could be an adult, which is the side to err on.
func (b BirthMonth) AgeAt(t time.Time) int {
	t = t.UTC()
	months := (t.Year()-b.Year)*12 + int(t.Month()) - int(b.Month)
	if months < 0 {
		return -1
	}
	return months / 12
}

// EighteenAt is the moment the teen turns 18 (see AgeAt).
func (b BirthMonth) EighteenAt() time.Time {
	return time.Date(b.Year+18, b.Month, 1, 0, 0, 0, 0, time.UTC)
}

// ParseBirthMonth reads YYYY-MM and checks the person is 13–17 at now.
func ParseBirthMonth(s string, now time.Time) (BirthMonth, error) {
	t, err := time.Parse("2006-01", strings.TrimSpace(s))
	if err != nil {
		return BirthMonth{}, Invalid("birth_month", "must be a year and month written YYYY-MM, such as 2012-04")
	}
	b := BirthMonth{Year: t.Year(), Month: t.Month()}
	switch age := b.AgeAt(now); {
	case age < 0:
		return BirthMonth{}, Invalid("birth_month", "is in the future")
	case age < MinSupervisedAge:
		return BirthMonth{}, Invalid("birth_month", fmt.Sprintf("makes the teen %d; Hearth supervises ages 13 to 17 only", age))
	case age > MaxSupervisedAge:
		return BirthMonth{}, Invalid("birth_month", fmt.Sprintf("makes the person %d; Hearth supervises ages 13 to 17 only, adults cannot be supervised", age))
	}
	return b, nil
}

// MustBirthMonth parses YYYY-MM without age checks, for values read back from
// the database.
func MustBirthMonth(s string) BirthMonth {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return BirthMonth{}
	}
	return BirthMonth{Year: t.Year(), Month: t.Month()}
}

// MaxPlatformIDLen is the contract's limit on platform user IDs.
const MaxPlatformIDLen = 64

// ValidatePlatformID checks a platform user ID against the contract:
// 1–64 characters of [A-Za-z0-9_.:-].
func ValidatePlatformID(field, id string) error {
	switch {
	case id == "":
		return Invalid(field, "is required")
	case len(id) > MaxPlatformIDLen:
		return Invalid(field, fmt.Sprintf("is %d characters long; IDs are at most 64", len(id)))
	}
	for i := 0; i < len(id); i++ {
		if !platformIDByte(id[i]) {
			return Invalid(field, "may contain only letters A–Z and a–z, digits, and _ . : -")
		}
	}
	return nil
}

// PlatformIDOK is ValidatePlatformID without building an error, for hot paths.
func PlatformIDOK(id string) bool {
	if id == "" || len(id) > MaxPlatformIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !platformIDByte(id[i]) {
			return false
		}
	}
	return true
}

func platformIDByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == ':' || c == '-'
}

// ValidateTimeZone checks an IANA zone name such as Europe/London. Fixed
// offsets and "Local" are refused: quiet hours must follow daylight saving.
func ValidateTimeZone(field, tz string) error {
	if tz == "" {
		return Invalid(field, "is required: an IANA time zone such as Europe/London")
	}
	if tz == "Local" || !strings.Contains(tz, "/") && tz != "UTC" {
		return Invalid(field, "must be an IANA time zone such as Europe/London or America/New_York")
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return Invalid(field, fmt.Sprintf("%q is not a known IANA time zone", tz))
	}
	return nil
}

// MaxDisplayNameLen bounds a teen's display name.
const MaxDisplayNameLen = 64

// ValidateDisplayName checks a teen's display name from the messaging service.
func ValidateDisplayName(field, name string) error {
	n := utf8.RuneCountInString(strings.TrimSpace(name))
	switch {
	case n == 0:
		return Invalid(field, "is required")
	case n > MaxDisplayNameLen:
		return Invalid(field, "is longer than 64 characters")
	case strings.ContainsFunc(name, isControl):
		return Invalid(field, "must not contain control characters")
	}
	return nil
}
