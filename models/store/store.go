// Package store persists Hearth's models in PostgreSQL (production) or SQLite
// (the embedded default) through gorm. Both dialects run the same migrations'
// meaning and the same tests.
//
// Every read of teen data takes the viewer and scopes the query; what the
// viewer may not see is models.ErrNotFound, exactly like what does not exist.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/hearth-safety/hearth/migrations"
	"github.com/hearth-safety/hearth/models"
)

// Dialect names the database engine under the store.
type Dialect string

// The two supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is Hearth's persistence. It is safe for concurrent use.
type Store struct {
	db          *gorm.DB
	sqlDB       *sql.DB
	dialect     Dialect
	dsn         string
	now         func() time.Time
	linking     // email outbox and hooks of the linking flows (links.go)
	policyHooks // OnPolicyChanged and AfterPolicyCommit (policies.go)
}

// Options tune Open. The zero value is fine for production.
type Options struct {
	// Now replaces the clock, for tests of expiry.
	Now func() time.Time
	// MaxOpenConns sizes the Postgres pool (SQLite always uses one writer
	// connection). Default 20.
	MaxOpenConns int
}

// Open connects to the database named by rawURL: postgres:// or
// postgresql:// for PostgreSQL; sqlite:PATH, file:PATH or a bare path for
// SQLite. It does not migrate; call Migrate.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	dialect, dsn, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		TranslateError:         true,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	var dialector gorm.Dialector
	if dialect == Postgres {
		dialector = postgres.Open(dsn)
	} else {
		dialector = sqlite.Open(dsn)
	}
	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if dialect == SQLite {
		// SQLite allows one writer. A single connection turns lock contention
		// into orderly queueing instead of SQLITE_BUSY errors; reads of the
		// hot path are served from memory, not from here.
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
	} else {
		n := opts.MaxOpenConns
		if n <= 0 {
			n = 20
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, sqlDB: sqlDB, dialect: dialect, dsn: dsn, now: func() time.Time { return now().UTC() }}, nil
}

// ParseURL tells the dialect of a database URL and returns the DSN its driver
// takes. SQLite gets WAL, a busy timeout and foreign keys through the
// driver's own _pragma syntax (other spellings are silently ignored by it);
// Postgres gets statement and lock timeouts unless the URL sets them.
func ParseURL(rawURL string) (Dialect, string, error) {
	raw := strings.TrimSpace(rawURL)
	switch {
	case raw == "":
		return "", "", errors.New("database URL is empty")
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil {
			return "", "", fmt.Errorf("database URL is not a valid postgres:// URL: %w", err)
		}
		q := u.Query()
		if !q.Has("statement_timeout") {
			q.Set("statement_timeout", "5000")
		}
		if !q.Has("lock_timeout") {
			q.Set("lock_timeout", "2000")
		}
		if !q.Has("connect_timeout") {
			q.Set("connect_timeout", "5")
		}
		u.RawQuery = q.Encode()
		return Postgres, u.String(), nil
	}
	path := raw
	for _, p := range []string{"sqlite://", "sqlite:", "file:"} {
		if strings.HasPrefix(path, p) {
			path = strings.TrimPrefix(path, p)
			break
		}
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" || path == ":memory:" {
		return "", "", errors.New("SQLite needs a file path (an in-memory database would give each connection its own empty copy)")
	}
	if strings.Contains(raw, "://") && !strings.HasPrefix(raw, "sqlite://") {
		return "", "", fmt.Errorf("database URL %q: use postgres://… or a SQLite file path such as ./hearth.db", redact(raw))
	}
	if dir := filepath.Dir(path); dir != "." {
		if _, err := os.Stat(dir); err != nil {
			return "", "", fmt.Errorf("SQLite database folder %s does not exist", dir)
		}
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	return SQLite, dsn, nil
}

// redact hides a password in a URL for error messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// Dialect reports the engine in use.
func (s *Store) Dialect() Dialect { return s.dialect }

// SQLDB returns the connection pool, for the job queue, which shares it.
func (s *Store) SQLDB() *sql.DB { return s.sqlDB }

// DSN returns the driver connection string (for the Postgres job queue pool).
func (s *Store) DSN() string { return s.dsn }

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.now() }

// Close releases the connections.
func (s *Store) Close() error { return s.sqlDB.Close() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.sqlDB.PingContext(ctx) }

func (s *Store) migrator(logger *slog.Logger) (*goose.Provider, error) {
	dir, gd := "sqlite", goose.DialectSQLite3
	var opts []goose.ProviderOption
	if s.dialect == Postgres {
		dir, gd = "postgres", goose.DialectPostgres
		// Several `hearth serve` processes may start together on one
		// Postgres: an advisory lock lets one migrate while the rest wait.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger))
	}
	sub, err := fs.Sub(migrations.FS, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(gd, s.sqlDB, sub, opts...)
}

// Migrate applies every pending migration and reports how many ran.
func (s *Store) Migrate(ctx context.Context, logger *slog.Logger) (int, error) {
	p, err := s.migrator(logger)
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate %s database: %w", s.dialect, err)
	}
	return len(res), nil
}

// MigrationVersions reports the applied and the latest known schema version.
func (s *Store) MigrationVersions(ctx context.Context) (current, latest int64, err error) {
	p, err := s.migrator(nil)
	if err != nil {
		return 0, 0, err
	}
	return p.GetVersions(ctx)
}

// Empty reports whether no accounts or service clients exist yet, for
// `hearth demo` which refuses to seed over real data.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Table("users").Count(&n).Error; err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if err := s.db.WithContext(ctx).Table("service_clients").Count(&n).Error; err != nil {
		return false, err
	}
	return n == 0, nil
}

// mapErr converts gorm's errors into the models' sentinels at the boundary,
// so nothing above the store knows gorm exists.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return models.ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return models.ErrConflict
	}
	return err
}

// tx runs fn in a transaction on ctx.
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return mapErr(s.db.WithContext(ctx).Transaction(fn))
}
