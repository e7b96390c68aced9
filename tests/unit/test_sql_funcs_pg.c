/*
 * Unit tests of modules/sql/funcs_pg.c: the text-form arrays (parsing,
 * quoting, array_to_string and friends, x op ANY/ALL (array), array_agg,
 * the ARRAY(subquery) aggregate, unnest) and the catalog functions that
 * need no catalog.  Expected values are PostgreSQL 15's answers; the
 * catalog functions over real tables (pg_get_expr, pg_get_constraintdef,
 * pg_get_indexdef) are covered by tests/scripts/test_sql_catalog.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sql/funcs_pg.h"
#include "sql/parser.h"

static void *arena_alloc(void *a, size_t n)
{
    return sql_arena_alloc(a, n);
}

static sql_ctx g_ctx;

static int setup(void **state)
{
    (void)state;
    memset(&g_ctx, 0, sizeof g_ctx);
    g_ctx.arena = sql_arena_new();
    assert_non_null(g_ctx.arena);
    g_ctx.mem.alloc = arena_alloc;
    g_ctx.mem.ctx = g_ctx.arena;
    g_ctx.user = "alice";
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sql_arena_free(g_ctx.arena);
    return 0;
}

static dc_value txt(const char *s)
{
    return sql_value_bytes(DC_TYPE_TEXT, s, strlen(s));
}

/* Resolve `name` for the argument types and call it (NULL arguments of a
 * strict function give NULL without a call, as the executor does). */
static int call(const char *name, int n, const dc_value *args, dc_value *out,
                dc_error *err)
{
    uint32_t types[8];
    for (int i = 0; i < n; i++)
        types[i] = args[i].type;
    sql_func_resolved fr;
    int rc = sql_func_resolve(name, n, types, &fr, err);
    if (rc != DC_OK)
        return rc;
    if (fr.flags & SQL_FN_STRICT)
        for (int i = 0; i < n; i++)
            if (args[i].is_null) {
                *out = sql_value_null(fr.rettype);
                return DC_OK;
            }
    return fr.fn(&g_ctx, n, args, out, err);
}

/* The text of a value ("NULL" for NULL) in a static buffer. */
static const char *show(const dc_value *v)
{
    static char buf[256];
    if (v->is_null)
        return "NULL";
    sql_buf b = {0};
    assert_int_equal(sql_value_out(v, NULL, &b, NULL), DC_OK);
    snprintf(buf, sizeof buf, "%.*s", (int)b.len,
             b.data ? (const char *)b.data : "");
    sql_buf_free(&b);
    return buf;
}

static void expect(const char *name, int n, const dc_value *args,
                   const char *want)
{
    dc_error err = {.size = sizeof err};
    dc_value out;
    assert_int_equal(call(name, n, args, &out, &err), DC_OK);
    assert_string_equal(show(&out), want);
}

static void test_array_to_string(void **state)
{
    (void)state;
    dc_value a[3] = {txt("{a,b,NULL,\"c d\",\"x\\\"y\"}"), txt(","), txt("*")};
    expect("array_to_string", 2, a, "a,b,c d,x\"y");
    expect("array_to_string", 3, a, "a,b,*,c d,x\"y");
    a[0] = txt("{}");
    expect("array_to_string", 2, a, "");
    /* int2vector / oidvector text: space-separated, no braces */
    a[0] = txt("1 2 3");
    a[1] = txt("-");
    expect("array_to_string", 2, a, "1-2-3");
    a[0] = txt(" { x , \"\" ,y } ");
    a[1] = txt("|");
    expect("array_to_string", 2, a, "x||y");
    a[0] = sql_value_null(DC_TYPE_TEXT);
    expect("array_to_string", 2, a, "NULL");
}

static void test_malformed(void **state)
{
    (void)state;
    const char *bad[] = {"{a", "{a,}", "{\"a}", "{a}x", "{{1}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dc_value a[2] = {txt(bad[i]), txt(",")};
        dc_error err = {.size = sizeof err};
        dc_value out;
        assert_int_not_equal(call("array_to_string", 2, a, &out, &err), DC_OK);
        assert_string_equal(err.sqlstate, "22P02");
        assert_non_null(strstr(err.message, "malformed array literal"));
    }
}

static void test_dimensions(void **state)
{
    (void)state;
    dc_value a[2] = {txt("{4,5,6}"), sql_value_int(DC_TYPE_INT4, 1)};
    expect("array_upper", 2, a, "3");
    expect("array_lower", 2, a, "1");
    expect("array_length", 2, a, "3");
    expect("cardinality", 1, a, "3");
    a[1] = sql_value_int(DC_TYPE_INT4, 2);
    expect("array_upper", 2, a, "NULL");
    a[0] = txt("{}");
    a[1] = sql_value_int(DC_TYPE_INT4, 1);
    expect("array_upper", 2, a, "NULL");
    expect("array_length", 2, a, "NULL");
    expect("cardinality", 1, a, "0");
}

static void test_subscript(void **state)
{
    (void)state;
    dc_value a[2] = {txt("{10,NULL,30}"), sql_value_int(DC_TYPE_INT4, 3)};
    expect("dc_array_subscript", 2, a, "30");
    a[1] = sql_value_int(DC_TYPE_INT4, 2);
    expect("dc_array_subscript", 2, a, "NULL");
    a[1] = sql_value_int(DC_TYPE_INT4, 0);
    expect("dc_array_subscript", 2, a, "NULL");
    a[1] = sql_value_int(DC_TYPE_INT4, 4);
    expect("dc_array_subscript", 2, a, "NULL");
}

/* x op ANY/ALL (array): PostgreSQL's three-valued results. */
static const char *quant(dc_value x, const char *arr, const char *op, bool all)
{
    sql_func_resolved fr;
    sql_pg_quant_resolve(x.type, &fr);
    assert_int_equal(fr.rettype, DC_TYPE_BOOL);
    assert_false(fr.flags & SQL_FN_STRICT);
    dc_value a[4] = {x, arr ? txt(arr) : sql_value_null(DC_TYPE_TEXT),
                     sql_value_int(DC_TYPE_INT4, sql_pg_quant_op(op)),
                     sql_value_bool(all)};
    dc_error err = {.size = sizeof err};
    dc_value out;
    assert_int_equal(fr.fn(&g_ctx, 4, a, &out, &err), DC_OK);
    return out.is_null ? "NULL" : out.u.i ? "t" : "f";
}

static void test_quant(void **state)
{
    (void)state;
    dc_value five = sql_value_int(DC_TYPE_INT4, 5);
    dc_value nul = sql_value_null(DC_TYPE_INT4);
    assert_string_equal(quant(five, "{1,5}", "=", false), "t");
    assert_string_equal(quant(five, "{1,05}", "=", false), "t");
    assert_string_equal(quant(five, "{1,6}", "=", false), "f");
    assert_string_equal(quant(five, "{1,NULL}", "=", false), "NULL");
    assert_string_equal(quant(five, "{5,NULL}", "=", false), "t");
    assert_string_equal(quant(five, "{1,5}", "=", true), "f");
    assert_string_equal(quant(five, "{6,7}", "<>", true), "t");
    assert_string_equal(quant(five, "{6,NULL}", "<>", true), "NULL");
    assert_string_equal(quant(five, "{6,7}", "<", true), "t");
    assert_string_equal(quant(five, "{4,7}", ">=", false), "t");
    assert_string_equal(quant(five, "{}", "=", false), "f");
    assert_string_equal(quant(five, "{}", "=", true), "t");
    assert_string_equal(quant(nul, "{}", "=", false), "f");
    assert_string_equal(quant(nul, "{1}", "=", false), "NULL");
    assert_string_equal(quant(five, NULL, "=", false), "NULL");
    /* elements compare as the left operand's type: 'abc' is no integer */
    assert_string_equal(quant(txt("b"), "{a,b}", "=", false), "t");
    assert_int_equal(sql_pg_quant_op("!="), SQL_PG_QOP_NE);
    assert_int_equal(sql_pg_quant_op("~~"), -1);
    sql_func_resolved fr;
    sql_pg_quant_resolve(DC_TYPE_INT4, &fr);
    dc_value a[4] = {five, txt("{abc}"), sql_value_int(DC_TYPE_INT4, 0),
                     sql_value_bool(false)};
    dc_error err = {.size = sizeof err};
    dc_value out;
    assert_int_not_equal(fr.fn(&g_ctx, 4, a, &out, &err), DC_OK);
    assert_string_equal(err.sqlstate, "22P02");
}

/* Run an array aggregate over `n` values. */
static const char *agg_run(const sql_agg_resolved *ag, int n,
                           const dc_value *vals)
{
    void *st = calloc(1, ag->state_size);
    assert_non_null(st);
    dc_error err = {.size = sizeof err};
    for (int i = 0; i < n; i++)
        assert_int_equal(ag->step(&g_ctx, st, 1, &vals[i], &err), DC_OK);
    dc_value out;
    assert_int_equal(ag->final(&g_ctx, st, &out, &err), DC_OK);
    if (ag->free)
        ag->free(st);
    free(st);
    return show(&out);
}

static void test_array_agg(void **state)
{
    (void)state;
    uint32_t t = DC_TYPE_TEXT;
    sql_agg_resolved ag;
    assert_true(sql_is_aggregate("array_agg"));
    dc_error err = {.size = sizeof err};
    assert_int_equal(sql_agg_resolve("array_agg", false, 1, &t, &ag, &err),
                     DC_OK);
    assert_int_equal(ag.rettype, DC_TYPE_TEXT);
    dc_value v[6] = {txt("a"),    txt("b c"),     txt(""),
                     txt("NULL"), txt("x\"y\\z"), sql_value_null(DC_TYPE_TEXT)};
    assert_string_equal(agg_run(&ag, 6, v),
                        "{a,\"b c\",\"\",\"NULL\",\"x\\\"y\\\\z\",NULL}");
    assert_string_equal(agg_run(&ag, 0, v), "NULL");
    /* the quoted form reads back to the same elements */
    dc_value a[3] = {txt("{a,\"b c\",\"\",\"NULL\",\"x\\\"y\\\\z\",NULL}"),
                     txt("|"), txt("~")};
    expect("array_to_string", 3, a, "a|b c||NULL|x\"y\\z|~");

    sql_pg_array_sublink_agg(DC_TYPE_INT4, &ag);
    assert_string_equal(agg_run(&ag, 0, v), "{}");
    dc_value n[2] = {sql_value_int(DC_TYPE_INT4, 3),
                     sql_value_int(DC_TYPE_INT4, -1)};
    assert_string_equal(agg_run(&ag, 2, n), "{3,-1}");
}

static void test_unnest(void **state)
{
    (void)state;
    uint32_t t = DC_TYPE_TEXT;
    sql_srf_resolved srf;
    dc_error err = {.size = sizeof err};
    assert_int_equal(sql_srf_resolve("unnest", 1, &t, &srf, &err), DC_OK);
    dc_value arg = txt("{x,NULL,\"y z\"}");
    sql_srf_state *st = NULL;
    assert_int_equal(srf.open(&g_ctx, 1, &arg, &st, &err), DC_OK);
    const char *want[] = {"x", "NULL", "y z"};
    for (int i = 0; i < 3; i++) {
        dc_value v;
        bool done = true;
        assert_int_equal(srf.next(&g_ctx, st, &v, &done, &err), DC_OK);
        assert_false(done);
        assert_string_equal(show(&v), want[i]);
    }
    dc_value v;
    bool done = false;
    assert_int_equal(srf.next(&g_ctx, st, &v, &done, &err), DC_OK);
    assert_true(done);
    srf.close(st);
    arg = txt("{a");
    assert_int_not_equal(srf.open(&g_ctx, 1, &arg, &st, &err), DC_OK);
    assert_string_equal(err.sqlstate, "22P02");
}

static void test_catalog_functions(void **state)
{
    (void)state;
    dc_value a[3] = {sql_value_int(DC_TYPE_OID, 6171)};
    expect("pg_get_userbyid", 1, a, "pg_database_owner");
    a[0] = sql_value_int(DC_TYPE_OID, 10);
    expect("pg_get_userbyid", 1, a, "alice");
    a[0] = sql_value_int(DC_TYPE_OID, 4242);
    expect("pg_get_userbyid", 1, a, "unknown (OID=4242)");
    a[0] = sql_value_int(DC_TYPE_OID, 1007);
    a[1] = sql_value_int(DC_TYPE_INT4, -1);
    expect("format_type", 2, a, "integer[]");
    a[0] = sql_value_int(DC_TYPE_OID, 1015);
    expect("format_type", 2, a, "character varying[]");
    a[0] = sql_value_int(DC_TYPE_OID, 22);
    expect("format_type", 2, a, "int2vector");
    assert_int_equal(sql_pg_array_elem(1009), DC_TYPE_TEXT);
    assert_int_equal(sql_pg_array_elem(DC_TYPE_TEXT), 0);
    a[0] = sql_value_int(DC_TYPE_OID, 16384);
    expect("pg_relation_is_publishable", 1, a, "f");
    expect("pg_get_statisticsobjdef_columns", 1, a, "NULL");
    expect("pg_get_partkeydef", 1, a, "NULL");
    /* without a catalog (or for an unknown oid) the definitions are NULL */
    expect("pg_get_indexdef", 1, a, "NULL");
    expect("pg_get_constraintdef", 1, a, "NULL");
    expect("pg_get_viewdef", 1, a, "NULL");
    a[1] = sql_value_int(DC_TYPE_INT4, 0);
    a[2] = sql_value_bool(true);
    expect("pg_get_indexdef", 3, a, "NULL");
    dc_value e[2] = {txt("1"), sql_value_int(DC_TYPE_OID, 16384)};
    expect("pg_get_expr", 2, e, "NULL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_array_to_string, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dimensions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscript, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_array_agg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unnest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catalog_functions, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
