/*
 * sql/funcs.c - operator and function resolution (PostgreSQL's
 * oper_select_candidate / func_select_candidate / select_common_type over
 * the supported types), the polymorphic and variadic functions resolved by
 * code (coalesce, nullif, greatest, least, concat, concat_ws, function-style
 * casts) and the helpers the other funcs_*.c files share.
 *
 * The signature tables themselves live next to their implementations:
 * funcs_ops.c (operators), funcs_str.c (string functions), funcs_misc.c
 * (math, date/time, system information); aggregates and generate_series
 * in funcs_agg.c.
 */
#include <stdlib.h>
#include <string.h>

#include "sql/funcs_pg.h"
#include "sql/funcs_int.h"
#include "sql/lexer.h"

/* ---- shared helpers ----------------------------------------------------- */

void *sql_fx_alloc(sql_ctx *ctx, size_t n, dc_error *err)
{
    void *p = ctx->mem.alloc ? ctx->mem.alloc(ctx->mem.ctx, n ? n : 1) : NULL;
    if (!p)
        dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    return p;
}

int sql_fx_text(sql_ctx *ctx, uint32_t type, const void *p, size_t n,
                dc_value *out, dc_error *err)
{
    uint8_t *d = sql_fx_alloc(ctx, n, err);
    if (!d)
        return DC_ENOMEM;
    if (n)
        memcpy(d, p, n);
    *out = sql_value_bytes(type, d, n);
    return DC_OK;
}

int sql_fx_text_buf(sql_ctx *ctx, uint32_t type, sql_buf *b, dc_value *out,
                    dc_error *err)
{
    int rc = sql_fx_text(ctx, type, b->data, b->len, out, err);
    sql_buf_free(b);
    return rc;
}

int sql_fx_num(sql_ctx *ctx, const sql_num *n, dc_value *out, dc_error *err)
{
    return sql_value_put_num(n, &ctx->mem, out, err);
}

static bool is_dt(uint32_t t)
{
    return t == DC_TYPE_DATE || t == DC_TYPE_TIMESTAMP ||
           t == DC_TYPE_TIMESTAMPTZ;
}

/* Microseconds UTC of a date/timestamp/timestamptz for comparison with a
 * timestamptz: local values are read in the session zone. */
static int dt_utc(sql_ctx *ctx, const dc_value *v, int64_t *out, dc_error *err)
{
    int64_t ts = v->u.i;
    if (v->type == DC_TYPE_TIMESTAMPTZ) {
        *out = ts;
        return DC_OK;
    }
    if (v->type == DC_TYPE_DATE) {
        int rc = sql_date_to_timestamp((int32_t)v->u.i, &ts, err);
        if (rc)
            return rc;
    }
    return sql_timestamp_to_tz(ts, ctx->tz, out, err);
}

int sql_fx_cmp(sql_ctx *ctx, const dc_value *a, const dc_value *b, int *res,
               dc_error *err)
{
    if (a->type != b->type && is_dt(a->type) && is_dt(b->type) &&
        (a->type == DC_TYPE_TIMESTAMPTZ || b->type == DC_TYPE_TIMESTAMPTZ)) {
        int64_t x, y;
        int rc = dt_utc(ctx, a, &x, err);
        if (rc == DC_OK)
            rc = dt_utc(ctx, b, &y, err);
        if (rc)
            return rc;
        *res = x < y ? -1 : x > y;
        return DC_OK;
    }
    return sql_value_cmp(a, b, res, err);
}

/* Rank of a numeric text among the specials: -1 -Infinity, 0 finite,
 * 1 Infinity, 2 NaN (PostgreSQL's order); -2 not canonical. */
static int num_rank(const uint8_t *p, size_t n)
{
    if (n == 3 && !memcmp(p, "NaN", 3))
        return 2;
    if (n == 8 && !memcmp(p, "Infinity", 8))
        return 1;
    if (n == 9 && !memcmp(p, "-Infinity", 9))
        return -1;
    size_t i = p[0] == '-' ? 1 : 0;
    if (i >= n)
        return -2;
    for (; i < n; i++)
        if (!(p[i] >= '0' && p[i] <= '9') && p[i] != '.')
            return -2;
    return 0;
}

/* Magnitude comparison of two canonical finite texts without signs. */
static int mag_cmp(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    const uint8_t *da = memchr(a, '.', na), *db = memchr(b, '.', nb);
    size_t ia = da ? (size_t)(da - a) : na, ib = db ? (size_t)(db - b) : nb;
    /* "0" has integer length 1 like any one-digit number */
    if (ia != ib)
        return ia < ib ? -1 : 1;
    int c = memcmp(a, b, ia);
    if (c)
        return c < 0 ? -1 : 1;
    size_t fa = da ? na - ia - 1 : 0, fb = db ? nb - ib - 1 : 0;
    const uint8_t *pa = da ? da + 1 : a + na, *pb = db ? db + 1 : b + nb;
    size_t m = fa > fb ? fa : fb;
    for (size_t k = 0; k < m; k++) {
        uint8_t x = k < fa ? pa[k] : '0', y = k < fb ? pb[k] : '0';
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != '0' && p[i] != '.' && p[i] != '-')
            return false;
    return true;
}

bool sql_fx_num_cmp(const dc_value *a, const dc_value *b, int *res)
{
    const uint8_t *pa = a->u.bytes.ptr, *pb = b->u.bytes.ptr;
    size_t na = a->u.bytes.len, nb = b->u.bytes.len;
    if (na == 0 || nb == 0)
        return false;
    int ra = num_rank(pa, na), rb = num_rank(pb, nb);
    if (ra == -2 || rb == -2)
        return false;
    if (ra != 0 || rb != 0) {
        *res = ra < rb ? -1 : ra > rb;
        return true;
    }
    bool za = all_zero(pa, na), zb = all_zero(pb, nb);
    bool nega = pa[0] == '-' && !za, negb = pb[0] == '-' && !zb;
    if (nega != negb) {
        *res = nega ? -1 : 1;
        return true;
    }
    if (pa[0] == '-')
        pa++, na--;
    if (pb[0] == '-')
        pb++, nb--;
    int c = mag_cmp(pa, na, pb, nb);
    *res = nega ? -c : c;
    return true;
}

char sql_type_category(uint32_t t)
{
    switch (t) {
    case DC_TYPE_INT2:
    case DC_TYPE_INT4:
    case DC_TYPE_INT8:
    case DC_TYPE_OID:
    case DC_TYPE_FLOAT4:
    case DC_TYPE_FLOAT8:
    case DC_TYPE_NUMERIC:
        return 'N';
    case DC_TYPE_TEXT:
    case DC_TYPE_VARCHAR:
    case DC_TYPE_BPCHAR:
    case DC_TYPE_NAME:
        return 'S';
    case DC_TYPE_BOOL:
        return 'B';
    case DC_TYPE_DATE:
    case DC_TYPE_TIMESTAMP:
    case DC_TYPE_TIMESTAMPTZ:
        return 'D';
    case DC_TYPE_BYTEA:
        return 'U';
    default:
        return 'X';
    }
}

bool sql_type_preferred(uint32_t t)
{
    return t == DC_TYPE_FLOAT8 || t == DC_TYPE_OID || t == DC_TYPE_TEXT ||
           t == DC_TYPE_BOOL || t == DC_TYPE_TIMESTAMPTZ;
}

const char *sql_version_string(void)
{
    /* The Datacave release this module is built as; the host's version
     * header is not visible to modules. */
    return "PostgreSQL 15.0 (Datacave 0.1.0) on x86_64-pc-linux-gnu, "
           "compiled by gcc, 64-bit";
}

/* ---- candidate selection ------------------------------------------------ */

static bool can_coerce(uint32_t from, uint32_t to)
{
    return from == to || sql_cast_kind(from, to) == SQL_CAST_IMPLICIT;
}

#define MAX_CANDS 64

/*
 * Pick the best of the candidates `c[0..n)` (already filtered to those all
 * of whose parameters the inputs coerce to implicitly) for input types
 * `in`, following func_select_candidate.  Returns the index, or -1 when
 * no single best exists.
 */
static int select_best(int nargs, const uint32_t *in, const sql_fcand **c,
                       int n)
{
    int keep[MAX_CANDS], nk = 0, best = -1;
    int nunknown = 0;
    for (int i = 0; i < nargs; i++)
        nunknown += in[i] == DC_TYPE_UNKNOWN;

    /* 1: most exact matches on known inputs */
    for (int k = 0; k < n; k++) {
        int m = 0;
        for (int i = 0; i < nargs; i++)
            m += in[i] != DC_TYPE_UNKNOWN && in[i] == c[k]->args[i];
        if (m > best) {
            best = m;
            nk = 0;
        }
        if (m == best)
            keep[nk++] = k;
    }
    if (nk == 1)
        return keep[0];

    /* 2: most exact-or-preferred matches on known inputs */
    int keep2[MAX_CANDS], nk2 = 0;
    best = -1;
    for (int j = 0; j < nk; j++) {
        const sql_fcand *f = c[keep[j]];
        int m = 0;
        for (int i = 0; i < nargs; i++)
            m += in[i] != DC_TYPE_UNKNOWN &&
                 (in[i] == f->args[i] || sql_type_preferred(f->args[i]));
        if (m > best) {
            best = m;
            nk2 = 0;
        }
        if (m == best)
            keep2[nk2++] = keep[j];
    }
    if (nk2 == 1)
        return keep2[0];
    if (nunknown == 0)
        return -1;

    /* 3: unknown inputs: a category all candidates agree on, string
     * winning conflicts (an unknown literal looks like a string) */
    char slot_cat[SQL_MAX_FN_ARGS];
    bool slot_pref[SQL_MAX_FN_ARGS];
    bool resolved = true;
    for (int i = 0; i < nargs && resolved; i++) {
        if (in[i] != DC_TYPE_UNKNOWN)
            continue;
        for (int j = 0; j < nk2; j++) {
            uint32_t t = c[keep2[j]]->args[i];
            char cat = sql_type_category(t);
            bool pref = sql_type_preferred(t);
            if (j == 0) {
                slot_cat[i] = cat;
                slot_pref[i] = pref;
            } else if (cat == slot_cat[i]) {
                slot_pref[i] |= pref;
            } else if (cat == 'S') {
                slot_cat[i] = cat;
                slot_pref[i] = pref;
            } else if (slot_cat[i] != 'S') {
                resolved = false;
                break;
            }
        }
    }
    if (resolved) {
        int nk3 = 0;
        for (int j = 0; j < nk2; j++) {
            const sql_fcand *f = c[keep2[j]];
            bool ok = true;
            for (int i = 0; i < nargs && ok; i++) {
                if (in[i] != DC_TYPE_UNKNOWN)
                    continue;
                if (sql_type_category(f->args[i]) != slot_cat[i] ||
                    (slot_pref[i] && !sql_type_preferred(f->args[i])))
                    ok = false;
            }
            if (ok)
                keep2[nk3++] = keep2[j];
        }
        nk2 = nk3;
        if (nk2 == 1)
            return keep2[0];
    }

    /* 4: all known inputs of one type: try unknowns as that type */
    if (nunknown < nargs) {
        uint32_t known = DC_TYPE_UNKNOWN;
        for (int i = 0; i < nargs; i++) {
            if (in[i] == DC_TYPE_UNKNOWN)
                continue;
            if (known == DC_TYPE_UNKNOWN) {
                known = in[i];
            } else if (known != in[i]) {
                known = DC_TYPE_UNKNOWN;
                break;
            }
        }
        if (known != DC_TYPE_UNKNOWN) {
            int found = -1, nf = 0;
            for (int k = 0; k < n && nf < 2; k++) {
                bool ok = true;
                for (int i = 0; i < nargs && ok; i++)
                    ok = can_coerce(in[i] == DC_TYPE_UNKNOWN ? known : in[i],
                                    c[k]->args[i]);
                if (ok) {
                    found = k;
                    nf++;
                }
            }
            if (nf == 1)
                return found;
        }
    }
    return -1;
}

int sql_fx_find(const sql_fcand *table, const char *name, int nargs,
                const uint32_t *in, bool exact_unknown, const sql_fcand **out)
{
    const sql_fcand *c[MAX_CANDS];
    int n = 0;
    uint32_t ex[6] = {0, 0, 0, 0, 0, 0};
    if (nargs > 6)
        return SQL_FIND_NONE;
    for (int i = 0; i < nargs; i++)
        ex[i] = in[i];
    if (exact_unknown && nargs == 2) {
        if (ex[0] == DC_TYPE_UNKNOWN && ex[1] != DC_TYPE_UNKNOWN)
            ex[0] = ex[1];
        else if (ex[1] == DC_TYPE_UNKNOWN && ex[0] != DC_TYPE_UNKNOWN)
            ex[1] = ex[0];
    }
    /* exact match */
    for (const sql_fcand *f = table; f->name; f++) {
        if (f->nargs != nargs || strcmp(f->name, name) != 0)
            continue;
        bool ok = true;
        for (int i = 0; i < nargs && ok; i++)
            ok = ex[i] != DC_TYPE_UNKNOWN && f->args[i] == ex[i];
        if (ok) {
            *out = f;
            return SQL_FIND_OK;
        }
    }
    /* implicitly coercible candidates */
    for (const sql_fcand *f = table; f->name; f++) {
        if (f->nargs != nargs || strcmp(f->name, name) != 0)
            continue;
        bool ok = true;
        for (int i = 0; i < nargs && ok; i++)
            ok = can_coerce(in[i], f->args[i]);
        if (ok && n < MAX_CANDS)
            c[n++] = f;
    }
    if (n == 0)
        return SQL_FIND_NONE;
    if (n == 1) {
        *out = c[0];
        return SQL_FIND_OK;
    }
    int k = select_best(nargs, in, c, n);
    if (k < 0)
        return SQL_FIND_AMBIGUOUS;
    *out = c[k];
    return SQL_FIND_OK;
}

static bool name_in_table(const sql_fcand *table, const char *name)
{
    for (const sql_fcand *f = table; f->name; f++)
        if (!strcmp(f->name, name))
            return true;
    return false;
}

static void fill_resolved(const sql_fcand *f, sql_func_resolved *out)
{
    memset(out, 0, sizeof *out);
    out->fn = f->fn;
    out->flags = f->flags;
    out->rettype = f->ret;
    out->rettypmod = -1;
    out->nargs = f->nargs;
    for (int i = 0; i < f->nargs; i++)
        out->argtypes[i] = f->args[i];
    out->name = f->name;
}

/* ---- operators ---------------------------------------------------------- */

static int oper_error(int found, const char *op, bool unary, uint32_t l,
                      uint32_t r, dc_error *err)
{
    if (found == SQL_FIND_AMBIGUOUS) {
        if (unary)
            dc_error_set(err, DC_ETYPE, "42725",
                         "operator is not unique: %s %s", op, sql_type_name(r));
        else
            dc_error_set(err, DC_ETYPE, "42725",
                         "operator is not unique: %s %s %s", sql_type_name(l),
                         op, sql_type_name(r));
        dc_error_hint(err, "Could not choose a best candidate operator. You "
                           "might need to add explicit type casts.");
        return DC_ETYPE;
    }
    if (unary) {
        dc_error_set(err, DC_ETYPE, "42883", "operator does not exist: %s %s",
                     op, sql_type_name(r));
        dc_error_hint(err, "No operator matches the given name and argument "
                           "type. You might need to add an explicit type "
                           "cast.");
    } else {
        dc_error_set(err, DC_ETYPE, "42883",
                     "operator does not exist: %s %s %s", sql_type_name(l), op,
                     sql_type_name(r));
        dc_error_hint(err, "No operator matches the given name and argument "
                           "types. You might need to add explicit type "
                           "casts.");
    }
    return DC_ETYPE;
}

/* The text-ish types that || concatenates as text. */
static bool textish(uint32_t t)
{
    return t == DC_TYPE_UNKNOWN || sql_type_category(t) == 'S';
}

/* `||`: text || text, bytea || bytea, and text || anynonarray (either
 * side) which converts the other side to its text form. */
static int resolve_concat(uint32_t l, uint32_t r, sql_func_resolved *out,
                          dc_error *err)
{
    memset(out, 0, sizeof *out);
    out->flags = SQL_FN_STRICT;
    out->rettypmod = -1;
    out->nargs = 2;
    out->name = "||";
    if ((l == DC_TYPE_BYTEA && (r == DC_TYPE_BYTEA || r == DC_TYPE_UNKNOWN)) ||
        (r == DC_TYPE_BYTEA && l == DC_TYPE_UNKNOWN)) {
        out->fn = sql_fn_textcat;
        out->rettype = DC_TYPE_BYTEA;
        out->argtypes[0] = out->argtypes[1] = DC_TYPE_BYTEA;
        return DC_OK;
    }
    if (textish(l) && textish(r)) {
        out->fn = sql_fn_textcat;
        out->rettype = DC_TYPE_TEXT;
        out->argtypes[0] = out->argtypes[1] = DC_TYPE_TEXT;
        return DC_OK;
    }
    bool lt = textish(l), rt = textish(r);
    if ((lt && sql_type_supported(r)) || (rt && sql_type_supported(l))) {
        out->fn = sql_fn_anytextcat;
        out->rettype = DC_TYPE_TEXT;
        out->argtypes[0] = lt ? DC_TYPE_TEXT : l;
        out->argtypes[1] = rt ? DC_TYPE_TEXT : r;
        return DC_OK;
    }
    return oper_error(SQL_FIND_NONE, "||", false, l, r, err);
}

int sql_oper_resolve(const char *op, bool unary, uint32_t left, uint32_t right,
                     sql_func_resolved *out, dc_error *err)
{
    if (!strcmp(op, "!="))
        op = "<>";
    if (!unary && !strcmp(op, "||"))
        return resolve_concat(left, right, out, err);
    uint32_t in[2] = {left, right};
    const sql_fcand *f = NULL;
    int found = unary ? sql_fx_find(sql_oper_table, op, 1, &right, false, &f)
                      : sql_fx_find(sql_oper_table, op, 2, in, true, &f);
    if (found != SQL_FIND_OK)
        return oper_error(found, op, unary, left, right, err);
    fill_resolved(f, out);
    return DC_OK;
}

/* ---- common type -------------------------------------------------------- */

int sql_common_type(const char *context, int n, const uint32_t *types,
                    uint32_t *out, dc_error *err)
{
    uint32_t p = n > 0 ? types[0] : DC_TYPE_UNKNOWN;
    for (int i = 1; i < n; i++) {
        uint32_t t = types[i];
        if (t == DC_TYPE_UNKNOWN || t == p)
            continue;
        if (p == DC_TYPE_UNKNOWN) {
            p = t;
        } else if (sql_type_category(t) != sql_type_category(p) ||
                   sql_type_category(t) == 'X') {
            return dc_error_set(err, DC_ETYPE, "42804",
                                "%s types %s and %s cannot be matched", context,
                                sql_type_name(p), sql_type_name(t));
        } else if (!sql_type_preferred(p) && can_coerce(p, t) &&
                   !can_coerce(t, p)) {
            p = t;
        }
    }
    /* every input must coerce to the choice (same category is not
     * enough: timestamptz -> date is not implicit, for instance) */
    for (int i = 0; i < n; i++)
        if (!can_coerce(types[i], p == DC_TYPE_UNKNOWN ? DC_TYPE_TEXT : p))
            return dc_error_set(err, DC_ETYPE, "42846",
                                "%s could not convert type %s to %s", context,
                                sql_type_name(types[i]), sql_type_name(p));
    *out = p == DC_TYPE_UNKNOWN ? DC_TYPE_TEXT : p;
    return DC_OK;
}

/* ---- functions resolved by code ----------------------------------------- */

int sql_fn_coalesce(sql_ctx *ctx, int nargs, const dc_value *args,
                    dc_value *out, dc_error *err)
{
    (void)ctx;
    (void)err;
    for (int i = 0; i < nargs; i++)
        if (!args[i].is_null) {
            *out = args[i];
            return DC_OK;
        }
    *out = sql_value_null(nargs ? args[0].type : DC_TYPE_TEXT);
    return DC_OK;
}

static int extreme(sql_ctx *ctx, int nargs, const dc_value *args, int sign,
                   dc_value *out, dc_error *err)
{
    int best = -1;
    for (int i = 0; i < nargs; i++) {
        if (args[i].is_null)
            continue;
        if (best < 0) {
            best = i;
            continue;
        }
        int c;
        int rc = sql_fx_cmp(ctx, &args[i], &args[best], &c, err);
        if (rc)
            return rc;
        if (c * sign > 0)
            best = i;
    }
    *out = best < 0 ? sql_value_null(nargs ? args[0].type : DC_TYPE_TEXT)
                    : args[best];
    return DC_OK;
}

int sql_fn_greatest(sql_ctx *ctx, int nargs, const dc_value *args,
                    dc_value *out, dc_error *err)
{
    return extreme(ctx, nargs, args, 1, out, err);
}

int sql_fn_least(sql_ctx *ctx, int nargs, const dc_value *args, dc_value *out,
                 dc_error *err)
{
    return extreme(ctx, nargs, args, -1, out, err);
}

int sql_fn_nullif(sql_ctx *ctx, int nargs, const dc_value *args, dc_value *out,
                  dc_error *err)
{
    (void)nargs;
    if (!args[0].is_null && !args[1].is_null) {
        int c;
        int rc = sql_fx_cmp(ctx, &args[0], &args[1], &c, err);
        if (rc)
            return rc;
        if (c == 0) {
            *out = sql_value_null(args[0].type);
            return DC_OK;
        }
    }
    *out = args[0];
    return DC_OK;
}

/* Append the text form of v: its output function's text (what concat
 * and format use), or with as_cast the text a cast to text gives (what
 * `text || x` uses): booleans spelled out, bpchar without its padding. */
static int append_text(sql_ctx *ctx, const dc_value *v, bool as_cast,
                       sql_buf *b, dc_error *err)
{
    if (as_cast && v->type == DC_TYPE_BOOL) {
        const char *s = v->u.b ? "true" : "false";
        return sql_buf_append(b, s, strlen(s), err);
    }
    if (sql_type_category(v->type) == 'S') {
        size_t n = v->u.bytes.len;
        if (v->type == DC_TYPE_BPCHAR && as_cast)
            while (n && v->u.bytes.ptr[n - 1] == ' ')
                n--;
        return sql_buf_append(b, v->u.bytes.ptr, n, err);
    }
    return sql_value_out(v, ctx->tz, b, err);
}

int sql_fn_concat(sql_ctx *ctx, int nargs, const dc_value *args, dc_value *out,
                  dc_error *err)
{
    sql_buf b;
    sql_buf_init(&b);
    for (int i = 0; i < nargs; i++) {
        if (args[i].is_null)
            continue;
        int rc = append_text(ctx, &args[i], false, &b, err);
        if (rc) {
            sql_buf_free(&b);
            return rc;
        }
    }
    return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &b, out, err);
}

int sql_fn_concat_ws(sql_ctx *ctx, int nargs, const dc_value *args,
                     dc_value *out, dc_error *err)
{
    if (args[0].is_null) {
        *out = sql_value_null(DC_TYPE_TEXT);
        return DC_OK;
    }
    sql_buf b;
    sql_buf_init(&b);
    bool first = true;
    int rc = DC_OK;
    for (int i = 1; i < nargs && rc == DC_OK; i++) {
        if (args[i].is_null)
            continue;
        if (!first)
            rc = append_text(ctx, &args[0], false, &b, err);
        if (rc == DC_OK)
            rc = append_text(ctx, &args[i], false, &b, err);
        first = false;
    }
    if (rc) {
        sql_buf_free(&b);
        return rc;
    }
    return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &b, out, err);
}

int sql_fn_textcat(sql_ctx *ctx, int nargs, const dc_value *args, dc_value *out,
                   dc_error *err)
{
    (void)nargs;
    size_t n1 = args[0].u.bytes.len, n2 = args[1].u.bytes.len;
    uint8_t *d = sql_fx_alloc(ctx, n1 + n2, err);
    if (!d)
        return DC_ENOMEM;
    if (n1)
        memcpy(d, args[0].u.bytes.ptr, n1);
    if (n2)
        memcpy(d + n1, args[1].u.bytes.ptr, n2);
    *out = sql_value_bytes(args[0].type == DC_TYPE_BYTEA ? DC_TYPE_BYTEA
                                                         : DC_TYPE_TEXT,
                           d, n1 + n2);
    return DC_OK;
}

int sql_fn_anytextcat(sql_ctx *ctx, int nargs, const dc_value *args,
                      dc_value *out, dc_error *err)
{
    (void)nargs;
    sql_buf b;
    sql_buf_init(&b);
    int rc = append_text(ctx, &args[0], true, &b, err);
    if (rc == DC_OK)
        rc = append_text(ctx, &args[1], true, &b, err);
    if (rc) {
        sql_buf_free(&b);
        return rc;
    }
    return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &b, out, err);
}

/* num_nulls / num_nonnulls (variadic "any") */
static int fn_num_nulls(sql_ctx *ctx, int nargs, const dc_value *args,
                        dc_value *out, dc_error *err)
{
    (void)ctx, (void)err;
    int64_t k = 0;
    for (int i = 0; i < nargs; i++)
        k += args[i].is_null;
    *out = sql_value_int(DC_TYPE_INT4, k);
    return DC_OK;
}

static int fn_num_nonnulls(sql_ctx *ctx, int nargs, const dc_value *args,
                           dc_value *out, dc_error *err)
{
    (void)ctx, (void)err;
    int64_t k = 0;
    for (int i = 0; i < nargs; i++)
        k += !args[i].is_null;
    *out = sql_value_int(DC_TYPE_INT4, k);
    return DC_OK;
}

/* format(): %s, %I, %L and %% with optional n$ positions and widths. */
static int format_bad(dc_error *err, const char *fmt, int c)
{
    if (c < 0)
        dc_error_set(err, DC_EINVAL, "22023",
                     "unterminated format() type specifier");
    else
        dc_error_set(err, DC_EINVAL, "22023", fmt, c);
    dc_error_hint(err, "For a single \"%%\" use \"%%%%\".");
    return DC_EINVAL;
}

static int append_quoted(const uint8_t *s, size_t n, char q, sql_buf *b,
                         dc_error *err)
{
    int rc = sql_buf_append(b, &q, 1, err);
    for (size_t i = 0; i < n && rc == DC_OK; i++) {
        if (s[i] == (uint8_t)q)
            rc = sql_buf_append(b, &q, 1, err);
        if (rc == DC_OK)
            rc = sql_buf_append(b, s + i, 1, err);
    }
    if (rc == DC_OK)
        rc = sql_buf_append(b, &q, 1, err);
    return rc;
}

/* One %-conversion of value v into b (before padding). */
static int format_one(sql_ctx *ctx, char type, const dc_value *v, sql_buf *b,
                      dc_error *err)
{
    if (type == 's')
        return v->is_null ? DC_OK : append_text(ctx, v, false, b, err);
    if (type == 'L' && v->is_null)
        return sql_buf_append(b, "NULL", 4, err);
    if (type == 'I' && v->is_null)
        return dc_error_set(err, DC_EINVAL, "22004",
                            "null values cannot be formatted as an SQL "
                            "identifier");
    sql_buf t;
    sql_buf_init(&t);
    int rc = append_text(ctx, v, false, &t, err);
    if (rc == DC_OK && type == 'L') {
        bool bs = t.len && memchr(t.data, '\\', t.len) != NULL;
        if (bs)
            rc = sql_buf_append(b, "E", 1, err);
        sql_buf t2;
        sql_buf_init(&t2);
        for (size_t i = 0; i < t.len && rc == DC_OK; i++) {
            if (t.data[i] == '\\')
                rc = sql_buf_append(&t2, "\\", 1, err);
            if (rc == DC_OK)
                rc = sql_buf_append(&t2, t.data + i, 1, err);
        }
        if (rc == DC_OK)
            rc = append_quoted(t2.data, t2.len, '\'', b, err);
        sql_buf_free(&t2);
    } else if (rc == DC_OK) {
        bool safe = t.len > 0 && ((t.data[0] >= 'a' && t.data[0] <= 'z') ||
                                  t.data[0] == '_');
        for (size_t i = 0; i < t.len && safe; i++)
            safe = (t.data[i] >= 'a' && t.data[i] <= 'z') ||
                   (t.data[i] >= '0' && t.data[i] <= '9') || t.data[i] == '_';
        if (safe && t.len < 64) {
            char w[64];
            memcpy(w, t.data, t.len);
            w[t.len] = 0;
            safe = sql_keyword_category(w) == SQL_KW_NONE;
        }
        rc = safe ? sql_buf_append(b, t.data, t.len, err)
                  : append_quoted(t.data, t.len, '"', b, err);
    }
    sql_buf_free(&t);
    return rc;
}

static int format_run(sql_ctx *ctx, int nargs, const dc_value *args, sql_buf *b,
                      dc_error *err)
{
    const uint8_t *f = args[0].u.bytes.ptr;
    size_t n = args[0].u.bytes.len;
    int next = 1, rc = DC_OK;
    for (size_t i = 0; i < n && rc == DC_OK; i++) {
        if (f[i] != '%') {
            rc = sql_buf_append(b, f + i, 1, err);
            continue;
        }
        if (++i >= n)
            return format_bad(err, NULL, -1);
        if (f[i] == '%') {
            rc = sql_buf_append(b, "%", 1, err);
            continue;
        }
        /* [n$][-][width] */
        size_t j = i;
        long num = 0;
        while (j < n && f[j] >= '0' && f[j] <= '9' && num < 100000)
            num = num * 10 + (f[j++] - '0');
        int argi = next;
        if (j < n && f[j] == '$' && j > i) {
            argi = (int)num;
            i = j + 1;
        }
        bool left = false;
        if (i < n && f[i] == '-') {
            left = true;
            i++;
        }
        long width = 0;
        while (i < n && f[i] >= '0' && f[i] <= '9' && width < 100000)
            width = width * 10 + (f[i++] - '0');
        if (i >= n)
            return format_bad(err, NULL, -1);
        char type = (char)f[i];
        if (type != 's' && type != 'I' && type != 'L')
            return format_bad(err,
                              "unrecognized format() type specifier "
                              "\"%c\"",
                              type);
        if (argi < 1 || argi >= nargs)
            return dc_error_set(err, DC_EINVAL, "22023",
                                "too few arguments for format()");
        next = argi + 1;
        size_t start = b->len;
        rc = format_one(ctx, type, &args[argi], b, err);
        size_t chars =
            rc == DC_OK ? sql_utf8_len(b->data + start, b->len - start) : 0;
        for (long k = (long)chars; rc == DC_OK && k < width; k++) {
            if (left) {
                rc = sql_buf_append(b, " ", 1, err);
            } else {
                rc = sql_buf_append(b, " ", 1, err);
                if (rc == DC_OK) {
                    memmove(b->data + start + 1, b->data + start,
                            b->len - start - 1);
                    b->data[start] = ' ';
                }
            }
        }
    }
    return rc;
}

static int fn_format(sql_ctx *ctx, int nargs, const dc_value *args,
                     dc_value *out, dc_error *err)
{
    if (args[0].is_null) {
        *out = sql_value_null(DC_TYPE_TEXT);
        return DC_OK;
    }
    sql_buf b;
    sql_buf_init(&b);
    int rc = format_run(ctx, nargs, args, &b, err);
    if (rc) {
        sql_buf_free(&b);
        return rc;
    }
    return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &b, out, err);
}

/* Function-style casts: int4(x), text(x), float8(x) ...  One function per
 * target type since a scalar function sees only its arguments. */
#define CAST_FN(nm, T)                                                         \
    static int cast_##nm(sql_ctx *ctx, int nargs, const dc_value *args,        \
                         dc_value *out, dc_error *err)                         \
    {                                                                          \
        (void)nargs;                                                           \
        return sql_value_cast(&args[0], T, -1, SQL_CAST_EXPLICIT, ctx->tz,     \
                              &ctx->mem, out, err);                            \
    }
CAST_FN(bool, DC_TYPE_BOOL)
CAST_FN(bytea, DC_TYPE_BYTEA)
CAST_FN(name, DC_TYPE_NAME)
CAST_FN(int8, DC_TYPE_INT8)
CAST_FN(int2, DC_TYPE_INT2)
CAST_FN(int4, DC_TYPE_INT4)
CAST_FN(text, DC_TYPE_TEXT)
CAST_FN(oid, DC_TYPE_OID)
CAST_FN(float4, DC_TYPE_FLOAT4)
CAST_FN(float8, DC_TYPE_FLOAT8)
CAST_FN(bpchar, DC_TYPE_BPCHAR)
CAST_FN(varchar, DC_TYPE_VARCHAR)
CAST_FN(date, DC_TYPE_DATE)
CAST_FN(timestamp, DC_TYPE_TIMESTAMP)
CAST_FN(timestamptz, DC_TYPE_TIMESTAMPTZ)
CAST_FN(numeric, DC_TYPE_NUMERIC)

static const struct {
    const char *name;
    uint32_t type;
    sql_scalar_fn fn;
} cast_fns[] = {
    {"bool", DC_TYPE_BOOL, cast_bool},
    {"bytea", DC_TYPE_BYTEA, cast_bytea},
    {"name", DC_TYPE_NAME, cast_name},
    {"int8", DC_TYPE_INT8, cast_int8},
    {"int2", DC_TYPE_INT2, cast_int2},
    {"int4", DC_TYPE_INT4, cast_int4},
    {"text", DC_TYPE_TEXT, cast_text},
    {"oid", DC_TYPE_OID, cast_oid},
    {"float4", DC_TYPE_FLOAT4, cast_float4},
    {"float8", DC_TYPE_FLOAT8, cast_float8},
    {"bpchar", DC_TYPE_BPCHAR, cast_bpchar},
    {"varchar", DC_TYPE_VARCHAR, cast_varchar},
    {"date", DC_TYPE_DATE, cast_date},
    {"timestamp", DC_TYPE_TIMESTAMP, cast_timestamp},
    {"timestamptz", DC_TYPE_TIMESTAMPTZ, cast_timestamptz},
    {"numeric", DC_TYPE_NUMERIC, cast_numeric},
};

/* pg_typeof(x): the type's name as text (PostgreSQL returns regtype,
 * whose text form is the same).  An unknown literal stays "unknown". */
static int fn_typeof(sql_ctx *ctx, int nargs, const dc_value *args,
                     dc_value *out, dc_error *err)
{
    (void)nargs;
    const char *n = sql_type_name(args[0].type);
    return sql_fx_text(ctx, DC_TYPE_TEXT, n, strlen(n), out, err);
}

static int fn_typeof_unknown(sql_ctx *ctx, int nargs, const dc_value *args,
                             dc_value *out, dc_error *err)
{
    (void)nargs;
    (void)args;
    return sql_fx_text(ctx, DC_TYPE_TEXT, "unknown", 7, out, err);
}

/* ---- function resolution ------------------------------------------------ */

static void arglist(int nargs, const uint32_t *t, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < nargs && n + 1 < cap; i++) {
        int w = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "",
                         sql_type_name(t[i]));
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

int sql_fx_func_error(int found, const char *name, int nargs,
                      const uint32_t *types, dc_error *err)
{
    char args[400];
    arglist(nargs, types, args, sizeof args);
    if (!strcmp(name, "extract"))
        name = "pg_catalog.extract";
    if (found == SQL_FIND_AMBIGUOUS) {
        dc_error_set(err, DC_ETYPE, "42725", "function %s(%s) is not unique",
                     name, args);
        dc_error_hint(err, "Could not choose a best candidate function. You "
                           "might need to add explicit type casts.");
    } else {
        dc_error_set(err, DC_ETYPE, "42883", "function %s(%s) does not exist",
                     name, args);
        dc_error_hint(err, "No function matches the given name and argument "
                           "types. You might need to add explicit type "
                           "casts.");
    }
    return DC_ETYPE;
}

static void resolved_init(sql_func_resolved *out, const char *name,
                          sql_scalar_fn fn, unsigned flags, uint32_t ret,
                          int nargs)
{
    memset(out, 0, sizeof *out);
    out->fn = fn;
    out->flags = flags;
    out->rettype = ret;
    out->rettypmod = -1;
    out->nargs = nargs;
    out->name = name;
}

/* coalesce / greatest / least: every argument cast to the common type. */
static int resolve_poly(const char *name, int nargs, const uint32_t *types,
                        sql_func_resolved *out, dc_error *err)
{
    uint32_t t;
    const char *ctxname = !strcmp(name, "coalesce")   ? "COALESCE"
                          : !strcmp(name, "greatest") ? "GREATEST"
                                                      : "LEAST";
    int rc = sql_common_type(ctxname, nargs, types, &t, err);
    if (rc)
        return rc;
    sql_scalar_fn fn = !strcmp(name, "coalesce")   ? sql_fn_coalesce
                       : !strcmp(name, "greatest") ? sql_fn_greatest
                                                   : sql_fn_least;
    if (fn != sql_fn_coalesce) {
        /* the type must have an ordering */
        sql_func_resolved cmp;
        rc = sql_oper_resolve("<", false, t, t, &cmp, err);
        if (rc)
            return rc;
    }
    resolved_init(out, name, fn, 0, t, nargs);
    for (int i = 0; i < nargs; i++)
        out->argtypes[i] = t;
    return DC_OK;
}

/* Functions the tables cannot express; 1 when `name` is not one. */
static int resolve_special(const char *name, int nargs, const uint32_t *types,
                           sql_func_resolved *out, dc_error *err)
{
    if (!strcmp(name, "coalesce") || !strcmp(name, "greatest") ||
        !strcmp(name, "least")) {
        if (nargs < 1)
            return sql_fx_func_error(SQL_FIND_NONE, name, nargs, types, err);
        return resolve_poly(name, nargs, types, out, err);
    }
    if (!strcmp(name, "nullif") && nargs == 2) {
        sql_func_resolved eq;
        int rc = sql_oper_resolve("=", false, types[0], types[1], &eq, err);
        if (rc)
            return rc;
        resolved_init(out, name, sql_fn_nullif, 0, eq.argtypes[0], 2);
        out->argtypes[0] = eq.argtypes[0];
        out->argtypes[1] = eq.argtypes[1];
        return DC_OK;
    }
    if ((!strcmp(name, "concat") && nargs >= 1) ||
        (!strcmp(name, "concat_ws") && nargs >= 2)) {
        for (int i = 0; i < nargs; i++)
            if (types[i] != DC_TYPE_UNKNOWN && !sql_type_supported(types[i]))
                return sql_fx_func_error(SQL_FIND_NONE, name, nargs, types,
                                         err);
        bool ws = name[6] == '_';
        resolved_init(out, name, ws ? sql_fn_concat_ws : sql_fn_concat, 0,
                      DC_TYPE_TEXT, nargs);
        for (int i = 0; i < nargs; i++)
            out->argtypes[i] = types[i] == DC_TYPE_UNKNOWN || (ws && i == 0)
                                   ? DC_TYPE_TEXT
                                   : types[i];
        if (ws && !can_coerce(types[0], DC_TYPE_TEXT))
            return sql_fx_func_error(SQL_FIND_NONE, name, nargs, types, err);
        return DC_OK;
    }
    if ((!strcmp(name, "num_nulls") || !strcmp(name, "num_nonnulls")) &&
        nargs >= 1) {
        resolved_init(out, name,
                      name[4] == 'n' ? fn_num_nonnulls : fn_num_nulls, 0,
                      DC_TYPE_INT4, nargs);
        for (int i = 0; i < nargs; i++)
            out->argtypes[i] =
                types[i] == DC_TYPE_UNKNOWN ? DC_TYPE_TEXT : types[i];
        return DC_OK;
    }
    if (!strcmp(name, "format") && nargs >= 1) {
        if (!can_coerce(types[0], DC_TYPE_TEXT))
            return sql_fx_func_error(SQL_FIND_NONE, name, nargs, types, err);
        resolved_init(out, name, fn_format, 0, DC_TYPE_TEXT, nargs);
        for (int i = 0; i < nargs; i++)
            out->argtypes[i] =
                types[i] == DC_TYPE_UNKNOWN || i == 0 ? DC_TYPE_TEXT : types[i];
        return DC_OK;
    }
    if (!strcmp(name, "pg_typeof") && nargs == 1) {
        bool unk = types[0] == DC_TYPE_UNKNOWN;
        if (!unk && !sql_type_supported(types[0]))
            return sql_fx_func_error(SQL_FIND_NONE, name, nargs, types, err);
        resolved_init(out, name, unk ? fn_typeof_unknown : fn_typeof, 0,
                      DC_TYPE_TEXT, 1);
        out->argtypes[0] = unk ? DC_TYPE_TEXT : types[0];
        return DC_OK;
    }
    if (nargs == 1) {
        for (size_t k = 0; k < sizeof cast_fns / sizeof cast_fns[0]; k++) {
            if (strcmp(cast_fns[k].name, name) != 0)
                continue;
            uint32_t from =
                types[0] == DC_TYPE_UNKNOWN ? DC_TYPE_TEXT : types[0];
            if (sql_cast_kind(from, cast_fns[k].type) == SQL_CAST_NONE)
                return sql_fx_func_error(SQL_FIND_NONE, name, nargs, types,
                                         err);
            resolved_init(out, name, cast_fns[k].fn, SQL_FN_STRICT,
                          cast_fns[k].type, 1);
            out->argtypes[0] = from;
            return DC_OK;
        }
    }
    return 1;
}

int sql_func_resolve(const char *name, int nargs, const uint32_t *argtypes,
                     sql_func_resolved *out, dc_error *err)
{
    if (nargs < 0 || nargs > SQL_MAX_FN_ARGS)
        return dc_error_set(err, DC_EINVAL, "54023",
                            "cannot pass more than %d arguments to a function",
                            SQL_MAX_FN_ARGS);
    int rc = resolve_special(name, nargs, argtypes, out, err);
    if (rc <= 0)
        return rc;
    const sql_fcand *tables[] = {sql_pg_func_table, sql_str_func_table,
                                 sql_misc_func_table, sql_fmt_func_table};
    int found = SQL_FIND_NONE;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        if (!name_in_table(tables[t], name))
            continue;
        const sql_fcand *f = NULL;
        found = sql_fx_find(tables[t], name, nargs, argtypes, false, &f);
        if (found == SQL_FIND_OK) {
            fill_resolved(f, out);
            return DC_OK;
        }
    }
    return sql_fx_func_error(found, name, nargs, argtypes, err);
}
