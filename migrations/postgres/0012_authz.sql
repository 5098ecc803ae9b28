-- Runtime authorization of agents (Cedar).
--
-- The limits set on an agent in the UI, compiled into Cedar policies.
CREATE TABLE agent_limits (
    identity_id          UUID PRIMARY KEY NOT NULL REFERENCES identities (id),
    tools                TEXT NOT NULL DEFAULT '[]',
    environments         TEXT NOT NULL DEFAULT '[]',
    max_session_minutes  BIGINT CHECK (max_session_minutes > 0),
    max_calls            BIGINT CHECK (max_calls > 0),
    max_delegation_depth BIGINT CHECK (max_delegation_depth > 0),
    updated_by           TEXT NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);

-- Cedar policies admins write. `principal_id`: the identity the policy names with
-- `principal == …` (it is evaluated only for that identity); NULL: for everyone.
CREATE TABLE authz_policies (
    id           UUID PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL UNIQUE,
    description  TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL,
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    principal_id UUID,
    updated_by   TEXT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- Agent sessions: when each started and how many calls it made, counted by one atomic
-- upsert per call, so session limits hold across replicas.
CREATE TABLE authz_sessions (
    identity_id  UUID NOT NULL REFERENCES identities (id),
    session_id   TEXT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    last_call_at TIMESTAMPTZ NOT NULL,
    calls        BIGINT NOT NULL,
    PRIMARY KEY (identity_id, session_id)
);

-- Every decision, written in batches off the request path.
CREATE TABLE authz_decisions (
    id               UUID PRIMARY KEY NOT NULL,
    at               TIMESTAMPTZ NOT NULL,
    identity_id      UUID NOT NULL,
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
ALTER TABLE api_tokens ADD COLUMN agent_id UUID REFERENCES identities (id);

-- What changed for authorization, for the decision caches of every replica: one row per
-- change, naming the identity (NULL: everyone, e.g. an admin policy). Old rows are pruned.
CREATE TABLE authz_changes (
    seq         BIGSERIAL PRIMARY KEY,
    identity_id UUID,
    at          TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE FUNCTION authz_change_identity() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO authz_changes (identity_id) VALUES (OLD.identity_id);
        RETURN OLD;
    END IF;
    INSERT INTO authz_changes (identity_id) VALUES (NEW.identity_id);
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION authz_change_self() RETURNS trigger AS $$
BEGIN
    INSERT INTO authz_changes (identity_id) VALUES (NEW.id);
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION authz_change_delegation() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO authz_changes (identity_id) VALUES (OLD.from_id);
        RETURN OLD;
    END IF;
    INSERT INTO authz_changes (identity_id) VALUES (NEW.from_id);
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION authz_change_everyone() RETURNS trigger AS $$
BEGIN
    INSERT INTO authz_changes (identity_id) VALUES (NULL);
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER authz_identities AFTER UPDATE OF status, kind, team, environment, sensitivity_ceiling, name
    ON identities FOR EACH ROW EXECUTE FUNCTION authz_change_self();
CREATE TRIGGER authz_entitlements AFTER INSERT OR UPDATE OR DELETE ON entitlements
    FOR EACH ROW EXECUTE FUNCTION authz_change_identity();
CREATE TRIGGER authz_grants AFTER INSERT OR UPDATE OF state, expires_at ON grants
    FOR EACH ROW EXECUTE FUNCTION authz_change_identity();
CREATE TRIGGER authz_limits AFTER INSERT OR UPDATE OR DELETE ON agent_limits
    FOR EACH ROW EXECUTE FUNCTION authz_change_identity();
CREATE TRIGGER authz_delegations AFTER INSERT OR UPDATE OR DELETE ON delegations
    FOR EACH ROW EXECUTE FUNCTION authz_change_delegation();
CREATE TRIGGER authz_policies_changed AFTER INSERT OR UPDATE OR DELETE ON authz_policies
    FOR EACH STATEMENT EXECUTE FUNCTION authz_change_everyone();
