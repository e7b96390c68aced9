/*
 * sql/funcs_str.c - string functions (PostgreSQL 15 semantics over UTF-8
 * text; character positions count code points, case mapping is ASCII) and
 * their signature table sql_str_func_table.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/funcs_int.h"
#include "sql/funcs_rx.h"
#include "sql/lexer.h"

#define S  SQL_FN_STRICT
#define B  DC_TYPE_BOOL
#define BY DC_TYPE_BYTEA
#define NM DC_TYPE_NAME
#define I4 DC_TYPE_INT4
#define I8 DC_TYPE_INT8
#define TX DC_TYPE_TEXT
#define BP DC_TYPE_BPCHAR

#define UNUSED (void)ctx, (void)nargs, (void)err

#define P(v) ((v).u.bytes.ptr)
#define N(v) ((v).u.bytes.len)

static int ret_text(sql_ctx *ctx, const void *p, size_t n, dc_value *out,
                    dc_error *err)
{
    return sql_fx_text(ctx, DC_TYPE_TEXT, p, n, out, err);
}

/* Borrow a slice of an input as a text result (inputs outlive the call). */
static int ret_slice(const dc_value *v, size_t off, size_t n, dc_value *out)
{
    *out = sql_value_bytes(DC_TYPE_TEXT, P(*v) + off, n);
    return DC_OK;
}

static int too_large(dc_error *err)
{
    return dc_error_set(err, DC_ERANGE, "54000", "requested length too large");
}

/* ---- length ----------------------------------------------------------------
 */

static int f_length(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                    dc_error *err)
{
    UNUSED;
    size_t n = N(a[0]);
    if (a[0].type == DC_TYPE_BPCHAR)
        while (n && P(a[0])[n - 1] == ' ')
            n--;
    size_t c = a[0].type == DC_TYPE_BYTEA ? n : sql_utf8_len(P(a[0]), n);
    *out = sql_value_int(DC_TYPE_INT4, (int64_t)c);
    return DC_OK;
}

static int f_octet_length(sql_ctx *ctx, int nargs, const dc_value *a,
                          dc_value *out, dc_error *err)
{
    UNUSED;
    *out = sql_value_int(DC_TYPE_INT4, (int64_t)N(a[0]));
    return DC_OK;
}

/* ---- case ------------------------------------------------------------------
 */

/* Case mapping of one code point: ASCII, Latin-1, Latin Extended-A,
 * Greek and Cyrillic (the two-byte UTF-8 range, where a letter and its
 * other case have the same encoded length). */
static uint32_t cp_case(uint32_t c, bool upper)
{
    if (c < 0x80)
        return (uint32_t)(upper ? toupper((int)c) : tolower((int)c));
    if (upper) {
        if ((c >= 0xE0 && c <= 0xFE && c != 0xF7))
            return c - 0x20;
        if (c == 0xFF)
            return 0x178;
        if (c >= 0x100 && c <= 0x17F) {
            if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
                return (c & 1) ? c : c - 1;
            if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F ||
                c == 0x130 || c == 0x178)
                return c;
            return (c & 1) ? c - 1 : c;
        }
        if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2)
            return c - 0x20;
        if (c == 0x3C2)
            return 0x3A3;
        if (c >= 0x430 && c <= 0x44F)
            return c - 0x20;
        if (c >= 0x450 && c <= 0x45F)
            return c - 0x50;
        return c;
    }
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 0x20;
    if (c == 0x178)
        return 0xFF;
    if (c >= 0x100 && c <= 0x17F) {
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            return (c & 1) ? c + 1 : c;
        if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F || c == 0x130)
            return c;
        return (c & 1) ? c : c + 1;
    }
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2)
        return c + 0x20;
    if (c >= 0x410 && c <= 0x42F)
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40F)
        return c + 0x50;
    return c;
}

static bool cp_alnum(uint32_t c)
{
    if (c < 0x80)
        return isalnum((int)c) != 0;
    return cp_case(c, true) != c || cp_case(c, false) != c || c == 0xDF;
}

/* Copy s[0..n) to d mapping letters: mode 0 lower, 1 upper, 2 initcap
 * (first letter of each alphanumeric run upper, the rest lower). */
static void map_case_bytes(const uint8_t *s, size_t n, uint8_t *d, int mode)
{
    bool in_word = false;
    for (size_t i = 0; i < n;) {
        uint8_t b0 = s[i];
        uint32_t c;
        size_t len = 1;
        if (b0 >= 0xC0 && b0 < 0xE0 && i + 1 < n && (s[i + 1] & 0xC0) == 0x80) {
            c = (uint32_t)(b0 & 0x1F) << 6 | (s[i + 1] & 0x3F);
            len = 2;
        } else if (b0 >= 0x80) {
            d[i] = b0; /* other multi-byte characters pass through */
            i++;
            in_word = true;
            continue;
        } else {
            c = b0;
        }
        bool up = mode == 1 || (mode == 2 && !in_word);
        uint32_t m = cp_case(c, up);
        if (mode == 2)
            in_word = cp_alnum(c);
        if (len == 1) {
            d[i] = (uint8_t)m;
        } else {
            d[i] = (uint8_t)(0xC0 | (m >> 6));
            d[i + 1] = (uint8_t)(0x80 | (m & 0x3F));
        }
        i += len;
    }
}

void sql_fx_lower_bytes(const uint8_t *s, size_t n, uint8_t *d)
{
    map_case_bytes(s, n, d, 0);
}

static int map_case(sql_ctx *ctx, const dc_value *v, int mode, dc_value *out,
                    dc_error *err)
{
    uint8_t *d = sql_fx_alloc(ctx, N(*v), err);
    if (!d)
        return DC_ENOMEM;
    map_case_bytes(P(*v), N(*v), d, mode);
    *out = sql_value_bytes(DC_TYPE_TEXT, d, N(*v));
    return DC_OK;
}

static int f_lower(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                   dc_error *err)
{
    (void)nargs;
    return map_case(ctx, &a[0], 0, out, err);
}

static int f_upper(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                   dc_error *err)
{
    (void)nargs;
    return map_case(ctx, &a[0], 1, out, err);
}

static int f_initcap(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    (void)nargs;
    return map_case(ctx, &a[0], 2, out, err);
}

/* ---- substring / position ------------------------------------------------ */

/* Characters [from, from+count) of s (1-based; count < 0: to the end),
 * as PostgreSQL's text_substring clamps them. */
static int substr_chars(const dc_value *v, int64_t start, int64_t count,
                        bool has_count, dc_value *out, dc_error *err)
{
    bool bytes = v->type == DC_TYPE_BYTEA;
    if (has_count && count < 0)
        return dc_error_set(err, DC_EINVAL, "22011",
                            "negative substring length not allowed");
    int64_t s1 = start < 1 ? 1 : start;
    int64_t e; /* exclusive end position, or -1: to the end */
    if (!has_count) {
        e = -1;
    } else {
        if (__builtin_add_overflow(start, count, &e))
            e = -1;
        if (e != -1 && e <= s1) {
            *out = sql_value_bytes(v->type, P(*v), 0);
            return DC_OK;
        }
    }
    size_t n = N(*v);
    size_t off = bytes ? ((uint64_t)(s1 - 1) < n ? (size_t)(s1 - 1) : n)
                       : sql_utf8_off(P(*v), n, (size_t)(s1 - 1));
    size_t end = n;
    if (e != -1) {
        uint64_t want = (uint64_t)(e - s1);
        end = bytes ? (want < n - off ? off + (size_t)want : n)
                    : off + sql_utf8_off(P(*v) + off, n - off,
                                         want > n ? n : (size_t)want);
    }
    *out = sql_value_bytes(v->type, P(*v) + off, end - off);
    return DC_OK;
}

static int f_substr(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                    dc_error *err)
{
    (void)ctx;
    return substr_chars(&a[0], a[1].u.i, nargs > 2 ? a[2].u.i : 0, nargs > 2,
                        out, err);
}

/* substring(text FROM pattern): the first parenthesised subexpression's
 * match when there is one, else the whole match; NULL when no match. */
static int f_substr_rx(sql_ctx *ctx, int nargs, const dc_value *a,
                       dc_value *out, dc_error *err)
{
    (void)ctx;
    (void)nargs;
    bool found;
    size_t so, eo;
    long sso, seo;
    int nsub;
    int rc = sql_rx_find(P(a[0]), N(a[0]), P(a[1]), N(a[1]), false, 0, &found,
                         &so, &eo, &sso, &seo, &nsub, err);
    if (rc)
        return rc;
    if (!found || (nsub > 0 && sso < 0)) {
        *out = sql_value_null(DC_TYPE_TEXT);
        return DC_OK;
    }
    if (nsub > 0)
        return ret_slice(&a[0], (size_t)sso, (size_t)(seo - sso), out);
    return ret_slice(&a[0], so, eo - so, out);
}

/* Byte offset of the first occurrence of needle in hay, or -1. */
static long find_bytes(const uint8_t *h, size_t hn, const uint8_t *nd,
                       size_t nn, size_t from)
{
    if (nn == 0)
        return (long)from;
    for (size_t i = from; i + nn <= hn; i++)
        if (h[i] == nd[0] && !memcmp(h + i, nd, nn))
            return (long)i;
    return -1;
}

static int f_position(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                      dc_error *err)
{
    UNUSED;
    long at = find_bytes(P(a[0]), N(a[0]), P(a[1]), N(a[1]), 0);
    int64_t pos = 0;
    if (at >= 0)
        pos = a[0].type == DC_TYPE_BYTEA
                  ? at + 1
                  : (int64_t)sql_utf8_len(P(a[0]), (size_t)at) + 1;
    *out = sql_value_int(DC_TYPE_INT4, pos);
    return DC_OK;
}

static int f_starts_with(sql_ctx *ctx, int nargs, const dc_value *a,
                         dc_value *out, dc_error *err)
{
    UNUSED;
    *out = sql_value_bool(N(a[0]) >= N(a[1]) &&
                          (N(a[1]) == 0 || !memcmp(P(a[0]), P(a[1]), N(a[1]))));
    return DC_OK;
}

/* ---- trim -------------------------------------------------------------- */

/* Length of the UTF-8 character at s[i]. */
static size_t clen(const uint8_t *s, size_t i, size_t n)
{
    size_t j = i + 1;
    while (j < n && (s[j] & 0xC0) == 0x80)
        j++;
    return j - i;
}

/* Is the character s[0..k) one of the characters of set? */
static bool in_set(const uint8_t *c, size_t k, const uint8_t *set, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t l = clen(set, i, n);
        if (l == k && !memcmp(set + i, c, k))
            return true;
        i += l;
    }
    return false;
}

static int trim_impl(const dc_value *a, int nargs, bool left, bool right,
                     dc_value *out)
{
    const uint8_t *s = P(a[0]);
    size_t n = N(a[0]);
    const uint8_t *set = nargs > 1 ? P(a[1]) : (const uint8_t *)" ";
    size_t sn = nargs > 1 ? N(a[1]) : 1;
    size_t b = 0, e = n;
    if (left)
        while (b < e) {
            size_t l = clen(s, b, e);
            if (!in_set(s + b, l, set, sn))
                break;
            b += l;
        }
    if (right)
        while (e > b) {
            size_t st = e - 1;
            while (st > b && (s[st] & 0xC0) == 0x80)
                st--;
            if (!in_set(s + st, e - st, set, sn))
                break;
            e = st;
        }
    return ret_slice(&a[0], b, e - b, out);
}

static int f_btrim(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                   dc_error *err)
{
    (void)ctx, (void)err;
    return trim_impl(a, nargs, true, true, out);
}

static int f_ltrim(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                   dc_error *err)
{
    (void)ctx, (void)err;
    return trim_impl(a, nargs, true, false, out);
}

static int f_rtrim(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                   dc_error *err)
{
    (void)ctx, (void)err;
    return trim_impl(a, nargs, false, true, out);
}

/* ---- replace / overlay / translate --------------------------------------- */

static int f_replace(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    (void)nargs;
    if (N(a[1]) == 0 || N(a[0]) == 0) {
        *out = a[0];
        out->type = DC_TYPE_TEXT;
        return DC_OK;
    }
    sql_buf b;
    sql_buf_init(&b);
    size_t i = 0;
    int rc = DC_OK;
    for (;;) {
        long at = find_bytes(P(a[0]), N(a[0]), P(a[1]), N(a[1]), i);
        size_t stop = at < 0 ? N(a[0]) : (size_t)at;
        rc = sql_buf_append(&b, P(a[0]) + i, stop - i, err);
        if (rc || at < 0)
            break;
        rc = sql_buf_append(&b, P(a[2]), N(a[2]), err);
        if (rc)
            break;
        i = stop + N(a[1]);
    }
    if (rc) {
        sql_buf_free(&b);
        return rc;
    }
    return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &b, out, err);
}

/* overlay(s PLACING r FROM start [FOR count]) =
 * substr(s, 1, start-1) || r || substr(s, start+count) */
static int f_overlay(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    int64_t start = a[2].u.i;
    int64_t count = nargs > 3 ? a[3].u.i
                              : (a[1].type == DC_TYPE_BYTEA
                                     ? (int64_t)N(a[1])
                                     : (int64_t)sql_utf8_len(P(a[1]), N(a[1])));
    if (start <= 0)
        return dc_error_set(err, DC_EINVAL, "22011",
                            "negative substring length not allowed");
    dc_value head, tail;
    int64_t sp;
    if (__builtin_add_overflow(start, count, &sp))
        return dc_error_set(err, DC_ERANGE, "22003", "integer out of range");
    int rc = substr_chars(&a[0], 1, start - 1, true, &head, err);
    if (rc == DC_OK)
        rc = substr_chars(&a[0], sp, 0, false, &tail, err);
    if (rc)
        return rc;
    size_t n = N(head) + N(a[1]) + N(tail);
    uint8_t *d = sql_fx_alloc(ctx, n, err);
    if (!d)
        return DC_ENOMEM;
    memcpy(d, P(head), N(head));
    memcpy(d + N(head), P(a[1]), N(a[1]));
    memcpy(d + N(head) + N(a[1]), P(tail), N(tail));
    *out = sql_value_bytes(
        a[0].type == DC_TYPE_BYTEA ? DC_TYPE_BYTEA : DC_TYPE_TEXT, d, n);
    return DC_OK;
}

static int f_translate(sql_ctx *ctx, int nargs, const dc_value *a,
                       dc_value *out, dc_error *err)
{
    (void)nargs;
    sql_buf b;
    sql_buf_init(&b);
    const uint8_t *s = P(a[0]), *from = P(a[1]), *to = P(a[2]);
    size_t n = N(a[0]), fn = N(a[1]), tn = N(a[2]);
    int rc = DC_OK;
    for (size_t i = 0; i < n && rc == DC_OK;) {
        size_t l = clen(s, i, n);
        /* index of this character in `from` */
        size_t k = 0, fi = 0;
        bool hit = false;
        while (fi < fn) {
            size_t fl = clen(from, fi, fn);
            if (fl == l && !memcmp(from + fi, s + i, l)) {
                hit = true;
                break;
            }
            fi += fl;
            k++;
        }
        if (!hit) {
            rc = sql_buf_append(&b, s + i, l, err);
        } else {
            size_t to_off = sql_utf8_off(to, tn, k);
            if (to_off < tn)
                rc = sql_buf_append(&b, to + to_off, clen(to, to_off, tn), err);
        }
        i += l;
    }
    if (rc) {
        sql_buf_free(&b);
        return rc;
    }
    return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &b, out, err);
}

/* ---- left / right / pad / repeat / reverse ------------------------------- */

static int f_left(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                  dc_error *err)
{
    UNUSED;
    int64_t k = a[1].u.i;
    size_t len = sql_utf8_len(P(a[0]), N(a[0]));
    size_t take = k >= 0 ? ((uint64_t)k < len ? (size_t)k : len)
                         : ((uint64_t)-k < len ? len - (size_t)-k : 0);
    return ret_slice(&a[0], 0, sql_utf8_off(P(a[0]), N(a[0]), take), out);
}

static int f_right(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                   dc_error *err)
{
    UNUSED;
    int64_t k = a[1].u.i;
    size_t len = sql_utf8_len(P(a[0]), N(a[0]));
    size_t take = k >= 0 ? ((uint64_t)k < len ? (size_t)k : len)
                         : ((uint64_t)-k < len ? len - (size_t)-k : 0);
    size_t off = sql_utf8_off(P(a[0]), N(a[0]), len - take);
    return ret_slice(&a[0], off, N(a[0]) - off, out);
}

static int pad(sql_ctx *ctx, int nargs, const dc_value *a, bool left,
               dc_value *out, dc_error *err)
{
    int64_t want = a[1].u.i;
    const uint8_t *fill = nargs > 2 ? P(a[2]) : (const uint8_t *)" ";
    size_t fn = nargs > 2 ? N(a[2]) : 1;
    if (want <= 0)
        return ret_slice(&a[0], 0, 0, out);
    size_t len = sql_utf8_len(P(a[0]), N(a[0]));
    if ((uint64_t)want <= len || fn == 0) {
        size_t k = (uint64_t)want < len ? (size_t)want : len;
        return ret_slice(&a[0], 0, sql_utf8_off(P(a[0]), N(a[0]), k), out);
    }
    if (want > (1 << 28))
        return too_large(err);
    size_t need = (size_t)want - len;
    size_t fchars = sql_utf8_len(fill, fn);
    sql_buf b;
    sql_buf_init(&b);
    int rc = DC_OK;
    if (!left)
        rc = sql_buf_append(&b, P(a[0]), N(a[0]), err);
    while (need > 0 && rc == DC_OK) {
        size_t k = need < fchars ? need : fchars;
        rc = sql_buf_append(&b, fill, sql_utf8_off(fill, fn, k), err);
        need -= k;
    }
    if (left && rc == DC_OK)
        rc = sql_buf_append(&b, P(a[0]), N(a[0]), err);
    if (rc) {
        sql_buf_free(&b);
        return rc;
    }
    return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &b, out, err);
}

static int f_lpad(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                  dc_error *err)
{
    return pad(ctx, nargs, a, true, out, err);
}

static int f_rpad(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                  dc_error *err)
{
    return pad(ctx, nargs, a, false, out, err);
}

static int f_repeat(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                    dc_error *err)
{
    (void)nargs;
    int64_t k = a[1].u.i;
    if (k <= 0 || N(a[0]) == 0)
        return ret_slice(&a[0], 0, 0, out);
    if ((uint64_t)k > (size_t)(1 << 30) / N(a[0]))
        return too_large(err);
    size_t n = N(a[0]) * (size_t)k;
    uint8_t *d = sql_fx_alloc(ctx, n, err);
    if (!d)
        return DC_ENOMEM;
    for (int64_t i = 0; i < k; i++)
        memcpy(d + (size_t)i * N(a[0]), P(a[0]), N(a[0]));
    *out = sql_value_bytes(DC_TYPE_TEXT, d, n);
    return DC_OK;
}

static int f_reverse(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    (void)nargs;
    size_t n = N(a[0]);
    uint8_t *d = sql_fx_alloc(ctx, n, err);
    if (!d)
        return DC_ENOMEM;
    const uint8_t *s = P(a[0]);
    for (size_t i = 0; i < n;) {
        size_t l = clen(s, i, n);
        memcpy(d + n - i - l, s + i, l);
        i += l;
    }
    *out = sql_value_bytes(DC_TYPE_TEXT, d, n);
    return DC_OK;
}

/* split_part(s, delim, n): n < 0 counts from the end. */
static int f_split_part(sql_ctx *ctx, int nargs, const dc_value *a,
                        dc_value *out, dc_error *err)
{
    (void)ctx, (void)nargs;
    int64_t k = a[2].u.i;
    if (k == 0)
        return dc_error_set(err, DC_EINVAL, "22023",
                            "field position must not be zero");
    const uint8_t *s = P(a[0]), *d = P(a[1]);
    size_t n = N(a[0]), dn = N(a[1]);
    if (n == 0)
        return ret_slice(&a[0], 0, 0, out);
    if (dn == 0)
        return k == 1 || k == -1 ? ret_slice(&a[0], 0, n, out)
                                 : ret_slice(&a[0], 0, 0, out);
    /* field boundaries */
    size_t nf = 1;
    for (long at = find_bytes(s, n, d, dn, 0); at >= 0;
         at = find_bytes(s, n, d, dn, (size_t)at + dn))
        nf++;
    if (k < 0)
        k = (int64_t)nf + k + 1;
    if (k < 1 || (uint64_t)k > nf)
        return ret_slice(&a[0], 0, 0, out);
    size_t start = 0;
    for (int64_t f = 1; f < k; f++)
        start = (size_t)find_bytes(s, n, d, dn, start) + dn;
    long end = find_bytes(s, n, d, dn, start);
    return ret_slice(&a[0], start, (end < 0 ? n : (size_t)end) - start, out);
}

static int f_ascii(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                   dc_error *err)
{
    UNUSED;
    const uint8_t *s = P(a[0]);
    size_t n = N(a[0]);
    int64_t cp = 0;
    if (n > 0) {
        size_t l = clen(s, 0, n);
        cp = l == 1 ? s[0] : s[0] & (0x7F >> l);
        for (size_t i = 1; i < l; i++)
            cp = (cp << 6) | (s[i] & 0x3F);
    }
    *out = sql_value_int(DC_TYPE_INT4, cp);
    return DC_OK;
}

static int f_chr(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                 dc_error *err)
{
    (void)nargs;
    int64_t c = a[0].u.i;
    if (c < 0)
        return dc_error_set(err, DC_EINVAL, "22023",
                            "character number must be positive");
    if (c == 0)
        return dc_error_set(err, DC_EINVAL, "54000",
                            "null character not permitted");
    if (c >= 0xD800 && c <= 0xDFFF)
        return dc_error_set(err, DC_EINVAL, "54000",
                            "requested character not valid for encoding: "
                            "%lld",
                            (long long)c);
    if (c > 0x10FFFF)
        return dc_error_set(err, DC_EINVAL, "54000",
                            "requested character too large for encoding: %lld",
                            (long long)c);
    uint8_t b[4];
    size_t n;
    if (c < 0x80) {
        b[0] = (uint8_t)c;
        n = 1;
    } else if (c < 0x800) {
        b[0] = (uint8_t)(0xC0 | (c >> 6));
        b[1] = (uint8_t)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        b[0] = (uint8_t)(0xE0 | (c >> 12));
        b[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        b[2] = (uint8_t)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xF0 | (c >> 18));
        b[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
        b[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        b[3] = (uint8_t)(0x80 | (c & 0x3F));
        n = 4;
    }
    return ret_text(ctx, b, n, out, err);
}

static int f_to_hex(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                    dc_error *err)
{
    (void)nargs;
    char buf[32];
    uint64_t v =
        a[0].type == DC_TYPE_INT4 ? (uint32_t)a[0].u.i : (uint64_t)a[0].u.i;
    int n = snprintf(buf, sizeof buf, "%llx", (unsigned long long)v);
    return ret_text(ctx, buf, (size_t)n, out, err);
}

static int f_quote_ident(sql_ctx *ctx, int nargs, const dc_value *a,
                         dc_value *out, dc_error *err)
{
    (void)nargs;
    const uint8_t *s = P(a[0]);
    size_t n = N(a[0]);
    bool safe = n > 0 && (islower(s[0]) || s[0] == '_');
    for (size_t i = 0; i < n && safe; i++)
        safe = islower(s[i]) || isdigit(s[i]) || s[i] == '_';
    if (safe && n < 64) {
        /* keywords other than unreserved ones need quotes too */
        char w[64];
        memcpy(w, s, n);
        w[n] = 0;
        safe = sql_keyword_category(w) == SQL_KW_NONE;
    }
    if (safe)
        return ret_slice(&a[0], 0, n, out);
    sql_buf b;
    sql_buf_init(&b);
    int rc = sql_buf_append(&b, "\"", 1, err);
    for (size_t i = 0; i < n && rc == DC_OK; i++)
        rc = sql_buf_append(&b, s[i] == '"' ? "\"\"" : (const char *)s + i,
                            s[i] == '"' ? 2 : 1, err);
    if (rc == DC_OK)
        rc = sql_buf_append(&b, "\"", 1, err);
    if (rc) {
        sql_buf_free(&b);
        return rc;
    }
    return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &b, out, err);
}

static int f_quote_literal(sql_ctx *ctx, int nargs, const dc_value *a,
                           dc_value *out, dc_error *err)
{
    (void)nargs;
    const uint8_t *s = P(a[0]);
    size_t n = N(a[0]);
    bool bs = memchr(s, '\\', n) != NULL;
    sql_buf b;
    sql_buf_init(&b);
    int rc = sql_buf_append(&b, bs ? "E'" : "'", bs ? 2 : 1, err);
    for (size_t i = 0; i < n && rc == DC_OK; i++) {
        if (s[i] == '\'' || s[i] == '\\')
            rc = sql_buf_append(&b, s + i, 1, err);
        if (rc == DC_OK)
            rc = sql_buf_append(&b, s + i, 1, err);
    }
    if (rc == DC_OK)
        rc = sql_buf_append(&b, "'", 1, err);
    if (rc) {
        sql_buf_free(&b);
        return rc;
    }
    return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &b, out, err);
}

/* ---- LIKE ESCAPE / SIMILAR TO / regexp_replace --------------------------- */

/* like_escape(pattern, escape): the pattern rewritten for the default
 * escape '\', so that `x LIKE p ESCAPE e` is `x ~~ like_escape(p, e)`. */
static int f_like_escape(sql_ctx *ctx, int nargs, const dc_value *a,
                         dc_value *out, dc_error *err)
{
    (void)nargs;
    size_t en = N(a[1]);
    if (en > 0 && clen(P(a[1]), 0, en) != en) {
        dc_error_set(err, DC_EINVAL, "22025", "invalid escape string");
        dc_error_hint(err, "Escape string must be empty or one character.");
        return DC_EINVAL;
    }
    if (en == 1 && P(a[1])[0] == '\\')
        return ret_slice(&a[0], 0, N(a[0]), out);
    const uint8_t *p = P(a[0]);
    size_t n = N(a[0]);
    sql_buf b;
    sql_buf_init(&b);
    int rc = DC_OK;
    for (size_t i = 0; i < n && rc == DC_OK;) {
        size_t l = clen(p, i, n);
        if (en > 0 && l == en && !memcmp(p + i, P(a[1]), en)) {
            /* the escape: the next character is literal */
            rc = sql_buf_append(&b, "\\", 1, err);
            i += l;
            if (i < n) {
                l = clen(p, i, n);
                if (rc == DC_OK)
                    rc = sql_buf_append(&b, p + i, l, err);
                i += l;
            }
            continue;
        }
        if (p[i] == '\\')
            rc = sql_buf_append(&b, "\\", 1, err);
        if (rc == DC_OK)
            rc = sql_buf_append(&b, p + i, l, err);
        i += l;
    }
    if (rc) {
        sql_buf_free(&b);
        return rc;
    }
    return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &b, out, err);
}

/* similar_to_escape(pattern [, escape]): SIMILAR TO pattern as a POSIX
 * regex anchored at both ends, so `x SIMILAR TO p` is
 * `x ~ similar_to_escape(p)`. */
static int f_similar_escape(sql_ctx *ctx, int nargs, const dc_value *a,
                            dc_value *out, dc_error *err)
{
    int esc = '\\';
    if (nargs > 1) {
        if (N(a[1]) == 0)
            esc = -1;
        else if (N(a[1]) != 1) {
            dc_error_set(err, DC_EINVAL, "22025", "invalid escape string");
            dc_error_hint(err, "Escape string must be empty or one character.");
            return DC_EINVAL;
        } else
            esc = P(a[1])[0];
    }
    const uint8_t *p = P(a[0]);
    size_t n = N(a[0]);
    sql_buf b;
    sql_buf_init(&b);
    int rc = sql_buf_append(&b, "^(?:", 4, err);
    bool in_br = false;
    for (size_t i = 0; i < n && rc == DC_OK; i++) {
        uint8_t c = p[i];
        if (esc >= 0 && c == esc) {
            if (i + 1 < n) {
                uint8_t d = p[++i];
                if (isalnum(d))
                    rc = sql_buf_append(&b, &d, 1, err);
                else {
                    rc = sql_buf_append(&b, "\\", 1, err);
                    if (rc == DC_OK)
                        rc = sql_buf_append(&b, &d, 1, err);
                }
            }
        } else if (in_br) {
            if (c == ']')
                in_br = false;
            rc = sql_buf_append(&b, &c, 1, err);
        } else if (c == '[') {
            in_br = true;
            rc = sql_buf_append(&b, &c, 1, err);
        } else if (c == '%') {
            rc = sql_buf_append(&b, ".*", 2, err);
        } else if (c == '_') {
            rc = sql_buf_append(&b, ".", 1, err);
        } else if (c == '.' || c == '^' || c == '$' || c == '\\') {
            rc = sql_buf_append(&b, "\\", 1, err);
            if (rc == DC_OK)
                rc = sql_buf_append(&b, &c, 1, err);
        } else {
            rc = sql_buf_append(&b, &c, 1, err);
        }
    }
    if (rc == DC_OK)
        rc = sql_buf_append(&b, ")$", 2, err);
    if (rc) {
        sql_buf_free(&b);
        return rc;
    }
    return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &b, out, err);
}

/* regexp_replace(s, pattern, replacement [, flags]): flags 'g' (all
 * matches) and 'i' (case-insensitive); \1..\9 and \& in the replacement. */
static int f_regexp_replace(sql_ctx *ctx, int nargs, const dc_value *a,
                            dc_value *out, dc_error *err)
{
    bool global = false, icase = false;
    if (nargs > 3)
        for (size_t i = 0; i < N(a[3]); i++) {
            uint8_t f = P(a[3])[i];
            if (f == 'g')
                global = true;
            else if (f == 'i')
                icase = true;
            else if (f != 'c')
                return dc_error_set(err, DC_EINVAL, "22023",
                                    "invalid regular expression option: "
                                    "\"%c\"",
                                    f);
        }
    const uint8_t *s = P(a[0]);
    size_t n = N(a[0]), pos = 0;
    sql_buf b;
    sql_buf_init(&b);
    int rc = DC_OK;
    while (pos <= n) {
        bool found;
        size_t so, eo;
        long sso, seo;
        rc = sql_rx_find(s, n, P(a[1]), N(a[1]), icase, pos, &found, &so, &eo,
                         &sso, &seo, NULL, err);
        if (rc || !found)
            break;
        rc = sql_buf_append(&b, s + pos, so - pos, err);
        const uint8_t *r = P(a[2]);
        for (size_t i = 0; i < N(a[2]) && rc == DC_OK; i++) {
            if (r[i] == '\\' && i + 1 < N(a[2])) {
                uint8_t d = r[++i];
                if (d == '&')
                    rc = sql_buf_append(&b, s + so, eo - so, err);
                else if (d == '1' && sso >= 0)
                    rc = sql_buf_append(&b, s + sso, (size_t)(seo - sso), err);
                else if (d >= '2' && d <= '9')
                    ; /* only the first subexpression is tracked */
                else if (d != '1')
                    rc = sql_buf_append(&b, &d, 1, err);
                continue;
            }
            rc = sql_buf_append(&b, r + i, 1, err);
        }
        if (eo == so) {
            if (so < n && rc == DC_OK)
                rc = sql_buf_append(&b, s + so, clen(s, so, n), err);
            pos = so < n ? so + clen(s, so, n) : n + 1;
        } else {
            pos = eo;
        }
        if (!global || rc)
            break;
    }
    if (rc == DC_OK && pos < n)
        rc = sql_buf_append(&b, s + pos, n - pos, err);
    if (rc) {
        sql_buf_free(&b);
        return rc;
    }
    return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &b, out, err);
}

/* ---- encode / decode (hex, base64, escape) --------------------------------
 */

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

typedef enum { ENC_NONE, ENC_HEX, ENC_BASE64, ENC_ESCAPE } enc_kind;

static enc_kind enc_lookup(const dc_value *v, dc_error *err)
{
    const char *names[] = {"hex", "base64", "escape"};
    for (int k = 0; k < 3; k++) {
        size_t n = strlen(names[k]);
        if (N(*v) == n && !strncasecmp((const char *)P(*v), names[k], n))
            return (enc_kind)(k + 1);
    }
    dc_error_set(err, DC_EINVAL, "22023", "unrecognized encoding: \"%.*s\"",
                 (int)(N(*v) > 100 ? 100 : N(*v)), (const char *)P(*v));
    return ENC_NONE;
}

static int enc_hex(const uint8_t *s, size_t n, sql_buf *b, dc_error *err)
{
    static const char hx[] = "0123456789abcdef";
    int rc = DC_OK;
    for (size_t i = 0; i < n && rc == DC_OK; i++) {
        char two[2] = {hx[s[i] >> 4], hx[s[i] & 15]};
        rc = sql_buf_append(b, two, 2, err);
    }
    return rc;
}

static int enc_base64(const uint8_t *s, size_t n, sql_buf *b, dc_error *err)
{
    int rc = DC_OK;
    size_t line = 0;
    for (size_t i = 0; i < n && rc == DC_OK; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        char q[4] = {b64_chars[v >> 18], b64_chars[(v >> 12) & 63],
                     i + 1 < n ? b64_chars[(v >> 6) & 63] : '=',
                     i + 2 < n ? b64_chars[v & 63] : '='};
        if (line == 76) {
            rc = sql_buf_append(b, "\n", 1, err);
            line = 0;
        }
        if (rc == DC_OK)
            rc = sql_buf_append(b, q, 4, err);
        line += 4;
    }
    return rc;
}

static int enc_escape(const uint8_t *s, size_t n, sql_buf *b, dc_error *err)
{
    int rc = DC_OK;
    for (size_t i = 0; i < n && rc == DC_OK; i++) {
        if (s[i] == 0 || s[i] >= 0x80) {
            char o[5];
            snprintf(o, sizeof o, "\\%03o", s[i]);
            rc = sql_buf_append(b, o, 4, err);
        } else if (s[i] == '\\') {
            rc = sql_buf_append(b, "\\\\", 2, err);
        } else {
            rc = sql_buf_append(b, s + i, 1, err);
        }
    }
    return rc;
}

static int f_encode(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                    dc_error *err)
{
    (void)nargs;
    enc_kind k = enc_lookup(&a[1], err);
    if (k == ENC_NONE)
        return DC_EINVAL;
    sql_buf b;
    sql_buf_init(&b);
    int rc = k == ENC_HEX      ? enc_hex(P(a[0]), N(a[0]), &b, err)
             : k == ENC_BASE64 ? enc_base64(P(a[0]), N(a[0]), &b, err)
                               : enc_escape(P(a[0]), N(a[0]), &b, err);
    if (rc) {
        sql_buf_free(&b);
        return rc;
    }
    return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &b, out, err);
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int dec_hex(const uint8_t *s, size_t n, sql_buf *b, dc_error *err)
{
    int rc = DC_OK;
    for (size_t i = 0; i < n && rc == DC_OK;) {
        if (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
            i++;
            continue;
        }
        int hi = hexval(s[i]);
        if (hi < 0)
            return dc_error_set(err, DC_EINVAL, "22023",
                                "invalid hexadecimal digit: \"%c\"", s[i]);
        if (i + 1 >= n)
            return dc_error_set(err, DC_EINVAL, "22023",
                                "invalid hexadecimal data: odd number of "
                                "digits");
        int lo = hexval(s[i + 1]);
        if (lo < 0)
            return dc_error_set(err, DC_EINVAL, "22023",
                                "invalid hexadecimal digit: \"%c\"", s[i + 1]);
        uint8_t byte = (uint8_t)(hi << 4 | lo);
        rc = sql_buf_append(b, &byte, 1, err);
        i += 2;
    }
    return rc;
}

static int b64_end_error(dc_error *err)
{
    dc_error_set(err, DC_EINVAL, "22023", "invalid base64 end sequence");
    dc_error_hint(err, "Input data is missing padding, is truncated, or is "
                       "otherwise corrupted.");
    return DC_EINVAL;
}

static int dec_base64(const uint8_t *s, size_t n, sql_buf *b, dc_error *err)
{
    uint32_t acc = 0;
    int have = 0, pad = 0, rc = DC_OK;
    for (size_t i = 0; i < n && rc == DC_OK; i++) {
        uint8_t c = s[i];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
            continue;
        if (c == '=') {
            pad++;
            if (have + pad > 4 || have < 2)
                return b64_end_error(err);
            continue;
        }
        const char *q = c ? strchr(b64_chars, c) : NULL;
        if (!q || pad)
            return pad ? b64_end_error(err)
                       : dc_error_set(err, DC_EINVAL, "22023",
                                      "invalid symbol \"%c\" found while "
                                      "decoding base64 sequence",
                                      c);
        acc = acc << 6 | (uint32_t)(q - b64_chars);
        if (++have == 4) {
            uint8_t t[3] = {(uint8_t)(acc >> 16), (uint8_t)(acc >> 8),
                            (uint8_t)acc};
            rc = sql_buf_append(b, t, 3, err);
            have = 0;
            acc = 0;
        }
    }
    if (rc)
        return rc;
    if (have == 0 && pad == 0)
        return DC_OK;
    if (have + pad != 4)
        return b64_end_error(err);
    acc <<= 6 * (4 - have);
    uint8_t t[2] = {(uint8_t)(acc >> 16), (uint8_t)(acc >> 8)};
    return sql_buf_append(b, t, (size_t)(have - 1), err);
}

static int dec_escape(const uint8_t *s, size_t n, sql_buf *b, dc_error *err)
{
    int rc = DC_OK;
    for (size_t i = 0; i < n && rc == DC_OK;) {
        if (s[i] != '\\') {
            rc = sql_buf_append(b, s + i, 1, err);
            i++;
        } else if (i + 1 < n && s[i + 1] == '\\') {
            rc = sql_buf_append(b, "\\", 1, err);
            i += 2;
        } else if (i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
                   s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' &&
                   s[i + 3] <= '7') {
            uint8_t v = (uint8_t)((s[i + 1] - '0') << 6 |
                                  (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
            rc = sql_buf_append(b, &v, 1, err);
            i += 4;
        } else {
            return dc_error_set(err, DC_EINVAL, "22P02",
                                "invalid input syntax for type bytea");
        }
    }
    return rc;
}

static int f_decode(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                    dc_error *err)
{
    (void)nargs;
    enc_kind k = enc_lookup(&a[1], err);
    if (k == ENC_NONE)
        return DC_EINVAL;
    sql_buf b;
    sql_buf_init(&b);
    int rc = k == ENC_HEX      ? dec_hex(P(a[0]), N(a[0]), &b, err)
             : k == ENC_BASE64 ? dec_base64(P(a[0]), N(a[0]), &b, err)
                               : dec_escape(P(a[0]), N(a[0]), &b, err);
    if (rc) {
        sql_buf_free(&b);
        return rc;
    }
    return sql_fx_text_buf(ctx, DC_TYPE_BYTEA, &b, out, err);
}

/* ---- md5 (RFC 1321) ------------------------------------------------------ */

typedef struct md5_ctx {
    uint32_t h[4];
    uint64_t len;
    uint8_t buf[64];
    size_t n;
} md5_ctx;

static const uint32_t md5_k[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
    0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
    0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
    0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
    0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
    0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
    0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
static const uint8_t md5_r[64] = {
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
    5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static void md5_block(md5_ctx *c, const uint8_t *p)
{
    uint32_t w[16];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[i * 4] | (uint32_t)p[i * 4 + 1] << 8 |
               (uint32_t)p[i * 4 + 2] << 16 | (uint32_t)p[i * 4 + 3] << 24;
    uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g;
        if (i < 16) {
            f = (b & cc) | (~b & d);
            g = i;
        } else if (i < 32) {
            f = (d & b) | (~d & cc);
            g = (5 * i + 1) % 16;
        } else if (i < 48) {
            f = b ^ cc ^ d;
            g = (3 * i + 5) % 16;
        } else {
            f = cc ^ (b | ~d);
            g = (7 * i) % 16;
        }
        uint32_t t = d;
        d = cc;
        cc = b;
        uint32_t x = a + f + md5_k[i] + w[g];
        b = b + ((x << md5_r[i]) | (x >> (32 - md5_r[i])));
        a = t;
    }
    c->h[0] += a;
    c->h[1] += b;
    c->h[2] += cc;
    c->h[3] += d;
}

static void md5_update(md5_ctx *c, const uint8_t *p, size_t n)
{
    c->len += n;
    while (n > 0) {
        size_t k = 64 - c->n < n ? 64 - c->n : n;
        memcpy(c->buf + c->n, p, k);
        c->n += k;
        p += k;
        n -= k;
        if (c->n == 64) {
            md5_block(c, c->buf);
            c->n = 0;
        }
    }
}

static void md5_hex(const uint8_t *p, size_t n, char hex[33])
{
    md5_ctx c = {{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476}, 0, {0}, 0};
    md5_update(&c, p, n);
    uint64_t bits = c.len * 8;
    uint8_t padb[72] = {0x80};
    size_t padn = (c.n < 56 ? 56 : 120) - c.n;
    md5_update(&c, padb, padn);
    uint8_t lb[8];
    for (int i = 0; i < 8; i++)
        lb[i] = (uint8_t)(bits >> (8 * i));
    md5_update(&c, lb, 8);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x",
                 (unsigned)(c.h[i / 4] >> (8 * (i % 4))) & 0xFF);
}

static int f_md5(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                 dc_error *err)
{
    (void)nargs;
    char hex[33];
    md5_hex(P(a[0]), N(a[0]), hex);
    return ret_text(ctx, hex, 32, out, err);
}

/* ---- the table ------------------------------------------------------------
 */

const sql_fcand sql_str_func_table[] = {
    {"length", 1, {TX}, I4, f_length, S},
    {"length", 1, {BP}, I4, f_length, S},
    {"length", 1, {BY}, I4, f_length, S},
    {"char_length", 1, {TX}, I4, f_length, S},
    {"char_length", 1, {BP}, I4, f_length, S},
    {"character_length", 1, {TX}, I4, f_length, S},
    {"character_length", 1, {BP}, I4, f_length, S},
    {"octet_length", 1, {TX}, I4, f_octet_length, S},
    {"octet_length", 1, {BP}, I4, f_octet_length, S},
    {"octet_length", 1, {BY}, I4, f_octet_length, S},
    {"lower", 1, {TX}, TX, f_lower, S},
    {"upper", 1, {TX}, TX, f_upper, S},
    {"initcap", 1, {TX}, TX, f_initcap, S},
    {"substring", 3, {TX, I4, I4}, TX, f_substr, S},
    {"substring", 2, {TX, I4}, TX, f_substr, S},
    {"substring", 3, {BY, I4, I4}, BY, f_substr, S},
    {"substring", 2, {BY, I4}, BY, f_substr, S},
    {"substring", 2, {TX, TX}, TX, f_substr_rx, S},
    {"substr", 3, {TX, I4, I4}, TX, f_substr, S},
    {"substr", 2, {TX, I4}, TX, f_substr, S},
    {"substr", 3, {BY, I4, I4}, BY, f_substr, S},
    {"substr", 2, {BY, I4}, BY, f_substr, S},
    {"position", 2, {TX, TX}, I4, f_position, S},
    {"position", 2, {BY, BY}, I4, f_position, S},
    {"strpos", 2, {TX, TX}, I4, f_position, S},
    {"starts_with", 2, {TX, TX}, B, f_starts_with, S},
    {"btrim", 1, {TX}, TX, f_btrim, S},
    {"btrim", 2, {TX, TX}, TX, f_btrim, S},
    {"ltrim", 1, {TX}, TX, f_ltrim, S},
    {"ltrim", 2, {TX, TX}, TX, f_ltrim, S},
    {"rtrim", 1, {TX}, TX, f_rtrim, S},
    {"rtrim", 2, {TX, TX}, TX, f_rtrim, S},
    {"replace", 3, {TX, TX, TX}, TX, f_replace, S},
    {"overlay", 4, {TX, TX, I4, I4}, TX, f_overlay, S},
    {"overlay", 3, {TX, TX, I4}, TX, f_overlay, S},
    {"overlay", 4, {BY, BY, I4, I4}, BY, f_overlay, S},
    {"overlay", 3, {BY, BY, I4}, BY, f_overlay, S},
    {"translate", 3, {TX, TX, TX}, TX, f_translate, S},
    {"left", 2, {TX, I4}, TX, f_left, S},
    {"right", 2, {TX, I4}, TX, f_right, S},
    {"lpad", 3, {TX, I4, TX}, TX, f_lpad, S},
    {"lpad", 2, {TX, I4}, TX, f_lpad, S},
    {"rpad", 3, {TX, I4, TX}, TX, f_rpad, S},
    {"rpad", 2, {TX, I4}, TX, f_rpad, S},
    {"repeat", 2, {TX, I4}, TX, f_repeat, S},
    {"reverse", 1, {TX}, TX, f_reverse, S},
    {"split_part", 3, {TX, TX, I4}, TX, f_split_part, S},
    {"ascii", 1, {TX}, I4, f_ascii, S},
    {"chr", 1, {I4}, TX, f_chr, S},
    {"to_hex", 1, {I4}, TX, f_to_hex, S},
    {"to_hex", 1, {I8}, TX, f_to_hex, S},
    {"quote_ident", 1, {TX}, TX, f_quote_ident, S},
    {"quote_literal", 1, {TX}, TX, f_quote_literal, S},
    {"encode", 2, {BY, TX}, TX, f_encode, S},
    {"decode", 2, {TX, TX}, BY, f_decode, S},
    {"md5", 1, {TX}, TX, f_md5, S},
    {"md5", 1, {BY}, TX, f_md5, S},
    {"like_escape", 2, {TX, TX}, TX, f_like_escape, S},
    {"similar_to_escape", 1, {TX}, TX, f_similar_escape, S},
    {"similar_to_escape", 2, {TX, TX}, TX, f_similar_escape, S},
    {"regexp_replace", 3, {TX, TX, TX}, TX, f_regexp_replace, S},
    {"regexp_replace", 4, {TX, TX, TX, TX}, TX, f_regexp_replace, S},
    {NULL, 0, {0}, 0, NULL, 0},
};
