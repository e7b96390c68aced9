/*
 * sstable.h - sorted string tables: the immutable files of the lsm engine.
 *
 * A table holds internal keys (user key + 8-byte trailer, see format.h) in
 * lsm_ikey_cmp order with their values, in blocks of about block_size bytes
 * (prefix-compressed keys, restart points; block.h), each optionally zstd
 * compressed and optionally sealed by an encryption module (the AAD binds
 * the block's role - data, filter or index -, the file number and the
 * block's offset), each with a CRC32C.  An index block maps separator keys to data blocks, a bloom filter
 * (bloom.h) over user keys lets lookups skip the table, and a fixed footer
 * locates both.  The byte layout is in docs/storage-sstable.md.
 *
 * File names: "<dir>/%016llu.sst" (the file number, zero-padded to 16
 * decimal digits); while being written "<dir>/%016llu.sst.tmp".
 *
 * Errors: every call returns 0 or a negative dc_status and fills *err.
 * Corruption of any kind (checksum, lengths, truncation, bad zstd frame,
 * bad restart array, failed authentication) is DC_ECORRUPT with SQLSTATE
 * XX001 and a message naming the file and, for a block, its offset.
 *
 * Threads: a writer belongs to one thread.  An open table (lsm_sst) may be
 * used by any number of threads at once (lsm_sst_get, iterators); an
 * iterator belongs to one thread at a time.
 */
#ifndef DATACAVE_LSM_SSTABLE_H
#define DATACAVE_LSM_SSTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datacave/encryption.h"
#include "datacave/error.h"
#include "datacave/storage.h"

#define LSM_SST_HEADER_SIZE  32
#define LSM_SST_FOOTER_SIZE  56
#define LSM_SST_TRAILER_SIZE 5 /* block trailer: type byte + masked crc */

enum lsm_compression { LSM_COMPRESS_NONE = 0, LSM_COMPRESS_ZSTD = 1 };

/* ---- block cache hook -----------------------------------------------------
 * Blocks are cached after verification, decryption and decompression,
 * keyed by (file number, block offset).  The table code calls:
 *   lookup: returns a pinned handle and sets *data and *len, or NULL (miss).
 *   insert: the cache takes `data` (malloc'd, freed by the cache with
 *           free() once evicted and unpinned) and returns a pinned handle;
 *           `data` stays valid until that handle is released (when the
 *           block was cached already, the handle keeps the caller's copy
 *           uncached and the release frees it).  On NULL the cache did not
 *           take it and the caller frees it.
 *   release: unpin a handle returned by lookup or insert.
 * Every function may be called from any thread at once. */
typedef struct lsm_block_cache {
    void *ctx;
    void *(*lookup)(void *ctx, uint64_t file_number, uint64_t offset,
                    const uint8_t **data, size_t *len);
    void *(*insert)(void *ctx, uint64_t file_number, uint64_t offset,
                    uint8_t *data, size_t len);
    void (*release)(void *ctx, void *handle);
} lsm_block_cache;

/* ---- writer
 * ------------------------------------------------------------------ */

typedef struct lsm_sst_write_options {
    size_t block_size;      /* 0: 4096                                    */
    int restart_interval;   /* 0: 16                                      */
    int compression;        /* enum lsm_compression                        */
    int zstd_level;         /* 0: 3                                       */
    int bloom_bits_per_key; /* 0: 10; negative: no filter                 */
    const dc_encryption_vtable *enc; /* NULL: no encryption; otherwise the
                                 blocks are sealed under current_key_id()
                                 (0 from it: no encryption)                  */
    void *enc_instance;
    bool pipeline; /* compress, seal and write data blocks on a thread of
                      the writer's own while the caller adds entries
                      (bulk writes whose caller waits for the file) */
} lsm_sst_write_options;

/* What a finished table holds.  smallest/largest are malloc'd internal
 * keys owned by the struct; lsm_sst_meta_clear() frees them. */
typedef struct lsm_sst_meta {
    uint64_t file_number;
    uint64_t file_size;
    uint64_t entries;
    uint32_t key_id; /* the encryption key id it is sealed under, 0: clear */
    uint8_t *smallest;
    size_t smallest_len;
    uint8_t *largest;
    size_t largest_len;
} lsm_sst_meta;

void lsm_sst_meta_clear(lsm_sst_meta *m);

typedef struct lsm_sst_writer lsm_sst_writer;

/* Create "<dir>/<num>.sst.tmp" (truncating a leftover) and a writer for
 * it.  `opts` may be NULL (defaults); it is copied.  Errors: DC_EIO,
 * DC_ENOMEM, DC_EINVAL (encryption module failure). */
int lsm_sst_writer_open(const char *dir, uint64_t file_number,
                        const lsm_sst_write_options *opts, lsm_sst_writer **out,
                        dc_error *err);

/* Add one entry.  `ikey` is an internal key (>= 8 bytes) strictly greater
 * than the previous one (lsm_ikey_cmp); otherwise DC_EINVAL and nothing
 * is added.  I/O errors are DC_EIO; after any error other than DC_EINVAL
 * the writer can only be abandoned. */
int lsm_sst_writer_add(lsm_sst_writer *w, const uint8_t *ikey, size_t ikey_len,
                       const uint8_t *val, size_t val_len, dc_error *err);

/* Write the filter, index and footer, fsync, rename to "<num>.sst" and
 * fsync the directory.  *meta (may be NULL) is filled on success.  The
 * writer is freed whatever the result (on failure the temporary file is
 * removed). */
int lsm_sst_writer_finish(lsm_sst_writer *w, lsm_sst_meta *meta, dc_error *err);

/* Drop the writer and remove its temporary file. */
void lsm_sst_writer_abandon(lsm_sst_writer *w);

/* ---- reader
 * ------------------------------------------------------------------ */

typedef struct lsm_sst_read_options {
    const dc_encryption_vtable *enc; /* needed for encrypted files        */
    void *enc_instance;
    const lsm_block_cache *cache; /* NULL: no cache; must outlive table */
} lsm_sst_read_options;

typedef struct lsm_sst lsm_sst;

/* Open "<dir>/<num>.sst": check header and footer, read and verify the
 * index and filter blocks (kept in memory).  `opts` may be NULL; it is
 * copied.  Errors: DC_EIO (cannot open/read), DC_ECORRUPT, DC_EUNSUPPORTED
 * (written by a newer format version: the message names the file and both
 * versions), DC_EINVAL (encrypted file and no encryption module), the
 * status of the module's check_key for the file's key id (DC_ENOTFOUND:
 * the key is not configured; DC_EPERM: a file in the clear the module does
 * not accept), naming the file, DC_ENOMEM. */
int lsm_sst_open(const char *dir, uint64_t file_number,
                 const lsm_sst_read_options *opts, lsm_sst **out,
                 dc_error *err);

/* The encryption key id in the header of "<dir>/<num>.sst" (0: not
 * encrypted), read without opening the table: the header's magic, CRC and
 * file number are checked, nothing else.  Errors: DC_EIO, DC_ECORRUPT. */
int lsm_sst_read_key_id(const char *dir, uint64_t file_number,
                        uint32_t *key_id, dc_error *err);

/* Close the table; every iterator on it must be closed before. */
void lsm_sst_close(lsm_sst *t);

uint64_t lsm_sst_file_number(const lsm_sst *t);
uint64_t lsm_sst_file_size(const lsm_sst *t);
uint64_t lsm_sst_entries(const lsm_sst *t);
/* An estimate of the entries with internal keys in [lo, hi) (hi NULL: to
 * the end), from the index alone: the entries times the share of the data
 * bytes between the blocks where lo and hi would be found.  A range
 * within one block estimates as 0 or as the whole block's share. */
int lsm_sst_approx_entries(lsm_sst *t, const uint8_t *lo, size_t lo_len,
                           const uint8_t *hi, size_t hi_len, uint64_t *n,
                           dc_error *err);
/* The encryption key id in the file's header (0: not encrypted). */
uint32_t lsm_sst_key_id(const lsm_sst *t);
const char *lsm_sst_path(const lsm_sst *t);

enum lsm_get_result {
    LSM_GET_NOTFOUND = 0, /* no version of the key visible in this table   */
    LSM_GET_FOUND = 1,    /* a put: fn was called with the value           */
    LSM_GET_DELETED = 2   /* the newest visible version is a delete        */
};

/* Point lookup: the newest version of `key` with seq <= snapshot.  Sets
 * *result (enum lsm_get_result) and, when not NULL, *seq to the version's
 * sequence number; for a put calls fn(ud, value, len) (value borrowed for
 * the call; a non-zero return from fn is returned).  Range-delete entries
 * are not considered here.  The bloom filter is checked first.  Errors:
 * DC_ECORRUPT, DC_EIO, DC_ENOMEM. */
int lsm_sst_get(lsm_sst *t, const uint8_t *key, size_t key_len,
                uint64_t snapshot, dc_value_fn fn, void *ud, int *result,
                uint64_t *seq, dc_error *err);

/* Bloom statistics since open: lookups that consulted the filter, and
 * those the filter answered "absent" (useful). Thread-safe. */
void lsm_sst_bloom_stats(const lsm_sst *t, uint64_t *checked, uint64_t *useful);

/* ---- iterator over internal keys -------------------------------------------
 */

typedef struct lsm_sst_iter lsm_sst_iter;

/* A new unpositioned iterator.  Errors: DC_ENOMEM. */
int lsm_sst_iter_open(lsm_sst *t, lsm_sst_iter **out, dc_error *err);
/* A scan that should not evict hot blocks: blocks this iterator reads
 * from now on are looked up in the cache but not inserted. */
void lsm_sst_iter_skip_cache(lsm_sst_iter *it);
void lsm_sst_iter_seek_first(lsm_sst_iter *it);
/* Position at the first internal key >= target (lsm_ikey_cmp). */
void lsm_sst_iter_seek(lsm_sst_iter *it, const uint8_t *ikey, size_t len);
void lsm_sst_iter_next(lsm_sst_iter *it);
bool lsm_sst_iter_valid(const lsm_sst_iter *it);
/* Key and value of the current entry, valid until the iterator moves. */
void lsm_sst_iter_key(const lsm_sst_iter *it, const uint8_t **key, size_t *len);
void lsm_sst_iter_value(const lsm_sst_iter *it, const uint8_t **val,
                        size_t *len);
/* 0, or the error that made the iterator invalid (copied into *err). */
int lsm_sst_iter_status(const lsm_sst_iter *it, dc_error *err);
void lsm_sst_iter_close(lsm_sst_iter *it);

#endif
