package models

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Support staff sign in with a password and a second factor: a TOTP code
// from an authenticator app (RFC 6238) or one of their recovery codes.
const (
	// TOTPPeriod is the length of one time step; codes change this often.
	TOTPPeriod = 30 * time.Second
	// TOTPSkew is how many steps either side of now a code may be from,
	// for phones whose clocks drift a little.
	TOTPSkew = 1
	// TOTPIssuer names Hearth in authenticator apps.
	TOTPIssuer = "Hearth"
	// MaxCodeAttempts wrong codes in a row lock the second factor for
	// CodeLockout, whatever node or browser they came from.
	MaxCodeAttempts = 5
	// CodeLockout is how long a second factor stays locked.
	CodeLockout = 15 * time.Minute
	// RecoveryCodeCount is how many single-use recovery codes enrolment makes.
	RecoveryCodeCount = 10
)

var (
	// ErrInvalidCode means a second-factor code was wrong (or the time
	// was too far off for it).
	ErrInvalidCode = errors.New("the code is not right")
)

// LockedError means too many wrong codes were tried: no code is checked
// until Until. It matches ErrForbidden with errors.Is.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "second factor locked until " + e.Until.UTC().Format(time.RFC3339)
}

// Is makes a lockout an ErrForbidden for callers that only tell kinds apart.
func (e *LockedError) Is(target error) bool { return target == ErrForbidden }

// TOTPEnrolment is what a staff member needs to add Hearth to their
// authenticator app: the otpauth:// URL the QR code carries and the same
// secret in base32 for typing in by hand.
type TOTPEnrolment struct {
	Secret string
	URL    string
}

// SecondFactor is the state of a staff member's second factor.
type SecondFactor struct {
	// EnrolledAt is when they confirmed their authenticator app; nil until
	// they do (they enrol at their next sign-in).
	EnrolledAt *time.Time
	// RecoveryLeft is how many unused recovery codes they have.
	RecoveryLeft int
	// LockedUntil is set while too many wrong codes keep it locked.
	LockedUntil *time.Time
}

// Enrolled reports whether sign-in asks for a code rather than enrolment.
func (f SecondFactor) Enrolled() bool { return f.EnrolledAt != nil }

// SecondFactorCheck is the outcome of a correct code at sign-in.
type SecondFactorCheck struct {
	// UsedRecoveryCode is true when a recovery code (now spent) was given.
	UsedRecoveryCode bool
	// RecoveryLeft is how many unused recovery codes remain.
	RecoveryLeft int
}

// TOTPStep returns the RFC 6238 time step t falls in.
func TOTPStep(t time.Time) int64 { return t.Unix() / int64(TOTPPeriod/time.Second) }

// TOTPCode returns the six-digit code for secret (base32) at t, as an
// authenticator app would show it then.
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{
		Period: uint(TOTPPeriod / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
}

// NormalizeCode strips the spaces and dashes people type or paste inside
// codes and lowercases recovery codes.
func NormalizeCode(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '\t', '\u00a0':
			return -1
		}
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// IsTOTPCode reports whether a normalized code has the shape of a TOTP code
// (six digits) rather than a recovery code.
func IsTOTPCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// StaffAction is something a lead (or the operator) did to a staff account.
type StaffAction string

// The staff actions kept in the staff audit trail.
const (
	StaffDisabled          StaffAction = "disable"
	StaffEnabled           StaffAction = "enable"
	StaffSecondFactorReset StaffAction = "reset_second_factor"
	StaffSecondFactorEnrol StaffAction = "enrol_second_factor"
)

// OperatorActorName stands for whoever ran `hearth user disable` or
// `hearth user reset-second-factor` on the server: the command line has no
// signed-in person.
const OperatorActorName = "Operator (command line)"

// Label is the action as the staff audit trail shows it.
func (a StaffAction) Label() string {
	switch a {
	case StaffDisabled:
		return "Disabled the account"
	case StaffEnabled:
		return "Enabled the account again"
	case StaffSecondFactorReset:
		return "Reset the second factor"
	case StaffSecondFactorEnrol:
		return "Enrolled a second factor"
	}
	return string(a)
}

// StaffAccount is a support agent or lead as the staff accounts page lists them.
type StaffAccount struct {
	User         User
	SecondFactor SecondFactor
	// Sessions is how many live sessions they have.
	Sessions int64
}

// StaffAuditEvent is one entry of the staff audit trail. ActorName and
// SubjectEmail are kept as they were at the time.
type StaffAuditEvent struct {
	ID           int64
	At           time.Time
	ActorID      int64 // 0 for the operator's command line
	ActorName    string
	SubjectID    int64
	SubjectEmail string
	Action       StaffAction
	Reason       string
}

// String describes the entry for logs and the command line.
func (e StaffAuditEvent) String() string {
	return fmt.Sprintf("%s %s: %s %s (%s)", e.At.UTC().Format(time.RFC3339), e.ActorName, e.Action, e.SubjectEmail, e.Reason)
}
