-- When a timer's current run of failed firings began (ms; 0 while none
-- failed): its retry budget counts from there, not from its due time, so a
-- timer that comes due during an outage still gets its retries after it.
ALTER TABLE timers ADD COLUMN failing_since BIGINT NOT NULL DEFAULT 0;
