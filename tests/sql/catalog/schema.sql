CREATE TABLE t (
  id integer PRIMARY KEY,
  name varchar(40) NOT NULL DEFAULT 'x',
  price numeric(10,2) CHECK (price > 0),
  qty int DEFAULT 0,
  code text UNIQUE,
  created timestamp
);
CREATE INDEX t_name_idx ON t (name);
CREATE TABLE u (a int, b text);
CREATE VIEW v AS SELECT id, name FROM t WHERE qty > 1;
CREATE TABLE w (
  k bigint NOT NULL,
  j int NOT NULL,
  ts timestamptz DEFAULT now(),
  ts2 timestamp DEFAULT CURRENT_TIMESTAMP,
  neg int DEFAULT -1,
  s text DEFAULT 'abc',
  flag boolean DEFAULT true,
  r numeric DEFAULT 1.5,
  big bigint DEFAULT 5,
  "Weird Col" varchar,
  c char(3) DEFAULT 'ab',
  PRIMARY KEY (k, j),
  CONSTRAINT w_range CHECK (j >= 0 AND j < 100 OR k = 7),
  CHECK (s <> '' AND length(s) < 10),
  CHECK (r * 2 + 1 > 0)
);
CREATE UNIQUE INDEX w_s_r ON w (s, r DESC);
CREATE INDEX "W Idx" ON w ("Weird Col");
CREATE TABLE z (
  a numeric DEFAULT -1.5,
  b int DEFAULT NULL,
  c text DEFAULT 'a''b',
  d int DEFAULT 1+2,
  e text DEFAULT lower('X'),
  f bigint DEFAULT 2147483648,
  g numeric DEFAULT 1e3,
  h boolean DEFAULT false,
  i date DEFAULT CURRENT_DATE,
  j date DEFAULT '2020-01-01',
  k float8 DEFAULT 0.5,
  l varchar(5) DEFAULT 'ab',
  m int DEFAULT -2147483648,
  CHECK (b IS NOT NULL),
  CHECK (c LIKE 'a%'),
  CHECK (NOT h),
  CHECK (d IN (1, 2)),
  CHECK (d BETWEEN 1 AND 5),
  CHECK (k > 0.1 OR k < -1),
  CHECK (a <> 0 AND (d > 1 OR d < -1)),
  CHECK (d * (d - 1) / 2 >= d - 1 - 1),
  CHECK (h IS NOT TRUE OR d IS DISTINCT FROM 3),
  CHECK (CASE WHEN d > 1 THEN a > 0 ELSE true END),
  CHECK (c NOT IN ('x', 'y'))
);
