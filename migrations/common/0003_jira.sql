-- Jira sync (flavor `jira`): the case ↔ issue link, the last-synced value hash
-- per field, and the webhook deliveries already handled.
--
-- A link row is written with state 'creating' before the create call and
-- turned 'linked' when the issue id is known; after a lost create the row
-- tells the next attempt to look the issue up (by label) before creating.
CREATE TABLE IF NOT EXISTS jira_links (
    case_id     TEXT   PRIMARY KEY,
    project_id  TEXT   NOT NULL,
    case_key    TEXT   NOT NULL,
    org_id      TEXT   NOT NULL,
    state       TEXT   NOT NULL,
    stale       BIGINT NOT NULL DEFAULT 0,
    issue_id    TEXT,
    issue_key   TEXT,
    issue_url   TEXT,
    intent_at   BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS jira_links_by_issue ON jira_links (issue_id);

CREATE TABLE IF NOT EXISTS jira_field_hashes (
    case_id     TEXT   NOT NULL,
    field       TEXT   NOT NULL,
    hash        TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (case_id, field)
);

CREATE TABLE IF NOT EXISTS jira_webhook_deliveries (
    delivery_id TEXT   PRIMARY KEY,
    issue_id    TEXT   NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS jira_webhook_deliveries_age ON jira_webhook_deliveries (received_at);
