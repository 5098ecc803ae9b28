-- People who can own, sponsor or review non-human identities.
CREATE TABLE people (
    id           BLOB PRIMARY KEY NOT NULL,   -- uuid
    display_name TEXT NOT NULL CHECK (length(trim(display_name)) > 0),
    email        TEXT NOT NULL UNIQUE,
    team         TEXT,
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TEXT NOT NULL
);

-- The register of machine and AI identities.
CREATE TABLE identities (
    id           BLOB PRIMARY KEY NOT NULL,   -- uuid
    name         TEXT NOT NULL CHECK (length(trim(name)) > 0),
    actor_class  TEXT NOT NULL CHECK (actor_class IN ('machine', 'ai')),
    kind         TEXT NOT NULL CHECK (
        (actor_class = 'machine' AND kind IN ('service_account', 'workload', 'ci_runner', 'integration', 'api_client'))
        OR (actor_class = 'ai' AND kind IN ('agent', 'orchestrator', 'llm_app', 'assistant_session'))
    ),
    source       TEXT NOT NULL CHECK (source IN ('aws', 'gcp', 'azure', 'kubernetes', 'github', 'manual', 'steward')),
    external_id  TEXT,
    environment  TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'retired')),
    owner_id     BLOB REFERENCES people (id),
    team         TEXT,
    purpose      TEXT,
    expires_at   TEXT,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    UNIQUE (source, external_id)
);

-- Keyset pagination by (name, id), overall and per actor class.
CREATE INDEX identities_by_name ON identities (name, id);
CREATE INDEX identities_by_class_name ON identities (actor_class, name, id);
CREATE INDEX identities_by_owner ON identities (owner_id);
