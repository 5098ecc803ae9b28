-- Substring search over a million identities without scanning them: an FTS5 index of
-- trigrams over name, external id and SPIFFE ID (PostgreSQL uses pg_trgm indexes for
-- the same), kept in step with the identities table by triggers. It maps rows by rowid,
-- which VACUUM may renumber: after a VACUUM, run
--   INSERT INTO identity_search (identity_search) VALUES ('rebuild');
CREATE VIRTUAL TABLE identity_search USING fts5(
    name, external_id, spiffe_id,
    content = 'identities', content_rowid = 'rowid',
    tokenize = 'trigram case_sensitive 0'
);
INSERT INTO identity_search (identity_search) VALUES ('rebuild');

CREATE TRIGGER identity_search_insert AFTER INSERT ON identities BEGIN
    INSERT INTO identity_search (rowid, name, external_id, spiffe_id)
        VALUES (new.rowid, new.name, new.external_id, new.spiffe_id);
END;
CREATE TRIGGER identity_search_delete AFTER DELETE ON identities BEGIN
    INSERT INTO identity_search (identity_search, rowid, name, external_id, spiffe_id)
        VALUES ('delete', old.rowid, old.name, old.external_id, old.spiffe_id);
END;
CREATE TRIGGER identity_search_update AFTER UPDATE OF name, external_id, spiffe_id ON identities BEGIN
    INSERT INTO identity_search (identity_search, rowid, name, external_id, spiffe_id)
        VALUES ('delete', old.rowid, old.name, old.external_id, old.spiffe_id);
    INSERT INTO identity_search (rowid, name, external_id, spiffe_id)
        VALUES (new.rowid, new.name, new.external_id, new.spiffe_id);
END;
