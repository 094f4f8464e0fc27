-- +goose Up

-- Proof the rules work: per teen, per day and per reason, how many DM checks
-- the teen's own rules decided. Totals only: nothing here says who sent a
-- message, to whom, or what it said.
--
-- day is the teen's local date ('YYYY-MM-DD' in their time zone at the time
-- of the check), so "the last 7 days" means the teen's days. reason is a
-- policy.Reason name (quiet_hours, not_friends, allowed, …); a new reason
-- needs no migration.
--
-- Every node keeps counts in memory and adds them here every few seconds
-- (INSERT … ON CONFLICT DO UPDATE SET count = rule_counts.count +
-- excluded.count), so several nodes can add to one row safely. Rows older
-- than 90 days are deleted by the hourly maintenance job.
CREATE TABLE rule_counts (
    teen_id INTEGER NOT NULL REFERENCES teens (id) ON DELETE CASCADE,
    day     TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    reason  TEXT NOT NULL CHECK (reason <> ''),
    count   INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (teen_id, day, reason)
) WITHOUT ROWID;
-- For the retention delete, which goes by day across all teens.
CREATE INDEX rule_counts_day ON rule_counts (day);

-- +goose Down
DROP TABLE rule_counts;
