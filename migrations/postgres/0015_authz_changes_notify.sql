-- Every statement that adds rows to the change feed sends a notification, delivered to
-- every replica's subscription when its transaction commits: replicas read the feed
-- when told to instead of every millisecond (services/feed.rs). Notifications with the
-- same payload in one transaction are folded into one.
CREATE FUNCTION authz_changes_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('steward_authz_changes', '');
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER authz_changes_notify AFTER INSERT ON authz_changes
    FOR EACH STATEMENT EXECUTE FUNCTION authz_changes_notify();
