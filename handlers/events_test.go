package handlers_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	hearth "github.com/hearth-safety/hearth/client"
	"github.com/hearth-safety/hearth/handlers"
	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
	"github.com/hearth-safety/hearth/web/webtest"
)

// The Standard Webhooks specification's test vector.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func specHeaders(sig string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", specID)
	h.Set("webhook-timestamp", strconv.Itoa(specTimestamp))
	if sig != "" {
		h.Set("webhook-signature", sig)
	}
	return h
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	at := time.Unix(specTimestamp, 0)
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another secret of 32 bytes......"))
	bad := "v1,Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="
	cases := []struct {
		name    string
		secrets []string
		h       http.Header
		body    string
		now     time.Time
		ok      bool
		detail  string
	}{
		{"spec_vector", []string{specSecret}, specHeaders(specSignature), specBody, at, true, ""},
		{"several_signatures", []string{specSecret}, specHeaders(bad + " v2,abc " + specSignature), specBody, at, true, ""},
		{"repeated_signature_header", []string{specSecret}, func() http.Header {
			h := specHeaders(bad)
			h.Add("webhook-signature", specSignature)
			return h
		}(), specBody, at, true, ""},
		{"second_secret_in_force", []string{other, specSecret}, specHeaders(specSignature), specBody, at, true, ""},
		{"five_minutes_old", []string{specSecret}, specHeaders(specSignature), specBody, at.Add(5 * time.Minute), true, ""},
		{"five_minutes_ahead", []string{specSecret}, specHeaders(specSignature), specBody, at.Add(-5 * time.Minute), true, ""},
		{"stale", []string{specSecret}, specHeaders(specSignature), specBody, at.Add(5*time.Minute + time.Second), false, "old"},
		{"future", []string{specSecret}, specHeaders(specSignature), specBody, at.Add(-5*time.Minute - time.Second), false, "future"},
		{"tampered_body", []string{specSecret}, specHeaders(specSignature), `{"test": 2432232315}`, at, false, "no signature"},
		{"wrong_secret", []string{other}, specHeaders(specSignature), specBody, at, false, "no signature"},
		{"no_secret", nil, specHeaders(specSignature), specBody, at, false, "no signature"},
		{"malformed_secret_skipped", []string{"whsec_!!!", "nope"}, specHeaders(specSignature), specBody, at, false, "no signature"},
		{"other_version_only", []string{specSecret}, specHeaders("v1a," + specSignature[3:]), specBody, at, false, "v1"},
		{"truncated_signature", []string{specSecret}, specHeaders(specSignature[:20]), specBody, at, false, "no signature"},
		{"huge_signature", []string{specSecret}, specHeaders("v1," + strings.Repeat("A", 10000)), specBody, at, false, "no signature"},
		{"no_signature", []string{specSecret}, specHeaders(""), specBody, at, false, "webhook-signature"},
		{"no_id", []string{specSecret}, func() http.Header { h := specHeaders(specSignature); h.Del("webhook-id"); return h }(), specBody, at, false, "webhook-id"},
		{"two_ids", []string{specSecret}, func() http.Header { h := specHeaders(specSignature); h.Add("webhook-id", "x"); return h }(), specBody, at, false, "more than once"},
		{"long_id", []string{specSecret}, func() http.Header {
			h := specHeaders(specSignature)
			h.Set("webhook-id", strings.Repeat("m", 257))
			return h
		}(), specBody, at, false, "webhook-id"},
		{"no_timestamp", []string{specSecret}, func() http.Header { h := specHeaders(specSignature); h.Del("webhook-timestamp"); return h }(), specBody, at, false, "webhook-timestamp"},
		{"signed_timestamp", []string{specSecret}, func() http.Header {
			h := specHeaders(specSignature)
			h.Set("webhook-timestamp", "+1614265330")
			return h
		}(), specBody, at, false, "Unix time"},
		{"fractional_timestamp", []string{specSecret}, func() http.Header {
			h := specHeaders(specSignature)
			h.Set("webhook-timestamp", "1614265330.0")
			return h
		}(), specBody, at, false, "Unix time"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := handlers.VerifySignature(c.secrets, c.h, []byte(c.body), c.now)
			if c.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var se *handlers.SignatureError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SignatureError", err)
			}
			if !strings.Contains(se.Detail, c.detail) {
				t.Errorf("detail %q does not mention %q", se.Detail, c.detail)
			}
			for _, s := range append(c.secrets, specSecret, specSecret[6:]) {
				if s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("the error repeats a secret: %q", err)
				}
			}
		})
	}
}

// eventsWorld is a running Hearth on a settable clock with a client whose
// webhook secret is known, three supervised teens (tk_e_000001…) and
// tk_free, whom nobody supervises.
type eventsWorld struct {
	app    *webtest.App
	api    *webtest.API
	client models.ServiceClient
	secret string
	now    *atomic.Int64
}

var eventsT0 = time.Date(2026, 11, 27, 21, 0, 0, 0, time.UTC)

func newEventsWorld(t *testing.T, d store.Dialect) *eventsWorld {
	t.Helper()
	now := &atomic.Int64{}
	now.Store(eventsT0.UnixNano())
	app := webtest.New(t, webtest.Options{Dialect: d, Now: func() time.Time { return time.Unix(0, now.Load()).UTC() }})
	cl, key, err := app.Store.CreateClient(bg, store.NewClient{Name: "chat", Secret: specSecret})
	if err != nil {
		t.Fatal(err)
	}
	q := "INSERT INTO users (email, name, role, password_hash, email_verified_at, created_at, updated_at) VALUES (?, ?, 'guardian', '', ?, ?, ?) RETURNING id"
	if d == store.Postgres {
		q = "INSERT INTO users (email, name, role, password_hash, email_verified_at, created_at, updated_at) VALUES ($1, $2, 'guardian', '', $3, $4, $5) RETURNING id"
	}
	var gid int64
	if err := app.Store.SQLDB().QueryRowContext(bg, q, "pat@example.com", "Pat", eventsT0, eventsT0, eventsT0).Scan(&gid); err != nil {
		t.Fatal(err)
	}
	if err := app.Store.SeedSupervisedTeens(bg, cl.ID, gid, "tk_e_", 3, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := app.Store.UpsertTeen(bg, cl.ID, "tk_free", store.TeenInput{DisplayName: "Free", BirthMonth: "2012-01", TimeZone: "Europe/London"}); err != nil {
		t.Fatal(err)
	}
	return &eventsWorld{app: app, api: app.API(t, key), client: cl, secret: specSecret, now: now}
}

func (w *eventsWorld) clock() time.Time { return time.Unix(0, w.now.Load()).UTC() }

// sign returns the Standard Webhooks headers for body under secret at ts.
func sign(secret, id string, ts time.Time, body string) http.Header {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	m := hmac.New(sha256.New, key)
	stamp := strconv.FormatInt(ts.Unix(), 10)
	m.Write([]byte(id + "." + stamp + "." + body))
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", stamp)
	h.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	return h
}

// post sends body to the events endpoint with the bearer key and headers.
func (w *eventsWorld) post(t *testing.T, body string, h http.Header) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.app.HTTP.URL+"/api/v1/moderation/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+w.api.Key)
	for k, vs := range h {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// report posts body signed with the world's secret now.
func (w *eventsWorld) report(t *testing.T, id, body string) (int, string, string) {
	t.Helper()
	return w.post(t, body, sign(w.secret, id, w.clock(), body))
}

func (w *eventsWorld) remembered(t *testing.T) int {
	t.Helper()
	var n int
	if err := w.app.Store.SQLDB().QueryRowContext(bg, "SELECT COUNT(*) FROM received_events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func eventJSON(id, teen string, extra string) string {
	return `{"id":"` + id + `","teen_id":"` + teen + `","counterpart_id":"u_9","direction":"inbound","category":"grooming",` +
		`"severity":"high","action_taken":"message_blocked","occurred_at":"2026-11-27T20:30:00Z"` + extra + `}`
}

func eventsBody(events ...string) string { return `{"events":[` + strings.Join(events, ",") + `]}` }

func decodeResult(t *testing.T, status int, body string) models.IngestResult {
	t.Helper()
	if status != http.StatusAccepted {
		t.Fatalf("status %d, want 202: %s", status, body)
	}
	var r models.IngestResult
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil || !strings.Contains(body, `"accepted"`) || !strings.Contains(body, `"duplicates"`) || !strings.Contains(body, `"ignored"`) {
		t.Fatalf("answer %s: %v", body, err)
	}
	return r
}

func TestModerationEvents(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			w := newEventsWorld(t, d)
			body := eventsBody(eventJSON("evt_1", "tk_e_000001", ""), eventJSON("evt_2", "tk_e_000002", ""), eventJSON("evt_3", "tk_free", ""))
			status, ct, out := w.report(t, "msg_1", body)
			if got := decodeResult(t, status, out); got != (models.IngestResult{Accepted: 2, Ignored: 1}) {
				t.Errorf("first delivery = %+v", got)
			}
			if !strings.HasPrefix(ct, "application/json") {
				t.Errorf("content type %q", ct)
			}
			if n := w.remembered(t); n != 2 {
				t.Errorf("%d event IDs remembered, want 2", n)
			}

			t.Run("replay_is_duplicates", func(t *testing.T) {
				h := sign(w.secret, "msg_1", w.clock(), body)
				w.now.Add(int64(2 * time.Minute)) // the same delivery, still fresh
				s, _, o := w.post(t, body, h)
				if got := decodeResult(t, s, o); got != (models.IngestResult{Duplicates: 2, Ignored: 1}) {
					t.Errorf("replayed delivery = %+v, want 2 duplicates and 1 ignored", got)
				}
				w.now.Add(int64(-2 * time.Minute))
			})

			refused := func(t *testing.T, h http.Header, body, detail string) {
				t.Helper()
				before := w.remembered(t)
				status, ct, out := w.post(t, body, h)
				if status != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401: %s", status, out)
				}
				p := decodeProblem(t, ct, out)
				if p.Type != handlers.SignatureProblemType || !strings.Contains(p.Detail, detail) {
					t.Errorf("problem %+v, want the signature type and a detail mentioning %q", p, detail)
				}
				if strings.Contains(out, w.secret) || strings.Contains(out, w.secret[6:]) {
					t.Errorf("the answer repeats the secret: %s", out)
				}
				if n := w.remembered(t); n != before {
					t.Errorf("a refused report stored %d events", n-before)
				}
			}
			fresh := eventsBody(eventJSON("evt_9", "tk_e_000001", ""))
			t.Run("missing_signature", func(t *testing.T) {
				refused(t, http.Header{}, fresh, "webhook-id")
				h := sign(w.secret, "msg_2", w.clock(), fresh)
				h.Del("webhook-signature")
				refused(t, h, fresh, "webhook-signature")
			})
			t.Run("stale", func(t *testing.T) {
				refused(t, sign(w.secret, "msg_2", w.clock().Add(-6*time.Minute), fresh), fresh, "old")
			})
			t.Run("future", func(t *testing.T) {
				refused(t, sign(w.secret, "msg_2", w.clock().Add(6*time.Minute), fresh), fresh, "future")
			})
			t.Run("tampered_body", func(t *testing.T) {
				refused(t, sign(w.secret, "msg_2", w.clock(), fresh), strings.Replace(fresh, "high", "low", 1), "no signature")
			})
			t.Run("wrong_secret", func(t *testing.T) {
				refused(t, sign(store.NewWebhookSecret(), "msg_2", w.clock(), fresh), fresh, "no signature")
			})
			t.Run("signature_checked_before_decoding", func(t *testing.T) {
				junk := `{"events":[{"text":"should never be read"}]}`
				refused(t, sign(store.NewWebhookSecret(), "msg_2", w.clock(), junk), junk, "no signature")
			})
			t.Run("several_signatures", func(t *testing.T) {
				h := sign(w.secret, "msg_3", w.clock(), fresh)
				other := sign(store.NewWebhookSecret(), "msg_3", w.clock(), fresh)
				h.Set("webhook-signature", other.Get("webhook-signature")+" "+h.Get("webhook-signature"))
				s, _, out := w.post(t, fresh, h)
				if got := decodeResult(t, s, out); got.Accepted != 1 {
					t.Errorf("with the right signature second = %+v", got)
				}
			})
			t.Run("bearer_key_still_required", func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodPost, w.app.HTTP.URL+"/api/v1/moderation/events", strings.NewReader(fresh))
				for k, v := range sign(w.secret, "msg_4", w.clock(), fresh) {
					req.Header[k] = v
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("without a key: %d, want 401", resp.StatusCode)
				}
			})
		})
	}
}

func TestModerationEvents_Validation(t *testing.T) {
	t.Parallel()
	w := newEventsWorld(t, store.SQLite)
	many := make([]string, 501)
	for i := range many {
		many[i] = eventJSON(fmt.Sprintf("m%d", i), "tk_e_000001", "")
	}
	cases := []struct {
		name, body string
		status     int
		field      string
	}{
		{"text", eventsBody(eventJSON("v1", "tk_e_000001", `,"text":"CANARY-7f3a"`)), 422, "events[0].text"},
		{"content", eventsBody(eventJSON("v1", "tk_e_000001", ""), eventJSON("v2", "tk_e_000001", `,"content":"CANARY-7f3a"`)), 422, "events[1].content"},
		{"body", eventsBody(eventJSON("v1", "tk_e_000001", `,"body":"CANARY-7f3a"`)), 422, "events[0].body"},
		{"snippet", eventsBody(eventJSON("v1", "tk_e_000001", `,"snippet":"CANARY-7f3a"`)), 422, "events[0].snippet"},
		{"top_level_text", `{"events":[` + eventJSON("v1", "tk_e_000001", "") + `],"text":"CANARY-7f3a"}`, 422, "text"},
		{"wrong_case", eventsBody(strings.Replace(eventJSON("v1", "tk_e_000001", ""), `"id"`, `"ID"`, 1)), 422, "events[0].ID"},
		{"wrong_type", eventsBody(strings.Replace(eventJSON("v1", "tk_e_000001", ""), `"high"`, `3`, 1)), 422, "events[0].severity"},
		{"bad_category", eventsBody(strings.Replace(eventJSON("v1", "tk_e_000001", ""), "grooming", "rudeness", 1)), 422, "events[0].category"},
		{"bad_severity", eventsBody(strings.Replace(eventJSON("v1", "tk_e_000001", ""), `"high"`, `"severe"`, 1)), 422, "events[0].severity"},
		{"bad_action", eventsBody(strings.Replace(eventJSON("v1", "tk_e_000001", ""), "message_blocked", "deleted", 1)), 422, "events[0].action_taken"},
		{"bad_direction", eventsBody(strings.Replace(eventJSON("v1", "tk_e_000001", ""), "inbound", "sideways", 1)), 422, "events[0].direction"},
		{"bad_time", eventsBody(strings.Replace(eventJSON("v1", "tk_e_000001", ""), "2026-11-27T20:30:00Z", "27/11/2026", 1)), 422, "events[0].occurred_at"},
		{"future_time", eventsBody(strings.Replace(eventJSON("v1", "tk_e_000001", ""), "2026-11-27T20:30:00Z", "2026-11-27T21:30:00Z", 1)), 422, "events[0].occurred_at"},
		{"no_time", eventsBody(strings.Replace(eventJSON("v1", "tk_e_000001", ""), `,"occurred_at":"2026-11-27T20:30:00Z"`, "", 1)), 422, "events[0].occurred_at"},
		{"bad_id", eventsBody(eventJSON("evt 1", "tk_e_000001", "")), 422, "events[0].id"},
		{"long_teen_id", eventsBody(eventJSON("v1", strings.Repeat("t", 65), "")), 422, "events[0].teen_id"},
		{"bad_counterpart", eventsBody(strings.Replace(eventJSON("v1", "tk_e_000001", ""), "u_9", "u/9", 1)), 422, "events[0].counterpart_id"},
		{"no_events", `{}`, 422, "events"},
		{"zero_events", `{"events":[]}`, 422, "events"},
		{"501_events", eventsBody(many...), 422, "events"},
		{"not_json", `{"events":`, 400, ""},
		{"too_large", `{"events":[` + strings.Repeat(" ", 1<<20) + `]}`, 413, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, ct, out := w.report(t, "msg_"+c.name, c.body)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, out)
			}
			p := decodeProblem(t, ct, out)
			if c.field != "" {
				found := false
				for _, e := range p.Errors {
					found = found || e.Field == c.field
				}
				if !found {
					t.Errorf("errors %+v do not name %s", p.Errors, c.field)
				}
			}
			if strings.Contains(out, "CANARY-7f3a") {
				t.Errorf("the answer repeats what the refused field held: %s", out)
			}
		})
	}
	if n := w.remembered(t); n != 0 {
		t.Errorf("refused reports stored %d events", n)
	}
	if strings.Contains(w.app.Logs.String(), "CANARY-7f3a") {
		t.Error("a refused field's value reached the log")
	}
	// 500 is the most, and fine.
	status, _, out := w.report(t, "msg_500", eventsBody(many[:500]...))
	if got := decodeResult(t, status, out); got.Accepted != 500 {
		t.Errorf("500 events = %+v", got)
	}
}

func TestModerationEvents_RotatedSecret(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			w := newEventsWorld(t, d)
			rotated, err := w.app.Store.RotateWebhookSecret(bg, "chat", time.Hour, "")
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			send := func(secret string) int {
				n++
				body := eventsBody(eventJSON(fmt.Sprintf("r%d", n), "tk_e_000001", ""))
				s, _, _ := w.post(t, body, sign(secret, fmt.Sprintf("msg_r%d", n), w.clock(), body))
				return s
			}
			// At once, before this node's copy of the clients refreshes.
			if s := send(rotated.WebhookSecret); s != http.StatusAccepted {
				t.Errorf("the new secret right after rotating: %d, want 202", s)
			}
			if s := send(specSecret); s != http.StatusAccepted {
				t.Errorf("the old secret in its grace period: %d, want 202", s)
			}
			w.now.Add(int64(time.Hour + time.Second))
			if s := send(specSecret); s != http.StatusUnauthorized {
				t.Errorf("the old secret after its grace period: %d, want 401", s)
			}
			if s := send(rotated.WebhookSecret); s != http.StatusAccepted {
				t.Errorf("the new secret after the grace period: %d, want 202", s)
			}
			if err := w.app.Store.RevokeClient(bg, "chat"); err != nil {
				t.Fatal(err)
			}
			if s := send(rotated.WebhookSecret); s != http.StatusUnauthorized {
				t.Errorf("a revoked client: %d, want 401", s)
			}
		})
	}
}

// TestModerationEvents_SDK reports events with the Go SDK against the real
// handler: signed, accepted, and idempotent.
func TestModerationEvents_SDK(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			app := webtest.New(t, webtest.Options{Dialect: d})
			cl, key, err := app.Store.CreateClient(bg, store.NewClient{Name: "chat"})
			if err != nil {
				t.Fatal(err)
			}
			var gid int64
			q := "INSERT INTO users (email, name, role, created_at, updated_at) VALUES ('pat@example.com', 'Pat', 'guardian', ?, ?) RETURNING id"
			if d == store.Postgres {
				q = strings.NewReplacer("?, ?", "$1, $2").Replace(q)
			}
			if err := app.Store.SQLDB().QueryRowContext(bg, q, time.Now().UTC(), time.Now().UTC()).Scan(&gid); err != nil {
				t.Fatal(err)
			}
			if err := app.Store.SeedSupervisedTeens(bg, cl.ID, gid, "tk_sdk_", 2, nil); err != nil {
				t.Fatal(err)
			}
			sdk, err := hearth.New(hearth.Config{BaseURL: app.HTTP.URL, APIKey: key, WebhookSecret: cl.WebhookSecret})
			if err != nil {
				t.Fatal(err)
			}
			at := time.Now().Add(-time.Minute)
			events := []hearth.Event{
				{ID: "sdk_1", TeenID: "tk_sdk_000001", CounterpartID: "u_9", Direction: hearth.DirectionInbound, Category: hearth.CategoryGrooming,
					Severity: hearth.SeverityHigh, ActionTaken: hearth.ActionMessageBlocked, OccurredAt: at},
				{ID: "sdk_2", TeenID: "tk_sdk_000002", Direction: hearth.DirectionOutbound, Category: hearth.CategoryBullying,
					Severity: hearth.SeverityLow, ActionTaken: hearth.ActionSenderWarned, OccurredAt: at},
				{ID: "sdk_3", TeenID: "tk_nobody", Direction: hearth.DirectionInbound, Category: hearth.CategorySpam,
					Severity: hearth.SeverityLow, ActionTaken: hearth.ActionNone, OccurredAt: at},
			}
			ctx, cancel := context.WithTimeout(bg, 20*time.Second)
			defer cancel()
			res, err := sdk.ReportEvents(ctx, events)
			if err != nil || res != (hearth.ReportResult{Accepted: 2, Ignored: 1}) {
				t.Fatalf("ReportEvents = %+v, %v", res, err)
			}
			if res, err := sdk.ReportEvents(ctx, events); err != nil || res != (hearth.ReportResult{Duplicates: 2, Ignored: 1}) {
				t.Errorf("again = %+v, %v, want 2 duplicates", res, err)
			}
			wrong, _ := hearth.New(hearth.Config{BaseURL: app.HTTP.URL, APIKey: key, WebhookSecret: store.NewWebhookSecret(), Retries: -1})
			_, err = wrong.ReportEvents(ctx, events[:1])
			var he *hearth.Error
			if !errors.As(err, &he) || he.Status != http.StatusUnauthorized || he.Type != handlers.SignatureProblemType {
				t.Errorf("with the wrong secret: %v, want a 401 of the signature type", err)
			}
		})
	}
}
