/*
 * wal.h - the write-ahead log of the lsm engine.
 *
 * The WAL is a directory of segment files ("wal-%016llu.log", numbered
 * upwards).  Each file starts with a 32-byte header (magic, format version,
 * encryption key id, segment number) followed by records.  A record is an
 * opaque byte string to the WAL (the engine stores a batch in it: seq and
 * operations); it is framed with its length and a masked CRC-32C, and,
 * when an encryption module is configured, its payload is sealed with an
 * AAD that binds the kind of log (WAL or manifest), the segment number and
 * the record's byte offset.  Recovery asks the encryption module
 * (check_key) whether each segment's key id may be read before reading
 * it, so a segment under a key that is not configured, or in the clear
 * when the module does not accept that, is refused by name.  A record
 * is recovered whole or not at all.  The byte layouts are in
 * docs/storage-wal.md.
 *
 * Durability: lsm_wal_append() with sync (or in LSM_WAL_SYNC_ALWAYS mode)
 * returns only after the record is on stable storage.  Concurrent
 * committers share fsyncs (group commit): appends wait in a queue; the
 * first waiter becomes the leader, frames every queued record into one
 * buffer, writes it with one write, fsyncs once and hands every follower
 * its result.  Sync, rotate and append all pass through that queue, so
 * they are totally ordered.
 *
 * Recovery: lsm_wal_recover() reads every segment in number order.  In the
 * newest segment a torn tail (a partial last record, or a damaged record
 * with nothing valid after it) is cut off: the file is truncated at the
 * last whole record.  Anything else that fails a check - a bad header, a
 * bad CRC or impossible length followed by more valid-looking data, a
 * record that fails authentication, damage in a segment that is not the
 * newest - is DC_ECORRUPT (SQLSTATE XX001) naming the file and the byte
 * offset.
 *
 * Errors: every call returns 0 or a negative dc_status and fills *err
 * (when not NULL) on failure.  I/O failures are DC_EIO (SQLSTATE 58030);
 * after a failed write or fsync the lsm_wal is unusable (every later
 * append, sync or rotate fails with DC_EIO), because the state of the file
 * is no longer known: the engine must stop and recover.
 */
#ifndef DATACAVE_LSM_WAL_H
#define DATACAVE_LSM_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datacave/encryption.h"
#include "datacave/error.h"

/* Sync modes (lsm_wal_options.sync_mode):
 *   ALWAYS    every append is fsynced before it returns (the default);
 *   INTERVAL  the engine calls lsm_wal_sync() every N ms from a timer;
 *   OFF       fsync only on rotate, close and when an append asks for it. */
#define LSM_WAL_SYNC_ALWAYS   0
#define LSM_WAL_SYNC_INTERVAL 1
#define LSM_WAL_SYNC_OFF      2

/* Size of the file header and of a record's frame (CRC + length). */
#define LSM_WAL_HEADER_SIZE        32
#define LSM_WAL_RECORD_HEADER_SIZE 8
/* The largest stored payload (after sealing) a record may have. */
#define LSM_WAL_MAX_RECORD (UINT32_C(1) << 30)

typedef struct lsm_wal lsm_wal;

typedef struct lsm_wal_options {
    const char *dir; /* directory of the segment files; must exist.
                        Copied by lsm_wal_open(). */
    int sync_mode;   /* LSM_WAL_SYNC_* */
    /* Encryption (both NULL: none).  Borrowed: must stay valid until
     * lsm_wal_close() / the end of lsm_wal_recover().  New segments are
     * sealed under enc->current_key_id(); a key id of 0 means the segment
     * is written in the clear. */
    const dc_encryption_vtable *enc;
    void *enc_instance;
    /* Test hook, NULL in production.  Called by each group-commit leader
     * after it became leader and before it collects the queued records,
     * with no lock held.  Tests use it to make batching deterministic. */
    void (*leader_hook)(void *ud);
    void *leader_hook_ud;
    /* Optional: called after every data fsync the WAL makes, with its
     * duration in nanoseconds, from the thread that made it, with no lock
     * held.  The engine feeds its fsync metrics from it. */
    void (*fsync_hook)(void *ud, uint64_t ns);
    void *fsync_hook_ud;
    /* What the segments hold: LSM_WAL_KIND_LOG (the engine's write-ahead
     * log, the default) or LSM_WAL_KIND_MANIFEST (version.c).  It names
     * the files in messages and is bound into each sealed record's AAD,
     * so a record cannot pass for one of the other kind. */
    int kind;
    /* lsm_wal_recover: read only.  A torn tail or the zeros written ahead
     * end the replay as usual but are left in the file (a read-only open
     * writes nothing). */
    bool read_only;
} lsm_wal_options;

#define LSM_WAL_KIND_LOG      0
#define LSM_WAL_KIND_MANIFEST 1

/* Counters for the engine's metrics; read with lsm_wal_stats_get(). */
typedef struct lsm_wal_stats {
    uint64_t appends;      /* records appended */
    uint64_t append_bytes; /* their payload bytes (before sealing) */
    uint64_t file_bytes;   /* bytes written to segment files (framing,
                              sealing overhead and headers included) */
    uint64_t writes;       /* write batches (one per group commit) */
    uint64_t fsyncs;       /* fdatasync calls that made appended records
                              durable (not those of new segment headers) */
    uint64_t fsync_ns;     /* total nanoseconds spent in them */
    uint64_t segment;      /* the segment appends go to */
    uint64_t queued;       /* callers waiting in the queue right now
                              (including a running leader) */
} lsm_wal_stats;

/* Called by lsm_wal_recover() once per record, in log order.  `rec` is
 * borrowed for the duration of the call.  A non-zero return stops recovery
 * and is returned by lsm_wal_recover() (the callback should fill err). */
typedef int (*lsm_wal_record_fn)(void *ud, uint64_t segment, const uint8_t *rec,
                                 size_t len, dc_error *err);

/* Read every segment in o->dir numbered >= first_segment, in order, calling
 * fn for each record.  The newest segment's torn tail is truncated away
 * (and the file fsynced), so that the directory afterwards holds only whole
 * records.  A newest segment shorter than its header (a crash while it was
 * being created) is deleted.  *last_segment (when not NULL) gets the
 * highest segment number found (>= first_segment), or 0 when there is
 * none; new appends should go to a segment numbered above it.  Set only on
 * success.
 * Errors: DC_ECORRUPT (names file and byte offset), DC_EUNSUPPORTED (a
 * segment written by a newer format version), DC_EINVAL (an encrypted
 * segment and no encryption module), the status of the module's
 * check_key (DC_ENOTFOUND: the segment's key is not configured; DC_EPERM:
 * a segment in the clear that the module does not accept), each naming
 * the file, DC_EIO, DC_ENOMEM, or fn's status.
 * Threads: must not run while an lsm_wal is open on the same directory. */
int lsm_wal_recover(const lsm_wal_options *o, uint64_t first_segment,
                    lsm_wal_record_fn fn, void *ud, uint64_t *last_segment,
                    dc_error *err);

/* Create segment `segment` (which must not exist; DC_EEXIST otherwise) in
 * o->dir, write and fsync its header, fsync the directory, and return a
 * handle for appending to it in *out (set only on success).  The options
 * are copied (the strings and the encryption instance are borrowed as
 * described above).  Close with lsm_wal_close(). */
int lsm_wal_open(const lsm_wal_options *o, uint64_t segment, lsm_wal **out,
                 dc_error *err);

/* Append one record of `len` bytes (0 allowed; rec may be NULL when len is
 * 0).  The bytes are copied before this returns.  When `sync` is true or
 * the mode is LSM_WAL_SYNC_ALWAYS the record is on stable storage when
 * this returns 0; otherwise it has been handed to the OS (write()) and may
 * be lost in a crash, but never half-recovered.  Records appended by one
 * thread are recovered in the order of its calls; concurrent appends are
 * ordered by the queue.  Thread-safe (group commit).
 * Errors: DC_EINVAL (too large), DC_EIO, DC_ENOMEM, the encryption
 * module's error. */
int lsm_wal_append(lsm_wal *w, const uint8_t *rec, size_t len, bool sync,
                   dc_error *err);

/* Make every record appended before this call durable (fdatasync when
 * anything was written since the last one).  For LSM_WAL_SYNC_INTERVAL the
 * engine calls it from its timer.  Thread-safe. */
int lsm_wal_sync(lsm_wal *w, dc_error *err);

/* Make the current segment durable and switch appends to a new segment
 * numbered one higher (created like lsm_wal_open() does); its number goes
 * to *new_segment (when not NULL; set only on success).  Appends queued
 * before this call go to the old segment, later ones to the new.  The new
 * segment is sealed under the encryption module's current key id.
 * Thread-safe. */
int lsm_wal_rotate(lsm_wal *w, uint64_t *new_segment, dc_error *err);

/* Delete every segment file numbered <= segment (its records are in SSTs
 * now) and fsync the directory.  The current segment is never deleted:
 * segment must be below it (DC_EINVAL otherwise).  Thread-safe. */
int lsm_wal_remove_up_to(lsm_wal *w, uint64_t segment, dc_error *err);

/* The segment appends currently go to.  Thread-safe. */
uint64_t lsm_wal_segment(lsm_wal *w);

/* The sync mode the handle was opened with. */
int lsm_wal_sync_mode(const lsm_wal *w);

/* Copy the counters into *out.  Thread-safe. */
void lsm_wal_stats_get(lsm_wal *w, lsm_wal_stats *out);

/* fsync what is not yet durable, close the file and free w.  Only when no
 * other call on w is running.  NULL is a no-op. */
void lsm_wal_close(lsm_wal *w);

/* Write the file name of `segment` ("wal-%016llu.log") to buf. */
void lsm_wal_file_name(uint64_t segment, char *buf, size_t cap);

#endif
