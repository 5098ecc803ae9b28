-- One trigram index over the searched text (name, external id and SPIFFE ID joined
-- and lower-cased, migration 0009) replaces the three per-column trigram indexes.
-- A search now tests `search_text LIKE` the lower-cased term on every path, so the
-- rare-term lookup and the name walk agree, and each written identity feeds one GIN
-- index instead of three: the name's trigrams were indexed twice (an AWS ARN holds
-- the user name), and GIN inserts were most of the cost of a large import.
DROP INDEX identities_name_trgm;
DROP INDEX identities_external_id_trgm;
DROP INDEX identities_spiffe_trgm;
CREATE INDEX identities_search_trgm ON identities USING gin (search_text gin_trgm_ops);
