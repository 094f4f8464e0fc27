-- +goose Up

-- Outbound webhooks (policy.updated, supervision.started, supervision.ended):
-- one row per event per receiving client, written in the transaction of the
-- change it announces, together with the job that delivers it. The row is
-- the operators' record (`hearth client deliveries`); the payload holds the
-- teen's platform user ID and policy version, nothing else about them.
-- Deleted with the teen, and 30 days after creation by the hourly clean-up.
CREATE TABLE webhook_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id       BIGINT NOT NULL REFERENCES service_clients (id) ON DELETE CASCADE,
    teen_id         BIGINT NOT NULL REFERENCES teens (id) ON DELETE CASCADE,
    -- the webhook-id header: the same on every attempt
    msg_id          TEXT NOT NULL UNIQUE,
    event_type      TEXT NOT NULL CHECK (event_type IN ('policy.updated', 'supervision.started', 'supervision.ended')),
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'expired')),
    -- requests sent so far
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- HTTP status of the last attempt; NULL without a response
    last_status     INTEGER,
    -- why the last attempt did not deliver, short: never a whole response body
    last_error      TEXT NOT NULL DEFAULT '' CHECK (length(last_error) <= 200),
    created_at      TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ,
    delivered_at    TIMESTAMPTZ,
    expires_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_deliveries_client ON webhook_deliveries (client_id, id);
CREATE INDEX webhook_deliveries_teen ON webhook_deliveries (teen_id);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (expires_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

-- +goose Down
DROP TABLE webhook_deliveries;
