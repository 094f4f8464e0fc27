package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/policy"
)

const hookURL = "https://hooks.example/hearth"

// tableHooks is a fake webhook outbox that writes each job into a table
// through the caller's transaction, as the real job queue does: reading it
// back shows only the jobs of changes that committed.
type tableHooks struct{ s *store.Store }

func newHooks(t *testing.T, s *store.Store) *tableHooks {
	t.Helper()
	rawExec(t, s, "CREATE TABLE test_webhook_jobs (delivery_id BIGINT NOT NULL, msg_id TEXT NOT NULL)")
	h := &tableHooks{s: s}
	s.SetWebhookOutbox(h)
	return h
}

func (h *tableHooks) EnqueueWebhook(ctx context.Context, tx *sql.Tx, d models.WebhookDelivery) error {
	if tx == nil {
		return errors.New("webhook queued outside a transaction")
	}
	if d.ID == 0 || d.State != models.WebhookPending {
		return fmt.Errorf("queued delivery %+v", d)
	}
	_, err := tx.ExecContext(ctx, rebind(h.s, "INSERT INTO test_webhook_jobs (delivery_id, msg_id) VALUES (?, ?)"), d.ID, d.MsgID)
	return err
}

// hookEvent is one delivery as a test checks it.
type hookEvent struct {
	ClientID int64
	Type     models.WebhookType
	Data     models.WebhookData
}

// hookWorld is a world whose client has a webhook URL and whose store has
// a webhook outbox.
type hookWorld struct {
	*world
	hooks *tableHooks
}

func eachHookWorld(t *testing.T, fn func(t *testing.T, w *hookWorld)) {
	eachWorld(t, func(t *testing.T, w *world) {
		if err := w.s.SetClientWebhookURL(ctx, w.client.Name, hookURL); err != nil {
			t.Fatal(err)
		}
		fn(t, &hookWorld{world: w, hooks: newHooks(t, w.s)})
	})
}

// events returns every delivery row after the first `after`, oldest first,
// checking each against its job row and its payload's shape.
func (w *hookWorld) events(t *testing.T, after int) []hookEvent {
	t.Helper()
	rows, err := w.s.SQLDB().QueryContext(ctx, `SELECT d.id, d.client_id, d.msg_id, d.event_type, d.payload, d.state, d.created_at,
		d.expires_at, (SELECT COUNT(*) FROM test_webhook_jobs j WHERE j.delivery_id = d.id AND j.msg_id = d.msg_id)
		FROM webhook_deliveries d ORDER BY d.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []hookEvent
	for rows.Next() {
		var id, client int64
		var msgID, typ, payload, state string
		var created, expires time.Time
		var jobs int
		if err := rows.Scan(&id, &client, &msgID, &typ, &payload, &state, &created, &expires, &jobs); err != nil {
			t.Fatal(err)
		}
		if jobs != 1 {
			t.Errorf("delivery %d has %d jobs, want 1", id, jobs)
		}
		if !strings.HasPrefix(msgID, "msg_") || len(msgID) < 20 || state != "pending" || !expires.Equal(created.Add(24*time.Hour)) {
			t.Errorf("delivery %d: msg_id %q, state %q, created %v, expires %v", id, msgID, state, created, expires)
		}
		var p struct {
			Type      string          `json:"type"`
			Timestamp string          `json:"timestamp"`
			Data      json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(payload), &p); err != nil || p.Type != typ {
			t.Fatalf("payload %s (%v)", payload, err)
		}
		if ts, err := time.Parse(time.RFC3339, p.Timestamp); err != nil || !ts.Equal(created) {
			t.Errorf("payload timestamp %q (%v), want %v", p.Timestamp, err, created)
		}
		var data map[string]any
		_ = json.Unmarshal(p.Data, &data)
		for k := range data {
			if k != "teen_id" && k != "policy_version" && k != "reason" {
				t.Errorf("payload has %q: %s", k, payload)
			}
		}
		e := hookEvent{ClientID: client, Type: models.WebhookType(typ)}
		if err := json.Unmarshal(p.Data, &e.Data); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n := rawInt(t, w.s, "SELECT COUNT(*) FROM test_webhook_jobs"); n != len(out) {
		t.Errorf("%d jobs for %d deliveries", n, len(out))
	}
	if after > len(out) {
		t.Fatalf("%d deliveries, fewer than the %d before", len(out), after)
	}
	return out[after:]
}

// expectOne runs change and checks that it made exactly one delivery, want.
func (w *hookWorld) expectOne(t *testing.T, want hookEvent, change func()) {
	t.Helper()
	before := len(w.events(t, 0))
	change()
	got := w.events(t, before)
	if len(got) != 1 || got[0] != want {
		t.Errorf("deliveries = %+v, want exactly %+v", got, want)
	}
}

// expectNone runs change and checks that it made no delivery.
func (w *hookWorld) expectNone(t *testing.T, change func()) {
	t.Helper()
	before := len(w.events(t, 0))
	change()
	if got := w.events(t, before); len(got) != 0 {
		t.Errorf("deliveries = %+v, want none", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestStore_Webhooks_PolicyUpdated(t *testing.T) {
	eachHookWorld(t, func(t *testing.T, w *hookWorld) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06") // 14
		leo, leoP := w.teen(t, "Leo", "2010-06")    // 16
		pat, cam := w.guardian(t, "Pat Parent"), w.guardian(t, "Cam Coparent")
		w.link(t, pat, mayaP)
		w.link(t, cam, mayaP)
		w.link(t, pat, leoP)
		updated := func(teen models.Teen, version int64) hookEvent {
			return hookEvent{ClientID: w.client.ID, Type: models.WebhookPolicyUpdated,
				Data: models.WebhookData{TeenID: teen.PlatformUserID, PolicyVersion: version}}
		}

		t.Run("guardian_edit", func(t *testing.T) {
			w.expectOne(t, updated(maya, 2), func() {
				_, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) { p.MinSenderAccountAgeDays = 7 })
				must(t, err)
			})
		})
		t.Run("same_rules_send_nothing", func(t *testing.T) {
			w.expectNone(t, func() {
				_, err := edit(t, s, pat.Actor, maya.ID, func(*models.DMPolicy) {})
				must(t, err)
			})
		})
		t.Run("refused_edit_sends_nothing", func(t *testing.T) {
			w.expectNone(t, func() {
				_, err := edit(t, s, mayaP.Actor, maya.ID, func(p *models.DMPolicy) { p.Audience = policy.AudienceEveryone })
				if !errors.Is(err, models.ErrNeedsApproval) {
					t.Errorf("a 14-year-old loosened: %v", err)
				}
			})
		})
		t.Run("teen_edit", func(t *testing.T) {
			w.expectOne(t, updated(leo, 2), func() {
				_, err := edit(t, s, leoP.Actor, leo.ID, func(p *models.DMPolicy) { p.Audience = policy.AudienceEveryone })
				must(t, err)
			})
		})
		t.Run("approved_loosening_then_revert", func(t *testing.T) {
			cur := rulesOf(t, s, mayaP.Actor, maya.ID)
			next := cur
			next.Audience = policy.AudienceEveryone
			var r models.Request
			w.expectNone(t, func() {
				var err error
				r, err = s.RequestLoosening(ctx, mayaP.Actor, store.PolicyChange{Rules: next, ExpectVersion: cur.Version, Reason: "club chat"})
				must(t, err)
			})
			w.expectOne(t, updated(maya, cur.Version+1), func() {
				must(t, s.DecideLoosening(ctx, cam.Actor, r.ID, true, "", models.GrantOneHour))
			})
			w.c.Add(time.Hour)
			w.expectOne(t, updated(maya, cur.Version+2), func() {
				n, err := s.RevertExpiredGrants(ctx)
				if err != nil || n != 1 {
					t.Errorf("RevertExpiredGrants = %d, %v", n, err)
				}
			})
			w.expectNone(t, func() {
				n, err := s.RevertExpiredGrants(ctx)
				if err != nil || n != 0 {
					t.Errorf("RevertExpiredGrants again = %d, %v", n, err)
				}
			})
		})
		t.Run("time_zone_change_keeps_the_version_and_sends_nothing", func(t *testing.T) {
			w.expectNone(t, func() {
				_, _, err := s.UpsertTeen(ctx, w.client.ID, maya.PlatformUserID,
					store.TeenInput{DisplayName: "Maya", BirthMonth: "2012-06", TimeZone: "Asia/Tokyo"})
				must(t, err)
			})
		})
	})
}

func TestStore_Webhooks_Supervision(t *testing.T) {
	eachHookWorld(t, func(t *testing.T, w *hookWorld) {
		s := w.s
		event := func(teen models.Teen, typ models.WebhookType, version int64, reason models.EndReason) hookEvent {
			return hookEvent{ClientID: w.client.ID, Type: typ,
				Data: models.WebhookData{TeenID: teen.PlatformUserID, PolicyVersion: version, Reason: reason}}
		}
		started := func(teen models.Teen, version int64) hookEvent {
			return event(teen, models.WebhookSupervisionStarted, version, "")
		}
		ended := func(teen models.Teen, version int64, reason models.EndReason) hookEvent {
			return event(teen, models.WebhookSupervisionEnded, version, reason)
		}

		t.Run("start_end_and_start_again", func(t *testing.T) {
			maya, mayaP := w.teen(t, "Maya", "2012-06")
			pat, cam := w.guardian(t, "Pat Parent"), w.guardian(t, "Cam Coparent")
			var patLink, camLink models.Link
			w.expectOne(t, started(maya, 1), func() { patLink = w.link(t, pat, mayaP) })
			w.expectNone(t, func() { camLink = w.link(t, cam, mayaP) })
			w.expectNone(t, func() { must(t, s.EndLink(ctx, cam.Actor, camLink.ID, "")) })
			w.expectOne(t, ended(maya, 1, models.EndGuardianEnded), func() { must(t, s.EndLink(ctx, pat.Actor, patLink.ID, "")) })
			// Supervision starting again resets the rules to the age
			// defaults at the next version: supervision.started says so.
			w.expectOne(t, started(maya, 2), func() { w.link(t, cam, mayaP) })
		})
		t.Run("teen_ended", func(t *testing.T) {
			leo, leoP := w.teen(t, "Leo", "2010-06") // 16
			pat := w.guardian(t, "Pat Parent")
			l := w.link(t, pat, leoP)
			w.expectOne(t, ended(leo, 1, models.EndTeenEnded), func() { must(t, s.EndLink(ctx, leoP.Actor, l.ID, "")) })
		})
		t.Run("request_approved", func(t *testing.T) {
			sam, samP := w.teen(t, "Sam", "2012-02") // 14
			gil := w.guardian(t, "Gil Guardian")
			l := w.link(t, gil, samP)
			r, err := s.RequestEndSupervision(ctx, samP.Actor, l.ID, "I'd like privacy")
			must(t, err)
			w.expectNone(t, func() { must(t, s.DecideRequest(ctx, gil.Actor, r.ID, false, "")) })
			r, err = s.RequestEndSupervision(ctx, samP.Actor, l.ID, "please")
			must(t, err)
			w.expectOne(t, ended(sam, 1, models.EndRequestApproved), func() { must(t, s.DecideRequest(ctx, gil.Actor, r.ID, true, "")) })
		})
		t.Run("turned_18", func(t *testing.T) {
			ava, avaP := w.teen(t, "Ava", "2009-01") // 17; 18 on 2027-01-01
			pat, cam := w.guardian(t, "Pat Parent"), w.guardian(t, "Cam Coparent")
			w.link(t, pat, avaP)
			w.link(t, cam, avaP)
			w.c.t.Store(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
			// Two links end, one event: when the last one does.
			w.expectOne(t, ended(ava, 1, models.EndTurned18), func() {
				if _, err := s.EndLinksAtEighteen(ctx); err != nil {
					t.Fatal(err)
				}
			})
		})
	})
}

func TestStore_Webhooks_WhoGetsThem(t *testing.T) {
	eachHookWorld(t, func(t *testing.T, w *hookWorld) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		pat, cam := w.guardian(t, "Pat Parent"), w.guardian(t, "Cam Coparent")
		w.link(t, pat, mayaP)
		w.link(t, cam, mayaP)

		other, _ := newClient(t, s, "other app")
		must(t, s.SetClientWebhookURL(ctx, other.Name, "http://other.example/hooks"))
		silent, _ := newClient(t, s, "no hooks app")
		provision := func(c models.ServiceClient, id string) (models.Teen, party) {
			tn, _, err := s.UpsertTeen(ctx, c.ID, id, store.TeenInput{DisplayName: "Kim", BirthMonth: "2012-06", TimeZone: "Europe/London"})
			must(t, err)
			return tn, party{Actor: models.Actor{UserID: tn.UserID, Role: models.RoleTeen}, Name: "Kim"}
		}

		t.Run("only_the_teens_own_client", func(t *testing.T) {
			// The same platform ID at another client is another teen.
			kim, kimP := provision(other, maya.PlatformUserID)
			w.expectOne(t, hookEvent{ClientID: other.ID, Type: models.WebhookSupervisionStarted,
				Data: models.WebhookData{TeenID: kim.PlatformUserID, PolicyVersion: 1}}, func() { w.link(t, pat, kimP) })
			w.expectOne(t, hookEvent{ClientID: w.client.ID, Type: models.WebhookPolicyUpdated,
				Data: models.WebhookData{TeenID: maya.PlatformUserID, PolicyVersion: 2}}, func() {
				_, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) { p.MediaFriendsOnly = false })
				must(t, err)
			})
		})
		t.Run("client_without_url_gets_none", func(t *testing.T) {
			_, kimP := provision(silent, "tk_silent")
			w.expectNone(t, func() { w.link(t, cam, kimP) })
		})
		t.Run("client_whose_url_was_removed_gets_none", func(t *testing.T) {
			must(t, s.SetClientWebhookURL(ctx, w.client.Name, ""))
			defer func() { must(t, s.SetClientWebhookURL(ctx, w.client.Name, hookURL)) }()
			w.expectNone(t, func() {
				_, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) { p.MinSenderAccountAgeDays = 3 })
				must(t, err)
			})
		})
		t.Run("revoked_client_gets_none", func(t *testing.T) {
			kim, kimP := provision(other, "tk_revoked")
			w.link(t, cam, kimP)
			must(t, s.RevokeClient(ctx, other.Name))
			w.expectNone(t, func() {
				_, err := edit(t, s, cam.Actor, kim.ID, func(p *models.DMPolicy) { p.MinSenderAccountAgeDays = 3 })
				must(t, err)
			})
		})
		t.Run("without_an_outbox_nothing_is_recorded", func(t *testing.T) {
			s.SetWebhookOutbox(nil)
			defer s.SetWebhookOutbox(w.hooks)
			w.expectNone(t, func() {
				_, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) { p.MinSenderAccountAgeDays = 4 })
				must(t, err)
			})
		})
	})
}

// failingMail fails every email, after the change's webhook was queued in
// the same transaction.
type failingMail struct{}

func (failingMail) EnqueueEmail(context.Context, *sql.Tx, string, string, string) error {
	return errors.New("mail queue down")
}

// failingHooks queues the job, then fails.
type failingHooks struct{ *tableHooks }

func (f failingHooks) EnqueueWebhook(ctx context.Context, tx *sql.Tx, d models.WebhookDelivery) error {
	if err := f.tableHooks.EnqueueWebhook(ctx, tx, d); err != nil {
		return err
	}
	return errors.New("job queue down")
}

func TestStore_Webhooks_RolledBackChangeSendsNothing(t *testing.T) {
	eachHookWorld(t, func(t *testing.T, w *hookWorld) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		pat, cam := w.guardian(t, "Pat Parent"), w.guardian(t, "Cam Coparent")
		w.link(t, pat, mayaP)
		camLink := w.link(t, cam, mayaP)

		t.Run("a_later_step_fails", func(t *testing.T) {
			// The change emails Cam after queueing the webhook; the email
			// failing rolls everything back.
			s.SetOutbox(failingMail{}, testBaseURL)
			defer s.SetOutbox(w.out, testBaseURL)
			w.expectNone(t, func() {
				if _, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) { p.MinSenderAccountAgeDays = 7 }); err == nil {
					t.Fatal("the change committed although its email could not be queued")
				}
			})
			if p := rulesOf(t, s, pat.Actor, maya.ID); p.Version != 1 {
				t.Errorf("version %d after a rolled-back change", p.Version)
			}
		})
		t.Run("queueing_the_job_fails", func(t *testing.T) {
			s.SetWebhookOutbox(failingHooks{w.hooks})
			defer s.SetWebhookOutbox(w.hooks)
			w.expectNone(t, func() {
				if err := s.EndLink(ctx, cam.Actor, camLink.ID, ""); err != nil {
					t.Fatal(err) // not the last link: no event, so nothing fails
				}
				if _, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) { p.MinSenderAccountAgeDays = 7 }); err == nil {
					t.Fatal("the change committed although its webhook could not be queued")
				}
			})
			if p := rulesOf(t, s, pat.Actor, maya.ID); p.Version != 1 {
				t.Errorf("version %d after a rolled-back change", p.Version)
			}
		})
	})
}

func TestStore_WebhookDeliveries(t *testing.T) {
	eachHookWorld(t, func(t *testing.T, w *hookWorld) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		pat := w.guardian(t, "Pat Parent")
		w.link(t, pat, mayaP)
		for i := range 3 {
			w.c.Add(time.Minute)
			_, err := edit(t, s, pat.Actor, maya.ID, func(p *models.DMPolicy) { p.MinSenderAccountAgeDays = i + 1 })
			must(t, err)
		}
		all, err := s.WebhookDeliveries(ctx, models.WebhookFilter{ClientName: w.client.Name})
		if err != nil || len(all) != 4 {
			t.Fatalf("WebhookDeliveries = %d, %v", len(all), err)
		}
		newest := all[0]
		if newest.Type != models.WebhookPolicyUpdated || newest.TeenPlatformID != maya.PlatformUserID || newest.Attempts != 0 ||
			newest.State != models.WebhookPending || newest.NextAttemptAt == nil || !newest.CreatedAt.Equal(day0.Add(3*time.Minute)) ||
			!strings.Contains(newest.Payload, `"policy_version":4`) || all[3].Type != models.WebhookSupervisionStarted {
			t.Errorf("deliveries = %+v", all)
		}

		t.Run("attempts", func(t *testing.T) {
			d, c, err := s.WebhookToSend(ctx, newest.ID)
			if err != nil || d.MsgID != newest.MsgID || c.ID != w.client.ID || c.WebhookURL != hookURL || c.WebhookSecret == "" {
				t.Fatalf("WebhookToSend = %+v, %+v, %v", d, c, err)
			}
			s500, s200 := 500, 200
			next := day0.Add(time.Hour)
			long := "HTTP 500: " + strings.Repeat("é", 300) + "\nsecond line"
			must(t, s.RecordWebhookAttempt(ctx, d.ID, models.WebhookAttempt{Sent: true, Status: &s500, Error: long,
				State: models.WebhookPending, NextAttemptAt: &next, At: day0}))
			d, _, _ = s.WebhookToSend(ctx, d.ID)
			if d.Attempts != 1 || d.LastStatus == nil || *d.LastStatus != 500 || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(next) ||
				len([]rune(d.LastError)) != models.WebhookErrorMax || strings.Contains(d.LastError, "\n") || d.State != models.WebhookPending {
				t.Errorf("after a failed attempt: %+v (error %d characters)", d, len([]rune(d.LastError)))
			}
			must(t, s.RecordWebhookAttempt(ctx, d.ID, models.WebhookAttempt{Sent: true, Status: &s200, State: models.WebhookDelivered, At: day0.Add(time.Minute)}))
			d, _, _ = s.WebhookToSend(ctx, d.ID)
			if d.Attempts != 2 || *d.LastStatus != 200 || d.LastError != "" || d.State != models.WebhookDelivered ||
				d.DeliveredAt == nil || !d.DeliveredAt.Equal(day0.Add(time.Minute)) || d.NextAttemptAt != nil {
				t.Errorf("after delivery: %+v", d)
			}
			// A finished delivery is never revived by a late attempt.
			err = s.RecordWebhookAttempt(ctx, d.ID, models.WebhookAttempt{Sent: true, Status: &s500, State: models.WebhookPending, At: day0})
			if !errors.Is(err, models.ErrNotFound) {
				t.Errorf("attempt on a delivered delivery: %v", err)
			}
			// Not sent: the attempt count stays.
			must(t, s.RecordWebhookAttempt(ctx, all[1].ID, models.WebhookAttempt{State: models.WebhookFailed, Error: "not sent: revoked", At: day0}))
			if d, _, _ := s.WebhookToSend(ctx, all[1].ID); d.Attempts != 0 || d.State != models.WebhookFailed || d.LastStatus != nil {
				t.Errorf("after a skip: %+v", d)
			}
			if _, _, err := s.WebhookToSend(ctx, 999999); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("missing delivery: %v", err)
			}
		})
		t.Run("filter_and_limit", func(t *testing.T) {
			failed := models.WebhookFailed
			got, err := s.WebhookDeliveries(ctx, models.WebhookFilter{ClientName: w.client.Name, State: &failed})
			if err != nil || len(got) != 1 || got[0].ID != all[1].ID {
				t.Errorf("failed ones = %+v, %v", got, err)
			}
			got, err = s.WebhookDeliveries(ctx, models.WebhookFilter{ClientName: w.client.Name, Limit: 2})
			if err != nil || len(got) != 2 || got[0].ID != all[0].ID {
				t.Errorf("limit 2 = %+v, %v", got, err)
			}
			if _, err := s.WebhookDeliveries(ctx, models.WebhookFilter{ClientName: "nobody"}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("unknown client: %v", err)
			}
			if _, err := s.WebhookDeliveries(ctx, models.WebhookFilter{ClientName: w.client.Name, Limit: 1001}); models.FieldErrors(err)["limit"] == "" {
				t.Errorf("limit 1001: %v", err)
			}
			bad := models.WebhookState("lost")
			if _, err := s.WebhookDeliveries(ctx, models.WebhookFilter{ClientName: w.client.Name, State: &bad}); models.FieldErrors(err)["state"] == "" {
				t.Errorf("bad state: %v", err)
			}
		})
		t.Run("clean_up", func(t *testing.T) {
			w.c.Add(24*time.Hour + 30*time.Minute)
			if exp, del, err := s.CleanUpWebhooks(ctx); err != nil || exp != 0 || del != 0 {
				t.Errorf("within the grace hour: expired %d, deleted %d, %v", exp, del, err)
			}
			w.c.Add(time.Hour)
			if exp, del, err := s.CleanUpWebhooks(ctx); err != nil || exp != 2 || del != 0 {
				t.Errorf("past it: expired %d, deleted %d, %v; want 2 expired", exp, del, err)
			}
			w.c.Add(store.WebhookRetention)
			if exp, del, err := s.CleanUpWebhooks(ctx); err != nil || exp != 0 || del != 4 {
				t.Errorf("after retention: expired %d, deleted %d, %v; want 4 deleted", exp, del, err)
			}
		})
	})
}

func TestStore_SetClientWebhookURL(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		for _, bad := range []string{"ftp://hooks.example/x", "hooks.example/x", "https://", "javascript:alert(1)", "file:///etc/passwd"} {
			if err := s.SetClientWebhookURL(ctx, w.client.Name, bad); models.FieldErrors(err)["webhook_url"] == "" {
				t.Errorf("%q: %v, want a webhook_url error", bad, err)
			}
		}
		must(t, s.SetClientWebhookURL(ctx, w.client.Name, hookURL))
		cs, _ := s.Clients(ctx)
		if cs[0].WebhookURL != hookURL {
			t.Errorf("URL = %q", cs[0].WebhookURL)
		}
		must(t, s.SetClientWebhookURL(ctx, w.client.Name, ""))
		if err := s.SetClientWebhookURL(ctx, "nobody", hookURL); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown client: %v", err)
		}
		must(t, s.RevokeClient(ctx, w.client.Name))
		if err := s.SetClientWebhookURL(ctx, w.client.Name, hookURL); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("revoked client: %v", err)
		}
	})
}
