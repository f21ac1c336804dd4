-- Inbound webhook deliveries of every flavor (src/flavors/kit/inbound/claims.rs):
-- a delivery is claimed atomically before it is handled, 'claimed' until
-- expires_at (the lease; a later copy may take it over after a crash), then
-- 'done' until expires_at (handled + retention, at least 72 h), so a late
-- copy answers duplicate. Rows past expires_at are swept.
CREATE TABLE IF NOT EXISTS inbound_deliveries (
    flavor      TEXT   NOT NULL,
    delivery_id TEXT   NOT NULL,
    state       TEXT   NOT NULL,
    claimed_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (flavor, delivery_id)
);
CREATE INDEX IF NOT EXISTS inbound_deliveries_expiry ON inbound_deliveries (expires_at);
-- Jira's claims so far, kept 72 h from receipt. (`WHERE true`: SQLite
-- would otherwise read ON CONFLICT as a join constraint.)
INSERT INTO inbound_deliveries (flavor, delivery_id, state, claimed_at, expires_at)
SELECT 'jira', delivery_id, state, received_at, received_at + 259200000
FROM jira_webhook_deliveries WHERE true
ON CONFLICT DO NOTHING;
