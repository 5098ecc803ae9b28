-- The register in full (issue 4): teams, the identity attributes every rule needs,
-- credentials (never the secret), entitlements, delegation edges, ownership
-- assignments with the owner's answer, the orphan queue and in-app notifications.

CREATE TABLE teams (
    name       TEXT COLLATE "C" PRIMARY KEY CHECK (length(trim(name)) > 0),
    created_at TIMESTAMPTZ NOT NULL
);
INSERT INTO teams (name, created_at)
    SELECT DISTINCT team, now() FROM people WHERE team IS NOT NULL
    UNION
    SELECT DISTINCT team, now() FROM identities WHERE team IS NOT NULL;

ALTER TABLE identities ADD COLUMN sponsor_id UUID REFERENCES people (id);
ALTER TABLE identities ADD COLUMN autonomy TEXT CHECK (autonomy IN ('none', 'supervised', 'autonomous'));
ALTER TABLE identities ADD COLUMN sensitivity_ceiling TEXT CHECK (sensitivity_ceiling IN ('public', 'internal', 'confidential', 'restricted'));
ALTER TABLE identities ADD COLUMN spiffe_id TEXT;
ALTER TABLE identities ADD COLUMN revocation_path TEXT;
-- pending (assigned, not yet answered) | accepted | disputed; NULL = never assigned.
ALTER TABLE identities ADD COLUMN ownership_state TEXT CHECK (ownership_state IN ('pending', 'accepted', 'disputed'));
ALTER TABLE identities ADD COLUMN status_reason TEXT;
ALTER TABLE identities ADD COLUMN updated_at TIMESTAMPTZ;

-- Sort orders served by an index each (keyset pagination on (column, id)).
CREATE INDEX identities_by_created ON identities (created_at, id);
CREATE INDEX identities_by_last_used ON identities (last_used_at, id);
CREATE INDEX identities_by_expiry ON identities (expires_at, id);
CREATE INDEX identities_by_sponsor ON identities (sponsor_id);
CREATE INDEX identities_by_team ON identities (team, name, id);
CREATE INDEX identities_by_spiffe ON identities (spiffe_id);
-- Facet counts read this covering index instead of the table.
CREATE INDEX identities_facets ON identities (actor_class, kind, source, environment, status);

CREATE TABLE credentials (
    id              UUID PRIMARY KEY,
    identity_id     UUID NOT NULL REFERENCES identities (id),
    kind            TEXT NOT NULL CHECK (kind IN ('access_key', 'client_secret', 'certificate', 'ssh_key', 'api_token', 'federated')),
    key_id          TEXT NOT NULL,            -- fingerprint or key id, never the secret
    created_at TIMESTAMPTZ NOT NULL,
    last_rotated_at TIMESTAMPTZ,
    expires_at      TIMESTAMPTZ,
    last_used_at    TIMESTAMPTZ,
    rotation_days   BIGINT CHECK (rotation_days > 0),
    revoked_at      TIMESTAMPTZ,
    UNIQUE (identity_id, key_id)
);
CREATE INDEX credentials_by_identity ON credentials (identity_id);

CREATE TABLE entitlements (
    id          UUID PRIMARY KEY,
    identity_id UUID NOT NULL REFERENCES identities (id),
    resource    TEXT NOT NULL CHECK (length(trim(resource)) > 0),
    action      TEXT NOT NULL CHECK (length(trim(action)) > 0),
    privilege   TEXT NOT NULL CHECK (privilege IN ('read', 'write', 'admin')),
    grant_type  TEXT NOT NULL CHECK (grant_type IN ('standing', 'just_in_time')),
    created_at TIMESTAMPTZ NOT NULL,
    removed_at  TIMESTAMPTZ
);
CREATE INDEX entitlements_by_identity ON entitlements (identity_id);

-- Who acts through whom: an agent through its execution identity, an agent through a
-- sub-agent. The service keeps the graph acyclic.
CREATE TABLE delegations (
    from_id    UUID NOT NULL REFERENCES identities (id),
    to_id      UUID NOT NULL REFERENCES identities (id),
    kind       TEXT NOT NULL CHECK (kind IN ('acts_as', 'sub_agent')),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (from_id, to_id),
    CHECK (from_id <> to_id)
);
CREATE INDEX delegations_to ON delegations (to_id);

-- Every owner or sponsor assignment, with the assignee's answer.
CREATE TABLE ownership_assignments (
    id           UUID PRIMARY KEY,
    identity_id  UUID NOT NULL REFERENCES identities (id),
    role         TEXT NOT NULL CHECK (role IN ('owner', 'sponsor')),
    person_id    UUID NOT NULL REFERENCES people (id),
    previous_id  UUID REFERENCES people (id),
    reason       TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    assigned_by  TEXT NOT NULL,
    assigned_at TIMESTAMPTZ NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'disputed', 'superseded')),
    answered_at  TIMESTAMPTZ,
    answer_note  TEXT
);
CREATE INDEX assignments_by_person ON ownership_assignments (person_id, state);
CREATE INDEX assignments_by_identity ON ownership_assignments (identity_id);

-- Identities whose owner left: open until someone is assigned.
CREATE TABLE orphan_queue (
    identity_id      UUID PRIMARY KEY REFERENCES identities (id),
    former_owner_id  UUID NOT NULL REFERENCES people (id),
    suggested_id     UUID REFERENCES people (id),
    suggested_reason TEXT NOT NULL,
    queued_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE notifications (
    id          UUID PRIMARY KEY,
    person_id   UUID NOT NULL REFERENCES people (id),
    identity_id UUID REFERENCES identities (id),
    message     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    read_at     TIMESTAMPTZ
);
CREATE INDEX notifications_by_person ON notifications (person_id, created_at);

-- Search by SPIFFE ID is a substring search too.
CREATE INDEX identities_spiffe_trgm ON identities USING gin (spiffe_id gin_trgm_ops);
