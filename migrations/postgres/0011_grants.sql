-- Just-in-time grants. A policy says who may request which just-in-time entitlements
-- for which identities, for how long, approved how and when (its draft, JSON). A grant
-- activates one just-in-time entitlement of one identity for a while; grants are never
-- deleted: their states and approvals are their history.
CREATE TABLE grant_policies (
    id         UUID PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    draft      TEXT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE grants (
    id                  UUID PRIMARY KEY NOT NULL,
    identity_id         UUID NOT NULL REFERENCES identities (id),
    entitlement_id      UUID NOT NULL REFERENCES entitlements (id),
    policy_id           UUID NOT NULL REFERENCES grant_policies (id),
    resource            TEXT NOT NULL,
    action              TEXT NOT NULL,
    privilege           TEXT NOT NULL,
    approval_mode       TEXT NOT NULL CHECK (approval_mode IN ('automatic', 'owner', 'security_team', 'two_approvers')),
    minutes             BIGINT  NOT NULL CHECK (minutes > 0),
    reason              TEXT,
    requested_by        TEXT NOT NULL,
    requester_person_id UUID REFERENCES people (id),
    requested_at        TIMESTAMPTZ NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('pending', 'active', 'denied', 'expired', 'revoked', 'cancelled')),
    approvals           TEXT NOT NULL DEFAULT '[]',
    ended_by            TEXT,
    end_reason          TEXT,
    starts_at           TIMESTAMPTZ,
    expires_at          TIMESTAMPTZ,
    ended_at            TIMESTAMPTZ,
    CHECK (state <> 'active' OR (starts_at IS NOT NULL AND expires_at IS NOT NULL))
);
-- At most one open (pending or active) grant per entitlement.
CREATE UNIQUE INDEX grants_one_open ON grants (entitlement_id) WHERE state IN ('pending', 'active');
-- The expiry worker's queue.
CREATE INDEX grants_expiring ON grants (expires_at) WHERE state = 'active';
CREATE INDEX grants_by_identity ON grants (identity_id, requested_at);
CREATE INDEX grants_by_state ON grants (state, requested_at);
CREATE INDEX grants_by_requester ON grants (requester_person_id, requested_at);

-- The short-lived credentials issued for grants: their ids (never the tokens), so a
-- credential can be revoked before it expires and introspection can say so.
CREATE TABLE grant_credentials (
    jti        UUID PRIMARY KEY NOT NULL,
    grant_id   UUID NOT NULL REFERENCES grants (id),
    issued_by  TEXT NOT NULL,
    issued_at  TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX grant_credentials_by_grant ON grant_credentials (grant_id);
