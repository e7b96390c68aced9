-- psql's describe commands (they query pg_catalog): \dt, \d, \d NAME, \dn.
-- (Foreign keys are left out: the sql module does not support them yet.)
create table items (
  id int primary key,
  name varchar(40) not null,
  price numeric(10,2) default 0,
  tags text,
  created timestamp
);
create table orders (
  order_id bigint not null,
  item_id int,
  qty smallint check (qty > 0),
  note text,
  primary key (order_id)
);
create index orders_item_idx on orders (item_id);
create unique index items_name_key on items (name);
create view cheap_items as select id, name from items where price < 10;
\dt
\d
\d items
\d orders
\d cheap_items
\dn
\d no_such_relation
drop view cheap_items;
drop table orders;
drop table items;
\dt
