/*
 * sql/funcs_agg.c - aggregates (count, sum, avg, min, max, string_agg,
 * bool_and, bool_or, every) and the set-returning generate_series, with
 * PostgreSQL's result types: sum(int2/int4) is bigint, sum(int8) and
 * avg(any integer) are numeric (exact), avg(float) is double precision.
 *
 * Aggregate states are zeroed by the executor; whatever a state owns on
 * the heap (a numeric sum, a min/max text, a string_agg buffer) is
 * released by the aggregate's free callback.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sql/funcs_pg.h"
#include "sql/funcs_int.h"
#include "common/alloc.h"

#define S  SQL_FN_STRICT
#define B  DC_TYPE_BOOL
#define BY DC_TYPE_BYTEA
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

static int oom(dc_error *err)
{
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
}

/* ---- count ------------------------------------------------------------------
 */

typedef struct count_state {
    int64_t n;
} count_state;

static int count_step(sql_ctx *ctx, void *st, int nargs, const dc_value *a,
                      dc_error *err)
{
    (void)ctx, (void)nargs, (void)a, (void)err;
    ((count_state *)st)->n++;
    return DC_OK;
}

static int count_final(sql_ctx *ctx, void *st, dc_value *out, dc_error *err)
{
    (void)ctx, (void)err;
    *out = sql_value_int(DC_TYPE_INT8, ((count_state *)st)->n);
    return DC_OK;
}

/* ---- integer sums
 * ------------------------------------------------------------ */

/* sum(int2/int4) -> bigint; sum(int8) and avg(int) through a 128-bit
 * accumulator, exact for any realistic row count. */
typedef struct isum_state {
    __int128 sum;
    int64_t n;
} isum_state;

static int isum_step(sql_ctx *ctx, void *st, int nargs, const dc_value *a,
                     dc_error *err)
{
    (void)ctx, (void)nargs, (void)err;
    isum_state *s = st;
    s->sum += a[0].u.i;
    s->n++;
    return DC_OK;
}

static int sum_i8_final(sql_ctx *ctx, void *st, dc_value *out, dc_error *err)
{
    (void)ctx;
    isum_state *s = st;
    if (s->n == 0) {
        *out = sql_value_null(DC_TYPE_INT8);
        return DC_OK;
    }
    if (s->sum > INT64_MAX || s->sum < INT64_MIN)
        return dc_error_set(err, DC_ERANGE, "22003", "bigint out of range");
    *out = sql_value_int(DC_TYPE_INT8, (int64_t)s->sum);
    return DC_OK;
}

static int i128_num(__int128 v, sql_num *n, dc_error *err)
{
    char buf[48], *p = buf + sizeof buf;
    bool neg = v < 0;
    unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
    *--p = 0;
    do {
        *--p = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (neg)
        *--p = '-';
    return sql_num_parse(p, strlen(p), n, err);
}

static int sum_num_final_i(sql_ctx *ctx, void *st, dc_value *out, dc_error *err)
{
    isum_state *s = st;
    if (s->n == 0) {
        *out = sql_value_null(DC_TYPE_NUMERIC);
        return DC_OK;
    }
    sql_num n;
    sql_num_init(&n);
    int rc = i128_num(s->sum, &n, err);
    if (rc == DC_OK)
        rc = sql_fx_num(ctx, &n, out, err);
    sql_num_free(&n);
    return rc;
}

static int avg_int_final(sql_ctx *ctx, void *st, dc_value *out, dc_error *err)
{
    isum_state *s = st;
    if (s->n == 0) {
        *out = sql_value_null(DC_TYPE_NUMERIC);
        return DC_OK;
    }
    sql_num sum, cnt, q;
    sql_num_init(&sum);
    sql_num_init(&cnt);
    sql_num_init(&q);
    int rc = i128_num(s->sum, &sum, err);
    if (rc == DC_OK)
        rc = sql_num_from_int64(s->n, &cnt, err);
    if (rc == DC_OK)
        rc = sql_num_div(&sum, &cnt, &q, err);
    if (rc == DC_OK)
        rc = sql_fx_num(ctx, &q, out, err);
    sql_num_free(&sum);
    sql_num_free(&cnt);
    sql_num_free(&q);
    return rc;
}

/* ---- float sums
 * ----------------------------------------------------------------- */

typedef struct fsum_state {
    double sum;
    int64_t n;
} fsum_state;

static int fsum_step(sql_ctx *ctx, void *st, int nargs, const dc_value *a,
                     dc_error *err)
{
    (void)ctx, (void)nargs;
    fsum_state *s = st;
    double r = a[0].type == DC_TYPE_FLOAT4
                   ? (double)((float)s->sum + (float)a[0].u.f)
                   : s->sum + a[0].u.f;
    if (isinf(r) && !isinf(s->sum) && !isinf(a[0].u.f))
        return dc_error_set(err, DC_ERANGE, "22003",
                            "value out of range: overflow");
    s->sum = r;
    s->n++;
    return DC_OK;
}

/* avg(float4) accumulates in float8 as PostgreSQL's float4_accum does. */
static int favg_step(sql_ctx *ctx, void *st, int nargs, const dc_value *a,
                     dc_error *err)
{
    (void)ctx, (void)nargs;
    fsum_state *s = st;
    double r = s->sum + a[0].u.f;
    if (isinf(r) && !isinf(s->sum) && !isinf(a[0].u.f))
        return dc_error_set(err, DC_ERANGE, "22003",
                            "value out of range: overflow");
    s->sum = r;
    s->n++;
    return DC_OK;
}

static int sum_f4_final(sql_ctx *ctx, void *st, dc_value *out, dc_error *err)
{
    (void)ctx, (void)err;
    fsum_state *s = st;
    *out = s->n ? sql_value_float(DC_TYPE_FLOAT4, s->sum)
                : sql_value_null(DC_TYPE_FLOAT4);
    return DC_OK;
}

static int sum_f8_final(sql_ctx *ctx, void *st, dc_value *out, dc_error *err)
{
    (void)ctx, (void)err;
    fsum_state *s = st;
    *out = s->n ? sql_value_float(DC_TYPE_FLOAT8, s->sum)
                : sql_value_null(DC_TYPE_FLOAT8);
    return DC_OK;
}

static int avg_f_final(sql_ctx *ctx, void *st, dc_value *out, dc_error *err)
{
    (void)ctx, (void)err;
    fsum_state *s = st;
    *out = s->n ? sql_value_float(DC_TYPE_FLOAT8, s->sum / (double)s->n)
                : sql_value_null(DC_TYPE_FLOAT8);
    return DC_OK;
}

/* ---- numeric sums
 * --------------------------------------------------------------- */

typedef struct nsum_state {
    sql_num sum; /* valid once n > 0 */
    int64_t n;
} nsum_state;

static int nsum_step(sql_ctx *ctx, void *st, int nargs, const dc_value *a,
                     dc_error *err)
{
    (void)ctx, (void)nargs;
    nsum_state *s = st;
    sql_num x, r;
    sql_num_init(&x);
    sql_num_init(&r);
    int rc = sql_value_get_num(&a[0], &x, err);
    if (rc == DC_OK) {
        if (s->n == 0) {
            sql_num_init(&s->sum);
            rc = sql_num_copy(&s->sum, &x, err);
        } else {
            rc = sql_num_add(&s->sum, &x, &r, err);
            if (rc == DC_OK) {
                sql_num t = s->sum;
                s->sum = r;
                r = t;
            }
        }
    }
    if (rc == DC_OK)
        s->n++;
    else if (s->n == 0)
        sql_num_free(&s->sum);
    sql_num_free(&x);
    sql_num_free(&r);
    return rc;
}

static int sum_num_final(sql_ctx *ctx, void *st, dc_value *out, dc_error *err)
{
    nsum_state *s = st;
    if (s->n == 0) {
        *out = sql_value_null(DC_TYPE_NUMERIC);
        return DC_OK;
    }
    return sql_fx_num(ctx, &s->sum, out, err);
}

static int avg_num_final(sql_ctx *ctx, void *st, dc_value *out, dc_error *err)
{
    nsum_state *s = st;
    if (s->n == 0) {
        *out = sql_value_null(DC_TYPE_NUMERIC);
        return DC_OK;
    }
    sql_num cnt, q;
    sql_num_init(&cnt);
    sql_num_init(&q);
    int rc = sql_num_from_int64(s->n, &cnt, err);
    if (rc == DC_OK)
        rc = sql_num_div(&s->sum, &cnt, &q, err);
    if (rc == DC_OK)
        rc = sql_fx_num(ctx, &q, out, err);
    sql_num_free(&cnt);
    sql_num_free(&q);
    return rc;
}

static void nsum_free(void *st)
{
    nsum_state *s = st;
    if (s->n > 0)
        sql_num_free(&s->sum);
    s->n = 0;
}

static size_t nsum_mem(const void *st)
{
    const nsum_state *s = st;
    return s->n > 0 ? (size_t)s->sum.cap : 0;
}

/* ---- min / max
 * ------------------------------------------------------------------ */

typedef struct mm_state {
    bool has;
    dc_value v; /* bytes point into buf for varlena types */
    uint8_t *buf;
    size_t cap;
} mm_state;

static bool varlen(uint32_t t)
{
    return t == DC_TYPE_TEXT || t == DC_TYPE_VARCHAR || t == DC_TYPE_BPCHAR ||
           t == DC_TYPE_NAME || t == DC_TYPE_BYTEA || t == DC_TYPE_NUMERIC;
}

static int mm_keep(mm_state *s, const dc_value *v, dc_error *err)
{
    s->v = *v;
    if (varlen(v->type)) {
        size_t n = v->u.bytes.len;
        if (n > s->cap) {
            uint8_t *nb = realloc(s->buf, n);
            if (!nb)
                return oom(err);
            s->buf = nb;
            s->cap = n;
        }
        if (n)
            memcpy(s->buf, v->u.bytes.ptr, n);
        s->v.u.bytes.ptr = s->buf;
    }
    s->has = true;
    return DC_OK;
}

static int mm_step(sql_ctx *ctx, void *st, const dc_value *v, int sign,
                   dc_error *err)
{
    mm_state *s = st;
    if (!s->has)
        return mm_keep(s, v, err);
    int c;
    switch (v->type) {
    case DC_TYPE_INT2:
    case DC_TYPE_INT4:
    case DC_TYPE_INT8:
    case DC_TYPE_OID:
    case DC_TYPE_DATE:
    case DC_TYPE_TIMESTAMP:
    case DC_TYPE_TIMESTAMPTZ:
        c = (v->u.i > s->v.u.i) - (v->u.i < s->v.u.i);
        break;
    case DC_TYPE_NUMERIC:
        if (sql_fx_num_cmp(v, &s->v, &c))
            break;
        /* fall through */
    default: {
        int rc = sql_fx_cmp(ctx, v, &s->v, &c, err);
        if (rc)
            return rc;
    }
    }
    /* On a tie PostgreSQL's larger/smaller functions return the newer
     * value (visible for numeric scales, -0 and text), except bpchar's. */
    bool take = c * sign > 0 || (c == 0 && v->type != DC_TYPE_BPCHAR);
    return take ? mm_keep(s, v, err) : DC_OK;
}

static int max_step(sql_ctx *ctx, void *st, int nargs, const dc_value *a,
                    dc_error *err)
{
    (void)nargs;
    return mm_step(ctx, st, &a[0], 1, err);
}

static int min_step(sql_ctx *ctx, void *st, int nargs, const dc_value *a,
                    dc_error *err)
{
    (void)nargs;
    return mm_step(ctx, st, &a[0], -1, err);
}

static int mm_final(sql_ctx *ctx, void *st, uint32_t type, dc_value *out,
                    dc_error *err)
{
    mm_state *s = st;
    if (!s->has) {
        *out = sql_value_null(type);
        return DC_OK;
    }
    if (varlen(s->v.type))
        return sql_fx_text(ctx, s->v.type, s->v.u.bytes.ptr, s->v.u.bytes.len,
                           out, err);
    *out = s->v;
    return DC_OK;
}

/* One final per result type, so that an empty group's NULL is typed. */
#define MM_FINAL(sfx, T)                                                       \
    static int mm_final_##sfx(sql_ctx *ctx, void *st, dc_value *out,           \
                              dc_error *err)                                   \
    {                                                                          \
        return mm_final(ctx, st, T, out, err);                                 \
    }
MM_FINAL(i2, DC_TYPE_INT2)
MM_FINAL(i4, DC_TYPE_INT4)
MM_FINAL(i8, DC_TYPE_INT8)
MM_FINAL(oid, DC_TYPE_OID)
MM_FINAL(f4, DC_TYPE_FLOAT4)
MM_FINAL(f8, DC_TYPE_FLOAT8)
MM_FINAL(num, DC_TYPE_NUMERIC)
MM_FINAL(text, DC_TYPE_TEXT)
MM_FINAL(bpchar, DC_TYPE_BPCHAR)
MM_FINAL(date, DC_TYPE_DATE)
MM_FINAL(ts, DC_TYPE_TIMESTAMP)
MM_FINAL(tstz, DC_TYPE_TIMESTAMPTZ)

static void mm_free(void *st)
{
    mm_state *s = st;
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
    s->has = false;
}

static size_t mm_mem(const void *st)
{
    return ((const mm_state *)st)->cap;
}

/* ---- string_agg
 * --------------------------------------------------------------- */

typedef struct sagg_state {
    bool has;
    sql_buf buf;
} sagg_state;

static int sagg_step(sql_ctx *ctx, void *st, int nargs, const dc_value *a,
                     dc_error *err)
{
    (void)ctx, (void)nargs;
    sagg_state *s = st;
    if (a[0].is_null)
        return DC_OK;
    int rc = DC_OK;
    if (s->has && !a[1].is_null)
        rc = sql_buf_append(&s->buf, a[1].u.bytes.ptr, a[1].u.bytes.len, err);
    if (rc == DC_OK)
        rc = sql_buf_append(&s->buf, a[0].u.bytes.ptr, a[0].u.bytes.len, err);
    if (rc == DC_OK)
        s->has = true;
    return rc;
}

static int sagg_final_type(sql_ctx *ctx, void *st, uint32_t t, dc_value *out,
                           dc_error *err)
{
    sagg_state *s = st;
    if (!s->has) {
        *out = sql_value_null(t);
        return DC_OK;
    }
    return sql_fx_text(ctx, t, s->buf.data, s->buf.len, out, err);
}

static int sagg_final(sql_ctx *ctx, void *st, dc_value *out, dc_error *err)
{
    return sagg_final_type(ctx, st, DC_TYPE_TEXT, out, err);
}

static int sagg_final_bytea(sql_ctx *ctx, void *st, dc_value *out,
                            dc_error *err)
{
    return sagg_final_type(ctx, st, DC_TYPE_BYTEA, out, err);
}

static void sagg_free(void *st)
{
    sagg_state *s = st;
    sql_buf_free(&s->buf);
    s->has = false;
}

static size_t sagg_mem(const void *st)
{
    return ((const sagg_state *)st)->buf.cap;
}

/* ---- bool_and / bool_or
 * ---------------------------------------------------------- */

typedef struct bagg_state {
    bool has;
    bool v;
} bagg_state;

static int band_step(sql_ctx *ctx, void *st, int nargs, const dc_value *a,
                     dc_error *err)
{
    (void)ctx, (void)nargs, (void)err;
    bagg_state *s = st;
    s->v = s->has ? (s->v && a[0].u.b) : a[0].u.b;
    s->has = true;
    return DC_OK;
}

static int bor_step(sql_ctx *ctx, void *st, int nargs, const dc_value *a,
                    dc_error *err)
{
    (void)ctx, (void)nargs, (void)err;
    bagg_state *s = st;
    s->v = s->has ? (s->v || a[0].u.b) : a[0].u.b;
    s->has = true;
    return DC_OK;
}

static int bagg_final(sql_ctx *ctx, void *st, dc_value *out, dc_error *err)
{
    (void)ctx, (void)err;
    bagg_state *s = st;
    *out = s->has ? sql_value_bool(s->v) : sql_value_null(DC_TYPE_BOOL);
    return DC_OK;
}

/* ---- the aggregate table
 * ------------------------------------------------------ */

typedef struct agg_impl {
    size_t state_size;
    int (*step)(sql_ctx *, void *, int, const dc_value *, dc_error *);
    int (*final)(sql_ctx *, void *, dc_value *, dc_error *);
    void (*free)(void *);
    size_t (*mem)(const void *);
    unsigned flags;
} agg_impl;

#define COUNT_I                                                                \
    {                                                                          \
        sizeof(count_state), count_step, count_final, NULL, NULL, S            \
    }
#define SUMI8_I                                                                \
    {                                                                          \
        sizeof(isum_state), isum_step, sum_i8_final, NULL, NULL, S             \
    }
#define SUMIN_I                                                                \
    {                                                                          \
        sizeof(isum_state), isum_step, sum_num_final_i, NULL, NULL, S          \
    }
#define AVGI_I                                                                 \
    {                                                                          \
        sizeof(isum_state), isum_step, avg_int_final, NULL, NULL, S            \
    }
#define SUMF4_I                                                                \
    {                                                                          \
        sizeof(fsum_state), fsum_step, sum_f4_final, NULL, NULL, S             \
    }
#define SUMF8_I                                                                \
    {                                                                          \
        sizeof(fsum_state), fsum_step, sum_f8_final, NULL, NULL, S             \
    }
#define AVGF_I                                                                 \
    {                                                                          \
        sizeof(fsum_state), favg_step, avg_f_final, NULL, NULL, S              \
    }
#define SUMN_I                                                                 \
    {                                                                          \
        sizeof(nsum_state), nsum_step, sum_num_final, nsum_free, nsum_mem, S   \
    }
#define AVGN_I                                                                 \
    {                                                                          \
        sizeof(nsum_state), nsum_step, avg_num_final, nsum_free, nsum_mem, S   \
    }
#define MM(sfx)                                                                \
    {sizeof(mm_state), max_step, mm_final_##sfx, mm_free, mm_mem, S},          \
    {                                                                          \
        sizeof(mm_state), min_step, mm_final_##sfx, mm_free, mm_mem, S         \
    }
#define SAGG_I                                                                 \
    {                                                                          \
        sizeof(sagg_state), sagg_step, sagg_final, sagg_free, sagg_mem, 0      \
    }
#define SAGGB_I                                                                \
    {                                                                          \
        sizeof(sagg_state), sagg_step, sagg_final_bytea, sagg_free, sagg_mem,  \
            0                                                                  \
    }
#define BAND_I                                                                 \
    {                                                                          \
        sizeof(bagg_state), band_step, bagg_final, NULL, NULL, S               \
    }
#define BOR_I                                                                  \
    {                                                                          \
        sizeof(bagg_state), bor_step, bagg_final, NULL, NULL, S                \
    }

/* Signatures and implementations, index for index. */
#define MINMAX(t)                                                              \
    {"max", 1, {t}, t, NULL, 0},                                               \
    {                                                                          \
        "min", 1, {t}, t, NULL, 0                                              \
    }
static const sql_fcand agg_sigs[] = {
    {"sum", 1, {I2}, I8, NULL, 0},
    {"sum", 1, {I4}, I8, NULL, 0},
    {"sum", 1, {I8}, NU, NULL, 0},
    {"sum", 1, {F4}, F4, NULL, 0},
    {"sum", 1, {F8}, F8, NULL, 0},
    {"sum", 1, {NU}, NU, NULL, 0},
    {"avg", 1, {I2}, NU, NULL, 0},
    {"avg", 1, {I4}, NU, NULL, 0},
    {"avg", 1, {I8}, NU, NULL, 0},
    {"avg", 1, {F4}, F8, NULL, 0},
    {"avg", 1, {F8}, F8, NULL, 0},
    {"avg", 1, {NU}, NU, NULL, 0},
    MINMAX(I2),
    MINMAX(I4),
    MINMAX(I8),
    MINMAX(OI),
    MINMAX(F4),
    MINMAX(F8),
    MINMAX(NU),
    MINMAX(TX),
    MINMAX(BP),
    MINMAX(DT),
    MINMAX(TS),
    MINMAX(TZ),
    {"string_agg", 2, {TX, TX}, TX, NULL, 0},
    {"string_agg", 2, {BY, BY}, BY, NULL, 0},
    {"bool_and", 1, {B}, B, NULL, 0},
    {"bool_or", 1, {B}, B, NULL, 0},
    {"every", 1, {B}, B, NULL, 0},
    {NULL, 0, {0}, 0, NULL, 0},
};
static const agg_impl agg_impls[] = {
    SUMI8_I, SUMI8_I, SUMIN_I, SUMF4_I,  SUMF8_I,    SUMN_I,   AVGI_I, AVGI_I,
    AVGI_I,  AVGF_I,  AVGF_I,  AVGN_I,   MM(i2),     MM(i4),   MM(i8), MM(oid),
    MM(f4),  MM(f8),  MM(num), MM(text), MM(bpchar), MM(date), MM(ts), MM(tstz),
    SAGG_I,  SAGGB_I, BAND_I,  BOR_I,    BAND_I,
};
_Static_assert(sizeof agg_impls / sizeof agg_impls[0] ==
                   sizeof agg_sigs / sizeof agg_sigs[0] - 1,
               "agg_sigs and agg_impls out of step");

bool sql_is_aggregate(const char *name)
{
    if (!strcmp(name, "count") || !strcmp(name, "array_agg"))
        return true;
    for (const sql_fcand *f = agg_sigs; f->name; f++)
        if (!strcmp(f->name, name))
            return true;
    return false;
}

static void agg_fill(const char *name, const agg_impl *im, uint32_t ret,
                     int nargs, const uint32_t *args, sql_agg_resolved *out)
{
    memset(out, 0, sizeof *out);
    out->name = name;
    out->flags = im->flags;
    out->rettype = ret;
    out->rettypmod = -1;
    out->nargs = nargs;
    for (int i = 0; i < nargs; i++)
        out->argtypes[i] = args[i];
    out->state_size = im->state_size;
    out->step = im->step;
    out->final = im->final;
    out->free = im->free;
    out->mem = im->mem;
}

int sql_agg_resolve(const char *name, bool star, int nargs,
                    const uint32_t *argtypes, sql_agg_resolved *out,
                    dc_error *err)
{
    static const agg_impl count_impl = COUNT_I;
    if (!strcmp(name, "count")) {
        if (star || nargs == 0) {
            agg_fill("count", &count_impl, DC_TYPE_INT8, 0, NULL, out);
            return DC_OK;
        }
        if (nargs == 1) {
            uint32_t t =
                argtypes[0] == DC_TYPE_UNKNOWN ? DC_TYPE_TEXT : argtypes[0];
            agg_fill("count", &count_impl, DC_TYPE_INT8, 1, &t, out);
            return DC_OK;
        }
        return sql_fx_func_error(SQL_FIND_NONE, name, nargs, argtypes, err);
    }
    if (!star && sql_pg_agg_resolve(name, nargs, argtypes, out) == DC_OK)
        return DC_OK;
    if (star) {
        dc_error_set(err, DC_EINVAL, "42809",
                     "%s(*) specified, but %s is not an aggregate function",
                     name, name);
        return DC_EINVAL;
    }
    const sql_fcand *f = NULL;
    int found = nargs <= 2
                    ? sql_fx_find(agg_sigs, name, nargs, argtypes, false, &f)
                    : SQL_FIND_NONE;
    if (found != SQL_FIND_OK)
        return sql_fx_func_error(found, name, nargs, argtypes, err);
    const agg_impl *im = &agg_impls[f - agg_sigs];
    agg_fill(f->name, im, f->ret, f->nargs, f->args, out);
    return DC_OK;
}

/* ---- generate_series
 * ------------------------------------------------------------ */

/* An interval step of a timestamp series: months, days and
 * microseconds, added in that order as PostgreSQL does. */
typedef struct ival {
    int64_t months, days, usec;
} ival;

struct sql_srf_state {
    uint32_t type;
    bool done;
    int64_t cur, stop, step;    /* integer series; timestamps      */
    sql_num ncur, nstop, nstep; /* numeric series                  */
    ival istep;                 /* timestamp series                */
    sql_tz tz;                  /* the session zone (timestamptz)  */
};

static int step_zero(dc_error *err)
{
    return dc_error_set(err, DC_EINVAL, "22023", "step size cannot equal zero");
}

static int gs_int_open(sql_ctx *ctx, int nargs, const dc_value *a,
                       sql_srf_state **out, dc_error *err)
{
    (void)ctx;
    int64_t step = nargs > 2 ? a[2].u.i : 1;
    if (step == 0)
        return step_zero(err);
    sql_srf_state *s = dcm_calloc(1, sizeof *s);
    if (!s)
        return oom(err);
    s->type = a[0].type;
    s->cur = a[0].u.i;
    s->stop = a[1].u.i;
    s->step = step;
    sql_num_init(&s->ncur);
    sql_num_init(&s->nstop);
    sql_num_init(&s->nstep);
    *out = s;
    return DC_OK;
}

static int gs_int_next(sql_ctx *ctx, sql_srf_state *s, dc_value *out,
                       bool *done, dc_error *err)
{
    (void)ctx, (void)err;
    if (s->done || (s->step > 0 ? s->cur > s->stop : s->cur < s->stop)) {
        *done = true;
        return DC_OK;
    }
    *out = sql_value_int(s->type, s->cur);
    *done = false;
    int64_t nx;
    /* stop instead of overflowing past the type's range */
    if (__builtin_add_overflow(s->cur, s->step, &nx) ||
        (s->type == DC_TYPE_INT4 && (nx > INT32_MAX || nx < INT32_MIN)))
        s->done = true;
    else
        s->cur = nx;
    return DC_OK;
}

static void gs_close(sql_srf_state *s)
{
    if (!s)
        return;
    sql_num_free(&s->ncur);
    sql_num_free(&s->nstop);
    sql_num_free(&s->nstep);
    free(s);
}

static int num_arg(const dc_value *v, const char *what, sql_num *n,
                   dc_error *err)
{
    int rc = sql_value_get_num(v, n, err);
    if (rc)
        return rc;
    if (n->kind == SQL_NUM_NAN)
        return dc_error_set(err, DC_EINVAL, "22023", "%s value cannot be NaN",
                            what);
    if (n->kind != SQL_NUM_FINITE)
        return dc_error_set(err, DC_EINVAL, "22023",
                            "%s value cannot be infinity", what);
    return DC_OK;
}

static int gs_num_open(sql_ctx *ctx, int nargs, const dc_value *a,
                       sql_srf_state **out, dc_error *err)
{
    (void)ctx;
    sql_srf_state *s = dcm_calloc(1, sizeof *s);
    if (!s)
        return oom(err);
    s->type = DC_TYPE_NUMERIC;
    sql_num_init(&s->ncur);
    sql_num_init(&s->nstop);
    sql_num_init(&s->nstep);
    int rc = num_arg(&a[0], "start", &s->ncur, err);
    if (rc == DC_OK)
        rc = num_arg(&a[1], "stop", &s->nstop, err);
    if (rc == DC_OK)
        rc = nargs > 2 ? num_arg(&a[2], "step size", &s->nstep, err)
                       : sql_num_from_int64(1, &s->nstep, err);
    if (rc == DC_OK && s->nstep.ndigits == 0)
        rc = step_zero(err);
    if (rc) {
        gs_close(s);
        return rc;
    }
    *out = s;
    return DC_OK;
}

static int gs_num_next(sql_ctx *ctx, sql_srf_state *s, dc_value *out,
                       bool *done, dc_error *err)
{
    int c = sql_num_cmp(&s->ncur, &s->nstop);
    if (s->nstep.neg ? c < 0 : c > 0) {
        *done = true;
        return DC_OK;
    }
    int rc = sql_fx_num(ctx, &s->ncur, out, err);
    if (rc)
        return rc;
    sql_num nx;
    sql_num_init(&nx);
    rc = sql_num_add(&s->ncur, &s->nstep, &nx, err);
    if (rc == DC_OK) {
        sql_num t = s->ncur;
        s->ncur = nx;
        nx = t;
    }
    sql_num_free(&nx);
    *done = false;
    return rc;
}

/* ---- interval text for the timestamp series --------------------------- */

static const struct {
    const char *name;
    int kind; /* 0 usec 1 months 2 days */
    int64_t mult;
} ival_units[] = {
    {"microsecond", 0, 1},
    {"microseconds", 0, 1},
    {"us", 0, 1},
    {"usec", 0, 1},
    {"usecs", 0, 1},
    {"millisecond", 0, 1000},
    {"milliseconds", 0, 1000},
    {"ms", 0, 1000},
    {"msec", 0, 1000},
    {"msecs", 0, 1000},
    {"second", 0, 1000000},
    {"seconds", 0, 1000000},
    {"s", 0, 1000000},
    {"sec", 0, 1000000},
    {"secs", 0, 1000000},
    {"minute", 0, 60000000},
    {"minutes", 0, 60000000},
    {"m", 0, 60000000},
    {"min", 0, 60000000},
    {"mins", 0, 60000000},
    {"hour", 0, INT64_C(3600000000)},
    {"hours", 0, INT64_C(3600000000)},
    {"h", 0, INT64_C(3600000000)},
    {"hr", 0, INT64_C(3600000000)},
    {"hrs", 0, INT64_C(3600000000)},
    {"day", 2, 1},
    {"days", 2, 1},
    {"d", 2, 1},
    {"week", 2, 7},
    {"weeks", 2, 7},
    {"w", 2, 7},
    {"month", 1, 1},
    {"months", 1, 1},
    {"mon", 1, 1},
    {"mons", 1, 1},
    {"year", 1, 12},
    {"years", 1, 12},
    {"y", 1, 12},
    {"yr", 1, 12},
    {"yrs", 1, 12},
    {"decade", 1, 120},
    {"decades", 1, 120},
    {"century", 1, 1200},
    {"centuries", 1, 1200},
    {"millennium", 1, 12000},
    {"millennia", 1, 12000},
};

static int ival_bad(const dc_value *v, dc_error *err)
{
    return dc_error_set(err, DC_EINVAL, "22007",
                        "invalid input syntax for type interval: \"%.*s\"",
                        (int)(v->u.bytes.len > 200 ? 200 : v->u.bytes.len),
                        (const char *)v->u.bytes.ptr);
}

/* Add `amount` of a unit to *iv; fractions of months and days spill
 * into the smaller fields (1.5 months = 1 month 15 days). */
static void ival_add(ival *iv, int kind, int64_t mult, double amount)
{
    double whole = trunc(amount), frac = amount - whole;
    if (kind == 1) {
        double m = amount * (double)mult;
        iv->months += (int64_t)trunc(m);
        double dd = (m - trunc(m)) * 30;
        iv->days += (int64_t)trunc(dd);
        iv->usec += (int64_t)llround((dd - trunc(dd)) * 86400e6);
    } else if (kind == 2) {
        double dd = amount * (double)mult;
        iv->days += (int64_t)trunc(dd);
        iv->usec += (int64_t)llround((dd - trunc(dd)) * 86400e6);
    } else {
        iv->usec +=
            (int64_t)whole * mult + (int64_t)llround(frac * (double)mult);
    }
}

/* "H:MM[:SS[.frac]]" with an optional sign. */
static bool ival_clock(const char *w, ival *iv)
{
    int sign = 1;
    if (*w == '-' || *w == '+')
        sign = *w++ == '-' ? -1 : 1;
    char *end;
    long h = strtol(w, &end, 10);
    if (end == w || *end != ':')
        return false;
    long m = strtol(end + 1, &end, 10);
    double sec = 0;
    if (*end == ':') {
        char *e2;
        sec = strtod(end + 1, &e2);
        end = e2;
    }
    if (*end != 0 || m < 0 || m > 59 || sec < 0 || sec >= 60)
        return false;
    iv->usec += sign * ((int64_t)h * INT64_C(3600000000) +
                        (int64_t)m * 60000000 + (int64_t)llround(sec * 1e6));
    return true;
}

static int ival_parse(const dc_value *v, ival *iv, dc_error *err)
{
    char buf[256];
    size_t n = v->u.bytes.len;
    if (n >= sizeof buf)
        return ival_bad(v, err);
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)tolower(v->u.bytes.ptr[i]);
    buf[n] = 0;
    memset(iv, 0, sizeof *iv);
    bool any = false, ago = false;
    char *save = NULL;
    char *w = strtok_r(buf, " \t", &save);
    if (w && !strcmp(w, "@"))
        w = strtok_r(NULL, " \t", &save);
    while (w) {
        if (!strcmp(w, "ago")) {
            ago = true;
            w = strtok_r(NULL, " \t", &save);
            if (w)
                return ival_bad(v, err);
            break;
        }
        if (strchr(w, ':')) {
            if (!ival_clock(w, iv))
                return ival_bad(v, err);
            any = true;
            w = strtok_r(NULL, " \t", &save);
            continue;
        }
        char *end;
        double amount = strtod(w, &end);
        if (end == w || !isfinite(amount))
            return ival_bad(v, err);
        const char *unit = end;
        if (*unit == 0) {
            char *next = strtok_r(NULL, " \t", &save);
            unit = next ? next : "second";
        }
        size_t k = 0, nu = sizeof ival_units / sizeof ival_units[0];
        while (k < nu && strcmp(ival_units[k].name, unit) != 0)
            k++;
        if (k == nu)
            return ival_bad(v, err);
        ival_add(iv, ival_units[k].kind, ival_units[k].mult, amount);
        any = true;
        w = strtok_r(NULL, " \t", &save);
    }
    if (!any)
        return ival_bad(v, err);
    if (ago) {
        iv->months = -iv->months;
        iv->days = -iv->days;
        iv->usec = -iv->usec;
    }
    return DC_OK;
}

/* ts (local wall time) + iv; 22008 when out of range. */
static int ts_add_ival(int64_t ts, const ival *iv, int64_t *out, dc_error *err)
{
    int64_t days = ts / SQL_USECS_PER_DAY;
    if (ts % SQL_USECS_PER_DAY < 0)
        days--;
    int64_t tod = ts - days * SQL_USECS_PER_DAY;
    if (iv->months) {
        int64_t y;
        int m, d;
        sql_date_to_ymd(days, &y, &m, &d);
        int64_t mm = y * 12 + (m - 1) + iv->months;
        y = mm >= 0 ? mm / 12 : -((-mm + 11) / 12);
        m = (int)(mm - y * 12) + 1;
        while (d > 28 && !sql_ymd_valid(y, m, d))
            d--;
        days = sql_date_from_ymd(y, m, d);
    }
    days += iv->days;
    int64_t r;
    if (__builtin_mul_overflow(days, SQL_USECS_PER_DAY, &r) ||
        __builtin_add_overflow(r, tod, &r) ||
        __builtin_add_overflow(r, iv->usec, &r) || !sql_timestamp_ok(r))
        return dc_error_set(err, DC_ERANGE, "22008", "timestamp out of range");
    *out = r;
    return DC_OK;
}

/* The next timestamp of a series: tz values step in local time. */
static int series_step(sql_srf_state *s, int64_t cur, int64_t *out,
                       dc_error *err)
{
    if (s->type != DC_TYPE_TIMESTAMPTZ)
        return ts_add_ival(cur, &s->istep, out, err);
    int64_t local;
    int rc = sql_timestamptz_to_local(cur, &s->tz, &local, err);
    if (rc == DC_OK)
        rc = ts_add_ival(local, &s->istep, &local, err);
    if (rc == DC_OK)
        rc = sql_timestamp_to_tz(local, &s->tz, out, err);
    return rc;
}

static int gs_ts_open(sql_ctx *ctx, int nargs, const dc_value *a,
                      sql_srf_state **out, dc_error *err)
{
    (void)nargs;
    ival iv;
    int rc = ival_parse(&a[2], &iv, err);
    if (rc)
        return rc;
    if (iv.months == 0 && iv.days == 0 && iv.usec == 0)
        return step_zero(err);
    sql_srf_state *s = dcm_calloc(1, sizeof *s);
    if (!s)
        return oom(err);
    s->type = a[0].type;
    s->cur = a[0].u.i;
    s->stop = a[1].u.i;
    s->istep = iv;
    s->tz.offset = ctx->tz ? ctx->tz->offset : 0;
    sql_num_init(&s->ncur);
    sql_num_init(&s->nstop);
    sql_num_init(&s->nstep);
    /* the direction: does one step move forward? */
    int64_t nx;
    if (series_step(s, s->cur, &nx, err) != DC_OK) {
        s->done = false;
        s->step = 1;
        dc_error_init(err);
    } else {
        s->step = nx > s->cur ? 1 : -1;
    }
    *out = s;
    return DC_OK;
}

static int gs_ts_next(sql_ctx *ctx, sql_srf_state *s, dc_value *out, bool *done,
                      dc_error *err)
{
    (void)ctx;
    if (s->done || (s->step > 0 ? s->cur > s->stop : s->cur < s->stop)) {
        *done = true;
        return DC_OK;
    }
    *out = sql_value_int(s->type, s->cur);
    *done = false;
    int64_t nx;
    if (series_step(s, s->cur, &nx, err) != DC_OK) {
        /* past the end of the timestamp range: this was the last */
        dc_error_init(err);
        s->done = true;
    } else {
        s->cur = nx;
    }
    return DC_OK;
}

static const sql_fcand srf_sigs[] = {
    {"generate_series", 2, {I4, I4}, I4, NULL, 0},
    {"generate_series", 3, {I4, I4, I4}, I4, NULL, 0},
    {"generate_series", 2, {I8, I8}, I8, NULL, 0},
    {"generate_series", 3, {I8, I8, I8}, I8, NULL, 0},
    {"generate_series", 2, {NU, NU}, NU, NULL, 0},
    {"generate_series", 3, {NU, NU, NU}, NU, NULL, 0},
    /* the step is an interval given as text ('1 day', '15 minutes') */
    {"generate_series", 3, {TS, TS, TX}, TS, NULL, 0},
    {"generate_series", 3, {TZ, TZ, TX}, TZ, NULL, 0},
    {NULL, 0, {0}, 0, NULL, 0},
};

int sql_srf_resolve(const char *name, int nargs, const uint32_t *argtypes,
                    sql_srf_resolved *out, dc_error *err)
{
    if (sql_pg_srf_resolve(name, nargs, argtypes, out) == DC_OK)
        return DC_OK;
    const sql_fcand *f = NULL;
    int found = nargs <= 3
                    ? sql_fx_find(srf_sigs, name, nargs, argtypes, false, &f)
                    : SQL_FIND_NONE;
    if (found != SQL_FIND_OK)
        return sql_fx_func_error(found, name, nargs, argtypes, err);
    memset(out, 0, sizeof *out);
    out->rettype = f->ret;
    out->nargs = f->nargs;
    for (int i = 0; i < f->nargs; i++)
        out->argtypes[i] = f->args[i];
    bool num = f->ret == DC_TYPE_NUMERIC;
    bool ts = f->ret == DC_TYPE_TIMESTAMP || f->ret == DC_TYPE_TIMESTAMPTZ;
    out->open = ts ? gs_ts_open : num ? gs_num_open : gs_int_open;
    out->next = ts ? gs_ts_next : num ? gs_num_next : gs_int_next;
    out->close = gs_close;
    return DC_OK;
}
