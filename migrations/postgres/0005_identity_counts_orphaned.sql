-- Facet counts by owner state too: `orphaned` is true for an identity without an owner
-- or whose owner has left, so the orphaned count of any class/kind/source/environment/
-- status filter is read from this small table. Kept exact by triggers on identities
-- (class, kind, source, environment, status, owner) and on people (someone leaves or
-- returns).
DROP TRIGGER identity_counts_track ON identities;
DROP FUNCTION identity_counts_track();
DROP TABLE identity_counts;

CREATE TABLE identity_counts (
    actor_class TEXT NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    environment TEXT NOT NULL,
    status      TEXT NOT NULL,
    orphaned    BOOLEAN NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (actor_class, kind, source, environment, status, orphaned)
);
INSERT INTO identity_counts (actor_class, kind, source, environment, status, orphaned, n)
    SELECT i.actor_class, i.kind, i.source, i.environment, i.status,
           NOT COALESCE(p.active, FALSE), COUNT(*)
    FROM identities i LEFT JOIN people p ON p.id = i.owner_id
    GROUP BY 1, 2, 3, 4, 5, 6;

CREATE FUNCTION identity_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE identity_counts SET n = n - 1
            WHERE actor_class = OLD.actor_class AND kind = OLD.kind AND source = OLD.source
              AND environment = OLD.environment AND status = OLD.status
              AND orphaned = NOT EXISTS (SELECT 1 FROM people WHERE id = OLD.owner_id AND active);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO identity_counts (actor_class, kind, source, environment, status, orphaned, n)
            VALUES (NEW.actor_class, NEW.kind, NEW.source, NEW.environment, NEW.status,
                    NOT EXISTS (SELECT 1 FROM people WHERE id = NEW.owner_id AND active), 1)
            ON CONFLICT (actor_class, kind, source, environment, status, orphaned)
            DO UPDATE SET n = identity_counts.n + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER identity_counts_track
    AFTER INSERT OR DELETE
       OR UPDATE OF actor_class, kind, source, environment, status, owner_id ON identities
    FOR EACH ROW EXECUTE FUNCTION identity_counts_track();

-- A person leaving (or returning) moves every identity they own between the states.
CREATE FUNCTION identity_counts_owner_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE identity_counts c SET n = c.n - moved.n
        FROM (SELECT actor_class, kind, source, environment, status, COUNT(*) AS n
              FROM identities WHERE owner_id = NEW.id
              GROUP BY actor_class, kind, source, environment, status) moved
        WHERE c.actor_class = moved.actor_class AND c.kind = moved.kind
          AND c.source = moved.source AND c.environment = moved.environment
          AND c.status = moved.status AND c.orphaned = NOT OLD.active;
    INSERT INTO identity_counts (actor_class, kind, source, environment, status, orphaned, n)
        SELECT actor_class, kind, source, environment, status, NOT NEW.active, COUNT(*)
        FROM identities WHERE owner_id = NEW.id
        GROUP BY actor_class, kind, source, environment, status
        ON CONFLICT (actor_class, kind, source, environment, status, orphaned)
        DO UPDATE SET n = identity_counts.n + excluded.n;
    RETURN NULL;
END $$;
CREATE TRIGGER identity_counts_owner_active
    AFTER UPDATE OF active ON people
    FOR EACH ROW WHEN (OLD.active IS DISTINCT FROM NEW.active)
    EXECUTE FUNCTION identity_counts_owner_active();

-- The expired count of a filtered view: a range of this index, however broad the filter.
CREATE INDEX identities_expiry_facets
    ON identities (expires_at, actor_class, kind, source, environment, status, owner_id);
