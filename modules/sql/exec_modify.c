/*
 * sql/exec_modify.c - PL_MODIFY: INSERT (with ON CONFLICT), UPDATE and
 * DELETE through tableam.h.
 *
 * The whole statement runs on the first call; RETURNING rows are kept
 * (deep copies) and handed out afterwards.  UPDATE and DELETE first read
 * every target row of the child (in memory up to work_mem, beyond it in
 * temporary files) and only then change the table, so a row moved or
 * rewritten by the statement is never met again by its own scan (the
 * Halloween problem); INSERT does the same when its source reads the
 * target table anywhere (subqueries included).  A set of the row keys
 * already changed makes sure each row is affected at most once (UPDATE ...
 * FROM with several matches) and detects ON CONFLICT DO UPDATE hitting a
 * row twice.
 *
 * Concurrency (READ COMMITTED): each target row is locked
 * (sql_txn_lock_row); when another transaction changed it since the
 * snapshot, the newest version is re-read, replaces the table part of the
 * child row, and the plan's recheck expression decides whether it is still
 * affected.
 */
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"
#include "common/alloc.h"

typedef struct modst {
    bool ran;
    xarena keep; /* RETURNING rows                       */
    dc_value **ret;
    size_t nret, retcap, pos;
    xsorter *in;  /* the child's rows, read first: in memory
                     up to work_mem, then in temporary files */
    xset touched; /* row keys changed by this statement   */
    bool track;   /* whether `touched` is needed: ON CONFLICT
                     DO UPDATE, or a child row wider than the
                     table row and its key (a join may repeat
                     a target row)                          */
    sql_buf kbuf;
    dc_value *tmp; /* 2 * natts + child width scratch      */
} modst;

static int push_row(dc_value ***arr, size_t *n, size_t *cap, dc_value *r,
                    dc_error *err)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        dc_value **a = realloc(*arr, c * sizeof(*a));
        if (!a)
            return x_oom(err);
        *arr = a;
        *cap = c;
    }
    (*arr)[(*n)++] = r;
    return DC_OK;
}

/* "Failing row contains (1, null)." */
static void failing_row(const sql_ctx *ctx, const sql_table *t,
                        const dc_value *v, dc_error *err)
{
    sql_buf b;
    sql_buf_init(&b);
    bool first = true;
    for (int i = 0; i < t->natts; i++) {
        if (t->cols[i].dropped)
            continue;
        if (!first)
            sql_buf_append(&b, ", ", 2, NULL);
        first = false;
        if (v[i].is_null)
            sql_buf_append(&b, "null", 4, NULL);
        else
            sql_value_out(&v[i], ctx->tz, &b, NULL);
    }
    dc_error_detail(err, "Failing row contains (%.*s).",
                    (int)(b.len > 400 ? 400 : b.len),
                    b.data ? (const char *)b.data : "");
    sql_buf_free(&b);
}

static int run_checks(xnode *n, const dc_value *newrow, dc_error *err)
{
    const sql_plan *p = n->p;
    const sql_table *t = p->u.modify.table;
    for (int i = 0; i < p->u.modify.nchecks; i++) {
        dc_value v;
        int rc = xn_eval(n, p->u.modify.checks[i], newrow, &v, err);
        if (rc)
            return rc;
        if (!v.is_null && !v.u.b) {
            const char *name =
                p->u.modify.check_names ? p->u.modify.check_names[i] : "";
            rc = dc_error_set(err, DC_ERR, "23514",
                              "new row for relation \"%s\" violates check "
                              "constraint \"%s\"",
                              t->name, name);
            failing_row(n->ctx, t, newrow, err);
            return rc;
        }
    }
    return DC_OK;
}

static int add_returning(xnode *n, modst *s, const dc_value *row, dc_error *err)
{
    const sql_plan *p = n->p;
    n->processed++;
    if (p->u.modify.nreturning == 0)
        return DC_OK;
    for (int i = 0; i < p->u.modify.nreturning; i++) {
        int rc = xn_eval(n, p->u.modify.returning[i], row, &n->out[i], err);
        if (rc)
            return rc;
    }
    dc_value *c = xrow_copy(&s->keep, n->out, p->u.modify.nreturning);
    if (!c)
        return x_oom(err);
    return push_row(&s->ret, &s->nret, &s->retcap, c, err);
}

static bool touched(modst *s, const uint8_t *k, size_t klen)
{
    if (!s->track)
        return false;
    dc_value v = sql_value_bytes(DC_TYPE_BYTEA, k, klen);
    return xset_has(&s->touched, &v);
}

static int touch(modst *s, const uint8_t *k, size_t klen, dc_error *err)
{
    if (!s->track)
        return DC_OK;
    dc_value v = sql_value_bytes(DC_TYPE_BYTEA, k, klen);
    bool added;
    return xset_add(&s->touched, &v, &added) ? DC_OK : x_oom(err);
}

/* ---- INSERT -------------------------------------------------------------- */

static int conflict_update(xnode *n, modst *s, const dc_value *vals,
                           dc_error *err)
{
    const sql_plan *p = n->p;
    const sql_table *t = p->u.modify.table;
    int natts = t->natts;
    uint8_t *ck = s->kbuf.data;
    size_t cklen = s->kbuf.len;
    if (touched(s, ck, cklen)) {
        int rc = dc_error_set(err, DC_ECONFLICT, "21000",
                              "ON CONFLICT DO UPDATE command cannot affect "
                              "row a second time");
        dc_error_hint(
            err, "Ensure that no rows proposed for insertion within the same "
                 "command have duplicate constrained values.");
        return rc;
    }
    dc_value *comb = s->tmp;
    bool found;
    int rc = sql_table_fetch(n->ctx->txn, SQL_READ_LATEST, t, ck, cklen,
                             &n->smem, comb, &found, err);
    if (rc || !found)
        return rc;
    memcpy(comb + natts, vals, sizeof(dc_value) * (size_t)natts);
    if (p->u.modify.conflict_where) {
        bool ok;
        if ((rc = xn_qual(n, p->u.modify.conflict_where, comb, &ok, err)) !=
                0 ||
            !ok)
            return rc;
    }
    dc_value *newv = xa_alloc(&n->mem, sizeof(dc_value) * (size_t)natts);
    if (!newv)
        return x_oom(err);
    for (int i = 0; i < natts; i++) {
        const sql_bexpr *e =
            p->u.modify.conflict_set ? p->u.modify.conflict_set[i] : NULL;
        if (!e) {
            newv[i] = comb[i];
        } else if ((rc = xn_eval(n, e, comb, &newv[i], err)) != 0) {
            return rc;
        }
    }
    if ((rc = run_checks(n, newv, err)) != 0)
        return rc;
    /* kbuf is reused below: keep the old key in node memory */
    uint8_t *old = xa_alloc(&n->mem, cklen);
    if (!old)
        return x_oom(err);
    memcpy(old, ck, cklen);
    if ((rc = sql_table_update(n->ctx->txn, t, old, cklen, comb, newv, err)) ||
        (rc = touch(s, old, cklen, err)))
        return rc;
    if (t->pkey) {
        if ((rc = sql_row_key(t, newv, &s->kbuf, err)) != 0 ||
            (rc = touch(s, s->kbuf.data, s->kbuf.len, err)) != 0)
            return rc;
    }
    return add_returning(n, s, newv, err);
}

static int insert_row(xnode *n, modst *s, const dc_value *vals, dc_error *err)
{
    const sql_plan *p = n->p;
    const sql_table *t = p->u.modify.table;
    int rc = run_checks(n, vals, err);
    if (rc)
        return rc;
    if (p->u.modify.on_conflict) {
        bool found;
        s->kbuf.len = 0;
        rc = sql_table_find_conflict(n->ctx->txn, t, p->u.modify.conflict_index,
                                     vals, &s->kbuf, &found, err);
        if (rc)
            return rc;
        if (found)
            return p->u.modify.on_conflict == 1
                       ? DC_OK
                       : conflict_update(n, s, vals, err);
    }
    s->kbuf.len = 0;
    if ((rc = sql_table_insert(n->ctx->txn, t, vals, &s->kbuf, err)) != 0)
        return rc;
    if (p->u.modify.on_conflict == 2 &&
        (rc = touch(s, s->kbuf.data, s->kbuf.len, err)) != 0)
        return rc;
    return add_returning(n, s, vals, err);
}

/* ---- UPDATE / DELETE ----------------------------------------------------- */

/* Lock the row of child row r (in place: r is node memory); *skip when
 * it is gone or no longer qualifies. */
static int lock_target(xnode *n, modst *s, dc_value *r, bool *skip,
                       dc_error *err)
{
    const sql_plan *p = n->p;
    const sql_table *t = p->u.modify.table;
    const dc_value *kv = &r[p->u.modify.key_col];
    *skip = true;
    if (kv->is_null || touched(s, kv->u.bytes.ptr, kv->u.bytes.len))
        return DC_OK;
    bool changed = false;
    int rc = sql_txn_lock_row(n->ctx->txn, kv->u.bytes.ptr, kv->u.bytes.len,
                              &changed, err);
    if (rc)
        return rc;
    if (changed) {
        bool found;
        rc = sql_table_fetch(n->ctx->txn, SQL_READ_LATEST, t, kv->u.bytes.ptr,
                             kv->u.bytes.len, &n->smem, r, &found, err);
        if (rc || !found)
            return rc;
        if (p->u.modify.recheck) {
            bool ok;
            if ((rc = xn_qual(n, p->u.modify.recheck, r, &ok, err)) != 0 || !ok)
                return rc;
        }
    }
    *skip = false;
    return DC_OK;
}

static int update_row(xnode *n, modst *s, dc_value *r, int width, dc_error *err)
{
    const sql_plan *p = n->p;
    const sql_table *t = p->u.modify.table;
    bool skip;
    int rc = lock_target(n, s, r, &skip, err);
    if (rc || skip)
        return rc;
    dc_value *newv = s->tmp; /* new table row, then the rest */
    for (int i = 0; i < t->natts; i++) {
        const sql_bexpr *e =
            p->u.modify.newvals ? p->u.modify.newvals[i] : NULL;
        if (!e)
            newv[i] = r[i];
        else if ((rc = xn_eval(n, e, r, &newv[i], err)) != 0)
            return rc;
    }
    memcpy(newv + t->natts, r + t->natts,
           sizeof(dc_value) * (size_t)(width - t->natts));
    if ((rc = run_checks(n, newv, err)) != 0)
        return rc;
    const dc_value *kv = &r[p->u.modify.key_col];
    if ((rc = sql_table_update(n->ctx->txn, t, kv->u.bytes.ptr, kv->u.bytes.len,
                               r, newv, err)) != 0 ||
        (rc = touch(s, kv->u.bytes.ptr, kv->u.bytes.len, err)) != 0)
        return rc;
    return add_returning(n, s, newv, err);
}

static int delete_row(xnode *n, modst *s, dc_value *r, dc_error *err)
{
    const sql_plan *p = n->p;
    bool skip;
    int rc = lock_target(n, s, r, &skip, err);
    if (rc || skip)
        return rc;
    const dc_value *kv = &r[p->u.modify.key_col];
    if ((rc = sql_table_delete(n->ctx->txn, p->u.modify.table, kv->u.bytes.ptr,
                               kv->u.bytes.len, r, err)) != 0 ||
        (rc = touch(s, kv->u.bytes.ptr, kv->u.bytes.len, err)) != 0)
        return rc;
    return add_returning(n, s, r, err);
}

/* ---- driver -------------------------------------------------------------- */

static bool plan_reads(const sql_plan *p, uint32_t oid);

static bool expr_reads(const sql_bexpr *e, uint32_t oid)
{
    if (!e)
        return false;
    if (e->kind == SX_SUBPLAN &&
        (plan_reads(e->sub.plan, oid) || expr_reads(e->sub.lhs, oid)))
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (expr_reads(e->args[i], oid))
            return true;
    return false;
}

static bool exprs_read(sql_bexpr *const *v, int n, uint32_t oid)
{
    for (int i = 0; v && i < n; i++)
        if (expr_reads(v[i], oid))
            return true;
    return false;
}

static bool node_exprs_read(const sql_plan *p, uint32_t oid)
{
    switch (p->kind) {
    case PL_PROJECT:
        return exprs_read(p->u.project.exprs, p->ncols, oid);
    case PL_VALUES:
        for (int r = 0; r < p->u.values.nrows; r++)
            if (exprs_read(p->u.values.rows[r], p->ncols, oid))
                return true;
        return false;
    case PL_SCAN:
    case PL_INDEXSCAN:
        return p->u.scan.table->oid == oid || expr_reads(p->u.scan.qual, oid) ||
               exprs_read(p->u.scan.range.eq, p->u.scan.range.neq, oid) ||
               expr_reads(p->u.scan.range.lo, oid) ||
               expr_reads(p->u.scan.range.hi, oid);
    case PL_FUNCSCAN:
        return exprs_read(p->u.func.args, p->u.func.nargs, oid);
    case PL_VIRTUAL:
        return expr_reads(p->u.virt.qual, oid);
    case PL_FILTER:
        return expr_reads(p->u.filter.qual, oid);
    case PL_NESTLOOP:
    case PL_HASHJOIN:
        return exprs_read(p->u.join.left_keys, p->u.join.nkeys, oid) ||
               exprs_read(p->u.join.right_keys, p->u.join.nkeys, oid) ||
               expr_reads(p->u.join.qual, oid);
    case PL_SORT:
        for (int i = 0; i < p->u.sort.nkeys; i++)
            if (expr_reads(p->u.sort.keys[i].expr, oid))
                return true;
        return expr_reads(p->u.sort.limit, oid) ||
               expr_reads(p->u.sort.offset, oid);
    case PL_AGG:
        if (exprs_read(p->u.agg.group, p->u.agg.ngroup, oid))
            return true;
        for (int i = 0; i < p->u.agg.naggs; i++) {
            const sql_aggcall *a = &p->u.agg.aggs[i];
            if (exprs_read(a->args, a->nargs, oid) ||
                expr_reads(a->filter, oid))
                return true;
            for (int k = 0; k < a->norder; k++)
                if (expr_reads(a->order[k].expr, oid))
                    return true;
        }
        return false;
    case PL_LIMIT:
        return expr_reads(p->u.limit.limit, oid) ||
               expr_reads(p->u.limit.offset, oid);
    default:
        return false;
    }
}

/* Whether running `p` reads table `oid` anywhere (subqueries included):
 * an INSERT from such a source reads all of it before writing. */
static bool plan_reads(const sql_plan *p, uint32_t oid)
{
    if (!p)
        return false;
    return node_exprs_read(p, oid) || plan_reads(p->left, oid) ||
           plan_reads(p->right, oid);
}

/* Read every child row into s->in (a sorter without keys keeps the
 * order). */
static int materialise(xnode *n, modst *s, dc_error *err)
{
    int w = n->left->p->ncols;
    xsortspec none = {0, NULL, 0};
    int rc = xsorter_new(n->ctx, w, &none, &s->in, err);
    if (rc)
        return rc;
    for (;;) {
        const dc_value *row;
        bool done;
        xa_reset(&n->mem);
        if ((rc = xnode_next(n->left, &row, &done, err)) != 0 || done)
            break;
        if ((rc = xn_tick(n, err)) != 0 ||
            (rc = xsorter_add(s->in, row, err)) != 0)
            break;
    }
    return rc ? rc : xsorter_finish(s->in, err);
}

static int apply(xnode *n, modst *s, dc_value *r, dc_error *err)
{
    switch (n->p->u.modify.op) {
    case MOD_INSERT:
        return insert_row(n, s, r, err);
    case MOD_UPDATE:
        return update_row(n, s, r, n->left->p->ncols, err);
    default:
        return delete_row(n, s, r, err);
    }
}

static int run(xnode *n, modst *s, dc_error *err)
{
    const sql_plan *p = n->p;
    int rc;
    bool stream = p->u.modify.op == MOD_INSERT &&
                  !plan_reads(p->left, p->u.modify.table->oid);
    if (stream) {
        for (;;) {
            const dc_value *row;
            bool done;
            xa_reset(&n->mem);
            if ((rc = xnode_next(n->left, &row, &done, err)) != 0 || done)
                return rc;
            if ((rc = xn_tick(n, err)) != 0 ||
                (rc = apply(n, s, (dc_value *)row, err)) != 0)
                return rc;
        }
    }
    if ((rc = materialise(n, s, err)) != 0)
        return rc;
    for (;;) {
        const dc_value *row;
        bool done;
        xa_reset(&n->mem);
        if ((rc = xsorter_next(s->in, &row, &done, err)) != 0 || done)
            return rc;
        /* the row is the sorter's copy: apply may rewrite it in place */
        if ((rc = xn_tick(n, err)) != 0 ||
            (rc = apply(n, s, (dc_value *)row, err)) != 0)
            return rc;
    }
}

static int modify_next(xnode *n, const dc_value **row, bool *done,
                       dc_error *err)
{
    modst *s = n->st;
    if (!s->ran) {
        s->ran = true;
        int rc = run(n, s, err);
        if (rc)
            return rc;
    }
    xa_reset(&n->mem);
    if (s->pos >= s->nret) {
        *done = true;
        return DC_OK;
    }
    *row = s->ret[s->pos++];
    *done = false;
    return DC_OK;
}

static void modify_close(xnode *n)
{
    modst *s = n->st;
    n->ctx->rows_written[n->p->u.modify.op] += n->processed;
    if (!s)
        return;
    xa_free(&s->keep);
    xsorter_free(s->in);
    free(s->ret);
    xset_free(&s->touched);
    sql_buf_free(&s->kbuf);
    free(s->tmp);
    free(s);
}

int xmodify_open(xnode *n, dc_error *err)
{
    modst *s = dcm_calloc(1, sizeof(*s));
    if (!s)
        return x_oom(err);
    n->st = s;
    n->next = modify_next;
    n->close = modify_close;
    s->touched.n = 1;
    sql_buf_init(&s->kbuf);
    int natts = n->p->u.modify.table->natts;
    int w = n->left ? n->left->p->ncols : 0;
    s->track = n->p->u.modify.on_conflict == 2 ||
               (n->p->u.modify.op != MOD_INSERT && w > natts + 1);
    s->tmp = dcm_calloc((size_t)(2 * natts + w + 1), sizeof(dc_value));
    if (!s->tmp)
        return x_oom(err);
    if (n->p->ncols < n->p->u.modify.nreturning)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "RETURNING wider than the plan's columns");
    return DC_OK;
}
