/*
 * sql/types.c - SQL value types: I/O, casts, arithmetic, comparison,
 * hashing and key encoding (see types.h).
 */
#include "sql/types.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- memory ------------------------------------------------------------- */

void sql_buf_init(sql_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void sql_buf_free(sql_buf *b)
{
    free(b->data);
    sql_buf_init(b);
}

static int oom(dc_error *err)
{
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
}

int sql_buf_append(sql_buf *b, const void *p, size_t n, dc_error *err)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (d == NULL)
            return oom(err);
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return DC_OK;
}

static int buf_putc(sql_buf *b, uint8_t c, dc_error *err)
{
    return sql_buf_append(b, &c, 1, err);
}

static void *mem_alloc(const sql_mem *mem, size_t n)
{
    if (n == 0)
        n = 1;
    return mem ? mem->alloc(mem->ctx, n) : malloc(n);
}

/* Make `out` a byte value of `type` holding a copy of p[0..n). */
/* *out = the variable-length value [p, p + n) of `type`, not copied. */
static void set_bytes(uint32_t type, int32_t typmod, const uint8_t *p,
                      size_t n, dc_value *out)
{
    memset(out, 0, sizeof(*out));
    out->type = type;
    out->typmod = typmod;
    out->u.bytes.ptr = p;
    out->u.bytes.len = n;
}

static int make_bytes(uint32_t type, int32_t typmod, const void *p, size_t n,
                      const sql_mem *mem, dc_value *out, dc_error *err)
{
    uint8_t *d = mem_alloc(mem, n);
    if (d == NULL)
        return oom(err);
    if (n)
        memcpy(d, p, n);
    set_bytes(type, typmod, d, n, out);
    return DC_OK;
}

/* ---- type information ---------------------------------------------------- */

int sql_type_supported(uint32_t type)
{
    switch (type) {
    case DC_TYPE_BOOL:
    case DC_TYPE_BYTEA:
    case DC_TYPE_NAME:
    case DC_TYPE_INT8:
    case DC_TYPE_INT2:
    case DC_TYPE_INT4:
    case DC_TYPE_TEXT:
    case DC_TYPE_OID:
    case DC_TYPE_FLOAT4:
    case DC_TYPE_FLOAT8:
    case DC_TYPE_BPCHAR:
    case DC_TYPE_VARCHAR:
    case DC_TYPE_DATE:
    case DC_TYPE_TIMESTAMP:
    case DC_TYPE_TIMESTAMPTZ:
    case DC_TYPE_NUMERIC:
        return 1;
    default:
        return 0;
    }
}

const char *sql_type_name(uint32_t type)
{
    switch (type) {
    case DC_TYPE_BOOL:
        return "boolean";
    case DC_TYPE_BYTEA:
        return "bytea";
    case DC_TYPE_NAME:
        return "name";
    case DC_TYPE_INT8:
        return "bigint";
    case DC_TYPE_INT2:
        return "smallint";
    case DC_TYPE_INT4:
        return "integer";
    case DC_TYPE_TEXT:
        return "text";
    case DC_TYPE_OID:
        return "oid";
    case DC_TYPE_FLOAT4:
        return "real";
    case DC_TYPE_FLOAT8:
        return "double precision";
    case DC_TYPE_BPCHAR:
        return "character";
    case DC_TYPE_VARCHAR:
        return "character varying";
    case DC_TYPE_DATE:
        return "date";
    case DC_TYPE_TIMESTAMP:
        return "timestamp without time zone";
    case DC_TYPE_TIMESTAMPTZ:
        return "timestamp with time zone";
    case DC_TYPE_NUMERIC:
        return "numeric";
    default:
        return "unknown";
    }
}

int32_t sql_typmod_length(int n)
{
    return n + 4;
}

int32_t sql_typmod_numeric(int precision, int scale)
{
    return (int32_t)(((precision << 16) | (scale & 0x7ff)) + 4);
}

dc_value sql_value_null(uint32_t type)
{
    dc_value v;
    memset(&v, 0, sizeof v);
    v.type = type;
    v.typmod = -1;
    v.is_null = true;
    return v;
}

dc_value sql_value_int(uint32_t type, int64_t i)
{
    dc_value v = sql_value_null(type);
    v.is_null = false;
    v.u.i = i;
    return v;
}

dc_value sql_value_float(uint32_t type, double f)
{
    dc_value v = sql_value_null(type);
    v.is_null = false;
    v.u.f = type == DC_TYPE_FLOAT4 ? (double)(float)f : f;
    return v;
}

dc_value sql_value_bool(bool b)
{
    dc_value v = sql_value_null(DC_TYPE_BOOL);
    v.is_null = false;
    v.u.b = b;
    return v;
}

dc_value sql_value_bytes(uint32_t type, const void *p, size_t len)
{
    dc_value v = sql_value_null(type);
    v.is_null = false;
    v.u.bytes.ptr = p;
    v.u.bytes.len = len;
    return v;
}

static int is_int_type(uint32_t t)
{
    return t == DC_TYPE_INT2 || t == DC_TYPE_INT4 || t == DC_TYPE_INT8 ||
           t == DC_TYPE_OID;
}

static int is_float_type(uint32_t t)
{
    return t == DC_TYPE_FLOAT4 || t == DC_TYPE_FLOAT8;
}

static int is_str_type(uint32_t t)
{
    return t == DC_TYPE_TEXT || t == DC_TYPE_VARCHAR || t == DC_TYPE_BPCHAR ||
           t == DC_TYPE_NAME || t == DC_TYPE_UNKNOWN;
}

static int is_num_cat(uint32_t t)
{
    return is_int_type(t) || is_float_type(t) || t == DC_TYPE_NUMERIC;
}

static int is_dt_type(uint32_t t)
{
    return t == DC_TYPE_DATE || t == DC_TYPE_TIMESTAMP ||
           t == DC_TYPE_TIMESTAMPTZ;
}

static void int_range(uint32_t t, int64_t *min, int64_t *max)
{
    switch (t) {
    case DC_TYPE_INT2:
        *min = INT16_MIN;
        *max = INT16_MAX;
        break;
    case DC_TYPE_INT4:
        *min = INT32_MIN;
        *max = INT32_MAX;
        break;
    case DC_TYPE_OID:
        *min = 0;
        *max = UINT32_MAX;
        break;
    default:
        *min = INT64_MIN;
        *max = INT64_MAX;
        break;
    }
}

static int int_out_of_range(uint32_t t, dc_error *err)
{
    return dc_error_set(err, DC_ERANGE, "22003", "%s out of range",
                        sql_type_name(t));
}

/* ---- text input
 * --------------------------------------------------------------- */

static void trim(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;
    while (n && isspace((unsigned char)*p))
        p++, n--;
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    *s = p;
    *len = n;
}

static int int_in(uint32_t type, const char *s0, size_t len0, int64_t *out,
                  dc_error *err)
{
    /* The common case first: an optional '-' and at most 18 digits (no
     * overflow possible), as every bulk load of integers sends them. */
    if (len0 > 0 && len0 <= 18) {
        size_t i = s0[0] == '-';
        int64_t v = 0;
        while (i < len0 && (unsigned)(s0[i] - '0') <= 9)
            v = v * 10 + (s0[i++] - '0');
        if (i == len0 && len0 > (size_t)(s0[0] == '-')) {
            if (s0[0] == '-')
                v = -v;
            int64_t min, max;
            int_range(type, &min, &max);
            if (v >= min && v <= max) {
                *out = v;
                return DC_OK;
            }
        }
    }
    const char *s = s0;
    size_t len = len0;
    trim(&s, &len);
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == len)
        goto bad;
    uint64_t u = 0;
    int over = 0;
    for (; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            goto bad;
        unsigned d = (unsigned)(s[i] - '0');
        if (u > (UINT64_MAX - d) / 10)
            over = 1;
        else
            u = u * 10 + d;
    }
    int64_t min, max;
    int_range(type, &min, &max);
    int64_t v = 0;
    if (!over) {
        if (neg) {
            if (u > (uint64_t)INT64_MAX + 1)
                over = 1;
            else
                v = (int64_t)(0 - u);
        } else if (u > (uint64_t)INT64_MAX) {
            over = 1;
        } else {
            v = (int64_t)u;
        }
    }
    if (over || v < min || v > max)
        return dc_error_set(err, DC_ERANGE, "22003",
                            "value \"%.*s\" is out of range for type %s",
                            (int)len0, s0, sql_type_name(type));
    *out = v;
    return DC_OK;
bad:
    return dc_error_set(err, DC_EINVAL, "22P02",
                        "invalid input syntax for type %s: \"%.*s\"",
                        sql_type_name(type), (int)len0, s0);
}

static int float_in(uint32_t type, const char *s0, size_t len0, double *out,
                    dc_error *err)
{
    const char *s = s0;
    size_t len = len0;
    trim(&s, &len);
    char stack[128];
    char *buf = len < sizeof stack ? stack : malloc(len + 1);
    if (buf == NULL)
        return oom(err);
    memcpy(buf, s, len);
    buf[len] = '\0';
    int rc = DC_OK;
    char *end;
    errno = 0;
    double v;
    if (type == DC_TYPE_FLOAT4)
        v = strtof(buf, &end);
    else
        v = strtod(buf, &end);
    if (len == 0 || end != buf + len) {
        rc = dc_error_set(err, DC_EINVAL, "22P02",
                          "invalid input syntax for type %s: \"%.*s\"",
                          sql_type_name(type), (int)len0, s0);
    } else if (errno == ERANGE && (v == 0.0 || isinf(v))) {
        rc = dc_error_set(err, DC_ERANGE, "22003",
                          "\"%.*s\" is out of range for type %s", (int)len, buf,
                          sql_type_name(type));
    } else {
        *out = v;
    }
    if (buf != stack)
        free(buf);
    return rc;
}

static int ci_prefix_of(const char *s, size_t n, const char *word)
{
    if (n == 0 || n > strlen(word))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)s[i]) != word[i])
            return 0;
    return 1;
}

static int bool_in(const char *s0, size_t len0, bool *out, dc_error *err)
{
    const char *s = s0;
    size_t n = len0;
    trim(&s, &n);
    if (n >= 1) {
        char c = (char)tolower((unsigned char)s[0]);
        if ((c == 't' && ci_prefix_of(s, n, "true")) ||
            (c == 'y' && ci_prefix_of(s, n, "yes")) ||
            (n >= 2 && ci_prefix_of(s, n, "on")) || (n == 1 && c == '1')) {
            *out = true;
            return DC_OK;
        }
        if ((c == 'f' && ci_prefix_of(s, n, "false")) ||
            (c == 'n' && ci_prefix_of(s, n, "no")) ||
            (n >= 2 && ci_prefix_of(s, n, "off")) || (n == 1 && c == '0')) {
            *out = false;
            return DC_OK;
        }
    }
    return dc_error_set(err, DC_EINVAL, "22P02",
                        "invalid input syntax for type boolean: \"%.*s\"",
                        (int)len0, s0);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int bytea_in(const char *s, size_t len, const sql_mem *mem,
                    dc_value *out, dc_error *err)
{
    uint8_t *d = mem_alloc(mem, len);
    if (d == NULL)
        return oom(err);
    size_t n = 0;
    if (len >= 2 && s[0] == '\\' && s[1] == 'x') {
        for (size_t i = 2; i < len;) {
            char c = s[i];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                i++;
                continue;
            }
            int h = hexval((unsigned char)c);
            if (h < 0)
                goto badhex;
            if (i + 1 >= len)
                goto odd;
            int l = hexval((unsigned char)s[i + 1]);
            if (l < 0) {
                c = s[i + 1];
                goto badhex;
            }
            d[n++] = (uint8_t)(h * 16 + l);
            i += 2;
            continue;
        badhex:
            if (!mem)
                free(d);
            return dc_error_set(err, DC_EINVAL, "22023",
                                "invalid hexadecimal digit: \"%c\"", c);
        odd:
            if (!mem)
                free(d);
            return dc_error_set(err, DC_EINVAL, "22023",
                                "invalid hexadecimal data: odd number of "
                                "digits");
        }
    } else {
        for (size_t i = 0; i < len;) {
            if (s[i] != '\\') {
                d[n++] = (uint8_t)s[i++];
            } else if (i + 1 < len && s[i + 1] == '\\') {
                d[n++] = '\\';
                i += 2;
            } else if (i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
                       s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' &&
                       s[i + 3] <= '7') {
                d[n++] = (uint8_t)((s[i + 1] - '0') * 64 +
                                   (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
                i += 4;
            } else {
                if (!mem)
                    free(d);
                return dc_error_set(err, DC_EINVAL, "22P02",
                                    "invalid input syntax for type bytea");
            }
        }
    }
    memset(out, 0, sizeof(*out));
    out->type = DC_TYPE_BYTEA;
    out->typmod = -1;
    out->u.bytes.ptr = d;
    out->u.bytes.len = n;
    return DC_OK;
}

/* Number of UTF-8 characters in s[0..len). */
size_t sql_utf8_len(const uint8_t *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (s[i] & 0xC0) != 0x80;
    return c;
}

size_t sql_utf8_off(const uint8_t *s, size_t n, size_t k)
{
    size_t i = 0;
    while (i < n && k > 0) {
        i++;
        while (i < n && (s[i] & 0xC0) == 0x80)
            i++;
        k--;
    }
    return i;
}

/* Apply varchar(n) / char(n) length rules to s[0..len) and produce the
 * value.  `explicit_cast` truncates silently. */
/* str_coerce, or with `borrow` the value points into s itself and char(n)
 * goes without its pad (sql_value_in_borrowed). */
static int str_coerce_x(uint32_t type, int32_t typmod, const uint8_t *s,
                        size_t len, int explicit_cast, bool borrow,
                        const sql_mem *mem, dc_value *out, dc_error *err);

static int str_coerce(uint32_t type, int32_t typmod, const uint8_t *s,
                      size_t len, int explicit_cast, const sql_mem *mem,
                      dc_value *out, dc_error *err)
{
    return str_coerce_x(type, typmod, s, len, explicit_cast, false, mem, out,
                        err);
}

static int str_coerce_x(uint32_t type, int32_t typmod, const uint8_t *s,
                        size_t len, int explicit_cast, bool borrow,
                        const sql_mem *mem, dc_value *out, dc_error *err)
{
    if (type == DC_TYPE_UNKNOWN)
        type = DC_TYPE_TEXT;
    if (type == DC_TYPE_NAME && len > 63)
        len = sql_utf8_off(s, len, 63);
    if (((type != DC_TYPE_VARCHAR && type != DC_TYPE_BPCHAR) || typmod < 4) &&
        !borrow)
        return make_bytes(type, typmod, s, len, mem, out, err);
    bool limited = (type == DC_TYPE_VARCHAR || type == DC_TYPE_BPCHAR) &&
                   typmod >= 4;
    size_t maxc = limited ? (size_t)(typmod - 4) : SIZE_MAX;
    size_t nc = limited ? sql_utf8_len(s, len) : 0;
    size_t blen = len;
    if (nc > maxc) {
        blen = sql_utf8_off(s, len, maxc);
        if (!explicit_cast) {
            for (size_t i = blen; i < len; i++) {
                if (s[i] != ' ')
                    return dc_error_set(
                        err, DC_ERANGE, "22001",
                        "value too long for type character%s(%zu)",
                        type == DC_TYPE_VARCHAR ? " varying" : "", maxc);
            }
        }
        nc = maxc;
    }
    if (borrow) {
        set_bytes(type, typmod, s, blen, out);
        return DC_OK;
    }
    size_t pad = type == DC_TYPE_BPCHAR ? maxc - nc : 0;
    uint8_t *d = mem_alloc(mem, blen + pad);
    if (d == NULL)
        return oom(err);
    memcpy(d, s, blen);
    memset(d + blen, ' ', pad);
    set_bytes(type, typmod, d, blen + pad, out);
    return DC_OK;
}

int sql_value_put_num(const sql_num *n, const sql_mem *mem, dc_value *out,
                      dc_error *err)
{
    char *s;
    size_t len;
    int rc = sql_num_format(n, &s, &len, err);
    if (rc)
        return rc;
    rc = make_bytes(DC_TYPE_NUMERIC, -1, s, len, mem, out, err);
    free(s);
    return rc;
}

int sql_value_get_num(const dc_value *v, sql_num *n, dc_error *err)
{
    return sql_num_parse((const char *)v->u.bytes.ptr, v->u.bytes.len, n, err);
}

static int numeric_in(int32_t typmod, const char *s, size_t len,
                      const sql_mem *mem, dc_value *out, dc_error *err)
{
    sql_num n;
    sql_num_init(&n);
    int rc = sql_num_parse(s, len, &n, err);
    if (rc == DC_OK)
        rc = sql_num_apply_typmod(&n, typmod, err);
    if (rc == DC_OK)
        rc = sql_value_put_num(&n, mem, out, err);
    if (rc == DC_OK)
        out->typmod = typmod;
    sql_num_free(&n);
    return rc;
}

int sql_value_in(uint32_t type, int32_t typmod, const char *s, size_t len,
                 const sql_tz *tz, const sql_mem *mem, dc_value *out,
                 dc_error *err)
{
    dc_value v = sql_value_null(type);
    v.is_null = false;
    v.typmod = typmod;
    int rc;
    switch (type) {
    case DC_TYPE_INT2:
    case DC_TYPE_INT4:
    case DC_TYPE_INT8:
    case DC_TYPE_OID: {
        int64_t i = 0;
        if ((rc = int_in(type, s, len, &i, err)) == DC_OK) {
            memset(out, 0, sizeof *out);
            out->type = type;
            out->typmod = typmod;
            out->is_null = false;
            out->u.i = i;
        }
        return rc;
    }
    case DC_TYPE_FLOAT4:
    case DC_TYPE_FLOAT8:
        rc = float_in(type, s, len, &v.u.f, err);
        break;
    case DC_TYPE_BOOL:
        rc = bool_in(s, len, &v.u.b, err);
        break;
    case DC_TYPE_NUMERIC:
        return numeric_in(typmod, s, len, mem, out, err);
    case DC_TYPE_BYTEA:
        return bytea_in(s, len, mem, out, err);
    case DC_TYPE_TEXT:
    case DC_TYPE_VARCHAR:
    case DC_TYPE_BPCHAR:
    case DC_TYPE_NAME:
    case DC_TYPE_UNKNOWN:
        return str_coerce(type, typmod, (const uint8_t *)s, len, 0, mem, out,
                          err);
    case DC_TYPE_DATE: {
        int32_t d;
        rc = sql_date_in(s, len, tz, &d, err);
        v.u.i = d;
        break;
    }
    case DC_TYPE_TIMESTAMP:
        rc = sql_timestamp_in(s, len, tz, &v.u.i, err);
        break;
    case DC_TYPE_TIMESTAMPTZ:
        rc = sql_timestamptz_in(s, len, tz, &v.u.i, err);
        break;
    default:
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "type %u is not supported", (unsigned)type);
    }
    if (rc == DC_OK)
        *out = v;
    return rc;
}

int sql_value_in_borrowed(uint32_t type, int32_t typmod, const char *s,
                          size_t len, const sql_tz *tz, const sql_mem *mem,
                          dc_value *out, dc_error *err)
{
    switch (type) {
    case DC_TYPE_TEXT:
    case DC_TYPE_VARCHAR:
    case DC_TYPE_BPCHAR:
        return str_coerce_x(type, typmod, (const uint8_t *)s, len, 0, true,
                            mem, out, err);
    default:
        return sql_value_in(type, typmod, s, len, tz, mem, out, err);
    }
}

/* ---- text output
 * -------------------------------------------------------------- */

/* Format mantissa digits `dg` (no point) with decimal exponent `exp` of the
 * first digit, PostgreSQL/Ryu style. */
static size_t float_format(int neg, const char *dg, int exp, int fixed_max,
                           char *buf)
{
    size_t n = 0, nd = strlen(dg);
    if (neg)
        buf[n++] = '-';
    if (exp >= -4 && exp < fixed_max) {
        if (exp >= 0) {
            for (int i = 0; i <= exp || (size_t)i < nd; i++) {
                if (i == exp + 1)
                    buf[n++] = '.';
                buf[n++] = (size_t)i < nd ? dg[i] : '0';
            }
        } else {
            buf[n++] = '0';
            buf[n++] = '.';
            for (int i = 0; i < -exp - 1; i++)
                buf[n++] = '0';
            memcpy(buf + n, dg, nd);
            n += nd;
        }
    } else {
        buf[n++] = dg[0];
        if (nd > 1) {
            buf[n++] = '.';
            memcpy(buf + n, dg + 1, nd - 1);
            n += nd - 1;
        }
        n += (size_t)sprintf(buf + n, "e%c%02d", exp < 0 ? '-' : '+',
                             exp < 0 ? -exp : exp);
    }
    buf[n] = '\0';
    return n;
}

/* Split "%.*e" output into digits and exponent. */
static size_t float_finish(const char *e, int fixed_max, char *buf)
{
    int neg = e[0] == '-';
    if (neg)
        e++;
    char dg[40];
    size_t k = 0;
    const char *p = e;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            dg[k++] = *p;
    while (k > 1 && dg[k - 1] == '0')
        k--;
    dg[k] = '\0';
    int exp = atoi(p + 1);
    return float_format(neg, dg, exp, fixed_max, buf);
}

static size_t float_special(double d, char *buf)
{
    if (isnan(d))
        return (size_t)sprintf(buf, "NaN");
    return (size_t)sprintf(buf, d > 0 ? "Infinity" : "-Infinity");
}

/* 1 when the decimal text `e` is exactly the midpoint of the adjacent
 * doubles a and b (finite).  Exact, with sql_num arithmetic; only called
 * when a cheaper test says the decimal is at or next to the midpoint. */
static int exact_midpoint(const char *e, double a, double b)
{
    if (!isfinite(a) || !isfinite(b))
        return 0;
    int xa, xb;
    double fa = frexp(fabs(a), &xa), fb = frexp(fabs(b), &xb);
    int64_t ma = (int64_t)ldexp(fa, 53), mb = (int64_t)ldexp(fb, 53);
    int ea = xa - 53, eb = xb - 53;
    int emin = ea < eb ? ea : eb;
    if (a == 0)
        ea = emin = eb;
    if (b == 0)
        eb = emin = ea;
    if ((a < 0) != (b < 0) && a != 0 && b != 0)
        return 0;
    int64_t m =
        (a == 0 ? 0 : ma << (ea - emin)) + (b == 0 ? 0 : mb << (eb - emin));
    int p = emin - 1; /* midpoint = m * 2^p */
    sql_num mid, factor, tmp, dec;
    sql_num_init(&mid);
    sql_num_init(&factor);
    sql_num_init(&tmp);
    sql_num_init(&dec);
    int eq = 0;
    int rc = sql_num_from_int64(m, &mid, NULL);
    if (rc == DC_OK)
        rc = sql_num_from_int64(p >= 0 ? 2 : 5, &factor, NULL);
    for (int i = 0; rc == DC_OK && i < (p >= 0 ? p : -p); i++) {
        rc = sql_num_mul(&mid, &factor, &tmp, NULL);
        sql_num t = mid;
        mid = tmp;
        tmp = t;
    }
    if (rc == DC_OK && p < 0)
        mid.scale += -p; /* m * 5^n / 10^n == m / 2^n */
    if (rc == DC_OK)
        rc = sql_num_parse(e, strlen(e), &dec, NULL);
    if (rc == DC_OK) {
        if (dec.neg)
            sql_num_neg(&dec);
        eq = sql_num_cmp(&mid, &dec) == 0;
    }
    sql_num_free(&mid);
    sql_num_free(&factor);
    sql_num_free(&tmp);
    sql_num_free(&dec);
    return eq;
}

size_t sql_float8_out(double d, char *buf)
{
    if (isnan(d) || isinf(d))
        return float_special(d, buf);
        /* Like sql_float4_out, reject decimals exactly on the boundary with a
         * neighbour (PostgreSQL's Ryu runs with acceptBounds = false).  The
         * midpoints need 54 bits: exact in x86's long double; elsewhere the
         * check is skipped. */
#if LDBL_MANT_DIG >= 64
    long double lo =
        ((long double)d + (long double)nextafter(d, -INFINITY)) / 2;
    long double hi = ((long double)d + (long double)nextafter(d, INFINITY)) / 2;
#endif
    char e[48];
    for (int p = 1; p <= 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, d);
        if (strtod(e, NULL) != d)
            continue;
#if LDBL_MANT_DIG >= 64
        long double back = strtold(e, NULL);
        if ((back == lo && exact_midpoint(e, d, nextafter(d, -INFINITY))) ||
            (back == hi && exact_midpoint(e, d, nextafter(d, INFINITY))))
            continue;
#endif
        break;
    }
    return float_finish(e, 15, buf);
}

size_t sql_float4_out(float f, char *buf)
{
    if (isnan(f) || isinf(f))
        return float_special(f, buf);
    /* PostgreSQL's Ryu (f2s) does not accept a decimal lying exactly on
     * the boundary between two floats, even when round-half-even would
     * read it back as f: reject exact midpoints (exact in double). */
    double lo = ((double)f + (double)nextafterf(f, -INFINITY)) / 2;
    double hi = ((double)f + (double)nextafterf(f, INFINITY)) / 2;
    char e[48];
    for (int p = 1; p <= 9; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, (double)f);
        double back = strtod(e, NULL);
        if (strtof(e, NULL) != f)
            continue;
        if ((back == lo && exact_midpoint(e, f, nextafterf(f, -INFINITY))) ||
            (back == hi && exact_midpoint(e, f, nextafterf(f, INFINITY))))
            continue;
        break;
    }
    return float_finish(e, 6, buf);
}

static const char hexdig[] = "0123456789abcdef";

int sql_value_out(const dc_value *v, const sql_tz *tz, sql_buf *out,
                  dc_error *err)
{
    if (v->is_null)
        return DC_OK;
    char buf[64];
    size_t n;
    switch (v->type) {
    case DC_TYPE_INT2:
    case DC_TYPE_INT4:
    case DC_TYPE_INT8:
    case DC_TYPE_OID:
        n = (size_t)sprintf(buf, "%lld", (long long)v->u.i);
        break;
    case DC_TYPE_FLOAT4:
        n = sql_float4_out((float)v->u.f, buf);
        break;
    case DC_TYPE_FLOAT8:
        n = sql_float8_out(v->u.f, buf);
        break;
    case DC_TYPE_BOOL:
        n = 1;
        buf[0] = v->u.b ? 't' : 'f';
        break;
    case DC_TYPE_DATE:
        n = sql_date_out((int32_t)v->u.i, buf);
        break;
    case DC_TYPE_TIMESTAMP:
        n = sql_timestamp_out(v->u.i, buf);
        break;
    case DC_TYPE_TIMESTAMPTZ:
        n = sql_timestamptz_out(v->u.i, tz, buf);
        break;
    case DC_TYPE_BYTEA: {
        int rc = sql_buf_append(out, "\\x", 2, err);
        for (size_t i = 0; rc == DC_OK && i < v->u.bytes.len; i++) {
            char h[2] = {hexdig[v->u.bytes.ptr[i] >> 4],
                         hexdig[v->u.bytes.ptr[i] & 15]};
            rc = sql_buf_append(out, h, 2, err);
        }
        return rc;
    }
    case DC_TYPE_NUMERIC:
    case DC_TYPE_TEXT:
    case DC_TYPE_VARCHAR:
    case DC_TYPE_BPCHAR:
    case DC_TYPE_NAME:
    case DC_TYPE_UNKNOWN:
        return sql_buf_append(out, v->u.bytes.ptr, v->u.bytes.len, err);
    default:
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "type %u is not supported", (unsigned)v->type);
    }
    return sql_buf_append(out, buf, n, err);
}

/* ---- binary I/O
 * ----------------------------------------------------------------- */

static int put_be(sql_buf *out, uint64_t v, int bytes, dc_error *err)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    return sql_buf_append(out, b, (size_t)bytes, err);
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = (v << 8) | p[i];
    return v;
}

int sql_value_send(const dc_value *v, sql_buf *out, dc_error *err)
{
    if (v->is_null)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "cannot send a NULL value");
    switch (v->type) {
    case DC_TYPE_INT2:
        return put_be(out, (uint64_t)v->u.i, 2, err);
    case DC_TYPE_INT4:
    case DC_TYPE_OID:
    case DC_TYPE_DATE:
        return put_be(out, (uint64_t)v->u.i, 4, err);
    case DC_TYPE_INT8:
    case DC_TYPE_TIMESTAMP:
    case DC_TYPE_TIMESTAMPTZ:
        return put_be(out, (uint64_t)v->u.i, 8, err);
    case DC_TYPE_FLOAT4: {
        float f = (float)v->u.f;
        uint32_t u;
        memcpy(&u, &f, 4);
        return put_be(out, u, 4, err);
    }
    case DC_TYPE_FLOAT8: {
        uint64_t u;
        memcpy(&u, &v->u.f, 8);
        return put_be(out, u, 8, err);
    }
    case DC_TYPE_BOOL:
        return buf_putc(out, v->u.b ? 1 : 0, err);
    case DC_TYPE_NUMERIC: {
        sql_num n;
        sql_num_init(&n);
        uint8_t *b = NULL;
        size_t len = 0;
        int rc = sql_value_get_num(v, &n, err);
        if (rc == DC_OK)
            rc = sql_num_send(&n, &b, &len, err);
        if (rc == DC_OK)
            rc = sql_buf_append(out, b, len, err);
        free(b);
        sql_num_free(&n);
        return rc;
    }
    case DC_TYPE_TEXT:
    case DC_TYPE_VARCHAR:
    case DC_TYPE_BPCHAR:
    case DC_TYPE_NAME:
    case DC_TYPE_BYTEA:
    case DC_TYPE_UNKNOWN:
        return sql_buf_append(out, v->u.bytes.ptr, v->u.bytes.len, err);
    default:
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "type %u is not supported", (unsigned)v->type);
    }
}

static int bad_binary(dc_error *err)
{
    return dc_error_set(err, DC_EINVAL, "22P03",
                        "incorrect binary data format");
}

int sql_value_recv(uint32_t type, int32_t typmod, const uint8_t *p, size_t len,
                   const sql_mem *mem, dc_value *out, dc_error *err)
{
    dc_value v = sql_value_null(type);
    v.is_null = false;
    v.typmod = typmod;
    switch (type) {
    case DC_TYPE_INT2:
        if (len != 2)
            return bad_binary(err);
        v.u.i = (int16_t)get_be(p, 2);
        break;
    case DC_TYPE_INT4:
    case DC_TYPE_DATE:
        if (len != 4)
            return bad_binary(err);
        v.u.i = (int32_t)get_be(p, 4);
        if (type == DC_TYPE_DATE && !sql_date_ok(v.u.i))
            return dc_error_set(err, DC_ERANGE, "22008", "date out of range");
        break;
    case DC_TYPE_OID:
        if (len != 4)
            return bad_binary(err);
        v.u.i = (int64_t)get_be(p, 4);
        break;
    case DC_TYPE_INT8:
    case DC_TYPE_TIMESTAMP:
    case DC_TYPE_TIMESTAMPTZ:
        if (len != 8)
            return bad_binary(err);
        v.u.i = (int64_t)get_be(p, 8);
        if (type != DC_TYPE_INT8 && !sql_timestamp_ok(v.u.i))
            return dc_error_set(err, DC_ERANGE, "22008",
                                "timestamp out of range");
        break;
    case DC_TYPE_FLOAT4: {
        if (len != 4)
            return bad_binary(err);
        uint32_t u = (uint32_t)get_be(p, 4);
        float f;
        memcpy(&f, &u, 4);
        v.u.f = f;
        break;
    }
    case DC_TYPE_FLOAT8: {
        if (len != 8)
            return bad_binary(err);
        uint64_t u = get_be(p, 8);
        memcpy(&v.u.f, &u, 8);
        break;
    }
    case DC_TYPE_BOOL:
        if (len != 1)
            return bad_binary(err);
        v.u.b = p[0] != 0;
        break;
    case DC_TYPE_NUMERIC: {
        sql_num n;
        sql_num_init(&n);
        int rc = sql_num_recv(p, len, &n, err);
        if (rc == DC_OK)
            rc = sql_num_apply_typmod(&n, typmod, err);
        if (rc == DC_OK)
            rc = sql_value_put_num(&n, mem, out, err);
        if (rc == DC_OK)
            out->typmod = typmod;
        sql_num_free(&n);
        return rc;
    }
    case DC_TYPE_BYTEA:
        return make_bytes(type, typmod, p, len, mem, out, err);
    case DC_TYPE_TEXT:
    case DC_TYPE_VARCHAR:
    case DC_TYPE_BPCHAR:
    case DC_TYPE_NAME:
    case DC_TYPE_UNKNOWN:
        return str_coerce(type, typmod, p, len, 0, mem, out, err);
    default:
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "type %u is not supported", (unsigned)type);
    }
    *out = v;
    return DC_OK;
}

/* ---- casts
 * ------------------------------------------------------------------------ */

/* Rank in the numeric widening chain; -1 when not in it. */
static int num_rank(uint32_t t)
{
    switch (t) {
    case DC_TYPE_INT2:
        return 0;
    case DC_TYPE_INT4:
        return 1;
    case DC_TYPE_INT8:
        return 2;
    case DC_TYPE_NUMERIC:
        return 3;
    case DC_TYPE_FLOAT4:
        return 4;
    case DC_TYPE_FLOAT8:
        return 5;
    default:
        return -1;
    }
}

sql_cast_ctx sql_cast_kind(uint32_t from, uint32_t to)
{
    if (!sql_type_supported(to))
        return SQL_CAST_NONE;
    if (from == to || from == DC_TYPE_UNKNOWN)
        return SQL_CAST_IMPLICIT;
    if (!sql_type_supported(from))
        return SQL_CAST_NONE;
    if (is_str_type(from) && is_str_type(to)) {
        if (from == DC_TYPE_NAME && to != DC_TYPE_TEXT)
            return SQL_CAST_ASSIGNMENT;
        return SQL_CAST_IMPLICIT;
    }
    if (is_str_type(to))
        return SQL_CAST_ASSIGNMENT;
    if (is_str_type(from))
        return SQL_CAST_EXPLICIT;
    int rf = num_rank(from), rt = num_rank(to);
    if (rf >= 0 && rt >= 0)
        return rf < rt ? SQL_CAST_IMPLICIT : SQL_CAST_ASSIGNMENT;
    if (to == DC_TYPE_OID &&
        (from == DC_TYPE_INT2 || from == DC_TYPE_INT4 || from == DC_TYPE_INT8))
        return SQL_CAST_IMPLICIT;
    if (from == DC_TYPE_OID && (to == DC_TYPE_INT4 || to == DC_TYPE_INT8))
        return SQL_CAST_ASSIGNMENT;
    if ((from == DC_TYPE_BOOL && to == DC_TYPE_INT4) ||
        (from == DC_TYPE_INT4 && to == DC_TYPE_BOOL))
        return SQL_CAST_EXPLICIT;
    if (from == DC_TYPE_DATE &&
        (to == DC_TYPE_TIMESTAMP || to == DC_TYPE_TIMESTAMPTZ))
        return SQL_CAST_IMPLICIT;
    if (from == DC_TYPE_TIMESTAMP && to == DC_TYPE_TIMESTAMPTZ)
        return SQL_CAST_IMPLICIT;
    if (from == DC_TYPE_TIMESTAMPTZ && to == DC_TYPE_TIMESTAMP)
        return SQL_CAST_ASSIGNMENT;
    if ((from == DC_TYPE_TIMESTAMP || from == DC_TYPE_TIMESTAMPTZ) &&
        to == DC_TYPE_DATE)
        return SQL_CAST_ASSIGNMENT;
    return SQL_CAST_NONE;
}

/* Strip trailing spaces of a bpchar's bytes. */
static size_t bpchar_len(const dc_value *v)
{
    size_t n = v->u.bytes.len;
    if (v->type == DC_TYPE_BPCHAR)
        while (n && v->u.bytes.ptr[n - 1] == ' ')
            n--;
    return n;
}

static int float_to_int(double d, uint32_t to, int64_t *out, dc_error *err)
{
    double r = rint(d);
    int ok;
    if (isnan(r))
        ok = 0;
    else if (to == DC_TYPE_INT8)
        ok = r >= (double)INT64_MIN && r < -(double)INT64_MIN;
    else {
        int64_t min, max;
        int_range(to, &min, &max);
        ok = r >= (double)min && r <= (double)max;
    }
    if (!ok)
        return int_out_of_range(to, err);
    *out = (int64_t)r;
    return DC_OK;
}

static int float4_check(double d, float *out, dc_error *err)
{
    float f = (float)d;
    if (isinf(f) && !isinf(d))
        return dc_error_set(err, DC_ERANGE, "22003",
                            "value out of range: overflow");
    if (f == 0.0f && d != 0.0)
        return dc_error_set(err, DC_ERANGE, "22003",
                            "value out of range: underflow");
    *out = f;
    return DC_OK;
}

/* Numeric value of any numeric-category dc_value as a sql_num. */
static int to_num(const dc_value *v, sql_num *n, dc_error *err)
{
    if (is_int_type(v->type))
        return sql_num_from_int64(v->u.i, n, err);
    if (v->type == DC_TYPE_FLOAT4)
        return sql_num_from_double(v->u.f, 6, n, err);
    if (v->type == DC_TYPE_FLOAT8)
        return sql_num_from_double(v->u.f, 15, n, err);
    return sql_value_get_num(v, n, err);
}

static int num_to_float(const sql_num *n, uint32_t to, double *out,
                        dc_error *err)
{
    double d = sql_num_to_double(n);
    if (to == DC_TYPE_FLOAT4) {
        float f = (float)d;
        if ((isinf(f) && n->kind == SQL_NUM_FINITE) ||
            (f == 0.0f && n->ndigits != 0))
            goto range;
        d = f;
    } else if ((isinf(d) && n->kind == SQL_NUM_FINITE) ||
               (d == 0.0 && n->ndigits != 0)) {
        goto range;
    }
    *out = d;
    return DC_OK;
range : {
    char *s = NULL;
    size_t len = 0;
    sql_num_format(n, &s, &len, NULL);
    dc_error_set(err, DC_ERANGE, "22003", "\"%s\" is out of range for type %s",
                 s ? s : "", sql_type_name(to));
    free(s);
    return DC_ERANGE;
}
}

int sql_value_cast(const dc_value *v, uint32_t to, int32_t typmod,
                   sql_cast_ctx ctx, const sql_tz *tz, const sql_mem *mem,
                   dc_value *out, dc_error *err)
{
    uint32_t from = v->type;
    if (sql_cast_kind(from, to) == SQL_CAST_NONE)
        return dc_error_set(err, DC_ETYPE, "42846", "cannot cast type %s to %s",
                            sql_type_name(from), sql_type_name(to));
    if (v->is_null) {
        *out = sql_value_null(to);
        out->typmod = typmod;
        return DC_OK;
    }
    int explicit_cast = ctx == SQL_CAST_EXPLICIT;
    if (is_str_type(to)) {
        if (is_str_type(from)) {
            size_t n = to == DC_TYPE_BPCHAR ? v->u.bytes.len : bpchar_len(v);
            return str_coerce(to, typmod, v->u.bytes.ptr, n, explicit_cast, mem,
                              out, err);
        }
        if (from == DC_TYPE_BOOL) {
            /* booltext: the cast says "true"/"false", unlike boolout */
            const char *t = v->u.b ? "true" : "false";
            return str_coerce(to, typmod, (const uint8_t *)t, strlen(t),
                              explicit_cast, mem, out, err);
        }
        sql_buf b;
        sql_buf_init(&b);
        int rc = sql_value_out(v, tz, &b, err);
        if (rc == DC_OK)
            rc = str_coerce(to, typmod, b.data ? b.data : (const uint8_t *)"",
                            b.len, explicit_cast, mem, out, err);
        sql_buf_free(&b);
        return rc;
    }
    if (is_str_type(from))
        return sql_value_in(to, typmod, (const char *)v->u.bytes.ptr,
                            v->u.bytes.len, tz, mem, out, err);
    dc_value r = sql_value_null(to);
    r.is_null = false;
    r.typmod = typmod;
    int rc = DC_OK;
    if (to == DC_TYPE_NUMERIC) {
        sql_num n;
        sql_num_init(&n);
        rc = to_num(v, &n, err);
        if (rc == DC_OK)
            rc = sql_num_apply_typmod(&n, typmod, err);
        if (rc == DC_OK)
            rc = sql_value_put_num(&n, mem, out, err);
        if (rc == DC_OK)
            out->typmod = typmod;
        sql_num_free(&n);
        return rc;
    }
    if (from == to && to == DC_TYPE_BYTEA)
        return make_bytes(to, typmod, v->u.bytes.ptr, v->u.bytes.len, mem, out,
                          err);
    if (is_int_type(to)) {
        if (is_int_type(from)) {
            int64_t min, max;
            int_range(to, &min, &max);
            if (v->u.i < min || v->u.i > max)
                return int_out_of_range(to, err);
            r.u.i = v->u.i;
        } else if (is_float_type(from)) {
            rc = float_to_int(v->u.f, to, &r.u.i, err);
        } else if (from == DC_TYPE_NUMERIC) {
            sql_num n;
            sql_num_init(&n);
            int64_t min, max;
            int_range(to, &min, &max);
            rc = sql_value_get_num(v, &n, err);
            if (rc == DC_OK)
                rc = sql_num_to_int(&n, min, max, sql_type_name(to), &r.u.i,
                                    err);
            sql_num_free(&n);
        } else if (from == DC_TYPE_BOOL) {
            r.u.i = v->u.b ? 1 : 0;
        } else {
            rc = DC_ETYPE;
        }
    } else if (is_float_type(to)) {
        if (is_int_type(from)) {
            r.u.f =
                to == DC_TYPE_FLOAT4 ? (double)(float)v->u.i : (double)v->u.i;
        } else if (is_float_type(from)) {
            float f = 0;
            if (to == DC_TYPE_FLOAT4 && from == DC_TYPE_FLOAT8) {
                rc = float4_check(v->u.f, &f, err);
                r.u.f = f;
            } else {
                r.u.f = v->u.f;
            }
        } else {
            sql_num n;
            sql_num_init(&n);
            rc = sql_value_get_num(v, &n, err);
            if (rc == DC_OK)
                rc = num_to_float(&n, to, &r.u.f, err);
            sql_num_free(&n);
        }
    } else if (to == DC_TYPE_BOOL) {
        r.u.b = from == DC_TYPE_BOOL ? v->u.b : v->u.i != 0;
    } else if (to == DC_TYPE_DATE) {
        int64_t ts = v->u.i;
        if (from == DC_TYPE_TIMESTAMPTZ)
            rc = sql_timestamptz_to_local(ts, tz, &ts, err);
        int32_t d = (int32_t)v->u.i;
        if (rc == DC_OK && from != DC_TYPE_DATE)
            rc = sql_timestamp_to_date(ts, &d, err);
        r.u.i = d;
    } else if (to == DC_TYPE_TIMESTAMP || to == DC_TYPE_TIMESTAMPTZ) {
        int64_t ts = v->u.i;
        if (from == DC_TYPE_DATE)
            rc = sql_date_to_timestamp((int32_t)v->u.i, &ts, err);
        if (rc == DC_OK && from != DC_TYPE_TIMESTAMPTZ &&
            to == DC_TYPE_TIMESTAMPTZ)
            rc = sql_timestamp_to_tz(ts, tz, &ts, err);
        if (rc == DC_OK && from == DC_TYPE_TIMESTAMPTZ &&
            to == DC_TYPE_TIMESTAMP)
            rc = sql_timestamptz_to_local(ts, tz, &ts, err);
        r.u.i = ts;
    } else {
        rc = DC_ETYPE;
    }
    if (rc == DC_ETYPE)
        return dc_error_set(err, DC_ETYPE, "42846", "cannot cast type %s to %s",
                            sql_type_name(from), sql_type_name(to));
    if (rc == DC_OK)
        *out = r;
    return rc;
}

/* ---- arithmetic
 * --------------------------------------------------------------------- */

static const char *const op_names[] = {"+", "-", "*", "/", "%"};

uint32_t sql_arith_type(sql_arith_op op, uint32_t a, uint32_t b)
{
    if (a == DC_TYPE_DATE || b == DC_TYPE_DATE) {
        int ia = a == DC_TYPE_INT2 || a == DC_TYPE_INT4;
        int ib = b == DC_TYPE_INT2 || b == DC_TYPE_INT4;
        if (op == SQL_OP_ADD &&
            ((a == DC_TYPE_DATE && ib) || (ia && b == DC_TYPE_DATE)))
            return DC_TYPE_DATE;
        if (op == SQL_OP_SUB && a == DC_TYPE_DATE && ib)
            return DC_TYPE_DATE;
        if (op == SQL_OP_SUB && a == DC_TYPE_DATE && b == DC_TYPE_DATE)
            return DC_TYPE_INT4;
        return 0;
    }
    int ra = num_rank(a), rb = num_rank(b);
    if (ra < 0 || rb < 0)
        return 0;
    if (is_float_type(a) || is_float_type(b)) {
        if (op == SQL_OP_MOD)
            return 0;
        return a == DC_TYPE_FLOAT4 && b == DC_TYPE_FLOAT4 ? DC_TYPE_FLOAT4
                                                          : DC_TYPE_FLOAT8;
    }
    return ra > rb ? a : b;
}

static int div_zero(dc_error *err)
{
    return dc_error_set(err, DC_ERANGE, "22012", "division by zero");
}

static int float_range(int over, dc_error *err)
{
    return dc_error_set(err, DC_ERANGE, "22003", "value out of range: %s",
                        over ? "overflow" : "underflow");
}

static int float_arith(sql_arith_op op, uint32_t rt, double a, double b,
                       double *out, dc_error *err)
{
    double r;
    int f4 = rt == DC_TYPE_FLOAT4;
    switch (op) {
    case SQL_OP_ADD:
        r = f4 ? (double)((float)a + (float)b) : a + b;
        if (isinf(r) && !isinf(a) && !isinf(b))
            return float_range(1, err);
        break;
    case SQL_OP_SUB:
        r = f4 ? (double)((float)a - (float)b) : a - b;
        if (isinf(r) && !isinf(a) && !isinf(b))
            return float_range(1, err);
        break;
    case SQL_OP_MUL:
        r = f4 ? (double)((float)a * (float)b) : a * b;
        if (isinf(r) && !isinf(a) && !isinf(b))
            return float_range(1, err);
        if (r == 0.0 && a != 0.0 && b != 0.0)
            return float_range(0, err);
        break;
    case SQL_OP_DIV:
        if (b == 0.0 && !isnan(a))
            return div_zero(err);
        r = f4 ? (double)((float)a / (float)b) : a / b;
        if (isinf(r) && !isinf(a))
            return float_range(1, err);
        if (r == 0.0 && a != 0.0 && !isinf(b))
            return float_range(0, err);
        break;
    default:
        return dc_error_set(err, DC_ETYPE, "42883", "operator does not exist");
    }
    *out = r;
    return DC_OK;
}

static int int_arith(sql_arith_op op, uint32_t rt, int64_t a, int64_t b,
                     int64_t *out, dc_error *err)
{
    int64_t r = 0;
    int over = 0;
    switch (op) {
    case SQL_OP_ADD:
        over = __builtin_add_overflow(a, b, &r);
        break;
    case SQL_OP_SUB:
        over = __builtin_sub_overflow(a, b, &r);
        break;
    case SQL_OP_MUL:
        over = __builtin_mul_overflow(a, b, &r);
        break;
    case SQL_OP_DIV:
        if (b == 0)
            return div_zero(err);
        if (b == -1)
            over = __builtin_sub_overflow((int64_t)0, a, &r);
        else
            r = a / b;
        break;
    case SQL_OP_MOD:
        if (b == 0)
            return div_zero(err);
        r = b == -1 ? 0 : a % b;
        break;
    }
    int64_t min, max;
    int_range(rt, &min, &max);
    if (over || r < min || r > max)
        return int_out_of_range(rt, err);
    *out = r;
    return DC_OK;
}

static double as_double(const dc_value *v)
{
    if (is_int_type(v->type))
        return (double)v->u.i;
    if (is_float_type(v->type))
        return v->u.f;
    sql_num n;
    sql_num_init(&n);
    double d = NAN;
    if (sql_value_get_num(v, &n, NULL) == DC_OK)
        d = sql_num_to_double(&n);
    sql_num_free(&n);
    return d;
}

int sql_value_arith(sql_arith_op op, const dc_value *a, const dc_value *b,
                    const sql_mem *mem, dc_value *out, dc_error *err)
{
    uint32_t rt = sql_arith_type(op, a->type, b->type);
    if (rt == 0)
        return dc_error_set(
            err, DC_ETYPE, "42883", "operator does not exist: %s %s %s",
            sql_type_name(a->type), op <= SQL_OP_MOD ? op_names[op] : "?",
            sql_type_name(b->type));
    if (a->is_null || b->is_null) {
        *out = sql_value_null(rt);
        return DC_OK;
    }
    dc_value r = sql_value_null(rt);
    r.is_null = false;
    int rc = DC_OK;
    if (a->type == DC_TYPE_DATE || b->type == DC_TYPE_DATE) {
        if (a->type == DC_TYPE_DATE && b->type == DC_TYPE_DATE) {
            int32_t d;
            rc = sql_date_diff((int32_t)a->u.i, (int32_t)b->u.i, &d, err);
            r.u.i = d;
        } else {
            const dc_value *dv = a->type == DC_TYPE_DATE ? a : b;
            const dc_value *iv = a->type == DC_TYPE_DATE ? b : a;
            int32_t d;
            rc = sql_date_add_days((int32_t)dv->u.i,
                                   op == SQL_OP_SUB ? -iv->u.i : iv->u.i, &d,
                                   err);
            r.u.i = d;
        }
    } else if (is_float_type(rt)) {
        rc = float_arith(op, rt, as_double(a), as_double(b), &r.u.f, err);
    } else if (rt == DC_TYPE_NUMERIC) {
        sql_num x, y, z;
        sql_num_init(&x);
        sql_num_init(&y);
        sql_num_init(&z);
        rc = to_num(a, &x, err);
        if (rc == DC_OK)
            rc = to_num(b, &y, err);
        if (rc == DC_OK) {
            switch (op) {
            case SQL_OP_ADD:
                rc = sql_num_add(&x, &y, &z, err);
                break;
            case SQL_OP_SUB:
                rc = sql_num_sub(&x, &y, &z, err);
                break;
            case SQL_OP_MUL:
                rc = sql_num_mul(&x, &y, &z, err);
                break;
            case SQL_OP_DIV:
                rc = sql_num_div(&x, &y, &z, err);
                break;
            case SQL_OP_MOD:
                rc = sql_num_mod(&x, &y, &z, err);
                break;
            }
        }
        if (rc == DC_OK)
            rc = sql_value_put_num(&z, mem, out, err);
        sql_num_free(&x);
        sql_num_free(&y);
        sql_num_free(&z);
        return rc;
    } else {
        rc = int_arith(op, rt, a->u.i, b->u.i, &r.u.i, err);
    }
    if (rc == DC_OK)
        *out = r;
    return rc;
}

static int unary(int is_abs, const dc_value *a, const sql_mem *mem,
                 dc_value *out, dc_error *err)
{
    if (num_rank(a->type) < 0)
        return dc_error_set(err, DC_ETYPE, "42883",
                            "operator does not exist: %s %s",
                            is_abs ? "@" : "-", sql_type_name(a->type));
    if (a->is_null) {
        *out = sql_value_null(a->type);
        return DC_OK;
    }
    dc_value r = *a;
    r.typmod = -1;
    if (is_int_type(a->type)) {
        int64_t min, max;
        int_range(a->type, &min, &max);
        if (is_abs && a->u.i >= 0)
            r.u.i = a->u.i;
        else if (a->u.i == min)
            return int_out_of_range(a->type, err);
        else
            r.u.i = -a->u.i;
    } else if (is_float_type(a->type)) {
        r.u.f = is_abs ? fabs(a->u.f) : -a->u.f;
    } else {
        sql_num n;
        sql_num_init(&n);
        int rc = sql_value_get_num(a, &n, err);
        if (rc == DC_OK) {
            if (is_abs)
                sql_num_abs(&n);
            else
                sql_num_neg(&n);
            rc = sql_value_put_num(&n, mem, out, err);
        }
        sql_num_free(&n);
        return rc;
    }
    *out = r;
    return DC_OK;
}

int sql_value_neg(const dc_value *a, const sql_mem *mem, dc_value *out,
                  dc_error *err)
{
    return unary(0, a, mem, out, err);
}

int sql_value_abs(const dc_value *a, const sql_mem *mem, dc_value *out,
                  dc_error *err)
{
    return unary(1, a, mem, out, err);
}

/* ---- comparison and hashing
 * ------------------------------------------------------ */

static int cmp_double(double a, double b)
{
    if (isnan(a))
        return isnan(b) ? 0 : 1;
    if (isnan(b))
        return -1;
    return a < b ? -1 : a > b ? 1 : 0;
}

static int cmp_bytes(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    size_t n = na < nb ? na : nb;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return na < nb ? -1 : na > nb ? 1 : 0;
}

static int64_t dt_usec(const dc_value *v)
{
    if (v->type != DC_TYPE_DATE)
        return v->u.i;
    if (v->u.i == SQL_DATE_NOBEGIN)
        return SQL_TS_NOBEGIN;
    if (v->u.i == SQL_DATE_NOEND)
        return SQL_TS_NOEND;
    /* Dates beyond the timestamp range (up to 5874897 AD) compare above
     * every finite timestamp but below infinity, as PostgreSQL does. */
    if (v->u.i >= INT64_C(106751991))
        return INT64_C(9223371331200000000);
    if (v->u.i < INT64_C(-2451545))
        return INT64_C(-211813488000000000) - 1;
    return v->u.i * SQL_USECS_PER_DAY;
}

int sql_value_cmp(const dc_value *a, const dc_value *b, int *res, dc_error *err)
{
    if (a->is_null || b->is_null)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "cannot compare NULL values");
    uint32_t ta = a->type, tb = b->type;
    int c;
    if (is_num_cat(ta) && is_num_cat(tb)) {
        if (is_int_type(ta) && is_int_type(tb)) {
            c = a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
        } else if (is_float_type(ta) || is_float_type(tb)) {
            c = cmp_double(as_double(a), as_double(b));
        } else {
            sql_num x, y;
            sql_num_init(&x);
            sql_num_init(&y);
            int rc = to_num(a, &x, err);
            if (rc == DC_OK)
                rc = to_num(b, &y, err);
            c = sql_num_cmp(&x, &y);
            sql_num_free(&x);
            sql_num_free(&y);
            if (rc)
                return rc;
            c = c < 0 ? -1 : c > 0;
        }
    } else if (is_str_type(ta) && is_str_type(tb)) {
        c = cmp_bytes(a->u.bytes.ptr, bpchar_len(a), b->u.bytes.ptr,
                      bpchar_len(b));
    } else if (ta == DC_TYPE_BYTEA && tb == DC_TYPE_BYTEA) {
        c = cmp_bytes(a->u.bytes.ptr, a->u.bytes.len, b->u.bytes.ptr,
                      b->u.bytes.len);
    } else if (ta == DC_TYPE_BOOL && tb == DC_TYPE_BOOL) {
        c = (int)a->u.b - (int)b->u.b;
    } else if (is_dt_type(ta) && is_dt_type(tb)) {
        int64_t x = dt_usec(a), y = dt_usec(b);
        c = x < y ? -1 : x > y;
    } else {
        return dc_error_set(err, DC_ETYPE, "42883",
                            "operator does not exist: %s = %s",
                            sql_type_name(ta), sql_type_name(tb));
    }
    *res = c;
    return DC_OK;
}

uint64_t sql_value_hash(const dc_value *v)
{
    if (v->is_null)
        return 0;
    switch (v->type) {
    case DC_TYPE_INT2:
    case DC_TYPE_INT4:
    case DC_TYPE_INT8:
    case DC_TYPE_OID:
    case DC_TYPE_DATE:
    case DC_TYPE_TIMESTAMP:
    case DC_TYPE_TIMESTAMPTZ:
        return sql_hash_int64(v->u.i);
    case DC_TYPE_BOOL:
        return sql_hash_int64(v->u.b);
    case DC_TYPE_FLOAT4:
    case DC_TYPE_FLOAT8: {
        double d = v->u.f;
        if (isnan(d))
            return sql_hash_int64(INT64_C(0x7ff8000000000000));
        if (d == 0.0)
            d = 0.0;
        int64_t bits;
        memcpy(&bits, &d, 8);
        return sql_hash_int64(bits ^ INT64_C(0x5555555555555555));
    }
    case DC_TYPE_NUMERIC: {
        sql_num n;
        sql_num_init(&n);
        uint64_t h = 0;
        if (sql_value_get_num(v, &n, NULL) == DC_OK)
            h = sql_num_hash(&n);
        sql_num_free(&n);
        return h;
    }
    default:
        return sql_hash_bytes(v->u.bytes.ptr, bpchar_len(v));
    }
}

/* ---- key encoding
 * ------------------------------------------------------------------ */

static int key_bytes(sql_buf *key, const uint8_t *p, size_t n, dc_error *err)
{
    int rc = DC_OK;
    size_t start = 0;
    for (size_t i = 0; i < n && rc == DC_OK; i++) {
        if (p[i] == 0) {
            rc = sql_buf_append(key, p + start, i - start, err);
            if (rc == DC_OK)
                rc = sql_buf_append(key, "\x00\xff", 2, err);
            start = i + 1;
        }
    }
    if (rc == DC_OK)
        rc = sql_buf_append(key, p + start, n - start, err);
    if (rc == DC_OK)
        rc = sql_buf_append(key, "\x00\x00", 2, err);
    return rc;
}

int sql_key_append(sql_buf *key, const dc_value *v, unsigned flags,
                   dc_error *err)
{
    if (v->is_null)
        return buf_putc(key, (flags & SQL_KEY_NULLS_FIRST) ? 0x00 : 0x02, err);
    int rc = buf_putc(key, 0x01, err);
    if (rc)
        return rc;
    size_t start = key->len;
    switch (v->type) {
    case DC_TYPE_INT2:
    case DC_TYPE_INT4:
    case DC_TYPE_INT8:
    case DC_TYPE_OID:
    case DC_TYPE_TIMESTAMP:
    case DC_TYPE_TIMESTAMPTZ:
        rc = put_be(key, (uint64_t)v->u.i ^ (UINT64_C(1) << 63), 8, err);
        break;
    case DC_TYPE_DATE:
        rc = put_be(key, (uint32_t)(int32_t)v->u.i ^ UINT32_C(0x80000000), 4,
                    err);
        break;
    case DC_TYPE_BOOL:
        rc = buf_putc(key, v->u.b ? 1 : 0, err);
        break;
    case DC_TYPE_FLOAT4:
    case DC_TYPE_FLOAT8: {
        double d = v->u.f;
        uint64_t u;
        if (isnan(d)) {
            u = UINT64_MAX;
        } else {
            if (d == 0.0)
                d = 0.0;
            memcpy(&u, &d, 8);
            u = (u >> 63) ? ~u : u ^ (UINT64_C(1) << 63);
        }
        rc = put_be(key, u, 8, err);
        break;
    }
    case DC_TYPE_NUMERIC: {
        sql_num n;
        sql_num_init(&n);
        uint8_t *b = NULL;
        size_t len = 0, cap = 0;
        rc = sql_value_get_num(v, &n, err);
        if (rc == DC_OK)
            rc = sql_num_key(&n, &b, &len, &cap, err);
        if (rc == DC_OK)
            rc = sql_buf_append(key, b, len, err);
        free(b);
        sql_num_free(&n);
        break;
    }
    case DC_TYPE_TEXT:
    case DC_TYPE_VARCHAR:
    case DC_TYPE_BPCHAR:
    case DC_TYPE_NAME:
    case DC_TYPE_BYTEA:
    case DC_TYPE_UNKNOWN:
        rc = key_bytes(key, v->u.bytes.ptr, bpchar_len(v), err);
        break;
    default:
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "type %u is not supported", (unsigned)v->type);
    }
    if (rc == DC_OK && (flags & SQL_KEY_DESC))
        for (size_t i = start; i < key->len; i++)
            key->data[i] = (uint8_t)~key->data[i];
    return rc;
}
