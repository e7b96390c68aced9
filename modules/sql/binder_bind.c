/*
 * sql/binder_bind.c - bind_expr: one AST expression to a bound
 * expression over the level's global row (binder_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/binder_int.h"
#include "sql/funcs_pg.h"

static bool set_nargs(bstate *b, sql_bexpr *e, int n)
{
    e->nargs = n;
    e->args = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(n ? n : 1));
    return e->args != NULL;
}

static sql_func_resolved *fr_dup(bstate *b, const sql_func_resolved *fr)
{
    sql_func_resolved *p = b_alloc(b, sizeof *p);
    if (p)
        *p = *fr;
    return p;
}

static void err_pos(bstate *b, int pos)
{
    if (b->err && b->err->position == 0)
        b->err->position = pos;
}

/* ---- constants and parameters ---------------------------------------- */

static sql_bexpr *bind_const(bstate *b, const sql_expr *e)
{
    dc_value v;
    sql_mem mem = {(void *(*)(void *, size_t))sql_arena_alloc, b->arena};
    switch (e->u.c.kind) {
    case CONST_NULL:
        v = sql_value_null(DC_TYPE_UNKNOWN);
        break;
    case CONST_BOOL:
        v = sql_value_bool(e->u.c.b);
        break;
    case CONST_INT:
        if (e->u.c.i >= INT32_MIN && e->u.c.i <= INT32_MAX)
            v = sql_value_int(DC_TYPE_INT4, e->u.c.i);
        else
            v = sql_value_int(DC_TYPE_INT8, e->u.c.i);
        break;
    case CONST_NUMERIC:
        if (sql_value_in(DC_TYPE_NUMERIC, -1, e->u.c.s, strlen(e->u.c.s),
                         NULL, &mem, &v, b->err) != DC_OK) {
            err_pos(b, e->pos);
            return NULL;
        }
        break;
    case CONST_STRING: {
        size_t n = strlen(e->u.c.s);
        char *s = sql_arena_strndup(b->arena, e->u.c.s, n);
        if (!s) {
            b_oom(b);
            return NULL;
        }
        v = sql_value_bytes(DC_TYPE_UNKNOWN, s, n);
        break;
    }
    default:
        b_error_at(b, e->pos, DC_EUNSUPPORTED, "0A000",
                   "bit string constants are not supported");
        return NULL;
    }
    sql_bexpr *c = bx_const(b, v);
    if (c)
        BX(c)->pos = e->pos;
    return c;
}

static sql_bexpr *bind_param(bstate *b, blevel *lv, const sql_expr *e)
{
    int n = e->u.param;
    if (n == 0 && b->inj_expr)
        return lift(b, lv, b->inj_level, b->inj_expr);
    if (n < 1 || n > SQL_MAX_PARAMS || !b->params) {
        b_error_at(b, e->pos, DC_EINVAL, "42P02",
                   "there is no parameter $%d", n);
        return NULL;
    }
    if ((uint32_t)n > b->params->n) {
        for (uint32_t i = b->params->n; i < (uint32_t)n; i++)
            b->params->types[i] = 0;
        b->params->n = (uint32_t)n;
    }
    sql_bexpr *p = bx_new(b, SX_PARAM, b->params->types[n - 1]);
    if (!p)
        return NULL;
    p->index = n - 1;
    BX(p)->pos = e->pos;
    if (!b_grow(b, (void **)&b->paramnodes, &b->capparamnodes,
                b->nparamnodes + 1, sizeof(sql_bexpr *)))
        return NULL;
    b->paramnodes[b->nparamnodes++] = p;
    return p;
}

/* ---- boolean connectives ------------------------------------------------- */

static sql_bexpr *bind_andor(bstate *b, blevel *lv, const sql_expr *e)
{
    sql_bexpr_kind k = e->kind == EXPR_AND ? SX_AND : SX_OR;
    const char *what = k == SX_AND ? "AND" : "OR";
    int n = (int)SQL_LIST_LEN(e->u.args);
    sql_bexpr *r = bx_new(b, k, DC_TYPE_BOOL);
    if (!r || !set_nargs(b, r, n))
        return NULL;
    for (int i = 0; i < n; i++) {
        const sql_expr *a = e->u.args->items[i];
        if (!(r->args[i] = coerce_bool(b, bind_expr(b, lv, a), what, a->pos)))
            return NULL;
    }
    BX(r)->pos = e->pos;
    return r;
}

static sql_bexpr *bx_unary(bstate *b, sql_bexpr_kind k, uint32_t type,
                           sql_bexpr *a)
{
    if (!a)
        return NULL;
    sql_bexpr *r = bx_new(b, k, type);
    if (!r || !set_nargs(b, r, 1))
        return NULL;
    r->args[0] = a;
    return r;
}

/* (a, b) = (c, d) and <> as AND / OR of pairs. */
static sql_bexpr *bind_row_cmp(bstate *b, blevel *lv, const sql_expr *e)
{
    const sql_list *l = e->u.op.left->u.list, *r = e->u.op.right->u.list;
    bool eq = !strcmp(e->u.op.name, "="), ne = !strcmp(e->u.op.name, "<>");
    if ((!eq && !ne) || SQL_LIST_LEN(l) != SQL_LIST_LEN(r)) {
        b_error_at(b, e->pos, DC_EUNSUPPORTED, "0A000",
                   "row comparison with operator %s is not supported",
                   e->u.op.name);
        return NULL;
    }
    sql_bexpr *acc = NULL;
    for (size_t i = 0; i < l->len; i++) {
        sql_bexpr *x = bind_expr(b, lv, l->items[i]);
        sql_bexpr *y = x ? bind_expr(b, lv, r->items[i]) : NULL;
        sql_bexpr *c = y ? make_oper(b, e->u.op.name, x, y, e->pos) : NULL;
        if (!c || !(acc = bx_bool_op(b, eq ? SX_AND : SX_OR, acc, c)))
            return NULL;
    }
    return acc;
}

static sql_bexpr *bind_op(bstate *b, blevel *lv, const sql_expr *e)
{
    const sql_expr *le = e->u.op.left, *re = e->u.op.right;
    if (le && le->kind == EXPR_ROW && re->kind == EXPR_ROW)
        return bind_row_cmp(b, lv, e);
    sql_bexpr *l = NULL;
    if (le && !(l = bind_expr(b, lv, le)))
        return NULL;
    sql_bexpr *r = bind_expr(b, lv, re);
    if (!r)
        return NULL;
    return make_oper(b, e->u.op.name, l, r, e->pos);
}

static sql_bexpr *bind_between(bstate *b, blevel *lv, const sql_expr *e)
{
    sql_bexpr *a = bind_expr(b, lv, e->u.between.arg);
    sql_bexpr *lo = a ? bind_expr(b, lv, e->u.between.lo) : NULL;
    sql_bexpr *hi = lo ? bind_expr(b, lv, e->u.between.hi) : NULL;
    if (!hi)
        return NULL;
    bool neg = e->u.between.negated;
    sql_bexpr *x = make_oper(b, neg ? "<" : ">=", a, lo, e->pos);
    sql_bexpr *y = x ? make_oper(b, neg ? ">" : "<=", a, hi, e->pos) : NULL;
    if (!y)
        return NULL;
    sql_bexpr *r = bx_bool_op(b, neg ? SX_OR : SX_AND, x, y);
    if (r && e->u.between.symmetric) {
        sql_bexpr *x2 = make_oper(b, neg ? "<" : ">=", a, hi, e->pos);
        sql_bexpr *y2 = x2 ? make_oper(b, neg ? ">" : "<=", a, lo, e->pos)
                           : NULL;
        if (!y2)
            return NULL;
        sql_bexpr *r2 = bx_bool_op(b, neg ? SX_OR : SX_AND, x2, y2);
        /* BETWEEN SYMMETRIC: either order; NOT: outside both */
        r = bx_bool_op(b, neg ? SX_AND : SX_OR, r, r2);
    }
    return r;
}

static sql_bexpr *bind_in_list(bstate *b, blevel *lv, const sql_expr *e)
{
    int n = (int)SQL_LIST_LEN(e->u.in.list);
    sql_bexpr **all = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(n + 1));
    if (!all || !(all[0] = bind_expr(b, lv, e->u.in.arg)))
        return NULL;
    for (int i = 0; i < n; i++)
        if (!(all[i + 1] = bind_expr(b, lv, e->u.in.list->items[i])))
            return NULL;
    uint32_t t;
    if (resolve_common(b, "IN", n + 1, all, &t, e->pos) != DC_OK)
        return NULL;
    for (int i = 0; i <= n; i++)
        if (!(all[i] = coerce(b, all[i], t, -1, SQL_CAST_IMPLICIT, e->pos)))
            return NULL;
    sql_func_resolved fr;
    if (sql_oper_resolve("=", false, t, t, &fr, b->err) != DC_OK) {
        err_pos(b, e->pos);
        return NULL;
    }
    sql_bexpr *r = bx_new(b, SX_IN_LIST, DC_TYPE_BOOL);
    if (!r || !(r->fn = fr_dup(b, &fr)))
        return NULL;
    r->nargs = n + 1;
    r->args = all;
    r->negated = e->u.in.negated;
    BX(r)->pos = e->pos;
    return r;
}

static sql_bexpr *call_func(bstate *b, const char *name, int nargs,
                            sql_bexpr **args, int pos);

/* LIKE / ILIKE are the operators ~~ / ~~*; with ESCAPE the pattern goes
 * through like_escape() first.  SIMILAR TO is ~ over
 * similar_to_escape(pattern [, escape]). */
static sql_bexpr *bind_like(bstate *b, blevel *lv, const sql_expr *e)
{
    bool icase = e->u.like.kind == LIKE_ILIKE, neg = e->u.like.negated;
    bool similar = e->u.like.kind == LIKE_SIMILAR;
    sql_bexpr *a = bind_expr(b, lv, e->u.like.arg);
    sql_bexpr *p = a ? bind_expr(b, lv, e->u.like.pattern) : NULL;
    if (!p)
        return NULL;
    if (e->u.like.escape || similar) {
        sql_bexpr *args[2] = {p, NULL};
        int n = 1;
        if (e->u.like.escape) {
            if (!(args[1] = bind_expr(b, lv, e->u.like.escape)))
                return NULL;
            n = 2;
        }
        if (!(p = call_func(b, similar ? "similar_to_escape" : "like_escape",
                            n, args, e->pos)))
            return NULL;
    }
    const char *op = similar ? (neg ? "!~" : "~")
                     : icase ? (neg ? "!~~*" : "~~*") : (neg ? "!~~" : "~~");
    return make_oper(b, op, a, p, e->pos);
}

/* ---- CASE -------------------------------------------------------------------- */

static sql_bexpr *bind_case(bstate *b, blevel *lv, const sql_expr *e)
{
    int nw = (int)SQL_LIST_LEN(e->u.kase.whens);
    bool has_op = e->u.kase.arg != NULL, has_else = e->u.kase.els != NULL;
    int nargs = (has_op ? 1 : 0) + 2 * nw + (has_else ? 1 : 0);
    sql_bexpr *r = bx_new(b, SX_CASE, DC_TYPE_UNKNOWN);
    if (!r || !set_nargs(b, r, nargs))
        return NULL;
    r->has_operand = has_op;
    r->has_else = has_else;
    int k = 0;
    sql_bexpr *test = NULL;
    if (has_op) {
        sql_bexpr *op = finalize_unknown(b, bind_expr(b, lv, e->u.kase.arg));
        if (!op || !(test = bx_new(b, SX_CASE_TEST, op->type)))
            return NULL;
        test->typmod = op->typmod;
        r->args[k++] = op;
    }
    int nres = nw + (has_else ? 1 : 0);
    sql_bexpr **res = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(nres + 1));
    if (!res)
        return NULL;
    for (int i = 0; i < nw; i++) {
        const sql_when *w = e->u.kase.whens->items[i];
        sql_bexpr *c = bind_expr(b, lv, w->when);
        if (!c)
            return NULL;
        c = has_op ? make_oper(b, "=", test, c, w->when->pos)
                   : coerce_bool(b, c, "CASE", w->when->pos);
        if (!c || !(res[i] = bind_expr(b, lv, w->then)))
            return NULL;
        r->args[k + 2 * i] = c;
    }
    if (has_else && !(res[nw] = bind_expr(b, lv, e->u.kase.els)))
        return NULL;
    uint32_t t;
    if (resolve_common(b, "CASE", nres, res, &t, e->pos) != DC_OK)
        return NULL;
    for (int i = 0; i < nres; i++)
        if (!(res[i] = coerce(b, res[i], t, -1, SQL_CAST_IMPLICIT, e->pos)))
            return NULL;
    for (int i = 0; i < nw; i++)
        r->args[k + 2 * i + 1] = res[i];
    if (has_else)
        r->args[nargs - 1] = res[nw];
    r->type = t;
    BX(r)->pos = e->pos;
    return r;
}

/* ---- casts ------------------------------------------------------------------- */

/* ---- reg* casts ---------------------------------------------------------
 * regclass, regtype, regnamespace and regrole are not value types here: a
 * cast of a string looks the object's oid up, a cast of an oid gives its
 * name as text -- both as scalar subqueries over the generated catalog. */

static sql_expr *ast_node(bstate *b, sql_expr_kind k, int pos)
{
    sql_expr *x = b_alloc(b, sizeof *x);
    if (x) {
        x->kind = k;
        x->pos = pos;
    }
    return x;
}

static sql_expr *ast_col(bstate *b, const char *name, int pos)
{
    sql_expr *x = ast_node(b, EXPR_COLUMN, pos);
    char **names = b_alloc(b, sizeof(char *));
    if (!x || !names)
        return NULL;
    names[0] = (char *)name;
    x->u.col.nnames = 1;
    x->u.col.names = names;
    return x;
}

/* (SELECT out FROM pg_catalog.rel WHERE key = arg) */
static sql_expr *ast_lookup(bstate *b, const char *rel, const char *out,
                            const char *key, sql_expr *arg, int pos)
{
    sql_select *q = b_alloc(b, sizeof *q);
    sql_target *t = b_alloc(b, sizeof *t);
    sql_from *f = b_alloc(b, sizeof *f);
    sql_qname *qn = b_alloc(b, sizeof *qn);
    char **parts = b_alloc(b, 2 * sizeof(char *));
    sql_expr *w = ast_node(b, EXPR_OP, pos);
    sql_expr *sl = ast_node(b, EXPR_SUBLINK, pos);
    if (!q || !t || !f || !qn || !parts || !w || !sl ||
        !(t->expr = ast_col(b, out, pos)) ||
        !(w->u.op.left = ast_col(b, key, pos)))
        return NULL;
    parts[0] = "pg_catalog";
    parts[1] = (char *)rel;
    qn->nparts = 2;
    qn->parts = parts;
    qn->pos = pos;
    f->kind = FROM_TABLE;
    f->pos = pos;
    f->table = qn;
    w->u.op.name = "=";
    w->u.op.right = arg;
    q->op = SELECT_SIMPLE;
    q->pos = pos;
    q->where = w;
    t->pos = pos;
    if (!sql_list_push(b->arena, &q->targets, t) ||
        !sql_list_push(b->arena, &q->from, f)) {
        b_oom(b);
        return NULL;
    }
    sl->u.sublink.kind = SUBLINK_EXPR;
    sl->u.sublink.subquery = q;
    return sl;
}

static sql_bexpr *bind_regcast(bstate *b, blevel *lv, const sql_expr *e,
                               const char *type)
{
    static const struct {
        const char *type, *rel, *name;
    } regs[] = {
        {"regclass", "pg_class", "relname"},
        {"regtype", "pg_type", "typname"},
        {"regnamespace", "pg_namespace", "nspname"},
        {"regrole", "pg_roles", "rolname"},
    };
    if (!strcmp(type, "regproc") || !strcmp(type, "regprocedure")) {
        /* functions have no oids here: a regproc is its name as text
         * (pg_type.typinput = 'pg_catalog.array_in'::regproc) */
        const sql_expr *arg = e->u.cast.arg;
        if (arg->kind == EXPR_CONST && arg->u.c.kind == CONST_STRING) {
            const char *n = arg->u.c.s;
            if (!strncmp(n, "pg_catalog.", 11))
                n += 11;
            char *c = b_strdup(b, n);
            return c ? bx_const(b, sql_value_bytes(DC_TYPE_TEXT, c, strlen(c)))
                     : NULL;
        }
        sql_bexpr *v = bind_expr(b, lv, arg);
        return v && v->type != DC_TYPE_TEXT
                   ? coerce(b, v, DC_TYPE_TEXT, -1, SQL_CAST_EXPLICIT, e->pos)
                   : v;
    }
    int k = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(type, regs[i].type))
            k = i;
    if (k < 0) {
        b_error_at(b, e->pos, DC_EUNSUPPORTED, "0A000",
                   "type %s is not supported", type);
        return NULL;
    }
    sql_expr *arg = e->u.cast.arg;
    bool by_name = arg->kind == EXPR_CONST && arg->u.c.kind == CONST_STRING;
    if (!by_name) {
        /* the argument is bound here, so that its names cannot be
         * captured by the lookup subquery's relation */
        sql_bexpr *v = bind_expr(b, lv, arg);
        sql_expr *ph = v ? ast_node(b, EXPR_PARAM, arg->pos) : NULL;
        if (!ph)
            return NULL;
        ph->u.param = 0;
        if (k == 1) {
            sql_bexpr *args[2] = {v, bx_const(b, sql_value_null(DC_TYPE_INT4))};
            return args[1] ? call_func(b, "format_type", 2, args, e->pos)
                           : NULL;
        }
        sql_expr *q = ast_lookup(b, regs[k].rel, regs[k].name, "oid", ph,
                                 e->pos);
        sql_bexpr *saved = b->inj_expr;
        blevel *saved_lv = b->inj_level;
        b->inj_expr = v;
        b->inj_level = lv;
        sql_bexpr *r = q ? bind_expr(b, lv, q) : NULL;
        b->inj_expr = saved;
        b->inj_level = saved_lv;
        if (r && r->type != DC_TYPE_TEXT)
            r = coerce(b, r, DC_TYPE_TEXT, -1, SQL_CAST_EXPLICIT, e->pos);
        return r;
    }
    /* a name: a string constant, which no relation can capture */
    sql_expr *q = ast_lookup(b, regs[k].rel, "oid", regs[k].name, arg, e->pos);
    sql_bexpr *r = q ? bind_expr(b, lv, q) : NULL;
    if (r && r->type != DC_TYPE_OID)
        r = coerce(b, r, DC_TYPE_OID, -1, SQL_CAST_EXPLICIT, e->pos);
    return r;
}

static sql_bexpr *bind_cast(bstate *b, blevel *lv, const sql_expr *e)
{
    const sql_typename *tn = e->u.cast.type;
    if (tn->array_dims == 0 && tn->name &&
        !strncmp(tn->name, "reg", 3) && !sql_type_supported(tn->oid))
        return bind_regcast(b, lv, e, tn->name);
    /* 'name'::regclass::text: the name of the object, as PostgreSQL's
     * reg* output shows it */
    const sql_expr *in = e->u.cast.arg;
    if ((tn->oid == DC_TYPE_TEXT || tn->oid == DC_TYPE_VARCHAR ||
         tn->oid == DC_TYPE_NAME) && tn->array_dims == 0 &&
        in->kind == EXPR_CAST && in->u.cast.type->array_dims == 0 &&
        in->u.cast.type->name && !strncmp(in->u.cast.type->name, "reg", 3) &&
        !sql_type_supported(in->u.cast.type->oid) &&
        in->u.cast.arg->kind == EXPR_CONST &&
        in->u.cast.arg->u.c.kind == CONST_STRING) {
        sql_expr *outer = ast_node(b, EXPR_CAST, e->pos);
        if (!outer)
            return NULL;
        outer->u.cast.arg = (sql_expr *)in;
        outer->u.cast.type = in->u.cast.type;
        sql_bexpr *r = bind_regcast(b, lv, outer, in->u.cast.type->name);
        if (r && r->type != tn->oid)
            r = coerce(b, r, tn->oid, tn->typmod, SQL_CAST_EXPLICIT, e->pos);
        return r;
    }
    if (tn->array_dims > 0) {
        /* arrays are values in their text form (funcs_pg.h) */
        sql_bexpr *a = bind_expr(b, lv, e->u.cast.arg);
        if (!a || a->type == DC_TYPE_TEXT)
            return a;
        return coerce(b, a, DC_TYPE_TEXT, -1, SQL_CAST_EXPLICIT, e->pos);
    }
    if (tn->oid == 0 || !sql_type_supported(tn->oid)) {
        b_error_at(b, tn->pos, DC_ENOTFOUND, "42704",
                   "type \"%s\" does not exist", tn->name);
        return NULL;
    }
    sql_bexpr *a = bind_expr(b, lv, e->u.cast.arg);
    if (!a)
        return NULL;
    if (a->type == DC_TYPE_UNKNOWN && a->kind == SX_CONST)
        return coerce(b, a, tn->oid, tn->typmod, SQL_CAST_EXPLICIT, e->pos);
    if (a->type == DC_TYPE_UNKNOWN)
        return coerce(b, a, tn->oid, tn->typmod, SQL_CAST_EXPLICIT, e->pos);
    if (a->type == tn->oid && (tn->typmod < 0 || a->typmod == tn->typmod))
        return a;
    if (sql_cast_kind(a->type, tn->oid) == SQL_CAST_NONE) {
        b_error_at(b, e->pos, DC_ETYPE, "42846", "cannot cast type %s to %s",
                   sql_type_name(a->type), sql_type_name(tn->oid));
        return NULL;
    }
    sql_bexpr *c = bx_unary(b, SX_CAST, tn->oid, a);
    if (c) {
        c->typmod = tn->typmod;
        c->cast_ctx = SQL_CAST_EXPLICIT;
        BX(c)->pos = e->pos;
    }
    return c;
}

/* ---- functions and aggregates ------------------------------------------------ */

static sql_bexpr *call_func(bstate *b, const char *name, int nargs,
                            sql_bexpr **args, int pos)
{
    uint32_t types[SQL_MAX_FN_ARGS];
    if (nargs > SQL_MAX_FN_ARGS) {
        b_error_at(b, pos, DC_EINVAL, "54023",
                   "cannot pass more than %d arguments to a function",
                   SQL_MAX_FN_ARGS);
        return NULL;
    }
    for (int i = 0; i < nargs; i++)
        types[i] = args[i]->type;
    sql_func_resolved fr;
    memset(&fr, 0, sizeof fr);
    if (sql_func_resolve(name, nargs, types, &fr, b->err) != DC_OK) {
        err_pos(b, pos);
        return NULL;
    }
    if (fr.flags & SQL_FN_SETOF) {
        b_error_at(b, pos, DC_EUNSUPPORTED, "0A000",
                   "set-returning functions are only supported in FROM");
        return NULL;
    }
    sql_bexpr *r = bx_new(b, SX_FUNC, fr.rettype);
    if (!r || !set_nargs(b, r, nargs) || !(r->fn = fr_dup(b, &fr)))
        return NULL;
    r->typmod = fr.rettypmod;
    for (int i = 0; i < nargs; i++) {
        uint32_t t = i < fr.nargs ? fr.argtypes[i] : args[i]->type;
        if (!(r->args[i] = coerce(b, args[i], t, -1, SQL_CAST_IMPLICIT, pos)))
            return NULL;
    }
    BX(r)->pos = pos;
    return r;
}

static sql_bexpr *bind_agg_here(bstate *b, blevel *lv, const sql_expr *e,
                                const char *name);

static sql_bexpr *bind_agg(bstate *b, blevel *lv, const sql_expr *e,
                           const char *name)
{
    if (lv->agg_forbidden) {
        b_error_at(b, e->pos, DC_EINVAL, "42803",
                   "aggregate functions are not allowed in %s",
                   lv->agg_forbidden);
        return NULL;
    }
    if (lv->in_agg) {
        b_error_at(b, e->pos, DC_EINVAL, "42803",
                   "aggregate function calls cannot be nested");
        return NULL;
    }
    lv->in_agg = true;
    blevel *saved_lv = b->agg_lv;
    int saved_up = b->agg_min_up;
    b->agg_lv = lv;
    b->agg_min_up = INT32_MAX;
    /* outer references the arguments add, to undo if the aggregate moves */
    enum { MAXUP = 32 };
    blevel *owners[MAXUP];
    int nargs[MAXUP], nown = 0;
    for (blevel *l = lv; l && nown < MAXUP; l = l->parent) {
        owners[nown] = l->owner;
        nargs[nown++] = l->owner->nargs;
    }
    sql_bexpr *r = bind_agg_here(b, lv, e, name);
    int up = b->agg_min_up;
    b->agg_lv = saved_lv;
    b->agg_min_up = saved_up;
    lv->in_agg = false;
    if (!r || up == INT32_MAX || up == 0)
        return r;
    /* only outer columns: the aggregate belongs to that outer query and
     * is an outer reference here */
    blevel *target = lv;
    for (int i = 0; i < up && target->parent; i++)
        target = target->parent;
    lv->naggs--;
    for (int i = 0; i < nown; i++)
        owners[i]->nargs = nargs[i];
    sql_bexpr *ph = bind_agg(b, target, e, name);
    return ph ? lift(b, lv, target, ph) : NULL;
}

/* Bind the aggregate call's arguments at lv and register it there. */
static sql_bexpr *bind_agg_here(bstate *b, blevel *lv, const sql_expr *e,
                                const char *name)
{
    int n = (int)SQL_LIST_LEN(e->u.func.args);
    sql_aggcall ac;
    memset(&ac, 0, sizeof ac);
    ac.nargs = n;
    ac.distinct = e->u.func.distinct;
    ac.args = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(n ? n : 1));
    uint32_t types[2] = {0, 0};
    if (!ac.args)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (!(ac.args[i] = bind_expr(b, lv, e->u.func.args->items[i])))
            return NULL;
        if (i < 2)
            types[i] = ac.args[i]->type;
    }
    if (e->u.func.filter &&
        !(ac.filter = coerce_bool(b, bind_expr(b, lv, e->u.func.filter),
                                  "FILTER", e->u.func.filter->pos)))
        return NULL;
    ac.norder = (int)SQL_LIST_LEN(e->u.func.order_by);
    if (ac.norder) {
        ac.order = b_alloc(b, sizeof(sql_sortkey) * (size_t)ac.norder);
        if (!ac.order)
            return NULL;
        for (int i = 0; i < ac.norder; i++) {
            const sql_sortby *sb = e->u.func.order_by->items[i];
            sql_bexpr *k = finalize_unknown(b, bind_expr(b, lv, sb->expr));
            if (!k)
                return NULL;
            ac.order[i].expr = k;
            ac.order[i].desc = sb->dir == SORT_DESC;
            ac.order[i].nulls_first = sb->nulls == NULLS_DEFAULT
                                          ? ac.order[i].desc
                                          : sb->nulls == NULLS_FIRST;
        }
    }
    if (n > 2) {
        b_error_at(b, e->pos, DC_ENOTFOUND, "42883",
                   "function %s with %d arguments does not exist", name, n);
        return NULL;
    }
    if (sql_agg_resolve(name, e->u.func.star, n, types, &ac.agg, b->err) !=
        DC_OK) {
        err_pos(b, e->pos);
        return NULL;
    }
    for (int i = 0; i < n && i < ac.agg.nargs; i++)
        if (!(ac.args[i] = coerce(b, ac.args[i], ac.agg.argtypes[i], -1,
                                  SQL_CAST_IMPLICIT, e->pos)))
            return NULL;
    if (!b_grow(b, (void **)&lv->aggs, &lv->capaggs, lv->naggs + 1,
                sizeof(sql_aggcall)))
        return NULL;
    lv->aggs[lv->naggs++] = ac;
    sql_bexpr *r = bx_new(b, SX_COL, ac.agg.rettype);
    if (!r)
        return NULL;
    r->typmod = ac.agg.rettypmod;
    r->index = -1;
    BX(r)->aggref = lv->naggs;
    BX(r)->pos = e->pos;
    return r;
}

static sql_bexpr *bind_func(bstate *b, blevel *lv, const sql_expr *e)
{
    const sql_qname *qn = e->u.func.name;
    const char *name = qn->parts[qn->nparts - 1];
    if (qn->nparts > 1 && strcmp(qn->parts[qn->nparts - 2], "pg_catalog")) {
        b_error_at(b, e->pos, DC_ENOTFOUND, "3F000",
                   "schema \"%s\" does not exist", qn->parts[qn->nparts - 2]);
        return NULL;
    }
    if (e->u.func.over) {
        b_error_at(b, e->pos, DC_EUNSUPPORTED, "0A000",
                   "window functions are not supported");
        return NULL;
    }
    if (sql_is_aggregate(name))
        return bind_agg(b, lv, e, name);
    if (e->u.func.star || e->u.func.distinct || e->u.func.filter ||
        e->u.func.order_by) {
        const char *what = e->u.func.star ? "*" : e->u.func.distinct
                           ? "DISTINCT" : e->u.func.filter ? "FILTER"
                           : "ORDER BY";
        b_error_at(b, e->pos, DC_EINVAL, "42809",
                   "%s specified, but %s is not an aggregate function", what,
                   name);
        return NULL;
    }
    int n = (int)SQL_LIST_LEN(e->u.func.args);
    sql_bexpr **args = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(n ? n : 1));
    if (!args)
        return NULL;
    for (int i = 0; i < n; i++)
        if (!(args[i] = bind_expr(b, lv, e->u.func.args->items[i])))
            return NULL;
    return call_func(b, name, n, args, e->pos);
}

static sql_bexpr *bind_sqlvalue(bstate *b, const sql_expr *e)
{
    static const char *const fnames[] = {
        [SV_CURRENT_DATE] = "current_date",
        [SV_CURRENT_TIME] = "current_time",
        [SV_CURRENT_TIMESTAMP] = "current_timestamp",
        [SV_LOCALTIME] = "localtime",
        [SV_LOCALTIMESTAMP] = "localtimestamp",
        [SV_CURRENT_USER] = "current_user",
        [SV_CURRENT_ROLE] = "current_user",
        [SV_SESSION_USER] = "session_user",
        [SV_USER] = "current_user",
        [SV_CURRENT_CATALOG] = "current_database",
        [SV_CURRENT_SCHEMA] = "current_schema",
    };
    return call_func(b, fnames[e->u.sv.what], 0, NULL, e->pos);
}

/* ---- subqueries ---------------------------------------------------------------- */

sql_bexpr *bind_sublink(bstate *b, blevel *lv, const sql_select *q,
                        sql_sublink link, sql_bexpr *lhs, const char *op,
                        int pos)
{
    if (++b->depth > 200) {
        b_error_at(b, pos, DC_EINVAL, "54001", "stack depth limit exceeded");
        return NULL;
    }
    blevel *sub = level_new(b, lv, NULL);
    sql_plan *p = sub ? bind_query(b, sub, q) : NULL;
    b->depth--;
    if (!p)
        return NULL;
    if (link != SUB_EXISTS && p->ncols != 1) {
        b_error_at(b, pos, DC_EINVAL, "42601", "%s",
                   link == SUB_SCALAR ? "subquery must return only one column"
                                      : "subquery has too many columns");
        return NULL;
    }
    sql_bexpr *r = bx_new(b, SX_SUBPLAN, DC_TYPE_BOOL);
    if (!r)
        return NULL;
    r->sub.link = link;
    r->nargs = sub->nargs;
    r->args = sub->args;
    r->sub.correlated = sub->nargs > 0;
    BX(r)->pos = pos;
    if (link == SUB_SCALAR) {
        r->type = p->types[0];
        r->typmod = p->typmods[0];
    }
    if (link == SUB_ANY || link == SUB_ALL) {
        sql_func_resolved fr;
        /* An untyped left side (NULL, a string literal, $n) takes the
         * subquery column's type, as PostgreSQL resolves it. */
        if (lhs->type != DC_TYPE_UNKNOWN && !(lhs = finalize_unknown(b, lhs)))
            return NULL;
        if (sql_oper_resolve(op, false, lhs->type, p->types[0], &fr,
                             b->err) != DC_OK) {
            err_pos(b, pos);
            return NULL;
        }
        if (fr.rettype != DC_TYPE_BOOL) {
            b_error_at(b, pos, DC_ETYPE, "42809",
                       "op ANY/ALL (array) requires operator to yield boolean");
            return NULL;
        }
        if (!(r->sub.lhs = coerce(b, lhs, fr.argtypes[0], -1,
                                  SQL_CAST_IMPLICIT, pos)) ||
            !(r->fn = fr_dup(b, &fr)))
            return NULL;
        if (fr.argtypes[1] != p->types[0]) {
            sql_bexpr *c = bx_col(b, 0, p->types[0], p->typmods[0]);
            sql_bexpr *cc = c ? coerce(b, c, fr.argtypes[1], -1,
                                       SQL_CAST_IMPLICIT, pos) : NULL;
            if (!cc || !(p = plan_project(b, p, 1, &cc, p->names)))
                return NULL;
        }
    }
    r->sub.plan = p;
    return r;
}

/* x op ANY/ALL (array value): the array is text (funcs_pg.h) whose
 * elements compare as values of x's type. */
static sql_bexpr *bind_quant_value(bstate *b, blevel *lv, const sql_expr *e)
{
    int op = sql_pg_quant_op(e->u.quant.op);
    if (op < 0) {
        b_error_at(b, e->pos, DC_EUNSUPPORTED, "0A000",
                   "operator %s is not supported with ANY/ALL over an array",
                   e->u.quant.op);
        return NULL;
    }
    sql_bexpr *l = finalize_unknown(b, bind_expr(b, lv, e->u.quant.left));
    sql_bexpr *a = l ? bind_expr(b, lv, e->u.quant.array) : NULL;
    if (a && a->type != DC_TYPE_TEXT)
        a = coerce(b, a, DC_TYPE_TEXT, -1, SQL_CAST_EXPLICIT, e->pos);
    sql_bexpr *r = a ? bx_new(b, SX_FUNC, DC_TYPE_BOOL) : NULL;
    sql_func_resolved fr;
    sql_pg_quant_resolve(l ? l->type : DC_TYPE_TEXT, &fr);
    if (!r || !set_nargs(b, r, 4) || !(r->fn = fr_dup(b, &fr)) ||
        !(r->args[2] = bx_const(b, sql_value_int(DC_TYPE_INT4, op))) ||
        !(r->args[3] = bx_const(b, sql_value_bool(e->u.quant.all))))
        return NULL;
    r->args[0] = l;
    r->args[1] = a;
    return r;
}

/* x op ANY (ARRAY[a, b]) as (x op a) OR (x op b); ALL with AND. */
static sql_bexpr *bind_quant_array(bstate *b, blevel *lv, const sql_expr *e)
{
    const sql_expr *arr = e->u.quant.array;
    if (arr->kind != EXPR_ARRAY)
        return bind_quant_value(b, lv, e);
    bool all = e->u.quant.all;
    sql_bexpr *l = bind_expr(b, lv, e->u.quant.left);
    if (!l)
        return NULL;
    if (!SQL_LIST_LEN(arr->u.list))
        return bx_const(b, sql_value_bool(all));
    sql_bexpr *acc = NULL;
    for (size_t i = 0; i < arr->u.list->len; i++) {
        sql_bexpr *x = bind_expr(b, lv, arr->u.list->items[i]);
        sql_bexpr *c = x ? make_oper(b, e->u.quant.op, l, x, e->pos) : NULL;
        if (c && c->type != DC_TYPE_BOOL) {
            b_error_at(b, e->pos, DC_ETYPE, "42809",
                       "op ANY/ALL (array) requires operator to yield boolean");
            return NULL;
        }
        if (!c || !(acc = bx_bool_op(b, all ? SX_AND : SX_OR, acc, c)))
            return NULL;
    }
    return acc;
}

static sql_bexpr *bind_quant(bstate *b, blevel *lv, const sql_expr *e)
{
    if (!e->u.quant.subquery)
        return bind_quant_array(b, lv, e);
    sql_bexpr *l = bind_expr(b, lv, e->u.quant.left);
    if (!l)
        return NULL;
    return bind_sublink(b, lv, e->u.quant.subquery,
                        e->u.quant.all ? SUB_ALL : SUB_ANY, l, e->u.quant.op,
                        e->pos);
}

static sql_bexpr *bind_in(bstate *b, blevel *lv, const sql_expr *e)
{
    if (!e->u.in.subquery)
        return bind_in_list(b, lv, e);
    sql_bexpr *l = bind_expr(b, lv, e->u.in.arg);
    sql_bexpr *r = l ? bind_sublink(b, lv, e->u.in.subquery, SUB_ANY, l, "=",
                                    e->pos) : NULL;
    if (r && e->u.in.negated)
        r = bx_unary(b, SX_NOT, DC_TYPE_BOOL, r);
    return r;
}

/* ARRAY(q): a scalar subquery over an aggregate that collects q's rows,
 * in q's order, into an array text ("{}" for none). */
static sql_bexpr *bind_array_sublink(bstate *b, blevel *lv, const sql_expr *e)
{
    sql_bexpr *r = bind_sublink(b, lv, e->u.sublink.subquery, SUB_SCALAR,
                                NULL, NULL, e->pos);
    if (!r)
        return NULL;
    sql_plan *q = r->sub.plan;
    sql_plan *p = plan_new(b, PL_AGG, 1);
    sql_aggcall *ac = p ? b_alloc(b, sizeof *ac) : NULL;
    sql_bexpr **args = ac ? b_alloc(b, sizeof *args) : NULL;
    sql_bexpr **group = args ? b_alloc(b, sizeof *group) : NULL;
    if (!group || !(args[0] = bx_col(b, 0, q->types[0], q->typmods[0])))
        return NULL;
    memset(ac, 0, sizeof *ac);
    sql_pg_array_sublink_agg(q->types[0], &ac->agg);
    ac->nargs = 1;
    ac->args = args;
    p->left = q;
    p->est_rows = 1;
    p->u.agg.group = group;
    p->u.agg.naggs = 1;
    p->u.agg.aggs = ac;
    p->types[0] = DC_TYPE_TEXT;
    p->typmods[0] = -1;
    p->names[0] = "array";
    r->sub.plan = p;
    r->type = DC_TYPE_TEXT;
    r->typmod = -1;
    return r;
}

/* arr[i] of an array text: the element as text, or as the element type
 * when the array's type is known (a cast to T[], or a catalog column of
 * an int2 / oid vector). */
static sql_bexpr *bind_subscript(bstate *b, blevel *lv, const sql_expr *e)
{
    static const char *const int2cols[] = {"prattrs", "indkey", "conkey",
        "confkey", "stxkeys", "indoption", NULL};
    static const char *const oidcols[] = {"polroles", "indclass",
        "indcollation", "proargtypes", "conpfeqop", "conppeqop",
        "conffeqop", "conexclop", "grolist", NULL};
    if (e->u.sub.slice) {
        b_error_at(b, e->pos, DC_EUNSUPPORTED, "0A000",
                   "array slices are not supported");
        return NULL;
    }
    const sql_expr *ae = e->u.sub.arg;
    uint32_t elem = DC_TYPE_TEXT;
    if (ae->kind == EXPR_CAST && ae->u.cast.type->array_dims > 0 &&
        sql_type_supported(ae->u.cast.type->oid))
        elem = ae->u.cast.type->oid;
    if (ae->kind == EXPR_COLUMN && ae->u.col.nnames > 0 && !ae->u.col.star) {
        const char *n = ae->u.col.names[ae->u.col.nnames - 1];
        for (int i = 0; int2cols[i]; i++)
            if (!strcmp(n, int2cols[i]))
                elem = DC_TYPE_INT2;
        for (int i = 0; oidcols[i]; i++)
            if (!strcmp(n, oidcols[i]))
                elem = DC_TYPE_OID;
    }
    sql_bexpr *args[2];
    if (!(args[0] = bind_expr(b, lv, ae)) ||
        !(args[1] = bind_expr(b, lv, e->u.sub.lo)))
        return NULL;
    if (args[0]->type != DC_TYPE_TEXT &&
        !(args[0] = coerce(b, args[0], DC_TYPE_TEXT, -1, SQL_CAST_EXPLICIT,
                           e->pos)))
        return NULL;
    if (args[1]->type != DC_TYPE_INT4 &&
        !(args[1] = coerce(b, args[1], DC_TYPE_INT4, -1, SQL_CAST_IMPLICIT,
                           e->pos)))
        return NULL;
    sql_bexpr *r = call_func(b, "dc_array_subscript", 2, args, e->pos);
    if (r && elem != DC_TYPE_TEXT)
        r = coerce(b, r, elem, -1, SQL_CAST_EXPLICIT, e->pos);
    return r;
}

/* ARRAY[a, b]: the elements in their common type, as an array text. */
static sql_bexpr *bind_array_ctor(bstate *b, blevel *lv, const sql_expr *e)
{
    int n = (int)SQL_LIST_LEN(e->u.list);
    if (n > SQL_MAX_FN_ARGS) {
        b_error_at(b, e->pos, DC_EUNSUPPORTED, "0A000",
                   "ARRAY[] with more than %d elements is not supported",
                   SQL_MAX_FN_ARGS);
        return NULL;
    }
    sql_bexpr **xs = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(n + 1));
    if (!xs)
        return NULL;
    for (int i = 0; i < n; i++) {
        const sql_expr *x = e->u.list->items[i];
        if (x->kind == EXPR_ARRAY) {
            b_error_at(b, x->pos, DC_EUNSUPPORTED, "0A000",
                       "multidimensional arrays are not supported");
            return NULL;
        }
        if (!(xs[i] = bind_expr(b, lv, x)))
            return NULL;
    }
    uint32_t t = DC_TYPE_TEXT;
    if (n && resolve_common(b, "ARRAY", n, xs, &t, e->pos) != DC_OK)
        return NULL;
    for (int i = 0; i < n; i++)
        if (!(xs[i] = coerce(b, xs[i], t, -1, SQL_CAST_IMPLICIT, e->pos)))
            return NULL;
    sql_func_resolved fr;
    sql_pg_array_build_resolve(n, t, &fr);
    sql_bexpr *r = bx_new(b, SX_FUNC, DC_TYPE_TEXT);
    if (!r || !set_nargs(b, r, n) || !(r->fn = fr_dup(b, &fr)))
        return NULL;
    for (int i = 0; i < n; i++)
        r->args[i] = xs[i];
    return r;
}

static sql_bexpr *bind_sublink_expr(bstate *b, blevel *lv, const sql_expr *e)
{
    switch (e->u.sublink.kind) {
    case SUBLINK_EXISTS:
        return bind_sublink(b, lv, e->u.sublink.subquery, SUB_EXISTS, NULL,
                            NULL, e->pos);
    case SUBLINK_EXPR:
        return bind_sublink(b, lv, e->u.sublink.subquery, SUB_SCALAR, NULL,
                            NULL, e->pos);
    default:
        return bind_array_sublink(b, lv, e);
    }
}

/* ---- dispatcher ------------------------------------------------------------------- */

static sql_bexpr *bind_column(bstate *b, blevel *lv, const sql_expr *e)
{
    if (e->u.col.star) {
        b_error_at(b, e->pos, DC_EINVAL, "42601",
                   "row expansion via \"*\" is not supported here");
        return NULL;
    }
    sql_bexpr *r = lookup_column(b, lv, e);
    /* a private copy, so the reference keeps its own position */
    if (r && r->kind == SX_COL && (r = bx_copy(b, r)))
        BX(r)->pos = e->pos;
    return r;
}

static sql_bexpr *bind_nulltest(bstate *b, blevel *lv, const sql_expr *e)
{
    sql_bexpr *a = finalize_unknown(b, bind_expr(b, lv, e->u.un.arg));
    sql_bexpr *r = bx_unary(b, SX_NULLTEST, DC_TYPE_BOOL, a);
    if (r)
        r->negated = e->u.un.negated;
    return r;
}

static sql_bexpr *bind_booltest(bstate *b, blevel *lv, const sql_expr *e)
{
    static const char *const what[2][3] = {
        {"IS TRUE", "IS FALSE", "IS UNKNOWN"},
        {"IS NOT TRUE", "IS NOT FALSE", "IS NOT UNKNOWN"}};
    bool neg = e->u.un.negated;
    sql_bexpr *a = coerce_bool(b, bind_expr(b, lv, e->u.un.arg),
                               what[neg][e->u.un.test], e->pos);
    sql_bexpr *r = bx_unary(b, SX_BOOLTEST, DC_TYPE_BOOL, a);
    if (r) {
        r->booltest = (int)e->u.un.test;
        r->negated = neg;
    }
    return r;
}

static sql_bexpr *bind_distinct(bstate *b, blevel *lv, const sql_expr *e)
{
    sql_bexpr *l = bind_expr(b, lv, e->u.distinct.left);
    sql_bexpr *r = l ? bind_expr(b, lv, e->u.distinct.right) : NULL;
    sql_bexpr *eq = r ? make_oper(b, "=", l, r, e->pos) : NULL;
    if (!eq)
        return NULL;
    eq->kind = SX_DISTINCT;
    eq->type = DC_TYPE_BOOL;
    eq->negated = e->u.distinct.negated;
    BX(eq)->cmpop = CMP_NONE;
    return eq;
}

static sql_bexpr *bind_at_time_zone(bstate *b, blevel *lv, const sql_expr *e)
{
    sql_bexpr *args[2];
    if (!(args[1] = bind_expr(b, lv, e->u.un.arg)) ||
        !(args[0] = bind_expr(b, lv, e->u.un.other)))
        return NULL;
    return call_func(b, "timezone", 2, args, e->pos);
}

static sql_bexpr *bind_expr_inner(bstate *b, blevel *lv, const sql_expr *e)
{
    switch (e->kind) {
    case EXPR_CONST: return bind_const(b, e);
    case EXPR_PARAM: return bind_param(b, lv, e);
    case EXPR_COLUMN: return bind_column(b, lv, e);
    case EXPR_OP: return bind_op(b, lv, e);
    case EXPR_AND:
    case EXPR_OR: return bind_andor(b, lv, e);
    case EXPR_NOT:
        return bx_unary(b, SX_NOT, DC_TYPE_BOOL,
                        coerce_bool(b, bind_expr(b, lv, e->u.un.arg), "NOT",
                                    e->pos));
    case EXPR_NULLTEST: return bind_nulltest(b, lv, e);
    case EXPR_BOOLTEST: return bind_booltest(b, lv, e);
    case EXPR_DISTINCT: return bind_distinct(b, lv, e);
    case EXPR_BETWEEN: return bind_between(b, lv, e);
    case EXPR_IN: return bind_in(b, lv, e);
    case EXPR_LIKE: return bind_like(b, lv, e);
    case EXPR_QUANT: return bind_quant(b, lv, e);
    case EXPR_SUBLINK: return bind_sublink_expr(b, lv, e);
    case EXPR_FUNC: return bind_func(b, lv, e);
    case EXPR_CASE: return bind_case(b, lv, e);
    case EXPR_CAST: return bind_cast(b, lv, e);
    case EXPR_COLLATE: return bind_expr(b, lv, e->u.collate.arg);
    case EXPR_SQLVALUE: return bind_sqlvalue(b, e);
    case EXPR_AT_TIME_ZONE: return bind_at_time_zone(b, lv, e);
    case EXPR_DEFAULT:
        b_error_at(b, e->pos, DC_EINVAL, "42601",
                   "DEFAULT is not allowed in this context");
        return NULL;
    case EXPR_SUBSCRIPT: return bind_subscript(b, lv, e);
    case EXPR_ARRAY: return bind_array_ctor(b, lv, e);
    case EXPR_ROW:
        b_error_at(b, e->pos, DC_EUNSUPPORTED, "0A000",
                   "row expressions are not supported here");
        return NULL;
    default:
        b_error_at(b, e->pos, DC_EUNSUPPORTED, "0A000",
                   "array expressions are not supported");
        return NULL;
    }
}

sql_bexpr *bind_expr(bstate *b, blevel *lv, const sql_expr *e)
{
    if (!e)
        return NULL;
    if (++b->depth > 1000) {
        b_error_at(b, e->pos, DC_EINVAL, "54001",
                   "stack depth limit exceeded");
        return NULL;
    }
    sql_bexpr *r = bind_expr_inner(b, lv, e);
    b->depth--;
    if (r && BX(r)->pos == 0)
        BX(r)->pos = e->pos;
    return r;
}
