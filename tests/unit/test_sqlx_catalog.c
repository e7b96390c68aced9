/*
 * test_sqlx_catalog.c - the catalog (catalog.c), DDL (ddl.c) and the
 * generated pg_catalog relations (vcatalog.c) over a real storage engine,
 * memory and lsm (tests/unit/sql_testutil.h).
 *
 * What is checked:
 *   - CREATE TABLE with column and table constraints: derived names,
 *     primary key columns NOT NULL, defaults and checks as text, oids;
 *   - the catalog is written with the transaction: a commit publishes it
 *     and (lsm) it is found again after a reopen, next_oid included; an
 *     abort or a failed statement leaves the old catalog; a savepoint
 *     rollback restores the copy it marked;
 *   - PostgreSQL's SQLSTATEs and messages for the usual mistakes, and the
 *     notices of IF [NOT] EXISTS;
 *   - DROP TABLE / INDEX / VIEW, TRUNCATE and their effect on rows;
 *   - ALTER TABLE: ADD COLUMN with a constant default (the `missing`
 *     value, persisted), NOT NULL on a non-empty table, ADD PRIMARY KEY
 *     (rows rekeyed, duplicates refused), ADD UNIQUE, ADD CHECK against
 *     existing rows, SET/DROP NOT NULL, DROP COLUMN, RENAME;
 *     ADD COLUMN with a volatile default (computed per row), dropping a
 *     primary key column (rows rekeyed), ALTER COLUMN TYPE (rows converted,
 *     indexes rebuilt);
 *   - CREATE INDEX naming and building, CREATE VIEW column names and the
 *     view text cut out of a multi-statement source, CREATE TABLE AS,
 *     ANALYZE's row counts;
 *   - the DDL lock: a second transaction's DDL waits (lock timeout);
 *   - publish under concurrent readers (versions only grow; ASan checks
 *     that nothing is freed under a reader);
 *   - every generated relation produces rows of its declared width, and
 *     pg_class / pg_attribute / pg_index / pg_constraint describe a table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "sql/catalog.h"
#include "sql/parser.h"
#include "sql/tableam.h"
#include "sql/txn.h"
#include "sql/vcatalog.h"
#include "sql_testutil.h"

/* ==== fixture ==============================================================
 */

typedef struct fx {
    sqlt_env env;
    sql_txn *txn;     /* open transaction, or NULL            */
    sql_arena *arena; /* statement arena                       */
    sql_ctx ctx;
    char notices[8][600]; /* "SQLSTATE message" of each notice     */
    int nnotices;
    char tag[64];
} fx;

static const char *engine_name = "memory";

static void load_catalog(fx *f)
{
    dc_error err;
    dc_error_init(&err);
    sql_catalog *c = NULL;
    assert_int_equal(sql_catalog_load(&f->env.eng, &c, &err), DC_OK);
    f->env.eng.catalog = c;
}

static void drop_catalog(fx *f)
{
    sql_catalog_unref(f->env.eng.catalog);
    f->env.eng.catalog = NULL;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f || sqlt_open(&f->env, engine_name) != 0) {
        free(f);
        return -1;
    }
    load_catalog(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (f->txn)
        sql_txn_abort(f->txn);
    sql_arena_free(f->arena);
    drop_catalog(f);
    sqlt_close(&f->env);
    free(f);
    return 0;
}

static int on_notice(void *ud, const dc_error *n)
{
    fx *f = ud;
    if (f->nnotices < 8)
        snprintf(f->notices[f->nnotices++], sizeof f->notices[0], "%s %s",
                 n->sqlstate, n->message);
    return DC_OK;
}

static void begin(fx *f)
{
    dc_error err;
    dc_error_init(&err);
    assert_null(f->txn);
    assert_int_equal(sql_txn_begin(&f->env.eng, SQL_ISO_READ_COMMITTED, false,
                                   0, NULL, &f->txn, &err),
                     DC_OK);
}

static void commit(fx *f)
{
    dc_error err;
    dc_error_init(&err);
    int rc = sql_txn_commit(f->txn, &err);
    f->txn = NULL;
    assert_int_equal(rc, DC_OK);
}

static void abort_txn(fx *f)
{
    sql_txn_abort(f->txn);
    f->txn = NULL;
}

/* The catalog the open transaction sees. */
static const sql_catalog *txn_cat(fx *f)
{
    sql_catalog *c = sql_txn_catalog(f->txn);
    return c ? c : f->env.eng.catalog;
}

/* Set up ctx for one statement in the open transaction. */
static void stmt_ctx(fx *f)
{
    sql_arena_free(f->arena);
    f->arena = sql_arena_new();
    assert_non_null(f->arena);
    memset(&f->ctx, 0, sizeof f->ctx);
    f->ctx.eng = &f->env.eng;
    f->ctx.txn = f->txn;
    f->ctx.cat = txn_cat(f);
    f->ctx.arena = f->arena;
    f->ctx.mem = sqlt_mem(f->arena);
    f->ctx.work_mem = 1 << 20;
    f->ctx.user = "tester";
    f->ctx.database = "testdb";
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_txn_stmt_begin(f->txn, &err), DC_OK);
}

/* Run one DDL statement in the open transaction; returns the status and
 * fills *err. */
static int ddl_err(fx *f, const char *sql, dc_error *err)
{
    stmt_ctx(f);
    dc_error_init(err);
    f->nnotices = 0;
    sql_arena *pa = NULL;
    sql_list *stmts = NULL;
    int rc = sql_parse(sql, strlen(sql), &pa, &stmts, err);
    if (rc != DC_OK)
        return rc;
    assert_int_equal(SQL_LIST_LEN(stmts), 1);
    f->tag[0] = '\0';
    rc = sql_ddl_exec(&f->ctx, stmts->items[0], sql, f->tag, sizeof f->tag,
                      on_notice, f, err);
    sql_arena_free(pa);
    return rc;
}

static void ddl_ok(fx *f, const char *sql)
{
    dc_error err;
    int rc = ddl_err(f, sql, &err);
    if (rc != DC_OK)
        fail_msg("%s: %s %s", sql, err.sqlstate, err.message);
}

/* The statement fails with `state` and `msg` (msg NULL: any). */
static void ddl_fails(fx *f, const char *sql, const char *state,
                      const char *msg)
{
    dc_error err;
    int rc = ddl_err(f, sql, &err);
    if (rc == DC_OK)
        fail_msg("%s: succeeded, expected %s", sql, state);
    assert_string_equal(err.sqlstate, state);
    if (msg)
        assert_string_equal(err.message, msg);
}

/* Autocommit: one statement in its own transaction. */
static void run(fx *f, const char *sql)
{
    begin(f);
    ddl_ok(f, sql);
    commit(f);
}

static const sql_table *table(const sql_catalog *c, const char *name)
{
    return sql_catalog_table(c, NULL, name);
}

/* Insert an int4 row (values; NULL for INT32_MIN) into table `name`. */
static void insert_ints(fx *f, const char *name, int n, const int *v)
{
    const sql_table *t = table(txn_cat(f), name);
    assert_non_null(t);
    dc_value vals[16];
    assert_true(t->natts <= 16);
    for (int i = 0; i < t->natts; i++)
        vals[i] = i < n && v[i] != INT32_MIN
                      ? sql_value_int(t->cols[i].type, v[i])
                      : sql_value_null(t->cols[i].type);
    dc_error err;
    dc_error_init(&err);
    int rc = sql_table_insert(f->txn, t, vals, NULL, &err);
    if (rc != DC_OK)
        fail_msg("insert: %s %s", err.sqlstate, err.message);
}

/* All rows of `name` as "a,b;a,b;" in scan order: ints and bools by
 * value, NULL as N, other types as v. */
static void dump_ints(fx *f, const char *name, char *out, size_t cap)
{
    const sql_table *t = table(txn_cat(f), name);
    assert_non_null(t);
    stmt_ctx(f);
    dc_error err;
    dc_error_init(&err);
    sql_scan *s = NULL;
    assert_int_equal(sql_table_scan_open(f->txn, SQL_READ_SNAPSHOT, t, NULL, 0,
                                         NULL, 0, &s, &err),
                     DC_OK);
    size_t len = 0;
    out[0] = '\0';
    dc_value vals[16];
    for (;;) {
        bool valid = false;
        assert_int_equal(
            sql_scan_next(s, &f->ctx.mem, vals, NULL, NULL, &valid, &err),
            DC_OK);
        if (!valid)
            break;
        bool first = true;
        for (int i = 0; i < t->natts; i++) {
            if (t->cols[i].dropped)
                continue;
            char cell[32];
            if (vals[i].is_null)
                snprintf(cell, sizeof cell, "N");
            else if (vals[i].type == DC_TYPE_BOOL)
                snprintf(cell, sizeof cell, "%s", vals[i].u.b ? "t" : "f");
            else if (vals[i].type != DC_TYPE_INT2 &&
                     vals[i].type != DC_TYPE_INT4 &&
                     vals[i].type != DC_TYPE_INT8)
                snprintf(cell, sizeof cell, "v"); /* other types: present */
            else
                snprintf(cell, sizeof cell, "%lld", (long long)vals[i].u.i);
            len += (size_t)snprintf(out + len, cap - len, "%s%s",
                                    first ? "" : ",", cell);
            first = false;
        }
        len += (size_t)snprintf(out + len, cap - len, ";");
    }
    sql_scan_close(s);
}

static bool durable(fx *f)
{
    return sqlt_durable(&f->env);
}

/* Close and reopen the store, reloading the catalog. */
static void reopen(fx *f)
{
    drop_catalog(f);
    assert_int_equal(sqlt_reopen(&f->env), 0);
    load_catalog(f);
}

/* ==== tests ================================================================
 */

static void test_create_table(void **state)
{
    fx *f = *state;
    run(f,
        "create table t (a int primary key, b varchar(10) not null default "
        "'x', "
        "c int check (c > 0), d numeric(10,2), unique (b, d), check (c > a))");
    assert_string_equal(f->tag, "CREATE TABLE");
    const sql_table *t = table(f->env.eng.catalog, "t");
    assert_non_null(t);
    assert_true(t->oid >= SQL_FIRST_USER_OID);
    assert_int_equal(t->natts, 4);
    assert_int_equal(t->cols[0].type, DC_TYPE_INT4);
    assert_true(t->cols[0].not_null); /* primary key column */
    assert_int_equal(t->cols[1].type, DC_TYPE_VARCHAR);
    assert_int_equal(t->cols[1].typmod, 14);
    assert_true(t->cols[1].not_null);
    assert_string_equal(t->cols[1].default_expr, "'x'");
    assert_false(t->cols[2].not_null);
    assert_int_equal(t->cols[3].type, DC_TYPE_NUMERIC);
    assert_non_null(t->pkey);
    assert_string_equal(t->pkey->name, "t_pkey");
    assert_int_equal(t->nindexes, 2);
    assert_ptr_equal(t->indexes[0], t->pkey);
    assert_string_equal(t->indexes[1]->name, "t_b_d_key");
    assert_true(t->indexes[1]->unique && t->indexes[1]->is_constraint);
    assert_int_equal(t->indexes[1]->ncols, 2);
    assert_int_equal(t->indexes[1]->attnums[0], 2);
    assert_int_equal(t->indexes[1]->attnums[1], 4);
    assert_int_equal(t->nchecks, 2);
    assert_string_equal(t->checks[0].name, "t_c_check");
    assert_string_equal(t->checks[1].name, "t_check");
    assert_non_null(sql_catalog_index(f->env.eng.catalog, NULL, "t_pkey"));
    assert_ptr_equal(sql_catalog_table_by_oid(f->env.eng.catalog, t->oid), t);
    assert_non_null(sql_table_column(t, "c"));
    assert_null(sql_table_column(t, "z"));
    /* Oids are distinct. */
    assert_int_not_equal(t->pkey->oid, t->oid);
    assert_int_not_equal(t->pkey->oid, t->indexes[1]->oid);

    /* Names taken get a number: a second unique on b. */
    run(f, "alter table t add unique (b, d)");
    t = table(f->env.eng.catalog, "t");
    assert_int_equal(t->nindexes, 3);
    assert_string_equal(t->indexes[2]->name, "t_b_d_key1");
}

static void test_persist_and_reopen(void **state)
{
    fx *f = *state;
    run(f, "create table p (id int8 primary key, name text default 'anon', "
           "v float8 check (v >= 0))");
    run(f, "create index on p (name desc nulls last, v)");
    run(f, "create view pv (x, y) as select 1, 'a'");
    const sql_table *t = table(f->env.eng.catalog, "p");
    assert_non_null(t);
    uint32_t oid = t->oid;
    uint64_t ver = sql_catalog_version(f->env.eng.catalog);
    assert_true(ver > 1);
    if (!durable(f))
        return;
    reopen(f);
    const sql_catalog *c = f->env.eng.catalog;
    t = table(c, "p");
    assert_non_null(t);
    assert_int_equal(t->oid, oid);
    assert_int_equal(t->natts, 3);
    assert_string_equal(t->cols[1].default_expr, "'anon'");
    assert_int_equal(t->cols[2].type, DC_TYPE_FLOAT8);
    assert_non_null(t->pkey);
    assert_string_equal(t->pkey->name, "p_pkey");
    assert_int_equal(t->nindexes, 2);
    const sql_index *ix = sql_catalog_index(c, NULL, "p_name_v_idx");
    assert_non_null(ix);
    assert_int_equal(ix->flags[0], SQL_KEY_DESC);
    assert_int_equal(ix->flags[1], 0);
    assert_false(ix->unique);
    assert_int_equal(t->nchecks, 1);
    assert_string_equal(t->checks[0].name, "p_v_check");
    const sql_view *v = sql_catalog_view(c, NULL, "pv");
    assert_non_null(v);
    assert_int_equal(v->ncols, 2);
    assert_string_equal(v->colnames[0], "x");
    assert_string_equal(v->colnames[1], "y");
    assert_string_equal(v->query, "select 1, 'a'");
    /* The oid counter survives: a new object gets a new oid. */
    uint32_t ixoid = ix->oid, voi = v->oid;
    run(f, "create table p2 (a int)");
    uint32_t o2 = table(f->env.eng.catalog, "p2")->oid;
    assert_true(o2 > oid && o2 > ixoid && o2 > voi);
}

static void test_rollback(void **state)
{
    fx *f = *state;
    run(f, "create table keep (a int)");
    sql_catalog *before = sql_engine_catalog(&f->env.eng);

    begin(f);
    ddl_ok(f, "create table gone (a int)");
    ddl_ok(f, "drop table keep");
    /* The transaction sees its own changes, others do not. */
    assert_non_null(table(txn_cat(f), "gone"));
    assert_null(table(txn_cat(f), "keep"));
    assert_ptr_equal(f->ctx.cat, sql_txn_catalog(f->txn));
    assert_non_null(table(f->env.eng.catalog, "keep"));
    abort_txn(f);
    assert_ptr_equal(f->env.eng.catalog, before);
    assert_null(table(f->env.eng.catalog, "gone"));

    /* A failing statement leaves the transaction's catalog alone. */
    begin(f);
    ddl_ok(f, "create table a1 (a int)");
    const sql_catalog *mid = txn_cat(f);
    ddl_fails(f, "create table a2 (a int, a int)", "42701",
              "column \"a\" specified more than once");
    assert_ptr_equal(txn_cat(f), mid);
    assert_null(table(txn_cat(f), "a2"));

    /* Savepoint: rolling back to it restores the catalog it marked. */
    dc_error err;
    dc_error_init(&err);
    sql_savepoint *sp = NULL;
    assert_int_equal(sql_txn_savepoint(f->txn, &sp, &err), DC_OK);
    ddl_ok(f, "create table a3 (a int)");
    assert_non_null(table(txn_cat(f), "a3"));
    assert_int_equal(sql_txn_rollback_to(f->txn, sp, &err), DC_OK);
    sql_txn_savepoint_free(f->txn, sp);
    assert_null(table(txn_cat(f), "a3"));
    assert_non_null(table(txn_cat(f), "a1"));
    commit(f);
    assert_non_null(table(f->env.eng.catalog, "a1"));
    assert_null(table(f->env.eng.catalog, "a3"));
    assert_true(sql_catalog_version(f->env.eng.catalog) >
                sql_catalog_version(before));
    sql_catalog_unref(before);
    if (durable(f)) {
        reopen(f);
        assert_non_null(table(f->env.eng.catalog, "a1"));
        assert_non_null(table(f->env.eng.catalog, "keep"));
        assert_null(table(f->env.eng.catalog, "gone"));
        assert_null(table(f->env.eng.catalog, "a3"));
    }
}

static void test_errors(void **state)
{
    fx *f = *state;
    run(f, "create table t (a int, b int)");
    run(f, "create view v as select 1 as x");
    begin(f);
    ddl_fails(f, "create table t (a int)", "42P07",
              "relation \"t\" already exists");
    ddl_ok(f, "create table if not exists t (a int)");
    assert_int_equal(f->nnotices, 1);
    assert_string_equal(f->notices[0],
                        "42P07 relation \"t\" already exists, skipping");
    assert_string_equal(f->tag, "CREATE TABLE");
    ddl_fails(f, "create table u (a int primary key, b int primary key)",
              "42P16", "multiple primary keys for table \"u\" are not allowed");
    ddl_fails(f, "create table u (a int primary key, primary key (a))", "42P16",
              NULL);
    ddl_fails(f, "create table u (a foo)", "42704",
              "type \"foo\" does not exist");
    ddl_fails(f, "create table u (a serial)", "0A000", NULL);
    ddl_fails(f, "create table u (a int null not null)", "42601",
              "conflicting NULL/NOT NULL declarations for column \"a\" of "
              "table \"u\"");
    ddl_fails(
        f, "create table u (a int default 1 default 2)", "42601",
        "multiple default values specified for column \"a\" of table \"u\"");
    ddl_fails(f, "create table u (a int, primary key (x))", "42703",
              "column \"x\" named in key does not exist");
    ddl_fails(f, "create table nosuch.u (a int)", "3F000",
              "schema \"nosuch\" does not exist");
    ddl_fails(f, "drop table nosuch", "42P01",
              "table \"nosuch\" does not exist");
    ddl_ok(f, "drop table if exists nosuch, nosuch2");
    assert_int_equal(f->nnotices, 2);
    assert_string_equal(f->notices[0],
                        "00000 table \"nosuch\" does not exist, skipping");
    assert_string_equal(f->notices[1],
                        "00000 table \"nosuch2\" does not exist, skipping");
    ddl_fails(f, "drop table v", "42809", "\"v\" is not a table");
    ddl_fails(f, "drop view t", "42809", "\"t\" is not a view");
    ddl_fails(f, "drop index t", "42809", "\"t\" is not an index");
    ddl_fails(f, "drop index nosuch", "42704",
              "index \"nosuch\" does not exist");
    ddl_ok(f, "drop view if exists nosuch");
    assert_string_equal(f->notices[0],
                        "00000 view \"nosuch\" does not exist, skipping");
    ddl_fails(f, "truncate nosuch", "42P01",
              "relation \"nosuch\" does not exist");
    ddl_fails(f, "truncate v", "42809", "\"v\" is not a table");
    ddl_fails(f, "alter table nosuch add column z int", "42P01",
              "relation \"nosuch\" does not exist");
    ddl_ok(f, "alter table if exists nosuch add column z int");
    assert_string_equal(f->notices[0],
                        "00000 relation \"nosuch\" does not exist, skipping");
    ddl_fails(f, "alter table t add column a int", "42701",
              "column \"a\" of relation \"t\" already exists");
    ddl_ok(f, "alter table t add column if not exists a int");
    assert_string_equal(
        f->notices[0],
        "42701 column \"a\" of relation \"t\" already exists, skipping");
    ddl_fails(f, "alter table t drop column x", "42703",
              "column \"x\" of relation \"t\" does not exist");
    ddl_ok(f, "alter table t drop column if exists x");
    assert_string_equal(
        f->notices[0],
        "00000 column \"x\" of relation \"t\" does not exist, skipping");
    ddl_fails(f, "alter table t rename column x to y", "42703",
              "column \"x\" does not exist");
    ddl_fails(f, "alter table t rename column a to b", "42701",
              "column \"b\" of relation \"t\" already exists");
    ddl_fails(f, "alter table t rename to v", "42P07",
              "relation \"v\" already exists");
    ddl_fails(f, "alter table t drop constraint nosuch", "42704",
              "constraint \"nosuch\" of relation \"t\" does not exist");
    ddl_fails(f, "create index on t (x)", "42703",
              "column \"x\" does not exist");
    ddl_fails(f, "create index on t ((a + 1))", "0A000", NULL);
    ddl_fails(f, "create index on v (x)", "42809",
              "cannot create index on relation \"v\"");
    ddl_ok(f, "create index ti on t (a)");
    ddl_fails(f, "create index ti on t (b)", "42P07",
              "relation \"ti\" already exists");
    ddl_ok(f, "create index if not exists ti on t (b)");
    assert_string_equal(f->notices[0],
                        "42P07 relation \"ti\" already exists, skipping");
    ddl_fails(f, "create view v as select 2 as x", "42P07",
              "relation \"v\" already exists");
    ddl_fails(f, "create or replace view t as select 1", "42809",
              "\"t\" is not a view");
    ddl_fails(f, "create view w (a, b) as select 1", "42601",
              "CREATE VIEW specifies more column names than columns");
    /* After a failure ctx->cat is the catalog the statement started with. */
    assert_ptr_equal(f->ctx.cat, txn_cat(f));
    ddl_fails(f, "create or replace view v as select 1 as y", "42P16",
              "cannot change name of view column \"x\" to \"y\"");
    ddl_ok(f, "create or replace view v as select 1 as x, 2 as z");
    assert_int_equal(sql_catalog_view(txn_cat(f), NULL, "v")->ncols, 2);
    ddl_ok(f, "create table k (a int primary key)");
    ddl_fails(f, "drop index k_pkey", "2BP01",
              "cannot drop index k_pkey because constraint k_pkey on table k "
              "requires it");
    ddl_fails(f, "alter table k alter column a drop not null", "42P16",
              "column \"a\" is in a primary key");
    ddl_fails(f, "alter table k add primary key (a)", "42P16",
              "multiple primary keys for table \"k\" are not allowed");
    commit(f);

    /* Read-only transactions refuse DDL. */
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_txn_begin(&f->env.eng, SQL_ISO_READ_COMMITTED, true, 0,
                                   NULL, &f->txn, &err),
                     DC_OK);
    ddl_fails(f, "create table ro (a int)", "25006",
              "cannot execute CREATE TABLE in a read-only transaction");
    abort_txn(f);
}

static void test_drop_truncate(void **state)
{
    fx *f = *state;
    run(f, "create table d (a int primary key, b int)");
    run(f, "create index on d (b)");
    char buf[256];
    begin(f);
    insert_ints(f, "d", 2, (int[]){1, 10});
    insert_ints(f, "d", 2, (int[]){2, 20});
    commit(f);

    begin(f);
    dump_ints(f, "d", buf, sizeof buf);
    assert_string_equal(buf, "1,10;2,20;");
    ddl_ok(f, "truncate d");
    assert_string_equal(f->tag, "TRUNCATE TABLE");
    dump_ints(f, "d", buf, sizeof buf);
    assert_string_equal(buf, "");
    abort_txn(f);

    begin(f);
    dump_ints(f, "d", buf, sizeof buf);
    assert_string_equal(buf, "1,10;2,20;");
    ddl_ok(f, "drop index d_b_idx");
    assert_string_equal(f->tag, "DROP INDEX");
    assert_int_equal(table(txn_cat(f), "d")->nindexes, 1);
    ddl_ok(f, "drop table d");
    assert_string_equal(f->tag, "DROP TABLE");
    assert_null(sql_catalog_index(txn_cat(f), NULL, "d_pkey"));
    ddl_ok(f, "create table d (a int primary key, b int)");
    dump_ints(f, "d", buf, sizeof buf);
    assert_string_equal(buf, "");
    commit(f);
    assert_null(sql_catalog_index(f->env.eng.catalog, NULL, "d_b_idx"));
    if (durable(f)) {
        reopen(f);
        begin(f);
        dump_ints(f, "d", buf, sizeof buf);
        assert_string_equal(buf, "");
        abort_txn(f);
    }
    run(f, "create view dv as select 1 as one");
    run(f, "drop view dv");
    assert_string_equal(f->tag, "DROP VIEW");
    assert_null(sql_catalog_view(f->env.eng.catalog, NULL, "dv"));
}

static void test_alter_columns(void **state)
{
    fx *f = *state;
    char buf[256];
    run(f, "create table a (id int primary key, x int)");
    begin(f);
    insert_ints(f, "a", 2, (int[]){1, 100});
    insert_ints(f, "a", 2, (int[]){2, INT32_MIN});
    commit(f);

    /* ADD COLUMN with a constant default: old rows read it. */
    run(f, "alter table a add column y int default 7");
    assert_string_equal(f->tag, "ALTER TABLE");
    const sql_table *t = table(f->env.eng.catalog, "a");
    assert_int_equal(t->natts, 3);
    assert_false(t->cols[2].missing.is_null);
    assert_int_equal(t->cols[2].missing.u.i, 7);
    begin(f);
    dump_ints(f, "a", buf, sizeof buf);
    assert_string_equal(buf, "1,100,7;2,N,7;");
    /* NOT NULL without default on a non-empty table. */
    ddl_fails(f, "alter table a add column z int not null", "23502",
              "column \"z\" of relation \"a\" contains null values");
    ddl_fails(f, "alter table a alter column x set not null", "23502",
              "column \"x\" of relation \"a\" contains null values");
    ddl_ok(f, "alter table a alter column y set not null");
    assert_true(table(txn_cat(f), "a")->cols[2].not_null);
    ddl_ok(f, "alter table a alter column y drop not null");
    ddl_ok(f, "alter table a alter column x set default 5");
    assert_string_equal(table(txn_cat(f), "a")->cols[1].default_expr, "5");
    ddl_ok(f, "alter table a alter column x drop default");
    assert_null(table(txn_cat(f), "a")->cols[1].default_expr);
    commit(f);
    /* Missing values of other types keep their exact value. */
    run(f, "alter table a add column s varchar(8) default 'it''s', "
           "add column ts timestamptz default '2020-01-02 03:04:05.25+00', "
           "add column n numeric(6,3) default 1.5, add column bl bytea default "
           "'\\x00ff'");
    t = table(f->env.eng.catalog, "a");
    assert_int_equal(t->natts, 7);
    assert_false(t->cols[3].missing.is_null);
    if (durable(f)) {
        int64_t ts = t->cols[4].missing.u.i;
        reopen(f);
        t = table(f->env.eng.catalog, "a");
        assert_int_equal(t->cols[2].missing.u.i, 7);
        const dc_value *m = &t->cols[3].missing;
        assert_int_equal(m->type, DC_TYPE_VARCHAR);
        assert_int_equal(m->u.bytes.len, 4);
        assert_memory_equal(m->u.bytes.ptr, "it's", 4);
        assert_int_equal(t->cols[4].missing.u.i, ts);
        m = &t->cols[5].missing;
        assert_int_equal(m->type, DC_TYPE_NUMERIC);
        assert_int_equal(m->u.bytes.len, 5);
        assert_memory_equal(m->u.bytes.ptr, "1.500", 5);
        m = &t->cols[6].missing;
        assert_int_equal(m->type, DC_TYPE_BYTEA);
        assert_int_equal(m->u.bytes.len, 2);
        assert_memory_equal(m->u.bytes.ptr, "\x00\xff", 2);
        begin(f);
        dump_ints(f, "a", buf, sizeof buf);
        assert_string_equal(buf, "1,100,7,v,v,v,v;2,N,7,v,v,v,v;");
        abort_txn(f);
    }

    /* RENAME COLUMN follows into checks; DROP COLUMN takes its checks and
     * indexes along. */
    run(f, "alter table a add constraint a_x_check check (x > 0)");
    run(f, "create index on a (x)");
    run(f, "alter table a rename column x to w");
    t = table(f->env.eng.catalog, "a");
    assert_non_null(sql_table_column(t, "w"));
    assert_null(sql_table_column(t, "x"));
    assert_string_equal(t->checks[0].expr, "(w > 0)");
    run(f, "alter table a drop column w, drop column s, drop column ts, drop "
           "column n, "
           "drop column bl");
    t = table(f->env.eng.catalog, "a");
    assert_int_equal(t->natts, 7);
    assert_true(t->cols[1].dropped);
    assert_null(sql_table_column(t, "w"));
    assert_int_equal(t->nchecks, 0);
    assert_int_equal(t->nindexes, 1);
    begin(f);
    dump_ints(f, "a", buf, sizeof buf);
    assert_string_equal(buf, "1,7;2,7;");
    abort_txn(f);

    run(f, "alter table a rename to b");
    assert_null(table(f->env.eng.catalog, "a"));
    assert_non_null(table(f->env.eng.catalog, "b"));
}

static void test_alter_keys(void **state)
{
    fx *f = *state;
    char buf[256];
    run(f, "create table k (a int, b int) with (fillfactor=100)");
    begin(f);
    insert_ints(f, "k", 2, (int[]){3, 30});
    insert_ints(f, "k", 2, (int[]){1, 10});
    insert_ints(f, "k", 2, (int[]){2, 10});
    commit(f);
    uint32_t old_oid = table(f->env.eng.catalog, "k")->oid;

    begin(f);
    ddl_fails(f, "alter table k add constraint k_b_key unique (b)", "23505",
              "could not create unique index \"k_b_key\"");
    insert_ints(f, "k", 2, (int[]){INT32_MIN, 40});
    ddl_fails(f, "alter table k add primary key (a)", "23502",
              "column \"a\" of relation \"k\" contains null values");
    ddl_fails(f, "alter table k add primary key (b)", "23505",
              "could not create unique index \"k_pkey\"");
    abort_txn(f);

    run(f, "alter table k add primary key (a)");
    const sql_table *t = table(f->env.eng.catalog, "k");
    assert_non_null(t->pkey);
    assert_string_equal(t->pkey->name, "k_pkey");
    assert_true(t->cols[0].not_null);
    assert_int_not_equal(t->oid, old_oid);
    begin(f);
    dump_ints(f, "k", buf, sizeof buf); /* now in primary key order */
    assert_string_equal(buf, "1,10;2,10;3,30;");
    ddl_fails(
        f, "alter table k add constraint c1 check (b > 10)", "23514",
        "check constraint \"c1\" of relation \"k\" is violated by some row");
    ddl_ok(f, "alter table k add constraint c1 check (b >= 10)");
    ddl_fails(f, "alter table k add constraint c1 check (b >= 10)", "42710",
              "constraint \"c1\" for relation \"k\" already exists");
    ddl_ok(f, "alter table k drop constraint c1");
    ddl_ok(f, "alter table k drop constraint if exists c1");
    assert_string_equal(
        f->notices[0],
        "00000 constraint \"c1\" of relation \"k\" does not exist, skipping");
    commit(f);

    /* Dropping the primary key rekeys the rows by rowid. */
    run(f, "alter table k drop constraint k_pkey");
    t = table(f->env.eng.catalog, "k");
    assert_null(t->pkey);
    assert_int_equal(t->nindexes, 0);
    begin(f);
    dump_ints(f, "k", buf, sizeof buf);
    assert_string_equal(buf, "1,10;2,10;3,30;");
    ddl_ok(f, "create unique index on k (a)");
    assert_string_equal(table(txn_cat(f), "k")->indexes[0]->name, "k_a_idx");
    dc_error err;
    ddl_err(f, "create unique index on k (b)", &err);
    assert_string_equal(err.sqlstate, "23505");
    assert_string_equal(err.message,
                        "could not create unique index \"k_b_idx\"");
    assert_string_equal(err.detail, "Key (b)=(10) is duplicated.");
    commit(f);
    if (durable(f)) {
        reopen(f);
        begin(f);
        dump_ints(f, "k", buf, sizeof buf);
        assert_string_equal(buf, "1,10;2,10;3,30;");
        abort_txn(f);
    }
}

/* ---- generated relations ---------------------------------------------------
 */

typedef struct collect {
    const sql_vrel *rel;
    int rows;
    char text[8192];
    size_t len;
    int want_col;        /* append "first|colN\n" per row: first is
                            column 1 when filtering, else column 0 */
    uint32_t filter_oid; /* only rows whose first oid column is this */
    int filter_col;
} collect;

static void cell_text(const dc_value *v, char *out, size_t cap)
{
    if (v->is_null) {
        snprintf(out, cap, "NULL");
        return;
    }
    sql_buf b = {0};
    if (sql_value_out(v, NULL, &b, NULL) == DC_OK)
        snprintf(out, cap, "%.*s", (int)b.len,
                 b.data ? (const char *)b.data : "");
    else
        snprintf(out, cap, "?");
    sql_buf_free(&b);
}

static int collect_row(void *ud, const dc_value *vals, dc_error *err)
{
    (void)err;
    collect *c = ud;
    for (int i = 0; i < c->rel->ncols; i++)
        if (!vals[i].is_null && vals[i].type != c->rel->coltypes[i])
            fail_msg("%s col %d type %u != %u", c->rel->name, i, vals[i].type,
                     c->rel->coltypes[i]);
    if (c->filter_oid && (uint32_t)vals[c->filter_col].u.i != c->filter_oid)
        return DC_OK;
    c->rows++;
    char a[256], b[256];
    cell_text(&vals[c->filter_oid ? 1 : 0], a, sizeof a);
    cell_text(&vals[c->want_col], b, sizeof b);
    c->len += (size_t)snprintf(c->text + c->len, sizeof c->text - c->len,
                               "%s|%s\n", a, b);
    return DC_OK;
}

static collect *read_rel(fx *f, const char *schema, const char *name,
                         int want_col, uint32_t filter_oid, int filter_col)
{
    static collect c;
    memset(&c, 0, sizeof c);
    c.rel = sql_vrel_lookup(schema, name);
    assert_non_null(c.rel);
    c.want_col = want_col;
    c.filter_oid = filter_oid;
    c.filter_col = filter_col;
    dc_error err;
    dc_error_init(&err);
    int rc = c.rel->rows(&f->ctx, c.rel, collect_row, &c, &err);
    if (rc != DC_OK)
        fail_msg("%s: %s", name, err.message);
    return &c;
}

static int col_of(const sql_vrel *r, const char *name)
{
    for (int i = 0; i < r->ncols; i++)
        if (!strcmp(r->colnames[i], name))
            return i;
    fail_msg("no column %s in %s", name, r->name);
    return -1;
}

static void test_vcatalog(void **state)
{
    fx *f = *state;
    run(f,
        "create table vt (id int primary key, name varchar(20) not null, "
        "amount numeric(8,2) default 0, unique (name), check (amount >= 0))");
    run(f, "create index on vt (amount desc)");
    run(f, "create view vv as select 1 as one");
    begin(f);
    stmt_ctx(f);
    const sql_table *t = table(f->ctx.cat, "vt");
    assert_non_null(t);

    /* Every relation produces rows of its own width. */
    static const char *const all[][2] = {
        {"pg_catalog", "pg_namespace"},
        {"pg_catalog", "pg_class"},
        {"pg_catalog", "pg_attribute"},
        {"pg_catalog", "pg_type"},
        {"pg_catalog", "pg_index"},
        {"pg_catalog", "pg_constraint"},
        {"pg_catalog", "pg_attrdef"},
        {"pg_catalog", "pg_database"},
        {"pg_catalog", "pg_roles"},
        {"pg_catalog", "pg_user"},
        {"pg_catalog", "pg_settings"},
        {"pg_catalog", "pg_tables"},
        {"pg_catalog", "pg_views"},
        {"pg_catalog", "pg_indexes"},
        {"pg_catalog", "pg_description"},
        {"pg_catalog", "pg_am"},
        {"pg_catalog", "pg_proc"},
        {"pg_catalog", "pg_inherits"},
        {"pg_catalog", "pg_tablespace"},
        {"pg_catalog", "pg_collation"},
        {"pg_catalog", "pg_extension"},
        {"pg_catalog", "pg_trigger"},
        {"pg_catalog", "pg_policy"},
        {"pg_catalog", "pg_statistic_ext"},
        {"pg_catalog", "pg_publication"},
        {"information_schema", "tables"},
        {"information_schema", "columns"},
        {"information_schema", "schemata"},
        {"information_schema", "table_constraints"},
        {"information_schema", "key_column_usage"},
        {"information_schema", "views"}};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        const sql_vrel *r = sql_vrel_lookup(all[i][0], all[i][1]);
        assert_non_null(r);
        assert_true(r->oid < SQL_FIRST_USER_OID);
        read_rel(f, all[i][0], all[i][1], 0, 0, 0);
    }
    assert_ptr_equal(sql_vrel_lookup(NULL, "pg_class"),
                     sql_vrel_lookup("pg_catalog", "pg_class"));
    assert_null(sql_vrel_lookup(NULL, "nosuch"));

    /* pg_class: the table, its indexes, the view, and pg_class itself. */
    const sql_vrel *pc = sql_vrel_lookup(NULL, "pg_class");
    collect *c = read_rel(f, NULL, "pg_class", col_of(pc, "relkind"), 0, 0);
    char line[128];
    snprintf(line, sizeof line, "%u|r\n", t->oid);
    assert_non_null(strstr(c->text, line));
    snprintf(line, sizeof line, "%u|i\n", t->pkey->oid);
    assert_non_null(strstr(c->text, line));
    snprintf(line, sizeof line, "%u|v\n",
             sql_catalog_view(f->ctx.cat, NULL, "vv")->oid);
    assert_non_null(strstr(c->text, line));
    snprintf(line, sizeof line, "%u|r\n", pc->oid);
    assert_non_null(strstr(c->text, line));
    c = read_rel(f, NULL, "pg_class", col_of(pc, "relname"), t->oid, 0);
    assert_string_equal(c->text, "vt|vt\n");
    c = read_rel(f, NULL, "pg_class", col_of(pc, "relnatts"), t->oid, 0);
    assert_string_equal(c->text, "vt|3\n");

    /* pg_attribute of the table, in attnum order. */
    const sql_vrel *pa = sql_vrel_lookup(NULL, "pg_attribute");
    c = read_rel(f, NULL, "pg_attribute", col_of(pa, "atttypid"), t->oid, 0);
    assert_string_equal(c->text, "id|23\nname|1043\namount|1700\n");
    c = read_rel(f, NULL, "pg_attribute", col_of(pa, "attnotnull"), t->oid, 0);
    assert_string_equal(c->text, "id|t\nname|t\namount|f\n");
    c = read_rel(f, NULL, "pg_attribute", col_of(pa, "atthasdef"), t->oid, 0);
    assert_string_equal(c->text, "id|f\nname|f\namount|t\n");
    c = read_rel(f, NULL, "pg_attribute", col_of(pa, "atttypmod"), t->oid, 0);
    assert_string_equal(c->text, "id|-1\nname|24\namount|524294\n");

    /* pg_index: key columns and options as int2vector text. */
    const sql_vrel *pi = sql_vrel_lookup(NULL, "pg_index");
    const sql_index *amt = sql_catalog_index(f->ctx.cat, NULL, "vt_amount_idx");
    assert_non_null(amt);
    /* (filter column 0 is indexrelid; the first cell printed is column 1) */
    c = read_rel(f, NULL, "pg_index", col_of(pi, "indkey"), amt->oid, 0);
    snprintf(line, sizeof line, "%u|3\n", t->oid);
    assert_string_equal(c->text, line);
    c = read_rel(f, NULL, "pg_index", col_of(pi, "indoption"), amt->oid, 0);
    snprintf(line, sizeof line, "%u|3\n", t->oid);
    assert_string_equal(c->text, line);

    /* pg_constraint: p, u and c rows of the table. */
    const sql_vrel *pk = sql_vrel_lookup(NULL, "pg_constraint");
    c = read_rel(f, NULL, "pg_constraint", col_of(pk, "contype"), t->oid,
                 col_of(pk, "conrelid"));
    assert_int_equal(c->rows, 3);
    assert_non_null(strstr(c->text, "|p\n"));
    assert_non_null(strstr(c->text, "|u\n"));
    assert_non_null(strstr(c->text, "|c\n"));

    /* Definition texts. */
    char *def = sql_vcat_constraintdef(f->ctx.cat, t->pkey->oid);
    assert_string_equal(def, "PRIMARY KEY (id)");
    free(def);
    def = sql_vcat_indexdef(f->ctx.cat, amt->oid);
    assert_string_equal(
        def,
        "CREATE INDEX vt_amount_idx ON public.vt USING btree (amount DESC)");
    free(def);
    assert_null(sql_vcat_indexdef(f->ctx.cat, 1));
    def = sql_vcat_viewdef(f->ctx.cat,
                           sql_catalog_view(f->ctx.cat, NULL, "vv")->oid);
    assert_string_equal(def, "select 1 as one");
    free(def);
    def = sql_vcat_constraintdef(f->ctx.cat, t->indexes[1]->oid);
    assert_string_equal(def, "UNIQUE (name)");
    free(def);
    /* A check's oid is derived from its table's (vcatalog.c). */
    def = sql_vcat_constraintdef(
        f->ctx.cat, 0x80000000u | (t->oid - SQL_FIRST_USER_OID) << 8);
    assert_string_equal(def, "CHECK ((amount >= 0))");
    free(def);

    /* information_schema.columns and pg_database. */
    const sql_vrel *ic = sql_vrel_lookup("information_schema", "columns");
    c = read_rel(f, "information_schema", "columns", col_of(ic, "data_type"), 0,
                 0);
    assert_non_null(strstr(c->text, "testdb|character varying\n"));
    /* pg_database lists the store's databases ("default" in a new one). */
    c = read_rel(f, NULL, "pg_database", 1, 0, 0);
    assert_string_equal(c->text, "5|default\n");
    c = read_rel(f, NULL, "pg_roles", 0, 0, 0);
    assert_string_equal(c->text, "tester|tester\n");
    abort_txn(f);
}

/* A volatile default is computed row by row; dropping a primary key
 * column rekeys the rows. */
static void test_alter_rewrites(void **state)
{
    fx *f = *state;
    char buf[256];
    run(f, "create table r (id int primary key, x int)");
    begin(f);
    for (int i = 1; i <= 20; i++)
        insert_ints(f, "r", 2, (int[]){i, i * 10});
    commit(f);
    run(f, "alter table r add column rnd float8 default random()");
    const sql_table *t = table(f->env.eng.catalog, "r");
    assert_true(t->cols[2].missing.is_null);
    begin(f);
    stmt_ctx(f);
    dc_error err;
    dc_error_init(&err);
    sql_scan *s = NULL;
    assert_int_equal(sql_table_scan_open(f->txn, SQL_READ_SNAPSHOT, t, NULL, 0,
                                         NULL, 0, &s, &err),
                     DC_OK);
    double seen[20];
    int n = 0;
    for (;;) {
        dc_value vals[3];
        bool valid = false;
        assert_int_equal(
            sql_scan_next(s, &f->ctx.mem, vals, NULL, NULL, &valid, &err),
            DC_OK);
        if (!valid)
            break;
        assert_false(vals[2].is_null);
        assert_true(vals[2].u.f >= 0 && vals[2].u.f < 1);
        assert_true(n < 20);
        seen[n++] = vals[2].u.f;
    }
    sql_scan_close(s);
    assert_int_equal(n, 20);
    int distinct = 0;
    for (int i = 0; i < n; i++) {
        bool dup = false;
        for (int k = 0; k < i; k++)
            dup |= seen[k] == seen[i];
        distinct += !dup;
    }
    assert_true(distinct > 1);
    abort_txn(f);

    run(f, "alter table r drop column rnd, drop column id");
    t = table(f->env.eng.catalog, "r");
    assert_null(t->pkey);
    assert_int_equal(t->nindexes, 0);
    begin(f);
    dump_ints(f, "r", buf, sizeof buf);
    char want[256];
    size_t wl = 0;
    for (int i = 1; i <= 20; i++)
        wl += (size_t)snprintf(want + wl, sizeof want - wl, "%d;", i * 10);
    assert_string_equal(buf, want);
    abort_txn(f);
}

/* ALTER COLUMN TYPE converts every row (assignment cast or USING) and
 * rebuilds the indexes over the column. */
static void test_alter_type(void **state)
{
    fx *f = *state;
    char buf[256];
    run(f, "create table ty (a int primary key, b int, c int)");
    run(f, "create index on ty (b)");
    begin(f);
    insert_ints(f, "ty", 3, (int[]){1, 30, 5});
    insert_ints(f, "ty", 3, (int[]){2, 10, 6});
    commit(f);
    run(f, "alter table ty alter column a type int8, alter column b type int2");
    const sql_table *t = table(f->env.eng.catalog, "ty");
    assert_int_equal(t->cols[0].type, DC_TYPE_INT8);
    assert_int_equal(t->cols[1].type, DC_TYPE_INT2);
    begin(f);
    dump_ints(f, "ty", buf, sizeof buf);
    assert_string_equal(buf, "1,30,5;2,10,6;");
    /* The index over b was rebuilt with int2 keys: scan it in order. */
    const sql_index *ix = sql_catalog_index(txn_cat(f), NULL, "ty_b_idx");
    assert_non_null(ix);
    stmt_ctx(f);
    dc_error err;
    dc_error_init(&err);
    sql_scan *s = NULL;
    assert_int_equal(sql_index_scan_open(f->txn, SQL_READ_SNAPSHOT,
                                         table(txn_cat(f), "ty"), ix, NULL, 0,
                                         NULL, 0, &s, &err),
                     DC_OK);
    dc_value vals[3];
    bool valid = false;
    assert_int_equal(
        sql_scan_next(s, &f->ctx.mem, vals, NULL, NULL, &valid, &err), DC_OK);
    assert_true(valid);
    assert_int_equal(vals[1].type, DC_TYPE_INT2);
    assert_int_equal(vals[1].u.i, 10);
    sql_scan_close(s);
    ddl_fails(f, "alter table ty alter column c type bool", "42804",
              "column \"c\" cannot be cast automatically to type boolean");
    ddl_ok(f, "alter table ty alter column c type bool using c > 5");
    ddl_fails(f, "alter table ty alter column nosuch type int", "42703",
              "column \"nosuch\" of relation \"ty\" does not exist");
    commit(f);
    t = table(f->env.eng.catalog, "ty");
    assert_int_equal(t->cols[2].type, DC_TYPE_BOOL);
    begin(f);
    dump_ints(f, "ty", buf, sizeof buf);
    assert_string_equal(buf, "1,30,f;2,10,t;");
    abort_txn(f);
}

/* CREATE TABLE AS: columns from the query, its rows, tag "SELECT n";
 * ANALYZE's row counts. */
static void test_create_table_as(void **state)
{
    fx *f = *state;
    char buf[256];
    run(f, "create table src (a int, b int)");
    begin(f);
    insert_ints(f, "src", 2, (int[]){1, 10});
    insert_ints(f, "src", 2, (int[]){2, 20});
    insert_ints(f, "src", 2, (int[]){3, 30});
    commit(f);
    run(f, "create table dst as select b, a * 2 as twice, 'x' as t from src "
           "where a > 1");
    assert_string_equal(f->tag, "SELECT 2");
    const sql_table *t = table(f->env.eng.catalog, "dst");
    assert_non_null(t);
    assert_int_equal(t->natts, 3);
    assert_string_equal(t->cols[0].name, "b");
    assert_string_equal(t->cols[1].name, "twice");
    assert_int_equal(t->cols[1].type, DC_TYPE_INT4);
    assert_int_equal(t->cols[2].type, DC_TYPE_TEXT);
    run(f, "create table if not exists dst as select 1");
    assert_string_equal(f->tag, "CREATE TABLE AS");
    assert_string_equal(f->notices[0],
                        "42P07 relation \"dst\" already exists, skipping");
    /* ANALYZE stores row counts for the planner. */
    begin(f);
    stmt_ctx(f);
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_catalog_analyze(&f->ctx, "src", &err), DC_OK);
    assert_int_equal(table(f->ctx.cat, "src")->est_rows, 3);
    assert_int_equal(sql_catalog_analyze(&f->ctx, NULL, &err), DC_OK);
    assert_int_equal(table(f->ctx.cat, "dst")->est_rows, 2);
    assert_int_equal(sql_catalog_analyze(&f->ctx, "nosuch", &err),
                     DC_ENOTFOUND);
    assert_string_equal(err.sqlstate, "42P01");
    commit(f);
    assert_int_equal(table(f->env.eng.catalog, "src")->est_rows, 3);
    run(f, "create table dst2 as select a from src order by a desc");
    begin(f);
    dump_ints(f, "dst2", buf, sizeof buf);
    assert_string_equal(buf, "3;2;1;");
    abort_txn(f);
}

/* Two transactions cannot change the catalog at once: the second waits
 * for the DDL lock (here until its lock timeout). */
static void test_ddl_lock(void **state)
{
    fx *f = *state;
    begin(f);
    ddl_ok(f, "create table l1 (a int)");
    sql_txn *other = NULL;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_txn_begin(&f->env.eng, SQL_ISO_READ_COMMITTED, false,
                                   20, NULL, &other, &err),
                     DC_OK);
    sql_txn *mine = f->txn;
    f->txn = other;
    ddl_fails(f, "create table l2 (a int)", "55P03", NULL);
    f->txn = mine;
    sql_txn_abort(other);
    commit(f);
    assert_non_null(table(f->env.eng.catalog, "l1"));
    assert_null(table(f->env.eng.catalog, "l2"));
    /* Once released, the next transaction gets it. */
    run(f, "create table l2 (a int)");
    assert_non_null(table(f->env.eng.catalog, "l2"));
}

/* The view text is cut out of a source holding several statements. */
static void test_view_text(void **state)
{
    fx *f = *state;
    const char *src =
        "select 1; create view vx as select 2 as two ;\n select 3";
    sql_arena *pa = NULL;
    sql_list *stmts = NULL;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_parse(src, strlen(src), &pa, &stmts, &err), DC_OK);
    assert_int_equal(SQL_LIST_LEN(stmts), 3);
    begin(f);
    stmt_ctx(f);
    assert_int_equal(sql_ddl_exec(&f->ctx, stmts->items[1], src, f->tag,
                                  sizeof f->tag, NULL, NULL, &err),
                     DC_OK);
    sql_arena_free(pa);
    commit(f);
    const sql_view *v = sql_catalog_view(f->env.eng.catalog, NULL, "vx");
    assert_non_null(v);
    assert_string_equal(v->query, "select 2 as two");
    assert_string_equal(v->colnames[0], "two");
    assert_int_equal(v->coltypes[0], DC_TYPE_INT4);
}

/* Readers take references while a writer publishes new catalogs: every
 * reader sees versions only grow, and nothing is freed under it (ASan). */
typedef struct pub_reader {
    sql_engine *eng;
    _Atomic int *stop;
    int bad;
    long reads;
} pub_reader;

static void *reader_main(void *arg)
{
    pub_reader *r = arg;
    uint64_t last = 0;
    while (!atomic_load(r->stop)) {
        sql_catalog *c = sql_engine_catalog(r->eng);
        uint64_t v = sql_catalog_version(c);
        if (v < last || !table(c, "base"))
            r->bad++;
        last = v;
        sql_catalog_unref(c);
        r->reads++;
    }
    return NULL;
}

static void test_publish_threads(void **state)
{
    fx *f = *state;
    run(f, "create table base (a int)");
    _Atomic int stop;
    atomic_init(&stop, 0);
    pub_reader rd[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        rd[i] = (pub_reader){.eng = &f->env.eng, .stop = &stop};
        assert_int_equal(pthread_create(&th[i], NULL, reader_main, &rd[i]), 0);
    }
    uint64_t v0 = sql_catalog_version(f->env.eng.catalog);
    for (int i = 0; i < 300; i++) {
        sql_catalog *cur = sql_engine_catalog(&f->env.eng);
        sql_catalog *next = NULL;
        dc_error err;
        dc_error_init(&err);
        assert_int_equal(sql_catalog_clone(cur, &next, &err), DC_OK);
        sql_catalog_unref(cur);
        sql_catalog_publish(&f->env.eng, next);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(rd[i].bad, 0);
    }
    assert_true(sql_catalog_version(f->env.eng.catalog) >= v0 + 300);
    /* Two copies of one catalog never share a version. */
    sql_catalog *c1 = NULL, *c2 = NULL;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_catalog_clone(f->env.eng.catalog, &c1, &err), DC_OK);
    assert_int_equal(sql_catalog_clone(f->env.eng.catalog, &c2, &err), DC_OK);
    assert_int_not_equal(sql_catalog_version(c1), sql_catalog_version(c2));
    assert_true(sql_catalog_version(c1) > v0 + 300);
    sql_catalog_unref(c1);
    sql_catalog_unref(c2);
}

/* ==== main =================================================================
 */

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest tests[] = {
    T(test_create_table), T(test_persist_and_reopen), T(test_rollback),
    T(test_errors),       T(test_drop_truncate),      T(test_alter_columns),
    T(test_alter_keys),   T(test_vcatalog),           T(test_alter_rewrites),
    T(test_ddl_lock),     T(test_view_text),          T(test_publish_threads),
    T(test_alter_type),   T(test_create_table_as),
};

int main(void)
{
    int failed = 0;
    static const char *const engines[] = {"memory", "lsm"};
    for (size_t i = 0; i < 2; i++) {
        engine_name = engines[i];
        char group[64];
        snprintf(group, sizeof group, "sqlx_catalog/%s", engine_name);
        failed += _cmocka_run_group_tests(
            group, tests, sizeof tests / sizeof *tests, NULL, NULL);
    }
    return failed ? 1 : 0;
}
