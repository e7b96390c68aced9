/*
 * sql/funcs_ops.c - the operators: comparison, arithmetic, bitwise,
 * prefix, LIKE (~~ family) and POSIX regular expressions (~ family), with
 * the signature table (sql_oper_table) that funcs.c resolves against.
 *
 * The executor calls these per row, so each comparison and integer
 * operator is its own small function with no allocation: one per value
 * class (integers of any width, floats, text ...) and result type.
 */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "sql/funcs_int.h"
#include "sql/funcs_rx.h"

#define S SQL_FN_STRICT

static inline void put_bool(dc_value *out, bool b)
{
    out->type = DC_TYPE_BOOL;
    out->typmod = -1;
    out->is_null = false;
    out->u.b = b;
}

static inline void put_int(dc_value *out, uint32_t type, int64_t v)
{
    out->type = type;
    out->typmod = -1;
    out->is_null = false;
    out->u.i = v;
}

/* ---- comparison ---------------------------------------------------------
 * Each class has a comparator setting *c to <0, 0, >0. */

static inline int cmp_int(sql_ctx *ctx, const dc_value *a, int *c,
                          dc_error *err)
{
    (void)ctx;
    (void)err;
    *c = (a[0].u.i > a[1].u.i) - (a[0].u.i < a[1].u.i);
    return DC_OK;
}

static inline int cmp_flt(sql_ctx *ctx, const dc_value *a, int *c,
                          dc_error *err)
{
    (void)ctx;
    (void)err;
    double x = a[0].u.f, y = a[1].u.f;
    if (isnan(x) || isnan(y))
        *c = isnan(x) ? (isnan(y) ? 0 : 1) : -1;
    else
        *c = (x > y) - (x < y);
    return DC_OK;
}

static inline int cmp_mem(const uint8_t *p, size_t n, const uint8_t *q,
                          size_t m)
{
    size_t k = n < m ? n : m;
    int r = k ? memcmp(p, q, k) : 0;
    if (r)
        return r;
    return (n > m) - (n < m);
}

static inline int cmp_txt(sql_ctx *ctx, const dc_value *a, int *c,
                          dc_error *err)
{
    (void)ctx;
    (void)err;
    *c = cmp_mem(a[0].u.bytes.ptr, a[0].u.bytes.len, a[1].u.bytes.ptr,
                 a[1].u.bytes.len);
    return DC_OK;
}

static inline size_t bp_len(const dc_value *v)
{
    size_t n = v->u.bytes.len;
    while (n && v->u.bytes.ptr[n - 1] == ' ')
        n--;
    return n;
}

static inline int cmp_bpc(sql_ctx *ctx, const dc_value *a, int *c,
                          dc_error *err)
{
    (void)ctx;
    (void)err;
    *c = cmp_mem(a[0].u.bytes.ptr, bp_len(&a[0]), a[1].u.bytes.ptr,
                 bp_len(&a[1]));
    return DC_OK;
}

static inline int cmp_bln(sql_ctx *ctx, const dc_value *a, int *c,
                          dc_error *err)
{
    (void)ctx;
    (void)err;
    *c = (int)a[0].u.b - (int)a[1].u.b;
    return DC_OK;
}

/* numeric: compared on the canonical text without parsing (see
 * sql_fx_num_cmp); anything else falls back to sql_value_cmp. */
static inline int cmp_num(sql_ctx *ctx, const dc_value *a, int *c,
                          dc_error *err)
{
    (void)ctx;
    if (sql_fx_num_cmp(&a[0], &a[1], c))
        return DC_OK;
    return sql_value_cmp(&a[0], &a[1], c, err);
}

/* date / timestamp / timestamptz mixed */
static inline int cmp_dtx(sql_ctx *ctx, const dc_value *a, int *c,
                          dc_error *err)
{
    return sql_fx_cmp(ctx, &a[0], &a[1], c, err);
}

#define CMP_FN(cls, nm, OP)                                                    \
    static int cls##_##nm(sql_ctx *ctx, int nargs, const dc_value *a,          \
                          dc_value *out, dc_error *err)                        \
    {                                                                          \
        (void)nargs;                                                           \
        int c;                                                                 \
        int rc = cmp_##cls(ctx, a, &c, err);                                   \
        if (rc)                                                                \
            return rc;                                                         \
        put_bool(out, c OP 0);                                                 \
        return DC_OK;                                                          \
    }
#define CMP_FNS(cls)                                                           \
    CMP_FN(cls, eq, ==)                                                        \
    CMP_FN(cls, ne, !=)                                                        \
    CMP_FN(cls, lt, <)                                                         \
    CMP_FN(cls, le, <=)                                                        \
    CMP_FN(cls, gt, >)                                                         \
    CMP_FN(cls, ge, >=)
CMP_FNS(int)
CMP_FNS(flt)
CMP_FNS(txt)
CMP_FNS(bpc)
CMP_FNS(bln)
CMP_FNS(num)
CMP_FNS(dtx)

/* ---- arithmetic --------------------------------------------------------- */

static int int_range_err(uint32_t t, dc_error *err)
{
    return dc_error_set(err, DC_ERANGE, "22003", "%s out of range",
                        sql_type_name(t));
}

static int div_zero(dc_error *err)
{
    return dc_error_set(err, DC_ERANGE, "22012", "division by zero");
}

static inline int int_fit(uint32_t t, int64_t r)
{
    if (t == DC_TYPE_INT2)
        return r >= INT16_MIN && r <= INT16_MAX;
    if (t == DC_TYPE_INT4)
        return r >= INT32_MIN && r <= INT32_MAX;
    return 1;
}

#define INT_ARITH(T, TY)                                                       \
    static int add_##T(sql_ctx *ctx, int nargs, const dc_value *a,             \
                       dc_value *out, dc_error *err)                           \
    {                                                                          \
        (void)ctx;                                                             \
        (void)nargs;                                                           \
        int64_t r;                                                             \
        if (__builtin_add_overflow(a[0].u.i, a[1].u.i, &r) || !int_fit(TY, r)) \
            return int_range_err(TY, err);                                     \
        put_int(out, TY, r);                                                   \
        return DC_OK;                                                          \
    }                                                                          \
    static int sub_##T(sql_ctx *ctx, int nargs, const dc_value *a,             \
                       dc_value *out, dc_error *err)                           \
    {                                                                          \
        (void)ctx;                                                             \
        (void)nargs;                                                           \
        int64_t r;                                                             \
        if (__builtin_sub_overflow(a[0].u.i, a[1].u.i, &r) || !int_fit(TY, r)) \
            return int_range_err(TY, err);                                     \
        put_int(out, TY, r);                                                   \
        return DC_OK;                                                          \
    }                                                                          \
    static int mul_##T(sql_ctx *ctx, int nargs, const dc_value *a,             \
                       dc_value *out, dc_error *err)                           \
    {                                                                          \
        (void)ctx;                                                             \
        (void)nargs;                                                           \
        int64_t r;                                                             \
        if (__builtin_mul_overflow(a[0].u.i, a[1].u.i, &r) || !int_fit(TY, r)) \
            return int_range_err(TY, err);                                     \
        put_int(out, TY, r);                                                   \
        return DC_OK;                                                          \
    }                                                                          \
    static int div_##T(sql_ctx *ctx, int nargs, const dc_value *a,             \
                       dc_value *out, dc_error *err)                           \
    {                                                                          \
        (void)ctx;                                                             \
        (void)nargs;                                                           \
        int64_t x = a[0].u.i, y = a[1].u.i, r;                                 \
        if (y == 0)                                                            \
            return div_zero(err);                                              \
        if (y == -1) {                                                         \
            if (__builtin_sub_overflow((int64_t)0, x, &r))                     \
                return int_range_err(TY, err);                                 \
        } else {                                                               \
            r = x / y;                                                         \
        }                                                                      \
        if (!int_fit(TY, r))                                                   \
            return int_range_err(TY, err);                                     \
        put_int(out, TY, r);                                                   \
        return DC_OK;                                                          \
    }                                                                          \
    static int mod_##T(sql_ctx *ctx, int nargs, const dc_value *a,             \
                       dc_value *out, dc_error *err)                           \
    {                                                                          \
        (void)ctx;                                                             \
        (void)nargs;                                                           \
        int64_t y = a[1].u.i;                                                  \
        if (y == 0)                                                            \
            return div_zero(err);                                              \
        put_int(out, TY, y == -1 ? 0 : a[0].u.i % y);                          \
        return DC_OK;                                                          \
    }
INT_ARITH(i2, DC_TYPE_INT2)
INT_ARITH(i4, DC_TYPE_INT4)
INT_ARITH(i8, DC_TYPE_INT8)

/* Floats, numeric and date arithmetic through sql_value_arith. */
#define GEN_ARITH(nm, OP)                                                      \
    static int nm##_gen(sql_ctx *ctx, int nargs, const dc_value *a,            \
                        dc_value *out, dc_error *err)                          \
    {                                                                          \
        (void)nargs;                                                           \
        return sql_value_arith(OP, &a[0], &a[1], &ctx->mem, out, err);         \
    }
GEN_ARITH(add, SQL_OP_ADD)
GEN_ARITH(sub, SQL_OP_SUB)
GEN_ARITH(mul, SQL_OP_MUL)
GEN_ARITH(div, SQL_OP_DIV)
GEN_ARITH(mod, SQL_OP_MOD)

static int neg_gen(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                   dc_error *err)
{
    (void)nargs;
    return sql_value_neg(&a[0], &ctx->mem, out, err);
}

static int abs_gen(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                   dc_error *err)
{
    (void)nargs;
    return sql_value_abs(&a[0], &ctx->mem, out, err);
}

static int plus_gen(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                    dc_error *err)
{
    (void)ctx;
    (void)nargs;
    (void)err;
    *out = a[0];
    return DC_OK;
}

/* float8 ^ float8 (PostgreSQL's dpow errors) */
static int pow_flt(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                   dc_error *err)
{
    (void)ctx;
    (void)nargs;
    double x = a[0].u.f, y = a[1].u.f;
    if (x == 0 && y < 0)
        return dc_error_set(err, DC_ERANGE, "2201F",
                            "zero raised to a negative power is undefined");
    if (x < 0 && floor(y) != y && !isinf(y))
        return dc_error_set(err, DC_ERANGE, "2201F",
                            "a negative number raised to a non-integer power "
                            "yields a complex result");
    double r = pow(x, y);
    if (isinf(r) && !isinf(x) && !isinf(y))
        return dc_error_set(err, DC_ERANGE, "22003",
                            "value out of range: overflow");
    if (r == 0 && x != 0 && !isinf(y) && fabs(x) != 0)
        if (!(fabs(x) < 1 && y > 0) && !(fabs(x) > 1 && y < 0))
            return dc_error_set(err, DC_ERANGE, "22003",
                                "value out of range: underflow");
    *out = sql_value_float(DC_TYPE_FLOAT8, r);
    return DC_OK;
}

static int sqrt_flt(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                    dc_error *err)
{
    (void)ctx;
    (void)nargs;
    if (a[0].u.f < 0)
        return dc_error_set(err, DC_ERANGE, "2201F",
                            "cannot take square root of a negative number");
    *out = sql_value_float(DC_TYPE_FLOAT8, sqrt(a[0].u.f));
    return DC_OK;
}

/* Bitwise operators on integers of one width. */
#define BIT_FN(nm, EXPR)                                                       \
    static int nm(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,   \
                  dc_error *err)                                               \
    {                                                                          \
        (void)ctx;                                                             \
        (void)nargs;                                                           \
        (void)err;                                                             \
        put_int(out, a[0].type, EXPR);                                         \
        return DC_OK;                                                          \
    }
BIT_FN(bit_and, a[0].u.i &a[1].u.i)
BIT_FN(bit_or, a[0].u.i | a[1].u.i)
BIT_FN(bit_xor, a[0].u.i ^ a[1].u.i)
BIT_FN(bit_not, ~a[0].u.i)

/* Shifts wrap within the width like PostgreSQL's C shifts. */
static int64_t shift(uint32_t t, int64_t v, int64_t n, bool left)
{
    int bits = t == DC_TYPE_INT2 ? 32 : t == DC_TYPE_INT4 ? 32 : 64;
    n &= bits - 1;
    if (t == DC_TYPE_INT8) {
        uint64_t u = (uint64_t)v;
        return left ? (int64_t)(u << n) : v >> n;
    }
    uint32_t u = (uint32_t)(int32_t)v;
    int32_t r = left ? (int32_t)(u << n) : (int32_t)v >> n;
    return t == DC_TYPE_INT2 ? (int16_t)r : r;
}

static int shl(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
               dc_error *err)
{
    (void)ctx;
    (void)nargs;
    (void)err;
    put_int(out, a[0].type, shift(a[0].type, a[0].u.i, a[1].u.i, true));
    return DC_OK;
}

static int shr(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
               dc_error *err)
{
    (void)ctx;
    (void)nargs;
    (void)err;
    put_int(out, a[0].type, shift(a[0].type, a[0].u.i, a[1].u.i, false));
    return DC_OK;
}

/* ---- LIKE ---------------------------------------------------------------- */

static inline uint8_t fold(uint8_t c, bool icase)
{
    return icase && c < 0x80 ? (uint8_t)tolower(c) : c;
}

static size_t char_len(const uint8_t *s, size_t i, size_t n, bool bytes)
{
    size_t j = i + 1;
    if (!bytes)
        while (j < n && (s[j] & 0xC0) == 0x80)
            j++;
    return j - i;
}

/* Greedy match with backtracking to the last '%': linear in practice.
 * `bytes`: '_' matches one byte (bytea) instead of one character. */
static int like_impl(const uint8_t *s, size_t slen, const uint8_t *p,
                     size_t plen, int esc, bool icase, bool bytes, bool *match,
                     dc_error *err)
{
    size_t si = 0, pi = 0, star_p = 0, star_s = 0;
    bool star = false;
    while (si < slen) {
        if (pi < plen) {
            uint8_t c = p[pi];
            if (c == '%' && esc != '%') {
                while (pi < plen && p[pi] == '%')
                    pi++;
                star = true;
                star_p = pi;
                star_s = si;
                continue;
            }
            if (c == '_' && esc != '_') {
                si += char_len(s, si, slen, bytes);
                pi++;
                continue;
            }
            size_t adv = 1;
            if (esc >= 0 && c == (uint8_t)esc) {
                if (pi + 1 >= plen)
                    return dc_error_set(err, DC_EINVAL, "22025",
                                        "LIKE pattern must not end with "
                                        "escape character");
                c = p[pi + 1];
                adv = 2;
            }
            if (fold(c, icase) == fold(s[si], icase)) {
                si++;
                pi += adv;
                continue;
            }
        }
        if (!star) {
            *match = false;
            return DC_OK;
        }
        star_s += char_len(s, star_s, slen, bytes);
        si = star_s;
        pi = star_p;
    }
    while (pi < plen && p[pi] == '%' && esc != '%')
        pi++;
    *match = pi == plen;
    return DC_OK;
}

static bool has_high(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] >= 0x80)
            return true;
    return false;
}

/* ILIKE beyond ASCII: match lower() of both, as PostgreSQL does. */
static int ilike_utf8(const uint8_t *s, size_t slen, const uint8_t *p,
                      size_t plen, int esc, bool *match, dc_error *err)
{
    uint8_t *ls = malloc(slen + plen + 1);
    if (!ls)
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    uint8_t *lp = ls + slen;
    sql_fx_lower_bytes(s, slen, ls);
    sql_fx_lower_bytes(p, plen, lp);
    int rc = like_impl(ls, slen, lp, plen, esc, false, false, match, err);
    free(ls);
    return rc;
}

static int like_text(const uint8_t *s, size_t slen, const uint8_t *p,
                     size_t plen, int esc, bool icase, bool *match,
                     dc_error *err)
{
    if (icase && (has_high(s, slen) || has_high(p, plen)))
        return ilike_utf8(s, slen, p, plen, esc, match, err);
    return like_impl(s, slen, p, plen, esc, icase, false, match, err);
}

int sql_like_match(const uint8_t *s, size_t slen, const uint8_t *pat,
                   size_t plen, int escape, bool icase, bool *match,
                   dc_error *err)
{
    return like_text(s, slen, pat, plen, escape, icase, match, err);
}

#define LIKE_FN(nm, ICASE, NEG, BYTES)                                         \
    static int nm(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,   \
                  dc_error *err)                                               \
    {                                                                          \
        (void)ctx;                                                             \
        (void)nargs;                                                           \
        bool m;                                                                \
        int rc = BYTES ? like_impl(a[0].u.bytes.ptr, a[0].u.bytes.len,         \
                                   a[1].u.bytes.ptr, a[1].u.bytes.len, '\\',   \
                                   false, true, &m, err)                       \
                       : like_text(a[0].u.bytes.ptr, a[0].u.bytes.len,         \
                                   a[1].u.bytes.ptr, a[1].u.bytes.len, '\\',   \
                                   ICASE, &m, err);                            \
        if (rc)                                                                \
            return rc;                                                         \
        put_bool(out, NEG ? !m : m);                                           \
        return DC_OK;                                                          \
    }
LIKE_FN(op_like, false, false, false)
LIKE_FN(op_nlike, false, true, false)
LIKE_FN(op_ilike, true, false, false)
LIKE_FN(op_nilike, true, true, false)
LIKE_FN(op_blike, false, false, true)
LIKE_FN(op_bnlike, false, true, true)

/* ---- regular expressions ------------------------------------------------- */

#define RX_FN(nm, ICASE, NEG)                                                  \
    static int nm(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,   \
                  dc_error *err)                                               \
    {                                                                          \
        (void)ctx;                                                             \
        (void)nargs;                                                           \
        bool m;                                                                \
        int rc =                                                               \
            sql_rx_match(a[0].u.bytes.ptr, a[0].u.bytes.len, a[1].u.bytes.ptr, \
                         a[1].u.bytes.len, ICASE, &m, err);                    \
        if (rc)                                                                \
            return rc;                                                         \
        put_bool(out, NEG ? !m : m);                                           \
        return DC_OK;                                                          \
    }
RX_FN(op_rx, false, false)
RX_FN(op_nrx, false, true)
RX_FN(op_irx, true, false)
RX_FN(op_nirx, true, true)

/* text ^@ text */
static int op_starts(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    (void)ctx;
    (void)nargs;
    (void)err;
    size_t n = a[1].u.bytes.len;
    put_bool(out,
             a[0].u.bytes.len >= n &&
                 (n == 0 || !memcmp(a[0].u.bytes.ptr, a[1].u.bytes.ptr, n)));
    return DC_OK;
}

/* ---- the table ------------------------------------------------------------
 */

#define B  DC_TYPE_BOOL
#define BY DC_TYPE_BYTEA
#define NM DC_TYPE_NAME
#define I2 DC_TYPE_INT2
#define I4 DC_TYPE_INT4
#define I8 DC_TYPE_INT8
#define TX DC_TYPE_TEXT
#define OI DC_TYPE_OID
#define F4 DC_TYPE_FLOAT4
#define F8 DC_TYPE_FLOAT8
#define BP DC_TYPE_BPCHAR
#define DT DC_TYPE_DATE
#define TS DC_TYPE_TIMESTAMP
#define TZ DC_TYPE_TIMESTAMPTZ
#define NU DC_TYPE_NUMERIC

#define CMP6(l, r, cls)                                                        \
    {"=", 2, {l, r}, B, cls##_eq, S}, {"<>", 2, {l, r}, B, cls##_ne, S},       \
        {"<", 2, {l, r}, B, cls##_lt, S}, {"<=", 2, {l, r}, B, cls##_le, S},   \
        {">", 2, {l, r}, B, cls##_gt, S},                                      \
    {                                                                          \
        ">=", 2, {l, r}, B, cls##_ge, S                                        \
    }

#define ARITH4(l, r, ret, sfx)                                                 \
    {"+", 2, {l, r}, ret, add_##sfx, S}, {"-", 2, {l, r}, ret, sub_##sfx, S},  \
        {"*", 2, {l, r}, ret, mul_##sfx, S},                                   \
    {                                                                          \
        "/", 2, {l, r}, ret, div_##sfx, S                                      \
    }

#define PREFIX(t)                                                              \
    {"-", 1, {t}, t, neg_gen, S}, {"+", 1, {t}, t, plus_gen, S},               \
    {                                                                          \
        "@", 1, {t}, t, abs_gen, S                                             \
    }

#define BITS(t)                                                                \
    {"&", 2, {t, t}, t, bit_and, S}, {"|", 2, {t, t}, t, bit_or, S},           \
        {"#", 2, {t, t}, t, bit_xor, S}, {"~", 1, {t}, t, bit_not, S},         \
        {"<<", 2, {t, I4}, t, shl, S},                                         \
    {                                                                          \
        ">>", 2, {t, I4}, t, shr, S                                            \
    }

#define PATTERNS(l)                                                            \
    {"~~", 2, {l, TX}, B, op_like, S}, {"!~~", 2, {l, TX}, B, op_nlike, S},    \
        {"~~*", 2, {l, TX}, B, op_ilike, S},                                   \
        {"!~~*", 2, {l, TX}, B, op_nilike, S}, {"~", 2, {l, TX}, B, op_rx, S}, \
        {"!~", 2, {l, TX}, B, op_nrx, S}, {"~*", 2, {l, TX}, B, op_irx, S},    \
    {                                                                          \
        "!~*", 2, {l, TX}, B, op_nirx, S                                       \
    }

const sql_fcand sql_oper_table[] = {
    /* comparison */
    CMP6(I2, I2, int),
    CMP6(I2, I4, int),
    CMP6(I2, I8, int),
    CMP6(I4, I2, int),
    CMP6(I4, I4, int),
    CMP6(I4, I8, int),
    CMP6(I8, I2, int),
    CMP6(I8, I4, int),
    CMP6(I8, I8, int),
    CMP6(OI, OI, int),
    CMP6(F4, F4, flt),
    CMP6(F4, F8, flt),
    CMP6(F8, F4, flt),
    CMP6(F8, F8, flt),
    CMP6(NU, NU, num),
    CMP6(TX, TX, txt),
    CMP6(NM, NM, txt),
    CMP6(NM, TX, txt),
    CMP6(TX, NM, txt),
    CMP6(BP, BP, bpc),
    CMP6(BY, BY, txt),
    CMP6(B, B, bln),
    CMP6(DT, DT, int),
    CMP6(TS, TS, int),
    CMP6(TZ, TZ, int),
    CMP6(DT, TS, dtx),
    CMP6(DT, TZ, dtx),
    CMP6(TS, DT, dtx),
    CMP6(TS, TZ, dtx),
    CMP6(TZ, DT, dtx),
    CMP6(TZ, TS, dtx),
    /* arithmetic */
    ARITH4(I2, I2, I2, i2),
    ARITH4(I2, I4, I4, i4),
    ARITH4(I2, I8, I8, i8),
    ARITH4(I4, I2, I4, i4),
    ARITH4(I4, I4, I4, i4),
    ARITH4(I4, I8, I8, i8),
    ARITH4(I8, I2, I8, i8),
    ARITH4(I8, I4, I8, i8),
    ARITH4(I8, I8, I8, i8),
    {"%", 2, {I2, I2}, I2, mod_i2, S},
    {"%", 2, {I4, I4}, I4, mod_i4, S},
    {"%", 2, {I8, I8}, I8, mod_i8, S},
    ARITH4(F4, F4, F4, gen),
    ARITH4(F4, F8, F8, gen),
    ARITH4(F8, F4, F8, gen),
    ARITH4(F8, F8, F8, gen),
    ARITH4(NU, NU, NU, gen),
    {"%", 2, {NU, NU}, NU, mod_gen, S},
    {"+", 2, {DT, I4}, DT, add_gen, S},
    {"+", 2, {I4, DT}, DT, add_gen, S},
    {"-", 2, {DT, I4}, DT, sub_gen, S},
    {"-", 2, {DT, DT}, I4, sub_gen, S},
    {"^", 2, {F8, F8}, F8, pow_flt, S},
    {"^", 2, {NU, NU}, NU, sql_fn_power_num, S},
    {"|/", 1, {F8}, F8, sqrt_flt, S},
    PREFIX(I2),
    PREFIX(I4),
    PREFIX(I8),
    PREFIX(F4),
    PREFIX(F8),
    PREFIX(NU),
    BITS(I2),
    BITS(I4),
    BITS(I8),
    /* pattern matching */
    PATTERNS(TX),
    PATTERNS(BP),
    PATTERNS(NM),
    {"~~", 2, {BY, BY}, B, op_blike, S},
    {"!~~", 2, {BY, BY}, B, op_bnlike, S},
    {"^@", 2, {TX, TX}, B, op_starts, S},
    {NULL, 0, {0}, 0, NULL, 0},
};
