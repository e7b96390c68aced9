/*
 * test_sqlx_scancols.c - scans that decode only some columns
 * (sql_scan_set_columns, tableam.h), over the memory and lsm storage
 * engines: asked-for columns keep their values (fixed-size ones without a
 * copy of the stored row, variable-length ones still valid after the scan
 * moves on), the others read as NULL of their type, rows written before
 * ADD COLUMN give the column's missing value, own uncommitted writes are
 * seen, and NULL restores every column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sql/tableam.h"
#include "sql_testutil.h"

static const char *g_module = "memory";
static sqlt_env E;
static sql_arena *A;
static sql_mem M;

/* t(a int4 primary key, b text, c int8), later d int4 added with a
 * missing value of 7. */
static sqlt_table T;

static int setup(void **state)
{
    (void)state;
    A = sql_arena_new();
    M = sqlt_mem(A);
    sqlt_table_init(&T, 21000, "t");
    sqlt_add_col(&T, "a", DC_TYPE_INT4, -1, true);
    sqlt_add_col(&T, "b", DC_TYPE_TEXT, -1, false);
    sqlt_add_col(&T, "c", DC_TYPE_INT8, -1, false);
    const int16_t a = 1;
    sqlt_add_index(&T, 21001, "t_pkey", true, true, 1, &a, NULL);
    return A ? sqlt_open(&E, g_module) : -1;
}

static int teardown(void **state)
{
    (void)state;
    sqlt_close(&E);
    sql_arena_free(A);
    A = NULL;
    return 0;
}

static sql_txn *begin(void)
{
    dc_error err;
    dc_error_init(&err);
    sql_txn *t = NULL;
    assert_int_equal(
        sql_txn_begin(&E.eng, SQL_ISO_READ_COMMITTED, false, 0, NULL, &t, &err),
        DC_OK);
    assert_int_equal(sql_txn_stmt_begin(t, &err), DC_OK);
    return t;
}

static void commit(sql_txn *t)
{
    dc_error err;
    dc_error_init(&err);
    if (sql_txn_commit(t, &err) != DC_OK)
        fail_msg("commit: %s", err.message);
}

static void ins(sql_txn *t, int64_t a, const char *b, int64_t c)
{
    dc_value v[4] = {sql_value_int(DC_TYPE_INT4, a),
                     b ? sql_value_bytes(DC_TYPE_TEXT, b, strlen(b))
                       : sql_value_null(DC_TYPE_TEXT),
                     sql_value_int(DC_TYPE_INT8, c),
                     sql_value_int(DC_TYPE_INT4, a * 100)};
    dc_error err;
    dc_error_init(&err);
    if (sql_table_insert(t, &T.t, v, NULL, &err) != DC_OK)
        fail_msg("insert %lld: %s", (long long)a, err.message);
}

static void fmt_value(char *out, size_t cap, const dc_value *v)
{
    if (v->is_null)
        snprintf(out, cap, "-");
    else if (v->type == DC_TYPE_TEXT)
        snprintf(out, cap, "%.*s", (int)v->u.bytes.len,
                 (const char *)v->u.bytes.ptr);
    else
        snprintf(out, cap, "%lld", (long long)v->u.i);
}

/* Every row of the table, decoding the columns in `cols` (NULL: all), as
 * "a:b:c[:d];...".  All rows are collected first and printed after the
 * scan ended, so values must stay valid while the scan moves on.  Checks
 * that every value carries its column's type. */
static const char *scan_cols(sql_txn *t, const uint8_t *cols)
{
    static char out[4096];
    dc_value rows[16][4];
    int n = 0, natts = T.t.natts;
    dc_error err;
    dc_error_init(&err);
    sql_scan *s = NULL;
    assert_int_equal(sql_table_scan_open(t, SQL_READ_SNAPSHOT, &T.t, NULL, 0,
                                         NULL, 0, &s, &err),
                     DC_OK);
    assert_int_equal(sql_scan_set_columns(s, cols, &err), DC_OK);
    for (;;) {
        bool valid = false;
        assert_true(n < 16);
        assert_int_equal(
            sql_scan_next(s, &M, rows[n], NULL, NULL, &valid, &err), DC_OK);
        if (!valid)
            break;
        for (int i = 0; i < natts; i++)
            assert_int_equal(rows[n][i].type, T.t.cols[i].type);
        n++;
    }
    sql_scan_close(s);
    size_t o = 0;
    out[0] = '\0';
    for (int r = 0; r < n; r++) {
        for (int i = 0; i < natts; i++) {
            char v[64];
            fmt_value(v, sizeof v, &rows[r][i]);
            o += (size_t)snprintf(out + o, sizeof out - o, "%s%s",
                                  i ? ":" : (r ? ";" : ""), v);
        }
    }
    return out;
}

static void test_some_columns(void **state)
{
    (void)state;
    sql_txn *t = begin();
    ins(t, 1, "one", 10);
    ins(t, 2, NULL, 20);
    ins(t, 3, "three", 30);
    commit(t);
    t = begin();
    const uint8_t all[1] = {0x7}, only_c[1] = {0x4}, only_b[1] = {0x2},
                  a_b[1] = {0x3}, none[1] = {0};
    assert_string_equal(scan_cols(t, NULL), "1:one:10;2:-:20;3:three:30");
    assert_string_equal(scan_cols(t, all), "1:one:10;2:-:20;3:three:30");
    /* fixed-size columns only: decoded straight from the stored row */
    assert_string_equal(scan_cols(t, only_c), "-:-:10;-:-:20;-:-:30");
    /* a variable-length column: its bytes outlive the scan's position */
    assert_string_equal(scan_cols(t, only_b), "-:one:-;-:-:-;-:three:-");
    assert_string_equal(scan_cols(t, a_b), "1:one:-;2:-:-;3:three:-");
    assert_string_equal(scan_cols(t, none), "-:-:-;-:-:-;-:-:-");
    sql_txn_abort(t);
}

static void test_own_writes_and_reset(void **state)
{
    (void)state;
    sql_txn *t = begin();
    ins(t, 5, "five", 50);
    ins(t, 4, "four", 40);
    const uint8_t only_c[1] = {0x4};
    /* uncommitted rows of the transaction itself, through the same path */
    assert_string_equal(scan_cols(t, only_c), "-:-:40;-:-:50");
    dc_error err;
    dc_error_init(&err);
    sql_scan *s = NULL;
    assert_int_equal(sql_table_scan_open(t, SQL_READ_SNAPSHOT, &T.t, NULL, 0,
                                         NULL, 0, &s, &err),
                     DC_OK);
    assert_int_equal(sql_scan_set_columns(s, only_c, &err), DC_OK);
    dc_value v[3];
    bool valid = false;
    assert_int_equal(sql_scan_next(s, &M, v, NULL, NULL, &valid, &err), DC_OK);
    assert_true(valid);
    assert_true(v[0].is_null);
    assert_int_equal(v[2].u.i, 40);
    /* NULL: every column again, from the next row on */
    assert_int_equal(sql_scan_set_columns(s, NULL, &err), DC_OK);
    assert_int_equal(sql_scan_next(s, &M, v, NULL, NULL, &valid, &err), DC_OK);
    assert_true(valid);
    assert_false(v[0].is_null);
    assert_int_equal(v[0].u.i, 5);
    assert_false(v[1].is_null);
    assert_int_equal(v[1].u.bytes.len, 4);
    assert_memory_equal(v[1].u.bytes.ptr, "five", 4);
    assert_int_equal(v[2].u.i, 50);
    sql_scan_close(s);
    sql_txn_abort(t);
}

static void test_added_column(void **state)
{
    (void)state;
    sql_txn *t = begin();
    ins(t, 1, "old", 10); /* written with three columns */
    commit(t);
    /* ADD COLUMN d int4 with a missing value of 7 */
    sqlt_add_col(&T, "d", DC_TYPE_INT4, -1, false);
    T.t.cols[3].missing = sql_value_int(DC_TYPE_INT4, 7);
    t = begin();
    ins(t, 2, "new", 20); /* written with four columns: d = 200 */
    const uint8_t only_d[1] = {0x8}, only_a[1] = {0x1};
    assert_string_equal(scan_cols(t, only_d), "-:-:-:7;-:-:-:200");
    assert_string_equal(scan_cols(t, only_a), "1:-:-:-;2:-:-:-");
    assert_string_equal(scan_cols(t, NULL), "1:old:10:7;2:new:20:200");
    sql_txn_abort(t);
}

#define TC(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TC(test_some_columns),
        TC(test_own_writes_and_reset),
        TC(test_added_column),
    };
    int failed = 0;
    const char *mods[] = {"memory", "lsm"};
    for (size_t i = 0; i < 2; i++) {
        g_module = mods[i];
        char name[64];
        snprintf(name, sizeof name, "sqlx_scancols on %s", g_module);
        failed += _cmocka_run_group_tests(
            name, tests, sizeof tests / sizeof *tests, NULL, NULL);
    }
    return failed;
}
