-- Plain queries through psql: result formats, command tags, NULLs,
-- errors (the session goes on), transaction blocks and savepoints.
\pset null '<null>'
select 1 as one, 'two' as two, 3.5 as three, null::text as nothing;
select n, n * n as square from generate_series(1, 5) as g(n) order by n;
create table people (id int primary key, name text not null, born date, score numeric(6,2));
insert into people values (1, 'Ada', '1815-12-10', 99.5), (2, 'Alan', '1912-06-23', null);
insert into people (id, name) values (3, 'Grace');
update people set score = score + 0.25 where id = 1;
delete from people where id = 3;
select * from people order by id;
select count(*), max(born) from people;
-- errors: the message and the session stays usable
select 1/0;
select * from no_such_table;
insert into people values (1, 'dup', null, null);
insert into people values (4, null, null, null);
selec 1;
select 'still here' as status;
-- a transaction block, a failing statement inside it, rollback
begin;
insert into people values (5, 'Edsger', '1930-05-11', 70);
select count(*) from people;
select 1/0;
select 'ignored';
rollback;
select count(*) from people;
-- commit and savepoints
begin;
insert into people values (6, 'Barbara', '1939-11-07', 88);
savepoint s1;
insert into people values (7, 'Tony', '1934-01-11', 77);
rollback to savepoint s1;
release savepoint s1;
commit;
select id, name from people order by id;
-- expanded and unaligned output
\x on
select * from people where id = 1;
\x off
\pset format unaligned
select id, name from people order by id;
\pset format aligned
-- psql variables and \gset
select 40 + 2 as answer \gset
select :answer + 0 as answer_again;
drop table people;
