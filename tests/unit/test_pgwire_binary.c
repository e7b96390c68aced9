/*
 * test_pgwire_binary.c - PostgreSQL's binary formats (modules/pgwire/
 * binary.c).  The numeric byte strings are PostgreSQL 15's own numeric_send
 * output for the same values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pgwire/binary.h"

typedef struct num_case {
    const char *text;
    const char *hex;
} num_case;

static const num_case NUMS[] = {
    {"0.00", "0000000000000002"},
    {"-12.340", "0002000040000003000c0d48"},
    {"123456.789", "0003000100000003000c0d801ed2"},
    {"0.0001", "0001ffff000000040001"},
    {"NaN", "00000000c0000000"},
    {"10000", "00010001000000000001"},
    {"0.0000000001", "0001fffd0000000a0064"},
    {"-99999999.9999", "0003000140000004270f270f270f"},
    {"1.10", "0002000000000002000103e8"},
    {"123.45678", "0003000000000005007b11d71f40"},
    {"-0.5", "0001ffff400000011388"},
};

static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void test_numeric_send(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof NUMS / sizeof NUMS[0]; i++) {
        uint8_t want[64];
        size_t wn = unhex(NUMS[i].hex, want);
        pgw_buf b = {0};
        assert_int_equal(pgw_numeric_to_bin(NUMS[i].text, strlen(NUMS[i].text),
                                            &b), DC_OK);
        assert_int_equal(b.len, wn);
        assert_memory_equal(b.data, want, wn);
        pgw_buf_free(&b);
    }
}

static void test_numeric_recv(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof NUMS / sizeof NUMS[0]; i++) {
        uint8_t in[64];
        size_t n = unhex(NUMS[i].hex, in);
        char out[128];
        size_t len = 0;
        assert_int_equal(pgw_numeric_from_bin(in, n, out, sizeof out, &len),
                         DC_OK);
        assert_int_equal(len, strlen(NUMS[i].text));
        assert_memory_equal(out, NUMS[i].text, len);
    }
    /* Infinity both ways. */
    pgw_buf b = {0};
    assert_int_equal(pgw_numeric_to_bin("-Infinity", 9, &b), DC_OK);
    char out[32];
    size_t len;
    assert_int_equal(pgw_numeric_from_bin(b.data, b.len, out, sizeof out, &len),
                     DC_OK);
    assert_int_equal(len, 9);
    assert_memory_equal(out, "-Infinity", 9);
    pgw_buf_free(&b);
}

static void test_numeric_bad(void **state)
{
    (void)state;
    uint8_t in[64];
    char out[64];
    size_t len;
    /* A digit of 10000. */
    size_t n = unhex("000100000000000027100000", in);
    assert_int_equal(pgw_numeric_from_bin(in, 10, out, sizeof out, &len),
                     DC_EINVAL);
    (void)n;
    /* ndigits says 2 but only one digit follows. */
    n = unhex("00020000000000000001", in);
    assert_int_equal(pgw_numeric_from_bin(in, n, out, sizeof out, &len),
                     DC_EINVAL);
    /* A bad sign word. */
    n = unhex("0000000012340000", in);
    assert_int_equal(pgw_numeric_from_bin(in, n, out, sizeof out, &len),
                     DC_EINVAL);
    /* Too short. */
    assert_int_equal(pgw_numeric_from_bin(in, 7, out, sizeof out, &len),
                     DC_EINVAL);
    /* The output does not fit. */
    n = unhex("0003000100000003000c0d801ed2", in);
    assert_int_equal(pgw_numeric_from_bin(in, n, out, 4, &len), DC_ERANGE);
    /* Malformed text. */
    pgw_buf b = {0};
    assert_int_equal(pgw_numeric_to_bin("1.2.3", 5, &b), DC_EINVAL);
    assert_int_equal(pgw_numeric_to_bin("", 0, &b), DC_EINVAL);
    assert_int_equal(pgw_numeric_to_bin("-", 1, &b), DC_EINVAL);
    pgw_buf_free(&b);
}

/* Every type: recv of PostgreSQL's bytes gives the dc_value, send gives the
 * bytes back. */
static void roundtrip(uint32_t type, const char *hex, dc_value want)
{
    uint8_t in[64];
    size_t n = unhex(hex, in);
    char buf[256];
    dc_value v;
    dc_error e;
    dc_error_init(&e);
    assert_int_equal(pgw_bin_recv(type, -1, in, n, &v, buf, sizeof buf, &e),
                     DC_OK);
    assert_int_equal(v.type, want.type);
    assert_false(v.is_null);
    switch (type) {
    case DC_TYPE_BOOL:
        assert_int_equal(v.u.b, want.u.b);
        break;
    case DC_TYPE_FLOAT4: case DC_TYPE_FLOAT8:
        assert_true(v.u.f == want.u.f);
        break;
    case DC_TYPE_TEXT: case DC_TYPE_BYTEA: case DC_TYPE_NUMERIC:
    case DC_TYPE_VARCHAR: case DC_TYPE_BPCHAR: case DC_TYPE_NAME:
        assert_int_equal(v.u.bytes.len, want.u.bytes.len);
        assert_memory_equal(v.u.bytes.ptr, want.u.bytes.ptr, v.u.bytes.len);
        break;
    default:
        assert_int_equal(v.u.i, want.u.i);
    }
    pgw_buf b = {0};
    assert_int_equal(pgw_bin_send(&v, &b, &e), DC_OK);
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, in, n);
    pgw_buf_free(&b);
}

#define IV(t, x) ((dc_value){.type = (t), .u.i = (x)})

static void test_types(void **state)
{
    (void)state;
    roundtrip(DC_TYPE_BOOL, "01", (dc_value){.type = DC_TYPE_BOOL, .u.b = true});
    roundtrip(DC_TYPE_BOOL, "00", (dc_value){.type = DC_TYPE_BOOL, .u.b = false});
    roundtrip(DC_TYPE_INT2, "fffe", IV(DC_TYPE_INT2, -2));
    roundtrip(DC_TYPE_INT4, "80000000", IV(DC_TYPE_INT4, INT32_MIN));
    roundtrip(DC_TYPE_INT8, "7fffffffffffffff", IV(DC_TYPE_INT8, INT64_MAX));
    roundtrip(DC_TYPE_OID, "ffffffff", IV(DC_TYPE_OID, 4294967295LL));
    roundtrip(DC_TYPE_DATE, "ffffffff", IV(DC_TYPE_DATE, -1));
    roundtrip(DC_TYPE_TIMESTAMP, "00000000000f4240", IV(DC_TYPE_TIMESTAMP, 1000000));
    roundtrip(DC_TYPE_TIMESTAMPTZ, "fffffffffff0bdc0",
              IV(DC_TYPE_TIMESTAMPTZ, -1000000));
    roundtrip(DC_TYPE_FLOAT4, "3fc00000", (dc_value){.type = DC_TYPE_FLOAT4, .u.f = 1.5});
    roundtrip(DC_TYPE_FLOAT8, "c002000000000000",
              (dc_value){.type = DC_TYPE_FLOAT8, .u.f = -2.25});
    dc_value t = {.type = DC_TYPE_TEXT};
    t.u.bytes.ptr = (const uint8_t *)"h\xc3\xa9";
    t.u.bytes.len = 3;
    roundtrip(DC_TYPE_TEXT, "68c3a9", t);
    t.type = DC_TYPE_VARCHAR;
    roundtrip(DC_TYPE_VARCHAR, "68c3a9", t);
    t.type = DC_TYPE_BPCHAR;
    roundtrip(DC_TYPE_BPCHAR, "68c3a9", t);
    t.type = DC_TYPE_NAME;
    roundtrip(DC_TYPE_NAME, "68c3a9", t);
    dc_value by = {.type = DC_TYPE_BYTEA};
    by.u.bytes.ptr = (const uint8_t *)"\x00\xff";
    by.u.bytes.len = 2;
    roundtrip(DC_TYPE_BYTEA, "00ff", by);
    dc_value nm = {.type = DC_TYPE_NUMERIC};
    nm.u.bytes.ptr = (const uint8_t *)"-12.340";
    nm.u.bytes.len = 7;
    roundtrip(DC_TYPE_NUMERIC, "0002000040000003000c0d48", nm);
}

static void test_recv_errors(void **state)
{
    (void)state;
    uint8_t in[16] = {0};
    char buf[64];
    dc_value v;
    dc_error e;
    const uint32_t fixed[] = {DC_TYPE_BOOL, DC_TYPE_INT2, DC_TYPE_INT4,
                              DC_TYPE_INT8, DC_TYPE_OID, DC_TYPE_FLOAT4,
                              DC_TYPE_FLOAT8, DC_TYPE_DATE, DC_TYPE_TIMESTAMP,
                              DC_TYPE_TIMESTAMPTZ};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        dc_error_init(&e);
        assert_int_equal(pgw_bin_recv(fixed[i], -1, in, 3, &v, buf, sizeof buf,
                                      &e), DC_EINVAL);
        assert_string_equal(e.sqlstate, "22P03");
    }
    dc_error_init(&e);
    assert_int_equal(pgw_bin_recv(DC_TYPE_TEXT, -1, (const uint8_t *)"\xc3", 1,
                                  &v, buf, sizeof buf, &e), DC_EINVAL);
    assert_string_equal(e.sqlstate, "22021");
    dc_error_init(&e);
    assert_int_equal(pgw_bin_recv(DC_TYPE_NUMERIC, -1, in, 5, &v, buf,
                                  sizeof buf, &e), DC_EINVAL);
    assert_string_equal(e.sqlstate, "22P03");
    dc_error_init(&e);
    assert_int_equal(pgw_bin_recv(600, -1, in, 4, &v, buf, sizeof buf, &e),
                     DC_EUNSUPPORTED);
    assert_string_equal(e.sqlstate, "0A000");
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(pgw_utf8_valid((const uint8_t *)"abc\xe2\x82\xac", 6));
    assert_false(pgw_utf8_valid((const uint8_t *)"\xc0\x80", 2));     /* overlong */
    assert_false(pgw_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3)); /* surrogate */
    assert_false(pgw_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));
    assert_false(pgw_utf8_valid((const uint8_t *)"a\0b", 3));
    assert_false(pgw_utf8_valid((const uint8_t *)"\xe2\x82", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric_send),
        cmocka_unit_test(test_numeric_recv),
        cmocka_unit_test(test_numeric_bad),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_recv_errors),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
