package policy

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every error this package returns for bad input
// (an unknown name, an invalid policy), so that callers can map all of them
// to one status, such as a 422, with errors.Is.
var ErrInvalid = errors.New("invalid")

// FieldError names one field of a Policy that Validate rejects and says why in
// words a guardian can act on. Field uses the names of the hook API and the
// guardian's form (audience, quiet_hours, min_sender_account_age_days,
// approved_contacts, blocked_contacts), so that a handler can put it straight
// into a problem+json "errors" entry.
type FieldError struct {
	Field   string
	Message string
}

// Error returns "field: message".
func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Unwrap returns ErrInvalid, so that errors.Is(err, ErrInvalid) holds for
// everything Validate returns.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// unknownName is the error for a string that names no value of a policy enum.
func unknownName(kind, s, want string) error {
	return fmt.Errorf("policy: unknown %s %q (want %s): %w", kind, s, want, ErrInvalid)
}
