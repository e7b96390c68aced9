/*
 * Unit tests of the sql module's operators, functions and aggregates
 * (modules/sql/funcs*.c).
 *
 * Most cases are SQL expressions: the test parses "SELECT <expr>", resolves
 * every operator and function in it through sql_oper_resolve /
 * sql_func_resolve the way the binder does (unknown-typed string literals,
 * int4/int8/numeric number literals, casts to the resolved argument types)
 * and runs the resolved functions.  The expected "value|type" strings and
 * error texts are PostgreSQL 15's answers to
 *   SELECT coalesce((<expr>)::text, 'NULL') || '|' || pg_typeof(<expr>)
 * with TimeZone UTC.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sql/funcs.h"
#include "sql/parser.h"

/* ---- a statement context over an arena --------------------------------- */

static void *arena_alloc(void *a, size_t n)
{
    return sql_arena_alloc(a, n);
}

static const char *test_setting(sql_session *sess, const char *name)
{
    (void)sess;
    if (!strcmp(name, "timezone"))
        return "UTC";
    if (!strcmp(name, "work_mem"))
        return "4MB";
    return NULL;
}

static sql_ctx g_ctx;

static int setup_ctx(void **state)
{
    (void)state;
    memset(&g_ctx, 0, sizeof g_ctx);
    g_ctx.arena = sql_arena_new();
    assert_non_null(g_ctx.arena);
    g_ctx.mem.alloc = arena_alloc;
    g_ctx.mem.ctx = g_ctx.arena;
    g_ctx.user = "alice";
    g_ctx.database = "shop";
    g_ctx.get_setting = test_setting;
    /* 2020-05-17 12:34:56.789 UTC and one second later */
    g_ctx.txn_ts = INT64_C(643034096789000);
    g_ctx.stmt_ts = g_ctx.txn_ts + 1000000;
    return 0;
}

static int teardown_ctx(void **state)
{
    (void)state;
    sql_arena_free(g_ctx.arena);
    g_ctx.arena = NULL;
    return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup_ctx, teardown_ctx)

/* ---- a tiny binder + evaluator over parsed expressions ----------------- */

/* A value with its static type (DC_TYPE_UNKNOWN for string literals and
 * NULL, as the binder sees them). */
typedef struct tv {
    dc_value v;
    uint32_t type;
} tv;

static int ev(const sql_expr *e, tv *out, dc_error *err);

/* Cast a to `to` as the executor does for a resolved argument. */
static int coerce(const tv *a, uint32_t to, dc_value *out, dc_error *err)
{
    if (a->v.type == to) {
        *out = a->v;
        return DC_OK;
    }
    if (a->v.is_null) {
        *out = sql_value_null(to);
        return DC_OK;
    }
    dc_value v = a->v;
    if (v.type == DC_TYPE_UNKNOWN)
        v.type = DC_TYPE_TEXT;
    return sql_value_cast(&v, to, -1, SQL_CAST_IMPLICIT, g_ctx.tz, &g_ctx.mem,
                          out, err);
}

static int apply(const sql_func_resolved *r, int nargs, const tv *args, tv *out,
                 dc_error *err)
{
    dc_value vals[SQL_MAX_FN_ARGS];
    assert_int_equal(r->nargs, nargs);
    bool anynull = false;
    for (int i = 0; i < nargs; i++) {
        int rc = coerce(&args[i], r->argtypes[i], &vals[i], err);
        if (rc)
            return rc;
        anynull |= vals[i].is_null;
    }
    out->type = r->rettype;
    if ((r->flags & SQL_FN_STRICT) && anynull) {
        out->v = sql_value_null(r->rettype);
        return DC_OK;
    }
    int rc = r->fn(&g_ctx, nargs, vals, &out->v, err);
    if (rc == DC_OK && !out->v.is_null)
        assert_int_equal(out->v.type, r->rettype);
    return rc;
}

static int call_func(const char *name, int nargs, const tv *args, tv *out,
                     dc_error *err)
{
    uint32_t types[SQL_MAX_FN_ARGS] = {0};
    for (int i = 0; i < nargs; i++)
        types[i] = args[i].type;
    sql_func_resolved r;
    int rc = sql_func_resolve(name, nargs, types, &r, err);
    if (rc)
        return rc;
    return apply(&r, nargs, args, out, err);
}

static int call_op(const char *op, const tv *l, const tv *r, tv *out,
                   dc_error *err)
{
    sql_func_resolved res;
    tv args[2];
    int rc;
    if (l == NULL) {
        rc = sql_oper_resolve(op, true, DC_TYPE_UNKNOWN, r->type, &res, err);
        if (rc)
            return rc;
        args[0] = *r;
        return apply(&res, 1, args, out, err);
    }
    rc = sql_oper_resolve(op, false, l->type, r->type, &res, err);
    if (rc)
        return rc;
    args[0] = *l;
    args[1] = *r;
    return apply(&res, 2, args, out, err);
}

static int ev_const(const sql_expr *e, tv *out, dc_error *err)
{
    switch (e->u.c.kind) {
    case CONST_NULL:
        out->v = sql_value_null(DC_TYPE_UNKNOWN);
        break;
    case CONST_BOOL:
        out->v = sql_value_bool(e->u.c.b);
        break;
    case CONST_INT:
        out->v = sql_value_int(e->u.c.i >= INT32_MIN && e->u.c.i <= INT32_MAX
                                   ? DC_TYPE_INT4
                                   : DC_TYPE_INT8,
                               e->u.c.i);
        break;
    case CONST_NUMERIC: {
        int rc = sql_value_in(DC_TYPE_NUMERIC, -1, e->u.c.s, strlen(e->u.c.s),
                              NULL, &g_ctx.mem, &out->v, err);
        if (rc)
            return rc;
        break;
    }
    case CONST_STRING:
        out->v = sql_value_bytes(DC_TYPE_UNKNOWN, e->u.c.s, strlen(e->u.c.s));
        break;
    default:
        fail_msg("unsupported constant");
    }
    out->type = out->v.type;
    return DC_OK;
}

static int ev_like(const sql_expr *e, tv *out, dc_error *err)
{
    tv a, p, x;
    int rc = ev(e->u.like.arg, &a, err);
    if (rc == DC_OK)
        rc = ev(e->u.like.pattern, &p, err);
    if (rc)
        return rc;
    if (e->u.like.kind == LIKE_SIMILAR) {
        tv args[2] = {p, {{0}, 0}};
        int n = 1;
        if (e->u.like.escape) {
            rc = ev(e->u.like.escape, &args[1], err);
            n = 2;
        }
        if (rc == DC_OK)
            rc = call_func("similar_to_escape", n, args, &p, err);
    } else if (e->u.like.escape) {
        tv args[2] = {p, {{0}, 0}};
        rc = ev(e->u.like.escape, &args[1], err);
        if (rc == DC_OK)
            rc = call_func("like_escape", 2, args, &p, err);
    }
    if (rc)
        return rc;
    const char *op =
        e->u.like.kind == LIKE_SIMILAR ? (e->u.like.negated ? "!~" : "~")
        : e->u.like.kind == LIKE_ILIKE ? (e->u.like.negated ? "!~~*" : "~~*")
                                       : (e->u.like.negated ? "!~~" : "~~");
    rc = call_op(op, &a, &p, &x, err);
    *out = x;
    return rc;
}

static const char *const sqlvalue_fn[] = {
    [SV_CURRENT_DATE] = "current_date",
    [SV_CURRENT_TIMESTAMP] = "current_timestamp",
    [SV_LOCALTIMESTAMP] = "localtimestamp",
    [SV_CURRENT_USER] = "current_user",
    [SV_CURRENT_ROLE] = "current_role",
    [SV_SESSION_USER] = "session_user",
    [SV_USER] = "user",
    [SV_CURRENT_CATALOG] = "current_catalog",
    [SV_CURRENT_SCHEMA] = "current_schema",
};

static int ev(const sql_expr *e, tv *out, dc_error *err)
{
    int rc;
    switch (e->kind) {
    case EXPR_CONST:
        return ev_const(e, out, err);
    case EXPR_CAST: {
        tv a;
        rc = ev(e->u.cast.arg, &a, err);
        if (rc)
            return rc;
        dc_value v = a.v;
        if (v.type == DC_TYPE_UNKNOWN)
            v.type = DC_TYPE_TEXT;
        out->type = e->u.cast.type->oid;
        return sql_value_cast(&v, e->u.cast.type->oid, e->u.cast.type->typmod,
                              SQL_CAST_EXPLICIT, g_ctx.tz, &g_ctx.mem, &out->v,
                              err);
    }
    case EXPR_OP: {
        tv l, r;
        if (e->u.op.left && (rc = ev(e->u.op.left, &l, err)) != DC_OK)
            return rc;
        if ((rc = ev(e->u.op.right, &r, err)) != DC_OK)
            return rc;
        return call_op(e->u.op.name, e->u.op.left ? &l : NULL, &r, out, err);
    }
    case EXPR_FUNC: {
        const sql_qname *q = e->u.func.name;
        const char *name = q->parts[q->nparts - 1];
        int n = (int)SQL_LIST_LEN(e->u.func.args);
        tv args[SQL_MAX_FN_ARGS];
        for (int i = 0; i < n; i++)
            if ((rc = ev(e->u.func.args->items[i], &args[i], err)) != DC_OK)
                return rc;
        return call_func(name, n, args, out, err);
    }
    case EXPR_LIKE:
        return ev_like(e, out, err);
    case EXPR_SQLVALUE:
        return call_func(sqlvalue_fn[e->u.sv.what], 0, NULL, out, err);
    default:
        fail_msg("unsupported expression kind %d", (int)e->kind);
    }
    return DC_ERR;
}

/* Evaluate `expr` and format it as the PostgreSQL query of the file
 * comment does: "value|type", "NULL|type" or "ERROR sqlstate: message". */
static void eval_sql(const char *expr, char *res, size_t cap)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "select %s", expr);
    sql_arena *pa = NULL;
    sql_list *stmts = NULL;
    dc_error err;
    dc_error_init(&err);
    int rc = sql_parse(sql, strlen(sql), &pa, &stmts, &err);
    assert_int_equal(rc, DC_OK);
    sql_stmt *st = stmts->items[0];
    sql_target *t = st->u.select->targets->items[0];
    tv out;
    memset(&out, 0, sizeof out);
    rc = ev(t->expr, &out, &err);
    if (rc) {
        assert_true(err.message[0] != 0);
        snprintf(res, cap, "ERROR %s: %s", err.sqlstate, err.message);
    } else if (out.v.is_null) {
        snprintf(res, cap, "NULL|%s", sql_type_name(out.type));
    } else if (out.v.type == DC_TYPE_BOOL) {
        snprintf(res, cap, "%s|boolean", out.v.u.b ? "true" : "false");
    } else {
        sql_buf b;
        sql_buf_init(&b);
        assert_int_equal(sql_value_out(&out.v, g_ctx.tz, &b, &err), DC_OK);
        size_t n = b.len;
        if (out.v.type == DC_TYPE_BPCHAR) /* ::text drops the padding */
            while (n && b.data[n - 1] == ' ')
                n--;
        snprintf(res, cap, "%.*s|%s", (int)n, (const char *)b.data,
                 sql_type_name(out.type));
        sql_buf_free(&b);
    }
    sql_arena_free(pa);
}

typedef struct expr_case {
    const char *expr;
    const char *want;
} expr_case;

/* Run a table of cases; report every mismatch, then fail if any. */
static void run_cases(const expr_case *c, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        char got[1024];
        eval_sql(c[i].expr, got, sizeof got);
        if (strcmp(got, c[i].want) != 0) {
            print_error("%s\n  want: %s\n  got:  %s\n", c[i].expr, c[i].want,
                        got);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* ---- expression cases (expected values from PostgreSQL 15) ------------- */

static const expr_case pg_cases[] = {
    {"1 + 1", "2|integer"},
    {"1 + 1.5", "2.5|numeric"},
    {"2.5 * 2::float8", "5|double precision"},
    {"1::int2 + 1::int2", "2|smallint"},
    {"1::int2 + 1", "2|integer"},
    {"1 + 2::int8", "3|bigint"},
    {"7 / 2", "3|integer"},
    {"-7 / 2", "-3|integer"},
    {"7 % 3", "1|integer"},
    {"-7 % 3", "-1|integer"},
    {"7::int8 % 3", "1|bigint"},
    {"7.5 % 2", "1.5|numeric"},
    {"1 / 0", "ERROR 22012: division by zero"},
    {"1.0 / 0", "ERROR 22012: division by zero"},
    {"1::float8 / 0", "ERROR 22012: division by zero"},
    {"5 % 0", "ERROR 22012: division by zero"},
    {"2147483647 + 1", "ERROR 22003: integer out of range"},
    {"32767::int2 + 1::int2", "ERROR 22003: smallint out of range"},
    {"9223372036854775807 + 1", "ERROR 22003: bigint out of range"},
    {"(-2147483648)::int4 / -1", "ERROR 22003: integer out of range"},
    {"(-2147483648)::int4 % -1", "0|integer"},
    {"2147483647 * 2", "ERROR 22003: integer out of range"},
    {"2147483647::int8 * 2", "4294967294|bigint"},
    {"1 + true", "ERROR 42883: operator does not exist: integer + boolean"},
    {"true + 1", "ERROR 42883: operator does not exist: boolean + integer"},
    {"1 || 2", "ERROR 42883: operator does not exist: integer || integer"},
    {"'a' || 'b'", "ab|text"},
    {"'a' || 1", "a1|text"},
    {"1 || 'a'", "1a|text"},
    {"'abc' || NULL", "NULL|text"},
    {"'x' || 1.50", "x1.50|text"},
    {"'x' || true", "xtrue|text"},
    {"'x' || date '2020-01-02'", "x2020-01-02|text"},
    {"'ab'::char(3) || 'c'", "abc|text"},
    {"'ab'::varchar(5) || 'c'", "abc|text"},
    {"'\\x01'::bytea || '\\x02'::bytea", "\\x0102|bytea"},
    {"- 5", "-5|integer"},
    {"- 5::int2", "-5|smallint"},
    {"- 2.5", "-2.5|numeric"},
    {"- 1.5::float8", "-1.5|double precision"},
    {"-(-2147483648)::int4", "ERROR 22003: integer out of range"},
    {"- true", "ERROR 42883: operator does not exist: - boolean"},
    {"+ 3", "3|integer"},
    {"@ -4", "4|integer"},
    {"|/ 16::float8", "4|double precision"},
    {"2 ^ 10", "1024|double precision"},
    {"5 & 3", "1|integer"},
    {"5 | 3", "7|integer"},
    {"5 # 3", "6|integer"},
    {"~ 5", "-6|integer"},
    {"1 << 4", "16|integer"},
    {"256 >> 2", "64|integer"},
    {"'5' = 5", "true|boolean"},
    {"5 = '5'", "true|boolean"},
    {"'5' < 6", "true|boolean"},
    {"'abc' = 'abc'", "true|boolean"},
    {"'a' < 'b'", "true|boolean"},
    {"'a' + 'b'", "ERROR 42725: operator is not unique: unknown + unknown"},
    {"1 = 1.0", "true|boolean"},
    {"1 = 1.5", "false|boolean"},
    {"1::int2 = 1::int8", "true|boolean"},
    {"1 < 1.5::float8", "true|boolean"},
    {"1.5::float4 = 1.5::float8", "true|boolean"},
    {"'NaN'::float8 = 'NaN'::float8", "true|boolean"},
    {"'NaN'::float8 > 1e308::float8", "true|boolean"},
    {"'abc'::text = 'abc'::varchar", "true|boolean"},
    {"'a '::char(3) = 'a'::char(2)", "true|boolean"},
    {"'a '::char(3) = 'a'::text", "true|boolean"},
    {"'abc'::name = 'abc'::text", "true|boolean"},
    {"true = false", "false|boolean"},
    {"true > false", "true|boolean"},
    {"true = 1", "ERROR 42883: operator does not exist: boolean = integer"},
    {"date '2020-01-01' = timestamp '2020-01-01 00:00'", "true|boolean"},
    {"date '2020-01-01' < timestamptz '2020-01-01 00:00:01+00'",
     "true|boolean"},
    {"timestamp '2020-01-01 00:00' = timestamptz '2020-01-01 00:00+00'",
     "true|boolean"},
    {"'\\x01'::bytea < '\\x02'::bytea", "true|boolean"},
    {"1 <> 2", "true|boolean"},
    {"1 != 1", "false|boolean"},
    {"1 = 'a'", "ERROR 22P02: invalid input syntax for type integer: \"a\""},
    {"'abc' = 1",
     "ERROR 22P02: invalid input syntax for type integer: \"abc\""},
    {"date '2020-01-01' + 1", "2020-01-02|date"},
    {"1 + date '2020-01-01'", "2020-01-02|date"},
    {"date '2020-03-01' - date '2020-02-01'", "29|integer"},
    {"date '2020-03-01' - 1", "2020-02-29|date"},
    {"date '2020-03-01' + 1.5",
     "ERROR 42883: operator does not exist: date + numeric"},
    {"'abc' LIKE 'a%'", "true|boolean"},
    {"'abc' LIKE 'A%'", "false|boolean"},
    {"'abc' ILIKE 'A%'", "true|boolean"},
    {"'abc' NOT LIKE 'a_c'", "false|boolean"},
    {"'abc' LIKE '_b_'", "true|boolean"},
    {"'abc' LIKE '%c'", "true|boolean"},
    {"'abc' LIKE '%d%'", "false|boolean"},
    {"'a%c' LIKE 'a\\%c'", "true|boolean"},
    {"'abc' LIKE 'a\\%c'", "false|boolean"},
    {"'a' LIKE '\\'",
     "ERROR 22025: LIKE pattern must not end with escape character"},
    {"'a' LIKE 'b\\'", "false|boolean"},
    {"'' LIKE '%'", "true|boolean"},
    {"'' LIKE '_'", "false|boolean"},
    {"'aaa' LIKE '%a%a%a%'", "true|boolean"},
    {"'aa' LIKE '%a%a%a%'", "false|boolean"},
    {"'a%' LIKE 'a!%' ESCAPE '!'", "true|boolean"},
    {"'abc' LIKE 'a' ESCAPE 'xy'", "ERROR 22025: invalid escape string"},
    {"'a_b' LIKE 'a#_b' ESCAPE '#'", "true|boolean"},
    {"'axb' LIKE 'a#_b' ESCAPE '#'", "false|boolean"},
    {"'a\\b' LIKE 'a\\b' ESCAPE ''", "true|boolean"},
    {"'héllo' LIKE 'h_llo'", "true|boolean"},
    {"'a'::char(3) LIKE 'a'", "false|boolean"},
    {"'abc' SIMILAR TO 'a(b|c)+'", "true|boolean"},
    {"'abd' SIMILAR TO 'a(b|c)+'", "false|boolean"},
    {"'a.c' SIMILAR TO 'a.c'", "true|boolean"},
    {"'abc' SIMILAR TO 'a.c'", "false|boolean"},
    {"'abc' SIMILAR TO '%c'", "true|boolean"},
    {"'abc' ~ 'b'", "true|boolean"},
    {"'abc' ~ '^b'", "false|boolean"},
    {"'abc' ~* 'B'", "true|boolean"},
    {"'abc' !~ 'b'", "false|boolean"},
    {"'abc' !~* 'B'", "false|boolean"},
    {"'a1' ~ '\\d'", "true|boolean"},
    {"'ab' ~ '\\d'", "false|boolean"},
    {"'a' ~ '('",
     "ERROR 2201B: invalid regular expression: parentheses () not balanced"},
    {"'a' ~ '[a'",
     "ERROR 2201B: invalid regular expression: brackets [] not balanced"},
    {"'foo bar' ~ '\\s'", "true|boolean"},
    {"'abc' ~ '[\\d]'", "false|boolean"},
    {"length('abc')", "3|integer"},
    {"length('héllo')", "5|integer"},
    {"length('ab  '::char(4))", "2|integer"},
    {"length(1)", "ERROR 42883: function length(integer) does not exist"},
    {"char_length('abc')", "3|integer"},
    {"octet_length('héllo')", "6|integer"},
    {"lower('ABC Déf')", "abc déf|text"},
    {"upper('abc')", "ABC|text"},
    {"lower(1)", "ERROR 42883: function lower(integer) does not exist"},
    {"initcap('hello wORLD foo-bar 3x')", "Hello World Foo-Bar 3x|text"},
    {"substring('abcdef', 2, 3)", "bcd|text"},
    {"substring('abcdef' from 2 for 3)", "bcd|text"},
    {"substring('abcdef' from 2)", "bcdef|text"},
    {"substring('abcdef' for 2)", "ab|text"},
    {"substring('abc', 0, 2)", "a|text"},
    {"substring('abcdef' from -1 for 4)", "ab|text"},
    {"substring('abc', 1, -1)",
     "ERROR 22011: negative substring length not allowed"},
    {"substring('abc', 5)", "|text"},
    {"substring('abc', -5, 3)", "|text"},
    {"substring('héllo', 2, 2)", "él|text"},
    {"substring('foobar' from 'o+b')", "oob|text"},
    {"substring('foobar' from 'o(b)')", "b|text"},
    {"substring('foobar' from 'x')", "NULL|text"},
    {"substr('abcdef', 3)", "cdef|text"},
    {"substr('abcdef', 3, 2)", "cd|text"},
    {"position('c' in 'abcd')", "3|integer"},
    {"position('x' in 'abcd')", "0|integer"},
    {"position('' in 'abcd')", "1|integer"},
    {"position('l' in 'héllo')", "3|integer"},
    {"strpos('abcd', 'cd')", "3|integer"},
    {"trim('  abc  ')", "abc|text"},
    {"trim(both 'x' from 'xxabcxx')", "abc|text"},
    {"trim(leading 'x' from 'xxabcxx')", "abcxx|text"},
    {"trim(trailing 'x' from 'xxabcxx')", "xxabc|text"},
    {"trim(leading from '  abc  ')", "abc  |text"},
    {"btrim('xyabcyx', 'xy')", "abc|text"},
    {"ltrim('  abc')", "abc|text"},
    {"rtrim('abc  ')", "abc|text"},
    {"ltrim('zzabc', 'z')", "abc|text"},
    {"rtrim('abcé', 'é')", "abc|text"},
    {"replace('abcabc', 'b', 'XY')", "aXYcaXYc|text"},
    {"replace('abc', '', 'x')", "abc|text"},
    {"replace('aaa', 'aa', 'b')", "ba|text"},
    {"overlay('Txxxxas' placing 'hom' from 2 for 4)", "Thomas|text"},
    {"overlay('abcdef' placing 'XY' from 3)", "abXYef|text"},
    {"overlay('abc' placing 'X' from 0)",
     "ERROR 22011: negative substring length not allowed"},
    {"translate('12345', '143', 'ax')", "a2x5|text"},
    {"left('abcde', 2)", "ab|text"},
    {"left('abcde', -2)", "abc|text"},
    {"left('abc', 10)", "abc|text"},
    {"right('abcde', 2)", "de|text"},
    {"right('abcde', -2)", "cde|text"},
    {"lpad('hi', 5, 'xy')", "xyxhi|text"},
    {"lpad('hi', 5)", "   hi|text"},
    {"lpad('hello', 3)", "hel|text"},
    {"lpad('hi', 5, '')", "hi|text"},
    {"lpad('hi', -1, 'x')", "|text"},
    {"rpad('hi', 5, 'xy')", "hixyx|text"},
    {"rpad('hi', 5)", "hi   |text"},
    {"repeat('ab', 3)", "ababab|text"},
    {"repeat('ab', 0)", "|text"},
    {"repeat('ab', -1)", "|text"},
    {"reverse('abcé')", "écba|text"},
    {"split_part('a,b,c', ',', 2)", "b|text"},
    {"split_part('a,b,c', ',', 4)", "|text"},
    {"split_part('a,b,c', ',', -1)", "c|text"},
    {"split_part('a,b,c', ',', -3)", "a|text"},
    {"split_part('a,b,c', ',', 0)",
     "ERROR 22023: field position must not be zero"},
    {"split_part('abc', '', 1)", "abc|text"},
    {"split_part('abc', '', 2)", "|text"},
    {"split_part('a::b::c', '::', 2)", "b|text"},
    {"starts_with('abc', 'ab')", "true|boolean"},
    {"starts_with('abc', 'b')", "false|boolean"},
    {"md5('')", "d41d8cd98f00b204e9800998ecf8427e|text"},
    {"md5('abc')", "900150983cd24fb0d6963f7d28e17f72|text"},
    {"md5('The quick brown fox jumps over the lazy dog')",
     "9e107d9d372bb6826bd81d3542a419d6|text"},
    {"md5(repeat('a', 100))", "36a92cc94a9e0fa21f625f8bfb007adf|text"},
    {"ascii('A')", "65|integer"},
    {"ascii('é')", "233|integer"},
    {"ascii('')", "0|integer"},
    {"chr(65)", "A|text"},
    {"chr(233)", "é|text"},
    {"chr(0)", "ERROR 54000: null character not permitted"},
    {"to_hex(255)", "ff|text"},
    {"to_hex(-1)", "ffffffff|text"},
    {"to_hex(-1::int8)", "ffffffffffffffff|text"},
    {"quote_ident('abc')", "abc|text"},
    {"quote_ident('Abc')", "\"Abc\"|text"},
    {"quote_ident('a\"b')", "\"a\"\"b\"|text"},
    {"quote_literal('it''s')", "'it''s'|text"},
    {"quote_literal('a\\b')", "E'a\\\\b'|text"},
    {"concat('a', 1, NULL, true, 2.50)", "a1t2.50|text"},
    {"concat()", "ERROR 42883: function concat() does not exist"},
    {"concat(NULL)", "|text"},
    {"concat_ws(',', 'a', NULL, 'b', 1)", "a,b,1|text"},
    {"concat_ws(NULL, 'a', 'b')", "NULL|text"},
    {"concat_ws(',')",
     "ERROR 42883: function concat_ws(unknown) does not exist"},
    {"like_escape('a!%\\', '!')", "a\\%\\\\|text"},
    {"similar_to_escape('a.b%')", "^(?:a\\.b.*)$|text"},
    {"regexp_replace('foobarbaz', 'b..', 'X')", "fooXbaz|text"},
    {"regexp_replace('foobarbaz', 'b..', 'X', 'g')", "fooXX|text"},
    {"regexp_replace('foobarbaz', 'b(.)(.)', '[\\1]', 'g')", "foo[a][a]|text"},
    {"regexp_replace('ABC', 'b', 'x', 'i')", "AxC|text"},
    {"regexp_replace('abc', '', '-', 'g')", "-a-b-c-|text"},
    {"abs(-5)", "5|integer"},
    {"abs(-5::int2)", "5|smallint"},
    {"abs(-5.50)", "5.50|numeric"},
    {"abs(-2.5::float8)", "2.5|double precision"},
    {"abs('x')",
     "ERROR 22P02: invalid input syntax for type double precision: \"x\""},
    {"abs(-2147483648::int8)", "2147483648|bigint"},
    {"round(2.5)", "3|numeric"},
    {"round(-2.5)", "-3|numeric"},
    {"round(2.5::float8)", "2|double precision"},
    {"round(3.5::float8)", "4|double precision"},
    {"round(-2.5::float8)", "-2|double precision"},
    {"round(2.345, 2)", "2.35|numeric"},
    {"round(1234.5, -2)", "1200|numeric"},
    {"round(1.5::float4)", "2|double precision"},
    {"round(2.5::float8, 1)",
     "ERROR 42883: function round(double precision, integer) does not exist"},
    {"round(5)", "5|double precision"},
    {"round('NaN'::numeric)", "NaN|numeric"},
    {"trunc(2.7::float8)", "2|double precision"},
    {"trunc(-2.789, 1)", "-2.7|numeric"},
    {"trunc(2)", "2|double precision"},
    {"trunc(-2.5)", "-2|numeric"},
    {"ceil(2.1)", "3|numeric"},
    {"ceil(-2.1)", "-2|numeric"},
    {"ceil(-2.1::float8)", "-2|double precision"},
    {"ceiling(2.0)", "2|numeric"},
    {"floor(-2.1)", "-3|numeric"},
    {"floor(2.9)", "2|numeric"},
    {"floor(-2.0)", "-2|numeric"},
    {"sign(-3.5)", "-1|numeric"},
    {"sign(0::float8)", "0|double precision"},
    {"sign(-3)", "-1|double precision"},
    {"sign(0.0)", "0|numeric"},
    {"mod(-7, 3)", "-1|integer"},
    {"mod(7.5, 2)", "1.5|numeric"},
    {"mod(7::int2, 3::int2)", "1|smallint"},
    {"mod(5, 0)", "ERROR 22012: division by zero"},
    {"mod(9::int8, 4)", "1|bigint"},
    {"div(7, 2)", "3|numeric"},
    {"div(-7.5, 2)", "-3|numeric"},
    {"sqrt(2)", "1.4142135623730951|double precision"},
    {"sqrt(16)", "4|double precision"},
    {"sqrt(-1)", "ERROR 2201F: cannot take square root of a negative number"},
    {"power(2, 10)", "1024|double precision"},
    {"power(2, -1)", "0.5|double precision"},
    {"power(0, -1)",
     "ERROR 2201F: zero raised to a negative power is undefined"},
    {"power(-8, 1.0/3)", "ERROR 2201F: a negative number raised to a "
                         "non-integer power yields a complex result"},
    {"exp(1)", "2.718281828459045|double precision"},
    {"exp(0)", "1|double precision"},
    {"ln(10)", "2.302585092994046|double precision"},
    {"ln(0)", "ERROR 2201E: cannot take logarithm of zero"},
    {"ln(-1)", "ERROR 2201E: cannot take logarithm of a negative number"},
    {"log(100)", "2|double precision"},
    {"log10(1000)", "3|double precision"},
    {"pi()", "3.141592653589793|double precision"},
    {"degrees(pi())", "180|double precision"},
    {"radians(180)", "3.141592653589793|double precision"},
    {"sin(0)", "0|double precision"},
    {"cos(0)", "1|double precision"},
    {"atan2(1, 1)", "0.7853981633974483|double precision"},
    {"coalesce(NULL, 2, 3)", "2|integer"},
    {"coalesce(NULL, NULL)", "NULL|text"},
    {"coalesce(1, 2.5)", "1|numeric"},
    {"coalesce('a', 'b')", "a|text"},
    {"coalesce(1, 'a')",
     "ERROR 22P02: invalid input syntax for type integer: \"a\""},
    {"coalesce(1, true)",
     "ERROR 42804: COALESCE types integer and boolean cannot be matched"},
    {"coalesce(NULL, 'x'::varchar)", "x|character varying"},
    {"nullif(1, 1)", "NULL|integer"},
    {"nullif(1, 2)", "1|integer"},
    {"nullif(1, 1.0)", "NULL|numeric"},
    {"nullif('a', 'b')", "a|text"},
    {"nullif(NULL, 1)", "NULL|integer"},
    {"nullif(1, 'a')",
     "ERROR 22P02: invalid input syntax for type integer: \"a\""},
    {"greatest(1, 2.5, NULL)", "2.5|numeric"},
    {"greatest(1, 3, 2)", "3|integer"},
    {"least(1, 3, 2)", "1|integer"},
    {"least('b', 'a', 'c')", "a|text"},
    {"greatest(NULL, NULL)", "NULL|text"},
    {"greatest(1::int2, 2::int8)", "2|bigint"},
    {"greatest(date '2020-01-01', timestamp '2019-06-01 10:00')",
     "2020-01-01 00:00:00|timestamp without time zone"},
    {"greatest(1, 'a')",
     "ERROR 22P02: invalid input syntax for type integer: \"a\""},
    {"greatest(true, false)", "true|boolean"},
    {"int4('12')", "12|integer"},
    {"int4(2.5)", "3|integer"},
    {"text(12)", "12|text"},
    {"float8(1)", "1|double precision"},
    {"date('2020-02-03')", "2020-02-03|date"},
    {"bool('t')", "true|boolean"},
    {"int8(true)", "ERROR 42883: function int8(boolean) does not exist"},
    {"extract(year from date '2020-05-17')", "2020|numeric"},
    {"extract(month from timestamp '2020-05-17 12:34:56.5')", "5|numeric"},
    {"extract(day from timestamp '2020-05-17 12:34:56.5')", "17|numeric"},
    {"extract(hour from timestamp '2020-05-17 12:34:56.5')", "12|numeric"},
    {"extract(minute from timestamp '2020-05-17 12:34:56.5')", "34|numeric"},
    {"extract(second from timestamp '2020-05-17 12:34:56.5')",
     "56.500000|numeric"},
    {"extract(milliseconds from timestamp '2020-05-17 12:34:56.5')",
     "56500.000|numeric"},
    {"extract(microseconds from timestamp '2020-05-17 12:34:56.5')",
     "56500000|numeric"},
    {"extract(epoch from timestamp '2020-05-17 12:34:56.5')",
     "1589718896.500000|numeric"},
    {"extract(epoch from timestamptz '2020-05-17 12:34:56.5+02')",
     "1589711696.500000|numeric"},
    {"extract(epoch from date '2020-01-01')", "1577836800|numeric"},
    {"extract(epoch from timestamp '1960-01-01 00:00:00.25')",
     "-315619199.750000|numeric"},
    {"extract(dow from date '2020-01-05')", "0|numeric"},
    {"extract(isodow from date '2020-01-05')", "7|numeric"},
    {"extract(doy from date '2020-12-31')", "366|numeric"},
    {"extract(week from date '2020-01-01')", "1|numeric"},
    {"extract(week from date '2021-01-03')", "53|numeric"},
    {"extract(isoyear from date '2021-01-03')", "2020|numeric"},
    {"extract(quarter from date '2020-05-01')", "2|numeric"},
    {"extract(decade from date '2020-05-01')", "202|numeric"},
    {"extract(century from date '2000-05-01')", "20|numeric"},
    {"extract(century from date '2001-05-01')", "21|numeric"},
    {"extract(millennium from date '2001-05-01')", "3|numeric"},
    {"extract(year from date '0044-03-15 BC')", "-44|numeric"},
    {"extract(century from date '0044-03-15 BC')", "-1|numeric"},
    {"extract(hour from date '2020-01-01')",
     "ERROR 0A000: unit \"hour\" not supported for type date"},
    {"extract(foo from timestamp '2020-05-17 12:00')",
     "ERROR 22023: unit \"foo\" not recognized for type timestamp without time "
     "zone"},
    {"extract(year from 1)",
     "ERROR 42883: function pg_catalog.extract(unknown, integer) does not "
     "exist"},
    {"extract(year from timestamp 'infinity')", "Infinity|numeric"},
    {"extract(month from timestamp 'infinity')", "NULL|numeric"},
    {"extract(timezone from timestamptz '2020-01-01 00:00+00')", "0|numeric"},
    {"extract('year' from timestamp '2020-05-17 12:00')", "2020|numeric"},
    {"extract(YEAR from timestamp '2020-05-17 12:00')", "2020|numeric"},
    {"date_part('year', timestamp '2020-05-17 12:00')",
     "2020|double precision"},
    {"date_part('second', timestamp '2020-05-17 12:34:56.5')",
     "56.5|double precision"},
    {"date_part('epoch', timestamp '2020-05-17 12:34:56.5')",
     "1589718896.5|double precision"},
    {"date_part('hour', date '2020-01-01')", "0|double precision"},
    {"date_part('epoch', date '2020-01-01')", "1577836800|double precision"},
    {"date_part('dow', timestamptz '2020-01-05 23:00+00')",
     "0|double precision"},
    {"date_trunc('month', timestamp '2020-05-17 12:00')",
     "2020-05-01 00:00:00|timestamp without time zone"},
    {"date_trunc('week', timestamp '2020-05-17 12:00')",
     "2020-05-11 00:00:00|timestamp without time zone"},
    {"date_trunc('quarter', timestamp '2020-05-17 12:00')",
     "2020-04-01 00:00:00|timestamp without time zone"},
    {"date_trunc('year', timestamp '2020-05-17 12:00')",
     "2020-01-01 00:00:00|timestamp without time zone"},
    {"date_trunc('day', timestamp '2020-05-17 12:34:56.789')",
     "2020-05-17 00:00:00|timestamp without time zone"},
    {"date_trunc('hour', timestamp '2020-05-17 12:34:56.789')",
     "2020-05-17 12:00:00|timestamp without time zone"},
    {"date_trunc('minute', timestamp '2020-05-17 12:34:56.789')",
     "2020-05-17 12:34:00|timestamp without time zone"},
    {"date_trunc('second', timestamp '2020-05-17 12:34:56.789')",
     "2020-05-17 12:34:56|timestamp without time zone"},
    {"date_trunc('milliseconds', timestamp '2020-05-17 12:34:56.789123')",
     "2020-05-17 12:34:56.789|timestamp without time zone"},
    {"date_trunc('decade', timestamp '2025-05-17 12:00')",
     "2020-01-01 00:00:00|timestamp without time zone"},
    {"date_trunc('century', timestamp '2025-05-17 12:00')",
     "2001-01-01 00:00:00|timestamp without time zone"},
    {"date_trunc('millennium', timestamp '2025-05-17 12:00')",
     "2001-01-01 00:00:00|timestamp without time zone"},
    {"date_trunc('day', timestamptz '2020-05-17 12:34:56+00')",
     "2020-05-17 00:00:00+00|timestamp with time zone"},
    {"date_trunc('day', date '2020-05-17')",
     "2020-05-17 00:00:00+00|timestamp with time zone"},
    {"date_trunc('DAY', timestamp '2020-05-17 12:34:56')",
     "2020-05-17 00:00:00|timestamp without time zone"},
    {"date_trunc('foo', timestamp '2020-05-17 12:00')",
     "ERROR 22023: unit \"foo\" not recognized for type timestamp without time "
     "zone"},
    {"date_trunc('day', timestamp '-infinity')",
     "-infinity|timestamp without time zone"},
    {"date_trunc('week', timestamp '2020-01-01 00:00')",
     "2019-12-30 00:00:00|timestamp without time zone"},
    {"version() LIKE 'PostgreSQL 15%'", "true|boolean"},
    {"pg_table_is_visible(1259)", "true|boolean"},
    {"pg_encoding_to_char(6)", "UTF8|name"},
    {"format_type(23, -1)", "integer|text"},
    {"format_type(1042, -1)", "bpchar|text"},
    {"format_type(1042, 5)", "character(1)|text"},
    {"format_type(1043, 14)", "character varying(10)|text"},
    {"format_type(1043, -1)", "character varying|text"},
    {"format_type(1700, 655366)", "numeric(10,2)|text"},
    {"format_type(1700, -1)", "numeric|text"},
    {"format_type(1114, -1)", "timestamp without time zone|text"},
    {"format_type(1184, -1)", "timestamp with time zone|text"},
    {"format_type(1114, 3)", "timestamp(3) without time zone|text"},
    {"format_type(21, -1)", "smallint|text"},
    {"format_type(0, -1)", "-|text"},
    {"format_type(23, NULL)", "integer|text"},
    {"format_type(NULL, -1)", "NULL|text"},
    {"format_type(16, -1)", "boolean|text"},
    {"format_type(701, -1)", "double precision|text"},
    {"obj_description(1259)", "NULL|text"},
    {"has_table_privilege('pg_class', 'select')", "true|boolean"},
    {"current_setting('no_such_setting')",
     "ERROR 42704: unrecognized configuration parameter \"no_such_setting\""},
    {"current_setting('no_such_setting', true)", "NULL|text"},
    {"foo(1)", "ERROR 42883: function foo(integer) does not exist"},
    {"foo()", "ERROR 42883: function foo() does not exist"},
    {"length()", "ERROR 42883: function length() does not exist"},
    {"substring('abc', 'a', 1)",
     "ERROR 22P02: invalid input syntax for type integer: \"a\""},
    {"0.1 + 0.2", "0.3|numeric"},
    {"1 / 3::numeric", "0.33333333333333333333|numeric"},
    {"10::numeric / 4", "2.5000000000000000|numeric"},
    {"1::numeric / 3 * 3", "0.99999999999999999999|numeric"},
    {"2.50 * 1.5", "3.750|numeric"},
    {"1e300::float8 * 1e300::float8",
     "ERROR 22003: value out of range: overflow"},
    {"1e-300::float8 * 1e-300::float8",
     "ERROR 22003: value out of range: underflow"},
    {"100::int2 * 400::int2", "ERROR 22003: smallint out of range"},
    {"1.5::float4 + 1.5::float4", "3|real"},
    {"1.5::float4 + 1", "2.5|double precision"},
    {"1.5::float4 * 2.5", "3.75|double precision"},
    {"0.1::float8 + 0.2::float8", "0.30000000000000004|double precision"},
    {"3 / 2.0", "1.5000000000000000|numeric"},
    {"-5 % 3::int2", "-2|integer"},
    {"5::int2 / 2::int2", "2|smallint"},
    {"'12' + 1", "13|integer"},
    {"'1.5' + 1",
     "ERROR 22P02: invalid input syntax for type integer: \"1.5\""},
    {"'abc' + 1",
     "ERROR 22P02: invalid input syntax for type integer: \"abc\""},
    {"1 - NULL", "NULL|integer"},
    {"NULL + NULL", "ERROR 42725: operator is not unique: unknown + unknown"},
    {"NULL = 1", "NULL|boolean"},
    {"length(NULL)", "NULL|integer"},
    {"upper(NULL)", "NULL|text"},
    {"coalesce(1::int2, 2::int8)", "1|bigint"},
    {"coalesce(1::int2, 2::float4)", "1|real"},
    {"coalesce(NULL, 1.5, 2)", "1.5|numeric"},
    {"coalesce('1', 2)", "1|integer"},
    {"coalesce(date '2020-01-01', timestamptz '2020-01-01 10:00+00')",
     "2020-01-01 00:00:00+00|timestamp with time zone"},
    {"greatest('a'::varchar, 'b'::text)", "b|character varying"},
    {"greatest('a'::char(2), 'b')", "b|character"},
    {"least(1.5, 1::int8, 2::float4)", "1|real"},
    {"nullif('a'::varchar, 'a'::text)", "NULL|text"},
    {"nullif(2.0, 2)", "NULL|numeric"},
    {"lpad('x', 4, 'éa')", "éaéx|text"},
    {"rpad('x', 4, 'éa')", "xéaé|text"},
    {"substring('\\x010203'::bytea, 2, 1)", "\\x02|bytea"},
    {"substring('\\x010203'::bytea from 2)", "\\x0203|bytea"},
    {"octet_length('\\x0102'::bytea)", "2|integer"},
    {"length('\\x0102'::bytea)", "2|integer"},
    {"position('\\x02'::bytea in '\\x010203'::bytea)", "2|integer"},
    {"md5('\\x00ff'::bytea)", "d07d34efac6328007ad67c7e0a985e00|text"},
    {"'abc' < 'abd'", "true|boolean"},
    {"'abc' < 'ab'", "false|boolean"},
    {"'B' < 'a'", "true|boolean"},
    {"'é' > 'z'", "true|boolean"},
    {"'abc'::varchar < 'abd'::varchar", "true|boolean"},
    {"'a'::char(3) < 'a '::char(1)", "false|boolean"},
    {"'abc'::name < 'b'", "true|boolean"},
    {"1::oid = 1", "true|boolean"},
    {"1::oid < 2::oid", "true|boolean"},
    {"2::int8 > 1::int2", "true|boolean"},
    {"1.0::float4 = 1::int8", "true|boolean"},
    {"1::numeric = 1::float8", "true|boolean"},
    {"0.1::numeric = 0.1::float8", "true|boolean"},
    {"'Infinity'::numeric > 1e100", "true|boolean"},
    {"'-Infinity'::float8 < 0", "true|boolean"},
    {"timestamp '2020-01-01 10:00' < timestamp '2020-01-01 11:00'",
     "true|boolean"},
    {"timestamptz '2020-01-01 10:00+00' >= timestamptz '2020-01-01 11:00+01'",
     "true|boolean"},
    {"date '2020-01-02' > date '2020-01-01'", "true|boolean"},
    {"date 'infinity' > timestamp '2020-01-01'", "true|boolean"},
    {"date '2020-01-01' + 0", "2020-01-01|date"},
    {"date '2020-02-28' + 2", "2020-03-01|date"},
    {"date 'infinity' - 1", "infinity|date"},
    {"date '2020-01-01' - date 'infinity'",
     "ERROR 22008: cannot subtract infinite dates"},
    {"not_a_func('x', 1)",
     "ERROR 42883: function not_a_func(unknown, integer) does not exist"},
    {"abs()", "ERROR 42883: function abs() does not exist"},
    {"round(1, 2, 3)",
     "ERROR 42883: function round(integer, integer, integer) does not exist"},
    {"upper(1.5)", "ERROR 42883: function upper(numeric) does not exist"},
    {"substr('abc', 1.5)",
     "ERROR 42883: function substr(unknown, numeric) does not exist"},
    {"repeat(5, 2)",
     "ERROR 42883: function repeat(integer, integer) does not exist"},
    {"left('abc', '2')", "ab|text"},
    {"split_part('a.b', '.', '2')", "b|text"},
    {"'abc' ~~ 'a%'", "true|boolean"},
    {"'abc' !~~ 'a%'", "false|boolean"},
    {"'ABC' ~~* 'a%'", "true|boolean"},
    {"'ABC' !~~* 'a%'", "false|boolean"},
    {"'a' ^@ ''", "true|boolean"},
    {"'abc' ^@ 'ab'", "true|boolean"},
    {"E'a\\nb' LIKE 'a_b'", "true|boolean"},
    {"'%' LIKE '\\%'", "true|boolean"},
    {"'abc' LIKE 'ABC'", "false|boolean"},
    {"'ABC' ILIKE 'abc'", "true|boolean"},
    {"'AbC' ILIKE 'a_c'", "true|boolean"},
    {"'x' LIKE NULL", "NULL|boolean"},
    {"NULL LIKE 'x'", "NULL|boolean"},
    {"'ab' SIMILAR TO 'a|b'", "false|boolean"},
    {"'a' SIMILAR TO 'a|b'", "true|boolean"},
    {"'aab' SIMILAR TO 'a*b'", "true|boolean"},
    {"'a_b' SIMILAR TO 'a#_b' ESCAPE '#'", "true|boolean"},
    {"'axb' SIMILAR TO 'a#_b' ESCAPE '#'", "false|boolean"},
    {"'abc' ~ 'a.c'", "true|boolean"},
    {"'ABC' ~ '^abc$'", "false|boolean"},
    {"'ABC' ~* '^abc$'", "true|boolean"},
    {"'a+b' ~ 'a\\+b'", "true|boolean"},
    {"'x{2}' ~ 'x{2}'", "false|boolean"},
    {"'xx' ~ '^x{2}$'", "true|boolean"},
    {"'a' ~ '*'",
     "ERROR 2201B: invalid regular expression: quantifier operand invalid"},
    {"'a' ~ 'a{2,1}'",
     "ERROR 2201B: invalid regular expression: invalid repetition count(s)"},
    {"'hello world' ~ '\\w+ \\w+'", "true|boolean"},
    {"'1234' ~ '^\\d+$'", "true|boolean"},
    {"'12a4' ~ '^\\d+$'", "false|boolean"},
    {"'12a4' ~ '^\\D'", "false|boolean"},
    {"'a4' ~ '^\\D'", "true|boolean"},
    {"substring('abc123def' from '[0-9]+')", "123|text"},
    {"substring('abc123def' from '([a-z]+)([0-9]+)')", "abc|text"},
    {"regexp_replace('hello', 'l', 'L')", "heLlo|text"},
    {"regexp_replace('hello', 'l', 'L', 'g')", "heLLo|text"},
    {"regexp_replace('hello', 'x', 'L', 'g')", "hello|text"},
    {"regexp_replace('hello', '(l+)', '<\\1>')", "he<ll>o|text"},
    {"regexp_replace('hello', 'l', '\\&\\&', 'g')", "hellllo|text"},
    {"regexp_replace('hello', 'L', '_', 'gi')", "he__o|text"},
    {"regexp_replace('a', 'a', 'b', 'z')",
     "ERROR 22023: invalid regular expression option: \"z\""},
    {"date_trunc('week', timestamp '2020-05-18 00:00')",
     "2020-05-18 00:00:00|timestamp without time zone"},
    {"date_trunc('week', timestamp '2020-05-24 23:59')",
     "2020-05-18 00:00:00|timestamp without time zone"},
    {"date_trunc('quarter', timestamp '2020-12-31 23:59')",
     "2020-10-01 00:00:00|timestamp without time zone"},
    {"date_trunc('month', timestamptz '2020-05-17 12:00+00')",
     "2020-05-01 00:00:00+00|timestamp with time zone"},
    {"date_trunc('hours', timestamp '2020-05-17 12:34')",
     "2020-05-17 12:00:00|timestamp without time zone"},
    {"date_trunc('mon', timestamp '2020-05-17 12:34')",
     "2020-05-01 00:00:00|timestamp without time zone"},
    {"extract(doy from timestamp '2020-03-01 00:00')", "61|numeric"},
    {"extract(week from date '2020-12-31')", "53|numeric"},
    {"extract(week from date '2018-12-31')", "1|numeric"},
    {"extract(isoyear from date '2018-12-31')", "2019|numeric"},
    {"extract(week from date '2016-01-01')", "53|numeric"},
    {"extract(isoyear from date '2016-01-01')", "2015|numeric"},
    {"extract(dow from timestamp '2000-01-01 00:00')", "6|numeric"},
    {"extract(millennium from date '2000-12-31')", "2|numeric"},
    {"extract(millennium from date '2001-01-01')", "3|numeric"},
    {"extract(decade from date '0001-01-01')", "0|numeric"},
    {"extract(decade from date '0001-01-01 BC')", "0|numeric"},
    {"extract(year from date '0001-01-01 BC')", "-1|numeric"},
    {"extract(day from date 'infinity')", "NULL|numeric"},
    {"extract(epoch from date 'infinity')", "Infinity|numeric"},
    {"extract(epoch from timestamp '1970-01-01 00:00')", "0.000000|numeric"},
    {"extract(epoch from timestamp '1969-12-31 23:59:59.5')",
     "-0.500000|numeric"},
    {"extract(second from timestamp '2020-01-01 00:00:00')",
     "0.000000|numeric"},
    {"extract(hour from timestamptz '2020-01-01 23:30+00')", "23|numeric"},
    {"date_part('month', date '2020-05-17')", "5|double precision"},
    {"date_part('quarter', timestamptz '2020-05-17 00:00+00')",
     "2|double precision"},
    {"date_part('milliseconds', timestamp '2020-05-17 12:34:56.789')",
     "56789|double precision"},
    {"date_part('microseconds', timestamp '2020-05-17 12:34:56.789')",
     "56789000|double precision"},
    {"date_part('week', timestamp '2020-05-17 12:34:56.789')",
     "20|double precision"},
    {"date_part('year', timestamp 'infinity')", "Infinity|double precision"},
    {"date_part('hour', timestamp 'infinity')", "NULL|double precision"},
    {"date_part('foo', date '2020-01-01')",
     "ERROR 22023: unit \"foo\" not recognized for type timestamp without time "
     "zone"},
    {"to_char(timestamp '2020-05-07 13:04:05.123456', 'YYYY-MM-DD HH24:MI:SS')",
     "2020-05-07 13:04:05|text"},
    {"to_char(timestamp '2020-05-07 13:04:05.123456', "
     "'YYYY-MM-DD\"T\"HH24:MI:SS.MS US')",
     "2020-05-07T13:04:05.123 123456|text"},
    {"to_char(timestamp '2020-05-07 03:04:05', 'HH12:MI AM, HH:MI pm, Day DY "
     "dy Month MON mon Mon')",
     "03:04 AM, 03:04 am, Thursday  THU thu May       MAY may May|text"},
    {"to_char(timestamp '2020-05-07 15:04:05', 'HH12:MI PM a.m.')",
     "03:04 PM p.m.|text"},
    {"to_char(timestamp '2020-05-07 03:04:05', 'FMDay, FMMonth FMDD FMHH12 DDD "
     "D Q YY YYY IW WW J')",
     "Thursday, May 7 3 128 5 2 20 020 19 19 2458977|text"},
    {"to_char(timestamptz '2020-05-07 03:04:05+00', 'YYYY-MM-DD HH24:MI:SS TZ "
     "OF')",
     "2020-05-07 03:04:05 UTC +00|text"},
    {"to_char(date '2020-05-07', 'DD/MM/YYYY')", "07/05/2020|text"},
    {"to_char(timestamp '2020-05-07 03:04:05', 'dd \"of\" month yyyy')",
     "07 of may       2020|text"},
    {"to_char(timestamp '2020-05-07 03:04:05', 'FMMonth')", "May|text"},
    {"to_char(timestamp '2020-05-07 03:04:05', 'DDth Mon')", "07th May|text"},
    {"to_char(timestamp '2020-05-07 03:04:05', 'SSSS CC')", "11045 21|text"},
    {"to_char(timestamp '2020-05-07 03:04:05', 'YYYY\\MM')", "2020\\05|text"},
    {"to_char(12345.678, '99999.99')", " 12345.68|text"},
    {"to_char(12345.678, 'FM99999.99')", "12345.68|text"},
    {"to_char(-12.5, '999.9')", " -12.5|text"},
    {"to_char(12, '0000')", " 0012|text"},
    {"to_char(1234567, '9,999,999')", " 1,234,567|text"},
    {"to_char(1234567, 'FM9,999,999')", "1,234,567|text"},
    {"to_char(123, '99')", " ##|text"},
    {"to_char(0.5, '9.99')", "  .50|text"},
    {"to_char(0.5, '0.99')", " 0.50|text"},
    {"to_char(0.5, 'FM0.00')", "0.50|text"},
    {"to_char(-0.5, 'FM990.00')", "-0.50|text"},
    {"to_char(3.14159::float8, '9.999')", " 3.142|text"},
    {"to_char(42, 'FM999')", "42|text"},
    {"to_char(42::int8, '999')", "  42|text"},
    {"to_char(-42, 'S999')", " -42|text"},
    {"to_char(42, 'S999')", " +42|text"},
    {"to_char(1.5, 'FM9.9')", "1.5|text"},
    {"to_char(12.0, 'FM99.99')", "12.|text"},
    {"to_char(12, 'FM99.')", "12|text"},
    {"to_char(1234.5, '9G999D99')", " 1,234.50|text"},
    {"to_char(0, '999')", "   0|text"},
    {"to_char(0, 'FM999')", "0|text"},
    {"to_char(0.5, '999.99')", "    .50|text"},
    {"to_char(-0.5, '999.99')", "   -.50|text"},
    {"to_char(5, '0999')", " 0005|text"},
    {"to_char(5, '9099')", "  005|text"},
    {"to_char(12, '9,999')", "    12|text"},
    {"to_char(-1234, '9,999')", "-1,234|text"},
    {"to_char(12345, '9,999')", " #,###|text"},
    {"to_char(-12345, 'FM9,999')", "-#,###|text"},
    {"to_char(1.005, '9.99')", " 1.01|text"},
    {"to_char(2.5::float8, '9')", " 2|text"},
    {"to_char(-3, '999S')", "  3-|text"},
    {"to_char(0, '9.99')", "  .00|text"},
    {"to_char(0, 'FM9.99')", "0.|text"},
    {"to_char(1, 'FM9.90')", "1.00|text"},
    {"to_char(100, 'FM999.')", "100|text"},
    {"to_char(0.5, 'FM9.99')", ".5|text"},
    {"to_char(-0.001, '9.99')", "  .00|text"},
    {"to_char(1e6::float8, '9999999')", " 1000000|text"},
    {"to_char(timestamp '2020-05-01 03:04:05', 'DDth Mon')", "01st May|text"},
    {"to_char(timestamp '2020-05-02 03:04:05', 'FMDDTH')", "2ND|text"},
    {"to_char(timestamp '2020-05-13 03:04:05', 'DDth')", "13th|text"},
    {"to_char(timestamp '2020-05-23 03:04:05', 'DDth')", "23rd|text"},
    {"'2020-01-01' + 1",
     "ERROR 22P02: invalid input syntax for type integer: \"2020-01-01\""},
    {"'1' = 1.5", "false|boolean"},
    {"'a' < 'b'::varchar", "true|boolean"},
    {"'a'::name = 'a'::varchar", "true|boolean"},
    {"'pg_class'::name ~ '^pg_'", "true|boolean"},
    {"'pg_class'::name LIKE 'pg\\_%'", "true|boolean"},
    {"@ -5.5", "5.5|numeric"},
    {"abs(-0.0)", "0.0|numeric"},
    {"round(-0.5)", "-1|numeric"},
    {"round(0.5::float8)", "0|double precision"},
    {"round(1234.5678, -2)", "1200|numeric"},
    {"trunc(1234.5678, -2)", "1200|numeric"},
    {"trunc(1234.5678, 2)", "1234.56|numeric"},
    {"ceil(-0.5)", "0|numeric"},
    {"ceil(-0.5::float8)", "-0|double precision"},
    {"floor(0.5)", "0|numeric"},
    {"mod(-7.5, 2)", "-1.5|numeric"},
    {"12 / 0.0", "ERROR 22012: division by zero"},
    {"'infinity'::numeric + 1", "Infinity|numeric"},
    {"'NaN'::numeric * 0", "NaN|numeric"},
    {"date '2020-01-31' + 30", "2020-03-01|date"},
    {"substring('abc' from 2 for 0)", "|text"},
    {"concat_ws('', 'a', 'b')", "ab|text"},
    {"split_part('', ',', 1)", "|text"},
    {"repeat('', 5)", "|text"},
    {"strpos('', '')", "1|integer"},
    {"position('' in '')", "1|integer"},
    {"left('', 1)", "|text"},
    {"reverse('')", "|text"},
    {"upper('')", "|text"},
    {"length('')", "0|integer"},
    {"replace('', 'a', 'b')", "|text"},
    {"translate('abc', 'abc', '')", "|text"},
    {"btrim('', 'x')", "|text"},
    {"btrim('xxx', 'x')", "|text"},
    {"starts_with('', '')", "true|boolean"},
    {"md5('é')", "66ddcd97cfdeabb2f6fb8a999b4bc76f|text"},
    {"to_hex(0)", "0|text"},
    {"chr(1114112)",
     "ERROR 54000: requested character too large for encoding: 1114112"},
    {"chr(-1)", "ERROR 22023: character number must be positive"},
    {"greatest(1, NULL::int)", "1|integer"},
    {"2::numeric / 3", "0.66666666666666666667|numeric"},
    {"1 / 3.0", "0.33333333333333333333|numeric"},
    {"10 / 4.0", "2.5000000000000000|numeric"},
    {"1000000 / 3.0", "333333.333333333333|numeric"},
    {"0.000001 / 3", "0.000000333333333333333333|numeric"},
    {"(-32768)::int2 / (-1)::int2", "ERROR 22003: smallint out of range"},
    {"(-9223372036854775808)::int8 % -1", "0|bigint"},
    {"@ (-9223372036854775807 - 1)", "ERROR 22003: bigint out of range"},
    {"1::int2 << 15", "-32768|smallint"},
    {"1 << 31", "-2147483648|integer"},
    {"1 << 32", "1|integer"},
    {"-8 >> 1", "-4|integer"},
    {"1::int8 << 63", "-9223372036854775808|bigint"},
    {"1.1::float4 * 3", "3.3000000715255737|double precision"},
    {"1.1::float4 * 3::float4", "3.3000002|real"},
    {"(-8) ^ (1.0/3)", "ERROR 2201F: a negative number raised to a non-integer "
                       "power yields a complex result"},
    {"0 ^ -1", "ERROR 2201F: zero raised to a negative power is undefined"},
    {"10 ^ 400", "ERROR 22003: value out of range: overflow"},
    {"'abc' || 'é' || 3.0", "abcé3.0|text"},
    {"(1::int2 + 2::int2) * 10000::int2", "30000|smallint"},
    {"5 - 10::int8", "-5|bigint"},
    {"2.5::float4 - 1", "1.5|double precision"},
    {"-(1.5::float4)", "-1.5|real"},
    {"1 - 0.5::float4", "0.5|double precision"},
    {"'1 day' + 1",
     "ERROR 22P02: invalid input syntax for type integer: \"1 day\""},
    {"to_timestamp(1577836800)",
     "2020-01-01 00:00:00+00|timestamp with time zone"},
    {"to_timestamp(1577836800.5)",
     "2020-01-01 00:00:00.5+00|timestamp with time zone"},
    {"to_timestamp(0)", "1970-01-01 00:00:00+00|timestamp with time zone"},
    {"to_timestamp('Infinity'::float8)", "infinity|timestamp with time zone"},
    {"to_timestamp('NaN'::float8)", "ERROR 22008: timestamp cannot be NaN"},
    {"to_timestamp(1e20)", "ERROR 22008: timestamp out of range: \"1e+20\""},
    {"make_date(2020, 2, 29)", "2020-02-29|date"},
    {"make_date(-44, 3, 15)", "0044-03-15 BC|date"},
    {"make_timestamp(2020, 1, 2, 3, 4, 5.5)",
     "2020-01-02 03:04:05.5|timestamp without time zone"},
    {"make_date(2021, 2, 29)",
     "ERROR 22008: date field value out of range: 2021-02-29"},
    {"make_date(0, 1, 1)",
     "ERROR 22008: date field value out of range: 0-01-01"},
    {"isfinite(date 'infinity')", "false|boolean"},
    {"isfinite(timestamp '2020-01-01')", "true|boolean"},
    {"num_nulls(1, null, 'a', null)", "2|integer"},
    {"num_nonnulls(1, null, 'a')", "2|integer"},
    {"format('Hello %s, %I, %L, %L, %%, %2$s', 'world', 'Foo Bar', 'it''s', "
     "NULL)",
     "Hello world, \"Foo Bar\", 'it''s', NULL, %, Foo Bar|text"},
    {"format('%s', null)", "|text"},
    {"format(null)", "NULL|text"},
    {"format('%s and %s', 1)", "ERROR 22023: too few arguments for format()"},
    {"format('%L', null)", "NULL|text"},
    {"format('%x', 1)",
     "ERROR 22023: unrecognized format() type specifier \"x\""},
    {"format('%5s|%-5s|', 'a', 'b')", "    a|b    ||text"},
    {"format('%s %s', true, 2.50)", "t 2.50|text"},
    {"format('%I', NULL)",
     "ERROR 22004: null values cannot be formatted as an SQL identifier"},
    {"format('%I', 'abc')", "abc|text"},
    {"format('abc %')", "ERROR 22023: unterminated format() type specifier"},
    {"format('%1$s %1$s', 'x')", "x x|text"},
    {"format('%L', 'a\\b')", "E'a\\\\b'|text"},
    {"'a]' ~ '^[]a]+$'", "true|boolean"},
    {"'b' ~ '^[^]a]$'", "true|boolean"},
    {"']' ~ '^[^]a]$'", "false|boolean"},
    {"'a b' ~ '^a[\\s]b$'", "true|boolean"},
    {"'a_1' ~ '^[\\w]+$'", "true|boolean"},
    {"'x-1' ~ '^[[:alpha:]]-[[:digit:]]$'", "true|boolean"},
    {"'ab' ~ '(?:a)b'", "true|boolean"},
    {"'abab' ~ '^(ab)\\1$'", "true|boolean"},
    {"encode('\\x0102ff'::bytea, 'hex')", "0102ff|text"},
    {"encode('hello'::bytea, 'base64')", "aGVsbG8=|text"},
    {"encode('\\x00ff41'::bytea, 'escape')", "\\000\\377A|text"},
    {"decode('0102ff', 'hex')", "\\x0102ff|bytea"},
    {"decode('aGVsbG8=', 'base64')", "\\x68656c6c6f|bytea"},
    {"decode('a\\000b', 'escape')", "\\x610062|bytea"},
    {"replace(encode(repeat('x', 60)::bytea, 'base64'), chr(10), '|')",
     "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4e"
     "Hh4|eHh4|text"},
    {"decode('zz', 'hex')", "ERROR 22023: invalid hexadecimal digit: \"z\""},
    {"decode('abc', 'hex')",
     "ERROR 22023: invalid hexadecimal data: odd number of digits"},
    {"encode('a'::bytea, 'foo')",
     "ERROR 22023: unrecognized encoding: \"foo\""},
    {"decode('a', 'base64')", "ERROR 22023: invalid base64 end sequence"},
    {"decode('aGVsbA==', 'base64')", "\\x68656c6c|bytea"},
    {"decode('aGVsbA=', 'base64')", "ERROR 22023: invalid base64 end sequence"},
    {"decode('aGV$bA==', 'base64')",
     "ERROR 22023: invalid symbol \"$\" found while decoding base64 sequence"},
    {"encode('\\x5c'::bytea, 'escape')", "\\\\|text"},
    {"decode('\\\\', 'escape')", "\\x5c|bytea"},
    {"decode('\\9', 'escape')",
     "ERROR 22P02: invalid input syntax for type bytea"},
    {"encode('', 'base64')", "|text"},
    {"encode('ab'::bytea, 'HEX')", "6162|text"},
    {"extract(timezone from timestamp '2020-01-01')",
     "ERROR 0A000: unit \"timezone\" not supported for type timestamp without "
     "time zone"},
    {"extract(timezone from date '2020-01-01')",
     "ERROR 0A000: unit \"timezone\" not supported for type date"},
    {"date_trunc('dow', timestamp '2020-01-01')",
     "ERROR 22023: unit \"dow\" not recognized for type timestamp without time "
     "zone"},
    {"date_trunc('epoch', timestamptz '2020-01-01')",
     "ERROR 22023: unit \"epoch\" not recognized for type timestamp with time "
     "zone"},
    {"extract(julian from timestamp '2020-01-01 12:00')",
     "2458850.50000000000000000000|numeric"},
    {"extract(julian from date '2020-01-01')", "2458850|numeric"},
    {"date_part('julian', timestamp '2020-01-01 12:00')",
     "2458850.5|double precision"},
    {"extract(j from timestamp '2020-01-01 06:00:00.5')",
     "2458850.25000578703703703704|numeric"},
    {"sqrt(2.0)", "1.414213562373095|numeric"},
    {"sqrt(2::numeric)", "1.414213562373095|numeric"},
    {"sqrt(16.0)", "4.000000000000000|numeric"},
    {"sqrt(0.0001)", "0.01000000000000000|numeric"},
    {"sqrt(123456789.123)", "11111.11106609056|numeric"},
    {"sqrt(1e-20::numeric)", "0.0000000001000000000000000|numeric"},
    {"sqrt(0::numeric)", "0.000000000000000|numeric"},
    {"sqrt(2.00000000000000000000)", "1.41421356237309504880|numeric"},
    {"sqrt(-1.0)", "ERROR 2201F: cannot take square root of a negative number"},
    {"sqrt('NaN'::numeric)", "NaN|numeric"},
    {"sqrt('Infinity'::numeric)", "Infinity|numeric"},
    {"power(2.5, 2)", "6.2500000000000000|numeric"},
    {"pow(2.5, 2)", "6.2500000000000000|numeric"},
    {"2.0 ^ 3", "8.0000000000000000|numeric"},
    {"2::numeric ^ 10", "1024.0000000000000000|numeric"},
    {"1.5 ^ 3", "3.3750000000000000|numeric"},
    {"2.0 ^ -1", "0.5000000000000000|numeric"},
    {"10.0 ^ 20", "100000000000000000000.0000000000000000|numeric"},
    {"0.5 ^ 10", "0.0009765625000000|numeric"},
    {"2.0 ^ 0.5", "1.4142135623730950|numeric"},
    {"(-2.0) ^ 3", "-8.0000000000000000|numeric"},
    {"2.0 ^ 100", "1267650600228229401496703205376.0000000000000000|numeric"},
    {"1.5 ^ 2.5", "2.7556759606310754|numeric"},
    {"9.0 ^ 0.5", "3.0000000000000000|numeric"},
    {"2.000000000000000000000 ^ 3", "8.000000000000000000000|numeric"},
    {"0.0 ^ 0", "1.0000000000000000|numeric"},
    {"'NaN'::numeric ^ 0", "1|numeric"},
    {"1.0 ^ 'NaN'::numeric", "1|numeric"},
    {"2 ^ 'NaN'::numeric", "NaN|numeric"},
    {"0.0 ^ 2.5", "0.0000000000000000|numeric"},
    {"10.0 ^ -2", "0.0100000000000000|numeric"},
    {"3.0 ^ -1", "0.3333333333333333|numeric"},
    {"(-2.0) ^ 0.5", "ERROR 2201F: a negative number raised to a non-integer "
                     "power yields a complex result"},
    {"0.0 ^ -1", "ERROR 2201F: zero raised to a negative power is undefined"},
    {"100.0 ^ 0.5", "10.000000000000000|numeric"},
    {"1.0001 ^ 10000", "2.7181459268252249|numeric"},
    {"0.9 ^ 1000", "0.0000000000000000|numeric"},
    {"2 ^ 0.5", "1.4142135623730950|numeric"},
    {"2 ^ 10", "1024|double precision"},
    {"chr(55296)",
     "ERROR 54000: requested character not valid for encoding: 55296"},
    {"chr(1114111) = chr(1114111)", "true|boolean"},
    {"initcap('hello_world 1abc aBC')", "Hello_World 1abc Abc|text"},
    {"lower('ÀB')", "àb|text"},
    {"translate('héllo', 'é', 'e')", "hello|text"},
    {"reverse('a\\u00e9b')", "b9e00u\\a|text"},
    {"quote_ident('select')", "\"select\"|text"},
    {"quote_ident('_x1')", "_x1|text"},
    {"quote_ident('')", "\"\"|text"},
    {"upper('àéîõüÿ ß')", "ÀÉÎÕÜŸ ß|text"},
    {"lower('ÀÉÎÕÜŸ')", "àéîõüÿ|text"},
    {"upper('ąčęłńšž')", "ĄČĘŁŃŠŽ|text"},
    {"lower('ĄČĘŁŃŠŽ')", "ąčęłńšž|text"},
    {"upper('αβγδεσς')", "ΑΒΓΔΕΣΣ|text"},
    {"lower('ΑΒΓΔΣ')", "αβγδσ|text"},
    {"upper('привет ёж')", "ПРИВЕТ ЁЖ|text"},
    {"lower('ПРИВЕТ ЁЖ')", "привет ёж|text"},
    {"initcap('élan vital ÉCOLE')", "Élan Vital École|text"},
    {"initcap('héllo wörld')", "Héllo Wörld|text"},
    {"upper('日本')", "日本|text"},
    {"format('%I', 'select')", "\"select\"|text"},
    {"format('%I', 'Col')", "\"Col\"|text"},
    {"quote_ident('user')", "\"user\"|text"},
    {"quote_ident('left')", "\"left\"|text"},
    {"quote_ident('name')", "name|text"},
    {"'ÉCOLE' ILIKE 'école'", "true|boolean"},
    {"'ÉCOLE' ILIKE 'é%'", "true|boolean"},
    {"'Straße' ILIKE 'STRASSE'", "false|boolean"},
    {"'ПРИВЕТ' ILIKE 'привет'", "true|boolean"},
    {"'[' || concat('a'::char(3), 'b') || ']'", "[a  b]|text"},
    {"'[' || concat_ws(',', 'a'::char(3), 'b') || ']'", "[a  ,b]|text"},
    {"'[' || format('%s|', 'a'::char(3)) || ']'", "[a  |]|text"},
    {"'[' || ('a'::char(3) || 'b') || ']'", "[ab]|text"},
    {"to_date('2020-05-17', 'YYYY-MM-DD')", "2020-05-17|date"},
    {"to_date('17/05/2020', 'DD/MM/YYYY')", "2020-05-17|date"},
    {"to_date('20200517', 'YYYYMMDD')", "2020-05-17|date"},
    {"to_date('May 17 2020', 'Mon DD YYYY')", "2020-05-17|date"},
    {"to_date('17 December 2020', 'DD Month YYYY')", "2020-12-17|date"},
    {"to_date('05', 'MM')", "0001-05-01 BC|date"},
    {"to_date('2020-5-7', 'YYYY-MM-DD')", "2020-05-07|date"},
    {"to_date('  2020-05-17', 'YYYY-MM-DD')", "2020-05-17|date"},
    {"to_date('2020-13-01', 'YYYY-MM-DD')",
     "ERROR 22008: date/time field value out of range: \"2020-13-01\""},
    {"to_date('2020-02-30', 'YYYY-MM-DD')",
     "ERROR 22008: date/time field value out of range: \"2020-02-30\""},
    {"to_date('abcd-01-01', 'YYYY-MM-DD')",
     "ERROR 22007: invalid value \"abcd\" for \"YYYY\""},
    {"to_date('2020-Foo-01', 'YYYY-Mon-DD')",
     "ERROR 22007: invalid value \"Foo-01\" for \"Mon\""},
    {"to_date('99-01-02', 'YY-MM-DD')", "1999-01-02|date"},
    {"to_date('05-01-02', 'YY-MM-DD')", "2005-01-02|date"},
    {"to_timestamp('2020-05-17 13:04:05', 'YYYY-MM-DD HH24:MI:SS')",
     "2020-05-17 13:04:05+00|timestamp with time zone"},
    {"to_timestamp('2020-05-17 01:04:05 PM', 'YYYY-MM-DD HH12:MI:SS AM')",
     "2020-05-17 13:04:05+00|timestamp with time zone"},
    {"to_timestamp('2020-05-17 12:04:05 AM', 'YYYY-MM-DD HH12:MI:SS AM')",
     "2020-05-17 00:04:05+00|timestamp with time zone"},
    {"to_timestamp('2020-05-17 13:04:05.123', 'YYYY-MM-DD HH24:MI:SS.MS')",
     "2020-05-17 13:04:05.123+00|timestamp with time zone"},
    {"to_timestamp('2020-05-17 13:04:05.5', 'YYYY-MM-DD HH24:MI:SS.US')",
     "2020-05-17 13:04:05.5+00|timestamp with time zone"},
    {"to_timestamp('2020', 'YYYY')",
     "2020-01-01 00:00:00+00|timestamp with time zone"},
    {"to_timestamp('13:04', 'HH12:MI')",
     "ERROR 22007: hour \"13\" is invalid for the 12-hour clock"},
    {"to_timestamp('2020-05-17T10:00', 'YYYY-MM-DD\"T\"HH24:MI')",
     "2020-05-17 10:00:00+00|timestamp with time zone"},
    {"to_number('12,454.8-', '99G999D9S')", "-12454.8|numeric"},
    {"to_number('1,234.56', '9,999.99')", "1234.56|numeric"},
    {"to_number('-12', '999')", "-12|numeric"},
    {"to_number(' 42 ', '999')", "42|numeric"},
    {"to_number('12345', '99')", "12|numeric"},
    {"to_number('12.345', '99.9')", "12.3|numeric"},
};

static void test_pg_cases(void **state)
{
    (void)state;
    run_cases(pg_cases, sizeof pg_cases / sizeof pg_cases[0]);
}

/* The same with the session TimeZone two hours east of UTC (PostgreSQL:
 * SET timezone = 'UTC-2'). */
static const expr_case pg_tz_cases[] = {
    {"timestamptz '2020-01-01 23:30+00'",
     "2020-01-02 01:30:00+02|timestamp with time zone"},
    {"extract(hour from timestamptz '2020-01-01 23:30+00')", "1|numeric"},
    {"extract(day from timestamptz '2020-01-01 23:30+00')", "2|numeric"},
    {"extract(timezone from timestamptz '2020-01-01 23:30+00')",
     "7200|numeric"},
    {"extract(timezone_hour from timestamptz '2020-01-01 23:30+00')",
     "2|numeric"},
    {"extract(epoch from timestamptz '2020-01-01 00:00+00')",
     "1577836800.000000|numeric"},
    {"date_part('hour', timestamptz '2020-01-01 23:30+00')",
     "1|double precision"},
    {"date_trunc('day', timestamptz '2020-05-17 23:30+00')",
     "2020-05-18 00:00:00+02|timestamp with time zone"},
    {"date_trunc('day', timestamp '2020-05-17 23:30')",
     "2020-05-17 00:00:00|timestamp without time zone"},
    {"date_trunc('month', timestamptz '2020-05-31 23:30+00')",
     "2020-06-01 00:00:00+02|timestamp with time zone"},
    {"date_trunc('day', date '2020-05-17')",
     "2020-05-17 00:00:00+02|timestamp with time zone"},
    {"timestamp '2020-01-01 10:00' = timestamptz '2020-01-01 08:00+00'",
     "true|boolean"},
    {"timestamp '2020-01-01 10:00' > timestamptz '2020-01-01 09:00+00'",
     "false|boolean"},
    {"date '2020-01-02' = timestamptz '2020-01-01 22:00+00'", "true|boolean"},
    {"date '2020-01-02' < timestamptz '2020-01-01 23:00+00'", "true|boolean"},
    {"greatest(timestamp '2020-01-01 10:00', timestamptz '2020-01-01 "
     "08:30+00')",
     "2020-01-01 10:30:00+02|timestamp with time zone"},
    {"'x' || timestamptz '2020-01-01 00:00+00'",
     "x2020-01-01 02:00:00+02|text"},
    {"concat(timestamptz '2020-01-01 00:00+00', 1)",
     "2020-01-01 02:00:00+021|text"},
    {"nullif(timestamp '2020-01-01 10:00', timestamptz '2020-01-01 08:00+00')",
     "NULL|timestamp without time zone"},
};

static void test_pg_tz_cases(void **state)
{
    (void)state;
    sql_tz tz;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_tz_parse("UTC-2", &tz, &err), DC_OK);
    assert_int_equal(tz.offset, 7200);
    g_ctx.tz = &tz;
    run_cases(pg_tz_cases, sizeof pg_tz_cases / sizeof pg_tz_cases[0]);
    g_ctx.tz = NULL;
}

/* ---- resolution -------------------------------------------------------- */

static void check_oper(const char *op, uint32_t l, uint32_t r, uint32_t a0,
                       uint32_t a1, uint32_t ret)
{
    sql_func_resolved res;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_oper_resolve(op, false, l, r, &res, &err), DC_OK);
    assert_int_equal(res.nargs, 2);
    assert_int_equal(res.argtypes[0], a0);
    assert_int_equal(res.argtypes[1], a1);
    assert_int_equal(res.rettype, ret);
    assert_true(res.flags & SQL_FN_STRICT);
    assert_non_null(res.fn);
}

static void test_oper_resolution(void **state)
{
    (void)state;
    /* an unknown literal takes the other side's type */
    check_oper("=", DC_TYPE_UNKNOWN, DC_TYPE_INT4, DC_TYPE_INT4, DC_TYPE_INT4,
               DC_TYPE_BOOL);
    check_oper("<", DC_TYPE_INT8, DC_TYPE_UNKNOWN, DC_TYPE_INT8, DC_TYPE_INT8,
               DC_TYPE_BOOL);
    check_oper("=", DC_TYPE_UNKNOWN, DC_TYPE_UNKNOWN, DC_TYPE_TEXT,
               DC_TYPE_TEXT, DC_TYPE_BOOL);
    /* cross-width integer operators need no cast */
    check_oper("=", DC_TYPE_INT2, DC_TYPE_INT8, DC_TYPE_INT2, DC_TYPE_INT8,
               DC_TYPE_BOOL);
    check_oper("+", DC_TYPE_INT2, DC_TYPE_INT4, DC_TYPE_INT2, DC_TYPE_INT4,
               DC_TYPE_INT4);
    /* promotion */
    check_oper("=", DC_TYPE_INT4, DC_TYPE_NUMERIC, DC_TYPE_NUMERIC,
               DC_TYPE_NUMERIC, DC_TYPE_BOOL);
    check_oper("=", DC_TYPE_INT4, DC_TYPE_FLOAT8, DC_TYPE_FLOAT8,
               DC_TYPE_FLOAT8, DC_TYPE_BOOL);
    check_oper("*", DC_TYPE_NUMERIC, DC_TYPE_FLOAT8, DC_TYPE_FLOAT8,
               DC_TYPE_FLOAT8, DC_TYPE_FLOAT8);
    check_oper("+", DC_TYPE_INT4, DC_TYPE_NUMERIC, DC_TYPE_NUMERIC,
               DC_TYPE_NUMERIC, DC_TYPE_NUMERIC);
    check_oper("%", DC_TYPE_INT4, DC_TYPE_INT8, DC_TYPE_INT8, DC_TYPE_INT8,
               DC_TYPE_INT8);
    /* the text family compares as text */
    check_oper("=", DC_TYPE_VARCHAR, DC_TYPE_VARCHAR, DC_TYPE_TEXT,
               DC_TYPE_TEXT, DC_TYPE_BOOL);
    check_oper("=", DC_TYPE_BPCHAR, DC_TYPE_TEXT, DC_TYPE_TEXT, DC_TYPE_TEXT,
               DC_TYPE_BOOL);
    check_oper("=", DC_TYPE_BPCHAR, DC_TYPE_BPCHAR, DC_TYPE_BPCHAR,
               DC_TYPE_BPCHAR, DC_TYPE_BOOL);
    check_oper("~~", DC_TYPE_VARCHAR, DC_TYPE_UNKNOWN, DC_TYPE_TEXT,
               DC_TYPE_TEXT, DC_TYPE_BOOL);
    /* mixed date/time operators exist as such */
    check_oper("<", DC_TYPE_DATE, DC_TYPE_TIMESTAMPTZ, DC_TYPE_DATE,
               DC_TYPE_TIMESTAMPTZ, DC_TYPE_BOOL);
    check_oper("-", DC_TYPE_DATE, DC_TYPE_DATE, DC_TYPE_DATE, DC_TYPE_DATE,
               DC_TYPE_INT4);
    /* || */
    check_oper("||", DC_TYPE_UNKNOWN, DC_TYPE_INT4, DC_TYPE_TEXT, DC_TYPE_INT4,
               DC_TYPE_TEXT);
    check_oper("||", DC_TYPE_VARCHAR, DC_TYPE_BPCHAR, DC_TYPE_TEXT,
               DC_TYPE_TEXT, DC_TYPE_TEXT);
    check_oper("||", DC_TYPE_BYTEA, DC_TYPE_BYTEA, DC_TYPE_BYTEA, DC_TYPE_BYTEA,
               DC_TYPE_BYTEA);

    /* != is <> */
    sql_func_resolved res;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(
        sql_oper_resolve("!=", false, DC_TYPE_INT4, DC_TYPE_INT4, &res, &err),
        DC_OK);
    assert_string_equal(res.name, "<>");

    /* prefix */
    assert_int_equal(sql_oper_resolve("-", true, DC_TYPE_UNKNOWN,
                                      DC_TYPE_NUMERIC, &res, &err),
                     DC_OK);
    assert_int_equal(res.nargs, 1);
    assert_int_equal(res.rettype, DC_TYPE_NUMERIC);
}

static void test_oper_errors(void **state)
{
    (void)state;
    sql_func_resolved res;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(
        sql_oper_resolve("+", false, DC_TYPE_INT4, DC_TYPE_BOOL, &res, &err),
        DC_ETYPE);
    assert_string_equal(err.sqlstate, "42883");
    assert_string_equal(err.message,
                        "operator does not exist: integer + boolean");
    assert_string_equal(err.hint,
                        "No operator matches the given name and argument "
                        "types. You might need to add explicit type casts.");
    dc_error_init(&err);
    assert_int_equal(
        sql_oper_resolve("-", true, DC_TYPE_UNKNOWN, DC_TYPE_BOOL, &res, &err),
        DC_ETYPE);
    assert_string_equal(err.message, "operator does not exist: - boolean");
    assert_string_equal(err.hint,
                        "No operator matches the given name and argument "
                        "type. You might need to add an explicit type cast.");
    dc_error_init(&err);
    assert_int_equal(sql_oper_resolve("+", false, DC_TYPE_UNKNOWN,
                                      DC_TYPE_UNKNOWN, &res, &err),
                     DC_ETYPE);
    assert_string_equal(err.sqlstate, "42725");
    assert_string_equal(err.message,
                        "operator is not unique: unknown + unknown");
    assert_string_equal(err.hint, "Could not choose a best candidate "
                                  "operator. You might need to add explicit "
                                  "type casts.");
    dc_error_init(&err);
    assert_int_equal(
        sql_oper_resolve("=", false, DC_TYPE_BYTEA, DC_TYPE_INT4, &res, &err),
        DC_ETYPE);
    assert_string_equal(err.message,
                        "operator does not exist: bytea = integer");
    assert_int_equal(
        sql_oper_resolve("===", false, DC_TYPE_INT4, DC_TYPE_INT4, &res, &err),
        DC_ETYPE);
    assert_string_equal(err.message,
                        "operator does not exist: integer === integer");
}

static void test_func_resolution(void **state)
{
    (void)state;
    sql_func_resolved res;
    dc_error err;
    dc_error_init(&err);
    uint32_t i4 = DC_TYPE_INT4, unk = DC_TYPE_UNKNOWN;

    assert_int_equal(sql_func_resolve("foo", 1, &i4, &res, &err), DC_ETYPE);
    assert_string_equal(err.sqlstate, "42883");
    assert_string_equal(err.message, "function foo(integer) does not exist");
    assert_string_equal(err.hint,
                        "No function matches the given name and argument "
                        "types. You might need to add explicit type casts.");
    uint32_t two[2] = {DC_TYPE_INT4, DC_TYPE_UNKNOWN};
    assert_int_equal(sql_func_resolve("foo", 2, two, &res, &err), DC_ETYPE);
    assert_string_equal(err.message,
                        "function foo(integer, unknown) does not exist");

    /* unknown literal: the string category wins */
    assert_int_equal(sql_func_resolve("length", 1, &unk, &res, &err), DC_OK);
    assert_int_equal(res.argtypes[0], DC_TYPE_TEXT);
    assert_int_equal(res.rettype, DC_TYPE_INT4);
    assert_true(res.flags & SQL_FN_STRICT);
    /* numbers: the preferred float8 */
    assert_int_equal(sql_func_resolve("sign", 1, &i4, &res, &err), DC_OK);
    assert_int_equal(res.argtypes[0], DC_TYPE_FLOAT8);
    uint32_t num = DC_TYPE_NUMERIC;
    assert_int_equal(sql_func_resolve("round", 1, &num, &res, &err), DC_OK);
    assert_int_equal(res.rettype, DC_TYPE_NUMERIC);
    /* volatile and not strict ones */
    assert_int_equal(sql_func_resolve("now", 0, NULL, &res, &err), DC_OK);
    assert_true(res.flags & SQL_FN_VOLATILE);
    assert_int_equal(res.rettype, DC_TYPE_TIMESTAMPTZ);
    assert_int_equal(sql_func_resolve("clock_timestamp", 0, NULL, &res, &err),
                     DC_OK);
    assert_true(res.flags & SQL_FN_VOLATILE);
    assert_int_equal(sql_func_resolve("concat", 2, two, &res, &err), DC_OK);
    assert_false(res.flags & SQL_FN_STRICT);
    assert_int_equal(res.rettype, DC_TYPE_TEXT);
    assert_int_equal(res.argtypes[0], DC_TYPE_INT4);
    assert_int_equal(res.argtypes[1], DC_TYPE_TEXT);
    uint32_t co[3] = {DC_TYPE_UNKNOWN, DC_TYPE_INT2, DC_TYPE_INT8};
    assert_int_equal(sql_func_resolve("coalesce", 3, co, &res, &err), DC_OK);
    assert_false(res.flags & SQL_FN_STRICT);
    assert_int_equal(res.rettype, DC_TYPE_INT8);
    for (int i = 0; i < 3; i++)
        assert_int_equal(res.argtypes[i], DC_TYPE_INT8);
    uint32_t bad[2] = {DC_TYPE_INT4, DC_TYPE_TEXT};
    assert_int_equal(sql_func_resolve("coalesce", 2, bad, &res, &err),
                     DC_ETYPE);
    assert_string_equal(err.sqlstate, "42804");
    assert_string_equal(err.message,
                        "COALESCE types integer and text cannot be matched");
    /* function-style cast */
    assert_int_equal(sql_func_resolve("int4", 1, &unk, &res, &err), DC_OK);
    assert_int_equal(res.rettype, DC_TYPE_INT4);
    uint32_t b = DC_TYPE_BOOL;
    assert_int_equal(sql_func_resolve("date", 1, &b, &res, &err), DC_ETYPE);
    assert_string_equal(err.message, "function date(boolean) does not exist");
}

static void check_common(const uint32_t *t, int n, uint32_t want)
{
    uint32_t got = 0;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_common_type("UNION", n, t, &got, &err), DC_OK);
    assert_int_equal(got, want);
}

static void test_common_type(void **state)
{
    (void)state;
    /* answers of PostgreSQL 15 for SELECT a UNION SELECT b */
    check_common((uint32_t[]){DC_TYPE_UNKNOWN, DC_TYPE_UNKNOWN}, 2,
                 DC_TYPE_TEXT);
    check_common((uint32_t[]){DC_TYPE_UNKNOWN, DC_TYPE_INT4}, 2, DC_TYPE_INT4);
    check_common((uint32_t[]){DC_TYPE_INT4, DC_TYPE_INT8}, 2, DC_TYPE_INT8);
    check_common((uint32_t[]){DC_TYPE_INT4, DC_TYPE_NUMERIC, DC_TYPE_FLOAT8}, 3,
                 DC_TYPE_FLOAT8);
    check_common((uint32_t[]){DC_TYPE_NUMERIC, DC_TYPE_FLOAT4}, 2,
                 DC_TYPE_FLOAT4);
    check_common((uint32_t[]){DC_TYPE_INT4, DC_TYPE_OID}, 2, DC_TYPE_OID);
    check_common((uint32_t[]){DC_TYPE_BPCHAR, DC_TYPE_VARCHAR}, 2,
                 DC_TYPE_BPCHAR);
    check_common((uint32_t[]){DC_TYPE_NAME, DC_TYPE_TEXT}, 2, DC_TYPE_NAME);
    check_common((uint32_t[]){DC_TYPE_VARCHAR, DC_TYPE_TEXT}, 2,
                 DC_TYPE_VARCHAR);
    check_common((uint32_t[]){DC_TYPE_TEXT, DC_TYPE_VARCHAR}, 2, DC_TYPE_TEXT);
    check_common((uint32_t[]){DC_TYPE_TIMESTAMPTZ, DC_TYPE_DATE}, 2,
                 DC_TYPE_TIMESTAMPTZ);
    check_common((uint32_t[]){DC_TYPE_TIMESTAMP, DC_TYPE_DATE}, 2,
                 DC_TYPE_TIMESTAMP);
    check_common((uint32_t[]){DC_TYPE_INT2}, 1, DC_TYPE_INT2);

    uint32_t got;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_common_type("UNION", 2,
                                     (uint32_t[]){DC_TYPE_INT4, DC_TYPE_TEXT},
                                     &got, &err),
                     DC_ETYPE);
    assert_string_equal(err.sqlstate, "42804");
    assert_string_equal(err.message,
                        "UNION types integer and text cannot be matched");
    assert_int_equal(sql_common_type("CASE", 3,
                                     (uint32_t[]){DC_TYPE_UNKNOWN, DC_TYPE_INT4,
                                                  DC_TYPE_BOOL},
                                     &got, &err),
                     DC_ETYPE);
    assert_string_equal(err.message,
                        "CASE types integer and boolean cannot be matched");
}

/* ---- session and clock functions --------------------------------------- */

static void test_session_functions(void **state)
{
    (void)state;
    const expr_case c[] = {
        {"now()", "2020-05-17 12:34:56.789+00|timestamp with time zone"},
        {"current_timestamp", "2020-05-17 12:34:56.789+00|timestamp with time "
                              "zone"},
        {"transaction_timestamp()", "2020-05-17 12:34:56.789+00|timestamp "
                                    "with time zone"},
        {"statement_timestamp()", "2020-05-17 12:34:57.789+00|timestamp with "
                                  "time zone"},
        {"current_date", "2020-05-17|date"},
        {"localtimestamp", "2020-05-17 12:34:56.789|timestamp without time "
                           "zone"},
        {"current_user", "alice|name"},
        {"session_user", "alice|name"},
        {"user", "alice|name"},
        {"current_role", "alice|name"},
        {"pg_get_userbyid(10)", "alice|name"},
        {"current_database()", "shop|name"},
        {"current_catalog", "shop|name"},
        {"current_schema", "public|name"},
        {"current_schema()", "public|name"},
        {"current_setting('work_mem')", "4MB|text"},
        {"current_setting('nope')",
         "ERROR 42704: unrecognized configuration parameter \"nope\""},
        {"current_setting('nope', true)", "NULL|text"},
        {"current_setting('nope', false)",
         "ERROR 42704: unrecognized configuration parameter \"nope\""},
        {"version()", "PostgreSQL 15.0 (Datacave 0.1.0) on "
                      "x86_64-pc-linux-gnu, compiled by gcc, 64-bit|text"},
        {"txid_current()", "ERROR 0A000: txid_current() is not supported"},
        {"clock_timestamp() > now()", "true|boolean"},
        {"pg_postmaster_start_time() > now()", "true|boolean"},
        {"pg_get_indexdef(1)", "NULL|text"},
        /* PostgreSQL's regtype prints the same text */
        {"pg_typeof(1)", "integer|text"},
        {"pg_typeof('a')", "unknown|text"},
        {"pg_typeof(1.5)", "numeric|text"},
        {"pg_typeof(now())", "timestamp with time zone|text"},
        {"pg_typeof(NULL::int8)", "bigint|text"},
        {"pg_typeof('a'::varchar(3) || 'b')", "text|text"},
        {"pg_get_constraintdef(1)", "NULL|text"},
    };
    run_cases(c, sizeof c / sizeof c[0]);

    /* the day turns over in the session's zone */
    sql_tz tz = {.offset = 12 * 3600};
    g_ctx.tz = &tz;
    const expr_case east[] = {
        {"current_date", "2020-05-18|date"},
        {"localtimestamp", "2020-05-18 00:34:56.789|timestamp without time "
                           "zone"},
    };
    run_cases(east, sizeof east / sizeof east[0]);
    g_ctx.tz = NULL;

    /* pg_sleep sleeps, and a cancel request ends it with 57014 */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const expr_case sl[] = {{"pg_sleep(0.05)", "NULL|text"}};
    run_cases(sl, 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true((t1.tv_sec - t0.tv_sec) * 1000000000L +
                    (t1.tv_nsec - t0.tv_nsec) >=
                50000000L);
    _Atomic int cancel = 1;
    g_ctx.cancel = &cancel;
    const expr_case cs[] = {{"pg_sleep(100)",
                             "ERROR 57014: canceling statement due to user "
                             "request"}};
    run_cases(cs, 1);
    g_ctx.cancel = NULL;

    char want[64];
    snprintf(want, sizeof want, "%d|integer", (int)getpid());
    const expr_case pid[] = {{"pg_backend_pid()", want}};
    run_cases(pid, 1);
}

/* ---- aggregates --------------------------------------------------------- */

/*
 * Run aggregate `name` over `rows` (text literals of type `t`, NULL for a
 * SQL NULL) as the executor does (strict: NULL rows skipped) and return
 * "value|type".  `delim` (string_agg's second argument; "NULL" for a NULL)
 * makes it a two-argument call.
 */
static void agg_eval(const char *name, bool star, uint32_t t, const char *delim,
                     const char *const *rows, int nrows, char *res, size_t cap)
{
    uint32_t types[2] = {t, DC_TYPE_TEXT};
    if (t == DC_TYPE_BYTEA)
        types[1] = DC_TYPE_BYTEA;
    int nargs = star ? 0 : delim ? 2 : 1;
    sql_agg_resolved agg;
    dc_error err;
    dc_error_init(&err);
    int rc = sql_agg_resolve(name, star, nargs, types, &agg, &err);
    if (rc) {
        snprintf(res, cap, "ERROR %s: %s", err.sqlstate, err.message);
        return;
    }
    assert_true(sql_is_aggregate(name));
    void *st = calloc(1, agg.state_size);
    assert_non_null(st);
    for (int i = 0; i < nrows && rc == DC_OK; i++) {
        dc_value a[2];
        a[0] = sql_value_null(agg.argtypes[0]);
        if (rows[i])
            assert_int_equal(sql_value_in(agg.argtypes[0], -1, rows[i],
                                          strlen(rows[i]), NULL, &g_ctx.mem,
                                          &a[0], &err),
                             DC_OK);
        if (nargs == 2) {
            a[1] = sql_value_null(agg.argtypes[1]);
            if (strcmp(delim, "NULL") != 0)
                a[1] = sql_value_bytes(agg.argtypes[1], delim, strlen(delim));
        }
        bool skip = false;
        for (int k = 0; k < nargs; k++)
            skip |= (agg.flags & SQL_FN_STRICT) && a[k].is_null;
        if (!skip)
            rc = agg.step(&g_ctx, st, nargs, a, &err);
    }
    dc_value out;
    if (rc == DC_OK) {
        if (agg.mem)
            (void)agg.mem(st);
        rc = agg.final(&g_ctx, st, &out, &err);
    }
    if (agg.free)
        agg.free(st);
    free(st);
    if (rc) {
        snprintf(res, cap, "ERROR %s: %s", err.sqlstate, err.message);
        return;
    }
    if (out.is_null) {
        assert_int_equal(out.type, agg.rettype);
        snprintf(res, cap, "NULL|%s", sql_type_name(agg.rettype));
        return;
    }
    assert_int_equal(out.type, agg.rettype);
    sql_buf b;
    sql_buf_init(&b);
    if (out.type == DC_TYPE_BOOL)
        sql_buf_append(&b, out.u.b ? "true" : "false", out.u.b ? 4 : 5, &err);
    else
        assert_int_equal(sql_value_out(&out, NULL, &b, &err), DC_OK);
    snprintf(res, cap, "%.*s|%s", (int)b.len, (const char *)b.data,
             sql_type_name(agg.rettype));
    sql_buf_free(&b);
}

#define ROWS(...)                                                              \
    (const char *const[]){__VA_ARGS__},                                        \
        (int)(sizeof((const char *const[]){__VA_ARGS__}) /                     \
              sizeof(const char *))

static void agg_check(const char *name, bool star, uint32_t t,
                      const char *delim, const char *const *rows, int nrows,
                      const char *want)
{
    char got[1024];
    agg_eval(name, star, t, delim, rows, nrows, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("%s: want %s got %s", name, want, got);
}

static void test_aggregates(void **state)
{
    (void)state;
    /* PostgreSQL 15:
     *   select sum(x), avg(x) ... from (values (1),(2),(null),(3)) v(x) */
    agg_check("sum", false, DC_TYPE_INT4, NULL, ROWS("1", "2", NULL, "3"),
              "6|bigint");
    agg_check("avg", false, DC_TYPE_INT4, NULL, ROWS("1", "2", NULL, "3"),
              "2.0000000000000000|numeric");
    agg_check("min", false, DC_TYPE_INT4, NULL, ROWS("1", "2", NULL, "3"),
              "1|integer");
    agg_check("max", false, DC_TYPE_INT4, NULL, ROWS("1", "2", NULL, "3"),
              "3|integer");
    agg_check("count", false, DC_TYPE_INT4, NULL, ROWS("1", "2", NULL, "3"),
              "3|bigint");
    agg_check("count", true, DC_TYPE_INT4, NULL, ROWS("1", "2", NULL, "3"),
              "4|bigint");
    agg_check("avg", false, DC_TYPE_INT4, NULL, ROWS("1", "2", "2"),
              "1.6666666666666667|numeric");
    agg_check("avg", false, DC_TYPE_INT4, NULL, ROWS("1", "2"),
              "1.5000000000000000|numeric");
    agg_check("sum", false, DC_TYPE_INT2, NULL, ROWS("1", "2", "2"),
              "5|bigint");
    agg_check("avg", false, DC_TYPE_INT2, NULL, ROWS("1", "2", "2"),
              "1.6666666666666667|numeric");
    agg_check("sum", false, DC_TYPE_INT4, NULL,
              ROWS("2147483647", "2147483647"), "4294967294|bigint");
    /* sum(int8) is numeric: no overflow */
    agg_check("sum", false, DC_TYPE_INT8, NULL,
              ROWS("9223372036854775807", "1"), "9223372036854775808|numeric");
    agg_check("avg", false, DC_TYPE_INT8, NULL,
              ROWS("9223372036854775807", "1"), "4611686018427387904|numeric");
    agg_check("avg", false, DC_TYPE_INT8, NULL, ROWS("-1", "-2"),
              "-1.5000000000000000|numeric");
    agg_check("sum", false, DC_TYPE_NUMERIC, NULL, ROWS("1.5", "2.25", NULL),
              "3.75|numeric");
    agg_check("avg", false, DC_TYPE_NUMERIC, NULL, ROWS("1.5", "2.25", NULL),
              "1.8750000000000000|numeric");
    agg_check("avg", false, DC_TYPE_NUMERIC, NULL, ROWS("1.0", "2", "4"),
              "2.3333333333333333|numeric");
    agg_check("sum", false, DC_TYPE_FLOAT8, NULL, ROWS("0.1", "0.2"),
              "0.30000000000000004|double precision");
    agg_check("avg", false, DC_TYPE_FLOAT8, NULL, ROWS("0.1", "0.2"),
              "0.15000000000000002|double precision");
    agg_check("sum", false, DC_TYPE_FLOAT4, NULL, ROWS("0.1", "0.2"),
              "0.3|real");
    agg_check("avg", false, DC_TYPE_FLOAT4, NULL, ROWS("0.1", "0.2"),
              "0.15000000223517418|double precision");
    agg_check("sum", false, DC_TYPE_FLOAT8, NULL, ROWS("1e308", "1e308"),
              "ERROR 22003: value out of range: overflow");
    /* min / max keep the type; ties take the later value */
    agg_check("max", false, DC_TYPE_NUMERIC, NULL, ROWS("1.50", "1.5", "2.0"),
              "2.0|numeric");
    agg_check("min", false, DC_TYPE_NUMERIC, NULL, ROWS("1.50", "1.5", "2.0"),
              "1.5|numeric");
    agg_check("max", false, DC_TYPE_DATE, NULL,
              ROWS("2020-01-01", "2021-01-01"), "2021-01-01|date");
    agg_check("min", false, DC_TYPE_DATE, NULL,
              ROWS("2020-01-01", "2021-01-01"), "2020-01-01|date");
    agg_check("min", false, DC_TYPE_TEXT, NULL, ROWS("b", "a", NULL, "c"),
              "a|text");
    agg_check("max", false, DC_TYPE_TEXT, NULL, ROWS("b", "a", NULL, "c"),
              "c|text");
    agg_check("max", false, DC_TYPE_FLOAT8, NULL, ROWS("1", "NaN", "3"),
              "NaN|double precision");
    agg_check("min", false, DC_TYPE_TIMESTAMPTZ, NULL,
              ROWS("2020-01-01 10:00+00", "2019-01-01 00:00+00"),
              "2019-01-01 00:00:00+00|timestamp with time zone");
    /* string_agg: NULL values skipped, NULL delimiter is empty */
    agg_check("string_agg", false, DC_TYPE_TEXT, ",", ROWS("b", "a", NULL, "c"),
              "b,a,c|text");
    agg_check("string_agg", false, DC_TYPE_TEXT, "NULL",
              ROWS("b", "a", NULL, "c"), "bac|text");
    agg_check("string_agg", false, DC_TYPE_BYTEA, ", ", ROWS("\\x01", "\\x02"),
              "\\x012c2002|bytea");
    agg_check("bool_and", false, DC_TYPE_BOOL, NULL, ROWS("t", NULL, "f"),
              "false|boolean");
    agg_check("bool_or", false, DC_TYPE_BOOL, NULL, ROWS("t", NULL, "f"),
              "true|boolean");
    agg_check("every", false, DC_TYPE_BOOL, NULL, ROWS("t", NULL, "f"),
              "false|boolean");
    agg_check("bool_and", false, DC_TYPE_BOOL, NULL, ROWS("t", "t"),
              "true|boolean");

    /* empty input: NULL, count 0 */
    const char *const none[1] = {NULL};
    agg_check("sum", false, DC_TYPE_INT4, NULL, none, 0, "NULL|bigint");
    agg_check("sum", false, DC_TYPE_INT8, NULL, none, 0, "NULL|numeric");
    agg_check("sum", false, DC_TYPE_NUMERIC, NULL, none, 0, "NULL|numeric");
    agg_check("sum", false, DC_TYPE_FLOAT8, NULL, none, 0,
              "NULL|double precision");
    agg_check("avg", false, DC_TYPE_INT4, NULL, none, 0, "NULL|numeric");
    agg_check("avg", false, DC_TYPE_NUMERIC, NULL, none, 0, "NULL|numeric");
    agg_check("avg", false, DC_TYPE_FLOAT8, NULL, none, 0,
              "NULL|double precision");
    agg_check("min", false, DC_TYPE_TEXT, NULL, none, 0, "NULL|text");
    agg_check("max", false, DC_TYPE_DATE, NULL, none, 0, "NULL|date");
    agg_check("count", false, DC_TYPE_INT4, NULL, none, 0, "0|bigint");
    agg_check("count", true, DC_TYPE_INT4, NULL, none, 0, "0|bigint");
    agg_check("string_agg", false, DC_TYPE_TEXT, ",", none, 0, "NULL|text");
    agg_check("bool_or", false, DC_TYPE_BOOL, NULL, none, 0, "NULL|boolean");
    /* all NULL: the same as empty */
    agg_check("sum", false, DC_TYPE_INT4, NULL, ROWS(NULL, NULL),
              "NULL|bigint");
    agg_check("count", false, DC_TYPE_INT4, NULL, ROWS(NULL, NULL), "0|bigint");

    /* resolution errors */
    agg_check("sum", false, DC_TYPE_TEXT, NULL, none, 0,
              "ERROR 42883: function sum(text) does not exist");
    agg_check("avg", false, DC_TYPE_BOOL, NULL, none, 0,
              "ERROR 42883: function avg(boolean) does not exist");
    agg_check("sum", true, DC_TYPE_INT4, NULL, none, 0,
              "ERROR 42809: sum(*) specified, but sum is not an aggregate "
              "function");
    assert_false(sql_is_aggregate("lower"));
    assert_false(sql_is_aggregate("coalesce"));
    assert_true(sql_is_aggregate("count"));

    /* varchar / int2 arguments resolve through implicit casts */
    sql_agg_resolved agg;
    dc_error err;
    dc_error_init(&err);
    uint32_t vc = DC_TYPE_VARCHAR;
    assert_int_equal(sql_agg_resolve("max", false, 1, &vc, &agg, &err), DC_OK);
    assert_int_equal(agg.rettype, DC_TYPE_TEXT);
    assert_int_equal(agg.argtypes[0], DC_TYPE_TEXT);
    uint32_t sa[2] = {DC_TYPE_VARCHAR, DC_TYPE_UNKNOWN};
    assert_int_equal(sql_agg_resolve("string_agg", false, 2, sa, &agg, &err),
                     DC_OK);
    assert_int_equal(agg.rettype, DC_TYPE_TEXT);
    assert_false(agg.flags & SQL_FN_STRICT);
}

/* Many distinct long min() values: the state's buffer is reused/grown and
 * freed by the free callback (ASan checks the leak side). */
static void test_agg_state_memory(void **state)
{
    (void)state;
    sql_agg_resolved agg;
    dc_error err;
    dc_error_init(&err);
    uint32_t t = DC_TYPE_TEXT;
    assert_int_equal(sql_agg_resolve("min", false, 1, &t, &agg, &err), DC_OK);
    void *st = calloc(1, agg.state_size);
    char buf[300];
    for (int i = 299; i > 0; i--) {
        memset(buf, 'a' + i % 26, (size_t)i);
        dc_value v = sql_value_bytes(DC_TYPE_TEXT, buf, (size_t)i);
        assert_int_equal(agg.step(&g_ctx, st, 1, &v, &err), DC_OK);
    }
    assert_true(agg.mem(st) >= 1);
    dc_value out;
    assert_int_equal(agg.final(&g_ctx, st, &out, &err), DC_OK);
    assert_int_equal(out.u.bytes.len, 26); /* 'a' x 26 is the least */
    assert_memory_equal(out.u.bytes.ptr, "aaaaaaaaaaaaaaaaaaaaaaaaaa", 26);
    agg.free(st);
    free(st);

    uint32_t n = DC_TYPE_NUMERIC;
    assert_int_equal(sql_agg_resolve("sum", false, 1, &n, &agg, &err), DC_OK);
    st = calloc(1, agg.state_size);
    for (int i = 0; i < 1000; i++) {
        dc_value v = sql_value_bytes(DC_TYPE_NUMERIC, "0.001", 5);
        assert_int_equal(agg.step(&g_ctx, st, 1, &v, &err), DC_OK);
    }
    assert_int_equal(agg.final(&g_ctx, st, &out, &err), DC_OK);
    assert_int_equal(out.u.bytes.len, 5);
    assert_memory_equal(out.u.bytes.ptr, "1.000", 5);
    agg.free(st);
    free(st);
}

/* ---- generate_series ------------------------------------------------------
 */

static void series(const char *name, int nargs, const uint32_t *types,
                   const char *const *args, char *res, size_t cap)
{
    sql_srf_resolved srf;
    dc_error err;
    dc_error_init(&err);
    int rc = sql_srf_resolve(name, nargs, types, &srf, &err);
    sql_srf_state *st = NULL;
    dc_value a[4];
    for (int i = 0; i < nargs && rc == DC_OK; i++)
        rc = sql_value_in(srf.argtypes[i], -1, args[i], strlen(args[i]), NULL,
                          &g_ctx.mem, &a[i], &err);
    if (rc == DC_OK)
        rc = srf.open(&g_ctx, nargs, a, &st, &err);
    size_t n = 0;
    res[0] = 0;
    for (int rows = 0; rc == DC_OK && rows < 100; rows++) {
        dc_value v;
        bool done;
        rc = srf.next(&g_ctx, st, &v, &done, &err);
        if (rc || done)
            break;
        assert_int_equal(v.type, srf.rettype);
        sql_buf b;
        sql_buf_init(&b);
        assert_int_equal(sql_value_out(&v, NULL, &b, &err), DC_OK);
        n += (size_t)snprintf(res + n, cap - n, "%s%.*s", n ? "," : "",
                              (int)b.len, (const char *)b.data);
        sql_buf_free(&b);
    }
    if (st)
        srf.close(st);
    if (rc)
        snprintf(res, cap, "ERROR %s: %s", err.sqlstate, err.message);
}

static void check_series(int nargs, uint32_t t, const char *const *args,
                         const char *want)
{
    uint32_t types[3] = {t, t, t};
    char got[1024];
    series("generate_series", nargs, types, args, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("want %s got %s", want, got);
}

static void test_generate_series(void **state)
{
    (void)state;
    const uint32_t i4 = DC_TYPE_INT4, i8 = DC_TYPE_INT8, nu = DC_TYPE_NUMERIC;
    check_series(2, i4, (const char *[]){"1", "5"}, "1,2,3,4,5");
    check_series(3, i4, (const char *[]){"5", "1", "-2"}, "5,3,1");
    check_series(2, i4, (const char *[]){"5", "1"}, "");
    check_series(3, i4, (const char *[]){"1", "3", "0"},
                 "ERROR 22023: step size cannot equal zero");
    check_series(2, i4, (const char *[]){"2147483646", "2147483647"},
                 "2147483646,2147483647");
    check_series(3, i8, (const char *[]){"1", "10", "3"}, "1,4,7,10");
    check_series(2, i8,
                 (const char *[]){"9223372036854775806", "9223372036854775807"},
                 "9223372036854775806,9223372036854775807");
    check_series(3, nu, (const char *[]){"1.5", "3", "0.5"}, "1.5,2.0,2.5,3.0");
    check_series(3, nu, (const char *[]){"1", "2", "0.0"},
                 "ERROR 22023: step size cannot equal zero");
    check_series(2, nu, (const char *[]){"NaN", "2"},
                 "ERROR 22023: start value cannot be NaN");

    /* timestamps step by an interval given as text (PostgreSQL 15) */
    const char *ts_cases[][4] = {
        {"2020-01-30", "2020-05-01", "1 month",
         "2020-01-30 00:00:00,2020-02-29 00:00:00,2020-03-29 00:00:00,"
         "2020-04-29 00:00:00"},
        {"2020-01-01 00:00", "2020-01-01 01:00", "15 minutes",
         "2020-01-01 00:00:00,2020-01-01 00:15:00,2020-01-01 00:30:00,"
         "2020-01-01 00:45:00,2020-01-01 01:00:00"},
        {"2020-01-03", "2020-01-01", "-1 day",
         "2020-01-03 00:00:00,2020-01-02 00:00:00,2020-01-01 00:00:00"},
        {"2020-01-01", "2020-01-02", "1 day 12:00:00", "2020-01-01 00:00:00"},
        {"2020-01-01", "2020-01-01 10:00", "2 hours 30 mins",
         "2020-01-01 00:00:00,2020-01-01 02:30:00,2020-01-01 05:00:00,"
         "2020-01-01 07:30:00,2020-01-01 10:00:00"},
        {"2020-01-01", "2022-01-01", "1 year",
         "2020-01-01 00:00:00,2021-01-01 00:00:00,2022-01-01 00:00:00"},
        {"2020-01-01", "2020-01-01 00:00:01", "500 ms",
         "2020-01-01 00:00:00,2020-01-01 00:00:00.5,2020-01-01 00:00:01"},
        {"2020-01-01", "2020-01-15", "1 week",
         "2020-01-01 00:00:00,2020-01-08 00:00:00,2020-01-15 00:00:00"},
        {"2020-01-01", "2020-01-01 03:00", "1:30",
         "2020-01-01 00:00:00,2020-01-01 01:30:00,2020-01-01 03:00:00"},
        {"2020-01-01", "2020-01-02", "0 days",
         "ERROR 22023: step size cannot equal zero"},
        {"2020-01-01", "2020-01-02", "bogus",
         "ERROR 22007: invalid input syntax for type interval: \"bogus\""},
    };
    for (size_t i = 0; i < sizeof ts_cases / sizeof ts_cases[0]; i++) {
        uint32_t types[3] = {DC_TYPE_TIMESTAMP, DC_TYPE_TIMESTAMP,
                             DC_TYPE_TEXT};
        char got[1024];
        series("generate_series", 3, types, ts_cases[i], got, sizeof got);
        if (strcmp(got, ts_cases[i][3]) != 0)
            fail_msg("%s: want %s got %s", ts_cases[i][2], ts_cases[i][3], got);
    }
    /* date and unknown arguments resolve to the timestamptz series */
    sql_srf_resolved tsr;
    dc_error terr;
    dc_error_init(&terr);
    uint32_t dtu[3] = {DC_TYPE_DATE, DC_TYPE_UNKNOWN, DC_TYPE_UNKNOWN};
    assert_int_equal(sql_srf_resolve("generate_series", 3, dtu, &tsr, &terr),
                     DC_OK);
    assert_int_equal(tsr.rettype, DC_TYPE_TIMESTAMPTZ);
    assert_int_equal(tsr.argtypes[2], DC_TYPE_TEXT);
    uint32_t tz3[3] = {DC_TYPE_TIMESTAMPTZ, DC_TYPE_TIMESTAMPTZ, DC_TYPE_TEXT};
    char got[1024];
    series("generate_series", 3, tz3,
           (const char *[]){"2020-01-01 00:00+00", "2020-01-03", "1 day"}, got,
           sizeof got);
    assert_string_equal(got, "2020-01-01 00:00:00+00,2020-01-02 00:00:00+00,"
                             "2020-01-03 00:00:00+00");

    /* resolution: int4 and int8 mix to int8, unknown literals to int4 */
    sql_srf_resolved srf;
    dc_error err;
    dc_error_init(&err);
    uint32_t mix[2] = {DC_TYPE_INT4, DC_TYPE_INT8};
    assert_int_equal(sql_srf_resolve("generate_series", 2, mix, &srf, &err),
                     DC_OK);
    assert_int_equal(srf.rettype, DC_TYPE_INT8);
    uint32_t unk[2] = {DC_TYPE_INT4, DC_TYPE_UNKNOWN};
    assert_int_equal(sql_srf_resolve("generate_series", 2, unk, &srf, &err),
                     DC_OK);
    assert_int_equal(srf.rettype, DC_TYPE_INT4);
    uint32_t txt[2] = {DC_TYPE_TEXT, DC_TYPE_TEXT};
    assert_int_equal(sql_srf_resolve("generate_series", 2, txt, &srf, &err),
                     DC_ETYPE);
    assert_string_equal(err.message,
                        "function generate_series(text, text) does not exist");
}

/* ---- LIKE and regex entry points ------------------------------------------
 */

static bool like(const char *s, const char *p, int esc, bool icase)
{
    bool m = false;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_like_match((const uint8_t *)s, strlen(s),
                                    (const uint8_t *)p, strlen(p), esc, icase,
                                    &m, &err),
                     DC_OK);
    return m;
}

static void test_like_match(void **state)
{
    (void)state;
    assert_true(like("pg_class", "pg\\_%", '\\', false));
    assert_false(like("pgxclass", "pg\\_%", '\\', false));
    /* no escape character: backslash is literal */
    assert_true(like("a\\b", "a\\b", -1, false));
    assert_true(like("PG_Class", "pg_class", '\\', true));
    assert_false(like("PG_Class", "pg_class", '\\', false));
    assert_true(like("h\xc3\xa9llo", "h_llo", '\\', false));
    assert_true(like("abcabcabd", "%abd", '\\', false));
    assert_true(like("mississippi", "%iss%ppi", '\\', false));
    assert_false(like("mississippi", "%iss%ppx", '\\', false));
    /* a long subject against a pathological pattern stays fast */
    char s[5001];
    memset(s, 'a', 5000);
    s[5000] = 0;
    assert_false(like(s, "%a%a%a%a%a%a%a%a%b", '\\', false));
    bool m;
    dc_error err;
    dc_error_init(&err);
    /* as in PostgreSQL, only an escape that is reached is an error:
     * 'a' LIKE 'a\' is false, 'a' LIKE '\' fails */
    assert_false(like("a", "a\\", '\\', false));
    assert_int_equal(sql_like_match((const uint8_t *)"a", 1,
                                    (const uint8_t *)"\\", 1, '\\', false, &m,
                                    &err),
                     DC_EINVAL);
    assert_string_equal(err.sqlstate, "22025");
    assert_string_equal(err.message,
                        "LIKE pattern must not end with escape character");
}

/* More distinct patterns than the per-thread cache holds, each used
 * twice, from a second thread too (its cache is freed at thread exit). */
static void *regex_worker(void *arg)
{
    int *ok = arg;
    char expr[128], got[1024];
    *ok = 1;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 40; i++) {
            snprintf(expr, sizeof expr, "'x%dy' ~ '^x%dy$'", i, i);
            eval_sql(expr, got, sizeof got);
            if (strcmp(got, "true|boolean") != 0)
                *ok = 0;
            snprintf(expr, sizeof expr, "'x%dy' ~ '^x%dy$'", i, i + 1);
            eval_sql(expr, got, sizeof got);
            if (strcmp(got, "false|boolean") != 0)
                *ok = 0;
        }
    return NULL;
}

static void test_regex_cache(void **state)
{
    (void)state;
    int ok_main = 0, ok_thread = 0;
    regex_worker(&ok_main);
    assert_int_equal(ok_main, 1);
    /* the thread allocates from the statement arena too: one at a time */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, regex_worker, &ok_thread), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(ok_thread, 1);
}

/* Values a function returns for an operator must not depend on hidden
 * state: the comparison classes agree with sql_value_cmp. */
static void test_cmp_consistency(void **state)
{
    (void)state;
    const char *nums[] = {"-3", "0", "2", "2.5", "1e3"};
    const uint32_t ntypes[] = {DC_TYPE_INT2,   DC_TYPE_INT4,   DC_TYPE_INT8,
                               DC_TYPE_FLOAT4, DC_TYPE_FLOAT8, DC_TYPE_NUMERIC};
    const char *ops[] = {"=", "<>", "<", "<=", ">", ">="};
    dc_error err;
    dc_error_init(&err);
    for (size_t ta = 0; ta < 6; ta++)
        for (size_t tb = 0; tb < 6; tb++)
            for (size_t x = 0; x < 5; x++)
                for (size_t y = 0; y < 5; y++) {
                    dc_value a, b;
                    bool isint_a = ntypes[ta] <= DC_TYPE_INT4 ||
                                   ntypes[ta] == DC_TYPE_INT8;
                    bool isint_b = ntypes[tb] <= DC_TYPE_INT4 ||
                                   ntypes[tb] == DC_TYPE_INT8;
                    if ((isint_a && (x == 3 || x == 4)) ||
                        (isint_b && (y == 3 || y == 4)))
                        continue;
                    assert_int_equal(sql_value_in(ntypes[ta], -1, nums[x],
                                                  strlen(nums[x]), NULL,
                                                  &g_ctx.mem, &a, &err),
                                     DC_OK);
                    assert_int_equal(sql_value_in(ntypes[tb], -1, nums[y],
                                                  strlen(nums[y]), NULL,
                                                  &g_ctx.mem, &b, &err),
                                     DC_OK);
                    int c;
                    assert_int_equal(sql_value_cmp(&a, &b, &c, &err), DC_OK);
                    bool want[6] = {c == 0, c != 0, c<0, c <= 0, c> 0, c >= 0};
                    for (int o = 0; o < 6; o++) {
                        tv l = {a, a.type}, r = {b, b.type}, out;
                        assert_int_equal(call_op(ops[o], &l, &r, &out, &err),
                                         DC_OK);
                        assert_int_equal(out.v.u.b, want[o]);
                    }
                }
}

/* Numeric comparison works on the canonical text: it must agree with
 * sql_value_cmp (which parses) on signs, scales and special values. */
static void test_numeric_cmp(void **state)
{
    (void)state;
    const char *v[] = {"-Infinity", "-100",     "-12.50", "-12.5", "-9.99",
                       "-0.001",    "0",        "0.000",  "0.001", "0.25",
                       "0.5",       "1",        "9.99",   "10",    "10.0001",
                       "100",       "Infinity", "NaN"};
    size_t n = sizeof v / sizeof v[0];
    dc_error err;
    dc_error_init(&err);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            dc_value a, b;
            assert_int_equal(sql_value_in(DC_TYPE_NUMERIC, -1, v[i],
                                          strlen(v[i]), NULL, &g_ctx.mem, &a,
                                          &err),
                             DC_OK);
            assert_int_equal(sql_value_in(DC_TYPE_NUMERIC, -1, v[j],
                                          strlen(v[j]), NULL, &g_ctx.mem, &b,
                                          &err),
                             DC_OK);
            int want, got;
            assert_int_equal(sql_value_cmp(&a, &b, &want, &err), DC_OK);
            tv l = {a, a.type}, r = {b, b.type}, out;
            assert_int_equal(call_op("<", &l, &r, &out, &err), DC_OK);
            got = out.v.u.b ? -1 : 0;
            assert_int_equal(call_op(">", &l, &r, &out, &err), DC_OK);
            if (out.v.u.b)
                got = 1;
            if ((want > 0) - (want < 0) != got)
                fail_msg("%s vs %s: want %d got %d", v[i], v[j], want, got);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_pg_cases),          T(test_pg_tz_cases),
        T(test_oper_resolution),   T(test_oper_errors),
        T(test_func_resolution),   T(test_common_type),
        T(test_session_functions), T(test_aggregates),
        T(test_agg_state_memory),  T(test_generate_series),
        T(test_like_match),        T(test_regex_cache),
        T(test_cmp_consistency),   T(test_numeric_cmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
