package jobs

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/hearth-safety/hearth/web/mail"
)

// testDB is a real database for one test: a SQLite file under t.TempDir(),
// or a fresh schema in the Postgres named by HEARTH_TEST_DATABASE_URL.
type testDB struct {
	dialect Dialect
	gorm    *gorm.DB
	sql     *sql.DB
	pgURL   string                      // postgres only, with search_path set
	open    func(t *testing.T) *gorm.DB // another pool on the same database, as another process would have
}

// eachDialect runs fn on SQLite and, when HEARTH_TEST_DATABASE_URL is set,
// on Postgres.
func eachDialect(t *testing.T, fn func(t *testing.T, db testDB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, newSQLiteDB(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, newPostgresDB(t, postgresURL(t)))
	})
	t.Run("postgres_poll_only", func(t *testing.T) {
		t.Parallel()
		db := newPostgresDB(t, postgresURL(t))
		db.pgURL = "" // no LISTEN pool: River polls
		fn(t, db)
	})
}

func postgresURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("HEARTH_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("HEARTH_TEST_DATABASE_URL not set: skipping Postgres tests")
	}
	return base
}

// sqliteDSN is the DSN the app uses: modernc (through glebarez/sqlite) reads
// _pragma=…, and silently ignores mattn-style keys.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
}

func openGorm(t *testing.T, d gorm.Dialector) *gorm.DB {
	t.Helper()
	gdb, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sqlDB.Close() }) // registered first, so it runs after Stop
	return gdb
}

func newSQLiteDB(t *testing.T) testDB {
	path := filepath.Join(t.TempDir(), "hearth.db")
	open := func(t *testing.T) *gorm.DB {
		gdb := openGorm(t, sqlite.Open(sqliteDSN(path)))
		sqlDB, _ := gdb.DB()
		sqlDB.SetMaxOpenConns(1)
		return gdb
	}
	gdb := open(t)
	sqlDB, _ := gdb.DB()

	var journal string
	var fk int
	if err := sqlDB.QueryRow("PRAGMA journal_mode").Scan(&journal); err != nil || journal != "wal" {
		t.Fatalf("journal_mode = %q (%v), want wal: the DSN pragmas were not applied", journal, err)
	}
	if err := sqlDB.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d (%v), want 1", fk, err)
	}
	return testDB{dialect: SQLite, gorm: gdb, sql: sqlDB, open: open}
}

func newPostgresDB(t *testing.T, base string) testDB {
	admin := openGorm(t, postgres.Open(base))
	schema := "hearth_test_" + strings.ToLower(rand.Text()[:12])
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		// Runs after the test's pools are closed (registered before them).
		if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})

	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("HEARTH_TEST_DATABASE_URL must be a postgres:// URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	pgURL := u.String()

	open := func(t *testing.T) *gorm.DB { return openGorm(t, postgres.Open(pgURL)) }
	gdb := open(t)
	sqlDB, _ := gdb.DB()
	var current string
	if err := sqlDB.QueryRow("SELECT current_schema()").Scan(&current); err != nil || current != schema {
		t.Fatalf("current_schema() = %q (%v), want %q", current, err, schema)
	}
	return testDB{dialect: Postgres, gorm: gdb, sql: sqlDB, pgURL: pgURL, open: open}
}

// config returns a Config for db with fast retries and polling, logging
// into a buffer that the test can search and that is printed on failure.
func (db testDB) config(t *testing.T, sender mail.Sender) (Config, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	})
	return Config{
		Dialect:           db.dialect,
		SQLDB:             db.sql,
		PGURL:             db.pgURL,
		Mail:              sender,
		Logger:            slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Workers:           2,
		retryPolicy:       fastRetry{},
		fetchPollInterval: 50 * time.Millisecond,
	}, logs
}

// start migrates and starts a Runner that the test stops at its end.
func start(t *testing.T, cfg Config) *Runner {
	t.Helper()
	if err := Migrate(t.Context(), cfg); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	r, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return r
}

// fastRetry retries after 20ms instead of River's attempt^4 seconds.
type fastRetry struct{}

func (fastRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(20 * time.Millisecond) }

// fakeSender is the test's mail server: it records every attempt and every
// delivery, and fail (when set) decides whether an attempt fails. n counts
// the attempts for m.To, from 1.
type fakeSender struct {
	fail func(ctx context.Context, m mail.Message, n int) error

	mu    sync.Mutex
	calls []mail.Message
	sent  []mail.Message
}

func (f *fakeSender) Send(ctx context.Context, m mail.Message) error {
	f.mu.Lock()
	f.calls = append(f.calls, m)
	n := 0
	for _, c := range f.calls {
		if c.To == m.To {
			n++
		}
	}
	f.mu.Unlock()
	if f.fail != nil {
		if err := f.fail(ctx, m, n); err != nil {
			return err
		}
	}
	f.mu.Lock()
	f.sent = append(f.sent, m)
	f.mu.Unlock()
	return nil
}

func (f *fakeSender) Sent() []mail.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.sent)
	slices.SortFunc(out, func(a, b mail.Message) int { return strings.Compare(a.To, b.To) })
	return out
}

func (f *fakeSender) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// emailTo is a message with a single-use-looking link, so tests can check
// that the link never reaches a log line.
func emailTo(to string) mail.Message {
	return mail.Message{
		To:      to,
		Subject: "Reset your Hearth password",
		Text:    "Open this link to choose a new password:\nhttp://127.0.0.1:8080/password/reset/SECRET-TOKEN-" + to + "\n",
	}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// emailJobs lists the send_email jobs in every state.
func emailJobs(t *testing.T, client *river.Client[*sql.Tx]) []*rivertype.JobRow {
	t.Helper()
	res, err := client.JobList(context.Background(), river.NewJobListParams().Kinds(KindSendEmail).First(1000))
	if err != nil {
		t.Fatalf("JobList: %v", err)
	}
	return res.Jobs
}

// sqlTx is the *sql.Tx under a gorm transaction: what a handler passes to
// EnqueueEmail.
func sqlTx(t *testing.T, tx *gorm.DB) *sql.Tx {
	t.Helper()
	stx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		t.Fatalf("gorm transaction's ConnPool is %T, want *sql.Tx", tx.Statement.ConnPool)
	}
	return stx
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func errorsText(job *rivertype.JobRow) string {
	var sb strings.Builder
	for _, e := range job.Errors {
		fmt.Fprintf(&sb, "%d: %s\n", e.Attempt, e.Error)
	}
	return sb.String()
}
