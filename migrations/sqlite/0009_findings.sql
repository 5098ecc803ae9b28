-- Findings of the posture checks, one row per identity and check, kept with their
-- lifecycle: open → resolved (and reopened), or risk-accepted with a justification,
-- an approver and an expiry. Without rowid: the key is how every read finds them.
CREATE TABLE findings (
    identity_id     BLOB NOT NULL REFERENCES identities (id),
    check_id        TEXT NOT NULL,
    severity        TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    state           TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'resolved')),
    detail          TEXT NOT NULL,
    opened_at       TEXT NOT NULL,
    resolved_at     TEXT,
    accepted_reason TEXT,
    accepted_by     TEXT,
    accepted_at     TEXT,
    accepted_until  TEXT,
    PRIMARY KEY (identity_id, check_id),
    CHECK (state <> 'accepted' OR (accepted_reason IS NOT NULL AND accepted_by IS NOT NULL
                                   AND accepted_at IS NOT NULL AND accepted_until IS NOT NULL))
) WITHOUT ROWID;
-- The inventory's finding and control filters start here.
CREATE INDEX findings_by_check ON findings (check_id, state, identity_id);

-- What a full evaluation counted, one row per day (the day's last evaluation wins):
-- the dashboard and its trend read these instead of counting the register.
CREATE TABLE posture_snapshots (
    day      TEXT PRIMARY KEY NOT NULL,
    taken_at TEXT NOT NULL,
    data     TEXT NOT NULL
);
