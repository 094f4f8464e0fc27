-- +goose Up

-- Disputes: a teen or a guardian asks Hearth support for help with a
-- supervision. The filer's own words are kept (up to 2,000 characters);
-- never any message content, which Hearth does not have.
--
-- Status, and who the case waits for:
--   open              waiting on staff (new, or the filer answered)
--   waiting_on_filer  staff asked the filer for information
--   resolved          closed with an outcome the filer sees
--   rejected          closed without action, with a note the filer sees
-- A pending proposal (an agent asked a lead to end a link or disable an
-- account) makes an open case wait on a lead.
--
-- confidential: a teen's dispute. Guardians never see the case or its audit
-- entries, and learn of staff action only as a neutral outcome.
-- version grows with every change, for optimistic concurrency: an action
-- names the version its author saw.
CREATE TABLE disputes (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    teen_id           BIGINT NOT NULL REFERENCES teens (id) ON DELETE CASCADE,
    link_id           BIGINT REFERENCES links (id) ON DELETE SET NULL,
    filer_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    filer_role        TEXT NOT NULL CHECK (filer_role IN ('teen', 'guardian')),
    kind              TEXT NOT NULL,
    description       TEXT NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
    status            TEXT NOT NULL CHECK (status IN ('open', 'waiting_on_filer', 'resolved', 'rejected')),
    confidential      BOOLEAN NOT NULL DEFAULT false,
    assignee_id       BIGINT REFERENCES users (id) ON DELETE SET NULL,
    outcome           TEXT NOT NULL DEFAULT '',
    version           BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    first_response_at TIMESTAMPTZ,
    closed_at         TIMESTAMPTZ,
    CHECK ((status IN ('resolved', 'rejected')) = (closed_at IS NOT NULL)),
    CHECK (filer_role = 'teen' AND kind IN ('not_my_guardian', 'guardian_misuse', 'end_supervision', 'rule_unfair', 'other')
        OR filer_role = 'guardian' AND kind IN ('lost_access', 'custody_change', 'guardian_disagreement', 'other'))
);
-- The queue: unclosed cases oldest first.
CREATE INDEX disputes_status ON disputes (status, created_at, id);
CREATE INDEX disputes_teen_id ON disputes (teen_id, id);
CREATE INDEX disputes_filer_id ON disputes (filer_id, id);
CREATE INDEX disputes_assignee_id ON disputes (assignee_id);
CREATE INDEX disputes_link_id ON disputes (link_id);

-- The thread between the filer and support. The filer reads all of it.
CREATE TABLE dispute_messages (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dispute_id  BIGINT NOT NULL REFERENCES disputes (id) ON DELETE CASCADE,
    author_id   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    author_role TEXT NOT NULL CHECK (author_role IN ('filer', 'staff')),
    author_name TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX dispute_messages_dispute_id ON dispute_messages (dispute_id, id);

-- Internal notes: staff only, never shown to the filer or anyone else.
CREATE TABLE dispute_notes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dispute_id  BIGINT NOT NULL REFERENCES disputes (id) ON DELETE CASCADE,
    author_id   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    author_name TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX dispute_notes_dispute_id ON dispute_notes (dispute_id, id);

-- An agent's proposal of a lead-only action, which a lead approves (and
-- Hearth carries out) or declines. One pending proposal per case.
CREATE TABLE dispute_proposals (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dispute_id       BIGINT NOT NULL REFERENCES disputes (id) ON DELETE CASCADE,
    action           TEXT NOT NULL CHECK (action IN ('end_link', 'disable_guardian')),
    link_id          BIGINT REFERENCES links (id) ON DELETE CASCADE,
    guardian_id      BIGINT REFERENCES users (id) ON DELETE CASCADE,
    reason           TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    state            TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'declined', 'withdrawn')),
    proposed_by      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    proposed_by_name TEXT NOT NULL DEFAULT '',
    decided_by       BIGINT REFERENCES users (id) ON DELETE SET NULL,
    decided_by_name  TEXT NOT NULL DEFAULT '',
    decision_reason  TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    decided_at       TIMESTAMPTZ,
    CHECK ((state = 'pending') = (decided_at IS NULL))
);
CREATE UNIQUE INDEX dispute_proposals_one_pending ON dispute_proposals (dispute_id) WHERE state = 'pending';
CREATE INDEX dispute_proposals_link_id ON dispute_proposals (link_id);
CREATE INDEX dispute_proposals_guardian_id ON dispute_proposals (guardian_id);

-- The case's own history: one row per version, saying what changed, by
-- whom and why. "This case changed since you opened it" shows the rows
-- after the version an agent saw. The teen's audit log records the same
-- actions, hash-chained.
CREATE TABLE dispute_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dispute_id BIGINT NOT NULL REFERENCES disputes (id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    at         TIMESTAMPTZ NOT NULL,
    actor_id   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    actor_role TEXT NOT NULL,
    actor_name TEXT NOT NULL DEFAULT '',
    action     TEXT NOT NULL,
    summary    TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    UNIQUE (dispute_id, version)
);

-- +goose Down
DROP TABLE dispute_events;
DROP TABLE dispute_proposals;
DROP TABLE dispute_notes;
DROP TABLE dispute_messages;
DROP TABLE disputes;
