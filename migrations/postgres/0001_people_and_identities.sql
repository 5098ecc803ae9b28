-- Trigram indexes serve the inventory's substring search.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- People who can own, sponsor or review non-human identities.
CREATE TABLE people (
    id           UUID PRIMARY KEY,
    display_name TEXT NOT NULL CHECK (length(trim(display_name)) > 0),
    email        TEXT NOT NULL UNIQUE,
    team         TEXT,
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TIMESTAMPTZ NOT NULL
);

-- The register of machine and AI identities. Names sort bytewise ("C") so that the
-- order, and therefore keyset pagination, is the same as on SQLite.
CREATE TABLE identities (
    id           UUID PRIMARY KEY,
    name         TEXT COLLATE "C" NOT NULL CHECK (length(trim(name)) > 0),
    actor_class  TEXT NOT NULL CHECK (actor_class IN ('machine', 'ai')),
    kind         TEXT NOT NULL CHECK (
        (actor_class = 'machine' AND kind IN ('service_account', 'workload', 'ci_runner', 'integration', 'api_client'))
        OR (actor_class = 'ai' AND kind IN ('agent', 'orchestrator', 'llm_app', 'assistant_session'))
    ),
    source       TEXT NOT NULL CHECK (source IN ('aws', 'gcp', 'azure', 'kubernetes', 'github', 'manual', 'steward')),
    external_id  TEXT,
    environment  TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'retired')),
    owner_id     UUID REFERENCES people (id),
    team         TEXT,
    purpose      TEXT,
    expires_at   TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    UNIQUE (source, external_id)
);

CREATE INDEX identities_by_name ON identities (name, id);
CREATE INDEX identities_by_class_name ON identities (actor_class, name, id);
CREATE INDEX identities_by_owner ON identities (owner_id);
CREATE INDEX identities_name_trgm ON identities USING gin (name gin_trgm_ops);
CREATE INDEX identities_external_id_trgm ON identities USING gin (external_id gin_trgm_ops);
