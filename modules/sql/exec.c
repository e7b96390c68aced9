/*
 * sql/exec.c - the executor's cursor (exec.h), the run-time node
 * framework (exec_int.h) and the simple nodes: PL_PROJECT, PL_VALUES,
 * PL_SCAN, PL_INDEXSCAN, PL_FUNCSCAN, PL_VIRTUAL, PL_FILTER, PL_LIMIT.
 * Joins, sorts, aggregation, set operations and data changes live in
 * exec_join.c, exec_sort.c, exec_agg.c and exec_modify.c.
 */
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"
#include "common/alloc.h"

struct sql_cursor {
    xcursor x;
};

static _Thread_local xcursor *tl_cur;

xcursor *xcursor_current(void)
{
    return tl_cur;
}

void xcursor_set_current(xcursor *c)
{
    tl_cur = c;
}

/* ---- node framework ------------------------------------------------------ */

int xnode_next(xnode *n, const dc_value **row, bool *done, dc_error *err)
{
    sql_mem saved = n->ctx->mem;
    n->ctx->mem = n->smem;
    int rc = n->next(n, row, done, err);
    n->ctx->mem = saved;
    return rc;
}

void xnode_close(xnode *n)
{
    if (!n)
        return;
    if (n->close)
        n->close(n);
    xnode_close(n->left);
    xnode_close(n->right);
    xa_free(&n->mem);
    free(n->out);
    free(n->need);
    free(n);
}

int xn_tick(xnode *n, dc_error *err)
{
    if (++n->ticks % XCANCEL_EVERY == 0)
        return sql_check_cancel(n->ctx, err);
    return DC_OK;
}

/* ---- PL_PROJECT ---------------------------------------------------------- */

static int project_next(xnode *n, const dc_value **row, bool *done,
                        dc_error *err)
{
    const dc_value *in = NULL;
    xa_reset(&n->mem);
    if (n->left) {
        int rc = xnode_next(n->left, &in, done, err);
        if (rc || *done)
            return rc;
    } else {
        if (n->ticks++ > 0) {
            *done = true;
            return DC_OK;
        }
    }
    for (int i = 0; i < n->p->ncols; i++) {
        int rc = xn_eval(n, n->p->u.project.exprs[i], in, &n->out[i], err);
        if (rc)
            return rc;
    }
    *row = n->out;
    *done = false;
    return DC_OK;
}

/* ---- PL_VALUES ----------------------------------------------------------- */

static int values_next(xnode *n, const dc_value **row, bool *done,
                       dc_error *err)
{
    xa_reset(&n->mem);
    if (n->ticks >= (uint64_t)n->p->u.values.nrows) {
        *done = true;
        return DC_OK;
    }
    sql_bexpr **r = n->p->u.values.rows[n->ticks++];
    for (int i = 0; i < n->p->ncols; i++) {
        int rc = xn_eval(n, r[i], NULL, &n->out[i], err);
        if (rc)
            return rc;
    }
    *row = n->out;
    *done = false;
    return DC_OK;
}

/* ---- PL_FILTER ----------------------------------------------------------- */

static int filter_next(xnode *n, const dc_value **row, bool *done,
                       dc_error *err)
{
    for (;;) {
        xa_reset(&n->mem);
        const dc_value *in;
        int rc = xnode_next(n->left, &in, done, err);
        if (rc || *done)
            return rc;
        bool ok;
        if ((rc = xn_qual(n, n->p->u.filter.qual, in, &ok, err)) != 0)
            return rc;
        if (ok) {
            *row = in;
            return DC_OK;
        }
        if ((rc = xn_tick(n, err)) != 0)
            return rc;
    }
}

/* ---- PL_LIMIT ------------------------------------------------------------ */

typedef struct limitst {
    bool started;
    bool has_limit;
    int64_t limit, offset, emitted;
} limitst;

/* A LIMIT / OFFSET value as int8 (NULL: *isnull). */
static int limit_value(xnode *n, const sql_bexpr *e, int64_t *v, bool *isnull,
                       dc_error *err)
{
    dc_value x;
    int rc = xn_eval(n, e, NULL, &x, err);
    if (rc)
        return rc;
    *isnull = x.is_null;
    if (x.is_null)
        return DC_OK;
    if (x.type != DC_TYPE_INT8 && x.type != DC_TYPE_INT4 &&
        x.type != DC_TYPE_INT2) {
        dc_value c;
        rc = sql_value_cast(&x, DC_TYPE_INT8, -1, SQL_CAST_ASSIGNMENT,
                            n->ctx->tz, &n->smem, &c, err);
        if (rc)
            return rc;
        x = c;
    }
    *v = x.u.i;
    return DC_OK;
}

static int limit_start(xnode *n, limitst *s, dc_error *err)
{
    const sql_plan *p = n->p;
    bool isnull;
    s->started = true;
    if (p->u.limit.limit) {
        int rc = limit_value(n, p->u.limit.limit, &s->limit, &isnull, err);
        if (rc)
            return rc;
        s->has_limit = !isnull;
        if (s->has_limit && s->limit < 0)
            return dc_error_set(err, DC_EINVAL, "2201W",
                                "LIMIT must not be negative");
    }
    if (p->u.limit.offset) {
        int rc = limit_value(n, p->u.limit.offset, &s->offset, &isnull, err);
        if (rc)
            return rc;
        if (isnull)
            s->offset = 0;
        if (s->offset < 0)
            return dc_error_set(err, DC_EINVAL, "2201X",
                                "OFFSET must not be negative");
    }
    return DC_OK;
}

static int limit_next(xnode *n, const dc_value **row, bool *done, dc_error *err)
{
    limitst *s = n->st;
    int rc;
    xa_reset(&n->mem);
    if (!s->started && (rc = limit_start(n, s, err)) != 0)
        return rc;
    if (s->has_limit && s->emitted >= s->limit) {
        *done = true;
        return DC_OK;
    }
    for (;;) {
        if ((rc = xnode_next(n->left, row, done, err)) != 0 || *done)
            return rc;
        if (s->offset > 0) {
            s->offset--;
            if ((rc = xn_tick(n, err)) != 0)
                return rc;
            continue;
        }
        s->emitted++;
        return DC_OK;
    }
}

/* ---- PL_SCAN / PL_INDEXSCAN ---------------------------------------------- */

typedef struct scanst {
    sql_scan *scan;
    sql_buf lo, hi; /* bounds, kept while the scan is open */
    bool started, empty;
    bool point;      /* equality on the whole primary key: lo is the row
                        key, read with one lookup instead of a scan    */
    bool point_done;
    int64_t emitted;
    int natts;
} scanst;

/* Whether the key range pins every primary key column to one value: at
 * most one row, found by key. */
static bool scan_is_point(const sql_plan *p)
{
    const sql_keyrange *r = &p->u.scan.range;
    const sql_index *pk = p->u.scan.table->pkey;
    if (p->kind == PL_INDEXSCAN && !(p->u.scan.index && p->u.scan.index->primary))
        return false;
    return pk && r->neq == pk->ncols && !r->lo && !r->hi;
}

static int scan_columns(xnode *n, sql_scan *scan, dc_error *err);

static int key_prefix(const sql_plan *p, const dc_value *vals, int n,
                      sql_buf *key, dc_error *err)
{
    if (p->kind == PL_INDEXSCAN)
        return sql_index_key_prefix(p->u.scan.index, vals, n, key, err);
    return sql_row_key_prefix(p->u.scan.table, vals, n, key, err);
}

/* Evaluate a bound value; *empty when it is NULL. */
static int bound_value(xnode *n, const sql_bexpr *e, dc_value *v, bool *empty,
                       dc_error *err)
{
    int rc = xn_eval(n, e, NULL, v, err);
    if (rc == DC_OK && v->is_null)
        *empty = true;
    return rc;
}

/* Build [lo, hi) from the key range.  A column's non-NULL values all
 * start with marker byte 0x01 after the prefix (types.h), so an open side
 * of a range stops at the NULLs: [base|01, base|02). */
static int scan_bounds(xnode *n, sql_buf *lo, sql_buf *hi, bool *whole,
                       bool *empty, dc_error *err)
{
    const sql_plan *p = n->p;
    const sql_keyrange *r = &p->u.scan.range;
    const sql_index *ix =
        p->kind == PL_INDEXSCAN ? p->u.scan.index : p->u.scan.table->pkey;
    *whole = r->neq == 0 && !r->lo && !r->hi;
    if (*whole)
        return DC_OK;
    if (!ix)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "key range on a table without a primary key");
    dc_value *vals = xa_alloc(&n->mem, sizeof(dc_value) * (size_t)(r->neq + 1));
    if (!vals)
        return x_oom(err);
    int rc;
    for (int i = 0; i < r->neq; i++)
        if ((rc = bound_value(n, r->eq[i], &vals[i], empty, err)) != 0)
            return rc;
    if (*empty)
        return DC_OK;
    if (!r->lo && !r->hi) {
        if ((rc = key_prefix(p, vals, r->neq, lo, err)) != 0 ||
            (rc = key_prefix(p, vals, r->neq, hi, err)) != 0)
            return rc;
        return sql_key_successor(hi, err);
    }
    bool desc = ix->flags && (ix->flags[r->neq] & SQL_KEY_DESC);
    const sql_bexpr *kl = desc ? r->hi : r->lo, *ku = desc ? r->lo : r->hi;
    bool kl_incl = desc ? r->hi_incl : r->lo_incl;
    bool ku_incl = desc ? r->lo_incl : r->hi_incl;
    uint8_t m1 = 0x01, m2 = 0x02;
    if (kl) {
        if ((rc = bound_value(n, kl, &vals[r->neq], empty, err)) != 0)
            return rc;
        if (*empty)
            return DC_OK;
        if ((rc = key_prefix(p, vals, r->neq + 1, lo, err)) != 0)
            return rc;
        if (!kl_incl && (rc = sql_key_successor(lo, err)) != 0)
            return rc;
    } else if ((rc = key_prefix(p, vals, r->neq, lo, err)) != 0 ||
               (rc = sql_buf_append(lo, &m1, 1, err)) != 0) {
        return rc;
    }
    if (ku) {
        if ((rc = bound_value(n, ku, &vals[r->neq], empty, err)) != 0)
            return rc;
        if (*empty)
            return DC_OK;
        if ((rc = key_prefix(p, vals, r->neq + 1, hi, err)) != 0)
            return rc;
        if (ku_incl && (rc = sql_key_successor(hi, err)) != 0)
            return rc;
    } else if ((rc = key_prefix(p, vals, r->neq, hi, err)) != 0 ||
               (rc = sql_buf_append(hi, &m2, 1, err)) != 0) {
        return rc;
    }
    return DC_OK;
}

static int buf_cmp(const sql_buf *a, const sql_buf *b)
{
    size_t m = a->len < b->len ? a->len : b->len;
    int r = m ? memcmp(a->data, b->data, m) : 0;
    if (r)
        return r;
    return a->len < b->len ? -1 : a->len > b->len;
}

static int scan_start(xnode *n, scanst *s, dc_error *err)
{
    const sql_plan *p = n->p;
    sql_buf lo = {0}, hi = {0};
    bool whole = false;
    s->started = true;
    int rc = scan_bounds(n, &lo, &hi, &whole, &s->empty, err);
    if (rc == DC_OK && !s->empty && !whole && buf_cmp(&lo, &hi) >= 0)
        s->empty = true;
    if (rc == DC_OK && !s->empty && !whole && scan_is_point(p))
        s->point = true;
    if (rc == DC_OK && !s->empty && !s->point) {
        int mode = p->u.scan.latest ? SQL_READ_LATEST : SQL_READ_SNAPSHOT;
        const uint8_t *l = whole ? NULL : lo.data, *h = whole ? NULL : hi.data;
        size_t ll = whole ? 0 : lo.len, hl = whole ? 0 : hi.len;
        if (p->kind == PL_INDEXSCAN)
            rc = sql_index_scan_open(n->ctx->txn, mode, p->u.scan.table,
                                     p->u.scan.index, l, ll, h, hl, &s->scan,
                                     err);
        else
            rc = sql_table_scan_open(n->ctx->txn, mode, p->u.scan.table, l, ll,
                                     h, hl, &s->scan, err);
        if (rc == DC_OK)
            rc = scan_columns(n, s->scan, err);
    }
    s->lo = lo;
    s->hi = hi;
    return rc;
}

/* The one row of a point scan (scan_is_point). */
static int point_next(xnode *n, scanst *s, const dc_value **row, bool *done,
                      dc_error *err)
{
    const sql_plan *p = n->p;
    *done = true;
    if (s->point_done)
        return DC_OK;
    s->point_done = true;
    int mode = p->u.scan.latest ? SQL_READ_LATEST : SQL_READ_SNAPSHOT;
    bool found = false;
    int rc = sql_table_fetch(n->ctx->txn, mode, p->u.scan.table, s->lo.data,
                             s->lo.len, &n->smem, n->out, &found, err);
    if (rc || !found)
        return rc;
    if ((rc = xn_tick(n, err)) != 0)
        return rc;
    if (p->u.scan.emit_key)
        n->out[s->natts] = sql_value_bytes(DC_TYPE_BYTEA, s->lo.data, s->lo.len);
    bool ok = true;
    if (p->u.scan.qual &&
        (rc = xn_qual(n, p->u.scan.qual, n->out, &ok, err)) != 0)
        return rc;
    if (ok) {
        s->emitted++;
        *row = n->out;
        *done = false;
    }
    return DC_OK;
}

static int scan_next(xnode *n, const dc_value **row, bool *done, dc_error *err)
{
    scanst *s = n->st;
    const sql_plan *p = n->p;
    int rc;
    xa_reset(&n->mem);
    if (!s->started && (rc = scan_start(n, s, err)) != 0)
        return rc;
    if (s->empty || (p->u.scan.limit >= 0 && s->emitted >= p->u.scan.limit)) {
        *done = true;
        return DC_OK;
    }
    if (s->point)
        return point_next(n, s, row, done, err);
    for (;;) {
        const uint8_t *key = NULL;
        size_t klen = 0;
        bool valid;
        xa_reset(&n->mem);
        rc =
            sql_scan_next(s->scan, &n->smem, n->out,
                          p->u.scan.emit_key ? &key : NULL, &klen, &valid, err);
        if (rc)
            return rc;
        if (!valid) {
            *done = true;
            return DC_OK;
        }
        if ((rc = xn_tick(n, err)) != 0)
            return rc;
        if (p->u.scan.emit_key) {
            uint8_t *k = xa_alloc(&n->mem, klen);
            if (!k)
                return x_oom(err);
            memcpy(k, key, klen);
            n->out[s->natts] = sql_value_bytes(DC_TYPE_BYTEA, k, klen);
        }
        bool ok = true;
        if (p->u.scan.qual &&
            (rc = xn_qual(n, p->u.scan.qual, n->out, &ok, err)) != 0)
            return rc;
        if (ok) {
            s->emitted++;
            *row = n->out;
            *done = false;
            return DC_OK;
        }
    }
}

static void scan_close(xnode *n)
{
    scanst *s = n->st;
    n->ctx->rows_read += n->ticks; /* every row the scan read */
    if (!s)
        return;
    if (s->scan)
        sql_scan_close(s->scan);
    sql_buf_free(&s->lo);
    sql_buf_free(&s->hi);
    free(s);
}

/* ---- PL_FUNCSCAN --------------------------------------------------------- */

typedef struct funcst {
    sql_srf_state *srf;
    bool started, empty;
    xarena keep; /* the arguments, for the whole scan */
} funcst;

static int func_start(xnode *n, funcst *s, dc_error *err)
{
    const sql_plan *p = n->p;
    dc_value args[4];
    s->started = true;
    if (p->u.func.nargs > 4)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "too many set-returning function arguments");
    for (int i = 0; i < p->u.func.nargs; i++) {
        int rc = xn_eval(n, p->u.func.args[i], NULL, &args[i], err);
        if (rc)
            return rc;
        if (args[i].is_null) { /* strict: no rows */
            s->empty = true;
            return DC_OK;
        }
        if (!xval_copy(&s->keep, &args[i]))
            return x_oom(err);
    }
    sql_mem saved = n->ctx->mem;
    n->ctx->mem = xa_mem(&s->keep);
    int rc = p->u.func.srf.open(n->ctx, p->u.func.nargs, args, &s->srf, err);
    n->ctx->mem = saved;
    return rc;
}

static int func_next(xnode *n, const dc_value **row, bool *done, dc_error *err)
{
    funcst *s = n->st;
    int rc;
    xa_reset(&n->mem);
    if (!s->started && (rc = func_start(n, s, err)) != 0)
        return rc;
    if (s->empty) {
        *done = true;
        return DC_OK;
    }
    if ((rc = xn_tick(n, err)) != 0)
        return rc;
    rc = n->p->u.func.srf.next(n->ctx, s->srf, &n->out[0], done, err);
    if (rc == DC_OK && !*done)
        *row = n->out;
    return rc;
}

static void func_close(xnode *n)
{
    funcst *s = n->st;
    if (!s)
        return;
    if (s->srf && n->p->u.func.srf.close)
        n->p->u.func.srf.close(s->srf);
    xa_free(&s->keep);
    free(s);
}

/* ---- PL_VIRTUAL ---------------------------------------------------------- */

typedef struct virtst {
    bool started;
    xarena keep;
    dc_value **rows;
    size_t n, cap, pos;
    xnode *node;
} virtst;

static int virt_emit(void *ud, const dc_value *vals, dc_error *err)
{
    virtst *s = ud;
    xnode *n = s->node;
    bool ok = true;
    xa_reset(&n->mem);
    if (n->p->u.virt.qual) {
        sql_mem saved = n->ctx->mem;
        n->ctx->mem = n->smem;
        int rc = xn_qual(n, n->p->u.virt.qual, vals, &ok, err);
        n->ctx->mem = saved;
        if (rc)
            return rc;
    }
    if (!ok)
        return DC_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        dc_value **r = realloc(s->rows, cap * sizeof(*r));
        if (!r)
            return x_oom(err);
        s->rows = r;
        s->cap = cap;
    }
    dc_value *c = xrow_copy(&s->keep, vals, n->p->ncols);
    if (!c)
        return x_oom(err);
    s->rows[s->n++] = c;
    return DC_OK;
}

static int virt_next(xnode *n, const dc_value **row, bool *done, dc_error *err)
{
    virtst *s = n->st;
    if (!s->started) {
        s->started = true;
        const sql_vrel *rel = n->p->u.virt.rel;
        sql_mem saved = n->ctx->mem;
        n->ctx->mem = xa_mem(&s->keep);
        int rc = rel->rows(n->ctx, rel, virt_emit, s, err);
        n->ctx->mem = saved;
        if (rc)
            return rc;
    }
    xa_reset(&n->mem);
    if (s->pos >= s->n) {
        *done = true;
        return DC_OK;
    }
    *row = s->rows[s->pos++];
    *done = false;
    return DC_OK;
}

static void virt_close(xnode *n)
{
    virtst *s = n->st;
    if (!s)
        return;
    xa_free(&s->keep);
    free(s->rows);
    free(s);
}

/* ---- opening ------------------------------------------------------------- */

static void free_st(xnode *n)
{
    free(n->st);
}

static int simple_open(xnode *n, dc_error *err)
{
    const sql_plan *p = n->p;
    switch (p->kind) {
    case PL_PROJECT:
        n->next = project_next;
        return DC_OK;
    case PL_VALUES:
        n->next = values_next;
        return DC_OK;
    case PL_FILTER:
        n->next = filter_next;
        return DC_OK;
    case PL_LIMIT:
        n->next = limit_next;
        n->st = dcm_calloc(1, sizeof(limitst));
        n->close = free_st;
        break;
    case PL_SCAN:
    case PL_INDEXSCAN: {
        scanst *s = dcm_calloc(1, sizeof(scanst));
        n->st = s;
        n->next = scan_next;
        n->close = scan_close;
        if (s)
            s->natts = p->u.scan.table->natts;
        break;
    }
    case PL_FUNCSCAN:
        n->next = func_next;
        n->close = func_close;
        n->st = dcm_calloc(1, sizeof(funcst));
        break;
    case PL_VIRTUAL: {
        virtst *s = dcm_calloc(1, sizeof(virtst));
        n->st = s;
        n->next = virt_next;
        n->close = virt_close;
        if (s)
            s->node = n;
        break;
    }
    default:
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "unknown plan node %d", (int)p->kind);
    }
    return n->st ? DC_OK : x_oom(err);
}

/* ---- needed columns --------------------------------------------------------
 * Which output columns of each node its consumer reads, derived top-down
 * from the expressions of the plan, so that scans decode only those.  A
 * bitmap of NULL means "all"; node kinds not handled here ask their
 * children for everything. */

static uint8_t *need_new(int ncols)
{
    return dcm_calloc((size_t)(ncols > 0 ? ncols : 1) / 8 + 1, 1);
}

static void need_set(uint8_t *bm, int ncols, int i)
{
    if (i >= 0 && i < ncols)
        bm[i / 8] |= (uint8_t)(1u << (i % 8));
}

static bool need_has(const uint8_t *bm, int i)
{
    return !bm || (bm[i / 8] & (1u << (i % 8)));
}

/* Mark the input columns (shifted by -off) an expression reads. */
static void need_expr(const sql_bexpr *e, uint8_t *bm, int ncols, int off)
{
    if (!e)
        return;
    if (e->kind == SX_COL)
        need_set(bm, ncols, e->index - off);
    for (int i = 0; i < e->nargs; i++)
        need_expr(e->args[i], bm, ncols, off);
    if (e->kind == SX_SUBPLAN)
        need_expr(e->sub.lhs, bm, ncols, off);
}

static void need_exprs(sql_bexpr *const *es, int n, uint8_t *bm, int ncols,
                       int off)
{
    for (int i = 0; es && i < n; i++)
        need_expr(es[i], bm, ncols, off);
}

/* Copy of the parent's needs (a bitmap of pcols) [from, from + ncols) as
 * a child's, or NULL (all) when the parent needs all.  Columns beyond the
 * parent's count are needed. */
static uint8_t *need_slice(const uint8_t *need, int pcols, int from,
                           int ncols, bool *oom)
{
    if (!need)
        return NULL;
    uint8_t *bm = need_new(ncols);
    if (!bm) {
        *oom = true;
        return NULL;
    }
    for (int i = 0; i < ncols; i++)
        if (from + i >= pcols || need_has(need, from + i))
            need_set(bm, ncols, i);
    return bm;
}

/* Columns of child `c` (p->left or p->right) that node p reads, given
 * the columns of p's own output its consumer needs.  NULL: all. */
static uint8_t *need_child(const sql_plan *p, const sql_plan *c,
                           const uint8_t *need, bool *oom)
{
    int nc = c->ncols;
    uint8_t *bm = NULL;
    switch (p->kind) {
    case PL_PROJECT:
        if ((bm = need_new(nc)))
            need_exprs(p->u.project.exprs, p->ncols, bm, nc, 0);
        break;
    case PL_FILTER:
        if ((bm = need_slice(need, p->ncols, 0, nc, oom)))
            need_expr(p->u.filter.qual, bm, nc, 0);
        return bm;
    case PL_LIMIT:
        return need_slice(need, p->ncols, 0, nc, oom);
    case PL_SORT:
        if ((bm = need_slice(need, p->ncols, 0, nc, oom)))
            for (int i = 0; i < p->u.sort.nkeys; i++)
                need_expr(p->u.sort.keys[i].expr, bm, nc, 0);
        return bm;
    case PL_AGG:
        if (!(bm = need_new(nc)))
            break;
        need_exprs(p->u.agg.group, p->u.agg.ngroup, bm, nc, 0);
        for (int i = 0; i < p->u.agg.naggs; i++) {
            const sql_aggcall *a = &p->u.agg.aggs[i];
            need_exprs(a->args, a->nargs, bm, nc, 0);
            need_expr(a->filter, bm, nc, 0);
            for (int k = 0; k < a->norder; k++)
                need_expr(a->order[k].expr, bm, nc, 0);
        }
        break;
    case PL_NESTLOOP:
    case PL_HASHJOIN: {
        bool right = c == p->right;
        int off = right ? p->left->ncols : 0;
        sql_jointype jt = p->u.join.type;
        bool left_only = jt == SQL_JOIN_SEMI || jt == SQL_JOIN_ANTI;
        if (left_only && right) {
            bm = need_new(nc);
        } else {
            if (!need)
                return NULL;
            bm = need_slice(need, p->ncols, off, nc, oom);
        }
        if (!bm)
            break;
        need_exprs(right ? p->u.join.right_keys : p->u.join.left_keys,
                   p->u.join.nkeys, bm, nc, 0);
        need_expr(p->u.join.qual, bm, nc, off);
        return bm;
    }
    default:
        return NULL;
    }
    if (!bm)
        *oom = true;
    return bm;
}

/* A scan's columns: what the consumer needs and what the qual reads. */
static int scan_columns(xnode *n, sql_scan *scan, dc_error *err)
{
    const sql_plan *p = n->p;
    if (!n->need)
        return DC_OK;
    const sql_table *t = p->u.scan.table;
    bool oom = false;
    uint8_t *bm = need_slice(n->need, p->ncols, 0, t->natts, &oom);
    if (!bm)
        return x_oom(err);
    need_expr(p->u.scan.qual, bm, t->natts, 0);
    int rc = sql_scan_set_columns(scan, bm, err);
    free(bm);
    return rc;
}

static int xnode_open_need(sql_ctx *ctx, xcursor *cur, const sql_plan *p,
                           const dc_value *outer, uint8_t *need, xnode **out,
                           dc_error *err);

static int open_child(xnode *n, const sql_plan *c, xnode **out,
                      dc_error *err)
{
    bool oom = false;
    uint8_t *need = need_child(n->p, c, n->need, &oom);
    if (oom)
        return x_oom(err);
    return xnode_open_need(n->ctx, n->cur, c, n->outer, need, out, err);
}

int xnode_open(sql_ctx *ctx, xcursor *cur, const sql_plan *p,
               const dc_value *outer, xnode **out, dc_error *err)
{
    return xnode_open_need(ctx, cur, p, outer, NULL, out, err);
}

/* Open node p whose consumer reads the columns in `need` (taken over;
 * NULL: all). */
static int xnode_open_need(sql_ctx *ctx, xcursor *cur, const sql_plan *p,
                           const dc_value *outer, uint8_t *need, xnode **out,
                           dc_error *err)
{
    xnode *n = dcm_calloc(1, sizeof(*n));
    if (!n) {
        free(need);
        return x_oom(err);
    }
    n->p = p;
    n->ctx = ctx;
    n->cur = cur;
    n->outer = outer;
    n->need = need;
    n->smem = xa_mem(&n->mem);
    n->out = dcm_calloc((size_t)(p->ncols > 0 ? p->ncols : 1), sizeof(dc_value));
    int rc = n->out ? DC_OK : x_oom(err);
    if (rc == DC_OK && p->left)
        rc = open_child(n, p->left, &n->left, err);
    if (rc == DC_OK && p->right)
        rc = open_child(n, p->right, &n->right, err);
    if (rc == DC_OK) {
        switch (p->kind) {
        case PL_NESTLOOP:
        case PL_HASHJOIN:
            rc = xjoin_open(n, err);
            break;
        case PL_SORT:
            rc = xsort_open(n, err);
            break;
        case PL_AGG:
            rc = xagg_open(n, err);
            break;
        case PL_SETOP:
            rc = xsetop_open(n, err);
            break;
        case PL_DISTINCT:
            rc = xdistinct_open(n, err);
            break;
        case PL_MODIFY:
            rc = xmodify_open(n, err);
            break;
        default:
            rc = simple_open(n, err);
            break;
        }
    }
    if (rc) {
        xnode_close(n);
        return rc;
    }
    *out = n;
    return DC_OK;
}

/* ---- cursor -------------------------------------------------------------- */

int sql_exec_open(sql_ctx *ctx, const sql_plan *plan, sql_cursor **out,
                  dc_error *err)
{
    sql_cursor *c = dcm_calloc(1, sizeof(*c));
    if (!c)
        return x_oom(err);
    c->x.ctx = ctx;
    xcursor *saved = tl_cur;
    tl_cur = &c->x;
    int rc = xnode_open(ctx, &c->x, plan, NULL, &c->x.root, err);
    tl_cur = saved;
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return DC_OK;
}

int sql_exec_next(sql_cursor *c, dc_row *row, bool *done, dc_error *err)
{
    xcursor *saved = tl_cur;
    tl_cur = &c->x;
    const dc_value *r = NULL;
    bool d = true;
    int rc = xnode_next(c->x.root, &r, &d, err);
    tl_cur = saved;
    if (rc)
        return rc;
    *done = d;
    if (!d) {
        row->ncols = (uint32_t)c->x.root->p->ncols;
        row->values = r;
    }
    return DC_OK;
}

uint64_t sql_exec_processed(const sql_cursor *c)
{
    return c->x.root->processed;
}

void sql_exec_close(sql_cursor *c)
{
    if (!c)
        return;
    xcursor *saved = tl_cur;
    tl_cur = &c->x;
    xnode_close(c->x.root);
    xsubcache_free(&c->x);
    tl_cur = saved;
    free(c);
}
