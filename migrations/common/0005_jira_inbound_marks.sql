-- The newest inbound change applied per Jira issue and field (`summary`,
-- `priority`, `comment:<id>` ...), as the issue's or comment's `updated`
-- time in ms: an older delivery (Jira retries up to ~30 minutes late) never
-- overrides a newer one.
CREATE TABLE IF NOT EXISTS jira_inbound_marks (
    issue_id   TEXT   NOT NULL,
    field      TEXT   NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (issue_id, field)
);
