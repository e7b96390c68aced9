/*
 * block.c - builder and reader of prefix-compressed blocks; see block.h.
 */
#include "block.h"

#include <stdlib.h>
#include <string.h>

#include "datacave/abi.h"
#include "format.h"

/* ---- builder ---------------------------------------------------------------
 */

void lsm_block_builder_init(lsm_block_builder *b, int restart_interval)
{
    memset(b, 0, sizeof(*b));
    b->bb_interval = restart_interval > 0 ? restart_interval : 16;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return DC_OK;
    size_t nc = *cap ? *cap : 256;
    while (nc < need)
        nc *= 2;
    uint8_t *nb = realloc(*buf, nc);
    if (nb == NULL)
        return DC_ENOMEM;
    *buf = nb;
    *cap = nc;
    return DC_OK;
}

static int push_restart(lsm_block_builder *b, uint32_t off)
{
    if (b->bb_nrestarts == b->bb_restarts_cap) {
        size_t nc = b->bb_restarts_cap ? b->bb_restarts_cap * 2 : 16;
        uint32_t *nr = realloc(b->bb_restarts, nc * sizeof(*nr));
        if (nr == NULL)
            return DC_ENOMEM;
        b->bb_restarts = nr;
        b->bb_restarts_cap = nc;
    }
    b->bb_restarts[b->bb_nrestarts++] = off;
    return DC_OK;
}

int lsm_block_add(lsm_block_builder *b, const uint8_t *key, size_t key_len,
                  const uint8_t *val, size_t val_len)
{
    size_t shared = 0;
    bool restart = b->bb_entries == 0 || b->bb_counter >= b->bb_interval;
    if (!restart) {
        size_t m = key_len < b->bb_last_len ? key_len : b->bb_last_len;
        while (shared < m && b->bb_last[shared] == key[shared])
            shared++;
    }
    size_t non_shared = key_len - shared;
    if (grow(&b->bb_buf, &b->bb_cap, b->bb_len + 30 + non_shared + val_len) ||
        grow(&b->bb_last, &b->bb_last_cap, key_len ? key_len : 1))
        return DC_ENOMEM;
    if (restart) {
        if (push_restart(b, (uint32_t)b->bb_len))
            return DC_ENOMEM;
        b->bb_counter = 0;
    }
    uint8_t *p = b->bb_buf + b->bb_len;
    p += lsm_put_varint64(p, shared);
    p += lsm_put_varint64(p, non_shared);
    p += lsm_put_varint64(p, val_len);
    if (non_shared)
        memcpy(p, key + shared, non_shared);
    p += non_shared;
    if (val_len)
        memcpy(p, val, val_len);
    p += val_len;
    b->bb_len = (size_t)(p - b->bb_buf);
    if (key_len)
        memcpy(b->bb_last, key, key_len);
    b->bb_last_len = key_len;
    b->bb_counter++;
    b->bb_entries++;
    return DC_OK;
}

size_t lsm_block_size_estimate(const lsm_block_builder *b)
{
    if (b->bb_finished)
        return b->bb_len;
    size_t n = b->bb_nrestarts ? b->bb_nrestarts : 1;
    return b->bb_len + 4 * n + 4;
}

int lsm_block_finish(lsm_block_builder *b, const uint8_t **data, size_t *len)
{
    if (!b->bb_finished) {
        if (b->bb_nrestarts == 0 && push_restart(b, 0))
            return DC_ENOMEM;
        if (grow(&b->bb_buf, &b->bb_cap, b->bb_len + 4 * b->bb_nrestarts + 4))
            return DC_ENOMEM;
        for (size_t i = 0; i < b->bb_nrestarts; i++) {
            lsm_put_fixed32(b->bb_buf + b->bb_len, b->bb_restarts[i]);
            b->bb_len += 4;
        }
        lsm_put_fixed32(b->bb_buf + b->bb_len, (uint32_t)b->bb_nrestarts);
        b->bb_len += 4;
        b->bb_finished = true;
    }
    *data = b->bb_buf;
    *len = b->bb_len;
    return DC_OK;
}

void lsm_block_builder_reset(lsm_block_builder *b)
{
    b->bb_len = 0;
    b->bb_nrestarts = 0;
    b->bb_last_len = 0;
    b->bb_counter = 0;
    b->bb_entries = 0;
    b->bb_finished = false;
}

bool lsm_block_empty(const lsm_block_builder *b)
{
    return b->bb_entries == 0;
}

void lsm_block_builder_free(lsm_block_builder *b)
{
    free(b->bb_buf);
    free(b->bb_restarts);
    free(b->bb_last);
    memset(b, 0, sizeof(*b));
}

/* ---- reader ----------------------------------------------------------------
 */

int lsm_block_parse(const uint8_t *data, size_t len, lsm_block *out)
{
    if (len < 8 || len > UINT32_MAX)
        return DC_ECORRUPT;
    uint32_t n = lsm_get_fixed32(data + len - 4);
    if (n == 0 || n > (len - 4) / 4)
        return DC_ECORRUPT;
    uint32_t roff = (uint32_t)(len - 4 - 4 * (size_t)n);
    if (roff == 0) {
        /* Empty block: exactly one restart at 0. */
        if (n != 1 || lsm_get_fixed32(data) != 0)
            return DC_ECORRUPT;
    } else {
        uint32_t prev = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t r = lsm_get_fixed32(data + roff + 4 * (size_t)i);
            if (r >= roff || (i == 0 && r != 0) || (i > 0 && r <= prev))
                return DC_ECORRUPT;
            prev = r;
        }
    }
    out->bl_data = data;
    out->bl_len = len;
    out->bl_restart_off = roff;
    out->bl_nrestarts = n;
    return DC_OK;
}

void lsm_block_iter_init(lsm_block_iter *it, const lsm_block *blk,
                         lsm_cmp_fn cmp)
{
    memset(it, 0, sizeof(*it));
    it->bi_block = blk;
    it->bi_cmp = cmp;
}

void lsm_block_iter_free(lsm_block_iter *it)
{
    free(it->bi_key);
    it->bi_key = NULL;
    it->bi_key_cap = 0;
    it->bi_valid = false;
}

static void fail(lsm_block_iter *it, int status)
{
    it->bi_status = status;
    it->bi_valid = false;
}

static uint32_t restart_at(const lsm_block *b, uint32_t i)
{
    return lsm_get_fixed32(b->bl_data + b->bl_restart_off + 4 * (size_t)i);
}

/* Decode the entry at `off`, building its key on the current key (which
 * must be the previous entry's key unless it is a restart).  Sets valid,
 * or (at the end of the entries) invalid, or fails. */
static void decode_at(lsm_block_iter *it, uint32_t off, bool is_restart)
{
    const lsm_block *b = it->bi_block;
    if (it->bi_status)
        return;
    if (off >= b->bl_restart_off) {
        it->bi_valid = false;
        return;
    }
    const uint8_t *p = b->bl_data + off;
    const uint8_t *end = b->bl_data + b->bl_restart_off;
    uint64_t shared, non_shared, vlen;
    size_t n;
    if ((n = lsm_get_varint64(p, end, &shared)) == 0)
        return fail(it, DC_ECORRUPT);
    p += n;
    if ((n = lsm_get_varint64(p, end, &non_shared)) == 0)
        return fail(it, DC_ECORRUPT);
    p += n;
    if ((n = lsm_get_varint64(p, end, &vlen)) == 0)
        return fail(it, DC_ECORRUPT);
    p += n;
    size_t avail = (size_t)(end - p);
    if ((is_restart && shared != 0) || shared > it->bi_key_len ||
        non_shared > avail || vlen > avail - non_shared)
        return fail(it, DC_ECORRUPT);
    size_t klen = (size_t)shared + (size_t)non_shared;
    if (klen > it->bi_key_cap) {
        size_t nc = it->bi_key_cap ? it->bi_key_cap : 64;
        while (nc < klen)
            nc *= 2;
        uint8_t *nk = realloc(it->bi_key, nc);
        if (nk == NULL)
            return fail(it, DC_ENOMEM);
        it->bi_key = nk;
        it->bi_key_cap = nc;
    }
    if (non_shared)
        memcpy(it->bi_key + shared, p, (size_t)non_shared);
    it->bi_key_len = klen;
    it->bi_val = p + non_shared;
    it->bi_val_len = (size_t)vlen;
    it->bi_cur = off;
    it->bi_next = (uint32_t)((p + non_shared + vlen) - b->bl_data);
    it->bi_valid = true;
}

void lsm_block_iter_seek_first(lsm_block_iter *it)
{
    it->bi_key_len = 0;
    decode_at(it, 0, true);
}

void lsm_block_iter_next(lsm_block_iter *it)
{
    if (!it->bi_valid)
        return;
    decode_at(it, it->bi_next, false);
}

void lsm_block_iter_seek(lsm_block_iter *it, const uint8_t *target, size_t len)
{
    const lsm_block *b = it->bi_block;
    if (it->bi_status)
        return;
    if (b->bl_restart_off == 0) {
        it->bi_valid = false;
        return;
    }
    /* Binary search: the last restart whose key < target. */
    uint32_t left = 0, right = b->bl_nrestarts - 1;
    while (left < right) {
        uint32_t mid = left + (right - left + 1) / 2;
        it->bi_key_len = 0;
        decode_at(it, restart_at(b, mid), true);
        if (it->bi_status)
            return;
        if (!it->bi_valid)
            return fail(it, DC_ECORRUPT);
        if (it->bi_cmp(it->bi_key, it->bi_key_len, target, len) < 0)
            left = mid;
        else
            right = mid - 1;
    }
    it->bi_key_len = 0;
    decode_at(it, restart_at(b, left), true);
    while (it->bi_valid &&
           it->bi_cmp(it->bi_key, it->bi_key_len, target, len) < 0)
        decode_at(it, it->bi_next, false);
}
