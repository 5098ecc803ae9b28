-- API tokens are authenticated from an in-memory cache kept current by the change feed
-- (as decision state is): a revoked or re-scoped token, a user whose role or access
-- changed and a person who left must reach every replica's cache.
CREATE FUNCTION authz_change_token() RETURNS trigger AS $$
BEGIN
    INSERT INTO authz_changes (identity_id) VALUES (NEW.identity_id);
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION authz_change_everyone_row() RETURNS trigger AS $$
BEGIN
    INSERT INTO authz_changes (identity_id) VALUES (NULL);
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER authz_tokens AFTER UPDATE OF revoked_at, expires_at, scopes ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION authz_change_token();
CREATE TRIGGER authz_users AFTER UPDATE OF role, active, email ON users
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.active IS DISTINCT FROM NEW.active
        OR OLD.email IS DISTINCT FROM NEW.email)
    EXECUTE FUNCTION authz_change_everyone_row();
CREATE TRIGGER authz_people AFTER UPDATE OF active, display_name ON people
    FOR EACH ROW WHEN (OLD.active IS DISTINCT FROM NEW.active OR OLD.display_name IS DISTINCT FROM NEW.display_name)
    EXECUTE FUNCTION authz_change_everyone_row();

-- Drift between what an agent was approved for and what it tried at runtime, noted on
-- the decision when it is made (a tool outside its allowlist, an unregistered sub-agent
-- or delegation, an action through another identity beyond its own approval) and
-- turned into findings about `drift_identity`.
ALTER TABLE authz_decisions ADD COLUMN drift TEXT;
ALTER TABLE authz_decisions ADD COLUMN drift_identity UUID;
CREATE INDEX authz_decisions_drift ON authz_decisions (drift_identity, at) WHERE drift IS NOT NULL;

-- authz_sessions.calls now counts the call numbers handed out: each replica takes a
-- lease of numbers at a time (small near a session's limit), so a limit of N admits at
-- most N calls however the calls are spread over replicas.
