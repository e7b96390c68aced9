/*
 * memtable.h - the lsm engine's in-memory table: a skiplist of internal
 * keys (user key + seq + type, ordered by lsm_ikey_cmp) in an arena.
 *
 * Threads: one writer at a time (the engine serialises writers); any number
 * of readers at once, without locks, concurrently with the writer.  A
 * reader sees each entry whole or not at all (entries are published with a
 * release store after they are fully written).  Nothing is ever removed:
 * the whole table is freed when its last reference goes.
 *
 * Lifetimes: keys and values handed out point into the arena and stay
 * valid while the caller holds a reference (lsm_memtable_ref).
 */
#ifndef DATACAVE_LSM_MEMTABLE_H
#define DATACAVE_LSM_MEMTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lsm_memtable lsm_memtable;

/* A new empty table with one reference.  NULL when out of memory. */
lsm_memtable *lsm_memtable_new(void);
void lsm_memtable_ref(lsm_memtable *m);
/* Drop a reference; the table is freed with the last one. */
void lsm_memtable_unref(lsm_memtable *m);

/* Add one entry.  (key, seq) must not be in the table already.  type is an
 * lsm_value_type; val is ignored for deletes.  Writer only.  Returns 0 or
 * DC_ENOMEM (the table is unchanged then). */
int lsm_memtable_add(lsm_memtable *m, uint64_t seq, unsigned type,
                     const uint8_t *key, size_t key_len, const uint8_t *val,
                     size_t val_len);

/* The newest version of `key` with seq <= snapshot.  Returns an
 * lsm_get_result (sstable.h): LSM_GET_FOUND with *val and *val_len set,
 * LSM_GET_DELETED, or LSM_GET_NOTFOUND.  *seq (when not NULL) gets the
 * version's seq. */
int lsm_memtable_get(lsm_memtable *m, const uint8_t *key, size_t key_len,
                     uint64_t snapshot, const uint8_t **val, size_t *val_len,
                     uint64_t *seq);

/* Bytes of memory the table uses (arena and nodes): the engine compares it
 * with [storage] memtable_max_bytes. */
size_t lsm_memtable_bytes(const lsm_memtable *m);
/* Number of entries. */
uint64_t lsm_memtable_count(const lsm_memtable *m);

/* An iterator over every entry in internal-key order.  It lives on the
 * caller's stack or heap; it holds no reference (the caller keeps the
 * table alive). */
typedef struct lsm_memtable_iter {
    lsm_memtable *m;
    void *node;
} lsm_memtable_iter;

void lsm_memtable_iter_init(lsm_memtable_iter *it, lsm_memtable *m);
/* Position at the first entry >= ikey (an internal key). */
void lsm_memtable_iter_seek(lsm_memtable_iter *it, const uint8_t *ikey,
                            size_t len);
void lsm_memtable_iter_seek_first(lsm_memtable_iter *it);
void lsm_memtable_iter_next(lsm_memtable_iter *it);
bool lsm_memtable_iter_valid(const lsm_memtable_iter *it);
/* The current internal key (user key + 8-byte trailer) and value. */
void lsm_memtable_iter_key(const lsm_memtable_iter *it, const uint8_t **ikey,
                           size_t *len);
void lsm_memtable_iter_value(const lsm_memtable_iter *it, const uint8_t **val,
                             size_t *len);

#endif
