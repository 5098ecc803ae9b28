-- The register in full (issue 4): teams, the identity attributes every rule needs,
-- credentials (never the secret), entitlements, delegation edges, ownership
-- assignments with the owner's answer, the orphan queue and in-app notifications.

CREATE TABLE teams (
    name       TEXT PRIMARY KEY NOT NULL CHECK (length(trim(name)) > 0),
    created_at TEXT NOT NULL
);
INSERT INTO teams (name, created_at)
    SELECT DISTINCT team, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM people WHERE team IS NOT NULL
    UNION
    SELECT DISTINCT team, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM identities WHERE team IS NOT NULL;

ALTER TABLE identities ADD COLUMN sponsor_id BLOB REFERENCES people (id);
ALTER TABLE identities ADD COLUMN autonomy TEXT CHECK (autonomy IN ('none', 'supervised', 'autonomous'));
ALTER TABLE identities ADD COLUMN sensitivity_ceiling TEXT CHECK (sensitivity_ceiling IN ('public', 'internal', 'confidential', 'restricted'));
ALTER TABLE identities ADD COLUMN spiffe_id TEXT;
ALTER TABLE identities ADD COLUMN revocation_path TEXT;
-- pending (assigned, not yet answered) | accepted | disputed; NULL = never assigned.
ALTER TABLE identities ADD COLUMN ownership_state TEXT CHECK (ownership_state IN ('pending', 'accepted', 'disputed'));
ALTER TABLE identities ADD COLUMN status_reason TEXT;
ALTER TABLE identities ADD COLUMN updated_at TEXT;

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
    id              BLOB PRIMARY KEY NOT NULL,
    identity_id     BLOB NOT NULL REFERENCES identities (id),
    kind            TEXT NOT NULL CHECK (kind IN ('access_key', 'client_secret', 'certificate', 'ssh_key', 'api_token', 'federated')),
    key_id          TEXT NOT NULL,            -- fingerprint or key id, never the secret
    created_at      TEXT NOT NULL,
    last_rotated_at TEXT,
    expires_at      TEXT,
    last_used_at    TEXT,
    rotation_days   INTEGER CHECK (rotation_days > 0),
    revoked_at      TEXT,
    UNIQUE (identity_id, key_id)
);
CREATE INDEX credentials_by_identity ON credentials (identity_id);

CREATE TABLE entitlements (
    id          BLOB PRIMARY KEY NOT NULL,
    identity_id BLOB NOT NULL REFERENCES identities (id),
    resource    TEXT NOT NULL CHECK (length(trim(resource)) > 0),
    action      TEXT NOT NULL CHECK (length(trim(action)) > 0),
    privilege   TEXT NOT NULL CHECK (privilege IN ('read', 'write', 'admin')),
    grant_type  TEXT NOT NULL CHECK (grant_type IN ('standing', 'just_in_time')),
    created_at  TEXT NOT NULL,
    removed_at  TEXT
);
CREATE INDEX entitlements_by_identity ON entitlements (identity_id);

-- Who acts through whom: an agent through its execution identity, an agent through a
-- sub-agent. The service keeps the graph acyclic.
CREATE TABLE delegations (
    from_id    BLOB NOT NULL REFERENCES identities (id),
    to_id      BLOB NOT NULL REFERENCES identities (id),
    kind       TEXT NOT NULL CHECK (kind IN ('acts_as', 'sub_agent')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (from_id, to_id),
    CHECK (from_id <> to_id)
);
CREATE INDEX delegations_to ON delegations (to_id);

-- Every owner or sponsor assignment, with the assignee's answer.
CREATE TABLE ownership_assignments (
    id           BLOB PRIMARY KEY NOT NULL,
    identity_id  BLOB NOT NULL REFERENCES identities (id),
    role         TEXT NOT NULL CHECK (role IN ('owner', 'sponsor')),
    person_id    BLOB NOT NULL REFERENCES people (id),
    previous_id  BLOB REFERENCES people (id),
    reason       TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    assigned_by  TEXT NOT NULL,
    assigned_at  TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'disputed', 'superseded')),
    answered_at  TEXT,
    answer_note  TEXT
);
CREATE INDEX assignments_by_person ON ownership_assignments (person_id, state);
CREATE INDEX assignments_by_identity ON ownership_assignments (identity_id);

-- Identities whose owner left: open until someone is assigned.
CREATE TABLE orphan_queue (
    identity_id      BLOB PRIMARY KEY NOT NULL REFERENCES identities (id),
    former_owner_id  BLOB NOT NULL REFERENCES people (id),
    suggested_id     BLOB REFERENCES people (id),
    suggested_reason TEXT NOT NULL,
    queued_at        TEXT NOT NULL
);

CREATE TABLE notifications (
    id          BLOB PRIMARY KEY NOT NULL,
    person_id   BLOB NOT NULL REFERENCES people (id),
    identity_id BLOB REFERENCES identities (id),
    message     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    read_at     TEXT
);
CREATE INDEX notifications_by_person ON notifications (person_id, created_at);
