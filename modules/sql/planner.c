/*
 * sql/planner.c - turning a level's FROM leaves and WHERE conjuncts into
 * scans and joins: predicate push-down, key ranges on primary keys and
 * indexes, hash joins for equi-joins, greedy join order by estimated
 * sizes (binder_int.h describes the global-row convention).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/binder_int.h"

#define MAX_JOIN_LEAVES 62
#define FOREIGN_BIT (1ull << 63)

double table_est(const sql_table *t)
{
    return t->est_rows ? (double)t->est_rows : 1000.0;
}

/* ---- plan nodes -------------------------------------------------------- */

sql_plan *plan_new(bstate *b, sql_plan_kind kind, int ncols)
{
    sql_plan *p = b_alloc(b, sizeof *p);
    if (!p)
        return NULL;
    p->kind = kind;
    p->ncols = ncols;
    size_t n = (size_t)(ncols ? ncols : 1);
    p->types = b_alloc(b, sizeof(uint32_t) * n);
    p->typmods = b_alloc(b, sizeof(int32_t) * n);
    p->names = b_alloc(b, sizeof(char *) * n);
    if (!p->types || !p->typmods || !p->names)
        return NULL;
    for (int i = 0; i < ncols; i++) {
        p->typmods[i] = -1;
        p->names[i] = "?column?";
    }
    p->est_rows = 1;
    return p;
}

/* A projection of exprs (over child's row; child may be NULL). */
sql_plan *plan_project(bstate *b, sql_plan *child, int n, sql_bexpr **exprs,
                       char **names)
{
    sql_plan *p = plan_new(b, PL_PROJECT, n);
    if (!p)
        return NULL;
    p->left = child;
    p->est_rows = child ? child->est_rows : 1;
    p->u.project.exprs = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(n ? n : 1));
    if (!p->u.project.exprs)
        return NULL;
    for (int i = 0; i < n; i++) {
        p->u.project.exprs[i] = exprs[i];
        p->types[i] = exprs[i]->type;
        p->typmods[i] = exprs[i]->typmod;
        if (names && names[i])
            p->names[i] = names[i];
    }
    return p;
}

/* ---- EXPLAIN detail lines ---------------------------------------------- */

static char *explain_conds(bstate *b, const char *prev, const char *label,
                           const sql_expr **asts, int n)
{
    sql_buf buf;
    sql_buf_init(&buf);
    int shown = 0;
    char *out = (char *)prev;
    if (prev && sql_buf_append(&buf, prev, strlen(prev), NULL) != DC_OK)
        goto oom;
    int count = 0;
    for (int i = 0; i < n; i++) {
        bool dup = false;
        for (int k = 0; k < i; k++)
            dup |= asts[k] == asts[i];
        if (asts[i] && !dup)
            count++;
    }
    if (!count) {
        sql_buf_free(&buf);
        return out;
    }
    if ((prev && sql_buf_append(&buf, "\n", 1, NULL) != DC_OK) ||
        sql_buf_append(&buf, label, strlen(label), NULL) != DC_OK ||
        sql_buf_append(&buf, ": ", 2, NULL) != DC_OK ||
        (count > 1 && sql_buf_append(&buf, "(", 1, NULL) != DC_OK))
        goto oom;
    for (int i = 0; i < n; i++) {
        bool dup = false;
        for (int k = 0; k < i; k++)
            dup |= asts[k] == asts[i];
        if (!asts[i] || dup)
            continue;
        char *s = sql_expr_to_string(asts[i]);
        if (!s)
            goto oom;
        bool paren = s[0] != '(';
        int rc = (shown && sql_buf_append(&buf, " AND ", 5, NULL)) ||
                 (paren && sql_buf_append(&buf, "(", 1, NULL)) ||
                 sql_buf_append(&buf, s, strlen(s), NULL) ||
                 (paren && sql_buf_append(&buf, ")", 1, NULL));
        free(s);
        if (rc)
            goto oom;
        shown++;
    }
    if (count > 1 && sql_buf_append(&buf, ")", 1, NULL) != DC_OK)
        goto oom;
    out = sql_arena_strndup(b->arena, (const char *)buf.data, buf.len);
    sql_buf_free(&buf);
    if (!out)
        b_oom(b);
    return out;
oom:
    sql_buf_free(&buf);
    b_oom(b);
    return NULL;
}

char *explain_list(bstate *b, const char *label, const sql_expr **asts,
                   int n)
{
    sql_buf buf;
    sql_buf_init(&buf);
    bool ok = sql_buf_append(&buf, label, strlen(label), NULL) == DC_OK &&
              sql_buf_append(&buf, ": ", 2, NULL) == DC_OK;
    for (int i = 0; i < n && ok; i++) {
        char *s = sql_expr_to_string(asts[i]);
        ok = s && (!i || sql_buf_append(&buf, ", ", 2, NULL) == DC_OK) &&
             sql_buf_append(&buf, s, strlen(s), NULL) == DC_OK;
        free(s);
    }
    char *out = ok ? sql_arena_strndup(b->arena, (const char *)buf.data,
                                       buf.len) : NULL;
    sql_buf_free(&buf);
    if (!out)
        b_oom(b);
    return out;
}

char *explain_add(bstate *b, const char *prev, const char *label,
                  const sql_expr *ast)
{
    return explain_conds(b, prev, label, &ast, 1);
}

/* ---- conjuncts ---------------------------------------------------------- */

int split_conj(bstate *b, sql_bexpr *e, const sql_expr *ast, conj **arr,
               int *n, int *cap)
{
    if (e->kind == SX_AND) {
        for (int i = 0; i < e->nargs; i++)
            if (split_conj(b, e->args[i], ast, arr, n, cap) != DC_OK)
                return DC_ENOMEM;
        return DC_OK;
    }
    if (!b_grow(b, (void **)arr, cap, *n + 1, sizeof(conj)))
        return DC_ENOMEM;
    memset(&(*arr)[*n], 0, sizeof(conj));
    (*arr)[*n].e = e;
    (*arr)[(*n)++].ast = ast;
    return DC_OK;
}

int *pplan_inverse(bstate *b, const pplan *pp, int nglobal)
{
    int *inv = b_alloc(b, sizeof(int) * (size_t)(nglobal ? nglobal : 1));
    if (!inv)
        return NULL;
    for (int i = 0; i < nglobal; i++)
        inv[i] = -1;
    if (pp && pp->p)
        for (int i = 0; i < pp->p->ncols; i++)
            if (pp->map[i] >= 0 && pp->map[i] < nglobal)
                inv[pp->map[i]] = i;
    return inv;
}

/* AND of the conjuncts, remapped. */
static sql_bexpr *conj_and(bstate *b, conj **cs, int n, const int *inv,
                           int ninv)
{
    sql_bexpr *acc = NULL;
    for (int i = 0; i < n; i++) {
        sql_bexpr *e = bx_remap(b, cs[i]->e, inv, ninv);
        if (!e || !(acc = bx_bool_op(b, SX_AND, acc, e)))
            return NULL;
    }
    return acc;
}

static const sql_expr **conj_asts(bstate *b, conj **cs, int n)
{
    const sql_expr **a = b_alloc(b, sizeof(*a) * (size_t)(n ? n : 1));
    if (a)
        for (int i = 0; i < n; i++)
            a[i] = cs[i]->ast;
    return a;
}

static double qual_est(double est, int nquals)
{
    for (int i = 0; i < nquals; i++)
        est /= 3;
    return est < 1 ? 1 : est;
}

/* A filter node over pp with the given conjuncts. */
static int add_filter(bstate *b, blevel *lv, pplan *pp, conj **cs, int n)
{
    if (!n)
        return DC_OK;
    int *inv = pplan_inverse(b, pp, lv->nglobal);
    sql_plan *f = inv ? plan_new(b, PL_FILTER, pp->p->ncols) : NULL;
    if (!f || !(f->u.filter.qual = conj_and(b, cs, n, inv, lv->nglobal)))
        return DC_ERR;
    memcpy(f->types, pp->p->types, sizeof(uint32_t) * (size_t)f->ncols);
    memcpy(f->typmods, pp->p->typmods, sizeof(int32_t) * (size_t)f->ncols);
    memcpy(f->names, pp->p->names, sizeof(char *) * (size_t)f->ncols);
    f->left = pp->p;
    f->est_rows = qual_est(pp->p->est_rows, n);
    const sql_expr **asts = conj_asts(b, cs, n);
    if (!asts)
        return DC_ENOMEM;
    f->explain = explain_conds(b, NULL, "Filter", asts, n);
    pp->p = f;
    return DC_OK;
}

/* ---- key ranges ------------------------------------------------------------ */

static int type_family(uint32_t t)
{
    switch (t) {
    case DC_TYPE_INT2: case DC_TYPE_INT4: case DC_TYPE_INT8: case DC_TYPE_OID:
        return 1;
    case DC_TYPE_FLOAT4: case DC_TYPE_FLOAT8:
        return 2;
    case DC_TYPE_TEXT: case DC_TYPE_VARCHAR: case DC_TYPE_NAME:
        return 3;
    case DC_TYPE_BPCHAR: return 4;
    case DC_TYPE_NUMERIC: return 5;
    case DC_TYPE_DATE: return 6;
    case DC_TYPE_TIMESTAMP: return 7;
    case DC_TYPE_TIMESTAMPTZ: return 8;
    case DC_TYPE_BOOL: return 9;
    case DC_TYPE_BYTEA: return 10;
    default: return 0;
    }
}

static bool family_ok(uint32_t a, uint32_t c)
{
    return type_family(a) && type_family(a) == type_family(c);
}

static bool has_refs(const sql_bexpr *e)
{
    if (!e)
        return false;
    if (e->kind == SX_COL)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (has_refs(e->args[i]))
            return true;
    return e->kind == SX_SUBPLAN && has_refs(e->sub.lhs);
}

static bool is_key_col(const sql_bexpr *x, int g, uint32_t ct)
{
    while (x->kind == SX_CAST && family_ok(ct, x->type))
        x = x->args[0];
    return x->kind == SX_COL && !BX(x)->aggref && x->index == g &&
           family_ok(ct, x->type);
}

static int flip_cmp(int op)
{
    switch (op) {
    case CMP_LT: return CMP_GT;
    case CMP_LE: return CMP_GE;
    case CMP_GT: return CMP_LT;
    case CMP_GE: return CMP_LE;
    default: return op;
    }
}

/* Is conjunct c "column g <op> value" usable as a key bound? */
static bool key_cmp(const conj *c, int g, uint32_t ct, sql_bexpr **val,
                    int *op)
{
    const sql_bexpr *e = c->e;
    if (e->kind != SX_FUNC || !BX(e)->cmpop || e->nargs != 2)
        return false;
    sql_bexpr *l = e->args[0], *r = e->args[1];
    if (is_key_col(l, g, ct) && !has_refs(r)) {
        *val = r;
        *op = BX(e)->cmpop;
    } else if (is_key_col(r, g, ct) && !has_refs(l)) {
        *val = l;
        *op = flip_cmp(BX(e)->cmpop);
    } else {
        return false;
    }
    return family_ok(ct, (*val)->type);
}

/* Widen a bound value to the key column's type when that is lossless;
 * other same-family values encode identically already. */
static sql_bexpr *key_value(bstate *b, sql_bexpr *v, uint32_t ct, int32_t tm)
{
    bool widen = (ct == DC_TYPE_INT8 && (v->type == DC_TYPE_INT2 ||
                                         v->type == DC_TYPE_INT4)) ||
                 (ct == DC_TYPE_INT4 && v->type == DC_TYPE_INT2) ||
                 (ct == DC_TYPE_FLOAT8 && v->type == DC_TYPE_FLOAT4) ||
                 (ct == DC_TYPE_TEXT && v->type == DC_TYPE_VARCHAR) ||
                 (ct == DC_TYPE_VARCHAR && v->type == DC_TYPE_TEXT);
    if (!widen)
        return v;
    return coerce(b, v, ct, ct == DC_TYPE_VARCHAR ? -1 : tm,
                  SQL_CAST_EXPLICIT, BX(v)->pos);
}

typedef struct access {
    const sql_index *ix;
    int score;
    int neq;
    sql_bexpr **eq;
    sql_bexpr *lo, *hi;
    bool lo_incl, hi_incl;
    bool *used;
    bool point;
} access;

static int try_index(bstate *b, const leaf *lf, const sql_index *ix,
                     conj **cs, int n, access *a)
{
    const sql_table *t = lf->table;
    memset(a, 0, sizeof *a);
    a->ix = ix;
    a->used = b_alloc(b, (size_t)n + 1);
    a->eq = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(ix->ncols + 1));
    if (!a->used || !a->eq)
        return DC_ENOMEM;
    for (int k = 0; k < ix->ncols; k++) {
        const sql_column *col = &t->cols[ix->attnums[k] - 1];
        int g = lf->gbase + ix->attnums[k] - 1, found = -1;
        sql_bexpr *v = NULL;
        for (int j = 0; j < n && found < 0; j++) {
            int op;
            if (!a->used[j] && key_cmp(cs[j], g, col->type, &v, &op) &&
                op == CMP_EQ)
                found = j;
        }
        if (found < 0)
            break;
        a->used[found] = true;
        if (!(a->eq[a->neq++] = key_value(b, v, col->type, col->typmod)))
            return DC_ERR;
    }
    if (a->neq < ix->ncols &&
        !(ix->flags && (ix->flags[a->neq] & SQL_KEY_DESC))) {
        const sql_column *col = &t->cols[ix->attnums[a->neq] - 1];
        int g = lf->gbase + ix->attnums[a->neq] - 1;
        for (int j = 0; j < n; j++) {
            sql_bexpr *v;
            int op;
            if (a->used[j] || !key_cmp(cs[j], g, col->type, &v, &op))
                continue;
            if ((op == CMP_GT || op == CMP_GE) && !a->lo) {
                if (!(a->lo = key_value(b, v, col->type, col->typmod)))
                    return DC_ERR;
                a->lo_incl = op == CMP_GE;
                a->used[j] = true;
            } else if ((op == CMP_LT || op == CMP_LE) && !a->hi) {
                if (!(a->hi = key_value(b, v, col->type, col->typmod)))
                    return DC_ERR;
                a->hi_incl = op == CMP_LE;
                a->used[j] = true;
            }
        }
    }
    a->point = a->neq == ix->ncols && (ix->unique || ix->primary);
    a->score = a->point ? 1000000
                        : a->neq * 100 + ((a->lo || a->hi) ? 10 : 0);
    if (a->score && ix->primary)
        a->score++;
    return DC_OK;
}

static char **table_names(bstate *b, const sql_table *t, bool key)
{
    char **names = b_alloc(b, sizeof(char *) * (size_t)(t->natts + 2));
    if (!names)
        return NULL;
    for (int i = 0; i < t->natts; i++)
        names[i] = t->cols[i].dropped ? "" : t->cols[i].name;
    if (key)
        names[t->natts] = "ctid";
    return names;
}

static int plan_table_leaf(bstate *b, blevel *lv, leaf *lf, conj **cs,
                           int n, pplan *out)
{
    const sql_table *t = lf->table;
    access best, cur;
    memset(&best, 0, sizeof best);
    for (int i = 0; i < t->nindexes; i++) {
        const sql_index *ix = t->indexes[i];
        if (ix->primary && t->pkey && ix != t->pkey)
            continue;
        if (try_index(b, lf, ix, cs, n, &cur) != DC_OK)
            return DC_ERR;
        if (cur.score > best.score)
            best = cur;
    }
    if (t->pkey && best.ix != t->pkey) {
        bool listed = false;
        for (int i = 0; i < t->nindexes; i++)
            listed |= t->indexes[i] == t->pkey;
        if (!listed) {
            if (try_index(b, lf, t->pkey, cs, n, &cur) != DC_OK)
                return DC_ERR;
            if (cur.score > best.score)
                best = cur;
        }
    }
    bool use_ix = best.score > 0;
    bool is_pk = use_ix && (best.ix == t->pkey || best.ix->primary);
    sql_plan *p = plan_new(b, is_pk || !use_ix ? PL_SCAN : PL_INDEXSCAN,
                           t->natts + (lf->emit_key ? 1 : 0));
    char **names = table_names(b, t, lf->emit_key);
    int *map = b_alloc(b, sizeof(int) * (size_t)(p ? p->ncols + 1 : 1));
    int *inv = b_alloc(b, sizeof(int) * (size_t)(lv->nglobal + 1));
    if (!p || !names || !map || !inv)
        return DC_ERR;
    for (int i = 0; i < lv->nglobal; i++)
        inv[i] = -1;
    for (int i = 0; i < p->ncols; i++) {
        map[i] = lf->gbase + i;
        inv[lf->gbase + i] = i;
        p->names[i] = names[i];
        if (i < t->natts) {
            p->types[i] = t->cols[i].type;
            p->typmods[i] = t->cols[i].typmod;
        } else {
            p->types[i] = DC_TYPE_BYTEA;
        }
    }
    p->u.scan.table = t;
    p->u.scan.index = use_ix && !is_pk ? best.ix : NULL;
    p->u.scan.alias = lf->alias;
    p->u.scan.emit_key = lf->emit_key;
    p->u.scan.latest = lf->latest;
    p->u.scan.limit = -1;
    conj **rest = b_alloc(b, sizeof(conj *) * (size_t)(n + 1));
    conj **usedc = b_alloc(b, sizeof(conj *) * (size_t)(n + 1));
    if (!rest || !usedc)
        return DC_ENOMEM;
    int nrest = 0, nused = 0;
    for (int j = 0; j < n; j++) {
        if (use_ix && best.used[j])
            usedc[nused++] = cs[j];
        else
            rest[nrest++] = cs[j];
        cs[j]->used = true;
    }
    double est = lf->est;
    if (use_ix) {
        sql_keyrange *r = &p->u.scan.range;
        r->neq = best.neq;
        r->lo = best.lo;
        r->hi = best.hi;
        r->lo_incl = best.lo_incl;
        r->hi_incl = best.hi_incl;
        r->eq = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(best.neq + 1));
        if (!r->eq)
            return DC_ENOMEM;
        for (int k = 0; k < best.neq; k++)
            if (!(r->eq[k] = bx_remap(b, best.eq[k], inv, lv->nglobal)))
                return DC_ERR;
        if (best.point) {
            est = 1;
        } else {
            /* every condition used keeps about a third of the rows */
            est = qual_est(est, nused);
        }
        const sql_expr **asts = conj_asts(b, usedc, nused);
        if (!asts)
            return DC_ENOMEM;
        p->explain = explain_conds(b, NULL, "Index Cond", asts, nused);
    }
    if (nrest) {
        if (!(p->u.scan.qual = conj_and(b, rest, nrest, inv, lv->nglobal)))
            return DC_ERR;
        const sql_expr **asts = conj_asts(b, rest, nrest);
        if (!asts)
            return DC_ENOMEM;
        p->explain = explain_conds(b, p->explain, "Filter", asts, nrest);
    }
    est = qual_est(est, nrest);
    p->est_rows = est < 1 ? 1 : est;
    out->p = p;
    out->map = map;
    return DC_OK;
}

/* ---- join sets ---------------------------------------------------------------- */

static int js_add_leaf(bstate *b, joinset *js, leaf *lf)
{
    int cap = js->nleaves;
    if (!b_grow(b, (void **)&js->leaves, &cap, js->nleaves + 1,
                sizeof(leaf *)))
        return DC_ENOMEM;
    js->leaves[js->nleaves++] = lf;
    return DC_OK;
}

static int js_add_conj(bstate *b, joinset *js, const conj *c)
{
    if (!b_grow(b, (void **)&js->conj, &js->capconj, js->nconj + 1,
                sizeof(conj)))
        return DC_ENOMEM;
    js->conj[js->nconj++] = *c;
    return DC_OK;
}

static joinset *js_from(bstate *b, fnode **items, int n);

static int flatten(bstate *b, joinset *js, fnode *f)
{
    if (!f->is_join)
        return js_add_leaf(b, js, f->lf);
    if (f->jk == JOIN_INNER || f->jk == JOIN_CROSS) {
        if (flatten(b, js, f->l) != DC_OK || flatten(b, js, f->r) != DC_OK)
            return DC_ERR;
        for (int i = 0; i < f->non; i++)
            if (js_add_conj(b, js, &f->on[i]) != DC_OK)
                return DC_ENOMEM;
        return DC_OK;
    }
    leaf *lf = b_alloc(b, sizeof *lf);
    if (!lf || !(lf->l = js_from(b, &f->l, 1)) ||
        !(lf->r = js_from(b, &f->r, 1)))
        return DC_ERR;
    lf->kind = LF_OUTERJOIN;
    lf->jt = f->jk == JOIN_LEFT ? SQL_JOIN_LEFT
             : f->jk == JOIN_RIGHT ? SQL_JOIN_LEFT : SQL_JOIN_FULL;
    if (f->jk == JOIN_RIGHT) {
        joinset *t = lf->l;
        lf->l = lf->r;
        lf->r = t;
    }
    lf->on = f->on;
    lf->non = f->non;
    return js_add_leaf(b, js, lf);
}

static joinset *js_from(bstate *b, fnode **items, int n)
{
    joinset *js = b_alloc(b, sizeof *js);
    if (!js)
        return NULL;
    for (int i = 0; i < n; i++)
        if (flatten(b, js, items[i]) != DC_OK)
            return NULL;
    return js;
}

static void mark_leaf(const leaf *lf, int *owner, int idx)
{
    if (lf->kind == LF_OUTERJOIN) {
        for (int i = 0; i < lf->l->nleaves; i++)
            mark_leaf(lf->l->leaves[i], owner, idx);
        for (int i = 0; i < lf->r->nleaves; i++)
            mark_leaf(lf->r->leaves[i], owner, idx);
        return;
    }
    for (int i = 0; i < lf->ncols; i++)
        owner[lf->gbase + i] = idx;
}

typedef struct refctx {
    const int *owner;
    int n;
    uint64_t mask;
} refctx;

static void ref_cb(void *ud, int g)
{
    refctx *rc = ud;
    if (g < 0 || g >= rc->n || rc->owner[g] < 0)
        rc->mask |= FOREIGN_BIT;
    else
        rc->mask |= 1ull << rc->owner[g];
}

static uint64_t expr_refs(const sql_bexpr *e, const int *owner, int n)
{
    refctx rc = {owner, n, 0};
    bx_refs(e, ref_cb, &rc);
    return rc.mask;
}

static int plan_joinset(bstate *b, blevel *lv, joinset *js, pplan *out);

/* Which inputs an expression reads: bit 1 the left one, bit 2 the
 * right one, bit 4 anything else. */
typedef struct sidectx {
    const int *il, *ir;
    int ng;
    int side;
} sidectx;

static void side_cb(void *ud, int g)
{
    sidectx *sc = ud;
    if (g >= 0 && g < sc->ng && sc->il[g] >= 0)
        sc->side |= 1;
    else if (g >= 0 && g < sc->ng && sc->ir[g] >= 0)
        sc->side |= 2;
    else
        sc->side |= 4;
}

static int expr_side(const sql_bexpr *e, const int *il, const int *ir, int ng)
{
    sidectx sc = {il, ir, ng, 0};
    bx_refs(e, side_cb, &sc);
    return sc.side;
}

static void copy_cols(sql_plan *p, int at, const sql_plan *c)
{
    memcpy(p->types + at, c->types, sizeof(uint32_t) * (size_t)c->ncols);
    memcpy(p->typmods + at, c->typmods, sizeof(int32_t) * (size_t)c->ncols);
    memcpy(p->names + at, c->names, sizeof(char *) * (size_t)c->ncols);
}

/* Hash-join keys of one equality: both sides cast to one type. */
static int join_keys(bstate *b, sql_bexpr *l, sql_bexpr *r, sql_bexpr **lk,
                     sql_bexpr **rk)
{
    if (l->type != r->type) {
        sql_bexpr *both[2] = {l, r};
        uint32_t t;
        if (resolve_common(b, "JOIN", 2, both, &t, BX(l)->pos) != DC_OK)
            return DC_ERR;
        if (!(l = coerce(b, l, t, -1, SQL_CAST_IMPLICIT, BX(l)->pos)) ||
            !(r = coerce(b, r, t, -1, SQL_CAST_IMPLICIT, BX(r)->pos)))
            return DC_ERR;
    }
    *lk = l;
    *rk = r;
    return DC_OK;
}

/* Join two planned inputs with the conjuncts cs (all over both). */
static int make_join(bstate *b, blevel *lv, pplan L, pplan R,
                     sql_jointype jt, conj **cs, int n, bool may_swap,
                     double est_hint, pplan *out)
{
    int ng = lv->nglobal;
    int *il = pplan_inverse(b, &L, ng), *ir = pplan_inverse(b, &R, ng);
    bool *is_key = b_alloc(b, (size_t)n + 1);
    bool *rev = b_alloc(b, (size_t)n + 1);
    if (!il || !ir || !is_key || !rev)
        return DC_ENOMEM;
    int nkeys = 0;
    for (int i = 0; i < n; i++) {
        const sql_bexpr *e = cs[i]->e;
        if (e->kind != SX_FUNC || BX(e)->cmpop != CMP_EQ || e->nargs != 2)
            continue;
        int s0 = expr_side(e->args[0], il, ir, ng);
        int s1 = expr_side(e->args[1], il, ir, ng);
        if ((s0 == 1 && s1 == 2) || (s0 == 2 && s1 == 1)) {
            is_key[i] = true;
            rev[i] = s0 == 2;
            nkeys++;
        }
    }
    if (nkeys && may_swap && jt == SQL_JOIN_INNER &&
        L.p->est_rows < R.p->est_rows) {
        pplan t = L;
        L = R;
        R = t;
        int *ti = il;
        il = ir;
        ir = ti;
        for (int i = 0; i < n; i++)
            rev[i] = !rev[i];
    }
    int nc = L.p->ncols + R.p->ncols;
    sql_plan *p = plan_new(b, nkeys ? PL_HASHJOIN : PL_NESTLOOP, nc);
    int *map = b_alloc(b, sizeof(int) * (size_t)(nc + 1));
    if (!p || !map)
        return DC_ERR;
    memcpy(map, L.map, sizeof(int) * (size_t)L.p->ncols);
    memcpy(map + L.p->ncols, R.map, sizeof(int) * (size_t)R.p->ncols);
    copy_cols(p, 0, L.p);
    copy_cols(p, L.p->ncols, R.p);
    p->left = L.p;
    p->right = R.p;
    p->u.join.type = jt;
    p->u.join.nkeys = nkeys;
    p->u.join.left_keys = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(nkeys + 1));
    p->u.join.right_keys = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(nkeys + 1));
    conj **keyc = b_alloc(b, sizeof(conj *) * (size_t)(n + 1));
    conj **rest = b_alloc(b, sizeof(conj *) * (size_t)(n + 1));
    if (!p->u.join.left_keys || !p->u.join.right_keys || !keyc || !rest)
        return DC_ENOMEM;
    int k = 0, nrest = 0;
    for (int i = 0; i < n; i++) {
        cs[i]->used = true;
        if (!is_key[i]) {
            rest[nrest++] = cs[i];
            continue;
        }
        sql_bexpr *a = cs[i]->e->args[rev[i] ? 1 : 0];
        sql_bexpr *c = cs[i]->e->args[rev[i] ? 0 : 1];
        sql_bexpr *lk, *rk;
        if (join_keys(b, a, c, &lk, &rk) != DC_OK ||
            !(p->u.join.left_keys[k] = bx_remap(b, lk, il, ng)) ||
            !(p->u.join.right_keys[k] = bx_remap(b, rk, ir, ng)))
            return DC_ERR;
        keyc[k++] = cs[i];
    }
    pplan J = {p, map};
    int *ij = pplan_inverse(b, &J, ng);
    if (!ij)
        return DC_ENOMEM;
    if (nrest && !(p->u.join.qual = conj_and(b, rest, nrest, ij, ng)))
        return DC_ERR;
    const sql_expr **ka = conj_asts(b, keyc, k), **ra = conj_asts(b, rest, nrest);
    if (!ka || !ra)
        return DC_ENOMEM;
    p->explain = explain_conds(b, NULL, "Hash Cond", ka, k);
    p->explain = explain_conds(b, p->explain, "Join Filter", ra, nrest);
    double le = L.p->est_rows, re = R.p->est_rows;
    double est = nkeys ? (le > re ? le : re) : qual_est(le * re, nrest);
    if (est_hint > 0)
        est = est_hint;
    if (jt == SQL_JOIN_LEFT && est < le)
        est = le;
    if (jt == SQL_JOIN_FULL && est < le + re)
        est = le + re;
    p->est_rows = est < 1 ? 1 : est;
    *out = J;
    return DC_OK;
}

static int plan_outer_leaf(bstate *b, blevel *lv, leaf *lf, pplan *out)
{
    int ng = lv->nglobal;
    int *owner = b_alloc(b, sizeof(int) * (size_t)(ng + 1));
    if (!owner)
        return DC_ENOMEM;
    for (int i = 0; i < ng; i++)
        owner[i] = -1;
    for (int i = 0; i < lf->r->nleaves; i++)
        mark_leaf(lf->r->leaves[i], owner, 0);
    conj **rest = b_alloc(b, sizeof(conj *) * (size_t)(lf->non + 1));
    if (!rest)
        return DC_ENOMEM;
    int nrest = 0;
    for (int i = 0; i < lf->non; i++) {
        uint64_t m = expr_refs(lf->on[i].e, owner, ng);
        /* ON conditions over the nullable side alone filter that side */
        if (lf->jt == SQL_JOIN_LEFT && m == 1) {
            if (js_add_conj(b, lf->r, &lf->on[i]) != DC_OK)
                return DC_ENOMEM;
        } else {
            rest[nrest++] = &lf->on[i];
        }
    }
    pplan L, R;
    if (plan_joinset(b, lv, lf->l, &L) != DC_OK ||
        plan_joinset(b, lv, lf->r, &R) != DC_OK)
        return DC_ERR;
    return make_join(b, lv, L, R, lf->jt, rest, nrest, false, 0, out);
}

static int plan_one_leaf(bstate *b, blevel *lv, leaf *lf, conj **cs, int n,
                         pplan *out)
{
    if (lf->kind == LF_TABLE)
        return plan_table_leaf(b, lv, lf, cs, n, out);
    if (lf->kind == LF_OUTERJOIN) {
        /* WHERE conditions over the preserved side of a LEFT join alone
         * filter that side before the join */
        int keep = 0;
        if (lf->jt == SQL_JOIN_LEFT) {
            int ng = lv->nglobal;
            int *owner = b_alloc(b, sizeof(int) * (size_t)(ng + 1));
            if (!owner)
                return DC_ENOMEM;
            for (int i = 0; i < ng; i++)
                owner[i] = -1;
            for (int i = 0; i < lf->l->nleaves; i++)
                mark_leaf(lf->l->leaves[i], owner, 0);
            for (int i = 0; i < n; i++) {
                if (expr_refs(cs[i]->e, owner, ng) == 1) {
                    if (js_add_conj(b, lf->l, cs[i]) != DC_OK)
                        return DC_ENOMEM;
                    cs[i]->used = true;
                } else {
                    cs[keep++] = cs[i];
                }
            }
            n = keep;
        }
        if (plan_outer_leaf(b, lv, lf, out) != DC_OK)
            return DC_ERR;
    } else {
        out->p = lf->plan;
        out->map = b_alloc(b, sizeof(int) * (size_t)(lf->ncols + 1));
        if (!out->map)
            return DC_ENOMEM;
        for (int i = 0; i < lf->ncols; i++)
            out->map[i] = lf->gbase + i;
    }
    for (int i = 0; i < n; i++)
        cs[i]->used = true;
    return add_filter(b, lv, out, cs, n);
}

/* ---- greedy join order ----------------------------------------------------------- */

/* Leaf index of a single-column primary key column that e reads (through
 * same-family casts), or -1. */
static int pk_leaf(const joinset *js, const int *owner, const sql_bexpr *e)
{
    while (e->kind == SX_CAST)
        e = e->args[0];
    if (e->kind != SX_COL || BX(e)->aggref || owner[e->index] < 0)
        return -1;
    int li = owner[e->index];
    const leaf *lf = js->leaves[li];
    if (lf->kind != LF_TABLE || !lf->table->pkey ||
        lf->table->pkey->ncols != 1 ||
        lf->table->pkey->attnums[0] - 1 != e->index - lf->gbase)
        return -1;
    return li;
}

/* Estimated rows of joining leaf k (ke rows) to the set (ce rows) by
 * their equi-join conditions: a condition on a primary key lets each row
 * of the other side match at most one row, in the proportion of the key
 * side's rows that survived its filters; otherwise the larger side. */
static double join_est(const joinset *js, const int *owner,
                       const uint64_t *refs, uint64_t set, int k, double ce,
                       double ke)
{
    double best = ke > ce ? ke : ce;
    uint64_t with = set | (1ull << k);
    for (int c = 0; c < js->nconj; c++) {
        const sql_bexpr *e = js->conj[c].e;
        if (js->conj[c].used || !(refs[c] & (1ull << k)) ||
            !(refs[c] & set) || (refs[c] & ~with) || e->kind != SX_FUNC ||
            BX(e)->cmpop != CMP_EQ || e->nargs != 2)
            continue;
        for (int s = 0; s < 2; s++) {
            int li = pk_leaf(js, owner, e->args[s]);
            if (li < 0)
                continue;
            double te = table_est(js->leaves[li]->table), est;
            if (li == k)
                est = ce * (ke / te < 1 ? ke / te : 1);
            else
                est = ke * (ce / te < 1 ? ce / te : 1);
            if (est < best)
                best = est;
        }
    }
    return best < 1 ? 1 : best;
}

static int plan_joinset(bstate *b, blevel *lv, joinset *js, pplan *out)
{
    int nl = js->nleaves, ng = lv->nglobal;
    if (nl > MAX_JOIN_LEAVES)
        return b_error_at(b, 0, DC_EUNSUPPORTED, "54000",
                          "too many FROM items (at most %d)",
                          MAX_JOIN_LEAVES);
    int *owner = b_alloc(b, sizeof(int) * (size_t)(ng + 1));
    pplan *lp = b_alloc(b, sizeof(pplan) * (size_t)(nl + 1));
    conj **tmp = b_alloc(b, sizeof(conj *) * (size_t)(js->nconj + 1));
    uint64_t *refs = b_alloc(b, sizeof(uint64_t) * (size_t)(js->nconj + 1));
    if (!owner || !lp || !tmp || !refs)
        return DC_ENOMEM;
    for (int i = 0; i < ng; i++)
        owner[i] = -1;
    for (int i = 0; i < nl; i++)
        mark_leaf(js->leaves[i], owner, i);
    for (int c = 0; c < js->nconj; c++)
        refs[c] = expr_refs(js->conj[c].e, owner, ng);
    for (int i = 0; i < nl; i++) {
        int n = 0;
        for (int c = 0; c < js->nconj; c++)
            if (refs[c] == (1ull << i))
                tmp[n++] = &js->conj[c];
        if (plan_one_leaf(b, lv, js->leaves[i], tmp, n, &lp[i]) != DC_OK)
            return DC_ERR;
    }
    if (nl == 0) {
        sql_plan *p = plan_new(b, PL_PROJECT, 0);
        if (!p)
            return DC_ENOMEM;
        out->p = p;
        out->map = NULL;
    } else {
        uint64_t set = 0;
        int start = 0;
        for (int i = 1; i < nl; i++)
            if (lp[i].p->est_rows < lp[start].p->est_rows)
                start = i;
        pplan cur = lp[start];
        set |= 1ull << start;
        for (int step = 1; step < nl; step++) {
            int pick = -1;
            double pick_est = 0;
            bool pick_conn = false;
            for (int k = 0; k < nl; k++) {
                if (set & (1ull << k))
                    continue;
                uint64_t with = set | (1ull << k);
                bool conn = false;
                for (int c = 0; c < js->nconj && !conn; c++)
                    conn = !js->conj[c].used && (refs[c] & (1ull << k)) &&
                           (refs[c] & set) && !(refs[c] & ~with);
                double ke = lp[k].p->est_rows, ce = cur.p->est_rows;
                double est = conn ? join_est(js, owner, refs, set, k, ce, ke)
                                  : ke * ce;
                if (pick < 0 || (conn && !pick_conn) ||
                    (conn == pick_conn && est < pick_est)) {
                    pick = k;
                    pick_est = est;
                    pick_conn = conn;
                }
            }
            uint64_t with = set | (1ull << pick);
            int n = 0;
            for (int c = 0; c < js->nconj; c++)
                if (!js->conj[c].used && (refs[c] & (1ull << pick)) &&
                    !(refs[c] & ~with))
                    tmp[n++] = &js->conj[c];
            if (make_join(b, lv, cur, lp[pick], SQL_JOIN_INNER, tmp, n, true,
                          pick_est, &cur) != DC_OK)
                return DC_ERR;
            set = with;
        }
        *out = cur;
    }
    int n = 0;
    for (int c = 0; c < js->nconj; c++)
        if (!js->conj[c].used) {
            js->conj[c].used = true;
            tmp[n++] = &js->conj[c];
        }
    return add_filter(b, lv, out, tmp, n);
}

int plan_level_from(bstate *b, blevel *lv, int nconj, conj *cj, pplan *out)
{
    joinset *js = js_from(b, lv->from, lv->nfrom);
    if (!js)
        return DC_ERR;
    for (int i = 0; i < nconj; i++)
        if (js_add_conj(b, js, &cj[i]) != DC_OK)
            return DC_ENOMEM;
    return plan_joinset(b, lv, js, out);
}
