package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/hearth-safety/hearth/web/mail"
)

// Runner is a started River client: it works the queues and inserts the
// periodic jobs. One per `hearth serve` process. Safe for concurrent use.
type Runner struct {
	client   *river.Client[*sql.Tx]
	listener *pgxpool.Pool // Postgres with PGURL only
	stopOnce sync.Once
	stopErr  error
}

// Start starts River's workers for send_email and cfg.Kinds, and its
// periodic jobs, and returns once River runs. Call Migrate first. The jobs
// keep running after ctx ends (its values are kept, its cancellation is
// not): stop them with Runner.Stop, so that shutdown can stop them after
// the HTTP server has drained.
func Start(ctx context.Context, cfg Config) (*Runner, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.Mail == nil {
		return nil, errors.New("jobs: Config.Mail is nil")
	}

	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &emailWorker{sender: cfg.Mail, logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("jobs: registering %s: %w", KindSendEmail, err)
	}
	for i, kind := range cfg.Kinds {
		if kind == nil {
			return nil, fmt.Errorf("jobs: Config.Kinds[%d] is nil", i)
		}
		if err := kind(workers); err != nil {
			return nil, fmt.Errorf("jobs: registering Config.Kinds[%d]: %w", i, err)
		}
	}
	periodic, err := periodicJobs(cfg.Periodic)
	if err != nil {
		return nil, err
	}

	var listener *pgxpool.Pool
	if cfg.Dialect == Postgres && cfg.PGURL != "" {
		if listener, err = newListenerPool(ctx, cfg.PGURL); err != nil {
			return nil, err
		}
	}

	rc := cfg.riverConfig()
	rc.Workers = workers
	rc.PeriodicJobs = periodic
	rc.Queues = map[string]river.QueueConfig{
		QueueDefault: {MaxWorkers: cfg.Workers},
		QueueEmail:   {MaxWorkers: cfg.Workers},
	}
	client, err := river.NewClient(cfg.driver(listener), rc)
	if err == nil {
		// WithoutCancel: a cancelled Start context would make River cancel
		// running jobs at once; Stop decides when jobs end.
		err = client.Start(context.WithoutCancel(ctx))
	}
	if err != nil {
		if listener != nil {
			listener.Close()
		}
		return nil, fmt.Errorf("jobs: starting River: %w", err)
	}
	return &Runner{client: client, listener: listener}, nil
}

// newListenerPool opens the pool River takes its LISTEN connection from. One
// connection is enough: River hijacks it for the client's lifetime.
func newListenerPool(ctx context.Context, pgURL string) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(pgURL)
	if err != nil {
		// pgx's message repeats the URL and redacts the password only on a
		// best-effort basis; say what is wrong without it.
		return nil, errors.New("jobs: Config.PGURL is not a valid Postgres URL")
	}
	pc.MinConns = 0
	pc.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("jobs: opening the LISTEN pool: %w", err)
	}
	return pool, nil
}

func periodicJobs(jobs []PeriodicJob) ([]*river.PeriodicJob, error) {
	out := make([]*river.PeriodicJob, 0, len(jobs))
	seen := make(map[string]bool, len(jobs))
	for i, p := range jobs {
		switch {
		case p.ID == "":
			return nil, fmt.Errorf("jobs: Config.Periodic[%d] has no ID", i)
		case seen[p.ID]:
			return nil, fmt.Errorf("jobs: Config.Periodic has two jobs with ID %q", p.ID)
		case p.Schedule == nil:
			return nil, fmt.Errorf("jobs: periodic job %q has no Schedule", p.ID)
		case p.Args == nil:
			return nil, fmt.Errorf("jobs: periodic job %q has no Args", p.ID)
		}
		seen[p.ID] = true
		out = append(out, river.NewPeriodicJob(p.Schedule, p.Args, &river.PeriodicJobOpts{ID: p.ID, RunOnStart: p.RunOnStart}))
	}
	return out, nil
}

// hardStopTimeout bounds the wait for cancelled jobs to record their state
// once Stop's context has ended.
const hardStopTimeout = 5 * time.Second

// Stop stops fetching jobs and waits for the running ones to finish until
// ctx ends. Jobs still running then have their contexts cancelled; River
// puts them back in the queue to run again (not counted as a failed
// attempt), and Stop returns an error wrapping ctx's error. Call it before
// closing the database. Calling Stop again returns the first result.
func (r *Runner) Stop(ctx context.Context) error {
	r.stopOnce.Do(func() {
		err := r.client.Stop(ctx)
		if err != nil && ctx.Err() != nil {
			hardCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hardStopTimeout)
			defer cancel()
			if herr := r.client.StopAndCancel(hardCtx); herr != nil {
				err = errors.Join(err, herr)
			}
			err = fmt.Errorf("jobs: stop: running jobs cancelled: %w", err)
		} else if err != nil {
			err = fmt.Errorf("jobs: stop: %w", err)
		}
		if r.listener != nil {
			r.listener.Close()
		}
		r.stopErr = err
	})
	return r.stopErr
}

// EnqueueEmail queues m for sending with retries (up to 10 attempts with
// River's backoff). With a non-nil tx the job is written in that
// transaction and exists only if it commits; see the package doc for the
// SQLite single-connection rule. An invalid m is refused here.
func (r *Runner) EnqueueEmail(ctx context.Context, tx *sql.Tx, m mail.Message) error {
	return enqueueEmail(ctx, r.client, tx, m)
}

// Enqueue queues a job of any registered kind, in tx when it is not nil.
// opts may be nil (then the args' own InsertOpts apply, if any).
func (r *Runner) Enqueue(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	return insert(ctx, r.client, tx, args, opts)
}

func enqueueEmail(ctx context.Context, client *river.Client[*sql.Tx], tx *sql.Tx, m mail.Message) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("jobs: not queueing email: %w", err)
	}
	return insert(ctx, client, tx, emailArgs{To: m.To, Subject: m.Subject, Text: m.Text}, nil)
}

func insert(ctx context.Context, client *river.Client[*sql.Tx], tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	var err error
	if tx == nil {
		_, err = client.Insert(ctx, args, opts)
	} else {
		_, err = client.InsertTx(ctx, tx, args, opts)
	}
	if err != nil {
		return fmt.Errorf("jobs: queueing %s: %w", args.Kind(), err)
	}
	return nil
}
