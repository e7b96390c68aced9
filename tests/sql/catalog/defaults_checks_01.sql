-- DEFAULT and CHECK texts, pretty and plain: constants, casts, operators, IN, CASE, IS tests
select a.attname, pg_get_expr(d.adbin, d.adrelid, true) pretty, pg_get_expr(d.adbin, d.adrelid) plain from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum where a.attrelid = 'z'::regclass and a.attnum > 0 order by a.attnum;
select conname, pg_get_constraintdef(oid, true) pretty, pg_get_constraintdef(oid) plain from pg_constraint where conrelid = 'z'::regclass order by 1;
