/*
 * test_sqlvt.c - the sql module through its vtable (datacave/sql.h), loaded
 * with the host's loader over each storage engine (memory and lsm), the way
 * the server and the local shell use it.
 *
 * Results are collected as text: one line per row, values separated by
 * '|', NULL as "NULL"; the command tag and the error's SQLSTATE are kept.
 * Expected answers were checked against PostgreSQL 15.
 */
#include "sqlvt_harness.h"

/* ==== tests =============================================================== */

static void test_basic(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    assert_string_equal(tag_of(s, "CREATE TABLE t (id int PRIMARY KEY, "
                                  "name text NOT NULL, v numeric(10,2) "
                                  "DEFAULT 1.5)"),
                        "CREATE TABLE");
    assert_string_equal(tag_of(s, "INSERT INTO t (id, name) VALUES "
                                  "(1, 'a'), (2, 'b'), (3, 'c')"),
                        "INSERT 0 3");
    Q(s, "SELECT id, name, v FROM t ORDER BY id",
      "1|a|1.50\n2|b|1.50\n3|c|1.50\n");
    assert_string_equal(tag_of(s, "UPDATE t SET v = v * 2 WHERE id >= 2"),
                        "UPDATE 2");
    Q(s, "SELECT sum(v), count(*) FROM t", "7.50|3\n");
    assert_string_equal(tag_of(s, "DELETE FROM t WHERE name = 'a'"),
                        "DELETE 1");
    Q(s, "SELECT id FROM t ORDER BY id DESC", "3\n2\n");
    Q(s, "INSERT INTO t VALUES (7, 'x', 0) RETURNING id, name", "7|x\n");
    Q(s, "UPDATE t SET name = upper(name) WHERE id = 7 RETURNING name", "X\n");
    Q(s, "DELETE FROM t WHERE id = 7 RETURNING id * 10", "70\n");
    E.vt->session_close(s);
}

static void test_errors(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    result r;
    dc_error err;
    assert_int_not_equal(run(s, "SELEC 1", &r, &err), 0);
    assert_string_equal(err.sqlstate, "42601");
    assert_int_equal(err.position, 1);
    qerr(s, "SELECT * FROM nope", "42P01");
    q(s, "CREATE TABLE t (a int PRIMARY KEY, b varchar(3))");
    qerr(s, "CREATE TABLE t (a int)", "42P07");
    q(s, "INSERT INTO t VALUES (1, 'abc')");
    qerr(s, "INSERT INTO t VALUES (1, 'x')", "23505");
    qerr(s, "INSERT INTO t VALUES (2, 'abcd')", "22001");
    qerr(s, "INSERT INTO t VALUES (NULL, 'x')", "23502");
    qerr(s, "SELECT 1 / 0", "22012");
    qerr(s, "SELECT 2147483647 + 1", "22003");
    qerr(s, "SELECT 'x'::int", "22P02");
    qerr(s, "SELECT nosuch FROM t", "42703");
    /* A failing statement in a multi-statement string undoes the others. */
    qerr(s, "INSERT INTO t VALUES (5, 'e'); SELECT 1/0", "22012");
    Q(s, "SELECT count(*) FROM t WHERE a = 5", "0\n");
    /* Errors leave the session usable. */
    Q(s, "SELECT a FROM t", "1\n");
    assert_int_equal(E.vt->txn_status(s), 'I');
    E.vt->session_close(s);
}

static void test_transactions(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE t (a int PRIMARY KEY)");
    q(s, "BEGIN");
    assert_int_equal(E.vt->txn_status(s), 'T');
    q(s, "INSERT INTO t VALUES (1)");
    q(s, "ROLLBACK");
    Q(s, "SELECT count(*) FROM t", "0\n");
    q(s, "BEGIN");
    q(s, "INSERT INTO t VALUES (1)");
    q(s, "SAVEPOINT a");
    q(s, "INSERT INTO t VALUES (2)");
    qerr(s, "INSERT INTO t VALUES (2)", "23505");
    assert_int_equal(E.vt->txn_status(s), 'E');
    qerr(s, "SELECT 1", "25P02");
    assert_string_equal(tag_of(s, "ROLLBACK TO a"), "ROLLBACK");
    assert_int_equal(E.vt->txn_status(s), 'T');
    Q(s, "SELECT a FROM t ORDER BY a", "1\n");
    q(s, "SAVEPOINT b");
    q(s, "INSERT INTO t VALUES (3)");
    q(s, "RELEASE b");
    qerr(s, "ROLLBACK TO b", "3B001");
    assert_string_equal(tag_of(s, "COMMIT"), "ROLLBACK"); /* failed block */
    Q(s, "SELECT count(*) FROM t", "0\n");
    q(s, "BEGIN; INSERT INTO t VALUES (10); INSERT INTO t VALUES (11)");
    assert_string_equal(tag_of(s, "COMMIT"), "COMMIT");
    Q(s, "SELECT a FROM t ORDER BY a", "10\n11\n");
    /* DDL is transactional too. */
    q(s, "BEGIN");
    q(s, "CREATE TABLE u (x int)");
    q(s, "INSERT INTO u VALUES (1)");
    Q(s, "SELECT x FROM u", "1\n");
    q(s, "ROLLBACK");
    qerr(s, "SELECT x FROM u", "42P01");
    /* SET inside a rolled back block is undone. */
    q(s, "BEGIN");
    q(s, "SET TimeZone = 'UTC+3'");
    q(s, "ROLLBACK");
    Q(s, "SHOW timezone", "UTC\n");
    result r;
    dc_error err;
    assert_int_equal(run(s, "COMMIT", &r, &err), 0);
    assert_int_equal(r.nnotices, 1);
    assert_string_equal(r.notice_state, "25P01");
    E.vt->session_close(s);
}

static void test_settings(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    Q(s, "SHOW server_version", "15.0\n");
    Q(s, "SELECT current_setting('DateStyle')", "ISO, MDY\n");
    q(s, "SET extra_float_digits = 3");
    Q(s, "SHOW extra_float_digits", "3\n");
    qerr(s, "SET nosuch = 1", "42704");
    qerr(s, "SHOW nosuch", "42704");
    Q(s, "SELECT current_database(), current_user, current_schema()",
      "default|tester|public\n");
    const char *v = q(s, "SELECT version()");
    assert_non_null(strstr(v, "PostgreSQL 15"));
    assert_non_null(strstr(v, "Datacave"));
    q(s, "SET work_mem = '128kB'");
    Q(s, "SHOW work_mem", "128kB\n");
    assert_string_equal(E.vt->setting(s, "client_encoding"), "UTF8");
    E.vt->session_close(s);
}

static void test_queries(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE a (id int PRIMARY KEY, g int, name text)");
    q(s, "CREATE TABLE b (id int PRIMARY KEY, a_id int, amount int)");
    q(s, "INSERT INTO a VALUES (1, 1, 'one'), (2, 1, 'two'), (3, 2, NULL), "
         "(4, NULL, 'four')");
    q(s, "INSERT INTO b VALUES (10, 1, 5), (11, 1, 7), (12, 2, 1), "
         "(13, 9, 100)");
    Q(s, "SELECT a.id, b.amount FROM a JOIN b ON b.a_id = a.id "
         "ORDER BY b.amount",
      "2|1\n1|5\n1|7\n");
    Q(s, "SELECT a.id, b.id FROM a LEFT JOIN b ON b.a_id = a.id "
         "WHERE a.id > 2 ORDER BY 1",
      "3|NULL\n4|NULL\n");
    Q(s, "SELECT a.id, b.id FROM a RIGHT JOIN b ON b.a_id = a.id "
         "ORDER BY 2",
      "1|10\n1|11\n2|12\nNULL|13\n");
    Q(s, "SELECT count(*) FROM a FULL JOIN b ON b.a_id = a.id", "6\n");
    Q(s, "SELECT g, count(*), sum(id) FROM a GROUP BY g ORDER BY g NULLS FIRST",
      "NULL|1|4\n1|2|3\n2|1|3\n");
    Q(s, "SELECT g FROM a GROUP BY g HAVING count(*) > 1", "1\n");
    Q(s, "SELECT id FROM a WHERE id IN (SELECT a_id FROM b) ORDER BY id",
      "1\n2\n");
    Q(s, "SELECT id FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE "
         "b.a_id = a.id) ORDER BY id",
      "3\n4\n");
    Q(s, "SELECT id, (SELECT sum(amount) FROM b WHERE b.a_id = a.id) "
         "FROM a ORDER BY id",
      "1|12\n2|1\n3|NULL\n4|NULL\n");
    Q(s, "SELECT coalesce(name, '?') FROM a ORDER BY id LIMIT 2 OFFSET 2",
      "?\nfour\n");
    Q(s, "SELECT id FROM a UNION SELECT a_id FROM b ORDER BY 1",
      "1\n2\n3\n4\n9\n");
    Q(s, "SELECT a_id FROM b INTERSECT ALL SELECT g FROM a ORDER BY 1",
      "1\n1\n2\n");
    Q(s, "SELECT x FROM (SELECT id * 2 AS x FROM a) s WHERE x > 4 ORDER BY x",
      "6\n8\n");
    Q(s, "SELECT count(DISTINCT g), string_agg(name, ',' ORDER BY name) "
         "FROM a",
      "2|four,one,two\n");
    Q(s, "SELECT CASE WHEN id < 2 THEN 'low' ELSE 'high' END FROM a "
         "ORDER BY id LIMIT 2",
      "low\nhigh\n");
    Q(s, "SELECT i FROM generate_series(1, 3) AS i", "1\n2\n3\n");
    Q(s, "SELECT name FROM a WHERE name LIKE 't%' ORDER BY name", "two\n");
    Q(s, "SELECT * FROM (VALUES (1, 'x'), (2, 'y')) v(n, s) ORDER BY n DESC",
      "2|y\n1|x\n");
    Q(s, "SELECT DISTINCT g FROM a ORDER BY g", "1\n2\nNULL\n");
    E.vt->session_close(s);
}

static void test_ddl(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE t (a int, b text) WITH (fillfactor=100)");
    q(s, "INSERT INTO t VALUES (1, 'x'), (2, 'y')");
    q(s, "ALTER TABLE t ADD COLUMN c int DEFAULT 7");
    Q(s, "SELECT a, b, c FROM t ORDER BY a", "1|x|7\n2|y|7\n");
    q(s, "ALTER TABLE t DROP COLUMN b");
    Q(s, "SELECT * FROM t ORDER BY a", "1|7\n2|7\n");
    q(s, "ALTER TABLE t RENAME COLUMN c TO cc");
    Q(s, "SELECT cc FROM t WHERE a = 2", "7\n");
    q(s, "ALTER TABLE t ADD PRIMARY KEY (a)");
    qerr(s, "INSERT INTO t VALUES (1, 0)", "23505");
    /* A rewrite that keeps the stored rows as they are: the column added
     * later (its value not in the old rows), the dropped one and char(n)
     * all read the same after the new key, and an index is rebuilt. */
    q(s, "CREATE TABLE r (a int, x text, f char(6), g int)");
    q(s, "INSERT INTO r VALUES (3, 'p', 'ab', 30), (1, 'q', NULL, 10), "
         "(2, 'r', '', 20)");
    q(s, "ALTER TABLE r ADD COLUMN d int DEFAULT 5");
    q(s, "ALTER TABLE r DROP COLUMN x");
    q(s, "CREATE INDEX r_g ON r (g)");
    q(s, "INSERT INTO r VALUES (4, 'cd    ', 40, 6)");
    q(s, "ALTER TABLE r ADD PRIMARY KEY (a)");
    Q(s, "SELECT a, '[' || f::text || ']', octet_length(f), g, d FROM r",
      "1|NULL|NULL|10|5\n2|[]|6|20|5\n3|[ab]|6|30|5\n4|[cd]|6|40|6\n");
    Q(s, "SELECT a FROM r WHERE g = 30", "3\n");
    qerr(s, "INSERT INTO r VALUES (2, 'x', 0, 0)", "23505");
    E.vt->session_close(s);
}

/* ADD PRIMARY KEY over thousands of rows: the old table is scanned (and
 * the new keys built) on a helper thread in batches of 1024 rows, and the
 * statement's thread loads them.  Rows, order and errors must be those of
 * the one-thread rewrite, in whatever batch the row that fails is. */
static void test_rewrite_two_threads(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    /* Keys ascending in scan order. */
    q(s, "CREATE TABLE w (a int, b text, c int)");
    q(s, "INSERT INTO w SELECT i, 'b' || i, i * 2 FROM generate_series(1, 5000) i");
    q(s, "ALTER TABLE w ADD PRIMARY KEY (a)");
    Q(s, "SELECT count(*), sum(a), sum(c), min(b), max(b) FROM w",
      "5000|12502500|25005000|b1|b999\n");
    Q(s, "SELECT b, c FROM w WHERE a = 4321", "b4321|8642\n");
    Q(s, "SELECT a FROM w WHERE a > 4997", "4998\n4999\n5000\n");
    qerr(s, "INSERT INTO w VALUES (4321, 'x', 0)", "23505");
    /* Descending: every key is checked against the rows loaded before. */
    q(s, "CREATE TABLE wd (a int, b text)");
    q(s, "INSERT INTO wd SELECT i, 'b' || i FROM generate_series(5000, 1, -1) i");
    q(s, "ALTER TABLE wd ADD PRIMARY KEY (a)");
    Q(s, "SELECT count(*), sum(a) FROM wd", "5000|12502500\n");
    Q(s, "SELECT a, b FROM wd LIMIT 2", "1|b1\n2|b2\n");
    /* A duplicate far into the scan, both out of order (a probe finds it)
     * and right after its twin (the ascending check does). */
    q(s, "CREATE TABLE wx (a int, b text)");
    q(s, "INSERT INTO wx SELECT i, 'b' || i FROM generate_series(1, 4000) i");
    q(s, "INSERT INTO wx VALUES (10, 'again')");
    q(s, "INSERT INTO wx SELECT i, 'b' || i FROM generate_series(4001, 5000) i");
    dc_error e = qerr(s, "ALTER TABLE wx ADD PRIMARY KEY (a)", "23505");
    assert_string_equal(e.message, "could not create unique index \"wx_pkey\"");
    assert_non_null(strstr(e.detail, "(a)=(10)"));
    q(s, "DELETE FROM wx WHERE b = 'again'");
    q(s, "INSERT INTO wx VALUES (5000, 'again')");
    e = qerr(s, "ALTER TABLE wx ADD PRIMARY KEY (a)", "23505");
    assert_non_null(strstr(e.detail, "(a)=(5000)"));
    /* A NULL key in a later batch. */
    q(s, "DELETE FROM wx WHERE b = 'again'");
    q(s, "INSERT INTO wx VALUES (NULL, 'null')");
    q(s, "INSERT INTO wx SELECT i, 'b' || i FROM generate_series(5001, 6500) i");
    e = qerr(s, "ALTER TABLE wx ADD PRIMARY KEY (a)", "23502");
    assert_string_equal(e.message,
                        "column \"a\" of relation \"wx\" contains null values");
    /* Nothing changed: still no key, every row there. */
    Q(s, "SELECT count(*), count(a), sum(a) FROM wx", "6501|6500|21128250\n");
    q(s, "INSERT INTO wx VALUES (1, 'dup allowed')");
    q(s, "DELETE FROM wx WHERE a IS NULL OR b = 'dup allowed'");
    q(s, "ALTER TABLE wx ADD PRIMARY KEY (a)");
    Q(s, "SELECT count(*), sum(a) FROM wx", "6500|21128250\n");
    /* Rolled back with its transaction. */
    q(s, "CREATE TABLE wr (a int, b text)");
    q(s, "INSERT INTO wr SELECT i, 'b' || i FROM generate_series(1, 3000) i");
    q(s, "BEGIN");
    q(s, "ALTER TABLE wr ADD PRIMARY KEY (a)");
    Q(s, "SELECT b FROM wr WHERE a = 2999", "b2999\n");
    q(s, "ROLLBACK");
    q(s, "INSERT INTO wr VALUES (1, 'dup allowed')");
    Q(s, "SELECT count(*) FROM wr", "3001\n");
    E.vt->session_close(s);
}

static void test_indexes_and_explain(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE t (id int PRIMARY KEY, k int, v text)");
    q(s, "INSERT INTO t SELECT i, i % 10, 'v' || i FROM generate_series(1, 500) i");
    q(s, "CREATE INDEX t_k ON t (k)");
    const char *p = q(s, "EXPLAIN SELECT v FROM t WHERE id = 42");
    assert_non_null(strstr(p, "Index Scan using t_pkey on t"));
    p = q(s, "EXPLAIN SELECT v FROM t WHERE k = 3");
    assert_non_null(strstr(p, "t_k"));
    Q(s, "SELECT v FROM t WHERE id = 42", "v42\n");
    Q(s, "SELECT count(*) FROM t WHERE k = 3", "50\n");
    Q(s, "SELECT id FROM t WHERE id BETWEEN 10 AND 13 ORDER BY id DESC",
      "13\n12\n11\n10\n");
    Q(s, "SELECT count(*) FROM t WHERE k = 3 AND id < 100", "10\n");
    q(s, "UPDATE t SET k = 99 WHERE id = 5");
    Q(s, "SELECT id FROM t WHERE k = 99", "5\n");
    q(s, "DROP INDEX t_k");
    Q(s, "SELECT id FROM t WHERE k = 99", "5\n");
    E.vt->session_close(s);
}

static void test_restart(void **state)
{
    (void)state;
    if (strcmp(storage_name, "memory") == 0)
        skip(); /* the memory engine keeps nothing across a restart */
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE t (id int PRIMARY KEY, v text)");
    q(s, "CREATE INDEX t_v ON t (v)");
    q(s, "CREATE VIEW tv AS SELECT id FROM t WHERE v = 'b'");
    q(s, "CREATE TABLE nopk (x int)");
    q(s, "INSERT INTO t VALUES (1, 'a'), (2, 'b')");
    q(s, "INSERT INTO nopk VALUES (1), (1)");
    q(s, "BEGIN; INSERT INTO t VALUES (3, 'c')");
    E.vt->session_close(s); /* rolls the open block back */
    restart();
    s = open_session();
    Q(s, "SELECT id, v FROM t ORDER BY id", "1|a\n2|b\n");
    Q(s, "SELECT * FROM tv", "2\n");
    Q(s, "SELECT id FROM t WHERE v = 'a'", "1\n");
    q(s, "INSERT INTO nopk VALUES (2)");
    Q(s, "SELECT x, count(*) FROM nopk GROUP BY x ORDER BY x", "1|2\n2|1\n");
    qerr(s, "INSERT INTO t VALUES (1, 'z')", "23505");
    q(s, "CREATE TABLE t2 (a int)"); /* oids do not collide after restart */
    q(s, "INSERT INTO t2 VALUES (5)");
    E.vt->session_close(s);
    restart();
    s = open_session();
    Q(s, "SELECT a FROM t2", "5\n");
    Q(s, "SELECT count(*) FROM t", "2\n");
    E.vt->session_close(s);
}

/* ---- concurrency --------------------------------------------------------- */

typedef struct worker {
    int n;
    int failures;
    char state[6];
    const char *sql;
    dc_sql_session *s;
} worker;

static void *increment_worker(void *arg)
{
    worker *w = arg;
    dc_sql_session *s = open_session();
    for (int i = 0; i < w->n; i++) {
        result r;
        dc_error err;
        if (run(s, "UPDATE c SET v = v + 1 WHERE id = 1", &r, &err) != 0 ||
            strcmp(r.tag, "UPDATE 1") != 0)
            w->failures++;
    }
    E.vt->session_close(s);
    return NULL;
}

/* READ COMMITTED: concurrent increments of one row lose nothing. */
static void test_no_lost_update(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE c (id int PRIMARY KEY, v int)");
    q(s, "INSERT INTO c VALUES (1, 0)");
    enum { T = 4, N = 150 };
    pthread_t th[T];
    worker w[T];
    for (int i = 0; i < T; i++) {
        w[i] = (worker){.n = N};
        assert_int_equal(pthread_create(&th[i], NULL, increment_worker, &w[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    char expect[32];
    snprintf(expect, sizeof expect, "%d\n", T * N);
    Q(s, "SELECT v FROM c", expect);
    E.vt->session_close(s);
}

/* REPEATABLE READ: a write to a row changed since the snapshot is 40001;
 * reads keep seeing the snapshot. */
static void test_repeatable_read(void **state)
{
    (void)state;
    dc_sql_session *a = open_session(), *b = open_session();
    q(a, "CREATE TABLE c (id int PRIMARY KEY, v int)");
    q(a, "INSERT INTO c VALUES (1, 0), (2, 0)");
    q(a, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    Q(a, "SELECT v FROM c WHERE id = 1", "0\n");
    q(b, "UPDATE c SET v = 5 WHERE id = 1");
    Q(a, "SELECT v FROM c WHERE id = 1", "0\n");
    qerr(a, "UPDATE c SET v = v + 1 WHERE id = 1", "40001");
    q(a, "ROLLBACK");
    /* READ COMMITTED sees the committed change at its next statement. */
    q(a, "BEGIN");
    Q(a, "SELECT v FROM c WHERE id = 1", "5\n");
    q(b, "UPDATE c SET v = 6 WHERE id = 1");
    Q(a, "SELECT v FROM c WHERE id = 1", "6\n");
    q(a, "COMMIT");
    E.vt->session_close(a);
    E.vt->session_close(b);
}

static void *update_worker(void *arg)
{
    worker *w = arg;
    result r;
    dc_error err;
    if (run(w->s, w->sql, &r, &err) != 0) {
        memcpy(w->state, err.sqlstate, sizeof w->state);
        run(w->s, "ROLLBACK", &r, &err);
    } else {
        w->state[0] = '\0';
    }
    return NULL;
}

/* Two transactions that lock rows in opposite orders: one of them gets
 * 40P01 and the other goes on. */
static void test_deadlock(void **state)
{
    (void)state;
    dc_sql_session *a = open_session(), *b = open_session();
    q(a, "CREATE TABLE c (id int PRIMARY KEY, v int)");
    q(a, "INSERT INTO c VALUES (1, 0), (2, 0)");
    q(a, "BEGIN; UPDATE c SET v = 1 WHERE id = 1");
    q(b, "BEGIN; UPDATE c SET v = 2 WHERE id = 2");
    worker wa = {.s = a, .sql = "UPDATE c SET v = 1 WHERE id = 2"};
    worker wb = {.s = b, .sql = "UPDATE c SET v = 2 WHERE id = 1"};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, update_worker, &wa), 0);
    assert_int_equal(pthread_create(&tb, NULL, update_worker, &wb), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    int deadlocks = (strcmp(wa.state, "40P01") == 0) + (strcmp(wb.state, "40P01") == 0);
    int ok = (wa.state[0] == '\0') + (wb.state[0] == '\0');
    assert_int_equal(deadlocks, 1);
    assert_int_equal(ok, 1);
    dc_sql_session *winner = wa.state[0] == '\0' ? a : b;
    q(winner, "COMMIT");
    const char *v = q(a, "SELECT v FROM c ORDER BY id");
    assert_true(strcmp(v, "1\n1\n") == 0 || strcmp(v, "2\n2\n") == 0);
    E.vt->session_close(a);
    E.vt->session_close(b);
}

static void test_lock_timeout(void **state)
{
    (void)state;
    dc_sql_session *a = open_session(), *b = open_session();
    q(a, "CREATE TABLE c (id int PRIMARY KEY, v int)");
    q(a, "INSERT INTO c VALUES (1, 0)");
    q(a, "BEGIN; UPDATE c SET v = 1 WHERE id = 1");
    q(b, "SET lock_timeout = '50ms'");
    qerr(b, "UPDATE c SET v = 2 WHERE id = 1", "55P03");
    q(a, "COMMIT");
    q(b, "UPDATE c SET v = 2 WHERE id = 1");
    Q(a, "SELECT v FROM c", "2\n");
    E.vt->session_close(a);
    E.vt->session_close(b);
}

/* work_mem: a sort beyond it still answers (spilling), a hash beyond it
 * fails cleanly with 53200. */
static void test_work_mem(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    q(s, "SET work_mem = '64kB'");
    Q(s, "SELECT max(x) FROM (SELECT i AS x FROM generate_series(1, 20000) i "
         "ORDER BY i DESC LIMIT 20000 OFFSET 19999) s",
      "1\n");
    result r;
    dc_error err;
    int rc = run(s, "SELECT i, count(*) FROM generate_series(1, 200000) i "
                    "GROUP BY i", &r, &err);
    if (rc != 0)
        assert_string_equal(err.sqlstate, "53200");
    Q(s, "SELECT 1", "1\n");
    E.vt->session_close(s);
}

/* ---- prepared statements --------------------------------------------------- */

static void test_prepared(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE t (id int PRIMARY KEY, v text)");
    q(s, "INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 10) i");
    dc_sql_stmt *st;
    dc_error err;
    dc_error_init(&err);
    const char *sql = "SELECT id, v FROM t WHERE id >= $1 ORDER BY id";
    assert_int_equal(E.vt->prepare(s, sql, strlen(sql), NULL, 0, &st, &err), 0);
    const uint32_t *pt;
    uint32_t np, nc;
    const dc_column *cols;
    assert_int_equal(E.vt->stmt_describe(st, &pt, &np, &cols, &nc), 0);
    assert_int_equal(np, 1);
    assert_int_equal(pt[0], DC_TYPE_INT4);
    assert_int_equal(nc, 2);
    assert_string_equal(cols[1].name, "v");
    dc_value p = {.type = DC_TYPE_INT4, .typmod = -1, .u.i = 8};
    dc_sql_portal *po;
    assert_int_equal(E.vt->portal_open(st, &p, 1, &po, &err), 0);
    result r;
    memset(&r, 0, sizeof r);
    dc_sql_sink sink = {.size = sizeof sink, .ud = &r, .row = r_row,
                        .complete = r_complete};
    bool susp;
    assert_int_equal(E.vt->portal_fetch(po, 2, &sink, &susp, &err), 0);
    assert_true(susp);
    assert_string_equal(r.text, "8|v8\n9|v9\n");
    assert_int_equal(E.vt->portal_fetch(po, 2, &sink, &susp, &err), 0);
    assert_false(susp);
    assert_string_equal(r.text, "8|v8\n9|v9\n10|v10\n");
    /* The tag counts the rows of the last fetch, as PostgreSQL's does. */
    assert_string_equal(r.tag, "SELECT 1");
    /* A finished portal runs again as empty. */
    assert_int_equal(E.vt->portal_fetch(po, 0, &sink, &susp, &err), 0);
    assert_string_equal(r.tag, "SELECT 0");
    assert_string_equal(r.text, "8|v8\n9|v9\n10|v10\n");
    E.vt->portal_close(po);
    E.vt->stmt_close(st);
    E.vt->session_close(s);
}

/* Prepare, bind and run sql with up to one int4 parameter (NULL: none);
 * returns the status, the tag in r->tag and the error in *err. */
static int run_portal(dc_sql_session *s, const char *sql, const int *param,
                      result *r, dc_error *err)
{
    memset(r, 0, sizeof *r);
    dc_error_init(err);
    dc_sql_stmt *st;
    int rc = E.vt->prepare(s, sql, strlen(sql), NULL, 0, &st, err);
    if (rc)
        return rc;
    dc_value v = {.type = DC_TYPE_INT4, .typmod = -1,
                  .u.i = param ? *param : 0};
    dc_sql_portal *po;
    rc = E.vt->portal_open(st, param ? &v : NULL, param ? 1 : 0, &po, err);
    if (rc == 0) {
        dc_sql_sink sink = {.size = sizeof sink, .ud = r, .row = r_row,
                            .complete = r_complete, .notice = r_notice};
        bool susp;
        rc = E.vt->portal_fetch(po, 0, &sink, &susp, err);
        E.vt->portal_close(po);
    }
    E.vt->stmt_close(st);
    return rc;
}

static void insert_ok(dc_sql_session *s, int id)
{
    result r;
    dc_error err;
    if (run_portal(s, "INSERT INTO t VALUES ($1)", &id, &r, &err) != 0)
        fail_msg("INSERT %d failed: %s %s", id, err.sqlstate, err.message);
    assert_string_equal(r.tag, "INSERT 0 1");
}

static int sync_(dc_sql_session *s, bool failed)
{
    dc_error err;
    dc_error_init(&err);
    return E.vt->sync(s, failed, NULL, &err);
}

/* Sessions opened with sync_pipeline: the portals run up to sync() form
 * one implicit transaction (outside a block); without it each portal
 * commits on its own. */
static void test_pipeline(void **state)
{
    (void)state;
    assert_true(DC_HAS_FIELD(E.vt, dc_sql_vtable, sync) && E.vt->sync);
    dc_sql_session *other = open_session();
    q(other, "CREATE TABLE t (id int PRIMARY KEY)");
    dc_sql_session_options o = {.size = sizeof o, .user = "tester",
                                .database = "default", .can_read = true,
                                .can_write = true, .is_admin = true,
                                .sync_pipeline = true};
    dc_sql_session *s = NULL;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(E.vt->session_open(E.inst, &o, &s, &err), 0);

    /* Committed at sync(), not when the portal finishes. */
    insert_ok(s, 1);
    insert_ok(s, 2);
    Q(other, "SELECT count(*) FROM t", "0\n");
    assert_int_equal(E.vt->txn_status(s), 'I');
    assert_int_equal(sync_(s, false), 0);
    Q(other, "SELECT count(*) FROM t", "2\n");
    /* A statement that fails: sync() rolls back the whole pipeline. */
    insert_ok(s, 3);
    result r;
    int one = 1;
    assert_int_not_equal(run_portal(s, "INSERT INTO t VALUES ($1)", &one, &r,
                                    &err), 0);
    assert_string_equal(err.sqlstate, "23505");
    assert_int_equal(sync_(s, true), 0);
    assert_int_equal(E.vt->txn_status(s), 'I');
    Q(other, "SELECT count(*) FROM t", "2\n");
    /* A failure the caller saw (failed = true) rolls back as well. */
    insert_ok(s, 4);
    assert_int_equal(sync_(s, true), 0);
    Q(other, "SELECT count(*) FROM t", "2\n");
    /* BEGIN takes the statements before it into its block. */
    insert_ok(s, 5);
    assert_int_equal(run_portal(s, "BEGIN", NULL, &r, &err), 0);
    insert_ok(s, 6);
    assert_int_equal(sync_(s, false), 0);
    assert_int_equal(E.vt->txn_status(s), 'T');
    Q(other, "SELECT count(*) FROM t", "2\n");
    assert_int_equal(run_portal(s, "ROLLBACK", NULL, &r, &err), 0);
    assert_int_equal(sync_(s, false), 0);
    Q(other, "SELECT count(*) FROM t", "2\n");
    /* COMMIT ends the implicit transaction (with PostgreSQL's warning). */
    insert_ok(s, 7);
    assert_int_equal(run_portal(s, "COMMIT", NULL, &r, &err), 0);
    assert_string_equal(r.tag, "COMMIT");
    assert_int_equal(r.nnotices, 1);
    assert_string_equal(r.notice_state, "25P01");
    Q(other, "SELECT count(*) FROM t", "3\n");
    assert_int_equal(sync_(s, false), 0);
    /* CREATE DATABASE: alone it runs (and commits), after another
     * statement of the pipeline it is refused. */
    insert_ok(s, 8);
    assert_int_not_equal(run_portal(s, "CREATE DATABASE pdb", NULL, &r, &err),
                         0);
    assert_string_equal(err.sqlstate, "25001");
    assert_int_equal(sync_(s, true), 0);
    Q(other, "SELECT count(*) FROM t", "3\n");
    assert_int_equal(run_portal(s, "CREATE DATABASE pdb", NULL, &r, &err), 0);
    assert_int_equal(sync_(s, false), 0);
    assert_int_equal(run_portal(s, "DROP DATABASE pdb", NULL, &r, &err), 0);
    assert_int_equal(sync_(s, false), 0);
    /* In a block, a failure reported at sync() fails the block. */
    assert_int_equal(run_portal(s, "BEGIN", NULL, &r, &err), 0);
    insert_ok(s, 9);
    assert_int_equal(sync_(s, true), 0);
    assert_int_equal(E.vt->txn_status(s), 'E');
    assert_int_equal(run_portal(s, "ROLLBACK", NULL, &r, &err), 0);
    assert_int_equal(sync_(s, false), 0);
    assert_int_equal(E.vt->txn_status(s), 'I');
    Q(other, "SELECT count(*) FROM t", "3\n");
    E.vt->session_close(s);

    /* Without sync_pipeline every portal commits on its own. */
    dc_sql_session *a = open_session();
    insert_ok(a, 10);
    Q(other, "SELECT count(*) FROM t", "4\n");
    E.vt->session_close(a);
    E.vt->session_close(other);
}

/* statement_timeout ends a long statement, a lock wait too, with 57014
 * and its own message; the session goes on; 0 turns it off. */
static void test_statement_timeout(void **state)
{
    (void)state;
    dc_sql_session *a = open_session(), *b = open_session();
    result r;
    dc_error err;
    const char *msg = "canceling statement due to statement timeout";
    q(a, "SET statement_timeout = '100ms'");
    /* Without the timeout: seconds (the scan) and 30 s (the sleep). */
    assert_int_not_equal(run(a, "SELECT count(*) FROM generate_series(1, "
                                "30000) x, generate_series(1, 3000) y",
                             &r, &err), 0);
    assert_string_equal(err.sqlstate, "57014");
    assert_string_equal(err.message, msg);
    Q(a, "SELECT 1", "1\n");
    assert_int_not_equal(run(a, "SELECT 1; SELECT pg_sleep(30)", &r, &err), 0);
    assert_string_equal(err.sqlstate, "57014");
    assert_string_equal(err.message, msg);
    /* A lock wait (lock_timeout is longer). */
    q(b, "CREATE TABLE c (id int PRIMARY KEY, v int)");
    q(b, "INSERT INTO c VALUES (1, 0)");
    q(b, "BEGIN; UPDATE c SET v = 1 WHERE id = 1");
    q(a, "SET lock_timeout = '30s'");
    assert_int_not_equal(run(a, "UPDATE c SET v = 2 WHERE id = 1", &r, &err),
                         0);
    assert_string_equal(err.sqlstate, "57014");
    assert_string_equal(err.message, msg);
    /* In a block the transaction fails as with any error. */
    q(a, "BEGIN");
    qerr(a, "UPDATE c SET v = 2 WHERE id = 1", "57014");
    assert_int_equal(E.vt->txn_status(a), 'E');
    q(a, "ROLLBACK");
    q(b, "COMMIT");
    /* Off: the statement runs to its end. */
    q(a, "SET statement_timeout = 0");
    Q(a, "SHOW statement_timeout", "0\n");
    Q(a, "SELECT count(*) FROM generate_series(1, 300) x, "
         "generate_series(1, 300) y, (SELECT pg_sleep(0.3)) z",
      "90000\n");
    Q(a, "UPDATE c SET v = v + 10 WHERE id = 1 RETURNING v", "11\n");
    /* The extended protocol: each fetch is covered. */
    q(a, "SET statement_timeout = 100");
    assert_int_not_equal(run_portal(a, "SELECT pg_sleep(30)", NULL, &r, &err),
                         0);
    assert_string_equal(err.sqlstate, "57014");
    assert_string_equal(err.message, msg);
    qerr(a, "SET statement_timeout = '1 fortnight'", "22023");
    E.vt->session_close(a);
    E.vt->session_close(b);
}

/* Bind and fetch max_rows of sql in s; returns the portal (suspended). */
static dc_sql_portal *suspended_portal(dc_sql_session *s, dc_sql_stmt **st,
                                       const char *sql, uint64_t max_rows)
{
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(E.vt->prepare(s, sql, strlen(sql), NULL, 0, st, &err), 0);
    dc_sql_portal *po;
    assert_int_equal(E.vt->portal_open(*st, NULL, 0, &po, &err), 0);
    if (max_rows) {
        result r;
        memset(&r, 0, sizeof r);
        dc_sql_sink sink = {.size = sizeof sink, .ud = &r, .row = r_row,
                            .complete = r_complete};
        bool susp = false;
        assert_int_equal(E.vt->portal_fetch(po, max_rows, &sink, &susp, &err),
                         0);
        assert_true(susp);
    }
    return po;
}

/* Fetch po expecting 34000 (its transaction ended); closes it. */
static void portal_gone(dc_sql_portal *po, dc_sql_stmt *st)
{
    result r;
    memset(&r, 0, sizeof r);
    dc_sql_sink sink = {.size = sizeof sink, .ud = &r, .row = r_row,
                        .complete = r_complete};
    dc_error err;
    dc_error_init(&err);
    bool susp = false;
    assert_int_not_equal(E.vt->portal_fetch(po, 10, &sink, &susp, &err), 0);
    assert_string_equal(err.sqlstate, "34000");
    assert_int_equal(r.len, 0);
    E.vt->portal_close(po);
    E.vt->stmt_close(st);
}

/* Portals end with their transaction, as in PostgreSQL: COMMIT or
 * ROLLBACK of a block, COMMIT of a pipeline's implicit transaction,
 * sync(). */
static void test_portal_txn_end(void **state)
{
    (void)state;
    dc_sql_session_options o = {.size = sizeof o, .user = "tester",
                                .database = "default", .can_read = true,
                                .can_write = true, .is_admin = true,
                                .sync_pipeline = true};
    dc_sql_session *s = NULL;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(E.vt->session_open(E.inst, &o, &s, &err), 0);
    q(s, "CREATE TABLE big (i int PRIMARY KEY)");
    q(s, "INSERT INTO big SELECT g FROM generate_series(1, 100) g");
    const char *sel = "SELECT i FROM big ORDER BY i";
    result r;
    dc_sql_stmt *st;
    const char *ends[] = {"COMMIT", "ROLLBACK"};
    for (int i = 0; i < 2; i++) {
        q(s, "BEGIN");
        dc_sql_portal *po = suspended_portal(s, &st, sel, 10);
        /* Bound in the block, not run yet. */
        dc_sql_stmt *st2;
        dc_sql_portal *idle = suspended_portal(s, &st2, sel, 0);
        assert_int_equal(run_portal(s, ends[i], NULL, &r, &err), 0);
        assert_string_equal(r.tag, ends[i]);
        portal_gone(po, st);
        portal_gone(idle, st2);
        assert_int_equal(sync_(s, false), 0);
    }
    /* The implicit transaction of a pipeline: COMMIT, then sync(). */
    dc_sql_portal *po = suspended_portal(s, &st, sel, 10);
    assert_int_equal(run_portal(s, "COMMIT", NULL, &r, &err), 0);
    portal_gone(po, st);
    assert_int_equal(sync_(s, false), 0);
    po = suspended_portal(s, &st, sel, 10);
    assert_int_equal(sync_(s, false), 0);
    portal_gone(po, st);
    /* While the transaction lasts, the portal goes on. */
    q(s, "BEGIN");
    po = suspended_portal(s, &st, sel, 10);
    Q(s, "SELECT count(*) FROM big", "100\n");
    memset(&r, 0, sizeof r);
    dc_sql_sink sink = {.size = sizeof sink, .ud = &r, .row = r_row,
                        .complete = r_complete};
    bool susp = true;
    assert_int_equal(E.vt->portal_fetch(po, 0, &sink, &susp, &err), 0);
    assert_false(susp);
    assert_string_equal(r.tag, "SELECT 90");
    E.vt->portal_close(po);
    E.vt->stmt_close(st);
    q(s, "COMMIT");
    Q(s, "SELECT count(*) FROM big", "100\n");
    E.vt->session_close(s);
}

/* A failed block prepares, binds and runs what ends it, and only that. */
static void test_failed_block_prepare(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE t (id int PRIMARY KEY)");
    dc_error err;
    dc_error_init(&err);
    const char *sel = "SELECT count(*) FROM t";
    dc_sql_stmt *before;
    assert_int_equal(E.vt->prepare(s, sel, strlen(sel), NULL, 0, &before,
                                   &err), 0);
    q(s, "BEGIN");
    q(s, "INSERT INTO t VALUES (1)");
    qerr(s, "SELECT 1/0", "22012");
    assert_int_equal(E.vt->txn_status(s), 'E');
    result r;
    assert_int_not_equal(run_portal(s, "SELECT 1", NULL, &r, &err), 0);
    assert_string_equal(err.sqlstate, "25P02");
    /* Bind of a statement prepared before the failure is refused too. */
    dc_sql_portal *po;
    dc_error_init(&err);
    assert_int_not_equal(E.vt->portal_open(before, NULL, 0, &po, &err), 0);
    assert_string_equal(err.sqlstate, "25P02");
    /* ROLLBACK, prepared once and run in two failed blocks. */
    const char *rb = "ROLLBACK";
    dc_sql_stmt *st;
    assert_int_equal(E.vt->prepare(s, rb, strlen(rb), NULL, 0, &st, &err), 0);
    dc_sql_sink sink = {.size = sizeof sink, .ud = &r, .row = r_row,
                        .complete = r_complete};
    for (int i = 0; i < 2; i++) {
        if (i) {
            q(s, "BEGIN");
            q(s, "INSERT INTO t VALUES (1)");
            qerr(s, "INSERT INTO t VALUES (1)", "23505");
            assert_int_equal(E.vt->txn_status(s), 'E');
        }
        memset(&r, 0, sizeof r);
        assert_int_equal(E.vt->portal_open(st, NULL, 0, &po, &err), 0);
        bool susp;
        assert_int_equal(E.vt->portal_fetch(po, 0, &sink, &susp, &err), 0);
        E.vt->portal_close(po);
        assert_string_equal(r.tag, "ROLLBACK");
        assert_int_equal(E.vt->txn_status(s), 'I');
    }
    E.vt->stmt_close(st);
    /* COMMIT and ROLLBACK TO SAVEPOINT prepare in a failed block too. */
    q(s, "BEGIN");
    q(s, "SAVEPOINT a");
    q(s, "INSERT INTO t VALUES (2)");
    qerr(s, "SELECT 1/0", "22012");
    assert_int_equal(run_portal(s, "ROLLBACK TO SAVEPOINT a", NULL, &r, &err),
                     0);
    assert_int_equal(E.vt->txn_status(s), 'T');
    qerr(s, "SELECT 1/0", "22012");
    assert_int_equal(run_portal(s, "COMMIT", NULL, &r, &err), 0);
    assert_string_equal(r.tag, "ROLLBACK");
    assert_int_equal(E.vt->txn_status(s), 'I');
    Q(s, "SELECT count(*) FROM t", "0\n");
    E.vt->stmt_close(before);
    E.vt->session_close(s);
}

int main(void)
{
    const char *bd = getenv("DATACAVE_BUILD");
    if (!realpath(bd && *bd ? bd : "build", build_dir)) {
        fprintf(stderr, "test_sqlvt: no build directory: %s\n", strerror(errno));
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewrite_two_threads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ddl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indexes_and_explain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_lost_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeatable_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadlock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_work_mem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prepared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipeline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_block_prepare, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_statement_timeout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_portal_txn_end, setup, teardown),
    };
    int failed = 0;
    static const char *const engines[] = {"memory", "lsm"};
    for (size_t i = 0; i < 2; i++) {
        storage_name = engines[i];
        print_message("sql module over storage module %s\n", storage_name);
        failed += cmocka_run_group_tests_name(engines[i], tests, NULL, NULL);
    }
    return failed ? 1 : 0;
}
