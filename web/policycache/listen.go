package policycache

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Channel is the Postgres notification channel writers signal on.
const Channel = "hearth_policy"

// Listen holds a dedicated Postgres connection LISTENing on Channel and
// signals out on every notification, reconnecting with backoff until ctx
// ends. A signal only prompts an early sync; correctness never depends on
// it (notifications sent while the connection is down are simply lost, and
// polling plus the lease cover that).
func Listen(ctx context.Context, dsn string, logger *slog.Logger) <-chan struct{} {
	out := make(chan struct{}, 1)
	signal := func() {
		select {
		case out <- struct{}{}:
		default: // a sync is already due
		}
	}
	go func() {
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			err := listenOnce(ctx, dsn, signal, func() { backoff = 100 * time.Millisecond })
			if ctx.Err() != nil {
				return
			}
			logger.Warn("policy change listener lost its connection; relying on polling until it is back", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			if backoff < 5*time.Second {
				backoff *= 2
			}
		}
	}()
	return out
}

func listenOnce(ctx context.Context, dsn string, signal, connected func()) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	connected()
	signal() // anything committed while we were away
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		signal()
	}
}
