-- Access review campaigns. A campaign keeps its draft (scope, controls, what is
-- reviewed, dates, reminder, escalation, close policy, recurrence) as JSON; the columns
-- beside it are what lists and the scheduler select on.
CREATE TABLE campaigns (
    id          UUID PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('scheduled', 'open', 'closed')),
    starts_at   TIMESTAMPTZ NOT NULL,
    due_at      TIMESTAMPTZ NOT NULL,
    template    TEXT,
    draft       TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    launched_at TIMESTAMPTZ,
    closed_at   TIMESTAMPTZ,
    previous_id UUID REFERENCES campaigns (id)
);
CREATE INDEX campaigns_by_state ON campaigns (state, starts_at);
-- One recurrence successor per campaign, even when two replicas launch it at once.
CREATE UNIQUE INDEX campaigns_one_successor ON campaigns (previous_id);

-- One item per identity in scope at launch, with what the reviewer sees (the snapshot,
-- JSON), who reviews it, the decision and whether its change has been made. A decision
-- is written only where none exists yet (`decision IS NULL`): of two reviewers
-- deciding at once, one wins.
CREATE TABLE review_items (
    id                 UUID PRIMARY KEY NOT NULL,
    campaign_id        UUID NOT NULL REFERENCES campaigns (id),
    identity_id        UUID NOT NULL REFERENCES identities (id),
    identity_name      TEXT NOT NULL,
    team               TEXT,
    snapshot           TEXT NOT NULL,
    reviewer_kind      TEXT NOT NULL CHECK (reviewer_kind IN ('owner', 'sponsor', 'security_team', 'reassigned')),
    reviewer_person_id UUID REFERENCES people (id),
    previous_reviewer  TEXT,
    decision           TEXT CHECK (decision IN ('certify', 'revoke', 'reduce', 'expire')),
    decision_data      TEXT,
    decided_by         TEXT,
    decided_at         TIMESTAMPTZ,
    close_outcome      TEXT CHECK (close_outcome IN ('kept', 'revoked')),
    remediation        TEXT NOT NULL DEFAULT 'not_needed'
                       CHECK (remediation IN ('not_needed', 'pending', 'done', 'failed')),
    remediation_note   TEXT,
    escalated_at       TIMESTAMPTZ,
    UNIQUE (campaign_id, identity_id),
    CHECK ((reviewer_kind = 'security_team') = (reviewer_person_id IS NULL))
);
CREATE INDEX review_items_by_campaign ON review_items (campaign_id, identity_name, id);
CREATE INDEX review_items_by_reviewer ON review_items (reviewer_person_id, decision);

-- When each reviewer of a campaign was last reminded ('security_team' or a person id):
-- claimed with a conditional upsert, so at most one reminder a day even with replicas.
CREATE TABLE review_reminders (
    campaign_id UUID NOT NULL REFERENCES campaigns (id),
    reviewer    TEXT NOT NULL,
    last_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (campaign_id, reviewer)
);

-- Webhook deliveries, written in the transaction of what they report and sent after
-- it commits (again after a failure, with back-off).
CREATE TABLE webhook_outbox (
    id              UUID PRIMARY KEY NOT NULL,
    event           TEXT NOT NULL,
    url             TEXT NOT NULL,
    format          TEXT NOT NULL CHECK (format IN ('json', 'slack')),
    body            TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ,
    last_error      TEXT
);
CREATE INDEX webhook_outbox_pending ON webhook_outbox (delivered_at, next_attempt_at);
