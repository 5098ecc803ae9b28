-- The name order's index also holds the searched text (external id, SPIFFE ID): a
-- search for a common term walks it in name order with an index-only scan, reading
-- only the rows that match.
DROP INDEX identities_by_name;
CREATE INDEX identities_by_name ON identities (name, id) INCLUDE (external_id, spiffe_id);
