-- Runtime authorization of agents (Cedar).
--
-- The limits set on an agent in the UI, compiled into Cedar policies.
CREATE TABLE agent_limits (
    identity_id          BLOB PRIMARY KEY NOT NULL REFERENCES identities (id),
    tools                TEXT NOT NULL DEFAULT '[]',
    environments         TEXT NOT NULL DEFAULT '[]',
    max_session_minutes  INTEGER CHECK (max_session_minutes > 0),
    max_calls            INTEGER CHECK (max_calls > 0),
    max_delegation_depth INTEGER CHECK (max_delegation_depth > 0),
    updated_by           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);

-- Cedar policies admins write. `principal_id`: the identity the policy names with
-- `principal == …` (it is evaluated only for that identity); NULL: for everyone.
CREATE TABLE authz_policies (
    id           BLOB PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL UNIQUE,
    description  TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL,
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    principal_id BLOB,
    updated_by   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- Agent sessions: when each started and how many calls it made, counted by one atomic
-- upsert per call, so session limits hold across processes.
CREATE TABLE authz_sessions (
    identity_id  BLOB NOT NULL REFERENCES identities (id),
    session_id   TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    last_call_at TEXT NOT NULL,
    calls        INTEGER NOT NULL,
    PRIMARY KEY (identity_id, session_id)
);

-- Every decision, written in batches off the request path.
CREATE TABLE authz_decisions (
    id               BLOB PRIMARY KEY NOT NULL,
    at               TEXT NOT NULL,
    identity_id      BLOB NOT NULL,
    action           TEXT NOT NULL,
    resource         TEXT NOT NULL,
    decision         TEXT NOT NULL CHECK (decision IN ('allow', 'deny')),
    reasons          TEXT NOT NULL,
    diagnostics      TEXT NOT NULL,
    session_id       TEXT,
    task             TEXT NOT NULL,
    environment      TEXT NOT NULL,
    delegation_chain TEXT NOT NULL,
    credential       TEXT NOT NULL
);
CREATE INDEX authz_decisions_identity ON authz_decisions (identity_id, at DESC);

-- An API token can act for an agent at runtime (`POST /api/v1/authorize`).
ALTER TABLE api_tokens ADD COLUMN agent_id BLOB REFERENCES identities (id);

-- What changed for authorization, for the decision caches: one row per change, naming
-- the identity (NULL: everyone, e.g. an admin policy). Old rows are pruned.
CREATE TABLE authz_changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    identity_id BLOB,
    at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TRIGGER authz_identities AFTER UPDATE OF status, kind, team, environment, sensitivity_ceiling, name ON identities
BEGIN INSERT INTO authz_changes (identity_id) VALUES (NEW.id); END;
CREATE TRIGGER authz_entitlements_insert AFTER INSERT ON entitlements
BEGIN INSERT INTO authz_changes (identity_id) VALUES (NEW.identity_id); END;
CREATE TRIGGER authz_entitlements_update AFTER UPDATE ON entitlements
BEGIN INSERT INTO authz_changes (identity_id) VALUES (NEW.identity_id); END;
CREATE TRIGGER authz_entitlements_delete AFTER DELETE ON entitlements
BEGIN INSERT INTO authz_changes (identity_id) VALUES (OLD.identity_id); END;
CREATE TRIGGER authz_grants_insert AFTER INSERT ON grants
BEGIN INSERT INTO authz_changes (identity_id) VALUES (NEW.identity_id); END;
CREATE TRIGGER authz_grants_update AFTER UPDATE OF state, expires_at ON grants
BEGIN INSERT INTO authz_changes (identity_id) VALUES (NEW.identity_id); END;
CREATE TRIGGER authz_limits_insert AFTER INSERT ON agent_limits
BEGIN INSERT INTO authz_changes (identity_id) VALUES (NEW.identity_id); END;
CREATE TRIGGER authz_limits_update AFTER UPDATE ON agent_limits
BEGIN INSERT INTO authz_changes (identity_id) VALUES (NEW.identity_id); END;
CREATE TRIGGER authz_limits_delete AFTER DELETE ON agent_limits
BEGIN INSERT INTO authz_changes (identity_id) VALUES (OLD.identity_id); END;
CREATE TRIGGER authz_delegations_insert AFTER INSERT ON delegations
BEGIN INSERT INTO authz_changes (identity_id) VALUES (NEW.from_id); END;
CREATE TRIGGER authz_delegations_delete AFTER DELETE ON delegations
BEGIN INSERT INTO authz_changes (identity_id) VALUES (OLD.from_id); END;
CREATE TRIGGER authz_policies_insert AFTER INSERT ON authz_policies
BEGIN INSERT INTO authz_changes (identity_id) VALUES (NULL); END;
CREATE TRIGGER authz_policies_update AFTER UPDATE ON authz_policies
BEGIN INSERT INTO authz_changes (identity_id) VALUES (NULL); END;
CREATE TRIGGER authz_policies_delete AFTER DELETE ON authz_policies
BEGIN INSERT INTO authz_changes (identity_id) VALUES (NULL); END;
