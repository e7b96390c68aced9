/*
 * sql/binder_expr.c - binding expressions: names, constants, parameters,
 * operators, functions, aggregates, CASE, casts and subqueries, with the
 * coercions PostgreSQL inserts (see binder_int.h for the global-row
 * convention).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/binder_int.h"

/* ---- allocation and errors ---------------------------------------------- */

int b_oom(bstate *b)
{
    return dc_error_set(b->err, DC_ENOMEM, "53200", "out of memory");
}

void *b_alloc(bstate *b, size_t n)
{
    void *p = sql_arena_alloc(b->arena, n ? n : 1);
    if (!p)
        b_oom(b);
    return p;
}

char *b_strdup(bstate *b, const char *s)
{
    if (!s)
        return NULL;
    char *p = sql_arena_strndup(b->arena, s, strlen(s));
    if (!p)
        b_oom(b);
    return p;
}

int b_error_at(bstate *b, int pos, int status, const char *state,
               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dc_error_setv(b->err, status, state, fmt, ap);
    va_end(ap);
    if (b->err)
        b->err->position = pos > 0 ? pos : 0;
    return status;
}

/* Grow *arr (elements of `elem` bytes, capacity *cap) to hold `need`. */
bool b_grow(bstate *b, void **arr, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return true;
    int nc = *cap ? *cap * 2 : 8;
    while (nc < need)
        nc *= 2;
    void *p = b_alloc(b, (size_t)nc * elem);
    if (!p)
        return false;
    if (*arr && *cap)
        memcpy(p, *arr, (size_t)*cap * elem);
    *arr = p;
    *cap = nc;
    return true;
}

/* ---- node constructors ---------------------------------------------------- */

sql_bexpr *bx_new(bstate *b, sql_bexpr_kind kind, uint32_t type)
{
    bx *x = b_alloc(b, sizeof *x);
    if (!x)
        return NULL;
    x->e.kind = kind;
    x->e.type = type;
    x->e.typmod = -1;
    x->e.value = sql_value_null(type);
    return &x->e;
}

sql_bexpr *bx_const(bstate *b, dc_value v)
{
    sql_bexpr *e = bx_new(b, SX_CONST, v.type);
    if (!e)
        return NULL;
    e->typmod = v.typmod;
    e->value = v;
    return e;
}

sql_bexpr *bx_col(bstate *b, int index, uint32_t type, int32_t typmod)
{
    sql_bexpr *e = bx_new(b, SX_COL, type);
    if (e) {
        e->index = index;
        e->typmod = typmod;
    }
    return e;
}

static bool set_args(bstate *b, sql_bexpr *e, int n)
{
    e->nargs = n;
    e->args = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(n ? n : 1));
    return e->args != NULL;
}

/* AND / OR of two boolean expressions (flattening nested ones of the same
 * kind); x may be NULL (then y is returned). */
sql_bexpr *bx_bool_op(bstate *b, sql_bexpr_kind k, sql_bexpr *x,
                      sql_bexpr *y)
{
    if (!x)
        return y;
    if (!y)
        return x;
    int nx = x->kind == k ? x->nargs : 1, ny = y->kind == k ? y->nargs : 1;
    sql_bexpr *e = bx_new(b, k, DC_TYPE_BOOL);
    if (!e || !set_args(b, e, nx + ny))
        return NULL;
    for (int i = 0; i < nx; i++)
        e->args[i] = x->kind == k ? x->args[i] : x;
    for (int i = 0; i < ny; i++)
        e->args[nx + i] = y->kind == k ? y->args[i] : y;
    return e;
}

static sql_func_resolved *fn_copy(bstate *b, const sql_func_resolved *fr)
{
    sql_func_resolved *p = b_alloc(b, sizeof *p);
    if (p)
        *p = *fr;
    return p;
}

/* ---- coercion ------------------------------------------------------------ */

static int param_set_type(bstate *b, sql_bexpr *e, uint32_t type)
{
    if (b->params && (uint32_t)e->index < b->params->n)
        b->params->types[e->index] = type;
    e->type = type;
    return DC_OK;
}

/* An unknown-typed literal converted at bind time. */
static sql_bexpr *coerce_unknown_const(bstate *b, sql_bexpr *e, uint32_t type,
                                       int32_t typmod, int pos)
{
    if (e->value.is_null) {
        dc_value v = sql_value_null(type);
        v.typmod = typmod;
        return bx_const(b, v);
    }
    sql_mem mem = {(void *(*)(void *, size_t))sql_arena_alloc, b->arena};
    dc_value v;
    if (sql_value_in(type, typmod, (const char *)e->value.u.bytes.ptr,
                     e->value.u.bytes.len, b->ctx ? b->ctx->tz : NULL, &mem,
                     &v, b->err) != DC_OK) {
        if (b->err)
            b->err->position = BX(e)->pos > 0 ? BX(e)->pos : pos;
        return NULL;
    }
    v.typmod = typmod;
    sql_bexpr *c = bx_const(b, v);
    if (c)
        BX(c)->pos = BX(e)->pos;
    return c;
}

static sql_bexpr *make_cast(bstate *b, sql_bexpr *e, uint32_t type,
                            int32_t typmod, int cctx)
{
    sql_bexpr *c = bx_new(b, SX_CAST, type);
    if (!c || !set_args(b, c, 1))
        return NULL;
    c->typmod = typmod;
    c->args[0] = e;
    c->cast_ctx = cctx;
    BX(c)->pos = BX(e)->pos;
    return c;
}

sql_bexpr *coerce(bstate *b, sql_bexpr *e, uint32_t type, int32_t typmod,
                  int cctx, int pos)
{
    if (!e || type == DC_TYPE_UNKNOWN)
        return e;
    if (e->type == DC_TYPE_UNKNOWN) {
        if (e->kind == SX_CONST)
            return coerce_unknown_const(b, e, type, typmod, pos);
        if (e->kind == SX_PARAM) {
            param_set_type(b, e, type);
            return typmod >= 0 ? make_cast(b, e, type, typmod, cctx) : e;
        }
        if (!(e = coerce(b, e, DC_TYPE_TEXT, -1, cctx, pos)))
            return NULL;
    }
    if (e->type == type && (typmod < 0 || typmod == e->typmod))
        return e;
    sql_cast_ctx k = sql_cast_kind(e->type, type);
    if (k == SQL_CAST_NONE || (int)k > cctx) {
        b_error_at(b, pos, DC_ETYPE, k == SQL_CAST_NONE ? "42846" : "42804",
                   "cannot cast type %s to %s", sql_type_name(e->type),
                   sql_type_name(type));
        return NULL;
    }
    return make_cast(b, e, type, typmod, cctx);
}

sql_bexpr *coerce_assign(bstate *b, sql_bexpr *e, uint32_t type,
                         int32_t typmod, const char *colname, int pos)
{
    if (!e)
        return NULL;
    if (e->type != DC_TYPE_UNKNOWN && e->type != type) {
        sql_cast_ctx k = sql_cast_kind(e->type, type);
        if (k == SQL_CAST_NONE || k > SQL_CAST_ASSIGNMENT) {
            b_error_at(b, pos, DC_ETYPE, "42804",
                       "column \"%s\" is of type %s but expression is of "
                       "type %s", colname, sql_type_name(type),
                       sql_type_name(e->type));
            dc_error_hint(b->err, "You will need to rewrite or cast the "
                                  "expression.");
            return NULL;
        }
    }
    return coerce(b, e, type, typmod, SQL_CAST_ASSIGNMENT, pos);
}

sql_bexpr *coerce_bool(bstate *b, sql_bexpr *e, const char *what, int pos)
{
    if (!e)
        return NULL;
    if (e->type == DC_TYPE_UNKNOWN || e->type == DC_TYPE_BOOL)
        return coerce(b, e, DC_TYPE_BOOL, -1, SQL_CAST_IMPLICIT, pos);
    b_error_at(b, pos, DC_ETYPE, "42804",
               "argument of %s must be type boolean, not type %s", what,
               sql_type_name(e->type));
    return NULL;
}

sql_bexpr *finalize_unknown(bstate *b, sql_bexpr *e)
{
    if (e && e->type == DC_TYPE_UNKNOWN)
        return coerce(b, e, DC_TYPE_TEXT, -1, SQL_CAST_IMPLICIT, BX(e)->pos);
    return e;
}

int resolve_common(bstate *b, const char *context, int n, sql_bexpr **es,
                   uint32_t *out, int pos)
{
    uint32_t *types = b_alloc(b, sizeof(uint32_t) * (size_t)(n ? n : 1));
    if (!types)
        return DC_ENOMEM;
    for (int i = 0; i < n; i++)
        types[i] = es[i]->type;
    int rc = sql_common_type(context, n, types, out, b->err);
    if (rc != DC_OK && b->err && b->err->position == 0)
        b->err->position = pos;
    return rc;
}

/* ---- operators ----------------------------------------------------------- */

static int cmp_code(const char *op)
{
    if (!strcmp(op, "="))
        return CMP_EQ;
    if (!strcmp(op, "<"))
        return CMP_LT;
    if (!strcmp(op, "<="))
        return CMP_LE;
    if (!strcmp(op, ">"))
        return CMP_GT;
    if (!strcmp(op, ">="))
        return CMP_GE;
    return CMP_NONE;
}

static void fix_err_pos(bstate *b, int pos)
{
    if (b->err && b->err->position == 0)
        b->err->position = pos;
}

sql_bexpr *make_oper(bstate *b, const char *op, sql_bexpr *l, sql_bexpr *r,
                     int pos)
{
    if (!r)
        return NULL;
    sql_func_resolved fr;
    memset(&fr, 0, sizeof fr);
    uint32_t lt = l ? l->type : DC_TYPE_UNKNOWN;
    if (sql_oper_resolve(op, l == NULL, lt, r->type, &fr, b->err) != DC_OK) {
        fix_err_pos(b, pos);
        return NULL;
    }
    sql_bexpr *e = bx_new(b, SX_FUNC, fr.rettype);
    if (!e || !set_args(b, e, l ? 2 : 1) || !(e->fn = fn_copy(b, &fr)))
        return NULL;
    e->typmod = fr.rettypmod;
    int i = 0;
    if (l) {
        if (!(e->args[i++] = coerce(b, l, fr.argtypes[0], -1,
                                    SQL_CAST_IMPLICIT, pos)))
            return NULL;
    }
    uint32_t rtarg = fr.argtypes[l ? 1 : 0];
    if (fr.nargs == 1 && l == NULL)
        rtarg = fr.argtypes[0];
    if (!(e->args[i] = coerce(b, r, rtarg, -1, SQL_CAST_IMPLICIT, pos)))
        return NULL;
    BX(e)->cmpop = l ? cmp_code(op) : CMP_NONE;
    BX(e)->pos = pos;
    return e;
}

/* ---- names ----------------------------------------------------------------- */

sql_bexpr *lift(bstate *b, blevel *from, blevel *at, sql_bexpr *e)
{
    if (from == at || !e)
        return e;
    if (from->owner != from)
        return lift(b, from->owner, at, e);
    sql_bexpr *pe = lift(b, from->parent, at, e);
    if (!pe)
        return NULL;
    int idx = -1;
    for (int i = 0; i < from->nargs; i++)
        if (bx_equal(from->args[i], pe)) {
            idx = i;
            break;
        }
    if (idx < 0) {
        if (!b_grow(b, (void **)&from->args, &from->capargs, from->nargs + 1,
                    sizeof(sql_bexpr *)))
            return NULL;
        idx = from->nargs++;
        from->args[idx] = pe;
    }
    sql_bexpr *o = bx_new(b, SX_OUTER, e->type);
    if (!o)
        return NULL;
    o->typmod = e->typmod;
    o->index = idx;
    BX(o)->colname = BX(e)->colname;
    return o;
}

static const rte *find_rte(blevel *lv, const char *alias)
{
    for (int i = lv->nrtes - 1; i >= 0; i--)
        if (lv->rtes[i]->alias && !strcmp(lv->rtes[i]->alias, alias))
            return lv->rtes[i];
    return NULL;
}

/* A column was found `up` levels above lv (see bstate.agg_lv). */
static void note_found(bstate *b, blevel *lv, int up)
{
    if (b->agg_lv == lv && up < b->agg_min_up)
        b->agg_min_up = up;
}

sql_bexpr *lookup_column(bstate *b, blevel *lv, const sql_expr *e)
{
    int n = e->u.col.nnames;
    const char *col = e->u.col.names[n - 1];
    const char *rel = n >= 2 ? e->u.col.names[n - 2] : NULL;
    int up = 0;
    for (blevel *l = lv; l; l = l->parent, up++) {
        if (rel) {
            const rte *r = find_rte(l, rel);
            if (!r)
                continue;
            for (int i = 0; i < r->ncols; i++)
                if (!strcmp(r->cols[i].name, col)) {
                    note_found(b, lv, up);
                    return lift(b, lv, l, r->cols[i].expr);
                }
            b_error_at(b, e->pos, DC_ENOTFOUND, "42703",
                       "column %s.%s does not exist", rel, col);
            return NULL;
        }
        sql_bexpr *found = NULL;
        for (int f = 0; f < l->nfrom; f++) {
            const fnode *fn = l->from[f];
            for (int i = 0; i < fn->nvis; i++) {
                if (strcmp(fn->vis[i].name, col))
                    continue;
                if (found && !bx_equal(found, fn->vis[i].expr)) {
                    b_error_at(b, e->pos, DC_EINVAL, "42702",
                               "column reference \"%s\" is ambiguous", col);
                    return NULL;
                }
                found = fn->vis[i].expr;
            }
        }
        if (found) {
            note_found(b, lv, up);
            return lift(b, lv, l, found);
        }
    }
    if (rel)
        b_error_at(b, e->pos, DC_ENOTFOUND, "42P01",
                   "missing FROM-clause entry for table \"%s\"", rel);
    else
        b_error_at(b, e->pos, DC_ENOTFOUND, "42703",
                   "column \"%s\" does not exist", col);
    return NULL;
}

/* ---- output names ---------------------------------------------------------- */

static const char *sqlvalue_name(sql_sqlvalue v)
{
    switch (v) {
    case SV_CURRENT_DATE: return "current_date";
    case SV_CURRENT_TIME: return "current_time";
    case SV_CURRENT_TIMESTAMP: return "current_timestamp";
    case SV_LOCALTIME: return "localtime";
    case SV_LOCALTIMESTAMP: return "localtimestamp";
    case SV_CURRENT_USER: return "current_user";
    case SV_CURRENT_ROLE: return "current_role";
    case SV_SESSION_USER: return "session_user";
    case SV_USER: return "user";
    case SV_CURRENT_CATALOG: return "current_catalog";
    case SV_CURRENT_SCHEMA: return "current_schema";
    }
    return "?column?";
}

static const char *colname_inner(const sql_expr *e);

/* A name PostgreSQL ranks as strong (a column, function or subquery
 * name, possibly under casts): a CASE takes its ELSE branch's name only
 * then, a type name from a cast being weak. */
static const char *colname_strong(const sql_expr *e)
{
    if (!e)
        return NULL;
    switch (e->kind) {
    case EXPR_CAST:
        return colname_strong(e->u.cast.arg);
    case EXPR_COLLATE:
        return colname_strong(e->u.collate.arg);
    case EXPR_CASE:
        return colname_strong(e->u.kase.els);
    case EXPR_SUBSCRIPT:
        return colname_strong(e->u.sub.arg);
    case EXPR_COLUMN:
    case EXPR_FUNC:
    case EXPR_SUBLINK:
    case EXPR_SQLVALUE:
    case EXPR_ARRAY:
    case EXPR_ROW:
        return colname_inner(e);
    default:
        return NULL;
    }
}

static const char *colname_inner(const sql_expr *e)
{
    switch (e->kind) {
    case EXPR_COLUMN:
        if (e->u.col.nnames > 0 && !e->u.col.star)
            return e->u.col.names[e->u.col.nnames - 1];
        return NULL;
    case EXPR_FUNC:
        return e->u.func.name->parts[e->u.func.name->nparts - 1];
    case EXPR_CAST: {
        const char *n = colname_strong(e->u.cast.arg);
        if (n)
            return n;
        return e->u.cast.type->name;
    }
    case EXPR_SUBSCRIPT:
        return colname_inner(e->u.sub.arg);
    case EXPR_COLLATE:
        return colname_inner(e->u.collate.arg);
    case EXPR_CASE: {
        const char *n = colname_strong(e->u.kase.els);
        return n ? n : "case";
    }
    case EXPR_SUBLINK:
        if (e->u.sublink.kind == SUBLINK_EXISTS)
            return "exists";
        if (e->u.sublink.kind == SUBLINK_ARRAY)
            return "array";
        {
            const sql_select *q = e->u.sublink.subquery;
            while (q && q->op != SELECT_SIMPLE && q->op != SELECT_VALUES)
                q = q->larg;
            if (q && q->op == SELECT_SIMPLE && SQL_LIST_LEN(q->targets)) {
                const sql_target *t = q->targets->items[0];
                if (t->alias)
                    return t->alias;
                return colname_inner(t->expr);
            }
        }
        return NULL;
    case EXPR_SQLVALUE:
        return sqlvalue_name(e->u.sv.what);
    case EXPR_CONST:
        return e->u.c.kind == CONST_BOOL ? "bool" : NULL;
    case EXPR_ROW:
        return "row";
    case EXPR_ARRAY:
        return "array";
    default:
        return NULL;
    }
}

const char *expr_colname(const sql_expr *e)
{
    const char *n = colname_inner(e);
    return n ? n : "?column?";
}

/* ---- structural helpers ---------------------------------------------------- */

static bool value_equal(const dc_value *a, const dc_value *c)
{
    if (a->type != c->type || a->is_null != c->is_null)
        return false;
    if (a->is_null)
        return true;
    switch (a->type) {
    case DC_TYPE_BOOL:
        return a->u.b == c->u.b;
    case DC_TYPE_FLOAT4:
    case DC_TYPE_FLOAT8:
        return memcmp(&a->u.f, &c->u.f, sizeof a->u.f) == 0;
    case DC_TYPE_TEXT: case DC_TYPE_VARCHAR: case DC_TYPE_BPCHAR:
    case DC_TYPE_NAME: case DC_TYPE_BYTEA: case DC_TYPE_NUMERIC:
    case DC_TYPE_UNKNOWN:
        return a->u.bytes.len == c->u.bytes.len &&
               (a->u.bytes.len == 0 ||
                !memcmp(a->u.bytes.ptr, c->u.bytes.ptr, a->u.bytes.len));
    default:
        return a->u.i == c->u.i;
    }
}

bool bx_equal(const sql_bexpr *a, const sql_bexpr *c)
{
    if (a == c)
        return true;
    if (!a || !c || a->kind != c->kind || a->type != c->type ||
        a->nargs != c->nargs || a->negated != c->negated ||
        BX(a)->aggref != BX(c)->aggref)
        return false;
    switch (a->kind) {
    case SX_CONST:
        return value_equal(&a->value, &c->value);
    case SX_PARAM: case SX_COL: case SX_OUTER:
        return a->index == c->index;
    case SX_FUNC: case SX_DISTINCT: case SX_IN_LIST:
        if (a->fn->fn != c->fn->fn)
            return false;
        break;
    case SX_CAST:
        if (a->typmod != c->typmod)
            return false;
        break;
    case SX_BOOLTEST:
        if (a->booltest != c->booltest)
            return false;
        break;
    case SX_CASE:
        if (a->has_operand != c->has_operand || a->has_else != c->has_else)
            return false;
        break;
    case SX_SUBPLAN:
        return false;
    default:
        break;
    }
    for (int i = 0; i < a->nargs; i++)
        if (!bx_equal(a->args[i], c->args[i]))
            return false;
    return true;
}

bool bx_has_aggref(const sql_bexpr *e)
{
    if (!e)
        return false;
    if (BX(e)->aggref)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (bx_has_aggref(e->args[i]))
            return true;
    if (e->kind == SX_SUBPLAN && bx_has_aggref(e->sub.lhs))
        return true;
    return false;
}

void bx_refs(const sql_bexpr *e, void (*fn)(void *ud, int g), void *ud)
{
    if (!e)
        return;
    if (e->kind == SX_COL && !BX(e)->aggref)
        fn(ud, e->index);
    for (int i = 0; i < e->nargs; i++)
        bx_refs(e->args[i], fn, ud);
    if (e->kind == SX_SUBPLAN)
        bx_refs(e->sub.lhs, fn, ud);
}

static sql_bexpr *copy_node(bstate *b, const sql_bexpr *e)
{
    bx *x = b_alloc(b, sizeof *x);
    if (!x)
        return NULL;
    *x = *BX(e);
    if (e->nargs) {
        x->e.args = b_alloc(b, sizeof(sql_bexpr *) * (size_t)e->nargs);
        if (!x->e.args)
            return NULL;
    }
    return &x->e;
}

sql_bexpr *bx_remap(bstate *b, const sql_bexpr *e, const int *inv, int ninv)
{
    if (!e)
        return NULL;
    if (e->kind == SX_CASE_TEST || e->kind == SX_CONST ||
        e->kind == SX_PARAM || e->kind == SX_OUTER)
        return (sql_bexpr *)e;
    sql_bexpr *c = copy_node(b, e);
    if (!c)
        return NULL;
    if (e->kind == SX_COL) {
        if (BX(e)->aggref || e->index < 0 || e->index >= ninv ||
            inv[e->index] < 0) {
            b_error_at(b, BX(e)->pos, DC_ERR, "XX000",
                       "unresolved column reference in plan");
            return NULL;
        }
        c->index = inv[e->index];
        return c;
    }
    for (int i = 0; i < e->nargs; i++)
        if (!(c->args[i] = bx_remap(b, e->args[i], inv, ninv)))
            return NULL;
    if (e->kind == SX_SUBPLAN && e->sub.lhs &&
        !(c->sub.lhs = bx_remap(b, e->sub.lhs, inv, ninv)))
        return NULL;
    return c;
}

sql_bexpr *bx_copy(bstate *b, const sql_bexpr *e)
{
    if (!e)
        return NULL;
    sql_bexpr *c = copy_node(b, e);
    if (!c)
        return NULL;
    for (int i = 0; i < e->nargs; i++)
        if (!(c->args[i] = bx_copy(b, e->args[i])))
            return NULL;
    return c;
}
