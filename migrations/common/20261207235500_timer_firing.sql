-- Firing durable timers (src/runtime/dispatch/timers.rs, Kit III-b):
--
-- attempts / last_error: failed firings so far and the last failure (a
-- transient one is retried after its backoff by leaving the claim to run out
-- at the retry time; a permanent one, or one past the retry budget, ends the
-- timer in state 'dead' with the reason: the timer's dead letter).
-- state_version: the case version of the last write of `state`, its own
-- guard, so a cancel (v4) arriving after a newer move (v5) still cancels.
ALTER TABLE timers ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE timers ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE timers ADD COLUMN state_version BIGINT NOT NULL DEFAULT 0;
UPDATE timers SET state_version = version;
