package jobs

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"

	"github.com/riverqueue/river/rivermigrate"
)

// Migrate creates or updates River's own tables (river_job, river_leader,
// …) for cfg.Dialect in cfg.SQLDB with River's migrations (rivermigrate),
// applying only what is missing, so it is safe to run at every start and
// from `hearth migrate`. It is separate from Hearth's own migrations, which
// never touch River's tables.
//
// Concurrent calls on one SQLDB run one after the other. On Postgres it
// also holds an advisory lock meanwhile, so that several `hearth serve`
// processes starting together migrate one after the other; it uses one
// connection of SQLDB for the lock and others for the migrations. On SQLite
// two processes migrating the same file at the same moment may fail (the
// second sees "table already exists"); running it again succeeds.
func Migrate(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	migrator, err := rivermigrate.New(cfg.driver(nil), &rivermigrate.Config{Logger: cfg.Logger})
	if err != nil {
		return fmt.Errorf("jobs: preparing River migrations: %w", err)
	}
	mu := migrateMutex(cfg.SQLDB)
	mu.Lock()
	defer mu.Unlock()
	if cfg.Dialect == Postgres {
		unlock, err := lockMigrations(ctx, cfg)
		if err != nil {
			return err
		}
		defer unlock()
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("jobs: applying River migrations: %w", err)
	}
	if len(res.Versions) > 0 {
		cfg.Logger.InfoContext(ctx, "jobs: applied River migrations",
			slog.Int("count", len(res.Versions)),
			slog.Int("version", res.Versions[len(res.Versions)-1].Version))
	}
	return nil
}

var migrateMutexes sync.Map // *sql.DB → *sync.Mutex

func migrateMutex(db *sql.DB) *sync.Mutex {
	mu, _ := migrateMutexes.LoadOrStore(db, new(sync.Mutex))
	return mu.(*sync.Mutex)
}

// migrateLockKey is the Postgres advisory lock key for River's migrations.
var migrateLockKey = func() int64 {
	h := fnv.New64a()
	h.Write([]byte("hearth: river migrations"))
	return int64(h.Sum64())
}()

// lockMigrations takes a session advisory lock on a dedicated connection and
// returns the function that releases it and returns the connection.
func lockMigrations(ctx context.Context, cfg Config) (unlock func(), err error) {
	conn, err := cfg.SQLDB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("jobs: connecting to lock River migrations: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("jobs: locking River migrations: %w", err)
	}
	return func() {
		// Unlock even if ctx has ended: Close returns the connection to
		// the pool, session (and lock) included.
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey); err != nil {
			cfg.Logger.WarnContext(ctx, "jobs: unlocking River migrations; discarding the connection", slog.String("error", err.Error()))
			// ErrBadConn makes database/sql close the connection instead of
			// pooling it, which ends the session and so the lock.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = conn.Close()
	}, nil
}
