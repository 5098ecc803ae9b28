-- Who can sign in to Steward. A user is always a person (who can also own identities).
CREATE TABLE users (
    id            BLOB PRIMARY KEY NOT NULL,
    person_id     BLOB NOT NULL UNIQUE REFERENCES people (id),
    email         TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'owner', 'viewer', 'auditor')),
    password_hash TEXT,                      -- argon2id PHC string; NULL = SSO only
    oidc_issuer   TEXT,
    oidc_subject  TEXT,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TEXT NOT NULL,
    UNIQUE (oidc_issuer, oidc_subject)
);

-- Failed sign-ins per account, for throttling.
CREATE TABLE login_throttle (
    email         TEXT PRIMARY KEY NOT NULL,
    failures      INTEGER NOT NULL,
    first_failure TEXT NOT NULL,
    locked_until  TEXT
);

-- API tokens: only a SHA-256 hash of the secret is kept. Each token is also an
-- `api_client` identity in the register, owned by its creator.
CREATE TABLE api_tokens (
    id           BLOB PRIMARY KEY NOT NULL,
    identity_id  BLOB NOT NULL UNIQUE REFERENCES identities (id),
    user_id      BLOB NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,              -- space-separated
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT,
    last_used_at TEXT
);

-- The audit trail: append-only, hash-chained.
CREATE TABLE audit_events (
    seq       INTEGER PRIMARY KEY NOT NULL,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_by_actor ON audit_events (actor, seq);
CREATE INDEX audit_by_action ON audit_events (action, seq);
CREATE INDEX audit_by_target ON audit_events (target, seq);

-- Sessions of tower-sessions (its SQLite layout).
CREATE TABLE IF NOT EXISTS tower_sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BLOB NOT NULL,
    expiry_date INTEGER NOT NULL
);

-- The audit trail is append-only: the database itself refuses changes and deletions.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: DELETE is not allowed');
END;
