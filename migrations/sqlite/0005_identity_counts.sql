-- Facet counts without scanning a million rows: how many identities have each
-- combination of class, kind, source, environment and status, kept exact by triggers.
CREATE TABLE identity_counts (
    actor_class TEXT NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    environment TEXT NOT NULL,
    status      TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (actor_class, kind, source, environment, status)
);
INSERT INTO identity_counts (actor_class, kind, source, environment, status, n)
    SELECT actor_class, kind, source, environment, status, COUNT(*) FROM identities
    GROUP BY actor_class, kind, source, environment, status;

CREATE TRIGGER identity_counts_insert AFTER INSERT ON identities BEGIN
    INSERT INTO identity_counts (actor_class, kind, source, environment, status, n)
        VALUES (new.actor_class, new.kind, new.source, new.environment, new.status, 1)
        ON CONFLICT (actor_class, kind, source, environment, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER identity_counts_delete AFTER DELETE ON identities BEGIN
    UPDATE identity_counts SET n = n - 1
        WHERE actor_class = old.actor_class AND kind = old.kind AND source = old.source
          AND environment = old.environment AND status = old.status;
END;
CREATE TRIGGER identity_counts_update AFTER UPDATE OF actor_class, kind, source, environment, status ON identities BEGIN
    UPDATE identity_counts SET n = n - 1
        WHERE actor_class = old.actor_class AND kind = old.kind AND source = old.source
          AND environment = old.environment AND status = old.status;
    INSERT INTO identity_counts (actor_class, kind, source, environment, status, n)
        VALUES (new.actor_class, new.kind, new.source, new.environment, new.status, 1)
        ON CONFLICT (actor_class, kind, source, environment, status) DO UPDATE SET n = n + 1;
END;

-- The orphaned and expired counts of a filtered view read this index, not the table.
DROP INDEX identities_facets;
CREATE INDEX identities_facets ON identities (actor_class, kind, source, environment, status, owner_id, expires_at);
