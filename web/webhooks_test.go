package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	hearth "github.com/hearth-safety/hearth/client"
	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
	"github.com/hearth-safety/hearth/policy"
	"github.com/hearth-safety/hearth/web/jobs"
	"github.com/hearth-safety/hearth/web/mail"
)

// hookClock is a settable clock shared by the store, the worker and the
// hookReceiver, so expiry can be tested without waiting a day.
type hookClock struct{ t atomic.Int64 }

func newHookClock() *hookClock {
	c := &hookClock{}
	c.t.Store(time.Now().UnixNano())
	return c
}

func (c *hookClock) Now() time.Time      { return time.Unix(0, c.t.Load()).UTC() }
func (c *hookClock) Add(d time.Duration) { c.t.Add(int64(d)) }

// hookRequest is one request the hookReceiver got, as a messaging service's
// webhook endpoint would see it.
type hookRequest struct {
	Path      string
	ID        string
	Timestamp string
	Type      string
	Data      models.WebhookData
	Header    http.Header
	VerifyErr error
}

// hookReceiver is the messaging service's webhook endpoint: it verifies every
// request with the SDK (hearth.ParseWebhook) and answers what respond says
// (200 when nil). n counts the requests carrying that webhook-id, from 1.
type hookReceiver struct {
	srv     *httptest.Server
	secret  string
	now     func() time.Time
	respond func(w http.ResponseWriter, r *http.Request, n int)

	mu  sync.Mutex
	got []hookRequest
}

func newHookReceiver(t *testing.T, now func() time.Time) *hookReceiver {
	rv := &hookReceiver{now: now}
	rv.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := hookRequest{Path: r.URL.Path, ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"), Header: r.Header.Clone()}
		rv.mu.Lock()
		secret := rv.secret
		rv.mu.Unlock()
		hook, err := hearth.ParseWebhook(secret, r, rv.now())
		rec.VerifyErr = err
		if err == nil {
			rec.Type = hook.Type
			if err := json.Unmarshal(hook.Data, &rec.Data); err != nil {
				rec.VerifyErr = err
			}
		}
		rv.mu.Lock()
		rv.got = append(rv.got, rec)
		n := 0
		for _, g := range rv.got {
			if g.ID == rec.ID {
				n++
			}
		}
		respond := rv.respond
		rv.mu.Unlock()
		if rec.VerifyErr != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if respond != nil {
			respond(w, r, n)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rv.srv.Close)
	return rv
}

func (rv *hookReceiver) requests() []hookRequest {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]hookRequest(nil), rv.got...)
}

// memHooks records the deliveries the store queues, in place of the job
// queue, so tests can run the worker on them by hand.
type memHooks struct {
	mu sync.Mutex
	ds []models.WebhookDelivery
}

func (m *memHooks) EnqueueWebhook(_ context.Context, tx *sql.Tx, d models.WebhookDelivery) error {
	if tx == nil {
		return errors.New("no transaction")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ds = append(m.ds, d)
	return nil
}

func (m *memHooks) last(t *testing.T) models.WebhookDelivery {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.ds) == 0 {
		t.Fatal("no webhook queued")
	}
	return m.ds[len(m.ds)-1]
}

// hookWorld is a store whose client "app" has a webhook URL at a hookReceiver,
// and a 14-year-old teen, tk_maya, supervised by one guardian.
type hookWorld struct {
	st       *store.Store
	client   models.ServiceClient
	recv     *hookReceiver
	teen     models.Teen
	guardian models.Actor
}

func newHookWorld(t *testing.T, d store.Dialect, clock func() time.Time, outbox models.WebhookOutbox) *hookWorld {
	t.Helper()
	ctx := t.Context()
	st := storetest.Open(t, d, storetest.Options{Now: clock})
	if outbox != nil {
		st.SetWebhookOutbox(outbox)
	}
	rv := newHookReceiver(t, clock)
	c, _, err := st.CreateClient(ctx, store.NewClient{Name: "app", WebhookURL: rv.srv.URL + "/hooks"})
	if err != nil {
		t.Fatal(err)
	}
	rv.secret = c.WebhookSecret
	teen, _, err := st.UpsertTeen(ctx, c.ID, "tk_maya", store.TeenInput{DisplayName: "Maya", BirthMonth: "2012-06", TimeZone: "Europe/London"})
	if err != nil {
		t.Fatal(err)
	}
	now := clock()
	q := "INSERT INTO users (email, name, role, password_hash, email_verified_at, created_at, updated_at) VALUES (?, ?, 'guardian', '', ?, ?, ?)"
	sel := "SELECT id FROM users WHERE email = ?"
	if d == store.Postgres {
		q = "INSERT INTO users (email, name, role, password_hash, email_verified_at, created_at, updated_at) VALUES ($1, $2, 'guardian', '', $3, $4, $5)"
		sel = "SELECT id FROM users WHERE email = $1"
	}
	if _, err := st.SQLDB().ExecContext(ctx, q, "pat@example.com", "Pat Parent", now, now, now); err != nil {
		t.Fatal(err)
	}
	var gid int64
	if err := st.SQLDB().QueryRowContext(ctx, sel, "pat@example.com").Scan(&gid); err != nil {
		t.Fatal(err)
	}
	g := models.Actor{UserID: gid, Role: models.RoleGuardian}
	_, code, err := st.CreateInvitation(ctx, g, "Maya")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AcceptInvitation(ctx, models.Actor{UserID: teen.UserID, Role: models.RoleTeen}, code); err != nil {
		t.Fatal(err)
	}
	return &hookWorld{st: st, client: c, recv: rv, teen: teen, guardian: g}
}

// editRules changes the teen's audience as the guardian and returns the
// new version.
func (w *hookWorld) editRules(t *testing.T, audience policy.Audience) int64 {
	t.Helper()
	cur, err := w.st.TeenPolicy(t.Context(), w.guardian, w.teen.ID)
	if err != nil {
		t.Fatal(err)
	}
	next := cur
	next.Audience = audience
	p, err := w.st.UpdatePolicy(t.Context(), w.guardian, w.teen.ID, store.PolicyChange{Rules: next, ExpectVersion: cur.Version})
	if err != nil {
		t.Fatal(err)
	}
	return p.Version
}

func (w *hookWorld) delivery(t *testing.T, id int64) models.WebhookDelivery {
	t.Helper()
	d, _, err := w.st.WebhookToSend(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func webhookJob(jobID int64, attempt int, deliveryID int64) *river.Job[deliverWebhookArgs] {
	return &river.Job[deliverWebhookArgs]{
		JobRow: &rivertype.JobRow{ID: jobID, Attempt: attempt, MaxAttempts: webhookMaxAttempts, Kind: KindDeliverWebhook},
		Args:   deliverWebhookArgs{DeliveryID: deliveryID},
	}
}

// workerFixture is a hookWorld with a memHooks outbox and a worker on the
// shared clock; the teen's rules were just changed to version 2, so the
// last queued delivery is that policy.updated.
type workerFixture struct {
	*hookWorld
	clk    *hookClock
	hooks  *memHooks
	worker *webhookWorker
}

func newWorkerFixture(t *testing.T) *workerFixture {
	t.Helper()
	clk := newHookClock()
	hooks := &memHooks{}
	w := newHookWorld(t, store.SQLite, clk.Now, hooks)
	if v := w.editRules(t, policy.AudienceEveryone); v != 2 {
		t.Fatalf("version %d", v)
	}
	wk := newWebhookWorker(w.st, slog.New(slog.DiscardHandler))
	wk.now = clk.Now
	return &workerFixture{hookWorld: w, clk: clk, hooks: hooks, worker: wk}
}

func TestWebhookWorker_DeliveredOn200(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	d := f.hooks.last(t)
	if err := f.worker.Work(t.Context(), webhookJob(1, 1, d.ID)); err != nil {
		t.Fatalf("Work: %v", err)
	}
	got := f.recv.requests()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	r := got[0]
	if r.VerifyErr != nil || r.Path != "/hooks" || r.ID != d.MsgID || r.Type != "policy.updated" ||
		r.Data != (models.WebhookData{TeenID: "tk_maya", PolicyVersion: 2}) ||
		r.Header.Get("Content-Type") != "application/json" || r.Timestamp != strconv.FormatInt(f.clk.Now().Unix(), 10) {
		t.Errorf("request = %+v", r)
	}
	after := f.delivery(t, d.ID)
	if after.State != models.WebhookDelivered || after.Attempts != 1 || after.LastStatus == nil || *after.LastStatus != 200 ||
		after.DeliveredAt == nil || after.NextAttemptAt != nil || after.LastError != "" {
		t.Errorf("delivery = %+v", after)
	}
	// The job running again (River delivers at least once) sends nothing.
	if err := f.worker.Work(t.Context(), webhookJob(1, 2, d.ID)); err != nil || len(f.recv.requests()) != 1 {
		t.Errorf("second run: %v, %d requests", err, len(f.recv.requests()))
	}
}

func TestWebhookWorker_RetriesWithTheSameID(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.recv.respond = func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			http.Error(w, "database is\x00 down", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
	d := f.hooks.last(t)
	job := webhookJob(7, 1, d.ID)
	start := f.clk.Now()
	err := f.worker.Work(t.Context(), job)
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") || strings.Contains(err.Error(), "database") {
		t.Fatalf("first attempt: %v, want an error naming only the status", err)
	}
	mid := f.delivery(t, d.ID)
	if mid.State != models.WebhookPending || mid.Attempts != 1 || mid.LastStatus == nil || *mid.LastStatus != 500 ||
		mid.LastError != "HTTP 500: database is  down" || mid.NextAttemptAt == nil {
		t.Fatalf("after the 500: %+v", mid)
	}
	// 5 s plus up to 20% jitter, and River is told the same time.
	if wait := mid.NextAttemptAt.Sub(start); wait < 5*time.Second || wait > 6*time.Second {
		t.Errorf("next attempt in %v, want 5–6 s", wait)
	}
	if next := f.worker.NextRetry(job); !next.Truncate(time.Microsecond).Equal(*mid.NextAttemptAt) {
		t.Errorf("NextRetry = %v, recorded %v", next, *mid.NextAttemptAt)
	}

	f.clk.Add(6 * time.Second)
	if err := f.worker.Work(t.Context(), webhookJob(7, 2, d.ID)); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	got := f.recv.requests()
	if len(got) != 2 || got[0].ID != d.MsgID || got[1].ID != d.MsgID || got[0].Timestamp == got[1].Timestamp ||
		got[1].VerifyErr != nil || got[1].Data.PolicyVersion != 2 {
		t.Errorf("requests = %+v; want two with the same webhook-id and fresh timestamps", got)
	}
	after := f.delivery(t, d.ID)
	if after.State != models.WebhookDelivered || after.Attempts != 2 || *after.LastStatus != 204 || after.LastError != "" {
		t.Errorf("after the retry: %+v", after)
	}
}

func TestWebhookWorker_GoneFails(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.recv.respond = func(w http.ResponseWriter, _ *http.Request, _ int) { http.Error(w, "no such hook", http.StatusGone) }
	d := f.hooks.last(t)
	if err := f.worker.Work(t.Context(), webhookJob(1, 1, d.ID)); err != nil {
		t.Fatalf("Work: %v, want nil (no retry)", err)
	}
	after := f.delivery(t, d.ID)
	if after.State != models.WebhookFailed || after.Attempts != 1 || *after.LastStatus != 410 ||
		!strings.Contains(after.LastError, "410") || after.NextAttemptAt != nil {
		t.Errorf("delivery = %+v", after)
	}
}

func TestWebhookWorker_Expiry(t *testing.T) {
	t.Parallel()
	t.Run("the_next_attempt_would_be_too_late", func(t *testing.T) {
		t.Parallel()
		f := newWorkerFixture(t)
		f.recv.respond = func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusServiceUnavailable) }
		d := f.hooks.last(t)
		f.clk.Add(23*time.Hour + 30*time.Minute)
		if err := f.worker.Work(t.Context(), webhookJob(1, 20, d.ID)); err != nil {
			t.Fatalf("Work: %v, want nil (given up)", err)
		}
		after := f.delivery(t, d.ID)
		if after.State != models.WebhookExpired || after.Attempts != 1 || *after.LastStatus != 503 || len(f.recv.requests()) != 1 {
			t.Errorf("delivery = %+v", after)
		}
	})
	t.Run("past_expiry_nothing_is_sent", func(t *testing.T) {
		t.Parallel()
		f := newWorkerFixture(t)
		d := f.hooks.last(t)
		f.clk.Add(models.WebhookTTL)
		if err := f.worker.Work(t.Context(), webhookJob(1, 3, d.ID)); err != nil {
			t.Fatalf("Work: %v", err)
		}
		after := f.delivery(t, d.ID)
		if after.State != models.WebhookExpired || after.Attempts != 0 || len(f.recv.requests()) != 0 {
			t.Errorf("delivery = %+v, %d requests", after, len(f.recv.requests()))
		}
	})
	t.Run("river_out_of_attempts", func(t *testing.T) {
		t.Parallel()
		f := newWorkerFixture(t)
		f.recv.respond = func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusBadGateway) }
		d := f.hooks.last(t)
		if err := f.worker.Work(t.Context(), webhookJob(1, webhookMaxAttempts, d.ID)); err != nil {
			t.Fatalf("Work: %v", err)
		}
		if after := f.delivery(t, d.ID); after.State != models.WebhookExpired {
			t.Errorf("delivery = %+v", after)
		}
	})
}

func TestWebhookWorker_NotSent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		mutate func(t *testing.T, f *workerFixture)
		want   string
	}{
		{"revoked_client", func(t *testing.T, f *workerFixture) {
			if err := f.st.RevokeClient(t.Context(), "app"); err != nil {
				t.Fatal(err)
			}
		}, "revoked"},
		{"url_removed", func(t *testing.T, f *workerFixture) {
			if err := f.st.SetClientWebhookURL(t.Context(), "app", ""); err != nil {
				t.Fatal(err)
			}
		}, "no webhook URL"},
		{"not_http", func(t *testing.T, f *workerFixture) {
			// Only a hand-edited database can hold one: the store refuses it.
			if _, err := f.st.SQLDB().ExecContext(t.Context(), "UPDATE service_clients SET webhook_url = ?",
				"file://"+strings.TrimPrefix(f.recv.srv.URL, "http://")+"/etc/passwd"); err != nil {
				t.Fatal(err)
			}
		}, "not an http"},
		{"malformed_secret", func(t *testing.T, f *workerFixture) {
			if _, err := f.st.SQLDB().ExecContext(t.Context(), "UPDATE service_clients SET webhook_secret = 'whsec_short'"); err != nil {
				t.Fatal(err)
			}
		}, "secret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newWorkerFixture(t)
			d := f.hooks.last(t)
			tc.mutate(t, f)
			if err := f.worker.Work(t.Context(), webhookJob(1, 1, d.ID)); err != nil {
				t.Fatalf("Work: %v, want nil (not retried)", err)
			}
			after := f.delivery(t, d.ID)
			if after.State != models.WebhookFailed || after.Attempts != 0 || after.LastStatus != nil || !strings.Contains(after.LastError, tc.want) {
				t.Errorf("delivery = %+v", after)
			}
			if n := len(f.recv.requests()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

func TestWebhookWorker_RedirectsAndTimeouts(t *testing.T) {
	t.Parallel()
	t.Run("redirect_not_followed", func(t *testing.T) {
		t.Parallel()
		f := newWorkerFixture(t)
		f.recv.respond = func(w http.ResponseWriter, r *http.Request, _ int) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		}
		d := f.hooks.last(t)
		if err := f.worker.Work(t.Context(), webhookJob(1, 1, d.ID)); err == nil {
			t.Fatal("a redirect counted as delivered")
		}
		for _, r := range f.recv.requests() {
			if r.Path != "/hooks" {
				t.Errorf("followed the redirect to %s", r.Path)
			}
		}
		if after := f.delivery(t, d.ID); after.State != models.WebhookPending || *after.LastStatus != 307 ||
			!strings.Contains(after.LastError, "redirects are not followed") {
			t.Errorf("delivery = %+v", after)
		}
	})
	t.Run("timeout_is_retried", func(t *testing.T) {
		t.Parallel()
		f := newWorkerFixture(t)
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		f.recv.respond = func(w http.ResponseWriter, r *http.Request, _ int) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		f.worker.http.Timeout = 100 * time.Millisecond
		d := f.hooks.last(t)
		if err := f.worker.Work(t.Context(), webhookJob(1, 1, d.ID)); err == nil || !strings.Contains(err.Error(), "no answer within 100ms") {
			t.Fatalf("Work: %v", err)
		}
		if after := f.delivery(t, d.ID); after.State != models.WebhookPending || after.Attempts != 1 || after.LastStatus != nil ||
			after.LastError != "no answer within 100ms" {
			t.Errorf("delivery = %+v", after)
		}
	})
	t.Run("connection_refused_is_retried_without_the_url", func(t *testing.T) {
		t.Parallel()
		f := newWorkerFixture(t)
		f.recv.srv.Close()
		d := f.hooks.last(t)
		if err := f.worker.Work(t.Context(), webhookJob(1, 1, d.ID)); err == nil {
			t.Fatal("Work succeeded with the hookReceiver down")
		}
		after := f.delivery(t, d.ID)
		if after.State != models.WebhookPending || after.LastStatus != nil || !strings.HasPrefix(after.LastError, "request failed: ") ||
			strings.Contains(after.LastError, "/hooks") {
			t.Errorf("delivery = %+v", after)
		}
	})
}

func TestWebhookSchedule(t *testing.T) {
	t.Parallel()
	want := []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute,
		time.Hour, time.Hour, time.Hour}
	for i, d := range want {
		if got := webhookDelay(i + 1); got != d {
			t.Errorf("after attempt %d: %v, want %v", i+1, got, d)
		}
	}
	// Over a day the schedule makes fewer attempts than River allows, so a
	// delivery expires by its time.
	total, n := time.Duration(0), 0
	for total < models.WebhookTTL {
		n++
		total += webhookDelay(n) * 6 / 5
	}
	if n >= webhookMaxAttempts {
		t.Errorf("%d attempts in a day, River allows %d", n, webhookMaxAttempts)
	}
	clk := newHookClock()
	w := &webhookWorker{now: clk.Now, delay: webhookDelay}
	spread := map[time.Duration]bool{}
	for id := range int64(50) {
		wait := w.retryAt(webhookJob(id, 3, 1)).Sub(clk.Now())
		if wait < 2*time.Minute || wait > 2*time.Minute*6/5 {
			t.Errorf("job %d: wait %v, want 2 min plus up to 20%%", id, wait)
		}
		spread[wait] = true
	}
	if len(spread) < 40 {
		t.Errorf("only %d different waits for 50 jobs: no jitter", len(spread))
	}
}

func TestSignWebhook_RotationVerifiesWithEither(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret := store.NewWebhookSecret(), store.NewWebhookSecret()
	keys, err := webhookKeys([]string{oldSecret, newSecret})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"policy.updated"}`)
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	h := http.Header{}
	h.Set("webhook-id", "msg_1")
	h.Set("webhook-timestamp", ts)
	h.Set("webhook-signature", signWebhook(keys, "msg_1", ts, body))
	if n := len(strings.Fields(h.Get("webhook-signature"))); n != 2 {
		t.Errorf("%d signatures, want 2", n)
	}
	for _, s := range []string{oldSecret, newSecret} {
		if err := hearth.VerifyWebhook(s, h, body, now); err != nil {
			t.Errorf("VerifyWebhook: %v", err)
		}
	}
	if err := hearth.VerifyWebhook(store.NewWebhookSecret(), h, body, now); err == nil {
		t.Error("a third secret verified")
	}
	if _, err := webhookKeys([]string{"whsec_!!"}); err == nil {
		t.Error("a malformed secret gave a key")
	}
}

// TestWebhooks_EndToEnd runs River for real: a guardian's change commits a
// delivery and its job; the worker posts it; the first attempt of each
// webhook fails with 500 and River retries it with the same webhook-id.
func TestWebhooks_EndToEnd(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			logs := &strings.Builder{}
			var logMu sync.Mutex
			logger := slog.New(slog.NewTextHandler(hookLogWriter(func(p []byte) (int, error) {
				logMu.Lock()
				defer logMu.Unlock()
				return logs.Write(p)
			}), &slog.HandlerOptions{Level: slog.LevelWarn}))
			t.Cleanup(func() {
				if t.Failed() {
					logMu.Lock()
					t.Logf("logs:\n%s", logs.String())
					logMu.Unlock()
				}
			})

			// The world is built first without an outbox; the runner needs
			// the store's database.
			w := newHookWorld(t, d, time.Now, nil)
			w.recv.respond = func(rw http.ResponseWriter, _ *http.Request, n int) {
				if n == 1 {
					rw.WriteHeader(http.StatusInternalServerError)
					return
				}
				rw.WriteHeader(http.StatusOK)
			}
			cfg := jobConfig(w.st, logger, mail.NewDevMailbox(logger))
			if err := jobs.Migrate(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			wk := newWebhookWorker(w.st, logger)
			wk.delay = func(int) time.Duration { return 10 * time.Millisecond }
			runner, err := jobs.Start(ctx, withWebhookWorker(cfg, wk, w.st, logger))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := runner.Stop(sctx); err != nil {
					t.Errorf("Stop: %v", err)
				}
			})
			w.st.SetWebhookOutbox(WebhookOutbox{runner})

			version := w.editRules(t, policy.AudienceApproved)

			var got []hookRequest
			deadline := time.Now().Add(30 * time.Second)
			for {
				got = w.recv.requests()
				if len(got) >= 2 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if len(got) != 2 {
				t.Fatalf("hookReceiver got %d requests in 30 s, want 2: %+v", len(got), got)
			}
			for _, r := range got {
				if r.VerifyErr != nil {
					t.Errorf("request %s did not verify: %v", r.ID, r.VerifyErr)
				}
			}
			if got[0].ID != got[1].ID || got[0].Type != "policy.updated" ||
				got[1].Data != (models.WebhookData{TeenID: "tk_maya", PolicyVersion: version}) {
				t.Errorf("requests = %+v; want policy.updated for version %d twice under one webhook-id", got, version)
			}
			ds, err := w.st.WebhookDeliveries(ctx, models.WebhookFilter{ClientName: "app"})
			if err != nil || len(ds) != 1 {
				t.Fatalf("deliveries = %+v, %v", ds, err)
			}
			waitForWebhook(t, 10*time.Second, "the delivery to be recorded", func() bool {
				ds, _ = w.st.WebhookDeliveries(ctx, models.WebhookFilter{ClientName: "app"})
				return ds[0].State == models.WebhookDelivered
			})
			if ds[0].Attempts != 2 || *ds[0].LastStatus != 200 || ds[0].MsgID != got[0].ID {
				t.Errorf("delivery = %+v", ds[0])
			}
		})
	}
}

type hookLogWriter func(p []byte) (int, error)

func (f hookLogWriter) Write(p []byte) (int, error) { return f(p) }

func waitForWebhook(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWebhookWorker_RotatedSecret: during a rotation's grace period each
// delivery carries a signature with the new secret and one with the old, so
// a receiver verifies it with whichever it holds; after the grace period
// only the new secret signs.
func TestWebhookWorker_RotatedSecret(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	old := f.client.WebhookSecret
	rotated, err := f.st.RotateWebhookSecret(t.Context(), "app", 24*time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	audiences := []policy.Audience{policy.AudienceFriends, policy.AudienceEveryone}
	sent := len(f.recv.requests())
	deliver := func(secret string) hookRequest {
		t.Helper()
		f.recv.mu.Lock()
		f.recv.secret = secret
		f.recv.mu.Unlock()
		f.editRules(t, audiences[sent%2]) // a change each time, so a new delivery
		d := f.hooks.last(t)
		_ = f.worker.Work(t.Context(), webhookJob(d.ID, 1, d.ID))
		got := f.recv.requests()
		if len(got) != sent+1 {
			t.Fatalf("%d requests, want %d", len(got), sent+1)
		}
		sent++
		return got[len(got)-1]
	}
	for _, secret := range []string{old, rotated.WebhookSecret} {
		r := deliver(secret)
		if r.VerifyErr != nil {
			t.Errorf("in the grace period a receiver holding the %s secret refused the delivery: %v", map[bool]string{true: "old", false: "new"}[secret == old], r.VerifyErr)
		}
		if n := len(strings.Fields(r.Header.Get("webhook-signature"))); n != 2 {
			t.Errorf("in the grace period the delivery carries %d signatures, want 2", n)
		}
	}
	f.clk.Add(24*time.Hour + time.Second)
	if r := deliver(old); r.VerifyErr == nil {
		t.Error("after the grace period the old secret still verifies a delivery")
	} else if n := len(strings.Fields(r.Header.Get("webhook-signature"))); n != 1 {
		t.Errorf("after the grace period the delivery carries %d signatures, want 1", n)
	}
	if r := deliver(rotated.WebhookSecret); r.VerifyErr != nil {
		t.Errorf("after the grace period the new secret does not verify: %v", r.VerifyErr)
	}
}
