-- The processed-events ledger: one row per (flavor, event id) that reached a final outcome.
CREATE TABLE IF NOT EXISTS processed_events (
    flavor       TEXT   NOT NULL,
    event_id     TEXT   NOT NULL,
    processed_at BIGINT NOT NULL,
    PRIMARY KEY (flavor, event_id)
);
CREATE INDEX IF NOT EXISTS processed_events_age ON processed_events (processed_at);
