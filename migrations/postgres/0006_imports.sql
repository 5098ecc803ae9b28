-- Imports: when a full re-import of a source no longer lists an identity, it is marked
-- not seen (with the date) and kept; seeing it again clears the mark.
ALTER TABLE identities ADD COLUMN not_seen_since TIMESTAMPTZ;

-- What imports noticed about identities that governance must look at (possible human
-- use — NHI10, third-party integration — NHI3, secret uploaded — NHI2). One row per
-- identity and signal; the findings engine reads them.
CREATE TABLE identity_signals (
    identity_id   UUID NOT NULL REFERENCES identities (id),
    signal        TEXT NOT NULL CHECK (signal IN ('possible_human_use', 'third_party_integration', 'secret_uploaded')),
    detail        TEXT NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (identity_id, signal)
);
