-- Issue 31 (the trust holes).
-- A token made by a token caller names its parent: it holds a subset of the parent's
-- scopes, expires no later, and is revoked with it.
ALTER TABLE api_tokens ADD COLUMN parent_id UUID REFERENCES api_tokens (id);
CREATE INDEX api_tokens_parent ON api_tokens (parent_id) WHERE parent_id IS NOT NULL;

-- Suspending or retiring an identity now revokes its open grants in the same
-- transaction; grants left open on identities suspended or retired before that are
-- revoked here, so no credential of theirs introspects as active.
UPDATE grants SET state = 'revoked', ended_by = 'system:migration',
    end_reason = 'the identity was not active (kill switch)', ended_at = now()
    WHERE state IN ('active', 'pending')
      AND identity_id IN (SELECT id FROM identities WHERE status <> 'active');

-- A user bound to single sign-on signs in with a local password only when an operator
-- marked the account break-glass (audited).
ALTER TABLE users ADD COLUMN break_glass BOOLEAN NOT NULL DEFAULT FALSE;

-- Sign-ins refused while an account is locked are counted, not audited one by one.
ALTER TABLE login_throttle ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;

-- A password or role change ends every session signed in before it.
ALTER TABLE users ADD COLUMN sessions_valid_from TIMESTAMPTZ;

-- Sessions are now stored under a hash of the cookie's id: the rows of before (stored
-- under the id itself) are of no use and would tell whoever reads the table a cookie.
DELETE FROM tower_sessions.session;

-- The registered data sensitivity of datasets and tools, and per-environment defaults
-- (scope 'environment'): decisions take it from here, not from the agent's word.
CREATE TABLE resource_sensitivities (
    scope       TEXT NOT NULL CHECK (scope IN ('dataset', 'tool', 'environment')),
    id          TEXT NOT NULL,
    sensitivity TEXT NOT NULL CHECK (sensitivity IN ('public', 'internal', 'confidential', 'restricted')),
    updated_by  TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, id)
);

-- An agent token may be bound to the environment its agent acts in.
ALTER TABLE api_tokens ADD COLUMN environment TEXT;
-- Every replica's decision state learns of a change at once (the change feed).
CREATE TRIGGER authz_sensitivities AFTER INSERT OR UPDATE OR DELETE ON resource_sensitivities
    FOR EACH ROW EXECUTE FUNCTION authz_change_everyone_row();

-- An agent token stops when its creator no longer owns the agent: a new owner must
-- reach every replica's token cache.
CREATE TRIGGER authz_identities_owner AFTER UPDATE OF owner_id ON identities
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION authz_change_self();
