-- COPY through psql: \copy from a file, from stdin, to stdout (text and
-- CSV), COPY ... FROM STDIN / TO STDOUT as SQL, and a bad row.
create table measures (id int primary key, label text, value float8, taken date);
\copy measures from 'measures.csv' with (format csv, header true)
select * from measures order by id;
\copy measures (id, label) from stdin
10	ten
11	\N
12	tab\there
\.
select id, label, value is null as no_value from measures where id >= 10 order by id;
\copy measures to stdout
\copy (select id, label from measures where id < 3 order by id) to stdout with (format csv, header true)
copy measures (id, label, value) from stdin with (format csv);
20,"quoted, with comma",1.5
21,,2.5
\.
select id, label is null as label_null, value from measures where id >= 20 order by id;
copy (select id, label from measures where id >= 20 order by id) to stdout with (format csv);
\copy measures to 'measures-out.txt'
-- a malformed row: the whole COPY fails, nothing is loaded
\copy measures (id, label) from stdin
30	ok
notanumber	bad
\.
select count(*) from measures where id >= 30;
drop table measures;
