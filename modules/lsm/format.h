/*
 * format.h - encodings shared by every part of the lsm engine: fixed-width
 * little-endian integers, varints, and the internal key.
 *
 * Internal key: the user key followed by an 8-byte trailer, little-endian
 * fixed64 of (seq << 8) | type.  Internal keys order by user key ascending
 * (memcmp, shorter first on a common prefix), then by seq descending, then
 * by type descending, so the newest version of a key comes first.
 *
 * Every on-disk file starts with a header that names its kind (magic), the
 * format version and the encryption key id (0: not encrypted); see
 * docs/storage.md.
 */
#ifndef DATACAVE_LSM_FORMAT_H
#define DATACAVE_LSM_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The on-disk format version this code writes and the newest it reads. */
#define LSM_FORMAT_VERSION 1u

enum lsm_value_type {
    LSM_TYPE_DELETE = 0,       /* tombstone                                 */
    LSM_TYPE_PUT = 1,          /* value                                     */
    LSM_TYPE_RANGE_DELETE = 2  /* key = range start, value = range end     */
};

#define LSM_MAX_SEQ ((UINT64_C(1) << 56) - 1)
#define LSM_TRAILER_SIZE 8

static inline void lsm_put_fixed32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t lsm_get_fixed32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline void lsm_put_fixed64(uint8_t *p, uint64_t v)
{
    lsm_put_fixed32(p, (uint32_t)v);
    lsm_put_fixed32(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t lsm_get_fixed64(const uint8_t *p)
{
    return (uint64_t)lsm_get_fixed32(p) | ((uint64_t)lsm_get_fixed32(p + 4) << 32);
}

/* Write v as a varint (7 bits per byte, low first) at p; returns the bytes
 * written (at most 10). */
static inline size_t lsm_put_varint64(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Read a varint from [p, end).  Returns the bytes read, or 0 when the input
 * ends early or the varint is longer than 10 bytes. */
static inline size_t lsm_get_varint64(const uint8_t *p, const uint8_t *end,
                                      uint64_t *v)
{
    uint64_t r = 0;
    for (size_t i = 0; i < 10 && p + i < end; i++) {
        r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = r;
            return i + 1;
        }
    }
    return 0;
}

static inline uint64_t lsm_pack_trailer(uint64_t seq, unsigned type)
{
    return (seq << 8) | type;
}

/* Compare user keys: memcmp order, shorter first on a common prefix. */
static inline int lsm_user_cmp(const uint8_t *a, size_t an, const uint8_t *b,
                               size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c != 0)
        return c;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

/* Compare internal keys (each at least LSM_TRAILER_SIZE bytes). */
static inline int lsm_ikey_cmp(const uint8_t *a, size_t an, const uint8_t *b,
                               size_t bn)
{
    int c = lsm_user_cmp(a, an - LSM_TRAILER_SIZE, b, bn - LSM_TRAILER_SIZE);
    if (c != 0)
        return c;
    uint64_t ta = lsm_get_fixed64(a + an - LSM_TRAILER_SIZE);
    uint64_t tb = lsm_get_fixed64(b + bn - LSM_TRAILER_SIZE);
    return ta > tb ? -1 : ta < tb ? 1 : 0;
}

#endif
