package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/views/pages"
)

// Problem is an RFC 9457 problem document, the body of every /api/ error.
type Problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail,omitempty"`
	Errors []models.FieldError `json:"errors,omitempty"`
}

// problemTypes name each kind of error with a stable URI the messaging
// service can switch on.
var problemTitles = map[int][2]string{
	http.StatusBadRequest:            {"bad-request", "The request could not be read"},
	http.StatusUnauthorized:          {"unauthorized", "A valid API key is required"},
	http.StatusForbidden:             {"forbidden", "Not allowed"},
	http.StatusNotFound:              {"not-found", "Not found"},
	http.StatusMethodNotAllowed:      {"method-not-allowed", "Method not allowed"},
	http.StatusConflict:              {"conflict", "Conflicts with the current state"},
	http.StatusGone:                  {"gone", "No longer available"},
	http.StatusRequestEntityTooLarge: {"too-large", "The request body is too large"},
	http.StatusUnsupportedMediaType:  {"unsupported-media-type", "Send application/json"},
	http.StatusUnprocessableEntity:   {"validation", "The request has invalid fields"},
	http.StatusTooManyRequests:       {"rate-limited", "Too many requests"},
	http.StatusInternalServerError:   {"internal", "Something went wrong on our side"},
	http.StatusServiceUnavailable:    {"unavailable", "Temporarily unavailable"},
}

// SignatureProblemType is the type of a 401 for a moderation report whose
// Standard Webhooks signature did not verify (the bearer key did).
const SignatureProblemType = "https://hearth.dev/problems/invalid-signature"

// ProblemType is the type URI for a status.
func ProblemType(status int) string {
	if t, ok := problemTitles[status]; ok {
		return "https://hearth.dev/problems/" + t[0]
	}
	return "about:blank"
}

// classify maps an error to a status and a message safe to show. Only
// messages written by Hearth pass; internal causes stay in the log.
func classify(err error) (status int, detail string, fields []models.FieldError) {
	var ve *models.ValidationError
	var he *echo.HTTPError
	var se *SignatureError
	switch {
	case errors.As(err, &ve):
		return http.StatusUnprocessableEntity, "Fix the fields listed in errors.", ve.Errors
	case errors.As(err, &se):
		return http.StatusUnauthorized, se.Detail + ".", nil
	case errors.Is(err, models.ErrNotFound):
		return http.StatusNotFound, "There is nothing here, or you do not have access to it.", nil
	case errors.Is(err, models.ErrForbidden):
		return http.StatusForbidden, "You do not have permission to do that.", nil
	case errors.Is(err, models.ErrConflict):
		return http.StatusConflict, "That conflicts with the current state.", nil
	case errors.Is(err, models.ErrExpired), errors.Is(err, models.ErrUsed):
		return http.StatusGone, "That link or code has expired or was already used.", nil
	case errors.Is(err, middleware.ErrCSRFInvalid):
		return http.StatusForbidden, "The form expired or came from another site. Reload the page and try again.", nil
	case errors.As(err, &he):
		msg, _ := he.Message.(string)
		if he.Code == http.StatusForbidden && strings.Contains(strings.ToLower(msg), "csrf") ||
			he.Code == http.StatusBadRequest && strings.Contains(msg, "csrf") {
			return http.StatusForbidden, "The form expired or came from another site. Reload the page and try again.", nil
		}
		if he.Code >= 500 {
			msg = ""
		}
		return he.Code, msg, nil
	}
	return http.StatusInternalServerError, "", nil
}

// ErrorHandler is the one place errors become responses: problem+json under
// /api/, an HTML page elsewhere. It logs the cause of 5xx answers only, and
// never echoes input back.
func (h *Handlers) ErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, detail, fields := classify(err)
	reqID := c.Response().Header().Get(echo.HeaderXRequestID)
	if status >= 500 {
		h.Logger.ErrorContext(ctx(c), "request failed", "err", err, "route", c.Path(), "method", c.Request().Method, "request_id", reqID)
	}
	if strings.HasPrefix(c.Request().URL.Path, "/api/") {
		title := http.StatusText(status)
		if t, ok := problemTitles[status]; ok {
			title = t[1]
		}
		typ := ProblemType(status)
		if se := (*SignatureError)(nil); errors.As(err, &se) {
			// The key was fine; the signature was not. A type of its own
			// lets the messaging service tell the two apart.
			typ, title = SignatureProblemType, "The request signature is not valid"
		}
		if detail == "" {
			detail = title
		}
		if status >= 500 && reqID != "" {
			detail = "Something went wrong on our side. Quote request " + reqID + " if you report it."
		}
		body, _ := json.Marshal(Problem{Type: typ, Title: title, Status: status, Detail: detail, Errors: fields})
		if c.Request().Method == http.MethodHead {
			c.NoContent(status)
			return
		}
		c.Blob(status, "application/problem+json", body)
		return
	}
	heading, message := errorPageText(status, detail)
	if status < 500 {
		reqID = "" // a reference only helps when something broke on our side
	}
	p := h.page(c, heading)
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	if rerr := render(c, status, pages.Error(pages.ErrorProps{Page: p, Status: status, Heading: heading, Message: message, RequestID: reqID})); rerr != nil {
		h.Logger.ErrorContext(ctx(c), "render error page", "err", rerr, "request_id", reqID)
		c.String(status, message)
	}
}

func errorPageText(status int, detail string) (string, string) {
	switch status {
	case http.StatusNotFound:
		return "Page not found", "We couldn't find that page. It may have moved, or you may not have access to it."
	case http.StatusForbidden:
		if detail != "" {
			return "Not allowed", detail
		}
		return "Not allowed", "You don't have permission to see this page."
	case http.StatusTooManyRequests:
		return "Slow down a little", "There have been too many attempts from here. Wait a minute and try again."
	case http.StatusMethodNotAllowed:
		return "Not available", "That page can't be used this way."
	case http.StatusRequestEntityTooLarge:
		return "Too much at once", "What you sent was too large."
	case http.StatusGone:
		return "Link no longer works", detail
	}
	if status >= 500 {
		return "Something went wrong", "Something went wrong on our side. Nothing you did caused it; please try again in a moment."
	}
	if detail == "" {
		detail = http.StatusText(status)
	}
	return "Something's not right", detail
}
