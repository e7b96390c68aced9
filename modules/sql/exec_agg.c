/*
 * sql/exec_agg.c - PL_AGG (plain and hashed aggregation), PL_DISTINCT and
 * PL_SETOP.
 *
 * Groups live in a hash table on their key values (deep copies in node
 * memory) and are handed out in order of first appearance.  Each group
 * holds one zeroed state per aggregate call; DISTINCT aggregates keep a
 * per-group set of the argument tuples seen, and aggregates with ORDER BY
 * collect their arguments and sort them before stepping at the end.  The
 * hash table, states and sets count against ctx->work_mem (53200 beyond).
 */
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"
#include "common/alloc.h"

typedef struct ordrows {
    dc_value **rows; /* args then order key values           */
    size_t n, cap;
} ordrows;

typedef struct agroup {
    dc_value *keys;
    uint8_t **states; /* naggs states                         */
    xset **dsets;     /* DISTINCT aggregates, lazily          */
    ordrows *ord;     /* ORDER BY aggregates                  */
    size_t *statemem; /* last reported extra bytes            */
} agroup;

typedef struct aggst {
    bool built, hashed;
    int ngroup, naggs;
    xarena keep;
    xhash ht;
    agroup **groups;
    size_t ngroups, cap, pos;
    size_t extra;   /* state memory beyond keep             */
    dc_value *keys; /* scratch for a row's group keys       */
} aggst;

static size_t align8(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

static agroup *group_new(xnode *n, aggst *s, const dc_value *keys)
{
    const sql_plan *p = n->p;
    agroup *g = xa_alloc(&s->keep, sizeof(agroup));
    if (!g)
        return NULL;
    memset(g, 0, sizeof(*g));
    g->keys = xrow_copy(&s->keep, keys, s->ngroup);
    size_t na = (size_t)(s->naggs ? s->naggs : 1);
    g->states = xa_alloc(&s->keep, na * sizeof(uint8_t *));
    g->dsets = xa_alloc(&s->keep, na * sizeof(xset *));
    g->ord = xa_alloc(&s->keep, na * sizeof(ordrows));
    g->statemem = xa_alloc(&s->keep, na * sizeof(size_t));
    if (!g->keys || !g->states || !g->dsets || !g->ord || !g->statemem)
        return NULL;
    memset(g->dsets, 0, na * sizeof(xset *));
    memset(g->ord, 0, na * sizeof(ordrows));
    memset(g->statemem, 0, na * sizeof(size_t));
    for (int i = 0; i < s->naggs; i++) {
        size_t sz = align8(p->u.agg.aggs[i].agg.state_size);
        g->states[i] = xa_alloc(&s->keep, sz ? sz : 8);
        if (!g->states[i])
            return NULL;
        memset(g->states[i], 0, sz ? sz : 8);
    }
    if (s->ngroups == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        agroup **ng = realloc(s->groups, cap * sizeof(*ng));
        if (!ng)
            return NULL;
        s->groups = ng;
        s->cap = cap;
    }
    s->groups[s->ngroups++] = g;
    return g;
}

static size_t agg_bytes(const aggst *s)
{
    return s->keep.total + xh_bytes(&s->ht) + s->cap * sizeof(void *) +
           s->extra;
}

static int find_group(xnode *n, aggst *s, const dc_value *row, agroup **out,
                      dc_error *err)
{
    const sql_plan *p = n->p;
    for (int i = 0; i < s->ngroup; i++) {
        int rc = xn_eval(n, p->u.agg.group[i], row, &s->keys[i], err);
        if (rc)
            return rc;
    }
    uint64_t h = xrow_hash(s->keys, s->ngroup);
    size_t pos = 0;
    agroup *g;
    while ((g = xh_next(&s->ht, h, &pos)) != NULL) {
        if (xrow_eq(g->keys, s->keys, s->ngroup)) {
            *out = g;
            return DC_OK;
        }
    }
    g = group_new(n, s, s->keys);
    if (!g || !xh_insert(&s->ht, h, g))
        return x_oom(err);
    *out = g;
    if (agg_bytes(s) > x_work_mem(n->ctx))
        return x_workmem_error(n->ctx, "hash table", err);
    return DC_OK;
}

static int ord_add(aggst *s, ordrows *o, const dc_value *vals, int n,
                   dc_error *err)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        dc_value **r = realloc(o->rows, cap * sizeof(*r));
        if (!r)
            return x_oom(err);
        s->extra += (cap - o->cap) * sizeof(*r);
        o->rows = r;
        o->cap = cap;
    }
    dc_value *c = xrow_copy(&s->keep, vals, n);
    if (!c)
        return x_oom(err);
    o->rows[o->n++] = c;
    return DC_OK;
}

static void note_mem(aggst *s, agroup *g, int i, const sql_agg_resolved *a)
{
    if (!a->mem)
        return;
    size_t m = a->mem(g->states[i]);
    s->extra += m - g->statemem[i];
    g->statemem[i] = m;
}

/* Feed one input row to aggregate i of group g. */
static int agg_row(xnode *n, aggst *s, agroup *g, int i, const dc_value *row,
                   dc_error *err)
{
    const sql_aggcall *ac = &n->p->u.agg.aggs[i];
    int rc;
    if (ac->filter) {
        bool ok;
        if ((rc = xn_qual(n, ac->filter, row, &ok, err)) != 0 || !ok)
            return rc;
    }
    int na = ac->nargs, nv = na + ac->norder;
    /* The common sum(col) / count(col): step straight over the input
     * row's value, no copy. */
    if (na == 1 && nv == 1 && !ac->distinct && row &&
        ac->args[0]->kind == SX_COL) {
        const dc_value *a = &row[ac->args[0]->index];
        if (a->is_null && (ac->agg.flags & SQL_FN_STRICT))
            return DC_OK;
        rc = ac->agg.step(n->ctx, g->states[i], 1, a, err);
        if (rc == DC_OK)
            note_mem(s, g, i, &ac->agg);
        return rc;
    }
    dc_value stack[8];
    dc_value *args =
        nv <= 8 ? stack : xa_alloc(&n->mem, sizeof(dc_value) * (size_t)nv);
    if (!args)
        return x_oom(err);
    for (int k = 0; k < na; k++) {
        if ((rc = xn_eval(n, ac->args[k], row, &args[k], err)) != 0)
            return rc;
        if (args[k].is_null && (ac->agg.flags & SQL_FN_STRICT))
            return DC_OK;
    }
    if (ac->distinct) {
        if (!g->dsets[i]) {
            g->dsets[i] = dcm_calloc(1, sizeof(xset));
            if (!g->dsets[i])
                return x_oom(err);
            /* one set per group: start small */
            g->dsets[i]->mem.first = 256;
            g->dsets[i]->n = na;
        }
        size_t before = xset_bytes(g->dsets[i]);
        bool added;
        if (!xset_add(g->dsets[i], args, &added))
            return x_oom(err);
        s->extra += xset_bytes(g->dsets[i]) - before;
        if (!added)
            return DC_OK;
    }
    if (ac->norder > 0) {
        for (int k = 0; k < ac->norder; k++)
            if ((rc = xn_eval(n, ac->order[k].expr, row, &args[na + k], err)) !=
                0)
                return rc;
        return ord_add(s, &g->ord[i], args, nv, err);
    }
    rc = ac->agg.step(n->ctx, g->states[i], na, args, err);
    if (rc == DC_OK)
        note_mem(s, g, i, &ac->agg);
    return rc;
}

static int agg_consume(xnode *n, aggst *s, dc_error *err)
{
    agroup *one = NULL;
    if (!s->hashed && !(one = group_new(n, s, s->keys)))
        return x_oom(err);
    for (;;) {
        const dc_value *row;
        bool done;
        xa_reset(&n->mem);
        int rc = xnode_next(n->left, &row, &done, err);
        if (rc)
            return rc;
        if (done)
            return DC_OK;
        if ((rc = xn_tick(n, err)) != 0)
            return rc;
        agroup *g = one;
        if (!g && (rc = find_group(n, s, row, &g, err)) != 0)
            return rc;
        for (int i = 0; i < s->naggs; i++)
            if ((rc = agg_row(n, s, g, i, row, err)) != 0)
                return rc;
        if (s->hashed && s->naggs && agg_bytes(s) > x_work_mem(n->ctx))
            return x_workmem_error(n->ctx, "hash table", err);
    }
}

/* Sort an ORDER BY aggregate's collected rows and step through them. */
static int agg_ordered(xnode *n, agroup *g, int i, dc_error *err)
{
    const sql_aggcall *ac = &n->p->u.agg.aggs[i];
    ordrows *o = &g->ord[i];
    xsortspec spec = {ac->norder, ac->order, ac->nargs};
    if (!xsort_rows(&spec, o->rows, o->n))
        return x_oom(err);
    for (size_t r = 0; r < o->n; r++) {
        int rc = ac->agg.step(n->ctx, g->states[i], ac->nargs, o->rows[r], err);
        if (rc)
            return rc;
    }
    return DC_OK;
}

static int agg_next(xnode *n, const dc_value **row, bool *done, dc_error *err)
{
    aggst *s = n->st;
    const sql_plan *p = n->p;
    int rc;
    if (!s->built) {
        s->built = true;
        if ((rc = agg_consume(n, s, err)) != 0)
            return rc;
    }
    xa_reset(&n->mem);
    if (s->pos >= s->ngroups) {
        *done = true;
        return DC_OK;
    }
    agroup *g = s->groups[s->pos++];
    memcpy(n->out, g->keys, sizeof(dc_value) * (size_t)s->ngroup);
    for (int i = 0; i < s->naggs; i++) {
        const sql_aggcall *ac = &p->u.agg.aggs[i];
        if (ac->norder > 0 && (rc = agg_ordered(n, g, i, err)) != 0)
            return rc;
        if ((rc = ac->agg.final(n->ctx, g->states[i], &n->out[s->ngroup + i],
                                err)) != 0)
            return rc;
    }
    *row = n->out;
    *done = false;
    return DC_OK;
}

static void agg_close(xnode *n)
{
    aggst *s = n->st;
    if (!s)
        return;
    for (size_t gi = 0; gi < s->ngroups; gi++) {
        agroup *g = s->groups[gi];
        for (int i = 0; i < s->naggs; i++) {
            const sql_aggcall *ac = &n->p->u.agg.aggs[i];
            if (ac->agg.free && g->states[i])
                ac->agg.free(g->states[i]);
            if (g->dsets[i]) {
                xset_free(g->dsets[i]);
                free(g->dsets[i]);
            }
            free(g->ord[i].rows);
        }
    }
    free(s->groups);
    xh_free(&s->ht);
    xa_free(&s->keep);
    free(s->keys);
    free(s);
}

int xagg_open(xnode *n, dc_error *err)
{
    aggst *s = dcm_calloc(1, sizeof(*s));
    if (!s)
        return x_oom(err);
    n->st = s;
    n->next = agg_next;
    n->close = agg_close;
    s->ngroup = n->p->u.agg.ngroup;
    s->naggs = n->p->u.agg.naggs;
    s->hashed = n->p->u.agg.hashed || s->ngroup > 0;
    s->keys = dcm_calloc((size_t)(s->ngroup + 1), sizeof(dc_value));
    return s->keys ? DC_OK : x_oom(err);
}

/* ---- duplicate elimination within work_mem ------------------------------ */

/* Rows are remembered in a hash set, and handed out at once, until the set
 * reaches work_mem; after that, rows not in the set go to an external sort
 * and come out after the input ends, adjacent duplicates dropped. */
typedef struct xdedup {
    int nc;
    xset seen;
    xsorter *srt; /* set once spilling          */
    sql_sortkey *keys;
    bool finished;
    xarena lastmem;
    dc_value *last; /* previous sorted row        */
} xdedup;

static int dedup_spill_start(xnode *n, xdedup *d, dc_error *err)
{
    d->keys = dcm_calloc((size_t)(d->nc > 0 ? d->nc : 1), sizeof(sql_sortkey));
    if (!d->keys)
        return x_oom(err);
    xsortspec spec = {d->nc, d->keys, 0};
    return xsorter_new(n->ctx, d->nc, &spec, &d->srt, err);
}

/* During input: *emit when the row is new and may be handed out now. */
static int dedup_offer(xnode *n, xdedup *d, const dc_value *row, bool *emit,
                       dc_error *err)
{
    *emit = false;
    if (xset_has(&d->seen, row))
        return DC_OK;
    if (d->srt)
        return xsorter_add(d->srt, row, err);
    bool added;
    if (!xset_add(&d->seen, row, &added))
        return x_oom(err);
    *emit = true;
    if (xset_bytes(&d->seen) > x_work_mem(n->ctx))
        return dedup_spill_start(n, d, err);
    return DC_OK;
}

/* After the input: the spilled rows without duplicates. */
static int dedup_next(xnode *n, xdedup *d, const dc_value **row, bool *done,
                      dc_error *err)
{
    int rc;
    *done = true;
    if (!d->srt)
        return DC_OK;
    if (!d->finished) {
        d->finished = true;
        if ((rc = xsorter_finish(d->srt, err)) != 0)
            return rc;
    }
    for (;;) {
        if ((rc = xsorter_next(d->srt, row, done, err)) != 0 || *done)
            return rc;
        if ((rc = xn_tick(n, err)) != 0)
            return rc;
        if (d->last && xrow_eq(d->last, *row, d->nc))
            continue;
        xa_reset(&d->lastmem);
        if (!(d->last = xrow_copy(&d->lastmem, *row, d->nc)))
            return x_oom(err);
        return DC_OK;
    }
}

static void dedup_free(xdedup *d)
{
    xset_free(&d->seen);
    xsorter_free(d->srt);
    free(d->keys);
    xa_free(&d->lastmem);
}

/* ---- PL_DISTINCT --------------------------------------------------------- */

typedef struct distst {
    xdedup dd; /* all columns                          */
    bool input_done;
    xarena prev[2]; /* DISTINCT ON: the previous row        */
    dc_value *last;
    int cur;
} distst;

static int distinct_next(xnode *n, const dc_value **row, bool *done,
                         dc_error *err)
{
    distst *s = n->st;
    int on = n->p->u.distinct.ndistinct_on;
    for (;;) {
        xa_reset(&n->mem);
        if (s->input_done)
            return dedup_next(n, &s->dd, row, done, err);
        int rc = xnode_next(n->left, row, done, err);
        if (rc)
            return rc;
        if (*done) {
            if (on > 0)
                return DC_OK;
            s->input_done = true;
            continue;
        }
        if ((rc = xn_tick(n, err)) != 0)
            return rc;
        if (on > 0) {
            if (s->last && xrow_eq(s->last, *row, on))
                continue;
            s->cur ^= 1;
            xa_reset(&s->prev[s->cur]);
            if (!(s->last = xrow_copy(&s->prev[s->cur], *row, on)))
                return x_oom(err);
            return DC_OK;
        }
        bool emit;
        if ((rc = dedup_offer(n, &s->dd, *row, &emit, err)) != 0)
            return rc;
        if (emit)
            return DC_OK;
    }
}

static void distinct_close(xnode *n)
{
    distst *s = n->st;
    if (!s)
        return;
    dedup_free(&s->dd);
    xa_free(&s->prev[0]);
    xa_free(&s->prev[1]);
    free(s);
}

int xdistinct_open(xnode *n, dc_error *err)
{
    distst *s = dcm_calloc(1, sizeof(*s));
    if (!s)
        return x_oom(err);
    s->dd.nc = n->p->ncols;
    s->dd.seen.n = n->p->ncols;
    n->st = s;
    n->next = distinct_next;
    n->close = distinct_close;
    return DC_OK;
}

/* ---- PL_SETOP ------------------------------------------------------------ */

typedef struct sent {
    dc_value *row;
    uint64_t lcount, rcount;
} sent;

typedef struct setopst {
    bool built, right_phase, input_done;
    xdedup dd; /* UNION                                */
    xarena keep;
    xhash ht;
    sent **ents;
    size_t n, cap, pos;
    uint64_t left_emit; /* copies of ents[pos] still to emit    */
} setopst;

static int setop_add(xnode *n, setopst *s, const dc_value *row, bool left,
                     dc_error *err)
{
    int nc = n->p->ncols;
    uint64_t h = xrow_hash(row, nc);
    size_t pos = 0;
    sent *e;
    while ((e = xh_next(&s->ht, h, &pos)) != NULL) {
        if (xrow_eq(e->row, row, nc)) {
            if (left)
                e->lcount++;
            else
                e->rcount++;
            return DC_OK;
        }
    }
    if (!left)
        return DC_OK;
    e = xa_alloc(&s->keep, sizeof(sent));
    if (!e || !(e->row = xrow_copy(&s->keep, row, nc)))
        return x_oom(err);
    e->lcount = 1;
    e->rcount = 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        sent **ne = realloc(s->ents, cap * sizeof(*ne));
        if (!ne)
            return x_oom(err);
        s->ents = ne;
        s->cap = cap;
    }
    s->ents[s->n++] = e;
    if (!xh_insert(&s->ht, h, e))
        return x_oom(err);
    if (s->keep.total + xh_bytes(&s->ht) > x_work_mem(n->ctx))
        return x_workmem_error(n->ctx, "hash table", err);
    return DC_OK;
}

static int setop_build(xnode *n, setopst *s, dc_error *err)
{
    s->built = true;
    for (int side = 0; side < 2; side++) {
        xnode *c = side == 0 ? n->left : n->right;
        for (;;) {
            const dc_value *row;
            bool done;
            xa_reset(&n->mem);
            int rc = xnode_next(c, &row, &done, err);
            if (rc)
                return rc;
            if (done)
                break;
            if ((rc = xn_tick(n, err)) != 0 ||
                (rc = setop_add(n, s, row, side == 0, err)) != 0)
                return rc;
        }
    }
    return DC_OK;
}

static uint64_t copies(const sql_plan *p, const sent *e)
{
    bool all = p->u.setop.all;
    if (p->u.setop.op == SETOP_INTERSECT) {
        if (all)
            return e->lcount < e->rcount ? e->lcount : e->rcount;
        return e->lcount > 0 && e->rcount > 0;
    }
    if (all)
        return e->lcount > e->rcount ? e->lcount - e->rcount : 0;
    return e->lcount > 0 && e->rcount == 0;
}

/* UNION [ALL]: left rows then right rows (deduplicated without ALL). */
static int union_next(xnode *n, setopst *s, const dc_value **row, bool *done,
                      dc_error *err)
{
    for (;;) {
        xa_reset(&n->mem);
        if (s->input_done)
            return dedup_next(n, &s->dd, row, done, err);
        xnode *c = s->right_phase ? n->right : n->left;
        int rc = xnode_next(c, row, done, err);
        if (rc)
            return rc;
        if (*done) {
            if (s->right_phase) {
                if (n->p->u.setop.all)
                    return DC_OK;
                s->input_done = true;
            }
            s->right_phase = true;
            continue;
        }
        if (n->p->u.setop.all)
            return DC_OK;
        if ((rc = xn_tick(n, err)) != 0)
            return rc;
        bool emit;
        if ((rc = dedup_offer(n, &s->dd, *row, &emit, err)) != 0)
            return rc;
        if (emit)
            return DC_OK;
    }
}

static int setop_next(xnode *n, const dc_value **row, bool *done, dc_error *err)
{
    setopst *s = n->st;
    if (n->p->u.setop.op == SETOP_UNION)
        return union_next(n, s, row, done, err);
    int rc;
    if (!s->built && (rc = setop_build(n, s, err)) != 0)
        return rc;
    xa_reset(&n->mem);
    while (s->left_emit == 0) {
        if (s->pos >= s->n) {
            *done = true;
            return DC_OK;
        }
        s->left_emit = copies(n->p, s->ents[s->pos++]);
    }
    s->left_emit--;
    *row = s->ents[s->pos - 1]->row;
    *done = false;
    return DC_OK;
}

static void setop_close(xnode *n)
{
    setopst *s = n->st;
    if (!s)
        return;
    dedup_free(&s->dd);
    xh_free(&s->ht);
    xa_free(&s->keep);
    free(s->ents);
    free(s);
}

int xsetop_open(xnode *n, dc_error *err)
{
    setopst *s = dcm_calloc(1, sizeof(*s));
    if (!s)
        return x_oom(err);
    s->dd.nc = n->p->ncols;
    s->dd.seen.n = n->p->ncols;
    n->st = s;
    n->next = setop_next;
    n->close = setop_close;
    return DC_OK;
}
