// Package jobs runs Hearth's durable background jobs with River
// (github.com/riverqueue/river), on the same database as the rest of Hearth:
// SQLite through the riversqlite driver, Postgres through riverdatabasesql.
//
// # Lifecycle
//
//	jobs.Migrate(ctx, cfg)          // River's own tables; at start and by `hearth migrate`
//	r, err := jobs.Start(ctx, cfg)  // `hearth serve`: workers and periodic jobs
//	defer r.Stop(shutdownCtx)       // before the database is closed
//	ins, err := jobs.NewInserter(cfg) // CLI commands: insert only, no workers
//
// # Outbox semantics
//
// EnqueueEmail (and Enqueue) take the caller's *sql.Tx. The job row is
// written in that transaction, so the job exists only if the change that
// caused it commits: a password-reset email goes out only when the reset
// token was stored, and never for a rolled-back change. With a gorm
// transaction the *sql.Tx is tx.Statement.ConnPool.(*sql.Tx) (gorm opened
// without PrepareStmt). With a nil tx the job is inserted on its own.
//
// On SQLite the pool has a single connection (SetMaxOpenConns(1)), shared by
// gorm, River's workers and River's maintenance. Never enqueue with a nil tx,
// nor run any other query outside the transaction, while holding a
// transaction on that pool: the call would wait for the connection the
// transaction holds, forever. Keep transactions short, since River waits for
// them too.
//
// # Adding a job kind
//
// A later feature adds a kind in three steps, without touching this package:
//
//	type RetentionArgs struct{}
//	func (RetentionArgs) Kind() string { return "retention" }
//
//	type RetentionWorker struct {
//		river.WorkerDefaults[RetentionArgs]
//		Store *store.Store
//	}
//	func (w *RetentionWorker) Work(ctx context.Context, job *river.Job[RetentionArgs]) error { … }
//
//	cfg.Kinds = append(cfg.Kinds, jobs.WorkerKind[RetentionArgs](&RetentionWorker{Store: s}))
//	cfg.Periodic = append(cfg.Periodic, jobs.PeriodicJob{
//		ID:       "retention",
//		Schedule: river.PeriodicInterval(time.Hour),
//		Args:     func() (river.JobArgs, *river.InsertOpts) { return RetentionArgs{}, nil },
//	})
//
// and inserts jobs of that kind with Runner.Enqueue or Inserter.Enqueue.
// Kinds run on QueueDefault unless their args' InsertOpts name another queue;
// emails have QueueEmail to themselves, so a slow mail server never holds up
// other work. Kind names are stored in the database: never rename one that
// has shipped.
package jobs

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/hearth-safety/hearth/web/mail"
)

// Dialect names the database River runs on.
type Dialect string

// The dialects Hearth supports.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Queues. Each gets Config.Workers workers.
const (
	// QueueDefault is where job kinds go unless they say otherwise.
	QueueDefault = river.QueueDefault
	// QueueEmail holds only send_email jobs.
	QueueEmail = "email"
)

// DefaultWorkers is the number of workers per queue when Config.Workers is 0.
const DefaultWorkers = 4

// Config says where River's tables live and what the workers use. The same
// Config serves Migrate, Start and NewInserter; fields a function does not
// need are ignored.
type Config struct {
	// Dialect is SQLite or Postgres.
	Dialect Dialect
	// SQLDB is the pool gorm uses (gorm's DB()). Always set. River's tables
	// live in the same database (and, on Postgres, the schema search_path
	// picks), which is what lets a job join the caller's transaction.
	SQLDB *sql.DB
	// PGURL is the Postgres URL (Postgres only, optional). When set, Start
	// opens one extra connection with it for LISTEN, so workers pick up a
	// new job at once; without it they poll every second. It must reach the
	// same database and search_path as SQLDB.
	PGURL string
	// Mail sends the emails (Start only).
	Mail mail.Sender
	// Logger receives River's logs and the email worker's; slog.Default()
	// when nil.
	Logger *slog.Logger
	// Workers is the number of jobs worked at once per queue; DefaultWorkers
	// when 0.
	Workers int
	// Kinds registers job kinds beyond send_email (Start only). See
	// WorkerKind.
	Kinds []Kind
	// Periodic lists jobs River inserts on a schedule (Start only). The
	// elected leader among all running Starts inserts them, so each runs
	// once per period however many `hearth serve` processes there are.
	Periodic []PeriodicJob

	// Test knobs, zero in production.
	retryPolicy       river.ClientRetryPolicy // nil: River's attempt^4 seconds backoff
	fetchPollInterval time.Duration           // 0: River's default (1s)
}

// Kind registers one job kind's worker with River. Start calls each of
// Config.Kinds once with the workers registry it builds.
type Kind func(workers *river.Workers) error

// WorkerKind returns a Kind that registers w for the job args type T.
func WorkerKind[T river.JobArgs](w river.Worker[T]) Kind {
	return func(workers *river.Workers) error {
		return river.AddWorkerSafely(workers, w)
	}
}

// PeriodicJob is a job inserted on a schedule by the leader River client.
type PeriodicJob struct {
	// ID names the periodic job; unique among Config.Periodic.
	ID string
	// Schedule says when to insert, e.g. river.PeriodicInterval(time.Hour).
	Schedule river.PeriodicSchedule
	// Args returns the job to insert (its kind must be registered through
	// Config.Kinds) and optional insert options.
	Args river.PeriodicJobConstructor
	// RunOnStart also inserts one when a leader is elected, so a daily job
	// is not skipped by restarts.
	RunOnStart bool
}

// withDefaults checks what every entry point needs and fills defaults.
func (cfg Config) withDefaults() (Config, error) {
	switch cfg.Dialect {
	case SQLite, Postgres:
	case "":
		return cfg, errors.New("jobs: Config.Dialect is empty; want sqlite or postgres")
	default:
		return cfg, fmt.Errorf("jobs: Config.Dialect %q is not sqlite or postgres", cfg.Dialect)
	}
	if cfg.SQLDB == nil {
		return cfg, errors.New("jobs: Config.SQLDB is nil")
	}
	if cfg.PGURL != "" && cfg.Dialect != Postgres {
		return cfg, errors.New("jobs: Config.PGURL is only for postgres")
	}
	if cfg.Workers < 0 {
		return cfg, fmt.Errorf("jobs: Config.Workers is %d; want 1 or more (0 means %d)", cfg.Workers, DefaultWorkers)
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg, nil
}

// driver returns River's driver for cfg. Both are drivers over database/sql
// (TTx = *sql.Tx), which is what lets EnqueueEmail join a gorm transaction.
//
// Postgres uses riverdatabasesql, not riverpgxv5: riverpgxv5 inserts only in
// a pgx.Tx, and gorm's transactions are *sql.Tx, so with riverpgxv5 a job
// could not join the caller's transaction. riverdatabasesql alone cannot
// LISTEN and would poll; NewWithPgxListener adds a one-connection pgxpool
// just for LISTEN/NOTIFY, so we keep both the outbox and instant pickup.
func (cfg Config) driver(listener *pgxpool.Pool) riverdriver.Driver[*sql.Tx] {
	if cfg.Dialect == SQLite {
		return riversqlite.New(cfg.SQLDB)
	}
	if listener != nil {
		return riverdatabasesql.NewWithPgxListener(cfg.SQLDB, listener)
	}
	return riverdatabasesql.New(cfg.SQLDB)
}

// riverConfig is the River configuration shared by workers and inserters.
func (cfg Config) riverConfig() *river.Config {
	rc := &river.Config{
		Logger:      cfg.Logger,
		RetryPolicy: cfg.retryPolicy,
		// Finished jobs keep their args, and an email's args hold its
		// single-use link: keep them no longer than needed to look into a
		// problem, and never for River's default week for discarded jobs.
		CompletedJobRetentionPeriod: time.Hour,
		CancelledJobRetentionPeriod: 24 * time.Hour,
		DiscardedJobRetentionPeriod: 24 * time.Hour,
	}
	if cfg.fetchPollInterval > 0 {
		rc.FetchCooldown = cfg.fetchPollInterval / 5
		rc.FetchPollInterval = cfg.fetchPollInterval
	}
	return rc
}
