/*
 * sql/exec_int.h - private interface between the executor's files
 * (exec.c, exec_mem.c, eval.c, exec_join.c, exec_sort.c, exec_agg.c,
 * exec_modify.c, explain.c).  Nothing outside the executor includes it.
 *
 * Run-time tree.  sql_exec_open builds one xnode per plan node.  A node
 * hands out rows through xnode_next; the row is valid until the next call
 * on the same node.  Each node owns a resettable scratch arena (`mem`):
 * while the node runs, ctx->mem allocates from it, and the node resets it
 * at the start of every call that produces a new row (and between input
 * rows it drops).  So per-row memory stays bounded however many rows pass.
 * Whatever a node keeps across rows (sort buffers, hash tables, group
 * states, materialised rows) is deep-copied into node-owned memory.
 *
 * Subplans of expressions (SX_SUBPLAN) run as trees of their own, opened
 * with their correlation values as `outer`.  Uncorrelated ones run once per
 * cursor and their results are cached in the cursor (found through a
 * thread-local pointer to the cursor being run).
 */
#ifndef SQL_EXEC_INT_H
#define SQL_EXEC_INT_H

#include <stddef.h>

#include "sql/exec.h"
#include "sql/tableam.h"
#include "sql/vcatalog.h"

/* How many input rows pass between two sql_check_cancel calls. */
#define XCANCEL_EVERY 4096

/* ---- arenas -------------------------------------------------------------- */

typedef struct xchunk xchunk;

/* Bump allocator that can be reset (keeping its first chunk) or freed. */
typedef struct xarena {
    xchunk *head; /* newest chunk first                           */
    size_t total; /* bytes of every chunk (for work_mem checks)   */
    size_t first; /* size of the first chunk; 0: 8 kB             */
} xarena;

void *xa_alloc(xarena *a, size_t n); /* NULL when out of memory */
void xa_reset(xarena *a);
void xa_free(xarena *a);
/* A sql_mem allocating from `a`. */
sql_mem xa_mem(xarena *a);

/* Deep copy of n values (bytes included) into `a`; NULL when out of
 * memory. */
dc_value *xrow_copy(xarena *a, const dc_value *src, int n);
/* Deep copy of one value's bytes into `a` (in place); false on OOM. */
bool xval_copy(xarena *a, dc_value *v);

/* Hash and equality of n values; in xrow_eq two NULLs are equal. */
uint64_t xrow_hash(const dc_value *v, int n);
bool xrow_eq(const dc_value *a, const dc_value *b, int n);
/* Order of two values by one sort key direction (NULLs as told). */
int xval_order(const dc_value *a, const dc_value *b, bool desc,
               bool nulls_first);

/* ---- hash table of opaque entries ------------------------------------------
 * Open addressing on a 64-bit hash; entries are caller pointers.  The
 * caller compares candidates itself: xh_first / xh_next walk the entries
 * whose hash matches. */
typedef struct xhslot {
    uint64_t hash;
    void *ent; /* NULL: empty */
} xhslot;
typedef struct xhash {
    xhslot *slots; /* hash and entry side by side: one cache line per probe */
    size_t cap, n;
} xhash;

bool xh_insert(xhash *h, uint64_t hash, void *ent); /* false: OOM */
/* Room for n entries without growing (one sizing instead of repeated
 * doubling when the count is known); false: OOM. */
bool xh_reserve(xhash *h, size_t n);
/* Iterate entries with this hash: *pos starts at 0 (state of the walk). */
void *xh_next(const xhash *h, uint64_t hash, size_t *pos);
void xh_free(xhash *h);
size_t xh_bytes(const xhash *h);

/* A set of value tuples (n values each) with its own arena.  Used for
 * DISTINCT aggregates, the hashed ANY cache and key sets. */
typedef struct xset {
    xhash h;
    xarena mem;
    int n;
} xset;
/* Add; *added false when it was there.  false on OOM. */
bool xset_add(xset *s, const dc_value *v, bool *added);
bool xset_has(const xset *s, const dc_value *v);
void xset_free(xset *s);
size_t xset_bytes(const xset *s);

/* The statement's work_mem: ctx->work_mem, else the engine's default,
 * else 4 MB (PostgreSQL's default). */
size_t x_work_mem(const sql_ctx *ctx);
/* 53200 with PostgreSQL's work_mem detail. */
int x_workmem_error(const sql_ctx *ctx, const char *what, dc_error *err);
int x_oom(dc_error *err);

/* ---- run-time nodes ------------------------------------------------------ */

typedef struct xcursor xcursor;
typedef struct xnode xnode;

struct xnode {
    const sql_plan *p;
    sql_ctx *ctx;
    xcursor *cur;          /* may be NULL (sql_eval outside a cursor) */
    const dc_value *outer; /* correlation values of the tree          */
    xnode *left, *right;
    xarena mem;    /* per-row scratch                         */
    sql_mem smem;  /* allocates from mem                      */
    dc_value *out; /* p->ncols values (output buffer)         */
    int (*next)(xnode *n, const dc_value **row, bool *done, dc_error *err);
    void (*close)(xnode *n); /* kind-specific cleanup of st, or NULL    */
    void *st;                /* kind-specific state                     */
    uint64_t processed;      /* PL_MODIFY                               */
    uint64_t ticks;          /* rows seen, for cancel checks            */
    uint8_t *need;           /* output columns the consumer reads (bit
                                i: column i), or NULL: all of them.  A
                                scan decodes only these; the others
                                read as NULL                             */
};

/* Build the run-time tree of `p` (recursively). */
int xnode_open(sql_ctx *ctx, xcursor *cur, const sql_plan *p,
               const dc_value *outer, xnode **out, dc_error *err);
/* Next row; ctx->mem is the node's arena while it runs and restored
 * after. */
int xnode_next(xnode *n, const dc_value **row, bool *done, dc_error *err);
void xnode_close(xnode *n);
/* Evaluate with the node's outer values.  Column references and
 * constants, the most common aggregate arguments and join keys, are read
 * here without the general evaluator's call chain. */
static inline int xn_eval(xnode *n, const sql_bexpr *e, const dc_value *row,
                          dc_value *out, dc_error *err)
{
    if (e->kind == SX_COL && row) {
        *out = row[e->index];
        return DC_OK;
    }
    if (e->kind == SX_CONST) {
        *out = e->value;
        return DC_OK;
    }
    return sql_eval(n->ctx, e, row, n->outer, out, err);
}
static inline int xn_qual(xnode *n, const sql_bexpr *e, const dc_value *row,
                          bool *ok, dc_error *err)
{
    return sql_eval_qual(n->ctx, e, row, n->outer, ok, err);
}
/* Count one input row; sql_check_cancel every XCANCEL_EVERY. */
int xn_tick(xnode *n, dc_error *err);

/* Kind-specific openers (the node is allocated, children are open). */
int xjoin_open(xnode *n, dc_error *err);     /* PL_NESTLOOP, PL_HASHJOIN */
int xsort_open(xnode *n, dc_error *err);     /* PL_SORT                  */
int xagg_open(xnode *n, dc_error *err);      /* PL_AGG                   */
int xsetop_open(xnode *n, dc_error *err);    /* PL_SETOP                 */
int xdistinct_open(xnode *n, dc_error *err); /* PL_DISTINCT              */
int xmodify_open(xnode *n, dc_error *err);   /* PL_MODIFY                */

/* ---- cursor and subplan cache -------------------------------------------- */

typedef struct xsubcache xsubcache;

struct xcursor {
    sql_ctx *ctx;
    xnode *root;
    xsubcache *subs; /* results of uncorrelated subplans        */
    xarena submem;   /* their values                            */
};

/* The cursor whose rows this thread is producing (NULL outside). */
xcursor *xcursor_current(void);
void xcursor_set_current(xcursor *c);
void xsubcache_free(xcursor *c);

/* Sorting helper shared by PL_SORT and ordered aggregates: a stable merge
 * sort of row pointers whose sort key values are at key_off.. in each
 * row. */
typedef struct xsortspec {
    int nkeys;
    const sql_sortkey *keys;
    int key_off;
} xsortspec;
int xsort_cmp(const xsortspec *s, const dc_value *a, const dc_value *b);
bool xsort_rows(const xsortspec *s, dc_value **rows, size_t n);

/* External sorter of rows of nv values by spec (exec_sort.c): rows are
 * deep-copied; beyond work_mem the buffer is sorted and written as a run
 * to an unlinked temporary file in eng->tmp_dir; finish sorts (or starts
 * merging) and next hands out the rows in order, each valid until the
 * next call. */
typedef struct xsorter xsorter;
int xsorter_new(sql_ctx *ctx, int nv, const xsortspec *spec, xsorter **out,
                dc_error *err);
int xsorter_add(xsorter *s, const dc_value *row, dc_error *err);
int xsorter_finish(xsorter *s, dc_error *err);
int xsorter_next(xsorter *s, const dc_value **row, bool *done, dc_error *err);
void xsorter_free(xsorter *s);

#endif
