/*
 * sql/exec_join.c - PL_NESTLOOP and PL_HASHJOIN.
 *
 * Both read the right child once into node-owned memory.  The nested loop
 * tries every right row against each left row; the hash join keys the
 * right rows by their join key values (rows with a NULL key never match
 * and are kept apart, for RIGHT / FULL) and probes with each left row's
 * keys.  Both then share one driver: candidates are checked against the
 * extra join qual, matches flagged (for the unmatched right rows of RIGHT /
 * FULL joins), and SEMI / ANTI output only the left row.
 */
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"
#include "common/alloc.h"

/* A right row with its key values, in one allocation so that a hash
 * probe touches one place. */
typedef struct jent {
    size_t idx;     /* into rrows                           */
    dc_value row[]; /* right row, then its key values       */
} jent;

typedef struct joinst {
    int nl, nr, nkeys;
    bool hashed, built;
    xarena keep; /* right rows and keys                  */
    xarena lmem; /* the current left row's key values    */
    jent **rrows;
    size_t nrows, cap;
    bool *matched;
    xhash ht;
    dc_value *jrow; /* left || right                        */
    /* iteration */
    const dc_value *lrow;
    bool have_left, left_matched, left_done, no_cand;
    size_t rpos, hpos, upos;
    uint64_t lhash;
    dc_value *lkeys;
} joinst;

static bool is_hashed(const xnode *n)
{
    return n->p->kind == PL_HASHJOIN;
}

static int check_mem(xnode *n, joinst *s, dc_error *err)
{
    size_t used = s->keep.total + xh_bytes(&s->ht) + s->cap * sizeof(jent *);
    if (s->hashed && used > x_work_mem(n->ctx))
        return x_workmem_error(n->ctx, "hash table", err);
    return DC_OK;
}

/* Evaluate the right keys of `row` into keys; *null when one is NULL. */
static int eval_keys(xnode *n, sql_bexpr **exprs, int nkeys,
                     const dc_value *row, dc_value *keys, bool *null,
                     dc_error *err)
{
    *null = false;
    for (int i = 0; i < nkeys; i++) {
        int rc = xn_eval(n, exprs[i], row, &keys[i], err);
        if (rc)
            return rc;
        if (keys[i].is_null)
            *null = true;
    }
    return DC_OK;
}

static int add_right(xnode *n, joinst *s, const dc_value *row, dc_error *err)
{
    const sql_plan *p = n->p;
    int nk = s->hashed ? s->nkeys : 0;
    dc_value *tmp =
        xa_alloc(&n->mem, sizeof(dc_value) * (size_t)(s->nr + nk + 1));
    if (!tmp)
        return x_oom(err);
    memcpy(tmp, row, sizeof(dc_value) * (size_t)s->nr);
    bool null = false;
    int rc;
    if (nk && (rc = eval_keys(n, p->u.join.right_keys, nk, row, tmp + s->nr,
                              &null, err)) != 0)
        return rc;
    /* a NULL key never matches: only RIGHT / FULL joins output the row */
    sql_jointype jt = p->u.join.type;
    if (null && jt != SQL_JOIN_RIGHT && jt != SQL_JOIN_FULL)
        return DC_OK;
    if (s->nrows == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        jent **r = realloc(s->rrows, cap * sizeof(jent *));
        if (!r)
            return x_oom(err);
        s->rrows = r;
        s->cap = cap;
    }
    int nv = s->nr + nk;
    jent *e = xa_alloc(&s->keep, sizeof(jent) + sizeof(dc_value) * (size_t)nv);
    if (!e)
        return x_oom(err);
    memcpy(e->row, tmp, sizeof(dc_value) * (size_t)nv);
    for (int i = 0; i < nv; i++)
        if (!xval_copy(&s->keep, &e->row[i]))
            return x_oom(err);
    e->idx = s->nrows;
    s->rrows[s->nrows++] = e;
    return check_mem(n, s, err);
}

/* Read the right child; hash the rows whose keys are not NULL. */
static int build(xnode *n, joinst *s, dc_error *err)
{
    s->built = true;
    for (;;) {
        const dc_value *row;
        bool done;
        xa_reset(&n->mem);
        int rc = xnode_next(n->right, &row, &done, err);
        if (rc)
            return rc;
        if (done)
            break;
        if ((rc = add_right(n, s, row, err)) != 0 || (rc = xn_tick(n, err)))
            return rc;
    }
    if (s->nrows) {
        s->matched = dcm_calloc(s->nrows, 1);
        if (!s->matched)
            return x_oom(err);
    }
    if (!s->hashed)
        return DC_OK;
    if (!xh_reserve(&s->ht, s->nrows))
        return x_oom(err);
    for (size_t i = 0; i < s->nrows; i++) {
        dc_value *k = s->rrows[i]->row + s->nr;
        bool null = false;
        for (int j = 0; j < s->nkeys; j++)
            null |= k[j].is_null;
        if (null)
            continue;
        if (!xh_insert(&s->ht, xrow_hash(k, s->nkeys), s->rrows[i]))
            return x_oom(err);
    }
    return check_mem(n, s, err);
}

/* Start on a new left row: evaluate its keys (hash join). */
static int start_left(xnode *n, joinst *s, dc_error *err)
{
    s->have_left = true;
    s->left_matched = false;
    s->rpos = 0;
    s->hpos = 0;
    s->no_cand = false;
    if (!s->hashed)
        return DC_OK;
    xa_reset(&s->lmem);
    s->lkeys = xa_alloc(&s->lmem, sizeof(dc_value) * (size_t)s->nkeys);
    if (!s->lkeys)
        return x_oom(err);
    sql_mem saved = n->ctx->mem;
    n->ctx->mem = xa_mem(&s->lmem);
    bool null;
    int rc = eval_keys(n, n->p->u.join.left_keys, s->nkeys, s->lrow, s->lkeys,
                       &null, err);
    n->ctx->mem = saved;
    if (rc)
        return rc;
    s->no_cand = null;
    s->lhash = xrow_hash(s->lkeys, s->nkeys);
    return DC_OK;
}

static jent *next_candidate(joinst *s)
{
    if (s->no_cand)
        return NULL;
    if (!s->hashed)
        return s->rpos < s->nrows ? s->rrows[s->rpos++] : NULL;
    jent *e;
    while ((e = xh_next(&s->ht, s->lhash, &s->hpos)) != NULL)
        if (xrow_eq(e->row + s->nr, s->lkeys, s->nkeys))
            return e;
    return NULL;
}

static void null_fill(dc_value *dst, const sql_plan *p)
{
    for (int i = 0; i < p->ncols; i++) {
        dst[i] = sql_value_null(p->types[i]);
        dst[i].typmod = p->typmods ? p->typmods[i] : -1;
    }
}

/* After the left side ended: the unmatched right rows of RIGHT / FULL. */
static int emit_unmatched(xnode *n, joinst *s, const dc_value **row, bool *done)
{
    sql_jointype jt = n->p->u.join.type;
    if (jt == SQL_JOIN_RIGHT || jt == SQL_JOIN_FULL) {
        while (s->upos < s->nrows) {
            size_t i = s->upos++;
            if (s->matched[i])
                continue;
            null_fill(s->jrow, n->p->left);
            memcpy(s->jrow + s->nl, s->rrows[i]->row,
                   sizeof(dc_value) * (size_t)s->nr);
            *row = s->jrow;
            *done = false;
            return DC_OK;
        }
    }
    *done = true;
    return DC_OK;
}

static int join_next(xnode *n, const dc_value **row, bool *done, dc_error *err)
{
    joinst *s = n->st;
    sql_jointype jt = n->p->u.join.type;
    int rc;
    if (!s->built && (rc = build(n, s, err)) != 0)
        return rc;
    /* nothing on the right: inner, semi and right joins are empty */
    if (s->nrows == 0 &&
        (jt == SQL_JOIN_INNER || jt == SQL_JOIN_SEMI || jt == SQL_JOIN_RIGHT)) {
        *done = true;
        return DC_OK;
    }
    for (;;) {
        xa_reset(&n->mem);
        if (!s->have_left) {
            if (s->left_done)
                return emit_unmatched(n, s, row, done);
            bool ldone;
            if ((rc = xnode_next(n->left, &s->lrow, &ldone, err)) != 0)
                return rc;
            if (ldone) {
                s->left_done = true;
                continue;
            }
            if ((rc = start_left(n, s, err)) != 0)
                return rc;
        }
        if ((rc = xn_tick(n, err)) != 0)
            return rc;
        jent *e = next_candidate(s);
        if (!e) {
            s->have_left = false;
            if (s->left_matched)
                continue;
            if (jt == SQL_JOIN_LEFT || jt == SQL_JOIN_FULL) {
                memcpy(s->jrow, s->lrow, sizeof(dc_value) * (size_t)s->nl);
                null_fill(s->jrow + s->nl, n->p->right);
                *row = s->jrow;
                *done = false;
                return DC_OK;
            }
            if (jt == SQL_JOIN_ANTI) {
                *row = s->lrow;
                *done = false;
                return DC_OK;
            }
            continue;
        }
        memcpy(s->jrow, s->lrow, sizeof(dc_value) * (size_t)s->nl);
        memcpy(s->jrow + s->nl, e->row, sizeof(dc_value) * (size_t)s->nr);
        bool ok = true;
        if (n->p->u.join.qual &&
            (rc = xn_qual(n, n->p->u.join.qual, s->jrow, &ok, err)) != 0)
            return rc;
        if (!ok)
            continue;
        s->left_matched = true;
        s->matched[e->idx] = true;
        if (jt == SQL_JOIN_ANTI) {
            s->have_left = false;
            continue;
        }
        if (jt == SQL_JOIN_SEMI) {
            s->have_left = false;
            *row = s->lrow;
        } else {
            *row = s->jrow;
        }
        *done = false;
        return DC_OK;
    }
}

static void join_close(xnode *n)
{
    joinst *s = n->st;
    if (!s)
        return;
    xa_free(&s->keep);
    xa_free(&s->lmem);
    xh_free(&s->ht);
    free(s->rrows);
    free(s->matched);
    free(s->jrow);
    free(s);
}

int xjoin_open(xnode *n, dc_error *err)
{
    joinst *s = dcm_calloc(1, sizeof(*s));
    if (!s)
        return x_oom(err);
    n->st = s;
    n->next = join_next;
    n->close = join_close;
    s->nl = n->p->left->ncols;
    s->nr = n->p->right->ncols;
    s->hashed = is_hashed(n);
    s->nkeys = s->hashed ? n->p->u.join.nkeys : 0;
    s->jrow = dcm_calloc((size_t)(s->nl + s->nr + 1), sizeof(dc_value));
    return s->jrow ? DC_OK : x_oom(err);
}
