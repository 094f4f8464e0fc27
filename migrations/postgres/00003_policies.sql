-- +goose Up

-- Every change that affects what a DM check decides for a teen takes the
-- next number of this sequence, in the writing transaction. Nodes keep an
-- in-memory copy of the rules and apply changes in seq order, recording the
-- highest seq they have applied in cluster_nodes. The store takes a
-- transaction-scoped advisory lock before nextval, so seqs commit in the
-- order they are handed out and a node that has read seq N has every
-- change numbered below N.
CREATE SEQUENCE policy_seq AS BIGINT;

-- One row per teen who is or was supervised: the DM rules their guardians
-- share. Rules are kept when supervision ends (supervised = false), for
-- the history; supervision that starts again starts from the age defaults.
CREATE TABLE policies (
    teen_id                     BIGINT PRIMARY KEY REFERENCES teens (id) ON DELETE CASCADE,
    version                     BIGINT NOT NULL CHECK (version >= 1),
    audience                    TEXT NOT NULL CHECK (audience IN ('everyone', 'friends', 'approved', 'nobody')),
    quiet_enabled               BOOLEAN NOT NULL,
    -- minutes after local midnight in the teen's time zone
    quiet_start                 INTEGER NOT NULL CHECK (quiet_start BETWEEN 0 AND 1439),
    quiet_end                   INTEGER NOT NULL CHECK (quiet_end BETWEEN 0 AND 1439),
    quiet_approved_exempt       BOOLEAN NOT NULL,
    block_adult_strangers       BOOLEAN NOT NULL,
    media_friends_only          BOOLEAN NOT NULL,
    min_sender_account_age_days INTEGER NOT NULL CHECK (min_sender_account_age_days BETWEEN 0 AND 3650),
    -- true while the teen has at least one active link
    supervised                  BOOLEAN NOT NULL,
    seq                         BIGINT NOT NULL,
    updated_at                  TIMESTAMPTZ NOT NULL,
    updated_by_name             TEXT NOT NULL DEFAULT '',
    -- A time-limited loosening a guardian approved: at revert_at the rules
    -- go back to revert_to (PolicyRules JSON). Any edit clears both.
    revert_at                   TIMESTAMPTZ,
    revert_to                   TEXT,
    CHECK ((revert_at IS NULL) = (revert_to IS NULL)),
    CHECK (quiet_start <> quiet_end OR NOT quiet_enabled)
);
CREATE UNIQUE INDEX policies_seq ON policies (seq);
CREATE INDEX policies_revert_at ON policies (revert_at) WHERE revert_at IS NOT NULL;

-- Approved and blocked contacts. One ID is in at most one list per teen.
CREATE TABLE policy_contacts (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    teen_id          BIGINT NOT NULL REFERENCES policies (teen_id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('approved', 'blocked')),
    platform_user_id TEXT NOT NULL,
    label            TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (teen_id, platform_user_id)
);

-- One unanswered loosening request per teen (they have no link, so the
-- requests_one_pending index of 00002 does not cover them).
CREATE UNIQUE INDEX requests_one_pending_loosen ON requests (teen_id) WHERE kind = 'loosen_policy' AND state = 'pending';

-- The serve processes sharing this database, for the consistency protocol:
-- a writer waits until every live node (recent heartbeat) has applied its
-- change's seq.
CREATE TABLE cluster_nodes (
    id           TEXT PRIMARY KEY,
    applied_seq  BIGINT NOT NULL DEFAULT 0,
    heartbeat_at TIMESTAMPTZ NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX cluster_nodes_heartbeat_at ON cluster_nodes (heartbeat_at);

-- +goose Down
DROP TABLE cluster_nodes;
DROP INDEX requests_one_pending_loosen;
DROP TABLE policy_contacts;
DROP TABLE policies;
DROP SEQUENCE policy_seq;
