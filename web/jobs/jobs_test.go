package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/web/mail"
)

var errRollback = errors.New("roll back")

func TestEnqueueEmail_Outbox(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, db testDB) {
		ctx := t.Context()
		sender := &fakeSender{}
		cfg, _ := db.config(t, sender)
		if err := Migrate(ctx, cfg); err != nil {
			t.Fatalf("first Migrate: %v", err)
		}
		r := start(t, cfg) // migrates again: must be a no-op

		if err := db.gorm.Exec("CREATE TABLE probe (id INTEGER PRIMARY KEY, note TEXT NOT NULL)").Error; err != nil {
			t.Fatal(err)
		}

		noTx := emailTo("no-tx@example.com")
		if err := r.EnqueueEmail(ctx, nil, noTx); err != nil {
			t.Fatalf("EnqueueEmail without tx: %v", err)
		}

		committed := emailTo("committed@example.org")
		err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("INSERT INTO probe (id, note) VALUES (1, 'committed')").Error; err != nil {
				return err
			}
			return r.EnqueueEmail(ctx, sqlTx(t, tx), committed)
		})
		if err != nil {
			t.Fatalf("committed transaction: %v", err)
		}

		rolledBack := emailTo("rolled-back@example.net")
		err = db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("INSERT INTO probe (id, note) VALUES (2, 'rolled back')").Error; err != nil {
				return err
			}
			if err := r.EnqueueEmail(ctx, sqlTx(t, tx), rolledBack); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("rolled-back transaction: err = %v, want errRollback", err)
		}

		// Queued after the rollback: once it is delivered, a leaked
		// rolled-back job would have had every chance to be delivered too.
		after := emailTo("after@example.com")
		if err := r.EnqueueEmail(ctx, nil, after); err != nil {
			t.Fatal(err)
		}

		waitFor(t, 15*time.Second, "3 deliveries", func() bool { return len(sender.Sent()) >= 3 })
		time.Sleep(300 * time.Millisecond) // room for a duplicate to show up

		want := []mail.Message{after, committed, noTx} // sorted by To
		if got := sender.Sent(); !slices.Equal(got, want) {
			t.Errorf("delivered:\n%v\nwant exactly:\n%v", got, want)
		}

		var notes []string
		if err := db.gorm.Raw("SELECT note FROM probe ORDER BY id").Scan(&notes).Error; err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(notes, []string{"committed"}) {
			t.Errorf("probe rows = %q, want only the committed one", notes)
		}

		jobs := emailJobs(t, r.client)
		if len(jobs) != 3 {
			t.Fatalf("%d send_email jobs in the database, want 3 (none for the rolled-back transaction)", len(jobs))
		}
		for _, j := range jobs {
			if j.State != rivertype.JobStateCompleted || j.Queue != QueueEmail || j.MaxAttempts != 10 || j.Attempt != 1 {
				t.Errorf("job %d: state %s queue %q attempt %d/%d, want completed on %q at 1/10",
					j.ID, j.State, j.Queue, j.Attempt, j.MaxAttempts, QueueEmail)
			}
		}
	})
}

func TestEmailJob_RetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, db testDB) {
		ctx := t.Context()
		// Fails twice with an error that quotes the recipient and the body,
		// as a careless Sender might.
		sender := &fakeSender{fail: func(_ context.Context, m mail.Message, n int) error {
			if n <= 2 {
				return fmt.Errorf("451 4.3.0 <%s> try again; message was %q", m.To, m.Text)
			}
			return nil
		}}
		cfg, logs := db.config(t, sender)
		r := start(t, cfg)

		m := emailTo("Flaky.Parent@Example.com")
		if err := r.EnqueueEmail(ctx, nil, m); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 15*time.Second, "the job to complete", func() bool {
			jobs := emailJobs(t, r.client)
			return len(jobs) == 1 && jobs[0].State == rivertype.JobStateCompleted
		})

		if got := sender.Sent(); len(got) != 1 || got[0] != m {
			t.Errorf("delivered %v, want the message once", got)
		}
		if n := sender.Calls(); n != 3 {
			t.Errorf("Send called %d times, want 3 (2 failures, 1 success)", n)
		}
		job := emailJobs(t, r.client)[0]
		if job.Attempt != 3 || len(job.Errors) != 2 {
			t.Errorf("job attempt %d with %d errors, want attempt 3 with 2 errors", job.Attempt, len(job.Errors))
		}

		stored := errorsText(job)
		if !strings.Contains(stored, "451 4.3.0 <<recipient>@example.com> try again") {
			t.Errorf("stored errors %q lost the useful part of the error", stored)
		}
		logText := logs.String()
		for _, secret := range []string{"SECRET-TOKEN", "password/reset", "Flaky.Parent", "flaky.parent"} {
			if strings.Contains(stored, secret) {
				t.Errorf("stored job errors contain %q:\n%s", secret, stored)
			}
			if strings.Contains(logText, secret) {
				t.Errorf("logs contain %q:\n%s", secret, logText)
			}
		}
		for _, want := range []string{`"kind":"send_email"`, `"to_domain":"example.com"`, `"attempt":2`, `"attempt":3`, "will retry", "email sent"} {
			if !strings.Contains(logText, want) {
				t.Errorf("logs lack %s", want)
			}
		}
	})
}

func TestEmailJob_RecipientRejectedIsNotRetried(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, db testDB) {
		sender := &fakeSender{fail: func(_ context.Context, m mail.Message, _ int) error {
			return fmt.Errorf("%w: 550 5.1.1 <%s> no such user", mail.ErrRecipientRejected, m.To)
		}}
		cfg, _ := db.config(t, sender)
		r := start(t, cfg)
		if err := r.EnqueueEmail(t.Context(), nil, emailTo("gone@example.com")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 15*time.Second, "the job to be cancelled", func() bool {
			jobs := emailJobs(t, r.client)
			return len(jobs) == 1 && jobs[0].State == rivertype.JobStateCancelled
		})
		time.Sleep(200 * time.Millisecond)
		if n := sender.Calls(); n != 1 {
			t.Errorf("Send called %d times, want 1", n)
		}
	})
}

func TestRunner_Stop(t *testing.T) {
	t.Parallel()

	t.Run("waits_for_running_jobs", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, db testDB) {
			started, release := make(chan struct{}), make(chan struct{})
			sender := &fakeSender{fail: func(context.Context, mail.Message, int) error {
				close(started)
				<-release // deliberately ignores ctx: Stop must not cancel it
				return nil
			}}
			cfg, _ := db.config(t, sender)
			r := start(t, cfg)
			if err := r.EnqueueEmail(t.Context(), nil, emailTo("slow@example.com")); err != nil {
				t.Fatal(err)
			}
			<-started

			stopped := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				stopped <- r.Stop(ctx)
			}()
			select {
			case err := <-stopped:
				t.Fatalf("Stop returned (%v) while a job was running", err)
			case <-time.After(300 * time.Millisecond):
			}
			close(release)
			if err := <-stopped; err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if n := len(sender.Sent()); n != 1 {
				t.Errorf("delivered %d, want 1", n)
			}
			if jobs := emailJobs(t, r.client); len(jobs) != 1 || jobs[0].State != rivertype.JobStateCompleted {
				t.Errorf("job not completed after a graceful stop: %+v", jobs)
			}
		})
	})

	t.Run("cancels_jobs_when_ctx_ends_and_they_run_again", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, db testDB) {
			started := make(chan struct{})
			var first atomic.Bool
			first.Store(true)
			hung := &fakeSender{fail: func(ctx context.Context, _ mail.Message, _ int) error {
				if first.CompareAndSwap(true, false) {
					close(started)
				}
				<-ctx.Done() // a mail server that hangs until we give up
				return ctx.Err()
			}}
			cfg, _ := db.config(t, hung)
			if err := Migrate(t.Context(), cfg); err != nil {
				t.Fatal(err)
			}
			r, err := Start(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.EnqueueEmail(t.Context(), nil, emailTo("hung@example.com")); err != nil {
				t.Fatal(err)
			}
			<-started

			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			begin := time.Now()
			err = r.Stop(ctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Stop = %v, want an error wrapping context.DeadlineExceeded", err)
			}
			if d := time.Since(begin); d > 5*time.Second {
				t.Errorf("Stop took %v", d)
			}
			if err2 := r.Stop(context.Background()); err2 != err {
				t.Errorf("second Stop = %v, want the first result %v", err2, err)
			}

			jobs := emailJobs(t, r.client)
			if len(jobs) != 1 || jobs[0].State == rivertype.JobStateRunning || jobs[0].FinalizedAt != nil {
				t.Fatalf("after a hard stop the job should be back in the queue, got %+v", jobs[0])
			}

			// The next process delivers it.
			good := &fakeSender{}
			cfg2, _ := db.config(t, good)
			start(t, cfg2)
			waitFor(t, 15*time.Second, "the interrupted email to be delivered by a new runner", func() bool { return len(good.Sent()) == 1 })
		})
	})
}

func TestInserter_EnqueueEmail(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, db testDB) {
		ctx := t.Context()
		sender := &fakeSender{}
		cfg, _ := db.config(t, sender)
		r := start(t, cfg)

		// The CLI is another process with its own pool on the same database.
		cli := db.open(t)
		cliSQL, err := cli.DB()
		if err != nil {
			t.Fatal(err)
		}
		cliCfg := cfg
		cliCfg.SQLDB = cliSQL
		cliCfg.Mail = nil
		ins, err := NewInserter(cliCfg)
		if err != nil {
			t.Fatalf("NewInserter: %v", err)
		}

		first, second := emailTo("cli-1@example.com"), emailTo("cli-2@example.com")
		if err := ins.EnqueueEmail(ctx, nil, first); err != nil {
			t.Fatalf("EnqueueEmail without tx: %v", err)
		}
		err = cli.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return ins.EnqueueEmail(ctx, sqlTx(t, tx), second)
		})
		if err != nil {
			t.Fatalf("EnqueueEmail in tx: %v", err)
		}
		err = cli.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := ins.EnqueueEmail(ctx, sqlTx(t, tx), emailTo("cli-rolled-back@example.com")); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}

		waitFor(t, 15*time.Second, "2 deliveries", func() bool { return len(sender.Sent()) >= 2 })
		time.Sleep(300 * time.Millisecond)
		if got, want := sender.Sent(), []mail.Message{first, second}; !slices.Equal(got, want) {
			t.Errorf("delivered %v, want exactly %v", got, want)
		}
		if n := len(emailJobs(t, r.client)); n != 2 {
			t.Errorf("%d jobs, want 2", n)
		}
	})
}

func TestEnqueueEmail_RefusesInvalidMessages(t *testing.T) {
	t.Parallel()
	db := newSQLiteDB(t)
	cfg, _ := db.config(t, nil)
	if err := Migrate(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	ins, err := NewInserter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []mail.Message{
		{To: "not-an-address", Subject: "s", Text: "t"},
		{To: "a@example.com", Subject: "two\nlines", Text: "t"},
		{To: "a@example.com", Subject: "s"},
	} {
		if err := ins.EnqueueEmail(t.Context(), nil, m); err == nil {
			t.Errorf("EnqueueEmail(%+v) = nil, want an error", m)
		}
	}
	if n := len(emailJobs(t, ins.client)); n != 0 {
		t.Errorf("%d jobs queued, want 0", n)
	}
}

// pingArgs is a job kind added the way later features add theirs.
type pingArgs struct {
	From string `json:"from"`
}

func (pingArgs) Kind() string { return "test_ping" }

func TestKindsAndPeriodic(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, db testDB) {
		pings := make(chan string, 10)
		cfg, _ := db.config(t, &fakeSender{})
		cfg.Kinds = []Kind{WorkerKind(river.WorkFunc(func(_ context.Context, job *river.Job[pingArgs]) error {
			pings <- job.Args.From
			return nil
		}))}
		cfg.Periodic = []PeriodicJob{{
			ID:         "test_ping",
			Schedule:   river.PeriodicInterval(time.Hour),
			Args:       func() (river.JobArgs, *river.InsertOpts) { return pingArgs{From: "periodic"}, nil },
			RunOnStart: true,
		}}
		r := start(t, cfg)
		if err := r.Enqueue(t.Context(), nil, pingArgs{From: "enqueue"}, nil); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		timeout := time.After(20 * time.Second)
		for len(got) < 2 {
			select {
			case from := <-pings:
				got[from] = true
			case <-timeout:
				t.Fatalf("pings received: %v, want periodic and enqueue", got)
			}
		}
	})
}

func TestMigrate_ConcurrentCallsAllSucceed(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, db testDB) {
		// Separate pools, as separate processes would have.
		var cfgs []Config
		for range 3 {
			sqlDB, err := db.open(t).DB()
			if err != nil {
				t.Fatal(err)
			}
			cfg, _ := db.config(t, nil)
			cfg.SQLDB = sqlDB
			cfgs = append(cfgs, cfg)
		}
		if db.dialect == SQLite {
			cfgs = cfgs[:1] // see Migrate's doc: SQLite gives no cross-process lock
			cfgs = append(cfgs, cfgs[0], cfgs[0])
		}
		errs := make(chan error, len(cfgs))
		for _, cfg := range cfgs {
			go func() { errs <- Migrate(t.Context(), cfg) }()
		}
		for range cfgs {
			if err := <-errs; err != nil {
				t.Errorf("Migrate: %v", err)
			}
		}
		ins, err := NewInserter(cfgs[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := ins.EnqueueEmail(t.Context(), nil, emailTo("after-migrate@example.com")); err != nil {
			t.Errorf("River's tables are not usable after concurrent migrations: %v", err)
		}
	})
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	db := newSQLiteDB(t)
	valid := Config{Dialect: SQLite, SQLDB: db.sql, Mail: &fakeSender{}, Logger: slog.New(slog.DiscardHandler)}
	noop := func(context.Context, *river.Job[pingArgs]) error { return nil }
	hourly := river.PeriodicInterval(time.Hour)
	ping := func() (river.JobArgs, *river.InsertOpts) { return pingArgs{}, nil }

	cases := []struct {
		name   string
		mutate func(c *Config)
		want   string
	}{
		{"no_dialect", func(c *Config) { c.Dialect = "" }, "Dialect is empty"},
		{"bad_dialect", func(c *Config) { c.Dialect = "mysql" }, `"mysql" is not sqlite or postgres`},
		{"no_db", func(c *Config) { c.SQLDB = nil }, "SQLDB is nil"},
		{"pgurl_on_sqlite", func(c *Config) { c.PGURL = "postgres://x" }, "only for postgres"},
		{"negative_workers", func(c *Config) { c.Workers = -1 }, "Workers is -1"},
		{"no_mail", func(c *Config) { c.Mail = nil }, "Mail is nil"},
		{"nil_kind", func(c *Config) { c.Kinds = []Kind{nil} }, "Kinds[0] is nil"},
		{"send_email_twice", func(c *Config) {
			c.Kinds = []Kind{WorkerKind[emailArgs](&emailWorker{})}
		}, "Kinds[0]"},
		{"periodic_without_id", func(c *Config) {
			c.Kinds = []Kind{WorkerKind(river.WorkFunc(noop))}
			c.Periodic = []PeriodicJob{{Schedule: hourly, Args: ping}}
		}, "has no ID"},
		{"periodic_duplicate_id", func(c *Config) {
			c.Kinds = []Kind{WorkerKind(river.WorkFunc(noop))}
			c.Periodic = []PeriodicJob{{ID: "a", Schedule: hourly, Args: ping}, {ID: "a", Schedule: hourly, Args: ping}}
		}, `two jobs with ID "a"`},
		{"periodic_without_schedule", func(c *Config) { c.Periodic = []PeriodicJob{{ID: "a", Args: ping}} }, "no Schedule"},
		{"periodic_without_args", func(c *Config) { c.Periodic = []PeriodicJob{{ID: "a", Schedule: hourly}} }, "no Args"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid
			tc.mutate(&cfg)
			r, err := Start(t.Context(), cfg)
			if err == nil {
				_ = r.Stop(context.Background())
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Start: %v, want it to mention %q", err, tc.want)
			}
		})
	}

	for name, fn := range map[string]func(Config) error{
		"Migrate":     func(c Config) error { return Migrate(t.Context(), c) },
		"NewInserter": func(c Config) error { _, err := NewInserter(c); return err },
	} {
		cfg := valid
		cfg.Dialect = "mysql"
		if err := fn(cfg); err == nil || !strings.Contains(err.Error(), "not sqlite or postgres") {
			t.Errorf("%s with a bad dialect: %v", name, err)
		}
	}
	// Mail is only needed by Start.
	cfg := valid
	cfg.Mail = nil
	if _, err := NewInserter(cfg); err != nil {
		t.Errorf("NewInserter without Mail: %v", err)
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	m := mail.Message{To: "Maya.Parent@Example.com", Subject: "s", Text: "Hi,\nhttps://hearth.example/reset/tok123456\nBye"}
	in := `550 <maya.parent@example.com> rejected; body "Hi,\nhttps://hearth.example/reset/tok123456\nBye"`
	got := mask(in, m)
	for _, secret := range []string{"maya.parent", "tok123456"} {
		if strings.Contains(strings.ToLower(got), secret) {
			t.Errorf("mask(%q) = %q, still contains %q", in, got, secret)
		}
	}
	if !strings.Contains(got, "<recipient>@example.com") || !strings.HasPrefix(got, "550 ") {
		t.Errorf("mask(%q) = %q, want the reply kept with the domain", in, got)
	}
}
