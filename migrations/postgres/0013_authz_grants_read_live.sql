-- Grants change far more often than anything else decisions depend on (every request,
-- approval and expiry), so decisions read a principal's active grants live, only when
-- a request needs one, instead of dropping cached state on every grant change.
DROP TRIGGER authz_grants ON grants;
