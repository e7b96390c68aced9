/*
 * sql/binder_select.c - SELECT, VALUES and set operations: select lists,
 * grouping and aggregates, DISTINCT [ON], ORDER BY, LIMIT / OFFSET, WITH.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/binder_int.h"

/* One column of a select list under construction. */
typedef struct tcol {
    sql_bexpr *e;
    char *name;
} tcol;

typedef struct tlist {
    int n, cap;
    tcol *c;
} tlist;

static bool tl_push(bstate *b, tlist *tl, sql_bexpr *e, const char *name)
{
    if (!b_grow(b, (void **)&tl->c, &tl->cap, tl->n + 1, sizeof(tcol)))
        return false;
    tl->c[tl->n].e = e;
    tl->c[tl->n].name = b_strdup(b, name);
    if (name && !tl->c[tl->n].name)
        return false;
    tl->n++;
    return true;
}

typedef struct skey {
    int col;
    bool desc, nulls_first;
} skey;

/* ---- WITH ------------------------------------------------------------- */

static int register_ctes(bstate *b, blevel *lv, const sql_select *q)
{
    if (!q->with)
        return DC_OK;
    if (q->recursive)
        return b_error_at(b, q->pos, DC_EUNSUPPORTED, "0A000",
                          "WITH RECURSIVE is not supported");
    for (size_t i = 0; i < q->with->len; i++) {
        const sql_cte *c = q->with->items[i];
        for (cte_def *d = lv->ctes; d; d = d->next)
            if (d->cte && i > 0 && !strcmp(d->name, c->name)) {
                bool same_list = false;
                for (size_t k = 0; k < i; k++)
                    same_list |= q->with->items[k] == d->cte;
                if (same_list)
                    return b_error_at(b, q->pos, DC_EEXIST, "42712",
                                      "WITH query name \"%s\" specified "
                                      "more than once", c->name);
            }
        if (c->stmt->kind != STMT_SELECT)
            return b_error_at(b, c->stmt->pos, DC_EUNSUPPORTED, "0A000",
                              "data-modifying statements in WITH are not "
                              "supported");
        cte_def *d = b_alloc(b, sizeof *d);
        if (!d)
            return DC_ENOMEM;
        d->name = c->name;
        d->cte = c;
        d->next = lv->ctes;
        lv->ctes = d;
    }
    return DC_OK;
}

/* ---- select list -------------------------------------------------------- */

static const rte *level_rte(blevel *lv, const char *alias)
{
    for (int i = lv->nrtes - 1; i >= 0; i--)
        if (lv->rtes[i]->alias && !strcmp(lv->rtes[i]->alias, alias))
            return lv->rtes[i];
    return NULL;
}

static int expand_star(bstate *b, blevel *lv, const sql_expr *e, tlist *tl)
{
    if (e->u.col.nnames == 0) {
        if (lv->nfrom == 0)
            return b_error_at(b, e->pos, DC_EINVAL, "42601",
                              "SELECT * with no tables specified is not "
                              "valid");
        for (int f = 0; f < lv->nfrom; f++)
            for (int i = 0; i < lv->from[f]->nvis; i++)
                if (!tl_push(b, tl, lv->from[f]->vis[i].expr,
                             lv->from[f]->vis[i].name))
                    return DC_ENOMEM;
        return DC_OK;
    }
    const char *rel = e->u.col.names[e->u.col.nnames - 1];
    const rte *r = level_rte(lv, rel);
    if (!r)
        return b_error_at(b, e->pos, DC_ENOTFOUND, "42P01",
                          "missing FROM-clause entry for table \"%s\"", rel);
    for (int i = 0; i < r->ncols; i++)
        if (!tl_push(b, tl, r->cols[i].expr, r->cols[i].name))
            return DC_ENOMEM;
    return DC_OK;
}

static int bind_targets(bstate *b, blevel *lv, const sql_select *q,
                        tlist *tl, bool finalize)
{
    for (size_t i = 0; i < SQL_LIST_LEN(q->targets); i++) {
        const sql_target *t = q->targets->items[i];
        if (t->expr->kind == EXPR_COLUMN && t->expr->u.col.star) {
            if (expand_star(b, lv, t->expr, tl) != DC_OK)
                return DC_ERR;
            continue;
        }
        sql_bexpr *e = bind_expr(b, lv, t->expr);
        if (e && finalize)
            e = finalize_unknown(b, e);
        if (!e || !tl_push(b, tl, e, t->alias ? t->alias
                                               : expr_colname(t->expr)))
            return DC_ERR;
    }
    return DC_OK;
}

/* Is `name` a column of the level's FROM clause? */
static bool is_input_column(blevel *lv, const char *name)
{
    for (int f = 0; f < lv->nfrom; f++)
        for (int i = 0; i < lv->from[f]->nvis; i++)
            if (!strcmp(lv->from[f]->vis[i].name, name))
                return true;
    return false;
}

static bool const_pos(const sql_expr *e, int64_t *pos)
{
    if (e->kind == EXPR_CONST && e->u.c.kind == CONST_INT) {
        *pos = e->u.c.i;
        return true;
    }
    return false;
}

static const char *bare_name(const sql_expr *e)
{
    if (e->kind == EXPR_COLUMN && !e->u.col.star && e->u.col.nnames == 1)
        return e->u.col.names[0];
    return NULL;
}

/* ---- GROUP BY -------------------------------------------------------------- */

static int bind_group(bstate *b, blevel *lv, const sql_select *q, tlist *tl,
                      sql_bexpr ***out, int *nout)
{
    int n = (int)SQL_LIST_LEN(q->group_by), ng = 0;
    sql_bexpr **g = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(n + 1));
    if (!g)
        return DC_ENOMEM;
    for (int i = 0; i < n; i++) {
        const sql_expr *a = q->group_by->items[i];
        sql_bexpr *e = NULL;
        int64_t pos;
        const char *nm = bare_name(a);
        if (const_pos(a, &pos)) {
            if (pos < 1 || pos > tl->n)
                return b_error_at(b, a->pos, DC_EINVAL, "42P10",
                                  "GROUP BY position %lld is not in select "
                                  "list", (long long)pos);
            e = tl->c[pos - 1].e;
        } else if (nm && !is_input_column(lv, nm)) {
            for (int k = 0; k < tl->n && !e; k++)
                if (tl->c[k].name && !strcmp(tl->c[k].name, nm))
                    e = tl->c[k].e;
        }
        if (!e) {
            const char *saved = lv->agg_forbidden;
            lv->agg_forbidden = "GROUP BY";
            e = finalize_unknown(b, bind_expr(b, lv, a));
            lv->agg_forbidden = saved;
            if (!e)
                return DC_ERR;
        }
        if (bx_has_aggref(e))
            return b_error_at(b, a->pos, DC_EINVAL, "42803",
                              "aggregate functions are not allowed in GROUP "
                              "BY");
        bool dup = false;
        for (int k = 0; k < ng; k++)
            dup |= bx_equal(g[k], e);
        if (!dup)
            g[ng++] = e;
    }
    *out = g;
    *nout = ng;
    return DC_OK;
}

/* ---- ORDER BY / DISTINCT ON --------------------------------------------------- */

/* Resolve a sort expression to a column of tl, adding a junk column when
 * it is not in the select list.  *col gets the index. */
static int resolve_sort_expr(bstate *b, blevel *lv, const sql_expr *a,
                             tlist *tl, int nvisible, bool distinct,
                             const char *clause, int *col)
{
    int64_t pos;
    if (const_pos(a, &pos)) {
        if (pos < 1 || pos > nvisible)
            return b_error_at(b, a->pos, DC_EINVAL, "42P10",
                              "%s position %lld is not in select list",
                              clause, (long long)pos);
        *col = (int)pos - 1;
        return DC_OK;
    }
    const char *nm = bare_name(a);
    if (nm) {
        int found = -1;
        for (int k = 0; k < nvisible; k++) {
            if (!tl->c[k].name || strcmp(tl->c[k].name, nm))
                continue;
            if (found >= 0 && !bx_equal(tl->c[found].e, tl->c[k].e))
                return b_error_at(b, a->pos, DC_EINVAL, "42702",
                                  "%s \"%s\" is ambiguous", clause, nm);
            if (found < 0)
                found = k;
        }
        if (found >= 0) {
            *col = found;
            return DC_OK;
        }
    }
    sql_bexpr *e = finalize_unknown(b, bind_expr(b, lv, a));
    if (!e)
        return DC_ERR;
    for (int k = 0; k < tl->n; k++)
        if (bx_equal(tl->c[k].e, e)) {
            *col = k;
            return DC_OK;
        }
    if (distinct)
        return b_error_at(b, a->pos, DC_EINVAL, "42P10",
                          "for SELECT DISTINCT, ORDER BY expressions must "
                          "appear in select list");
    /* a junk column: its name only shows in EXPLAIN's sort key */
    char *text = sql_expr_to_string(a);
    bool ok = tl_push(b, tl, e, text);
    free(text);
    if (!ok)
        return DC_ENOMEM;
    *col = tl->n - 1;
    return DC_OK;
}

static int bind_order(bstate *b, blevel *lv, sql_list *order, tlist *tl,
                      int nvisible, bool distinct, skey **out, int *nout)
{
    int n = (int)SQL_LIST_LEN(order);
    skey *k = b_alloc(b, sizeof(skey) * (size_t)(n + 1));
    if (!k)
        return DC_ENOMEM;
    for (int i = 0; i < n; i++) {
        const sql_sortby *sb = order->items[i];
        if (resolve_sort_expr(b, lv, sb->expr, tl, nvisible, distinct,
                              "ORDER BY", &k[i].col) != DC_OK)
            return DC_ERR;
        k[i].desc = sb->dir == SORT_DESC;
        k[i].nulls_first = sb->nulls == NULLS_DEFAULT ? k[i].desc
                                                      : sb->nulls == NULLS_FIRST;
    }
    *out = k;
    *nout = n;
    return DC_OK;
}

/* ---- grouping -------------------------------------------------------------------- */

typedef struct aggctx {
    sql_bexpr **group;
    int ngroup;
} aggctx;

/* An expression over the level's global row, rewritten over PL_AGG's
 * output (group keys, then aggregates). */
static sql_bexpr *post_agg(bstate *b, const aggctx *ac, sql_bexpr *e)
{
    for (int i = 0; i < ac->ngroup; i++)
        if (bx_equal(ac->group[i], e)) {
            sql_bexpr *c = bx_col(b, i, e->type, e->typmod);
            if (c)
                BX(c)->pos = BX(e)->pos;
            return c;
        }
    if (BX(e)->aggref)
        return bx_col(b, ac->ngroup + BX(e)->aggref - 1, e->type, e->typmod);
    switch (e->kind) {
    case SX_COL:
        b_error_at(b, BX(e)->pos, DC_EINVAL, "42803",
                   "column \"%s\" must appear in the GROUP BY clause or be "
                   "used in an aggregate function",
                   BX(e)->colname ? BX(e)->colname : "?");
        return NULL;
    case SX_CONST: case SX_PARAM: case SX_OUTER: case SX_CASE_TEST:
        return e;
    default:
        break;
    }
    sql_bexpr *c = bx_copy(b, e);
    if (!c)
        return NULL;
    for (int i = 0; i < e->nargs; i++)
        if (!(c->args[i] = post_agg(b, ac, e->args[i])))
            return NULL;
    if (e->kind == SX_SUBPLAN && e->sub.lhs &&
        !(c->sub.lhs = post_agg(b, ac, e->sub.lhs)))
        return NULL;
    return c;
}

/* ---- functional dependency on a primary key ---------------------------- */

static const leaf *leaf_of(const fnode *fn, int g)
{
    if (!fn->is_join)
        return g >= fn->lf->gbase && g < fn->lf->gbase + fn->lf->ncols
                   ? fn->lf : NULL;
    const leaf *l = leaf_of(fn->l, g);
    return l ? l : leaf_of(fn->r, g);
}

static bool group_has_col(sql_bexpr **group, int ngroup, int g)
{
    for (int i = 0; i < ngroup; i++)
        if (group[i]->kind == SX_COL && !BX(group[i])->aggref &&
            group[i]->index == g)
            return true;
    return false;
}

typedef struct fdctx {
    bstate *b;
    blevel *lv;
    sql_bexpr **group;
    int ngroup, cap;
    bool oom;
} fdctx;

/* A column of a table whose whole primary key is grouped is grouped too
 * (PostgreSQL's functional dependency rule): add it as a group key. */
static void fd_cb(void *ud, int g)
{
    fdctx *fc = ud;
    if (fc->oom || group_has_col(fc->group, fc->ngroup, g))
        return;
    const leaf *lf = NULL;
    for (int f = 0; f < fc->lv->nfrom && !lf; f++)
        lf = leaf_of(fc->lv->from[f], g);
    if (!lf || lf->kind != LF_TABLE || !lf->table->pkey ||
        g - lf->gbase >= lf->table->natts)
        return;
    const sql_index *pk = lf->table->pkey;
    for (int k = 0; k < pk->ncols; k++)
        if (!group_has_col(fc->group, fc->ngroup,
                           lf->gbase + pk->attnums[k] - 1))
            return;
    const sql_column *c = &lf->table->cols[g - lf->gbase];
    sql_bexpr *e = bx_col(fc->b, g, c->type, c->typmod);
    if (!e || !b_grow(fc->b, (void **)&fc->group, &fc->cap, fc->ngroup + 1,
                      sizeof(sql_bexpr *))) {
        fc->oom = true;
        return;
    }
    fc->group[fc->ngroup++] = e;
}

static int add_fd_groups(bstate *b, blevel *lv, sql_bexpr ***group,
                         int *ngroup, const tlist *tl, const sql_bexpr *having)
{
    if (!*ngroup)
        return DC_OK;
    fdctx fc = {b, lv, NULL, 0, 0, false};
    if (!b_grow(b, (void **)&fc.group, &fc.cap, *ngroup + 1,
                sizeof(sql_bexpr *)))
        return DC_ENOMEM;
    memcpy(fc.group, *group, sizeof(sql_bexpr *) * (size_t)*ngroup);
    fc.ngroup = *ngroup;
    for (int i = 0; i < tl->n; i++)
        bx_refs(tl->c[i].e, fd_cb, &fc);
    bx_refs(having, fd_cb, &fc);
    if (fc.oom)
        return DC_ENOMEM;
    *group = fc.group;
    *ngroup = fc.ngroup;
    return DC_OK;
}

static sql_plan *build_agg(bstate *b, blevel *lv, const pplan *pp,
                           sql_bexpr **group, int ngroup)
{
    int ng = lv->nglobal;
    int *inv = pplan_inverse(b, pp, ng);
    sql_plan *p = inv ? plan_new(b, PL_AGG, ngroup + lv->naggs) : NULL;
    if (!p)
        return NULL;
    p->left = pp->p;
    p->u.agg.hashed = ngroup > 0;
    p->u.agg.ngroup = ngroup;
    p->u.agg.group = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(ngroup + 1));
    p->u.agg.naggs = lv->naggs;
    p->u.agg.aggs = b_alloc(b, sizeof(sql_aggcall) * (size_t)(lv->naggs + 1));
    if (!p->u.agg.group || !p->u.agg.aggs)
        return NULL;
    for (int i = 0; i < ngroup; i++) {
        if (!(p->u.agg.group[i] = bx_remap(b, group[i], inv, ng)))
            return NULL;
        p->types[i] = group[i]->type;
        p->typmods[i] = group[i]->typmod;
    }
    for (int j = 0; j < lv->naggs; j++) {
        sql_aggcall a = lv->aggs[j];
        sql_bexpr **args = b_alloc(b, sizeof(sql_bexpr *) *
                                          (size_t)(a.nargs + 1));
        if (!args)
            return NULL;
        for (int k = 0; k < a.nargs; k++)
            if (!(args[k] = bx_remap(b, a.args[k], inv, ng)))
                return NULL;
        a.args = args;
        if (a.filter && !(a.filter = bx_remap(b, a.filter, inv, ng)))
            return NULL;
        if (a.norder) {
            sql_sortkey *o = b_alloc(b, sizeof(sql_sortkey) *
                                            (size_t)a.norder);
            if (!o)
                return NULL;
            for (int k = 0; k < a.norder; k++) {
                o[k] = a.order[k];
                if (!(o[k].expr = bx_remap(b, a.order[k].expr, inv, ng)))
                    return NULL;
            }
            a.order = o;
        }
        p->u.agg.aggs[j] = a;
        p->types[ngroup + j] = a.agg.rettype;
        p->typmods[ngroup + j] = a.agg.rettypmod;
        p->names[ngroup + j] = (char *)a.agg.name;
    }
    double in = pp->p->est_rows;
    p->est_rows = ngroup ? (in / 10 < 1 ? 1 : in / 10) : 1;
    return p;
}

/* ---- sort and limit ------------------------------------------------------------------- */

static sql_plan *copy_shape(bstate *b, sql_plan_kind kind, sql_plan *child)
{
    sql_plan *p = plan_new(b, kind, child->ncols);
    if (!p)
        return NULL;
    memcpy(p->types, child->types, sizeof(uint32_t) * (size_t)child->ncols);
    memcpy(p->typmods, child->typmods, sizeof(int32_t) * (size_t)child->ncols);
    memcpy(p->names, child->names, sizeof(char *) * (size_t)child->ncols);
    p->left = child;
    p->est_rows = child->est_rows;
    return p;
}

static sql_plan *make_sort(bstate *b, sql_plan *child, int n,
                           sql_sortkey *keys)
{
    sql_plan *p = copy_shape(b, PL_SORT, child);
    if (!p)
        return NULL;
    p->u.sort.nkeys = n;
    p->u.sort.keys = keys;
    sql_buf buf;
    sql_buf_init(&buf);
    bool ok = sql_buf_append(&buf, "Sort Key: ", 10, NULL) == DC_OK;
    for (int i = 0; i < n && ok; i++) {
        const char *nm = "?column?";
        if (keys[i].expr->kind == SX_COL && keys[i].expr->index < child->ncols)
            nm = child->names[keys[i].expr->index];
        if (i)
            ok = sql_buf_append(&buf, ", ", 2, NULL) == DC_OK;
        if (ok)
            ok = sql_buf_append(&buf, nm, strlen(nm), NULL) == DC_OK;
        if (ok && keys[i].desc)
            ok = sql_buf_append(&buf, " DESC", 5, NULL) == DC_OK;
        if (ok && keys[i].nulls_first != keys[i].desc) {
            const char *nl = keys[i].nulls_first ? " NULLS FIRST" : " NULLS LAST";
            ok = sql_buf_append(&buf, nl, strlen(nl), NULL) == DC_OK;
        }
    }
    if (ok)
        p->explain = sql_arena_strndup(b->arena, (const char *)buf.data,
                                       buf.len);
    sql_buf_free(&buf);
    return p;
}

static sql_sortkey *sortkeys(bstate *b, const sql_plan *child, const skey *k,
                             int n)
{
    sql_sortkey *keys = b_alloc(b, sizeof(sql_sortkey) * (size_t)(n + 1));
    if (!keys)
        return NULL;
    for (int i = 0; i < n; i++) {
        int c = k[i].col;
        if (!(keys[i].expr = bx_col(b, c, child->types[c], child->typmods[c])))
            return NULL;
        keys[i].desc = k[i].desc;
        keys[i].nulls_first = k[i].nulls_first;
    }
    return keys;
}

/* LIMIT / OFFSET expression into *out (NULL for LIMIT NULL / ALL). */
static int bind_limit_expr(bstate *b, blevel *lv, const sql_expr *e,
                           const char *what, sql_bexpr **out)
{
    *out = NULL;
    if (!e)
        return DC_OK;
    blevel *ll = level_new(b, lv->parent, lv->owner);
    if (!ll)
        return DC_ENOMEM;
    ll->ctes = lv->ctes;
    ll->agg_forbidden = what;
    sql_bexpr *x = bind_expr(b, ll, e);
    if (!x)
        return DC_ERR;
    if (x->kind == SX_CONST && x->value.is_null && x->type == DC_TYPE_UNKNOWN)
        return DC_OK; /* LIMIT NULL: no limit */
    if (x->kind == SX_CONST && !x->value.is_null &&
        (x->type == DC_TYPE_INT4 || x->type == DC_TYPE_INT2)) {
        /* a constant stays a constant (the scan limit reads it) */
        *out = bx_const(b, sql_value_int(DC_TYPE_INT8, x->value.u.i));
        return *out ? DC_OK : DC_ENOMEM;
    }
    if (!(*out = coerce(b, x, DC_TYPE_INT8, -1, SQL_CAST_IMPLICIT, e->pos)))
        return DC_ERR;
    return DC_OK;
}

/* A constant LIMIT over projections of a plain scan stops the scan after
 * limit + offset qualifying rows. */
static void push_limit(sql_plan *p, const sql_bexpr *limit,
                       const sql_bexpr *offset)
{
    if (limit->kind != SX_CONST || limit->value.is_null ||
        (offset && (offset->kind != SX_CONST || offset->value.is_null)))
        return;
    int64_t n = limit->value.u.i, off = offset ? offset->value.u.i : 0;
    if (n < 0 || off < 0 || n > INT64_MAX - off)
        return;
    while (p && p->kind == PL_PROJECT)
        p = p->left;
    if (p && (p->kind == PL_SCAN || p->kind == PL_INDEXSCAN) &&
        !p->u.scan.emit_key)
        p->u.scan.limit = n + off;
}

/* Sort (keys over p's row), then OFFSET / LIMIT of q. */
static sql_plan *sort_and_limit(bstate *b, blevel *lv, const sql_select *q,
                                sql_plan *p, sql_sortkey *keys, int nkeys)
{
    sql_bexpr *limit = NULL, *offset = NULL;
    if (bind_limit_expr(b, lv, q->limit, "LIMIT", &limit) != DC_OK ||
        bind_limit_expr(b, lv, q->offset, "OFFSET", &offset) != DC_OK)
        return NULL;
    if (nkeys) {
        if (!(p = make_sort(b, p, nkeys, keys)))
            return NULL;
        p->u.sort.limit = limit;
        p->u.sort.offset = limit ? offset : NULL;
    }
    if (limit && !nkeys)
        push_limit(p, limit, offset);
    if (limit || offset) {
        sql_plan *l = copy_shape(b, PL_LIMIT, p);
        if (!l)
            return NULL;
        l->u.limit.limit = limit;
        l->u.limit.offset = offset;
        if (limit && limit->kind == SX_CONST && !limit->value.is_null &&
            limit->value.u.i < l->est_rows)
            l->est_rows = limit->value.u.i < 1 ? 1 : (double)limit->value.u.i;
        p = l;
    }
    return p;
}

/* ---- SELECT ----------------------------------------------------------------------------- */

int bind_where_conj(bstate *b, blevel *lv, const sql_expr *w, conj **cj,
                      int *n)
{
    int cap = 0;
    *n = 0;
    *cj = NULL;
    if (!w)
        return DC_OK;
    lv->agg_forbidden = "WHERE";
    int parts = w->kind == EXPR_AND ? (int)SQL_LIST_LEN(w->u.args) : 1;
    for (int i = 0; i < parts; i++) {
        const sql_expr *a = w->kind == EXPR_AND ? w->u.args->items[i] : w;
        sql_bexpr *e = coerce_bool(b, bind_expr(b, lv, a), "WHERE", a->pos);
        if (!e || split_conj(b, e, a, cj, n, &cap) != DC_OK)
            return DC_ERR;
    }
    lv->agg_forbidden = NULL;
    return DC_OK;
}

/* Check DISTINCT ON against ORDER BY and build the sort keys. */
static int distinct_on_keys(bstate *b, const sql_select *q, const int *don,
                            int ndon, skey **ord, int *nord)
{
    int n = *nord;
    for (int i = 0; i < n && i < ndon; i++) {
        bool in = false;
        for (int k = 0; k < ndon; k++)
            in |= (*ord)[i].col == don[k];
        if (!in) {
            const sql_sortby *sb = q->order_by->items[i];
            return b_error_at(b, sb->expr->pos, DC_EINVAL, "42P10",
                              "SELECT DISTINCT ON expressions must match "
                              "initial ORDER BY expressions");
        }
    }
    skey *k = b_alloc(b, sizeof(skey) * (size_t)(n + ndon + 1));
    if (!k)
        return DC_ENOMEM;
    memcpy(k, *ord, sizeof(skey) * (size_t)n);
    int nk = n;
    for (int d = 0; d < ndon; d++) {
        bool have = false;
        for (int i = 0; i < nk; i++)
            have |= k[i].col == don[d];
        if (!have) {
            k[nk].col = don[d];
            k[nk].desc = false;
            k[nk++].nulls_first = false;
        }
    }
    *ord = k;
    *nord = nk;
    return DC_OK;
}

static sql_plan *bind_simple(bstate *b, blevel *lv, const sql_select *q)
{
    if (bind_from_list(b, lv, q->from) != DC_OK)
        return NULL;
    conj *cj;
    int ncj;
    if (bind_where_conj(b, lv, q->where, &cj, &ncj) != DC_OK)
        return NULL;
    bool finalize = !lv->keep_unknown || q->distinct || q->group_by ||
                    q->order_by;
    tlist tl = {0, 0, NULL};
    if (bind_targets(b, lv, q, &tl, finalize) != DC_OK)
        return NULL;
    int nvisible = tl.n;
    sql_bexpr **group = NULL;
    int ngroup = 0;
    if (bind_group(b, lv, q, &tl, &group, &ngroup) != DC_OK)
        return NULL;
    sql_bexpr *having = NULL;
    if (q->having && !(having = coerce_bool(b, bind_expr(b, lv, q->having),
                                            "HAVING", q->having->pos)))
        return NULL;
    /* DISTINCT ON columns, then ORDER BY */
    int ndon = (int)SQL_LIST_LEN(q->distinct_on);
    int *don = b_alloc(b, sizeof(int) * (size_t)(ndon + 1));
    if (!don)
        return NULL;
    for (int i = 0; i < ndon; i++)
        if (resolve_sort_expr(b, lv, q->distinct_on->items[i], &tl, nvisible,
                              false, "DISTINCT ON", &don[i]) != DC_OK)
            return NULL;
    skey *ord;
    int nord;
    if (bind_order(b, lv, q->order_by, &tl, nvisible, q->distinct && !ndon,
                   &ord, &nord) != DC_OK)
        return NULL;
    if (ndon && distinct_on_keys(b, q, don, ndon, &ord, &nord) != DC_OK)
        return NULL;
    /* FROM + WHERE */
    pplan pp;
    if (plan_level_from(b, lv, ncj, cj, &pp) != DC_OK)
        return NULL;
    sql_bexpr **exprs = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(tl.n + 1));
    char **names = b_alloc(b, sizeof(char *) * (size_t)(tl.n + 1));
    if (!exprs || !names)
        return NULL;
    for (int i = 0; i < tl.n; i++)
        names[i] = tl.c[i].name ? tl.c[i].name : "?column?";
    sql_plan *input = pp.p;
    if (ngroup || lv->naggs || having) {
        if (add_fd_groups(b, lv, &group, &ngroup, &tl, having) != DC_OK)
            return NULL;
        aggctx ac = {group, ngroup};
        if (!(input = build_agg(b, lv, &pp, group, ngroup)))
            return NULL;
        if (q->group_by) {
            const sql_expr **asts = b_alloc(b, sizeof(sql_expr *) *
                                                   q->group_by->len);
            if (!asts)
                return NULL;
            for (size_t i = 0; i < q->group_by->len; i++)
                asts[i] = q->group_by->items[i];
            input->explain = explain_list(b, "Group Key", asts,
                                          (int)q->group_by->len);
        }
        for (int i = 0; i < tl.n; i++)
            if (!(exprs[i] = post_agg(b, &ac, tl.c[i].e)))
                return NULL;
        if (having) {
            sql_plan *f = copy_shape(b, PL_FILTER, input);
            if (!f || !(f->u.filter.qual = post_agg(b, &ac, having)))
                return NULL;
            f->explain = explain_add(b, NULL, "Filter", q->having);
            f->est_rows = input->est_rows / 3 < 1 ? 1 : input->est_rows / 3;
            input = f;
        }
    } else {
        int *inv = pplan_inverse(b, &pp, lv->nglobal);
        if (!inv)
            return NULL;
        for (int i = 0; i < tl.n; i++)
            if (!(exprs[i] = bx_remap(b, tl.c[i].e, inv, lv->nglobal)))
                return NULL;
    }
    if (input->kind == PL_PROJECT && input->ncols == 0 && !input->left)
        input = NULL; /* no FROM: one row */
    sql_plan *p = plan_project(b, input, tl.n, exprs, names);
    if (!p)
        return NULL;
    if (q->distinct && !ndon) {
        if (!(p = copy_shape(b, PL_DISTINCT, p)))
            return NULL;
        p->est_rows = p->est_rows / 2 < 1 ? 1 : p->est_rows / 2;
    }
    sql_sortkey *keys = sortkeys(b, p, ord, nord);
    if (!keys)
        return NULL;
    if (ndon) {
        /* sort, keep the first row of each DISTINCT ON group: the group
         * columns go first so PL_DISTINCT can compare a prefix */
        int n2 = ndon + tl.n;
        sql_bexpr **e2 = b_alloc(b, sizeof(sql_bexpr *) * (size_t)n2);
        char **nm2 = b_alloc(b, sizeof(char *) * (size_t)n2);
        if (!e2 || !nm2)
            return NULL;
        for (int i = 0; i < ndon; i++) {
            e2[i] = exprs[don[i]];
            nm2[i] = names[don[i]];
        }
        for (int i = 0; i < tl.n; i++) {
            e2[ndon + i] = exprs[i];
            nm2[ndon + i] = names[i];
        }
        if (!(p = plan_project(b, input, n2, e2, nm2)))
            return NULL;
        for (int i = 0; i < nord; i++)
            ord[i].col += ndon;
        if (!(keys = sortkeys(b, p, ord, nord)) ||
            !(p = make_sort(b, p, nord, keys)) ||
            !(p = copy_shape(b, PL_DISTINCT, p)))
            return NULL;
        p->u.distinct.ndistinct_on = ndon;
        nord = 0;
        sql_bexpr **e3 = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(tl.n + 1));
        if (!e3)
            return NULL;
        for (int i = 0; i < tl.n; i++)
            if (!(e3[i] = bx_col(b, ndon + i, p->types[ndon + i],
                                 p->typmods[ndon + i])))
                return NULL;
        if (!(p = plan_project(b, p, tl.n, e3, names)))
            return NULL;
    }
    if (!(p = sort_and_limit(b, lv, q, p, keys, nord)))
        return NULL;
    if (tl.n > nvisible) {
        sql_bexpr **e4 = b_alloc(b, sizeof(sql_bexpr *) *
                                        (size_t)(nvisible + 1));
        if (!e4)
            return NULL;
        for (int i = 0; i < nvisible; i++)
            if (!(e4[i] = bx_col(b, i, p->types[i], p->typmods[i])))
                return NULL;
        if (!(p = plan_project(b, p, nvisible, e4, names)))
            return NULL;
    }
    return p;
}

/* ---- VALUES ----------------------------------------------------------------------- */

static sql_plan *bind_values(bstate *b, blevel *lv, const sql_select *q)
{
    int nrows = (int)SQL_LIST_LEN(q->values);
    const sql_list *first = q->values->items[0];
    int ncols = (int)SQL_LIST_LEN(first);
    sql_plan *p = plan_new(b, PL_VALUES, ncols);
    if (!p)
        return NULL;
    p->u.values.nrows = nrows;
    p->u.values.rows = b_alloc(b, sizeof(sql_bexpr **) * (size_t)nrows);
    sql_bexpr **col = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(nrows + 1));
    if (!p->u.values.rows || !col)
        return NULL;
    for (int r = 0; r < nrows; r++) {
        const sql_list *row = q->values->items[r];
        if ((int)SQL_LIST_LEN(row) != ncols) {
            const sql_expr *e0 = row->items[0];
            b_error_at(b, e0->pos, DC_EINVAL, "42601",
                       "VALUES lists must all be the same length");
            return NULL;
        }
        p->u.values.rows[r] = b_alloc(b, sizeof(sql_bexpr *) *
                                             (size_t)(ncols + 1));
        if (!p->u.values.rows[r])
            return NULL;
        for (int c = 0; c < ncols; c++)
            if (!(p->u.values.rows[r][c] = bind_expr(b, lv, row->items[c])))
                return NULL;
    }
    for (int c = 0; c < ncols; c++) {
        bool all_unknown = true;
        for (int r = 0; r < nrows; r++) {
            col[r] = p->u.values.rows[r][c];
            all_unknown &= col[r]->type == DC_TYPE_UNKNOWN;
        }
        uint32_t t = DC_TYPE_UNKNOWN;
        if (!(all_unknown && lv->keep_unknown) &&
            resolve_common(b, "VALUES", nrows, col, &t, q->pos) != DC_OK)
            return NULL;
        for (int r = 0; r < nrows; r++)
            if (!(p->u.values.rows[r][c] =
                      coerce(b, col[r], t, -1, SQL_CAST_IMPLICIT, q->pos)))
                return NULL;
        p->types[c] = t;
        char nm[32];
        snprintf(nm, sizeof nm, "column%d", c + 1);
        if (!(p->names[c] = b_strdup(b, nm)))
            return NULL;
    }
    p->est_rows = nrows;
    return p;
}

/* ---- set operations ------------------------------------------------------------------- */

sql_plan *coerce_plan_col(bstate *b, sql_plan *p, int i, uint32_t type,
                          int32_t typmod, int cctx, const char *colname,
                          int pos)
{
    if (p->types[i] == type && (typmod < 0 || p->typmods[i] == typmod))
        return p;
    if (p->kind == PL_PROJECT || p->kind == PL_VALUES) {
        int n = p->kind == PL_PROJECT ? 1 : p->u.values.nrows;
        for (int r = 0; r < n; r++) {
            sql_bexpr **slot = p->kind == PL_PROJECT ? &p->u.project.exprs[i]
                                                     : &p->u.values.rows[r][i];
            sql_bexpr *e = cctx == SQL_CAST_ASSIGNMENT
                               ? coerce_assign(b, *slot, type, typmod, colname,
                                               pos)
                               : coerce(b, *slot, type, typmod, cctx, pos);
            if (!e)
                return NULL;
            *slot = e;
        }
        p->types[i] = type;
        p->typmods[i] = typmod;
        return p;
    }
    sql_bexpr **ex = b_alloc(b, sizeof(sql_bexpr *) * (size_t)p->ncols);
    if (!ex)
        return NULL;
    for (int k = 0; k < p->ncols; k++)
        if (!(ex[k] = bx_col(b, k, p->types[k], p->typmods[k])))
            return NULL;
    sql_bexpr *e = ex[i];
    if (e->type == DC_TYPE_UNKNOWN)
        e->type = DC_TYPE_TEXT;
    ex[i] = cctx == SQL_CAST_ASSIGNMENT
                ? coerce_assign(b, e, type, typmod, colname, pos)
                : coerce(b, e, type, typmod, cctx, pos);
    if (!ex[i])
        return NULL;
    return plan_project(b, p, p->ncols, ex, p->names);
}

static sql_plan *bind_setop(bstate *b, blevel *lv, const sql_select *q)
{
    static const char *const names[] = {
        [SELECT_UNION] = "UNION", [SELECT_INTERSECT] = "INTERSECT",
        [SELECT_EXCEPT] = "EXCEPT"};
    const char *what = names[q->op];
    sql_plan *arms[2];
    const sql_select *src[2] = {q->larg, q->rarg};
    for (int s = 0; s < 2; s++) {
        blevel *al = level_new(b, lv->parent, lv->owner);
        if (!al)
            return NULL;
        al->ctes = lv->ctes;
        al->keep_unknown = true;
        if (!(arms[s] = bind_query(b, al, src[s])))
            return NULL;
    }
    if (arms[0]->ncols != arms[1]->ncols) {
        int pos = q->rarg->pos;
        if (q->rarg->op == SELECT_SIMPLE && SQL_LIST_LEN(q->rarg->targets))
            pos = ((const sql_target *)q->rarg->targets->items[0])->pos;
        b_error_at(b, pos, DC_EINVAL, "42601",
                   "each %s query must have the same number of columns",
                   what);
        return NULL;
    }
    int n = arms[0]->ncols;
    sql_plan *p = plan_new(b, PL_SETOP, n);
    if (!p)
        return NULL;
    for (int c = 0; c < n; c++) {
        uint32_t types[2] = {arms[0]->types[c], arms[1]->types[c]}, t;
        if (sql_common_type(what, 2, types, &t, b->err) != DC_OK) {
            if (b->err && b->err->position == 0)
                b->err->position = q->rarg->pos;
            return NULL;
        }
        if (t == DC_TYPE_UNKNOWN)
            t = DC_TYPE_TEXT;
        int32_t tm = arms[0]->typmods[c] == arms[1]->typmods[c]
                         ? arms[0]->typmods[c] : -1;
        for (int s = 0; s < 2; s++)
            if (!(arms[s] = coerce_plan_col(b, arms[s], c, t,
                                            arms[s]->types[c] == t ? -1 : tm,
                                            SQL_CAST_IMPLICIT, NULL,
                                            q->pos)))
                return NULL;
        p->types[c] = t;
        p->typmods[c] = tm;
        p->names[c] = arms[0]->names[c];
    }
    p->left = arms[0];
    p->right = arms[1];
    p->u.setop.op = q->op == SELECT_UNION ? SETOP_UNION
                    : q->op == SELECT_INTERSECT ? SETOP_INTERSECT
                                                : SETOP_EXCEPT;
    p->u.setop.all = q->all;
    double l = arms[0]->est_rows, r = arms[1]->est_rows;
    p->est_rows = p->u.setop.op == SETOP_UNION ? l + r
                  : p->u.setop.op == SETOP_INTERSECT ? (l < r ? l : r) : l;
    return p;
}

/* ORDER BY / LIMIT over the output of VALUES or a set operation: names
 * and positions of the output columns, or expressions over them. */
static sql_plan *order_over_output(bstate *b, blevel *lv, const sql_select *q,
                                   sql_plan *p)
{
    int nord = (int)SQL_LIST_LEN(q->order_by);
    sql_sortkey *keys = NULL;
    if (nord) {
        blevel *ol = level_new(b, lv->parent, lv->owner);
        fnode *fn = b_alloc(b, sizeof *fn);
        keys = b_alloc(b, sizeof(sql_sortkey) * (size_t)nord);
        if (!ol || !fn || !keys)
            return NULL;
        ol->ctes = lv->ctes;
        fn->nvis = p->ncols;
        fn->vis = b_alloc(b, sizeof(nscol) * (size_t)(p->ncols + 1));
        if (!fn->vis)
            return NULL;
        for (int i = 0; i < p->ncols; i++) {
            fn->vis[i].name = p->names[i];
            if (!(fn->vis[i].expr = bx_col(b, i, p->types[i], p->typmods[i])))
                return NULL;
            BX(fn->vis[i].expr)->colname = p->names[i];
        }
        ol->from = &fn;
        ol->nfrom = 1;
        ol->nglobal = p->ncols;
        for (int i = 0; i < nord; i++) {
            const sql_sortby *sb = q->order_by->items[i];
            int64_t pos;
            sql_bexpr *e;
            if (const_pos(sb->expr, &pos)) {
                if (pos < 1 || pos > p->ncols) {
                    b_error_at(b, sb->expr->pos, DC_EINVAL, "42P10",
                               "ORDER BY position %lld is not in select list",
                               (long long)pos);
                    return NULL;
                }
                e = bx_col(b, (int)pos - 1, p->types[pos - 1],
                           p->typmods[pos - 1]);
            } else {
                e = finalize_unknown(b, bind_expr(b, ol, sb->expr));
            }
            if (!e)
                return NULL;
            keys[i].expr = e;
            keys[i].desc = sb->dir == SORT_DESC;
            keys[i].nulls_first = sb->nulls == NULLS_DEFAULT
                                      ? keys[i].desc : sb->nulls == NULLS_FIRST;
        }
        ol->from = NULL;
    }
    return sort_and_limit(b, lv, q, p, keys, nord);
}

sql_plan *bind_query(bstate *b, blevel *lv, const sql_select *q)
{
    if (++b->depth > 200) {
        b_error_at(b, q->pos, DC_EINVAL, "54001", "stack depth limit exceeded");
        return NULL;
    }
    sql_plan *p = NULL;
    if (register_ctes(b, lv, q) != DC_OK)
        goto out;
    switch (q->op) {
    case SELECT_SIMPLE:
        p = bind_simple(b, lv, q);
        break;
    case SELECT_VALUES:
        if ((p = bind_values(b, lv, q)) && (q->order_by || q->limit ||
                                            q->offset))
            p = order_over_output(b, lv, q, p);
        break;
    default:
        if ((p = bind_setop(b, lv, q)) && (q->order_by || q->limit ||
                                           q->offset))
            p = order_over_output(b, lv, q, p);
        break;
    }
out:
    b->depth--;
    return p;
}

int bind_select_list(bstate *b, blevel *lv, sql_list *targets, int *n,
                     sql_bexpr ***exprs, char ***names)
{
    sql_select q;
    memset(&q, 0, sizeof q);
    q.targets = targets;
    tlist tl = {0, 0, NULL};
    if (bind_targets(b, lv, &q, &tl, true) != DC_OK)
        return DC_ERR;
    *exprs = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(tl.n + 1));
    *names = b_alloc(b, sizeof(char *) * (size_t)(tl.n + 1));
    if (!*exprs || !*names)
        return DC_ENOMEM;
    for (int i = 0; i < tl.n; i++) {
        (*exprs)[i] = tl.c[i].e;
        (*names)[i] = tl.c[i].name ? tl.c[i].name : "?column?";
    }
    *n = tl.n;
    return DC_OK;
}

sql_plan *bind_query_stmt(bstate *b, blevel *lv, const sql_stmt *s)
{
    if (s->kind != STMT_SELECT) {
        b_error_at(b, s->pos, DC_EUNSUPPORTED, "0A000",
                   "only SELECT queries are supported here");
        return NULL;
    }
    return bind_query(b, lv, s->u.select);
}
