-- +goose Up

-- Support staff's second factor (TOTP, RFC 6238: 30-second steps, six
-- digits, SHA-1, as every authenticator app expects). One row per staff
-- account that has started enrolling; confirmed_at is set once they proved
-- their app works. last_step is the newest time step a code was accepted
-- for: a code for that step or an older one is refused, so an overheard
-- code cannot be replayed within its window. failed_attempts and
-- locked_until throttle guessing across every node (the database holds the
-- count, not a process). The secret is shown only while enrolling.
CREATE TABLE staff_second_factors (
    user_id         INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    totp_secret     TEXT NOT NULL,
    confirmed_at    DATETIME,
    last_step       INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until    DATETIME,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);

-- Single-use recovery codes, for a lost phone. Only SHA-256 hashes are
-- kept; the codes are shown once, when made.
CREATE TABLE staff_recovery_codes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_at    DATETIME,
    created_at DATETIME NOT NULL,
    UNIQUE (user_id, code_hash)
);

-- What leads did to staff accounts (and what `hearth user disable` did),
-- append-only: who, to whom, what, when and why. Names and emails are kept
-- as they were at the time.
CREATE TABLE staff_audit_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            DATETIME NOT NULL,
    actor_id      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    actor_name    TEXT NOT NULL,
    subject_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    subject_email TEXT NOT NULL,
    action        TEXT NOT NULL CHECK (action IN ('disable', 'enable', 'reset_second_factor', 'enrol_second_factor')),
    reason        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staff_audit_events_at ON staff_audit_events (at);
CREATE INDEX staff_audit_events_subject ON staff_audit_events (subject_id, at);

-- +goose Down
DROP TABLE staff_audit_events;
DROP TABLE staff_recovery_codes;
DROP TABLE staff_second_factors;
