package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web/jobs"
)

// Outbound webhooks: the store writes a delivery row and queues a
// deliver_webhook job in the transaction of each change (WebhookOutbox);
// the worker below posts it, signed as a Standard Webhook, to the client's
// webhook URL as it is at that moment, and records every attempt on the row.

// KindDeliverWebhook is the River job kind that delivers one webhook.
// Stored in the database: never rename it.
const KindDeliverWebhook = "deliver_webhook"

const (
	// webhookTimeout bounds one attempt, connection to last byte.
	webhookTimeout = 10 * time.Second
	// webhookJobTimeout is River's bound on one run of the job: the attempt
	// plus the two database calls around it.
	webhookJobTimeout = 30 * time.Second
	// webhookMaxAttempts is above the ~29 attempts the schedule makes in
	// models.WebhookTTL, so a delivery expires by its time, not by River
	// running out of attempts.
	webhookMaxAttempts = 50
	// webhookUserAgent names Hearth to receivers.
	webhookUserAgent = "Hearth-Webhooks/1"
)

// webhookSchedule is the wait after each failed attempt (after the first,
// 5 s; after the second, 30 s; …), then hourly until the delivery expires.
// Each wait gets up to 20% of jitter, so a receiver coming back up is not
// hit by every delivery at the same second.
var webhookSchedule = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour}

// webhookDelay is the wait, before jitter, after failed attempt n (from 1).
func webhookDelay(n int) time.Duration {
	return webhookSchedule[min(max(n, 1), len(webhookSchedule))-1]
}

// deliverWebhookArgs is the job: which delivery row to send. Everything
// else (payload, URL, secret) is read when it runs, so a retry goes to the
// client's current URL and a revoked client gets nothing.
type deliverWebhookArgs struct {
	DeliveryID int64 `json:"delivery_id"`
}

func (deliverWebhookArgs) Kind() string { return KindDeliverWebhook }

func (deliverWebhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: webhookMaxAttempts}
}

// jobEnqueuer is what queues jobs in a caller's transaction: a
// *jobs.Runner, or a *jobs.Inserter in processes without workers.
type jobEnqueuer interface {
	Enqueue(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

// WebhookOutbox lets the store queue webhook deliveries inside its own
// transactions, through the durable job queue.
type WebhookOutbox struct{ Jobs jobEnqueuer }

// EnqueueWebhook queues the delivery job for d in tx.
func (o WebhookOutbox) EnqueueWebhook(ctx context.Context, tx *sql.Tx, d models.WebhookDelivery) error {
	if tx == nil {
		return errors.New("web: a webhook is queued only in the change's transaction")
	}
	return o.Jobs.Enqueue(ctx, tx, deliverWebhookArgs{DeliveryID: d.ID}, nil)
}

// webhookWorker sends deliveries. The zero value of every field but st and
// logger has a production default (see newWebhookWorker).
type webhookWorker struct {
	river.WorkerDefaults[deliverWebhookArgs]
	st     *store.Store
	logger *slog.Logger
	http   *http.Client
	// now is the clock for expiry, the webhook-timestamp header and the
	// next attempt.
	now func() time.Time
	// delay is the wait after failed attempt n, before jitter.
	delay func(n int) time.Duration
}

func newWebhookWorker(st *store.Store, logger *slog.Logger) *webhookWorker {
	return &webhookWorker{st: st, logger: logger, http: newWebhookClient(), now: time.Now, delay: webhookDelay}
}

// newWebhookClient is the HTTP client for deliveries: a 10 s bound on each
// attempt, and redirects not followed (a 3xx is a failed attempt), so a
// receiver cannot send Hearth's requests somewhere the operator did not
// configure.
func newWebhookClient() *http.Client {
	return &http.Client{
		Timeout:       webhookTimeout,
		Transport:     http.DefaultTransport.(*http.Transport).Clone(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Timeout is River's bound on one run of the job.
func (w *webhookWorker) Timeout(*river.Job[deliverWebhookArgs]) time.Duration {
	return webhookJobTimeout
}

// NextRetry tells River when to run the job again after a failed attempt:
// the same time Work recorded on the delivery row.
func (w *webhookWorker) NextRetry(job *river.Job[deliverWebhookArgs]) time.Time {
	return w.retryAt(job)
}

// retryAt is when the attempt after job's current one is due: now plus the
// schedule's wait plus a jitter of up to 20% that depends only on the job
// and the attempt, so Work and NextRetry agree.
func (w *webhookWorker) retryAt(job *river.Job[deliverWebhookArgs]) time.Time {
	d := w.delay(job.Attempt)
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d", job.ID, job.Attempt)
	jitter := time.Duration(h.Sum64() % uint64(d/5+1))
	return w.now().Add(d + jitter)
}

// Work makes one attempt to deliver the job's delivery and records it. It
// sends nothing when the delivery is gone or finished, the client was
// revoked or has no usable URL (failed), or its time ran out (expired). A 2xx
// answer delivers it; 410 Gone fails it for good; anything else (another
// status, a timeout, a refused connection) is retried on the schedule, or
// expires it when the next attempt would come after its expiry. It returns
// an error only for an attempt to retry, or when the database could not be
// read or written. Logs carry IDs, types and statuses, never the payload.
func (w *webhookWorker) Work(ctx context.Context, job *river.Job[deliverWebhookArgs]) error {
	d, c, err := w.st.WebhookToSend(ctx, job.Args.DeliveryID)
	if errors.Is(err, models.ErrNotFound) {
		w.logger.InfoContext(ctx, "webhook: delivery gone; nothing to send", "delivery", job.Args.DeliveryID)
		return nil
	}
	if err != nil {
		return err
	}
	if d.State != models.WebhookPending {
		return nil // finished by an earlier run of this job
	}
	attrs := []any{slog.Int64("delivery", d.ID), slog.String("msg_id", d.MsgID), slog.String("type", string(d.Type)),
		slog.Int64("client", d.ClientID), slog.Int("attempt", job.Attempt)}

	now := w.now()
	var skip models.WebhookAttempt
	switch {
	case c.Revoked():
		skip = models.WebhookAttempt{State: models.WebhookFailed, Error: "not sent: the client was revoked"}
	case c.WebhookURL == "":
		skip = models.WebhookAttempt{State: models.WebhookFailed, Error: "not sent: the client has no webhook URL any more"}
	case !now.Before(d.ExpiresAt):
		skip = models.WebhookAttempt{State: models.WebhookExpired, Error: "expired before it could be sent"}
	}
	u, uerr := url.Parse(c.WebhookURL)
	// While a rotated-out secret is in its grace period the delivery
	// carries a signature with each, so a receiver verifies it whichever
	// secret it holds.
	keys, kerr := webhookKeys(c.WebhookSecrets(now))
	switch {
	case skip.State != "":
	case uerr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		// Set by an operator, and validated then; still never hand another
		// scheme to the HTTP client.
		skip = models.WebhookAttempt{State: models.WebhookFailed, Error: "not sent: the webhook URL is not an http:// or https:// URL"}
	case kerr != nil:
		skip = models.WebhookAttempt{State: models.WebhookFailed, Error: "not sent: the client's webhook secret is malformed"}
	}
	if skip.State != "" {
		skip.At = now
		w.logger.WarnContext(ctx, "webhook: "+skip.Error, append(attrs, slog.String("state", string(skip.State)))...)
		return w.record(ctx, d.ID, skip)
	}

	status, why := w.send(ctx, u, keys, d)
	if status == nil && ctx.Err() != nil {
		// River is stopping (or the job's own timeout struck): not the
		// receiver's fault, so nothing is recorded; River runs it again.
		return ctx.Err()
	}
	a := models.WebhookAttempt{Sent: true, Status: status, Error: why, At: w.now()}
	switch {
	case status != nil && *status >= 200 && *status < 300:
		a.State, a.Error = models.WebhookDelivered, ""
	case status != nil && *status == http.StatusGone:
		a.State = models.WebhookFailed
	default:
		next := w.retryAt(job)
		if job.Attempt >= job.MaxAttempts || next.After(d.ExpiresAt) {
			a.State = models.WebhookExpired
		} else {
			a.State, a.NextAttemptAt = models.WebhookPending, &next
		}
	}
	// The row keeps the start of the response body for operators; logs and
	// River's job errors get only the status, or why there was no response.
	brief := a.Error
	attrs = append(attrs, slog.String("state", string(a.State)))
	if status != nil {
		attrs = append(attrs, slog.Int("status", *status))
		brief = "HTTP " + strconv.Itoa(*status)
	} else {
		attrs = append(attrs, slog.String("error", a.Error))
	}
	if err := w.record(ctx, d.ID, a); err != nil {
		return err
	}
	switch a.State {
	case models.WebhookDelivered:
		w.logger.InfoContext(ctx, "webhook: delivered", attrs...)
		return nil
	case models.WebhookPending:
		w.logger.WarnContext(ctx, "webhook: attempt failed; will retry", append(attrs, slog.Time("next_attempt", *a.NextAttemptAt))...)
		return fmt.Errorf("webhook %s: %s", d.MsgID, brief)
	default:
		w.logger.WarnContext(ctx, "webhook: given up", attrs...)
		return nil
	}
}

// record stores an attempt; a delivery finished or deleted meanwhile is
// left as it is.
func (w *webhookWorker) record(ctx context.Context, id int64, a models.WebhookAttempt) error {
	if err := w.st.RecordWebhookAttempt(ctx, id, a); err != nil && !errors.Is(err, models.ErrNotFound) {
		return err
	}
	return nil
}

// send posts d's payload to u, signed with keys, and returns the
// response status (nil without a response) and, unless it was 2xx, why it
// did not deliver: short, with at most the first 200 characters of the
// response body.
func (w *webhookWorker) send(ctx context.Context, u *url.URL, keys [][]byte, d models.WebhookDelivery) (*int, string) {
	body := []byte(d.Payload)
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, "not sent: the webhook URL is not usable"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", webhookUserAgent)
	req.Header.Set("webhook-id", d.MsgID)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", signWebhook(keys, d.MsgID, ts, body))
	resp, err := w.http.Do(req)
	if err != nil {
		return nil, describeSendError(err, w.http.Timeout)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, models.WebhookErrorMax))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	status := resp.StatusCode
	if status >= 200 && status < 300 {
		return &status, ""
	}
	why := "HTTP " + strconv.Itoa(status)
	switch {
	case status >= 300 && status < 400:
		why += " (redirects are not followed)"
	case status == http.StatusGone:
		why += " (the receiver is gone: not retried)"
	}
	if s := strings.TrimSpace(string(bytes.ToValidUTF8(snippet, nil))); s != "" {
		why += ": " + s
	}
	return &status, why
}

// describeSendError says why a request got no response, without the URL
// (which may hold credentials) that net/http's errors repeat.
func describeSendError(err error, timeout time.Duration) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("no answer within %v", timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return "request failed: " + err.Error()
}

// webhookKeys returns the signing keys in a client's secrets ("whsec_" and
// the base64 of 24–64 bytes, as store.ValidateWebhookSecret checks): the
// current one and, during a rotation's grace period, the previous one, so
// the receiver accepts the delivery whichever it has configured.
func webhookKeys(secrets []string) ([][]byte, error) {
	keys := make([][]byte, 0, len(secrets))
	for _, s := range secrets {
		if err := store.ValidateWebhookSecret(s); err != nil {
			return nil, err
		}
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New("web: no webhook secret")
	}
	return keys, nil
}

// signWebhook returns the webhook-signature header value: for each key,
// "v1," and the base64 of HMAC-SHA256 over "id.timestamp.body",
// space-separated, as Standard Webhooks specifies.
func signWebhook(keys [][]byte, id, timestamp string, body []byte) string {
	sigs := make([]string, 0, len(keys))
	for _, key := range keys {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(id + "." + timestamp + "."))
		m.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(sigs, " ")
}

// cleanUpWebhooksArgs is the hourly job that expires deliveries whose job
// was lost and deletes finished ones past store.WebhookRetention.
type cleanUpWebhooksArgs struct{}

func (cleanUpWebhooksArgs) Kind() string { return "clean_up_webhooks" }

type cleanUpWebhooksWorker struct {
	river.WorkerDefaults[cleanUpWebhooksArgs]
	st     *store.Store
	logger *slog.Logger
}

func (w *cleanUpWebhooksWorker) Work(ctx context.Context, _ *river.Job[cleanUpWebhooksArgs]) error {
	expired, deleted, err := w.st.CleanUpWebhooks(ctx)
	if expired > 0 {
		w.logger.WarnContext(ctx, "webhook deliveries expired without their job", "deliveries", expired)
	}
	if deleted > 0 {
		w.logger.InfoContext(ctx, "deleted old webhook deliveries", "deliveries", deleted)
	}
	return err
}

// webhookJobs adds the webhook delivery worker and its hourly clean-up to a
// job configuration.
func webhookJobs(cfg jobs.Config, st *store.Store, logger *slog.Logger) jobs.Config {
	return withWebhookWorker(cfg, newWebhookWorker(st, logger), st, logger)
}

func withWebhookWorker(cfg jobs.Config, w *webhookWorker, st *store.Store, logger *slog.Logger) jobs.Config {
	cfg.Kinds = append(cfg.Kinds,
		jobs.WorkerKind[deliverWebhookArgs](w),
		jobs.WorkerKind[cleanUpWebhooksArgs](&cleanUpWebhooksWorker{st: st, logger: logger}),
	)
	cfg.Periodic = append(cfg.Periodic, jobs.PeriodicJob{ID: "clean_up_webhooks", Schedule: river.PeriodicInterval(time.Hour),
		RunOnStart: true, Args: func() (river.JobArgs, *river.InsertOpts) { return cleanUpWebhooksArgs{}, nil }})
	return cfg
}
