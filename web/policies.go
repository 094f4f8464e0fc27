package web

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web/policycache"
)

// StartPolicies loads the supervised teens' rules into this node's memory,
// keeps them current, and makes every change to them wait until all nodes
// have applied it (see package policycache). Stop the cache at shutdown.
func StartPolicies(ctx context.Context, st *store.Store, lease time.Duration, logger *slog.Logger) (*policycache.Cache, error) {
	cfg := policycache.Config{Lease: lease, Logger: logger}
	if st.Dialect() == store.Postgres {
		cfg.Notify = policycache.Listen(ctx, st.DSN(), logger)
		// The notification is sent by the writing transaction itself, so
		// Postgres delivers it exactly when the change commits.
		st.OnPolicyChanged = func(tx *gorm.DB, seq int64) error {
			return tx.Exec("SELECT pg_notify(?, ?)", policycache.Channel, strconv.FormatInt(seq, 10)).Error
		}
	}
	c := policycache.New(st, cfg)
	started := time.Now()
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	st.AfterPolicyCommit = func(ctx context.Context, seq int64) {
		if err := c.AwaitApplied(ctx, seq, time.Now()); err != nil {
			logger.Warn("rules change not confirmed by every node; they hold DMs until they catch up", "seq", seq, "err", err)
		}
	}
	logger.Info("policies loaded", "supervised_teens", c.Len(), "took", time.Since(started).Round(time.Millisecond), "node", c.NodeID())
	return c, nil
}
