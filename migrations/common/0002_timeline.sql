-- Timeline read model: one cell per case event (comment edits and deletions
-- update or tombstone their comment's cell).
CREATE TABLE IF NOT EXISTS timeline_cells (
    cell_id           TEXT    PRIMARY KEY,
    case_id           TEXT    NOT NULL,
    case_key          TEXT    NOT NULL,
    project_id        TEXT    NOT NULL,
    cell_type         TEXT    NOT NULL,
    event_type        TEXT    NOT NULL,
    event_id          TEXT    NOT NULL,
    actor_kind        TEXT    NOT NULL,
    actor_id          TEXT    NOT NULL,
    actor_name        TEXT    NOT NULL,
    occurred_at       BIGINT  NOT NULL,
    aggregate_version BIGINT  NOT NULL,
    updated_version   BIGINT  NOT NULL,
    content           TEXT    NOT NULL,
    edited_at         BIGINT,
    deleted_at        BIGINT
);
CREATE INDEX IF NOT EXISTS timeline_cells_by_case ON timeline_cells (case_id, aggregate_version);
CREATE INDEX IF NOT EXISTS timeline_cells_by_key ON timeline_cells (case_key, aggregate_version);
