-- +goose Up

-- A guardian supervising a teen. Rows are never deleted when a link ends:
-- the ended link is the history both sides see. At most one live (active
-- or suspended) link per pair, enforced by the partial unique index below,
-- so even a bug in the store cannot double-link.
CREATE TABLE links (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    teen_id     INTEGER NOT NULL REFERENCES teens (id) ON DELETE CASCADE,
    -- Erasing a guardian's account removes their links; the account
    -- deletion must end live links first so the teen is told.
    guardian_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state       TEXT NOT NULL CHECK (state IN ('active', 'suspended', 'ended')),
    created_at  DATETIME NOT NULL,
    ended_at    DATETIME,
    end_reason  TEXT NOT NULL DEFAULT '',
    ended_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    CHECK ((state = 'ended') = (ended_at IS NOT NULL))
);
CREATE UNIQUE INDEX links_live_pair ON links (teen_id, guardian_id) WHERE state IN ('active', 'suspended');
CREATE INDEX links_teen_id ON links (teen_id, state);
CREATE INDEX links_guardian_id ON links (guardian_id, state);
CREATE INDEX links_ended_by ON links (ended_by);

-- Invitation codes are stored only as SHA-256 hashes of the normalized code.
CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    guardian_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL UNIQUE,
    label       TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'withdrawn')),
    teen_id     INTEGER REFERENCES teens (id) ON DELETE CASCADE,
    expires_at  DATETIME NOT NULL,
    created_at  DATETIME NOT NULL,
    answered_at DATETIME,
    CHECK ((state IN ('accepted', 'declined')) = (teen_id IS NOT NULL))
);
CREATE INDEX invitations_guardian_id ON invitations (guardian_id, state, created_at);
CREATE INDEX invitations_teen_id ON invitations (teen_id);
CREATE INDEX invitations_expires_at ON invitations (expires_at);

-- What a teen asks a guardian for. Generic on purpose: kind says what it is,
-- payload carries the details a kind needs (loosening a DM rule names the
-- rule and the value).
CREATE TABLE requests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    teen_id       INTEGER NOT NULL REFERENCES teens (id) ON DELETE CASCADE,
    link_id       INTEGER REFERENCES links (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('end_supervision', 'loosen_policy')),
    state         TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'declined', 'cancelled')),
    reason        TEXT NOT NULL DEFAULT '',
    payload       TEXT NOT NULL DEFAULT '{}',
    created_at    DATETIME NOT NULL,
    decided_at    DATETIME,
    decided_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    decision_note TEXT NOT NULL DEFAULT '',
    expires_at    DATETIME,
    CHECK (kind <> 'end_supervision' OR link_id IS NOT NULL)
);
-- One unanswered request of a kind per link; requests without a link are
-- limited by the store.
CREATE UNIQUE INDEX requests_one_pending ON requests (link_id, kind) WHERE state = 'pending';
CREATE INDEX requests_teen_id ON requests (teen_id, state, id);
CREATE INDEX requests_link_id ON requests (link_id);
CREATE INDEX requests_decided_by ON requests (decided_by);

-- The append-only, hash-chained log of everything that happens to a teen.
-- actor_id and link_id are deliberately not foreign keys: a referential
-- action (SET NULL) would have to update rows that must never change, and
-- the hash covers them. before and after hold the exact JSON text the hash
-- was computed over.
CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    teen_id      INTEGER NOT NULL REFERENCES teens (id) ON DELETE CASCADE,
    at           DATETIME NOT NULL,
    actor_id     INTEGER,
    actor_role   TEXT NOT NULL,
    actor_name   TEXT NOT NULL DEFAULT '',
    action       TEXT NOT NULL,
    link_id      INTEGER,
    "before"     TEXT NOT NULL DEFAULT '{}',
    "after"      TEXT NOT NULL DEFAULT '{}',
    reason       TEXT NOT NULL DEFAULT '',
    confidential BOOLEAN NOT NULL DEFAULT 0,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX audit_events_teen_id ON audit_events (teen_id, id);

-- Rows may be deleted (retention after 2 years, account erasure) but never
-- changed: an edit would be a forgery.
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
-- +goose StatementEnd

-- In-app notifications; the bell counts unread rows per user.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    teen_id    INTEGER REFERENCES teens (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL,
    url        TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    read_at    DATETIME
);
CREATE INDEX notifications_user_id ON notifications (user_id, read_at, id);
CREATE INDEX notifications_teen_id ON notifications (teen_id);

-- +goose Down
DROP TABLE notifications;
DROP TABLE audit_events;
DROP TABLE requests;
DROP TABLE invitations;
DROP TABLE links;
