-- Steward's runtime role on PostgreSQL: the role `steward serve` connects as in
-- production. It reads and writes Steward's tables, but may only append to and read
-- the audit trail: even with the append-only triggers dropped, it cannot change or
-- delete an event. Migrations run as the database's owner (`steward migrate` with the
-- owner's DATABASE_URL); the server then finds the schema up to date and changes
-- nothing.
--
-- Run as the owner of Steward's database, after `steward migrate`, and again after
-- every upgrade (new tables need their grants):
--   psql "$OWNER_DATABASE_URL" -f docs/postgres-runtime-role.sql
--   psql "$OWNER_DATABASE_URL" -c "ALTER ROLE steward_runtime LOGIN PASSWORD '…'"
-- (or make your login role a member: GRANT steward_runtime TO my_login_role).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'steward_runtime') THEN
        CREATE ROLE steward_runtime NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public, tower_sessions TO steward_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO steward_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA tower_sessions TO steward_runtime;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO steward_runtime;

-- The audit trail: append and read, nothing else.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM steward_runtime;
-- The migration history: read only (the server checks the schema is up to date).
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON _sqlx_migrations FROM steward_runtime;
