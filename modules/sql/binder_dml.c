/*
 * sql/binder_dml.c - INSERT, UPDATE and DELETE plans, expression text of
 * the catalog (DEFAULT, CHECK), and the binder's entry points.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/binder_int.h"
#include "sql/parser.h"

/* ---- expression text -------------------------------------------------- */

/* Bind catalog expression text over the row of t (SX_COL = attnum - 1). */
static sql_bexpr *bind_text(bstate *b, const sql_table *t, const char *text)
{
    size_t tl = strlen(text);
    char *sql = malloc(tl + 8);
    if (!sql) {
        b_oom(b);
        return NULL;
    }
    memcpy(sql, "SELECT ", 7);
    memcpy(sql + 7, text, tl + 1);
    sql_arena *pa = NULL;
    sql_list *stmts = NULL;
    int rc = sql_parse(sql, strlen(sql), &pa, &stmts, b->err);
    free(sql);
    if (rc != DC_OK)
        return NULL;
    sql_bexpr *e = NULL;
    const sql_stmt *s = SQL_LIST_LEN(stmts) == 1 ? stmts->items[0] : NULL;
    if (!s || s->kind != STMT_SELECT || s->u.select->op != SELECT_SIMPLE ||
        SQL_LIST_LEN(s->u.select->targets) != 1) {
        dc_error_set(b->err, DC_EINVAL, "42601",
                     "invalid expression text \"%s\"", text);
    } else {
        const sql_target *tg = s->u.select->targets->items[0];
        blevel *lv = level_new(b, NULL, NULL);
        if (lv && (!t || add_table_leaf(b, lv, t, t->name, false, 0))) {
            lv->agg_forbidden = "column expressions";
            e = bind_expr(b, lv, tg->expr);
            if (e && b->err)
                b->err->position = 0;
        }
        if (!e && b->err)
            b->err->position = 0;
    }
    sql_arena_free(pa);
    return e;
}

static bool refs_columns(const sql_bexpr *e)
{
    if (e->kind == SX_COL)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (refs_columns(e->args[i]))
            return true;
    return e->kind == SX_SUBPLAN && e->sub.lhs && refs_columns(e->sub.lhs);
}

/* The DEFAULT of column c (or its typed NULL), coerced for assignment. */
static sql_bexpr *column_default(bstate *b, const sql_table *t,
                                 const sql_column *c)
{
    if (!c->default_expr) {
        dc_value v = sql_value_null(c->type);
        v.typmod = c->typmod;
        return bx_const(b, v);
    }
    sql_bexpr *e = bind_text(b, t, c->default_expr);
    if (e && refs_columns(e)) {
        b_error_at(b, 0, DC_EUNSUPPORTED, "0A000",
                   "cannot use column reference in DEFAULT expression");
        return NULL;
    }
    return e ? coerce_assign(b, e, c->type, c->typmod, c->name, 0) : NULL;
}

/* ---- target table --------------------------------------------------------- */

static const sql_table *target_table(bstate *b, const sql_qname *qn,
                                     const char *verb)
{
    const char *name = qn->parts[qn->nparts - 1];
    const char *schema = qn->nparts >= 2 ? qn->parts[qn->nparts - 2] : NULL;
    const sql_table *t = NULL;
    if (!schema || !strcmp(schema, "public"))
        t = sql_catalog_table(b->ctx->cat, "public", name);
    if (t)
        return t;
    if ((!schema || !strcmp(schema, "public")) &&
        sql_catalog_view(b->ctx->cat, "public", name)) {
        b_error_at(b, qn->pos, DC_EUNSUPPORTED, "0A000",
                   "cannot %s view \"%s\"", verb, name);
        return NULL;
    }
    if (schema && (!strcmp(schema, "pg_catalog") ||
                   !strcmp(schema, "information_schema"))) {
        b_error_at(b, qn->pos, DC_EPERM, "42809",
                   "cannot change relation \"%s\"", name);
        return NULL;
    }
    if (schema)
        b_error_at(b, qn->pos, DC_ENOTFOUND, "42P01",
                   "relation \"%s.%s\" does not exist", schema, name);
    else
        b_error_at(b, qn->pos, DC_ENOTFOUND, "42P01",
                   "relation \"%s\" does not exist", name);
    return NULL;
}

static const sql_column *target_column(bstate *b, const sql_table *t,
                                       const char *name, int pos)
{
    const sql_column *c = sql_table_column(t, name);
    if (!c)
        b_error_at(b, pos, DC_ENOTFOUND, "42703",
                   "column \"%s\" of relation \"%s\" does not exist", name,
                   t->name);
    return c;
}

static sql_plan *modify_node(bstate *b, sql_modify_op op, const sql_table *t,
                             sql_plan *child)
{
    sql_plan *p = plan_new(b, PL_MODIFY, 0);
    if (!p)
        return NULL;
    p->left = child;
    p->u.modify.op = op;
    p->u.modify.table = t;
    p->u.modify.key_col = t->natts;
    p->est_rows = child ? child->est_rows : 1;
    return p;
}

static int bind_checks(bstate *b, const sql_table *t, sql_plan *p)
{
    p->u.modify.nchecks = t->nchecks;
    p->u.modify.checks = b_alloc(b, sizeof(sql_bexpr *) *
                                        (size_t)(t->nchecks + 1));
    p->u.modify.check_names = b_alloc(b, sizeof(char *) *
                                             (size_t)(t->nchecks + 1));
    if (!p->u.modify.checks || !p->u.modify.check_names)
        return DC_ENOMEM;
    for (int i = 0; i < t->nchecks; i++) {
        sql_bexpr *e = bind_text(b, t, t->checks[i].expr);
        if (!e || !(e = coerce_bool(b, e, "CHECK", 0)))
            return DC_ERR;
        p->u.modify.checks[i] = e;
        p->u.modify.check_names[i] = t->checks[i].name;
    }
    return DC_OK;
}

/* RETURNING over the table row (the new one, or the old for DELETE). */
static int bind_returning(bstate *b, const sql_table *t, const char *alias,
                          sql_list *targets, sql_plan *p)
{
    if (!targets)
        return DC_OK;
    blevel *lv = level_new(b, NULL, NULL);
    if (!lv || !add_table_leaf(b, lv, t, alias, false, 0))
        return DC_ERR;
    lv->agg_forbidden = "RETURNING";
    int n;
    sql_bexpr **exprs;
    char **names;
    if (bind_select_list(b, lv, targets, &n, &exprs, &names) != DC_OK)
        return DC_ERR;
    sql_plan *np = plan_new(b, PL_MODIFY, n);
    if (!np)
        return DC_ENOMEM;
    np->left = p->left;
    np->u = p->u;
    np->est_rows = p->est_rows;
    for (int i = 0; i < n; i++) {
        np->types[i] = exprs[i]->type;
        np->typmods[i] = exprs[i]->typmod;
        np->names[i] = names[i];
    }
    *p = *np;
    p->u.modify.nreturning = n;
    p->u.modify.returning = exprs;
    return DC_OK;
}

/* ---- INSERT ------------------------------------------------------------------ */

typedef struct instarget {
    int n;
    const sql_column **cols;    /* target columns in statement order       */
    int *slot;                  /* attnum - 1 -> index in cols, or -1      */
} instarget;

static int insert_targets(bstate *b, const sql_table *t, const sql_insert *ins,
                          int pos, instarget *it)
{
    it->cols = b_alloc(b, sizeof(sql_column *) * (size_t)(t->natts + 1));
    it->slot = b_alloc(b, sizeof(int) * (size_t)(t->natts + 1));
    if (!it->cols || !it->slot)
        return DC_ENOMEM;
    for (int i = 0; i < t->natts; i++)
        it->slot[i] = -1;
    it->n = 0;
    if (!ins->cols) {
        for (int i = 0; i < t->natts; i++)
            if (!t->cols[i].dropped) {
                it->slot[i] = it->n;
                it->cols[it->n++] = &t->cols[i];
            }
        return DC_OK;
    }
    for (size_t k = 0; k < ins->cols->len; k++) {
        const sql_column *c = target_column(b, t, ins->cols->items[k], pos);
        if (!c)
            return DC_ERR;
        if (it->slot[c->attnum - 1] >= 0)
            return b_error_at(b, pos, DC_EINVAL, "42701",
                              "column \"%s\" specified more than once",
                              c->name);
        if (it->n >= t->natts)
            return b_error_at(b, pos, DC_EINVAL, "42601",
                              "too many target columns");
        it->slot[c->attnum - 1] = it->n;
        it->cols[it->n++] = c;
    }
    return DC_OK;
}

static sql_plan *insert_values(bstate *b, blevel *lv, const sql_table *t,
                               const sql_select *src, const instarget *it)
{
    int nrows = src ? (int)SQL_LIST_LEN(src->values) : 1;
    sql_plan *p = plan_new(b, PL_VALUES, t->natts);
    if (!p)
        return NULL;
    p->u.values.nrows = nrows;
    p->u.values.rows = b_alloc(b, sizeof(sql_bexpr **) * (size_t)nrows);
    if (!p->u.values.rows)
        return NULL;
    for (int i = 0; i < t->natts; i++) {
        p->types[i] = t->cols[i].type;
        p->typmods[i] = t->cols[i].typmod;
        p->names[i] = t->cols[i].name;
    }
    /* each column's default is bound once and shared by every row */
    sql_bexpr **defs = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(t->natts + 1));
    if (!defs)
        return NULL;
    for (int r = 0; r < nrows; r++) {
        const sql_list *row = src ? src->values->items[r] : NULL;
        int len = (int)SQL_LIST_LEN(row);
        if (src && len > it->n) {
            const sql_expr *x = row->items[it->n];
            b_error_at(b, x->pos, DC_EINVAL, "42601",
                       "INSERT has more expressions than target columns");
            return NULL;
        }
        if (src && len < it->n) {
            b_error_at(b, src->pos, DC_EINVAL, "42601",
                       "INSERT has more target columns than expressions");
            return NULL;
        }
        sql_bexpr **vals = b_alloc(b, sizeof(sql_bexpr *) *
                                          (size_t)(t->natts + 1));
        if (!vals)
            return NULL;
        for (int a = 0; a < t->natts; a++) {
            const sql_column *c = &t->cols[a];
            int k = it->slot[a];
            if (c->dropped) {
                vals[a] = bx_const(b, sql_value_null(c->type));
            } else if (k < 0 || !row ||
                       ((const sql_expr *)row->items[k])->kind ==
                           EXPR_DEFAULT) {
                if (!defs[a])
                    defs[a] = column_default(b, t, c);
                vals[a] = defs[a];
            } else {
                const sql_expr *x = row->items[k];
                vals[a] = coerce_assign(b, bind_expr(b, lv, x), c->type,
                                        c->typmod, c->name, x->pos);
            }
            if (!vals[a])
                return NULL;
        }
        p->u.values.rows[r] = vals;
    }
    p->est_rows = nrows;
    return p;
}

static sql_plan *insert_select(bstate *b, blevel *lv, const sql_table *t,
                               const sql_select *src, const instarget *it,
                               bool implicit_cols)
{
    lv->keep_unknown = true;
    sql_plan *q = bind_query(b, lv, src);
    if (!q)
        return NULL;
    if (q->ncols > it->n) {
        b_error_at(b, src->pos, DC_EINVAL, "42601",
                   "INSERT has more expressions than target columns");
        return NULL;
    }
    if (q->ncols < it->n && !implicit_cols) {
        b_error_at(b, src->pos, DC_EINVAL, "42601",
                   "INSERT has more target columns than expressions");
        return NULL;
    }
    instarget cut = *it;
    if (q->ncols < it->n) {
        cut.slot = b_alloc(b, sizeof(int) * (size_t)(t->natts + 1));
        if (!cut.slot)
            return NULL;
        memcpy(cut.slot, it->slot, sizeof(int) * (size_t)t->natts);
        for (int k = q->ncols; k < it->n; k++)
            cut.slot[it->cols[k]->attnum - 1] = -1;
        cut.n = q->ncols;
        it = &cut;
    }
    for (int k = 0; k < it->n; k++)
        if (!(q = coerce_plan_col(b, q, k, it->cols[k]->type,
                                  it->cols[k]->typmod, SQL_CAST_ASSIGNMENT,
                                  it->cols[k]->name, src->pos)))
            return NULL;
    sql_bexpr **ex = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(t->natts + 1));
    char **names = b_alloc(b, sizeof(char *) * (size_t)(t->natts + 1));
    if (!ex || !names)
        return NULL;
    for (int a = 0; a < t->natts; a++) {
        const sql_column *c = &t->cols[a];
        int k = it->slot[a];
        names[a] = c->name;
        if (c->dropped)
            ex[a] = bx_const(b, sql_value_null(c->type));
        else if (k < 0)
            ex[a] = column_default(b, t, c);
        else
            ex[a] = bx_col(b, k, q->types[k], q->typmods[k]);
        if (!ex[a])
            return NULL;
    }
    return plan_project(b, q, t->natts, ex, names);
}

static const sql_index *conflict_index(bstate *b, const sql_table *t,
                                       const sql_insert *ins, int pos)
{
    if (ins->conflict.constraint) {
        for (int i = 0; i < t->nindexes; i++)
            if (!strcmp(t->indexes[i]->name, ins->conflict.constraint))
                return t->indexes[i];
        b_error_at(b, pos, DC_ENOTFOUND, "42704",
                   "constraint \"%s\" for table \"%s\" does not exist",
                   ins->conflict.constraint, t->name);
        return NULL;
    }
    int n = (int)SQL_LIST_LEN(ins->conflict.cols);
    for (int i = 0; i < t->nindexes; i++) {
        const sql_index *ix = t->indexes[i];
        if (!(ix->unique || ix->primary) || ix->ncols != n)
            continue;
        bool all = true;
        for (int k = 0; k < n && all; k++) {
            const sql_column *c = sql_table_column(t, ins->conflict.cols->items[k]);
            bool in = false;
            for (int j = 0; c && j < ix->ncols; j++)
                in |= ix->attnums[j] == c->attnum;
            all = in;
        }
        if (all)
            return ix;
    }
    for (int k = 0; k < n; k++)
        if (!target_column(b, t, ins->conflict.cols->items[k], pos))
            return NULL;
    b_error_at(b, pos, DC_EINVAL, "42P10",
               "there is no unique or exclusion constraint matching the ON "
               "CONFLICT specification");
    return NULL;
}

/* SET clauses into vals[attnum - 1] (over lv's global row). */
static int bind_set(bstate *b, blevel *lv, const sql_table *t, sql_list *set,
                    int pos, sql_bexpr **vals)
{
    for (size_t i = 0; i < SQL_LIST_LEN(set); i++) {
        const sql_set_clause *sc = set->items[i];
        int ncols = (int)SQL_LIST_LEN(sc->cols);
        const sql_expr *x = sc->expr;
        if (ncols > 1 && (x->kind != EXPR_ROW ||
                          (int)SQL_LIST_LEN(x->u.list) != ncols)) {
            if (x->kind == EXPR_ROW)
                return b_error_at(b, x->pos, DC_EINVAL, "42601",
                                  "number of columns does not match number "
                                  "of values");
            return b_error_at(b, x->pos, DC_EUNSUPPORTED, "0A000",
                              "multiple-column assignment from a subquery "
                              "is not supported");
        }
        for (int k = 0; k < ncols; k++) {
            const sql_column *c = target_column(b, t, sc->cols->items[k], pos);
            if (!c)
                return DC_ERR;
            if (vals[c->attnum - 1])
                return b_error_at(b, pos, DC_EINVAL, "42601",
                                  "multiple assignments to same column "
                                  "\"%s\"", c->name);
            const sql_expr *xe = ncols > 1 ? x->u.list->items[k] : x;
            sql_bexpr *e = xe->kind == EXPR_DEFAULT
                               ? column_default(b, t, c)
                               : coerce_assign(b, bind_expr(b, lv, xe),
                                               c->type, c->typmod, c->name,
                                               xe->pos);
            if (!e)
                return DC_ERR;
            vals[c->attnum - 1] = e;
        }
    }
    return DC_OK;
}

static int bind_on_conflict(bstate *b, const sql_table *t,
                            const sql_insert *ins, int pos, sql_plan *p)
{
    if (!ins->conflict.present)
        return DC_OK;
    p->u.modify.on_conflict = ins->conflict.do_update ? 2 : 1;
    if (ins->conflict.cols || ins->conflict.constraint) {
        if (!(p->u.modify.conflict_index = conflict_index(b, t, ins, pos)))
            return DC_ERR;
    } else if (ins->conflict.do_update) {
        return b_error_at(b, pos, DC_EINVAL, "42601",
                          "ON CONFLICT DO UPDATE requires inference "
                          "specification or constraint name");
    }
    if (!ins->conflict.do_update)
        return DC_OK;
    blevel *lv = level_new(b, NULL, NULL);
    if (!lv || !add_table_leaf(b, lv, t, ins->alias ? ins->alias : t->name,
                               false, pos) ||
        !add_table_leaf(b, lv, t, "excluded", false, pos))
        return DC_ERR;
    sql_bexpr **vals = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(t->natts + 1));
    if (!vals || bind_set(b, lv, t, ins->conflict.set, 0, vals) != DC_OK)
        return DC_ERR;
    p->u.modify.conflict_set = vals;
    if (ins->conflict.where &&
        !(p->u.modify.conflict_where = coerce_bool(
              b, bind_expr(b, lv, ins->conflict.where), "WHERE",
              ins->conflict.where->pos)))
        return DC_ERR;
    return DC_OK;
}

static int register_stmt_ctes(bstate *b, blevel *lv, sql_list *with)
{
    for (size_t i = 0; i < SQL_LIST_LEN(with); i++) {
        const sql_cte *c = with->items[i];
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

static sql_plan *plan_insert(bstate *b, const sql_stmt *s)
{
    const sql_insert *ins = s->u.insert;
    const sql_table *t = target_table(b, ins->table, "insert into");
    if (!t)
        return NULL;
    instarget it;
    /* column names carry no position in the parse tree: report none */
    if (insert_targets(b, t, ins, 0, &it) != DC_OK)
        return NULL;
    blevel *lv = level_new(b, NULL, NULL);
    if (!lv || register_stmt_ctes(b, lv, ins->with) != DC_OK)
        return NULL;
    const sql_select *src = ins->source;
    /* without a column list, fewer expressions fill the first columns */
    if (!ins->cols && src) {
        int have = it.n;
        if (src->op == SELECT_VALUES && src->values)
            have = (int)SQL_LIST_LEN((sql_list *)src->values->items[0]);
        if (have < it.n) {
            for (int k = have; k < it.n; k++)
                it.slot[it.cols[k]->attnum - 1] = -1;
            it.n = have;
        }
    }
    sql_plan *child;
    if (!src || (src->op == SELECT_VALUES && !src->order_by && !src->limit &&
                 !src->offset && !src->with))
        child = insert_values(b, lv, t, src, &it);
    else
        child = insert_select(b, lv, t, src, &it, ins->cols == NULL);
    sql_plan *p = child ? modify_node(b, MOD_INSERT, t, child) : NULL;
    if (!p || bind_checks(b, t, p) != DC_OK ||
        bind_on_conflict(b, t, ins, s->pos, p) != DC_OK ||
        bind_returning(b, t, ins->alias ? ins->alias : t->name,
                       ins->returning, p) != DC_OK)
        return NULL;
    return p;
}

/* ---- UPDATE / DELETE ----------------------------------------------------------- */

/* Make the child row start with the table row (natts) and its key. */
static sql_plan *table_row_first(bstate *b, blevel *lv, const sql_table *t,
                                 pplan *pp)
{
    int nk = t->natts + 1, n = pp->p->ncols;
    bool ok = n >= nk;
    for (int i = 0; i < nk && ok; i++)
        ok = pp->map[i] == i;
    if (ok)
        return pp->p;
    int *inv = pplan_inverse(b, pp, lv->nglobal);
    sql_bexpr **ex = b_alloc(b, sizeof(sql_bexpr *) * (size_t)n);
    char **names = b_alloc(b, sizeof(char *) * (size_t)n);
    int *map = b_alloc(b, sizeof(int) * (size_t)n);
    if (!inv || !ex || !names || !map)
        return NULL;
    int k = 0;
    for (int g = 0; g < nk; g++) {
        int c = inv[g];
        if (!(ex[k] = bx_col(b, c, pp->p->types[c], pp->p->typmods[c])))
            return NULL;
        names[k] = pp->p->names[c];
        map[k++] = g;
    }
    for (int c = 0; c < n; c++)
        if (pp->map[c] >= nk) {
            if (!(ex[k] = bx_col(b, c, pp->p->types[c], pp->p->typmods[c])))
                return NULL;
            names[k] = pp->p->names[c];
            map[k++] = pp->map[c];
        }
    sql_plan *p = plan_project(b, pp->p, k, ex, names);
    pp->p = p;
    pp->map = map;
    return p;
}

static sql_bexpr *recheck_expr(bstate *b, const sql_table *t, conj *cj,
                               int n, int nglobal)
{
    int *inv = b_alloc(b, sizeof(int) * (size_t)(nglobal + 1));
    if (!inv)
        return NULL;
    for (int g = 0; g < nglobal; g++)
        inv[g] = g < t->natts ? g : -1;
    sql_bexpr *acc = NULL;
    for (int i = 0; i < n; i++) {
        sql_bexpr *e = bx_remap(b, cj[i].e, inv, nglobal);
        if (!e || !(acc = bx_bool_op(b, SX_AND, acc, e)))
            return NULL;
    }
    return acc;
}

static sql_plan *plan_update_delete(bstate *b, const sql_stmt *s)
{
    bool upd = s->kind == STMT_UPDATE;
    const sql_qname *qn = upd ? s->u.update->table : s->u.del->table;
    const char *alias = upd ? s->u.update->alias : s->u.del->alias;
    sql_list *from = upd ? s->u.update->from : s->u.del->using_;
    const sql_expr *where = upd ? s->u.update->where : s->u.del->where;
    const sql_table *t = target_table(b, qn, upd ? "update" : "delete from");
    if (!t)
        return NULL;
    blevel *lv = level_new(b, NULL, NULL);
    if (!lv || register_stmt_ctes(b, lv, upd ? s->u.update->with
                                              : s->u.del->with) != DC_OK)
        return NULL;
    leaf *lf = add_table_leaf(b, lv, t, alias ? alias : t->name, true,
                              qn->pos);
    if (!lf || bind_from_list(b, lv, from) != DC_OK)
        return NULL;
    sql_bexpr **vals = NULL;
    if (upd) {
        vals = b_alloc(b, sizeof(sql_bexpr *) * (size_t)(t->natts + 1));
        if (!vals || bind_set(b, lv, t, s->u.update->set, 0, vals) != DC_OK)
            return NULL;
    }
    conj *cj;
    int ncj;
    if (bind_where_conj(b, lv, where, &cj, &ncj) != DC_OK)
        return NULL;
    sql_bexpr *recheck = NULL;
    if (!from && ncj && !(recheck = recheck_expr(b, t, cj, ncj, lv->nglobal)))
        return NULL;
    pplan pp;
    if (plan_level_from(b, lv, ncj, cj, &pp) != DC_OK ||
        !table_row_first(b, lv, t, &pp))
        return NULL;
    sql_plan *p = modify_node(b, upd ? MOD_UPDATE : MOD_DELETE, t, pp.p);
    if (!p)
        return NULL;
    p->u.modify.recheck = recheck;
    if (upd) {
        int *inv = pplan_inverse(b, &pp, lv->nglobal);
        if (!inv)
            return NULL;
        for (int a = 0; a < t->natts; a++)
            if (vals[a] && !(vals[a] = bx_remap(b, vals[a], inv, lv->nglobal)))
                return NULL;
        p->u.modify.newvals = vals;
        if (bind_checks(b, t, p) != DC_OK)
            return NULL;
    }
    if (bind_returning(b, t, alias ? alias : t->name,
                       upd ? s->u.update->returning : s->u.del->returning,
                       p) != DC_OK)
        return NULL;
    return p;
}

/* ---- entry points ------------------------------------------------------------------ */

static void fix_params(bstate *b)
{
    if (!b->params)
        return;
    for (uint32_t i = 0; i < b->params->n; i++)
        if (b->params->types[i] == DC_TYPE_UNKNOWN)
            b->params->types[i] = DC_TYPE_TEXT;
    for (int i = 0; i < b->nparamnodes; i++) {
        sql_bexpr *e = b->paramnodes[i];
        if (e->type == DC_TYPE_UNKNOWN)
            e->type = b->params->types[e->index];
    }
}

int sql_plan_stmt(sql_ctx *ctx, sql_arena *arena, const sql_stmt *stmt,
                  const char *src, sql_param_types *params, sql_plan **out,
                  dc_error *err)
{
    bstate b;
    memset(&b, 0, sizeof b);
    b.ctx = ctx;
    b.arena = arena;
    b.src = src;
    b.params = params;
    b.err = err;
    if (err)
        err->position = 0;
    sql_plan *p = NULL;
    switch (stmt->kind) {
    case STMT_SELECT: {
        blevel *lv = level_new(&b, NULL, NULL);
        p = lv ? bind_query(&b, lv, stmt->u.select) : NULL;
        break;
    }
    case STMT_INSERT:
        p = plan_insert(&b, stmt);
        break;
    case STMT_UPDATE:
    case STMT_DELETE:
        p = plan_update_delete(&b, stmt);
        break;
    default:
        return dc_error_set(err, DC_EINVAL, "XX000",
                            "statement cannot be planned");
    }
    if (!p)
        return err && err->status < 0 ? err->status : DC_ERR;
    fix_params(&b);
    *out = p;
    return DC_OK;
}

int sql_bind_expr_text(sql_ctx *ctx, sql_arena *arena, const sql_table *t,
                       const char *text, uint32_t type, int32_t typmod,
                       sql_bexpr **out, dc_error *err)
{
    bstate b;
    memset(&b, 0, sizeof b);
    b.ctx = ctx;
    b.arena = arena;
    b.err = err;
    sql_bexpr *e = bind_text(&b, t, text);
    if (e && type)
        e = coerce(&b, e, type, typmod, SQL_CAST_ASSIGNMENT, 0);
    else if (e)
        e = finalize_unknown(&b, e);
    if (!e)
        return err && err->status < 0 ? err->status : DC_ERR;
    *out = e;
    return DC_OK;
}
