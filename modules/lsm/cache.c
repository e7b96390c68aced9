/*
 * cache.c - the lsm engine's block cache (sharded LRU) and table cache
 * (see cache.h for the contract).
 *
 * Block cache: 16 shards chosen by the top bits of a hash of (file number,
 * offset).  Each shard has a mutex, a chained hash table of its entries, and
 * a doubly-linked LRU list holding exactly the entries that are in the table
 * and unpinned (head = least recently used).  An entry's refs counts the
 * handles given out; an entry out of the table (capacity 0, or its file
 * evicted while pinned) is freed by the release that drops its last pin.
 *
 * Table cache: one mutex over a chained hash table of file number -> open
 * table, and an LRU list of the unpinned ones.  Tables are opened and closed
 * outside the mutex.
 */
#include "cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "common/alloc.h"

#define LRU_SHARDS      16
#define LRU_SHARD_SHIFT 60 /* top 4 bits of the hash pick the shard */

/* ---- block cache ------------------------------------------------------------
 */

typedef struct lru_entry {
    uint64_t le_file;
    uint64_t le_off;
    uint64_t le_hash;
    uint8_t *le_data;
    size_t le_len;
    int le_refs;                /* pins (handles given out)               */
    bool le_in_table;           /* reachable by lookup, counted in bytes  */
    struct lru_entry *le_hnext; /* hash chain                             */
    struct lru_entry *le_prev;  /* LRU list, while in table and unpinned  */
    struct lru_entry *le_next;
    struct lru_shard *le_shard;
} lru_entry;

typedef struct lru_shard {
    pthread_mutex_t ls_mu;
    lru_entry **ls_buckets;
    size_t ls_nbuckets; /* power of two                                 */
    size_t ls_count;    /* entries in the table                         */
    size_t ls_bytes;    /* their block bytes                            */
    size_t ls_capacity;
    lru_entry ls_lru; /* sentinel: ls_lru.le_next is least recent     */
} lru_shard;

struct lsm_lru {
    lru_shard c_shards[LRU_SHARDS];
    size_t c_capacity;
    lsm_block_cache c_iface;
    atomic_uint_fast64_t c_hits;
    atomic_uint_fast64_t c_misses;
    atomic_uint_fast64_t c_inserts;
    atomic_uint_fast64_t c_evictions;
    atomic_uint_fast64_t c_bytes;
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static uint64_t block_hash(uint64_t file, uint64_t off)
{
    return mix64(file * 0x9e3779b97f4a7c15ULL ^ mix64(off));
}

static void lru_unlink(lru_entry *e)
{
    e->le_prev->le_next = e->le_next;
    e->le_next->le_prev = e->le_prev;
    e->le_prev = e->le_next = NULL;
}

/* Append at the most recently used end. */
static void lru_append(lru_shard *s, lru_entry *e)
{
    e->le_next = &s->ls_lru;
    e->le_prev = s->ls_lru.le_prev;
    e->le_prev->le_next = e;
    s->ls_lru.le_prev = e;
}

static lru_entry **shard_slot(lru_shard *s, uint64_t hash, uint64_t file,
                              uint64_t off)
{
    lru_entry **p = &s->ls_buckets[hash & (s->ls_nbuckets - 1)];
    while (*p != NULL && ((*p)->le_file != file || (*p)->le_off != off))
        p = &(*p)->le_hnext;
    return p;
}

/* Double the bucket array when the table is fuller than one per bucket;
 * on out of memory the chains just get longer. */
static void shard_maybe_grow(lru_shard *s)
{
    if (s->ls_count <= s->ls_nbuckets)
        return;
    size_t nb = s->ls_nbuckets * 2;
    lru_entry **b = dcm_calloc(nb, sizeof(*b));
    if (b == NULL)
        return;
    for (size_t i = 0; i < s->ls_nbuckets; i++) {
        lru_entry *e = s->ls_buckets[i];
        while (e != NULL) {
            lru_entry *next = e->le_hnext;
            size_t j = e->le_hash & (nb - 1);
            e->le_hnext = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(s->ls_buckets);
    s->ls_buckets = b;
    s->ls_nbuckets = nb;
}

/* Take e out of the hash table (and the LRU list when unpinned).  The caller
 * holds the shard mutex and frees e when it is unpinned. */
static void shard_remove(lsm_lru *c, lru_shard *s, lru_entry *e)
{
    lru_entry **p = shard_slot(s, e->le_hash, e->le_file, e->le_off);
    *p = e->le_hnext;
    e->le_hnext = NULL;
    e->le_in_table = false;
    if (e->le_refs == 0)
        lru_unlink(e);
    s->ls_count--;
    s->ls_bytes -= e->le_len;
    atomic_fetch_sub_explicit(&c->c_bytes, e->le_len, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->c_evictions, 1, memory_order_relaxed);
}

static void entry_free(lru_entry *e)
{
    free(e->le_data);
    free(e);
}

/* Evict least recently used unpinned entries while over capacity.  The
 * victims are chained on *freelist (through le_hnext) to be freed after the
 * mutex is dropped. */
static void shard_evict(lsm_lru *c, lru_shard *s, lru_entry **freelist)
{
    while (s->ls_bytes > s->ls_capacity && s->ls_lru.le_next != &s->ls_lru) {
        lru_entry *e = s->ls_lru.le_next;
        shard_remove(c, s, e);
        e->le_hnext = *freelist;
        *freelist = e;
    }
}

static void free_list(lru_entry *e)
{
    while (e != NULL) {
        lru_entry *next = e->le_hnext;
        entry_free(e);
        e = next;
    }
}

static void *lru_lookup(void *ctx, uint64_t file_number, uint64_t offset,
                        const uint8_t **data, size_t *len)
{
    lsm_lru *c = ctx;
    uint64_t h = block_hash(file_number, offset);
    lru_shard *s = &c->c_shards[h >> LRU_SHARD_SHIFT];
    pthread_mutex_lock(&s->ls_mu);
    lru_entry *e = *shard_slot(s, h, file_number, offset);
    if (e != NULL) {
        if (e->le_refs++ == 0)
            lru_unlink(e);
        *data = e->le_data;
        *len = e->le_len;
    }
    pthread_mutex_unlock(&s->ls_mu);
    atomic_fetch_add_explicit(e != NULL ? &c->c_hits : &c->c_misses, 1,
                              memory_order_relaxed);
    return e;
}

static void *lru_insert(void *ctx, uint64_t file_number, uint64_t offset,
                        uint8_t *data, size_t len)
{
    lsm_lru *c = ctx;
    lru_entry *n = dcm_calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL; /* the caller keeps and frees data */
    uint64_t h = block_hash(file_number, offset);
    lru_shard *s = &c->c_shards[h >> LRU_SHARD_SHIFT];
    n->le_file = file_number;
    n->le_off = offset;
    n->le_hash = h;
    n->le_data = data;
    n->le_len = len;
    n->le_refs = 1;
    n->le_shard = s;
    if (c->c_capacity == 0) {
        /* keeps nothing: the handle lives until its release frees it */
        atomic_fetch_add_explicit(&c->c_inserts, 1, memory_order_relaxed);
        return n;
    }

    lru_entry *freelist = NULL;
    pthread_mutex_lock(&s->ls_mu);
    lru_entry **slot = shard_slot(s, h, file_number, offset);
    lru_entry *old = *slot;
    if (old != NULL) {
        /* Already cached (another reader won the race).  The caller goes on
         * reading its own copy of the block, so that copy must live until
         * the handle is released: hand it back uncached, and the release
         * frees it, as with a cache of capacity 0. */
        pthread_mutex_unlock(&s->ls_mu);
        return n;
    }
    *slot = n;
    n->le_in_table = true;
    s->ls_count++;
    s->ls_bytes += len;
    atomic_fetch_add_explicit(&c->c_bytes, len, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->c_inserts, 1, memory_order_relaxed);
    shard_evict(c, s, &freelist);
    shard_maybe_grow(s);
    pthread_mutex_unlock(&s->ls_mu);
    free_list(freelist);
    return n;
}

static void lru_release(void *ctx, void *handle)
{
    lsm_lru *c = ctx;
    lru_entry *e = handle;
    if (e == NULL)
        return;
    lru_shard *s = e->le_shard;
    lru_entry *freelist = NULL;
    pthread_mutex_lock(&s->ls_mu);
    if (--e->le_refs == 0) {
        if (e->le_in_table) {
            lru_append(s, e);
            shard_evict(c, s, &freelist);
        } else {
            e->le_hnext = freelist;
            freelist = e;
        }
    }
    pthread_mutex_unlock(&s->ls_mu);
    free_list(freelist);
}

lsm_lru *lsm_lru_new(size_t capacity)
{
    lsm_lru *c = dcm_calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->c_capacity = capacity;
    int i;
    for (i = 0; i < LRU_SHARDS; i++) {
        lru_shard *s = &c->c_shards[i];
        s->ls_nbuckets = 16;
        s->ls_buckets = dcm_calloc(s->ls_nbuckets, sizeof(*s->ls_buckets));
        if (s->ls_buckets == NULL)
            break;
        if (pthread_mutex_init(&s->ls_mu, NULL) != 0) {
            free(s->ls_buckets);
            break;
        }
        s->ls_capacity =
            capacity / LRU_SHARDS + ((size_t)i < capacity % LRU_SHARDS ? 1 : 0);
        s->ls_lru.le_next = s->ls_lru.le_prev = &s->ls_lru;
    }
    if (i < LRU_SHARDS) {
        while (i-- > 0) {
            pthread_mutex_destroy(&c->c_shards[i].ls_mu);
            free(c->c_shards[i].ls_buckets);
        }
        free(c);
        return NULL;
    }
    atomic_init(&c->c_hits, 0);
    atomic_init(&c->c_misses, 0);
    atomic_init(&c->c_inserts, 0);
    atomic_init(&c->c_evictions, 0);
    atomic_init(&c->c_bytes, 0);
    c->c_iface.ctx = c;
    c->c_iface.lookup = lru_lookup;
    c->c_iface.insert = lru_insert;
    c->c_iface.release = lru_release;
    return c;
}

void lsm_lru_free(lsm_lru *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < LRU_SHARDS; i++) {
        lru_shard *s = &c->c_shards[i];
        for (size_t b = 0; b < s->ls_nbuckets; b++) {
            lru_entry *e = s->ls_buckets[b];
            while (e != NULL) {
                lru_entry *next = e->le_hnext;
                entry_free(e);
                e = next;
            }
        }
        free(s->ls_buckets);
        pthread_mutex_destroy(&s->ls_mu);
    }
    free(c);
}

const lsm_block_cache *lsm_lru_interface(lsm_lru *c)
{
    return &c->c_iface;
}

void lsm_lru_evict_file(lsm_lru *c, uint64_t file_number)
{
    for (int i = 0; i < LRU_SHARDS; i++) {
        lru_shard *s = &c->c_shards[i];
        lru_entry *freelist = NULL;
        pthread_mutex_lock(&s->ls_mu);
        for (size_t b = 0; b < s->ls_nbuckets; b++) {
            lru_entry *e = s->ls_buckets[b];
            while (e != NULL) {
                lru_entry *next = e->le_hnext;
                if (e->le_file == file_number) {
                    /* a pinned block leaves the table too and is freed by
                     * its last release: its file is gone */
                    shard_remove(c, s, e);
                    if (e->le_refs == 0) {
                        e->le_hnext = freelist;
                        freelist = e;
                    }
                }
                e = next;
            }
        }
        pthread_mutex_unlock(&s->ls_mu);
        free_list(freelist);
    }
}

void lsm_lru_stats_get(lsm_lru *c, lsm_lru_stats *out)
{
    out->hits = atomic_load_explicit(&c->c_hits, memory_order_relaxed);
    out->misses = atomic_load_explicit(&c->c_misses, memory_order_relaxed);
    out->inserts = atomic_load_explicit(&c->c_inserts, memory_order_relaxed);
    out->evictions =
        atomic_load_explicit(&c->c_evictions, memory_order_relaxed);
    out->bytes = atomic_load_explicit(&c->c_bytes, memory_order_relaxed);
    out->capacity = c->c_capacity;
}

/* ---- table cache ------------------------------------------------------------
 */

typedef struct tc_entry {
    uint64_t te_number;
    lsm_sst *te_sst;
    int te_pins;
    bool te_doomed;            /* evicted while pinned: close on release */
    struct tc_entry *te_hnext; /* hash chain, or the doomed list         */
    struct tc_entry *te_prev;  /* LRU list, while in the map and unpinned */
    struct tc_entry *te_next;
} tc_entry;

struct lsm_tcache {
    pthread_mutex_t tc_mu;
    char *tc_dir;
    lsm_sst_read_options tc_ropts;
    size_t tc_max_open;
    tc_entry **tc_buckets;
    size_t tc_nbuckets; /* power of two                                */
    size_t tc_count;    /* tables in the map                           */
    tc_entry tc_lru;    /* sentinel: tc_lru.te_next is least recent    */
    tc_entry *tc_doomed;
};

static void tc_unlink(tc_entry *e)
{
    e->te_prev->te_next = e->te_next;
    e->te_next->te_prev = e->te_prev;
    e->te_prev = e->te_next = NULL;
}

static void tc_append(lsm_tcache *tc, tc_entry *e)
{
    e->te_next = &tc->tc_lru;
    e->te_prev = tc->tc_lru.te_prev;
    e->te_prev->te_next = e;
    tc->tc_lru.te_prev = e;
}

static tc_entry **tc_slot(lsm_tcache *tc, uint64_t number)
{
    tc_entry **p = &tc->tc_buckets[mix64(number) & (tc->tc_nbuckets - 1)];
    while (*p != NULL && (*p)->te_number != number)
        p = &(*p)->te_hnext;
    return p;
}

static void tc_maybe_grow(lsm_tcache *tc)
{
    if (tc->tc_count <= tc->tc_nbuckets)
        return;
    size_t nb = tc->tc_nbuckets * 2;
    tc_entry **b = dcm_calloc(nb, sizeof(*b));
    if (b == NULL)
        return;
    for (size_t i = 0; i < tc->tc_nbuckets; i++) {
        tc_entry *e = tc->tc_buckets[i];
        while (e != NULL) {
            tc_entry *next = e->te_hnext;
            size_t j = mix64(e->te_number) & (nb - 1);
            e->te_hnext = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(tc->tc_buckets);
    tc->tc_buckets = b;
    tc->tc_nbuckets = nb;
}

/* Remove e (in the map) from the map; the caller holds the mutex. */
static void tc_remove(lsm_tcache *tc, tc_entry *e)
{
    tc_entry **p = tc_slot(tc, e->te_number);
    *p = e->te_hnext;
    e->te_hnext = NULL;
    tc->tc_count--;
}

/* Close least recently used unpinned tables beyond max_open; the victims
 * are chained on *closelist (through te_hnext) to be closed after the mutex
 * is dropped. */
static void tc_trim(lsm_tcache *tc, tc_entry **closelist)
{
    while (tc->tc_count > tc->tc_max_open &&
           tc->tc_lru.te_next != &tc->tc_lru) {
        tc_entry *e = tc->tc_lru.te_next;
        tc_unlink(e);
        tc_remove(tc, e);
        e->te_hnext = *closelist;
        *closelist = e;
    }
}

static void tc_close_list(tc_entry *e)
{
    while (e != NULL) {
        tc_entry *next = e->te_hnext;
        lsm_sst_close(e->te_sst);
        free(e);
        e = next;
    }
}

lsm_tcache *lsm_tcache_new(const char *dir, const lsm_sst_read_options *ropts,
                           size_t max_open)
{
    lsm_tcache *tc = dcm_calloc(1, sizeof(*tc));
    if (tc == NULL)
        return NULL;
    tc->tc_dir = strdup(dir);
    tc->tc_nbuckets = 64;
    tc->tc_buckets = dcm_calloc(tc->tc_nbuckets, sizeof(*tc->tc_buckets));
    if (tc->tc_dir == NULL || tc->tc_buckets == NULL ||
        pthread_mutex_init(&tc->tc_mu, NULL) != 0) {
        free(tc->tc_dir);
        free(tc->tc_buckets);
        free(tc);
        return NULL;
    }
    if (ropts != NULL)
        tc->tc_ropts = *ropts;
    tc->tc_max_open = max_open;
    tc->tc_lru.te_next = tc->tc_lru.te_prev = &tc->tc_lru;
    return tc;
}

void lsm_tcache_free(lsm_tcache *tc)
{
    if (tc == NULL)
        return;
    for (size_t b = 0; b < tc->tc_nbuckets; b++)
        tc_close_list(tc->tc_buckets[b]);
    tc_close_list(tc->tc_doomed); /* empty when every table was released */
    free(tc->tc_buckets);
    free(tc->tc_dir);
    pthread_mutex_destroy(&tc->tc_mu);
    free(tc);
}

/* Pin e (in the map); the caller holds the mutex. */
static void tc_pin(tc_entry *e)
{
    if (e->te_pins++ == 0)
        tc_unlink(e);
}

int lsm_tcache_get(lsm_tcache *tc, uint64_t file_number, lsm_sst **out,
                   dc_error *err)
{
    pthread_mutex_lock(&tc->tc_mu);
    tc_entry *e = *tc_slot(tc, file_number);
    if (e != NULL) {
        tc_pin(e);
        pthread_mutex_unlock(&tc->tc_mu);
        *out = e->te_sst;
        return 0;
    }
    pthread_mutex_unlock(&tc->tc_mu);

    /* Open without the mutex; another thread may open the same file at
     * the same time, and the first to get back in wins. */
    tc_entry *n = dcm_calloc(1, sizeof(*n));
    if (n == NULL)
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                            "out of memory opening table %llu",
                            (unsigned long long)file_number);
    lsm_sst *t = NULL;
    int rc = lsm_sst_open(tc->tc_dir, file_number, &tc->tc_ropts, &t, err);
    if (rc != 0) {
        free(n);
        return rc;
    }
    n->te_number = file_number;
    n->te_sst = t;
    n->te_pins = 1;

    tc_entry *closelist = NULL;
    pthread_mutex_lock(&tc->tc_mu);
    tc_entry **slot = tc_slot(tc, file_number);
    if (*slot != NULL) {
        e = *slot;
        tc_pin(e);
        n->te_hnext = closelist;
        closelist = n;
    } else {
        e = n;
        *slot = n;
        tc->tc_count++;
        tc_trim(tc, &closelist);
        tc_maybe_grow(tc);
    }
    pthread_mutex_unlock(&tc->tc_mu);
    tc_close_list(closelist);
    *out = e->te_sst;
    return 0;
}

void lsm_tcache_release(lsm_tcache *tc, lsm_sst *t)
{
    if (t == NULL)
        return;
    tc_entry *closelist = NULL;
    pthread_mutex_lock(&tc->tc_mu);
    tc_entry *e = *tc_slot(tc, lsm_sst_file_number(t));
    if (e != NULL && e->te_sst == t) {
        if (--e->te_pins == 0) {
            tc_append(tc, e);
            tc_trim(tc, &closelist);
        }
    } else {
        /* evicted while pinned: it is on the doomed list */
        tc_entry **p = &tc->tc_doomed;
        while (*p != NULL && (*p)->te_sst != t)
            p = &(*p)->te_hnext;
        e = *p;
        if (e != NULL && --e->te_pins == 0) {
            *p = e->te_hnext;
            e->te_hnext = closelist;
            closelist = e;
        }
    }
    pthread_mutex_unlock(&tc->tc_mu);
    tc_close_list(closelist);
}

void lsm_tcache_evict(lsm_tcache *tc, uint64_t file_number)
{
    tc_entry *closelist = NULL;
    pthread_mutex_lock(&tc->tc_mu);
    tc_entry *e = *tc_slot(tc, file_number);
    if (e != NULL) {
        tc_remove(tc, e);
        if (e->te_pins == 0) {
            tc_unlink(e);
            closelist = e;
        } else {
            e->te_doomed = true;
            e->te_hnext = tc->tc_doomed;
            tc->tc_doomed = e;
        }
    }
    pthread_mutex_unlock(&tc->tc_mu);
    tc_close_list(closelist);
}
