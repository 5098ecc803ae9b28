-- Issue 31, item 9: a second factor for local sign-in (RFC 6238 TOTP).
-- The shared secret is stored sealed (AES-256-GCM under a key kept in the signing-key
-- folder, never in the database); `last_step` is the newest 30-second step accepted,
-- so a code is accepted once. A row without `confirmed_at` is an enrolment in progress.
CREATE TABLE user_totp (
    user_id       UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    confirmed_at  TIMESTAMPTZ,
    last_step     BIGINT,
    created_at    TIMESTAMPTZ NOT NULL
);

-- Recovery codes: shown once at enrolment, stored as SHA-256 (they are random, so a
-- slow hash adds nothing), each usable once.
CREATE TABLE user_recovery_codes (
    user_id   UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);
