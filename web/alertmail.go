package web

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web/jobs"
)

// Alert emails: the store tells AlertEmails, inside each ingest
// transaction, which alerts it stored; AlertEmails queues one notify_alerts
// job in that transaction, whose worker queues the immediate emails (see
// store.QueueAlertEmails). The hourly send_weekly_digests job sends the
// weekly digests (store.SendWeeklyDigests).

// Job kinds of the alert emails. Stored in the database: never rename them.
const (
	KindNotifyAlerts      = "notify_alerts"
	KindSendWeeklyDigests = "send_weekly_digests"
)

// notifyAlertsMaxAttempts bounds retries: with River's attempt^4 seconds
// backoff the last comes about 11 hours after the first, after which an
// email that late would no longer be "at once".
const notifyAlertsMaxAttempts = 15

// notifyAlertsArgs is the job: which alerts one ingest transaction stored
// or grew. Everything else is read when it runs, so a retry sees the
// links and preferences as they are then.
type notifyAlertsArgs struct {
	AlertIDs []int64 `json:"alert_ids"`
}

func (notifyAlertsArgs) Kind() string { return KindNotifyAlerts }

func (notifyAlertsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: notifyAlertsMaxAttempts}
}

// AlertEmails is the store's models.AlertNotifier: it queues one durable
// notify_alerts job per ingest transaction, in that transaction, so the
// emails follow exactly the alerts that committed.
type AlertEmails struct{ Jobs jobEnqueuer }

// AlertsStored queues the notify_alerts job for alertIDs in tx. Nothing is
// queued for an empty list.
func (n AlertEmails) AlertsStored(ctx context.Context, tx *sql.Tx, alertIDs []int64) error {
	if len(alertIDs) == 0 {
		return nil
	}
	if tx == nil {
		return errors.New("web: alert emails are queued only in the ingest transaction")
	}
	return n.Jobs.Enqueue(ctx, tx, notifyAlertsArgs{AlertIDs: slices.Clone(alertIDs)}, nil)
}

// notifyAlertsWorker queues the immediate emails for a job's alerts. The
// store records per alert and guardian who was emailed, in the same
// transaction as the emails, so a retried job emails nobody twice.
type notifyAlertsWorker struct {
	river.WorkerDefaults[notifyAlertsArgs]
	st     *store.Store
	logger *slog.Logger
}

func (w *notifyAlertsWorker) Work(ctx context.Context, job *river.Job[notifyAlertsArgs]) error {
	n, err := w.st.QueueAlertEmails(ctx, job.Args.AlertIDs)
	if err != nil {
		return err
	}
	if n > 0 {
		w.logger.InfoContext(ctx, "alert emails queued", "alerts", len(job.Args.AlertIDs), "emails", n)
	}
	return nil
}

// weeklyDigestArgs is the hourly job that sends the weekly digests that
// are due. Unique per hour: when leadership moves between `hearth serve`
// processes, or one restarts, the periodic insert may happen twice in an
// hour, and the second is dropped. Two runs would still send nothing twice
// (the store claims each guardian's week), but need not run at all.
type weeklyDigestArgs struct{}

func (weeklyDigestArgs) Kind() string { return KindSendWeeklyDigests }

func (weeklyDigestArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

type weeklyDigestWorker struct {
	river.WorkerDefaults[weeklyDigestArgs]
	st     *store.Store
	logger *slog.Logger
}

// Work sends the digests that are due. A guardian whose digest failed is
// still due, and gets it when River retries the job.
func (w *weeklyDigestWorker) Work(ctx context.Context, _ *river.Job[weeklyDigestArgs]) error {
	n, err := w.st.SendWeeklyDigests(ctx)
	if n > 0 {
		w.logger.InfoContext(ctx, "weekly digests queued", "emails", n)
	}
	return err
}

// alertEmailJobs adds the alert email workers and the hourly digest run to
// a job configuration.
func alertEmailJobs(cfg jobs.Config, st *store.Store, logger *slog.Logger) jobs.Config {
	cfg.Kinds = append(cfg.Kinds,
		jobs.WorkerKind[notifyAlertsArgs](&notifyAlertsWorker{st: st, logger: logger}),
		jobs.WorkerKind[weeklyDigestArgs](&weeklyDigestWorker{st: st, logger: logger}),
	)
	cfg.Periodic = append(cfg.Periodic, jobs.PeriodicJob{ID: KindSendWeeklyDigests, Schedule: river.PeriodicInterval(time.Hour),
		RunOnStart: true, Args: func() (river.JobArgs, *river.InsertOpts) { return weeklyDigestArgs{}, nil }})
	return cfg
}
