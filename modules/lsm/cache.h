/*
 * cache.h - the lsm engine's caches: a sharded LRU block cache (the
 * lsm_block_cache of sstable.h) and a cache of open tables.
 *
 * Threads: every call may be made from any number of threads at once.
 */
#ifndef DATACAVE_LSM_CACHE_H
#define DATACAVE_LSM_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "datacave/error.h"
#include "sstable.h"

/* ---- block cache --------------------------------------------------------
 * Capacity in bytes (of block data), split over 16 shards by a hash of
 * (file number, offset); each shard evicts least recently used unpinned
 * blocks.  A pinned block is never freed; when everything is pinned the
 * cache may exceed its capacity until blocks are released. */
typedef struct lsm_lru lsm_lru;

typedef struct lsm_lru_stats {
    uint64_t hits;
    uint64_t misses;
    uint64_t inserts;
    uint64_t evictions;
    uint64_t bytes;      /* block bytes held now */
    uint64_t capacity;
} lsm_lru_stats;

/* NULL when out of memory.  capacity 0 gives a cache that keeps nothing
 * (every lookup misses; insert returns a handle the release frees). */
lsm_lru *lsm_lru_new(size_t capacity);
/* Free the cache.  Every handle must have been released. */
void lsm_lru_free(lsm_lru *c);
/* The lsm_block_cache interface of this cache, for lsm_sst_read_options.
 * Valid until lsm_lru_free. */
const lsm_block_cache *lsm_lru_interface(lsm_lru *c);
/* Drop every unpinned block of one file (after the file is deleted). */
void lsm_lru_evict_file(lsm_lru *c, uint64_t file_number);
void lsm_lru_stats_get(lsm_lru *c, lsm_lru_stats *out);

/* ---- table cache ----------------------------------------------------------
 * Keeps up to `max_open` tables open, least recently used closed first (a
 * table in use is never closed).  lsm_tcache_get opens the table on a miss
 * with the read options given at creation. */
typedef struct lsm_tcache lsm_tcache;

/* `dir` and `ropts` are copied (ropts->cache must outlive the tcache). */
lsm_tcache *lsm_tcache_new(const char *dir, const lsm_sst_read_options *ropts,
                           size_t max_open);
/* Close every table.  Every table must have been released. */
void lsm_tcache_free(lsm_tcache *tc);
/* The open table for file_number, pinned until lsm_tcache_release.
 * Errors are those of lsm_sst_open. */
int lsm_tcache_get(lsm_tcache *tc, uint64_t file_number, lsm_sst **out,
                   dc_error *err);
void lsm_tcache_release(lsm_tcache *tc, lsm_sst *t);
/* Close the table of a deleted file once nobody uses it. */
void lsm_tcache_evict(lsm_tcache *tc, uint64_t file_number);

#endif
