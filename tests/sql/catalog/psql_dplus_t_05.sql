-- psql 15 \d+ t: query 5 (psql -E)
SELECT r.conname, pg_catalog.pg_get_constraintdef(r.oid, true)
FROM pg_catalog.pg_constraint r
WHERE r.conrelid = '@t@' AND r.contype = 'c'
ORDER BY 1;
