-- psql 15 \d w: query 5 (psql -E)
SELECT r.conname, pg_catalog.pg_get_constraintdef(r.oid, true)
FROM pg_catalog.pg_constraint r
WHERE r.conrelid = '@w@' AND r.contype = 'c'
ORDER BY 1;
