/*
 * bloom.h - the bloom filter of an SST: one per table, over USER keys.
 *
 * Layout of a finished filter (the filter block's contents before
 * compression/encryption): nbytes of bit array (bit i is bit (i & 7) of
 * byte i >> 3), then one byte k, the number of probes (1..30).
 *
 * Probes: one 64-bit hash h = lsm_hash64(key) gives k bit positions by
 * double hashing: pos_i = (h + i * delta) mod nbits for i = 0..k-1, where
 * delta = rotate(h, 32) | 1 (64-bit wrap-around arithmetic).
 *
 * Threads: a builder belongs to one thread; lsm_bloom_may_contain() only
 * reads and may be called from any thread.
 */
#ifndef DATACAVE_LSM_BLOOM_H
#define DATACAVE_LSM_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The engine's own 64-bit hash (a multiply-rotate mix with a 64-bit
 * finaliser).  Stable: it is part of the on-disk format. */
uint64_t lsm_hash64(const void *data, size_t n);

typedef struct lsm_bloom_builder {
    uint64_t *bb_hashes; /* hash of every key added                       */
    size_t bb_count;
    size_t bb_cap;
    int bb_bits_per_key;
} lsm_bloom_builder;

/* Start an empty builder; bits_per_key <= 0 means 10. */
void lsm_bloom_builder_init(lsm_bloom_builder *b, int bits_per_key);

/* Add one user key.  Returns 0, or DC_ENOMEM (nothing added). */
int lsm_bloom_add(lsm_bloom_builder *b, const uint8_t *key, size_t len);

/* Build the filter of all keys added: *out gets a malloc'd buffer of *len
 * bytes owned by the caller.  Returns 0 or DC_ENOMEM. */
int lsm_bloom_finish(lsm_bloom_builder *b, uint8_t **out, size_t *len);

/* Release the builder's memory (it may be re-initialised after). */
void lsm_bloom_builder_free(lsm_bloom_builder *b);

/* True when a filter of `len` bytes is well formed (len >= 2, k in
 * 1..30). */
bool lsm_bloom_valid(const uint8_t *filter, size_t len);

/* False when `key` is certainly not in the set; true when it may be.
 * The filter must have passed lsm_bloom_valid(). */
bool lsm_bloom_may_contain(const uint8_t *filter, size_t len,
                           const uint8_t *key, size_t key_len);

#endif
