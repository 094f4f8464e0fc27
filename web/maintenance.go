package web

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web/jobs"
	"github.com/hearth-safety/hearth/web/mail"
)

// endAtEighteenArgs is the hourly job that ends supervision of teens who
// have turned 18. Hourly rather than daily so that, whatever the zone, the
// link ends within an hour of the month the teen comes of age.
type endAtEighteenArgs struct{}

func (endAtEighteenArgs) Kind() string { return "end_links_at_18" }

type endAtEighteenWorker struct {
	river.WorkerDefaults[endAtEighteenArgs]
	st     *store.Store
	logger *slog.Logger
}

func (w *endAtEighteenWorker) Work(ctx context.Context, _ *river.Job[endAtEighteenArgs]) error {
	n, err := w.st.EndLinksAtEighteen(ctx)
	if n > 0 {
		w.logger.InfoContext(ctx, "ended supervision of teens who turned 18", "links", n)
	}
	return err
}

// deleteExpiredArgs is the hourly job that applies the published retention
// periods (store.DeleteExpiredData): sessions, sign-in links and emailed
// links past their time, old invitations, alerts older than
// HEARTH_ALERT_RETENTION, daily rule counts older than
// models.RuleCountRetentionDays, and erasure tombstones every node has
// applied. Received event IDs are kept for good.
type deleteExpiredArgs struct{}

func (deleteExpiredArgs) Kind() string { return "delete_expired" }

type deleteExpiredWorker struct {
	river.WorkerDefaults[deleteExpiredArgs]
	st             *store.Store
	logger         *slog.Logger
	alertRetention time.Duration
}

func (w *deleteExpiredWorker) Work(ctx context.Context, _ *river.Job[deleteExpiredArgs]) error {
	r, err := w.st.DeleteExpiredData(ctx, w.alertRetention)
	if r.Total() > 0 {
		w.logger.InfoContext(ctx, "deleted data past its retention period", "tokens", r.Tokens, "invitations", r.Invitations,
			"alerts", r.Alerts, "rule_counts", r.RuleCounts, "tombstones", r.Tombstones)
	}
	return err
}

// revertGrantsArgs is the job that ends time-limited loosenings a guardian
// approved ("for 1 hour"). Every minute, so an hour means an hour.
type revertGrantsArgs struct{}

func (revertGrantsArgs) Kind() string { return "revert_expired_grants" }

type revertGrantsWorker struct {
	river.WorkerDefaults[revertGrantsArgs]
	st     *store.Store
	logger *slog.Logger
}

func (w *revertGrantsWorker) Work(ctx context.Context, _ *river.Job[revertGrantsArgs]) error {
	n, err := w.st.RevertExpiredGrants(ctx)
	if n > 0 {
		w.logger.InfoContext(ctx, "time-limited rule changes ended", "teens", n)
	}
	return err
}

// maintenance adds Hearth's scheduled jobs, and the webhook delivery
// worker (webhooks.go), to a job configuration. Alerts are kept for
// alertRetention (HEARTH_ALERT_RETENTION).
func maintenance(cfg jobs.Config, st *store.Store, logger *slog.Logger, alertRetention time.Duration) jobs.Config {
	cfg.Kinds = append(cfg.Kinds,
		jobs.WorkerKind[endAtEighteenArgs](&endAtEighteenWorker{st: st, logger: logger}),
		jobs.WorkerKind[deleteExpiredArgs](&deleteExpiredWorker{st: st, logger: logger, alertRetention: alertRetention}),
		jobs.WorkerKind[revertGrantsArgs](&revertGrantsWorker{st: st, logger: logger}),
	)
	cfg.Periodic = append(cfg.Periodic,
		jobs.PeriodicJob{ID: "end_links_at_18", Schedule: river.PeriodicInterval(time.Hour), RunOnStart: true,
			Args: func() (river.JobArgs, *river.InsertOpts) { return endAtEighteenArgs{}, nil }},
		jobs.PeriodicJob{ID: "delete_expired", Schedule: river.PeriodicInterval(time.Hour), RunOnStart: true,
			Args: func() (river.JobArgs, *river.InsertOpts) { return deleteExpiredArgs{}, nil }},
		jobs.PeriodicJob{ID: "revert_expired_grants", Schedule: river.PeriodicInterval(time.Minute), RunOnStart: true,
			Args: func() (river.JobArgs, *river.InsertOpts) { return revertGrantsArgs{}, nil }},
	)
	return webhookJobs(cfg, st, logger)
}

// Outbox lets the store queue emails inside its own transactions, through
// the durable job queue.
type Outbox struct{ Jobs emailEnqueuer }

// emailEnqueuer queues an email job in a transaction: a jobs.Runner, or a
// jobs.Inserter before the runner starts.
type emailEnqueuer interface {
	EnqueueEmail(ctx context.Context, tx *sql.Tx, m mail.Message) error
}

// EnqueueEmail queues one email in tx.
func (o Outbox) EnqueueEmail(ctx context.Context, tx *sql.Tx, to, subject, text string) error {
	return o.Jobs.EnqueueEmail(ctx, tx, mail.Message{To: to, Subject: subject, Text: text})
}
