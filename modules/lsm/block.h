/*
 * block.h - the sorted key/value block of an SST (data and index blocks).
 *
 * Layout of a finished block (before compression/encryption):
 *
 *   entry*           each: varint shared, varint non_shared, varint
 *                    value_len, non_shared key bytes, value_len value bytes;
 *                    the key is the first `shared` bytes of the previous
 *                    entry's key followed by the non_shared bytes
 *   fixed32 restart[n]  offsets of the restart entries (shared == 0),
 *                    strictly ascending, each < the restart array's offset
 *   fixed32 n        number of restarts (>= 1)
 *
 * An empty block is 8 bytes: restart[0] = 0, n = 1.
 *
 * A block is read in place: lsm_block_parse() checks the restart array and
 * every iterator call checks each entry it decodes, so any byte string is
 * safe to iterate (a bad entry stops the iterator with DC_ECORRUPT).
 *
 * Threads: a builder and an iterator each belong to one thread; a parsed
 * block is read-only and may be shared by any number of iterators.
 */
#ifndef DATACAVE_LSM_BLOCK_H
#define DATACAVE_LSM_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Key comparison: negative, zero or positive like memcmp. */
typedef int (*lsm_cmp_fn)(const uint8_t *a, size_t an, const uint8_t *b,
                          size_t bn);

typedef struct lsm_block_builder {
    uint8_t *bb_buf; /* entries, then (after finish) restarts     */
    size_t bb_len;
    size_t bb_cap;
    uint32_t *bb_restarts;
    size_t bb_nrestarts;
    size_t bb_restarts_cap;
    uint8_t *bb_last; /* previous key                               */
    size_t bb_last_len;
    size_t bb_last_cap;
    int bb_interval; /* restart every this many entries            */
    int bb_counter;  /* entries since the last restart             */
    size_t bb_entries;
    bool bb_finished;
} lsm_block_builder;

/* Start an empty builder; restart_interval <= 0 means 16. */
void lsm_block_builder_init(lsm_block_builder *b, int restart_interval);

/* Append one entry.  The caller guarantees keys are added in increasing
 * order (the table writer checks it).  Returns 0 or DC_ENOMEM (nothing
 * added).  Not allowed after finish until reset. */
int lsm_block_add(lsm_block_builder *b, const uint8_t *key, size_t key_len,
                  const uint8_t *val, size_t val_len);

/* The size the block would have if finished now. */
size_t lsm_block_size_estimate(const lsm_block_builder *b);

/* Append the restart array; *data and *len point into the builder, valid until
 * the next reset/free.  Returns 0 or DC_ENOMEM. */
int lsm_block_finish(lsm_block_builder *b, const uint8_t **data, size_t *len);

/* Forget every entry (keeps the memory). */
void lsm_block_builder_reset(lsm_block_builder *b);

bool lsm_block_empty(const lsm_block_builder *b);

void lsm_block_builder_free(lsm_block_builder *b);

/* A parsed block: borrows `data`, which must outlive it and its iterators. */
typedef struct lsm_block {
    const uint8_t *bl_data;
    size_t bl_len;
    uint32_t bl_restart_off; /* offset of the restart array             */
    uint32_t bl_nrestarts;
} lsm_block;

/* Check the restart array of `len` bytes at `data`.  Returns 0 or
 * DC_ECORRUPT (len < 8, too many restarts, restarts not ascending or out of
 * range, block larger than 4 GiB). */
int lsm_block_parse(const uint8_t *data, size_t len, lsm_block *out);

typedef struct lsm_block_iter {
    const lsm_block *bi_block;
    lsm_cmp_fn bi_cmp;
    uint32_t bi_cur;  /* offset of the current entry               */
    uint32_t bi_next; /* offset just past it                        */
    uint8_t *bi_key;  /* current key (owned buffer)                 */
    size_t bi_key_len;
    size_t bi_key_cap;
    const uint8_t *bi_val; /* into the block                             */
    size_t bi_val_len;
    bool bi_valid;
    int bi_status; /* 0, DC_ECORRUPT or DC_ENOMEM                */
} lsm_block_iter;

/* Start an unpositioned iterator over `blk` (which must outlive it). */
void lsm_block_iter_init(lsm_block_iter *it, const lsm_block *blk,
                         lsm_cmp_fn cmp);
void lsm_block_iter_free(lsm_block_iter *it);

/* Position at the first entry. */
void lsm_block_iter_seek_first(lsm_block_iter *it);
/* Position at the first entry whose key >= target (invalid when none). */
void lsm_block_iter_seek(lsm_block_iter *it, const uint8_t *target, size_t len);
/* Move to the next entry; requires valid. */
void lsm_block_iter_next(lsm_block_iter *it);

/* Valid: positioned on an entry.  Once bi_status is non-zero the iterator
 * stays invalid until re-initialised. Key and value stay valid until the
 * iterator moves. */
static inline bool lsm_block_iter_valid(const lsm_block_iter *it)
{
    return it->bi_valid;
}

#endif
