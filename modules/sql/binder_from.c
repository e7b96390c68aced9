/*
 * sql/binder_from.c - binding FROM clauses: tables, views, CTEs,
 * subqueries, set-returning functions, generated catalog relations and
 * joins (ON, USING, NATURAL), building the level's name scope and the
 * leaves the planner joins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/binder_int.h"
#include "sql/parser.h"
#include "sql/vcatalog.h"

blevel *level_new(bstate *b, blevel *parent, blevel *owner)
{
    blevel *lv = b_alloc(b, sizeof *lv);
    if (!lv)
        return NULL;
    lv->parent = parent;
    lv->owner = owner ? owner : lv;
    lv->ctes = parent ? parent->ctes : NULL;
    return lv;
}

int rte_add(bstate *b, blevel *lv, rte *r)
{
    if (r->alias) {
        for (int i = 0; i < lv->nrtes; i++)
            if (lv->rtes[i]->alias && !strcmp(lv->rtes[i]->alias, r->alias))
                return dc_error_set(b->err, DC_EEXIST, "42712",
                                    "table name \"%s\" specified more than "
                                    "once", r->alias);
    }
    if (!b_grow(b, (void **)&lv->rtes, &lv->caprtes, lv->nrtes + 1,
                sizeof(rte *)))
        return DC_ENOMEM;
    lv->rtes[lv->nrtes++] = r;
    return DC_OK;
}

static char *qualname(bstate *b, const char *rel, const char *col)
{
    size_t rl = strlen(rel), cl = strlen(col);
    char *s = b_alloc(b, rl + cl + 2);
    if (s) {
        memcpy(s, rel, rl);
        s[rl] = '.';
        memcpy(s + rl + 1, col, cl + 1);
    }
    return s;
}

/* A leaf whose columns are `n` outputs with the given names and types;
 * adds the rte and returns the fnode. */
static fnode *leaf_node(bstate *b, blevel *lv, leaf *lf, const char *alias,
                        int n, char **names, const uint32_t *types,
                        const int32_t *typmods, const sql_alias *al, int pos)
{
    fnode *fn = b_alloc(b, sizeof *fn);
    rte *r = b_alloc(b, sizeof *r);
    if (!fn || !r)
        return NULL;
    int nal = al ? (int)SQL_LIST_LEN(al->cols) : 0;
    if (nal > n) {
        b_error_at(b, pos, DC_EINVAL, "42P10",
                   "table \"%s\" has %d columns available but %d columns "
                   "specified", alias, n, nal);
        return NULL;
    }
    r->alias = b_strdup(b, alias);
    r->cols = b_alloc(b, sizeof(nscol) * (size_t)(n ? n : 1));
    if (!r->cols)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (!names[i])
            continue;
        const char *nm = i < nal ? al->cols->items[i] : names[i];
        sql_bexpr *e = bx_col(b, lv->nglobal + i, types[i],
                              typmods ? typmods[i] : -1);
        if (!e)
            return NULL;
        nm = b_strdup(b, nm);
        BX(e)->colname = qualname(b, alias, nm);
        r->cols[r->ncols].name = nm;
        r->cols[r->ncols++].expr = e;
    }
    lf->gbase = lv->nglobal;
    lv->nglobal += lf->ncols;
    if (rte_add(b, lv, r) != DC_OK) {
        if (b->err)
            b->err->position = pos;
        return NULL;
    }
    fn->lf = lf;
    fn->nvis = r->ncols;
    fn->vis = r->cols;
    return fn;
}

leaf *add_table_leaf(bstate *b, blevel *lv, const sql_table *t,
                     const char *alias, bool emit_key, int pos)
{
    leaf *lf = b_alloc(b, sizeof *lf);
    char **names = b_alloc(b, sizeof(char *) * (size_t)(t->natts + 1));
    uint32_t *types = b_alloc(b, sizeof(uint32_t) * (size_t)(t->natts + 1));
    int32_t *mods = b_alloc(b, sizeof(int32_t) * (size_t)(t->natts + 1));
    if (!lf || !names || !types || !mods)
        return NULL;
    for (int i = 0; i < t->natts; i++) {
        const sql_column *c = &t->cols[i];
        names[i] = c->dropped ? NULL : c->name;
        types[i] = c->type;
        mods[i] = c->typmod;
    }
    lf->kind = LF_TABLE;
    lf->table = t;
    lf->alias = b_strdup(b, alias ? alias : t->name);
    lf->emit_key = emit_key;
    lf->ncols = t->natts + (emit_key ? 1 : 0);
    lf->est = table_est(t);
    fnode *fn = leaf_node(b, lv, lf, lf->alias, t->natts, names, types, mods,
                          NULL, pos);
    if (!fn)
        return NULL;
    int cap = lv->nfrom;
    if (!b_grow(b, (void **)&lv->from, &cap, lv->nfrom + 1, sizeof(fnode *)))
        return NULL;
    lv->from[lv->nfrom++] = fn;
    return lf;
}

static fnode *plan_leaf_node(bstate *b, blevel *lv, sql_plan *p,
                             const char *alias, const sql_alias *al, int pos)
{
    leaf *lf = b_alloc(b, sizeof *lf);
    if (!lf)
        return NULL;
    lf->kind = LF_PLAN;
    lf->plan = p;
    lf->ncols = p->ncols;
    lf->alias = b_strdup(b, alias);
    lf->est = p->est_rows > 0 ? p->est_rows : 1000;
    return leaf_node(b, lv, lf, alias, p->ncols, p->names, p->types,
                     p->typmods, al, pos);
}

/* ---- FROM items ------------------------------------------------------------ */

static const cte_def *find_cte(blevel *lv, const char *name)
{
    for (const cte_def *c = lv->ctes; c; c = c->next)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

/* Bind a stored query text (a view) as a subquery plan. */
static sql_plan *bind_view(bstate *b, const sql_view *v, int pos)
{
    sql_arena *pa = NULL;
    sql_list *stmts = NULL;
    if (sql_parse(v->query, strlen(v->query), &pa, &stmts, b->err) != DC_OK) {
        if (b->err)
            b->err->position = pos;
        return NULL;
    }
    sql_plan *p = NULL;
    if (SQL_LIST_LEN(stmts) != 1 ||
        ((sql_stmt *)stmts->items[0])->kind != STMT_SELECT) {
        b_error_at(b, pos, DC_ECORRUPT, "XX000",
                   "view \"%s\" has an invalid query", v->name);
    } else {
        blevel *vl = level_new(b, NULL, NULL);
        if (vl)
            p = bind_query(b, vl, ((sql_stmt *)stmts->items[0])->u.select);
    }
    sql_arena_free(pa);
    if (!p)
        return NULL;
    for (int i = 0; i < p->ncols && i < v->ncols; i++)
        if (!(p->names[i] = b_strdup(b, v->colnames[i])))
            return NULL;
    return p;
}

static fnode *bind_table_item(bstate *b, blevel *lv, const sql_from *f)
{
    const sql_qname *qn = f->table;
    const char *name = qn->parts[qn->nparts - 1];
    const char *schema = qn->nparts >= 2 ? qn->parts[qn->nparts - 2] : NULL;
    const char *alias = f->alias ? f->alias->name : name;
    const sql_catalog *cat = b->ctx->cat;
    if (!schema) {
        const cte_def *c = find_cte(lv, name);
        if (c) {
            blevel *cl = level_new(b, NULL, NULL);
            if (!cl)
                return NULL;
            cl->ctes = c->next;
            sql_plan *p = bind_query_stmt(b, cl, c->cte->stmt);
            if (!p)
                return NULL;
            int nc = (int)SQL_LIST_LEN(c->cte->cols);
            for (int i = 0; i < nc && i < p->ncols; i++)
                p->names[i] = b_strdup(b, c->cte->cols->items[i]);
            return plan_leaf_node(b, lv, p, alias, f->alias, f->pos);
        }
    }
    const sql_vrel *vr = NULL;
    if (!schema || !strcmp(schema, "pg_catalog") ||
        !strcmp(schema, "information_schema"))
        vr = sql_vrel_lookup(schema, name);
    if (vr) {
        sql_plan *p = plan_new(b, PL_VIRTUAL, vr->ncols);
        if (!p)
            return NULL;
        p->u.virt.rel = vr;
        for (int i = 0; i < vr->ncols; i++) {
            p->types[i] = vr->coltypes[i];
            p->names[i] = (char *)vr->colnames[i];
        }
        p->est_rows = 100;
        return plan_leaf_node(b, lv, p, alias, f->alias, f->pos);
    }
    if (!schema || !strcmp(schema, "public")) {
        const sql_table *t = sql_catalog_table(cat, "public", name);
        if (t) {
            leaf *lf = b_alloc(b, sizeof *lf);
            int n = t->natts;
            char **names = b_alloc(b, sizeof(char *) * (size_t)(n + 1));
            uint32_t *types = b_alloc(b, sizeof(uint32_t) * (size_t)(n + 1));
            int32_t *mods = b_alloc(b, sizeof(int32_t) * (size_t)(n + 1));
            if (!lf || !names || !types || !mods)
                return NULL;
            for (int i = 0; i < n; i++) {
                names[i] = t->cols[i].dropped ? NULL : t->cols[i].name;
                types[i] = t->cols[i].type;
                mods[i] = t->cols[i].typmod;
            }
            lf->kind = LF_TABLE;
            lf->table = t;
            lf->alias = b_strdup(b, alias);
            lf->ncols = n;
            lf->est = table_est(t);
            return leaf_node(b, lv, lf, alias, n, names, types, mods,
                             f->alias, f->pos);
        }
        const sql_view *v = sql_catalog_view(cat, "public", name);
        if (v) {
            sql_plan *p = bind_view(b, v, f->pos);
            return p ? plan_leaf_node(b, lv, p, alias, f->alias, f->pos)
                     : NULL;
        }
    }
    if (schema)
        b_error_at(b, qn->pos ? qn->pos : f->pos, DC_ENOTFOUND, "42P01",
                   "relation \"%s.%s\" does not exist", schema, name);
    else
        b_error_at(b, qn->pos ? qn->pos : f->pos, DC_ENOTFOUND, "42P01",
                   "relation \"%s\" does not exist", name);
    return NULL;
}

static fnode *bind_subquery_item(bstate *b, blevel *lv, const sql_from *f)
{
    if (!f->alias) {
        b_error_at(b, f->pos, DC_EINVAL, "42601",
                   "subquery in FROM must have an alias");
        dc_error_hint(b->err, "For example, FROM (SELECT ...) [AS] foo.");
        return NULL;
    }
    blevel *sl = level_new(b, lv->parent, lv->owner);
    if (!sl)
        return NULL;
    sl->ctes = lv->ctes;
    sql_plan *p = bind_query(b, sl, f->subquery);
    return p ? plan_leaf_node(b, lv, p, f->alias->name, f->alias, f->pos)
             : NULL;
}

static fnode *bind_function_item(bstate *b, blevel *lv, const sql_from *f)
{
    const sql_expr *fe = f->func;
    const sql_qname *qn = fe->u.func.name;
    const char *name = qn->parts[qn->nparts - 1];
    int n = (int)SQL_LIST_LEN(fe->u.func.args);
    if (n > 4) {
        b_error_at(b, fe->pos, DC_ENOTFOUND, "42883",
                   "function %s with %d arguments does not exist", name, n);
        return NULL;
    }
    blevel *al = level_new(b, lv->parent, lv->owner);
    if (!al)
        return NULL;
    al->ctes = lv->ctes;
    sql_bexpr *args[4];
    uint32_t types[4];
    for (int i = 0; i < n; i++) {
        if (!(args[i] = bind_expr(b, al, fe->u.func.args->items[i])))
            return NULL;
        types[i] = args[i]->type;
    }
    sql_plan *p = plan_new(b, PL_FUNCSCAN, 1);
    if (!p)
        return NULL;
    if (sql_srf_resolve(name, n, types, &p->u.func.srf, b->err) != DC_OK) {
        if (b->err && b->err->position == 0)
            b->err->position = fe->pos;
        return NULL;
    }
    p->u.func.nargs = n;
    p->u.func.args = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(n ? n : 1));
    if (!p->u.func.args)
        return NULL;
    for (int i = 0; i < n; i++)
        if (!(p->u.func.args[i] = coerce(b, args[i],
                                         p->u.func.srf.argtypes[i], -1,
                                         SQL_CAST_IMPLICIT, fe->pos)))
            return NULL;
    p->types[0] = p->u.func.srf.rettype;
    const char *alias = f->alias ? f->alias->name : name;
    /* a function's single column is named after the alias, as in
     * PostgreSQL, unless a column alias is given */
    p->names[0] = b_strdup(b, alias);
    p->est_rows = 1000;
    return plan_leaf_node(b, lv, p, alias, f->alias, f->pos);
}

/* ---- joins ------------------------------------------------------------------ */

static int vis_find(const fnode *fn, const char *name, int *idx)
{
    int count = 0;
    for (int i = 0; i < fn->nvis; i++)
        if (!strcmp(fn->vis[i].name, name)) {
            if (!count)
                *idx = i;
            count++;
        }
    return count;
}

static bool push_conj(bstate *b, fnode *fn, sql_bexpr *e, const sql_expr *ast,
                      int *cap)
{
    if (!b_grow(b, (void **)&fn->on, cap, fn->non + 1, sizeof(conj)))
        return false;
    memset(&fn->on[fn->non], 0, sizeof(conj));
    fn->on[fn->non].e = e;
    fn->on[fn->non++].ast = ast;
    return true;
}

static fnode *bind_from_item(bstate *b, blevel *lv, const sql_from *f);

static int bind_join_on(bstate *b, blevel *lv, fnode *fn, const sql_expr *on,
                        int *cap)
{
    const char *saved = lv->agg_forbidden;
    lv->agg_forbidden = "JOIN conditions";
    int n = on->kind == EXPR_AND ? (int)SQL_LIST_LEN(on->u.args) : 1;
    for (int i = 0; i < n; i++) {
        const sql_expr *a = on->kind == EXPR_AND ? on->u.args->items[i] : on;
        sql_bexpr *e = coerce_bool(b, bind_expr(b, lv, a), "JOIN/ON", a->pos);
        if (!e)
            return DC_ERR;
        conj *tmp = NULL;
        int nt = 0, ct = 0;
        if (split_conj(b, e, a, &tmp, &nt, &ct) != DC_OK)
            return DC_ERR;
        for (int k = 0; k < nt; k++)
            if (!push_conj(b, fn, tmp[k].e, a, cap))
                return DC_ERR;
    }
    lv->agg_forbidden = saved;
    return DC_OK;
}

/* A column reference as written "rel.col" (for EXPLAIN text). */
static sql_expr *col_ast(bstate *b, const char *qual, const char *name,
                         int pos)
{
    sql_expr *e = b_alloc(b, sizeof *e);
    char **names = b_alloc(b, 2 * sizeof(char *));
    if (!e || !names)
        return NULL;
    e->kind = EXPR_COLUMN;
    e->pos = pos;
    const char *dot = qual ? strrchr(qual, '.') : NULL;
    if (dot) {
        names[0] = sql_arena_strndup(b->arena, qual, (size_t)(dot - qual));
        names[1] = (char *)name;
        e->u.col.nnames = 2;
    } else {
        names[0] = (char *)name;
        e->u.col.nnames = 1;
    }
    e->u.col.names = names;
    return e;
}

/* The USING equality as an expression tree, for EXPLAIN's join
 * condition; NULL (no text) when out of memory. */
static const sql_expr *using_ast(bstate *b, const sql_bexpr *l,
                                 const sql_bexpr *r, const char *name,
                                 int pos)
{
    sql_expr *e = b_alloc(b, sizeof *e);
    if (!e)
        return NULL;
    e->kind = EXPR_OP;
    e->pos = pos;
    e->u.op.name = "=";
    e->u.op.left = col_ast(b, BX(l)->colname, name, pos);
    e->u.op.right = col_ast(b, BX(r)->colname, name, pos);
    return e->u.op.left && e->u.op.right ? e : NULL;
}

/* USING / NATURAL: equality conditions and the merged columns. */
static int bind_using(bstate *b, fnode *fn, sql_list *cols, int pos,
                      int *cap)
{
    int n = (int)SQL_LIST_LEN(cols);
    int nvis = 0;
    nscol *vis = b_alloc(b, sizeof(nscol) *
                                (size_t)(fn->l->nvis + fn->r->nvis + 1));
    bool *lused = b_alloc(b, (size_t)fn->l->nvis + 1);
    bool *rused = b_alloc(b, (size_t)fn->r->nvis + 1);
    if (!vis || !lused || !rused)
        return DC_ENOMEM;
    for (int i = 0; i < n; i++) {
        const char *name = cols->items[i];
        int li = -1, ri = -1;
        int lc = vis_find(fn->l, name, &li), rc = vis_find(fn->r, name, &ri);
        if (lc != 1 || rc != 1) {
            const char *side = lc != 1 ? "left" : "right";
            if ((lc != 1 ? lc : rc) > 1)
                return b_error_at(b, pos, DC_EINVAL, "42702",
                                  "common column name \"%s\" appears more "
                                  "than once in %s table", name, side);
            return b_error_at(b, pos, DC_ENOTFOUND, "42703",
                              "column \"%s\" specified in USING clause does "
                              "not exist in %s table", name, side);
        }
        sql_bexpr *l = fn->l->vis[li].expr, *r = fn->r->vis[ri].expr;
        sql_bexpr *eq = make_oper(b, "=", l, r, pos);
        if (!eq || !push_conj(b, fn, eq, using_ast(b, l, r, name, pos), cap))
            return DC_ERR;
        sql_bexpr *m = l;
        if (fn->jk == JOIN_RIGHT)
            m = r;
        else if (fn->jk == JOIN_FULL) {
            uint32_t types[2] = {l->type, r->type};
            sql_func_resolved fr;
            if (sql_func_resolve("coalesce", 2, types, &fr, b->err) != DC_OK)
                return DC_ERR;
            if (!(m = bx_new(b, SX_FUNC, fr.rettype)))
                return DC_ENOMEM;
            sql_func_resolved *fp = b_alloc(b, sizeof *fp);
            m->args = b_alloc(b, 2 * sizeof(sql_bexpr *));
            if (!fp || !m->args)
                return DC_ENOMEM;
            *fp = fr;
            m->fn = fp;
            m->nargs = 2;
            if (!(m->args[0] = coerce(b, l, fr.argtypes[0], -1,
                                      SQL_CAST_IMPLICIT, pos)) ||
                !(m->args[1] = coerce(b, r, fr.argtypes[1], -1,
                                      SQL_CAST_IMPLICIT, pos)))
                return DC_ERR;
            BX(m)->colname = name;
        }
        lused[li] = rused[ri] = true;
        vis[nvis].name = name;
        vis[nvis++].expr = m;
    }
    for (int i = 0; i < fn->l->nvis; i++)
        if (!lused[i])
            vis[nvis++] = fn->l->vis[i];
    for (int i = 0; i < fn->r->nvis; i++)
        if (!rused[i])
            vis[nvis++] = fn->r->vis[i];
    fn->vis = vis;
    fn->nvis = nvis;
    return DC_OK;
}

static sql_list *natural_cols(bstate *b, const fnode *l, const fnode *r,
                              bool *oom)
{
    sql_list *cols = NULL;
    for (int i = 0; i < l->nvis; i++) {
        int idx;
        if (vis_find(r, l->vis[i].name, &idx) &&
            !sql_list_push(b->arena, &cols, (void *)l->vis[i].name)) {
            b_oom(b);
            *oom = true;
            return NULL;
        }
    }
    return cols;
}

static fnode *bind_join_item(bstate *b, blevel *lv, const sql_from *f)
{
    fnode *fn = b_alloc(b, sizeof *fn);
    if (!fn || !(fn->l = bind_from_item(b, lv, f->join.left)) ||
        !(fn->r = bind_from_item(b, lv, f->join.right)))
        return NULL;
    fn->is_join = true;
    fn->jk = f->join.kind;
    int cap = 0;
    sql_list *using_cols = f->join.using_cols;
    bool oom = false;
    if (f->join.natural)
        using_cols = natural_cols(b, fn->l, fn->r, &oom);
    if (oom)
        return NULL;
    if (using_cols || f->join.natural) {
        if (bind_using(b, fn, using_cols, f->pos, &cap) != DC_OK)
            return NULL;
    } else {
        int nvis = fn->l->nvis + fn->r->nvis;
        fn->vis = b_alloc(b, sizeof(nscol) * (size_t)(nvis + 1));
        if (!fn->vis)
            return NULL;
        memcpy(fn->vis, fn->l->vis, sizeof(nscol) * (size_t)fn->l->nvis);
        memcpy(fn->vis + fn->l->nvis, fn->r->vis,
               sizeof(nscol) * (size_t)fn->r->nvis);
        fn->nvis = nvis;
    }
    if (f->join.on) {
        /* the ON clause sees both sides */
        int saved = lv->nfrom;
        fnode **old = lv->from;
        fnode **tmp = b_alloc(b, sizeof(fnode *) * (size_t)(saved + 2));
        if (!tmp)
            return NULL;
        if (saved)
            memcpy(tmp, old, sizeof(fnode *) * (size_t)saved);
        tmp[saved] = fn->l;
        tmp[saved + 1] = fn->r;
        lv->from = tmp;
        lv->nfrom = saved + 2;
        int rc = bind_join_on(b, lv, fn, f->join.on, &cap);
        lv->from = old;
        lv->nfrom = saved;
        if (rc != DC_OK)
            return NULL;
    }
    if (f->alias) {
        rte *r = b_alloc(b, sizeof *r);
        if (!r)
            return NULL;
        r->alias = b_strdup(b, f->alias->name);
        r->ncols = fn->nvis;
        r->cols = fn->vis;
        if (rte_add(b, lv, r) != DC_OK)
            return NULL;
    }
    return fn;
}

static fnode *bind_from_item(bstate *b, blevel *lv, const sql_from *f)
{
    if (f->lateral) {
        b_error_at(b, f->pos, DC_EUNSUPPORTED, "0A000",
                   "LATERAL is not supported");
        return NULL;
    }
    switch (f->kind) {
    case FROM_TABLE: return bind_table_item(b, lv, f);
    case FROM_SUBQUERY: return bind_subquery_item(b, lv, f);
    case FROM_FUNCTION: return bind_function_item(b, lv, f);
    default: return bind_join_item(b, lv, f);
    }
}

int bind_from_list(bstate *b, blevel *lv, sql_list *from)
{
    int n = (int)SQL_LIST_LEN(from);
    int cap = lv->nfrom;
    for (int i = 0; i < n; i++) {
        fnode *fn = bind_from_item(b, lv, from->items[i]);
        if (!fn)
            return b->err && b->err->status ? b->err->status : DC_ERR;
        if (!b_grow(b, (void **)&lv->from, &cap, lv->nfrom + 1,
                    sizeof(fnode *)))
            return DC_ENOMEM;
        lv->from[lv->nfrom++] = fn;
    }
    return DC_OK;
}
