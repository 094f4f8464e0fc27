package web

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/hearth-safety/hearth/models"
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

// deleteExpiredArgs is the hourly job that deletes sessions, sign-in links
// and emailed tokens past their time, and daily rule counts older than
// models.RuleCountRetentionDays.
type deleteExpiredArgs struct{}

func (deleteExpiredArgs) Kind() string { return "delete_expired" }

type deleteExpiredWorker struct {
	river.WorkerDefaults[deleteExpiredArgs]
	st     *store.Store
	logger *slog.Logger
}

func (w *deleteExpiredWorker) Work(ctx context.Context, _ *river.Job[deleteExpiredArgs]) error {
	n, err := w.st.DeleteExpired(ctx)
	if n > 0 {
		w.logger.InfoContext(ctx, "deleted expired sessions and tokens", "rows", n)
	}
	rc, rerr := w.st.DeleteOldRuleCounts(ctx, w.st.Now().AddDate(0, 0, -models.RuleCountRetentionDays))
	if rc > 0 {
		w.logger.InfoContext(ctx, "deleted old daily rule counts", "rows", rc)
	}
	return errors.Join(err, rerr)
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
// worker (webhooks.go), to a job configuration.
func maintenance(cfg jobs.Config, st *store.Store, logger *slog.Logger) jobs.Config {
	cfg.Kinds = append(cfg.Kinds,
		jobs.WorkerKind[endAtEighteenArgs](&endAtEighteenWorker{st: st, logger: logger}),
		jobs.WorkerKind[deleteExpiredArgs](&deleteExpiredWorker{st: st, logger: logger}),
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
