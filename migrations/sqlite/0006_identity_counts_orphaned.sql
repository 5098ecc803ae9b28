-- Facet counts by owner state too: `orphaned` is 1 for an identity without an owner or
-- whose owner has left, so the orphaned count of any class/kind/source/environment/status
-- filter is read from this small table. Kept exact by triggers on identities (class,
-- kind, source, environment, status, owner) and on people (someone leaves or returns).
DROP TRIGGER identity_counts_insert;
DROP TRIGGER identity_counts_delete;
DROP TRIGGER identity_counts_update;
DROP TABLE identity_counts;

CREATE TABLE identity_counts (
    actor_class TEXT NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    environment TEXT NOT NULL,
    status      TEXT NOT NULL,
    orphaned    INTEGER NOT NULL CHECK (orphaned IN (0, 1)),
    n           INTEGER NOT NULL,
    PRIMARY KEY (actor_class, kind, source, environment, status, orphaned)
);
INSERT INTO identity_counts (actor_class, kind, source, environment, status, orphaned, n)
    SELECT i.actor_class, i.kind, i.source, i.environment, i.status,
           CASE WHEN p.active THEN 0 ELSE 1 END, COUNT(*)
    FROM identities i LEFT JOIN people p ON p.id = i.owner_id
    WHERE TRUE
    GROUP BY 1, 2, 3, 4, 5, 6;

CREATE TRIGGER identity_counts_insert AFTER INSERT ON identities BEGIN
    INSERT INTO identity_counts (actor_class, kind, source, environment, status, orphaned, n)
        VALUES (new.actor_class, new.kind, new.source, new.environment, new.status,
                NOT EXISTS (SELECT 1 FROM people WHERE id = new.owner_id AND active), 1)
        ON CONFLICT (actor_class, kind, source, environment, status, orphaned) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER identity_counts_delete AFTER DELETE ON identities BEGIN
    UPDATE identity_counts SET n = n - 1
        WHERE actor_class = old.actor_class AND kind = old.kind AND source = old.source
          AND environment = old.environment AND status = old.status
          AND orphaned = NOT EXISTS (SELECT 1 FROM people WHERE id = old.owner_id AND active);
END;
CREATE TRIGGER identity_counts_update
AFTER UPDATE OF actor_class, kind, source, environment, status, owner_id ON identities BEGIN
    UPDATE identity_counts SET n = n - 1
        WHERE actor_class = old.actor_class AND kind = old.kind AND source = old.source
          AND environment = old.environment AND status = old.status
          AND orphaned = NOT EXISTS (SELECT 1 FROM people WHERE id = old.owner_id AND active);
    INSERT INTO identity_counts (actor_class, kind, source, environment, status, orphaned, n)
        VALUES (new.actor_class, new.kind, new.source, new.environment, new.status,
                NOT EXISTS (SELECT 1 FROM people WHERE id = new.owner_id AND active), 1)
        ON CONFLICT (actor_class, kind, source, environment, status, orphaned) DO UPDATE SET n = n + 1;
END;
-- A person leaving (or returning) moves every identity they own between the states.
CREATE TRIGGER identity_counts_owner_active AFTER UPDATE OF active ON people
WHEN old.active IS NOT new.active BEGIN
    UPDATE identity_counts SET n = n - (
            SELECT COUNT(*) FROM identities i
            WHERE i.owner_id = new.id AND i.actor_class = identity_counts.actor_class
              AND i.kind = identity_counts.kind AND i.source = identity_counts.source
              AND i.environment = identity_counts.environment AND i.status = identity_counts.status)
        WHERE orphaned = (CASE WHEN old.active THEN 0 ELSE 1 END);
    INSERT INTO identity_counts (actor_class, kind, source, environment, status, orphaned, n)
        SELECT actor_class, kind, source, environment, status,
               CASE WHEN new.active THEN 0 ELSE 1 END, COUNT(*)
        FROM identities WHERE owner_id = new.id
        GROUP BY actor_class, kind, source, environment, status
        ON CONFLICT (actor_class, kind, source, environment, status, orphaned) DO UPDATE SET n = n + excluded.n;
END;

-- The expired count of a filtered view: a range of this index, however broad the filter.
CREATE INDEX identities_expiry_facets
    ON identities (expires_at, actor_class, kind, source, environment, status, owner_id);
