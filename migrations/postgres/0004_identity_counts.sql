-- Facet counts without scanning a million rows: how many identities have each
-- combination of class, kind, source, environment and status, kept exact by a trigger.
CREATE TABLE identity_counts (
    actor_class TEXT NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    environment TEXT NOT NULL,
    status      TEXT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (actor_class, kind, source, environment, status)
);
INSERT INTO identity_counts (actor_class, kind, source, environment, status, n)
    SELECT actor_class, kind, source, environment, status, COUNT(*) FROM identities
    GROUP BY actor_class, kind, source, environment, status;

CREATE FUNCTION identity_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE identity_counts SET n = n - 1
            WHERE actor_class = OLD.actor_class AND kind = OLD.kind AND source = OLD.source
              AND environment = OLD.environment AND status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO identity_counts (actor_class, kind, source, environment, status, n)
            VALUES (NEW.actor_class, NEW.kind, NEW.source, NEW.environment, NEW.status, 1)
            ON CONFLICT (actor_class, kind, source, environment, status)
            DO UPDATE SET n = identity_counts.n + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER identity_counts_track
    AFTER INSERT OR DELETE OR UPDATE OF actor_class, kind, source, environment, status ON identities
    FOR EACH ROW EXECUTE FUNCTION identity_counts_track();

DROP INDEX identities_facets;
CREATE INDEX identities_facets ON identities (actor_class, kind, source, environment, status, owner_id, expires_at);
