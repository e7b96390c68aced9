/*
 * Unit tests of the sql module's value types (modules/sql/types.c,
 * numeric.c, datetime.c).  Expected texts and encodings were taken from
 * PostgreSQL 15 (DateStyle ISO, MDY; TimeZone UTC unless stated).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sql/types.h"

/* ---- a tracking arena for produced values ---------------------------------
 */

typedef struct arena {
    void *ptrs[4096];
    size_t n;
} arena;

static arena g_arena;

static void *arena_alloc(void *ctx, size_t n)
{
    arena *a = ctx;
    if (a->n == sizeof a->ptrs / sizeof a->ptrs[0]) {
        for (size_t i = 0; i < a->n; i++)
            free(a->ptrs[i]);
        a->n = 0;
    }
    void *p = malloc(n);
    if (p)
        a->ptrs[a->n++] = p;
    return p;
}

static const sql_mem g_mem = {arena_alloc, &g_arena};

static int teardown_arena(void **state)
{
    (void)state;
    for (size_t i = 0; i < g_arena.n; i++)
        free(g_arena.ptrs[i]);
    g_arena.n = 0;
    return 0;
}

#define T(name) cmocka_unit_test_teardown(name, teardown_arena)

/* ---- helpers
 * ----------------------------------------------------------------- */

static char g_out[4096];

/* Text output of v as a NUL-terminated string in a static buffer. */
static const char *out_tz(const dc_value *v, const sql_tz *tz)
{
    sql_buf b;
    sql_buf_init(&b);
    dc_error err;
    dc_error_init(&err);
    int rc = sql_value_out(v, tz, &b, &err);
    assert_int_equal(rc, DC_OK);
    assert_true(b.len < sizeof g_out);
    if (b.len)
        memcpy(g_out, b.data, b.len);
    g_out[b.len] = '\0';
    sql_buf_free(&b);
    return g_out;
}

static const char *out(const dc_value *v)
{
    return out_tz(v, NULL);
}

static dc_value in_tz(uint32_t type, int32_t typmod, const char *s,
                      const sql_tz *tz)
{
    dc_value v;
    dc_error err;
    dc_error_init(&err);
    int rc = sql_value_in(type, typmod, s, strlen(s), tz, &g_mem, &v, &err);
    if (rc != DC_OK)
        fail_msg("input %s as %s failed: %s", s, sql_type_name(type),
                 err.message);
    assert_int_equal(v.type, type);
    assert_false(v.is_null);
    return v;
}

static dc_value in(uint32_t type, int32_t typmod, const char *s)
{
    return in_tz(type, typmod, s, NULL);
}

typedef struct io_case {
    uint32_t type;
    int32_t typmod;
    const char *in;
    const char *out;
} io_case;

static void check_io(const io_case *c, size_t n, const sql_tz *tz)
{
    for (size_t i = 0; i < n; i++) {
        dc_value v = in_tz(c[i].type, c[i].typmod, c[i].in, tz);
        const char *o = out_tz(&v, tz);
        if (strcmp(o, c[i].out) != 0)
            fail_msg("%s '%s': got '%s', want '%s'", sql_type_name(c[i].type),
                     c[i].in, o, c[i].out);
    }
}

typedef struct err_case {
    uint32_t type;
    int32_t typmod;
    const char *in;
    const char *sqlstate;
    const char *message;
} err_case;

static void check_errs(const err_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dc_value v;
        dc_error err;
        dc_error_init(&err);
        int rc = sql_value_in(c[i].type, c[i].typmod, c[i].in, strlen(c[i].in),
                              NULL, &g_mem, &v, &err);
        if (rc == DC_OK)
            fail_msg("%s '%s' should fail", sql_type_name(c[i].type), c[i].in);
        if (strcmp(err.sqlstate, c[i].sqlstate) != 0 ||
            (c[i].message && strcmp(err.message, c[i].message) != 0))
            fail_msg("%s '%s': got %s '%s', want %s '%s'",
                     sql_type_name(c[i].type), c[i].in, err.sqlstate,
                     err.message, c[i].sqlstate,
                     c[i].message ? c[i].message : "");
    }
}

#define N(a)       (sizeof(a) / sizeof((a)[0]))
#define VC(n)      ((n) + 4)
#define NUMT(p, s) ((((p) << 16) | (s)) + 4)

/* ---- text input and output -------------------------------------------------
 */

static void test_int_io(void **state)
{
    (void)state;
    static const io_case c[] = {
        {DC_TYPE_INT2, -1, "0", "0"},
        {DC_TYPE_INT2, -1, "  -32768  ", "-32768"},
        {DC_TYPE_INT2, -1, "+32767", "32767"},
        {DC_TYPE_INT4, -1, "2147483647", "2147483647"},
        {DC_TYPE_INT4, -1, "-2147483648", "-2147483648"},
        {DC_TYPE_INT4, -1, "\t007\n", "7"},
        {DC_TYPE_INT8, -1, "-9223372036854775808", "-9223372036854775808"},
        {DC_TYPE_INT8, -1, "9223372036854775807", "9223372036854775807"},
        {DC_TYPE_OID, -1, "4294967295", "4294967295"},
        /* 18 digits and fewer take a shortcut; around its edge: */
        {DC_TYPE_INT8, -1, "999999999999999999", "999999999999999999"},
        {DC_TYPE_INT8, -1, "-999999999999999999", "-999999999999999999"},
        {DC_TYPE_INT8, -1, "1000000000000000000", "1000000000000000000"},
        {DC_TYPE_INT4, -1, "-0", "0"},
        {DC_TYPE_INT4, -1, "0042", "42"},
    };
    check_io(c, N(c), NULL);
    static const err_case e[] = {
        {DC_TYPE_INT4, -1, "x", "22P02",
         "invalid input syntax for type integer: \"x\""},
        {DC_TYPE_INT4, -1, "", "22P02",
         "invalid input syntax for type integer: \"\""},
        {DC_TYPE_INT4, -1, "1 2", "22P02", NULL},
        {DC_TYPE_INT4, -1, "1.5", "22P02", NULL},
        {DC_TYPE_INT4, -1, "-", "22P02", NULL},
        {DC_TYPE_INT4, -1, "--1", "22P02", NULL},
        {DC_TYPE_INT4, -1, "1-", "22P02", NULL},
        {DC_TYPE_INT4, -1, "12a", "22P02", NULL},
        {DC_TYPE_INT2, -1, "32768", "22003", NULL},
        {DC_TYPE_INT2, -1, "99999", "22003",
         "value \"99999\" is out of range for type smallint"},
        {DC_TYPE_INT2, -1, "-32769", "22003", NULL},
        {DC_TYPE_INT4, -1, "2147483648", "22003",
         "value \"2147483648\" is out of range for type integer"},
        {DC_TYPE_INT8, -1, "9223372036854775808", "22003",
         "value \"9223372036854775808\" is out of range for type bigint"},
        {DC_TYPE_INT8, -1, "-9223372036854775809", "22003", NULL},
        {DC_TYPE_INT8, -1, "99999999999999999999999", "22003", NULL},
        {DC_TYPE_INT8, -1, "abc", "22P02",
         "invalid input syntax for type bigint: \"abc\""},
    };
    check_errs(e, N(e));
}

static void test_float_io(void **state)
{
    (void)state;
    static const io_case c[] = {
        {DC_TYPE_FLOAT8, -1, "0.1", "0.1"},
        {DC_TYPE_FLOAT8, -1, "1e20", "1e+20"},
        {DC_TYPE_FLOAT8, -1, "3.0", "3"},
        {DC_TYPE_FLOAT8, -1, "-0", "-0"},
        {DC_TYPE_FLOAT8, -1, "1e308", "1e+308"},
        {DC_TYPE_FLOAT8, -1, "1.7976931348623157e308",
         "1.7976931348623157e+308"},
        {DC_TYPE_FLOAT8, -1, "5e-324", "5e-324"},
        {DC_TYPE_FLOAT8, -1, "1e-5", "1e-05"},
        {DC_TYPE_FLOAT8, -1, "1e-4", "0.0001"},
        {DC_TYPE_FLOAT8, -1, "1e15", "1e+15"},
        {DC_TYPE_FLOAT8, -1, "1e14", "100000000000000"},
        {DC_TYPE_FLOAT8, -1, "123456789012345", "123456789012345"},
        {DC_TYPE_FLOAT8, -1, "0.3333333333333333", "0.3333333333333333"},
        {DC_TYPE_FLOAT8, -1, " NaN ", "NaN"},
        {DC_TYPE_FLOAT8, -1, "nan", "NaN"},
        {DC_TYPE_FLOAT8, -1, "Infinity", "Infinity"},
        {DC_TYPE_FLOAT8, -1, "-Infinity", "-Infinity"},
        {DC_TYPE_FLOAT8, -1, "-inf", "-Infinity"},
        {DC_TYPE_FLOAT8, -1, "100", "100"},
        {DC_TYPE_FLOAT4, -1, "0.1", "0.1"},
        {DC_TYPE_FLOAT4, -1, "3.4028235e38", "3.4028235e+38"},
        {DC_TYPE_FLOAT4, -1, "0.33333334", "0.33333334"},
        {DC_TYPE_FLOAT4, -1, "1.5e6", "1.5e+06"},
        {DC_TYPE_FLOAT4, -1, "1e6", "1e+06"},
        {DC_TYPE_FLOAT4, -1, "123456", "123456"},
        {DC_TYPE_FLOAT4, -1, "123456.7", "123456.7"},
        {DC_TYPE_FLOAT4, -1, "1234567", "1.234567e+06"},
        {DC_TYPE_FLOAT4, -1, "2.5e-5", "2.5e-05"},
        {DC_TYPE_FLOAT4, -1, "-Infinity", "-Infinity"},
        /* shortest decimals exactly on a rounding boundary are not used
         * (PostgreSQL's Ryu has acceptBounds = false) */
        {DC_TYPE_FLOAT4, -1, "6e10", "6.0000002e+10"},
        {DC_TYPE_FLOAT4, -1, "46416470", "4.6416472e+07"},
        {DC_TYPE_FLOAT4, -1, "16777217", "1.6777216e+07"},
        /* ... but a decimal merely close to a boundary is */
        {DC_TYPE_FLOAT8, -1, "-2.4770757e-39", "-2.4770757e-39"},
        {DC_TYPE_FLOAT8, -1, "-313087.4408280926", "-313087.4408280926"},
        {DC_TYPE_FLOAT8, -1, "9007199254740993", "9.007199254740992e+15"},
    };
    check_io(c, N(c), NULL);
    static const err_case e[] = {
        {DC_TYPE_FLOAT8, -1, "1e400", "22003",
         "\"1e400\" is out of range for type double precision"},
        {DC_TYPE_FLOAT8, -1, "1e-400", "22003",
         "\"1e-400\" is out of range for type double precision"},
        {DC_TYPE_FLOAT4, -1, "1e39", "22003",
         "\"1e39\" is out of range for type real"},
        {DC_TYPE_FLOAT8, -1, "abc", "22P02",
         "invalid input syntax for type double precision: \"abc\""},
        {DC_TYPE_FLOAT8, -1, "", "22P02", NULL},
        {DC_TYPE_FLOAT4, -1, "1.5x", "22P02",
         "invalid input syntax for type real: \"1.5x\""},
    };
    check_errs(e, N(e));
}

/* Round trip: output of random doubles reads back exactly. */
static void test_float_roundtrip(void **state)
{
    (void)state;
    srand(42);
    for (int i = 0; i < 20000; i++) {
        uint64_t u = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^
                     (uint64_t)rand();
        double d;
        memcpy(&d, &u, 8);
        if (isnan(d))
            continue;
        char buf[64];
        sql_float8_out(d, buf);
        assert_true(strtod(buf, NULL) == d);
        float f = (float)(rand() / 7.0) * ((i & 1) ? 1e-20f : 1e10f);
        sql_float4_out(f, buf);
        assert_true(strtof(buf, NULL) == f);
    }
}

static void test_numeric_io(void **state)
{
    (void)state;
    static const io_case c[] = {
        {DC_TYPE_NUMERIC, -1, "1.50", "1.50"},
        {DC_TYPE_NUMERIC, -1, "  -0.000 ", "0.000"},
        {DC_TYPE_NUMERIC, -1, ".5", "0.5"},
        {DC_TYPE_NUMERIC, -1, "5.", "5"},
        {DC_TYPE_NUMERIC, -1, "1e-4", "0.0001"},
        {DC_TYPE_NUMERIC, -1, "1.5e3", "1500"},
        {DC_TYPE_NUMERIC, -1, "-12.340", "-12.340"},
        {DC_TYPE_NUMERIC, -1, "+007", "7"},
        {DC_TYPE_NUMERIC, -1, "NaN", "NaN"},
        {DC_TYPE_NUMERIC, -1, "nan", "NaN"},
        {DC_TYPE_NUMERIC, -1, "Infinity", "Infinity"},
        {DC_TYPE_NUMERIC, -1, "-inf", "-Infinity"},
        {DC_TYPE_NUMERIC, NUMT(4, 2), "12.345", "12.35"},
        {DC_TYPE_NUMERIC, NUMT(4, 2), "-12.345", "-12.35"},
        {DC_TYPE_NUMERIC, NUMT(1, 0), "1.5", "2"},
        {DC_TYPE_NUMERIC, NUMT(5, 2), "1", "1.00"},
        {DC_TYPE_NUMERIC, NUMT(5, 2), "999.994", "999.99"},
        {DC_TYPE_NUMERIC, NUMT(3, 1), "NaN", "NaN"},
        {DC_TYPE_NUMERIC, NUMT(5, 2), "0.001", "0.00"},
    };
    check_io(c, N(c), NULL);
    static const err_case e[] = {
        {DC_TYPE_NUMERIC, -1, "abc", "22P02",
         "invalid input syntax for type numeric: \"abc\""},
        {DC_TYPE_NUMERIC, -1, "1.2.3", "22P02", NULL},
        {DC_TYPE_NUMERIC, -1, "1e", "22P02", NULL},
        {DC_TYPE_NUMERIC, -1, ".", "22P02", NULL},
        {DC_TYPE_NUMERIC, -1, "", "22P02", NULL},
        {DC_TYPE_NUMERIC, NUMT(5, 2), "999.995", "22003",
         "numeric field overflow"},
        {DC_TYPE_NUMERIC, NUMT(3, 1), "inf", "22003", "numeric field overflow"},
    };
    check_errs(e, N(e));
    /* detail text */
    dc_value v;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_value_in(DC_TYPE_NUMERIC, NUMT(5, 2), "999.995", 7,
                                  NULL, &g_mem, &v, &err),
                     DC_ERANGE);
    assert_string_equal(err.detail,
                        "A field with precision 5, scale 2 must "
                        "round to an absolute value less than 10^3.");
    dc_error_init(&err);
    sql_value_in(DC_TYPE_NUMERIC, NUMT(3, 1), "inf", 3, NULL, &g_mem, &v, &err);
    assert_string_equal(err.detail, "A field with precision 3, scale 1 cannot "
                                    "hold an infinite value.");
    /* 1000 digits */
    char big[1100];
    memset(big, '9', 1000);
    big[1000] = '\0';
    v = in(DC_TYPE_NUMERIC, -1, big);
    assert_string_equal(out(&v), big);
    big[0] = '-';
    big[500] = '.';
    v = in(DC_TYPE_NUMERIC, -1, big);
    assert_string_equal(out(&v), big);
}

static void test_bool_io(void **state)
{
    (void)state;
    static const io_case c[] = {
        {DC_TYPE_BOOL, -1, "t", "t"},      {DC_TYPE_BOOL, -1, "true", "t"},
        {DC_TYPE_BOOL, -1, " TRUE ", "t"}, {DC_TYPE_BOOL, -1, "tr", "t"},
        {DC_TYPE_BOOL, -1, "yes", "t"},    {DC_TYPE_BOOL, -1, "y", "t"},
        {DC_TYPE_BOOL, -1, "on", "t"},     {DC_TYPE_BOOL, -1, "1", "t"},
        {DC_TYPE_BOOL, -1, "f", "f"},      {DC_TYPE_BOOL, -1, "FALSE", "f"},
        {DC_TYPE_BOOL, -1, "fal", "f"},    {DC_TYPE_BOOL, -1, "no", "f"},
        {DC_TYPE_BOOL, -1, "n", "f"},      {DC_TYPE_BOOL, -1, "off", "f"},
        {DC_TYPE_BOOL, -1, "of", "f"},     {DC_TYPE_BOOL, -1, "0", "f"},
    };
    check_io(c, N(c), NULL);
    static const err_case e[] = {
        {DC_TYPE_BOOL, -1, "abc", "22P02",
         "invalid input syntax for type boolean: \"abc\""},
        {DC_TYPE_BOOL, -1, "o", "22P02", NULL},
        {DC_TYPE_BOOL, -1, "truex", "22P02", NULL},
        {DC_TYPE_BOOL, -1, "2", "22P02", NULL},
        {DC_TYPE_BOOL, -1, "", "22P02", NULL},
    };
    check_errs(e, N(e));
}

static void test_string_io(void **state)
{
    (void)state;
    static const io_case c[] = {
        {DC_TYPE_TEXT, -1, "hello world", "hello world"},
        {DC_TYPE_TEXT, -1, "", ""},
        {DC_TYPE_VARCHAR, VC(2), "ab  ", "ab"},
        {DC_TYPE_VARCHAR, VC(3), "ab", "ab"},
        {DC_TYPE_VARCHAR, -1, "abc   ", "abc   "},
        {DC_TYPE_VARCHAR, VC(2), "\xc3\xa9\xc3\xa9", "\xc3\xa9\xc3\xa9"},
        {DC_TYPE_BPCHAR, VC(3), "a", "a  "},
        {DC_TYPE_BPCHAR, VC(2), "ab   ", "ab"},
        {DC_TYPE_BPCHAR, VC(3), "\xc3\xa9", "\xc3\xa9  "},
        {DC_TYPE_BPCHAR, -1, "a ", "a "},
    };
    check_io(c, N(c), NULL);
    static const err_case e[] = {
        {DC_TYPE_VARCHAR, VC(2), "abc", "22001",
         "value too long for type character varying(2)"},
        {DC_TYPE_BPCHAR, VC(3), "abcd", "22001",
         "value too long for type character(3)"},
        {DC_TYPE_VARCHAR, VC(1), "\xc3\xa9x", "22001", NULL},
    };
    check_errs(e, N(e));
}

static void test_bytea_io(void **state)
{
    (void)state;
    static const io_case c[] = {
        {DC_TYPE_BYTEA, -1, "\\x0102ff", "\\x0102ff"},
        {DC_TYPE_BYTEA, -1, "\\xDE AD\tbe ef", "\\xdeadbeef"},
        {DC_TYPE_BYTEA, -1, "\\x", "\\x"},
        {DC_TYPE_BYTEA, -1, "abc", "\\x616263"},
        {DC_TYPE_BYTEA, -1, "\\001abc\\\\", "\\x016162635c"},
        {DC_TYPE_BYTEA, -1, "\\377\\000", "\\xff00"},
    };
    check_io(c, N(c), NULL);
    static const err_case e[] = {
        {DC_TYPE_BYTEA, -1, "\\x1", "22023",
         "invalid hexadecimal data: odd number of digits"},
        {DC_TYPE_BYTEA, -1, "\\xzz", "22023",
         "invalid hexadecimal digit: \"z\""},
        {DC_TYPE_BYTEA, -1, "a\\9", "22P02",
         "invalid input syntax for type bytea"},
        {DC_TYPE_BYTEA, -1, "a\\", "22P02", NULL},
        {DC_TYPE_BYTEA, -1, "\\400", "22P02", NULL},
    };
    check_errs(e, N(e));
}

static void test_date_io(void **state)
{
    (void)state;
    static const io_case c[] = {
        {DC_TYPE_DATE, -1, "2020-01-02", "2020-01-02"},
        {DC_TYPE_DATE, -1, " 2000-01-01 ", "2000-01-01"},
        {DC_TYPE_DATE, -1, "01/02/2020", "2020-01-02"},
        {DC_TYPE_DATE, -1, "January 2, 2020", "2020-01-02"},
        {DC_TYPE_DATE, -1, "2 Jan 2020", "2020-01-02"},
        {DC_TYPE_DATE, -1, "2020-Jan-02", "2020-01-02"},
        {DC_TYPE_DATE, -1, "20200102", "2020-01-02"},
        {DC_TYPE_DATE, -1, "2020-01-02 03:04:05", "2020-01-02"},
        {DC_TYPE_DATE, -1, "2016-02-29", "2016-02-29"},
        {DC_TYPE_DATE, -1, "2000-02-29", "2000-02-29"},
        {DC_TYPE_DATE, -1, "9999-12-31", "9999-12-31"},
        {DC_TYPE_DATE, -1, "10000-01-01", "10000-01-01"},
        {DC_TYPE_DATE, -1, "0001-01-01", "0001-01-01"},
        {DC_TYPE_DATE, -1, "0044-03-15 BC", "0044-03-15 BC"},
        {DC_TYPE_DATE, -1, "0001-12-31 BC", "0001-12-31 BC"},
        {DC_TYPE_DATE, -1, "4714-11-24 BC", "4714-11-24 BC"},
        {DC_TYPE_DATE, -1, "5874897-12-31", "5874897-12-31"},
        {DC_TYPE_DATE, -1, "infinity", "infinity"},
        {DC_TYPE_DATE, -1, "-infinity", "-infinity"},
        {DC_TYPE_DATE, -1, "epoch", "1970-01-01"},
    };
    check_io(c, N(c), NULL);
    static const err_case e[] = {
        {DC_TYPE_DATE, -1, "x", "22007",
         "invalid input syntax for type date: \"x\""},
        {DC_TYPE_DATE, -1, "2020-13-01", "22008",
         "date/time field value out of range: \"2020-13-01\""},
        {DC_TYPE_DATE, -1, "2015-02-29", "22008",
         "date/time field value out of range: \"2015-02-29\""},
        {DC_TYPE_DATE, -1, "1900-02-29", "22008", NULL},
        {DC_TYPE_DATE, -1, "0000-01-01", "22008",
         "date/time field value out of range: \"0000-01-01\""},
        {DC_TYPE_DATE, -1, "99999999-01-01", "22008",
         "date out of range: \"99999999-01-01\""},
        {DC_TYPE_DATE, -1, "4714-11-23 BC", "22008",
         "date out of range: \"4714-11-23 BC\""},
        {DC_TYPE_DATE, -1, "2020-01-02 junk", "22007", NULL},
        {DC_TYPE_DATE, -1, "", "22007", NULL},
    };
    check_errs(e, N(e));
    dc_value v = in(DC_TYPE_DATE, -1, "2000-01-01");
    assert_int_equal(v.u.i, 0);
    v = in(DC_TYPE_DATE, -1, "1999-12-31");
    assert_int_equal(v.u.i, -1);
    v = in(DC_TYPE_DATE, -1, "today");
    assert_true(v.u.i > 9000);
}

static void test_timestamp_io(void **state)
{
    (void)state;
    static const io_case c[] = {
        {DC_TYPE_TIMESTAMP, -1, "2020-01-02 03:04:05.123456",
         "2020-01-02 03:04:05.123456"},
        {DC_TYPE_TIMESTAMP, -1, "2020-01-02T03:04:05.5",
         "2020-01-02 03:04:05.5"},
        {DC_TYPE_TIMESTAMP, -1, "2020-01-02", "2020-01-02 00:00:00"},
        {DC_TYPE_TIMESTAMP, -1, "2020-01-02 03:04", "2020-01-02 03:04:00"},
        {DC_TYPE_TIMESTAMP, -1, "2020-01-02 03:04:05.1234567",
         "2020-01-02 03:04:05.123457"},
        {DC_TYPE_TIMESTAMP, -1, "2020-01-01 00:00:00.0000015",
         "2020-01-01 00:00:00.000002"},
        {DC_TYPE_TIMESTAMP, -1, "2020-01-01 23:59:59.9999999",
         "2020-01-02 00:00:00"},
        {DC_TYPE_TIMESTAMP, -1, "2020-01-01 24:00:00", "2020-01-02 00:00:00"},
        {DC_TYPE_TIMESTAMP, -1, "2020-01-02 03:04:05+02",
         "2020-01-02 03:04:05"},
        {DC_TYPE_TIMESTAMP, -1, "1999-12-31 23:59:59.999999",
         "1999-12-31 23:59:59.999999"},
        {DC_TYPE_TIMESTAMP, -1, "0001-01-01 00:00:00 BC",
         "0001-01-01 00:00:00 BC"},
        {DC_TYPE_TIMESTAMP, -1, "294276-12-31 23:59:59.999999",
         "294276-12-31 23:59:59.999999"},
        {DC_TYPE_TIMESTAMP, -1, "infinity", "infinity"},
        {DC_TYPE_TIMESTAMP, -1, "-infinity", "-infinity"},
        {DC_TYPE_TIMESTAMP, -1, "epoch", "1970-01-01 00:00:00"},
        {DC_TYPE_TIMESTAMPTZ, -1, "2020-01-02 03:04:05",
         "2020-01-02 03:04:05+00"},
        {DC_TYPE_TIMESTAMPTZ, -1, "2020-01-02T03:04:05Z",
         "2020-01-02 03:04:05+00"},
        {DC_TYPE_TIMESTAMPTZ, -1, "2020-01-02 03:04:05+05:30",
         "2020-01-01 21:34:05+00"},
        {DC_TYPE_TIMESTAMPTZ, -1, "2020-01-02 03:04:05-0800",
         "2020-01-02 11:04:05+00"},
        {DC_TYPE_TIMESTAMPTZ, -1, "2020-01-02 03:04:05.5 +02",
         "2020-01-02 01:04:05.5+00"},
        {DC_TYPE_TIMESTAMPTZ, -1, "2020-01-02 03:04:05 UTC",
         "2020-01-02 03:04:05+00"},
        {DC_TYPE_TIMESTAMPTZ, -1, "epoch", "1970-01-01 00:00:00+00"},
    };
    check_io(c, N(c), NULL);
    static const err_case e[] = {
        {DC_TYPE_TIMESTAMP, -1, "2020-01-02 25:00:00", "22008",
         "date/time field value out of range: \"2020-01-02 25:00:00\""},
        {DC_TYPE_TIMESTAMP, -1, "2020-01-02 03:60:00", "22008", NULL},
        {DC_TYPE_TIMESTAMP, -1, "294277-01-01", "22008",
         "timestamp out of range: \"294277-01-01\""},
        {DC_TYPE_TIMESTAMP, -1, "1000000-01-01", "22008",
         "timestamp out of range: \"1000000-01-01\""},
        {DC_TYPE_TIMESTAMPTZ, -1, "5874897-12-31", "22008", NULL},
        {DC_TYPE_TIMESTAMP, -1, "nonsense", "22007",
         "invalid input syntax for type timestamp: \"nonsense\""},
        {DC_TYPE_TIMESTAMPTZ, -1, "2020-01-02 03:04:05 +", "22007",
         "invalid input syntax for type timestamp with time zone: "
         "\"2020-01-02 03:04:05 +\""},
    };
    check_errs(e, N(e));
    /* Session zones: PostgreSQL's POSIX sign for TimeZone settings. */
    sql_tz tz;
    assert_int_equal(sql_tz_parse("UTC+3", &tz, NULL), DC_OK);
    assert_int_equal(tz.offset, -3 * 3600);
    static const io_case c3[] = {
        {DC_TYPE_TIMESTAMPTZ, -1, "2020-01-02 03:04:05",
         "2020-01-02 03:04:05-03"},
        {DC_TYPE_TIMESTAMPTZ, -1, "2020-01-02 03:04:05+00",
         "2020-01-02 00:04:05-03"},
    };
    check_io(c3, N(c3), &tz);
    assert_int_equal(sql_tz_parse("+02:30", &tz, NULL), DC_OK);
    assert_int_equal(tz.offset, -(2 * 3600 + 1800));
    static const io_case c4[] = {
        {DC_TYPE_TIMESTAMPTZ, -1, "2020-01-02 03:04:05",
         "2020-01-02 03:04:05-02:30"},
    };
    check_io(c4, N(c4), &tz);
    assert_int_equal(sql_tz_parse("Etc/UTC", &tz, NULL), DC_OK);
    assert_int_equal(tz.offset, 0);
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_tz_parse("Mars/Olympus", &tz, &err), DC_EINVAL);
    assert_string_equal(err.sqlstate, "22023");
    dc_value v = in(DC_TYPE_TIMESTAMP, -1, "2000-01-01 00:00:01");
    assert_int_equal(v.u.i, 1000000);
}

static void test_calendar(void **state)
{
    (void)state;
    /* Every day from 4714 BC to 10000 AD round-trips and is consecutive. */
    int64_t prev = sql_date_from_ymd(-4713, 11, 24) - 1;
    for (int64_t y = -4713; y <= 10000; y++)
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= 31; d++) {
                if (!sql_ymd_valid(y, m, d) ||
                    (y == -4713 && (m < 11 || (m == 11 && d < 24))))
                    continue;
                int64_t days = sql_date_from_ymd(y, m, d);
                assert_int_equal(days, prev + 1);
                prev = days;
                int64_t yy;
                int mm, dd;
                sql_date_to_ymd(days, &yy, &mm, &dd);
                assert_true(yy == y && mm == m && dd == d);
            }
    assert_int_equal(sql_date_from_ymd(2000, 1, 1), 0);
    assert_int_equal(sql_date_from_ymd(2020, 1, 2), 7306);
}

/* ---- binary I/O
 * --------------------------------------------------------------- */

typedef struct bin_case {
    uint32_t type;
    const char *text;
    const char *hex; /* PostgreSQL's xxx_send output */
} bin_case;

static void tohex(const uint8_t *p, size_t n, char *buf)
{
    for (size_t i = 0; i < n; i++)
        sprintf(buf + 2 * i, "%02x", p[i]);
    buf[2 * n] = '\0';
}

static void test_binary(void **state)
{
    (void)state;
    static const bin_case c[] = {
        {DC_TYPE_INT2, "-2", "fffe"},
        {DC_TYPE_INT4, "258", "00000102"},
        {DC_TYPE_INT8, "-9223372036854775808", "8000000000000000"},
        {DC_TYPE_FLOAT8, "1.5", "3ff8000000000000"},
        {DC_TYPE_FLOAT4, "-2.5", "c0200000"},
        {DC_TYPE_BOOL, "t", "01"},
        {DC_TYPE_BOOL, "f", "00"},
        {DC_TYPE_TEXT, "ab", "6162"},
        {DC_TYPE_BYTEA, "\\x00ff", "00ff"},
        {DC_TYPE_DATE, "2020-01-02", "00001c8a"},
        {DC_TYPE_DATE, "1999-12-31", "ffffffff"},
        {DC_TYPE_TIMESTAMP, "2020-01-02 03:04:05.5", "00023e1e36f6b460"},
        {DC_TYPE_TIMESTAMPTZ, "2020-01-02 03:04:05.5+00", "00023e1e36f6b460"},
        {DC_TYPE_NUMERIC, "1.50", "000200000000000200011388"},
        {DC_TYPE_NUMERIC, "-1234567.891", "0003000140000003007b11d722ce"},
        {DC_TYPE_NUMERIC, "0.00012", "0002ffff00000005000107d0"},
        {DC_TYPE_NUMERIC, "NaN", "00000000c0000000"},
        {DC_TYPE_NUMERIC, "0.00", "0000000000000002"},
        {DC_TYPE_NUMERIC, "10000", "00010001000000000001"},
        {DC_TYPE_NUMERIC, "Infinity", "00000000d0000000"},
        {DC_TYPE_NUMERIC, "-Infinity", "00000000f0000000"},
    };
    for (size_t i = 0; i < N(c); i++) {
        dc_value v = in(c[i].type, -1, c[i].text);
        sql_buf b;
        sql_buf_init(&b);
        assert_int_equal(sql_value_send(&v, &b, NULL), DC_OK);
        char hex[256];
        tohex(b.data, b.len, hex);
        if (strcmp(hex, c[i].hex) != 0)
            fail_msg("send %s: got %s want %s", c[i].text, hex, c[i].hex);
        dc_value w;
        assert_int_equal(
            sql_value_recv(c[i].type, -1, b.data, b.len, &g_mem, &w, NULL),
            DC_OK);
        int cmp = 1;
        assert_int_equal(sql_value_cmp(&v, &w, &cmp, NULL), DC_OK);
        assert_int_equal(cmp, 0);
        char want[256];
        snprintf(want, sizeof want, "%s", out(&v));
        assert_string_equal(out(&w), want);
        sql_buf_free(&b);
    }
    /* Errors */
    dc_value w;
    dc_error err;
    dc_error_init(&err);
    uint8_t three[3] = {0, 0, 1};
    assert_int_equal(
        sql_value_recv(DC_TYPE_INT4, -1, three, 3, &g_mem, &w, &err),
        DC_EINVAL);
    assert_string_equal(err.sqlstate, "22P03");
    uint8_t badsign[8] = {0, 0, 0, 0, 0x12, 0x34, 0, 0};
    dc_error_init(&err);
    assert_int_equal(
        sql_value_recv(DC_TYPE_NUMERIC, -1, badsign, 8, &g_mem, &w, &err),
        DC_EINVAL);
    assert_string_equal(err.sqlstate, "22P03");
    uint8_t baddigit[10] = {0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10};
    dc_error_init(&err);
    assert_int_equal(
        sql_value_recv(DC_TYPE_NUMERIC, -1, baddigit, 10, &g_mem, &w, &err),
        DC_EINVAL);
    /* numeric recv truncates to the sent dscale: 1.2345 with dscale 2 */
    uint8_t trunc2[12] = {0, 2, 0, 0, 0, 0, 0, 2, 0, 1, 0x09, 0x29};
    assert_int_equal(
        sql_value_recv(DC_TYPE_NUMERIC, -1, trunc2, 12, &g_mem, &w, NULL),
        DC_OK);
    assert_string_equal(out(&w), "1.23");
    /* typmod applies on receive */
    dc_error_init(&err);
    assert_int_equal(sql_value_recv(DC_TYPE_VARCHAR, VC(1),
                                    (const uint8_t *)"ab", 2, &g_mem, &w, &err),
                     DC_ERANGE);
    assert_string_equal(err.sqlstate, "22001");
    /* random numeric round trips */
    srand(7);
    for (int i = 0; i < 2000; i++) {
        char s[64];
        int k = 0;
        if (rand() & 1)
            s[k++] = '-';
        int nd = 1 + rand() % 30;
        for (int j = 0; j < nd; j++)
            s[k++] = (char)('0' + rand() % 10);
        if (rand() & 1) {
            s[k++] = '.';
            int nf = rand() % 12;
            for (int j = 0; j < nf; j++)
                s[k++] = (char)('0' + rand() % 10);
        }
        s[k] = '\0';
        dc_value v = in(DC_TYPE_NUMERIC, -1, s);
        char want[128];
        snprintf(want, sizeof want, "%s", out(&v));
        sql_buf b;
        sql_buf_init(&b);
        assert_int_equal(sql_value_send(&v, &b, NULL), DC_OK);
        assert_int_equal(sql_value_recv(DC_TYPE_NUMERIC, -1, b.data, b.len,
                                        &g_mem, &w, NULL),
                         DC_OK);
        assert_string_equal(out(&w), want);
        sql_buf_free(&b);
    }
}

/* ---- casts
 * ------------------------------------------------------------------------ */

typedef struct cast_case {
    uint32_t from;
    const char *in;
    uint32_t to;
    int32_t typmod;
    sql_cast_ctx ctx;
    const char *out;      /* expected output, or NULL for an error */
    const char *sqlstate; /* expected error */
} cast_case;

static void check_casts(const cast_case *c, size_t n, const sql_tz *tz)
{
    for (size_t i = 0; i < n; i++) {
        dc_value v = in_tz(c[i].from, -1, c[i].in, tz), w;
        dc_error err;
        dc_error_init(&err);
        int rc = sql_value_cast(&v, c[i].to, c[i].typmod, c[i].ctx, tz, &g_mem,
                                &w, &err);
        if (c[i].out == NULL) {
            if (rc == DC_OK || strcmp(err.sqlstate, c[i].sqlstate) != 0)
                fail_msg("cast '%s' %s->%s: want error %s, got %d %s", c[i].in,
                         sql_type_name(c[i].from), sql_type_name(c[i].to),
                         c[i].sqlstate, rc, err.sqlstate);
            continue;
        }
        if (rc != DC_OK)
            fail_msg("cast '%s' %s->%s failed: %s", c[i].in,
                     sql_type_name(c[i].from), sql_type_name(c[i].to),
                     err.message);
        assert_int_equal(w.type, c[i].to);
        const char *o = out_tz(&w, tz);
        if (strcmp(o, c[i].out) != 0)
            fail_msg("cast '%s' %s->%s: got '%s' want '%s'", c[i].in,
                     sql_type_name(c[i].from), sql_type_name(c[i].to), o,
                     c[i].out);
    }
}

#define EX SQL_CAST_EXPLICIT
#define AS SQL_CAST_ASSIGNMENT
#define IM SQL_CAST_IMPLICIT

static void test_casts(void **state)
{
    (void)state;
    static const cast_case c[] = {
        {DC_TYPE_INT4, "40000", DC_TYPE_INT2, -1, AS, NULL, "22003"},
        {DC_TYPE_INT4, "-300", DC_TYPE_INT2, -1, AS, "-300", NULL},
        {DC_TYPE_INT8, "2147483648", DC_TYPE_INT4, -1, AS, NULL, "22003"},
        {DC_TYPE_INT2, "7", DC_TYPE_INT8, -1, IM, "7", NULL},
        {DC_TYPE_FLOAT8, "2.5", DC_TYPE_INT4, -1, AS, "2", NULL},
        {DC_TYPE_FLOAT8, "3.5", DC_TYPE_INT4, -1, AS, "4", NULL},
        {DC_TYPE_FLOAT4, "3.7", DC_TYPE_INT4, -1, AS, "4", NULL},
        {DC_TYPE_FLOAT8, "NaN", DC_TYPE_INT4, -1, AS, NULL, "22003"},
        {DC_TYPE_FLOAT8, "1e19", DC_TYPE_INT8, -1, AS, NULL, "22003"},
        {DC_TYPE_FLOAT8, "-9223372036854775808", DC_TYPE_INT8, -1, AS,
         "-9223372036854775808", NULL},
        {DC_TYPE_FLOAT8, "0.1", DC_TYPE_FLOAT4, -1, AS, "0.1", NULL},
        {DC_TYPE_FLOAT8, "1e300", DC_TYPE_FLOAT4, -1, AS, NULL, "22003"},
        {DC_TYPE_FLOAT8, "1e-300", DC_TYPE_FLOAT4, -1, AS, NULL, "22003"},
        {DC_TYPE_FLOAT4, "0.1", DC_TYPE_FLOAT8, -1, IM, "0.10000000149011612",
         NULL},
        {DC_TYPE_INT8, "9007199254740993", DC_TYPE_FLOAT8, -1, IM,
         "9.007199254740992e+15", NULL},
        {DC_TYPE_FLOAT8, "12.3456", DC_TYPE_NUMERIC, -1, AS, "12.3456", NULL},
        {DC_TYPE_FLOAT4, "0.1", DC_TYPE_NUMERIC, -1, AS, "0.1", NULL},
        {DC_TYPE_FLOAT8, "1e20", DC_TYPE_NUMERIC, -1, AS,
         "100000000000000000000", NULL},
        {DC_TYPE_FLOAT8, "NaN", DC_TYPE_NUMERIC, -1, AS, "NaN", NULL},
        {DC_TYPE_FLOAT8, "-Infinity", DC_TYPE_NUMERIC, -1, AS, "-Infinity",
         NULL},
        {DC_TYPE_FLOAT8, "1.005", DC_TYPE_NUMERIC, NUMT(3, 2), AS, "1.01",
         NULL},
        {DC_TYPE_NUMERIC, "4.5", DC_TYPE_INT2, -1, AS, "5", NULL},
        {DC_TYPE_NUMERIC, "-2.5", DC_TYPE_INT4, -1, AS, "-3", NULL},
        {DC_TYPE_NUMERIC, "2147483647.5", DC_TYPE_INT4, -1, AS, NULL, "22003"},
        {DC_TYPE_NUMERIC, "9223372036854775807", DC_TYPE_INT8, -1, AS,
         "9223372036854775807", NULL},
        {DC_TYPE_NUMERIC, "-9223372036854775808.4", DC_TYPE_INT8, -1, AS,
         "-9223372036854775808", NULL},
        {DC_TYPE_NUMERIC, "9223372036854775808", DC_TYPE_INT8, -1, AS, NULL,
         "22003"},
        {DC_TYPE_NUMERIC, "NaN", DC_TYPE_INT4, -1, AS, NULL, "0A000"},
        {DC_TYPE_NUMERIC, "Infinity", DC_TYPE_INT8, -1, AS, NULL, "0A000"},
        {DC_TYPE_NUMERIC, "1.5", DC_TYPE_FLOAT8, -1, IM, "1.5", NULL},
        {DC_TYPE_NUMERIC, "12345678901234567890", DC_TYPE_FLOAT8, -1, IM,
         "1.2345678901234567e+19", NULL},
        {DC_TYPE_NUMERIC, "1e400", DC_TYPE_FLOAT8, -1, IM, NULL, "22003"},
        {DC_TYPE_NUMERIC, "1e39", DC_TYPE_FLOAT4, -1, IM, NULL, "22003"},
        {DC_TYPE_NUMERIC, "123.456", DC_TYPE_NUMERIC, NUMT(5, 1), AS, "123.5",
         NULL},
        {DC_TYPE_NUMERIC, "12345.6", DC_TYPE_NUMERIC, NUMT(5, 1), AS, NULL,
         "22003"},
        {DC_TYPE_INT8, "-9223372036854775808", DC_TYPE_NUMERIC, -1, IM,
         "-9223372036854775808", NULL},
        {DC_TYPE_INT4, "1", DC_TYPE_BOOL, -1, EX, "t", NULL},
        {DC_TYPE_INT4, "0", DC_TYPE_BOOL, -1, EX, "f", NULL},
        {DC_TYPE_BOOL, "t", DC_TYPE_INT4, -1, EX, "1", NULL},
        {DC_TYPE_BOOL, "t", DC_TYPE_TEXT, -1, AS, "true", NULL},
        {DC_TYPE_FLOAT4, "1.5", DC_TYPE_TEXT, -1, AS, "1.5", NULL},
        {DC_TYPE_NUMERIC, "1.50", DC_TYPE_TEXT, -1, AS, "1.50", NULL},
        {DC_TYPE_INT4, "42", DC_TYPE_VARCHAR, VC(1), EX, "4", NULL},
        {DC_TYPE_INT4, "42", DC_TYPE_VARCHAR, VC(1), AS, NULL, "22001"},
        {DC_TYPE_TEXT, "abc", DC_TYPE_VARCHAR, VC(2), EX, "ab", NULL},
        {DC_TYPE_TEXT, "abc", DC_TYPE_VARCHAR, VC(2), AS, NULL, "22001"},
        {DC_TYPE_TEXT, "abc", DC_TYPE_BPCHAR, VC(5), IM, "abc  ", NULL},
        {DC_TYPE_TEXT, "abcd", DC_TYPE_BPCHAR, VC(3), EX, "abc", NULL},
        {DC_TYPE_BPCHAR, "abc  ", DC_TYPE_TEXT, -1, IM, "abc", NULL},
        {DC_TYPE_BPCHAR, "abc  ", DC_TYPE_VARCHAR, -1, IM, "abc", NULL},
        {DC_TYPE_VARCHAR, "x", DC_TYPE_TEXT, -1, IM, "x", NULL},
        {DC_TYPE_TEXT, " 12 ", DC_TYPE_INT4, -1, EX, "12", NULL},
        {DC_TYPE_TEXT, "12x", DC_TYPE_INT4, -1, EX, NULL, "22P02"},
        {DC_TYPE_TEXT, "2020-01-02", DC_TYPE_DATE, -1, EX, "2020-01-02", NULL},
        {DC_TYPE_TEXT, "\\x01", DC_TYPE_BYTEA, -1, EX, "\\x01", NULL},
        {DC_TYPE_BYTEA, "\\x01", DC_TYPE_TEXT, -1, AS, "\\x01", NULL},
        {DC_TYPE_DATE, "2020-01-02", DC_TYPE_TEXT, -1, AS, "2020-01-02", NULL},
        {DC_TYPE_DATE, "2020-01-02", DC_TYPE_TIMESTAMP, -1, IM,
         "2020-01-02 00:00:00", NULL},
        {DC_TYPE_DATE, "infinity", DC_TYPE_TIMESTAMP, -1, IM, "infinity", NULL},
        {DC_TYPE_DATE, "5874897-12-31", DC_TYPE_TIMESTAMP, -1, IM, NULL,
         "22008"},
        {DC_TYPE_DATE, "294276-12-31", DC_TYPE_TIMESTAMP, -1, IM,
         "294276-12-31 00:00:00", NULL},
        {DC_TYPE_TIMESTAMP, "2020-01-02 23:59:59", DC_TYPE_DATE, -1, AS,
         "2020-01-02", NULL},
        {DC_TYPE_TIMESTAMP, "1999-12-31 23:59:59", DC_TYPE_DATE, -1, AS,
         "1999-12-31", NULL},
        {DC_TYPE_TIMESTAMP, "2020-01-02 03:04:05", DC_TYPE_TIMESTAMPTZ, -1, IM,
         "2020-01-02 03:04:05+00", NULL},
        {DC_TYPE_DATE, "2020-01-02", DC_TYPE_INT4, -1, EX, NULL, "42846"},
        {DC_TYPE_BOOL, "t", DC_TYPE_INT8, -1, EX, NULL, "42846"},
    };
    check_casts(c, N(c), NULL);
    sql_tz tz;
    assert_int_equal(sql_tz_parse("UTC+3", &tz, NULL), DC_OK);
    static const cast_case c3[] = {
        {DC_TYPE_DATE, "2020-01-02", DC_TYPE_TIMESTAMPTZ, -1, IM,
         "2020-01-02 00:00:00-03", NULL},
        {DC_TYPE_TIMESTAMPTZ, "2020-01-02 01:00:00+00", DC_TYPE_DATE, -1, AS,
         "2020-01-01", NULL},
        {DC_TYPE_TIMESTAMPTZ, "2020-01-02 01:00:00+00", DC_TYPE_TIMESTAMP, -1,
         AS, "2020-01-01 22:00:00", NULL},
        {DC_TYPE_TIMESTAMP, "2020-01-02 01:00:00", DC_TYPE_TIMESTAMPTZ, -1, IM,
         "2020-01-02 01:00:00-03", NULL},
    };
    check_casts(c3, N(c3), &tz);
    /* NULL casts to NULL */
    dc_value nv = sql_value_null(DC_TYPE_INT4), w;
    assert_int_equal(
        sql_value_cast(&nv, DC_TYPE_TEXT, -1, AS, NULL, &g_mem, &w, NULL),
        DC_OK);
    assert_true(w.is_null);
    assert_int_equal(w.type, DC_TYPE_TEXT);
}

static void test_cast_kind(void **state)
{
    (void)state;
    static const struct {
        uint32_t from, to;
        sql_cast_ctx k;
    } c[] = {
        {DC_TYPE_INT2, DC_TYPE_INT4, IM},
        {DC_TYPE_INT4, DC_TYPE_INT2, AS},
        {DC_TYPE_INT8, DC_TYPE_INT4, AS},
        {DC_TYPE_INT4, DC_TYPE_INT8, IM},
        {DC_TYPE_INT4, DC_TYPE_FLOAT4, IM},
        {DC_TYPE_INT8, DC_TYPE_NUMERIC, IM},
        {DC_TYPE_NUMERIC, DC_TYPE_FLOAT8, IM},
        {DC_TYPE_FLOAT8, DC_TYPE_NUMERIC, AS},
        {DC_TYPE_FLOAT8, DC_TYPE_FLOAT4, AS},
        {DC_TYPE_FLOAT4, DC_TYPE_FLOAT8, IM},
        {DC_TYPE_FLOAT8, DC_TYPE_INT8, AS},
        {DC_TYPE_NUMERIC, DC_TYPE_INT4, AS},
        {DC_TYPE_BOOL, DC_TYPE_INT4, EX},
        {DC_TYPE_INT4, DC_TYPE_BOOL, EX},
        {DC_TYPE_INT8, DC_TYPE_BOOL, SQL_CAST_NONE},
        {DC_TYPE_TEXT, DC_TYPE_VARCHAR, IM},
        {DC_TYPE_VARCHAR, DC_TYPE_TEXT, IM},
        {DC_TYPE_BPCHAR, DC_TYPE_TEXT, IM},
        {DC_TYPE_TEXT, DC_TYPE_BPCHAR, IM},
        {DC_TYPE_INT4, DC_TYPE_TEXT, AS},
        {DC_TYPE_TEXT, DC_TYPE_INT4, EX},
        {DC_TYPE_DATE, DC_TYPE_TEXT, AS},
        {DC_TYPE_TEXT, DC_TYPE_DATE, EX},
        {DC_TYPE_DATE, DC_TYPE_TIMESTAMP, IM},
        {DC_TYPE_DATE, DC_TYPE_TIMESTAMPTZ, IM},
        {DC_TYPE_TIMESTAMP, DC_TYPE_TIMESTAMPTZ, IM},
        {DC_TYPE_TIMESTAMPTZ, DC_TYPE_TIMESTAMP, AS},
        {DC_TYPE_TIMESTAMP, DC_TYPE_DATE, AS},
        {DC_TYPE_DATE, DC_TYPE_INT4, SQL_CAST_NONE},
        {DC_TYPE_UNKNOWN, DC_TYPE_DATE, IM},
        {DC_TYPE_VARCHAR, DC_TYPE_VARCHAR, IM},
        {DC_TYPE_BYTEA, DC_TYPE_INT4, SQL_CAST_NONE},
    };
    for (size_t i = 0; i < N(c); i++)
        if (sql_cast_kind(c[i].from, c[i].to) != c[i].k)
            fail_msg("cast kind %s->%s: got %d want %d",
                     sql_type_name(c[i].from), sql_type_name(c[i].to),
                     sql_cast_kind(c[i].from, c[i].to), c[i].k);
}

/* ---- arithmetic
 * --------------------------------------------------------------------- */

typedef struct arith_case {
    sql_arith_op op;
    uint32_t ta;
    const char *a;
    uint32_t tb;
    const char *b;
    uint32_t rt;
    const char *out; /* NULL: error */
    const char *sqlstate;
    const char *message;
} arith_case;

static void test_arith(void **state)
{
    (void)state;
    const uint32_t I2 = DC_TYPE_INT2, I4 = DC_TYPE_INT4, I8 = DC_TYPE_INT8,
                   F4 = DC_TYPE_FLOAT4, F8 = DC_TYPE_FLOAT8,
                   NU = DC_TYPE_NUMERIC, DA = DC_TYPE_DATE;
    const arith_case c[] = {
        {SQL_OP_ADD, I2, "32767", I2, "1", I2, NULL, "22003",
         "smallint out of range"},
        {SQL_OP_ADD, I2, "32767", I4, "1", I4, "32768", NULL, NULL},
        {SQL_OP_ADD, I4, "2147483647", I4, "1", I4, NULL, "22003",
         "integer out of range"},
        {SQL_OP_SUB, I8, "-9223372036854775808", I8, "1", I8, NULL, "22003",
         "bigint out of range"},
        {SQL_OP_MUL, I8, "4294967296", I8, "4294967296", I8, NULL, "22003",
         NULL},
        {SQL_OP_MUL, I4, "46341", I8, "46341", I8, "2147488281", NULL, NULL},
        {SQL_OP_DIV, I4, "-7", I4, "2", I4, "-3", NULL, NULL},
        {SQL_OP_MOD, I4, "-7", I4, "2", I4, "-1", NULL, NULL},
        {SQL_OP_MOD, I4, "7", I4, "-2", I4, "1", NULL, NULL},
        {SQL_OP_DIV, I4, "5", I4, "0", I4, NULL, "22012", "division by zero"},
        {SQL_OP_MOD, I4, "5", I4, "0", I4, NULL, "22012", "division by zero"},
        {SQL_OP_DIV, I4, "-2147483648", I4, "-1", I4, NULL, "22003",
         "integer out of range"},
        {SQL_OP_DIV, I8, "-9223372036854775808", I8, "-1", I8, NULL, "22003",
         NULL},
        {SQL_OP_MOD, I8, "-9223372036854775808", I8, "-1", I8, "0", NULL, NULL},
        {SQL_OP_ADD, F8, "0.1", F8, "0.2", F8, "0.30000000000000004", NULL,
         NULL},
        {SQL_OP_ADD, F4, "1.5", F4, "1.5", F4, "3", NULL, NULL},
        {SQL_OP_ADD, I4, "1", F4, "0.5", F8, "1.5", NULL, NULL},
        {SQL_OP_MUL, F8, "1e308", F8, "10", F8, NULL, "22003",
         "value out of range: overflow"},
        {SQL_OP_MUL, F8, "1e-308", F8, "1e-308", F8, NULL, "22003",
         "value out of range: underflow"},
        {SQL_OP_MUL, F4, "1e30", F4, "1e30", F4, NULL, "22003",
         "value out of range: overflow"},
        {SQL_OP_DIV, F8, "1", F8, "0", F8, NULL, "22012", "division by zero"},
        {SQL_OP_DIV, F8, "NaN", F8, "0", F8, "NaN", NULL, NULL},
        {SQL_OP_ADD, F8, "Infinity", F8, "1", F8, "Infinity", NULL, NULL},
        {SQL_OP_SUB, F8, "Infinity", F8, "Infinity", F8, "NaN", NULL, NULL},
        {SQL_OP_MUL, F8, "1e300", F8, "1e-300", F8, "1", NULL, NULL},
        {SQL_OP_MOD, F8, "1", F8, "1", 0, NULL, "42883", NULL},
        {SQL_OP_DIV, NU, "1", NU, "3", NU, "0.33333333333333333333", NULL,
         NULL},
        {SQL_OP_DIV, I4, "1", NU, "3", NU, "0.33333333333333333333", NULL,
         NULL},
        {SQL_OP_DIV, NU, "10", NU, "4", NU, "2.5000000000000000", NULL, NULL},
        {SQL_OP_DIV, NU, "123456.789", I4, "7", NU, "17636.684142857143", NULL,
         NULL},
        {SQL_OP_DIV, NU, "1", NU, "7000000", NU, "0.000000142857142857142857",
         NULL, NULL},
        {SQL_OP_DIV, NU, "1e-20", NU, "3", NU,
         "0.0000000000000000000033333333333333333333", NULL, NULL},
        {SQL_OP_DIV, NU, "1000000", NU, "7", NU, "142857.142857142857", NULL,
         NULL},
        {SQL_OP_DIV, NU, "0.001", NU, "7", NU, "0.00014285714285714286", NULL,
         NULL},
        {SQL_OP_DIV, NU, "99999", NU, "0.1", NU, "999990.000000000000", NULL,
         NULL},
        {SQL_OP_DIV, NU, "12345.678", NU, "0.001", NU, "12345678.000000000000",
         NULL, NULL},
        {SQL_OP_DIV, NU, "123", NU, "12345678", NU,
         "0.000009963000816966066991", NULL, NULL},
        {SQL_OP_DIV, NU, "12345678901234567890", NU, "3", NU,
         "4115226300411522630", NULL, NULL},
        {SQL_OP_DIV, NU, "-2", NU, "3", NU, "-0.66666666666666666667", NULL,
         NULL},
        {SQL_OP_DIV, NU, "1", NU, "0", NU, NULL, "22012", "division by zero"},
        {SQL_OP_DIV, NU, "NaN", NU, "0", NU, "NaN", NULL, NULL},
        {SQL_OP_DIV, NU, "Infinity", NU, "-2", NU, "-Infinity", NULL, NULL},
        {SQL_OP_MOD, NU, "7.5", NU, "2", NU, "1.5", NULL, NULL},
        {SQL_OP_MOD, NU, "-7.5", NU, "2", NU, "-1.5", NULL, NULL},
        {SQL_OP_MOD, NU, "1", NU, "0", NU, NULL, "22012", NULL},
        {SQL_OP_MUL, NU, "2.50", NU, "1.1", NU, "2.750", NULL, NULL},
        {SQL_OP_MUL, NU, "-0.5", I4, "0", NU, "0.0", NULL, NULL},
        {SQL_OP_ADD, NU, "0.1", NU, "-0.10", NU, "0.00", NULL, NULL},
        {SQL_OP_SUB, NU, "1", NU, "1000.001", NU, "-999.001", NULL, NULL},
        {SQL_OP_ADD, NU, "99999999999999999999", I8, "1", NU,
         "100000000000000000000", NULL, NULL},
        {SQL_OP_ADD, NU, "Infinity", NU, "-Infinity", NU, "NaN", NULL, NULL},
        {SQL_OP_ADD, NU, "Infinity", NU, "5", NU, "Infinity", NULL, NULL},
        {SQL_OP_MUL, NU, "Infinity", NU, "0", NU, "NaN", NULL, NULL},
        {SQL_OP_ADD, NU, "1.5", F8, "1", F8, "2.5", NULL, NULL},
        {SQL_OP_ADD, DA, "2016-02-28", I4, "1", DA, "2016-02-29", NULL, NULL},
        {SQL_OP_ADD, I4, "1", DA, "9999-12-31", DA, "10000-01-01", NULL, NULL},
        {SQL_OP_SUB, DA, "2000-03-01", I4, "1", DA, "2000-02-29", NULL, NULL},
        {SQL_OP_SUB, DA, "2016-02-29", DA, "2015-02-28", I4, "366", NULL, NULL},
        {SQL_OP_SUB, DA, "infinity", DA, "2015-02-28", I4, NULL, "22008", NULL},
        {SQL_OP_ADD, DA, "5874897-12-31", I4, "1", DA, NULL, "22008",
         "date out of range"},
        {SQL_OP_ADD, DA, "2020-01-01", DA, "2020-01-01", 0, NULL, "42883",
         NULL},
    };
    for (size_t i = 0; i < N(c); i++) {
        dc_value a = in(c[i].ta, -1, c[i].a), b = in(c[i].tb, -1, c[i].b), r;
        assert_int_equal(sql_arith_type(c[i].op, c[i].ta, c[i].tb), c[i].rt);
        dc_error err;
        dc_error_init(&err);
        int rc = sql_value_arith(c[i].op, &a, &b, &g_mem, &r, &err);
        if (c[i].out == NULL) {
            if (rc == DC_OK || strcmp(err.sqlstate, c[i].sqlstate) != 0 ||
                (c[i].message && strcmp(err.message, c[i].message) != 0))
                fail_msg("case %zu %s op %s: want %s %s, got %d %s %s", i,
                         c[i].a, c[i].b, c[i].sqlstate,
                         c[i].message ? c[i].message : "", rc, err.sqlstate,
                         err.message);
            continue;
        }
        if (rc != DC_OK)
            fail_msg("case %zu %s op %s failed: %s", i, c[i].a, c[i].b,
                     err.message);
        assert_int_equal(r.type, c[i].rt);
        if (strcmp(out(&r), c[i].out) != 0)
            fail_msg("case %zu %s op %s: got %s want %s", i, c[i].a, c[i].b,
                     g_out, c[i].out);
    }
    /* NULL propagates */
    dc_value a = sql_value_int(DC_TYPE_INT4, 1),
             n = sql_value_null(DC_TYPE_INT8), r;
    assert_int_equal(sql_value_arith(SQL_OP_ADD, &a, &n, &g_mem, &r, NULL),
                     DC_OK);
    assert_true(r.is_null);
    assert_int_equal(r.type, DC_TYPE_INT8);
    /* unary */
    dc_error err;
    dc_error_init(&err);
    a = sql_value_int(DC_TYPE_INT4, INT32_MIN);
    assert_int_equal(sql_value_neg(&a, &g_mem, &r, &err), DC_ERANGE);
    assert_string_equal(err.message, "integer out of range");
    assert_int_equal(sql_value_abs(&a, &g_mem, &r, &err), DC_ERANGE);
    a = sql_value_int(DC_TYPE_INT2, -5);
    assert_int_equal(sql_value_abs(&a, &g_mem, &r, NULL), DC_OK);
    assert_string_equal(out(&r), "5");
    a = in(DC_TYPE_NUMERIC, -1, "-1.50");
    assert_int_equal(sql_value_abs(&a, &g_mem, &r, NULL), DC_OK);
    assert_string_equal(out(&r), "1.50");
    assert_int_equal(sql_value_neg(&r, &g_mem, &r, NULL), DC_OK);
    assert_string_equal(out(&r), "-1.50");
    a = in(DC_TYPE_FLOAT8, -1, "0");
    assert_int_equal(sql_value_neg(&a, &g_mem, &r, NULL), DC_OK);
    assert_string_equal(out(&r), "-0");
}

static void num_of(const char *s, sql_num *n)
{
    sql_num_init(n);
    assert_int_equal(sql_num_parse(s, strlen(s), n, NULL), DC_OK);
}

static const char *num_str(const sql_num *n)
{
    char *s;
    size_t len;
    assert_int_equal(sql_num_format(n, &s, &len, NULL), DC_OK);
    snprintf(g_out, sizeof g_out, "%s", s);
    free(s);
    return g_out;
}

static void test_numeric_ops(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int scale;
        const char *round, *trunc;
    } rc[] = {
        {"2.5", 0, "3", "2"},
        {"-2.5", 0, "-3", "-2"},
        {"1234.5678", 2, "1234.57", "1234.56"},
        {"1234.5678", -2, "1200", "1200"},
        {"1250", -2, "1300", "1200"},
        {"9.99", 1, "10.0", "9.9"},
        {"0.5", 3, "0.500", "0.500"},
        {"-0.4", 0, "0", "0"},
        {"99999", -5, "100000", "0"},
        {"NaN", 2, "NaN", "NaN"},
    };
    for (size_t i = 0; i < N(rc); i++) {
        sql_num a, b;
        num_of(rc[i].in, &a);
        num_of(rc[i].in, &b);
        assert_int_equal(sql_num_round(&a, rc[i].scale, NULL), DC_OK);
        assert_int_equal(sql_num_trunc(&b, rc[i].scale, NULL), DC_OK);
        if (strcmp(num_str(&a), rc[i].round) != 0)
            fail_msg("round(%s,%d) = %s", rc[i].in, rc[i].scale, g_out);
        if (strcmp(num_str(&b), rc[i].trunc) != 0)
            fail_msg("trunc(%s,%d) = %s", rc[i].in, rc[i].scale, g_out);
        sql_num_free(&a);
        sql_num_free(&b);
    }
    /* Big numbers: (10^500 - 1) * (10^500 + 1) = 10^1000 - 1, and back. */
    char a_s[600], b_s[600];
    memset(a_s, '9', 500);
    a_s[500] = '\0';
    b_s[0] = '1';
    memset(b_s + 1, '0', 499);
    b_s[500] = '1';
    b_s[501] = '\0';
    sql_num a, b, p, q;
    num_of(a_s, &a);
    num_of(b_s, &b);
    sql_num_init(&p);
    sql_num_init(&q);
    assert_int_equal(sql_num_mul(&a, &b, &p, NULL), DC_OK);
    char want[1100];
    memset(want, '9', 1000);
    want[1000] = '\0';
    assert_string_equal(num_str(&p), want);
    assert_int_equal(sql_num_div_scale(&p, &b, 0, 1, &q, NULL), DC_OK);
    assert_string_equal(num_str(&q), a_s);
    /* 10^1000 - 1 mod (10^500 + 1) == 0 */
    assert_int_equal(sql_num_mod(&p, &b, &q, NULL), DC_OK);
    assert_string_equal(num_str(&q), "0");
    sql_num_free(&a);
    sql_num_free(&b);
    sql_num_free(&p);
    sql_num_free(&q);
    /* Random identities: (a*b)/b == a exactly when dividing to a's scale;
     * a + b - b == a; comparison agrees with doubles when far apart. */
    srand(11);
    for (int i = 0; i < 500; i++) {
        char s1[64], s2[64];
        snprintf(s1, sizeof s1, "%s%d.%04d", rand() & 1 ? "-" : "", rand(),
                 rand() % 10000);
        snprintf(s2, sizeof s2, "%s%d.%02d", rand() & 1 ? "-" : "",
                 1 + rand() % 100000, rand() % 100);
        sql_num x, y, z, w;
        num_of(s1, &x);
        num_of(s2, &y);
        sql_num_init(&z);
        sql_num_init(&w);
        assert_int_equal(sql_num_mul(&x, &y, &z, NULL), DC_OK);
        assert_int_equal(sql_num_div_scale(&z, &y, 4, 1, &w, NULL), DC_OK);
        assert_int_equal(sql_num_cmp(&w, &x), 0);
        assert_int_equal(sql_num_add(&x, &y, &z, NULL), DC_OK);
        assert_int_equal(sql_num_sub(&z, &y, &w, NULL), DC_OK);
        assert_int_equal(sql_num_cmp(&w, &x), 0);
        /* mod identity: x = trunc(x/y)*y + x%y */
        sql_num t, m;
        sql_num_init(&t);
        sql_num_init(&m);
        assert_int_equal(sql_num_div_scale(&x, &y, 0, 0, &t, NULL), DC_OK);
        assert_int_equal(sql_num_mod(&x, &y, &m, NULL), DC_OK);
        assert_int_equal(sql_num_mul(&t, &y, &z, NULL), DC_OK);
        assert_int_equal(sql_num_add(&z, &m, &w, NULL), DC_OK);
        assert_int_equal(sql_num_cmp(&w, &x), 0);
        double dx = sql_num_to_double(&x), dy = sql_num_to_double(&y);
        int c = sql_num_cmp(&x, &y);
        assert_true((c < 0) == (dx < dy) && (c > 0) == (dx > dy));
        sql_num_free(&x);
        sql_num_free(&y);
        sql_num_free(&z);
        sql_num_free(&w);
        sql_num_free(&t);
        sql_num_free(&m);
    }
}

/* ---- comparison and hashing
 * ----------------------------------------------------- */

/* Types whose equal values must hash alike. */
static int is_same_family_hash(uint32_t a, uint32_t b)
{
#define INTISH(t)                                                              \
    ((t) == DC_TYPE_INT2 || (t) == DC_TYPE_INT4 || (t) == DC_TYPE_INT8)
#define STRISH(t)                                                              \
    ((t) == DC_TYPE_TEXT || (t) == DC_TYPE_VARCHAR || (t) == DC_TYPE_BPCHAR)
#define FLTISH(t) ((t) == DC_TYPE_FLOAT4 || (t) == DC_TYPE_FLOAT8)
    return (INTISH(a) && INTISH(b)) || (STRISH(a) && STRISH(b)) ||
           (FLTISH(a) && FLTISH(b)) || (INTISH(a) && b == DC_TYPE_NUMERIC) ||
           (INTISH(b) && a == DC_TYPE_NUMERIC);
}

static int cmpv(const dc_value *a, const dc_value *b)
{
    int c = 99;
    dc_error err;
    dc_error_init(&err);
    if (sql_value_cmp(a, b, &c, &err) != DC_OK)
        fail_msg("cmp failed: %s", err.message);
    return c;
}

static void test_compare(void **state)
{
    (void)state;
    static const struct {
        uint32_t ta;
        const char *a;
        uint32_t tb;
        const char *b;
        int want;
    } c[] = {
        {DC_TYPE_INT2, "5", DC_TYPE_INT8, "5", 0},
        {DC_TYPE_INT4, "-1", DC_TYPE_INT8, "1", -1},
        {DC_TYPE_INT4, "2", DC_TYPE_NUMERIC, "1.99", 1},
        {DC_TYPE_NUMERIC, "1.50", DC_TYPE_NUMERIC, "1.5", 0},
        {DC_TYPE_NUMERIC, "NaN", DC_TYPE_NUMERIC, "Infinity", 1},
        {DC_TYPE_NUMERIC, "NaN", DC_TYPE_NUMERIC, "NaN", 0},
        {DC_TYPE_NUMERIC, "-Infinity", DC_TYPE_NUMERIC, "-1e100", -1},
        {DC_TYPE_NUMERIC, "-0.001", DC_TYPE_NUMERIC, "0", -1},
        {DC_TYPE_FLOAT8, "NaN", DC_TYPE_FLOAT8, "Infinity", 1},
        {DC_TYPE_FLOAT8, "NaN", DC_TYPE_FLOAT4, "NaN", 0},
        {DC_TYPE_FLOAT8, "-0", DC_TYPE_FLOAT8, "0", 0},
        {DC_TYPE_FLOAT4, "0.5", DC_TYPE_FLOAT8, "0.5", 0},
        {DC_TYPE_INT4, "1", DC_TYPE_FLOAT8, "1.5", -1},
        {DC_TYPE_TEXT, "abc", DC_TYPE_TEXT, "abd", -1},
        {DC_TYPE_TEXT, "ab", DC_TYPE_TEXT, "abc", -1},
        {DC_TYPE_TEXT, "", DC_TYPE_TEXT, "", 0},
        {DC_TYPE_BPCHAR, "ab   ", DC_TYPE_BPCHAR, "ab", 0},
        {DC_TYPE_BPCHAR, "ab ", DC_TYPE_TEXT, "ab", 0},
        {DC_TYPE_VARCHAR, "ab ", DC_TYPE_TEXT, "ab", 1},
        {DC_TYPE_BYTEA, "\\x00", DC_TYPE_BYTEA, "\\x", 1},
        {DC_TYPE_BOOL, "f", DC_TYPE_BOOL, "t", -1},
        {DC_TYPE_DATE, "2020-01-02", DC_TYPE_TIMESTAMP, "2020-01-02 00:00:00",
         0},
        {DC_TYPE_DATE, "2020-01-02", DC_TYPE_TIMESTAMP, "2020-01-01 23:59:59",
         1},
        {DC_TYPE_DATE, "infinity", DC_TYPE_TIMESTAMP, "294276-01-01", 1},
        {DC_TYPE_DATE, "-infinity", DC_TYPE_DATE, "4714-11-24 BC", -1},
        {DC_TYPE_DATE, "5874897-12-31", DC_TYPE_TIMESTAMP, "infinity", -1},
        {DC_TYPE_DATE, "5874897-12-31", DC_TYPE_TIMESTAMP, "294276-12-31", 1},
    };
    for (size_t i = 0; i < N(c); i++) {
        dc_value a = in(c[i].ta, -1, c[i].a), b = in(c[i].tb, -1, c[i].b);
        if (cmpv(&a, &b) != c[i].want || cmpv(&b, &a) != -c[i].want)
            fail_msg("cmp %s vs %s: got %d want %d", c[i].a, c[i].b,
                     cmpv(&a, &b), c[i].want);
        if (c[i].want == 0 && c[i].ta != DC_TYPE_DATE &&
            (c[i].ta == c[i].tb || is_same_family_hash(c[i].ta, c[i].tb)))
            assert_true(sql_value_hash(&a) == sql_value_hash(&b));
    }
    dc_value a = sql_value_int(DC_TYPE_INT4, 1), t = in(DC_TYPE_TEXT, -1, "1");
    int r;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_value_cmp(&a, &t, &r, &err), DC_ETYPE);
    assert_string_equal(err.sqlstate, "42883");
    /* Hash: integers of all widths and integral numerics agree. */
    dc_value i2 = sql_value_int(DC_TYPE_INT2, -42),
             i8 = sql_value_int(DC_TYPE_INT8, -42);
    dc_value nu = in(DC_TYPE_NUMERIC, -1, "-42.000");
    assert_true(sql_value_hash(&i2) == sql_value_hash(&i8));
    assert_true(sql_value_hash(&i2) == sql_value_hash(&nu));
    dc_value n1 = in(DC_TYPE_NUMERIC, -1, "1.5"),
             n2 = in(DC_TYPE_NUMERIC, -1, "1.500");
    assert_true(sql_value_hash(&n1) == sql_value_hash(&n2));
    dc_value f1 = in(DC_TYPE_FLOAT8, -1, "-0"),
             f2 = in(DC_TYPE_FLOAT4, -1, "0");
    assert_true(sql_value_hash(&f1) == sql_value_hash(&f2));
    assert_true(sql_value_hash(&n1) != sql_value_hash(&i2));
}

/* ---- key encoding
 * ----------------------------------------------------------------- */

static uint32_t g_key_type;

/* A random value of g_key_type (text forms, parsed by the input function). */
static dc_value random_value(void)
{
    char s[128];
    int r = rand();
    switch (g_key_type) {
    case DC_TYPE_INT2:
        return sql_value_int(DC_TYPE_INT2, (int16_t)rand());
    case DC_TYPE_INT4:
        return sql_value_int(
            DC_TYPE_INT4, (int32_t)((uint32_t)rand() * 2u + (uint32_t)(r & 1)));
    case DC_TYPE_INT8: {
        int64_t v = (int64_t)(((uint64_t)rand() << 33) ^
                              ((uint64_t)rand() << 11) ^ (uint64_t)rand());
        if (r % 50 == 0)
            v = INT64_MIN;
        if (r % 50 == 1)
            v = INT64_MAX;
        if (r % 7 == 0)
            v %= 100;
        return sql_value_int(DC_TYPE_INT8, v);
    }
    case DC_TYPE_FLOAT8:
    case DC_TYPE_FLOAT4: {
        double d;
        switch (r % 10) {
        case 0:
            d = NAN;
            break;
        case 1:
            d = (r & 16) ? INFINITY : -INFINITY;
            break;
        case 2:
            d = (r & 16) ? 0.0 : -0.0;
            break;
        case 3:
            d = (double)(rand() % 5 - 2);
            break;
        default: {
            uint64_t u = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^
                         (uint64_t)rand();
            memcpy(&d, &u, 8);
            if (isnan(d))
                d = 1.0;
        }
        }
        if (g_key_type == DC_TYPE_FLOAT4 && !isnan(d) && fabs(d) < 1e38 &&
            fabs(d) > 1e-38)
            d = (float)d;
        else if (g_key_type == DC_TYPE_FLOAT4 && !isnan(d) && !isinf(d))
            d = (float)(d > 0 ? 1.5 : -1.5);
        return sql_value_float(g_key_type, d);
    }
    case DC_TYPE_BOOL:
        return sql_value_bool(r & 1);
    case DC_TYPE_NUMERIC: {
        int k = 0;
        if (r % 23 == 0)
            return in(DC_TYPE_NUMERIC, -1,
                      (r & 64)    ? "NaN"
                      : (r & 128) ? "Infinity"
                                  : "-Infinity");
        if (rand() & 1)
            s[k++] = '-';
        int nd = rand() % 6, nf = rand() % 6;
        for (int j = 0; j < nd; j++)
            s[k++] = (char)('0' + rand() % ((rand() & 3) ? 10 : 2));
        s[k++] = '.';
        for (int j = 0; j < nf; j++)
            s[k++] = (char)('0' + rand() % ((rand() & 3) ? 10 : 2));
        if (nd == 0 && nf == 0)
            s[k++] = '0';
        s[k] = '\0';
        if (rand() % 5 == 0)
            snprintf(s + k, sizeof s - (size_t)k, "e%d", rand() % 80 - 40);
        return in(DC_TYPE_NUMERIC, -1, s);
    }
    case DC_TYPE_TEXT:
    case DC_TYPE_BYTEA:
    case DC_TYPE_BPCHAR: {
        int n = rand() % 6;
        uint8_t b[8];
        for (int j = 0; j < n; j++) {
            int x = rand() % 5;
            b[j] = (uint8_t)(x == 0   ? 0
                             : x == 1 ? 0xff
                             : x == 2 ? ' '
                                      : 'a' + rand() % 3);
        }
        uint8_t *p = arena_alloc(&g_arena, 8);
        memcpy(p, b, 8);
        return sql_value_bytes(g_key_type, p, (size_t)n);
    }
    case DC_TYPE_DATE: {
        int64_t d = (int64_t)(rand() % 4000000) - 2451545;
        if (r % 40 == 0)
            d = SQL_DATE_NOEND;
        if (r % 40 == 1)
            d = SQL_DATE_NOBEGIN;
        if (r % 5 == 2)
            d = rand() % 10 - 5;
        return sql_value_int(DC_TYPE_DATE, d);
    }
    default: { /* timestamps */
        int64_t v = (int64_t)(((uint64_t)rand() << 33) ^
                              ((uint64_t)rand() << 11) ^ (uint64_t)rand()) %
                    INT64_C(9000000000000000000);
        if (r % 40 == 0)
            v = SQL_TS_NOEND;
        if (r % 40 == 1)
            v = SQL_TS_NOBEGIN;
        if (r % 5 == 2)
            v = rand() % 10 - 5;
        return sql_value_int(g_key_type, v);
    }
    }
}

static int key_cmp(const dc_value *a, const dc_value *b, unsigned flags)
{
    sql_buf ka, kb;
    sql_buf_init(&ka);
    sql_buf_init(&kb);
    assert_int_equal(sql_key_append(&ka, a, flags, NULL), DC_OK);
    assert_int_equal(sql_key_append(&kb, b, flags, NULL), DC_OK);
    /* second column: a constant, to check self-delimitation */
    dc_value tail = sql_value_int(DC_TYPE_INT4, 7);
    assert_int_equal(sql_key_append(&ka, &tail, 0, NULL), DC_OK);
    assert_int_equal(sql_key_append(&kb, &tail, 0, NULL), DC_OK);
    size_t n = ka.len < kb.len ? ka.len : kb.len;
    int c = memcmp(ka.data, kb.data, n);
    if (c == 0)
        c = ka.len < kb.len ? -1 : ka.len > kb.len;
    sql_buf_free(&ka);
    sql_buf_free(&kb);
    return c < 0 ? -1 : c > 0;
}

static void test_key_order(void **state)
{
    (void)state;
    static const uint32_t types[] = {
        DC_TYPE_INT2,       DC_TYPE_INT4,    DC_TYPE_INT8, DC_TYPE_FLOAT4,
        DC_TYPE_FLOAT8,     DC_TYPE_NUMERIC, DC_TYPE_BOOL, DC_TYPE_TEXT,
        DC_TYPE_BPCHAR,     DC_TYPE_BYTEA,   DC_TYPE_DATE, DC_TYPE_TIMESTAMP,
        DC_TYPE_TIMESTAMPTZ};
    srand(1234);
    for (size_t t = 0; t < N(types); t++) {
        g_key_type = types[t];
        for (int i = 0; i < 10000; i++) {
            dc_value a = random_value(), b = random_value();
            if (i % 3 == 0)
                b = a;
            if (i % 97 == 0)
                a = sql_value_null(g_key_type);
            unsigned flags = (unsigned)(i & 3);
            int want;
            if (a.is_null || b.is_null) {
                int nf = (flags & SQL_KEY_NULLS_FIRST) != 0;
                want = a.is_null && b.is_null ? 0
                       : a.is_null            ? (nf ? -1 : 1)
                                              : (nf ? 1 : -1);
            } else {
                want = cmpv(&a, &b);
                if (flags & SQL_KEY_DESC)
                    want = -want;
            }
            int got = key_cmp(&a, &b, flags);
            if (got != want) {
                char sa[256], sb[256];
                snprintf(sa, sizeof sa, "%s", a.is_null ? "NULL" : out(&a));
                snprintf(sb, sizeof sb, "%s", out(&b));
                fail_msg("%s key order '%s' vs '%s' flags %u: got %d want %d",
                         sql_type_name(g_key_type), sa, sb, flags, got, want);
            }
            /* hash agrees with equality within the type */
            if (want == 0 && !a.is_null)
                assert_true(sql_value_hash(&a) == sql_value_hash(&b));
        }
        teardown_arena(NULL);
    }
    /* Integer widths share one encoding. */
    dc_value a = sql_value_int(DC_TYPE_INT2, -3),
             b = sql_value_int(DC_TYPE_INT8, -3);
    assert_int_equal(key_cmp(&a, &b, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_int_io),     T(test_float_io),  T(test_float_roundtrip),
        T(test_numeric_io), T(test_bool_io),   T(test_string_io),
        T(test_bytea_io),   T(test_date_io),   T(test_timestamp_io),
        T(test_calendar),   T(test_binary),    T(test_casts),
        T(test_cast_kind),  T(test_arith),     T(test_numeric_ops),
        T(test_compare),    T(test_key_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
