/*
 * test_pgwire_msg.c - decoding of start-up packets and frontend messages,
 * and encoding of ErrorResponse and RowDescription (modules/pgwire/msg.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pgwire/msg.h"

/* A tiny builder for message bodies. */
typedef struct body {
    uint8_t b[512];
    size_t n;
} body;

static void b32(body *x, uint32_t v)
{
    x->b[x->n++] = (uint8_t)(v >> 24);
    x->b[x->n++] = (uint8_t)(v >> 16);
    x->b[x->n++] = (uint8_t)(v >> 8);
    x->b[x->n++] = (uint8_t)v;
}

static void b16(body *x, uint16_t v)
{
    x->b[x->n++] = (uint8_t)(v >> 8);
    x->b[x->n++] = (uint8_t)v;
}

static void bstr(body *x, const char *s)
{
    size_t l = strlen(s) + 1;
    memcpy(x->b + x->n, s, l);
    x->n += l;
}

static void expect_08p01(int rc, const dc_error *e)
{
    assert_int_not_equal(rc, DC_OK);
    assert_string_equal(e->sqlstate, "08P01");
    assert_int_equal(e->severity, DC_SEV_FATAL);
}

static void test_startup_requests(void **state)
{
    (void)state;
    pgw_startup s;
    dc_error e;
    body x = {0};
    b32(&x, PGW_SSL_REQUEST);
    assert_int_equal(pgw_startup_parse(x.b, x.n, &s, &e), DC_OK);
    assert_int_equal(s.kind, PGW_START_SSL);
    x.n = 0;
    b32(&x, PGW_GSSENC_REQUEST);
    assert_int_equal(pgw_startup_parse(x.b, x.n, &s, &e), DC_OK);
    assert_int_equal(s.kind, PGW_START_GSSENC);
    x.n = 0;
    b32(&x, PGW_CANCEL_REQUEST);
    b32(&x, 42);
    b32(&x, 0xdeadbeef);
    assert_int_equal(pgw_startup_parse(x.b, x.n, &s, &e), DC_OK);
    assert_int_equal(s.kind, PGW_START_CANCEL);
    assert_int_equal(s.cancel_pid, 42);
    assert_int_equal((uint32_t)s.cancel_key, 0xdeadbeefu);
    /* A cancel request of the wrong size. */
    dc_error_init(&e);
    expect_08p01(pgw_startup_parse(x.b, 8, &s, &e), &e);
    /* Length words. */
    assert_int_equal(pgw_startup_len_check(8, &e), DC_OK);
    dc_error_init(&e);
    expect_08p01(pgw_startup_len_check(7, &e), &e);
    dc_error_init(&e);
    expect_08p01(pgw_startup_len_check(PGW_MAX_STARTUP + 1, &e), &e);
}

static void test_startup_message(void **state)
{
    (void)state;
    pgw_startup s;
    dc_error e;
    dc_error_init(&e);
    body x = {0};
    b32(&x, PGW_PROTO_30 + 2);
    bstr(&x, "user");
    bstr(&x, "alice");
    bstr(&x, "database");
    bstr(&x, "db1");
    bstr(&x, "_pq_.compression");
    bstr(&x, "on");
    bstr(&x, "whatever");
    bstr(&x, "x");
    x.b[x.n++] = 0;
    assert_int_equal(pgw_startup_parse(x.b, x.n, &s, &e), DC_OK);
    assert_int_equal(s.kind, PGW_START_PROTOCOL);
    assert_int_equal(s.version, PGW_PROTO_30 + 2);
    assert_string_equal(pgw_startup_param(&s, "user"), "alice");
    assert_string_equal(pgw_startup_param(&s, "database"), "db1");
    assert_string_equal(pgw_startup_param(&s, "whatever"), "x");
    assert_null(pgw_startup_param(&s, "nope"));
    assert_int_equal(s.nunknown_pq, 1);
    assert_string_equal(s.unknown_pq[0], "_pq_.compression");
    /* Without the final terminator, or with a name but no value. */
    dc_error_init(&e);
    expect_08p01(pgw_startup_parse(x.b, x.n - 1, &s, &e), &e);
    dc_error_init(&e);
    expect_08p01(pgw_startup_parse(x.b, 4 + 5, &s, &e), &e);
    /* Bytes after the terminator. */
    x.b[x.n++] = 'z';
    dc_error_init(&e);
    expect_08p01(pgw_startup_parse(x.b, x.n, &s, &e), &e);
    /* Protocol 2. */
    x.n = 0;
    b32(&x, 2u << 16);
    x.b[x.n++] = 0;
    dc_error_init(&e);
    assert_int_equal(pgw_startup_parse(x.b, x.n, &s, &e), DC_EUNSUPPORTED);
    assert_string_equal(e.sqlstate, "0A000");
    assert_string_equal(e.message, "unsupported frontend protocol 2.0: server "
                                   "supports 3.0 to 3.0");
}

static void test_frame(void **state)
{
    (void)state;
    dc_error e;
    dc_error_init(&e);
    assert_int_equal(pgw_frame_check('Q', 4, 100, &e), DC_OK);
    assert_int_equal(pgw_frame_check('Q', 104, 100, &e), DC_OK);
    expect_08p01(pgw_frame_check('Q', 105, 100, &e), &e);
    dc_error_init(&e);
    expect_08p01(pgw_frame_check('S', 3, 100, &e), &e);
    dc_error_init(&e);
    expect_08p01(pgw_frame_check('y', 4, 100, &e), &e);
    assert_string_equal(e.message, "invalid frontend message type 121");
}

static void test_query_parse(void **state)
{
    (void)state;
    dc_error e;
    dc_error_init(&e);
    const char *sql;
    size_t len;
    assert_int_equal(pgw_parse_query((const uint8_t *)"SELECT 1", 9, &sql, &len,
                                     &e), DC_OK);
    assert_int_equal(len, 8);
    expect_08p01(pgw_parse_query((const uint8_t *)"SELECT 1", 8, &sql, &len,
                                 &e), &e);
    dc_error_init(&e);
    expect_08p01(pgw_parse_query((const uint8_t *)"A\0B", 3, &sql, &len, &e),
                 &e);
    /* Parse: name, query, two types. */
    body x = {0};
    bstr(&x, "s1");
    bstr(&x, "SELECT $1, $2");
    b16(&x, 2);
    b32(&x, 23);
    b32(&x, 0);
    pgw_parse_msg m;
    dc_error_init(&e);
    assert_int_equal(pgw_parse_parse(x.b, x.n, &m, &e), DC_OK);
    assert_string_equal(m.name, "s1");
    assert_int_equal(m.query_len, 13);
    assert_int_equal(m.nparams, 2);
    assert_int_equal(m.param_types[3], 23);
    expect_08p01(pgw_parse_parse(x.b, x.n - 1, &m, &e), &e);
    /* A negative parameter count. */
    x.n = 0;
    bstr(&x, "");
    bstr(&x, "q");
    b16(&x, 0xffff);
    dc_error_init(&e);
    expect_08p01(pgw_parse_parse(x.b, x.n, &m, &e), &e);
}

static void test_bind_parse(void **state)
{
    (void)state;
    body x = {0};
    bstr(&x, "p");
    bstr(&x, "s");
    b16(&x, 1);
    b16(&x, 1);          /* all binary */
    b16(&x, 2);
    b32(&x, 4);
    b32(&x, 7);
    b32(&x, 0xffffffff); /* NULL */
    b16(&x, 1);
    b16(&x, 0);
    pgw_bind_msg m;
    dc_error e;
    dc_error_init(&e);
    assert_int_equal(pgw_parse_bind(x.b, x.n, &m, &e), DC_OK);
    assert_string_equal(m.portal, "p");
    assert_string_equal(m.stmt, "s");
    assert_int_equal(m.nparams, 2);
    assert_int_equal(pgw_format_at(m.formats, m.nformats, 1, 2), 1);
    pgw_rd r;
    pgw_rd_init(&r, m.params, (size_t)(x.b + x.n - m.params));
    const uint8_t *d;
    int32_t len;
    assert_int_equal(pgw_bind_param(&r, &d, &len), DC_OK);
    assert_int_equal(len, 4);
    assert_int_equal(d[3], 7);
    assert_int_equal(pgw_bind_param(&r, &d, &len), DC_OK);
    assert_int_equal(len, -1);
    assert_int_equal(m.nresult_formats, 1);
    /* Every truncation fails cleanly. */
    for (size_t cut = 0; cut < x.n; cut++) {
        dc_error_init(&e);
        expect_08p01(pgw_parse_bind(x.b, cut, &m, &e), &e);
    }
    /* A parameter length beyond the body, and a length below -1. */
    x.n = 0;
    bstr(&x, "");
    bstr(&x, "");
    b16(&x, 0);
    b16(&x, 1);
    b32(&x, 1000);
    b16(&x, 0);
    dc_error_init(&e);
    expect_08p01(pgw_parse_bind(x.b, x.n, &m, &e), &e);
    x.n -= 6;
    b32(&x, 0xfffffffe);
    b16(&x, 0);
    dc_error_init(&e);
    expect_08p01(pgw_parse_bind(x.b, x.n, &m, &e), &e);
}

static void test_small_messages(void **state)
{
    (void)state;
    dc_error e;
    dc_error_init(&e);
    pgw_target_msg t;
    assert_int_equal(pgw_parse_target((const uint8_t *)"Sname", 6, &t, &e), DC_OK);
    assert_int_equal(t.what, 'S');
    assert_string_equal(t.name, "name");
    expect_08p01(pgw_parse_target((const uint8_t *)"Xname", 6, &t, &e), &e);
    dc_error_init(&e);
    expect_08p01(pgw_parse_target((const uint8_t *)"P", 1, &t, &e), &e);
    pgw_execute_msg x;
    dc_error_init(&e);
    assert_int_equal(pgw_parse_execute((const uint8_t *)"p\0\0\0\0\5", 6, &x, &e),
                     DC_OK);
    assert_int_equal(x.max_rows, 5);
    expect_08p01(pgw_parse_execute((const uint8_t *)"p\0\0\0", 4, &x, &e), &e);
    dc_error_init(&e);
    assert_int_equal(pgw_parse_empty(NULL, 0, &e), DC_OK);
    expect_08p01(pgw_parse_empty((const uint8_t *)"x", 1, &e), &e);
    /* Formats: none, one for all, one each, and a bad code. */
    const uint8_t f[] = {0, 1, 0, 0, 0, 2};
    assert_int_equal(pgw_format_at(NULL, 0, 3, 5), 0);
    assert_int_equal(pgw_format_at(f, 1, 3, 5), 1);
    assert_int_equal(pgw_format_at(f, 2, 1, 2), 0);
    assert_int_equal(pgw_format_at(f, 3, 2, 3), -1);
    assert_int_equal(pgw_format_at(f, 2, 0, 3), -1);
}

static void test_encode(void **state)
{
    (void)state;
    dc_error e;
    dc_error_init(&e);
    dc_error_set(&e, DC_EINVAL, "42601", "syntax error at or near \"x\"");
    e.position = 8;
    pgw_buf b = {0};
    pgw_put_error(&b, 'E', &e);
    static const uint8_t want[] =
        "E\0\0\0\x3aSERROR\0VERROR\0C42601\0Msyntax error at or near \"x\"\0"
        "P8\0";
    assert_int_equal(b.len, sizeof want); /* the literal's NUL ends the list */
    assert_memory_equal(b.data, want, sizeof want);
    b.len = 0;
    dc_column c = {.size = sizeof c, .name = "a", .type = 23, .typmod = -1,
                   .typlen = 4, .table_oid = 0, .attnum = 0};
    int16_t one = 1;
    pgw_put_row_desc(&b, &c, 1, &one, 1);
    static const uint8_t rd[] = "T\0\0\0\x1a\0\1a\0\0\0\0\0\0\0\0\0\0\x17\0\4"
                                "\xff\xff\xff\xff\0\1";
    assert_int_equal(b.len, sizeof rd - 1);
    assert_memory_equal(b.data, rd, sizeof rd - 1);
    pgw_buf_free(&b);
}

static void test_reader_bounds(void **state)
{
    (void)state;
    pgw_rd r;
    pgw_rd_init(&r, (const uint8_t *)"\1\2\3", 3);
    assert_int_equal(pgw_rd_i16(&r), 0x0102);
    assert_int_equal(pgw_rd_i32(&r), 0);
    assert_true(r.bad);
    assert_null(pgw_rd_str(&r));
    assert_null(pgw_rd_bytes(&r, 1));
    pgw_rd_init(&r, (const uint8_t *)"ab", 2);
    assert_null(pgw_rd_str(&r));
    assert_true(r.bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_startup_requests),
        cmocka_unit_test(test_startup_message),
        cmocka_unit_test(test_frame),
        cmocka_unit_test(test_query_parse),
        cmocka_unit_test(test_bind_parse),
        cmocka_unit_test(test_small_messages),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_reader_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
