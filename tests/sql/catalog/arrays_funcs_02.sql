-- ARRAY(correlated subquery), ANY over NULLs, ARRAY[], unnest, array_agg
select null::int = any('{1}'::int[]) as a, 1 = any(null::int[]) as b, 2 = any(array[1,null]) as c, relname, array(select attname from pg_attribute a where a.attrelid = c.oid and attnum > 0 order by attnum desc) from pg_class c where relnamespace=2200 and relkind in ('r','v') order by relname;
select x, count(*) from unnest(array['a','b','a']) x group by x order by 1;
select array_agg(x) from generate_series(1,3) x where x > 5;
select cardinality(array(select 1 where false));
select array[1,2,null], array['a b', 'c'], array_to_string(array[1.5, 2], '+'), (array['x','y'])[2], array[1,'2'];
select indkey, array_to_string(array(select attname from pg_attribute a where a.attrelid = i.indrelid and a.attnum = any(i.indkey) order by attnum), ',') from pg_index i where indrelid = 'w'::regclass order by 2;
