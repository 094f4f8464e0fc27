-- +goose Up

-- Secret rotation: `hearth client rotate-secret` moves the current secret
-- here and keeps accepting (and signing with) it until the grace period
-- ends, so the messaging service can switch without a gap.
ALTER TABLE service_clients ADD COLUMN previous_webhook_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE service_clients ADD COLUMN previous_secret_expires_at TIMESTAMPTZ;

-- Every moderation event ID a client has sent and Hearth stored, kept for
-- good (even after retention deletes the alert), so a redelivery is a
-- duplicate and never a second alert. The primary key is the idempotency
-- key; it is written in the transaction of the alert. Nothing about the teen
-- is here.
CREATE TABLE received_events (
    client_id   BIGINT NOT NULL REFERENCES service_clients (id) ON DELETE CASCADE,
    event_id    TEXT NOT NULL CHECK (length(event_id) BETWEEN 1 AND 64),
    received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (client_id, event_id)
);

-- Moderation alerts: what kind of harm, how severe, what the platform did,
-- when, and the other account's platform ID. Never what a message said: there
-- is no column for it. A burst about the same teen, category and other
-- account within an hour is one alert whose count grows (occurrences,
-- last_occurred_at; severity is the highest seen). Deleted after the
-- retention period (90 days unless configured) by the hourly job.
CREATE TABLE alerts (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    teen_id          BIGINT NOT NULL REFERENCES teens (id) ON DELETE CASCADE,
    client_id        BIGINT NOT NULL REFERENCES service_clients (id) ON DELETE CASCADE,
    -- the first event's ID, as the platform sent it
    event_id         TEXT NOT NULL,
    counterpart_id   TEXT NOT NULL DEFAULT '',
    direction        TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    category         TEXT NOT NULL CHECK (category IN ('bullying', 'harassment', 'hate', 'self_harm', 'sexual_content',
                         'grooming', 'sextortion', 'violence', 'scam', 'spam', 'other')),
    severity         TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    -- 1 low … 4 critical, for filtering and ordering by severity
    severity_rank    INTEGER NOT NULL CHECK (severity_rank BETWEEN 1 AND 4),
    action_taken     TEXT NOT NULL CHECK (action_taken IN ('none', 'message_blocked', 'message_held', 'sender_warned',
                         'sender_restricted', 'sender_suspended')),
    occurred_at      TIMESTAMPTZ NOT NULL,
    last_occurred_at TIMESTAMPTZ NOT NULL,
    occurrences      INTEGER NOT NULL DEFAULT 1 CHECK (occurrences >= 1),
    received_at      TIMESTAMPTZ NOT NULL,
    -- a guardian marked it "not useful": kept as feedback on the classifier
    not_useful_at    TIMESTAMPTZ,
    not_useful_by    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    -- set when the immediate emails were queued (high and critical), or
    -- when a weekly digest included it
    emailed_at       TIMESTAMPTZ,
    digested_at      TIMESTAMPTZ
);
-- The inbox and the teen's receipts: newest first per teen (keyset on
-- occurred_at, id).
CREATE INDEX alerts_teen_occurred ON alerts (teen_id, occurred_at DESC, id DESC);
-- Burst grouping looks up the latest alert for a teen, category and account.
CREATE INDEX alerts_burst ON alerts (teen_id, category, counterpart_id, last_occurred_at);
-- Retention deletes by age across all teens.
CREATE INDEX alerts_received ON alerts (received_at);

-- A guardian acknowledged one alert. "Mark all read" moves the guardian's
-- watermark per teen instead of writing a row per alert.
CREATE TABLE alert_reads (
    alert_id BIGINT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (alert_id, user_id)
);
CREATE INDEX alert_reads_user ON alert_reads (user_id);

CREATE TABLE alert_watermarks (
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    teen_id      BIGINT NOT NULL REFERENCES teens (id) ON DELETE CASCADE,
    -- every alert of this teen with an ID up to here counts as read
    read_through BIGINT NOT NULL CHECK (read_through >= 0),
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, teen_id)
);

-- A guardian's choice, per category, of the lowest severity that emails at
-- once ('never' sends that category only in the digest). No row: high.
CREATE TABLE alert_preferences (
    user_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category       TEXT NOT NULL,
    immediate_from TEXT NOT NULL CHECK (immediate_from IN ('low', 'medium', 'high', 'critical', 'never')),
    PRIMARY KEY (user_id, category)
);

-- Per guardian: whether the weekly digest is wanted and when it last went.
CREATE TABLE digest_settings (
    user_id      BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    weekly       BOOLEAN NOT NULL DEFAULT TRUE,
    last_sent_at TIMESTAMPTZ
);

-- Which guardian was emailed at once about which alert, and at what
-- severity: written in the transaction that queues the email, so a retried
-- job never emails twice, a burst that grows past a guardian's threshold
-- emails them once it does, and the weekly digest leaves out what a
-- guardian already got by email.
CREATE TABLE alert_emails (
    alert_id      BIGINT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    severity_rank INTEGER NOT NULL CHECK (severity_rank BETWEEN 1 AND 4),
    queued_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (alert_id, user_id)
);
CREATE INDEX alert_emails_user ON alert_emails (user_id);

-- A teen erased when the messaging service deprovisions them leaves no
-- policies row from which the nodes could read "no longer supervised". The
-- erasure writes a tombstone under the next policy seq instead: nodes apply
-- it like rules with supervised = false and forget the teen. It holds the
-- client and the platform ID only, and is deleted after 30 days once every
-- node seen in that time has applied it.
CREATE TABLE policy_tombstones (
    seq              BIGINT PRIMARY KEY,
    client_id        BIGINT NOT NULL REFERENCES service_clients (id) ON DELETE CASCADE,
    platform_user_id TEXT NOT NULL,
    erased_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX policy_tombstones_erased_at ON policy_tombstones (erased_at);

-- Unread counts (the nav badge on every guardian page, the dashboard, the
-- inbox's total) count a teen's alerts above the guardian's watermark: an
-- index range on (teen_id, id), never a lookup per alert.
CREATE INDEX alerts_teen_id ON alerts (teen_id, id);
-- The 8-week chart counts a teen's alerts by week and category from the
-- index alone.
CREATE INDEX alerts_teen_chart ON alerts (teen_id, occurred_at, category);

-- +goose Down
DROP TABLE policy_tombstones;
DROP TABLE alert_emails;
DROP TABLE digest_settings;
DROP TABLE alert_preferences;
DROP TABLE alert_watermarks;
DROP TABLE alert_reads;
DROP TABLE alerts;
DROP TABLE received_events;
ALTER TABLE service_clients DROP COLUMN previous_secret_expires_at;
ALTER TABLE service_clients DROP COLUMN previous_webhook_secret;
