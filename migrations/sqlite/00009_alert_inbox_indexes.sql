-- +goose Up

-- The inbox reads each teen's alerts newest first and stops once a page is
-- full, whatever the number of teens: SQLite ends a teen's range early when
-- its next entry cannot make the page any more. That needs the range to be
-- read from the index alone, so it carries what the filters test (category,
-- severity). The 8-week chart counts from the same index.
DROP INDEX alerts_teen_occurred;
DROP INDEX alerts_teen_chart;
CREATE INDEX alerts_teen_inbox ON alerts (teen_id, occurred_at DESC, id DESC, category, severity_rank);

-- Unread and read counts are ranges on (teen_id, id) either side of a
-- guardian's watermark; with the filters' columns a filtered count also
-- reads the index alone.
DROP INDEX alerts_teen_id;
CREATE INDEX alerts_teen_unread ON alerts (teen_id, id, category, severity_rank);

-- +goose Down
DROP INDEX alerts_teen_unread;
CREATE INDEX alerts_teen_id ON alerts (teen_id, id);
DROP INDEX alerts_teen_inbox;
CREATE INDEX alerts_teen_chart ON alerts (teen_id, occurred_at, category);
CREATE INDEX alerts_teen_occurred ON alerts (teen_id, occurred_at DESC, id DESC);
