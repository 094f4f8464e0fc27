-- +goose Up

-- The inbox reads each teen's alerts newest first, a page at most per teen
-- (LATERAL), whatever the number of teens. With what the filters test
-- (category, severity) in the index, those reads and the 8-week chart's
-- counts are index-only scans.
DROP INDEX alerts_teen_occurred;
DROP INDEX alerts_teen_chart;
CREATE INDEX alerts_teen_inbox ON alerts (teen_id, occurred_at DESC, id DESC) INCLUDE (category, severity_rank);

-- Unread and read counts are ranges on (teen_id, id) either side of a
-- guardian's watermark; with the filters' columns a filtered count also
-- reads the index alone.
DROP INDEX alerts_teen_id;
CREATE INDEX alerts_teen_unread ON alerts (teen_id, id) INCLUDE (category, severity_rank);

-- +goose Down
DROP INDEX alerts_teen_unread;
CREATE INDEX alerts_teen_id ON alerts (teen_id, id);
DROP INDEX alerts_teen_inbox;
CREATE INDEX alerts_teen_chart ON alerts (teen_id, occurred_at, category);
CREATE INDEX alerts_teen_occurred ON alerts (teen_id, occurred_at DESC, id DESC);
