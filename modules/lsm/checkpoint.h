/*
 * checkpoint.h - writing a consistent copy of a store (a checkpoint) into
 * a new directory.
 *
 * The engine (lsm.c) fixes what the copy holds, with its lock held for a
 * moment and no I/O: the published sequence number S, a reference on the
 * current version (its table files cannot be deleted while it is pinned)
 * and references on the memtables not yet in that version.  This file then
 * does the work with no engine lock held, while writes go on:
 *
 *   - each table file of the version is hard-linked into <copy>/sst (table
 *     files are immutable: the store only ever deletes them), or copied
 *     when the link is impossible (another file system, link not allowed);
 *   - the entries of each memtable with seq <= S are written to a new L0
 *     table in <copy>/sst (older memtable first, so a newer table holds
 *     newer data); entries added after S are left out, which makes the
 *     copy exactly the state at S;
 *   - a new manifest in <copy>/manifest lists exactly those files, with
 *     last seq S; <copy>/wal is empty: nothing needs replaying.
 *
 * The copy is built in a hidden directory beside the destination
 * (".<name>.tmp-<pid>-<n>"), every file and directory is fsynced, and it
 * is renamed to the destination at the end: it appears complete or not at
 * all.  Tables and manifest are written with the encryption the caller
 * passes (the store's), and linked or copied tables keep theirs, so the
 * copy needs the same keys as the store.
 *
 * Threads: lsm_checkpoint_write may run on any thread; the memtables may
 * take writes meanwhile (entries are filtered by seq).
 */
#ifndef DATACAVE_LSM_CHECKPOINT_H
#define DATACAVE_LSM_CHECKPOINT_H

#include <stdint.h>

#include "datacave/encryption.h"
#include "datacave/error.h"

#include "memtable.h"
#include "sstable.h"
#include "version.h"

typedef struct lsm_ckpt_source {
    const char *sst_dir;          /* the store's table directory          */
    const lsm_version *version;   /* pinned by the caller                 */
    lsm_memtable *mem[2];         /* memtables not in `version`, older
                                     first; NULL entries are skipped      */
    uint64_t seq;                 /* S: the newest seq the copy holds     */
    const lsm_sst_write_options *sst_opts; /* tables written from memory */
    const dc_encryption_vtable *enc; /* for the manifest (NULL: clear)    */
    void *enc_instance;
} lsm_ckpt_source;

typedef struct lsm_ckpt_result {
    uint64_t linked;  /* table files hard-linked                          */
    uint64_t copied;  /* table files copied                               */
    uint64_t written; /* tables written from memtables                    */
    uint64_t bytes;   /* bytes of every file of the copy (manifest too)   */
} lsm_ckpt_result;

/* Write the copy described by `src` to `dest` (see the file comment).
 * `dest` must not exist or be an empty directory, and its parent must
 * exist.  Errors: DC_EEXIST (dest exists and is not an empty directory),
 * DC_ENOTFOUND (no parent directory), DC_EINVAL (an empty dest), DC_EIO,
 * DC_ENOMEM, the encryption module's errors; nothing is left behind on
 * failure.  *res (may be NULL) is filled on success. */
int lsm_checkpoint_write(const lsm_ckpt_source *src, const char *dest,
                         lsm_ckpt_result *res, dc_error *err);

/* Write the entries of `mem` with seq <= max_seq (UINT64_MAX: all) to a
 * new table `number` in dir and add it to `e` at L0.  *wrote: a table was
 * written (none when no entry qualifies).  The flush of a memtable and
 * the checkpoint's copy of one both use it. */
int lsm_memtable_write_l0(lsm_memtable *mem, uint64_t max_seq,
                          const char *dir, uint64_t number,
                          const lsm_sst_write_options *wo, lsm_edit *e,
                          bool *wrote, dc_error *err);

#endif
