-- Facet counts kept per statement instead of per row.
--
-- Why: the row trigger of 0005 upserted the same `identity_counts` row once for every
-- inserted identity. An import inserts 100,000 identities in one transaction, so one
-- counts row was updated 100,000 times inside it. Every update left a row version that
-- cannot be pruned while the transaction is open, and each later update walked them:
-- the import slowed quadratically (about 100 s for 100k rows, against 10 s without the
-- trigger). These triggers see a statement's rows at once (transition tables) and add
-- one net change per facet combination, so a 500-row insert touches each counts row once.
--
-- The counts mean exactly what 0005 says. Transition tables cannot be combined with a
-- column list or with several events, so there is one trigger per event, and the update
-- trigger fires on every update: it adds only the facet combinations whose count really
-- moved, so an update that changes no counted column writes nothing.
DROP TRIGGER identity_counts_track ON identities;
DROP FUNCTION identity_counts_track();

CREATE FUNCTION identity_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO identity_counts (actor_class, kind, source, environment, status, orphaned, n)
            SELECT i.actor_class, i.kind, i.source, i.environment, i.status,
                   NOT COALESCE(p.active, FALSE), COUNT(*)
            FROM new_rows i LEFT JOIN people p ON p.id = i.owner_id
            GROUP BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (actor_class, kind, source, environment, status, orphaned)
            DO UPDATE SET n = identity_counts.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE identity_counts c SET n = c.n - gone.n
            FROM (SELECT i.actor_class, i.kind, i.source, i.environment, i.status,
                         NOT COALESCE(p.active, FALSE) AS orphaned, COUNT(*) AS n
                  FROM old_rows i LEFT JOIN people p ON p.id = i.owner_id
                  GROUP BY 1, 2, 3, 4, 5, 6) gone
            WHERE c.actor_class = gone.actor_class AND c.kind = gone.kind
              AND c.source = gone.source AND c.environment = gone.environment
              AND c.status = gone.status AND c.orphaned = gone.orphaned;
    ELSE
        INSERT INTO identity_counts (actor_class, kind, source, environment, status, orphaned, n)
            SELECT actor_class, kind, source, environment, status, orphaned, SUM(d)
            FROM (SELECT i.actor_class, i.kind, i.source, i.environment, i.status,
                         NOT COALESCE(p.active, FALSE) AS orphaned, 1 AS d
                  FROM new_rows i LEFT JOIN people p ON p.id = i.owner_id
                  UNION ALL
                  SELECT i.actor_class, i.kind, i.source, i.environment, i.status,
                         NOT COALESCE(p.active, FALSE), -1
                  FROM old_rows i LEFT JOIN people p ON p.id = i.owner_id) moved
            GROUP BY 1, 2, 3, 4, 5, 6
            HAVING SUM(d) <> 0
            ON CONFLICT (actor_class, kind, source, environment, status, orphaned)
            DO UPDATE SET n = identity_counts.n + excluded.n;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER identity_counts_track_insert AFTER INSERT ON identities
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION identity_counts_track();
CREATE TRIGGER identity_counts_track_delete AFTER DELETE ON identities
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION identity_counts_track();
CREATE TRIGGER identity_counts_track_update AFTER UPDATE ON identities
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION identity_counts_track();
