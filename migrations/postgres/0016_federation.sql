-- Workload identity federation: trust configurations naming an issuer, its keys, the
-- audience and claim rules that map a token to one identity (services/federation.rs).
-- `jwks`: pasted keys; with `jwks_url` the keys are fetched and kept in memory only.
CREATE TABLE trust_configs (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL CHECK (kind IN ('spiffe', 'kubernetes', 'github_actions')),
    issuer     TEXT NOT NULL,
    audience   TEXT NOT NULL,
    jwks_url   TEXT,
    jwks       TEXT,
    rules      TEXT NOT NULL,
    mode       TEXT NOT NULL DEFAULT 'enforce' CHECK (mode IN ('monitor', 'enforce')),
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CHECK ((jwks_url IS NULL) <> (jwks IS NULL))
);

-- The identities a configuration's rules map to, for "how does it prove itself" and
-- the posture engine without parsing every rule set.
CREATE TABLE trust_rule_identities (
    trust_config_id UUID NOT NULL REFERENCES trust_configs (id) ON DELETE CASCADE,
    identity_id     UUID NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    PRIMARY KEY (trust_config_id, identity_id)
);
CREATE INDEX trust_rule_identities_by_identity ON trust_rule_identities (identity_id);

-- Every replica caches the configurations: any change makes every cache stale.
CREATE TRIGGER authz_trust AFTER INSERT OR UPDATE OR DELETE ON trust_configs
    FOR EACH ROW EXECUTE FUNCTION authz_change_everyone_row();

-- Monitor before enforce: an agent's policy set in `monitor` mode is evaluated and
-- logged, and the request allowed. `would_deny` on a decision says what enforcing
-- would have denied (`policy`: the agent's policies; `static_secret:<config>`: a
-- static token where an enforcing trust configuration requires a federated one).
ALTER TABLE agent_limits ADD COLUMN mode TEXT NOT NULL DEFAULT 'enforce' CHECK (mode IN ('monitor', 'enforce'));
ALTER TABLE authz_decisions ADD COLUMN would_deny TEXT;
CREATE INDEX authz_decisions_would_deny ON authz_decisions (identity_id, at) WHERE would_deny IS NOT NULL;
