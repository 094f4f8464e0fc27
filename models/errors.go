package models

import (
	"errors"
	"strings"
)

// Sentinel errors shared by the store and the handlers. Handlers map them to
// HTTP statuses in one place, so a new error kind needs one new line there.
var (
	// ErrNotFound means the thing does not exist or the viewer may not see it.
	// The two are deliberately indistinguishable, so nothing leaks.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the change collides with the current state, such as
	// an email that is already registered or a token that was already used.
	ErrConflict = errors.New("conflict")
	// ErrForbidden means the viewer may see the thing but not do this to it.
	ErrForbidden = errors.New("forbidden")
	// ErrInvalidCredentials covers a wrong password and an unknown email
	// alike, so sign-in never says which one it was.
	ErrInvalidCredentials = errors.New("email or password is not right")
	// ErrEmailUnverified means the password was right but the address has
	// not been confirmed yet. It is only returned after a correct password,
	// so it reveals nothing to someone guessing.
	ErrEmailUnverified = errors.New("email address not confirmed yet")
	// ErrExpired means a token or invitation was real but its time ran out.
	ErrExpired = errors.New("expired")
	// ErrUsed means a single-use token was already used.
	ErrUsed = errors.New("already used")
)

// FieldError names one invalid input field and says what is wrong with it in
// words a user can act on.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError collects every problem found in one input, so a form or an
// API caller can fix them all at once instead of one per round trip.
type ValidationError struct {
	Errors []FieldError
}

// Error joins the field messages; it never includes the rejected values.
func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Errors))
	for _, f := range e.Errors {
		parts = append(parts, f.Field+": "+f.Message)
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add records a problem with field.
func (e *ValidationError) Add(field, message string) {
	e.Errors = append(e.Errors, FieldError{Field: field, Message: message})
}

// Err returns e when it holds problems and nil otherwise, so callers can build
// one up and return it unconditionally.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Errors) == 0 {
		return nil
	}
	return e
}

// Invalid returns a ValidationError for a single field.
func Invalid(field, message string) error {
	return &ValidationError{Errors: []FieldError{{Field: field, Message: message}}}
}

// FieldErrors returns the validation problems in err by field name (the first
// message per field), or nil when err is not a validation error.
func FieldErrors(err error) map[string]string {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	m := make(map[string]string, len(ve.Errors))
	for _, f := range ve.Errors {
		if _, ok := m[f.Field]; !ok {
			m[f.Field] = f.Message
		}
	}
	return m
}
