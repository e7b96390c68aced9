/*
 * test_sqlx_binder.c - the binder and planner (binder.h): plan shapes
 * (key ranges, index scans, hash joins, join order, top-N sorts, hash
 * aggregation, DML plans), bind errors with their SQLSTATEs and
 * positions, parameter type inference, and end-to-end answers of
 * statements run through the executor over a real storage engine
 * (sql_testutil.h) with tables made by DDL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sql/binder.h"
#include "sql/exec.h"
#include "sql/parser.h"
#include "sql/txn.h"
#include "sql_testutil.h"

/* ==== fixture ============================================================== */

typedef struct fx {
    sqlt_env env;
    sql_txn *txn;
    sql_arena *arena;           /* statement arena (plans, values)       */
    sql_arena *parse;           /* parse tree of the last statement      */
    sql_ctx ctx;
    uint32_t ptypes[SQL_MAX_PARAMS];
    sql_param_types params;
    char out[8192];             /* result of the last query              */
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f || sqlt_open(&f->env, "memory") != 0) {
        free(f);
        return -1;
    }
    dc_error err;
    dc_error_init(&err);
    sql_catalog *c = NULL;
    if (sql_catalog_load(&f->env.eng, &c, &err) != DC_OK) {
        sqlt_close(&f->env);
        free(f);
        return -1;
    }
    f->env.eng.catalog = c;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (f->txn)
        sql_txn_abort(f->txn);
    sql_arena_free(f->arena);
    sql_arena_free(f->parse);
    sql_catalog_unref(f->env.eng.catalog);
    f->env.eng.catalog = NULL;
    sqlt_close(&f->env);
    free(f);
    return 0;
}

static void begin(fx *f)
{
    dc_error err;
    dc_error_init(&err);
    if (!f->txn)
        assert_int_equal(sql_txn_begin(&f->env.eng, SQL_ISO_READ_COMMITTED,
                                       false, 0, NULL, &f->txn, &err),
                         DC_OK);
}

static void commit(fx *f)
{
    dc_error err;
    dc_error_init(&err);
    int rc = sql_txn_commit(f->txn, &err);
    f->txn = NULL;
    if (rc != DC_OK)
        fail_msg("commit: %s %s", err.sqlstate, err.message);
}

/* Fresh statement context in the open transaction. */
static void stmt_ctx(fx *f)
{
    sql_arena_free(f->arena);
    f->arena = sql_arena_new();
    assert_non_null(f->arena);
    memset(&f->ctx, 0, sizeof f->ctx);
    f->ctx.eng = &f->env.eng;
    f->ctx.txn = f->txn;
    sql_catalog *tc = sql_txn_catalog(f->txn);
    f->ctx.cat = tc ? tc : f->env.eng.catalog;
    f->ctx.arena = f->arena;
    f->ctx.mem = sqlt_mem(f->arena);
    f->ctx.work_mem = 4 << 20;
    f->ctx.user = "tester";
    f->ctx.database = "testdb";
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_txn_stmt_begin(f->txn, &err), DC_OK);
}

static const sql_stmt *parse_one(fx *f, const char *sql)
{
    dc_error err;
    dc_error_init(&err);
    sql_arena_free(f->parse);
    f->parse = NULL;
    sql_list *stmts = NULL;
    if (sql_parse(sql, strlen(sql), &f->parse, &stmts, &err) != DC_OK)
        fail_msg("parse %s: %s", sql, err.message);
    assert_int_equal(SQL_LIST_LEN(stmts), 1);
    return stmts->items[0];
}

/* Plan a statement in a fresh statement context (transaction open). */
static int plan_err(fx *f, const char *sql, sql_plan **p, dc_error *err)
{
    begin(f);
    stmt_ctx(f);
    const sql_stmt *s = parse_one(f, sql);
    dc_error_init(err);
    memset(f->ptypes, 0, sizeof f->ptypes);
    f->params.n = 0;
    f->params.types = f->ptypes;
    return sql_plan_stmt(&f->ctx, f->arena, s, sql, &f->params, p, err);
}

static sql_plan *plan(fx *f, const char *sql)
{
    sql_plan *p = NULL;
    dc_error err;
    if (plan_err(f, sql, &p, &err) != DC_OK)
        fail_msg("%s: %s %s (at %d)", sql, err.sqlstate, err.message,
                 err.position);
    return p;
}

/* Binding fails with `state`, `msg` (NULL: any) at `pos` (-1: any). */
static void bind_fails(fx *f, const char *sql, const char *state,
                       const char *msg, int pos)
{
    sql_plan *p = NULL;
    dc_error err;
    if (plan_err(f, sql, &p, &err) == DC_OK)
        fail_msg("%s: planned, expected %s", sql, state);
    if (strcmp(err.sqlstate, state))
        fail_msg("%s: got %s %s, expected %s", sql, err.sqlstate,
                 err.message, state);
    if (msg)
        assert_string_equal(err.message, msg);
    if (pos >= 0)
        assert_int_equal(err.position, pos);
}

/* Run a plan; rows go to f->out as "v|v\n" lines (NULL as "NULL"). */
static int run_plan(fx *f, const sql_plan *p, dc_error *err)
{
    sql_cursor *cur = NULL;
    f->out[0] = '\0';
    size_t len = 0;
    int rc = sql_exec_open(&f->ctx, p, &cur, err);
    if (rc != DC_OK)
        return rc;
    for (;;) {
        dc_row row;
        bool done = false;
        if ((rc = sql_exec_next(cur, &row, &done, err)) != DC_OK || done)
            break;
        for (uint32_t i = 0; i < row.ncols; i++) {
            sql_buf b;
            sql_buf_init(&b);
            const char *s = "NULL";
            if (!row.values[i].is_null) {
                assert_int_equal(sql_value_out(&row.values[i], NULL, &b, NULL),
                                 DC_OK);
                assert_int_equal(sql_buf_append(&b, "", 1, NULL), DC_OK);
                s = (const char *)b.data;
            }
            len += (size_t)snprintf(f->out + len, sizeof f->out - len, "%s%s",
                                    i ? "|" : "", s);
            sql_buf_free(&b);
        }
        len += (size_t)snprintf(f->out + len, sizeof f->out - len, "\n");
        assert_true(len < sizeof f->out);
    }
    sql_exec_close(cur);
    return rc;
}

/* Run one statement in its own transaction; DDL through sql_ddl_exec. */
static void exec_ok(fx *f, const char *sql)
{
    dc_error err;
    dc_error_init(&err);
    begin(f);
    stmt_ctx(f);
    const sql_stmt *s = parse_one(f, sql);
    int rc;
    if (s->kind == STMT_SELECT || s->kind == STMT_INSERT ||
        s->kind == STMT_UPDATE || s->kind == STMT_DELETE) {
        sql_plan *p = NULL;
        f->params.n = 0;
        f->params.types = f->ptypes;
        rc = sql_plan_stmt(&f->ctx, f->arena, s, sql, &f->params, &p, &err);
        if (rc == DC_OK)
            rc = run_plan(f, p, &err);
    } else {
        char tag[64];
        rc = sql_ddl_exec(&f->ctx, s, sql, tag, sizeof tag, NULL, NULL, &err);
    }
    if (rc != DC_OK) {
        sql_txn_abort(f->txn);
        f->txn = NULL;
        fail_msg("%s: %s %s (at %d)", sql, err.sqlstate, err.message,
                 err.position);
    }
    commit(f);
}

/* The answer of a query, rows as "a|b\n". */
static const char *query(fx *f, const char *sql)
{
    exec_ok(f, sql);
    return f->out;
}

/* The first node of `kind` in a pre-order walk, or NULL. */
static const sql_plan *find(const sql_plan *p, sql_plan_kind kind)
{
    if (!p)
        return NULL;
    if (p->kind == kind)
        return p;
    const sql_plan *r = find(p->left, kind);
    return r ? r : find(p->right, kind);
}

/* The scan with an equality key range (a point lookup), or NULL. */
static const sql_plan *find_point(const sql_plan *p)
{
    if (!p)
        return NULL;
    if (p->kind == PL_SCAN && p->u.scan.range.neq > 0)
        return p;
    const sql_plan *r = find_point(p->left);
    return r ? r : find_point(p->right);
}

static int count_kind(const sql_plan *p, sql_plan_kind kind)
{
    if (!p)
        return 0;
    return (p->kind == kind) + count_kind(p->left, kind) +
           count_kind(p->right, kind);
}

static void schema(fx *f)
{
    exec_ok(f, "CREATE TABLE t (id int PRIMARY KEY, a int, b text)");
    exec_ok(f, "CREATE INDEX t_a_idx ON t (a)");
    exec_ok(f, "CREATE TABLE u (x int, y int, z text)");
    exec_ok(f, "INSERT INTO t VALUES (1, 10, 'one'), (2, 20, 'two'), "
               "(3, 30, 'three'), (4, NULL, 'four')");
    exec_ok(f, "INSERT INTO u (x, y) VALUES (1, 100), (2, 200), (2, 201), "
               "(5, 500)");
}

/* ==== plan shapes ============================================================ */

static void test_pk_point_lookup(void **state)
{
    fx *f = *state;
    schema(f);
    const sql_plan *p = plan(f, "SELECT b FROM t WHERE id = 2");
    const sql_plan *s = find(p, PL_SCAN);
    assert_non_null(s);
    assert_int_equal(s->u.scan.range.neq, 1);
    assert_null(s->u.scan.qual);
    assert_true(s->est_rows <= 1.0);
    assert_non_null(s->explain);
    assert_string_equal(s->explain, "Index Cond: (id = 2)");
    /* the constant on the left side, and a parameter */
    s = find(plan(f, "SELECT b FROM t WHERE 3 = id AND b <> 'x'"), PL_SCAN);
    assert_int_equal(s->u.scan.range.neq, 1);
    assert_non_null(s->u.scan.qual);
    s = find(plan(f, "SELECT b FROM t WHERE id = $1"), PL_SCAN);
    assert_int_equal(s->u.scan.range.neq, 1);
    assert_int_equal(f->params.n, 1);
    assert_int_equal(f->params.types[0], DC_TYPE_INT4);
    /* a cross-family comparison cannot use the key */
    s = find(plan(f, "SELECT b FROM t WHERE id = 2.5"), PL_SCAN);
    assert_int_equal(s->u.scan.range.neq, 0);
    assert_non_null(s->u.scan.qual);
    assert_string_equal(query(f, "SELECT b FROM t WHERE id = 2"), "two\n");
    assert_string_equal(query(f, "SELECT b FROM t WHERE id = 2.5"), "");
}

static void test_index_range(void **state)
{
    fx *f = *state;
    schema(f);
    const sql_plan *p = plan(f, "SELECT id FROM t WHERE a > 15 AND a <= 30");
    const sql_plan *s = find(p, PL_INDEXSCAN);
    assert_non_null(s);
    assert_string_equal(s->u.scan.index->name, "t_a_idx");
    assert_int_equal(s->u.scan.range.neq, 0);
    assert_non_null(s->u.scan.range.lo);
    assert_non_null(s->u.scan.range.hi);
    assert_false(s->u.scan.range.lo_incl);
    assert_true(s->u.scan.range.hi_incl);
    assert_null(s->u.scan.qual);
    s = find(plan(f, "SELECT id FROM t WHERE a BETWEEN 10 AND 20"),
             PL_INDEXSCAN);
    assert_non_null(s);
    assert_true(s->u.scan.range.lo_incl && s->u.scan.range.hi_incl);
    s = find(plan(f, "SELECT id FROM t WHERE a = 20"), PL_INDEXSCAN);
    assert_int_equal(s->u.scan.range.neq, 1);
    assert_string_equal(query(f, "SELECT id FROM t WHERE a > 15 AND a <= 30 "
                                 "ORDER BY id"), "2\n3\n");
    assert_string_equal(query(f, "SELECT id FROM t WHERE a BETWEEN 10 AND 20 "
                                 "ORDER BY 1"), "1\n2\n");
    /* range on the primary key */
    s = find(plan(f, "SELECT id FROM t WHERE id >= 3"), PL_SCAN);
    assert_non_null(s->u.scan.range.lo);
    assert_string_equal(query(f, "SELECT id FROM t WHERE id >= 3 ORDER BY id"),
                        "3\n4\n");
}

static void test_hash_join(void **state)
{
    fx *f = *state;
    schema(f);
    const sql_plan *p = plan(f, "SELECT t.b, u.y FROM t, u WHERE t.id = u.x");
    const sql_plan *j = find(p, PL_HASHJOIN);
    assert_non_null(j);
    assert_int_equal(j->u.join.type, SQL_JOIN_INNER);
    assert_int_equal(j->u.join.nkeys, 1);
    assert_non_null(j->explain);
    assert_string_equal(query(f, "SELECT t.b, u.y FROM t JOIN u ON t.id = u.x "
                                 "ORDER BY u.y"),
                        "one|100\ntwo|200\ntwo|201\n");
    /* a LEFT join keeps the preserved side on the left */
    j = find(plan(f, "SELECT * FROM t LEFT JOIN u ON t.id = u.x"),
             PL_HASHJOIN);
    assert_non_null(j);
    assert_int_equal(j->u.join.type, SQL_JOIN_LEFT);
    assert_string_equal(query(f, "SELECT t.id, u.y FROM t LEFT JOIN u ON "
                                 "t.id = u.x ORDER BY 1, 2"),
                        "1|100\n2|200\n2|201\n3|NULL\n4|NULL\n");
    assert_string_equal(query(f, "SELECT t.id, u.x FROM u RIGHT JOIN t ON "
                                 "t.id = u.x WHERE u.x IS NULL ORDER BY 1"),
                        "3|NULL\n4|NULL\n");
    assert_string_equal(query(f, "SELECT count(*) FROM t FULL JOIN u ON "
                                 "t.id = u.x"), "6\n");
    /* non-equi joins are nested loops */
    j = find(plan(f, "SELECT * FROM t, u WHERE t.id < u.x"), PL_NESTLOOP);
    assert_non_null(j);
    assert_non_null(j->u.join.qual);
}

static void test_join_order(void **state)
{
    fx *f = *state;
    exec_ok(f, "CREATE TABLE a1 (id int PRIMARY KEY, v int)");
    exec_ok(f, "CREATE TABLE a2 (id int PRIMARY KEY, v int)");
    exec_ok(f, "CREATE TABLE a3 (id int PRIMARY KEY, v int)");
    exec_ok(f, "CREATE TABLE a4 (id int PRIMARY KEY, v int)");
    for (int i = 1; i <= 5; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "INSERT INTO a1 VALUES (%d, %d)", i, i);
        exec_ok(f, sql);
        snprintf(sql, sizeof sql, "INSERT INTO a2 VALUES (%d, %d)", i, i);
        exec_ok(f, sql);
        snprintf(sql, sizeof sql, "INSERT INTO a3 VALUES (%d, %d)", i, i);
        exec_ok(f, sql);
        snprintf(sql, sizeof sql, "INSERT INTO a4 VALUES (%d, %d)", i, i);
        exec_ok(f, sql);
    }
    const char *q = "SELECT a1.v FROM a1, a2, a3, a4 WHERE a1.v = a2.id AND "
                    "a2.v = a3.id AND a3.v = a4.id AND a4.id = 3";
    const sql_plan *p = plan(f, q);
    /* no cross products: three hash joins, and the point lookup on a4 is
     * a scan with a key range */
    assert_int_equal(count_kind(p, PL_HASHJOIN), 3);
    assert_int_equal(count_kind(p, PL_NESTLOOP), 0);
    const sql_plan *pt = find_point(p);
    assert_non_null(pt);
    assert_string_equal(pt->u.scan.table->name, "a4");
    /* key joins from the point lookup keep the estimate small, so every
     * hash table is built on the one-row side */
    const sql_plan *top = find(p, PL_HASHJOIN);
    assert_true(top->est_rows <= 2.0);
    assert_true(top->right->est_rows <= 2.0);
    assert_string_equal(query(f, q), "3\n");
}

static void test_sort_limit_agg(void **state)
{
    fx *f = *state;
    schema(f);
    const sql_plan *p = plan(f, "SELECT b FROM t ORDER BY a DESC LIMIT 2");
    assert_int_equal(p->kind, PL_PROJECT); /* drops the junk sort column */
    const sql_plan *l = find(p, PL_LIMIT);
    const sql_plan *s = find(p, PL_SORT);
    assert_non_null(l);
    assert_non_null(s);
    assert_ptr_equal(l->left, s);
    assert_non_null(s->u.sort.limit);
    assert_true(s->u.sort.keys[0].desc);
    assert_true(s->u.sort.keys[0].nulls_first);
    assert_string_equal(query(f, "SELECT b FROM t ORDER BY a DESC LIMIT 2"),
                        "four\nthree\n");
    assert_string_equal(query(f, "SELECT b FROM t ORDER BY a DESC NULLS LAST "
                                 "LIMIT 2 OFFSET 1"), "two\none\n");
    p = plan(f, "SELECT x, count(*) FROM u GROUP BY x");
    const sql_plan *a = find(p, PL_AGG);
    assert_non_null(a);
    assert_true(a->u.agg.hashed);
    assert_int_equal(a->u.agg.ngroup, 1);
    assert_int_equal(a->u.agg.naggs, 1);
    assert_string_equal(p->names[1], "count");
    assert_string_equal(query(f, "SELECT x, count(*), sum(y) FROM u GROUP BY "
                                 "x HAVING count(*) > 1"), "2|2|401\n");
    assert_string_equal(query(f, "SELECT x + 1 AS k, max(y) FROM u GROUP BY 1 "
                                 "ORDER BY k DESC"),
                        "6|500\n3|201\n2|100\n");
    a = find(plan(f, "SELECT count(*) FROM u"), PL_AGG);
    assert_false(a->u.agg.hashed);
    assert_string_equal(query(f, "SELECT count(DISTINCT x), count(*) FILTER "
                                 "(WHERE y > 150) FROM u"), "3|3\n");
}

static void test_expressions(void **state)
{
    fx *f = *state;
    schema(f);
    assert_string_equal(query(f, "SELECT 1 + 2, 'a' || 'b', NULL IS NULL"),
                        "3|ab|t\n");
    const sql_plan *p = plan(f, "SELECT 1, 'x', a, count FROM (SELECT a, "
                                "1 AS count FROM t) s");
    assert_string_equal(p->names[0], "?column?");
    assert_int_equal(p->types[1], DC_TYPE_TEXT);
    assert_string_equal(p->names[2], "a");
    assert_string_equal(query(f, "SELECT CASE WHEN a > 15 THEN 'big' WHEN a "
                                 "IS NULL THEN 'none' ELSE 'small' END FROM t "
                                 "ORDER BY id"),
                        "small\nbig\nbig\nnone\n");
    assert_string_equal(query(f, "SELECT CASE id WHEN 1 THEN 'a' WHEN 2 THEN "
                                 "'b' END, coalesce(a, -1), abs(-a) FROM t "
                                 "ORDER BY id"),
                        "a|10|10\nb|20|20\nNULL|30|30\nNULL|-1|NULL\n");
    assert_string_equal(query(f, "SELECT id FROM t WHERE a IN (10, 30) OR b "
                                 "LIKE 'f%' ORDER BY id"), "1\n3\n4\n");
    assert_string_equal(query(f, "SELECT id FROM t WHERE a NOT BETWEEN 15 AND "
                                 "25 ORDER BY id"), "1\n3\n");
    assert_string_equal(query(f, "SELECT id FROM t WHERE a IS DISTINCT FROM 10 "
                                 "ORDER BY id"), "2\n3\n4\n");
    assert_string_equal(query(f, "SELECT '42'::int + 1, CAST(7 AS text)"),
                        "43|7\n");
}

static void test_subqueries(void **state)
{
    fx *f = *state;
    schema(f);
    /* correlated scalar subquery and EXISTS */
    const char *q = "SELECT id, (SELECT count(*) FROM u WHERE u.x = t.id) FROM "
                    "t ORDER BY id";
    const sql_plan *p = plan(f, q);
    const sql_plan *pr = find(p, PL_PROJECT);
    const sql_bexpr *sub = pr->u.project.exprs[1];
    assert_int_equal(sub->kind, SX_SUBPLAN);
    assert_true(sub->sub.correlated);
    assert_int_equal(sub->nargs, 1);
    assert_string_equal(query(f, q), "1|1\n2|2\n3|0\n4|0\n");
    assert_string_equal(query(f, "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM "
                                 "u WHERE u.x = t.id) ORDER BY id"), "1\n2\n");
    assert_string_equal(query(f, "SELECT id FROM t WHERE id IN (SELECT x FROM "
                                 "u) ORDER BY id"), "1\n2\n");
    assert_string_equal(query(f, "SELECT id FROM t WHERE id NOT IN (SELECT x "
                                 "FROM u) ORDER BY id"), "3\n4\n");
    assert_string_equal(query(f, "SELECT id FROM t WHERE a > ALL (SELECT x * 10 "
                                 "FROM u WHERE x < 3) ORDER BY id"), "3\n");
    /* uncorrelated: run once */
    p = plan(f, "SELECT id FROM t WHERE a > (SELECT avg(y) / 10 FROM u)");
    const sql_plan *s = find(p, PL_SCAN);
    assert_non_null(s->u.scan.qual);
    assert_int_equal(s->u.scan.qual->args[1]->kind, SX_SUBPLAN);
    assert_false(s->u.scan.qual->args[1]->sub.correlated);
    /* two levels deep */
    assert_string_equal(query(f, "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM "
                                 "u WHERE u.x = t.id AND EXISTS (SELECT 1 FROM "
                                 "t t2 WHERE t2.id = u.x AND t2.a = t.a)) "
                                 "ORDER BY 1"), "1\n2\n");
}

static void test_setops_values_cte(void **state)
{
    fx *f = *state;
    schema(f);
    assert_string_equal(query(f, "SELECT id FROM t UNION SELECT x FROM u "
                                 "ORDER BY 1"), "1\n2\n3\n4\n5\n");
    assert_string_equal(query(f, "SELECT x FROM u UNION ALL SELECT NULL "
                                 "ORDER BY 1 LIMIT 2"), "1\n2\n");
    assert_string_equal(query(f, "SELECT id FROM t EXCEPT SELECT x FROM u "
                                 "ORDER BY id DESC"), "4\n3\n");
    assert_string_equal(query(f, "VALUES (1, 'a'), (2, 'b') ORDER BY 1 DESC"),
                        "2|b\n1|a\n");
    assert_string_equal(query(f, "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) "
                                 "AS v (n, s) WHERE n > 1"), "2|b\n");
    assert_string_equal(query(f, "WITH big AS (SELECT * FROM t WHERE a > 15) "
                                 "SELECT b FROM big ORDER BY id"),
                        "two\nthree\n");
    assert_string_equal(query(f, "SELECT DISTINCT x FROM u ORDER BY x"),
                        "1\n2\n5\n");
    assert_string_equal(query(f, "SELECT DISTINCT ON (x) x, y FROM u ORDER BY "
                                 "x, y DESC"), "1|100\n2|201\n5|500\n");
    assert_string_equal(query(f, "SELECT * FROM t JOIN u ON id = x WHERE y = "
                                 "100"), "1|10|one|1|100|NULL\n");
    assert_string_equal(query(f, "SELECT * FROM (SELECT id AS x, b FROM t) s "
                                 "NATURAL JOIN u WHERE y > 150 ORDER BY y"),
                        "2|two|200|NULL\n2|two|201|NULL\n");
}

static void test_dml(void **state)
{
    fx *f = *state;
    exec_ok(f, "CREATE TABLE d (id int PRIMARY KEY, n int DEFAULT 7, s text, "
               "CHECK (n > 0))");
    exec_ok(f, "CREATE TABLE u (x int)");
    const sql_plan *p = plan(f, "INSERT INTO d (id) VALUES (1), (2)");
    assert_int_equal(p->kind, PL_MODIFY);
    assert_int_equal(p->u.modify.op, MOD_INSERT);
    assert_int_equal(p->u.modify.nchecks, 1);
    assert_int_equal(p->left->kind, PL_VALUES);
    assert_int_equal(p->left->ncols, 3);
    exec_ok(f, "INSERT INTO d (id) VALUES (1), (2)");
    exec_ok(f, "INSERT INTO d VALUES (3, DEFAULT, 'x')");
    exec_ok(f, "INSERT INTO d VALUES (6)");
    assert_string_equal(query(f, "DELETE FROM d WHERE id = 6 RETURNING n, s"),
                        "7|NULL\n");
    exec_ok(f, "INSERT INTO d SELECT id + 10, n, 'copy' FROM d WHERE id < 3");
    assert_string_equal(query(f, "SELECT id, n, s FROM d ORDER BY id"),
                        "1|7|NULL\n2|7|NULL\n3|7|x\n11|7|copy\n12|7|copy\n");
    p = plan(f, "UPDATE d SET n = n + 1 WHERE id = 2");
    assert_int_equal(p->u.modify.op, MOD_UPDATE);
    const sql_plan *s = p->left;
    assert_int_equal(s->kind, PL_SCAN);
    assert_true(s->u.scan.emit_key);
    assert_int_equal(s->u.scan.range.neq, 1);
    assert_int_equal(p->u.modify.key_col, 3);
    assert_non_null(p->u.modify.recheck);
    assert_non_null(p->u.modify.newvals[1]);
    assert_null(p->u.modify.newvals[0]);
    exec_ok(f, "UPDATE d SET n = n + 1, s = 'u' WHERE id = 2");
    exec_ok(f, "UPDATE d SET (n, s) = (n * 2, s || '!') WHERE id >= 11");
    exec_ok(f, "DELETE FROM d WHERE id = 1");
    assert_string_equal(query(f, "SELECT id, n, s FROM d ORDER BY id"),
                        "2|8|u\n3|7|x\n11|14|copy!\n12|14|copy!\n");
    assert_string_equal(query(f, "INSERT INTO d VALUES (4, 1, 'r') RETURNING "
                                 "id * 2, s"), "8|r\n");
    assert_string_equal(query(f, "INSERT INTO d VALUES (4, 2, 'r') ON CONFLICT "
                                 "(id) DO UPDATE SET n = d.n + excluded.n "
                                 "RETURNING n"), "3\n");
    assert_string_equal(query(f, "INSERT INTO d VALUES (4, 2, 'r') ON CONFLICT "
                                 "DO NOTHING RETURNING n"), "");
    assert_string_equal(query(f, "DELETE FROM d USING u WHERE d.id = u.x "
                                 "RETURNING d.id"), "");
    assert_string_equal(query(f, "UPDATE d SET s = 'j' FROM (VALUES (3)) v (k) "
                                 "WHERE d.id = v.k RETURNING id, s"), "3|j\n");
    bind_fails(f, "INSERT INTO d VALUES (5, 'x'::text)", "42804",
               "column \"n\" is of type integer but expression is of type "
               "text", -1);
    bind_fails(f, "INSERT INTO d VALUES (5, 1, 'a', 2)", "42601",
               "INSERT has more expressions than target columns", 34);
    bind_fails(f, "INSERT INTO d (id, zz) VALUES (5, 1)", "42703",
               "column \"zz\" of relation \"d\" does not exist", -1);
    bind_fails(f, "UPDATE d SET n = 1, n = 2", "42601",
               "multiple assignments to same column \"n\"", -1);
}


static void test_grouping_rules(void **state)
{
    fx *f = *state;
    schema(f);
    /* columns functionally dependent on a grouped primary key */
    assert_string_equal(query(f, "SELECT id, a, b FROM t GROUP BY id ORDER BY "
                                 "id DESC LIMIT 2"), "4|NULL|four\n3|30|three\n");
    bind_fails(f, "SELECT a, b FROM t GROUP BY a", "42803",
               "column \"t.b\" must appear in the GROUP BY clause or be used "
               "in an aggregate function", 11);
    bind_fails(f, "SELECT count(sum(a)) FROM t", "42803",
               "aggregate function calls cannot be nested", 14);
    bind_fails(f, "SELECT a FROM t GROUP BY count(*)", "42803",
               "aggregate functions are not allowed in GROUP BY", 26);
    /* output names: GROUP BY prefers input columns, ORDER BY output ones */
    assert_string_equal(query(f, "SELECT a AS id FROM t GROUP BY id, a ORDER BY "
                                 "id NULLS FIRST"), "NULL\n10\n20\n30\n");
    assert_string_equal(query(f, "SELECT x AS k, count(*) FROM u GROUP BY k "
                                 "ORDER BY k"), "1|1\n2|2\n5|1\n");
    assert_string_equal(query(f, "SELECT x FROM u GROUP BY x ORDER BY count(*) "
                                 "DESC, x LIMIT 1"), "2\n");
    bind_fails(f, "SELECT 1 AS k, 2 AS k ORDER BY k", "42702",
               "ORDER BY \"k\" is ambiguous", 32);
    bind_fails(f, "SELECT DISTINCT x FROM u ORDER BY y", "42P10",
               "for SELECT DISTINCT, ORDER BY expressions must appear in "
               "select list", 35);
}

static void test_limit_pushdown_and_explain(void **state)
{
    fx *f = *state;
    schema(f);
    const sql_plan *p = plan(f, "SELECT b FROM t LIMIT 2 OFFSET 1");
    const sql_plan *s = find(p, PL_SCAN);
    assert_int_equal(s->u.scan.limit, 3);
    s = find(plan(f, "SELECT b FROM t ORDER BY b LIMIT 2"), PL_SCAN);
    assert_int_equal(s->u.scan.limit, -1);
    assert_string_equal(query(f, "SELECT b FROM t WHERE a IS NOT NULL LIMIT 2 "
                                 "OFFSET 1"), "two\nthree\n");
    p = plan(f, "SELECT * FROM t JOIN u ON t.id = u.x");
    const sql_plan *j = find(p, PL_HASHJOIN);
    assert_string_equal(j->explain, "Hash Cond: (t.id = u.x)");
    exec_ok(f, "CREATE TABLE w (x int, q int)");
    j = find(plan(f, "SELECT * FROM u JOIN w USING (x)"), PL_HASHJOIN);
    assert_string_equal(j->explain, "Hash Cond: (u.x = w.x)");
    s = find(plan(f, "SELECT * FROM t WHERE a > 10 AND b <> 'x'"),
             PL_INDEXSCAN);
    assert_string_equal(s->explain, "Index Cond: (a > 10)\nFilter: (b <> 'x')");
    p = plan(f, "SELECT b FROM t ORDER BY a DESC, b NULLS FIRST");
    s = find(p, PL_SORT);
    assert_string_equal(s->explain, "Sort Key: a DESC, b NULLS FIRST");
    s = find(plan(f, "SELECT x, count(*) FROM u GROUP BY x"), PL_AGG);
    assert_string_equal(s->explain, "Group Key: x");
}

static void test_params_and_correlation(void **state)
{
    fx *f = *state;
    schema(f);
    plan(f, "INSERT INTO t (b, id) VALUES ($1, $2)");
    assert_int_equal(f->params.n, 2);
    assert_int_equal(f->params.types[0], DC_TYPE_TEXT);
    assert_int_equal(f->params.types[1], DC_TYPE_INT4);
    plan(f, "SELECT $2 FROM t LIMIT $1");
    assert_int_equal(f->params.types[0], DC_TYPE_INT8);
    assert_int_equal(f->params.types[1], DC_TYPE_TEXT);
    /* a correlated key lookup stays a point lookup inside the subplan */
    const sql_plan *p = plan(f, "SELECT x, (SELECT b FROM t WHERE t.id = u.x) "
                                "FROM u");
    const sql_plan *pr = find(p, PL_PROJECT);
    const sql_bexpr *sub = pr->u.project.exprs[1];
    assert_int_equal(sub->kind, SX_SUBPLAN);
    const sql_plan *s = find(sub->sub.plan, PL_SCAN);
    assert_int_equal(s->u.scan.range.neq, 1);
    assert_int_equal(s->u.scan.range.eq[0]->kind, SX_OUTER);
    assert_true(s->est_rows <= 1.0);
    /* outer references from a FROM subquery of a subquery */
    assert_string_equal(query(f, "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM "
                                 "(SELECT * FROM u WHERE u.x = t.id) s) ORDER "
                                 "BY 1"), "1\n2\n");
    /* views are bound from their query text */
    exec_ok(f, "CREATE VIEW v AS SELECT id, a * 2 AS dbl FROM t WHERE a > 10");
    assert_string_equal(query(f, "SELECT * FROM v ORDER BY id"),
                        "2|40\n3|60\n");
    assert_string_equal(query(f, "SELECT v.dbl FROM v JOIN u ON v.id = u.x "
                                 "ORDER BY u.y"), "40\n40\n");
}

static void test_catalog_and_special_forms(void **state)
{
    fx *f = *state;
    schema(f);
    /* an aggregate over outer columns only belongs to the outer query */
    assert_string_equal(query(f, "SELECT (SELECT sum(t.a) FROM u LIMIT 1) "
                                 "FROM t"), "60\n");
    assert_string_equal(query(f, "SELECT x, (SELECT max(u.y + t.a) FROM t) "
                                 "FROM u ORDER BY x, 2"),
                        "1|130\n2|230\n2|231\n5|530\n");
    /* generated catalog relations, pg_catalog first in the search path */
    assert_string_equal(query(f, "SELECT c.relname FROM pg_catalog.pg_class c "
                                 "JOIN pg_namespace n ON n.oid = "
                                 "c.relnamespace WHERE n.nspname = 'public' "
                                 "AND c.relkind = 'r' ORDER BY 1"),
                        "t\nu\n");
    assert_string_equal(query(f, "SELECT column_name FROM "
                                 "information_schema.columns WHERE "
                                 "table_name = 't' ORDER BY ordinal_position"),
                        "id\na\nb\n");
    /* reg* casts look names and oids up */
    assert_string_equal(query(f, "SELECT relname, oid::regclass, 23::regtype "
                                 "FROM pg_class WHERE oid = 't'::regclass"),
                        "t|t|integer\n");
    /* ANY over an array constructor, LIKE ... ESCAPE, SIMILAR TO */
    assert_string_equal(query(f, "SELECT id FROM t WHERE id = ANY (ARRAY[2, 4]) "
                                 "ORDER BY id"), "2\n4\n");
    assert_string_equal(query(f, "SELECT 'a%c' LIKE 'a#%c' ESCAPE '#', "
                                 "'abc' LIKE 'a#%c' ESCAPE '#', "
                                 "'abc' SIMILAR TO '(a|x)bc'"), "t|f|t\n");
    /* SELECT * with no tables, set-returning functions in FROM */
    bind_fails(f, "SELECT *", "42601",
               "SELECT * with no tables specified is not valid", 8);
    assert_string_equal(query(f, "SELECT g * 2 FROM generate_series(1, 3) g "
                                 "WHERE g <> 2"), "2\n6\n");
}

/* ==== errors ===================================================================== */

static void test_errors(void **state)
{
    fx *f = *state;
    schema(f);
    bind_fails(f, "SELECT zz FROM t", "42703", "column \"zz\" does not exist",
               8);
    bind_fails(f, "SELECT t.zz FROM t", "42703", "column t.zz does not exist",
               8);
    bind_fails(f, "SELECT id FROM t, t AS t2", "42702",
               "column reference \"id\" is ambiguous", 8);
    bind_fails(f, "SELECT * FROM nope", "42P01",
               "relation \"nope\" does not exist", 15);
    bind_fails(f, "SELECT a, count(*) FROM t", "42803",
               "column \"t.a\" must appear in the GROUP BY clause or be used "
               "in an aggregate function", 8);
    bind_fails(f, "SELECT id FROM t WHERE count(*) > 1", "42803",
               "aggregate functions are not allowed in WHERE", 24);
    bind_fails(f, "SELECT id FROM t ORDER BY 5", "42P10",
               "ORDER BY position 5 is not in select list", 27);
    bind_fails(f, "SELECT id FROM t WHERE a", "42804",
               "argument of WHERE must be type boolean, not type integer", 24);
    bind_fails(f, "SELECT a + 'x' FROM t", "22P02", NULL, 12);
    bind_fails(f, "SELECT id FROM t UNION SELECT x, y FROM u", "42601",
               "each UNION query must have the same number of columns", -1);
    bind_fails(f, "SELECT (SELECT x, y FROM u)", "42601",
               "subquery must return only one column", 8);
    bind_fails(f, "SELECT * FROM t WHERE nofunc(a)", "42883", NULL, 23);
    bind_fails(f, "SELECT x.id FROM t", "42P01",
               "missing FROM-clause entry for table \"x\"", 8);
    bind_fails(f, "WITH RECURSIVE r AS (SELECT 1) SELECT * FROM r", "0A000",
               NULL, -1);
    bind_fails(f, "INSERT INTO t (id, a) VALUES (1)", "42601",
               "INSERT has more target columns than expressions", -1);
    /* statements the binder does not plan */
    sql_plan *p = NULL;
    dc_error err;
    begin(f);
    stmt_ctx(f);
    const sql_stmt *s = parse_one(f, "CREATE TABLE q (a int)");
    dc_error_init(&err);
    assert_int_equal(sql_plan_stmt(&f->ctx, f->arena, s, "", NULL, &p, &err),
                     DC_EINVAL);
}

static void test_bind_expr_text(void **state)
{
    fx *f = *state;
    schema(f);
    begin(f);
    stmt_ctx(f);
    const sql_table *t = sql_catalog_table(f->ctx.cat, NULL, "t");
    assert_non_null(t);
    sql_bexpr *e = NULL;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_bind_expr_text(&f->ctx, f->arena, t, "(a > 5)", 0,
                                        -1, &e, &err), DC_OK);
    assert_int_equal(e->type, DC_TYPE_BOOL);
    assert_int_equal(e->kind, SX_FUNC);
    assert_int_equal(e->args[0]->kind, SX_COL);
    assert_int_equal(e->args[0]->index, 1);
    assert_int_equal(sql_bind_expr_text(&f->ctx, f->arena, t, "'12'",
                                        DC_TYPE_INT8, -1, &e, &err), DC_OK);
    assert_int_equal(e->kind, SX_CONST);
    assert_int_equal(e->type, DC_TYPE_INT8);
    assert_int_equal(e->value.u.i, 12);
    assert_int_not_equal(sql_bind_expr_text(&f->ctx, f->arena, t, "nocol + 1",
                                            0, -1, &e, &err), DC_OK);
    assert_string_equal(err.sqlstate, "42703");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pk_point_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_join, setup, teardown),
        cmocka_unit_test_setup_teardown(test_join_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sort_limit_agg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expressions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subqueries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setops_values_cte, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dml, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grouping_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_pushdown_and_explain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_params_and_correlation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_catalog_and_special_forms, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_expr_text, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sqlt_unload_all();
    return rc;
}
