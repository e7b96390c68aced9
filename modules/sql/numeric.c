/*
 * sql/numeric.c - arbitrary-precision decimal arithmetic (see numeric.h).
 *
 * Coefficients are little-endian base-10 digit arrays; the algorithms are
 * the schoolbook ones (quadratic), ample for PostgreSQL's 1000-digit
 * display limits.
 */
#include "sql/numeric.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- storage ------------------------------------------------------------ */

void sql_num_init(sql_num *n)
{
    memset(n, 0, sizeof(*n));
}

void sql_num_free(sql_num *n)
{
    free(n->digits);
    sql_num_init(n);
}

static int oom(dc_error *err)
{
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
}

/* Ensure capacity for `need` digits, keeping contents. */
static int num_reserve(sql_num *n, int need, dc_error *err)
{
    if (need <= n->cap)
        return DC_OK;
    int cap = n->cap ? n->cap : 16;
    while (cap < need)
        cap *= 2;
    uint8_t *d = realloc(n->digits, (size_t)cap);
    if (d == NULL)
        return oom(err);
    memset(d + n->cap, 0, (size_t)(cap - n->cap));
    n->digits = d;
    n->cap = cap;
    return DC_OK;
}

/* Strip leading (most significant) zero digits; fix zero's sign. */
static void num_norm(sql_num *n)
{
    while (n->ndigits > 0 && n->digits[n->ndigits - 1] == 0)
        n->ndigits--;
    if (n->ndigits == 0)
        n->neg = 0;
}

int sql_num_copy(sql_num *dst, const sql_num *src, dc_error *err)
{
    if (dst == src)
        return DC_OK;
    int rc = num_reserve(dst, src->ndigits, err);
    if (rc)
        return rc;
    if (src->ndigits)
        memcpy(dst->digits, src->digits, (size_t)src->ndigits);
    dst->kind = src->kind;
    dst->neg = src->neg;
    dst->scale = src->scale;
    dst->ndigits = src->ndigits;
    return DC_OK;
}

static void num_set_special(sql_num *n, int kind)
{
    n->kind = kind;
    n->neg = 0;
    n->scale = 0;
    n->ndigits = 0;
}

/* Multiply the coefficient by 10^k (k >= 0) and raise scale by k, keeping
 * the value: used to align scales. */
static int num_upscale(sql_num *n, int k, dc_error *err)
{
    if (k <= 0)
        return DC_OK;
    if (n->ndigits > 0) {
        int rc = num_reserve(n, n->ndigits + k, err);
        if (rc)
            return rc;
        memmove(n->digits + k, n->digits, (size_t)n->ndigits);
        memset(n->digits, 0, (size_t)k);
        n->ndigits += k;
    }
    n->scale += k;
    return DC_OK;
}

/* ---- text ---------------------------------------------------------------- */

static int bad_syntax(dc_error *err, const char *s, size_t len)
{
    return dc_error_set(err, DC_EINVAL, "22P02",
                        "invalid input syntax for type numeric: \"%.*s\"",
                        (int)len, s);
}

static int ci_eq(const char *a, size_t alen, const char *b)
{
    size_t bl = strlen(b);
    if (alen != bl)
        return 0;
    for (size_t i = 0; i < bl; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return 0;
    return 1;
}

int sql_num_parse(const char *s, size_t len, sql_num *out, dc_error *err)
{
    size_t b = 0, e = len;
    while (b < e && isspace((unsigned char)s[b]))
        b++;
    while (e > b && isspace((unsigned char)s[e - 1]))
        e--;
    const char *p = s + b;
    size_t n = e - b;
    if (ci_eq(p, n, "NaN")) {
        num_set_special(out, SQL_NUM_NAN);
        return DC_OK;
    }
    int neg = 0;
    size_t i = 0;
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        neg = p[i] == '-';
        i++;
    }
    if (ci_eq(p + i, n - i, "Infinity") || ci_eq(p + i, n - i, "inf")) {
        num_set_special(out, neg ? SQL_NUM_NINF : SQL_NUM_PINF);
        return DC_OK;
    }
    size_t ds = i;
    int ndig = 0, nfrac = 0, seen_point = 0;
    for (; i < n; i++) {
        if (isdigit((unsigned char)p[i])) {
            ndig++;
            if (seen_point)
                nfrac++;
        } else if (p[i] == '.' && !seen_point) {
            seen_point = 1;
        } else {
            break;
        }
    }
    size_t de = i;
    if (ndig == 0)
        return bad_syntax(err, s, len);
    long exp = 0;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < n && (p[i] == '+' || p[i] == '-')) {
            eneg = p[i] == '-';
            i++;
        }
        if (i >= n || !isdigit((unsigned char)p[i]))
            return bad_syntax(err, s, len);
        for (; i < n && isdigit((unsigned char)p[i]); i++) {
            exp = exp * 10 + (p[i] - '0');
            if (exp > 1000)
                return bad_syntax(err, s, len);
        }
        if (eneg)
            exp = -exp;
    }
    if (i != n)
        return bad_syntax(err, s, len);
    /* value = digits * 10^(exp - nfrac) */
    long scale = (long)nfrac - exp;
    long zeros = scale < 0 ? -scale : 0;
    int rc = num_reserve(out, ndig + (int)zeros, err);
    if (rc)
        return rc;
    out->kind = SQL_NUM_FINITE;
    out->neg = neg;
    int k = 0;
    for (long z = 0; z < zeros; z++)
        out->digits[k++] = 0;
    for (size_t j = de; j > ds; j--) {
        char c = p[j - 1];
        if (c != '.')
            out->digits[k++] = (uint8_t)(c - '0');
    }
    out->ndigits = k;
    out->scale = scale < 0 ? 0 : (int)scale;
    num_norm(out);
    /* PostgreSQL's dscale is max(0, nfrac - exp); an excess of trailing
     * digits cannot happen here since scale == that. */
    return DC_OK;
}

int sql_num_format(const sql_num *n, char **out, size_t *outlen, dc_error *err)
{
    const char *special = NULL;
    if (n->kind == SQL_NUM_NAN)
        special = "NaN";
    else if (n->kind == SQL_NUM_PINF)
        special = "Infinity";
    else if (n->kind == SQL_NUM_NINF)
        special = "-Infinity";
    if (special) {
        *out = strdup(special);
        if (*out == NULL)
            return oom(err);
        *outlen = strlen(special);
        return DC_OK;
    }
    int intd = n->ndigits - n->scale;
    size_t cap = (size_t)(n->ndigits + n->scale + 4);
    char *buf = malloc(cap);
    if (buf == NULL)
        return oom(err);
    size_t k = 0;
    if (n->neg)
        buf[k++] = '-';
    if (intd <= 0) {
        buf[k++] = '0';
    } else {
        for (int i = n->ndigits - 1; i >= n->scale; i--)
            buf[k++] = (char)('0' + n->digits[i]);
    }
    if (n->scale > 0) {
        buf[k++] = '.';
        for (int i = n->scale - 1; i >= 0; i--)
            buf[k++] = (char)('0' + (i < n->ndigits ? n->digits[i] : 0));
    }
    buf[k] = '\0';
    *out = buf;
    *outlen = k;
    return DC_OK;
}

/* ---- conversions --------------------------------------------------------- */

int sql_num_from_int64(int64_t v, sql_num *out, dc_error *err)
{
    int rc = num_reserve(out, 20, err);
    if (rc)
        return rc;
    out->kind = SQL_NUM_FINITE;
    out->neg = v < 0;
    out->scale = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int k = 0;
    while (u) {
        out->digits[k++] = (uint8_t)(u % 10);
        u /= 10;
    }
    out->ndigits = k;
    return DC_OK;
}

int sql_num_to_int(const sql_num *n, int64_t min, int64_t max, const char *name,
                   int64_t *v, dc_error *err)
{
    if (n->kind == SQL_NUM_NAN)
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "cannot convert NaN to %s", name);
    if (n->kind != SQL_NUM_FINITE)
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "cannot convert infinity to %s", name);
    sql_num t;
    sql_num_init(&t);
    int rc = sql_num_copy(&t, n, err);
    if (rc == DC_OK)
        rc = sql_num_round(&t, 0, err);
    if (rc) {
        sql_num_free(&t);
        return rc;
    }
    int ok = t.ndigits <= 19;
    uint64_t u = 0;
    for (int i = t.ndigits - 1; ok && i >= 0; i--) {
        if (u > (UINT64_MAX - t.digits[i]) / 10)
            ok = 0;
        else
            u = u * 10 + t.digits[i];
    }
    int64_t r = 0;
    if (ok) {
        if (t.neg) {
            if (u > (uint64_t)INT64_MAX + 1)
                ok = 0;
            else
                r = (int64_t)(0 - u);
        } else if (u > (uint64_t)INT64_MAX) {
            ok = 0;
        } else {
            r = (int64_t)u;
        }
    }
    sql_num_free(&t);
    if (!ok || r < min || r > max)
        return dc_error_set(err, DC_ERANGE, "22003", "%s out of range", name);
    *v = r;
    return DC_OK;
}

int sql_num_from_double(double d, int digits, sql_num *out, dc_error *err)
{
    if (isnan(d)) {
        num_set_special(out, SQL_NUM_NAN);
        return DC_OK;
    }
    if (isinf(d)) {
        num_set_special(out, d > 0 ? SQL_NUM_PINF : SQL_NUM_NINF);
        return DC_OK;
    }
    char buf[64];
    int len = snprintf(buf, sizeof buf, "%.*g", digits, d);
    return sql_num_parse(buf, (size_t)len, out, err);
}

double sql_num_to_double(const sql_num *n)
{
    if (n->kind == SQL_NUM_NAN)
        return NAN;
    if (n->kind == SQL_NUM_PINF)
        return INFINITY;
    if (n->kind == SQL_NUM_NINF)
        return -INFINITY;
    char *s;
    size_t len;
    if (sql_num_format(n, &s, &len, NULL))
        return NAN;
    double d = strtod(s, NULL);
    free(s);
    return d;
}

int sql_num_exponent(const sql_num *n)
{
    return n->ndigits - 1 - n->scale;
}

/* ---- rounding --------------------------------------------------------------
 */

/* Drop `k` low digits (k > 0), rounding half away from zero when `round`. */
static int num_drop_low(sql_num *n, int k, int round, dc_error *err)
{
    if (k <= 0)
        return DC_OK;
    int up = 0;
    if (round && k <= n->ndigits && n->digits[k - 1] >= 5)
        up = 1;
    if (k >= n->ndigits) {
        n->ndigits = 0;
    } else {
        memmove(n->digits, n->digits + k, (size_t)(n->ndigits - k));
        n->ndigits -= k;
    }
    if (up) {
        int i = 0;
        for (;; i++) {
            if (i == n->ndigits) {
                int rc = num_reserve(n, n->ndigits + 1, err);
                if (rc)
                    return rc;
                n->digits[n->ndigits++] = 1;
                break;
            }
            if (n->digits[i] == 9) {
                n->digits[i] = 0;
            } else {
                n->digits[i]++;
                break;
            }
        }
    }
    return DC_OK;
}

static int num_round_mode(sql_num *n, int scale, int round, dc_error *err)
{
    if (n->kind != SQL_NUM_FINITE)
        return DC_OK;
    if (scale > SQL_NUM_MAX_SCALE)
        scale = SQL_NUM_MAX_SCALE;
    if (scale < -SQL_NUM_MAX_SCALE)
        scale = -SQL_NUM_MAX_SCALE;
    int rc;
    if (scale >= n->scale) {
        rc = num_upscale(n, scale - n->scale, err);
        return rc;
    }
    int neg = n->neg;
    rc = num_drop_low(n, n->scale - scale, round, err);
    if (rc)
        return rc;
    n->neg = neg;
    n->scale = scale;
    if (scale < 0) {
        /* Put the dropped positions back as zeros at scale 0. */
        n->scale = 0;
        if (n->ndigits > 0) {
            int k = -scale;
            rc = num_reserve(n, n->ndigits + k, err);
            if (rc)
                return rc;
            memmove(n->digits + k, n->digits, (size_t)n->ndigits);
            memset(n->digits, 0, (size_t)k);
            n->ndigits += k;
        }
    }
    num_norm(n);
    return DC_OK;
}

int sql_num_round(sql_num *n, int scale, dc_error *err)
{
    return num_round_mode(n, scale, 1, err);
}

int sql_num_trunc(sql_num *n, int scale, dc_error *err)
{
    return num_round_mode(n, scale, 0, err);
}

int sql_num_apply_typmod(sql_num *n, int32_t typmod, dc_error *err)
{
    if (typmod < 4)
        return DC_OK;
    int prec = ((typmod - 4) >> 16) & 0xffff;
    int scale = (typmod - 4) & 0x7ff;
    if (scale & 0x400)
        scale -= 0x800; /* PostgreSQL 15 negative scales */
    if (n->kind == SQL_NUM_NAN)
        return DC_OK;
    if (n->kind != SQL_NUM_FINITE) {
        dc_error_set(err, DC_ERANGE, "22003", "numeric field overflow");
        dc_error_detail(err,
                        "A field with precision %d, scale %d cannot hold an "
                        "infinite value.",
                        prec, scale);
        return DC_ERANGE;
    }
    int rc = sql_num_round(n, scale, err);
    if (rc)
        return rc;
    int maxdigits = prec - scale;
    if (n->ndigits > 0 && sql_num_exponent(n) + 1 > maxdigits) {
        dc_error_set(err, DC_ERANGE, "22003", "numeric field overflow");
        dc_error_detail(err,
                        "A field with precision %d, scale %d must round to an "
                        "absolute value less than %s%d.",
                        prec, scale, maxdigits ? "10^" : "",
                        maxdigits ? maxdigits : 1);
        return DC_ERANGE;
    }
    return DC_OK;
}

/* ---- magnitude arithmetic ------------------------------------------------ */

/* Compare magnitudes of two coefficients at the same scale. */
static int mag_cmp(const uint8_t *a, int na, const uint8_t *b, int nb)
{
    while (na > 0 && a[na - 1] == 0)
        na--;
    while (nb > 0 && b[nb - 1] == 0)
        nb--;
    if (na != nb)
        return na < nb ? -1 : 1;
    for (int i = na - 1; i >= 0; i--)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

/* Compare |a| and |b| (finite, any scales). */
static int num_mag_cmp(const sql_num *a, const sql_num *b)
{
    if (a->ndigits == 0 || b->ndigits == 0)
        return (a->ndigits != 0) - (b->ndigits != 0);
    int ea = sql_num_exponent(a), eb = sql_num_exponent(b);
    if (ea != eb)
        return ea < eb ? -1 : 1;
    /* Walk from the leading digit down. */
    int ia = a->ndigits - 1, ib = b->ndigits - 1;
    while (ia >= 0 || ib >= 0) {
        int da = ia >= 0 ? a->digits[ia] : 0;
        int db = ib >= 0 ? b->digits[ib] : 0;
        if (da != db)
            return da < db ? -1 : 1;
        ia--;
        ib--;
    }
    return 0;
}

int sql_num_cmp(const sql_num *a, const sql_num *b)
{
    /* rank: -inf 0, finite 1, +inf 2, nan 3 */
    static const int rank[4] = {1, 3, 2, 0};
    int ra = rank[a->kind], rb = rank[b->kind];
    if (ra != rb)
        return ra < rb ? -1 : 1;
    if (a->kind != SQL_NUM_FINITE)
        return 0;
    int sa = a->ndigits == 0 ? 0 : (a->neg ? -1 : 1);
    int sb = b->ndigits == 0 ? 0 : (b->neg ? -1 : 1);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    int c = num_mag_cmp(a, b);
    return sa < 0 ? -c : c;
}

/* out = a + b or a - b on finite numbers. */
static int num_addsub(const sql_num *a, const sql_num *b, int sub, sql_num *out,
                      dc_error *err)
{
    sql_num x, y;
    sql_num_init(&x);
    sql_num_init(&y);
    int rc = sql_num_copy(&x, a, err);
    if (rc == DC_OK)
        rc = sql_num_copy(&y, b, err);
    if (rc == DC_OK) {
        int s = x.scale > y.scale ? x.scale : y.scale;
        rc = num_upscale(&x, s - x.scale, err);
        if (rc == DC_OK)
            rc = num_upscale(&y, s - y.scale, err);
    }
    if (rc == DC_OK && sub)
        y.neg = y.ndigits ? !y.neg : 0;
    int n = (x.ndigits > y.ndigits ? x.ndigits : y.ndigits) + 1;
    if (rc == DC_OK)
        rc = num_reserve(out, n, err);
    if (rc) {
        sql_num_free(&x);
        sql_num_free(&y);
        return rc;
    }
    out->kind = SQL_NUM_FINITE;
    out->scale = x.scale;
    if (x.neg == y.neg) {
        int carry = 0;
        for (int i = 0; i < n; i++) {
            int d = carry + (i < x.ndigits ? x.digits[i] : 0) +
                    (i < y.ndigits ? y.digits[i] : 0);
            out->digits[i] = (uint8_t)(d % 10);
            carry = d / 10;
        }
        out->neg = x.neg;
    } else {
        const sql_num *big = &x, *small = &y;
        if (mag_cmp(x.digits, x.ndigits, y.digits, y.ndigits) < 0) {
            big = &y;
            small = &x;
        }
        int borrow = 0;
        for (int i = 0; i < n; i++) {
            int d = (i < big->ndigits ? big->digits[i] : 0) - borrow -
                    (i < small->ndigits ? small->digits[i] : 0);
            borrow = d < 0;
            out->digits[i] = (uint8_t)(d < 0 ? d + 10 : d);
        }
        out->neg = big->neg;
    }
    out->ndigits = n;
    num_norm(out);
    sql_num_free(&x);
    sql_num_free(&y);
    return DC_OK;
}

static int inf_sign(const sql_num *n)
{
    return n->kind == SQL_NUM_PINF ? 1 : n->kind == SQL_NUM_NINF ? -1 : 0;
}

static int num_sign(const sql_num *n)
{
    if (n->kind != SQL_NUM_FINITE)
        return inf_sign(n);
    return n->ndigits == 0 ? 0 : (n->neg ? -1 : 1);
}

static int set_inf(sql_num *out, int sign)
{
    num_set_special(out, sign > 0 ? SQL_NUM_PINF : SQL_NUM_NINF);
    return DC_OK;
}

int sql_num_add(const sql_num *a, const sql_num *b, sql_num *out, dc_error *err)
{
    if (a->kind == SQL_NUM_NAN || b->kind == SQL_NUM_NAN) {
        num_set_special(out, SQL_NUM_NAN);
        return DC_OK;
    }
    int ia = inf_sign(a), ib = inf_sign(b);
    if (ia || ib) {
        if (ia && ib && ia != ib)
            num_set_special(out, SQL_NUM_NAN);
        else
            set_inf(out, ia ? ia : ib);
        return DC_OK;
    }
    return num_addsub(a, b, 0, out, err);
}

int sql_num_sub(const sql_num *a, const sql_num *b, sql_num *out, dc_error *err)
{
    if (a->kind == SQL_NUM_NAN || b->kind == SQL_NUM_NAN) {
        num_set_special(out, SQL_NUM_NAN);
        return DC_OK;
    }
    int ia = inf_sign(a), ib = -inf_sign(b);
    if (ia || ib) {
        if (ia && ib && ia != ib)
            num_set_special(out, SQL_NUM_NAN);
        else
            set_inf(out, ia ? ia : ib);
        return DC_OK;
    }
    return num_addsub(a, b, 1, out, err);
}

int sql_num_mul(const sql_num *a, const sql_num *b, sql_num *out, dc_error *err)
{
    if (a->kind == SQL_NUM_NAN || b->kind == SQL_NUM_NAN) {
        num_set_special(out, SQL_NUM_NAN);
        return DC_OK;
    }
    if (a->kind != SQL_NUM_FINITE || b->kind != SQL_NUM_FINITE) {
        int s = num_sign(a) * num_sign(b);
        if (s == 0)
            num_set_special(out, SQL_NUM_NAN);
        else
            set_inf(out, s);
        return DC_OK;
    }
    int n = a->ndigits + b->ndigits + 1;
    uint32_t *acc = calloc((size_t)n, sizeof(uint32_t));
    if (acc == NULL)
        return oom(err);
    for (int i = 0; i < a->ndigits; i++) {
        uint32_t da = a->digits[i];
        if (da == 0)
            continue;
        for (int j = 0; j < b->ndigits; j++)
            acc[i + j] += da * b->digits[j];
        if ((i & 63) == 63) { /* keep accumulators small */
            uint32_t carry = 0;
            for (int k = 0; k < n; k++) {
                uint32_t v = acc[k] + carry;
                acc[k] = v % 10;
                carry = v / 10;
            }
        }
    }
    int rc = num_reserve(out, n, err);
    if (rc) {
        free(acc);
        return rc;
    }
    uint32_t carry = 0;
    for (int k = 0; k < n; k++) {
        uint32_t v = acc[k] + carry;
        out->digits[k] = (uint8_t)(v % 10);
        carry = v / 10;
    }
    free(acc);
    out->kind = SQL_NUM_FINITE;
    out->neg = a->neg != b->neg;
    out->scale = a->scale + b->scale;
    out->ndigits = n;
    num_norm(out);
    return DC_OK;
}

/* q = floor(A * 10^shift / B) for coefficients A, B (B != 0); shift may
 * be negative (then B is scaled up instead).  Little-endian digits. */
static int mag_divmod(const sql_num *a, const sql_num *b, int shift, sql_num *q,
                      dc_error *err)
{
    int na = a->ndigits + (shift > 0 ? shift : 0);
    int nb = b->ndigits + (shift < 0 ? -shift : 0);
    uint8_t *num = calloc((size_t)na + 1, 1);
    uint8_t *den = calloc((size_t)nb + 1, 1);
    uint8_t *rem = calloc((size_t)nb + 2, 1);
    int rc = DC_OK;
    if (num == NULL || den == NULL || rem == NULL) {
        rc = oom(err);
        goto out;
    }
    memcpy(num + (shift > 0 ? shift : 0), a->digits, (size_t)a->ndigits);
    memcpy(den + (shift < 0 ? -shift : 0), b->digits, (size_t)b->ndigits);
    rc = num_reserve(q, na + 1, err);
    if (rc)
        goto out;
    int nr = 0; /* digits in rem, little-endian */
    for (int i = na - 1; i >= 0; i--) {
        /* rem = rem * 10 + num[i] */
        memmove(rem + 1, rem, (size_t)nr);
        rem[0] = num[i];
        nr++;
        while (nr > 0 && rem[nr - 1] == 0)
            nr--;
        int qd = 0;
        while (mag_cmp(rem, nr, den, nb) >= 0) {
            int borrow = 0;
            for (int k = 0; k < nr; k++) {
                int d = rem[k] - borrow - (k < nb ? den[k] : 0);
                borrow = d < 0;
                rem[k] = (uint8_t)(d < 0 ? d + 10 : d);
            }
            while (nr > 0 && rem[nr - 1] == 0)
                nr--;
            qd++;
        }
        q->digits[i] = (uint8_t)qd;
    }
    q->ndigits = na;
    q->kind = SQL_NUM_FINITE;
    num_norm(q);
out:
    free(num);
    free(den);
    free(rem);
    return rc;
}

/* PostgreSQL's select_div_scale, with base-10000 weights computed from the
 * decimal coefficient. */
static void base10k_lead(const sql_num *n, int *weight, int *first)
{
    *weight = 0;
    *first = 0;
    if (n->ndigits == 0)
        return;
    int e = sql_num_exponent(n);
    int w = e >= 0 ? e / 4 : -((-e + 3) / 4);
    int v = 0;
    for (int p = 4 * w + 3; p >= 4 * w; p--) {
        int i = p + n->scale;
        v = v * 10 + (i >= 0 && i < n->ndigits ? n->digits[i] : 0);
    }
    *weight = w;
    *first = v;
}

static int select_div_scale(const sql_num *a, const sql_num *b)
{
    int w1, f1, w2, f2;
    base10k_lead(a, &w1, &f1);
    base10k_lead(b, &w2, &f2);
    int qweight = w1 - w2;
    if (f1 <= f2)
        qweight--;
    int rscale = 16 - qweight * 4;
    if (rscale < a->scale)
        rscale = a->scale;
    if (rscale < b->scale)
        rscale = b->scale;
    if (rscale < 0)
        rscale = 0;
    if (rscale > SQL_NUM_MAX_SCALE)
        rscale = SQL_NUM_MAX_SCALE;
    return rscale;
}

int sql_num_div_scale(const sql_num *a, const sql_num *b, int rscale, int round,
                      sql_num *out, dc_error *err)
{
    if (a->kind == SQL_NUM_NAN || b->kind == SQL_NUM_NAN) {
        num_set_special(out, SQL_NUM_NAN);
        return DC_OK;
    }
    if (num_sign(b) == 0)
        return dc_error_set(err, DC_ERANGE, "22012", "division by zero");
    if (b->kind != SQL_NUM_FINITE) {
        if (a->kind != SQL_NUM_FINITE) {
            num_set_special(out, SQL_NUM_NAN);
            return DC_OK;
        }
        return sql_num_from_int64(0, out, err);
    }
    if (a->kind != SQL_NUM_FINITE)
        return set_inf(out, inf_sign(a) * num_sign(b));
    /* Q = A * 10^(rscale + s2 - s1 + 1) / B, then drop one digit. */
    int shift = rscale + b->scale - a->scale + (round ? 1 : 0);
    sql_num q;
    sql_num_init(&q);
    int rc = mag_divmod(a, b, shift, &q, err);
    if (rc == DC_OK && round)
        rc = num_drop_low(&q, 1, 1, err);
    if (rc) {
        sql_num_free(&q);
        return rc;
    }
    q.neg = a->neg != b->neg;
    q.scale = rscale;
    num_norm(&q);
    sql_num_free(out);
    *out = q;
    return DC_OK;
}

int sql_num_div(const sql_num *a, const sql_num *b, sql_num *out, dc_error *err)
{
    int rscale = 0;
    if (a->kind == SQL_NUM_FINITE && b->kind == SQL_NUM_FINITE)
        rscale = select_div_scale(a, b);
    return sql_num_div_scale(a, b, rscale, 1, out, err);
}

int sql_num_mod(const sql_num *a, const sql_num *b, sql_num *out, dc_error *err)
{
    if (a->kind == SQL_NUM_NAN || b->kind == SQL_NUM_NAN) {
        num_set_special(out, SQL_NUM_NAN);
        return DC_OK;
    }
    if (num_sign(b) == 0)
        return dc_error_set(err, DC_ERANGE, "22012", "division by zero");
    if (a->kind != SQL_NUM_FINITE) {
        num_set_special(out, SQL_NUM_NAN);
        return DC_OK;
    }
    if (b->kind != SQL_NUM_FINITE)
        return sql_num_copy(out, a, err);
    sql_num q, p;
    sql_num_init(&q);
    sql_num_init(&p);
    int rc = sql_num_div_scale(a, b, 0, 0, &q, err);
    if (rc == DC_OK)
        rc = sql_num_mul(b, &q, &p, err);
    if (rc == DC_OK)
        rc = num_addsub(a, &p, 1, out, err);
    sql_num_free(&q);
    sql_num_free(&p);
    return rc;
}

void sql_num_neg(sql_num *n)
{
    if (n->kind == SQL_NUM_PINF)
        n->kind = SQL_NUM_NINF;
    else if (n->kind == SQL_NUM_NINF)
        n->kind = SQL_NUM_PINF;
    else if (n->kind == SQL_NUM_FINITE && n->ndigits)
        n->neg = !n->neg;
}

void sql_num_abs(sql_num *n)
{
    if (n->kind == SQL_NUM_NINF)
        n->kind = SQL_NUM_PINF;
    n->neg = 0;
}

/* ---- binary format ------------------------------------------------------- */

static void put16(uint8_t *p, int v)
{
    p[0] = (uint8_t)((unsigned)v >> 8);
    p[1] = (uint8_t)v;
}

static int get16(const uint8_t *p)
{
    return (int16_t)(uint16_t)((p[0] << 8) | p[1]);
}

static int floordiv4(int e)
{
    return e >= 0 ? e / 4 : -((-e + 3) / 4);
}

int sql_num_send(const sql_num *n, uint8_t **out, size_t *outlen, dc_error *err)
{
    int sign = 0, weight = 0, ng = 0, dscale = 0;
    int low = 0;
    if (n->kind == SQL_NUM_NAN)
        sign = 0xC000;
    else if (n->kind == SQL_NUM_PINF)
        sign = 0xD000;
    else if (n->kind == SQL_NUM_NINF)
        sign = 0xF000;
    else {
        sign = n->neg ? 0x4000 : 0;
        dscale = n->scale;
        if (n->ndigits) {
            /* lowest non-zero decimal position */
            int lz = 0;
            while (n->digits[lz] == 0)
                lz++;
            weight = floordiv4(sql_num_exponent(n));
            low = floordiv4(lz - n->scale);
            ng = weight - low + 1;
        }
    }
    size_t len = 8 + 2 * (size_t)ng;
    uint8_t *buf = malloc(len);
    if (buf == NULL)
        return oom(err);
    put16(buf, ng);
    put16(buf + 2, weight);
    put16(buf + 4, sign);
    put16(buf + 6, dscale);
    for (int g = 0; g < ng; g++) {
        int w = weight - g, v = 0;
        for (int p = 4 * w + 3; p >= 4 * w; p--) {
            int i = p + n->scale;
            v = v * 10 + (i >= 0 && i < n->ndigits ? n->digits[i] : 0);
        }
        put16(buf + 8 + 2 * g, v);
    }
    *out = buf;
    *outlen = len;
    return DC_OK;
}

static int bad_ext(dc_error *err, const char *what)
{
    return dc_error_set(err, DC_EINVAL, "22P03",
                        "invalid %s in external \"numeric\" value", what);
}

int sql_num_recv(const uint8_t *p, size_t len, sql_num *out, dc_error *err)
{
    if (len < 8)
        return dc_error_set(err, DC_EINVAL, "08P01",
                            "insufficient data left in message");
    int ng = get16(p), weight = get16(p + 2);
    int sign = get16(p + 4) & 0xffff, dscale = get16(p + 6) & 0xffff;
    if (ng < 0 || ng > 0x7fff)
        return bad_ext(err, "length");
    if (len != 8 + 2 * (size_t)ng)
        return dc_error_set(err, DC_EINVAL, "22P03",
                            "incorrect binary data format");
    if (sign == 0xC000) {
        num_set_special(out, SQL_NUM_NAN);
        return DC_OK;
    }
    if (sign == 0xD000 || sign == 0xF000) {
        num_set_special(out, sign == 0xD000 ? SQL_NUM_PINF : SQL_NUM_NINF);
        return DC_OK;
    }
    if (sign != 0 && sign != 0x4000)
        return bad_ext(err, "sign");
    if (dscale > 0x3FFF)
        return bad_ext(err, "scale");
    /* Scale needed to hold every sent digit exactly. */
    int need = 4 * (ng - 1 - weight);
    int scale = need > dscale ? need : dscale;
    if (scale < 0)
        scale = 0;
    int top = 4 * weight + 3; /* highest decimal position */
    int nd = ng ? top + scale + 1 : 0;
    if (nd < 0)
        nd = 0;
    int rc = num_reserve(out, nd + 1, err);
    if (rc)
        return rc;
    memset(out->digits, 0, (size_t)nd + 1);
    for (int g = 0; g < ng; g++) {
        int v = get16(p + 8 + 2 * g);
        if (v < 0 || v >= 10000)
            return bad_ext(err, "digit");
        int w = weight - g;
        for (int k = 0; k < 4; k++) {
            int i = 4 * w + k + scale;
            if (i >= 0 && i < nd)
                out->digits[i] = (uint8_t)(v % 10);
            v /= 10;
        }
    }
    out->kind = SQL_NUM_FINITE;
    out->neg = sign == 0x4000;
    out->scale = scale;
    out->ndigits = nd;
    num_norm(out);
    rc = sql_num_trunc(out, dscale, err);
    if (rc)
        return rc;
    out->scale = dscale;
    return DC_OK;
}

/* ---- hashing and keys ---------------------------------------------------- */

uint64_t sql_hash_int64(int64_t v)
{
    uint64_t z = (uint64_t)v + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t sql_hash_bytes(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return sql_hash_int64((int64_t)h);
}

uint64_t sql_num_hash(const sql_num *n)
{
    if (n->kind != SQL_NUM_FINITE)
        return sql_hash_int64(INT64_MIN + n->kind) ^ 0x5bd1e995u;
    if (n->ndigits == 0)
        return sql_hash_int64(0);
    int lz = 0;
    while (n->digits[lz] == 0)
        lz++;
    if (lz >= n->scale && sql_num_exponent(n) < 18) {
        int64_t v = 0;
        for (int i = n->ndigits - 1; i >= n->scale; i--)
            v = v * 10 + n->digits[i];
        return sql_hash_int64(n->neg ? -v : v);
    }
    /* Hash sign, exponent and the significant digits. */
    uint64_t h = sql_hash_int64(sql_num_exponent(n) * 2 + n->neg);
    for (int i = n->ndigits - 1; i >= lz; i--)
        h = (h ^ n->digits[i]) * 0x100000001b3ull;
    return sql_hash_int64((int64_t)h);
}

static int key_put(uint8_t **buf, size_t *len, size_t *cap, uint8_t b,
                   dc_error *err)
{
    if (*len == *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        uint8_t *nb = realloc(*buf, nc);
        if (nb == NULL)
            return oom(err);
        *buf = nb;
        *cap = nc;
    }
    (*buf)[(*len)++] = b;
    return DC_OK;
}

/*
 * Layout: a class byte (0 -inf, 1 negative, 2 zero, 3 positive, 4 +inf,
 * 5 NaN), then for non-zero finite numbers the decimal exponent (int32,
 * sign-flipped big-endian), the significant digits in pairs (byte 1 +
 * 10*d1 + d2, the last pair padded with 0) and a 0 terminator.  For
 * negative numbers everything after the class byte is inverted.
 */
int sql_num_key(const sql_num *n, uint8_t **buf, size_t *len, size_t *cap,
                dc_error *err)
{
    int cls;
    if (n->kind == SQL_NUM_NINF)
        cls = 0;
    else if (n->kind == SQL_NUM_PINF)
        cls = 4;
    else if (n->kind == SQL_NUM_NAN)
        cls = 5;
    else if (n->ndigits == 0)
        cls = 2;
    else
        cls = n->neg ? 1 : 3;
    int rc = key_put(buf, len, cap, (uint8_t)cls, err);
    if (rc || (cls != 1 && cls != 3))
        return rc;
    uint8_t inv = cls == 1 ? 0xFF : 0;
    uint32_t e = (uint32_t)sql_num_exponent(n) ^ 0x80000000u;
    for (int s = 24; s >= 0 && rc == DC_OK; s -= 8)
        rc = key_put(buf, len, cap, (uint8_t)((e >> s) ^ inv), err);
    int lz = 0;
    while (n->digits[lz] == 0)
        lz++;
    for (int i = n->ndigits - 1; i >= lz && rc == DC_OK; i -= 2) {
        int d1 = n->digits[i];
        int d2 = i - 1 >= lz ? n->digits[i - 1] : 0;
        rc = key_put(buf, len, cap, (uint8_t)((1 + d1 * 10 + d2) ^ inv), err);
    }
    if (rc == DC_OK)
        rc = key_put(buf, len, cap, inv, err);
    return rc;
}
