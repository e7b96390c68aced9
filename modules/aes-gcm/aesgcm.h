/*
 * aesgcm.h - internals of the `aes-gcm` encryption module, shared by its
 * files and by its unit test (tests/unit/test_aesgcm.c).
 *
 * Keys.  An operator gives 32-byte master keys, base64-encoded, from one of
 * three sources: the config text itself, a file (readable by its owner
 * only) or an environment variable.  From each master key two values are
 * derived with HMAC-SHA-256 under fixed labels:
 *   - the AES-256 key that seals and opens data;
 *   - the key id, the first 4 bytes of the second HMAC as a little-endian
 *     number (0 is reserved for "not encrypted" and becomes 1).
 * The key id is recorded in every file sealed under the key, so a file
 * names the key it needs, and a wrong key is told by its id before any
 * decryption is tried.  The id reveals nothing about the key.
 *
 * Sealing.  AES-256-GCM with a 12-byte nonce and a 16-byte tag; the output
 * is nonce || ciphertext || tag (len + 28 bytes).  The nonce is a 4-byte
 * prefix drawn from OpenSSL's RAND_bytes when the instance is made, then an
 * 8-byte counter that starts at a random value and grows by one per seal:
 * unique within a process by construction, and across processes (restarts
 * sealing under the same key) unless both the random prefix and the
 * counter ranges collide, which is far less likely than with 96 random
 * bits per seal (docs/security.md).
 *
 * Threads: an agc is safe to use from any number of threads once made.
 * Each key keeps pools of cipher contexts that carry its key schedule, so
 * a seal or open only sets the nonce: no key expansion per call.
 */
#ifndef DATACAVE_AESGCM_H
#define DATACAVE_AESGCM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datacave/error.h"

#define AGC_KEY_BYTES   32
#define AGC_NONCE_BYTES 12
#define AGC_TAG_BYTES   16
#define AGC_OVERHEAD    (AGC_NONCE_BYTES + AGC_TAG_BYTES)
/* The longest source description kept for messages. */
#define AGC_SOURCE_MAX 400

/* ---- keys (keys.c) ---------------------------------------------------- */

/* Strict base64 (RFC 4648 standard alphabet, '=' padding required, no
 * other characters) of n characters into out; *out_len gets the bytes.
 * Returns false on malformed input or when out (cap bytes) is too small. */
bool agc_base64_decode(const char *s, size_t n, uint8_t *out, size_t cap,
                       size_t *out_len);

/* A master key from base64 text, whitespace around it ignored.  `what`
 * names the source in messages ("[storage] encryption_key_base64"); the
 * key text itself never appears in one.  DC_EINVAL (SQLSTATE F0000) when
 * it is not base64 or does not decode to 32 bytes. */
int agc_key_from_text(const char *text, size_t len, const char *what,
                      uint8_t key[AGC_KEY_BYTES], dc_error *err);
/* A master key from a file holding it in base64.  The file must be a
 * regular file that neither its group nor others may read, write or
 * execute (mode 0600 or 0400): DC_EPERM otherwise. */
int agc_key_from_file(const char *path, const char *what,
                      uint8_t key[AGC_KEY_BYTES], dc_error *err);
/* A master key from the environment variable `name` (base64).  DC_ENOTFOUND
 * when it is not set or empty. */
int agc_key_from_env(const char *name, const char *what,
                     uint8_t key[AGC_KEY_BYTES], dc_error *err);

/* The key id and the AES key of a master key.  false when OpenSSL fails. */
bool agc_derive(const uint8_t master[AGC_KEY_BYTES], uint32_t *key_id,
                uint8_t aes_key[AGC_KEY_BYTES]);

/* ---- the cipher (aesgcm.c) ------------------------------------------- */

typedef struct agc agc;

/* One configured key: its master key and where it came from (for
 * messages).  keys[0] of agc_new is the current key, the others are
 * retired keys (read only). */
typedef struct agc_key_spec {
    uint8_t master[AGC_KEY_BYTES];
    char source[AGC_SOURCE_MAX];
} agc_key_spec;

/* Make an instance over n >= 1 keys (copied; the caller may wipe its
 * copies).  `allow_plaintext`: check_key accepts key id 0.  Errors:
 * DC_EINVAL (two specs are the same key), DC_ENOMEM, DC_ERR (OpenSSL). */
int agc_new(const agc_key_spec *keys, size_t n, bool allow_plaintext,
            agc **out, dc_error *err);
void agc_free(agc *a);

uint32_t agc_current_key_id(const agc *a);
size_t agc_nkeys(const agc *a);
uint32_t agc_key_id_at(const agc *a, size_t i);
const char *agc_source_at(const agc *a, size_t i);

/* The vtable's operations (datacave/encryption.h). */
int agc_seal(agc *a, uint32_t key_id, const uint8_t *aad, size_t aad_len,
             const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
             size_t *out_len, dc_error *err);
int agc_open(agc *a, uint32_t key_id, const uint8_t *aad, size_t aad_len,
             const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
             size_t *out_len, dc_error *err);
int agc_check_key(const agc *a, uint32_t key_id, dc_error *err);

#endif
