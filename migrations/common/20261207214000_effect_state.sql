-- External-effect state of the kit (src/flavors/kit/intent, kit/fieldsync),
-- shared by every flavor that writes to a vendor; replaces jira's own tables,
-- whose rows are carried over below.
--
-- intents: one row per (flavor, kind, entity_key, target), written before a
-- vendor call that has no idempotency key: 'claimed' while the call is in
-- flight or its outcome is unknown, 'linked' once the external object is
-- known (ext_*), 'unknown' when a crash hid the outcome and the vendor cannot
-- be asked. The case columns name the case the object belongs to.
CREATE TABLE IF NOT EXISTS intents (
    flavor      TEXT   NOT NULL,
    kind        TEXT   NOT NULL,
    entity_key  TEXT   NOT NULL,
    target      TEXT   NOT NULL,
    state       TEXT   NOT NULL,
    ext_id      TEXT,
    ext_key     TEXT,
    ext_url     TEXT,
    stale       BIGINT NOT NULL DEFAULT 0,
    case_id     TEXT   NOT NULL DEFAULT '',
    org_id      TEXT   NOT NULL DEFAULT '',
    project_id  TEXT   NOT NULL DEFAULT '',
    case_key    TEXT   NOT NULL DEFAULT '',
    attempts    BIGINT NOT NULL DEFAULT 0,
    intent_at   BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (flavor, kind, entity_key, target)
);
CREATE INDEX IF NOT EXISTS intents_by_ext ON intents (flavor, kind, ext_id);

-- sync_digests: the digest of the value last synced per (flavor, entity,
-- field); sync_marks: the newest inbound change applied per (flavor,
-- external object, field), as the vendor's ordering key.
CREATE TABLE IF NOT EXISTS sync_digests (
    flavor      TEXT   NOT NULL,
    entity_key  TEXT   NOT NULL,
    field       TEXT   NOT NULL,
    digest      TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (flavor, entity_key, field)
);
CREATE TABLE IF NOT EXISTS sync_marks (
    flavor      TEXT   NOT NULL,
    ext_key     TEXT   NOT NULL,
    field       TEXT   NOT NULL,
    mark        BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (flavor, ext_key, field)
);

-- Jira's rows, carried over. A case link is (jira, case, <case id>, issue);
-- a comment sent or pending under its 'comment:<cell>' hash becomes
-- (jira, comment, <cell id>, <issue id>), 'sent:<id>' linked and
-- 'pending:<event>' claimed with no lease (the next try looks it up).
INSERT INTO intents (flavor, kind, entity_key, target, state, ext_id, ext_key, ext_url, stale,
                     case_id, org_id, project_id, case_key, attempts, intent_at, lease_until, updated_at)
SELECT 'jira', 'case', case_id, 'issue',
       CASE WHEN state = 'linked' THEN 'linked' ELSE 'claimed' END,
       issue_id, issue_key, issue_url, stale,
       case_id, org_id, project_id, case_key, 1, intent_at, 0, updated_at
FROM jira_links;

INSERT INTO intents (flavor, kind, entity_key, target, state, ext_id, stale,
                     case_id, org_id, project_id, case_key, attempts, intent_at, lease_until, updated_at)
SELECT 'jira', 'comment', substr(h.field, 9), l.issue_id,
       CASE WHEN h.hash LIKE 'sent:%' THEN 'linked' ELSE 'claimed' END,
       CASE WHEN h.hash LIKE 'sent:%' THEN substr(h.hash, 6) ELSE NULL END,
       0, l.case_id, l.org_id, l.project_id, l.case_key, 1, h.updated_at, 0, h.updated_at
FROM jira_field_hashes h JOIN jira_links l ON l.case_id = h.case_id
WHERE h.field LIKE 'comment:%' AND l.issue_id IS NOT NULL;

INSERT INTO sync_digests (flavor, entity_key, field, digest, updated_at)
SELECT 'jira', case_id, field, hash, updated_at FROM jira_field_hashes
WHERE field NOT LIKE 'comment:%';

INSERT INTO sync_marks (flavor, ext_key, field, mark, updated_at)
SELECT 'jira', issue_id, field, updated_ms, updated_ms FROM jira_inbound_marks;

DROP TABLE jira_inbound_marks;
DROP TABLE jira_field_hashes;
DROP TABLE jira_links;
