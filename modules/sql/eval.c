/*
 * sql/eval.c - evaluation of bound expressions (plan.h) over one row:
 * sql_eval / sql_eval_qual (exec.h) and the subplans of expressions.
 *
 * This is the per-row hot path: arguments are evaluated into a small
 * stack array (or, for long argument lists, ctx->mem, the per-row scratch
 * arena), nothing is malloc'd per row.
 */
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"
#include "common/alloc.h"

/* Evaluation frame: what SX_COL, SX_OUTER and SX_CASE_TEST read. */
typedef struct evframe {
    sql_ctx *ctx;
    const dc_value *row;
    const dc_value *outer;
    const dc_value *casev; /* current CASE operand, or NULL */
    dc_error *err;
} evframe;

static int ev(evframe *f, const sql_bexpr *e, dc_value *out);

#define EV_STACK_ARGS 8

/* Values are built with initialisers rather than the types.h
 * constructors: this runs several times per row, and whole-struct stores
 * keep it cheap. */
static inline dc_value null_of(uint32_t type, int32_t typmod)
{
    dc_value v = {.type = type, .typmod = typmod, .is_null = true, .u.i = 0};
    return v;
}

static const dc_value BOOLS[2] = {
    {.type = DC_TYPE_BOOL, .typmod = -1, .is_null = false, .u.b = false},
    {.type = DC_TYPE_BOOL, .typmod = -1, .is_null = false, .u.b = true},
};

static inline dc_value bool_val(bool b)
{
    return BOOLS[b ? 1 : 0];
}

/* Call a resolved function; a strict one with a NULL argument gives NULL
 * without being called. */
static int call_fn(sql_ctx *ctx, const sql_func_resolved *fn, int nargs,
                   const dc_value *args, dc_value *out, dc_error *err)
{
    if (fn->flags & SQL_FN_STRICT) {
        for (int i = 0; i < nargs; i++) {
            if (args[i].is_null) {
                *out = null_of(fn->rettype, fn->rettypmod);
                return DC_OK;
            }
        }
    }
    return fn->fn(ctx, nargs, args, out, err);
}

/* Space for n argument values: the stack array when it is big enough. */
static dc_value *arg_space(evframe *f, dc_value *stack, int n)
{
    if (n <= EV_STACK_ARGS)
        return stack;
    dc_value *p =
        f->ctx->mem.alloc(f->ctx->mem.ctx, sizeof(dc_value) * (size_t)n);
    if (!p)
        x_oom(f->err);
    return p;
}

static int ev_func(evframe *f, const sql_bexpr *e, dc_value *out)
{
    dc_value stack[EV_STACK_ARGS];
    dc_value *args = arg_space(f, stack, e->nargs);
    if (!args)
        return DC_ENOMEM;
    /* Every argument is evaluated (an error in any of them is raised, as
     * PostgreSQL does) before a strict function's NULL check. */
    bool any_null = false;
    for (int i = 0; i < e->nargs; i++) {
        int rc = ev(f, e->args[i], &args[i]);
        if (rc)
            return rc;
        any_null |= args[i].is_null;
    }
    if (any_null && (e->fn->flags & SQL_FN_STRICT)) {
        *out = null_of(e->fn->rettype, e->fn->rettypmod);
        return DC_OK;
    }
    return e->fn->fn(f->ctx, e->nargs, args, out, f->err);
}

/* Three-valued AND / OR with short-circuit. */
static int ev_andor(evframe *f, const sql_bexpr *e, dc_value *out)
{
    bool is_and = e->kind == SX_AND;
    bool saw_null = false;
    for (int i = 0; i < e->nargs; i++) {
        dc_value v;
        int rc = ev(f, e->args[i], &v);
        if (rc)
            return rc;
        if (v.is_null) {
            saw_null = true;
        } else if (v.u.b != is_and) { /* FALSE for AND, TRUE for OR */
            *out = bool_val(!is_and);
            return DC_OK;
        }
    }
    *out = saw_null ? null_of(DC_TYPE_BOOL, -1) : bool_val(is_and);
    return DC_OK;
}

static int ev_case(evframe *f, const sql_bexpr *e, dc_value *out)
{
    int i = 0, end = e->nargs - (e->has_else ? 1 : 0);
    const dc_value *saved = f->casev;
    dc_value operand;
    if (e->has_operand) {
        int rc = ev(f, e->args[0], &operand);
        if (rc)
            return rc;
        i = 1;
    }
    for (; i + 1 < end; i += 2) {
        dc_value c;
        if (e->has_operand)
            f->casev = &operand;
        int rc = ev(f, e->args[i], &c);
        f->casev = saved;
        if (rc)
            return rc;
        if (!c.is_null && c.u.b)
            return ev(f, e->args[i + 1], out);
    }
    if (e->has_else)
        return ev(f, e->args[e->nargs - 1], out);
    *out = null_of(e->type, e->typmod);
    return DC_OK;
}

static int ev_booltest(evframe *f, const sql_bexpr *e, dc_value *out)
{
    dc_value v;
    int rc = ev(f, e->args[0], &v);
    if (rc)
        return rc;
    bool r;
    switch (e->booltest) {
    case 0:
        r = !v.is_null && v.u.b;
        break;
    case 1:
        r = !v.is_null && !v.u.b;
        break;
    default:
        r = v.is_null;
        break;
    }
    *out = bool_val(e->negated ? !r : r);
    return DC_OK;
}

/* a IS [NOT] DISTINCT FROM b. */
static int ev_distinct(evframe *f, const sql_bexpr *e, dc_value *out)
{
    dc_value ab[2];
    for (int i = 0; i < 2; i++) {
        int rc = ev(f, e->args[i], &ab[i]);
        if (rc)
            return rc;
    }
    bool distinct;
    if (ab[0].is_null || ab[1].is_null) {
        distinct = ab[0].is_null != ab[1].is_null;
    } else {
        dc_value eq;
        int rc = call_fn(f->ctx, e->fn, 2, ab, &eq, f->err);
        if (rc)
            return rc;
        distinct = eq.is_null || !eq.u.b;
    }
    *out = bool_val(e->negated ? !distinct : distinct);
    return DC_OK;
}

/* lhs [NOT] IN (list): NULL when nothing matched and a NULL was seen. */
static int ev_in_list(evframe *f, const sql_bexpr *e, dc_value *out)
{
    dc_value ab[2];
    int rc = ev(f, e->args[0], &ab[0]);
    if (rc)
        return rc;
    if (ab[0].is_null && (e->fn->flags & SQL_FN_STRICT)) {
        *out = null_of(DC_TYPE_BOOL, -1);
        return DC_OK;
    }
    bool saw_null = false;
    for (int i = 1; i < e->nargs; i++) {
        if ((rc = ev(f, e->args[i], &ab[1])) != 0)
            return rc;
        dc_value r;
        if ((rc = call_fn(f->ctx, e->fn, 2, ab, &r, f->err)) != 0)
            return rc;
        if (r.is_null) {
            saw_null = true;
        } else if (r.u.b) {
            *out = bool_val(!e->negated);
            return DC_OK;
        }
    }
    *out = saw_null ? null_of(DC_TYPE_BOOL, -1) : bool_val(e->negated);
    return DC_OK;
}

/* ---- subplans ------------------------------------------------------------ */

struct xsubcache {
    xsubcache *next;
    const sql_bexpr *e;
    bool exists;     /* EXISTS                                   */
    dc_value scalar; /* SCALAR                                   */
    dc_value *vals;  /* ANY / ALL: the column                    */
    size_t nvals;
    bool has_null;
    bool hashed; /* `set` holds the non-NULL values          */
    xset set;
};

void xsubcache_free(xcursor *c)
{
    xsubcache *s = c->subs;
    while (s) {
        xsubcache *nx = s->next;
        xset_free(&s->set);
        free(s->vals);
        free(s);
        s = nx;
    }
    c->subs = NULL;
    xa_free(&c->submem);
}

/* Open the subplan's tree with correlation values evaluated in the
 * current row (uncorrelated: none). */
static int sub_open(evframe *f, const sql_bexpr *e, xnode **root)
{
    dc_value *args = NULL;
    if (e->nargs > 0) {
        args = f->ctx->mem.alloc(f->ctx->mem.ctx,
                                 sizeof(dc_value) * (size_t)e->nargs);
        if (!args)
            return x_oom(f->err);
        for (int i = 0; i < e->nargs; i++) {
            int rc = ev(f, e->args[i], &args[i]);
            if (rc)
                return rc;
        }
    }
    return xnode_open(f->ctx, xcursor_current(), e->sub.plan, args, root,
                      f->err);
}

/* Copy v's bytes into the evaluating node's memory (ctx->mem). */
static int keep_in_ctx(sql_ctx *ctx, dc_value *v, dc_error *err)
{
    if (v->is_null || v->type == DC_TYPE_BOOL)
        return DC_OK;
    switch (v->type) {
    case DC_TYPE_TEXT:
    case DC_TYPE_VARCHAR:
    case DC_TYPE_BPCHAR:
    case DC_TYPE_NAME:
    case DC_TYPE_BYTEA:
    case DC_TYPE_NUMERIC:
    case DC_TYPE_UNKNOWN: {
        if (v->u.bytes.len == 0)
            return DC_OK;
        uint8_t *p = ctx->mem.alloc(ctx->mem.ctx, v->u.bytes.len);
        if (!p)
            return x_oom(err);
        memcpy(p, v->u.bytes.ptr, v->u.bytes.len);
        v->u.bytes.ptr = p;
        return DC_OK;
    }
    default:
        return DC_OK;
    }
}

static int sub_exists(evframe *f, const sql_bexpr *e, bool *res)
{
    xnode *root;
    int rc = sub_open(f, e, &root);
    if (rc)
        return rc;
    const dc_value *row;
    bool done = true;
    rc = xnode_next(root, &row, &done, f->err);
    xnode_close(root);
    *res = !done;
    return rc;
}

static int sub_scalar(evframe *f, const sql_bexpr *e, dc_value *out)
{
    xnode *root;
    int rc = sub_open(f, e, &root);
    if (rc)
        return rc;
    const dc_value *row;
    bool done = true;
    rc = xnode_next(root, &row, &done, f->err);
    if (rc == DC_OK && done) {
        *out = null_of(e->type, e->typmod);
    } else if (rc == DC_OK) {
        *out = row[0];
        rc = keep_in_ctx(f->ctx, out, f->err);
        if (rc == DC_OK)
            rc = xnode_next(root, &row, &done, f->err);
        if (rc == DC_OK && !done)
            rc = dc_error_set(f->err, DC_ERR, "21000",
                              "more than one row returned by a subquery "
                              "used as an expression");
    }
    xnode_close(root);
    return rc;
}

/* Fold one comparison result into an ANY / ALL outcome: returns true
 * when the outcome is decided. */
static bool anyall_step(bool is_any, const dc_value *r, bool *saw_null,
                        bool *decided_val)
{
    if (r->is_null) {
        *saw_null = true;
        return false;
    }
    if (r->u.b == is_any) {
        *decided_val = is_any;
        return true;
    }
    return false;
}

static void anyall_result(bool is_any, bool decided, bool dval, bool saw_null,
                          dc_value *out)
{
    if (decided)
        *out = bool_val(dval);
    else if (saw_null)
        *out = null_of(DC_TYPE_BOOL, -1);
    else
        *out = bool_val(!is_any);
}

/* Correlated ANY / ALL: stream the subplan's rows, stop when decided. */
static int sub_anyall_stream(evframe *f, const sql_bexpr *e,
                             const dc_value *lhs, dc_value *out)
{
    bool is_any = e->sub.link == SUB_ANY;
    xnode *root;
    int rc = sub_open(f, e, &root);
    if (rc)
        return rc;
    bool saw_null = false, decided = false, dval = false;
    for (;;) {
        const dc_value *row;
        bool done;
        if ((rc = xnode_next(root, &row, &done, f->err)) != 0 || done)
            break;
        dc_value ab[2] = {*lhs, row[0]}, r;
        if ((rc = call_fn(f->ctx, e->fn, 2, ab, &r, f->err)) != 0)
            break;
        if (anyall_step(is_any, &r, &saw_null, &dval)) {
            decided = true;
            break;
        }
    }
    xnode_close(root);
    if (rc == DC_OK)
        anyall_result(is_any, decided, dval, saw_null, out);
    return rc;
}

static xsubcache *cache_find(xcursor *c, const sql_bexpr *e)
{
    for (xsubcache *s = c ? c->subs : NULL; s; s = s->next)
        if (s->e == e)
            return s;
    return NULL;
}

/* '=' ANY and '<>' ALL over one type hash the subquery's values. */
static bool hashable(const sql_bexpr *e, uint32_t coltype)
{
    const char *n = e->fn->name;
    if (!n || !e->sub.lhs || e->sub.lhs->type != coltype)
        return false;
    if (e->sub.link == SUB_ANY)
        return strcmp(n, "=") == 0;
    return strcmp(n, "<>") == 0 || strcmp(n, "!=") == 0;
}

/* Run an uncorrelated subplan once and keep what its sublink needs. */
static int cache_fill(evframe *f, xcursor *c, const sql_bexpr *e,
                      xsubcache **out)
{
    xsubcache *s = dcm_calloc(1, sizeof(*s));
    if (!s)
        return x_oom(f->err);
    s->e = e;
    s->set.n = 1;
    s->scalar = null_of(e->type, e->typmod);
    xnode *root;
    int rc = sub_open(f, e, &root);
    if (rc) {
        free(s);
        return rc;
    }
    size_t cap = 0;
    bool want_all = e->sub.link == SUB_ANY || e->sub.link == SUB_ALL;
    s->hashed = want_all && hashable(e, e->sub.plan->types[0]);
    for (size_t nrows = 0;; nrows++) {
        const dc_value *row;
        bool done;
        if ((rc = xnode_next(root, &row, &done, f->err)) != 0 || done)
            break;
        if (e->sub.link == SUB_EXISTS) {
            s->exists = true;
            break;
        }
        if (e->sub.link == SUB_SCALAR) {
            if (nrows > 0) {
                rc = dc_error_set(f->err, DC_ERR, "21000",
                                  "more than one row returned by a subquery "
                                  "used as an expression");
                break;
            }
            s->scalar = row[0];
            if (!xval_copy(&c->submem, &s->scalar)) {
                rc = x_oom(f->err);
                break;
            }
            continue;
        }
        if (row[0].is_null) {
            s->has_null = true;
            continue;
        }
        if (s->hashed) {
            bool added;
            if (!xset_add(&s->set, row, &added)) {
                rc = x_oom(f->err);
                break;
            }
            s->nvals++;
            continue;
        }
        if (s->nvals == cap) {
            cap = cap ? cap * 2 : 16;
            dc_value *nv = realloc(s->vals, cap * sizeof(dc_value));
            if (!nv) {
                rc = x_oom(f->err);
                break;
            }
            s->vals = nv;
        }
        s->vals[s->nvals] = row[0];
        if (!xval_copy(&c->submem, &s->vals[s->nvals])) {
            rc = x_oom(f->err);
            break;
        }
        s->nvals++;
    }
    xnode_close(root);
    if (rc) {
        xset_free(&s->set);
        free(s->vals);
        free(s);
        return rc;
    }
    s->next = c->subs;
    c->subs = s;
    *out = s;
    return DC_OK;
}

static int cached_anyall(evframe *f, const sql_bexpr *e, xsubcache *s,
                         const dc_value *lhs, dc_value *out)
{
    bool is_any = e->sub.link == SUB_ANY;
    size_t n = s->nvals + (s->has_null ? 1 : 0);
    if (n == 0) {
        *out = bool_val(!is_any);
        return DC_OK;
    }
    if (s->hashed) {
        if (lhs->is_null)
            *out = null_of(DC_TYPE_BOOL, -1);
        else if (xset_has(&s->set, lhs))
            *out = bool_val(is_any);
        else if (s->has_null)
            *out = null_of(DC_TYPE_BOOL, -1);
        else
            *out = bool_val(!is_any);
        return DC_OK;
    }
    bool saw_null = s->has_null && (e->fn->flags & SQL_FN_STRICT);
    bool dval = false;
    for (size_t i = 0; i < s->nvals; i++) {
        dc_value ab[2] = {*lhs, s->vals[i]}, r;
        int rc = call_fn(f->ctx, e->fn, 2, ab, &r, f->err);
        if (rc)
            return rc;
        if (anyall_step(is_any, &r, &saw_null, &dval)) {
            *out = bool_val(dval);
            return DC_OK;
        }
    }
    if (s->has_null && !(e->fn->flags & SQL_FN_STRICT)) {
        dc_value ab[2] = {*lhs, null_of(e->sub.plan->types[0], -1)}, r;
        int rc = call_fn(f->ctx, e->fn, 2, ab, &r, f->err);
        if (rc)
            return rc;
        if (anyall_step(is_any, &r, &saw_null, &dval)) {
            *out = bool_val(dval);
            return DC_OK;
        }
    }
    anyall_result(is_any, false, false, saw_null, out);
    return DC_OK;
}

static int ev_subplan(evframe *f, const sql_bexpr *e, dc_value *out)
{
    dc_value lhs;
    bool anyall = e->sub.link == SUB_ANY || e->sub.link == SUB_ALL;
    xcursor *c = xcursor_current();
    if (!e->sub.correlated && c) {
        xsubcache *s = cache_find(c, e);
        int rc;
        if (!s && (rc = cache_fill(f, c, e, &s)) != 0)
            return rc;
        switch (e->sub.link) {
        case SUB_EXISTS:
            *out = bool_val(s->exists);
            return DC_OK;
        case SUB_SCALAR:
            *out = s->scalar;
            return DC_OK;
        default:
            if ((rc = ev(f, e->sub.lhs, &lhs)) != 0)
                return rc;
            return cached_anyall(f, e, s, &lhs, out);
        }
    }
    if (e->sub.link == SUB_EXISTS) {
        bool r;
        int rc = sub_exists(f, e, &r);
        if (rc == DC_OK)
            *out = bool_val(r);
        return rc;
    }
    if (e->sub.link == SUB_SCALAR)
        return sub_scalar(f, e, out);
    if (anyall) {
        int rc = ev(f, e->sub.lhs, &lhs);
        if (rc)
            return rc;
        return sub_anyall_stream(f, e, &lhs, out);
    }
    return dc_error_set(f->err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                        "unknown sublink kind %d", (int)e->sub.link);
}

/* ---- dispatch ------------------------------------------------------------ */

static int ev(evframe *f, const sql_bexpr *e, dc_value *out)
{
    int rc;
    dc_value v;
    switch (e->kind) {
    case SX_CONST:
        *out = e->value;
        return DC_OK;
    case SX_PARAM:
        if (e->index < 0 || (uint32_t)e->index >= f->ctx->nparams)
            return dc_error_set(f->err, DC_EINVAL, "42P02",
                                "there is no parameter $%d", e->index + 1);
        *out = f->ctx->params[e->index];
        return DC_OK;
    case SX_COL:
        if (!f->row)
            return dc_error_set(f->err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                                "column reference without an input row");
        *out = f->row[e->index];
        return DC_OK;
    case SX_OUTER:
        if (!f->outer)
            return dc_error_set(f->err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                                "outer reference without correlation values");
        *out = f->outer[e->index];
        return DC_OK;
    case SX_FUNC:
        return ev_func(f, e, out);
    case SX_AND:
    case SX_OR:
        return ev_andor(f, e, out);
    case SX_NOT:
        if ((rc = ev(f, e->args[0], &v)) != 0)
            return rc;
        *out = v.is_null ? v : bool_val(!v.u.b);
        return DC_OK;
    case SX_CASE:
        return ev_case(f, e, out);
    case SX_CASE_TEST:
        if (!f->casev)
            return dc_error_set(f->err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                                "CASE test value outside CASE");
        *out = *f->casev;
        return DC_OK;
    case SX_CAST:
        if ((rc = ev(f, e->args[0], &v)) != 0)
            return rc;
        if (v.type == e->type && (e->typmod < 0 || v.typmod == e->typmod)) {
            *out = v;
            return DC_OK;
        }
        return sql_value_cast(&v, e->type, e->typmod, (sql_cast_ctx)e->cast_ctx,
                              f->ctx->tz, &f->ctx->mem, out, f->err);
    case SX_NULLTEST:
        if ((rc = ev(f, e->args[0], &v)) != 0)
            return rc;
        *out = bool_val(v.is_null != e->negated);
        return DC_OK;
    case SX_BOOLTEST:
        return ev_booltest(f, e, out);
    case SX_DISTINCT:
        return ev_distinct(f, e, out);
    case SX_IN_LIST:
        return ev_in_list(f, e, out);
    case SX_SUBPLAN:
        return ev_subplan(f, e, out);
    }
    return dc_error_set(f->err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                        "unknown expression kind %d", (int)e->kind);
}

int sql_eval(sql_ctx *ctx, const sql_bexpr *e, const dc_value *row,
             const dc_value *outer, dc_value *out, dc_error *err)
{
    evframe f = {ctx, row, outer, NULL, err};
    dc_value v;
    int rc = ev(&f, e, &v);
    if (rc == DC_OK)
        *out = v;
    return rc;
}

int sql_eval_qual(sql_ctx *ctx, const sql_bexpr *e, const dc_value *row,
                  const dc_value *outer, bool *ok, dc_error *err)
{
    if (!e) {
        *ok = true;
        return DC_OK;
    }
    dc_value v;
    int rc = sql_eval(ctx, e, row, outer, &v, err);
    if (rc == DC_OK)
        *ok = !v.is_null && v.u.b;
    return rc;
}
