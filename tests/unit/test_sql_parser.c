/*
 * test_sql_parser.c - the SQL lexer and parser: every literal form,
 * identifiers, comments, token positions; operator precedence and statement
 * structure through the canonical printer (ast.c); syntax errors with
 * PostgreSQL's SQLSTATE, message and position; bounded nesting; and a
 * breadth check that parses every SQL record of sqllogictest's select1.test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sql/parser.h"

/* ---- helpers ------------------------------------------------------------- */

/* Parse `sql` (must succeed) and return the canonical text of its
 * statements joined by " ; " (malloc'd). */
static char *canon(const char *sql)
{
    dc_error e;
    dc_error_init(&e);
    sql_arena *a = NULL;
    sql_list *l = NULL;
    int rc = sql_parse(sql, strlen(sql), &a, &l, &e);
    if (rc != DC_OK)
        fail_msg("parse failed for <%s>: %s %s (position %d)", sql, e.sqlstate, e.message,
                 e.position);
    size_t cap = 64, len = 0;
    char *out = calloc(1, cap);
    for (size_t i = 0; i < SQL_LIST_LEN(l); i++) {
        char *s = sql_stmt_to_string(l->items[i]);
        assert_non_null(s);
        size_t n = strlen(s) + 4;
        if (len + n + 1 > cap) {
            while (len + n + 1 > cap)
                cap *= 2;
            out = realloc(out, cap);
        }
        len += (size_t)sprintf(out + len, "%s%s", i ? " ; " : "", s);
        free(s);
    }
    sql_arena_free(a);
    return out;
}

static void check(const char *sql, const char *want)
{
    char *got = canon(sql);
    if (strcmp(got, want) != 0) {
        print_message("sql:  %s\nwant: %s\ngot:  %s\n", sql, want, got);
        free(got);
        fail();
    }
    free(got);
}

static void check_error(const char *sql, const char *sqlstate, int position, const char *msg)
{
    dc_error e;
    dc_error_init(&e);
    sql_arena *a = NULL;
    sql_list *l = NULL;
    int rc = sql_parse(sql, strlen(sql), &a, &l, &e);
    if (rc == DC_OK) {
        sql_arena_free(a);
        fail_msg("<%s> parsed but should fail", sql);
    }
    if (strcmp(e.sqlstate, sqlstate) != 0 || e.position != position ||
        (msg && strcmp(e.message, msg) != 0))
        fail_msg("<%s>: want %s at %d \"%s\", got %s at %d \"%s\"", sql, sqlstate, position,
                 msg ? msg : "*", e.sqlstate, e.position, e.message);
}

/* ---- lexer --------------------------------------------------------------- */
typedef struct {
    sql_arena *a;
    sql_token *t;
    size_t n;
} lexed;

static lexed lex_ok(const char *src)
{
    lexed r = {sql_arena_new(), NULL, 0};
    dc_error e;
    dc_error_init(&e);
    assert_non_null(r.a);
    if (sql_lex(r.a, src, strlen(src), &r.t, &r.n, &e) != DC_OK)
        fail_msg("lex failed for <%s>: %s", src, e.message);
    return r;
}

static void test_lex_identifiers(void **state)
{
    (void)state;
    lexed x = lex_ok("Foo \"Foo\" \"a\"\"b\" _x1$ ÉtÉ");
    assert_int_equal(x.n, 6);
    assert_int_equal(x.t[0].kind, TK_IDENT);
    assert_string_equal(x.t[0].text, "foo");
    assert_false(x.t[0].quoted);
    assert_string_equal(x.t[1].text, "Foo");
    assert_true(x.t[1].quoted);
    assert_string_equal(x.t[2].text, "a\"b");
    assert_string_equal(x.t[3].text, "_x1$");
    assert_string_equal(x.t[4].text, "ÉtÉ"); /* only ASCII folds */
    assert_int_equal(x.t[5].kind, TK_EOF);
    /* positions are 1-based characters */
    assert_int_equal(x.t[0].pos, 1);
    assert_int_equal(x.t[1].pos, 5);
    assert_int_equal(x.t[2].pos, 11);
    assert_int_equal(x.t[3].pos, 18);
    assert_int_equal(x.t[4].pos, 23);
    assert_int_equal(x.t[5].pos, 26);
    sql_arena_free(x.a);
}

static void test_lex_strings(void **state)
{
    (void)state;
    lexed x = lex_ok("'it''s' E'a\\nb\\t\\\\\\'\\x41\\101\\u00e9' $$a'b$$ $q$x$$y$q$ 'a'\n  'b' 'c'");
    assert_int_equal(x.t[0].kind, TK_STRING);
    assert_string_equal(x.t[0].text, "it's");
    assert_string_equal(x.t[1].text, "a\nb\t\\'AA\xc3\xa9");
    assert_string_equal(x.t[2].text, "a'b");
    assert_string_equal(x.t[3].text, "x$$y");
    /* adjacent literals join across a newline, not on one line */
    assert_string_equal(x.t[4].text, "ab");
    assert_int_equal(x.t[5].kind, TK_STRING);
    assert_string_equal(x.t[5].text, "c");
    assert_int_equal(x.t[6].kind, TK_EOF);
    sql_arena_free(x.a);

    x = lex_ok("B'101' X'1F' N'n'");
    assert_int_equal(x.t[0].kind, TK_BITSTR);
    assert_string_equal(x.t[0].text, "b101");
    assert_string_equal(x.t[1].text, "x1F");
    assert_int_equal(x.t[2].kind, TK_STRING);
    sql_arena_free(x.a);
}

static void test_lex_numbers(void **state)
{
    (void)state;
    lexed x = lex_ok("42 9223372036854775807 9223372036854775808 1.5 .5 1. 1e10 2.5E-3 $3 1..2");
    assert_int_equal(x.t[0].kind, TK_INTEGER);
    assert_int_equal(x.t[0].ival, 42);
    assert_int_equal(x.t[1].kind, TK_INTEGER);
    assert_true(x.t[1].ival == INT64_MAX);
    assert_int_equal(x.t[2].kind, TK_NUMERIC);
    assert_string_equal(x.t[2].text, "9223372036854775808");
    assert_int_equal(x.t[3].kind, TK_NUMERIC);
    assert_string_equal(x.t[4].text, ".5");
    assert_string_equal(x.t[5].text, "1.");
    assert_int_equal(x.t[6].kind, TK_NUMERIC);
    assert_string_equal(x.t[7].text, "2.5E-3");
    assert_int_equal(x.t[8].kind, TK_PARAM);
    assert_int_equal(x.t[8].ival, 3);
    assert_int_equal(x.t[9].kind, TK_INTEGER); /* 1 .. 2 */
    assert_int_equal(x.t[10].kind, TK_PUNCT);
    sql_arena_free(x.a);
}

static void test_lex_operators_comments(void **state)
{
    (void)state;
    lexed x = lex_ok("a+-1 -- comment\n<> != >= :: /* a /* nested */ b */ ||~ !~ @- *-");
    const char *want[] = {"a", "+", "-", "1", "<>", "<>", ">=", "::", "||~", "!~", "@-", "*", "-"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(x.t[i].text, want[i]);
    assert_int_equal(x.t[7].kind, TK_TYPECAST);
    assert_int_equal(x.t[4].pos, 17); /* after the comment line */
    assert_int_equal(x.t[13].kind, TK_EOF);
    sql_arena_free(x.a);
}

static void test_lex_errors(void **state)
{
    (void)state;
    check_error("SELECT 'abc", "42601", 8, "unterminated quoted string at or near \"'abc\"");
    check_error("SELECT 1 /* x", "42601", 10, "unterminated /* comment at or near \"/* x\"");
    check_error("SELECT $$abc", "42601", 8, "unterminated dollar-quoted string at or near \"$$abc\"");
    check_error("SELECT \"abc", "42601", 8, NULL);
    check_error("SELECT \"\" FROM t", "42601", 8, "zero-length delimited identifier at or near \"\"\"\"");
    check_error("SELECT E'\\u00'", "22025", 14, "invalid Unicode escape");
}

/* ---- expressions and precedence ------------------------------------------ */
static void test_precedence(void **state)
{
    (void)state;
    check("SELECT 1 + 2 * 3 - 4 / 5 % 6", "SELECT ((1 + (2 * 3)) - ((4 / 5) % 6))");
    check("SELECT 2 ^ 3 ^ 4, - a ^ 2, -2 ^ 2", "SELECT ((2 ^ 3) ^ 4), ((- a) ^ 2), (-2 ^ 2)");
    check("SELECT a OR b AND NOT c = d", "SELECT (a OR (b AND (NOT (c = d))))");
    check("SELECT NOT a IS NULL", "SELECT (NOT (a IS NULL))");
    check("SELECT a = b IS TRUE", "SELECT ((a = b) IS TRUE)");
    check("SELECT a < b BETWEEN 1 AND 2", "SELECT (a < (b BETWEEN 1 AND 2))");
    check_error("SELECT a < b = c", "42601", 14, "syntax error at or near \"=\"");
    check("SELECT a || b || c, 'x' || 1 + 2", "SELECT ((a || b) || c), ('x' || (1 + 2))");
    check("SELECT a LIKE b || c", "SELECT (a LIKE (b || c))");
    check("SELECT a ~ b = c !~ d", "SELECT ((a ~ b) = (c !~ d))");
    check("SELECT - a :: int, -a[1]", "SELECT (- CAST(a AS int4)), (- a[1])");
    check("SELECT a + b COLLATE \"C\"", "SELECT (a + (b COLLATE \"C\"))");
    check("SELECT a AT TIME ZONE 'UTC' + 1", "SELECT ((a AT TIME ZONE 'UTC') + 1)");
    check("SELECT ~ a + b, 1 + ~ 2 * 3", "SELECT (~ (a + b)), (1 + (~ (2 * 3)))");
    check("SELECT abalance + -2870, a+-1, a=-1, a<>b, a!=b, a>=b",
          "SELECT (abalance + -2870), (a + -1), (a = -1), (a <> b), (a <> b), (a >= b)");
    check("SELECT a IS NULL OR b IS NOT TRUE, a ISNULL, b NOTNULL, c IS UNKNOWN, d IS NOT FALSE",
          "SELECT ((a IS NULL) OR (b IS NOT TRUE)), (a IS NULL), (b IS NOT NULL), "
          "(c IS UNKNOWN), (d IS NOT FALSE)");
    check("SELECT a IS DISTINCT FROM b + 1, a IS NOT DISTINCT FROM b",
          "SELECT (a IS DISTINCT FROM (b + 1)), (a IS NOT DISTINCT FROM b)");
    check("SELECT (1 + 2) * 3, ((a))", "SELECT ((1 + 2) * 3), a");
    check("SELECT 1 IN (2) IN (3)", "SELECT ((1 IN (2)) IN (3))");
}

static void test_literals_and_casts(void **state)
{
    (void)state;
    check("SELECT $1, $2::int, E'a\\tb', $$x'y$$, $t$z$t$, 'a'\n'b', NULL, TRUE, false",
          "SELECT $1, CAST($2 AS int4), 'a\tb', 'x''y', 'z', 'ab', NULL, TRUE, FALSE");
    check("SELECT 9223372036854775808, -9223372036854775808, 1.5e10, .5, -1.5",
          "SELECT 9223372036854775808, -9223372036854775808, 1.5e10, .5, -1.5");
    check("SELECT a::int, CAST(b AS varchar(10)), '1'::numeric(10,2)::text",
          "SELECT CAST(a AS int4), CAST(b AS varchar(10)), CAST(CAST('1' AS numeric(10,2)) AS text)");
    check("SELECT date '2020-01-01', timestamp with time zone '2020-01-01', double precision '1.5', "
          "interval '1 day', int4 '7'",
          "SELECT CAST('2020-01-01' AS date), CAST('2020-01-01' AS timestamptz), CAST('1.5' AS float8), "
          "CAST('1 day' AS interval), CAST('7' AS int4)");
    check("SELECT x::smallint, x::integer, x::bigint, x::int8, x::real, x::float4, x::float8, "
          "x::float(10), x::float(30), x::decimal, x::boolean, x::bool, x::character varying(5), "
          "x::char(3), x::character, x::bpchar, x::bytea, x::timestamp, "
          "x::timestamp without time zone, x::timestamptz, x::name, x::oid, x::regclass, x::int[], "
          "x::pg_catalog.int4, x::text[][]",
          "SELECT CAST(x AS int2), CAST(x AS int4), CAST(x AS int8), CAST(x AS int8), CAST(x AS float4), "
          "CAST(x AS float4), CAST(x AS float8), CAST(x AS float4), CAST(x AS float8), CAST(x AS numeric), "
          "CAST(x AS bool), CAST(x AS bool), CAST(x AS varchar(5)), CAST(x AS bpchar(3)), "
          "CAST(x AS bpchar(1)), CAST(x AS bpchar), CAST(x AS bytea), CAST(x AS timestamp), "
          "CAST(x AS timestamp), CAST(x AS timestamptz), CAST(x AS name), CAST(x AS oid), "
          "CAST(x AS regclass), CAST(x AS int4[]), CAST(x AS int4), CAST(x AS text[][])");
}

static void test_typename_fields(void **state)
{
    (void)state;
    dc_error e;
    dc_error_init(&e);
    sql_arena *a;
    sql_list *l;
    const char *q = "SELECT x::varchar(10), x::numeric(10,2), x::char, x::int[]";
    assert_int_equal(sql_parse(q, strlen(q), &a, &l, &e), DC_OK);
    sql_stmt *s = l->items[0];
    sql_list *t = s->u.select->targets;
    sql_typename *ty = ((sql_target *)t->items[0])->expr->u.cast.type;
    assert_int_equal(ty->oid, 1043);
    assert_int_equal(ty->typmod, 14);
    ty = ((sql_target *)t->items[1])->expr->u.cast.type;
    assert_int_equal(ty->oid, 1700);
    assert_int_equal(ty->typmod, ((10 << 16) | 2) + 4);
    ty = ((sql_target *)t->items[2])->expr->u.cast.type;
    assert_int_equal(ty->oid, 1042);
    assert_int_equal(ty->typmod, 5);
    ty = ((sql_target *)t->items[3])->expr->u.cast.type;
    assert_int_equal(ty->oid, 23);
    assert_int_equal(ty->array_dims, 1);
    /* positions of expressions are 1-based characters */
    assert_int_equal(((sql_target *)t->items[0])->expr->pos, 9);
    assert_int_equal(((sql_target *)t->items[0])->expr->u.cast.arg->pos, 8);
    sql_arena_free(a);
}

static void test_functions_and_special_forms(void **state)
{
    (void)state;
    check("SELECT count(*), count(DISTINCT a), sum(x) FILTER (WHERE x > 0), string_agg(a, ',' ORDER BY b DESC)",
          "SELECT count(*), count(DISTINCT a), sum(x) FILTER (WHERE (x > 0)), "
          "string_agg(a, ',' ORDER BY b DESC)");
    check("SELECT row_number() OVER (), rank() OVER (PARTITION BY a, b ORDER BY c DESC), "
          "sum(x) OVER (ORDER BY t ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), "
          "avg(x) OVER (RANGE UNBOUNDED PRECEDING), count(*) FILTER (WHERE x) OVER w",
          "SELECT row_number() OVER (), rank() OVER (PARTITION BY a, b ORDER BY c DESC), "
          "sum(x) OVER (ORDER BY t ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), "
          "avg(x) OVER (RANGE UNBOUNDED PRECEDING), count(*) FILTER (WHERE x) OVER (w)");
    check("SELECT CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END, CASE x WHEN 1 THEN 'a' END",
          "SELECT CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END, CASE x WHEN 1 THEN 'a' END");
    check("SELECT coalesce(a, b, 0), nullif(a, 0), greatest(1, 2), least(3, 4)",
          "SELECT coalesce(a, b, 0), nullif(a, 0), greatest(1, 2), least(3, 4)");
    check("SELECT EXTRACT(year FROM d), SUBSTRING(s FROM 2 FOR 3), substring(s for 2), "
          "substring(s, 1), POSITION('a' IN s), TRIM(LEADING 'x' FROM s), TRIM(s), "
          "trim(both from s), TRIM(TRAILING FROM s), OVERLAY(s PLACING 'ab' FROM 2 FOR 1)",
          "SELECT extract('year', d), substring(s, 2, 3), substring(s, 1, 2), substring(s, 1), "
          "position(s, 'a'), ltrim(s, 'x'), btrim(s), btrim(s), rtrim(s), overlay(s, 'ab', 2, 1)");
    check("SELECT CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_USER, SESSION_USER, CURRENT_SCHEMA, "
          "current_schema(), CURRENT_TIMESTAMP(3), LOCALTIMESTAMP, USER",
          "SELECT CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_USER, SESSION_USER, CURRENT_SCHEMA, "
          "CURRENT_SCHEMA, CURRENT_TIMESTAMP(3), LOCALTIMESTAMP, USER");
    check("SELECT ARRAY[1, 2], ARRAY[[1], [2]], ARRAY[], a[1], a[1:2], a[:2], f(x)[1]",
          "SELECT ARRAY[1, 2], ARRAY[ARRAY[1], ARRAY[2]], ARRAY[], a[1], a[1:2], a[:2], f(x)[1]");
    check("SELECT EXISTS (SELECT 1), (SELECT max(a) FROM t), ARRAY(SELECT 1), ROW(1, 2), (1, 2)",
          "SELECT EXISTS (SELECT 1), (SELECT max(a) FROM t), ARRAY(SELECT 1), ROW(1, 2), ROW(1, 2)");
    check("SELECT a IN (1, 2), b NOT IN (SELECT x FROM u), c IN ((SELECT 1))",
          "SELECT (a IN (1, 2)), (b NOT IN (SELECT x FROM u)), (c IN (SELECT 1))");
    check("SELECT a LIKE 'x%' ESCAPE '!', b NOT ILIKE 'y', c SIMILAR TO 'z', d NOT SIMILAR TO 'w'",
          "SELECT (a LIKE 'x%' ESCAPE '!'), (b NOT ILIKE 'y'), (c SIMILAR TO 'z'), (d NOT SIMILAR TO 'w')");
    check("SELECT a BETWEEN 1 AND 2 AND b NOT BETWEEN SYMMETRIC 3 AND 4",
          "SELECT ((a BETWEEN 1 AND 2) AND (b NOT BETWEEN SYMMETRIC 3 AND 4))");
    check("SELECT a = ANY(ARRAY[1,2]), a <> ALL (SELECT b FROM u), a = SOME('{1}'::int[]), "
          "a ~ ANY(b), a = ANY((SELECT 1))",
          "SELECT (a = ANY (ARRAY[1, 2])), (a <> ALL (SELECT b FROM u)), "
          "(a = ANY (CAST('{1}' AS int4[]))), (a ~ ANY (b)), (a = ANY ((SELECT 1)))");
    check("SELECT t.*, s.t.a, \"MixedCase\", MixedCase, \"a\"\"b\", left(x, 2)",
          "SELECT t.*, s.t.a, \"MixedCase\", mixedcase, \"a\"\"b\", left(x, 2)");
    check("SELECT x COLLATE \"C\", y COLLATE pg_catalog.default",
          "SELECT (x COLLATE \"C\"), (y COLLATE pg_catalog.\"default\")");
    check("SELECT ((SELECT 1) UNION (SELECT 2))", "SELECT ((SELECT 1) UNION (SELECT 2))");
    check("SELECT ((SELECT 1) + 2)", "SELECT ((SELECT 1) + 2)");
}

/* ---- SELECT -------------------------------------------------------------- */
static void test_select(void **state)
{
    (void)state;
    check("SELECT a, b c, d AS \"E\", e AS select FROM t tt",
          "SELECT a, b AS c, d AS \"E\", e AS \"select\" FROM t AS tt");
    check("SELECT a FROM t1 LEFT JOIN t2 ON t1.a = t2.b RIGHT OUTER JOIN t3 USING (c) FULL JOIN t4 "
          "ON true CROSS JOIN t5 NATURAL JOIN t6 INNER JOIN t8 ON x, t7 AS x(a, b)",
          "SELECT a FROM ((((((t1 LEFT JOIN t2 ON (t1.a = t2.b)) RIGHT JOIN t3 USING (c)) FULL JOIN "
          "t4 ON TRUE) CROSS JOIN t5) NATURAL JOIN t6) JOIN t8 ON x), t7 AS x(a, b)");
    check("SELECT * FROM a JOIN (b JOIN c ON p) ON q", "SELECT * FROM (a JOIN (b JOIN c ON p) ON q)");
    check("SELECT * FROM (SELECT 1) AS s, LATERAL (SELECT 2) l, generate_series(1, 10) AS g, ONLY t",
          "SELECT * FROM (SELECT 1) AS s, LATERAL (SELECT 2) AS l, generate_series(1, 10) AS g, ONLY t");
    check("SELECT * FROM ((SELECT 1)) s", "SELECT * FROM (SELECT 1) AS s");
    check("SELECT DISTINCT ON (a) a, b FROM t ORDER BY a DESC NULLS LAST, 2 ASC NULLS FIRST LIMIT 10 OFFSET 5",
          "SELECT DISTINCT ON (a) a, b FROM t ORDER BY a DESC NULLS LAST, 2 ASC NULLS FIRST LIMIT 10 OFFSET 5");
    check("SELECT DISTINCT a FROM t WHERE x GROUP BY 1, b HAVING count(*) > 1",
          "SELECT DISTINCT a FROM t WHERE x GROUP BY 1, b HAVING (count(*) > 1)");
    check("SELECT 1 UNION SELECT 2 INTERSECT SELECT 3 EXCEPT ALL SELECT 4",
          "((SELECT 1) UNION ((SELECT 2) INTERSECT (SELECT 3))) EXCEPT ALL (SELECT 4)");
    check("(SELECT 1 UNION ALL SELECT 2) ORDER BY 1 FETCH FIRST 3 ROWS ONLY",
          "(SELECT 1) UNION ALL (SELECT 2) ORDER BY 1 LIMIT 3");
    check("SELECT 1 FETCH NEXT ROW ONLY; SELECT 1 OFFSET 2 ROWS LIMIT ALL",
          "SELECT 1 LIMIT 1 ; SELECT 1 OFFSET 2");
    check("SELECT 1 UNION (SELECT 2 ORDER BY 1 LIMIT 1)",
          "(SELECT 1) UNION (SELECT 2 ORDER BY 1 LIMIT 1)");
    check("VALUES (1, 'a'), (2, 'b') ORDER BY 1", "VALUES (1, 'a'), (2, 'b') ORDER BY 1");
    check("WITH x AS (SELECT 1), y(a) AS (SELECT 2) SELECT * FROM x, y",
          "WITH x AS (SELECT 1), y(a) AS (SELECT 2) SELECT * FROM x, y");
    check("WITH RECURSIVE r(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r",
          "WITH RECURSIVE r(n) AS ((VALUES (1)) UNION ALL (SELECT (n + 1) FROM r WHERE (n < 5))) "
          "SELECT n FROM r");
    check("SELECT FROM t; TABLE t; SELECT 1 FOR UPDATE",
          "SELECT FROM t ; SELECT * FROM t ; SELECT 1 FOR UPDATE");
}

/* ---- DML ----------------------------------------------------------------- */
static void test_dml(void **state)
{
    (void)state;
    check("INSERT INTO t (a, b) VALUES (1, DEFAULT), (2, 'x') ON CONFLICT (a) DO UPDATE SET b = "
          "excluded.b WHERE t.a > 0 RETURNING *, a AS x",
          "INSERT INTO t (a, b) VALUES (1, DEFAULT), (2, 'x') ON CONFLICT (a) DO UPDATE SET b = "
          "excluded.b WHERE (t.a > 0) RETURNING *, a AS x");
    check("INSERT INTO t DEFAULT VALUES; INSERT INTO s.t SELECT * FROM u ON CONFLICT DO NOTHING",
          "INSERT INTO t DEFAULT VALUES ; INSERT INTO s.t SELECT * FROM u ON CONFLICT DO NOTHING");
    check("INSERT INTO t (SELECT 1)", "INSERT INTO t SELECT 1");
    check("UPDATE t AS x SET a = a + 1, (b, c) = (1, 2) FROM u WHERE x.id = u.id RETURNING a",
          "UPDATE t AS x SET a = (a + 1), (b, c) = ROW(1, 2) FROM u WHERE (x.id = u.id) RETURNING a");
    check("UPDATE t x SET a = DEFAULT", "UPDATE t AS x SET a = DEFAULT");
    check("DELETE FROM t USING u WHERE t.a = u.a RETURNING *",
          "DELETE FROM t USING u WHERE (t.a = u.a) RETURNING *");
    check("DELETE FROM t", "DELETE FROM t");
    check("WITH d AS (DELETE FROM t RETURNING *) INSERT INTO u SELECT * FROM d",
          "WITH d AS (DELETE FROM t RETURNING *) INSERT INTO u SELECT * FROM d");
}

/* ---- DDL and utility statements ------------------------------------------ */
static void test_ddl(void **state)
{
    (void)state;
    check("CREATE TABLE IF NOT EXISTS s.t (id int PRIMARY KEY, name varchar(20) NOT NULL DEFAULT 'x', "
          "c char(3) UNIQUE NULL, n numeric(10,2) CHECK (n > 0), r int REFERENCES o(id) ON DELETE "
          "CASCADE, CONSTRAINT pk PRIMARY KEY (id, name), UNIQUE (c), CHECK (id > 0), FOREIGN KEY "
          "(r) REFERENCES o (id)) WITH (fillfactor=100)",
          "CREATE TABLE IF NOT EXISTS s.t (id int4 PRIMARY KEY, name varchar(20) NOT NULL DEFAULT "
          "'x', c bpchar(3) UNIQUE NULL, n numeric(10,2) CHECK ((n > 0)), r int4 REFERENCES o(id) "
          "ON DELETE cascade, CONSTRAINT pk PRIMARY KEY (id, name), UNIQUE (c), CHECK ((id > 0)), "
          "FOREIGN KEY (r) REFERENCES o(id)) WITH (fillfactor '100')");
    check("CREATE TABLE t (a int DEFAULT -1 NOT NULL, b timestamp DEFAULT now(), c text COLLATE \"C\")",
          "CREATE TABLE t (a int4 DEFAULT -1 NOT NULL, b timestamp DEFAULT now(), c text COLLATE \"C\")");
    check("CREATE TEMP TABLE t AS SELECT 1", "CREATE TEMPORARY TABLE t AS SELECT 1");
    check("CREATE TEMP VIEW v AS SELECT 1; CREATE UNLOGGED TABLE u (a int)",
          "CREATE TEMPORARY VIEW v AS SELECT 1 ; CREATE TABLE u (a int4)");
    check_error("CREATE TEMP INDEX i ON t (a)", "42601", 13, "syntax error at or near \"INDEX\"");
    check("DROP TABLE IF EXISTS a, s.b CASCADE; DROP TABLE c RESTRICT",
          "DROP TABLE IF EXISTS a, s.b CASCADE ; DROP TABLE c");
    check("TRUNCATE a, b; TRUNCATE TABLE ONLY c RESTART IDENTITY CASCADE",
          "TRUNCATE a, b ; TRUNCATE c RESTART IDENTITY CASCADE");
    check("ALTER TABLE t ADD COLUMN x int NOT NULL, DROP COLUMN IF EXISTS y CASCADE, RENAME COLUMN a TO b",
          "ALTER TABLE t ADD COLUMN x int4 NOT NULL, DROP COLUMN IF EXISTS y CASCADE, RENAME COLUMN a TO b");
    check("ALTER TABLE t RENAME TO u; ALTER TABLE t ADD CONSTRAINT c PRIMARY KEY (a); "
          "ALTER TABLE t ADD y text; ALTER TABLE t DROP z; ALTER TABLE t RENAME a TO b",
          "ALTER TABLE t RENAME TO u ; ALTER TABLE t ADD CONSTRAINT c PRIMARY KEY (a) ; "
          "ALTER TABLE t ADD COLUMN y text ; ALTER TABLE t DROP COLUMN z ; ALTER TABLE t RENAME COLUMN a TO b");
    check("ALTER TABLE t ALTER COLUMN a SET NOT NULL, ALTER b DROP DEFAULT, ALTER c TYPE bigint",
          "ALTER TABLE t ALTER COLUMN a SET NOT NULL, ALTER COLUMN b DROP DEFAULT, ALTER COLUMN c TYPE int8");
    check("CREATE UNIQUE INDEX IF NOT EXISTS i ON t (a DESC, lower(b), (a + b)); "
          "CREATE INDEX ON t USING btree (a) WHERE a > 0; DROP INDEX IF EXISTS i",
          "CREATE UNIQUE INDEX IF NOT EXISTS i ON t (a DESC, lower(b), (a + b)) ; "
          "CREATE INDEX ON t USING btree (a) WHERE (a > 0) ; DROP INDEX IF EXISTS i");
    check("CREATE OR REPLACE VIEW v (a, b) AS SELECT 1, 2; CREATE VIEW w AS VALUES (1); DROP VIEW IF EXISTS v, w",
          "CREATE OR REPLACE VIEW v (a, b) AS SELECT 1, 2 ; CREATE VIEW w AS VALUES (1) ; "
          "DROP VIEW IF EXISTS v, w");
    check("CREATE DATABASE d; DROP DATABASE IF EXISTS d; CREATE SCHEMA IF NOT EXISTS s; DROP SCHEMA s CASCADE",
          "CREATE DATABASE d ; DROP DATABASE IF EXISTS d ; CREATE SCHEMA IF NOT EXISTS s ; DROP SCHEMA s CASCADE");
}

static void test_utility(void **state)
{
    (void)state;
    check("BEGIN; BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY; START TRANSACTION ISOLATION LEVEL "
          "REPEATABLE READ, READ WRITE; BEGIN WORK; COMMIT; END; ROLLBACK; ABORT; COMMIT AND CHAIN",
          "BEGIN ; BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY ; BEGIN ISOLATION LEVEL REPEATABLE "
          "READ READ WRITE ; BEGIN ; COMMIT ; COMMIT ; ROLLBACK ; ROLLBACK ; COMMIT AND CHAIN");
    check("SAVEPOINT s; ROLLBACK TO SAVEPOINT s; ROLLBACK TO s; RELEASE SAVEPOINT s; RELEASE s",
          "SAVEPOINT s ; ROLLBACK TO SAVEPOINT s ; ROLLBACK TO SAVEPOINT s ; RELEASE SAVEPOINT s ; "
          "RELEASE SAVEPOINT s");
    check("SET search_path TO public, pg_catalog; SET SESSION x = 1; SET LOCAL y TO DEFAULT; "
          "SET TIME ZONE 'UTC'; SET extra_float_digits = -3; SET client_min_messages = warning; "
          "SET datestyle = 'ISO, MDY'; SET a.b = on; SET NAMES 'UTF8'",
          "SET search_path TO 'public', 'pg_catalog' ; SET x TO 1 ; SET LOCAL y TO DEFAULT ; "
          "SET timezone TO 'UTC' ; SET extra_float_digits TO -3 ; SET client_min_messages TO 'warning' ; "
          "SET datestyle TO 'ISO, MDY' ; SET a.b TO 'on' ; SET client_encoding TO 'UTF8'");
    check("SET TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY; "
          "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE",
          "SET transaction TO 'isolation level read committed', 'read only' ; "
          "SET session_characteristics TO 'isolation level serializable'");
    check_error("SET TRANSACTION", "42601", 16, "syntax error at end of input");
    check("SHOW ALL; SHOW server_version; SHOW TIME ZONE; SHOW TRANSACTION ISOLATION LEVEL; RESET ALL; RESET x",
          "SHOW all ; SHOW server_version ; SHOW timezone ; SHOW transaction_isolation ; RESET all ; RESET x");
    check("EXPLAIN SELECT 1; EXPLAIN ANALYZE VERBOSE SELECT 1; EXPLAIN (ANALYZE, COSTS off) UPDATE t SET a = 1",
          "EXPLAIN SELECT 1 ; EXPLAIN ANALYZE VERBOSE SELECT 1 ; EXPLAIN (analyze, costs 'off') UPDATE t SET a = 1");
    check("COPY t (a, b) TO STDOUT WITH (FORMAT csv, HEADER, DELIMITER ';', NULL 'N', FORCE_QUOTE (a, b))",
          "COPY t (a, b) TO STDOUT WITH (format 'csv', header, delimiter ';', null 'N', force_quote 'a, b')");
    check("COPY t FROM STDIN WITH CSV HEADER DELIMITER AS ',' NULL AS ''; COPY t FROM STDIN; "
          "COPY (SELECT 1) TO STDOUT; COPY t TO '/tmp/x' (FORMAT text); COPY BINARY t FROM STDIN",
          "COPY t FROM STDIN WITH (format 'csv', header, delimiter ',', null '') ; COPY t FROM STDIN ; "
          "COPY (SELECT 1) TO STDOUT ; COPY t TO '/tmp/x' WITH (format 'text') ; "
          "COPY t FROM STDIN WITH (format 'binary')");
    check("VACUUM; VACUUM FULL VERBOSE t; VACUUM (VERBOSE, ANALYZE) t, u; ANALYZE; ANALYZE t (a)",
          "VACUUM ; VACUUM FULL VERBOSE t ; VACUUM (verbose, analyze) t, u ; ANALYZE ; ANALYZE t");
    check("", "");
    check(" ;; ; -- only a comment\n", "");
}

/* ---- what pgbench 15 and psql send ------------------------------------------ */
static void test_pgbench(void **state)
{
    (void)state;
    check("drop table if exists pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers",
          "DROP TABLE IF EXISTS pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers");
    check("create table pgbench_history(tid int,bid int,aid    int,delta int,mtime timestamp,filler char(22))",
          "CREATE TABLE pgbench_history (tid int4, bid int4, aid int4, delta int4, mtime timestamp, "
          "filler bpchar(22))");
    check("create table pgbench_tellers(tid int not null,bid int,tbalance int,filler char(84)) with (fillfactor=100)",
          "CREATE TABLE pgbench_tellers (tid int4 NOT NULL, bid int4, tbalance int4, filler bpchar(84)) "
          "WITH (fillfactor '100')");
    check("create table pgbench_accounts(aid    int not null,bid int,abalance int,filler char(84)) with (fillfactor=100)",
          "CREATE TABLE pgbench_accounts (aid int4 NOT NULL, bid int4, abalance int4, filler bpchar(84)) "
          "WITH (fillfactor '100')");
    check("create table pgbench_branches(bid int not null,bbalance int,filler char(88)) with (fillfactor=100)",
          "CREATE TABLE pgbench_branches (bid int4 NOT NULL, bbalance int4, filler bpchar(88)) "
          "WITH (fillfactor '100')");
    check("begin", "BEGIN");
    check("truncate table pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers",
          "TRUNCATE pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers");
    check("insert into pgbench_branches(bid,bbalance) values(1,0)",
          "INSERT INTO pgbench_branches (bid, bbalance) VALUES (1, 0)");
    check("insert into pgbench_tellers(tid,bid,tbalance) values (1,1,0)",
          "INSERT INTO pgbench_tellers (tid, bid, tbalance) VALUES (1, 1, 0)");
    check("copy pgbench_accounts from stdin with (freeze on)",
          "COPY pgbench_accounts FROM STDIN WITH (freeze 'on')");
    check("commit", "COMMIT");
    check("vacuum analyze pgbench_branches", "VACUUM ANALYZE pgbench_branches");
    check("vacuum analyze", "VACUUM ANALYZE");
    check("alter table pgbench_branches add primary key (bid)",
          "ALTER TABLE pgbench_branches ADD PRIMARY KEY (bid)");
    check("insert into pgbench_accounts(aid,bid,abalance,filler) select aid, (aid - 1) / 100000 + 1, 0, '' "
          "from generate_series(1, 100000) as aid",
          "INSERT INTO pgbench_accounts (aid, bid, abalance, filler) SELECT aid, (((aid - 1) / 100000) + 1), "
          "0, '' FROM generate_series(1, 100000) AS aid");
    check("select count(*) from pgbench_branches", "SELECT count(*) FROM pgbench_branches");
    check("select o.n, p.partstrat, pg_catalog.count(i.inhparent) from pg_catalog.pg_class as c join "
          "pg_catalog.pg_namespace as n on (n.oid = c.relnamespace) cross join lateral (select "
          "pg_catalog.array_position(pg_catalog.current_schemas(true), n.nspname)) as o(n) left join "
          "pg_catalog.pg_partitioned_table as p on (p.partrelid = c.oid) left join "
          "pg_catalog.pg_inherits as i on (c.oid = i.inhparent) where c.relname = 'pgbench_accounts' "
          "and o.n is not null group by 1, 2 order by 1 asc limit 1",
          "SELECT o.n, p.partstrat, pg_catalog.count(i.inhparent) FROM ((((pg_catalog.pg_class AS c "
          "JOIN pg_catalog.pg_namespace AS n ON (n.oid = c.relnamespace)) CROSS JOIN LATERAL (SELECT "
          "pg_catalog.array_position(pg_catalog.current_schemas(TRUE), n.nspname)) AS o(n)) LEFT JOIN "
          "pg_catalog.pg_partitioned_table AS p ON (p.partrelid = c.oid)) LEFT JOIN "
          "pg_catalog.pg_inherits AS i ON (c.oid = i.inhparent)) WHERE ((c.relname = "
          "'pgbench_accounts') AND (o.n IS NOT NULL)) GROUP BY 1, 2 ORDER BY 1 ASC LIMIT 1");
    check("vacuum pgbench_branches", "VACUUM pgbench_branches");
    check("truncate pgbench_history", "TRUNCATE pgbench_history");
    check("SELECT abalance FROM pgbench_accounts WHERE aid = 5;",
          "SELECT abalance FROM pgbench_accounts WHERE (aid = 5)");
    check("BEGIN;UPDATE pgbench_accounts SET abalance = abalance + -2870 WHERE aid = 5;"
          "UPDATE pgbench_tellers SET tbalance = tbalance + -2870 WHERE tid = 3;"
          "UPDATE pgbench_branches SET bbalance = bbalance + -2870 WHERE bid = 1;"
          "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (3, 1, 5, -2870, CURRENT_TIMESTAMP);"
          "END;",
          "BEGIN ; UPDATE pgbench_accounts SET abalance = (abalance + -2870) WHERE (aid = 5) ; "
          "UPDATE pgbench_tellers SET tbalance = (tbalance + -2870) WHERE (tid = 3) ; "
          "UPDATE pgbench_branches SET bbalance = (bbalance + -2870) WHERE (bid = 1) ; "
          "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (3, 1, 5, -2870, "
          "CURRENT_TIMESTAMP) ; COMMIT");
    check("select sum(abalance) from pgbench_accounts", "SELECT sum(abalance) FROM pgbench_accounts");
}

static void test_psql_catalog(void **state)
{
    (void)state;
    /* \d t */
    check("SELECT c.oid,\n  n.nspname,\n  c.relname\nFROM pg_catalog.pg_class c\n     LEFT JOIN "
          "pg_catalog.pg_namespace n ON n.oid = c.relnamespace\nWHERE c.relname OPERATOR(pg_catalog.~) "
          "'^(t)$' COLLATE pg_catalog.default\n  AND pg_catalog.pg_table_is_visible(c.oid)\nORDER BY 2, 3;",
          "SELECT c.oid, n.nspname, c.relname FROM (pg_catalog.pg_class AS c LEFT JOIN "
          "pg_catalog.pg_namespace AS n ON (n.oid = c.relnamespace)) WHERE ((c.relname "
          "OPERATOR(pg_catalog.~) ('^(t)$' COLLATE pg_catalog.\"default\")) AND "
          "pg_catalog.pg_table_is_visible(c.oid)) ORDER BY 2, 3");
    /* \dt */
    check("SELECT n.nspname as \"Schema\",\n  c.relname as \"Name\",\n  CASE c.relkind WHEN 'r' THEN "
          "'table' WHEN 'v' THEN 'view' END as \"Type\",\n  pg_catalog.pg_get_userbyid(c.relowner) as "
          "\"Owner\"\nFROM pg_catalog.pg_class c\n     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = "
          "c.relnamespace\n     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam\nWHERE c.relkind IN "
          "('r','p','')\n      AND n.nspname <> 'pg_catalog'\n      AND n.nspname !~ '^pg_toast'\n      "
          "AND n.nspname <> 'information_schema'\n  AND pg_catalog.pg_table_is_visible(c.oid)\nORDER BY 1,2;",
          "SELECT n.nspname AS \"Schema\", c.relname AS \"Name\", CASE c.relkind WHEN 'r' THEN 'table' "
          "WHEN 'v' THEN 'view' END AS \"Type\", pg_catalog.pg_get_userbyid(c.relowner) AS \"Owner\" "
          "FROM ((pg_catalog.pg_class AS c LEFT JOIN pg_catalog.pg_namespace AS n ON (n.oid = "
          "c.relnamespace)) LEFT JOIN pg_catalog.pg_am AS am ON (am.oid = c.relam)) WHERE ((c.relkind "
          "IN ('r', 'p', '')) AND (n.nspname <> 'pg_catalog') AND (n.nspname !~ '^pg_toast') AND "
          "(n.nspname <> 'information_schema') AND pg_catalog.pg_table_is_visible(c.oid)) ORDER BY 1, 2");
    /* \d t, columns */
    check("SELECT a.attname,\n  pg_catalog.format_type(a.atttypid, a.atttypmod),\n  (SELECT "
          "pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)\n   FROM pg_catalog.pg_attrdef d\n   WHERE "
          "d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),\n  a.attnotnull,\n  (SELECT "
          "c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t\n   WHERE c.oid = "
          "a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS "
          "attcollation\nFROM pg_catalog.pg_attribute a\nWHERE a.attrelid = '16384' AND a.attnum > 0 AND "
          "NOT a.attisdropped\nORDER BY a.attnum;",
          "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), (SELECT "
          "pg_catalog.pg_get_expr(d.adbin, d.adrelid, TRUE) FROM pg_catalog.pg_attrdef AS d WHERE "
          "((d.adrelid = a.attrelid) AND (d.adnum = a.attnum) AND a.atthasdef)), a.attnotnull, (SELECT "
          "c.collname FROM pg_catalog.pg_collation AS c, pg_catalog.pg_type AS t WHERE ((c.oid = "
          "a.attcollation) AND (t.oid = a.atttypid) AND (a.attcollation <> t.typcollation))) AS "
          "attcollation FROM pg_catalog.pg_attribute AS a WHERE ((a.attrelid = '16384') AND (a.attnum > "
          "0) AND (NOT a.attisdropped)) ORDER BY a.attnum");
    /* \d t, policies and inheritance */
    check("SELECT pol.polname, CASE WHEN pol.polroles = '{0}' THEN NULL ELSE "
          "pg_catalog.array_to_string(array(select rolname from pg_catalog.pg_roles where oid = any "
          "(pol.polroles) order by 1),',') END FROM pg_catalog.pg_policy pol WHERE pol.polrelid = '16384' "
          "ORDER BY 1;",
          "SELECT pol.polname, CASE WHEN (pol.polroles = '{0}') THEN NULL ELSE "
          "pg_catalog.array_to_string(ARRAY(SELECT rolname FROM pg_catalog.pg_roles WHERE (oid = ANY "
          "(pol.polroles)) ORDER BY 1), ',') END FROM pg_catalog.pg_policy AS pol WHERE (pol.polrelid = "
          "'16384') ORDER BY 1");
    check("SELECT c.oid::pg_catalog.regclass FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i WHERE "
          "c.oid = i.inhparent AND i.inhrelid = '16384' AND c.relkind != 'p' AND c.relkind != 'I' ORDER "
          "BY inhseqno;",
          "SELECT CAST(c.oid AS regclass) FROM pg_catalog.pg_class AS c, pg_catalog.pg_inherits AS i "
          "WHERE ((c.oid = i.inhparent) AND (i.inhrelid = '16384') AND (c.relkind <> 'p') AND "
          "(c.relkind <> 'I')) ORDER BY inhseqno");
    /* \l */
    check("SELECT d.datname as \"Name\",\n       pg_catalog.pg_get_userbyid(d.datdba) as \"Owner\",\n"
          "       pg_catalog.pg_encoding_to_char(d.encoding) as \"Encoding\",\n       "
          "pg_catalog.array_to_string(d.datacl, E'\\n') AS \"Access privileges\"\nFROM "
          "pg_catalog.pg_database d\nORDER BY 1;",
          "SELECT d.datname AS \"Name\", pg_catalog.pg_get_userbyid(d.datdba) AS \"Owner\", "
          "pg_catalog.pg_encoding_to_char(d.encoding) AS \"Encoding\", "
          "pg_catalog.array_to_string(d.datacl, '\n') AS \"Access privileges\" FROM "
          "pg_catalog.pg_database AS d ORDER BY 1");
    /* \dn */
    check("SELECT n.nspname AS \"Name\",\n  pg_catalog.pg_get_userbyid(n.nspowner) AS \"Owner\"\nFROM "
          "pg_catalog.pg_namespace n\nWHERE n.nspname !~ '^pg_' AND n.nspname <> "
          "'information_schema'\nORDER BY 1;",
          "SELECT n.nspname AS \"Name\", pg_catalog.pg_get_userbyid(n.nspowner) AS \"Owner\" FROM "
          "pg_catalog.pg_namespace AS n WHERE ((n.nspname !~ '^pg_') AND (n.nspname <> "
          "'information_schema')) ORDER BY 1");
    check("SELECT pg_catalog.pg_get_indexdef(i.indexrelid, 0, true), "
          "pg_catalog.pg_get_constraintdef(con.oid, true), c2.relname FROM pg_catalog.pg_class c, "
          "pg_catalog.pg_class c2, pg_catalog.pg_index i LEFT JOIN pg_catalog.pg_constraint con ON "
          "(conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x')) WHERE c.oid "
          "= '16384' AND c.oid = i.indrelid AND i.indexrelid = c2.oid ORDER BY i.indisprimary DESC, "
          "c2.relname;",
          "SELECT pg_catalog.pg_get_indexdef(i.indexrelid, 0, TRUE), "
          "pg_catalog.pg_get_constraintdef(con.oid, TRUE), c2.relname FROM pg_catalog.pg_class AS c, "
          "pg_catalog.pg_class AS c2, (pg_catalog.pg_index AS i LEFT JOIN pg_catalog.pg_constraint AS "
          "con ON ((conrelid = i.indrelid) AND (conindid = i.indexrelid) AND (contype IN ('p', 'u', "
          "'x')))) WHERE ((c.oid = '16384') AND (c.oid = i.indrelid) AND (i.indexrelid = c2.oid)) "
          "ORDER BY i.indisprimary DESC, c2.relname");
    check("SELECT t.typname, t.typcategory, t.typelem, t.typarray FROM pg_catalog.pg_type t WHERE "
          "t.typname = ANY($1::text[])",
          "SELECT t.typname, t.typcategory, t.typelem, t.typarray FROM pg_catalog.pg_type AS t WHERE "
          "(t.typname = ANY (CAST($1 AS text[])))");
    check("SELECT version(), current_database(), current_setting('server_version_num')::int",
          "SELECT version(), current_database(), CAST(current_setting('server_version_num') AS int4)");
}

/* ---- errors -------------------------------------------------------------- */
static void test_syntax_errors(void **state)
{
    (void)state;
    /* messages and positions as PostgreSQL 15 reports them */
    check_error("SELECT * FORM t", "42601", 10, "syntax error at or near \"FORM\"");
    check_error("SELECT a FORM t", "42601", 15, "syntax error at or near \"t\"");
    check_error("SELECT 1 +", "42601", 11, "syntax error at end of input");
    check_error("SELECT 1 < 2 < 3", "42601", 14, "syntax error at or near \"<\"");
    check_error("SELEC 1", "42601", 1, "syntax error at or near \"SELEC\"");
    check_error("SELECT (1", "42601", 10, "syntax error at end of input");
    check_error("SELECT a FROM t WHERE", "42601", 22, "syntax error at end of input");
    check_error("SELECT a, FROM t", "42601", 11, "syntax error at or near \"FROM\"");
    check_error("INSERT INTO t VALUES (1,)", "42601", 25, "syntax error at or near \")\"");
    check_error("CREATE TABLE t (a int,)", "42601", 23, "syntax error at or near \")\"");
    check_error("SELECT 1 2", "42601", 10, "syntax error at or near \"2\"");
    check_error("SELECT a b c", "42601", 12, "syntax error at or near \"c\"");
    check_error("SELECT 1; SELECT 2 3", "42601", 20, "syntax error at or near \"3\"");
    check_error("DROP TABLE", "42601", 11, "syntax error at end of input");
    check_error("SELECT a LIKE b LIKE c", "42601", 17, "syntax error at or near \"LIKE\"");
    check_error("SELECT x FROM (SELECT 1)", "42601", 15, "subquery in FROM must have an alias");
    check_error("SELECT 'a' 'b'", "42601", 12, "syntax error at or near \"'b'\"");
    check_error("SELECT é + FROM t", "42601", 12, "syntax error at or near \"FROM\"");
    check_error("SELECT 1 FROM t WHERE a = 'x' AND AND", "42601", 35, "syntax error at or near \"AND\"");
    check_error("UPDATE t SET a = 1 WHERE", "42601", 25, "syntax error at end of input");
    check_error("SELECT select", "42601", 8, "syntax error at or near \"select\"");
}

static void test_deep_nesting(void **state)
{
    (void)state;
    size_t n = 10000;
    char *q = malloc(n * 2 + 16);
    strcpy(q, "SELECT ");
    size_t k = strlen(q);
    for (size_t i = 0; i < n; i++)
        q[k++] = '(';
    q[k++] = '1';
    for (size_t i = 0; i < n; i++)
        q[k++] = ')';
    q[k] = 0;
    dc_error e;
    dc_error_init(&e);
    sql_arena *a;
    sql_list *l;
    assert_int_not_equal(sql_parse(q, k, &a, &l, &e), DC_OK);
    assert_string_equal(e.sqlstate, "54001");
    assert_string_equal(e.message, "stack depth limit exceeded");
    /* other deep shapes: unary minus, NOT, subqueries, arrays */
    const char *unit[] = {"- ", "NOT ", "(SELECT ", "ARRAY[", "+", "CAST(", "f("};
    for (size_t u = 0; u < sizeof unit / sizeof unit[0]; u++) {
        size_t ul = strlen(unit[u]);
        char *d = malloc(n * ul + 32);
        strcpy(d, "SELECT ");
        k = strlen(d);
        for (size_t i = 0; i < n; i++) {
            memcpy(d + k, unit[u], ul);
            k += ul;
        }
        strcpy(d + k, "1");
        k++;
        dc_error_init(&e);
        assert_int_not_equal(sql_parse(d, k, &a, &l, &e), DC_OK);
        assert_true(!strcmp(e.sqlstate, "54001") || !strcmp(e.sqlstate, "42601"));
        free(d);
    }
    /* a moderate depth works */
    k = strlen("SELECT ");
    for (size_t i = 0; i < 200; i++)
        q[k++] = '(';
    q[k++] = '1';
    for (size_t i = 0; i < 200; i++)
        q[k++] = ')';
    q[k] = 0;
    dc_error_init(&e);
    assert_int_equal(sql_parse(q, k, &a, &l, &e), DC_OK);
    char *s = sql_stmt_to_string(l->items[0]);
    assert_string_equal(s, "SELECT 1");
    free(s);
    sql_arena_free(a);
    free(q);
}

static void test_statement_extent(void **state)
{
    (void)state;
    const char *q = "  SELECT 1 ;\n INSERT INTO t VALUES (1)";
    dc_error e;
    dc_error_init(&e);
    sql_arena *a;
    sql_list *l;
    assert_int_equal(sql_parse(q, strlen(q), &a, &l, &e), DC_OK);
    assert_int_equal(l->len, 2);
    sql_stmt *s0 = l->items[0], *s1 = l->items[1];
    assert_int_equal(s0->kind, STMT_SELECT);
    assert_int_equal(s0->pos, 3);
    assert_int_equal(s1->kind, STMT_INSERT);
    assert_int_equal(s1->pos, 15);
    assert_int_equal((int)s1->off, 14);
    assert_int_equal((int)s1->len, (int)strlen("INSERT INTO t VALUES (1)"));
    sql_arena_free(a);
}

/* ---- sqllogictest breadth check -------------------------------------------- */
static void test_slt_select1(void **state)
{
    (void)state;
    const char *shared = getenv("DATACAVE_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/slt/select1.test", shared ? shared : "../shared");
    FILE *f = fopen(path, "r");
    if (!f) {
        print_message("skipping: %s not found\n", path);
        skip();
    }
    char line[8192];
    char *sql = malloc(1 << 20);
    size_t records = 0, failures = 0;
    bool in_record = false, in_sql = false;
    size_t len = 0;
    for (;;) {
        char *r = fgets(line, sizeof line, f);
        bool blank = !r || line[0] == '\n' || line[0] == '\r';
        if (in_record && (blank || (in_sql && strncmp(line, "----", 4) == 0))) {
            if (in_sql) {
                records++;
                dc_error e;
                dc_error_init(&e);
                sql_arena *a;
                sql_list *l;
                if (sql_parse(sql, len, &a, &l, &e) != DC_OK) {
                    if (failures++ < 5)
                        print_message("select1.test: %s at %d in: %.*s\n", e.message, e.position,
                                      (int)len, sql);
                } else {
                    for (size_t i = 0; i < SQL_LIST_LEN(l); i++)
                        free(sql_stmt_to_string(l->items[i]));
                    sql_arena_free(a);
                }
            }
            in_sql = false;
            if (blank)
                in_record = false;
        }
        if (!r)
            break;
        if (blank)
            continue;
        if (!in_record) {
            if (!strncmp(line, "statement", 9) || !strncmp(line, "query", 5)) {
                in_record = in_sql = true;
                len = 0;
            }
            continue;
        }
        if (in_sql) {
            size_t n = strlen(line);
            if (len + n < (1 << 20)) {
                memcpy(sql + len, line, n);
                len += n;
            }
        }
    }
    fclose(f);
    free(sql);
    print_message("select1.test: %zu records, %zu failures\n", records, failures);
    assert_true(records > 1000);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lex_identifiers),
        cmocka_unit_test(test_lex_strings),
        cmocka_unit_test(test_lex_numbers),
        cmocka_unit_test(test_lex_operators_comments),
        cmocka_unit_test(test_lex_errors),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_literals_and_casts),
        cmocka_unit_test(test_typename_fields),
        cmocka_unit_test(test_functions_and_special_forms),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_dml),
        cmocka_unit_test(test_ddl),
        cmocka_unit_test(test_utility),
        cmocka_unit_test(test_pgbench),
        cmocka_unit_test(test_psql_catalog),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_statement_extent),
        cmocka_unit_test(test_slt_select1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
