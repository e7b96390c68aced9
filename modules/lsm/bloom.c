/*
 * bloom.c - bloom filter over user keys; see bloom.h for the layout.
 */
#include "bloom.h"

#include <stdlib.h>
#include <string.h>

#include "datacave/abi.h"
#include "format.h"

#define P1 UINT64_C(0x9E3779B185EBCA87)
#define P2 UINT64_C(0xC2B2AE3D27D4EB4F)

static inline uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t mix_lane(uint64_t h, uint64_t k)
{
    k *= P2;
    k = rotl64(k, 31);
    k *= P1;
    h ^= k;
    return rotl64(h, 27) * P1 + UINT64_C(0x52DCE729);
}

uint64_t lsm_hash64(const void *data, size_t n)
{
    const uint8_t *p = data;
    uint64_t h = UINT64_C(0x27D4EB2F165667C5) ^ ((uint64_t)n * P1);
    while (n >= 8) {
        h = mix_lane(h, lsm_get_fixed64(p));
        p += 8;
        n -= 8;
    }
    if (n > 0) {
        uint64_t k = 0;
        for (size_t i = 0; i < n; i++)
            k |= (uint64_t)p[i] << (8 * i);
        h = mix_lane(h, k ^ UINT64_C(0xA5));
    }
    h ^= h >> 33;
    h *= UINT64_C(0xFF51AFD7ED558CCD);
    h ^= h >> 33;
    h *= UINT64_C(0xC4CEB9FE1A85EC53);
    h ^= h >> 33;
    return h;
}

void lsm_bloom_builder_init(lsm_bloom_builder *b, int bits_per_key)
{
    memset(b, 0, sizeof(*b));
    b->bb_bits_per_key = bits_per_key > 0 ? bits_per_key : 10;
}

int lsm_bloom_add(lsm_bloom_builder *b, const uint8_t *key, size_t len)
{
    if (b->bb_count == b->bb_cap) {
        size_t cap = b->bb_cap ? b->bb_cap * 2 : 1024;
        uint64_t *nh = realloc(b->bb_hashes, cap * sizeof(*nh));
        if (nh == NULL)
            return DC_ENOMEM;
        b->bb_hashes = nh;
        b->bb_cap = cap;
    }
    b->bb_hashes[b->bb_count++] = lsm_hash64(key, len);
    return DC_OK;
}

int lsm_bloom_finish(lsm_bloom_builder *b, uint8_t **out, size_t *len)
{
    /* k = bits_per_key * ln 2, rounded down, clamped to 1..30. */
    int k = (int)(b->bb_bits_per_key * 69 / 100);
    if (k < 1)
        k = 1;
    if (k > 30)
        k = 30;
    uint64_t nbits = (uint64_t)b->bb_count * (uint64_t)b->bb_bits_per_key;
    if (nbits < 64)
        nbits = 64;
    size_t nbytes = (size_t)((nbits + 7) / 8);
    nbits = (uint64_t)nbytes * 8;
    uint8_t *f = calloc(nbytes + 1, 1);
    if (f == NULL)
        return DC_ENOMEM;
    for (size_t i = 0; i < b->bb_count; i++) {
        uint64_t h = b->bb_hashes[i];
        uint64_t delta = rotl64(h, 32) | 1;
        for (int j = 0; j < k; j++) {
            uint64_t pos = h % nbits;
            f[pos >> 3] |= (uint8_t)(1u << (pos & 7));
            h += delta;
        }
    }
    f[nbytes] = (uint8_t)k;
    *out = f;
    *len = nbytes + 1;
    return DC_OK;
}

void lsm_bloom_builder_free(lsm_bloom_builder *b)
{
    free(b->bb_hashes);
    memset(b, 0, sizeof(*b));
}

bool lsm_bloom_valid(const uint8_t *filter, size_t len)
{
    return len >= 2 && filter[len - 1] >= 1 && filter[len - 1] <= 30;
}

bool lsm_bloom_may_contain(const uint8_t *filter, size_t len,
                           const uint8_t *key, size_t key_len)
{
    uint64_t nbits = (uint64_t)(len - 1) * 8;
    int k = filter[len - 1];
    uint64_t h = lsm_hash64(key, key_len);
    uint64_t delta = rotl64(h, 32) | 1;
    for (int j = 0; j < k; j++) {
        uint64_t pos = h % nbits;
        if (!(filter[pos >> 3] & (1u << (pos & 7))))
            return false;
        h += delta;
    }
    return true;
}
