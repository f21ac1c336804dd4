-- Per-(rule, case) edge state of the flavors that fire on a query's edges
-- (src/flavors/kit/edge): whether the rule's query matched the case at the
-- last case version seen, under which version of the rule, and how often it
-- fired. Written in the transaction of the firing's ledger claim.
CREATE TABLE IF NOT EXISTS rule_edges (
    flavor        TEXT   NOT NULL,
    rule_id       TEXT   NOT NULL,
    case_id       TEXT   NOT NULL,
    rule_version  TEXT   NOT NULL,
    case_version  BIGINT NOT NULL,
    matched       BIGINT NOT NULL,
    fired         BIGINT NOT NULL,
    closed_at     BIGINT,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (flavor, rule_id, case_id)
);
CREATE INDEX IF NOT EXISTS rule_edges_closed ON rule_edges (closed_at);
