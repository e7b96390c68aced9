/*
 * memory.c - the `memory` storage module: an ordered multi-version key/value
 * store kept in memory only.  Nothing is durable: closing a store (or the
 * process ending) loses it.  For tests and throwaway servers.
 *
 * Design
 *   - Data: one skiplist (skiplist.h) of versions (key, seq, sub), newest
 *     first per key; a version is a put or a tombstone.
 *   - Sequence numbers: every committed batch gets last_seq + 1; all its
 *     versions carry that seq (and their op index as `sub`, so that a later
 *     op on the same key in the same batch wins).  A read at seq S sees, per
 *     key, the first version with seq <= S.
 *   - Atomic batches: write() takes the store's rwlock for writing, inserts
 *     every version of the batch, and only then publishes last_seq.  Readers
 *     hold the rwlock for reading during each call (get, each iterator
 *     move), so they never see part of a batch; and they read at a seq that
 *     was published, so even versions left behind by a failed batch would
 *     be invisible (a failed batch is unlinked again before the lock is
 *     released, so the store is all-or-nothing).
 *   - DELETE_RANGE [b, e) becomes one tombstone, at the batch's seq, for
 *     every key in [b, e) whose newest version (earlier ops of the same
 *     batch included) is a put.  Keys already deleted or never written get
 *     nothing, so key_seq() of them does not move.
 *   - Pins: a snapshot is a refcounted pin on a seq, kept in a list ordered
 *     by seq (pins are only made at the newest published seq, so appending
 *     keeps the order; two snapshots of the same seq share one pin).  An
 *     iterator holds a pin too (the snapshot's, or one of its own at the seq
 *     it was opened at), which keeps every version it can see, and so every
 *     node it points at, alive: iter_key/iter_value hand out pointers into
 *     the node itself, valid until the iterator moves or closes.
 *   - Garbage: after each batch, for every key it wrote, the versions no
 *     pin and no new reader can see are freed (msl_prune_key).  With no
 *     snapshots an overwritten key keeps exactly one version.  compact()
 *     does the same for every key of a range (useful after releasing an old
 *     snapshot).  The newest version of a key is always kept, tombstones
 *     too, because key_seq() must report it: a store that deletes ever new
 *     keys grows by one tombstone per key.
 *   - Stores: each open() makes a fresh empty store.  The instance keeps the
 *     names (paths) of the open stores; opening a name already open is
 *     DC_EBUSY, as storage.h asks of one store per directory per process.
 *
 * Threads: get, write, key_seq, snapshots, iterator open/close and stats may
 * be called from any number of threads at once (the rwlock and pin_lock
 * serialise what must be).  A dc_iter belongs to one thread at a time.
 * Lock order: instance lock, then a store's rwlock, then its pin_lock.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datacave/module.h"
#include "datacave/storage.h"
#include "skiplist.h"

#define MEM_SQLSTATE_IN_USE    "55006" /* object_in_use */
#define MEM_SQLSTATE_READ_ONLY "25006" /* read_only_sql_transaction */
#define MEM_SQLSTATE_BAD_ARG   "22023" /* invalid_parameter_value */
#define MEM_SQLSTATE_NO_FILE   "58P01" /* undefined_file */

/* ---- types --------------------------------------------------------------- */

/* The module's instance: the host handles and the stores now open. */
typedef struct mem_instance {
    dc_host *host;          /* valid until shutdown() returns */
    const dc_host_api *api; /* idem */
    pthread_mutex_t lock;   /* guards `stores` */
    dc_store *stores;       /* open stores, linked by next_open */
} mem_instance;

/* A pin on a seq: a snapshot handed out, or an iterator's read point. */
struct dc_snapshot {
    dc_store *store;
    uint64_t seq;       /* immutable */
    uint64_t refs;      /* guarded by store->pin_lock; > 0 while
                           the pin is in the store's list */
    dc_snapshot *older; /* the list, ordered by seq */
    dc_snapshot *newer;
};

struct dc_store {
    mem_instance *inst;
    char *name;          /* the path it was opened with (its real
                            path when that exists) */
    dc_store *next_open; /* guarded by inst->lock */
    bool read_only;
    pthread_rwlock_t lock; /* guards list and last_seq */
    msl_list list;
    uint64_t last_seq;        /* newest published batch, 0 for none */
    pthread_mutex_t pin_lock; /* guards the pin list and refcounts */
    dc_snapshot *oldest_pin;
    dc_snapshot *newest_pin;
};

struct dc_iter {
    dc_store *store;
    dc_snapshot *pin; /* one reference held by the iterator */
    uint64_t seq;     /* the read point: pin->seq */
    bool has_lower, has_upper;
    uint8_t *lower, *upper; /* own copies of the bounds */
    size_t lower_len, upper_len;
    const msl_node *cur; /* the visible put it is on, or NULL */
};

/* ---- small helpers ------------------------------------------------------- */

/* True when node `n` holds `key`. */
static bool node_is_key(const msl_node *n, const uint8_t *key, size_t key_len)
{
    return msl_key_cmp(n->key, n->key_len, key, key_len) == 0;
}

/* The first node after every version of n's key (the next key's newest
 * version), or NULL.  Caller holds the store lock. */
static const msl_node *skip_key(const msl_node *n)
{
    const msl_node *m = n->next[0];
    while (m != NULL &&
           msl_key_cmp(m->key, m->key_len, n->key, n->key_len) == 0)
        m = m->next[0];
    return m;
}

/* The version of `key` a reader at `seq` sees when it is a put, else NULL
 * (tombstone, or nothing old enough).  Caller holds the store lock. */
static const msl_node *visible_put(const dc_store *s, const uint8_t *key,
                                   size_t key_len, uint64_t seq)
{
    const msl_node *n = msl_seek(&s->list, key, key_len, seq, UINT32_MAX);
    if (n == NULL || !node_is_key(n, key, key_len) || n->kind != MSL_PUT)
        return NULL;
    return n;
}

/* The snapshot in `ro`, or NULL (no options, an older struct without the
 * field, or none asked for). */
static const dc_snapshot *ro_snapshot(const dc_read_options *ro)
{
    if (!DC_HAS_FIELD(ro, dc_read_options, snapshot))
        return NULL;
    return ro->snapshot;
}

static void rdlock(dc_store *s)
{
    pthread_rwlock_rdlock(&s->lock);
}

static void wrlock(dc_store *s)
{
    pthread_rwlock_wrlock(&s->lock);
}

static void unlock(dc_store *s)
{
    pthread_rwlock_unlock(&s->lock);
}

static int oom(dc_error *err, const char *what)
{
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                        "out of memory in the memory storage engine (%s)",
                        what);
}

/* ---- pins (snapshots and iterator read points) --------------------------- */

/* Pin the newest published seq.  The caller holds the store's rwlock
 * (either mode), so last_seq cannot move and no prune runs meanwhile.  On
 * success *out holds one new reference.  Errors: DC_ENOMEM. */
static int pin_latest(dc_store *s, dc_snapshot **out, dc_error *err)
{
    int rc = DC_OK;
    pthread_mutex_lock(&s->pin_lock);
    dc_snapshot *p = s->newest_pin;
    if (p != NULL && p->seq == s->last_seq) {
        p->refs++;
    } else {
        p = calloc(1, sizeof *p);
        if (p == NULL) {
            rc = oom(err, "snapshot");
        } else {
            p->store = s;
            p->seq = s->last_seq;
            p->refs = 1;
            p->older = s->newest_pin;
            if (s->newest_pin != NULL)
                s->newest_pin->newer = p;
            else
                s->oldest_pin = p;
            s->newest_pin = p;
        }
    }
    pthread_mutex_unlock(&s->pin_lock);
    if (rc == DC_OK)
        *out = p;
    return rc;
}

/* Take one more reference on a pin the caller already holds one on. */
static void pin_ref(dc_snapshot *p)
{
    pthread_mutex_lock(&p->store->pin_lock);
    p->refs++;
    pthread_mutex_unlock(&p->store->pin_lock);
}

/* Drop one reference; the last one unlinks and frees the pin.  Needs no
 * rwlock: a pin going away only lets later prunes drop more. */
static void pin_unref(dc_snapshot *p)
{
    dc_store *s = p->store;
    pthread_mutex_lock(&s->pin_lock);
    if (--p->refs == 0) {
        if (p->older != NULL)
            p->older->newer = p->newer;
        else
            s->oldest_pin = p->newer;
        if (p->newer != NULL)
            p->newer->older = p->older;
        else
            s->newest_pin = p->older;
        free(p);
    }
    pthread_mutex_unlock(&s->pin_lock);
}

/* Walks the pins newest first for msl_prune_key. */
typedef struct pin_walk {
    const dc_snapshot *next;
} pin_walk;

/* msl_pins_fn over a pin_walk: the next lower pinned seq, 0 at the end.
 * The caller holds pin_lock for the whole walk. */
static uint64_t pin_walk_next(void *ud)
{
    pin_walk *w = ud;
    if (w->next == NULL)
        return 0;
    uint64_t seq = w->next->seq;
    w->next = w->next->older;
    return seq;
}

/* Free what no reader can see among the versions of `key`.  The caller
 * holds the rwlock for writing and pin_lock. */
static void prune_key(dc_store *s, const uint8_t *key, size_t key_len)
{
    pin_walk w = {.next = s->newest_pin};
    msl_prune_key(&s->list, key, key_len, pin_walk_next, &w);
}

/* ---- opening and closing ------------------------------------------------- */

/* Free a store's memory, its leftover pins included.  The store must be
 * out of the instance's list, and no call on it may be running. */
static void store_destroy(dc_store *s)
{
    mem_instance *inst = s->inst;
    if (s->oldest_pin != NULL)
        inst->api->log(inst->host, DC_LOG_WARN,
                       "memory store \"%s\" closed with snapshots or "
                       "iterators still open; they are now invalid",
                       s->name);
    dc_snapshot *p = s->oldest_pin;
    while (p != NULL) {
        dc_snapshot *n = p->newer;
        free(p);
        p = n;
    }
    msl_free(&s->list);
    pthread_mutex_destroy(&s->pin_lock);
    pthread_rwlock_destroy(&s->lock);
    free(s->name);
    free(s);
}

/* The name a store is registered under: the real path of `path` when it
 * exists, else `path` itself.  Returns a malloc'd string or NULL (OOM). */
static char *store_name(const char *path)
{
    char *real = realpath(path, NULL);
    if (real != NULL)
        return real;
    return strdup(path);
}

/* open(): a fresh empty store named by opts->path (or [storage] data_dir).
 * Errors: DC_ENOTFOUND without create_if_missing (a memory store never
 * exists before it is opened), DC_EBUSY when that name is open already,
 * DC_ENOMEM.  *out is written only on success. */
static int mem_open(void *instance, const dc_store_options *opts,
                    dc_store **out, dc_error *err)
{
    mem_instance *inst = instance;
    const char *path = NULL;
    bool create = true, read_only = false;
    if (DC_HAS_FIELD(opts, dc_store_options, path))
        path = opts->path;
    if (DC_HAS_FIELD(opts, dc_store_options, create_if_missing))
        create = opts->create_if_missing;
    if (DC_HAS_FIELD(opts, dc_store_options, read_only))
        read_only = opts->read_only;
    char *from_config = NULL;
    if (path == NULL) {
        /* [storage] data_dir, relative to the config file's directory. */
        const char *dd = NULL, *cd = inst->api->config_dir(inst->host);
        if (inst->api->config_string(inst->host, "storage.data_dir", &dd) !=
            DC_OK)
            dd = "";
        if (dd[0] != '/' && cd != NULL && cd[0] != '\0') {
            size_t n = strlen(cd) + strlen(dd) + 2;
            from_config = malloc(n);
            if (from_config == NULL)
                return oom(err, "store name");
            snprintf(from_config, n, "%s/%s", cd, dd);
            dd = from_config;
        }
        path = dd;
    }
    if (!create) {
        dc_error_set(err, DC_ENOTFOUND, MEM_SQLSTATE_NO_FILE,
                     "memory store \"%s\" does not exist", path);
        dc_error_hint(err, "the memory engine keeps nothing between opens; "
                           "open it with create_if_missing");
        free(from_config);
        return DC_ENOTFOUND;
    }

    dc_store *s = calloc(1, sizeof *s);
    char *name = store_name(path);
    free(from_config);
    if (s == NULL || name == NULL) {
        free(s);
        free(name);
        return oom(err, "store");
    }
    s->inst = inst;
    s->read_only = read_only;
    s->name = name;
    if (msl_init(&s->list) != 0) {
        free(s->name);
        free(s);
        return oom(err, "skiplist");
    }
    if (pthread_rwlock_init(&s->lock, NULL) != 0) {
        msl_free(&s->list);
        free(s->name);
        free(s);
        return oom(err, "lock");
    }
    if (pthread_mutex_init(&s->pin_lock, NULL) != 0) {
        pthread_rwlock_destroy(&s->lock);
        msl_free(&s->list);
        free(s->name);
        free(s);
        return oom(err, "lock");
    }

    pthread_mutex_lock(&inst->lock);
    for (dc_store *o = inst->stores; o != NULL; o = o->next_open) {
        if (strcmp(o->name, s->name) == 0) {
            pthread_mutex_unlock(&inst->lock);
            dc_error_set(err, DC_EBUSY, MEM_SQLSTATE_IN_USE,
                         "memory store \"%s\" is already open in this "
                         "process",
                         s->name);
            store_destroy(s);
            return DC_EBUSY;
        }
    }
    s->next_open = inst->stores;
    inst->stores = s;
    pthread_mutex_unlock(&inst->lock);

    inst->api->log(inst->host, DC_LOG_DEBUG,
                   "opened memory store \"%s\" (not durable)", s->name);
    *out = s;
    return DC_OK;
}

/* close(): forget the store and everything in it.  No other call on it may
 * be running; its snapshots and iterators must be released (leftovers are
 * freed with a warning). */
static void mem_close(dc_store *s)
{
    if (s == NULL)
        return;
    mem_instance *inst = s->inst;
    pthread_mutex_lock(&inst->lock);
    for (dc_store **pp = &inst->stores; *pp != NULL; pp = &(*pp)->next_open) {
        if (*pp == s) {
            *pp = s->next_open;
            break;
        }
    }
    pthread_mutex_unlock(&inst->lock);
    store_destroy(s);
}

/* ---- reads --------------------------------------------------------------- */

/* get(): the value of `key` at ro->snapshot (or the newest state), handed
 * to fn (which may be NULL: only presence is asked).  The value is copied
 * out under the lock and fn runs without any lock held, so fn may call the
 * store.  Returns DC_OK, fn's non-zero result, DC_ENOTFOUND (err is not
 * filled: absence is an answer, not a failure), DC_EINVAL, DC_ENOMEM. */
static int mem_get(dc_store *s, const dc_read_options *ro, const uint8_t *key,
                   size_t key_len, dc_value_fn fn, void *ud, dc_error *err)
{
    if (key == NULL && key_len > 0)
        return dc_error_set(err, DC_EINVAL, MEM_SQLSTATE_BAD_ARG,
                            "get: NULL key of length %zu", key_len);
    const dc_snapshot *snap = ro_snapshot(ro);
    uint8_t small[256];
    uint8_t *buf = small;
    size_t len = 0;
    int rc = DC_OK;

    rdlock(s);
    uint64_t seq = snap != NULL ? snap->seq : s->last_seq;
    const msl_node *n = visible_put(s, key, key_len, seq);
    if (n == NULL) {
        rc = DC_ENOTFOUND;
    } else if (fn != NULL) {
        len = n->val_len;
        if (len > sizeof small) {
            buf = malloc(len);
            if (buf == NULL)
                rc = DC_ENOMEM;
        }
        if (rc == DC_OK && len > 0)
            memcpy(buf, n->val, len);
    }
    unlock(s);

    if (rc == DC_ENOMEM)
        return oom(err, "value copy");
    if (rc != DC_OK || fn == NULL)
        return rc;
    rc = fn(ud, buf, len);
    if (buf != small)
        free(buf);
    return rc;
}

/* key_seq(): the seq of the newest version of `key`, put or tombstone, 0
 * when it was never written (or only by an op that left no version, such
 * as a range delete over it while it was already absent).  Errors:
 * DC_EINVAL. */
static int mem_key_seq(dc_store *s, const uint8_t *key, size_t key_len,
                       uint64_t *seq, dc_error *err)
{
    if (key == NULL && key_len > 0)
        return dc_error_set(err, DC_EINVAL, MEM_SQLSTATE_BAD_ARG,
                            "key_seq: NULL key of length %zu", key_len);
    rdlock(s);
    const msl_node *n =
        msl_seek(&s->list, key, key_len, UINT64_MAX, UINT32_MAX);
    uint64_t found = n != NULL && node_is_key(n, key, key_len) ? n->seq : 0;
    unlock(s);
    if (seq != NULL)
        *seq = found;
    return DC_OK;
}

/* ---- writes -------------------------------------------------------------- */

/* Check every op of a batch before anything is applied.  Returns DC_OK or
 * DC_EINVAL with err filled. */
static int check_batch(const dc_batch_op *ops, size_t nops, dc_error *err)
{
    if (ops == NULL && nops > 0)
        return dc_error_set(err, DC_EINVAL, MEM_SQLSTATE_BAD_ARG,
                            "write: NULL ops array of %zu ops", nops);
    for (size_t i = 0; i < nops; i++) {
        const dc_batch_op *op = &ops[i];
        if (op->op != DC_OP_PUT && op->op != DC_OP_DELETE &&
            op->op != DC_OP_DELETE_RANGE)
            return dc_error_set(err, DC_EINVAL, MEM_SQLSTATE_BAD_ARG,
                                "write: op %zu has unknown kind %u", i,
                                (unsigned)op->op);
        if (op->key == NULL && op->key_len > 0)
            return dc_error_set(err, DC_EINVAL, MEM_SQLSTATE_BAD_ARG,
                                "write: op %zu has a NULL key of length %zu", i,
                                op->key_len);
        if (op->op != DC_OP_DELETE && op->value == NULL && op->value_len > 0)
            return dc_error_set(err, DC_EINVAL, MEM_SQLSTATE_BAD_ARG,
                                "write: op %zu has a NULL %s of length %zu", i,
                                op->op == DC_OP_PUT ? "value" : "end key",
                                op->value_len);
    }
    return DC_OK;
}

/* The batch being applied: its seq, the next op index, and its nodes. */
typedef struct mem_batch {
    uint64_t seq;
    uint32_t sub;
    msl_node *nodes; /* linked by batch_next, newest first */
} mem_batch;

/* Add one version to the batch and link it.  The caller holds the rwlock
 * for writing.  Returns DC_OK, DC_ENOMEM or DC_EINVAL (too many versions
 * for one batch); on failure nothing was added. */
static int batch_add(dc_store *s, mem_batch *b, const uint8_t *key,
                     size_t key_len, const uint8_t *val, size_t val_len,
                     msl_kind kind, dc_error *err)
{
    if (b->sub == UINT32_MAX)
        return dc_error_set(err, DC_EINVAL, MEM_SQLSTATE_BAD_ARG,
                            "write: a batch may write at most %u versions",
                            (unsigned)UINT32_MAX);
    msl_node *n = msl_node_new(&s->list, key, key_len, val, val_len, b->seq,
                               b->sub, kind);
    if (n == NULL)
        return oom(err, "write batch");
    b->sub++;
    n->in_batch = true;
    n->batch_next = b->nodes;
    b->nodes = n;
    msl_insert(&s->list, n);
    return DC_OK;
}

/* Tombstones at the batch's seq for every key in [begin, end) whose newest
 * version is a put.  The caller holds the rwlock for writing.  Returns
 * DC_OK or batch_add's error. */
static int batch_delete_range(dc_store *s, mem_batch *b, const uint8_t *begin,
                              size_t begin_len, const uint8_t *end,
                              size_t end_len, dc_error *err)
{
    if (msl_key_cmp(begin, begin_len, end, end_len) >= 0)
        return DC_OK;
    const msl_node *n =
        msl_seek(&s->list, begin, begin_len, UINT64_MAX, UINT32_MAX);
    while (n != NULL && msl_key_cmp(n->key, n->key_len, end, end_len) < 0) {
        /* n is the newest version of its key.  The tombstone goes in
         * before n, so walking on from n is unaffected. */
        if (n->kind == MSL_PUT) {
            int rc = batch_add(s, b, n->key, n->key_len, NULL, 0, MSL_TOMBSTONE,
                               err);
            if (rc != DC_OK)
                return rc;
        }
        n = skip_key(n);
    }
    return DC_OK;
}

/* write(): apply ops as one batch at seq last_seq + 1, all or nothing.
 * Sync modes are accepted and ignored: nothing here is durable.  An empty
 * batch commits nothing and reports the current last seq.  Errors:
 * DC_EINVAL (a malformed op; nothing applied), DC_EPERM (read-only store),
 * DC_ENOMEM (nothing applied). */
static int mem_write(dc_store *s, const dc_write_options *wo,
                     const dc_batch_op *ops, size_t nops, uint64_t *seq,
                     dc_error *err)
{
    (void)wo;
    if (s->read_only)
        return dc_error_set(err, DC_EPERM, MEM_SQLSTATE_READ_ONLY,
                            "memory store \"%s\" is open read-only", s->name);
    int rc = check_batch(ops, nops, err);
    if (rc != DC_OK)
        return rc;

    wrlock(s);
    mem_batch b = {.seq = s->last_seq + 1, .sub = 0, .nodes = NULL};
    if (nops == 0) {
        uint64_t last = s->last_seq;
        unlock(s);
        if (seq != NULL)
            *seq = last;
        return DC_OK;
    }
    for (size_t i = 0; i < nops && rc == DC_OK; i++) {
        const dc_batch_op *op = &ops[i];
        switch (op->op) {
        case DC_OP_PUT:
            rc = batch_add(s, &b, op->key, op->key_len, op->value,
                           op->value_len, MSL_PUT, err);
            break;
        case DC_OP_DELETE:
            rc = batch_add(s, &b, op->key, op->key_len, NULL, 0, MSL_TOMBSTONE,
                           err);
            break;
        default: /* DC_OP_DELETE_RANGE, checked above */
            rc = batch_delete_range(s, &b, op->key, op->key_len, op->value,
                                    op->value_len, err);
            break;
        }
    }
    if (rc != DC_OK) {
        /* Undo: the batch was never published, so no reader saw it. */
        msl_node *n = b.nodes;
        while (n != NULL) {
            msl_node *next = n->batch_next;
            msl_unlink(&s->list, n);
            msl_node_free(&s->list, n);
            n = next;
        }
        unlock(s);
        return rc;
    }

    /* Publish, then drop what nobody can see any more. */
    s->last_seq = b.seq;
    pthread_mutex_lock(&s->pin_lock);
    for (msl_node *n = b.nodes; n != NULL; n = n->batch_next)
        if (!n->dead)
            prune_key(s, n->key, n->key_len);
    pthread_mutex_unlock(&s->pin_lock);
    msl_node *n = b.nodes;
    while (n != NULL) {
        msl_node *next = n->batch_next;
        if (n->dead)
            msl_node_free(&s->list, n);
        else
            n->in_batch = false;
        n = next;
    }
    unlock(s);
    if (seq != NULL)
        *seq = b.seq;
    return DC_OK;
}

/* ---- snapshots ----------------------------------------------------------- */

/* snapshot_acquire(): pin the newest published seq.  Snapshots of the same
 * seq share one refcounted handle.  Errors: DC_ENOMEM. */
static int mem_snapshot_acquire(dc_store *s, dc_snapshot **out, dc_error *err)
{
    rdlock(s);
    int rc = pin_latest(s, out, err);
    unlock(s);
    return rc;
}

/* snapshot_seq(): the seq a snapshot reads at. */
static uint64_t mem_snapshot_seq(const dc_snapshot *snap)
{
    return snap->seq;
}

/* snapshot_release(): drop the caller's reference to `snap`. */
static void mem_snapshot_release(dc_store *s, dc_snapshot *snap)
{
    (void)s;
    if (snap != NULL)
        pin_unref(snap);
}

/* ---- iterators ----------------------------------------------------------- */

/* True when n's key is below the upper bound (or there is none). */
static bool below_upper(const dc_iter *it, const msl_node *n)
{
    return !it->has_upper ||
           msl_key_cmp(n->key, n->key_len, it->upper, it->upper_len) < 0;
}

/* True when n's key is at or above the lower bound (or there is none). */
static bool above_lower(const dc_iter *it, const uint8_t *key, size_t key_len)
{
    return !it->has_lower ||
           msl_key_cmp(key, key_len, it->lower, it->lower_len) >= 0;
}

/* From `n`, which is the newest version of its key or the version visible
 * at it->seq, the first visible put below the upper bound, or NULL.  The
 * caller holds the store lock. */
static const msl_node *scan_forward(const dc_iter *it, const msl_node *n)
{
    while (n != NULL) {
        if (!below_upper(it, n))
            return NULL;
        if (n->seq > it->seq) {
            n = n->next[0]; /* too new: an older version follows */
            continue;
        }
        if (n->kind == MSL_PUT)
            return n;
        n = skip_key(n); /* deleted at this read point */
    }
    return NULL;
}

typedef enum back_mode {
    BACK_FROM_END,    /* the last key of the list */
    BACK_AT_OR_BELOW, /* key itself or the keys below it */
    BACK_BELOW        /* the keys strictly below key */
} back_mode;

/* The last visible put at or below / below `key` (per `mode`) and at or
 * above the lower bound, or NULL.  The caller makes sure the start is below
 * the upper bound and holds the store lock. */
static const msl_node *scan_backward(const dc_iter *it, const uint8_t *key,
                                     size_t key_len, back_mode mode)
{
    const msl_list *l = &it->store->list;
    if (mode == BACK_AT_OR_BELOW) {
        if (!above_lower(it, key, key_len))
            return NULL;
        const msl_node *v = visible_put(it->store, key, key_len, it->seq);
        if (v != NULL)
            return v;
    }
    const msl_node *p =
        mode == BACK_FROM_END ? msl_last(l) : msl_last_before(l, key, key_len);
    while (p != NULL) {
        if (!above_lower(it, p->key, p->key_len))
            return NULL;
        const msl_node *v = visible_put(it->store, p->key, p->key_len, it->seq);
        if (v != NULL)
            return v;
        p = msl_last_before(l, p->key, p->key_len);
    }
    return NULL;
}

/* Copy an optional bound into *dst.  Returns 0, or -1 when out of memory. */
static int copy_bound(const uint8_t *src, size_t len, bool *has, uint8_t **dst,
                      size_t *dst_len)
{
    *has = src != NULL;
    *dst = NULL;
    *dst_len = 0;
    if (src == NULL)
        return 0;
    *dst = malloc(len > 0 ? len : 1);
    if (*dst == NULL)
        return -1;
    if (len > 0)
        memcpy(*dst, src, len);
    *dst_len = len;
    return 0;
}

/* iter_close(): release the iterator's pin and memory. */
static void mem_iter_close(dc_iter *it)
{
    if (it == NULL)
        return;
    if (it->pin != NULL)
        pin_unref(it->pin);
    free(it->lower);
    free(it->upper);
    free(it);
}

/* iter_open(): an unpositioned iterator over [lower, upper) at
 * ro->snapshot or at the newest published seq.  The bounds are copied, so
 * ro's buffers may go away after the call.  Errors: DC_ENOMEM. */
static int mem_iter_open(dc_store *s, const dc_read_options *ro, dc_iter **out,
                         dc_error *err)
{
    dc_iter *it = calloc(1, sizeof *it);
    if (it == NULL)
        return oom(err, "iterator");
    it->store = s;
    const uint8_t *lower = NULL, *upper = NULL;
    size_t lower_len = 0, upper_len = 0;
    if (DC_HAS_FIELD(ro, dc_read_options, lower_len)) {
        lower = ro->lower;
        lower_len = ro->lower_len;
    }
    if (DC_HAS_FIELD(ro, dc_read_options, upper_len)) {
        upper = ro->upper;
        upper_len = ro->upper_len;
    }
    if (copy_bound(lower, lower_len, &it->has_lower, &it->lower,
                   &it->lower_len) != 0 ||
        copy_bound(upper, upper_len, &it->has_upper, &it->upper,
                   &it->upper_len) != 0) {
        mem_iter_close(it);
        return oom(err, "iterator bounds");
    }
    const dc_snapshot *snap = ro_snapshot(ro);
    if (snap != NULL) {
        /* The snapshot's handle is ours; only the API hands it out const. */
        it->pin = (dc_snapshot *)snap;
        pin_ref(it->pin);
    } else {
        rdlock(s);
        int rc = pin_latest(s, &it->pin, err);
        unlock(s);
        if (rc != DC_OK) {
            mem_iter_close(it);
            return rc;
        }
    }
    it->seq = it->pin->seq;
    *out = it;
    return DC_OK;
}

/* iter_seek(): the first visible key at or after `key` within bounds. */
static void mem_iter_seek(dc_iter *it, const uint8_t *key, size_t key_len)
{
    if (!above_lower(it, key, key_len)) {
        key = it->lower;
        key_len = it->lower_len;
    }
    rdlock(it->store);
    it->cur = scan_forward(
        it, msl_seek(&it->store->list, key, key_len, it->seq, UINT32_MAX));
    unlock(it->store);
}

/* iter_seek_first(): the first visible key within bounds. */
static void mem_iter_seek_first(dc_iter *it)
{
    if (it->has_lower) {
        mem_iter_seek(it, it->lower, it->lower_len);
        return;
    }
    rdlock(it->store);
    it->cur = scan_forward(it, msl_first(&it->store->list));
    unlock(it->store);
}

/* iter_next(): the next visible key; no effect on an invalid iterator. */
static void mem_iter_next(dc_iter *it)
{
    if (it->cur == NULL)
        return;
    rdlock(it->store);
    it->cur = scan_forward(it, skip_key(it->cur));
    unlock(it->store);
}

/* iter_seek_last(): the last visible key within bounds. */
static void mem_iter_seek_last(dc_iter *it)
{
    rdlock(it->store);
    if (it->has_upper)
        it->cur = scan_backward(it, it->upper, it->upper_len, BACK_BELOW);
    else
        it->cur = scan_backward(it, NULL, 0, BACK_FROM_END);
    unlock(it->store);
}

/* iter_seek_for_prev(): the last visible key at or before `key` within
 * bounds. */
static void mem_iter_seek_for_prev(dc_iter *it, const uint8_t *key,
                                   size_t key_len)
{
    rdlock(it->store);
    if (it->has_upper &&
        msl_key_cmp(key, key_len, it->upper, it->upper_len) >= 0)
        it->cur = scan_backward(it, it->upper, it->upper_len, BACK_BELOW);
    else
        it->cur = scan_backward(it, key, key_len, BACK_AT_OR_BELOW);
    unlock(it->store);
}

/* iter_prev(): the previous visible key; no effect on an invalid
 * iterator. */
static void mem_iter_prev(dc_iter *it)
{
    if (it->cur == NULL)
        return;
    rdlock(it->store);
    it->cur = scan_backward(it, it->cur->key, it->cur->key_len, BACK_BELOW);
    unlock(it->store);
}

/* iter_valid(): true while positioned on a key. */
static bool mem_iter_valid(const dc_iter *it)
{
    return it->cur != NULL;
}

/* iter_key(): the current key, borrowed until the iterator moves or
 * closes (the node it points into is kept alive by the iterator's pin).
 * NULL/0 on an invalid iterator. */
static void mem_iter_key(const dc_iter *it, const uint8_t **key, size_t *len)
{
    *key = it->cur != NULL ? it->cur->key : NULL;
    *len = it->cur != NULL ? it->cur->key_len : 0;
}

/* iter_value(): the current value, borrowed as iter_key's key. */
static void mem_iter_value(const dc_iter *it, const uint8_t **val, size_t *len)
{
    *val = it->cur != NULL ? it->cur->val : NULL;
    *len = it->cur != NULL ? it->cur->val_len : 0;
}

/* iter_status(): always 0: a memory iterator cannot fail once open. */
static int mem_iter_status(const dc_iter *it, dc_error *err)
{
    (void)it;
    (void)err;
    return DC_OK;
}

/* ---- maintenance --------------------------------------------------------- */

/* flush(): nothing to write out. */
static int mem_flush(dc_store *s, dc_error *err)
{
    (void)s;
    (void)err;
    return DC_OK;
}

/* compact(): drop the versions no reader can see for every key in
 * [begin, end) (a NULL bound is open).  Never fails. */
static int mem_compact(dc_store *s, const uint8_t *begin, size_t begin_len,
                       const uint8_t *end, size_t end_len, dc_error *err)
{
    (void)err;
    if (s->read_only)
        return DC_OK;
    wrlock(s);
    pthread_mutex_lock(&s->pin_lock);
    const msl_node *n = begin != NULL ? msl_seek(&s->list, begin, begin_len,
                                                 UINT64_MAX, UINT32_MAX)
                                      : msl_first(&s->list);
    while (n != NULL &&
           (end == NULL || msl_key_cmp(n->key, n->key_len, end, end_len) < 0)) {
        /* n is its key's newest version, which prune never drops. */
        prune_key(s, n->key, n->key_len);
        n = skip_key(n);
    }
    pthread_mutex_unlock(&s->pin_lock);
    unlock(s);
    return DC_OK;
}

/* stats(): last_seq and the bytes the versions take; no files, no levels.
 * Writes only the fields inside out->size. */
static int mem_stats(dc_store *s, dc_store_stats *out)
{
    rdlock(s);
    uint64_t last = s->last_seq;
    uint64_t bytes = s->list.bytes;
    unlock(s);
    if (DC_HAS_FIELD(out, dc_store_stats, last_seq))
        out->last_seq = last;
    if (DC_HAS_FIELD(out, dc_store_stats, live_bytes))
        out->live_bytes = 0;
    if (DC_HAS_FIELD(out, dc_store_stats, memtable_bytes))
        out->memtable_bytes = bytes;
    if (DC_HAS_FIELD(out, dc_store_stats, levels))
        out->levels = 0;
    return DC_OK;
}

/* ---- module -------------------------------------------------------------- */

/* init(): an instance with no store open.  Errors: DC_ENOMEM. */
static int mem_init(dc_host *host, const dc_host_api *api, void **instance,
                    dc_error *err)
{
    mem_instance *inst = calloc(1, sizeof *inst);
    if (inst == NULL)
        return oom(err, "instance");
    if (pthread_mutex_init(&inst->lock, NULL) != 0) {
        free(inst);
        return oom(err, "instance lock");
    }
    inst->host = host;
    inst->api = api;
    *instance = inst;
    return DC_OK;
}

/* shutdown(): close the stores still open (with a warning: their owner
 * should have) and free the instance. */
static void mem_shutdown(void *instance)
{
    mem_instance *inst = instance;
    while (inst->stores != NULL) {
        dc_store *s = inst->stores;
        inst->stores = s->next_open;
        inst->api->log(inst->host, DC_LOG_WARN,
                       "memory store \"%s\" still open at shutdown; closing "
                       "it",
                       s->name);
        store_destroy(s);
    }
    pthread_mutex_destroy(&inst->lock);
    free(inst);
}

static const dc_storage_vtable mem_vtable = {
    .size = sizeof(dc_storage_vtable),
    .open = mem_open,
    .close = mem_close,
    .get = mem_get,
    .write = mem_write,
    .snapshot_acquire = mem_snapshot_acquire,
    .snapshot_seq = mem_snapshot_seq,
    .snapshot_release = mem_snapshot_release,
    .iter_open = mem_iter_open,
    .iter_seek = mem_iter_seek,
    .iter_seek_first = mem_iter_seek_first,
    .iter_next = mem_iter_next,
    .iter_valid = mem_iter_valid,
    .iter_key = mem_iter_key,
    .iter_value = mem_iter_value,
    .iter_status = mem_iter_status,
    .iter_close = mem_iter_close,
    .key_seq = mem_key_seq,
    .iter_seek_last = mem_iter_seek_last,
    .iter_seek_for_prev = mem_iter_seek_for_prev,
    .iter_prev = mem_iter_prev,
    .flush = mem_flush,
    .compact = mem_compact,
    .stats = mem_stats,
};

static const dc_module_desc mem_desc = {
    DC_MODULE_HEADER(DC_KIND_STORAGE, DC_STORAGE_VTABLE_MAJOR,
                     DC_STORAGE_VTABLE_MINOR),
    .name = "memory",
    .version = "0.1.0",
    .description = "in-memory ordered key/value store with snapshots; not "
                   "durable (tests and throwaway use)",
    .init = mem_init,
    .shutdown = mem_shutdown,
    .vtable = &mem_vtable,
};

/* The module's one exported symbol: returns the descriptor, nothing else. */
DC_EXPORT const dc_module_desc *datacave_module_memory_v0(void)
{
    return &mem_desc;
}
