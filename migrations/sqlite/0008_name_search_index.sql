-- The name order's index also holds the searched text (external id, SPIFFE ID): a
-- search for a common term walks it in name order and tests each entry without reading
-- the row, reading only the rows that match.
DROP INDEX identities_by_name;
CREATE INDEX identities_by_name ON identities (name, id, external_id, spiffe_id);
