/*
 * binary.c - see binary.h.  Integers and floats are big-endian; text is
 * its UTF-8 bytes; date is int32 days and timestamps int64 microseconds
 * since 2000-01-01 (the same epoch dc_value uses); numeric is PostgreSQL's
 * base-10000 form: int16 ndigits, int16 weight, uint16 sign, int16 dscale,
 * then ndigits int16 digits.
 */
#include "pgwire/binary.h"

#include <string.h>

#define NUM_POS 0x0000
#define NUM_NEG 0x4000
#define NUM_NAN 0xC000
#define NUM_PINF 0xD000
#define NUM_NINF 0xF000
#define NUM_MAX_DSCALE 0x3FFF
#define NUM_MAX_DIGITS 16384    /* far beyond any numeric PostgreSQL makes */

bool pgw_bin_supported(uint32_t type)
{
    switch (type) {
    case DC_TYPE_BOOL: case DC_TYPE_BYTEA: case DC_TYPE_NAME:
    case DC_TYPE_INT8: case DC_TYPE_INT2: case DC_TYPE_INT4:
    case DC_TYPE_TEXT: case DC_TYPE_OID: case DC_TYPE_FLOAT4:
    case DC_TYPE_FLOAT8: case DC_TYPE_BPCHAR: case DC_TYPE_VARCHAR:
    case DC_TYPE_DATE: case DC_TYPE_TIMESTAMP: case DC_TYPE_TIMESTAMPTZ:
    case DC_TYPE_NUMERIC: case DC_TYPE_UNKNOWN:
        return true;
    default:
        return false;
    }
}

bool pgw_utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            if (c == 0)
                return false;
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (k > n - i - 1)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + j] & 0x3F);
        }
        /* Overlong forms, surrogates and values past U+10FFFF. */
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) ||
            (k == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

static uint64_t get_be(const uint8_t *d, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | d[i];
    return v;
}

static void put_be(pgw_buf *b, uint64_t v, size_t n)
{
    uint8_t x[8];
    for (size_t i = 0; i < n; i++)
        x[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    pgw_put_bytes(b, x, n);
}

static int bad_format(dc_error *err)
{
    return dc_error_set(err, DC_EINVAL, "22P03",
                        "incorrect binary data format");
}

/* ==== numeric ============================================================ */

int pgw_numeric_to_bin(const char *t, size_t len, pgw_buf *out)
{
    uint16_t sign = NUM_POS;
    if (len == 3 && memcmp(t, "NaN", 3) == 0)
        sign = NUM_NAN;
    else if (len == 8 && memcmp(t, "Infinity", 8) == 0)
        sign = NUM_PINF;
    else if (len == 9 && memcmp(t, "-Infinity", 9) == 0)
        sign = NUM_NINF;
    if (sign != NUM_POS) {
        put_be(out, 0, 2);
        put_be(out, 0, 2);
        put_be(out, sign, 2);
        put_be(out, 0, 2);
        return DC_OK;
    }
    size_t i = 0;
    if (i < len && (t[i] == '-' || t[i] == '+'))
        sign = t[i++] == '-' ? NUM_NEG : NUM_POS;
    size_t int_start = i;
    while (i < len && t[i] >= '0' && t[i] <= '9')
        i++;
    size_t int_len = i - int_start;
    size_t frac_start = i, frac_len = 0;
    if (i < len && t[i] == '.') {
        frac_start = ++i;
        while (i < len && t[i] >= '0' && t[i] <= '9')
            i++;
        frac_len = i - frac_start;
    }
    if (i != len || int_len + frac_len == 0 || frac_len > NUM_MAX_DSCALE)
        return DC_EINVAL;
    /* Skip leading zeros of the integer part. */
    while (int_len > 0 && t[int_start] == '0') {
        int_start++;
        int_len--;
    }
    /* Digits aligned to groups of four around the point: the integer part
     * padded on the left, the fraction on the right. */
    size_t int_groups = (int_len + 3) / 4;
    size_t frac_groups = (frac_len + 3) / 4;
    size_t ng = int_groups + frac_groups;
    if (ng > NUM_MAX_DIGITS)
        return DC_EINVAL;
    uint16_t groups[64];
    uint16_t *g = groups;
    pgw_buf tmp = {0};
    if (ng > 64) {
        if (pgw_buf_reserve(&tmp, ng * sizeof(uint16_t)))
            return DC_ENOMEM;
        g = (uint16_t *)(void *)tmp.data;
    }
    size_t pad = int_groups * 4 - int_len;
    for (size_t k = 0; k < ng; k++) {
        unsigned v = 0;
        for (size_t j = 0; j < 4; j++) {
            size_t pos = k * 4 + j; /* position in the padded digit string */
            int d = 0;
            if (pos >= pad && pos < pad + int_len)
                d = t[int_start + pos - pad] - '0';
            else if (pos >= int_groups * 4 && pos - int_groups * 4 < frac_len)
                d = t[frac_start + pos - int_groups * 4] - '0';
            v = v * 10 + (unsigned)d;
        }
        g[k] = (uint16_t)v;
    }
    size_t first = 0, last = ng;
    while (first < last && g[first] == 0)
        first++;
    while (last > first && g[last - 1] == 0)
        last--;
    int weight = (int)int_groups - 1 - (int)first;
    size_t nd = last - first;
    if (nd == 0) {
        weight = 0;
        sign = NUM_POS;
    }
    put_be(out, nd, 2);
    put_be(out, (uint16_t)(int16_t)weight, 2);
    put_be(out, sign, 2);
    put_be(out, frac_len, 2);
    for (size_t k = first; k < last; k++)
        put_be(out, g[k], 2);
    pgw_buf_free(&tmp);
    return DC_OK;
}

/* Append to out (bounded); false when it does not fit. */
static bool app(char *out, size_t cap, size_t *n, const char *s, size_t l)
{
    if (l > cap - *n)
        return false;
    memcpy(out + *n, s, l);
    *n += l;
    return true;
}

int pgw_numeric_from_bin(const uint8_t *d, size_t len, char *out, size_t cap,
                         size_t *outlen)
{
    if (len < 8)
        return DC_EINVAL;
    size_t nd = (size_t)get_be(d, 2);
    int weight = (int16_t)(uint16_t)get_be(d + 2, 2);
    unsigned sign = (unsigned)get_be(d + 4, 2);
    size_t dscale = (size_t)get_be(d + 6, 2);
    if (len != 8 + 2 * nd || nd > NUM_MAX_DIGITS)
        return DC_EINVAL;
    size_t n = 0;
    if (sign == NUM_NAN || sign == NUM_PINF || sign == NUM_NINF) {
        const char *s = sign == NUM_NAN ? "NaN" : sign == NUM_PINF ? "Infinity"
                                                                    : "-Infinity";
        if (!app(out, cap, &n, s, strlen(s)))
            return DC_ERANGE;
        *outlen = n;
        return DC_OK;
    }
    if ((sign != NUM_POS && sign != NUM_NEG) || dscale > NUM_MAX_DSCALE)
        return DC_EINVAL;
    for (size_t k = 0; k < nd; k++)
        if (get_be(d + 8 + 2 * k, 2) >= 10000)
            return DC_EINVAL;
    /* Room for a sign, decided at the end: digits hidden by dscale are
     * truncated away (as PostgreSQL's numeric_recv does), and a value that
     * shows only zeros has none. */
    if (!app(out, cap, &n, "-", 1))
        return DC_ERANGE;
    /* Integer part: groups weight..0, from the first non-zero one. */
    bool started = false;
    for (int w = weight; w >= 0; w--) {
        int idx = weight - w;
        unsigned v = idx < (int)nd ? (unsigned)get_be(d + 8 + 2 * idx, 2) : 0;
        if (!started && v == 0 && w > 0)
            continue;
        char gbuf[8];
        int l = snprintf(gbuf, sizeof gbuf, started ? "%04u" : "%u", v);
        started = true;
        if (!app(out, cap, &n, gbuf, (size_t)l))
            return DC_ERANGE;
    }
    if (!started && !app(out, cap, &n, "0", 1))
        return DC_ERANGE;
    if (dscale > 0) {
        if (!app(out, cap, &n, ".", 1))
            return DC_ERANGE;
        for (size_t k = 0; k < dscale; k++) {
            /* Fraction digit k lies in group -1 - k/4. */
            int w = -1 - (int)(k / 4);
            int idx = weight - w;
            unsigned v = idx >= 0 && idx < (int)nd
                             ? (unsigned)get_be(d + 8 + 2 * idx, 2) : 0;
            static const unsigned div[4] = {1000, 100, 10, 1};
            char c = (char)('0' + (v / div[k % 4]) % 10);
            if (!app(out, cap, &n, &c, 1))
                return DC_ERANGE;
        }
    }
    bool nonzero = false;
    for (size_t k = 1; k < n && !nonzero; k++)
        nonzero = out[k] >= '1' && out[k] <= '9';
    if (sign != NUM_NEG || !nonzero) {
        memmove(out, out + 1, n - 1);
        n--;
    }
    *outlen = n;
    return DC_OK;
}

/* ==== recv =============================================================== */

static int need_len(size_t len, size_t want, dc_error *err)
{
    return len == want ? DC_OK : bad_format(err);
}

int pgw_bin_recv(uint32_t type, int32_t typmod, const uint8_t *data,
                 size_t len, dc_value *out, char *buf, size_t cap,
                 dc_error *err)
{
    dc_value v = {.type = type, .typmod = typmod, .is_null = false};
    int rc = DC_OK;
    switch (type) {
    case DC_TYPE_BOOL:
        if ((rc = need_len(len, 1, err)))
            return rc;
        v.u.b = data[0] != 0;
        break;
    case DC_TYPE_INT2:
        if ((rc = need_len(len, 2, err)))
            return rc;
        v.u.i = (int16_t)(uint16_t)get_be(data, 2);
        break;
    case DC_TYPE_INT4: case DC_TYPE_DATE:
        if ((rc = need_len(len, 4, err)))
            return rc;
        v.u.i = (int32_t)(uint32_t)get_be(data, 4);
        break;
    case DC_TYPE_OID:
        if ((rc = need_len(len, 4, err)))
            return rc;
        v.u.i = (int64_t)(uint32_t)get_be(data, 4);
        break;
    case DC_TYPE_INT8: case DC_TYPE_TIMESTAMP: case DC_TYPE_TIMESTAMPTZ:
        if ((rc = need_len(len, 8, err)))
            return rc;
        v.u.i = (int64_t)get_be(data, 8);
        break;
    case DC_TYPE_FLOAT4: {
        if ((rc = need_len(len, 4, err)))
            return rc;
        uint32_t u = (uint32_t)get_be(data, 4);
        float f;
        memcpy(&f, &u, 4);
        v.u.f = f;
        break;
    }
    case DC_TYPE_FLOAT8: {
        if ((rc = need_len(len, 8, err)))
            return rc;
        uint64_t u = get_be(data, 8);
        double f;
        memcpy(&f, &u, 8);
        v.u.f = f;
        break;
    }
    case DC_TYPE_TEXT: case DC_TYPE_VARCHAR: case DC_TYPE_BPCHAR:
    case DC_TYPE_NAME: case DC_TYPE_UNKNOWN:
        if (!pgw_utf8_valid(data, len))
            return dc_error_set(err, DC_EINVAL, "22021",
                                "invalid byte sequence for encoding \"UTF8\"");
        if (type == DC_TYPE_UNKNOWN)
            v.type = DC_TYPE_TEXT;
        v.u.bytes.ptr = data;
        v.u.bytes.len = len;
        break;
    case DC_TYPE_BYTEA:
        v.u.bytes.ptr = data;
        v.u.bytes.len = len;
        break;
    case DC_TYPE_NUMERIC: {
        size_t n = 0;
        rc = pgw_numeric_from_bin(data, len, buf, cap, &n);
        if (rc == DC_ERANGE)
            return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                                "out of memory");
        if (rc)
            return dc_error_set(err, DC_EINVAL, "22P03",
                                "invalid external \"numeric\" value");
        v.u.bytes.ptr = (const uint8_t *)buf;
        v.u.bytes.len = n;
        break;
    }
    default:
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "no binary input function available for type "
                            "%u", type);
    }
    *out = v;
    return DC_OK;
}

/* ==== send =============================================================== */

int pgw_bin_send(const dc_value *v, pgw_buf *out, dc_error *err)
{
    switch (v->type) {
    case DC_TYPE_BOOL:
        pgw_put_u8(out, v->u.b ? 1 : 0);
        break;
    case DC_TYPE_INT2:
        put_be(out, (uint64_t)v->u.i, 2);
        break;
    case DC_TYPE_INT4: case DC_TYPE_OID: case DC_TYPE_DATE:
        put_be(out, (uint64_t)v->u.i, 4);
        break;
    case DC_TYPE_INT8: case DC_TYPE_TIMESTAMP: case DC_TYPE_TIMESTAMPTZ:
        put_be(out, (uint64_t)v->u.i, 8);
        break;
    case DC_TYPE_FLOAT4: {
        float f = (float)v->u.f;
        uint32_t u;
        memcpy(&u, &f, 4);
        put_be(out, u, 4);
        break;
    }
    case DC_TYPE_FLOAT8: {
        uint64_t u;
        memcpy(&u, &v->u.f, 8);
        put_be(out, u, 8);
        break;
    }
    case DC_TYPE_TEXT: case DC_TYPE_VARCHAR: case DC_TYPE_BPCHAR:
    case DC_TYPE_NAME: case DC_TYPE_BYTEA: case DC_TYPE_UNKNOWN:
        pgw_put_bytes(out, v->u.bytes.ptr, v->u.bytes.len);
        break;
    case DC_TYPE_NUMERIC: {
        int rc = pgw_numeric_to_bin((const char *)v->u.bytes.ptr,
                                    v->u.bytes.len, out);
        if (rc == DC_ENOMEM)
            return dc_error_set(err, rc, DC_SQLSTATE_OOM, "out of memory");
        if (rc)
            return dc_error_set(err, rc, "22P02",
                                "invalid input syntax for type numeric");
        break;
    }
    default:
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "no binary output function available for type "
                            "%u", v->type);
    }
    return out->oom ? dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                                   "out of memory")
                    : DC_OK;
}
