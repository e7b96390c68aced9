/*
 * sql/funcs_pg.c - PostgreSQL catalog functions (pg_get_expr,
 * pg_get_constraintdef, pg_get_indexdef, pg_get_viewdef, ...) and the
 * text-form arrays described in funcs_pg.h.
 *
 * pg_get_expr and the CHECK text of pg_get_constraintdef bind the stored
 * expression text against its table and print the bound expression the
 * way PostgreSQL's deparser does: constants with their type label where
 * PostgreSQL shows one ('x'::character varying, 0::numeric), implicit
 * casts shown below the top level, and in pretty mode only the
 * parentheses precedence requires.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/binder.h"
#include "sql/catalog.h"
#include "sql/funcs_pg.h"
#include "sql/lexer.h"
#include "sql/vcatalog.h"

#define B  DC_TYPE_BOOL
#define I4 DC_TYPE_INT4
#define OI DC_TYPE_OID
#define TX DC_TYPE_TEXT
#define S  SQL_FN_STRICT

static int out_null(dc_value *out)
{
    *out = sql_value_null(DC_TYPE_TEXT);
    return DC_OK;
}

/* ---- text-form arrays ---------------------------------------------------- */

typedef struct arr {
    int n;
    char **el; /* NUL-terminated element texts (ctx->mem)        */
    bool *null;
} arr;

static int arr_malformed(const uint8_t *s, size_t n, dc_error *err)
{
    return dc_error_set(err, DC_EINVAL, "22P02",
                        "malformed array literal: \"%.*s\"", (int)n,
                        (const char *)s);
}

static int arr_push(sql_ctx *ctx, arr *a, int *cap, const char *p, size_t n,
                    bool isnull, dc_error *err)
{
    if (a->n == *cap) {
        int nc = *cap ? *cap * 2 : 8;
        char **el = sql_fx_alloc(ctx, sizeof(char *) * (size_t)nc, err);
        bool *nu =
            el ? sql_fx_alloc(ctx, sizeof(bool) * (size_t)nc, err) : NULL;
        if (!nu)
            return DC_ENOMEM;
        if (a->n) {
            memcpy(el, a->el, sizeof(char *) * (size_t)a->n);
            memcpy(nu, a->null, sizeof(bool) * (size_t)a->n);
        }
        a->el = el;
        a->null = nu;
        *cap = nc;
    }
    char *c = sql_fx_alloc(ctx, n + 1, err);
    if (!c)
        return DC_ENOMEM;
    memcpy(c, p, n);
    c[n] = 0;
    a->el[a->n] = c;
    a->null[a->n] = isnull;
    a->n++;
    return DC_OK;
}

/* "1 2 3" (int2vector, oidvector): space-separated elements. */
static int arr_parse_vector(sql_ctx *ctx, const uint8_t *s, size_t n, arr *a,
                            dc_error *err)
{
    int cap = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && isspace(s[i]))
            i++;
        size_t st = i;
        while (i < n && !isspace(s[i]))
            i++;
        if (i > st && arr_push(ctx, a, &cap, (const char *)s + st, i - st,
                               false, err) != DC_OK)
            return DC_ENOMEM;
    }
    return DC_OK;
}

/* One element of "{...}" starting at s[*i]; *i ends on ',' or '}'. */
static int arr_element(sql_ctx *ctx, const uint8_t *s, size_t n, size_t *i,
                       arr *a, int *cap, sql_buf *tmp, dc_error *err)
{
    tmp->len = 0;
    bool quoted = false;
    size_t j = *i;
    while (j < n && isspace(s[j]))
        j++;
    if (j < n && s[j] == '"') {
        quoted = true;
        j++;
        while (j < n && s[j] != '"') {
            if (s[j] == '\\' && j + 1 < n)
                j++;
            if (sql_buf_append(tmp, &s[j], 1, err) != DC_OK)
                return DC_ENOMEM;
            j++;
        }
        if (j >= n)
            return arr_malformed(s, n, err);
        j++;
        while (j < n && isspace(s[j]))
            j++;
    } else {
        size_t last = 0;
        while (j < n && s[j] != ',' && s[j] != '}') {
            if (s[j] == '{' || s[j] == '"')
                return arr_malformed(s, n, err);
            if (s[j] == '\\' && j + 1 < n)
                j++;
            if (sql_buf_append(tmp, &s[j], 1, err) != DC_OK)
                return DC_ENOMEM;
            if (!isspace(s[j]))
                last = tmp->len;
            j++;
        }
        tmp->len = last;
    }
    if (j >= n || (s[j] != ',' && s[j] != '}'))
        return arr_malformed(s, n, err);
    *i = j;
    bool isnull = !quoted && tmp->len == 4 &&
                  !strncasecmp((const char *)tmp->data, "null", 4);
    if (!quoted && tmp->len == 0)
        return arr_malformed(s, n, err);
    return arr_push(ctx, a, cap, tmp->len ? (const char *)tmp->data : "",
                    tmp->len, isnull, err);
}

/* Parse an array text into a (one dimension; 22P02 when malformed). */
static int arr_parse(sql_ctx *ctx, const dc_value *v, arr *a, dc_error *err)
{
    memset(a, 0, sizeof *a);
    const uint8_t *s = v->u.bytes.ptr;
    size_t n = v->u.bytes.len, i = 0;
    while (i < n && isspace(s[i]))
        i++;
    if (i == n || s[i] != '{')
        return arr_parse_vector(ctx, s, n, a, err);
    i++;
    while (i < n && isspace(s[i]))
        i++;
    if (i < n && s[i] == '}')
        return DC_OK;
    int cap = 0;
    sql_buf tmp = {0};
    int rc = DC_OK;
    for (;;) {
        if ((rc = arr_element(ctx, s, n, &i, a, &cap, &tmp, err)) != DC_OK)
            break;
        if (s[i++] == '}')
            break;
    }
    sql_buf_free(&tmp);
    if (rc == DC_OK) {
        while (i < n && isspace(s[i]))
            i++;
        if (i != n)
            rc = arr_malformed(s, n, err);
    }
    return rc;
}

/* Append one element as PostgreSQL's array_out writes it. */
static int arr_append_el(sql_buf *b, const uint8_t *p, size_t n, bool isnull,
                         dc_error *err)
{
    if (isnull)
        return sql_buf_append(b, "NULL", 4, err);
    bool q = n == 0 || (n == 4 && !strncasecmp((const char *)p, "null", 4));
    for (size_t i = 0; i < n && !q; i++)
        q = strchr("{}\",\\", p[i]) != NULL || isspace(p[i]);
    if (!q)
        return sql_buf_append(b, p, n, err);
    if (sql_buf_append(b, "\"", 1, err) != DC_OK)
        return DC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if ((p[i] == '"' || p[i] == '\\') &&
            sql_buf_append(b, "\\", 1, err) != DC_OK)
            return DC_ENOMEM;
        if (sql_buf_append(b, &p[i], 1, err) != DC_OK)
            return DC_ENOMEM;
    }
    return sql_buf_append(b, "\"", 1, err);
}

static int f_array_to_string(sql_ctx *ctx, int nargs, const dc_value *a,
                             dc_value *out, dc_error *err)
{
    if (a[0].is_null || a[1].is_null)
        return out_null(out);
    arr x;
    int rc_ = arr_parse(ctx, &a[0], &x, err);
    if (rc_ != DC_OK)
        return rc_;
    bool nullstr = nargs > 2 && !a[2].is_null;
    sql_buf b = {0};
    bool first = true;
    int rc = DC_OK;
    for (int i = 0; i < x.n && rc == DC_OK; i++) {
        if (x.null[i] && !nullstr)
            continue;
        if (!first)
            rc = sql_buf_append(&b, a[1].u.bytes.ptr, a[1].u.bytes.len, err);
        first = false;
        if (rc == DC_OK)
            rc = x.null[i] ? sql_buf_append(&b, a[2].u.bytes.ptr,
                                            a[2].u.bytes.len, err)
                           : sql_buf_append(&b, x.el[i], strlen(x.el[i]), err);
    }
    if (rc != DC_OK) {
        sql_buf_free(&b);
        return rc;
    }
    return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &b, out, err);
}

/* array_upper / array_lower / array_length / cardinality. */
static int arr_dim(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                   dc_error *err, int what)
{
    arr x;
    int rc_ = arr_parse(ctx, &a[0], &x, err);
    if (rc_ != DC_OK)
        return rc_;
    if (what == 3) {
        *out = sql_value_int(DC_TYPE_INT4, x.n);
        return DC_OK;
    }
    if (nargs < 2 || a[1].u.i != 1 || x.n == 0) {
        *out = sql_value_null(DC_TYPE_INT4);
        return DC_OK;
    }
    *out = sql_value_int(DC_TYPE_INT4, what == 1 ? 1 : x.n);
    return DC_OK;
}

static int f_array_upper(sql_ctx *c, int n, const dc_value *a, dc_value *o,
                         dc_error *e)
{
    return arr_dim(c, n, a, o, e, 0);
}

static int f_array_lower(sql_ctx *c, int n, const dc_value *a, dc_value *o,
                         dc_error *e)
{
    return arr_dim(c, n, a, o, e, 1);
}

static int f_array_length(sql_ctx *c, int n, const dc_value *a, dc_value *o,
                          dc_error *e)
{
    return arr_dim(c, n, a, o, e, 2);
}

static int f_cardinality(sql_ctx *c, int n, const dc_value *a, dc_value *o,
                         dc_error *e)
{
    return arr_dim(c, n, a, o, e, 3);
}

/* arr[i]: element i (from 1), NULL outside the array. */
static int f_array_subscript(sql_ctx *ctx, int nargs, const dc_value *a,
                             dc_value *out, dc_error *err)
{
    (void)nargs;
    arr x;
    int rc_ = arr_parse(ctx, &a[0], &x, err);
    if (rc_ != DC_OK)
        return rc_;
    int64_t i = a[1].u.i;
    if (i < 1 || i > x.n || x.null[i - 1])
        return out_null(out);
    *out = sql_value_bytes(DC_TYPE_TEXT, x.el[i - 1], strlen(x.el[i - 1]));
    return DC_OK;
}

int sql_pg_quant_op(const char *op)
{
    static const char *const ops[] = {"=", "<>", "<", "<=", ">", ">="};
    if (!strcmp(op, "!="))
        return SQL_PG_QOP_NE;
    for (int i = 0; i < 6; i++)
        if (!strcmp(op, ops[i]))
            return i;
    return -1;
}

static bool qop_holds(int op, int c)
{
    switch (op) {
    case SQL_PG_QOP_EQ:
        return c == 0;
    case SQL_PG_QOP_NE:
        return c != 0;
    case SQL_PG_QOP_LT:
        return c < 0;
    case SQL_PG_QOP_LE:
        return c <= 0;
    case SQL_PG_QOP_GT:
        return c > 0;
    default:
        return c >= 0;
    }
}

/* (x, array, op, all): three-valued like PostgreSQL's ScalarArrayOpExpr. */
static int f_array_quant(sql_ctx *ctx, int nargs, const dc_value *a,
                         dc_value *out, dc_error *err)
{
    (void)nargs;
    bool all = a[3].u.i != 0;
    if (a[1].is_null) {
        *out = sql_value_null(DC_TYPE_BOOL);
        return DC_OK;
    }
    arr x;
    int rc_ = arr_parse(ctx, &a[1], &x, err);
    if (rc_ != DC_OK)
        return rc_;
    if (x.n == 0) {
        *out = sql_value_bool(all);
        return DC_OK;
    }
    if (a[0].is_null) {
        *out = sql_value_null(DC_TYPE_BOOL);
        return DC_OK;
    }
    bool unknown = false;
    sql_mem mem = ctx->mem;
    for (int i = 0; i < x.n; i++) {
        if (x.null[i]) {
            unknown = true;
            continue;
        }
        dc_value ev;
        int c;
        int rc = sql_value_in(a[0].type, -1, x.el[i], strlen(x.el[i]), ctx->tz,
                              &mem, &ev, err);
        if (rc == DC_OK)
            rc = sql_fx_cmp(ctx, &a[0], &ev, &c, err);
        if (rc != DC_OK)
            return rc;
        bool h = qop_holds((int)a[2].u.i, c);
        if (h != all) {
            *out = sql_value_bool(h);
            return DC_OK;
        }
    }
    *out = unknown ? sql_value_null(DC_TYPE_BOOL) : sql_value_bool(all);
    return DC_OK;
}

void sql_pg_quant_resolve(uint32_t elemtype, sql_func_resolved *out)
{
    memset(out, 0, sizeof *out);
    out->fn = f_array_quant;
    out->rettype = DC_TYPE_BOOL;
    out->rettypmod = -1;
    out->nargs = 4;
    out->argtypes[0] = elemtype;
    out->argtypes[1] = DC_TYPE_TEXT;
    out->argtypes[2] = DC_TYPE_INT4;
    out->argtypes[3] = DC_TYPE_BOOL;
    out->name = "any";
}

uint32_t sql_pg_array_elem(uint32_t t)
{
    static const uint32_t map[][2] = {
        {1000, 16},   {1001, 17},   {1003, 19},   {1005, 21},
        {1007, 23},   {1009, 25},   {1014, 1042}, {1015, 1043},
        {1016, 20},   {1021, 700},  {1022, 701},  {1028, 26},
        {1115, 1114}, {1182, 1082}, {1185, 1184}, {1231, 1700},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i][0] == t)
            return map[i][1];
    return 0;
}

/* ARRAY[a, b, ...]: the array text of the arguments (NULL elements too). */
static int f_array_build(sql_ctx *ctx, int nargs, const dc_value *a,
                         dc_value *out, dc_error *err)
{
    sql_buf b = {0};
    int rc = sql_buf_append(&b, "{", 1, err);
    for (int i = 0; i < nargs && rc == DC_OK; i++) {
        if (i)
            rc = sql_buf_append(&b, ",", 1, err);
        if (rc != DC_OK)
            break;
        if (a[i].is_null) {
            rc = arr_append_el(&b, NULL, 0, true, err);
            continue;
        }
        sql_buf t = {0};
        rc = sql_value_out(&a[i], ctx->tz, &t, err);
        if (rc == DC_OK)
            rc = arr_append_el(&b, t.data ? t.data : (const uint8_t *)"", t.len,
                               false, err);
        sql_buf_free(&t);
    }
    if (rc == DC_OK)
        rc = sql_buf_append(&b, "}", 1, err);
    if (rc != DC_OK) {
        sql_buf_free(&b);
        return rc;
    }
    return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &b, out, err);
}

void sql_pg_array_build_resolve(int nargs, uint32_t elemtype,
                                sql_func_resolved *out)
{
    memset(out, 0, sizeof *out);
    out->fn = f_array_build;
    out->rettype = DC_TYPE_TEXT;
    out->rettypmod = -1;
    out->nargs = nargs;
    for (int i = 0; i < nargs && i < SQL_MAX_FN_ARGS; i++)
        out->argtypes[i] = elemtype;
    out->name = "array";
}

/* ---- array_agg and ARRAY(subquery) --------------------------------------- */

typedef struct arr_state {
    sql_buf b;
    int64_t n;
} arr_state;

static int agg_arr_step(sql_ctx *ctx, void *state, int nargs,
                        const dc_value *args, dc_error *err)
{
    (void)nargs;
    arr_state *st = state;
    if (sql_buf_append(&st->b, st->n ? "," : "{", 1, err) != DC_OK)
        return DC_ENOMEM;
    st->n++;
    if (args[0].is_null)
        return arr_append_el(&st->b, NULL, 0, true, err);
    sql_buf t = {0};
    int rc = sql_value_out(&args[0], ctx->tz, &t, err);
    if (rc == DC_OK)
        rc = arr_append_el(&st->b, t.data ? t.data : (const uint8_t *)"", t.len,
                           false, err);
    sql_buf_free(&t);
    return rc;
}

static int agg_arr_final_common(sql_ctx *ctx, arr_state *st, bool empty_null,
                                dc_value *out, dc_error *err)
{
    if (st->n == 0) {
        if (empty_null)
            return out_null(out);
        *out = sql_value_bytes(DC_TYPE_TEXT, "{}", 2);
        return DC_OK;
    }
    if (sql_buf_append(&st->b, "}", 1, err) != DC_OK)
        return DC_ENOMEM;
    return sql_fx_text(ctx, DC_TYPE_TEXT, st->b.data, st->b.len, out, err);
}

static int agg_arr_final(sql_ctx *ctx, void *state, dc_value *out,
                         dc_error *err)
{
    return agg_arr_final_common(ctx, state, true, out, err);
}

static int agg_sublink_final(sql_ctx *ctx, void *state, dc_value *out,
                             dc_error *err)
{
    return agg_arr_final_common(ctx, state, false, out, err);
}

static void agg_arr_free(void *state)
{
    sql_buf_free(&((arr_state *)state)->b);
}

static size_t agg_arr_mem(const void *state)
{
    return ((const arr_state *)state)->b.cap;
}

static void arr_agg_fill(const char *name, uint32_t argtype, bool sublink,
                         sql_agg_resolved *out)
{
    memset(out, 0, sizeof *out);
    out->name = name;
    out->rettype = DC_TYPE_TEXT;
    out->rettypmod = -1;
    out->nargs = 1;
    out->argtypes[0] = argtype == DC_TYPE_UNKNOWN ? DC_TYPE_TEXT : argtype;
    out->state_size = sizeof(arr_state);
    out->step = agg_arr_step;
    out->final = sublink ? agg_sublink_final : agg_arr_final;
    out->free = agg_arr_free;
    out->mem = agg_arr_mem;
}

void sql_pg_array_sublink_agg(uint32_t argtype, sql_agg_resolved *out)
{
    arr_agg_fill("array", argtype, true, out);
}

int sql_pg_agg_resolve(const char *name, int nargs, const uint32_t *argtypes,
                       sql_agg_resolved *out)
{
    if (strcmp(name, "array_agg") != 0 || nargs != 1)
        return 1;
    arr_agg_fill("array_agg", argtypes[0], false, out);
    return DC_OK;
}

/* ---- unnest -------------------------------------------------------------- */

typedef struct unnest_state {
    arr a;
    int i;
} unnest_state;

static int unnest_open(sql_ctx *ctx, int nargs, const dc_value *args,
                       sql_srf_state **out, dc_error *err)
{
    (void)nargs;
    unnest_state *st = calloc(1, sizeof *st);
    if (!st)
        return dc_error_set(err, DC_ENOMEM, "53200", "out of memory");
    int rc = args[0].is_null ? DC_OK : arr_parse(ctx, &args[0], &st->a, err);
    if (rc != DC_OK) {
        free(st);
        return rc;
    }
    *out = (sql_srf_state *)st;
    return DC_OK;
}

static int unnest_next(sql_ctx *ctx, sql_srf_state *state, dc_value *out,
                       bool *done, dc_error *err)
{
    unnest_state *st = (unnest_state *)state;
    (void)ctx;
    (void)err;
    if (st->i >= st->a.n) {
        *done = true;
        return DC_OK;
    }
    *done = false;
    int i = st->i++;
    *out = st->a.null[i] ? sql_value_null(DC_TYPE_TEXT)
                         : sql_value_bytes(DC_TYPE_TEXT, st->a.el[i],
                                           strlen(st->a.el[i]));
    return DC_OK;
}

static void unnest_close(sql_srf_state *st)
{
    free(st);
}

int sql_pg_srf_resolve(const char *name, int nargs, const uint32_t *argtypes,
                       sql_srf_resolved *out)
{
    if (strcmp(name, "unnest") != 0 || nargs != 1 ||
        (argtypes[0] != DC_TYPE_TEXT && argtypes[0] != DC_TYPE_UNKNOWN))
        return 1;
    memset(out, 0, sizeof *out);
    out->rettype = DC_TYPE_TEXT;
    out->nargs = 1;
    out->argtypes[0] = DC_TYPE_TEXT;
    out->open = unnest_open;
    out->next = unnest_next;
    out->close = unnest_close;
    return DC_OK;
}

/* ---- deparsing ----------------------------------------------------------- */

typedef struct dp {
    sql_ctx *ctx;
    const sql_table *t;
    bool pretty;
    int indent; /* CASE nesting: spaces before WHEN / ELSE */
    sql_buf b;
    dc_error *err;
    int rc;
} dp;

static void dp_str(dp *d, const char *s)
{
    if (d->rc == DC_OK)
        d->rc = sql_buf_append(&d->b, s, strlen(s), d->err);
}

static void dp_type(dp *d, uint32_t type, int32_t typmod)
{
    char buf[64];
    if (type == DC_TYPE_BPCHAR && typmod < 0) {
        dp_str(d, "bpchar");
        return;
    }
    dp_str(d, sql_type_name(type));
    if (typmod < 0)
        return;
    if (type == DC_TYPE_VARCHAR || type == DC_TYPE_BPCHAR) {
        snprintf(buf, sizeof buf, "(%d)", (int)(typmod - 4));
        dp_str(d, buf);
    } else if (type == DC_TYPE_NUMERIC) {
        int32_t m = typmod - 4;
        snprintf(buf, sizeof buf, "(%d,%d)", (int)((m >> 16) & 0xFFFF),
                 (int)(m & 0xFFFF));
        dp_str(d, buf);
    }
}

static void dp_ident(dp *d, const char *s)
{
    bool plain = (*s >= 'a' && *s <= 'z') || *s == '_';
    for (const char *p = s; *p && plain; p++)
        plain =
            (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    if (plain && sql_keyword_category(s) == SQL_KW_NONE) {
        dp_str(d, s);
        return;
    }
    dp_str(d, "\"");
    for (const char *p = s; *p; p++) {
        char c[3] = {*p, *p == '"' ? '"' : 0, 0};
        dp_str(d, c);
    }
    dp_str(d, "\"");
}

/* A constant as PostgreSQL's get_const_expr prints it. */
static void dp_const(dp *d, const dc_value *v)
{
    if (v->is_null) {
        dp_str(d, "NULL");
        if (v->type != DC_TYPE_UNKNOWN) {
            dp_str(d, "::");
            dp_type(d, v->type, -1);
        }
        return;
    }
    if (v->type == DC_TYPE_BOOL) {
        dp_str(d, v->u.i ? "true" : "false");
        return;
    }
    sql_buf t = {0};
    if (d->rc == DC_OK)
        d->rc = sql_value_out(v, d->ctx->tz, &t, d->err);
    if (d->rc == DC_OK && sql_buf_append(&t, "", 1, d->err) != DC_OK)
        d->rc = DC_ENOMEM;
    if (d->rc != DC_OK) {
        sql_buf_free(&t);
        return;
    }
    const char *s = (const char *)t.data;
    if (v->type == DC_TYPE_BPCHAR) {
        /* the constant as written: its padding came from the column's
         * length, which PostgreSQL applies separately */
        size_t n = t.len - 1;
        while (n > 0 && t.data[n - 1] == ' ')
            t.data[--n] = 0;
    }
    bool label = true;
    if (v->type == DC_TYPE_INT4 && s[0] != '-') {
        dp_str(d, s);
        label = false;
    } else if (v->type == DC_TYPE_NUMERIC && isdigit((unsigned char)s[0]) &&
               strcspn(s, "eE.") != strlen(s)) {
        dp_str(d, s);
        label = false;
    } else {
        dp_str(d, "'");
        for (const char *p = s; *p; p++)
            dp_str(d, *p == '\'' ? "''" : (char[]){*p, 0});
        dp_str(d, "'");
        label = v->type != DC_TYPE_UNKNOWN;
    }
    sql_buf_free(&t);
    if (label) {
        dp_str(d, "::");
        dp_type(d, v->type, -1);
    }
}

static bool is_oper(const sql_bexpr *e)
{
    return e->kind == SX_FUNC && e->fn && e->fn->name &&
           !isalpha((unsigned char)e->fn->name[0]) && e->fn->name[0] != '_';
}

/* Precedence of a binary operator (higher binds tighter). */
static int op_prec(const char *op)
{
    if (!strcmp(op, "*") || !strcmp(op, "/") || !strcmp(op, "%"))
        return 4;
    if (!strcmp(op, "+") || !strcmp(op, "-"))
        return 3;
    return 1;
}

static void dp_expr(dp *d, const sql_bexpr *e, bool top);

/* A child expression: parenthesised unless pretty mode finds it simple
 * under `parent`. */
static void dp_child(dp *d, const sql_bexpr *e, const sql_bexpr *parent)
{
    /* CASE's keywords act as parentheses */
    bool simple = e->kind == SX_CONST || e->kind == SX_COL ||
                  e->kind == SX_CAST || e->kind == SX_CASE ||
                  (e->kind == SX_FUNC && !is_oper(e));
    if (!simple && d->pretty) {
        if (is_oper(e) && parent && is_oper(parent) && e->nargs == 2 &&
            parent->nargs == 2) {
            /* arithmetic: a tighter operator needs none, an equal one
             * only on the right ((a - b) - c, a - (b - c)) */
            int pc = op_prec(e->fn->name), pp = op_prec(parent->fn->name);
            simple = pc > 1 && pp > 1 &&
                     (pc > pp || (pc == pp && e == parent->args[0]));
        } else if (parent && (parent->kind == SX_AND || parent->kind == SX_OR ||
                              parent->kind == SX_NOT)) {
            /* NOT and AND inside AND / OR, OR inside OR */
            if (e->kind == SX_NOT || e->kind == SX_AND)
                simple = parent->kind != SX_NOT;
            else if (e->kind == SX_OR)
                simple = parent->kind == SX_OR;
            else
                simple = true;
        }
    }
    if (!simple &&
        (e->kind == SX_NULLTEST || e->kind == SX_BOOLTEST ||
         e->kind == SX_DISTINCT || e->kind == SX_IN_LIST || is_oper(e) ||
         e->kind == SX_AND || e->kind == SX_OR || e->kind == SX_NOT) &&
        !d->pretty) {
        /* non-pretty operators carry their own parentheses */
        dp_expr(d, e, false);
        return;
    }
    if (!simple)
        dp_str(d, "(");
    dp_expr(d, e, false);
    if (!simple)
        dp_str(d, ")");
}

static void dp_func(dp *d, const sql_bexpr *e)
{
    static const char *const sqlvals[][2] = {
        {"current_date", "CURRENT_DATE"},
        {"current_timestamp", "CURRENT_TIMESTAMP"},
        {"localtimestamp", "LOCALTIMESTAMP"},
        {"current_user", "CURRENT_USER"},
        {"session_user", "SESSION_USER"},
        {"current_schema", "CURRENT_SCHEMA"},
    };
    const char *name = e->fn && e->fn->name ? e->fn->name : "?";
    if (e->nargs == 0)
        for (size_t i = 0; i < sizeof sqlvals / sizeof sqlvals[0]; i++)
            if (!strcmp(name, sqlvals[i][0])) {
                dp_str(d, sqlvals[i][1]);
                return;
            }
    if (!strcmp(name, "coalesce") || !strcmp(name, "greatest") ||
        !strcmp(name, "least") || !strcmp(name, "nullif")) {
        char up[16];
        size_t i = 0;
        for (; name[i] && i < sizeof up - 1; i++)
            up[i] = (char)toupper((unsigned char)name[i]);
        up[i] = 0;
        dp_str(d, up);
    } else {
        dp_str(d, name);
    }
    dp_str(d, "(");
    for (int i = 0; i < e->nargs; i++) {
        if (i)
            dp_str(d, ", ");
        dp_expr(d, e->args[i], false);
    }
    dp_str(d, ")");
}

static void dp_oper(dp *d, const sql_bexpr *e)
{
    const char *op = e->fn->name;
    if (!d->pretty)
        dp_str(d, "(");
    if (e->nargs == 1) {
        dp_str(d, op);
        dp_child(d, e->args[0], e);
    } else {
        dp_child(d, e->args[0], e);
        dp_str(d, " ");
        dp_str(d, op);
        dp_str(d, " ");
        dp_child(d, e->args[1], e);
    }
    if (!d->pretty)
        dp_str(d, ")");
}

static void dp_bool(dp *d, const sql_bexpr *e)
{
    if (!d->pretty)
        dp_str(d, "(");
    if (e->kind == SX_NOT) {
        dp_str(d, "NOT ");
        dp_child(d, e->args[0], e);
    } else {
        for (int i = 0; i < e->nargs; i++) {
            if (i)
                dp_str(d, e->kind == SX_AND ? " AND " : " OR ");
            dp_child(d, e->args[i], e);
        }
    }
    if (!d->pretty)
        dp_str(d, ")");
}

static void dp_cast(dp *d, const sql_bexpr *e, bool top)
{
    const sql_bexpr *a = e->args[0];
    if (top && e->cast_ctx != SQL_CAST_EXPLICIT) {
        dp_expr(d, a, true);
        return;
    }
    if (a->kind == SX_CONST && a->value.type == e->type) {
        dp_const(d, &a->value);
    } else {
        if (!d->pretty)
            dp_str(d, "(");
        dp_child(d, a, e);
        if (!d->pretty)
            dp_str(d, ")");
    }
    dp_str(d, "::");
    dp_type(d, e->type, e->typmod);
}

/* IS [NOT] NULL / TRUE / FALSE / UNKNOWN, IS [NOT] DISTINCT FROM, and
 * IN lists, which PostgreSQL keeps as x = ANY (ARRAY[...]). */
static void dp_test(dp *d, const sql_bexpr *e)
{
    static const char *const bt[2][3] = {
        {" IS TRUE", " IS FALSE", " IS UNKNOWN"},
        {" IS NOT TRUE", " IS NOT FALSE", " IS NOT UNKNOWN"}};
    if (!d->pretty)
        dp_str(d, "(");
    dp_child(d, e->args[0], e);
    if (e->kind == SX_NULLTEST) {
        dp_str(d, e->negated ? " IS NOT NULL" : " IS NULL");
    } else if (e->kind == SX_BOOLTEST) {
        dp_str(d, bt[e->negated ? 1 : 0][e->booltest % 3]);
    } else if (e->kind == SX_DISTINCT) {
        dp_str(d, e->negated ? " IS NOT DISTINCT FROM " : " IS DISTINCT FROM ");
        dp_child(d, e->args[1], e);
    } else {
        dp_str(d, e->negated ? " <> ALL (ARRAY[" : " = ANY (ARRAY[");
        for (int i = 1; i < e->nargs; i++) {
            if (i > 1)
                dp_str(d, ", ");
            dp_expr(d, e->args[i], false);
        }
        dp_str(d, "])");
    }
    if (!d->pretty)
        dp_str(d, ")");
}

/* A keyword on a new line indented by d->indent + `before` (trailing
 * spaces dropped first), as PostgreSQL lays out CASE in every mode. */
static void dp_keyword(dp *d, const char *kw, int before, int after)
{
    d->indent += before;
    while (d->b.len > 0 && d->b.data[d->b.len - 1] == ' ')
        d->b.len--;
    dp_str(d, "\n");
    for (int i = 0; i < d->indent; i++)
        dp_str(d, " ");
    dp_str(d, kw);
    d->indent += after;
    if (d->indent < 0)
        d->indent = 0;
}

/* CASE: the keywords on their own lines; a CASE without ELSE shows the
 * ELSE NULL PostgreSQL's parser adds. */
static void dp_case(dp *d, const sql_bexpr *e)
{
    int i = 0, end = e->nargs - (e->has_else ? 1 : 0);
    dp_keyword(d, "CASE", 0, 4);
    if (e->has_operand) {
        dp_str(d, " ");
        dp_expr(d, e->args[i++], false);
    }
    for (; i + 1 < end; i += 2) {
        dp_keyword(d, "WHEN ", 0, 0);
        const sql_bexpr *w = e->args[i];
        /* with an operand the binder made "operand = value": show value */
        if (e->has_operand && w->kind == SX_FUNC && w->nargs == 2 &&
            w->args[0]->kind == SX_CASE_TEST)
            w = w->args[1];
        dp_expr(d, w, false);
        dp_str(d, " THEN ");
        dp_expr(d, e->args[i + 1], false);
    }
    dp_keyword(d, "ELSE ", 0, 0);
    if (e->has_else) {
        dp_expr(d, e->args[e->nargs - 1], false);
    } else {
        dc_value n = sql_value_null(e->type);
        dp_const(d, &n);
    }
    dp_keyword(d, "END", -4, 0);
}

static void dp_expr(dp *d, const sql_bexpr *e, bool top)
{
    if (d->rc != DC_OK)
        return;
    switch (e->kind) {
    case SX_CONST:
        dp_const(d, &e->value);
        return;
    case SX_COL:
        if (d->t && e->index >= 0 && e->index < d->t->natts)
            dp_ident(d, d->t->cols[e->index].name);
        else
            dp_str(d, "?");
        return;
    case SX_FUNC:
        if (is_oper(e))
            dp_oper(d, e);
        else
            dp_func(d, e);
        return;
    case SX_AND:
    case SX_OR:
    case SX_NOT:
        dp_bool(d, e);
        return;
    case SX_CAST:
        dp_cast(d, e, top);
        return;
    case SX_NULLTEST:
    case SX_BOOLTEST:
    case SX_DISTINCT:
    case SX_IN_LIST:
        dp_test(d, e);
        return;
    case SX_CASE:
        dp_case(d, e);
        return;
    default:
        dp_str(d, "?");
        return;
    }
}

/* Bind `text` over table t (cast to type when not 0) and print it;
 * a malloc'd string in *out. */
static int deparse_text(sql_ctx *ctx, const sql_table *t, const char *text,
                        uint32_t type, int32_t typmod, bool pretty, char **out,
                        dc_error *err)
{
    sql_bexpr *e = NULL;
    int rc_ =
        sql_bind_expr_text(ctx, ctx->arena, t, text, type, typmod, &e, err);
    if (rc_ != DC_OK)
        return rc_;
    dp d = {.ctx = ctx, .t = t, .pretty = pretty, .err = err};
    dp_expr(&d, e, true);
    if (d.rc == DC_OK && sql_buf_append(&d.b, "", 1, err) != DC_OK)
        d.rc = DC_ENOMEM;
    if (d.rc != DC_OK) {
        sql_buf_free(&d.b);
        return d.rc;
    }
    *out = (char *)d.b.data;
    return DC_OK;
}

static int text_result(sql_ctx *ctx, char *s, dc_value *out, dc_error *err)
{
    if (!s)
        return out_null(out);
    int rc = sql_fx_text(ctx, DC_TYPE_TEXT, s, strlen(s), out, err);
    free(s);
    return rc;
}

/* ---- catalog functions --------------------------------------------------- */

/* pg_get_expr(expr text, relation oid [, pretty]): the DEFAULT text of a
 * column of the relation as PostgreSQL prints it. */
static int f_pg_get_expr(sql_ctx *ctx, int nargs, const dc_value *a,
                         dc_value *out, dc_error *err)
{
    const sql_table *t =
        ctx->cat ? sql_catalog_table_by_oid(ctx->cat, (uint32_t)a[1].u.i)
                 : NULL;
    if (!t)
        return out_null(out);
    char *text = sql_fx_alloc(ctx, a[0].u.bytes.len + 1, err);
    if (!text)
        return DC_ENOMEM;
    memcpy(text, a[0].u.bytes.ptr, a[0].u.bytes.len);
    text[a[0].u.bytes.len] = 0;
    uint32_t type = 0;
    int32_t typmod = -1;
    for (int i = 0; i < t->natts; i++)
        if (!t->cols[i].dropped && t->cols[i].default_expr &&
            !strcmp(t->cols[i].default_expr, text)) {
            type = t->cols[i].type;
            typmod = t->cols[i].typmod;
            break;
        }
    bool pretty = nargs > 2 && !a[2].is_null && a[2].u.i;
    char *s = NULL;
    int rc_ = deparse_text(ctx, t, text, type, typmod, pretty, &s, err);
    if (rc_ != DC_OK)
        return rc_;
    return text_result(ctx, s, out, err);
}

static int f_pg_get_constraintdef(sql_ctx *ctx, int nargs, const dc_value *a,
                                  dc_value *out, dc_error *err)
{
    if (!ctx->cat)
        return out_null(out);
    uint32_t oid = (uint32_t)a[0].u.i;
    bool pretty = nargs > 1 && !a[1].is_null && a[1].u.i;
    const sql_table *t = NULL;
    const sql_check *ck = sql_vcat_check(ctx->cat, oid, &t);
    if (!ck)
        return text_result(ctx, sql_vcat_constraintdef(ctx->cat, oid), out,
                           err);
    char *s = NULL;
    int rc = deparse_text(ctx, t, ck->expr, DC_TYPE_BOOL, -1, pretty, &s, err);
    if (rc != DC_OK)
        return rc;
    size_t n = strlen(s);
    char *def = malloc(n + 10);
    if (!def) {
        free(s);
        return dc_error_set(err, DC_ENOMEM, "53200", "out of memory");
    }
    snprintf(def, n + 10, "CHECK (%s)", s);
    free(s);
    return text_result(ctx, def, out, err);
}

static const sql_index *index_by_oid(const sql_catalog *c, uint32_t oid,
                                     const sql_table **owner)
{
    for (size_t i = 0; i < sql_catalog_ntables(c); i++) {
        const sql_table *t = sql_catalog_table_at(c, i);
        for (int j = 0; j < t->nindexes; j++)
            if (t->indexes[j]->oid == oid) {
                *owner = t;
                return t->indexes[j];
            }
    }
    return NULL;
}

/* pg_get_indexdef(oid [, column, pretty]): column 0 is the whole CREATE
 * INDEX (pretty omits the schema of a visible table), column k > 0 the
 * k-th key column. */
static int f_pg_get_indexdef(sql_ctx *ctx, int nargs, const dc_value *a,
                             dc_value *out, dc_error *err)
{
    if (!ctx->cat)
        return out_null(out);
    uint32_t oid = (uint32_t)a[0].u.i;
    const sql_table *t = NULL;
    const sql_index *ix = index_by_oid(ctx->cat, oid, &t);
    if (!ix)
        return out_null(out);
    int64_t col = nargs > 1 && !a[1].is_null ? a[1].u.i : 0;
    bool pretty = nargs > 2 && !a[2].is_null && a[2].u.i;
    if (col > 0) {
        if (col > ix->ncols)
            return out_null(out);
        dp d = {.ctx = ctx, .err = err};
        dp_ident(&d, t->cols[ix->attnums[col - 1] - 1].name);
        if (d.rc != DC_OK) {
            sql_buf_free(&d.b);
            return d.rc;
        }
        return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &d.b, out, err);
    }
    char *def = sql_vcat_indexdef(ctx->cat, oid);
    if (def && pretty && !strcmp(t->schema, "public")) {
        /* "... ON public.t USING" -> "... ON t USING" */
        char *p = strstr(def, " ON public.");
        if (p)
            memmove(p + 4, p + 11, strlen(p + 11) + 1);
    }
    return text_result(ctx, def, out, err);
}

static int f_pg_get_viewdef(sql_ctx *ctx, int nargs, const dc_value *a,
                            dc_value *out, dc_error *err)
{
    (void)nargs;
    if (!ctx->cat)
        return out_null(out);
    return text_result(ctx, sql_vcat_viewdef(ctx->cat, (uint32_t)a[0].u.i), out,
                       err);
}

static int f_null_text(sql_ctx *ctx, int nargs, const dc_value *a,
                       dc_value *out, dc_error *err)
{
    (void)ctx;
    (void)nargs;
    (void)a;
    (void)err;
    return out_null(out);
}

static int f_false(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                   dc_error *err)
{
    (void)ctx;
    (void)nargs;
    (void)a;
    (void)err;
    *out = sql_value_bool(false);
    return DC_OK;
}

static int f_true(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                  dc_error *err)
{
    (void)ctx;
    (void)nargs;
    (void)a;
    (void)err;
    *out = sql_value_bool(true);
    return DC_OK;
}

/* pg_get_userbyid(role): pg_roles shows the session's user as role 10;
 * 6171 is pg_database_owner (the owner of schema public). */
static int f_pg_get_userbyid(sql_ctx *ctx, int nargs, const dc_value *a,
                             dc_value *out, dc_error *err)
{
    (void)nargs;
    char buf[64];
    const char *n = buf;
    if (a[0].u.i == 10)
        n = ctx->user ? ctx->user : "";
    else if (a[0].u.i == 6171)
        n = "pg_database_owner";
    else
        snprintf(buf, sizeof buf, "unknown (OID=%u)", (unsigned)a[0].u.i);
    return sql_fx_text(ctx, DC_TYPE_NAME, n, strlen(n), out, err);
}

/* pg_size_pretty(bytes) as PostgreSQL 15 prints it: bytes below 10 kB,
 * then kB, MB, GB, TB, PB each below 20 * 1024 - 1 of the unit, halves
 * rounded away from zero. */
static void size_pretty(int64_t size, char *buf, size_t cap)
{
    static const struct {
        const char *name;
        int64_t limit;
        bool round;
        int bits;
    } units[] = {
        {"bytes", 10 * 1024, false, 0},  {"kB", 20 * 1024 - 1, true, 10},
        {"MB", 20 * 1024 - 1, true, 20}, {"GB", 20 * 1024 - 1, true, 30},
        {"TB", 20 * 1024 - 1, true, 40}, {"PB", 20 * 1024 - 1, true, 50},
    };
    const size_t n = sizeof units / sizeof units[0];
    for (size_t i = 0; i < n; i++) {
        int64_t abs = size < 0 ? -size : size;
        if (i + 1 == n || abs < units[i].limit) {
            if (units[i].round)
                size = (size + (size < 0 ? -1 : 1)) / 2;
            snprintf(buf, cap, "%lld %s", (long long)size, units[i].name);
            return;
        }
        int bits = units[i + 1].bits - units[i].bits -
                   (units[i + 1].round ? 1 : 0) + (units[i].round ? 1 : 0);
        size /= (int64_t)1 << bits;
    }
}

static int f_pg_size_pretty(sql_ctx *ctx, int nargs, const dc_value *a,
                            dc_value *out, dc_error *err)
{
    (void)nargs;
    char buf[64];
    int64_t v = a[0].u.i;
    if (a[0].type == DC_TYPE_NUMERIC) {
        dc_value i8;
        int rc = sql_value_cast(&a[0], DC_TYPE_INT8, -1, SQL_CAST_EXPLICIT,
                                NULL, &ctx->mem, &i8, err);
        if (rc != DC_OK)
            return rc;
        v = i8.u.i;
    }
    size_pretty(v, buf, sizeof buf);
    return sql_fx_text(ctx, DC_TYPE_TEXT, buf, strlen(buf), out, err);
}

/* pg_table_size and friends.  Datacave does not track relation sizes: an
 * existing table or index reports one 8 kB block (what PostgreSQL shows
 * for an empty one), a view 0, and no relation NULL. */
static int f_relation_size(sql_ctx *ctx, int nargs, const dc_value *a,
                           dc_value *out, dc_error *err)
{
    (void)nargs;
    (void)err;
    uint32_t oid = (uint32_t)a[0].u.i;
    const sql_table *t = NULL;
    int64_t n = -1;
    if (ctx->cat && (sql_catalog_table_by_oid(ctx->cat, oid) ||
                     index_by_oid(ctx->cat, oid, &t)))
        n = 8192;
    for (size_t i = 0; n < 0 && ctx->cat && i < sql_catalog_nviews(ctx->cat);
         i++)
        if (sql_catalog_view_at(ctx->cat, i)->oid == oid)
            n = 0;
    *out =
        n < 0 ? sql_value_null(DC_TYPE_INT8) : sql_value_int(DC_TYPE_INT8, n);
    return DC_OK;
}

/* pg_database_size(name | oid): the storage engine's approximate size
 * (databases share one store). */
static int f_database_size(sql_ctx *ctx, int nargs, const dc_value *a,
                           dc_value *out, dc_error *err)
{
    (void)nargs;
    (void)a;
    (void)err;
    dc_store_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    const sql_engine *eng = ctx->eng;
    if (!eng || !eng->sv || !eng->sv->stats ||
        eng->sv->stats(eng->store, &st) != DC_OK) {
        *out = sql_value_null(DC_TYPE_INT8);
        return DC_OK;
    }
    *out = sql_value_int(DC_TYPE_INT8,
                         (int64_t)(st.live_bytes + st.memtable_bytes));
    return DC_OK;
}

/* current_schemas(include_implicit): the search path as an array. */
static int f_current_schemas(sql_ctx *ctx, int nargs, const dc_value *a,
                             dc_value *out, dc_error *err)
{
    (void)nargs;
    const char *s = a[0].u.i ? "{pg_catalog,public}" : "{public}";
    return sql_fx_text(ctx, DC_TYPE_TEXT, s, strlen(s), out, err);
}

/* obj_description: only schema public has one, as in PostgreSQL. */
static int f_obj_description(sql_ctx *ctx, int nargs, const dc_value *a,
                             dc_value *out, dc_error *err)
{
    (void)nargs;
    static const char pub[] = "standard public schema";
    if (a[0].u.i == 2200 && a[1].u.bytes.len == 12 &&
        !memcmp(a[1].u.bytes.ptr, "pg_namespace", 12))
        return sql_fx_text(ctx, DC_TYPE_TEXT, pub, sizeof pub - 1, out, err);
    return out_null(out);
}

const sql_fcand sql_pg_func_table[] = {
    {"pg_size_pretty", 1, {DC_TYPE_INT8}, TX, f_pg_size_pretty, S},
    {"pg_size_pretty", 1, {DC_TYPE_NUMERIC}, TX, f_pg_size_pretty, S},
    {"pg_table_size", 1, {OI}, DC_TYPE_INT8, f_relation_size, S},
    {"pg_relation_size", 1, {OI}, DC_TYPE_INT8, f_relation_size, S},
    {"pg_total_relation_size", 1, {OI}, DC_TYPE_INT8, f_relation_size, S},
    {"pg_indexes_size", 1, {OI}, DC_TYPE_INT8, f_relation_size, S},
    {"obj_description", 2, {OI, DC_TYPE_NAME}, TX, f_obj_description, S},
    {"pg_get_function_result", 1, {OI}, TX, f_null_text, S},
    {"pg_get_function_arguments", 1, {OI}, TX, f_null_text, S},
    {"pg_get_function_identity_arguments", 1, {OI}, TX, f_null_text, S},
    {"pg_database_size",
     1,
     {DC_TYPE_NAME},
     DC_TYPE_INT8,
     f_database_size,
     S | SQL_FN_VOLATILE},
    {"pg_database_size",
     1,
     {OI},
     DC_TYPE_INT8,
     f_database_size,
     S | SQL_FN_VOLATILE},
    {"current_schemas", 1, {B}, TX, f_current_schemas, S},
    {"pg_type_is_visible", 1, {OI}, B, f_true, S},
    {"pg_function_is_visible", 1, {OI}, B, f_true, S},
    {"pg_operator_is_visible", 1, {OI}, B, f_true, S},
    {"pg_opclass_is_visible", 1, {OI}, B, f_true, S},
    {"pg_collation_is_visible", 1, {OI}, B, f_true, S},
    {"pg_conversion_is_visible", 1, {OI}, B, f_true, S},
    {"pg_statistics_obj_is_visible", 1, {OI}, B, f_true, S},
    {"pg_get_userbyid",
     1,
     {OI},
     DC_TYPE_NAME,
     f_pg_get_userbyid,
     S | SQL_FN_VOLATILE},
    {"array_to_string", 2, {TX, TX}, TX, f_array_to_string, S},
    {"array_to_string", 3, {TX, TX, TX}, TX, f_array_to_string, 0},
    {"array_upper", 2, {TX, I4}, I4, f_array_upper, S},
    {"array_lower", 2, {TX, I4}, I4, f_array_lower, S},
    {"array_length", 2, {TX, I4}, I4, f_array_length, S},
    {"cardinality", 1, {TX}, I4, f_cardinality, S},
    {"dc_array_subscript", 2, {TX, I4}, TX, f_array_subscript, S},
    {"pg_get_expr", 2, {TX, OI}, TX, f_pg_get_expr, S},
    {"pg_get_expr", 3, {TX, OI, B}, TX, f_pg_get_expr, S},
    {"pg_get_constraintdef", 1, {OI}, TX, f_pg_get_constraintdef, S},
    {"pg_get_constraintdef", 2, {OI, B}, TX, f_pg_get_constraintdef, S},
    {"pg_get_indexdef", 1, {OI}, TX, f_pg_get_indexdef, S},
    {"pg_get_indexdef", 3, {OI, I4, B}, TX, f_pg_get_indexdef, S},
    {"pg_get_viewdef", 1, {OI}, TX, f_pg_get_viewdef, S},
    {"pg_get_viewdef", 2, {OI, B}, TX, f_pg_get_viewdef, S},
    {"pg_get_statisticsobjdef_columns", 1, {OI}, TX, f_null_text, S},
    {"pg_get_partkeydef", 1, {OI}, TX, f_null_text, S},
    {"pg_get_triggerdef", 1, {OI}, TX, f_null_text, S},
    {"pg_get_triggerdef", 2, {OI, B}, TX, f_null_text, S},
    {"pg_get_ruledef", 1, {OI}, TX, f_null_text, S},
    {"pg_get_ruledef", 2, {OI, B}, TX, f_null_text, S},
    {"pg_relation_is_publishable", 1, {OI}, B, f_false, S},
    {"has_column_privilege", 3, {OI, DC_TYPE_INT2, TX}, B, f_true, S},
    {"has_column_privilege", 3, {TX, TX, TX}, B, f_true, S},
    {"has_any_column_privilege", 2, {OI, TX}, B, f_true, S},
    {"has_function_privilege", 2, {OI, TX}, B, f_true, S},
    {NULL, 0, {0}, 0, NULL, 0},
};
