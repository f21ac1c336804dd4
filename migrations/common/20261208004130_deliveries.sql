-- Per-destination delivery of the kit (src/flavors/kit/delivery/, Kit II-d):
-- a durable queue so that one dead destination (an email relay, a Slack
-- channel, a customer's webhook endpoint) never holds up the others or a
-- Kafka partition.
--
-- deliveries: one row per (flavor, destination, delivery_id), enqueued by the
-- batch writer in the transaction of the event that made it (insert if
-- absent: a redelivered event enqueues nothing twice). destination names the
-- instance (e.g. 'webhook:ep-42'); delivery_id is the idempotency key the
-- destination sees, derived from the event id and the destination; case_key
-- and seq (e.g. the case version) order the rows of one (destination, case):
-- a row is leased only when no row before it is still pending or leased.
--
-- state: 'pending' until leased (due from next_at), 'leased' while one worker
-- delivers it (until leased_until; a lease past it is taken over, and every
-- outcome is fenced by the lease), 'delivered' (delivered_at), 'dead' (the
-- dead letter: last_error says why). attempts counts finished attempts;
-- created_at starts the retry horizon. event_id, correlation_id and
-- chain_depth are the enqueueing event's id and causal stamps. Times are ms.
CREATE TABLE IF NOT EXISTS deliveries (
    flavor         TEXT   NOT NULL,
    destination    TEXT   NOT NULL,
    delivery_id    TEXT   NOT NULL,
    case_key       TEXT   NOT NULL,
    seq            BIGINT NOT NULL,
    payload        TEXT   NOT NULL DEFAULT 'null',
    state          TEXT   NOT NULL DEFAULT 'pending',
    attempts       BIGINT NOT NULL DEFAULT 0,
    next_at        BIGINT NOT NULL,
    leased_until   BIGINT NOT NULL DEFAULT 0,
    last_error     TEXT   NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    delivered_at   BIGINT NOT NULL DEFAULT 0,
    event_id       TEXT   NOT NULL,
    correlation_id TEXT   NOT NULL DEFAULT '',
    chain_depth    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (flavor, destination, delivery_id)
);
-- The due rows of a destination in order (the lease's branches).
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (flavor, destination, state, next_at);
-- The rows of a (destination, case) by seq (is an earlier one undelivered?).
CREATE INDEX IF NOT EXISTS deliveries_order ON deliveries (flavor, destination, case_key, seq);

-- delivery_destinations: per-destination state. 'active', or 'disabled'
-- (after a 410 or a configured time failing; reason says why) until enabled
-- again; hold_until (ms) pauses an active destination (a 429's Retry-After);
-- failing_since (ms, 0 when healthy) starts the auto-disable clock.
CREATE TABLE IF NOT EXISTS delivery_destinations (
    flavor        TEXT   NOT NULL,
    destination   TEXT   NOT NULL,
    state         TEXT   NOT NULL DEFAULT 'active',
    reason        TEXT   NOT NULL DEFAULT '',
    failing_since BIGINT NOT NULL DEFAULT 0,
    hold_until    BIGINT NOT NULL DEFAULT 0,
    updated_at    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (flavor, destination)
);
