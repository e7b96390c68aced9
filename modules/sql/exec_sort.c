/*
 * sql/exec_sort.c - PL_SORT.
 *
 * Each input row is stored with its sort key values appended (evaluated
 * once).  Three strategies:
 *   top-N      with a limit: a bounded max-heap of the best limit+offset
 *              rows (ties broken by input order, so the result equals a
 *              stable full sort cut after N rows);
 *   in memory  rows in node memory, a stable merge sort;
 *   external   when the rows outgrow ctx->work_mem: each full buffer is
 *              sorted and written as a run to an unlinked temporary file
 *              in eng->tmp_dir (so it disappears when closed, even after
 *              a crash), then the runs are merged (ties go to the earlier
 *              run, keeping the sort stable).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sql/exec_int.h"
#include "common/alloc.h"

/* Top-N only for limits this small; larger ones sort fully (and spill). */
#define TOPN_MAX 100000

typedef struct hrow {
    uint64_t seq;
    dc_value *vals; /* in the same malloc block */
} hrow;

typedef struct xrun {
    FILE *f;
    xarena mem;    /* the current row */
    dc_value *cur; /* NULL when exhausted */
} xrun;

/* An external sorter of rows of nv values (exec_int.h). */
struct xsorter {
    sql_ctx *ctx;
    int nv;
    xsortspec spec;
    xarena keep; /* rows of the current buffer      */
    dc_value **rows;
    size_t n, cap, pos;
    xrun *runs;
    int nruns;
    bool finished;
};

typedef struct sortst {
    int nc, nk; /* row = nc values + nk key values */
    xsortspec spec;
    bool built;
    xsorter *srt; /* without top-N                   */
    /* top-N */
    bool topn;
    size_t want;
    hrow *heap;
    size_t hn;
    uint64_t seq;
    dc_value **best; /* the heap's rows, sorted       */
    size_t nbest, pos;
    dc_value *tmp; /* row + keys being added */
} sortst;

/* ---- row (de)serialisation for runs -------------------------------------- */

static bool bytes_type(uint32_t t)
{
    switch (t) {
    case DC_TYPE_TEXT:
    case DC_TYPE_VARCHAR:
    case DC_TYPE_BPCHAR:
    case DC_TYPE_NAME:
    case DC_TYPE_BYTEA:
    case DC_TYPE_NUMERIC:
    case DC_TYPE_UNKNOWN:
        return true;
    default:
        return false;
    }
}

static int io_error(const char *what, dc_error *err)
{
    return dc_error_set(err, DC_EIO, DC_SQLSTATE_IO,
                        "could not %s temporary file: %s", what,
                        strerror(errno ? errno : EIO));
}

static int write_row(FILE *f, const dc_value *r, int n, dc_error *err)
{
    for (int i = 0; i < n; i++) {
        const dc_value *v = &r[i];
        uint8_t null = v->is_null;
        if (fwrite(&v->type, 4, 1, f) != 1 ||
            fwrite(&v->typmod, 4, 1, f) != 1 || fwrite(&null, 1, 1, f) != 1)
            return io_error("write to", err);
        if (null)
            continue;
        if (bytes_type(v->type)) {
            uint64_t len = v->u.bytes.len;
            if (fwrite(&len, 8, 1, f) != 1 ||
                (len && fwrite(v->u.bytes.ptr, len, 1, f) != 1))
                return io_error("write to", err);
        } else if (fwrite(&v->u, sizeof(v->u), 1, f) != 1) {
            return io_error("write to", err);
        }
    }
    return DC_OK;
}

/* Read one row into `a`; *eof at the end of the run. */
static int read_row(FILE *f, xarena *a, int n, dc_value **out, bool *eof,
                    dc_error *err)
{
    dc_value *r = xa_alloc(a, sizeof(dc_value) * (size_t)n);
    if (!r)
        return x_oom(err);
    *eof = false;
    for (int i = 0; i < n; i++) {
        dc_value *v = &r[i];
        uint8_t null;
        memset(v, 0, sizeof(*v));
        if (fread(&v->type, 4, 1, f) != 1) {
            if (i == 0 && feof(f)) {
                *eof = true;
                return DC_OK;
            }
            return io_error("read from", err);
        }
        if (fread(&v->typmod, 4, 1, f) != 1 || fread(&null, 1, 1, f) != 1)
            return io_error("read from", err);
        v->is_null = null;
        if (null)
            continue;
        if (bytes_type(v->type)) {
            uint64_t len;
            if (fread(&len, 8, 1, f) != 1)
                return io_error("read from", err);
            uint8_t *p = xa_alloc(a, len ? len : 1);
            if (!p)
                return x_oom(err);
            if (len && fread(p, len, 1, f) != 1)
                return io_error("read from", err);
            v->u.bytes.ptr = p;
            v->u.bytes.len = len;
        } else if (fread(&v->u, sizeof(v->u), 1, f) != 1) {
            return io_error("read from", err);
        }
    }
    *out = r;
    return DC_OK;
}

static FILE *temp_file(const sql_ctx *ctx, dc_error *err)
{
    const char *dir =
        ctx->eng && ctx->eng->tmp_dir[0] ? ctx->eng->tmp_dir : "/tmp";
    char path[600];
    snprintf(path, sizeof path, "%s/dcsort.XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        io_error("create", err);
        return NULL;
    }
    unlink(path);
    FILE *f = fdopen(fd, "w+b");
    if (!f) {
        close(fd);
        io_error("open", err);
    }
    return f;
}

/* ---- the sorter: in-memory buffer and runs ------------------------------ */

int xsorter_new(sql_ctx *ctx, int nv, const xsortspec *spec, xsorter **out,
                dc_error *err)
{
    xsorter *s = dcm_calloc(1, sizeof(*s));
    if (!s)
        return x_oom(err);
    s->ctx = ctx;
    s->nv = nv;
    s->spec = *spec;
    *out = s;
    return DC_OK;
}

void xsorter_free(xsorter *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nruns; i++) {
        if (s->runs[i].f)
            fclose(s->runs[i].f);
        xa_free(&s->runs[i].mem);
    }
    free(s->runs);
    free(s->rows);
    xa_free(&s->keep);
    free(s);
}

/* Sort the buffer and write it as a new run. */
static int spill(xsorter *s, dc_error *err)
{
    if (!xsort_rows(&s->spec, s->rows, s->n))
        return x_oom(err);
    xrun *nr = realloc(s->runs, sizeof(xrun) * (size_t)(s->nruns + 1));
    if (!nr)
        return x_oom(err);
    s->runs = nr;
    xrun *r = &s->runs[s->nruns];
    memset(r, 0, sizeof(*r));
    r->f = temp_file(s->ctx, err);
    if (!r->f)
        return DC_EIO;
    s->nruns++;
    for (size_t i = 0; i < s->n; i++) {
        int rc = write_row(r->f, s->rows[i], s->nv, err);
        if (rc)
            return rc;
        if ((i & 1023) == 1023 && (rc = sql_check_cancel(s->ctx, err)) != 0)
            return rc;
    }
    if (fflush(r->f) != 0)
        return io_error("write to", err);
    s->n = 0;
    xa_reset(&s->keep);
    return DC_OK;
}

int xsorter_add(xsorter *s, const dc_value *row, dc_error *err)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        dc_value **r = realloc(s->rows, cap * sizeof(*r));
        if (!r)
            return x_oom(err);
        s->rows = r;
        s->cap = cap;
    }
    dc_value *c = xrow_copy(&s->keep, row, s->nv);
    if (!c)
        return x_oom(err);
    s->rows[s->n++] = c;
    if (s->keep.total + s->cap * sizeof(void *) > x_work_mem(s->ctx) &&
        s->n > 1)
        return spill(s, err);
    return DC_OK;
}

static int merge_start(xsorter *s, dc_error *err)
{
    int rc;
    if (s->n > 0 && (rc = spill(s, err)) != 0)
        return rc;
    for (int i = 0; i < s->nruns; i++) {
        xrun *r = &s->runs[i];
        bool eof;
        if (fseek(r->f, 0, SEEK_SET) != 0)
            return io_error("seek in", err);
        if ((rc = read_row(r->f, &r->mem, s->nv, &r->cur, &eof, err)) != 0)
            return rc;
        if (eof)
            r->cur = NULL;
    }
    return DC_OK;
}

int xsorter_finish(xsorter *s, dc_error *err)
{
    s->finished = true;
    if (s->nruns > 0)
        return merge_start(s, err);
    return xsort_rows(&s->spec, s->rows, s->n) ? DC_OK : x_oom(err);
}

/* Next merged row: ties go to the earlier run (stable). */
static int merge_next(xsorter *s, const dc_value **row, bool *done,
                      dc_error *err)
{
    /* advance the run that gave the previous row */
    if (s->pos > 0) {
        xrun *r = &s->runs[s->pos - 1];
        bool eof;
        xa_reset(&r->mem);
        int rc = read_row(r->f, &r->mem, s->nv, &r->cur, &eof, err);
        if (rc)
            return rc;
        if (eof)
            r->cur = NULL;
    }
    int best = -1;
    for (int i = 0; i < s->nruns; i++) {
        if (!s->runs[i].cur)
            continue;
        if (best < 0 ||
            xsort_cmp(&s->spec, s->runs[i].cur, s->runs[best].cur) < 0)
            best = i;
    }
    if (best < 0) {
        *done = true;
        return DC_OK;
    }
    s->pos = (size_t)best + 1;
    *row = s->runs[best].cur;
    *done = false;
    return DC_OK;
}

int xsorter_next(xsorter *s, const dc_value **row, bool *done, dc_error *err)
{
    if (s->nruns > 0)
        return merge_next(s, row, done, err);
    if (s->pos >= s->n) {
        *done = true;
        return DC_OK;
    }
    *row = s->rows[s->pos++];
    *done = false;
    return DC_OK;
}

/* ---- top-N heap ---------------------------------------------------------- */

static int hcmp(const sortst *s, const hrow *a, const hrow *b)
{
    int r = xsort_cmp(&s->spec, a->vals, b->vals);
    if (r)
        return r;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void sift_down(sortst *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->hn && hcmp(s, &s->heap[l], &s->heap[m]) > 0)
            m = l;
        if (r < s->hn && hcmp(s, &s->heap[r], &s->heap[m]) > 0)
            m = r;
        if (m == i)
            return;
        hrow t = s->heap[i];
        s->heap[i] = s->heap[m];
        s->heap[m] = t;
        i = m;
    }
}

static void sift_up(sortst *s, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (hcmp(s, &s->heap[i], &s->heap[p]) <= 0)
            return;
        hrow t = s->heap[i];
        s->heap[i] = s->heap[p];
        s->heap[p] = t;
        i = p;
    }
}

/* One malloc block: the values, then their bytes. */
static dc_value *row_malloc(const dc_value *src, int n)
{
    size_t sz = sizeof(dc_value) * (size_t)n;
    for (int i = 0; i < n; i++)
        if (!src[i].is_null && bytes_type(src[i].type))
            sz += src[i].u.bytes.len;
    dc_value *r = malloc(sz ? sz : 1);
    if (!r)
        return NULL;
    uint8_t *p = (uint8_t *)(r + n);
    for (int i = 0; i < n; i++) {
        r[i] = src[i];
        if (!src[i].is_null && bytes_type(src[i].type) && src[i].u.bytes.len) {
            memcpy(p, src[i].u.bytes.ptr, src[i].u.bytes.len);
            r[i].u.bytes.ptr = p;
            p += src[i].u.bytes.len;
        }
    }
    return r;
}

static int heap_add(sortst *s, const dc_value *row, dc_error *err)
{
    hrow h = {s->seq++, (dc_value *)row};
    if (s->hn == s->want) {
        if (hcmp(s, &h, &s->heap[0]) >= 0)
            return DC_OK; /* not among the best N */
        dc_value *c = row_malloc(row, s->nc + s->nk);
        if (!c)
            return x_oom(err);
        free(s->heap[0].vals);
        h.vals = c;
        s->heap[0] = h;
        sift_down(s, 0);
        return DC_OK;
    }
    dc_value *c = row_malloc(row, s->nc + s->nk);
    if (!c)
        return x_oom(err);
    h.vals = c;
    s->heap[s->hn++] = h;
    sift_up(s, s->hn - 1);
    return DC_OK;
}

/* Heap to sorted row array (best first). */
static int heap_finish(sortst *s, dc_error *err)
{
    s->best = malloc((s->hn ? s->hn : 1) * sizeof(*s->best));
    if (!s->best)
        return x_oom(err);
    size_t k = s->hn;
    s->nbest = s->hn; /* the best array now owns the blocks */
    while (s->hn > 0) {
        s->best[--k] = s->heap[0].vals;
        s->heap[0] = s->heap[--s->hn];
        sift_down(s, 0);
    }
    return DC_OK;
}

/* ---- driver -------------------------------------------------------------- */

static int topn_setup(xnode *n, sortst *s, dc_error *err)
{
    const sql_plan *p = n->p;
    if (!p->u.sort.limit)
        return DC_OK;
    dc_value lim, off;
    int rc = xn_eval(n, p->u.sort.limit, NULL, &lim, err);
    if (rc)
        return rc;
    off = sql_value_int(DC_TYPE_INT8, 0);
    if (p->u.sort.offset &&
        (rc = xn_eval(n, p->u.sort.offset, NULL, &off, err)) != 0)
        return rc;
    if (lim.is_null || lim.u.i < 0 || (!off.is_null && off.u.i < 0))
        return DC_OK; /* the LIMIT node above reports errors */
    uint64_t want = (uint64_t)lim.u.i + (off.is_null ? 0 : (uint64_t)off.u.i);
    if (want > TOPN_MAX)
        return DC_OK;
    s->topn = true;
    s->want = (size_t)want;
    s->heap = dcm_calloc(s->want + 1, sizeof(hrow));
    return s->heap ? DC_OK : x_oom(err);
}

static int consume(xnode *n, sortst *s, dc_error *err)
{
    const sql_plan *p = n->p;
    int rc = topn_setup(n, s, err);
    if (rc)
        return rc;
    if (s->topn && s->want == 0)
        return DC_OK;
    for (;;) {
        const dc_value *in;
        bool done;
        xa_reset(&n->mem);
        if ((rc = xnode_next(n->left, &in, &done, err)) != 0)
            return rc;
        if (done)
            break;
        if ((rc = xn_tick(n, err)) != 0)
            return rc;
        memcpy(s->tmp, in, sizeof(dc_value) * (size_t)s->nc);
        for (int k = 0; k < s->nk; k++)
            if ((rc = xn_eval(n, p->u.sort.keys[k].expr, in, &s->tmp[s->nc + k],
                              err)) != 0)
                return rc;
        rc = s->topn ? heap_add(s, s->tmp, err)
                     : xsorter_add(s->srt, s->tmp, err);
        if (rc)
            return rc;
    }
    return DC_OK;
}

static int sort_next(xnode *n, const dc_value **row, bool *done, dc_error *err)
{
    sortst *s = n->st;
    int rc;
    if (!s->built) {
        s->built = true;
        if ((rc = consume(n, s, err)) != 0)
            return rc;
        rc = s->topn ? heap_finish(s, err) : xsorter_finish(s->srt, err);
        if (rc)
            return rc;
    }
    xa_reset(&n->mem);
    if (!s->topn)
        return xsorter_next(s->srt, row, done, err);
    if (s->pos >= s->nbest) {
        *done = true;
        return DC_OK;
    }
    *row = s->best[s->pos++];
    *done = false;
    return DC_OK;
}

static void sort_close(xnode *n)
{
    sortst *s = n->st;
    if (!s)
        return;
    for (size_t i = 0; i < s->nbest; i++)
        free(s->best[i]);
    for (size_t i = 0; i < s->hn; i++)
        free(s->heap[i].vals);
    free(s->best);
    free(s->heap);
    xsorter_free(s->srt);
    free(s->tmp);
    free(s);
}

int xsort_open(xnode *n, dc_error *err)
{
    sortst *s = dcm_calloc(1, sizeof(*s));
    if (!s)
        return x_oom(err);
    n->st = s;
    n->next = sort_next;
    n->close = sort_close;
    s->nc = n->p->ncols;
    s->nk = n->p->u.sort.nkeys;
    s->spec.nkeys = s->nk;
    s->spec.keys = n->p->u.sort.keys;
    s->spec.key_off = s->nc;
    s->tmp = dcm_calloc((size_t)(s->nc + s->nk + 1), sizeof(dc_value));
    if (!s->tmp)
        return x_oom(err);
    return xsorter_new(n->ctx, s->nc + s->nk, &s->spec, &s->srt, err);
}
