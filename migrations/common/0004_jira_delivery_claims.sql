-- A webhook delivery is claimed atomically before it is handled: 'claimed'
-- while one request works on it (a claim older than the lease may be taken
-- over after a crash), 'done' once its events are acknowledged.
ALTER TABLE jira_webhook_deliveries ADD COLUMN state TEXT NOT NULL DEFAULT 'done';
