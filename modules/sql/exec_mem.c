/*
 * sql/exec_mem.c - memory helpers of the executor: resettable arenas,
 * deep row copies, a hash table of entries and value-tuple sets, and the
 * stable merge sort of rows (exec_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"
#include "common/alloc.h"

/* ---- arenas -------------------------------------------------------------- */

struct xchunk {
    xchunk *next;
    size_t cap, used;
    max_align_t data[];
};

#define XA_FIRST 8192u
#define XA_MAX   (1u << 20)

void *xa_alloc(xarena *a, size_t n)
{
    size_t al = sizeof(max_align_t);
    n = (n + al - 1) & ~(al - 1);
    if (n == 0)
        n = al;
    xchunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = c ? c->cap * 2 : a->first ? a->first : XA_FIRST;
        if (cap > XA_MAX)
            cap = XA_MAX;
        if (cap < n)
            cap = n;
        xchunk *nc = malloc(sizeof(xchunk) + cap);
        if (!nc)
            return NULL;
        nc->cap = cap;
        nc->used = 0;
        nc->next = c;
        a->head = nc;
        a->total += cap;
        c = nc;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

/* Keep only the oldest chunk (the small first one): a reset per row then
 * costs no malloc as long as rows fit in it. */
void xa_reset(xarena *a)
{
    xchunk *c = a->head;
    if (!c)
        return;
    while (c->next) {
        xchunk *nx = c->next;
        a->total -= c->cap;
        free(c);
        c = nx;
    }
    c->used = 0;
    a->head = c;
}

void xa_free(xarena *a)
{
    xchunk *c = a->head;
    while (c) {
        xchunk *nx = c->next;
        free(c);
        c = nx;
    }
    a->head = NULL;
    a->total = 0;
}

static void *xa_mem_alloc(void *ctx, size_t n)
{
    return xa_alloc(ctx, n);
}

sql_mem xa_mem(xarena *a)
{
    sql_mem m = {xa_mem_alloc, a};
    return m;
}

static bool has_bytes(const dc_value *v)
{
    if (v->is_null)
        return false;
    switch (v->type) {
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

bool xval_copy(xarena *a, dc_value *v)
{
    if (!has_bytes(v) || v->u.bytes.len == 0)
        return true;
    uint8_t *p = xa_alloc(a, v->u.bytes.len);
    if (!p)
        return false;
    memcpy(p, v->u.bytes.ptr, v->u.bytes.len);
    v->u.bytes.ptr = p;
    return true;
}

dc_value *xrow_copy(xarena *a, const dc_value *src, int n)
{
    dc_value *r = xa_alloc(a, sizeof(dc_value) * (size_t)(n > 0 ? n : 1));
    if (!r)
        return NULL;
    for (int i = 0; i < n; i++) {
        r[i] = src[i];
        if (!xval_copy(a, &r[i]))
            return NULL;
    }
    return r;
}

uint64_t xrow_hash(const dc_value *v, int n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < n; i++) {
        uint64_t x = v[i].is_null ? 0x5bd1e995u : sql_value_hash(&v[i]);
        h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    }
    return h;
}

/* Whether two non-NULL values compare as their u.i (what sql_value_cmp
 * does for integers of any width and for timestamps of one type). */
static bool eq_by_int(const dc_value *a, const dc_value *b)
{
    switch (a->type) {
    case DC_TYPE_INT2:
    case DC_TYPE_INT4:
    case DC_TYPE_INT8:
    case DC_TYPE_OID:
        return b->type == DC_TYPE_INT2 || b->type == DC_TYPE_INT4 ||
               b->type == DC_TYPE_INT8 || b->type == DC_TYPE_OID;
    case DC_TYPE_TIMESTAMP:
    case DC_TYPE_TIMESTAMPTZ:
        return b->type == a->type;
    default:
        return false;
    }
}

bool xrow_eq(const dc_value *a, const dc_value *b, int n)
{
    for (int i = 0; i < n; i++) {
        if (a[i].is_null || b[i].is_null) {
            if (a[i].is_null != b[i].is_null)
                return false;
            continue;
        }
        if (eq_by_int(&a[i], &b[i])) {
            if (a[i].u.i != b[i].u.i)
                return false;
            continue;
        }
        int r;
        if (sql_value_cmp(&a[i], &b[i], &r, NULL) != DC_OK || r != 0)
            return false;
    }
    return true;
}

int xval_order(const dc_value *a, const dc_value *b, bool desc,
               bool nulls_first)
{
    if (a->is_null || b->is_null) {
        if (a->is_null && b->is_null)
            return 0;
        return (a->is_null ? -1 : 1) * (nulls_first ? 1 : -1);
    }
    int r = 0;
    if (sql_value_cmp(a, b, &r, NULL) != DC_OK)
        r = 0;
    r = r < 0 ? -1 : r > 0;
    return desc ? -r : r;
}

/* ---- hash table ---------------------------------------------------------- */

static bool xh_resize(xhash *h, size_t ncap)
{
    xhslot *ns = dcm_calloc(ncap, sizeof(xhslot));
    if (!ns)
        return false;
    for (size_t i = 0; i < h->cap; i++) {
        if (!h->slots[i].ent)
            continue;
        size_t j = h->slots[i].hash & (ncap - 1);
        while (ns[j].ent)
            j = (j + 1) & (ncap - 1);
        ns[j] = h->slots[i];
    }
    free(h->slots);
    h->slots = ns;
    h->cap = ncap;
    return true;
}

static bool xh_grow(xhash *h)
{
    return xh_resize(h, h->cap ? h->cap * 2 : 16);
}

bool xh_reserve(xhash *h, size_t n)
{
    size_t cap = h->cap ? h->cap : 16;
    while (cap / 2 < n)
        cap *= 2;
    return cap == h->cap || xh_resize(h, cap);
}

bool xh_insert(xhash *h, uint64_t hash, void *ent)
{
    if ((h->n + 1) * 2 > h->cap && !xh_grow(h)) /* load <= 1/2 */
        return false;
    size_t j = hash & (h->cap - 1);
    while (h->slots[j].ent)
        j = (j + 1) & (h->cap - 1);
    h->slots[j].ent = ent;
    h->slots[j].hash = hash;
    h->n++;
    return true;
}

/* *pos encodes (probe index + 1) of the last hit; 0 starts the walk. */
void *xh_next(const xhash *h, uint64_t hash, size_t *pos)
{
    if (h->cap == 0)
        return NULL;
    size_t j = *pos ? *pos & (h->cap - 1) : hash & (h->cap - 1);
    while (h->slots[j].ent) {
        size_t here = j;
        j = (j + 1) & (h->cap - 1);
        if (h->slots[here].hash == hash) {
            *pos = j | h->cap; /* non-zero even when j wraps to 0 */
            return h->slots[here].ent;
        }
    }
    return NULL;
}

void xh_free(xhash *h)
{
    free(h->slots);
    memset(h, 0, sizeof(*h));
}

size_t xh_bytes(const xhash *h)
{
    return h->cap * sizeof(xhslot);
}

/* ---- value-tuple sets ---------------------------------------------------- */

static void *xset_find(const xset *s, const dc_value *v, uint64_t hash)
{
    size_t pos = 0;
    dc_value *e;
    while ((e = xh_next(&s->h, hash, &pos)) != NULL)
        if (xrow_eq(e, v, s->n))
            return e;
    return NULL;
}

bool xset_add(xset *s, const dc_value *v, bool *added)
{
    uint64_t hash = xrow_hash(v, s->n);
    *added = false;
    if (xset_find(s, v, hash))
        return true;
    dc_value *c = xrow_copy(&s->mem, v, s->n);
    if (!c || !xh_insert(&s->h, hash, c))
        return false;
    *added = true;
    return true;
}

bool xset_has(const xset *s, const dc_value *v)
{
    return xset_find(s, v, xrow_hash(v, s->n)) != NULL;
}

void xset_free(xset *s)
{
    xh_free(&s->h);
    xa_free(&s->mem);
}

size_t xset_bytes(const xset *s)
{
    return xh_bytes(&s->h) + s->mem.total;
}

/* ---- errors -------------------------------------------------------------- */

size_t x_work_mem(const sql_ctx *ctx)
{
    if (ctx->work_mem)
        return ctx->work_mem;
    if (ctx->eng && ctx->eng->work_mem)
        return ctx->eng->work_mem;
    return (size_t)4 << 20;
}

int x_workmem_error(const sql_ctx *ctx, const char *what, dc_error *err)
{
    int rc = dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    dc_error_detail(err, "work_mem (%zu kB) exceeded by %s",
                    x_work_mem(ctx) / 1024, what);
    return rc;
}

int x_oom(dc_error *err)
{
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
}

/* ---- stable sort of rows ------------------------------------------------- */

int xsort_cmp(const xsortspec *s, const dc_value *a, const dc_value *b)
{
    for (int k = 0; k < s->nkeys; k++) {
        int r = xval_order(&a[s->key_off + k], &b[s->key_off + k],
                           s->keys[k].desc, s->keys[k].nulls_first);
        if (r)
            return r;
    }
    return 0;
}

static void msort(const xsortspec *s, dc_value **a, dc_value **tmp, size_t n)
{
    if (n < 2)
        return;
    if (n <= 8) { /* insertion sort: stable */
        for (size_t i = 1; i < n; i++) {
            dc_value *x = a[i];
            size_t j = i;
            while (j > 0 && xsort_cmp(s, a[j - 1], x) > 0) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = x;
        }
        return;
    }
    size_t m = n / 2;
    msort(s, a, tmp, m);
    msort(s, a + m, tmp, n - m);
    if (xsort_cmp(s, a[m - 1], a[m]) <= 0)
        return;
    memcpy(tmp, a, m * sizeof(*a));
    size_t i = 0, j = m, k = 0;
    while (i < m && j < n)
        a[k++] = xsort_cmp(s, a[j], tmp[i]) < 0 ? a[j++] : tmp[i++];
    while (i < m)
        a[k++] = tmp[i++];
}

bool xsort_rows(const xsortspec *s, dc_value **rows, size_t n)
{
    if (n < 2 || s->nkeys == 0)
        return true;
    dc_value **tmp = malloc((n / 2 + 1) * sizeof(*tmp));
    if (!tmp)
        return false;
    msort(s, rows, tmp, n);
    free(tmp);
    return true;
}
