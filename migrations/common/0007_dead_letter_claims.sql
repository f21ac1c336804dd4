-- One dead letter per source record across crashes and rebalances: a record
-- is claimed before its dead letter is written ('writing', with the DLQ
-- partition it goes to and that partition's end offset then), and marked
-- 'written' once the broker acknowledged it. A later attempt at the same
-- record skips a written one, and looks for a 'writing' one in the DLQ
-- partition from dlq_from on before writing it (runtime/dlq/claims.rs).
CREATE TABLE dead_letter_claims (
    flavor        TEXT    NOT NULL,
    topic         TEXT    NOT NULL,
    part          INTEGER NOT NULL,
    record_offset BIGINT  NOT NULL,
    dlq_topic     TEXT    NOT NULL,
    dlq_partition INTEGER NOT NULL,
    dlq_from      BIGINT  NOT NULL,
    state         TEXT    NOT NULL,
    owner         TEXT    NOT NULL,
    claimed_at    BIGINT  NOT NULL,
    PRIMARY KEY (flavor, topic, part, record_offset)
);
