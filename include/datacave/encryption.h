/*
 * datacave/encryption.h - the encryption kind: authenticated encryption of
 * the blobs the storage engine writes (WAL records, SST blocks, manifest
 * records).  Modules: `none` (stores data as it is) and `aes-gcm`
 * (docs/security.md).
 *
 * Threads: every call may be made from any number of threads at once.
 */
#ifndef DATACAVE_ENCRYPTION_H
#define DATACAVE_ENCRYPTION_H

#include "abi.h"
#include "error.h"

#define DC_ENCRYPTION_VTABLE_MAJOR 0
#define DC_ENCRYPTION_VTABLE_MINOR 2

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

    /* ---- minor 2 ---------------------------------------------------- */

    /* Optional (NULL, or absent from an older module: the caller assumes
     * every key id may be tried).  Whether data recorded under `key_id`
     * may be opened with this configuration, asked before a file is read
     * so that a refusal names the file and comes before any decryption:
     * DC_OK, or DC_ENOTFOUND (no configured key has that id: the wrong key
     * or a retired key left out of the config) or DC_EPERM (key id 0, data
     * stored in the clear, which this configuration does not accept), with
     * a message about the data ("sealed under key id 1a2b3c4d, which is
     * not configured (...)") that the caller prefixes with the file's
     * name; it names key ids, never key material. */
    int (*check_key)(void *instance, uint32_t key_id, dc_error *err);
} dc_encryption_vtable;

#endif
