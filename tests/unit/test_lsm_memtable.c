/*
 * test_lsm_memtable.c - the lsm engine's memtable: versions and tombstones
 * against a model at random snapshots, iteration order, seek, memory
 * accounting, and one writer racing two lock-free readers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsm/format.h"
#include "lsm/memtable.h"
#include "lsm/sstable.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- model ----------------------------------------------------------------
 */

typedef struct mentry {
    char key[24];
    size_t klen;
    uint64_t seq;
    unsigned type;
    char val[80];
    size_t vlen;
} mentry;

static int mentry_cmp(const void *a, const void *b)
{
    const mentry *x = a, *y = b;
    int c = lsm_user_cmp((const uint8_t *)x->key, x->klen,
                         (const uint8_t *)y->key, y->klen);
    if (c != 0)
        return c;
    uint64_t tx = lsm_pack_trailer(x->seq, x->type);
    uint64_t ty = lsm_pack_trailer(y->seq, y->type);
    return tx > ty ? -1 : tx < ty ? 1 : 0;
}

static size_t make_ikey(uint8_t *buf, const char *k, size_t klen, uint64_t seq,
                        unsigned type)
{
    memcpy(buf, k, klen);
    lsm_put_fixed64(buf + klen, lsm_pack_trailer(seq, type));
    return klen + 8;
}

/* The model's answer for (key, snapshot): index of the newest version with
 * seq <= snapshot, or -1.  The model is sorted. */
static long model_get(const mentry *e, size_t n, const char *k, size_t klen,
                      uint64_t snapshot)
{
    for (size_t i = 0; i < n; i++) {
        if (e[i].klen == klen && memcmp(e[i].key, k, klen) == 0 &&
            e[i].seq <= snapshot)
            return (long)i; /* sorted: the first match is the newest */
    }
    return -1;
}

static void test_model(void **state)
{
    (void)state;
    enum { NKEYS = 300, NOPS = 3000 };
    lsm_memtable *m = lsm_memtable_new();
    assert_non_null(m);
    assert_int_equal(lsm_memtable_count(m), 0);
    size_t bytes0 = lsm_memtable_bytes(m);
    assert_true(bytes0 > 0);

    mentry *e = calloc(NOPS, sizeof(*e));
    assert_non_null(e);
    for (size_t i = 0; i < NOPS; i++) {
        mentry *x = &e[i];
        /* keys of varied length, some a prefix of others; "" included */
        unsigned k = (unsigned)(rnd() % NKEYS);
        x->klen = (size_t)snprintf(x->key, sizeof x->key, "k%u", k);
        if (k == 0)
            x->klen = 0;
        x->seq = i + 1;
        x->type = (rnd() % 5 == 0) ? LSM_TYPE_DELETE : LSM_TYPE_PUT;
        if (x->type == LSM_TYPE_PUT) {
            x->vlen = (size_t)(rnd() % sizeof x->val);
            for (size_t j = 0; j < x->vlen; j++)
                x->val[j] = (char)('a' + (i + j) % 26);
        }
        assert_int_equal(lsm_memtable_add(m, x->seq, x->type,
                                          (const uint8_t *)x->key, x->klen,
                                          (const uint8_t *)x->val, x->vlen),
                         0);
    }
    assert_int_equal(lsm_memtable_count(m), NOPS);
    assert_true(lsm_memtable_bytes(m) >= bytes0);
    qsort(e, NOPS, sizeof(*e), mentry_cmp);

    /* iteration = sorted model */
    lsm_memtable_iter it;
    lsm_memtable_iter_init(&it, m);
    lsm_memtable_iter_seek_first(&it);
    uint8_t ik[64];
    for (size_t i = 0; i < NOPS; i++) {
        assert_true(lsm_memtable_iter_valid(&it));
        const uint8_t *k, *v;
        size_t kl, vl;
        lsm_memtable_iter_key(&it, &k, &kl);
        lsm_memtable_iter_value(&it, &v, &vl);
        size_t il = make_ikey(ik, e[i].key, e[i].klen, e[i].seq, e[i].type);
        assert_int_equal(kl, il);
        assert_memory_equal(k, ik, il);
        assert_int_equal(vl, e[i].vlen);
        if (vl > 0)
            assert_memory_equal(v, e[i].val, vl);
        lsm_memtable_iter_next(&it);
    }
    assert_false(lsm_memtable_iter_valid(&it));

    /* gets at random snapshots, present and absent keys */
    for (int r = 0; r < 5000; r++) {
        char k[24];
        unsigned ki = (unsigned)(rnd() % (NKEYS + 20));
        size_t kl = (size_t)snprintf(k, sizeof k, "k%u", ki);
        if (ki == 0)
            kl = 0;
        uint64_t snap = rnd() % (NOPS + 10);
        if (r % 50 == 0)
            snap = LSM_MAX_SEQ;
        long want = model_get(e, NOPS, k, kl, snap);
        const uint8_t *v = NULL;
        size_t vl = 0;
        uint64_t seq = 0;
        int res =
            lsm_memtable_get(m, (const uint8_t *)k, kl, snap, &v, &vl, &seq);
        if (want < 0) {
            assert_int_equal(res, LSM_GET_NOTFOUND);
            continue;
        }
        assert_int_equal(seq, e[want].seq);
        if (e[want].type == LSM_TYPE_DELETE) {
            assert_int_equal(res, LSM_GET_DELETED);
        } else {
            assert_int_equal(res, LSM_GET_FOUND);
            assert_int_equal(vl, e[want].vlen);
            if (vl > 0)
                assert_memory_equal(v, e[want].val, vl);
        }
    }

    /* seek to every model entry, and to points between entries */
    for (int r = 0; r < 2000; r++) {
        size_t i = (size_t)(rnd() % NOPS);
        uint64_t seq = e[i].seq;
        bool between = rnd() & 1;
        if (between)
            seq = e[i].seq + 1; /* just before entry i, after the previous
                                   version of the same key (if any) */
        size_t il =
            make_ikey(ik, e[i].key, e[i].klen, seq, between ? 0xff : e[i].type);
        lsm_memtable_iter_seek(&it, ik, il);
        /* expected: first model index j with e[j] >= target */
        size_t j = 0;
        while (j < NOPS) {
            uint8_t mk[64];
            size_t ml = make_ikey(mk, e[j].key, e[j].klen, e[j].seq, e[j].type);
            if (lsm_ikey_cmp(mk, ml, ik, il) >= 0)
                break;
            j++;
        }
        assert_true(j <= i);
        assert_true(lsm_memtable_iter_valid(&it));
        const uint8_t *k;
        size_t kl;
        lsm_memtable_iter_key(&it, &k, &kl);
        uint8_t mk[64];
        size_t ml = make_ikey(mk, e[j].key, e[j].klen, e[j].seq, e[j].type);
        assert_int_equal(kl, ml);
        assert_memory_equal(k, mk, ml);
    }
    /* seek past the end */
    size_t il = make_ikey(ik, "zzzz", 4, 0, 0);
    lsm_memtable_iter_seek(&it, ik, il);
    assert_false(lsm_memtable_iter_valid(&it));

    free(e);
    lsm_memtable_unref(m);
}

static void test_empty_and_refs(void **state)
{
    (void)state;
    lsm_memtable *m = lsm_memtable_new();
    assert_non_null(m);
    lsm_memtable_iter it;
    lsm_memtable_iter_init(&it, m);
    lsm_memtable_iter_seek_first(&it);
    assert_false(lsm_memtable_iter_valid(&it));
    const uint8_t *v;
    size_t vl;
    assert_int_equal(
        lsm_memtable_get(m, (const uint8_t *)"a", 1, 10, &v, &vl, NULL),
        LSM_GET_NOTFOUND);
    lsm_memtable_ref(m);
    assert_int_equal(lsm_memtable_add(m, 5, LSM_TYPE_PUT, (const uint8_t *)"a",
                                      1, (const uint8_t *)"v", 1),
                     0);
    lsm_memtable_unref(m);
    /* still alive: one reference left */
    assert_int_equal(
        lsm_memtable_get(m, (const uint8_t *)"a", 1, 10, &v, &vl, NULL),
        LSM_GET_FOUND);
    assert_int_equal(
        lsm_memtable_get(m, (const uint8_t *)"a", 1, 4, &v, &vl, NULL),
        LSM_GET_NOTFOUND);
    /* a range delete starting at a key is not a version of it */
    assert_int_equal(lsm_memtable_add(m, 7, LSM_TYPE_RANGE_DELETE,
                                      (const uint8_t *)"a", 1,
                                      (const uint8_t *)"c", 1),
                     0);
    uint64_t seq = 0;
    assert_int_equal(
        lsm_memtable_get(m, (const uint8_t *)"a", 1, 10, &v, &vl, &seq),
        LSM_GET_FOUND);
    assert_int_equal(seq, 5);
    lsm_memtable_unref(m);
}

static void test_bytes_and_big(void **state)
{
    (void)state;
    lsm_memtable *m = lsm_memtable_new();
    assert_non_null(m);
    size_t b0 = lsm_memtable_bytes(m);
    size_t big = 3u << 20; /* larger than an arena block */
    uint8_t *val = malloc(big);
    assert_non_null(val);
    for (size_t i = 0; i < big; i++)
        val[i] = (uint8_t)(i * 7);
    assert_int_equal(lsm_memtable_add(m, 1, LSM_TYPE_PUT,
                                      (const uint8_t *)"big", 3, val, big),
                     0);
    assert_true(lsm_memtable_bytes(m) >= b0 + big);
    size_t prev = lsm_memtable_bytes(m);
    char k[32], v[100];
    memset(v, 'x', sizeof v);
    for (int i = 0; i < 50000; i++) {
        size_t kl = (size_t)snprintf(k, sizeof k, "key%06d", i);
        assert_int_equal(lsm_memtable_add(m, (uint64_t)i + 2, LSM_TYPE_PUT,
                                          (const uint8_t *)k, kl,
                                          (const uint8_t *)v, sizeof v),
                         0);
        size_t now = lsm_memtable_bytes(m);
        assert_true(now >= prev);
        prev = now;
    }
    /* at least the payload, and not wildly more */
    size_t payload = big + 50000u * (10 + 8 + sizeof v);
    assert_true(prev >= payload);
    assert_true(prev < payload * 3);
    const uint8_t *gv;
    size_t gl;
    assert_int_equal(lsm_memtable_get(m, (const uint8_t *)"big", 3, LSM_MAX_SEQ,
                                      &gv, &gl, NULL),
                     LSM_GET_FOUND);
    assert_int_equal(gl, big);
    assert_memory_equal(gv, val, big);
    free(val);
    lsm_memtable_unref(m);
}

/* ---- concurrency ----------------------------------------------------------
 */

enum { CONC_N = 200000 };

/* Key i: "c" + 8 digits of a permutation of i, so inserts land all over the
 * list; its value is a function of the key. */
static uint32_t conc_perm(uint32_t i)
{
    return (uint32_t)(((uint64_t)i * 2654435761u) % 1000000007u);
}

static size_t conc_key(char *buf, uint32_t i)
{
    return (size_t)snprintf(buf, 16, "c%010u", conc_perm(i));
}

static size_t conc_val(char *buf, const uint8_t *k, size_t kl)
{
    size_t n = 8 + (k[kl - 1] - '0') * 3;
    for (size_t j = 0; j < n; j++)
        buf[j] = (char)(k[j % kl] ^ (uint8_t)j);
    return n;
}

typedef struct conc_ctx {
    lsm_memtable *m;
    atomic_uint published; /* keys [0, published) are in the table */
    atomic_bool done;
    atomic_int failures;
    atomic_ulong reader_passes;
    atomic_ulong passes_during; /* passes begun while the writer ran,
                                   counted when they end */
} conc_ctx;

static void *conc_writer(void *arg)
{
    conc_ctx *c = arg;
    char k[16], v[64];
    for (uint32_t i = 0; i < CONC_N; i++) {
        size_t kl = conc_key(k, i);
        size_t vl = conc_val(v, (const uint8_t *)k, kl);
        if (lsm_memtable_add(c->m, i + 1, LSM_TYPE_PUT, (const uint8_t *)k, kl,
                             (const uint8_t *)v, vl) != 0)
            atomic_fetch_add(&c->failures, 1);
        atomic_store_explicit(&c->published, i + 1, memory_order_release);
        /* Halfway, wait until both readers have completed passes over a
         * table still being written, so the overlap the test is about
         * happens whatever the scheduler does. */
        if (i == CONC_N / 2)
            while (atomic_load(&c->passes_during) < 2 &&
                   atomic_load(&c->failures) == 0)
                sched_yield();
    }
    atomic_store(&c->done, true);
    return NULL;
}

/* Count a failed reader check and say which one (the first few). */
static void conc_fail(conc_ctx *c, int which)
{
    if (atomic_fetch_add(&c->failures, 1) < 5)
        fprintf(stderr, "reader check %d failed\n", which);
}

static void *conc_reader(void *arg)
{
    conc_ctx *c = arg;
    uint64_t r = (uint64_t)(uintptr_t)arg ^ 0x1234567ULL;
    char want[64];
    while (!atomic_load(&c->done) || atomic_load(&c->reader_passes) < 4) {
        bool during = !atomic_load(&c->done);
        /* What was published before the pass starts must all be seen;
         * keys published later may land before the iterator's position
         * (they are not inserted in key order), so count first, then seek. */
        unsigned before =
            atomic_load_explicit(&c->published, memory_order_acquire);
        lsm_memtable_iter it;
        lsm_memtable_iter_init(&it, c->m);
        lsm_memtable_iter_seek_first(&it);
        const uint8_t *prev = NULL;
        size_t prevl = 0;
        size_t seen = 0;
        for (; lsm_memtable_iter_valid(&it); lsm_memtable_iter_next(&it)) {
            const uint8_t *k, *v;
            size_t kl, vl;
            lsm_memtable_iter_key(&it, &k, &kl);
            lsm_memtable_iter_value(&it, &v, &vl);
            if (kl != 11 + 8 || k[0] != 'c') {
                conc_fail(c, 1);
                break;
            }
            size_t wl = conc_val(want, k, kl - 8);
            if (vl != wl || memcmp(v, want, wl) != 0)
                conc_fail(c, 2);
            if (prev != NULL && lsm_ikey_cmp(prev, prevl, k, kl) >= 0)
                conc_fail(c, 3);
            prev = k;
            prevl = kl;
            seen++;
        }
        if (seen < before)
            conc_fail(c, 4);
        /* point reads of keys already published */
        for (int j = 0; j < 200; j++) {
            unsigned pub =
                atomic_load_explicit(&c->published, memory_order_acquire);
            if (pub == 0)
                break;
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            uint32_t i = (uint32_t)(r % pub);
            char k[16];
            size_t kl = conc_key(k, i);
            const uint8_t *v;
            size_t vl;
            uint64_t seq;
            int res = lsm_memtable_get(c->m, (const uint8_t *)k, kl,
                                       LSM_MAX_SEQ, &v, &vl, &seq);
            size_t wl = conc_val(want, (const uint8_t *)k, kl);
            if (res != LSM_GET_FOUND || seq != i + 1 || vl != wl ||
                memcmp(v, want, wl) != 0)
                conc_fail(c, 5);
        }
        atomic_fetch_add(&c->reader_passes, 1);
        if (during)
            atomic_fetch_add(&c->passes_during, 1);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    conc_ctx c;
    c.m = lsm_memtable_new();
    assert_non_null(c.m);
    atomic_init(&c.published, 0);
    atomic_init(&c.done, false);
    atomic_init(&c.failures, 0);
    atomic_init(&c.reader_passes, 0);
    atomic_init(&c.passes_during, 0);
    pthread_t w, r1, r2;
    assert_int_equal(pthread_create(&r1, NULL, conc_reader, &c), 0);
    assert_int_equal(pthread_create(&r2, NULL, conc_reader, &c), 0);
    assert_int_equal(pthread_create(&w, NULL, conc_writer, &c), 0);
    pthread_join(w, NULL);
    pthread_join(r1, NULL);
    pthread_join(r2, NULL);
    assert_int_equal(atomic_load(&c.failures), 0);
    assert_true(atomic_load(&c.reader_passes) >= 4);
    assert_true(atomic_load(&c.passes_during) > 0);
    assert_int_equal(lsm_memtable_count(c.m), CONC_N);

    /* final order check, single-threaded */
    lsm_memtable_iter it;
    lsm_memtable_iter_init(&it, c.m);
    size_t n = 0;
    for (lsm_memtable_iter_seek_first(&it); lsm_memtable_iter_valid(&it);
         lsm_memtable_iter_next(&it))
        n++;
    assert_int_equal(n, CONC_N);
    lsm_memtable_unref(c.m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_empty_and_refs),
        cmocka_unit_test(test_bytes_and_big),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
