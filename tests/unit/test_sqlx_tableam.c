/*
 * test_sqlx_tableam.c - rows and index entries (sql/tableam.h) over the
 * memory and lsm storage engines, with hand-made tables (no catalog):
 * row encoding round trips (every type, dropped and added columns),
 * insert / fetch / update (a primary key change moves the row) / delete,
 * PostgreSQL's exact 23505 and 23502 messages, unique indexes with NULLs,
 * index scans in key order with DESC flags and prefix bounds, TRUNCATE and
 * index builds, concurrent inserts of one key, rowid tables that never
 * reuse a rowid across a restart, and one transaction of 200,000 rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "sql/tableam.h"
#include "sql_testutil.h"

static const char *g_module = "memory";
static sqlt_env E;
static sql_arena *A;
static sql_mem M;

static int setup(void **state)
{
    (void)state;
    A = sql_arena_new();
    M = sqlt_mem(A);
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

/* ---- helpers ---------------------------------------------------------------
 */

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

static dc_value I4(int64_t v)
{
    return sql_value_int(DC_TYPE_INT4, v);
}

static dc_value I8(int64_t v)
{
    return sql_value_int(DC_TYPE_INT8, v);
}

static dc_value TX(const char *s)
{
    return s ? sql_value_bytes(DC_TYPE_TEXT, s, strlen(s))
             : sql_value_null(DC_TYPE_TEXT);
}

/* t(a int4 primary key, b text unique, c int8 not null), index t_c_idx on
 * (c DESC). */
static sqlt_table T;

static void make_t(void)
{
    sqlt_table_init(&T, 20000, "t");
    sqlt_add_col(&T, "a", DC_TYPE_INT4, -1, false);
    sqlt_add_col(&T, "b", DC_TYPE_TEXT, -1, false);
    sqlt_add_col(&T, "c", DC_TYPE_INT8, -1, true);
    const int16_t a = 1, b = 2, c = 3;
    const uint8_t desc = SQL_KEY_DESC;
    sqlt_add_index(&T, 20001, "t_pkey", true, true, 1, &a, NULL);
    sqlt_add_index(&T, 20002, "t_b_key", true, false, 1, &b, NULL);
    sqlt_add_index(&T, 20003, "t_c_idx", false, false, 1, &c, &desc);
}

static int insert3(sql_txn *t, int64_t a, const char *b, int64_t c, bool cnull,
                   dc_error *err)
{
    dc_value v[3] = {I4(a), TX(b),
                     cnull ? sql_value_null(DC_TYPE_INT8) : I8(c)};
    dc_error_init(err);
    return sql_table_insert(t, &T.t, v, NULL, err);
}

static void ins(sql_txn *t, int64_t a, const char *b, int64_t c)
{
    dc_error err;
    int rc = insert3(t, a, b, c, false, &err);
    if (rc != DC_OK)
        fail_msg("insert %lld: %s", (long long)a, err.message);
}

/* Rows of a scan as "a:b:c;..." (b "-" for NULL). */
static const char *rows_str(sql_scan *s)
{
    static char out[8192];
    size_t n = 0;
    out[0] = '\0';
    dc_error err;
    dc_error_init(&err);
    for (;;) {
        dc_value v[3];
        bool valid = false;
        const uint8_t *k;
        size_t kn;
        assert_int_equal(sql_scan_next(s, &M, v, &k, &kn, &valid, &err), DC_OK);
        if (!valid)
            break;
        assert_true(kn > 4);
        n += (size_t)snprintf(
            out + n, sizeof out - n, "%s%lld:%.*s:%lld", n ? ";" : "",
            (long long)v[0].u.i, v[1].is_null ? 1 : (int)v[1].u.bytes.len,
            v[1].is_null ? "-" : (const char *)v[1].u.bytes.ptr,
            (long long)v[2].u.i);
    }
    sql_scan_close(s);
    return out;
}

static const char *table_rows(sql_txn *t, int mode)
{
    dc_error err;
    dc_error_init(&err);
    sql_scan *s = NULL;
    assert_int_equal(
        sql_table_scan_open(t, mode, &T.t, NULL, 0, NULL, 0, &s, &err), DC_OK);
    return rows_str(s);
}

static const char *index_rows(sql_txn *t, int ix, const sql_buf *lo,
                              const sql_buf *hi)
{
    dc_error err;
    dc_error_init(&err);
    sql_scan *s = NULL;
    assert_int_equal(sql_index_scan_open(t, SQL_READ_SNAPSHOT, &T.t,
                                         T.t.indexes[ix], lo ? lo->data : NULL,
                                         lo ? lo->len : 0, hi ? hi->data : NULL,
                                         hi ? hi->len : 0, &s, &err),
                     DC_OK);
    return rows_str(s);
}

/* Fetch by primary key a; "" when absent. */
static const char *fetch(sql_txn *t, int64_t a)
{
    static char out[256];
    dc_error err;
    dc_error_init(&err);
    sql_buf key = {0};
    dc_value pk = I4(a);
    assert_int_equal(sql_row_key_prefix(&T.t, &pk, 1, &key, &err), DC_OK);
    dc_value v[3];
    bool found = false;
    assert_int_equal(sql_table_fetch(t, SQL_READ_SNAPSHOT, &T.t, key.data,
                                     key.len, &M, v, &found, &err),
                     DC_OK);
    sql_buf_free(&key);
    if (!found)
        return "";
    snprintf(out, sizeof out, "%lld:%.*s:%lld", (long long)v[0].u.i,
             v[1].is_null ? 1 : (int)v[1].u.bytes.len,
             v[1].is_null ? "-" : (const char *)v[1].u.bytes.ptr,
             (long long)v[2].u.i);
    return out;
}

/* ---- row encoding
 * ------------------------------------------------------------ */

static void test_row_roundtrip(void **state)
{
    (void)state;
    sqlt_table st;
    sqlt_table_init(&st, 30000, "all");
    uint32_t types[] = {DC_TYPE_BOOL,   DC_TYPE_INT2,      DC_TYPE_INT4,
                        DC_TYPE_INT8,   DC_TYPE_OID,       DC_TYPE_FLOAT4,
                        DC_TYPE_FLOAT8, DC_TYPE_TEXT,      DC_TYPE_VARCHAR,
                        DC_TYPE_BPCHAR, DC_TYPE_BYTEA,     DC_TYPE_NUMERIC,
                        DC_TYPE_DATE,   DC_TYPE_TIMESTAMP, DC_TYPE_TIMESTAMPTZ};
    int n = (int)(sizeof types / sizeof *types);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        sqlt_add_col(&st, name, types[i], -1, false);
    }
    dc_value v[16];
    v[0] = sql_value_bool(true);
    v[1] = sql_value_int(DC_TYPE_INT2, -32768);
    v[2] = sql_value_int(DC_TYPE_INT4, -5);
    v[3] = sql_value_int(DC_TYPE_INT8, INT64_MIN);
    v[4] = sql_value_int(DC_TYPE_OID, 4000000000);
    v[5] = sql_value_float(DC_TYPE_FLOAT4, 1.5);
    v[6] = sql_value_float(DC_TYPE_FLOAT8, -0.1);
    v[7] = sql_value_bytes(DC_TYPE_TEXT, "", 0);
    v[8] = sql_value_null(DC_TYPE_VARCHAR);
    v[9] = sql_value_bytes(DC_TYPE_BPCHAR, "ab ", 3);
    char big[300];
    memset(big, 0, sizeof big);
    v[10] = sql_value_bytes(DC_TYPE_BYTEA, big, sizeof big);
    v[11] = sql_value_bytes(DC_TYPE_NUMERIC, "-12.340", 7);
    v[12] = sql_value_int(DC_TYPE_DATE, -730000);
    v[13] = sql_value_int(DC_TYPE_TIMESTAMP, 1234567890123);
    v[14] = sql_value_int(DC_TYPE_TIMESTAMPTZ, -1);
    dc_error err;
    dc_error_init(&err);
    sql_buf b = {0};
    assert_int_equal(sql_row_encode(&st.t, v, &b, &err), DC_OK);
    dc_value o[16];
    assert_int_equal(sql_row_decode(&st.t, b.data, b.len, &M, o, &err), DC_OK);
    for (int i = 0; i < n; i++) {
        assert_int_equal(o[i].type, types[i]);
        assert_int_equal(o[i].is_null, v[i].is_null);
        if (v[i].is_null)
            continue;
        switch (types[i]) {
        case DC_TYPE_BOOL:
            assert_true(o[i].u.b == v[i].u.b);
            break;
        case DC_TYPE_FLOAT4:
        case DC_TYPE_FLOAT8:
            assert_true(o[i].u.f == v[i].u.f);
            break;
        case DC_TYPE_TEXT:
        case DC_TYPE_BPCHAR:
        case DC_TYPE_BYTEA:
        case DC_TYPE_NUMERIC:
            assert_int_equal(o[i].u.bytes.len, v[i].u.bytes.len);
            if (v[i].u.bytes.len)
                assert_memory_equal(o[i].u.bytes.ptr, v[i].u.bytes.ptr,
                                    v[i].u.bytes.len);
            break;
        default:
            assert_true(o[i].u.i == v[i].u.i);
        }
    }
    /* Without mem: malloc'd copies. */
    assert_int_equal(sql_row_decode(&st.t, b.data, b.len, NULL, o, &err),
                     DC_OK);
    for (int i = 0; i < n; i++)
        if (!o[i].is_null &&
            (types[i] == DC_TYPE_TEXT || types[i] == DC_TYPE_BPCHAR ||
             types[i] == DC_TYPE_BYTEA || types[i] == DC_TYPE_NUMERIC))
            free((void *)o[i].u.bytes.ptr);
    /* A column added later reads as its `missing` value; a dropped one as
     * NULL; truncated input is corrupt. */
    sqlt_add_col(&st, "added", DC_TYPE_INT4, -1, false);
    st.cols[n].missing = sql_value_int(DC_TYPE_INT4, 42);
    st.cols[2].dropped = true;
    assert_int_equal(sql_row_decode(&st.t, b.data, b.len, &M, o, &err), DC_OK);
    assert_true(o[2].is_null);
    assert_false(o[3].is_null);
    assert_true(o[3].u.i == INT64_MIN);
    assert_false(o[n].is_null);
    assert_int_equal(o[n].u.i, 42);
    assert_int_equal(sql_row_decode(&st.t, b.data, b.len - 1, &M, o, &err),
                     DC_ECORRUPT);
    sql_buf_free(&b);
}

/* char(n) values are stored without their trailing pad and read back
 * padded to n characters, however they are decoded; rows stored padded
 * (written before) read the same; bpchar without a length and other
 * string types keep their spaces. */
static void test_bpchar_stored_unpadded(void **state)
{
    (void)state;
    sqlt_table st, plain;
    sqlt_table_init(&st, 30001, "chars");
    sqlt_add_col(&st, "a", DC_TYPE_BPCHAR, 8 + 4, false);  /* char(8) */
    sqlt_add_col(&st, "b", DC_TYPE_BPCHAR, 3 + 4, false);  /* char(3) */
    sqlt_add_col(&st, "c", DC_TYPE_BPCHAR, -1, false);     /* bpchar  */
    sqlt_add_col(&st, "d", DC_TYPE_TEXT, -1, false);
    sqlt_add_col(&st, "e", DC_TYPE_BPCHAR, 4 + 4, false);  /* char(4) */
    /* The same columns with no lengths: nothing trimmed. */
    sqlt_table_init(&plain, 30002, "plain");
    for (int i = 0; i < 5; i++)
        sqlt_add_col(&plain, st.t.cols[i].name, st.t.cols[i].type, -1, false);
    dc_value v[5];
    v[0] = sql_value_bytes(DC_TYPE_BPCHAR, "xy      ", 8);
    v[1] = sql_value_bytes(DC_TYPE_BPCHAR, "\xc3\xa9  ", 4); /* 'é' + 2 */
    v[2] = sql_value_bytes(DC_TYPE_BPCHAR, "z  ", 3);
    v[3] = sql_value_bytes(DC_TYPE_TEXT, "t  ", 3);
    v[4] = sql_value_bytes(DC_TYPE_BPCHAR, "    ", 4);
    dc_error err;
    dc_error_init(&err);
    sql_buf b = {0}, p = {0};
    assert_int_equal(sql_row_encode(&st.t, v, &b, &err), DC_OK);
    assert_int_equal(sql_row_encode(&plain.t, v, &p, &err), DC_OK);
    /* 6 + 2 + 4 spaces fewer than the padded row. */
    assert_int_equal(b.len + 12, p.len);
    const char *want[5] = {"xy      ", "\xc3\xa9  ", "z  ", "t  ", "    "};
    const sql_buf *rows[2] = {&b, &p};
    for (int r = 0; r < 2; r++) {
        dc_value o[5];
        assert_int_equal(
            sql_row_decode(&st.t, rows[r]->data, rows[r]->len, &M, o, &err),
            DC_OK);
        for (int i = 0; i < 5; i++) {
            assert_false(o[i].is_null);
            assert_int_equal(o[i].u.bytes.len, strlen(want[i]));
            assert_memory_equal(o[i].u.bytes.ptr, want[i], strlen(want[i]));
        }
        assert_int_equal(
            sql_row_decode(&st.t, rows[r]->data, rows[r]->len, NULL, o, &err),
            DC_OK);
        for (int i = 0; i < 5; i++) {
            assert_int_equal(o[i].u.bytes.len, strlen(want[i]));
            assert_memory_equal(o[i].u.bytes.ptr, want[i], strlen(want[i]));
            free((void *)o[i].u.bytes.ptr);
        }
    }
    /* Stored, read back through a scan of chosen columns. */
    sql_txn *t = begin();
    assert_int_equal(sql_table_insert(t, &st.t, v, NULL, &err), DC_OK);
    sql_scan *s = NULL;
    assert_int_equal(sql_table_scan_open(t, SQL_READ_SNAPSHOT, &st.t, NULL, 0,
                                         NULL, 0, &s, &err),
                     DC_OK);
    uint8_t cols[1] = {0x01 | 0x02}; /* a and b */
    assert_int_equal(sql_scan_set_columns(s, cols, &err), DC_OK);
    dc_value o[5];
    bool valid = false;
    assert_int_equal(sql_scan_next(s, &M, o, NULL, NULL, &valid, &err), DC_OK);
    assert_true(valid);
    assert_int_equal(o[0].u.bytes.len, 8);
    assert_memory_equal(o[0].u.bytes.ptr, "xy      ", 8);
    assert_int_equal(o[1].u.bytes.len, 4);
    assert_memory_equal(o[1].u.bytes.ptr, "\xc3\xa9  ", 4);
    assert_true(o[2].is_null);
    sql_scan_close(s);
    sql_txn_abort(t);
    sql_buf_free(&b);
    sql_buf_free(&p);
}

/* ---- modifications
 * ------------------------------------------------------------ */

static void test_insert_fetch_update_delete(void **state)
{
    (void)state;
    make_t();
    dc_error err;
    sql_txn *t = begin();
    ins(t, 1, "x", 10);
    ins(t, 2, "y", 20);
    ins(t, 3, NULL, 30);
    ins(t, 4, NULL, 40); /* NULLs are distinct in a unique index */
    assert_string_equal(fetch(t, 2), "2:y:20");
    assert_string_equal(fetch(t, 9), "");

    /* Exact PostgreSQL messages. */
    assert_int_equal(insert3(t, 1, "z", 5, false, &err), DC_EEXIST);
    assert_string_equal(err.sqlstate, "23505");
    assert_string_equal(err.message, "duplicate key value violates unique "
                                     "constraint \"t_pkey\"");
    assert_string_equal(err.detail, "Key (a)=(1) already exists.");
    assert_int_equal(insert3(t, 5, "x", 1, false, &err), DC_EEXIST);
    assert_string_equal(err.message, "duplicate key value violates unique "
                                     "constraint \"t_b_key\"");
    assert_string_equal(err.detail, "Key (b)=(x) already exists.");
    assert_int_equal(insert3(t, 6, "q", 0, true, &err), DC_EINVAL);
    assert_string_equal(err.sqlstate, "23502");
    assert_string_equal(err.message, "null value in column \"c\" of relation "
                                     "\"t\" violates not-null constraint");
    assert_string_equal(err.detail, "Failing row contains (6, q, null).");
    /* The failed inserts left nothing (not even index entries). */
    assert_string_equal(fetch(t, 5), "");
    assert_string_equal(index_rows(t, 2, NULL, NULL),
                        "4:-:40;3:-:30;2:y:20;1:x:10");
    commit(t);

    t = begin();
    /* Update b of row 1: the unique index follows. */
    sql_buf key = {0};
    dc_value pk = I4(1);
    assert_int_equal(sql_row_key_prefix(&T.t, &pk, 1, &key, &err), DC_OK);
    assert_int_equal(sql_txn_lock_row(t, key.data, key.len, NULL, &err), DC_OK);
    dc_value oldv[3] = {I4(1), TX("x"), I8(10)};
    dc_value newv[3] = {I4(1), TX("w"), I8(10)};
    assert_int_equal(
        sql_table_update(t, &T.t, key.data, key.len, oldv, newv, &err), DC_OK);
    assert_string_equal(fetch(t, 1), "1:w:10");
    assert_string_equal(index_rows(t, 1, NULL, NULL),
                        "1:w:10;2:y:20;3:-:30;4:-:40");
    ins(t, 7, "x", 70); /* "x" is free again */

    /* Primary key change moves the row; index entries follow. */
    dc_value o2[3] = {I4(2), TX("y"), I8(20)};
    dc_value n2[3] = {I4(12), TX("y"), I8(21)};
    pk = I4(2);
    assert_int_equal(sql_row_key_prefix(&T.t, &pk, 1, &key, &err), DC_OK);
    assert_int_equal(sql_table_update(t, &T.t, key.data, key.len, o2, n2, &err),
                     DC_OK);
    assert_string_equal(fetch(t, 2), "");
    assert_string_equal(fetch(t, 12), "12:y:21");
    assert_string_equal(index_rows(t, 1, NULL, NULL),
                        "1:w:10;7:x:70;12:y:21;3:-:30;4:-:40");
    assert_string_equal(index_rows(t, 2, NULL, NULL),
                        "7:x:70;4:-:40;3:-:30;12:y:21;1:w:10");
    /* Moving onto an existing key, a unique value or NULL: refused. */
    dc_value o3[3] = {I4(3), TX(NULL), I8(30)};
    dc_value n3[3] = {I4(1), TX(NULL), I8(30)};
    pk = I4(3);
    assert_int_equal(sql_row_key_prefix(&T.t, &pk, 1, &key, &err), DC_OK);
    assert_int_equal(sql_table_update(t, &T.t, key.data, key.len, o3, n3, &err),
                     DC_EEXIST);
    assert_string_equal(err.detail, "Key (a)=(1) already exists.");
    dc_value n3b[3] = {I4(3), TX("y"), I8(30)};
    assert_int_equal(
        sql_table_update(t, &T.t, key.data, key.len, o3, n3b, &err), DC_EEXIST);
    assert_string_equal(err.detail, "Key (b)=(y) already exists.");
    dc_value n3c[3] = {I4(3), TX(NULL), sql_value_null(DC_TYPE_INT8)};
    assert_int_equal(
        sql_table_update(t, &T.t, key.data, key.len, o3, n3c, &err), DC_EINVAL);
    assert_string_equal(err.detail, "Failing row contains (3, null, null).");
    assert_string_equal(fetch(t, 3), "3:-:30");

    /* Delete. */
    pk = I4(4);
    dc_value o4[3] = {I4(4), TX(NULL), I8(40)};
    assert_int_equal(sql_row_key_prefix(&T.t, &pk, 1, &key, &err), DC_OK);
    assert_int_equal(sql_table_delete(t, &T.t, key.data, key.len, o4, &err),
                     DC_OK);
    commit(t);
    sql_buf_free(&key);

    t = begin();
    assert_string_equal(table_rows(t, SQL_READ_SNAPSHOT),
                        "1:w:10;3:-:30;7:x:70;12:y:21");
    assert_string_equal(index_rows(t, 0, NULL, NULL),
                        "1:w:10;3:-:30;7:x:70;12:y:21");
    assert_string_equal(index_rows(t, 1, NULL, NULL),
                        "1:w:10;7:x:70;12:y:21;3:-:30");
    assert_string_equal(index_rows(t, 2, NULL, NULL),
                        "7:x:70;3:-:30;12:y:21;1:w:10");
    sql_txn_abort(t);
}

static void test_index_bounds_and_find_conflict(void **state)
{
    (void)state;
    make_t();
    dc_error err;
    dc_error_init(&err);
    sql_txn *t = begin();
    for (int i = 1; i <= 20; i++) {
        char b[16];
        snprintf(b, sizeof b, "b%02d", i);
        ins(t, i, b, i % 5);
    }
    commit(t);
    t = begin();
    /* c = 3 on the DESC index: prefix .. successor(prefix). */
    sql_buf lo = {0}, hi = {0};
    dc_value c3 = I8(3);
    assert_int_equal(sql_index_key_prefix(T.t.indexes[2], &c3, 1, &lo, &err),
                     DC_OK);
    assert_int_equal(sql_buf_append(&hi, lo.data, lo.len, &err), DC_OK);
    assert_int_equal(sql_key_successor(&hi, &err), DC_OK);
    assert_string_equal(index_rows(t, 2, &lo, &hi),
                        "3:b03:3;8:b08:3;13:b13:3;18:b18:3");
    /* Primary key range [5, 8) through the primary index. */
    dc_value a5 = I4(5), a8 = I4(8);
    assert_int_equal(sql_index_key_prefix(T.t.indexes[0], &a5, 1, &lo, &err),
                     DC_OK);
    assert_int_equal(sql_row_key_prefix(&T.t, &a8, 1, &hi, &err), DC_OK);
    assert_string_equal(index_rows(t, 0, &lo, &hi), "5:b05:0;6:b06:1;7:b07:2");
    /* find_conflict: on b, then on any unique index (pkey first). */
    dc_value v[3] = {I4(100), TX("b07"), I8(0)};
    bool found = false;
    sql_buf ck = {0};
    assert_int_equal(
        sql_table_find_conflict(t, &T.t, T.t.indexes[1], v, &ck, &found, &err),
        DC_OK);
    assert_true(found);
    assert_int_equal(sql_row_key_prefix(&T.t, &a8, 1, &hi, &err), DC_OK);
    dc_value a7 = I4(7);
    assert_int_equal(sql_row_key_prefix(&T.t, &a7, 1, &lo, &err), DC_OK);
    assert_int_equal(ck.len, lo.len);
    assert_memory_equal(ck.data, lo.data, lo.len);
    dc_value w[3] = {I4(8), TX("b07"), I8(0)};
    assert_int_equal(
        sql_table_find_conflict(t, &T.t, NULL, w, &ck, &found, &err), DC_OK);
    assert_true(found);
    assert_memory_equal(ck.data, hi.data, hi.len);
    dc_value u[3] = {I4(99), TX("zz"), I8(0)};
    assert_int_equal(
        sql_table_find_conflict(t, &T.t, NULL, u, &ck, &found, &err), DC_OK);
    assert_false(found);
    sql_buf_free(&lo);
    sql_buf_free(&hi);
    sql_buf_free(&ck);
    sql_txn_abort(t);
}

static void test_clear_and_index_build(void **state)
{
    (void)state;
    make_t();
    dc_error err;
    dc_error_init(&err);
    sql_txn *t = begin();
    ins(t, 1, "a", 1);
    ins(t, 2, "b", 1);
    ins(t, 3, "c", 2);
    commit(t);
    /* A unique index over c fails on duplicates (1). */
    make_t(); /* again, with a 4th index */
    const int16_t c = 3;
    sql_index *ux =
        sqlt_add_index(&T, 20004, "t_c_key", true, false, 1, &c, NULL);
    t = begin();
    assert_int_equal(sql_index_build(t, &T.t, ux, &err), DC_EEXIST);
    assert_string_equal(err.message, "duplicate key value violates unique "
                                     "constraint \"t_c_key\"");
    assert_string_equal(err.detail, "Key (c)=(1) already exists.");
    sql_txn_abort(t);
    /* Rebuilding the DESC index from scratch gives the same order. */
    t = begin();
    assert_int_equal(sql_index_clear(t, T.t.indexes[2], &err), DC_OK);
    assert_string_equal(index_rows(t, 2, NULL, NULL), "");
    assert_int_equal(sql_index_build(t, &T.t, T.t.indexes[2], &err), DC_OK);
    assert_string_equal(index_rows(t, 2, NULL, NULL), "3:c:2;1:a:1;2:b:1");
    /* Truncate: rows and entries gone, inserts work after. */
    assert_int_equal(sql_table_clear(t, &T.t, &err), DC_OK);
    assert_string_equal(table_rows(t, SQL_READ_SNAPSHOT), "");
    assert_string_equal(index_rows(t, 1, NULL, NULL), "");
    T.t.nindexes = 3; /* drop t_c_key again */
    ins(t, 2, "b", 5);
    commit(t);
    t = begin();
    assert_string_equal(table_rows(t, SQL_READ_LATEST), "2:b:5");
    assert_string_equal(index_rows(t, 1, NULL, NULL), "2:b:5");
    assert_string_equal(index_rows(t, 2, NULL, NULL), "2:b:5");
    sql_txn_abort(t);
}

/* ---- concurrency
 * ------------------------------------------------------------------ */

typedef struct inserter {
    sql_txn *t;
    int rc;
    dc_error err;
} inserter;

static void *insert_thread(void *arg)
{
    inserter *in = arg;
    in->rc = insert3(in->t, 7, "seven", 7, false, &in->err);
    return NULL;
}

static void test_concurrent_unique_insert(void **state)
{
    (void)state;
    make_t();
    for (int round = 0; round < 2; round++) {
        sql_txn *t1 = begin();
        ins(t1, 7, "other", 1);
        inserter in = {.t = begin()};
        pthread_t th;
        pthread_create(&th, NULL, insert_thread, &in);
        while (sql_lockmgr_waiters(E.eng.locks) < 1)
            sched_yield();
        if (round == 0)
            commit(t1); /* the waiter then sees the key */
        else
            sql_txn_abort(t1); /* ... or finds it free */
        pthread_join(th, NULL);
        if (round == 0) {
            assert_int_equal(in.rc, DC_EEXIST);
            assert_string_equal(in.err.detail, "Key (a)=(7) already exists.");
            sql_txn_abort(in.t);
            sql_txn *d = begin();
            assert_int_equal(sql_table_clear(d, &T.t, NULL), DC_OK);
            commit(d);
        } else {
            assert_int_equal(in.rc, DC_OK);
            commit(in.t);
        }
    }
    sql_txn *t = begin();
    assert_string_equal(table_rows(t, SQL_READ_SNAPSHOT), "7:seven:7");
    sql_txn_abort(t);
}

/* ---- rowid tables
 * ------------------------------------------------------------------- */

static sqlt_table R;

static void rowid_insert(int n, int64_t *ids)
{
    dc_error err;
    dc_error_init(&err);
    sql_txn *t = begin();
    sql_buf key = {0};
    for (int i = 0; i < n; i++) {
        dc_value v[1] = {TX("r")};
        assert_int_equal(sql_table_insert(t, &R.t, v, &key, &err), DC_OK);
        assert_int_equal(key.len, 4 + 9);
        /* Decode the int8 key: marker 0x01, 8 bytes sign-flipped BE. */
        uint64_t u = 0;
        for (int b = 0; b < 8; b++)
            u = u << 8 | key.data[5 + b];
        ids[i] = (int64_t)(u ^ (1ull << 63));
    }
    sql_buf_free(&key);
    commit(t);
}

static void test_rowid_never_reused(void **state)
{
    (void)state;
    sqlt_table_init(&R, 21000, "r");
    sqlt_add_col(&R, "s", DC_TYPE_TEXT, -1, false);
    int64_t ids[2200];
    rowid_insert(5, ids);
    /* An aborted transaction's rowids stay used. */
    sql_txn *t = begin();
    dc_error err;
    dc_error_init(&err);
    dc_value v[1] = {TX("gone")};
    assert_int_equal(sql_table_insert(t, &R.t, v, NULL, &err), DC_OK);
    sql_txn_abort(t);
    rowid_insert(1, ids + 5);
    if (sqlt_durable(&E)) {
        assert_int_equal(sqlt_reopen(&E), 0);
        rowid_insert(2100, ids + 6); /* crosses reservation blocks */
    } else {
        rowid_insert(2100, ids + 6);
    }
    for (int i = 1; i < 2106; i++)
        assert_true(ids[i] > ids[i - 1]);
    assert_true(ids[5] > ids[4] + 1);
    t = begin();
    sql_scan *s = NULL;
    assert_int_equal(sql_table_scan_open(t, SQL_READ_SNAPSHOT, &R.t, NULL, 0,
                                         NULL, 0, &s, &err),
                     DC_OK);
    int count = 0;
    for (;;) {
        dc_value o[1];
        bool valid;
        assert_int_equal(sql_scan_next(s, &M, o, NULL, NULL, &valid, &err),
                         DC_OK);
        if (!valid)
            break;
        count++;
    }
    sql_scan_close(s);
    assert_int_equal(count, 2106);
    sql_txn_abort(t);

    /* Update and delete by rowid key; the secondary index follows. */
    const int16_t one = 1;
    sqlt_add_index(&R, 21001, "r_s_idx", false, false, 1, &one, NULL);
    t = begin();
    assert_int_equal(sql_table_clear(t, &R.t, &err), DC_OK);
    sql_buf k1 = {0}, k2 = {0};
    dc_value a[1] = {TX("a")}, b[1] = {TX("b")}, u[1] = {TX("u")};
    assert_int_equal(sql_table_insert(t, &R.t, a, &k1, &err), DC_OK);
    assert_int_equal(sql_table_insert(t, &R.t, b, &k2, &err), DC_OK);
    assert_int_equal(sql_table_update(t, &R.t, k1.data, k1.len, a, u, &err),
                     DC_OK);
    assert_int_equal(sql_table_delete(t, &R.t, k2.data, k2.len, b, &err),
                     DC_OK);
    commit(t);
    t = begin();
    assert_int_equal(sql_index_scan_open(t, SQL_READ_SNAPSHOT, &R.t,
                                         R.t.indexes[0], NULL, 0, NULL, 0, &s,
                                         &err),
                     DC_OK);
    count = 0;
    for (;;) {
        dc_value o[1];
        bool valid;
        const uint8_t *k;
        size_t kn;
        assert_int_equal(sql_scan_next(s, &M, o, &k, &kn, &valid, &err), DC_OK);
        if (!valid)
            break;
        assert_int_equal(o[0].u.bytes.len, 1);
        assert_memory_equal(o[0].u.bytes.ptr, "u", 1);
        assert_int_equal(kn, k1.len);
        assert_memory_equal(k, k1.data, kn);
        count++;
    }
    sql_scan_close(s);
    assert_int_equal(count, 1);
    sql_buf_free(&k1);
    sql_buf_free(&k2);
    sql_txn_abort(t);
}

/* ---- a big transaction
 * ---------------------------------------------------------------- */

static void test_big_insert(void **state)
{
    (void)state;
    make_t();
    dc_error err;
    dc_error_init(&err);
    sql_txn *t = begin();
    const int n = 200000;
    char b[16];
    for (int i = 0; i < n; i++) {
        snprintf(b, sizeof b, "v%07d", i);
        dc_value v[3] = {I4(n - i), TX(b), I8(i % 100)};
        int rc = sql_table_insert(t, &T.t, v, NULL, &err);
        if (rc != DC_OK)
            fail_msg("insert %d: %s", i, err.message);
    }
    commit(t);
    t = begin();
    sql_scan *s = NULL;
    assert_int_equal(sql_table_scan_open(t, SQL_READ_SNAPSHOT, &T.t, NULL, 0,
                                         NULL, 0, &s, &err),
                     DC_OK);
    int count = 0;
    int64_t prev = 0;
    sql_arena *a = sql_arena_new();
    sql_mem m = sqlt_mem(a);
    for (;;) {
        dc_value v[3];
        bool valid;
        assert_int_equal(sql_scan_next(s, &m, v, NULL, NULL, &valid, &err),
                         DC_OK);
        if (!valid)
            break;
        assert_true(v[0].u.i > prev);
        prev = v[0].u.i;
        count++;
    }
    sql_scan_close(s);
    sql_arena_free(a);
    assert_int_equal(count, n);
    /* The secondary index has every row too. */
    sql_buf lo = {0}, hi = {0};
    dc_value c = I8(42);
    assert_int_equal(sql_index_key_prefix(T.t.indexes[2], &c, 1, &lo, &err),
                     DC_OK);
    assert_int_equal(sql_buf_append(&hi, lo.data, lo.len, &err), DC_OK);
    assert_int_equal(sql_key_successor(&hi, &err), DC_OK);
    assert_int_equal(sql_index_scan_open(t, SQL_READ_SNAPSHOT, &T.t,
                                         T.t.indexes[2], lo.data, lo.len,
                                         hi.data, hi.len, &s, &err),
                     DC_OK);
    count = 0;
    for (;;) {
        dc_value v[3];
        bool valid;
        assert_int_equal(sql_scan_next(s, &M, v, NULL, NULL, &valid, &err),
                         DC_OK);
        if (!valid)
            break;
        assert_int_equal(v[2].u.i, 42);
        count++;
    }
    sql_scan_close(s);
    assert_int_equal(count, n / 100);
    sql_buf_free(&lo);
    sql_buf_free(&hi);
    sql_txn_abort(t);
}

#define TC(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TC(test_row_roundtrip),
        TC(test_bpchar_stored_unpadded),
        TC(test_insert_fetch_update_delete),
        TC(test_index_bounds_and_find_conflict),
        TC(test_clear_and_index_build),
        TC(test_concurrent_unique_insert),
        TC(test_rowid_never_reused),
        TC(test_big_insert),
    };
    int failed = 0;
    const char *mods[] = {"memory", "lsm"};
    for (size_t i = 0; i < 2; i++) {
        g_module = mods[i];
        char name[64];
        snprintf(name, sizeof name, "sqlx_tableam on %s", g_module);
        failed += _cmocka_run_group_tests(
            name, tests, sizeof tests / sizeof *tests, NULL, NULL);
    }
    return failed;
}
