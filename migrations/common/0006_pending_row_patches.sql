-- Patches of read-model rows that did not exist yet when they came (an edit
-- or delete before its creation: producers and outboxes reorder). Applied,
-- in version order, by the batch that creates the row, then deleted.
CREATE TABLE IF NOT EXISTS pending_row_patches (
    table_name TEXT   NOT NULL,
    row_key    TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    columns    TEXT   NOT NULL,
    vals       TEXT   NOT NULL,
    only_if    TEXT,
    parked_at  BIGINT NOT NULL,
    PRIMARY KEY (table_name, row_key, version)
);
