/*
 * version.h - which table files make up the store: versions, the edits
 * that change them, the manifest that records the edits, and the choice of
 * the next compaction.
 *
 * A version is an immutable list of files per level.  L0 files may overlap
 * and are ordered newest first (higher file number first); in L1 and below
 * files are sorted by smallest key and do not overlap.  Versions and files
 * are reference counted: an iterator or a compaction pins the version it
 * reads, and a file is obsolete (may be deleted) only when no live version
 * lists it.
 *
 * The manifest is an append-only log of edits, each CRC-protected, kept in
 * the "manifest" subdirectory of the store with the WAL's record framing
 * (docs/storage-wal.md).  Recovery replays every edit.  When the log grows
 * past a bound, lsm_vset_apply starts a new segment that opens with one
 * edit describing the whole current version, then removes the old ones.
 *
 * Threads: lsm_vset_apply, lsm_vset_pick_compaction and
 * lsm_vset_compact_range must be serialised by the caller (the engine holds
 * its own mutex around them); lsm_vset_current, lsm_version_ref/unref and
 * lsm_vset_new_file_number may be called from any thread.
 */
#ifndef DATACAVE_LSM_VERSION_H
#define DATACAVE_LSM_VERSION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datacave/encryption.h"
#include "datacave/error.h"

#define LSM_LEVELS 7

/* One table file.  Shared by every version that lists it. */
typedef struct lsm_file {
    uint64_t number;
    uint64_t size;         /* bytes */
    uint64_t entries;
    uint32_t key_id;       /* encryption key id it is sealed under; 0: clear */
    uint8_t *smallest;     /* smallest internal key */
    size_t smallest_len;
    uint8_t *largest;      /* largest internal key */
    size_t largest_len;
    atomic_int refs;       /* versions listing it */
} lsm_file;

typedef struct lsm_version {
    atomic_int refs;
    lsm_file **files[LSM_LEVELS];
    size_t nfiles[LSM_LEVELS];
    uint64_t level_bytes[LSM_LEVELS];
} lsm_version;

void lsm_version_ref(lsm_version *v);
void lsm_version_unref(lsm_version *v);

/* ---- edits ------------------------------------------------------------- */

typedef struct lsm_edit_file {
    int level;
    uint64_t number, size, entries;
    uint32_t key_id;       /* encryption key id of the file; 0: clear */
    uint8_t *smallest;     /* owned copies */
    size_t smallest_len;
    uint8_t *largest;
    size_t largest_len;
} lsm_edit_file;

typedef struct lsm_edit_delete {
    int level;
    uint64_t number;
} lsm_edit_delete;

typedef struct lsm_edit {
    bool has_log_number;   /* WAL segments below it are no longer needed */
    uint64_t log_number;
    bool has_next_file;
    uint64_t next_file;
    bool has_last_seq;
    uint64_t last_seq;
    lsm_edit_file *added;
    size_t nadded, capadded;
    lsm_edit_delete *deleted;
    size_t ndeleted, capdeleted;
} lsm_edit;

void lsm_edit_init(lsm_edit *e);
void lsm_edit_free(lsm_edit *e);
/* Keys are copied.  DC_ENOMEM on failure. */
int lsm_edit_add_file(lsm_edit *e, int level, uint64_t number, uint64_t size,
                      uint64_t entries, const uint8_t *smallest,
                      size_t smallest_len, const uint8_t *largest,
                      size_t largest_len);
/* The same for a file sealed under encryption key id `key_id` (0: a file
 * in the clear, as lsm_edit_add_file). */
int lsm_edit_add_file_key(lsm_edit *e, int level, uint64_t number,
                          uint64_t size, uint64_t entries, uint32_t key_id,
                          const uint8_t *smallest, size_t smallest_len,
                          const uint8_t *largest, size_t largest_len);
int lsm_edit_delete_file(lsm_edit *e, int level, uint64_t number);
/* Encoding, for the manifest and for tests.  encode: *out is malloc'd.
 * decode: DC_ECORRUPT for malformed input. */
int lsm_edit_encode(const lsm_edit *e, uint8_t **out, size_t *len);
int lsm_edit_decode(const uint8_t *p, size_t len, lsm_edit *e, dc_error *err);

/* ---- the version set -------------------------------------------------- */

typedef struct lsm_vset lsm_vset;

typedef struct lsm_vset_options {
    const char *dir;                 /* the store's directory            */
    bool create_if_missing;
    const dc_encryption_vtable *enc; /* NULL: not encrypted              */
    void *enc_instance;
    bool read_only; /* write nothing: no new manifest segment, no repair
                       of a torn tail; lsm_vset_apply() is refused */
} lsm_vset_options;

/* Recover the version set from <dir>/manifest, or create an empty one.
 * Errors: DC_ENOTFOUND (no store and !create_if_missing), DC_ECORRUPT
 * (naming the file and offset), DC_EUNSUPPORTED (newer format), DC_EIO. */
int lsm_vset_open(const lsm_vset_options *o, lsm_vset **out, dc_error *err);
void lsm_vset_close(lsm_vset *vs);

/* The current version, with a reference the caller must drop. */
lsm_version *lsm_vset_current(lsm_vset *vs);
/* Record `e` durably in the manifest and make the resulting version
 * current.  Fills in next_file and last_seq from the set when the edit
 * does not set them.  On failure nothing changes. */
int lsm_vset_apply(lsm_vset *vs, lsm_edit *e, dc_error *err);

/* The number the next lsm_vset_new_file_number will return (or a later
 * one, when another thread takes one meanwhile). */
uint64_t lsm_vset_next_file_number(lsm_vset *vs);
uint64_t lsm_vset_new_file_number(lsm_vset *vs);
uint64_t lsm_vset_log_number(lsm_vset *vs);
uint64_t lsm_vset_last_seq(lsm_vset *vs);
/* The engine's own record of the newest seq; saved by the next apply. */
void lsm_vset_set_last_seq(lsm_vset *vs, uint64_t seq);

/* Call fn for the number of every file some live version lists. */
void lsm_vset_live_files(lsm_vset *vs, void (*fn)(void *ud, uint64_t number),
                         void *ud);

/* ---- compaction choice ------------------------------------------------- */

typedef struct lsm_compaction_policy {
    int l0_trigger;          /* L0 files that make L0 want compaction  */
    uint64_t l1_max_bytes;   /* target size of L1; each level 10x more */
    uint64_t target_file_bytes; /* output file size                     */
    /* Key rotation: when no level needs compaction, rewrite the files
     * sealed under another key id than key_id (0: in the clear). */
    bool rewrite_keys;
    uint32_t key_id;
} lsm_compaction_policy;

typedef struct lsm_compaction {
    int level;                 /* inputs[0] from level, inputs[1] from level+1 */
    lsm_file **inputs[2];
    size_t ninputs[2];
    lsm_version *version;      /* pinned input version                 */
    uint64_t target_file_bytes;
    bool trivial_move;         /* one input file, nothing to merge with */
    int output_level;          /* level+1, or level for a rewrite of the
                                  last level's files in place */
    bool rewrite;              /* picked to reseal files under the
                                  current key (never a trivial move)     */
} lsm_compaction;

/* The most urgent compaction by score (L0 file count against l0_trigger,
 * level bytes against their target); when every score is below 1 and
 * p->rewrite_keys is set, lsm_vset_pick_rewrite's; else NULL. */
lsm_compaction *lsm_vset_pick_compaction(lsm_vset *vs,
                                         const lsm_compaction_policy *p);
/* A compaction that rewrites (never moves) a file of the current version
 * sealed under another key id than p->key_id, with the files it must be
 * merged with; into the next level, or in place in the last level.  NULL
 * when every file is under p->key_id. */
lsm_compaction *lsm_vset_pick_rewrite(lsm_vset *vs,
                                      const lsm_compaction_policy *p);
/* A compaction of the files of `level` overlapping [begin, end] (user keys;
 * NULL: unbounded), or NULL when none overlap. */
lsm_compaction *lsm_vset_compact_range(lsm_vset *vs,
                                       const lsm_compaction_policy *p,
                                       int level, const uint8_t *begin,
                                       size_t begin_len, const uint8_t *end,
                                       size_t end_len);
/* A rewrite in place of the files of `level` (1 or deeper) overlapping
 * [begin, end] (user keys; NULL: unbounded), or NULL when none do: for the
 * last level, which no compaction otherwise rewrites, so that a full
 * compaction drops its tombstones and versions no snapshot needs. */
lsm_compaction *lsm_vset_rewrite_range(lsm_vset *vs,
                                       const lsm_compaction_policy *p,
                                       int level, const uint8_t *begin,
                                       size_t begin_len, const uint8_t *end,
                                       size_t end_len);
/* True when no level below the compaction's output level (in its
 * version) holds user_key: a tombstone for it may then be dropped. */
bool lsm_compaction_is_bottom_for(const lsm_compaction *c,
                                  const uint8_t *user_key, size_t len);
/* Add the compaction's deletions of its inputs to `e`. */
int lsm_compaction_add_deletions(const lsm_compaction *c, lsm_edit *e);
void lsm_compaction_free(lsm_compaction *c);

/* Compaction scores of the current version, for metrics: score[level]. */
void lsm_vset_scores(lsm_vset *vs, const lsm_compaction_policy *p,
                     double score[LSM_LEVELS]);

#endif
