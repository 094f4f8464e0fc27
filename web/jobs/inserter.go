package jobs

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/hearth-safety/hearth/web/mail"
)

// Inserter queues jobs without working them, for processes that run no
// workers (the `hearth` CLI commands). A running `hearth serve` on the same
// database picks the jobs up. It holds no goroutines or connections of its
// own, so there is nothing to close. Safe for concurrent use.
type Inserter struct {
	client *river.Client[*sql.Tx]
}

// NewInserter returns an Inserter for cfg.Dialect and cfg.SQLDB; Mail,
// Workers, Kinds, Periodic and PGURL are ignored.
func NewInserter(cfg Config) (*Inserter, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	// No Queues and no Workers: River makes an insert-only client.
	client, err := river.NewClient(cfg.driver(nil), cfg.riverConfig())
	if err != nil {
		return nil, fmt.Errorf("jobs: creating River inserter: %w", err)
	}
	return &Inserter{client: client}, nil
}

// EnqueueEmail is Runner.EnqueueEmail for processes without workers.
func (i *Inserter) EnqueueEmail(ctx context.Context, tx *sql.Tx, m mail.Message) error {
	return enqueueEmail(ctx, i.client, tx, m)
}

// Enqueue is Runner.Enqueue for processes without workers. The kind is not
// checked against any registry here: a kind the serving process does not
// know fails there as unknown and is retried until a worker for it is
// deployed or its attempts run out.
func (i *Inserter) Enqueue(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	return insert(ctx, i.client, tx, args, opts)
}
