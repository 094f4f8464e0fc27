package client_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/client"
)

var groomingEvent = client.Event{
	ID: "evt_1", TeenID: "tk_maya", CounterpartID: "u_9", Direction: client.DirectionInbound,
	Category: client.CategoryGrooming, Severity: client.SeverityHigh, ActionTaken: client.ActionMessageBlocked,
	OccurredAt: time.Date(2026, 11, 27, 16, 30, 0, 0, time.FixedZone("EST", -5*3600)),
}

// DESIGN.md's example event, key for key, with occurred_at in UTC.
const groomingEventJSON = `{"id":"evt_1","teen_id":"tk_maya","counterpart_id":"u_9","direction":"inbound",
	"category":"grooming","severity":"high","action_taken":"message_blocked","occurred_at":"2026-11-27T21:30:00Z"}`

func TestReportEvents_request_is_the_contract(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		answer(w, 202, `{"accepted":1,"duplicates":1,"ignored":1}`)
	})
	c := newClient(t, f.URL, client.Config{WebhookSecret: vectorSecret})
	spam := client.Event{ID: "evt_2", TeenID: "tk_ava", Direction: client.DirectionOutbound, Category: client.CategorySpam,
		Severity: client.SeverityLow, ActionTaken: client.ActionNone, OccurredAt: groomingEvent.OccurredAt}
	got, err := c.ReportEvents(context.Background(), []client.Event{groomingEvent, groomingEvent, spam})
	if err != nil {
		t.Fatal(err)
	}
	if got != (client.ReportResult{Accepted: 1, Duplicates: 1, Ignored: 1}) {
		t.Errorf("result %+v", got)
	}
	req := f.only(t)
	if req.Method != http.MethodPost || req.Path != "/api/v1/moderation/events" {
		t.Errorf("sent %s %s, want POST /api/v1/moderation/events", req.Method, req.Path)
	}
	if req.Header.Get("Authorization") != "Bearer "+testKey || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", req.Header)
	}
	assertJSON(t, req.Body, `{"events":[`+groomingEventJSON+`,`+groomingEventJSON+`,
		{"id":"evt_2","teen_id":"tk_ava","direction":"outbound","category":"spam","severity":"low","action_taken":"none","occurred_at":"2026-11-27T21:30:00Z"}]}`)

	// Signed as a Standard Webhook, over the body as sent, just now.
	if err := client.VerifyWebhook(vectorSecret, req.Header, req.Body, time.Now()); err != nil {
		t.Errorf("the report does not verify: %v", err)
	}
	if id := req.Header.Get("webhook-id"); !strings.HasPrefix(id, "msg_") || len(id) < 20 {
		t.Errorf("webhook-id %q", id)
	}
	if ts := req.Header.Get("webhook-timestamp"); ts == "" || strings.ContainsAny(ts, ".-+ ") {
		t.Errorf("webhook-timestamp %q is not whole Unix seconds", ts)
	}
}

func TestReportEvents_each_report_has_its_own_webhook_id(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		answer(w, 202, `{"accepted":1,"duplicates":0,"ignored":0}`)
	})
	c := newClient(t, f.URL, client.Config{WebhookSecret: vectorSecret})
	for range 2 {
		if _, err := c.ReportEvents(context.Background(), []client.Event{groomingEvent}); err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.requests()
	if len(reqs) != 2 || reqs[0].Header.Get("webhook-id") == reqs[1].Header.Get("webhook-id") {
		t.Errorf("two reports share webhook-id %q", reqs[0].Header.Get("webhook-id"))
	}
}

func TestReportEvents_retries_keep_the_webhook_id(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 0:
			problem(w, 503, "unavailable", "Temporarily unavailable")
		case 1:
			dropConnection(t, w)
		default:
			answer(w, 202, `{"accepted":0,"duplicates":1,"ignored":0}`)
		}
	})
	c := newClient(t, f.URL, client.Config{WebhookSecret: vectorSecret, Retries: 2})
	got, err := c.ReportEvents(context.Background(), []client.Event{groomingEvent})
	if err != nil {
		t.Fatal(err)
	}
	if got != (client.ReportResult{Duplicates: 1}) {
		t.Errorf("result %+v", got)
	}
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d attempts, want 3", len(reqs))
	}
	id := reqs[0].Header.Get("webhook-id")
	for i, r := range reqs {
		if r.Header.Get("webhook-id") != id {
			t.Errorf("attempt %d has webhook-id %q, attempt 0 had %q", i, r.Header.Get("webhook-id"), id)
		}
		if string(r.Body) != string(reqs[0].Body) {
			t.Errorf("attempt %d has another body", i)
		}
		if err := client.VerifyWebhook(vectorSecret, r.Header, r.Body, time.Now()); err != nil {
			t.Errorf("attempt %d does not verify: %v", i, err)
		}
	}
}

func TestReportEvents_4xx_not_retried(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		problem(w, 422, "validation", "The request has invalid fields", client.FieldError{Field: "events[0].category", Message: "is not a category"})
	})
	_, err := newClient(t, f.URL, client.Config{WebhookSecret: vectorSecret}).ReportEvents(context.Background(), []client.Event{groomingEvent})
	var e *client.Error
	if !errors.As(err, &e) || e.Status != 422 || e.Errors[0].Field != "events[0].category" {
		t.Errorf("error %v, want the 422 *Error", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestReportEvents_refuses_before_sending(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { t.Error("Hearth was asked") })
	signed := newClient(t, f.URL, client.Config{WebhookSecret: vectorSecret})
	for name, tc := range map[string]struct {
		c      *client.Client
		events []client.Event
	}{
		"no_secret": {newClient(t, f.URL, client.Config{}), []client.Event{groomingEvent}},
		"none":      {signed, nil},
		"too_many":  {signed, make([]client.Event, client.MaxBatch+1)},
	} {
		if _, err := tc.c.ReportEvents(context.Background(), tc.events); !errors.Is(err, client.ErrInvalid) {
			t.Errorf("%s: error %v, want ErrInvalid", name, err)
		}
	}
}

func TestReportEvents_malformed_answer(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"accepted":1}`, `{}`, `<html></html>`, `{"accepted":"1","duplicates":0,"ignored":0}`} {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { answer(w, 202, body) })
		_, err := newClient(t, f.URL, client.Config{WebhookSecret: vectorSecret}).ReportEvents(context.Background(), []client.Event{groomingEvent})
		if !errors.Is(err, client.ErrUnavailable) {
			t.Errorf("answer %s: error %v, want ErrUnavailable", body, err)
		}
	}
}
