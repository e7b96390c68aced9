/*
 * sql/funcs_misc.c - math functions, date/time functions (now(),
 * extract/date_part, date_trunc) and the system information functions
 * clients and catalogs ask for (version(), current_setting(), format_type()
 * ...), with their signature table sql_misc_func_table.
 */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sql/funcs_pg.h"
#include "sql/funcs_int.h"

#define S  SQL_FN_STRICT
#define V  SQL_FN_VOLATILE
#define B  DC_TYPE_BOOL
#define NM DC_TYPE_NAME
#define I2 DC_TYPE_INT2
#define I4 DC_TYPE_INT4
#define I8 DC_TYPE_INT8
#define TX DC_TYPE_TEXT
#define OI DC_TYPE_OID
#define F4 DC_TYPE_FLOAT4
#define F8 DC_TYPE_FLOAT8
#define DT DC_TYPE_DATE
#define TS DC_TYPE_TIMESTAMP
#define TZ DC_TYPE_TIMESTAMPTZ
#define NU DC_TYPE_NUMERIC

#define UNUSED (void)ctx, (void)nargs, (void)err
#define P(v)   ((v).u.bytes.ptr)
#define N(v)   ((v).u.bytes.len)

/* Seconds between 1970-01-01 and 2000-01-01. */
#define EPOCH_OFFSET INT64_C(946684800)

static int ret_f8(double d, dc_value *out)
{
    *out = sql_value_float(DC_TYPE_FLOAT8, d);
    return DC_OK;
}

/* ---- math ---------------------------------------------------------------- */

static int f_abs(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                 dc_error *err)
{
    (void)nargs;
    return sql_value_abs(&a[0], &ctx->mem, out, err);
}

/* Apply an in-place numeric rounding step to a[0] with scale a[1] (0). */
static int num_round(sql_ctx *ctx, int nargs, const dc_value *a, bool trunc,
                     dc_value *out, dc_error *err)
{
    sql_num n;
    sql_num_init(&n);
    int64_t sc = nargs > 1 ? a[1].u.i : 0;
    if (sc > SQL_NUM_MAX_SCALE)
        sc = SQL_NUM_MAX_SCALE;
    if (sc < -SQL_NUM_MAX_SCALE)
        sc = -SQL_NUM_MAX_SCALE;
    int rc = sql_value_get_num(&a[0], &n, err);
    if (rc == DC_OK && n.kind == SQL_NUM_FINITE)
        rc = trunc ? sql_num_trunc(&n, (int)sc, err)
                   : sql_num_round(&n, (int)sc, err);
    if (rc == DC_OK)
        rc = sql_fx_num(ctx, &n, out, err);
    sql_num_free(&n);
    return rc;
}

static int f_round_num(sql_ctx *ctx, int nargs, const dc_value *a,
                       dc_value *out, dc_error *err)
{
    return num_round(ctx, nargs, a, false, out, err);
}

static int f_trunc_num(sql_ctx *ctx, int nargs, const dc_value *a,
                       dc_value *out, dc_error *err)
{
    return num_round(ctx, nargs, a, true, out, err);
}

/* ceil / floor of a numeric: integral part, moved away from zero when a
 * fraction was dropped in the rounding direction. */
static int num_ceil_floor(sql_ctx *ctx, const dc_value *v, bool ceil_,
                          dc_value *out, dc_error *err)
{
    sql_num n, t, one, r;
    sql_num_init(&n);
    sql_num_init(&t);
    sql_num_init(&one);
    sql_num_init(&r);
    int rc = sql_value_get_num(v, &n, err);
    if (rc == DC_OK && n.kind != SQL_NUM_FINITE) {
        rc = sql_fx_num(ctx, &n, out, err);
        goto done;
    }
    if (rc == DC_OK)
        rc = sql_num_copy(&t, &n, err);
    if (rc == DC_OK)
        rc = sql_num_trunc(&t, 0, err);
    if (rc == DC_OK && sql_num_cmp(&t, &n) != 0 && (n.neg != 0) != ceil_) {
        rc = sql_num_from_int64(ceil_ ? 1 : -1, &one, err);
        if (rc == DC_OK)
            rc = sql_num_add(&t, &one, &r, err);
        if (rc == DC_OK)
            rc = sql_num_copy(&t, &r, err);
    }
    if (rc == DC_OK) {
        t.scale = 0;
        rc = sql_fx_num(ctx, &t, out, err);
    }
done:
    sql_num_free(&n);
    sql_num_free(&t);
    sql_num_free(&one);
    sql_num_free(&r);
    return rc;
}

static int f_ceil_num(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                      dc_error *err)
{
    (void)nargs;
    return num_ceil_floor(ctx, &a[0], true, out, err);
}

static int f_floor_num(sql_ctx *ctx, int nargs, const dc_value *a,
                       dc_value *out, dc_error *err)
{
    (void)nargs;
    return num_ceil_floor(ctx, &a[0], false, out, err);
}

static int f_sign_num(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                      dc_error *err)
{
    (void)nargs;
    sql_num n, r;
    sql_num_init(&n);
    sql_num_init(&r);
    int rc = sql_value_get_num(&a[0], &n, err);
    if (rc == DC_OK) {
        if (n.kind == SQL_NUM_NAN)
            rc = sql_num_copy(&r, &n, err);
        else
            rc = sql_num_from_int64(n.kind == SQL_NUM_NINF || n.neg       ? -1
                                    : n.kind == SQL_NUM_PINF || n.ndigits ? 1
                                                                          : 0,
                                    &r, err);
    }
    if (rc == DC_OK)
        rc = sql_fx_num(ctx, &r, out, err);
    sql_num_free(&n);
    sql_num_free(&r);
    return rc;
}

static int f_mod_num(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    (void)nargs;
    return sql_value_arith(SQL_OP_MOD, &a[0], &a[1], &ctx->mem, out, err);
}

static int f_mod_int(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    UNUSED;
    if (a[1].u.i == 0)
        return dc_error_set(err, DC_ERANGE, "22012", "division by zero");
    *out = sql_value_int(a[0].type, a[1].u.i == -1 ? 0 : a[0].u.i % a[1].u.i);
    return DC_OK;
}

static int f_div_num(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    (void)nargs;
    sql_num x, y, z;
    sql_num_init(&x);
    sql_num_init(&y);
    sql_num_init(&z);
    int rc = sql_value_get_num(&a[0], &x, err);
    if (rc == DC_OK)
        rc = sql_value_get_num(&a[1], &y, err);
    if (rc == DC_OK)
        rc = sql_num_div_scale(&x, &y, 0, 0, &z, err);
    if (rc == DC_OK)
        rc = sql_fx_num(ctx, &z, out, err);
    sql_num_free(&x);
    sql_num_free(&y);
    sql_num_free(&z);
    return rc;
}

/* ---- numeric sqrt and power ------------------------------------------------
 * Result scales follow PostgreSQL: at least 16 significant digits and no
 * less than the inputs' scales. */

#define NUM_MIN_SIG_DIGITS 16

/* PostgreSQL's weight: the base-10000 digit position of the leading digit. */
static int num_weight(const sql_num *n)
{
    if (n->ndigits == 0)
        return 0;
    int e = sql_num_exponent(n);
    return e >= 0 ? e / 4 : -((-e + 3) / 4);
}

static int clamp_scale(int s)
{
    return s < 0 ? 0 : s > SQL_NUM_MAX_SCALE ? SQL_NUM_MAX_SCALE : s;
}

static int num_special(sql_ctx *ctx, const char *txt, dc_value *out,
                       dc_error *err)
{
    sql_num r;
    sql_num_init(&r);
    int rc = sql_num_parse(txt, strlen(txt), &r, err);
    if (rc == DC_OK)
        rc = sql_fx_num(ctx, &r, out, err);
    sql_num_free(&r);
    return rc;
}

/* Newton's iteration x = (x + a/x) / 2 at `ws` digits from a float8
 * start, for finite a > 0. */
static int num_sqrt(const sql_num *a, int ws, sql_num *x, dc_error *err)
{
    sql_num q, sum, two, nx;
    sql_num_init(&q);
    sql_num_init(&sum);
    sql_num_init(&two);
    sql_num_init(&nx);
    int rc = sql_num_from_double(sqrt(sql_num_to_double(a)), 15, x, err);
    if (rc == DC_OK && x->ndigits == 0) /* underflowed start */
        rc = sql_num_parse("1", 1, x, err);
    if (rc == DC_OK)
        rc = sql_num_from_int64(2, &two, err);
    for (int it = 0; it < 64 && rc == DC_OK; it++) {
        rc = sql_num_div_scale(a, x, ws, 1, &q, err);
        if (rc == DC_OK)
            rc = sql_num_add(x, &q, &sum, err);
        if (rc == DC_OK)
            rc = sql_num_div_scale(&sum, &two, ws, 1, &nx, err);
        if (rc)
            break;
        bool same = sql_num_cmp(&nx, x) == 0;
        rc = sql_num_copy(x, &nx, err);
        if (same)
            break;
    }
    sql_num_free(&q);
    sql_num_free(&sum);
    sql_num_free(&two);
    sql_num_free(&nx);
    return rc;
}

static int f_sqrt_num(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                      dc_error *err)
{
    (void)nargs;
    sql_num n, x;
    sql_num_init(&n);
    sql_num_init(&x);
    int rc = sql_value_get_num(&a[0], &n, err);
    if (rc == DC_OK && (n.neg || n.kind == SQL_NUM_NINF))
        rc = dc_error_set(err, DC_ERANGE, "2201F",
                          "cannot take square root of a negative number");
    if (rc == DC_OK && n.kind != SQL_NUM_FINITE) {
        rc = sql_fx_num(ctx, &n, out, err);
        goto done;
    }
    if (rc)
        goto done;
    int sweight = (num_weight(&n) + 1) * 4 / 2 - 1;
    int rscale = NUM_MIN_SIG_DIGITS - sweight;
    if (rscale < n.scale)
        rscale = n.scale;
    rscale = clamp_scale(rscale);
    if (n.ndigits == 0) {
        rc = sql_num_from_int64(0, &x, err);
    } else {
        rc = num_sqrt(&n, rscale + 4, &x, err);
    }
    if (rc == DC_OK)
        rc = sql_num_round(&x, rscale, err);
    if (rc == DC_OK) {
        x.scale = rscale;
        rc = sql_fx_num(ctx, &x, out, err);
    }
done:
    sql_num_free(&n);
    sql_num_free(&x);
    return rc;
}

/* base ^ e for an integer e: exact by repeated squaring while small,
 * else rounded at a working scale with guard digits. */
static int num_pow_int(const sql_num *base, int64_t e, int rscale, sql_num *out,
                       dc_error *err)
{
    uint64_t k = e < 0 ? (uint64_t)(-(e + 1)) + 1 : (uint64_t)e;
    bool exact = (double)k * (base->ndigits + 1) <= 4000;
    double wt = (double)e * log10(fabs(sql_num_to_double(base)));
    int guard = 12 + 2 * (int)log10((double)k + 1) + (wt < 0 ? (int)-wt : 0);
    int ws = clamp_scale(rscale + guard);
    sql_num acc, sq, t;
    sql_num_init(&acc);
    sql_num_init(&sq);
    sql_num_init(&t);
    int rc = sql_num_from_int64(1, &acc, err);
    if (rc == DC_OK)
        rc = sql_num_copy(&sq, base, err);
    while (k > 0 && rc == DC_OK) {
        if (k & 1) {
            rc = sql_num_mul(&acc, &sq, &t, err);
            if (rc == DC_OK)
                rc = sql_num_copy(&acc, &t, err);
            if (rc == DC_OK && !exact && acc.scale > ws)
                rc = sql_num_round(&acc, ws, err);
        }
        k >>= 1;
        if (k > 0 && rc == DC_OK) {
            rc = sql_num_mul(&sq, &sq, &t, err);
            if (rc == DC_OK)
                rc = sql_num_copy(&sq, &t, err);
            if (rc == DC_OK && !exact && sq.scale > ws)
                rc = sql_num_round(&sq, ws, err);
        }
    }
    if (rc == DC_OK && e < 0) {
        sql_num one;
        sql_num_init(&one);
        rc = sql_num_from_int64(1, &one, err);
        if (rc == DC_OK)
            rc = sql_num_div_scale(&one, &acc, rscale, 1, &t, err);
        if (rc == DC_OK)
            rc = sql_num_copy(&acc, &t, err);
        sql_num_free(&one);
    }
    if (rc == DC_OK)
        rc = sql_num_round(&acc, rscale, err);
    if (rc == DC_OK) {
        acc.scale = rscale;
        rc = sql_num_copy(out, &acc, err);
    }
    sql_num_free(&acc);
    sql_num_free(&sq);
    sql_num_free(&t);
    return rc;
}

static int num_pow(const sql_num *b, const sql_num *x, sql_num *r,
                   dc_error *err)
{
    bool b_zero = b->kind == SQL_NUM_FINITE && b->ndigits == 0;
    sql_num xi;
    sql_num_init(&xi);
    int rc = sql_num_copy(&xi, x, err);
    if (rc == DC_OK)
        rc = sql_num_trunc(&xi, 0, err);
    bool integral = rc == DC_OK && sql_num_cmp(&xi, x) == 0;
    int64_t e = 0;
    if (integral &&
        sql_num_to_int(&xi, INT32_MIN, INT32_MAX, "integer", &e, NULL) != DC_OK)
        integral = false;
    sql_num_free(&xi);
    if (rc)
        return rc;
    if (b_zero && x->neg)
        return dc_error_set(err, DC_ERANGE, "2201F",
                            "zero raised to a negative power is undefined");
    if (b->neg && !integral)
        return dc_error_set(err, DC_ERANGE, "2201F",
                            "a negative number raised to a non-integer power "
                            "yields a complex result");
    if (integral) {
        int rscale = NUM_MIN_SIG_DIGITS;
        if (rscale < b->scale)
            rscale = b->scale;
        return num_pow_int(b, e, clamp_scale(rscale), r, err);
    }
    /* non-integral exponent: exp(ln(b) * x) in long double */
    long double lb = strtold("0", NULL);
    long double lx = (long double)sql_num_to_double(x);
    {
        char *t = NULL;
        size_t tl;
        rc = sql_num_format(b, &t, &tl, err);
        if (rc)
            return rc;
        lb = strtold(t, NULL);
        free(t);
        t = NULL;
        rc = sql_num_format(x, &t, &tl, err);
        if (rc)
            return rc;
        lx = strtold(t, NULL);
        free(t);
    }
    long double v = b_zero ? 0.0L : powl(lb, lx);
    double wt = b_zero ? 0 : (double)(lx * log10l(lb));
    int rscale = NUM_MIN_SIG_DIGITS - (int)wt;
    if (rscale < b->scale)
        rscale = b->scale;
    if (rscale < x->scale)
        rscale = x->scale;
    rscale = clamp_scale(rscale);
    if (isinf((double)v))
        return dc_error_set(err, DC_ERANGE, "22003",
                            "value overflows numeric format");
    char buf[1100];
    snprintf(buf, sizeof buf, "%.*Lf", rscale > 1000 ? 1000 : rscale, v);
    rc = sql_num_parse(buf, strlen(buf), r, err);
    if (rc == DC_OK)
        r->scale = rscale;
    return rc;
}

int sql_fn_power_num(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    (void)nargs;
    sql_num b, x, r;
    sql_num_init(&b);
    sql_num_init(&x);
    sql_num_init(&r);
    int rc = sql_value_get_num(&a[0], &b, err);
    if (rc == DC_OK)
        rc = sql_value_get_num(&a[1], &x, err);
    if (rc)
        goto done;
    if (b.kind != SQL_NUM_FINITE || x.kind != SQL_NUM_FINITE) {
        /* 1 ^ anything and anything ^ 0 are 1; other specials follow
         * float8 */
        sql_num one;
        sql_num_init(&one);
        rc = sql_num_from_int64(1, &one, err);
        bool is1 = rc == DC_OK && sql_num_cmp(&b, &one) == 0;
        bool x0 = x.kind == SQL_NUM_FINITE && x.ndigits == 0;
        sql_num_free(&one);
        if (rc == DC_OK) {
            if (is1 || x0) {
                rc = num_special(ctx, "1", out, err);
            } else {
                double d = pow(sql_num_to_double(&b), sql_num_to_double(&x));
                rc = num_special(ctx,
                                 isnan(d)   ? "NaN"
                                 : d > 0    ? (isinf(d) ? "Infinity" : "0")
                                 : isinf(d) ? "-Infinity"
                                            : "0",
                                 out, err);
            }
        }
        goto done;
    }
    rc = num_pow(&b, &x, &r, err);
    if (rc == DC_OK)
        rc = sql_fx_num(ctx, &r, out, err);
done:
    sql_num_free(&b);
    sql_num_free(&x);
    sql_num_free(&r);
    return rc;
}

/* float8 functions: one C function each through a shared checker */
static int f8_result(double r, double x, dc_value *out, dc_error *err)
{
    if (isinf(r) && !isinf(x))
        return dc_error_set(err, DC_ERANGE, "22003",
                            "value out of range: overflow");
    return ret_f8(r, out);
}

static int f_round_f8(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                      dc_error *err)
{
    UNUSED;
    return ret_f8(rint(a[0].u.f), out);
}

static int f_trunc_f8(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                      dc_error *err)
{
    UNUSED;
    return ret_f8(trunc(a[0].u.f), out);
}

static int f_ceil_f8(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    UNUSED;
    return ret_f8(ceil(a[0].u.f), out);
}

static int f_floor_f8(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                      dc_error *err)
{
    UNUSED;
    return ret_f8(floor(a[0].u.f), out);
}

static int f_sign_f8(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    UNUSED;
    double x = a[0].u.f;
    return ret_f8(isnan(x) ? x : x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0, out);
}

static int f_sqrt(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                  dc_error *err)
{
    (void)ctx, (void)nargs;
    if (a[0].u.f < 0)
        return dc_error_set(err, DC_ERANGE, "2201F",
                            "cannot take square root of a negative number");
    return ret_f8(sqrt(a[0].u.f), out);
}

static int f_power(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                   dc_error *err)
{
    (void)ctx, (void)nargs;
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
    return ret_f8(r, out);
}

static int f_exp(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                 dc_error *err)
{
    (void)ctx, (void)nargs;
    double r = exp(a[0].u.f);
    if (r == 0 && !isinf(a[0].u.f))
        return dc_error_set(err, DC_ERANGE, "22003",
                            "value out of range: underflow");
    return f8_result(r, a[0].u.f, out, err);
}

static int log_check(double x, dc_error *err)
{
    if (x == 0)
        return dc_error_set(err, DC_ERANGE, "2201E",
                            "cannot take logarithm of zero");
    if (x < 0)
        return dc_error_set(err, DC_ERANGE, "2201E",
                            "cannot take logarithm of a negative number");
    return DC_OK;
}

static int f_ln(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                dc_error *err)
{
    (void)ctx, (void)nargs;
    int rc = log_check(a[0].u.f, err);
    return rc ? rc : ret_f8(log(a[0].u.f), out);
}

static int f_log10(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                   dc_error *err)
{
    (void)ctx, (void)nargs;
    int rc = log_check(a[0].u.f, err);
    return rc ? rc : ret_f8(log10(a[0].u.f), out);
}

#define F8_FN(nm, EXPR)                                                        \
    static int f_##nm(sql_ctx *ctx, int nargs, const dc_value *a,              \
                      dc_value *out, dc_error *err)                            \
    {                                                                          \
        UNUSED;                                                                \
        double x = a[0].u.f;                                                   \
        return ret_f8(EXPR, out);                                              \
    }
F8_FN(sin, sin(x))
F8_FN(cos, cos(x))
F8_FN(tan, tan(x))
F8_FN(asin, asin(x))
F8_FN(acos, acos(x))
F8_FN(atan, atan(x))
F8_FN(degrees, x *(180.0 / M_PI))
F8_FN(radians, x *(M_PI / 180.0))

static int f_atan2(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                   dc_error *err)
{
    UNUSED;
    return ret_f8(atan2(a[0].u.f, a[1].u.f), out);
}

static int f_pi(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                dc_error *err)
{
    UNUSED;
    (void)a;
    return ret_f8(M_PI, out);
}

/* random(): a per-thread xorshift generator seeded from the clock. */
static int f_random(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                    dc_error *err)
{
    UNUSED;
    (void)a;
    static _Thread_local uint64_t state;
    if (state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
                ((uint64_t)(uintptr_t)&state) ^ 0x9E3779B97F4A7C15u;
    }
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return ret_f8((double)(state >> 11) / 9007199254740992.0, out);
}

/* ---- date / time -----------------------------------------------------------
 */

static int64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((int64_t)ts.tv_sec - EPOCH_OFFSET) * 1000000 + ts.tv_nsec / 1000;
}

static int f_now(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                 dc_error *err)
{
    UNUSED;
    (void)a;
    *out = sql_value_int(DC_TYPE_TIMESTAMPTZ, ctx->txn_ts);
    return DC_OK;
}

static int f_stmt_ts(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    UNUSED;
    (void)a;
    *out = sql_value_int(DC_TYPE_TIMESTAMPTZ, ctx->stmt_ts);
    return DC_OK;
}

static int f_clock_ts(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                      dc_error *err)
{
    UNUSED;
    (void)a;
    *out = sql_value_int(DC_TYPE_TIMESTAMPTZ, now_usec());
    return DC_OK;
}

static int f_localts(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    (void)nargs;
    (void)a;
    int64_t ts;
    int rc = sql_timestamptz_to_local(ctx->txn_ts, ctx->tz, &ts, err);
    if (rc == DC_OK)
        *out = sql_value_int(DC_TYPE_TIMESTAMP, ts);
    return rc;
}

static int f_current_date(sql_ctx *ctx, int nargs, const dc_value *a,
                          dc_value *out, dc_error *err)
{
    (void)nargs;
    (void)a;
    int64_t ts;
    int32_t d;
    int rc = sql_timestamptz_to_local(ctx->txn_ts, ctx->tz, &ts, err);
    if (rc == DC_OK)
        rc = sql_timestamp_to_date(ts, &d, err);
    if (rc == DC_OK)
        *out = sql_value_int(DC_TYPE_DATE, d);
    return rc;
}

/* Units of extract / date_part / date_trunc. */
typedef enum dt_unit {
    U_NONE,
    U_USEC,
    U_MSEC,
    U_SECOND,
    U_MINUTE,
    U_HOUR,
    U_DAY,
    U_WEEK,
    U_MONTH,
    U_QUARTER,
    U_YEAR,
    U_DECADE,
    U_CENTURY,
    U_MILLENNIUM,
    U_DOW,
    U_ISODOW,
    U_DOY,
    U_EPOCH,
    U_ISOYEAR,
    U_JULIAN,
    U_TZ,
    U_TZ_HOUR,
    U_TZ_MINUTE
} dt_unit;

static const struct {
    const char *name;
    dt_unit unit;
} dt_units[] = {
    {"microsecond", U_USEC},
    {"microseconds", U_USEC},
    {"us", U_USEC},
    {"usec", U_USEC},
    {"usecs", U_USEC},
    {"useconds", U_USEC},
    {"millisecond", U_MSEC},
    {"milliseconds", U_MSEC},
    {"ms", U_MSEC},
    {"msec", U_MSEC},
    {"msecs", U_MSEC},
    {"mseconds", U_MSEC},
    {"second", U_SECOND},
    {"seconds", U_SECOND},
    {"s", U_SECOND},
    {"sec", U_SECOND},
    {"secs", U_SECOND},
    {"minute", U_MINUTE},
    {"minutes", U_MINUTE},
    {"m", U_MINUTE},
    {"min", U_MINUTE},
    {"mins", U_MINUTE},
    {"hour", U_HOUR},
    {"hours", U_HOUR},
    {"h", U_HOUR},
    {"hr", U_HOUR},
    {"hrs", U_HOUR},
    {"day", U_DAY},
    {"days", U_DAY},
    {"d", U_DAY},
    {"week", U_WEEK},
    {"weeks", U_WEEK},
    {"w", U_WEEK},
    {"month", U_MONTH},
    {"months", U_MONTH},
    {"mon", U_MONTH},
    {"mons", U_MONTH},
    {"quarter", U_QUARTER},
    {"qtr", U_QUARTER},
    {"year", U_YEAR},
    {"years", U_YEAR},
    {"y", U_YEAR},
    {"yr", U_YEAR},
    {"yrs", U_YEAR},
    {"decade", U_DECADE},
    {"decades", U_DECADE},
    {"dec", U_DECADE},
    {"decs", U_DECADE},
    {"century", U_CENTURY},
    {"centuries", U_CENTURY},
    {"c", U_CENTURY},
    {"cent", U_CENTURY},
    {"millennium", U_MILLENNIUM},
    {"millennia", U_MILLENNIUM},
    {"mil", U_MILLENNIUM},
    {"mils", U_MILLENNIUM},
    {"dow", U_DOW},
    {"isodow", U_ISODOW},
    {"doy", U_DOY},
    {"epoch", U_EPOCH},
    {"isoyear", U_ISOYEAR},
    {"julian", U_JULIAN},
    {"j", U_JULIAN},
    {"timezone", U_TZ},
    {"timezone_hour", U_TZ_HOUR},
    {"timezone_minute", U_TZ_MINUTE},
};

static dt_unit unit_lookup(const dc_value *v, char *name, size_t cap)
{
    size_t n = N(*v) < cap - 1 ? N(*v) : cap - 1;
    for (size_t i = 0; i < n; i++)
        name[i] = (char)tolower(P(*v)[i]);
    name[n] = 0;
    if (N(*v) >= cap)
        return U_NONE;
    for (size_t k = 0; k < sizeof dt_units / sizeof dt_units[0]; k++)
        if (!strcmp(dt_units[k].name, name))
            return dt_units[k].unit;
    return U_NONE;
}

/* Broken-down local time. */
typedef struct dt_tm {
    int64_t year; /* astronomical */
    int mon, mday, hour, min;
    int64_t usec; /* microseconds within the minute */
    int64_t days; /* days since 2000-01-01 */
} dt_tm;

static int64_t fdiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void ts_to_tm(int64_t ts, dt_tm *tm)
{
    int64_t days = fdiv(ts, SQL_USECS_PER_DAY);
    int64_t t = ts - days * SQL_USECS_PER_DAY;
    tm->days = days;
    sql_date_to_ymd(days, &tm->year, &tm->mon, &tm->mday);
    tm->hour = (int)(t / INT64_C(3600000000));
    t -= (int64_t)tm->hour * INT64_C(3600000000);
    tm->min = (int)(t / 60000000);
    tm->usec = t - (int64_t)tm->min * 60000000;
}

static int dow_of(int64_t days)
{
    /* 2000-01-01 was a Saturday */
    return (int)(((days % 7) + 7 + 6) % 7);
}

/* ISO 8601 week number and year of a day. */
static void iso_week(int64_t days, int64_t *isoyear, int *week)
{
    int isodow = dow_of(days) == 0 ? 7 : dow_of(days);
    int64_t thu = days - isodow + 4;
    int64_t y;
    int m, d;
    sql_date_to_ymd(thu, &y, &m, &d);
    *isoyear = y;
    *week = (int)((thu - sql_date_from_ymd(y, 1, 1)) / 7 + 1);
}

static int64_t year_of(int64_t y)
{
    return y > 0 ? y : y - 1;
}

/* Value of `unit` of a finite local timestamp as a scaled integer:
 * *v / 10^*scale.  tzoff: the zone offset (seconds east) for the
 * timezone fields; epoch_ts: the UTC instant for epoch. */
static int field_value(dt_unit u, int64_t local, int64_t utc, int32_t tzoff,
                       __int128 *v, int *scale)
{
    dt_tm tm;
    ts_to_tm(local, &tm);
    int64_t y = tm.year, isoy;
    int wk;
    *scale = 0;
    switch (u) {
    case U_USEC:
        *v = tm.usec;
        return 1;
    case U_MSEC:
        *v = tm.usec;
        *scale = 3;
        return 1;
    case U_SECOND:
        *v = tm.usec;
        *scale = 6;
        return 1;
    case U_MINUTE:
        *v = tm.min;
        return 1;
    case U_HOUR:
        *v = tm.hour;
        return 1;
    case U_DAY:
        *v = tm.mday;
        return 1;
    case U_MONTH:
        *v = tm.mon;
        return 1;
    case U_QUARTER:
        *v = (tm.mon - 1) / 3 + 1;
        return 1;
    case U_YEAR:
        *v = year_of(y);
        return 1;
    case U_DECADE:
        *v = y >= 0 ? y / 10 : -((8 - (y - 1)) / 10);
        return 1;
    case U_CENTURY:
        *v = y > 0 ? (y + 99) / 100 : -((99 - (y - 1)) / 100);
        return 1;
    case U_MILLENNIUM:
        *v = y > 0 ? (y + 999) / 1000 : -((999 - (y - 1)) / 1000);
        return 1;
    case U_DOW:
        *v = dow_of(tm.days);
        return 1;
    case U_ISODOW:
        *v = dow_of(tm.days) == 0 ? 7 : dow_of(tm.days);
        return 1;
    case U_DOY:
        *v = tm.days - sql_date_from_ymd(y, 1, 1) + 1;
        return 1;
    case U_WEEK:
        iso_week(tm.days, &isoy, &wk);
        *v = wk;
        return 1;
    case U_ISOYEAR:
        iso_week(tm.days, &isoy, &wk);
        *v = year_of(isoy);
        return 1;
    case U_EPOCH:
        *v = (__int128)utc + (__int128)EPOCH_OFFSET * 1000000;
        *scale = 6;
        return 1;
    case U_TZ:
        *v = tzoff;
        return 1;
    case U_TZ_HOUR:
        *v = tzoff / 3600;
        return 1;
    case U_TZ_MINUTE:
        *v = (tzoff / 60) % 60;
        return 1;
    default:
        return 0;
    }
}

static int num_from_scaled(__int128 v, int scale, sql_num *n, dc_error *err)
{
    char buf[64], *p = buf + sizeof buf;
    bool neg = v < 0;
    unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
    *--p = 0;
    int digits = 0;
    do {
        *--p = (char)('0' + (int)(u % 10));
        u /= 10;
        if (++digits == scale)
            *--p = '.';
    } while (u > 0 || digits < scale);
    if (p[0] == '.')
        *--p = '0';
    if (neg)
        *--p = '-';
    return sql_num_parse(p, strlen(p), n, err);
}

/* Julian day number of a local timestamp, with the time of day as a
 * fraction (numeric division, as PostgreSQL computes it); a date's is
 * an integer. */
static int julian_num(int64_t local, bool is_date, sql_num *n, dc_error *err)
{
    int64_t days = fdiv(local, SQL_USECS_PER_DAY);
    int64_t us = local - days * SQL_USECS_PER_DAY;
    int rc = sql_num_from_int64(days + 2451545, n, err);
    if (rc || is_date)
        return rc;
    sql_num a, b, q, sum;
    sql_num_init(&a);
    sql_num_init(&b);
    sql_num_init(&q);
    sql_num_init(&sum);
    rc = sql_num_from_int64(us, &a, err);
    if (rc == DC_OK)
        rc = sql_num_from_int64(SQL_USECS_PER_DAY, &b, err);
    if (rc == DC_OK)
        rc = sql_num_div(&a, &b, &q, err);
    if (rc == DC_OK)
        rc = sql_num_add(n, &q, &sum, err);
    if (rc == DC_OK)
        rc = sql_num_copy(n, &sum, err);
    sql_num_free(&a);
    sql_num_free(&b);
    sql_num_free(&q);
    sql_num_free(&sum);
    return rc;
}

static const char *type_label(uint32_t t)
{
    return sql_type_name(t);
}

static bool unit_infinite_ok(dt_unit u)
{
    return u == U_YEAR || u == U_DECADE || u == U_CENTURY ||
           u == U_MILLENNIUM || u == U_EPOCH || u == U_ISOYEAR || u == U_JULIAN;
}

/* extract(unit FROM v) as a sql_num (numeric); *isnull for fields of an
 * infinite value that have no meaning. */
static int extract_num(sql_ctx *ctx, const dc_value *unit, const dc_value *v,
                       sql_num *n, bool *isnull, dc_error *err)
{
    char name[64];
    dt_unit u = unit_lookup(unit, name, sizeof name);
    uint32_t t = v->type;
    *isnull = false;
    bool is_date = t == DC_TYPE_DATE;
    if (u == U_NONE)
        return dc_error_set(err, DC_EINVAL, "22023",
                            "unit \"%s\" not recognized for type %s", name,
                            type_label(t));
    if ((u == U_TZ || u == U_TZ_HOUR || u == U_TZ_MINUTE) &&
        t != DC_TYPE_TIMESTAMPTZ)
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "unit \"%s\" not supported for type %s", name,
                            type_label(t));
    if (is_date && (u == U_USEC || u == U_MSEC || u == U_SECOND ||
                    u == U_MINUTE || u == U_HOUR))
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "unit \"%s\" not supported for type date", name);
    int64_t local = v->u.i, utc = v->u.i;
    int32_t off = ctx->tz ? ctx->tz->offset : 0;
    bool inf = is_date
                   ? (v->u.i == SQL_DATE_NOBEGIN || v->u.i == SQL_DATE_NOEND)
                   : (v->u.i == SQL_TS_NOBEGIN || v->u.i == SQL_TS_NOEND);
    if (inf) {
        if (!unit_infinite_ok(u)) {
            *isnull = true;
            return DC_OK;
        }
        bool neg = v->u.i < 0;
        return sql_num_parse(neg ? "-Infinity" : "Infinity", neg ? 9 : 8, n,
                             err);
    }
    int rc = DC_OK;
    if (is_date) {
        local = v->u.i * SQL_USECS_PER_DAY;
        utc = local;
    } else if (t == DC_TYPE_TIMESTAMPTZ) {
        rc = sql_timestamptz_to_local(v->u.i, ctx->tz, &local, err);
    }
    if (rc)
        return rc;
    if (u == U_JULIAN)
        return julian_num(local, is_date, n, err);
    __int128 val = 0;
    int scale = 0;
    field_value(u, local, utc, off, &val, &scale);
    if (is_date && u == U_EPOCH) {
        val /= 1000000;
        scale = 0;
    }
    return num_from_scaled(val, scale, n, err);
}

static int f_extract(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    (void)nargs;
    sql_num n;
    sql_num_init(&n);
    bool isnull;
    int rc = extract_num(ctx, &a[0], &a[1], &n, &isnull, err);
    if (rc == DC_OK) {
        if (isnull)
            *out = sql_value_null(DC_TYPE_NUMERIC);
        else
            rc = sql_fx_num(ctx, &n, out, err);
    }
    sql_num_free(&n);
    return rc;
}

static int f_date_part(sql_ctx *ctx, int nargs, const dc_value *a,
                       dc_value *out, dc_error *err)
{
    (void)nargs;
    dc_value v = a[1];
    if (v.type == DC_TYPE_DATE) {
        /* date_part(text, date) is date_part(text, date::timestamp) */
        int rc = sql_date_to_timestamp((int32_t)v.u.i, &v.u.i, err);
        if (rc)
            return rc;
        v.type = DC_TYPE_TIMESTAMP;
    }
    sql_num n;
    sql_num_init(&n);
    bool isnull;
    int rc = extract_num(ctx, &a[0], &v, &n, &isnull, err);
    if (rc == DC_OK)
        *out = isnull ? sql_value_null(DC_TYPE_FLOAT8)
                      : sql_value_float(DC_TYPE_FLOAT8, sql_num_to_double(&n));
    sql_num_free(&n);
    return rc;
}

/* Truncate a local timestamp to `u`; 0 when the unit cannot truncate. */
static int trunc_local(dt_unit u, int64_t ts, int64_t *out)
{
    dt_tm tm;
    ts_to_tm(ts, &tm);
    int64_t y = tm.year, day0 = tm.days;
    int m = tm.mon;
    int64_t tod = ts - tm.days * SQL_USECS_PER_DAY;
    switch (u) {
    case U_USEC:
        *out = ts;
        return 1;
    case U_MSEC:
        *out = ts - (tod % 1000);
        return 1;
    case U_SECOND:
        *out = ts - (tod % 1000000);
        return 1;
    case U_MINUTE:
        *out = ts - (tod % 60000000);
        return 1;
    case U_HOUR:
        *out = ts - (tod % INT64_C(3600000000));
        return 1;
    case U_DAY:
        *out = day0 * SQL_USECS_PER_DAY;
        return 1;
    case U_WEEK: {
        int dow = dow_of(day0);
        *out = (day0 - (dow == 0 ? 6 : dow - 1)) * SQL_USECS_PER_DAY;
        return 1;
    }
    case U_MONTH:
        break;
    case U_QUARTER:
        m = ((m - 1) / 3) * 3 + 1;
        break;
    case U_YEAR:
        m = 1;
        break;
    case U_DECADE:
        m = 1;
        y = y > 0 ? (y / 10) * 10 : -((8 - (y - 1)) / 10) * 10;
        break;
    case U_CENTURY:
        m = 1;
        y = y > 0 ? ((y + 99) / 100 - 1) * 100 + 1
                  : -((99 - (y - 1)) / 100) * 100 + 1;
        break;
    case U_MILLENNIUM:
        m = 1;
        y = y > 0 ? ((y + 999) / 1000 - 1) * 1000 + 1
                  : -((999 - (y - 1)) / 1000) * 1000 + 1;
        break;
    default:
        return 0;
    }
    *out = sql_date_from_ymd(y, m, 1) * SQL_USECS_PER_DAY;
    return 1;
}

static int f_date_trunc(sql_ctx *ctx, int nargs, const dc_value *a,
                        dc_value *out, dc_error *err)
{
    (void)nargs;
    char name[64];
    dt_unit u = unit_lookup(&a[0], name, sizeof name);
    uint32_t t = a[1].type;
    int64_t ts = a[1].u.i, local = ts, r;
    if (u == U_NONE || u >= U_DOW)
        return dc_error_set(err, DC_EINVAL, "22023",
                            "unit \"%s\" not recognized for type %s", name,
                            type_label(t));
    if (ts == SQL_TS_NOBEGIN || ts == SQL_TS_NOEND) {
        *out = a[1];
        return DC_OK;
    }
    int rc = DC_OK;
    if (t == DC_TYPE_TIMESTAMPTZ)
        rc = sql_timestamptz_to_local(ts, ctx->tz, &local, err);
    if (rc)
        return rc;
    trunc_local(u, local, &r);
    if (t == DC_TYPE_TIMESTAMPTZ)
        rc = sql_timestamp_to_tz(r, ctx->tz, &r, err);
    else if (!sql_timestamp_ok(r))
        rc = dc_error_set(err, DC_ERANGE, "22008", "timestamp out of range");
    if (rc == DC_OK)
        *out = sql_value_int(t, r);
    return rc;
}

/* to_timestamp(double precision): Unix epoch seconds -> timestamptz. */
static int f_to_timestamp(sql_ctx *ctx, int nargs, const dc_value *a,
                          dc_value *out, dc_error *err)
{
    (void)ctx, (void)nargs;
    double x = a[0].u.f;
    if (isnan(x))
        return dc_error_set(err, DC_ERANGE, "22008", "timestamp cannot be NaN");
    int64_t ts;
    if (isinf(x)) {
        ts = x < 0 ? SQL_TS_NOBEGIN : SQL_TS_NOEND;
    } else {
        double us = rint((x - (double)EPOCH_OFFSET) * 1e6);
        /* the valid range: 4714-11-24 BC .. 294277-01-01 */
        if (!(us >= -211813488000000000.0 && us < 9223371331200000000.0) ||
            !sql_timestamp_ok((int64_t)us)) {
            char buf[64];
            snprintf(buf, sizeof buf, "%g", x);
            return dc_error_set(err, DC_ERANGE, "22008",
                                "timestamp out of range: \"%s\"", buf);
        }
        ts = (int64_t)us;
    }
    *out = sql_value_int(DC_TYPE_TIMESTAMPTZ, ts);
    return DC_OK;
}

static int make_ymd(int64_t y, int64_t m, int64_t d, int32_t *out,
                    dc_error *err)
{
    int64_t ay = y < 0 ? y + 1 : y; /* BC years are negative */
    if (y == 0 || m < 1 || m > 12 || d < 1 || d > 31 ||
        !sql_ymd_valid(ay, (int)m, (int)d) ||
        !sql_date_ok(sql_date_from_ymd(ay, (int)m, (int)d)))
        return dc_error_set(err, DC_ERANGE, "22008",
                            "date field value out of range: "
                            "%lld-%02lld-%02lld",
                            (long long)y, (long long)m, (long long)d);
    *out = (int32_t)sql_date_from_ymd(ay, (int)m, (int)d);
    return DC_OK;
}

static int f_make_date(sql_ctx *ctx, int nargs, const dc_value *a,
                       dc_value *out, dc_error *err)
{
    (void)ctx, (void)nargs;
    int32_t d;
    int rc = make_ymd(a[0].u.i, a[1].u.i, a[2].u.i, &d, err);
    if (rc == DC_OK)
        *out = sql_value_int(DC_TYPE_DATE, d);
    return rc;
}

static int f_make_timestamp(sql_ctx *ctx, int nargs, const dc_value *a,
                            dc_value *out, dc_error *err)
{
    (void)ctx, (void)nargs;
    int32_t d;
    int rc = make_ymd(a[0].u.i, a[1].u.i, a[2].u.i, &d, err);
    if (rc)
        return rc;
    int64_t h = a[3].u.i, mi = a[4].u.i;
    double sec = a[5].u.f;
    if (h < 0 || h > 24 || mi < 0 || mi > 59 || !(sec >= 0 && sec <= 60) ||
        (h == 24 && (mi > 0 || sec > 0)))
        return dc_error_set(err, DC_ERANGE, "22008",
                            "time field value out of range: "
                            "%lld:%02lld:%02g",
                            (long long)h, (long long)mi, sec);
    int64_t us = (int64_t)d * SQL_USECS_PER_DAY +
                 (h * 3600 + mi * 60) * INT64_C(1000000) +
                 (int64_t)rint(sec * 1e6);
    if (!sql_timestamp_ok(us))
        return dc_error_set(err, DC_ERANGE, "22008", "timestamp out of range");
    *out = sql_value_int(DC_TYPE_TIMESTAMP, us);
    return DC_OK;
}

static int f_isfinite(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                      dc_error *err)
{
    (void)ctx, (void)nargs, (void)err;
    int64_t v = a[0].u.i;
    bool fin = a[0].type == DC_TYPE_DATE
                   ? v != SQL_DATE_NOBEGIN && v != SQL_DATE_NOEND
                   : v != SQL_TS_NOBEGIN && v != SQL_TS_NOEND;
    *out = sql_value_bool(fin);
    return DC_OK;
}

/* pg_sleep(seconds): sleeps in short slices so that a cancel request
 * (57014) ends it.  PostgreSQL returns void; the result here is a NULL
 * text, which clients print the same way. */
static int f_pg_sleep(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                      dc_error *err)
{
    (void)nargs;
    double secs = a[0].u.f;
    if (isnan(secs))
        secs = 0;
    int64_t end =
        now_usec() + (secs > 1e9 ? (int64_t)1e15 : (int64_t)(secs * 1e6));
    for (;;) {
        int rc = sql_check_cancel(ctx, err);
        if (rc)
            return rc;
        int64_t left = end - now_usec();
        if (left <= 0)
            break;
        struct timespec ts = {0, (long)(left < 10000 ? left : 10000) * 1000};
        nanosleep(&ts, NULL);
    }
    *out = sql_value_null(DC_TYPE_TEXT);
    return DC_OK;
}

/* ---- system information ----------------------------------------------------
 */

static int ret_name(sql_ctx *ctx, const char *s, dc_value *out, dc_error *err)
{
    return sql_fx_text(ctx, DC_TYPE_NAME, s, strlen(s), out, err);
}

static int ret_text(sql_ctx *ctx, const char *s, dc_value *out, dc_error *err)
{
    return sql_fx_text(ctx, DC_TYPE_TEXT, s, strlen(s), out, err);
}

static int f_version(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    (void)nargs;
    (void)a;
    return ret_text(ctx, sql_version_string(), out, err);
}

static int f_current_user(sql_ctx *ctx, int nargs, const dc_value *a,
                          dc_value *out, dc_error *err)
{
    (void)nargs;
    (void)a;
    return ret_name(ctx, ctx->user ? ctx->user : "", out, err);
}

static int f_current_database(sql_ctx *ctx, int nargs, const dc_value *a,
                              dc_value *out, dc_error *err)
{
    (void)nargs;
    (void)a;
    return ret_name(ctx, ctx->database ? ctx->database : "", out, err);
}

static int f_current_schema(sql_ctx *ctx, int nargs, const dc_value *a,
                            dc_value *out, dc_error *err)
{
    (void)nargs;
    (void)a;
    return ret_name(ctx, "public", out, err);
}

/* current_setting(name [, missing_ok]) */
static int f_current_setting(sql_ctx *ctx, int nargs, const dc_value *a,
                             dc_value *out, dc_error *err)
{
    char name[256];
    size_t n = N(a[0]) < sizeof name - 1 ? N(a[0]) : sizeof name - 1;
    memcpy(name, P(a[0]), n);
    name[n] = 0;
    const char *v = ctx->get_setting ? ctx->get_setting(ctx->sess, name) : NULL;
    if (v)
        return ret_text(ctx, v, out, err);
    if (nargs > 1 && a[1].u.b) {
        *out = sql_value_null(DC_TYPE_TEXT);
        return DC_OK;
    }
    return dc_error_set(err, DC_ENOTFOUND, "42704",
                        "unrecognized configuration parameter \"%s\"", name);
}

static int f_set_config(sql_ctx *ctx, int nargs, const dc_value *a,
                        dc_value *out, dc_error *err)
{
    UNUSED;
    (void)a;
    (void)out;
    return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                        "set_config() is not supported; use SET");
}

static int f_backend_pid(sql_ctx *ctx, int nargs, const dc_value *a,
                         dc_value *out, dc_error *err)
{
    UNUSED;
    (void)a;
    *out = sql_value_int(DC_TYPE_INT4, (int64_t)getpid());
    return DC_OK;
}

static int64_t start_time;
static pthread_once_t start_once = PTHREAD_ONCE_INIT;
static void start_init(void)
{
    start_time = now_usec();
}

static int f_start_time(sql_ctx *ctx, int nargs, const dc_value *a,
                        dc_value *out, dc_error *err)
{
    UNUSED;
    (void)a;
    pthread_once(&start_once, start_init);
    *out = sql_value_int(DC_TYPE_TIMESTAMPTZ, start_time);
    return DC_OK;
}

static int f_true(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                  dc_error *err)
{
    UNUSED;
    (void)a;
    *out = sql_value_bool(true);
    return DC_OK;
}

static int f_null_text(sql_ctx *ctx, int nargs, const dc_value *a,
                       dc_value *out, dc_error *err)
{
    UNUSED;
    (void)a;
    *out = sql_value_null(DC_TYPE_TEXT);
    return DC_OK;
}

static int f_encoding(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                      dc_error *err)
{
    (void)nargs;
    return ret_name(ctx,
                    a[0].u.i == 6   ? "UTF8"
                    : a[0].u.i == 0 ? "SQL_ASCII"
                                    : "",
                    out, err);
}

static int f_txid(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                  dc_error *err)
{
    UNUSED;
    (void)a;
    (void)out;
    return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                        "txid_current() is not supported");
}

/* format_type(type oid, typmod): PostgreSQL's display of a type. */
static int f_format_type(sql_ctx *ctx, int nargs, const dc_value *a,
                         dc_value *out, dc_error *err)
{
    (void)nargs;
    if (a[0].is_null) {
        *out = sql_value_null(DC_TYPE_TEXT);
        return DC_OK;
    }
    uint32_t t = (uint32_t)a[0].u.i;
    int32_t mod = a[1].is_null ? -1 : (int32_t)a[1].u.i;
    char buf[128];
    const char *base = sql_type_name(t);
    uint32_t elem = sql_pg_array_elem(t);
    if (elem || t == 22 || t == 30) {
        /* array types: "integer[]"; bpchar[] keeps the internal name */
        if (elem)
            snprintf(buf, sizeof buf, "%s[]",
                     elem == DC_TYPE_BPCHAR ? "bpchar" : sql_type_name(elem));
        else
            snprintf(buf, sizeof buf, "%s", t == 22 ? "int2vector"
                                                    : "oidvector");
        return ret_text(ctx, buf, out, err);
    }
    if (t == 0) {
        base = "-";
    } else if (!sql_type_supported(t)) {
        base = "???";
    }
    switch (t) {
    case DC_TYPE_BPCHAR:
        if (mod < 0)
            base = "bpchar";
        /* fall through */
    case DC_TYPE_VARCHAR:
        if (mod >= 4)
            snprintf(buf, sizeof buf, "%s(%d)", base, (int)(mod - 4));
        else
            snprintf(buf, sizeof buf, "%s", base);
        break;
    case DC_TYPE_NUMERIC:
        if (mod >= 4)
            snprintf(buf, sizeof buf, "numeric(%d,%d)",
                     (int)(((mod - 4) >> 16) & 0xFFFF),
                     (int)((mod - 4) & 0xFFFF));
        else
            snprintf(buf, sizeof buf, "numeric");
        break;
    case DC_TYPE_TIMESTAMP:
    case DC_TYPE_TIMESTAMPTZ:
        if (mod >= 0)
            snprintf(buf, sizeof buf, "timestamp(%d) with%s time zone",
                     (int)mod, t == DC_TYPE_TIMESTAMP ? "out" : "");
        else
            snprintf(buf, sizeof buf, "%s", base);
        break;
    default:
        snprintf(buf, sizeof buf, "%s", base);
        break;
    }
    return ret_text(ctx, buf, out, err);
}

/* ---- the table ------------------------------------------------------------
 */

const sql_fcand sql_misc_func_table[] = {
    {"abs", 1, {I2}, I2, f_abs, S},
    {"abs", 1, {I4}, I4, f_abs, S},
    {"abs", 1, {I8}, I8, f_abs, S},
    {"abs", 1, {F4}, F4, f_abs, S},
    {"abs", 1, {F8}, F8, f_abs, S},
    {"abs", 1, {NU}, NU, f_abs, S},
    {"round", 1, {F8}, F8, f_round_f8, S},
    {"round", 1, {NU}, NU, f_round_num, S},
    {"round", 2, {NU, I4}, NU, f_round_num, S},
    {"trunc", 1, {F8}, F8, f_trunc_f8, S},
    {"trunc", 1, {NU}, NU, f_trunc_num, S},
    {"trunc", 2, {NU, I4}, NU, f_trunc_num, S},
    {"ceil", 1, {F8}, F8, f_ceil_f8, S},
    {"ceil", 1, {NU}, NU, f_ceil_num, S},
    {"ceiling", 1, {F8}, F8, f_ceil_f8, S},
    {"ceiling", 1, {NU}, NU, f_ceil_num, S},
    {"floor", 1, {F8}, F8, f_floor_f8, S},
    {"floor", 1, {NU}, NU, f_floor_num, S},
    {"sign", 1, {F8}, F8, f_sign_f8, S},
    {"sign", 1, {NU}, NU, f_sign_num, S},
    {"mod", 2, {I2, I2}, I2, f_mod_int, S},
    {"mod", 2, {I4, I4}, I4, f_mod_int, S},
    {"mod", 2, {I8, I8}, I8, f_mod_int, S},
    {"mod", 2, {NU, NU}, NU, f_mod_num, S},
    {"div", 2, {NU, NU}, NU, f_div_num, S},
    {"sqrt", 1, {F8}, F8, f_sqrt, S},
    {"sqrt", 1, {NU}, NU, f_sqrt_num, S},
    {"power", 2, {F8, F8}, F8, f_power, S},
    {"power", 2, {NU, NU}, NU, sql_fn_power_num, S},
    {"pow", 2, {F8, F8}, F8, f_power, S},
    {"pow", 2, {NU, NU}, NU, sql_fn_power_num, S},
    {"exp", 1, {F8}, F8, f_exp, S},
    {"ln", 1, {F8}, F8, f_ln, S},
    {"log", 1, {F8}, F8, f_log10, S},
    {"log10", 1, {F8}, F8, f_log10, S},
    {"sin", 1, {F8}, F8, f_sin, S},
    {"cos", 1, {F8}, F8, f_cos, S},
    {"tan", 1, {F8}, F8, f_tan, S},
    {"asin", 1, {F8}, F8, f_asin, S},
    {"acos", 1, {F8}, F8, f_acos, S},
    {"atan", 1, {F8}, F8, f_atan, S},
    {"atan2", 2, {F8, F8}, F8, f_atan2, S},
    {"degrees", 1, {F8}, F8, f_degrees, S},
    {"radians", 1, {F8}, F8, f_radians, S},
    {"pi", 0, {0}, F8, f_pi, S},
    {"random", 0, {0}, F8, f_random, S | V},
    /* date / time */
    {"now", 0, {0}, TZ, f_now, S | V},
    {"current_timestamp", 0, {0}, TZ, f_now, S | V},
    {"transaction_timestamp", 0, {0}, TZ, f_now, S | V},
    {"statement_timestamp", 0, {0}, TZ, f_stmt_ts, S | V},
    {"clock_timestamp", 0, {0}, TZ, f_clock_ts, S | V},
    {"localtimestamp", 0, {0}, TS, f_localts, S | V},
    {"current_date", 0, {0}, DT, f_current_date, S | V},
    {"extract", 2, {TX, TS}, NU, f_extract, S},
    {"extract", 2, {TX, TZ}, NU, f_extract, S},
    {"extract", 2, {TX, DT}, NU, f_extract, S},
    {"date_part", 2, {TX, TS}, F8, f_date_part, S},
    {"date_part", 2, {TX, TZ}, F8, f_date_part, S},
    {"date_part", 2, {TX, DT}, F8, f_date_part, S},
    {"date_trunc", 2, {TX, TS}, TS, f_date_trunc, S},
    {"date_trunc", 2, {TX, TZ}, TZ, f_date_trunc, S},
    {"to_timestamp", 1, {F8}, TZ, f_to_timestamp, S},
    {"make_date", 3, {I4, I4, I4}, DT, f_make_date, S},
    {"make_timestamp", 6, {I4, I4, I4, I4, I4, F8}, TS, f_make_timestamp, S},
    {"isfinite", 1, {DT}, B, f_isfinite, S},
    {"isfinite", 1, {TS}, B, f_isfinite, S},
    {"isfinite", 1, {TZ}, B, f_isfinite, S},
    /* system information */
    {"version", 0, {0}, TX, f_version, S},
    {"current_user", 0, {0}, NM, f_current_user, S | V},
    {"current_role", 0, {0}, NM, f_current_user, S | V},
    {"session_user", 0, {0}, NM, f_current_user, S | V},
    {"user", 0, {0}, NM, f_current_user, S | V},
    {"current_database", 0, {0}, NM, f_current_database, S | V},
    {"current_catalog", 0, {0}, NM, f_current_database, S | V},
    {"current_schema", 0, {0}, NM, f_current_schema, S | V},
    {"current_setting", 1, {TX}, TX, f_current_setting, S | V},
    {"current_setting", 2, {TX, B}, TX, f_current_setting, S | V},
    {"set_config", 3, {TX, TX, B}, TX, f_set_config, V},
    {"pg_backend_pid", 0, {0}, I4, f_backend_pid, S | V},
    {"pg_postmaster_start_time", 0, {0}, TZ, f_start_time, S | V},
    {"format_type", 2, {OI, I4}, TX, f_format_type, 0},
    {"pg_table_is_visible", 1, {OI}, B, f_true, S},
    {"pg_get_userbyid", 1, {OI}, NM, f_current_user, S | V},
    {"obj_description", 1, {OI}, TX, f_null_text, S},
    {"obj_description", 2, {OI, NM}, TX, f_null_text, S},
    {"col_description", 2, {OI, I4}, TX, f_null_text, S},
    {"shobj_description", 2, {OI, NM}, TX, f_null_text, S},
    {"pg_get_expr", 2, {TX, OI}, TX, f_null_text, S},
    {"pg_get_expr", 3, {TX, OI, B}, TX, f_null_text, S},
    {"pg_get_indexdef", 1, {OI}, TX, f_null_text, S},
    {"pg_get_constraintdef", 1, {OI}, TX, f_null_text, S},
    {"pg_get_constraintdef", 2, {OI, B}, TX, f_null_text, S},
    {"pg_encoding_to_char", 1, {I4}, NM, f_encoding, S},
    {"has_table_privilege", 2, {TX, TX}, B, f_true, S},
    {"has_table_privilege", 2, {OI, TX}, B, f_true, S},
    {"has_table_privilege", 3, {NM, TX, TX}, B, f_true, S},
    {"has_table_privilege", 3, {NM, OI, TX}, B, f_true, S},
    {"has_schema_privilege", 2, {TX, TX}, B, f_true, S},
    {"has_schema_privilege", 3, {NM, TX, TX}, B, f_true, S},
    {"has_database_privilege", 2, {TX, TX}, B, f_true, S},
    {"has_database_privilege", 3, {NM, TX, TX}, B, f_true, S},
    {"txid_current", 0, {0}, I8, f_txid, V},
    {"pg_sleep", 1, {F8}, TX, f_pg_sleep, S | V},
    {NULL, 0, {0}, 0, NULL, 0},
};
