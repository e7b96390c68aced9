/*
 * sql/txn.c - transactions over the storage vtable: write sets with range
 * tombstones, savepoints, snapshots, the merged read view, and the lock
 * manager with deadlock detection.
 *
 * Write set.  A skiplist of nodes key -> (PUT value | DEL | ABSENT) in a
 * private bump arena, plus a list of range tombstones.  A node is never
 * unlinked: "ABSENT" means the write set says nothing about the key, so a
 * rollback can restore a node's previous state in place.  A range delete
 * marks every node in its range ABSENT and appends the range, which hides
 * storage keys; a later put or delete in the range makes a node again and
 * wins.  The commit batch is therefore: every range delete first, then the
 * PUT / DEL nodes in key order (a later op on a key wins in a batch).
 *
 * Iterators merge the write set over a storage iterator.  Write set nodes
 * made after an iterator opened (new keys) are skipped by it, so a
 * statement that writes keys ahead of its own scan does not meet them.
 *
 * Savepoints.  While at least one savepoint lives, every change records its
 * inverse in an undo log; a savepoint is a mark in that log.  Without
 * savepoints nothing is logged, so a bulk load costs no undo memory.
 *
 * Locks.  One hash table per engine, key bytes -> the holding transaction,
 * guarded by one mutex.  A transaction waits for at most one lock at a
 * time, so the waits-for graph is a set of chains: a waiter follows
 * holder -> holder's wait -> ... and a chain that comes back to itself is a
 * deadlock, reported to the transaction that would close the cycle.
 */
#include "sql/txn.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sql/catalog.h"
#include "sql/gc.h"
#include "common/alloc.h"

/* ==== arena =============================================================== */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    _Alignas(8) uint8_t data[];
} arena_chunk;

typedef struct txn_arena {
    arena_chunk *head;
    size_t total;
} txn_arena;

/* Bump allocation aligned to `align` (a power of two); NULL when out of
 * memory. */
static void *arena_alloc_aligned(txn_arena *a, size_t n, size_t align)
{
    arena_chunk *c = a->head;
    size_t off = c ? (c->used + align - 1) & ~(align - 1) : 0;
    if (c == NULL || off > c->cap || c->cap - off < n) {
        /* Small for the many short transactions, growing to 1 MiB
         * chunks for big ones. */
        size_t cap = a->total < (4u << 10) ? 4u << 10 : a->total;
        if (cap > (1u << 20))
            cap = 1u << 20;
        if (cap < n)
            cap = n;
        c = malloc(sizeof *c + cap);
        if (c == NULL)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
        a->total += cap;
        off = 0;
    }
    c->used = off + n;
    return c->data + off;
}

static void *arena_alloc(txn_arena *a, size_t n)
{
    return arena_alloc_aligned(a, n, 8);
}

/* An unaligned copy of bytes. */
static void *arena_dup(txn_arena *a, const void *p, size_t n)
{
    void *q = arena_alloc_aligned(a, n ? n : 1, 1);
    if (q != NULL && n)
        memcpy(q, p, n);
    return q;
}

static void arena_free(txn_arena *a)
{
    arena_chunk *c = a->head;
    while (c != NULL) {
        arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
    a->total = 0;
}

/* ==== keys ================================================================ */

static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

static uint64_t key_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static int oom(dc_error *err)
{
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
}

/* ==== lock manager ======================================================== */

typedef struct lock_entry {
    struct lock_entry *hnext; /* hash chain                              */
    struct lock_entry *onext; /* the holder's list of held locks         */
    sql_txn *holder;
    uint32_t hash;
    uint32_t klen;
    uint8_t key[];
} lock_entry;

struct sql_lockmgr {
    pthread_mutex_t mu;
    pthread_condattr_t cattr; /* CLOCK_MONOTONIC, for the waiters' cvs */
    lock_entry **slots;
    size_t nslots, count;
    size_t nwaiting;  /* transactions blocked in a wait          */
    sql_txn *waiting; /* list of them (through wnext)            */
    _Atomic uint64_t next_txn_id;
    /* Rowid allocator for tables without a primary key (see
     * sql_rowid_next): [rowid_next, rowid_limit) is reserved in storage. */
    pthread_mutex_t rowid_mu;
    int64_t rowid_next, rowid_limit;
    int64_t rowid_block; /* size of the last block reserved */
    bool rowid_loaded;
};

int sql_lockmgr_new(sql_lockmgr **out, dc_error *err)
{
    sql_lockmgr *lm = dcm_calloc(1, sizeof *lm);
    if (lm == NULL)
        return oom(err);
    lm->nslots = 1024;
    lm->slots = dcm_calloc(lm->nslots, sizeof *lm->slots);
    if (lm->slots == NULL) {
        free(lm);
        return oom(err);
    }
    pthread_condattr_init(&lm->cattr);
    pthread_condattr_setclock(&lm->cattr, CLOCK_MONOTONIC);
    pthread_mutex_init(&lm->mu, NULL);
    pthread_mutex_init(&lm->rowid_mu, NULL);
    atomic_init(&lm->next_txn_id, 1);
    *out = lm;
    return DC_OK;
}

void sql_lockmgr_free(sql_lockmgr *lm)
{
    if (lm == NULL)
        return;
    pthread_mutex_destroy(&lm->mu);
    pthread_mutex_destroy(&lm->rowid_mu);
    pthread_condattr_destroy(&lm->cattr);
    free(lm->slots); /* entries belong to transactions, all ended by now */
    free(lm);
}

size_t sql_lockmgr_waiters(sql_lockmgr *lm)
{
    pthread_mutex_lock(&lm->mu);
    size_t n = lm->nwaiting;
    pthread_mutex_unlock(&lm->mu);
    return n;
}

/* ==== transaction state =================================================== */

enum { WS_ABSENT = 0, WS_PUT = 1, WS_DEL = 2 };
#define WS_MAXH 24

typedef struct ws_node {
    const uint8_t *key;
    const uint8_t *val;
    uint32_t klen, vlen;
    uint32_t born; /* creation number, for iterators          */
    uint8_t kind, height;
    struct ws_node *next[];
} ws_node;

typedef struct ws_range {
    const uint8_t *lo, *hi;
    size_t lolen, hilen;
    bool dead; /* a dropped relation's keys: queued for sql/gc.c at
                  commit instead of deleted by the commit's batch */
} ws_range;

enum { UNDO_NODE = 1, UNDO_RANGE = 2, UNDO_CATALOG = 3 };

typedef struct undo_rec {
    int type;
    uint8_t kind; /* UNDO_NODE: previous state               */
    uint32_t vlen;
    ws_node *node;
    const uint8_t *val;
    sql_catalog *cat; /* UNDO_CATALOG: the previous catalog      */
} undo_rec;

struct sql_savepoint {
    size_t undo_mark;
    bool has_writes;
};

struct sql_txn {
    sql_engine *eng;
    sql_lockmgr *lm;
    uint64_t id;
    sql_isolation iso;
    bool read_only;
    bool has_writes;
    bool queued_gc; /* the commit queued dropped relations (gc.c) */
    uint32_t lock_timeout_ms;
    _Atomic int *cancel;

    dc_snapshot *snap; /* the statement's snapshot                */
    uint64_t snap_seq;

    txn_arena arena;        /* write set nodes, values, lock entries   */
    ws_node *head;          /* skiplist head (height WS_MAXH)          */
    ws_node *tail[WS_MAXH]; /* last node of each level (head: none)    */
    ws_node *finger;        /* the node inserted last, or NULL         */
    ws_node *fpath[WS_MAXH]; /* its predecessors at each level         */
    int height;
    uint64_t rng;
    uint64_t nnodes; /* nodes ever created                      */
    ws_range *ranges;
    size_t nranges, capranges;

    undo_rec *undo;
    size_t nundo, capundo;
    size_t nsavepoints;

    sql_catalog *catalog; /* private catalog after DDL, or NULL      */

    lock_entry *held;   /* locks held                              */
    sql_txn *waits_for; /* holder of the lock being waited for     */
    sql_txn *wnext;     /* lock manager's list of waiters          */
    /* Signalled when waits_for releases its locks (made at the first
     * wait): a release wakes only the transactions waiting for it. */
    pthread_cond_t wcv;
    bool wcv_made;
    sql_buf getbuf;     /* scratch for meta reads                  */
};

/* ---- lock manager internals (lm->mu held) -------------------------------- */

static int lm_grow(sql_lockmgr *lm)
{
    size_t n = lm->nslots * 2;
    lock_entry **s = dcm_calloc(n, sizeof *s);
    if (s == NULL)
        return DC_ENOMEM;
    for (size_t i = 0; i < lm->nslots; i++) {
        lock_entry *e = lm->slots[i];
        while (e != NULL) {
            lock_entry *nx = e->hnext;
            size_t j = e->hash & (n - 1);
            e->hnext = s[j];
            s[j] = e;
            e = nx;
        }
    }
    free(lm->slots);
    lm->slots = s;
    lm->nslots = n;
    return DC_OK;
}

static lock_entry *lm_find(sql_lockmgr *lm, uint32_t h, const uint8_t *key,
                           size_t klen)
{
    lock_entry *e = lm->slots[h & (lm->nslots - 1)];
    for (; e != NULL; e = e->hnext)
        if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
            return e;
    return NULL;
}

static void lm_unlink(sql_lockmgr *lm, lock_entry *e)
{
    lock_entry **pp = &lm->slots[e->hash & (lm->nslots - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lm->count--;
}

static void lm_remove_waiter(sql_lockmgr *lm, sql_txn *t)
{
    for (sql_txn **pp = &lm->waiting; *pp != NULL; pp = &(*pp)->wnext)
        if (*pp == t) {
            *pp = t->wnext;
            break;
        }
    t->wnext = NULL;
    t->waits_for = NULL;
    lm->nwaiting--;
}

/* Release every lock of t and wake the waiters. */
static void txn_release_locks(sql_txn *t)
{
    sql_lockmgr *lm = t->lm;
    if (t->held == NULL)
        return;
    pthread_mutex_lock(&lm->mu);
    for (lock_entry *e = t->held; e != NULL; e = e->onext)
        lm_unlink(lm, e);
    t->held = NULL;
    /* Wake the transactions waiting for t, and only them; nobody may keep
     * pointing at t once it is gone. */
    for (sql_txn *w = lm->waiting; w != NULL; w = w->wnext)
        if (w->waits_for == t) {
            w->waits_for = NULL;
            pthread_cond_signal(&w->wcv);
        }
    pthread_mutex_unlock(&lm->mu);
}

/* 40P01 with a detail naming each transaction of the cycle. */
static int deadlock_error(sql_txn *t, sql_txn *holder, dc_error *err)
{
    dc_error_set(err, DC_ECONFLICT, "40P01", "deadlock detected");
    if (err == NULL)
        return DC_ECONFLICT;
    char detail[sizeof err->detail];
    size_t o = 0;
    sql_txn *w = t, *h = holder;
    for (int i = 0; i < 8 && h != NULL && o < sizeof detail; i++) {
        int n = snprintf(detail + o, sizeof detail - o,
                         "%sProcess %" PRIu64
                         " waits for ExclusiveLock on a row; blocked by "
                         "process %" PRIu64 ".",
                         i ? "\n" : "", w->id, h->id);
        if (n < 0)
            break;
        o += (size_t)n;
        if (h == t)
            break;
        w = h;
        h = h->waits_for;
    }
    dc_error_detail(err, "%s", detail);
    dc_error_hint(err, "See server log for query details.");
    return DC_ECONFLICT;
}

static void deadline_after(struct timespec *ts, uint32_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec ||
           (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Take the lock on key for t, waiting as txn.h describes. */
static int lock_acquire(sql_txn *t, const uint8_t *key, size_t klen,
                        dc_error *err)
{
    sql_lockmgr *lm = t->lm;
    if (klen > UINT32_MAX)
        return dc_error_set(err, DC_EINVAL, "54000", "lock key is too long");
    uint32_t h = (uint32_t)key_hash(key, klen);
    struct timespec deadline = {0};
    bool waited = false;
    int rc = DC_OK;
    pthread_mutex_lock(&lm->mu);
    for (;;) {
        lock_entry *e = lm_find(lm, h, key, klen);
        if (e == NULL) {
            if (lm->count >= lm->nslots && lm_grow(lm) != DC_OK) {
                rc = oom(err);
                break;
            }
            e = arena_alloc(&t->arena, sizeof *e + klen);
            if (e == NULL) {
                rc = oom(err);
                break;
            }
            e->hash = h;
            e->holder = t;
            e->klen = (uint32_t)klen;
            memcpy(e->key, key, klen);
            size_t j = h & (lm->nslots - 1);
            e->hnext = lm->slots[j];
            lm->slots[j] = e;
            lm->count++;
            e->onext = t->held;
            t->held = e;
            break;
        }
        if (e->holder == t)
            break;
        /* Would waiting for e's holder close a cycle? */
        sql_txn *x = e->holder;
        size_t steps = 0;
        while (x != NULL && x != t && steps++ <= lm->nwaiting)
            x = x->waits_for;
        if (x == t) {
            rc = deadlock_error(t, e->holder, err);
            break;
        }
        if (t->cancel && atomic_load(t->cancel)) {
            rc = dc_error_set(err, DC_ECANCELED, "57014",
                              "canceling statement due to user request");
            break;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (!waited) {
            waited = true;
            if (!t->wcv_made) {
                pthread_cond_init(&t->wcv, &lm->cattr);
                t->wcv_made = true;
            }
            if (t->lock_timeout_ms)
                deadline_after(&deadline, t->lock_timeout_ms);
            t->wnext = lm->waiting;
            lm->waiting = t;
            lm->nwaiting++;
        } else if (t->lock_timeout_ms && !ts_before(&now, &deadline)) {
            rc = dc_error_set(err, DC_ETIMEDOUT, "55P03",
                              "canceling statement due to lock timeout");
            break;
        }
        t->waits_for = e->holder;
        /* Wake up in short slices to notice cancel and the timeout. */
        struct timespec until;
        deadline_after(&until, 25);
        if (t->lock_timeout_ms && ts_before(&deadline, &until))
            until = deadline;
        pthread_cond_timedwait(&t->wcv, &lm->mu, &until);
    }
    if (waited)
        lm_remove_waiter(lm, t);
    pthread_mutex_unlock(&lm->mu);
    return rc;
}

/* ==== begin / snapshots =================================================== */

int sql_txn_begin(sql_engine *eng, sql_isolation iso, bool read_only,
                  uint32_t lock_timeout_ms, _Atomic int *cancel, sql_txn **out,
                  dc_error *err)
{
    sql_txn *t = dcm_calloc(1, sizeof *t);
    if (t == NULL)
        return oom(err);
    t->head = dcm_calloc(1, sizeof(ws_node) + WS_MAXH * sizeof(ws_node *));
    if (t->head == NULL) {
        free(t);
        return oom(err);
    }
    t->head->height = WS_MAXH;
    t->height = 1;
    for (int l = 0; l < WS_MAXH; l++)
        t->tail[l] = t->head;
    t->eng = eng;
    t->lm = eng->locks;
    t->id = atomic_fetch_add(&eng->locks->next_txn_id, 1);
    t->rng = 0x9e3779b97f4a7c15ull ^ (t->id * 0xbf58476d1ce4e5b9ull);
    t->iso = iso == SQL_ISO_SERIALIZABLE ? SQL_ISO_REPEATABLE_READ : iso;
    t->read_only = read_only;
    t->lock_timeout_ms = lock_timeout_ms;
    t->cancel = cancel;
    *out = t;
    return DC_OK;
}

static int take_snapshot(sql_txn *t, dc_error *err)
{
    dc_snapshot *s = NULL;
    int rc = t->eng->sv->snapshot_acquire(t->eng->store, &s, err);
    if (rc != DC_OK)
        return rc;
    if (t->snap != NULL)
        t->eng->sv->snapshot_release(t->eng->store, t->snap);
    t->snap = s;
    t->snap_seq = t->eng->sv->snapshot_seq(s);
    return DC_OK;
}

int sql_txn_stmt_begin(sql_txn *t, dc_error *err)
{
    if (t->iso == SQL_ISO_READ_COMMITTED || t->snap == NULL)
        return take_snapshot(t, err);
    return DC_OK;
}

/* A snapshot read before any sql_txn_stmt_begin takes one. */
static int ensure_snapshot(sql_txn *t, dc_error *err)
{
    return t->snap ? DC_OK : take_snapshot(t, err);
}

sql_isolation sql_txn_isolation(const sql_txn *t)
{
    return t->iso;
}

bool sql_txn_read_only(const sql_txn *t)
{
    return t->read_only;
}

bool sql_txn_has_writes(const sql_txn *t)
{
    return t->has_writes;
}

void sql_txn_set_lock_timeout(sql_txn *t, uint32_t ms)
{
    t->lock_timeout_ms = ms;
}

/* ==== undo log, savepoints, catalog ======================================= */

static int undo_push(sql_txn *t, const undo_rec *r, dc_error *err)
{
    if (t->nundo == t->capundo) {
        size_t cap = t->capundo ? t->capundo * 2 : 64;
        undo_rec *u = realloc(t->undo, cap * sizeof *u);
        if (u == NULL)
            return oom(err);
        t->undo = u;
        t->capundo = cap;
    }
    t->undo[t->nundo++] = *r;
    return DC_OK;
}

/* Drop undo records down to `mark` without applying them. */
static void undo_forget(sql_txn *t, size_t mark)
{
    while (t->nundo > mark) {
        undo_rec *r = &t->undo[--t->nundo];
        if (r->type == UNDO_CATALOG && r->cat != NULL)
            sql_catalog_unref(r->cat);
    }
}

int sql_txn_savepoint(sql_txn *t, sql_savepoint **out, dc_error *err)
{
    sql_savepoint *sp = malloc(sizeof *sp);
    if (sp == NULL)
        return oom(err);
    sp->undo_mark = t->nundo;
    sp->has_writes = t->has_writes;
    t->nsavepoints++;
    *out = sp;
    return DC_OK;
}

int sql_txn_rollback_to(sql_txn *t, sql_savepoint *sp, dc_error *err)
{
    (void)err;
    size_t mark = sp->undo_mark < t->nundo ? sp->undo_mark : t->nundo;
    while (t->nundo > mark) {
        undo_rec *r = &t->undo[--t->nundo];
        switch (r->type) {
        case UNDO_NODE:
            r->node->kind = r->kind;
            r->node->val = r->val;
            r->node->vlen = r->vlen;
            break;
        case UNDO_RANGE:
            t->nranges--;
            break;
        case UNDO_CATALOG:
            if (t->catalog != NULL)
                sql_catalog_unref(t->catalog);
            t->catalog = r->cat;
            break;
        }
    }
    t->has_writes = sp->has_writes;
    return DC_OK;
}

void sql_txn_savepoint_free(sql_txn *t, sql_savepoint *sp)
{
    if (sp == NULL)
        return;
    free(sp);
    if (t->nsavepoints > 0 && --t->nsavepoints == 0)
        undo_forget(t, 0);
}

sql_catalog *sql_txn_catalog(sql_txn *t)
{
    return t->catalog;
}

void sql_txn_set_catalog(sql_txn *t, sql_catalog *c)
{
    if (c == t->catalog)
        return;
    if (t->nsavepoints > 0) {
        undo_rec r = {.type = UNDO_CATALOG, .cat = t->catalog};
        if (undo_push(t, &r, NULL) == DC_OK) {
            t->catalog = c;
            return;
        }
        /* Out of memory for the undo record: the old copy cannot be
         * restored by a rollback; the newest catalog is still correct. */
    }
    if (t->catalog != NULL)
        sql_catalog_unref(t->catalog);
    t->catalog = c;
}

/* ==== write set ============================================================
 */

/* Fill upd[] with the last node before key at each level; return the node
 * at level 0 that is >= key (or NULL). */
static ws_node *ws_seek(sql_txn *t, const uint8_t *key, size_t klen,
                        ws_node **upd)
{
    /* Keys written in ascending order (bulk loads, serial keys) land after
     * the last node: answer without a search. */
    ws_node *last = t->tail[0];
    if (last != t->head && key_cmp(last->key, last->klen, key, klen) < 0) {
        if (upd)
            for (int l = 0; l < t->height; l++)
                upd[l] = t->tail[l];
        return NULL;
    }
    /* Keys ascending within one relation while another relation's keys
     * follow (a COPY into a table of a lower oid than one written earlier
     * in the transaction): the key goes right after the last insert. */
    ws_node *f = t->finger;
    if (f != NULL && key_cmp(f->key, f->klen, key, klen) < 0 &&
        (f->next[0] == NULL ||
         key_cmp(key, klen, f->next[0]->key, f->next[0]->klen) < 0)) {
        if (upd)
            for (int l = 0; l < t->height; l++)
                upd[l] = l < f->height ? f : t->fpath[l];
        return f->next[0];
    }
    ws_node *x = t->head;
    for (int l = t->height - 1; l >= 0; l--) {
        ws_node *n;
        while ((n = x->next[l]) != NULL &&
               key_cmp(n->key, n->klen, key, klen) < 0)
            x = n;
        if (upd)
            upd[l] = x;
    }
    return x->next[0];
}

static ws_node *ws_find(sql_txn *t, const uint8_t *key, size_t klen)
{
    ws_node *n = ws_seek(t, key, klen, NULL);
    if (n != NULL && key_cmp(n->key, n->klen, key, klen) == 0)
        return n;
    return NULL;
}

static int ws_random_height(sql_txn *t)
{
    t->rng ^= t->rng << 13;
    t->rng ^= t->rng >> 7;
    t->rng ^= t->rng << 17;
    uint64_t r = t->rng;
    int h = 1;
    while (h < WS_MAXH && (r & 3) == 0) {
        h++;
        r >>= 2;
    }
    return h;
}

/* Set key's state in the write set, logging the old state for savepoints. */
static int ws_set(sql_txn *t, const uint8_t *key, size_t klen, int kind,
                  const uint8_t *val, size_t vlen, dc_error *err)
{
    if (klen > UINT32_MAX || vlen > UINT32_MAX)
        return dc_error_set(err, DC_EINVAL, "54000", "row is too big");
    ws_node *upd[WS_MAXH];
    ws_node *n = ws_seek(t, key, klen, upd);
    const uint8_t *v = NULL;
    if (kind == WS_PUT) {
        v = arena_dup(&t->arena, val, vlen);
        if (v == NULL)
            return oom(err);
    }
    if (n == NULL || key_cmp(n->key, n->klen, key, klen) != 0) {
        if (t->nnodes >= UINT32_MAX)
            return dc_error_set(err, DC_ERANGE, "54000",
                                "transaction writes too many keys");
        int h = ws_random_height(t);
        size_t hdr = sizeof *n + (size_t)h * sizeof(ws_node *);
        n = arena_alloc(&t->arena, hdr + klen);
        if (n == NULL)
            return oom(err);
        uint8_t *k = (uint8_t *)n + hdr;
        if (klen)
            memcpy(k, key, klen);
        n->key = k;
        n->klen = (uint32_t)klen;
        n->kind = WS_ABSENT;
        n->val = NULL;
        n->vlen = 0;
        n->born = (uint32_t)t->nnodes++;
        n->height = (uint8_t)h;
        for (int l = t->height; l < h; l++)
            upd[l] = t->head;
        if (h > t->height)
            t->height = h;
        for (int l = 0; l < h; l++) {
            n->next[l] = upd[l]->next[l];
            upd[l]->next[l] = n;
            if (n->next[l] == NULL)
                t->tail[l] = n;
        }
        /* Nodes are never unlinked, so the path stays right until the
         * next insert replaces it. */
        for (int l = h; l < t->height; l++)
            t->fpath[l] = upd[l];
        t->finger = n;
    }
    if (t->nsavepoints > 0) {
        undo_rec r = {.type = UNDO_NODE,
                      .node = n,
                      .kind = n->kind,
                      .val = n->val,
                      .vlen = n->vlen};
        int rc = undo_push(t, &r, err);
        if (rc != DC_OK)
            return rc;
    }
    n->kind = (uint8_t)kind;
    n->val = v;
    n->vlen = (uint32_t)vlen;
    t->has_writes = true;
    return DC_OK;
}

bool sql_txn_wrote_range(sql_txn *t, const uint8_t *lo, size_t lolen,
                         const uint8_t *hi, size_t hilen)
{
    for (size_t i = 0; i < t->nranges; i++)
        if (key_cmp(t->ranges[i].lo, t->ranges[i].lolen, hi, hilen) < 0 &&
            key_cmp(lo, lolen, t->ranges[i].hi, t->ranges[i].hilen) < 0)
            return true;
    ws_node *n = ws_seek(t, lo, lolen, NULL);
    for (; n != NULL && key_cmp(n->key, n->klen, hi, hilen) < 0; n = n->next[0])
        if (n->kind != WS_ABSENT)
            return true;
    return false;
}

static int check_writable(sql_txn *t, dc_error *err)
{
    if (t->read_only)
        return dc_error_set(err, DC_EPERM, "25006",
                            "cannot execute write in a read-only "
                            "transaction");
    return DC_OK;
}

int sql_txn_put(sql_txn *t, const uint8_t *key, size_t klen, const uint8_t *val,
                size_t vlen, dc_error *err)
{
    int rc = check_writable(t, err);
    return rc ? rc : ws_set(t, key, klen, WS_PUT, val, vlen, err);
}

int sql_txn_delete(sql_txn *t, const uint8_t *key, size_t klen, dc_error *err)
{
    int rc = check_writable(t, err);
    return rc ? rc : ws_set(t, key, klen, WS_DEL, NULL, 0, err);
}

static int txn_range(sql_txn *t, const uint8_t *lo, size_t lolen,
                     const uint8_t *hi, size_t hilen, bool dead, dc_error *err);

int sql_txn_delete_range(sql_txn *t, const uint8_t *lo, size_t lolen,
                         const uint8_t *hi, size_t hilen, dc_error *err)
{
    return txn_range(t, lo, lolen, hi, hilen, false, err);
}

int sql_txn_drop_range(sql_txn *t, const uint8_t *lo, size_t lolen,
                       const uint8_t *hi, size_t hilen, dc_error *err)
{
    if (lolen + 6 > SQL_GC_KEY_MAX || hilen > SQL_GC_KEY_MAX)
        return txn_range(t, lo, lolen, hi, hilen, false, err);
    return txn_range(t, lo, lolen, hi, hilen, true, err);
}

static int txn_range(sql_txn *t, const uint8_t *lo, size_t lolen,
                     const uint8_t *hi, size_t hilen, bool dead, dc_error *err)
{
    int rc = check_writable(t, err);
    if (rc != DC_OK)
        return rc;
    if (key_cmp(lo, lolen, hi, hilen) >= 0)
        return DC_OK;
    if (t->nranges == t->capranges) {
        size_t cap = t->capranges ? t->capranges * 2 : 8;
        ws_range *r = realloc(t->ranges, cap * sizeof *r);
        if (r == NULL)
            return oom(err);
        t->ranges = r;
        t->capranges = cap;
    }
    ws_range r = {.lo = arena_dup(&t->arena, lo, lolen),
                  .lolen = lolen,
                  .hi = arena_dup(&t->arena, hi, hilen),
                  .hilen = hilen,
                  .dead = dead};
    if (r.lo == NULL || r.hi == NULL)
        return oom(err);
    if (t->nsavepoints > 0) {
        undo_rec u = {.type = UNDO_RANGE};
        if ((rc = undo_push(t, &u, err)) != DC_OK)
            return rc;
    }
    /* Earlier writes in the range are superseded by the range delete. */
    for (ws_node *n = ws_seek(t, lo, lolen, NULL);
         n != NULL && key_cmp(n->key, n->klen, hi, hilen) < 0; n = n->next[0]) {
        if (n->kind == WS_ABSENT)
            continue;
        if (t->nsavepoints > 0) {
            undo_rec u = {.type = UNDO_NODE,
                          .node = n,
                          .kind = n->kind,
                          .val = n->val,
                          .vlen = n->vlen};
            if ((rc = undo_push(t, &u, err)) != DC_OK)
                return rc;
        }
        n->kind = WS_ABSENT;
        n->val = NULL;
        n->vlen = 0;
    }
    t->ranges[t->nranges++] = r;
    t->has_writes = true;
    return DC_OK;
}

/* The range among the first `nr` that hides key, or NULL. */
static const ws_range *range_covering(const sql_txn *t, size_t nr,
                                      const uint8_t *key, size_t klen)
{
    for (size_t i = nr; i-- > 0;) {
        const ws_range *r = &t->ranges[i];
        if (key_cmp(key, klen, r->lo, r->lolen) >= 0 &&
            key_cmp(key, klen, r->hi, r->hilen) < 0)
            return r;
    }
    return NULL;
}

/* ==== reads =============================================================== */

typedef struct get_ud {
    sql_buf *val;
    dc_error *err;
    int rc;
} get_ud;

static int get_copy(void *ud, const uint8_t *v, size_t n)
{
    get_ud *g = ud;
    g->val->len = 0;
    g->rc = sql_buf_append(g->val, v, n, g->err);
    return g->rc;
}

static int storage_get(sql_txn *t, const dc_snapshot *snap, const uint8_t *key,
                       size_t klen, sql_buf *val, bool *found, dc_error *err)
{
    dc_read_options ro = {.size = sizeof ro, .snapshot = snap};
    get_ud g = {.val = val, .err = err, .rc = DC_OK};
    int rc = t->eng->sv->get(t->eng->store, &ro, key, klen,
                             val ? get_copy : NULL, &g, err);
    if (rc == DC_ENOTFOUND) {
        *found = false;
        return DC_OK;
    }
    if (rc != DC_OK)
        return g.rc != DC_OK ? g.rc : rc;
    *found = true;
    return DC_OK;
}

int sql_txn_get(sql_txn *t, int mode, const uint8_t *key, size_t klen,
                sql_buf *val, bool *found, dc_error *err)
{
    if (val)
        val->len = 0;
    ws_node *n = ws_find(t, key, klen);
    if (n != NULL && n->kind != WS_ABSENT) {
        *found = n->kind == WS_PUT;
        if (*found && val)
            return sql_buf_append(val, n->val, n->vlen, err);
        return DC_OK;
    }
    if (t->nranges && range_covering(t, t->nranges, key, klen)) {
        *found = false;
        return DC_OK;
    }
    const dc_snapshot *snap = NULL;
    if (mode == SQL_READ_SNAPSHOT) {
        int rc = ensure_snapshot(t, err);
        if (rc != DC_OK)
            return rc;
        snap = t->snap;
    }
    return storage_get(t, snap, key, klen, val, found, err);
}

int sql_txn_lock_key(sql_txn *t, const uint8_t *key, size_t klen, dc_error *err)
{
    return lock_acquire(t, key, klen, err);
}

int sql_txn_lock_row(sql_txn *t, const uint8_t *key, size_t klen, bool *changed,
                     dc_error *err)
{
    if (changed)
        *changed = false;
    int rc = lock_acquire(t, key, klen, err);
    if (rc != DC_OK)
        return rc;
    rc = ensure_snapshot(t, err);
    if (rc != DC_OK)
        return rc;
    uint64_t seq = 0;
    rc = t->eng->sv->key_seq(t->eng->store, key, klen, &seq, err);
    if (rc != DC_OK)
        return rc;
    if (seq <= t->snap_seq)
        return DC_OK;
    if (t->iso != SQL_ISO_READ_COMMITTED)
        return dc_error_set(err, DC_ECONFLICT, "40001",
                            "could not serialize access due to concurrent "
                            "update");
    if (changed)
        *changed = true;
    return DC_OK;
}

/* ==== iterators ============================================================
 */

struct sql_txn_iter {
    sql_txn *t;
    dc_iter *it;
    const dc_storage_vtable *sv;
    uint8_t *lo, *hi; /* owned copies of the bounds              */
    size_t lolen, hilen;
    bool has_lo, has_hi;
    uint32_t born_mark; /* nodes created later are not seen        */
    size_t nranges;     /* ranges that existed at open             */
    ws_node *ws;        /* write set cursor                        */
    int from;           /* 1 write set, 2 storage, 3 both          */
    bool fresh;         /* positioned: next() does not advance     */
    const uint8_t *k, *v;
    size_t kn, vn;
};

static bool ws_in_hi(const sql_txn_iter *it, const ws_node *n)
{
    return !it->has_hi || key_cmp(n->key, n->klen, it->hi, it->hilen) < 0;
}

/* Skip write set nodes made after the iterator opened. */
static void ws_settle(sql_txn_iter *it)
{
    while (it->ws != NULL && it->ws->born >= it->born_mark)
        it->ws = it->ws->next[0];
    if (it->ws != NULL && !ws_in_hi(it, it->ws))
        it->ws = NULL;
}

int sql_txn_iter_open(sql_txn *t, int mode, const uint8_t *lo, size_t lolen,
                      const uint8_t *hi, size_t hilen, sql_txn_iter **out,
                      dc_error *err)
{
    int rc;
    bool nocache = (mode & SQL_READ_NOCACHE) != 0;
    mode &= ~SQL_READ_NOCACHE;
    if (mode == SQL_READ_SNAPSHOT && (rc = ensure_snapshot(t, err)) != DC_OK)
        return rc;
    sql_txn_iter *it = dcm_calloc(1, sizeof *it);
    if (it == NULL)
        return oom(err);
    it->t = t;
    it->sv = t->eng->sv;
    if (lo != NULL) {
        it->has_lo = true;
        it->lolen = lolen;
        it->lo = malloc(lolen ? lolen : 1);
        if (it->lo == NULL)
            goto nomem;
        if (lolen)
            memcpy(it->lo, lo, lolen);
    }
    if (hi != NULL) {
        it->has_hi = true;
        it->hilen = hilen;
        it->hi = malloc(hilen ? hilen : 1);
        if (it->hi == NULL)
            goto nomem;
        if (hilen)
            memcpy(it->hi, hi, hilen);
    }
    dc_read_options ro = {.size = sizeof ro,
                          .snapshot =
                              mode == SQL_READ_SNAPSHOT ? t->snap : NULL,
                          .lower = it->lo,
                          .lower_len = it->lolen,
                          .upper = it->hi,
                          .upper_len = it->hilen,
                          .skip_cache = nocache};
    rc = it->sv->iter_open(t->eng->store, &ro, &it->it, err);
    if (rc != DC_OK) {
        free(it->lo);
        free(it->hi);
        free(it);
        return rc;
    }
    it->born_mark = (uint32_t)t->nnodes;
    it->nranges = t->nranges;
    /* Position at the start. */
    if (it->has_lo) {
        it->sv->iter_seek(it->it, it->lo, it->lolen);
        it->ws = ws_seek(t, it->lo, it->lolen, NULL);
    } else {
        it->sv->iter_seek_first(it->it);
        it->ws = t->head->next[0];
    }
    ws_settle(it);
    it->fresh = true;
    *out = it;
    return DC_OK;
nomem:
    free(it->lo);
    free(it->hi);
    free(it);
    return oom(err);
}

int sql_txn_iter_seek(sql_txn_iter *it, const uint8_t *key, size_t klen,
                      dc_error *err)
{
    (void)err;
    if (it->has_lo && key_cmp(key, klen, it->lo, it->lolen) < 0) {
        key = it->lo;
        klen = it->lolen;
    }
    it->sv->iter_seek(it->it, key, klen);
    it->ws = ws_seek(it->t, key, klen, NULL);
    ws_settle(it);
    it->fresh = true;
    return DC_OK;
}

static void ws_advance(sql_txn_iter *it)
{
    it->ws = it->ws->next[0];
    ws_settle(it);
}

int sql_txn_iter_next(sql_txn_iter *it, bool *valid, dc_error *err)
{
    const dc_storage_vtable *sv = it->sv;
    if (!it->fresh) {
        if ((it->from & 1) && it->ws != NULL)
            ws_advance(it);
        if (it->from & 2)
            sv->iter_next(it->it);
    }
    it->fresh = false;
    it->from = 0;
    for (;;) {
        bool sok = sv->iter_valid(it->it);
        if (!sok) {
            int rc = sv->iter_status(it->it, err);
            if (rc != DC_OK)
                return rc;
        }
        ws_node *n = it->ws;
        if (!sok && n == NULL) {
            *valid = false;
            return DC_OK;
        }
        const uint8_t *sk = NULL;
        size_t skn = 0;
        if (sok)
            sv->iter_key(it->it, &sk, &skn);
        int c = !sok ? -1 : n == NULL ? 1 : key_cmp(n->key, n->klen, sk, skn);
        if (c < 0) { /* write set only */
            if (n->kind == WS_PUT) {
                it->from = 1;
                it->k = n->key, it->kn = n->klen;
                it->v = n->val, it->vn = n->vlen;
                break;
            }
            ws_advance(it);
            continue;
        }
        if (c == 0 && n->kind != WS_ABSENT) {
            if (n->kind == WS_PUT) {
                it->from = 3;
                it->k = n->key, it->kn = n->klen;
                it->v = n->val, it->vn = n->vlen;
                break;
            }
            ws_advance(it);
            sv->iter_next(it->it);
            continue;
        }
        /* The storage key, unless a range tombstone hides it. */
        const ws_range *r =
            it->nranges ? range_covering(it->t, it->nranges, sk, skn) : NULL;
        if (r != NULL) {
            if (c == 0)
                ws_advance(it);
            if (it->has_hi &&
                key_cmp(r->hi, r->hilen, it->hi, it->hilen) >= 0) {
                /* Nothing of storage is left in bounds. */
                sv->iter_seek(it->it, it->hi, it->hilen);
            } else {
                sv->iter_seek(it->it, r->hi, r->hilen);
            }
            continue;
        }
        it->from = c == 0 ? 3 : 2;
        it->k = sk, it->kn = skn;
        sv->iter_value(it->it, &it->v, &it->vn);
        break;
    }
    *valid = true;
    return DC_OK;
}

void sql_txn_iter_key(const sql_txn_iter *it, const uint8_t **k, size_t *n)
{
    *k = it->k;
    *n = it->kn;
}

void sql_txn_iter_value(const sql_txn_iter *it, const uint8_t **v, size_t *n)
{
    *v = it->v;
    *n = it->vn;
}

bool sql_txn_iter_storage_only(const sql_txn_iter *it)
{
    /* With no write set node in range at open (later ones are never
     * looked at: ws_advance needs a node to start from) and no range
     * delete, next() reads the storage iterator alone. */
    return it->ws == NULL && it->nranges == 0 && it->fresh;
}

void sql_txn_iter_close(sql_txn_iter *it)
{
    if (it == NULL)
        return;
    it->sv->iter_close(it->it);
    free(it->lo);
    free(it->hi);
    free(it);
}

/* ==== commit / abort =======================================================
 */

static void txn_free(sql_txn *t)
{
    txn_release_locks(t);
    if (t->wcv_made)
        pthread_cond_destroy(&t->wcv);
    if (t->snap != NULL)
        t->eng->sv->snapshot_release(t->eng->store, t->snap);
    undo_forget(t, 0);
    if (t->catalog != NULL)
        sql_catalog_unref(t->catalog);
    free(t->undo);
    free(t->ranges);
    free(t->head);
    sql_buf_free(&t->getbuf);
    arena_free(&t->arena);
    free(t);
}

/* The write set as one batch: range deletes, then point ops in key order. */
static int txn_write(sql_txn *t, dc_error *err)
{
    /* Dropped relations: a record for sql/gc.c, in the same batch. */
    for (size_t i = 0; i < t->nranges; i++) {
        if (!t->ranges[i].dead)
            continue;
        uint8_t k[SQL_GC_KEY_MAX];
        size_t kn = sql_gc_key(t->ranges[i].lo, t->ranges[i].lolen, k, sizeof k);
        int rc = sql_txn_put(t, k, kn, t->ranges[i].hi, t->ranges[i].hilen, err);
        if (rc != DC_OK)
            return rc;
        t->queued_gc = true;
    }
    size_t cap = t->nranges + (size_t)t->nnodes;
    if (cap == 0)
        return DC_OK;
    dc_batch_op *ops = malloc(cap * sizeof *ops);
    if (ops == NULL)
        return oom(err);
    size_t n = 0;
    for (size_t i = 0; i < t->nranges; i++)
        if (!t->ranges[i].dead)
            ops[n++] = (dc_batch_op){.op = DC_OP_DELETE_RANGE,
                                 .key = t->ranges[i].lo,
                                 .key_len = t->ranges[i].lolen,
                                 .value = t->ranges[i].hi,
                                 .value_len = t->ranges[i].hilen};
    for (ws_node *x = t->head->next[0]; x != NULL; x = x->next[0]) {
        if (x->kind == WS_ABSENT)
            continue;
        ops[n++] =
            (dc_batch_op){.op = x->kind == WS_PUT ? DC_OP_PUT : DC_OP_DELETE,
                          .key = x->key,
                          .key_len = x->klen,
                          .value = x->kind == WS_PUT ? x->val : NULL,
                          .value_len = x->kind == WS_PUT ? x->vlen : 0};
    }
    int rc = DC_OK;
    if (n > 0) {
        dc_write_options wo = {.size = sizeof wo,
                               .sync = (uint32_t)t->eng->commit_sync};
        rc = t->eng->sv->write(t->eng->store, &wo, ops, n, NULL, err);
    }
    free(ops);
    return rc;
}

int sql_txn_commit(sql_txn *t, dc_error *err)
{
    int rc = txn_write(t, err);
    if (rc == DC_OK && t->catalog != NULL) {
        sql_catalog_publish(t->eng, t->catalog);
        t->catalog = NULL;
    }
    if (rc == DC_OK && t->queued_gc)
        sql_gc_kick(t->eng);
    txn_free(t);
    return rc;
}

void sql_txn_abort(sql_txn *t)
{
    if (t != NULL)
        txn_free(t);
}

/* ==== engine counters ======================================================
 */

static int meta_key(const char *name, uint8_t *buf, size_t cap, size_t *n)
{
    size_t len = strlen(name);
    if (len + 4 > cap)
        return DC_EINVAL;
    buf[0] = 0, buf[1] = 0, buf[2] = 0, buf[3] = (uint8_t)SQL_REL_META;
    memcpy(buf + 4, name, len);
    *n = len + 4;
    return DC_OK;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int sql_txn_meta_get(sql_txn *t, const char *name, uint64_t *v, bool *found,
                     dc_error *err)
{
    uint8_t key[256];
    size_t kn;
    if (meta_key(name, key, sizeof key, &kn) != DC_OK)
        return dc_error_set(err, DC_EINVAL, "XX000", "counter name too long");
    bool f = false;
    int rc = sql_txn_get(t, SQL_READ_LATEST, key, kn, &t->getbuf, &f, err);
    if (rc != DC_OK)
        return rc;
    if (f && t->getbuf.len != 8)
        return dc_error_set(err, DC_ECORRUPT, DC_SQLSTATE_CORRUPT,
                            "engine counter \"%s\" is corrupt", name);
    *found = f;
    *v = f ? get_be64(t->getbuf.data) : 0;
    return DC_OK;
}

int sql_txn_meta_put(sql_txn *t, const char *name, uint64_t v, dc_error *err)
{
    uint8_t key[256], val[8];
    size_t kn;
    if (meta_key(name, key, sizeof key, &kn) != DC_OK)
        return dc_error_set(err, DC_EINVAL, "XX000", "counter name too long");
    put_be64(val, v);
    return sql_txn_put(t, key, kn, val, 8, err);
}

/* ==== rowids ================================================================
 * Rowids come from one engine-wide counter.  Blocks of them are reserved by
 * an immediate, synced write of META "rowid_next" outside any transaction,
 * so a restart continues after the last reserved block and never hands out
 * a rowid twice, whatever became of the transactions that used them.  A
 * block is twice the size of the one before, up to ROWID_BLOCK_MAX, so a
 * bulk load pays a handful of synced writes, not one per ROWID_BLOCK rows;
 * what a restart skips of the last block is at most ROWID_BLOCK_MAX. */
#define ROWID_BLOCK 1024
#define ROWID_BLOCK_MAX (INT64_C(1) << 20)

int sql_rowid_next(sql_txn *t, int64_t *out, dc_error *err)
{
    return sql_rowid_reserve(t, 1, out, err);
}

int sql_rowid_reserve(sql_txn *t, int64_t n, int64_t *first, dc_error *err)
{
    sql_lockmgr *lm = t->lm;
    sql_engine *eng = t->eng;
    int rc = DC_OK;
    pthread_mutex_lock(&lm->rowid_mu);
    if (!lm->rowid_loaded) {
        uint8_t key[32];
        size_t kn;
        meta_key("rowid_next", key, sizeof key, &kn);
        sql_buf b = {0};
        bool found = false;
        rc = storage_get(t, NULL, key, kn, &b, &found, err);
        if (rc == DC_OK) {
            int64_t v = 1;
            if (found && b.len == 8)
                v = (int64_t)get_be64(b.data);
            lm->rowid_next = lm->rowid_limit = v;
            lm->rowid_loaded = true;
        }
        sql_buf_free(&b);
    }
    if (rc == DC_OK && lm->rowid_limit - lm->rowid_next < n) {
        /* Persist a new limit first: rowids handed out are never reused,
         * whatever happens to this process. */
        uint8_t key[32], val[8];
        size_t kn;
        meta_key("rowid_next", key, sizeof key, &kn);
        int64_t block = lm->rowid_block < ROWID_BLOCK ? ROWID_BLOCK
                        : lm->rowid_block >= ROWID_BLOCK_MAX
                            ? ROWID_BLOCK_MAX
                            : lm->rowid_block * 2;
        int64_t limit = lm->rowid_next + (block > n ? block : n);
        put_be64(val, (uint64_t)limit);
        dc_batch_op op = {.op = DC_OP_PUT,
                          .key = key,
                          .key_len = kn,
                          .value = val,
                          .value_len = 8};
        dc_write_options wo = {.size = sizeof wo, .sync = DC_SYNC_ALWAYS};
        rc = eng->sv->write(eng->store, &wo, &op, 1, NULL, err);
        if (rc == DC_OK) {
            lm->rowid_limit = limit;
            lm->rowid_block = block;
        }
    }
    if (rc == DC_OK) {
        *first = lm->rowid_next;
        lm->rowid_next += n;
    }
    pthread_mutex_unlock(&lm->rowid_mu);
    return rc;
}

/* ==== zero-copy point reads ================================================
 */

typedef struct ref_ud {
    const sql_mem *mem;
    const uint8_t *val;
    size_t len;
    int rc;
} ref_ud;

static int get_into_mem(void *ud, const uint8_t *v, size_t n)
{
    ref_ud *r = ud;
    uint8_t *p = r->mem->alloc(r->mem->ctx, n ? n : 1);
    if (p == NULL)
        return r->rc = DC_ENOMEM;
    if (n)
        memcpy(p, v, n);
    r->val = p;
    r->len = n;
    return DC_OK;
}

int sql_txn_get_ref(sql_txn *t, int mode, const uint8_t *key, size_t klen,
                    const sql_mem *mem, const uint8_t **val, size_t *vlen,
                    bool *found, dc_error *err)
{
    ws_node *n = ws_find(t, key, klen);
    if (n != NULL && n->kind != WS_ABSENT) {
        *found = n->kind == WS_PUT;
        *val = n->val;
        *vlen = n->vlen;
        return DC_OK;
    }
    if (t->nranges && range_covering(t, t->nranges, key, klen)) {
        *found = false;
        return DC_OK;
    }
    dc_read_options ro = {.size = sizeof ro};
    if (mode == SQL_READ_SNAPSHOT) {
        int rc = ensure_snapshot(t, err);
        if (rc != DC_OK)
            return rc;
        ro.snapshot = t->snap;
    }
    ref_ud r = {.mem = mem, .rc = DC_OK};
    int rc =
        t->eng->sv->get(t->eng->store, &ro, key, klen, get_into_mem, &r, err);
    if (rc == DC_ENOTFOUND) {
        *found = false;
        return DC_OK;
    }
    if (r.rc != DC_OK)
        return oom(err);
    if (rc != DC_OK)
        return rc;
    *found = true;
    *val = r.val;
    *vlen = r.len;
    return DC_OK;
}
