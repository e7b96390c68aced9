/*
 * fuzz_pgwire.c - libFuzzer target for the pgwire module's decoders
 * (modules/pgwire/msg.c, binary.c).
 *
 * The first byte picks what the rest is: 0 a start-up packet (length word
 * included), 1 a binary value (second byte: its type), anything else a
 * stream of frontend messages, decoded one by one the way the connection
 * loop does.  Every decoder must either succeed with pointers inside the
 * input or fail with SQLSTATE 08P01 / 22P03 / 22021; anything else aborts.
 *
 *   make build/fuzz/fuzz_pgwire && build/fuzz/fuzz_pgwire -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgwire/binary.h"
#include "pgwire/msg.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

static const uint8_t *g_lo, *g_hi;

static void inside(const void *p, size_t n)
{
    const uint8_t *b = p;
    check(b >= g_lo && b + n <= g_hi);
}

static void failed(int rc, const dc_error *e)
{
    check(rc != DC_OK);
    check(e->message[0] != '\0');
}

static void fuzz_startup(const uint8_t *d, size_t n)
{
    dc_error e;
    dc_error_init(&e);
    if (n < 4)
        return;
    uint32_t len = ((uint32_t)d[0] << 24) | ((uint32_t)d[1] << 16) |
                   ((uint32_t)d[2] << 8) | d[3];
    if (pgw_startup_len_check(len, &e)) {
        check(strcmp(e.sqlstate, "08P01") == 0);
        return;
    }
    size_t body = len - 4 < n - 4 ? len - 4 : n - 4;
    pgw_startup s;
    int rc = pgw_startup_parse(d + 4, body, &s, &e);
    if (rc) {
        failed(rc, &e);
        return;
    }
    for (uint32_t i = 0; i < s.nparams; i++) {
        inside(s.names[i], strlen(s.names[i]) + 1);
        inside(s.values[i], strlen(s.values[i]) + 1);
    }
    (void)pgw_startup_param(&s, "user");
}

static void fuzz_value(const uint8_t *d, size_t n)
{
    static const uint32_t types[] = {
        DC_TYPE_BOOL, DC_TYPE_BYTEA, DC_TYPE_NAME, DC_TYPE_INT8, DC_TYPE_INT2,
        DC_TYPE_INT4, DC_TYPE_TEXT, DC_TYPE_OID, DC_TYPE_FLOAT4,
        DC_TYPE_FLOAT8, DC_TYPE_BPCHAR, DC_TYPE_VARCHAR, DC_TYPE_DATE,
        DC_TYPE_TIMESTAMP, DC_TYPE_TIMESTAMPTZ, DC_TYPE_NUMERIC, 600};
    if (n < 1)
        return;
    uint32_t t = types[d[0] % (sizeof types / sizeof types[0])];
    d++, n--;
    size_t cap = 5 * n + 16448;
    char *buf = malloc(cap);
    if (!buf)
        return;
    dc_value v;
    dc_error e;
    dc_error_init(&e);
    int rc = pgw_bin_recv(t, -1, d, n, &v, buf, cap, &e);
    if (rc == DC_OK) {
        /* What was received sends back; integers and text byte for byte. */
        pgw_buf b = {0};
        dc_error_init(&e);
        check(pgw_bin_send(&v, &b, &e) == DC_OK);
        if (t != DC_TYPE_NUMERIC && t != DC_TYPE_BOOL && t != DC_TYPE_FLOAT4)
            check(b.len == n && (n == 0 || memcmp(b.data, d, n) == 0));
        if (t == DC_TYPE_NUMERIC) {
            /* And the canonical binary decodes to the same text. */
            size_t l2 = 0;
            char *t2 = malloc(cap);
            check(t2 && pgw_numeric_from_bin(b.data, b.len, t2, cap, &l2) == DC_OK);
            check(l2 == v.u.bytes.len && memcmp(t2, v.u.bytes.ptr, l2) == 0);
            free(t2);
        }
        pgw_buf_free(&b);
    } else {
        failed(rc, &e);
    }
    free(buf);
}

static void fuzz_message(uint8_t type, const uint8_t *b, size_t n)
{
    dc_error e;
    dc_error_init(&e);
    int rc = DC_OK;
    switch (type) {
    case 'Q': {
        const char *sql;
        size_t len;
        if ((rc = pgw_parse_query(b, n, &sql, &len, &e)) == DC_OK)
            inside(sql, len + 1);
        break;
    }
    case 'P': {
        pgw_parse_msg m;
        if ((rc = pgw_parse_parse(b, n, &m, &e)) == DC_OK) {
            inside(m.query, m.query_len + 1);
            inside(m.param_types, (size_t)m.nparams * 4);
        }
        break;
    }
    case 'B': {
        pgw_bind_msg m;
        if ((rc = pgw_parse_bind(b, n, &m, &e)) == DC_OK) {
            pgw_rd r;
            pgw_rd_init(&r, m.params, (size_t)(b + n - m.params));
            for (uint32_t i = 0; i < m.nparams; i++) {
                const uint8_t *d;
                int32_t len;
                check(pgw_bind_param(&r, &d, &len) == DC_OK);
                if (len > 0)
                    inside(d, (size_t)len);
                (void)pgw_format_at(m.formats, m.nformats, i, m.nparams);
            }
            inside(m.result_formats, (size_t)m.nresult_formats * 2);
        }
        break;
    }
    case 'D': case 'C': {
        pgw_target_msg m;
        if ((rc = pgw_parse_target(b, n, &m, &e)) == DC_OK)
            inside(m.name, strlen(m.name) + 1);
        break;
    }
    case 'E': {
        pgw_execute_msg m;
        rc = pgw_parse_execute(b, n, &m, &e);
        break;
    }
    case 'f': case 'p': {
        const char *s;
        rc = pgw_parse_cstring(b, n, &s, &e);
        break;
    }
    case 'S': case 'H': case 'X': case 'c':
        rc = pgw_parse_empty(b, n, &e);
        break;
    default:
        break;
    }
    if (rc)
        check(strcmp(e.sqlstate, "08P01") == 0);
}

static void fuzz_stream(const uint8_t *d, size_t n)
{
    size_t pos = 0;
    while (n - pos >= 5) {
        uint8_t type = d[pos];
        uint32_t len = ((uint32_t)d[pos + 1] << 24) | ((uint32_t)d[pos + 2] << 16) |
                       ((uint32_t)d[pos + 3] << 8) | d[pos + 4];
        dc_error e;
        dc_error_init(&e);
        if (pgw_frame_check(type, len, 1 << 20, &e)) {
            check(strcmp(e.sqlstate, "08P01") == 0);
            return;
        }
        if (len - 4 > n - pos - 5)
            return; /* truncated: the connection would wait for more */
        fuzz_message(type, d + pos + 5, len - 4);
        pos += 1 + len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* Work on a copy of exactly the input, so reads past it are caught. */
    uint8_t *d = malloc(size - 1 ? size - 1 : 1);
    if (!d)
        return 0;
    memcpy(d, data + 1, size - 1);
    g_lo = d;
    g_hi = d + size - 1;
    if (data[0] == 0)
        fuzz_startup(d, size - 1);
    else if (data[0] == 1)
        fuzz_value(d, size - 1);
    else
        fuzz_stream(d, size - 1);
    free(d);
    return 0;
}
