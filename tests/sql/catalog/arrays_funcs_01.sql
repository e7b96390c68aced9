-- array, regclass and catalog function checks
select 't'::regclass::text, 'pg_class'::regclass::text, 't'::regclass = c.oid from pg_class c where c.relname = 't';
select c.oid::regclass, c.relname from pg_class c where c.relname in ('t','v') order by 2;
select array_to_string(array(select relname from pg_class where relnamespace = 2200 order by 1), ', ');
select array(select relname from pg_class where relnamespace = 2200 and relkind = 'r' order by 1);
select relname from pg_class where relnamespace = 2200 and relname = any('{t,u}') order by 1;
select array_agg(relname order by relname) from pg_class where relnamespace = 2200;
select x from unnest('{a,b,"c d",NULL}'::text[]) x;
select array_upper('{1,2,3}'::int[], 1), array_length('{}'::text[], 1), cardinality('{4,5}'::int[]);
select ('{10,20,30}'::int[])[2];
select 5 = any('{1,5}'::int[]), 5 = all('{1,5}'::int[]), 7 <> all('{1,5}'::int[]), null::int = any('{}'::int[]);
select i.indkey, a.attname from pg_index i join pg_class c on c.oid = i.indexrelid join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey) where c.relname = 't_pkey';
select conname, pg_get_constraintdef(oid), pg_get_constraintdef(oid, false) from pg_constraint where conrelid = 't'::regclass order by 1;
select pg_get_expr(adbin, adrelid), pg_get_expr(adbin, adrelid, true) from pg_attrdef where adrelid = 't'::regclass order by adnum;
select pg_get_indexdef(indexrelid), pg_get_indexdef(indexrelid, 0, false), pg_get_indexdef(indexrelid, 1, true) from pg_index where indrelid = 't'::regclass order by 1;
select pg_get_userbyid(10) is not null, pg_get_userbyid(6171), format_type(1009, -1);
