-- Durable timers of the kit (src/flavors/kit/timers/store.rs, Kit III-b):
-- one row per (flavor, case_key, timer_id), scheduled, moved and cancelled
-- by the batch writer in the transaction of the event that did it.
--
-- state: 'pending' until due and claimed, 'claimed' while one poller fires it
-- (until claimed_until; a claim past it is taken over), 'fired' once its
-- firing committed (fired_at), 'cancelled' as a tombstone (a late older
-- schedule must not resurrect it). topic/partition are the scheduling
-- event's, stored, never recomputed; event_id, correlation_id and
-- chain_depth are its id and causal stamps (the firing's ids derive from
-- them); version is its case version, the row's guard. Times are ms.
CREATE TABLE IF NOT EXISTS timers (
    flavor         TEXT   NOT NULL,
    case_key       TEXT   NOT NULL,
    timer_id       TEXT   NOT NULL,
    due_at         BIGINT NOT NULL,
    state          TEXT   NOT NULL,
    topic          TEXT   NOT NULL,
    partition      BIGINT NOT NULL,
    event_id       TEXT   NOT NULL,
    correlation_id TEXT   NOT NULL DEFAULT '',
    chain_depth    BIGINT NOT NULL DEFAULT 0,
    payload        TEXT   NOT NULL DEFAULT 'null',
    version        BIGINT NOT NULL,
    claimed_until  BIGINT NOT NULL DEFAULT 0,
    fired_at       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (flavor, case_key, timer_id)
);
CREATE INDEX IF NOT EXISTS timers_due ON timers (flavor, topic, partition, state, due_at);
