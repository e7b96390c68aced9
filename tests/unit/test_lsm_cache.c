/*
 * test_lsm_cache.c - the lsm engine's block cache (hits, misses, eviction,
 * pinning, capacity 0, evict_file, a 4-thread stress) and table cache
 * (opens of real tables, max_open, pinning, evict, racing opens).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lsm/cache.h"
#include "lsm/format.h"
#include "lsm/sstable.h"
#include "lsm_testutil.h"

/* ---- block cache helpers ------------------------------------------------ */

static uint8_t pattern(uint64_t file, uint64_t off, size_t i)
{
    return (uint8_t)(file * 31 + off * 7 + i);
}

static uint8_t *make_block(uint64_t file, uint64_t off, size_t len)
{
    uint8_t *b = malloc(len ? len : 1);
    assert_non_null(b);
    for (size_t i = 0; i < len; i++)
        b[i] = pattern(file, off, i);
    return b;
}

static bool block_ok(uint64_t file, uint64_t off, const uint8_t *d, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (d[i] != pattern(file, off, i))
            return false;
    return true;
}

/* Insert a block and return its pinned handle. */
static void *put(const lsm_block_cache *bc, uint64_t file, uint64_t off,
                 size_t len)
{
    void *h = bc->insert(bc->ctx, file, off, make_block(file, off, len), len);
    assert_non_null(h);
    return h;
}

/* Look a block up; true on a hit (released at once, data checked). */
static bool probe(const lsm_block_cache *bc, uint64_t file, uint64_t off,
                  size_t len)
{
    const uint8_t *d = NULL;
    size_t l = 0;
    void *h = bc->lookup(bc->ctx, file, off, &d, &l);
    if (h == NULL)
        return false;
    assert_int_equal(l, len);
    assert_true(block_ok(file, off, d, l));
    bc->release(bc->ctx, h);
    return true;
}

static void test_lru_basic(void **state)
{
    (void)state;
    lsm_lru *c = lsm_lru_new(16 * 1000);
    assert_non_null(c);
    const lsm_block_cache *bc = lsm_lru_interface(c);
    lsm_lru_stats st;

    assert_false(probe(bc, 1, 0, 100));
    bc->release(bc->ctx, put(bc, 1, 0, 100));
    assert_true(probe(bc, 1, 0, 100));
    assert_true(probe(bc, 1, 0, 100));
    assert_false(probe(bc, 1, 4096, 100));
    assert_false(probe(bc, 2, 0, 100));
    lsm_lru_stats_get(c, &st);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.misses, 3);
    assert_int_equal(st.inserts, 1);
    assert_int_equal(st.evictions, 0);
    assert_int_equal(st.bytes, 100);
    assert_int_equal(st.capacity, 16 * 1000);

    /* inserting a key already present keeps the old block */
    uint8_t *mine = make_block(9, 9, 50);
    void *h1 = bc->insert(bc->ctx, 1, 0, mine, 50);
    assert_non_null(h1);
    /* the caller reads its own copy until it releases the handle (the
     * table reader does exactly this after an insert) */
    uint8_t *want = make_block(9, 9, 50);
    assert_memory_equal(mine, want, 50);
    free(want);
    bc->release(bc->ctx, h1);
    assert_true(probe(bc, 1, 0, 100));
    lsm_lru_stats_get(c, &st);
    assert_int_equal(st.inserts, 1);
    assert_int_equal(st.bytes, 100);

    lsm_lru_free(c);

    /* a block bigger than a shard stays while pinned, goes on release */
    c = lsm_lru_new(16 * 1000);
    assert_non_null(c);
    bc = lsm_lru_interface(c);
    void *hb = put(bc, 3, 0, 5000);
    assert_true(probe(bc, 3, 0, 5000));
    lsm_lru_stats_get(c, &st);
    assert_int_equal(st.bytes, 5000);
    bc->release(bc->ctx, hb);
    assert_false(probe(bc, 3, 0, 5000));
    lsm_lru_stats_get(c, &st);
    assert_int_equal(st.evictions, 1);
    assert_int_equal(st.bytes, 0);
    lsm_lru_free(c);
}

static void test_lru_eviction(void **state)
{
    (void)state;
    size_t cap = 16 * 1024;
    lsm_lru *c = lsm_lru_new(cap);
    assert_non_null(c);
    const lsm_block_cache *bc = lsm_lru_interface(c);
    enum { N = 2000, LEN = 100 };
    for (uint64_t i = 0; i < N; i++) {
        bc->release(bc->ctx, put(bc, 7, i * 4096, LEN));
        lsm_lru_stats st;
        lsm_lru_stats_get(c, &st);
        assert_true(st.bytes <= cap);
    }
    lsm_lru_stats st;
    lsm_lru_stats_get(c, &st);
    assert_int_equal(st.inserts, N);
    assert_int_equal(st.bytes, (st.inserts - st.evictions) * LEN);
    /* the cache is nearly full: each shard holds floor(1024/100) blocks */
    assert_true(st.bytes >= cap - 16 * LEN);

    /* the most recent blocks survive; recency is kept by lookups */
    size_t hits = 0;
    for (uint64_t i = N - 50; i < N; i++)
        hits += probe(bc, 7, i * 4096, LEN);
    assert_true(hits >= 45);
    /* touch block N-1 often, then flood its shard: it stays */
    for (uint64_t i = 0; i < 3 * N; i++) {
        if (i % 4 == 0)
            assert_true(probe(bc, 7, (N - 1) * 4096, LEN));
        bc->release(bc->ctx, put(bc, 8, i * 4096, LEN));
    }
    assert_true(probe(bc, 7, (N - 1) * 4096, LEN));
    size_t old = 0;
    for (uint64_t i = 0; i < 100; i++)
        old += probe(bc, 7, i * 4096, LEN);
    assert_int_equal(old, 0);
    lsm_lru_stats_get(c, &st);
    assert_int_equal(st.bytes, (st.inserts - st.evictions) * LEN);
    assert_true(st.bytes <= cap);
    lsm_lru_free(c);
}

static void test_lru_pinned(void **state)
{
    (void)state;
    size_t cap = 16 * 100;
    lsm_lru *c = lsm_lru_new(cap);
    assert_non_null(c);
    const lsm_block_cache *bc = lsm_lru_interface(c);
    enum { N = 200, LEN = 64 };
    void *h[N];
    for (uint64_t i = 0; i < N; i++)
        h[i] = put(bc, 1, i, LEN);
    /* pressure from unpinned inserts: the pinned blocks all stay */
    for (uint64_t i = 0; i < 1000; i++)
        bc->release(bc->ctx, put(bc, 2, i, LEN));
    lsm_lru_stats st;
    lsm_lru_stats_get(c, &st);
    assert_true(st.bytes >= (uint64_t)N * LEN); /* over capacity */
    for (uint64_t i = 0; i < N; i++) {
        const uint8_t *d;
        size_t l;
        void *x = bc->lookup(bc->ctx, 1, i, &d, &l);
        assert_non_null(x);
        assert_int_equal(l, LEN);
        assert_true(block_ok(1, i, d, l));
        bc->release(bc->ctx, x); /* still pinned by h[i] */
    }
    for (uint64_t i = 0; i < N; i++)
        bc->release(bc->ctx, h[i]);
    lsm_lru_stats_get(c, &st);
    assert_true(st.bytes <= cap);
    assert_int_equal(st.bytes, (st.inserts - st.evictions) * LEN);
    lsm_lru_free(c);
}

static void test_lru_capacity_zero(void **state)
{
    (void)state;
    lsm_lru *c = lsm_lru_new(0);
    assert_non_null(c);
    const lsm_block_cache *bc = lsm_lru_interface(c);
    void *h = put(bc, 1, 0, 100);
    void *h2 = put(bc, 1, 0, 100); /* not kept: a second insert is new */
    assert_ptr_not_equal(h, h2);
    assert_false(probe(bc, 1, 0, 100));
    bc->release(bc->ctx, h);
    bc->release(bc->ctx, h2);
    assert_false(probe(bc, 1, 0, 100));
    lsm_lru_stats st;
    lsm_lru_stats_get(c, &st);
    assert_int_equal(st.hits, 0);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.capacity, 0);
    lsm_lru_free(c); /* ASan: nothing leaked */
}

static void test_lru_evict_file(void **state)
{
    (void)state;
    lsm_lru *c = lsm_lru_new(1 << 20);
    assert_non_null(c);
    const lsm_block_cache *bc = lsm_lru_interface(c);
    for (uint64_t i = 0; i < 100; i++) {
        bc->release(bc->ctx, put(bc, 1, i, 10));
        bc->release(bc->ctx, put(bc, 2, i, 10));
    }
    const uint8_t *d;
    size_t l;
    void *pinned = bc->lookup(bc->ctx, 1, 5, &d, &l);
    assert_non_null(pinned);
    lsm_lru_evict_file(c, 1);
    for (uint64_t i = 0; i < 100; i++) {
        assert_false(probe(bc, 1, i, 10));
        assert_true(probe(bc, 2, i, 10));
    }
    /* the pinned block's data stays valid until released */
    assert_true(block_ok(1, 5, d, l));
    lsm_lru_stats st;
    lsm_lru_stats_get(c, &st);
    assert_int_equal(st.bytes, 100 * 10);
    assert_int_equal(st.evictions, 100);
    bc->release(bc->ctx, pinned);
    lsm_lru_evict_file(c, 3); /* nothing of it: a no-op */
    lsm_lru_stats_get(c, &st);
    assert_int_equal(st.bytes, 100 * 10);
    lsm_lru_free(c);
}

/* ---- block cache stress ---------------------------------------------------
 */

enum { STRESS_THREADS = 4, STRESS_OPS = 100000, STRESS_LEN = 64 };

typedef struct stress_ctx {
    lsm_lru *c;
    int id;
    uint64_t lookups;
    uint64_t bad;
} stress_ctx;

static void *stress_thread(void *arg)
{
    stress_ctx *s = arg;
    const lsm_block_cache *bc = lsm_lru_interface(s->c);
    uint64_t r = 0x9e3779b97f4a7c15ULL * (uint64_t)(s->id + 1);
    void *held[8] = {0};
    for (int op = 0; op < STRESS_OPS; op++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        uint64_t file = r % 4, off = (r >> 8) % 500;
        const uint8_t *d;
        size_t l;
        s->lookups++;
        void *h = bc->lookup(bc->ctx, file, off, &d, &l);
        if (h != NULL) {
            if (l != STRESS_LEN || !block_ok(file, off, d, l))
                s->bad++;
        } else {
            h = bc->insert(bc->ctx, file, off,
                           make_block(file, off, STRESS_LEN), STRESS_LEN);
            if (h == NULL)
                s->bad++;
        }
        /* keep a few handles pinned for a while */
        size_t slot = (r >> 32) % 8;
        if (held[slot] != NULL)
            bc->release(bc->ctx, held[slot]);
        held[slot] = h;
        if (op % 10007 == 0 && s->id == 0)
            lsm_lru_evict_file(s->c, file);
    }
    for (size_t i = 0; i < 8; i++)
        if (held[i] != NULL)
            bc->release(bc->ctx, held[i]);
    return NULL;
}

static void test_lru_stress(void **state)
{
    (void)state;
    size_t cap = 16 * 1024;
    lsm_lru *c = lsm_lru_new(cap);
    assert_non_null(c);
    pthread_t th[STRESS_THREADS];
    stress_ctx sc[STRESS_THREADS];
    for (int i = 0; i < STRESS_THREADS; i++) {
        sc[i] = (stress_ctx){.c = c, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, stress_thread, &sc[i]),
                         0);
    }
    uint64_t lookups = 0;
    for (int i = 0; i < STRESS_THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(sc[i].bad, 0);
        lookups += sc[i].lookups;
    }
    lsm_lru_stats st;
    lsm_lru_stats_get(c, &st);
    assert_int_equal(st.hits + st.misses, lookups);
    assert_true(st.inserts <= st.misses);
    assert_true(st.hits > 0);
    assert_true(st.evictions > 0);
    assert_int_equal(st.bytes, (st.inserts - st.evictions) * STRESS_LEN);
    assert_true(st.bytes <= cap);
    lsm_lru_free(c);
}

/* ---- table cache -----------------------------------------------------------
 */

/* Write table `num` in dir: 20 keys "t<num>-k<i>" -> "v<i>". */
static void write_table(const char *dir, uint64_t num)
{
    lsm_sst_writer *w;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(lsm_sst_writer_open(dir, num, NULL, &w, &err), 0);
    for (int i = 0; i < 20; i++) {
        uint8_t k[64];
        char v[16];
        int kl =
            snprintf((char *)k, 48, "t%llu-k%02d", (unsigned long long)num, i);
        lsm_put_fixed64(k + kl,
                        lsm_pack_trailer((uint64_t)i + 1, LSM_TYPE_PUT));
        int vl = snprintf(v, sizeof v, "v%d", i);
        assert_int_equal(lsm_sst_writer_add(w, k, (size_t)kl + 8,
                                            (const uint8_t *)v, (size_t)vl,
                                            &err),
                         0);
    }
    assert_int_equal(lsm_sst_writer_finish(w, NULL, &err), 0);
}

/* Open file descriptors on .sst files in dir: the tables open now. */
static int open_tables(const char *dir)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    size_t dl = strlen(dir);
    while ((de = readdir(d)) != NULL) {
        char p[PATH_MAX], target[PATH_MAX];
        snprintf(p, sizeof p, "/proc/self/fd/%s", de->d_name);
        ssize_t r = readlink(p, target, sizeof target - 1);
        if (r <= 0)
            continue;
        target[r] = '\0';
        if (strncmp(target, dir, dl) == 0 && (size_t)r > 4 &&
            strcmp(target + r - 4, ".sst") == 0)
            n++;
    }
    closedir(d);
    return n;
}

static int collect(void *ud, const uint8_t *v, size_t len)
{
    char *out = ud;
    memcpy(out, v, len);
    out[len] = '\0';
    return 0;
}

/* Check that t is table num and answers a point read. */
static void check_table(lsm_sst *t, uint64_t num)
{
    assert_int_equal(lsm_sst_file_number(t), num);
    assert_int_equal(lsm_sst_entries(t), 20);
    char key[48], val[32];
    int kl =
        snprintf(key, sizeof key, "t%llu-k%02d", (unsigned long long)num, 7);
    int res = -1;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(lsm_sst_get(t, (const uint8_t *)key, (size_t)kl,
                                 LSM_MAX_SEQ, collect, val, &res, NULL, &err),
                     0);
    assert_int_equal(res, LSM_GET_FOUND);
    assert_string_equal(val, "v7");
}

static void test_tcache_basic(void **state)
{
    (void)state;
    char *dir = make_dir();
    for (uint64_t n = 1; n <= 10; n++)
        write_table(dir, n);
    lsm_lru *bc = lsm_lru_new(1 << 20);
    assert_non_null(bc);
    lsm_sst_read_options ro = {.cache = lsm_lru_interface(bc)};
    lsm_tcache *tc = lsm_tcache_new(dir, &ro, 3);
    assert_non_null(tc);
    dc_error err;
    dc_error_init(&err);

    /* same table while it stays open */
    lsm_sst *a, *b;
    assert_int_equal(lsm_tcache_get(tc, 1, &a, &err), 0);
    assert_int_equal(lsm_tcache_get(tc, 1, &b, &err), 0);
    assert_ptr_equal(a, b);
    check_table(a, 1);
    assert_int_equal(open_tables(dir), 1);
    lsm_tcache_release(tc, a);
    lsm_tcache_release(tc, b);

    /* max_open: never more than 3 open once released */
    for (int round = 0; round < 3; round++) {
        for (uint64_t n = 1; n <= 10; n++) {
            lsm_sst *t;
            assert_int_equal(lsm_tcache_get(tc, n, &t, &err), 0);
            check_table(t, n);
            lsm_tcache_release(tc, t);
            assert_true(open_tables(dir) <= 3);
        }
    }
    assert_int_equal(open_tables(dir), 3);
    /* the three most recent (8, 9, 10) are the open ones: no new fd */
    lsm_sst *t10;
    assert_int_equal(lsm_tcache_get(tc, 10, &t10, &err), 0);
    assert_int_equal(open_tables(dir), 3);

    /* pinned tables are never closed, even beyond max_open */
    lsm_sst *pin[6];
    for (int i = 0; i < 6; i++) {
        assert_int_equal(lsm_tcache_get(tc, (uint64_t)i + 1, &pin[i], &err), 0);
    }
    assert_int_equal(open_tables(dir), 7); /* 1..6 and 10 */
    for (int i = 0; i < 6; i++)
        check_table(pin[i], (uint64_t)i + 1);
    for (int i = 0; i < 6; i++)
        lsm_tcache_release(tc, pin[i]);
    assert_int_equal(open_tables(dir), 3);
    lsm_tcache_release(tc, t10);

    /* a missing file is an error of lsm_sst_open */
    lsm_sst *bad = NULL;
    assert_true(lsm_tcache_get(tc, 99, &bad, &err) < 0);
    assert_true(dc_error_isset(&err));
    assert_null(bad);

    lsm_tcache_free(tc);
    assert_int_equal(open_tables(dir), 0);
    lsm_lru_free(bc);
    remove_dir(dir);
}

static void test_tcache_evict(void **state)
{
    (void)state;
    char *dir = make_dir();
    for (uint64_t n = 1; n <= 3; n++)
        write_table(dir, n);
    lsm_tcache *tc = lsm_tcache_new(dir, NULL, 10);
    assert_non_null(tc);
    dc_error err;
    dc_error_init(&err);
    lsm_sst *t1, *t2;
    assert_int_equal(lsm_tcache_get(tc, 1, &t1, &err), 0);
    lsm_tcache_release(tc, t1);
    assert_int_equal(lsm_tcache_get(tc, 2, &t2, &err), 0);
    assert_int_equal(open_tables(dir), 2);

    /* unpinned: closed at once */
    lsm_tcache_evict(tc, 1);
    assert_int_equal(open_tables(dir), 1);
    /* pinned: still usable, closed on the last release */
    lsm_tcache_evict(tc, 2);
    check_table(t2, 2);
    assert_int_equal(open_tables(dir), 1);
    /* a get after evict opens a fresh table */
    lsm_sst *t2b;
    assert_int_equal(lsm_tcache_get(tc, 2, &t2b, &err), 0);
    assert_ptr_not_equal(t2b, t2);
    assert_int_equal(open_tables(dir), 2);
    lsm_tcache_release(tc, t2);
    assert_int_equal(open_tables(dir), 1);
    lsm_tcache_release(tc, t2b);
    lsm_tcache_evict(tc, 2);
    lsm_tcache_evict(tc, 3); /* never opened: a no-op */
    assert_int_equal(open_tables(dir), 0);
    lsm_tcache_free(tc);
    remove_dir(dir);
}

typedef struct tc_stress {
    lsm_tcache *tc;
    int id;
    int bad;
} tc_stress;

static void *tcache_thread(void *arg)
{
    tc_stress *s = arg;
    dc_error err;
    dc_error_init(&err);
    uint64_t r = 0x51ed270b27a1f0e9ULL * (uint64_t)(s->id + 1);
    for (int i = 0; i < 3000; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        uint64_t n = 1 + r % 8;
        lsm_sst *t;
        if (lsm_tcache_get(s->tc, n, &t, &err) != 0) {
            s->bad++;
            continue;
        }
        if (lsm_sst_file_number(t) != n || lsm_sst_entries(t) != 20)
            s->bad++;
        if (i % 97 == 0)
            lsm_tcache_evict(s->tc, n);
        lsm_tcache_release(s->tc, t);
    }
    return NULL;
}

static void test_tcache_threads(void **state)
{
    (void)state;
    char *dir = make_dir();
    for (uint64_t n = 1; n <= 8; n++)
        write_table(dir, n);
    lsm_tcache *tc = lsm_tcache_new(dir, NULL, 3);
    assert_non_null(tc);
    pthread_t th[4];
    tc_stress ts[4];
    for (int i = 0; i < 4; i++) {
        ts[i] = (tc_stress){.tc = tc, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, tcache_thread, &ts[i]),
                         0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(ts[i].bad, 0);
    }
    assert_true(open_tables(dir) <= 3);
    lsm_tcache_free(tc);
    assert_int_equal(open_tables(dir), 0);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru_basic),
        cmocka_unit_test(test_lru_eviction),
        cmocka_unit_test(test_lru_pinned),
        cmocka_unit_test(test_lru_capacity_zero),
        cmocka_unit_test(test_lru_evict_file),
        cmocka_unit_test(test_lru_stress),
        cmocka_unit_test(test_tcache_basic),
        cmocka_unit_test(test_tcache_evict),
        cmocka_unit_test(test_tcache_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
