package client

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// ErrUnavailable is wrapped by every error that means Hearth gave no usable
// answer: a timeout, a connection that failed, a 5xx, 408 or 429 answer (an
// [*Error] whose Is reports it), an answer that could not be read, or a
// context that ended first. For the DM check it comes with the fail-closed
// hold; test for it with errors.Is.
var ErrUnavailable = errors.New("hearth unavailable")

// ErrInvalid is wrapped by errors for input the SDK refuses before sending
// anything: a platform user ID Hearth would refuse or a URL cannot carry, a
// batch that is empty or over MaxBatch, an event report without a webhook
// secret in the Config.
var ErrInvalid = errors.New("invalid input")

// Error is an answer from Hearth that is not a success: the problem+json
// document (RFC 9457) Hearth sends, or what the SDK could make of an answer
// that was not one (an HTML error page from a proxy, say). The caller may
// switch on Status or Type; Errors lists the fields Hearth refused, by their
// JSON names, for a 422.
type Error struct {
	// Status is the HTTP status of the answer.
	Status int `json:"status"`
	// Type is a stable URI for the kind of problem, such as
	// "https://hearth.dev/problems/validation"; empty when the answer was not
	// problem+json.
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Detail string       `json:"detail"`
	Errors []FieldError `json:"errors"`
	// Location is where a 3xx answer pointed, which usually means BaseURL
	// should be that address (http:// redirected to https://, say). The SDK
	// follows no redirects: a redirected request would lose its body or its
	// Authorization header.
	Location string `json:"-"`
}

// FieldError names one field Hearth refused and says why.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error returns the status, title, detail and refused fields in one line,
// such as `hearth: 422 The request has invalid fields: Fix the fields
// listed in errors. (text: is not a field of this request)`. Hearth never
// echoes input in a problem, so the line is safe to log.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("hearth: ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.Title != "" {
		b.WriteString(" ")
		b.WriteString(e.Title)
	}
	if e.Detail != "" && !strings.EqualFold(e.Detail, e.Title) {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Location != "" {
		b.WriteString(" (redirected to ")
		b.WriteString(e.Location)
		b.WriteString("; set Config.BaseURL to that address)")
	}
	if len(e.Errors) > 0 {
		b.WriteString(" (")
		for i, f := range e.Errors {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(f.Field)
			b.WriteString(": ")
			b.WriteString(f.Message)
		}
		b.WriteString(")")
	}
	return b.String()
}

// Is reports that a 5xx, 408 or 429 answer is ErrUnavailable: Hearth is
// there but could not answer now, and trying again later may work. Other
// statuses are mistakes in the request or the configuration that retrying
// will not fix.
func (e *Error) Is(target error) bool {
	return target == ErrUnavailable && unavailableStatus(e.Status)
}

// unavailableStatus reports whether an answer with this status means "not
// now" rather than "not like this".
func unavailableStatus(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
}

// retryableStatus reports whether the same request may succeed if sent
// again. 501 and 505 will not, whatever the wait.
func retryableStatus(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// problemOf turns an answer that is not a success into an *Error, reading
// the problem+json body when there is one and falling back to the status
// text when the body is something else (a proxy's HTML page, nothing).
func problemOf(a *answer) *Error {
	e := &Error{Status: a.status}
	mt, _, _ := mime.ParseMediaType(a.header.Get("Content-Type"))
	if mt == "application/problem+json" || mt == "application/json" {
		var p Error
		if json.Unmarshal(a.body, &p) == nil {
			e.Type, e.Title, e.Detail, e.Errors = p.Type, p.Title, p.Detail, p.Errors
		}
	}
	if e.Title == "" {
		e.Title = http.StatusText(a.status)
		if e.Detail == "" && len(a.body) > 0 {
			e.Detail = "the answer was " + describeType(mt) + ", not a problem document"
		}
	}
	if a.status >= 300 && a.status < 400 {
		e.Location = a.header.Get("Location")
	}
	return e
}

// describeType names a media type for an error message.
func describeType(mt string) string {
	if mt == "" {
		return "untyped"
	}
	return mt
}
