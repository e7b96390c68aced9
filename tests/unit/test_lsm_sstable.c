/*
 * test_lsm_sstable.c - blocks, bloom filter and SST files of the lsm engine:
 * round trips against a model, corruption of every structure, format
 * version, ordering, encryption hook, block cache hook.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lsm/block.h"
#include "lsm/bloom.h"
#include "lsm/crc32c.h"
#include "lsm/format.h"
#include "lsm/sstable.h"
#include "lsm_testutil.h"

/* ---- helpers ---------------------------------------------------------------
 */

static uint64_t rng_state = 0x1234567890abcdefULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void sst_path(char *buf, size_t cap, const char *dir, uint64_t num)
{
    snprintf(buf, cap, "%s/%016llu.sst", dir, (unsigned long long)num);
}

/* Internal key into buf; returns its length. */
static size_t ikey(uint8_t *buf, const char *ukey, uint64_t seq, unsigned type)
{
    size_t n = strlen(ukey);
    memcpy(buf, ukey, n);
    lsm_put_fixed64(buf + n, lsm_pack_trailer(seq, type));
    return n + 8;
}

/* ---- model of a table
 * -------------------------------------------------------- */

typedef struct entry {
    uint8_t key[40];
    size_t klen;
    char val[64];
    size_t vlen;
} entry;

typedef struct model {
    entry *e;
    size_t n;
    size_t nusers;
} model;

static void user_key(char *buf, size_t i)
{
    sprintf(buf, "user%08zu", i * 2); /* odd numbers are absent */
}

/* nusers user keys, 1..6 versions each, ~20% tombstones. */
static void model_build(model *m, size_t nusers)
{
    m->e = malloc(nusers * 6 * sizeof(entry));
    assert_non_null(m->e);
    m->n = 0;
    m->nusers = nusers;
    for (size_t i = 0; i < nusers; i++) {
        char uk[32];
        user_key(uk, i);
        int nv = 1 + (int)(rnd() % 6);
        uint64_t seq = 1000 + rnd() % 1000;
        for (int v = 0; v < nv; v++) {
            entry *e = &m->e[m->n++];
            unsigned type = rnd() % 5 == 0 ? LSM_TYPE_DELETE : LSM_TYPE_PUT;
            e->klen = ikey(e->key, uk, seq, type);
            e->vlen = type == LSM_TYPE_PUT
                          ? (size_t)sprintf(e->val, "value-%s-%llu-%.*s", uk,
                                            (unsigned long long)seq,
                                            (int)(rnd() % 20),
                                            "xxxxxxxxxxxxxxxxxxxxxxxx")
                          : 0;
            seq -= 1 + rnd() % 100;
        }
    }
}

/* Model lookup: index of the newest version of uk with seq <= snap, or -1. */
static long model_get(const model *m, const char *uk, uint64_t snap)
{
    uint8_t t[64];
    size_t tl = ikey(t, uk, snap, 0xff);
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (lsm_ikey_cmp(m->e[mid].key, m->e[mid].klen, t, tl) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < m->n && m->e[lo].klen - 8 == strlen(uk) &&
        memcmp(m->e[lo].key, uk, strlen(uk)) == 0)
        return (long)lo;
    return -1;
}

static size_t model_lower_bound(const model *m, const uint8_t *t, size_t tl)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (lsm_ikey_cmp(m->e[mid].key, m->e[mid].klen, t, tl) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void write_model(const char *dir, uint64_t num, const model *m,
                        const lsm_sst_write_options *o, lsm_sst_meta *meta)
{
    dc_error err;
    dc_error_init(&err);
    lsm_sst_writer *w;
    assert_int_equal(lsm_sst_writer_open(dir, num, o, &w, &err), 0);
    for (size_t i = 0; i < m->n; i++) {
        int rc = lsm_sst_writer_add(w, m->e[i].key, m->e[i].klen,
                                    (const uint8_t *)m->e[i].val, m->e[i].vlen,
                                    &err);
        if (rc)
            fail_msg("add %zu: %s", i, err.message);
    }
    if (lsm_sst_writer_finish(w, meta, &err) != 0)
        fail_msg("finish: %s", err.message);
}

typedef struct capture {
    char buf[128];
    size_t len;
    int calls;
} capture;

static int capture_fn(void *ud, const uint8_t *v, size_t len)
{
    capture *c = ud;
    assert_true(len < sizeof c->buf);
    memcpy(c->buf, v, len);
    c->len = len;
    c->calls++;
    return 0;
}

/* Full iteration equals the model. */
static void check_iteration(lsm_sst *t, const model *m)
{
    dc_error err;
    dc_error_init(&err);
    lsm_sst_iter *it;
    assert_int_equal(lsm_sst_iter_open(t, &it, &err), 0);
    size_t i = 0;
    for (lsm_sst_iter_seek_first(it); lsm_sst_iter_valid(it);
         lsm_sst_iter_next(it), i++) {
        const uint8_t *k, *v;
        size_t kl, vl;
        lsm_sst_iter_key(it, &k, &kl);
        lsm_sst_iter_value(it, &v, &vl);
        assert_true(i < m->n);
        assert_int_equal(kl, m->e[i].klen);
        assert_memory_equal(k, m->e[i].key, kl);
        assert_int_equal(vl, m->e[i].vlen);
        if (vl)
            assert_memory_equal(v, m->e[i].val, vl);
    }
    assert_int_equal(lsm_sst_iter_status(it, &err), 0);
    assert_int_equal(i, m->n);
    lsm_sst_iter_close(it);
}

static void check_gets(lsm_sst *t, const model *m, int rounds)
{
    dc_error err;
    dc_error_init(&err);
    for (int r = 0; r < rounds; r++) {
        char uk[40];
        size_t ui = rnd() % (m->nusers + 10);
        if (rnd() % 4 == 0)
            sprintf(uk, "user%08zu", ui * 2 + 1); /* absent */
        else
            user_key(uk, ui);
        uint64_t snap = rnd() % 3 == 0 ? LSM_MAX_SEQ : rnd() % 2100;
        long mi = model_get(m, uk, snap);
        capture c = {0};
        int res = -1;
        uint64_t seq = 0;
        int rc = lsm_sst_get(t, (const uint8_t *)uk, strlen(uk), snap,
                             capture_fn, &c, &res, &seq, &err);
        if (rc)
            fail_msg("get: %s", err.message);
        if (mi < 0) {
            assert_int_equal(res, LSM_GET_NOTFOUND);
            continue;
        }
        const entry *e = &m->e[mi];
        uint64_t tr = lsm_get_fixed64(e->key + e->klen - 8);
        assert_int_equal(seq, tr >> 8);
        if ((tr & 0xff) == LSM_TYPE_PUT) {
            assert_int_equal(res, LSM_GET_FOUND);
            assert_int_equal(c.calls, 1);
            assert_int_equal(c.len, e->vlen);
            assert_memory_equal(c.buf, e->val, e->vlen);
        } else {
            assert_int_equal(res, LSM_GET_DELETED);
            assert_int_equal(c.calls, 0);
        }
    }
}

static void check_seeks(lsm_sst *t, const model *m, int rounds)
{
    dc_error err;
    dc_error_init(&err);
    lsm_sst_iter *it;
    assert_int_equal(lsm_sst_iter_open(t, &it, &err), 0);
    for (int r = 0; r < rounds; r++) {
        uint8_t tk[64];
        size_t tl;
        if (rnd() % 2) {
            /* an existing key exactly */
            const entry *e = &m->e[rnd() % m->n];
            memcpy(tk, e->key, e->klen);
            tl = e->klen;
        } else {
            char uk[40];
            sprintf(uk, "user%08zu", (size_t)(rnd() % (m->nusers * 2 + 20)));
            tl = ikey(tk, uk, rnd() % 2100, rnd() % 2);
        }
        size_t want = model_lower_bound(m, tk, tl);
        lsm_sst_iter_seek(it, tk, tl);
        if (want == m->n) {
            assert_false(lsm_sst_iter_valid(it));
        } else {
            assert_true(lsm_sst_iter_valid(it));
            const uint8_t *k;
            size_t kl;
            lsm_sst_iter_key(it, &k, &kl);
            assert_int_equal(kl, m->e[want].klen);
            assert_memory_equal(k, m->e[want].key, kl);
            /* and a couple of nexts */
            for (size_t j = want + 1; j < want + 3 && j < m->n; j++) {
                lsm_sst_iter_next(it);
                assert_true(lsm_sst_iter_valid(it));
                lsm_sst_iter_key(it, &k, &kl);
                assert_memory_equal(k, m->e[j].key, kl);
            }
        }
    }
    assert_int_equal(lsm_sst_iter_status(it, &err), 0);
    lsm_sst_iter_close(it);
}

/* ---- block tests
 * ------------------------------------------------------------- */

static int mem_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return lsm_user_cmp(a, an, b, bn);
}

static void block_roundtrip(int interval, int n)
{
    lsm_block_builder b;
    lsm_block_builder_init(&b, interval);
    char k[32], v[64];
    for (int i = 0; i < n; i++) {
        int kl = sprintf(k, "key%06d", i * 2);
        int vl = sprintf(v, "val%d", i * 7);
        assert_int_equal(lsm_block_add(&b, (uint8_t *)k, (size_t)kl,
                                       (uint8_t *)v, (size_t)vl),
                         0);
    }
    const uint8_t *data;
    size_t len;
    assert_int_equal(lsm_block_finish(&b, &data, &len), 0);
    assert_int_equal(len, lsm_block_size_estimate(&b));
    lsm_block blk;
    assert_int_equal(lsm_block_parse(data, len, &blk), 0);
    lsm_block_iter it;
    lsm_block_iter_init(&it, &blk, mem_cmp);
    int i = 0;
    for (lsm_block_iter_seek_first(&it); lsm_block_iter_valid(&it);
         lsm_block_iter_next(&it), i++) {
        int kl = sprintf(k, "key%06d", i * 2);
        int vl = sprintf(v, "val%d", i * 7);
        assert_int_equal(it.bi_key_len, (size_t)kl);
        assert_memory_equal(it.bi_key, k, (size_t)kl);
        assert_int_equal(it.bi_val_len, (size_t)vl);
        assert_memory_equal(it.bi_val, v, (size_t)vl);
    }
    assert_int_equal(i, n);
    assert_int_equal(it.bi_status, 0);
    /* seek to every key, and between keys */
    for (int j = -1; j < 2 * n + 1; j++) {
        int kl = sprintf(k, "key%06d", j < 0 ? 0 : j);
        if (j < 0)
            kl = 2; /* "ke": before everything */
        lsm_block_iter_seek(&it, (uint8_t *)k, (size_t)kl);
        int want = j < 0 ? 0 : (j + 1) / 2;
        if (want >= n) {
            assert_false(lsm_block_iter_valid(&it));
            continue;
        }
        assert_true(lsm_block_iter_valid(&it));
        char w[32];
        int wl = sprintf(w, "key%06d", want * 2);
        assert_int_equal(it.bi_key_len, (size_t)wl);
        assert_memory_equal(it.bi_key, w, (size_t)wl);
    }
    assert_int_equal(it.bi_status, 0);
    lsm_block_iter_free(&it);
    lsm_block_builder_free(&b);
}

static void test_block_roundtrip(void **state)
{
    (void)state;
    block_roundtrip(16, 1000);
    block_roundtrip(1, 300);
    block_roundtrip(3, 100);
    block_roundtrip(16, 1);
    block_roundtrip(16, 0);
}

static void test_block_corrupt(void **state)
{
    (void)state;
    lsm_block blk;
    uint8_t tiny[4] = {1, 0, 0, 0};
    assert_int_equal(lsm_block_parse(tiny, sizeof tiny, &blk), DC_ECORRUPT);
    /* restart count larger than the block */
    uint8_t big[8] = {0, 0, 0, 0, 200, 0, 0, 0};
    assert_int_equal(lsm_block_parse(big, sizeof big, &blk), DC_ECORRUPT);
    /* restart count 0 */
    uint8_t zero[8] = {0};
    assert_int_equal(lsm_block_parse(zero, sizeof zero, &blk), DC_ECORRUPT);

    lsm_block_builder b;
    lsm_block_builder_init(&b, 4);
    char k[32];
    for (int i = 0; i < 50; i++) {
        int kl = sprintf(k, "key%06d", i);
        assert_int_equal(
            lsm_block_add(&b, (uint8_t *)k, (size_t)kl, (uint8_t *)"v", 1), 0);
    }
    const uint8_t *data;
    size_t len;
    assert_int_equal(lsm_block_finish(&b, &data, &len), 0);
    uint8_t *copy = malloc(len);
    /* a restart offset beyond the entries */
    memcpy(copy, data, len);
    size_t roff = len - 4 - 4 * lsm_get_fixed32(data + len - 4);
    lsm_put_fixed32(copy + roff + 4, (uint32_t)roff + 10);
    assert_int_equal(lsm_block_parse(copy, len, &blk), DC_ECORRUPT);
    /* flip every byte of the entries in turn: never a crash */
    for (size_t pos = 0; pos < roff; pos++) {
        memcpy(copy, data, len);
        copy[pos] ^= 0xff;
        if (lsm_block_parse(copy, len, &blk) != 0)
            continue;
        lsm_block_iter it;
        lsm_block_iter_init(&it, &blk, mem_cmp);
        int n = 0;
        for (lsm_block_iter_seek_first(&it); lsm_block_iter_valid(&it);
             lsm_block_iter_next(&it))
            n++;
        assert_true(n <= 50 || it.bi_status != 0);
        lsm_block_iter_seek(&it, (uint8_t *)"key000025", 9);
        lsm_block_iter_free(&it);
    }
    free(copy);
    lsm_block_builder_free(&b);
}

/* ---- bloom
 * ------------------------------------------------------------------- */

static void test_bloom_fp_rate(void **state)
{
    (void)state;
    lsm_bloom_builder b;
    lsm_bloom_builder_init(&b, 10);
    char k[32];
    for (int i = 0; i < 100000; i++) {
        int n = sprintf(k, "present%d", i);
        assert_int_equal(lsm_bloom_add(&b, (uint8_t *)k, (size_t)n), 0);
    }
    uint8_t *f;
    size_t fl;
    assert_int_equal(lsm_bloom_finish(&b, &f, &fl), 0);
    assert_true(lsm_bloom_valid(f, fl));
    for (int i = 0; i < 100000; i++) {
        int n = sprintf(k, "present%d", i);
        assert_true(lsm_bloom_may_contain(f, fl, (uint8_t *)k, (size_t)n));
    }
    int fp = 0;
    for (int i = 0; i < 100000; i++) {
        int n = sprintf(k, "absent%d", i);
        fp += lsm_bloom_may_contain(f, fl, (uint8_t *)k, (size_t)n);
    }
    print_message("bloom: %zu bytes, false positives %d / 100000 (%.2f%%)\n",
                  fl, fp, fp / 1000.0);
    assert_true(fp < 2000);
    free(f);
    lsm_bloom_builder_free(&b);
    assert_false(lsm_bloom_valid((const uint8_t *)"\0\0", 2));
    assert_false(lsm_bloom_valid((const uint8_t *)"\0\x1f", 2));
}

/* ---- table round trips
 * ---------------------------------------------------------- */

static void table_roundtrip(int compression, size_t block_size)
{
    char *dir = make_dir();
    model m;
    model_build(&m, 30000);
    lsm_sst_write_options o = {.compression = compression,
                               .block_size = block_size};
    lsm_sst_meta meta;
    write_model(dir, 7, &m, &o, &meta);
    assert_int_equal(meta.entries, m.n);
    assert_int_equal(meta.file_number, 7);
    assert_int_equal(meta.smallest_len, m.e[0].klen);
    assert_memory_equal(meta.smallest, m.e[0].key, meta.smallest_len);
    assert_int_equal(meta.largest_len, m.e[m.n - 1].klen);
    assert_memory_equal(meta.largest, m.e[m.n - 1].key, meta.largest_len);
    char p[4200];
    sst_path(p, sizeof p, dir, 7);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal((uint64_t)st.st_size, meta.file_size);
    strcat(p, ".tmp");
    assert_int_not_equal(stat(p, &st), 0);
    print_message("table: %zu entries, compression %d, block %zu: %llu bytes\n",
                  m.n, compression, block_size,
                  (unsigned long long)meta.file_size);
    lsm_sst_meta_clear(&meta);

    dc_error err;
    dc_error_init(&err);
    lsm_sst *t;
    if (lsm_sst_open(dir, 7, NULL, &t, &err) != 0)
        fail_msg("open: %s", err.message);
    assert_int_equal(lsm_sst_entries(t), m.n);
    check_iteration(t, &m);
    check_gets(t, &m, 20000);
    check_seeks(t, &m, 5000);
    uint64_t checked, useful;
    lsm_sst_bloom_stats(t, &checked, &useful);
    assert_int_equal(checked, 20000);
    assert_true(useful > 3000); /* ~1/4 of the lookups are absent keys */
    lsm_sst_close(t);
    free(m.e);
    remove_dir(dir);
}

static void test_table_plain(void **state)
{
    (void)state;
    table_roundtrip(LSM_COMPRESS_NONE, 0);
}

static void test_table_zstd(void **state)
{
    (void)state;
    table_roundtrip(LSM_COMPRESS_ZSTD, 0);
}

static void test_table_small_blocks(void **state)
{
    (void)state;
    table_roundtrip(LSM_COMPRESS_ZSTD, 256);
}

/* A table written through the pipeline (blocks compressed and written
 * on the writer's thread) is byte for byte the table written without it,
 * and reads back as the model. */
static void test_table_pipeline(void **state)
{
    (void)state;
    char *dir = make_dir();
    model m;
    model_build(&m, 30000);
    size_t sizes[] = {0, 256};
    for (size_t k = 0; k < 2; k++) {
        lsm_sst_write_options o = {.compression = LSM_COMPRESS_ZSTD,
                                   .block_size = sizes[k]};
        lsm_sst_meta a, b;
        write_model(dir, 1, &m, &o, &a);
        o.pipeline = true;
        write_model(dir, 2, &m, &o, &b);
        assert_int_equal(a.file_size, b.file_size);
        assert_int_equal(a.entries, b.entries);
        char pa[4200], pb[4200];
        sst_path(pa, sizeof pa, dir, 1);
        sst_path(pb, sizeof pb, dir, 2);
        FILE *fa = fopen(pa, "rb"), *fb = fopen(pb, "rb");
        assert_non_null(fa);
        assert_non_null(fb);
        uint8_t *ba = malloc(a.file_size), *bb = malloc(b.file_size);
        assert_int_equal(fread(ba, 1, a.file_size, fa), a.file_size);
        assert_int_equal(fread(bb, 1, b.file_size, fb), b.file_size);
        fclose(fa);
        fclose(fb);
        /* The header names the file number (bytes 16..23), which its CRC
         * (28..31) covers; everything after the header is the same. */
        assert_memory_equal(ba + 32, bb + 32, a.file_size - 32);
        free(ba);
        free(bb);
        dc_error err;
        dc_error_init(&err);
        lsm_sst *t;
        if (lsm_sst_open(dir, 2, NULL, &t, &err) != 0)
            fail_msg("open: %s", err.message);
        check_iteration(t, &m);
        check_gets(t, &m, 5000);
        lsm_sst_close(t);
        lsm_sst_meta_clear(&a);
        lsm_sst_meta_clear(&b);
    }
    /* An empty table and a one-block table. */
    for (size_t n = 0; n < 2; n++) {
        lsm_sst_write_options o = {.compression = LSM_COMPRESS_ZSTD,
                                   .pipeline = true};
        model one = m;
        one.n = n;
        lsm_sst_meta meta;
        write_model(dir, 3 + n, &one, &o, &meta);
        assert_int_equal(meta.entries, n);
        lsm_sst_meta_clear(&meta);
        dc_error err;
        dc_error_init(&err);
        lsm_sst *t;
        assert_int_equal(lsm_sst_open(dir, 3 + n, NULL, &t, &err), 0);
        assert_int_equal(lsm_sst_entries(t), n);
        lsm_sst_close(t);
    }
    free(m.e);
    remove_dir(dir);
}

static void test_table_empty(void **state)
{
    (void)state;
    char *dir = make_dir();
    dc_error err;
    dc_error_init(&err);
    lsm_sst_writer *w;
    assert_int_equal(lsm_sst_writer_open(dir, 1, NULL, &w, &err), 0);
    lsm_sst_meta meta;
    assert_int_equal(lsm_sst_writer_finish(w, &meta, &err), 0);
    assert_int_equal(meta.entries, 0);
    assert_null(meta.smallest);
    lsm_sst *t;
    assert_int_equal(lsm_sst_open(dir, 1, NULL, &t, &err), 0);
    lsm_sst_iter *it;
    assert_int_equal(lsm_sst_iter_open(t, &it, &err), 0);
    lsm_sst_iter_seek_first(it);
    assert_false(lsm_sst_iter_valid(it));
    uint8_t k[16];
    lsm_sst_iter_seek(it, k, ikey(k, "a", 1, 1));
    assert_false(lsm_sst_iter_valid(it));
    assert_int_equal(lsm_sst_iter_status(it, &err), 0);
    lsm_sst_iter_close(it);
    int res = -1;
    assert_int_equal(
        lsm_sst_get(t, (uint8_t *)"a", 1, 5, NULL, NULL, &res, NULL, &err), 0);
    assert_int_equal(res, LSM_GET_NOTFOUND);
    lsm_sst_close(t);
    remove_dir(dir);
}

static void test_out_of_order(void **state)
{
    (void)state;
    char *dir = make_dir();
    dc_error err;
    dc_error_init(&err);
    lsm_sst_writer *w;
    assert_int_equal(lsm_sst_writer_open(dir, 3, NULL, &w, &err), 0);
    uint8_t k[32];
    size_t kl = ikey(k, "b", 10, LSM_TYPE_PUT);
    assert_int_equal(lsm_sst_writer_add(w, k, kl, (uint8_t *)"x", 1, &err), 0);
    /* the same key again */
    assert_int_equal(lsm_sst_writer_add(w, k, kl, (uint8_t *)"x", 1, &err),
                     DC_EINVAL);
    assert_non_null(strstr(err.message, "out of order"));
    /* a smaller user key */
    kl = ikey(k, "a", 20, LSM_TYPE_PUT);
    assert_int_equal(lsm_sst_writer_add(w, k, kl, (uint8_t *)"x", 1, &err),
                     DC_EINVAL);
    /* the same user key with a larger seq sorts first: refused */
    kl = ikey(k, "b", 11, LSM_TYPE_PUT);
    assert_int_equal(lsm_sst_writer_add(w, k, kl, (uint8_t *)"x", 1, &err),
                     DC_EINVAL);
    /* too short */
    assert_int_equal(lsm_sst_writer_add(w, k, 3, (uint8_t *)"x", 1, &err),
                     DC_EINVAL);
    /* a smaller seq is fine: the writer still works */
    kl = ikey(k, "b", 9, LSM_TYPE_DELETE);
    assert_int_equal(lsm_sst_writer_add(w, k, kl, NULL, 0, &err), 0);
    lsm_sst_writer_abandon(w);
    char p[4200];
    sst_path(p, sizeof p, dir, 3);
    strcat(p, ".tmp");
    struct stat st;
    assert_int_not_equal(stat(p, &st), 0);
    remove_dir(dir);
}

/* ---- corruption
 * ------------------------------------------------------------------ */

/* A small table in dir as file 5: uncompressed, several data blocks. */
static void small_table(const char *dir, model *m, int compression,
                        const lsm_sst_write_options *base)
{
    model_build(m, 400);
    lsm_sst_write_options o = {0};
    if (base)
        o = *base;
    o.compression = compression;
    o.block_size = 512;
    write_model(dir, 5, m, &o, NULL);
}

typedef struct footer {
    uint64_t index_off, index_size, filter_off, filter_size;
} footer;

static footer read_footer(const uint8_t *f, size_t len)
{
    const uint8_t *p = f + len - LSM_SST_FOOTER_SIZE;
    footer r = {lsm_get_fixed64(p), lsm_get_fixed64(p + 8),
                lsm_get_fixed64(p + 16), lsm_get_fixed64(p + 24)};
    return r;
}

/* Open and read everything; returns 0 when all answers matched the model,
 * or the first error's status (its message must name the file). */
static int read_all(const char *dir, const model *m,
                    const lsm_sst_read_options *ro, dc_error *err)
{
    lsm_sst *t;
    char p[4200];
    sst_path(p, sizeof p, dir, 5);
    int rc = lsm_sst_open(dir, 5, ro, &t, err);
    if (rc) {
        assert_non_null(strstr(err->message, p));
        return rc;
    }
    lsm_sst_iter *it;
    assert_int_equal(lsm_sst_iter_open(t, &it, err), 0);
    size_t i = 0;
    for (lsm_sst_iter_seek_first(it); lsm_sst_iter_valid(it);
         lsm_sst_iter_next(it), i++) {
        const uint8_t *k, *v;
        size_t kl, vl;
        lsm_sst_iter_key(it, &k, &kl);
        lsm_sst_iter_value(it, &v, &vl);
        assert_true(i < m->n);
        assert_int_equal(kl, m->e[i].klen);
        assert_memory_equal(k, m->e[i].key, kl);
        assert_int_equal(vl, m->e[i].vlen);
    }
    rc = lsm_sst_iter_status(it, err);
    lsm_sst_iter_close(it);
    if (rc == 0)
        assert_int_equal(i, m->n);
    for (size_t u = 0; rc == 0 && u < m->nusers; u++) {
        char uk[32];
        user_key(uk, u);
        int res;
        capture c = {0};
        rc = lsm_sst_get(t, (uint8_t *)uk, strlen(uk), LSM_MAX_SEQ, capture_fn,
                         &c, &res, NULL, err);
        if (rc == 0) {
            long mi = model_get(m, uk, LSM_MAX_SEQ);
            uint64_t tr = lsm_get_fixed64(m->e[mi].key + m->e[mi].klen - 8);
            assert_int_equal(res, (tr & 0xff) == LSM_TYPE_PUT
                                      ? LSM_GET_FOUND
                                      : LSM_GET_DELETED);
        }
    }
    if (rc)
        assert_non_null(strstr(err->message, p));
    lsm_sst_close(t);
    return rc;
}

static void expect_corrupt(const char *dir, const model *m,
                           const lsm_sst_read_options *ro, long block_off)
{
    dc_error err;
    dc_error_init(&err);
    int rc = read_all(dir, m, ro, &err);
    if (rc != DC_ECORRUPT)
        fail_msg("expected DC_ECORRUPT, got %d (%s)", rc, err.message);
    assert_string_equal(err.sqlstate, "XX001");
    if (block_off >= 0) {
        char want[64];
        sprintf(want, "offset %ld", block_off);
        if (strstr(err.message, want) == NULL)
            fail_msg("message lacks \"%s\": %s", want, err.message);
    }
}

/* Rewrite a block's CRC after editing its payload. */
static void fix_crc(uint8_t *f, uint64_t off, uint64_t size)
{
    uint8_t type = f[off + size];
    uint32_t crc = lsm_crc32c_extend(lsm_crc32c(f + off, size), &type, 1);
    lsm_put_fixed32(f + off + size + 1, lsm_crc_mask(crc));
}

static void test_corruption(void **state)
{
    (void)state;
    char *dir = make_dir();
    model m;
    small_table(dir, &m, LSM_COMPRESS_NONE, NULL);
    char p[4200];
    sst_path(p, sizeof p, dir, 5);
    size_t len;
    uint8_t *orig = read_file(p, &len);
    uint8_t *f = malloc(len);
    footer ft = read_footer(orig, len);
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(read_all(dir, &m, NULL, &err), 0);

    /* a data block: the first one starts right after the header */
    memcpy(f, orig, len);
    f[LSM_SST_HEADER_SIZE + 20] ^= 0x40;
    write_file(p, f, len);
    expect_corrupt(dir, &m, NULL, LSM_SST_HEADER_SIZE);

    /* the index */
    memcpy(f, orig, len);
    f[ft.index_off + ft.index_size / 2] ^= 1;
    write_file(p, f, len);
    expect_corrupt(dir, &m, NULL, (long)ft.index_off);

    /* the filter */
    memcpy(f, orig, len);
    f[ft.filter_off + 3] ^= 0x80;
    write_file(p, f, len);
    expect_corrupt(dir, &m, NULL, (long)ft.filter_off);

    /* the footer, each byte */
    for (size_t i = len - LSM_SST_FOOTER_SIZE; i < len; i++) {
        memcpy(f, orig, len);
        f[i] ^= 0x10;
        write_file(p, f, len);
        expect_corrupt(dir, &m, NULL, -1);
    }
    /* the header, each byte */
    for (size_t i = 0; i < LSM_SST_HEADER_SIZE; i++) {
        memcpy(f, orig, len);
        f[i] ^= 0x10;
        write_file(p, f, len);
        expect_corrupt(dir, &m, NULL, -1);
    }

    /* truncation at various lengths */
    size_t cuts[] = {0,      1,       10,       LSM_SST_HEADER_SIZE,
                     100,    len / 2, len - 57, len - 56,
                     len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_file(p, orig, cuts[i]);
        expect_corrupt(dir, &m, NULL, -1);
    }

    /* impossible restart offsets with a valid CRC: the second data block's
     * handle from the index would be needed; the first is at 32 and its
     * size is found from the index by re-reading: use the block builder's
     * known layout instead — the restart count is the last 4 bytes before
     * the trailer.  Find the first block's end: the CRC of the first block
     * matches at exactly one candidate size. */
    uint64_t first_size = 0;
    for (uint64_t s = 8; s < ft.index_off; s++) {
        uint8_t type = orig[LSM_SST_HEADER_SIZE + s];
        if (type != 0)
            continue;
        uint32_t crc = lsm_crc32c_extend(
            lsm_crc32c(orig + LSM_SST_HEADER_SIZE, s), &type, 1);
        if (lsm_crc_unmask(
                lsm_get_fixed32(orig + LSM_SST_HEADER_SIZE + s + 1)) == crc) {
            first_size = s;
            break;
        }
    }
    assert_true(first_size > 0);
    memcpy(f, orig, len);
    uint8_t *blk = f + LSM_SST_HEADER_SIZE;
    uint32_t nres = lsm_get_fixed32(blk + first_size - 4);
    assert_true(nres >= 1);
    lsm_put_fixed32(blk + first_size - 4, nres + 1000);
    fix_crc(f, LSM_SST_HEADER_SIZE, first_size);
    write_file(p, f, len);
    expect_corrupt(dir, &m, NULL, LSM_SST_HEADER_SIZE);
    /* a restart pointing into the middle of an entry */
    memcpy(f, orig, len);
    if (nres >= 2) {
        size_t roff = first_size - 4 - 4 * nres;
        uint32_t r1 = lsm_get_fixed32(blk + roff + 4);
        lsm_put_fixed32(blk + roff + 4, r1 + 1);
        fix_crc(f, LSM_SST_HEADER_SIZE, first_size);
        write_file(p, f, len);
        expect_corrupt(dir, &m, NULL, LSM_SST_HEADER_SIZE);
    }
    /* bad entry lengths with a valid CRC: the first entry's value length
     * (a one-byte varint at offset 2) made 3 bytes and huge */
    memcpy(f, orig, len);
    assert_int_equal(blk[0], 0);
    assert_true(blk[2] < 0x80);
    blk[2] = 0xff;
    blk[3] = 0xff;
    blk[4] = 0x03;
    fix_crc(f, LSM_SST_HEADER_SIZE, first_size);
    write_file(p, f, len);
    expect_corrupt(dir, &m, NULL, LSM_SST_HEADER_SIZE);
    /* a restart entry that claims a shared prefix */
    memcpy(f, orig, len);
    blk[0] = 3;
    fix_crc(f, LSM_SST_HEADER_SIZE, first_size);
    write_file(p, f, len);
    expect_corrupt(dir, &m, NULL, LSM_SST_HEADER_SIZE);

    /* every single byte flipped, one at a time: corrupt or right, never a
     * crash or a wrong answer (read_all checks the answers) */
    for (size_t i = 0; i < len; i += 3) {
        memcpy(f, orig, len);
        f[i] ^= 0x01;
        write_file(p, f, len);
        dc_error_init(&err);
        int rc = read_all(dir, &m, NULL, &err);
        assert_int_equal(rc, DC_ECORRUPT);
    }
    free(f);
    free(orig);
    free(m.e);
    remove_dir(dir);
}

static void test_corrupt_zstd(void **state)
{
    (void)state;
    char *dir = make_dir();
    model m;
    small_table(dir, &m, LSM_COMPRESS_ZSTD, NULL);
    char p[4200];
    sst_path(p, sizeof p, dir, 5);
    size_t len;
    uint8_t *orig = read_file(p, &len);
    uint8_t *f = malloc(len);
    footer ft = read_footer(orig, len);
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(read_all(dir, &m, NULL, &err), 0);
    /* find the first block (type 1: zstd) */
    uint64_t first_size = 0;
    for (uint64_t s = 8; s < ft.index_off; s++) {
        uint8_t type = orig[LSM_SST_HEADER_SIZE + s];
        if (type != 1)
            continue;
        uint32_t crc = lsm_crc32c_extend(
            lsm_crc32c(orig + LSM_SST_HEADER_SIZE, s), &type, 1);
        if (lsm_crc_unmask(
                lsm_get_fixed32(orig + LSM_SST_HEADER_SIZE + s + 1)) == crc) {
            first_size = s;
            break;
        }
    }
    assert_true(first_size > 0);
    /* each byte of the frame flipped with a fixed-up CRC: a bad frame, or
     * one that decodes to the very same bytes (a flip in the weight of a
     * symbol the block never uses, say), which read_all has then checked
     * answer by answer against the model; never a wrong answer */
    uint64_t detected = 0;
    for (uint64_t i = 0; i < first_size; i++) {
        memcpy(f, orig, len);
        f[LSM_SST_HEADER_SIZE + i] ^= 0x20;
        fix_crc(f, LSM_SST_HEADER_SIZE, first_size);
        write_file(p, f, len);
        if (read_all(dir, &m, NULL, &err) == 0)
            continue;
        expect_corrupt(dir, &m, NULL, LSM_SST_HEADER_SIZE);
        detected++;
    }
    assert_true(detected >= first_size - first_size / 10);
    /* an unknown compression type */
    memcpy(f, orig, len);
    f[LSM_SST_HEADER_SIZE + first_size] = 9;
    fix_crc(f, LSM_SST_HEADER_SIZE, first_size);
    write_file(p, f, len);
    expect_corrupt(dir, &m, NULL, LSM_SST_HEADER_SIZE);
    free(f);
    free(orig);
    free(m.e);
    remove_dir(dir);
}

static void test_newer_version(void **state)
{
    (void)state;
    char *dir = make_dir();
    model m;
    small_table(dir, &m, LSM_COMPRESS_NONE, NULL);
    char p[4200];
    sst_path(p, sizeof p, dir, 5);
    size_t len;
    uint8_t *f = read_file(p, &len);
    lsm_put_fixed32(f + 8, LSM_FORMAT_VERSION + 1);
    lsm_put_fixed32(f + 28, lsm_crc_mask(lsm_crc32c(f, 28)));
    uint8_t *ft = f + len - LSM_SST_FOOTER_SIZE;
    lsm_put_fixed32(ft + 40, LSM_FORMAT_VERSION + 1);
    lsm_put_fixed32(ft + 44, lsm_crc_mask(lsm_crc32c(ft, 44)));
    write_file(p, f, len);
    dc_error err;
    dc_error_init(&err);
    lsm_sst *t;
    assert_int_equal(lsm_sst_open(dir, 5, NULL, &t, &err), DC_EUNSUPPORTED);
    char want[64];
    assert_non_null(strstr(err.message, p));
    sprintf(want, "version %u", LSM_FORMAT_VERSION + 1);
    assert_non_null(strstr(err.message, want));
    sprintf(want, "version %u", LSM_FORMAT_VERSION);
    assert_non_null(strstr(err.message, want));
    print_message("%s\n", err.message);
    free(f);
    free(m.e);
    remove_dir(dir);
}

/* ---- encryption
 * ------------------------------------------------------------------ */

/* Test cipher: 4-byte nonce, XOR keystream, 4-byte tag over aad, nonce and
 * ciphertext.  Not secure; it only exercises the hook. */
static uint32_t xor_nonce;

static size_t xor_overhead(void *inst)
{
    (void)inst;
    return 8;
}

static uint32_t xor_key_id(void *inst)
{
    (void)inst;
    return 42;
}

static uint8_t ks(uint32_t key, uint32_t nonce, size_t i)
{
    uint8_t buf[16];
    lsm_put_fixed32(buf, key);
    lsm_put_fixed32(buf + 4, nonce);
    lsm_put_fixed64(buf + 8, i / 8);
    return (uint8_t)(lsm_hash64(buf, 16) >> (8 * (i % 8)));
}

static uint32_t tag(const uint8_t *aad, size_t aad_len, const uint8_t *nc,
                    size_t n)
{
    uint32_t crc = lsm_crc32c(aad, aad_len);
    return lsm_crc32c_extend(crc, nc, n) ^ 0x5a5a5a5au;
}

static int xor_seal(void *inst, uint32_t key_id, const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                    size_t out_cap, size_t *out_len, dc_error *err)
{
    (void)inst;
    if (out_cap < len + 8)
        return dc_error_set(err, DC_EINVAL, "XX000", "out too small");
    uint32_t nonce = ++xor_nonce;
    lsm_put_fixed32(out, nonce);
    for (size_t i = 0; i < len; i++)
        out[4 + i] = in[i] ^ ks(key_id, nonce, i);
    lsm_put_fixed32(out + 4 + len, tag(aad, aad_len, out, 4 + len));
    *out_len = len + 8;
    return 0;
}

static int xor_open(void *inst, uint32_t key_id, const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                    size_t out_cap, size_t *out_len, dc_error *err)
{
    (void)inst;
    if (len < 8 || out_cap < len - 8)
        return dc_error_set(err, DC_EINVAL, "XX000", "bad sizes");
    if (key_id != 42)
        return dc_error_set(err, DC_ENOTFOUND, "XX000", "unknown key");
    if (lsm_get_fixed32(in + len - 4) != tag(aad, aad_len, in, len - 4))
        return dc_error_set(err, DC_ECORRUPT, "XX001", "tag mismatch");
    uint32_t nonce = lsm_get_fixed32(in);
    for (size_t i = 0; i < len - 8; i++)
        out[i] = in[4 + i] ^ ks(key_id, nonce, i);
    *out_len = len - 8;
    return 0;
}

static const dc_encryption_vtable xor_vt = {
    .size = sizeof(dc_encryption_vtable),
    .overhead = xor_overhead,
    .current_key_id = xor_key_id,
    .seal = xor_seal,
    .open = xor_open,
};

static void test_encryption(void **state)
{
    (void)state;
    for (int comp = 0; comp < 2; comp++) {
        char *dir = make_dir();
        model m;
        lsm_sst_write_options wo = {.enc = &xor_vt};
        small_table(dir, &m, comp, &wo);
        lsm_sst_read_options ro = {.enc = &xor_vt};
        dc_error err;
        dc_error_init(&err);
        assert_int_equal(read_all(dir, &m, &ro, &err), 0);
        char p[4200];
        sst_path(p, sizeof p, dir, 5);
        size_t len;
        uint8_t *orig = read_file(p, &len);
        /* key id in the header */
        assert_int_equal(lsm_get_fixed32(orig + 12), 42);
        /* no plaintext key or value in the file */
        assert_null(find_bytes(orig, len, "user0000", 8));
        assert_null(find_bytes(orig, len, "value-", 6));
        /* no encryption module: refused */
        lsm_sst *t;
        assert_int_equal(lsm_sst_open(dir, 5, NULL, &t, &err), DC_EINVAL);
        assert_non_null(strstr(err.message, p));
        /* tamper with a data block, fix the CRC: authentication fails */
        footer ft = read_footer(orig, len);
        uint8_t *f = malloc(len);
        uint64_t first_size = 0;
        for (uint64_t s = 8; s < ft.index_off; s++) {
            uint8_t type = orig[LSM_SST_HEADER_SIZE + s];
            if (type > 1)
                continue;
            uint32_t crc = lsm_crc32c_extend(
                lsm_crc32c(orig + LSM_SST_HEADER_SIZE, s), &type, 1);
            if (lsm_crc_unmask(lsm_get_fixed32(orig + LSM_SST_HEADER_SIZE + s +
                                               1)) == crc) {
                first_size = s;
                break;
            }
        }
        assert_true(first_size > 0);
        memcpy(f, orig, len);
        f[LSM_SST_HEADER_SIZE + 10] ^= 4;
        fix_crc(f, LSM_SST_HEADER_SIZE, first_size);
        write_file(p, f, len);
        expect_corrupt(dir, &m, &ro, LSM_SST_HEADER_SIZE);
        /* the index tampered likewise */
        memcpy(f, orig, len);
        f[ft.index_off + 5] ^= 4;
        fix_crc(f, ft.index_off, ft.index_size);
        write_file(p, f, len);
        expect_corrupt(dir, &m, &ro, (long)ft.index_off);
        /* the filter */
        memcpy(f, orig, len);
        f[ft.filter_off + 5] ^= 4;
        fix_crc(f, ft.filter_off, ft.filter_size);
        write_file(p, f, len);
        expect_corrupt(dir, &m, &ro, (long)ft.filter_off);
        /* restore: reads fine again */
        write_file(p, orig, len);
        assert_int_equal(read_all(dir, &m, &ro, &err), 0);
        free(f);
        free(orig);
        free(m.e);
        remove_dir(dir);
    }
}

/* ---- block cache
 * ------------------------------------------------------------------ */

typedef struct test_cache {
    struct tc_entry {
        uint64_t file, off;
        uint8_t *data;
        size_t len;
        int pins;
    } e[4096];
    int n;
    int hits, misses, inserts;
} test_cache;

static void *tc_lookup(void *ctx, uint64_t file, uint64_t off,
                       const uint8_t **data, size_t *len)
{
    test_cache *c = ctx;
    for (int i = 0; i < c->n; i++)
        if (c->e[i].file == file && c->e[i].off == off) {
            c->e[i].pins++;
            *data = c->e[i].data;
            *len = c->e[i].len;
            c->hits++;
            return &c->e[i];
        }
    c->misses++;
    return NULL;
}

static void *tc_insert(void *ctx, uint64_t file, uint64_t off, uint8_t *data,
                       size_t len)
{
    test_cache *c = ctx;
    if (c->n == 4096)
        return NULL;
    c->inserts++;
    c->e[c->n].file = file;
    c->e[c->n].off = off;
    c->e[c->n].data = data;
    c->e[c->n].len = len;
    c->e[c->n].pins = 1;
    return &c->e[c->n++];
}

static void tc_release(void *ctx, void *h)
{
    (void)ctx;
    int *pins = &((struct tc_entry *)h)->pins;
    assert_true(*pins > 0);
    (*pins)--;
}

static void test_block_cache(void **state)
{
    (void)state;
    char *dir = make_dir();
    model m;
    small_table(dir, &m, LSM_COMPRESS_ZSTD, NULL);
    test_cache *c = calloc(1, sizeof(*c));
    lsm_block_cache bc = {c, tc_lookup, tc_insert, tc_release};
    lsm_sst_read_options ro = {.cache = &bc};
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(read_all(dir, &m, &ro, &err), 0);
    int inserts = c->inserts;
    assert_true(inserts > 1);
    assert_int_equal(read_all(dir, &m, &ro, &err), 0);
    assert_int_equal(c->inserts, inserts); /* all hits the second time */
    assert_true(c->hits > 0);
    /* a scan that skips the cache on a fresh cache inserts nothing */
    int n_before = c->n;
    lsm_sst *t;
    assert_int_equal(lsm_sst_open(dir, 5, &ro, &t, &err), 0);
    for (int i = 0; i < c->n; i++)
        c->e[i].file = 999; /* hide existing entries */
    lsm_sst_iter *it;
    assert_int_equal(lsm_sst_iter_open(t, &it, &err), 0);
    lsm_sst_iter_skip_cache(it);
    size_t cnt = 0;
    for (lsm_sst_iter_seek_first(it); lsm_sst_iter_valid(it);
         lsm_sst_iter_next(it))
        cnt++;
    assert_int_equal(cnt, m.n);
    assert_int_equal(lsm_sst_iter_status(it, &err), 0);
    lsm_sst_iter_close(it);
    lsm_sst_close(t);
    assert_int_equal(c->n, n_before);
    for (int i = 0; i < c->n; i++) {
        assert_int_equal(c->e[i].pins, 0);
        free(c->e[i].data);
    }
    free(c);
    free(m.e);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_roundtrip),
        cmocka_unit_test(test_block_corrupt),
        cmocka_unit_test(test_bloom_fp_rate),
        cmocka_unit_test(test_table_plain),
        cmocka_unit_test(test_table_zstd),
        cmocka_unit_test(test_table_small_blocks),
        cmocka_unit_test(test_table_pipeline),
        cmocka_unit_test(test_table_empty),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_corruption),
        cmocka_unit_test(test_corrupt_zstd),
        cmocka_unit_test(test_newer_version),
        cmocka_unit_test(test_encryption),
        cmocka_unit_test(test_block_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
