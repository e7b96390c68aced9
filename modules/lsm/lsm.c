/*
 * lsm.c - the `lsm` storage module: a durable log-structured merge engine.
 *
 * The components live in their own files (wal.c, memtable.c, sstable.c,
 * cache.c, version.c); this file is the engine that ties them together and
 * the module's descriptor.  docs/storage.md is the design overview; the
 * short version:
 *
 *   Store directory:  LOCK (flock), manifest/ (version.c), wal/ (wal.c),
 *                     sst/ (%016llu.sst, sstable.c).
 *
 *   Write path:  write() validates the ops (DC_EINVAL before anything
 *     happens), then queues itself (LevelDB-style writer queue, under
 *     st_mu).  The writer at the head of the queue is the leader: it makes
 *     room in the memtable (switching it to immutable, stalling when an
 *     immutable one or too many L0 files exist), takes a group of queued
 *     writers, and - with st_mu released - expands each batch (range deletes
 *     become point deletes of the keys visible at that moment, a later op
 *     on a key wins), gives it the next seq, inserts it into the memtable
 *     (readers cannot see it yet: every read is bounded by the published
 *     seq) and encodes it.  The whole group is one WAL record, appended
 *     with one fsync when any member asked for one.  Then the leader
 *     publishes the group's last seq (release store), wakes the members
 *     and hands leadership on.  A failure after the first memtable insert
 *     leaves the memtable holding unpublished entries, so the store stops
 *     accepting writes (st_write_err) until it is reopened.
 *
 *   Read path:  get, key_seq and iter_open take, under st_mu, a consistent
 *     triple (memtable, immutable memtable, current version) with refs and
 *     the read seq.  Lookups go memtable, immutable, L0 newest first, then
 *     one file per level; the first definitive answer wins.  Iterators
 *     merge every source (linear minimum over few children).
 *
 *   Background thread: flushes the immutable memtable to an L0 table,
 *     runs compactions while lsm_vset_pick_compaction wants one (when no
 *     level is due, that rewrites tables sealed under another encryption
 *     key id than the current one: key rotation), deletes
 *     obsolete files, syncs the WAL in "interval" mode and refreshes
 *     metrics.  st_work_mu serialises everything that changes the version
 *     set (flush, compaction, manual compaction, deletion of files), but a
 *     compaction holds it only to start and to install its result: it
 *     merges without it, flushing the immutable memtable itself between
 *     entries, so that a long compaction never stalls writers
 *     (run_compaction).  compact_mu lets one compaction run at a time.
 *
 *   Checkpoint (online backup):  under st_mu, with no I/O, the published
 *     seq S, the current version and the memtables are pinned; the copy is
 *     then written by checkpoint.c with no lock held while writes go on
 *     (tables hard-linked, memtable entries up to S written to new tables,
 *     a fresh manifest).
 *
 * Threads: per storage.h.  Lock order: compact_mu, st_work_mu, st_mu.  No lock is
 * held while a user callback runs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "datacave/encryption.h"
#include "datacave/module.h"
#include "datacave/storage.h"

#include "cache.h"
#include "checkpoint.h"
#include "format.h"
#include "memtable.h"
#include "sstable.h"
#include "version.h"
#include "wal.h"
#include "common/alloc.h"

#define LSM_SQLSTATE_IN_USE    "55006" /* object_in_use */
#define LSM_SQLSTATE_READ_ONLY "25006" /* read_only_sql_transaction */
#define LSM_SQLSTATE_BAD_ARG   "22023" /* invalid_parameter_value */
#define LSM_SQLSTATE_NO_FILE   "58P01" /* undefined_file */

/* A group commit takes queued writers up to this many encoded bytes (the
 * first writer always goes, whatever its size). */
#define LSM_GROUP_MAX_BYTES (1u << 20)
/* The largest batch written through the WAL (encoded), well under
 * LSM_WAL_MAX_RECORD; larger ones always take ingest_batch. */
#define LSM_BATCH_MAX_BYTES (UINT64_C(256) << 20)

enum lsm_sync_cfg { SYNC_EVERY_COMMIT = 0, SYNC_INTERVAL = 1, SYNC_OFF = 2 };

/* ==== the instance ====================================================== */

typedef struct lsm_metrics {
    dc_series *puts, *gets, *deletes, *bytes_written, *bytes_read;
    dc_series *flushes, *compactions, *wal_fsyncs, *wal_fsync_seconds;
    dc_series *stalls_memtable, *stalls_l0;
    dc_series *cache_hits, *cache_misses, *cache_hit_ratio;
    dc_series *level_files[LSM_LEVELS];
    dc_series *level_bytes[LSM_LEVELS];
    dc_metric *files_by_key; /* family; a series per key id seen */
} lsm_metrics;

typedef struct lsm_config {
    size_t block_size;
    int compression;
    int zstd_level;
    int bloom_bits; /* for lsm_sst_write_options: < 0 none */
    size_t block_cache_bytes;
    size_t max_open_files;
    int sync; /* enum lsm_sync_cfg */
    int64_t sync_interval_ms;
    int l0_trigger;
    int l0_stop;
    uint64_t l1_max_bytes;
    uint64_t bulk_write_bytes; /* batches this large: ingest_batch */
    const char *data_dir; /* resolved, malloc'd */
    bool wal_enabled;
    uint64_t memtable_max;
    uint64_t target_file_bytes;
    int64_t compaction_interval_secs;
} lsm_config;

typedef struct lsm_instance {
    dc_host *host;
    const dc_host_api *api;
    lsm_config cfg;
    lsm_metrics m;
    const dc_encryption_vtable *enc; /* NULL: no encryption module */
    void *enc_inst;
    pthread_mutex_t lock; /* guards `stores` */
    dc_store *stores;
} lsm_instance;

/* ==== the store ========================================================= */

struct dc_snapshot {
    dc_store *store;
    uint64_t seq;
    uint64_t refs; /* guarded by st_mu */
    dc_snapshot *older, *newer;
};

/* One write() waiting in the queue. */
typedef struct lsm_writer {
    const dc_batch_op *ops;
    size_t nops;
    bool sync;
    bool force_switch; /* flush(): switch the memtable */
    size_t est_bytes;
    bool done;
    int rc;
    dc_error err;
    uint64_t seq;
    sem_t sem; /* posted once: done, or now the head of the queue */
    struct lsm_writer *next;
} lsm_writer;

struct dc_store {
    lsm_instance *inst;
    char *dir;  /* the store directory */
    char *name; /* its real path: the key for one-per-process */
    char *sst_dir, *wal_dir;
    dc_store *next_open; /* guarded by inst->lock */
    int lock_fd;
    bool read_only;
    lsm_config cfg; /* copy of the instance's */
    lsm_compaction_policy policy;
    const dc_encryption_vtable *enc_w; /* for writing (NULL: clear) */
    void *enc_w_inst;
    const dc_encryption_vtable *enc_r; /* for reading */
    void *enc_r_inst;

    lsm_vset *vs;
    lsm_lru *bcache;
    lsm_tcache *tc;
    lsm_wal *wal; /* NULL: WAL disabled or read-only */

    pthread_mutex_t st_mu;     /* guards everything below unless noted */
    pthread_cond_t st_bg_cv;   /* wakes the background thread */
    pthread_cond_t st_done_cv; /* background work finished something */
    lsm_memtable *mem;         /* written by the leader only (no lock) */
    lsm_memtable *imm;         /* being flushed, or NULL */
    uint64_t imm_log;          /* first WAL segment not holding imm's data */
    uint64_t imm_seq;          /* the published seq when imm was switched:
                                  no entry of imm is newer */
    _Atomic uint64_t last_seq; /* published: readers' default seq */
    lsm_writer *wq_head, *wq_tail;
    /* Readers never take st_mu, which the writers' queue keeps busy:
     * rs_mu guards what a reader pins (mem, imm, the current version and
     * the seq that goes with them) and is held, inside st_mu, wherever
     * those change together; snap_mu guards the snapshot list. */
    pthread_mutex_t rs_mu;
    pthread_mutex_t snap_mu;
    dc_snapshot *oldest_snap, *newest_snap; /* snap_mu */
    bool shutting_down;
    bool bg_has_error; /* sticky: flush or compaction failed */
    dc_error bg_err;
    bool write_failed; /* sticky: see the file comment */
    dc_error write_err;
    bool obsolete_check;  /* an old version may have been released */
    bool compact_request; /* ask the bg thread to look for work */
    uint64_t flush_count; /* flushes done, for flush() waiters */
    dc_thread *bg;

    pthread_mutex_t st_work_mu; /* serialises version-set changes */
    /* One compaction at a time (the background thread's or a manual
     * one's); taken before st_work_mu.  A compaction merges with
     * st_work_mu released (see run_compaction); while it does, cmp_*
     * describe it, under st_work_mu. */
    pthread_mutex_t compact_mu;
    bool cmp_running;
    int cmp_level, cmp_out_level; /* its input and output levels */
    /* User keys spanning all its inputs (in its pinned input files). */
    const uint8_t *cmp_lo, *cmp_hi;
    size_t cmp_lo_len, cmp_hi_len;
    uint64_t cmp_floor;           /* its outputs number at least this */
    char *hold_compaction;        /* test hook, see hold_compaction() */

    pthread_mutex_t st_stat_mu; /* guards the metric deltas below */
    uint64_t seen_hits, seen_misses;
    /* datacave_storage_files_by_key: the series of every key id seen, so
     * that one no file uses any more is set to 0.  Under st_stat_mu. */
    struct key_series {
        uint32_t key_id;
        dc_series *series;
    } *key_series;
    size_t nkey_series;
    bool rekey_pending; /* files under other key ids; under st_work_mu */
};

/* ==== small helpers ===================================================== */

static int oom(dc_error *err, const char *what)
{
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                        "out of memory in the lsm storage engine (%s)", what);
}

static void *xmalloc0(size_t n)
{
    return malloc(n ? n : 1);
}

static char *path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* mkdir -p.  Returns 0 or -1 with errno set. */
static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -1;
            buf[i] = c;
        }
    }
    return 0;
}

static int64_t now_ns(dc_store *s)
{
    return s->inst->api->clock_ns(s->inst->host, DC_CLOCK_MONOTONIC);
}

/* The user key of an internal key. */
static inline size_t ukey_len(size_t ikey_len)
{
    return ikey_len - LSM_TRAILER_SIZE;
}

static inline uint64_t ikey_trailer(const uint8_t *ikey, size_t len)
{
    return lsm_get_fixed64(ikey + len - LSM_TRAILER_SIZE);
}

/* A growable byte buffer. */
typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static bool buf_reserve(buf *b, size_t extra)
{
    /* Always a real allocation, even for an empty key: key comparisons
     * pass the pointer to memcmp. */
    if (b->p != NULL && b->len + extra <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (p == NULL)
        return false;
    b->p = p;
    b->cap = cap;
    return true;
}

static bool buf_put(buf *b, const void *p, size_t n)
{
    if (!buf_reserve(b, n))
        return false;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    return true;
}

static bool buf_set(buf *b, const void *p, size_t n)
{
    b->len = 0;
    return buf_put(b, p, n);
}

/* Set an internal key (user key + trailer) into b. */
static bool buf_set_ikey(buf *b, const uint8_t *k, size_t n, uint64_t trailer)
{
    b->len = 0;
    if (!buf_reserve(b, n + LSM_TRAILER_SIZE))
        return false;
    if (n)
        memcpy(b->p, k, n);
    lsm_put_fixed64(b->p + n, trailer);
    b->len = n + LSM_TRAILER_SIZE;
    return true;
}

/* ==== metrics =========================================================== */

static void metric_add(dc_store *s, dc_series *series, uint64_t n)
{
    if (n)
        s->inst->api->counter_add(series, n);
}

/* The WAL's fsync hook: one count and one latency observation per fsync,
 * as it happens.  Any thread. */
static void on_wal_fsync(void *ud, uint64_t ns)
{
    dc_store *s = ud;
    s->inst->api->counter_add(s->inst->m.wal_fsyncs, 1);
    s->inst->api->histogram_observe(s->inst->m.wal_fsync_seconds,
                                    (double)ns / 1e9);
}

/* Move the block cache's hit counters into the metrics (as deltas since
 * the last call).  Any thread. */
static void metrics_refresh(dc_store *s)
{
    const dc_host_api *api = s->inst->api;
    lsm_metrics *m = &s->inst->m;
    pthread_mutex_lock(&s->st_stat_mu);
    lsm_lru_stats cs;
    lsm_lru_stats_get(s->bcache, &cs);
    if (cs.hits > s->seen_hits)
        api->counter_add(m->cache_hits, cs.hits - s->seen_hits);
    if (cs.misses > s->seen_misses)
        api->counter_add(m->cache_misses, cs.misses - s->seen_misses);
    s->seen_hits = cs.hits;
    s->seen_misses = cs.misses;
    if (cs.hits + cs.misses > 0)
        api->gauge_set(m->cache_hit_ratio,
                       (double)cs.hits / (double)(cs.hits + cs.misses));
    pthread_mutex_unlock(&s->st_stat_mu);
}

/* Table files per encryption key id of version v into
 * datacave_storage_files_by_key{key_id="%08x"}; ids no file uses any
 * more are set to 0.  Any thread. */
static void metrics_keys(dc_store *s, const lsm_version *v)
{
    const dc_host_api *api = s->inst->api;
    dc_metric *fam = s->inst->m.files_by_key;
    if (fam == NULL)
        return;
    pthread_mutex_lock(&s->st_stat_mu);
    /* Make sure every id in v has a series (a store has few key ids). */
    for (int l = 0; l < LSM_LEVELS; l++)
        for (size_t i = 0; i < v->nfiles[l]; i++) {
            uint32_t id = v->files[l][i]->key_id;
            size_t k = 0;
            while (k < s->nkey_series && s->key_series[k].key_id != id)
                k++;
            if (k < s->nkey_series)
                continue;
            struct key_series *ks =
                realloc(s->key_series, (k + 1) * sizeof *ks);
            if (ks == NULL)
                continue;
            s->key_series = ks;
            char lv[16];
            snprintf(lv, sizeof lv, "%08x", id);
            const char *values[1] = {lv};
            ks[k].key_id = id;
            ks[k].series = api->metric_series(fam, values);
            s->nkey_series = k + 1;
        }
    for (size_t k = 0; k < s->nkey_series; k++) {
        uint64_t n = 0;
        for (int l = 0; l < LSM_LEVELS; l++)
            for (size_t i = 0; i < v->nfiles[l]; i++)
                n += v->files[l][i]->key_id == s->key_series[k].key_id;
        api->gauge_set(s->key_series[k].series, (double)n);
    }
    pthread_mutex_unlock(&s->st_stat_mu);
}

/* Files and bytes per level into the gauges. */
static void metrics_levels(dc_store *s)
{
    lsm_version *v = lsm_vset_current(s->vs);
    for (int l = 0; l < LSM_LEVELS; l++) {
        s->inst->api->gauge_set(s->inst->m.level_files[l],
                                (double)v->nfiles[l]);
        s->inst->api->gauge_set(s->inst->m.level_bytes[l],
                                (double)v->level_bytes[l]);
    }
    metrics_keys(s, v);
    lsm_version_unref(v);
}

/* ==== read state ======================================================== */

/* What a reader reads: refs on the memtables and the version, and a seq. */
typedef struct read_state {
    lsm_memtable *mem, *imm; /* imm may be NULL */
    lsm_version *v;
    uint64_t seq;
} read_state;

/* Take a consistent read state.  `snap_seq` (when has_snap) is the read
 * seq, else the published last seq.  Never fails. */
static void read_state_get(dc_store *s, bool has_snap, uint64_t snap_seq,
                           read_state *rs)
{
    pthread_mutex_lock(&s->rs_mu);
    rs->mem = s->mem;
    lsm_memtable_ref(rs->mem);
    rs->imm = s->imm;
    if (rs->imm != NULL)
        lsm_memtable_ref(rs->imm);
    rs->v = lsm_vset_current(s->vs);
    rs->seq = has_snap
                  ? snap_seq
                  : atomic_load_explicit(&s->last_seq, memory_order_acquire);
    pthread_mutex_unlock(&s->rs_mu);
}

static void read_state_put(read_state *rs)
{
    if (rs->mem != NULL)
        lsm_memtable_unref(rs->mem);
    if (rs->imm != NULL)
        lsm_memtable_unref(rs->imm);
    if (rs->v != NULL)
        lsm_version_unref(rs->v);
    memset(rs, 0, sizeof *rs);
}

/* ==== point lookups ===================================================== */

/* Look `key` up at `seq` in one table file.  *result gets an
 * lsm_get_result, *vseq the version's seq.  fn may be NULL. */
static int file_get(dc_store *s, const lsm_file *f, const uint8_t *key,
                    size_t key_len, uint64_t seq, dc_value_fn fn, void *ud,
                    int *result, uint64_t *vseq, dc_error *err)
{
    lsm_sst *t;
    int rc = lsm_tcache_get(s->tc, f->number, &t, err);
    if (rc != DC_OK)
        return rc;
    rc = lsm_sst_get(t, key, key_len, seq, fn, ud, result, vseq, err);
    lsm_tcache_release(s->tc, t);
    return rc;
}

static bool file_may_hold(const lsm_file *f, const uint8_t *key, size_t n)
{
    return lsm_user_cmp(f->smallest, ukey_len(f->smallest_len), key, n) <= 0 &&
           lsm_user_cmp(f->largest, ukey_len(f->largest_len), key, n) >= 0;
}

/* The only file of a sorted level (>= 1) that may hold key, or NULL. */
static const lsm_file *level_find(const lsm_version *v, int level,
                                  const uint8_t *key, size_t n)
{
    size_t lo = 0, hi = v->nfiles[level];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const lsm_file *f = v->files[level][mid];
        if (lsm_user_cmp(f->largest, ukey_len(f->largest_len), key, n) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == v->nfiles[level])
        return NULL;
    const lsm_file *f = v->files[level][lo];
    return file_may_hold(f, key, n) ? f : NULL;
}

/* The newest version of key with seq <= rs->seq, through every source.
 * *result: lsm_get_result; *vseq its seq.  For a put in a table, fn is
 * called (by the table code, with no store lock held); for a put in a
 * memtable *mval and *mlen point into it (valid while rs is held) and fn is
 * not called.  Returns 0, an error, or fn's non-zero result. */
static int lookup(dc_store *s, const read_state *rs, const uint8_t *key,
                  size_t key_len, dc_value_fn fn, void *ud, int *result,
                  uint64_t *vseq, const uint8_t **mval, size_t *mlen,
                  bool *in_mem, dc_error *err)
{
    *mval = NULL;
    *mlen = 0;
    *in_mem = false;
    lsm_memtable *mts[2] = {rs->mem, rs->imm};
    for (int i = 0; i < 2; i++) {
        if (mts[i] == NULL)
            continue;
        int r =
            lsm_memtable_get(mts[i], key, key_len, rs->seq, mval, mlen, vseq);
        if (r != LSM_GET_NOTFOUND) {
            *result = r;
            *in_mem = true;
            return DC_OK;
        }
    }
    const lsm_version *v = rs->v;
    for (size_t i = 0; i < v->nfiles[0]; i++) {
        const lsm_file *f = v->files[0][i];
        if (!file_may_hold(f, key, key_len))
            continue;
        int r = LSM_GET_NOTFOUND;
        int rc = file_get(s, f, key, key_len, rs->seq, fn, ud, &r, vseq, err);
        if (rc != DC_OK)
            return rc;
        if (r != LSM_GET_NOTFOUND) {
            *result = r;
            return DC_OK;
        }
    }
    for (int l = 1; l < LSM_LEVELS; l++) {
        const lsm_file *f = level_find(v, l, key, key_len);
        if (f == NULL)
            continue;
        int r = LSM_GET_NOTFOUND;
        int rc = file_get(s, f, key, key_len, rs->seq, fn, ud, &r, vseq, err);
        if (rc != DC_OK)
            return rc;
        if (r != LSM_GET_NOTFOUND) {
            *result = r;
            return DC_OK;
        }
    }
    *result = LSM_GET_NOTFOUND;
    return DC_OK;
}

/* Wraps the caller's fn to count the bytes read. */
typedef struct get_ctx {
    dc_value_fn fn;
    void *ud;
    size_t bytes;
} get_ctx;

static int get_cb(void *ud, const uint8_t *val, size_t len)
{
    get_ctx *g = ud;
    g->bytes += len;
    return g->fn != NULL ? g->fn(g->ud, val, len) : 0;
}

/* get(): see storage.h.  fn runs with no store lock held (refs only). */
static int lsm_get(dc_store *s, const dc_read_options *ro, const uint8_t *key,
                   size_t key_len, dc_value_fn fn, void *ud, dc_error *err)
{
    if (key == NULL && key_len > 0)
        return dc_error_set(err, DC_EINVAL, LSM_SQLSTATE_BAD_ARG,
                            "get: NULL key of length %zu", key_len);
    const dc_snapshot *snap =
        DC_HAS_FIELD(ro, dc_read_options, snapshot) ? ro->snapshot : NULL;
    read_state rs;
    read_state_get(s, snap != NULL, snap ? snap->seq : 0, &rs);
    metric_add(s, s->inst->m.gets, 1);
    get_ctx g = {.fn = fn, .ud = ud, .bytes = 0};
    int result = LSM_GET_NOTFOUND;
    uint64_t vseq = 0;
    const uint8_t *mval;
    size_t mlen;
    bool in_mem = false;
    int rc = lookup(s, &rs, key, key_len, get_cb, &g, &result, &vseq, &mval,
                    &mlen, &in_mem, err);
    if (rc == DC_OK && result != LSM_GET_FOUND)
        rc = DC_ENOTFOUND;
    else if (rc == DC_OK && in_mem)
        rc = get_cb(&g, mval, mlen);
    read_state_put(&rs);
    metric_add(s, s->inst->m.bytes_read, g.bytes);
    return rc;
}

/* key_seq(): the seq of the newest published version of key, 0 when none
 * is left.  Versions not yet published (a group commit in flight) are not
 * counted: they are not committed. */
static int lsm_key_seq(dc_store *s, const uint8_t *key, size_t key_len,
                       uint64_t *seq, dc_error *err)
{
    if (key == NULL && key_len > 0)
        return dc_error_set(err, DC_EINVAL, LSM_SQLSTATE_BAD_ARG,
                            "key_seq: NULL key of length %zu", key_len);
    read_state rs;
    read_state_get(s, false, 0, &rs);
    int result = LSM_GET_NOTFOUND;
    uint64_t vseq = 0;
    const uint8_t *mval;
    size_t mlen;
    bool in_mem;
    int rc = lookup(s, &rs, key, key_len, NULL, NULL, &result, &vseq, &mval,
                    &mlen, &in_mem, err);
    read_state_put(&rs);
    if (rc != DC_OK)
        return rc;
    if (seq != NULL)
        *seq = result == LSM_GET_NOTFOUND ? 0 : vseq;
    return DC_OK;
}

/* approx_count(): see storage.h.  The memtables are walked over the range,
 * counting puts; a table file counts its entries, or when the range covers
 * it in part, the share its index gives (lsm_sst_approx_entries). */
static int lsm_approx_count(dc_store *s, const uint8_t *lo, size_t lo_len,
                            const uint8_t *hi, size_t hi_len, uint64_t *count,
                            dc_error *err)
{
    if ((lo == NULL && lo_len > 0) || (hi == NULL && hi_len > 0) ||
        count == NULL)
        return dc_error_set(err, DC_EINVAL, LSM_SQLSTATE_BAD_ARG,
                            "approx_count: NULL key or count");
    *count = 0;
    if (lo == NULL)
        lo = (const uint8_t *)"";
    if (hi != NULL && lsm_user_cmp(lo, lo_len, hi, hi_len) >= 0)
        return DC_OK;
    buf lk = {0}, hk = {0};
    if (!buf_set_ikey(&lk, lo, lo_len, lsm_pack_trailer(LSM_MAX_SEQ, 0xff)) ||
        (hi != NULL &&
         !buf_set_ikey(&hk, hi, hi_len, lsm_pack_trailer(LSM_MAX_SEQ, 0xff)))) {
        free(lk.p);
        free(hk.p);
        return oom(err, "approx_count");
    }
    read_state rs;
    read_state_get(s, false, 0, &rs);
    uint64_t n = 0;
    lsm_memtable *mts[2] = {rs.mem, rs.imm};
    for (int i = 0; i < 2; i++) {
        if (mts[i] == NULL)
            continue;
        lsm_memtable_iter mi;
        lsm_memtable_iter_init(&mi, mts[i]);
        for (lsm_memtable_iter_seek(&mi, lk.p, lk.len);
             lsm_memtable_iter_valid(&mi); lsm_memtable_iter_next(&mi)) {
            const uint8_t *k;
            size_t kn;
            lsm_memtable_iter_key(&mi, &k, &kn);
            if (hi != NULL && lsm_user_cmp(k, ukey_len(kn), hi, hi_len) >= 0)
                break;
            if ((ikey_trailer(k, kn) & 0xff) == LSM_TYPE_PUT)
                n++;
        }
    }
    int rc = DC_OK;
    for (int l = 0; l < LSM_LEVELS && rc == DC_OK; l++) {
        for (size_t i = 0; i < rs.v->nfiles[l] && rc == DC_OK; i++) {
            const lsm_file *f = rs.v->files[l][i];
            const uint8_t *fs = f->smallest, *fl = f->largest;
            size_t fsn = ukey_len(f->smallest_len), fln = ukey_len(f->largest_len);
            if (lsm_user_cmp(fl, fln, lo, lo_len) < 0 ||
                (hi != NULL && lsm_user_cmp(fs, fsn, hi, hi_len) >= 0))
                continue;
            if (lsm_user_cmp(fs, fsn, lo, lo_len) >= 0 &&
                (hi == NULL || lsm_user_cmp(fl, fln, hi, hi_len) < 0)) {
                n += f->entries;
                continue;
            }
            lsm_sst *t;
            if ((rc = lsm_tcache_get(s->tc, f->number, &t, err)) != DC_OK)
                break;
            uint64_t part = 0;
            rc = lsm_sst_approx_entries(t, lk.p, lk.len, hi ? hk.p : NULL,
                                        hk.len, &part, err);
            lsm_tcache_release(s->tc, t);
            n += part;
        }
    }
    read_state_put(&rs);
    free(lk.p);
    free(hk.p);
    if (rc == DC_OK)
        *count = n;
    return rc;
}

/* ==== internal iterators ================================================ */

/* A source of internal keys in lsm_ikey_cmp order: a memtable, one table,
 * or a sorted level (a concatenation of tables opened one at a time). */
enum child_kind { CHILD_MEM, CHILD_SST, CHILD_LEVEL };

typedef struct child {
    int kind;
    dc_store *s;
    bool skip_cache;
    lsm_memtable_iter mi; /* CHILD_MEM */
    lsm_sst *t;           /* CHILD_SST, CHILD_LEVEL: pinned table */
    lsm_sst_iter *si;
    lsm_file *const *files; /* CHILD_LEVEL: the level's files */
    size_t nfiles, idx;     /* idx: the file t is, nfiles: none */
    int status;             /* an error made the child invalid */
    dc_error err;
} child;

static void child_fail(child *c, int rc, const dc_error *e)
{
    if (c->status == DC_OK) {
        c->status = rc;
        c->err = *e;
    }
}

/* Close the level child's current table. */
static void child_drop_table(child *c)
{
    if (c->si != NULL)
        lsm_sst_iter_close(c->si);
    if (c->t != NULL)
        lsm_tcache_release(c->s->tc, c->t);
    c->si = NULL;
    c->t = NULL;
}

/* Open table `number` into c->t/c->si.  Returns false on error. */
static bool child_open_table(child *c, uint64_t number)
{
    dc_error e;
    dc_error_init(&e);
    int rc = lsm_tcache_get(c->s->tc, number, &c->t, &e);
    if (rc == DC_OK) {
        rc = lsm_sst_iter_open(c->t, &c->si, &e);
        if (rc != DC_OK) {
            lsm_tcache_release(c->s->tc, c->t);
            c->t = NULL;
        } else if (c->skip_cache) {
            lsm_sst_iter_skip_cache(c->si);
        }
    }
    if (rc != DC_OK) {
        c->t = NULL;
        c->si = NULL;
        child_fail(c, rc, &e);
        return false;
    }
    return true;
}

/* Level child: open file idx (dropping the current one). */
static bool level_open(child *c, size_t idx)
{
    child_drop_table(c);
    c->idx = idx;
    if (idx >= c->nfiles)
        return false;
    return child_open_table(c, c->files[idx]->number);
}

/* Check the sst iterator's status after a move. */
static void child_check(child *c)
{
    if (c->si != NULL && !lsm_sst_iter_valid(c->si)) {
        dc_error e;
        dc_error_init(&e);
        int rc = lsm_sst_iter_status(c->si, &e);
        if (rc != DC_OK)
            child_fail(c, rc, &e);
    }
}

/* Level child: while the current file is exhausted, go to the next one
 * and position at its start. */
static void level_skip_empty(child *c)
{
    while (c->status == DC_OK && c->si != NULL && !lsm_sst_iter_valid(c->si)) {
        child_check(c);
        if (c->status != DC_OK || c->idx + 1 >= c->nfiles) {
            child_drop_table(c);
            c->idx = c->nfiles;
            return;
        }
        if (!level_open(c, c->idx + 1))
            return;
        lsm_sst_iter_seek_first(c->si);
    }
}

static bool child_valid(const child *c)
{
    if (c->status != DC_OK)
        return false;
    if (c->kind == CHILD_MEM)
        return lsm_memtable_iter_valid(&c->mi);
    return c->si != NULL && lsm_sst_iter_valid(c->si);
}

static void child_key(const child *c, const uint8_t **k, size_t *n)
{
    if (c->kind == CHILD_MEM)
        lsm_memtable_iter_key(&c->mi, k, n);
    else
        lsm_sst_iter_key(c->si, k, n);
}

static void child_value(const child *c, const uint8_t **v, size_t *n)
{
    if (c->kind == CHILD_MEM)
        lsm_memtable_iter_value(&c->mi, v, n);
    else
        lsm_sst_iter_value(c->si, v, n);
}

static void child_seek_first(child *c)
{
    if (c->status != DC_OK)
        return;
    switch (c->kind) {
    case CHILD_MEM:
        lsm_memtable_iter_seek_first(&c->mi);
        break;
    case CHILD_SST:
        lsm_sst_iter_seek_first(c->si);
        child_check(c);
        break;
    default:
        if (c->nfiles == 0 || !level_open(c, 0))
            return;
        lsm_sst_iter_seek_first(c->si);
        level_skip_empty(c);
        break;
    }
}

/* Position at the first entry >= ikey. */
static void child_seek(child *c, const uint8_t *ikey, size_t len)
{
    if (c->status != DC_OK)
        return;
    switch (c->kind) {
    case CHILD_MEM:
        lsm_memtable_iter_seek(&c->mi, ikey, len);
        break;
    case CHILD_SST:
        lsm_sst_iter_seek(c->si, ikey, len);
        child_check(c);
        break;
    default: {
        /* The first file whose largest key is >= ikey. */
        size_t lo = 0, hi = c->nfiles;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const lsm_file *f = c->files[mid];
            if (lsm_ikey_cmp(f->largest, f->largest_len, ikey, len) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo >= c->nfiles) {
            child_drop_table(c);
            c->idx = c->nfiles;
            return;
        }
        if (c->t == NULL || c->idx != lo) {
            if (!level_open(c, lo))
                return;
        }
        lsm_sst_iter_seek(c->si, ikey, len);
        level_skip_empty(c);
        break;
    }
    }
}

static void child_next(child *c)
{
    if (!child_valid(c))
        return;
    switch (c->kind) {
    case CHILD_MEM:
        lsm_memtable_iter_next(&c->mi);
        break;
    case CHILD_SST:
        lsm_sst_iter_next(c->si);
        child_check(c);
        break;
    default:
        lsm_sst_iter_next(c->si);
        level_skip_empty(c);
        break;
    }
}

static void child_close(child *c)
{
    if (c->kind == CHILD_MEM)
        return;
    child_drop_table(c);
}

/* A merge of children: the smallest current internal key among them
 * (ties: the lower index, i.e. the newer source). */
typedef struct merge {
    child *ch;
    size_t n;
    long cur;    /* index of the smallest, -1 when every child is done */
    long second; /* index of the next smallest after cur, -1: none     */
    int status;
    dc_error err;
} merge;

static void merge_find(merge *m)
{
    m->cur = -1;
    m->second = -1;
    const uint8_t *best = NULL, *sec = NULL;
    size_t best_len = 0, sec_len = 0;
    for (size_t i = 0; i < m->n; i++) {
        child *c = &m->ch[i];
        if (c->status != DC_OK && m->status == DC_OK) {
            m->status = c->status;
            m->err = c->err;
        }
        if (!child_valid(c))
            continue;
        const uint8_t *k;
        size_t n;
        child_key(c, &k, &n);
        if (n < LSM_TRAILER_SIZE) {
            dc_error e;
            dc_error_init(&e);
            dc_error_set(&e, DC_ECORRUPT, DC_SQLSTATE_CORRUPT,
                         "lsm: internal key of %zu bytes (too short)%s%s", n,
                         c->t ? " in " : "", c->t ? lsm_sst_path(c->t) : "");
            child_fail(c, DC_ECORRUPT, &e);
            if (m->status == DC_OK) {
                m->status = DC_ECORRUPT;
                m->err = e;
            }
            continue;
        }
        if (best == NULL || lsm_ikey_cmp(k, n, best, best_len) < 0) {
            sec = best;
            sec_len = best_len;
            m->second = m->cur;
            best = k;
            best_len = n;
            m->cur = (long)i;
        } else if (sec == NULL || lsm_ikey_cmp(k, n, sec, sec_len) < 0) {
            sec = k;
            sec_len = n;
            m->second = (long)i;
        }
    }
    if (m->status != DC_OK)
        m->cur = -1;
}

/* After only child cur advanced: it stays the smallest when its new key
 * is still below the runner-up's (which did not move), so one comparison
 * replaces a pass over every child -- the common case of a scan whose
 * keys come mostly from one source. */
static bool merge_keep_cur(merge *m)
{
    child *c = &m->ch[m->cur];
    if (!child_valid(c))
        return false;
    const uint8_t *k;
    size_t n;
    child_key(c, &k, &n);
    if (n < LSM_TRAILER_SIZE)
        return false;
    if (m->second < 0)
        return true;
    child *o = &m->ch[m->second];
    if (!child_valid(o))
        return false;
    const uint8_t *ok;
    size_t on;
    child_key(o, &ok, &on);
    if (on < LSM_TRAILER_SIZE)
        return false;
    int r = lsm_ikey_cmp(k, n, ok, on);
    return r < 0 || (r == 0 && m->cur < m->second);
}

static bool merge_valid(const merge *m)
{
    return m->cur >= 0;
}

static void merge_seek_first(merge *m)
{
    for (size_t i = 0; i < m->n; i++)
        child_seek_first(&m->ch[i]);
    merge_find(m);
}

static void merge_seek(merge *m, const uint8_t *ikey, size_t len)
{
    for (size_t i = 0; i < m->n; i++)
        child_seek(&m->ch[i], ikey, len);
    merge_find(m);
}

static void merge_next(merge *m)
{
    if (m->cur < 0)
        return;
    child_next(&m->ch[m->cur]);
    if (m->ch[m->cur].status == DC_OK && merge_keep_cur(m))
        return;
    merge_find(m);
}

static void merge_key(const merge *m, const uint8_t **k, size_t *n)
{
    child_key(&m->ch[m->cur], k, n);
}

static void merge_value(const merge *m, const uint8_t **v, size_t *n)
{
    child_value(&m->ch[m->cur], v, n);
}

static void merge_close(merge *m)
{
    for (size_t i = 0; i < m->n; i++)
        child_close(&m->ch[i]);
    free(m->ch);
    m->ch = NULL;
    m->n = 0;
}

/* Children over a read state: mem, imm, every L0 table, one per level.
 * Returns 0, DC_ENOMEM, or a table open error. */
static int merge_init_rs(dc_store *s, const read_state *rs, bool skip_cache,
                         merge *m, dc_error *err)
{
    memset(m, 0, sizeof *m);
    m->cur = -1;
    size_t max = 2 + rs->v->nfiles[0] + LSM_LEVELS;
    m->ch = dcm_calloc(max, sizeof *m->ch);
    if (m->ch == NULL)
        return oom(err, "iterator");
    lsm_memtable *mts[2] = {rs->mem, rs->imm};
    for (int i = 0; i < 2; i++) {
        if (mts[i] == NULL)
            continue;
        child *c = &m->ch[m->n++];
        c->kind = CHILD_MEM;
        c->s = s;
        lsm_memtable_iter_init(&c->mi, mts[i]);
    }
    for (size_t i = 0; i < rs->v->nfiles[0]; i++) {
        child *c = &m->ch[m->n++];
        c->kind = CHILD_SST;
        c->s = s;
        c->skip_cache = skip_cache;
        if (!child_open_table(c, rs->v->files[0][i]->number)) {
            int rc = c->status;
            *err = c->err;
            m->n--;
            merge_close(m);
            return rc;
        }
    }
    for (int l = 1; l < LSM_LEVELS; l++) {
        if (rs->v->nfiles[l] == 0)
            continue;
        child *c = &m->ch[m->n++];
        c->kind = CHILD_LEVEL;
        c->s = s;
        c->skip_cache = skip_cache;
        c->files = rs->v->files[l];
        c->nfiles = rs->v->nfiles[l];
        c->idx = c->nfiles;
    }
    return DC_OK;
}

/* ==== snapshots ========================================================= */

/* Pin the published seq.  Snapshots of one seq share a handle. */
static int lsm_snapshot_acquire(dc_store *s, dc_snapshot **out, dc_error *err)
{
    pthread_mutex_lock(&s->snap_mu);
    uint64_t seq = atomic_load_explicit(&s->last_seq, memory_order_acquire);
    dc_snapshot *p = s->newest_snap;
    if (p != NULL && p->seq == seq) {
        p->refs++;
    } else {
        p = dcm_calloc(1, sizeof *p);
        if (p == NULL) {
            pthread_mutex_unlock(&s->snap_mu);
            return oom(err, "snapshot");
        }
        p->store = s;
        p->seq = seq;
        p->refs = 1;
        p->older = s->newest_snap;
        if (s->newest_snap != NULL)
            s->newest_snap->newer = p;
        else
            s->oldest_snap = p;
        s->newest_snap = p;
    }
    pthread_mutex_unlock(&s->snap_mu);
    *out = p;
    return DC_OK;
}

static uint64_t lsm_snapshot_seq(const dc_snapshot *snap)
{
    return snap->seq;
}

static void lsm_snapshot_release(dc_store *s, dc_snapshot *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&s->snap_mu);
    if (--p->refs == 0) {
        if (p->older != NULL)
            p->older->newer = p->newer;
        else
            s->oldest_snap = p->newer;
        if (p->newer != NULL)
            p->newer->older = p->older;
        else
            s->newest_snap = p->older;
        free(p);
    }
    pthread_mutex_unlock(&s->snap_mu);
}

/* The seqs a compaction must keep a version for, ascending: every live
 * snapshot's and, last, the published seq.  Caller holds st_mu.  *out is
 * malloc'd.  Returns 0 or DC_ENOMEM. */
static int snapshot_seqs(dc_store *s, uint64_t **out, size_t *n)
{
    /* The published seq is read under snap_mu too: a snapshot taken
     * after this cannot be older than it. */
    pthread_mutex_lock(&s->snap_mu);
    size_t k = 1;
    for (dc_snapshot *p = s->oldest_snap; p != NULL; p = p->newer)
        k++;
    uint64_t *a = malloc(k * sizeof *a);
    if (a == NULL) {
        pthread_mutex_unlock(&s->snap_mu);
        return DC_ENOMEM;
    }
    size_t i = 0;
    for (dc_snapshot *p = s->oldest_snap; p != NULL; p = p->newer)
        if (i == 0 || a[i - 1] != p->seq)
            a[i++] = p->seq;
    uint64_t last = atomic_load_explicit(&s->last_seq, memory_order_acquire);
    if (i == 0 || a[i - 1] != last)
        a[i++] = last;
    pthread_mutex_unlock(&s->snap_mu);
    *out = a;
    *n = i;
    return DC_OK;
}

/* ==== user iterators ==================================================== */

struct dc_iter {
    dc_store *store;
    read_state rs;
    merge m;
    bool has_lower, has_upper;
    buf lower, upper;
    buf key; /* the current user key (a copy) */
    buf seekbuf;
    bool valid;
    int status;
    dc_error err;
};

/* From the merge's position, the first visible put of a user key not
 * skipped: skips versions newer than the read seq, older versions of a
 * user key already decided (`skip`, when set), and deleted keys.  Sets
 * it->valid and it->key. */
static void iter_settle(dc_iter *it, bool skipping)
{
    merge *m = &it->m;
    it->valid = false;
    while (merge_valid(m)) {
        const uint8_t *k;
        size_t n;
        merge_key(m, &k, &n);
        size_t un = ukey_len(n);
        if (it->has_upper &&
            lsm_user_cmp(k, un, it->upper.p, it->upper.len) >= 0)
            break;
        uint64_t tr = ikey_trailer(k, n);
        uint64_t seq = tr >> 8;
        unsigned type = (unsigned)(tr & 0xff);
        if (seq > it->rs.seq) {
            merge_next(m);
            continue;
        }
        if (skipping && un == it->key.len &&
            lsm_user_cmp(k, un, it->key.p, it->key.len) == 0) {
            merge_next(m);
            continue;
        }
        /* The newest visible version of this user key. */
        if (!buf_set(&it->key, k, un)) {
            it->status = oom(&it->err, "iterator key");
            return;
        }
        skipping = true;
        if (type == LSM_TYPE_PUT) {
            it->valid = true;
            return;
        }
        merge_next(m); /* a tombstone (or another kind): hide the key */
    }
    if (m->status != DC_OK && it->status == DC_OK) {
        it->status = m->status;
        it->err = m->err;
    }
}

static void lsm_iter_seek(dc_iter *it, const uint8_t *key, size_t key_len)
{
    if (it->status != DC_OK)
        return;
    if (it->has_lower &&
        lsm_user_cmp(key, key_len, it->lower.p, it->lower.len) < 0) {
        key = it->lower.p;
        key_len = it->lower.len;
    }
    if (!buf_set_ikey(&it->seekbuf, key, key_len,
                      lsm_pack_trailer(it->rs.seq, 0xff))) {
        it->valid = false;
        it->status = oom(&it->err, "iterator seek");
        return;
    }
    merge_seek(&it->m, it->seekbuf.p, it->seekbuf.len);
    iter_settle(it, false);
}

static void lsm_iter_seek_first(dc_iter *it)
{
    if (it->status != DC_OK)
        return;
    if (it->has_lower) {
        lsm_iter_seek(it, it->lower.p, it->lower.len);
        return;
    }
    merge_seek_first(&it->m);
    iter_settle(it, false);
}

static void lsm_iter_next(dc_iter *it)
{
    if (!it->valid || it->status != DC_OK)
        return;
    merge_next(&it->m);
    iter_settle(it, true);
}

static bool lsm_iter_valid(const dc_iter *it)
{
    return it->valid && it->status == DC_OK;
}

static void lsm_iter_key(const dc_iter *it, const uint8_t **key, size_t *len)
{
    if (!lsm_iter_valid(it)) {
        *key = NULL;
        *len = 0;
        return;
    }
    /* A non-NULL pointer even for the empty key. */
    *key = it->key.p != NULL ? it->key.p : (const uint8_t *)"";
    *len = it->key.len;
}

static void lsm_iter_value(const dc_iter *it, const uint8_t **val, size_t *len)
{
    if (!lsm_iter_valid(it)) {
        *val = NULL;
        *len = 0;
        return;
    }
    merge_value(&it->m, val, len);
    if (*val == NULL)
        *val = (const uint8_t *)"";
}

static int lsm_iter_status(const dc_iter *it, dc_error *err)
{
    if (it->status != DC_OK && err != NULL)
        *err = it->err;
    return it->status;
}

static void lsm_iter_close(dc_iter *it)
{
    if (it == NULL)
        return;
    dc_store *s = it->store;
    merge_close(&it->m);
    bool old = false;
    if (it->rs.v != NULL) {
        lsm_version *cur = lsm_vset_current(s->vs);
        old = cur != it->rs.v;
        lsm_version_unref(cur);
    }
    read_state_put(&it->rs);
    if (old) {
        /* Files only this iterator kept may be obsolete now. */
        pthread_mutex_lock(&s->st_mu);
        s->obsolete_check = true;
        pthread_cond_signal(&s->st_bg_cv);
        pthread_mutex_unlock(&s->st_mu);
    }
    free(it->lower.p);
    free(it->upper.p);
    free(it->key.p);
    free(it->seekbuf.p);
    free(it);
}

/* An iterator at `seq` (has_seq) or the published seq, bounded. */
static int iter_create(dc_store *s, bool has_seq, uint64_t seq,
                       const uint8_t *lower, size_t lower_len,
                       const uint8_t *upper, size_t upper_len, bool skip_cache,
                       dc_iter **out, dc_error *err)
{
    dc_iter *it = dcm_calloc(1, sizeof *it);
    if (it == NULL)
        return oom(err, "iterator");
    it->store = s;
    it->has_lower = lower != NULL;
    it->has_upper = upper != NULL;
    if ((lower != NULL && !buf_set(&it->lower, lower, lower_len)) ||
        (upper != NULL && !buf_set(&it->upper, upper, upper_len))) {
        lsm_iter_close(it);
        return oom(err, "iterator bounds");
    }
    read_state_get(s, has_seq, seq, &it->rs);
    int rc = merge_init_rs(s, &it->rs, skip_cache, &it->m, err);
    if (rc != DC_OK) {
        lsm_iter_close(it);
        return rc;
    }
    *out = it;
    return DC_OK;
}

static int lsm_iter_open(dc_store *s, const dc_read_options *ro, dc_iter **out,
                         dc_error *err)
{
    const uint8_t *lower = NULL, *upper = NULL;
    size_t lower_len = 0, upper_len = 0;
    const dc_snapshot *snap = NULL;
    bool skip_cache = false;
    if (DC_HAS_FIELD(ro, dc_read_options, snapshot))
        snap = ro->snapshot;
    if (DC_HAS_FIELD(ro, dc_read_options, lower_len)) {
        lower = ro->lower;
        lower_len = ro->lower_len;
    }
    if (DC_HAS_FIELD(ro, dc_read_options, upper_len)) {
        upper = ro->upper;
        upper_len = ro->upper_len;
    }
    if (DC_HAS_FIELD(ro, dc_read_options, skip_cache))
        skip_cache = ro->skip_cache;
    return iter_create(s, snap != NULL, snap ? snap->seq : 0, lower, lower_len,
                       upper, upper_len, skip_cache, out, err);
}

/* ==== writes ============================================================ */

/* Check every op before anything is applied: DC_OK or DC_EINVAL.  *bytes
 * gets an estimate of the encoded size. */
static int check_batch(const dc_batch_op *ops, size_t nops, size_t *bytes,
                       dc_error *err)
{
    if (ops == NULL && nops > 0)
        return dc_error_set(err, DC_EINVAL, LSM_SQLSTATE_BAD_ARG,
                            "write: NULL ops array of %zu ops", nops);
    uint64_t total = 12;
    for (size_t i = 0; i < nops; i++) {
        const dc_batch_op *op = &ops[i];
        if (op->op != DC_OP_PUT && op->op != DC_OP_DELETE &&
            op->op != DC_OP_DELETE_RANGE)
            return dc_error_set(err, DC_EINVAL, LSM_SQLSTATE_BAD_ARG,
                                "write: op %zu has unknown kind %u", i,
                                (unsigned)op->op);
        if (op->key == NULL && op->key_len > 0)
            return dc_error_set(err, DC_EINVAL, LSM_SQLSTATE_BAD_ARG,
                                "write: op %zu has a NULL key of length %zu", i,
                                op->key_len);
        if (op->op != DC_OP_DELETE && op->value == NULL && op->value_len > 0)
            return dc_error_set(err, DC_EINVAL, LSM_SQLSTATE_BAD_ARG,
                                "write: op %zu has a NULL %s of length %zu", i,
                                op->op == DC_OP_PUT ? "value" : "end key",
                                op->value_len);
        total += 21 + (uint64_t)op->key_len +
                 (op->op == DC_OP_PUT ? (uint64_t)op->value_len : 0);
    }
    *bytes = (size_t)total;
    return DC_OK;
}

/* One op of an expanded batch: a put or a point delete. */
typedef struct eop {
    const uint8_t *k;
    size_t kn;
    const uint8_t *v;
    size_t vn;
    unsigned type;
    size_t idx;
} eop;

typedef struct expanded {
    eop *ops;
    size_t n, cap;
    uint8_t **copies; /* keys copied from the store (range deletes) */
    size_t ncopies, capcopies;
} expanded;

static void expanded_free(expanded *x)
{
    for (size_t i = 0; i < x->ncopies; i++)
        free(x->copies[i]);
    free(x->copies);
    free(x->ops);
    memset(x, 0, sizeof *x);
}

static bool expanded_push(expanded *x, const uint8_t *k, size_t kn,
                          const uint8_t *v, size_t vn, unsigned type)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 16;
        eop *p = realloc(x->ops, cap * sizeof *p);
        if (p == NULL)
            return false;
        x->ops = p;
        x->cap = cap;
    }
    x->ops[x->n] = (eop){k, kn, v, vn, type, x->n};
    x->n++;
    return true;
}

static uint8_t *expanded_copy(expanded *x, const uint8_t *k, size_t kn)
{
    if (x->ncopies == x->capcopies) {
        size_t cap = x->capcopies ? 2 * x->capcopies : 16;
        uint8_t **p = realloc(x->copies, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        x->copies = p;
        x->capcopies = cap;
    }
    uint8_t *c = xmalloc0(kn);
    if (c == NULL)
        return NULL;
    if (kn)
        memcpy(c, k, kn);
    x->copies[x->ncopies++] = c;
    return c;
}

static int eop_cmp(const void *a, const void *b)
{
    const eop *x = a, *y = b;
    int c = lsm_user_cmp(x->k, x->kn, y->k, y->kn);
    if (c != 0)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx ? 1 : 0;
}

/* Turn a batch into puts and point deletes, one per key (the last op on a
 * key wins), sorted by key.  A range delete [b, e) deletes every key
 * visible now (everything in the memtable counts, including the batches
 * of this group inserted before) and every key put earlier in the batch.
 * Only the leader calls this.  Errors: DC_ENOMEM, iterator errors. */
static int expand_batch(dc_store *s, const dc_batch_op *ops, size_t nops,
                        expanded *x, dc_error *err)
{
    if (x->cap < nops) { /* one op each, at least */
        eop *p = realloc(x->ops, nops * sizeof *p);
        if (p == NULL)
            return oom(err, "write batch");
        x->ops = p;
        x->cap = nops;
    }
    for (size_t i = 0; i < nops; i++) {
        const dc_batch_op *op = &ops[i];
        if (op->op == DC_OP_PUT || op->op == DC_OP_DELETE) {
            const uint8_t *k = op->key ? op->key : (const uint8_t *)"";
            const uint8_t *v = op->value ? op->value : (const uint8_t *)"";
            bool put = op->op == DC_OP_PUT;
            if (!expanded_push(x, k, op->key_len, put ? v : NULL,
                               put ? op->value_len : 0,
                               put ? LSM_TYPE_PUT : LSM_TYPE_DELETE))
                return oom(err, "write batch");
            continue;
        }
        const uint8_t *b = op->key ? op->key : (const uint8_t *)"";
        const uint8_t *e = op->value ? op->value : (const uint8_t *)"";
        if (lsm_user_cmp(b, op->key_len, e, op->value_len) >= 0)
            continue;
        size_t before = x->n;
        for (size_t j = 0; j < before; j++) {
            eop *p = &x->ops[j];
            if (p->type == LSM_TYPE_PUT &&
                lsm_user_cmp(p->k, p->kn, b, op->key_len) >= 0 &&
                lsm_user_cmp(p->k, p->kn, e, op->value_len) < 0) {
                if (!expanded_push(x, p->k, p->kn, NULL, 0, LSM_TYPE_DELETE))
                    return oom(err, "write batch");
            }
        }
        dc_iter *it;
        int rc = iter_create(s, true, LSM_MAX_SEQ, b, op->key_len, e,
                             op->value_len, false, &it, err);
        if (rc != DC_OK)
            return rc;
        for (lsm_iter_seek_first(it); lsm_iter_valid(it); lsm_iter_next(it)) {
            const uint8_t *k;
            size_t kn;
            lsm_iter_key(it, &k, &kn);
            uint8_t *c = expanded_copy(x, k, kn);
            if (c == NULL ||
                !expanded_push(x, c, kn, NULL, 0, LSM_TYPE_DELETE)) {
                lsm_iter_close(it);
                return oom(err, "range delete");
            }
        }
        rc = lsm_iter_status(it, err);
        lsm_iter_close(it);
        if (rc != DC_OK)
            return rc;
    }
    /* A batch whose keys already ascend (a transaction's write set is
     * sorted) needs neither the sort nor the pass for repeated keys. */
    bool sorted = true;
    for (size_t i = 1; sorted && i < x->n; i++)
        sorted = lsm_user_cmp(x->ops[i - 1].k, x->ops[i - 1].kn, x->ops[i].k,
                              x->ops[i].kn) < 0;
    if (x->n > 1 && !sorted) {
        qsort(x->ops, x->n, sizeof *x->ops, eop_cmp);
        size_t out = 0;
        for (size_t i = 0; i < x->n; i++) {
            if (i + 1 < x->n &&
                lsm_user_cmp(x->ops[i].k, x->ops[i].kn, x->ops[i + 1].k,
                             x->ops[i + 1].kn) == 0)
                continue; /* a later op on the same key wins */
            x->ops[out++] = x->ops[i];
        }
        x->n = out;
    }
    return DC_OK;
}

/* Append one batch to the WAL record: seq, count, ops. */
static bool encode_batch(buf *rec, uint64_t seq, const expanded *x)
{
    uint8_t hdr[12];
    lsm_put_fixed64(hdr, seq);
    lsm_put_fixed32(hdr + 8, (uint32_t)x->n);
    if (!buf_put(rec, hdr, sizeof hdr))
        return false;
    for (size_t i = 0; i < x->n; i++) {
        const eop *o = &x->ops[i];
        uint8_t tmp[21];
        size_t t = 0;
        tmp[t++] = (uint8_t)o->type;
        t += lsm_put_varint64(tmp + t, o->kn);
        if (!buf_put(rec, tmp, t) || !buf_put(rec, o->k, o->kn))
            return false;
        t = lsm_put_varint64(tmp, o->vn);
        if (!buf_put(rec, tmp, t) || !buf_put(rec, o->v, o->vn))
            return false;
    }
    return true;
}

/* Decode one WAL record (one or more batches) into `mem`.  *max_seq gets
 * the highest seq seen.  Errors: DC_ECORRUPT naming the segment. */
static int replay_record(lsm_memtable *mem, uint64_t segment, const uint8_t *p,
                         size_t len, uint64_t *max_seq, dc_error *err)
{
    const uint8_t *end = p + len;
    char name[64];
    lsm_wal_file_name(segment, name, sizeof name);
    while (p < end) {
        if ((size_t)(end - p) < 12)
            goto corrupt;
        uint64_t seq = lsm_get_fixed64(p);
        uint32_t count = lsm_get_fixed32(p + 8);
        p += 12;
        if (seq == 0 || seq > LSM_MAX_SEQ)
            goto corrupt;
        for (uint32_t i = 0; i < count; i++) {
            if (p >= end)
                goto corrupt;
            unsigned type = *p++;
            uint64_t kn, vn;
            size_t r = lsm_get_varint64(p, end, &kn);
            if (r == 0 || kn > (uint64_t)(end - p - r))
                goto corrupt;
            p += r;
            const uint8_t *k = p;
            p += kn;
            r = lsm_get_varint64(p, end, &vn);
            if (r == 0 || vn > (uint64_t)(end - p - r))
                goto corrupt;
            p += r;
            const uint8_t *v = p;
            p += vn;
            if (type != LSM_TYPE_PUT && type != LSM_TYPE_DELETE)
                goto corrupt;
            if (lsm_memtable_add(mem, seq, type, k, (size_t)kn, v,
                                 (size_t)vn) != DC_OK)
                return oom(err, "WAL replay");
        }
        if (seq > *max_seq)
            *max_seq = seq;
    }
    return DC_OK;
corrupt:
    return dc_error_set(err, DC_ECORRUPT, DC_SQLSTATE_CORRUPT,
                        "WAL segment %s holds a malformed batch record "
                        "(%zu bytes)",
                        name, len);
}

/* Make room for a write (the caller is the leader and holds st_mu, which
 * this may release while it waits).  force: switch the memtable even when
 * it is not full (flush()).  Errors: the sticky errors, DC_ECLOSED,
 * DC_ENOMEM, the WAL's rotate errors. */
static int make_room(dc_store *s, bool force, dc_error *err)
{
    bool counted_mem = false, counted_l0 = false;
    for (;;) {
        if (s->write_failed) {
            if (err)
                *err = s->write_err;
            return s->write_err.status ? s->write_err.status : DC_EIO;
        }
        if (s->bg_has_error) {
            if (err)
                *err = s->bg_err;
            return s->bg_err.status ? s->bg_err.status : DC_EIO;
        }
        if (s->shutting_down)
            return dc_error_set(err, DC_ECLOSED, DC_SQLSTATE_INTERNAL,
                                "store \"%s\" is closing", s->dir);
        lsm_version *v = lsm_vset_current(s->vs);
        size_t l0 = v->nfiles[0];
        lsm_version_unref(v);
        if (!force && l0 >= (size_t)s->cfg.l0_stop) {
            if (!counted_l0)
                metric_add(s, s->inst->m.stalls_l0, 1);
            counted_l0 = true;
            s->compact_request = true;
            pthread_cond_signal(&s->st_bg_cv);
            pthread_cond_wait(&s->st_done_cv, &s->st_mu);
            continue;
        }
        if (!force && lsm_memtable_bytes(s->mem) < s->cfg.memtable_max)
            return DC_OK;
        if (force && lsm_memtable_count(s->mem) == 0)
            return DC_OK;
        if (s->imm != NULL) {
            if (!counted_mem)
                metric_add(s, s->inst->m.stalls_memtable, 1);
            counted_mem = true;
            pthread_cond_signal(&s->st_bg_cv);
            pthread_cond_wait(&s->st_done_cv, &s->st_mu);
            continue;
        }
        lsm_memtable *fresh = lsm_memtable_new();
        if (fresh == NULL)
            return oom(err, "memtable");
        uint64_t seg = 0;
        if (s->wal != NULL) {
            int rc = lsm_wal_rotate(s->wal, &seg, err);
            if (rc != DC_OK) {
                lsm_memtable_unref(fresh);
                s->write_failed = true;
                if (err)
                    s->write_err = *err;
                return rc;
            }
        }
        pthread_mutex_lock(&s->rs_mu);
        s->imm = s->mem;
        s->imm_log = seg;
        s->imm_seq = atomic_load_explicit(&s->last_seq, memory_order_relaxed);
        s->mem = fresh;
        pthread_mutex_unlock(&s->rs_mu);
        pthread_cond_signal(&s->st_bg_cv);
        return DC_OK;
    }
}

/* Mark the store unable to take writes (a failure after the memtable was
 * changed, or a WAL failure).  Caller holds st_mu. */
static void poison_writes(dc_store *s, const dc_error *e)
{
    if (!s->write_failed) {
        s->write_failed = true;
        s->write_err = *e;
        s->inst->api->log(s->inst->host, DC_LOG_ERROR,
                          "lsm store \"%s\" refuses writes until reopened: %s",
                          s->dir, e->message);
    }
}

static void sst_write_options(dc_store *s, lsm_sst_write_options *o);


/* True when some file of `level` holds user keys in [lo, hi]. */
static bool level_overlaps(const lsm_version *v, int level, const uint8_t *lo,
                           size_t lon, const uint8_t *hi, size_t hin)
{
    for (size_t i = 0; i < v->nfiles[level]; i++) {
        const lsm_file *f = v->files[level][i];
        if (lsm_user_cmp(f->largest, ukey_len(f->largest_len), lo, lon) >= 0 &&
            lsm_user_cmp(f->smallest, ukey_len(f->smallest_len), hi, hin) <= 0)
            return true;
    }
    return false;
}

/* Would a file of user keys [lo, hi] added at `level` now overlap what the
 * running compaction (if any) reads or writes there?  Caller holds
 * st_work_mu. */
static bool compaction_overlaps(const dc_store *s, int level,
                                const uint8_t *lo, size_t lon,
                                const uint8_t *hi, size_t hin)
{
    if (!s->cmp_running ||
        (level != s->cmp_level && level != s->cmp_out_level))
        return false;
    return lsm_user_cmp(s->cmp_hi, s->cmp_hi_len, lo, lon) >= 0 &&
           lsm_user_cmp(s->cmp_lo, s->cmp_lo_len, hi, hin) <= 0;
}

/* Does the batch hold only puts and point deletes, in strictly ascending
 * key order? */
static bool batch_ascends(const dc_batch_op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ops[i].op != DC_OP_PUT && ops[i].op != DC_OP_DELETE)
            return false;
        if (i > 0 &&
            lsm_user_cmp(ops[i - 1].key ? ops[i - 1].key : (const uint8_t *)"",
                         ops[i - 1].key_len,
                         ops[i].key ? ops[i].key : (const uint8_t *)"",
                         ops[i].key_len) >= 0)
            return false;
    }
    return true;
}

/* Batches of at least this many ascending ops are written as two files
 * built at once (ingest_batch). */
#define LSM_BULK_SPLIT_OPS 262144

/* One table file of a bulk write: the merge of expanded ops ex[0, nex)
 * (sorted) with direct ops d[0, nd) (ascending; the later op wins on a
 * key), all at seq. */
typedef struct bulk_part {
    dc_store *s;
    uint64_t seq;
    const eop *ex;
    size_t nex;
    const dc_batch_op *d;
    size_t nd;
    uint64_t file_number;
    pthread_t th;
    lsm_sst_meta meta;
    uint64_t puts, dels, bytes;
    int rc;
    dc_error err;
} bulk_part;

static void bulk_part_build(bulk_part *b)
{
    dc_store *s = b->s;
    dc_error *err = &b->err;
    lsm_sst_write_options wo;
    sst_write_options(s, &wo);
    wo.pipeline = true; /* the committer waits: overlap the blocks */
    lsm_sst_writer *sw = NULL;
    buf ik = {0};
    int rc = lsm_sst_writer_open(s->sst_dir, b->file_number, &wo, &sw, err);
    size_t i = 0, j = 0;
    while (rc == DC_OK && (i < b->nex || j < b->nd)) {
        eop o, d = {0};
        if (j < b->nd) {
            const dc_batch_op *op = &b->d[j];
            bool put = op->op == DC_OP_PUT;
            d = (eop){op->key ? op->key : (const uint8_t *)"", op->key_len,
                      put && op->value ? op->value : (const uint8_t *)"",
                      put ? op->value_len : 0,
                      put ? LSM_TYPE_PUT : LSM_TYPE_DELETE, j};
        }
        int c = i == b->nex ? 1
                : j == b->nd ? -1
                             : lsm_user_cmp(b->ex[i].k, b->ex[i].kn, d.k, d.kn);
        if (c < 0) {
            o = b->ex[i++];
        } else {
            o = d;
            j++;
            if (c == 0)
                i++; /* the later op wins */
        }
        if (!buf_set_ikey(&ik, o.k, o.kn, lsm_pack_trailer(b->seq, o.type))) {
            rc = oom(err, "bulk write");
            break;
        }
        bool put = o.type == LSM_TYPE_PUT;
        rc = lsm_sst_writer_add(sw, ik.p, ik.len, put ? o.v : NULL,
                                put ? o.vn : 0, err);
        if (put)
            b->puts++;
        else
            b->dels++;
        b->bytes += o.kn + (put ? o.vn : 0);
    }
    memset(&b->meta, 0, sizeof b->meta);
    if (rc == DC_OK)
        rc = lsm_sst_writer_finish(sw, &b->meta, err);
    else if (sw != NULL)
        lsm_sst_writer_abandon(sw);
    free(ik.p);
    b->rc = rc;
}

static void *bulk_part_main(void *arg)
{
    bulk_part_build(arg);
    return NULL;
}

/* Write a large batch (a bulk load: COPY, a table rewrite) as a table file
 * of its own, at seq last_seq + 1, instead of through the WAL and the
 * memtable: its bytes are written and compressed once, not logged, sorted
 * into a skip list, flushed and compacted.  The leader calls this with
 * st_mu held and returns with it held.  First the memtable is switched and
 * flushed (the new file must be newer than everything in memory, which
 * reads consult first), then, under st_work_mu (no flush, compaction or
 * file deletion runs meanwhile), the table is written and fsynced and one
 * manifest edit adds it with the new last seq: the batch becomes durable
 * and visible at once, or not at all.  The file goes to the deepest level
 * above any file its key range overlaps (L0 when an L0 file does), since
 * no older version of its keys can be above that.  *seq gets the seq. */
static int ingest_batch(dc_store *s, lsm_writer *w, dc_error *err)
{
    int rc = make_room(s, true, err);
    while (rc == DC_OK && s->imm != NULL) {
        if (s->bg_has_error) {
            if (err)
                *err = s->bg_err;
            rc = s->bg_err.status ? s->bg_err.status : DC_EIO;
            break;
        }
        if (s->shutting_down) {
            rc = dc_error_set(err, DC_ECLOSED, DC_SQLSTATE_INTERNAL,
                              "store \"%s\" is closing", s->dir);
            break;
        }
        pthread_cond_signal(&s->st_bg_cv);
        pthread_cond_wait(&s->st_done_cv, &s->st_mu);
    }
    if (rc != DC_OK)
        return rc;
    pthread_mutex_unlock(&s->st_mu);
    pthread_mutex_lock(&s->st_work_mu);
    uint64_t seq = atomic_load_explicit(&s->last_seq, memory_order_relaxed) + 1;
    expanded ex = {0};
    lsm_edit e;
    lsm_edit_init(&e);
    uint64_t puts = 0, dels = 0, bytes = 0;
    /* Leading range deletes (a TRUNCATE before a load) are expanded on
     * their own.  When what follows them is puts and point deletes in
     * strictly ascending key order (what a transaction's write set gives),
     * it is merged with those deletes as it is, the later op winning on a
     * key; any other batch is expanded and sorted whole. */
    size_t nr = 0;
    while (nr < w->nops && w->ops[nr].op == DC_OP_DELETE_RANGE)
        nr++;
    bool direct = batch_ascends(w->ops + nr, w->nops - nr);
    const dc_batch_op *dops = w->ops + nr;
    size_t nd = direct ? w->nops - nr : 0;
    rc = expand_batch(s, w->ops, direct ? nr : w->nops, &ex, err);
    if (rc == DC_OK && ex.n + nd > 0) {
        /* A large ascending batch is written as two files, split at the
         * middle op's key, the second built on a thread of its own: the
         * committer's building (and each file's compression thread) then
         * use both cores. */
        bulk_part part[2];
        memset(part, 0, sizeof part);
        int nparts = direct && nd >= LSM_BULK_SPLIT_OPS ? 2 : 1;
        size_t ex_mid = ex.n, d_mid = nd;
        if (nparts == 2) {
            d_mid = nd / 2;
            const dc_batch_op *m = &dops[d_mid];
            const uint8_t *mk = m->key ? m->key : (const uint8_t *)"";
            size_t lo = 0, hi = ex.n; /* first ex op with key >= mk */
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (lsm_user_cmp(ex.ops[mid].k, ex.ops[mid].kn, mk,
                                 m->key_len) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            ex_mid = lo;
        }
        for (int p = 0; p < nparts; p++) {
            bulk_part *b = &part[p];
            b->s = s;
            b->seq = seq;
            b->ex = p == 0 ? ex.ops : ex.ops + ex_mid;
            b->nex = p == 0 ? ex_mid : ex.n - ex_mid;
            b->d = p == 0 ? dops : dops + d_mid;
            b->nd = p == 0 ? d_mid : nd - d_mid;
            b->file_number = lsm_vset_new_file_number(s->vs);
            dc_error_init(&b->err);
        }
        bool threaded = nparts == 2 &&
                        pthread_create(&part[1].th, NULL, bulk_part_main,
                                       &part[1]) == 0;
        bulk_part_build(&part[0]);
        if (nparts == 2) {
            if (threaded)
                pthread_join(part[1].th, NULL);
            else
                bulk_part_build(&part[1]);
        }
        for (int p = 0; p < nparts && rc == DC_OK; p++)
            if (part[p].rc != DC_OK) {
                rc = part[p].rc;
                if (err)
                    *err = part[p].err;
            }
        lsm_version *v = lsm_vset_current(s->vs);
        for (int p = 0; p < nparts; p++) {
            bulk_part *b = &part[p];
            puts += b->puts;
            dels += b->dels;
            bytes += b->bytes;
            if (rc == DC_OK && b->meta.entries > 0) {
                const lsm_sst_meta *meta = &b->meta;
                const uint8_t *lo = meta->smallest, *hi = meta->largest;
                size_t lon = ukey_len(meta->smallest_len),
                       hin = ukey_len(meta->largest_len);
                int level = 0;
                for (int l = 0; l < LSM_LEVELS; l++) {
                    if (level_overlaps(v, l, lo, lon, hi, hin) ||
                        compaction_overlaps(s, l, lo, lon, hi, hin))
                        break;
                    level = l;
                }
                if (lsm_edit_add_file_key(&e, level, meta->file_number,
                                          meta->file_size, meta->entries,
                                          meta->key_id, meta->smallest,
                                          meta->smallest_len, meta->largest,
                                          meta->largest_len) != DC_OK)
                    rc = oom(err, "version edit");
            }
            lsm_sst_meta_clear(&b->meta);
        }
        lsm_version_unref(v);
    }
    expanded_free(&ex);
    if (rc == DC_OK) {
        if (seq > lsm_vset_last_seq(s->vs))
            lsm_vset_set_last_seq(s->vs, seq);
        pthread_mutex_lock(&s->st_mu);
        pthread_mutex_lock(&s->rs_mu);
        rc = lsm_vset_apply(s->vs, &e, err);
        if (rc == DC_OK)
            atomic_store_explicit(&s->last_seq, seq, memory_order_release);
        pthread_mutex_unlock(&s->rs_mu);
        if (rc == DC_OK) {
            metrics_levels(s);
            s->compact_request = true;
            pthread_cond_signal(&s->st_bg_cv);
            w->seq = seq;
        }
        pthread_mutex_unlock(&s->st_mu);
    }
    lsm_edit_free(&e);
    pthread_mutex_unlock(&s->st_work_mu);
    pthread_mutex_lock(&s->st_mu);
    if (rc == DC_OK) {
        metric_add(s, s->inst->m.puts, puts);
        metric_add(s, s->inst->m.deletes, dels);
        metric_add(s, s->inst->m.bytes_written, bytes);
    }
    return rc;
}

/* The queue-based write (see the file comment).  ops may be NULL with
 * force set: flush()'s memtable switch. */
static int write_queued(dc_store *s, const dc_batch_op *ops, size_t nops,
                        bool sync, bool force, size_t est, uint64_t *seq_out,
                        dc_error *err)
{
    lsm_writer w;
    memset(&w, 0, sizeof w);
    w.ops = ops;
    w.nops = nops;
    w.sync = sync;
    w.force_switch = force;
    w.est_bytes = est;
    dc_error_init(&w.err);
    sem_init(&w.sem, 0, 0);

    pthread_mutex_lock(&s->st_mu);
    if (s->wq_tail != NULL)
        s->wq_tail->next = &w;
    else
        s->wq_head = &w;
    s->wq_tail = &w;
    if (s->wq_head != &w) {
        /* Wait without st_mu: a leader posts once, after releasing st_mu,
         * when this batch is written or when this writer leads next. */
        pthread_mutex_unlock(&s->st_mu);
        while (sem_wait(&w.sem) != 0)
            ; /* EINTR */
        if (!w.done)
            pthread_mutex_lock(&s->st_mu);
    }
    if (w.done) {
        sem_destroy(&w.sem);
        if (w.rc != DC_OK) {
            if (err)
                *err = w.err;
            return w.rc;
        }
        if (seq_out)
            *seq_out = w.seq;
        return DC_OK;
    }

    /* The leader. */
    if (!force && (w.est_bytes >= s->cfg.bulk_write_bytes ||
                   w.est_bytes > LSM_BATCH_MAX_BYTES)) {
        w.rc = ingest_batch(s, &w, &w.err);
        lsm_writer *stop = w.next;
        s->wq_head = stop;
        if (stop == NULL)
            s->wq_tail = NULL;
        pthread_mutex_unlock(&s->st_mu);
        if (stop != NULL)
            sem_post(&stop->sem);
        sem_destroy(&w.sem);
        metrics_refresh(s);
        if (w.rc != DC_OK) {
            if (err)
                *err = w.err;
            return w.rc;
        }
        if (seq_out)
            *seq_out = w.seq;
        return DC_OK;
    }
    int rc = make_room(s, force, &w.err);
    lsm_writer *last = &w;
    if (rc == DC_OK && !force) {
        size_t total = w.est_bytes;
        for (lsm_writer *x = w.next; x != NULL; x = x->next) {
            if (x->force_switch || total + x->est_bytes > LSM_GROUP_MAX_BYTES)
                break;
            total += x->est_bytes;
            last = x;
        }
    }
    uint64_t base = atomic_load_explicit(&s->last_seq, memory_order_relaxed);
    uint64_t next = base;
    bool any_sync = false, poisoned = false;
    dc_error perr;
    dc_error_init(&perr);
    buf rec = {0};
    uint64_t puts = 0, dels = 0, bytes = 0;
    if (rc == DC_OK && !force) {
        /* The group is w..last.  last->next may change while st_mu is
         * released (new writers queue up), so never walk past last. */
        pthread_mutex_unlock(&s->st_mu);
        for (lsm_writer *x = &w;; x = x->next) {
            if (poisoned) {
                x->rc = perr.status;
                x->err = perr;
                if (x == last)
                    break;
                continue;
            }
            expanded ex = {0};
            size_t mark = rec.len;
            x->rc = expand_batch(s, x->ops, x->nops, &ex, &x->err);
            if (x->rc == DC_OK && !encode_batch(&rec, next + 1, &ex)) {
                rec.len = mark; /* drop the partial encoding */
                x->rc = oom(&x->err, "WAL record");
            }
            if (x->rc != DC_OK) {
                expanded_free(&ex);
                if (x == last)
                    break;
                continue;
            }
            x->seq = ++next;
            any_sync |= x->sync;
            for (size_t i = 0; i < ex.n; i++) {
                const eop *o = &ex.ops[i];
                int r = lsm_memtable_add(s->mem, x->seq, o->type, o->k, o->kn,
                                         o->v, o->vn);
                if (r != DC_OK) {
                    oom(&perr, "memtable insert");
                    poisoned = true;
                    x->rc = perr.status;
                    x->err = perr;
                    break;
                }
                if (o->type == LSM_TYPE_PUT)
                    puts++;
                else
                    dels++;
                bytes += o->kn + o->vn;
            }
            expanded_free(&ex);
            if (x == last)
                break;
        }
        if (!poisoned && next > base && s->wal != NULL) {
            int r = lsm_wal_append(s->wal, rec.p, rec.len, any_sync, &perr);
            if (r != DC_OK)
                poisoned = true;
        }
        free(rec.p);
        pthread_mutex_lock(&s->st_mu);
        if (poisoned) {
            poison_writes(s, &perr);
            for (lsm_writer *x = &w;; x = x->next) {
                if (x->rc == DC_OK) {
                    x->rc = perr.status ? perr.status : DC_EIO;
                    x->err = perr;
                }
                if (x == last)
                    break;
            }
        } else if (next > base) {
            atomic_store_explicit(&s->last_seq, next, memory_order_release);
        }
    } else if (rc != DC_OK) {
        w.rc = rc;
    }
    if (!poisoned) {
        metric_add(s, s->inst->m.puts, puts);
        metric_add(s, s->inst->m.deletes, dels);
        metric_add(s, s->inst->m.bytes_written, bytes);
    }
    /* Pass leadership on, then hand out the results with st_mu released,
     * so that the woken writers do not queue for it.  A writer's frame
     * is gone once it is posted: read its next first.  last->next may
     * grow once st_mu is released, so the walk stops at last. */
    lsm_writer *stop = last->next;
    s->wq_head = stop;
    if (stop == NULL)
        s->wq_tail = NULL;
    pthread_mutex_unlock(&s->st_mu);
    if (last != &w) {
        for (lsm_writer *x = w.next;;) {
            lsm_writer *nx = x->next;
            bool end = x == last;
            x->done = true;
            sem_post(&x->sem);
            if (end)
                break;
            x = nx;
        }
    }
    if (stop != NULL)
        sem_post(&stop->sem);
    sem_destroy(&w.sem);
    if (any_sync || s->cfg.sync == SYNC_EVERY_COMMIT)
        metrics_refresh(s);
    if (w.rc != DC_OK) {
        if (err)
            *err = w.err;
        return w.rc;
    }
    if (seq_out)
        *seq_out = w.seq;
    return DC_OK;
}

/* write(): see storage.h and the file comment. */
static int lsm_write(dc_store *s, const dc_write_options *wo,
                     const dc_batch_op *ops, size_t nops, uint64_t *seq,
                     dc_error *err)
{
    if (s->read_only)
        return dc_error_set(err, DC_EPERM, LSM_SQLSTATE_READ_ONLY,
                            "lsm store \"%s\" is open read-only", s->dir);
    size_t est = 0;
    int rc = check_batch(ops, nops, &est, err);
    if (rc != DC_OK)
        return rc;
    if (nops == 0) {
        if (seq != NULL)
            *seq = atomic_load_explicit(&s->last_seq, memory_order_acquire);
        return DC_OK;
    }
    uint32_t mode =
        DC_HAS_FIELD(wo, dc_write_options, sync) ? wo->sync : DC_SYNC_DEFAULT;
    bool sync = mode == DC_SYNC_ALWAYS ||
                (mode != DC_SYNC_NONE && s->cfg.sync == SYNC_EVERY_COMMIT);
    return write_queued(s, ops, nops, sync, false, est, seq, err);
}

/* ==== flush, compaction, obsolete files ================================= */

static void sst_write_options(dc_store *s, lsm_sst_write_options *o)
{
    memset(o, 0, sizeof *o);
    o->block_size = s->cfg.block_size;
    o->compression = s->cfg.compression;
    o->zstd_level = s->cfg.zstd_level;
    o->bloom_bits_per_key = s->cfg.bloom_bits;
    o->enc = s->enc_w;
    o->enc_instance = s->enc_w_inst;
}

/* Write every entry of `mem` into a new table and add it to `e` at L0.
 * Nothing is written for an empty memtable.  Caller holds st_work_mu. */
static int write_l0(dc_store *s, lsm_memtable *mem, lsm_edit *e, dc_error *err)
{
    if (lsm_memtable_count(mem) == 0)
        return DC_OK;
    lsm_sst_write_options wo;
    sst_write_options(s, &wo);
    bool wrote = false;
    return lsm_memtable_write_l0(mem, UINT64_MAX, s->sst_dir,
                                 lsm_vset_new_file_number(s->vs), &wo, e,
                                 &wrote, err);
}

typedef struct num_set {
    uint64_t *v;
    size_t n, cap;
    bool failed;
} num_set;

static void num_set_add(void *ud, uint64_t number)
{
    num_set *ns = ud;
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? 2 * ns->cap : 64;
        uint64_t *p = realloc(ns->v, cap * sizeof *p);
        if (p == NULL) {
            ns->failed = true;
            return;
        }
        ns->v = p;
        ns->cap = cap;
    }
    ns->v[ns->n++] = number;
}

static bool num_set_has(const num_set *ns, uint64_t x)
{
    /* lsm_vset_live_files reports numbers ascending. */
    size_t lo = 0, hi = ns->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ns->v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ns->n && ns->v[lo] == x;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Delete the table files no live version lists, and leftover temporary
 * files.  Caller holds st_work_mu (so no table is being written but the
 * running compaction's outputs, which are spared). */
static void delete_obsolete(dc_store *s)
{
    num_set live = {0};
    lsm_vset_live_files(s->vs, num_set_add, &live);
    if (live.failed) {
        free(live.v);
        return;
    }
    if (live.n > 1)
        qsort(live.v, live.n, sizeof *live.v, cmp_u64);
    DIR *d = opendir(s->sst_dir);
    if (d == NULL) {
        free(live.v);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        size_t len = strlen(nm);
        bool tmp = len == 16 + 8 && strcmp(nm + 16, ".sst.tmp") == 0;
        bool sst = len == 16 + 4 && strcmp(nm + 16, ".sst") == 0;
        if (!tmp && !sst)
            continue;
        uint64_t num = 0;
        bool digits = true;
        for (int i = 0; i < 16; i++) {
            if (nm[i] < '0' || nm[i] > '9')
                digits = false;
            else
                num = num * 10 + (uint64_t)(nm[i] - '0');
        }
        if (!digits || (sst && num_set_has(&live, num)))
            continue;
        if (s->cmp_running && num >= s->cmp_floor)
            continue; /* maybe an output of the running compaction */
        char *p = path_join(s->sst_dir, nm);
        if (p == NULL)
            continue;
        if (sst) {
            lsm_tcache_evict(s->tc, num);
            lsm_lru_evict_file(s->bcache, num);
        }
        if (unlink(p) != 0 && errno != ENOENT)
            s->inst->api->log(s->inst->host, DC_LOG_WARN,
                              "lsm: cannot delete obsolete file %s: %s", p,
                              strerror(errno));
        free(p);
    }
    closedir(d);
    free(live.v);
}

/* Record a background failure: writes fail from now on. */
static void set_bg_error(dc_store *s, const dc_error *e)
{
    pthread_mutex_lock(&s->st_mu);
    if (!s->bg_has_error) {
        s->bg_has_error = true;
        s->bg_err = *e;
        s->inst->api->log(s->inst->host, DC_LOG_ERROR,
                          "lsm store \"%s\": background work failed, writes "
                          "are refused until reopened: %s",
                          s->dir, e->message);
    }
    pthread_cond_broadcast(&s->st_done_cv);
    pthread_mutex_unlock(&s->st_mu);
}

/* Flush the immutable memtable to L0.  Caller holds st_work_mu. */
static int flush_imm(dc_store *s, dc_error *err)
{
    pthread_mutex_lock(&s->st_mu);
    lsm_memtable *imm = s->imm;
    uint64_t log = s->imm_log;
    uint64_t imm_seq = s->imm_seq;
    pthread_mutex_unlock(&s->st_mu);
    if (imm == NULL)
        return DC_OK;
    lsm_edit e;
    lsm_edit_init(&e);
    int rc = write_l0(s, imm, &e, err);
    if (rc == DC_OK) {
        if (log > 0) {
            e.has_log_number = true;
            e.log_number = log;
        }
        /* The manifest's last seq must cover every seq in the tables:
         * after the WAL segments holding them are gone it is the only
         * record of it (and with no WAL it always is). */
        if (imm_seq > lsm_vset_last_seq(s->vs))
            lsm_vset_set_last_seq(s->vs, imm_seq);
        pthread_mutex_lock(&s->st_mu);
        pthread_mutex_lock(&s->rs_mu);
        rc = lsm_vset_apply(s->vs, &e, err);
        if (rc == DC_OK)
            s->imm = NULL;
        pthread_mutex_unlock(&s->rs_mu);
        if (rc == DC_OK) {
            /* The metrics first: a flush() waiter reads them on waking. */
            metric_add(s, s->inst->m.flushes, 1);
            metrics_levels(s);
            s->flush_count++;
            s->compact_request = true;
            pthread_cond_broadcast(&s->st_done_cv);
        }
        pthread_mutex_unlock(&s->st_mu);
    }
    lsm_edit_free(&e);
    if (rc != DC_OK)
        return rc;
    lsm_memtable_unref(imm);
    if (log > 1 && s->wal != NULL) {
        dc_error e2;
        dc_error_init(&e2);
        if (lsm_wal_remove_up_to(s->wal, log - 1, &e2) != DC_OK)
            s->inst->api->log(s->inst->host, DC_LOG_WARN,
                              "lsm: cannot remove old WAL segments: %s",
                              e2.message);
    }
    return DC_OK;
}

/* Keep a version of a user key at `seq` when the previous (newer) version
 * of the key has prev_seq: only when some live read point sees it, i.e.
 * a seq b in snaps (ascending) with seq <= b < prev_seq. */
static bool needed_by_snapshot(const uint64_t *snaps, size_t n, uint64_t seq,
                               uint64_t prev_seq)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (snaps[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && snaps[lo] < prev_seq;
}

/* Finish an output table and add it to the edit at `level`. */
static int finish_output(lsm_sst_writer *w, int level, lsm_edit *e,
                         dc_error *err)
{
    lsm_sst_meta meta;
    memset(&meta, 0, sizeof meta);
    int rc = lsm_sst_writer_finish(w, &meta, err);
    if (rc != DC_OK)
        return rc;
    rc = lsm_edit_add_file_key(e, level, meta.file_number, meta.file_size,
                               meta.entries, meta.key_id, meta.smallest,
                               meta.smallest_len, meta.largest,
                               meta.largest_len);
    lsm_sst_meta_clear(&meta);
    return rc == DC_OK ? DC_OK : oom(err, "version edit");
}

/* The user keys a compaction's inputs span: [*lo, *hi]. */
static void compaction_range(const lsm_compaction *c, const uint8_t **lo,
                             size_t *lon, const uint8_t **hi, size_t *hin)
{
    *lo = *hi = NULL;
    *lon = *hin = 0;
    for (int w = 0; w < 2; w++)
        for (size_t i = 0; i < c->ninputs[w]; i++) {
            const lsm_file *f = c->inputs[w][i];
            size_t sn = ukey_len(f->smallest_len), ln = ukey_len(f->largest_len);
            if (*lo == NULL || lsm_user_cmp(f->smallest, sn, *lo, *lon) < 0)
                *lo = f->smallest, *lon = sn;
            if (*hi == NULL || lsm_user_cmp(f->largest, ln, *hi, *hin) > 0)
                *hi = f->largest, *hin = ln;
        }
}

/* Between the entries of a merge (which runs without st_work_mu): flush
 * the immutable memtable if there is one, so that writers waiting for
 * room never wait for a whole compaction. */
static int compaction_yield(dc_store *s, dc_error *err)
{
    pthread_mutex_lock(&s->st_mu);
    bool imm = s->imm != NULL && !s->bg_has_error;
    pthread_mutex_unlock(&s->st_mu);
    if (!imm)
        return DC_OK;
    pthread_mutex_lock(&s->st_work_mu);
    int rc = flush_imm(s, err);
    pthread_mutex_unlock(&s->st_work_mu);
    return rc;
}

/* A test hook, inert unless the environment sets it at open: with
 * DATACAVE_TEST_HOLD_COMPACTION naming a file, a compaction that has
 * merged its first entry waits while that file exists (at most 120 s),
 * flushing as it does between entries, and "<file>.held" exists while it
 * waits; so a test can write, flush and bulk-load in the middle of a
 * compaction (tests/unit/test_storage_metrics.c).  Never set it in
 * production. */
static int hold_compaction(dc_store *s, dc_error *err)
{
    const char *path = s->hold_compaction;
    if (path == NULL || access(path, F_OK) != 0)
        return DC_OK;
    size_t n = strlen(path) + 8;
    char *held = malloc(n);
    if (held == NULL)
        return oom(err, "compaction");
    snprintf(held, n, "%s.held", path);
    int fd = open(held, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd);
    int rc = DC_OK;
    struct timespec ts = {0, 5 * 1000 * 1000};
    for (int i = 0; i < 24000 && rc == DC_OK && !s->shutting_down &&
                    access(path, F_OK) == 0;
         i++) {
        rc = compaction_yield(s, err);
        nanosleep(&ts, NULL);
    }
    unlink(held);
    free(held);
    return rc;
}

/* Run compaction c, picked by the caller, who holds compact_mu and
 * st_work_mu.  The merge runs with st_work_mu released (and taken again
 * to install the result), so that flushes, bulk writes and checkpoints go
 * on meanwhile: the merge flushes the immutable memtable itself between
 * entries when there is one (the background thread, which otherwise
 * would, may be the one merging); a bulk write keeps its file out of the
 * levels the merge reads and writes where their key ranges meet
 * (compaction_overlaps); and file deletion spares the merge's outputs
 * (cmp_floor). */
static int run_compaction(dc_store *s, lsm_compaction *c, dc_error *err)
{
    lsm_edit e;
    lsm_edit_init(&e);
    int rc = DC_OK;
    if (c->trivial_move) {
        lsm_file *f = c->inputs[0][0];
        if (lsm_edit_delete_file(&e, c->level, f->number) != DC_OK ||
            lsm_edit_add_file_key(&e, c->output_level, f->number, f->size,
                                  f->entries, f->key_id, f->smallest,
                                  f->smallest_len, f->largest,
                                  f->largest_len) != DC_OK)
            rc = oom(err, "version edit");
        if (rc == DC_OK)
            rc = lsm_vset_apply(s->vs, &e, err);
        lsm_edit_free(&e);
        if (rc == DC_OK) {
            metric_add(s, s->inst->m.compactions, 1);
            metrics_levels(s);
        }
        return rc;
    }

    uint64_t *snaps = NULL;
    size_t nsnaps = 0;
    pthread_mutex_lock(&s->st_mu);
    int src = snapshot_seqs(s, &snaps, &nsnaps);
    pthread_mutex_unlock(&s->st_mu);
    if (src != DC_OK) {
        lsm_edit_free(&e);
        return oom(err, "compaction");
    }

    merge m;
    memset(&m, 0, sizeof m);
    m.cur = -1;
    size_t nin = c->ninputs[0] + c->ninputs[1];
    m.ch = dcm_calloc(nin ? nin : 1, sizeof *m.ch);
    if (m.ch == NULL) {
        free(snaps);
        lsm_edit_free(&e);
        return oom(err, "compaction");
    }
    for (int w = 0; w < 2 && rc == DC_OK; w++)
        for (size_t i = 0; i < c->ninputs[w] && rc == DC_OK; i++) {
            child *ch = &m.ch[m.n++];
            ch->kind = CHILD_SST;
            ch->s = s;
            ch->skip_cache = true;
            if (!child_open_table(ch, c->inputs[w][i]->number)) {
                rc = ch->status;
                if (err)
                    *err = ch->err;
                m.n--;
            }
        }

    lsm_sst_write_options wo;
    sst_write_options(s, &wo);
    lsm_sst_writer *out = NULL;
    uint64_t out_bytes = 0;
    uint64_t target =
        c->target_file_bytes ? c->target_file_bytes : s->cfg.target_file_bytes;
    buf cur = {0};
    bool has_cur = false;
    uint64_t prev_seq = 0;
    compaction_range(c, &s->cmp_lo, &s->cmp_lo_len, &s->cmp_hi,
                     &s->cmp_hi_len);
    s->cmp_level = c->level;
    s->cmp_out_level = c->output_level;
    s->cmp_floor = lsm_vset_next_file_number(s->vs);
    s->cmp_running = true;
    pthread_mutex_unlock(&s->st_work_mu);
    uint64_t steps = 0;
    if (rc == DC_OK)
        merge_seek_first(&m);
    while (rc == DC_OK && merge_valid(&m)) {
        if ((++steps & 1023) == 0 && (rc = compaction_yield(s, err)) != DC_OK)
            break;
        if (steps == 2 && (rc = hold_compaction(s, err)) != DC_OK)
            break;
        if (s->shutting_down) {
            rc = dc_error_set(err, DC_ECLOSED, DC_SQLSTATE_INTERNAL,
                              "compaction stopped: the store is closing");
            break;
        }
        const uint8_t *k, *v;
        size_t kn, vn;
        merge_key(&m, &k, &kn);
        merge_value(&m, &v, &vn);
        size_t un = ukey_len(kn);
        uint64_t tr = ikey_trailer(k, kn);
        uint64_t seq = tr >> 8;
        unsigned type = (unsigned)(tr & 0xff);
        bool new_key = !has_cur || lsm_user_cmp(k, un, cur.p, cur.len) != 0;
        bool keep;
        if (new_key) {
            if (!buf_set(&cur, k, un)) {
                rc = oom(err, "compaction");
                break;
            }
            has_cur = true;
            keep = true;
        } else {
            keep = needed_by_snapshot(snaps, nsnaps, seq, prev_seq);
        }
        prev_seq = seq;
        if (keep && type == LSM_TYPE_DELETE && seq <= snaps[0] &&
            lsm_compaction_is_bottom_for(c, k, un))
            keep = false;
        if (keep) {
            if (out != NULL && new_key && out_bytes >= target) {
                rc = finish_output(out, c->output_level, &e, err);
                out = NULL;
                if (rc != DC_OK)
                    break;
            }
            if (out == NULL) {
                out_bytes = 0;
                rc = lsm_sst_writer_open(s->sst_dir,
                                         lsm_vset_new_file_number(s->vs), &wo,
                                         &out, err);
                if (rc != DC_OK) {
                    out = NULL;
                    break;
                }
            }
            rc = lsm_sst_writer_add(out, k, kn, v, vn, err);
            if (rc != DC_OK)
                break;
            out_bytes += kn + vn;
        }
        merge_next(&m);
    }
    if (rc == DC_OK && m.status != DC_OK) {
        rc = m.status;
        if (err)
            *err = m.err;
    }
    if (rc == DC_OK && out != NULL) {
        rc = finish_output(out, c->output_level, &e, err);
        out = NULL;
    }
    if (out != NULL)
        lsm_sst_writer_abandon(out);
    merge_close(&m);
    free(cur.p);
    free(snaps);
    pthread_mutex_lock(&s->st_work_mu);
    s->cmp_running = false;
    if (rc == DC_OK && lsm_compaction_add_deletions(c, &e) != DC_OK)
        rc = oom(err, "version edit");
    if (rc == DC_OK)
        rc = lsm_vset_apply(s->vs, &e, err);
    lsm_edit_free(&e);
    if (rc == DC_OK) {
        metric_add(s, s->inst->m.compactions, 1);
        metrics_levels(s);
    }
    /* The callers delete obsolete files once the compaction is freed: its
     * pinned input version still lists the input files until then.  (The
     * outputs of a failed compaction are in no version and go then too.) */
    return rc;
}

/* Live table files not sealed under the current key id (policy.key_id),
 * and all of them. */
static size_t count_other_keys(dc_store *s, size_t *total)
{
    lsm_version *v = lsm_vset_current(s->vs);
    size_t n = 0, all = 0;
    for (int l = 0; l < LSM_LEVELS; l++)
        for (size_t i = 0; i < v->nfiles[l]; i++) {
            all++;
            n += v->files[l][i]->key_id != s->policy.key_id;
        }
    lsm_version_unref(v);
    if (total)
        *total = all;
    return n;
}

/* Key rotation: once compaction has rewritten every file that was under
 * another key, say so (the operator may then drop the retired keys).
 * Caller holds st_work_mu. */
static void rekey_check_done(dc_store *s)
{
    if (!s->rekey_pending || count_other_keys(s, NULL) != 0)
        return;
    s->rekey_pending = false;
    s->inst->api->log(s->inst->host, DC_LOG_INFO,
                      "lsm store \"%s\": key rotation done: every table "
                      "file is sealed under the current key id %08x",
                      s->dir, s->policy.key_id);
}

/* Pick and run one compaction.  *did: one ran.  Caller holds st_work_mu. */
static int compact_once(dc_store *s, bool *did, dc_error *err)
{
    *did = false;
    lsm_compaction *c = lsm_vset_pick_compaction(s->vs, &s->policy);
    if (c == NULL) {
        rekey_check_done(s);
        return DC_OK;
    }
    int rc = run_compaction(s, c, err);
    lsm_compaction_free(c);
    delete_obsolete(s);
    if (rc == DC_OK)
        *did = true;
    pthread_mutex_lock(&s->st_mu);
    pthread_cond_broadcast(&s->st_done_cv);
    pthread_mutex_unlock(&s->st_mu);
    return rc;
}

/* The background thread: see the file comment. */
static void *bg_main(void *arg)
{
    dc_store *s = arg;
    int64_t now = now_ns(s);
    int64_t next_sync = now + s->cfg.sync_interval_ms * 1000000;
    int64_t next_check =
        s->cfg.compaction_interval_secs > 0
            ? now + s->cfg.compaction_interval_secs * INT64_C(1000000000)
            : INT64_MAX;
    int64_t next_metrics = now + INT64_C(1000000000);
    pthread_mutex_lock(&s->st_mu);
    while (!s->shutting_down) {
        dc_error err;
        dc_error_init(&err);
        if (s->imm != NULL && !s->bg_has_error) {
            pthread_mutex_unlock(&s->st_mu);
            pthread_mutex_lock(&s->st_work_mu);
            int rc = flush_imm(s, &err);
            pthread_mutex_unlock(&s->st_work_mu);
            if (rc != DC_OK)
                set_bg_error(s, &err);
            pthread_mutex_lock(&s->st_mu);
            continue;
        }
        if (s->compact_request && !s->bg_has_error) {
            s->compact_request = false;
            pthread_mutex_unlock(&s->st_mu);
            bool did = false;
            int rc = DC_OK;
            /* A manual compaction running asks again when it ends. */
            if (pthread_mutex_trylock(&s->compact_mu) == 0) {
                pthread_mutex_lock(&s->st_work_mu);
                rc = compact_once(s, &did, &err);
                pthread_mutex_unlock(&s->st_work_mu);
                pthread_mutex_unlock(&s->compact_mu);
            }
            if (rc != DC_OK && rc != DC_ECLOSED)
                set_bg_error(s, &err);
            pthread_mutex_lock(&s->st_mu);
            if (did)
                s->compact_request = true; /* look again */
            continue;
        }
        if (s->obsolete_check) {
            s->obsolete_check = false;
            pthread_mutex_unlock(&s->st_mu);
            pthread_mutex_lock(&s->st_work_mu);
            delete_obsolete(s);
            pthread_mutex_unlock(&s->st_work_mu);
            pthread_mutex_lock(&s->st_mu);
            continue;
        }
        now = now_ns(s);
        if (s->cfg.sync == SYNC_INTERVAL && s->wal != NULL &&
            now >= next_sync) {
            pthread_mutex_unlock(&s->st_mu);
            if (lsm_wal_sync(s->wal, &err) != DC_OK)
                s->inst->api->log(s->inst->host, DC_LOG_WARN,
                                  "lsm: interval WAL sync failed: %s",
                                  err.message);
            pthread_mutex_lock(&s->st_mu);
            next_sync = now + s->cfg.sync_interval_ms * 1000000;
            continue;
        }
        if (now >= next_check) {
            s->compact_request = true;
            next_check =
                now + s->cfg.compaction_interval_secs * INT64_C(1000000000);
            continue;
        }
        if (now >= next_metrics) {
            pthread_mutex_unlock(&s->st_mu);
            metrics_refresh(s);
            pthread_mutex_lock(&s->st_mu);
            next_metrics = now + INT64_C(1000000000);
            continue;
        }
        int64_t wake = next_metrics;
        if (next_check < wake)
            wake = next_check;
        if (s->cfg.sync == SYNC_INTERVAL && next_sync < wake)
            wake = next_sync;
        int64_t delta = wake - now;
        if (delta < 1000000)
            delta = 1000000;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t)(delta / 1000000000);
        ts.tv_nsec += (long)(delta % 1000000000);
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&s->st_bg_cv, &s->st_mu, &ts);
    }
    pthread_mutex_unlock(&s->st_mu);
    return NULL;
}

/* flush(): switch the memtable (through the writer queue) and wait until
 * the background thread has written it to L0. */
static int lsm_flush(dc_store *s, dc_error *err)
{
    if (s->read_only)
        return DC_OK;
    int rc = write_queued(s, NULL, 0, false, true, 0, NULL, err);
    if (rc != DC_OK)
        return rc;
    pthread_mutex_lock(&s->st_mu);
    while (s->imm != NULL && !s->bg_has_error && !s->shutting_down) {
        pthread_cond_signal(&s->st_bg_cv);
        pthread_cond_wait(&s->st_done_cv, &s->st_mu);
    }
    if (s->bg_has_error) {
        if (err)
            *err = s->bg_err;
        rc = s->bg_err.status ? s->bg_err.status : DC_EIO;
    }
    pthread_mutex_unlock(&s->st_mu);
    return rc;
}

/* compact(): flush, then compact every level overlapping [begin, end]
 * into the next, down to the deepest level that holds files, then rewrite
 * the range's files of that level in place. */
static int lsm_compact(dc_store *s, const uint8_t *begin, size_t begin_len,
                       const uint8_t *end, size_t end_len, dc_error *err)
{
    if (s->read_only)
        return DC_OK;
    int rc = lsm_flush(s, err);
    if (rc != DC_OK)
        return rc;
    pthread_mutex_lock(&s->compact_mu);
    pthread_mutex_lock(&s->st_work_mu);
    lsm_version *v = lsm_vset_current(s->vs);
    int deepest = 0;
    for (int l = 0; l < LSM_LEVELS; l++)
        if (v->nfiles[l] > 0)
            deepest = l;
    lsm_version_unref(v);
    int stop = deepest > 0 ? deepest : 1;
    for (int l = 0; l < stop && rc == DC_OK; l++) {
        for (int round = 0; round < 64 && rc == DC_OK; round++) {
            lsm_compaction *c = lsm_vset_compact_range(
                s->vs, &s->policy, l, begin, begin_len, end, end_len);
            if (c == NULL)
                break;
            rc = run_compaction(s, c, err);
            lsm_compaction_free(c);
            delete_obsolete(s);
        }
    }
    /* Then the range's files in the deepest level, rewritten in place: the
     * merges above leave there the tombstones and the versions no
     * snapshot needs that they brought down. */
    if (rc == DC_OK) {
        v = lsm_vset_current(s->vs);
        deepest = 0;
        for (int l = 0; l < LSM_LEVELS; l++)
            if (v->nfiles[l] > 0)
                deepest = l;
        lsm_version_unref(v);
        lsm_compaction *c = lsm_vset_rewrite_range(
            s->vs, &s->policy, deepest, begin, begin_len, end, end_len);
        if (c != NULL) {
            rc = run_compaction(s, c, err);
            lsm_compaction_free(c);
            delete_obsolete(s);
        }
    }
    /* Then every file still under another key (a retired one, or in the
     * clear): each rewrite leaves fewer. */
    while (rc == DC_OK && s->policy.rewrite_keys) {
        lsm_compaction *c = lsm_vset_pick_rewrite(s->vs, &s->policy);
        if (c == NULL)
            break;
        rc = run_compaction(s, c, err);
        lsm_compaction_free(c);
        delete_obsolete(s);
    }
    if (rc == DC_OK)
        rekey_check_done(s);
    pthread_mutex_unlock(&s->st_work_mu);
    pthread_mutex_unlock(&s->compact_mu);
    pthread_mutex_lock(&s->st_mu);
    s->compact_request = true; /* the background thread may have skipped */
    pthread_cond_signal(&s->st_bg_cv);
    pthread_cond_broadcast(&s->st_done_cv);
    pthread_mutex_unlock(&s->st_mu);
    if (rc == DC_ECLOSED)
        rc = DC_OK;
    return rc;
}

/* stats(): see storage.h. */
static int lsm_stats(dc_store *s, dc_store_stats *out)
{
    pthread_mutex_lock(&s->st_mu);
    uint64_t mem =
        lsm_memtable_bytes(s->mem) + (s->imm ? lsm_memtable_bytes(s->imm) : 0);
    uint64_t last = atomic_load_explicit(&s->last_seq, memory_order_acquire);
    lsm_version *v = lsm_vset_current(s->vs);
    pthread_mutex_unlock(&s->st_mu);
    uint64_t live = 0;
    for (int l = 0; l < LSM_LEVELS; l++)
        live += v->level_bytes[l];
    if (DC_HAS_FIELD(out, dc_store_stats, last_seq))
        out->last_seq = last;
    if (DC_HAS_FIELD(out, dc_store_stats, live_bytes))
        out->live_bytes = live;
    if (DC_HAS_FIELD(out, dc_store_stats, memtable_bytes))
        out->memtable_bytes = mem;
    if (DC_HAS_FIELD(out, dc_store_stats, levels))
        out->levels = LSM_LEVELS;
    for (int l = 0; l < LSM_LEVELS; l++) {
        if (DC_HAS_FIELD(out, dc_store_stats, files_per_level))
            out->files_per_level[l] = v->nfiles[l];
        if (DC_HAS_FIELD(out, dc_store_stats, bytes_per_level))
            out->bytes_per_level[l] = v->level_bytes[l];
    }
    lsm_version_unref(v);
    metrics_refresh(s);
    return DC_OK;
}

/* ==== opening and closing =============================================== */

typedef struct replay_ctx {
    lsm_memtable *mem;
    uint64_t max_seq;
} replay_ctx;

static int replay_cb(void *ud, uint64_t segment, const uint8_t *rec, size_t len,
                     dc_error *err)
{
    replay_ctx *r = ud;
    return replay_record(r->mem, segment, rec, len, &r->max_seq, err);
}

/* Free a store's resources (any subset made so far).  Background thread
 * already joined. */
static void store_free(dc_store *s)
{
    if (s->wal != NULL)
        lsm_wal_close(s->wal);
    if (s->mem != NULL)
        lsm_memtable_unref(s->mem);
    if (s->imm != NULL)
        lsm_memtable_unref(s->imm);
    dc_snapshot *p = s->oldest_snap;
    while (p != NULL) {
        dc_snapshot *n = p->newer;
        free(p);
        p = n;
    }
    if (s->tc != NULL)
        lsm_tcache_free(s->tc);
    if (s->bcache != NULL)
        lsm_lru_free(s->bcache);
    if (s->vs != NULL)
        lsm_vset_close(s->vs);
    if (s->lock_fd >= 0) {
        flock(s->lock_fd, LOCK_UN);
        close(s->lock_fd);
    }
    pthread_mutex_destroy(&s->st_mu);
    pthread_mutex_destroy(&s->rs_mu);
    pthread_mutex_destroy(&s->snap_mu);
    pthread_mutex_destroy(&s->st_work_mu);
    pthread_mutex_destroy(&s->compact_mu);
    free(s->hold_compaction);
    pthread_mutex_destroy(&s->st_stat_mu);
    pthread_cond_destroy(&s->st_bg_cv);
    pthread_cond_destroy(&s->st_done_cv);
    free(s->dir);
    free(s->name);
    free(s->sst_dir);
    free(s->wal_dir);
    free(s->key_series);
    free(s);
}

/* Recover the memtable from the WAL, write it to L0, start a new WAL
 * segment.  Part of open. */
static int recover(dc_store *s, dc_error *err)
{
    lsm_wal_options wo;
    memset(&wo, 0, sizeof wo);
    wo.dir = s->wal_dir;
    wo.sync_mode =
        s->cfg.sync == SYNC_INTERVAL ? LSM_WAL_SYNC_INTERVAL : LSM_WAL_SYNC_OFF;
    wo.enc = s->enc_r;
    wo.enc_instance = s->enc_r_inst;
    wo.read_only = s->read_only;
    uint64_t log_number = lsm_vset_log_number(s->vs);
    replay_ctx r = {.mem = s->mem, .max_seq = 0};
    uint64_t last_segment = 0;
    struct stat st;
    if (stat(s->wal_dir, &st) == 0) {
        int rc =
            lsm_wal_recover(&wo, log_number, replay_cb, &r, &last_segment, err);
        if (rc != DC_OK)
            return rc;
    }
    uint64_t last = lsm_vset_last_seq(s->vs);
    if (r.max_seq > last)
        last = r.max_seq;
    atomic_store(&s->last_seq, last);
    if (s->read_only)
        return DC_OK; /* the replayed memtable serves reads */

    uint64_t newseg = last_segment + 1;
    if (newseg < log_number)
        newseg = log_number;
    if (newseg < 1)
        newseg = 1;
    lsm_edit e;
    lsm_edit_init(&e);
    int rc = write_l0(s, s->mem, &e, err);
    if (rc == DC_OK) {
        e.has_log_number = true;
        e.log_number = newseg;
        lsm_vset_set_last_seq(s->vs, last);
        rc = lsm_vset_apply(s->vs, &e, err);
    }
    lsm_edit_free(&e);
    if (rc != DC_OK)
        return rc;
    if (lsm_memtable_count(s->mem) > 0) {
        lsm_memtable *fresh = lsm_memtable_new();
        if (fresh == NULL)
            return oom(err, "memtable");
        lsm_memtable_unref(s->mem);
        s->mem = fresh;
    }
    if (s->cfg.wal_enabled) {
        wo.enc = s->enc_w;
        wo.enc_instance = s->enc_w_inst;
        wo.fsync_hook = on_wal_fsync;
        wo.fsync_hook_ud = s;
        rc = lsm_wal_open(&wo, newseg, &s->wal, err);
        if (rc != DC_OK)
            return rc;
        if (newseg > 1) {
            rc = lsm_wal_remove_up_to(s->wal, newseg - 1, err);
            if (rc != DC_OK)
                return rc;
        }
    } else {
        for (uint64_t g = log_number; g < newseg && last_segment > 0; g++) {
            char name[64];
            lsm_wal_file_name(g, name, sizeof name);
            char *p = path_join(s->wal_dir, name);
            if (p != NULL)
                unlink(p);
            free(p);
        }
    }
    return DC_OK;
}

static int io_error(dc_error *err, const char *what, const char *path)
{
    return dc_error_set(err, DC_EIO, DC_SQLSTATE_IO, "%s \"%s\": %s", what,
                        path, strerror(errno));
}

/* Every table file of the current version must be readable with the
 * configured keys (the manifest records each file's key id): refuse at
 * open, naming a file, rather than fail the first query that reaches it.
 * Then say how many files key rotation still has to rewrite. */
static int check_table_keys(dc_store *s, dc_error *err)
{
    const dc_encryption_vtable *ev = s->enc_r;
    bool can_check = ev != NULL &&
                     DC_HAS_FIELD(ev, dc_encryption_vtable, check_key) &&
                     ev->check_key != NULL;
    lsm_version *v = lsm_vset_current(s->vs);
    int rc = DC_OK;
    for (int l = 0; l < LSM_LEVELS && rc == DC_OK; l++)
        for (size_t i = 0; i < v->nfiles[l] && rc == DC_OK; i++) {
            lsm_file *f = v->files[l][i];
            if (f->key_id != 0 && ev == NULL) {
                rc = dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                                  "sstable \"%s/%016llu.sst\" is encrypted "
                                  "(key id %08x) but no encryption module is "
                                  "configured",
                                  s->sst_dir, (unsigned long long)f->number,
                                  f->key_id);
                break;
            }
            if (!can_check)
                continue;
            dc_error kerr;
            dc_error_init(&kerr);
            int krc = ev->check_key(s->enc_r_inst, f->key_id, &kerr);
            if (krc == DC_OK)
                continue;
            size_t same = 0;
            for (int l2 = 0; l2 < LSM_LEVELS; l2++)
                for (size_t j = 0; j < v->nfiles[l2]; j++)
                    same += v->files[l2][j]->key_id == f->key_id;
            rc = dc_error_set(err, krc, kerr.sqlstate,
                              "sstable \"%s/%016llu.sst\" (one of %zu table "
                              "files under key id %08x): %s",
                              s->sst_dir, (unsigned long long)f->number, same,
                              f->key_id, kerr.message);
            if (kerr.hint[0] != '\0')
                dc_error_hint(err, "%s", kerr.hint);
        }
    lsm_version_unref(v);
    if (rc != DC_OK || !s->policy.rewrite_keys)
        return rc;
    size_t total = 0, other = count_other_keys(s, &total);
    if (other > 0) {
        s->rekey_pending = !s->read_only;
        s->inst->api->log(s->inst->host, DC_LOG_INFO,
                          "lsm store \"%s\": %zu of %zu table files are "
                          "sealed under other key ids than the current one "
                          "(%08x)%s",
                          s->dir, other, total, s->policy.key_id,
                          s->read_only ? ""
                                       : "; background compaction rewrites "
                                         "them");
    } else if (s->policy.key_id != 0 && total > 0) {
        s->inst->api->log(s->inst->host, DC_LOG_INFO,
                          "lsm store \"%s\": every table file (%zu) is "
                          "sealed under the current key id %08x",
                          s->dir, total, s->policy.key_id);
    }
    return DC_OK;
}

/* A test hook, inert unless the environment sets it: with
 * DATACAVE_TEST_HOLD_RECOVERY naming a file, recovery waits while that
 * file exists (at most 120 s), so that a test can watch the server while
 * its storage recovers (tests/scripts/test_metrics.sh: /ready answers
 * 503).  Never set it in production. */
static void hold_recovery_for_tests(dc_store *s)
{
    const char *path = getenv("DATACAVE_TEST_HOLD_RECOVERY");
    if (path == NULL || path[0] == '\0' || access(path, F_OK) != 0)
        return;
    s->inst->api->log(s->inst->host, DC_LOG_WARN,
                      "recovery held while %s exists "
                      "(DATACAVE_TEST_HOLD_RECOVERY, a test hook)", path);
    struct timespec ts = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 12000 && access(path, F_OK) == 0; i++)
        nanosleep(&ts, NULL);
}

/* open(): see storage.h and the file comment. */
static int lsm_open(void *instance, const dc_store_options *opts,
                    dc_store **out, dc_error *err)
{
    lsm_instance *inst = instance;
    const char *path = NULL;
    bool create = true, read_only = false;
    if (DC_HAS_FIELD(opts, dc_store_options, path))
        path = opts->path;
    if (DC_HAS_FIELD(opts, dc_store_options, create_if_missing))
        create = opts->create_if_missing;
    if (DC_HAS_FIELD(opts, dc_store_options, read_only))
        read_only = opts->read_only;
    if (path == NULL)
        path = inst->cfg.data_dir;
    if (path == NULL || path[0] == '\0')
        return dc_error_set(err, DC_EINVAL, LSM_SQLSTATE_BAD_ARG,
                            "lsm: no store path and no [storage] data_dir");

    struct stat st;
    if (stat(path, &st) != 0) {
        if (!create || read_only)
            return dc_error_set(err, DC_ENOTFOUND, LSM_SQLSTATE_NO_FILE,
                                "store \"%s\" does not exist", path);
        if (mkdir_p(path) != 0)
            return io_error(err, "cannot create store directory", path);
    } else if (!S_ISDIR(st.st_mode)) {
        return dc_error_set(err, DC_EINVAL, LSM_SQLSTATE_BAD_ARG,
                            "store \"%s\" is not a directory", path);
    }

    dc_store *s = dcm_calloc(1, sizeof *s);
    if (s == NULL)
        return oom(err, "store");
    s->inst = inst;
    s->lock_fd = -1;
    s->read_only = read_only;
    s->cfg = inst->cfg;
    s->policy.l0_trigger = s->cfg.l0_trigger;
    s->policy.l1_max_bytes = s->cfg.l1_max_bytes;
    s->policy.target_file_bytes = s->cfg.target_file_bytes;
    pthread_mutex_init(&s->st_mu, NULL);
    pthread_mutex_init(&s->rs_mu, NULL);
    pthread_mutex_init(&s->snap_mu, NULL);
    pthread_mutex_init(&s->st_work_mu, NULL);
    pthread_mutex_init(&s->compact_mu, NULL);
    pthread_mutex_init(&s->st_stat_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&s->st_bg_cv, &ca);
    pthread_cond_init(&s->st_done_cv, &ca);
    pthread_condattr_destroy(&ca);
    s->dir = strdup(path);
    s->name = realpath(path, NULL);
    s->sst_dir = path_join(path, "sst");
    s->wal_dir = path_join(path, "wal");
    if (!s->dir || !s->name || !s->sst_dir || !s->wal_dir) {
        store_free(s);
        return oom(err, "store");
    }

    /* One store per directory per process, then per machine (flock). */
    pthread_mutex_lock(&inst->lock);
    for (dc_store *o = inst->stores; o != NULL; o = o->next_open)
        if (strcmp(o->name, s->name) == 0) {
            pthread_mutex_unlock(&inst->lock);
            dc_error_set(err, DC_EBUSY, LSM_SQLSTATE_IN_USE,
                         "store \"%s\" is already open in this process",
                         s->dir);
            store_free(s);
            return DC_EBUSY;
        }
    s->next_open = inst->stores;
    inst->stores = s;
    pthread_mutex_unlock(&inst->lock);

    int rc = DC_OK;
    char *lock_path = path_join(path, "LOCK");
    if (lock_path == NULL) {
        rc = oom(err, "store");
        goto fail;
    }
    s->lock_fd =
        open(lock_path, read_only ? O_RDONLY : (O_RDWR | O_CREAT), 0644);
    if (s->lock_fd < 0 && !(read_only && errno == ENOENT)) {
        rc = io_error(err, "cannot open lock file", lock_path);
        free(lock_path);
        goto fail;
    }
    if (s->lock_fd >= 0 &&
        flock(s->lock_fd, (read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            rc = dc_error_set(err, DC_EBUSY, LSM_SQLSTATE_IN_USE,
                              "store \"%s\" is in use by another process",
                              s->dir);
        else
            rc = io_error(err, "cannot lock", lock_path);
        free(lock_path);
        goto fail;
    }
    free(lock_path);
    if (!read_only && ((mkdir(s->sst_dir, 0755) != 0 && errno != EEXIST) ||
                       (s->cfg.wal_enabled && mkdir(s->wal_dir, 0755) != 0 &&
                        errno != EEXIST))) {
        rc = io_error(err, "cannot create directory in store", s->dir);
        goto fail;
    }

    /* Encryption: read whatever is there; write sealed only under a key. */
    s->enc_r = inst->enc;
    s->enc_r_inst = inst->enc_inst;
    if (inst->enc != NULL && inst->enc->current_key_id(inst->enc_inst) != 0) {
        s->enc_w = inst->enc;
        s->enc_w_inst = inst->enc_inst;
    }
    /* Key rotation: compaction rewrites every table file under another key
     * id (a retired key, or none) under the one new files get. */
    s->policy.rewrite_keys = inst->enc != NULL;
    s->policy.key_id =
        s->enc_w != NULL ? s->enc_w->current_key_id(s->enc_w_inst) : 0;

    lsm_vset_options vo;
    memset(&vo, 0, sizeof vo);
    vo.dir = s->dir;
    vo.create_if_missing = create && !read_only;
    vo.read_only = read_only;
    vo.enc = s->enc_w != NULL ? s->enc_w : s->enc_r;
    vo.enc_instance = s->enc_w != NULL ? s->enc_w_inst : s->enc_r_inst;
    rc = lsm_vset_open(&vo, &s->vs, err);
    if (rc != DC_OK)
        goto fail;
    rc = check_table_keys(s, err);
    if (rc != DC_OK)
        goto fail;
    s->bcache = lsm_lru_new(s->cfg.block_cache_bytes);
    if (s->bcache == NULL) {
        rc = oom(err, "block cache");
        goto fail;
    }
    lsm_sst_read_options ro;
    memset(&ro, 0, sizeof ro);
    ro.enc = s->enc_r;
    ro.enc_instance = s->enc_r_inst;
    ro.cache = lsm_lru_interface(s->bcache);
    s->tc = lsm_tcache_new(s->sst_dir, &ro, s->cfg.max_open_files);
    s->mem = lsm_memtable_new();
    if (s->tc == NULL || s->mem == NULL) {
        rc = oom(err, "store");
        goto fail;
    }
    hold_recovery_for_tests(s);
    const char *hc = getenv("DATACAVE_TEST_HOLD_COMPACTION");
    if (hc != NULL && hc[0] != '\0' &&
        (s->hold_compaction = strdup(hc)) == NULL) {
        rc = oom(err, "store");
        goto fail;
    }
    rc = recover(s, err);
    if (rc != DC_OK)
        goto fail;
    if (!read_only) {
        pthread_mutex_lock(&s->st_work_mu);
        delete_obsolete(s);
        pthread_mutex_unlock(&s->st_work_mu);
        s->compact_request = true;
        rc = inst->api->thread_spawn(inst->host, "lsm-bg", bg_main, s, &s->bg,
                                     err);
        if (rc != DC_OK)
            goto fail;
    }
    metrics_levels(s);
    *out = s;
    return DC_OK;

fail:
    pthread_mutex_lock(&inst->lock);
    for (dc_store **pp = &inst->stores; *pp != NULL; pp = &(*pp)->next_open)
        if (*pp == s) {
            *pp = s->next_open;
            break;
        }
    pthread_mutex_unlock(&inst->lock);
    store_free(s);
    return rc;
}

/* close(): stop the background thread, write the memtables out when there
 * is no WAL to recover them from, release everything. */
static void lsm_close(dc_store *s)
{
    if (s == NULL)
        return;
    lsm_instance *inst = s->inst;
    pthread_mutex_lock(&s->st_mu);
    s->shutting_down = true;
    pthread_cond_broadcast(&s->st_bg_cv);
    pthread_cond_broadcast(&s->st_done_cv);
    pthread_mutex_unlock(&s->st_mu);
    if (s->bg != NULL)
        inst->api->thread_join(inst->host, s->bg, NULL);
    s->bg = NULL;
    if (!s->read_only && s->wal == NULL && !s->bg_has_error &&
        !s->write_failed) {
        /* No WAL: the memtables would be lost; write them to L0. */
        dc_error err;
        dc_error_init(&err);
        lsm_memtable *mts[2] = {s->imm, s->mem};
        lsm_edit e;
        lsm_edit_init(&e);
        int rc = DC_OK;
        for (int i = 0; i < 2 && rc == DC_OK; i++)
            if (mts[i] != NULL)
                rc = write_l0(s, mts[i], &e, &err);
        uint64_t last = atomic_load(&s->last_seq);
        /* Also with no file: batches that changed nothing took seqs. */
        if (rc == DC_OK && (e.nadded > 0 || last > lsm_vset_last_seq(s->vs))) {
            lsm_vset_set_last_seq(s->vs, last);
            rc = lsm_vset_apply(s->vs, &e, &err);
        }
        lsm_edit_free(&e);
        if (rc != DC_OK)
            inst->api->log(inst->host, DC_LOG_ERROR,
                           "lsm store \"%s\": writing the memtable at close "
                           "failed, recent writes are lost: %s",
                           s->dir, err.message);
    }
    if (s->oldest_snap != NULL)
        inst->api->log(inst->host, DC_LOG_WARN,
                       "lsm store \"%s\" closed with snapshots still open",
                       s->dir);
    pthread_mutex_lock(&inst->lock);
    for (dc_store **pp = &inst->stores; *pp != NULL; pp = &(*pp)->next_open)
        if (*pp == s) {
            *pp = s->next_open;
            break;
        }
    pthread_mutex_unlock(&inst->lock);
    store_free(s);
}

/* ==== checkpoint ======================================================== */

/* Write a checkpoint of the open store s to dest (checkpoint.h).  The cut:
 * under st_mu, the published seq S and the triple (version, immutable
 * memtable, memtable) are one consistent state - a flush installs its table
 * and drops the immutable memtable in one st_mu section, an ingested batch
 * is installed and published in one, and every entry of a memtable with
 * seq <= S is in it already (the leader inserts before it publishes).
 * Entries the leader adds after S are filtered out by seq. */
static int store_checkpoint(dc_store *s, const char *dest,
                            lsm_ckpt_result *res, uint64_t *seq_out,
                            dc_error *err)
{
    pthread_mutex_lock(&s->st_mu);
    uint64_t seq = atomic_load_explicit(&s->last_seq, memory_order_acquire);
    lsm_memtable *imm = s->imm, *mem = s->mem;
    if (imm != NULL)
        lsm_memtable_ref(imm);
    if (mem != NULL)
        lsm_memtable_ref(mem);
    lsm_version *v = lsm_vset_current(s->vs);
    pthread_mutex_unlock(&s->st_mu);

    lsm_sst_write_options wo;
    sst_write_options(s, &wo);
    lsm_ckpt_source src;
    memset(&src, 0, sizeof src);
    src.sst_dir = s->sst_dir;
    src.version = v;
    src.mem[0] = imm;
    src.mem[1] = mem;
    src.seq = seq;
    src.sst_opts = &wo;
    src.enc = s->enc_w != NULL ? s->enc_w : s->enc_r;
    src.enc_instance = s->enc_w != NULL ? s->enc_w_inst : s->enc_r_inst;
    int rc = lsm_checkpoint_write(&src, dest, res, err);

    lsm_version_unref(v);
    if (imm != NULL)
        lsm_memtable_unref(imm);
    if (mem != NULL)
        lsm_memtable_unref(mem);
    /* The pinned version may have kept obsolete tables alive. */
    pthread_mutex_lock(&s->st_mu);
    s->obsolete_check = true;
    pthread_cond_signal(&s->st_bg_cv);
    pthread_mutex_unlock(&s->st_mu);
    if (rc == DC_OK)
        *seq_out = seq;
    return rc;
}

/* checkpoint(): see storage.h.  The store is looked up among those open in
 * this instance (by real path); inst->lock is held while the copy is
 * written, so a concurrent close() of it waits.  A store not open here is
 * opened for the call (exclusively, as a server would: another process
 * holding it is DC_EBUSY) and closed again. */
static int lsm_checkpoint(void *instance, const char *path, const char *dest,
                          dc_checkpoint_info *info, dc_error *err)
{
    lsm_instance *inst = instance;
    if (path == NULL)
        path = inst->cfg.data_dir;
    if (path == NULL || path[0] == '\0' || dest == NULL || dest[0] == '\0')
        return dc_error_set(err, DC_EINVAL, LSM_SQLSTATE_BAD_ARG,
                            "lsm checkpoint: no store path or no destination");
    lsm_ckpt_result res;
    memset(&res, 0, sizeof res);
    uint64_t seq = 0;
    int rc;
    bool was_open = false;
    char *real = realpath(path, NULL);
    pthread_mutex_lock(&inst->lock);
    dc_store *s = NULL;
    for (dc_store *o = inst->stores; real != NULL && o != NULL;
         o = o->next_open)
        if (strcmp(o->name, real) == 0)
            s = o;
    if (s != NULL) {
        was_open = true;
        rc = store_checkpoint(s, dest, &res, &seq, err);
        pthread_mutex_unlock(&inst->lock);
    } else {
        pthread_mutex_unlock(&inst->lock);
        /* Never leave a lock file or directories where there is no store. */
        char *mdir = path_join(path, "manifest");
        struct stat st;
        bool exists = mdir != NULL && stat(mdir, &st) == 0;
        free(mdir);
        free(real);
        if (!exists)
            return dc_error_set(err, DC_ENOTFOUND, LSM_SQLSTATE_NO_FILE,
                                "no store in \"%s\"", path);
        real = NULL;
        dc_store_options o;
        memset(&o, 0, sizeof o);
        o.size = sizeof o;
        o.path = path;
        o.create_if_missing = false;
        rc = lsm_open(inst, &o, &s, err);
        if (rc == DC_OK) {
            rc = store_checkpoint(s, dest, &res, &seq, err);
            lsm_close(s);
        }
    }
    free(real);
    if (rc != DC_OK)
        return rc;
    if (DC_HAS_FIELD(info, dc_checkpoint_info, seq))
        info->seq = seq;
    if (DC_HAS_FIELD(info, dc_checkpoint_info, files_linked))
        info->files_linked = res.linked;
    if (DC_HAS_FIELD(info, dc_checkpoint_info, files_copied))
        info->files_copied = res.copied;
    if (DC_HAS_FIELD(info, dc_checkpoint_info, files_written))
        info->files_written = res.written;
    if (DC_HAS_FIELD(info, dc_checkpoint_info, bytes))
        info->bytes = res.bytes;
    if (DC_HAS_FIELD(info, dc_checkpoint_info, store_was_open))
        info->store_was_open = was_open;
    return DC_OK;
}

/* ==== module ============================================================ */

static int bad_option(dc_error *err, const char *name, const char *why)
{
    dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG, "[module.lsm] %s: %s",
                 name, why);
    return DC_EINVAL;
}

/* An int option (".name" of our section, or a host key) within [lo, hi]. */
static int opt_int(lsm_instance *inst, const char *path, int64_t lo, int64_t hi,
                   int64_t *out, dc_error *err)
{
    int64_t v = 0;
    int rc = inst->api->config_int(inst->host, path, &v);
    if (rc != DC_OK)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "%s%s: cannot read the option (%s)",
                            path[0] == '.' ? "[module.lsm] " : "",
                            path[0] == '.' ? path + 1 : path,
                            dc_status_name(rc));
    if (v < lo || v > hi) {
        dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                     "%s%s = %lld is out of range (%lld to %lld)",
                     path[0] == '.' ? "[module.lsm] " : "",
                     path[0] == '.' ? path + 1 : path, (long long)v,
                     (long long)lo, (long long)hi);
        return DC_EINVAL;
    }
    *out = v;
    return DC_OK;
}

static int read_config(lsm_instance *inst, lsm_config *c, dc_error *err)
{
    int64_t v;
    int rc;
#define INT_OPT(path, lo, hi, field, type)                                     \
    do {                                                                       \
        rc = opt_int(inst, path, lo, hi, &v, err);                             \
        if (rc != DC_OK)                                                       \
            return rc;                                                         \
        c->field = (type)v;                                                    \
    } while (0)
    INT_OPT(".block_size", 256, 16 << 20, block_size, size_t);
    INT_OPT(".zstd_level", 1, 22, zstd_level, int);
    INT_OPT(".bloom_bits_per_key", 0, 64, bloom_bits, int);
    if (c->bloom_bits == 0)
        c->bloom_bits = -1; /* no filter */
    INT_OPT(".block_cache_bytes", 0, INT64_MAX, block_cache_bytes, size_t);
    INT_OPT(".max_open_files", 16, 1000000, max_open_files, size_t);
    INT_OPT(".sync_interval_ms", 1, 3600000, sync_interval_ms, int64_t);
    INT_OPT(".l0_compaction_trigger", 1, 1000, l0_trigger, int);
    INT_OPT(".l0_stop_writes", 1, 100000, l0_stop, int);
    INT_OPT(".l1_max_bytes", 65536, INT64_MAX, l1_max_bytes, uint64_t);
    INT_OPT(".bulk_write_bytes", 64, INT64_MAX, bulk_write_bytes, uint64_t);
    INT_OPT("storage.memtable_max_bytes", 1, INT64_MAX, memtable_max, uint64_t);
    INT_OPT("storage.sstable_target_bytes", 1, INT64_MAX, target_file_bytes,
            uint64_t);
    INT_OPT("storage.compaction_interval_secs", 0, INT32_MAX,
            compaction_interval_secs, int64_t);
#undef INT_OPT
    if (c->l0_stop < c->l0_trigger)
        return bad_option(err, "l0_stop_writes",
                          "must be at least l0_compaction_trigger");

    const char *str = NULL;
    if (inst->api->config_string(inst->host, ".compression", &str) != DC_OK)
        return bad_option(err, "compression", "cannot read the option");
    if (strcmp(str, "zstd") == 0)
        c->compression = LSM_COMPRESS_ZSTD;
    else if (strcmp(str, "none") == 0)
        c->compression = LSM_COMPRESS_NONE;
    else
        return bad_option(err, "compression", "must be \"zstd\" or \"none\"");
    if (inst->api->config_string(inst->host, ".sync", &str) != DC_OK)
        return bad_option(err, "sync", "cannot read the option");
    if (strcmp(str, "every_commit") == 0)
        c->sync = SYNC_EVERY_COMMIT;
    else if (strcmp(str, "interval") == 0)
        c->sync = SYNC_INTERVAL;
    else if (strcmp(str, "off") == 0)
        c->sync = SYNC_OFF;
    else
        return bad_option(err, "sync",
                          "must be \"every_commit\", \"interval\" or \"off\"");

    bool wal = true;
    if (inst->api->config_bool(inst->host, "storage.wal_enabled", &wal) !=
        DC_OK)
        wal = true;
    c->wal_enabled = wal;
    const char *dd = NULL;
    if (inst->api->config_string(inst->host, "storage.data_dir", &dd) != DC_OK)
        dd = "data";
    if (dd[0] == '/') {
        c->data_dir = strdup(dd);
    } else {
        const char *base = inst->api->config_dir(inst->host);
        c->data_dir = path_join(base ? base : ".", dd);
    }
    if (c->data_dir == NULL)
        return oom(err, "config");
    return DC_OK;
}

static dc_series *reg(lsm_instance *inst, int type, const char *name,
                      const char *help, const char *label, const char *lv,
                      dc_error *err)
{
    static const double buckets[] = {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                     0.025,  0.05,   0.1,   0.25,   0.5,   1.0};
    const char *labels[1] = {label};
    dc_metric_desc d;
    memset(&d, 0, sizeof d);
    d.size = sizeof d;
    d.type = (uint32_t)type;
    d.name = name;
    d.help = help;
    d.label_names = label ? labels : NULL;
    d.nlabels = label ? 1 : 0;
    if (type == DC_METRIC_HISTOGRAM) {
        d.buckets = buckets;
        d.nbuckets = sizeof buckets / sizeof buckets[0];
    }
    dc_metric *m = NULL;
    if (inst->api->metric_register(inst->host, &d, &m, err) != DC_OK)
        return NULL;
    const char *values[1] = {lv};
    return inst->api->metric_series(m, label ? values : NULL);
}

static void register_metrics(lsm_instance *inst)
{
    dc_error e;
    dc_error_init(&e);
    lsm_metrics *m = &inst->m;
    const int C = DC_METRIC_COUNTER, G = DC_METRIC_GAUGE;
    m->puts = reg(inst, C, "datacave_storage_puts_total",
                  "Keys put (after batch expansion)", NULL, NULL, &e);
    m->gets = reg(inst, C, "datacave_storage_gets_total", "Point lookups", NULL,
                  NULL, &e);
    m->deletes =
        reg(inst, C, "datacave_storage_deletes_total",
            "Keys deleted (range deletes counted per key)", NULL, NULL, &e);
    m->bytes_written =
        reg(inst, C, "datacave_storage_bytes_written_total",
            "Key and value bytes written by batches", NULL, NULL, &e);
    m->bytes_read =
        reg(inst, C, "datacave_storage_bytes_read_total",
            "Value bytes returned by point lookups", NULL, NULL, &e);
    m->flushes = reg(inst, C, "datacave_storage_flushes_total",
                     "Memtables written to L0", NULL, NULL, &e);
    m->compactions =
        reg(inst, C, "datacave_storage_compactions_total",
            "Compactions done (trivial moves included)", NULL, NULL, &e);
    m->wal_fsyncs = reg(inst, C, "datacave_storage_wal_fsyncs_total",
                        "WAL fsyncs", NULL, NULL, &e);
    m->wal_fsync_seconds =
        reg(inst, DC_METRIC_HISTOGRAM, "datacave_storage_wal_fsync_seconds",
            "Time of a WAL fsync", NULL, NULL, &e);
    m->stalls_memtable =
        reg(inst, C, "datacave_storage_stalls_total",
            "Writes that waited for background work", "reason", "memtable", &e);
    m->stalls_l0 =
        reg(inst, C, "datacave_storage_stalls_total",
            "Writes that waited for background work", "reason", "l0", &e);
    m->cache_hits = reg(inst, C, "datacave_storage_block_cache_hits_total",
                        "Block cache hits", NULL, NULL, &e);
    m->cache_misses = reg(inst, C, "datacave_storage_block_cache_misses_total",
                          "Block cache misses", NULL, NULL, &e);
    m->cache_hit_ratio =
        reg(inst, G, "datacave_storage_block_cache_hit_ratio",
            "Block cache hits / lookups since the store opened (refreshed "
            "every second; NaN before the first lookup)", NULL, NULL, &e);
    inst->api->gauge_set(m->cache_hit_ratio, NAN);
    for (int l = 0; l < LSM_LEVELS; l++) {
        char lv[16];
        snprintf(lv, sizeof lv, "%d", l);
        m->level_files[l] = reg(inst, G, "datacave_storage_level_files",
                                "Table files per level", "level", lv, &e);
        m->level_bytes[l] =
            reg(inst, G, "datacave_storage_level_bytes",
                "Bytes of table files per level", "level", lv, &e);
    }
    {
        const char *labels[1] = {"key_id"};
        dc_metric_desc d;
        memset(&d, 0, sizeof d);
        d.size = sizeof d;
        d.type = DC_METRIC_GAUGE;
        d.name = "datacave_storage_files_by_key";
        d.help = "Table files per encryption key id they are sealed under "
                 "(00000000: not encrypted)";
        d.label_names = labels;
        d.nlabels = 1;
        if (inst->api->metric_register(inst->host, &d, &m->files_by_key,
                                       &e) != DC_OK)
            m->files_by_key = NULL;
    }
    if (dc_error_isset(&e))
        inst->api->log(inst->host, DC_LOG_WARN,
                       "lsm: some metrics are not available: %s", e.message);
}

static int lsm_init(dc_host *host, const dc_host_api *api, void **instance,
                    dc_error *err)
{
    lsm_instance *inst = dcm_calloc(1, sizeof *inst);
    if (inst == NULL)
        return oom(err, "instance");
    inst->host = host;
    inst->api = api;
    int rc = read_config(inst, &inst->cfg, err);
    if (rc != DC_OK) {
        free((char *)inst->cfg.data_dir);
        free(inst);
        return rc;
    }
    const void *vt = NULL;
    void *ei = NULL;
    if (api->service(host, DC_KIND_ENCRYPTION, &vt, &ei) == DC_OK &&
        vt != NULL) {
        const dc_encryption_vtable *ev = vt;
        if (DC_HAS_FIELD(ev, dc_encryption_vtable, open)) {
            inst->enc = ev;
            inst->enc_inst = ei;
        }
    }
    pthread_mutex_init(&inst->lock, NULL);
    register_metrics(inst);
    *instance = inst;
    return DC_OK;
}

static void lsm_shutdown(void *instance)
{
    lsm_instance *inst = instance;
    while (inst->stores != NULL) {
        dc_store *s = inst->stores;
        inst->api->log(inst->host, DC_LOG_WARN,
                       "lsm store \"%s\" still open at shutdown; closing it",
                       s->dir);
        lsm_close(s); /* unlinks it from the list */
    }
    pthread_mutex_destroy(&inst->lock);
    free((char *)inst->cfg.data_dir);
    free(inst);
}

static const dc_config_key lsm_options[] = {
    {"block_size", DC_CFG_INT, "4096",
     "target size of a table data block in bytes (before compression)", 0},
    {"compression", DC_CFG_STRING, "\"zstd\"",
     "table block compression: \"zstd\" or \"none\"", 0},
    {"zstd_level", DC_CFG_INT, "3", "zstd level, 1 (fast) to 22 (small)", 0},
    {"bloom_bits_per_key", DC_CFG_INT, "10",
     "bloom filter bits per key in each table, 0 for no filter", 0},
    {"block_cache_bytes", DC_CFG_INT, "134217728",
     "capacity of the cache of uncompressed blocks", 0},
    {"max_open_files", DC_CFG_INT, "1000", "table files kept open", 0},
    {"sync", DC_CFG_STRING, "\"every_commit\"",
     "WAL fsync: \"every_commit\", \"interval\" or \"off\"", 0},
    {"sync_interval_ms", DC_CFG_INT, "100",
     "with sync = \"interval\": milliseconds between WAL fsyncs", 0},
    {"l0_compaction_trigger", DC_CFG_INT, "4",
     "L0 files that start a compaction into L1", 0},
    {"l0_stop_writes", DC_CFG_INT, "20",
     "L0 files at which writes wait for compaction", 0},
    {"l1_max_bytes", DC_CFG_INT, "268435456",
     "target size of L1; each deeper level is 10 times larger", 0},
    {"bulk_write_bytes", DC_CFG_INT, "33554432",
     "a write batch this large is written as a table file of its own "
     "instead of through the WAL and the memtable", 0},
};

static const dc_dependency lsm_deps[] = {
    {.kind = DC_KIND_ENCRYPTION, .flags = 0},
};

static const dc_storage_vtable lsm_vtable = {
    .size = sizeof(dc_storage_vtable),
    .open = lsm_open,
    .close = lsm_close,
    .get = lsm_get,
    .write = lsm_write,
    .snapshot_acquire = lsm_snapshot_acquire,
    .snapshot_seq = lsm_snapshot_seq,
    .snapshot_release = lsm_snapshot_release,
    .iter_open = lsm_iter_open,
    .iter_seek = lsm_iter_seek,
    .iter_seek_first = lsm_iter_seek_first,
    .iter_next = lsm_iter_next,
    .iter_valid = lsm_iter_valid,
    .iter_key = lsm_iter_key,
    .iter_value = lsm_iter_value,
    .iter_status = lsm_iter_status,
    .iter_close = lsm_iter_close,
    .key_seq = lsm_key_seq,
    .iter_seek_last = NULL,
    .iter_seek_for_prev = NULL,
    .iter_prev = NULL,
    .flush = lsm_flush,
    .compact = lsm_compact,
    .stats = lsm_stats,
    .checkpoint = lsm_checkpoint,
    .approx_count = lsm_approx_count,
};

static const dc_module_desc lsm_desc = {
    DC_MODULE_HEADER(DC_KIND_STORAGE, DC_STORAGE_VTABLE_MAJOR,
                     DC_STORAGE_VTABLE_MINOR),
    .name = "lsm",
    .version = "0.1.0",
    .description = "durable log-structured merge storage engine (WAL, "
                   "memtable, leveled SST compaction)",
    .deps = lsm_deps,
    .ndeps = sizeof lsm_deps / sizeof lsm_deps[0],
    .config_keys = lsm_options,
    .nconfig_keys = sizeof lsm_options / sizeof lsm_options[0],
    .init = lsm_init,
    .shutdown = lsm_shutdown,
    .vtable = &lsm_vtable,
};

/* The module's one exported symbol: returns the descriptor, nothing else. */
DC_EXPORT const dc_module_desc *datacave_module_lsm_v0(void)
{
    return &lsm_desc;
}
