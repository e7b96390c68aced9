/*
 * datacave/encryption.h - the encryption kind: authenticated encryption of
 * the blobs the storage engine writes (WAL records, SST blocks).
 *
 * Threads: every call may be made from any number of threads at once.
 */
#ifndef DATACAVE_ENCRYPTION_H
#define DATACAVE_ENCRYPTION_H

#include "abi.h"
#include "error.h"

#define DC_ENCRYPTION_VTABLE_MAJOR 0
#define DC_ENCRYPTION_VTABLE_MINOR 1

typedef struct dc_encryption_vtable {
    uint32_t size;

    /* Required.  Bytes seal() adds to a plaintext (nonce and tag); 0 for a
     * module that does not encrypt. */
    size_t (*overhead)(void *instance);
    /* Required.  The id of the key new data is sealed under; recorded by
     * the caller in each file so that old files stay readable after a new
     * key is introduced.  0 means "no encryption". */
    uint32_t (*current_key_id)(void *instance);

    /* Required.  Seal `len` bytes of `in` under key `key_id`, binding
     * `aad` (additional authenticated data, e.g. file id and offset).
     * Writes len + overhead() bytes to `out` (out_cap must be at least
     * that) and the count to *out_len.  Each call uses a fresh nonce.
     * Errors: DC_ENOTFOUND (unknown key id), DC_EINVAL (out too small). */
    int (*seal)(void *instance, uint32_t key_id, const uint8_t *aad,
                size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                size_t out_cap, size_t *out_len, dc_error *err);
    /* Required.  The reverse: authenticate and decrypt.  Writes
     * len - overhead() bytes.  Errors: DC_ECORRUPT (authentication failed:
     * tampered data or wrong key), DC_ENOTFOUND (unknown key id). */
    int (*open)(void *instance, uint32_t key_id, const uint8_t *aad,
                size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                size_t out_cap, size_t *out_len, dc_error *err);
} dc_encryption_vtable;

#endif
