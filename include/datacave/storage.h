/*
 * datacave/storage.h - the storage kind: an ordered key/value engine with
 * snapshots and atomic write batches.
 *
 * Keys and values are byte strings compared with memcmp (shorter first on a
 * common prefix).  Every committed batch gets the next sequence number; a
 * snapshot is a sequence number, and a read at a snapshot sees exactly the
 * batches committed at or before it.
 *
 * Threads: a dc_store may be used from any number of threads at once (get,
 * write, iterators, snapshots).  A dc_iter belongs to one thread at a time.
 * close() may only be called when no other call on the store is running and
 * every iterator and snapshot is released.
 *
 * Keys: the empty key is a valid key.  Where a bound may be absent it is
 * absent when its pointer is NULL; a non-NULL pointer with length 0 is the
 * empty key.
 */
#ifndef DATACAVE_STORAGE_H
#define DATACAVE_STORAGE_H

#include "abi.h"
#include "error.h"

#define DC_STORAGE_VTABLE_MAJOR 0
#define DC_STORAGE_VTABLE_MINOR 3

typedef struct dc_store dc_store;
typedef struct dc_snapshot dc_snapshot;
typedef struct dc_iter dc_iter;

typedef struct dc_store_options {
    uint32_t size;          /* sizeof(dc_store_options)                   */
    const char *path;       /* data directory; NULL lets the module use
                               [storage] data_dir                          */
    bool create_if_missing; /* make an empty store when none exists       */
    bool read_only;         /* open without writing anything              */
} dc_store_options;

typedef enum dc_sync_mode {
    DC_SYNC_DEFAULT = 0,    /* the store's configured mode                */
    DC_SYNC_ALWAYS = 1,     /* durable when write() returns               */
    DC_SYNC_NONE = 2        /* may be lost in a crash, never half-applied */
} dc_sync_mode;

typedef struct dc_write_options {
    uint32_t size;
    uint32_t sync;          /* dc_sync_mode                               */
} dc_write_options;

typedef struct dc_read_options {
    uint32_t size;
    const dc_snapshot *snapshot; /* NULL: the latest committed state     */
    const uint8_t *lower;   /* iterators: first key allowed (inclusive),
                               NULL for none                              */
    size_t lower_len;
    const uint8_t *upper;   /* iterators: end key (exclusive), NULL: none */
    size_t upper_len;
    bool skip_cache;        /* a scan that should not evict hot blocks    */
} dc_read_options;

typedef enum dc_batch_op_kind {
    DC_OP_PUT = 1,          /* key -> value                               */
    DC_OP_DELETE = 2,       /* remove key                                 */
    DC_OP_DELETE_RANGE = 3  /* remove [key, value) (value is the end key) */
} dc_batch_op_kind;

typedef struct dc_batch_op {
    uint32_t op;            /* dc_batch_op_kind                           */
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;   /* PUT: the value; DELETE_RANGE: the end key */
    size_t value_len;
} dc_batch_op;

/* Receives a value from get(); `value` is borrowed for the duration of the
 * call.  A non-zero return is passed back as get()'s result. */
typedef int (*dc_value_fn)(void *ud, const uint8_t *value, size_t len);

/* Statistics, filled by stats(). */
typedef struct dc_store_stats {
    uint32_t size;
    uint64_t last_seq;          /* newest committed sequence number       */
    uint64_t live_bytes;        /* approximate bytes of live files        */
    uint64_t memtable_bytes;
    uint32_t levels;            /* levels reported in files_per_level     */
    uint64_t files_per_level[16];
    uint64_t bytes_per_level[16];
} dc_store_stats;

/* What checkpoint() did, filled by it.  The caller sets size; the callee
 * writes only the fields that lie within it. */
typedef struct dc_checkpoint_info {
    uint32_t size;
    uint64_t seq;           /* the copy holds exactly the batches with a
                               sequence number up to this one            */
    uint64_t files_linked;  /* files hard-linked from the store          */
    uint64_t files_copied;  /* files copied (link impossible, e.g. another
                               file system)                              */
    uint64_t files_written; /* files written from memory                 */
    uint64_t bytes;         /* bytes of the files of the copy            */
    bool store_was_open;    /* the store was open in this process; when
                               false the call opened it itself            */
} dc_checkpoint_info;

typedef struct dc_storage_vtable {
    uint32_t size;          /* sizeof(dc_storage_vtable) as built         */

    /* Required.  Open (or create) the store described by `opts`.  One store
     * per directory per process; a directory in use by another process is
     * DC_EBUSY.  Errors name the file at fault. */
    int (*open)(void *instance, const dc_store_options *opts, dc_store **out,
                dc_error *err);
    /* Required.  Close the store; flushes nothing that is not already
     * durable by its sync mode.  A store that is not durable (the memory
     * engine) loses its contents here. */
    void (*close)(dc_store *s);

    /* Required.  Look up `key`; calls fn(ud, value, len) when found (fn may
     * be NULL to test for presence).  fn is called with no lock of the store
     * held, so it may call into the store.  Returns DC_ENOTFOUND when absent,
     * without filling *err: absence is an answer, not a failure. */
    int (*get)(dc_store *s, const dc_read_options *ro, const uint8_t *key,
               size_t key_len, dc_value_fn fn, void *ud, dc_error *err);

    /* Required.  Apply `nops` operations as one atomic batch: a reader sees
     * all of it or none of it.  A batch takes the next sequence number
     * (previous + 1); *seq (when not NULL) gets it.  An empty batch takes no
     * number and *seq gets the current one.  Within a batch a later op on
     * the same key wins.  DELETE_RANGE removes [key, end) and is a no-op when
     * end <= key.  Invalid ops are refused (DC_EINVAL) before anything is
     * applied.  When this returns 0 with DC_SYNC_ALWAYS in effect, a durable
     * engine keeps the batch through a crash. */
    int (*write)(dc_store *s, const dc_write_options *wo,
                 const dc_batch_op *ops, size_t nops, uint64_t *seq,
                 dc_error *err);

    /* Required.  Pin the current state.  Valid until snapshot_release. */
    int (*snapshot_acquire)(dc_store *s, dc_snapshot **out, dc_error *err);
    /* Required. */
    uint64_t (*snapshot_seq)(const dc_snapshot *snap);
    /* Required. */
    void (*snapshot_release)(dc_store *s, dc_snapshot *snap);

    /* Required.  An iterator over [lower, upper) at ro->snapshot (or the
     * state when it is opened).  It starts unpositioned: seek first.
     * The bounds are copied, and the iterator keeps what it reads alive
     * by itself, so the snapshot may be released before the iterator is
     * closed.  Keys and values it hands out are valid until the next call
     * that moves it or closes it.  Moving an invalid iterator does
     * nothing; reading one gives NULL and 0. */
    int (*iter_open)(dc_store *s, const dc_read_options *ro, dc_iter **out,
                     dc_error *err);
    void (*iter_seek)(dc_iter *it, const uint8_t *key, size_t key_len);
    void (*iter_seek_first)(dc_iter *it);
    void (*iter_next)(dc_iter *it);
    bool (*iter_valid)(const dc_iter *it);
    void (*iter_key)(const dc_iter *it, const uint8_t **key, size_t *len);
    void (*iter_value)(const dc_iter *it, const uint8_t **val, size_t *len);
    /* 0 while no error happened; otherwise the error that made the
     * iterator invalid (corruption, I/O) is copied into *err. */
    int (*iter_status)(const dc_iter *it, dc_error *err);
    void (*iter_close)(dc_iter *it);

    /* Required.  The sequence number of the newest version of `key` (a put
     * or a delete), 0 when it was never written.  A delete older than every
     * live snapshot may have been dropped, and then 0 is returned for it: a
     * caller only compares the result with sequence numbers it still holds
     * a snapshot of.  The SQL module uses it to detect write-write
     * conflicts. */
    int (*key_seq)(dc_store *s, const uint8_t *key, size_t key_len,
                   uint64_t *seq, dc_error *err);

    /* Optional (NULL: unsupported).  Reverse iteration. */
    void (*iter_seek_last)(dc_iter *it);
    void (*iter_seek_for_prev)(dc_iter *it, const uint8_t *key, size_t len);
    void (*iter_prev)(dc_iter *it);

    /* Optional.  Write the memtable out; compact a key range (NULL bounds:
     * everything); statistics. */
    int (*flush)(dc_store *s, dc_error *err);
    int (*compact)(dc_store *s, const uint8_t *begin, size_t begin_len,
                   const uint8_t *end, size_t end_len, dc_error *err);
    int (*stats)(dc_store *s, dc_store_stats *out);

    /* Optional (NULL: unsupported; since 0.2).  Write a consistent copy of
     * the store in directory `path` (NULL: the module's configured data
     * directory, as open() with a NULL path) to the directory `dest`, which
     * must not exist or be empty (DC_EEXIST otherwise); its parent must
     * exist.  The copy holds exactly the batches committed up to one
     * sequence number S (info->seq): every batch whose write() returned
     * before this call began, none that began after it returned.  A store
     * started on `dest` opens with exactly that state.  The copy appears
     * complete or not at all (built aside, made durable, then renamed to
     * `dest`).  When this process has the store open, writes go on during
     * the copy; otherwise the call opens the store itself for its duration
     * (DC_EBUSY when another process has it open, DC_ENOTFOUND when there
     * is no store).  May run concurrently with every other call on the
     * store except close(), which waits for it.  `info` may be NULL. */
    int (*checkpoint)(void *instance, const char *path, const char *dest,
                      dc_checkpoint_info *info, dc_error *err);

    /* Optional (NULL: unsupported; since 0.3).  *count gets an estimate of
     * the number of keys in [lo, hi) (hi NULL: no upper bound) from what
     * the store knows without reading them, at a cost that grows with the
     * number of its files and of its in-memory entries in the range, not
     * with the keys on disk.  Every version and deletion the store still
     * keeps may count, so after overwrites or deletions not yet compacted
     * away the estimate can exceed the live keys; with neither, it is
     * close to them (the lsm engine: within a data block at each end of
     * each table file the range covers in part). */
    int (*approx_count)(dc_store *s, const uint8_t *lo, size_t lo_len,
                        const uint8_t *hi, size_t hi_len, uint64_t *count,
                        dc_error *err);
} dc_storage_vtable;

#endif
