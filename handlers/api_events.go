package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
)

// EventsBodyLimit caps the body of POST /api/v1/moderation/events. The
// longest event the contract allows (three 64-character IDs, the longest
// enum values, a time with nanoseconds and an offset) is under 400 bytes,
// so 500 of them are under 200 KB; the cap leaves room for indentation
// and escaped characters and stops anything larger before it is read.
const EventsBodyLimit = "1M"

// eventJSON is one event of the report as it arrives. It names every
// field of the contract and nothing else: the decoder refuses any other
// field by name, so there is no place for what a message said.
type eventJSON struct {
	ID            string `json:"id"`
	TeenID        string `json:"teen_id"`
	CounterpartID string `json:"counterpart_id"`
	Direction     string `json:"direction"`
	Category      string `json:"category"`
	Severity      string `json:"severity"`
	ActionTaken   string `json:"action_taken"`
	OccurredAt    string `json:"occurred_at"`
}

// eventsReport is the body of POST /api/v1/moderation/events.
type eventsReport struct {
	Events []eventJSON `json:"events"`
}

// ReportEvents answers POST /api/v1/moderation/events. In this order: the
// bearer key was checked by RequireClient; the body is read (up to
// EventsBodyLimit) and its Standard Webhooks signature verified against
// every secret the client has in force, before any of it is decoded; the
// body is decoded strictly and each event validated; the store ingests
// them in one transaction; and only after the commit does it answer 202
// with how many were accepted, duplicates or ignored.
func (h *Handlers) ReportEvents(c echo.Context) error {
	body, err := readJSONBody(c)
	if err != nil {
		return err
	}
	now := h.Store.Now()
	if err := h.verifyReport(c, body, now); err != nil {
		return err
	}
	events, err := decodeEvents(body, now)
	if err != nil {
		return err
	}
	res, err := h.Store.IngestEvents(ctx(c), clientID(c), events)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, res)
}

// verifyReport checks the report's signature against the secrets the
// client has in force now. They are read from the database, not from this
// node's in-memory copy of the clients (refreshed every poll), so a
// rotation, and the end of its grace period, apply at once on every node;
// a report goes to the database anyway, and one primary-key read is small
// beside its transaction.
func (h *Handlers) verifyReport(c echo.Context, body []byte, now time.Time) error {
	cl, err := h.Store.ActiveClient(ctx(c), clientID(c))
	if errors.Is(err, models.ErrNotFound) {
		return echo.NewHTTPError(http.StatusUnauthorized, "The API key is not valid or was revoked.")
	} else if err != nil {
		return err
	}
	return VerifySignature(cl.WebhookSecrets(now), c.Request().Header, body, now)
}

// decodeEvents decodes a verified report strictly and validates it: 1 to
// models.MaxEventsPerReport events, each checked by models.Event.Validate
// with fields named like events[3].category. An unknown field anywhere is
// refused with its path (events[0].text).
func decodeEvents(body []byte, now time.Time) ([]models.Event, error) {
	var req eventsReport
	if err := decodeReport(body, &req); err != nil {
		return nil, err
	}
	switch n := len(req.Events); {
	case req.Events == nil:
		return nil, models.Invalid("events", fmt.Sprintf("is required: an array of 1 to %d events", models.MaxEventsPerReport))
	case n == 0:
		return nil, models.Invalid("events", fmt.Sprintf("is empty; send 1 to %d events", models.MaxEventsPerReport))
	case n > models.MaxEventsPerReport:
		return nil, models.Invalid("events", fmt.Sprintf("has %d events; send at most %d per request", n, models.MaxEventsPerReport))
	}
	ve := &models.ValidationError{}
	out := make([]models.Event, len(req.Events))
	for i, j := range req.Events {
		prefix := "events[" + strconv.Itoa(i) + "]"
		e := models.Event{ID: j.ID, TeenID: j.TeenID, CounterpartID: j.CounterpartID, Direction: models.Direction(j.Direction),
			Category: models.Category(j.Category), Severity: models.Severity(j.Severity), ActionTaken: models.Action(j.ActionTaken)}
		if j.OccurredAt != "" {
			t, err := time.Parse(time.RFC3339Nano, j.OccurredAt)
			if err != nil {
				ve.Add(prefix+".occurred_at", "must be an RFC 3339 time such as 2026-11-27T21:30:00Z")
				t = now // reported above; keeps Validate from reporting it again as missing
			}
			e.OccurredAt = t
		}
		e.Validate(prefix, now, ve)
		out[i] = e
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// decodeReport is DecodeStrict, naming a field the contract does not have
// (or one of the wrong type) by its whole path, events[2].snippet, rather
// than by its last name alone.
func decodeReport(body []byte, req *eventsReport) error {
	err := DecodeStrict(body, req)
	var ve *models.ValidationError
	if err == nil || !errors.As(err, &ve) {
		return err
	}
	var se *jsonv2.SemanticError
	if jerr := jsonv2.Unmarshal(body, new(eventsReport), jsonv2.RejectUnknownMembers(true)); errors.As(jerr, &se) && se.JSONPointer != "" {
		path := fieldPath(string(se.JSONPointer))
		if errors.Is(se.Err, jsonv2.ErrUnknownName) {
			return models.Invalid(path, "is not a field of a moderation event report. Hearth never accepts message content.")
		}
		if len(ve.Errors) == 1 {
			return models.Invalid(path, ve.Errors[0].Message)
		}
	}
	return err
}

// fieldPath turns a JSON pointer (/events/3/category) into the way errors
// name fields (events[3].category).
func fieldPath(pointer string) string {
	var b strings.Builder
	for _, part := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		if _, err := strconv.Atoi(part); err == nil && b.Len() > 0 {
			b.WriteString("[" + part + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	return b.String()
}
